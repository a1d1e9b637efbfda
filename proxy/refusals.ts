// The proxy's own refusals and how they are rendered: application/problem+json (RFC 9457) on an
// HTTP response, or written straight to a socket where there is no response object (CONNECT,
// WebSocket upgrades, requests Node's parser could not read). Enforcers make their own
// Rejections; these are the ones the proxy makes before or without a policy decision.
import http from 'node:http';
import type net from 'node:net';
import type { EngineDecision } from '../engine/decision.ts';
import type { Rejection } from './enforcers.ts';
import { isStoreUnavailable, type StoreUnavailableError } from '../state/unavailable.ts';
import { parseProxyAuthorization } from '../state/agents.ts';
import { problemBody, rejectionBody } from './http-util.ts';

/** A Rejection with the policy rule it followed, when a decision was made (shown to the agent). */
export type Refusal = Rejection & { rule?: string | undefined };

const json = 'application/problem+json';
const authChallenge = 'Basic realm="airlock"';

/** What an agent without credentials is told to send. */
const sendCredentials = 'send Proxy-Authorization: Basic agent:token (the proxy URL `airlock agent add` printed)';

/**
 * Why the credentials offered (if any) were refused, in words a person can act on: none sent, not
 * Basic agent:token, or a token no agent of that name holds (a typo, expired, revoked, or no such
 * agent; which one is not said). The claimed name is the client's own input, shown printable only.
 */
export function credentialsHint(header: string | undefined): string {
  if (header === undefined || header.trim() === '') return sendCredentials;
  const cred = parseProxyAuthorization(header);
  if (!cred) return `the Proxy-Authorization header is not Basic with agent:token: ${sendCredentials}`;
  const name = cred.name.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
  return `no agent "${name}" holds the token sent (a typo in the proxy URL, an expired or revoked token, or a removed agent): use the proxy URL \`airlock agent add\` printed`;
}

export const refusals = {
  unauthenticated: (detail: string): Rejection => ({ status: 407, type: 'proxy-auth-required', title: 'Proxy authentication required', detail, outcome: 'unauthenticated', headers: { 'proxy-authenticate': authChallenge } }),
  /**
   * 407 to a request that offered no credentials at all. That is how HTTP authentication starts
   * (RFC 9110 §11.6.2): clients that negotiate the scheme, like git through libcurl's "anyauth",
   * send their first request bare and retry with credentials. Recorded as `auth-challenge`, which
   * the log and replay leave out; credentials that were offered and refused are `unauthenticated`.
   */
  challenge: (header: string | undefined, detail: string): Rejection => ({
    ...refusals.unauthenticated(detail),
    ...(header === undefined || header.trim() === '' ? { outcome: 'auth-challenge' } : {}),
  }),
  bad: (detail: string): Rejection => ({ status: 400, type: 'bad-request', title: 'Bad request', detail, outcome: 'rejected' }),
  /** A body under a coding Airlock cannot decode, as the body guard's refusal (proxy/credentials.ts) says it. */
  bodyUnreadable: (detail: string): Rejection => ({ status: 415, type: 'body-unreadable', title: 'Request body cannot be checked', detail, outcome: 'rejected' }),
  notImplemented: (detail: string): Rejection => ({ status: 501, type: 'not-implemented', title: 'Not implemented', detail, outcome: 'rejected' }),
  misdirected: (detail: string): Rejection => ({ status: 421, type: 'misdirected-request', title: 'Misdirected request', detail, outcome: 'rejected' }),
  self: (detail: string): Rejection => ({ status: 403, type: 'airlock-itself', title: 'Request aimed at Airlock itself', detail, outcome: 'rejected' }),
  destination: (detail: string): Rejection => ({ status: 403, type: 'destination-blocked', title: 'Destination blocked', detail, outcome: 'destination-blocked' }),
  resolve: (detail: string): Rejection => ({ status: 502, type: 'upstream-unresolvable', title: 'Upstream name does not resolve', detail, outcome: 'upstream-error' }),
  upstream: (detail: string): Rejection => ({ status: 502, type: 'upstream-error', title: 'Upstream error', detail, outcome: 'upstream-error' }),
  unscrubbable: (detail: string): Rejection => ({ status: 502, type: 'response-unscrubbable', title: 'Response cannot be scrubbed', detail, outcome: 'scrub-refused' }),
  timeout: (detail: string): Rejection => ({ status: 504, type: 'upstream-timeout', title: 'Upstream timed out', detail, outcome: 'upstream-timeout' }),
  // No request leaves unaudited: while records cannot be written, nothing is forwarded.
  audit: (detail: string): Rejection => ({ status: 503, type: 'audit-unavailable', title: 'Audit log unavailable', detail: `the audit log cannot be written (${detail}); nothing is forwarded until it can. Retry shortly.`, outcome: 'audit-unavailable', headers: { 'retry-after': '1' } }),
  // A shared store (PostgreSQL, Redis) that cannot be reached: fail closed, say what is down.
  unavailable: (err: StoreUnavailableError): Rejection => ({ status: 503, type: 'store-unavailable', title: 'State store unavailable', detail: `${err.message}; the request was not forwarded. Retry shortly.`, outcome: 'store-unavailable', headers: { 'retry-after': '1' }, extra: { store: err.store } }),
  /**
   * A stage of the answer failed (labels not kept, a bomb, bytes it cannot scrub): a store that is
   * unavailable is that store's 503 whatever the stage (the agent retries), anything else `other`.
   */
  stageFailed: (err: unknown, other: () => Rejection): Rejection => (isStoreUnavailable(err) ? refusals.unavailable(err) : other()),
  // Anything unexpected (e.g. an unreadable state file): the request does not leave.
  // The cause (often a state file's path) goes to the audit log and the operator's terminal only:
  // the client may not even have authenticated yet.
  internal: (err: unknown): Rejection => isStoreUnavailable(err) ? refusals.unavailable(err) : ({
    status: 500, type: 'proxy-error', title: 'Internal proxy error',
    detail: 'the request was not forwarded: Airlock hit an internal error; its operator finds the cause in Airlock\'s log under this request id',
    logDetail: `internal error: ${String((err as Error)?.message ?? err).slice(0, 500)}`, outcome: 'error',
  }),
  // Too many of one agent's requests already wait for its turn (proxy/agent-gate.ts).
  busy: (detail: string): Rejection => ({ status: 429, type: 'agent-busy', title: 'Too many requests waiting', detail: `${detail}; this one was not read. Retry when some have finished.`, outcome: 'rate-limited', headers: { 'retry-after': '1' } }),
  /** The same refusal, and the connection closes after it (a tunnel that cannot carry on). */
  closing: (r: Rejection): Rejection => ({ ...r, headers: { ...(r.headers ?? {}), connection: 'close' } }),
};

export function denial(d: EngineDecision): Rejection {
  return { status: 403, type: 'policy-denied', title: 'Denied by policy', detail: d.reason, outcome: 'denied' };
}

/** Answers an HTTP request with a refusal; `close` when the request's body was not read to the end. */
export function sendRejection(res: http.ServerResponse, r: Rejection, id: string, rule: string | undefined, close: boolean): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const payload = rejectionBody(r, id, rule);
  const headers: Record<string, string | number> = { 'content-type': json, 'content-length': Buffer.byteLength(payload), ...(r.headers ?? {}) };
  // A request whose body we did not read to the end cannot leave the connection reusable.
  if (close || r.headers?.connection === 'close') headers.connection = 'close';
  res.writeHead(r.status, headers);
  res.end(payload);
  if (headers.connection === 'close') res.once('finish', () => res.socket?.destroySoon?.());
}

/** Writes a problem response straight to a socket (CONNECT and upgrade paths) and closes it. */
export function writeRaw(socket: net.Socket, r: Rejection, id: string, rule?: string): void {
  if (!socket.writable) return void socket.destroy();
  const payload = rejectionBody(r, id, rule);
  const extra = Object.entries(r.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'connection').map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${r.status} ${statusText(r.status)}\r\ncontent-type: ${json}\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n${extra}connection: close\r\n\r\n${payload}`);
}

/**
 * A request Node's HTTP parser refused (malformed, headers too large, too slow): a problem answer
 * naming `id`, then close. Returns what was answered (for the record), or undefined when nothing
 * could be (the client is gone, or it reset the connection).
 */
export function clientError(err: NodeJS.ErrnoException, socket: net.Socket, id: string): Rejection | undefined {
  const s = socket as net.Socket & { _httpMessage?: { headersSent?: boolean } };
  if (!socket.writable || s._httpMessage?.headersSent) return void socket.destroy();
  let r: Rejection = refusals.bad(`malformed HTTP request (${err.code ?? 'parse error'})`);
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    r = { status: 431, type: 'bad-request', title: 'Request header fields too large', detail: 'the request headers exceed the proxy limit', outcome: 'rejected' };
  } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    r = { status: 408, type: 'request-timeout', title: 'Request timeout', detail: 'the request did not arrive in time', outcome: 'rejected' };
  } else if (err.code === 'ECONNRESET') {
    return void socket.destroy();
  }
  writeRaw(socket, r, id);
  return r;
}

/**
 * The request line of what the parser refused, when it has one (`GET http://host/ HTTP/1.1`): the
 * record then says what was tried (a smuggling attempt is still a request to somewhere).
 */
export function refusedRequestLine(raw: Buffer | undefined): { method: string; url: string } | undefined {
  if (!raw) return undefined;
  const end = raw.indexOf(10);
  const line = raw.subarray(0, end < 0 ? Math.min(raw.length, 4096) : Math.min(end, 4096)).toString('latin1').replace(/\r$/, '');
  const sp1 = line.indexOf(' ');
  const sp2 = line.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 <= sp1 || !/^[A-Z]{1,20}$/.test(line.slice(0, sp1)) || !line.slice(sp2 + 1).startsWith('HTTP/')) return undefined;
  return { method: line.slice(0, sp1), url: line.slice(sp1 + 1, sp2) };
}

/** What went wrong upstream, in words for the agent's refusal and the record. */
export function upstreamErrorText(err: NodeJS.ErrnoException, timedOut: boolean): string {
  if (timedOut) return err.message.startsWith('the upstream') ? err.message : 'the upstream did not answer in time';
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return 'the upstream refused the connection';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'the upstream reset the connection';
  if (code.startsWith('ERR_TLS') || code.includes('CERT') || code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN') return `upstream TLS verification failed (${code})`;
  return `${code || 'error'}: ${err.message}`.slice(0, 300);
}

function statusText(status: number): string {
  return http.STATUS_CODES[status] ?? 'Error';
}
