// `airlock approvals list|show|approve|deny|grants|revoke|webhook`.
//
// When Airlock is running, the CLI resolves approvals through the studio's REST API
// (cli/studio-client.ts), so the running proxy — which holds the agent's
// request — sees the resolution at once. When Airlock is not running, it works on the state
// documents directly (an approval given then is used by the agent's retry with Airlock-Approval).
// Running without a reachable studio is refused for changes: editing the file behind the running
// process's back would be lost.
import type { Command } from 'commander';
import type { AgentSessionAnswer, HeldBodyAnswer } from '../../studio/api/wire.ts';
import { base64Sections } from '../../studio/app/base64-text.ts';
import { forwardedHosts, oneHeaderNames } from '../../studio/app/forwarded-hosts.ts';
import { aspNetReading, phpReading, rackReading } from '../../studio/app/param-names.ts';
import { LOOKALIKE_PARTS, lookalikes, type Lookalike } from '../../studio/app/lookalikes.ts';
import { SHORT_HOST, hostEnd, shortHost } from '../../studio/app/host-end.ts';
import { laterCauses } from '../../studio/app/later-causes.ts';
import { grantScopeText, grantTiesText } from '../../studio/app/grant-scope.ts';
import type { TimelineEntry } from '../../state/sessions.ts';
import { lookalikesEscaped, terminalJson, terminalText as terminalOnly } from '../../lib/text.ts';

import { airlockRunning } from '../../runtime/running.ts';
import { cookieParamsText, cookieValuesText, roundedNumber, unseenBodyText, upgradeText } from '../../state/approval-body.ts';
import { percentU } from '../../describe/body.ts';
import { ApprovalError, ApprovalQueue, agentCredentialHeaders, bodyCut, type ApprovalRecord, type GrantRecord } from '../../state/approvals.ts';
import { StateFileError } from '../../state/document.ts';
import { resolveHome } from '../../state/home.ts';
import { TotpStore } from '../../state/totp.ts';
import { checkWebhookUrl, displayUrl } from '../../state/webhook.ts';
import { CliError } from '../errors.ts';
import { channel, type CommonOpts } from '../studio-client.ts';

type View = ApprovalRecord & { held?: boolean; needs_step_up?: boolean; cookies_unseen?: string };

/** Agent-chosen text for a terminal: controls and invisible characters escaped, look-alike letters in Latin words too. */
const terminalText = (text: string, lines = false): string => lookalikesEscaped(terminalOnly(text, lines));

/** Headers of the message's framing that Airlock sets or strips itself: not printed. */
const FRAMING_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'airlock-approval']);

async function withQueue<T>(home: string, fn: (q: ApprovalQueue) => Promise<T>): Promise<T> {
  let q: ApprovalQueue | undefined;
  try {
    q = await ApprovalQueue.open(home, { sweepMs: 0, totp: new TotpStore(home) });
    return await fn(q);
  } catch (err) {
    if (err instanceof ApprovalError || err instanceof StateFileError) throw new CliError(err.message);
    throw err;
  } finally {
    await q?.close();
  }
}

// ─── printing ──────────────────────────────────────────────────────────────────────────────────

function ago(iso: string): string {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

export function line(a: View): string {
  const what = a.summary.operation ? `${a.summary.operation} ` : '';
  const flags = [a.held ? 'held' : '', a.needs_step_up ? 'totp' : ''].filter(Boolean).join(',');
  // What the agent sent (path, operation) and the reason quoting it print as one line each.
  // A long host keeps its end, which says whose it is (`…bbbb.evil.example`), as on the studio's one-line places.
  return `${terminalText(`${a.id}  ${a.status.padEnd(8)} ${a.risk.padEnd(8)} ${a.agent}  ${what}${a.summary.method} ${shortHost(String(a.summary.host ?? ''))}${a.summary.path}  ${ago(a.created)}${flags ? `  [${flags}]` : ''}`)}\n    ${terminalText(a.reason)}`;
}

/**
 * `airlock approvals list`: one entry per approval, and under each waiting one that looks like
 * others of its agent (the same method, host and path) a line saying so and in what it differs: an
 * agent that sends two harmless requests and a third with `Stripe-Account: acct_1Attacker` printed
 * three lines that read alike, approved by id one after the other (the studio's cards say it).
 */
export function listText(list: View[]): string {
  const alike = lookalikes(list.filter((a) => a.status === 'pending'));
  return list.map((a) => {
    const l = alike.get(a.id);
    return l ? `${line(a)}\n    ${terminalText(lookalikeNote(a, l))}` : line(a);
  }).join('\n');
}

/** The look-alike note of one waiting approval (see lookalikes). */
function lookalikeNote(a: View, l: Lookalike): string {
  const others = `${l.others} other waiting request${l.others === 1 ? '' : 's'} of this agent ${l.others === 1 ? 'goes' : 'go'} to the same method, host and path`;
  return l.partial
    ? `look-alike: ${others}; what tells them apart is in their whole requests: read each (airlock approvals show ${a.id})`
    : l.own.length
      ? `LOOK-ALIKE: ${others}, and this one is unlike ${l.others === 1 ? 'it' : 'every one of them'} in ${l.own.slice(0, LOOKALIKE_PARTS).join(', ')}${l.own.length > LOOKALIKE_PARTS ? ` and ${l.own.length - LOOKALIKE_PARTS} more header(s)` : ''}: read it before approving (airlock approvals show ${a.id})`
      : `look-alike: ${others}; ${l.same ? `${l.same} of them ${l.same === 1 ? 'is' : 'are'} this very request` : 'each of its parts is also in another one'}, and each approval lets through only its own request`;
}

/**
 * `airlock approvals show`: details, and for a waiting approval that looks like others of its agent
 * the note `approvals list` prints under it: a person given an id (a notification, the webhook's
 * message) reads `show` and approves, never running `list`.
 */
export function showText(a: View, pending: View[], held?: HeldBodyAnswer, timeline?: TimelineEntry[]): string {
  const shown = details(a, held, timeline);
  if (a.status !== 'pending') return shown;
  const l = lookalikes([a, ...pending.filter((p) => p.id !== a.id && p.status === 'pending')]).get(a.id);
  return l ? `${shown}\n${terminalText(`alike      ${lookalikeNote(a, l)}`)}` : shown;
}

/** `query` (escapes undone) and `rack query` (`;` separating too) lines for a URL, when they read otherwise than it. */
function queryLines(url: string): string[] {
  let search: string;
  try {
    search = new URL(url).search;
  } catch {
    return [];
  }
  const list = (text: string): string => [...new URLSearchParams(text)].map(([k, v]) => `${k} = ${v}`).join(', ');
  // The names PHP and ASP.NET register parameters under (`mail.to` is `mail_to`, `TO` is `to`) and the value each uses.
  const params = [...new URLSearchParams(search.slice(1))];
  const php = phpReading(params);
  const asp = aspNetReading(params);
  const rackNames = rackReading([...new URLSearchParams(search.slice(1).replaceAll(';', '&'))]);
  return [
    ...(/[%+]/.test(search) ? [`query      ${list(search.slice(1))}`] : []),
    ...(search.includes(';') ? [`rack query ${list(search.slice(1).replaceAll(';', '&'))} (Rack 2: Rails, Sinatra read ";" as "&")`] : []),
    ...(/%u[0-9a-f]{4}/i.test(search) ? [`iis query  ${[...new URLSearchParams(search.slice(1))].map(([k, v]) => `${percentU(k)} = ${percentU(v)}`).join(', ')} (classic ASP.NET, IIS: %uXXXX undone too)`] : []),
    ...(php ? [`php query  ${php.map(([k, v]) => `${k} = ${v}`).join(', ')} (PHP drops a blank before a name, reads "." and blanks in it as "_", uses the last of a name)`] : []),
    ...(asp ? [`asp query  ${asp.map(([k, v]) => `${k} = ${v}`).join(', ')} (ASP.NET: names in any letter case are one, values joined by commas)`] : []),
    ...(rackNames ? [`rack names ${rackNames.map(([k, v]) => `${k} = ${v}`).join(', ')} (Rack 2: Rails, Sinatra drop brackets around a name, use the last of a name)`] : []),
  ];
}

/**
 * Why the held body `airlock approvals show` prints is not all of it, or undefined: a binary body
 * (its bytes are not printed; the studio shows them as a hex dump). Approving it from the terminal
 * then needs --accept-unseen-body, as the studio's card needs its bytes on screen.
 */
export function heldUnseen(held: HeldBodyAnswer | undefined): string | undefined {
  if (!held || held.text !== undefined || held.base64 === undefined) return undefined;
  return `the body is ${held.decoded_size ?? held.captured} bytes of binary, which the terminal does not print: read it in the studio (a hex dump, or download it)`;
}

/**
 * One approval as a person reads it before approving. `held`: the held request's body from the
 * running studio (GET …/body), printed as sent and, when it differs, as its server reads it (form
 * fields and JSON strings unescaped, multipart parts decoded, another charset decoded).
 */
/**
 * "Why a human is needed", as on the card: each label the session read, the first request that
 * brought it, and (with the session's timeline, from the running studio) every later one up to the
 * approval, or that the timeline no longer goes back that far (laterCauses).
 */
function whyLines(a: View, timeline: TimelineEntry[] | undefined): string[] {
  if (!a.because?.length) return [];
  const labels = a.description.session?.labels ?? {};
  const sessionId = a.session ?? a.description.session?.id;
  const out: string[] = [];
  for (const id of a.because) {
    const found = Object.entries(labels).find(([, arr]) => arr.request_id === id);
    if (!found) {
      out.push(`request ${id}`);
      continue;
    }
    const [label, first] = found;
    out.push(`${label} first from request ${id} to ${first.host} at ${first.time}`);
    if (!timeline) {
      out.push(`${label} again: later requests may have brought it; read them with airlock sessions show ${sessionId ?? '(the session)'}`);
      continue;
    }
    const { later, cut } = laterCauses(timeline, id, label, a.created);
    for (const e of later.slice(-20)) out.push(`${label} again from ${e.method} ${e.url} at ${e.time}`);
    if (later.length > 20) out.push(`${label} again from ${later.length - 20} earlier ones (airlock sessions show ${sessionId ?? '(the session)'})`);
    if (cut) out.push(`${label}: the session keeps only its last ${timeline.length} requests${timeline.length ? ` (from ${timeline[0]!.time})` : ''}: any between the first one and those may have brought it again and cannot be listed (the audit log has them)`);
    else if (!later.length) out.push(`${label}: no later request brought it`);
  }
  return out.map((l, i) => `${i ? '          ' : 'why       '} ${l}`);
}

export function details(a: View, held?: HeldBodyAnswer, timeline?: TimelineEntry[]): string {
  const r = a.description.request;
  const own = agentCredentialHeaders(a);
  const out = [
    `approval   ${a.id}`,
    `status     ${a.status}${a.held ? ' (request held now)' : ''}${a.used_at ? ` (used ${a.used_at})` : ''}`,
    `agent      ${a.agent}`,
    `request    ${r.method} ${r.url}`,
    // A long host wraps on the terminal with its start in sight: whose name it is, apart.
    ...(String(r.host ?? '').length > SHORT_HOST && hostEnd(r.host)[0] ? [`host ends  ${hostEnd(r.host)[1]} (the host is a name of ${hostEnd(r.host)[1]}, whatever its start says)`] : []),
    // The query as servers read it: escapes undone, and as Rack 2 splits it (at `;` as at `&`).
    ...queryLines(r.url),
    // What the server runs when it is not the request line.
    ...(r.method_override ? [`runs as    ${r.method_override.values.join(' or ') || '?'} (method override in ${r.method_override.sources.join(', ')}${r.method_override.ambiguous ? `; ambiguous${r.method_override.reason ? `: ${r.method_override.reason}` : ''}` : ''})`] : []),
    ...Object.entries(r.headers ?? {})
      .filter(([n]) => ['x-original-url', 'x-rewrite-url'].includes(n.toLowerCase().replaceAll('_', '-')))
      .map(([n, v]) => `acts on    ${v.join(', ')} (the ${n} header names this path, not the request line's)`),
    ...forwardedHosts(r.headers ?? {}, r.host, r.port).map(([n, h]) => `acts for   host ${h} (the ${n} header names it, not ${r.host}: servers that trust forwarding headers serve that host)`),
    ...oneHeaderNames(r.headers ?? {}).map((names) => `one header ${names.join(' and ')} (CGI, PHP-FPM, Python's wsgiref and Rack read them as one header, the first or the last of their values, as the order sent decides; listed apart below)`),
    ...(Array.isArray(r.cookie_params) && r.cookie_params.length ? [`reads      ${r.cookie_params.join(', ')} from a cookie, maybe (PHP's $_REQUEST takes a cookie over the query and form without a php.ini; classic ASP.NET's Request[…] where they lack it): cookie values are not shown`] : []),
    ...(a.description.service ? [`operation  ${a.description.service.name}:${a.description.service.operation} (${a.description.service.effect})`] : []),
    ...(a.description.sql ? [`sql        ${a.description.sql.statements.map((s) => s.kind).join(', ')}${a.description.sql.destructive ? ' (destructive)' : ''}`] : []),
    // Every call of a batch, with the SQL each one carries.
    ...(a.description.mcp
      ? (a.description.mcp.batch ?? [a.description.mcp]).map((c, i) => `${i ? '          ' : 'mcp       '} ${c.method}${c.tool ? ` ${c.tool}` : ''}${
        c.sql ? ` — sql: ${c.sql.statements.map((s) => `${s.kind}${s.tables.length ? ` ${s.tables.join(',')}` : ''}`).join('; ')}${c.sql.parsed ? '' : ' (not readable: treat as destructive)'}` : ''}`)
      : []),
    // Every GraphQL operation it may run, or that what runs is not in the request (a persisted query).
    ...(a.description.graphql
      ? [`graphql    ${a.description.graphql.batch ? `a batch of ${a.description.graphql.batch}: ` : ''}${[...(a.description.graphql.operations ?? []).map((o) => `${o.type}${o.name ? ` ${o.name}` : ''} (${o.fields.join(', ')})`), ...(a.description.graphql.parsed ? [] : [`what the server runs is not in the request (${a.description.graphql.error ?? 'not readable'}): treat it as any mutation`])].join('; ')}`]
      : []),
    // Whose credentials it acts with: a secret of yours Airlock adds, or the agent's own (redacted alike below).
    ...(a.credentials ?? []).map((c) => `secret     ${c.secret} → ${c.in === 'header' ? `header ${c.name ?? ''}` : c.in === 'basic' ? 'Basic authorization' : c.in === 'query' ? `query ${c.name ?? ''}` : 'the body'} (yours, added by Airlock)`),
    ...(own.length ? [`own cred   ${own.join(', ')}: the agent's own credential, not one of your secrets — the request acts as whoever it belongs to`] : []),
    // Every header that reaches the server (credentials redacted): one can change what the request does.
    ...Object.entries(r.headers ?? {})
      .filter(([n]) => !FRAMING_HEADERS.has(n.toLowerCase()))
      .flatMap(([n, vs]) => vs.map((v) => `header     ${n}: ${v}`)),
    // Cookie values the record keeps redacted, while held (from memory): an account or tenant beside the session.
    ...(a.status === 'pending' && 'held_cookies' in a && Array.isArray(a.held_cookies) && a.held_cookies.length
      ? [`cookies    ${a.held_cookies.map(([n, v]) => `${n}=${v}`).join('; ')} (values while held, of the cookies neither named nor shaped as a session or credential; never recorded)`]
      : []),
    `body       ${r.body.size} bytes ${r.body.content_type}${r.body.truncated ? ' (truncated)' : ''}`,
    `reason     ${a.reason}`,
    // Held because of what its session read: every request that brought the labels, not only the first.
    ...whyLines(a, timeline),
    ...(a.rule ? [`rule       ${a.rule}`] : []),
    `risk       ${a.risk}${a.step_up ? ' (step-up)' : ''}${a.needs_step_up ? ' — approving needs --totp CODE' : a.step_up && a.status === 'pending' ? ' — no TOTP enrolled, so no code is asked: airlock totp enroll' : ''}`,
    // What --grant-minutes would let through later, unseen: said before it is given, as on the card.
    ...(a.status === 'pending' ? [`grant      ${grantScopeText(a) ? `--grant-minutes N would let through, for N minutes: ${grantScopeText(a)}` : 'none: this request is approved one at a time (critical, step-up, or held for what its session read)'}`] : []),
    `created    ${a.created}`,
    `hold ends  ${a.expires}`,
    `approvable until ${a.retry_until}`,
  ];
  if (a.resolution) out.push(`resolved   by ${a.resolution.by} at ${a.resolution.at}${a.resolution.message ? `: ${a.resolution.message}` : ''}${a.resolution.grant_id ? ` (grant ${a.resolution.grant_id})` : ''}`);
  // Each field one line, the body's own lines below its heading: nothing the agent sent can move
  // the cursor, erase or rewrite a line above (the operation, the risk) or print a forged one.
  const shown = out.map((l) => terminalText(l));
  // All of what the record keeps: a cut at a few thousand characters hid what came after it.
  const preview = r.body.json !== undefined ? JSON.stringify(r.body.json, null, 2) : r.body.form !== undefined ? JSON.stringify(r.body.form, null, 2) : r.body.text;
  const rounded = r.body.json !== undefined ? roundedNumber(r.body.json) : undefined;
  if (rounded !== undefined) shown.push(terminalText(`warning    the preview below holds ${rounded}, an integer past 2^53 kept rounded: the digits sent may differ`));
  if (r.body.ambiguous) {
    shown.push(terminalText(`warning    servers read this body in more than one way (${(r.body.ambiguous_reasons ?? []).map((x) => x.detail).join('; ')}): the preview below is one reading of it`));
  }
  // Without the held bytes, what the record's copy cannot show (a cut preview, a charset's reading,
  // XML or YAML as written): said before the preview, as approving it will ask.
  const unseen = (!held && a.status === 'pending' && rounded === undefined && !r.body.ambiguous ? unseenBodyText(r.body, undefined, bodyCut(a)) : undefined)
    ?? (a.status === 'pending' ? cookieParamsText(r) ?? upgradeText(r) ?? ('held' in a ? a.cookies_unseen : cookieValuesText(r, undefined)) : undefined);
  if (unseen) shown.push(terminalText(`warning    ${unseen}: approving it needs --accept-unseen-body`));
  if (held?.text !== undefined && held.text !== preview) shown.push('', `body as sent${held.content_encoding?.length && !held.decode_error ? ` (decoded from ${held.content_encoding.join(', ')})` : ''}:`, terminalText(held.text, true));
  else if (preview) shown.push('', r.body.text_truncated && preview === r.body.text ? `body preview (its first ${preview.length} characters; the rest is not in the record):` : 'body preview:', terminalText(preview, true));
  if (held?.decode_error) shown.push('', terminalText(`warning    ${held.decode_error}: the server's reading is unknown`));
  if (held?.reading_error) shown.push('', terminalText(`warning    ${held.reading_error}`));
  if (held?.reading) shown.push('', terminalText(`as the server reads it (${held.reading.how}):`), terminalText(held.reading.text, true));
  else if (!held) {
    // Only the record's parsed copy: its base64 strings (a Gmail raw message, a file's content) decoded.
    const b64 = base64Sections(r.body.json ?? r.body.form);
    if (b64.length) shown.push('', 'as the server reads it (base64 strings decoded):', terminalText(b64.join('\n'), true));
  }
  if (heldUnseen(held) && a.status === 'pending') shown.push('', terminalText(`warning    ${heldUnseen(held)}: approving it needs --accept-unseen-body`));
  // Query values the server decodes from base64 (a `?payload=`), as the body's.
  const queryB64 = r.query && typeof r.query === 'object' ? base64Sections(r.query) : [];
  if (queryB64.length) shown.push('', 'the query as the server reads it (base64 values decoded):', terminalText(queryB64.join('\n'), true));
  return shown.join('\n');
}

function grantLine(g: GrantRecord): string {
  // (And what it is tied to: which tool, recipient or object on that URL; twenty-second pass.)
  return `${terminalText(`${g.id}  ${g.agent}  ${g.method} ${g.host} ${g.operation ?? g.path_pattern}  until ${g.expires}`)}\n    ${terminalText(grantTiesText(g))}`;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`--grant-minutes ${v}: expected a whole number of minutes`);
  return n;
}

// ─── commands ──────────────────────────────────────────────────────────────────────────────────

const common = (c: Command): Command =>
  c.option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)').option('--studio <host:port>', 'the running studio (default from config.json, else 127.0.0.1:8081)');

export function register(program: Command): void {
  const approvals = program.command('approvals').description('list and resolve requests held for human approval');

  common(approvals.command('list').description('list approvals (pending by default)'))
    .option('--all', 'every status, not only pending')
    .option('--status <status>', 'pending | approved | denied | expired')
    .option('--json', 'machine-readable output')
    .action(async (opts: CommonOpts & { all?: boolean; status?: string; json?: boolean }) => {
      const status = opts.all ? undefined : (opts.status ?? 'pending');
      if (status && !['pending', 'approved', 'denied', 'expired'].includes(status)) throw new CliError(`--status ${status}: expected pending, approved, denied or expired`);
      const ch = await channel(opts, false);
      let list: View[];
      if (ch.kind === 'rest') {
        const r = await ch.client.call<{ available: boolean; reason?: string; approvals?: View[] }>('GET', `/api/approvals${status ? `?status=${status}` : ''}`);
        if (!r.available) throw new CliError(r.reason ?? 'approvals are not available in the running Airlock');
        list = r.approvals ?? [];
      } else {
        list = await withQueue(ch.home, async (q) => q.list(status ? { status: status as ApprovalRecord['status'] } : {}).map((a) => ({ ...a, needs_step_up: a.status === 'pending' && q.needsStepUp(a) })));
      }
      if (opts.json) return print(terminalJson(list));
      if (!list.length) return print(status ? `no ${status} approvals` : 'no approvals');
      print(listText(list));
    });

  common(approvals.command('show').description('show one approval with the request it holds').argument('<id>', 'approval id (or a unique prefix)'))
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: CommonOpts & { json?: boolean }) => {
      const ch = await channel(opts, false);
      const a = ch.kind === 'rest'
        ? (await ch.client.call<{ approval: View }>('GET', `/api/approvals/${encodeURIComponent(id)}`)).approval
        : await withQueue(ch.home, async (q) => {
          const r = q.get(id);
          const description = (await q.fullDescription(r.id)) ?? r.description;
          return { ...r, description, needs_step_up: r.status === 'pending' && q.needsStepUp(r) };
        });
      // While the request is held its bytes are there: printed as sent and as the server reads them.
      const held = ch.kind === 'rest' && 'held' in a && a.held && a.description.request.body.size > 0 && !opts.json
        ? await ch.client.call<HeldBodyAnswer>('GET', `/api/approvals/${encodeURIComponent(a.id)}/body`).catch(() => undefined)
        : undefined;
      // Held because of what its session read: the session's timeline names the later requests that brought the labels.
      const session = a.session ?? a.description.session?.id;
      const timeline = ch.kind === 'rest' && a.because?.length && session && !opts.json
        ? await ch.client.call<AgentSessionAnswer>('GET', `/api/sessions/${encodeURIComponent(session)}`).then((s) => (Array.isArray(s.session?.timeline) ? s.session.timeline : undefined)).catch(() => undefined)
        : undefined;
      // The other waiting approvals, for the look-alike note `list` prints.
      const pending = opts.json || a.status !== 'pending' ? [] : ch.kind === 'rest'
        ? ((await ch.client.call<{ approvals?: View[] }>('GET', '/api/approvals?status=pending').catch(() => ({ approvals: [] }))).approvals ?? [])
        : await withQueue(ch.home, async (q) => q.list({ status: 'pending' }));
      print(opts.json ? terminalJson(a) : showText(a, pending, held, timeline));
    });

  common(approvals.command('approve').description('approve a held request (once), optionally granting similar requests for a while').argument('<id>', 'approval id (or a unique prefix)'))
    .option('--message <text>', 'note recorded with the approval')
    .option('--grant-minutes <n>', 'also allow similar requests (same agent, method, host and operation or path) for N minutes', positiveInt)
    .option('--path-pattern <pattern>', 'for the grant: path pattern instead of the operation (* = within one segment, ** = across segments)')
    .option('--grant-high', 'allow a grant for a high-risk request (an explicit choice; critical and step-up requests never get grants)')
    .option('--totp <code>', 'TOTP code, required for critical or step-up approvals once `airlock totp enroll` was run')
    .option('--accept-unseen-body', 'approve although the body cannot be shown whole (past the capture cap, or only a preview is kept)')
    .action(async (id: string, opts: CommonOpts & { message?: string; grantMinutes?: number; pathPattern?: string; grantHigh?: boolean; totp?: string; acceptUnseenBody?: boolean }) => {
      const ch = await channel(opts, true);
      let result: { approval: View; grant?: GrantRecord };
      try {
        if (ch.kind === 'rest') {
          // A held binary body is not printed by `show`: approving it unseen is a choice, as on the card.
          if (!opts.acceptUnseenBody) {
            const shown = (await ch.client.call<{ approval: View }>('GET', `/api/approvals/${encodeURIComponent(id)}`)).approval;
            const held = shown.held && shown.description.request.body.size > 0
              ? await ch.client.call<HeldBodyAnswer>('GET', `/api/approvals/${encodeURIComponent(shown.id)}/body`).catch(() => undefined)
              : undefined;
            const unseen = heldUnseen(held);
            if (unseen) throw new CliError(`not approved: ${unseen}. Deny it, or pass --accept-unseen-body to approve it knowingly`);
          }
          result = await ch.client.call('POST', `/api/approvals/${encodeURIComponent(id)}/approve`, {
            via: 'cli', message: opts.message, totp: opts.totp, grant_minutes: opts.grantMinutes, path_pattern: opts.pathPattern,
            ...(opts.grantHigh ? { grant_high: true } : {}),
            ...(opts.acceptUnseenBody ? { accept_unseen_body: true } : {}),
          });
        } else {
          result = await withQueue(ch.home, async (q) => {
            // Nothing is held while Airlock is stopped: only the record's preview exists.
            const record = q.get(id);
            // What `airlock approvals show` prints: the whole description, not the record's shortened copy.
            const whole = (await q.fullDescription(record.id)) ?? record.description;
            const unseen = (unseenBodyText(record.description.request.body, undefined, bodyCut(record))
              && unseenBodyText(whole.request.body, undefined)) || cookieParamsText(whole.request) || upgradeText(whole.request) || cookieValuesText(whole.request, undefined);
            if (unseen && !opts.acceptUnseenBody) throw new CliError(`not approved: ${unseen}. Deny it, or pass --accept-unseen-body to approve it knowingly`);
            return q.approve(id, {
            by: 'cli',
            ...(opts.message ? { message: opts.message } : {}),
            ...(opts.totp ? { totp: opts.totp } : {}),
            ...(opts.grantMinutes ? { grantMinutes: opts.grantMinutes } : {}),
            ...(opts.pathPattern ? { pathPattern: opts.pathPattern } : {}),
            ...(opts.grantHigh ? { grantHigh: true } : {}),
            });
          });
        }
      } catch (err) {
        // The queue's message is shared with the studio; on the command line, name the flag.
        if (err instanceof CliError && !opts.totp && /needs a TOTP code$/.test(err.message)) {
          throw new CliError(`${err.message}: pass --totp CODE (the 6 digits your authenticator app shows for Airlock)`);
        }
        throw err;
      }
      const a = result.approval;
      const where = ch.kind === 'rest' ? (a.used_at ? 'the held request is on its way' : 'no request is held now: the agent can retry with Airlock-Approval') : 'Airlock is not running: the agent can retry with Airlock-Approval';
      print(`approved ${a.id} (${a.summary.method} ${a.summary.host}${a.summary.path}) — ${where}`);
      if (result.grant) print(`granted ${result.grant.id}: ${grantLine(result.grant)}`);
    });

  common(approvals.command('deny').description('deny a held request; the message reaches the agent').argument('<id>', 'approval id (or a unique prefix)'))
    .option('--message <text>', 'why (shown to the agent in the 403 response)')
    .action(async (id: string, opts: CommonOpts & { message?: string }) => {
      const ch = await channel(opts, true);
      const a: View = ch.kind === 'rest'
        ? (await ch.client.call<{ approval: View }>('POST', `/api/approvals/${encodeURIComponent(id)}/deny`, { via: 'cli', message: opts.message })).approval
        : await withQueue(ch.home, (q) => q.deny(id, { by: 'cli', ...(opts.message ? { message: opts.message } : {}) }));
      print(`denied ${a.id} (${a.summary.method} ${a.summary.host}${a.summary.path})`);
    });

  common(approvals.command('grants').description('list active grants (similar requests a human allowed for a while)'))
    .option('--json', 'machine-readable output')
    .action(async (opts: CommonOpts & { json?: boolean }) => {
      const ch = await channel(opts, false);
      const list = ch.kind === 'rest'
        ? ((await ch.client.call<{ grants?: GrantRecord[] }>('GET', '/api/grants')).grants ?? [])
        : await withQueue(ch.home, async (q) => q.grants());
      if (opts.json) return print(terminalJson(list));
      print(list.length ? list.map(grantLine).join('\n') : 'no active grants');
    });

  common(approvals.command('revoke').description('revoke a grant before it expires').argument('<grant-id>'))
    .action(async (id: string, opts: CommonOpts) => {
      const ch = await channel(opts, true);
      if (ch.kind === 'rest') await ch.client.call('DELETE', `/api/grants/${encodeURIComponent(id)}`);
      else await withQueue(ch.home, (q) => q.revokeGrant(id));
      print(`revoked ${id}`);
    });

  approvals
    .command('webhook')
    .description('set the URL notified (JSON POST) of every new approval; read when Airlock starts')
    .argument('[url]', 'http(s) URL; omit to show the current one')
    .option('--clear', 'stop notifying')
    .option('--home <dir>', 'state folder (default .airlock or AIRLOCK_HOME)')
    .action(async (url: string | undefined, opts: { clear?: boolean; home?: string }) => {
      const home = resolveHome(opts.home);
      if (url) {
        try {
          checkWebhookUrl(url);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
      }
      if (await airlockRunning(home) && (url || opts.clear)) {
        throw new CliError('stop Airlock first (the webhook setting lives in the approvals state file the running proxy owns), or set AIRLOCK_APPROVAL_WEBHOOK');
      }
      await withQueue(home, async (q) => {
        if (url || opts.clear) await q.setWebhook(opts.clear ? undefined : url);
        const now = q.settings.webhook;
        print(now ? `approval webhook: ${displayUrl(now)}` : 'no approval webhook');
      });
    });
}
