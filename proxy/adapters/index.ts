// Service recognition for the describe step: which known API a request calls (`input.service`)
// and what SQL it carries (`input.sql`). Pure and synchronous once loadAdapters() has resolved.
// Adding a service is one module exporting a ServiceAdapter, listed in `adapters` below.
import type { RequestInfo, ServiceInfo, SqlInfo } from '../../engine/types.ts';
import type { GraphqlRequest } from '../graphql.ts';
import type { ServiceAdapter, SqlSource } from './adapter.ts';
import { anthropic } from './anthropic.ts';
import { cloudflare } from './cloudflare.ts';
import { git } from './git.ts';
import { github } from './github.ts';
import { gmail } from './gmail.ts';
import { neon } from './neon.ts';
import { openai } from './openai.ts';
import { slack } from './slack.ts';
import { analyzeSql, loadSqlParser } from './sql.ts';
import { stripe } from './stripe.ts';
import { sqlFromJson } from './sql-body.ts';
import { supabase } from './supabase.ts';

export type { ServiceAdapter, SqlSource } from './adapter.ts';

/** In order: the first adapter that owns the host and describes the request wins. `git` (any host) is last. */
export const adapters: readonly ServiceAdapter[] = [github, stripe, gmail, slack, supabase, neon, cloudflare, openai, anthropic, git];

/** Loads what recognition needs (the PostgreSQL parser's WASM). Await once before recognize(). */
export function loadAdapters(): Promise<void> {
  return loadSqlParser();
}

// Start loading at import so a process that forgets to await is ready by its first request;
// a failure surfaces from the awaited loadAdapters() (and SQL fails closed until then).
loadSqlParser().catch(() => undefined);

export interface Recognized {
  service?: ServiceInfo;
  sql?: SqlInfo;
}

/** Path names that mark a generic SQL-over-HTTP endpoint taking `{query}` (GraphQL never lives here). */
const sqlEndpointNames = new Set(['sql', 'query', 'execute', 'exec', 'raw']);

/** SQL in a request no adapter claims: `{sql: "…"}` anywhere, `{query: "…"}` to an SQL-looking path. */
function genericSql(request: RequestInfo): SqlSource | undefined {
  if (request.method !== 'POST' && request.method !== 'PUT') return undefined;
  if (request.body.content_type === 'application/sql' && request.body.text !== undefined) return sqlFromJson(request);
  const json = request.body.json;
  if (!json || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  if (typeof o.sql === 'string') return { texts: [o.sql] };
  const last = request.segments[request.segments.length - 1]?.toLowerCase() ?? '';
  if (!sqlEndpointNames.has(last) || request.segments.some((s) => s.toLowerCase() === 'graphql')) return undefined;
  if (typeof o.query === 'string' || Array.isArray(o.queries)) return sqlFromJson(request);
  return undefined;
}

function sqlInfo(source: SqlSource): { info: SqlInfo; readOnly: boolean; privilegeOnly: boolean } {
  if ('error' in source) return { info: { parsed: false, error: source.error, statements: [], destructive: true }, readOnly: false, privilegeOnly: false };
  const a = analyzeSql(source.texts);
  return { info: a.info, readOnly: a.readOnly, privilegeOnly: a.privilegeOnly === true };
}

/** Whether a service names this request's URL as one of its GraphQL endpoints (any method). */
export function isGraphqlEndpoint(request: RequestInfo): boolean {
  for (const adapter of adapters) {
    if (adapter.graphqlEndpoint && adapter.hosts(request.host) && adapter.graphqlEndpoint(request)) return true;
  }
  return false;
}

/** Recognizes the service, operation and SQL of a described request. Never throws on request content. */
export function recognize(request: RequestInfo, graphql?: GraphqlRequest): Recognized {
  const out: Recognized = {};
  let owner: ServiceAdapter | undefined;
  for (const adapter of adapters) {
    if (!adapter.hosts(request.host)) continue;
    const service = adapter.describe(request, graphql);
    if (service) {
      out.service = service;
      owner = adapter;
      break;
    }
  }
  const source = out.service && owner?.sql ? owner.sql(request, out.service) : out.service ? undefined : genericSql(request);
  if (source) {
    const { info, readOnly, privilegeOnly } = sqlInfo(source);
    out.sql = info;
    // A pure SQL endpoint's effect is its SQL's: read-only queries read, privilege changes are
    // admin, other destructive SQL deletes.
    if (out.service && out.service.effect === 'write' && isSqlEndpoint(out.service)) {
      if (info.destructive) out.service.effect = privilegeOnly ? 'admin' : 'delete';
      else if (readOnly && info.statements.length > 0) out.service.effect = 'read';
    }
  }
  return out;
}

const sqlOperations = new Set(['sql.query', 'database.query', 'd1.database.query', 'd1.database.raw']);

function isSqlEndpoint(service: ServiceInfo): boolean {
  return sqlOperations.has(service.operation);
}
