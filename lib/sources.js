// Running Airlock's TypeScript sources directly (bin/airlock.js, when no bundle can be built: a user
// who may not write the install's cache) with tsx's loader.
//
// tsx reads the tsconfig.json of the current folder unless told which: that is the user's project,
// where `airlock start` is usually run and an agent in `airlock run`'s sandbox writes, and its
// `paths` map Airlock's imports (`ws`, or its own modules) to files of the agent's, which would run
// next to the master key. Airlock's own tsconfig.json is named instead.
import path from 'node:path';

/** Registers tsx for the sources of the Airlock at `root`, with Airlock's own tsconfig.json. */
export async function registerSources(root) {
  const { register } = await import('tsx/esm/api');
  register({ tsconfig: path.join(root, 'tsconfig.json') });
}
