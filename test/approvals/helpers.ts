// Harness for the approvals and rate-limit end-to-end tests: a whole Airlock (startAirlock, with the
// studio) on a temporary state folder and this folder's test policy, a local upstream that records
// what reaches it, a logged-in studio API client, and real agent clients (curl and undici).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ProxyAgent, request } from 'undici';
import { CertificateAuthority } from '../../proxy/ca.ts';
import { startAirlock, type Airlock, type AirlockOptions } from '../../runtime/airlock.ts';
import type { ApprovalRecord } from '../../state/approvals.ts';
import { tempDir, type Teardown } from '../temp-dir.ts';

export const run = promisify(execFile);
export const policyDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'policy');
export const cli = path.resolve('bin/airlock.js');

export type { Teardown };

export function tempHome(t: Teardown): string {
  return tempDir(t, 'al-ap-');
}

export interface Upstream {
  port: number;
  received: Array<{ method: string; url: string; host: string; headers: http.IncomingHttpHeaders; body: string }>;
  close(): Promise<void>;
}

export interface TlsUpstream extends Upstream {
  /** PEM file of the CA that signed the upstream's certificates (Airlock's --upstream-ca). */
  caFile: string;
}

/** An HTTPS upstream with certificates from a test CA (not Airlock's). */
export async function startTlsUpstream(t: Teardown): Promise<TlsUpstream> {
  const dir = tempHome(t);
  const ca = await CertificateAuthority.open(dir);
  const caFile = path.join(dir, 'upstream-ca.pem');
  fs.writeFileSync(caFile, ca.certPem);
  const fallback = await ca.contextFor('api.example');
  const up = await startUpstream(t, (handler) => https.createServer({
    secureContext: fallback,
    SNICallback: (name, cb) => void ca.contextFor(name).then((c) => cb(null, c), (e: Error) => cb(e)),
  } as https.ServerOptions, handler));
  return { ...up, caFile };
}

export async function startUpstream(t: Teardown, make: (h: http.RequestListener) => http.Server = (h) => http.createServer(h)): Promise<Upstream> {
  const received: Upstream['received'] = [];
  const server = make((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '', headers: req.headers, body });
      if (req.url?.startsWith('/slow/')) return; // never answered (a request in flight when Airlock stops)
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, n: received.length }));
    });
  });
  server.keepAliveTimeout = 500;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const up: Upstream = {
    port: (server.address() as { port: number }).port,
    received,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
  t.teardown(() => up.close());
  return up;
}

export interface Running {
  airlock: Airlock;
  home: string;
  studio: string;
  proxyUrl: string;
  agent: string;
  token: string;
  api: StudioApi;
  close(): Promise<void>;
}

/** Starts Airlock on `home` (reusing the agent when it already exists: restarts). */
export async function startRunning(t: Teardown, home: string, up: Upstream, token?: string, extra: AirlockOptions = {}): Promise<Running> {
  const airlock = await startAirlock({
    ...extra,
    home,
    policy: policyDir,
    proxy: '127.0.0.1:0',
    studio: '127.0.0.1:0',
    threads: 1,
    allowPrivate: [`127.0.0.1:${up.port}`, ...(extra.allowPrivate ?? [])],
    resolve: ['api.example=127.0.0.1', 'other.example=127.0.0.1'],
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await airlock.close();
  };
  t.teardown(close);
  const agent = 'bot';
  const tok = token ?? (await airlock.agents.add(agent)).token;
  const studio = `http://127.0.0.1:${airlock.studioAddress!.port}`;
  const api = await StudioApi.login(studio, home);
  return { airlock, home, studio, proxyUrl: airlock.proxyUrl(agent, tok), agent, token: tok, api, close };
}

export class StudioApi {
  private constructor(readonly base: string, readonly cookie: string, readonly csrf: string) {}

  static async login(base: string, home: string): Promise<StudioApi> {
    const token = fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim();
    const res = await fetch(`${base}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    if (!res.ok) throw new Error(`login failed: ${res.status}`);
    const { csrf } = (await res.json()) as { csrf: string };
    const cookie = res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    return new StudioApi(base, cookie, csrf);
  }

  async call(method: string, url: string, body?: unknown, opts: { csrf?: boolean; cookie?: boolean } = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = {};
    if (opts.cookie !== false) headers.cookie = this.cookie;
    if (opts.csrf !== false) headers['x-airlock-csrf'] = this.csrf;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${url}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /**
   * Waits (bounded) until `count` pending approvals hold a request (an approval is listed the moment
   * it is created, just before its request is held); returns them newest first.
   */
  async pending(count = 1, maxMs = 20_000): Promise<ApprovalRecord[]> {
    const until = Date.now() + maxMs;
    for (let i = 0; i < 1000 && Date.now() < until; i++) {
      const r = await this.call('GET', '/api/approvals?status=pending');
      const list = ((r.body.approvals ?? []) as Array<ApprovalRecord & { held: boolean }>).filter((a) => a.held);
      if (list.length >= count) return list;
      await new Promise((res) => setTimeout(res, 25));
    }
    throw new Error(`no ${count} pending approval(s) within ${maxMs} ms`);
  }
}

export interface AgentReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): Record<string, unknown>;
}

/** The agent's request with curl (absolute-form through the proxy). */
export async function curl(r: Running, method: string, url: string, opts: { body?: string; headers?: Record<string, string>; cacert?: string } = {}): Promise<AgentReply> {
  const args = ['-sS', '--max-time', '30', '-x', r.proxyUrl, '-X', method, '-D', '-', '-o', '-'];
  if (opts.cacert) args.push('--cacert', opts.cacert);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (opts.body !== undefined) args.push('-H', 'content-type: application/json', '--data-binary', opts.body);
  args.push(url);
  const { stdout } = await run('curl', args, { maxBuffer: 1 << 20 });
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of head.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = stdout.slice(split + 4);
  return { status: Number(head[0]!.split(' ')[1]), headers, body, json: () => JSON.parse(body) as Record<string, unknown> };
}

/** The agent's request with undici through a ProxyAgent. */
export async function undiciRequest(r: Running, method: string, url: string, opts: { body?: string; headers?: Record<string, string> } = {}): Promise<AgentReply> {
  const dispatcher = new ProxyAgent({ uri: `http://${r.airlock.proxyAddress.host}:${r.airlock.proxyAddress.port}`, token: `Basic ${Buffer.from(`${r.agent}:${r.token}`).toString('base64')}` });
  try {
    const res = await request(url, {
      dispatcher, method: method as 'GET',
      headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(opts.headers ?? {}) },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      headersTimeout: 30_000, bodyTimeout: 30_000,
    });
    const body = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body, json: () => JSON.parse(body) as Record<string, unknown> };
  } finally {
    await dispatcher.close();
  }
}

/**
 * Runs the `airlock` CLI in this process (same code as bin/airlock.js, without a node start per
 * call, which costs seconds on a busy machine). Returns exit code and captured output.
 */
export async function cliInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../cli/main.ts');
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  const savedExit = process.exitCode;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    process.exitCode = savedExit;
  }
}
