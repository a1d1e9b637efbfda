// Real clients through a real Airlock: curl (-x, --cacert), Node fetch on undici's ProxyAgent and
// Python requests, to local HTTP and HTTPS upstreams; allowed and denied requests for each.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';
import { ProxyAgent, fetch } from 'undici';
import { auditRecords, httpUpstream, httpsUpstream, startProxy } from './helpers.ts';

const run = promisify(execFile);

t.test('curl, undici and python requests through the proxy', async (t) => {
  const px = await startProxy(t);
  const plain = await httpUpstream(t);
  const secure = await httpsUpstream(t, px.upstreamCert);
  const httpUrl = (p: string): string => `http://127.0.0.1:${plain.port}${p}`;
  // api.github.com is pinned to 127.0.0.1 (--resolve): the CA check uses the name, the dial the pin.
  const httpsUrl = (p: string): string => `https://api.github.com:${secure.port}${p}`;

  t.test('curl', async (t) => {
    const curl = async (...args: string[]): Promise<{ status: number; body: string }> => {
      const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', ...args]);
      const i = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
    };
    const ok = await curl('-x', px.proxyUrl, httpUrl('/hello?a=1'));
    t.equal(ok.status, 200);
    t.match(JSON.parse(ok.body), { method: 'GET', url: '/hello?a=1', host: `127.0.0.1:${plain.port}` });
    t.notOk(JSON.parse(ok.body).headers['proxy-authorization'], 'the agent credential never reaches the upstream');

    const denied = await curl('-x', px.proxyUrl, httpUrl('/deny/me'));
    t.equal(denied.status, 403);
    t.match(JSON.parse(denied.body), { type: 'https://airlock.dev/problems/policy-denied', title: 'Denied by policy', status: 403, detail: 'paths under /deny are denied', rule: 'deny-path', request_id: String });

    const tls = await curl('-x', px.proxyUrl, '--cacert', px.caFile, httpsUrl('/repos/o/r'));
    t.equal(tls.status, 200);
    t.match(JSON.parse(tls.body), { url: '/repos/o/r', host: `api.github.com:${secure.port}` });
    const tlsDenied = await curl('-x', px.proxyUrl, '--cacert', px.caFile, httpsUrl('/deny'));
    t.equal(tlsDenied.status, 403);
    t.equal(JSON.parse(tlsDenied.body).rule, 'deny-path');

    const post = await curl('-x', px.proxyUrl, '--cacert', px.caFile, '-H', 'content-type: application/json', '--data', '{"x":1}', httpsUrl('/post'));
    t.match(JSON.parse(post.body), { method: 'POST', bodyLength: 7 });

    const chunked = await curl('-x', px.proxyUrl, '-H', 'Transfer-Encoding: chunked', '--data-binary', 'abc', httpUrl('/chunked'));
    t.match(JSON.parse(chunked.body), { method: 'POST', bodyLength: 3 }, 'a chunked upload is re-framed and arrives whole');

    const noAuth = await curl('-x', `http://127.0.0.1:${px.proxyPort}`, httpUrl('/hello'));
    t.equal(noAuth.status, 407);
    t.equal(JSON.parse(noAuth.body).type, 'https://airlock.dev/problems/proxy-auth-required');
    const badAuth = await curl('-x', `http://agent-1:wrong@127.0.0.1:${px.proxyPort}`, httpUrl('/hello'));
    t.equal(badAuth.status, 407);
    const badTunnel = await run('curl', ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_connect}', '-x', `http://agent-1:wrong@127.0.0.1:${px.proxyPort}`, '--cacert', px.caFile, httpsUrl('/x')]).catch((e: { stdout: string }) => e);
    t.equal(badTunnel.stdout, '407', 'CONNECT without valid credentials gets 407');

    // The proxy CA is not trusted without --cacert: interception is visible, never silent.
    const untrusted = await run('curl', ['-sS', '--max-time', '10', '-x', px.proxyUrl, httpsUrl('/x')]).catch((e: { code: number }) => e);
    t.equal((untrusted as { code: number }).code, 60, 'curl refuses the interception certificate unless the CA is trusted');
  });

  t.test('Node fetch with undici ProxyAgent', async (t) => {
    const dispatcher = new ProxyAgent({ uri: `http://127.0.0.1:${px.proxyPort}`, token: px.auth, requestTls: { ca: fs.readFileSync(px.caFile, 'utf8') } });
    t.teardown(() => dispatcher.close());
    const r1 = await fetch(httpUrl('/via-undici'), { dispatcher });
    t.equal(r1.status, 200);
    t.match(await r1.json(), { url: '/via-undici' });
    // undici tunnels http:// through CONNECT too: a small POST arrives in one packet with its head.
    const posted = await fetch(httpUrl('/small-post'), { dispatcher, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"to":"x"}' });
    t.match(await posted.json(), { method: 'POST', url: '/small-post', bodyLength: 10 });
    const r2 = await fetch(httpUrl('/deny'), { dispatcher });
    t.equal(r2.status, 403);
    t.equal(r2.headers.get('content-type'), 'application/problem+json');
    t.match(await r2.json(), { rule: 'deny-path' });
    // Several requests on one keep-alive tunnel: each is decided on its own.
    for (const p of ['/a', '/deny/b', '/c']) {
      const r = await fetch(httpsUrl(p), { dispatcher });
      t.equal(r.status, p.startsWith('/deny') ? 403 : 200, `https ${p}`);
      await r.arrayBuffer();
    }
    const big = await fetch(httpsUrl('/big/200000'), { dispatcher });
    t.equal((await big.arrayBuffer()).byteLength, 200000, 'a large response streams through intact');
    const upload = await fetch(httpsUrl('/upload'), { dispatcher, method: 'PUT', body: Buffer.alloc(3 * 1024 * 1024, 98) });
    t.match(await upload.json(), { bodyLength: 3 * 1024 * 1024 }, 'a body beyond the capture cap streams through whole');
  });

  t.test('python3 requests', async (t) => {
    const script = `
import json, sys, requests
proxy, ca, http_url, https_url = sys.argv[1:5]
p = {"http": proxy, "https": proxy}
out = []
for url in [http_url + "/py", http_url + "/deny/py", https_url + "/py", https_url + "/deny/py"]:
    r = requests.get(url, proxies=p, verify=ca, timeout=10)
    out.append([r.status_code, r.headers.get("content-type"), r.json()])
print(json.dumps(out))
`;
    const { stdout } = await run('python3', ['-c', script, px.proxyUrl, px.caFile, httpUrl(''), httpsUrl('')], { timeout: 20_000 });
    const out = JSON.parse(stdout) as Array<[number, string, Record<string, unknown>]>;
    t.equal(out[0]![0], 200);
    t.match(out[0]![2], { url: '/py' });
    t.equal(out[1]![0], 403);
    t.equal(out[1]![1], 'application/problem+json');
    t.equal(out[2]![0], 200);
    t.match(out[2]![2], { url: '/py', host: `api.github.com:${secure.port}` });
    t.equal(out[3]![0], 403);
    t.match(out[3]![2], { rule: 'deny-path' });
  });

  t.test('the audit log holds every decision, never the agent token', async (t) => {
    const records = await auditRecords(px.airlock);
    const raw = fs.readFileSync(px.airlock.audit.file, 'utf8');
    t.notOk(raw.includes(px.token), 'token never in the audit log');
    const forwarded = records.find((r) => r.outcome === 'forwarded' && String(r.url).endsWith('/py'));
    t.match(forwarded, { agent: 'agent-1', decision: { action: 'allow', rule: 'allow-all' }, status: 200, upstream_status: 200, policy_version: String, decision_us: Number, total_ms: Number, description: { request: { method: 'GET' }, agent: { id: 'agent-1', labels: { team: 'test' } } } });
    t.ok(records.some((r) => r.outcome === 'denied' && (r.decision as { rule: string }).rule === 'deny-path'));
    t.ok(records.some((r) => r.outcome === 'unauthenticated' && r.status === 407));
    const upload = records.find((r) => String(r.url).endsWith('/upload')) as { outcome: string; description: { request: { body: { truncated: boolean; size: number } } } };
    t.match(upload, { outcome: 'forwarded', description: { request: { body: { truncated: true, size: 3 * 1024 * 1024 } } } }, 'beyond the cap: described as truncated, streamed whole');
    t.equal(fs.statSync(px.airlock.audit.file).mode & 0o777, 0o600);
  });
});
