// The credential enforcer on its own: directives applied to the outgoing request, placeholders
// substituted only for named secrets, unbound placeholders refused, responses scrubbed.
import { Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { SecretStore, newPlaceholder } from '../../state/secrets/store.ts';
import { CredentialEnforcer, CredentialGuard } from '../../proxy/credentials.ts';
import { LiveSecrets } from '../../proxy/live-secrets.ts';
import { describeRequest } from '../../describe/describe.ts';
import type { RequestContext } from '../../proxy/enforcers.ts';
import type { CredentialDirective, EngineDecision } from '../../engine/decision.ts';

const GH = 'ghp_CANARY_0123456789abcdefXYZ';
const DB = 'postgres-CANARY-pass/+=';
process.env.AIRLOCK_MASTER_KEY = '5a'.repeat(32);

async function setup(t: Test): Promise<{ live: LiveSecrets; enforcer: CredentialEnforcer; gh: string; db: string; home: string }> {
  const home = t.testdir();
  const store = await SecretStore.open(home);
  const gh = (await store.set('github', GH)).placeholder;
  const db = (await store.set('db', DB)).placeholder;
  const live = await LiveSecrets.open(home, { watch: false });
  t.teardown(() => live.close());
  return { live, enforcer: new CredentialEnforcer(live), gh, db, home };
}


function context(live: LiveSecrets, req: { method?: string; url: string; headers?: Array<[string, string]>; body?: string; truncated?: boolean }, credentials: CredentialDirective[]): RequestContext {
  const body = Buffer.from(req.body ?? '');
  const description = describeRequest({ method: req.method ?? 'GET', url: req.url, headers: req.headers ?? [], body, bodyTruncated: req.truncated ?? false }, { agent: { id: 'a', labels: {} }, placeholders: live.finder });
  const decision: EngineDecision = { action: 'allow', reason: 'ok', rule: 'r', credentials, policy_version: 'v', decision_us: 1 };
  return {
    description, decision, audit: {}, signal: new AbortController().signal,
    outgoing: { method: description.request.method, url: new URL(description.request.url), headers: [...(req.headers ?? [])], bodyTransforms: [] },
  };
}

function header(ctx: RequestContext, name: string): string[] {
  return ctx.outgoing.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

async function drain(stream: Transform, input: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    Readable.from(input).pipe(stream).on('data', (d: Buffer) => out.push(d)).on('end', resolve).on('error', reject);
    stream.on('error', reject);
  });
  return Buffer.concat(out);
}

t.test('header, basic and query directives overwrite what the agent sent', async (t) => {
  const { live, enforcer, gh } = await setup(t);
  const ctx = context(live, { url: 'https://api.github.com/user?access_token=agent-value&x=a%20b', headers: [['Authorization', 'token agent-guess'], ['X-Api-Key', 'a'], ['x-api-key', 'b']] }, [
    { secret: 'github', in: 'header', name: 'authorization', format: 'Bearer {}' },
    { secret: 'db', in: 'header', name: 'X-Api-Key' },
    { secret: 'github', in: 'query', name: 'access_token' },
  ]);
  t.equal(await enforcer.beforeForward(ctx), undefined);
  t.same(header(ctx, 'authorization'), [`Bearer ${GH}`]);
  t.same(header(ctx, 'x-api-key'), [DB]);
  t.equal(ctx.outgoing.url.search, `?x=a%20b&access_token=${encodeURIComponent(GH)}`, 'other query params kept byte for byte');
  t.match(ctx.audit, { credentials: { injected: [{ secret: 'github', in: 'header' }, { secret: 'db' }, { secret: 'github', in: 'query' }], destination: 'https://api.github.com:443' } });
  t.notOk(JSON.stringify(ctx.audit).includes(GH), 'audit has names only');
  t.notOk(JSON.stringify(ctx.description).includes(GH), 'description never sees the value');
  void gh;

  const basic = context(live, { url: 'https://git.example.com/repo.git/info/refs' }, [{ secret: 'github', in: 'basic', name: 'x-access-token' }]);
  t.equal(await enforcer.beforeForward(basic), undefined);
  t.same(header(basic, 'authorization'), [`Basic ${Buffer.from(`x-access-token:${GH}`).toString('base64')}`]);
  const stripe = context(live, { url: 'https://api.stripe.com/v1/charges' }, [{ secret: 'db', in: 'basic', format: '{}:' }]);
  await enforcer.beforeForward(stripe);
  t.same(header(stripe, 'authorization'), [`Basic ${Buffer.from(`${DB}:`).toString('base64')}`]);
});

t.test("a credential of the agent's own beside an injected one is taken out: the request authenticates as the decision named", async (t) => {
  const { live, enforcer } = await setup(t);
  // Anthropic takes x-api-key (injected) and also an Authorization bearer: which one it reads is
  // its choice, and an attacker's key would run the user's prompt on the attacker's account.
  const credentialHeaders = ['Authorization', 'X-Api-Key', 'Api-Key', 'apikey', 'X-Auth-Token', 'Private-Token', 'X-Access-Token', 'X-Goog-Api-Key', 'X-GitHub-Token', 'X-Hasura-Admin-Secret', 'Cookie'];
  const credentialParams = ['access_token', 'api_key', 'apikey', 'api-key', 'private_token', 'auth_token', 'token'];
  const spellings = [(n: string) => n, (n: string) => n.toUpperCase(), (n: string) => n.toLowerCase().replaceAll('-', '_'), (n: string) => n.replaceAll('-', '.')];
  const ATTACKER = 'sk-ant-ATTACKER0123456789';
  await fc.assert(fc.asyncProperty(
    fc.subarray(credentialHeaders, { minLength: 1 }), fc.nat(spellings.length - 1),
    fc.subarray(credentialParams), fc.boolean(), fc.constantFrom('x-api-key', 'authorization'),
    async (names, spelling, params, upperParams, slot) => {
      const headers: Array<[string, string]> = [['X-Trace', '1'], ...names.map((n, i): [string, string] => [spellings[spelling]!(n), `Bearer ${ATTACKER}${i}`])];
      const query = ['q=1', ...params.map((p) => `${upperParams ? p.toUpperCase() : p}=${ATTACKER}`)].join('&');
      const ctx = context(live, { url: `https://api.anthropic.com/v1/messages?${query}`, headers }, [{ secret: 'db', in: 'header', name: slot, format: slot === 'authorization' ? 'Bearer {}' : '{}' }]);
      t.equal(await enforcer.beforeForward(ctx), undefined);
      const sent = JSON.stringify([ctx.outgoing.headers, ctx.outgoing.url.href]);
      if (sent.includes('ATTACKER')) throw new Error(`the agent's credential left: ${sent}`);
      t.same(header(ctx, slot), [slot === 'authorization' ? `Bearer ${DB}` : DB]);
      t.same(header(ctx, 'x-trace'), ['1'], 'other headers stay');
      t.equal(ctx.outgoing.url.searchParams.get('q'), '1', 'other parameters stay');
      const removed = (ctx.audit.credentials as { agent_credentials_removed?: string[] }).agent_credentials_removed ?? [];
      const agentSlotCopies = names.filter((n) => spellings[spelling]!(n).toLowerCase() === slot).length;
      t.equal(removed.length, names.length - agentSlotCopies + params.length, 'each one named in the audit record');
    },
  ), { numRuns: 25 });
  // A credential injected as a cookie keeps the Cookie header it wrote (and only that one).
  const asCookie = context(live, { url: 'https://grafana.example/api/search', headers: [['Cookie', 'grafana_session=ATTACKER'], ['Authorization', 'Bearer ATTACKER']] }, [{ secret: 'db', in: 'header', name: 'cookie', format: 'grafana_session={}' }]);
  t.equal(await enforcer.beforeForward(asCookie), undefined);
  t.same(asCookie.outgoing.headers.filter(([n]) => /^(cookie|authorization)$/i.test(n)).map(([n, v]) => `${n.toLowerCase()}: ${v}`), [`cookie: grafana_session=${DB}`]);
  // Without an injection nothing is taken: the agent's own credential to a host Airlock injects nothing into is its business.
  const plain = context(live, { url: 'https://example.com/?token=mine', headers: [['Authorization', 'Bearer mine']] }, []);
  t.equal(await enforcer.beforeForward(plain), undefined);
  t.same(plain.outgoing.headers, [['Authorization', 'Bearer mine']]);
  t.equal(plain.outgoing.url.search, '?token=mine');
});

t.test("a credential of the agent's own in the body of a request Airlock injects into is refused: the service may authenticate by it", async (t) => {
  const { live, enforcer, db } = await setup(t);
  // Slack's Web API takes the form's (or multipart's) `token` as well as the Authorization header:
  // an attacker's token there would post the user's data into the attacker's workspace.
  const names = ['token', 'access_token', 'api_key', 'apikey', 'api-key', 'private_token', 'auth_token'];
  const spell = [(n: string) => n, (n: string) => n.toUpperCase(), (n: string) => `${n}[]`];
  const bodies = {
    form: (name: string, v: string) => ({ type: 'application/x-www-form-urlencoded', body: `channel=C1&${encodeURIComponent(name)}=${encodeURIComponent(v)}&text=hi` }),
    json: (name: string, v: string) => ({ type: 'application/json', body: JSON.stringify({ channel: 'C1', [name]: v, text: 'hi' }) }),
    multipart: (name: string, v: string) => ({ type: 'multipart/form-data; boundary=XyZ', body: `--XyZ\r\nContent-Disposition: form-data; name="channels"\r\n\r\nC1\r\n--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${v}\r\n--XyZ--\r\n` }),
  };
  const slots: CredentialDirective[][] = [
    [{ secret: 'db', in: 'header', name: 'authorization', format: 'Bearer {}' }],
    [{ secret: 'db', in: 'basic', format: '{}:' }],
    [{ secret: 'db', in: 'query', name: 'key' }],
  ];
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...names), fc.nat(spell.length - 1), fc.constantFrom(...(Object.keys(bodies) as Array<keyof typeof bodies>)), fc.nat(slots.length - 1),
    async (name, s, kind, slot) => {
      const fieldName = kind === 'json' && s === 2 ? name : spell[s]!(name);
      const b = bodies[kind](fieldName, 'xoxb-ATTACKER-0123456789');
      const ctx = context(live, { method: 'POST', url: 'https://slack.com/api/chat.postMessage', headers: [['content-type', b.type]], body: b.body }, slots[slot]!);
      t.match(await enforcer.beforeForward(ctx), { status: 403, type: 'agent-credential-in-body', detail: new RegExp(`"${fieldName.replace(/[[\]]/g, '\\$&')}"`) });
    },
  ), { numRuns: 30 });
  // Fields of other names pass; so does the placeholder of a secret the decision puts in the body.
  for (const kind of Object.keys(bodies) as Array<keyof typeof bodies>) {
    const b = bodies[kind]('tokens_used', '12');
    t.equal(await enforcer.beforeForward(context(live, { method: 'POST', url: 'https://slack.com/api/chat.postMessage', headers: [['content-type', b.type]], body: b.body }, slots[0]!)), undefined, `${kind}: another field`);
    const slotted = bodies[kind]('token', db);
    t.equal(await enforcer.beforeForward(context(live, { method: 'POST', url: 'https://slack.com/api/chat.postMessage', headers: [['content-type', slotted.type]], body: slotted.body }, [{ secret: 'db', in: 'body' }])), undefined, `${kind}: the body slot's placeholder`);
  }
  // Without an injection the agent's own token is its business.
  const own = bodies.form('token', 'xoxb-mine');
  t.equal(await enforcer.beforeForward(context(live, { method: 'POST', url: 'https://slack.com/api/chat.postMessage', headers: [['content-type', own.type]], body: own.body }, [])), undefined);
});

t.test('a placeholder goes only into the slot its directive names; anywhere else the request is refused', async (t) => {
  const { live, enforcer, gh } = await setup(t);
  const inHeader = [{ secret: 'github', in: 'header' as const, name: 'x-other', format: '{}' }];
  // Everywhere but the slot: refused with the placeholder rule's problem, nothing injected.
  const elsewhere: Array<[string, Parameters<typeof context>[1]]> = [
    ['inside a Basic pair of another header', { url: 'https://api.github.com/', headers: [['Authorization', `Basic ${Buffer.from(`x-access-token:${gh}`).toString('base64')}`]] }],
    ['another header', { url: 'https://api.github.com/', headers: [['X-Token', `tok ${gh}`]] }],
    ['a header name', { url: 'https://api.github.com/', headers: [[`X-${gh}`, '1']] }],
    ['the path', { url: `https://api.github.com/x/${gh}` }],
    ['the query', { url: `https://api.github.com/x?t=${gh}` }],
    ['a query name', { url: `https://api.github.com/x?${gh}=1` }],
    ['the body', { method: 'POST', url: 'https://api.github.com/', headers: [['content-type', 'text/plain']], body: `note ${gh}` }],
  ];
  for (const [where, req] of elsewhere) {
    const ctx = context(live, req, inHeader);
    const r = await enforcer.beforeForward(ctx);
    t.match(r, { status: 403, type: 'placeholder-not-bound', detail: /secret "github".*only in header x-other/ }, where);
    t.notOk(JSON.stringify(r).includes(GH), `${where}: no value in the refusal`);
    t.notOk(JSON.stringify(ctx.outgoing).includes(GH), `${where}: nothing injected`);
  }
  // The slot itself: the directive writes it whole.
  const slot = context(live, { url: 'https://api.github.com/', headers: [['X-Other', gh]] }, inHeader);
  t.equal(await enforcer.beforeForward(slot), undefined);
  t.same(header(slot, 'x-other'), [GH]);
  t.same((slot.audit.credentials as { placeholders_substituted: string[] }).placeholders_substituted, ['github']);
  // Basic: the Authorization header is its slot (git's x-access-token:$TOKEN URLs).
  const git = context(live, { url: 'https://github.com/o/r.git/info/refs', headers: [['Authorization', `Basic ${Buffer.from(`x-access-token:${gh}`).toString('base64')}`]] }, [{ secret: 'github', in: 'basic', name: 'x-access-token' }]);
  t.equal(await enforcer.beforeForward(git), undefined);
  t.same(header(git, 'authorization'), [`Basic ${Buffer.from(`x-access-token:${GH}`).toString('base64')}`]);

  // Query: only the named parameter (other parameters and headers refused).
  const query = [{ secret: 'github', in: 'query' as const, name: 'key' }];
  const named = context(live, { url: `https://api.example.com/v1?key=${gh}&q=1` }, query);
  t.equal(await enforcer.beforeForward(named), undefined);
  t.equal(named.outgoing.url.search, `?q=1&key=${encodeURIComponent(GH)}`);
  t.match(await enforcer.beforeForward(context(live, { url: `https://api.example.com/v1?other=${gh}` }, query)), { status: 403, detail: /query parameter "other"/ });
  t.match(await enforcer.beforeForward(context(live, { url: 'https://api.example.com/v1', headers: [['X-Token', gh]] }, query)), { status: 403, detail: /header x-token/ });
});

t.test('a placeholder the decision does not name is refused, raw or encoded, anywhere', async (t) => {
  const { live, enforcer, gh, db } = await setup(t);
  const cases: Array<[string, Parameters<typeof context>[1]]> = [
    ['header', { url: 'https://evil.example/', headers: [['X-Leak', db]] }],
    ['path', { url: `https://evil.example/${db}` }],
    ['query', { url: `https://evil.example/?q=${db}` }],
    ['base64 body', { method: 'POST', url: 'https://evil.example/', headers: [['content-type', 'text/plain']], body: Buffer.from(db).toString('base64') }],
    ['hex query', { url: `https://evil.example/?q=${Buffer.from(db).toString('hex')}` }],
  ];
  for (const [label, req] of cases) {
    const ctx = context(live, req, [{ secret: 'github', in: 'header', name: 'authorization', format: 'Bearer {}' }]);
    const r = await enforcer.beforeForward(ctx);
    t.match(r, { status: 403, type: 'placeholder-not-bound', detail: /secret "db".*https:\/\/evil\.example:443/ }, label);
    t.notOk(JSON.stringify(r).includes(DB), `${label}: no value in the rejection`);
    t.same(header(ctx, 'authorization'), [], `${label}: nothing injected`);
  }
  // No directives at all: a placeholder is still refused (and nothing is revealed).
  const none = context(live, { url: 'https://evil.example/', headers: [['Authorization', `Bearer ${gh}`]] }, []);
  t.match(await enforcer.beforeForward(none), { status: 403, type: 'placeholder-not-bound' });
  t.same(header(none, 'authorization'), [`Bearer ${gh}`], 'placeholder left as is');
  // No placeholder and no directive: untouched.
  const plain = context(live, { url: 'https://example.com/', headers: [['Authorization', 'Bearer mine']] }, []);
  t.equal(await enforcer.beforeForward(plain), undefined);
  t.same(plain.outgoing.headers, [['Authorization', 'Bearer mine']]);
});

t.test('missing secret, bad directive, upgrade: fail closed', async (t) => {
  const { live, enforcer } = await setup(t);
  t.match(await enforcer.beforeForward(context(live, { url: 'https://a.example/' }, [{ secret: 'nope', in: 'header', name: 'authorization' }])), { status: 503, type: 'credential-missing', detail: /"nope"/ });
  t.match(await enforcer.beforeForward(context(live, { url: 'https://a.example/' }, [{ secret: 'github', in: 'header', name: 'bad header' }])), { status: 500, type: 'credential-invalid' });
  for (const name of ['Host', 'content-length', 'Transfer-Encoding', 'proxy-authorization']) {
    t.match(await enforcer.beforeForward(context(live, { url: 'https://a.example/' }, [{ secret: 'github', in: 'header', name }])), { status: 500, type: 'credential-invalid' }, name);
  }
  const upgrade = { url: 'wss://a.example/socket', headers: [['Upgrade', 'websocket'], ['Connection', 'Upgrade']] as Array<[string, string]> };
  const ws = context(live, upgrade, [{ secret: 'github', in: 'header', name: 'authorization' }]);
  t.equal(await enforcer.beforeForward(ws), undefined, 'a WebSocket handshake takes a header credential (its messages are scrubbed)');
  t.same(header(ws, 'authorization'), [GH]);
  const wsBody = context(live, upgrade, [{ secret: 'github', in: 'body' }]);
  t.match(await enforcer.beforeForward(wsBody), { status: 403, type: 'credential-upgrade-unsupported' }, 'but never a body credential: frames are not substituted');
});

t.test('body: substituted only with in:"body", split across chunks; unbound placeholder past the capture refused', async (t) => {
  const { live, enforcer, gh, db } = await setup(t);
  const body = `{"token":"${gh}","again":"${gh}"}`;
  const noBody = context(live, { method: 'POST', url: 'https://api.example.com/', body }, [{ secret: 'github', in: 'header', name: 'authorization' }]);
  t.match(await enforcer.beforeForward(noBody), { status: 403, type: 'placeholder-not-bound', detail: /is in the body/ }, 'headers only by default: a placeholder in the body is refused');

  const withBody = context(live, { method: 'POST', url: 'https://api.example.com/', body }, [{ secret: 'github', in: 'body' }]);
  t.equal(await enforcer.beforeForward(withBody), undefined);
  t.equal(withBody.outgoing.bodyTransforms.length, 1);
  const buf = Buffer.from(body);
  let bad = 0;
  for (let i = 0; i <= buf.length; i++) {
    const ctx = context(live, { method: 'POST', url: 'https://api.example.com/', body }, [{ secret: 'github', in: 'body' }]);
    await enforcer.beforeForward(ctx);
    const out = await drain(ctx.outgoing.bodyTransforms[0]!, [buf.subarray(0, i), buf.subarray(i)]);
    if (out.toString() !== `{"token":"${GH}","again":"${GH}"}`) bad++;
  }
  t.equal(bad, 0, 'substituted at every split');

  // The description only saw a prefix; the rest carries another secret's placeholder.
  const truncated = context(live, { method: 'POST', url: 'https://api.example.com/', body: 'prefix', truncated: true }, [{ secret: 'github', in: 'header', name: 'authorization' }]);
  t.equal(await enforcer.beforeForward(truncated), undefined);
  t.equal(truncated.outgoing.bodyTransforms.length, 1, 'one body guard');
  const leak = Buffer.from(`prefix and then ${Buffer.from(db).toString('base64')}`);
  await t.rejects(drain(truncated.outgoing.bodyTransforms[0]!, [leak.subarray(0, 20), leak.subarray(20)]), /placeholder of secret "db".*upload aborted/);
  // Same when the decision injects nothing at all: every placeholder past the prefix is refused.
  const bare = context(live, { method: 'POST', url: 'https://other.example/', body: 'prefix', truncated: true }, []);
  t.equal(await enforcer.beforeForward(bare), undefined);
  t.equal(bare.outgoing.bodyTransforms.length, 1);
  await t.rejects(drain(bare.outgoing.bodyTransforms[0]!, [Buffer.from(`prefix ${gh.slice(0, 30)}`), Buffer.from(`${gh.slice(30)} end`)]), /placeholder of secret "github"/);
  const clean = context(live, { method: 'POST', url: 'https://other.example/', body: 'prefix', truncated: true }, []);
  await enforcer.beforeForward(clean);
  t.equal((await drain(clean.outgoing.bodyTransforms[0]!, [Buffer.from('prefix and more, no placeholder')])).toString(), 'prefix and more, no placeholder');
});

t.test('responses are scrubbed of every injected secret (headers, body, gzip); others untouched', async (t) => {
  const { live, enforcer, gh } = await setup(t);
  const ctx = context(live, { url: 'https://api.github.com/echo', headers: [['Accept-Encoding', 'gzip, zstd;q=0.9, br']] }, [{ secret: 'github', in: 'header', name: 'authorization', format: 'token {}' }]);
  await enforcer.beforeForward(ctx);
  t.same(header(ctx, 'accept-encoding'), ['gzip, br'], 'only decodable encodings are offered upstream');
  const plain = `you sent: token ${GH}; b64 ${Buffer.from(GH).toString('base64')}; db ${DB}`;
  const head = { statusCode: 200, headers: [['content-encoding', 'gzip'], ['x-echo', GH], ['content-length', '99']] as Array<[string, string]> };
  const transform = enforcer.onResponse(ctx, head);
  t.ok(transform);
  t.same(head.headers, [['x-echo', gh]]);
  const out = (await drain(transform!, [zlib.gzipSync(plain)])).toString();
  t.equal(out, `you sent: token ${gh}; b64 ${gh}; db ${DB}`, 'only the injected secret is scrubbed');

  const unknown = { statusCode: 200, headers: [['content-encoding', 'zstd']] as Array<[string, string]> };
  const withheld = enforcer.onResponse(ctx, unknown);
  t.equal(unknown.statusCode, 502);
  const body = (await drain(withheld!, [Buffer.from(`zstd bytes ${GH}`)])).toString();
  t.match(JSON.parse(body), { type: /response-unscrubbable/ });
  t.notOk(body.includes(GH));

  const untouched = context(live, { url: 'https://example.com/' }, []);
  await enforcer.beforeForward(untouched);
  t.equal(enforcer.onResponse(untouched, { statusCode: 200, headers: [] }), undefined, 'no injection, no scrubbing');
});

t.test('changes to the store are picked up while running', async (t) => {
  const { live, enforcer, home } = await setup(t);
  const store = await SecretStore.open(home);
  const fresh = (await store.set('new-one', 'NEW-CANARY-VALUE')).placeholder;
  const ctx = context(live, { url: 'https://evil.example/', headers: [['X', fresh]] }, []);
  t.match(await enforcer.beforeForward(ctx), { status: 403, type: 'placeholder-not-bound', detail: /"new-one"/ }, 'a placeholder added after start is recognized');
  await store.remove('github');
  t.match(await enforcer.beforeForward(context(live, { url: 'https://a.example/' }, [{ secret: 'github', in: 'header', name: 'authorization' }])), { type: 'credential-missing' });
});

// As `airlock start` runs it: the folder watched, the file not looked at on every request (only
// when the watch reports a change, or once its recheck interval has passed).
t.test('with the folder watched: a secret set or removed by another process is seen without a look per request', async (t) => {
  const { home } = await setup(t);
  const live = await LiveSecrets.open(home, { recheckMs: 60_000 });
  t.teardown(() => live.close());
  const enforcer = new CredentialEnforcer(live);
  const inject = [{ secret: 'github', in: 'header' as const, name: 'authorization' }];
  t.equal(await enforcer.beforeForward(context(live, { url: 'https://a.example/' }, inject)), undefined, 'injected while it exists');
  await (await SecretStore.open(home)).remove('github');
  let refused: unknown;
  for (let i = 0; i < 300 && !refused; i++) {
    refused = await enforcer.beforeForward(context(live, { url: 'https://a.example/' }, inject));
    if (!refused) await new Promise((r) => setTimeout(r, 10));
  }
  t.match(refused, { type: 'credential-missing' }, 'the removal was seen (the watch reported it; the 60 s recheck never came due)');
  const fresh = (await (await SecretStore.open(home)).set('later', 'LATER-CANARY-VALUE')).placeholder;
  let unbound: unknown;
  for (let i = 0; i < 300 && !unbound; i++) {
    unbound = await enforcer.beforeForward(context(live, { url: 'https://evil.example/', headers: [['X', fresh]] }, []));
    if (!unbound) await new Promise((r) => setTimeout(r, 10));
  }
  t.match(unbound, { status: 403, type: 'placeholder-not-bound' }, 'a secret added later is known');
});

t.test('a secret removed while a request is held (between the guard and the injector) is not injected', async (t) => {
  const { live, home } = await setup(t);
  const guard = new CredentialGuard(live);
  const enforcer = new CredentialEnforcer(live, guard);
  const ctx = context(live, { url: 'https://api.github.com/' }, [{ secret: 'github', in: 'header', name: 'authorization' }]);
  t.equal(await guard.beforeForward(ctx), undefined, 'the guard passes it');
  await new Promise((r) => setTimeout(r, 20)); // the approval hold
  await (await SecretStore.open(home)).remove('github');
  t.match(await enforcer.beforeForward(ctx), { type: 'credential-missing' }, 'the injector looks at the store again');
  t.same(header(ctx, 'authorization'), [], 'nothing was injected');
});

t.test('a placeholder in the hostname is refused', async (t) => {
  const { live, enforcer, db } = await setup(t);
  const ctx = context(live, { url: `https://${db}.evil.example/` }, [{ secret: 'github', in: 'header', name: 'authorization' }]);
  t.match(await enforcer.beforeForward(ctx), { status: 403, type: 'placeholder-not-bound', detail: /"db"/ });
});

t.test('a store that turns unreadable while running: injections refused, placeholders still caught', async (t) => {
  const { live, enforcer, home, gh } = await setup(t);
  const file = `${home}/secrets.json`;
  const { writeFileSync, readFileSync } = await import('node:fs');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, '{"version":1,"secrets": broken');
  const r = await enforcer.beforeForward(context(live, { url: 'https://api.github.com/' }, [{ secret: 'github', in: 'header', name: 'authorization' }]));
  // The operator's log names the file; the agent is not told where the state folder is.
  t.match(r, { status: 503, type: 'credential-unavailable', logDetail: /secrets\.json/ });
  t.notMatch(r?.detail, new RegExp(home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the agent\'s answer does not name the state folder');
  t.match(await enforcer.beforeForward(context(live, { url: 'https://evil.example/', headers: [['X', gh]] }, [])), { status: 403, type: 'placeholder-not-bound' });
  t.equal(readFileSync(file, 'utf8'), '{"version":1,"secrets": broken', 'the broken file is left for the operator');
  writeFileSync(file, good);
  const ok = context(live, { url: 'https://api.github.com/' }, [{ secret: 'github', in: 'header', name: 'authorization' }]);
  t.equal(await enforcer.beforeForward(ok), undefined, 'recovers once the file is readable again');
  t.same(header(ok, 'authorization'), [GH]);
});

// Two changes in quick succession (a shared store's notices, two `airlock secret` commands): the
// second reported while the reload for the first is reading. The proxy must end on the second at
// once, not when its recheck comes due.
t.test('a change reported while the previous one is being read is read too', async (t) => {
  const ph = { github: newPlaceholder('github'), later: newPlaceholder('later') } as Record<string, string>;
  let stored: Array<[string, string]> = [['github', 'GH-ONE']];
  let view: Array<[string, string]> = stored;
  let version = 'v0';
  let release: () => void = () => undefined;
  let gate: Promise<void> | undefined;
  const watchers = new Set<() => void>();
  const vault = {
    list: () => view.map(([name]) => ({ name, placeholder: ph[name]!, created: '', updated: '', env: [], hosts: ['a.example'] })),
    has: (name: string) => view.some(([n]) => n === name),
    reveal: (name: string) => view.find(([n]) => n === name)![1],
    unlock: async () => undefined,
    async reload() {
      view = stored; // what the store held when the read began
      await gate;
    },
    version: () => version,
    watch: (fn: () => void) => { watchers.add(fn); return () => watchers.delete(fn); },
  };
  const live = await LiveSecrets.over(vault, { recheckMs: 60_000 });
  t.teardown(() => live.close());
  const change = (next: Array<[string, string]>, v: string): void => {
    stored = next;
    version = v;
    for (const fn of watchers) fn();
  };
  gate = new Promise((r) => (release = r));
  change([['github', 'GH-ONE'], ['later', 'LATER-ONE']], 'v1');
  change([['later', 'LATER-ONE']], 'v2'); // github removed while v1's read is in flight
  release();
  gate = undefined;
  for (let i = 0; i < 100 && live.finder.find(ph.github!).length; i++) {
    await new Promise((r) => setTimeout(r, 5));
    await live.refresh(); // what each request does
  }
  t.notOk(live.finder.find(ph.github!).length, 'the removal reported during the read is seen without waiting for the recheck');
  t.same(live.finder.find(ph.later!), ['later']);
});
