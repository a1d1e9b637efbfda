// The later requests of a session that brought a label again, for "why a human is needed" on the
// approval card and in `airlock approvals show` (pure: bundled into the browser app, imported by
// the CLI). The session keeps the first request that brought each label; the page that injected the
// agent often comes after a harmless one, and only the session's timeline (its last 200 requests)
// has it.
import type { TimelineEntry } from '../api/wire.ts';

export interface LaterCauses {
  /** Requests after the first that brought the label, up to the approval, oldest first. */
  later: TimelineEntry[];
  /**
   * The timeline no longer holds the first request: any between it and the timeline's oldest entry
   * may have brought the label again and cannot be listed (an agent that made 200 requests after the
   * injecting page had "no later request brought it" said of it).
   */
  cut: boolean;
}

export function laterCauses(timeline: TimelineEntry[], firstId: string, label: string, until: string | undefined): LaterCauses {
  return {
    later: timeline.filter((e) => e.id !== firstId && (e.labels_added ?? []).includes(label) && e.time <= (until ?? '~')),
    cut: !timeline.some((e) => e.id === firstId),
  };
}
