// What the studio needs from the running Airlock (proxy/runtime.ts hands it over). Every piece is
// optional: the studio also runs without a proxy (policy editing only) and shows "not available"
// for what is missing, instead of failing. Accessors here probe the shapes defensively so a piece
// that lands later (approvals, limiter, secrets) lights up without changes elsewhere.
import type { CompiledPolicy } from '../engine/compile.ts';
import type { AuditRecord } from '../state/audit-log.ts';

export interface EngineLike {
  load(compiled: CompiledPolicy): Promise<void>;
  readonly version?: string;
  onReload?(fn: (version: string) => void): () => void;
}

export interface AuditLike {
  file?: string;
  onRecord?(fn: (r: AuditRecord) => void): () => void;
}

export interface StudioRuntime {
  home: string;
  policyDir?: string;
  engine?: EngineLike;
  audit?: AuditLike;
  auditLog?: AuditLike;
  agents?: unknown;
  enforcers?: unknown;
  approvals?: unknown;
  limiter?: unknown;
  secrets?: unknown;
  /** Where the proxy listens, for the status bar. */
  proxyAddress?: unknown;
  [key: string]: unknown;
}

/** The policy folder the runtime started with (`config.policy` in proxy/runtime.ts). */
export function policyDirOf(rt: StudioRuntime | undefined): string | undefined {
  if (typeof rt?.policyDir === 'string') return rt.policyDir;
  const cfg = rt?.config as { policy?: unknown } | undefined;
  return typeof cfg?.policy === 'string' ? cfg.policy : undefined;
}

export function auditOf(rt: StudioRuntime | undefined): AuditLike | undefined {
  const a = (rt?.audit ?? rt?.auditLog) as AuditLike | undefined;
  return a && typeof a === 'object' ? a : undefined;
}

export function engineOf(rt: StudioRuntime | undefined): EngineLike | undefined {
  const e = rt?.engine as EngineLike | undefined;
  return e && typeof e.load === 'function' ? e : undefined;
}

/** Calls the first of `names` that is a method of `obj`. */
export function method(obj: unknown, ...names: string[]): ((...args: unknown[]) => unknown) | undefined {
  if (!obj || typeof obj !== 'object') return undefined;
  for (const n of names) {
    const f = (obj as Record<string, unknown>)[n];
    if (typeof f === 'function') return (f as (...a: unknown[]) => unknown).bind(obj);
  }
  return undefined;
}

export function proxyAddressText(rt: StudioRuntime | undefined): string | undefined {
  const a = rt?.proxyAddress as { host?: string; address?: string; port?: number } | string | undefined;
  if (!a) return undefined;
  if (typeof a === 'string') return a;
  const host = a.host ?? a.address;
  return host && a.port ? `${host.includes(':') ? `[${host}]` : host}:${a.port}` : undefined;
}
