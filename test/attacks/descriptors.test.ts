// Held connections under a small file descriptor limit (issue 23, class 1, nineteenth pass). The
// fixed bounds (4,096 connections waiting for a head, 512 open exchanges an agent, nothing across
// agents) fit a large limit; under `ulimit -n 700` one agent's 400 requests to an upstream that
// never answers (within its 512) took every descriptor: a neighbour's connection was accepted and
// closed at once (EMFILE) and no upstream could be dialed. This process lowers its own soft limit
// (allowed without privilege) before the proxy starts; the holders run in child processes.
// Must hold: the bounds fit the limit (lib/descriptors.ts): past its part, a flooder is refused
// 429, so are several agents flooding at once past their equal parts, and the neighbour is served.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import t from 'tap';
import { descriptorBounds, openFileLimit } from '../../lib/descriptors.ts';
import { AgentGate } from '../../proxy/agent-gate.ts';
import { type Teardown } from '../temp-dir.ts';
import { hold, startTestAirlock, viaProxy } from './helpers.ts';

const LIMIT = 400;
const hard = /^Max open files\s+\d+\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? String(LIMIT);
const lowered = spawnSync('prlimit', ['--pid', String(process.pid), `--nofile=${LIMIT}:${hard}`]).status === 0 && openFileLimit() === LIMIT;

if (!lowered) {
  t.pass('skipped: prlimit could not lower this process\'s soft limit on open files');
} else {
  const bounds = descriptorBounds(LIMIT);
  // The upstream runs in a child process too (its descriptors are not the proxy's): it takes each
  // `/hang` and answers none, and says how many it has taken at `/count`.
  const slow = await hangingUpstream(t);
  const a = await startTestAirlock(t, { allowPrivate: [`${slow.host}:${slow.port}`] });
  const basic = (id: string, token: string): string => `Basic ${Buffer.from(`${id}:${token}`).toString('base64')}`;
  const neighbour = await a.airlock.agents.add('neighbour');
  const ask = () => viaProxy(a.port, `http://${slow.host}:${slow.port}/read`, { auth: basic('neighbour', neighbour.token) });
  const hang = `http://${slow.host}:${slow.port}/hang`;
  let taken = 0;
  const hung = (): number => taken;
  const count = async (): Promise<void> => { taken = Number((await viaProxy(a.port, `http://${slow.host}:${slow.port}/count`, { auth: basic('neighbour', neighbour.token) })).body); };
  const refused = (agent: string): number => a.records.filter((r) => r.agent === agent && r.status === 429).length;

  t.test('one agent\'s requests an upstream never answers stop at the part of the limit, a neighbour is served', async (t) => {
    await count();
    const before = hung();
    const held = hold([String(a.port), '250', 'get', a.auth, '60000', hang]);
    t.teardown(held.stop);
    await held.opened;
    for (let i = 0; i < 3; i++) t.equal((await ask()).status, 200, `the neighbour's request ${i + 1} is served (before: the connection closed at once)`);
    t.ok(await until(async () => hung() - before + refused('attacker') >= 250, count), 'every request was forwarded or refused');
    t.ok(hung() - before <= bounds.crowdedExchanges, `${hung() - before} reached the upstream, ${refused('attacker')} got 429 agent-busy (${bounds.crowdedExchanges} exchanges fit ${LIMIT} descriptors)`);
    held.stop();
    t.equal((await held.result).failed, 0, 'every connection was accepted');
    await settled();
  });

  t.test('five agents flooding at once meet their equal parts, a neighbour is served', async (t) => {
    await count();
    const before = hung();
    const most = async (q = ''): Promise<number> => Number((await viaProxy(a.port, `http://${slow.host}:${slow.port}/most${q}`, { auth: basic('neighbour', neighbour.token) })).body);
    await most('?reset');
    const holders: Array<ReturnType<typeof hold>> = [];
    for (let i = 0; i < 5; i++) {
      const ag = await a.airlock.agents.add(`flood${i}`);
      holders.push(hold([String(a.port), '60', 'get', basic(`flood${i}`, ag.token), '60000', hang]));
    }
    t.teardown(() => { for (const h of holders) h.stop(); });
    await Promise.all(holders.map((h) => h.opened));
    for (let i = 0; i < 3; i++) t.equal((await ask()).status, 200, `the neighbour's request ${i + 1} is served`);
    const flooded = (): number => [0, 1, 2, 3, 4].reduce((n, i) => n + refused(`flood${i}`), 0);
    t.ok(await until(async () => hung() - before + flooded() >= 300, count), 'every request was forwarded or refused');
    // Each agent past the crowded bound holds at most its equal part: with five, well under twice the bound.
    t.ok(await most() <= 2 * bounds.crowdedExchanges, `at most ${await most()} held at the upstream at once (${hung() - before} reached it, ${flooded()} got 429 agent-busy)`);
    for (const h of holders) h.stop();
    await Promise.all(holders.map((h) => h.result));
    await settled();
  });

  t.test('twenty-four agents\' idle keep-alive connections meet their equal parts; a neighbour is served', async (t) => {
    // Each agent within its own bound of idle connections: together past the limit.
    const auths: string[] = [];
    for (let i = 0; i < 24; i++) auths.push(basic(`many${i}`, (await a.airlock.agents.add(`many${i}`)).token));
    const kept = hold([String(a.port), String(24 * 20), 'get', auths.join(','), '60000', `http://${slow.host}:${slow.port}/count`]);
    t.teardown(kept.stop);
    await kept.opened;
    for (let i = 0; i < 3; i++) t.equal((await ask()).status, 200, `the neighbour's request ${i + 1} is served while the kept connections wait`);
    kept.stop();
    t.equal((await kept.result).failed, 0, 'every kept connection was accepted');
    await settled();
  });

  t.test('connections nobody has used, past the part of the limit: the longest-waiting are closed, a neighbour is served', async (t) => {
    const held = hold([String(a.port), String(LIMIT + 100), 'idle', '', '2000']);
    t.teardown(held.stop);
    await held.opened;
    t.equal((await ask()).status, 200, 'the neighbour is served while they are held');
    const r = await held.result;
    t.equal(r.failed, 0, 'every connection was accepted');
    t.ok(r.closed >= LIMIT + 100 - bounds.anonymous - 8, `the proxy closed ${r.closed} of them (${bounds.anonymous} may wait)`);
  });

  t.test('twenty agents\' requests waiting for their slots meet their equal parts; a newcomer may wait', async (t) => {
    // Each waiting request holds its socket; each agent within its own bound, together past the limit.
    const gate = new AgentGate();
    const never = (): Promise<void> => new Promise(() => undefined);
    let refused = 0;
    for (let i = 0; i < 20 * (gate.slots + gate.maxWaiting); i++) gate.run(`many${i % 20}`, never).catch(() => { refused++; });
    await new Promise((r) => setImmediate(r));
    const waiting = 20 * (gate.slots + gate.maxWaiting) - refused - 20 * gate.slots;
    t.ok(waiting <= bounds.anonymous + 20, `${waiting} wait in all (${bounds.anonymous} fit the limit; each of ${gate.maxWaiting} alone)`);
    let newcomer = true;
    for (let i = 0; i < gate.slots + 1; i++) gate.run('newcomer', never).catch(() => { newcomer = false; });
    await new Promise((r) => setImmediate(r));
    t.ok(newcomer, 'a newcomer gets its slots and may wait');
  });

  t.test('agents arriving one after another do not add up past the bound; a newcomer is still admitted', async (t) => {
    // The first fills the crowded bound alone, then each later one takes what it may: a part of the
    // bound each added up to bound × (1 + 1/2 + … + 1/n) (141 of 136 held live under load).
    const gate = new AgentGate(4, 16, 512, undefined, 68, 34); // the bounds of a 400-descriptor limit
    const bound = gate.crowdedOpen;
    for (let agent = 0; agent < 12; agent++) {
      for (let i = 0; i < gate.maxOpen; i++) {
        try {
          gate.enter(`seq${agent}`);
        } catch {
          break;
        }
      }
    }
    const held = (gate as unknown as { open: { total: number } }).open.total;
    t.ok(held <= bound * 1.5 + 12, `${held} open across twelve agents arriving in turn (the bound ${bound})`);
    t.doesNotThrow(() => gate.enter('newcomer'), 'a newcomer is admitted');
  });

  t.test('the bounds: a large limit keeps the fixed ones, a small one shrinks them, unknown is none', async (t) => {
    t.equal(openFileLimit('Max open files            1048576              1048576              files\n'), 1048576);
    t.equal(openFileLimit('Max open files            unlimited            unlimited            files\n'), Infinity);
    t.equal(openFileLimit(''), Infinity);
    t.ok(descriptorBounds(1048576).anonymous > 4096 && descriptorBounds(Infinity).crowdedExchanges === Infinity, 'a large limit binds none of the fixed bounds');
    t.ok(descriptorBounds(1024).crowdedExchanges * 2 + descriptorBounds(1024).anonymous + 5 * descriptorBounds(1024).sixteenth < 1024 - 100, 'a small one leaves room for the rest of the process');
  });
}

/** Waits (at most 10 s) until the holders' exchanges have ended in the proxy too. */
async function settled(): Promise<void> {
  for (let i = 0; i < 50 && fs.readdirSync('/proc/self/fd').length > 150; i++) await new Promise((r) => setTimeout(r, 200));
}

/** Polls `check` after `refresh` until it holds, for at most 30 s. */
async function until(check: () => Promise<boolean>, refresh: () => Promise<void>): Promise<boolean> {
  for (let i = 0; i < 150; i++) {
    await refresh();
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function hangingUpstream(t: Teardown): Promise<{ host: string; port: number }> {
  // `/most`: the most held at once since the last `/most?reset` (what costs descriptors; a count of
  // arrivals would also take in a previous flood's stragglers).
  const code = `const held = []; let n = 0, open = 0, most = 0;
    const s = require('node:http').createServer((req, res) => {
      if (req.url === '/hang') { n++; most = Math.max(most, ++open); res.on('close', () => open--); held.push(res); }
      else if (req.url.startsWith('/most')) { if (req.url.endsWith('?reset')) most = open; res.end(String(most)); }
      else res.end(String(n));
    });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { child.kill(); });
  const port = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { host: '127.0.0.1', port };
}
