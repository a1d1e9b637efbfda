// The link scanner: what it finds in HTML, JSON and text, that chunking never changes the result
// (property), and its bounds.
import fc from 'fast-check';
import t from 'tap';
import { domainToUnicode } from 'node:url';
import { LinkScanner, bodyLinkCarriesRequestValue, linkFormat, linkSkeleton, normalizeLink, redirectCarriesRequestValue, requestValues, skeleton } from '../../describe/links.ts';

const scan = (format: 'html' | 'json' | 'text', body: string, cuts: number[] = [], limits?: ConstructorParameters<typeof LinkScanner>[2]): string[] => {
  const s = new LinkScanner(format, 'https://page.example/dir/index.html', limits);
  let at = 0;
  for (const c of [...cuts].sort((a, b) => a - b)) {
    s.write(body.slice(at, c));
    at = c;
  }
  s.write(body.slice(at));
  return s.end();
};

t.test('HTML: attributes resolved against the page and <base>, entities decoded, text and srcset', async (t) => {
  const links = scan('html', `<head><base href="https://cdn.example/b/"></head>
    <a href="x?a=1&amp;b=2#f">x</a><img src="/i.png" srcset="s1.png 1x, https://img.example/s2.png 2x">
    <p>see https://text.example/p). and <a href="javascript:alert(1)">j</a> <a href="mailto:a@b">m</a></p>`);
  t.same(links, [
    'https://cdn.example/b/', 'https://cdn.example/b/x?a=1&b=2', 'https://cdn.example/i.png', 'https://cdn.example/b/s1.png',
    'https://img.example/s2.png', 'https://text.example/p).', 'https://text.example/p',
  ]);
});

t.test('JSON: escapes undone; URLs inside strings; not JSON falls back to text', async (t) => {
  t.same(scan('json', '{"u":"https:\\/\\/x.example\\/a?b=1\\u0026c=2","t":"[doc](https://y.example/d)"}'), ['https://x.example/a?b=1&c=2', 'https://y.example/d)', 'https://y.example/d']);
  t.same(scan('json', 'callback({"u": "https://z.example/q"})'), ['https://z.example/q'], 'JSONP is read as text');
});

t.test('normalization is the description\'s', async (t) => {
  t.equal(normalizeLink('HTTPS://User:pw@Bücher.EXAMPLE.:443/a/./b/../c?q=1#f'), 'https://xn--bcher-kva.example/a/c?q=1');
  t.equal(normalizeLink('ftp://x.example/'), undefined);
  t.equal(normalizeLink('https://x.example:0/'), undefined);
  t.equal(linkFormat('text/html; charset=utf-8'), 'html');
  t.equal(linkFormat('application/vnd.api+json'), 'json');
  t.equal(linkFormat('image/png'), undefined);
});

t.test('skeletons: the ASCII shortcut reads as the full fold does, hosts with and without punycode (property)', async (t) => {
  // The full reading: escapes undone, NFKC, case folded through upper case, letters and digits kept.
  const full = (text: string): string => decodeURIComponent(text.replace(/%(?![0-9a-fA-F]{2})/g, '%25')).normalize('NFKC').toLowerCase().toUpperCase().toLowerCase().replace(/[^\p{L}\p{N}]+/gu, '');
  const ascii = fc.string({ unit: fc.constantFrom(...Array.from({ length: 0x60 }, (_, i) => String.fromCharCode(0x20 + i)).filter((c) => c !== '%'), '\t', '\n', '\u007f'), maxLength: 40 });
  fc.assert(fc.property(ascii, (text) => skeleton(text) === full(text)), { numRuns: 300 });
  t.equal(skeleton('Ａ%41ß'), 'aass', 'fullwidth, escapes and ß still fold');
  const label = fc.constantFrom('a', 'xn--bcher-kva', 'Example', 'xn--nxasmq6b', 'x1', 'b-c');
  const host = fc.oneof(fc.array(label, { minLength: 1, maxLength: 3 }).map((l) => l.join('.')), fc.constantFrom('127.0.0.1', '[::1]', 'a.b:8443'));
  fc.assert(fc.property(host, fc.constantFrom('', '/p', '/p?q=1', '/%C3%A9?x=%41'), (h, rest) => {
    const u = new URL(`https://${h}${rest}`);
    return linkSkeleton(u.href) === full(`${domainToUnicode(u.hostname)} ${u.port} ${u.pathname}${u.search}`);
  }), { numRuns: 100 });
});

t.test('chunking never changes what is found (property)', async (t) => {
  const piece = fc.constantFrom('https://a.example/x?y=1', ' text ', '<a href="/rel">r</a>', '"https:\\/\\/b.example\\/"', '&amp;', '\n', 'http://c.example/p.', '<p>', '</p>', ',', '{"k":', '"v"}');
  fc.assert(fc.property(fc.array(piece, { maxLength: 30 }), fc.constantFrom('html', 'json', 'text') as fc.Arbitrary<'html' | 'json' | 'text'>, fc.array(fc.nat(), { maxLength: 12 }), (parts, format, cutsRaw) => {
    const body = parts.join('');
    const cuts = cutsRaw.map((c) => (body.length ? c % body.length : 0));
    return JSON.stringify(scan(format, body)) === JSON.stringify(scan(format, body, cuts));
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300) });
});

t.test('chunking never changes what is found, URLs too long to keep included (property)', async (t) => {
  // A URL longer than any kept one is dropped whole, whatever URL is written inside it: a chunk
  // that ends inside it must not make its rest (`…&u=https://in.example/x&page=2`) a link of its own.
  const limits = { maxChars: 1 << 20, maxLinks: 1000, urlChars: 40 };
  const piece = fc.constantFrom('https://long.example/?pad=aaaaaaaaaaaaaaaaaaaaaaaaa', '&u=https://in.example/x', '&page=2', 'https://a.example/x', ' ', '\n', '<p>', '</p>', '"', 'bbbbbbbbbbbbbbbb');
  fc.assert(fc.property(fc.array(piece, { maxLength: 20 }), fc.constantFrom('html', 'json', 'text') as fc.Arbitrary<'html' | 'json' | 'text'>, fc.array(fc.nat(), { maxLength: 12 }), (parts, format, cutsRaw) => {
    const body = parts.join('');
    const cuts = cutsRaw.map((c) => (body.length ? c % body.length : 0));
    return JSON.stringify(scan(format, body, [], limits)) === JSON.stringify(scan(format, body, cuts, limits));
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300) });
});

t.test('JSON: the links of exactly its strings, keys and values, escaped or not, however chunked (property)', async (t) => {
  // The scanner reads a JSON body as plain text until the first backslash, then tokenizes it; both
  // must find what scanning each string of the parsed document finds.
  const piece = fc.constantFrom('https://a.example/x?y=1', 'http://b.example/p.', ' ', 'text', '"', '\\', '/', '\n', '\u2028', 'é', '{', '}', ':', ',', "'", 'https://c.example/');
  const text = fc.array(piece, { maxLength: 8 }).map((p) => p.join(''));
  const key = fc.oneof(text, fc.constantFrom('url', 'html_url', 'k')).filter((k) => !/^\d+$/.test(k));
  const value = fc.oneof(text, fc.array(text, { maxLength: 3 }), fc.integer(), fc.constant(null), fc.dictionary(key, text, { maxKeys: 3 }));
  const doc = fc.dictionary(key, value, { maxKeys: 5 });
  const strings = (v: unknown, out: string[]): string[] => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) for (const x of v) strings(x, out);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) strings(k, out), strings(x, out);
    return out;
  };
  fc.assert(fc.property(doc, fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (d, escapeSlashes, cutsRaw) => {
    let body = JSON.stringify(d);
    if (escapeSlashes) body = body.replaceAll('/', '\\/');
    const cuts = cutsRaw.map((c) => (body.length ? c % body.length : 0));
    const expected = [...new Set(strings(d, []).flatMap((s) => scan('text', s)))];
    return JSON.stringify(scan('json', body, cuts)) === JSON.stringify(expected);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300) });
});

t.test('bounded: characters read, links kept, URL length', async (t) => {
  const many = Array.from({ length: 50 }, (_, i) => `https://h${i}.example/`).join(' ');
  t.equal(scan('text', many, [], { maxChars: 1 << 20, maxLinks: 10, urlChars: 2048 }).length, 10, 'at most maxLinks');
  t.equal(scan('text', `${'x'.repeat(100)} https://late.example/`, [], { maxChars: 50, maxLinks: 10, urlChars: 2048 }).length, 0, 'nothing past maxChars');
  t.same(scan('text', `https://long.example/${'a'.repeat(3000)} https://ok.example/`, [], { maxChars: 1 << 20, maxLinks: 10, urlChars: 2048 }), ['https://ok.example/'], 'over-long URLs are dropped, never cut');
});

// A search engine's click-through URL carries its target in a query value (DuckDuckGo's HTML
// results: `//duckduckgo.com/l/?uddg=https%3A%2F%2F…&rut=…`; Google's `/url?q=…`): agents read the
// target out and ask for it, so the answer serves it too (eleventh pass: every result of the default
// source html.duckduckgo.com was unseen). Property over targets × wrapper spellings × formats.
t.test('a link carried in a link\'s query value is served too (property)', async (t) => {
  // A label starting `xn--` is punycode, which these random letters seldom are: no URL, no link.
  const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}[a-z0-9]$/).filter((l) => !l.startsWith('xn--'));
  const target = fc.record({
    scheme: fc.constantFrom('http', 'https'),
    host: fc.array(label, { minLength: 2, maxLength: 3 }).map((l) => l.join('.')),
    path: fc.array(fc.stringMatching(/^[A-Za-z0-9_~.-]{1,8}$/).filter((s) => s !== '.' && s !== '..'), { maxLength: 3 }),
    query: fc.array(fc.tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.stringMatching(/^[A-Za-z0-9]{0,6}$/)), { maxLength: 2 }),
  }).map((u) => `${u.scheme}://${u.host}/${u.path.join('/')}${u.query.length ? `?${u.query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''}`);
  const wrap = fc.constantFrom('ddg-html', 'ddg-json', 'google-raw', 'google-text');
  fc.assert(fc.property(target, wrap, (u, how) => {
    let links: string[];
    switch (how) {
      case 'ddg-html': links = scan('html', `<a class="result__a" href="//duckduckgo.com/l/?uddg=${encodeURIComponent(u)}&amp;rut=ab12">r</a>`); break;
      case 'ddg-json': links = scan('json', JSON.stringify({ results: [`https://duckduckgo.com/l/?uddg=${encodeURIComponent(u)}&rut=ab12`] })); break;
      case 'google-raw': links = scan('html', `<a href="/url?sa=t&amp;q=${encodeURIComponent(u)}&amp;ved=x">r</a>`); break;
      default: links = scan('text', `see https://www.google.com/url?q=${encodeURIComponent(u)}&sa=U and more`);
    }
    return links.includes(normalizeLink(u)!);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300) });
  // Values that are no absolute URL carry nothing; at most four are read out of one link.
  t.same(scan('html', '<a href="/s?q=red+shoes&amp;u=/local&amp;v=ftp://x.example/">s</a>'), ['https://page.example/s?q=red+shoes&u=/local&v=ftp://x.example/']);
  const many = Array.from({ length: 6 }, (_, i) => `u${i}=${encodeURIComponent(`https://t${i}.example/`)}`).join('&amp;');
  t.equal(scan('html', `<a href="/m?${many}">m</a>`).length, 1 + 4);
});

// Fifteenth pass: a link a server builds to another host from a value the request sent (OAuth's
// error redirect with `state`, a JSON-RPC or GraphQL call's nested value) is the agent's data.
t.test('a link to another host carrying a request value, wherever the request held it', async (t) => {
  const value = fc.stringMatching(/^[a-z0-9][a-z0-9-]{2,15}$/);
  fc.assert(fc.property(value, fc.integer({ min: 0, max: 3 }), fc.constantFrom('query', 'form', 'json'), (v, depth, where) => {
    let nested: unknown = v;
    for (let i = 0; i < depth; i++) nested = i % 2 ? [nested] : { params: nested };
    const sent = requestValues({
      host: 'idp.example', query: where === 'query' ? { state: [v] } : {},
      ...(where === 'form' ? { form: { state: [v] } } : {}), ...(where === 'json' ? { json: { call: nested } } : {}),
    });
    return redirectCarriesRequestValue(`https://evil.example/cb?state=${v}`, sent) && bodyLinkCarriesRequestValue(`https://evil.example/cb?error=x&state=${v}`, sent)
      && !redirectCarriesRequestValue('https://blog.example/help?topic=oauth', sent) && !bodyLinkCarriesRequestValue('https://pypi.org/project/' + v + '/', sent)
      && !redirectCarriesRequestValue(`https://www.idp.example/cb?state=${v}`, sent);
  }), { numRuns: 100 });
});
