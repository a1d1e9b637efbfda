// One PostgreSQL database shared by every replica, through `pg` (node-postgres): a pool for
// queries and one dedicated connection that LISTENs for the changes other replicas announce with
// NOTIFY (approvals, grants, agents, secrets, policy versions, where secrets were injected). That
// connection is also the health probe: while it is down, the stores' views may miss changes, so
// everything that needs the database fails closed at once (StoreUnavailableError → 503) instead of
// waiting on timeouts; it reconnects by itself, and on reconnect every store re-reads what it
// keeps in memory.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { StoreUnavailableError } from '../unavailable.ts';

export const PG_STORE = 'PostgreSQL (state store)';

/**
 * The channels the stores announce changes on. The change feed LISTENs to all of them before
 * `open` returns, so no change made while the stores load is missed.
 */
export const CHANNELS = ['airlock_agents', 'airlock_approvals', 'airlock_secrets', 'airlock_totp', 'airlock_policy', 'airlock_sessions', 'airlock_injected'] as const;

export function isPostgresUrl(url: string | undefined): url is string {
  return typeof url === 'string' && /^postgres(ql)?:\/\//i.test(url.trim());
}

/** The URL as safe to print: never the password. */
export function displayDbUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://…';
  }
}

/**
 * How long one statement may take before the request that needs it is refused (503), unless the
 * URL sets `statement_timeout` / `query_timeout` itself. The server cancels the statement (a lock
 * held by someone else, an overloaded server); the client gives up a little later (a server or
 * network that does not answer at all), so a slow database never leaves a request hanging.
 */
export const STATEMENT_TIMEOUT_MS = 5000;
const QUERY_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 1000;

/** A statement the database did not finish in time: the store is unavailable for this request, not down. */
function isTimeout(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '57014' || e?.code === '55P03' || /^Query read timeout$/.test(e?.message ?? '');
}

/**
 * JSON text for a jsonb column. jsonb cannot hold two things JSON.stringify writes for strings an
 * agent controls (a body's "\u0000", a lone surrogate such as "\ud800"): PostgreSQL refuses the
 * whole value, so a held request carrying one could not be stored. Those escapes become U+FFFD,
 * in keys and values alike (an escaped backslash before a "u" is kept as it is). Only what people
 * read is stored this way; what must match exactly is not (an approval's request hash, the full
 * description in a text column, policy sources).
 */
export function jsonb(value: unknown): string {
  return JSON.stringify(value).replace(/\\(\\|u0000|u[dD][89a-fA-F][0-9a-fA-F]{2})/g, (m, esc: string) => (esc === '\\' ? m : '\\ufffd'));
}

/**
 * The server answers but cannot do the work for now, whatever the statement: read-only (a standby
 * after a failover, `default_transaction_read_only`), out of disk, memory or connections (class
 * 53), an I/O failure (class 58), a serialization failure or deadlock (40001, 40P01). Unavailable
 * for this request (503 naming PostgreSQL, the next one tries again), not a wrong query.
 */
function isRefusing(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  return typeof code === 'string' && (code === '25006' || code === '40001' || code === '40P01' || /^5[38][0-9A-Z]{3}$/.test(code));
}

/**
 * pg-pool's answer when no connection of the pool came free in time (`connectionTimeoutMillis`):
 * every connection is busy with other statements, the database answers. A connection that cannot
 * be made in time is another message ("Connection terminated due to connection timeout").
 */
function isPoolBusy(err: unknown): boolean {
  return (err as Error)?.message === 'timeout exceeded when trying to connect';
}

/** Errors that mean "cannot reach the database", as opposed to a wrong query. */
function isConnectionError(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string' && (/^(08|57P0[1-3])/.test(e.code) || ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code))) return true;
  return /Connection terminated|Client has encountered a connection error|connection is closed|Client was closed/i.test(e?.message ?? '');
}

export interface PgStateOptions {
  /** Keep a LISTEN connection (default true; one-shot CLI commands turn it off). */
  listen?: boolean;
  /** Where loss and recovery of the database are reported (default stderr). */
  warn?: (line: string) => void;
  /** Pool size (default 10). */
  max?: number;
  /** How long a statement waits for a connection of the pool before its request is refused (ms, default 2000). */
  acquireMs?: number;
  /**
   * How often the change feed's connection is asked to answer (ms, default 5000). A connection
   * that went silent (a NAT or firewall that dropped it, a server that stopped) delivers no notice
   * and reports no error: without an answer in time it is replaced, and every store re-reads.
   */
  heartbeatMs?: number;
}

/** Notices a replica could not send yet (the database was lost after the change committed), at most. */
const PENDING_NOTICES = 1000;

type Handler = (payload: Record<string, unknown>) => void;

export class PgState {
  /** This process among the replicas (notifications it sent itself are skipped by their handlers). */
  readonly replica = `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  readonly pool: pg.Pool;
  readonly display: string;
  private listener: pg.Client | undefined;
  private listenerUp = false;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly resyncs = new Set<() => unknown>();
  private readonly marks = new Map<string, Set<(value: number) => void>>();
  private queryDown: string | undefined;
  private listenerDown: string | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Notices whose pg_notify failed, sent again until they go (keyed by their text: sending twice is harmless). */
  private readonly unsent = new Map<string, { channel: string; text: string }>();
  private resendTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Where loss and recovery of the database, and rows that cannot be read, are reported. */
  readonly warn: (line: string) => void;

  private constructor(readonly url: string, private readonly opts: PgStateOptions) {
    this.display = displayDbUrl(url);
    this.warn = opts.warn ?? ((line) => process.stderr.write(`${line}\n`));
    this.pool = new pg.Pool({
      connectionString: url, max: opts.max ?? 10, connectionTimeoutMillis: opts.acquireMs ?? 2000, idleTimeoutMillis: 30_000, application_name: 'airlock', allowExitOnIdle: opts.listen === false,
      statement_timeout: STATEMENT_TIMEOUT_MS, query_timeout: QUERY_TIMEOUT_MS,
    });
    // An idle connection the server cut: reported through the next query, never a crash.
    this.pool.on('error', (err) => this.markDown(err));
  }

  /** Connects (and LISTENs); a database that cannot be reached at start is an error naming it. */
  static async open(url: string, opts: PgStateOptions = {}): Promise<PgState> {
    const db = new PgState(url, opts);
    try {
      await db.pool.query('SELECT 1');
      if (opts.listen !== false) await db.connectListener();
    } catch (err) {
      await db.pool.end().catch(() => undefined);
      throw new Error(`cannot connect to the state store ${db.display}: ${(err as Error).message}`);
    }
    return db;
  }

  /** False while the database cannot be reached (or its change feed is down). */
  get available(): boolean {
    return this.queryDown === undefined && (this.opts.listen === false || this.listenerUp);
  }

  get unavailableReason(): string | undefined {
    return this.available ? undefined : `${PG_STORE} at ${this.display} is unreachable (${this.listenerDown ?? this.queryDown})`;
  }

  /** Throws StoreUnavailableError while the database is known to be down (fail fast, no timeout). */
  ensureAvailable(): void {
    if (!this.available) throw new StoreUnavailableError(PG_STORE, `${this.display}: ${this.listenerDown ?? this.queryDown}`);
  }

  private markDown(err: unknown): void {
    const reason = (err as { code?: string }).code ?? (err as Error).message ?? String(err);
    if (this.available) this.warn(`airlock: ${PG_STORE} ${this.display} unreachable (${reason}); requests that need it are refused with 503 until it is back`);
    this.queryDown = reason;
  }

  private markUp(): void {
    if (this.queryDown === undefined) return;
    this.queryDown = undefined;
    if (this.available) this.warn(`airlock: ${PG_STORE} ${this.display} is reachable again`);
  }

  /** Runs a query; connection failures become StoreUnavailableError (a 503 at the proxy). */
  async query<R extends pg.QueryResultRow = Record<string, any>>(text: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    if (this.opts.listen !== false && !this.listenerUp) this.ensureAvailable();
    try {
      const r = await this.pool.query<R>(text, params);
      this.markUp();
      return r;
    } catch (err) {
      throw this.wrap(err);
    }
  }

  wrap(err: unknown): unknown {
    if (err instanceof StoreUnavailableError) return err;
    if (isTimeout(err)) return new StoreUnavailableError(PG_STORE, `${this.display}: no answer in time (${(err as Error).message})`);
    if (isRefusing(err)) return new StoreUnavailableError(PG_STORE, `${this.display}: the server refuses the work for now (${(err as { code?: string }).code}: ${(err as Error).message})`);
    // A busy pool refuses this request only: marking the database down would refuse every agent
    // at once until some later statement succeeded, so a burst of slow statements would be an outage.
    if (isPoolBusy(err)) return new StoreUnavailableError(PG_STORE, `${this.display}: every connection of the pool is busy (${(err as Error).message})`);
    if (!isConnectionError(err)) return err;
    this.markDown(err);
    return new StoreUnavailableError(PG_STORE, `${this.display}: ${(err as Error).message}`);
  }

  /** Runs `fn` in one transaction on one connection. */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.opts.listen !== false && !this.listenerUp) this.ensureAvailable();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw this.wrap(err);
    }
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      this.markUp();
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw this.wrap(err);
    } finally {
      client.release();
    }
  }

  /**
   * Tells every replica (this one included) that something changed. The change has committed when
   * this is called: a notice the database could not take is sent again until it goes (handlers
   * re-read, so a repeat is harmless), or the other replicas would keep deciding on what they had.
   */
  async notify(channel: string, payload: Record<string, unknown>): Promise<void> {
    const text = JSON.stringify({ ...payload, from: this.replica });
    try {
      await this.query('SELECT pg_notify($1, $2)', [channel, text]);
    } catch (err) {
      this.resendLater(channel, text);
      throw err;
    }
  }

  private resendLater(channel: string, text: string): void {
    if (this.closed) return;
    const key = `${channel}\n${text}`;
    this.unsent.delete(key);
    this.unsent.set(key, { channel, text });
    if (this.unsent.size > PENDING_NOTICES) this.unsent.delete(this.unsent.keys().next().value!);
    if (this.resendTimer) return;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = undefined;
      void this.resend();
    }, 250);
    this.resendTimer.unref();
  }

  private async resend(): Promise<void> {
    for (const [key, n] of [...this.unsent]) {
      try {
        await this.query('SELECT pg_notify($1, $2)', [n.channel, n.text]);
        this.unsent.delete(key);
      } catch {
        break;
      }
    }
    if (this.unsent.size && !this.closed && !this.resendTimer) {
      this.resendTimer = setTimeout(() => {
        this.resendTimer = undefined;
        void this.resend();
      }, 250);
      this.resendTimer.unref();
    }
  }

  /** Calls `fn` for each notification on `channel` sent by another replica. */
  listen(channel: string, fn: Handler): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      if (this.listenerUp && !(CHANNELS as readonly string[]).includes(channel)) void this.listener?.query(`LISTEN ${pg.escapeIdentifier(channel)}`).catch(() => undefined);
    }
    set.add(fn);
    return () => set.delete(fn);
  }

  /**
   * A store read how far a table has moved (a sequence) in a statement it makes anyway; the
   * store that keeps that table's view catches up when it is behind (`onMark`).
   */
  mark(name: string, value: number): void {
    for (const fn of this.marks.get(name) ?? []) fn(value);
  }

  onMark(name: string, fn: (value: number) => void): () => void {
    let set = this.marks.get(name);
    if (!set) this.marks.set(name, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Calls `fn` after the change feed reconnects: notifications may have been missed meanwhile. */
  onResync(fn: () => unknown): () => void {
    this.resyncs.add(fn);
    return () => this.resyncs.delete(fn);
  }

  private async connectListener(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 2000, application_name: 'airlock-listen', keepAlive: true });
    client.on('notification', (msg) => {
      const set = this.handlers.get(msg.channel);
      if (!set || !msg.payload) return;
      let payload: Record<string, unknown>;
      try {
        payload = JSON.parse(msg.payload) as Record<string, unknown>;
      } catch {
        return;
      }
      if (payload.from === this.replica) return;
      for (const fn of set) {
        try {
          fn(payload);
        } catch {
          /* one broken handler must not stop the others */
        }
      }
    });
    const lost = (err?: Error): void => {
      if (this.listener !== client) return;
      this.listener = undefined;
      this.listenerUp = false;
      client.removeAllListeners('end');
      void client.end().catch(() => undefined);
      if (this.closed) return;
      const reason = err?.message ?? 'connection ended';
      if (this.listenerDown === undefined) this.warn(`airlock: ${PG_STORE} ${this.display}: change feed lost (${reason}); requests that need the database are refused with 503 until it is back`);
      this.listenerDown = reason;
      this.scheduleReconnect();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    await client.connect();
    for (const channel of new Set([...CHANNELS, ...this.handlers.keys()])) await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    this.listener = client;
    this.listenerUp = true;
    this.heartbeat(client, lost);
    const wasDown = this.listenerDown !== undefined;
    this.listenerDown = undefined;
    if (wasDown) {
      this.queryDown = undefined;
      this.warn(`airlock: ${PG_STORE} ${this.display} is reachable again; re-reading shared state`);
      for (const fn of this.resyncs) {
        try {
          await fn();
        } catch {
          /* the store reports its own failure on its next use */
        }
      }
    }
  }

  /** Asks the change feed's connection to answer every `heartbeatMs`; silence past that is a lost feed. */
  private heartbeat(client: pg.Client, lost: (err?: Error) => void): void {
    const every = this.opts.heartbeatMs ?? 5000;
    clearTimeout(this.heartbeatTimer);
    const beat = (): void => {
      this.heartbeatTimer = setTimeout(() => {
        if (this.listener !== client) return;
        let answered = false;
        const silent = setTimeout(() => {
          if (answered || this.listener !== client) return;
          // end() would wait on a connection that answers nothing: its socket is dropped.
          (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
          lost(new Error(`the change feed gave no answer in time (${every} ms)`));
        }, every);
        silent.unref();
        client.query('SELECT 1').then(() => {
          answered = true;
          clearTimeout(silent);
          beat();
        }, () => {
          answered = true;
          clearTimeout(silent);
        });
      }, every);
      this.heartbeatTimer.unref();
    };
    beat();
  }

  private scheduleReconnect(): void {
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.connectListener().catch((err: Error) => {
        this.listenerDown = err.message;
        if (!this.closed) this.scheduleReconnect();
      });
    }, 250);
    this.reconnectTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.resendTimer);
    const l = this.listener;
    this.listener = undefined;
    this.listenerUp = false;
    await l?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}

const migrationsDir = new URL('./migrations/', import.meta.url);

/** The versioned migrations shipped with Airlock, in order: NNN_name.sql. */
export function migrationFiles(): Array<{ version: number; name: string; sql: string }> {
  return fs.readdirSync(migrationsDir)
    .filter((f) => /^\d{3}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((f) => ({ version: Number(f.slice(0, 3)), name: f, sql: fs.readFileSync(new URL(f, migrationsDir), 'utf8') }));
}

/**
 * Applies the migrations not applied yet, each in its own transaction, under an advisory lock so
 * replicas starting together apply each once. Returns the names applied now. A database migrated
 * by a newer Airlock (versions this one does not know) is refused rather than misread.
 */
export async function migrate(db: PgState): Promise<string[]> {
  // Its own connection without the statement timeouts: a migration, or waiting for another
  // replica's, may take longer than a request may.
  const client = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 2000, application_name: 'airlock-migrate', statement_timeout: 0, query_timeout: 0 });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw db.wrap(err);
  }
  try {
    await client.query('SELECT pg_advisory_lock(8675309001)');
    await client.query('CREATE TABLE IF NOT EXISTS airlock_migrations (version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL DEFAULT now())');
    const done = new Set((await client.query<{ version: number }>('SELECT version FROM airlock_migrations')).rows.map((r) => r.version));
    const files = migrationFiles();
    const newest = Math.max(0, ...done);
    if (files.length && newest > files[files.length - 1]!.version) {
      throw new Error(`the state store ${db.display} was migrated to version ${newest} by a newer Airlock; this one knows up to ${files[files.length - 1]!.version}`);
    }
    const applied: string[] = [];
    for (const f of files) {
      if (done.has(f.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(f.sql);
        await client.query('INSERT INTO airlock_migrations (version, name) VALUES ($1, $2)', [f.version, f.name]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw new Error(`migration ${f.name} failed: ${(err as Error).message}`);
      }
      applied.push(f.name);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock(8675309001)').catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}
