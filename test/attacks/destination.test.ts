// Destination confusion: spellings of loopback and the metadata address, names that resolve to
// private addresses, DNS rebinding between check and dial, trailing dots, case, userinfo, IDN
// look-alikes, and Host vs CONNECT target vs TLS SNI disagreements.
//
// Safety of the suite itself: only loopback is ever dialed. Forms of 169.254.169.254 and names
// pinned to non-loopback private addresses are checked against the running Airlock's own
// destination guard (the same object the proxy calls before dialing) rather than sent through the
// proxy, so a regression could never make this test reach a real metadata service.
import t from 'tap';
import fc from 'fast-check';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRequest } from '../../describe/describe.ts';
import { listenDns, startDns } from '../dns-server.ts';
import { normalizeLink } from '../../describe/links.ts';
import { tempDir } from '../temp-dir.ts';
import { lookupSlots, type DestinationGuard } from '../../proxy/destination.ts';
import { parseResolvConf, searchNames } from '../../proxy/spare-lookup.ts';
import {
  exchange, isProblem, parseResponses, rawToProxy, startTestAirlock, startUpstream, tlsTunnel, upstreamCa, viaProxy,
} from './helpers.ts';

const agent = { id: 'attacker', labels: {} };
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};

// Shared fixtures (each Airlock start compiles a policy and mints a CA, so the file starts three).
// `loop`: a loopback upstream nobody opened. `good`: 127.0.0.1:P, opened by the operator.
// `bad`: 127.0.0.2 on the same port P, not opened: the rebinding target.
const loop = await startUpstream(t);
const good = await startUpstream(t);
const bad = await startUpstream(t, { host: '127.0.0.2', port: good.port });
const open = await startTestAirlock(t, {
  policy: 'allow-all',
  allowPrivate: [`127.0.0.1:${good.port}`],
  resolve: ['internal.example=127.0.0.1', 'v6.example=::1', 'mapped.example=::ffff:127.0.0.1', 'half.example=127.0.0.1,127.0.0.2',
    'meta.example=169.254.169.254', 'lan.example=10.1.2.3', 'cgnat.example=100.64.0.1', 'mixed.example=127.0.0.1,10.0.0.1'],
});

t.test('every spelling of loopback is refused by destination safety (policy allows all)', async (t) => {
  const up = loop;
  const a = open;
  const forms = ['127.0.0.1', '127.1', '127.0.1', '2130706433', '0x7f000001', '0x7f.0.0.1', '0177.0.0.1', '017700000001', '0x7F.1', '127.255.255.254',
    '[::1]', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[0::ffff:7f00:0001]', 'localhost', 'LOCALHOST.', '0.0.0.0', '0'];
  for (const h of forms) {
    const r = await viaProxy(a.port, `http://${h}:${up.port}/internal`, { auth: a.auth });
    t.equal(r.status, 403, `${h} refused`);
    t.ok(isProblem(r), `${h}: problem+json`);
  }
  t.equal(up.connections, 0, 'the loopback upstream was never dialed');
});

t.test('every spelling of the metadata address is refused before dialing', async (t) => {
  const a = open;
  const guard: DestinationGuard = a.airlock.guard;
  const forms = ['169.254.169.254', '0xa9fea9fe', '2852039166', '025177524776', '169.254.43518', '0251.0376.0251.0376', '0xA9.0xFE.0xA9.0xFE', '169.16689662',
    '[::ffff:169.254.169.254]', '[::ffff:a9fe:a9fe]', '[fd00:ec2::254]', '[64:ff9b::a9fe:a9fe]', '[2002:a9fe:a9fe::]', '[fe80::a9fe:a9fe]', '100.100.100.200'];
  for (const h of forms) {
    const host = describeRequest({ method: 'GET', url: `http://${h}/latest/meta-data/`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent }).request.host;
    await t.rejects(guard.resolve(host, 80), / refused: /, `${h} (described as ${host}) refused`);
  }
  // Names the operator pinned to private addresses are checked after resolution too.
  const pinned = open;
  for (const name of ['meta.example', 'lan.example', 'cgnat.example', 'mixed.example', 'META.example.']) {
    const host = describeRequest({ method: 'GET', url: `http://${name}/`, headers: [], body: Buffer.alloc(0), bodyTruncated: false }, { agent }).request.host;
    await t.rejects(pinned.airlock.guard.resolve(host, 80), / refused: /, `${name} refused`);
  }
});

t.test('a hostname resolving to loopback is refused; through the proxy the target sees nothing', async (t) => {
  const a = open;
  for (const [name, port] of [['internal.example', loop.port], ['INTERNAL.Example.', loop.port], ['v6.example', loop.port], ['mapped.example', loop.port], ['half.example', good.port]] as const) {
    const r = await viaProxy(a.port, `http://${name}:${port}/`, { auth: a.auth });
    t.equal(r.status, 403, `${name} refused`);
    t.match(JSON.parse(r.body), { type: /destination-blocked/ }, 'destination-blocked problem');
  }
  t.equal(loop.connections, 0);
  t.equal(bad.connections, 0, 'half.example: the unopened address was never dialed');
});

t.test('DNS rebinding never reaches the private answer; names of denied requests are never resolved (no DNS exfiltration)', async (t) => {
  // The good answer is the upstream the operator opened (127.0.0.1:P); the bad one is another
  // loopback address on the same port that was not opened (127.0.0.2:P), with its own recorder.
  const a = open;
  const goodBefore = good.received.length;
  // Airlock's runtime has no option for a custom resolver (startAirlock builds the guard with the
  // system resolver); the test swaps the guard's lookup function, the same hook DestinationGuard
  // takes in its constructor.
  let calls = 0;
  const guard = a.airlock.guard as unknown as { lookup: (h: string) => Promise<string[]> };
  const system = guard.lookup;
  t.teardown(() => { guard.lookup = system; });
  guard.lookup = async (host) => {
    if (host !== 'rebind.example' && host !== 'both.example') throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    calls++;
    if (host === 'both.example') return ['127.0.0.1', '127.0.0.2'];
    return calls % 2 ? ['127.0.0.1'] : ['127.0.0.2'];
  };
  const statuses: number[] = [];
  // The guard caches answers for a few seconds (safe: it dials what it checked); an attacker's
  // name server answers with TTL 0, which the test plays by emptying that cache between requests.
  const cache = (a.airlock.guard as unknown as { answers?: { clear(): void } }).answers;
  for (let i = 0; i < 10; i++) {
    cache?.clear();
    statuses.push((await viaProxy(a.port, `http://rebind.example:${good.port}/r${i}`, { auth: a.auth })).status);
  }
  t.ok(calls >= 10, `the name was resolved for every request (${calls})`);
  t.ok(statuses.every((s) => s === 200 || s === 403), `every answer is the good upstream or a refusal (${statuses})`);
  t.ok(statuses.includes(403) && statuses.includes(200), 'both answers were exercised');
  cache?.clear();
  const both = await viaProxy(a.port, `http://both.example:${good.port}/`, { auth: a.auth });
  t.equal(both.status, 403, 'a name with one private answer among several is refused');
  t.equal(bad.connections, 0, 'the rebinding target was never dialed');
  // DNS as an exfiltration channel: a denied request must not resolve its name (the query itself
  // would carry the data to the attacker's name server).
  const looked: string[] = [];
  const counting = guard.lookup;
  guard.lookup = async (host) => { looked.push(host); return counting(host); };
  const denied = await viaProxy(a.port, `http://c2VjcmV0LWRhdGE.rebind.example:${good.port}/deny/exfil`, { auth: a.auth });
  t.equal(denied.status, 403, 'the policy denies the request');
  const denied2 = await rawToProxy(a.port, `CONNECT c2VjcmV0LWRhdGE2.rebind.example:${good.port} HTTP/1.1\r\nHost: x\r\nProxy-Authorization: ${a.auth}\r\n\r\nGET /deny/exfil HTTP/1.1\r\nHost: c2VjcmV0LWRhdGE2.rebind.example:${good.port}\r\n\r\n`, { responses: 1 });
  t.match(denied2.text.replace(/^HTTP\/1\.1 200[^\r]*\r\n\r\n/, ''), /^HTTP\/1\.1 403/, 'a denied request inside a CONNECT tunnel');
  t.same(looked, [], 'names of denied requests (and of CONNECT targets) are never resolved');
  t.equal(good.received.length - goodBefore, statuses.filter((s) => s === 200).length, 'the good upstream got exactly the allowed requests');
});

t.test('names whose DNS never answers: refused in bounded time, and one agent cannot take the lookups everyone shares', async (t) => {
  // getaddrinfo holds one of libuv's four pool threads until it returns (tens of seconds for a name
  // server that never answers), and the audit log, the approval store, zlib and crypto share those
  // threads. The test's resolver stands for such a name server: names under never.example are never
  // answered while the test runs; the guard must refuse them on its own clock and keep at most a few
  // lookups outstanding, one per agent, so a neighbour's name still resolves.
  const a = open;
  const { token } = await a.airlock.agents.add('neighbour', {});
  const neighbour = `Basic ${Buffer.from(`neighbour:${token}`).toString('base64')}`;
  const guard = a.airlock.guard as unknown as { lookup: (h: string) => Promise<string[]> };
  const system = guard.lookup;
  let outstanding = 0;
  let most = 0;
  const hung: Array<() => void> = [];
  guard.lookup = (host) => {
    most = Math.max(most, ++outstanding);
    if (host.endsWith('.never.example')) {
      return new Promise((_, reject) => hung.push(() => { outstanding--; reject(Object.assign(new Error('no answer'), { code: 'EAI_AGAIN' })); }));
    }
    return new Promise((resolve) => setTimeout(() => { outstanding--; resolve(['127.0.0.1']); }, 5));
  };
  t.teardown(() => { guard.lookup = system; for (const f of hung) f(); });
  const hostile = Array.from({ length: 12 }, (_, i) => viaProxy(a.port, `http://n${i}.never.example:${good.port}/`, { auth: a.auth }));
  for (let i = 0; i < 3; i++) {
    const r = await viaProxy(a.port, `http://neighbour${i}.example:${good.port}/ok`, { auth: neighbour });
    t.equal(r.status, 200, `the neighbour's name ${i} resolves and is forwarded meanwhile`);
  }
  const answers = await Promise.all(hostile);
  t.ok(answers.every((r) => r.status === 502 && isProblem(r) && /no answer from DNS/.test(r.body)), `every unanswered name is refused with a problem (${answers.map((r) => r.status)})`);
  t.ok(most <= 3, `at most 3 lookups were outstanding at once (${most})`);
});

t.test('twenty-first pass: three agents whose names never answer do not take the lookups from a fourth', async (t) => {
  // The system's lookups (getaddrinfo, one of libuv's pool threads each, never cancelled) are three
  // at once, one per agent: three hostile agents asking for names that never answer held all three,
  // and every other agent's new name waited its five seconds and was refused. A real name server on
  // loopback stands for the system's: it answers the neighbour's names and never the hostile ones.
  const a = open;
  const dnsQueries: string[] = [];
  const server = startDns((name) => (name.endsWith('.never.example') ? 'silent' : name.endsWith('.example') ? 'address' : 'nxdomain'), dnsQueries);
  const dnsPort = await listenDns(server);
  t.teardown(() => server.close());
  const guard = a.airlock.guard as unknown as { lookup: (h: string) => Promise<string[]>; spareServers: string[] | undefined; spareResolvConf: string | undefined };
  const system = guard.lookup;
  const hung: Array<() => void> = [];
  let hanging = true;
  guard.lookup = (host) => {
    const noAnswer = (reject: (e: Error) => void): void => reject(Object.assign(new Error('no answer'), { code: 'EAI_AGAIN' }));
    if (host.endsWith('.never.example')) return new Promise((_, reject) => (hanging ? hung.push(() => noAnswer(reject)) : noAnswer(reject)));
    return new Promise((resolve) => setTimeout(() => resolve(['127.0.0.1']), 5));
  };
  guard.spareServers = [`127.0.0.1:${dnsPort}`];
  t.teardown(() => { guard.lookup = system; guard.spareServers = undefined; for (const f of hung) f(); });
  const auths: string[] = [];
  for (const name of ['hostile-1', 'hostile-2', 'hostile-3', 'neighbour-21']) {
    const { token } = await a.airlock.agents.add(name, {});
    auths.push(`Basic ${Buffer.from(`${name}:${token}`).toString('base64')}`);
  }
  const neighbour = auths.pop()!;
  const control = await viaProxy(a.port, `http://first21.example:${good.port}/ok`, { auth: neighbour });
  t.equal(control.status, 200, 'control: the neighbour resolves a name before the flood');
  // Each hostile agent keeps asking for new names that never answer, four at a time.
  let flooding = true;
  const floods = auths.map(async (auth, k) => {
    const answers: number[] = [];
    for (let i = 0; flooding && i < 40; i++) {
      const batch = await Promise.all(Array.from({ length: 4 }, (_, j) => viaProxy(a.port, `http://h${k}-${i}-${j}.never.example:${good.port}/`, { auth })));
      answers.push(...batch.map((r) => r.status));
    }
    return answers;
  });
  await new Promise((r) => setTimeout(r, 2000));
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    const r = await viaProxy(a.port, `http://late21-${i}.example:${good.port}/ok`, { auth: neighbour });
    const took = performance.now() - started;
    t.equal(r.status, 200, `the neighbour's name ${i} resolves and is forwarded while three agents' lookups hang (${r.status}, ${Math.round(took)} ms)`);
    t.ok(took < 4000, `without waiting for the DNS timeout (${Math.round(took)} ms)`);
  }
  // Twenty-second pass: a one-label name is completed with resolv.conf's search list, as the
  // system's resolver completes it (it was asked as is, and refused, while the lane was in use).
  const conf = path.join(tempDir(t, 'airlock-resolv-'), 'resolv.conf');
  fs.writeFileSync(conf, `nameserver 127.0.0.1\nsearch corp.example other.example\noptions ndots:1\n`);
  guard.spareResolvConf = conf;
  t.teardown(() => { guard.spareResolvConf = undefined; });
  const short = await viaProxy(a.port, `http://intranet22:${good.port}/ok`, { auth: neighbour });
  t.equal(short.status, 200, `the neighbour's one-label name resolves through the search list meanwhile (${short.status})`);
  t.ok(dnsQueries.includes('intranet22.corp.example'), 'asked as intranet22.corp.example');
  flooding = false;
  // The system's lookups answer at last (their threads come back): the hostile requests end.
  hanging = false;
  for (const f of hung.splice(0)) f();
  const hostile = (await Promise.all(floods)).flat();
  t.ok(hostile.length > 0 && hostile.every((s) => s === 502), `every hostile name is refused (${hostile.length}, ${[...new Set(hostile)]})`);
  t.ok(dnsQueries.some((q) => q.startsWith('late21-')), 'the neighbour\'s names were asked of the name servers directly');
});

t.test('twenty-second pass: the spare lane completes names as glibc does (search list, ndots, trailing dot)', async (t) => {
  const rules = parseResolvConf('nameserver 10.0.0.1\ndomain old.example\nsearch Corp.Example. b.example # comment\noptions rotate ndots:2\n', {});
  t.same(rules, { search: ['corp.example', 'b.example'], ndots: 2 }, 'the last search line, lower case, no trailing dot; ndots');
  t.same(searchNames('db', rules), ['db.corp.example', 'db.b.example', 'db'], 'fewer dots than ndots: the search list first');
  t.same(searchNames('a.b.c', rules), ['a.b.c', 'a.b.c.corp.example', 'a.b.c.b.example'], 'ndots or more: as is first');
  t.same(searchNames('db.', rules), ['db'], 'a trailing dot: as is only');
  t.same(parseResolvConf('search a.example\n', { LOCALDOMAIN: 'x.example y.example', RES_OPTIONS: 'ndots:3' }), { search: ['x.example', 'y.example'], ndots: 3 }, 'LOCALDOMAIN and RES_OPTIONS over the file');
  t.equal(parseResolvConf(`search ${Array.from({ length: 9 }, (_, i) => `d${i}.example`).join(' ')}\n`, {}).search.length, 6, 'at most six search domains');
});

t.test('twenty-second pass: under a smaller libuv pool (UV_THREADPOOL_SIZE=2) agents whose names never answer leave a thread to everyone else', async (t) => {
  // getaddrinfo holds one of libuv's pool threads until it returns, and the bound of system lookups
  // (three) was written for libuv's default four threads. Airlock started with UV_THREADPOOL_SIZE=2
  // (a container's setting, a small host's): three agents' lookups that never answer held both
  // threads, and every file write (the audit log's, the approval store's), zlib and crypto waited
  // behind them. A whole Airlock in a child process sized so; its stuck lookups hold a pool thread
  // as getaddrinfo does (an open(2) of a FIFO nobody writes), a real name server answers the spare lane.
  // libuv's reading of the variable (atoi; 0 is one thread, negative or past 1024 is 1024): always a thread left.
  for (const [v, slots] of [[undefined, 3], ['4', 3], ['2', 1], [' 2x', 1], ['1', 0], ['0', 0], ['', 0], ['abc', 0], ['16', 3], ['-1', 3]] as const) {
    t.equal(lookupSlots(v), slots, `UV_THREADPOOL_SIZE=${JSON.stringify(v)}: ${slots} system lookups at once`);
  }
  const dir = tempDir(t, 'airlock-pool-');
  const fifo = path.join(dir, 'never');
  execFileSync('mkfifo', [fifo]);
  const server = startDns((name) => (name.endsWith('.never.example') ? 'silent' : name.endsWith('.example') ? 'address' : 'nxdomain'));
  const dnsPort = await listenDns(server);
  t.teardown(() => server.close());
  const home = path.join(dir, 'home');
  const config = { home, fifo, upstreamPort: good.port, dnsPort, agents: ['hostile-1', 'hostile-2', 'hostile-3', 'neighbour-22'] };
  const here = path.dirname(fileURLToPath(import.meta.url));
  const child = spawn(process.execPath, [path.join(here, '..', '..', 'bin', 'run-ts.js'), path.join(here, 'pool-child.ts'), JSON.stringify(config)], {
    env: { ...process.env, UV_THREADPOOL_SIZE: '2' }, stdio: ['pipe', 'pipe', 'inherit'],
  });
  // Opening the FIFO for writing wakes every open(2) waiting on it: the stuck lookups return.
  const release = (): void => {
    try { fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); } catch { /* no reader waiting */ }
  };
  let releasing: NodeJS.Timeout | undefined;
  t.teardown(async () => {
    releasing ??= setInterval(release, 50);
    child.stdin.end();
    const exited = await Promise.race([new Promise((r) => child.once('exit', () => r(true))), new Promise((r) => setTimeout(() => r(false), 10_000))]);
    if (!exited) child.kill('SIGKILL');
    clearInterval(releasing);
  });
  const ready = await new Promise<{ port: number; auths: Record<string, string> }>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the child Airlock did not start within 60 s')), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) { clearTimeout(timer); resolve(JSON.parse(out.split('\n')[0]!)); }
    });
    child.once('exit', (code) => reject(new Error(`the child Airlock exited (${code})`)));
  });
  const neighbour = ready.auths['neighbour-22']!;
  t.equal((await viaProxy(ready.port, `http://first22.example:${good.port}/ok`, { auth: neighbour })).status, 200, 'control: the neighbour is served before the flood');
  let flooding = true;
  const floods = ['hostile-1', 'hostile-2', 'hostile-3'].map(async (name, k) => {
    const answers: number[] = [];
    for (let i = 0; flooding && i < 40; i++) {
      const batch = await Promise.all(Array.from({ length: 4 }, (_, j) => viaProxy(ready.port, `http://h${k}-${i}-${j}.never.example:${good.port}/`, { auth: ready.auths[name]! }).then((r) => r.status, () => 0)));
      answers.push(...batch);
    }
    return answers;
  });
  await new Promise((r) => setTimeout(r, 2000));
  const log = path.join(home, 'audit.jsonl');
  for (let i = 0; i < 2; i++) {
    const started = performance.now();
    const r = await viaProxy(ready.port, `http://late22-${i}.example:${good.port}/ok`, { auth: neighbour });
    t.equal(r.status, 200, `the neighbour's name ${i} resolves and is forwarded while three agents' lookups hang (${Math.round(performance.now() - started)} ms)`);
    // Its record reaches the disk: a file write needs a pool thread.
    const deadline = performance.now() + 2500;
    let written = false;
    while (!written && performance.now() < deadline) {
      written = fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes(`late22-${i}.example`);
      if (!written) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(written, `the neighbour's record ${i} is written to the audit log within 2.5 s`);
  }
  flooding = false;
  releasing = setInterval(release, 50);
  const hostile = (await Promise.all(floods)).flat();
  t.ok(hostile.length > 0 && hostile.every((s) => s === 502), `every hostile name is refused (${hostile.length}, ${[...new Set(hostile)]})`);
});

t.test('deny-list evasion: case, trailing dots, userinfo, backslashes, fragments, IDN look-alikes', async (t) => {
  const up = await startUpstream(t);
  const a = await startTestAirlock(t, { policy: 'denylist', resolve: ['evil.example=127.0.0.1', 'xn--vil-5cd.example=127.0.0.1', 'allowed.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`] });
  const p = up.port;
  // Positive control: a host that is not on the deny list goes through, so refusals below mean something.
  t.equal((await viaProxy(a.port, `http://allowed.example:${p}/`, { auth: a.auth })).status, 200, 'control: allowed.example is forwarded');
  const before = up.received.length;
  for (const host of ['EVIL.EXAMPLE', 'Evil.Example.', 'evil.example..', 'evil.example.']) {
    const r = await viaProxy(a.port, `http://${host}:${p}/`, { auth: a.auth, headers: { host: `${host}:${p}` } });
    t.ok(r.status === 403 || r.status === 400, `${host}: refused (${r.status})`);
    t.ok(isProblem(r));
  }
  // Raw request lines a library would normalize away.
  const lines = [
    `GET http://allowed.example@evil.example:${p}/ HTTP/1.1\r\nHost: evil.example:${p}\r\n`,
    `GET http://allowed.example:x@evil.example:${p}/ HTTP/1.1\r\nHost: allowed.example:${p}\r\n`,
    `GET http://evil.example:${p}\\@allowed.example/ HTTP/1.1\r\nHost: evil.example:${p}\r\n`,
    `GET http://evil.example:${p}#@allowed.example/ HTTP/1.1\r\nHost: evil.example:${p}\r\n`,
    `GET http://evil.example:${p}/ HTTP/1.1\r\nHost: allowed.example:${p}\r\n`,
    `GET http://%65vil.example:${p}/ HTTP/1.1\r\nHost: evil.example:${p}\r\n`,
    `GET http://evil%2eexample:${p}/ HTTP/1.1\r\nHost: evil.example:${p}\r\n`,
    `GET http://evil。example:${p}/ HTTP/1.1\r\nHost: evil.example:${p}\r\n`,
    `GET http://ｅｖｉｌ.example:${p}/ HTTP/1.1\r\nHost: evil.example:${p}\r\n`,
  ];
  for (const l of lines) {
    const r = await rawToProxy(a.port, Buffer.from(`${l}Proxy-Authorization: ${a.auth}\r\nConnection: close\r\n\r\n`, 'utf8'), { idleMs: 1500 });
    const [res] = parseResponses(r.text);
    t.ok(res === undefined || (res.status >= 400 && isProblem(res)), `${JSON.stringify(l.split(' ')[1])} refused (${res?.status ?? 'closed'})`);
  }
  t.equal(up.received.length, before, 'the denied host received nothing');
  // An IDN look-alike is a different host (punycode), never confused with the real one.
  const lookalike = await viaProxy(a.port, `http://xn--vil-5cd.example:${p}/`, { auth: a.auth });
  t.equal(lookalike.status, 200, 'a look-alike of a denied name is simply another host');
  t.equal(up.received.at(-1)?.headers.host, `xn--vil-5cd.example:${p}`, 'and reaches the upstream as punycode');

  // An address on the deny list, spelled as an IPv4-mapped IPv6 literal: a dual-stack socket dials
  // the IPv4 address, so the policy must be shown that address (it was shown ::ffff:7f00:1 and
  // allowed it), forward, through a CONNECT tunnel (plain and TLS), and in the tunnel's Host.
  const reached = up.received.length;
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('::', '0::', '::0:', '0:0:0:0:0:', '0000:0000:0000:0000:0000:', '0:0::'),
    fc.constantFrom('ffff', 'FFFF', 'FfFf', '0ffff'.slice(1)),
    fc.constantFrom('127.0.0.1', '7f00:1', '7F00:0001', '7f00:01'),
    fc.constantFrom('forward', 'tunnel', 'tls'),
    async (zeros, ffff, tail, how) => {
      const lit = `[${zeros}${ffff}:${tail}]`;
      let text: string;
      if (how === 'forward') {
        text = (await rawToProxy(a.port, `GET http://${lit}:${p}/mapped HTTP/1.1\r\nHost: ${lit}:${p}\r\nProxy-Authorization: ${a.auth}\r\nConnection: close\r\n\r\n`, { responses: 1 })).text;
      } else if (how === 'tunnel') {
        text = (await rawToProxy(a.port, `CONNECT ${lit}:${p} HTTP/1.1\r\nHost: ${lit}:${p}\r\nProxy-Authorization: ${a.auth}\r\n\r\nGET /mapped HTTP/1.1\r\nHost: ${lit}:${p}\r\nConnection: close\r\n\r\n`, { responses: 1 })).text;
      } else {
        text = (await exchange(await tlsTunnel(a.port, `${lit}:${p}`, { auth: a.auth, ca: a.caPem }), `GET /mapped HTTP/1.1\r\nHost: ${lit}:${p}\r\nConnection: close\r\n\r\n`, { responses: 1 })).text;
      }
      const [res] = parseResponses(text.replace(/^HTTP\/1\.1 200 Connection Established\r\n\r\n/, ''));
      return res?.status === 403 && isProblem(res) && /127\.0\.0\.1 is on the deny list/.test(res.body) && up.received.length === reached;
    },
  ), { numRuns: 8, ...seed });
  t.equal(up.received.length, reached, 'the denied address received nothing under a mapped spelling');
  const plain = await rawToProxy(a.port, `GET http://0x7f.1:${p}/hex HTTP/1.1\r\nHost: 0x7f.1:${p}\r\nProxy-Authorization: ${a.auth}\r\nConnection: close\r\n\r\n`, { responses: 1 });
  t.match(plain.text, /^HTTP\/1\.1 403/, 'control: the hex spelling, which the URL parser makes canonical, meets the same rule');
  // A link served as [::ffff:…] is the request the agent sends for it (link provenance reads the same spelling).
  t.equal(normalizeLink(`http://[0::FFFF:127.0.0.1]:${p}/mapped`), `http://127.0.0.1:${p}/mapped`, 'a mapped link is recorded under the IPv4 address');
});

t.test('Host vs CONNECT target vs TLS SNI must agree (HTTPS interception)', async (t) => {
  const ca = await upstreamCa(t);
  const up = await startUpstream(t, { tlsCa: ca });
  const a = await startTestAirlock(t, { policy: 'strict', resolve: ['allowed.example=127.0.0.1', 'evil.example=127.0.0.1'], allowPrivate: [`127.0.0.1:${up.port}`], upstreamCa: [ca.files.cert] });
  const target = `allowed.example:${up.port}`;
  const get = (host: string, path = '/'): string => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

  const ok = await exchange(await tlsTunnel(a.port, target, { auth: a.auth, ca: a.caPem }), get(target), { responses: 1 });
  t.match(ok.text, /^HTTP\/1\.1 200/, 'control: matching CONNECT, SNI and Host is forwarded');
  t.equal(up.received.length, 1);
  t.equal(up.received[0]?.servername, 'allowed.example', 'the upstream saw the right SNI');

  const sni = await exchange(await tlsTunnel(a.port, target, { auth: a.auth, ca: a.caPem, servername: 'evil.example' }), get(target), { responses: 1 });
  t.match(sni.text, /^HTTP\/1\.1 421/, 'SNI naming another host: 421');
  const host = await exchange(await tlsTunnel(a.port, target, { auth: a.auth, ca: a.caPem }), get(`evil.example:${up.port}`), { responses: 1 });
  t.match(host.text, /^HTTP\/1\.1 421/, 'Host naming another host: 421');
  const port = await exchange(await tlsTunnel(a.port, target, { auth: a.auth, ca: a.caPem }), get(`allowed.example:${up.port + 1}`), { responses: 1 });
  t.match(port.text, /^HTTP\/1\.1 421/, 'Host naming another port: 421');
  const abs = await exchange(await tlsTunnel(a.port, target, { auth: a.auth, ca: a.caPem }), get(target, `https://evil.example:${up.port}/`), { responses: 1 });
  t.match(abs.text, /^HTTP\/1\.1 421/, 'absolute-form naming another origin inside the tunnel: 421');
  const noHost = await exchange(await tlsTunnel(a.port, target, { auth: a.auth, ca: a.caPem }), 'GET / HTTP/1.0\r\n\r\n', { responses: 1 });
  t.match(noHost.text, /^HTTP\/1\.[01] 4\d\d/, 'no Host header: refused');
  const evilTunnel = await exchange(await tlsTunnel(a.port, `evil.example:${up.port}`, { auth: a.auth, ca: a.caPem, servername: 'allowed.example' }), get(`allowed.example:${up.port}`), { responses: 1 });
  t.match(evilTunnel.text, /^HTTP\/1\.1 421/, 'CONNECT to a denied host dressed up with an allowed SNI and Host: 421');
  for (const r of [sni, host, port, abs, evilTunnel]) {
    const [res] = parseResponses(r.text);
    t.ok(res && isProblem(res), 'problem+json');
  }
  t.equal(up.received.length, 1, 'only the control request reached the upstream');
  // IP-literal CONNECT with a hostname SNI.
  await t.rejects(tlsTunnel(a.port, `127.0.0.1:${up.port}`, { auth: a.auth, ca: a.caPem, servername: 'allowed.example' }).then((s) => exchange(s, get('allowed.example'), { idleMs: 1500 })).then((r) => {
    if (!/^HTTP\/1\.1 (4\d\d)/.test(r.text)) throw new Error(`served: ${r.text.slice(0, 40)}`);
    throw new Error('refused');
  }), /refused|CONNECT refused/, 'a tunnel to a bare IP cannot borrow an allowed SNI');
  t.equal(up.received.length, 1);
  t.ok(net.isIP('127.0.0.1'));
});
