// THE enforcer list: every request runs it in this order (proxy/enforcers.ts says what an enforcer
// may do). The order is the design: the credential guard first, so a placeholder or secret value
// headed where it is not bound is refused before anyone is asked; then the approval hold, so a held
// request charges no limit and gets no credential until a human says yes; then rate limits; then
// credential injection, right before dialing, which also scrubs what comes back; sessions last, so
// a response's labels and links are taken as the agent gets it (scrubbed).
import { approvalEnforcer, type ApprovalChannel } from '../proxy/approval-enforcer.ts';
import { CredentialEnforcer, CredentialGuard } from '../proxy/credentials.ts';
import type { Enforcer } from '../proxy/enforcers.ts';
import { SecretProbe } from '../proxy/secret-probe.ts';
import type { AbortLike } from '../lib/abort-flag.ts';
import { rateLimitEnforcer } from '../proxy/ratelimit-enforcer.ts';
import { policyReadsProvenance, sessionEnforcer } from '../proxy/session-enforcer.ts';
import type { Services } from './services.ts';

export function builtinEnforcers(s: Pick<Services, 'secrets' | 'injections' | 'approvals' | 'limiter' | 'heldBodies' | 'sessions' | 'engine' | 'config'> & Partial<Pick<Services, 'agents' | 'audit'>>, channel: () => ApprovalChannel | undefined, stopping?: AbortLike): Enforcer[] {
  // The guard and the injector share what the guard found per request, and the tripwire on what
  // they hold back (a hold that keeps 10+ characters of a secret's start revokes the token).
  const agents = s.agents;
  const audit = s.audit;
  const guard = new CredentialGuard(s.secrets, new SecretProbe(agents ? (agent, token) => agents.revokeToken(agent, token) : undefined, audit ? (r) => audit.append(r) : undefined));
  return [
    guard,
    approvalEnforcer(s.approvals, { channel, bodies: s.heldBodies, ...(stopping ? { stopping } : {}) }),
    rateLimitEnforcer(s.limiter),
    new CredentialEnforcer(s.secrets, guard, s.injections),
    sessionEnforcer({ store: s.sessions, trackLinks: linkTracking(s) }),
  ];
}

/** Whether links are recorded now: config `provenance`, or ("auto") while the loaded policy reads request.provenance. */
function linkTracking(s: Pick<Services, 'engine' | 'config'>): () => boolean {
  const mode = s.config.provenance;
  let checked: string | undefined;
  let reads = false;
  return () => {
    if (mode !== 'auto') return mode === 'on';
    const version = s.engine.version;
    if (version !== checked) {
      checked = version;
      reads = policyReadsProvenance(s.engine.policy?.wasm);
    }
    return reads;
  };
}
