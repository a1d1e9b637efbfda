// The file descriptors the process may open (RLIMIT_NOFILE) and the bounds on held connections
// that fit in them. The fixed bounds (4,096 connections waiting for a head, 512 open exchanges an
// agent, two descriptors each) fit a large limit; under a small one (`ulimit -n 1024`, a
// container's or a service manager's setting) one agent's requests an upstream never answers took
// every descriptor, and a neighbour's connection was accepted and closed at once (EMFILE) and no
// upstream could be dialed (nineteenth pass). The bounds here are parts of what the limit leaves
// after DESCRIPTORS_KEPT, and never more than the fixed ones.
import fs from 'node:fs';

/** Descriptors left for the rest of the process: the audit log, state files, the policy engine, DNS, the studio's page. */
export const DESCRIPTORS_KEPT = 128;

/** The soft limit on open files, as /proc reads it (Node raises it to the hard limit at start); Infinity where unknown or unlimited. */
export function openFileLimit(limits = readLimits()): number {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
}

function readLimits(): string {
  try {
    return fs.readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return '';
  }
}

export interface DescriptorBounds {
  /** Exchanges open at once across agents past which each agent holding some may hold only its equal part (two descriptors each: half the usable ones). */
  crowdedExchanges: number;
  /** Connections nobody has used yet, waiting for a head. */
  anonymous: number;
  /** Parts of the usable descriptors for each smaller bound (an agent's waiting requests and idle connections, the upstreams' idle pool, the studio's anonymous connections). */
  sixteenth: number;
}

/** The bounds that fit `limit` descriptors (Infinity: none of them binds). */
export function descriptorBounds(limit = openFileLimit()): DescriptorBounds {
  const usable = Math.max(64, limit - DESCRIPTORS_KEPT);
  return { crowdedExchanges: Math.floor(usable / 4), anonymous: Math.floor(usable / 8), sixteenth: Math.floor(usable / 16) };
}

let bounds: DescriptorBounds | undefined;
/** The bounds for this process's limit, read once. */
export function processDescriptorBounds(): DescriptorBounds {
  return (bounds ??= descriptorBounds());
}
