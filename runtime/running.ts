// Whether an Airlock runs on a state folder, and where it listens. The proxy's Unix socket is the
// one test of "running" (it answers only while a process serves it; a crash leaves a file that
// answers nothing); runtime.json says where the running one listens, so the CLI finds its studio
// whatever flags started it.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { stateFile } from '../state/home.ts';

export interface RuntimeInfo {
  pid: number;
  /** host:port the proxy listens on. */
  proxy: string;
  /** host:port of the studio, when it runs. */
  studio?: string;
  /** The policy folder it loaded (absolute): `airlock run` keeps it read-only for the agent. */
  policy?: string;
  started: string;
}

export const hostPort = (a: { host: string; port: number }): string => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/** True when an Airlock serves this state folder: its Unix socket accepts a connection (within a second). */
export function airlockRunning(home: string): Promise<boolean> {
  const sock = stateFile(home, 'proxySocket');
  if (!fs.existsSync(sock)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = net.connect(sock);
    const timer = setTimeout(() => { s.destroy(); resolve(false); }, 1000);
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true); });
    s.once('error', () => { clearTimeout(timer); resolve(false); });
  });
}

/** Refuses to start a second Airlock on a state folder another one serves; removes a stale socket. */
export async function refuseSecondInstance(home: string): Promise<void> {
  const file = stateFile(home, 'proxySocket');
  if (!fs.existsSync(file)) return;
  if (await airlockRunning(home)) {
    const info = readRuntimeInfo(home);
    throw new Error(`Airlock is already running with the state folder ${home}${info ? ` (pid ${info.pid}, proxy on ${info.proxy}${info.studio ? `, studio on ${info.studio}` : ''})` : ` (${file} answers)`}; stop it first, or use another --home`);
  }
  fs.rmSync(file, { force: true });
}

/** Writes runtime.json for this process; the returned function removes it (when it is still ours). */
export function writeRuntimeInfo(home: string, at: { proxy: { host: string; port: number }; studio?: { host: string; port: number } }, policy?: string): () => void {
  const file = stateFile(home, 'runtimeInfo');
  const info: RuntimeInfo = {
    pid: process.pid,
    proxy: hostPort(at.proxy),
    ...(at.studio ? { studio: hostPort(at.studio) } : {}),
    ...(policy ? { policy: path.resolve(policy) } : {}),
    started: new Date().toISOString(),
  };
  fs.writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  // Kept after this process ends (runtime.json is not): the next start loads the same folder.
  if (info.policy) fs.writeFileSync(stateFile(home, 'lastPolicy'), `${info.policy}\n`, { mode: 0o600 });
  return () => {
    if (readRuntimeInfo(home)?.pid === process.pid) fs.rmSync(file, { force: true });
  };
}

/** The policy folder the last `airlock start` of `home` loaded (see STATE_FILES.lastPolicy), if recorded. */
export function lastPolicy(home: string): string | undefined {
  try {
    const p = fs.readFileSync(stateFile(home, 'lastPolicy'), 'utf8').trim();
    return path.isAbsolute(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/** The running Airlock's addresses, or undefined when none runs with this state folder. */
export function readRuntimeInfo(home: string): RuntimeInfo | undefined {
  let info: RuntimeInfo;
  try {
    info = JSON.parse(fs.readFileSync(stateFile(home, 'runtimeInfo'), 'utf8')) as RuntimeInfo;
  } catch {
    return undefined;
  }
  try {
    process.kill(info.pid, 0); // throws when that process is gone: a stale file from a crash
  } catch (err) {
    // EPERM: it runs, as another user (Airlock as a service user, `airlock run` as yours).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return undefined;
  }
  return info;
}
