// The request description: what policies see as `input`, built by the describe step and read by
// every layer above it. Field names here are public API — see README "Request description"; what
// policies answer is engine/decision.ts.

export type Effect = 'read' | 'write' | 'delete' | 'send' | 'pay' | 'admin';
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
  /** True when `text` is only the beginning of the body. */
  text_truncated?: boolean;
  /** True when the body was larger than the capture cap: size/sha256 cover only the captured prefix. */
  truncated: boolean;
  /** The encoding the body was decoded from when not UTF-8 (byte order mark, charset parameter, RFC 4627 detection). */
  charset?: string;
  /** Why the body could not be decoded (unknown charset or content coding, invalid UTF-16/32, over the decode cap). */
  decode_error?: string;
  /**
   * Why code in a field a remote runner executes (`script`, `code`, `expression` …) loads or sends
   * where no URL in it says: a URL relative to the page or computed (describe/cdp-code.ts
   * `bodyCodeLoads`; twenty-fifth pass).
   */
  code_loads?: string;
  /** True when servers would read the body in more than one way (see ambiguous_reasons). */
  ambiguous?: boolean;
  ambiguous_reasons?: AmbiguityReason[];
}

/** Why a body is ambiguous: a stable code and a human-readable detail. */
export interface AmbiguityReason {
  code: 'json_duplicate_key' | 'json_number_out_of_range' | 'json_lenient' | 'content_type_mismatch' | 'content_type_conflict' | 'charset_conflict' | 'sql_dialects_disagree' | 'xml_dtd';
  detail: string;
}

/**
 * The cookies a request carries, as (name, value) pairs (at most 200), kept off the description: a
 * symbol key, so no policy input, audit record or approval holds their values. PHP's `$_REQUEST`
 * (`request_order` unset: `EGPCS`, the cookie last) and classic ASP.NET's `Request[…]` bind a
 * handler's parameters from them (twenty-ninth pass: describe/adapters/index.ts `cookieParams`).
 */
export const requestCookies: unique symbol = Symbol('request cookies');

export interface RequestInfo {
  [requestCookies]?: Array<[string, string]>;
  id: string;
  /** RFC 3339 time the proxy received the request. During replay, time builtins return this. */
  time: string;
  method: string;
  url: string;
  scheme: 'http' | 'https' | 'ws' | 'wss';
  host: string;
  /** The host in Unicode when it has a punycode label (`wiki.bücher.example` for `wiki.xn--bcher-kva.example`). */
  host_unicode?: string;
  port: number;
  path: string;
  segments: string[];
  query: Record<string, string[]>;
  headers: Record<string, string[]>;
  body: BodySummary;
  /** Bytes of agent-chosen data leaving in URL (host, path, query), headers and body. */
  egress_bytes: number;
  /** Set when the request asks for a protocol upgrade (e.g. "websocket"). */
  upgrade?: string;
  /**
   * The method a server that honours method overrides runs: the override when exactly one clear
   * one is present, else `method` (see `method_override`).
   */
  effective_method?: string;
  /** Present when the request carries a method override in any of its spellings. */
  method_override?: MethodOverride;
  /**
   * A keyed digest of the credentials of the agent's own the request carries (credential headers,
   * `?access_token=`-style parameters, a form's or JSON body's `token`), never a value: equal for
   * the same credentials within one Airlock process. Absent when it carries none. A grant covers
   * only requests sent with the same ones (engine/grants.ts).
   */
  own_credentials?: string;
  /**
   * Names of cookies the request carries that are also names of its query or form parameters (as
   * PHP and ASP.NET name them: ` to`, `mail.to`, `TO`): PHP's `$_REQUEST` takes the cookie over the
   * query and form when `request_order` is unset (no php.ini), classic ASP.NET's `Request[…]` takes
   * it where they lack the name. The values stay redacted; the approval card says the server may
   * read these from a cookie. Absent when there are none.
   */
  cookie_params?: string[];
  /**
   * Names of the cookies the request carries that are named as a session or credential (`session`,
   * `JSESSIONID`, `_gitlab_session`, `auth_token`, `wordpress_logged_in_…`; the values stay
   * redacted), less those an answer of the same session set from the host (twenty-eighth pass: the
   * proxy's session stage takes those out, so what is left is a login the agent brought). Absent
   * when there are none.
   */
  credential_cookies?: string[];
  /**
   * Names of the query parameters, form fields and JSON members (three objects deep) that carry a
   * credential of the agent's own by their words (`oauth_token`, `consumer_key`, `auth_key`,
   * `hapikey`, `appSecret`; not `page_token`, `csrf_token`, `sort_key`, nor a switch such as
   * `two_factor_auth=true`); values never shown. The default policy reads a request carrying one as
   * one the agent authenticates (`labels.authenticated`). Absent when there are none (twenty-ninth pass).
   */
  credential_params?: string[];
  /**
   * Whether this exact URL (normalized as `url` is) appeared in a response earlier in the same
   * session, and which request brought it (docs/policies.md, "Link provenance"). Present when the
   * proxy tracks links for the loaded policy.
   */
  provenance?: Provenance;
}

/** Where a request's URL was seen before in its session (`input.request.provenance`). */
export interface Provenance {
  seen: boolean;
  /** The request whose response carried the URL first (its id in the audit log). */
  request_id?: string;
  /** The host that served that response. */
  host?: string;
  /** When not seen: whether links to this request's host were (the URL was probably changed). */
  host_seen?: boolean;
}

/** The first arrival of a label in a session: which request's response brought it, from where, when. */
export interface LabelArrival {
  request_id: string;
  host: string;
  time: string;
}

/**
 * The session a request belongs to (`input.session`): one `airlock run`, or a long-lived token's
 * life until a human resets it. Labels are what earlier responses brought into the agent's context.
 */
export interface SessionInfo {
  id: string;
  /** RFC 3339 time of the session's first request. */
  started: string;
  /** label → its first arrival (a human may clear one; it then arrives anew). */
  labels: Record<string, LabelArrival>;
  /** Requests decided in this session before this one. */
  requests: number;
  /** Bytes of agent-chosen data forwarded in this session before this request. */
  egress_bytes: number;
}

export interface MethodOverride {
  /** Every override value, normalized (trimmed, upper-case), in order of appearance. */
  values: string[];
  /** Where each spelling was found: `header:x-http-method-override`, `query:_method`, `form:_method`, `json:_method`, `multipart:_method`. */
  sources: string[];
  /** True when the override cannot be read one way: unknown verb, conflicting values, several places, or a body not seen whole. */
  ambiguous: boolean;
  /** Why it is ambiguous. */
  reason?: string;
}

export interface AgentInfo {
  id: string;
  labels: Record<string, string>;
  /**
   * Present when the agent authenticated with a token limited to these secrets (`airlock run
   * --secret NAME` / `--no-secrets`): the only secrets Airlock injects for its requests.
   */
  secrets?: string[];
  /**
   * When the agent of this id was registered (`airlock agents add`). An agent removed and added
   * again under the same name is another agent: grants and approvals given to the earlier one
   * (recorded with its time) do not apply to it.
   */
  created?: string;
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
  /** For `resources/read`, `resources/subscribe` and `resources/unsubscribe`: `params.uri` (a server may fetch an `https://` one). */
  uri?: string;
  id?: string | number | null;
  /**
   * SQL the tool call's arguments carry (`query`, `sql`, `statement`, `sql_query`, at the top or one
   * level down: Supabase `execute_sql`, Neon `run_sql` …), read in every known dialect. A text no
   * grammar reads (a search phrase) is unparsed; policies decide what that means for the tool.
   * `limited`: not analyzed, past the request's budget of calls (64) or statements (1,000).
   */
  sql?: SqlInfo & { ambiguous?: boolean; limited?: boolean };
  /** For a JSON-RPC batch: every call in it (the fields above describe the first). */
  batch?: McpInfo[];
}

export interface SqlStatement {
  kind: string;
  tables: string[];
  destructive: boolean;
  /**
   * Functions the statement calls that are not proven read-only (PostgreSQL: any but the built-ins
   * named whole; CALL's procedure), by name as written: a grant for one does not cover another.
   */
  functions?: string[];
  /**
   * Settings the statement changes (`SET search_path = auth`, `set_config('search_path', …)`), as
   * `name=value`: which schema a name resolves to is part of what a statement does.
   */
  settings?: string[];
  text?: string;
}

export interface SqlInfo {
  /** The grammar the SQL was read with: the service's own, or every known one when the service is unknown. */
  dialect?: 'postgresql' | 'sqlite' | 'unknown';
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
  /** The `created` time of the agent it was given to (absent on grants stored before it was recorded). */
  agent_created?: string;
  method: string;
  host: string;
  /** The approved request's scheme and port (absent on grants stored before they were recorded: any). */
  scheme?: string;
  port?: number;
  operation?: string;
  path_pattern?: string;
  expires: string;
  /** The risk of the approval the grant came from: it covers requests held at this risk or lower (absent = medium). */
  risk?: Risk;
  /** The semantic operation it was given for (MCP tools, SQL statements, git ref commands, GraphQL fields): engine/grant-scope.ts. */
  scope?: string[];
  /**
   * Where the approved request acted — its repository, channel, table, project … (engine/grant-scope.ts
   * grantTarget): the grant covers only requests acting there; `""` when the approved request named
   * no place (then only requests that name none); absent on grants stored before it was recorded: any.
   */
  target?: string;
  /**
   * The secrets the approved request's decision would send, each with its slot (`secret in header
   * Authorization`): the grant covers requests whose own decision sends no other (a user policy may
   * choose a secret by what the request says); absent on grants stored before it was recorded: any.
   */
  credentials?: string[];
  /**
   * The digest of the agent's own credentials the approved request carried (`request.own_credentials`;
   * `""`: none): the grant covers only requests carrying the same ones, so a grant for a call made
   * with one account's token does not cover the same call with another's. Absent on grants stored
   * before it was recorded: any.
   */
  own_credentials?: string;
}

/** A GraphQL operation a request may run (`input.graphql.operations`). */
export interface GraphqlOperation {
  type: 'query' | 'mutation' | 'subscription';
  /** The operation's name, or null for an anonymous one. */
  name: string | null;
  /** Root fields it selects (aliases resolved, fragment spreads followed), sorted and unique. */
  fields: string[];
}

export interface GraphqlInfo {
  /** False when the body to a GraphQL endpoint could not be read as GraphQL. */
  parsed: boolean;
  error?: string;
  /** The operations that may run: the selected one, or every one when the selection is absent or unclear. */
  operations: GraphqlOperation[];
  /** Number of requests in a batched (array) body; absent for a single request. */
  batch?: number;
  /** Mutation root fields that may run, each aliased selection counted (`a: addComment … b: addComment` is 2); absent without mutations. */
  mutation_calls?: number;
  /**
   * Where each mutation that may run acts: `field(name=value;…)` of its arguments that name a place
   * or an object by id, `?` for a value not in the request. Absent without mutations.
   */
  places?: string[];
}

export interface RequestDescription {
  request: RequestInfo;
  agent: AgentInfo;
  service?: ServiceInfo;
  mcp?: McpInfo;
  sql?: SqlInfo;
  graphql?: GraphqlInfo;
  placeholders: PlaceholderUse[];
  grants: Grant[];
  /** The request's session (absent when the proxy keeps no sessions, and in old captures). */
  session?: SessionInfo;
}
