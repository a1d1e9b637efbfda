// The grant rule, enforced by the engine for every policy: a human's "allow similar for N minutes"
// may turn into an allow only a request whose own decision — the policy's answer without any grant
// — is an `approve` of the same operation at the same or lower risk than the approval the grant
// came from. Never a critical or step-up approval, nor one caused by the session's history
// (`approval.because`: the trifecta); a high-risk one only when the human chose so explicitly when
// granting (the grant then records risk "high"). Nor a request whose operation cannot be read (an
// unparsed GraphQL or SQL body, git commands not seen whole, an override read several ways): its
// sameness with the approved one cannot be shown.
//
// The engine decides a request with grants in two steps: first without grants (the request's own
// decision), then — only if that is an approve some grant may stand in for — with exactly the grants
// that passed the checks below as `input.grants`. A policy that honours `input.grants` naively
// therefore still cannot let a grant widen what a human approved.
import { grantTarget, opaqueScope, opaqueTarget, operationScope, pathPatternCovers, scopeCovers, uncovered } from './grant-scope.ts';
import type { Grant, RequestDescription, Risk } from '../describe/types.ts';
import type { Decision } from './decision.ts';

export type { GrantNotes } from './decision.ts';

export const riskRank: Record<Risk, number> = { low: 1, medium: 2, high: 3, critical: 4 };

/** A credential directive as approvals and grants record it: the secret and its slot, never a value. */
export function credentialSlot(c: { secret: string; in: string; name?: string }): string {
  return `${c.secret} in ${c.in}${c.name ? ` ${c.name}` : ''}`;
}

/** The risk a grant covers up to. Grants stored before grants recorded it count as medium. */
export function grantRisk(g: Pick<Grant, 'risk'>): Risk {
  return g.risk && g.risk in riskRank ? g.risk : 'medium';
}

/**
 * Why a grant may not stand in for this request's own decision, or undefined when it may.
 * `nowMs` is the decision time (the request's time in replay).
 */
export function grantRefusal(g: Grant, d: RequestDescription, own: Decision, nowMs: number): string | undefined {
  if (!g || typeof g !== 'object' || typeof g.id !== 'string') return 'not a grant';
  if (own.action !== 'approve') return `the request's own decision is ${own.action}, not approve`;
  const risk = own.approval?.risk ?? 'medium';
  if (risk === 'critical') return 'critical requests are approved one at a time';
  if (own.approval?.step_up === true) return 'the policy asks for step-up (TOTP) on this request';
  // A hold that comes from the session's history (the trifecta) is about what this session has
  // read, which a grant — given for an operation, reusable across requests — never saw.
  if ((own.approval?.because?.length ?? 0) > 0) return 'the hold comes from what this session has read (approval.because): such requests are approved one at a time';
  if (riskRank[risk] > riskRank[grantRisk(g)]) return `the request is ${risk} risk and the grant covers up to ${grantRisk(g)}`;
  const expires = Date.parse(g.expires);
  if (!(expires > nowMs)) return 'the grant has expired';
  if (g.agent !== d.agent.id) return `the grant is for agent ${g.agent}`;
  // An agent removed and added again under the same name is another agent.
  if (g.agent_created !== undefined && g.agent_created !== d.agent.created) return `the grant was given to an earlier agent named ${g.agent} (registered ${g.agent_created}), since removed`;
  if (typeof g.method !== 'string' || g.method.toUpperCase() !== d.request.method.toUpperCase()) return `the grant is for method ${g.method}`;
  if (g.host !== d.request.host) return `the grant is for host ${g.host}`;
  // Another port or scheme of the same host may be another service.
  if (g.scheme !== undefined && g.scheme !== d.request.scheme) return `the grant is for ${g.scheme}, the request is ${d.request.scheme}`;
  if (g.port !== undefined && g.port !== d.request.port) return `the grant is for port ${g.port}, the request is for ${d.request.port}`;
  if (g.operation !== undefined) {
    const op = d.service?.operation;
    if (g.operation === 'unknown' || op !== g.operation) return `the grant is for operation ${g.operation}, the request is ${op ?? 'no recognized operation'}`;
  } else if (typeof g.path_pattern === 'string') {
    if (!pathPatternCovers(g.path_pattern, d.request.path)) return `the path does not match the grant's pattern ${g.path_pattern} (as sent, or as servers route it: a trailing "/", dots or spaces cut)`;
  } else {
    return 'the grant names neither an operation nor a path pattern';
  }
  const scope = operationScope(d);
  const opaque = opaqueScope(scope);
  if (opaque.length) return `what the request does cannot be read (${opaque.join(', ')}): such requests are approved one at a time`;
  if (!scopeCovers(g.scope, scope)) {
    const missing = uncovered(g, scope);
    return missing.length
      ? `the grant does not cover ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`
      : `the grant was given for ${(g.scope ?? []).slice(0, 5).join(', ')}, and this request is not that kind of request`;
  }
  // What it does first (the operation), then where (the place). A grant whose target is `""` was
  // given for a request that named no place (the key's default project, say): it does not cover
  // one that names a place. (Grants stored before targets were recorded have none: any place.)
  // Whose credentials: a grant given for a request sent with one secret does not cover one the policy
  // would send with another (a user policy choosing the service-role key over the anon key, say).
  if (Array.isArray(g.credentials)) {
    const approved = new Set(g.credentials);
    const extra = (own.credentials ?? []).map(credentialSlot).filter((c) => !approved.has(c));
    if (extra.length) return `the grant was given for a request sent with ${g.credentials.join(', ') || 'no secret'}; this one would carry ${extra.slice(0, 3).join(', ')}`;
  }
  // Whose account: the agent's own credentials the approved request carried (on a route Airlock
  // injects nothing into, the same call with another account's token acts for someone else).
  if (typeof g.own_credentials === 'string' && g.own_credentials !== (d.request.own_credentials ?? '')) {
    return g.own_credentials
      ? `the grant was given for a request sent with other credentials of the agent's own (or another organization, tenant or mode by cookie, or another MCP session); this one carries ${d.request.own_credentials ? 'different ones' : 'none'}`
      : "the grant was given for a request that carried no credential of the agent's own; this one carries one";
  }
  if (g.target !== undefined) {
    const target = grantTarget(d) ?? '';
    if (target !== g.target) return `the grant is for ${g.target || 'no named place'}, the request acts on ${target || 'no place its service names'}`;
    if (opaqueTarget(target)) return `where the request acts is not in it (${target}): such requests are approved one at a time`;
  }
  return undefined;
}
