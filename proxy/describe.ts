// Turns a raw request (live from the proxy, or imported from a HAR/capture) into the request
// description policies see. One implementation for live traffic and replay, so a replayed request
// is described exactly as it was live. Pure: no sockets, no clock except the request's own time.
import crypto from 'node:crypto';
import { isGraphqlEndpoint } from './adapters/index.ts';
import { parseGraphqlRequest } from './graphql.ts';
import { readMethodOverride, recognizeWorstReading } from './method-override.ts';
import type {
  AgentInfo, BodySummary, Grant, McpInfo, PlaceholderUse, RequestDescription, RequestInfo,
} from '../engine/types.ts';

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

/** Finds which secrets' placeholders occur in a piece of text (implemented by proxy/placeholders.ts). */
export interface PlaceholderFinder {
  find(text: string): string[];
}

export interface DescribeContext {
  agent: AgentInfo;
  placeholders?: PlaceholderFinder;
  grants?: Grant[];
  /** How much of a textual body the description previews. */
  previewBytes?: number;
}

export class DescribeError extends Error {
  override name = 'DescribeError';
}

/** Headers whose values carry credentials: the policy sees that they are present, never their value. */
const credentialHeaders = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'x-auth-token',
  'x-goog-api-key', 'private-token', 'x-github-token', 'x-access-token', 'x-csrf-token', 'apikey',
]);

const authSchemes = new Set(['basic', 'bearer', 'digest', 'token', 'negotiate', 'ntlm', 'hoba', 'mutual', 'aws4-hmac-sha256', 'vapid', 'apikey', 'oauth', 'dpop', 'gnap', 'privatetoken', 'scram-sha-1', 'scram-sha-256']);

/** Headers the proxy sets or strips itself: not agent-chosen egress. */
const notEgress = new Set(['host', 'proxy-authorization', 'proxy-connection', 'connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'content-length']);

const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const schemes = new Set(['http:', 'https:', 'ws:', 'wss:']);
const defaultPorts: Record<string, number> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443 };

export function redactHeaderValue(name: string, value: string): string {
  if (!credentialHeaders.has(name)) return value;
  if (name === 'authorization' || name === 'proxy-authorization') {
    // Keep the scheme only when it is a known one: a bare credential followed by a space is not a scheme.
    const scheme = /^([A-Za-z][A-Za-z0-9-]*)\s/.exec(value)?.[1];
    return scheme && authSchemes.has(scheme.toLowerCase()) ? `${scheme} [redacted]` : '[redacted]';
  }
  return '[redacted]';
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
    const bare = url.hostname.replace(/\.+$/, '');
    if (!bare) throw new DescribeError('request target has no host');
    url.hostname = bare;
  }
  if (url.port === '0') throw new DescribeError('request target has port 0');
  return url;
}

function mediaType(headers: Record<string, string[]>): string {
  return (headers['content-type']?.[0] ?? '').split(';')[0]!.trim().toLowerCase();
}

const textual = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|graphql|sql|x-ndjson)|.*\+(json|xml))/;

function summarizeBody(raw: RawRequest, headers: Record<string, string[]>, previewBytes: number): BodySummary {
  const content_type = mediaType(headers);
  const declared = Number(headers['content-length']?.[0]);
  const summary: BodySummary = {
    size: raw.bodyTruncated && Number.isFinite(declared) ? declared : raw.body.length,
    sha256: crypto.createHash('sha256').update(raw.body).digest('hex'),
    content_type,
    truncated: raw.bodyTruncated,
  };
  if (raw.body.length === 0) return summary;
  const text = raw.body.toString('utf8');
  if (!raw.bodyTruncated && (content_type === 'application/json' || content_type.endsWith('+json') || (!content_type && /^\s*[[{]/.test(text)))) {
    try {
      summary.json = JSON.parse(text, finiteOnly);
      return summary;
    } catch {
      /* not JSON after all: fall through to a text preview */
    }
  }
  if (!raw.bodyTruncated && content_type === 'application/x-www-form-urlencoded') {
    summary.form = multiMap(new URLSearchParams(text));
    return summary;
  }
  if (content_type === 'application/x-git-receive-pack-request') {
    // A push starts with text pkt-lines naming each ref update (old new ref), then the binary pack:
    // preview the commands so policies can see branch deletions.
    const pack = raw.body.indexOf('PACK');
    summary.text = raw.body.subarray(0, pack < 0 ? previewBytes : Math.min(pack, previewBytes)).toString('latin1');
    return summary;
  }
  if (textual.test(content_type) || !content_type) summary.text = text.slice(0, previewBytes);
  return summary;
}

/** A name → values map with no prototype: "__proto__" is just another name the agent chose. */
export function emptyMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** JSON numbers too large for a double would reach the policy as null: refuse them as JSON. */
function finiteOnly(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new RangeError('non-finite number');
  return value;
}

function multiMap(params: URLSearchParams): Record<string, string[]> {
  const out = emptyMap<string[]>();
  for (const [k, v] of params) (out[k] ??= []).push(v);
  return out;
}

function mcpOf(msg: unknown): McpInfo | undefined {
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return undefined;
  const m = msg as { jsonrpc?: unknown; method?: unknown; params?: unknown; id?: unknown };
  if (m.jsonrpc !== '2.0' || typeof m.method !== 'string') return undefined;
  const info: McpInfo = { method: m.method };
  if (typeof m.id === 'string' || typeof m.id === 'number' || m.id === null) info.id = m.id;
  const params = m.params as { name?: unknown; arguments?: unknown } | undefined;
  if (m.method === 'tools/call' && params && typeof params === 'object') {
    if (typeof params.name === 'string') info.tool = params.name;
    info.arguments = params.arguments ?? {};
  }
  return info;
}

/** JSON-RPC (MCP over HTTP). A batch is described by its first call plus every call in `batch`. */
function describeMcp(json: unknown): McpInfo | undefined {
  if (Array.isArray(json)) {
    const calls = json.map(mcpOf);
    if (calls.length === 0 || calls.some((c) => !c)) return undefined;
    return { ...calls[0]!, batch: calls as McpInfo[] };
  }
  return mcpOf(json);
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
  const method = raw.method.toUpperCase();
  if (!tokenRe.test(method)) throw new DescribeError(`invalid method ${JSON.stringify(raw.method.slice(0, 40))}`);
  const url = parseTarget(raw.url);

  const headers = emptyMap<string[]>();
  const rawHeaderText: string[] = [];
  let headerEgress = 0;
  for (const [rawName, value] of raw.headers) {
    const name = rawName.toLowerCase();
    if (name === 'proxy-authorization') continue; // Airlock's own credential, never forwarded or shown
    (headers[name] ??= []).push(redactHeaderValue(name, value));
    rawHeaderText.push(rawName, value); // names too: a placeholder in a header's name is just as much on its way out
    if (!notEgress.has(name)) headerEgress += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  }

  const body = summarizeBody(raw, headers, ctx.previewBytes ?? 4096);
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
    egress_bytes: Buffer.byteLength(pathAndQuery) + headerEgress + body.size,
  };
  if (upgrade) request.upgrade = upgrade;

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

  const mcp = body.json !== undefined ? describeMcp(body.json) : undefined;
  if (mcp) description.mcp = mcp;
  // Services are recognized under the most dangerous method the upstream may run (overrides),
  // and GraphQL endpoints from their raw body whatever its Content-Type.
  const override = readMethodOverride({
    method, url, headers: raw.headers, body: raw.body, bodyTruncated: raw.bodyTruncated,
    contentType: body.content_type, contentTypeHeader: headers['content-type']?.[0] ?? '',
  });
  const graphql = isGraphqlEndpoint(request) ? parseGraphqlRequest(request, raw.body, raw.bodyTruncated) : undefined;
  if (graphql) description.graphql = graphql.info;
  const { recognized, method: worst } = recognizeWorstReading(request, override.readings, graphql);
  request.effective_method = override.effective ?? worst;
  if (override.override) request.method_override = override.override;
  if (recognized.service) description.service = recognized.service;
  if (recognized.sql) description.sql = recognized.sql;
  return description;
}
