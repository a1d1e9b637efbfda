// Replay is stateful per session: labels accumulate in request order as they did live, each policy
// with its own simulation; a human's clear recorded in the audit log applies at its place; a read
// the upstream never answered (Airlock's own 502) brings no label, while an answer of any status
// would (as live); requests of other sessions are unaffected.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { auditLine, type AuditRecord } from '../../state/audit-log.ts';
import { openPolicy, replayFiles } from '../../offline/replay.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';
import { tempDir } from '../temp-dir.ts';
import { policyCopy } from '../sessions/helpers.ts';

/** One compiled default policy for the tests of this file (compiling it is most of their time). */
let shared: Promise<Awaited<ReturnType<typeof openPolicy>>> | undefined;
const defaultPolicy = (): Promise<Awaited<ReturnType<typeof openPolicy>>> => {
  if (!shared) {
    shared = openPolicy(policyCopy(t));
    t.teardown(async () => (await shared!).close());
  }
  return shared;
};

t.test('labels accumulate in order per session; clears apply in order', async (t) => {
  await loadAdapters();
  const policy = await defaultPolicy();
  let n = 0;
  const record = (session: string, method: string, url: string, status: number, body = '', answered = true): AuditRecord => {
    n++;
    const d = describeRequest({
      id: `r${n}`, time: new Date(Date.UTC(2026, 0, 5, 10, 0, n)), method, url,
      headers: [['host', new URL(url).host], ...(body ? [['content-type', 'application/json'], ['content-length', String(body.length)]] as Array<[string, string]> : [])],
      body: Buffer.from(body), bodyTruncated: false,
    }, { agent: { id: 'bot', labels: {} } });
    // Live, the session recorded at decision time; replay recomputes the labels itself.
    d.session = { id: session, started: '2026-01-05T10:00:00Z', labels: {}, requests: n, egress_bytes: 0 };
    return { time: d.request.time, id: d.request.id, agent: 'bot', method, url, host: d.request.host, outcome: answered ? 'forwarded' : 'error', status, ...(answered ? { upstream_status: status } : {}), description: d };
  };
  const lines = [
    record('s_a', 'POST', 'http://hooks.test/send', 200, '{"x":1}'), // 1: fresh session: allowed
    record('s_a', 'GET', 'http://news.test/today', 200), // 2: untrusted
    record('s_b', 'GET', 'http://db.test/customers/1', 200), // 3: another session: private
    record('s_a', 'POST', 'http://hooks.test/send', 200, '{"x":1}'), // 4: one label: allowed
    record('s_a', 'GET', 'http://db.test/customers/2', 502, '', false), // 5: never answered: no label
    record('s_a', 'POST', 'http://hooks.test/send', 200, '{"x":1}'), // 6: still allowed
    record('s_a', 'GET', 'http://db.test/customers/1', 200), // 7: private
    record('s_a', 'POST', 'http://hooks.test/send', 200, '{"x":1}'), // 8: trifecta: held
    record('s_b', 'POST', 'http://hooks.test/send', 200, '{"x":1}'), // 9: session b only holds private: allowed
  ];
  const clear: AuditRecord = { time: '2026-01-05T10:00:30Z', id: 'se_1', agent: 'bot', outcome: 'session-label-cleared', session_event: { session: 's_a', type: 'label-cleared', label: 'untrusted', by: 'studio' } };
  const after = record('s_a', 'POST', 'http://hooks.test/send', 200, '{"x":1}'); // 10: after the clear: allowed
  const file = path.join(tempDir(t), 'audit.jsonl');
  fs.writeFileSync(file, [...lines, clear, after].map(auditLine).join('\n'));

  const report = await replayFiles([file], { policy, againstLog: false, maxChanged: 100 });
  t.equal(report.decided, 10);
  t.equal(report.skipped, 0, 'the clear is an event, not a skipped line');

  // Compare with a baseline that decides every request on its own (sessions: none = as recorded, empty).
  const flat = await replayFiles([file], { policy, baseline: policy, maxChanged: 100 });
  t.equal(flat.changed, 0, 'the same policy on both sides, both stateful: nothing changes');

  // The decisions one by one, as a report against a stateless run shows them.
  const stateless = await openPolicy(policyCopy(t));
  t.teardown(() => stateless.close());
  const vs = await replayFiles([file], { policy, baseline: stateless, maxChanged: 100, sessions: 'recorded' });
  t.equal(vs.changed, 0, 'two stateful simulations of the same policy agree');

  const rows = (await replayFiles([file], { policy, againstLog: true, maxChanged: 100 })).changedRows;
  t.same(rows.map((r) => r.source.split(':')[1]), [], 'no decision was recorded, so nothing to compare');

  const actions: string[] = [];
  const rules: string[] = [];
  const probe = await replayFiles([file], {
    policy: { ...policy, decide: async (input: Parameters<typeof policy.decide>[0], how: Parameters<typeof policy.decide>[1]) => {
      const d = await policy.decide(input, how);
      actions.push(d.action);
      rules.push(d.rule ?? '');
      return d;
    } } as unknown as typeof policy,
  });
  t.equal(probe.decided, 10);
  t.same(rules, [
    'host.allowed_method', 'host.allowed', 'host.allowed', 'host.allowed_method', 'host.allowed',
    'host.allowed_method', 'host.allowed', 'session.trifecta', 'host.allowed_method', 'host.allowed_method',
  ], 'the trifecta holds request 8 only: labels accumulated in order, the unanswered read brought none, the clear applied before request 10');
  t.equal(actions[7], 'approve');
});

// A capture that begins mid-session, or one filtered to some hosts (`--since`, `--host`): the labels a
// request was recorded with that arrived through requests replay does not decide were dropped, so
// the webhook's POST that was held live replayed as allowed (ninth pass). They are kept; a label a
// request in the capture brought is still the replayed policy's to give.
t.test('labels that arrived through requests outside the capture count; the capture\'s own are re-decided', async (t) => {
  await loadAdapters();
  const policy = await defaultPolicy();
  let n = 0;
  const arrival = (id: string, host: string) => ({ request_id: id, host, time: '2026-01-05T09:00:00Z' });
  const record = (method: string, url: string, labels: Record<string, ReturnType<typeof arrival>>, body = ''): AuditRecord => {
    n++;
    const d = describeRequest({
      id: `q${n}`, time: new Date(Date.UTC(2026, 0, 5, 10, 0, n)), method, url,
      headers: [['host', new URL(url).host], ...(body ? [['content-type', 'application/json'], ['content-length', String(body.length)]] as Array<[string, string]> : [])],
      body: Buffer.from(body), bodyTruncated: false,
    }, { agent: { id: 'bot', labels: {} } });
    d.session = { id: 's_mid', started: '2026-01-05T09:00:00Z', labels, requests: n, egress_bytes: 0 };
    return { time: d.request.time, id: d.request.id, agent: 'bot', method, url, host: d.request.host, outcome: 'forwarded', status: 200, upstream_status: 200, description: d };
  };
  const before = { untrusted: arrival('p1', 'news.test'), private: arrival('p2', 'db.test') };
  const lines = [
    record('POST', 'http://hooks.test/send', before, '{"x":1}'), // q1: both labels from before the capture: held
    record('GET', 'http://news.test/today', before), // q2
    // q3: a label q4 brought live (its answer finished later) is in this record; q4 is replayed after it.
    record('GET', 'http://db.test/customers/1', { ...before, 'customer-pii': arrival('q4', 'wiki.test') }),
    record('GET', 'http://wiki.test/page', { ...before }),
  ];
  const file = path.join(tempDir(t), 'audit.jsonl');
  fs.writeFileSync(file, lines.map(auditLine).join('\n'));
  const decide = async (filter?: { host: string }) => {
    const rules: string[] = [];
    const sessions: string[][] = [];
    await replayFiles([file], {
      ...(filter ? { filter } : {}),
      policy: { ...policy, decide: async (input: Parameters<typeof policy.decide>[0], how: Parameters<typeof policy.decide>[1]) => {
        sessions.push(Object.keys(input.session?.labels ?? {}).sort());
        const d = await policy.decide(input, how);
        rules.push(d.rule ?? '');
        return d;
      } } as unknown as typeof policy,
    });
    return { rules, sessions };
  };
  const all = await decide();
  t.equal(all.rules[0], 'session.trifecta', 'the first request of the capture holds the labels it held live: the POST is held');
  t.same(all.sessions[2], ['customer-pii', 'private', 'untrusted'], 'a label a later request of the capture brought live counts until that request is replayed');
  const only = await decide({ host: 'hooks.test' });
  t.same(only.rules, ['session.trifecta'], 'replaying the webhook\'s requests alone still holds the POST');

  // The replayed policy decides for the capture's own requests: the default policy gives wiki.test
  // `untrusted`, not `customer-pii`, so after q4 the label is gone.
  const probe = new (await import('../../offline/replay-sessions.ts')).SessionSimulation();
  const q3 = probe.prepare(lines[2]!.description!);
  t.same(Object.keys(q3.session!.labels).sort(), ['customer-pii', 'private', 'untrusted']);
  probe.settle(lines[3]!.description!, { action: 'allow', labels: ['untrusted'] }, 200);
  t.same(probe.labels('s_mid'), ['private', 'untrusted'], 'q4 replayed without it: the label it brought live is gone');

  // Fifteenth pass: a `wrote:` label one replayed session brought is held by every session after it
  // (live, all sessions are decided with all `wrote:` labels), until a human clears it.
  const other = { ...lines[1]!.description!, session: { ...lines[1]!.description!.session!, id: 's_other', labels: {} } };
  probe.settle(lines[0]!.description!, { action: 'allow', labels: ['wrote:notes.test'] }, undefined);
  t.same(Object.keys(probe.prepare(other).session!.labels), ['wrote:notes.test'], 'another session holds the store\'s label');
  probe.apply({ type: 'label-cleared', session: 's_mid', label: 'wrote:notes.test', by: 'cli' });
  t.same(Object.keys(probe.prepare(other).session!.labels), [], 'a human\'s clear removes it for every session');
});
