// Anthropic API (docs.anthropic.com/en/api): https://api.anthropic.com/v1/…
// Messages are inference (`read`), except when the request asks Anthropic to call remote MCP
// servers (`mcp_servers`) or fetch URLs (web_fetch tool): those reach third parties outside
// Airlock, so they are a `send`.
import { hostIs, type ServiceAdapter } from './adapter.ts';
import { describeInference, mergeNestedInference } from './openai.ts';
import { fromTable, jsonObject, RouteTable, type RouteSpec } from './routes.ts';

const routes: RouteSpec[] = [
  { route: 'POST /v1/messages', operation: 'messages.create', effect: 'read' },
  { route: 'POST /v1/messages/count_tokens', operation: 'messages.count_tokens', effect: 'read' },
  { route: 'POST /v1/complete', operation: 'completions.create', effect: 'read' },
  { route: 'GET /v1/models', operation: 'models.list', effect: 'read' },
  { route: 'GET /v1/models/{model_id}', operation: 'models.retrieve', effect: 'read' },
  { route: 'GET /v1/messages/batches', operation: 'messages.batches.list', effect: 'read' },
  { route: 'GET /v1/messages/batches/{path+}', operation: 'messages.batches.retrieve', effect: 'read' },
  { route: 'POST /v1/messages/batches', operation: 'messages.batches.create', effect: 'write' },
  { route: 'POST /v1/messages/batches/{message_batch_id}/cancel', operation: 'messages.batches.cancel', effect: 'write' },
  { route: 'DELETE /v1/messages/batches/{message_batch_id}', operation: 'messages.batches.delete', effect: 'delete' },
  { route: 'GET /v1/files', operation: 'files.list', effect: 'read' },
  { route: 'GET /v1/files/{path+}', operation: 'files.retrieve', effect: 'read' },
  { route: 'POST /v1/files', operation: 'files.create', effect: 'write' },
  { route: 'DELETE /v1/files/{file_id}', operation: 'files.delete', effect: 'delete' },
  { route: 'GET /v1/organizations/{path+}', operation: 'organizations.get', effect: 'read' },
  { route: 'POST|PUT|PATCH|DELETE /v1/organizations/{path+}', operation: 'organizations.update', effect: 'admin' },
];

const table = new RouteTable(routes);

/** Batch members read for remote tools; past this the batch is judged as reaching third parties. */
const MAX_BATCH_MEMBERS = 100_000;

/** `mcp_servers` in a Messages body: Anthropic calls those servers itself. */
function mcpServers(body: unknown): string[] {
  const servers = body && typeof body === 'object' ? (body as { mcp_servers?: unknown }).mcp_servers : undefined;
  return Array.isArray(servers) && servers.length > 0 ? ['mcp'] : [];
}

export const anthropic: ServiceAdapter = {
  name: 'anthropic',
  hosts: hostIs('api.anthropic.com'),
  describe(request) {
    const info = fromTable('anthropic', table, request);
    // A message batch runs each member as a Messages call: one that has Anthropic reach a third
    // party (MCP servers, fetched URLs) makes the batch a send.
    if (info.operation === 'messages.batches.create') {
      const members = jsonObject(request)?.requests;
      if (!Array.isArray(members)) return info;
      const bodies = members.slice(0, MAX_BATCH_MEMBERS).map((m) => (m && typeof m === 'object' ? (m as { params?: unknown }).params : undefined));
      mergeNestedInference(info, request, bodies, mcpServers);
      if (members.length > MAX_BATCH_MEMBERS) {
        info.params.remote_tools = [...((info.params.remote_tools as string[] | undefined) ?? []), 'unread_members'];
        info.params.remote_targets = [...((info.params.remote_targets as string[] | undefined) ?? []), '?'];
        info.effect = 'send';
      }
      return info;
    }
    // Counting tokens reads the same content (an image or document by link is fetched to count it).
    if (info.operation !== 'messages.create' && info.operation !== 'messages.count_tokens') return info;
    return describeInference(info, request, mcpServers(jsonObject(request)));
  },
};
