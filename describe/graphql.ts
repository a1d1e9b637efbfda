// GraphQL requests, parsed with the reference parser (the `graphql` package), never scanned with
// patterns: a query whose string or comment says "mutation" is still a query, and a mutation
// hidden behind an alias, a fragment spread or a second operation is still found.
//
// Servers accept the same request in several shapes whatever the Content-Type says (GitHub takes
// untyped and form-encoded bodies), so the body is read from its raw bytes: a JSON object or a
// batched array of them ({query, operationName, variables}), a form with `query`, or a bare
// document (application/graphql). GET carries `query` and `operationName` in the URL.
//
// Which operations may run: the one `operationName` selects; when the name is absent with several
// operations, or names none or several, every operation is listed, so a policy judges the most
// dangerous one. A body that cannot be read as GraphQL is `parsed: false` (the default policy holds
// it at high risk). The parse is linear (graphql-js's lexer and recursive-descent parser) and bounded
// by a token limit; nesting deep enough to exhaust the stack is a parse failure, not a crash.
import { createHash } from 'node:crypto';
import type { DirectiveNode, DocumentNode, FieldNode, FragmentDefinitionNode, OperationDefinitionNode, SelectionNode, SelectionSetNode } from 'graphql';
import { lazyPackage } from '../lib/lazy-package.ts';
import type { Effect, GraphqlInfo, GraphqlOperation, RequestInfo, ServiceInfo } from './types.ts';
import { multipartBoundaries, multipartFields } from './multipart.ts';
import { actsOnObject, setsByArgument, argumentPlaces, counted, objectArguments, MAX_MCP_PLACES, placeValue, withObjects, type ArgumentReading } from './places.ts';
import { paramsByServerName, rackTwoParams } from './body.ts';
import { appendAll } from '../lib/arrays.ts';
import { emptyMap, entriesOnce } from '../lib/records.ts';

/** graphql's parser, loaded by the first GraphQL body (lib/lazy-package.ts). */
const graphql = lazyPackage<typeof import('graphql')>('graphql');

/** Documents with more tokens than this are not parsed (reported unparsed). */
export const MAX_GRAPHQL_TOKENS = 100_000;
/** Requests in one batched body looked at; more is reported unparsed. */
export const MAX_BATCH = 100;
/** Mutation calls listed for a batch that repeats a request, at most (past it their arguments are unread). */
const MAX_REPEATED_CALLS = 10_000;
/**
 * Distinct values of a repeated `operationName` or `variables` parameter (URL, form or multipart)
 * read, at most; more is reported unparsed. Servers differ on which one they take (Rack and so
 * Rails keep the last, Go's FormValue the first), so each is a reading.
 */
export const MAX_PARAMETER_VALUES = 5;

/** What the describe step hands service adapters: the public summary plus what classification needs. */
export interface GraphqlRequest {
  info: GraphqlInfo;
  /** The documents' source texts (for facts a service reads from arguments, e.g. GitHub's `force`). */
  documents: string[];
  /** Each request's `variables` as JSON text ('' when absent). */
  variables: string[];
  /** Every mutation root field that may run, with its arguments (variables substituted; unknown ones undefined). */
  calls?: MutationCall[];
  /**
   * The root fields of queries and subscriptions, with their arguments, read only for SQL they carry
   * (sixteenth pass: `{ executeSql(sql: "DROP TABLE users") }` as a GET was an allowed read). Past
   * MAX_CALL_ARGUMENT_NODES their arguments are not kept and `readArgumentsUnread` is set.
   */
  readCalls?: MutationCall[];
  readArgumentsUnread?: boolean;
  /**
   * The calls' arguments were past MAX_CALL_ARGUMENT_NODES and are not kept (each call's `args` is
   * empty): whatever reads them must assume the worst (every row, an unknown place).
   */
  argumentsUnread?: boolean;
}

/**
 * Values the mutation calls' arguments may hold in all, a variable's value counted again at each
 * call that names it. A variable is substituted by reference, so 4,000 calls naming one variable of
 * 4,000 keys give whatever reads the arguments 16 million values to walk (a 135 KB body held the
 * main thread 15 s; 1 MiB would for minutes). Past this the arguments are dropped (fail closed).
 */
export const MAX_CALL_ARGUMENT_NODES = 100_000;

/** True when the calls' arguments hold at most MAX_CALL_ARGUMENT_NODES values, counted per call. */
function argumentsWithinBudget(calls: MutationCall[]): boolean {
  let left = MAX_CALL_ARGUMENT_NODES;
  const stack: unknown[] = [];
  for (const c of calls) {
    stack.push(c.args);
    while (stack.length) {
      const v = stack.pop();
      if (--left < 0) return false;
      if (!v || typeof v !== 'object') continue;
      const children = Array.isArray(v) ? v : Object.values(v as Record<string, unknown>);
      if (children.length > left) return false;
      for (const x of children) stack.push(x);
    }
  }
  return true;
}

export interface MutationCall {
  field: string;
  args: Record<string, unknown>;
  /** The `@include`/`@skip` conditions it runs under, their values read (`include:true,skip:false`). */
  conditions?: string;
}

interface OneRequest {
  query?: unknown;
  operationName?: unknown;
  variables?: unknown;
  /** Set when the request also names a stored document a server may run instead of `query` (why). */
  stored?: string;
}

/**
 * The root fields an operation selects, through its fragments, in document order. A walk with its
 * own stack: a chain of thousands of fragments spreading the next (or inline fragments nested as
 * deep) overflowed the call stack, and the request was a 500 instead of being read.
 */
function rootFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, out: Set<string>, seen: Set<string>, nodes?: Array<[FieldNode, readonly DirectiveNode[]]>): void {
  // Each level keeps the `@include`/`@skip` directives of the fragments around it (twenty-second pass).
  const stack: Array<{ selections: readonly SelectionNode[]; next: number; conditions: readonly DirectiveNode[] }> = [{ selections: set.selections, next: 0, conditions: [] }];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const sel = top.selections[top.next++];
    if (!sel) {
      stack.pop();
      continue;
    }
    const conditions = sel.directives?.some(isCondition) ? [...top.conditions, ...sel.directives.filter(isCondition)] : top.conditions;
    if (sel.kind === graphql().Kind.FIELD) {
      if (sel.name.value !== '__typename') {
        out.add(sel.name.value);
        nodes?.push([sel, conditions]);
      }
    } else if (sel.kind === graphql().Kind.INLINE_FRAGMENT) {
      stack.push({ selections: sel.selectionSet.selections, next: 0, conditions });
    } else if (sel.kind === graphql().Kind.FRAGMENT_SPREAD) {
      const name = sel.name.value;
      if (seen.has(name)) continue; // a fragment cycle is invalid; the server refuses it
      seen.add(name);
      const frag = fragments.get(name);
      if (frag) stack.push({ selections: frag.selectionSet.selections, next: 0, conditions });
    }
  }
}

/** `@include(if: …)` and `@skip(if: …)`: whether the field under them runs. */
const isCondition = (d: DirectiveNode): boolean => d.name.value === 'include' || d.name.value === 'skip';

function operationOf(op: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>, calls: MutationCall[], variables: Record<string, unknown>, readCalls: MutationCall[]): GraphqlOperation {
  const fields = new Set<string>();
  const nodes: Array<[FieldNode, readonly DirectiveNode[]]> = [];
  rootFields(op.selectionSet, fragments, fields, new Set(), nodes);
  const values = withDefaults(op, variables);
  for (const [node, conditions] of nodes) {
    // Most read fields take no argument: nothing to keep.
    if (op.operation !== 'mutation' && !node.arguments?.length) continue;
    const args: Record<string, unknown> = emptyMap();
    for (const a of node.arguments ?? []) args[a.name.value] = graphql().valueFromASTUntyped(a.value, values);
    // Whether it runs at all (twenty-second pass): `purge @include(if: $go)` with `go: false` does
    // nothing, with `true` purges; the conditions' values, variables substituted, are its place too.
    const runs = conditions.map((d) => `${d.name.value}:${JSON.stringify(graphql().valueFromASTUntyped(d.arguments?.find((a) => a.name.value === 'if')?.value ?? { kind: graphql().Kind.NULL }, values)) ?? '?'}`);
    (op.operation === 'mutation' ? calls : readCalls).push({ field: node.name.value, args, ...(runs.length ? { conditions: runs.join(',') } : {}) });
  }
  return { type: op.operation as GraphqlOperation['type'], name: op.name?.value ?? null, fields: [...fields].sort() };
}

/**
 * The variables an operation runs with: those the request gives, and for each one it does not
 * give, the default the operation declares (`$oid: GitObjectID = "000…"`), as the server fills it in.
 */
function withDefaults(op: OperationDefinitionNode, given: Record<string, unknown>): Record<string, unknown> {
  const defaults = (op.variableDefinitions ?? []).filter((d) => d.defaultValue !== undefined && !Object.hasOwn(given, d.variable.name.value));
  if (defaults.length === 0) return given;
  const out: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, given);
  for (const d of defaults) out[d.variable.name.value] = graphql().valueFromASTUntyped(d.defaultValue!, given);
  return out;
}

/**
 * The arguments of every field of a GraphQL document that takes any, at any depth, variables (and
 * their defaults) substituted, with the field's name: what a server reads a URL from when it is
 * written as a literal argument (twenty-fourth pass: Shopify's `webhookSubscriptionCreate(
 * webhookSubscription: {callbackUrl: "…"})`). Undefined when the text is no document.
 */
export function fieldArguments(query: string, variables: unknown): Array<{ field: string; args: Record<string, unknown> }> | undefined {
  let doc: DocumentNode;
  try {
    doc = graphql().parse(query, { maxTokens: MAX_GRAPHQL_TOKENS, noLocation: true });
  } catch {
    return undefined;
  }
  // (A fragment reads its operation's variables: each operation's defaults are merged.)
  let values = variablesObject(variables);
  for (const d of doc.definitions) if (d.kind === graphql().Kind.OPERATION_DEFINITION) values = withDefaults(d, values);
  const out: Array<{ field: string; args: Record<string, unknown> }> = [];
  try {
    graphql().visit(doc, {
      Field(node) {
        if (!node.arguments?.length) return;
        const args: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        for (const a of node.arguments) args[a.name.value] = graphql().valueFromASTUntyped(a.value, values);
        out.push({ field: node.name.value, args });
      },
    });
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
  return out;
}

/** A request's variables as an object (a URL carries them as JSON text). */
function variablesObject(v: unknown): Record<string, unknown> {
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return {};
    }
  }
  return isObject(v) ? v : {};
}

/** The operations of one request that may run, or why it cannot be read. */
function parseOne(req: OneRequest, documents: Map<string, DocumentNode | string>): { operations: GraphqlOperation[]; calls: MutationCall[]; readCalls: MutationCall[]; document?: string; variables: string } | { error: string } {
  if (typeof req.query !== 'string') return { error: 'no GraphQL query string in the request (persisted queries are not visible)' };
  // One parse per document text, however many operationName and variables readings share it.
  let doc = documents.get(req.query);
  if (doc === undefined) {
    try {
      doc = graphql().parse(req.query, { noLocation: true, maxTokens: MAX_GRAPHQL_TOKENS });
    } catch (err) {
      doc = `GraphQL syntax error: ${String((err as Error).message).split('\n')[0]!.slice(0, 300)}`;
    }
    documents.set(req.query, doc);
  }
  if (typeof doc === 'string') return { error: doc };
  const fragments = new Map<string, FragmentDefinitionNode>();
  const ops: OperationDefinitionNode[] = [];
  for (const def of doc.definitions) {
    if (def.kind === graphql().Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    else if (def.kind === graphql().Kind.OPERATION_DEFINITION) ops.push(def);
  }
  if (ops.length === 0) return { error: 'the GraphQL document has no operation' };
  let selected = ops;
  if (typeof req.operationName === 'string' && req.operationName !== '') {
    const named = ops.filter((o) => o.name?.value === req.operationName);
    if (named.length === 1) selected = named;
  } else if (ops.length === 1) {
    selected = ops;
  }
  let variables = '';
  try {
    variables = req.variables === undefined ? '' : JSON.stringify(req.variables) ?? '';
  } catch {
    variables = '';
  }
  const calls: MutationCall[] = [];
  const readCalls: MutationCall[] = [];
  const values = variablesObject(req.variables);
  return { operations: selected.map((o) => operationOf(o, fragments, calls, values, readCalls)), calls, readCalls, document: req.query, variables };
}

/**
 * The requests a server may build from repeated parameters: each query under each distinct
 * `operationName` and `variables` value (none given: undefined). Too many distinct values is an error.
 */
function parameterReadings(queries: string[], names: string[], variables: string[], side: Record<string, string> = emptyMap()): OneRequest[] | { error: string } {
  const n = [...new Set(names)];
  const v = [...new Set(variables)];
  if (n.length > MAX_PARAMETER_VALUES || v.length > MAX_PARAMETER_VALUES) return { error: `more than ${MAX_PARAMETER_VALUES} different operationName or variables values` };
  const out: OneRequest[] = [];
  for (const query of queries) {
    const stored = storedDocument(side, query);
    for (const operationName of n.length ? n : [undefined]) {
      for (const vars of v.length ? v : [undefined]) out.push({ query, operationName, variables: vars, ...(stored ? { stored } : {}) });
    }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Names under which a request asks the server to run a document it stored earlier, compared
 * without letter case: graphql-php (Lighthouse, WPGraphQL) lower-cases every key and runs
 * `queryId`, `documentId` or `id` **instead of** a `query` sent beside it; Relay servers take
 * `doc_id`, graphql-ruby's OperationStore `operationId`.
 */
const storedDocumentNames = new Set(['id', 'queryid', 'documentid', 'doc_id', 'docid', 'operationid']);

/** An APQ `extensions.persistedQuery.sha256Hash` (the extensions as an object or JSON text). */
function persistedHash(extensions: unknown): unknown {
  if (typeof extensions === 'string') {
    try {
      extensions = JSON.parse(extensions);
    } catch {
      return undefined;
    }
  }
  if (!isObject(extensions)) return undefined;
  const pq = Object.entries(extensions).find(([k]) => k.toLowerCase() === 'persistedquery')?.[1];
  return isObject(pq) ? (pq.sha256Hash ?? pq.sha256hash ?? null) : pq === undefined ? undefined : null;
}

/**
 * Why a request that carries a `query` may run another document, the one a server stored under
 * an id the request also names (undefined when it names none). An APQ hash equal to the query's
 * own SHA-256 names that query (Apollo and Lighthouse refuse a hash that differs; servers that do
 * not check it may run what was stored under it).
 */
function storedDocument(req: Record<string, unknown>, query: unknown): string | undefined {
  if (typeof query !== 'string' || query === '') return undefined;
  for (const [k, v] of entriesOnce(req)) {
    const name = k.toLowerCase();
    if (storedDocumentNames.has(name) && v !== null && v !== undefined && v !== '') return `the request names a stored document (${k}) beside its query: a server may run that one instead`;
    if (name === 'extensions') {
      const hash = persistedHash(v);
      if (hash !== undefined && hash !== createHash('sha256').update(query).digest('hex')) return 'the persisted-query hash is not the hash of the query sent beside it: a server may run the document stored under it';
    }
  }
  return undefined;
}

function isDocument(text: string): boolean {
  try {
    graphql().parse(text, { noLocation: true, maxTokens: MAX_GRAPHQL_TOKENS });
    return true;
  } catch {
    return false;
  }
}

const urlParamNames = ['query', 'operationName', 'variables'] as const;

/**
 * A URL's `query`, `operationName` and `variables` under every name PHP or Rack 2 reads as them
 * (`?%20query=`, `?[operationName]=`): graphql-php and graphql-ruby servers run what those read.
 */
export function urlGraphqlParams(query: Record<string, string[]>): Partial<Record<(typeof urlParamNames)[number], string[]>> {
  return paramsByServerName(query, urlParamNames);
}

function multiMap(params: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = emptyMap();
  for (const [k, v] of params) (out[k] ??= []).push(v);
  return out;
}

/** One JSON request object, and whether it also names a stored document. */
function jsonRequest(m: Record<string, unknown>): OneRequest {
  const stored = storedDocument(m, m.query);
  return { query: m.query, operationName: m.operationName, variables: m.variables, ...(stored ? { stored } : {}) };
}

/**
 * The fields of a form, multipart body or URL that name a stored document (`id`, `queryId`,
 * `extensions` …, any letter case, under the names PHP and Rack 2 read), as one record.
 */
function storedFields(fields: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [raw, v] of fields) {
    const name = formName(raw).toLowerCase();
    if (storedDocumentNames.has(name) || name === 'extensions') out[name] = v;
  }
  return out;
}

/**
 * Whether a URL names a stored document to run (an APQ `extensions` with a `persistedQuery`, or
 * `id`, `queryId`, `documentId`, `doc_id`, `operationId`): a GET carrying one runs that document
 * (graphql-ruby's persisted-query gems run a stored mutation so too) though no `query` is there.
 * `anyId`: also the bare id names (on a URL that says GraphQL).
 */
export function urlNamesStoredDocument(query: Record<string, string[]>, anyId: boolean): boolean {
  const fields = storedFields(Object.entries(query).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v])));
  for (const [name, v] of Object.entries(fields)) {
    if (name === 'extensions' ? persistedHash(v) !== undefined : anyId && v !== '') return true;
  }
  return false;
}

/**
 * Whether a request asks for an APQ persisted query (`extensions.persistedQuery`) in its URL or
 * its JSON body (a member of a batch too), whatever its URL says: one URL runs every stored
 * document, so what it runs is not in the request (`parsed: false`), and no grant for one covers another.
 */
export function namesPersistedQuery(request: RequestInfo): boolean {
  if (urlNamesStoredDocument(request.query, false)) return true;
  const json = request.body.json;
  const members = Array.isArray(json) ? json.slice(0, MAX_BATCH) : [json];
  return members.some((m) => isObject(m) && entriesOnce(m).some(([k, v]) => k.toLowerCase() === 'extensions' && persistedHash(v) !== undefined));
}

/** The requests a JSON body (one request or a batch) carries. */
function jsonRequests(json: unknown): OneRequest[] | { error: string } {
  if (Array.isArray(json)) {
    if (json.length === 0) return { error: 'empty GraphQL batch' };
    if (json.length > MAX_BATCH) return { error: `GraphQL batch of more than ${MAX_BATCH} requests` };
    return json.map((m) => (isObject(m) ? jsonRequest(m) : { query: undefined }));
  }
  if (isObject(json)) {
    // Rails wraps a JSON array body as `_json`, and graphql-ruby controllers (GitLab's among them)
    // run `params[:_json]` as a multiplex when it is there, whatever `query` beside it says: an
    // object's own `_json` list is a batch that may run too.
    const multiplex = Object.hasOwn(json, '_json') && Array.isArray(json._json) ? json._json : undefined;
    if (multiplex === undefined) return [jsonRequest(json)];
    if (multiplex.length > MAX_BATCH) return { error: `GraphQL batch of more than ${MAX_BATCH} requests` };
    const members = multiplex.map((m) => (isObject(m) ? jsonRequest(m) : { query: undefined }));
    return typeof json.query === 'string' ? [jsonRequest(json), ...members] : members.length ? members : [{ query: undefined }];
  }
  return { error: 'the JSON body is not a GraphQL request' };
}

/** Nested `variables[…]` fields read at most; past it the variables read as `{}` (unknown, as missing ones are). */
const MAX_NESTED_FIELDS = 1000;

/**
 * A form's Rack nested `variables[a][b]=v` / `variables[a][]=v` fields as the object Rack builds
 * (`params[:variables]`, which graphql-ruby controllers take as the variables), as JSON texts: the
 * last of a repeated field kept (Rack, PHP), and the first (a reading more); `{}` past
 * MAX_NESTED_FIELDS (the variables are then unknown to the reader, as a missing one is).
 */
function formNestedVariables(pairs: Iterable<[string, string]>): string[] {
  const list = [...pairs].filter(([name]) => name.startsWith('variables['));
  if (list.length === 0) return [];
  if (list.length > MAX_NESTED_FIELDS) return ['{}'];
  const firstWins: Array<[string, string]> = [];
  const named = new Set<string>();
  for (const [name, v] of list) if (name.endsWith('[]') || !named.has(name)) named.add(name), firstWins.push([name, v]);
  return [...new Set([nestedObject(list), nestedObject(firstWins)])];
}

function nestedObject(pairs: Iterable<[string, string]>): string {
  const root: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, v] of pairs) {
    if (!name.startsWith('variables[')) continue;
    const keys: string[] = [];
    let i = 'variables'.length;
    while (i < name.length && name[i] === '[') {
      const end = name.indexOf(']', i);
      if (end < 0) break;
      keys.push(name.slice(i + 1, end));
      i = end + 1;
    }
    if (keys.length === 0 || keys.length > 16) continue;
    let node: Record<string, unknown> | unknown[] = root;
    for (const [n, key] of keys.entries()) {
      const last = n === keys.length - 1;
      const next = keys[n + 1] === '' ? [] : (Object.create(null) as Record<string, unknown>);
      if (Array.isArray(node)) {
        // `a[][b]`: Rack starts a new element when the last one already has `b`.
        const tail = node[node.length - 1];
        if (last) node.push(v);
        else if (key === '' && tail && typeof tail === 'object' && !Array.isArray(tail) && !Object.hasOwn(tail, keys[n + 1]!)) node = tail as Record<string, unknown>;
        else {
          node.push(next);
          node = next;
        }
        continue;
      }
      if (key === '') break; // `variables[]` at the top is no object Rack keeps
      if (last) node[key] = v;
      else {
        const have = node[key];
        node = (have && typeof have === 'object' ? have : (node[key] = next)) as Record<string, unknown> | unknown[];
      }
    }
  }
  return JSON.stringify(root);
}

/**
 * The `query` values of a form's Rack nested `_json` list (`_json[][query]=…`, `_json[0][query]=…`):
 * Rack builds `params[:_json]`, which graphql-ruby controllers run as a multiplex.
 */
function formMultiplex(pairs: Iterable<[string, string]>): string[] {
  const out: string[] = [];
  for (const [name, v] of pairs) if (/^_json\[\d*\]\[query\]$/.test(name)) out.push(v);
  return out;
}

/**
 * The requests a multipart/form-data body carries: `query`, `operationName` and `variables` fields
 * (Rails and PHP read form fields from multipart bodies too), or an `operations` field (the GraphQL
 * multipart request spec for uploads) holding a JSON request or batch.
 */
function multipartRequests(body: Buffer, header: string): OneRequest[] | { error: string } {
  // Names compared without letter case: graphql-php lower-cases every key (`QUERY` is `query`).
  const wanted = new Set(['query', 'operationname', 'variables', 'operations', 'extensions', ...storedDocumentNames]);
  const mp = multipartFields(body, header, (n) => wanted.has(n.toLowerCase()) || n.startsWith('variables['));
  if (!mp.complete) return { error: 'the multipart body could not be read to its end' };
  const utf8 = (v: string): string => Buffer.from(v, 'latin1').toString('utf8');
  const field = (n: string): string[] => mp.fields.filter(([k]) => k.toLowerCase() === n).map(([, v]) => utf8(v));
  // A repeated field: Rack keeps the last, other parsers the first; each may run.
  const nested = formNestedVariables(mp.fields.map(([k, v]): [string, string] => [k, utf8(v)]));
  const fromFields = parameterReadings(field('query'), field('operationname'), [...field('variables'), ...nested], storedFields(mp.fields));
  if ('error' in fromFields) return fromFields;
  const out: OneRequest[] = fromFields;
  for (const ops of field('operations')) {
    let json: unknown;
    try {
      json = JSON.parse(ops);
    } catch {
      return { error: 'the multipart operations field is not JSON' };
    }
    const more = jsonRequests(json);
    if ('error' in more) return more;
    appendAll(out, more);
  }
  return out.length ? out : { error: 'no GraphQL query in the multipart body' };
}

/**
 * A form field's name as Rack 2 and PHP read it: Rack 2 drops leading `[`/`]` and trailing `]`
 * (`[query]` is `query`), PHP leading blanks and all after a NUL byte. Linear, no pattern.
 */
function formName(name: string): string {
  const nul = name.indexOf('\0');
  let end = nul >= 0 ? nul : name.length;
  let start = 0;
  while (start < end && (name[start] === '[' || name[start] === ']' || name[start] === ' ')) start++;
  while (end > start && name[end - 1] === ']') end--;
  return name.slice(start, end);
}

/** The requests a body carries, read the ways servers read it; undefined when it is none of them. */
// The three shapes cannot be mistaken for each other (valid JSON and a `name=` form are never a valid
// document), so each is tried whatever the Content-Type says: a server that ignores it reads it so.
function requestsIn(text: string): OneRequest[] | { error: string } {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (!trimmed) return { error: 'empty GraphQL request body' };
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(trimmed);
    } catch {
      isJson = false; // `{ viewer { login } }` is a document, not JSON
    }
    if (isJson) return jsonRequests(json);
  }
  if (/^[&[\]]*[%A-Za-z_][A-Za-z0-9_%.[\]-]*=/.test(trimmed)) {
    const form = new URLSearchParams(trimmed);
    // Names compared without letter case: graphql-php lower-cases every key (`QUERY` is `query`).
    const all = (f: URLSearchParams, key: string): string[] => [...f].filter(([n]) => formName(n).toLowerCase() === key).map(([, v]) => v);
    // Rack 2 also splits forms on `;`: its `query` fields may run too (those that are GraphQL: a
    // `;` inside a query's string cuts it into text the server refuses).
    const split = trimmed.includes(';') ? rackTwoParams(trimmed) : undefined;
    let plain = all(form, 'query');
    const splitQueries = split ? all(split, 'query') : [];
    const multiplex = formMultiplex(split ?? form);
    // More documents than a batch may hold: unreadable before each is compared and parsed (twenty
    // thousand `query=` fields held the event loop for seconds).
    if (plain.length + splitQueries.length + multiplex.length > MAX_BATCH) return { error: `GraphQL batch of more than ${MAX_BATCH} requests` };
    const semi = splitQueries.filter((q) => !plain.includes(q) && isDocument(q));
    // A value that holds `;` and is no document (`query=A;query=B` unsplit) is refused by a server
    // that does not split: not a reading, when splitting finds documents.
    if (semi.length) plain = plain.filter((q) => !q.includes(';') || isDocument(q));
    // Rack's nested `_json[][query]`: a multiplex a graphql-ruby controller runs (each query alone).
    appendAll(semi, multiplex.filter((q) => !plain.includes(q) && !semi.includes(q)));
    if (plain.length || semi.length) {
      // Several `query`, `operationName` or `variables` fields: servers keep the first or the last
      // (Rack, so Rails and GitHub, the last); every combination may run.
      const names = [...all(form, 'operationname'), ...(split ? all(split, 'operationname') : [])];
      const variables = [...all(form, 'variables'), ...(split ? all(split, 'variables') : [])];
      // Rack's nested `variables[o]=…` fields are the variables too (graphql-ruby takes the hash).
      appendAll(variables, formNestedVariables(split ?? form));
      return parameterReadings([...plain, ...semi], names, variables, storedFields(split ? [...form, ...split] : form));
    }
  }
  return [{ query: trimmed }];
}

/**
 * Reads a request to a GraphQL endpoint. `body` is the raw captured body; `truncated` says the
 * capture cut it (then it is not read: what was cut may hold any operation). `readings` are the
 * other JSON values servers may read the body as: the body after its content coding and charset
 * are undone, and the first-wins reading of duplicate keys. The requests of every reading may run,
 * so all are listed (a policy judges the most dangerous one).
 */
export function parseGraphqlRequest(request: RequestInfo, body: Buffer, truncated: boolean, readings: unknown[] = []): GraphqlRequest {
  const out: GraphqlRequest = { info: { parsed: true, operations: [] }, documents: [], variables: [], calls: [], readCalls: [] };
  const fail = (error: string): GraphqlRequest => {
    out.info.parsed = false;
    out.info.error = error;
    return out;
  };
  type Parsed = ReturnType<typeof parseOne>;
  // Each distinct request is parsed once, however many readings carry it.
  const cache = new Map<string, Parsed>();
  const documents = new Map<string, DocumentNode | string>();
  const parseCached = (r: OneRequest): [string, Parsed] => {
    let key: string;
    try {
      key = JSON.stringify([r.query, r.operationName, r.variables]) ?? '';
    } catch {
      // Variables nested deeper than JSON.stringify's recursion (60,000 objects): a RangeError
      // out of the describe step was a 500. Unreadable, so held as the worst reading.
      key = `unreadable:${cache.size}`;
      cache.set(key, { error: 'the GraphQL request is nested too deeply to read' });
    }
    let one = cache.get(key);
    if (!one) cache.set(key, (one = parseOne(r, documents)));
    return [key, one];
  };
  const parsed: Array<[string, Parsed]> = [];
  const seen = new Set<string>();
  // How many times a batch array holds each request (twenty-second pass): readings of one request
  // are alternatives and counted once, but `[r, r, r]` runs r three times.
  const repeats = new Map<string, number>();
  // A query beside the id of a stored document: the stored one may run instead, unseen.
  let stored: string | undefined;
  const add = (r: OneRequest): void => {
    stored ??= r.stored;
    const [key, one] = parseCached(r);
    if (seen.has(key)) return;
    seen.add(key);
    parsed.push([key, one]);
  };
  const url = urlGraphqlParams(request.query);
  let urlQueries = url.query ?? [];
  let urlNames = url.operationName ?? [];
  let urlVariables = url.variables ?? [];
  // Rack 2 also splits the query on `;`: its `query` fields may run too. A value that holds `;`
  // and is no document is what a server that does not split refuses, so it is not a reading.
  const search = request.url.includes(';') ? new URL(request.url).search : '';
  if (search.includes(';')) {
    const split = urlGraphqlParams(multiMap(rackTwoParams(search.slice(1))));
    const semi = (split.query ?? []).filter((q) => !urlQueries.includes(q) && isDocument(q));
    if (semi.length) urlQueries = [...urlQueries.filter((q) => !q.includes(';') || isDocument(q)), ...semi];
    urlNames = [...urlNames, ...(split.operationName ?? [])];
    urlVariables = [...urlVariables, ...(split.variables ?? [])];
  }
  // Rack's nested `?variables[o]=…` (Rails merges the URL's parameters into `params[:variables]`).
  appendAll(urlVariables, formNestedVariables(Object.entries(request.query).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v]))));
  // A repeated URL parameter: servers take the first or the last, so every distinct value is read.
  urlNames = [...new Set(urlNames)];
  urlVariables = [...new Set(urlVariables)];
  if (urlNames.length > MAX_PARAMETER_VALUES || urlVariables.length > MAX_PARAMETER_VALUES) return fail(`more than ${MAX_PARAMETER_VALUES} different operationName or variables values in the URL`);
  const fromUrl = parameterReadings(urlQueries, urlNames, urlVariables, storedFields(Object.entries(request.query).flatMap(([k, vs]) => vs.map((v): [string, string] => [k, v]))));
  if (!('error' in fromUrl)) for (const r of fromUrl) add(r);
  // Servers mix the URL's and the body's parameters (express-graphql takes each from the URL
  // first, Rails lets the body win): a body request may run under the URL's operationName or
  // variables, and the URL's query under the body's operationName.
  const addBody = (r: OneRequest): void => {
    if (typeof r.query === 'string') {
      add(r);
      for (const n of urlNames) if (n !== r.operationName) add({ ...r, operationName: n });
      for (const v of urlVariables) add({ ...r, variables: v });
    } else if (urlQueries.length === 0) {
      add(r); // no query anywhere: unreadable (a persisted query)
    }
    if (typeof r.operationName === 'string') for (const q of urlQueries) add({ query: q, operationName: r.operationName, variables: r.variables });
  };
  // A body is read whatever the method: a GET with a body may be run as a POST (method overrides),
  // and some servers read the body of any method.
  const bodyless = request.method === 'GET' || request.method === 'HEAD';
  if (body.length > 0 || truncated || (!bodyless && urlQueries.length === 0)) {
    if (truncated) return fail('the GraphQL body was larger than the capture and could not be read whole');
    const text = body.toString('utf8');
    // (Of several Content-Type headers, a multipart one is what some server reads the body by.)
    const typeHeader = (request.headers['content-type'] ?? []).find((h) => multipartBoundaries(h).length > 0);
    const parts = typeHeader !== undefined ? multipartRequests(body, typeHeader) : undefined;
    const found = parts && !('error' in parts) ? parts : requestsIn(text);
    const others: OneRequest[] = [];
    for (const r of readings) {
      const more = jsonRequests(r);
      if (!('error' in more)) appendAll(others, more);
    }
    // Raw bytes no server reads as GraphQL (gzip, UTF-16) are judged by what they decode to.
    const rawUnread = 'error' in found || found.some((r) => 'error' in parseCached(r)[1]);
    if (!(rawUnread && others.length > 0)) {
      if ('error' in found) return fail(found.error);
      if (found.length > 1 || text.trim().startsWith('[')) out.info.batch = found.length;
      for (const r of found) {
        const key = parseCached(r)[0];
        repeats.set(key, (repeats.get(key) ?? 0) + 1);
        addBody(r);
      }
    }
    for (const r of others) addBody(r);
  }
  if (parsed.length === 0) return fail('no GraphQL query in the request');
  const errors: string[] = [];
  for (const [key, one] of parsed) {
    if ('error' in one) {
      errors.push(one.error);
      continue;
    }
    appendAll(out.info.operations, one.operations);
    appendAll(out.calls!, one.calls);
    // (Repeats past MAX_REPEATED_CALLS in all leave the arguments unread: no grant covers the batch.)
    for (let i = (repeats.get(key) ?? 1) - 1; i > 0 && one.calls.length > 0; i--) {
      if (out.calls!.length + one.calls.length > MAX_REPEATED_CALLS) {
        out.argumentsUnread = true;
        break;
      }
      appendAll(out.calls!, one.calls);
    }
    appendAll(out.readCalls!, one.readCalls);
    if (one.document !== undefined) out.documents.push(one.document);
    out.variables.push(one.variables);
  }
  if (stored !== undefined) errors.push(stored);
  if (errors.length) {
    out.info.parsed = false;
    out.info.error = errors[0];
  }
  if (!argumentsWithinBudget(out.calls!)) {
    out.calls = out.calls!.map((c) => ({ field: c.field, args: {} }));
    out.argumentsUnread = true;
  }
  if (!argumentsWithinBudget(out.readCalls!)) {
    out.readCalls = [];
    out.readArgumentsUnread = true;
  }
  return out;
}

/**
 * Where each mutation that may run acts, `field(place=value;…)`: its arguments that name a place or
 * an object by id (`noteableId`, `teamId`, `to`, `projectPath`), at any depth, variables
 * substituted (one not given is `?`). A host no service module describes has no path that says
 * where a GraphQL call acts (every call is one URL), so these are its place, as a REST path's ids
 * are. `(arguments)=?` when the arguments were too many to keep or read.
 */
export function mutationPlaces(g: GraphqlRequest, reading: ArgumentReading = 'places'): string[] {
  const out: string[] = [];
  const budget = { nodes: 0 };
  for (const c of g.calls ?? []) {
    const read = g.argumentsUnread ? '(arguments)=?' : argumentPlaces(c.args, budget, true, undefined, false, reading) ?? '(arguments)=?';
    // A mutation that deletes, changes, sends, pays or grants names its object by every argument no
    // list holds (`deletePod(name: "web-1")`; twenty-second pass, follow-up), where no module names it.
    const objects = reading === 'places' && !g.argumentsUnread && (actsOnObject(c.field) || setsByArgument(c.field, c.args)) ? objectArguments(c.args, c.field) ?? ['(objects)=?'] : [];
    const places = withObjects(read, objects);
    out.push(`${placeValue(c.field)}(${places}${c.conditions === undefined ? '' : `;@if=${placeValue(c.conditions)}`})`);
    if (out.length > MAX_MCP_PLACES) return ['(calls)=?'];
  }
  // How many times each runs (an array of requests, aliases): a grant for one send covers no fifty.
  return counted(out);
}

/** Mutation fields of the operations that may run (sorted, unique). */
export function mutationFields(info: GraphqlInfo): string[] {
  return [...new Set(info.operations.filter((o) => o.type === 'mutation').flatMap((o) => o.fields))].sort();
}

/**
 * A service description for a GraphQL request from a per-field classifier: queries read, an
 * unreadable body is `graphql.unparsed` (write; held at high risk by the default policy), a mutation
 * takes the operation and effect of its most dangerous root field.
 */
export function describeGraphql(name: string, gql: GraphqlRequest | undefined, classify: (field: string) => [string, Effect]): ServiceInfo {
  const info = gql?.info;
  // A reading that cannot be read beside mutations that can: judged by the mutations (the default
  // policy holds any unreadable reading at high risk on `input.graphql.parsed == false` as well).
  const mutates = !!info?.operations.some((o) => o.type === 'mutation');
  if (!info || (!info.parsed && !mutates)) return { name, operation: 'graphql.unparsed', params: {}, effect: 'write' };
  if (!mutates) return { name, operation: 'graphql.query', params: {}, effect: 'read' };
  const order: Record<Effect, number> = { read: 0, write: 1, send: 2, delete: 3, pay: 3, admin: 3 };
  const fields = mutationFields(info);
  let best: [string, Effect] | undefined;
  const operations = new Set<string>();
  for (const f of fields) {
    const c = classify(f);
    operations.add(c[0]);
    if (!best || order[c[1]] > order[best[1]]) best = c;
  }
  best ??= ['graphql.mutation', 'write'];
  return { name, operation: best[0], params: { mutations: fields, operations: [...operations].sort() }, effect: best[1] };
}
