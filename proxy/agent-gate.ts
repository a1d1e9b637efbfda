// Per-agent admission to the expensive first steps of a request (reading the body prefix,
// describing it, evaluating the policy). Each agent has a few slots; its other requests wait
// their turn, with their bodies still in the socket (TCP pushes back), so an agent that opens a
// hundred 1 MiB uploads at once costs a few bodies of memory and a few describe steps at a time,
// and another agent's request never queues behind them. Holds for approval come after the gate.
import { processDescriptorBounds } from '../lib/descriptors.ts';
import { equalPart, Tally } from '../lib/tally.ts';

export const AGENT_SLOTS = 4;
/**
 * Requests of one agent waiting for a slot, at most. Each holds a socket (a file descriptor);
 * past this the request is refused at once (429, connection closed), so one agent cannot take
 * the process's descriptors by opening thousands of slow requests.
 */
export const AGENT_WAITING = 256;

/**
 * Exchanges of one agent open at once, at most: from admission until the response has been sent
 * (or the WebSocket tunnel has closed), holds for approval and forwarded requests included. Each
 * holds the agent's socket and often one to the upstream; the slots above bound only the first
 * steps, so without this an agent could keep thousands of slow or unread downloads and idle
 * WebSocket tunnels open (the upstream budgets allow ten minutes of silence, a tunnel has no end)
 * and take the file descriptors every agent, the upstreams and the audit log need.
 */
export const AGENT_OPEN = 512;

/**
 * Memory the request descriptions of one agent's forwarded exchanges may take, at most (as
 * estimated by `descriptionWeight`, counted for large bodies). A description is kept until the
 * response is sent (the audit record is written then; enforcers and a lasting request's new
 * decisions read it), and one of a 1 MiB JSON body of tiny objects is ~0.9 MiB of text and
 * ~8.5 MiB of heap: one agent's allowed uploads to an upstream that never answers (it may keep
 * AGENT_OPEN of them) held gigabytes (seventeenth pass). Past this, the agent's large requests are
 * refused (429) until some end: ~9 such uploads at once, ~60 of 1 MiB text (a model's prompt).
 * Held requests meet the approvals' held-data budget instead; refused ones end at once.
 */
export const AGENT_DESCRIBED_BYTES = 64 * 1024 * 1024;

/**
 * Agents' bounds of descriptions that may be held in all (256 MiB by default) before each agent
 * holding some may hold only its equal part (lib/tally.ts `equalPart`): the bound above was per agent
 * alone, so forty agents' uploads to upstreams that never answer could hold forty of them (2.5 GiB,
 * past a default Node heap: every agent's requests lost with the process). Twentieth pass.
 */
export const DESCRIBED_CROWD = 4;

/**
 * Bytes of request bodies captured in agents' slots (read, then waiting for the one-at-a-time
 * describe step or the policy's evaluation) in all, in bodies of the capture cap, before each agent
 * capturing some may capture only its equal part of what is left (lib/tally.ts `equalPart`), at
 * least a small body's worth (a cap's CAPTURED_LEAST_PART): the slots bounded them per agent only,
 * 4 bodies of up to 1 MiB, so thousands of agents sending large bodies slowly held GiBs (twenty-first
 * pass, follow-up). Past it a body is refused (429, connection closed) as it arrives, not read further.
 */
export const CAPTURED_CROWD_BODIES = 32;
/** The least a body past the crowd may take, as a part of the capture cap: a neighbour's small request is still read. */
export const CAPTURED_LEAST_PART = 1 / 16;

/**
 * A body's bytes counted against its agent as its slot captures them. While the body still arrives
 * its reader sets `onCut`: an agent within its fair part of the crowd that finds no room left has
 * the captures of agents holding more than theirs cut to make it (twenty-third pass), and the cut
 * reader stops, its request refused (429).
 */
export interface Capture {
  take(n: number): void;
  release(): void;
  onCut?: ((err: AgentBusyError) => void) | undefined;
}

/**
 * The heap a description takes, estimated from its JSON text: the text, and ~24 bytes more for
 * each value boundary (`{`, `[`, `,`, `:`), which is where parsed JSON costs more than its text.
 */
export function descriptionWeight(text: string): number {
  let marks = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2c || c === 0x3a || c === 0x7b || c === 0x5b) marks++;
  }
  return text.length + 24 * marks;
}

/** Thrown by run() when the agent already has AGENT_WAITING requests waiting, by enter() past AGENT_OPEN or AGENT_DESCRIBED_BYTES, and by capturing()'s take past its part. */
export class AgentBusyError extends Error {}

export class AgentGate {
  private readonly busy = new Tally();
  private readonly waiting = new Map<string, Array<() => void>>();
  /** Requests waiting for a slot, over every agent. */
  private waitingTotal = 0;

  private readonly open = new Tally();
  private readonly described = new Tally();
  private readonly captured = new Tally();
  /** Captures under way per agent, with what each holds: those whose reader set `onCut` may be cut for a neighbour. */
  private readonly capturesOf = new Map<string, Map<Capture, number>>();

  /**
   * The bounds that hold descriptors shrink to fit the process's limit (lib/descriptors.ts);
   * `crowdedOpen` is the exchanges open across agents past which each agent holding some may hold
   * only its equal part of it, itself counted: however many agents flood, about that many stay
   * open and a newcomer is admitted (before, nothing bounded them across agents); `crowdedWaiting`
   * is the same for requests waiting for a slot.
   */
  constructor(
    readonly slots = AGENT_SLOTS,
    readonly maxWaiting = Math.min(AGENT_WAITING, processDescriptorBounds().sixteenth),
    readonly maxOpen = AGENT_OPEN,
    readonly maxDescribed = AGENT_DESCRIBED_BYTES,
    readonly crowdedOpen = processDescriptorBounds().crowdedExchanges,
    readonly crowdedWaiting = processDescriptorBounds().anonymous,
    readonly crowdedDescribed = maxDescribed * DESCRIBED_CROWD,
    readonly bodyCap = 1024 * 1024,
    readonly crowdedCaptured = bodyCap * CAPTURED_CROWD_BODIES,
  ) {}

  /**
   * Counts a body's bytes against the agent as its slot captures them (`take`, which throws an
   * AgentBusyError past `crowdedCaptured` in all when the agent would hold more than its equal part
   * of what is left); `release` (idempotent) gives them back when the slot ends.
   */
  capturing(agent: string): Capture {
    const least = Math.max(1, Math.floor(this.bodyCap * CAPTURED_LEAST_PART));
    let held = 0;
    const capture: Capture = {
      take: (n) => {
        if (this.captured.total + n > this.crowdedCaptured) {
          const own = this.captured.of(agent);
          const part = equalPart(this.crowdedCaptured, this.captured.total, this.captured.size, own === 0, least);
          if (own + n > part && !this.makeRoom(agent, own, n)) throw new AgentBusyError(`this agent's requests in their slots hold ~${Math.ceil(own / 1024)} KiB of captured bodies while ${this.captured.size} agents' hold ~${Math.round(this.captured.total / 1048576)} MiB, past the ${Math.round(this.crowdedCaptured / 1048576)} MiB all may: each agent may hold its equal part of what is left (${Math.floor(part / 1024)} KiB); send large bodies fewer at a time`);
        }
        this.captured.add(agent, n);
        held += n;
        let mine = this.capturesOf.get(agent);
        if (!mine) this.capturesOf.set(agent, (mine = new Map()));
        mine.set(capture, held);
      },
      release: () => {
        this.captured.sub(agent, held);
        held = 0;
        const mine = this.capturesOf.get(agent);
        if (mine?.delete(capture) && !mine.size) this.capturesOf.delete(agent);
      },
    };
    return capture;
  }

  /**
   * Room for `n` more bytes of an agent within its fair part (the crowd's whole bound shared
   * equally by the agents holding some, itself counted), made by cutting captures still arriving
   * of agents holding more than that part, the largest holder's largest capture first. Without it
   * agents arriving first kept the bound to themselves and a neighbour's upload of more than a
   * sixteenth of the cap was refused (429).
   */
  private makeRoom(agent: string, own: number, n: number): boolean {
    const bound = this.crowdedCaptured * 1.5;
    const fair = Math.floor(bound / (this.captured.size + (own === 0 ? 1 : 0)));
    if (own + n > fair) return false;
    // The cuts that make the room, chosen first: none is made unless together they make it.
    const cuts: Capture[] = [];
    let room = bound - this.captured.total;
    const over = [...this.capturesOf.keys()].filter((a) => a !== agent && this.captured.of(a) > fair).sort((a, b) => this.captured.of(b) - this.captured.of(a));
    for (const other of over) {
      let left = this.captured.of(other);
      const cuttable = [...this.capturesOf.get(other)!].filter(([c]) => c.onCut).sort((a, b) => b[1] - a[1]);
      for (const [c, held] of cuttable) {
        if (room >= n || left <= fair) break;
        cuts.push(c);
        room += held;
        left -= held;
      }
      if (room >= n) break;
    }
    if (room < n) return false;
    for (const c of cuts) {
      const cut = c.onCut!;
      c.release();
      c.onCut = undefined;
      cut(new AgentBusyError(`another agent within its fair part of the ${Math.round(bound / 1048576)} MiB all agents' captured bodies may take needed the room, and this agent held more than its part (${Math.floor(fair / 1024)} KiB); send large bodies fewer at a time`));
    }
    return true;
  }

  /** Counts one exchange of the agent as open; the returned function (idempotent) ends it. */
  enter(agent: string): () => void {
    const own = this.open.of(agent);
    if (own >= this.maxOpen) throw new AgentBusyError(`${this.maxOpen} of this agent's requests and tunnels are already open`);
    if (this.open.total >= this.crowdedOpen) {
      const part = equalPart(this.crowdedOpen, this.open.total, this.open.size, own === 0);
      if (own >= part) throw new AgentBusyError(`${own} of this agent's requests and tunnels are open while ${this.open.total} are across ${this.open.size} agents, past the ${this.crowdedOpen} this process's file descriptors allow: each agent may hold its equal part (${part}) until some end`);
    }
    return this.open.hold(agent, 1);
  }

  /**
   * Throws while the agent's forwarded exchanges hold its bound of descriptions, or, past
   * `crowdedDescribed` in all, its equal part of what is left (checked for a large request in its slot).
   */
  checkDescribed(agent: string): void {
    const held = this.described.of(agent);
    if (held >= this.maxDescribed) {
      throw new AgentBusyError(`this agent's forwarded requests already hold ~${Math.round(held / 1048576)} MiB of request descriptions in memory (at most ${Math.round(this.maxDescribed / 1048576)} MiB); its large requests are refused until some end`);
    }
    if (this.described.total >= this.crowdedDescribed) {
      const part = equalPart(this.crowdedDescribed, this.described.total, this.described.size, held === 0);
      if (held >= part) throw new AgentBusyError(`this agent's forwarded requests already hold ~${Math.round(held / 1048576)} MiB of request descriptions in memory while ${this.described.size} agents' hold ~${Math.round(this.described.total / 1048576)} MiB, past the ${Math.round(this.crowdedDescribed / 1048576)} MiB all may: each agent may hold its equal part of what is left; its large requests are refused until some end`);
    }
  }

  /** Counts `bytes` (a description's weight) against the agent's open exchanges; the returned function (idempotent) gives them back. */
  weigh(agent: string, bytes: number): () => void {
    return this.described.hold(agent, bytes);
  }

  /** Runs `fn` once one of the agent's slots is free; the slot is freed when it settles. */
  async run<T>(agent: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.of(agent) >= this.slots) {
      const queued = this.waiting.get(agent)?.length ?? 0;
      if (queued >= this.maxWaiting) throw new AgentBusyError(`${this.maxWaiting} of this agent's requests are already waiting`);
      // Each waiting request holds a socket: past the part of the descriptors they may take in
      // all, an agent holding its equal part among the agents with some waiting is refused.
      if (this.waitingTotal >= this.crowdedWaiting) {
        const part = equalPart(this.crowdedWaiting, this.waitingTotal, this.waiting.size, queued === 0);
        if (queued >= part) throw new AgentBusyError(`${queued} of this agent's requests are waiting while ${this.waitingTotal} of ${this.waiting.size} agents' are, past the ${this.crowdedWaiting} this process's file descriptors allow: each agent may have its equal part (${part}) waiting`);
      }
      this.waitingTotal++;
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(agent);
        if (queue) queue.push(resolve);
        else this.waiting.set(agent, [resolve]);
      });
    } else {
      this.busy.add(agent, 1);
    }
    try {
      return await fn();
    } finally {
      this.release(agent);
    }
  }

  /** Hands the slot to the agent's next waiting request, or frees it. */
  private release(agent: string): void {
    const queue = this.waiting.get(agent);
    const next = queue?.shift();
    if (next) this.waitingTotal--;
    if (queue && queue.length === 0) this.waiting.delete(agent);
    if (next) return next(); // the slot passes on: busy stays the same
    this.busy.sub(agent, 1);
  }
}
