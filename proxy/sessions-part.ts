// Builds the sessions part of a running Airlock (proxy/runtime.ts enforcer list): the session
// store in the state folder, the enforcer, and the timeline fed from the audit log (every record
// of a request that belongs to a session is one line of that session's timeline).
import { JournalSessionStore, type TimelineEntry } from '../engine/sessions.ts';
import type { AuditRecord } from '../engine/audit-log.ts';
import type { Enforcer } from './enforcers.ts';
import type { AirlockParts } from './runtime.ts';
import { sessionEnforcer } from './session-enforcer.ts';

/**
 * Whether a compiled policy reads `request.provenance`: OPA compiles every reference's path into
 * the module's string constants, so the word is in the WebAssembly bytes exactly when some rule
 * reachable from the decision refers to it. (A policy that builds the name at run time is not seen:
 * it then gets no provenance and its browsing rule never matches — closed, not open.)
 */
export function policyReadsProvenance(wasm: Buffer | undefined): boolean {
  return wasm !== undefined && wasm.includes('provenance');
}

export function timelineEntry(r: AuditRecord): TimelineEntry {
  const labels = (r.extra?.session as { labels?: unknown } | undefined)?.labels;
  return {
    id: r.id, time: r.time, method: r.method ?? '', url: r.url ?? '', host: r.host ?? '',
    ...(r.decision ? { action: r.decision.action, ...(r.decision.rule ? { rule: r.decision.rule } : {}) } : {}),
    outcome: r.outcome,
    ...(r.status !== undefined ? { status: r.status } : {}),
    ...(Array.isArray(labels) && labels.length ? { labels_added: labels as string[] } : {}),
  };
}

export function sessionPart(parts: AirlockParts): Enforcer {
  const store = JournalSessionStore.open(parts.home, { liveTokens: () => parts.agents.liveTokenIds() });
  parts.sessions = store;
  parts.onClose.push(() => store.close());
  let reads = policyReadsProvenance(parts.engine.policy?.wasm);
  parts.onClose.push(parts.engine.onReload(() => (reads = policyReadsProvenance(parts.engine.policy?.wasm))));
  parts.onClose.push(parts.audit.onRecord((r) => {
    const id = r.description?.session?.id;
    if (id !== undefined && r.outcome !== 'pending') store.noteRequest(id, timelineEntry(r));
  }));
  const mode = parts.config.provenance;
  return sessionEnforcer({ store, trackLinks: () => mode === 'on' || (mode === 'auto' && reads) });
}
