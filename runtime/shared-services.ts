// The services of one replica among N: the stores behind the same ports (state/stores.ts), on
// PostgreSQL (`--store postgres://…`: agents, secrets, approvals, TOTP, policy versions, agent
// sessions, the audit log) and Redis (`--limits redis://…`: rate-limit and byte buckets). Either may be given alone;
// what is not shared stays in the state folder. The local CA, the audit spool and the cached
// policy folders stay in each replica's state folder (docs/deploy.md). runtime/services.ts
// chooses these stores and adds the engine, the CA and the destination guard.
import { compilePolicy, listPolicyFiles } from '../engine/compile.ts';
import type { PolicyEngine } from '../engine/engine.ts';
import { LiveSecrets } from '../proxy/live-secrets.ts';
import { AgentStore } from '../state/agents.ts';
import { ApprovalQueue } from '../state/approvals.ts';
import { AuditLog } from '../state/audit-log.ts';
import { InjectionJournal } from '../state/injected-places.ts';
import { PgAgents } from '../state/postgres/agents.ts';
import { PgApprovals } from '../state/postgres/approvals.ts';
import { PgAuditTrail } from '../state/postgres/audit.ts';
import { PG_STORE, PgState, migrate } from '../state/postgres/db.ts';
import { StoreUnavailableError } from '../state/unavailable.ts';
import { PgPolicyVersions } from '../state/postgres/policy-versions.ts';
import { PgInjectionLedger } from '../state/postgres/injected-places.ts';
import { PgSecretVault } from '../state/postgres/secrets.ts';
import { PgSessions } from '../state/postgres/sessions.ts';
import { PgStepUp } from '../state/postgres/totp.ts';
import { RateLimiter } from '../state/ratelimit.ts';
import { RedisRateLimits } from '../state/redis/limits.ts';
import { SecretStore } from '../state/secrets/store.ts';
import type { AgentDirectory, AgentSessions, Approvals, AuditTrail, InjectionLedger, RateLimits, SecretVault, StepUp } from '../state/stores.ts';
import { JournalSessionStore, timelineEntry } from '../state/sessions.ts';
import { TotpStore } from '../state/totp.ts';
import { WebhookChannel } from '../state/webhook.ts';
import { VersionStore } from '../studio/versions.ts';
import type { AirlockConfig } from './config.ts';

/** The stores of one replica (runtime/services.ts adds the engine, the CA and the guard). */
export interface SharedStores {
  agents: AgentDirectory;
  audit: AuditTrail;
  approvals: Approvals;
  totp: StepUp;
  limiter: RateLimits;
  secrets: LiveSecrets;
  injections: InjectionLedger;
  sessions: AgentSessions;
  policyVersions?: VersionStore;
  sharedAudit?: PgAuditTrail;
  /** The PostgreSQL state store, when `store` is set. */
  db?: PgState;
  /**
   * Waits until this replica runs the policy version live in the store now (read from PostgreSQL):
   * a request a human released is decided again by it, not by a version replaced a moment ago elsewhere.
   */
  livePolicy?: () => Promise<void>;
}

/** Opens the state store and applies its migrations (what `airlock start` and `airlock migrate` do). */
export async function openStateStore(url: string, opts: { listen?: boolean; log?: (line: string) => void } = {}): Promise<PgState> {
  const db = await PgState.open(url, { listen: opts.listen });
  try {
    const applied = await migrate(db);
    if (applied.length) (opts.log ?? ((line) => process.stderr.write(`${line}\n`)))(`airlock: state store ${db.display}: applied ${applied.join(', ')}`);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** Loads one version of the shared history into the engine; false when it cannot be loaded (the current one stays). */
async function loadVersion(engine: PolicyEngine, doc: PgPolicyVersions, version: string, log: (line: string) => void): Promise<boolean> {
  try {
    // The bundle the publishing replica compiled loads at once; without one, compile the sources.
    const dir = doc.dirOf(version);
    const bundle = await doc.bundle(version).catch(() => undefined);
    await engine.load(bundle ? { ...bundle, version, dir, files: listPolicyFiles(dir) } : await compilePolicy(dir));
    log(`airlock: live policy is version ${version} (published to the shared store)`);
    return true;
  } catch (err) {
    log(`airlock: published version ${version} could not be loaded (${(err as Error).message.split('\n')[0]}); keeping ${engine.version ?? 'the started policy'}`);
    return false;
  }
}

/**
 * Keeps the engine on the live version of the shared history. One load at a time, and after each
 * the live version is read again: publishes that follow each other quickly (a publish and its
 * rollback; one version compiled from sources while the next arrives with its bundle) end on the
 * last one, never on whichever load happened to finish last.
 */
function followLive(engine: PolicyEngine, doc: PgPolicyVersions, log: (line: string) => void): () => Promise<void> {
  let busy = false;
  let again = false;
  let run: Promise<void> = Promise.resolve();
  let retryMs = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const follow = (): Promise<void> => {
    again = true;
    if (!busy) run = loop();
    return run;
  };
  const loop = async (): Promise<void> => {
    busy = true;
    // Tried once per run; a version that failed to load (the database or the disk failed for a
    // moment) is tried again later, or this replica would decide with the older one until the next
    // publish.
    let failed: string | undefined;
    try {
      while (again) {
        again = false;
        const current = doc.data.current;
        if (!current || engine.version === current || current === failed) continue;
        if (!(await loadVersion(engine, doc, current, log)) || engine.version !== current) failed = current;
        again = true; // the live version may have moved while this one loaded
      }
    } finally {
      busy = false;
    }
    if (failed === undefined || engine.version === doc.data.current) {
      retryMs = 0;
    } else if (!retryTimer) {
      retryMs = Math.min(30_000, Math.max(1000, retryMs * 2));
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        void follow();
      }, retryMs);
      retryTimer.unref();
    }
  };
  return follow;
}

/** How long a request waits for this replica to load the live policy version before it is refused. */
const POLICY_FENCE_MS = 5000;

/**
 * Every request reads the live policy version in the statement that enters its session. When this
 * replica runs another one (a publish or rollback elsewhere whose notice is still on its way, or a
 * compile still running), the request waits until the engine runs the live version, and is refused
 * with 503 if it cannot within POLICY_FENCE_MS: no replica decides with a replaced policy.
 */
function policyFence(engine: PolicyEngine, doc: PgPolicyVersions, db: PgState): (version: string) => Promise<void> | undefined {
  return (live) => {
    if (engine.version === live) return undefined;
    return (async () => {
      // Not heard of yet: read the history again (chained after a publish of this replica's own).
      if (doc.data.current !== live) {
        try {
          await doc.refresh();
        } catch (err) {
          throw new StoreUnavailableError(PG_STORE, `${db.display}: the live policy version ${live} could not be read (${(err as Error).message})`);
        }
      }
      const deadline = Date.now() + POLICY_FENCE_MS;
      // The engine follows doc (followLive); a publish of this replica's own runs its version first.
      while (engine.version !== doc.data.current && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      if (engine.version !== doc.data.current) {
        throw new StoreUnavailableError(PG_STORE, `${db.display}: the live policy version ${doc.data.current} is not loaded on this replica yet (it runs ${engine.version ?? 'none'})`);
      }
    })();
  };
}

export async function openSharedStores(
  home: string,
  config: AirlockConfig,
  engine: PolicyEngine,
  closers: { add(fn: () => unknown): void },
): Promise<SharedStores> {
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  let db: PgState | undefined;
  if (config.store) {
    const opened = await openStateStore(config.store, { log });
    db = opened;
    // Closed last (closers run in reverse): the audit trail flushes into it first.
    closers.add(() => opened.close());
  }

  const agents: AgentDirectory = db ? await PgAgents.open(db) : await AgentStore.open(home);
  const sharedAudit = db ? new PgAuditTrail(db, home) : undefined;
  const audit: AuditTrail = sharedAudit ?? new AuditLog(home);
  closers.add(() => audit.close());
  const vault: SecretVault & { list(): unknown[] } = db ? await PgSecretVault.open(db, home) : await SecretStore.open(home);
  const secrets = await LiveSecrets.over(vault);
  closers.add(() => secrets.close());
  audit.redact = (line) => secrets.values.redact(line);
  // Where secrets were injected: shared, so every replica scrubs what a service shows back of them.
  const injections: InjectionLedger = db ? await PgInjectionLedger.open(db) : await InjectionJournal.open(home);
  closers.add(() => injections.close());

  let totp: StepUp;
  if (db && vault instanceof PgSecretVault) {
    totp = await PgStepUp.open(db, vault);
  } else {
    const file = new TotpStore(home);
    file.enrolled();
    const unwatch = file.watch();
    if (unwatch) closers.add(unwatch);
    totp = file;
  }
  const webhook = new WebhookChannel(() => config.approvalWebhook ?? process.env.AIRLOCK_APPROVAL_WEBHOOK ?? approvals.settings.webhook);
  const approvalOpts = { totp, notify: (event: Parameters<WebhookChannel['notify']>[0]) => webhook.notify(event) };
  const approvals: Approvals = db ? await PgApprovals.open(db, approvalOpts) : await ApprovalQueue.open(home, approvalOpts);
  closers.add(async () => {
    webhook.close();
    await approvals.close();
  });

  const limiter: RateLimits = config.limits ? await RedisRateLimits.open(config.limits) : await RateLimiter.open(home);
  closers.add(() => limiter.close());
  if (db && !config.limits) log('airlock: rate limits are kept per replica (no --limits redis://…): a limit of N is N on each replica');

  let policyVersions: VersionStore | undefined;
  let livePolicy: ((version: string) => Promise<void> | undefined) | undefined;
  let livePolicyNow: (() => Promise<void>) | undefined;
  if (db) {
    const doc = await PgPolicyVersions.open(db, home);
    // A publish from this replica's studio activates the engine first: its bundle goes with the sources.
    doc.artifact = (version) => (engine.policy?.version === version ? { wasm: engine.policy.wasm, data: engine.policy.data } : undefined);
    policyVersions = VersionStore.over(home, doc);
    // A version published on any replica becomes live here too.
    const follow = followLive(engine, doc, log);
    closers.add(doc.onChange(() => void follow()));
    await follow();
    const fence = policyFence(engine, doc, db);
    livePolicy = fence;
    const store = db;
    livePolicyNow = async () => {
      const r = await store.query<{ version: string | null }>('SELECT version FROM policy_current WHERE id = 1');
      const live = r.rows[0]?.version;
      if (live != null) await fence(String(live));
    };
  }

  // Sessions are shared with the other state (a label picked up through one replica counts on all).
  const sessionAgents = agents;
  const liveTokens = (): Set<string> => sessionAgents.liveTokenIds();
  const sessions: AgentSessions = db ? await PgSessions.open(db, { liveTokens, ...(livePolicy ? { livePolicy } : {}) }) : JournalSessionStore.open(home, { liveTokens });
  closers.add(() => sessions.close());
  closers.add(audit.onRecord((r) => {
    const id = r.description?.session?.id;
    if (id !== undefined && r.outcome !== 'pending') sessions.noteRequest(id, timelineEntry(r));
  }));

  return {
    agents, audit, approvals, totp, limiter, secrets, injections, sessions,
    ...(policyVersions ? { policyVersions } : {}),
    ...(livePolicyNow ? { livePolicy: livePolicyNow } : {}),
    ...(sharedAudit ? { sharedAudit } : {}),
    ...(db ? { db } : {}),
  };
}
