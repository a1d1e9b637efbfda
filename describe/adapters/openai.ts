// OpenAI API (platform.openai.com/docs/api-reference): https://api.openai.com/v1/…
// Model inference changes nothing you own, so it is a `read` (egress budgets bound what leaves) —
// unless the request asks OpenAI to reach third parties on the agent's behalf (remote MCP servers,
// connectors): that bypasses Airlock, so it is a `send` and the default policy asks first.
import { createHash } from 'node:crypto';
import type { RequestInfo, ServiceInfo } from '../types.ts';
import { hostIs, type ServiceAdapter } from './adapter.ts';
import { fromTable, jsonObject, RouteTable, type RouteSpec } from './routes.ts';

const routes: RouteSpec[] = [
  { route: 'POST /v1/chat/completions', operation: 'chat.completions.create', effect: 'read' },
  { route: 'POST /v1/responses', operation: 'responses.create', effect: 'read' },
  { route: 'GET /v1/responses/{response_id}', operation: 'responses.retrieve', effect: 'read' },
  // What a stored response was given (its input items: whatever the agent sent, another session's included).
  { route: 'GET /v1/responses/{response_id}/input_items', operation: 'responses.input_items.list', effect: 'read' },
  { route: 'DELETE /v1/responses/{response_id}', operation: 'responses.delete', effect: 'delete' },
  { route: 'POST /v1/completions', operation: 'completions.create', effect: 'read' },
  { route: 'POST /v1/embeddings', operation: 'embeddings.create', effect: 'read' },
  { route: 'POST /v1/moderations', operation: 'moderations.create', effect: 'read' },
  { route: 'POST /v1/audio/{kind}', operation: 'audio.create', effect: 'read' },
  { route: 'POST /v1/images/{kind}', operation: 'images.create', effect: 'read' },
  { route: 'GET /v1/models', operation: 'models.list', effect: 'read' },
  { route: 'GET /v1/models/{model}', operation: 'models.retrieve', effect: 'read' },
  { route: 'DELETE /v1/models/{model}', operation: 'models.delete', effect: 'delete' },
  { route: 'GET /v1/files', operation: 'files.list', effect: 'read' },
  { route: 'POST /v1/files', operation: 'files.create', effect: 'write' },
  { route: 'GET /v1/files/{file_id}', operation: 'files.retrieve', effect: 'read' },
  { route: 'GET /v1/files/{file_id}/content', operation: 'files.content', effect: 'read' },
  { route: 'DELETE /v1/files/{file_id}', operation: 'files.delete', effect: 'delete' },
  { route: 'POST /v1/uploads', operation: 'uploads.create', effect: 'write' },
  { route: 'POST /v1/uploads/{upload_id}/{action}', operation: 'uploads.update', effect: 'write' },
  { route: 'POST /v1/batches', operation: 'batches.create', effect: 'write' },
  { route: 'POST /v1/batches/{batch_id}/cancel', operation: 'batches.cancel', effect: 'write' },
  { route: 'POST /v1/fine_tuning/jobs', operation: 'fine_tuning.jobs.create', effect: 'write' },
  { route: 'POST /v1/fine_tuning/jobs/{job_id}/cancel', operation: 'fine_tuning.jobs.cancel', effect: 'write' },
  { route: 'POST /v1/vector_stores', operation: 'vector_stores.create', effect: 'write' },
  // Searching a vector store changes nothing: it reads chunks of the files stored in it.
  { route: 'POST /v1/vector_stores/{vector_store_id}/search', operation: 'vector_stores.search', effect: 'read' },
  { route: 'POST /v1/vector_stores/{path+}', operation: 'vector_stores.update', effect: 'write' },
  { route: 'DELETE /v1/vector_stores/{path+}', operation: 'vector_stores.delete', effect: 'delete' },
  { route: 'POST /v1/assistants', operation: 'assistants.create', effect: 'write' },
  { route: 'POST /v1/assistants/{assistant_id}', operation: 'assistants.update', effect: 'write' },
  { route: 'DELETE /v1/assistants/{assistant_id}', operation: 'assistants.delete', effect: 'delete' },
  { route: 'POST /v1/threads', operation: 'threads.create', effect: 'write' },
  { route: 'POST /v1/threads/{path+}', operation: 'threads.update', effect: 'write' },
  // An Assistants run is a model call over content stored at OpenAI by reference: its assistant's
  // tools (file_search over the assistant's vector stores, code_interpreter over its files) and its
  // thread's messages. Its answer (the run's streamed events, its messages) carries that content.
  { route: 'POST /v1/threads/runs', operation: 'threads.runs.create', effect: 'write' },
  { route: 'POST /v1/threads/{thread_id}/runs', operation: 'threads.runs.create', effect: 'write' },
  { route: 'POST /v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs', operation: 'threads.runs.submit_tool_outputs', effect: 'write' },
  { route: 'DELETE /v1/threads/{path+}', operation: 'threads.delete', effect: 'delete' },
  { route: 'POST /v1/conversations', operation: 'conversations.create', effect: 'write' },
  { route: 'GET /v1/conversations/{path+}', operation: 'conversations.retrieve', effect: 'read' },
  { route: 'POST /v1/conversations/{path+}', operation: 'conversations.update', effect: 'write' },
  { route: 'DELETE /v1/conversations/{path+}', operation: 'conversations.delete', effect: 'delete' },
  // Realtime: a session (or its ephemeral client secret, or an incoming SIP call accepted) is
  // inference configured by its `session`; transferring a phone call places a call to the number
  // named (`refer`): a send. Other realtime calls change a call's state.
  { route: 'POST /v1/realtime/sessions', operation: 'realtime.sessions.create', effect: 'read' },
  { route: 'POST /v1/realtime/transcription_sessions', operation: 'realtime.transcription_sessions.create', effect: 'read' },
  { route: 'POST /v1/realtime/client_secrets', operation: 'realtime.client_secrets.create', effect: 'read' },
  { route: 'POST /v1/realtime/calls', operation: 'realtime.calls.create', effect: 'read' },
  { route: 'POST /v1/realtime/calls/{call_id}/accept', operation: 'realtime.calls.accept', effect: 'read' },
  { route: 'POST /v1/realtime/calls/{call_id}/refer', operation: 'realtime.calls.refer', effect: 'send' },
  { route: 'POST /v1/realtime/{path+}', operation: 'realtime.update', effect: 'write' },
  // Sharing a fine-tuned model with other projects is an access change (the docs: admin key only).
  { route: 'GET /v1/fine_tuning/checkpoints/{checkpoint}/permissions', operation: 'fine_tuning.checkpoints.permissions.list', effect: 'read' },
  { route: 'POST|DELETE /v1/fine_tuning/checkpoints/{checkpoint}/permissions', operation: 'fine_tuning.checkpoints.permissions.update', effect: 'admin' },
  { route: 'DELETE /v1/fine_tuning/checkpoints/{checkpoint}/permissions/{permission_id}', operation: 'fine_tuning.checkpoints.permissions.delete', effect: 'admin' },
  // Organization administration: keys, users, invites, projects.
  { route: 'GET /v1/organization/{path+}', operation: 'organization.get', effect: 'read' },
  { route: 'POST|PUT|PATCH|DELETE /v1/organization/{path+}', operation: 'organization.update', effect: 'admin' },
];

const table = new RouteTable(routes);

/** Tool types that make the provider call third parties itself, outside Airlock. */
export const remoteToolTypes = new Set(['mcp', 'connector', 'web_fetch', 'url_context']);

/**
 * The model call's configuration: the body itself, or for the Realtime API its `session`
 * (`POST /v1/realtime/client_secrets {session: {tools, …}}`, and the `session` field, JSON text, of
 * a `POST /v1/realtime/calls` form), which configures the same tools (remote MCP servers
 * included) for the session the agent opens with it.
 */
function configurations(request: RequestInfo): Record<string, unknown>[] {
  const body = jsonObject(request);
  const found: Record<string, unknown>[] = body ? [body] : [];
  const session = body?.session;
  if (session && typeof session === 'object' && !Array.isArray(session)) found.push(session as Record<string, unknown>);
  for (const text of request.body.form?.session ?? []) {
    try {
      const v: unknown = JSON.parse(text);
      if (v && typeof v === 'object' && !Array.isArray(v)) found.push(v as Record<string, unknown>);
    } catch {
      // not JSON: configures nothing the provider would read either
    }
  }
  return found;
}

function toolTypesOf(config: Record<string, unknown>): string[] {
  const tools = config.tools;
  if (!Array.isArray(tools)) return [];
  return tools.map((t) => (t && typeof t === 'object' ? (t as { type?: unknown }).type : undefined)).filter((t): t is string => typeof t === 'string');
}

/** Tool types named in the body (`tools[].type`, a Realtime `session.tools[].type`), for policies to inspect. */
export function toolTypes(request: RequestInfo): string[] {
  return [...new Set(configurations(request).flatMap(toolTypesOf))].sort();
}

/** The request with `body` as its JSON body: a model call nested in another (a batch member, a realtime `session`). */
export function withJsonBody(request: RequestInfo, body: unknown): RequestInfo {
  return { ...request, body: { ...request.body, json: body } };
}

/**
 * Merges what a nested model call asks of the provider into the outer request's description: its
 * remote tools and searches. Any nested call that reaches third parties makes the whole a `send`.
 */
export function mergeNestedInference(info: ServiceInfo, request: RequestInfo, bodies: unknown[], extraRemote: (body: unknown) => string[] = () => []): ServiceInfo {
  const remote = new Set<string>();
  const search = new Set<string>();
  const targets = new Set<string>();
  for (const b of bodies) {
    const nested = describeInference({ name: info.name, operation: info.operation, params: {}, effect: 'read' }, withJsonBody(request, b), extraRemote(b));
    for (const t of (nested.params.remote_tools as string[] | undefined) ?? []) remote.add(t);
    for (const t of (nested.params.remote_targets as string[] | undefined) ?? []) targets.add(t);
    for (const t of (nested.params.search_tools as string[] | undefined) ?? []) search.add(t);
  }
  if (search.size) info.params.search_tools = [...new Set([...((info.params.search_tools as string[] | undefined) ?? []), ...search])].sort();
  if (remote.size) {
    info.params.remote_tools = [...new Set([...((info.params.remote_tools as string[] | undefined) ?? []), ...remote])].sort();
    const all = [...new Set([...((info.params.remote_targets as string[] | undefined) ?? []), ...targets])].sort();
    info.params.remote_targets = all.slice(0, MAX_REMOTE_TARGETS).concat(all.length > MAX_REMOTE_TARGETS ? ['?'] : []);
    info.effect = 'send';
  }
  return info;
}

/** Keys whose http(s) value the provider fetches itself: an image, file, document, audio or video given by link. */
const fetchedUrlKeys = new Set(['url', 'image_url', 'file_url', 'document_url', 'audio_url', 'video_url']);

/**
 * Whether the content hands the provider a link to fetch (OpenAI `image_url`, `input_image`,
 * `input_file.file_url`; Anthropic image and document `source: {type: "url"}`): the provider's
 * servers then request that URL, data in it included, from outside Airlock. Read over the whole
 * content, bounded; `data:` URLs are inline content, not fetched.
 */
function fetchesUrls(body: unknown, found: Set<string> = new Set()): boolean {
  let budget = 100_000;
  const walk = (v: unknown, depth: number): boolean => {
    if (--budget < 0 || depth > 64) {
      found.add('?'); // too deep or large to read: fails closed
      return true;
    }
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1)).some(Boolean);
    if (!v || typeof v !== 'object') return false;
    let any = false;
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'string' && fetchedUrlKeys.has(k) && /^\s*https?:/i.test(x)) {
        found.add(`url:${x.trim()}`);
        any = true;
      } else if (x && typeof x === 'object' && walk(x, depth + 1)) any = true;
    }
    return any;
  };
  return walk(body, 0);
}

/** A function or custom tool's definition: its parameter schema and grammar name fields the model fills, not settings. */
const toolSchemaKeys = new Set(['parameters', 'input_schema', 'format', 'schema']);

/**
 * Where a container the provider runs the model's code in may connect (twenty-seventh pass): a
 * hosted shell's `environment` or a code interpreter's `container` given a `network_policy`
 * (`{type: "allowlist", allowed_domains: […]}`, with `domain_secrets` for them) opens outbound
 * network from OpenAI's servers, and the code the model writes there (`curl https://…/?d=<rows>`)
 * carries whatever the call holds to those domains, outside Airlock. Read under every tool at any
 * depth, bounded: each allowed domain is a target `net:<domain>`; a policy of any other shape, or a
 * list not all names, is `?` (fails closed); `disabled` (or none) reaches nothing.
 */
function containerNetworks(configs: Record<string, unknown>[]): string[] {
  return readTools(configs, (k, x, out) => {
    if (k !== 'network_policy') return false;
    if (x === null || x === undefined) return true;
    const { type, allowed_domains: domains } = (typeof x === 'object' && !Array.isArray(x) ? x : {}) as { type?: unknown; allowed_domains?: unknown };
    if (type === 'disabled') return true;
    if (type === 'allowlist' && Array.isArray(domains) && domains.length > 0 && domains.every((d) => typeof d === 'string' && d.trim() !== '')) {
      for (const d of domains as string[]) out.add(`net:${d.trim().toLowerCase()}`);
    } else out.add('?');
    return true;
  });
}

/**
 * The containers a call runs the model's code in by id (OpenAI's code interpreter `container:
 * "cntr_…"`, a hosted shell's `container_reference` `container_id`): such a container keeps the
 * network access it was made with (the Containers API's `network_policy`, approved by a human
 * before the session read anything), which the call does not show (`params.containers`; the default
 * policy holds such a call in the trifecta). At most MAX_REMOTE_TARGETS, then `?`.
 */
function namedContainers(configs: Record<string, unknown>[]): string[] {
  const list = readTools(configs, (k, x, out) => {
    if ((k !== 'container' && k !== 'container_id') || typeof x !== 'string' || x.trim() === '') return false;
    out.add(targetValue(x.trim()));
    return true;
  });
  return list.slice(0, MAX_REMOTE_TARGETS).concat(list.length > MAX_REMOTE_TARGETS ? ['?'] : []);
}

/**
 * What `read` finds in the calls' tools at any depth (a function's schema names fields freely and
 * is skipped), bounded: past 100,000 values or 64 levels, `?`. `read` adds to the set and says
 * whether it took the member; a member not taken is walked into.
 */
function readTools(configs: Record<string, unknown>[], read: (key: string, value: unknown, out: Set<string>) => boolean): string[] {
  const out = new Set<string>();
  let budget = 100_000;
  const walk = (v: unknown, depth: number): void => {
    if (--budget < 0 || depth > 64) {
      out.add('?');
      return;
    }
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v)) {
      if (toolSchemaKeys.has(k)) continue;
      if (!read(k, x, out) && x && typeof x === 'object') walk(x, depth + 1);
    }
  };
  for (const c of configs) walk(c.tools, 0);
  return [...out].sort();
}

/** Remote places listed per request, at most; past it the list ends in `?` (no grant covers it). */
const MAX_REMOTE_TARGETS = 50;

/** A remote place as a grant compares it: short plain text as is, anything else by digest. */
function targetValue(v: string): string {
  return v === '?' || (v.length <= 200 && !/[;=,?|()]/.test(v)) ? v : `sha256-${createHash('sha256').update(v).digest('hex').slice(0, 32)}`;
}

/**
 * Where a call that reaches third parties reaches (`params.remote_targets`, the place a grant
 * records): each remote MCP server by its URL (OpenAI `tools[{type: "mcp", server_url}]` or its
 * `connector_id`; Anthropic `mcp_servers[].url`) and each link the provider fetches. A web fetch
 * tool fetches what the model chooses: `?`, covered by no grant. A grant given for a call to one
 * MCP server (or one image) does not cover a call that sends the same prompt to another.
 */
function remoteTargets(configs: Record<string, unknown>[], fetched: Set<string>): string[] {
  const out = new Set<string>(fetched);
  for (const c of configs) {
    for (const t of Array.isArray(c.tools) ? c.tools : []) {
      const { type, server_url: url, connector_id: connector } = (t && typeof t === 'object' ? t : {}) as { type?: unknown; server_url?: unknown; connector_id?: unknown };
      if (typeof type !== 'string') continue;
      if (type === 'mcp' || type === 'connector') out.add(typeof url === 'string' ? `mcp:${url}` : typeof connector === 'string' ? `connector:${connector}` : '?');
      else if (remoteToolTypes.has(type) || type.startsWith('web_fetch')) out.add('?');
    }
    const servers = c.mcp_servers;
    if (servers !== undefined && servers !== null) {
      if (!Array.isArray(servers)) out.add('?');
      else for (const m of servers) out.add(typeof (m as { url?: unknown } | null)?.url === 'string' ? `mcp:${(m as { url: string }).url}` : '?');
    }
  }
  const list = [...out].map(targetValue);
  return [...new Set(list)].sort().slice(0, MAX_REMOTE_TARGETS).concat(list.length > MAX_REMOTE_TARGETS ? ['?'] : []);
}

/**
 * How a model call asks the provider to search the web for the model (and, with OpenAI's
 * `open_page` action or a deep-research model, to open pages): a `web_search…` tool (OpenAI
 * `web_search`, `web_search_preview`, Anthropic `web_search_20250305`), Chat Completions'
 * `web_search_options`, or a model that always searches. Its answer carries what others wrote,
 * and what it searches for and opens leaves through the provider: the default policy labels it
 * and holds it in the trifecta (`params.search_tools`).
 */
function searchTools(configs: Record<string, unknown>[], types: string[]): string[] {
  const found = types.filter((t) => t.startsWith('web_search'));
  for (const body of configs) {
    if (body.web_search_options !== undefined && body.web_search_options !== null) found.push('web_search_options');
    if (typeof body.model === 'string' && /-search-(?:preview|api)\b|deep-research/i.test(body.model)) found.push(`model:${body.model}`);
    // A reusable prompt (`prompt: {id: "pmpt_…"}`) brings the tools stored with it at OpenAI, web
    // search and MCP servers included, which the request does not show: it fails closed as a search.
    // (A `prompt` string is the text of a legacy completion or an image's description.)
    const prompt = body.prompt;
    if (prompt && typeof prompt === 'object' && !Array.isArray(prompt)) {
      const id = (prompt as { id?: unknown }).id;
      found.push(`prompt:${typeof id === 'string' ? id : '?'}`);
    }
  }
  return [...new Set(found)];
}

/**
 * Content stored at the provider that a model call brings into the model's context, named by the
 * read that returns the same content: a file by id (OpenAI `input_file`/`input_image`/`file`
 * `file_id`, a code interpreter container's `file_ids`; Anthropic `source: {type: "file"}`,
 * `container_upload`) is what `files.content` reads; an earlier response (`previous_response_id`,
 * an `item_reference` input item) what `responses.retrieve` and `responses.input_items.list` read; a
 * stored conversation (`conversation`) what `conversations.retrieve` reads; the files the
 * `file_search` tool searches what `vector_stores.search` reads. The model answers with that content
 * (asked to, it repeats it), so the call brings the labels those reads bring (`params.stored_reads`).
 */
function storedReads(service: string, configs: Record<string, unknown>[], types: string[]): string[] {
  const found = new Set<string>();
  const fileRead = service === 'anthropic' ? 'files.retrieve' : 'files.content';
  for (const config of configs) {
    if (config.previous_response_id !== undefined && config.previous_response_id !== null) {
      found.add('responses.retrieve');
      found.add('responses.input_items.list');
    }
    if (config.conversation !== undefined && config.conversation !== null) found.add('conversations.retrieve');
    // Anthropic: a container named by id keeps the files an earlier request uploaded or made in it.
    // (`container: "container_…"` or `{id, skills}`; `{skills}` alone starts a new one.)
    const container = config.container;
    if (service === 'anthropic' && (typeof container === 'string' || (container && typeof container === 'object' && (container as { id?: unknown }).id !== undefined))) found.add(fileRead);
    let budget = 100_000;
    const walk = (v: unknown, depth: number, key: string): void => {
      if (--budget < 0 || depth > 64) {
        found.add(fileRead); // too deep or large to read: fails closed
        return;
      }
      if (Array.isArray(v)) {
        // An input item given only by id (`{type: "item_reference", id}`, or `{id}` with no type) is an earlier response's item.
        if (key === 'input' && v.some((x) => isItemReference(x))) {
          found.add('responses.retrieve');
          found.add('responses.input_items.list');
        }
        for (const x of v) walk(x, depth + 1, key);
        return;
      }
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if ((k === 'file_id' && typeof x === 'string') || (k === 'file_ids' && Array.isArray(x) && x.length > 0)) found.add(fileRead);
        // A container named by id keeps the files put or made in it earlier, by any session (OpenAI's
        // code interpreter `container: "cntr_…"`, a `container_id`), and a skill other than the
        // provider's own is files someone uploaded (Anthropic `skills: [{type: "custom", skill_id}]`):
        // the model reads them (twenty-sixth pass: only file ids and Anthropic's top-level container counted).
        else if ((k === 'container' || k === 'container_id') && typeof x === 'string' && x.trim() !== '') found.add(fileRead);
        else if (k === 'skills' && Array.isArray(x) && x.some((sk) => !(sk && typeof sk === 'object' && (sk as { type?: unknown }).type === service))) {
          found.add(fileRead);
          walk(x, depth + 1, k);
        } else if (x && typeof x === 'object') walk(x, depth + 1, k);
      }
    };
    walk(Object.fromEntries(Object.entries(config).filter(([k]) => k !== 'metadata')), 0, '');
  }
  if (types.includes('file_search')) found.add('vector_stores.search');
  return [...found].sort();
}

function isItemReference(item: unknown): boolean {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return false;
  const { type, id, role, content } = item as { type?: unknown; id?: unknown; role?: unknown; content?: unknown };
  return type === 'item_reference' || (type === undefined && typeof id === 'string' && role === undefined && content === undefined);
}

export function describeInference(info: ServiceInfo, request: RequestInfo, extraRemote: string[] = []): ServiceInfo {
  const body = jsonObject(request);
  if (typeof body?.model === 'string') info.params.model = body.model;
  const types = toolTypes(request);
  if (types.length) info.params.tool_types = types;
  const configs = configurations(request);
  const search = searchTools(configs, types);
  if (search.length) info.params.search_tools = search;
  const stored = storedReads(info.name, configs, types);
  if (stored.length) info.params.stored_reads = stored;
  const containers = info.name === 'openai' ? namedContainers(configs) : [];
  if (containers.length) info.params.containers = containers;
  const remote = types.filter((t) => remoteToolTypes.has(t) || t.startsWith('web_fetch'));
  // Everything but the tool and MCP server definitions (their addresses are judged above) and
  // metadata (labels the provider stores, never fetches): messages, input, images, system.
  // Of the tools, only those whose settings give the provider images by link (the image generation
  // tool's `input_image_mask.image_url`, as the Images API's `mask`): function schemas name URLs freely.
  const contentOf = (c: Record<string, unknown>): unknown[] => [
    ...Object.entries(c).filter(([k]) => k !== 'tools' && k !== 'mcp_servers' && k !== 'metadata').map(([, v]) => v),
    ...(Array.isArray(c.tools) ? c.tools.filter((t) => t && typeof t === 'object' && (t as { type?: unknown }).type === 'image_generation') : []),
  ];
  const fetched = new Set<string>();
  if (configs.map((c) => fetchesUrls(contentOf(c), fetched)).some(Boolean)) remote.push('url_content');
  const networks = containerNetworks(configs);
  if (networks.length) {
    remote.push('container_network');
    for (const n of networks) fetched.add(n);
  }
  if (remote.length > 0 || extraRemote.length > 0) {
    info.params.remote_tools = [...remote, ...extraRemote];
    info.effect = 'send';
    const targets = remoteTargets(configs, fetched);
    // A remote reach named only by the caller (a Realtime session sent as a multipart part) is not in the request.
    info.params.remote_targets = extraRemote.some((t) => t !== 'mcp') ? [...new Set([...targets, '?'])].sort() : targets;
  }
  return info;
}

export const openai: ServiceAdapter = {
  name: 'openai',
  hosts: hostIs('api.openai.com'),
  describe(request) {
    const info = fromTable('openai', table, request);
    // `OpenAI-Organization` and `OpenAI-Project` choose where the key acts (a file uploaded, a batch
    // run, an admin call in another project): the place a grant records, as Stripe-Account is.
    for (const [header, param] of [['openai-organization', 'org'], ['openai-project', 'project']] as const) {
      const named = [...new Set((request.headers[header] ?? []).map((v) => v.trim()))].sort();
      if (named.length) info.params[param] = named.join(',');
    }
    // A batch runs the calls of an uploaded file the request only names (`input_file_id`): any of
    // them may have OpenAI fetch a link or call a remote MCP server, as an Anthropic batch member
    // may (anthropic.ts). Unseen, they count as reaching third parties; embeddings fetch nothing.
    if (info.operation === 'batches.create' && jsonObject(request)?.endpoint !== '/v1/embeddings') {
      return { ...info, params: { ...info.params, remote_tools: ['unread_members'], remote_targets: ['?'] }, effect: 'send' };
    }
    // A call transferred (SIP REFER) goes to the number or address `target_uri` names: whom it
    // reaches, the place a grant records.
    if (info.operation === 'realtime.calls.refer') {
      const target = jsonObject(request)?.target_uri;
      info.params.recipients = [typeof target === 'string' && !/[;=,|?()]/.test(target) ? target.trim().toLowerCase() : '?'];
    }
    // An Assistants run (twenty-sixth pass: it was a thread write, and its answer, the run's
    // file_search results and messages quoting your files, came in unlabelled once a human or a
    // grant let it through): it brings what the reads of that stored content bring — the files
    // (`files.content`), the vector stores file_search searches (`vector_stores.search`) and the
    // thread, the Assistants API's conversation (`conversations.retrieve`) — whatever the body names.
    if (info.operation.startsWith('threads.runs.')) {
      const named = (describeInference({ ...info, params: {} }, request).params.stored_reads as string[] | undefined) ?? [];
      info.params.stored_reads = [...new Set([...named, 'conversations.retrieve', 'files.content', 'vector_stores.search'])].sort();
      return info;
    }
    if (info.effect !== 'read' || request.method !== 'POST') return info;
    // A Realtime call's session sent as a multipart part is not read here: its tools are unknown.
    const unread = info.operation.startsWith('realtime.') && /^\s*multipart\//i.test(request.body.content_type) ? ['realtime_session_unread'] : [];
    const described = describeInference(info, request, unread);
    if (!described.operation.startsWith('realtime.') || described.effect === 'send') return described;
    // A realtime session (its tools and instructions) that cannot be read — a `session` form field
    // that is not one JSON object, a body neither JSON nor SDP — is not taken as plain inference.
    const body = jsonObject(request);
    const formSession = request.body.form?.session;
    if (body?.session === undefined && formSession?.length) {
      let readable = formSession.length === 1;
      try {
        if (readable) JSON.parse(formSession[0]!);
      } catch {
        readable = false;
      }
      if (!readable) return { ...described, effect: 'write' };
    } else if (body === undefined && request.body.size > 0 && !/^application\/sdp\b/i.test(request.body.content_type)) {
      return { ...described, effect: 'write' };
    }
    return described;
  },
};
