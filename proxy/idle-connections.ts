// Client connections waiting for a request head, bounded: each holds a file descriptor, and a
// client that opens thousands of connections and sends nothing (or half a head, slowly) must not
// take the descriptors every agent, the upstreams and the audit log need. Connections with a
// request in flight are not counted here (agent-gate.ts bounds those per agent).
//
// Whose a waiting connection is decides which bound it meets. One that has not yet shown whose it
// is (a new connection, a tunnel in its handshake) counts with everyone's anonymous ones; one an
// agent has used (a keep-alive connection after its first request, a tunnel its CONNECT opened)
// counts against that agent's own bound. Past a bound the longest-waiting connection of that same
// pool is closed: a flood of new connections closed every agent's idle keep-alive connections and
// tunnels (one pool for all) and only ever closes its own now.
import type net from 'node:net';
import { processDescriptorBounds } from '../lib/descriptors.ts';

/** Connections waiting that nobody has used yet, at most. */
export const MAX_IDLE_CONNECTIONS = 4096;
/** Connections one agent has used, waiting for their next request, at most. */
export const MAX_IDLE_PER_AGENT = 256;

export class IdleConnections {
  /** Insertion order is waiting order: the first is the longest-waiting. */
  private readonly anonymous = new Set<net.Socket>();
  private readonly perAgent = new Map<string, Set<net.Socket>>();
  private readonly owner = new WeakMap<net.Socket, string>();
  private readonly watched = new WeakSet<net.Socket>();
  /** Connections waiting in the agents' pools, over every agent. */
  private owned = 0;

  /** Each bound shrinks to fit the process's file descriptor limit (lib/descriptors.ts). */
  constructor(
    readonly anonymousCap = Math.min(MAX_IDLE_CONNECTIONS, processDescriptorBounds().anonymous),
    readonly agentCap = Math.min(MAX_IDLE_PER_AGENT, processDescriptorBounds().sixteenth),
    /** The agents' connections in all (past it, the agent with the most loses its longest-waiting): unbounded under a large limit. */
    readonly ownedCap = processDescriptorBounds().anonymous,
  ) {}

  /** The connection is `agent`'s from now on (it authenticated a request or a tunnel on it). */
  own(s: net.Socket, agent: string): void {
    if (this.owner.get(s) === agent) return;
    this.busy(s);
    this.owner.set(s, agent);
  }

  /** The connection waits for a request head; past its pool's bound the longest-waiting one of that pool is closed. */
  wait(s: net.Socket): void {
    if (s.destroyed) return;
    if (!this.watched.has(s)) {
      this.watched.add(s);
      s.once('close', () => this.busy(s));
    }
    this.busy(s);
    const agent = this.owner.get(s);
    let pool = this.anonymous;
    let cap = this.anonymousCap;
    if (agent !== undefined) {
      pool = this.perAgent.get(agent) ?? new Set();
      this.perAgent.set(agent, pool);
      cap = this.agentCap;
    }
    pool.add(s);
    if (agent !== undefined) this.owned++;
    while (pool.size > cap) this.close(pool);
    // Many agents each within its own bound may together take the descriptors: the one keeping
    // the most gives up its longest-waiting.
    while (this.owned > this.ownedCap) {
      let most: Set<net.Socket> | undefined;
      for (const p of this.perAgent.values()) if (!most || p.size > most.size) most = p;
      this.close(most!);
    }
  }

  private close(pool: Set<net.Socket>): void {
    const oldest = pool.values().next().value as net.Socket;
    this.busy(oldest);
    oldest.destroy();
  }

  /** A request head arrived (or the connection closed): it no longer waits. */
  busy(s: net.Socket): void {
    if (this.anonymous.delete(s)) return;
    const agent = this.owner.get(s);
    if (agent === undefined) return;
    const pool = this.perAgent.get(agent);
    if (!pool?.delete(s)) return;
    this.owned--;
    if (pool.size === 0) this.perAgent.delete(agent);
  }
}
