// The studio API's JSON, as the routes in this folder send it and the browser app (studio/app/)
// reads it: one set of types for both sides. Types only — the app imports this module with
// `import type`, so nothing of the server reaches the browser bundle. Each answer is named after
// its route; live events (WebSocket `{type, data}`) carry the same shapes.
import type { Explanation } from '../../engine/explain.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import type { PolicyProblem } from '../../engine/problem.ts';
import type { ChangedRow, Counts, DecisionSummary, ReplayReport } from '../../offline/replay.ts';
import type { AgentSummary } from '../../state/agents.ts';
import type { BodyVisibility } from '../../state/approval-body.ts';
import type { ApprovalRecord, GrantRecord } from '../../state/approvals.ts';
import type { AuditRecord } from '../../state/audit-log.ts';
import type { BucketView } from '../../state/ratelimit.ts';
import type { SecretInfo } from '../../state/secrets/store.ts';
import type { DraftFile } from '../drafts.ts';
import type { PolicyVersionRecord, TestFailure, TestReport } from '../versions.ts';

export type {
  AgentSummary, AuditRecord, BucketView, ChangedRow, Counts, DecisionSummary, DraftFile, EngineDecision, Explanation, GrantRecord,
  PolicyProblem, PolicyVersionRecord, ReplayReport, SecretInfo, TestFailure, TestReport,
};

/** A part of the running Airlock this studio was not given (no proxy in its process). */
export interface Unavailable {
  available: false;
  reason: string;
}

/** GET /api/status */
export interface StatusAnswer {
  proxy: { running: boolean; address: string | null };
  policy: { running: string | null; current: string | null; live: string | null };
  home: string;
  pieces: { approvals: boolean; limiter: boolean; secrets: boolean; agents: boolean };
  clients: number;
}

/** How much of a held request's body a person can read before approving it. */
export interface BodyView {
  size: number;
  visibility: BodyVisibility;
  /** The held request's bytes can be fetched from …/body now. */
  available: boolean;
  captured: number | null;
  /** Why approving needs accept_unseen_body (absent: the whole body can be shown). */
  unseen: string | undefined;
}

/** An approval as the API shows it: the stored record and live facts ("approval" events carry it too). */
export type ApprovalView = ApprovalRecord & { held: boolean; needs_step_up: boolean; body_view: BodyView };

/** GET /api/approvals */
export type ApprovalsAnswer = Unavailable | { available: true; approvals: ApprovalView[]; step_up_enrolled: boolean };

/** GET /api/approvals/:id: one approval with its whole description. */
export interface ApprovalAnswer {
  approval: ApprovalView & { description_complete: true };
}

/** GET /api/approvals/:id/body: the held request's bytes (secret values redacted). */
export interface HeldBodyAnswer {
  size: number;
  captured: number;
  truncated: boolean;
  content_type: string;
  /** The hash the approval is bound to: the body shown is the body approved. */
  sha256: string;
  /** Content-Encoding codings: the text/bytes are decoded, unless decode_error says why not. */
  content_encoding?: string[];
  decoded_size?: number;
  decode_error?: string;
  text?: string;
  base64?: string;
}

/** POST /api/approvals/:id/approve|grant|deny */
export interface ResolveAnswer {
  approval: ApprovalView;
  grant?: GrantRecord;
}

/** GET /api/grants */
export type GrantsAnswer = Unavailable | { available: true; grants: GrantRecord[] };

/** GET /api/limits */
export type LimitsAnswer = Unavailable | { available: true; buckets: BucketView[] };

/** GET /api/agents */
export interface AgentsAnswer {
  available: true;
  agents: AgentSummary[];
}

/** GET /api/secrets: names, placeholders, environment names and hosts — never a value. */
export interface SecretsAnswer {
  available: true;
  secrets: SecretInfo[];
}

/** GET /api/traffic/recent and /api/captures: bounded copies of audit records, newest last / first. */
export interface RecordsAnswer {
  records: AuditRecord[];
  source?: 'proxy' | 'file';
}

/** GET /api/policy/files */
export interface DraftFilesAnswer {
  files: DraftFile[];
  live: string | null;
}

/** POST /api/policy/check */
export interface CheckAnswer {
  ok: boolean;
  problems: PolicyProblem[];
}

/** POST /api/policy/evaluate: the draft's decision beside the live policy's. */
export interface EvaluateAnswer {
  draft: { ok: true; decision: EngineDecision } | { ok: false; problems: PolicyProblem[] };
  live: EngineDecision | null;
  liveError?: string;
  input: unknown;
}

/** POST /api/policy/explain */
export type ExplainAnswer = { ok: true; explanation: Explanation } | { ok: false; problems: PolicyProblem[] };

/** GET /api/policy/versions */
export interface VersionsAnswer {
  current: string | null;
  running: string | null;
  proxy: boolean;
  history: PolicyVersionRecord[];
}

/** GET /api/replay/sources */
export interface ReplaySourcesAnswer {
  available: boolean;
  reason?: string;
  fixtures: Array<{ path: string; size: number }>;
  /** The audit log file, or `shared` when every replica's log is in the shared store (size 0: unknown). */
  audit: { size: number; shared?: boolean } | null;
}

/** POST /api/replay */
export interface ReplayAnswer {
  run: string;
  compare: 'recorded' | 'live';
  source: string;
  file: string;
  baselineError?: string;
  report: ReplayReport;
  /** The unsaved buffers replayed with the draft. */
  unsaved: string[];
}
