// Cloudflare API v4 (developers.cloudflare.com/api): https://api.cloudflare.com/client/v4/…
// D1's query endpoints carry SQL as `{sql, params}`, read in D1's own dialect by SQLite itself.
import { createHash } from 'node:crypto';
import type { ServiceAdapter } from './adapter.ts';
import { hostIs } from './adapter.ts';
import { fromTable, RouteTable, type RouteSpec } from './routes.ts';
import { sqlFromBody } from './sql-body.ts';
import type { Effect, RequestInfo, ServiceInfo } from '../types.ts';
import { describeGraphql } from '../graphql.ts';
import { trimTrailing } from '../../lib/text.ts';
import { lookupTable } from '../../lib/records.ts';

const Z = '/zones/{zone_id}';
const A = '/accounts/{account_id}';

const routes: RouteSpec[] = [
  { route: 'GET /zones', operation: 'zones.list', effect: 'read' },
  { route: 'POST /zones', operation: 'zones.create', effect: 'admin' },
  { route: `GET ${Z}`, operation: 'zones.get', effect: 'read' },
  { route: `PATCH ${Z}`, operation: 'zones.edit', effect: 'admin' },
  { route: `DELETE ${Z}`, operation: 'zones.delete', effect: 'delete' },
  { route: `GET ${Z}/settings/{setting+}`, operation: 'zones.settings.get', effect: 'read' },
  { route: `PATCH ${Z}/settings/{setting+}`, operation: 'zones.settings.edit', effect: 'admin' },
  { route: `GET ${Z}/dns_records`, operation: 'dns.records.list', effect: 'read' },
  { route: `GET ${Z}/dns_records/{dns_record_id}`, operation: 'dns.records.get', effect: 'read' },
  { route: `POST ${Z}/dns_records`, operation: 'dns.records.create', effect: 'write' },
  { route: `PUT|PATCH ${Z}/dns_records/{dns_record_id}`, operation: 'dns.records.edit', effect: 'write' },
  { route: `DELETE ${Z}/dns_records/{dns_record_id}`, operation: 'dns.records.delete', effect: 'delete' },
  { route: `POST ${Z}/dns_records/batch`, operation: 'dns.records.batch', effect: 'delete' }, // may carry deletes
  // A zone file imported may carry any record, MX and NS included (see mailRouting below).
  { route: `POST ${Z}/dns_records/import`, operation: 'dns.records.import', effect: 'admin' },
  { route: `POST ${Z}/purge_cache`, operation: 'cache.purge', effect: 'write' },
  { route: `POST|PUT|PATCH|DELETE ${Z}/rulesets/{path+}`, operation: 'rulesets.edit', effect: 'admin' },
  { route: `POST ${Z}/rulesets`, operation: 'rulesets.create', effect: 'admin' },
  { route: `POST|PUT|PATCH|DELETE ${Z}/firewall/{path+}`, operation: 'firewall.edit', effect: 'admin' },
  { route: `GET ${A}/workers/scripts`, operation: 'workers.scripts.list', effect: 'read' },
  { route: `GET ${A}/workers/scripts/{script_name}`, operation: 'workers.scripts.get', effect: 'read' },
  { route: `PUT ${A}/workers/scripts/{script_name}`, operation: 'workers.scripts.update', effect: 'write' },
  { route: `DELETE ${A}/workers/scripts/{script_name}`, operation: 'workers.scripts.delete', effect: 'delete' },
  { route: `PUT|PATCH ${A}/workers/scripts/{script_name}/secrets`, operation: 'workers.secrets.update', effect: 'admin' },
  { route: `GET ${A}/d1/database`, operation: 'd1.database.list', effect: 'read' },
  { route: `POST ${A}/d1/database`, operation: 'd1.database.create', effect: 'write' },
  { route: `DELETE ${A}/d1/database/{database_id}`, operation: 'd1.database.delete', effect: 'delete' },
  { route: `POST ${A}/d1/database/{database_id}/query`, operation: 'd1.database.query', effect: 'write' },
  { route: `POST ${A}/d1/database/{database_id}/raw`, operation: 'd1.database.raw', effect: 'write' },
  { route: `GET ${A}/d1/database/{database_id}`, operation: 'd1.database.get', effect: 'read' },
  // An import runs a SQL file uploaded elsewhere (its text is never in the request: any statement,
  // DROP TABLE included); a time-travel restore rewinds the database, losing every write since.
  { route: `POST ${A}/d1/database/{database_id}/import`, operation: 'd1.database.import', effect: 'delete' },
  { route: `POST ${A}/d1/database/{database_id}/time_travel/restore`, operation: 'd1.time_travel.restore', effect: 'delete' },
  { route: `GET ${A}/d1/database/{database_id}/time_travel/bookmark`, operation: 'd1.time_travel.bookmark', effect: 'read' },
  { route: `GET ${A}/storage/kv/namespaces/{namespace_id}/values/{key_name}`, operation: 'kv.values.get', effect: 'read' },
  { route: `PUT ${A}/storage/kv/namespaces/{namespace_id}/values/{key_name}`, operation: 'kv.values.update', effect: 'write' },
  { route: `DELETE ${A}/storage/kv/namespaces/{namespace_id}/values/{key_name}`, operation: 'kv.values.delete', effect: 'delete' },
  { route: `DELETE ${A}/storage/kv/namespaces/{namespace_id}`, operation: 'kv.namespaces.delete', effect: 'delete' },
  { route: `DELETE ${A}/storage/kv/namespaces/{namespace_id}/bulk`, operation: 'kv.values.bulk_delete', effect: 'delete' },
  { route: `POST ${A}/storage/kv/namespaces/{namespace_id}/bulk/delete`, operation: 'kv.values.bulk_delete', effect: 'delete' },
  { route: `GET ${A}/r2/buckets`, operation: 'r2.buckets.list', effect: 'read' },
  { route: `POST ${A}/r2/buckets`, operation: 'r2.buckets.create', effect: 'write' },
  { route: `DELETE ${A}/r2/buckets/{bucket_name}`, operation: 'r2.buckets.delete', effect: 'delete' },
  { route: `POST ${A}/pages/projects/{project_name}/deployments`, operation: 'pages.deployments.create', effect: 'write' },
  { route: `DELETE ${A}/pages/projects/{project_name}`, operation: 'pages.projects.delete', effect: 'delete' },
  // A Pages project's settings carry its environment variables and secrets (`secret_text`), the
  // build command and the source repository: what runs, with which credentials, as a Worker's
  // secrets are (admin).
  { route: `PATCH ${A}/pages/projects/{project_name}`, operation: 'pages.projects.update', effect: 'admin' },
  { route: `POST|PUT|DELETE ${A}/members/{path+}`, operation: 'accounts.members.edit', effect: 'admin' },
  { route: `POST ${A}/members`, operation: 'accounts.members.create', effect: 'admin' },
  { route: `POST|PUT|DELETE ${A}/tokens/{path+}`, operation: 'accounts.tokens.edit', effect: 'admin' },
  { route: `POST ${A}/tokens`, operation: 'accounts.tokens.create', effect: 'admin' },
  { route: 'POST|PUT|DELETE /user/tokens/{path+}', operation: 'user.tokens.edit', effect: 'admin' },
  { route: 'POST /user/tokens', operation: 'user.tokens.create', effect: 'admin' },
  { route: 'GET /user/tokens/verify', operation: 'user.tokens.verify', effect: 'read' },
  // Browser Rendering and URL Scanner have Cloudflare open the URL the body names (a page's
  // content, markdown, screenshot, links; a scan) from outside Airlock: whatever the URL carries
  // reaches its host, and the answer (or the scan's result) is that page. A send, as a fetch
  // tool given to a model provider is (`remote_tools`).
  { route: `POST ${A}/browser-rendering/{path+}`, operation: 'browser_rendering.fetch', effect: 'send' },
  { route: `POST ${A}/urlscanner/{path+}`, operation: 'url_scanner.scan', effect: 'send' },
];

const remoteFetchers: Readonly<Record<string, string>> = lookupTable({ 'browser_rendering.fetch': 'browser_rendering', 'url_scanner.scan': 'url_scanner' });

const table = new RouteTable(routes);

/**
 * A route the table does not name (the API has hundreds) that changes something is judged by the
 * words of its path, failing towards the stricter effect, as GitHub's unnamed routes are: a
 * restore (D1 Time Travel) throws away what was written since; secrets, tokens and credentials,
 * members and roles, Access (Zero Trust), firewall and WAF rules, zone and script settings, and the
 * domains that make an R2 bucket or a Worker public change who can do or reach what. The account,
 * zone and object ids are not words of the route.
 */
// (`memberships`: accepting an invitation makes the token reach another account.)
// Jobs and rules that send the zone's or account's data elsewhere from then on are admin too, as
// GitHub's webhooks and Gmail's forwarding are: Logpush jobs (every request's log to a destination
// the job names), notification webhooks and destinations, Email Routing rules (a domain's mail,
// catch-all included, forwarded to any address). Plans and add-ons (`subscription(s)`, `billing`)
// are charges: pay.
// Deletes by another name: a Queue's purge drops every message, Vectorize's `delete_by_ids`
// removes vectors, an R2 bucket's lifecycle rules delete its objects once they are a day old.
const deleteWords = new Set(['restore', 'purge', 'delete', 'lifecycle']);
const isDeleteWord = (w: string): boolean => deleteWords.has(w) || /^delete[-_]/.test(w);
const payWords = new Set(['subscription', 'subscriptions', 'billing']);
const adminWords = new Set([
  'secrets', 'tokens', 'service_tokens', 'temp-access-credentials', 'credentials', 'keys', 'members', 'memberships', 'roles', 'access',
  'access_rules', 'firewall', 'waf', 'filters', 'rulesets', 'rate_limits', 'page_rules', 'settings', 'ssl', 'dnssec',
  'domains', 'custom_domains', 'subdomain', 'cors', 'policies', 'certificates', 'custom_certificates',
  'logpush', 'webhooks', 'destinations', 'routing',
  // Which Worker a hostname's traffic runs through (it sees every request), which network routes a
  // tunnel carries.
  'routes',
]);
/** Browser Rendering fetches the URL it is given from Cloudflare, outside Airlock: a send, as a model provider's web fetch is. */
const sendWords = new Set(['browser-rendering']);

/**
 * Reads that hand out a credential: a Cloudflare Tunnel's or WARP Connector's token (whoever holds
 * it runs the tunnel and serves its hostnames), the Images signing keys (they sign URLs to private
 * images), a Stream live input (its stream key lets anyone broadcast on it).
 */
function readsCredential(words: string[]): boolean {
  const last = words[words.length - 1];
  return last === 'token' || (last === 'keys' && words[words.length - 3] === 'images') || words[words.length - 2] === 'live_inputs';
}

function unknownRouteEffect(segs: string[], effect: Effect): Effect {
  const words = segs[0] === 'accounts' || segs[0] === 'zones' ? segs.slice(2) : segs;
  if (effect === 'read') return readsCredential(words) ? 'admin' : effect;
  if (effect !== 'write') return effect;
  if (words.some(isDeleteWord)) return 'delete';
  if (words.some((w) => payWords.has(w))) return 'pay';
  if (words.some((w) => adminWords.has(w))) return 'admin';
  if (words.some((w) => sendWords.has(w))) return 'send';
  return effect;
}
/**
 * A DNS record that decides where the zone's mail goes (MX) or who answers for a name (NS
 * delegation) sends the domain's mail, or the whole subdomain, to whoever it names: admin, as
 * Email Routing rules and Gmail's forwarding are. A type not read from the body counts as one.
 */
const routingRecordTypes = new Set(['MX', 'NS']);
function routesMail(request: RequestInfo): boolean {
  const json = request.body.json;
  const types = [json && typeof json === 'object' && !Array.isArray(json) ? (json as { type?: unknown }).type : undefined, ...(request.body.form?.type ?? [])];
  const named = types.filter((t) => t !== undefined);
  // No type named: a body not read as JSON or a form may name one. A JSON PATCH without one keeps
  // the record's own type (an MX record's, perhaps): it stays a write, and a grant for it covers
  // that record only (`dns_record_id` is its place). Cloudflare refuses a POST or PUT without one.
  if (named.length === 0) return request.body.size > 0 && json === undefined && request.body.form === undefined;
  return named.some((t) => typeof t !== 'string' || routingRecordTypes.has(t.trim().toUpperCase()));
}

/**
 * Which name a DNS record answers for, of which type, and where it points (`name`, `type`,
 * `content`): the place a grant records. A grant for `preview.acme.dev A 10.0.0.1` covers neither
 * `www.acme.dev CNAME attacker.example` (the site's traffic), nor a TXT record on the apex (domain
 * verification for someone else's account), nor `_acme-challenge` (a certificate issued to
 * whoever asks), nor the same name pointed elsewhere. `(unchanged)` for a field an edit does not
 * name, `?` for one not read as one text.
 */
function dnsPlace(info: ServiceInfo, request: RequestInfo): void {
  const json = request.body.json;
  const object = json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : undefined;
  const field = (k: string, normal: (v: string) => string): string => {
    const values = [...(object?.[k] === undefined ? [] : [object[k]]), ...(request.body.form?.[k] ?? [])];
    if (values.length === 0) return request.body.size > 0 && !object && !request.body.form ? '?' : '(unchanged)';
    if (values.length !== 1 || typeof values[0] !== 'string') return '?';
    // A value that holds the place's own separators (a TXT record's `v=spf1 …`) or is long, by digest.
    const v = normal(values[0]);
    return v.length <= 200 && !/[;=,|?()]/.test(v) ? v : `sha256-${createHash('sha256').update(v).digest('hex').slice(0, 32)}`;
  };
  info.params.dns_name = field('name', (v) => trimTrailing(v.trim().toLowerCase(), '.'));
  info.params.dns_type = field('type', (v) => v.trim().toUpperCase());
  info.params.dns_content = field('content', (v) => v.trim());
}

/**
 * The pages Browser Rendering or the URL Scanner fetches (`url`, a bulk scan's list of `{url}`):
 * where the request reaches, and what its query carries there. The place a grant records: a grant
 * for rendering the team's site covers no fetch of `https://attacker.example/?d=…`. `?` for HTML
 * given inline (it fetches whatever it links), or a URL not read as one text.
 */
function fetchedUrls(request: RequestInfo): string[] {
  const json = request.body.json;
  const items = Array.isArray(json) ? json : [json];
  const out = new Set<string>();
  for (const item of items.slice(0, 50)) {
    const o = item && typeof item === 'object' && !Array.isArray(item) ? (item as Record<string, unknown>) : undefined;
    if (!o || o.html !== undefined || typeof o.url !== 'string') out.add('?');
    else out.add(o.url.length <= 200 && !/[;=,|?()]/.test(o.url) ? o.url : `sha256-${createHash('sha256').update(o.url).digest('hex').slice(0, 32)}`);
  }
  if (items.length > 50) out.add('?');
  return [...out].sort();
}

const sqlOperations = new Set(['d1.database.query', 'd1.database.raw']);

/** The GraphQL Analytics API: only queries exist; anything else is a write. */
const isGraphql = (request: RequestInfo): boolean => request.segments.join('/') === 'client/v4/graphql';

export const cloudflare: ServiceAdapter = {
  name: 'cloudflare',
  hosts: hostIs('api.cloudflare.com'),
  graphqlEndpoint: isGraphql,
  describe(request, graphql) {
    if (isGraphql(request)) return describeGraphql('cloudflare', graphql, (f) => [`graphql.${f}`, 'write']);
    const segs = request.segments[0] === 'client' && request.segments[1] === 'v4' ? request.segments.slice(2) : request.segments;
    const info = fromTable('cloudflare', table, request, segs);
    if (info.operation === 'unknown') info.effect = unknownRouteEffect(segs, info.effect);
    if ((info.operation === 'dns.records.create' || info.operation === 'dns.records.edit') && routesMail(request)) info.effect = 'admin';
    if (info.operation === 'dns.records.create' || info.operation === 'dns.records.edit') dnsPlace(info, request);
    const fetcher = remoteFetchers[info.operation];
    if (fetcher) {
      info.params.remote_tools = [fetcher];
      info.params.remote_targets = fetchedUrls(request);
    }
    return info;
  },
  sql: (request, service) => (sqlOperations.has(service.operation) ? sqlFromBody(request, { keys: ['sql'], dialect: 'sqlite' }) : undefined),
};
