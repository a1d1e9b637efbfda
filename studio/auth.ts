// The studio's access control: one admin token (created on first start, mode 0600), exchanged for a
// session cookie plus a per-session token the page keeps in localStorage and sends on every API
// request (X-Airlock-CSRF) and WebSocket (a subprotocol); Host/Origin allow-lists (DNS rebinding
// and cross-site requests); failed logins rate-limited per client address.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { stateFile } from '../state/home.ts';

export const SESSION_COOKIE = 'airlock_session';
export const CSRF_HEADER = 'x-airlock-csrf';
const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** The live feed's subprotocol; the session token rides beside it as `${WS_TOKEN_PREFIX}<token>`. */
export const WS_PROTOCOL = 'airlock';
export const WS_TOKEN_PREFIX = 'airlock-csrf.';

/** The subprotocols a client offers to open the live feed with this session token. */
export function wsProtocols(token: string): string[] {
  return [WS_PROTOCOL, `${WS_TOKEN_PREFIX}${token}`];
}

/** The session token a WebSocket upgrade offers among its subprotocols (Sec-WebSocket-Protocol). */
export function tokenFromProtocols(header: string | undefined): string | undefined {
  const offered = (header ?? '').split(',').map((p) => p.trim());
  const found = offered.filter((p) => p.startsWith(WS_TOKEN_PREFIX));
  return found.length === 1 ? found[0]!.slice(WS_TOKEN_PREFIX.length) : undefined;
}

export interface AdminToken {
  token: string;
  /** True when this start created the token (the login URL is worth printing). */
  created: boolean;
  file: string;
}

/** Reads the admin token from <home>/studio-token, creating it (mode 0600) when missing. */
export function ensureAdminToken(home: string): AdminToken {
  const file = stateFile(home, 'studioToken');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  try {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    const token = crypto.randomBytes(32).toString('base64url');
    fs.writeSync(fd, `${token}\n`);
    fs.closeSync(fd);
    return { token, created: true, file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) {
    throw new Error(`${file} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); run: chmod 600 ${file}`);
  }
  const token = fs.readFileSync(file, 'utf8').trim();
  if (token.length < 32) throw new Error(`${file} does not hold a usable studio token; delete it to create a new one`);
  return { token, created: false, file };
}

/** <home>/studio-login-url: the login URL, for a start whose output is not a terminal. */
export function loginUrlFile(home: string): string {
  return stateFile(home, 'studioLoginUrl');
}

/**
 * The start-up line about logging in. The login URL carries the admin token, and a start whose
 * stdout is not a terminal is being written somewhere (a log file, a CI log, a pipe) that an agent
 * may be able to read: then the URL goes to <home>/studio-login-url (mode 0600, rewritten with the
 * current address on every such start) and only that path is printed. On a terminal the URL is
 * printed once, when the token is created.
 */
export function loginAnnouncement(o: { home: string; url: string; loginUrl: string; admin: AdminToken; terminal: boolean }): string {
  if (!o.terminal) {
    const file = loginUrlFile(o.home);
    fs.rmSync(file, { force: true });
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    try {
      fs.writeSync(fd, `${o.loginUrl}\n`);
    } finally {
      fs.closeSync(fd);
    }
    return `airlock: studio at ${o.url} — log in with the URL in ${file} (not printed: stdout is not a terminal)`;
  }
  if (o.admin.created) return `airlock: studio at ${o.url} — log in once with: ${o.loginUrl}`;
  return `airlock: studio at ${o.url} (log-in token in ${o.admin.file})`;
}

/**
 * Every value of the session cookie in a Cookie header, in order (at most 16). Cookies are not
 * isolated by port: a page on another port of this host can set one of the same name with a longer
 * Path, which the browser sends first, so reading only the first (as cookie parsers do) let any such
 * page log the studio out for good. The session is the one whose token the request carries.
 */
export function sessionCookieValues(header: string | undefined): string[] {
  const out: string[] = [];
  for (const piece of (header ?? '').split(';')) {
    const eq = piece.indexOf('=');
    if (eq < 0 || piece.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = piece.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (value && !out.includes(value)) out.push(value);
    if (out.length >= 16) break;
  }
  return out;
}

/**
 * The CLI's login without sending the admin token (twenty-ninth pass). The CLI sent the token to
 * whatever answered at the address it was given (`--studio`, `AIRLOCK_STUDIO`): one planted in an
 * environment file the person's shell loads, or a listener on a port the studio left, received it,
 * and with it every approval. Now each side proves it holds the token over both sides' nonces,
 * under its own label, and the token itself never crosses the wire.
 */
export const STUDIO_PROOF = 'airlock-studio-proof';
export const CLI_PROOF = 'airlock-cli-login';
export function loginProof(token: string, label: string, clientNonce: string, serverNonce: string): string {
  return crypto.createHmac('sha256', token).update(`${label}\n${clientNonce}\n${serverNonce}`).digest('base64url');
}
/** A nonce as a login sends it: 22 to 128 base64url characters. */
export function loginNonce(v: unknown): v is string {
  if (typeof v !== 'string' || v.length < 22 || v.length > 128) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const ok = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
}

/** Challenges the studio gave the CLI, each single-use for a minute; at most `max` (the oldest go first). */
export class LoginChallenges {
  private readonly open = new Map<string, { client: string; expires: number }>();
  constructor(private readonly max = 256, private readonly ttlMs = 60_000, private readonly now: () => number = Date.now) {}

  give(client: string): string {
    const server = crypto.randomBytes(24).toString('base64url');
    this.open.set(server, { client, expires: this.now() + this.ttlMs });
    while (this.open.size > this.max) this.open.delete(this.open.keys().next().value!);
    return server;
  }

  /** Whether `server` was given for `client` and is still open; it is spent either way. */
  take(client: string, server: string): boolean {
    const c = this.open.get(server);
    this.open.delete(server);
    return !!c && c.client === client && c.expires > this.now();
  }
}

export function tokensEqual(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

export interface Session {
  id: string;
  csrf: string;
  created: number;
  expires: number;
  /** The page's session key (public half), when it sent one at login: it takes the session back after the cookie is lost. */
  key?: crypto.KeyObject;
  /** Challenges outstanding for a resume (each single-use; a few, for tabs that lost the cookie at once). */
  challenges?: Map<string, number>;
}

/** What the page signs to take its session back: a fixed prefix, so the key signs nothing else. */
export const RESUME_PREFIX = 'airlock-session-resume:';
const CHALLENGE_TTL_MS = 60_000;

/**
 * The public key a login offers (an ECDSA P-256 JWK, what WebCrypto exports), or undefined when
 * none is offered; throws on anything else, so a login never silently goes without one it asked for.
 */
export function sessionKeyFrom(jwk: unknown): crypto.KeyObject | undefined {
  if (jwk === undefined || jwk === null) return undefined;
  const k = jwk as Record<string, unknown>;
  if (typeof jwk !== 'object' || k.kty !== 'EC' || k.crv !== 'P-256' || typeof k.x !== 'string' || typeof k.y !== 'string' || 'd' in k) {
    throw new Error('the session key must be the public half of an ECDSA P-256 key (JWK)');
  }
  return crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: k.x, y: k.y }, format: 'jwk' });
}

/** In-memory sessions: a restart logs everyone out, which is fine for a local control plane. */
export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  constructor(private readonly now: () => number = Date.now) {}

  create(key?: crypto.KeyObject): Session {
    this.sweep();
    const t = this.now();
    const s: Session = {
      id: crypto.randomBytes(32).toString('base64url'),
      csrf: crypto.randomBytes(24).toString('base64url'),
      created: t,
      expires: t + SESSION_TTL_MS,
      ...(key ? { key } : {}),
    };
    this.sessions.set(s.id, s);
    return s;
  }

  /**
   * The live session holding this token, when it has a key to take it back with. Cookies are not
   * isolated by port: a page on another port can replace the studio's (same name, Path=/) or evict
   * it (a full cookie jar). The token (per-origin localStorage) and the key (unextractable, in the
   * origin's IndexedDB) are out of its reach, so together they stand for the cookie.
   */
  resumable(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    const t = this.now();
    for (const s of this.sessions.values()) {
      if (s.key && s.expires > t && tokensEqual(token, s.csrf)) return s;
    }
    return undefined;
  }

  /** A fresh single-use challenge for `s` (at most 8 outstanding; the oldest goes first). */
  challenge(s: Session): string {
    const value = crypto.randomBytes(24).toString('base64url');
    s.challenges ??= new Map();
    s.challenges.set(value, this.now() + CHALLENGE_TTL_MS);
    if (s.challenges.size > 8) s.challenges.delete(s.challenges.keys().next().value!);
    return value;
  }

  /** Whether `signature` (base64url, IEEE P1363) is `s`'s key over one of its outstanding challenges, which is spent. */
  resume(s: Session, challenge: unknown, signature: unknown): boolean {
    if (!s.key || typeof challenge !== 'string' || typeof signature !== 'string') return false;
    const expires = s.challenges?.get(challenge);
    s.challenges?.delete(challenge);
    if (expires === undefined || expires <= this.now()) return false;
    const ok = crypto.verify('sha256', Buffer.from(RESUME_PREFIX + challenge), { key: s.key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'));
    if (ok) s.expires = this.now() + SESSION_TTL_MS;
    return ok;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expires <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    s.expires = this.now() + SESSION_TTL_MS; // sliding
    return s;
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  destroyAll(): void {
    this.sessions.clear();
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.sessions) if (s.expires <= t) this.sessions.delete(id);
  }
}

/** Failed-login limiter: at most `max` wrong tokens per client per window, then 429 for wrong ones until it passes (the right token always logs in). */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  constructor(
    private readonly max = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Seconds until this client may try again, or 0. */
  retryAfter(client: string): number {
    const list = this.recent(client);
    if (list.length < this.max) return 0;
    return Math.max(1, Math.ceil((list[0]! + this.windowMs - this.now()) / 1000));
  }

  fail(client: string): void {
    const list = this.recent(client);
    list.push(this.now());
    this.failures.set(client, list);
    if (this.failures.size > 10_000) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(client: string): number[] {
    const cutoff = this.now() - this.windowMs;
    const list = (this.failures.get(client) ?? []).filter((t) => t > cutoff);
    if (list.length) this.failures.set(client, list);
    else this.failures.delete(client);
    return list;
  }
}

/**
 * Which Host headers and Origins the studio answers. Checking Host defeats DNS rebinding (a hostile
 * page whose name resolves to 127.0.0.1); checking Origin defeats cross-site requests.
 */
export class OriginPolicy {
  readonly hosts = new Set<string>();
  readonly origins = new Set<string>();

  constructor(listenHost: string, port: number, extraOrigins: string[] = []) {
    const names = new Set([listenHost, 'localhost', '127.0.0.1', '[::1]']);
    if (listenHost.includes(':') && !listenHost.startsWith('[')) names.add(`[${listenHost}]`);
    if (listenHost === '0.0.0.0' || listenHost === '::') names.delete(listenHost);
    for (const n of names) {
      this.hosts.add(`${n}:${port}`.toLowerCase());
      this.origins.add(`http://${n}:${port}`.toLowerCase());
    }
    for (const o of extraOrigins) {
      const u = new URL(o);
      this.origins.add(u.origin.toLowerCase());
      this.hosts.add(u.host.toLowerCase());
    }
  }

  hostAllowed(host: string | undefined): boolean {
    return !!host && this.hosts.has(host.toLowerCase());
  }

  originAllowed(origin: string | undefined): boolean {
    return !!origin && this.origins.has(origin.toLowerCase());
  }
}

export function isMutating(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}
