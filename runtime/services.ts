// The services of a running Airlock, opened once and typed by the interfaces the parts use: the
// policy engine, the stores (state/stores.ts), the proxy's view of the secrets, the local CA and
// the destination guard. runtime/airlock.ts hands the proxy, the enforcers and the studio each the
// part of this record it needs; nothing below the runtime opens a store of its own.
import { PolicyEngine } from '../engine/engine.ts';
import { CertificateAuthority } from '../proxy/ca.ts';
import { DestinationGuard, type AllowRule, type ResolvePin } from '../proxy/destination.ts';
import { HeldBodies } from '../proxy/held-bodies.ts';
import { LiveSecrets } from '../proxy/live-secrets.ts';
import { AgentStore } from '../state/agents.ts';
import { ApprovalQueue } from '../state/approvals.ts';
import { AuditLog } from '../state/audit-log.ts';
import { RateLimiter } from '../state/ratelimit.ts';
import { JournalSessionStore, timelineEntry } from '../state/sessions.ts';
import { InjectionJournal } from '../state/injected-places.ts';
import type { AgentDirectory, AgentSessions, Approvals, AuditTrail, InjectionLedger, RateLimits, StepUp } from '../state/stores.ts';
import { TotpStore } from '../state/totp.ts';
import { WebhookChannel } from '../state/webhook.ts';
import type { VersionStore } from '../studio/versions.ts';
import type { SharedAuditLog } from '../studio/services.ts';
import { usesSharedStores, type AirlockConfig } from './config.ts';
import type { SharedStores } from './shared-services.ts';

export interface Services {
  home: string;
  config: AirlockConfig;
  engine: PolicyEngine;
  agents: AgentDirectory;
  audit: AuditTrail;
  approvals: Approvals;
  totp: StepUp;
  limiter: RateLimits;
  /** Agent sessions: labels, counters, links served, timelines (docs/sessions.md). */
  sessions: AgentSessions;
  /** The secret store as the proxy reads it (placeholder and value indexes, kept current). */
  secrets: LiveSecrets;
  /** Where secrets were injected (scrubbed there after a restart, and by every replica). */
  injections: InjectionLedger;
  ca: CertificateAuthority;
  guard: DestinationGuard;
  /** Bodies of requests held for approval, for the studio to show while they wait. */
  heldBodies: HeldBodies;
  /** Published policy versions when they are shared (PostgreSQL); else the studio keeps them in the state folder. */
  policyVersions?: VersionStore;
  /** The audit log of every replica when it is shared (PostgreSQL): the studio's replay and captures read it. */
  sharedAudit?: SharedAuditLog;
}

/** The services of one replica among N (`store`/`limits` set): runtime/shared-services.ts. */
export type SharedServices = Services & Pick<SharedStores, 'db' | 'livePolicy'>;

/** The services as the embedded state folder provides them: what `airlock start` opens by default. */
export interface EmbeddedServices extends Services {
  agents: AgentStore;
  audit: AuditLog;
  approvals: ApprovalQueue;
  totp: TotpStore;
  limiter: RateLimiter;
  sessions: JournalSessionStore;
  injections: InjectionJournal;
}

/** Functions run in reverse order when Airlock stops (or fails to start), each whatever the others do. */
export class Closers {
  private readonly fns: Array<() => unknown> = [];

  add(fn: () => unknown): void {
    this.fns.push(fn);
  }

  async run(): Promise<void> {
    for (const fn of this.fns.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        /* keep closing the rest */
      }
    }
  }
}

export interface ServiceOptions {
  /** Evaluation threads of the policy engine. */
  threads?: number;
  allowPrivate: AllowRule[];
  resolve: Map<string, ResolvePin>;
}

/**
 * Opens every service on the state folder, in an order where a damaged file stops the start with
 * its name (before anything listens); each one's close goes to `closers`.
 */
export async function openServices(home: string, config: AirlockConfig, opts: ServiceOptions, closers: Closers): Promise<EmbeddedServices | SharedServices> {
  const engine = new PolicyEngine({ mode: 'isolated', timeoutMs: config.evalTimeoutMs, ...(opts.threads ? { threads: opts.threads } : {}) });
  closers.add(() => engine.close());
  await engine.loadFolder(config.policy);
  // --store postgres://… / --limits redis://…: the stores of N replicas (runtime/shared-services.ts).
  if (usesSharedStores(config)) {
    // Loaded only here: without shared stores the PostgreSQL and Redis clients are never loaded.
    const { openSharedStores } = await import('./shared-services.ts');
    const stores = await openSharedStores(home, config, engine, closers);
    const guard = new DestinationGuard({ allowPrivate: opts.allowPrivate, resolve: opts.resolve });
    return { home, config, engine, ca: await CertificateAuthority.open(home), guard, heldBodies: new HeldBodies(), ...stores };
  }
  const agents = await AgentStore.open(home);
  const audit = new AuditLog(home);
  closers.add(() => audit.close());
  const ca = await CertificateAuthority.open(home);
  const guard = new DestinationGuard({ allowPrivate: opts.allowPrivate, resolve: opts.resolve });

  const secrets = await LiveSecrets.open(home);
  closers.add(() => secrets.close());
  // Nothing Airlock writes down may hold a real value, whatever the agent sent.
  audit.redact = (line) => secrets.values.redact(line);
  const injections = await InjectionJournal.open(home);
  closers.add(() => injections.close());

  const totp = new TotpStore(home);
  // A damaged totp.json must stop the start, not turn every later approval into "internal error".
  totp.enrolled();
  const unwatchTotp = totp.watch();
  if (unwatchTotp) closers.add(unwatchTotp);
  const webhook = new WebhookChannel(() => config.approvalWebhook ?? process.env.AIRLOCK_APPROVAL_WEBHOOK ?? approvals.settings.webhook);
  const approvals: ApprovalQueue = await ApprovalQueue.open(home, { totp, notify: (event) => webhook.notify(event) });
  closers.add(async () => {
    webhook.close();
    await approvals.close();
  });

  const limiter = await RateLimiter.open(home);
  closers.add(() => limiter.close());

  const sessions = JournalSessionStore.open(home, { liveTokens: () => agents.liveTokenIds() });
  closers.add(() => sessions.close());
  // A session's timeline is its requests' audit records.
  closers.add(audit.onRecord((r) => {
    const id = r.description?.session?.id;
    if (id !== undefined && r.outcome !== 'pending') sessions.noteRequest(id, timelineEntry(r));
  }));

  return { home, config, engine, agents, audit, approvals, totp, limiter, sessions, secrets, injections, ca, guard, heldBodies: new HeldBodies() };
}
