// The whole tree type-checks under `strict`: part of `npm test`, so a type error fails CI.
import t from 'tap';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

t.test('tsc --noEmit is clean', async (t) => {
  // tap's processinfo plugin injects its module hooks into every spawned process through
  // NODE_OPTIONS; `env -u` clears them so tsc runs as plain CommonJS.
  const result = await run('env', ['-u', 'NODE_OPTIONS', process.execPath, 'node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'], { maxBuffer: 16 * 1024 * 1024 }).then(
    () => '',
    (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
  );
  t.equal(result, '', 'no type errors');
});
