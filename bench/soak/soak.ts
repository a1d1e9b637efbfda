// Soak: Airlock at a fixed request rate for a fixed time (default 5 minutes at 200 req/s), in its
// own process, RSS sampled every 10 s. Passes when there were no errors and RSS stayed flat (the
// last third's median within 20 % + 16 MiB of the first third's). Opt-in, not part of npm test:
//   node bin/run-ts.js bench/soak/soak.ts [--minutes 5] [--rps 200] [--connections 16]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { runRate } from '../lib/loadgen.ts';
import { readJsonLine, rssOf, start } from '../lib/proc.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({ options: { minutes: { type: 'string', default: '5' }, rps: { type: 'string', default: '200' }, connections: { type: 'string', default: '16' } } });
const durationMs = Number(values.minutes) * 60_000;
const rps = Number(values.rps);
const MiB = 1024 * 1024;
const runner = path.join(root, 'bin', 'run-ts.js');

const origin = start('origin', process.execPath, [runner, path.join(root, 'bench/lib/upstream-server.ts')]);
const { port } = await readJsonLine<{ port: number }>(origin);
const airlock = start('airlock', process.execPath, [runner, path.join(root, 'bench/lib/airlock-child.ts'), String(port)]);
const ready = await readJsonLine<{ port: number; auth: string }>(airlock, 60_000);
const samples: Array<{ s: number; rssMiB: number }> = [];
const sample = (elapsedMs: number): void => {
  const rssMiB = Math.round((rssOf(airlock.pid) / MiB) * 10) / 10;
  samples.push({ s: Math.round(elapsedMs / 1000), rssMiB });
  process.stderr.write(`soak: ${Math.round(elapsedMs / 1000)} s, Airlock RSS ${rssMiB} MiB\n`);
};
sample(0);
let result;
try {
  result = await runRate(
    { connectTo: `http://127.0.0.1:${ready.port}`, url: `http://127.0.0.1:${port}/hello`, viaProxy: true, proxyAuthorization: ready.auth },
    { rps, durationMs, connections: Number(values.connections), sampleEveryMs: 10_000, onSample: sample },
  );
  sample(durationMs);
} finally {
  await airlock.stop();
  await origin.stop();
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const third = Math.max(1, Math.floor(samples.length / 3));
const early = median(samples.slice(0, third).map((x) => x.rssMiB));
const late = median(samples.slice(-third).map((x) => x.rssMiB));
const flat = late <= early * 1.2 + 16;
const ok = result.errors === 0 && result.non2xx === 0 && flat;
const summary = { time: new Date().toISOString(), minutes: Number(values.minutes), rps, result, samples, rssEarlyMiB: early, rssLateMiB: late, flat, ok };
fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const file = path.join(root, 'bench/results', `soak-${summary.time.replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`soak ${ok ? 'PASSED' : 'FAILED'}: ${result.requests} requests at ${rps}/s for ${values.minutes} min, ${result.errors} errors, ${result.non2xx} non-2xx, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, RSS ${early} → ${late} MiB (${flat ? 'flat' : 'GROWING'})\nresults: ${path.relative(root, file)}\n`);
process.exit(ok ? 0 : 1);
