// The tripwire on what Airlock keeps back. A message, event or chunk whose end may start a secret
// is held until the next shows it is not (websocket-relay.ts, scrub.ts): that hold depends on the
// secret, so an agent that knows a key's first characters (a public prefix such as `sk_live_`) can
// add one guessed character and watch whether it is held, learning the key a character at a time.
// Any behaviour that depends on the secret says something; this bounds how much: a hold that
// keeps back PROBE_START or more characters of a secret value's start and then proves none (the
// next piece does not complete it) or is dropped (nothing follows in time, the reader goes away)
// is taken as a probe, and the token that opened the request or tunnel is revoked. A key a
// service hands back whole is completed, so scrubbed as before, never a probe. Ordinary text
// almost never ends a piece in 10 characters of a real key that are not the key; a public prefix
// is 8 at most, and the 8–9 character hold stays as it was. One such hold at a time per token:
// guesses sent in parallel and kept open would otherwise each learn a character before any trips.
import type { RequestDescription } from '../describe/types.ts';
import type { AuditRecord } from '../state/audit-log.ts';
import { StreamStop, type Rejection, type RequestContext, type RequestOrigin } from './enforcers.ts';

/** What a scrubbing stream tells the tripwire about a start it holds (proxy/scrub.ts). */
export interface HoldProbe {
  /** What is held now ends in a long start: an error ends the stream (the token holds another such start at once). */
  begin(rules: Array<{ label?: string; replace: string }>): Error | undefined;
  /** The long start proved none, or was dropped (`late`: after the request's record was written): the error that ends the stream. */
  trip(rules: Array<{ label?: string; replace: string }>, late?: boolean): Error | undefined;
  /** The long start was completed (a key handed back whole), or the stream failed otherwise. */
  end(): void;
}

/**
 * Characters of a secret's start (in any spelling: every spelling is at least as long as what it
 * spells) a hold may keep back before it trips: one past a public 8-character prefix plus a guess.
 * An agent learns at most the 9th character by the hold and the 10th by the trip.
 */
export const PROBE_START = 10;

/** Revokes one token of an agent (state/stores.ts AgentDirectory.revokeToken). */
/**
 * A long start still held this long is forgotten by the one-at-a-time rule (every site resolves
 * its holds sooner: a WebSocket's within a second, an answer's within PROBE_HOLD_MS).
 */
const STALE_MS = 15_000;

/** A tripwire site: the rules of a hold by the secrets they are of (undefined: no secret's value). */
export type RuleNames = (rules: Array<{ label?: string; replace: string }>) => string[];

export type RevokeToken = (agent: string, tokenId: string) => Promise<unknown>;

export class SecretProbe {
  /** The id of the token each request came with (never the token), by its description. */
  private readonly tokens = new WeakMap<RequestDescription, string>();
  /**
   * The long starts each token holds now, by holder (a tunnel's side, a stream), since when. One
   * at a time: guesses sent in parallel, each kept open while held, would otherwise each learn a
   * character before any trips; a second long start held at once by the same token trips.
   */
  private readonly pending = new Map<string, Map<object, number>>();
  /** Tokens tripped whose revocation may not be written yet: refused meanwhile. */
  private readonly tripped = new Set<string>();

  /** `revoke` takes the token away; `audit` records a trip that came after its request's record was written (`late`). */
  constructor(private readonly revoke?: RevokeToken, private readonly audit?: (record: AuditRecord) => void) {}

  /** Remembers the token a request came with (a describe hook: one WeakMap entry). */
  note(description: RequestDescription, origin: RequestOrigin | undefined): void {
    if (origin?.token !== undefined) this.tokens.set(description, origin.token);
  }

  private keyOf(ctx: RequestContext): string | undefined {
    const token = this.tokens.get(ctx.description);
    return token === undefined ? undefined : `${ctx.description.agent.id}\0${token}`;
  }

  /** `holder` holds a long start of `secrets` now: a refusal (the trip) when the token holds another already. */
  begin(ctx: RequestContext, holder: object, secrets: string[], where: string): Rejection | undefined {
    const key = this.keyOf(ctx);
    if (key === undefined) return undefined;
    const now = Date.now();
    let held = this.pending.get(key);
    if (held) for (const [h, since] of held) if (now - since > STALE_MS) held.delete(h);
    if (held?.size && !held.has(holder)) return this.trip(ctx, secrets, `${where}, while the same token held another such start,`);
    if (!held) this.pending.set(key, (held = new Map()));
    if (!held.has(holder)) held.set(holder, now);
    return undefined;
  }

  /**
   * Whether the token holds a long start through another holder than `holder` now. While it does,
   * its other traffic waits (requests) or is refused (WebSocket messages), all alike: a guess sent
   * in parallel must not tell by tripping the wire that it was right.
   */
  heldElsewhere(ctx: RequestContext, holder?: object): boolean {
    if (this.pending.size === 0) return false;
    const key = this.keyOf(ctx);
    const held = key === undefined ? undefined : this.pending.get(key);
    if (!held) return false;
    const now = Date.now();
    for (const [h, since] of held) if (h !== holder && now - since <= STALE_MS) return true;
    return false;
  }

  /** Waits (at most `maxMs`) until the token holds no long start elsewhere; whether it is clear. */
  async clear(ctx: RequestContext, maxMs: number): Promise<boolean> {
    const until = Date.now() + maxMs;
    while (this.heldElsewhere(ctx)) {
      if (Date.now() >= until) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  }

  /** `holder` no longer holds a long start (completed: a key handed back whole; or its stream failed). */
  end(ctx: RequestContext, holder: object): void {
    const key = this.keyOf(ctx);
    const held = key === undefined ? undefined : this.pending.get(key);
    if (!held) return;
    held.delete(holder);
    if (!held.size) this.pending.delete(key!);
  }

  /** The tripwire for a stream's holds (proxy/scrub.ts ChunkScrubber): its refusals as StreamStop errors. */
  stream(ctx: RequestContext, where: string, names: RuleNames): HoldProbe {
    const holder = {};
    return {
      begin: (rules) => {
        const n = names(rules);
        const r = n.length ? this.begin(ctx, holder, n, where) : undefined;
        return r && new StreamStop(r);
      },
      trip: (rules, late) => {
        const n = names(rules);
        return n.length ? new StreamStop(this.trip(ctx, n, where, late)) : undefined;
      },
      end: () => this.end(ctx, holder),
    };
  }

  /** Whether the request's token tripped the wire (its revocation may still be on its way). */
  isTripped(ctx: RequestContext): boolean {
    if (this.tripped.size === 0) return false;
    const token = this.tokens.get(ctx.description);
    return token !== undefined && this.tripped.has(`${ctx.description.agent.id}\0${token}`);
  }

  /**
   * A hold kept back PROBE_START or more characters of `secrets`' start: the request's token is
   * revoked, the audit record says so (secret names only, never what matched), and the piece is
   * refused (the stream or tunnel ends).
   */
  trip(ctx: RequestContext, secrets: string[], where: string, late = false): Rejection {
    const agent = ctx.description.agent.id;
    const token = this.tokens.get(ctx.description);
    const noted = { secrets, where, ...(token !== undefined ? { token_revoked: token } : {}) };
    ctx.audit.secret_probe = noted;
    if (token !== undefined) {
      const key = `${agent}\0${token}`;
      this.pending.delete(key);
      this.tripped.add(key);
      const done = (): void => void setTimeout(() => this.tripped.delete(key), 60_000).unref();
      if (this.revoke) this.revoke(agent, token).then(done, done);
    }
    const rejection: Rejection = {
      status: 403, type: 'secret-probe', title: 'Secret probe',
      detail: `${where} kept back ${PROBE_START} or more characters of the start of secret ${secrets.map((n) => `"${n}"`).join(', ')} that then proved not to be it (or was dropped unfinished), which ordinary traffic does not do: it is taken as an attempt to learn the secret by what Airlock holds back; the piece was withheld and the token that sent the request was revoked`,
      outcome: 'secret-probe',
    };
    if (late && this.audit) {
      const r = ctx.description.request;
      this.audit({ time: new Date().toISOString(), id: r.id, agent, method: r.method, url: r.url, host: r.host, outcome: 'secret-probe', detail: rejection.detail, extra: { secret_probe: noted } });
    }
    return rejection;
  }
}

/** A request or message of a token that holds a long start elsewhere and did not let it go in time. */
export function heldRefusal(): Rejection {
  return { status: 403, type: 'secret-probe-pending', title: 'Held while a possible secret is checked', detail: 'another request or tunnel of this token holds what may be the start of a secret; its traffic waits until that is settled, and this did not settle in time', outcome: 'denied' };
}

/** Whether a tripped token's request is refused: 403 until its revocation is written (then 407). */
export function probeRefusal(): Rejection {
  return { status: 403, type: 'secret-probe', title: 'Secret probe', detail: 'the token this request came with tripped the secret-probe wire and is being revoked', outcome: 'secret-probe' };
}
