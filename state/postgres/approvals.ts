// Approvals and grants in PostgreSQL, shared by every replica (the Approvals port; embedded:
// state/approvals.ts, whose rules this follows: records, bounds, grants and single use are built
// by the same functions).
//
// Each replica keeps pending and recent approvals in memory (what the studio lists) and hears of
// every change another replica makes through NOTIFY airlock_approvals: a request held on A shows
// in B's studio as soon as A's INSERT commits. Changes that must happen once are conditional
// UPDATEs: resolving (`WHERE status = 'pending'`) and using an approval (`WHERE used_at IS NULL`),
// so two humans clicking on two replicas, or a held request and a retry, cannot both win.
//
// A human's click on B releases the request held on A: B commits the resolution and notifies; A,
// which holds the waiter, claims the use of the approval and lets the request go. A replica killed
// mid-hold leaves the approval pending in the table: it can still be approved anywhere, and the
// agent's retry carrying Airlock-Approval claims it on whichever replica it reaches.
import crypto from 'node:crypto';
import type { Grant, RequestDescription } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import type { AbortLike } from '../../lib/abort-flag.ts';
import {
  ApprovalError, checkCapacity, cleanMessage, grantsMatching, newApprovalRecord, pastRetryWindow, planGrant, publicSummary, requestHash, retryNotFor,
  type ApprovalEvent, type ApprovalQueueOptions, type ApprovalRecord, type ApprovalStatus, type ApproveOptions, type GrantRecord,
  type RetryClaim, type WaitOutcome,
} from '../approvals.ts';
import type { Approvals } from '../stores.ts';
import { jsonb, PG_STORE, STATEMENT_TIMEOUT_MS, type PgState } from './db.ts';
import { TurnGate } from '../../lib/turn-gate.ts';
import { StoreUnavailableError } from '../unavailable.ts';
import { ChangeFeed } from '../../lib/change-feed.ts';

/** How soon a held request's claim on its approval is tried again after the database failed it. */
const CLAIM_RETRY_MS = 250;

const CHANNEL = 'airlock_approvals';

/**
 * Approvals are created one at a time on each replica (every replica serializes them under one
 * advisory lock anyway), agents taking turns: an agent's burst of held requests (up to its 512
 * open ones) waits here, not in the pool. Waiting in the pool, each held a connection while it
 * waited for the lock, and every other agent's statements queued behind the whole burst (500 held
 * requests: a neighbour's token check waited 2 s, then 503).
 */
const CREATES_AT_ONCE = 1;

type RecordEvent = Extract<ApprovalEvent, { approval: unknown }>['type'];
type Notice = { type: ApprovalEvent['type'] | 'settings'; id?: string };

interface Row {
  id: string;
  record: ApprovalRecord;
  held_by: string | null;
  held_until: Date | null;
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const strings = (x: Record<string, unknown>, keys: string[]): boolean => keys.every((k) => typeof x[k] === 'string');

/** A row as Airlock writes it; anything else (edited by hand, damaged) is left out of every view. */
function wellFormed(row: Row): boolean {
  const r = row.record as unknown;
  return isObject(r) && r.id === row.id && strings(r, ['agent', 'status', 'created', 'retry_until', 'request_hash'])
    && ['pending', 'approved', 'denied', 'expired'].includes(r.status as string) && !Number.isNaN(Date.parse(r.created as string) + Date.parse(r.retry_until as string));
}

function wellFormedGrant(g: unknown): g is GrantRecord {
  return isObject(g) && strings(g, ['id', 'agent', 'method', 'host', 'expires']) && !Number.isNaN(Date.parse(g.expires as string));
}

export class PgApprovals implements Approvals {
  private readonly changes = new ChangeFeed<ApprovalEvent>();
  private readonly approvals = new Map<string, ApprovalRecord>();
  private readonly creating = new TurnGate(CREATES_AT_ONCE, 1);
  /** How long a request waits for its approval to be created (its turn and the insert) before a 503. */
  static CREATE_WITHIN_MS = 2 * STATEMENT_TIMEOUT_MS;
  /** Approvals a request on another replica waits on, until when. */
  private readonly heldElsewhere = new Map<string, number>();
  private readonly waiters = new Map<string, Array<(o: WaitOutcome) => void>>();
  private grantList: GrantRecord[] = [];
  private settingsData: { webhook?: string } = {};
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  private constructor(private readonly db: PgState, private readonly opts: ApprovalQueueOptions) {
    this.now = opts.now ?? Date.now;
  }

  static async open(db: PgState, opts: ApprovalQueueOptions = {}): Promise<PgApprovals> {
    const q = new PgApprovals(db, opts);
    await q.loadAll();
    db.listen(CHANNEL, (p) => q.heard(p as Notice));
    db.onResync(() => q.loadAll(true));
    await q.sweep().catch(() => undefined);
    const every = opts.sweepMs ?? 30_000;
    if (every > 0) {
      q.timer = setInterval(() => void q.sweep().catch(() => undefined), every);
      q.timer.unref();
    }
    return q;
  }

  // ─── the view in memory ──────────────────────────────────────────────────────────────────────

  private async loadAll(resync = false): Promise<void> {
    const keepMs = this.opts.keepResolvedMs ?? 7 * 24 * 3_600_000;
    const r = await this.db.query<Row>(
      `SELECT id, record, held_by, held_until FROM approvals WHERE status = 'pending' OR created > $1 ORDER BY created DESC LIMIT 3000`,
      [new Date(this.now() - keepMs).toISOString()],
    );
    for (const row of r.rows) if (this.readable(row)) this.apply(row, resync ? undefined : 'load');
    await this.loadGrants();
    const s = await this.db.query<{ settings: { webhook?: string } }>('SELECT settings FROM approval_settings WHERE id = 1');
    this.settingsData = s.rows[0]?.settings ?? {};
  }

  private async loadGrants(): Promise<void> {
    const g = await this.db.query<{ id: string; record: GrantRecord }>('SELECT id, record FROM grants ORDER BY expires');
    this.grantList = g.rows.filter((x) => wellFormedGrant(x.record) || this.unreadable('grants', x.id)).map((x) => x.record);
  }

  private async fetch(id: string): Promise<ApprovalRecord | undefined> {
    const r = await this.db.query<Row>('SELECT id, record, held_by, held_until FROM approvals WHERE id = $1', [id]);
    const row = r.rows[0];
    if (!row || !this.readable(row)) {
      this.approvals.delete(id);
      return undefined;
    }
    return this.apply(row, 'load');
  }

  private readonly reported = new Set<string>();
  private readonly claims = new Map<string, { by: object; claim: Promise<boolean> }>();

  /** False (and said once) for a row that is not an approval as Airlock writes it: it cannot be listed, approved or used. */
  private readable(row: Row): boolean {
    if (wellFormed(row)) return true;
    this.approvals.delete(row.id);
    return this.unreadable('approvals', row.id);
  }

  private unreadable(table: string, id: string): false {
    const key = `${table}:${id}`;
    if (!this.reported.has(key)) {
      this.reported.add(key);
      this.db.warn(`airlock: ${this.db.display}: the ${table} row ${JSON.stringify(String(id).slice(0, 80))} is not one Airlock wrote (damaged or edited by hand); it is ignored: delete or restore it`);
    }
    return false;
  }

  /**
   * Takes a record as stored into the view (the same object stays in use: a held request reads
   * its resolution from it), then settles this replica's waiters on it. `event` is emitted unless
   * it is 'load'; undefined means "work out what changed" (after a reconnect).
   */
  private apply(row: Row, event: RecordEvent | 'load' | undefined): ApprovalRecord {
    const fresh = row.record;
    const held = row.held_by && row.held_by !== this.db.replica && row.held_until ? row.held_until.getTime() : 0;
    if (held > this.now()) this.heldElsewhere.set(fresh.id, held);
    else this.heldElsewhere.delete(fresh.id);
    let a = this.approvals.get(fresh.id);
    const before = a?.status;
    // A read that left the database before a resolution this view already holds (two reads of one
    // approval crossing): a resolved approval is never pending again, so the older read is dropped.
    if (a && before !== 'pending' && fresh.status === 'pending') return a;
    if (a) {
      for (const k of Object.keys(a)) if (!(k in fresh)) delete (a as unknown as Record<string, unknown>)[k];
      Object.assign(a, fresh);
    } else {
      a = fresh;
      this.approvals.set(a.id, a);
    }
    const type = event ?? (before === undefined ? 'created' : before !== a.status ? 'resolved' : undefined);
    if (type && type !== 'load') this.emit({ type, approval: a });
    this.settleWaiters(a);
    return a;
  }

  /** Wakes this replica's requests held on an approval resolved (possibly elsewhere). */
  private settleWaiters(a: ApprovalRecord): void {
    const list = this.waiters.get(a.id);
    if (!list?.length) return;
    if (a.status === 'denied') for (const w of [...list]) w('denied');
    else if (a.status === 'expired') for (const w of [...list]) w('timeout');
    else if (a.status === 'approved') {
      const [first, ...rest] = list;
      for (const w of rest) w('used');
      // Woken again (a re-read) while its claim is in flight: that claim answers it.
      if (this.claims.get(a.id)?.by === first) return;
      // A claim the database could not take is tried again while the request is still held (its
      // own timeout ends that): the approval is not used, so saying so would be a lie.
      void this.consume(a, first!).then((ok) => {
        // The hold ended while the claim was in flight (a lock or a slow server held it up): no
        // request used the approval, so it is given back for the agent's retry.
        if (ok && !this.waiters.get(a.id)?.includes(first!)) return void this.returnUse(a);
        first!(ok ? 'approved' : 'used');
      }, () => {
        setTimeout(() => this.settleWaiters(a), CLAIM_RETRY_MS).unref();
      });
    }
  }

  /**
   * A notice, read again a few times when reading what it announces fails (a statement past its
   * bound, a connection lost): a request held here on an approval resolved elsewhere is released
   * when the read succeeds, not left to its timeout.
   */
  private heard(n: Notice, attempt = 0): void {
    void this.onNotice(n).catch(() => {
      if (attempt < 5) setTimeout(() => this.heard(n, attempt + 1), 250 * 2 ** attempt).unref();
    });
  }

  private async onNotice(n: Notice): Promise<void> {
    if (n.type === 'settings') {
      const s = await this.db.query<{ settings: { webhook?: string } }>('SELECT settings FROM approval_settings WHERE id = 1');
      this.settingsData = s.rows[0]?.settings ?? {};
      return;
    }
    if (n.type === 'grant-created' || n.type === 'grant-revoked') {
      const before = new Map(this.grantList.map((g) => [g.id, g]));
      await this.loadGrants();
      if (n.type === 'grant-created') {
        const g = this.grantList.find((x) => x.id === n.id);
        if (g) this.emit({ type: 'grant-created', grant: g });
      } else {
        const g = before.get(n.id ?? '');
        if (g) this.emit({ type: 'grant-revoked', grant: g });
      }
      return;
    }
    if (!n.id) return;
    const r = await this.db.query<Row>('SELECT id, record, held_by, held_until FROM approvals WHERE id = $1', [n.id]);
    if (r.rows[0] && this.readable(r.rows[0])) this.apply(r.rows[0], n.type as RecordEvent);
  }

  private announce(n: Notice): void {
    void this.db.notify(CHANNEL, n).catch(() => undefined);
  }

  onChange(fn: (e: ApprovalEvent) => void): () => void {
    return this.changes.subscribe(fn);
  }

  private emit(e: ApprovalEvent): void {
    this.changes.emit(e);
  }

  // ─── reading ─────────────────────────────────────────────────────────────────────────────────

  list(filter: { status?: ApprovalStatus; agent?: string } = {}): ApprovalRecord[] {
    return [...this.approvals.values()]
      .filter((a) => (!filter.status || a.status === filter.status) && (!filter.agent || a.agent === filter.agent))
      .sort((a, b) => b.created.localeCompare(a.created));
  }

  get(idOrPrefix: string): ApprovalRecord {
    const exact = this.approvals.get(idOrPrefix);
    if (exact) return exact;
    if (idOrPrefix.length < 6) {
      throw new ApprovalError('bad-request', `"${idOrPrefix.slice(0, 40)}" is too short to name an approval: give its whole id or at least 6 characters of it (e.g. ap_3f9; see airlock approvals list)`);
    }
    const hits = [...this.approvals.values()].filter((a) => a.id.startsWith(idOrPrefix));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new ApprovalError('ambiguous', `approval id prefix ${idOrPrefix} matches ${hits.length} approvals; give more of it`);
    throw new ApprovalError('not-found', `no approval ${idOrPrefix}`);
  }

  /** `get`, asking the database when the view has not heard of it yet (a notice in flight). */
  private async getFresh(idOrPrefix: string): Promise<ApprovalRecord> {
    try {
      return this.get(idOrPrefix);
    } catch (err) {
      if (!(err instanceof ApprovalError) || err.code !== 'not-found' || !/^ap_[0-9a-f]{16}$/.test(idOrPrefix)) throw err;
      const a = await this.fetch(idOrPrefix);
      if (!a) throw err;
      return a;
    }
  }

  async fullDescription(id: string): Promise<RequestDescription | undefined> {
    const a = this.get(id);
    if (a.description_complete !== false) return a.description;
    const r = await this.db.query<{ full_description: string | null }>('SELECT full_description FROM approvals WHERE id = $1', [a.id]);
    const text = r.rows[0]?.full_description;
    return text ? (JSON.parse(text) as RequestDescription) : undefined;
  }

  isHeld(id: string): boolean {
    if ((this.waiters.get(id)?.length ?? 0) > 0) return true;
    return (this.heldElsewhere.get(id) ?? 0) > this.now();
  }

  async refreshStepUp(): Promise<void> {
    await this.opts.totp?.refresh?.();
  }

  needsStepUp(a: Pick<ApprovalRecord, 'step_up' | 'risk'>): boolean {
    return (a.step_up || a.risk === 'critical') && (this.opts.totp?.enrolled() ?? false);
  }

  grants(includeExpired = false): GrantRecord[] {
    const t = this.now();
    return this.grantList.filter((g) => includeExpired || Date.parse(g.expires) > t);
  }

  matchingGrants(d: RequestDescription): Grant[] | Promise<Grant[]> {
    this.db.ensureAvailable();
    const found = grantsMatching(this.grantList, d, this.now());
    if (!found.length) return found;
    // The notice of a revocation through another replica takes milliseconds: a grant the view
    // matched is confirmed against the table, so a revoked grant stops at the next request everywhere.
    // Expired by the database's clock too: a replica whose own clock lags does not lengthen a grant.
    return this.db.query<{ id: string }>('SELECT id FROM grants WHERE id = ANY($1::text[]) AND expires > now()', [found.map((g) => g.id)]).then((r) => {
      const live = new Set(r.rows.map((row) => row.id));
      if (live.size < found.length) void this.loadGrants().catch(() => undefined);
      return found.filter((g) => live.has(g.id));
    });
  }

  get settings(): Readonly<{ webhook?: string }> {
    return this.settingsData;
  }

  async setWebhook(url: string | undefined): Promise<void> {
    const settings = { ...this.settingsData };
    if (url) settings.webhook = url;
    else delete settings.webhook;
    await this.db.query('INSERT INTO approval_settings (id, settings) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET settings = $1', [JSON.stringify(settings)]);
    this.settingsData = settings;
    this.announce({ type: 'settings' });
  }

  // ─── creating and holding ────────────────────────────────────────────────────────────────────

  async create(description: RequestDescription, decision: EngineDecision, hash = requestHash(description), id?: string): Promise<ApprovalRecord> {
    const t = this.now();
    const full = JSON.stringify(description);
    const bytes = Buffer.byteLength(full);
    const agent = description.agent.id;
    // This replica's view first (no round trip for what it already refuses)…
    checkCapacity(this.list({ status: 'pending' }), agent, bytes, t, this.opts);
    const record = newApprovalRecord(description, decision, hash, full, t, this.opts.retryWindowMs, id);
    // Past the bound the request is refused (503) while its insert may still be running: it must
    // then not leave a pending approval nobody waits on (a card the person approves for nothing,
    // counted against the agent's bound): `late` rolls it back, or deletes it if it committed.
    const late = { set: false };
    await this.creating.run(agent, () => this.insertPending(record, description, full, bytes, t, late), PgApprovals.CREATE_WITHIN_MS, () => {
      late.set = true;
      return new StoreUnavailableError(PG_STORE, `${this.db.display}: approvals being created by other requests took too long`);
    });
    this.approvals.set(record.id, record);
    this.emit({ type: 'created', approval: record });
    this.announce({ type: 'created', id: record.id });
    this.opts.notify?.({ type: 'approval.created', approval: publicSummary(record) });
    return record;
  }

  private async insertPending(record: ApprovalRecord, description: RequestDescription, full: string, bytes: number, t: number, late: { set: boolean }): Promise<void> {
    // The view again, in the agent's turn: the burst's approvals created meanwhile count.
    checkCapacity(this.list({ status: 'pending' }), description.agent.id, bytes, t, this.opts);
    // …then the table, under a lock every replica takes to create one: approvals created at the
    // same instant through several replicas cannot pass a bound together.
    await this.db.transaction(async (c) => {
      // The database's now comes with the lock (no round trip more): see the retry window below.
      const locked = await c.query<{ ms: number }>('SELECT pg_advisory_xact_lock(8675309002), (extract(epoch from now()) * 1000)::float8 AS ms');
      const pending = await c.query<{ agent: string; expires: string | null; bytes: string | null }>(
        `SELECT agent, record->>'expires' AS expires, record->>'description_bytes' AS bytes FROM approvals WHERE status = 'pending'`,
      );
      checkCapacity(pending.rows.map((p) => ({ agent: p.agent, expires: p.expires ?? '', description_bytes: Number(p.bytes ?? 0) })) as ApprovalRecord[], description.agent.id, bytes, t, this.opts);
      // The retry window counts from the database's clock, as approving and the retry's claim judge
      // it: a replica whose clock runs an hour ahead would otherwise give the agent 25 hours.
      const dbNow = Number(locked.rows[0]?.ms);
      if (Number.isFinite(dbNow)) record.retry_until = new Date(dbNow + (Date.parse(record.retry_until) - t)).toISOString();
      await c.query(
        'INSERT INTO approvals (id, agent, status, created, retry_until, record, full_description) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [record.id, record.agent, record.status, record.created, record.retry_until, jsonb(record), record.description_complete ? null : full],
      );
      // The request was refused meanwhile (the lock or the pool kept it past the bound): rolled back.
      if (late.set) throw new StoreUnavailableError(PG_STORE, `${this.db.display}: the approval was created after its request gave up; rolled back`);
    });
    // Refused while the commit ran: nobody was told of it, so it goes again.
    if (late.set) {
      await this.db.query("DELETE FROM approvals WHERE id = $1 AND status = 'pending'", [record.id]).catch(() => undefined);
      return;
    }
    // Counted by the next turn's check of the view at once.
    this.approvals.set(record.id, record);
  }

  wait(id: string, opts: { timeoutMs: number; signal?: AbortLike }): Promise<WaitOutcome> {
    const a = this.approvals.get(id);
    if (!a) return Promise.resolve('denied');
    if (a.status === 'denied' || a.status === 'expired') return Promise.resolve(a.status === 'denied' ? 'denied' : 'timeout');
    // A database that cannot take the claim rejects (a 503 at the proxy), never "used".
    if (a.status === 'approved') return this.consume(a).then((ok) => (ok ? 'approved' : 'used'));
    return new Promise((resolve) => {
      let done = false;
      const finish = (o: WaitOutcome): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        const list = this.waiters.get(id);
        if (list) {
          const i = list.indexOf(finish);
          if (i >= 0) list.splice(i, 1);
          if (!list.length) this.waiters.delete(id);
        }
        if (!this.waiters.has(id) && a.status === 'pending') {
          this.emit({ type: 'released', approval: a });
          void this.db.query('UPDATE approvals SET held_by = NULL, held_until = NULL WHERE id = $1 AND held_by = $2', [id, this.db.replica])
            .then(() => this.announce({ type: 'released', id }), () => undefined);
        }
        resolve(o);
      };
      const onAbort = (): void => finish('aborted');
      const timer = setTimeout(() => finish('timeout'), opts.timeoutMs);
      if (opts.signal?.aborted) return finish('aborted');
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      const list = this.waiters.get(id) ?? [];
      list.push(finish);
      this.waiters.set(id, list);
      if (list.length === 1) {
        this.emit({ type: 'held', approval: a });
        const until = new Date(this.now() + opts.timeoutMs).toISOString();
        void this.db.query('UPDATE approvals SET held_by = $2, held_until = $3 WHERE id = $1', [id, this.db.replica, until])
          .then(() => this.announce({ type: 'held', id }), () => undefined);
      }
    });
  }

  /**
   * Claims the single use of an approved approval; false when someone (any replica) used it
   * already. One claim at a time per approval on this replica: a notice and a re-read after a
   * reconnect may wake the same held request twice, and the second claim must not answer first.
   */
  private consume(a: ApprovalRecord, by: object = {}, retry = false): Promise<boolean> {
    // Asked before used_at: a re-read may already show the use this claim made. Another request's
    // claim in flight wins, or fails and leaves the approval to be claimed again.
    const inFlight = this.claims.get(a.id);
    if (inFlight) return inFlight.by === by ? inFlight.claim : inFlight.claim.then(() => false, () => this.consume(a, by, retry));
    if (a.used_at) return Promise.resolve(false);
    const claim = this.claimOnce(a, retry).finally(() => this.claims.delete(a.id));
    this.claims.set(a.id, { by, claim });
    return claim;
  }

  /**
   * `retry`: the agent's retry claims it, only within its retry window by the database's clock (a
   * replica whose clock lags would otherwise let a week-old approval go); a held request's own hold
   * may outlast the window and takes it whatever the time.
   */
  private async claimOnce(a: ApprovalRecord, retry = false): Promise<boolean> {
    const at = new Date(this.now()).toISOString();
    const r = await this.db.query(
      `UPDATE approvals SET used_at = $2, record = record || jsonb_build_object('used_at', $3::text)
        WHERE id = $1 AND status = 'approved' AND used_at IS NULL${retry ? ' AND retry_until > now()' : ''}`,
      [a.id, at, at],
    );
    if (!r.rowCount) return false;
    a.used_at = at;
    this.emit({ type: 'used', approval: a });
    this.announce({ type: 'used', id: a.id });
    return true;
  }

  /**
   * Undoes the use `usedAt` of an approval whose request was refused before anything of it left
   * (PostgreSQL, Redis or the audit log unavailable for a moment, a bucket short): unused again in
   * the table, for the agent's identical retry through any replica within its window. Only that
   * use (`WHERE used_at = …`): a later claim elsewhere is left alone; while the database cannot
   * take it, tried again a bounded number of times, and the approval stays used meanwhile.
   */
  async giveBack(id: string, usedAt: string): Promise<void> {
    const a = this.approvals.get(id);
    if (a && a.status === 'approved' && a.used_at === usedAt) await this.returnUse(a);
  }

  /**
   * Undoes a claim made for a held request that stopped waiting before the claim came back: the
   * approval is unused again (any replica's retry may take it), and "used" is said only of a real
   * use. Tried again while the database cannot take it, a bounded number of times.
   */
  private returnUse(a: ApprovalRecord, attempt = 0): Promise<void> {
    const at = a.used_at;
    if (!at) return Promise.resolve();
    return this.db.query(`UPDATE approvals SET used_at = NULL, record = record - 'used_at' WHERE id = $1 AND used_at = $2`, [a.id, at]).then((r) => {
      if (!r.rowCount) return;
      if (a.used_at === at) delete a.used_at;
      this.emit({ type: 'resolved', approval: a });
      this.announce({ type: 'resolved', id: a.id });
    }, () => {
      if (attempt < 40) setTimeout(() => void this.returnUse(a, attempt + 1), CLAIM_RETRY_MS).unref();
    });
  }

  async claimRetry(id: string, description: RequestDescription, hash = requestHash(description)): Promise<RetryClaim> {
    const wanted = id.trim();
    // The table is the truth here: the approval may have been resolved a moment ago anywhere.
    const a = /^ap_[0-9a-f]{16}$/.test(wanted) ? await this.fetch(wanted) : undefined;
    if (!a) return { kind: 'refused', reason: `no approval ${wanted.slice(0, 40)}` };
    const other = retryNotFor(a, description, hash);
    if (other) return { kind: 'refused', reason: other, approval: a };
    if (!a.body_complete || description.request.body.truncated) {
      return { kind: 'refused', reason: `approval ${a.id} cannot be reused: the body is larger than the capture cap, so its hash does not cover it`, approval: a };
    }
    if (a.status === 'pending' && Date.parse(a.retry_until) <= this.now() && !this.isHeld(a.id)) await this.expire(a);
    switch (a.status) {
      case 'approved': {
        if (!a.used_at && Date.parse(a.retry_until) <= this.now()) return { kind: 'refused', reason: pastRetryWindow(a), approval: a };
        if (await this.consume(a, {}, true)) return { kind: 'approved', approval: a };
        const past = !a.used_at && (await this.db.query('SELECT 1 FROM approvals WHERE id = $1 AND used_at IS NULL AND retry_until <= now()', [a.id])).rowCount;
        return { kind: 'refused', reason: past ? pastRetryWindow(a) : `approval ${a.id} was already used (approvals are single-use)`, approval: a };
      }
      case 'pending':
        return { kind: 'pending', approval: a };
      case 'denied':
        return { kind: 'denied', approval: a };
      default:
        return { kind: 'refused', reason: `approval ${a.id} expired`, approval: a };
    }
  }

  // ─── resolving ───────────────────────────────────────────────────────────────────────────────

  private async pendingRecord(id: string): Promise<ApprovalRecord> {
    const a = await this.getFresh(id);
    if (a.status === 'pending' && Date.parse(a.retry_until) <= this.now() && !this.isHeld(a.id)) await this.expire(a);
    if (a.status !== 'pending') {
      throw new ApprovalError('not-pending', `approval ${a.id} is already ${a.status}${a.resolution ? ` (by ${a.resolution.by} at ${a.resolution.at})` : ''}`);
    }
    return a;
  }

  /**
   * Resolves a pending approval once across all replicas. Returns false when another replica
   * resolved it first (the view is then brought up to date).
   */
  private async resolve(a: ApprovalRecord, patch: Partial<ApprovalRecord>, grant?: { record: GrantRecord; ms: number }): Promise<boolean> {
    // An approval is given within its retry window by the database's clock (a replica whose clock
    // lags sees it still open), or while a request is held on it (a retry's hold may outlast it).
    const window = patch.status === 'approved' && !patch.used_at ? ' AND (retry_until > now() OR held_until > now())' : '';
    const ok = await this.db.transaction(async (c) => {
      const r = await c.query(
        `UPDATE approvals SET status = $2, used_at = $3, record = record || $4::jsonb WHERE id = $1 AND status = 'pending'${window}`,
        [a.id, patch.status, patch.used_at ?? null, jsonb(patch)],
      );
      if (!r.rowCount) return false;
      if (grant) {
        // Its expiry on the database's clock, the one every replica confirms grants against.
        const g = await c.query<{ expires: string }>(
          `INSERT INTO grants (id, expires, record)
           SELECT $1, e, $3::jsonb || jsonb_build_object('expires', to_char(e AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
             FROM (SELECT now() + $2::float8 * interval '1 millisecond' AS e) x
           RETURNING record->>'expires' AS expires`,
          [grant.record.id, grant.ms, jsonb(grant.record)],
        );
        grant.record.expires = g.rows[0]!.expires;
      }
      return true;
    });
    if (!ok) {
      const now = await this.fetch(a.id);
      // Still pending: its window passed by the database's clock. It expires now, as the sweep would.
      if (now?.status === 'pending' && window) await this.expireNow(now);
    }
    return ok;
  }

  private async expireNow(a: ApprovalRecord): Promise<void> {
    const patch = { status: 'expired' as const, resolution: { by: 'timeout', at: new Date(this.now()).toISOString() } };
    const r = await this.db.query(
      `UPDATE approvals SET status = $2, record = record || $3::jsonb WHERE id = $1 AND status = 'pending' AND retry_until <= now() AND (held_until IS NULL OR held_until <= now())`,
      [a.id, patch.status, jsonb(patch)],
    );
    if (!r.rowCount) return;
    Object.assign(a, patch);
    this.emit({ type: 'expired', approval: a });
    this.announce({ type: 'expired', id: a.id });
  }

  private notPending(a: ApprovalRecord): ApprovalError {
    return new ApprovalError('not-pending', `approval ${a.id} is already ${a.status}${a.resolution ? ` (by ${a.resolution.by} at ${a.resolution.at})` : ''}`);
  }

  async approve(id: string, opts: ApproveOptions): Promise<{ approval: ApprovalRecord; grant?: GrantRecord }> {
    const a = await this.pendingRecord(id);
    const message = cleanMessage(opts.message);
    const planned = await planGrant(a, opts, () => this.fullDescription(a.id));
    // Enrolled through another replica a moment ago: the notice may still be on its way.
    if (a.step_up || a.risk === 'critical') await this.opts.totp?.refresh?.();
    const stepUp = this.needsStepUp(a);
    if (stepUp) {
      if (!opts.totp) throw new ApprovalError('step-up-required', `approval ${a.id} is ${a.risk === 'critical' ? 'critical' : 'marked step-up'}: approving needs a TOTP code`);
      const wait = (await this.opts.totp!.retryAfter?.()) ?? 0;
      if (wait > 0) throw new ApprovalError('totp-locked', `too many wrong TOTP codes: no code is checked for ${wait} s`);
      if (!(await this.opts.totp!.verify(opts.totp))) throw new ApprovalError('totp-invalid', 'TOTP code is wrong, expired or already used');
    }
    if (a.status !== 'pending') throw this.notPending(a);
    const t = this.now();
    const at = new Date(t).toISOString();
    const grant: GrantRecord | undefined = planned
      ? { id: `gr_${crypto.randomBytes(8).toString('hex')}`, ...planned.spec, expires: new Date(t + planned.ms).toISOString(), created: at, approval_id: a.id, by: opts.by }
      : undefined;
    // A request held here takes the approval in the same update (single use); one held elsewhere claims it on notice.
    const local = this.waiters.get(a.id) ?? [];
    const patch: Partial<ApprovalRecord> = {
      status: 'approved',
      resolution: { by: opts.by, at, ...(message ? { message } : {}), ...(grant ? { grant_id: grant.id } : {}), ...(stepUp ? { step_up: true } : {}) },
      ...(local.length ? { used_at: at } : {}),
    };
    if (!(await this.resolve(a, patch, grant && planned ? { record: grant, ms: planned.ms } : undefined))) throw this.notPending(a);
    Object.assign(a, patch);
    if (grant) this.grantList.push(grant);
    // `local` is the live list: a hold that ended during the update has left it.
    if (patch.used_at && !local.length) void this.returnUse(a);
    const [first, ...rest] = local;
    first?.('approved');
    for (const w of rest) w('used');
    this.emit({ type: 'resolved', approval: a });
    if (first) this.emit({ type: 'used', approval: a });
    if (grant) this.emit({ type: 'grant-created', grant });
    this.announce({ type: 'resolved', id: a.id });
    if (grant) this.announce({ type: 'grant-created', id: grant.id });
    return { approval: a, ...(grant ? { grant } : {}) };
  }

  async deny(id: string, opts: { by: string; message?: string }): Promise<ApprovalRecord> {
    const a = await this.pendingRecord(id);
    const message = cleanMessage(opts.message);
    const patch: Partial<ApprovalRecord> = { status: 'denied', resolution: { by: opts.by, at: new Date(this.now()).toISOString(), ...(message ? { message } : {}) } };
    if (!(await this.resolve(a, patch))) throw this.notPending(a);
    Object.assign(a, patch);
    for (const w of [...(this.waiters.get(a.id) ?? [])]) w('denied');
    this.emit({ type: 'resolved', approval: a });
    this.announce({ type: 'resolved', id: a.id });
    return a;
  }

  async revokeGrant(id: string): Promise<GrantRecord> {
    const r = await this.db.query<{ record: GrantRecord }>('DELETE FROM grants WHERE id = $1 RETURNING record', [id]);
    const g = r.rows[0]?.record;
    if (!g) throw new ApprovalError('not-found', `no grant ${id}`);
    this.grantList = this.grantList.filter((x) => x.id !== id);
    this.emit({ type: 'grant-revoked', grant: g });
    this.announce({ type: 'grant-revoked', id });
    return g;
  }

  private async expire(a: ApprovalRecord): Promise<void> {
    const patch = { status: 'expired' as const, resolution: { by: 'timeout', at: new Date(this.now()).toISOString() } };
    if (await this.resolve(a, patch)) {
      Object.assign(a, patch);
      this.emit({ type: 'expired', approval: a });
      this.announce({ type: 'expired', id: a.id });
    }
  }

  /** Expires overdue approvals, drops expired grants and old resolved records (any replica may run it). */
  async sweep(): Promise<void> {
    const t = this.now();
    for (const a of this.list({ status: 'pending' })) {
      if (Date.parse(a.retry_until) <= t && !this.isHeld(a.id)) await this.expire(a);
    }
    const keep = this.opts.keepResolvedMs ?? 7 * 24 * 3_600_000;
    const old = await this.db.query<{ id: string }>(
      `DELETE FROM approvals WHERE status <> 'pending' AND created < $1 RETURNING id`, [new Date(t - keep).toISOString()],
    );
    for (const { id } of old.rows) this.approvals.delete(id);
    const resolved = this.list().filter((a) => a.status !== 'pending');
    for (const a of resolved.slice(2000)) this.approvals.delete(a.id);
    const gone = await this.db.query('DELETE FROM grants WHERE expires <= $1', [new Date(t).toISOString()]);
    if (gone.rowCount) this.grantList = this.grantList.filter((g) => Date.parse(g.expires) > t);
  }

  /** Inserts approvals and grants as another store holds them (`airlock migrate-state`). */
  async importRecords(records: Array<{ record: ApprovalRecord; full?: string }>, grants: GrantRecord[], settings: { webhook?: string }): Promise<{ approvals: number; grants: number }> {
    let na = 0;
    let ng = 0;
    for (const { record, full } of records) {
      const r = await this.db.query(
        `INSERT INTO approvals (id, agent, status, created, retry_until, used_at, record, full_description) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [record.id, record.agent, record.status, record.created, record.retry_until, record.used_at ?? null, jsonb(record), full ?? null],
      );
      na += r.rowCount ?? 0;
    }
    for (const g of grants) {
      const r = await this.db.query('INSERT INTO grants (id, expires, record) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [g.id, g.expires, jsonb(g)]);
      ng += r.rowCount ?? 0;
    }
    if (settings.webhook && !this.settingsData.webhook) await this.setWebhook(settings.webhook);
    await this.loadAll();
    return { approvals: na, grants: ng };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    for (const [, list] of this.waiters) for (const w of [...list]) w('aborted');
  }
}
