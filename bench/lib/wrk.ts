// wrk (Debian's `wrk`, C, one event loop per thread) as the load generator for plain HTTP: it
// costs far less CPU per request than any Node client, so on a small machine more of the cores go
// to the proxy under test. A Lua script makes it speak to forward proxies: the request line carries
// the absolute URL (`GET http://host/path HTTP/1.1`, what curl and SDKs send to an http_proxy),
// Host names the origin, Proxy-Authorization is sent when the proxy wants one; `done` prints the
// totals and latency percentiles as one JSON line.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { LatencySummary } from './loadgen.ts';

export interface WrkTarget {
  /** Where wrk connects: the proxy, or the origin itself for the direct baseline. */
  connectTo: string;
  /** The origin URL the request asks for (absolute-form through a proxy). */
  url: string;
  viaProxy: boolean;
  proxyAuthorization?: string;
}

export interface WrkResult extends LatencySummary {
  /** Socket errors (connect, read, write), timeouts (2 s without an answer) and non-2xx/3xx answers. */
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
}

export const wrkInstall = 'apt-get install -y wrk';

export function findWrk(): string | undefined {
  for (const dir of ['/usr/bin', '/usr/local/bin', ...(process.env.PATH ?? '').split(':')]) {
    const p = path.join(dir, 'wrk');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

const script = `
function init(args)
  wrk.path = args[1]
  wrk.headers["Host"] = args[2]
  if args[3] ~= nil and args[3] ~= "" then wrk.headers["Proxy-Authorization"] = args[3] end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

let scriptFile: string | undefined;

/** One wrk run: 1 thread, `connections` keep-alive connections, `seconds` long. */
export function runWrk(bin: string, target: WrkTarget, opts: { connections: number; seconds: number; tmp: string }): Promise<WrkResult> {
  if (!scriptFile) {
    scriptFile = path.join(opts.tmp, 'bench-proxy.lua');
    fs.writeFileSync(scriptFile, script);
  }
  const u = new URL(target.url);
  const args = [
    '-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--timeout', '2s', '-s', scriptFile, target.connectTo, '--',
    target.viaProxy ? u.href : u.pathname + u.search, u.host, target.proxyAuthorization ?? '',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), (opts.seconds + 30) * 1000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
      if (code !== 0 || !line) return reject(new Error(`wrk exited ${code}: ${(err || out).trim().slice(-300)}`));
      const j = JSON.parse(line) as Record<string, number>;
      const ms = (us: number): number => Math.round(us) / 1000;
      const durationMs = j.duration_us! / 1000;
      resolve({
        requests: j.requests!,
        durationMs: Math.round(durationMs),
        rps: Math.round((j.requests! / durationMs) * 1000),
        p50Ms: ms(j.p50!), p90Ms: ms(j.p90!), p99Ms: ms(j.p99!), maxMs: ms(j.max!),
        errors: { connect: j.connect!, read: j.read!, write: j.write!, timeout: j.timeout!, status: j.status! },
      });
    });
  });
}

export const wrkErrors = (r: WrkResult): number => r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout + r.errors.status;
