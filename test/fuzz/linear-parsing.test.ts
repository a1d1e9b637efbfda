// Parsers of agent input must be linear. The hand-written scanners that replaced backtracking
// patterns are checked against the patterns they replace (same answers on every small input), and
// the describe step is run over long adversarial inputs of every shape that reaches a scanner
// (GraphQL documents, hosts, paths, JSON/form/text bodies, placeholders' encodings, SQL). A
// quadratic step makes the long cases take hours, which the tap timeout turns into a failure;
// nothing here measures time.
import fc from 'fast-check';
import t from 'tap';
import { globMatch } from '../../lib/glob.ts';
import { jsonUnescaped, trimTrailing } from '../../lib/text.ts';
import { placeholderShapeFinder } from '../../offline/har.ts';
import { dispositionName } from '../../describe/content-disposition.ts';
import { missingColumn } from '../../describe/adapters/sql-sqlite.ts';
import { durationMs } from '../../engine/decision-contract.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest, type RawRequest } from '../../describe/describe.ts';
import { PlaceholderIndex } from '../../describe/placeholders.ts';
import { scanJson } from '../../describe/json-readings.ts';
import { MAX_SQL_STATEMENTS, MAX_SQL_TOKENS, sqlTokenBound } from '../../describe/adapters/sql.ts';

await loadAdapters();
const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

/** The glob → regular expression translation the approvals queue used before (reference semantics). */
function globByRegex(pattern: string, path: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) {
      re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else if (c === '*' && pattern[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`, 's').test(path);
}

t.test('scanners give the answers of the patterns they replace', async (t) => {
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('.', 'a', '/', '='), maxLength: 20 }), (s) => {
    return trimTrailing(s, '.') === s.replace(/\.+$/, '') && trimTrailing(s, '/') === s.replace(/\/+$/, '');
  }), { numRuns, ...seed });
  const globUnit = fc.constantFrom('a', 'b', '/', '*', '**', '?', '.', '\\', '\\*');
  fc.assert(fc.property(fc.array(globUnit, { maxLength: 8 }).map((p) => `/${p.join('')}`), fc.string({ unit: fc.constantFrom('a', 'b', '/', '.', '*', '\\'), maxLength: 12 }).map((p) => `/${p}`), (pattern, path) => {
    return globMatch(pattern, path) === globByRegex(pattern, path);
  }), { numRuns: numRuns * 3, ...seed });
  const headUnit = fc.constantFrom('content-disposition:', 'Content-Disposition: form-data', ';', ' ', 'name=', 'NAME=', '"', '_method', 'x', '\r\n', '\n', 'İ');
  fc.assert(fc.property(fc.array(headUnit, { maxLength: 14 }).map((u) => u.join('')), (head) => {
    const want = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(head)?.[1] ?? /content-disposition:[^\r\n]*;\s*name=([^\s;]+)/i.exec(head)?.[1];
    return dispositionName(head) === want;
  }), { numRuns: numRuns * 3, ...seed });
  const phUnit = fc.constantFrom('airlock-ph-', 'a', '-', '0', 'f', 'g', '.', '0123456789abcdef', '0123456789abcdef0123456789abcdef');
  fc.assert(fc.property(fc.array(phUnit, { maxLength: 12 }).map((u) => u.join('')), (text) => {
    const want = [...new Set([...text.matchAll(/airlock-ph-([A-Za-z0-9_.-]{1,64}?)-[0-9a-f]{32}(?![0-9a-f])/g)].map((m) => m[1]!))];
    return JSON.stringify(placeholderShapeFinder.find(text).sort()) === JSON.stringify(want.sort());
  }), { numRuns: numRuns * 3, ...seed });
  const errUnit = fc.constantFrom('table ', ' has no column named ', 'x', ' ', '\n', 'table');
  fc.assert(fc.property(fc.array(errUnit, { maxLength: 8 }).map((u) => u.join('')), (message) => {
    const want = /^table (.+) has no column named (.+)$/.exec(message);
    const got = missingColumn(message);
    return want === null ? got === null : got !== null && got[1] === want[1] && got[2] === want[2];
  }), { numRuns: numRuns * 3, ...seed });
  const jsonLetters: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  fc.assert(fc.property(fc.string({ unit: fc.constantFrom('\\', 'u', '0', '4', '1', 'a', 'F', 'g', 'n', '"', '/', 'é'), maxLength: 24 }), (text) => {
    const want = text.replace(/\\(?:u([0-9a-fA-F]{4})|(["\\/bfnrt]))/g, (_, hex: string | undefined, c: string) => (hex ? String.fromCharCode(parseInt(hex, 16)) : (jsonLetters[c] ?? c)));
    return jsonUnescaped(text) === want;
  }), { numRuns: numRuns * 3, ...seed });
  t.pass('trailing runs, path globs, multipart part names, placeholder shapes, SQLite error names and JSON escapes agree with the reference patterns');
  t.equal(durationMs('1h30m'), 5_400_000);
  t.equal(durationMs('250ms'), 250);
  t.ok(Number.isNaN(durationMs('1h x')), 'not a duration');
});

const agent = { id: 'hostile', labels: {} };
const finder = new PlaceholderIndex([['github_token', 'airlock-ph-github_token-0123456789abcdef0123456789abcdef']]);
function describe(raw: Partial<RawRequest> & { url: string }): void {
  describeRequest({ method: 'POST', headers: [], body: Buffer.alloc(0), bodyTruncated: false, ...raw }, { agent, placeholders: finder });
}

t.test('the describe step stays linear on long adversarial inputs', async (t) => {
  const size = 256 * 1024;
  // Runs of one character and of short periods are what drive backtracking patterns.
  const runs = fc.tuple(fc.constantFrom('a', '.', ' ', '%', '\\', '=', '0', '(', '/', '*', 'a ', 'a.', '%4', '\\u00', '1.', 'ab(', '#', '"', '--', '/*!', "\\'", '$a', "q'!", "nq'[", "'''", '//'), fc.constantFrom('', 'x', '!', '(', '\n'))
    .map(([unit, tail]) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size) + tail);
  let n = 0;
  fc.assert(fc.property(runs, (text) => {
    n++;
    const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o));
    describe({ url: 'https://api.github.com/graphql', headers: [['content-type', 'application/json']], body: json({ query: text }) });
    describe({ method: 'GET', url: `https://api.github.com/graphql?query=${encodeURIComponent(text.slice(0, 8000))}` });
    describe({ url: 'https://api.example.com/sql', headers: [['content-type', 'application/json']], body: json({ query: text }) });
    describe({ url: 'https://evil.example/x', headers: [['content-type', 'text/plain'], ['x-note', text.slice(0, 16000)]], body: Buffer.from(text) });
    describe({ url: 'https://evil.example/x', headers: [['content-type', 'application/x-www-form-urlencoded']], body: Buffer.from(`a=${text}`) });
    describe({ url: `https://evil.example/${encodeURI(text.slice(0, 8000))}?q=${encodeURIComponent(text.slice(0, 8000))}`, method: 'GET' });
    try {
      describe({ url: `http://a${'.'.repeat(4000)}b${text.slice(0, 4000).replace(/[^a.]/g, 'a')}./`, method: 'GET' });
    } catch {
      /* an invalid host is a DescribeError: what matters is that it comes back */
    }
  }), { numRuns: 16, ...seed });
  t.equal(n, 16, 'every long input was described');
});

t.test('JSON nested deep with many duplicate keys is described with bounded paths', async (t) => {
  // Each duplicate's path used to be built (and kept) in full: 1,000 duplicates under 200,000
  // nested arrays made ~10^9 path parts and took the heap down with a 400 KB body.
  const shape = fc.record({
    depth: fc.integer({ min: 50_000, max: 200_000 }),
    nest: fc.constantFrom(['[', ']'], ['{"k":', '}'], ['[{"a":0},', ']'], ['{"k":[1,', ']}']),
    dups: fc.integer({ min: 2, max: 1500 }),
  });
  let n = 0;
  fc.assert(fc.property(shape, ({ depth, nest: [open, close], dups }) => {
    n++;
    const inner = `{${Array.from({ length: dups }, (_, i) => `"a":${i}`).join(',')}}`;
    const text = open.repeat(depth) + inner + close.repeat(depth);
    const scan = scanJson(text, false);
    if (scan.duplicateCount !== dups - 1 || scan.duplicates.length > 5) throw new Error(`${scan.duplicateCount} duplicates, ${scan.duplicates.length} reported`);
    if (scan.duplicates.some((d) => d.path.length > 400)) throw new Error('unbounded path');
    const d = describeRequestFor(text);
    const reason = d.request.body.ambiguous_reasons?.find((r) => r.code === 'json_duplicate_key');
    if (!reason || !d.request.body.ambiguous) throw new Error('the duplicate keys were not reported');
  }), { numRuns: 6, ...seed });
  t.equal(n, 6, 'every deep body was described');
});

function describeRequestFor(text: string): ReturnType<typeof describeRequest> {
  return describeRequest({ method: 'POST', url: 'https://mcp.example/mcp', headers: [['content-type', 'application/json']], body: Buffer.from(text), bodyTruncated: false }, { agent, placeholders: finder });
}

t.test('SQL of many short statements is analyzed up to the statement cap, then reported unparsed', async (t) => {
  // SQLite copied the rest of the text on every statement (prepare with a length short of the
  // terminator), and each statement costs the analysis up to a millisecond: 1 MiB of `SELECT 1;`
  // took 29 s of the main thread. Now each dialect stops after MAX_SQL_STATEMENTS statements.
  const D1 = 'https://api.cloudflare.com/client/v4/accounts/01a7362d577a6c3019a474fd6f485823/d1/database/6f1c0f62/query';
  const shapes = fc.record({
    statement: fc.constantFrom((_i: number) => 'SELECT 1;', (i: number) => `DELETE FROM t WHERE id = ${i};`, (i: number) => `UPDATE t SET a = 1 WHERE id = ${i};`, (i: number) => `INSERT INTO t VALUES (${i});`),
    count: fc.integer({ min: MAX_SQL_STATEMENTS + 1, max: 20_000 }),
    place: fc.constantFrom(['https://api.example.com/sql', 'query'], [D1, 'sql'], ['https://abcdefghijklmnopqrst.supabase.co/pg/query', 'query']),
  });
  fc.assert(fc.property(shapes, ({ statement, count, place: [url, key] }) => {
    const sql = Array.from({ length: count }, (_, i) => statement(i)).join(' ');
    const d = describeRequest({ method: 'POST', url: url!, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ [key!]: sql })), bodyTruncated: false }, { agent });
    // Past the statement cap, or (more statements, or longer ones) past the token bound first.
    if (d.sql?.parsed !== false || !(d.sql.error?.includes(`more than ${MAX_SQL_STATEMENTS} SQL statements`) || d.sql.error?.includes(`more than ${MAX_SQL_TOKENS} tokens`))) throw new Error(`${count} statements to ${url}: ${JSON.stringify(d.sql).slice(0, 300)}`);
  }), { numRuns: 8, ...seed });
  const few = Array.from({ length: 200 }, (_, i) => `DELETE FROM t WHERE id = ${i};`).join(' ');
  const d = describeRequest({ method: 'POST', url: D1, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ sql: few })), bodyTruncated: false }, { agent });
  t.equal(d.sql?.statements.length, 200, 'fewer statements are still analyzed one by one');
});

t.test('SQL of more tokens than the bound is not read: its grammars would hold the event loop', async (t) => {
  // Linear, but dear: 1 MiB of `f(a),` cost PostgreSQL's grammar 2.5 s of the main thread (a syntax
  // tree of several nodes per token), a bulk INSERT of 1 MiB half a second, with every agent waiting.
  const places = [['https://abcdefghijklmnopqrst.supabase.co/pg/query', 'query'], ['https://api.example.com/sql', 'query'],
    ['https://api.cloudflare.com/client/v4/accounts/01a7362d577a6c3019a474fd6f485823/d1/database/6f1c0f62/query', 'sql']] as const;
  const dense = (n: number): string => `SELECT ${'f(a),'.repeat(n)}1`;
  const rows = (n: number): string => `INSERT INTO items (id, name) VALUES ${"(12345,'some text'),".repeat(n)}(1,'x')`;
  for (const [url, key] of places) {
    for (const [name, sql] of [['1 MiB of f(a),', dense(200_000)], ['a 1 MiB bulk INSERT', rows(50_000)], ['`NOT a=1 AND` × 80,000', `SELECT 1 WHERE ${'NOT a=1 AND '.repeat(80_000)}true`]] as const) {
      const d = describeRequest({ method: 'POST', url, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ [key]: sql })), bodyTruncated: false }, { agent });
      t.ok(d.sql?.parsed === false && d.sql.destructive && d.sql.error?.includes(`more than ${MAX_SQL_TOKENS} tokens`), `${name} to ${url}: unparsed`);
    }
    // (An IN list: SQLite refuses 2,000 result columns or an expression 1,000 deep of its own accord.)
    const under = `SELECT 1 FROM t WHERE a IN (${Array.from({ length: 9_900 }, (_, i) => i).join(',')})`;
    t.ok(sqlTokenBound([under]) <= MAX_SQL_TOKENS, 'the statement below is under the bound');
    const d = describeRequest({ method: 'POST', url, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ [key]: under })), bodyTruncated: false }, { agent });
    t.equal(d.sql?.parsed, true, `${under.length} characters of dense SQL under the bound are read (${url})`);
  }
  // The bound counts more tokens than any grammar lexes: a string literal's words each count.
  t.ok(sqlTokenBound(["SELECT 'a b c'"]) >= 6, 'words inside a literal are counted');
});

t.test('SQL with long runs of operator characters is reported unparsed, not lexed for minutes', async (t) => {
  // PostgreSQL's lexer reads a run of operator characters in quadratic time (an operator ending in
  // `+`/`-` is given back but for its first character and read again; `/*` inside a run reads to its
  // end): 64 KiB of `+` in `{query}` to Supabase kept the main thread ~8 s, 1 MiB would for half an hour.
  const D1 = 'https://api.cloudflare.com/client/v4/accounts/01a7362d577a6c3019a474fd6f485823/d1/database/6f1c0f62/query';
  const places = [['https://abcdefghijklmnopqrst.supabase.co/pg/query', 'query'], ['https://api.example.com/sql', 'query']] as const;
  for (const unit of ['+', '/*', '*/', '+-', '-+', '/**', '|/*']) {
    for (const [url, key] of places) {
      // 8 KiB: under the token bound (MAX_SQL_TOKENS, which stops longer runs first), over the lexing-cost bound.
      const sql = `SELECT 1 ${unit.repeat(Math.ceil((8 * 1024) / unit.length))}`;
      const d = describeRequest({ method: 'POST', url, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ [key]: sql })), bodyTruncated: false }, { agent });
      t.ok(d.sql?.parsed === false && d.sql.destructive && d.sql.error?.includes('operator characters'), `${JSON.stringify(unit)} × 8 KiB to ${url}: unparsed`);
    }
  }
  // D1 reads SQLite's grammar only, whose lexer is linear on these runs; and ordinary operators parse.
  const d1 = describeRequest({ method: 'POST', url: D1, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ sql: `SELECT 1 ${'+'.repeat(256 * 1024)}1` })), bodyTruncated: false }, { agent });
  t.not(d1.sql?.error ?? '', /operator characters/, 'D1 is not limited by PostgreSQL\'s lexer');
  const ok = describeRequest({ method: 'POST', url: places[0][0], headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ query: `SELECT a->>'b', c || '-' || d FROM t WHERE e >= 1 AND f <> 2 /* ${'*'.repeat(2000)} */` })), bodyTruncated: false }, { agent });
  t.equal(ok.sql?.parsed, true, 'ordinary operators and a long banner comment parse');
});

t.test('SQL in the arguments of a large JSON-RPC batch is analyzed within a budget', async (t) => {
  // Each tool call's SQL costs an analysis on the main thread: 8,000 `execute_sql` calls in one
  // batch took 17 s. Past 64 calls (or 1,000 statements) the rest are `limited` (held critical).
  const body = JSON.stringify(Array.from({ length: 8000 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'execute_sql', arguments: { query: `DELETE FROM t WHERE id = ${i} /* c */` } } })));
  const d = describeRequest({ method: 'POST', url: 'https://mcp.example/mcp', headers: [['content-type', 'application/json']], body: Buffer.from(body), bodyTruncated: false }, { agent });
  const calls = d.mcp?.batch ?? [];
  t.equal(calls.length, 8000, 'every call is described');
  t.equal(calls.filter((c) => c.sql?.parsed).length, 64, 'the first 64 calls\' SQL is analyzed');
  t.ok(calls.slice(64).every((c) => c.sql?.limited === true && c.sql.destructive), 'the rest are limited, and count as destructive');
});

t.test('every grammar\'s readings of one request\'s SQL share one budget of tokens', async (t) => {
  // Ninth pass: a text of unknown dialect is read up to a dozen ways (each MySQL sql_mode, Oracle,
  // Snowflake, BigQuery, ClickHouse, backslash escapes …) when it holds each one's trigger, and each
  // tool call of a batch alone: 60 `execute_sql` calls of 14 KB (under every per-text bound) held
  // the main thread 20–30 s. Past MAX_REQUEST_SQL_TOKEN_READS the rest is `limited` (critical).
  let tail = '';
  while (tail.length < 14_000) tail += ', f(a, b), c + 1';
  const sql = `SELECT 'a\\b' AS c /* x */ , 1 # y\n , 2 // z\n , \'\'\' q \'\'\' , q'[r]' , \u2018s\u2019 , 3 \r${tail} FROM t`;
  t.ok(sqlTokenBound([sql]) < MAX_SQL_TOKENS, 'each text is under the bound of one text');
  const body = JSON.stringify(Array.from({ length: 60 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'execute_sql', arguments: { query: sql } } })));
  const d = describeRequest({ method: 'POST', url: 'https://mcp.example/mcp', headers: [['content-type', 'application/json']], body: Buffer.from(body), bodyTruncated: false }, { agent });
  const calls = d.mcp?.batch ?? [];
  t.equal(calls.length, 60, 'every call is described');
  const read = calls.filter((c) => c.sql?.limited !== true).length;
  t.ok(read < 10, `only the first calls' SQL is read (${read}), within the budget`);
  t.ok(calls.slice(read).every((c) => c.sql?.limited === true && c.sql.destructive), 'the rest are limited, and count as destructive');
  // The budget is the request's: a smaller text of the same kind, in the next request, is read every way.
  const small = sql.replace(tail, tail.slice(0, 4_000));
  const one = describeRequest({ method: 'POST', url: 'https://api.example.com/sql', headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ query: small })), bodyTruncated: false }, { agent });
  t.equal(one.sql?.parsed, true, `${small.length} characters of it are read`);
});

t.test('GraphQL mutation calls that all name one large variable are read within a budget', async (t) => {
  // A variable is substituted by reference: 14,000 calls naming one variable of 60,000 keys gave
  // the adapters 840 million values to walk (a 135 KB body held the main thread 15 s). Past the
  // budget the arguments are dropped and read as the worst: an unknown place, every row.
  const keys = (n: number, name: (i: number) => string): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [name(i), 'x']));
  const gql = (url: string, query: string, variables: unknown): ReturnType<typeof describeRequest> =>
    describeRequest({ method: 'POST', url, headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ query, variables })), bodyTruncated: false }, { agent });
  const github = gql('https://api.github.com/graphql', `mutation($v: AddCommentInput!) {${' addComment(input: $v)'.repeat(14_000)} }`, { v: keys(60_000, (i) => `k${i}Ids`) });
  t.same(github.service?.params.node_ids, ['?'], 'GitHub: the place is unknown (no grant covers it)');
  const commit = gql('https://api.github.com/graphql', `mutation($v: CreateCommitOnBranchInput!) {${' createCommitOnBranch(input: $v)'.repeat(12_000)} }`, { v: { branch: { repositoryNameWithOwner: 'a/b', branchName: 'main' }, fileChanges: { additions: Array.from({ length: 60_000 }, (_, i) => ({ path: `f${i}`, contents: '' })) } } });
  t.equal(commit.service?.effect, 'admin', 'GitHub: files committed that cannot be listed may be workflows');
  const supabase = gql('https://abcdefghijklmnopqrst.supabase.co/graphql/v1', `mutation($f: TodosFilter) {${' updateTodosCollection(filter: $f, set: {done: true}) { affectedCount }'.repeat(5_000)} }`, { f: keys(60_000, (i) => `c${i}`) });
  t.equal(supabase.service?.params.all_rows, true, 'Supabase: rows the filter names cannot be read, so every row');
  // Control: a few calls are read as before.
  const small = gql('https://api.github.com/graphql', 'mutation($v: AddCommentInput!) { a: addComment(input: $v) { clientMutationId } b: addComment(input: $v) { clientMutationId } }', { v: { subjectId: 'I_1', body: 'hi' } });
  t.same(small.service?.params.node_ids, ['I_1']);
});

t.test('thirteenth pass: a chain of thousands of GraphQL fragments is read, deep variables are unreadable, neither a stack overflow', async (t) => {
  // The root fields were collected by recursion through each fragment: a document whose 5,000
  // fragments each spread the next threw RangeError out of the describe step (a 500 for the
  // request, instead of the deletion at its end being read and held).
  const depth = 5000;
  const query = `mutation{...f0} ${Array.from({ length: depth }, (_, i) => `fragment f${i} on Mutation{__typename ...f${i + 1}}`).join(' ')} fragment f${depth} on Mutation{deleteRef(input:{refId:"x"}){clientMutationId}}`;
  const d = describeRequest({ method: 'POST', url: 'https://api.github.com/graphql', headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify({ query })), bodyTruncated: false }, { agent });
  t.same(d.graphql?.operations.map((o) => o.fields), [['deleteRef']], 'the deletion at the chain\'s end is read');
  // GraphQL `variables` nested 60,000 objects deep (a 360 KB body, to any host: the shape is sniffed)
  // threw RangeError out of JSON.stringify in the describe step: a 500 for the request.
  const deep = `{"query":"mutation($v:AddCommentInput!){addComment(input:$v){clientMutationId}}","variables":{"v":${'{"a":'.repeat(60_000)}1${'}'.repeat(60_000)}}}`;
  const read = (url: string): ReturnType<typeof describeRequest> => describeRequest({ method: 'POST', url, headers: [['content-type', 'application/json']], body: Buffer.from(deep), bodyTruncated: false }, { agent });
  t.match(read('https://api.github.com/graphql').graphql, { parsed: false, error: /nested too deeply/ }, 'to a GraphQL endpoint: unreadable, not a crash');
  t.ok(read('https://mcp.example/mcp').request, 'to another host: described, not a crash');
});
