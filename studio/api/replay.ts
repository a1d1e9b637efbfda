// Replay in the studio: the draft against the live policy, side by side, over a fixtures file, an
// uploaded HAR or the audit log. The work is offline/replay.ts — the same code as `airlock replay`.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { auditFile, type AuditFilter } from '../../state/audit-log.ts';
import { PolicyCompileError } from '../../engine/compile.ts';
import type { PolicyEngine } from '../../engine/engine.ts';
import { readCaptureText, readSource, replay } from '../../offline/replay.ts';
import type { SharedAuditLog } from '../services.ts';
import { draftEngine as newDraftEngine } from '../draft-engine.ts';
import type { StudioContext } from '../context.ts';
import { validOverlay } from '../policy-tools.ts';
import type { ErrorAnswer, OkAnswer, ReplayAnswer, ReplayBody, ReplayRefusal, ReplaySourcesAnswer, Untrusted } from './wire.ts';
import { privateTempDir } from '../../state/home.ts';

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });
const sourceExt = new Set(['.jsonl', '.ndjson', '.har', '.yaml', '.yml', '.json']);

/** The audit log of every replica when it lives in a shared store (PostgreSQL), read with the file's filters. */
function sharedAudit(ctx: StudioContext): SharedAuditLog | undefined {
  return ctx.services?.sharedAudit;
}

function listFixtures(root: string): Array<{ path: string; size: number }> {
  const dir = path.join(root, 'fixtures');
  if (!fs.existsSync(dir)) return [];
  const out: Array<{ path: string; size: number }> = [];
  for (const ent of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!ent.isFile() || !sourceExt.has(path.extname(ent.name).toLowerCase())) continue;
    const full = path.join(ent.parentPath ?? dir, ent.name);
    out.push({ path: path.relative(root, full).split(path.sep).join('/'), size: fs.statSync(full).size });
  }
  return out.sort((a, b) => a.path.localeCompare(b.path)).slice(0, 500);
}

function timeMs(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const ms = Date.parse(String(v));
  if (Number.isNaN(ms)) throw httpError(400, `${name} is not a time`);
  return ms;
}

/**
 * Replay decides in-process (inline engine), and a synchronous decision followed by another only
 * chains microtasks. Inside `airlock start` the proxy shares this event loop, so let it breathe
 * every few requests: a long replay must not stall live traffic.
 */
async function* yieldingEvery<T>(n: number, items: AsyncIterable<T>): AsyncGenerator<T> {
  let i = 0;
  for await (const item of items) {
    yield item;
    if (++i % n === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

export async function replayRoutes(app: FastifyInstance, { ctx }: { ctx: StudioContext }): Promise<void> {
  let running: AbortController | undefined;

  app.get<{ Reply: ReplaySourcesAnswer }>('/api/replay/sources', async () => {
    const audit = auditFile(ctx.home);
    return {
      available: true,
      fixtures: listFixtures(ctx.projectRoot),
      audit: sharedAudit(ctx) ? { size: 0, shared: true } : fs.existsSync(audit) ? { size: fs.statSync(audit).size } : null,
    };
  });

  app.post<{ Reply: OkAnswer }>('/api/replay/cancel', async () => {
    running?.abort();
    return { ok: true };
  });

  app.post<{ Body: Untrusted<ReplayBody> | undefined; Reply: ReplayAnswer | ReplayRefusal | ErrorAnswer }>('/api/replay', { bodyLimit: 64 * 1024 * 1024 }, async (req, reply) => {
    if (running) return reply.code(409).send({ error: 'a replay is already running; cancel it first' });
    const b = req.body ?? {};
    const tmpDir = privateTempDir(ctx.home, 'replay-');
    const draftEngine = newDraftEngine();
    const runId = crypto.randomBytes(6).toString('hex');
    const abort = new AbortController();
    running = abort;
    try {
      let file: string;
      let filter: AuditFilter | undefined;
      if (b.source === 'fixture') {
        const rel = String(b.file ?? '');
        if (!listFixtures(ctx.projectRoot).some((f) => f.path === rel)) throw httpError(400, 'choose one of the listed fixtures files');
        file = path.join(ctx.projectRoot, rel);
      } else if (b.source === 'audit') {
        file = auditFile(ctx.home);
        if (!sharedAudit(ctx) && !fs.existsSync(file)) throw httpError(400, 'the audit log is empty: no traffic has been captured yet');
        filter = {
          since: timeMs(b.since, 'since'),
          until: timeMs(b.until, 'until'),
          agent: typeof b.agent === 'string' && b.agent ? b.agent : undefined,
          host: typeof b.host === 'string' && b.host ? b.host.toLowerCase() : undefined,
        };
      } else if (b.source === 'har') {
        const har = typeof b.har === 'string' ? b.har : JSON.stringify(b.har ?? null);
        if (!har || har === 'null') throw httpError(400, 'the HAR file is empty');
        file = path.join(tmpDir, 'upload.har');
        fs.writeFileSync(file, har);
      } else {
        throw httpError(400, 'source must be "fixture", "audit" or "har"');
      }

      // The draft as the editor shows it: saved files plus unsaved buffers (as Evaluate does).
      const snap = path.join(tmpDir, 'draft');
      fs.mkdirSync(snap);
      const overlay = validOverlay(b.files) ?? {};
      ctx.draft.overlay(overlay, snap);
      try {
        await draftEngine.loadFolder(snap);
      } catch (err) {
        if (err instanceof PolicyCompileError) return reply.code(422).send({ error: 'the draft does not compile', problems: err.problems });
        throw err;
      }
      // Compare with the live policy (default) or with the decisions recorded in the capture.
      const againstLog = b.compare === 'recorded';
      let baseline: PolicyEngine | undefined;
      let baselineError: string | undefined;
      if (!againstLog) {
        try {
          baseline = await ctx.liveEngine();
        } catch (err) {
          baselineError = `the live policy does not compile: ${(err as Error).message}`;
        }
      }

      const shared = b.source === 'audit' ? sharedAudit(ctx) : undefined;
      const totalBytes = shared ? 0 : fs.statSync(file).size;
      let bytes = 0;
      const items = yieldingEvery(64, shared
        ? readCaptureText(shared.lines(filter ?? {}), 'audit_log', { filter, signal: abort.signal })
        : readSource(file, { filter, onBytes: (n) => (bytes = n), signal: abort.signal }));
      const report = await replay(
        items,
        {
          policy: draftEngine,
          baseline,
          againstLog,
          maxChanged: 2000,
          signal: abort.signal,
          progressIntervalMs: 150,
          onProgress: (p) => ctx.hub.broadcast('replay-progress', { run: runId, ...p }),
        },
        () => ({ bytes, totalBytes, file: path.basename(file) }),
      );
      return {
        run: runId, compare: againstLog ? 'recorded' : 'live', source: b.source, file: b.source === 'fixture' ? String(b.file) : path.basename(file), baselineError, report,
        // Which draft was replayed: the saved files, or with these unsaved buffers.
        unsaved: Object.keys(overlay).sort(),
      };
    } finally {
      running = undefined;
      await draftEngine.close();
      fs.rmSync(tmpDir, { recursive: true, force: true });
    }
  });
}
