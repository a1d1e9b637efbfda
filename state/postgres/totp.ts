// TOTP step-up in PostgreSQL (the StepUp port; embedded: state/totp.ts). The TOTP secret is sealed
// under the secret store's data key (so a database dump does not reveal it); a code is accepted
// once across every replica: the last accepted time step only moves forward, in one conditional
// UPDATE, so the same code sent to two replicas at once passes on one.
import * as OTPAuth from 'otpauth';
import { FAILURE_WINDOW_MS, MAX_FAILURES, TotpError, type Enrollment } from '../totp.ts';
import type { StepUp } from '../stores.ts';
import type { Sealed } from '../secrets/store.ts';
import type { PgState } from './db.ts';
import type { PgSecretVault } from './secrets.ts';

const CHANNEL = 'airlock_totp';
const SEAL_LABEL = 'totp';

function totpOf(secret: string, label: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer: 'Airlock', label, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secret) });
}

export class PgStepUp implements StepUp {
  private isEnrolled = false;

  private constructor(private readonly db: PgState, private readonly vault: PgSecretVault, private readonly now: () => number) {}

  static async open(db: PgState, vault: PgSecretVault, now: () => number = Date.now): Promise<PgStepUp> {
    const s = new PgStepUp(db, vault, now);
    await s.refresh();
    db.listen(CHANNEL, () => void s.refresh().catch(() => undefined));
    db.onResync(() => s.refresh());
    return s;
  }

  async refresh(): Promise<void> {
    const r = await this.db.query('SELECT 1 FROM totp WHERE id = 1');
    this.isEnrolled = (r.rowCount ?? 0) > 0;
  }

  enrolled(): boolean {
    return this.isEnrolled;
  }

  async enroll(opts: { label?: string; force?: boolean } = {}): Promise<Enrollment> {
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    const label = opts.label ?? 'approver';
    const sealed = await this.vault.seal(SEAL_LABEL, secret);
    const sql = opts.force
      ? 'INSERT INTO totp (id, secret, label, enrolled_at) VALUES (1, $1, $2, now()) ON CONFLICT (id) DO UPDATE SET secret = $1, label = $2, enrolled_at = now(), last_counter = NULL'
      : 'INSERT INTO totp (id, secret, label, enrolled_at) VALUES (1, $1, $2, now()) ON CONFLICT (id) DO NOTHING';
    const r = await this.db.query(sql, [JSON.stringify(sealed), label]);
    if (!r.rowCount) throw new TotpError('TOTP is already enrolled; use --force to replace it (the old authenticator entry stops working)');
    this.isEnrolled = true;
    await this.db.notify(CHANNEL, {});
    return { secret, uri: totpOf(secret, label).toString() };
  }

  async unenroll(): Promise<boolean> {
    const r = await this.db.query('DELETE FROM totp WHERE id = 1');
    this.isEnrolled = false;
    await this.db.notify(CHANNEL, {});
    return Boolean(r.rowCount);
  }

  /** Imports an embedded enrollment (`airlock migrate-state`): the secret is sealed on the way in. */
  async importEnrollment(doc: { secret: string; label?: string; enrolled_at?: string; last_counter?: number }): Promise<boolean> {
    const sealed = await this.vault.seal(SEAL_LABEL, doc.secret);
    const r = await this.db.query(
      'INSERT INTO totp (id, secret, label, enrolled_at, last_counter) VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING',
      [JSON.stringify(sealed), doc.label ?? 'approver', doc.enrolled_at ?? new Date().toISOString(), doc.last_counter ?? null],
    );
    await this.refresh();
    return Boolean(r.rowCount);
  }

  /**
   * Each check is counted as a wrong code before it is made, in one conditional UPDATE that
   * refuses past MAX_FAILURES within the window: guesses sent to every replica at once share the
   * count. A right code clears it.
   */
  async verify(code: string): Promise<boolean> {
    const token = code.replace(/\s+/g, '');
    if (!/^[0-9]{6}$/.test(token)) return false;
    const timestamp = this.now();
    const cutoff = timestamp - FAILURE_WINDOW_MS;
    const r = await this.db.query<{ secret: Sealed; label: string }>(
      `UPDATE totp SET failures = ARRAY(SELECT f FROM unnest(failures || $1::bigint) AS f WHERE f > $2 ORDER BY f DESC LIMIT $3)
        WHERE id = 1 AND cardinality(ARRAY(SELECT f FROM unnest(failures) AS f WHERE f > $2)) < $3 RETURNING secret, label`,
      [timestamp, cutoff, MAX_FAILURES],
    );
    const row = r.rows[0];
    if (!row) return false; // not enrolled, or too many wrong codes
    const totp = totpOf(await this.vault.unseal(SEAL_LABEL, row.secret), row.label);
    const delta = totp.validate({ token, timestamp, window: 1 });
    if (delta === null) return false;
    const counter = totp.counter({ timestamp }) + delta;
    const used = await this.db.query(`UPDATE totp SET last_counter = $1, failures = '{}' WHERE id = 1 AND (last_counter IS NULL OR last_counter < $1)`, [counter]);
    return (used.rowCount ?? 0) > 0;
  }

  /** Seconds until a code is checked again after too many wrong ones, or 0. */
  async retryAfter(): Promise<number> {
    const r = await this.db.query<{ failures: string[] }>('SELECT failures FROM totp WHERE id = 1');
    const now = this.now();
    const recent = (r.rows[0]?.failures ?? []).map(Number).filter((f) => f > now - FAILURE_WINDOW_MS).sort((x, y) => x - y);
    if (recent.length < MAX_FAILURES) return 0;
    return Math.max(1, Math.ceil((recent[recent.length - MAX_FAILURES]! + FAILURE_WINDOW_MS - now) / 1000));
  }
}
