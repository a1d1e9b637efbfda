// A request that lasts (a WebSocket tunnel, an upload streaming past the capture cap) was admitted
// and decided once, when it opened; the agent keeps sending on it for as long as it likes. Two
// things that stop the agent's next request stop it too:
// - its credentials, checked again every CREDENTIAL_RECHECK_MS, as the next request on a
//   keep-alive connection or tunnel would be: a token revoked (or an agent removed) ends it, here
//   or through another replica;
// - the policy: when another version goes live (a publish or a rollback, here or heard from
//   another replica), the request is decided again, and one the live policy now denies, or now
//   holds for a human when no human approved it, ends.
import type { RequestDescription } from '../describe/types.ts';
import type { EngineDecision } from '../engine/decision.ts';
import type { AgentInfo } from '../describe/types.ts';
import { denial, refusals } from './refusals.ts';
import type { Rejection } from './enforcers.ts';
import type { Exchange } from './exchange.ts';

/** How often a lasting request's credentials are checked again (the directory's own re-read is 1 s). */
export const CREDENTIAL_RECHECK_MS = 1000;

/** What the watch asks of the pipeline. */
export interface LastingChecks {
  authenticate(header: string | undefined): Promise<AgentInfo | undefined>;
  /** Calls `fn` whenever another policy version goes live; returns how to stop. */
  onPolicyReload(fn: () => void): () => void;
  decide(input: RequestDescription): Promise<EngineDecision>;
}

export interface LastingWatch {
  /** Settles with the refusal once the request must end (never, while it may go on). */
  ended: Promise<Rejection>;
  stop(): void;
}

export function watchLasting(checks: LastingChecks, x: Exchange): LastingWatch {
  const credential = x.tunnel ? x.tunnel.credential : x.head.headers['proxy-authorization'];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let offReload: (() => void) | undefined;
  const stop = (): void => {
    stopped = true;
    clearTimeout(timer);
    offReload?.();
  };
  const ended = new Promise<Rejection>((resolve) => {
    const end = (r: Rejection): void => {
      if (stopped) return;
      stop();
      resolve(r);
    };
    const check = (): void => {
      void checks.authenticate(credential).then(
        (agent) => (agent?.id === x.agent?.id ? undefined : 'the agent\'s credentials are no longer valid'),
        (err: Error) => `the agent's credentials could not be checked again: ${err.message}`,
      ).then((why) => {
        if (stopped) return;
        if (why) end(refusals.unauthenticated(why));
        else timer = setTimeout(check, CREDENTIAL_RECHECK_MS).unref();
      });
    };
    timer = setTimeout(check, CREDENTIAL_RECHECK_MS).unref();
    const described = x.described;
    if (!described) return;
    let deciding = 0;
    offReload = checks.onPolicyReload(() => {
      const mine = ++deciding;
      void checks.decide(described).then((d) => {
        // Only the last version heard counts (publishes in quick succession).
        if (stopped || mine !== deciding) return;
        const version = d.policy_version ? ` (version ${d.policy_version})` : '';
        if (d.action === 'deny') {
          const r = denial(d);
          end({ ...r, detail: `the live policy${version} now denies this request: ${r.detail}; it was ended` });
        } else if (d.action === 'approve' && x.context?.audit.approval !== 'approved') {
          end({ ...denial(d), detail: `the live policy${version} now holds this request for a human, and none approved it: ${d.reason}; it was ended` });
        }
      });
    });
  });
  return { ended, stop };
}
