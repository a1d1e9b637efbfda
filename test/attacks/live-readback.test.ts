// Reading the credential back over a channel opened before it was injected. Real request
// inspectors, log viewers and webhook testers do not only show a snapshot of their log: they tail
// it — server-sent events, a long poll answered by the next request, a WebSocket that pushes each
// request as it arrives. An agent opens such a channel to a host that has never had a credential
// (nothing to scrub yet), then sends the request that gets the credential injected; the service
// pushes the record of that request, real value included, down the channel that was opened
// before. And on a host that already had one secret injected, a channel opened then must not
// show a second secret injected later. Whatever reaches the agent is read with the suite's own
// brute-force oracle (test/attacks/spelling-oracle.ts): in every representation, charset, content
// coding and byte range the agent asked the channel for, no form of the value may appear. Each
// attack uses fresh host names (test/attacks/fixtures/live-readback), so it starts on a host that
// has never had a credential injected in this process.
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { HttpProxyAgent } from 'http-proxy-agent';
import t from 'tap';
import { WebSocket } from 'ws';
import { eventually, startTestAirlock } from './helpers.ts';
import { formats, readbackService, type Format, type Service } from './readback-service.ts';
import { reveal } from './spelling-oracle.ts';

process.env.AIRLOCK_MASTER_KEY ??= '3c'.repeat(32);
const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS_LIVE ?? 24);
const SSE_RUNS = Math.max(8, Math.ceil(numRuns / 3));
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

const SECRET = 'sk_live_L1veTail/Canary+Key=&<x>%~0123456789';
const SECOND = 'xs2_SecondKey/Value+42=abcdef0123456789';

/** The service behind each port: a server of its own, with its own log. */
const services = new Map<number, Service>();
/** A server of the service on a port of its own: no secret was ever sent to its address. */
async function freshServer(): Promise<number> {
  const service = readbackService();
  const server = http.createServer((req, res) => {
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => service.handler(req, res, Buffer.concat(body)));
  });
  service.attach(server);
  // Upgraded sockets are the server's no more: closed by hand.
  const sockets = new Set<net.Socket>();
  server.on('connection', (c: net.Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => new Promise<void>((resolve) => {
    for (const c of sockets) c.destroy();
    server.close(() => resolve());
  }));
  const port = (server.address() as net.AddressInfo).port;
  services.set(port, service);
  return port;
}

const KINDS = ['hdr', 'basic', 'query'] as const;
type Kind = typeof KINDS[number] | 'two' | 'plain';
const NAMES = 2 * Math.max(numRuns, 12) + 8 + SSE_RUNS;
const a = await startTestAirlock(t, {
  policy: 'live-readback', secrets: { api: SECRET, second: SECOND },
  resolve: Array.from({ length: NAMES }, (_, i) => [...KINDS, 'two', 'plain'].map((k) => `r${i}.${k}.example=127.0.0.1`)).flat(),
  // Every port of 127.0.0.1: each attack gets a server of its own.
  allowPrivate: ['127.0.0.1'],
});
// Each attack comes with a new token of the agent. Closing a channel while Airlock holds back the
// start of a secret (its next piece not there yet, on a loaded machine) is what a probe does, so
// that token is revoked (proxy/secret-probe.ts), as it should be, and perhaps only after the next
// attack began.
let auth = a.auth;
let proxyUrl = a.proxyUrl;
async function freshToken(): Promise<void> {
  const { token } = await a.airlock.agents.issueToken(a.agent);
  auth = `Basic ${Buffer.from(`${a.agent}:${token}`).toString('base64')}`;
  proxyUrl = a.airlock.proxyUrl(a.agent, token);
}
const PH = a.placeholders.api!;
const PH2 = a.placeholders.second!;
let fresh = 0;
/** host:port, a name nothing was ever injected into in this process, on `port` or a fresh server. */
async function freshHost(kind: Kind, port?: number): Promise<string> {
  if (fresh >= NAMES) throw new Error('out of fresh host names');
  return `r${fresh++}.${kind}.example:${port ?? await freshServer()}`;
}
const nameOf = (host: string): string => host.replace(/:\d+$/, '');
const portOf = (host: string): number => Number(/:(\d+)$/.exec(host)![1]);
const serviceOf = (host: string): Service => services.get(portOf(host))!;

function send(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: a.port, path: url, agent: false, setHost: false, headers: { host: new URL(url).host, 'proxy-authorization': auth, ...headers } });
    req.setTimeout(10_000, () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.end();
  });
}

/** The request that gets the credential injected at `host` (its slot holds the placeholder). */
async function inject(host: string, kind: Kind, which: 'api' | 'second' = 'api'): Promise<void> {
  await freshToken();
  const base = `http://${host}`;
  const r = which === 'second' ? await send(`${base}/api/b`, { 'x-second': PH2 })
    : kind === 'query' ? await send(`${base}/api/x?key=${PH}`)
      : kind === 'basic' ? await send(`${base}/api/x`, { authorization: `Basic ${Buffer.from(`user:${PH}`).toString('base64')}` })
        : await send(`${base}/api/x`, { authorization: `Bearer ${PH}` });
  if (r.status !== 200) throw new Error(`the injecting request to ${host} was not answered: ${r.status} ${r.body.slice(0, 200)}`);
}

interface Channel {
  /** Resolves once the channel is open at the service (it will show the next request). */
  ready: Promise<void>;
  /** Everything the agent received on it so far: headers, bytes, and the body decoded as the agent would. */
  seen(): Buffer;
  /** How many pieces (chunks, messages) arrived; whether it has ended. */
  pieces(): number;
  ended(): boolean;
  close(): void;
}

interface Ask {
  /** sse-upgrade: the event stream asked for with a WebSocket handshake, which the server ignores (it answers 200). */
  channel: 'sse' | 'wait' | 'ws' | 'sse-upgrade';
  format: Format;
  only: boolean;
  /** Accept-Charset the agent sends on the channel's request. */
  charset: string | undefined;
  gzip: boolean;
  range: string | undefined;
  binary: boolean;
  /** Ask for the requests to every name the server answers to (?all=1). */
  all?: boolean;
  /** More of the query: how an event stream frames the record (cut, fields, ping, crlf). */
  framing?: Record<string, string>;
}

function query(ask: Ask): string {
  const q = new URLSearchParams({ format: ask.format });
  if (ask.only) q.set('only', 'authorization');
  if (ask.gzip) q.set('gzip', '1');
  if (ask.binary) q.set('binary', '1');
  if (ask.all) q.set('all', '1');
  for (const [k, v] of Object.entries(ask.framing ?? {})) q.set(k, v);
  return q.toString();
}

/** Gunzips what arrived of a gzip stream, as far as it goes (a cut stream has no trailer). */
const gunzipPartial = (b: Buffer): Buffer => {
  try {
    return zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  } catch {
    return Buffer.alloc(0);
  }
};

function openHttp(host: string, ask: Ask): Channel {
  const chunks: Buffer[] = [];
  let head = '';
  let gz = false;
  let done = false;
  let count = 0;
  const headers: Record<string, string> = { host: `${host}`, 'proxy-authorization': auth };
  if (ask.charset) headers['accept-charset'] = ask.charset;
  if (ask.range) headers.range = ask.range;
  if (ask.gzip) headers['accept-encoding'] = 'gzip';
  const path = ask.channel === 'sse' ? '/tail' : '/wait';
  const key = ask.all ? '*' : nameOf(host);
  const service = serviceOf(host);
  const watchers = service.watching(key);
  const req = http.request({ host: '127.0.0.1', port: a.port, path: `http://${host}${path}?${query(ask)}`, agent: false, setHost: false, headers });
  let opened: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => { opened = resolve; });
  req.on('error', () => { done = true; opened(); });
  req.on('response', (res) => {
    head = `${res.statusCode} ${res.statusMessage}\n${Object.entries(res.headers).map(([k, v]) => `${k}: ${String(v)}`).join('\n')}\n`;
    gz = /gzip/.test(String(res.headers['content-encoding'] ?? ''));
    res.on('data', (c: Buffer) => {
      chunks.push(c);
      count++;
      if (ask.channel === 'sse') opened();
    });
    const end = (): void => { done = true; opened(); };
    res.on('end', end);
    res.on('close', end);
    res.on('error', end);
  });
  req.end();
  if (ask.channel === 'wait') void eventually(() => service.watching(key) > watchers, 5000).then(() => opened());
  return {
    ready,
    seen: () => {
      const body = Buffer.concat(chunks);
      return Buffer.concat([Buffer.from(head, 'latin1'), body, gz ? gunzipPartial(body) : Buffer.alloc(0)]);
    },
    pieces: () => count,
    ended: () => done,
    close: () => req.destroy(),
  };
}

function openWs(host: string, ask: Ask): Channel {
  const messages: Buffer[] = [];
  let done = false;
  const ws = new WebSocket(`ws://${host}/ws-tail?${query(ask)}`, { agent: new HttpProxyAgent(proxyUrl) });
  const ready = new Promise<void>((resolve) => {
    ws.on('open', () => resolve());
    ws.on('close', () => { done = true; resolve(); });
    ws.on('error', () => { done = true; resolve(); });
  });
  ws.on('message', (d: Buffer) => messages.push(Buffer.from(d)));
  return { ready, seen: () => Buffer.concat(messages), pieces: () => messages.length, ended: () => done, close: () => ws.terminate() };
}

/** The event stream behind a WebSocket handshake: a server without WebSocket support answers it as a plain GET. */
function openUpgrade(host: string, ask: Ask): Channel {
  const bytes: Buffer[] = [];
  let done = false;
  const socket = net.connect(a.port, '127.0.0.1');
  socket.write(`GET http://${host}/tail?${query(ask)} HTTP/1.1\r\nHost: ${host}\r\nProxy-Authorization: ${auth}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n`
    + `Sec-WebSocket-Key: ${Buffer.alloc(16, 7).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n${ask.charset ? `Accept-Charset: ${ask.charset}\r\n` : ''}\r\n`);
  const ready = new Promise<void>((resolve) => {
    socket.on('data', (c: Buffer) => {
      bytes.push(c);
      if (Buffer.concat(bytes).includes('\r\n\r\n')) resolve();
    });
    socket.on('close', () => { done = true; resolve(); });
    socket.on('error', () => { done = true; resolve(); });
  });
  return { ready, seen: () => Buffer.concat(bytes), pieces: () => bytes.length, ended: () => done, close: () => socket.destroy() };
}

const open = (host: string, ask: Ask): Channel => (ask.channel === 'ws' ? openWs(host, ask) : ask.channel === 'sse-upgrade' ? openUpgrade(host, ask) : openHttp(host, ask));

/** Opens the channel (on `via`, another name, if given), injects, and returns what the agent got on it once the service pushed the record. */
async function attack(host: string, kind: Kind, ask: Ask, which: 'api' | 'second' = 'api', via = host, settle = 50): Promise<Buffer> {
  await freshToken();
  const ch = open(via, ask);
  try {
    await ch.ready;
    if (ch.ended()) throw new Error(`the ${ask.channel} channel to ${host} did not open`);
    const before = ch.pieces();
    await inject(host, kind, which);
    // The service pushes the record at once; wait for it to arrive (or for the channel to be cut).
    await eventually(() => ch.ended() || ch.pieces() > before, 4000);
    await new Promise((r) => setTimeout(r, settle));
    return ch.seen();
  } finally {
    ch.close();
  }
}

const ask = fc.record({
  channel: fc.constantFrom('sse', 'wait', 'ws', 'sse-upgrade'),
  format: fc.constantFrom(...formats),
  only: fc.boolean(),
  charset: fc.constantFrom(undefined, undefined, 'utf-16le', 'utf-16', 'utf-32be', 'iso-8859-1'),
  gzip: fc.boolean(),
  range: fc.constantFrom(undefined, undefined, 'bytes=0-40', 'bytes=30-', 'bytes=-60'),
  binary: fc.boolean(),
}).map((x) => ({ ...x, gzip: x.gzip && x.channel === 'sse', range: x.channel === 'wait' ? x.range : undefined, binary: x.binary && x.channel === 'ws' })) as fc.Arbitrary<Ask>;

t.test('property: a channel opened before the first injection never shows the value the service recorded after it', async (t) => {
  let n = 0;
  await fc.assert(fc.asyncProperty(ask, fc.constantFrom(...KINDS), async (q, kind) => {
    const host = await freshHost(kind);
    const seen = await attack(host, kind, { ...q, only: q.only && kind !== 'query' });
    n++;
    const found = reveal(seen, SECRET);
    if (found) throw new Error(`${q.channel} to ${host} (${JSON.stringify(q)}): the agent read the value back (${found})`);
    // An event stream whose head left unscrubbed is cut when the host gets its first secret, and recorded so.
    if (q.channel === 'sse' && !(await eventually(() => a.records.some((r) => r.url?.startsWith(`http://${host}/tail`) && r.outcome === 'scrub-refused'), 3000))) {
      throw new Error(`the event stream to ${host} was not recorded as cut (scrub-refused)`);
    }
  }), { numRuns, ...seed });
  t.pass(`${n} channels checked`);
});

t.test('a channel opened after one secret was injected never shows a second secret injected later', async (t) => {
  for (const channel of ['sse', 'wait', 'ws'] as const) {
    const host = await freshHost('two');
    await inject(host, 'two');
    const seen = await attack(host, 'two', { channel, format: 'json', only: false, charset: undefined, gzip: false, range: undefined, binary: false }, 'second');
    t.equal(reveal(seen, SECOND), undefined, `${channel}: the second secret is not shown`);
    t.equal(reveal(seen, SECRET), undefined, `${channel}: nor the first`);
  }
});

t.test('control: a live channel opened after the injection keeps working, scrubbed', async (t) => {
  for (const channel of ['sse', 'ws'] as const) {
    const host = await freshHost('hdr');
    await inject(host, 'hdr');
    const seen = await attack(host, 'hdr', { channel, format: 'json', only: true, charset: undefined, gzip: false, range: undefined, binary: false });
    t.equal(reveal(seen, SECRET), undefined, `${channel}: no form of the value`);
    t.match(seen.toString('latin1'), `Bearer ${PH}`, `${channel}: the record arrives with the placeholder in place of the value`);
  }
});

t.test('property: another name for the same server never shows what the named host received, snapshot or live', async (t) => {
  // A single-tenant server ignores Host: its log (?all=1) shows requests made to any of its names.
  let n = 0;
  const channel = fc.constantFrom('log', 'log', 'sse', 'wait', 'ws');
  await fc.assert(fc.asyncProperty(channel, ask, fc.constantFrom(...KINDS), async (c, q, kind) => {
    const host = await freshHost(kind);
    const via = await freshHost('plain', portOf(host));
    const sibling = { ...q, only: q.only && kind !== 'query', all: true };
    let seen: Buffer;
    if (c === 'log') {
      await inject(host, kind);
      const r = await send(`http://${via}/log?${query({ ...sibling, channel: 'wait', gzip: false, binary: false })}`, sibling.charset ? { 'accept-charset': sibling.charset } : {});
      seen = Buffer.from(r.body, 'latin1');
      if (r.status === 200 && r.body.length < 8) throw new Error('the log read back through the other name is empty: the attack would prove nothing');
    } else {
      seen = await attack(host, kind, { ...sibling, channel: c }, 'api', via);
    }
    n++;
    const found = reveal(seen, SECRET);
    if (found) throw new Error(`${c} through ${via} after an injection into ${host} (${JSON.stringify(q)}): the agent read the value back (${found})`);
  }), { numRuns: Math.ceil(numRuns / 2), ...seed });
  t.pass(`${n} reads through another name checked`);
});

/** An event stream as a reader takes it: every event's data lines, joined (with line breaks, without, and without blanks). */
function readerViews(seen: Buffer): string[] {
  const data = seen.toString('latin1').split(/\r\n|\r|\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
  return [data.join('\n'), data.join(''), data.join('').replace(/\s+/g, '')];
}

t.test('property: an event stream shows no secret a reader joins from its lines and events (twelfth pass)', async (t) => {
  // The record shown over server-sent events on a host that got the credential: wrapped or
  // encoded over several data lines of one event, or cut a few characters an event (a terminal, a
  // build log), with id/event lines, keep-alive comments between events, CRLF, gzip, and under
  // another Content-Type (a client that parses the stream whatever its type).
  let n = 0;
  // Cut anywhere, inside an escape, a hex byte or a number too: what a reader joins is matched
  // (replaced, or the stream cut once a start already let out is completed: at most 7 characters).
  const framing = fc.record({
    format: fc.constantFrom<Format>('json', 'wrapped', 'base64-mime', 'qp', 'hex', 'java-chars', 'upper', 'go-bytes', 'escape-all', 'percent'),
    cut: fc.constantFrom(0, 0, 3, 5, 8, 13),
    fields: fc.boolean(),
    ping: fc.boolean(),
    crlf: fc.boolean(),
    gzip: fc.boolean(),
    as: fc.constantFrom('text/event-stream', 'text/event-stream', 'text/plain', 'application/octet-stream'),
  });
  await fc.assert(fc.asyncProperty(framing, async (f) => {
    const host = await freshHost('hdr');
    await inject(host, 'hdr');
    const ask: Ask = {
      channel: 'sse', format: f.format, only: false, charset: undefined, gzip: f.gzip, range: undefined, binary: false,
      framing: { cut: String(f.cut), fields: f.fields ? '1' : '0', ping: f.ping ? '1' : '0', crlf: f.crlf ? '1' : '0', as: f.as },
    };
    const seen = await attack(host, 'hdr', ask, 'api', host, f.cut ? 150 : 50);
    n++;
    for (const view of [seen.toString('latin1'), ...readerViews(seen)]) {
      const found = reveal(view, SECRET);
      if (found) throw new Error(`an event stream from ${host} (${JSON.stringify(f)}): the agent read the value back (${found}) from ${JSON.stringify(view.slice(0, 300))}`);
    }
  }), { numRuns: SSE_RUNS, ...seed });
  t.pass(`${n} event streams checked`);
});
