// `airlock replay` as users run it (real subprocesses on a real
// audit log written by the proxy's AuditLog).
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { airlock, root, strict, writeAudit } from './helpers.ts';
import type { ReplayReport } from '../../offline/replay.ts';
import { formatReport } from '../../cli/commands/replay.ts';

const open = `package airlock

import rego.v1

decision := {"action": "allow", "reason": "anything goes", "rule": "open"}
`;

t.test('replay: baseline diff, --json, errors', async (t) => {
  const dir = t.testdir({ before: { 'p.rego': open }, after: { 'p.rego': strict }, broken: { 'p.rego': 'package airlock\n\ndecision := {' } });
  const home = path.join(dir, 'home');
  await writeAudit(home);
  const file = path.join(home, 'audit.jsonl');

  const json = airlock(['replay', file, '--policy', path.join(dir, 'after'), '--baseline', path.join(dir, 'before'), '--json']);
  t.equal(json.code, 0, json.stderr);
  t.equal(json.stderr, '', 'no progress bar when stderr is not a terminal');
  const report = JSON.parse(json.stdout) as ReplayReport;
  t.equal(report.changed, 4, 'the GETs change rule (open → read), the others change action');
  t.same(report.changedRows.map((r) => `${r.before.action}>${r.after.action}`), ['allow>allow', 'allow>approve', 'allow>deny', 'allow>allow']);
  t.equal(report.changedRows[1]!.input.request.headers.authorization![0], 'Bearer [redacted]');

  // The text the command prints without --json is this report, formatted.
  const text = formatReport(report, { policy: path.join(dir, 'after'), baseline: path.join(dir, 'before') });
  t.match(text, /against baseline .*before \([0-9a-f]{16}\)/);
  t.match(text, /action {6}before {5}after\n {2}allow {12}4 {9}2\n {2}approve {10}0 {9}1\n {2}deny {13}0 {9}1/);
  t.match(text, /\n\n {2}allow → approve: 1\n {2}allow → deny: 1\n {2}same action, another rule, risk, credentials or labels: 2\n/, 'the summary adds up to the 4 changed');
  t.match(text, /1 entry skipped:\n {2}audit\.jsonl:5: audit record without a description \(outcome: unauthenticated\)/);

  const both = airlock(['replay', file, '--baseline', path.join(dir, 'before'), '--against-log']);
  t.equal(both.code, 1);
  t.match(both.stderr, /choose --baseline DIR or --against-log, not both/);
  const broken = airlock(['replay', file, '--policy', path.join(dir, 'broken')]);
  t.equal(broken.code, 1);
  t.match(broken.stderr, /policy .*broken does not compile:\n.*p\.rego:\d+:\d+:/);
  const missing = airlock(['replay', path.join(dir, 'nope.jsonl'), '--policy', path.join(dir, 'after')]);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^airlock: cannot read .*nope\.jsonl: no such file\n$/);
  // No file at all: the state folder's audit log is the one a newcomer means.
  const none = airlock(['replay', '--home', home, '--policy', path.join(dir, 'after')]);
  t.equal(none.code, 1);
  t.match(none.stderr, `give capture files to replay, e.g. this state folder's audit log: airlock replay ${path.relative(root, file)} (or --store`);
});

t.test('replay --home: HAR entries are searched for the store\'s placeholders, encoded ones too', async (t) => {
  const dir = t.testdir({ policy: { 'p.rego': `package airlock

import rego.v1

default decision := {"action": "allow", "reason": "ok", "rule": "open"}

decision := {"action": "deny", "reason": "placeholder", "rule": "placeholder"} if count(input.placeholders) > 0
` } });
  const home = path.join(dir, 'home');
  const env = { AIRLOCK_MASTER_KEY: 'a'.repeat(64) };
  const prev = process.env.AIRLOCK_MASTER_KEY;
  process.env.AIRLOCK_MASTER_KEY = env.AIRLOCK_MASTER_KEY;
  t.teardown(() => {
    if (prev === undefined) delete process.env.AIRLOCK_MASTER_KEY;
    else process.env.AIRLOCK_MASTER_KEY = prev;
  });
  const { SecretStore } = await import('../../state/secrets/store.ts');
  const store = await SecretStore.open(home);
  const info = await store.set('stripe_key', 'sk_test_value_never_shown');
  const b64 = Buffer.from(info.placeholder).toString('base64');
  const entry = (url: string) => ({
    startedDateTime: '2026-01-05T10:00:00Z', time: 1, cache: {}, timings: { send: 0, wait: 0, receive: 0 },
    request: { method: 'GET', url, httpVersion: 'HTTP/1.1', headers: [], queryString: [], cookies: [], headersSize: -1, bodySize: 0 },
    response: { status: 200, statusText: '', httpVersion: 'HTTP/1.1', headers: [], cookies: [], content: { size: 0, mimeType: '' }, redirectURL: '', headersSize: -1, bodySize: 0 },
  });
  const har = path.join(dir, 'session.har');
  fs.writeFileSync(har, JSON.stringify({ log: { version: '1.2', creator: { name: 't', version: '1' }, entries: [entry('https://a.example/?q=' + b64), entry('https://a.example/plain')] } }));
  const withStore = airlock(['replay', har, '--policy', path.join(dir, 'policy'), '--home', home, '--json'], env);
  t.equal(withStore.code, 0, withStore.stderr);
  t.same((JSON.parse(withStore.stdout) as { after: unknown }).after, { allow: 1, deny: 1, approve: 0 }, 'the base64 placeholder was found');
  t.notMatch(withStore.stdout + withStore.stderr, /sk_test_value_never_shown/);
  const noStore = airlock(['replay', har, '--policy', path.join(dir, 'policy'), '--home', path.join(dir, 'empty')]);
  t.equal(noStore.code, 1);
  t.match(noStore.stderr, /no secret store in/);
});

t.test('replay of a file that is no capture at all exits 1 and says why, after listing the reasons', async (t) => {
  const dir = t.testdir({ 'notes.jsonl': 'hello world\n{"a": 1}\n' });
  const r = airlock(['replay', path.join(dir, 'notes.jsonl')]);
  t.equal(r.code, 1);
  t.match(r.stdout, /2 entries skipped:\n {2}notes\.jsonl:1: not valid JSON/);
  t.match(r.stderr, /nothing was replayed: every entry was skipped/);
  // An audit log with only refused logins in it is a capture with nothing to decide: exit 0.
  fs.writeFileSync(path.join(dir, 'audit.jsonl'), `${JSON.stringify({ time: '2026-01-05T10:00:00Z', outcome: 'unauthenticated' })}\n`);
  t.equal(airlock(['replay', path.join(dir, 'audit.jsonl')]).code, 0);
});
