// GraphQL bodies a server reads differently from the way they first look: a duplicate `query` or
// `operationName` key (first-wins parsers run the other one, also when the key is spelled with
// \u escapes or sits in a batch member), a body on a GET (run as a POST under a method override,
// or read by servers that read any method's body), a body under a content coding or a UTF-16/32
// charset, JSON sent as application/graphql, a form that does not start with a name or that Rack 2
// splits on `;`, multipart form fields, an operationName or query in the URL that a server takes over
// the body's. Property: whatever the arrangement, a request that may run a deleting mutation is
// held as that deletion (critical), never allowed as the harmless query beside it nor held as
// merely "unreadable".
import { createHash } from 'node:crypto';
import zlib from 'node:zlib';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { PolicyEngine } from '../../engine/engine.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';

await loadAdapters();
const engine = new PolicyEngine({ mode: 'inline', timeoutMs: 10_000 });
t.teardown(() => engine.close());
await engine.loadFolder(path.join(projectRoot, 'rego'));

const G = 'https://api.github.com/graphql';
const mutation = fc.constantFrom(
  ['deleteRef', 'mutation { deleteRef(input: {refId: "R_1"}) { clientMutationId } }'],
  ['deleteIssue', 'mutation Tidy { x: deleteIssue(input: {issueId: "I_1"}) { clientMutationId } }'],
  ['deleteBranchProtectionRule', 'mutation { ...F } fragment F on Mutation { deleteBranchProtectionRule(input: {branchProtectionRuleId: "B"}) { clientMutationId } }'],
);
const harmless = fc.constantFrom('{ viewer { login } }', 'query Q { rateLimit { remaining } }');
const esc = (s: string): string => JSON.stringify(s).slice(1, -1);
/** The harmless query as operation A (or its own name) and the mutation as operation B, in one document. */
const twoOps = (m: string, q: string): string => `${q.startsWith('{') ? `query A ${q}` : q} ${m.replace(/^mutation( \w+)?/, 'mutation B')}`;
const opA = (q: string): string => (q.startsWith('{') ? 'A' : 'Q');

interface Req { method: string; url: string; headers: Array<[string, string]>; body: Buffer }
const json = (text: string, type = 'application/json'): Pick<Req, 'headers' | 'body'> => ({ headers: [['content-type', type]], body: Buffer.from(text) });

const multipart = (fields: Array<[string, string]>): string => `${fields.map(([n, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n`).join('')}--XyZ--\r\n`;

const arrangement = fc.constantFrom<(m: string, q: string) => Req>(
  // Duplicate keys: JSON.parse keeps the last, first-wins parsers the first.
  (m, q) => ({ method: 'POST', url: G, ...json(`{"query":"${esc(m)}","query":"${esc(q)}"}`) }),
  (m, q) => ({ method: 'POST', url: G, ...json(`{"query":"${esc(m)}","\\u0071uery":"${esc(q)}"}`) }),
  (m, q) => ({ method: 'POST', url: G, ...json(`[{"query":"${esc(q)}"},{"query":"${esc(m)}","query":"${esc(q)}"}]`) }),
  (m, q) => ({ method: 'POST', url: G, ...json(`{"query":"${esc(`${q.startsWith('{') ? `query A ${q}` : q} ${m.replace(/^mutation( \w+)?/, 'mutation B')}`)}","operationName":"B","operationName":"${q.startsWith('{') ? 'A' : 'Q'}"}`) }),
  // URL and body parameters mixed (express-graphql takes each from the URL first, Rails from the body).
  (m, q) => ({ method: 'POST', url: `${G}?operationName=B`, ...json(JSON.stringify({ query: `${q.startsWith('{') ? `query A ${q}` : q} ${m.replace(/^mutation( \w+)?/, 'mutation B')}`, operationName: q.startsWith('{') ? 'A' : 'Q' })) }),
  (m, q) => ({ method: 'POST', url: `${G}?query=${encodeURIComponent(`${q.startsWith('{') ? `query A ${q}` : q} ${m.replace(/^mutation( \w+)?/, 'mutation B')}`)}&operationName=${q.startsWith('{') ? 'A' : 'Q'}`, ...json('{"operationName":"B"}') }),
  // A body on a GET whose URL carries the harmless query.
  (m, q) => ({ method: 'GET', url: `${G}?query=${encodeURIComponent(q)}`, ...json(JSON.stringify({ query: m })) }),
  (m, q) => {
    const r = json(JSON.stringify({ query: m }));
    return { method: 'GET', url: `${G}?query=${encodeURIComponent(q)}`, headers: [...r.headers, ['X-HTTP-Method-Override', 'POST']], body: r.body };
  },
  // Codings and charsets the server undoes before it reads JSON.
  (m) => ({ method: 'POST', url: G, headers: [['content-type', 'application/json'], ['content-encoding', 'gzip']], body: zlib.gzipSync(JSON.stringify({ query: m })) }),
  (m) => ({ method: 'POST', url: G, headers: [['content-type', 'application/json'], ['content-encoding', 'deflate']], body: zlib.deflateSync(JSON.stringify({ query: m })) }),
  (m) => ({ method: 'POST', url: G, headers: [['content-type', 'application/json; charset=utf-16le']], body: Buffer.from(JSON.stringify({ query: m }), 'utf16le') }),
  (m) => ({ method: 'POST', url: G, headers: [['content-type', 'application/json']], body: Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(JSON.stringify({ query: m }), 'utf16le').swap16()]) }),
  // JSON under the bare-document type; forms that do not start with a plain name.
  (m) => ({ method: 'POST', url: G, ...json(JSON.stringify({ query: m }), 'application/graphql') }),
  (m) => ({ method: 'POST', url: G, ...json(`&query=${encodeURIComponent(m)}`, 'application/x-www-form-urlencoded') }),
  (m) => ({ method: 'POST', url: G, ...json(`%71uery=${encodeURIComponent(m)}`, 'application/x-www-form-urlencoded') }),
  (m, q) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(q)}&x=1;query=${encodeURIComponent(m)}`, 'application/x-www-form-urlencoded') }), // Rack 2 splits on `;`
  // multipart/form-data: a `query` field (Rails reads form fields from it) or an `operations` field (uploads).
  (m) => ({ method: 'POST', url: G, ...json(multipart([['query', m]]), 'multipart/form-data; boundary=XyZ') }),
  (m) => ({ method: 'POST', url: G, ...json(`a preamble parsers skip\r\n${multipart([['query', m]])}`, 'multipart/form-data; boundary=XyZ') }),
  (m) => ({ method: 'POST', url: G, headers: [['content-type', 'text/plain'], ['content-type', 'multipart/form-data; boundary=XyZ']], body: Buffer.from(multipart([['query', m]])) }),
  (m) => ({ method: 'POST', url: G, ...json(multipart([['operations', JSON.stringify({ query: m, variables: { file: null } })], ['map', '{"0":["variables.file"]}']]), 'multipart/form-data; boundary=XyZ') }),
  // A repeated operationName: Rack (Rails, GitHub) runs the last, the harmless first one is a decoy
  // (form, Rack 2's `[operationName]`, multipart, the URL, also past five repeats of the decoy).
  (m, q) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(twoOps(m, q))}&operationName=${opA(q)}&operationName=B`, 'application/x-www-form-urlencoded') }),
  (m, q) => ({ method: 'POST', url: G, headers: [], body: Buffer.from(`query=${encodeURIComponent(twoOps(m, q))}&operationName=${opA(q)}&[operationName]=B`) }),
  (m, q) => ({ method: 'POST', url: G, ...json(multipart([['query', twoOps(m, q)], ['operationName', opA(q)], ['operationName', 'B']]), 'multipart/form-data; boundary=XyZ') }),
  (m, q) => ({ method: 'GET', url: `${G}?query=${encodeURIComponent(twoOps(m, q))}${`&operationName=${opA(q)}`.repeat(6)}&operationName=B`, headers: [], body: Buffer.alloc(0) }),
  // Rack 2 splits the URL's query (and a form) on `;`: the second `query` is the one it runs.
  (m, q) => ({ method: 'GET', url: `${G}?query=${encodeURIComponent(q)};query=${encodeURIComponent(m)}`, headers: [], body: Buffer.alloc(0) }),
  (m, q) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(q)};query=${encodeURIComponent(m)}`, 'application/x-www-form-urlencoded') }),
  // (Ninth pass) The URL's parameters under the names PHP and Rack 2 read as them: ` query`,
  // `query%00x`, `[query]`, `query[]`, a second `[operationName]` naming the mutation.
  (m) => ({ method: 'GET', url: `${G}?%20query=${encodeURIComponent(m)}`, headers: [], body: Buffer.alloc(0) }),
  (m) => ({ method: 'GET', url: `${G}?%5Bquery%5D=${encodeURIComponent(m)}`, headers: [], body: Buffer.alloc(0) }),
  (m, q) => ({ method: 'GET', url: `${G}?query=${encodeURIComponent(q)}&query%00x=${encodeURIComponent(m)}`, headers: [], body: Buffer.alloc(0) }),
  (m, q) => ({ method: 'GET', url: `${G}?query=${encodeURIComponent(twoOps(m, q))}&operationName=${opA(q)}&%5BoperationName%5D=B`, headers: [], body: Buffer.alloc(0) }),
  (m, q) => ({ method: 'POST', url: `${G}?%20operationName=B`, ...json(JSON.stringify({ query: twoOps(m, q), operationName: opA(q) })) }),
  // (Ninth pass) A multipart part named the RFC 2231 way (`name*=UTF-8''query`, Werkzeug, Django and
  // busboy take it for `query`; `name*0*`/`name*1` continuations), beside a plain decoy `query`, or
  // the first of two `name=` parameters (Python's email package).
  (m, q) => ({ method: 'POST', url: G, headers: [['content-type', 'multipart/form-data; boundary=XyZ']], body: Buffer.from(`--XyZ\r\nContent-Disposition: form-data; name="note"; name*=UTF-8''query\r\n\r\n${m}\r\n${multipart([['query', q]])}`) }),
  (m, q) => ({ method: 'POST', url: G, headers: [['content-type', 'multipart/form-data; boundary=XyZ']], body: Buffer.from(`--XyZ\r\nContent-Disposition: form-data; name*0*=utf-8''%71u; name*1=ery\r\n\r\n${m}\r\n${multipart([['query', q]])}`) }),
  (m, q) => ({ method: 'POST', url: G, headers: [['content-type', 'multipart/form-data; boundary=XyZ']], body: Buffer.from(`${multipart([['query', q]]).replace(/--XyZ--\r\n$/, '')}--XyZ\r\nContent-Disposition: form-data; name="query"; name="note"\r\n\r\n${m}\r\n--XyZ--\r\n`) }),
  // (Eleventh pass) graphql-php (Lighthouse, WPGraphQL) lower-cases every key of a form or multipart
  // body, the later of two equal ones kept: `QUERY`, `OperationName` beside the decoy's own.
  (m, q) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(q)}&QUERY=${encodeURIComponent(m)}`, 'application/x-www-form-urlencoded') }),
  (m, q) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(twoOps(m, q))}&operationName=${opA(q)}&OPERATIONNAME=B`, 'application/x-www-form-urlencoded') }),
  (m, q) => ({ method: 'POST', url: G, ...json(multipart([['query', q], ['Query', m]]), 'multipart/form-data; boundary=XyZ') }),
  // (Eleventh pass) Rails' `_json` (how it wraps an array body): graphql-ruby controllers (GitLab's)
  // run `params[:_json]` as a multiplex whatever `query` says, from JSON or Rack's nested form names.
  (m, q) => ({ method: 'POST', url: G, ...json(JSON.stringify({ query: q, _json: [{ query: m }] })) }),
  (m, q) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(q)}&_json[][query]=${encodeURIComponent(m)}`, 'application/x-www-form-urlencoded') }),
  (m) => ({ method: 'POST', url: G, ...json(`_json%5B0%5D%5Bquery%5D=${encodeURIComponent(m)}`, 'application/x-www-form-urlencoded') }),
  // (Eleventh pass) the mutation beside a stored document's id is still judged as the mutation.
  (m) => ({ method: 'POST', url: G, ...json(JSON.stringify({ query: m, documentId: 'd1' })) }),
);

const describe = (r: Req) => describeRequest({ ...r, headers: [['authorization', 'Bearer x'], ...r.headers], bodyTruncated: false }, { agent: { id: 'coder', labels: {} } });

t.test('a deleting mutation is judged as the deletion in every reading of the body', async (t) => {
  await fc.assert(
    fc.asyncProperty(mutation, harmless, arrangement, async ([field, m], q, arrange) => {
      const d = describe(arrange(m, q));
      if (!(d.service?.params as { mutations?: string[] } | undefined)?.mutations?.includes(field)) return false;
      const decision = await engine.decide(d);
      return decision.action === 'approve' && decision.approval?.risk === 'critical';
    }),
    { numRuns: 150 },
  );
  t.pass('150 arrangements held as critical deletions');
});

t.test('controls: the harmless query alone, in the same shapes, is allowed', async (t) => {
  for (const r of [
    { method: 'POST', url: G, ...json(JSON.stringify({ query: '{ viewer { login } }' })) },
    { method: 'GET', url: `${G}?query=${encodeURIComponent('{ viewer { login } }')}`, headers: [], body: Buffer.alloc(0) },
    { method: 'POST', url: G, headers: [['content-type', 'application/json'], ['content-encoding', 'gzip']], body: zlib.gzipSync(JSON.stringify({ query: '{ viewer { login } }' })) },
    { method: 'POST', url: G, ...json(`&query=${encodeURIComponent('{ viewer { login } }')}`, 'application/x-www-form-urlencoded') },
    { method: 'POST', url: G, ...json(multipart([['query', '{ viewer { login } }']]), 'multipart/form-data; boundary=XyZ') },
  ] as Req[]) {
    t.match(await engine.decide(describe(r)), { action: 'allow' }, `${r.method} ${r.headers.map((h) => h[1]).join(' ')}`);
  }
});

t.test('a form of more query fields than a batch holds is unreadable before any is parsed (twenty thousand held the event loop for seconds)', async (t) => {
  const doc = encodeURIComponent('{ viewer { login } }');
  for (const [label, body] of [
    ['query fields', Array.from({ length: 101 }, () => `query=${doc}`).join('&')],
    ["Rails' _json multiplex", Array.from({ length: 101 }, () => `_json[][query]=${doc}`).join('&')],
    ['split on ;', Array.from({ length: 101 }, () => `x=1;query=${doc}`).join('&')],
  ] as const) {
    const d = describe({ method: 'POST', url: G, ...json(body, 'application/x-www-form-urlencoded') });
    t.match(d.graphql, { parsed: false, error: /batch of more than 100/ }, label);
    t.match(await engine.decide(d), { action: 'approve', approval: { risk: 'high' } }, `${label}: held`);
  }
  const hundred = describe({ method: 'POST', url: G, ...json(Array.from({ length: 100 }, () => `query=${doc}`).join('&'), 'application/x-www-form-urlencoded') });
  t.match(hundred.graphql, { parsed: true }, 'a hundred is a batch still read');
});

t.test('variables in the URL count: a force in them makes an updateRef a force push', async (t) => {
  const body = JSON.stringify({ query: 'mutation($input: UpdateRefInput!) { updateRef(input: $input) { clientMutationId } }', variables: { input: { refId: 'R_1', oid: 'a'.repeat(40) } } });
  const plain = describe({ method: 'POST', url: G, ...json(body) });
  t.match(await engine.decide(plain), { action: 'approve', approval: { risk: 'medium' } }, 'control: an ordinary ref update');
  const forced = describe({ method: 'POST', url: `${G}?variables=${encodeURIComponent(JSON.stringify({ input: { refId: 'R_1', oid: 'a'.repeat(40), force: true } }))}`, ...json(body) });
  t.match(await engine.decide(forced), { action: 'approve', rule: 'github.force_push', approval: { risk: 'critical' } });
});

t.test('variables in a form, multipart or URL, repeated or not, count: a zero oid makes an updateRef a deletion', async (t) => {
  const doc = 'mutation($o: GitObjectID!) { updateRef(input: {refId: "R_1", oid: $o}) { clientMutationId } }';
  const vars = (oid: string): string => JSON.stringify({ o: oid });
  const [zero, other] = ['0'.repeat(40), 'a'.repeat(40)];
  const place = fc.constantFrom<(values: string[]) => Req>(
    (v) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(doc)}${v.map((x) => `&variables=${encodeURIComponent(x)}`).join('')}`, 'application/x-www-form-urlencoded') }),
    (v) => ({ method: 'POST', url: G, ...json(multipart([['query', doc], ...v.map((x): [string, string] => ['variables', x])]), 'multipart/form-data; boundary=XyZ') }),
    (v) => ({ method: 'GET', url: `${G}?query=${encodeURIComponent(doc)}${v.map((x) => `&variables=${encodeURIComponent(x)}`).join('')}`, headers: [], body: Buffer.alloc(0) }),
    // (Eleventh pass) Rack's nested form names: `variables[o]=…` is `params[:variables]` to Rails,
    // the variables graphql-ruby runs with (the last value of a repeated one).
    (v) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(doc)}${v.map((x) => `&variables%5Bo%5D=${(JSON.parse(x) as { o: string }).o}`).join('')}`, 'application/x-www-form-urlencoded') }),
    (v) => ({ method: 'POST', url: G, ...json(multipart([['query', doc], ...v.map((x): [string, string] => ['variables[o]', (JSON.parse(x) as { o: string }).o])]), 'multipart/form-data; boundary=XyZ') }),
    (v) => ({ method: 'POST', url: `${G}?${v.map((x) => `variables%5Bo%5D=${(JSON.parse(x) as { o: string }).o}`).join('&')}`, ...json(JSON.stringify({ query: doc })) }),
  );
  await fc.assert(
    fc.asyncProperty(place, fc.nat(3), fc.boolean(), async (arrange, decoys, last) => {
      const values = [...Array(decoys).fill(vars(other)), vars(zero)];
      if (!last) values.reverse();
      const d = describe(arrange(values));
      const decision = await engine.decide(d);
      return d.service?.operation === 'git.delete_ref' && decision.action === 'approve' && decision.approval?.risk === 'critical';
    }),
    { numRuns: 30 },
  );
  const control = describe({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(doc)}&variables=${encodeURIComponent(vars(other))}`, 'application/x-www-form-urlencoded') });
  t.match(await engine.decide(control), { action: 'approve', approval: { risk: 'medium' } }, 'control: a form update to a commit is an ordinary ref update');
});

t.test("a variable's default value counts when the request does not give the variable", async (t) => {
  const zero = '0'.repeat(40);
  const doc = fc.constantFrom(
    `mutation($o: GitObjectID = "${zero}") { updateRef(input: {refId: "R_1", oid: $o}) { clientMutationId } }`,
    `mutation Tidy($i: UpdateRefInput = {refId: "R_1", oid: "${zero}"}) { updateRef(input: $i) { clientMutationId } }`,
    `mutation($r: ID! = "R_1", $o: GitObjectID = "${zero}") { x: updateRef(input: {refId: $r, oid: $o}) { clientMutationId } }`,
  );
  const carry = fc.constantFrom<(d: string) => Req>(
    (d) => ({ method: 'POST', url: G, ...json(JSON.stringify({ query: d })) }),
    (d) => ({ method: 'POST', url: G, ...json(JSON.stringify({ query: d, variables: {} })) }),
    (d) => ({ method: 'POST', url: G, ...json(JSON.stringify({ query: d, variables: { unrelated: 1 } })) }),
    (d) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(d)}`, 'application/x-www-form-urlencoded') }),
  );
  await fc.assert(
    fc.asyncProperty(doc, carry, async (d, c) => {
      const described = describe(c(d));
      const decision = await engine.decide(described);
      return described.service?.operation === 'git.delete_ref' && decision.approval?.risk === 'critical';
    }),
    { numRuns: 20 },
  );
  const given = describe({ method: 'POST', url: G, ...json(JSON.stringify({ query: `mutation($o: GitObjectID = "${zero}") { updateRef(input: {refId: "R_1", oid: $o}) { clientMutationId } }`, variables: { o: 'a'.repeat(40) } })) });
  t.equal(given.service?.operation, 'git.update_ref', 'control: a variable given overrides its default');
});

// (Eleventh pass) graphql-php (Lighthouse, WPGraphQL) runs the document stored under `queryId`,
// `documentId` or `id` (any letter case) instead of a `query` sent beside it; Relay servers take
// `doc_id`, graphql-ruby's OperationStore `operationId`; a server that does not check an APQ hash
// runs what it stored under it. What runs is not in the request: never allowed as the query.
t.test('a query beside the id of a stored document is not judged as that query', async (t) => {
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
  const key = fc.constantFrom('id', 'ID', 'queryId', 'queryid', 'documentId', 'DocumentID', 'doc_id', 'operationId');
  const carry = fc.constantFrom<(q: string, k: string, v: string) => Req>(
    (q, k, v) => ({ method: 'POST', url: G, ...json(JSON.stringify({ query: q, [k]: v })) }),
    (q, k, v) => ({ method: 'POST', url: G, ...json(JSON.stringify([{ query: '{ viewer { id } }' }, { [k]: v, query: q }])) }),
    (q, k, v) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(q)}&${encodeURIComponent(k)}=${v}`, 'application/x-www-form-urlencoded') }),
    (q, k, v) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(q)}&%5B${encodeURIComponent(k)}%5D=${v}`, 'application/x-www-form-urlencoded') }),
    (q, k, v) => ({ method: 'POST', url: G, ...json(multipart([['query', q], [k, v]]), 'multipart/form-data; boundary=XyZ') }),
    (q, _k, v) => ({ method: 'POST', url: G, ...json(JSON.stringify({ query: q, extensions: { persistedQuery: { version: 1, sha256Hash: sha(v) } } })) }),
    (q, _k, v) => ({ method: 'POST', url: G, ...json(`query=${encodeURIComponent(q)}&extensions=${encodeURIComponent(JSON.stringify({ persistedQuery: { version: 1, sha256Hash: sha(v) } }))}`, 'application/x-www-form-urlencoded') }),
  );
  await fc.assert(
    fc.asyncProperty(harmless, key, carry, fc.stringMatching(/^[0-9a-f]{1,12}$/), async (q, k, c, v) => {
      const d = describe(c(q, k, v));
      const decision = await engine.decide(d);
      return d.graphql?.parsed === false && decision.action === 'approve' && (decision.approval?.risk === 'high' || decision.approval?.risk === 'critical');
    }),
    { numRuns: 40 },
  );
  // Controls: an APQ registration (the hash is the query's own) and a query alone are the query.
  for (const q of ['{ viewer { login } }', 'query Q { rateLimit { remaining } }']) {
    const apq = describe({ method: 'POST', url: G, ...json(JSON.stringify({ query: q, extensions: { persistedQuery: { version: 1, sha256Hash: sha(q) } } })) });
    t.match(await engine.decide(apq), { action: 'allow' }, 'control: APQ registration of the query itself');
    const variables = describe({ method: 'POST', url: G, ...json(JSON.stringify({ query: q, variables: { id: 'x' } })) });
    t.match(await engine.decide(variables), { action: 'allow' }, 'control: an `id` among the variables');
  }
});

// (Eleventh pass) A persisted query named by hash or id alone, on a host no module owns: a GET of
// a GraphQL URL with it runs the stored document (graphql-ruby's persisted-query gems run a stored
// mutation over GET), and an APQ hash POSTed to any URL names a document the request does not show.
t.test('a persisted query named by hash or id alone is GraphQL that cannot be read, on any allowed host', async (t) => {
  const hash = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => JSON.stringify({ persistedQuery: { version: 1, sha256Hash: h } }));
  const shape = fc.constantFrom<(ext: string, key: string) => Req>(
    (ext) => ({ method: 'GET', url: `https://api.acme.dev/graphql?extensions=${encodeURIComponent(ext)}`, headers: [], body: Buffer.alloc(0) }),
    (ext) => ({ method: 'GET', url: `https://api.acme.dev/api/v2?operationName=Q&extensions=${encodeURIComponent(ext)}`, headers: [], body: Buffer.alloc(0) }),
    (_ext, key) => ({ method: 'GET', url: `https://api.acme.dev/v1/graphql?${key}=abc123`, headers: [], body: Buffer.alloc(0) }),
    (ext) => ({ method: 'POST', url: 'https://api.acme.dev/api', ...json(`{"operationName":"Q","extensions":${ext}}`) }),
    (ext) => ({ method: 'POST', url: 'https://api.acme.dev/rpc', ...json(`[{"extensions":${ext}}]`) }),
  );
  await fc.assert(
    fc.property(hash, fc.constantFrom('id', 'queryId', 'documentId', 'doc_id', 'DocumentID'), shape, (ext, key, s) => describe(s(ext, key)).graphql?.parsed === false),
    { numRuns: 20 },
  );
  for (const url of ['https://api.acme.dev/graphql', 'https://api.acme.dev/items?id=3', 'https://api.acme.dev/search?extensions=x']) {
    t.equal(describe({ method: 'GET', url, headers: [], body: Buffer.alloc(0) }).graphql, undefined, `control: ${url} is no GraphQL`);
  }
});
