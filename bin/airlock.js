#!/usr/bin/env -S node --max-semi-space-size=8
// The `airlock` command. The sources are TypeScript and there is no build step to forget:
// `airlock start`, the long-running proxy, runs from an esbuild bundle of its code (lib/bundle.js:
// built on first use, rebuilt whenever a source it was built from changed), so that process carries
// no TypeScript loader (tsx's runs on a thread of its own, ~33 MiB); every other command, short-lived,
// loads the sources through tsx.
//
// Node runs with semi-spaces of 8 MiB (the young generation; V8's default grows them to 16 MiB on a
// machine with this much memory): ~10–20 MiB less resident after load, at no CPU cost the benchmark
// can measure (bench/README.md, "Idle memory"). `airlock` and `npm start` run this line;
// `node bin/airlock.js` runs with Node's defaults.
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
if (argv[0] === 'start') {
  const { ensureBundle } = await import('../lib/bundle.js');
  let bundle;
  try {
    bundle = ensureBundle({ entry: 'cli/start-entry.ts', name: 'airlock-start' });
  } catch (err) {
    process.stderr.write(`airlock: ${err.message}\n`);
    process.exit(1);
  }
  const { main } = await import(pathToFileURL(bundle.file).href);
  process.exitCode = await main(argv);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(argv);
}
