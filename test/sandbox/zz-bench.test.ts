import t from 'tap';
import { spawnSync } from 'node:child_process';
import { startWorld } from './helpers.ts';
const world = await startWorld();
t.teardown(() => world.close());
const bins = { old: '/work/main/bin/airlock.js', new: '/work/wt-sandbox/bin/airlock.js' };
const times: Record<string, number[]> = { old: [], new: [] };
for (let i = 0; i < 12; i++) {
  for (const k of ['old', 'new'] as const) {
    const s = performance.now();
    const r = spawnSync(process.execPath, [bins[k], 'run', '--agent', world.agent, '--home', world.home, '--', 'sh', '-c', 'exit 3'], { cwd: world.work });
    if (i > 0) times[k]!.push(performance.now() - s);
    if (r.status !== 3) console.error(k, r.status, r.stderr.toString());
  }
}
for (const k of ['old', 'new']) { const a = times[k]!.sort((x, y) => x - y); console.error('RUN', k, a.map((x) => x.toFixed(0)).join(' '), 'median', a[5]!.toFixed(0)); }
t.pass('done');
