// The studio API's JSON, as the routes in this folder send it and the browser app (studio/app/)
// reads it: one set of types for both sides. Types only — the app imports this module with
// `import type`, so nothing of the server reaches the browser bundle. Each answer is named after
// its route; live events (WebSocket `{type, data}`) carry the same shapes. A request body is named
// `…Body`: the app builds it with `satisfies`, the route reads it as `Untrusted<…Body>` (every field
// unknown until checked), so a field renamed on one side breaks the other's typecheck.
import type { LabelArrival, RequestDescription } from '../../describe/types.ts';
import type { Explanation } from '../../engine/explain.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import type { PolicyProblem } from '../../engine/problem.ts';
import type { CaseRequest } from '../../offline/traffic-tests.ts';
import type { ChangedRow, Counts, DecisionSummary, ReplayProgress, ReplayReport } from '../../offline/replay.ts';
import type { AgentSummary } from '../../state/agents.ts';
import type { BodyVisibility } from '../../state/approval-body.ts';
import type { ApprovalEvent, ApprovalRecord, GrantRecord } from '../../state/approvals.ts';
import type { AuditRecord } from '../../state/audit-log.ts';
import type { BucketView } from '../../state/ratelimit.ts';
import type { SecretInfo } from '../../state/secrets/store.ts';
import type { LabelEvent, SessionChange, SessionRecord, SessionSummary, TimelineEntry } from '../../state/sessions.ts';
import type { DraftFile } from '../drafts.ts';
import type { CheckResult, FileDiff, FmtResult, Overlay } from '../policy-tools.ts';
import type { PolicyVersionRecord, TestFailure, TestReport } from '../versions.ts';

export type {
  AgentSummary, AuditRecord, BucketView, ChangedRow, Counts, DecisionSummary, DraftFile, EngineDecision, Explanation, FileDiff, GrantRecord,
  LabelArrival, LabelEvent, Overlay, PolicyProblem, PolicyVersionRecord, ReplayReport, RequestDescription, SecretInfo, SessionRecord, SessionSummary,
  TestFailure, TestReport, TimelineEntry,
};

/** A request body as a route receives it: the fields the app sends, each unknown until checked. */
export type Untrusted<T> = { [K in keyof T]?: unknown };

/** Every refusal: a status of 400 and up with a message (some name a machine-readable code). */
export interface ErrorAnswer {
  error: string;
  code?: string;
}

/** A change that answers only that it was made. */
export interface OkAnswer {
  ok: true;
}

/** POST /api/login and GET /api/session: the token every POST/PUT/DELETE sends as x-airlock-csrf. */
export interface SessionAnswer {
  ok: true;
  csrf: string;
}

/** POST /api/login */
export interface LoginBody {
  /** The admin token (the browser's login URL). The CLI sends none: it proves it holds it (below). */
  token?: string;
  /**
   * The CLI's login (twenty-ninth pass): the token never leaves it. It asked POST
   * /api/login/challenge with `client_nonce`, checked the studio's proof, and sends its own:
   * HMAC-SHA256 keyed by the token over `airlock-cli-login\n<client_nonce>\n<server_nonce>`.
   */
  client_nonce?: string;
  server_nonce?: string;
  proof?: string;
  /**
   * The public half (an ECDSA P-256 JWK) of a key the page made unextractable and keeps in its
   * origin's IndexedDB: with it the page takes its session back when another port of this host
   * replaced or evicted the cookie (POST /api/session/resume). Optional (the CLI sends none).
   */
  key?: JsonWebKey;
}

/** POST /api/login/challenge {client_nonce}: the studio proves it holds the admin token before the CLI logs in. */
export interface LoginChallengeBody {
  client_nonce: string;
}
export interface LoginChallengeAnswer {
  server_nonce: string;
  /** HMAC-SHA256 keyed by the admin token over `airlock-studio-proof\n<client_nonce>\n<server_nonce>`, base64url. */
  proof: string;
}

/** 401 `cookie-lost`: the request carried a live session's token but not its cookie; sign `challenge`. */
export interface CookieLostAnswer {
  error: string;
  code: 'cookie-lost';
  challenge: string;
}

/** POST /api/session/resume (with the session's token in X-Airlock-CSRF). */
export interface ResumeBody {
  challenge: string;
  /** base64url of the ECDSA P-256/SHA-256 signature (IEEE P1363) of RESUME_PREFIX + challenge (studio/auth.ts). */
  signature: string;
}

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
/** `own_credentials`: credentials the agent sent of its own that no directive writes: header names, and `query parameter NAME` (state/approvals.ts agentCredentialHeaders). */
/**
 * `held_cookies`: while the request is held, the values of its cookies neither named nor shaped as a
 * session or credential (`[name, value]`; describe heldCookieValues), which the description keeps redacted:
 * from memory only, never in the record or the audit log.
 */
/** `cookies_unseen`: why the card cannot show the values of cookies that may say whose account the request acts in (state/approval-body.ts cookieValuesText); approving then needs `accept_unseen_body`. */
export type ApprovalView = ApprovalRecord & { held: boolean; needs_step_up: boolean; body_view: BodyView; own_credentials: string[]; held_cookies?: Array<[string, string]>; cookies_unseen?: string };

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
  /**
   * The body as its server reads it, when that differs from the bytes as sent: form fields and JSON
   * strings with their escapes undone, multipart parts with their transfer encodings undone, text
   * in another charset decoded (studio/body-reading.ts). Secret values shown as [secret:NAME].
   */
  reading?: { how: string; text: string };
  /** Why the server's reading cannot be shown (a charset the studio has no decoder for): approving it is a choice. */
  reading_error?: string;
}

/**
 * What the person saw when they acted (optional; the studio always sends it): the request hash of
 * the card and the sha256 of the body bytes shown (GET …/body). An action whose approval is bound to
 * another request or body is refused (409 `not-what-was-seen`).
 */
export interface SeenFields {
  request_hash?: string;
  body_sha256?: string;
}

/** POST /api/approvals/:id/approve (grant_minutes: also allow similar requests for that long). */
export interface ApproveBody extends SeenFields {
  message?: string;
  totp?: string;
  grant_minutes?: number;
  path_pattern?: string;
  grant_high?: boolean;
  /** Approve knowingly although the body could not be shown whole. */
  accept_unseen_body?: boolean;
  via?: 'studio' | 'cli' | 'api';
}

/** POST /api/approvals/:id/grant: approve and allow similar requests for `minutes`. */
export type GrantBody = Omit<ApproveBody, 'grant_minutes'> & { minutes: number };

/** POST /api/approvals/:id/deny */
export interface DenyBody extends SeenFields {
  message?: string;
  via?: 'studio' | 'cli' | 'api';
}

/** POST /api/approvals/:id/approve|grant|deny */
export interface ResolveAnswer {
  approval: ApprovalView;
  grant?: GrantRecord;
}

/** GET /api/grants */
export type GrantsAnswer = Unavailable | { available: true; grants: GrantRecord[] };

/** DELETE /api/grants/:id */
export interface GrantRevokedAnswer {
  grant: GrantRecord;
}

/** GET /api/limits */
export type LimitsAnswer = Unavailable | { available: true; buckets: BucketView[] };

/** POST /api/limits/reset: refills every bucket with this key. */
export interface LimitResetBody {
  key: string;
}

/** POST /api/limits/reset: how many buckets were refilled. */
export interface LimitResetAnswer {
  ok: true;
  reset: number;
}

/** GET /api/agents */
export interface AgentsAnswer {
  available: true;
  agents: AgentSummary[];
}

/** POST /api/agents */
export interface AgentAddBody {
  name: string;
  labels?: Record<string, string>;
}

/** POST /api/agents: the new agent's token, shown once (and as a proxy URL when a proxy runs here). */
export interface AgentAddedAnswer {
  ok: true;
  name: string;
  token: string;
  proxyUrl: string | null;
}

/** GET /api/secrets: names, placeholders, environment names and hosts — never a value. */
export interface SecretsAnswer {
  available: true;
  secrets: SecretInfo[];
}

/** PUT /api/secrets/:name */
export interface SecretSetBody {
  value: string;
  hosts?: string[];
  env?: string[];
}

/** PUT /api/secrets/:name: the secret's bindings (never its value). */
export interface SecretSetAnswer {
  ok: true;
  secret: SecretInfo;
}

/** GET /api/sessions[?agent=][&live=]: agent sessions (labels, counters), without their timelines. */
export type AgentSessionsAnswer = Unavailable | { available: true; sessions: SessionSummary[] };

/** GET /api/sessions/:id and POST …/clear, …/reset: one session with its label events and timeline. */
export interface AgentSessionAnswer {
  session: SessionRecord;
}

/** POST /api/sessions/:id/clear */
export interface SessionClearBody {
  label: string;
  reason?: string;
  via?: 'studio' | 'cli' | 'api';
}

/** POST /api/sessions/:id/reset */
export interface SessionResetBody {
  reason?: string;
  via?: 'studio' | 'cli' | 'api';
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

/** GET /api/policy/file?path= */
export interface FileAnswer {
  path: string;
  content: string;
}

/** PUT /api/policy/file */
export interface FileWriteBody {
  path: string;
  content: string;
}

/** POST /api/policy/draft/reset: the draft is the live policy again. */
export interface DraftResetAnswer {
  ok: true;
  files: DraftFile[];
}

/** GET /api/policy/diff: what publishing the draft would change. */
export interface DiffAnswer {
  live: string | null;
  files: FileDiff[];
}

/** The draft as the editor shows it: unsaved buffers (path → text) over the saved files. POST /api/policy/check and /api/policy/test send only this (test answers a TestReport). */
export interface DraftBody {
  files?: Overlay;
}

/** POST /api/policy/check */
export type CheckAnswer = CheckResult;

/** POST /api/policy/fmt */
export interface FormatBody {
  path: string;
  content: string;
}

/** POST /api/policy/fmt: the formatted text, or the parse problems. */
export type FormatAnswer = FmtResult;

/** POST /api/policy/describe: a request in the form of a traffic test case, described by the proxy's describe step. */
export type DescribeBody = CaseRequest;

/** POST /api/policy/describe */
export interface DescribeAnswer {
  input: RequestDescription;
}

/** POST /api/policy/evaluate and /api/policy/explain (replay: time builtins see the request's time). */
export interface EvaluateBody extends DraftBody {
  input: RequestDescription;
  replay?: boolean;
}

/** POST /api/policy/evaluate: the draft's decision beside the live policy's. */
export interface EvaluateAnswer {
  draft: { ok: true; decision: EngineDecision } | { ok: false; problems: PolicyProblem[] };
  live: EngineDecision | null;
  liveError?: string;
  input: RequestDescription;
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

/** POST /api/policy/publish */
export interface PublishBody {
  note?: string;
}

/** POST /api/policy/rollback */
export interface RollbackBody {
  version: string;
  note?: string;
}

/** POST /api/policy/publish and /api/policy/rollback: the new current version. */
export interface PublishAnswer {
  ok: true;
  record: PolicyVersionRecord;
  running: string | null;
}

/** POST /api/policy/publish and /api/policy/rollback, refused (422): what stopped it. */
export interface PublishRefusal {
  ok: false;
  error: string;
  problems: PolicyProblem[];
  /** The test report when the tests failed (publish only). */
  tests?: TestReport | null;
}

/** GET /api/policy/versions/diff?from=&to= (a version, "draft" or "live"). */
export interface VersionsDiffAnswer {
  from: string;
  to: string;
  files: FileDiff[];
}

/** GET /api/replay/sources */
export interface ReplaySourcesAnswer {
  available: boolean;
  reason?: string;
  fixtures: Array<{ path: string; size: number }>;
  /** The audit log file, or `shared` when every replica's log is in the shared store (size 0: unknown). */
  audit: { size: number; shared?: boolean } | null;
}

/** POST /api/replay: what to replay, and against what. */
export interface ReplayBody extends DraftBody {
  source: 'fixture' | 'audit' | 'har';
  compare?: 'recorded' | 'live';
  /** source "fixture": one of /api/replay/sources' fixtures. */
  file?: string;
  /** source "har": the HAR file's text (or its JSON). */
  har?: unknown;
  /** source "audit": which records. */
  since?: string;
  until?: string;
  agent?: string;
  host?: string;
}

/** POST /api/replay, refused (422) because the draft does not compile. */
export interface ReplayRefusal {
  error: string;
  problems: PolicyProblem[];
}

/** POST /api/replay */
export interface ReplayAnswer {
  run: string;
  compare: 'recorded' | 'live';
  source: ReplayBody['source'];
  /** The fixtures file (relative to the project), or the audit log's or HAR's file name. */
  file: string;
  baselineError?: string;
  report: ReplayReport;
  /** The unsaved buffers replayed with the draft. */
  unsaved: string[];
}

/**
 * The live feed (GET /api/ws): every message is `{type, data}`, `data` as named here by `type`.
 * The hub's broadcast takes only these, so the server cannot send what the app does not expect.
 */
export interface LiveEvents {
  /** Sent once to a new socket. */
  hello: { running: string | null; current: string | null };
  /** An audit record as written (a bounded copy). */
  traffic: AuditRecord;
  approval: { event: Extract<ApprovalEvent, { approval: unknown }>['type']; approval: ApprovalView };
  grants: { event: Extract<ApprovalEvent, { grant: unknown }>['type']; grant: GrantRecord };
  policy: { event: 'published' | 'rollback'; record: PolicyVersionRecord } | { event: 'reloaded'; version: string };
  draft: { action: 'saved' | 'deleted'; path: string } | { action: 'reset'; path?: undefined };
  'replay-progress': ReplayProgress & { run: string };
  limits: { event: 'reset'; key: string };
  agents: { event: 'added' | 'removed'; name: string };
  secrets: { event: 'set'; name: string };
  session: { event: SessionChange['type']; session: SessionSummary; label?: string };
}

/** Sends one live event to every connected browser. */
export type Broadcast = <K extends keyof LiveEvents>(type: K, data: LiveEvents[K]) => void;
