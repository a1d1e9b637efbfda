// Properties of recognize() over hostile input: it never throws, every service it reports has a
// contract effect and an operation, and SQL it could not parse is always marked destructive.
import t from 'tap';
import fc from 'fast-check';
import { adapters, loadAdapters, recognize } from '../../describe/adapters/index.ts';
import { requestOf } from './helpers.ts';

await loadAdapters();

const hosts = [
  'api.github.com', 'github.com', 'uploads.github.com', 'api.stripe.com', 'gmail.googleapis.com', 'www.googleapis.com',
  'slack.com', 'hooks.slack.com', 'abcd.supabase.co', 'api.supabase.com', 'ep-x.neon.tech', 'console.neon.tech',
  'api.cloudflare.com', 'api.openai.com', 'api.anthropic.com', 'db.example.com',
];
const effects = new Set(['read', 'write', 'delete', 'send', 'pay', 'admin']);
const segment = fc.oneof(
  fc.constantFrom('repos', 'v1', 'gmail', 'users', 'me', 'messages', 'send', 'api', 'rest', 'rpc', 'pg', 'query', 'sql', 'git', 'refs', 'info', 'graphql', 'client', 'v4', 'zones', 'contents', '..', '.', '%2F', '%00', 'git-receive-pack', 'chat.postMessage'),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const body = fc.oneof(
  fc.constant(undefined),
  fc.record({ query: fc.oneof(fc.string(), fc.constantFrom('DROP TABLE x', 'select 1', 'mutation { deleteRepository(input: {}) { x } }')) }),
  fc.record({ sql: fc.string() }),
  fc.record({ queries: fc.array(fc.record({ query: fc.string() }), { maxLength: 3 }) }),
  fc.record({ tools: fc.array(fc.record({ type: fc.string() }), { maxLength: 3 }), mcp_servers: fc.anything() }),
  fc.jsonValue(),
);

t.test('recognize never throws and reports only contract effects', async (t) => {
  let services = 0;
  fc.assert(
    fc.property(
      fc.constantFrom('GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE', 'PURGE', 'PROPFIND'),
      fc.constantFrom(...hosts),
      fc.array(segment, { maxLength: 8 }),
      fc.string({ maxLength: 20 }),
      body,
      (method, host, segs, query, json) => {
        const url = `https://${host}/${segs.join('/')}?${encodeURIComponent(query)}=1&service=git-receive-pack`;
        const r = recognize(requestOf({ method, url, json }));
        if (r.service) {
          services++;
          if (!effects.has(r.service.effect)) throw new Error(`bad effect ${r.service.effect} for ${method} ${url}`);
          if (typeof r.service.operation !== 'string' || !r.service.operation) throw new Error('no operation');
        }
        if (r.sql && !r.sql.parsed && !r.sql.destructive) throw new Error('unparsed SQL must be destructive');
      },
    ),
    { numRuns: 1500, seed: 10 },
  );
  t.ok(services > 500, `services recognized in ${services} runs`);
});

t.test('every adapter is listed once, with git (any host) last', async (t) => {
  const names = adapters.map((a) => a.name);
  t.equal(new Set(names).size, names.length);
  t.equal(names.at(-1), 'git');
});

t.test('a Gmail batch is its most dangerous call; a call it cannot read makes it admin', async (t) => {
  const rank: Record<string, number> = { read: 0, write: 1, send: 2, delete: 3, pay: 3, admin: 3 };
  const calls = [
    'GET /gmail/v1/users/me/messages/18c', 'GET /gmail/v1/users/me/threads?q=x', 'POST /gmail/v1/users/me/messages/18c/trash',
    'POST /gmail/v1/users/me/messages/send', 'DELETE /gmail/v1/users/me/messages/18c', 'PUT /gmail/v1/users/me/settings/autoForwarding',
    'POST /gmail/v1/users/me/drafts', 'PATCH /gmail/v1/users/me/labels/L1',
  ];
  // Calls that cannot be read one way: an override, a dot segment, an escaped slash, another API, an absolute target.
  const unreadable = [
    'POST /gmail/v1/users/me/messages/18c\r\nX-HTTP-Method-Override: DELETE', 'GET /gmail/v1/users/me/messages/%2e%2e/send',
    'GET /gmail/v1/users/me/messages/a%2Fb', 'GET /drive/v3/files', 'GET https://gmail.googleapis.com/gmail/v1/users/me/profile',
    'GET /gmail/v1/users/me/messages/18c?_method=DELETE',
  ];
  const batch = (lines: string[], eol: string): string =>
    `${lines.map((l) => `--b${eol}Content-Type: application/http${eol}${eol}${l.replaceAll('\r\n', eol)}${eol}${eol}`).join('')}--b--${eol}`;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...calls), { minLength: 1, maxLength: 6 }), fc.option(fc.constantFrom(...unreadable)), fc.nat(6), fc.constantFrom('\r\n', '\n'), (lines, bad, at, eol) => {
      const all = bad === null ? lines : [...lines.slice(0, at), bad, ...lines.slice(at)];
      const r = recognize(requestOf({ method: 'POST', url: 'https://gmail.googleapis.com/batch/gmail/v1', text: batch(all, eol), contentType: 'multipart/mixed; boundary=b' }));
      if (bad !== null) return r.service?.effect === 'admin';
      const worst = Math.max(...lines.map((l) => {
        const [method, target] = l.split(' ');
        return rank[recognize(requestOf({ method: method!, url: `https://gmail.googleapis.com${target}` })).service!.effect]!;
      }));
      return r.service?.operation === 'batch' && rank[r.service.effect] === worst;
    }),
    { numRuns: 300 },
  );
});

// PostgREST's `not.` negates any operator, and pg_graphql's `not: {…}` any condition: the filter
// then names the rows spared, as SQL's `NOT LIKE` and `NOT (…)` do (adapters/sql.ts), so an update
// or delete filtered only so touches every row. A negated range (`not.gt.5`) is a range of its own.
t.test('a negated PostgREST or pg_graphql filter names the rows spared: every row is touched', async (t) => {
  const { describeRequest } = await import('../../describe/describe.ts');
  const base = 'https://abcdefghijklmnopqrst.supabase.co';
  const describe = (method: string, url: string, body?: unknown) =>
    describeRequest({ method, url, headers: [['content-type', 'application/json'], ['apikey', 'x']], body: Buffer.from(body === undefined ? '' : JSON.stringify(body)), bodyTruncated: false }, { agent: { id: 'a', labels: {} } });
  const negated = fc.constantFrom('eq.7', 'in.(7,8)', 'like.abc*', 'ilike.*zzz*', 'match.^a', 'imatch.^a', 'fts.word', 'plfts.word', 'cs.{a}', 'cd.{a}', 'ov.{a}', 'is.true', 'is.null', 'isdistinct.7');
  const range = fc.constantFrom('gt.5', 'gte.5', 'lt.5', 'lte.5');
  const col = fc.constantFrom('id', 'name', 'tags');
  const place = fc.constantFrom<(c: string, cond: string) => string>(
    (c, cond) => `${c}=not.${cond}`,
    (c, cond) => `or=(${c}.not.${cond})`,
    (c, cond) => `and=(${c}.not.${cond},${c}.not.${cond})`,
    (c, cond) => `or=(id.eq.1,not.and(${c}.${cond}))`,
    (c, cond) => `not.or=(${c}.${cond})`,
    // A quoted value with an escaped quote (PostgREST reads `\"` inside quotes as a quote) before the branch.
    (c, cond) => `or=${encodeURIComponent(`(name.eq."a\\",b",${c}.not.${cond})`)}`,
    // A `(` inside an unquoted value is text to PostgREST (`name.eq.a(b` is one value).
    (c, cond) => `or=${encodeURIComponent(`(name.eq.a(b,${c}.not.${cond})`)}`,
  );
  fc.assert(
    fc.property(fc.constantFrom('PATCH', 'DELETE'), col, negated, place, (m, c, cond, p) =>
      describe(m, `${base}/rest/v1/todos?${p(c, cond)}`, m === 'PATCH' ? { done: true } : undefined).service?.params.all_rows === true),
    { numRuns: 80 },
  );
  fc.assert(
    fc.property(col, range, (c, cond) => describe('PATCH', `${base}/rest/v1/todos?${c}=not.${cond}`, { done: true }).service?.params.all_rows !== true),
    { numRuns: 12 },
  );
  // Fourteenth pass: PostgREST's operator modifiers (`like(any).{abc*,*}`: LIKE ANY of a pattern
  // list) and `cs.{}` (every array contains the empty one) hold for every row too; a list of
  // narrowing patterns, `like(all)` with one, and `cd.{}` do not.
  const anyAll = fc.constantFrom('like(any).{abc*,*}', 'ilike(any).{%25}', 'like(all).{*,%25}', 'match(any).{^a,^}', 'imatch(all).{.*}', 'cs.{}', 'cs.[]', 'like(any).{"x,y",*}');
  fc.assert(
    fc.property(fc.constantFrom('PATCH', 'DELETE'), col, anyAll, fc.constantFrom((c: string, v: string) => `${c}=${v}`, (c: string, v: string) => `or=(${c}.${v})`),
      (m, c, v, p) => describe(m, `${base}/rest/v1/todos?${p(c, v)}`, m === 'PATCH' ? { done: true } : undefined).service?.params.all_rows === true),
    { numRuns: 24 },
  );
  for (const v of ['like(any).{abc*,x*}', 'like(all).{abc*,*}', 'match(any).{^a}', 'cd.{}', 'cs.{a}', 'eq(any).{1,5}']) {
    t.not(describe('PATCH', `${base}/rest/v1/todos?name=${v}`, { done: true }).service?.params.all_rows, true, `${v} names its rows`);
  }
  const gql = (filter: string) => describe('POST', `${base}/graphql/v1`, { query: `mutation { updateTodosCollection(set: {done: true}, filter: ${filter}) { affectedCount } }` }).service?.params.all_rows === true;
  for (const f of ['{not: {id: {eq: 1}}}', '{not: {name: {like: "abc%"}}}', '{not: {and: [{id: {eq: 1}}]}}', '{not: {id: {in: [1, 2]}, name: {ilike: "x"}}}']) t.ok(gql(f), `pg_graphql ${f} touches every row`);
  for (const f of ['{id: {eq: 1}}', '{not: {id: {gt: 100}}}']) t.notOk(gql(f), `pg_graphql ${f} names its rows`);
  // Fourteenth pass: patterns every string matches, an array containing the empty one, an empty
  // `and`/`or` (pg_graphql's own tests return every row for `{AND: []}` and `{OR: []}`), and the
  // compound filters' names before 1.0 (`AND`, `OR`, `NOT`), alone or inside another.
  const everyRow = fc.constantFrom('{name: {startsWith: ""}}', '{name: {regex: ".*"}}', '{name: {iregex: "^"}}', '{tags: {contains: []}}', '{and: []}', '{or: []}', '{AND: []}', '{OR: []}', '{NOT: {id: {eq: 1}}}', '{OR: [{id: {eq: 1}}, {id: {neq: 1}}]}');
  fc.assert(fc.property(everyRow, fc.constantFrom((f: string) => f, (f: string) => `{and: [${f}]}`, (f: string) => `{or: [{id: {eq: 7}}, ${f}]}`), (f, wrap) => gql(wrap(f))), { numRuns: 20 });
  for (const f of ['{name: {startsWith: "a"}}', '{name: {regex: "^a"}}', '{tags: {contains: ["a"]}}', '{AND: [{id: {eq: 1}}]}', '{NOT: {id: {gt: 100}}}']) t.notOk(gql(f), `pg_graphql ${f} names its rows`);
});

// (Eleventh pass) Supabase Storage and pg-meta are Fastify services: its default Ajv
// (`coerceTypes: 'array'`) reads `1`, `[true]` as true and `0`, `null`, `["false"]` as false before
// the handler runs. Fastify itself is the oracle: whatever it hands the handler decides the risk.
t.test('a boolean a Fastify service coerces is judged as the boolean it becomes', async (t) => {
  const { default: Fastify } = await import('fastify');
  const { describeRequest } = await import('../../describe/describe.ts');
  const app = Fastify();
  const fields = ['public', 'rls_enabled', 'rls_forced', 'security_definer'] as const;
  app.post('/echo', { schema: { body: { type: 'object', properties: Object.fromEntries(fields.map((f) => [f, { type: 'boolean' }])) } } }, async (req) => req.body);
  await app.ready();
  t.teardown(() => app.close());
  const base = 'https://abcdefghijklmnopqrst.supabase.co';
  const cases = {
    public: { method: 'POST', path: '/storage/v1/bucket', extra: { name: 'exports' }, admin: true },
    rls_enabled: { method: 'PATCH', path: '/pg/tables/16415', extra: {}, admin: false },
    rls_forced: { method: 'PATCH', path: '/pg/tables/16415', extra: {}, admin: false },
    security_definer: { method: 'PATCH', path: '/pg/functions/16500', extra: {}, admin: true },
  } as const;
  const value = fc.oneof(
    fc.constantFrom<unknown>(true, false, 1, 0, null, 'true', 'false', '1', '0', 'TRUE', '', [true], [false], [1], [0], ['true'], ['false'], [null], [true, true], 2, -1, 1.5, {}),
    fc.jsonValue({ maxDepth: 1 }),
  );
  let checked = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...fields), value, async (field, v) => {
      const res = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ [field]: v }) });
      if (res.statusCode !== 200) return true; // refused by the service: nothing runs
      const read = (res.json() as Record<string, unknown>)[field];
      const c = cases[field];
      const d = describeRequest({ method: c.method, url: `${base}${c.path}`, headers: [['content-type', 'application/json'], ['apikey', 'x']], body: Buffer.from(JSON.stringify({ ...c.extra, [field]: v })), bodyTruncated: false }, { agent: { id: 'a', labels: {} } });
      checked++;
      // Admin exactly when the service reads the dangerous value (a function PATCH is a delete otherwise).
      return (d.service?.effect === 'admin') === (read === c.admin);
    }),
    { numRuns: 60 },
  );
  t.ok(checked > 10, `${checked} values the service took, judged as it reads them`);
});
