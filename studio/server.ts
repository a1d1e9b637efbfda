// The studio server: fastify (REST) + ws (live events) + the bundled browser app.
// `buildStudioApp(deps)` returns the fastify instance (tests use `inject`); `startStudio(services,
// {host, port})` builds the app if needed, listens (loopback by default) and returns its login URL.
// The routes are fastify plugins in api/, each registered below with the typed services it uses.
//
// Access: every /api route except /api/login needs the session cookie AND the session's token in
// X-Airlock-CSRF, whatever the method: browsers do not isolate cookies by port, so any server on
// another port of 127.0.0.1 that the person's browser visits receives the cookie, and the cookie
// alone must open nothing. The token lives in the studio page's localStorage (per origin, port
// included). Every request's Host must be one of the studio's own names (DNS rebinding); mutating
// requests need an allowed Origin (when the browser sends one); WebSocket upgrades need the cookie,
// an allowed Origin and the token as an offered subprotocol (browsers cannot set headers there).
import fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import { WebSocketServer } from 'ws';
import { compilePolicy } from '../engine/compile.ts';
import { ensureHome } from '../state/home.ts';
import { CLI_PROOF, CSRF_HEADER, LoginChallenges, LoginLimiter, STUDIO_PROOF, loginNonce, loginProof, OriginPolicy, SESSION_COOKIE, SessionStore, sessionCookieValues, sessionKeyFrom, WS_PROTOCOL, ensureAdminToken, isMutating, loginAnnouncement, tokenFromProtocols, tokensEqual, type Session } from './auth.ts';
import { distDir, ensureStudioBuilt } from './build.ts';
import { STUDIO_HEADER_BYTES, STUDIO_REQUEST_MS, boundConnections } from './connections.ts';
import { StudioContext } from './context.ts';
import { DraftPathError } from './drafts.ts';
import { approvalRoutes } from './api/approvals.ts';
import { isStoreUnavailable } from '../state/unavailable.ts';
import { limitRoutes } from './api/limits.ts';
import { policyRoutes } from './api/policy.ts';
import { replayRoutes } from './api/replay.ts';
import { sessionRoutes } from './api/sessions.ts';
import { systemRoutes } from './api/system.ts';
import type { Broadcast, CookieLostAnswer, ErrorAnswer, LiveEvents, LoginBody, LoginChallengeAnswer, LoginChallengeBody, OkAnswer, ResumeBody, SessionAnswer, Untrusted } from './api/wire.ts';
import { proxyAddressText, type StudioServices } from './services.ts';
import { lookupTable } from '../lib/records.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const projectRoot = path.resolve(here, '..');

export const DEFAULT_STUDIO_HOST = '127.0.0.1';
export const DEFAULT_STUDIO_PORT = 8081;

export interface StudioDeps {
  home: string;
  /** The services of the Airlock this studio runs in; absent for a studio without a proxy. */
  services?: StudioServices;
  /** The address the studio is reached at (Host/Origin allow-list). */
  host?: string;
  port?: number;
  /** Extra origins (e.g. behind a reverse proxy: "https://airlock.example"). */
  allowedOrigins?: string[];
  /** Admin token; read from or created in <home>/studio-token when absent. */
  token?: string;
  /** Project root holding fixtures/ and the default rego/ (tests point it elsewhere). */
  projectRoot?: string;
  /** Fastify logger (off by default: the runtime prints its own lines). */
  logger?: boolean;
  loginLimiter?: LoginLimiter;
}

declare module 'fastify' {
  interface FastifyInstance {
    studio: StudioContext;
  }
  interface FastifyRequest {
    session?: Session;
  }
}

const securityHeaders: Readonly<Record<string, string>> = lookupTable({
  // CodeMirror injects <style> elements, hence 'unsafe-inline' for styles only.
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

function clientKey(req: FastifyRequest | IncomingMessage): string {
  const ip = 'ip' in req ? (req as FastifyRequest).ip : req.socket.remoteAddress;
  return ip ?? 'unknown';
}

export async function buildStudioApp(deps: StudioDeps): Promise<FastifyInstance> {
  const home = deps.home;
  const host = deps.host ?? DEFAULT_STUDIO_HOST;
  const port = deps.port ?? DEFAULT_STUDIO_PORT;
  const origins = new OriginPolicy(host, port, deps.allowedOrigins);
  const token = deps.token ?? ensureAdminToken(home).token;
  const sessions = new SessionStore();
  const limiter = deps.loginLimiter ?? new LoginLimiter();
  const challenges = new LoginChallenges();
  const ctx = await StudioContext.open(home, deps.services, deps.projectRoot ?? projectRoot);

  const app = Fastify({ logger: deps.logger ?? false, bodyLimit: 4 * 1024 * 1024, trustProxy: false, requestTimeout: STUDIO_REQUEST_MS, http: { maxHeaderSize: STUDIO_HEADER_BYTES } });
  // The process's descriptors are the proxy's too: connections no logged-in browser uses are bounded.
  const connections = boundConnections(app.server);
  app.decorate('studio', ctx);
  await app.register(fastifyCookie);

  /** The live sessions the Cookie header names (a page on another port may have added one: sessionCookieValues). */
  const sessionsOf = (cookieHeader: string | undefined): Session[] =>
    sessionCookieValues(cookieHeader).map((id) => sessions.get(id)).filter((s): s is Session => s !== undefined);
  const setSessionCookie = (req: FastifyRequest, reply: FastifyReply, s: Session): void => {
    // Secure when the page came over HTTPS (a TLS reverse proxy in front); plain loopback HTTP otherwise.
    const secure = (req.headers.origin ?? '').startsWith('https://');
    reply.setCookie(SESSION_COOKIE, s.id, { httpOnly: true, sameSite: 'strict', path: '/', secure, maxAge: 12 * 3600 });
  };

  // A client given the studio's address as its proxy (CONNECT, or http://host/… in absolute form)
  // is told where the proxy is, instead of a closed connection or a puzzling 421.
  const proxyAt = proxyAddressText(deps.services);
  const notTheProxy = `this is Airlock's studio, not its proxy${proxyAt ? `: the proxy listens on ${proxyAt} (proxy URL http://AGENT:TOKEN@${proxyAt})` : ''}`;
  app.server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const body = JSON.stringify({ error: notTheProxy });
    socket.on('error', () => socket.destroy());
    // The reason phrase carries the hint too: some clients (Python) show only the status line.
    socket.end(`HTTP/1.1 400 ${proxyAt ? `Airlock studio, not the proxy: use ${proxyAt}` : 'Airlock studio, not the proxy'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });

  app.addHook('onRequest', async (req, reply) => {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(req.raw.url ?? '')) return reply.code(400).send({ error: notTheProxy });
    if (!origins.hostAllowed(req.headers.host)) {
      return reply.code(421).send({ error: 'this studio does not answer to that host name' });
    }
    const origin = req.headers.origin;
    if (isMutating(req.method) && origin !== undefined && !origins.originAllowed(origin)) {
      return reply.code(403).send({ error: 'cross-origin request refused' });
    }
    // Decide on the matched route, not the raw URL: the router decodes percent-escapes
    // ("/%61pi/status" is "/api/status"), a prefix check on req.url would not.
    const route = req.routeOptions.url;
    if (route === '/api/login' || route === '/api/login/challenge' || route === '/api/session/resume') return;
    const isAsset = (req.method === 'GET' || req.method === 'HEAD') && (route === undefined || !route.startsWith('/api'));
    if (isAsset) return; // the app shell and bundle (or the not-found page): no data in them
    const candidates = sessionsOf(req.headers.cookie);
    // Reads too: the cookie reaches servers on other ports of this host, the token does not.
    const csrf = req.headers[CSRF_HEADER];
    const session = typeof csrf === 'string' ? candidates.find((c) => tokensEqual(csrf, c.csrf)) : undefined;
    if (!session) {
      // The token without its cookie: another port of this host replaced or evicted the cookie.
      // Nothing is done; the page proves its key over a challenge (/api/session/resume) and retries.
      const lost = sessions.resumable(typeof csrf === 'string' ? csrf : undefined);
      if (lost) {
        const answer: CookieLostAnswer = { error: 'the session cookie is gone (replaced or evicted): sign the challenge', code: 'cookie-lost', challenge: sessions.challenge(lost) };
        return reply.code(401).send(answer);
      }
      if (!candidates.length) return reply.code(401).send({ error: 'login required' });
      return reply.code(403).send({ error: 'missing or wrong session token (X-Airlock-CSRF)', code: 'csrf' });
    }
    req.session = session;
    connections.trust(req.raw.socket);
  });

  app.addHook('onSend', async (req, reply, payload) => {
    for (const [k, v] of Object.entries(securityHeaders)) reply.header(k, v);
    if ((req.routeOptions.url ?? req.url).startsWith('/api')) reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, req, reply) => {
    // A shared store that cannot be reached (PostgreSQL, Redis) is not an internal error: 503 naming it, retried shortly.
    if (isStoreUnavailable(err)) return reply.code(503).header('retry-after', '1').send({ error: err.message } satisfies ErrorAnswer);
    const status = err instanceof DraftPathError ? 400 : err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error(err);
      process.stderr.write(`airlock studio: ${req.method} ${req.url.split('?')[0]}: ${err.message}\n`);
    }
    return reply.code(status).send({ error: status >= 500 ? `internal error: ${err.message}` : err.message } satisfies ErrorAnswer);
  });

  // ---- login -------------------------------------------------------------------------------
  app.post<{ Body: Untrusted<LoginBody> | undefined; Reply: SessionAnswer | ErrorAnswer }>('/api/login', async (req, reply) => {
    const key = clientKey(req);
    const given = req.body?.token;
    const b = req.body;
    // The CLI's login: its proof over a challenge this studio gave it (the token never sent).
    const proven = b !== undefined && loginNonce(b.client_nonce) && loginNonce(b.server_nonce) && typeof b.proof === 'string'
      && challenges.take(b.client_nonce, b.server_nonce) && tokensEqual(b.proof, loginProof(token, CLI_PROOF, b.client_nonce, b.server_nonce));
    // The right token always logs in, even past the limit: every process of this machine (another
    // user's too, who cannot read the token file) shares 127.0.0.1, so refusing the right token
    // would let any of them keep the person's browser and CLI out by sending wrong ones. Guessing
    // stays hopeless (256 random bits); the limit only slows wrong tries down.
    if (!proven && (typeof given !== 'string' || !tokensEqual(given.trim(), token))) {
      const wait = limiter.retryAfter(key);
      if (wait > 0) return reply.code(429).header('retry-after', String(wait)).send({ error: `too many failed logins; try again in ${wait} s` });
      limiter.fail(key);
      return reply.code(401).send({ error: 'wrong token' });
    }
    let pageKey;
    try {
      pageKey = sessionKeyFrom(req.body?.key);
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
    for (const old of sessionsOf(req.headers.cookie)) {
      // The session this browser had ends: so do its live feeds (other tabs pick up the new one).
      sessions.destroy(old.id);
      ctx.hub.closeSession(old.id);
    }
    const s = sessions.create(pageKey);
    setSessionCookie(req, reply, s);
    return { ok: true, csrf: s.csrf };
  });

  // The CLI asks first, with a nonce of its own: the studio proves it holds the admin token (its
  // proof under its own label), so the CLI logs in only where the token already is, and never
  // sends it (twenty-ninth pass). Nothing is learnt here that logs anyone in.
  app.post<{ Body: Untrusted<LoginChallengeBody> | undefined; Reply: LoginChallengeAnswer | ErrorAnswer }>('/api/login/challenge', async (req, reply) => {
    const client = req.body?.client_nonce;
    if (!loginNonce(client)) return reply.code(400).send({ error: 'client_nonce must be 22 to 128 base64url characters' });
    const server = challenges.give(client);
    return { server_nonce: server, proof: loginProof(token, STUDIO_PROOF, client, server) };
  });

  // The page whose cookie another port replaced or evicted takes its session back: its token (the
  // header) and its key's signature over a challenge it was given; the cookie is set again.
  app.post<{ Body: Untrusted<ResumeBody> | undefined; Reply: SessionAnswer | ErrorAnswer }>('/api/session/resume', async (req, reply) => {
    const csrf = req.headers[CSRF_HEADER];
    const s = sessions.resumable(typeof csrf === 'string' ? csrf : undefined);
    if (!s || !sessions.resume(s, req.body?.challenge, req.body?.signature)) {
      return reply.code(403).send({ error: 'this session cannot be taken back: log in again', code: 'csrf' });
    }
    setSessionCookie(req, reply, s);
    connections.trust(req.raw.socket);
    return { ok: true, csrf: s.csrf };
  });

  app.post<{ Reply: OkAnswer }>('/api/logout', async (req, reply) => {
    if (req.session) {
      sessions.destroy(req.session.id);
      ctx.hub.closeSession(req.session.id);
    }
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  // Answers only a request that already carries the token (the hook above): a page resuming its
  // session checks it is still alive; the cookie alone learns nothing here.
  app.get<{ Reply: SessionAnswer }>('/api/session', async (req) => ({ ok: true, csrf: req.session!.csrf }));

  // ---- feature routes (behind the login and CSRF hooks above) ----------------------------------
  const services = deps.services;
  const broadcast: Broadcast = (type, data) => ctx.hub.broadcast(type, data);
  const audit = services?.audit;
  await app.register(policyRoutes, { ctx });
  await app.register(systemRoutes, { ctx });
  await app.register(replayRoutes, { ctx });
  await app.register(approvalRoutes, {
    approvals: services?.approvals, heldBodies: services?.heldBodies, broadcast,
    redact: audit ? (text) => audit.redact?.(text) ?? text : undefined,
  });
  await app.register(limitRoutes, { limiter: services?.limiter, broadcast });
  await app.register(sessionRoutes, { sessions: services?.sessions, audit: services?.audit, broadcast });

  app.all('/api/*', async (_req, reply) => reply.code(404).send({ error: 'no such API route' }));

  // ---- browser app ---------------------------------------------------------------------------
  if (fs.existsSync(distDir)) {
    await app.register(fastifyStatic, { root: distDir, index: ['index.html'], wildcard: false, serveDotFiles: false });
  }
  app.setNotFoundHandler(async (req, reply) => {
    const index = path.join(distDir, 'index.html');
    if (req.method === 'GET' && !req.url.startsWith('/api/') && fs.existsSync(index)) {
      return reply.type('text/html; charset=utf-8').send(fs.readFileSync(index));
    }
    if (!fs.existsSync(index)) return reply.code(503).type('text/plain').send('The studio app is not built. Run `npm install` (or `node bin/run-ts.js studio/build.ts`).\n');
    return reply.code(404).send({ error: 'not found' });
  });

  // ---- WebSocket -----------------------------------------------------------------------------
  // The page offers [WS_PROTOCOL, token protocol]; the answer names WS_PROTOCOL, never the token.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024, handleProtocols: (offered) => (offered.has(WS_PROTOCOL) ? WS_PROTOCOL : false) });
  const refuse = (socket: Duplex, status: number, text: string): void => {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = req.url ?? '';
    if (url !== '/api/ws' && !url.startsWith('/api/ws?')) return refuse(socket, 404, 'Not Found');
    if (!origins.hostAllowed(req.headers.host)) return refuse(socket, 421, 'Misdirected Request');
    if (!origins.originAllowed(req.headers.origin)) return refuse(socket, 403, 'Forbidden');
    const candidates = sessionsOf(req.headers.cookie);
    if (!candidates.length) return refuse(socket, 401, 'Unauthorized');
    const given = tokenFromProtocols(req.headers['sec-websocket-protocol']);
    const tokenHolds = (s: Session | undefined): boolean => !!s && given !== undefined && tokensEqual(given, s.csrf);
    const session = candidates.find(tokenHolds);
    if (!session) return refuse(socket, 403, 'Forbidden');
    connections.trust(socket as Socket);
    wss.handleUpgrade(req, socket, head, (ws) => {
      ctx.hub.add(ws, session.id);
      let alive = true;
      ws.on('pong', () => (alive = true));
      const beat = setInterval(() => {
        // A session that was logged out or expired loses its live feed too.
        if (!alive || !tokenHolds(sessions.get(session.id))) return ws.terminate();
        alive = false;
        ws.ping();
      }, 20_000);
      beat.unref();
      ws.on('close', () => clearInterval(beat));
      ws.on('message', () => undefined); // the feed is one-way; actions go through REST with CSRF
      const hello: LiveEvents['hello'] = { running: ctx.runningVersion() ?? null, current: ctx.versions.current };
      ws.send(JSON.stringify({ type: 'hello', data: hello }));
    });
  });

  // Policy reloads (from any source) reach every browser.
  const engine = deps.services?.engine;
  if (engine) {
    ctx.onClose(engine.onReload((version) => ctx.hub.broadcast('policy', { event: 'reloaded', version })));
  }

  // Live sockets must go before the server closes: an upgraded socket still counts as one of the
  // server's connections, so close() would otherwise wait for every open browser tab.
  app.addHook('preClose', async () => {
    wss.close();
    ctx.hub.closeAll();
  });
  app.addHook('onClose', async () => {
    await ctx.close();
  });
  return app;
}

export interface StartedStudio {
  app: FastifyInstance;
  host: string;
  port: number;
  url: string;
  /** The URL that logs a browser in (token in the fragment, which browsers never send to a server). */
  loginUrl: string;
  /** True when this start created the admin token. */
  tokenCreated: boolean;
  tokenFile: string;
  close(): Promise<void>;
}

export interface StartStudioOptions {
  host?: string;
  port?: number;
  allowedOrigins?: string[];
  /** Project root holding fixtures/ (default: this checkout). */
  projectRoot?: string;
  /** Where the start-up lines go (default: stdout). */
  log?: (line: string) => void;
  /** Whether those lines reach a terminal (default: stdout is a TTY); decides where the login URL goes. */
  terminal?: boolean;
}

export async function startStudio(services: StudioServices, opts: StartStudioOptions = {}): Promise<StartedStudio> {
  const host = opts.host ?? DEFAULT_STUDIO_HOST;
  const log = opts.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const home = ensureHome(services.home);
  await ensureStudioBuilt({ quiet: true });
  const admin = ensureAdminToken(home);
  // Port 0 (tests): the Host/Origin allow-list needs the real port, so pick one first.
  let port = opts.port ?? DEFAULT_STUDIO_PORT;
  if (port === 0) port = await freePort(host);
  // Behind a reverse proxy (or on a LAN address) the browser's origin is not one of ours:
  // AIRLOCK_STUDIO_ORIGINS="https://airlock.example,http://10.0.0.5:8081" adds it.
  const fromEnv = (process.env.AIRLOCK_STUDIO_ORIGINS ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  let allowedOrigins: string[];
  try {
    allowedOrigins = (opts.allowedOrigins ?? fromEnv).map((o) => new URL(o).origin);
  } catch {
    throw new Error(`AIRLOCK_STUDIO_ORIGINS must be a comma-separated list of origins like https://airlock.example`);
  }
  const app = await buildStudioApp({ home, services, host, port, token: admin.token, allowedOrigins, projectRoot: opts.projectRoot });
  await activatePublished(app.studio, log);
  try {
    await app.listen({ host, port });
  } catch (err) {
    await app.close();
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EADDRINUSE' ? 'the address is in use by another program (another Airlock with another state folder?)' : code ?? (err as Error).message;
    throw new Error(`studio cannot listen on ${host}:${port}: ${why}; choose another address with --studio or "studio" in config.json, or run without it (--no-studio)`);
  }
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shown}:${port}/`;
  const loginUrl = `${url}#token=${admin.token}`;
  // The login URL carries the admin token: printed only to a terminal (see loginAnnouncement).
  log(loginAnnouncement({ home, url, loginUrl, admin, terminal: opts.terminal ?? process.stdout.isTTY === true }));
  return { app, host, port, url, loginUrl, tokenCreated: admin.created, tokenFile: admin.file, close: () => app.close() };
}

/**
 * A version published from the studio stays live across restarts: if the proxy started with its
 * policy folder but the studio has a current published version, that version is loaded.
 */
async function activatePublished(ctx: StudioContext, log: (line: string) => void): Promise<void> {
  const current = ctx.versions.current;
  const engine = ctx.services?.engine;
  if (!current || !engine || engine.version === current) return;
  const dir = ctx.versions.dirOf(current);
  if (!fs.existsSync(dir)) return;
  try {
    await ctx.activate(await compilePolicy(dir));
    log(`airlock: live policy is studio-published version ${current} (${dir})`);
  } catch (err) {
    log(`airlock: studio-published version ${current} could not be loaded (${(err as Error).message.split('\n')[0]}); keeping ${engine.version ?? 'the started policy'}`);
  }
}

async function freePort(host: string): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export type { FastifyReply };
