// Class: a full disk turns auditing off. An agent (or anything else on the machine) fills the disk
// that holds the audit log; before, one ENOSPC ended the audit stream for the life of the process
// while requests kept flowing, unrecorded. Must hold: while a record cannot be written, requests
// get 503 problem+json `audit-unavailable` and nothing reaches the upstream; when space returns
// Airlock recovers by itself; every request that got an answer is in the log exactly once, and
// no line is torn.
//
// The ENOSPC is real: the state folder lives on a small tmpfs this test mounts (root), filled with
// a file until the kernel refuses. Where mounting is not permitted (an unprivileged container) the
// end-to-end part is skipped, loudly; the writer's own behaviour is then still checked against a
// file on that tmpfs-less disk by the unit part below, which needs no privileges.
import t, { type Test } from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AuditLog } from '../../state/audit-log.ts';
import { JournalSessionStore } from '../../state/sessions.ts';
import { withFileLock } from '../../state/document.ts';
import { RecordDir } from '../../state/record-dir.ts';
import { TotpStore } from '../../state/totp.ts';
import { AgentStore } from '../../state/agents.ts';
import { JsonlTail } from '../../studio/live.ts';
import { isStoreUnavailable } from '../../state/unavailable.ts';
import { startAirlock } from '../../runtime/airlock.ts';
import net from 'node:net';
import { WebSocket } from 'ws';
import { HttpProxyAgent } from 'http-proxy-agent';
import { eventually, fixtures, isProblem, startUpstream, tempDir, viaProxy } from './helpers.ts';
import { startWsUpstream } from './websocket-helpers.ts';
import { stalledFile } from '../helpers/stalled-file.ts';
import { fuseMount } from '../helpers/fuse-mount.ts';
import { startRunning, startUpstream as startApprovalsUpstream } from '../approvals/helpers.ts';

/** An allow-all Airlock on `home` with one agent, and an upstream it may reach as up.test. */
async function allowAllAirlock(t: Test, home: string): Promise<{ up: Awaited<ReturnType<typeof startUpstream>>; airlock: Awaited<ReturnType<typeof startAirlock>>; auth: string }> {
  const up = await startUpstream(t);
  const airlock = await startAirlock({
    home, policy: path.join(fixtures, 'allow-all'), proxy: '127.0.0.1:0', studio: false, unixSocket: false, threads: 1,
    resolve: ['up.test=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`],
  });
  t.teardown(() => airlock.close());
  const { token } = await airlock.agents.add('agent');
  return { up, airlock, auth: `Basic ${Buffer.from(`agent:${token}`).toString('base64')}` };
}

function tryMount(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes a file until the filesystem refuses: afterwards not one more page fits. */
function fill(file: string): void {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(4096, 120);
  try {
    for (let i = 0; i < 1_000_000; i++) fs.writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
}

/** A 2 MiB tmpfs mounted for the test (unmounted after it), or undefined (skipped loudly) where this machine refuses to mount. */
function smallTmpfs(t: Test): string | undefined {
  const mnt = tempDir(t, 'airlock-tmpfs-');
  if (process.getuid?.() !== 0 || !tryMount(mnt, '2m')) {
    t.skip('SKIPPED LOUDLY: mounting a small tmpfs (to make the disk really full) needs root with CAP_SYS_ADMIN; this machine refused', () => undefined);
    return undefined;
  }
  t.teardown(() => execFileSync('umount', ['-l', mnt]));
  return mnt;
}

t.test('disk full: 503 audit-unavailable, nothing forwarded; space returns: recovers, nothing answered is missing from the log', async (t) => {
  const mnt = smallTmpfs(t);
  if (!mnt) return;
  const home = path.join(mnt, 'home');
  const { up, airlock, auth } = await allowAllAirlock(t, home);
  const port = airlock.proxyAddress.port;
  const answered = new Map<string, number>(); // path → status the agent got
  let n = 0;
  const request = async (): Promise<{ path: string; status: number; type?: string; ok: boolean }> => {
    const p = `/r/${n++}`;
    const r = await viaProxy(port, `http://up.test:${up.port}${p}`, { auth });
    answered.set(p, r.status);
    const problem = r.headers['content-type']?.startsWith('application/problem+json') ? (JSON.parse(r.body) as { type?: string }) : undefined;
    return { path: p, status: r.status, ...(problem?.type ? { type: problem.type } : {}), ok: problem ? isProblem(r) : true };
  };

  t.equal((await request()).status, 200, 'control: forwarded while the disk has room');
  const filler = path.join(mnt, 'filler');
  fill(filler);

  // The records of the next requests no longer fit: the first refused write flips the proxy to 503.
  let first503: { path: string; status: number; type?: string; ok: boolean } | undefined;
  for (let i = 0; i < 2000 && !first503; i++) {
    const r = await request();
    if (r.status === 503) first503 = r;
    else if (r.status !== 200) t.fail(`unexpected ${r.status}`);
  }
  t.ok(first503, 'requests get 503 once records cannot be written');
  t.match(first503?.type, /audit-unavailable$/, 'type audit-unavailable');
  t.ok(first503?.ok, 'problem+json');
  const reachedBefore = up.received.length;
  for (let i = 0; i < 20; i++) t.equal((await request()).status, 503, `request ${i} while full: 503`);
  t.equal(up.received.length, reachedBefore, 'nothing reached the upstream while the log could not be written');

  // Space returns: Airlock notices by itself (its retry succeeds) and lets requests through again.
  fs.rmSync(filler);
  let recovered = false;
  for (let i = 0; i < 100 && !recovered; i++) {
    const r = await request();
    if (r.status === 200) recovered = true;
    else await new Promise((res) => setTimeout(res, 100));
  }
  t.ok(recovered, 'forwarding resumes once space returns, with no restart');
  await airlock.audit.flush();

  const lines = fs.readFileSync(airlock.audit.file, 'utf8').split('\n').filter(Boolean);
  const parsed = lines.map((l) => {
    try {
      return JSON.parse(l) as { url?: string; status?: number; outcome: string };
    } catch {
      return undefined;
    }
  });
  t.ok(parsed.every(Boolean), `no torn line among ${lines.length}`);
  const byPath = new Map<string, number>();
  for (const r of parsed) if (r?.url) byPath.set(new URL(r.url).pathname, (byPath.get(new URL(r.url).pathname) ?? 0) + 1);
  const missing = [...answered.keys()].filter((p) => byPath.get(p) !== 1);
  t.same(missing, [], `every one of the ${answered.size} answered requests is recorded exactly once`);
  const statusOf = new Map(parsed.map((r) => [r?.url ? new URL(r.url).pathname : '', r?.status]));
  t.ok([...answered].every(([p, s]) => statusOf.get(p) === s), 'with the status the agent got');
});

t.test('twenty-second pass: disk full while a WebSocket and an upload stream: nothing more leaves on them until records can be written', async (t) => {
  // A request refused 503 while records cannot be written may not go on as a stream opened just
  // before: a WebSocket's messages and an upload's rest kept leaving, and the records of what
  // crossed (the tunnel's end, the upload's) had nowhere to go.
  const mnt = smallTmpfs(t);
  if (!mnt) return;
  const { ws, up, airlock } = await streamingAirlock(t, path.join(mnt, 'home'));
  const { token } = await airlock.agents.add('agent');
  const auth = `Basic ${Buffer.from(`agent:${token}`).toString('base64')}`;
  const proxyUrl = `http://agent:${token}@127.0.0.1:${airlock.proxyAddress.port}`;
  // The WebSocket, open and used.
  const client = new WebSocket(`ws://up.test:${ws.port}/stream`, { agent: new HttpProxyAgent(proxyUrl), perMessageDeflate: false });
  let closed = 0;
  client.on('close', (c) => { closed = c; });
  client.on('error', () => undefined);
  await new Promise<void>((r, j) => client.once('open', () => r()).once('error', j));
  client.send('before');
  t.ok(await eventually(() => ws.conns[0]?.messages.length === 1), 'a message goes while the disk has room');
  // The upload, past the capture cap, still sending.
  const upload = net.connect(airlock.proxyAddress.port, '127.0.0.1');
  upload.on('error', () => undefined);
  upload.write(`POST http://up.test:${up.port}/upload HTTP/1.1\r\nHost: up.test:${up.port}\r\nProxy-Authorization: ${auth}\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const chunk = (n: number): string => `${n.toString(16)}\r\n${'u'.repeat(n)}\r\n`;
  upload.write(chunk(8192));
  t.ok(await eventually(() => up.bytes().includes('u'.repeat(4096)), 5000), 'the upload streams past the capture cap');

  fill(path.join(mnt, 'filler'));
  let refused = false;
  for (let i = 0; i < 2000 && !refused; i++) {
    const r = await viaProxy(airlock.proxyAddress.port, `http://up.test:${up.port}/r/${i}`, { auth });
    refused = r.status === 503;
  }
  t.ok(refused, 'requests get 503 once records cannot be written');
  const uploaded = up.bytes().length;
  client.send('while-full');
  upload.write(chunk(8192));
  await new Promise((r) => setTimeout(r, 300));
  t.same(ws.conns[0]?.messages.map((m) => m.data.toString()), ['before'], 'no message leaves on the open WebSocket');
  t.ok(up.bytes().length - uploaded < 8192, `the upload's next chunk does not leave (${up.bytes().length - uploaded} bytes more)`);
  t.ok(await eventually(() => closed !== 0, 3000), `the WebSocket is closed (${closed})`);
  client.terminate();
  upload.destroy();
});

t.test("twenty-third pass: one agent's records waiting past its share (a slow disk, not a dead one): its open WebSocket and upload send nothing more, a neighbour's go on", async (t) => {
  // The twenty-second pass stopped streams on a whole outage only: an agent whose own records wait
  // past its share gets 503 on every new request while the log stays available to others, yet its
  // WebSocket and its upload past the capture kept sending (Pipeline.auditUnavailable was asked
  // without the agent).
  const { dir: home, fifo } = stalledFile(t, 'hunt23-tunnels-share-', 'audit.jsonl'); // the audit disk, stalled
  const { ws, up, airlock } = await streamingAirlock(t, home);
  const open = async (name: string): Promise<{ auth: string; client: WebSocket; closed: () => number }> => {
    const { token } = await airlock.agents.add(name);
    const client = new WebSocket(`ws://up.test:${ws.port}/${name}`, { agent: new HttpProxyAgent(`http://${name}:${token}@127.0.0.1:${airlock.proxyAddress.port}`), perMessageDeflate: false });
    let closed = 0;
    client.on('close', (c) => { closed = c; });
    client.on('error', () => undefined);
    await new Promise<void>((r, j) => client.once('open', () => r()).once('error', j));
    t.teardown(() => client.terminate());
    return { auth: `Basic ${Buffer.from(`${name}:${token}`).toString('base64')}`, client, closed: () => closed };
  };
  const hog = await open('hog');
  const neighbour = await open('neighbour');
  hog.client.send('before');
  t.ok(await eventually(() => ws.conn('/hog')?.messages.length === 1), 'a message goes while the disk keeps up');
  const upload = net.connect(airlock.proxyAddress.port, '127.0.0.1');
  upload.on('error', () => undefined);
  t.teardown(() => upload.destroy());
  upload.write(`POST http://up.test:${up.port}/upload HTTP/1.1\r\nHost: up.test:${up.port}\r\nProxy-Authorization: ${hog.auth}\r\nTransfer-Encoding: chunked\r\n\r\n`);
  const chunk = (n: number): string => `${n.toString(16)}\r\n${'u'.repeat(n)}\r\n`;
  upload.write(chunk(8192));
  t.ok(await eventually(() => up.bytes().includes('u'.repeat(4096)), 5000), 'the upload streams past the capture cap');
  // The hog's records pile up behind the stalled disk (the pipe's 64 KiB, then memory).
  const audit = airlock.audit as AuditLog;
  for (let n = 0; n < 20_000 && !audit.overShare('hog'); n++) {
    audit.append({ time: new Date().toISOString(), id: `hog-${n}`, agent: 'hog', outcome: 'forwarded', status: 200, detail: 'x'.repeat(4000) });
    if (n % 200 === 199) await new Promise((r) => setTimeout(r, 5)); // the writer's turns: the pipe fills
  }
  t.ok(audit.overShare('hog'), 'the hog is past its share');
  t.equal(audit.available, true, 'while the log is available to everyone else');
  t.equal((await viaProxy(airlock.proxyAddress.port, `http://up.test:${up.port}/r`, { auth: hog.auth })).status, 503, "the hog's new request is refused 503");
  const uploaded = up.bytes().length;
  hog.client.send('while-over');
  upload.write(chunk(8192));
  neighbour.client.send('neighbour-message');
  t.ok(await eventually(() => ws.conn('/neighbour')?.messages.length === 1), "the neighbour's message goes on");
  await new Promise((r) => setTimeout(r, 300));
  t.same(ws.conn('/hog')?.messages.map((m) => m.data.toString()), ['before'], "no message leaves on the hog's open WebSocket");
  t.ok(up.bytes().length - uploaded < 8192, `the upload's next chunk does not leave (${up.bytes().length - uploaded} bytes more)`);
  t.ok(await eventually(() => hog.closed() !== 0, 3000), `the hog's WebSocket is closed (${hog.closed()})`);
  t.equal(neighbour.closed(), 0, "the neighbour's stays open");
  // Drained, so that the log closes.
  const { spawn } = await import('node:child_process');
  const cat = spawn('sh', ['-c', 'exec cat "$0" > /dev/null', fifo], { stdio: 'ignore' });
  t.teardown(() => { cat.kill(); });
  await audit.flush();
});

t.test('the writer: a failed write keeps its bytes, retries, recovers; refusals beyond the memory bound are counted', async (t) => {
  const mnt = tempDir(t, 'airlock-tmpfs-unit-');
  if (process.getuid?.() !== 0 || !tryMount(mnt, '64k')) {
    t.skip('SKIPPED LOUDLY: mounting a small tmpfs needs root with CAP_SYS_ADMIN; this machine refused', () => undefined);
    return;
  }
  t.teardown(() => execFileSync('umount', ['-l', mnt]));
  const warnings: string[] = [];
  const log = new AuditLog(mnt, 'audit.jsonl', { retryMs: 20, retryMaxMs: 50, maxPendingBytes: 2000, warn: (l) => warnings.push(l) });
  fill(path.join(mnt, 'filler'));
  const big = 'x'.repeat(3000);
  for (let i = 0; i < 5; i++) log.append({ time: new Date().toISOString(), id: `kept-${i}`, outcome: 'forwarded', detail: big });
  for (let i = 0; i < 100 && log.available; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(log.available, false, 'unavailable after ENOSPC');
  for (let i = 0; i < 50; i++) log.append({ time: new Date().toISOString(), id: `refused-${i}`, outcome: 'audit-unavailable', status: 503 });
  await new Promise((r) => setTimeout(r, 100));
  t.equal(log.available, false, 'still unavailable while the disk is full (retries keep failing)');
  fs.rmSync(path.join(mnt, 'filler'));
  await log.flush();
  t.equal(log.available, true, 'available again');
  await log.close();
  const records = fs.readFileSync(log.file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; detail?: string });
  t.same(records.filter((r) => r.id.startsWith('kept-')).map((r) => r.id), ['kept-0', 'kept-1', 'kept-2', 'kept-3', 'kept-4'], 'every forwarded record, in order');
  const gap = records.find((r) => r.id.startsWith('audit-gap-'));
  const individually = records.filter((r) => r.id.startsWith('refused-')).length;
  t.equal(individually + Number(/^(\d+) further/.exec(gap?.detail ?? '0 further')?.[1] ?? 0), 50, 'every refusal recorded or counted');
  t.match(warnings.join('\n'), /ENOSPC[\s\S]*writable again/, 'failure and recovery reported once each');
  t.equal(warnings.filter((w) => /ENOSPC|writable again/.test(w)).length, 2);
});

// The log removed or renamed underneath (a cleanup, `rm`, logrotate without a signal): before, the
// writer kept its descriptor, so every later record went into a file with no name (gone when
// Airlock stopped) or into the rotated file, while requests flowed and replay and the studio read
// an empty log. Must hold: after a removal the path holds every later record; after a rename every
// record is in the renamed file or at the path, exactly once, and the path holds the later ones.
t.test('the log removed or renamed while in use: records go on at its path, none lost', async (t) => {
  const home = tempDir(t, 'airlock-audit-moved-');
  const { up, airlock, auth } = await allowAllAirlock(t, home);
  let n = 0;
  const send = async (phase: string): Promise<string> => {
    const p = `/${phase}/${n++}`;
    t.equal((await viaProxy(airlock.proxyAddress.port, `http://up.test:${up.port}${p}`, { auth })).status, 200, `${p} forwarded`);
    return p;
  };
  const file = airlock.audit.file;
  const paths = (f: string): string[] =>
    fs.existsSync(f) ? fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { url?: string }).filter((r) => r.url).map((r) => new URL(r.url!).pathname) : [];

  const before = [await send('before')];
  await airlock.audit.flush();
  fs.unlinkSync(file); // removed: what the writer writes next has no name
  const afterRemoval = [await send('removed'), await send('removed')];
  await airlock.audit.flush();
  t.same(paths(file), afterRemoval, 'the records after the removal are in a new file at the path (none went into the removed one)');

  fs.renameSync(file, `${file}.1`); // rotated
  const afterRename = [await send('rotated'), await send('rotated'), await send('rotated')];
  await airlock.audit.flush();
  t.equal(fs.existsSync(file), true, 'a flush notices the rename: the log is at its path again');
  // Writes before the path is next checked (at most 50 ms, or a flush) go into the renamed file,
  // and stay there: not repeated.
  const next = await send('rotated');
  await airlock.audit.flush();
  const both = [...paths(`${file}.1`), ...paths(file)];
  t.same(both, [...afterRemoval, ...afterRename, next], 'after a rename every record is in one of the two files, once, in order');
  t.same(paths(file).slice(-1), [next], 'and the path holds the later ones');
  t.notOk(both.some((p) => before.includes(p)), 'the record before the removal is not repeated');
});

// A disk that stalls (a hung network file system, a failing drive retrying) returns no error: the
// write just does not come back. Before, records piled up in memory without bound while requests
// kept flowing, all of them lost if the process died. Must hold: past the memory bound the log is
// unavailable (the proxy answers 503), and it recovers by itself, nothing lost, once the disk
// takes the records. The stall is real: the log is a FIFO nobody reads until the test says so.
t.test('the writer: a disk behind is told before the log is unavailable (an eighth of the memory bound waits)', async (t) => {
  const dir = tempDir(t, 'airlock-audit-behind-');
  const fifo = path.join(dir, 'audit.jsonl');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  const keepOpen = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK); // a disk that takes nothing for now
  const log = new AuditLog(dir, 'audit.jsonl', { maxPendingBytes: 200_000, warn: () => undefined });
  t.equal(log.behind, false, 'not behind with nothing waiting');
  for (let i = 0; i < 4; i++) log.append({ time: new Date().toISOString(), id: `b-${i}`, outcome: 'forwarded', detail: 'x'.repeat(10_000) });
  t.equal(log.behind, true, '40 KB waiting of a 200 KB bound: behind');
  t.equal(log.available, true, 'and still available');
  // Drained by a reader: the same log catches up.
  const drain = setInterval(() => { try { while (fs.readSync(keepOpen, Buffer.alloc(65536)) > 0); } catch { /* EAGAIN */ } }, 5);
  await log.flush();
  clearInterval(drain);
  t.equal(log.behind, false, 'caught up: no longer behind');
  await log.close();
  fs.closeSync(keepOpen);
});

// Seventeenth pass: the bound on what waits was one pool. One agent's small records (allowed
// requests, each recorded whole) at a rate past a slow disk's filled it by themselves, and past it
// every agent was refused; while it was behind, every agent's large descriptions were left out.
// Must hold: the agent whose records wait is refused by itself past its share, the others are
// served and keep their large descriptions, and nothing is lost once the disk takes the records.
t.test("the writer: one agent's records waiting for a stalled disk refuse that agent, not the others", async (t) => {
  const { dir, fifo } = stalledFile(t, 'airlock-audit-share-', 'audit.jsonl'); // a disk that takes nothing for now
  // A writer held until the reader below has the pipe open: on a slow machine everything queued
  // can fit in the pipe, the log then closes before `cat` opens it, and a FIFO's open for reading
  // waits for a writer for ever.
  const writerHold = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  const log = new AuditLog(dir, 'audit.jsonl', { maxPendingBytes: 400_000, warn: () => undefined });
  const small = (id: string, agent: string): void => log.append({ time: new Date().toISOString(), id, agent, outcome: 'forwarded', status: 200, detail: 'x'.repeat(900) });
  // More than the pipe takes (64 KiB) and an eighth of the bound: the disk stalls with the rest waiting.
  let n = 0;
  for (; n < 400 && !log.overShare('hog'); n++) {
    small(`hog-${n}`, 'hog');
    if (n % 50 === 49) await new Promise((r) => setTimeout(r, 10)); // the writer's turns: the pipe fills
  }
  t.ok(log.overShare('hog'), `after ${n} small records the hog is past its share`);
  t.match(log.overShare('hog'), /agent hog's records wait for the audit disk past its share/, 'and the reason says whose');
  t.equal(log.overShare('neighbour'), undefined, 'the neighbour is not');
  t.equal(log.available, true, 'the log is available to everyone else');
  t.equal(log.behind, true, 'and behind');
  t.equal(log.behindFor('hog'), true, "the hog's large descriptions are left out");
  t.equal(log.behindFor('neighbour'), false, "the neighbour's are not");
  for (let i = 0; i < 500; i++) log.append({ time: new Date().toISOString(), id: `hog-refused-${i}`, agent: 'hog', outcome: 'audit-unavailable', status: 503 });
  t.equal(log.available, true, "the hog's refusals are counted, not queued: still available");
  for (let i = 0; i < 5; i++) small(`neighbour-${i}`, 'neighbour');
  // The disk takes lines again: a reader of the pipe, open before the writers close (what was
  // queued may all fit in the pipe, and a reader opened after the last writer closed waits for ever).
  const reader = fs.createReadStream(fifo);
  const read: Buffer[] = [];
  reader.on('data', (c) => read.push(c as Buffer));
  await new Promise((r) => reader.once('open', r));
  const ended = new Promise((r) => reader.once('end', r));
  await log.flush();
  t.equal(log.overShare('hog'), undefined, 'written: the hog is served again');
  await log.close();
  fs.closeSync(writerHold);
  await ended;
  const records = Buffer.concat(read).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; agent?: string; detail?: string });
  t.same(records.filter((r) => r.id.startsWith('hog-') && !r.id.includes('refused')).map((r) => r.id), Array.from({ length: n }, (_, i) => `hog-${i}`), "every one of the hog's records, in order");
  t.equal(records.filter((r) => r.id.startsWith('neighbour-')).length, 5, "and the neighbour's");
  const gap = records.find((r) => r.id.startsWith('audit-gap-') && r.agent === 'hog');
  t.match(gap?.detail, /^500 further requests of agent hog were refused/, "the hog's refusals in one record of its own");
});

// Twenty-second pass (follow-up): the session journal was written with writeSync on the main
// thread (labels at once, the rest batched once a second), so a stalled disk (a hung network file
// system, a device retrying) froze the event loop: every agent's requests and the studio stopped,
// for as long as the disk did. Must hold: a stalled write leaves the loop free (a neighbour's
// request is answered at once), a label that cannot be made durable is still enforced from memory
// and the request that brought it fails as unavailable (503), past the bound new requests are
// refused, and once the disk takes lines nothing is lost or reordered (a restart keeps the label).
t.test('the session journal: a stalled disk freezes no agent; labels are enforced from memory, kept in order, none lost', async (t) => {
  const { dir, fifo } = stalledFile(t, 'airlock-sessions-stall-', 'sessions.jsonl'); // a disk that takes nothing for now
  const warnings: string[] = [];
  const store = JournalSessionStore.open(dir, { flushMs: 0, durableMs: 300, maxPendingBytes: 300_000, warn: (l) => warnings.push(l) });
  const hog = (await store.enter('hog', 'tok-hog', new Date().toISOString())).session.id;
  const neighbour = (await store.enter('neighbour', 'tok-n', new Date().toISOString())).session.id;
  // More than the pipe takes (64 KiB): the disk stalls mid-write.
  store.addLinks(hog, { request_id: 'r-hog', host: 'h.example' }, Array.from({ length: 150 }, (_, i) => `https://h.example/${i}/${'x'.repeat(900)}`));
  const began = performance.now();
  void store.flush();
  const flushMs = performance.now() - began;
  t.ok(flushMs < 100, `writing the batch did not hold the loop (${Math.round(flushMs)} ms)`);
  await new Promise((r) => setTimeout(r, 30));
  const ticked = performance.now();
  await new Promise((r) => setTimeout(r, 10));
  t.ok(performance.now() - ticked < 200, 'the event loop turns while the disk stalls');
  const entered = performance.now();
  await store.enter('neighbour', 'tok-n', new Date().toISOString());
  t.ok(performance.now() - entered < 100, "a neighbour's request is served at once");
  const label = await store.addLabels(neighbour, ['untrusted'], { request_id: 'r-n', host: 'news.example', time: new Date().toISOString() }).then(() => 'durable', (err: unknown) => err);
  t.ok(isStoreUnavailable(label), `a label the disk does not take fails as unavailable (503), within the bound (${String(label)})`);
  t.ok(store.get(neighbour).labels.untrusted, 'and is enforced from memory meanwhile');
  t.ok(store.available, 'below the bound the journal still takes requests');
  // Past its share the hog's requests are refused (the audit log's model), nothing queued is
  // dropped; twenty-third pass: the neighbour, whose lines are few, is still served (it was
  // refused with the hog: the queue was one pool).
  store.addLinks(hog, { request_id: 'r-hog2', host: 'h.example' }, Array.from({ length: 300 }, (_, i) => `https://h.example/more/${i}/${'y'.repeat(1000)}`));
  void store.flush();
  const hogRefused = await store.enter('hog', 'tok-hog', new Date().toISOString()).then(() => 'served', (err: unknown) => err);
  t.ok(isStoreUnavailable(hogRefused), "past its share the hog's request is refused (503) rather than kept in memory without bound");
  t.match(String(hogRefused), /agent hog's records wait for the disk past its share/, 'and the reason says whose');
  const served = await store.enter('neighbour', 'tok-n', new Date().toISOString()).then(() => 'served', (err: unknown) => err);
  t.equal(served, 'served', "a neighbour is served while the hog's lines wait");
  const newcomer = await store.enter('newcomer', 'tok-new', new Date().toISOString()).then(() => 'served', (err: unknown) => err);
  t.equal(newcomer, 'served', 'and so is an agent with no session yet');
  // Past twice the bound (lines no agent's share counts: a human's clears and resets) everyone is refused.
  store.addLinks(neighbour, { request_id: 'r-n3', host: 'n.example' }, Array.from({ length: 200 }, (_, i) => `https://n.example/${i}/${'z'.repeat(1000)}`));
  void store.flush();
  t.notOk(store.available, 'past twice the bound the journal is unavailable');
  const refused = await store.enter('newcomer', 'tok-new', new Date().toISOString()).then(() => 'served', (err: unknown) => err);
  t.ok(isStoreUnavailable(refused), 'and every request is refused (503)');
  t.match(warnings.join('\n'), /not taking session lines/, 'the stall is reported');
  // The disk comes back.
  const out = path.join(dir, 'read.jsonl');
  const { spawn } = await import('node:child_process');
  const cat = spawn('sh', ['-c', 'exec cat "$0" > "$1"', fifo, out], { stdio: 'ignore' });
  const drained = new Promise((r) => cat.once('close', r)); // it ends once the journal is closed
  await eventually(() => store.available, 10_000);
  t.ok(store.available, 'written: requests flow again');
  const second = await store.addLabels(neighbour, ['private'], { request_id: 'r-n2', host: 'db.example', time: new Date().toISOString() });
  t.same(second, ['private'], 'a label is durable again before it returns');
  await store.close();
  await drained;
  const lines = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { e: string; id: string; label?: string });
  t.same(lines.filter((l) => l.e === 'label').map((l) => l.label), ['untrusted', 'private'], 'every label was written, in order');
  const back = tempDir(t, 'airlock-sessions-back-');
  fs.copyFileSync(out, path.join(back, 'sessions.jsonl'));
  const again = JournalSessionStore.open(back, { flushMs: 0 });
  t.same(Object.keys(again.get(neighbour).labels).sort(), ['private', 'untrusted'], 'a restart keeps the labels that were enforced');
  t.equal(again.get(hog).links, 450, "and the hog's links, none dropped");
  t.equal(again.get(neighbour).links, 200, "and the neighbour's");
  await again.close();
});

// Twenty-second pass (follow-up): a state document's lock (`agents.json.lock`, taken when a token
// is issued or revoked through the running proxy) that is not a file Airlock made was read to find
// its holder's pid: a FIFO at that path blocked the whole process in open(2), every agent with it.
// Must hold: the lock counts as held, never read; the caller gets an error naming it, the loop turns.
t.test('a state lock that is a FIFO is never read: an error naming it, the event loop turning', async (t) => {
  const dir = tempDir(t, 'airlock-lock-fifo-');
  const file = path.join(dir, 'agents.json');
  execFileSync('mkfifo', ['-m', '600', `${file}.lock`]);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 10);
  const began = performance.now();
  const got = await withFileLock(file, async () => 'ran', { waitMs: 300 }).then((v) => v, (err: Error) => err);
  clearInterval(ticker);
  t.match(String(got), /agents\.json\.lock/, 'refused, naming the lock');
  t.ok(performance.now() - began < 5000, 'within its wait');
  t.ok(ticks >= 5, `the event loop turned meanwhile (${ticks} ticks)`);
  t.ok(fs.lstatSync(`${file}.lock`).isFIFO(), 'what Airlock did not make is not removed');
});

// Twenty-third pass: state files read synchronously while Airlock runs (the TOTP enrollment, read
// at each critical approval's step-up check and for every pending approval the studio lists; an
// approval's record; the audit log's tail the studio reads for its captures and live view) were
// opened with a blocking open(2): a FIFO at the path froze the whole process, every agent with it,
// for as long as nobody wrote to it. Must hold: never read, an error naming the file (or nothing
// read), the event loop turning.
t.test('state files that are FIFOs are never read: the TOTP enrollment, an approval record, the audit tail', async (t) => {
  const home = tempDir(t, 'airlock-state-fifo-');
  const totp = new TotpStore(home);
  execFileSync('mkfifo', ['-m', '600', totp.file]);
  const records = RecordDir.open(path.join(home, 'approvals'));
  execFileSync('mkfifo', ['-m', '600', path.join(records.dir, 'ap_1.json')]);
  const audit = path.join(home, 'audit.jsonl');
  execFileSync('mkfifo', ['-m', '600', audit]);
  let ticks = 0;
  const ticker = setInterval(() => ticks++, 5);
  t.throws(() => totp.enrolled(), new RegExp(`${totp.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*not a regular file`), 'the step-up check fails closed, naming the file');
  t.throws(() => records.readSync('ap_1'), /ap_1\.json.*not a regular file/, 'an approval record: an error naming it');
  const tail = new JsonlTail(audit, () => undefined);
  tail.loadExisting();
  tail.poll();
  t.same(tail.records(), [], 'the audit tail reads nothing');
  // The agents file replaced by a FIFO: its reload (which every agent's authentication awaits once
  // the file changed) waited for ever on a pool thread, and with it every agent's request.
  const agents = await AgentStore.open(home);
  const bot = await agents.add('bot');
  fs.rmSync(agents.file);
  execFileSync('mkfifo', ['-m', '600', agents.file]);
  const got = await Promise.race([
    agents.identify('bot', 'wrong').then(() => 'answered', (err: Error) => err),
    new Promise((r) => setTimeout(() => r('waiting'), 3000)),
  ]);
  t.match(String(got), /agents\.json.*not a regular file/, 'authentication fails closed at once, naming the file');
  const again = await agents.identify('bot', bot.token).then(() => 'answered', (err: Error) => err);
  t.match(String(again), /not a regular file/, 'and stays closed while it is there');
  await new Promise((r) => setTimeout(r, 40));
  clearInterval(ticker);
  t.ok(ticks >= 2, `the event loop turned (${ticks} ticks)`);
});

/** An Airlock (allow-all, a 4 KiB capture) on `home` with a WebSocket upstream and an HTTP one to stream to. */
async function streamingAirlock(t: Test, home: string) {
  const ws = await startWsUpstream(t);
  const up = await startUpstream(t);
  const airlock = await startAirlock({
    home, policy: path.join(fixtures, 'allow-all'), proxy: '127.0.0.1:0', studio: false, unixSocket: false, threads: 1, bodyCap: 4096,
    resolve: ['up.test=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`, `127.0.0.1:${ws.port}`],
  });
  t.teardown(() => airlock.close());
  return { ws, up, airlock };
}

/** An audit log whose file is a FIFO nobody reads: a disk that takes nothing for now. */
function stalledLog(t: Test, prefix: string): { log: AuditLog; dir: string; fifo: string } {
  const { dir, fifo } = stalledFile(t, prefix, 'audit.jsonl');
  return { log: new AuditLog(dir, 'audit.jsonl', { maxPendingBytes: 400_000, warn: () => undefined }), dir, fifo };
}

// Eighteenth pass (left open by the seventeenth): each agent's share was a fixed eighth of the
// bound, so eight agents flooding a slow disk at once (each admitted while under its own share, as
// the proxy admits them) filled the bound together and every agent was refused, a neighbour with
// nothing waiting too. Must hold: however many agents flood, a neighbour with nothing waiting is
// admitted and the log stays available; the flooders are refused by themselves.
t.test('the writer: eight agents (and then sixteen) flooding a stalled disk at once refuse themselves, not a neighbour', async (t) => {
  const { log, dir, fifo } = stalledLog(t, 'airlock-audit-crowd-');
  // As the proxy does: a request is admitted only while the log is available and its agent is
  // under its share (Pipeline.auditUnavailable); its record follows.
  const admitted = (agent: string): boolean => log.available && log.overShare(agent) === undefined;
  let served = 0;
  for (const crowd of [8, 16]) {
    for (let round = 0; round < 200; round++) {
      for (let a = 0; a < crowd; a++) {
        const agent = `flood-${a}`;
        if (admitted(agent)) log.append({ time: new Date().toISOString(), id: `${agent}-${round}`, agent, outcome: 'forwarded', status: 200, detail: 'x'.repeat(900) });
      }
      if (round % 20 === 19) await new Promise((r) => setTimeout(r, 5)); // the writer's turns: the pipe fills
    }
    t.equal(log.available, true, `${crowd} agents flooding at once: the log stays available`);
    t.ok(log.overShare('flood-0'), `and each flooder is refused by itself (${crowd})`);
    // A neighbour of its own per crowd: the disk takes nothing, so one that keeps sending ends at its
    // equal part of what is left too (twentieth pass: with sixteen flooders and the first crowd's
    // neighbour holding some, ~6 KiB: its first few records), refused by itself, the log available.
    let mine = 0;
    for (let i = 0; i < 8 && admitted(`neighbour-${crowd}`); i++, mine++) {
      log.append({ time: new Date().toISOString(), id: `neighbour-${crowd}-${i}`, agent: `neighbour-${crowd}`, outcome: 'forwarded', status: 200, detail: 'x'.repeat(900) });
      served++;
    }
    t.ok(mine >= (crowd === 8 ? 8 : 3), `a neighbour is admitted (${crowd} flooders: ${mine} requests)`);
    t.ok(log.available && (mine === 8 || log.overShare(`neighbour-${crowd}`)), 'past its part, refused by itself');
  }
  const out = path.join(dir, 'read.jsonl');
  const { spawn } = await import('node:child_process');
  const cat = spawn('sh', ['-c', 'exec cat "$0" > "$1"', fifo, out], { stdio: 'ignore' });
  await log.flush();
  t.equal(log.overShare('flood-0'), undefined, 'written: the flooders are served again');
  await log.close();
  await new Promise((r) => cat.once('close', r));
  const records = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string });
  t.equal(records.filter((r) => r.id.startsWith('neighbour-')).length, served, "every one of the neighbour's records");
});

// Twentieth pass: past the crowded part each agent with records waiting had an equal part of that
// part itself, so agents arriving one after another (each flooding until refused) each took theirs
// on top of the earlier ones': half the bound × (1 + 1/2 + … + 1/n) waiting, and with sixty agents
// the bound filled and every agent was refused (503 audit-unavailable). Must hold: the log stays
// available and a neighbour is admitted.
t.test('the writer: sixty agents flooding a stalled disk one after another do not add up past the bound', async (t) => {
  const { log, fifo } = stalledLog(t, 'airlock-audit-turns-');
  const admitted = (agent: string): boolean => log.available && log.overShare(agent) === undefined;
  for (let a = 0; a < 60; a++) {
    const agent = `flood-${a}`;
    for (let i = 0; i < 200 && admitted(agent); i++) log.append({ time: new Date().toISOString(), id: `${agent}-${i}`, agent, outcome: 'forwarded', status: 200, detail: 'x'.repeat(900) });
    await new Promise((r) => setImmediate(r)); // the writer's turn: the pipe stays full
  }
  t.equal(log.available, true, 'sixty agents in turn: the log stays available');
  t.ok(log.overShare('flood-59'), 'the last flooder is refused by itself (the pipe took the first\'s records)');
  t.ok(admitted('neighbour'), 'a neighbour is admitted');
  const { spawn } = await import('node:child_process');
  const cat = spawn('sh', ['-c', 'exec cat "$0" > /dev/null', fifo], { stdio: 'ignore' });
  await log.close();
  await new Promise((r) => cat.once('close', r));
});

t.test('the writer: a stalled disk makes the log unavailable past the memory bound; it recovers, nothing lost', async (t) => {
  const { dir, fifo } = stalledFile(t, 'airlock-audit-stall-', 'audit.jsonl'); // a disk that takes nothing for now
  const warnings: string[] = [];
  const log = new AuditLog(dir, 'audit.jsonl', { maxPendingBytes: 200_000, warn: (l) => warnings.push(l) });
  const big = 'x'.repeat(10_000);
  for (let i = 0; i < 40; i++) log.append({ time: new Date().toISOString(), id: `r-${i}`, outcome: 'forwarded', detail: big });
  for (let i = 0; i < 100 && log.available; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(log.available, false, 'unavailable while 400 KB wait behind a write that does not return');
  t.equal(log.behind, true, 'and behind (large descriptions are left out meanwhile: proxy/audit-budget.ts)');
  t.match(log.unavailableReason, /not taking records/);
  for (let i = 0; i < 30; i++) log.append({ time: new Date().toISOString(), id: `refused-${i}`, outcome: 'audit-unavailable', status: 503 });
  // The disk comes back: a reader takes everything.
  const out = path.join(dir, 'read.jsonl');
  const { spawn } = await import('node:child_process');
  const cat = spawn('sh', ['-c', 'exec cat "$0" > "$1"', fifo, out], { stdio: 'ignore' });
  await log.flush();
  t.equal(log.available, true, 'available again once the records are written');
  t.equal(log.behind, false, 'and no longer behind');
  await log.close();
  await new Promise((r) => cat.once('close', r));
  const records = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: string; detail?: string });
  t.same(records.filter((r) => r.id.startsWith('r-')).map((r) => r.id), Array.from({ length: 40 }, (_, i) => `r-${i}`), 'every record, in order');
  const gap = records.find((r) => r.id.startsWith('audit-gap-'));
  t.equal(records.filter((r) => r.id.startsWith('refused-')).length + Number(/^(\d+) further/.exec(gap?.detail ?? '0 further')?.[1] ?? 0), 30, 'every refusal recorded or counted');
  t.match(warnings.join('\n'), /not taking records[\s\S]*caught up/, 'the stall and the recovery are reported');
});

// Whoever can write the state folder's parent (an agent in the project directory that holds
// `.airlock`) can move the folder away and put its own folder, or a symlink to one, at the path.
// Must hold: Airlock never follows: no record goes into the folder put there; records go on in the
// file already open (in the moved folder) while it has a name, and once it has none the log is
// unavailable (503) rather than written anywhere else.
t.test('the state folder moved away and replaced by a symlink: records are not written where it points', async (t) => {
  const parent = tempDir(t, 'airlock-audit-swap-');
  const home = path.join(parent, 'state');
  const planted = path.join(parent, 'planted');
  fs.mkdirSync(planted);
  const { up, airlock, auth } = await allowAllAirlock(t, home);
  let n = 0;
  const send = async (): Promise<{ path: string; status: number; type?: string }> => {
    const p = `/s/${n++}`;
    const r = await viaProxy(airlock.proxyAddress.port, `http://up.test:${up.port}${p}`, { auth });
    const type = r.headers['content-type']?.startsWith('application/problem+json') ? (JSON.parse(r.body) as { type?: string }).type : undefined;
    return { path: p, status: r.status, ...(type ? { type } : {}) };
  };
  const moved = path.join(parent, 'state-moved');
  t.equal((await send()).status, 200);
  await airlock.audit.flush();
  fs.renameSync(home, moved);
  fs.symlinkSync(planted, home);
  const during = [await send(), await send()];
  t.ok(during.every((r) => r.status === 200), 'requests flow (their records have a place: the file already open)');
  await airlock.audit.flush();
  t.notOk(fs.existsSync(path.join(planted, 'audit.jsonl')), 'nothing is written into the folder the symlink points to');
  const kept = fs.readFileSync(path.join(moved, 'audit.jsonl'), 'utf8');
  t.ok(during.every((r) => kept.includes(r.path)), 'the records are in the moved folder\'s log');

  fs.unlinkSync(path.join(moved, 'audit.jsonl')); // and now the open file has no name either
  let refused: { status: number; type?: string } | undefined;
  for (let i = 0; i < 50 && !refused; i++) {
    const r = await send();
    if (r.status === 503) refused = r;
    else await new Promise((res) => setTimeout(res, 20));
  }
  t.match(refused, { status: 503, type: /audit-unavailable$/ }, 'then requests get 503 audit-unavailable');
  t.notOk(fs.existsSync(path.join(planted, 'audit.jsonl')), 'and still nothing went into the planted folder');
});

/** A hung network mount on a fresh folder (lookups never answered; the server gives up after `maxMs`), or undefined without root. */
async function stalledMount(t: Test, maxMs: number): Promise<{ dir: string; asked: () => string; stalling: () => boolean; stop: () => void } | undefined> {
  const dir = path.join(tempDir(t, 'airlock-stalled-mount-'), 'mnt');
  fs.mkdirSync(dir);
  // Typed as a local FUSE image (squashfuse), which the sandbox does not cover: the sandboxed runs of
  // tests beside this one would otherwise wait on it when they make their mount points over it.
  const mount = await fuseMount(t, dir, { mode: 'stall', source: 'stalled', maxMs, type: 'fuse.squashfuse' });
  return mount && { dir, ...mount };
}

// Twenty-third pass (follow-up): the state files looked at synchronously while Airlock runs — the
// TOTP enrollment, read once per pending approval the studio lists; the agents file's change
// check, a stat on every agent's request once a second — held the event loop for as long as their
// disk took: on a hung network or FUSE mount, every agent's requests and the studio froze. Must
// hold: while the file's disk stalls, the studio's API and a neighbour's request are answered; the
// file's own users get an answer too (503: the state folder's disk, once its bound has passed).
t.test('a state file on a disk that stalls freezes nobody: the studio and a neighbour are answered', async (t) => {
  const mount = await stalledMount(t, 20_000);
  if (!mount) {
    t.comment('the stalled FUSE mount needs root and /dev/fuse (run by root in CI)');
    return;
  }
  const home = tempDir(t, 'airlock-stalled-state-');
  const up = await startApprovalsUpstream(t);
  const r = await startRunning(t, home, up);
  const neighbour = await r.airlock.agents.add('neighbour');
  const auth = `Basic ${Buffer.from(`neighbour:${neighbour.token}`).toString('base64')}`;
  const get = (p: string) => viaProxy(r.airlock.proxyAddress.port, `http://api.example:${up.port}${p}`, { auth });
  t.equal((await get('/before')).status, 200, 'control: the neighbour is served');
  t.equal((await r.api.call('GET', '/api/approvals')).status, 200, 'control: the studio lists approvals');

  // The TOTP enrollment moves to the stalled disk (a symlink: the state folder itself stays local).
  const totp = path.join(home, 'totp.json');
  fs.symlinkSync(path.join(mount.dir, 'totp.json'), totp);
  await new Promise((res) => setTimeout(res, 1100)); // past the listing's recheck
  const listed = await r.api.call('GET', '/api/approvals');
  t.equal(listed.status, 200, 'the studio lists approvals while totp.json stalls');
  await eventually(() => mount.asked().includes('stalled=totp.json'), 5000);
  t.match(mount.asked(), /stalled=totp\.json/, 'the enrollment was being read from the stalled disk');
  t.equal((await r.api.call('GET', '/api/approvals')).status, 200, 'and again, the read still waiting');
  t.equal((await get('/during-totp')).status, 200, 'a neighbour\'s request is served meanwhile');
  t.ok(mount.stalling(), 'all while the disk stalled (the server gives up after 20 s: a frozen process answers only then)');

  // The agents file moves there too: its change check (once a second, on a request) stalls.
  const agents = path.join(home, 'agents.json');
  fs.renameSync(agents, `${agents}.real`);
  fs.symlinkSync(path.join(mount.dir, 'agents.json'), agents);
  await new Promise((res) => setTimeout(res, 1100));
  const stalledAuth = get('/during-agents');
  await eventually(() => mount.asked().includes('stalled=agents.json'), 5000);
  t.equal((await r.api.call('GET', '/api/approvals')).status, 200, 'the studio answers while the agents file stalls');
  const res = await stalledAuth;
  t.equal(res.status, 503, 'the request waiting on the agents file is answered: unavailable, not authenticated blind');
  t.match(res.body, /agents\.json did not answer/, 'naming the file');
  t.equal((await get('/during-agents-2')).status, 503, 'and so is the next one: none authenticated from what may be stale');
  t.ok(mount.stalling(), 'all while the disk stalled');

  // The disk comes back (the server gone, the files local again): everything is served again.
  fs.rmSync(agents);
  fs.renameSync(`${agents}.real`, agents);
  fs.rmSync(totp);
  mount.stop();
  let back = 0;
  for (let i = 0; i < 40 && back !== 200; i++) {
    back = (await get('/after')).status;
    if (back !== 200) await new Promise((res) => setTimeout(res, 250));
  }
  t.equal(back, 200, 'the neighbour is served again');
});
