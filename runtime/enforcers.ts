// THE enforcer list: every request runs it in this order (proxy/enforcers.ts says what an enforcer
// may do). The order is the design: the credential guard first, so a placeholder or secret value
// headed where it is not bound is refused before anyone is asked; then the approval hold, so a held
// request charges no limit and gets no credential until a human says yes; then rate limits; then
// credential injection, right before dialing, which also scrubs what comes back.
import { approvalEnforcer, type ApprovalChannel } from '../proxy/approval-enforcer.ts';
import { CredentialEnforcer, CredentialGuard } from '../proxy/credentials.ts';
import type { Enforcer } from '../proxy/enforcers.ts';
import { rateLimitEnforcer } from '../proxy/ratelimit-enforcer.ts';
import type { Services } from './services.ts';

export function builtinEnforcers(s: Pick<Services, 'secrets' | 'approvals' | 'limiter' | 'heldBodies'>, channel: () => ApprovalChannel | undefined): Enforcer[] {
  // The guard and the injector share what the guard found per request.
  const guard = new CredentialGuard(s.secrets);
  return [
    guard,
    approvalEnforcer(s.approvals, { channel, bodies: s.heldBodies }),
    rateLimitEnforcer(s.limiter),
    new CredentialEnforcer(s.secrets, guard),
  ];
}
