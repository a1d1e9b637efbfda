// Neon: SQL over HTTP (the serverless driver POSTs `{query, params}` or `{queries: […]}` to
// https://{endpoint}.neon.tech/sql) and the console API (console.neon.tech/api/v2).
import type { ServiceAdapter } from './adapter.ts';
import { hostUnder } from './adapter.ts';
import type { RequestInfo, ServiceInfo } from '../types.ts';
import { fromTable, jsonObject, RouteTable } from './routes.ts';
import { isRpcPath, rpcSql, sqlFromBody } from './sql-body.ts';
import { lookupTable } from '../../lib/records.ts';

const consoleApi = new RouteTable([
  { route: 'GET /api/v2/{path+}', operation: 'api.get', effect: 'read' },
  { route: 'POST|PATCH|PUT /api/v2/{path+}', operation: 'api.update', effect: 'write' },
  { route: 'DELETE /api/v2/projects/{project_id}', operation: 'projects.delete', effect: 'delete' },
  { route: 'DELETE /api/v2/projects/{project_id}/branches/{branch_id}', operation: 'branches.delete', effect: 'delete' },
  { route: 'DELETE /api/v2/projects/{project_id}/branches/{branch_id}/databases/{database_name}', operation: 'databases.delete', effect: 'delete' },
  { route: 'DELETE /api/v2/{path+}', operation: 'api.delete', effect: 'delete' },
  { route: 'POST /api/v2/api_keys', operation: 'api_keys.create', effect: 'admin' },
  // Moving a personal account's projects into an organization (one the agent names) hands them over.
  { route: 'POST /api/v2/users/me/projects/transfer', operation: 'projects.transfer', effect: 'admin' },
  // Database roles and their passwords: revealing or resetting one hands out a credential (as
  // Supabase's api-keys listing does), creating one creates a login.
  { route: 'GET /api/v2/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reveal_password', operation: 'roles.reveal_password', effect: 'admin' },
  { route: 'POST /api/v2/projects/{project_id}/branches/{branch_id}/roles/{role_name}/reset_password', operation: 'roles.reset_password', effect: 'admin' },
  { route: 'POST /api/v2/projects/{project_id}/branches/{branch_id}/roles', operation: 'roles.create', effect: 'admin' },
  { route: 'GET /api/v2/projects/{project_id}/connection_uri', operation: 'projects.connection_uri', effect: 'admin' },
  // Restoring a branch to a point in its own or another branch's history, or from a snapshot,
  // overwrites it: everything written since is gone.
  { route: 'POST /api/v2/projects/{project_id}/branches/{branch_id}/restore', operation: 'branches.restore', effect: 'delete' },
  { route: 'POST /api/v2/projects/{project_id}/snapshots/{snapshot_id}/restore', operation: 'snapshots.restore', effect: 'delete' },
  // Sharing a project with another account, and who may connect from where: access.
  { route: 'POST /api/v2/projects/{project_id}/permissions', operation: 'projects.permissions.grant', effect: 'admin' },
  { route: 'POST|PATCH|PUT /api/v2/organizations/{org_id}/{path+}', operation: 'organizations.update', effect: 'admin' },
  { route: 'POST /api/v2/organizations/{org_id}/projects/transfer', operation: 'projects.transfer', effect: 'admin' },
]);

/** The catch-all routes above: one operation for every console call the table does not name. */
const catchAll: Readonly<Record<string, string>> = lookupTable({ 'api.get': 'get', 'api.update': 'update', 'api.delete': 'delete' });

/** Console path words of calls that decide who may connect (JWKS, the Data API) or hand out auth keys (Neon Auth). */
const accessWords = new Set(['jwks', 'data-api', 'auth']);

/** Project settings that decide who may connect, and from where (IP Allow, private networking). */
const accessSettings = ['allowed_ips', 'block_public_connections', 'block_vpc_connections'];

/**
 * A console call: a route the table names, or — for the rest — an operation named by the path's
 * words (`projects/{id}/branches/{id}/endpoints` → `projects.branches.endpoints.update`), with the
 * project it acts on. One `api.update` for every call would let a grant given for creating a branch
 * cover any other change to any project. A project update that opens IP Allow or public
 * connections changes who can reach the database: admin.
 */
function consoleCall(request: RequestInfo): ServiceInfo {
  const info = fromTable('neon', consoleApi, request);
  const rest = request.segments[0] === 'api' && request.segments[1] === 'v2' ? request.segments.slice(2) : [];
  if (rest[0] === 'projects' && rest[1] !== undefined) info.params.project_id = rest[1];
  const verb = catchAll[info.operation];
  if (verb === undefined) return info;
  const words = rest.filter((_, i) => i % 2 === 0);
  info.operation = `${words.join('.') || 'api'}.${verb}`;
  // A JWKS registered on a project makes tokens its provider signs log in to the database (Neon
  // RLS), the Data API serves it over HTTP to them: who can connect, as IP Allow is. Neon Auth's
  // calls hand back the auth provider's server keys.
  if (info.effect === 'write' && rest.some((w) => accessWords.has(w))) info.effect = 'admin';
  // A branch created with a compute answers with its connection URIs, and a branch keeps its
  // parent's roles and passwords: production's database password, as reveal_password gives it.
  if (info.effect === 'write' && request.method === 'POST' && rest.length === 3 && rest[0] === 'projects' && rest[2] === 'branches') {
    const endpoints = jsonObject(request)?.endpoints;
    if (Array.isArray(endpoints) && endpoints.length > 0) info.effect = 'admin';
  }
  // A protected branch refuses deletion and connections from outside IP Allow (Neon's protected
  // branches): turning that off, as weakening GitHub's branch protection, is an access change.
  if (info.effect === 'write' && rest.length === 4 && rest[0] === 'projects' && rest[2] === 'branches') {
    const branch = jsonObject(request)?.branch;
    if (branch && typeof branch === 'object' && Object.hasOwn(branch, 'protected')) info.effect = 'admin';
  }
  if (words.length === 1 && words[0] === 'projects' && rest.length === 2 && info.effect === 'write') {
    const settings = (jsonObject(request)?.project as { settings?: unknown } | undefined)?.settings;
    if (settings && typeof settings === 'object' && accessSettings.some((k) => Object.hasOwn(settings, k))) info.effect = 'admin';
  }
  return info;
}

export const neon: ServiceAdapter = {
  name: 'neon',
  hosts: hostUnder('neon.tech'),
  describe(request) {
    if (request.host === 'console.neon.tech') return consoleCall(request);
    if (request.method === 'POST' && request.segments.length === 1 && request.segments[0] === 'sql') {
      return { name: 'neon', operation: 'sql.query', params: { endpoint: request.host.split('.')[0] }, effect: 'write' };
    }
    // The Data API (PostgREST: https://{endpoint}.apirest.{region}.neon.tech/{database}/rest/v1/rpc/{function}).
    if (request.host.includes('.apirest.') && isRpcPath(request.segments)) {
      const fn = request.segments[request.segments.length - 1]!;
      const m = request.method;
      return { name: 'neon', operation: 'rpc.call', params: { endpoint: request.host.split('.')[0]!, function: fn }, effect: m === 'GET' || m === 'HEAD' ? 'read' : 'write' };
    }
    return consoleCall(request);
  },
  sql: (request, service) => (service.operation === 'sql.query' ? sqlFromBody(request, { dialect: 'postgresql' }) : service.operation === 'rpc.call' ? rpcSql(request) : undefined),
};
