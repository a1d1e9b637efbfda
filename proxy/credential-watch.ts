// An exchange that lasts is one request that goes on: a WebSocket, and an HTTP exchange whose
// response (a server-sent event stream, a long download) or upload (a chunked body the agent keeps
// sending) streams for minutes. Its credentials are checked again every CREDENTIAL_RECHECK_MS,
// as the next request on a keep-alive connection or tunnel would be, and a token revoked (or an
// agent removed) meanwhile ends it: otherwise a revoked agent keeps a channel both ways open for
// as long as the upstream lets it.
import type { Rejection } from './enforcers.ts';
import type { Exchange } from './exchange.ts';
import { refusals } from './refusals.ts';
import type { AgentInfo } from '../describe/types.ts';

/** How often a lasting exchange's credentials are checked again (the directory's own re-read is 1 s). */
export const CREDENTIAL_RECHECK_MS = 1000;

export interface CredentialWatch {
  /** Resolves with the refusal once the credentials no longer authenticate this agent. */
  ended: Promise<Rejection>;
  stop(): void;
}

/**
 * Watches the credentials `x` was admitted with. One timer, first fired a recheck interval after
 * the start: an exchange over by then (nearly all) costs a timer armed and cleared, no lookup.
 */
export function watchCredentials(x: Exchange, authenticate: (credential: string | undefined) => Promise<AgentInfo | undefined>): CredentialWatch {
  const credential = x.tunnel ? x.tunnel.credential : x.head.headers['proxy-authorization'];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const ended = new Promise<Rejection>((resolve) => {
    const check = (): void => {
      void authenticate(credential).then(
        (agent) => (agent?.id === x.agent?.id ? undefined : 'the agent\'s credentials are no longer valid'),
        (err: Error) => `the agent's credentials could not be checked again: ${err.message}`,
      ).then((why) => {
        if (stopped) return;
        if (why) resolve(refusals.closing(refusals.unauthenticated(why)));
        else timer = setTimeout(check, CREDENTIAL_RECHECK_MS).unref();
      });
    };
    timer = setTimeout(check, CREDENTIAL_RECHECK_MS).unref();
  });
  return { ended, stop: () => { stopped = true; clearTimeout(timer); } };
}
