// A folder of small JSON records, one file per record: a change rewrites only its own file, so
// the cost of a write does not grow with the number of records (the approvals queue keeps each
// approval, and each held request's description, in a file of its own). Writes are atomic (a
// temporary file renamed over the old one, as lowdb does for documents), serialized per file and
// taken as a snapshot when asked for, so the last change asked for is the one on disk. A record
// that cannot be read is reported with its path and never overwritten.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { StateFileError } from './document.ts';
import { readRegularFileSync } from '../lib/regular-file.ts';
import { syncPath } from '../lib/disk-sync.ts';

const NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

export class RecordDir {
  private readonly chains = new Map<string, Promise<void>>();

  private constructor(readonly dir: string, private readonly mode: number) {}

  /** Opens (creating it, mode 0700) a record folder and clears temporary files a crash left behind. */
  static open(dir: string, opts: { mode?: number } = {}): RecordDir {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const f of fs.readdirSync(dir)) if (f.endsWith('.tmp')) fs.rmSync(path.join(dir, f), { force: true });
    return new RecordDir(dir, opts.mode ?? 0o600);
  }

  private file(name: string): string {
    if (!NAME.test(name) || name.endsWith('.tmp')) throw new Error(`invalid record name ${JSON.stringify(name)}`);
    return path.join(this.dir, `${name}.json`);
  }

  /** Names of the records whose name ends with `suffix` (without `.json`). */
  names(suffix = ''): string[] {
    return fs.readdirSync(this.dir)
      .filter((f) => f.endsWith(`${suffix}.json`) && NAME.test(f.slice(0, -5)))
      .map((f) => f.slice(0, -5));
  }

  /** Reads one record; undefined when it does not exist. */
  readSync(name: string): unknown {
    const file = this.file(name);
    let text: string;
    try {
      text = readRegularFileSync(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateFileError(file, (err as Error).message);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new StateFileError(file, (err as Error).message);
    }
  }

  async read(name: string): Promise<unknown> {
    await this.chains.get(name);
    return this.readSync(name);
  }

  /** Writes `value` (serialized now) to its own file, atomically (and `durable`: see writeText). */
  write(name: string, value: unknown, opts: { durable?: boolean } = {}): Promise<void> {
    return this.writeText(name, JSON.stringify(value), opts);
  }

  /**
   * Writes already serialized JSON to its own file, atomically. `durable`: on the disk itself before
   * the promise resolves, so a power loss or a kernel crash (not only a process restart) cannot
   * bring back the record as it was — the temporary file's data synced before the rename, the
   * folder synced after it (ext4 and XFS may otherwise replay the rename without the data, or lose
   * the rename: twenty-eighth pass, left open by the twenty-sixth). For what must happen once (an
   * approval's use, a person's decision); other records are written without it.
   */
  writeText(name: string, text: string, opts: { durable?: boolean } = {}): Promise<void> {
    const file = this.file(name);
    return this.chain(name, async () => {
      const tmp = path.join(this.dir, `.${path.basename(file)}.${crypto.randomBytes(4).toString('hex')}.tmp`);
      if (!opts.durable) {
        await fs.promises.writeFile(tmp, text, { mode: this.mode });
        await fs.promises.rename(tmp, file);
        return;
      }
      const h = await fs.promises.open(tmp, 'w', this.mode);
      try {
        await h.writeFile(text);
        await h.sync();
      } finally {
        await h.close();
      }
      await fs.promises.rename(tmp, file);
      await syncPath(this.dir);
    });
  }

  remove(name: string): Promise<void> {
    const file = this.file(name);
    return this.chain(name, () => fs.promises.rm(file, { force: true }));
  }

  /** Resolves when every write asked for so far is on disk. */
  async flush(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private chain(name: string, step: () => Promise<void>): Promise<void> {
    const next = (this.chains.get(name) ?? Promise.resolve()).catch(() => undefined).then(step);
    this.chains.set(name, next);
    void next.finally(() => {
      if (this.chains.get(name) === next) this.chains.delete(name);
    }).catch(() => undefined);
    return next;
  }
}
