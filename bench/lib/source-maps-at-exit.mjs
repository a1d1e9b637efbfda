// Preloaded (`node --import`) into a profiled Airlock only. tsx runs each TypeScript module as one
// line of transpiled code, so a V8 CPU profile places every function on line 1. At exit this writes
// the source maps of the project's loaded modules to $AIRLOCK_BENCH_SOURCE_MAPS, and
// bench/lib/profile.ts maps the profile's positions back to TypeScript lines with them.
import fs from 'node:fs';
import { findSourceMap } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const out = process.env.AIRLOCK_BENCH_SOURCE_MAPS;
const root = process.env.AIRLOCK_BENCH_ROOT;
if (out && root) {
  process.on('exit', () => {
    const maps = {};
    const walk = (dir) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) {
          const url = pathToFileURL(p).href;
          const map = findSourceMap(url) ?? findSourceMap(p);
          if (map) maps[url] = map.payload;
        }
      }
    };
    for (const dir of ['proxy', 'engine', 'cli', 'bench/lib']) if (fs.existsSync(path.join(root, dir))) walk(path.join(root, dir));
    fs.writeFileSync(out, JSON.stringify(maps));
  });
}
