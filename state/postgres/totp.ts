// TOTP step-up in PostgreSQL (the StepUp port; embedded: state/totp.ts). The TOTP secret is sealed
// under the secret store's data key (so a database dump does not reveal it); a code is accepted
// once across every replica: the last accepted time step only moves forward, in one conditional
// UPDATE, so the same code sent to two replicas at once passes on one.
import * as OTPAuth from 'otpauth';
import { TotpError, type Enrollment } from '../totp.ts';
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

  async verify(code: string): Promise<boolean> {
    const token = code.replace(/\s+/g, '');
    if (!/^[0-9]{6}$/.test(token)) return false;
    const r = await this.db.query<{ secret: Sealed; label: string }>('SELECT secret, label FROM totp WHERE id = 1');
    const row = r.rows[0];
    if (!row) return false;
    const totp = totpOf(await this.vault.unseal(SEAL_LABEL, row.secret), row.label);
    const timestamp = this.now();
    const delta = totp.validate({ token, timestamp, window: 1 });
    if (delta === null) return false;
    const counter = totp.counter({ timestamp }) + delta;
    const used = await this.db.query('UPDATE totp SET last_counter = $1 WHERE id = 1 AND (last_counter IS NULL OR last_counter < $1)', [counter]);
    return (used.rowCount ?? 0) > 0;
  }
}
