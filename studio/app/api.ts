// Browser side of the studio API: JSON fetch with the CSRF header, login state, and the live
// WebSocket feed with automatic reconnection.
import type { LiveEvents, LoginBody, SessionAnswer } from '../api/wire.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(message);
  }
}

let csrf = '';
export const authEvents = new EventTarget();

export function setCsrf(token: string): void {
  csrf = token;
}

export async function api<T = Record<string, unknown>>(method: string, url: string, body?: unknown): Promise<T> {
  try {
    return await request<T>(method, url, body);
  } catch (err) {
    // The browser's session cookie is shared by its tabs: a login in another tab replaced it, and
    // this tab's CSRF token belongs to the session that ended. The studio refused the request
    // before doing anything: take the current session's token and send it once more.
    if (!(err instanceof ApiError && err.status === 403 && err.body.code === 'csrf') || url === '/api/login') throw err;
    if (!(await resumeSession())) throw err;
    return request<T>(method, url, body);
  }
}

async function request<T>(method: string, url: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-airlock-csrf'] = csrf;
  let res: Response;
  try {
    res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
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
  if (res.status === 401 && url !== '/api/login') authEvents.dispatchEvent(new Event('logged-out'));
  if (!res.ok) throw new ApiError(res.status, typeof data.error === 'string' ? data.error : `HTTP ${res.status}`, data);
  return data as T;
}

export async function login(token: string): Promise<void> {
  const r = await api<SessionAnswer>('POST', '/api/login', { token } satisfies LoginBody);
  setCsrf(r.csrf);
}

export async function resumeSession(): Promise<boolean> {
  try {
    const r = await api<SessionAnswer>('GET', '/api/session');
    setCsrf(r.csrf);
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    throw err;
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
    const ws = new WebSocket(url);
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
        // tab — then the cookie holds the new session, and this tab carries on with it.
        void resumeSession().catch(() => false).then((alive) => {
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

/** False only when the studio answers that this browser's session is not valid (401). */
async function sessionAlive(): Promise<boolean> {
  try {
    const res = await fetch('/api/session', { credentials: 'same-origin', cache: 'no-store' });
    return res.status !== 401;
  } catch {
    return true; // not reachable (yet): keep trying
  }
}

export const live = new LiveFeed();
