// `airlock migrate-state --from .airlock --to postgres://…`: moves an embedded state folder into
// the shared store — agents (token hashes), secrets (still sealed: the same master key opens them),
// approvals and grants, TOTP enrolment, published policy versions, agent sessions (labels, events,
// links, timeline), where secrets were injected (names and forms, never values), the audit log. Rows already there are kept (a second run adds only what is
// new). Rate-limit buckets are not moved: they refill by themselves.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { listPolicyFiles } from '../../engine/compile.ts';
import { openStateStore } from '../../runtime/shared-services.ts';
import type { StoredAgent } from '../../state/agents.ts';
import { ApprovalQueue } from '../../state/approvals.ts';
import { openDocument } from '../../state/document.ts';
import { stateFile } from '../../state/home.ts';
import { streamLines } from '../../lib/lines.ts';
import { PgAgents } from '../../state/postgres/agents.ts';
import { PgApprovals } from '../../state/postgres/approvals.ts';
import { displayDbUrl, isPostgresUrl, type PgState } from '../../state/postgres/db.ts';
import { PgInjectionLedger } from '../../state/postgres/injected-places.ts';
import { PgSecretVault } from '../../state/postgres/secrets.ts';
import { INJECTED_FILE, InjectionJournal } from '../../state/injected-places.ts';
import { PgSessions } from '../../state/postgres/sessions.ts';
import { JournalSessionStore } from '../../state/sessions.ts';
import { PgStepUp } from '../../state/postgres/totp.ts';
import type { SecretRecord } from '../../state/secrets/store.ts';
import { CliError } from '../errors.ts';

/** Text for a column PostgreSQL's `text` accepts (it refuses U+0000; the line keeps what was written). */
const columnText = (v: string): string => v.replaceAll('\u0000', '\ufffd');

/** The time as PostgreSQL's timestamptz takes it, or undefined (unreadable, or a year outside 1–9999). */
function columnTime(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return undefined;
  const year = new Date(ms).getUTCFullYear();
  return year >= 1 && year <= 9999 ? new Date(ms).toISOString() : undefined;
}

/** The audit log's records moved, and the lines left behind because they cannot be read (torn, no readable time). */
async function moveAudit(db: PgState, from: string): Promise<{ moved: number; skipped: number }> {
  const file = stateFile(from, 'audit');
  if (!fs.existsSync(file)) return { moved: 0, skipped: 0 };
  const replica = `migrated:${path.resolve(from)}`;
  let rows: Array<Record<string, string | null>> = [];
  let n = 0;
  const flush = async (): Promise<void> => {
    if (!rows.length) return;
    const col = (k: string) => rows.map((r) => r[k] ?? null);
    const r = await db.query(
      `INSERT INTO audit_log (replica, id, time, agent, host, outcome, line)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[]) ON CONFLICT DO NOTHING`,
      [col('replica'), col('id'), col('time'), col('agent'), col('host'), col('outcome'), col('line')],
    );
    n += r.rowCount ?? 0;
    rows = [];
  };
  const input = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  let seq = 0;
  let skipped = 0;
  for await (const lines of streamLines(input)) {
    for (const line of lines) {
      if (!line) continue;
      seq++;
      let r: { time?: unknown; id?: unknown; agent?: unknown; host?: unknown; outcome?: unknown; description?: { request?: { host?: unknown } } };
      try {
        r = JSON.parse(line);
      } catch {
        skipped++;
        continue;
      }
      const time = columnTime(r?.time);
      if (time === undefined) {
        skipped++;
        continue;
      }
      const host = typeof r.host === 'string' ? r.host : typeof r.description?.request?.host === 'string' ? r.description.request.host : null;
      // Line numbers keep ids unique: the file may repeat an id (a summary record, a hand edit).
      // A damaged record's columns are made storable; its line is kept as written (JSON escapes U+0000).
      rows.push({
        replica, id: columnText(`${seq}:${String(r.id ?? '')}`), time, agent: typeof r.agent === 'string' ? columnText(r.agent) : null,
        host: host === null ? null : columnText(host), outcome: typeof r.outcome === 'string' ? columnText(r.outcome) : 'unknown', line,
      });
      if (rows.length >= 1000) await flush();
    }
  }
  await flush();
  return { moved: n, skipped };
}

async function movePolicies(db: PgState, from: string): Promise<number> {
  const file = stateFile(from, 'policyVersions');
  if (!fs.existsSync(file)) return 0;
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { current: string | null; history: Array<{ version: string }> };
  let n = 0;
  for (const entry of doc.history ?? []) {
    const dir = path.join(stateFile(from, 'policies'), entry.version);
    if (!/^[a-f0-9]{8,64}$/.test(entry.version) || !fs.existsSync(dir)) continue;
    const files = Object.fromEntries(listPolicyFiles(dir).map((rel) => [rel.split(path.sep).join('/'), fs.readFileSync(path.join(dir, rel), 'utf8')]));
    await db.query('INSERT INTO policy_sources (version, files) VALUES ($1, $2) ON CONFLICT DO NOTHING', [entry.version, JSON.stringify(files)]);
    const seen = await db.query('SELECT 1 FROM policy_history WHERE record = $1::jsonb', [JSON.stringify(entry)]);
    if (!seen.rowCount) {
      await db.query('INSERT INTO policy_history (version, record) VALUES ($1, $2)', [entry.version, JSON.stringify(entry)]);
      n++;
    }
  }
  if (doc.current) await db.query('INSERT INTO policy_current (id, version) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [doc.current]);
  return n;
}

async function moveSessions(db: PgState, from: string): Promise<number> {
  if (!fs.existsSync(path.join(from, 'sessions.jsonl'))) return 0;
  const journal = JournalSessionStore.open(from, { flushMs: 0 });
  const shared = await PgSessions.open(db, { flushMs: 0 });
  let n = 0;
  try {
    for (const { record, links } of journal.exportAll()) if (await shared.importSession(record, links)) n++;
  } finally {
    await journal.close();
    await shared.close();
  }
  return n;
}

/** Where secrets were injected: the replicas go on scrubbing what those services show back. */
async function moveInjected(db: PgState, from: string): Promise<number> {
  if (!fs.existsSync(path.join(from, INJECTED_FILE))) return 0;
  const journal = await InjectionJournal.open(from);
  const shared = await PgInjectionLedger.open(db);
  try {
    const key = (p: { place: string; secret: string; form: string }): string => `${p.place}\0${p.secret}\0${p.form}`;
    const there = new Set(shared.pairs().map(key));
    const pairs = journal.pairs().filter((p) => !there.has(key(p)));
    await shared.record(pairs);
    return pairs.length;
  } finally {
    await journal.close();
    await shared.close();
  }
}

export function register(program: Command): void {
  program
    .command('migrate-state')
    .description('move an embedded state folder (agents, secrets, approvals, TOTP, policy versions, sessions, audit log) into a shared PostgreSQL store')
    .requiredOption('--from <dir>', 'the state folder, e.g. .airlock')
    .requiredOption('--to <url>', 'postgres://…')
    .action(async (opts: { from: string; to: string }) => {
      const from = path.resolve(opts.from);
      if (!fs.existsSync(from)) throw new CliError(`no state folder ${from}`);
      if (!isPostgresUrl(opts.to)) throw new CliError('--to must be a postgres:// URL');
      const db = await openStateStore(opts.to, { listen: false }).catch((err: Error) => {
        throw new CliError(err.message);
      });
      try {
        const out: string[] = [];
        const agentsDoc = await openDocument<{ agents: Record<string, StoredAgent> }>(stateFile(from, 'agents'), { agents: {} });
        const agents = await PgAgents.open(db);
        let na = 0;
        for (const a of Object.values(agentsDoc.data.agents)) if (await agents.importAgent(a)) na++;
        out.push(`${na} agents`);

        const secretsDoc = await openDocument<{ wrap: null | { source: never; key: never }; secrets: Record<string, SecretRecord> }>(stateFile(from, 'secrets'), { wrap: null, secrets: {} });
        const vault = await PgSecretVault.open(db, from);
        out.push(`${await vault.importSealed(secretsDoc.data.wrap, secretsDoc.data.secrets)} secrets (still sealed; give every replica the same master key)`);

        const totpDoc = await openDocument<{ secret?: string; label?: string; enrolled_at?: string; last_counter?: number }>(stateFile(from, 'totp'), {});
        if (totpDoc.data.secret) {
          const step = await PgStepUp.open(db, vault);
          out.push((await step.importEnrollment({ ...totpDoc.data, secret: totpDoc.data.secret })) ? 'TOTP enrolment' : 'TOTP enrolment (already there, kept)');
        }

        const queue = await ApprovalQueue.open(from, { sweepMs: 0 });
        const records = [];
        for (const a of queue.list()) {
          const full = a.description_complete === false ? await queue.fullDescription(a.id) : undefined;
          records.push({ record: a, ...(full ? { full: JSON.stringify(full) } : {}) });
        }
        const shared = await PgApprovals.open(db, { sweepMs: 0 });
        const moved = await shared.importRecords(records, queue.grants(true), queue.settings);
        await queue.close();
        await shared.close();
        out.push(`${moved.approvals} approvals`, `${moved.grants} grants`);
        out.push(`${await movePolicies(db, from)} policy versions`);
        out.push(`${await moveSessions(db, from)} sessions`);
        out.push(`${await moveInjected(db, from)} injected places`);
        const audit = await moveAudit(db, from);
        out.push(`${audit.moved} audit records${audit.skipped ? ` (${audit.skipped} damaged lines left out: torn, not JSON, or no time PostgreSQL can hold)` : ''}`);
        process.stdout.write(`airlock: moved ${from} into ${displayDbUrl(opts.to)}: ${out.join(', ')}\n`);
      } catch (err) {
        throw new CliError((err as Error).message);
      } finally {
        await db.close();
      }
    });
}
