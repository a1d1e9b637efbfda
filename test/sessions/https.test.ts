// Sessions over HTTPS (TLS interception, curl and Python requests trusting Airlock's CA): a page
// read through a CONNECT tunnel labels the session and serves a link; the link, spelled as another
// client sends it, can be followed in a new tunnel; the same link with a character changed cannot.
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import t from 'tap';
import { tempDir } from '../temp-dir.ts';
import { upstreamCert } from '../upstream-cert.ts';
import { policyCopy, run, startSessionAirlock, startWeb, studioApi } from './helpers.ts';

t.test('labels and link provenance through intercepted TLS', async (t) => {
  const dir = tempDir(t, 'al-sess-tls-');
  const { key, cert, certFile } = upstreamCert(dir, ['news.test', 'blog.test']);
  const hits: string[] = [];
  const server = https.createServer({ key, cert }, (req, res) => {
    const host = (req.headers.host ?? '').split(':')[0]!;
    hits.push(`${host}${req.url}`);
    if (host === 'news.test') {
      res.setHeader('content-type', 'text/html');
      res.end(`<p>Injected text.</p><a href="https://blog.test:${port}/a/%7Eb/entry?x=1&amp;y=2#top">more</a>`);
    } else res.end(`ok ${host}${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  t.teardown(() => new Promise<void>((r) => {
    server.closeAllConnections();
    server.close(() => r());
  }));

  const web = await startWeb(t);
  const home = tempDir(t, 'al-sess-tls-home-');
  const airlock = await startSessionAirlock(t, home, policyCopy(t), web, {
    allowPrivate: [`127.0.0.1:${web.port}`, `127.0.0.1:${port}`],
    upstreamCa: [certFile],
  });
  const { token } = await airlock.agents.add('bot');
  const proxy = airlock.proxyUrl('bot', token);
  const ca = path.join(home, 'ca.pem');
  t.ok(fs.existsSync(ca));
  const curl = async (url: string): Promise<number> => Number((await run('curl', ['-sS', '--max-time', '30', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', ca, '-x', proxy, url])).stdout);
  const python = async (url: string): Promise<number> => Number((await run('python3', ['-c', 'import sys, requests; print(requests.get(sys.argv[1], proxies={"https": sys.argv[2]}, verify=sys.argv[3], timeout=30).status_code)', url, proxy, ca])).stdout.trim());

  const link = `https://blog.test:${port}/a/%7Eb/entry?x=1&y=2`;
  t.equal(await curl(`https://news.test:${port}/today`), 200, 'the page is read through the tunnel');
  const api = await studioApi(airlock, home);
  const [s] = (await api('GET', '/api/sessions')).body.sessions as Array<{ labels: Record<string, { host: string }>; links: number }>;
  t.equal(s!.labels.untrusted?.host, 'news.test', 'the HTTPS page labelled the session');
  t.equal(s!.links, 1, 'and its link was recorded');

  t.equal(await python(link), 200, 'Python requests follows the served link');
  t.equal(await curl(`https://BLOG.test:${port}/a/~b/entry?x=1&y=2#other`), 200, 'curl, with another spelling of the same request');
  t.equal(await curl(`https://blog.test:${port}/a/~b/entry?x=1&y=3`), 403, 'one character changed is refused');
  t.equal(await python(`${link}&z`), 403, 'an added parameter is refused');
  t.same(hits.filter((h) => h.startsWith('blog.test')), ['blog.test/a/~b/entry?x=1&y=2', 'blog.test/a/~b/entry?x=1&y=2'], 'only the served link reached the host');
});
