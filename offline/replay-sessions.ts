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

export class SessionSimulation {
  private readonly sessions = new Map<string, Record<string, LabelArrival>>();

  /** The description as the simulated session sees it (the input itself when it has no session). */
  prepare(input: RequestDescription): RequestDescription {
    const s = input.session;
    if (!s || typeof s.id !== 'string') return input;
    const labels = this.sessions.get(s.id) ?? {};
    return { ...input, session: { ...s, labels: { ...labels } } };
  }

  /**
   * After the decision: the labels its response brought, when the upstream answered it. `status` is
   * the upstream's answer (undefined when the request never reached it).
   */
  settle(input: RequestDescription, decision: Pick<Decision, 'action' | 'labels'>, status: number | undefined): void {
    const s = input.session;
    if (!s || typeof s.id !== 'string' || decision.action === 'deny' || !decision.labels?.length) return;
    if (status === undefined) return;
    let labels = this.sessions.get(s.id);
    if (!labels) this.sessions.set(s.id, (labels = {}));
    for (const l of decision.labels) labels[l] ??= { request_id: input.request.id, host: input.request.host, time: input.request.time };
  }

  /** A human's change, at its place in the order. */
  apply(e: SessionEvent): void {
    if (e.type === 'reset') this.sessions.delete(e.session);
    else if (e.label) delete this.sessions.get(e.session)?.[e.label];
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
