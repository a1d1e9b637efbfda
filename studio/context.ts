// The studio's shared state: draft, published versions, evaluators, the live hub and the services
// of the Airlock it runs in.
import fs from 'node:fs';
import path from 'node:path';
import { compilePolicy, policyVersion, type CompiledPolicy } from '../engine/compile.ts';
import { PolicyEngine } from '../engine/engine.ts';
import { draftEngine } from './draft-engine.ts';
import { DraftStore } from './drafts.ts';
import { Hub } from './live.ts';
import { DraftEvaluator } from './policy-tools.ts';
import type { StudioServices } from './services.ts';
import { VersionStore } from './versions.ts';
import { stateFile } from '../state/home.ts';

export class StudioContext {
  readonly draft: DraftStore;
  readonly evaluator: DraftEvaluator;
  readonly hub = new Hub();
  private live: { version: string; engine: PolicyEngine } | undefined;
  private liveLoading: Promise<PolicyEngine> | undefined;
  private readonly closers: Array<() => unknown> = [];

  private constructor(
    readonly home: string,
    readonly services: StudioServices | undefined,
    readonly versions: VersionStore,
    readonly projectRoot: string,
  ) {
    this.draft = new DraftStore(stateFile(home, 'draft'));
    this.evaluator = new DraftEvaluator(this.draft);
  }

  static async open(home: string, services: StudioServices | undefined, projectRoot: string): Promise<StudioContext> {
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    // Shared stores bring their own history (every replica's studio sees every publish).
    const ctx = new StudioContext(home, services, services?.policyVersions ?? (await VersionStore.open(home)), projectRoot);
    ctx.draft.ensure(ctx.liveDir());
    // The policy as first loaded stays a rollback target once something is published.
    await ctx.versions.recordInitial(ctx.liveDir()).catch(() => undefined);
    return ctx;
  }

  /** The folder of the live policy: the studio's current published version, else the proxy's policy folder. */
  liveDir(): string | undefined {
    const current = this.versions.current;
    if (current) {
      const dir = this.versions.dirOf(current);
      if (fs.existsSync(dir)) return dir;
    }
    const started = this.services?.policyDir;
    if (started !== undefined) return path.resolve(started);
    const fallback = path.join(this.projectRoot, 'rego');
    return fs.existsSync(fallback) ? fallback : undefined;
  }

  /** The version the proxy decides with right now (undefined when no proxy is running). */
  runningVersion(): string | undefined {
    return this.services?.engine?.version;
  }

  /** Hot-reloads the live engine with a compiled policy (no-op without a running proxy). */
  async activate(compiled: CompiledPolicy): Promise<void> {
    const engine = this.services?.engine;
    if (engine) await engine.load(compiled);
    this.live = undefined;
  }

  /** An inline engine with the live policy, for side-by-side replay and evaluation. */
  async liveEngine(): Promise<PolicyEngine | undefined> {
    const dir = this.liveDir();
    if (!dir) return undefined;
    const version = policyVersion(dir);
    if (this.live?.version === version) return this.live.engine;
    this.liveLoading ??= (async () => {
      const engine = draftEngine();
      try {
        await engine.load(await compilePolicy(dir));
      } catch (err) {
        await engine.close();
        throw err;
      }
      const old = this.live;
      this.live = { version, engine };
      if (old) void old.engine.close();
      return engine;
    })().finally(() => (this.liveLoading = undefined));
    return this.liveLoading;
  }

  onClose(fn: () => unknown): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    for (const fn of this.closers.splice(0)) await fn();
    this.hub.closeAll();
    await this.evaluator.close();
    await this.live?.engine.close();
    this.live = undefined;
  }
}
