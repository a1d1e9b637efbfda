// Step-up for critical approvals: TOTP (RFC 6238) with the `otpauth` library (well kept, no
// dependencies, standard otpauth:// URIs every authenticator app reads). One enrollment per state
// folder, in <home>/totp.json (mode 0600, like the studio's admin token). A code is accepted once:
// the last accepted time step is stored, so a code seen over someone's shoulder cannot be replayed.
//
// Whether one is enrolled is read off the event loop (twenty-third pass, follow-up: the studio's
// listing read the file synchronously once per pending approval, and a stalled disk froze every
// agent with it): the listing shows what was read at most RECHECK_MS ago, and an approval that may
// need a code reads it afresh (`refresh`), so an enrollment made by `airlock totp enroll` in another
// process applies to the running Airlock at once.
//
// Guessing is throttled: after MAX_FAILURES wrong codes within FAILURE_WINDOW_MS every code is
// refused until the window has passed (three of a million codes are valid at any time: unthrottled,
// a stolen studio session would find one in minutes). The failures are kept in the file, so every
// process sharing the state folder counts them.
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as OTPAuth from 'otpauth';
import { StateFileError, isJsonObject, openDocument, watchStateFile, withinStall } from './document.ts';
import { stateFile } from './home.ts';
import { readRegularFile, readRegularFileSync } from '../lib/regular-file.ts';
import { syncPath } from '../lib/disk-sync.ts';

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

/** How old the enrollment read for the studio's listings may be before it is read again (in the background). */
const RECHECK_MS = 1000;

/** Whether `text` (totp.json) enrolls a secret; a StateFileError for one that is damaged or of the wrong shape. */
function enrolledIn(file: string, text: string): boolean {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // An unreadable enrollment must not silently switch step-up off.
    throw new StateFileError(file, (err as Error).message);
  }
  // Nor may one of the wrong shape (a secret that is not text would read as "not enrolled").
  const problem = isJsonObject(doc) ? totpProblem(doc as TotpDoc) : 'not a JSON object';
  if (problem) throw new StateFileError(file, problem);
  return typeof (doc as TotpDoc).secret === 'string' && (doc as TotpDoc).secret!.length > 0;
}

const missing = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

function totpOf(secret: string, label: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: 6, period: 30, secret: OTPAuth.Secret.fromBase32(secret) });
}

export class TotpStore {
  private chain: Promise<unknown> = Promise.resolve();
  /** The last read of whether one is enrolled (an error fails every step-up check closed). */
  private known: { at: number; value: boolean | Error } | undefined;
  /** The read under way, shared: a stalled disk holds one pool thread, not one per approval listed. */
  private reading: { since: number; done: Promise<void> } | undefined;

  constructor(readonly home: string, private readonly now: () => number = Date.now) {}

  get file(): string {
    return stateFile(this.home, 'totp');
  }

  private open() {
    // Durable (twenty-ninth pass): a power loss must not bring back a replaced secret (the lost
    // phone's), a used code's step or the wrong codes counted.
    return openDocument<TotpDoc>(this.file, { version: 1 }, { mode: 0o600, check: totpProblem, durable: true });
  }

  /**
   * True when a TOTP secret is enrolled. The first call (at start, and the CLI's) reads the file;
   * later ones answer from the last read, starting a new one off the event loop once it is older
   * than RECHECK_MS. Throws (fails closed) when the last read failed or did not answer.
   */
  enrolled(): boolean {
    if (!this.known) {
      let value: boolean | Error;
      try {
        value = enrolledIn(this.file, readRegularFileSync(this.file));
      } catch (err) {
        value = missing(err) ? false : err instanceof StateFileError ? err : new StateFileError(this.file, (err as Error).message);
      }
      this.known = { at: performance.now(), value };
    } else if (performance.now() - this.known.at > RECHECK_MS) {
      void this.refresh();
    }
    if (this.known.value instanceof Error) throw this.known.value;
    return this.known.value;
  }

  /** Reads the enrollment again (off the event loop) whenever totp.json may have changed; returns the stop function. */
  watch(): (() => void) | undefined {
    return watchStateFile(this.file, () => {
      if (this.known) this.known.at = -Infinity;
      void this.refresh();
    });
  }

  /** Reads the enrollment afresh off the event loop (before an approval that may need a code); never throws: `enrolled` does. */
  async refresh(): Promise<void> {
    if (!this.reading) {
      const read = async (): Promise<boolean | Error> => {
        try {
          return enrolledIn(this.file, await readRegularFile(this.file));
        } catch (err) {
          return missing(err) ? false : err instanceof StateFileError ? err : new StateFileError(this.file, (err as Error).message);
        }
      };
      const reading = { since: performance.now(), done: read().then((value) => void (this.known = { at: performance.now(), value })) };
      this.reading = reading;
      void reading.done.finally(() => {
        if (this.reading === reading) this.reading = undefined;
      });
    }
    try {
      await withinStall(this.file, this.reading.done, this.reading.since);
    } catch (err) {
      this.known = { at: performance.now(), value: err as Error };
    }
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
      this.known = { at: performance.now(), value: true };
      return { secret, uri: totpOf(secret, label).toString() };
    });
  }

  async unenroll(): Promise<boolean> {
    return this.serial(async () => {
      this.known = undefined;
      const removed = await fs.promises.rm(this.file).then(() => true, (err: unknown) => (missing(err) ? false : Promise.reject(err)));
      // The removal on the disk itself before it counts: after a power loss the old enrollment (a
      // lost phone's secret) must not come back.
      if (removed) await syncPath(path.dirname(this.file));
      return removed;
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
      const doc = await withinStall(this.file, this.open(), performance.now());
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
      const doc = await withinStall(this.file, this.open(), performance.now());
      const recent = this.recentFailures(doc.data.failures);
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
