// The traffic tests in fixtures/ against the default policy in rego/, so `npm test` proves the
// shipped policy decides realistic traffic the way docs/policies.md says.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { openPolicy, replayFiles } from '../../offline/replay.ts';
import { findTrafficTestFiles, runTrafficTests } from '../../offline/traffic-tests.ts';
import type { PolicyEngine } from '../../engine/engine.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const fixtures = path.join(root, 'fixtures');

async function check(t: Test, engine: PolicyEngine, files: string[]): Promise<void> {
  const summary = await runTrafficTests(engine, files);
  t.same(summary.fileErrors, [], 'every traffic test file loads');
  for (const r of summary.results) {
    t.ok(r.passed, `${path.relative(root, r.file)} › ${r.name}`, { problems: r.problems, actual: r.actual && { action: r.actual.action, rule: r.actual.rule, reason: r.actual.reason } });
  }
  t.ok(summary.passed > 0);
}

t.test('fixtures/tests against rego/', async (t) => {
  const engine = await openPolicy(path.join(root, 'rego'));
  t.teardown(() => engine.close());
  const files = findTrafficTestFiles([path.join(fixtures, 'tests')]);
  t.ok(files.length >= 8, `traffic test files found (${files.length})`);
  await check(t, engine, files);
});

for (const file of fs.readdirSync(path.join(fixtures, 'configured')).filter((f) => f.endsWith('.yaml')).sort()) {
  t.test(`fixtures/configured/${file}: the default policy with ${file.replace(/\.yaml$/, '.json')} merged into its configuration`, async (t) => {
    // A copy of rego/ whose config/data.json has the fixture's configuration merged in.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-rego-configured-'));
    t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
    fs.cpSync(path.join(root, 'rego'), dir, { recursive: true });
    const dataFile = path.join(dir, 'config', 'data.json');
    const data = JSON.parse(fs.readFileSync(dataFile, 'utf8')) as Record<string, unknown>;
    Object.assign(data, JSON.parse(fs.readFileSync(path.join(fixtures, 'configured', file.replace(/\.yaml$/, '.json')), 'utf8')) as Record<string, unknown>);
    fs.writeFileSync(dataFile, JSON.stringify(data));
    const engine = await openPolicy(dir);
    t.teardown(() => engine.close());
    await check(t, engine, [path.join(fixtures, 'configured', file)]);
  });
}

t.test('fixtures/traffic replays completely against rego/', async (t) => {
  const engine = await openPolicy(path.join(root, 'rego'));
  t.teardown(() => engine.close());
  const har = await replayFiles([path.join(fixtures, 'traffic', 'agent-session.har')], { policy: engine, agent: { id: 'coder', labels: {} } });
  t.ok(har.decided >= 70, `HAR entries decided (${har.decided})`);
  t.equal(har.skipped, 0, 'no HAR entry skipped');
  t.ok(har.after.allow > 0 && har.after.approve > 0 && har.after.deny > 0, 'all three actions occur');
  const log = await replayFiles([path.join(fixtures, 'traffic', 'audit-sample.jsonl')], { policy: engine, againstLog: true });
  t.equal(log.decided, har.decided, 'the audit sample holds the same requests');
  t.equal(log.skipped, 0);
  t.equal(log.unrecorded, 0, 'every record carries its decision');
});
