// Airlock as a benchmark contestant, run exactly as a user runs it: `airlock start` (the CLI with
// the Node flags of its `#!` line, as `airlock` and `npm start` run it; its
// log line per decision on stdout, which the bench reads and throws away) in its own process, with
// a state folder of its own holding one agent and one stored secret (github_token), so every
// request is authenticated, described, decided by Rego compiled to WebAssembly, audited, and — on
// the default policy's HTTPS GitHub reads — given an injected credential and a scrubbed answer.
//
// Two policies:
//   allow-all  bench/lib/policy-allow-all: one unconditional allow (the proxy machinery's cost)
//   default    the checkout's own rego/ (what `airlock start` runs), its rego/config/data.json with
//              the rate limits and egress budgets raised so a benchmark is never throttled; every
//              request is still charged against them
// api.github.com is pinned (--resolve) to the local origin on both ports, so a GitHub read never
// leaves the machine.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { spawnSync } from 'node:child_process';
import { readLine, start, type Proc } from './proc.ts';

export type AirlockPolicy = 'allow-all' | 'default';

/** The secret stored in every bench Airlock, and the credential the default policy injects for api.github.com. */
export const benchSecret = 'ghp_benchmarkTokenNotARealOne0123456789';

export interface AirlockStartOptions {
  /** The checkout whose bin/airlock.js and rego/ run (this one, or a baseline to compare with). */
  root: string;
  policy: AirlockPolicy;
  /** A scratch folder (the state folder and policy copy go in here). */
  tmp: string;
  origin: { http: number; https?: number };
  /** The CA file the origin's HTTPS certificate is checked against. */
  upstreamCa?: string;
  /** Node flags for the Airlock process (e.g. --cpu-prof), and extra environment. */
  nodeFlags?: string[];
  env?: NodeJS.ProcessEnv;
  label?: string;
}

export interface RunningAirlock {
  name: string;
  proc: Proc;
  proxyUrl: string;
  proxyAuthorization: string;
  home: string;
  /** Airlock's CA certificate (PEM): what an agent trusts for interception. */
  caPem: string;
  /** More agents' Proxy-Authorization values, for the idle-connections phase (see Target). */
  idleAuthorizations: string[];
}

/** Agents the idle-connections phase spreads its connections over (256 idle connections each at most). */
const idleAgents = 6;

const here = path.dirname(new URL(import.meta.url).pathname);

/** The Node flags the `airlock` command runs with (its `#!/usr/bin/env -S node …` line): what users get from `airlock` and `npm start`. */
function commandFlags(root: string): string[] {
  const first = fs.readFileSync(path.join(root, 'bin', 'airlock.js'), 'utf8').split('\n', 1)[0]!;
  return /^#!\/usr\/bin\/env -S node\s+(.+)$/.exec(first)?.[1]?.trim().split(/\s+/) ?? [];
}

function cli(root: string, args: string[], input?: string): string {
  const r = spawnSync(process.execPath, [path.join(root, 'bin', 'airlock.js'), ...args], { cwd: root, encoding: 'utf8', input, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`airlock ${args.join(' ')}: ${(r.stderr || r.stdout).trim().slice(-400)}`);
  return r.stdout;
}

/** The default policy of `root`, with only its throttles raised (see the header). */
function defaultPolicyCopy(root: string, dest: string): string {
  fs.cpSync(path.join(root, 'rego'), dest, { recursive: true });
  const file = path.join(dest, 'config', 'data.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const unlimited = { limit: 1_000_000_000, window: '1m' };
  const limits = (config.rate_limits ?? {}) as Record<string, unknown>;
  for (const kind of ['read', 'write', 'send', 'delete', 'pay', 'admin', 'host', 'mcp', ...Object.keys(limits)]) limits[kind] = unlimited;
  config.rate_limits = limits;
  config.egress_budget = { limit: 2 ** 50, window: '1h' };
  config.egress_budgets = {};
  fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return dest;
}

export async function startAirlock(o: AirlockStartOptions): Promise<RunningAirlock> {
  const name = o.label ?? `airlock (${o.policy})`;
  const home = fs.mkdtempSync(path.join(o.tmp, `airlock-${o.policy}-`));
  const addAgent = (agent: string): URL => new URL(cli(o.root, ['agent', 'add', agent, '--home', home]).trim().split('\n').find((l) => l.startsWith('http://'))!);
  const basic = (u: URL): string => `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
  const url = addAgent('bench');
  const idleAuthorizations = Array.from({ length: idleAgents }, (_, i) => basic(addAgent(`bench-idle-${i + 1}`)));
  cli(o.root, ['secret', 'set', 'github_token', '--host', 'api.github.com', '--home', home], benchSecret);
  const policy = o.policy === 'default'
    ? defaultPolicyCopy(o.root, fs.mkdtempSync(path.join(o.tmp, 'policy-default-')))
    : path.join(here, 'policy-allow-all');
  const args = ['start', '--home', home, '--policy', policy, '--proxy', '127.0.0.1:0', '--no-studio',
    '--allow-private', `127.0.0.1:${o.origin.http}`, '--resolve', `api.github.com:80=127.0.0.1:${o.origin.http}`];
  if (o.origin.https) args.push('--allow-private', `127.0.0.1:${o.origin.https}`, '--resolve', `api.github.com:443=127.0.0.1:${o.origin.https}`);
  if (o.upstreamCa) args.push('--upstream-ca', o.upstreamCa);
  const proc = start(name, process.execPath, [...commandFlags(o.root), ...(o.nodeFlags ?? []), path.join(o.root, 'bin', 'airlock.js'), ...args], o.env ?? {}, o.root);
  // Compiling the default policy with opa takes a while on a busy machine.
  const port = await readLine(proc, (line) => /proxy on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1], 300_000);
  return {
    name, proc, home,
    proxyUrl: `http://127.0.0.1:${port}`,
    proxyAuthorization: basic(url),
    caPem: fs.readFileSync(path.join(home, 'ca.pem'), 'utf8'),
    idleAuthorizations,
  };
}

export interface AuditCounts {
  records: number;
  byOutcome: Record<string, number>;
  /** Denials the engine made without the policy's answer, by kind (timeout = over the evaluation budget). */
  failClosed: Record<string, number>;
  /** The first few fail-closed reasons, for the report. */
  samples: string[];
}

/** Counts the records of <home>/audit.jsonl (streamed: the file can be large). */
export async function auditCounts(home: string, since?: Date): Promise<AuditCounts> {
  const counts: AuditCounts = { records: 0, byOutcome: {}, failClosed: {}, samples: [] };
  const file = path.join(home, 'audit.jsonl');
  if (!fs.existsSync(file)) return counts;
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  const sinceIso = since?.toISOString();
  for await (const line of lines) {
    if (!line.trim()) continue;
    // Records start with their RFC 3339 time: skip older ones without parsing them (the file holds every earlier phase too).
    if (sinceIso && line.startsWith('{"time":"') && line.slice(9, 9 + sinceIso.length) < sinceIso) continue;
    const r = JSON.parse(line) as { time: string; outcome: string; decision?: { reason: string; fail_closed?: string } };
    if (since && new Date(r.time) < since) continue;
    counts.records++;
    counts.byOutcome[r.outcome] = (counts.byOutcome[r.outcome] ?? 0) + 1;
    const fc = r.decision?.fail_closed;
    if (fc) {
      counts.failClosed[fc] = (counts.failClosed[fc] ?? 0) + 1;
      if (counts.samples.length < 3) counts.samples.push(r.decision!.reason);
    }
  }
  return counts;
}
