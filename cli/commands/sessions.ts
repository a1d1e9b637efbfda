// `airlock sessions list|show|reset|clear`: agent sessions and their labels (docs/sessions.md). While Airlock runs, through the studio's API (the running proxy holds the
// sessions); otherwise on the shared store when one is configured, else the state folder's journal. Clearing a label and resetting a
// session are recorded in the audit log either way.
import { terminalText, terminalJson } from '../../lib/text.ts';
import type { Command } from 'commander';
import { sharedState, sharedStoreUrl } from '../../runtime/cli-stores.ts';
import { AuditLog } from '../../state/audit-log.ts';
import { PgAuditTrail } from '../../state/postgres/audit.ts';
import { PgSessions } from '../../state/postgres/sessions.ts';
import type { AgentSessions, AuditTrail } from '../../state/stores.ts';
import { StateFileError } from '../../state/document.ts';
import { clearLabelAudited, JournalSessionStore, resetAudited, SessionError, type SessionRecord, type SessionSummary } from '../../state/sessions.ts';
import { CliError } from '../errors.ts';
import { channel, type CommonOpts } from '../studio-client.ts';

async function offline<T>(home: string, fn: (store: AgentSessions, audit: AuditTrail) => Promise<T>): Promise<T> {
  let store: AgentSessions | undefined;
  let audit: AuditTrail | undefined;
  try {
    // With a shared store (config.json "store", AIRLOCK_STORE) the sessions are the replicas' ones.
    const url = sharedStoreUrl(home);
    if (url) {
      const db = await sharedState(url);
      audit = new PgAuditTrail(db, home);
      store = await PgSessions.open(db, { flushMs: 0 });
    } else {
      audit = new AuditLog(home);
      store = JournalSessionStore.open(home, { flushMs: 0 });
    }
    return await fn(store, audit);
  } catch (err) {
    if (err instanceof SessionError || err instanceof StateFileError) throw new CliError(err.message);
    throw err;
  } finally {
    await store?.close();
    await audit?.close();
  }
}

function labelsText(s: Pick<SessionSummary, 'labels'>): string {
  const names = Object.keys(s.labels).sort();
  return names.length ? names.join(',') : '-';
}

function formatList(list: SessionSummary[]): string {
  if (!list.length) return 'no sessions\n';
  const rows = list.map((s) => [s.id, s.agent, s.ended ? 'ended' : 'live', labelsText(s), String(s.requests), String(s.links), s.last_seen]);
  const head = ['SESSION', 'AGENT', 'STATE', 'LABELS', 'REQUESTS', 'LINKS', 'LAST SEEN'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

function formatShow(s: SessionRecord): string {
  const lines = [
    `session ${s.id}  agent ${s.agent}  token ${s.token}  ${s.ended ? `ended ${s.ended.time} by ${s.ended.by}` : 'live'}`,
    `started ${s.started}, last seen ${s.last_seen}; ${s.requests} requests, ${s.egress_bytes} bytes out, ${s.links} links remembered`,
    'labels:',
    ...(Object.keys(s.labels).length ? Object.entries(s.labels).map(([l, a]) => `  ${l.padEnd(10)} since request ${a.request_id} to ${a.host} at ${a.time}`) : ['  (none)']),
    'timeline:',
  ];
  type Row = { time: string; text: string };
  const rows: Row[] = [
    ...s.timeline.map((e) => ({ time: e.time, text: `${e.method} ${e.url} → ${e.action ?? '-'}${e.rule ? ` (${e.rule})` : ''} ${e.outcome}${e.status !== undefined ? ` ${e.status}` : ''}${e.labels_added?.length ? `  +${e.labels_added.join(' +')}` : ''}  [${e.id}]` })),
    ...s.events.map((e) => ({ time: e.time, text: e.kind === 'added' ? `label ${e.label} arrived (request ${e.request_id} to ${e.host})` : e.kind === 'cleared' ? `label ${e.label} cleared by ${e.by}${e.reason ? `: ${e.reason}` : ''}` : `session reset by ${e.by}${e.reason ? `: ${e.reason}` : ''}` })),
  ].sort((a, b) => a.time.localeCompare(b.time));
  lines.push(...(rows.length ? rows.map((r) => `  ${r.time}  ${r.text}`) : ['  (nothing yet)']));
  return `${lines.map((l) => terminalText(l)).join('\n')}\n`;
}

export function register(program: Command): void {
  const cmd = program.command('sessions').description('agent sessions: their labels (untrusted, private, …), timelines, clearing a label, resetting');
  const common = (c: Command): Command => c.option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)').option('--studio <host:port>', 'the running studio (default: where this state folder\'s Airlock runs)');

  common(cmd.command('list').description('sessions, most recently active first').option('--agent <name>', 'only this agent\'s').option('--live', 'only sessions not reset').option('--json', 'as JSON'))
    .action(async (o: CommonOpts & { agent?: string; live?: boolean; json?: boolean }) => {
      const ch = await channel(o, false);
      const query = new URLSearchParams({ ...(o.agent ? { agent: o.agent } : {}), ...(o.live ? { live: 'true' } : {}) });
      const list = ch.kind === 'rest'
        ? (await ch.client.call<{ sessions?: SessionSummary[] }>('GET', `/api/sessions?${query}`)).sessions ?? []
        : await offline(ch.home, async (s) => s.list({ ...(o.agent ? { agent: o.agent } : {}), ...(o.live ? { live: true } : {}) }));
      process.stdout.write(o.json ? `${terminalJson(list)}\n` : formatList(list));
    });

  common(cmd.command('show <id>').description('one session: labels with the request that brought each, and its timeline').option('--json', 'as JSON'))
    .action(async (id: string, o: CommonOpts & { json?: boolean }) => {
      const ch = await channel(o, false);
      const s = ch.kind === 'rest'
        ? (await ch.client.call<{ session: SessionRecord }>('GET', `/api/sessions/${encodeURIComponent(id)}`)).session
        : await offline(ch.home, async (store) => store.get(id));
      process.stdout.write(o.json ? `${terminalJson(s)}\n` : formatShow(s));
    });

  common(cmd.command('reset <id>').description('end a session: the token\'s next request starts a new, empty one (recorded in the audit log)').option('--reason <text>', 'why (kept with the record)'))
    .action(async (id: string, o: CommonOpts & { reason?: string }) => {
      const ch = await channel(o, true);
      const s = ch.kind === 'rest'
        ? (await ch.client.call<{ session: SessionRecord }>('POST', `/api/sessions/${encodeURIComponent(id)}/reset`, { via: 'cli', ...(o.reason ? { reason: o.reason } : {}) })).session
        : await offline(ch.home, (store, audit) => resetAudited(store, audit, id, 'cli', o.reason));
      process.stdout.write(`session ${s.id} of agent ${s.agent} reset: its next request starts a new session\n`);
    });

  common(cmd.command('clear <id> <label>').description('clear a label from a session, e.g. after reading the untrusted content yourself (recorded in the audit log)').option('--reason <text>', 'why (kept with the record)'))
    .action(async (id: string, label: string, o: CommonOpts & { reason?: string }) => {
      const ch = await channel(o, true);
      const s = ch.kind === 'rest'
        ? (await ch.client.call<{ session: SessionRecord }>('POST', `/api/sessions/${encodeURIComponent(id)}/clear`, { label, via: 'cli', ...(o.reason ? { reason: o.reason } : {}) })).session
        : await offline(ch.home, (store, audit) => clearLabelAudited(store, audit, id, label, 'cli', o.reason));
      process.stdout.write(`label ${label} cleared from session ${s.id} (now: ${labelsText(s)})\n`);
    });
}
