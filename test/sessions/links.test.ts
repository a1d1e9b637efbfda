// The link scanner: what it finds in HTML, JSON and text, that chunking never changes the result
// (property), and its bounds.
import fc from 'fast-check';
import t from 'tap';
import { LinkScanner, linkFormat, normalizeLink } from '../../describe/links.ts';

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
