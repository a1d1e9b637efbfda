// Shared set-up for studio tests: a project folder with a policy and fixtures, a state folder,
// a studio app (inject) and a logged-in session.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { PolicyEngine } from '../../engine/engine.ts';
import { startStudio } from '../../studio/server.ts';

export const TOKEN = 'test-admin-token-0123456789-abcdefghijklmnop';
export const HOST = '127.0.0.1:8081';
export const ORIGIN = 'http://127.0.0.1:8081';

export const basePolicy = `package airlock

import rego.v1

default decision := {"action": "deny", "reason": "default deny", "rule": "default"}

decision := {"action": "allow", "reason": "reads are fine", "rule": "read"} if {
	input.request.method == "GET"
}
`;

export const baseTest = `package airlock_test

import rego.v1

import data.airlock

test_get_allowed if {
	airlock.decision.action == "allow" with input as {"request": {"method": "GET"}}
}
`;

export const trafficTests = `agent: bot
cases:
  - name: reads are allowed
    request:
      method: GET
      url: https://api.github.com/repos/acme/app
    expect:
      action: allow
      rule: read
  - name: deletes are denied
    request:
      method: DELETE
      url: https://api.github.com/repos/acme/app
    expect:
      action: deny
`;

export function description(method: string, url: string, time = '2026-01-05T10:00:00Z'): Record<string, unknown> {
  const u = new URL(url);
  return {
    request: {
      id: `r-${method}-${u.pathname}`,
      time,
      method,
      url,
      scheme: u.protocol.replace(':', ''),
      host: u.hostname,
      port: Number(u.port || 443),
      path: u.pathname,
      segments: u.pathname.split('/').filter(Boolean),
      query: {},
      headers: {},
      body: { size: 0, sha256: '', content_type: '', truncated: false },
      egress_bytes: url.length,
    },
    agent: { id: 'bot', labels: {} },
    placeholders: [],
    grants: [],
  };
}

/** A project root (rego/ + fixtures/) and a state folder, removed by the caller's teardown. */
export function makeProject(): { root: string; home: string; policy: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-studio-test-'));
  const policy = path.join(root, 'rego');
  fs.mkdirSync(policy);
  fs.writeFileSync(path.join(policy, 'airlock.rego'), basePolicy);
  fs.writeFileSync(path.join(policy, 'airlock_test.rego'), baseTest);
  fs.mkdirSync(path.join(root, 'fixtures'));
  const lines = [
    { input: description('GET', 'https://api.github.com/repos/acme/app') },
    { input: description('DELETE', 'https://api.github.com/repos/acme/app') },
    { input: description('POST', 'https://api.github.com/repos/acme/app/issues') },
  ];
  fs.writeFileSync(path.join(root, 'fixtures', 'sample.jsonl'), lines.map((l) => JSON.stringify(l.input)).join('\n') + '\n');
  // Traffic tests, as `airlock test` finds them (fixtures/tests/): the studio's tests and publish run them.
  fs.mkdirSync(path.join(root, 'fixtures', 'tests'));
  fs.writeFileSync(path.join(root, 'fixtures', 'tests', 'basic.yaml'), trafficTests);
  const home = path.join(root, 'home');
  return { root, home, policy, cleanup: () => fs.rmSync(root, { recursive: true, force: true, maxRetries: 10 }) };
}

export interface Session {
  cookie: string;
  csrf: string;
  /** inject with the session cookie, Host, Origin and CSRF header set. */
  call(opts: InjectOptions): Promise<LightMyRequestResponse>;
}

export async function loginSession(app: FastifyInstance): Promise<Session> {
  const res = await app.inject({ method: 'POST', url: '/api/login', headers: { host: HOST, origin: ORIGIN }, payload: { token: TOKEN } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  const setCookie = String(res.headers['set-cookie']);
  const cookie = setCookie.split(';')[0]!;
  const csrf = (res.json() as { csrf: string }).csrf;
  return {
    cookie,
    csrf,
    call: (opts) =>
      app.inject({
        ...opts,
        headers: { host: HOST, origin: ORIGIN, cookie, 'x-airlock-csrf': csrf, ...(opts.headers ?? {}) },
      } as InjectOptions) as Promise<LightMyRequestResponse>,
  };
}

/** The inbox ignores actions on a card that changed in the last 700 ms (studio/app/approvals-view.ts GUARD_MS). */
export const GUARD_MS = 700;

/** A person looks at a card before acting on it: longer than the inbox's guard. */
export function look(page: Page): Promise<void> {
  return page.waitForTimeout(GUARD_MS + 200);
}

/** Debian's Chromium, headless, in a fresh profile, at 1280x800; closed and removed at teardown. */
export async function openBrowser(t: { teardown(fn: () => unknown): void }): Promise<{ context: BrowserContext; page: Page }> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-chromium-'));
  t.teardown(() => fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10 }));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    // Without the background-networking flags Chromium keeps dialing out of a closed network.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  t.teardown(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  return { context, page };
}

/**
 * Chromium logged in to a live Airlock's studio, on the approvals page once its live feed is up;
 * script errors of the page are collected (a test ends by checking there were none).
 */
export async function openInbox(t: { teardown(fn: () => unknown): void }, live: { studioBase: string; adminToken: string }): Promise<{ context: BrowserContext; page: Page; consoleErrors: string[] }> {
  const { context, page } = await openBrowser(t);
  const consoleErrors: string[] = [];
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${live.studioBase}/#token=${live.adminToken}`);
  await page.waitForSelector('nav');
  await page.click('nav >> a[href="#/approvals"]');
  await page.waitForFunction(() => document.querySelector('[data-testid=conn]')?.textContent?.includes('live'));
  return { context, page, consoleErrors };
}

/**
 * A studio serving a fresh project on a random port, with its own live engine (the role the
 * proxy's engine plays in `airlock start`); everything is closed at teardown.
 */
export async function startTestStudio(t: { teardown(fn: () => unknown): void }) {
  const project = makeProject();
  t.teardown(project.cleanup);
  const engine = new PolicyEngine({ mode: 'inline' });
  await engine.loadFolder(project.policy);
  t.teardown(() => engine.close());
  const studio = await startStudio({ home: project.home, policyDir: project.policy, engine, proxyAddress: { host: '127.0.0.1', port: 8080 } }, { port: 0, log: () => undefined, projectRoot: project.root });
  t.teardown(() => studio.close().catch(() => undefined));
  return { project, engine, studio };
}

/**
 * A whole Airlock (proxy + studio, as `airlock start` runs it) with `policyText` as its policy, a
 * local upstream that records what reaches it, and curl as the agent. Closed at teardown.
 */
export async function startLiveAirlock(t: { teardown(fn: () => unknown): void }, policyText: string, opts: { bodyCap?: number } = {}) {
  const { startAirlock } = await import('../../runtime/airlock.ts');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-studio-live-'));
  t.teardown(() => fs.rmSync(root, { recursive: true, force: true, maxRetries: 10 }));
  const policy = path.join(root, 'policy');
  fs.mkdirSync(policy);
  fs.writeFileSync(path.join(policy, 'airlock.rego'), policyText);
  const received: Array<{ method: string; url: string; body: string }> = [];
  const upstream = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, n: received.length }));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upPort = (upstream.address() as { port: number }).port;
  t.teardown(() => new Promise<void>((r) => (upstream.closeAllConnections(), upstream.close(() => r()))));
  const home = path.join(root, 'home');
  const airlock = await startAirlock({
    home, policy, proxy: '127.0.0.1:0', studio: '127.0.0.1:0', threads: 1, unixSocket: false,
    allowPrivate: [`127.0.0.1:${upPort}`], resolve: ['api.example=127.0.0.1'], log: () => undefined,
    ...(opts.bodyCap ? { bodyCap: opts.bodyCap } : {}),
  });
  t.teardown(() => airlock.close());
  const { token: agentToken } = await airlock.agents.add('bot');
  const proxyUrl = airlock.proxyUrl('bot', agentToken);
  const studioBase = `http://127.0.0.1:${airlock.studioAddress!.port}`;
  const adminToken = fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim();
  const base = `http://api.example:${upPort}`;

  /** curl through the proxy; `body` is a string or a file to send (`@file`). */
  // `signal`: the agent hangs up when it aborts (curl is killed), whenever the test chooses.
  const curl = (method: string, pathname: string, o: { body?: string; file?: string; type?: string; headers?: string[]; maxTime?: number; signal?: AbortSignal } = {}) => {
    const args = ['-sS', '--max-time', String(o.maxTime ?? 60), '-x', proxyUrl, '-X', method, '-o', '-', '-w', '\n%{http_code}'];
    if (o.body !== undefined || o.file !== undefined) args.push('-H', `content-type: ${o.type ?? 'application/json'}`, '--data-binary', o.file ? `@${o.file}` : o.body!);
    for (const h of o.headers ?? []) args.push('-H', h);
    args.push(`${base}${pathname}`);
    return new Promise<{ status: number; body: string }>((resolve) => {
      execFile('curl', args, { maxBuffer: 16 * 1024 * 1024, ...(o.signal ? { signal: o.signal } : {}) }, (_err, stdout) => {
        const i = stdout.lastIndexOf('\n');
        resolve({ status: Number(stdout.slice(i + 1)) || 0, body: stdout.slice(0, i) });
      });
    });
  };
  return { airlock, root, home, received, upPort, base, studioBase, adminToken, curl };
}
