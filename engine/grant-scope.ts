// The semantic operation of a request, as a grant records and compares it.
//
// A REST call is one operation (`input.service.operation`), but several kinds of request carry
// their real operation in the body: an MCP server has one URL for every tool, an SQL endpoint one
// URL for every statement, a git push one URL for every ref update, a GraphQL endpoint one URL for
// every mutation. A grant given for one of them must not cover another, so a grant records the
// request's scope — one item per tool, statement, ref command or root field — and covers a later
// request only when every item of that request's scope is among the grant's.
import { createHash } from 'node:crypto';
import type { Grant, RequestDescription, SqlStatement } from '../describe/types.ts';
import { pathAmbiguity, pathRewriteHeaders } from '../describe/path-ambiguity.ts';
import { credentialQueryParams, formEntries, formWithSemicolonSplit, multiMap, parameterNames, quotedParams, sessionQueryParam } from '../describe/body.ts';
import { serverHeaderKey } from '../lib/text.ts';
import { multipartBoundaries } from '../describe/multipart.ts';
import { encodedMessageAddresses } from '../describe/message-headers.ts';
import { delimitedParts } from '../describe/http-batch.ts';
import { actsByArgument, actsOnObject, setsByArgument, argumentPlaces, bareIdArguments, bulkCall, cloudEventAttributes, counted, isAddress, digest, foldCase, inexactNumber, isEffectName, isLastingName, isModeName, isNumberName, isObjectIdName, isSizeName, isSwitch, magnitude, namesPrivilege, numberPlace, repeatedSwitch, MAX_MCP_PLACES, pageArguments, placeValue, selectionArguments, spelledName, objectArguments, storesData, tenancyWords, actingWords, valueDigest, withObjects, isKindName } from '../describe/places.ts';
import { isXmlRpc, xmlArgumentsDigest, xmlFields, xmlRpcMethods } from '../describe/xmlrpc.ts';
import { escapeGlob, globMatch } from '../lib/glob.ts';
import { emptyMap } from '../lib/records.ts';

/**
 * Whether a path grant's pattern covers a request path as servers route it (sixteenth pass). `*`
 * matches an empty run, so `/items/*`, given for `DELETE /items/5`, matched `DELETE /items/`, which
 * Express, Flask, Rails and ASP.NET route to `/items` (the collection); IIS also trims a segment's
 * trailing dots and spaces (`/items/...`, `/items/%20`), Tomcat and Spring cut `;params`
 * (`/items/;x`). So the pattern must match the path as sent, and the pattern so read the path so
 * read (an exact `/api/items/` still covers itself). A path servers read with another segment
 * structure (`..%2F`, `..;/`, `%252f`: forwarded as sent only where the decision sets `raw_path`)
 * is covered by its exact pattern only: a wildcard matched it as one segment, the server may read `/admin`.
 */
export function pathPatternCovers(pattern: string, path: string): boolean {
  if (!globMatch(pattern, path)) return false;
  if (readsOtherwise(path)) return pattern === escapeGlob(path);
  const routed = routedPath(path);
  // A segment naming many or all objects is covered only where the pattern names it (twenty-first pass).
  const literal = new Set(routedPath(pattern).split('/'));
  if (routed.split('/').some((s) => namesMany(s) && !literal.has(escapeGlob(s)))) return false;
  return routed === path || globMatch(routedPath(pattern), routed);
}

/** Segments that name every object of a collection, or many at once (Elasticsearch's `_all`, `DELETE /notifications/all`, `/_bulk`). */
const manySegments = new Set(['all', '_all', 'every', 'everything', 'any', 'bulk', '_bulk', 'batch', '_batch', 'many', '_many']);

/**
 * Whether a path segment (as routed) names many or all objects where a wildcard stands for one
 * (twenty-first pass): a human's `/items/*`, given for `DELETE /items/5` (any one item), matched
 * `DELETE /items/all`, `/items/_all`, a literal `/items/*` (`%2A`), a list `/items/5,6,7`
 * (Elasticsearch, JSON:API and many REST APIs take one), a range `/items/1-1000`, OData's `$each`.
 */
function namesMany(segment: string): boolean {
  if (segment.length > 200) return false;
  const s = safeDecode(segment).trim().toLowerCase();
  if (manySegments.has(s) || s.includes('*') || s.includes(',')) return true;
  // An OData system resource (twenty-first pass, follow-up): `DELETE /People/$each` deletes every
  // member, `/People/$filter(Age gt 0)/$each` those the filter selects, `$all`, `$batch`, `$crossjoin(…)`.
  if (s.startsWith('$')) return true;
  // A range of ids (`1-1000`, `1..1000`), not a date (`2024-12`: the end before the start).
  const range = /^(\d{1,15})\s*(?:-|\.\.\.?)\s*(\d{1,15})$/.exec(s);
  return range !== null && Number(range[2]) > Number(range[1]);
}

/** A segment without its `;params` (Tomcat, Jetty, Spring). */
const withoutParams = (segment: string): string => {
  const i = segment.indexOf(';');
  return i < 0 ? segment : segment.slice(0, i);
};

/** Whether some server reads the path as other segments: a dot-segment or an inner empty one once `;params` are cut, or an escape that decodes to structure. */
function readsOtherwise(path: string): boolean {
  if (!path.includes('%') && !path.includes(';') && !path.includes('\\') && !path.includes('//')) return false;
  const cut = path.split('/').map(withoutParams);
  if (cut.some((s, i) => s === '.' || s === '..' || (s === '' && i > 0 && i < cut.length - 1))) return true;
  return pathAmbiguity(cut.join('/')) !== undefined;
}

/** A path (or pattern) as routed: each segment's `;params` and trailing dots and spaces (also `%20`, `%2e`) cut, empty segments dropped. */
function routedPath(path: string): string {
  const segments: string[] = [];
  for (const part of path.split('/')) {
    const raw = withoutParams(part);
    let end = raw.length;
    for (;;) {
      if (end > 0 && (raw[end - 1] === '.' || raw[end - 1] === ' ')) end--;
      else if (end > 2 && raw[end - 3] === '%' && raw[end - 2] === '2' && /[0eE]/.test(raw[end - 1]!)) end -= 3;
      else break;
    }
    if (end > 0) segments.push(raw.slice(0, end));
  }
  return `/${segments.join('/')}`;
}

/**
 * An SQL statement's items: its kind and tables, each function (or operator) it calls that is not
 * proven read-only (`SELECT archive_order(5)` and `SELECT purge_all()` are one kind on no table, but
 * different operations; so are two CALLs), and each setting it changes with its value (a grant for
 * `SET search_path = public` does not cover `SET search_path = auth`).
 */
function sqlItems(statements: SqlStatement[], values: string): string[] {
  const out: string[] = [];
  for (const s of statements) {
    out.push(`sql:${s.kind}${s.destructive ? '!' : ''}:${[...s.tables].sort().join(',')}`);
    for (const f of s.functions ?? []) out.push(`sql:function:${f}`);
    for (const v of s.settings ?? []) out.push(`sql:setting:${v}`);
    // A statement that names a column (or value) that changes what it does — a role, an admin
    // flag, permissions, a deletion or archive flag (describe/places.ts isEffectName) — is that
    // statement with those bound values only (`values`: the request's body or the call's
    // arguments; fourteenth pass): a grant for `UPDATE profiles SET bio = …` does not cover
    // `UPDATE profiles SET role = 'admin'` (nor `SET role = $1` bound to another value), as the
    // same PostgREST update does not.
    if (s.text !== undefined && namesEffect(s.text)) out.push(`sql:text:${digest(`${s.text}\0${values}`)}`);
  }
  return out;
}

/** Whether an SQL text has a word that changes what a write does (`DELETE`, the keyword, aside). */
function namesEffect(text: string): boolean {
  for (const word of text.split(/[^A-Za-z0-9_\u0080-\uffff]+/)) if (word && foldCase(word) !== 'delete' && isEffectName(word)) return true;
  return false;
}

/** Items naming what the request does beyond its method, host and path, sorted and unique. */
export function operationScope(d: RequestDescription): string[] {
  const items = new Set<string>();
  // A body servers read differently (duplicate keys, a contradicting Content-Type …): the scope
  // below is of the worst reading only, so the request is not one operation a grant could name.
  if (d.request.body?.ambiguous === true) items.add('body:ambiguous');
  // IIS URL Rewrite (and older Symfony and Zend) run the path an `X-Original-URL` or
  // `X-Rewrite-URL` header names, not the request line's: what the request acts on is not its path.
  for (const name of Object.keys(d.request.headers ?? {})) {
    if (pathRewriteHeaders.has(serverHeaderKey(name))) items.add('path:rewritten');
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
        for (const item of sqlItems(c.sql.statements, JSON.stringify(c.arguments ?? null))) items.add(`${call}:${item}`);
      } else if (c.sql) {
        if (inexactNumber(c.arguments)) items.add('number:inexact');
        else items.add(`${call}:text:${createHash('sha256').update(JSON.stringify(c.arguments ?? null)).digest('hex').slice(0, 32)}`);
      }
    }
  }
  // RPC protocols that name the operation outside the path, one URL for every call: AWS's JSON
  // protocol (`X-Amz-Target: DynamoDB_20120810.DeleteTable`), its Query protocol (`Action=` in the
  // URL or a form body: `TerminateInstances` beside `DescribeInstances`), SOAP (`SOAPAction`).
  const headers = d.request.headers ?? {};
  for (const v of headers['x-amz-target'] ?? []) items.add(`rpc:x-amz-target:${v.trim()}`);
  for (const v of [...(d.request.query?.Action ?? []), ...(d.request.body?.form?.Action ?? [])]) items.add(`rpc:action:${v}`);
  for (const v of headers['soapaction'] ?? []) items.add(`rpc:soapaction:${v.trim()}`);
  // Next.js Server Actions: `POST` to a page with `Next-Action: <id>` runs the server function the
  // id names (every action of the page, a "delete account" beside a "subscribe", one URL).
  for (const v of headers['next-action'] ?? []) items.add(`rpc:next-action:${namedValue(v.trim())}`);
  // SOAP 1.2 names the action in the Content-Type's `action` parameter (there is no SOAPAction
  // header), and servers dispatch by the Body's first element when the action is empty or absent.
  for (const v of soapTypeActions(headers['content-type'] ?? [])) items.add(`rpc:soapaction:${v}`);
  const element = soapBodyElement(d);
  if (element !== undefined) items.add(`rpc:soap-body:${element}`);
  for (const item of namedOperations(d)) items.add(item);
  // A service's batch names its calls itself (Gmail's `batch`); an unnamed route's does not.
  if (!d.service || d.service.operation === 'unknown') for (const item of multipartCalls(d)) items.add(item);
  // Upstash's Redis REST API takes commands as a JSON array in the body of `POST /` (and a list of
  // them to `/pipeline` and `/multi-exec`): `["GET","k"]` and `["FLUSHALL"]` share one URL.
  if (d.request.host.endsWith('.upstash.io') && Array.isArray(d.request.body?.json)) {
    const body = d.request.body.json as unknown[];
    const commands = body.every(Array.isArray) ? (body as unknown[][]) : [body];
    for (const c of commands.slice(0, 100)) {
      const command = typeof c[0] === 'string' ? c[0].toLowerCase() : '?';
      items.add(`rpc:redis:${command}`);
      // The key it acts on (a grant for `SET user:1:name` is not one for `SET config:admin`); the
      // arguments whole where several keys or a script are named (`DEL a b`, `MSET`, `EVAL`).
      if (c.length > 1) items.add(`rpc:redis:${command}:${multiKeyCommands.has(command) || typeof c[1] !== 'string' ? valueDigest(c.slice(1)) : namedValue(c[1])}`);
    }
    if (commands.length > 100) items.add('rpc:redis:?');
  }
  // Hasura's schema and metadata APIs (`/v2/query`, `/v1/query`, `/v1/metadata`) take every
  // operation as `{type, args}` to one URL: `select` and `delete` (every row of a table),
  // `replace_metadata`, `pg_drop_source` … and a `bulk` of them.
  for (const t of envelopeTypes(d.request.body?.json)) items.add(`rpc:type:${t}`);
  if (d.sql) {
    if (!d.sql.parsed) items.add('sql:unparsed');
    for (const item of sqlItems(d.sql.statements, `${d.request.url} ${d.request.body?.sha256 ?? ''}`)) items.add(item);
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
      // An update of a ref's history its pack does not prove a fast-forward may be a force push
      // (the same command line): approved one at a time, never by a grant for a push (fifteenth pass).
      if (Array.isArray((s.params as { unproven_updates?: unknown }).unproven_updates)) items.add('git:fast-forward-unproven');
      // Push options run server hooks (GitLab opens and merges merge requests, sets CI variables):
      // a grant for a plain push to a branch does not cover one that also asks to merge it.
      const options = (s.params as { push_options?: unknown }).push_options;
      if (Array.isArray(options)) for (const o of options) items.add(`git:push-option:${namedValue(String(o))}`);
    }
  }
  return [...items].sort();
}

/** Redis commands that name several keys, or run a script over keys, in their arguments. */
const multiKeyCommands = new Set(['del', 'unlink', 'mset', 'msetnx', 'mget', 'exists', 'touch', 'rename', 'renamenx', 'copy', 'smove', 'lmove', 'blmove', 'rpoplpush', 'sunionstore', 'sinterstore', 'sdiffstore', 'zunionstore', 'zinterstore', 'zdiffstore', 'bitop', 'pfmerge', 'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'migrate', 'object', 'sort', 'watch']);

/**
 * Parameter names by which RPC-style APIs choose the operation on one URL: MediaWiki's
 * `action=edit` or `action=delete` (query or form), Flickr's `method=`, `op=`/`cmd=` APIs, and the
 * `method` of a JSON-RPC 1.0 call (`{"method": "sendtoaddress", …}`: no `jsonrpc` member, so not
 * read as MCP). AWS's `Action` has its own item above.
 */
// `handler`: ASP.NET Core Razor Pages run the page's `On{Verb}{Handler}` method it names (`?handler=Delete`).
// (Sixteenth pass) Front controllers that route by a parameter: Yii's `r=post/delete`, `route=`,
// Joomla's `option=com_users&task=user.delete`, DokuWiki's `do=`, `act=`, `func=`, `function=`,
// `controller=`, Remix's `intent` and `_action` buttons, ASP.NET Web Forms' `__EVENTTARGET` (the
// control whose postback runs) and `__EVENTARGUMENT` (its row or command).
const operationParams = new Set(['action', 'method', 'op', 'operation', 'cmd', 'command', 'handler',
  'r', 'route', 'task', 'do', 'act', 'func', 'fn', 'function', 'option', 'controller', 'intent', '_action', '__eventtarget', '__eventargument']);
/** Values named this way that a request may carry; past it the list is `?` (no grant). */
const MAX_NAMED_OPERATIONS = 100;

function namedValue(v: string): string {
  return v.length <= 100 && !/[\s=]/.test(v) ? v : `sha256-${createHash('sha256').update(v).digest('hex').slice(0, 32)}`;
}

/**
 * `rpc:param:<name>=<value>` for each operation a parameter, JSON member or XML-RPC `<methodName>`
 * names, on a host no service module describes (a service's own operation says what it does; a
 * PostgREST column named `action` is data, not an operation).
 */
function namedOperations(d: RequestDescription): string[] {
  if (d.service) return [];
  const out = new Set<string>();
  const add = (name: string, v: unknown): void => {
    out.add(out.size >= MAX_NAMED_OPERATIONS ? 'rpc:param:?' : `rpc:param:${name}=${typeof v === 'string' ? namedValue(v) : '?'}`);
  };
  for (const source of [d.request.query ?? {}, d.request.body?.form ?? {}]) {
    for (const [k, vs] of Object.entries(source)) {
      if (k === 'Action') continue;
      // Under the name PHP or Rack 2 registers (` action`, `action%00x`, `[action]` are `action`
      // there, and the last one runs): a grant for `action=edit` does not cover a second action.
      for (const name of parameterNames(k)) if (operationParams.has(name.toLowerCase())) for (const v of vs) add(name.toLowerCase(), v);
    }
  }
  const json = d.request.body?.json;
  const objects = Array.isArray(json) ? json.slice(0, MAX_NAMED_OPERATIONS) : [json];
  for (const o of objects) {
    // A JSON-RPC 2.0 message is described as one (`mcp:` items above); any other `jsonrpc` value
    // (Bitcoin Core's documented `"jsonrpc": "1.0"`) is not, and such servers run its `method` all the same.
    if (!o || typeof o !== 'object' || Array.isArray(o) || (o as { jsonrpc?: unknown }).jsonrpc === '2.0') continue;
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (operationParams.has(k.toLowerCase()) && (typeof v === 'string' || typeof v === 'number')) add(k.toLowerCase(), String(v));
    }
  }
  if (Array.isArray(json) && json.length > MAX_NAMED_OPERATIONS) out.add('rpc:param:?');
  // JMAP (Fastmail …): `{methodCalls: [["Email/query", {…}, "c1"], ["EmailSubmission/set", …]]}` to
  // one URL: reading mail and sending it are calls in the body.
  const calls = json && typeof json === 'object' && !Array.isArray(json) ? (json as { methodCalls?: unknown }).methodCalls : undefined;
  if (Array.isArray(calls)) {
    for (const c of calls.slice(0, MAX_NAMED_OPERATIONS)) out.add(`rpc:jmap:${Array.isArray(c) && typeof c[0] === 'string' ? namedValue(c[0]) : '?'}`);
    if (calls.length > MAX_NAMED_OPERATIONS) out.add('rpc:param:?');
  }
  // Elasticsearch/OpenSearch `_bulk` (NDJSON): each action line's verb (`index`, `create`,
  // `update`, `delete`); a body the preview cut is `?`.
  if (d.request.path.endsWith('/_bulk') || d.request.path === '/_bulk') for (const item of bulkActions(d)) out.add(item);
  // Batch envelopes: each call a body carries as `{method, url}` (Microsoft Graph's `$batch`,
  // Salesforce's composite, a bare array), or a form's JSON list of them (Facebook's `batch=`).
  batchCalls(json, out);
  for (const item of typedOperations(json)) out.add(item);
  for (const [, values] of formEntries(d.request.body?.form ?? {})) {
    for (const v of values) {
      if (!v.startsWith('[')) continue;
      try {
        batchCalls(JSON.parse(v), out);
      } catch {
        // not JSON: no calls
      }
    }
  }
  // XML-RPC, whatever the Content-Type (Python's xmlrpc.server and WordPress's xmlrpc.php read the
  // raw body): the call's `<methodName>`s and a `system.multicall`'s calls; a body the preview cut
  // may hold more (another `<methodName>`, which runs instead; more batched calls): `?`.
  const text = d.request.body?.text;
  if (text !== undefined && isXmlRpc(text)) {
    for (const m of xmlRpcMethods(text)) if (m === '?') out.add('rpc:param:?');
    else add('methodname', m);
    if (d.request.body?.text_truncated) out.add('rpc:param:?');
  }
  return [...out];
}

/** The `rpc:bulk:<verb>` items of an Elasticsearch `_bulk` body, read line by line (action lines are objects of one key). */
function bulkActions(d: RequestDescription): string[] {
  const text = d.request.body?.text;
  if (text === undefined) return d.request.body?.json !== undefined || (d.request.body?.size ?? 0) > 0 ? ['rpc:bulk:?'] : [];
  if (d.request.body?.text_truncated) return ['rpc:bulk:?'];
  // A list: each action once per line (counted below), with the document it names (twenty-second pass).
  const out: string[] = [];
  let expectSource = false;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (expectSource) {
      expectSource = false;
      continue;
    }
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      return ['rpc:bulk:?'];
    }
    const keys = o && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o) : [];
    if (keys.length !== 1) return ['rpc:bulk:?'];
    // The index an action line names (`/_bulk` takes any): a grant for deleting in `logs` is not one for `users`.
    const meta = (o as Record<string, unknown>)[keys[0]!];
    const index = meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as { _index?: unknown })._index : undefined;
    // And the document (twenty-second pass): a grant for deleting document 1 covers no other document,
    // one for indexing one new document no thousand (counted).
    const id = meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as { _id?: unknown })._id : undefined;
    const named = (v: unknown): string => (typeof v === 'string' ? namedValue(v) : typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : '?');
    out.push(`rpc:bulk:${namedValue(keys[0]!)}${index === undefined ? '' : `:${named(index)}`}${id === undefined ? '' : `:_id=${named(id)}`}`);
    // Every verb but `delete` is followed by its document (or partial document) line.
    expectSource = keys[0] !== 'delete';
    if (out.length > MAX_NAMED_OPERATIONS) return ['rpc:bulk:?'];
  }
  return counted(out);
}

/** Members (folded) holding a list of operations, each an object named by its keys (and JSON:API's atomic operations). */
const operationLists = new Set(['requests', 'writes', 'operations', 'mutations', 'actions', 'commands', 'ops', 'transactitems', 'steps', 'changes', 'atomic:operations']);

/**
 * `rpc:op:<keys>` for each operation of a batch whose members are typed by their keys rather than
 * a `{method, url}`: Google's `batchUpdate` (`{requests: [{updateCells: …}, {deleteSheet: …}]}`:
 * Sheets, Docs, Slides, Forms), Firestore's `commit`/`batchWrite` (`{writes: [{update: …},
 * {delete: "…"}]}`). One URL runs every kind, so a grant for a batch of edits does not cover one
 * that deletes. Past 100 operations `rpc:param:?` (no grant).
 */
function typedOperations(json: unknown): string[] {
  if (!json || typeof json !== 'object') return [];
  const lists: unknown[][] = [];
  // A JSON Patch (RFC 6902: `[{op: "remove", path: "/metadata/finalizers"}]`, Kubernetes, Azure
  // DevOps): each operation is its `op` at its `path`.
  if (Array.isArray(json)) {
    if (json.length && json.every((m) => m && typeof m === 'object' && typeof (m as { op?: unknown }).op === 'string')) lists.push(json);
  } else {
    for (const [k, list] of Object.entries(json as Record<string, unknown>)) if (Array.isArray(list) && operationLists.has(k.toLowerCase())) lists.push(list);
  }
  const out = new Set<string>();
  for (const list of lists) {
    for (const m of list) {
      if (!m || typeof m !== 'object' || Array.isArray(m)) continue;
      if (out.size >= MAX_NAMED_OPERATIONS) return ['rpc:param:?'];
      // What it does and where, when the operation says so itself: JSON Patch's and JSON:API's `op`
      // with its `path` or `ref` (`{op: "remove", ref: {type: "articles", id: "1"}}`).
      const o = m as Record<string, unknown>;
      const op = typeof o.op === 'string' ? `:${namedValue(o.op)}` : '';
      const at = typeof o.path === 'string' ? `:${namedValue(o.path)}` : o.ref !== undefined ? `:${digest(JSON.stringify(o.ref) ?? '')}` : '';
      out.add(`rpc:op:${namedValue(Object.keys(o).sort().join('+'))}${op}${at}`);
    }
  }
  return [...out];
}

/** Members that name a batched call's target: Graph `url`, Facebook `relative_url`, others `path` … (folded). */
const callTargets = ['url', 'relative_url', 'relativeurl', 'path', 'uri', 'href'];
/** Case folding as Go's EqualFold compares (upper then lower: `ſ` is `s`, the Kelvin sign `k`). */
const fold = (key: string): string => key.toUpperCase().toLowerCase();

/**
 * A batched call's member as a server binding JSON without letter case reads it (Go's
 * encoding/json, ASP.NET Core's web defaults, Jackson set to): `Url`, `URL` and `url` are one
 * member. Several spellings of one member holding different values: `?` (which runs is the server's choice).
 */
function member(o: Record<string, unknown>, name: string): unknown {
  let found: unknown;
  let seen = false;
  for (const [k, v] of Object.entries(o)) {
    if (fold(k) !== name) continue;
    if (seen && JSON.stringify(v) !== JSON.stringify(found)) return '?';
    found = v;
    seen = true;
  }
  return found;
}
/** Batched calls read at most; past it the batch is `rpc:call:?` (no grant). */
const MAX_BATCH_CALLS = 100;

/**
 * `rpc:call:<METHOD>:<target>[:<body digest>]` for each `{method, url}` object of a batch envelope
 * (the body's array, or an array under one of its members): one URL that runs any call it lists, so
 * a grant for a batch of reads does not cover a batch that deletes or sends.
 */
function batchCalls(json: unknown, out: Set<string>): void {
  const lists = Array.isArray(json) ? [json] : json && typeof json === 'object' ? Object.values(json as Record<string, unknown>).filter(Array.isArray) : [];
  let calls = 0;
  for (const list of lists) {
    for (const m of list as unknown[]) {
      if (!m || typeof m !== 'object' || Array.isArray(m)) continue;
      const o = m as Record<string, unknown>;
      const target = callTargets.map((k) => member(o, k)).find((v): v is string => typeof v === 'string');
      const method = member(o, 'method');
      if (typeof method !== 'string' || target === undefined) continue;
      if (++calls > MAX_BATCH_CALLS) {
        out.add('rpc:call:?');
        return;
      }
      // A call's own body (Graph's `body`, Facebook's `body`) says what it sends, and to whom.
      const callBody = member(o, 'body');
      if (inexactNumber(callBody)) {
        out.add('number:inexact');
        continue;
      }
      const body = callBody === undefined ? '' : `:sha256-${createHash('sha256').update(JSON.stringify(callBody) ?? '').digest('hex').slice(0, 32)}`;
      out.add(`rpc:call:${namedValue(method.toUpperCase())}:${namedValue(target)}${body}`);
    }
  }
}

/**
 * `rpc:call:<METHOD>:<target>:<digest of the call's headers and body>` for each `application/http`
 * part of a multipart batch (OData's `$batch`: SharePoint, Dynamics, SAP; Google's batch
 * endpoints), the multipart twin of the JSON envelopes above: one URL that runs any call it lists.
 * The calls of an OData change set (a multipart inside a part) count too. A batch not seen whole,
 * with several boundaries, nested deeper, or a part that is no readable call is `rpc:call:?` (no
 * grant). Not a batch of calls: none.
 */
function multipartCalls(d: RequestDescription): string[] {
  const type = (d.request.headers?.['content-type'] ?? []).find((h) => /^\s*multipart\//i.test(h));
  const text = d.request.body?.text;
  if (type === undefined || text === undefined || !/application\/http/i.test(text)) return [];
  if (d.request.body?.text_truncated || d.request.body?.truncated) return ['rpc:call:?'];
  // A list: the same call twice runs twice (counted; twenty-second pass).
  const out: string[] = [];
  return batchParts(text, type, 0, out) ? counted(out) : ['rpc:call:?'];
}

/** Adds the calls of one multipart level to `out`; false when a part cannot be read as a call. */
function batchParts(text: string, type: string, depth: number, out: string[]): boolean {
  const boundaries = multipartBoundaries(type);
  if (boundaries.length !== 1 || depth > 1) return false;
  const parts = delimitedParts(text, boundaries[0]!);
  if (!parts || parts.length > MAX_BATCH_CALLS) return false;
  for (const part of parts) {
    const body = part.replace(/^[ \t]*\r?\n/, '');
    const blank = /\r?\n\r?\n/.exec(body);
    if (!blank) return false;
    const outer = body.slice(0, blank.index);
    const inner = body.slice(blank.index + blank[0].length);
    const nested = /^content-type:[ \t]*(multipart\/[^\r\n]*)/im.exec(outer);
    if (nested) {
      if (!batchParts(inner, nested[1]!, depth + 1, out)) return false;
      continue;
    }
    if (!/^content-type:[ \t]*application\/http[ \t]*(;|$)/im.test(outer)) return false;
    const call = inner.replace(/^(\r?\n)+/, '');
    const nl = call.indexOf('\n');
    const line = /^([A-Za-z-]{1,16})[ \t]+(\S+)/.exec((nl < 0 ? call : call.slice(0, nl)).trim());
    if (!line || out.length >= MAX_BATCH_CALLS) return false;
    out.push(`rpc:call:${namedValue(line[1]!.toUpperCase())}:${namedValue(line[2]!)}:${digest(nl < 0 ? '' : call.slice(nl + 1))}`);
  }
  return true;
}

/** The `action` parameters of SOAP 1.2 Content-Types, read split on every `;` and with quoted strings (servers do either). */
function soapTypeActions(types: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of types.slice(0, 8)) {
    if (!t.toLowerCase().includes('action')) continue;
    for (const p of t.split(';').slice(1)) {
      const eq = p.indexOf('=');
      if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'action') out.add(namedValue(p.slice(eq + 1).trim().replace(/^"|"$/g, '')));
    }
    for (const [name, v] of quotedParams(t)) if (name === 'action') out.add(namedValue(v));
  }
  return [...out];
}

/**
 * The local name of the first element in a SOAP Envelope's Body (`<soap:Body><m:DeleteAccount>` is
 * `DeleteAccount`): the operation servers dispatch by when no action names it. `?` when the text is
 * an Envelope whose Body the preview cut off; undefined when it is no Envelope. One pass over
 * the text's tags (comments, processing instructions and CDATA skipped).
 */
function soapBodyElement(d: RequestDescription): string | undefined {
  const text = d.request.body?.text;
  if (text === undefined || !/xml/i.test(d.request.body?.content_type ?? '') || !text.includes('Envelope')) return undefined;
  let envelope = false;
  let inBody = false;
  // The text ended: an Envelope without a Body, or one the preview cut before it (`?`: no grant).
  const unread = (): string | undefined => (!envelope ? undefined : d.request.body?.text_truncated ? '?' : '(none)');
  for (let i = 0; ; ) {
    const lt = text.indexOf('<', i);
    if (lt < 0) return unread();
    const skip = text.startsWith('<!--', lt) ? '-->' : text.startsWith('<![CDATA[', lt) ? ']]>' : text.startsWith('<?', lt) ? '?>' : text.startsWith('<!', lt) ? '>' : undefined;
    if (skip) {
      const end = text.indexOf(skip, lt + 2);
      if (end < 0) return unread();
      i = end + skip.length;
      continue;
    }
    if (text[lt + 1] === '/') {
      if (inBody) return '(empty)'; // `</Body>` before any element
      i = lt + 2;
      continue;
    }
    let j = lt + 1;
    while (j < text.length && !' \t\r\n/>'.includes(text[j]!)) j++;
    const name = text.slice(lt + 1, j);
    const local = name.slice(name.indexOf(':') + 1);
    if (inBody) return local ? namedValue(local) : '?';
    const gt = text.indexOf('>', j);
    if (gt < 0) return unread();
    if (local === 'Envelope') envelope = true;
    else if (local === 'Body' && envelope) {
      if (text[gt - 1] === '/') return '(empty)';
      inBody = true;
    }
    i = gt + 1;
  }
}

/** Operations one `{type, args}` body may carry at most; past it the list is `?` (no grant). */
const MAX_ENVELOPE_TYPES = 100;

/**
 * The operation types of a `{type, args}` envelope (Hasura), `bulk`/`concurrent_bulk` members
 * included; none when the body is not one.
 */
function envelopeTypes(body: unknown): string[] {
  const out = new Set<string>();
  let seen = 0;
  const walk = (q: unknown, depth: number): void => {
    if (!q || typeof q !== 'object' || Array.isArray(q)) return;
    const { type, args } = q as { type?: unknown; args?: unknown };
    if (typeof type !== 'string' || !('args' in (q as object))) return;
    if (++seen > MAX_ENVELOPE_TYPES || depth > 8) {
      out.add('?');
      return;
    }
    out.add(type);
    if ((type === 'bulk' || type === 'concurrent_bulk' || type === 'bulk_keep_going') && Array.isArray(args)) for (const a of args) walk(a, depth + 1);
  };
  walk(body, 0);
  return [...out];
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
const opaqueItems = new Set(['number:inexact', 'rpc:bulk:?', 'rpc:jmap:?', 'graphql:unparsed', 'sql:unparsed', 'git:commands-unseen', 'git:commands-incomplete', 'git:fast-forward-unproven', 'method:ambiguous', 'body:ambiguous', 'path:rewritten', 'rpc:redis:?', 'rpc:type:?', 'rpc:param:?', 'rpc:soap-body:?', 'rpc:call:?']);


export function opaqueScope(scope: readonly string[]): string[] {
  return scope.filter((i) => opaqueItems.has(i));
}

/**
 * Service parameters that say where a request acts — a repository, an organization, a channel, a
 * project, a table, an account or zone, a mailbox — as opposed to which object it touches. A human
 * who allowed "similar" comments on acme/widgets did not allow comments on someone else's public
 * repository, nor messages to another channel, nor updates to another table, nor mail to other
 * people. GraphQL names the place by node id (`node_ids`: the issue, pull request or repository a
 * mutation's input names); a mail send by its recipients, a Gmail watch by the topic it publishes to.
 */
const targetParams = [
  'owner', 'repo', 'org', 'channel', 'channels', 'project', 'endpoint', 'schema', 'table', 'function', 'account_id', 'zone_id',
  'project_id', 'project_name', 'database_id', 'namespace_id', 'bucket', 'bucket_name', 'script_name', 'user_id', 'node_ids',
  'recipients', 'webhook', 'stripe_account', 'repository_id', 'organization_id', 'topic',
  // A Gmail send's Reply-To, From and other reply paths (twenty-third pass).
  'reply_paths',
  // The MCP servers and links a model provider reaches for a call (openai.ts `remoteTargets`).
  'remote_targets',
  // The branch a GitHub file write lands on, the ref a GitHub ref creation makes.
  'branch',
  // The account a GitHub fork or template copy is made in.
  'destination',
  // A Cloudflare DNS record edited (an edit that does not name the type may be of an MX record).
  'dns_record_id',
  // A GitHub Actions run started: which workflow, which event type, with which inputs.
  'workflow_id', 'event_type', 'inputs',
  // Who can read what a GitHub request creates (a repository, a gist), and a release's tag and
  // whether it is published.
  'visibility', 'tag', 'draft',
  // What a GitHub merge brings in, and the environment a deployment goes to.
  'merge_head', 'environment',
  // The object a Stripe send publishes or emails (a file behind a public link, an invoice), the
  // objects a Supabase signed URL publishes.
  'sends', 'objects',
  // Where a sign-in or reset link leads (Supabase Auth's `redirect_to`).
  'redirect_to',
  // A DNS record's name, type and content (where the name points).
  'dns_name', 'dns_type', 'dns_content',
  // The Telegram chat a bot's call acts in, and the chat a forward or copy takes its message from.
  'chat_id', 'from_chat_id', 'business_connection_id',
  // A gist and a team are audiences of their own, outside any repository (fourteenth pass): a
  // comment on the team's gist does not cover one on an outsider's public gist, nor a discussion
  // in one team a post to another.
  'gist_id', 'team_slug', 'team_id',
  // The GitHub Actions run a re-run or cancel acts on: a re-run runs that run's workflow at its ref
  // with its environments' secrets, so a re-run of a test run does not cover a deploy's.
  'run_id',
  // Whom or what a path names beside the place (fifteenth pass): the user a collaborator, member,
  // team membership or block is for (GitHub `{username}`), which secret or environment is written,
  // which webhook is edited, a Neon role whose password is reset or revealed, a database, a branch,
  // an organization, a KV key: a grant for adding `alice` does not cover adding anyone.
  'username', 'secret_name', 'environment_name', 'hook_id', 'role_name', 'database_name', 'branch_id', 'org_id', 'key_name', 'permission_id',
];

/** A target value `?`: the place is not in the request, so no grant can show it is the same. */
export function opaqueTarget(target: string): boolean {
  return /[=,]\?(;|,|\)|\||$)/.test(target);
}

/**
 * Where the tool calls of an MCP request act: per call, the tool and its place arguments, at any
 * depth (bounded) and inside lists of objects (`{messages: [{to}]}`: each message's recipient).
 * A tools/call always has one, empty when it names no place, so a grant for a call without a
 * recipient does not cover one with a recipient.
 */
function mcpTarget(d: RequestDescription): string | undefined {
  if (!d.mcp) return undefined;
  const calls = (d.mcp.batch ?? [d.mcp]).filter((c) => c.method === 'tools/call');
  if (calls.length === 0) return undefined;
  if (calls.length > MAX_MCP_PLACES) return 'mcp:calls=?';
  // A list, not a set: the same call twice in a batch runs twice (counted below; twenty-second pass).
  const out: string[] = [];
  const budget = { nodes: 0 };
  for (const c of calls) {
    // A string argument holding JSON (a generic tool's `body: "{\"to\": …}"`) is read as the tool reads it (fourteenth pass).
    // A bulk delete or update (`delete_many`) acts on what its filter selects (eighteenth pass).
    const places = argumentPlaces(c.arguments, budget, false, typeof c.tool === 'string' && bulkCall(c.tool) ? selectionArguments : undefined, true);
    if (places === undefined) return 'mcp:places=?';
    // A tool that changes what it names (`update_user`, `patch_record`): which fields it sets, as a PATCH's (twenty-second pass).
    const fields = typeof c.tool === 'string' && bulkCall(c.tool) && c.arguments && typeof c.arguments === 'object' && !Array.isArray(c.arguments) ? `;(fields)=${digest(JSON.stringify(Object.keys(c.arguments).sort()))}` : '';
    // A tool that deletes, changes, sends, pays or grants: every argument naming its object (twenty-second pass, follow-up).
    // (Twenty-third pass: or whose arguments name such a verb, `pods {action: "delete", pod}`.)
    const acted = typeof c.tool === 'string' && (actsOnObject(c.tool) || actsByArgument(c.arguments) || setsByArgument(c.tool, c.arguments)) ? objectArguments(c.arguments, c.tool) : [];
    if (acted === undefined) return 'mcp:places=?';
    // (And a bare id in any call but a read's: `create_item {id: 6}` upserts item 6; twenty-third pass.)
    const objects = [...new Set([...acted, ...bareIdArguments(c.arguments, typeof c.tool === 'string' ? c.tool : '')])].sort();
    out.push(`${placeValue(c.tool ?? '?')}(${withObjects(places, objects)}${fields})`);
  }
  // `params._meta`, which the SDKs hand to the tool's handler beside its arguments (nineteenth
  // pass): a `dryRun`, an account or a callback named there is the call's as much (a progress token aside).
  const json = d.request.body?.json;
  for (const m of Array.isArray(json) ? json.slice(0, MAX_MCP_PLACES) : [json]) {
    const params = m && typeof m === 'object' && !Array.isArray(m) && (m as Record<string, unknown>).method === 'tools/call' ? (m as Record<string, unknown>).params : undefined;
    const meta = params && typeof params === 'object' ? (params as Record<string, unknown>)._meta : undefined;
    if (!meta || typeof meta !== 'object' || Array.isArray(meta)) continue;
    const { progressToken: _p, ...rest } = meta as Record<string, unknown>;
    const places = argumentPlaces(rest, budget, false, undefined, true);
    if (places === undefined) return 'mcp:places=?';
    if (places) out.push(`_meta(${places})`);
  }
  return `mcp:${counted(out).join(';')}`;
}

/**
 * Where the JSON-RPC calls of a body that are no MCP tool call act (`eth_sendTransaction`,
 * Bitcoin Core's JSON-RPC 1.0 `sendtoaddress`, any method a server names): the call's `params` are
 * its arguments, as a tool call's are. Named params give their place arguments; positional ones
 * (`["bc1q…", 0.5]`, `[{to, value}]`) name nothing a reader can tell apart, so the call is placed by
 * their digest: a grant for one transfer covers that transfer again, not one to another address.
 * JSON-RPC 1.0 (no `jsonrpc` member) only on a host no service module describes, as its
 * `rpc:param:method=` item.
 */
function rpcCallsTarget(d: RequestDescription): string | undefined {
  const json = d.request.body?.json;
  const messages = Array.isArray(json) ? json : [json];
  // A list: the same call twice in a batch runs twice (counted; twenty-second pass).
  const out: string[] = [];
  const budget = { nodes: 0 };
  let calls = 0;
  for (const m of messages) {
    if (!m || typeof m !== 'object' || Array.isArray(m)) continue;
    const o = m as Record<string, unknown>;
    if (typeof o.method !== 'string' || o.method === 'tools/call') continue;
    if (o.jsonrpc !== '2.0' && d.service) continue;
    if (++calls > MAX_MCP_PLACES) return 'rpc:calls=?';
    const params = o.params;
    const places = params === undefined || params === null ? '' : Array.isArray(params) ? `params=${valueDigest(params)}` : argumentPlaces(params, budget, false, undefined, true);
    if (places === undefined) return 'rpc:places=?';
    // A method that deletes, changes, sends, pays or grants: its named params name the object (twenty-second pass, follow-up).
    const acted = (actsOnObject(o.method) || actsByArgument(params) || setsByArgument(o.method, params)) && params && typeof params === 'object' && !Array.isArray(params) ? objectArguments(params, o.method) : [];
    if (acted === undefined) return 'rpc:places=?';
    const objects = [...new Set([...acted, ...bareIdArguments(params, o.method)])].sort();
    out.push(`${placeValue(o.method)}(${withObjects(places, objects)})`);
  }
  // One URL for every call, the arguments in the body: JMAP's `methodCalls` (`EmailSubmission/set`
  // with its `envelope.rcptTo`, `emailId`) and Hasura's `{type, args}` (`delete` with its `table`,
  // a `bulk`'s members), placed by their arguments' places and ids, on a host no module describes.
  const body = !d.service && json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  const add = (name: unknown, args: unknown): boolean => {
    if (++calls > MAX_MCP_PLACES) return false;
    const places = argumentPlaces(args, budget, true);
    if (places === undefined) return false;
    out.push(`${typeof name === 'string' ? placeValue(name) : '?'}(${places})`);
    return true;
  };
  if (Array.isArray(body?.methodCalls)) {
    for (const c of body.methodCalls as unknown[]) if (!add(Array.isArray(c) ? c[0] : undefined, Array.isArray(c) ? c[1] : undefined)) return 'rpc:calls=?';
  }
  const envelope = (q: unknown, depth: number): boolean => {
    if (!q || typeof q !== 'object' || Array.isArray(q) || !('args' in q)) return true;
    const { type, args } = q as { type?: unknown; args?: unknown };
    if (typeof type !== 'string') return true;
    if ((type === 'bulk' || type === 'concurrent_bulk' || type === 'bulk_keep_going') && Array.isArray(args)) return depth < 8 && args.every((a) => envelope(a, depth + 1));
    return add(type, args);
  };
  if (body && !envelope(body, 0)) return 'rpc:calls=?';
  return out.length ? `rpc:${counted(out).join(';')}` : undefined;
}

/**
 * Words of a header name (by the server key CGI reads: `X_Remote_User` is `x-remote-user`) that say
 * whom the request acts as (fourteenth pass): an auth proxy's user headers, which the app behind it
 * trusts (Grafana's and Gitea's `X-WEBAUTH-USER`, oauth2-proxy's `X-Forwarded-User`/`-Email`,
 * `X-Auth-Request-User`, `Remote-User`, Kubernetes' front proxy `X-Remote-User`/`-Group`),
 * Discourse's `Api-Username`, Google's `X-Goog-AuthUser`, `X-Impersonate-User`, `X-Run-As`,
 * `X-On-Behalf-Of`, `X-User-Role`. `User-Agent` and `Sec-Fetch-User` say nothing of it.
 */
const identityWords = new Set([...actingWords, 'user', 'username', 'userid', 'email', 'login', 'group', 'groups', 'role', 'roles', 'principal', 'identity', 'actor', 'uid']);
const notIdentityHeaders = new Set(['user-agent', 'sec-fetch-user', 'x-csrf-token']);

/** A header `actingAs` reads (compared in the target's `|as:`, not again as a place or an effect). */
function actingHeader(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('x-hasura-') || n.startsWith('impersonate-') || n === 'sudo' || identityHeader(n);
}

function identityHeader(name: string): boolean {
  const key = serverHeaderKey(name);
  return !notIdentityHeaders.has(key) && (key.split('-').some((w) => identityWords.has(w)) || key.includes('run-as'));
}

/** Headers that carry a credential choosing the identity: present or not, never their value. */
const actingCredentials = new Set(['x-hasura-admin-secret', 'x-hasura-access-key']);

/**
 * Whom a request acts as, where the request chooses it beside its credential: Hasura's
 * `X-Hasura-Role` and session variables (`X-Hasura-User-Id` …, which its permissions' row filters
 * read; with the admin secret and no role the request is admin), Kubernetes' `Impersonate-User`,
 * `-Group`, `-Uid`, `-Extra-*`, GitLab's `Sudo` header or `sudo` parameter. The same GraphQL text
 * or path does more under another role or user, and the same with the header left out may be the
 * admin: a grant covers the same identity only (`as:` in the target, compared whole).
 */
function actingAs(d: RequestDescription): string | undefined {
  const out: string[] = [];
  for (const [name, values] of Object.entries(d.request.headers ?? {})) {
    const n = name.toLowerCase();
    if (!actingHeader(n)) continue;
    // A credential header is the agent's own credentials (request.own_credentials), compared there.
    if (!actingCredentials.has(n) && values.some((v) => v.endsWith('[redacted]'))) continue;
    out.push(actingCredentials.has(n) ? n : `${n}=${placeValue(values)}`);
  }
  for (const [k, vs] of Object.entries(d.request.query ?? {})) {
    if (parameterNames(k).some((n) => n.toLowerCase() === 'sudo')) out.push(`sudo=${placeValue(vs)}`);
  }
  return out.length ? out.sort().join(';') : undefined;
}

/** Where a request acts (`github:owner=acme;repo=widgets`), or undefined when its service names no such place. */
export function grantTarget(d: RequestDescription): string | undefined {
  const as = actingAs(d);
  const place = placeTarget(d);
  return as === undefined ? place : `${place ?? ''}|as:${as}`;
}

/** Scope items of an operation named outside the path on one URL (AWS, SOAP, Next.js actions, `action=`/`method=`/`cmd=` APIs). */
const namedRpc = /^rpc:(x-amz-target|action|soapaction|next-action|param):/;

/**
 * Where a request on a host no service module describes acts, read from its arguments (query, form
 * and JSON): a path grant there names a URL, and many APIs name whom they reach in the arguments,
 * not the path — Twilio's `To=`, a Mattermost post's `channel_id`, a mail API's `to`, `?url=` of a
 * renderer. A grant for a message to the team's channel covers no other channel (the place words of
 * MCP arguments; a request naming none keeps no target, as before). An RPC call whose operation is
 * named outside the path runs through one URL, so its ids are places too, as a REST path's would
 * be: a grant for EC2's `TerminateInstances` of `InstanceId.1=i-scratch` does not cover `i-prod-db`,
 * one for SQS `SendMessage` to the team's `QueueUrl` not a queue of another account, MediaWiki's
 * `emailuser` to one `target` not another, nor its `edit` of one `title` another page. XML-RPC's
 * params and a SOAP Body are placed by their digest (positional, or elements no word names).
 * MCP, JSON-RPC and GraphQL bodies are placed by their own readers (rpcCallsTarget, mcpTarget).
 */
function argumentsTarget(d: RequestDescription): string | undefined {
  if (d.service && d.service.operation !== 'unknown') return undefined;
  const named = !d.service && operationScope(d).some((i) => namedRpc.test(i) || i.startsWith('rpc:soap-body:'));
  // Their bodies are placed by their own readers; a tenant header is theirs too.
  if (!named && (d.mcp || d.graphql)) {
    const heads = [...placeHeaders(d), ...(d.mcp ? endpointQuery(d) : [])];
    return heads.length ? `args(${heads.sort().join(';')})` : undefined;
  }
  const body = d.request.body?.json;
  let json: unknown = body;
  // A JSON-RPC 1.0 envelope: its `id` matches the answer to the call (a client counts it up), its
  // `params` are placed by rpcCallsTarget.
  if (named && body && typeof body === 'object' && !Array.isArray(body)) {
    const o = body as Record<string, unknown>;
    if (typeof o.method === 'string' && ('params' in o || 'jsonrpc' in o)) {
      const { id: _id, jsonrpc: _v, method: _m, params: _p, ...rest } = o;
      json = rest;
    }
  }
  // Read as the servers that read most: `;` splits a query or form too (Rack 2, older Python and
  // Go), a field holding JSON is parsed, an XML body's elements and attributes are fields.
  const args: Record<string, unknown> = { query: formWithSemicolonSplit(d.request.query ?? {}), form: formWithSemicolonSplit(d.request.body?.form ?? {}), json: json ?? {} };
  const text = d.request.body?.text;
  // Rack reads a POST without a Content-Type as a form (Rails, Sinatra): its fields are its arguments.
  if (d.request.method === 'POST' && !(d.request.headers?.['content-type'] ?? []).some((h) => h.trim()) && d.request.body?.form === undefined && d.request.body?.json === undefined && text?.includes('=')) {
    if (d.request.body?.text_truncated) return 'args(form=?)';
    args.form = formWithSemicolonSplit(multiMap(new URLSearchParams(text)));
  }
  const xmlRpc = text !== undefined && isXmlRpc(text);
  const soap = !xmlRpc && text !== undefined && soapBodyElement(d) !== undefined;
  if (!named && !xmlRpc && !soap && text !== undefined && isXmlText(d)) {
    const fields = d.request.body?.text_truncated ? undefined : xmlFields(text);
    if (fields === undefined) return 'args(xml=?)';
    args.xml = fields;
  }
  // Path parameters (`/api/send;to=…`: Spring's matrix variables, JAX-RS `@MatrixParam`) and
  // headers that name whose tenant, account or project a call acts in (`X-Tenant-Id`, `X-Org`).
  const matrix = matrixParams(d.request.path);
  if (matrix) args.matrix = matrix;
  // A bulk delete or update (a DELETE, PUT or PATCH, or a path saying so: `/action/deleteMany`,
  // `/bulk_delete`) acts on what its filter selects: `filter: {}` is every document (eighteenth pass).
  const method = (d.request.effective_method ?? d.request.method).toUpperCase();
  const bulk = method === 'DELETE' || method === 'PUT' || method === 'PATCH' || d.request.path.split('/').slice(-3).some((s) => bulkCall(safeDecode(s)));
  const extra = named ? (bulk ? new Set([...pageArguments, ...selectionArguments]) : pageArguments) : bulk ? selectionArguments : undefined;
  const read = argumentPlaces(args, { nodes: 0 }, named, extra, true);
  const heads = named ? [...placeHeaders(d), ...routeObjects(d, method, args)] : [...placeHeaders(d), ...objectElsewhere(d, args), ...routeObjects(d, method, args), ...upsertedRows(d)];
  const places = read === undefined || !heads.length ? read : [read, ...heads].filter(Boolean).sort().join(';');
  const unread = places === undefined || places.includes('(arguments)=?');
  // Arguments too large or deep to read for places: an RPC call is approved one at a time (`?`);
  // a REST call is placed by all of them (only the same arguments are covered).
  // (By the URL's and the raw body's digests: reading the parsed arguments whole again costs more.)
  const parts = unread ? [named || d.request.body?.truncated ? '(arguments)=?' : `(arguments)=${digest(`${d.request.url} ${d.request.body?.sha256 ?? ''} ${JSON.stringify(placeHeaders(d))}`)}`] : places ? [places] : [];
  // A body in an encoding whose fields are not read here (protobuf: gRPC, gRPC-web, Connect;
  // MessagePack, CBOR, BSON, Avro, Thrift; YAML, TOML) names its recipient, account or amount where
  // no place word is seen: placed by its digest, only the same arguments are covered (past the
  // capture: no grant). So does a table or a sequence of records (CSV, TSV, JSON text sequences:
  // a bulk import's rows are its calls; twenty-eighth pass). Content a call stores (an image,
  // octet-stream, plain text) is not its arguments.
  const raw = d.request.body;
  if (raw && raw.size > 0 && unreadEncoding(raw.content_type)) parts.push(`body=${raw.truncated ? '?' : `sha256-${raw.sha256}`}`);
  // A body that is a whole message (`message/rfc822`, a MIME upload as text or base64): whom its
  // header block names is where it goes (twenty-second pass; describe/message-headers.ts).
  const mail = text !== undefined && raw?.json === undefined && raw?.form === undefined ? encodedMessageAddresses(text.trimStart(), raw?.text_truncated !== true) : undefined;
  if (mail !== undefined) parts.push(`body(message)=${mail === '?' ? '?' : digest(mail)}`);
  if (named && text !== undefined) {
    const xml = xmlRpc ? xmlArgumentsDigest(text, 'xmlrpc') : /xml/i.test(d.request.body?.content_type ?? '') ? xmlArgumentsDigest(text, 'soap') : undefined;
    if (xml !== undefined) parts.push(`xml=${d.request.body?.text_truncated ? '?' : xml}`);
  }
  if (named) return `args(${parts.join(';') || ''})`;
  return parts.length ? `args(${parts.join(';')})` : undefined;
}

/**
 * The URL query of an MCP request, every parameter exactly (twenty-fifth pass): an MCP endpoint's
 * query configures the server the calls run on (Supabase's hosted MCP: `?project_ref=…&read_only=true
 * &features=…`), and carries nothing a call varies, so a grant for a call to staging covers no call to
 * production nor one with `read_only` dropped. Credentials and the HTTP+SSE transport's `sessionId`
 * aside: they are the agent's own, compared by digest (`request.own_credentials`), never written here.
 */
function endpointQuery(d: RequestDescription): string[] {
  const out: string[] = [];
  for (const [k, vs] of Object.entries(d.request.query ?? {})) {
    const names = parameterNames(k);
    if (names.some((n) => credentialQueryParams.has(n.toLowerCase()) || sessionQueryParam(n))) continue;
    // (A value under a credential's or a session's name, `?session=`, `?auth_mode=`, by its digest: it may be a bearer.)
    out.push(`query.${spelledName(k)}=${names.some((n) => credentialLike.test(n) || /sess/i.test(n)) ? valueDigest([...vs]) : placeValue([...vs])}`);
    if (out.length > MAX_MCP_PLACES) return ['query=?'];
  }
  return out.sort();
}

/**
 * The object a `POST` to a route whose last segment says it deletes, changes, sends, pays or grants
 * (`/api/deletePod`, `/pods/remove`, `/tickets/close`) names in its JSON or form body under any name
 * no list holds (`{"pod": "web-1"}`), as an MCP tool's (objectArguments; twenty-second pass, follow-up).
 */
function routeObjects(d: RequestDescription, method: string, args: Record<string, unknown>): string[] {
  if (method !== 'POST') return [];
  const last = d.request.path.split('/').map(safeDecode).filter((x) => x !== '' && !versionSegment.test(x)).pop();
  // (A route's segment by a whole verb: a collection is often named by one run together, `/deployments`, `/transfers`.)
  // (Twenty-third pass: or whose body names such a verb, `POST /api/pods {"action": "delete", "pod": …}`.)
  if (last === undefined || !(actsOnObject(last.split(';')[0]!, false) || actsByArgument(args.json) || actsByArgument(args.form) || actsByArgument(args.query)
    // (Twenty-fourth pass: or that sets what it names, `POST /api/flags {"flag": …, "enabled": true}`.)
    || setsByArgument(last, args.json) || setsByArgument(last, args.form))) return [];
  // An id the path names already (`POST /items/1/archive {"id": 1}`) names nothing new (objectElsewhere compares the others).
  const segments = d.request.path.split('/').map(safeDecode);
  const unnamed = (o: unknown): unknown => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return o;
    const rest: Record<string, unknown> = emptyMap();
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      // (A request's own signature, new each time: AWS Query's `Signature`, SigV4's query credentials.)
      if (requestSignatureNames.test(k)) continue;
      const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
      if (isObjectIdName(k) && (typeof one === 'string' || typeof one === 'number') && namedByPath(segments, k, String(one))) continue;
      rest[k] = v;
    }
    return rest;
  };
  return objectArguments({ json: unnamed(args.json), form: unnamed(args.form) }, last) ?? ['object=?'];
}

/** Names of a request's own signature and its parts, new for each request. */
const requestSignatureNames = /^(?:signature|sig|signaturemethod|signatureversion|awsaccesskeyid|x-amz-(?:signature|credential|security-token|date|signedheaders|algorithm|expires))$/i;

/** Names (folded, `_` and `-` aside) by which a body or query names the object a call acts on. */
const objectIdNames = new Set(['id', 'ids', 'uuid', 'uuids', 'guid', 'gid', 'pk', 'oid']);
/** Those naming one object (a list of ids in a POST's body is as often what a report or export reads). */
const singleIdNames = new Set(['id', 'uuid', 'guid', 'gid', 'pk', 'oid']);
/**
 * Names (folded, `_` and `-` aside) by which a POST's body names the record servers write by a key
 * rather than an id (twenty-fourth pass): an upsert by key (`ON CONFLICT (key) DO UPDATE`, a KV
 * store's `{key, value}`, a CMS page by `slug`, a CRM contact by `external_id`, a product by `sku`).
 */
const naturalKeyNames = new Set(['key', 'slug', 'externalid', 'externalkey', 'externalref', 'naturalkey', 'lookupkey', 'upsertkey', 'uniquekey', 'sku']);
/** Names a key-value write names its entry by, beside the entry's `value` (`{name: "sso_enforced", value: …}`). */
const entryNames = new Set(['name', 'setting', 'variable', 'var', 'flag', 'property', 'option', 'param', 'parameter', 'field', 'attribute']);
/** Query parameter names that carry a credential or a signature (kept out of a grant's target). */
const credentialLike = /token|secret|passw|signature|credential|api[-_]?key|access[-_]?key|auth|^key$|^sig$|^code$/i;

/**
 * What a PUT, PATCH or DELETE on a host no module describes acts on beyond its path (sixteenth
 * pass): those methods act on the resource the URL names — its path and its query (RFC 3986: the
 * query identifies the resource too; `DELETE /items?ids=1` is not `?ids=1,2,3` nor `?filter=all`) —
 * which a path grant records by the path alone; and many handlers save the body's object
 * (`repo.save(req.body)`, a model bound from the body, Mongo's `_id`), so `PUT /items/1 {"id": 2}`
 * updates item 2. So `object.query.<name>=<value>` for each query parameter (credentials aside),
 * and `object.<form|json>.<name>=<value>` for each id at the top of the body that no path segment
 * names (`PUT /items/1 {"id": 1}` names nothing new).
 */
function objectElsewhere(d: RequestDescription, args: Record<string, unknown>): string[] {
  const method = (d.request.effective_method ?? d.request.method).toUpperCase();
  const segments = d.request.path.split('/').map((x) => safeDecode(withoutParams(x)));
  // A POST acting on an object its path names (`POST /items/1/archive`: a segment with a digit, a
  // version aside) reads an id beside it as readily (nineteenth pass); its other query parameters
  // are arguments, not the resource.
  // So does a POST whose path says it deletes or changes what it names (`/notes/delete`,
  // `/archiveItem`, `notes.remove`: an RPC-style route, the object in its arguments), and (twenty-
  // second pass) one whose route acts on the object an id names under verbs no list holds (routeActsOn).
  const postActs = method === 'POST' && (segments.some((x) => /\d/.test(x) && !versionSegment.test(x)) || segments.slice(-3).some((x) => bulkCall(x)));
  const post = method === 'POST';
  if (method !== 'PUT' && method !== 'PATCH' && method !== 'DELETE' && !post) return [];
  const out: string[] = [];
  const look = (source: string, o: unknown, prefix = ''): void => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return;
    // A JSON:API resource object (`{"data": {"type": …, "id": …}}`): its `id` is a client-generated
    // id a POST writes by, as a bare one at the top (twenty-fourth pass), and its `type` says which
    // kind of object (a grant for a POST of `items` covers none of `admins`).
    const resource = prefix === 'data.' && typeof (o as Record<string, unknown>).type === 'string';
    // A key-value write (`{key|name|setting: …, value: …}`) names its entry by that key (twenty-fourth pass).
    const entry = post && source !== 'query' && ['value', 'val', 'values'].some((v) => v in (o as object));
    for (const [k, raw] of Object.entries(o as Record<string, unknown>)) {
      // An id one level down names the object as well (nineteenth pass): JSON:API's `data.id`, a
      // model's params nested under its name (`{"item": {"id": 2}}`, a form's `item[id]=2`: Rails'
      // `params[:item][:id]`).
      // (A bulk call's filter is its place whole already: selectionArguments.)
      if (!prefix && source === 'json' && raw && typeof raw === 'object' && !Array.isArray(raw) && !selectionArguments.has(foldCase(k))) look(source, raw, `${spelledName(k)}.`);
      const leaf = /\[([^[\]]+)\]$/.exec(k)?.[1];
      // Under every name a server registers it by (` id`, `id%00x`, `[id]`), in any letter case (ASP.NET's binding).
      const names = leaf ? [...parameterNames(k), leaf] : parameterNames(k);
      // (Nineteenth pass: under a longer name too, `issue_id`, `itemId`: isObjectIdName.)
      const folded = names.map((n) => foldCase(n).replace(/[_-]/g, ''));
      const keyed = post && source !== 'query' && (!prefix || resource) && folded.some((n) => naturalKeyNames.has(n) || (entry && entryNames.has(n)));
      const kind = resource && folded.includes('type');
      const id = keyed || kind || names.some((n) => objectIdNames.has(foldCase(n).replace(/[_-]/g, '')) || isObjectIdName(n));
      // Never a credential's value in a grant (the agent's own are compared by digest: own_credentials).
      if (source === 'query' && !post ? names.some((n) => credentialQueryParams.has(n.toLowerCase()) || credentialLike.test(n)) : !id) continue;
      // (Twenty-third pass) a bare id at the top of a POST's body into a collection (`POST /items
      // {"id": 6}`): many servers upsert (`save()`, Mongo's `_id`, `ON CONFLICT … UPDATE`), so it
      // names the object written; a grant for writing item 5 covers no item 6.
      // (Not a CloudEvent's `id`, new for each event: its type, source and subject are compared apart.)
      const bareId = keyed || kind || (post && (!prefix || resource) && source !== 'query' && !('specversion' in (o as object)) && folded.some((n) => singleIdNames.has(n)));
      if (post && !postActs && !bareId && !names.some((n) => routeActsOn(segments, n))) continue;
      const values = Array.isArray(raw) && source !== 'json' ? raw : [raw];
      // One level down only a plain id (an operator object there is some other argument's).
      if (prefix && !(typeof raw === 'string' || typeof raw === 'number')) continue;
      if (id && values.every((v) => (typeof v === 'string' || typeof v === 'number') && namedByPath(segments, leaf ?? k, String(v)))) continue;
      // (A `key` may be a credential's: by digest, never its value.)
      const shown = keyed && credentialLike.test(k) ? valueDigest(raw) : placeValue(values.length === 1 ? values[0] : values);
      out.push(`object.${source}.${prefix}${spelledName(k)}=${shown}`);
      if (out.length > MAX_MCP_PLACES) return;
    }
  };
  look('query', args.query);
  look('form', args.form);
  look('json', args.json);
  // Which fields a PATCH or PUT writes (twenty-second pass): a grant for changing a user's
  // `display_name` covers no change of their `password` or `mfa_secret: null` (a merge patch's
  // delete) beside it. The names, not the values: the next edit of the same fields is covered.
  if (method === 'PATCH' || method === 'PUT') {
    const fields = writtenFields(args);
    if (fields !== undefined) out.push(`object.fields=${fields}`);
  }
  // An id among a segment's `;params` (Spring's `@MatrixVariable`, JAX-RS `@MatrixParam`: `PUT
  // /users/5/profile;id=6` updates user 6 there), which a path pattern cuts (twenty-first pass).
  look('matrix', args.matrix);
  // A header naming the object (`X-Resource-Id`, `X-Item-Id`; nineteenth pass), a client's
  // per-request and tracing ids aside, a credential's never.
  for (const [name, values] of Object.entries(d.request.headers ?? {})) {
    const key = serverHeaderKey(name);
    if (post && !postActs && !routeActsOn(segments, key.replace(/^x-/, ''))) continue;
    if (!objectHeader(key) || actingHeader(name) || values.some((v) => v.endsWith('[redacted]'))) continue;
    if (values.every((v) => namedByPath(segments, key.replace(/^x-/, ''), v.trim()))) continue;
    out.push(`object.header.${spelledName(name.toLowerCase())}=${placeValue(values)}`);
    if (out.length > MAX_MCP_PLACES) break;
  }
  return out.length > MAX_MCP_PLACES ? ['object=?'] : out;
}

/**
 * Whether a POST's route acts on the object an id argument names (twenty-second pass), under verbs
 * no list holds: the route goes on past the collection the id's noun names (`/orders/cancel` with
 * `order_id`), or its last segment joins that noun with a verb (`promoteMember` with `memberGuid`,
 * `Accounts.Deactivate`, `users.disable`); for a bare `id` or `uuid`, a last segment of a verb and a
 * noun, or one word after a plural collection (`/users/suspend`, `/items/save`). A create into a
 * collection (`POST /api/notes {"note_id": …}`, `POST /items {"id": …}`) names its object freely.
 */
function routeActsOn(segments: string[], name: string): boolean {
  const named = segments.filter((x) => x !== '' && !versionSegment.test(x));
  const last = named[named.length - 1];
  if (last === undefined) return false;
  const words = (x: string): string[] => x.replace(/([a-z0-9])(?=[A-Z])/g, '$1 ').split(/[_\-\s.:]+/).filter(Boolean).map(foldCase);
  const noun = foldCase(name).replace(/[^a-z0-9]/g, '').replace(/(?:ids?|uuids?|guids?|gid|pk|oid|slug|handle)$/, '');
  if (noun.length >= 3) {
    const names = (w: string): boolean => w === noun || w === `${noun}s` || w === `${noun}es`;
    const at = named.findIndex((x) => words(x).some(names));
    return at >= 0 && (at < named.length - 1 || words(last).length > 1);
  }
  if (noun.length > 0) return false;
  const before = named[named.length - 2];
  return words(last).length > 1 || (before !== undefined && /^[a-z]{3,}s$/i.test(before) && /^[a-z]{3,}$/i.test(last) && !/s$/i.test(last));
}

/**
 * The digest of the sorted names a write's form and JSON body set at their top (and JSON:API's
 * `data.attributes`), ids aside (compared by value above, and naming one is no more done), or
 * undefined when it sets none.
 */
function writtenFields(args: Record<string, unknown>): string | undefined {
  const names = new Set<string>();
  const idName = (k: string): boolean => objectIdNames.has(foldCase(k).replace(/[_-]/g, '')) || isObjectIdName(k);
  for (const source of ['form', 'json'] as const) {
    const o = args[source];
    if (!o || typeof o !== 'object' || Array.isArray(o)) continue;
    for (const k of Object.keys(o)) if (!idName(k) && k !== 'data') names.add(`${source}.${k}`);
    const attributes = (o as { data?: { attributes?: unknown } }).data?.attributes;
    if (attributes && typeof attributes === 'object' && !Array.isArray(attributes)) for (const k of Object.keys(attributes)) names.add(`${source}.data.attributes.${k}`);
  }
  return names.size ? digest(JSON.stringify([...names].sort())) : undefined;
}

/** A path segment naming an API's version (`v1`, `v2.1`), not an object. */
const versionSegment = /^v\d+(?:\.\d+)*$/i;

/**
 * Whether the path names the object an id argument names, so it names nothing new: the segment
 * after its collection's (`issue_id` and `/issues/1`), else for a bare `id` (or a noun no segment
 * holds) the last segment holding a digit, or the last one. Not any segment (nineteenth pass):
 * `PUT /orgs/7/items/1 {"id": 7}` updates item 7 where the handler reads the body's id.
 */
function namedByPath(segments: string[], name: string, value: string): boolean {
  const noun = foldCase(name).replace(/[^a-z0-9]/g, '').replace(/(?:ids?|uuid|guid|gid|pk|oid|slug|handle)$/, '');
  const after: string[] = [];
  if (noun.length >= 3) for (let i = 0; i + 1 < segments.length; i++) if (foldCase(segments[i]!).replace(/[^a-z0-9]/g, '').startsWith(noun)) after.push(segments[i + 1]!);
  if (after.length) return after.includes(value);
  const named = segments.filter((x) => x !== '');
  const last = [...named].reverse().find((x) => /\d/.test(x) && !versionSegment.test(x)) ?? named[named.length - 1];
  return last === value;
}

/** Words of a header's name that say its id is made per request, per trace or per client, not an object's (`X-Request-Id`, `X-B3-SpanId`, `Last-Event-ID`). */
const perRequestHeader = /request|trace|span|correl|transaction|invocation|activity|operation|call|debug|message|event|idempot|nonce|session|client|device|install|b3|datadog|amzn|sentry/;

/** A header whose name ends in an object's id (`X-Resource-Id`, `X-ItemId`, `X-Document-UUID`), per-request ones aside. */
function objectHeader(key: string): boolean {
  if (key.length > 100 || perRequestHeader.test(key)) return false;
  const words = key.split(/[-_]/);
  const last = words[words.length - 1]!;
  return objectIdNames.has(last) || /^(?:resource|object|item|record|document|entity|entry|node|row|file|asset)(?:id|ids|uuid|guid)$/.test(last) || (words.length > 1 && /(?:uuid|guid)$/.test(last));
}

/** Encodings of structured arguments (a media type's subtype, `x-`/`vnd.` aside, or its `+suffix`) whose fields are not read here. */
// (Twenty-eighth pass) and records and tables whose rows are calls to a bulk endpoint: a CSV or TSV
// import (`email,role` — one row `alice,member` then two, or `bob,admin`), JSON text sequences
// (RFC 7464, `application/json-seq`, records after U+001E that no JSON reader here parses).
const unreadEncodings = new Set(['csv', 'tab-separated-values', 'tsv', 'json-seq', 'proto', 'protobuf', 'google.protobuf', 'grpc', 'grpc-web', 'grpc-web-text', 'connect', 'msgpack', 'cbor', 'bson', 'ubjson', 'avro', 'avro-binary', 'thrift', 'apache.thrift.binary', 'apache.thrift.compact', 'apache.thrift.json', 'yaml', 'toml', 'edn', 'smile', 'ion', 'amazon.ion', 'capnp', 'flatbuffers']);

function unreadEncoding(type: string): boolean {
  const t = type.trim().toLowerCase();
  const sub = t.slice(t.indexOf('/') + 1);
  const plus = sub.lastIndexOf('+');
  const base = plus < 0 ? sub : sub.slice(0, plus);
  const bare = base.startsWith('x-') ? base.slice(2) : base.startsWith('vnd.') ? base.slice(4) : base;
  return t.includes('/') && (unreadEncodings.has(bare) || (plus >= 0 && unreadEncodings.has(sub.slice(plus + 1))));
}

/** The `;name=value` parameters of a path's segments, or undefined when it has none. */
function matrixParams(path: string): Record<string, string[]> | undefined {
  if (!path.includes(';')) return undefined;
  const out = Object.create(null) as Record<string, string[]>;
  for (const segment of path.split('/').slice(0, 64)) {
    for (const piece of segment.split(';').slice(1, 33)) {
      const eq = piece.indexOf('=');
      const name = safeDecode(eq < 0 ? piece : piece.slice(0, eq));
      if (name) (out[name] ??= []).push(eq < 0 ? '' : safeDecode(piece.slice(eq + 1)));
    }
  }
  return Object.keys(out).length ? out : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Words of a header name (split on `-` and `_`) that say in whose tenant, account or project a call acts. */
// (Fourteenth pass: the customer, merchant, company, business, partner or realm an API's header names:
// Google Ads' `login-customer-id` and `linked-customer-id`, `X-Merchant-Id`, `X-Company-Id`.)
// (Sixteenth pass: where the server sends, named by a header: a subscription's `X-Callback-Url`,
// `X-Webhook`, `Reply-To`, `X-Notify-To`, an `X-Endpoint` or `X-Target-Uri`.)
// (Twenty-seventh pass: the tenancy words are one list with an argument's, describe/places.ts tenancyWords.)
const placeHeaderWords = new Set([...tenancyWords, 'channel', 'recipient', 'destination',
  'to', 'reply', 'url', 'uri', 'callback', 'webhook', 'hook', 'endpoint', 'target', 'notify', 'forward',
  // (Twenty-first pass) whom a mail API's header copies: `Bcc`, `X-Cc`, `X-Recipients`.
  'cc', 'bcc', 'recipients', 'email', 'emails',
  // (Twenty-second pass) what a copy reads: S3's and GCS's `x-amz-copy-source`, `x-goog-copy-source`.
  'copy', 'source',
  // (Twenty-third pass) which shard, partition, region, zone, cell, cluster, namespace or index a call acts in.
  'shard', 'partition', 'region', 'zone', 'cell', 'cluster', 'namespace', 'index', 'keyspace', 'dataset', 'collection', 'schema', 'db']);
/** `X-` headers a client or proxy sets to say where a request came from (an address there is no place a call reaches). */
const clientAddressHeaders = new Set(['x-forwarded-for', 'x-real-ip', 'x-client-ip', 'x-originating-ip', 'x-remote-addr', 'x-cluster-client-ip']);

/** A header whose name says it holds a mode (`X-Mode`, `X-Env`; lower-cased, so `X-RunMode` by its letters), a browser's `Sec-Fetch-Mode` aside. */
const modeHeader = (key: string): boolean => !key.startsWith('sec-') && (isModeName(key) || key.includes('mode') || key.includes('environment'));

/** `header.<name as sent>=<values>` for each header naming a place (redacted credential headers aside). */
function placeHeaders(d: RequestDescription): string[] {
  const out: string[] = [];
  for (const [name, values] of Object.entries(d.request.headers ?? {})) {
    const key = serverHeaderKey(name);
    // A header that changes what the call does (`X-Dry-Run`, `X-Force-Delete`: describe/places.ts
    // isEffectName) counts as its arguments do, and so does one holding a switch or a mode
    // (`X-Preview: true`, `X-Mode: sandbox`; sixteenth pass), or a mode by its name or `X-Live: 1`
    // (seventeenth pass; a browser's `Sec-Fetch-Mode` aside).
    const numeric = key.startsWith('x-') && !isNumberName(key.slice(2));
    // A number of three digits or more under such a name by its magnitude (`X-Replicas: 300`; twentieth pass).
    // Exactly under a name that says how much the call runs or uses (`X-Replicas`; twenty-first pass).
    // (Twenty-second pass) Any number exactly, a time by magnitude (describe/places.ts numberPlace).
    const size = numeric && values.length === 1 ? (isSizeName(key.slice(2)) && numberPlace(values[0]) !== undefined ? placeValue(values) : numberPlace(values[0])) : undefined;
    if (actingHeader(name) || values.some((v) => v.endsWith('[redacted]'))) continue;
    // And an `X-` header naming a level, tier or size (`X-Tier: enterprise`), how long what the call
    // creates lasts (`X-Expires-In`, `X-Link-TTL`), or holding a privilege (`X-User-Type: admin`; twenty-first pass).
    // An address as an `X-` header's value (`X-Mirror: https://…`, `X-Also: drop@…`) is where the call reaches, whatever its name.
    const ranked = key.startsWith('x-') && (isSizeName(key.slice(2)) || isLastingName(key.slice(2)) || namesPrivilege(values) || (!clientAddressHeaders.has(key) && isAddress(values)));
    // A CloudEvent in binary mode (`ce-type`, `ce-source`, `ce-subject`: what happened and to what; twenty-second pass).
    const event = key.startsWith('ce-') && cloudEventAttributes.has(key.slice(3));
    // What kind of object, or which API version, the call acts on, as its arguments say it
    // (describe/places.ts isKindName; twenty-eighth pass): `X-Resource-Type`, `X-Api-Version`,
    // `Api-Version`, `Accept-Version` (not `Content-Type`, whose multipart boundary varies by design).
    const kind = (key.startsWith('x-') && isKindName(key.slice(2))) || key === 'api-version' || key === 'accept-version';
    // (A header sent twice holding a switch or a number is compared whole: repeatedSwitch.)
    if (!(key.split('-').some((w) => placeHeaderWords.has(w)) || isEffectName(key) || (values.length === 1 && isSwitch(values[0], numeric)) || repeatedSwitch(values, numeric) || modeHeader(key) || ranked || event || kind)) {
      if (size !== undefined) out.push(`header.${spelledName(name.toLowerCase())}=${size}`);
      continue;
    }
    // By its name as sent (a Node server reads `X-Tenant-Id`, never `X_Tenant_Id`; a CGI one both),
    // its values in the order sent: Go's `Header.Get`, Flask's `headers.get` and Rails read the
    // first (twenty-sixth pass: sorted, a grant for `acme, bigcorp` covered `bigcorp, acme`).
    out.push(`header.${spelledName(name.toLowerCase())}=${placeValue(values)}`);
  }
  out.push(...spellingOrder(d), ...preferences(d), ...writeConditions(d));
  // Past the bound the rest is unread: no grant (a cut list would compare its first entries only).
  return out.length > MAX_MCP_PLACES ? [...out.slice(0, MAX_MCP_PLACES), 'header=?'] : out;
}

/**
 * The order of header names a CGI-style server reads as one header (`X-Tenant-Id` then
 * `X_Tenant_Id`: CGI, PHP-FPM, Python's wsgiref and Rack key both `HTTP_X_TENANT_ID` and take the
 * first or the last value), as `header.<key>.spellings=<names in the order first sent>`: each name's
 * values are compared apart, so a grant for one order covered the other (twenty-sixth pass).
 */
function spellingOrder(d: RequestDescription): string[] {
  const by = new Map<string, string[]>();
  for (const name of Object.keys(d.request.headers ?? {})) {
    const key = serverHeaderKey(name);
    by.set(key, [...(by.get(key) ?? []), name.toLowerCase()]);
  }
  return [...by].filter(([, names]) => names.length > 1).map(([key, names]) => `header.${spelledName(key)}.spellings=${placeValue(names.map(spelledName))}`);
}

/**
 * Standard headers that bound what a write replaces (twenty-second pass), as `header.<name>=<what>`:
 * a precondition (`If-Match: "tag"` overwrites only the version read, `If-Match: *` any, none at all
 * any; `If-None-Match: *` creates only, never overwrites; RFC 9110) by its kind, not its tag (the
 * next update's tag is another); WebDAV's `Overwrite: F` (a COPY or MOVE never replaces what is
 * there, `T` does) and `Depth` (`0`: the collection alone; `infinity`: all it holds; RFC 4918).
 * A grant for the guarded write covers no unguarded one.
 */
function writeConditions(d: RequestDescription): string[] {
  const out: string[] = [];
  for (const [name, values] of Object.entries(d.request.headers ?? {})) {
    // (By the key CGI reads too: `If_Match` is `if-match` there.)
    const key = serverHeaderKey(name);
    if (key === 'if-match' || key === 'if-none-match' || key === 'if-unmodified-since') {
      const kinds = values.flatMap((v) => v.split(',')).map((v) => (v.trim() === '*' ? '*' : key === 'if-unmodified-since' ? '(date)' : '(tag)'));
      out.push(`header.${key}=${placeValue([...new Set(kinds)].sort())}`);
    } else if (key === 'overwrite' || key === 'depth') {
      out.push(`header.${key}=${placeValue(values.map((v) => v.trim().toLowerCase()).sort())}`);
    }
  }
  return out.sort();
}

/** `Prefer` preferences (RFC 7240) that only shape the answer, not what the call does. */
const answerPreferences = new Set(['return', 'count', 'timezone', 'wait', 'respond-async', 'odata.maxpagesize', 'maxpagesize', 'odata.include-annotations', 'include-annotations', 'odata.track-changes', 'return-no-content', 'return-content']);

/**
 * `header.prefer.<name>=<value>` for each `Prefer` preference that changes what a call does
 * (sixteenth pass). PostgREST's `tx=rollback` runs a write and rolls it back (supabase-js
 * `.rollback()`: a dry run), `max-affected` with `handling=strict` bounds the rows touched,
 * `missing=default`, `resolution` and `params` change what is written, OData's
 * `odata.continue-on-error` runs the rest of a batch after a failure and `odata.callback` names a
 * URL: a grant for the dry run covers the dry run only. `return`, `count`, `timezone`, `wait` and
 * page sizes shape the answer and are left out.
 */
function preferences(d: RequestDescription): string[] {
  const found = new Set<string>();
  for (const v of d.request.headers?.['prefer'] ?? []) {
    for (const piece of v.split(',')) {
      const [pref, ...params] = piece.split(';');
      const eq = pref!.indexOf('=');
      const name = (eq < 0 ? pref! : pref!.slice(0, eq)).trim().toLowerCase();
      if (!name || answerPreferences.has(name)) continue;
      const value = [eq < 0 ? '' : pref!.slice(eq + 1).trim(), ...params.map((p) => p.split('=').map((x) => x.trim()).join('='))].join(';');
      found.add(`header.prefer.${spelledName(name)}=${placeValue(value)}`);
      if (found.size > MAX_MCP_PLACES) return ['header.prefer=?'];
    }
  }
  return [...found].sort();
}

/**
 * The rows an upsert overwrites (twenty-fourth pass): under `Prefer: resolution=merge-duplicates`
 * (PostgREST, Supabase's `upsert()`) a row whose key exists replaces the stored one, so the key
 * (the `on_conflict` columns, else `id`) of each row names what is written: a grant for upserting
 * row 5 covers no row 6. An insert without it only adds rows (its content varies as before).
 */
function upsertedRows(d: RequestDescription): string[] {
  if (!(d.request.headers?.['prefer'] ?? []).some((v) => /resolution\s*=\s*merge-duplicates/i.test(v))) return [];
  const conflict = d.request.query?.['on_conflict'];
  const columns = (Array.isArray(conflict) ? conflict.join(',') : typeof conflict === 'string' ? conflict : 'id').split(',').map((c) => c.trim()).filter(Boolean).slice(0, 8);
  const json = d.request.body?.json;
  const rows = Array.isArray(json) ? json : [json];
  if (rows.length > 50 || !rows.every((r) => r && typeof r === 'object' && !Array.isArray(r))) return ['upsert=?'];
  const keys = rows.map((r) => columns.map((c) => placeValue((r as Record<string, unknown>)[c] ?? null)).join('+'));
  return [`upsert.${columns.join('+')}=${digest(JSON.stringify(keys.sort()))}`];
}

/** A body to read as XML: an XML type (`application/xml`, `…+xml`, `text/xml`) or a text that starts as XML does. */
function isXmlText(d: RequestDescription): boolean {
  return /xml/i.test(d.request.body?.content_type ?? '') || /^\s*<(\?xml|[A-Za-z_])/.test(d.request.body?.text ?? '');
}

function placeTarget(d: RequestDescription): string | undefined {
  // GraphQL: where its mutations act on a host no service module describes (a module names its
  // own places), whom their arguments reach and what they change on a service's (describe.ts).
  const graphql = d.graphql?.places?.length && (!d.service || d.service.operation !== 'unknown') ? `graphql:${d.graphql.places.join(';')}` : undefined;
  const mcp = [mcpTarget(d), rpcCallsTarget(d), graphql, argumentsTarget(d)].filter((x) => x !== undefined).join('|') || undefined;
  const s = d.service;
  const parts: string[] = [];
  for (const k of s?.params ? targetParams : []) {
    const v = (s!.params as Record<string, unknown>)[k];
    if (typeof v === 'string') parts.push(`${k}=${v}`);
    else if (Array.isArray(v)) parts.push(`${k}=${v.map(String).join(',')}`);
  }
  // An operation that deletes, changes, sends, pays or grants (`files.delete`, `issues.update`): the
  // object its route names beside the place (`file_id`, `issue_number`, a name in the path), exactly
  // (twenty-second pass, follow-up): a grant for deleting one file covers no other file.
  // (Not where the scope names what it acts on already: a git ref update's or push's refs, SQL, GraphQL.)
  if (s?.params && s.operation !== 'unknown' && actsOnObject(s.operation) && operationScope(d).length === 0) parts.push(...serviceObjects(s.operation, s.params as Record<string, unknown>));
  const service = parts.length ? `${s!.name}:${parts.join(';')}` : undefined;
  const effects = s && s.operation !== 'unknown' ? effectArguments(d) : undefined;
  const out = [service, mcp, effects].filter((x) => x !== undefined);
  return out.length ? out.join('|') : undefined;
}

/** A service operation's scalar params no place list holds, as `object.<name>=<value>` (objectArguments' reading). */
function serviceObjects(operation: string, params: Record<string, unknown>): string[] {
  const rest: Record<string, unknown> = emptyMap();
  for (const [k, v] of Object.entries(params)) if (!targetParams.includes(k) && (typeof v === 'string' || typeof v === 'number')) rest[k] = v;
  return objectArguments(rest, operation) ?? ['object=?'];
}

/**
 * A service operation whose body is data it stores (PostgREST rows, Storage or KV objects), SQL
 * (its statements are the scope) or GraphQL (the module names its nodes: `node_ids`), not
 * arguments naming whom it reaches.
 */
function storedData(d: RequestDescription): boolean {
  return d.sql !== undefined || d.graphql !== undefined || storesData(d.service?.operation);
}

/**
 * The arguments of a call a service module names that change what it does beyond its operation
 * and place (a dry run, a deletion or a role by flag, an amount: describe/places.ts isEffectName),
 * from its query, form and JSON body: a grant for a PostgREST update of a profile's `bio` does not
 * cover one that sets its `role`. (Hosts no module describes read them with their places.)
 */
function effectArguments(d: RequestDescription): string | undefined {
  const args = { query: d.request.query ?? {}, form: d.request.body?.form ?? {}, json: d.request.body?.json ?? {} };
  // Whom and where its arguments name too (fifteenth pass): a grant for adding `alice` as a reviewer,
  // assignee or invitee, for a webhook to the team's CI, a transfer to the team's account, covers
  // no one else and nowhere else (the GraphQL twins compare the node ids already). Not where the
  // body is stored data (table rows, an object's bytes) or SQL, whose statements are the scope.
  const read = argumentPlaces(args, { nodes: 0 }, false, undefined, true, storedData(d) ? 'effects' : 'service');
  // And headers so named (`X-Dry-Run`), but credentials (the agent's own, compared apart).
  const heads: string[] = [];
  for (const [name, values] of Object.entries(d.request.headers ?? {})) {
    const key = serverHeaderKey(name);
    if (isEffectName(key) && !actingHeader(name) && !values.some((v) => v.endsWith('[redacted]'))) heads.push(`header.${spelledName(name.toLowerCase())}=${placeValue(values)}`);
  }
  heads.push(...preferences(d), ...writeConditions(d), ...upsertedRows(d));
  const all = [read ?? '(arguments)=?', ...heads.sort()].filter(Boolean).join(';');
  return all ? `effects(${all})` : undefined;
}
