// A running Airlock, assembled in one place: the config (flags over config.json), the services
// (runtime/services.ts), the enforcer list (runtime/enforcers.ts), the proxy listeners (TCP and
// the Unix socket) and the studio, each given the typed part of the services it uses.
// `airlock start` and the tests start Airlock the same way: `startAirlock`.
import fs from 'node:fs';
import type net from 'node:net';
import tls from 'node:tls';
import type { Enforcer } from '../proxy/enforcers.ts';
import { liveFinder } from '../proxy/live-secrets.ts';
import { ProxyServer, defaultTimeouts, type ProxyTimeouts } from '../proxy/listener.ts';
import { parseAllowPrivate, parseResolvePins } from '../proxy/destination.ts';
import { readCaBundle } from '../proxy/upstream-ca.ts';
import type { AuditRecord } from '../state/audit-log.ts';
import { terminalText } from '../lib/text.ts';
import { AbortFlag } from '../lib/abort-flag.ts';
import { ensureHome, resolveHome, stateFile } from '../state/home.ts';
import { PolicyCompileError, missingPolicyHint } from '../engine/compile.ts';
import { inSetting, parseHostPort, resolveConfig, usesSharedStores, type ConfigFlags, type ResolvedConfig } from './config.ts';
import { builtinEnforcers } from './enforcers.ts';
import { refuseSecondInstance, writeRuntimeInfo } from './running.ts';
import { Closers, openServices, type EmbeddedServices, type Services } from './services.ts';

/** How long a stop waits for the answers of requests it ended while they were held for a human. */
const HELD_ANSWER_MS = 100;

export interface AirlockOptions extends ConfigFlags {
  home?: string;
  /** Alias of `policy`. */
  policyDir?: string;
  timeouts?: Partial<ProxyTimeouts>;
  /** Evaluation threads of the policy engine. */
  threads?: number;
  /** Listen on <home>/proxy.sock too (default true). */
  unixSocket?: boolean;
  /** Run the built-in enforcers (default true; the proxy core's own tests turn them off). */
  builtinEnforcers?: boolean;
  /** Extra enforcers appended after the built-in list (tests). */
  extraEnforcers?: Enforcer[];
  /** Receives one line per decided request (the CLI prints them). */
  log?: (line: string) => void;
}

/** A running Airlock: its services (embedded by default, or shared: runtime/shared-services.ts) and listeners. */
export type Airlock<S extends Services = EmbeddedServices> = S & AirlockListeners;

export interface AirlockListeners {
  proxyAddress: { host: string; port: number };
  /** The Unix socket path, when listening on one. */
  socketPath?: string;
  studioAddress?: { host: string; port: number };
  /** Base URL of the studio, once it listens: where humans approve. */
  studioUrl?: string;
  /** http://AGENT:TOKEN@host:port */
  proxyUrl(agent: string, token: string): string;
  close(): Promise<void>;
}

export function formatRecord(r: AuditRecord): string {
  const decision = r.decision ? `${r.decision.action}${r.decision.rule ? ` (${r.decision.rule})` : ''}` : '-';
  const status = r.status ?? '-';
  const total = r.total_ms !== undefined ? `${r.total_ms.toFixed(1)}ms` : '';
  const detail = r.outcome !== 'forwarded' && r.detail ? ` — ${r.detail}` : r.outcome !== 'forwarded' && r.decision && r.decision.action !== 'allow' ? ` — ${r.decision.reason}` : '';
  // One record, one line: URL, reasons and details quote what the agent sent.
  return terminalText(`${r.time} ${r.agent ?? '-'} ${r.method ?? ''} ${r.url || '-'} → ${decision} ${r.outcome} ${status} ${total}${detail}`);
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

/** Starts Airlock on the state folder alone (what the tests of one process use); shared stores: startReplica. */
export async function startAirlock(opts: AirlockOptions = {}): Promise<Airlock> {
  const home = ensureHome(opts.home);
  const config = resolveConfig(home, { ...opts, policy: opts.policy ?? opts.policyDir });
  if (usesSharedStores(config)) throw new Error('startAirlock opens the embedded stores only; a store or limits URL is set: use startReplica');
  return (await start(home, config, opts)) as Airlock;
}

/**
 * A new state folder has no config.json, so its policy is the flag or `rego`: refuse a missing one
 * before the folder is made, so a start in the wrong folder leaves no empty `.airlock` behind.
 */
function refuseMissingPolicy(opts: AirlockOptions): void {
  if (fs.existsSync(resolveHome(opts.home))) return;
  const policy = opts.policy ?? opts.policyDir ?? 'rego';
  if (fs.existsSync(policy) && fs.statSync(policy).isDirectory()) return;
  throw new PolicyCompileError([{ file: policy, line: 0, column: 0, message: `policy folder does not exist ${missingPolicyHint(policy)}` }]);
}

/** Starts Airlock with whatever stores its settings name: the state folder, or PostgreSQL and Redis (`airlock start`). */
export async function startReplica(opts: AirlockOptions = {}): Promise<Airlock<Services>> {
  refuseMissingPolicy(opts);
  const home = ensureHome(opts.home);
  return start(home, resolveConfig(home, { ...opts, policy: opts.policy ?? opts.policyDir }), opts);
}

async function start(home: string, config: ResolvedConfig, opts: AirlockOptions): Promise<Airlock<Services>> {
  const { origin } = config;
  const proxyAt = inSetting(origin, 'proxy', () => parseHostPort(config.proxy, '--proxy'));
  const studioAt = config.studio ? inSetting(origin, 'studio', () => parseHostPort(config.studio as string, '--studio')) : undefined;
  const allowPrivate = inSetting(origin, 'allowPrivate', () => config.allowPrivate.map(parseAllowPrivate));
  const resolve = inSetting(origin, 'resolve', () => parseResolvePins(config.resolve));
  const extraCa = inSetting(origin, 'upstreamCa', () => config.upstreamCa.flatMap((f) => readCaBundle(f)));
  const upstreamTls = tls.createSecureContext({ ca: [...tls.rootCertificates, ...extraCa] });
  if (opts.unixSocket !== false) await refuseSecondInstance(home);

  const closers = new Closers();
  try {
    const services = await openServices(home, config, { threads: opts.threads, allowPrivate, resolve }, closers);
    const { engine, agents, audit, ca, guard } = services;
    if (studioAt) guard.addOwn({ address: studioAt.host, port: studioAt.port });

    // Where a human approves a held request: the studio of this process, once it listens.
    let studioUrl: string | undefined;
    // Raised first when Airlock stops: requests held for a human are answered (503, their approval
    // kept for the retry) before the connections close.
    const stopping = new AbortFlag();
    const enforcers = [
      ...(opts.builtinEnforcers === false ? [] : builtinEnforcers(services, () => (studioUrl ? { studio: studioUrl } : undefined), stopping)),
      ...(opts.extraEnforcers ?? []),
    ];

    if (opts.log) {
      const log = opts.log;
      // A bare first try answered 407 is protocol, not traffic (see refusals.challenge in proxy/).
      closers.add(audit.onRecord((r) => { if (r.outcome !== 'auth-challenge') log(formatRecord(r)); }));
    }

    const finder = liveFinder(services.secrets);
    const proxy = new ProxyServer({
      engine, agents, audit, ca, guard, enforcers,
      // A lasting request decided under a grant is decided again when the grant is revoked (anywhere).
      grantRevocations: (fn) => services.approvals.onChange((e) => { if (e.type === 'grant-revoked') fn(e.grant.id); }),
      // Replicas: a released request is decided by the version live in the store, not only the one heard of.
      ...('livePolicy' in services && services.livePolicy ? { livePolicy: services.livePolicy } : {}),
      placeholders: () => finder,
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
      refusalsPerMinute: config.auditRefusalsPerMinute,
    });
    closers.add(() => proxy.close());
    closers.add(() => {
      const held = stopping.waiting;
      stopping.abort();
      // Their answers are written within a few turns of the event loop; only then do sockets close.
      return held ? new Promise((resolve) => setTimeout(resolve, HELD_ANSWER_MS)) : undefined;
    });
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
      socketPath = stateFile(home, 'proxySocket');
      // sun_path holds 108 bytes on Linux (104 on macOS); a longer path fails obscurely later.
      if (Buffer.byteLength(socketPath) > 103) {
        throw new Error(`the state folder path is too long for the proxy's Unix socket (${socketPath}); use a shorter --home`);
      }
      await refuseSecondInstance(home);
      const unix = proxy.createListener();
      await listen(unix, socketPath);
      fs.chmodSync(socketPath, 0o600);
      const sp = socketPath;
      closers.add(() => fs.rmSync(sp, { force: true }));
    }

    const proxyUrl = (agent: string, token: string): string =>
      `http://${encodeURIComponent(agent)}:${encodeURIComponent(token)}@${proxyAddress.host.includes(':') ? `[${proxyAddress.host}]` : proxyAddress.host}:${proxyAddress.port}`;

    let studioAddress: { host: string; port: number } | undefined;
    if (studioAt) {
      // Loaded only here: under --no-studio the web server and its plugins are never loaded.
      const { startStudio } = await import('../studio/server.ts');
      const studio = await startStudio({
        home, policyDir: config.policy, engine, audit, agents, approvals: services.approvals, heldBodies: services.heldBodies,
        limiter: services.limiter, sessions: services.sessions, proxyAddress, proxyUrl,
        policyVersions: services.policyVersions, sharedAudit: services.sharedAudit,
      }, studioAt);
      closers.add(() => studio.close());
      studioAddress = { host: studioAt.host, port: studio.port };
      const shownHost = studio.host === '0.0.0.0' || studio.host === '::' ? '127.0.0.1' : studio.host;
      studioUrl = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${studio.port}`;
      if (studio.port !== studioAt.port) guard.addOwn({ address: studio.host, port: studio.port });
    }
    closers.add(writeRuntimeInfo(home, { proxy: proxyAddress, ...(studioAddress ? { studio: studioAddress } : {}) }, config.policy));
    return {
      ...services,
      proxyAddress,
      ...(socketPath ? { socketPath } : {}),
      ...(studioAddress ? { studioAddress, studioUrl } : {}),
      proxyUrl,
      close: () => closers.run(),
    };
  } catch (err) {
    await closers.run();
    throw err;
  }
}
