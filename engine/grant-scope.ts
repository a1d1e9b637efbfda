// The semantic operation of a request, as a grant records and compares it.
//
// A REST call is one operation (`input.service.operation`), but several kinds of request carry
// their real operation in the body: an MCP server has one URL for every tool, an SQL endpoint one
// URL for every statement, a git push one URL for every ref update, a GraphQL endpoint one URL for
// every mutation. A grant given for one of them must not cover another, so a grant records the
// request's scope — one item per tool, statement, ref command or root field — and covers a later
// request only when every item of that request's scope is among the grant's.
import { createHash } from 'node:crypto';
import type { Grant, RequestDescription } from '../describe/types.ts';

/** Items naming what the request does beyond its method, host and path, sorted and unique. */
export function operationScope(d: RequestDescription): string[] {
  const items = new Set<string>();
  // A body servers read differently (duplicate keys, a contradicting Content-Type …): the scope
  // below is of the worst reading only, so the request is not one operation a grant could name.
  if (d.request.body?.ambiguous === true) items.add('body:ambiguous');
  // IIS URL Rewrite (and older Symfony and Zend) run the path an `X-Original-URL` or
  // `X-Rewrite-URL` header names, not the request line's: what the request acts on is not its path.
  for (const name of Object.keys(d.request.headers ?? {})) {
    if (pathRewriteHeaders.has(name.toLowerCase().replaceAll('_', '-'))) items.add('path:rewritten');
  }
  const override = d.request.method_override;
  if (override) {
    items.add(`method:${d.request.effective_method ?? d.request.method}`);
    if (override.ambiguous) items.add('method:ambiguous');
  }
  if (d.mcp) {
    for (const c of d.mcp.batch ?? [d.mcp]) {
      const call = c.method === 'tools/call' ? `mcp:tools/call:${c.tool ?? '(no tool name)'}` : `mcp:${c.method}`;
      items.add(call);
      // SQL in the arguments is the operation (`execute_sql` runs any statement): its statements
      // are the scope, as for an SQL endpoint. A text not read as SQL whole (a search phrase, an
      // ambiguous or unparsed statement) names the call by its arguments' digest: only the same call is covered.
      if (c.sql?.parsed && !c.sql.ambiguous) {
        for (const s of c.sql.statements) items.add(`${call}:sql:${s.kind}${s.destructive ? '!' : ''}:${[...s.tables].sort().join(',')}`);
      } else if (c.sql) {
        items.add(`${call}:text:${createHash('sha256').update(JSON.stringify(c.arguments ?? null)).digest('hex').slice(0, 32)}`);
      }
    }
  }
  if (d.sql) {
    if (!d.sql.parsed) items.add('sql:unparsed');
    for (const s of d.sql.statements) items.add(`sql:${s.kind}${s.destructive ? '!' : ''}:${[...s.tables].sort().join(',')}`);
  }
  if (d.graphql) {
    if (!d.graphql.parsed) items.add('graphql:unparsed');
    for (const op of d.graphql.operations) {
      if (op.fields.length === 0) items.add(`graphql:${op.type}`);
      for (const f of op.fields) items.add(`graphql:${op.type}:${f}`);
    }
  }
  const s = d.service;
  // A batch of calls (Google's batch endpoints) is every call in it.
  if (s && s.operation === 'batch' && Array.isArray(s.params.operations)) {
    for (const op of s.params.operations) items.add(`batch:${String(op)}`);
  }
  if (s && (s.operation === 'git.push' || s.operation === 'git.update_ref')) {
    const p = s.params as { refs?: unknown; deletes?: unknown; refs_incomplete?: unknown; ref?: unknown; force?: unknown };
    if (s.operation === 'git.update_ref') {
      items.add(`git:${p.force === true ? 'force' : 'update'}:${String(p.ref ?? '')}`);
    } else if (d.request.method === 'POST') {
      const deletes = new Set(Array.isArray(p.deletes) ? p.deletes.map(String) : []);
      if (!Array.isArray(p.refs)) items.add('git:commands-unseen');
      else for (const ref of p.refs.map(String)) items.add(`git:${deletes.has(ref) ? 'delete' : 'update'}:${ref}`);
      if (p.refs_incomplete === true) items.add('git:commands-incomplete');
    }
  }
  return [...items].sort();
}

/**
 * Whether a grant's scope covers a request's: every item of the request is in the grant. A grant
 * with a scope never covers a request without one (a different kind of request to the same URL),
 * and a grant without a scope (given for a plain REST call) covers only requests without one.
 */
export function scopeCovers(grantScope: readonly string[] | undefined, requestScope: readonly string[]): boolean {
  const granted = new Set(grantScope ?? []);
  if (requestScope.length === 0) return granted.size === 0;
  return requestScope.every((item) => granted.has(item));
}

/** The items of a request's scope that a grant does not cover, for messages. */
export function uncovered(grant: Pick<Grant, 'scope'>, requestScope: readonly string[]): string[] {
  const granted = new Set(grant.scope ?? []);
  return requestScope.filter((i) => !granted.has(i));
}

/**
 * Scope items that say what the request does could not be read: an unparsed GraphQL body (a
 * persisted query's id, say) or SQL, git commands that were not seen whole, an override or a body
 * that reads several ways. Two such requests share the item whatever they do, so the item proves no sameness:
 * such requests are approved one at a time, never by a grant.
 */
const opaqueItems = new Set(['graphql:unparsed', 'sql:unparsed', 'git:commands-unseen', 'git:commands-incomplete', 'method:ambiguous', 'body:ambiguous', 'path:rewritten']);

/** Headers some servers take the path from instead of the request line. */
const pathRewriteHeaders = new Set(['x-original-url', 'x-rewrite-url']);

export function opaqueScope(scope: readonly string[]): string[] {
  return scope.filter((i) => opaqueItems.has(i));
}

/**
 * Service parameters that say where a request acts — a repository, an organization, a channel, a
 * project, a table, an account or zone, a mailbox — as opposed to which object it touches. A human
 * who allowed "similar" comments on acme/widgets did not allow comments on someone else's public
 * repository, nor messages to another channel, nor updates to another table, nor mail to other
 * people. GraphQL names the place by node id (`node_ids`: the issue, pull request or repository a
 * mutation's input names); a mail send by its recipients.
 */
const targetParams = [
  'owner', 'repo', 'org', 'channel', 'channels', 'project', 'endpoint', 'schema', 'table', 'function', 'account_id', 'zone_id',
  'project_id', 'project_name', 'database_id', 'namespace_id', 'bucket', 'bucket_name', 'script_name', 'user_id', 'node_ids',
  'recipients', 'webhook', 'stripe_account', 'repository_id', 'organization_id',
];

/** A target value `?`: the place is not in the request, so no grant can show it is the same. */
export function opaqueTarget(target: string): boolean {
  return /[=,]\?(;|,|$)/.test(target);
}

/** Where a request acts (`github:owner=acme;repo=widgets`), or undefined when its service names no such place. */
export function grantTarget(d: RequestDescription): string | undefined {
  const s = d.service;
  if (!s || !s.params) return undefined;
  const parts: string[] = [];
  for (const k of targetParams) {
    const v = (s.params as Record<string, unknown>)[k];
    if (typeof v === 'string') parts.push(`${k}=${v}`);
    else if (Array.isArray(v)) parts.push(`${k}=${v.map(String).join(',')}`);
  }
  return parts.length ? `${s.name}:${parts.join(';')}` : undefined;
}
