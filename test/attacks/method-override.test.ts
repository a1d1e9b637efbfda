// Method overrides: an agent sends a harmless-looking method and names the real one where a server
// that honours overrides reads it (X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override, or
// `_method` in the query, a form, a multipart form or a JSON body; PHP's `.method`, Slim's
// `_METHOD`, Salesforce's `_HttpMethod`, Google's `$httpMethod`, ASP.NET MVC's
// `X-HTTP-Method-Override` parameter), in any case, with spaces, repeated or in comma lists.
// Property: over every such spelling, an override to DELETE of a GitHub repository is judged as the
// deletion (critical, held), never as the read or write the request line claims; an extra allowed
// host never lets an overridden GET through as a read; and an override that cannot be read one way
// is never allowed.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import fc from 'fast-check';
import t from 'tap';
import { PolicyEngine } from '../../engine/engine.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';
import { tempDir } from './helpers.ts';

await loadAdapters();
const engine = new PolicyEngine({ mode: 'inline', timeoutMs: 10_000 });
t.teardown(() => engine.close());
await engine.loadFolder(path.join(projectRoot, 'rego'));

// The default policy with one extra allowed host (reads pass there without a service).
const withHost = tempDir(t, 'airlock-rego-hosts-');
fs.cpSync(path.join(projectRoot, 'rego'), withHost, { recursive: true });
const dataFile = path.join(withHost, 'config', 'data.json');
const data = JSON.parse(fs.readFileSync(dataFile, 'utf8')) as { services: Record<string, Record<string, unknown>> };
data.services.supabase!.projects = ['abcdefghijklmnopqrst']; // a configured destination, as a user sets one
fs.writeFileSync(dataFile, JSON.stringify({ ...data, allowed_hosts: ['docs.example.org'] }));
const hostsEngine = new PolicyEngine({ mode: 'inline', timeoutMs: 10_000 });
t.teardown(() => hostsEngine.close());
await hostsEngine.loadFolder(withHost);

const caseOf = (s: string, upper: boolean[]): string => [...s].map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase())).join('');
const pad = fc.constantFrom('', ' ', '  ', '\t');
/** "delete" in any letter case, with blanks around it. */
const deleteValue = fc.tuple(fc.array(fc.boolean(), { minLength: 1, maxLength: 6 }), pad, pad).map(([u, a, b]) => `${a}${caseOf('delete', u)}${b}`);

type Placement = { headers: Array<[string, string]>; query: string; body?: { type: string; text: string } };

const placement: fc.Arbitrary<Placement> = fc.oneof(
  fc.tuple(fc.constantFrom('X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override'), fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }), deleteValue, fc.nat(2))
    .map(([name, u, v, repeat]) => ({ headers: Array.from({ length: repeat + 1 }, (): [string, string] => [caseOf(name, u), v]), query: '' })),
  fc.tuple(fc.constantFrom('_method', '.method', '%5Fmethod', '_METHOD', '_HttpMethod', '__METHOD_OVERRIDE__'), deleteValue).map(([n, v]) => ({ headers: [], query: `?${n}=${encodeURIComponent(v)}` })),
  deleteValue.map((v) => ({ headers: [], query: '', body: { type: 'application/x-www-form-urlencoded', text: `a=1&_method=${encodeURIComponent(v)}` } })),
  deleteValue.map((v) => ({ headers: [], query: '', body: { type: 'multipart/form-data; boundary=b0undary', text: `--b0undary\r\nContent-Disposition: form-data; name="_method"\r\n\r\n${v}\r\n--b0undary--\r\n` } })),
  // (Ninth pass) RFC 2231 names (Werkzeug, Django, busboy), the first of two `name=` parameters, a
  // header with blanks before its colon (Werkzeug trims the name).
  fc.tuple(fc.constantFrom(`name="note"; name*=UTF-8''_method`, `name*=utf-8''%5Fmethod`, `name*0*=utf-8''%5Fme; name*1=thod`, 'name="_method"; name="note"', 'name="note"\r\nContent-Disposition: form-data; name="_method"'), fc.constantFrom('Content-Disposition:', 'Content-Disposition :', 'content-disposition\t:'), deleteValue)
    .map(([d, label, v]): Placement => ({ headers: [], query: '', body: { type: 'multipart/form-data; boundary=b0undary', text: `--b0undary\r\n${label} form-data; ${d}\r\n\r\n${v}\r\n--b0undary--\r\n` } })),
  deleteValue.map((v) => ({ headers: [], query: '', body: { type: 'application/json', text: JSON.stringify({ name: 'x', _method: v }) } })),
  // Names spelled with escapes: still `_method` to the server's parser.
  fc.tuple(fc.constantFrom('%5Fmethod', '_%6Dethod', '%5f%6d%65thod', '.method', '+method', '_METHOD', '_Method', '_HttpMethod'), deleteValue).map(([n, v]) => ({ headers: [], query: '', body: { type: 'application/x-www-form-urlencoded', text: `${n}=${encodeURIComponent(v)}` } })),
  // Header names as parameters: Google APIs' system parameter `$httpMethod` (query), ASP.NET MVC's
  // `X-HTTP-Method-Override` form field or query parameter (any case).
  fc.tuple(fc.constantFrom('$httpMethod', '%24httpMethod', '$HTTPMETHOD', 'X-HTTP-Method-Override', 'x-http-method-override', 'X%2DHTTP%2DMethod%2DOverride', 'X-HTTP-Method', 'X-Method-Override'), deleteValue, fc.boolean())
    .map(([n, v, inQuery]): Placement => (inQuery ? { headers: [], query: `?${n}=${encodeURIComponent(v)}` } : { headers: [], query: '', body: { type: 'application/x-www-form-urlencoded', text: `a=1&${n}=${encodeURIComponent(v)}` } })),
  fc.tuple(fc.constantFrom('\\u005fmethod', '_\\u006dethod', '\\u005F\\u006D\\u0065thod'), deleteValue).map(([n, v]) => ({ headers: [], query: '', body: { type: 'application/json; charset=utf-8', text: `{"${n}": ${JSON.stringify(v)}}` } })),
);

function describe(method: string, url: string, p: Placement) {
  const headers: Array<[string, string]> = [['authorization', 'Bearer x'], ...p.headers];
  if (p.body) headers.push(['content-type', p.body.type]);
  const body = Buffer.from(p.body?.text ?? '');
  return describeRequest({ method, url: url + p.query, headers, body, bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
}

t.test('an override to DELETE in any spelling is judged as the deletion', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('GET', 'POST', 'PUT', 'HEAD', 'PATCH'), placement, async (method, p) => {
      const d = describe(method, 'https://api.github.com/repos/acme/widgets', p);
      if (d.service?.operation !== 'repos.delete' || d.service.effect !== 'delete') return false;
      const decision = await engine.decide(d);
      return decision.action === 'approve' && decision.approval?.risk === 'critical';
    }),
    { numRuns: 300 },
  );
  t.pass('300 spellings held as critical deletions');
});

t.test('an override in a body spelled the way servers decode it is judged as the deletion', async (t) => {
  // The body of a form, multipart or JSON override, compressed (gzip, deflate, br, stacked), in
  // UTF-16 with or without a byte order mark or a UTF-8 BOM, under another JSON media type.
  const bodies = fc.oneof(
    deleteValue.map((v) => ({ type: 'application/x-www-form-urlencoded', text: `a=1&_method=${encodeURIComponent(v)}` })),
    deleteValue.map((v) => ({ type: 'multipart/form-data; boundary=b0undary', text: `--b0undary\r\nContent-Disposition: form-data; name="_method"\r\n\r\n${v}\r\n--b0undary--\r\n` })),
    fc.tuple(deleteValue, fc.constantFrom('application/json', 'text/json', 'application/json-rpc', 'application/vnd.api+json', 'application/x-json')).map(([v, type]) => ({ type, text: JSON.stringify({ name: 'x', _method: v }) })),
  );
  const spelling = fc.record({
    coding: fc.constantFrom('', 'gzip', 'x-gzip', 'deflate', 'br', 'gzip, br', 'deflate, gzip'),
    charset: fc.constantFrom('', 'utf-16le', 'utf-16be', 'utf-16le-bom', 'utf-8-bom'),
  });
  const encode = (text: string, charset: string): { bytes: Buffer; param: string } => {
    const le = Buffer.from(text, 'utf16le');
    switch (charset) {
      case 'utf-16le': return { bytes: le, param: '; charset=utf-16le' };
      case 'utf-16be': return { bytes: Buffer.from(le).swap16(), param: '; charset=UTF-16BE' };
      case 'utf-16le-bom': return { bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), le]), param: '' };
      case 'utf-8-bom': return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), param: '' };
      default: return { bytes: Buffer.from(text), param: '' };
    }
  };
  const compress = (b: Buffer, coding: string): Buffer => coding.split(',').map((c) => c.trim()).filter(Boolean).reduce((acc, c) => (
    c === 'br' ? zlib.brotliCompressSync(acc) : c === 'deflate' ? zlib.deflateSync(acc) : zlib.gzipSync(acc)), b);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom('POST', 'PUT', 'PATCH'), bodies, spelling, async (method, body, sp) => {
      // Multipart is bytes with a boundary; servers do not transcode it (no charset spelling there).
      const charset = body.type.startsWith('multipart/') ? '' : sp.charset;
      const { bytes, param } = encode(body.text, charset);
      const headers: Array<[string, string]> = [['authorization', 'Bearer x'], ['content-type', body.type + param]];
      if (sp.coding) headers.push(['content-encoding', sp.coding]);
      const d = describeRequest({ method, url: 'https://api.github.com/repos/acme/widgets', headers, body: compress(bytes, sp.coding), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
      if (d.service?.operation !== 'repos.delete' || d.service.effect !== 'delete') throw new Error(`${method} ${body.type} ${JSON.stringify(sp)}: ${JSON.stringify(d.service)} ${JSON.stringify(d.request.method_override ?? null)}`);
      const decision = await engine.decide(d);
      return decision.action === 'approve' && decision.approval?.risk === 'critical';
    }),
    { numRuns: 200 },
  );
  t.pass('200 encoded bodies held as critical deletions');
});

t.test('an allowed host never reads an overridden GET as a read', async (t) => {
  await fc.assert(
    fc.asyncProperty(placement, async (p) => {
      const d = describe('GET', 'https://docs.example.org/page', p);
      const decision = await hostsEngine.decide(d);
      return decision.action !== 'allow';
    }),
    { numRuns: 150 },
  );
  const plain = await hostsEngine.decide(describeRequest({ method: 'GET', url: 'https://docs.example.org/page', headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } }));
  t.equal(plain.action, 'allow', 'control: the same GET without an override is a read');
});

// Ninth pass: RPC-style APIs run the operation their URL names whatever the method (Solr's
// collection and core admin APIs: `GET /solr/admin/collections?action=DELETE&name=orders`).
t.test('a GET whose URL names an operation that changes state is no read on an allowed host', async (t) => {
  const name = fc.constantFrom('action', 'ACTION', 'method', 'op', 'cmd', 'command', 'operation', '%20action', '%5Baction%5D', 'action%00x');
  const changing = fc.constantFrom('DELETE', 'delete', 'deleteIndex', 'DELETEALIAS', 'UNLOAD', 'purge_all', 'drop', 'Remove', 'flushall', 'shutdown');
  await fc.assert(
    fc.asyncProperty(name, changing, fc.constantFrom('/solr/admin/collections', '/api', '/'), async (n, v, p) => {
      const d = describeRequest({ method: 'GET', url: `https://docs.example.org${p}?${n}=${v}&name=orders`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
      return (await hostsEngine.decide(d)).action !== 'allow';
    }),
    { numRuns: 30 },
  );
  for (const v of ['LIST', 'STATUS', 'CLUSTERSTATUS', 'view', 'query', 'search', 'render']) {
    const d = describeRequest({ method: 'GET', url: `https://docs.example.org/solr/admin/collections?action=${v}`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
    t.equal((await hostsEngine.decide(d)).action, 'allow', `control: action=${v} reads`);
  }
});

// Twenty-ninth pass: the same parameter in a cookie. PHP's `$_REQUEST` (no php.ini: `EGPCS`, the
// cookie merged last) and classic ASP.NET's `Request["action"]` bind it from a cookie, so a GET
// with `Cookie: action=delete` (beside `?action=LIST`, or alone) runs the deletion.
t.test('property (twenty-ninth pass): a cookie naming an operation that changes state makes a GET no read on an allowed host', async (t) => {
  const name = fc.constantFrom('action', 'ACTION', 'op', 'cmd', 'command', '%20action', 'action%5B%5D', 'act.ion');
  const changing = fc.constantFrom('DELETE', 'delete', 'deleteIndex', 'UNLOAD', 'purge_all', 'drop', 'Remove%20all', 'shutdown');
  const query = fc.constantFrom('', '?name=orders', '?action=LIST&name=orders');
  await fc.assert(
    fc.asyncProperty(name, changing, query, fc.constantFrom('first', 'last'), async (n, v, q, at) => {
      const cookies = at === 'first' ? `${n}=${v}; session=abc; theme=dark` : `session=abc; theme=dark;${n}=${v}`;
      const d = describeRequest({ method: 'GET', url: `https://docs.example.org/admin.php${q}`, headers: [['Cookie', cookies]], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
      // (`act.ion` is PHP's `act_ion`: no operation name; the rest are.)
      return ((await hostsEngine.decide(d)).action !== 'allow') === (n !== 'act.ion');
    }),
    { numRuns: 40, examples: [['action', 'delete', '?action=LIST&name=orders', 'last']] },
  );
  // And a path segment's matrix parameter, as JAX-RS's `@MatrixParam` and Spring's `@MatrixVariable` bind it.
  for (const p of ['/solr/admin/collections;action=DELETE?name=orders', '/api;jsessionid=x;cmd=purge_all/run', '/admin;op=drop%5Fall']) {
    const d = describeRequest({ method: 'GET', url: `https://docs.example.org${p}`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
    t.not((await hostsEngine.decide(d)).action, 'allow', `${p}: no read`);
  }
  const session = describeRequest({ method: 'GET', url: 'https://docs.example.org/admin;jsessionid=abc;action=view', headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
  t.equal((await hostsEngine.decide(session)).action, 'allow', 'control: a session id and a read action in the path read');
  for (const c of ['session=abc; action=view; theme=dark', 'action=LIST', 'deleted=1; cmd_history=drop']) {
    const d = describeRequest({ method: 'GET', url: 'https://docs.example.org/admin.php?action=LIST', headers: [['Cookie', c]], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
    t.equal((await hostsEngine.decide(d)).action, 'allow', `control: ${c} reads`);
  }
});

t.test('an override that cannot be read one way is never allowed', async (t) => {
  const unclear = fc.oneof(
    fc.stringMatching(/^[A-Z]{3,10}$/).filter((v) => !['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].includes(v)).map((v): Placement => ({ headers: [['X-HTTP-Method-Override', v]], query: '' })),
    fc.constant<Placement>({ headers: [['X-HTTP-Method-Override', 'GET, POST']], query: '' }),
    fc.constant<Placement>({ headers: [['X-HTTP-Method-Override', 'GET'], ['X-HTTP-Method', 'HEAD']], query: '' }),
    fc.constant<Placement>({ headers: [['X-HTTP-Method-Override', 'GET']], query: '?_method=GET' }),
  );
  await fc.assert(
    fc.asyncProperty(unclear, fc.constantFrom('https://api.github.com/repos/acme/widgets', 'https://api.stripe.com/v1/customers/cus_1', 'https://docs.example.org/x'), async (p, url) => {
      const d = describe('GET', url, p);
      const decision = await (url.includes('docs.example.org') ? hostsEngine : engine).decide(d);
      return d.request.method_override?.ambiguous === true && decision.action !== 'allow';
    }),
    { numRuns: 120 },
  );
  t.pass('unknown verbs, conflicting values and several places are held');
});

t.test('a body that may carry _method but was cut by the capture is ambiguous', async (t) => {
  const d = describeRequest({
    method: 'POST', url: 'https://api.github.com/repos/acme/widgets/issues',
    headers: [['content-type', 'application/x-www-form-urlencoded'], ['content-length', '5000000']],
    body: Buffer.from('title=x&body=aaaa'), bodyTruncated: true,
  }, { agent: { id: 'agent', labels: {} } });
  t.match(d.request.method_override, { ambiguous: true });
  t.match(await engine.decide(d), { action: 'approve', approval: { risk: 'critical' } }, 'judged by the worst reading (a DELETE of the route)');
});

t.test('server-specific spellings of an override to DELETE are judged as the deletion', async (t) => {
  const form = (type: string, name: fc.Arbitrary<string>): fc.Arbitrary<Placement> =>
    fc.tuple(name, deleteValue).map(([n, v]) => ({ headers: [], query: '', body: { type, text: `a=1&${n}=${encodeURIComponent(v)}` } }));
  // Names PHP (leading blanks dropped, name cut at NUL) or Rack 2 (brackets around it) read as `_method`.
  const phpRackName = fc.constantFrom('%20_method', '++_method', '+.method', '_method%00', '_method%00x', '%5B_method%5D', '%5D_method', '_method%5D', '%5B%5B_method');
  const spelling: fc.Arbitrary<Placement> = fc.oneof(
    // CGI, WSGI and Rack see X_HTTP_METHOD_OVERRIDE as HTTP_X_HTTP_METHOD_OVERRIDE, like the hyphenated name.
    fc.tuple(fc.constantFrom('X_HTTP_Method_Override', 'x_http_method', 'X_Method-Override', 'X-HTTP_METHOD'), deleteValue).map(([n, v]): Placement => ({ headers: [[n, v]], query: '' })),
    fc.tuple(phpRackName, deleteValue).map(([n, v]) => ({ headers: [], query: `?${n}=${encodeURIComponent(v)}` })),
    form('application/x-www-form-urlencoded', phpRackName),
    // Rack reads an untyped POST as a form; PHP reads the type only up to `,`, `;` or a blank.
    form('', fc.constant('_method')),
    // Two Content-Type headers: servers differ on which they take.
    fc.tuple(fc.constantFrom('application/x-www-form-urlencoded', 'application/json'), deleteValue).map(([type, v]): Placement => ({
      headers: [['Content-Type', 'text/plain']], query: '', body: { type, text: type.endsWith('json') ? JSON.stringify({ _method: v }) : `_method=${encodeURIComponent(v)}` },
    })),
    // Rack 2 splits forms on `;` too.
    deleteValue.map((v) => ({ headers: [], query: '', body: { type: 'application/x-www-form-urlencoded', text: `a=1;_method=${encodeURIComponent(v)}` } })),
    form('application/x-www-form-urlencoded, text/plain', fc.constant('_method')),
    form('Application/X-WWW-Form-Urlencoded text/plain', fc.constant('_method')),
    // Laravel takes any Content-Type containing /json or +json as JSON; a BOM does not hide it.
    fc.tuple(fc.constantFrom('text/json', 'application/json-rpc', 'application/vnd.api+json; charset=utf-8', 'text/plain; x=/json'), fc.constantFrom('', '\uFEFF'), deleteValue)
      .map(([type, bom, v]) => ({ headers: [], query: '', body: { type, text: `${bom}{"a":1,"_method":${JSON.stringify(v)}}` } })),
    // Duplicate keys: a first-wins parser reads DELETE where JSON.parse reads GET.
    fc.tuple(fc.constantFrom('_method', '\\u005fmethod'), deleteValue).map(([n, v]) => ({ headers: [], query: '', body: { type: 'application/json', text: `{"${n}":${JSON.stringify(v)},"_method":"GET"}` } })),
    // Multipart with bare-LF line endings (PHP), or the part after a close delimiter.
    deleteValue.map((v) => ({ headers: [], query: '', body: { type: 'multipart/form-data; boundary=XyZ', text: `--XyZ\nContent-Disposition: form-data; name="_method"\n\n${v}\n--XyZ--\n` } })),
    deleteValue.map((v) => ({ headers: [], query: '', body: { type: 'multipart/form-data; boundary=XyZ', text: `--XyZ--\r\n--XyZ\r\nContent-Disposition: form-data; name="_method"\r\n\r\n${v}\r\n--XyZ--\r\n` } })),
    // Two boundaries: most parsers take the first, Rack the last `boundary=` (also `xboundary=`).
    // The body is a whole multipart body under each; only the second's parts hold `_method`.
    fc.tuple(fc.constantFrom('; boundary=AAA; boundary=XyZ', '; boundary=AAA; xboundary=XyZ', '; boundary="AAA"; boundary="XyZ"'), deleteValue).map(([params, v]) => ({
      headers: [], query: '',
      body: { type: `multipart/form-data${params}`, text: `--AAA\r\nContent-Disposition: form-data; name="note"\r\n\r\n--XyZ\r\nContent-Disposition: form-data; name="_method"\r\n\r\n${v}\r\n--XyZ--\r\n\r\n--AAA--\r\n` },
    })),
    // Eighteenth pass: the boundary parameter as Go's mime and Python's email (Django, Werkzeug) read
    // it — blanks around `=`, RFC 2231's extended value and continuations, a quoted string's escapes.
    fc.tuple(fc.constantFrom('; boundary = XyZ', "; boundary*=utf-8''XyZ", '; boundary*0=Xy; boundary*1=Z', '; boundary="X\\yZ"'), deleteValue).map(([params, v]) => ({
      headers: [], query: '', body: { type: `multipart/form-data${params}`, text: `--XyZ\r\nContent-Disposition: form-data; name="_method"\r\n\r\n${v}\r\n--XyZ--\r\n` },
    })),
    // Rack parses multipart/mixed and multipart/related for form fields too.
    fc.tuple(fc.constantFrom('multipart/mixed', 'multipart/related', 'Multipart/Mixed'), deleteValue).map(([type, v]) => ({ headers: [], query: '', body: { type: `${type}; boundary=XyZ`, text: `--XyZ\r\nContent-Disposition: form-data; name="_method"\r\n\r\n${v}\r\n--XyZ--\r\n` } })),
  );
  await fc.assert(
    fc.asyncProperty(spelling, async (p) => {
      const d = describe('POST', 'https://api.github.com/repos/acme/widgets', p);
      if (d.service?.operation !== 'repos.delete') return false;
      const decision = await engine.decide(d);
      return decision.action === 'approve' && decision.approval?.risk === 'critical';
    }),
    { numRuns: 200 },
  );
  t.pass('200 spellings held as critical deletions');
  // Control: a text body that looks like a form is read by no framework as one.
  const text = describe('POST', 'https://api.github.com/repos/acme/widgets/issues', { headers: [], query: '', body: { type: 'text/plain', text: 'a=1&_method=DELETE' } });
  t.equal(text.request.method_override, undefined, 'text/plain is not read as a form');
});

// Facebook's and Instagram's Graph API take the method as a plain `method` parameter: `POST
// /{object-id}` with `method=delete` deletes the object (fourteenth pass: read as a POST). Only
// there: elsewhere `method` is an ordinary field.
t.test("the Graph API's plain `method` parameter is read as an override there, and only there", async (t) => {
  const place: fc.Arbitrary<Placement> = fc.oneof(
    deleteValue.map((v) => ({ headers: [], query: `?method=${encodeURIComponent(v)}` })),
    deleteValue.map((v) => ({ headers: [], query: '', body: { type: 'application/x-www-form-urlencoded', text: `message=x&method=${encodeURIComponent(v)}` } })),
    deleteValue.map((v) => ({ headers: [], query: '', body: { type: 'multipart/form-data; boundary=XyZ', text: `--XyZ\r\nContent-Disposition: form-data; name="method"\r\n\r\n${v}\r\n--XyZ--\r\n` } })),
  );
  fc.assert(fc.property(fc.constantFrom('GET', 'POST'), fc.constantFrom('graph.facebook.com', 'GRAPH.facebook.com', 'graph-video.facebook.com', 'graph.instagram.com'), place, (method, host, p) => {
    const d = describe(method, `https://${host}/v19.0/1234567890`, p);
    return d.request.effective_method === 'DELETE';
  }), { numRuns: 60 });
  for (const url of ['https://api.example.org/v1/items', 'https://facebook.com.evil.example/v19.0/1']) {
    const other = describe('POST', url, { headers: [], query: '', body: { type: 'application/x-www-form-urlencoded', text: 'method=delete' } });
    t.equal(other.request.method_override, undefined, `${url}: method is an ordinary field`);
  }
});

// A server that does not honour overrides runs the request line's method: an override naming a
// method no route has (`PUT …/merge` + `X-HTTP-Method-Override: POST`) must not turn the merge or
// a force push into an "unknown" write (held lower, and under a path grant covered by one given
// for a harmless request of the same shape). Property: an override never makes the decision less
// severe than the request line alone, nor than the override's method alone.
t.test('an override is judged at least as severely as the request line and the override method each alone', async (t) => {
  const severity = (d: { action: string; approval?: { risk?: string } }): number =>
    d.action === 'allow' ? 0 : d.action === 'deny' ? 10 : ({ low: 1, medium: 2, high: 3, critical: 4 } as Record<string, number>)[d.approval?.risk ?? 'critical'] ?? 4;
  const requests = [
    ['PUT', 'https://api.github.com/repos/acme/app/pulls/1/merge', '{"merge_method":"squash"}'],
    ['PATCH', 'https://api.github.com/repos/acme/app/git/refs/heads/main', '{"sha":"aaaa","force":true}'],
    ['DELETE', 'https://api.github.com/repos/acme/app/git/refs/heads/main', ''],
    ['POST', 'https://api.github.com/repos/acme/app/issues/1/comments', '{"body":"x"}'],
    ['PUT', 'https://api.github.com/repos/acme/app/contents/.github/workflows/ci.yml', '{"message":"x","content":"eA=="}'],
    ['POST', 'https://api.stripe.com/v1/payouts', ''],
    ['PATCH', 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/todos', '{"done":true}'],
    ['PATCH', 'https://abcdefghijklmnopqrst.supabase.co/rest/v1/todos?id=neq.1', '{"done":true}'],
    // (Ninth pass) SQL on an allowed host's endpoint: an override to DELETE hid the DROP (the
    // DELETE reading, which carries no body SQL, won the tie), a medium plain write.
    ['POST', 'https://docs.example.org/v1/sql', '{"sql":"DROP TABLE users"}'],
  ] as const;
  const others = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];
  const spellings = ['X-HTTP-Method-Override', 'X-HTTP-Method', 'x-method-override'];
  // Every (request, override method) pair, each under a spelling fast-check picks.
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom(...spellings), { minLength: requests.length * others.length, maxLength: requests.length * others.length }), async (names) => {
      let i = 0;
      for (const [method, url, body] of requests) {
        const mk = (m: string, extra: Array<[string, string]>) =>
          describeRequest({ method: m, url, headers: [['authorization', 'Bearer x'], ['content-type', 'application/json'], ...extra], body: Buffer.from(body), bodyTruncated: false }, { agent: { id: 'agent', labels: {} } });
        const line = severity(await hostsEngine.decide(mk(method, [])));
        for (const o of others) {
          const overridden = severity(await hostsEngine.decide(mk(method, [[names[i++]!, o]])));
          const named = severity(await hostsEngine.decide(mk(o, [])));
          if (overridden < line || overridden < named) return false;
        }
      }
      return true;
    }),
    { numRuns: 1 },
  );
  t.pass('no override lowered a decision');
});
