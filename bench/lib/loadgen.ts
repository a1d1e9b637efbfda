// A load generator that speaks to forward proxies: undici Pool with N keep-alive connections,
// requests in absolute-form (`GET http://host:port/path`, what curl and most SDKs send to an
// http_proxy) — or, for an https:// URL with `tunnelCa`, CONNECT tunnels with TLS inside
// (interception) through undici's ProxyAgent — bounded by a fixed duration AND a request count,
// latencies into Node's built-in HDR histogram. Two shapes:
//   closed loop  (runLoad):  N workers, each sends its next request when the previous answered — max throughput
//   open loop    (runRate):  a fixed request rate regardless of answers — the soak test
// Plain-HTTP throughput in `npm run bench` uses wrk (bench/lib/wrk.ts: cheaper per request); this
// one serves CONNECT + TLS (wrk has no CONNECT), bodies, open-loop rates, and other benchmarks.
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { Pool, ProxyAgent, type Dispatcher } from 'undici';

export interface Target {
  /** Where the TCP connections go: the proxy, or the upstream itself for the direct baseline. */
  connectTo: string;
  /** The upstream URL (absolute). */
  url: string;
  /** True when connectTo is a proxy: the request line carries the absolute URL. */
  viaProxy: boolean;
  /** Proxy-Authorization value, when the proxy wants one. */
  proxyAuthorization?: string;
  /**
   * Proxy-Authorization values of more agents, for the idle-connections phase: Airlock keeps at most
   * 256 idle connections per agent (proxy/idle-connections.ts) and closes the longest-waiting past
   * that, so 1,000 connections of one agent would not stay open.
   */
  idleAuthorizations?: string[];
  /** For an https:// URL through a proxy: CONNECT, then TLS trusting this CA (PEM) — the proxy's, when it intercepts. */
  tunnelCa?: string;
}

export interface LoadOptions {
  connections: number;
  durationMs: number;
  /** Hard cap on requests, whatever the duration. */
  maxRequests?: number;
  method?: string;
  body?: Buffer;
  /** Requests before measuring starts (connection setup, JIT). */
  warmupRequests?: number;
}

/** What any load generator reports: requests answered, over how long, and their latencies. */
export interface LatencySummary {
  requests: number;
  durationMs: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult extends LatencySummary {
  errors: number;
  /** Non-2xx answers (counted apart from socket errors). */
  non2xx: number;
  firstError?: string;
}

const tunneled = (target: Target): boolean => target.tunnelCa !== undefined;

function requestOptions(target: Target, opts: Pick<LoadOptions, 'method' | 'body'>): Dispatcher.RequestOptions {
  const u = new URL(target.url);
  const headers: Record<string, string> = { host: u.host };
  if (target.proxyAuthorization && !tunneled(target)) headers['proxy-authorization'] = target.proxyAuthorization;
  if (opts.body) headers['content-type'] = 'application/octet-stream';
  return {
    ...(tunneled(target) ? { origin: u.origin } : {}),
    method: (opts.method ?? 'GET') as 'GET',
    path: target.viaProxy && !tunneled(target) ? u.href : u.pathname + u.search,
    headers,
    body: opts.body,
  };
}

export function pool(target: Target, connections: number): Dispatcher {
  const timeouts = { keepAliveTimeout: 30_000, headersTimeout: 30_000, bodyTimeout: 30_000 };
  if (tunneled(target)) {
    return new ProxyAgent({
      uri: target.connectTo, ...timeouts, connections, pipelining: 1,
      ...(target.proxyAuthorization ? { token: target.proxyAuthorization } : {}),
      requestTls: { ca: target.tunnelCa, servername: new URL(target.url).hostname },
    });
  }
  return new Pool(target.connectTo, { connections, pipelining: 1, ...timeouts });
}

/** Counts and latencies of one run, shared by the closed-loop and open-loop generators. */
class Tally {
  private readonly h = createHistogram({ lowest: 1, highest: 60e9, figures: 3 });
  private requests = 0;
  private errors = 0;
  private non2xx = 0;
  private firstError: string | undefined;

  /** Reads the response to its end and records its latency since `t0` (hrtime ns). */
  async response(r: Dispatcher.ResponseData, t0: bigint): Promise<void> {
    const failed = r.statusCode < 200 || r.statusCode > 299;
    const text = failed && !this.firstError ? await r.body.text() : (await r.body.dump(), '');
    this.h.record(Math.max(1, Number(process.hrtime.bigint() - t0)));
    this.requests++;
    if (failed) {
      this.non2xx++;
      this.firstError ??= `HTTP ${r.statusCode} ${text.slice(0, 300)}`;
    }
  }

  error(err: Error): void {
    this.errors++;
    this.firstError ??= err.message;
  }

  summary(durationMs: number): LoadResult {
    return summarize(this.h, this.requests, this.errors, this.non2xx, durationMs, this.firstError);
  }
}

function summarize(h: RecordableHistogram, requests: number, errors: number, non2xx: number, durationMs: number, firstError?: string): LoadResult {
  const ms = (ns: number): number => Math.round((ns / 1e6) * 1000) / 1000;
  return {
    requests, errors, non2xx, durationMs: Math.round(durationMs),
    rps: Math.round((requests / durationMs) * 1000 * 10) / 10,
    p50Ms: requests ? ms(h.percentile(50)) : 0,
    p90Ms: requests ? ms(h.percentile(90)) : 0,
    p99Ms: requests ? ms(h.percentile(99)) : 0,
    maxMs: requests ? ms(h.max) : 0,
    ...(firstError ? { firstError } : {}),
  };
}

/** Closed loop: `connections` workers until the duration or the request cap runs out. */
export async function runLoad(target: Target, opts: LoadOptions): Promise<LoadResult> {
  const p = pool(target, opts.connections);
  const req = requestOptions(target, opts);
  const tally = new Tally();
  const maxRequests = opts.maxRequests ?? Number.MAX_SAFE_INTEGER;
  try {
    const warm = opts.warmupRequests ?? opts.connections * 4;
    await Promise.all(Array.from({ length: Math.min(warm, opts.connections) }, async (_, i) => {
      for (let k = i; k < warm; k += opts.connections) {
        const r = await p.request(req).catch(() => undefined);
        await r?.body.dump();
      }
    }));
    const start = performance.now();
    const deadline = start + opts.durationMs;
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (performance.now() < deadline && issued < maxRequests) {
        issued++;
        const t0 = process.hrtime.bigint();
        try {
          await tally.response(await p.request(req), t0);
        } catch (err) {
          tally.error(err as Error);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.connections }, worker));
    return tally.summary(performance.now() - start);
  } finally {
    await p.destroy();
  }
}

export interface RateOptions {
  rps: number;
  durationMs: number;
  connections: number;
  /** Called every `sampleEveryMs` with the time since start (for RSS sampling). */
  onSample?: (elapsedMs: number) => void | Promise<void>;
  sampleEveryMs?: number;
}

/** Open loop: one request every 1/rps seconds for the duration; never more than rps × duration. */
export async function runRate(target: Target, opts: RateOptions): Promise<LoadResult> {
  const p = pool(target, opts.connections);
  const req = requestOptions(target, {});
  const tally = new Tally();
  const total = Math.floor((opts.rps * opts.durationMs) / 1000);
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let nextSample = opts.sampleEveryMs ?? Infinity;
  try {
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / opts.rps;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const elapsed = performance.now() - start;
      if (elapsed >= nextSample) {
        nextSample += opts.sampleEveryMs!;
        await opts.onSample?.(elapsed);
      }
      const t0 = process.hrtime.bigint();
      const one = p.request(req).then((r) => tally.response(r, t0), (err: Error) => tally.error(err)).finally(() => inflight.delete(one));
      inflight.add(one);
    }
    await Promise.all(inflight);
    return tally.summary(performance.now() - start);
  } finally {
    await p.destroy();
  }
}
