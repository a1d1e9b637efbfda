// The pipeline's steps without sockets, playbook style: each case feeds one request head (and a
// scripted policy, agents, audit and enforcers) through admit → describe → decide → enforce →
// record, and checks the exact trail of events and where it stopped. A step that ran out of order,
// or one that ran after a refusal, shows up as a different trail.
import t from 'tap';
import type { AgentInfo, RequestDescription } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import type { AuditRecord } from '../../state/audit-log.ts';
import type { Enforcer } from '../../proxy/enforcers.ts';
import { Exchange, type RequestHead, type Tunnel } from '../../proxy/exchange.ts';
import { Pipeline } from '../../proxy/pipeline.ts';
import { AuditBudget } from '../../proxy/audit-budget.ts';
import { CAPTURED_CROWD_BODIES } from '../../proxy/agent-gate.ts';
import type { Refusal } from '../../proxy/refusals.ts';

const basic = (name: string, token: string): string => `Basic ${Buffer.from(`${name}:${token}`).toString('base64')}`;
const agent: AgentInfo = { id: 'a1', labels: {} };

interface Script {
  head?: Partial<RequestHead> & { extraHeaders?: string[] };
  tunnel?: Tunnel;
  upgrade?: boolean;
  decision?: Partial<EngineDecision>;
  /** Each enforcer's beforeForward answer, by name (undefined: passes). */
  enforcers?: Array<{ name: string; refuse?: Refusal; handlesApproval?: boolean; redirect?: boolean }>;
  auditDown?: 'at-start' | 'during-enforce';
  auditBudget?: AuditBudget;
  /** The audit log's disk is behind (records wait in memory). */
  auditBehind?: boolean;
  /** What the trail says of agent a1's records waiting: past its share (the reason), among the heavy ones. */
  auditShare?: { over?: string; heavy?: boolean };
}

async function play(s: Script): Promise<{ trail: string[]; refusal: Refusal | undefined; x: Exchange; records: AuditRecord[] }> {
  const trail: string[] = [];
  const records: AuditRecord[] = [];
  let available = s.auditDown !== 'at-start';
  const enforcers: Enforcer[] = (s.enforcers ?? [{ name: 'pass' }]).map((e) => ({
    name: e.name,
    ...(e.handlesApproval ? { handlesApproval: true } : {}),
    describe: () => void trail.push(`describe-hook:${e.name}`),
    beforeForward: (ctx) => {
      trail.push(`enforce:${e.name}`);
      if (s.auditDown === 'during-enforce') available = false;
      if (e.redirect) ctx.outgoing.url = new URL('http://elsewhere.test/');
      return e.refuse;
    },
  }));
  const pipeline = new Pipeline({
    engine: {
      decide: async (d: RequestDescription) => {
        trail.push(`decide:${d.request.host}${d.request.path}`);
        return { action: 'allow', reason: 'scripted', rule: 'scripted_rule', policy_version: 'v1', decision_us: 1, ...s.decision } as EngineDecision;
      },
    },
    agents: {
      authenticate: async (name, token) => {
        trail.push(`authenticate:${name}`);
        return name === 'a1' && token === 'good' ? agent : undefined;
      },
    },
    audit: {
      append: (r) => void records.push(r),
      get available() { return available; },
      get behind() { return s.auditBehind === true; },
      unavailableReason: 'disk full',
      ...(s.auditShare ? {
        overShare: (who: string) => (who === 'a1' ? s.auditShare!.over : undefined),
        behindFor: (who: string) => s.auditBehind === true && who === 'a1' && s.auditShare!.heavy === true,
      } : {}),
    },
    guard: {
      isOwn: () => false,
      resolveEndpoint: async (host, port) => {
        trail.push(`resolve:${host}:${port}`);
        return { address: '192.0.2.10', port };
      },
    },
    enforcers,
    placeholders: () => undefined,
    ...(s.auditBudget ? { auditBudget: s.auditBudget } : {}),
  });
  const url = s.head?.url ?? 'http://api.example.test/items?q=1';
  const headers: Record<string, string> = { host: 'api.example.test', 'proxy-authorization': basic('a1', 'good') };
  const raw = s.head?.extraHeaders ?? [];
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  const head: RequestHead = {
    method: 'GET', url, httpVersion: '1.1', httpVersionMinor: 1,
    headers, rawHeaders: Object.entries(headers).flat(),
    ...s.head,
  };
  if (s.head?.headers) head.rawHeaders = Object.entries(s.head.headers).flatMap(([k, v]) => [k, String(v)]);
  const x = new Exchange(head, s.tunnel, s.upgrade ?? false);
  let refusal = await pipeline.open(x);
  if (!refusal) {
    trail.push('decided');
    refusal = await pipeline.enforce(x, new AbortController().signal);
  }
  if (refusal) pipeline.refused(x, refusal);
  else pipeline.finish(x, 'forwarded');
  pipeline.finish(x, 'again'); // the record step writes once
  return { trail, refusal, x, records };
}

t.test('an allowed request passes every step in order, once', async (t) => {
  const { trail, refusal, x, records } = await play({ enforcers: [{ name: 'first' }, { name: 'second' }] });
  t.equal(refusal, undefined);
  t.same(trail, [
    'authenticate:a1', 'describe-hook:first', 'describe-hook:second', 'decide:api.example.test/items',
    'decided', 'enforce:first', 'enforce:second', 'resolve:api.example.test:80',
  ]);
  t.same(x.dial, { address: '192.0.2.10', port: 80 });
  t.equal(x.url, 'http://api.example.test/items?q=1');
  t.equal(records.length, 1, 'one record');
  t.match(records[0], { id: x.id, agent: 'a1', outcome: 'forwarded', host: 'api.example.test', decision: { action: 'allow', rule: 'scripted_rule' } });
});

t.test('each refusal stops the trail at its step', async (t) => {
  const cases: Array<[string, Script, string[], Partial<Refusal>]> = [
    ['audit log not writable: nothing else runs', { auditDown: 'at-start' }, [], { status: 503, outcome: 'audit-unavailable' }],
    ['no credentials: a challenge, no lookup', { head: { headers: { host: 'api.example.test' } } }, [], { status: 407, outcome: 'auth-challenge' }],
    ['wrong token', { head: { headers: { host: 'api.example.test', 'proxy-authorization': basic('a1', 'bad') } } }, ['authenticate:a1'], { status: 407, outcome: 'unauthenticated' }],
    ['origin-form to the proxy', { head: { url: '/items' } }, ['authenticate:a1'], { status: 400 }],
    ['userinfo in the target', { head: { url: 'http://u:p@api.example.test/' } }, ['authenticate:a1'], { status: 400 }],
    ['policy denies: no enforcer runs', { decision: { action: 'deny', rule: 'no_writes' } }, ['authenticate:a1', 'describe-hook:pass', 'decide:api.example.test/items'], { status: 403, outcome: 'denied', rule: 'no_writes' }],
    ['a path that means two things, after the decision', { head: { url: 'http://api.example.test/a%2Fb' } }, ['authenticate:a1', 'describe-hook:pass', 'decide:api.example.test/a%2Fb'], { status: 400, rule: 'scripted_rule' }],
    ['an enforcer refuses: later ones do not run, nothing is resolved',
      { enforcers: [{ name: 'limits', refuse: { status: 429, title: 'Rate limited', detail: 'empty', type: 'rate-limited', outcome: 'rate-limited' } }, { name: 'later' }] },
      ['authenticate:a1', 'describe-hook:limits', 'describe-hook:later', 'decide:api.example.test/items', 'decided', 'enforce:limits'], { status: 429, rule: 'scripted_rule' }],
    ['approve with no approver: denied (fail closed)', { decision: { action: 'approve' } },
      ['authenticate:a1', 'describe-hook:pass', 'decide:api.example.test/items', 'decided', 'enforce:pass'], { status: 403, type: 'approval-unavailable' }],
    ['an enforcer moves the destination', { enforcers: [{ name: 'sneaky', redirect: true }] },
      ['authenticate:a1', 'describe-hook:sneaky', 'decide:api.example.test/items', 'decided', 'enforce:sneaky'], { status: 502, type: 'enforcer-error' }],
    ['the audit log fills during a hold: nothing is dialed', { auditDown: 'during-enforce' },
      ['authenticate:a1', 'describe-hook:pass', 'decide:api.example.test/items', 'decided', 'enforce:pass'], { status: 503, outcome: 'audit-unavailable' }],
  ];
  for (const [name, script, trail, refusal] of cases) {
    const played = await play(script);
    t.same(played.trail, trail, `${name}: trail`);
    t.match(played.refusal, refusal, `${name}: refusal`);
    t.equal(played.records.length, 1, `${name}: recorded once`);
    t.equal(played.records[0]!.outcome, played.refusal!.outcome, `${name}: the record says why`);
    t.equal(played.x.dial, undefined, `${name}: no address to dial`);
  }
});

t.test('an upgrade is checked as a WebSocket offer before anyone is authenticated', async (t) => {
  const ws = ['upgrade', 'websocket', 'connection', 'Upgrade', 'sec-websocket-version', '13', 'sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ=='];
  const bad = await play({ upgrade: true, head: { method: 'POST', extraHeaders: ws } });
  t.same(bad.trail, []);
  t.match(bad.refusal, { status: 400 });
  const good = await play({ upgrade: true, head: { extraHeaders: ws } });
  t.equal(good.refusal, undefined);
  t.equal(good.x.url, 'ws://api.example.test/items?q=1', 'the target of an upgrade is a ws: URL');
  t.same(good.x.offer, { protocols: [], deflate: false });
  t.same(good.x.context?.body, undefined, 'an upgrade has no body');
});

t.test('a tunneled request: Host, CONNECT target and SNI must agree, and the tunnel closes when they do not', async (t) => {
  const tunnel = (sni?: string): Tunnel => ({ agent, credential: basic('a1', 'good'), target: { hostname: 'api.example.test', port: 443 }, scheme: 'https', ...(sni ? { sni } : {}) });
  const ok = await play({ tunnel: tunnel('api.example.test'), head: { url: '/items' } });
  t.equal(ok.refusal, undefined);
  t.equal(ok.x.url, 'https://api.example.test/items');
  t.same(ok.trail.at(-1), 'resolve:api.example.test:443');
  for (const [name, script] of [
    ['SNI names another host', { tunnel: tunnel('other.test'), head: { url: '/items' } }],
    ['Host names another host', { tunnel: tunnel(), head: { url: '/items', headers: { host: 'other.test' } } }],
    ['absolute-form names another origin', { tunnel: tunnel(), head: { url: 'https://other.test/items' } }],
  ] as Array<[string, Script]>) {
    const played = await play(script);
    t.match(played.refusal, { status: 421, headers: { connection: 'close' } }, name);
    t.same(played.trail, ['authenticate:a1'], `${name}: the tunnel's credentials are checked first, nothing is described`);
  }
  const revoked = await play({ tunnel: { ...tunnel(), credential: basic('a1', 'revoked') }, head: { url: '/items' } });
  t.match(revoked.refusal, { status: 407, outcome: 'unauthenticated', headers: { connection: 'close' } }, 'a revoked token stops the tunnel at its next request');
});

t.test('an agent past its share of the audit disk: large descriptions left out, every record written', async (t) => {
  const large = { url: `http://api.example.test/items?q=${'x'.repeat(20 * 1024)}` };
  // The budget fits three such descriptions (their size measured with a budget that fits none).
  // What one charges: its description and its URL.
  const size = (await play({ head: large, auditBudget: new AuditBudget(1) })).records[0]!.description_omitted!.bytes + large.url.length;
  t.ok(size > 20 * 1024, `a description and URL of ${size} bytes`);
  let now = 1_000_000;
  const budget = new AuditBudget(Math.floor(size * 3.5), () => now);
  const outcomes: string[] = [];
  for (let i = 0; i < 5; i++) {
    const { records } = await play({ head: large, auditBudget: budget });
    t.equal(records.length, 1, `request ${i}: recorded`);
    const r = records[0]!;
    t.match(r, { agent: 'a1', decision: { action: 'allow' }, outcome: 'forwarded' }, `request ${i}: who, where and the decision are kept`);
    t.ok(r.description ? r.url === large.url : r.url === `${large.url.slice(0, 1024)}…`, `request ${i}: the URL, cut past the budget`);
    outcomes.push(r.description ? 'whole' : 'omitted');
    if (!r.description) t.match(r.description_omitted, { bytes: Number, reason: /recorded more than/ });
  }
  t.same(outcomes, ['whole', 'whole', 'whole', 'omitted', 'omitted'], 'a budget of three and a half descriptions a minute: three whole');
  const small = await play({ auditBudget: budget });
  t.ok(small.records[0]!.description, 'a small description is recorded whole past the budget');
  // Thirteenth pass: a description under 16 KiB was never charged, nor the record's URL: a 7 KB
  // query wrote ~21 KB of audit a request at any rate. Both are charged now; past the budget the
  // URL is cut too, so the record stays small whatever the agent sent.
  const medium = { url: `http://api.example.test/items?q=${'y'.repeat(7 * 1024)}` };
  const past = (await play({ head: medium, auditBudget: new AuditBudget(16 * 1024) })).records[0]!;
  t.notOk(past.description, 'a 7 KB query past the budget: its description is left out');
  t.ok(past.url!.length <= 1030 && past.url!.startsWith('http://api.example.test/items?q=yyy'), `its URL is cut (${past.url!.length} characters kept)`);
  t.match(past.description_omitted, { url_bytes: medium.url.length, reason: /URL cut/ }, 'and says how long it was');
  t.ok(JSON.stringify(past).length < 4096, `the record is ${JSON.stringify(past).length} bytes`);
  now += 60_000;
  t.ok((await play({ head: large, auditBudget: budget })).records[0]!.description, 'a minute later the budget is back');
  const whole = (await play({ head: medium, auditBudget: budget })).records[0]!;
  t.ok(whole.description && whole.url === medium.url, 'within it, a 7 KB query is recorded whole');
});

t.test('twenty-second pass: the audit share keeps a bucket only for agents charged within the last minute', async (t) => {
  // A bucket for every agent that ever recorded a large description stayed for good (left open by
  // the twenty-first pass): many agents' tokens, one after another, each a Map entry forever.
  let now = 5_000_000;
  const budget = new AuditBudget(100_000, () => now);
  for (let i = 0; i < 5000; i++) {
    budget.admit(`agent-${i}`, 60_000);
    now += 5;
  }
  t.equal(budget.size, 5000, 'agents charged within the minute keep their buckets');
  t.notOk(budget.admit('agent-4999', 60_000), 'a drained agent stays drained within the minute');
  now += 61_000;
  t.ok(budget.admit('newcomer', 60_000), 'a newcomer is charged');
  t.equal(budget.size, 1, `a minute later the refilled buckets are gone (${budget.size} left)`);
  t.ok(budget.admit('agent-4999', 60_000), 'and a returning agent has its whole share, as it would have');
});

t.test('the audit disk behind: large descriptions left out whatever the share, small records whole, every record written', async (t) => {
  // Sixteenth pass: with a disk taking 1 MB/s, one agent's 2 MB records (within its share of
  // 64 MiB a minute) filled the 32 MiB waiting in memory within seconds, and past it every agent's
  // request was refused (503 audit-unavailable) for as long as the agent kept on.
  const large = { url: `http://api.example.test/items?q=${'x'.repeat(20 * 1024)}` };
  const behind = (await play({ head: large, auditBehind: true })).records[0]!;
  t.notOk(behind.description, 'a large description is left out while the disk is behind');
  t.match(behind, { agent: 'a1', outcome: 'forwarded', decision: { action: 'allow' }, description_omitted: { reason: /disk is behind/ } }, 'the record keeps who, where and the decision, and says why');
  t.ok(JSON.stringify(behind).length < 4096, `the record is ${JSON.stringify(behind).length} bytes`);
  t.ok((await play({ auditBehind: true })).records[0]!.description, 'a small description is recorded whole');
  t.ok((await play({ head: large })).records[0]!.description, 'with the disk keeping up, the same request is recorded whole');
});

t.test("the audit trail behind with one agent's records: that agent refused past its share, large descriptions left out only for the heavy", async (t) => {
  // Seventeenth pass: the trail's bound was one pool (one agent's small records past a slow disk's
  // rate refused everyone), and while it was behind every agent's large descriptions were left out.
  const over = await play({ auditShare: { over: "agent a1's records wait for the audit disk past its share" } });
  t.match(over.refusal, { status: 503, type: 'audit-unavailable', detail: /past its share/ }, 'the agent past its share: 503 audit-unavailable');
  t.same(over.trail, ['authenticate:a1'], 'nothing described, decided or forwarded');
  t.match(over.records, [{ agent: 'a1', outcome: 'audit-unavailable', status: 503 }], 'and recorded (the trail counts such records)');
  t.equal((await play({ auditShare: {} })).refusal, undefined, 'an agent within its share is served');
  const large = { url: `http://api.example.test/items?q=${'x'.repeat(20 * 1024)}` };
  const light = (await play({ head: large, auditBehind: true, auditShare: { heavy: false } })).records[0]!;
  t.ok(light.description, 'behind, an agent with few records waiting keeps its large description');
  const heavy = (await play({ head: large, auditBehind: true, auditShare: { heavy: true } })).records[0]!;
  t.notOk(heavy.description, 'the agent whose records wait has it left out');
  t.match(heavy.description_omitted, { reason: /disk is behind/ });
});

t.test("an agent's forwarded requests keep at most its bound of descriptions in memory: past it its large ones are refused until some end", async (t) => {
  // Seventeenth pass: a description is kept until its response is sent, ~8.5 MiB of heap for a
  // 1 MiB JSON body of tiny objects; one agent's allowed uploads to an upstream that never answers
  // (it may keep 512 open) held gigabytes.
  const agents: Record<string, AgentInfo> = { h: { id: 'h', labels: {} }, n: { id: 'n', labels: {} } };
  const pipeline = new Pipeline({
    engine: { decide: async () => ({ action: 'allow', reason: 'scripted', rule: 'r', policy_version: 'v1', decision_us: 1 }) as EngineDecision },
    agents: { authenticate: async (name, token) => (token === 'good' ? agents[name] : undefined) },
    audit: { append: () => undefined },
    guard: { isOwn: () => false, resolveEndpoint: async (_host, port) => ({ address: '192.0.2.10', port }) },
    enforcers: [],
    placeholders: () => undefined,
    describedPerAgent: 500_000,
  });
  // ~40 KB of tiny objects: ~0.25 MB as the bound weighs them.
  const big = Buffer.from(JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ a: i % 10, b: i }))));
  const open = async (who: string): Promise<{ x: Exchange; refusal: Refusal | undefined }> => {
    const headers: Record<string, string> = { host: 'api.example.test', 'proxy-authorization': basic(who, 'good'), 'content-type': 'application/json', 'content-length': String(big.length) };
    const x = new Exchange({ method: 'POST', url: 'http://api.example.test/items', httpVersion: '1.1', httpVersionMinor: 1, headers, rawHeaders: Object.entries(headers).flat() }, undefined, false);
    const refusal = await pipeline.open(x, async () => ({ captured: big, truncated: false }));
    return { x, refusal: refusal ?? await pipeline.enforce(x, new AbortController().signal) };
  };
  const kept: Exchange[] = [];
  let refused: Refusal | undefined;
  for (let i = 0; i < 10 && !refused; i++) {
    const o = await open('h');
    refused = o.refusal;
    if (!refused) kept.push(o.x); // never ends: its upstream does not answer
  }
  const small = new Exchange({ method: 'GET', url: 'http://api.example.test/items', httpVersion: '1.1', httpVersionMinor: 1, headers: { host: 'api.example.test', 'proxy-authorization': basic('h', 'good') }, rawHeaders: ['host', 'api.example.test', 'proxy-authorization', basic('h', 'good')] }, undefined, false);
  t.equal(await pipeline.open(small, async () => ({ captured: Buffer.alloc(0), truncated: false })), undefined, 'a small request of that agent is still decided');
  t.equal(kept.length, 2, 'two large requests open (the bound passed by the second)');
  t.match(refused, { status: 429, detail: /request descriptions in memory/ }, 'the next one: 429 agent-busy, saying why');
  t.equal((await open('n')).refusal, undefined, "another agent's large request is decided");
  kept[0]!.end();
  t.equal((await open('h')).refusal, undefined, 'once one of them ended, the agent is served again');
});

// Twentieth pass: the bound of descriptions was per agent only, so a dozen agents' allowed uploads to
// an upstream that never answers held a dozen bounds (64 MiB of heap estimate each by default:
// forty agents, 2.5 GiB, past a default Node heap). Past four agents' bounds in all, each agent may
// hold only its equal part of what is left under one and a half of that (lib/tally.ts equalPart).
t.test('forwarded requests\' descriptions across agents: past four bounds in all, each agent holds its equal part; a newcomer is served', async (t) => {
  const agents: Record<string, AgentInfo> = {};
  const pipeline = new Pipeline({
    engine: { decide: async () => ({ action: 'allow', reason: 'scripted', rule: 'r', policy_version: 'v1', decision_us: 1 }) as EngineDecision },
    agents: { authenticate: async (name, token) => (token === 'good' ? (agents[name] ??= { id: name, labels: {} }) : undefined) },
    audit: { append: () => undefined },
    guard: { isOwn: () => false, resolveEndpoint: async (_host, port) => ({ address: '192.0.2.10', port }) },
    enforcers: [],
    placeholders: () => undefined,
    describedPerAgent: 2_000_000,
  });
  const big = Buffer.from(JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ a: i % 10, b: i })))); // ~0.25 MB weighed
  const open = async (who: string): Promise<Refusal | undefined> => {
    const headers: Record<string, string> = { host: 'api.example.test', 'proxy-authorization': basic(who, 'good'), 'content-type': 'application/json', 'content-length': String(big.length) };
    const x = new Exchange({ method: 'POST', url: 'http://api.example.test/items', httpVersion: '1.1', httpVersionMinor: 1, headers, rawHeaders: Object.entries(headers).flat() }, undefined, false);
    return (await pipeline.open(x, async () => ({ captured: big, truncated: false }))) ?? await pipeline.enforce(x, new AbortController().signal); // never ends
  };
  let kept = 0;
  for (let a = 0; a < 12; a++) {
    for (let i = 0; i < 12; i++) {
      if (await open(`up${a}`)) break;
      kept++;
    }
  }
  // Four agents fill four bounds; eight more, one after another, share what is left under six, one request each at least.
  const weighed = (pipeline as unknown as { gate: { described: { total: number } } }).gate.described.total;
  t.ok(weighed <= 1.5 * 4 * 2_000_000 + 12 * 500_000, `${(weighed / 1e6).toFixed(1)} MB of descriptions kept in ${kept} requests across twelve agents (it was 24.7 MB in 60)`);
  t.equal(await open('newcomer'), undefined, "a newcomer's large request is decided");
});

// Twenty-first pass (follow-up): a statement an open tunnel carries is read whole before it waits for
// one of its agent's slots, so many agents' tunnels each with a large statement waiting (the policy
// slow) held agents × (4 slots + 256 waiting) × up to the capture cap. Counted in the agents' crowd of
// captured bodies now: past it, each agent's waiting statements stop at its equal part of what is left.
t.test("statements tunnels carry, waiting for their agents' slots: past the crowd of captured bodies each agent holds its equal part; a neighbour's small one is decided", async (t) => {
  const agents: Record<string, AgentInfo> = {};
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  const pipeline = new Pipeline({
    engine: { decide: async (d) => { if (d.agent.id !== 'calm') await slow; return { action: 'allow', reason: 'scripted', rule: 'r', policy_version: 'v1', decision_us: 1 } as EngineDecision; } },
    agents: { authenticate: async (name, token) => (token === 'good' ? (agents[name] ??= { id: name, labels: {} }) : undefined) },
    audit: { append: () => undefined },
    guard: { isOwn: () => false, resolveEndpoint: async (_host, port) => ({ address: '192.0.2.10', port }) },
    enforcers: [],
    placeholders: () => undefined,
    bodyCap: 32 * 1024,
  });
  const statement = (size: number): Buffer => Buffer.from(JSON.stringify({ query: `select '${'x'.repeat(size - 30)}'` }));
  const tunnel = (who: string): Exchange => {
    const x = new Exchange({ method: 'GET', url: 'ws://db.example.test/sql', httpVersion: '1.1', httpVersionMinor: 1, headers: {}, rawHeaders: [] }, undefined, true);
    x.agent = agents[who] ??= { id: who, labels: {} };
    x.url = 'ws://db.example.test/sql';
    return x;
  };
  const carry = (x: Exchange, body: Buffer) => pipeline.decideCarried(x, { id: 'r', time: new Date(), method: 'POST', url: 'http://db.example.test/sql', headers: [['host', 'db.example.test'], ['content-type', 'application/json']], body, bodyTruncated: false });
  const pending: Array<Promise<unknown>> = [];
  let busy = 0;
  for (let a = 0; a < 16; a++) {
    const x = tunnel(`t${a}`);
    for (let i = 0; i < 12; i++) pending.push(carry(x, statement(30_000)).then((r) => { if (r && 'status' in r && r.status === 429) busy++; }));
  }
  await new Promise((r) => setImmediate(r));
  const held = (pipeline as unknown as { gate: { captured: { total: number } } }).gate.captured.total;
  t.ok(held <= 1.5 * CAPTURED_CROWD_BODIES * 32 * 1024 + 12 * 2048, `${(held / 1048576).toFixed(2)} MiB of statements held waiting across sixteen agents' 192 (it was 5.5 MiB)`);
  const calm = await carry(tunnel('calm'), statement(2000));
  t.match(calm, { decision: { action: 'allow' } }, "a neighbour's small statement is decided meanwhile");
  release();
  await Promise.all(pending);
  t.ok(busy > 0, `${busy} statements past the crowd refused (429 busy)`);
  t.equal((pipeline as unknown as { gate: { captured: { total: number } } }).gate.captured.total, 0, 'all given back once decided');
});

// Ninth pass: a lasting request (a WebSocket, an upload past the capture) that a grant let through
// went on after the grant was revoked (here or through another replica) or expired: only the
// agent's next request was held again. Its watch decides it again without the grant.
t.test('a lasting request decided with a grant is decided again when the grant is revoked or expires', async (t) => {
  const { watchLasting } = await import('../../proxy/lasting-request.ts');
  const soon = new Date(Date.now() + 150).toISOString();
  const later = new Date(Date.now() + 3_600_000).toISOString();
  const grant = (id: string, expires: string) => ({ id, agent: 'a1', method: 'GET', host: 'h.example', path_pattern: '/ws', expires });
  const setup = (grants: ReturnType<typeof grant>[]) => {
    let revoke: ((id: string) => void) | undefined;
    const seen: string[][] = [];
    const x = {
      head: { headers: { 'proxy-authorization': basic('a1', 't') } }, agent,
      described: { agent, request: { host: 'h.example' }, grants } as unknown as RequestDescription,
      context: { audit: {} },
    } as unknown as Exchange;
    const watch = watchLasting({
      authenticate: async () => agent,
      onPolicyReload: () => () => undefined,
      onGrantRevoked: (fn) => { revoke = fn; return () => { revoke = undefined; }; },
      // The policy honours any grant still offered, and holds the request otherwise.
      decide: async (d) => {
        seen.push(d.grants.map((g) => g.id));
        const live = d.grants.filter((g) => Date.parse(g.expires) > Date.now());
        return (live.length ? { action: 'allow', reason: 'granted' } : { action: 'approve', reason: 'needs a human', approval: { risk: 'medium' } }) as unknown as EngineDecision;
      },
    }, x);
    t.teardown(() => watch.stop());
    return { watch, seen, revoke: (id: string) => revoke?.(id) };
  };
  const ended = <T>(p: Promise<T>, ms: number): Promise<T | 'open'> => Promise.race([p, new Promise<'open'>((r) => setTimeout(() => r('open'), ms))]);

  const two = setup([grant('g1', later), grant('g2', later)]);
  two.revoke('other');
  two.revoke('g1');
  t.equal(await ended(two.watch.ended, 100), 'open', 'another grant still covers it: it goes on');
  two.revoke('g2');
  t.match(await ended(two.watch.ended, 1000), { status: 403, outcome: 'denied', detail: /now holds this request for a human/ }, 'its last grant revoked: it ends');
  t.same(two.seen, [['g2'], []], 'decided again without each revoked grant, never for a grant it did not have');

  const expiring = setup([grant('g3', soon)]);
  t.match(await ended(expiring.watch.ended, 1500), { outcome: 'denied' }, 'its grant expired: it ends');
  // A grant that expired between the decision and the watch's start (a loaded machine) had no
  // timer: the request went on for good.
  const lapsed = setup([grant('g4', new Date(Date.now() - 1).toISOString())]);
  t.match(await ended(lapsed.watch.ended, 1500), { outcome: 'denied' }, 'its grant expired before the watch began: it ends');
});

t.test('large bodies are described one at a time in the process, agents taking turns; small ones go at once; a slow store holds no turn', async (t) => {
  // Sixteenth pass: one agent's four slots of 1 MiB JSON bodies were described side by side on the
  // main thread, and a neighbour's GET waited behind all of them at each of its steps (1–4 s).
  // Seventeenth pass: the turn also covered the enforcers' describe hooks, which wait for stores
  // (with PostgreSQL the token's confirmation, the session, grants): a slow database held the one
  // turn every agent's large requests share. Here agent h's hooks wait 60 ms each.
  const agents: Record<string, AgentInfo> = { h: { id: 'h', labels: {} }, n: { id: 'n', labels: {} } };
  const order: string[] = [];
  const turnsSeen = new Set<number>();
  let hooks = 0;
  let mostHooks = 0;
  // eslint-disable-next-line prefer-const
  let pipeline: Pipeline;
  const running = (): number => (pipeline as unknown as { heavy: { running: number } }).heavy.running;
  pipeline = new Pipeline({
    engine: { decide: async () => ({ action: 'allow', reason: 'scripted', rule: 'r', policy_version: 'v1', decision_us: 1 }) as EngineDecision },
    agents: { authenticate: async (name, token) => (token === 'good' ? agents[name] : undefined) },
    audit: { append: () => undefined },
    guard: { isOwn: () => false, resolveEndpoint: async (_host, port) => ({ address: '192.0.2.10', port }) },
    enforcers: [{
      name: 'slow-store',
      describe: async (d) => {
        const large = d.request.body.size >= 32 * 1024;
        if (large) mostHooks = Math.max(mostHooks, ++hooks);
        if (d.agent.id === 'h') await new Promise((r) => setTimeout(r, 60));
        if (large) hooks--;
        order.push(`${d.agent.id}:${large ? 'large' : 'small'}`);
      },
    }],
    // Called by the describe step itself: in the heavy turn for a large body.
    placeholders: () => ({ find: (text: string) => { if (text.length >= 32 * 1024) turnsSeen.add(running()); return []; } }),
  });
  const open = (who: string, body: Buffer, extra: Record<string, string> = {}): Promise<Refusal | undefined> => {
    const headers: Record<string, string> = { host: 'api.example.test', 'proxy-authorization': basic(who, 'good'), ...(body.length ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}), ...extra };
    const head: RequestHead = { method: body.length ? 'POST' : 'GET', url: 'http://api.example.test/items', httpVersion: '1.1', httpVersionMinor: 1, headers, rawHeaders: Object.entries(headers).flat() };
    const x = new Exchange(head, undefined, false);
    return pipeline.open(x, async () => ({ captured: body, truncated: false }));
  };
  const big = Buffer.from(JSON.stringify({ rows: Array.from({ length: 3600 }, (_, i) => ({ i })) })); // ~40 KB
  const heavy = Array.from({ length: 5 }, () => open('h', big));
  // A compressed body is large whatever its size on the wire.
  heavy.push(open('h', Buffer.from('x'.repeat(100)), { 'content-encoding': 'gzip' }));
  await new Promise((r) => setTimeout(r, 5));
  const small = open('n', Buffer.alloc(0));
  const neighbourLarge = open('n', big);
  t.equal(await small, undefined, "the neighbour's small request is decided");
  t.equal(await neighbourLarge, undefined, "the neighbour's large request is decided");
  const neighbourAt = order.indexOf('n:large');
  await Promise.all(heavy);
  t.same([...turnsSeen], [1], 'a large body is described in the heavy turn, one at a time');
  t.ok(mostHooks > 1, `the describe hooks (stores) wait outside it (${mostHooks} at once; one at a time before)`);
  t.equal(neighbourAt, order.indexOf('n:small') === 0 ? 1 : 0, `the neighbour's large request did not wait for the hooks of the agent whose store is slow (${order.join(' ')})`);
  // The body's readers of second targets (a bulk's lines, a batch's calls) parse it whole too.
  const heavyGate = (pipeline as unknown as { heavy: { run: (...a: unknown[]) => Promise<unknown> } }).heavy;
  const run = heavyGate.run.bind(heavyGate);
  let turns = 0;
  heavyGate.run = (...a: unknown[]) => (turns++, run(...a));
  const lines = Buffer.from('{"index":{"_index":"a"}}\n{"f":1}\n'.repeat(1200));
  const bulk = new Exchange({ method: 'POST', url: 'http://api.example.test/a/_bulk', httpVersion: '1.1', httpVersionMinor: 1, headers: { host: 'api.example.test', 'proxy-authorization': basic('n', 'good'), 'content-type': 'application/x-ndjson' }, rawHeaders: ['host', 'api.example.test', 'proxy-authorization', basic('n', 'good'), 'content-type', 'application/x-ndjson'] }, undefined, false);
  await pipeline.open(bulk, async () => ({ captured: lines, truncated: false }));
  t.equal(turns, 3, 'a large bulk body: described, serialized and read for second targets in heavy turns');
  // Twenty-second pass: a smaller body of many fields is described in a heavy turn too (a 25 KB
  // form of 4,500 short fields took ~70 ms to describe, four at a time per agent outside the turn).
  turns = 0;
  const form = Buffer.from(Array.from({ length: 4500 }, (_, i) => `${i.toString(36)}=1`).join('&'));
  t.ok(form.length < 32 * 1024, `the form is ${form.length} bytes`);
  t.equal(await open('n', form, { 'content-type': 'application/x-www-form-urlencoded' }), undefined, 'a form of 4,500 fields is decided');
  t.ok(turns >= 1, `in a heavy turn (${turns})`);
  turns = 0;
  t.equal(await open('n', Buffer.from('x'.repeat(form.length)), { 'content-type': 'text/plain' }), undefined, 'control: text of the same size is decided');
  t.equal(turns, 0, 'at once');
  turns = 0;
  await open('n', Buffer.from(Array.from({ length: 500 }, (_, i) => `f${i}=1`).join('&')), { 'content-type': 'application/x-www-form-urlencoded' });
  t.equal(turns, 0, 'control: a form of 500 fields at once');
});
