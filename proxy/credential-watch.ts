// A request that lasts (a WebSocket tunnel, an upload streaming past the capture cap) is one
// request whose credentials may be revoked while it goes on: they are checked again every
// CREDENTIAL_RECHECK_MS, as the next request on a keep-alive connection or tunnel would be, and a
// token revoked (or an agent removed) meanwhile ends it, here or through another replica.
import type { Rejection } from './enforcers.ts';
import type { Exchange } from './exchange.ts';
import type { Pipeline } from './pipeline.ts';
import { refusals } from './refusals.ts';

/** How often a lasting request's credentials are checked again (the directory's own re-read is 1 s). */
export const CREDENTIAL_RECHECK_MS = 1000;

export interface CredentialWatch {
  /** Settles with the refusal once the credentials no longer authenticate (never, while they do). */
  ended: Promise<Rejection>;
  stop(): void;
}

export function watchCredentials(pipeline: Pick<Pipeline, 'authenticate'>, x: Exchange): CredentialWatch {
  const credential = x.tunnel ? x.tunnel.credential : x.head.headers['proxy-authorization'];
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const ended = new Promise<Rejection>((resolve) => {
    const check = (): void => {
      void pipeline.authenticate(credential).then(
        (agent) => (agent?.id === x.agent?.id ? undefined : 'the agent\'s credentials are no longer valid'),
        (err: Error) => `the agent's credentials could not be checked again: ${err.message}`,
      ).then((why) => {
        if (stopped) return;
        if (why) resolve(refusals.unauthenticated(why));
        else timer = setTimeout(check, CREDENTIAL_RECHECK_MS).unref();
      });
    };
    timer = setTimeout(check, CREDENTIAL_RECHECK_MS).unref();
  });
  return { ended, stop: () => { stopped = true; clearTimeout(timer); } };
}
