// The audit log of every replica in one PostgreSQL table (the AuditTrail port; embedded:
// state/audit-log.ts). Each row keeps the line exactly as the file would hold it (description
// last, so replay splits it without serializing again), with the columns the filters use.
//
// Appends never wait: records queue in memory and go in batches (one INSERT of up to 500 rows,
// every 25 ms at most), which keeps the proxy's CPU per request close to the embedded file's.
// When the database cannot take a batch, the batch goes to a local spool file (fsynced) and so
// does everything after it, in order, until the database is back; then the spool is shipped and
// emptied. Rows are keyed by (replica, id), so shipping twice (a crash mid-ship) inserts once.
// Only when the spool cannot be written either (disk full) is `available` false, and the proxy
// then forwards nothing (503 audit-unavailable): no record is ever acknowledged to nobody.
import fs from 'node:fs';
import { AUDIT_UNAVAILABLE, compileFilter, redactedLine, type AuditFilter, type AuditRecord } from '../audit-log.ts';
import { stateFile } from '../home.ts';
import { streamLines } from '../../lib/lines.ts';
import type { AuditTrail } from '../stores.ts';
import { AuditShares, droppedSummary } from '../audit-shares.ts';
import { isStoreUnavailable } from '../unavailable.ts';
import type { PgState } from './db.ts';

interface Row {
  replica: string;
  id: string;
  time: string;
  agent: string | null;
  host: string | null;
  outcome: string;
  line: string;
}

export interface PgAuditOptions {
  /** Longest a record waits in memory before its batch is sent (ms, default 25). */
  batchMs?: number;
  /** Rows per INSERT (default 500). */
  batchRows?: number;
  /**
   * Bytes of lines per INSERT (default 4 MiB; a larger line goes alone). A record may be ~2 MB (a
   * description with its parsed 1 MiB body, within the agent's share): a batch of a few dozen such
   * lines took longer than the statement bound, failed, went to the spool, and failed the same way
   * at every ship, so nothing this replica recorded reached the table again.
   */
  batchBytes?: number;
  /** How often the spool is offered to the database again (ms, default 500). */
  retryMs?: number;
  /**
   * The spool's bound (bytes, default 1 GiB): past it the spool takes nothing more and requests are
   * refused (503 audit-unavailable), as on a full disk, without filling the disk the host shares.
   */
  maxSpoolBytes?: number;
  /**
   * Bytes of lines that may wait in memory for a slow database (default 32 MiB, as the file's);
   * past it requests are refused (503 audit-unavailable) until they are written. An agent's own
   * waiting lines past an eighth of it refuse only that agent's requests (state/audit-shares.ts).
   */
  maxPendingBytes?: number;
  /** Refusals of that kind kept in memory while nothing can be written, at most (default 10,000); further ones are counted. */
  maxPendingRefusals?: number;
  warn?: (line: string) => void;
}

const INSERT = `INSERT INTO audit_log (replica, id, time, agent, host, outcome, line)
  SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[])
  ON CONFLICT DO NOTHING`;

export class PgAuditTrail implements AuditTrail {
  readonly spoolFile: string;
  private queue: Row[] = [];
  /** Characters of the lines queued or being inserted (see `behind`). */
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private busy: Promise<unknown> = Promise.resolve();
  private draining = false;
  /** Records are in the spool file: new ones follow them there until it is shipped. */
  private spooled = false;
  private spoolError: string | undefined;
  /** audit-unavailable refusals counted instead of queued while nothing could be written. */
  private droppedRefusals = 0;
  private pendingRefusals = 0;
  /** Whose lines wait (state/audit-shares.ts). */
  private readonly shares: AuditShares;
  private closed = false;
  private readonly listeners = new Set<(r: AuditRecord) => void>();
  private readonly opts: Required<PgAuditOptions>;
  redact: ((line: string) => string) | undefined;

  constructor(private readonly db: PgState, home: string, opts: PgAuditOptions = {}) {
    this.spoolFile = stateFile(home, 'auditSpool');
    this.opts = {
      batchMs: opts.batchMs ?? 25,
      batchRows: opts.batchRows ?? 500,
      batchBytes: opts.batchBytes ?? 4 * 1024 * 1024,
      retryMs: opts.retryMs ?? 500,
      maxSpoolBytes: opts.maxSpoolBytes ?? 1024 ** 3,
      maxPendingBytes: opts.maxPendingBytes ?? 32 * 1024 * 1024,
      maxPendingRefusals: opts.maxPendingRefusals ?? 10_000,
      warn: opts.warn ?? ((line) => process.stderr.write(`${line}\n`)),
    };
    this.shares = new AuditShares(this.opts.maxPendingBytes);
    // Records a previous run spooled (the database was down when it stopped) are shipped first.
    if (fs.existsSync(this.spoolFile) && fs.statSync(this.spoolFile).size > 0) {
      this.spooled = true;
      this.scheduleRetry(0);
    }
  }

  get available(): boolean {
    return this.spoolError === undefined && !this.backlogged;
  }

  /** More waits in memory than the bound: the database does not take records as fast as they come. */
  private get backlogged(): boolean {
    return this.pendingBytes > this.opts.maxPendingBytes;
  }

  /** The agent's lines waiting are past its share: its requests are refused until they are written (state/audit-shares.ts). */
  overShare(agent: string): string | undefined {
    return this.shares.over(agent) ? this.shares.overReason(agent, 'the state store') : undefined;
  }

  /** Behind, and `agent` has lines among those waiting: its large descriptions are left out. */
  behindFor(agent: string): boolean {
    return this.behind && this.shares.heavy(agent);
  }

  /**
   * The database is behind: more than a batch's bytes wait in memory (a slow or loaded server).
   * Large descriptions are then left out of records (proxy/audit-budget.ts): the queue here has no
   * other bound, and one agent's 2 MB records would grow it as fast as the agent sends.
   */
  get behind(): boolean {
    return this.pendingBytes > this.opts.batchBytes;
  }

  get unavailableReason(): string | undefined {
    if (this.spoolError !== undefined) return `the state store is unreachable and the local spool ${this.spoolFile} cannot be written (${this.spoolError})`;
    return this.backlogged ? `the state store is not taking audit records (${Math.round(this.pendingBytes / 1024)} KiB waiting)` : undefined;
  }

  /** Records waiting in the local spool for the database (0 when none). */
  get spooledBytes(): number {
    try {
      return fs.statSync(this.spoolFile).size;
    } catch {
      return 0;
    }
  }

  append(given: AuditRecord): void {
    const { line, record } = redactedLine(given, this.redact);
    if (this.spoolError !== undefined && record.outcome === AUDIT_UNAVAILABLE && this.pendingRefusals >= this.opts.maxPendingRefusals) {
      // Memory stays bounded under a flood of refusals; they are summed up once records can be written.
      this.droppedRefusals++;
      this.tell(record);
      return;
    }
    if (record.outcome === AUDIT_UNAVAILABLE && (this.backlogged || (record.agent !== undefined && this.shares.over(record.agent)))) {
      // The same while the database is behind, for everyone or for this agent's own lines.
      this.shares.count(record.agent);
      this.tell(record);
      return;
    }
    if (this.spoolError !== undefined && record.outcome === AUDIT_UNAVAILABLE) this.pendingRefusals++;
    this.queue.push({
      replica: this.db.replica, id: record.id, time: record.time, agent: record.agent ?? null,
      host: record.host ?? record.description?.request?.host ?? null, outcome: record.outcome, line,
    });
    this.pendingBytes += line.length;
    this.shares.add(record.agent, line.length);
    this.tell(record);
    if (this.queue.length >= this.opts.batchRows) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.opts.batchMs);
  }

  private tell(record: AuditRecord): void {
    for (const l of this.listeners) {
      try {
        l(record);
      } catch {
        /* a broken listener must not break the proxy */
      }
    }
  }

  /**
   * Records can be written again (to the spool, or to the database directly once the spool is
   * shipped): requests flow, and the refusals only counted meanwhile become one record.
   */
  private recovered(how: string): void {
    if (this.spoolError === undefined) return;
    this.opts.warn(`airlock: ${how}; requests flow`);
    this.spoolError = undefined;
    this.pendingRefusals = 0;
    if (this.droppedRefusals === 0) return;
    const n = this.droppedRefusals;
    this.droppedRefusals = 0;
    const record: AuditRecord = { time: new Date().toISOString(), id: `audit-gap-${Date.now()}`, outcome: AUDIT_UNAVAILABLE, detail: `${n} further requests were refused with 503 while audit records could not be written; counted here, not recorded one by one` };
    const line = JSON.stringify(record);
    this.queue.push({ replica: this.db.replica, id: record.id, time: record.time, agent: null, host: null, outcome: record.outcome, line });
    this.pendingBytes += line.length;
  }

  private kick(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.draining) return;
    this.draining = true;
    void this.serial(() => this.drain()).finally(() => {
      this.draining = false;
      if (this.queue.length && this.spoolError === undefined) this.kick();
    });
  }

  /** Sending, spooling and shipping run one at a time, so the spool is never emptied under a writer. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn);
    this.busy = run.catch(() => undefined);
    return run;
  }

  /** Sends queued rows in batches; a batch the database refuses goes to the spool with all after it. */
  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.batchEnd(this.queue));
      if (!this.spooled) {
        try {
          await this.insert(batch);
          this.taken(batch);
          this.recovered('audit records reach the state store again');
          continue;
        } catch (err) {
          if (!isStoreUnavailable(err)) this.opts.warn(`airlock: audit insert failed (${(err as Error).message}); spooling to ${this.spoolFile}`);
          this.spooled = true;
          this.scheduleRetry(this.opts.retryMs);
        }
      }
      if (!(await this.spool(batch))) {
        // Not written anywhere: keep it at the head, the retry tries again.
        this.queue.unshift(...batch);
        this.scheduleRetry(this.opts.retryMs);
        return;
      }
      this.taken(batch);
    }
  }

  /** The rows left memory (in the table or the spool): they no longer count, and refusals counted meanwhile are summed up. */
  private taken(rows: readonly Row[]): void {
    for (const r of rows) {
      this.pendingBytes -= r.line.length;
      this.shares.remove(r.agent, r.line.length);
    }
    if (!this.shares.dropped.size || this.backlogged || this.spoolError !== undefined) return;
    for (const [agent, n] of this.shares.takeDropped((a) => !a || !this.shares.over(a))) {
      const record = droppedSummary(agent, n, 'audit records waited for the state store');
      const line = JSON.stringify(record);
      this.queue.push({ replica: this.db.replica, id: record.id, time: record.time, agent: agent || null, host: null, outcome: record.outcome, line });
      this.pendingBytes += line.length;
      this.shares.add(agent, line.length);
    }
  }

  /** How many rows from the start of `rows` make one batch: at most batchRows and batchBytes of lines (at least one row). */
  private batchEnd(rows: readonly Row[]): number {
    let bytes = 0;
    let n = 0;
    while (n < rows.length && n < this.opts.batchRows) {
      bytes += rows[n]!.line.length;
      if (n > 0 && bytes > this.opts.batchBytes) break;
      n++;
    }
    return n;
  }

  private insert(rows: Row[]): Promise<unknown> {
    // PostgreSQL's text holds no NUL: one such column would refuse its whole batch on every
    // attempt, and hold back everything spooled after it. The columns only serve filters; the
    // line keeps every character (JSON writes NUL as an escape).
    const col = <K extends keyof Row>(k: K): Array<Row[K]> => rows.map((r) => (typeof r[k] === 'string' && k !== 'line' && k !== 'time' ? storable(r[k] as string) : r[k]) as Row[K]);
    return this.db.query(INSERT, [col('replica'), col('id'), col('time'), col('agent'), col('host'), col('outcome'), col('line')]);
  }

  /**
   * Appends rows to the spool file and syncs it; false (and `available` false) when the disk refuses.
   * Written and synced off the main thread, a batch a turn: done in place, every batch waiting when
   * the database went away (up to the 32 MiB that may wait, ~2 MB records of one agent) was written
   * and fsynced in one turn, and each later batch held the loop for its fsync (twenty-first pass).
   */
  private async spool(rows: Row[]): Promise<boolean> {
    try {
      const fh = await fs.promises.open(this.spoolFile, 'a+', 0o600);
      try {
        // A line torn by a crash or a write the disk cut short is ended first: glued to it, the
        // next row would be one unreadable line, and lost when the spool is shipped.
        const { size } = await fh.stat();
        const last = Buffer.alloc(1);
        if (size > 0) await fh.read(last, 0, 1, size - 1);
        const text = `${size > 0 && last[0] !== 0x0a ? '\n' : ''}${rows.map((r) => `${JSON.stringify(r)}\n`).join('')}`;
        if (size + Buffer.byteLength(text) > this.opts.maxSpoolBytes) {
          throw new Error(`the spool reached its bound of ${this.opts.maxSpoolBytes} bytes`);
        }
        await fh.appendFile(text);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      this.recovered(`audit spool ${this.spoolFile} is writable again`);
      return true;
    } catch (err) {
      if (this.spoolError === undefined) this.opts.warn(`airlock: audit spool ${this.spoolFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; requests are refused (503 ${AUDIT_UNAVAILABLE}) until records can be written`);
      this.spoolError = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      return false;
    }
  }

  private scheduleRetry(ms: number): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.ship().then(() => {
        if (this.spooled || this.spoolError !== undefined) this.scheduleRetry(this.opts.retryMs);
        else if (this.queue.length) this.kick();
      });
    }, ms);
    this.retryTimer.unref();
  }

  /** Ships the spool to the database, in order, then empties it. Returns whether it is empty now. */
  ship(): Promise<boolean> {
    return this.serial(() => this.shipNow());
  }

  private async shipNow(): Promise<boolean> {
    if (!this.spooled) return true;
    // The change feed reconnects by itself; until then a query would only fail.
    if (!this.db.available) return false;
    try {
      if (fs.existsSync(this.spoolFile)) {
        const input = fs.createReadStream(this.spoolFile, { highWaterMark: 256 * 1024 });
        let batch: Row[] = [];
        let batchBytes = 0;
        try {
          for await (const lines of streamLines(input)) {
            for (const line of lines) {
              if (!line) continue;
              let row: unknown;
              try {
                row = JSON.parse(line);
              } catch {
                continue; // a torn last line after a crash
              }
              // A line that is not a row as spooled (damaged) would fail its batch on every attempt,
              // and keep everything after it from ever reaching the database.
              if (!spooledRow(row)) {
                this.opts.warn(`airlock: audit spool ${this.spoolFile}: a damaged line is left out (${line.slice(0, 80)})`);
                continue;
              }
              if (batch.length && (batch.length >= this.opts.batchRows || batchBytes + row.line.length > this.opts.batchBytes)) {
                await this.insert(batch);
                batch = [];
                batchBytes = 0;
              }
              batch.push(row);
              batchBytes += row.line.length;
            }
          }
        } finally {
          input.destroy();
        }
        if (batch.length) await this.insert(batch);
      }
      // Rows appended meanwhile wait in `queue`: drain never runs during a ship, so emptying is safe.
      fs.rmSync(this.spoolFile, { force: true });
      this.spooled = false;
      this.recovered('audit records spooled while the spool was full are shipped');
      this.opts.warn(`airlock: audit records spooled while the state store was unreachable are shipped`);
      return true;
    } catch {
      return false;
    }
  }

  onRecord(fn: (record: AuditRecord) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The stored lines matching the filter, oldest first (by time, then arrival). */
  lines(filter: AuditFilter = {}): AsyncGenerator<string> {
    return auditLines(this.db, filter);
  }

  async *read(filter: AuditFilter = {}): AsyncGenerator<AuditRecord> {
    for await (const line of this.lines(filter)) yield JSON.parse(line) as AuditRecord;
  }

  /** Resolves when everything appended so far is in the database or the spool. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.serial(() => this.drain());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.timer);
    if (this.queue.length) this.opts.warn(`airlock: ${this.queue.length} audit records could not be written before stopping (${this.spoolError})`);
  }
}

/** A row as `spool` writes it (its columns are made storable on insert; a line holds no raw NUL: JSON escapes it). */
function spooledRow(v: unknown): v is Row {
  if (!v || typeof v !== 'object') return false;
  const r = v as Record<string, unknown>;
  const text = (x: unknown): boolean => typeof x === 'string';
  return text(r.replica) && text(r.id) && text(r.outcome) && text(r.line) && !(r.line as string).includes('\u0000')
    && typeof r.time === 'string' && !Number.isNaN(Date.parse(r.time))
    && (r.agent === null || text(r.agent)) && (r.host === null || text(r.host));
}

/** A column's text as PostgreSQL can hold it (NUL as U+FFFD); filters compare the same way, then exactly on the record. */
const storable = (v: string): string => v.replaceAll('\u0000', '\ufffd');

/** The lines of the shared audit log matching the filter, oldest first (by time, then arrival): `airlock replay --store`, the studio. */

export async function* auditLines(db: PgState, filter: AuditFilter = {}): AsyncGenerator<string> {
  const matches = compileFilter(filter);
  const where: string[] = [];
  const params: unknown[] = [];
  const ms = (t: Date | string | number): number => (typeof t === 'number' ? t : t instanceof Date ? t.getTime() : Date.parse(t));
  if (filter.agent !== undefined) {
    params.push(storable(filter.agent));
    where.push(`agent = $${params.length}`);
  }
  if (filter.host !== undefined) {
    params.push(storable(filter.host.toLowerCase()));
    where.push(`host = $${params.length}`);
  }
  if (filter.outcome !== undefined) {
    params.push(storable(filter.outcome));
    where.push(`outcome = $${params.length}`);
  }
  // Times narrow the scan with a minute's slack; compileFilter below decides exactly, as for the file.
  if (filter.since !== undefined) {
    params.push(new Date(ms(filter.since) - 60_000).toISOString());
    where.push(`time >= $${params.length}`);
  }
  if (filter.until !== undefined) {
    params.push(new Date(ms(filter.until) + 60_000).toISOString());
    where.push(`time < $${params.length}`);
  }
  let after: { time: Date; seq: string } | undefined;
  let n = 0;
  for (;;) {
    const page = [...params];
    const conds = [...where];
    if (after) {
      page.push(after.time, after.seq);
      conds.push(`(time, seq) > ($${page.length - 1}, $${page.length})`);
    }
    const r = await db.query<{ time: Date; seq: string; line: string }>(
      `SELECT time, seq, line FROM audit_log ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''} ORDER BY time, seq LIMIT 1000`, page,
    );
    for (const row of r.rows) {
      let rec: AuditRecord;
      try {
        rec = JSON.parse(row.line) as AuditRecord;
      } catch {
        continue;
      }
      // As the file reader: a line that is not a record (a row edited by hand) is skipped.
      if (!rec || typeof rec !== 'object' || typeof rec.time !== 'string') continue;
      if (!matches(rec)) continue;
      yield row.line;
      if (filter.limit !== undefined && ++n >= filter.limit) return;
    }
    if (r.rows.length < 1000) return;
    const last = r.rows[r.rows.length - 1]!;
    after = { time: last.time, seq: last.seq };
  }
}
