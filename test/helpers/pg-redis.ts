// Real PostgreSQL and Redis for the tests: each started by the test itself on 127.0.0.1 with a free
// port, its files (and PostgreSQL's Unix socket) in a temporary folder, stopped and removed at the
// end. Where the Debian binaries are missing the caller skips with the reason `missing*` returns
// (CI installs them: .ci/run). As root, PostgreSQL runs as the `postgres` user (initdb refuses root).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Teardown } from '../temp-dir.ts';

const PG_BIN = process.env.AIRLOCK_TEST_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const REDIS_SERVER = process.env.AIRLOCK_TEST_REDIS ?? '/usr/bin/redis-server';

/** Why PostgreSQL cannot be started here, or undefined when it can. */
export function missingPostgres(): string | undefined {
  return fs.existsSync(path.join(PG_BIN, 'initdb')) ? undefined : `PostgreSQL binaries not found in ${PG_BIN} (apt-get install postgresql; .ci/run does)`;
}

export function missingRedis(): string | undefined {
  return fs.existsSync(REDIS_SERVER) ? undefined : `redis-server not found at ${REDIS_SERVER} (apt-get install redis-server; .ci/run does)`;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function run(cmd: string, args: string[], opts: { asPostgres?: boolean; timeoutMs?: number } = {}): Promise<{ code: number; out: string }> {
  const [bin, argv] = opts.asPostgres && asRoot ? ['/usr/sbin/runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return new Promise((resolve) => {
    const child = spawn(bin, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, out });
    });
  });
}

export interface TestPostgres {
  port: number;
  dir: string;
  /** A connection URL for a database (default: the cluster's `postgres`). */
  url(db?: string): string;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: open connections are cut). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
}

let dbCounter = 0;

const INITDB_ARGS = ['-U', 'airlock', '--auth=trust', '-E', 'UTF8', '--no-sync'];

/**
 * A cluster made by initdb once per machine (for these binaries and arguments), in the temporary
 * folder; each test's cluster starts as a copy of it. Made in a folder of its own and renamed into
 * place, so test files starting at once never see half of one.
 */
async function templateCluster(): Promise<string> {
  const key = Buffer.from(JSON.stringify([PG_BIN, INITDB_ARGS, asRoot])).toString('base64url').slice(0, 48);
  const template = path.join(os.tmpdir(), `airlock-pg-template-${key}`);
  const data = path.join(template, 'data');
  if (fs.existsSync(path.join(data, 'PG_VERSION'))) return data;
  const building = fs.mkdtempSync(`${template}.tmp-`);
  if (asRoot) spawnSync('chown', ['postgres:postgres', building]);
  const init = await run(path.join(PG_BIN, 'initdb'), ['-D', path.join(building, 'data'), ...INITDB_ARGS], { asPostgres: true });
  if (init.code !== 0) throw new Error(`initdb failed: ${init.out}`);
  try {
    fs.renameSync(building, template);
  } catch {
    // Another test file put its template there first: the same cluster.
    fs.rmSync(building, { recursive: true, force: true, maxRetries: 10 });
  }
  return data;
}

/** Starts a PostgreSQL cluster in a temporary folder; stopped and removed when the test ends. */
export async function startPostgres(t: Teardown): Promise<TestPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-pg-'));
  if (asRoot) spawnSync('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  // A copy of a fresh cluster is that fresh cluster, at a tenth of initdb's CPU.
  const copied = await run('cp', ['-a', await templateCluster(), data]);
  if (copied.code !== 0) throw new Error(`copying the template cluster failed: ${copied.out}`);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
  let running = false;
  const pg: TestPostgres = {
    port,
    dir,
    url: (db = 'postgres') => `postgres://airlock@127.0.0.1:${port}/${db}`,
    async createDatabase(name) {
      const db = `${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${++dbCounter}`;
      const r = await run(path.join(PG_BIN, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'airlock', '-d', 'postgres', '-qc', `CREATE DATABASE ${db}`]);
      if (r.code !== 0) throw new Error(`CREATE DATABASE failed: ${r.out}`);
      return pg.url(db);
    },
    async stop() {
      if (!running) return;
      running = false;
      await run(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { asPostgres: true });
    },
    async start() {
      const r = await run(path.join(PG_BIN, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-o', opts, '-w', '-t', '60', 'start'], { asPostgres: true });
      if (r.code !== 0) throw new Error(`pg_ctl start failed: ${r.out}\n${fs.existsSync(path.join(dir, 'log')) ? fs.readFileSync(path.join(dir, 'log'), 'utf8').slice(-2000) : ''}`);
      running = true;
    },
  };
  t.teardown(async () => {
    await pg.stop();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
  });
  // A test process stopped before its teardown (a runner's timeout) must not leave the server behind.
  const onExit = (): void => {
    if (!running) return;
    const ctl = [path.join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', 'stop'];
    if (asRoot) spawnSync('/usr/sbin/runuser', ['-u', 'postgres', '--', ...ctl]);
    else spawnSync(ctl[0]!, ctl.slice(1));
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
  };
  process.once('exit', onExit);
  process.once('SIGTERM', () => process.exit(143));
  await pg.start();
  return pg;
}

export interface TestRedis {
  port: number;
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Starts redis-server on a free loopback port, no persistence, its folder temporary. */
/** `extra`: more of redis-server's options (a TLS port, say). */
export async function startRedis(t: Teardown, extra: string[] = []): Promise<TestRedis> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-redis-'));
  const port = await freePort();
  let child: ReturnType<typeof spawn> | undefined;
  const redis: TestRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 20_000);
        child!.stdout!.on('data', (c) => {
          out += c;
          if (out.includes('Ready to accept connections')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child!.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`redis-server exited (${code}): ${out}`));
        });
      });
      child.stdout!.resume();
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
  };
  t.teardown(async () => {
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
  });
  process.once('exit', () => {
    child?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
  });
  process.once('SIGTERM', () => process.exit(143));
  await redis.start();
  return redis;
}
