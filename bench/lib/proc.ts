// Child processes for the benchmark (upstream, Airlock, peers): start, wait until ready, sample
// RSS and CPU time from /proc, stop. Every child is killed by its own pid when the run ends.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

export interface Proc {
  name: string;
  child: ChildProcess;
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs` (default 3 s). */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

export function start(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string): Proc {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, ...(cwd ? { cwd } : {}) });
  live.add(child);
  // Always read stdout (and throw it away unless someone listens): a child blocked on a full pipe
  // would be measured as slow.
  child.stdout!.on('data', () => undefined);
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr = (stderr + c.toString()).slice(-4000); });
  child.once('exit', () => live.delete(child));
  (child as ChildProcess & { stderrTail: () => string }).stderrTail = () => stderr;
  return {
    name,
    child,
    pid: child.pid!,
    stop: (graceMs = 3000) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

export function stderrOf(p: Proc): string {
  return (p.child as ChildProcess & { stderrTail?: () => string }).stderrTail?.() ?? '';
}

/**
 * Resolves with the first complete stdout line that `pick` accepts (returns a value for). Afterwards
 * stdout is still read and thrown away: a child writing to a pipe nobody reads (Airlock's log line
 * per decision) would block, and keeping it would grow this process.
 */
export function readLine<T>(p: Proc, pick: (line: string) => T | undefined, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    let buf = '';
    let done = false;
    const finish = (err: Error | undefined, v?: T): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(v as T);
    };
    const timer = setTimeout(() => finish(new Error(`${p.name} did not start in ${timeoutMs} ms: ${stderrOf(p)}`)), timeoutMs);
    p.child.stdout!.on('data', (c: Buffer) => {
      if (done) return;
      buf += c.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const v = pick(line);
        if (v !== undefined) return finish(undefined, v);
      }
    });
    p.child.once('exit', (code) => finish(new Error(`${p.name} exited (${code}) before it was ready: ${stderrOf(p)}`)));
  });
}

/** Resolves with the first stdout line that parses as JSON (how our own children announce their port). */
export function readJsonLine<T>(p: Proc, timeoutMs = 30_000): Promise<T> {
  return readLine<T>(p, (line) => {
    if (!line.trim().startsWith('{')) return undefined;
    try {
      return JSON.parse(line) as T;
    } catch {
      return undefined;
    }
  }, timeoutMs);
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

/** The process and its descendants (forking peers), by pid; gone ones are skipped. */
function tree(pid: number): number[] {
  const out: number[] = [];
  const visit = (id: number): void => {
    out.push(id);
    try {
      const kids = fs.readFileSync(`/proc/${id}/task/${id}/children`, 'utf8').trim();
      for (const k of kids ? kids.split(/\s+/) : []) visit(Number(k));
    } catch { /* exited */ }
  };
  visit(pid);
  return out;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return ticksPerSecond;
}

/** utime + stime + cutime + cstime of one process (all its threads, and the children it has reaped), in clock ticks. */
function ticksOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3,
    // utime 14, stime 15, cutime 16, cstime 17.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0; // exited
  }
}

/**
 * CPU time a process has used, in microseconds: utime + stime from /proc/PID/stat (every thread of
 * the process), plus cutime + cstime (children it has reaped), summed over its live descendants.
 * Resolution is one clock tick (10 ms at the usual 100 Hz): sample across seconds of load.
 */
export function cpuTimeUs(pid: number): number {
  return (tree(pid).reduce((t, id) => t + ticksOf(id), 0) / clockTicks()) * 1e6;
}

/**
 * Read- and write-class system calls a process (all threads) and its live descendants have made so
 * far (syscr + syscw of /proc/PID/io: read, recv, readv…, write, send, writev…; not epoll): how
 * many times per request a proxy crosses into the kernel to move bytes.
 */
export function ioSyscalls(pid: number): number {
  let n = 0;
  for (const id of tree(pid)) {
    try {
      const io = fs.readFileSync(`/proc/${id}/io`, 'utf8');
      n += Number(/syscr:\s+(\d+)/.exec(io)?.[1] ?? 0) + Number(/syscw:\s+(\d+)/.exec(io)?.[1] ?? 0);
    } catch { /* exited, or not ours to read */ }
  }
  return n;
}

/** CPU time of the whole machine so far (all cores), busy and in total, in microseconds, from /proc/stat. */
export function machineCpuUs(): { busyUs: number; totalUs: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const toUs = (ticks: number): number => (ticks / clockTicks()) * 1e6;
  // idle and iowait are the idle columns; user, nice, system, irq, softirq, steal are busy.
  return { busyUs: toUs(total - f[3]! - f[4]!), totalUs: toUs(total) };
}

/** CPU time of this process and the children it has waited for (e.g. wrk runs that have ended), in microseconds. */
export function selfCpuUs(): number {
  return (ticksOf(process.pid) / clockTicks()) * 1e6;
}

/** Resident set size of a process (and its descendants, for forking peers) in bytes; 0 when gone. */
export function rssOf(pid: number): number {
  let total = 0;
  for (const id of tree(pid)) {
    try {
      const status = fs.readFileSync(`/proc/${id}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch { /* exited */ }
  }
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
