// A request that lasts (a WebSocket tunnel, an upload streaming past the capture cap) was admitted
// and decided once, when it opened; the agent keeps sending on it for as long as it likes. Two
// things that stop the agent's next request stop it too:
// - its credentials, checked again every CREDENTIAL_RECHECK_MS, as the next request on a
//   keep-alive connection or tunnel would be: a token revoked (or an agent removed) ends it, here
//   or through another replica;
// - its decision: when another policy version goes live (a publish or a rollback, here or heard
//   from another replica), or a grant it was decided with is revoked or expires, the request is
//   decided again (without that grant), and one the policy now denies, or now holds for a human
//   when no human approved it, ends.
// The credentials are watched by proxy/credential-watch.ts (one timer for every exchange); this
// module adds the decision.
import type { AgentInfo, RequestDescription } from '../describe/types.ts';
import type { EngineDecision } from '../engine/decision.ts';
import { credentialsEnded } from './credential-watch.ts';
import { denial } from './refusals.ts';
import type { Rejection } from './enforcers.ts';
import type { Exchange } from './exchange.ts';

/** What the watch asks of the pipeline. */
export interface LastingChecks {
  authenticate(header: string | undefined): Promise<AgentInfo | undefined>;
  /** Calls `fn` whenever another policy version goes live; returns how to stop. */
  onPolicyReload(fn: () => void): () => void;
  /** Calls `fn` with the id of each grant revoked; returns how to stop. */
  onGrantRevoked(fn: (id: string) => void): () => void;
  decide(input: RequestDescription): Promise<EngineDecision>;
}

export interface LastingWatch {
  /** Settles with the refusal once the request must end (never, while it may go on). */
  ended: Promise<Rejection>;
  stop(): void;
}

/** Its credentials and its decision: settles once either says the request must end. */
export function watchLasting(checks: LastingChecks, x: Exchange): LastingWatch {
  const credentials = credentialsEnded(x, (c) => checks.authenticate(c));
  const decision = watchDecision(checks, x);
  const stop = (): void => {
    credentials.stop();
    decision.stop();
  };
  const ended = Promise.race([credentials.ended, decision.ended]);
  void ended.then(stop);
  return { ended, stop };
}

/**
 * Its decision alone (an exchange whose credentials are watched already): decided again when
 * another policy version goes live or a grant it was decided with is revoked or expires.
 */
export function watchDecision(checks: LastingChecks, x: Exchange): LastingWatch {
  let stopped = false;
  let offReload: (() => void) | undefined;
  let offGrants: (() => void) | undefined;
  let expiry: NodeJS.Timeout | undefined;
  const stop = (): void => {
    stopped = true;
    clearTimeout(expiry);
    offReload?.();
    offGrants?.();
  };
  const ended = new Promise<Rejection>((resolve) => {
    const end = (r: Rejection): void => {
      if (stopped) return;
      stop();
      resolve(r);
    };
    let described = x.described;
    if (!described) return;
    let deciding = 0;
    const decideAgain = (): void => {
      const mine = ++deciding;
      void checks.decide(described!).then((d) => {
        // Only the last version heard counts (publishes in quick succession).
        if (stopped || mine !== deciding) return;
        const version = d.policy_version ? ` (version ${d.policy_version})` : '';
        if (d.action === 'deny') {
          const r = denial(d);
          end({ ...r, detail: `the live policy${version} now denies this request: ${r.detail}; it was ended` });
        } else if (d.action === 'approve' && x.context?.audit.approval !== 'approved') {
          end({ ...denial(d), detail: `the live policy${version} now holds this request for a human, and none approved it: ${d.reason}; it was ended` });
        } else if (x.context) {
          // Still let through: the rest is metered by the budgets it now has (a budget lowered
          // after a stream opened applies to it at once).
          x.context.meteredLimits = d.rate_limits ?? [];
        }
      }, (err: Error) => {
        // The engine answers every failure with a deny; anything else fails closed the same way.
        if (!stopped && mine === deciding) end({ status: 403, type: 'policy-denied', title: 'Denied by policy', detail: `the request could not be decided again: ${err.message}; it was ended`, outcome: 'denied' });
      });
    };
    offReload = checks.onPolicyReload(decideAgain);
    if (!described.grants?.length) return;
    offGrants = checks.onGrantRevoked((id) => {
      if (!described!.grants.some((g) => g.id === id)) return;
      described = { ...described!, grants: described!.grants.filter((g) => g.id !== id) };
      decideAgain();
    });
    // A grant ends by itself at its expiry (the policy compares it with the engine's clock).
    const armExpiry = (): void => {
      const next = Math.min(...described!.grants.map((g) => Date.parse(g.expires)).filter((ms) => ms > Date.now()));
      if (!Number.isFinite(next)) return;
      expiry = setTimeout(() => {
        decideAgain();
        armExpiry();
      }, Math.min(next - Date.now() + 50, 24 * 3600_000)).unref();
    };
    // One that ended between the decision and now (a loaded machine, a grant about to expire):
    // the request was decided with it, so it is decided again at once.
    if (described.grants.some((g) => !(Date.parse(g.expires) > Date.now()))) decideAgain();
    armExpiry();
  });
  return { ended, stop };
}
