// One Airlock replica for bench/scale: as `airlock start` runs it, with the store given on the
// command line (embedded, or --store/--limits), the bench policy, the origin opened, a studio, and
// (with "agent") one agent it creates. Prints {"port","studio","home","auth","pid"} when ready.
// Usage: node bin/run-ts.js bench/scale/replica-child.ts ORIGIN_PORT [STORE_URL LIMITS_URL] [agent]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReplica } from '../../runtime/airlock.ts';

const [originArg, store, limits, agentArg] = process.argv.slice(2);
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-scale-'));
const policy = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'approvals', 'policy');
const airlock = await startReplica({
  home, policy, proxy: '127.0.0.1:0', studio: '127.0.0.1:0', unixSocket: false, allowPrivate: [`127.0.0.1:${originArg}`],
  ...(store && store !== '-' ? { store } : {}), ...(limits && limits !== '-' ? { limits } : {}),
});
let auth: string | undefined;
if (agentArg === 'agent' || !store || store === '-') {
  const { token } = await airlock.agents.add(`bench-${process.pid}`, {});
  auth = `Basic ${Buffer.from(`bench-${process.pid}:${token}`).toString('base64')}`;
}
process.stdout.write(`${JSON.stringify({ port: airlock.proxyAddress.port, studio: airlock.studioUrl, home, auth, pid: process.pid })}\n`);
const stop = async (): Promise<void> => {
  await airlock.close();
  fs.rmSync(home, { recursive: true, force: true });
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
