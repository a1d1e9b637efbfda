// Property-based tests of the describe step: whatever bytes an agent sends, describeRequest either
// throws DescribeError or returns a description that keeps the contract policies rely on.
// fast-check generates hostile request lines, methods, headers, URLs and bodies; every run is
// bounded (numRuns) and seeded from the environment so a failure prints a replayable seed.
import t from 'tap';
import fc from 'fast-check';
import { describeRequest, DescribeError, type RawRequest, type PlaceholderFinder } from '../../describe/describe.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import type { RequestDescription } from '../../describe/types.ts';

await loadAdapters();
const agent = { id: 'fuzz-agent', labels: { team: 'fuzz' } };
const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 500);
/** AIRLOCK_FUZZ_SEED=<seed printed by a failure> replays that run. */
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

// ---- generators -------------------------------------------------------------------------------

const tokenChar = fc.constantFrom(...'!#$%&\'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split(''));
/** Object.prototype member names: the classic way to break a `Record<string, …>` built from input. */
const protoNames = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__');

const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'CONNECT', 'TRACE', 'get', 'PoSt', 'M-SEARCH'),
  fc.string({ unit: tokenChar, minLength: 1, maxLength: 12 }),
  fc.string({ maxLength: 12 }), // not a token: must be a DescribeError
  fc.constantFrom('', 'GET ', 'G\u0000T', 'GET\r\n', 'ＧＥＴ', '__proto__'),
);

const octet = fc.integer({ min: 0, max: 255 });
/** Every spelling WHATWG accepts for an IPv4 address: dotted, partial, decimal, octal, hex. */
const ipv4Spelling = fc.oneof(
  fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')),
  fc.tuple(octet, octet, octet, octet).map(([a, b, c, d]) => String(((a << 24) >>> 0) + (b << 16) + (c << 8) + d)),
  fc.tuple(octet, octet, octet, octet).map((o) => `0x${o.map((x) => x.toString(16).padStart(2, '0')).join('')}`),
  fc.tuple(octet, octet, octet, octet).map((o) => o.map((x) => `0${x.toString(8)}`).join('.')),
  fc.tuple(octet, fc.integer({ min: 0, max: 0xffffff })).map(([a, rest]) => `${a}.${rest}`),
  fc.tuple(octet, octet, fc.integer({ min: 0, max: 0xffff })).map(([a, b, rest]) => `0x${a.toString(16)}.${b}.${rest}`),
  fc.constantFrom('127.0.0.1', '127.1', '0177.0.0.1', '0x7f.0.0.1', '2130706433', '0', '0.0.0.0', '169.254.169.254',
    '0xa9fea9fe', '2852039166', '025177524776', '169.254.43518', '127.0.0.1.', '4294967295', '4294967296', '1.2.3.4.5', '256.0.0.1'),
);
const ipv6Spelling = fc.constantFrom(
  '[::1]', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::ffff:a9fe:a9fe]', '[fe80::1]', '[FE80::1%25eth0]',
  '[fd00:ec2::254]', '[64:ff9b::a9fe:a9fe]', '[2002:7f00:1::]', '[::]', '[::127.0.0.1]', '[1::2::3]', '[::1', '[0::FFFF:7F00:0001]',
);
const label = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'.split('')), minLength: 1, maxLength: 12 });
const unicodeLabel = fc.oneof(
  fc.constantFrom('bücher', 'аpple', 'раураl', 'gооgle', 'ｅｘａｍｐｌｅ', 'ǝlgoog', 'xn--80ak6aa92e', 'xn--', 'straße', 'ß', '\u200bzero', 'ⓔⓧⓐⓜⓟⓛⓔ', 'ex\u00adample', 'İstanbul'),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
);
const hostName = fc.oneof(
  fc.array(fc.oneof(label, unicodeLabel), { minLength: 1, maxLength: 4 }).map((ls) => ls.join('.')),
  fc.tuple(label, fc.constantFrom('.', '..', '。', '．', '｡', '')).map(([l, dot]) => `${l}.example${dot}`),
  fc.constantFrom('allowed.example@evil.example', 'ALLOWED.Example.', 'localhost', 'LOCALHOST.', 'a%2eb', '%41llowed.example', 'exa mple', 'ex%00ample', '', '.', '..'),
);
const host = fc.oneof(ipv4Spelling, ipv6Spelling, hostName);
const port = fc.oneof(fc.constant(''), fc.integer({ min: 0, max: 70000 }).map((p) => `:${p}`), fc.constantFrom(':', ':080', ':0x50', ':443', ':-1', ':80abc'));
const userinfo = fc.oneof(
  fc.constant(''),
  fc.constantFrom('user:pw@', 'allowed.example@', 'user@', ':pw@', 'a%40b:c%3Ad@', 'SECRETUSER:SECRETPASS@', '@', 'u:p@@'),
  fc.tuple(label, label).map(([u, p]) => `${u}:${p}@`),
);
const pathSegment = fc.oneof(
  fc.constantFrom('.', '..', '%2e', '%2E', '%2e%2e', '.%2e', '%2e.', '..%2f', '%2e%2e%2f', '..\\', '...', 'a', '%00', '%zz', '%', ';', 'a;b=c', '%2F', '\\..\\', '~', '%c0%ae%c0%ae'),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
);
const path = fc.array(pathSegment, { maxLength: 8 }).map((segs) => `/${segs.join('/')}`);
const queryPart = fc.oneof(
  fc.constant(''),
  fc.array(fc.tuple(fc.oneof(label, protoNames, fc.string({ maxLength: 6 })), fc.string({ maxLength: 10 })), { maxLength: 5 })
    .map((kv) => `?${kv.map(([k, v]) => `${k}=${v}`).join('&')}`),
  fc.constantFrom('?', '??', '?a', '?=', '?&&', '?a=%zz', '?__proto__=1&constructor=2', '?a=1#frag'),
);
const scheme = fc.constantFrom('http', 'https', 'HTTP', 'HtTpS', 'ws', 'wss', 'ftp', 'file', 'javascript', 'data', 'gopher', '');
const url = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(scheme, userinfo, host, port, path, queryPart, fc.constantFrom('', '#x', '#@evil.example'))
    .map(([s, u, h, p, pa, q, f]) => `${s}://${u}${h}${p}${pa}${q}${f}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('/relative', '*', 'example.com:443', 'http://', 'http:///x', 'http:\\\\example.com\\a', 'http:/example.com', 'http://a\tb.example/', 'http://a\nb/') },
);

/** Secret-looking credential values, distinctive enough that finding one in the output means a leak. */
const secret = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+/='.split('')), minLength: 12, maxLength: 40 })
  .map((s) => `S3CR3T${s}`);
const credentialHeaderName = fc.constantFrom('Authorization', 'authorization', 'AUTHORIZATION', 'Proxy-Authorization', 'Cookie', 'Set-Cookie',
  'X-Api-Key', 'x-api-key', 'Api-Key', 'X-Auth-Token', 'X-Goog-Api-Key', 'Private-Token', 'X-GitHub-Token', 'X-Access-Token', 'X-Csrf-Token', 'apikey');
const authScheme = fc.constantFrom('Bearer', 'Basic', 'Token', 'token', 'Digest', 'AWS4-HMAC-SHA256', 'ApiKey');
const credentialHeader = fc.tuple(credentialHeaderName, fc.oneof(
  secret.map((s) => [s, s] as const),
  fc.tuple(authScheme, secret).map(([a, s]) => [`${a} ${s}`, s] as const),
  fc.tuple(authScheme, secret, secret).map(([a, s, s2]) => [`${a} ${s}, ${s2}`, s] as const),
  fc.tuple(secret, secret).map(([s, s2]) => [`session=${s}; other=${s2}`, s] as const),
  fc.tuple(secret, fc.constantFrom('x', 'extra words', '')).map(([s, tail]) => [`${s} ${tail}`, s] as const),
)).map(([name, [value, secretPart]]) => ({ name, value, secretPart }));

const headerName = fc.oneof(
  fc.string({ unit: tokenChar, minLength: 1, maxLength: 16 }),
  protoNames,
  fc.constantFrom('Host', 'Content-Type', 'content-length', 'Transfer-Encoding', 'Upgrade', 'Connection', 'X-Forwarded-For', 'Proxy-Connection', 'TE'),
  fc.string({ maxLength: 8 }),
);
const headerValue = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('h2c', 'websocket', 'chunked, identity', '1', '-1', '99999999999999999999', 'application/json', 'application/x-www-form-urlencoded', 'text/plain', '', ' '));
const plainHeaders = fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 });

const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'application/x-www-form-urlencoded',
  'text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'APPLICATION/JSON', '');
const bodyBytes = fc.oneof(
  fc.json({ maxDepth: 3 }).map((s) => Buffer.from(s)),
  fc.constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"x":1}}}', '[{"jsonrpc":"2.0","method":"tools/call","params":{"name":"__proto__"}}]',
    '{"jsonrpc":"2.0","method":"tools/call","params":null,"id":{}}', '[]', '__proto__=1&constructor=2&toString=3', 'a=%zz&b', '{"a":1e999}', '{"a":"\\ud800"}')
    .map((s) => Buffer.from(s)),
  fc.array(fc.tuple(fc.oneof(label, protoNames), fc.string({ maxLength: 8 })), { maxLength: 4 }).map((kv) => Buffer.from(kv.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'))),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  fc.string({ unit: 'binary', maxLength: 64 }).map((s) => Buffer.from(s)),
);

const rawRequest = fc.record({
  method,
  url,
  headers: plainHeaders,
  credentials: fc.array(credentialHeader, { maxLength: 3 }),
  contentType: fc.option(contentType),
  body: bodyBytes,
  bodyTruncated: fc.boolean(),
}).map((r) => {
  const headers: Array<[string, string]> = [...r.headers];
  if (r.contentType !== null) headers.push(['Content-Type', r.contentType]);
  for (const c of r.credentials) headers.push([c.name, c.value]);
  const raw: RawRequest = { method: r.method, url: r.url, headers, body: r.body, bodyTruncated: r.bodyTruncated, time: new Date(0) };
  return { raw, secrets: r.credentials.map((c) => c.secretPart) };
});

// ---- the contract ---------------------------------------------------------------------------

/** Throws unless the value is plain JSON: what JSON.stringify/parse round-trips unchanged. */
function assertPlainJson(value: unknown, at: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${at} is a non-finite number`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v, i) => assertPlainJson(v, `${at}[${i}]`));
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new Error(`${at} is not a plain object`);
    for (const [k, v] of Object.entries(value)) {
      if (v === undefined) throw new Error(`${at}.${k} is undefined`);
      assertPlainJson(v, `${at}.${k}`);
    }
    return;
  }
  throw new Error(`${at} is a ${typeof value}`);
}

const dotSegment = /^(\.|%2e){1,2}$/i;

function checkContract(d: RequestDescription, secrets: string[]): void {
  assertPlainJson(d, 'description');
  const r = d.request;
  const text = JSON.stringify(d);
  if (r.host !== r.host.toLowerCase()) throw new Error(`host not lowercase: ${r.host}`);
  if (r.host.endsWith('.')) throw new Error(`host has a trailing dot: ${r.host}`);
  if (r.host === '') throw new Error('empty host');
  if (/[^\x21-\x7e]/.test(r.host)) throw new Error(`host is not ASCII (IDN must be punycode): ${JSON.stringify(r.host)}`);
  if (!Number.isInteger(r.port) || r.port < 1 || r.port > 65535) throw new Error(`port out of range: ${r.port}`);
  if (!['http', 'https', 'ws', 'wss'].includes(r.scheme)) throw new Error(`scheme ${r.scheme}`);
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Z]+$/.test(r.method)) throw new Error(`method not an upper-case token: ${r.method}`);
  if (!r.path.startsWith('/')) throw new Error(`path not absolute: ${r.path}`);
  for (const seg of r.path.split('/')) if (dotSegment.test(seg)) throw new Error(`dot-segment survives in path ${r.path}`);
  for (const seg of r.segments) if (seg === '.' || seg === '..') throw new Error(`dot-segment in segments ${JSON.stringify(r.segments)}`);
  const parsed = new URL(r.url);
  if (parsed.username || parsed.password) throw new Error(`userinfo in url ${r.url}`);
  if (parsed.hash) throw new Error(`fragment in url ${r.url}`);
  if (r.url.includes('@') && new URL(r.url).hostname !== r.host.replace(/^(.*:.*)$/, '[$1]')) throw new Error(`url host differs from host: ${r.url} vs ${r.host}`);
  if ('proxy-authorization' in r.headers) throw new Error('proxy-authorization visible to policies');
  for (const s of secrets) if (text.includes(s)) throw new Error(`credential header value survives in the description: ${s}`);
  if (!Number.isInteger(r.egress_bytes) || r.egress_bytes < 0) throw new Error(`egress_bytes ${r.egress_bytes}`);
  if (!/^[0-9a-f]{64}$/.test(r.body.sha256)) throw new Error('body sha256 not hex');
  if (r.body.truncated && ('json' in r.body || 'form' in r.body)) throw new Error('a truncated body was parsed as whole');
  for (const [name, values] of Object.entries(r.headers)) {
    if (name !== name.toLowerCase()) throw new Error(`header name not lowercase: ${name}`);
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new Error(`header ${name} is not a list of strings`);
  }
  for (const [name, values] of Object.entries(r.query)) {
    if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new Error(`query ${name} is not a list of strings`);
  }
}

function describeOrDescribeError(raw: RawRequest, placeholders?: PlaceholderFinder): RequestDescription | undefined {
  try {
    return describeRequest(raw, { agent, placeholders });
  } catch (err) {
    if (err instanceof DescribeError) return undefined;
    throw new Error(`describeRequest threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`);
  }
}

// ---- properties -------------------------------------------------------------------------------

t.test('any request: only DescribeError, and the output keeps the contract', async (t) => {
  let described = 0;
  fc.assert(fc.property(rawRequest, ({ raw, secrets }) => {
    const d = describeOrDescribeError(raw);
    if (d) {
      described++;
      checkContract(d, secrets);
    }
  }), { numRuns, ...seed });
  t.ok(described > numRuns / 10, `a real share of generated requests were describable (${described}/${numRuns})`);
});

t.test('URLs alone: weird hosts, numeric IPs, IDN, userinfo, encodings', async (t) => {
  let described = 0;
  fc.assert(fc.property(url, (u) => {
    const d = describeOrDescribeError({ method: 'GET', url: u, headers: [], body: Buffer.alloc(0), bodyTruncated: false });
    if (d) {
      described++;
      checkContract(d, []);
      // Whatever spelling of an IPv4 address came in, the policy sees the dotted-quad form.
      if (/^[0-9.]+$/.test(d.request.host) && !/^\d{1,3}(\.\d{1,3}){3}$/.test(d.request.host)) throw new Error(`numeric host not canonical: ${d.request.host}`);
    }
  }), { numRuns, ...seed });
  t.ok(described > 0);
});

t.test('every spelling of loopback and the metadata address is canonicalized', async (t) => {
  const loopback = ['127.0.0.1', '127.1', '0177.0.0.1', '0x7f.0.0.1', '0x7f000001', '2130706433', '017700000001', '127.0.1', '0x7F.1'];
  for (const h of loopback) t.equal(describeRequest({ method: 'GET', url: `http://${h}/`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent }).request.host, '127.0.0.1', h);
  const metadata = ['169.254.169.254', '0xa9fea9fe', '2852039166', '025177524776', '169.254.43518', '0251.0376.0251.0376', '0xA9.0xFE.0xA9.0xFE'];
  for (const h of metadata) t.equal(describeRequest({ method: 'GET', url: `http://${h}/`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent }).request.host, '169.254.169.254', h);
  for (const h of ['[::1]', '[0:0:0:0:0:0:0:1]', '[0::1]']) t.equal(describeRequest({ method: 'GET', url: `http://${h}/`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent }).request.host, '::1', h);
  // An IPv4-mapped literal is the IPv4 address it carries (a dual-stack socket dials it there); SIIT stays IPv6.
  for (const h of ['[::ffff:127.0.0.1]', '[0:0:0:0:0:FFFF:7f00:1]', '[::ffff:7f00:0001]']) t.equal(describeRequest({ method: 'GET', url: `http://${h}/`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent }).request.host, '127.0.0.1', h);
  t.equal(describeRequest({ method: 'GET', url: 'http://[::ffff:0:127.0.0.1]/', headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent }).request.host, '::ffff:0:7f00:1');
});

t.test('Object.prototype names in headers, query and form bodies are plain data', async (t) => {
  fc.assert(fc.property(protoNames, fc.string({ maxLength: 8 }), (name, value) => {
    const d = describeOrDescribeError({
      method: 'POST',
      url: `http://example.com/?${encodeURIComponent(name)}=${encodeURIComponent(value)}`,
      headers: [[name, value], ['content-type', 'application/x-www-form-urlencoded']],
      body: Buffer.from(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`),
      bodyTruncated: false,
    });
    if (!d) throw new Error(`a request with a ${name} field could not be described`);
    checkContract(d, []);
    if (!Object.hasOwn(d.request.query, name) || !Object.hasOwn(d.request.headers, name.toLowerCase())) throw new Error(`${name} lost`);
  }), { numRuns: 50, ...seed });
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was not polluted');
});

t.test('placeholders are found wherever they are, however they are encoded in the URL', async (t) => {
  const placeholder = 'AIRLOCK_PLACEHOLDER_demo_0123456789';
  const finder: PlaceholderFinder = { find: (text) => (text.includes(placeholder) ? ['demo'] : []) };
  const where = fc.constantFrom('header', 'query', 'path', 'body');
  const encode = fc.constantFrom((s: string) => s, encodeURIComponent, (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16)}`).join(''));
  fc.assert(fc.property(where, encode, label, (w, enc, noise) => {
    const p = enc(placeholder);
    const raw: RawRequest = {
      method: 'POST',
      url: w === 'query' ? `http://example.com/x?q=${noise}${p}` : w === 'path' ? `http://example.com/${noise}${p}/x` : 'http://example.com/x',
      headers: w === 'header' ? [['X-Data', `${noise}${placeholder}`]] : [],
      body: Buffer.from(w === 'body' ? `${noise}${placeholder}` : ''),
      bodyTruncated: false,
    };
    const d = describeOrDescribeError(raw, finder);
    if (!d) throw new Error('not describable');
    const use = d.placeholders.find((u) => u.name === 'demo');
    if (!use || !use.where.includes(w)) throw new Error(`placeholder in ${w} (${p}) not reported: ${JSON.stringify(d.placeholders)}`);
  }), { numRuns: 100, ...seed });
  t.pass('placeholders reported');
});

t.test('regressions the fuzzer found (each once a counterexample)', async (t) => {
  const plain = (u: string, over: Partial<RawRequest> = {}): RawRequest => ({ method: 'GET', url: u, headers: [], body: Buffer.alloc(0), bodyTruncated: false, ...over });
  for (const name of ['__proto__', 'constructor', 'toString']) {
    t.doesNotThrow(() => describeOrDescribeError(plain('http://example.com/', { headers: [[name, 'x']] })), `header named ${name}`);
    t.doesNotThrow(() => describeOrDescribeError(plain(`http://example.com/?${name}=1`)), `query parameter named ${name}`);
    t.doesNotThrow(() => describeOrDescribeError(plain('http://example.com/', { method: 'POST', headers: [['content-type', 'application/x-www-form-urlencoded']], body: Buffer.from(`${name}=1`) })), `form field named ${name}`);
  }
  for (const u of ['http://./', 'http://../', 'http://a:b@...:80/']) {
    const d = describeOrDescribeError(plain(u));
    t.ok(d === undefined || (d.request.host !== '' && !d.request.host.endsWith('.')), `a host of only dots (${u}) is refused or has no trailing dot`);
  }
  const big = describeOrDescribeError(plain('http://example.com/', { method: 'POST', headers: [['content-type', 'application/json']], body: Buffer.from('{"a":1e999}') }));
  t.doesNotThrow(() => big && assertPlainJson(big, 'description'), 'a JSON number that overflows is not described as Infinity');
  const d = describeOrDescribeError(plain('http://example.com/', { headers: [['Authorization', 'S3CR3Ttoken-value-123 x']] }));
  t.notMatch(JSON.stringify(d), /S3CR3Ttoken-value-123/, 'a credential followed by a space is not kept as if it were the auth scheme');
  // Found by the property above: a credential sent as a Cookie reads whole as a cookie's name.
  for (const v of ['Bearer S3CR3Taaaaaaaaaaa=', 'S3CR3Taaaaaaaaaaa=', 'S3CR3Taaaaaaaaaaa x=1']) {
    const c = describeOrDescribeError(plain('http://example.com/', { headers: [['Cookie', v]] }));
    t.notMatch(JSON.stringify(c), /S3CR3T/, `a Cookie of ${JSON.stringify(v)} keeps no name (no cookie name, or no value)`);
  }
});

// A name the agent chose, looked up in a table the code wrote (`webdisWriting[word]`) or in a map
// read from input, answered from Object.prototype when the map had one: `constructor=` posted to
// any host was a TypeError out of the Webdis reader. Every position a word can reach a reader
// from, on hosts and paths the readers own, with those names in it.
t.test('Object.prototype names in any position reach no reader as anything but a name', async (t) => {
  const vocabulary = fc.constantFrom('api', 'v1', 'v2', 'query', 'graphql', 'mcp', 'rpc', 'sql', 'exec', '_sql', '_search', '_delete_by_query', 'db',
    'data', 'tx', 'commit', 'action', 'rest', 'repos', 'issues', 'config', 'set', 'script', 'eval', 'FLUSHALL', 'collections', 'indexes', 'delete',
    'gremlin', 'cypher', 'sparql', 'update', 'write', 'drop', 'documents', 'points', 'buckets', 'tables', 'chat', 'messages', 'send');
  const word = fc.oneof(protoNames, vocabulary, label);
  const hostPort = fc.constantFrom('api.github.com', 'github.com', 'api.stripe.com', 'gmail.googleapis.com', 'slack.com', 'api.telegram.org',
    'abc.supabase.co', 'console.neon.tech', 'api.cloudflare.com', 'api.openai.com', 'api.anthropic.com', 'example.com', 'example.com:7379',
    'example.com:9200', 'example.com:7474', 'example.com:8086', 'example.com:5984', 'example.com:8529', 'example.com:9090', 'example.com:6333',
    'example.com:8182', 'example.com:7700', 'example.com:8108', 'example.com:8983', 'data.mongodb-api.com', 'firestore.googleapis.com');
  const jsonOf = (words: string[]): unknown => {
    // keys and values from the words, one level nested under the first, and as a JSON-RPC call.
    const [a = 'x', b = 'y', c = 'z'] = words;
    const kinds = [{ [a]: b, [b]: { [c]: a }, filter: { [c]: { [a]: 1 } } }, { jsonrpc: '2.0', id: 1, method: a, params: { name: b, arguments: { [c]: a } } },
      { query: `{ ${a} { ${b} } }`, variables: { [c]: a } }, { statements: [{ statement: `${a} ${b}`, parameters: { [c]: b } }] }, [a, b, c]];
    return kinds[words.length % kinds.length];
  };
  const body = fc.tuple(fc.constantFrom('form', 'form-key', 'json', 'text', 'none'), fc.array(word, { minLength: 1, maxLength: 4 })).map(([kind, words]) => {
    const enc = encodeURIComponent;
    if (kind === 'form') return { type: 'application/x-www-form-urlencoded', text: words.map((w, i) => `${enc(w)}=${enc(words[(i + 1) % words.length]!)}`).join('&') };
    if (kind === 'form-key') return { type: 'application/x-www-form-urlencoded', text: words.map(enc).join('&') };
    if (kind === 'json') return { type: 'application/json', text: JSON.stringify(jsonOf(words)) };
    if (kind === 'text') return { type: 'text/plain', text: words.join(' ') };
    return { type: '', text: '' };
  });
  const request = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
    hostPort,
    path: fc.array(word, { maxLength: 5 }),
    query: fc.array(fc.tuple(word, word), { maxLength: 3 }),
    headers: fc.array(fc.tuple(word, word), { maxLength: 2 }),
    body,
  });
  let described = 0;
  fc.assert(fc.property(request, (r) => {
    const query = r.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    const headers: Array<[string, string]> = r.headers.filter(([k]) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k));
    if (r.body.type) headers.push(['content-type', r.body.type]);
    const raw: RawRequest = {
      method: r.method, url: `http://${r.hostPort}/${r.path.map(encodeURIComponent).join('/')}${query ? `?${query}` : ''}`, headers,
      body: Buffer.from(r.body.text), bodyTruncated: false,
    };
    let d: RequestDescription | undefined;
    try {
      d = describeOrDescribeError(raw);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n  for ${raw.method} ${raw.url} ${r.body.type} ${r.body.text}`);
    }
    if (d) {
      described++;
      checkContract(d, []);
    }
  }), { numRuns: numRuns * 2, ...seed });
  t.ok(described > numRuns, `most were described (${described}/${numRuns * 2})`);
  t.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was not polluted');
});
