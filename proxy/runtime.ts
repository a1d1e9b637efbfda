// Assembles a running Airlock: state folder, config file, policy engine, agent store, audit log,
// local CA, destination guard, the ordered enforcer list, the proxy listeners (TCP + Unix socket)
// and, when it exists, the studio. `airlock start` and the tests use the same `startAirlock`.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { AgentStore } from '../engine/agents.ts';
import { AuditLog, type AuditRecord } from '../engine/audit-log.ts';
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
import { ProxyServer, defaultTimeouts, type ProxyTimeouts } from './server.ts';

/** Settings of a running Airlock. Flags (options) win over <home>/config.json, which wins over defaults. */
export interface AirlockConfig {
  /** Policy folder. */
  policy: string;
  /** Proxy listen address host:port. */
  proxy: string;
  /** Studio listen address host:port, or false for no studio. */
  studio: string | false;
  /** --allow-private CIDR[:PORT] exceptions to destination safety. */
  allowPrivate: string[];
  /** Extra CA bundle files trusted for upstream TLS. */
  upstreamCa: string[];
  /** --resolve HOST=ADDR pins. */
  resolve: string[];
  /** Bytes of request body captured for the description. */
  bodyCap: number;
  /** Largest request head the proxy accepts (bytes). */
  maxHeaderSize: number;
  /** Wall-clock budget of one policy evaluation; past it the request is denied (fail closed). */
  evalTimeoutMs: number;
  /** URL that receives a JSON notification for every new approval (no secrets in it). */
  approvalWebhook?: string;
}

export const defaultConfig: AirlockConfig = {
  policy: 'rego',
  proxy: '127.0.0.1:8080',
  studio: '127.0.0.1:8081',
  allowPrivate: [],
  upstreamCa: [],
  resolve: [],
  bodyCap: 1024 * 1024,
  maxHeaderSize: 16 * 1024,
  // Policies decide in microseconds; the budget only stops a runaway one. It is wall-clock time,
  // so it is generous enough that a busy CPU does not turn ordinary decisions into denials.
  evalTimeoutMs: 1000,
  approvalWebhook: undefined,
};

export interface AirlockOptions extends Partial<AirlockConfig> {
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
  // Credentials last: injected right before dialing, and their responses scrubbed.
  credentialEnforcers,
];

export function parseHostPort(spec: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(spec.trim());
  if (!m) throw new Error(`${what} ${spec}: expected HOST:PORT`);
  const host = m[1] ?? (m[2] || '127.0.0.1');
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`${what} ${spec}: bad port`);
  return { host, port };
}

function readConfigFile(home: string): Partial<AirlockConfig> {
  const file = path.join(home, 'config.json');
  if (!fs.existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`config file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`config file ${file} must hold a JSON object`);
  const known = new Set(Object.keys(defaultConfig));
  for (const k of Object.keys(parsed)) if (!known.has(k)) throw new Error(`config file ${file}: unknown setting "${k}" (known: ${[...known].join(', ')})`);
  return parsed as Partial<AirlockConfig>;
}

/** Merges flags over the config file over defaults. */
export function resolveConfig(home: string, opts: AirlockOptions): AirlockConfig {
  const file = readConfigFile(home);
  const pick = <K extends keyof AirlockConfig>(k: K, flag: AirlockConfig[K] | undefined): AirlockConfig[K] => {
    const isEmptyList = Array.isArray(flag) && flag.length === 0;
    if (flag !== undefined && !isEmptyList) return flag;
    return (file[k] ?? defaultConfig[k]) as AirlockConfig[K];
  };
  return {
    policy: pick('policy', opts.policy ?? opts.policyDir),
    proxy: pick('proxy', opts.proxy),
    studio: pick('studio', opts.studio),
    allowPrivate: pick('allowPrivate', opts.allowPrivate),
    upstreamCa: pick('upstreamCa', opts.upstreamCa),
    resolve: pick('resolve', opts.resolve),
    bodyCap: pick('bodyCap', opts.bodyCap),
    maxHeaderSize: pick('maxHeaderSize', opts.maxHeaderSize),
    evalTimeoutMs: pick('evalTimeoutMs', opts.evalTimeoutMs),
    ...(file.approvalWebhook !== undefined || opts.approvalWebhook !== undefined ? { approvalWebhook: pick('approvalWebhook', opts.approvalWebhook) } : {}),
  };
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

/** Refuses to take over the Unix socket of another running Airlock; removes a stale one. */
async function claimSocketPath(file: string): Promise<void> {
  if (!fs.existsSync(file)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const s = net.connect(file);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another Airlock is already running with this state folder (${file} answers)`);
  fs.rmSync(file, { force: true });
}

export async function startAirlock(opts: AirlockOptions = {}): Promise<Airlock> {
  const home = ensureHome(opts.home);
  const config = resolveConfig(home, opts);
  const proxyAt = parseHostPort(config.proxy, '--proxy');
  const studioAt = config.studio ? parseHostPort(config.studio, '--studio') : undefined;
  const allowPrivate = config.allowPrivate.map(parseAllowPrivate);
  const pins = parseResolvePins(config.resolve);
  const extraCa = config.upstreamCa.map((f) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch (err) {
      throw new Error(`--upstream-ca ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  });
  const upstreamTls = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa] });

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
      onClose.push(audit.onRecord((r) => log(formatRecord(r))));
    }

    const proxy = new ProxyServer({
      engine, agents, audit, ca, guard,
      enforcers: parts.enforcers,
      placeholders: () => parts.placeholders,
      upstreamTls,
      bodyCap: config.bodyCap,
      timeouts: { ...defaultTimeouts, ...(opts.timeouts ?? {}) },
      maxHeaderSize: config.maxHeaderSize,
    });
    onClose.push(() => proxy.close());
    const tcp = proxy.createListener();
    try {
      await listen(tcp, proxyAt);
    } catch (err) {
      throw new Error(`cannot listen on ${config.proxy}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
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
      await claimSocketPath(socketPath);
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
