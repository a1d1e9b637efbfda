// Memory figures of a proxy under two shapes of load that break naive proxies:
//   idleConnections: N concurrent keep-alive connections, each having made one request and then
//                    sitting idle (agents keep pools open) — RSS with them open, per connection.
//   streamThrough:   a large upload and a large download through the proxy — RSS growth must stay
//                    flat (Airlock's bar: under 64 MiB for 1 GiB), i.e. bodies are streamed, not buffered.
// Used by bench/run.ts.
import net from 'node:net';
import { Readable } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { rssOf, rssSampler } from '../lib/proc.ts';
import type { Target } from '../lib/loadgen.ts';

const MiB = 1024 * 1024;

export interface IdleResult {
  connections: number;
  opened: number;
  /** Connections the proxy had not closed when RSS was read (a proxy may close idle ones past a bound). */
  stillOpen: number;
  rssBeforeMiB: number;
  /** RSS 1 s after the last connection opened (the load of opening them just ended). */
  rssWithIdleMiB: number;
  /** RSS once the connections sat idle 12 s: what an idle proxy holds (Airlock gives back a busy stretch's heap after 10 s quiet: lib/quiet-collect.ts). */
  rssIdleMiB: number;
  perConnectionKiB: number;
}

function oneRequest(target: Target, proxyAuthorization = target.proxyAuthorization): string {
  const u = new URL(target.url);
  return `GET ${target.viaProxy ? u.href : u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\n${proxyAuthorization ? `Proxy-Authorization: ${proxyAuthorization}\r\n` : ''}Connection: keep-alive\r\n\r\n`;
}

/** Whether `got` holds one whole response with a Content-Length body (the bench origin's answers). */
function complete(got: string): boolean {
  const end = got.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(got.slice(0, end));
  return Buffer.byteLength(got.slice(end + 4), 'latin1') >= Number(length?.[1] ?? 0);
}

/** Opens a connection, makes one request, resolves with the still-open socket once the answer arrived. */
function openIdle(host: string, port: number, request: string): Promise<net.Socket | undefined> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    let got = '';
    const timer = setTimeout(() => { s.destroy(); resolve(undefined); }, 15_000);
    s.on('error', () => { clearTimeout(timer); resolve(undefined); });
    s.on('connect', () => s.write(request));
    s.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      if (complete(got)) {
        clearTimeout(timer);
        s.removeAllListeners('data');
        s.on('error', () => undefined);
        resolve(/^HTTP\/1\.1 2/.test(got) ? s : (s.destroy(), undefined));
      }
    });
  });
}

export async function idleConnections(target: Target, pid: number, n = 1000): Promise<IdleResult> {
  const to = new URL(target.connectTo);
  // Spread over the agents given (one connection each in turn), or all as the one agent.
  const requests = target.idleAuthorizations?.length ? target.idleAuthorizations.map((a) => oneRequest(target, a)) : [oneRequest(target)];
  const sockets: net.Socket[] = [];
  await new Promise((r) => setTimeout(r, 500));
  const before = rssOf(pid);
  try {
    for (let i = 0; i < n; i += 100) {
      const batch = await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => openIdle(to.hostname, Number(to.port), requests[(i + j) % requests.length]!)));
      for (const s of batch) if (s) sockets.push(s);
    }
    await new Promise((r) => setTimeout(r, 1000));
    const withIdle = rssOf(pid);
    await new Promise((r) => setTimeout(r, 11_000));
    const idle = rssOf(pid);
    const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
    return {
      connections: n,
      opened: sockets.length,
      stillOpen,
      rssBeforeMiB: round(before / MiB),
      rssWithIdleMiB: round(withIdle / MiB),
      rssIdleMiB: round(idle / MiB),
      perConnectionKiB: sockets.length ? round((withIdle - before) / sockets.length / 1024) : 0,
    };
  } finally {
    for (const s of sockets) s.destroy();
  }
}

export interface StreamResult {
  direction: 'upload' | 'download';
  bytes: number;
  ok: boolean;
  seconds: number;
  mibPerSecond: number;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssGrowthMiB: number;
  error?: string;
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Streams `bytes` up (POST /sink) or down (GET /bytes?n=) through the target, sampling the proxy's RSS. */
export async function streamThrough(target: Target, pid: number, direction: 'upload' | 'download', bytes: number): Promise<StreamResult> {
  const pool = new Pool(target.connectTo, { connections: 1, bodyTimeout: 120_000, headersTimeout: 120_000 });
  const origin = new URL(target.url).origin;
  const url = direction === 'upload' ? `${origin}/sink` : `${origin}/bytes?n=${bytes}`;
  const u = new URL(url);
  const headers: Record<string, string> = { host: u.host };
  if (target.proxyAuthorization) headers['proxy-authorization'] = target.proxyAuthorization;
  await new Promise((r) => setTimeout(r, 300));
  const before = rssOf(pid);
  const sampler = rssSampler(pid, 100);
  const t0 = performance.now();
  let ok = false;
  let error: string | undefined;
  try {
    if (direction === 'upload') {
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      let left = bytes;
      const body = new Readable({
        read() {
          if (left <= 0) return void this.push(null);
          const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= c.length;
          this.push(c);
        },
      });
      headers['content-type'] = 'application/octet-stream';
      headers['content-length'] = String(bytes);
      const r = await pool.request({ method: 'POST', path: target.viaProxy ? url : u.pathname, headers, body });
      const answer = await r.body.text();
      ok = r.statusCode === 200 && JSON.parse(answer).received === bytes;
      if (!ok) error = `HTTP ${r.statusCode}: ${answer.slice(0, 200)}`;
    } else {
      const r = await pool.request({ method: 'GET', path: target.viaProxy ? url : u.pathname + u.search, headers });
      let got = 0;
      for await (const c of r.body) got += (c as Buffer).length;
      ok = r.statusCode === 200 && got === bytes;
      if (!ok) error = `HTTP ${r.statusCode}, ${got} of ${bytes} bytes`;
    }
  } catch (err) {
    error = (err as Error).message;
  } finally {
    await pool.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  const peak = sampler.stop();
  return {
    direction, bytes, ok, seconds: round(seconds), mibPerSecond: round(bytes / MiB / seconds),
    rssBeforeMiB: round(before / MiB), rssPeakMiB: round(peak / MiB), rssGrowthMiB: round((peak - before) / MiB),
    ...(error ? { error } : {}),
  };
}
