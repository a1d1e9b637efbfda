// The public contracts of Airlock: what policies see (`input`) and what they answer
// (`data.airlock.decision`). Field names here are public API — see README "Request description".

export type Effect = 'read' | 'write' | 'delete' | 'send' | 'pay' | 'admin';
export type Action = 'allow' | 'deny' | 'approve';
export type Risk = 'low' | 'medium' | 'high' | 'critical';

export interface BodySummary {
  size: number;
  sha256: string;
  content_type: string;
  /** Parsed JSON body, when the content type is JSON and the body parsed within the cap. */
  json?: unknown;
  /** Parsed form body (name → list of values). */
  form?: Record<string, string[]>;
  /** First bytes of a textual body that is neither JSON nor a form. */
  text?: string;
  /** True when the body was larger than the capture cap: size/sha256 cover only the captured prefix. */
  truncated: boolean;
}

export interface RequestInfo {
  id: string;
  /** RFC 3339 time the proxy received the request. During replay, time builtins return this. */
  time: string;
  method: string;
  url: string;
  scheme: 'http' | 'https' | 'ws' | 'wss';
  host: string;
  port: number;
  path: string;
  segments: string[];
  query: Record<string, string[]>;
  headers: Record<string, string[]>;
  body: BodySummary;
  /** Bytes of agent-chosen data leaving in URL, headers and body. */
  egress_bytes: number;
  /** Set when the request asks for a protocol upgrade (e.g. "websocket"). */
  upgrade?: string;
}

export interface AgentInfo {
  id: string;
  labels: Record<string, string>;
}

export interface ServiceInfo {
  name: string;
  operation: string;
  params: Record<string, unknown>;
  effect: Effect;
}

export interface McpInfo {
  method: string;
  tool?: string;
  arguments?: unknown;
  id?: string | number | null;
  /** For a JSON-RPC batch: every call in it (the fields above describe the first). */
  batch?: McpInfo[];
}

export interface SqlStatement {
  kind: string;
  tables: string[];
  destructive: boolean;
  text?: string;
}

export interface SqlInfo {
  /** False when the SQL could not be parsed; policies should treat that as destructive. */
  parsed: boolean;
  error?: string;
  statements: SqlStatement[];
  destructive: boolean;
}

export interface PlaceholderUse {
  name: string;
  where: Array<'header' | 'query' | 'path' | 'body'>;
}

export interface Grant {
  id: string;
  agent: string;
  method: string;
  host: string;
  operation?: string;
  path_pattern?: string;
  expires: string;
}

export interface RequestDescription {
  request: RequestInfo;
  agent: AgentInfo;
  service?: ServiceInfo;
  mcp?: McpInfo;
  sql?: SqlInfo;
  placeholders: PlaceholderUse[];
  grants: Grant[];
}

export interface CredentialDirective {
  secret: string;
  in: 'header' | 'query' | 'basic' | 'body';
  name?: string;
  format?: string;
}

export interface RateLimitDirective {
  key: string;
  limit: number;
  /** Window as a duration string ("1h", "30s") or seconds. */
  window: string | number;
  cost?: number;
  /** What the bucket counts: requests (default) or the request's egress bytes. */
  unit?: 'requests' | 'egress_bytes';
}

export interface ApprovalDirective {
  risk: Risk;
  timeout?: string | number;
  step_up?: boolean;
}

export interface Decision {
  action: Action;
  reason: string;
  rule?: string;
  credentials?: CredentialDirective[];
  rate_limits?: RateLimitDirective[];
  approval?: ApprovalDirective;
  /** Forward a path whose decoded form has another segment structure (encoded "/", ";", …) instead of refusing it (400). */
  raw_path?: boolean;
}

/** A decision as the engine returns it: validated, with provenance. */
export interface EngineDecision extends Decision {
  /** Hash of the policy sources that decided. */
  policy_version: string;
  /** Microseconds spent deciding. */
  decision_us: number;
  /** Set when the engine itself produced a deny (fail closed) rather than the policy. */
  fail_closed?: 'undefined' | 'conflict' | 'invalid' | 'error' | 'timeout' | 'no-policy';
}
