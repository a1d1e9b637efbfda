// Runs one Airlock in its own process for the benchmark (so its RSS is measured alone and it does
// not share an event loop with the load generator), exactly as `airlock start` would, with the
// bench policy, the origin's port opened, and one agent. Prints {"port","auth","pid"} when ready.
// Usage: node bin/run-ts.js bench/lib/airlock-child.ts ORIGIN_PORT
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAirlock } from '../../runtime/airlock.ts';

const originPort = Number(process.argv[2]);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-'));
const policy = path.join(path.dirname(fileURLToPath(import.meta.url)), 'policy');
const airlock = await startAirlock({
  home, policy, proxy: '127.0.0.1:0', studio: false, unixSocket: false, allowPrivate: [`127.0.0.1:${originPort}`],
});
const { token } = await airlock.agents.add('bench', { labels: { purpose: 'bench' } });
process.stdout.write(`${JSON.stringify({ port: airlock.proxyAddress.port, auth: `Basic ${Buffer.from(`bench:${token}`).toString('base64')}`, pid: process.pid })}\n`);
const stop = async (): Promise<void> => {
  await airlock.close();
  fs.rmSync(home, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
