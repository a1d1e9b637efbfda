// `airlock capture export` (and replaying its output) as users run it (real subprocesses on a real
// audit log written by the proxy's AuditLog).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { airlock, strict, writeAudit } from './helpers.ts';
import type { RequestDescription } from '../../describe/types.ts';
import { parseTrafficTests } from '../../offline/traffic-tests.ts';

t.test('capture export: filters, JSON Lines out, secrets stay redacted', async (t) => {
  const dir = t.testdir({ policy: { 'p.rego': strict } });
  const home = path.join(dir, 'home');
  await writeAudit(home);

  const all = airlock(['capture', 'export', '--home', home]);
  t.equal(all.code, 0, all.stderr);
  const lines = all.stdout.trim().split('\n').map((l) => JSON.parse(l) as { description: RequestDescription; decision: { action: string } });
  t.equal(lines.length, 4);
  t.match(all.stderr, /exported 4 requests.*1 record\(s\) without a request description skipped/);
  t.notMatch(all.stdout, /ghp_secretvalue123/, 'no credential in the export');

  const filtered = airlock(['capture', 'export', '--home', home, '--since', '2026-01-05T09:30:00Z', '--until', '2026-01-06', '--agent', 'coder', '--host', 'API.GITHUB.COM']);
  t.equal(filtered.code, 0, filtered.stderr);
  const f = filtered.stdout.trim().split('\n').map((l) => JSON.parse(l) as { description: RequestDescription });
  t.same(f.map((r) => r.description.request.method), ['DELETE'], 'since, until, agent and host filters');
  const env = airlock(['capture', 'export', '--since', '2026-01-05T10:00:00Z', '--limit', '2'], { AIRLOCK_HOME: home });
  t.same(env.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { description: RequestDescription }).description.request.path), ['/repos/acme/widgets', '/v1/refunds'], 'AIRLOCK_HOME is the default state folder; --limit stops early');

  const bad = airlock(['capture', 'export', '--home', home, '--since', 'last tuesday']);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^airlock: not a time: "last tuesday"/);
  t.notMatch(bad.stderr, /\n\s+at /, 'no stack trace');
  const none = airlock(['capture', 'export', '--home', path.join(dir, 'nowhere')]);
  t.equal(none.code, 1);
  t.match(none.stderr, /no audit log at/);

  const empty = airlock(['capture', 'export', '--home', home, '--as-tests', '--policy', path.join(dir, 'policy'), '--agent', 'nobody']);
  t.equal(parseTrafficTests(empty.stdout, 'empty.yaml').cases.length, 0, 'an empty --as-tests export is still a valid test file');
  t.match(empty.stderr, /exported 0 requests from .*; no request in it matched --agent nobody \(agent ids match exactly/, 'an empty export says the filter matched nothing');

  // The export replays against the recorded decisions.
  const exportFile = path.join(dir, 'capture.jsonl');
  fs.writeFileSync(exportFile, all.stdout);
  const rep = airlock(['replay', exportFile, '--policy', path.join(dir, 'policy'), '--against-log']);
  t.equal(rep.code, 0, rep.stderr);
  t.match(rep.stdout, /Replayed 4 requests with .* against the recorded decisions/);
  t.match(rep.stdout, /4 decisions changed/, 'the GETs changed rule (open → read)');
  t.match(rep.stdout, /allow → approve {2}DELETE api\.github\.com\/repos\/acme\/widgets {2}\[github repos\.delete\] {2}agent coder/);
  t.match(rep.stdout, /before: allow rule open: anything goes\n {4}after: {2}approve \(critical\) rule delete: deleting needs a human/);
  t.match(rep.stdout, /allow → deny: 1/);
});
