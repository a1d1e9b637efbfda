// `airlock capture export --as-tests`: a traffic test file that `airlock test` runs (real subprocesses on a real
// audit log written by the proxy's AuditLog).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { airlock, strict, writeAudit } from './helpers.ts';
import { parseTrafficTests } from '../../offline/traffic-tests.ts';

t.test('capture export --as-tests: a traffic test file that passes against the policy it came from', async (t) => {
  const dir = t.testdir({ policy: { 'p.rego': strict } });
  const home = path.join(dir, 'home');
  await writeAudit(home);
  const out = airlock(['capture', 'export', '--home', home, '--as-tests', '--policy', path.join(dir, 'policy')]);
  t.equal(out.code, 0, out.stderr);
  t.match(out.stderr, /4 case\(s\) expect a different decision than the one recorded/);
  const file = path.join(dir, 'exported.yaml');
  fs.writeFileSync(file, out.stdout);
  const parsed = parseTrafficTests(out.stdout, file);
  t.equal(parsed.cases.length, 4);
  t.match(parsed.cases[1], { name: /^2\. DELETE api\.github\.com\/repos\/acme\/widgets \(github repos\.delete\) by coder/, expect: { action: 'approve', rule: 'delete', approval: { risk: 'critical' } } });
  const run = airlock(['test', '--no-rego', '--policy', path.join(dir, 'policy'), file]);
  t.equal(run.code, 0, run.stdout);
  t.equal(run.stdout.trim().split('\n').at(-1), '4 passed, 0 failed');

});
