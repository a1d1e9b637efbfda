// Browser side of the studio API: JSON fetch with the session token header, login state, and the
// live WebSocket feed with automatic reconnection.
import type { CookieLostAnswer, LiveEvents, LoginBody, OkAnswer, ResumeBody, SessionAnswer } from '../api/wire.ts';
import { forgetSessionKey, newSessionKey, signWithSessionKey } from './session-key.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const authEvents = new EventTarget();

// The session token (the login answer's `csrf`) goes with every API request and the WebSocket:
// the session cookie alone opens nothing, since browsers send it to servers on any port of this
// host. localStorage is per origin, and an origin includes the port, so no page on another port can
// read the token; the studio's own tabs share it, and it survives reloads.
const TOKEN_KEY = 'airlock-session-token';
const WS_PROTOCOL = 'airlock'; // studio/auth.ts WS_PROTOCOL, WS_TOKEN_PREFIX
const WS_TOKEN_PREFIX = 'airlock-csrf.';
const RESUME_PREFIX = 'airlock-session-resume:'; // studio/auth.ts RESUME_PREFIX
let tokenInMemory = ''; // only where localStorage is unavailable

export function sessionToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return tokenInMemory;
  }
}

function setSessionToken(token: string): void {
  tokenInMemory = token;
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: this tab keeps it in memory */
  }
}

/** Forgets `token` if it is still the one kept: a refusal that was on its way must not erase a newer login's. */
function forgetSessionToken(token: string): void {
  if (sessionToken() === token) setSessionToken('');
}

/** The studio refused the session: no valid cookie (401), or not this session's token (403 csrf). */
function sessionRefused(err: unknown): err is ApiError {
  return err instanceof ApiError && (err.status === 401 || (err.status === 403 && err.body.code === 'csrf'));
}

export async function api<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<T> {
  let sent = sessionToken();
  for (let attempt = 0; ; attempt++) {
    try {
      return await request<T>(method, url, body, sent);
    } catch (err) {
      if (url === '/api/login' || !sessionRefused(err)) throw err;
      // A login in another tab replaced the session (the cookie and the kept token change together)
      // while this request was on its way: the studio did nothing; send it once more.
      const now = sessionToken();
      if (attempt === 0 && now && now !== sent) {
        sent = now;
        continue;
      }
      forgetSessionToken(sent);
      authEvents.dispatchEvent(new Event('logged-out'));
      throw err;
    }
  }
}

async function request<T>(method: string, url: string, body: unknown, token: string): Promise<T> {
  try {
    return await send<T>(method, url, body, token);
  } catch (err) {
    // Another port of this host replaced or evicted the session cookie: the studio did nothing and
    // gave a challenge; the page's key (out of any other port's reach) signs it and the call goes again.
    if (!(err instanceof ApiError && err.status === 401 && err.body.code === 'cookie-lost')) throw err;
    const challenge = String((err.body as unknown as CookieLostAnswer).challenge);
    const signature = await signWithSessionKey(RESUME_PREFIX + challenge);
    if (!signature) throw err;
    await send<SessionAnswer>('POST', '/api/session/resume', { challenge, signature } satisfies ResumeBody, token);
    return await send<T>(method, url, body, token);
  }
}

async function send<T>(method: string, url: string, body: unknown, token: string): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (url !== '/api/login') headers['x-airlock-csrf'] = token;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  } catch {
    throw new ApiError(0, 'the studio server cannot be reached (is `airlock start` running?)', {});
  }
  let data: Record<string, unknown> = {};
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text) as Record<string, unknown>;
    } catch {
      data = { error: text };
    }
  }
  if (!res.ok) throw new ApiError(res.status, typeof data.error === 'string' ? data.error : `HTTP ${res.status}`, data);
  return data as T;
}

export async function login(token: string): Promise<void> {
  const key = await newSessionKey();
  const r = await api<SessionAnswer>('POST', '/api/login', { token, ...(key ? { key: key.jwk } : {}) } satisfies LoginBody);
  await key?.keep();
  setSessionToken(r.csrf);
}

export async function logout(): Promise<void> {
  const token = sessionToken();
  try {
    await api<OkAnswer>('POST', '/api/logout');
  } finally {
    forgetSessionToken(token);
    await forgetSessionKey();
  }
}

/**
 * Whether the kept token still opens a session (a reload, another tab's login or logout, a studio
 * restart). False when there is no token or the studio refuses it (the token is forgotten then);
 * throws when the studio cannot be asked.
 */
export async function resumeSession(): Promise<boolean> {
  const token = sessionToken();
  if (!token) return false;
  try {
    await request<SessionAnswer>('GET', '/api/session', undefined, token);
    return true;
  } catch (err) {
    if (!sessionRefused(err)) throw err;
    forgetSessionToken(token);
    return false;
  }
}

export type LiveState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * The live feed. Dispatches one event per message type ("traffic", "approval", "policy", …) with
 * the payload as `detail`, "state" when the connection state changes, and "resync" after a
 * reconnection (views reload what they may have missed).
 */
export class LiveFeed extends EventTarget {
  state: LiveState = 'closed';
  private ws: WebSocket | undefined;
  private retry = 0;
  private timer: number | undefined;
  private stopped = false;
  private everOpen = false;

  /** Calls `fn` with every live event of this type, its data as the server sends it. */
  on<K extends keyof LiveEvents>(type: K, fn: (data: LiveEvents[K]) => void): void {
    this.addEventListener(type, (e) => fn((e as CustomEvent<LiveEvents[K]>).detail));
  }

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close();
    this.setState('closed');
  }

  private setState(s: LiveState): void {
    if (this.state === s) return;
    this.state = s;
    this.dispatchEvent(new CustomEvent('state', { detail: s }));
  }

  private connect(): void {
    this.setState(this.everOpen ? 'reconnecting' : 'connecting');
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/ws`;
    // Browsers cannot set headers on a WebSocket: the token is offered as a subprotocol.
    const token = sessionToken();
    const ws = new WebSocket(url, [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${token}`]);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      const again = this.everOpen;
      this.everOpen = true;
      this.setState('open');
      if (again) this.dispatchEvent(new Event('resync'));
    };
    ws.onmessage = (ev) => {
      try {
        const msg = JSON.parse(String(ev.data)) as { type: string; data: unknown };
        this.dispatchEvent(new CustomEvent(msg.type, { detail: msg.data }));
      } catch {
        /* ignore malformed frames */
      }
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws || this.stopped) return;
      if (ev.code === 4001) {
        // The session ended: logged out (here or in another tab), or replaced by a login in another
        // tab — then the cookie and the kept token are the new session's, and this tab carries on
        // with it. The studio ends the old session before that tab has kept the new token: wait
        // (bounded) for the kept token to change before asking.
        void tokenChange(token, 3000).then(() => resumeSession()).catch(() => false).then((alive) => {
          if (this.ws !== ws || this.stopped) return;
          if (alive) return this.connect();
          this.stop();
          authEvents.dispatchEvent(new Event('logged-out'));
        });
        return;
      }
      this.setState('reconnecting');
      const delay = Math.min(5000, 250 * 2 ** this.retry++);
      // A browser does not tell why a WebSocket handshake failed. Ask: after a studio restart the
      // session is gone (401), and reconnecting would never succeed — the person must log in again.
      void sessionAlive().then((alive) => {
        if (this.ws !== ws || this.stopped) return;
        if (!alive) {
          this.stop();
          authEvents.dispatchEvent(new Event('logged-out'));
          return;
        }
        this.timer = window.setTimeout(() => this.connect(), delay);
      });
    };
  }
}

/** Resolves when the kept token is no longer `from`, or after `ms`. */
function tokenChange(from: string, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const poll = window.setInterval(() => {
      if (sessionToken() === from && Date.now() - started < ms) return;
      clearInterval(poll);
      resolve();
    }, 50);
  });
}

/** False only when the studio refuses this tab's session (401, or the token 403). */
async function sessionAlive(): Promise<boolean> {
  try {
    return await resumeSession();
  } catch {
    return true; // not reachable (yet): keep trying
  }
}

export const live = new LiveFeed();
