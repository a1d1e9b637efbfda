// A whole Airlock in a process of its own, for tests that need libuv's thread pool sized as a user
// may size it: UV_THREADPOOL_SIZE is read once per process, when the pool first starts, so a test
// process cannot change its own. Run as `node bin/run-ts.js test/attacks/pool-child.ts CONFIG`
// with the variable in the environment; prints one JSON line (the proxy's port, the agents'
// Proxy-Authorization values) and serves until stdin closes.
//
// Names under `.never.example` stand for a name server that never answers: their system lookup
// holds a pool thread as getaddrinfo does (it opens a FIFO nobody writes to, which blocks a pool
// thread in open(2)) until the parent opens the FIFO for writing.
import fs from 'node:fs';
import path from 'node:path';
import { startAirlock } from '../../runtime/airlock.ts';
import { fixtures } from './helpers.ts';

interface Config { home: string; fifo: string; upstreamPort: number; dnsPort: number; agents: string[] }
const config = JSON.parse(process.argv[2] ?? '{}') as Config;
const airlock = await startAirlock({
  studio: false, unixSocket: false, proxy: '127.0.0.1:0', threads: 1, home: config.home,
  policy: path.join(fixtures, 'allow-all'), allowPrivate: [`127.0.0.1:${config.upstreamPort}`],
});
const guard = airlock.guard as unknown as { lookup: (h: string) => Promise<string[]>; spareServers: string[] | undefined };
guard.lookup = async (host) => {
  if (!host.endsWith('.never.example')) return ['127.0.0.1'];
  const fh = await fs.promises.open(config.fifo, 'r');
  await fh.close();
  throw Object.assign(new Error('no answer'), { code: 'EAI_AGAIN' });
};
guard.spareServers = [`127.0.0.1:${config.dnsPort}`];
const auths: Record<string, string> = {};
for (const name of config.agents) {
  const { token } = await airlock.agents.add(name, {});
  auths[name] = `Basic ${Buffer.from(`${name}:${token}`).toString('base64')}`;
}
process.stdout.write(`${JSON.stringify({ port: airlock.proxyAddress.port, auths })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void airlock.close().then(() => process.exit(0), () => process.exit(1)));
