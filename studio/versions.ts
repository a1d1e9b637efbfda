// Published policy versions: each publish copies the draft into <home>/policies/<version>/ (the
// version is the engine's hash of the sources) and records it in policy-versions.json. Rollback
// makes an older version live again. Nothing is published that fails to compile or fails `opa test`.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { compilePolicy, PolicyCompileError, type CompiledPolicy, type PolicyProblem } from '../engine/compile.ts';
import { openDocument, type Document } from '../engine/state/document.ts';
import { requireOpa } from '../engine/toolchain.ts';
import { copyPolicyFolder } from './drafts.ts';

const run = promisify(execFile);

export interface PolicyVersionRecord {
  version: string;
  published: string;
  files: string[];
  note?: string;
  /** The version this one replaced (for the history view). */
  previous?: string;
  /** Set on a rollback: which version was restored. */
  rollback_of?: string;
}

interface VersionsDoc {
  current: string | null;
  history: PolicyVersionRecord[];
}

export interface TestReport {
  ok: boolean;
  passed: number;
  failed: number;
  output: string;
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
  const file = path.join(home, 'policy-versions.json');
  try {
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as VersionsDoc;
    if (doc.current && /^[a-f0-9]{8,64}$/.test(doc.current)) {
      const dir = path.join(home, 'policies', doc.current);
      if (fs.existsSync(dir)) return dir;
    }
  } catch {
    /* no studio publish yet */
  }
  return undefined;
}

/** Runs `opa test` on a folder. Tests live beside the policy as *_test.rego. */
export async function runOpaTests(dir: string): Promise<TestReport> {
  try {
    const r = await run(requireOpa(), ['test', '--format', 'json', '.'], { cwd: dir, maxBuffer: 32 * 1024 * 1024, timeout: 60_000 });
    return summarizeTests(r.stdout, true);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (typeof e.code === 'string') throw err;
    const report = summarizeTests(e.stdout ?? '', false);
    if (!report.output) report.output = (e.stderr ?? '').trim() || 'opa test failed';
    return report;
  }
}

function summarizeTests(stdout: string, ok: boolean): TestReport {
  let passed = 0;
  let failed = 0;
  const lines: string[] = [];
  try {
    const results = JSON.parse(stdout || '[]') as Array<{ package?: string; name?: string; fail?: boolean; error?: { message?: string }; location?: { file?: string; row?: number } }>;
    for (const r of results) {
      if (r.fail || r.error) {
        failed++;
        const where = r.location ? `${r.location.file}:${r.location.row}: ` : '';
        lines.push(`${where}${r.package ?? ''}.${r.name ?? ''}: ${r.error?.message ?? 'FAIL'}`);
      } else passed++;
    }
  } catch {
    lines.push(stdout.trim());
  }
  return { ok: ok && failed === 0, passed, failed, output: lines.join('\n') };
}

export class VersionStore {
  private constructor(
    readonly home: string,
    private readonly doc: Document<VersionsDoc>,
  ) {}

  static async open(home: string): Promise<VersionStore> {
    const doc = await openDocument<VersionsDoc>(home, 'policy-versions', { current: null, history: [] }, { mode: 0o600 });
    return new VersionStore(home, doc);
  }

  get current(): string | null {
    return this.doc.data.current;
  }

  get history(): PolicyVersionRecord[] {
    return [...this.doc.data.history].reverse();
  }

  dirOf(version: string): string {
    if (!/^[a-f0-9]{8,64}$/.test(version)) throw Object.assign(new Error('not a policy version'), { statusCode: 400 });
    return path.join(this.home, 'policies', version);
  }

  /**
   * Compiles and tests `draftDir`; when both pass, stores it as a version and hands the compiled
   * bundle to `activate` (the engine's hot reload). The version becomes current only if activation
   * succeeds.
   */
  async publish(draftDir: string, activate: (compiled: CompiledPolicy) => Promise<void>, note?: string): Promise<PolicyVersionRecord> {
    // Work on a snapshot so edits made while opa runs cannot slip into the published version.
    const snap = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-publish-'));
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
      const tests = await runOpaTests(snap);
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
  async rollback(version: string, activate: (compiled: CompiledPolicy) => Promise<void>): Promise<PolicyVersionRecord> {
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
    };
    await this.doc.update((d) => {
      d.current = version;
      d.history.push(record);
    });
    return record;
  }
}
