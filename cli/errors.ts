import type { PolicyCompileError } from '../engine/compile.ts';

/** Errors a command throws for the user: printed as one line, exit code 1 unless given. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/**
 * A policy that failed to load, for the user: a missing folder (or one without .rego files) is
 * said as it is — "does not compile" would send them looking for a syntax error — and anything
 * else is `WHAT does not compile:` followed by each problem at file:line:col.
 */
export function policyFailure(err: PolicyCompileError, what: string): CliError {
  const lines = err.located();
  if (err.dir === undefined && err.problems.every((p) => p.line === 0)) return new CliError(lines.join('\n'));
  return new CliError(`${what} does not compile:\n${lines.join('\n')}`);
}
