// Method overrides through a running Airlock (the default policy, one extra allowed host where
// reads pass), to an upstream that runs overrides as CGI/WSGI/Rack servers and lighttpd's FastCGI
// do: the header is read from its environment key (HTTP_X_HTTP_METHOD_OVERRIDE), so
// `X_HTTP_METHOD_OVERRIDE`, `X-HTTP-Method.Override` and `X-HTTP-Method-Override` are one header to it. Real clients (curl, Python requests) send a GET
// that the upstream would run as a DELETE: nothing may reach it, while the plain GET still does.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import http from 'node:http';
import t from 'tap';
import { projectRoot } from '../../engine/toolchain.ts';
import { curl, startTestAirlock, startUpstream, tempDir } from './helpers.ts';

const ran: Array<{ method: string; marker: string; body: string }> = [];
const up = await startUpstream(t, {
  // Also a route that runs whatever the method (Go's http.HandleFunc, Flask's methods=['GET', 'POST']
  // with request.get_json(), Express's app.all): it reads a GET's body as it reads a POST's.
  handler: (req, res, body) => {
    // The CGI environment key of every header as lighttpd builds it for CGI, FastCGI (PHP-FPM) and
    // SCGI (http_cgi_encode_varname): upper case, every character but a letter or digit as `_`
    // (Rack, Puma and Python's CGI map only `-`, a subset).
    const env = new Map<string, string>();
    for (let i = 0; i < req.rawHeaders.length; i += 2) env.set(`HTTP_${req.rawHeaders[i]!.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`, req.rawHeaders[i + 1]!);
    const method = (env.get('HTTP_X_HTTP_METHOD_OVERRIDE') ?? req.method ?? '').toUpperCase();
    ran.push({ method, marker: String(req.headers['x-case'] ?? ''), body: body.toString('utf8') });
    res.end(method);
  },
});

const policy = tempDir(t, 'airlock-rego-hosts-');
fs.cpSync(path.join(projectRoot, 'rego'), policy, { recursive: true });
const dataFile = path.join(policy, 'config', 'data.json');
fs.writeFileSync(dataFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(dataFile, 'utf8')), allowed_hosts: ['docs.test'] }));
const a = await startTestAirlock(t, { policy, resolve: ['docs.test=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`] });
const base = `http://docs.test:${up.port}`;
const reached = (marker: string) => ran.filter((r) => r.marker === marker);

t.test('curl: a GET carrying X_HTTP_METHOD_OVERRIDE: DELETE reaches nothing; the plain GET does', async (t) => {
  const plain = await curl(['-x', a.proxyUrl, '-s', '-o', '-', '-w', '\n%{http_code}', '-H', 'x-case: curl-plain', `${base}/page`]);
  t.match(plain.stdout, /GET\n200$/, 'control: the read passes');
  for (const name of ['X_HTTP_METHOD_OVERRIDE', 'x_http_method_override', 'X-HTTP_Method-Override']) {
    const r = await curl(['-x', a.proxyUrl, '-s', '-o', '-', '-w', '\n%{http_code}', '-H', `x-case: curl-${name}`, '-H', `${name}: delete`, `${base}/page`]);
    t.notMatch(r.stdout, /\n200$/, `${name}: not allowed`);
    t.same(reached(`curl-${name}`), [], `${name}: the upstream ran nothing`);
  }
});

t.test('Python requests: the same', async (t) => {
  const out = await new Promise<string>((resolve) => {
    execFile('python3', ['-c', `
import requests
p = {'http': '${a.proxyUrl}'}
for marker, extra in [('py-plain', {}), ('py-under', {'X_HTTP_METHOD_OVERRIDE': 'DELETE'})]:
    r = requests.get('${base}/page', proxies=p, headers={'x-case': marker, **extra}, timeout=10)
    print(marker, r.status_code)
`], { timeout: 30_000 }, (err, stdout, stderr) => resolve(err ? `ERROR ${stderr}` : stdout));
  });
  t.match(out, /py-plain 200/, 'control: the read passes');
  t.notMatch(out, /py-under 200/, 'the overridden GET is not allowed');
  t.same(reached('py-under'), [], 'the upstream ran nothing');
});

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 10);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

/** A request through the proxy (absolute-form) with Node's client, the body framed as asked. */
function send(method: string, url: string, marker: string, body: { type: string; text: string } | undefined, chunked: boolean, extra: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'proxy-authorization': a.auth, host: new URL(url).host, 'x-case': marker, ...extra };
    if (body) headers['content-type'] = body.type;
    if (body && chunked) headers['transfer-encoding'] = 'chunked';
    // Set by hand: Node's client sends a HEAD's body unframed.
    else if (body) headers['content-length'] = String(Buffer.byteLength(body.text));
    const req = http.request({ host: '127.0.0.1', port: a.port, method, path: url, headers, agent: false, setHost: false });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    if (body && chunked) req.write(body.text.slice(0, 5));
    req.end(body ? (chunked ? body.text.slice(5) : body.text) : undefined);
  });
}

// Eleventh pass (wire): a body on a read method was decided as the read while a server that routes
// the path whatever the method ran it as a POST: `GET /api/run {"sql": "DROP TABLE users"}` was
// allowed (its POST is critical), and any data went out in a GET, HEAD or OPTIONS body unasked.
t.test('property: a GET, HEAD or OPTIONS with a body is decided as the POST a method-blind route runs; the bodiless read still passes', async (t) => {
  // Data going out (SQL bodies, whose first parse costs the grammars' load, are traffic tests in
  // fixtures/tests/other-services.yaml: a GET's DROP TABLE is the critical SQL).
  const bodies = [
    { type: 'application/x-www-form-urlencoded', text: 'to=drop%40evil.example&text=the+customer+list' },
    { type: 'application/json', text: '{"to": "drop@evil.example", "text": "the customer list"}' },
    { type: 'text/plain', text: 'the customer list, as the page asked' },
  ];
  let n = 0;
  await fc.assert(fc.asyncProperty(fc.constantFrom('GET', 'HEAD', 'OPTIONS'), fc.constantFrom(...bodies), fc.boolean(), fc.constantFrom('/api/run', '/page'), async (method, body, chunked, route) => {
    const marker = `body-${n++}`;
    const status = await send(method, `${base}${route}`, marker, body, chunked);
    if (status === 200 || reached(marker).length) throw new Error(`${method} ${route} with a ${body.type} body (${chunked ? 'chunked' : 'Content-Length'}) was allowed (${status}): the upstream ran ${JSON.stringify(reached(marker))}`);
    // The same read without its body is still allowed (nothing legitimate held).
    const plain = await send(method, `${base}${route}`, `${marker}-plain`, undefined, false);
    if (plain !== 200 || reached(`${marker}-plain`).length !== 1) throw new Error(`${method} ${route} without a body: ${plain}`);
  }), { numRuns, ...seed });
  // A real client: curl -X GET with --data (what people type for Elasticsearch-style APIs).
  const r = await curl(['-x', a.proxyUrl, '-s', '-o', '-', '-w', '\n%{http_code}', '-X', 'GET', '-H', 'x-case: curl-get-body', '-H', 'content-type: application/json', '--data', '{"to":"drop@evil.example","text":"the customer list"}', `${base}/api/run`]);
  t.notMatch(r.stdout, /\n200$/, 'curl -X GET --data: not allowed as a read');
  t.same(reached('curl-get-body'), [], 'the upstream ran nothing');
});

// Eleventh pass (wire): lighttpd keys every header for its CGI, FastCGI (PHP-FPM) and SCGI backends
// with each character but a letter or digit as `_`, so `X-HTTP-Method.Override: DELETE` is
// HTTP_X_HTTP_METHOD_OVERRIDE to PHP (Symfony and Laravel rebuild `X-Http-Method-Override` from
// it and run the DELETE), `X.Forwarded.Host` is the forwarding header a trusting framework serves
// another host by, `X+Original+URL` the path header older Symfony and Zend run. Airlock read `_`
// alone as `-`: each was an ordinary header to it.
t.test('property: override, forwarding and path headers spelled with any token separator are read as lighttpd keys them', async (t) => {
  const separators = ['-', '_', '.', '+', '!', '#', '$', '%', '&', "'", '*', '^', '`', '|', '~'];
  const spell = (words: string[], seps: string[], upper: boolean[]): string => words.map((w, i) => (upper[i] ? w.toUpperCase() : w) + (i < seps.length ? seps[i] : '')).join('');
  const kinds = [
    { words: ['X', 'HTTP', 'Method', 'Override'], value: 'DELETE' },
    { words: ['X', 'HTTP', 'Method'], value: 'DELETE' },
    { words: ['X', 'Method', 'Override'], value: 'DELETE' },
    { words: ['X', 'Forwarded', 'Host'], value: 'admin.internal' },
    // Nineteenth pass: the other names a trusting server takes its host from.
    { words: ['X', 'Original', 'Host'], value: 'admin.internal' },
    { words: ['X', 'HTTP', 'Host', 'Override'], value: 'admin.internal' },
    { words: ['X', 'Forwarded', 'Server'], value: 'admin.internal' },
    { words: ['X', 'Host'], value: 'admin.internal' },
    { words: ['X', 'Original', 'URL'], value: '/admin/users/delete' },
  ];
  let n = 0;
  await fc.assert(fc.asyncProperty(fc.constantFrom(...kinds), fc.array(fc.constantFrom(...separators), { minLength: 3, maxLength: 3 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), async (kind, seps, upper) => {
    const name = spell(kind.words, seps.slice(0, kind.words.length - 1), upper);
    const marker = `sep-${n++}`;
    const status = await send('GET', `${base}/page`, marker, undefined, false, { [name]: kind.value });
    if (status === 200 || reached(marker).length) throw new Error(`${name}: ${kind.value} was forwarded (${status}); the upstream ran ${JSON.stringify(reached(marker))}`);
  }), { numRuns, ...seed });
  // A harmless header with a dot in its name still passes.
  t.equal(await send('GET', `${base}/page`, 'sep-control', undefined, false, { 'X.Trace.Id': '42' }), 200, 'control: X.Trace.Id passes');
  // curl, a real client, with the dotted override.
  const r = await curl(['-x', a.proxyUrl, '-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'x-case: sep-curl', '-H', 'X-HTTP-Method.Override: DELETE', `${base}/page`]);
  t.not(r.stdout, '200', 'curl: X-HTTP-Method.Override: DELETE is not a read');
  t.same(reached('sep-curl'), [], 'the upstream ran nothing');
});
