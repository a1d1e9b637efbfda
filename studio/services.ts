// What the studio is given by the Airlock it runs in (runtime/airlock.ts): typed parts of the
// running services. All but the state folder are optional: the studio also runs without a proxy in
// its process (policy editing only), and a route whose part is missing answers
// {available: false, reason} so the browser shows "not available" instead of failing.
import type { PolicyEngine } from '../engine/engine.ts';
import type { HeldBodies } from '../proxy/held-bodies.ts';
import type { AuditFilter, AuditRecord } from '../state/audit-log.ts';
import type { AgentDirectory, AgentSessions, Approvals, AuditTrail, RateLimits } from '../state/stores.ts';
import type { VersionStore } from './versions.ts';

export interface StudioServices {
  /** The state folder. */
  home: string;
  /** The policy folder the proxy started with. */
  policyDir?: string;
  /** The engine deciding live traffic: the studio publishes and rolls back into it. */
  engine?: Pick<PolicyEngine, 'load' | 'version' | 'onReload'>;
  /** The proxy's audit trail: the live traffic view follows it (else the audit file is tailed); humans' session changes are appended to it. */
  audit?: Pick<AuditTrail, 'onRecord' | 'redact' | 'append'>;
  /** The proxy's agents (their cache sees changes at once; else the file is opened). */
  agents?: AgentDirectory;
  approvals?: Approvals;
  heldBodies?: HeldBodies;
  limiter?: RateLimits;
  /** The proxy's agent sessions (labels, timelines); the Sessions page needs the proxy in this process. */
  sessions?: AgentSessions;
  /** Where the proxy listens, for the status bar. */
  proxyAddress?: { host: string; port: number };
  /** The proxy URL an agent uses, with its credentials. */
  proxyUrl?(agent: string, token: string): string;
  /** Published policy versions kept in a shared store (PostgreSQL): every replica's studio sees every publish. */
  policyVersions?: VersionStore;
  /** The audit log of every replica when it lives in a shared store: replay and captures read it instead of the file. */
  sharedAudit?: SharedAuditLog;
}

/** The shared audit log as the studio reads it, with the same filters as the file. */
export interface SharedAuditLog {
  lines(filter: AuditFilter): AsyncIterable<string>;
  read(filter: AuditFilter): AsyncIterable<AuditRecord>;
}

export function proxyAddressText(s: StudioServices | undefined): string | undefined {
  const a = s?.proxyAddress;
  return a ? `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}` : undefined;
}
