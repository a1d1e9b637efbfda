// Published policy versions: each publish copies the draft into <home>/policies/<version>/ (the
// version is the engine's hash of the sources) and records it in policy-versions.json. Rollback
// makes an older version live again. Nothing is published that fails to compile or fails its tests
// (the same suite as `airlock test`: Rego tests and traffic tests).
import fs from 'node:fs';
import path from 'node:path';
import { compilePolicy, listPolicyFiles, PolicyCompileError, policyVersion, type CompiledPolicy, type PolicyProblem } from '../engine/compile.ts';
import { isJsonObject, openDocument, type Document } from '../state/document.ts';
import { copyPolicyFolder } from './drafts.ts';
import { privateTempDir, stateFile } from '../state/home.ts';

export interface PolicyVersionRecord {
  version: string;
  published: string;
  files: string[];
  note?: string;
  /** The version this one replaced (for the history view). */
  previous?: string;
  /** Set on a rollback: which version was restored. */
  rollback_of?: string;
  /** The policy as the proxy first loaded it (before anything was published from the studio): a rollback target. */
  initial?: boolean;
  /** Where an initial version was loaded from. */
  source?: string;
}

interface VersionsDoc {
  current: string | null;
  history: PolicyVersionRecord[];
}

/** What is wrong with policy-versions.json, if anything. */
function versionsProblem(d: VersionsDoc): string | undefined {
  if (d.current !== null && typeof d.current !== 'string') return '"current" must be a version or null';
  if (!Array.isArray(d.history)) return '"history" must be a list';
  const bad = (d.history as unknown[]).findIndex((v) => !isJsonObject(v) || typeof v.version !== 'string' || typeof v.published !== 'string' || !Array.isArray(v.files));
  return bad >= 0 ? `history entry ${bad} must have a "version", a "published" time and a list of "files"` : undefined;
}

/** A test suite's result as the studio shows it (studio/policy-tools.ts builds it from offline/policy-tests.ts). */
export interface TestReport {
  ok: boolean;
  passed: number;
  failed: number;
  /** What `airlock test` prints. */
  output: string;
  failures: TestFailure[];
}

export interface TestFailure {
  kind: 'rego' | 'traffic';
  /** Relative to the draft (`inDraft`) or to the project (traffic test files). */
  file: string;
  line: number;
  name: string;
  message: string;
  inDraft: boolean;
  /** The request description of a failing traffic case (to evaluate it). */
  input?: unknown;
}

export class PublishError extends Error {
  constructor(
    message: string,
    readonly problems: PolicyProblem[] = [],
    readonly tests?: TestReport,
  ) {
    super(message);
  }
}

/** The folder holding the currently published policy, if anything was ever published from the studio. */
export function publishedPolicyDir(home: string): string | undefined {
  const file = stateFile(home, 'policyVersions');
  try {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as VersionsDoc;
    if (doc.current && /^[a-f0-9]{8,64}$/.test(doc.current)) {
      const dir = path.join(stateFile(home, 'policies'), doc.current);
      if (fs.existsSync(dir)) return dir;
    }
  } catch {
    /* no studio publish yet */
  }
  return undefined;
}

export class VersionStore {
  private constructor(
    readonly home: string,
    private readonly doc: Document<VersionsDoc>,
  ) {}

  /** The history kept in another document of the same shape (PostgreSQL: state/postgres/policy-versions.ts). */
  static over(home: string, doc: Document<{ current: string | null; history: unknown[] }>): VersionStore {
    return new VersionStore(home, doc as unknown as Document<VersionsDoc>);
  }

  static async open(home: string): Promise<VersionStore> {
    const doc = await openDocument<VersionsDoc>(stateFile(home, 'policyVersions'), { current: null, history: [] }, { mode: 0o600, check: versionsProblem });
    return new VersionStore(home, doc);
  }

  get current(): string | null {
    return this.doc.data.current;
  }

  get history(): PolicyVersionRecord[] {
    return [...this.doc.data.history].reverse();
  }

  /**
   * Keeps the policy the proxy started with as a version, so it can be rolled back to once
   * something is published. Recorded only while nothing published is live, and once per content.
   */
  async recordInitial(liveDir: string | undefined): Promise<PolicyVersionRecord | undefined> {
    if (this.current || !liveDir || !fs.existsSync(liveDir)) return undefined;
    const files = listPolicyFiles(liveDir);
    if (!files.some((f) => f.endsWith('.rego'))) return undefined;
    const version = policyVersion(liveDir, files);
    if (this.doc.data.history.some((h) => h.version === version)) return undefined;
    const dest = this.dirOf(version);
    if (!fs.existsSync(dest)) {
      const tmp = `${dest}.tmp-${process.pid}`;
      fs.rmSync(tmp, { recursive: true, force: true });
      fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
      copyPolicyFolder(liveDir, tmp);
      fs.renameSync(tmp, dest);
    }
    const record: PolicyVersionRecord = { version, published: new Date().toISOString(), files: files.map((f) => f.split(path.sep).join('/')), initial: true, source: liveDir, note: 'the policy as first loaded' };
    await this.doc.update((d) => {
      d.history.push(record);
    });
    return record;
  }

  has(version: string): boolean {
    return this.doc.data.history.some((h) => h.version === version) && fs.existsSync(this.dirOf(version));
  }

  dirOf(version: string): string {
    if (!/^[a-f0-9]{8,64}$/.test(version)) throw Object.assign(new Error('not a policy version'), { statusCode: 400 });
    return path.join(stateFile(this.home, 'policies'), version);
  }

  /**
   * Compiles and tests `draftDir`; when both pass, stores it as a version and hands the compiled
   * bundle to `activate` (the engine's hot reload). The version becomes current only if activation
   * succeeds.
   */
  async publish(draftDir: string, activate: (compiled: CompiledPolicy) => Promise<void>, test: (dir: string, compiled: CompiledPolicy) => Promise<TestReport>, note?: string): Promise<PolicyVersionRecord> {
    // Work on a snapshot so edits made while opa runs cannot slip into the published version.
    const snap = privateTempDir(this.home, 'publish-');
    try {
      copyPolicyFolder(draftDir, snap);
      let compiled: CompiledPolicy;
      try {
        compiled = await compilePolicy(snap);
      } catch (err) {
        if (err instanceof PolicyCompileError) throw new PublishError('the draft does not compile', err.problems);
        throw err;
      }
      if (compiled.version === this.current) throw new PublishError(`nothing to publish: the draft is the live version ${compiled.version} already`);
      const tests = await test(snap, compiled);
      if (!tests.ok) throw new PublishError(`the draft fails its tests (${tests.failed} failed)`, [], tests);
      const dest = this.dirOf(compiled.version);
      if (!fs.existsSync(dest)) {
        const tmp = `${dest}.tmp-${process.pid}`;
        fs.rmSync(tmp, { recursive: true, force: true });
        fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
        copyPolicyFolder(snap, tmp);
        fs.renameSync(tmp, dest);
      }
      try {
        await activate({ ...compiled, dir: dest });
      } catch (err) {
        throw new PublishError(`the proxy could not load the new policy, the old one stays live: ${(err as Error).message}`);
      }
      const record: PolicyVersionRecord = {
        version: compiled.version,
        published: new Date().toISOString(),
        files: compiled.files,
        previous: this.current ?? undefined,
        ...(note ? { note: note.slice(0, 500) } : {}),
      };
      await this.doc.update((d) => {
        d.current = compiled.version;
        d.history.push(record);
      });
      return record;
    } finally {
      fs.rmSync(snap, { recursive: true, force: true });
    }
  }

  /** Makes a previously published version live again (recompiled from its stored sources). */
  async rollback(version: string, activate: (compiled: CompiledPolicy) => Promise<void>, note?: string): Promise<PolicyVersionRecord> {
    const dir = this.dirOf(version);
    if (!fs.existsSync(dir) || !this.doc.data.history.some((h) => h.version === version)) {
      throw Object.assign(new Error(`policy version ${version} is not in the history`), { statusCode: 404 });
    }
    let compiled: CompiledPolicy;
    try {
      compiled = await compilePolicy(dir);
    } catch (err) {
      if (err instanceof PolicyCompileError) throw new PublishError(`version ${version} no longer compiles`, err.problems);
      throw err;
    }
    try {
      await activate(compiled);
    } catch (err) {
      throw new PublishError(`the proxy could not load version ${version}, the current one stays live: ${(err as Error).message}`);
    }
    const record: PolicyVersionRecord = {
      version,
      published: new Date().toISOString(),
      files: compiled.files,
      previous: this.current ?? undefined,
      rollback_of: version,
      ...(note ? { note: note.slice(0, 500) } : {}),
    };
    await this.doc.update((d) => {
      d.current = version;
      d.history.push(record);
    });
    return record;
  }
}
