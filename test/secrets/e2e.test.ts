// End to end: a whole Airlock (startAirlock) with a canary secret stored through the real CLI,
// local HTTPS upstreams that echo what they receive, and real agents — curl, Node fetch (undici
// ProxyAgent), Python requests — that hold only the placeholder. The bound upstream must see the
// real secret; the agents must never see it (echoes are scrubbed, even gzipped and split across
// chunks); a placeholder sent to another host is refused and that host receives nothing; and the
// canary appears nowhere: audit log, state files, problem bodies, errors, process arguments.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { startAirlock } from '../../runtime/airlock.ts';
import { placeholderFor } from '../../state/secrets/index.ts';
import { startUpstream, upstreamCa, tempDir, type UpstreamHandler } from '../attacks/helpers.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const cli = path.resolve(here, '../../bin/airlock.js');
const CANARY = 'sk-live-CANARY-7f3e9a1b2c4d6e8f-end';
const canaryForms = [
  CANARY,
  Buffer.from(CANARY).toString('base64').slice(4, 36),
  Buffer.from(CANARY).toString('base64url').slice(4, 36),
  Buffer.from(CANARY).toString('hex'),
  Buffer.from(CANARY).toString('hex').toUpperCase(),
];

function leaks(text: string): string[] {
  return canaryForms.filter((f) => text.includes(f));
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const argvSeen: string[][] = [];
const outputs: string[] = [];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<Run> {
  argvSeen.push([cmd, ...args]);
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { env, timeout: 25_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      outputs.push(stdout, stderr);
      if (err && typeof (err as { code?: unknown }).code !== 'number') return reject(err);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** The upstream that echoes the request, gzipped when accepted, written in small chunks. */
const echoInPieces: UpstreamHandler = (req, res, body) => {
  if (req.url === '/big') return serveBig(res);
  const auth = String(req.headers.authorization ?? '');
  const payload = Buffer.from(JSON.stringify({
    url: req.url, authorization: auth, authorization_b64: Buffer.from(auth).toString('base64'), body: body.toString('utf8'),
  }));
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const out = gzip ? zlib.gzipSync(payload) : payload;
  res.writeHead(200, `OK ${auth}`, { 'content-type': 'application/json', 'x-echo-auth': auth, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
  for (let i = 0; i < out.length; i += 5) res.write(out.subarray(i, i + 5));
  res.end();
};

/** 96 MiB, as fast as the reader takes it; `written` counts what the upstream got rid of. */
const big = { written: 0, size: 96 * 1024 * 1024 };
function serveBig(res: import('node:http').ServerResponse): void {
  const block = Buffer.alloc(1024 * 1024, '{"row":"x"}\n');
  res.writeHead(200, { 'content-type': 'application/json' });
  let closed = false;
  res.on('close', () => (closed = true));
  const more = (): void => {
    while (!closed && big.written < big.size) {
      big.written += block.length;
      if (!res.write(block)) return void res.once('drain', more);
    }
    if (!closed) res.end();
  };
  more();
}

t.test('a canary secret through curl, Node fetch and Python requests', async (t) => {
  const home = tempDir(t, 'airlock-secrets-e2e-');
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, AIRLOCK_HOME: home };
  delete baseEnv.AIRLOCK_MASTER_KEY;
  delete baseEnv.AIRLOCK_MASTER_KEY_FILE;
  delete baseEnv.HTTP_PROXY;
  delete baseEnv.HTTPS_PROXY;
  delete baseEnv.http_proxy;
  delete baseEnv.https_proxy;
  delete baseEnv.NO_PROXY;
  delete baseEnv.no_proxy;
  const savedKey = process.env.AIRLOCK_MASTER_KEY;
  delete process.env.AIRLOCK_MASTER_KEY;
  t.teardown(() => {
    if (savedKey !== undefined) process.env.AIRLOCK_MASTER_KEY = savedKey;
  });

  // The operator stores the canary with the real CLI, value on stdin.
  const set = await run('node', [cli, 'secret', 'set', 'canary', '--env', 'CANARY_TOKEN', '--host', 'bound.example'], baseEnv, `${CANARY}\n`);
  t.equal(set.code, 0, set.stderr);
  const placeholder = (await placeholderFor(home, 'canary')) ?? '';
  t.match(set.stdout, `CANARY_TOKEN=${placeholder}`, 'the CLI printed the placeholder agents get');
  t.match(placeholder, /^airlock-ph-canary-[0-9a-f]{32}$/);

  const ca = await upstreamCa(t);
  const upstreamCaFile = path.join(home, 'upstream-ca.pem');
  fs.writeFileSync(upstreamCaFile, ca.certPem);
  const bound = await startUpstream(t, { tlsCa: ca, handler: echoInPieces });
  const other = await startUpstream(t, { tlsCa: ca });
  const missing = await startUpstream(t, { tlsCa: ca });

  const airlock = await startAirlock({
    home, policy: path.join(fixtures, 'policy'), studio: false, bodyCap: 64 * 1024, unixSocket: false, proxy: '127.0.0.1:0', threads: 1,
    upstreamCa: [upstreamCaFile],
    resolve: ['bound.example=127.0.0.1', 'other.example=127.0.0.1', 'missing.example=127.0.0.1'],
    allowPrivate: [`127.0.0.1:${bound.port}`, `127.0.0.1:${other.port}`, `127.0.0.1:${missing.port}`],
  });
  let closed = false;
  t.teardown(async () => {
    if (!closed) await airlock.close();
  });
  const { token } = await airlock.agents.add('agent-e2e');
  const proxyUrl = airlock.proxyUrl('agent-e2e', token);
  const caFile = path.join(home, 'ca.pem');
  t.ok(fs.existsSync(caFile), 'Airlock CA written to the state folder');
  const agentEnv: NodeJS.ProcessEnv = { ...baseEnv, PROXY_URL: proxyUrl, AIRLOCK_CA: caFile, CANARY_TOKEN: placeholder };
  delete agentEnv.AIRLOCK_HOME;

  const boundUrl = (p: string): string => `https://bound.example:${bound.port}${p}`;
  const otherUrl = `https://other.example:${other.port}/collect`;
  const noAuthEnv: NodeJS.ProcessEnv = { ...agentEnv, CLIENT_NO_AUTH: '1' };
  // `auth: false`: the client sends no Authorization header (the placeholder only where the body directive puts it).
  const clients: Record<string, (url: string, method?: string, body?: string, auth?: boolean) => Promise<Run>> = {
    curl: (url, method = 'GET', body, auth = true) => run('curl', [
      '-sS', '--compressed', '-D', '-', '-w', '\n%{http_code}', '--proxy', proxyUrl, '--cacert', caFile, '-X', method,
      ...(auth ? ['-H', `Authorization: Bearer ${placeholder}`] : []), '-H', 'Content-Type: application/json', ...(body ? ['--data-binary', body] : []), url,
    ], agentEnv),
    node: (url, method, body, auth = true) => run('node', [path.join(fixtures, 'client.mjs'), url, ...(method ? [method] : []), ...(body ? [body] : [])], auth ? agentEnv : noAuthEnv),
    python: (url, method, body, auth = true) => run('python3', [path.join(fixtures, 'client.py'), url, ...(method ? [method] : []), ...(body ? [body] : [])], auth ? agentEnv : noAuthEnv),
  };
  const statusOf = (name: string, r: Run): number => Number(name === 'curl' ? r.stdout.trim().split('\n').pop() : r.stdout.split('\n')[0]);

  for (const [name, call] of Object.entries(clients)) {
    await t.test(`${name}: header injection, echo scrubbed`, async (t) => {
      const before = bound.received.length;
      const r = await call(boundUrl(`/echo/${name}`));
      t.equal(statusOf(name, r), 200, r.stderr);
      const seen = bound.received.slice(before);
      t.equal(seen.length, 1);
      t.equal(seen[0]!.headers.authorization, `Bearer ${CANARY}`, 'the upstream sees the real secret');
      t.same(leaks(r.stdout + r.stderr), [], 'the agent never sees it');
      t.ok(r.stdout.includes(`Bearer ${placeholder}`), 'the echo shows the placeholder instead');
      t.ok(r.stdout.includes('"authorization_b64"'), 'the base64 echo is there (scrubbed)');
      if (name === 'curl') {
        t.match(r.stdout, new RegExp(`^HTTP/1\\.1 200 OK Bearer ${placeholder}\r?$`, 'm'), 'reason phrase scrubbed');
        t.match(r.stdout, new RegExp(`^x-echo-auth: Bearer ${placeholder}\r?$`, 'mi'), 'response header scrubbed');
      }
    });

    await t.test(`${name}: body substitution where the policy allows it, and only there`, async (t) => {
      const before = bound.received.length;
      const r = await call(boundUrl('/body/create'), 'POST', JSON.stringify({ token: placeholder, note: 'hi' }), false);
      t.equal(statusOf(name, r), 200, r.stderr);
      const seen = bound.received.slice(before);
      t.equal(seen.length, 1);
      t.same(JSON.parse(seen[0]!.body.toString()), { token: CANARY, note: 'hi' }, 'the upstream got the secret in the body');
      t.same(leaks(r.stdout + r.stderr), []);
      // The placeholder in a header too: a body directive does not put the secret there, so the request is refused.
      const both = await call(boundUrl('/body/create'), 'POST', JSON.stringify({ token: placeholder }));
      t.equal(statusOf(name, both), 403, both.stdout);
      t.match(both.stdout, /placeholder-not-bound/);
      t.equal(bound.received.length, before + 1, 'the refused request never reached the upstream');
    });

    await t.test(`${name}: the placeholder sent to an unbound host is refused; that host gets nothing`, async (t) => {
      const r = await call(otherUrl, 'POST', JSON.stringify({ exfil: placeholder }));
      t.equal(statusOf(name, r), 403, r.stdout);
      t.match(r.stdout, /placeholder-not-bound/);
      t.match(r.stdout, /secret \\?"canary\\?"/);
      t.equal(other.received.length, 0, 'other.example received no request');
      t.notOk(other.bytes().includes(placeholder), 'not a byte of the placeholder reached it');
      t.same(leaks(r.stdout + r.stderr), []);
    });
  }

  await t.test('a placeholder past the captured body prefix: the upload is stopped before it leaves, as a refusal', async (t) => {
    const bodyFile = path.join(home, 'big-body.txt');
    fs.writeFileSync(bodyFile, `${'x'.repeat(airlock.config.bodyCap + 256 * 1024)} ${Buffer.from(placeholder).toString('base64')} tail`);
    const before = other.received.length;
    const r = await run('curl', ['-sS', '-w', '\n%{http_code}', '--proxy', proxyUrl, '--cacert', caFile, '--data-binary', `@${bodyFile}`, otherUrl], agentEnv);
    t.equal(statusOf('curl', r), 403, r.stdout.slice(-300));
    t.match(r.stdout, /placeholder of secret \\"canary\\".*upload aborted/);
    t.equal(other.received.length, before, 'no complete request reached other.example');
    t.notOk(other.bytes().includes(Buffer.from(placeholder).toString('base64').slice(4, 30)), 'the encoded placeholder never arrived');
    fs.rmSync(bodyFile);
  });

  // Fourteenth pass: the answer's scrubbing stage took every chunk at once, so an agent that read
  // slowly (or not at all) had the whole answer pulled into Airlock's heap at network speed.
  await t.test('an agent reading a scrubbed answer slowly holds its upstream back', async (t) => {
    const reader = spawn('curl', ['-sS', '-o', '/dev/null', '--limit-rate', '16K', '--proxy', proxyUrl, '--cacert', caFile, '-H', `Authorization: Bearer ${placeholder}`, boundUrl('/big')], { env: agentEnv, stdio: 'ignore' });
    t.teardown(() => reader.kill('SIGKILL'));
    // Until the upstream stops getting rid of bytes (bounded: 10 s).
    let last = -1;
    for (let i = 0, still = 0; i < 100 && still < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      still = big.written > 0 && big.written === last ? still + 1 : 0;
      last = big.written;
    }
    reader.kill('SIGKILL');
    t.ok(big.written > 0 && big.written < big.size / 2, `the upstream is held back by the reader: ${Math.round(big.written / 1048576)} of ${big.size / 1048576} MiB left it`);
  });

  await t.test('a secret the policy names but the store lacks: refused, nothing sent', async (t) => {
    const r = await run('curl', ['-sS', '-w', '\n%{http_code}', '--proxy', proxyUrl, '--cacert', caFile, `https://missing.example:${missing.port}/x`], agentEnv);
    t.equal(statusOf('curl', r), 503);
    t.match(r.stdout, /credential-missing/);
    t.equal(missing.received.length, 0);
  });

  await t.test('`airlock secret list` while running: names and hosts, never the value', async (t) => {
    const r = await run('node', [cli, 'secret', 'list'], baseEnv);
    t.match(r.stdout, /canary\s+\S+\s+CANARY_TOKEN\s+bound\.example/);
    t.same(leaks(r.stdout + r.stderr), []);
  });

  await airlock.close();
  closed = true;

  await t.test('the canary appears nowhere the agent or an operator could read it', async (t) => {
    // Audit log (closed, so flushed): requests recorded, credentials by name only.
    const auditText = fs.readFileSync(path.join(home, 'audit.jsonl'), 'utf8');
    const records = auditText.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; extra?: { credentials?: { injected: Array<{ secret: string }> } } });
    t.ok(records.length >= 10, `audit has the requests (${records.length})`);
    t.ok(records.some((r) => r.extra?.credentials?.injected.some((c) => c.secret === 'canary')), 'injection recorded by name');
    t.ok(records.some((r) => r.outcome === 'denied'), 'the refused exfiltration is recorded');
    t.same(leaks(auditText), [], 'audit log');
    // Every file in the state folder (secrets.json is encrypted; key file is not the value).
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
    for (const file of walk(home)) {
      if (fs.statSync(file).isFile()) t.same(leaks(fs.readFileSync(file).toString('latin1')), [], `state file ${path.basename(file)}`);
    }
    // Everything the agents and the CLI printed (problem+json bodies and error messages included).
    t.same(leaks(outputs.join('\n')), [], 'client outputs, problem bodies, CLI output and errors');
    // Process arguments: ours and every process the test started.
    t.same(leaks(fs.readFileSync('/proc/self/cmdline', 'latin1')), [], 'this process\'s arguments');
    t.same(leaks(JSON.stringify(argvSeen)), [], 'arguments of every spawned process');
  });
});

t.test('secret values never go through argv: `ps` during a running `secret set` shows no value', async (t) => {
  const home = tempDir(t, 'airlock-secrets-argv-');
  const env: NodeJS.ProcessEnv = { ...process.env, AIRLOCK_HOME: home };
  delete env.AIRLOCK_MASTER_KEY;
  const child = spawn('node', [cli, 'secret', 'set', 'canary'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  // Once exec'd, while it waits for stdin, look at its command line as other users would.
  await once(child, 'spawn');
  const cmdline = fs.readFileSync(`/proc/${child.pid}/cmdline`, 'latin1');
  child.stdin.end(CANARY);
  const code = await new Promise((resolve) => child.on('close', resolve));
  t.equal(code, 0);
  t.match(cmdline, /secret\0set\0canary/);
  t.same(leaks(cmdline), []);
});
