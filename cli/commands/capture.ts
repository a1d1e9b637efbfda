// `airlock capture export`: pull captured traffic out of the audit log, as JSON Lines for
// `airlock replay` or as traffic tests whose expectations are today's decisions (for review).
import { once } from 'node:events';
import fs from 'node:fs';
import type { Command } from 'commander';
import YAML from 'yaml';
import { auditFile, auditLine, readAudit, type AuditFilter } from '../../state/audit-log.ts';
import { PolicyCompileError } from '../../engine/compile.ts';
import type { PolicyEngine } from '../../engine/engine.ts';
import { descriptionProblem, openPolicy, parseTimeFlag } from '../../offline/replay.ts';
import { resolveHome } from '../../state/home.ts';
import { expectationOf } from '../../offline/traffic-tests.ts';
import type { RequestDescription } from '../../describe/types.ts';
import { CliError, policyFailure } from '../errors.ts';

interface ExportFlags {
  since?: string;
  until?: string;
  agent?: string;
  host?: string;
  asTests: boolean;
  policy: string;
  home?: string;
  limit?: string;
}

/** Writes to stdout, waiting when the pipe is full (a large export must not pile up in memory). */
async function write(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

function caseName(n: number, d: RequestDescription): string {
  const q = d.request;
  const op = d.service ? ` (${d.service.name} ${d.service.operation})` : d.mcp?.tool ? ` (mcp ${d.mcp.tool})` : '';
  return `${n}. ${q.method} ${q.host}${q.path}${op} by ${d.agent.id} at ${q.time}`;
}

export function register(program: Command): void {
  const capture = program.command('capture').description('captured traffic from the audit log');
  capture
    .command('export')
    .description('print captured requests as JSON Lines (for `airlock replay`), or as traffic tests with --as-tests')
    .option('--since <time>', 'from this time (RFC 3339, a date, or an age like 12h, 7d)')
    .option('--until <time>', 'before this time')
    .option('--agent <id>', 'only this agent')
    .option('--host <host>', 'only requests to this host')
    .option('--limit <n>', 'at most this many requests')
    .option('--as-tests', 'write a traffic test file (YAML) whose expectations are the current policy\'s decisions', false)
    .option('--policy <dir>', 'with --as-tests: the policy whose decisions become the expectations', 'rego')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(async (flags: ExportFlags) => {
      const filter: AuditFilter = {};
      try {
        if (flags.since) filter.since = new Date(parseTimeFlag(flags.since));
        if (flags.until) filter.until = new Date(parseTimeFlag(flags.until));
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (flags.agent) filter.agent = flags.agent;
      if (flags.host) filter.host = flags.host;
      let limit = Infinity;
      if (flags.limit !== undefined) {
        limit = Number(flags.limit);
        if (!Number.isInteger(limit) || limit <= 0) throw new CliError('--limit must be a positive whole number');
      }
      const file = auditFile(resolveHome(flags.home));
      if (!fs.existsSync(file)) throw new CliError(`no audit log at ${file} (pass --home DIR or set AIRLOCK_HOME to the proxy's state folder)`);

      let engine: PolicyEngine | undefined;
      if (flags.asTests) {
        try {
          engine = await openPolicy(flags.policy);
        } catch (err) {
          if (err instanceof PolicyCompileError) throw policyFailure(err, `policy ${flags.policy}`);
          throw new CliError(`policy ${flags.policy}: ${(err as Error).message}`);
        }
        await write(
          `# Traffic tests exported by \`airlock capture export --as-tests\` from ${file}\n` +
          `# on ${new Date().toISOString()}. Expectations are the decisions of the policy in ${flags.policy}\n` +
          '# (version ' + engine.version + '): review every case before you commit it.\ncases:\n',
        );
      }
      let exported = 0;
      let withoutDescription = 0;
      let changedSinceCapture = 0;
      try {
        for await (const record of readAudit(file, filter)) {
          if (!record.description || descriptionProblem(record.description)) {
            withoutDescription++;
            continue;
          }
          exported++;
          if (!engine) {
            await write(`${auditLine(record)}\n`);
          } else {
            const decision = await engine.decide(record.description, { replay: true });
            if (record.decision && (record.decision.action !== decision.action || (record.decision.rule ?? '') !== (decision.rule ?? ''))) changedSinceCapture++;
            const item = { name: caseName(exported, record.description), description: record.description, expect: expectationOf(decision) };
            await write(YAML.stringify([item], { lineWidth: 0 }));
          }
          if (exported >= limit) break;
        }
      } finally {
        await engine?.close();
      }
      if (!exported && flags.asTests) await write('  []\n'); // "cases:\n  []" keeps an empty export a valid test file
      const notes = [`exported ${exported} request${exported === 1 ? '' : 's'} from ${file}`];
      const given = (['agent', 'host', 'since', 'until'] as const).filter((k) => flags[k]).map((k) => `--${k} ${flags[k]}`);
      // An empty export with filters: say it was the filters (an agent id is matched exactly), not an empty log.
      if (!exported && given.length) notes.push(`no request in it matched ${given.join(' ')} (agent ids match exactly, hosts ignoring case; airlock capture export without them lists everything)`);
      if (withoutDescription) notes.push(`${withoutDescription} record(s) without a request description skipped (refused before a decision)`);
      if (changedSinceCapture) notes.push(`${changedSinceCapture} case(s) expect a different decision than the one recorded at capture time`);
      process.stderr.write(`airlock: ${notes.join('; ')}\n`);
    });
}
