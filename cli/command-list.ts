// Every `airlock` command: cli/commands/<name>.ts exports `register(program)`. Listed, not
// discovered from the folder, because bin/airlock.js runs the commands from an esbuild bundle, which
// cannot follow a folder read at run time (test/docs/commands.test.ts checks this list against the
// folder). Each is a dynamic import: a command loads only its own part of the tree (loading all of
// them costs much more than one), and in the bundle each is a chunk of its own.
import type { Command } from 'commander';
import { lookupTable } from '../lib/records.ts';

export type Registration = (program: Command) => void;

export const commands: Readonly<Record<string, () => Promise<{ register: Registration }>>> = lookupTable({
  agent: () => import('./commands/agent.ts'),
  approvals: () => import('./commands/approvals.ts'),
  build: () => import('./commands/build.ts'),
  ca: () => import('./commands/ca.ts'),
  capture: () => import('./commands/capture.ts'),
  eval: () => import('./commands/eval.ts'),
  explain: () => import('./commands/explain.ts'),
  limits: () => import('./commands/limits.ts'),
  'migrate-state': () => import('./commands/migrate-state.ts'),
  migrate: () => import('./commands/migrate.ts'),
  replay: () => import('./commands/replay.ts'),
  run: () => import('./commands/run.ts'),
  secret: () => import('./commands/secret.ts'),
  sessions: () => import('./commands/sessions.ts'),
  start: () => import('./commands/start.ts'),
  test: () => import('./commands/test.ts'),
  totp: () => import('./commands/totp.ts'),
});
