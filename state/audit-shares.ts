// Whose records wait in memory for the audit trail (the file's disk, the database), so that one
// agent's backlog costs that agent, not everyone. Seventeenth pass: the trail's bound on what may
// wait is one pool; past it every agent's request is refused (503 audit-unavailable). An agent
// sending small allowed requests faster than a slow disk takes their records (each recorded whole:
// it reached an upstream) filled that pool by itself, and while the trail was behind, every
// agent's large descriptions were left out, not only the one writing the most.
//
// Each trail counts the bytes waiting per agent here: an agent with more than `OWN_SHARE` of the
// bound waiting is refused by itself until they are written (others are served), and while the
// trail is behind, large descriptions are left out only for agents with more than `HEAVY_SHARE`
// waiting. Eighteenth pass: a fixed eighth let eight agents flooding at once fill the bound and
// every agent was refused; past `CROWDED` of the bound the agents with records waiting split that
// part between them, so however many flood, about `CROWDED` waits and a neighbour is admitted.
// Twentieth pass: a part of `CROWDED` itself let agents arriving one after another each take theirs
// on top of the earlier ones' (sixty filled the bound); the part is now the room left under one and
// a half times `CROWDED`, shared (lib/tally.ts `equalPart`, as the descriptor bound's).
import { equalPart, Tally } from '../lib/tally.ts';

/** The part of the trail's bound one agent's waiting records may take before its requests are refused. */
export const OWN_SHARE = 1 / 8;
/** The part of the bound past which each agent with records waiting may hold only its equal part of it. */
export const CROWDED = 1 / 2;
/** The part past which, while the trail is behind, an agent's large descriptions are left out. */
export const HEAVY_SHARE = 1 / 64;

export class AuditShares {
  private readonly waiting = new Tally();
  /** audit-unavailable refusals counted instead of queued, per agent ('' for none). */
  readonly dropped = new Map<string, number>();

  /** `least`: what an agent may always have waiting, whatever the others hold (the session journal's few lines of a neighbour). */
  constructor(
    private readonly bound: number,
    private readonly least = 0,
  ) {}

  add(agent: string | null | undefined, bytes: number): void {
    if (agent) this.waiting.add(agent, bytes);
  }

  remove(agent: string | null | undefined, bytes: number): void {
    if (agent) this.waiting.sub(agent, bytes);
  }

  /**
   * What `agent` may have waiting now: its share, or once the waiting agents crowd the bound, its
   * equal part of what is left under one and a half times `CROWDED` of it (an agent with nothing
   * waiting is never over: its next record is taken).
   */
  private limit(agent: string): number {
    const own = this.bound * OWN_SHARE;
    if (this.waiting.total <= this.bound * CROWDED) return own;
    return Math.min(own, equalPart(this.bound * CROWDED, this.waiting.total, this.waiting.size, this.of(agent) === 0, this.least));
  }

  /** Bytes of `agent`'s records waiting. */
  of(agent: string): number {
    return this.waiting.of(agent);
  }

  /** The agent's waiting records are past its share: its requests are refused until they are written. */
  over(agent: string): boolean {
    return this.of(agent) > this.limit(agent);
  }

  /** While the trail is behind: whether this agent's records are among the heavy ones (its large descriptions are left out). */
  heavy(agent: string): boolean {
    return this.of(agent) > this.bound * HEAVY_SHARE;
  }

  /** Why `agent` is refused, for the 503. */
  overReason(agent: string, what: string): string {
    return `agent ${agent}'s records wait for ${what} past its share (${Math.round(this.of(agent) / 1024)} KiB of at most ${Math.round(this.limit(agent) / 1024)} KiB now, ${this.waiting.size} agents' records waiting); its requests are refused until they are written, other agents are served`;
  }

  /** Counts a refusal instead of queueing its record. */
  count(agent: string | undefined): void {
    const k = agent ?? '';
    this.dropped.set(k, (this.dropped.get(k) ?? 0) + 1);
  }

  /**
   * The counted refusals that may be summed up now (`ready` says for whom: the trail can take
   * records again, the agent is back under its share), removed from the count.
   */
  takeDropped(ready: (agent: string) => boolean): Array<[string, number]> {
    const out: Array<[string, number]> = [];
    for (const [agent, n] of this.dropped) {
      if (!ready(agent)) continue;
      out.push([agent, n]);
      this.dropped.delete(agent);
    }
    return out;
  }
}

let serial = 0;

/** The record that stands for refusals counted instead of recorded one by one. */
export function droppedSummary(agent: string, n: number, why: string): { time: string; id: string; agent?: string; outcome: 'audit-unavailable'; detail: string } {
  return {
    time: new Date().toISOString(),
    id: `audit-gap-${Date.now()}-${(serial++).toString(36)}`,
    ...(agent ? { agent } : {}),
    outcome: 'audit-unavailable',
    detail: `${n} further requests${agent ? ` of agent ${agent}` : ''} were refused with 503 while ${why}; counted here, not recorded one by one`,
  };
}
