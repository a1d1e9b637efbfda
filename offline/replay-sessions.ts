// Stateful replay of sessions: labels accumulate in request order as they did live. Each policy
// being replayed keeps its own simulation (its decisions decide which labels a response brought),
// so a draft that labels differently sees the consequences in the requests that follow.
//
// A request of a session is decided with the labels the simulation holds for that session at that
// point (input.session.labels replaced); after it, the labels its decision carries are added when
// the upstream answered it (any status, as live) and the decision let it through.
// A human's clear or reset recorded in the audit log applies at its place in the order. Links
// (request.provenance) are used as recorded: the bodies that carried them are not in the capture.
import type { LabelArrival, RequestDescription } from '../describe/types.ts';
import type { Decision } from '../engine/decision.ts';
import type { SessionEvent } from '../state/audit-log.ts';
import { emptyMap } from '../lib/records.ts';

/** Request ids remembered per session (a session longer than this counts later arrivals as from outside). */
const MAX_REPLAYED_IDS = 100_000;

export class SessionSimulation {
  private readonly sessions = new Map<string, Record<string, LabelArrival>>();
  /** Per session, the requests this simulation decided (bounded): labels they brought are its own decisions'. */
  private readonly replayed = new Map<string, Set<string>>();
  /**
   * `wrote:` labels any replayed session brought: live, every session, of any agent, is decided as
   * holding them (a host serves what one session stored there to all), so a replayed draft that
   * labels a store's write sees its links refused in the sessions after it (fifteenth pass).
   */
  private readonly written = new Map<string, LabelArrival>();

  /**
   * The description as the simulated session sees it (the input itself when it has no session).
   * Labels the request was recorded with that arrived through a request replay does not decide — one
   * before the capture began, or left out by `--since`, `--host`, `--agent` — are the session's too:
   * live, they were there, and nothing replay decides can take them away. (They were dropped: a
   * capture of the webhook's requests alone, or of the last hour, showed the trifecta gone.)
   */
  prepare(input: RequestDescription): RequestDescription {
    const s = input.session;
    if (!s || typeof s.id !== 'string') return input;
    let labels = this.sessions.get(s.id);
    const recorded = s.labels && typeof s.labels === 'object' ? Object.entries(s.labels) : [];
    if (recorded.length) {
      const mine = this.replayed.get(s.id);
      for (const [label, arrival] of recorded) {
        if (!arrival || typeof arrival !== 'object' || typeof arrival.request_id !== 'string') continue;
        if (mine?.has(arrival.request_id) || labels?.[label]) continue;
        if (!labels) this.sessions.set(s.id, (labels = {}));
        labels[label] = { ...arrival, outside: true } as LabelArrival;
      }
    }
    const view: Record<string, LabelArrival> = emptyMap();
    for (const [l, a] of this.written) view[l] = a;
    for (const [l, a] of Object.entries(labels ?? {})) view[l] = { request_id: a.request_id, host: a.host, time: a.time };
    return { ...input, session: { ...s, labels: view } };
  }

  /**
   * After the decision: the labels its response brought, when the upstream answered it. `status` is
   * the upstream's answer (undefined when the request never reached it).
   */
  settle(input: RequestDescription, decision: Pick<Decision, 'action' | 'labels'>, status: number | undefined): void {
    const s = input.session;
    if (!s || typeof s.id !== 'string') return;
    let mine = this.replayed.get(s.id);
    if (!mine) this.replayed.set(s.id, (mine = new Set()));
    if (mine.size < MAX_REPLAYED_IDS) mine.add(input.request.id);
    let labels = this.sessions.get(s.id);
    // A label taken from the record that this very request brought live (it finished after the one
    // recorded with it): the replayed policy's decision for it decides now.
    const brings = decision.action !== 'deny' && status !== undefined ? new Set(decision.labels ?? []) : new Set<string>();
    // A `wrote:` label is stored as the request leaves (live: before it, whether or not an answer came).
    if (decision.action === 'allow' || (decision.action !== 'deny' && status !== undefined)) {
      for (const l of decision.labels ?? []) {
        if (l.startsWith('wrote:') && !this.written.has(l)) this.written.set(l, { request_id: input.request.id, host: input.request.host, time: input.request.time });
      }
    }
    for (const [l, a] of Object.entries(labels ?? {})) {
      if ((a as { outside?: boolean }).outside && a.request_id === input.request.id && !brings.has(l)) delete labels![l];
    }
    if (!brings.size) return;
    if (!labels) this.sessions.set(s.id, (labels = {}));
    for (const l of brings) {
      const a = labels[l];
      if (!a || ((a as { outside?: boolean }).outside && a.request_id === input.request.id)) labels[l] = { request_id: input.request.id, host: input.request.host, time: input.request.time };
    }
  }

  /** A human's change, at its place in the order. */
  apply(e: SessionEvent): void {
    if (e.type === 'reset') this.sessions.delete(e.session);
    else if (e.label) {
      delete this.sessions.get(e.session)?.[e.label];
      this.written.delete(e.label); // live, a human's clear of a `wrote:` label removes it for every session
    }
  }

  /** The labels a session holds now (tests, reports). */
  labels(id: string): string[] {
    return Object.keys(this.sessions.get(id) ?? {}).sort();
  }
}

/** For captures without session ids (HAR files, old logs): one session per agent, from the first request. */
export function perAgentSession(input: RequestDescription): RequestDescription {
  if (input.session) return input;
  return { ...input, session: { id: `agent:${input.agent.id}`, started: input.request.time, labels: {}, requests: 0, egress_bytes: 0 } };
}
