// Step-up for critical approvals: TOTP (RFC 6238) with the `otpauth` library (well kept, no
// dependencies, standard otpauth:// URIs every authenticator app reads). One enrollment per state
// folder, in <home>/totp.json (mode 0600, like the studio's admin token). A code is accepted once:
// the last accepted time step is stored, so a code seen over someone's shoulder cannot be replayed.
//
// The file is read on every check, not cached, so an enrollment made by `airlock totp enroll` in
// another process applies to the running Airlock at once.
//
// Guessing is throttled: after MAX_FAILURES wrong codes within FAILURE_WINDOW_MS every code is
// refused until the window has passed (three of a million codes are valid at any time: unthrottled,
// a stolen studio session would find one in minutes). The failures are kept in the file, so every
// process sharing the state folder counts them.
import fs from 'node:fs';
import * as OTPAuth from 'otpauth';
import { StateFileError, isJsonObject, openDocument } from './document.ts';
import { stateFile } from './home.ts';
import { readRegularFileSync } from '../lib/regular-file.ts';

interface TotpDoc {
  version: 1;
  /** Base32 secret; absent when not enrolled. */
  secret?: string;
  label?: string;
  enrolled_at?: string;
  /** Last accepted time step (replay protection). */
  last_counter?: number;
  /** When the latest wrong codes were given (ms since the epoch; at most MAX_FAILURES). */
  failures?: number[];
}

/** Wrong codes allowed within FAILURE_WINDOW_MS; then every code is refused until the window passes. */
export const MAX_FAILURES = 5;
export const FAILURE_WINDOW_MS = 60_000;

export interface Enrollment {
  secret: string;
  uri: string;
}

export class TotpError extends Error {}

/** What is wrong with totp.json, if anything: an enrolment whose fields have the wrong types is refused, never read as none. */
function totpProblem(d: TotpDoc): string | undefined {
  if (d.secret !== undefined && (typeof d.secret !== 'string' || !/^[A-Z2-7]+=*$/i.test(d.secret))) return '"secret" must be a base32 TOTP secret';
  if (d.last_counter !== undefined && !Number.isSafeInteger(d.last_counter)) return '"last_counter" must be a whole number';
  if (d.failures !== undefined && !(Array.isArray(d.failures) && d.failures.every((f) => Number.isFinite(f)))) return '"failures" must be a list of times';
  return undefined;
}

const ISSUER = 'Airlock';

function totpOf(secret: string, label: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secret) });
}

export class TotpStore {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly home: string, private readonly now: () => number = Date.now) {}

  get file(): string {
    return stateFile(this.home, 'totp');
  }

  private open() {
    return openDocument<TotpDoc>(this.file, { version: 1 }, { mode: 0o600, check: totpProblem });
  }

  /** True when a TOTP secret is enrolled (read from disk each time). */
  enrolled(): boolean {
    if (!fs.existsSync(this.file)) return false;
    let doc: unknown;
    try {
      doc = JSON.parse(readRegularFileSync(this.file));
    } catch (err) {
      // An unreadable enrollment must not silently switch step-up off.
      throw new StateFileError(this.file, (err as Error).message);
    }
    // Nor may one of the wrong shape (a secret that is not text would read as "not enrolled").
    const problem = isJsonObject(doc) ? totpProblem(doc as TotpDoc) : 'not a JSON object';
    if (problem) throw new StateFileError(this.file, problem);
    return typeof (doc as TotpDoc).secret === 'string' && (doc as TotpDoc).secret!.length > 0;
  }

  /** Creates a new secret (refuses to replace one unless `force`). Returns it for the user to scan. */
  async enroll(opts: { label?: string; force?: boolean } = {}): Promise<Enrollment> {
    return this.serial(async () => {
      const doc = await this.open();
      if (doc.data.secret && !opts.force) throw new TotpError('TOTP is already enrolled; use --force to replace it (the old authenticator entry stops working)');
      const secret = new OTPAuth.Secret({ size: 20 }).base32;
      const label = opts.label ?? 'approver';
      await doc.update((d) => {
        d.version = 1;
        d.secret = secret;
        d.label = label;
        d.enrolled_at = new Date(this.now()).toISOString();
        delete d.last_counter;
      });
      return { secret, uri: totpOf(secret, label).toString() };
    });
  }

  async unenroll(): Promise<boolean> {
    return this.serial(async () => {
      if (!fs.existsSync(this.file)) return false;
      fs.rmSync(this.file);
      return true;
    });
  }

  /**
   * Checks a code (±1 time step) and marks its step used. False for wrong, malformed or replayed
   * codes, and for every code while too many wrong ones were given (see retryAfter).
   */
  async verify(code: string): Promise<boolean> {
    const token = code.replace(/\s+/g, '');
    if (!/^[0-9]{6}$/.test(token)) return false;
    return this.serial(async () => {
      const doc = await this.open();
      const secret = doc.data.secret;
      if (!secret) return false;
      const timestamp = this.now();
      const recent = this.recentFailures(doc.data.failures);
      if (recent.length >= MAX_FAILURES) return false;
      const totp = totpOf(secret, doc.data.label ?? 'approver');
      const delta = totp.validate({ token, timestamp, window: 1 });
      const counter = delta === null ? undefined : totp.counter({ timestamp }) + delta;
      if (counter === undefined || (doc.data.last_counter !== undefined && counter <= doc.data.last_counter)) {
        await doc.update((d) => {
          d.failures = [...recent, timestamp].slice(-MAX_FAILURES);
        });
        return false;
      }
      await doc.update((d) => {
        d.last_counter = counter;
        delete d.failures;
      });
      return true;
    });
  }

  /** Seconds until a code is checked again after too many wrong ones, or 0. */
  async retryAfter(): Promise<number> {
    return this.serial(async () => {
      if (!fs.existsSync(this.file)) return 0;
      const recent = this.recentFailures((await this.open()).data.failures);
      if (recent.length < MAX_FAILURES) return 0;
      return Math.max(1, Math.ceil((recent[recent.length - MAX_FAILURES]! + FAILURE_WINDOW_MS - this.now()) / 1000));
    });
  }

  private recentFailures(list: number[] | undefined): number[] {
    const cutoff = this.now() - FAILURE_WINDOW_MS;
    return (Array.isArray(list) ? list : []).filter((t) => typeof t === 'number' && t > cutoff && t <= this.now() + 1000);
  }

  /** The current code (tests and the bench; a person uses their authenticator app). */
  static codeFor(secret: string, timestamp = Date.now()): string {
    return totpOf(secret, 'approver').generate({ timestamp });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }
}
