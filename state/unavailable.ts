// A shared store that cannot be reached (PostgreSQL or Redis down, a connection cut). The proxy
// answers requests that need it with 503 problem+json naming what is down, instead of a 500:
// nothing leaves undecided, and the agent learns to retry. Stores recover by themselves.
export class StoreUnavailableError extends Error {
  constructor(
    /** What is down, as the agent and the operator read it: "PostgreSQL (state store)", "Redis (rate limits)". */
    readonly store: string,
    detail: string,
  ) {
    super(`${store} is unreachable: ${detail}`);
  }
}

export function isStoreUnavailable(err: unknown): err is StoreUnavailableError {
  return err instanceof StoreUnavailableError;
}
