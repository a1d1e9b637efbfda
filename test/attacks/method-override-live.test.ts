// Method overrides through a running Airlock (the default policy, one extra allowed host where
// reads pass), to an upstream that runs overrides as CGI/WSGI/Rack servers do: the header is read
// from its environment key (HTTP_X_HTTP_METHOD_OVERRIDE), so `X_HTTP_METHOD_OVERRIDE` and
// `X-HTTP-Method-Override` are one header to it. Real clients (curl, Python requests) send a GET
// that the upstream would run as a DELETE: nothing may reach it, while the plain GET still does.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { projectRoot } from '../../engine/toolchain.ts';
import { curl, startTestAirlock, startUpstream, tempDir } from './helpers.ts';

const ran: Array<{ method: string; marker: string }> = [];
const up = await startUpstream(t, {
  handler: (req, res) => {
    // The CGI environment key of every header: upper case, `-` → `_`.
    const env = new Map<string, string>();
    for (let i = 0; i < req.rawHeaders.length; i += 2) env.set(`HTTP_${req.rawHeaders[i]!.toUpperCase().replaceAll('-', '_')}`, req.rawHeaders[i + 1]!);
    const method = (env.get('HTTP_X_HTTP_METHOD_OVERRIDE') ?? req.method ?? '').toUpperCase();
    ran.push({ method, marker: String(req.headers['x-case'] ?? '') });
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
