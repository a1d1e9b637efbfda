// Soak: Airlock (`airlock start`, its own process) at a fixed request rate for a fixed time (default
// 5 minutes at 200 req/s of GitHub reads under the default policy), RSS sampled every 10 s. Passes
// when there were no errors, no non-2xx answers and RSS stayed flat (the last third's median within
// 20 % + 16 MiB of the first third's). Opt-in, not part of npm test:
//   node bin/run-ts.js bench/soak/soak.ts [--minutes 5] [--rps 200] [--connections 16]
//        [--policy default|allow-all] [--starve [N]]
// --starve runs N busy loops (default: one per core) for the whole soak: CPU starvation. The audit
// log's fail-closed denials are counted either way; `timeout` ones are legitimate requests denied
// because their evaluation overran the budget while waiting for a core.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startAirlock, type AirlockPolicy } from '../lib/airlock.ts';
import { readJsonLine, rssOf, start } from '../lib/proc.ts';
import { starvation } from './starve.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '5' },
    rps: { type: 'string', default: '200' },
    connections: { type: 'string', default: '16' },
    policy: { type: 'string', default: 'default' },
    starve: { type: 'string' },
  },
  // `--starve` alone means one busy loop per core.
  args: process.argv.slice(2).flatMap((a, i, all) => (a === '--starve' && (all[i + 1] === undefined || all[i + 1]!.startsWith('--')) ? ['--starve', String(os.cpus().length)] : [a])),
});
const policy = values.policy as AirlockPolicy;
if (policy !== 'default' && policy !== 'allow-all') throw new Error(`--policy ${values.policy}: expected default or allow-all`);
const durationMs = Number(values.minutes) * 60_000;
const rps = Number(values.rps);
const burners = values.starve === undefined ? 0 : Number(values.starve);
const MiB = 1024 * 1024;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-soak-'));

const origin = start('origin', process.execPath, [path.join(root, 'bin', 'run-ts.js'), path.join(root, 'bench/lib/upstream-server.ts')]);
const { http: port } = await readJsonLine<{ http: number }>(origin);
const airlock = await startAirlock({ root, policy, tmp, origin: { http: port } });
const samples: Array<{ s: number; rssMiB: number }> = [];
const sample = (elapsedMs: number): void => {
  const rssMiB = Math.round((rssOf(airlock.proc.pid) / MiB) * 10) / 10;
  samples.push({ s: Math.round(elapsedMs / 1000), rssMiB });
  process.stderr.write(`soak: ${Math.round(elapsedMs / 1000)} s, Airlock RSS ${rssMiB} MiB, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
};
sample(0);
let run;
try {
  // The default policy sees a GitHub read (api.github.com pinned to the origin); allow-all the origin itself.
  const url = policy === 'default' ? 'http://api.github.com/repos/airlock/bench' : `http://127.0.0.1:${port}/repos/airlock/bench`;
  run = await starvation(
    { connectTo: airlock.proxyUrl, url, viaProxy: true, proxyAuthorization: airlock.proxyAuthorization },
    airlock.home,
    { seconds: durationMs / 1000, rps, burners, connections: Number(values.connections), onSample: sample },
  );
  sample(durationMs);
} finally {
  await airlock.proc.stop();
  await origin.stop();
}
const result = run.load;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const third = Math.max(1, Math.floor(samples.length / 3));
const early = median(samples.slice(0, third).map((x) => x.rssMiB));
const late = median(samples.slice(-third).map((x) => x.rssMiB));
const flat = late <= early * 1.2 + 16;
const ok = result.errors === 0 && result.non2xx === 0 && flat;
const summary = {
  time: new Date().toISOString(), minutes: Number(values.minutes), rps, policy, burners, result, samples, rssEarlyMiB: early, rssLateMiB: late, flat, ok,
  audit: run.audit, timeoutDenials: run.timeoutDenials, loadavgAfter: run.loadavgAfter,
};
fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
const file = path.join(root, 'bench/results', `soak-${summary.time.replace(/[:.]/g, '-')}.json`);
fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
fs.rmSync(tmp, { recursive: true, force: true });
process.stdout.write(`soak ${ok ? 'PASSED' : 'FAILED'}: ${result.requests} requests at ${rps}/s for ${values.minutes} min (${policy} policy${burners ? `, ${burners} busy loops` : ''}), ${result.errors} errors, ${result.non2xx} non-2xx (${run.timeoutDenials} denied for overrunning the evaluation budget), p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, RSS ${early} → ${late} MiB (${flat ? 'flat' : 'GROWING'}); load average after ${run.loadavgAfter.join(' ')}\nresults: ${path.relative(root, file)}\n`);
process.exit(ok ? 0 : 1);
