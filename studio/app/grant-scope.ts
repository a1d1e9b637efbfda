// What "Allow similar" (a grant) would let through, in words, for the approval card and `airlock
// approvals show` (pure: bundled into the browser app and imported by the CLI).
import type { ApprovalView, GrantRecord } from '../api/wire.ts';

type Approval = Pick<ApprovalView, 'agent' | 'risk' | 'step_up' | 'because' | 'description'>;

/**
 * What "Allow similar" would let through, in words (state/approvals.ts planGrant): a recognized
 * operation in the same place, or — where Airlock reads no operation — every request to this exact
 * path naming the same places with the same credentials of the agent's own, whatever else its query,
 * body and headers say. Undefined when no grant is given for it.
 */
export function grantScopeText(a: Approval, show: (text: string) => string = (t) => t): string | undefined {
  if (a.risk === 'critical' || a.step_up === true || (a.because?.length ?? 0) > 0) return undefined;
  const d = a.description ?? {};
  const r = d.request ?? {};
  const op = d.service?.operation;
  const who = `agent ${show(a.agent || '?')}`;
  if (op && op !== 'unknown') {
    return `${who}'s ${show(r.method)} requests to ${show(r.host)} of operation ${show(op)}, in the same place as this one (repository, channel, table, recipients) and with the same switches (dry run, preview, mode), at ${a.risk ?? 'this'} risk or lower — whatever else their path, query, body and headers say`;
  }
  // engine/grant-scope.ts objectElsewhere: a change's query and body id are part of its target.
  const change = ['PUT', 'PATCH', 'DELETE'].includes(String(r.effective_method ?? r.method ?? '').toUpperCase());
  const rest = change ? 'body and headers' : 'query, body and headers';
  // An MCP call's endpoint query and session are compared too (twenty-fifth pass: engine/grant-scope.ts
  // endpointQuery; the session in describe/describe.ts ownCredentials).
  const mcp = d.mcp !== undefined;
  const headers: Record<string, unknown> = r.headers && typeof r.headers === 'object' ? r.headers : {};
  const query: Record<string, unknown> = r.query && typeof r.query === 'object' ? r.query : {};
  const session = Object.keys(headers).some((n) => n.toLowerCase().replace(/_/g, '-') === 'mcp-session-id') || Object.keys(query).some((n) => /^(?:mcp)?sessionid$/.test(n.toLowerCase().replace(/[-_.\s]/g, '')));
  return `every ${show(r.method)} request of ${who} to ${show(r.host)}${show(r.path)} — this exact path${mcp ? ' and URL query' : ''}, naming the same places in its query and body (recipients, channels, URLs)${change ? ', with the same query and the same object id in its body' : ''}, with the same switches (dry run, preview, mode) and sent with the same credentials and account cookies of the agent's own${session ? ', in the same MCP session (a new session asks again)' : ''}, whatever else its ${rest} say (Airlock reads no operation on this route)`;
}


/**
 * What an active grant is tied to, for the grants list (the studio's and `airlock approvals grants`;
 * twenty-second pass): the risk it covers up to, the operations of its scope and the place of its
 * target (engine/grant-scope.ts), as recorded. A list naming only the method, host and path hid
 * which tool, recipient or object a grant on one URL was for, and so which one to revoke.
 */
export function grantTiesText(g: Pick<GrantRecord, 'risk' | 'scope' | 'target'>): string {
  const scope = g.scope?.length ? `; only ${g.scope.join(', ')}` : '';
  const target = g.target === undefined ? '; anywhere (a grant stored before places were recorded)' : g.target === '' ? '; naming no place' : `; at ${g.target}`;
  return `up to ${g.risk ?? 'medium'} risk${scope}${target}`;
}
