// Turns a raw request (live from the proxy, or imported from a HAR/capture) into the request
// description policies see. One implementation for live traffic and replay, so a replayed request
// is described exactly as it was live. Pure: no sockets, no clock except the request's own time.
import crypto from 'node:crypto';
import { domainToUnicode } from 'node:url';
import { serverHeaderKey } from '../lib/text.ts';
import { carriesGraphql, isGraphqlEndpoint, loadAdapters, withSqlDialect } from './adapters/index.ts';
import { analyzeSqlIn } from './adapters/sql-dialects.ts';
import { MAX_SQL_STATEMENTS, reachesOutside } from './adapters/sql.ts';
import { unreadSqlEffect } from './adapters/sql-clickhouse.ts';
import { magicReadings, sqlArgument } from './adapters/sql-body.ts';
import { sqlEngineMisses } from './adapters/sql-engines.ts';
import { withSampleBudget } from './adapters/sql-sqlite.ts';
import { withSqlReadBudget } from './adapters/sql.ts';
import { foldCase, storesData } from './places.ts';
import { bodyCodeLoads } from './cdp-code.ts';
import { credentialParams, credentialQueryParams, formEntries, multiMap, parameterNames, phpName, sessionQueryParam, summarizeBody } from './body.ts';
import { mutationPlaces, namesPersistedQuery, parseGraphqlRequest, type GraphqlRequest } from './graphql.ts';
import { readMethodOverride, recognizeWorstReading } from './method-override.ts';
import { refUpdates } from './adapters/git.ts';
import { fastForwards, packCommits } from './git-pack.ts';
import { normalizePath } from './path-ambiguity.ts';
import { withReadings } from './readings.ts';
import { unmapUrlHost } from '../lib/ip-literal.ts';
import { trimTrailing } from '../lib/text.ts';
import { appendAll } from '../lib/arrays.ts';
import type {
  AgentInfo, BodySummary, Grant, McpInfo, PlaceholderUse, RequestDescription, RequestInfo, ServiceInfo,
} from './types.ts';
import { requestCookies } from './types.ts';
import { lookupTable } from '../lib/records.ts';


export interface RawRequest {
  id?: string;
  time?: Date;
  method: string;
  /** Absolute URL as the agent sent it; userinfo, if any, is dropped from the description. */
  url: string;
  /** Header pairs in arrival order, names as sent. */
  headers: Array<[string, string]>;
  /** The captured body prefix (at most the proxy's body cap). */
  body: Buffer;
  /** True when the body was longer than what was captured. */
  bodyTruncated: boolean;
}

/** Finds which secrets' placeholders occur in a piece of text (implemented by describe/placeholders.ts). */
export interface PlaceholderFinder {
  find(text: string): string[];
}

export interface DescribeContext {
  agent: AgentInfo;
  placeholders?: PlaceholderFinder;
  grants?: Grant[];
  /** How much of a textual body the description previews. */
  previewBytes?: number;
  /** The grammar of SQL on a host no service owns, when the protocol that carried it says (a PostgreSQL tunnel); `written`: a statement Airlock wrote for a tunnel's MongoDB or Redis command. */
  sqlDialect?: 'postgresql' | 'written';
  /** The key of `request.own_credentials` (default: one drawn when the process starts). */
  credentialKey?: Uint8Array;
}

/** The key `request.own_credentials` digests with: per process, never written anywhere. */
const processCredentialKey = crypto.randomBytes(32);
/** Header names that carry a value the page hands out, not whom the request acts as. */
const notIdentityHeaders = new Set(['x-csrf-token', 'x-xsrf-token']);

/**
 * Cookie names that say they carry a session or a credential (`_gitlab_session`, `grafana_session`,
 * `auth_token`, `connect.sid`, WordPress's `wordpress_logged_in_…` and `wordpress_sec_…`).
 */
const sessionCookie = /sess|auth|token|(?:^|[-_.])sid$|^sid|jwt|login|logged|remember|user|account|ident|secret|pass|key|(?:^|[-_])sec(?:$|[-_])|aspnetcore\.(?:cookies|identity)/i;
/**
 * The credential words of `sessionCookie`: the others (`user`, `account`, `ident`) name whom a cookie
 * says the request acts as (`account_id=acct_1…`, `current_user=42`), which is no credential unless
 * its value is shaped as one (`credentialValue`).
 */
const credentialCookie = /sess|auth|token|(?:^|[-_.])sid$|^sid|jwt|login|logged|remember|secret|pass|key|(?:^|[-_])sec(?:$|[-_])|aspnetcore\.(?:cookies|identity)/i;
/**
 * A value shaped as a credential: a JWT, an Express signed cookie (`s%3A…`, `s:…`), or 32 and more
 * token characters and nothing else (base64, hex, Slack's `xoxd-…%2F…`), but for a UUID, which
 * apps use as an account or tenant id. An id (`acct_1…`, `42`), an address or a JSON value is shown.
 */
const credentialValue = (v: string): boolean =>
  /^eyJ|\.eyJ|^s(?:%3A|:)/.test(v) || (/^[A-Za-z0-9+/_.%:-]{32,}=*$/.test(v) && !/^[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i.test(v));
/**
 * Cookie names that pick the organization, tenant, workspace, project or team the request acts in,
 * or say it is a rehearsal (`current_org`, `tenant_id`, `dry_run`, `sandbox`; sixteenth pass: apps
 * choose those by cookie too), or name the mode or system it runs in (`mode`, `env`, `stage`, `live`;
 * seventeenth pass). No credential: a person approving sees their values (heldCookieValues).
 */
const scopeCookie = /org|tenant|workspace|project|team|company|customer|merchant|realm|shop|dry|simulat|sandbox|livemode|testmode|mode|(?:^|[-_.])(?:env|environment|stage|live)(?:$|[-_.])/i;
/** Cookies that say whose request it is: compared (by digest) in `own_credentials`. */
const identityCookie = (name: string): boolean => sessionCookie.test(name) || scopeCookie.test(name);

/**
 * The part of a credential header that says whose it is: the whole value, but for schemes that sign
 * each request (AWS SigV4's signature and date, Digest's and OAuth 1.0's nonces) the key or user it
 * names, and for cookies the ones named as a session or credential (a load balancer's or an
 * analytics cookie changes on every answer and says nothing of the account).
 */
function identityIn(name: string, value: string): string {
  if (name === 'cookie') {
    return value.split(';').map((c) => c.trim()).filter((c) => identityCookie(c.slice(0, Math.max(0, c.indexOf('='))))).sort().join('; ');
  }
  if (name !== 'authorization') return value;
  const text = value.trim();
  const gap = text.search(/\s/);
  const kind = gap > 0 ? text.slice(0, gap).toLowerCase() : '';
  // `k=v` and `k="v"` parameters, comma separated (RFC 9110 auth-params).
  const param = (p: string): string => {
    for (const item of text.slice(gap + 1).split(',')) {
      const eq = item.indexOf('=');
      if (eq > 0 && item.slice(0, eq).trim().toLowerCase() === p) return item.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    return '?';
  };
  if (kind === 'aws4-hmac-sha256') return `${kind} ${param('credential').split('/')[0]}`;
  if (kind === 'digest') return `${kind} ${param('username')}`;
  if (kind === 'oauth' && /oauth_signature/i.test(value)) return `${kind} ${param('oauth_consumer_key')} ${param('oauth_token')}`;
  return value;
}

/** Cookie names looked at per request (a header of thousands of cookies is read up to this many). */
const MAX_COOKIES = 200;

/** The cookies of a request's Cookie headers as (name, value) pairs, at most MAX_COOKIES (a piece without `=` is none). */
function cookiePairs(rawHeaders: ReadonlyArray<[string, string]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [n, value] of rawHeaders) {
    if (n.toLowerCase() !== 'cookie') continue;
    for (const piece of value.split(';')) {
      if (out.length >= MAX_COOKIES) return out;
      const eq = piece.indexOf('=');
      if (eq > 0) out.push([piece.slice(0, eq).trim(), piece.slice(eq + 1).trim()]);
    }
  }
  return out;
}

/**
 * The cookies a request carries under the name of one of its query or form parameters, as PHP
 * (`phpName`) and ASP.NET (any letter case) read names: the server may take the parameter from the
 * cookie, whose value the description keeps redacted (see RequestSummary.cookie_params).
 */
function cookieParameters(rawHeaders: ReadonlyArray<[string, string]>, url: URL, body: BodySummary): string[] {
  const cookies = rawHeaders.filter(([n]) => n.toLowerCase() === 'cookie');
  if (!cookies.length) return [];
  const params = new Set<string>();
  const add = (k: string): void => {
    params.add(phpName(k).toLowerCase());
    params.add(k.toLowerCase());
  };
  for (const k of url.searchParams.keys()) add(k);
  for (const [k] of formEntries(body.form ?? {})) add(k);
  if (!params.size) return [];
  const out = new Set<string>();
  let seen = 0;
  for (const [, value] of cookies) {
    for (const piece of value.split(';')) {
      if (++seen > MAX_COOKIES) break;
      const eq = piece.indexOf('=');
      if (eq <= 0) continue;
      const name = piece.slice(0, eq).trim();
      if (name && (params.has(name.toLowerCase()) || params.has(phpName(name).toLowerCase()))) out.add(name);
    }
  }
  return [...out].slice(0, 20);
}

/**
 * A keyed digest of the credentials of the agent's own a request carries: credential headers (as
 * the description redacts them, by any server's spelling of the name), credential query parameters
 * and a form's or JSON body's credential fields (Slack takes `token` there). Undefined when none.
 * HMAC-SHA-256 under a key kept in memory: the digest says "the same credentials", and nothing that
 * reads an audit record, an approval or a grant can test a guessed password against it.
 */
function ownCredentials(rawHeaders: ReadonlyArray<[string, string]>, url: URL, body: BodySummary, key: Uint8Array): string | undefined {
  const parts: string[] = [];
  for (const [rawName, value] of rawHeaders) {
    const name = rawName.toLowerCase();
    // The MCP session (Streamable HTTP's `Mcp-Session-Id`) names the server's state the call runs in
    // (the workspace or database the session chose, the ids of the server's own requests it answers),
    // as a session cookie does: the same call in another session acts elsewhere (twenty-fifth pass).
    if (serverHeaderKey(name) === 'mcp-session-id') {
      parts.push(`header mcp-session-id=${value}`);
      continue;
    }
    if (name === 'proxy-authorization' || name === 'host' || notIdentityHeaders.has(serverHeaderKey(name)) || !redacted(name)) continue;
    const who = identityIn(serverHeaderKey(name), value);
    if (who) parts.push(`header ${serverHeaderKey(name)}=${who}`);
  }
  // Telegram's Bot API takes the bot's token in the path (`/bot<token>/sendMessage`): which bot acts.
  if (url.hostname === 'api.telegram.org') {
    const bot = /^\/(?:file\/)?bot([^/]+)/.exec(url.pathname)?.[1];
    if (bot !== undefined) parts.push(`path bot=${bot}`);
  }
  for (const [k, v] of url.searchParams) {
    const names = parameterNames(k);
    if (names.some((n) => credentialQueryParams.has(n.toLowerCase()) || credentialFields.has(foldName(n)) || sessionQueryParam(n))) parts.push(`query ${k.toLowerCase()}=${v}`);
    // A presigned URL (S3's and GCS's query-string signing) names its key beside a signature that changes each time.
    else if (names.some((n) => signedQueryCredentials.has(n.toLowerCase()))) parts.push(`query ${k.toLowerCase()}=${v.split('/')[0]}`);
  }
  for (const [k, vs] of formEntries(body.form ?? {})) {
    if (parameterNames(k).some((n) => credentialParams.has(n.toLowerCase()) || credentialFields.has(foldName(n)))) for (const v of vs) parts.push(`form ${k.toLowerCase()}=${v}`);
  }
  // JSON credential fields at any depth (bounded), named in any case style: Zabbix's `auth`, an
  // `accessToken`, `{auth: {apiToken}}`, a login's `password`, an OAuth `client_secret`.
  const json = body.json;
  if (json && typeof json === 'object') {
    let nodes = 0;
    const walk = (o: unknown, path: string, depth: number): void => {
      if (!o || typeof o !== 'object' || depth > 6) return;
      if (Array.isArray(o)) {
        for (let i = 0; i < o.length && nodes < 2048; i++, nodes++) walk(o[i], `${path}${i}.`, depth + 1);
        return;
      }
      for (const k in o) {
        if (++nodes > 2048) return;
        const v = (o as Record<string, unknown>)[k];
        if (credentialParams.has(k.toLowerCase()) || credentialFields.has(foldName(k))) parts.push(`json ${path}${k.toLowerCase()}=${JSON.stringify(v)}`);
        else walk(v, `${path}${k.toLowerCase()}.`, depth + 1);
      }
    };
    walk(json, '', 0);
  }
  if (!parts.length) return undefined;
  return `hmac-${crypto.createHmac('sha256', key).update(parts.sort().join('\0')).digest('hex').slice(0, 32)}`;
}

/**
 * Field names (letter case, `_`, `-`, `.` and blanks aside) that carry a credential in a query, a form
 * or a JSON body beside the exact names above: `accessToken`, `apiToken`, `authToken`, Zabbix's
 * `auth`, `client_secret`, `password`, `refresh_token`, `session_token`, `secret_key`.
 */
const credentialFields: ReadonlySet<string> = new Set([
  'accesstoken', 'apikey', 'apitoken', 'authtoken', 'privatetoken', 'token', 'auth', 'authorization', 'bearer', 'accesskey',
  'secretkey', 'accesskeyid', 'secretaccesskey', 'clientsecret', 'apisecret', 'appsecret', 'secret', 'password', 'passwd',
  'refreshtoken', 'sessiontoken', 'idtoken', 'oauthtoken', 'personalaccesstoken', 'accountkey', 'serviceaccountkey',
]);
/** Query parameters of a signed URL whose value begins with the key it is signed by (`AKIA…/20260105/…/aws4_request`). */
const signedQueryCredentials: ReadonlySet<string> = new Set(['x-amz-credential', 'x-goog-credential', 'awsaccesskeyid', 'googleaccessid']);
const foldName = (name: string): string => foldCase(name).replace(/[-_.\s]/g, '');

/** Whether a field name (letter case, `_`, `-`, `.` and blanks aside) is one that carries a credential in a body (`credentialFields`). */
export function credentialFieldName(name: string): boolean {
  return credentialFields.has(foldName(name)) || credentialParams.has(name.toLowerCase());
}

/**
 * A parameter's name read as words (`consumer_key`, `oauthToken`, `X-API-Key`, `api.secret`): the
 * separators `-_.`, blanks and brackets, and letter case changes (`appSecret`, `APIKey`) part them.
 */
function nameWords(name: string): string[] {
  const words: string[] = [];
  let cur = '';
  for (let i = 0; i < name.length; i++) {
    const c = name[i]!;
    if (c === '-' || c === '_' || c === '.' || c === ' ' || c === '[' || c === ']' || c === '\t') {
      if (cur) words.push(cur);
      cur = '';
      continue;
    }
    const upper = c >= 'A' && c <= 'Z';
    const prev = name[i - 1] ?? '';
    const next = name[i + 1] ?? '';
    // `appSecret` → app|Secret; `APIKey` → API|Key (an upper letter before a lower one starts a word).
    if (upper && cur && ((prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9') || (prev >= 'A' && prev <= 'Z' && next >= 'a' && next <= 'z'))) {
      words.push(cur);
      cur = '';
    }
    cur += c;
  }
  if (cur) words.push(cur);
  return words.map((w) => w.toLowerCase());
}

/** Last words that name a credential whatever comes before them (bar `notCredentialWords`). */
const credentialLastWords: ReadonlySet<string> = new Set([
  'token', 'secret', 'password', 'passwd', 'passphrase', 'pwd', 'pass', 'credential', 'credentials', 'signature', 'sig',
  'apikey', 'accesskey', 'authkey', 'auth', 'jwt', 'bearer',
]);
/** Words before `key` that make it a credential (`consumer_key`, `license_key`, `writeKey`); a `sort_key`, `issueKey` or `projectKey` is none. */
const keyQualifiers: ReadonlySet<string> = new Set([
  'api', 'access', 'secret', 'private', 'auth', 'license', 'licence', 'consumer', 'client', 'app', 'application', 'user',
  'account', 'master', 'dev', 'developer', 'service', 'subscription', 'session', 'signing', 'admin', 'partner', 'merchant',
  'write', 'read', 'hmac', 'shared', 'integration', 'server', 'sdk', 'secure',
]);
/** Words that make a token or key something else: a page's cursor, a CSRF token, an idempotency key, a count of tokens. */
const notCredentialWords: ReadonlySet<string> = new Set([
  'page', 'next', 'prev', 'previous', 'continuation', 'sync', 'resume', 'resumption', 'cursor', 'pagination', 'csrf', 'xsrf',
  'idempotency', 'max', 'min', 'num', 'count', 'captcha', 'recaptcha', 'hcaptcha', 'turnstile', 'public', 'site',
]);
/** Glued endings (`hapikey`, `usertoken`, `appsecret`, `oauthtoken`) read as the header rule reads `X-TrackerToken`. */
const gluedCredentialEndings = ['token', 'apikey', 'secret', 'password', 'passwd', 'passphrase'];
/** Values that switch something rather than sign in (`two_factor_auth=true`). */
const switchValues: ReadonlySet<string> = new Set(['', 'true', 'false', 'yes', 'no', 'on', 'off', 'null', 'none', 'undefined', '0', '1']);

/**
 * Whether a query, form or JSON member named so, holding `value`, carries a credential of the agent's
 * own by its words (twenty-ninth pass): the last word is a credential's (`oauth_token`,
 * `consumer_secret`, DeepL's `auth_key`, HubSpot's `hapikey`, `appSecret`), `key` after a word that
 * makes it one (`consumer_key`, `license_key`), none of the words makes it a cursor or a CSRF token
 * (`page_token`, `csrf_token`, `max_tokens`), and the value is no switch (`true`, `0`).
 */
function credentialParamName(name: string, value?: unknown): boolean {
  if (name.length === 0 || name.length > 64) return false;
  if (typeof value === 'string' && switchValues.has(value.trim().toLowerCase())) return false;
  if (typeof value === 'boolean' || typeof value === 'number') return false;
  if (credentialParams.has(name.toLowerCase()) || credentialQueryParams.has(name.toLowerCase()) || credentialFields.has(foldName(name))) return true;
  const words = nameWords(name);
  if (!words.length || words.length > 8 || words.some((w) => notCredentialWords.has(w))) return false;
  const last = words[words.length - 1]!;
  if (credentialLastWords.has(last)) return true;
  if (last === 'key') return words.length > 1 && keyQualifiers.has(words[words.length - 2]!);
  for (const end of gluedCredentialEndings) {
    if (last.length > end.length && last.endsWith(end) && !notCredentialWords.has(last.slice(0, -end.length))) return true;
  }
  if (last.length > 3 && last.endsWith('key') && keyQualifiers.has(last.slice(0, -3))) return true;
  return false;
}

/**
 * The names of the query parameters, form fields and JSON members (three objects deep: a JSON-RPC
 * call's `params`, an MCP tool call's `arguments` and one inside them; at most 512 members) that
 * carry a credential of the agent's own by their name (`credentialParamName`), sorted, at most 8.
 */
function credentialParamNames(url: URL, body: BodySummary): string[] {
  const names = new Set<string>();
  const note = (name: string, value: unknown): void => {
    if (names.size < 8 && credentialParamName(name, value)) names.add(name.slice(0, 64));
  };
  let seen = 0;
  for (const [k, v] of url.searchParams) {
    if (++seen > 512) break;
    for (const n of parameterNames(k)) note(n, v);
  }
  for (const [k, vs] of formEntries(body.form ?? {})) {
    if (++seen > 1024) break;
    for (const n of parameterNames(k)) for (const v of vs.slice(0, 4)) note(n, v);
  }
  // `nesting` counts arrays too: arrays nested 50,000 deep (no object among them) overflowed the stack.
  const walk = (o: unknown, depth: number, nesting: number): void => {
    if (!o || typeof o !== 'object' || depth > 3 || nesting > 16 || seen > 1536) return;
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length && seen <= 1536; i++, seen++) walk(o[i], depth, nesting + 1);
      return;
    }
    for (const k in o) {
      if (++seen > 1536) return;
      const v = (o as Record<string, unknown>)[k];
      if (v !== null && typeof v === 'object') walk(v, depth + 1, nesting + 1);
      else note(k, v);
    }
  };
  walk(body.json, 0, 0);
  return [...names].sort();
}

export class DescribeError extends Error {
  override name = 'DescribeError';
}

/** Headers whose values carry credentials: the policy sees that they are present, never their value (and those credentialHeaderNamed). */
const credentialHeaders = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token',
  'x-goog-api-key', 'private-token', 'x-github-token', 'x-access-token', 'x-csrf-token', 'apikey', 'x-hasura-admin-secret', 'x-hasura-access-key',
]);

const authSchemes = new Set(['basic', 'bearer', 'digest', 'token', 'negotiate', 'ntlm', 'hoba', 'mutual', 'aws4-hmac-sha256', 'vapid', 'apikey', 'oauth', 'dpop', 'gnap', 'privatetoken', 'scram-sha-1', 'scram-sha-256']);

/** Headers the proxy sets or strips itself: not agent-chosen egress. */
const notEgress = new Set(['host', 'proxy-authorization', 'proxy-connection', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'content-length']);

const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const schemes = new Set(['http:', 'https:', 'ws:', 'wss:']);
const defaultPorts: Readonly<Record<string, number>> = lookupTable({ 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443 });

/**
 * Header names that carry a credential by the service's own naming (`X-Shopify-Access-Token`,
 * `Ocp-Apim-Subscription-Key`, `X-Auth-Key`, `X-Figma-Token`, `X-Vault-Token`): redacted too, and
 * the approval card names them as the agent's own (state/approvals.ts).
 */
const CREDENTIAL_HEADER_NAME = /(?:^|[-_])(?:token|secret|password|passwd|api-?key|access-?key|auth-?key|subscription-key|auth)(?:$|[-_])/i;
/** Names that carry a key but are none (Stripe's idempotency key, the WebSocket handshake's). */
const NOT_CREDENTIAL_HEADERS = new Set(['idempotency-key', 'sec-websocket-key', 'x-idempotency-key', 'x-csrf-token', 'x-xsrf-token']);

/**
 * The same word glued to the one before it (Pivotal Tracker's `X-TrackerToken`, Chatwork's
 * `X-ChatWorkToken`), and keys named without such a word (Honeycomb, Artifactory, OVH): as
 * rego/sessions.rego reads them for `labels.authenticated`. Not Django's `X-CSRFToken`.
 */
const GLUED_CREDENTIAL_NAME = /[a-z0-9](?:token|apikey|secret|password|passwd)$/i;
const WORDLESS_CREDENTIAL_HEADERS = new Set(['x-honeycomb-team', 'x-jfrog-art-api', 'x-ovh-application', 'x-ovh-consumer']);

/** Whether a (lower-case) header name names a credential by its words. */
export function credentialHeaderNamed(name: string): boolean {
  if (WORDLESS_CREDENTIAL_HEADERS.has(name)) return true;
  if (GLUED_CREDENTIAL_NAME.test(name) && !/csrf|xsrf/i.test(name)) return true;
  return CREDENTIAL_HEADER_NAME.test(name) && !NOT_CREDENTIAL_HEADERS.has(name) && !AUTH_KIND.test(name);
}

/** Names that say how to authenticate, not with what (npm's `npm-auth-type: web`). */
const AUTH_KIND = /(?:^|[-_])auth[-_]?(?:type|method|scheme|mode|source|provider)$/i;

/** Kubernetes' subprotocol entry that carries a bearer token after it. */
const K8S_BEARER = 'base64url.bearer.authorization.k8s.io.';

/**
 * A WebSocket's subprotocol list with the entries that carry a credential (where a browser cannot
 * set a header: Kubernetes' `base64url.bearer.authorization.k8s.io.<token>`, AppSync's
 * `header-<base64 of {"Authorization": …}>`, a bare JWT) redacted as rego/sessions.rego reads
 * them: an entry of 40 characters or more, or a JWT's start, becomes `redacted.token` (Kubernetes'
 * prefix kept), which still reads as a credential there. Subprotocol names are short words.
 */
function subprotocolsRedacted(value: string): string {
  return value.split(',').map((raw) => {
    const entry = raw.trim();
    if (entry.length < 40 && !entry.startsWith('eyJ')) return raw;
    return `${raw.slice(0, raw.length - raw.trimStart().length)}${entry.startsWith(K8S_BEARER) ? K8S_BEARER : ''}redacted.token`;
  }).join(',');
}

/** Whether a header's value is redacted: a credential header by name, as CGI-style servers read it (`X_Api_Key` is `x-api-key`). */
function redacted(name: string): boolean {
  if (credentialHeaders.has(name)) return true;
  const key = serverHeaderKey(name);
  return credentialHeaders.has(key) || credentialHeaderNamed(key);
}

export function redactHeaderValue(name: string, value: string): string {
  if (name === 'sec-websocket-protocol') return subprotocolsRedacted(value);
  if (!redacted(name)) return value;
  if (name === 'cookie') return cookieNamesOnly(value);
  if (name === 'authorization' || name === 'proxy-authorization') {
    // Keep the scheme only when it is a known one: a bare credential followed by a space is not a scheme.
    const scheme = /^([A-Za-z][A-Za-z0-9-]*)\s/.exec(value)?.[1];
    return scheme && authSchemes.has(scheme.toLowerCase()) ? `${scheme} [redacted]` : '[redacted]';
  }
  return '[redacted]';
}

/**
 * A Cookie header as the description keeps it: each cookie's name, no value (`session=[redacted];
 * tenant=[redacted]`). Which cookies ride along (an account or tenant picked by a cookie beside the
 * session) is on the card and in `approvals show`; no value is written down, a session's least of
 * all, whatever its name. A piece without `=` is a value (browsers send it under an empty name), and
 * so is a name that is no cookie name (RFC 6265's token, at most 64 characters) or one with no value
 * (`Cookie: Bearer sk_…=`, `ghp_…=`: a credential sent where a cookie goes reads whole as its name).
 */
const cookieName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,64}$/;

function cookieNamesOnly(value: string): string {
  const out: string[] = [];
  for (const piece of value.split(';')) {
    const text = piece.trim();
    if (!text) continue;
    if (out.length >= MAX_COOKIES) {
      out.push('… [redacted]');
      break;
    }
    const eq = text.indexOf('=');
    const name = eq > 0 ? text.slice(0, eq).trim() : '';
    out.push(cookieName.test(name) && text.slice(eq + 1).trim() !== '' ? `${name}=[redacted]` : '[redacted]');
  }
  return out.length ? out.join('; ') : '[redacted]';
}

/** How many cookies, and how much of one's value, a held request shows (a Cookie header is ~4 KiB in browsers). */
const HELD_COOKIES = 50;
const HELD_COOKIE_CHARS = 4096;

/**
 * The cookies of a held request whose values the card may show while it is held, from memory only
 * (never recorded): those not named as a session or a credential (`credentialCookie`), which pick an
 * account, user, tenant, region or parameter beside the session (`org=acct_1Attacker`,
 * `account_id=…`: seventeenth pass, such names were redacted though they say whose account the
 * request acts in) and read `[redacted]` in the description like the session does; a value shaped
 * as a credential (`user=eyJ…`, Slack's `d=xoxd-…`) is not shown, whatever its name. A value past HELD_COOKIE_CHARS is cut and
 * says so; past HELD_COOKIES cookies the last entry says how many more were sent.
 */
/**
 * The names of the cookies a request carries that are named as a session or credential
 * (`credentialCookie`), sorted, at most 32: a host answers a request carrying one as the account it
 * signs in (the session stage takes out those an answer of the session set: RequestSummary.credential_cookies).
 */
/** The key of `cookieValueDigest`, drawn when the process starts and never written. */
const cookieKey = crypto.randomBytes(32);

/**
 * A keyed digest of a cookie's name and value: the session stage compares what a request sends with
 * what the host handed out by `Set-Cookie` in the same session (values are never kept or shown).
 */
export function cookieValueDigest(name: string, value: string): string {
  return crypto.createHmac('sha256', cookieKey).update(name).update('\0').update(value).digest('base64url').slice(0, 22);
}

/**
 * The digests (`cookieValueDigest`) of each credential cookie's values a request carries, by name:
 * for the session stage only (twenty-ninth pass: a login cookie's value put under a name the host
 * had handed out, an anonymous `PHPSESSID`, passed as the page's own). Not in the description.
 */
const sentCookieDigests = new WeakMap<object, Map<string, string[]>>();

/** What `sentCookieDigests` holds for a description's request, if it carries credential cookies. */
export function credentialCookieDigests(request: object): ReadonlyMap<string, readonly string[]> | undefined {
  return sentCookieDigests.get(request);
}

function credentialCookieValues(headers: ReadonlyArray<[string, string]>, names: readonly string[]): Map<string, string[]> {
  const wanted = new Set(names);
  const out = new Map<string, string[]>();
  for (const [sent, value] of cookiePairs(headers)) {
    const name = shownCookieName(sent);
    if (!wanted.has(name)) continue;
    const list = out.get(name) ?? [];
    if (list.length < 8) list.push(cookieValueDigest(name, value));
    out.set(name, list);
  }
  return out;
}

function credentialCookies(headers: ReadonlyArray<[string, string]>): string[] {
  const names = new Set<string>();
  for (const [name, value] of cookiePairs(headers)) {
    if (names.size >= 32) break;
    // A CSRF cookie (Django's `csrftoken`, `XSRF-TOKEN`) is handed to every visitor: no login.
    if (name !== '' && name.length <= 128 && credentialCookie.test(name) && !/csrf|xsrf/i.test(name) && value !== '') names.add(shownCookieName(name));
  }
  return [...names].sort();
}

/** RFC 6265's cookie-name (an HTTP token). */
const COOKIE_NAME_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * A cookie's name as the description may show it: a name that is no token (blanks, commas: a
 * Cookie header's text that is not a list of cookies, which may hold a credential's value) is
 * listed as a marker, never as written.
 */
const shownCookieName = (name: string): string => (name === '' || COOKIE_NAME_TOKEN.test(name) ? name : '[a cookie whose name is not a token]');

/** A cookie name whose value a held request's card shows (unless the value is shaped as a credential): not one named as a session or credential. */
export function cookieShownWhileHeld(name: string): boolean {
  return name !== '' && !credentialCookie.test(name);
}

export function heldCookieValues(headers: ReadonlyArray<[string, string]>): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let more = 0;
  for (const [n, value] of headers) {
    if (n.toLowerCase() !== 'cookie') continue;
    for (const piece of value.split(';')) {
      const eq = piece.indexOf('=');
      const name = eq > 0 ? piece.slice(0, eq).trim() : '';
      const v = piece.slice(eq + 1).trim();
      // Whom the request acts as (`account_id=acct_1Attacker` beside the session) is shown like a
      // tenant; a credential is not, by its name or by its shape (Slack's `d`, Google's
      // `__Secure-1PSID`: sessions under names that say nothing).
      if (!cookieShownWhileHeld(name) || credentialValue(v)) continue;
      if (out.length >= HELD_COOKIES) {
        more++;
        continue;
      }
      out.push([name, v.length > HELD_COOKIE_CHARS ? `${v.slice(0, HELD_COOKIE_CHARS)}… (cut: ${v.length} characters)` : v]);
    }
  }
  if (more) out.push(['…', `${more} more cookie${more === 1 ? '' : 's'} not shown`]);
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function parseTarget(rawUrl: string): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new DescribeError(`request target is not a valid absolute URL: ${rawUrl.slice(0, 200)}`);
  }
  if (!schemes.has(url.protocol)) throw new DescribeError(`unsupported scheme ${url.protocol}`);
  if (!url.hostname) throw new DescribeError('request target has no host');
  url.username = '';
  url.password = '';
  url.hash = '';
  // "example.com." and "example.com" are the same host; policies should see one spelling.
  if (url.hostname.endsWith('.')) {
    const bare = trimTrailing(url.hostname, '.');
    if (!bare) throw new DescribeError('request target has no host');
    url.hostname = bare;
  }
  // [::ffff:127.0.0.1] is 127.0.0.1 (a dual-stack socket dials it there): one spelling, as 0x7f.1 has.
  unmapUrlHost(url);
  if (url.port === '0') throw new DescribeError('request target has port 0');
  // One spelling per resource: /%61dmin is /admin, /a/.b/.. is /a/, for the policy and the upstream alike.
  const normal = normalizePath(url.pathname);
  if (normal !== url.pathname) url.pathname = normal;
  return url;
}

/**
 * SQL in tool arguments costs an analysis per text on the main thread: a request analyzes at most
 * this many texts (arguments, array members), and stops once its statements reach MAX_SQL_STATEMENTS (a batch of 8,000
 * `execute_sql` calls took 17 s). Calls past the budget are `limited`, which the default policy holds critical.
 */
const MAX_MCP_SQL_CALLS = 64;

interface SqlBudget {
  calls: number;
  statements: number;
}

function mcpSql({ texts, named, unreadable }: McpSqlTexts, budget: SqlBudget): NonNullable<McpInfo['sql']> {
  // Each text alone (an argument's statement, an array's member): one text that is not SQL (a
  // search phrase, a field the server ignores) must not hide the statements of another.
  const out: NonNullable<McpInfo['sql']> = { dialect: 'unknown', parsed: true, statements: [], destructive: false };
  if (unreadable) Object.assign(out, { parsed: false, error: `SQL not readable as text: ${unreadable}` });
  for (const [i, text] of texts.entries()) {
    if (budget.calls >= MAX_MCP_SQL_CALLS || budget.statements >= MAX_SQL_STATEMENTS) {
      const error = `SQL in more than ${MAX_MCP_SQL_CALLS} tool-call arguments or ${MAX_SQL_STATEMENTS} statements of one request was not analyzed`;
      return { ...out, parsed: false, error, destructive: true, limited: true };
    }
    budget.calls++;
    const a = analyzeSqlIn([text], 'unknown');
    budget.statements += a.info.statements.length;
    appendAll(out.statements, a.info.statements);
    // Unparsed counts as destructive (as for any SqlInfo); the policy tells a search phrase by `parsed`.
    if (a.info.destructive) out.destructive = true;
    if (a.ambiguity) out.ambiguous = true;
    // Unread for one of Airlock's limits (size, cost, the request's budget): held as the worst.
    if (a.limited) out.limited = true;
    if (!a.info.parsed) {
      out.parsed = false;
      out.error ??= a.info.error;
      // Under a name that says SQL, a text no grammar reads that reads as a write or calls outside
      // the database (fifteenth pass: `search_issues {sql: "DELETE LOW_PRIORITY FROM users"}`, MySQL's
      // own syntax, passed a read-only tool as a search phrase would) is a destructive statement.
      const effect = named[i] && a.info.statements.length === 0 ? unreadSqlEffect(text, reachesOutside) : undefined;
      if (effect !== undefined) out.statements.push({ kind: 'unread', tables: [], destructive: true, text: `${text.slice(0, 1000)}${text.length > 1000 ? '…' : ''}` });
    }
  }
  if (!out.parsed) out.destructive = true;
  return out;
}

/** Statement kinds that only read (as the policy's `mcp_sql_read_kinds`). */
const readKinds = new Set(['select', 'explain', 'show', 'transaction']);

/**
 * What weak texts (McpSqlTexts.weak) add: the statements of each one read as SQL that writes or is
 * destructive, and for one no grammar reads that reads as a write or calls outside (or is past a
 * limit), an unread destructive statement. Undefined when they add nothing.
 */
function weakSql(texts: string[], budget: SqlBudget): NonNullable<McpInfo['sql']> | undefined {
  const out: NonNullable<McpInfo['sql']> = { dialect: 'unknown', parsed: true, statements: [], destructive: false };
  for (const text of texts) {
    if (budget.calls >= MAX_MCP_SQL_CALLS || budget.statements >= MAX_SQL_STATEMENTS) {
      const error = `SQL in more than ${MAX_MCP_SQL_CALLS} tool-call arguments or ${MAX_SQL_STATEMENTS} statements of one request was not analyzed`;
      return { ...out, parsed: false, error, destructive: true, limited: true };
    }
    // Only texts that begin as a statement may (a shell command or prose rarely does): the rest cost no parse.
    if (!sqlStart.test(text)) continue;
    budget.calls++;
    const a = analyzeSqlIn([text], 'unknown');
    budget.statements += a.info.statements.length;
    const unread = !a.info.parsed || a.limited ? unreadSqlEffect(text, reachesOutside) : undefined;
    if (unread !== undefined || (a.limited && a.info.statements.length === 0)) {
      out.statements.push({ kind: 'unread', tables: [], destructive: true, text: `${text.slice(0, 1000)}${text.length > 1000 ? '…' : ''}` });
      out.destructive = true;
      continue;
    }
    if (!a.info.statements.some((st) => st.destructive || !readKinds.has(st.kind))) continue;
    appendAll(out.statements, a.info.statements);
    if (a.info.destructive) out.destructive = true;
    if (a.ambiguity) out.ambiguous = true;
  }
  return out.statements.length || out.limited ? out : undefined;
}

/** A text that may begin a statement: a letter, or a comment, after blanks and parentheses. */
const sqlStart = /^[\s(]*[A-Za-z\-/]/;

function mcpOf(msg: unknown, budget: SqlBudget): McpInfo | undefined {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return undefined;
  const m = msg as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
  if (m.jsonrpc !== '2.0' || typeof m.method !== 'string') return undefined;
  const info: McpInfo = { method: m.method };
  if (typeof m.id === 'string' || typeof m.id === 'number' || m.id === null) info.id = m.id;
  const params = m.params as { name?: unknown; arguments?: unknown; uri?: unknown } | undefined;
  if (m.method.startsWith('resources/') && params && typeof params === 'object' && typeof params.uri === 'string') info.uri = params.uri.slice(0, 8192);
  if (m.method === 'tools/call' && params && typeof params === 'object') {
    if (typeof params.name === 'string') info.tool = params.name;
    info.arguments = params.arguments ?? {};
    const sql = mcpSqlTexts(info.arguments);
    // Past a notebook's magic (`%%sql⏎DROP TABLE users`) too, each reading on its own (twentieth pass).
    for (const [i, text] of [...sql.texts.entries()]) for (const r of magicReadings(text)) sql.texts.push(r), sql.named.push(sql.named[i]!);
    for (const text of [...sql.weak]) sql.weak.push(...magicReadings(text));
    if (sql.texts.length || sql.unreadable) info.sql = mcpSql(sql, budget);
    const added = sql.weak.length ? weakSql(sql.weak, budget) : undefined;
    if (added) info.sql = info.sql ? { ...info.sql, statements: [...info.sql.statements, ...added.statements], destructive: info.sql.destructive || added.destructive, ...(added.ambiguous || info.sql.ambiguous ? { ambiguous: true } : {}), ...(added.limited || info.sql.limited ? { limited: true } : {}) } : added;
  }
  return info;
}

/** Members of one SQL-carrying array read, at most; past it the array is unreadable. */
const MAX_MCP_SQL_TEXTS = 1000;

interface McpSqlTexts {
  texts: string[];
  /** Per text: its argument's name holds `sql` (`sql`, `sql_query`, `sqlStatements`), which names SQL whatever it holds. */
  named: boolean[];
  /**
   * Texts that may be SQL or not (seventeenth pass): under `command`, `cmd`, `script` (a shell
   * tool's, or a database tool's statement), and strings below an object an SQL-carrying name
   * holds (`{sql: {text: …}}`). Only what they add counts: a statement that writes, a destructive
   * one, or an unread text that reads as a write; anything else leaves the call as it was (a shell
   * command is no unparsed SQL, and a SELECT there makes no tool a reader).
   */
  weak: string[];
  /** Why some SQL-carrying argument could not be read as text (an array of numbers, too long). */
  unreadable?: string;
}

/** Argument values looked through for SQL-carrying names per tool call, at most; past it the arguments are unreadable. */
const MAX_MCP_ARGUMENT_NODES = 10_000;
/** Objects and arrays deep the arguments are looked through. */
const MAX_MCP_ARGUMENT_DEPTH = 16;

/**
 * The SQL texts a tool call's arguments carry: strings, and arrays of strings (or of objects
 * carrying them, `[{sql}]`), under an SQL-carrying name, at any depth (`{params: {sql}}`,
 * `{input: {db: {sql}}}`, `{steps: [{sql}]}`: ninth pass, one object down only was read).
 */
function mcpSqlTexts(args: unknown): McpSqlTexts {
  const out: McpSqlTexts = { texts: [], named: [], weak: [] };
  let nodes = 0;
  const weak = (x: unknown): void => {
    if (typeof x === 'string') {
      if (x.trim() !== '' && out.weak.length < MAX_MCP_SQL_TEXTS) out.weak.push(x);
    } else walk(x, 0, true);
  };
  const walk = (v: unknown, depth: number, below = false): void => {
    if (!v || typeof v !== 'object') return;
    if (++nodes > MAX_MCP_ARGUMENT_NODES || depth > MAX_MCP_ARGUMENT_DEPTH) {
      out.unreadable ??= 'arguments too large or deep to look through for SQL';
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) (below ? weak(x) : walk(x, depth + 1));
      return;
    }
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!sqlArgument(k)) {
        if (below || maybeSqlArgument(k)) weak(x);
        else walk(x, depth + 1);
        continue;
      }
      const named = k.toLowerCase().includes('sql');
      if (typeof x === 'string') {
        if (x.trim() !== '') out.texts.push(x), out.named.push(named);
      } else if (Array.isArray(x) && x.length > 0) {
        if (x.length > MAX_MCP_SQL_TEXTS) out.unreadable ??= `an argument of ${x.length} statements`;
        else {
          for (const m of x) {
            if (typeof m === 'string') {
              if (m.trim() !== '') out.texts.push(m), out.named.push(named);
            } else if (m && typeof m === 'object' && !Array.isArray(m)) walk(m, depth + 1, true);
            else out.unreadable ??= `argument ${k} holds a member that is not SQL text`;
          }
        }
      } else walk(x, depth + 1, true);
    }
  };
  walk(args, 0);
  return out;
}

/**
 * Argument names that may carry a statement or a shell command (`command`, `cmd`, `script`; and
 * `code`, eighteenth pass: a notebook's or sandbox's cell): their texts are weak (McpSqlTexts).
 */
function maybeSqlArgument(name: string): boolean {
  const k = name.toLowerCase().replace(/[_-]/g, '');
  return k === 'command' || k === 'commands' || k === 'cmd' || k === 'cmds' || k === 'script' || k === 'scripts' || k === 'code';
}

/** What a batch member that is a JSON-RPC response (an answer to a server's request) is described as. */
export const MCP_RESPONSE_METHOD = '(response)';

/**
 * A batch member that is a JSON-RPC 2.0 response (`{jsonrpc, id, result | error}`, no method): the
 * client answering a server's request (sampling, elicitation). Servers handle each member of a
 * batch on its own (the TypeScript SDK runs the requests beside the responses), so a response in
 * a batch must not keep the batch's tool calls from being described.
 */
function mcpResponseOf(msg: unknown): McpInfo | undefined {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return undefined;
  const m = msg as { jsonrpc?: unknown; method?: unknown; id?: unknown };
  if (m.jsonrpc !== '2.0' || typeof m.method === 'string' || !('result' in m || 'error' in m)) return undefined;
  const info: McpInfo = { method: MCP_RESPONSE_METHOD };
  if (typeof m.id === 'string' || typeof m.id === 'number' || m.id === null) info.id = m.id;
  return info;
}

/** JSON-RPC (MCP over HTTP). A batch is described by its first call plus every call in `batch`. */
export function describeMcp(json: unknown): McpInfo | undefined {
  const budget: SqlBudget = { calls: 0, statements: 0 };
  if (Array.isArray(json)) {
    const calls = json.map((m) => mcpOf(m, budget) ?? mcpResponseOf(m));
    if (calls.length === 0 || calls.some((c) => !c)) return undefined;
    return { ...calls[0]!, batch: calls as McpInfo[] };
  }
  return mcpOf(json, budget);
}

function findPlaceholders(finder: PlaceholderFinder | undefined, parts: Array<[PlaceholderUse['where'][number], string]>): PlaceholderUse[] {
  if (!finder) return [];
  const uses = new Map<string, Set<PlaceholderUse['where'][number]>>();
  for (const [where, text] of parts) {
    if (!text) continue;
    for (const name of finder.find(text)) {
      let set = uses.get(name);
      if (!set) uses.set(name, (set = new Set()));
      set.add(where);
    }
  }
  return [...uses].map(([name, where]) => ({ name, where: [...where] }));
}

export function describeRequest(raw: RawRequest, ctx: DescribeContext): RequestDescription {
  // Every SQLite analysis of the request (readings, tool calls, fields) shares one step budget,
  // and every grammar's reading one budget of tokens.
  return withSqlReadBudget(() => withSampleBudget(() => withSqlDialect(ctx.sqlDialect, () => describeOnce(raw, ctx))));
}

function describeOnce(raw: RawRequest, ctx: DescribeContext): RequestDescription {
  const method = raw.method.toUpperCase();
  if (!tokenRe.test(method)) throw new DescribeError(`invalid method ${JSON.stringify(raw.method.slice(0, 40))}`);
  const url = parseTarget(raw.url);

  const headers = Object.create(null) as Record<string, string[]>;
  const rawHeaderText: string[] = [];
  let headerEgress = 0;
  for (const [rawName, value] of raw.headers) {
    const name = rawName.toLowerCase();
    if (name === 'proxy-authorization') continue; // Airlock's own credential, never forwarded or shown
    // Host as the upstream gets it: the target's authority in its one spelling (no trailing dot, an
    // IPv4-mapped literal as IPv4), not the agent's (`allowed.example.`, `[::ffff:7f00:1]`).
    if (name === 'host') {
      headers.host = [url.host];
      rawHeaderText.push(rawName, value);
      continue;
    }
    (headers[name] ??= []).push(redactHeaderValue(name, value));
    rawHeaderText.push(rawName, value); // names too: a placeholder in a header's name is just as much on its way out
    if (!notEgress.has(name)) headerEgress += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  }

  const read = summarizeBody({ body: raw.body, truncated: raw.bodyTruncated, headers, previewBytes: ctx.previewBytes ?? 4096 });
  const { summary: body, alternates } = read;
  // Code a remote runner executes that loads where no URL in it says (twenty-fifth pass).
  if (body.json !== undefined && typeof body.json === 'object') {
    const codeLoads = bodyCodeLoads(body.json);
    if (codeLoads) body.code_loads = codeLoads;
  }
  const pathAndQuery = url.pathname + url.search;
  const upgrade = headers['upgrade']?.[0]?.toLowerCase();
  const scheme = url.protocol.slice(0, -1) as RequestInfo['scheme'];

  const request: RequestInfo = {
    id: raw.id ?? crypto.randomUUID(),
    time: (raw.time ?? new Date()).toISOString(),
    method,
    url: url.href,
    scheme,
    host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1).toLowerCase() : url.hostname,
    port: url.port ? Number(url.port) : defaultPorts[url.protocol]!,
    path: url.pathname,
    segments: url.pathname.split('/').filter(Boolean).map(safeDecode),
    query: multiMap(url.searchParams),
    headers,
    body,
    // The host too: under a wildcard the agent chooses it, and it leaves in Host (and SNI, and DNS).
    egress_bytes: Buffer.byteLength(url.host) + Buffer.byteLength(pathAndQuery) + headerEgress + body.size,
  };
  if (upgrade) request.upgrade = upgrade;
  const cookies = cookiePairs(raw.headers);
  if (cookies.length) request[requestCookies] = cookies;
  // The name in Unicode, for policy data written that way (`wiki.bücher.example`): requests carry punycode.
  if (request.host.includes('xn--')) {
    const unicode = domainToUnicode(request.host);
    if (unicode && unicode !== request.host) request.host_unicode = unicode;
  }

  const description: RequestDescription = {
    request,
    agent: ctx.agent,
    placeholders: findPlaceholders(ctx.placeholders, [
      ...rawHeaderText.map((v): ['header', string] => ['header', v]),
      ['query', url.search ? `${url.search} ${safeDecode(url.search)}` : ''],
      ['path', `${url.pathname} ${safeDecode(url.pathname)}`],
      ['body', raw.body.length ? raw.body.toString('latin1') : ''],
    ]),
    grants: ctx.grants ?? [],
  };

  // Services are recognized under the most dangerous method the upstream may run (overrides),
  // and GraphQL endpoints from their raw body whatever its Content-Type.
  const override = readMethodOverride({
    method, url, headers: raw.headers, body: raw.body, bodyTruncated: raw.bodyTruncated,
    contentType: body.content_type, contentTypeHeaders: raw.headers.filter(([n]) => n.toLowerCase() === 'content-type').map(([, v]) => v), read,
  });
  // GraphQL is read from the raw body, the decoded body and each reading of duplicate keys.
  const graphqlReadings = [body.json, ...alternates.map((a) => a.json)].filter((v) => v !== undefined);
  const graphql = isGraphqlEndpoint(request)
    ? parseGraphqlRequest(request, raw.body, raw.bodyTruncated, graphqlReadings)
    : carriesGraphql(request) ? readGraphqlIfParsed(parseGraphqlRequest(request, raw.body, raw.bodyTruncated, graphqlReadings), namesPersistedQuery(request)) : undefined;
  if (graphql) description.graphql = graphql.info;
  if (graphql?.calls?.length) {
    description.graphql!.places = mutationPlaces(graphql);
    // How many mutations run: what a request's rate limit is charged (seventeenth pass).
    description.graphql!.mutation_calls = graphql.calls.length;
  }
  // Each reading of the body (one, unless it is ambiguous) is recognized; the worst one describes it.
  const methods: string[] = [];
  let sqlWrites = false;
  withReadings(description, alternates, (req) => {
    const mcp = req.body.json !== undefined ? describeMcp(req.body.json) : undefined;
    const { recognized, method: worst } = recognizeWorstReading(req, override.readings, graphql);
    methods.push(worst);
    if (recognized.sqlWrites) sqlWrites = true;
    return { mcp, ...recognized };
  });
  if (description.service?.operation === 'git.push' && method === 'POST') pushHistory(description.service, raw.body, raw.bodyTruncated);
  // A service's GraphQL mutation names its nodes itself (`node_ids`); whom its arguments reach and
  // what they change — inline or by variable (an invitee's email, `organizationRole: OWNER`) — are
  // read as a service operation's are (fifteenth pass).
  const op = description.service?.operation;
  if (graphql?.calls?.length && op !== undefined && op !== 'unknown') description.graphql!.places = storesData(op) ? [] : mutationPlaces(graphql, 'service').filter((p) => !p.endsWith('()'));
  const own = ownCredentials(raw.headers, url, body, ctx.credentialKey ?? processCredentialKey);
  if (own !== undefined) request.own_credentials = own;
  const cookieParams = cookieParameters(raw.headers, url, body);
  if (cookieParams.length) request.cookie_params = cookieParams;
  const loginCookies = credentialCookies(raw.headers);
  if (loginCookies.length) {
    request.credential_cookies = loginCookies;
    sentCookieDigests.set(request, credentialCookieValues(raw.headers, loginCookies));
  }
  const keyedBy = credentialParamNames(url, body);
  if (keyedBy.length) request.credential_params = keyedBy;
  request.effective_method = override.effective ?? methods[0] ?? method;
  if (override.override) request.method_override = override.override;
  // SQL in a read's URL that writes (`GET /v1/sql?sql=UPDATE users SET role = 'admin' WHERE id = 7`,
  // INSERT, CALL, DDL): the server runs the statement whatever the method, as the POST that carries
  // it would be (sixteenth pass: only destructive or unread SQL was held; a narrow write was an
  // allowed read). Judged as that POST, as `?action=DELETE` is.
  if (sqlWrites && sqlReadMethods.has(request.effective_method)) {
    request.effective_method = 'POST';
    const o = request.method_override;
    // Beside an override naming a read (`X-HTTP-Method-Override: GET`), two methods: not one reading.
    request.method_override = o
      ? { values: [...o.values, 'POST'].slice(0, 20), sources: [...o.sources, 'query:sql'], ambiguous: true, reason: o.reason ?? 'a read override beside SQL that writes' }
      : { values: ['POST'], sources: ['query:sql'], ambiguous: false };
  }
  return description;
}

/** Methods a URL's SQL that writes turns into its POST. */
const sqlReadMethods = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A push's ref updates that its pack does not prove fast-forwards (`params.unproven_updates`): a
 * force push and a fast-forward send the same command line, so only the history the pack carries
 * tells them apart (git-pack.ts). Creations and deletions are not history updates.
 */
function pushHistory(service: ServiceInfo, body: Buffer, truncated: boolean): void {
  const { updates } = refUpdates(body.toString('latin1', 0, Math.min(body.length, 4 * 1024 * 1024)));
  const histories = updates.filter((u) => !/^0+$/.test(u.from) && !/^0+$/.test(u.to));
  if (!histories.length) return;
  const proven = truncated ? new Set<string>() : fastForwards(packCommits(body, histories[0]!.to.length === 64 ? 64 : 40), histories);
  const unproven = [...new Set(histories.map((u) => u.ref).filter((r) => !proven.has(r)))];
  if (unproven.length) (service.params as Record<string, unknown>).unproven_updates = unproven;
}

/**
 * describeRequest for live traffic: when the request carries SQL and the SQL engines are not loaded
 * yet (they load when SQL first arrives, see adapters/sql-engines.ts), loads them and describes it
 * again. If they cannot be loaded the SQL stays unparsed and the error says why (fails closed).
 */
export async function describeRequestLoaded(raw: RawRequest, ctx: DescribeContext): Promise<RequestDescription> {
  const misses = sqlEngineMisses();
  const first = describeRequest(raw, ctx);
  if (sqlEngineMisses() === misses) return first;
  // If the load fails, the SQL described again is unparsed and names the load's error.
  await loadAdapters().catch(() => undefined);
  return describeRequest(raw, ctx);
}

/**
 * A GraphQL request found by its body on a URL that does not say so (Monday's `/v2`): kept only
 * when it parses into operations, so a search API's `{query: "shoes"}` is not held as unreadable GraphQL.
 */
function readGraphqlIfParsed(g: GraphqlRequest, persisted = false): GraphqlRequest | undefined {
  // A persisted query's id or hash is GraphQL whatever its parse (it has none to see).
  return persisted || (g.info.parsed && g.info.operations.length > 0) ? g : undefined;
}
