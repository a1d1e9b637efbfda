// `airlock replay FILE...`: decide captured traffic again with a policy and show what would change.
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { shellWord, terminalText, terminalJson } from '../../lib/text.ts';
import { SecretStore } from '../../state/secrets/store.ts';
import { resolveHome } from '../../state/home.ts';
import type { PlaceholderFinder } from '../../describe/describe.ts';
import { PlaceholderIndex } from '../../describe/placeholders.ts';
import { PolicyCompileError } from '../../engine/compile.ts';
import type { PolicyEngine } from '../../engine/engine.ts';
import { HarFormatError } from '../../offline/har.ts';
import {
  liveBudgetMs, openPolicy, parseTimeFlag, readCaptureText, replay, replayFiles, ReplaySourceError,
  type ChangedRow, type ReplayOptions, type Counts, type DecisionSummary, type ReplayProgress, type ReplayReport,
} from '../../offline/replay.ts';
import { TrafficTestFormatError } from '../../offline/traffic-tests.ts';
import { CliError, policyFailure } from '../errors.ts';
import { sharedState } from '../../runtime/cli-stores.ts';
import { auditLines } from '../../state/postgres/audit.ts';
import { displayDbUrl, isPostgresUrl } from '../../state/postgres/db.ts';
import type { AuditFilter } from '../../state/audit-log.ts';
import { stateFile } from '../../state/home.ts';

interface ReplayFlags {
  policy: string;
  baseline?: string;
  againstLog: boolean;
  json: boolean;
  agent: string;
  since?: string;
  until?: string;
  host?: string;
  maxRows: string;
  progress: boolean;
  home?: string;
  store?: string;
  sessions: string;
}

/** The secret store's placeholders, when the state folder has one (for HAR files from a proxied agent). */
async function storePlaceholders(homeFlag: string | undefined): Promise<PlaceholderFinder | undefined> {
  const home = resolveHome(homeFlag);
  if (!fs.existsSync(stateFile(home, 'secrets'))) {
    if (homeFlag) throw new CliError(`no secret store in ${home}`);
    return undefined;
  }
  try {
    const store = await SecretStore.open(home);
    return new PlaceholderIndex(store.list().map((s): [string, string] => [s.name, s.placeholder]));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/** Replays the audit log of every replica, as the shared store holds it, with the same filters as a file. */
async function replayStore(url: string, opts: ReplayOptions & { filter: AuditFilter }): Promise<ReplayReport> {
  if (!isPostgresUrl(url)) throw new CliError('--store must be a postgres:// URL');
  const db = await sharedState(url).catch((err: Error) => {
    throw new CliError(err.message);
  });
  try {
    return await replay(readCaptureText(auditLines(db, opts.filter), 'audit_log', opts), opts, () => ({ bytes: 0, totalBytes: 0, file: displayDbUrl(url) }));
  } finally {
    await db.close();
  }
}

async function open(dir: string, what: string): Promise<PolicyEngine> {
  try {
    return await openPolicy(dir);
  } catch (err) {
    if (err instanceof PolicyCompileError) throw policyFailure(err, `${what} ${dir}`);
    throw new CliError(`${what} ${dir}: ${(err as Error).message}`);
  }
}

const num = (n: number): string => n.toLocaleString('en-US');

function decisionText(d: DecisionSummary): string {
  const parts: string[] = [d.action];
  if (d.risk) parts.push(`(${d.risk})`);
  if (d.rule) parts.push(`rule ${d.rule}`);
  return parts.join(' ');
}

function rowText(r: ChangedRow): string {
  const q = r.input.request;
  const what = r.input.service ? `${r.input.service.name} ${r.input.service.operation}` : r.input.mcp?.tool ? `mcp ${r.input.mcp.tool}` : '';
  const lines = [
    `${r.before.action} → ${r.after.action}  ${q.method} ${q.host}${q.path}${what ? `  [${what}]` : ''}  agent ${r.input.agent.id}  (${r.source}, ${q.time})`,
    `    before: ${decisionText(r.before)}: ${r.before.reason}`,
    `    after:  ${decisionText(r.after)}: ${r.after.reason}`,
  ];
  for (const line of r.details ?? []) lines.push(`    ${line}`);
  return lines.map((l) => terminalText(l)).join('\n');
}

function countsTable(after: Counts, before: Counts | undefined): string {
  const rows = (['allow', 'approve', 'deny'] as const).map((a) => {
    const b = before ? num(before[a]).padStart(10) : '';
    return `  ${a.padEnd(8)}${b}${num(after[a]).padStart(10)}`;
  });
  return [`  ${'action'.padEnd(8)}${before ? 'before'.padStart(10) : ''}${'after'.padStart(10)}`, ...rows].join('\n');
}

export function formatReport(report: ReplayReport, labels: { policy: string; baseline?: string }): string {
  const out: string[] = [];
  const against = report.mode === 'baseline' ? ` against baseline ${labels.baseline} (${report.baselineVersion})` : report.mode === 'log' ? ' against the recorded decisions' : '';
  out.push(`Replayed ${num(report.decided)} request${report.decided === 1 ? '' : 's'} with ${labels.policy} (${report.policyVersion})${against} in ${num(report.elapsedMs)} ms.`);
  if (report.mode !== 'policy') {
    out.push('');
    if (report.changed === 0) out.push('No decision changed.');
    else {
      out.push(`${num(report.changed)} decision${report.changed === 1 ? '' : 's'} changed:`);
      for (const r of report.changedRows) out.push(rowText(r));
      if (report.changedOmitted) out.push(`  … and ${num(report.changedOmitted)} more (raise --max-rows or use --json)`);
    }
  }
  out.push('', countsTable(report.after, report.before));
  const transitions = Object.entries(report.transitions);
  // The changes that kept their action are counted too, so the lines add up to "N decisions changed".
  const sameAction = report.changed - transitions.reduce((n, [, v]) => n + v, 0);
  const summary = [...transitions.map(([k, v]) => `  ${k}: ${num(v)}`), ...(sameAction > 0 ? [`  same action, another rule, risk, credentials or labels: ${num(sameAction)}`] : [])];
  if (summary.length) out.push('', ...summary);
  if (report.failClosed) {
    out.push('', `${num(report.failClosed)} decision(s) were fail-closed denies: the policy failed on them (error, timeout, invalid or conflicting decision):`);
    for (const f of report.failClosedSamples.slice(0, 10)) out.push(terminalText(`  ${f.source}: ${f.kind}: ${f.reason}`));
  }
  if (report.slow) {
    out.push('', `${num(report.slow)} decision(s) took longer than the proxy's ${liveBudgetMs} ms budget: live, they would be denied (timeout). Slowest samples:`);
    for (const f of [...report.slowSamples].sort((a, b) => b.ms - a.ms).slice(0, 5)) out.push(`  ${f.source}: ${f.ms} ms`);
  }
  if (report.unrecorded) out.push('', `${num(report.unrecorded)} record(s) had no recorded decision to compare with.`);
  if (report.noted) {
    out.push('', `${num(report.noted)} request(s) replayed with notes:`);
    for (const n of report.notesSamples.slice(0, 20)) out.push(terminalText(`  ${n.source}: ${n.notes.join('; ')}`));
  }
  if (report.skipped) {
    out.push('', `${num(report.skipped)} entr${report.skipped === 1 ? 'y' : 'ies'} skipped:`);
    for (const s of report.skippedSamples.slice(0, 20)) out.push(terminalText(`  ${s.source}: ${s.reason}`));
    if (report.skipped > 20) out.push(`  … (${num(report.skipped - 20)} more; --json lists up to 100)`);
  }
  if (report.aborted) out.push('', 'Interrupted: the figures above cover the requests decided so far.');
  return `${out.join('\n')}\n`;
}

/** A one-line progress bar on stderr, redrawn in place; cleared when done. */
function progressBar(): { update: (p: ReplayProgress) => void; done: () => void } {
  const width = 30;
  let drawn = false;
  return {
    update(p) {
      const frac = p.totalBytes ? Math.min(1, p.bytes / p.totalBytes) : 0;
      const filled = Math.round(frac * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${num(p.decided)} decided${p.skipped ? `, ${num(p.skipped)} skipped` : ''}\x1b[K`);
      drawn = true;
    },
    done() {
      if (drawn) process.stderr.write('\r\x1b[K');
    },
  };
}

export function register(program: Command): void {
  program
    .command('replay')
    .description('decide captured traffic (audit log / capture JSON Lines, HAR, traffic test files) with a policy and show what changes')
    .argument('[file...]', 'capture files: .jsonl (audit log, `capture export`), .har, or traffic test .yaml/.json')
    .option('--policy <dir>', 'the policy to replay with', 'rego')
    .option('--baseline <dir>', 'compare with the decisions of this policy folder')
    .option('--against-log', 'compare with the decisions recorded in the capture', false)
    .option('--json', 'print the report as JSON', false)
    .option('--agent <name>', 'agent id for HAR entries (HAR files do not name Airlock agents)', 'har')
    .option('--since <time>', 'only requests at or after this time (RFC 3339, date, or age like 12h)')
    .option('--until <time>', 'only requests before this time')
    .option('--host <host>', 'only requests to this host')
    .option('--max-rows <n>', 'changed rows to list (the rest are counted)', '1000')
    .option('--no-progress', 'no progress bar, even on a terminal')
    .option('--sessions <mode>', 'recorded (labels accumulate per recorded session, in order), per-agent (also one session per agent for requests without one, e.g. HAR), none', 'recorded')
    .option('--store <url>', 'replay the shared audit log of every replica in PostgreSQL (postgres://…) instead of files')
    .option('--home <dir>', "state folder whose secret store's placeholders HAR entries are searched for (default .airlock when it has one)")
    .action(async (files: string[], flags: ReplayFlags) => {
      if (flags.baseline && flags.againstLog) throw new CliError('choose --baseline DIR or --against-log, not both');
      if (!['recorded', 'per-agent', 'none'].includes(flags.sessions)) throw new CliError('--sessions must be recorded, per-agent or none');
      const maxChanged = Number(flags.maxRows);
      if (!Number.isInteger(maxChanged) || maxChanged < 0) throw new CliError('--max-rows must be a whole number');
      let since: number | undefined;
      let until: number | undefined;
      try {
        since = flags.since ? parseTimeFlag(flags.since) : undefined;
        until = flags.until ? parseTimeFlag(flags.until) : undefined;
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (flags.store && files.length) throw new CliError('give capture files or --store, not both');
      if (!flags.store && !files.length) {
        const log = stateFile(resolveHome(flags.home), 'audit');
        const rel = path.relative(process.cwd(), log);
        const example = fs.existsSync(log) ? `, e.g. this state folder's audit log: airlock replay ${shellWord(rel.startsWith('..') ? log : rel)}` : '';
        throw new CliError(`give capture files to replay${example} (or --store postgres://… for the shared audit log)`);
      }
      for (const f of files) {
        if (!fs.existsSync(f)) throw new CliError(`cannot read ${f}: no such file`);
      }
      const placeholders = await storePlaceholders(flags.home);
      const policy = await open(flags.policy, 'policy');
      let baseline: PolicyEngine | undefined;
      try {
        if (flags.baseline) baseline = await open(flags.baseline, 'baseline');
        const bar = flags.progress && !flags.json && process.stderr.isTTY ? progressBar() : undefined;
        const abort = new AbortController();
        const onSigint = (): void => abort.abort();
        process.once('SIGINT', onSigint);
        let report: ReplayReport;
        try {
          const options = {
            policy, baseline, againstLog: flags.againstLog, maxChanged, sessions: flags.sessions as 'recorded' | 'per-agent' | 'none',
            agent: { id: flags.agent, labels: {} }, placeholders,
            filter: { since, until, host: flags.host },
            onProgress: bar?.update, signal: abort.signal,
          };
          report = flags.store ? await replayStore(flags.store, options) : await replayFiles(files, options);
        } catch (err) {
          if (err instanceof ReplaySourceError || err instanceof HarFormatError || err instanceof TrafficTestFormatError) throw new CliError(err.message);
          throw err;
        } finally {
          process.removeListener('SIGINT', onSigint);
          bar?.done();
        }
        if (flags.json) process.stdout.write(`${terminalJson(report)}\n`);
        else process.stdout.write(formatReport(report, { policy: flags.policy, baseline: flags.baseline }));
        // A wrong file (not a capture at all) is not a replay that found no changes. An audit log
        // holding only records without a description (refused logins) is a capture all the same.
        const notCapture = report.skippedSamples.every((s) => !s.reason.startsWith('audit record without a description'));
        if (!flags.store && report.decided === 0 && report.skipped > 0 && notCapture) {
          throw new CliError(`nothing was replayed: every entry was skipped (the reasons are listed above). Replay reads audit logs, capture JSON Lines, HAR files and traffic test files`);
        }
      } finally {
        await policy.close();
        await baseline?.close();
      }
    });
}
