// Policy editing API: draft files, check, format, evaluate, test, publish, versions, rollback.
import type { FastifyInstance } from 'fastify';
import { parseTrafficTests, prepareCase, prepareCases } from '../../offline/traffic-tests.ts';
import type { RequestDescription } from '../../describe/types.ts';
import type { StudioContext } from '../context.ts';
import { checkDraft, diffDraft, diffFolders, formatRego, testDraft, testPolicyFolder, validOverlay } from '../policy-tools.ts';
import { PublishError } from '../versions.ts';
import type {
  CheckAnswer, DescribeAnswer, DescribeBody, DiffAnswer, DraftBody, DraftFilesAnswer, DraftResetAnswer, EvaluateAnswer, EvaluateBody, ExplainAnswer,
  FileAnswer, FileWriteBody, FormatAnswer, FormatBody, OkAnswer, PublishAnswer, PublishBody, PublishRefusal, RollbackBody, TestReport, Untrusted,
  VersionsAnswer, VersionsDiffAnswer,
} from './wire.ts';

/** The JSON object a route was sent (anything else reads as {}); its fields are checked where used. */
function body<T>(req: { body: unknown }): Untrusted<T> {
  const b = req.body;
  return b && typeof b === 'object' && !Array.isArray(b) ? (b as Untrusted<T>) : {};
}

function query(req: { query: unknown }): Record<string, string | undefined> {
  return (req.query ?? {}) as Record<string, string | undefined>;
}

function validDescription(v: unknown): RequestDescription {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw Object.assign(new Error('input must be a request description (a JSON object)'), { statusCode: 400 });
  const d = v as { request?: { time?: unknown } };
  if (!d.request || typeof d.request !== 'object') throw Object.assign(new Error('input.request is missing: paste a full request description'), { statusCode: 400 });
  return v as RequestDescription;
}

export async function policyRoutes(app: FastifyInstance, { ctx }: { ctx: StudioContext }): Promise<void> {
  app.get<{ Reply: DraftFilesAnswer }>('/api/policy/files', async () => ({ files: ctx.draft.list(), live: ctx.liveDir() ?? null }));

  app.get<{ Reply: FileAnswer }>('/api/policy/file', async (req) => {
    const p = query(req).path;
    return { path: p!, content: ctx.draft.read(p) };
  });

  app.put<{ Reply: OkAnswer }>('/api/policy/file', async (req) => {
    const b = body<FileWriteBody>(req);
    ctx.draft.write(b.path, b.content);
    ctx.hub.broadcast('draft', { path: b.path as string, action: 'saved' }); // write() took it: a draft path
    return { ok: true };
  });

  app.delete<{ Reply: OkAnswer }>('/api/policy/file', async (req) => {
    const p = query(req).path;
    ctx.draft.remove(p);
    ctx.hub.broadcast('draft', { path: p!, action: 'deleted' }); // remove() took it: a draft path
    return { ok: true };
  });

  app.post<{ Reply: DraftResetAnswer }>('/api/policy/draft/reset', async () => {
    ctx.draft.resetFrom(ctx.liveDir());
    ctx.hub.broadcast('draft', { action: 'reset' });
    return { ok: true, files: ctx.draft.list() };
  });

  app.get<{ Reply: DiffAnswer }>('/api/policy/diff', async () => ({ live: ctx.liveDir() ?? null, files: diffDraft(ctx.draft.dir, ctx.liveDir()) }));

  app.post<{ Reply: CheckAnswer }>('/api/policy/check', async (req) => checkDraft(ctx.draft, validOverlay(body<DraftBody>(req).files)));

  app.post<{ Reply: FormatAnswer }>('/api/policy/fmt', async (req) => {
    const b = body<FormatBody>(req);
    if (typeof b.path !== 'string' || typeof b.content !== 'string') throw Object.assign(new Error('path and content are required'), { statusCode: 400 });
    return formatRego(ctx.home, b.path, b.content);
  });

  // The same suite as `airlock test` (and the publish gate): Rego tests and the project's traffic tests.
  app.post<{ Reply: TestReport }>('/api/policy/test', async (req) => testDraft(ctx.draft, ctx.projectRoot, validOverlay(body<DraftBody>(req).files)));

  // A request made into the description the policy sees, by the proxy's own describe step (service,
  // MCP and SQL blocks included) — the way `airlock test` builds a hand-written traffic test case.
  app.post<{ Reply: DescribeAnswer }>('/api/policy/describe', async (req) => {
    const b = body<DescribeBody>(req);
    const request = { ...b, time: typeof b.time === 'string' && b.time ? b.time : new Date().toISOString() };
    let file;
    try {
      file = parseTrafficTests(JSON.stringify({ cases: [{ name: 'request', request, expect: { action: 'allow' } }] }), 'request.json');
    } catch (err) {
      throw Object.assign(new Error((err as Error).message.replace(/^request\.json: case "request": /, '')), { statusCode: 400 });
    }
    await prepareCases();
    const prepared = prepareCase(file, file.cases[0]!, 0);
    if (!prepared.ok) throw Object.assign(new Error(prepared.error), { statusCode: 400 });
    return { input: prepared.input };
  });

  app.post<{ Reply: EvaluateAnswer }>('/api/policy/evaluate', async (req) => {
    const b = body<EvaluateBody>(req);
    const input = validDescription(b.input);
    // Time builtins see the captured time when the description has one (as replay does).
    const replayTime = typeof b.replay === 'boolean' ? b.replay : typeof input.request.time === 'string';
    const draft = await ctx.evaluator.evaluate(input, validOverlay(b.files), { replay: replayTime });
    let live: EvaluateAnswer['live'] = null;
    let liveError: string | undefined;
    try {
      const engine = await ctx.liveEngine();
      live = engine ? await engine.decide(input, { replay: replayTime }) : null;
    } catch (err) {
      liveError = (err as Error).message;
    }
    return { draft, live, liveError, input };
  });

  // Why the draft decides this request as it does (engine/explain.ts): shown by the evaluate pane's explain section.
  app.post<{ Reply: ExplainAnswer }>('/api/policy/explain', async (req) => {
    const b = body<EvaluateBody>(req);
    const input = validDescription(b.input);
    const replayTime = typeof b.replay === 'boolean' ? b.replay : typeof input.request.time === 'string';
    return ctx.evaluator.explain(input, validOverlay(b.files), { replay: replayTime });
  });

  app.get<{ Reply: VersionsAnswer }>('/api/policy/versions', async () => ({
    current: ctx.versions.current,
    running: ctx.runningVersion() ?? null,
    proxy: Boolean(ctx.services?.engine),
    history: ctx.versions.history,
  }));

  app.post<{ Reply: PublishAnswer | PublishRefusal }>('/api/policy/publish', async (req, reply) => {
    const given = body<PublishBody>(req).note;
    const note = typeof given === 'string' ? given : undefined;
    try {
      const record = await ctx.versions.publish(ctx.draft.dir, (c) => ctx.activate(c), (dir, compiled) => testPolicyFolder(dir, ctx.projectRoot, compiled), note);
      ctx.hub.broadcast('policy', { event: 'published', record });
      return { ok: true, record, running: ctx.runningVersion() ?? null };
    } catch (err) {
      if (err instanceof PublishError) {
        return reply.code(422).send({ ok: false, error: err.message, problems: err.problems, tests: err.tests ?? null });
      }
      throw err;
    }
  });

  // Any two versions (or "draft", or "live"), compared file by file.
  app.get<{ Reply: VersionsDiffAnswer }>('/api/policy/versions/diff', async (req) => {
    const q = query(req);
    const dirOf = (v: string | undefined, name: string): string | undefined => {
      if (v === 'draft') return ctx.draft.dir;
      if (v === 'live') return ctx.liveDir();
      if (typeof v !== 'string' || !v) throw Object.assign(new Error(`${name} is required (a version, "draft" or "live")`), { statusCode: 400 });
      const dir = ctx.versions.dirOf(v);
      if (!ctx.versions.has(v)) throw Object.assign(new Error(`policy version ${v} is not in the history`), { statusCode: 404 });
      return dir;
    };
    const from = dirOf(q.from, 'from');
    const to = dirOf(q.to, 'to');
    return { from: q.from!, to: q.to!, files: diffFolders(from, to, q.from!.slice(0, 12), q.to!.slice(0, 12)) };
  });

  app.post<{ Reply: PublishAnswer | PublishRefusal }>('/api/policy/rollback', async (req, reply) => {
    const b = body<RollbackBody>(req);
    const version = b.version;
    const note = typeof b.note === 'string' ? b.note : undefined;
    if (typeof version !== 'string') throw Object.assign(new Error('version is required'), { statusCode: 400 });
    try {
      const record = await ctx.versions.rollback(version, (c) => ctx.activate(c), note);
      ctx.hub.broadcast('policy', { event: 'rollback', record });
      return { ok: true, record, running: ctx.runningVersion() ?? null };
    } catch (err) {
      if (err instanceof PublishError) return reply.code(422).send({ ok: false, error: err.message, problems: err.problems });
      throw err;
    }
  });
}
