// Assembles a running Airlock: state folder, config file, policy engine, agent store, audit log,
// local CA, destination guard, the ordered enforcer list, the proxy listeners (TCP + Unix socket)
// and, when it exists, the studio. `airlock start` and the tests use the same `startAirlock`.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { AgentStore } from '../engine/agents.ts';
import { AuditLog, type AuditRecord } from '../engine/audit-log.ts';
import type { SessionStore } from '../engine/sessions.ts';
import { PolicyEngine } from '../engine/engine.ts';
import { ensureHome } from '../engine/state/home.ts';
import { approvalPart } from './approval-enforcer.ts';
import { CertificateAuthority } from './ca.ts';
import { credentialEnforcers, credentialGuardPart } from './credentials.ts';
import type { PlaceholderFinder } from './describe.ts';
import { DestinationGuard, parseAllowPrivate, parseResolvePins } from './destination.ts';
import type { Enforcer } from './enforcers.ts';
import { loadAdapters } from './adapters/index.ts';
import { rateLimitPart } from './ratelimit-enforcer.ts';
import { sessionPart } from './sessions-part.ts';
import { ProxyServer, defaultTimeouts, type ProxyTimeouts } from './server.ts';
import { readCaBundle } from './upstream-ca.ts';
import { inSetting, resolveConfig, type AirlockConfig, type ConfigFlags } from './config.ts';

export { defaultConfig, resolveConfig, type AirlockConfig } from './config.ts';

export interface AirlockOptions extends ConfigFlags {
  home?: string;
  /** Alias of `policy`. */
  policyDir?: string;
  timeouts?: Partial<ProxyTimeouts>;
  /** Evaluation threads of the policy engine. */
  threads?: number;
  /** Listen on <home>/proxy.sock too (default true). */
  unixSocket?: boolean;
  /** Run the enforcers of `enforcerFactories` (default true; the proxy core's own tests turn them off). */
  builtinEnforcers?: boolean;
  /** Extra enforcers appended after the built-in list (tests). */
  extraEnforcers?: Enforcer[];
  /** Receives one line per decided request (the CLI prints them). */
  log?: (line: string) => void;
}

/** The parts of a running Airlock that enforcers and the studio build on. */
export interface AirlockParts {
  home: string;
  config: AirlockConfig;
  engine: PolicyEngine;
  agents: AgentStore;
  audit: AuditLog;
  ca: CertificateAuthority;
  guard: DestinationGuard;
  /** Ordered: every request runs them in this order. Append to add a directive's enforcement. */
  enforcers: Enforcer[];
  /** Set by the secrets enforcer: finds placeholders in requests for the description. */
  placeholders?: PlaceholderFinder;
  /** Sessions: labels, counters, seen links and timelines per agent session (proxy/sessions-part.ts). */
  sessions?: SessionStore;
  /** Base URL of the studio running in this process, once it listens: where humans approve. */
  studioUrl?: string;
  /** Functions run (in reverse order) when Airlock stops. */
  onClose: Array<() => Promise<void> | void>;
}

export interface Airlock extends AirlockParts {
  proxyAddress: { host: string; port: number };
  /** The Unix socket path, when listening on one. */
  socketPath?: string;
  studioAddress?: { host: string; port: number };
  /** http://AGENT:TOKEN@host:port */
  proxyUrl(agent: string, token: string): string;
  close(): Promise<void>;
}

/**
 * THE enforcer list, in order. Each entry builds one enforcer from the running parts.
 * Order matters: approval holds first (a held request charges no limit and gets no credential
 * until a human says yes), then rate limits, then credentials (injected last, right before dialing).
 */
export type EnforcerFactory = (parts: AirlockParts) => Enforcer | Enforcer[] | undefined | Promise<Enforcer | Enforcer[] | undefined>;

export const enforcerFactories: EnforcerFactory[] = [
  // approvals (proxy/approval*.ts), rate limits (proxy/ratelimit*.ts), credentials + scrubbing
  // (proxy/credentials*.ts, proxy/scrub*.ts) are appended here by their owners.
  // Refuse placeholders and secret values headed where they are not bound before anyone is asked.
  credentialGuardPart,
  approvalPart,
  rateLimitPart,
  // Credentials: injected right before dialing, and their responses scrubbed.
  credentialEnforcers,
  // Sessions after credentials: a response's links are read as the agent gets it (scrubbed).
  sessionPart,
];

export function parseHostPort(spec: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(spec.trim());
  if (!m) throw new Error(`${what} ${spec}: expected HOST:PORT`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`${what} ${spec}: bad port`);
  return { host, port };
}

export function formatRecord(r: AuditRecord): string {
  const decision = r.decision ? `${r.decision.action}${r.decision.rule ? ` (${r.decision.rule})` : ''}` : '-';
  const status = r.status ?? '-';
  const total = r.total_ms !== undefined ? `${r.total_ms.toFixed(1)}ms` : '';
  const detail = r.outcome !== 'forwarded' && r.detail ? ` — ${r.detail}` : r.outcome !== 'forwarded' && r.decision && r.decision.action !== 'allow' ? ` — ${r.decision.reason}` : '';
  return `${r.time} ${r.agent ?? '-'} ${r.method ?? ''} ${r.url || '-'} → ${decision} ${r.outcome} ${status} ${total}${detail}`;
}

function listen(server: net.Server, target: { host: string; port: number } | string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (typeof target === 'string') server.listen(target, done);
    else server.listen(target.port, target.host, done);
  });
}

/** Whether something accepts connections on the Unix socket. */
function socketAnswers(file: string): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** Refuses to start a second Airlock on a state folder another one serves; removes a stale socket. */
async function refuseSecondInstance(home: string): Promise<void> {
  const file = path.join(home, 'proxy.sock');
  if (!fs.existsSync(file)) return;
  if (await socketAnswers(file)) {
    const info = readRuntimeInfo(home);
    throw new Error(`Airlock is already running with the state folder ${home}${info ? ` (pid ${info.pid}, proxy on ${info.proxy}${info.studio ? `, studio on ${info.studio}` : ''})` : ` (${file} answers)`}; stop it first, or use another --home`);
  }
  fs.rmSync(file, { force: true });
}

export async function startAirlock(opts: AirlockOptions = {}): Promise<Airlock> {
  const home = ensureHome(opts.home);
  const config = resolveConfig(home, { ...opts, policy: opts.policy ?? opts.policyDir });
  const { origin } = config;
  const proxyAt = inSetting(origin, 'proxy', () => parseHostPort(config.proxy, '--proxy'));
  const studioAt = config.studio ? inSetting(origin, 'studio', () => parseHostPort(config.studio as string, '--studio')) : undefined;
  const allowPrivate = inSetting(origin, 'allowPrivate', () => config.allowPrivate.map(parseAllowPrivate));
  const pins = inSetting(origin, 'resolve', () => parseResolvePins(config.resolve));
  const extraCa = inSetting(origin, 'upstreamCa', () => config.upstreamCa.flatMap((f) => readCaBundle(f)));
  const upstreamTls = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa] });
  if (opts.unixSocket !== false) await refuseSecondInstance(home);

  const onClose: AirlockParts['onClose'] = [];
  const closeAll = async (): Promise<void> => {
    for (const fn of onClose.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* keep closing the rest */
      }
    }
  };
  try {
    const engine = new PolicyEngine({ mode: 'isolated', timeoutMs: config.evalTimeoutMs, ...(opts.threads ? { threads: opts.threads } : {}) });
    onClose.push(() => engine.close());
    await engine.loadFolder(config.policy);
    // The SQL parser is WASM: load it before the first request, so SQL is never described unparsed.
    await loadAdapters();
    const agents = await AgentStore.open(home);
    const audit = new AuditLog(home);
    onClose.push(() => audit.close());
    const ca = await CertificateAuthority.open(home);
    const guard = new DestinationGuard({ allowPrivate, resolve: pins });
    if (studioAt) guard.addOwn({ address: studioAt.host, port: studioAt.port });

    const parts: AirlockParts = { home, config, engine, agents, audit, ca, guard, enforcers: [], onClose };
    for (const make of opts.builtinEnforcers === false ? [] : enforcerFactories) {
      const made = await make(parts);
      if (made) parts.enforcers.push(...(Array.isArray(made) ? made : [made]));
    }
    parts.enforcers.push(...(opts.extraEnforcers ?? []));

    if (opts.log) {
      const log = opts.log;
      // A bare first try answered 407 is protocol, not traffic (see refusals.challenge in server.ts).
      onClose.push(audit.onRecord((r) => { if (r.outcome !== 'auth-challenge') log(formatRecord(r)); }));
    }

    const proxy = new ProxyServer({
      engine, agents, audit, ca, guard,
      enforcers: parts.enforcers,
      placeholders: () => parts.placeholders,
      upstreamTls,
      bodyCap: config.bodyCap,
      timeouts: {
        ...defaultTimeouts,
        upstreamConnectMs: config.upstreamTimeouts.connectMs,
        upstreamFirstByteMs: config.upstreamTimeouts.firstByteMs,
        upstreamIdleMs: config.upstreamTimeouts.idleMs,
        ...(opts.timeouts ?? {}),
      },
      maxHeaderSize: config.maxHeaderSize,
    });
    onClose.push(() => proxy.close());
    const tcp = proxy.createListener();
    try {
      await listen(tcp, proxyAt);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? 'the address is in use by another program (another Airlock with another state folder?)' : code ?? (err as Error).message;
      throw new Error(`cannot listen on ${config.proxy}: ${why}; choose another address with --proxy or "proxy" in config.json`);
    }
    const bound = tcp.address() as net.AddressInfo;
    const proxyAddress = { host: proxyAt.host, port: bound.port };
    guard.addOwn({ address: bound.address, port: bound.port });

    let socketPath: string | undefined;
    if (opts.unixSocket !== false) {
      socketPath = path.join(home, 'proxy.sock');
      // sun_path holds 108 bytes on Linux (104 on macOS); a longer path fails obscurely later.
      if (Buffer.byteLength(socketPath) > 103) {
        throw new Error(`the state folder path is too long for the proxy's Unix socket (${socketPath}); use a shorter --home`);
      }
      await refuseSecondInstance(home);
      const unix = proxy.createListener();
      await listen(unix, socketPath);
      fs.chmodSync(socketPath, 0o600);
      const sp = socketPath;
      onClose.push(() => fs.rmSync(sp, { force: true }));
    }

    const runtime: Airlock = {
      ...parts,
      get placeholders() {
        return parts.placeholders;
      },
      set placeholders(f: PlaceholderFinder | undefined) {
        parts.placeholders = f;
      },
      proxyAddress,
      ...(socketPath ? { socketPath } : {}),
      proxyUrl: (agent, token) => `http://${encodeURIComponent(agent)}:${encodeURIComponent(token)}@${proxyAddress.host.includes(':') ? `[${proxyAddress.host}]` : proxyAddress.host}:${proxyAddress.port}`,
      close: closeAll,
    };

    if (studioAt) {
      const studio = await startStudioIfPresent(runtime, studioAt);
      if (studio) {
        runtime.studioAddress = studio;
        const shownHost = studio.host === '0.0.0.0' || studio.host === '::' ? '127.0.0.1' : studio.host;
        parts.studioUrl = runtime.studioUrl = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${studio.port}`;
        if (studio.port !== studioAt.port) guard.addOwn({ address: studio.host, port: studio.port });
      }
    }
    writeRuntimeInfo(home, runtime, onClose);
    return runtime;
  } catch (err) {
    await closeAll();
    throw err;
  }
}

export interface RuntimeInfo {
  pid: number;
  /** host:port the proxy listens on. */
  proxy: string;
  /** host:port of the studio, when it runs. */
  studio?: string;
  started: string;
}

const hostPort = (a: { host: string; port: number }): string => `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/** <home>/runtime.json: where the running Airlock listens, so the CLI finds it whatever flags started it. */
function writeRuntimeInfo(home: string, runtime: Airlock, onClose: AirlockParts['onClose']): void {
  const file = path.join(home, 'runtime.json');
  const info: RuntimeInfo = {
    pid: process.pid,
    proxy: hostPort(runtime.proxyAddress),
    ...(runtime.studioAddress ? { studio: hostPort(runtime.studioAddress) } : {}),
    started: new Date().toISOString(),
  };
  fs.writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  onClose.push(() => {
    if (readRuntimeInfo(home)?.pid === process.pid) fs.rmSync(file, { force: true });
  });
}

/** The running Airlock's addresses, or undefined when none runs with this state folder. */
export function readRuntimeInfo(home: string): RuntimeInfo | undefined {
  try {
    const info = JSON.parse(fs.readFileSync(path.join(home, 'runtime.json'), 'utf8')) as RuntimeInfo;
    process.kill(info.pid, 0); // throws when that process is gone: a stale file from a crash
    return info;
  } catch {
    return undefined;
  }
}

/** Starts studio/server.ts's `startStudio(runtime, {host, port})` when the studio exists. */
async function startStudioIfPresent(runtime: Airlock, at: { host: string; port: number }): Promise<{ host: string; port: number } | undefined> {
  const file = new URL('../studio/server.ts', import.meta.url);
  if (!fs.existsSync(file)) return undefined;
  const mod = (await import(file.href)) as { startStudio?: (rt: Airlock, o: { host: string; port: number }) => Promise<unknown> };
  if (typeof mod.startStudio !== 'function') return undefined;
  const started = (await mod.startStudio(runtime, at)) as { close?: () => Promise<void> | void; port?: number; address?: { port?: number } | string } | undefined;
  if (started && typeof started.close === 'function') runtime.onClose.push(() => started.close!());
  const port = typeof started?.port === 'number' ? started.port : typeof started?.address === 'object' && typeof started.address?.port === 'number' ? started.address.port : at.port;
  return { host: at.host, port };
}
