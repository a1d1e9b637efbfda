// An exchange that lasts is one request that goes on: a WebSocket, and an HTTP exchange whose
// response (a server-sent event stream, a long download) or upload (a chunked body the agent keeps
// sending) streams for minutes. Its credentials are checked again every CREDENTIAL_RECHECK_MS,
// as the next request on a keep-alive connection or tunnel would be, and a token revoked (or an
// agent removed) meanwhile ends it: otherwise a revoked agent keeps a channel both ways open for
// as long as the upstream lets it.
import type { AgentInfo } from '../describe/types.ts';
import type { Rejection } from './enforcers.ts';
import type { Exchange } from './exchange.ts';
import { refusals } from './refusals.ts';

/** How often a lasting exchange's credentials are checked again (the directory's own re-read is 1 s). */
export const CREDENTIAL_RECHECK_MS = 1000;

type Authenticate = (credential: string | undefined) => Promise<AgentInfo | undefined>;

interface Watched {
  x: Exchange;
  authenticate: Authenticate;
  revoked: (r: Rejection) => void;
  since: number;
  checking: boolean;
}

/**
 * Every watched exchange, checked by one timer that runs while there is any: a request costs a
 * set entry added and removed (most are over long before their first check), not a timer of its own.
 */
const watched = new Set<Watched>();
let ticker: NodeJS.Timeout | undefined;

function tick(): void {
  // Stopped on a tick that finds nothing to watch (not on every last removal: back-to-back
  // requests would each start and stop it).
  if (!watched.size) return stopTicker();
  const now = performance.now();
  for (const w of watched) {
    if (w.checking || now - w.since < CREDENTIAL_RECHECK_MS) continue;
    w.checking = true;
    const credential = w.x.tunnel ? w.x.tunnel.credential : w.x.head.headers['proxy-authorization'];
    void w.authenticate(credential).then(
      (agent) => (agent?.id === w.x.agent?.id ? undefined : 'the agent\'s credentials are no longer valid'),
      (err: Error) => `the agent's credentials could not be checked again: ${err.message}`,
    ).then((why) => {
      w.checking = false;
      w.since = performance.now();
      if (!why || !watched.delete(w)) return;
      w.revoked(refusals.closing(refusals.unauthenticated(why)));
    });
  }
}

function stopTicker(): void {
  clearInterval(ticker);
  ticker = undefined;
}

/**
 * Watches the credentials `x` was admitted with from now on: `revoked` is called (once) when they
 * no longer authenticate its agent; the first check is CREDENTIAL_RECHECK_MS after `lastChecked`
 * (when they were checked last: the exchange's start for one watched only once it has lasted).
 * Returns the function that ends the watch.
 */
export function watchCredentials(x: Exchange, authenticate: Authenticate, revoked: (r: Rejection) => void, lastChecked = performance.now()): () => void {
  const w: Watched = { x, authenticate, revoked, since: lastChecked, checking: false };
  watched.add(w);
  ticker ??= setInterval(tick, CREDENTIAL_RECHECK_MS / 2).unref();
  return () => void watched.delete(w);
}

/** The same as a promise that settles with the refusal (the WebSocket relay's `ended`). */
export function credentialsEnded(x: Exchange, authenticate: Authenticate): { ended: Promise<Rejection>; stop: () => void } {
  let stop: () => void = () => undefined;
  const ended = new Promise<Rejection>((resolve) => { stop = watchCredentials(x, authenticate, resolve); });
  return { ended, stop };
}
