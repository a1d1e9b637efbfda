// Child processes for the benchmark (upstream, Airlock, peers): start, wait until ready, sample
// RSS from /proc, stop. Every child is killed by its own pid when the run ends.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

export function start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  live.add(child);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  child.once('exit', () => live.delete(child));
  (child as ChildProcess & { stderrTail: () => string }).stderrTail = () => stderr;
  return {
    name,
    child,
    pid: child.pid!,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

export function stderrOf(p: Proc): string {
  return (p.child as ChildProcess & { stderrTail?: () => string }).stderrTail?.() ?? '';
}

/** Resolves with the first stdout line that parses as JSON (how our own children announce their port). */
export function readJsonLine<T>(p: Proc, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`${p.name} did not start in ${timeoutMs} ms: ${stderrOf(p)}`)), timeoutMs);
    p.child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      for (const line of buf.split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try {
          const v = JSON.parse(line) as T;
          clearTimeout(timer);
          return resolve(v);
        } catch { /* partial line */ }
      }
    });
    p.child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${p.name} exited (${code}) before it was ready: ${stderrOf(p)}`)); });
  });
}

/** Waits until something accepts TCP connections on 127.0.0.1:port. */
export async function waitForPort(port: number, p: Proc, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (p.child.exitCode !== null) throw new Error(`${p.name} exited (${p.child.exitCode}): ${stderrOf(p)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${p.name} did not listen on ${port} within ${timeoutMs} ms: ${stderrOf(p)}`);
}

/** Resident set size of a process (and its descendants, for forking peers) in bytes; 0 when gone. */
export function rssOf(pid: number): number {
  let total = 0;
  const visit = (id: number): void => {
    try {
      const status = fs.readFileSync(`/proc/${id}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      total += kb * 1024;
      const kids = fs.readFileSync(`/proc/${id}/task/${id}/children`, 'utf8').trim();
      for (const k of kids ? kids.split(/\s+/) : []) visit(Number(k));
    } catch { /* exited */ }
  };
  visit(pid);
  return total;
}

/** Samples RSS every `everyMs` until stopped; returns the peak. */
export function rssSampler(pid: number, everyMs = 200): { stop(): number; peak(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => { peak = Math.max(peak, rssOf(pid)); }, everyMs);
  timer.unref();
  return { stop: () => { clearInterval(timer); peak = Math.max(peak, rssOf(pid)); return peak; }, peak: () => peak };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
