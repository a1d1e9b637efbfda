// Requests a server runs besides the one on the request line, read from the request so the
// pipeline decides them too (proxy/pipeline.ts, decideSecondTargets):
// - WebDAV's COPY and MOVE (RFC 4918 §9.8, §9.9) write the resource the `Destination` header
//   names: `COPY /public/a.txt` with `Destination: /admin/a.txt` creates /admin/a.txt on Go's
//   golang.org/x/net/webdav, Apache mod_dav, nginx's dav module and SabreDAV (Nextcloud);
// - an object store's copy reads the object it names (S3 `x-amz-copy-source`, GCS
//   `x-goog-copy-source`, Azure `x-ms-copy-source`, a URL Azure fetches from any host): a policy
//   that refuses reads under /private/ had `PUT /public/x` copy /private/secret there;
// - an Elasticsearch/OpenSearch `_bulk`, `_msearch` or `_mget` body names indices besides the
//   path's (`_index`): a bulk to /logs deletes in /users; `_reindex` reads and writes the ones it names;
// - a container registry's blob mount (`?mount=<digest>&from=<repo>`) reads another repository;
// - an S3 multi-object delete (`POST /<bucket>?delete`) removes the keys its XML body lists; a
//   GCS `copyTo`/`rewriteTo` writes the object named after it in the path;
// - a batch body's `application/http` parts (describe/http-batch.ts) are requests the server runs
//   one by one (OData `$batch`, Google's batch endpoints);
// - a configuration has the server send elsewhere later, on its own (sentElsewhereOf: bucket
//   notifications, push channels, webhook and callback URLs, snapshot repositories, Watcher
//   watches, WS-Addressing replies): decided as the request it will make there.
// Pure: what to decide, or the refusal for a second target that cannot be read one way.
import type { RawRequest } from '../describe/describe.ts';
import { bomOf, boundNested, DecodeFailure, phpName, phpNested, rackTwoParams, undoContentCoding, unicodeText } from '../describe/body.ts';
import { httpBatchCalls, MAX_BATCH_CALLS } from '../describe/http-batch.ts';
import { describeDuplicates, scanJson } from '../describe/json-readings.ts';
import { gsonPrefixed, parseLenientJson } from '../describe/json-lenient.ts';
import { multipartFields } from '../describe/multipart.ts';
import { fieldArguments } from '../describe/graphql.ts';
import { pathAmbiguity, rawPathOf } from '../describe/path-ambiguity.ts';
import { serverHeaderKey, trimTrailing, trimWhere } from '../lib/text.ts';
import { appendAll } from '../lib/arrays.ts';
import type { Rejection } from './enforcers.ts';
import { parseAuthority, sameAuthority, withoutNamedHeaders } from './http-util.ts';
import type { CapturedBody } from './request-body.ts';
import { refusals } from './refusals.ts';
import { serverCharsets } from './charset-readings.ts';
import { multipartParts } from './mime-parts.ts';
import { xmlDoctype } from '../describe/xml-doctype.ts';
import { MAX_YAML_TEXT, yamlReadings, yamlType } from '../describe/yaml-body.ts';
import { emptyMap } from '../lib/records.ts';

/** A request to decide besides the request itself, and what to call it in the decision's reason. */
export interface SecondTarget {
  request: RawRequest;
  why: string;
}

/**
 * What the request also does, for the pipeline to decide; undefined for the usual request (none of
 * the above); a refusal when a second target cannot be read one way.
 */
export function secondTargets(rawHeaders: string[], requestUrl: string, captured: CapturedBody, method = 'GET', held = false): SecondTarget[] | { refusal: Rejection } | undefined {
  const url = routedUrl(requestUrl);
  const out: SecondTarget[] = [];
  const destination = destinationOf(rawHeaders, url);
  if (destination !== undefined) {
    if (typeof destination !== 'string') return { refusal: destination };
    out.push(bodilessTarget(rawHeaders, 'PUT', destination, `its Destination ${new URL(destination).pathname.slice(0, 200)} (written by a COPY or MOVE)`, destinationHeader));
  }
  const copied = copySourceOf(rawHeaders, url);
  if (copied !== undefined) {
    if (!('url' in copied)) return { refusal: copied };
    const { url: source, moves } = copied;
    const named = `${new URL(source).host}${new URL(source).pathname.slice(0, 200)}`;
    out.push(bodilessTarget(rawHeaders, 'GET', source, `its ${moves ? 'rename' : 'copy'} source ${named} (read by the ${moves ? 'rename' : 'copy'})`, copySourceHeaders));
    // A rename moves the source away: a delete there as well.
    if (moves) out.push(bodilessTarget(rawHeaders, 'DELETE', source, `its rename source ${named} (moved away by the rename)`, copySourceHeaders));
  }
  const swift = swiftTargetsOf(rawHeaders, method, url);
  if (!Array.isArray(swift)) return { refusal: swift };
  for (const t of swift) out.push(bodilessTarget(rawHeaders, t.method, t.url, t.why, swiftHeaders));
  const written = gcsCopyTargetOf(url);
  if (written) out.push(bodilessTarget(rawHeaders, 'PUT', written, `its copy writes ${new URL(written).pathname.slice(0, 200)}`));
  const listed = indexListOf(method, url);
  if (!Array.isArray(listed)) return { refusal: listed };
  for (const t of listed) out.push(bodilessTarget(rawHeaders, t.method, t.url, t.why));
  const ids = salesforceIdsOf(method, url);
  if (!Array.isArray(ids)) return { refusal: ids };
  for (const t of ids) out.push(bodilessTarget(rawHeaders, t.method, t.url, t.why));
  const dated = dateMathIndicesOf(method, url);
  if (!Array.isArray(dated)) return { refusal: dated };
  for (const t of dated) out.push(bodilessTarget(rawHeaders, t.method, t.url, t.why));
  const mounts = mountSourcesOf(url);
  if (!Array.isArray(mounts)) return { refusal: mounts };
  for (const mounted of mounts) out.push(bodilessTarget(rawHeaders, 'GET', mounted, `its blob mount reads ${new URL(mounted).pathname.slice(0, 200)}`));
  // A charset label no decoder here knows (UTF-7, EBCDIC): a server that decodes by it reads what no
  // reader here can (twentieth pass: `{"+AGI-atch": [...]}` under `charset=utf-7` is a Graph API
  // batch to Django REST Framework, and `+AG4-otificationUrl` a callback). Refused unless `held`: a
  // human's card says the body cannot be shown, and approving it is refused (studio/approvals).
  const charsets = serverCharsets(contentTypeOf(rawHeaders));
  if (charsets.unknown.length && captured.captured.length && !held) {
    return { refusal: refusals.bodyUnreadable(`the request body is declared in charset ${JSON.stringify(charsets.unknown[0])}, which a server may decode and act on while Airlock cannot read what it names (a batch of calls, a callback URL); send it in UTF-8`) };
  }
  // The body's readers, once per way a server may read its bytes (serverBodies).
  for (const body of serverBodies(rawHeaders, captured, charsets.legacy)) {
    const refused = bodyTargets(rawHeaders, method, url, body, out);
    if (refused) return { refusal: refused };
  }
  return out.length ? out : undefined;
}

/** The request's (first) Content-Type (a second one is refused before: http-util.ts misreadHeader). */
function contentTypeOf(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'content-type') return rawHeaders[i + 1]!;
  return undefined;
}

/**
 * The URL as servers route it, which the readers below match: path parameters left out (`;x`,
 * withoutPathParameters), percent-escapes of characters that
 * change no structure undone — in the path letters, digits, `-_~$:@,` (ASP.NET Core, Go's net/http
 * and gorilla/mux, Express and Rack route on the decoded path: `/odata/%24batch` is OData's
 * `$batch`, `/v2/r/blobs/%75ploads/` a registry's upload), in the query letters, digits and `-_~`
 * (Go's `Query()` decodes names: `?%64elete` is MinIO's multi-object delete). `%2E`, `%2F`, `%3F`,
 * `%25` stay escaped (they change the path's structure; path-ambiguity.ts judges those).
 */
export function routedUrl(url: string): string {
  if (!url.includes('%') && !url.includes(';')) return url;
  const q = url.indexOf('?');
  const path = withoutPathParameters(q < 0 ? url : url.slice(0, q));
  const query = q < 0 ? '' : url.slice(q);
  const undo = (s: string, keep: RegExp): string => s.replace(/%([0-9A-Fa-f]{2})/g, (e, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return keep.test(c) ? c : e;
  });
  return undo(path, /^[A-Za-z0-9\-_~$:@,]$/) + undo(query, /^[A-Za-z0-9\-_~]$/);
}

/**
 * The path without each segment's `;parameters`, as Tomcat, Jetty and Spring route it (the
 * servlet path strips them before matching: `/odata/$batch;jsessionid=1` is the batch endpoint,
 * `/ok/_bulk;x` read so too). Escaped `%3B` stays.
 */
function withoutPathParameters(path: string): string {
  if (!path.includes(';')) return path;
  return path.split('/').map((seg) => {
    const semi = seg.indexOf(';');
    return semi < 0 ? seg : seg.slice(0, semi);
  }).join('/');
}

/**
 * Elasticsearch/OpenSearch endpoints whose JSON body the readers below read whole (lookups, alias
 * actions, a reindex's, a job's or a pipeline's indices, a query's sources, an `_mget`'s docs, an
 * `_msearch`'s lines). Past the capture cap the captured start is no whole JSON: blanks or a padding
 * member before `"actions"` hid every index they named (seventeenth pass), so such a body is refused.
 * A `_bulk` past the cap is watched as it leaves instead (proxy/bulk-tail.ts).
 */
const elasticJsonPaths = /\/_(?:search|count|delete_by_query|update_by_query|explain|validate|async_search|msearch|knn_search|rank_eval|termvectors|mtermvectors|mget|sql|query|ppl|eql|reindex|field_caps|aliases|transform|enrich|ml|rollup|snapshot|ingest|render|scripts)(?:[/?#]|$)/;

/** The second targets a body names, read one way, into `out`; the refusal when one cannot be read. */
function bodyTargets(rawHeaders: string[], method: string, url: string, body: ServerBody, out: SecondTarget[]): Rejection | undefined {
  // A content coding Airlock has no decoder for (zstd, compress, a name of the agent's) hides from
  // every reader what the body names, while a server that decodes it (Envoy's decompressor and Go
  // middlewares take zstd) acts on it: the readers of any host's body (a Graph API batch, callback
  // URLs, JSON:API operations) skipped it (nineteenth pass). S3's `aws-chunked` frames the object's
  // bytes, which S3 stores, and is left to the body guard.
  const unknown = /^unknown content coding "(.*)"$/.exec(body.unreadable ?? '')?.[1];
  if (unknown !== undefined && unknown !== 'aws-chunked') return refusals.bodyUnreadable(`the request body is sent with Content-Encoding ${JSON.stringify(unknown.slice(0, 40))}, which a server may decode and act on while Airlock cannot read what it names (a batch of calls, a callback URL); send it without that coding`);
  const format = elasticBodyFormat(rawHeaders, url);
  if (format) return refusals.bad(`the request body is an Elasticsearch body in ${format}, which Elasticsearch reads as it reads JSON and Airlock reads only as JSON: it cannot decide the indices it names; send it as JSON`);
  if (elasticJsonPaths.test(url) && body.truncated) return refusals.bad('the request body is an Elasticsearch body larger than the capture cap: Airlock reads such a body whole for the indices and documents it names, and cannot read this one; send a smaller one');
  // Elasticsearch's JSON parser takes comments (Jackson's ALLOW_COMMENTS): read without them.
  if (elasticBodyPaths.test(url)) body = withoutComments(body);
  const named = documentsNamedBy(url, body);
  if (!Array.isArray(named)) return named;
  for (const d of named) out.push(bodilessTarget(rawHeaders, d.method, d.url, d.why));
  const indices = otherIndices(url, body);
  if (!Array.isArray(indices)) return indices;
  const queried = queryIndices(url, body);
  if (!Array.isArray(queried)) return queried;
  const jobs = jobIndices(url, body);
  if (!Array.isArray(jobs)) return jobs;
  const looked = lookedUpDocuments(url, body);
  if (!Array.isArray(looked)) return looked;
  const routed = pipelineIndices(method, url, body);
  if (!Array.isArray(routed)) return routed;
  const searched = searchEngineIndices(method, url, body);
  if (!Array.isArray(searched)) return searched;
  const solr = solrTargetsOf(rawHeaders, url, body);
  if (!Array.isArray(solr)) return solr;
  for (const t of solr) out.push(bodilessTarget(rawHeaders, t.method, t.url, t.why));
  const queues = sqsQueuesOf(rawHeaders, url, body);
  if (!Array.isArray(queues)) return queues;
  for (const t of queues) out.push(bodilessTarget(rawHeaders, t.method, t.url, t.why));
  for (const t of [...indices, ...queried, ...jobs, ...looked, ...routed, ...searched]) out.push(bodilessTarget(rawHeaders, t.method, t.url, t.why));
  const configured = bucketConfigTargetsOf(method, url, body);
  if (!Array.isArray(configured)) return configured;
  for (const b of configured) out.push(bodilessTarget(rawHeaders, 'PUT', b, `its bucket configuration writes into ${new URL(b).host}${new URL(b).pathname.slice(0, 200)}`));
  const deleted = deletedKeysOf(url, body);
  if (!Array.isArray(deleted)) return deleted;
  for (const key of deleted) out.push(bodilessTarget(rawHeaders, 'DELETE', key, `its multi-object delete removes ${new URL(key).pathname.slice(0, 200)}`));
  const calls = batchOf(rawHeaders, url, body);
  if (calls !== undefined) {
    if (!Array.isArray(calls)) return calls;
    out.push(...calls);
  }
  const graphCalls = graphBatchOf(rawHeaders, url, body);
  if (!Array.isArray(graphCalls)) return graphCalls;
  out.push(...graphCalls);
  const uploaded = formUploadKeysOf(rawHeaders, method, url, body);
  if (!Array.isArray(uploaded)) return uploaded;
  for (const key of uploaded) out.push(bodilessTarget(rawHeaders, 'PUT', key, `its form upload writes ${new URL(key).pathname.slice(0, 200)}`));
  const hrefs = davHrefsOf(method, url, body);
  if (!Array.isArray(hrefs)) return hrefs;
  // REBIND moves the resource away from where it was (a delete there); the others read it there.
  const rebind = method.toUpperCase() === 'REBIND';
  for (const href of hrefs) out.push(bodilessTarget(rawHeaders, rebind ? 'DELETE' : 'GET', href, `its ${method.toUpperCase()} ${rebind ? 'moves' : 'reads'} ${new URL(href).pathname.slice(0, 200)}`));
  const segments = swiftManifestSegmentsOf(method, url, body);
  if (!Array.isArray(segments)) return segments;
  for (const t of segments) out.push(bodilessTarget(rawHeaders, t.method, t.url, t.why));
  const records = salesforceRecordsOf(rawHeaders, method, url, body);
  if (!Array.isArray(records)) return records;
  out.push(...records);
  const atomic = atomicOperationsOf(rawHeaders, url, body);
  if (!Array.isArray(atomic)) return atomic;
  out.push(...atomic);
  const sent = sentElsewhereOf(rawHeaders, method, url, body);
  if (!Array.isArray(sent)) return sent;
  for (const t of sent) out.push(elsewhere(t));
  return undefined;
}

/**
 * A request to another origin the server makes on its own, as a request of its own: only Host
 * (and a body type for a POST) — the agent's headers, credentials among them, are for this host,
 * and the server sends its own.
 */
function elsewhere(t: NamedTarget): SecondTarget {
  return { request: { method: t.method, url: t.url, headers: [['host', new URL(t.url).host]], body: Buffer.alloc(0), bodyTruncated: false }, why: t.why };
}

/**
 * Configurations that have the server send to a destination the request names, later and on its
 * own (sixteenth pass): each is decided as the request the server will make there, so a policy
 * that refuses the destination refuses the configuration (a bucket's object keys sent to the
 * attacker's queue, an index's snapshot written to the attacker's bucket, a SOAP answer posted to
 * the attacker's URL). A destination Airlock cannot read is refused.
 */
function sentElsewhereOf(rawHeaders: readonly string[], method: string, url: string, body: ServerBody): NamedTarget[] | Rejection {
  const m = method.toUpperCase();
  if (m !== 'PUT' && m !== 'POST' && m !== 'PATCH') return [];
  // (A log sink's destination is changed by a PATCH or PUT too.)
  const sink = logSinkTargetsOf(url, body);
  if (!Array.isArray(sink) || sink.length) return sink;
  const awsLogs = awsLogDestinationsOf(rawHeaders, body);
  if (!Array.isArray(awsLogs) || awsLogs.length) return awsLogs;
  const awsEvents = awsEventTargetsOf(rawHeaders, url, body);
  if (!Array.isArray(awsEvents) || awsEvents.length) return awsEvents;
  const diagnostics = diagnosticSettingsTargetsOf(url, body);
  if (!Array.isArray(diagnostics) || diagnostics.length) return diagnostics;
  // (A hook's URL is changed by a PATCH too: GitHub's `PATCH …/hooks/{id}/config`.)
  if (m === 'PATCH') return callbackTargetsOf(rawHeaders, url, body);
  for (const reader of [notificationTargetsOf, snapshotRepositoryTargetsOf, watchChannelTargetsOf, watcherTargetsOf]) {
    const found = reader(m, url, body);
    if (!Array.isArray(found) || found.length) return found;
  }
  const replies = replyAddressesOf(rawHeaders, m, body);
  if (!Array.isArray(replies) || replies.length) return replies;
  return callbackTargetsOf(rawHeaders, url, body);
}

/**
 * Members naming a URL the service will send to on its own (folded as foldedKey does, `-` too):
 * Microsoft Graph's change notification subscriptions (`notificationUrl`, `lifecycleNotificationUrl`:
 * with `includeResourceData` the message itself), Twilio's `StatusCallback`, Azure Event Grid's
 * `endpointUrl`, and the callback and webhook URLs of many other APIs.
 */
const callbackKeys = new Set(['notificationurl', 'lifecyclenotificationurl', 'callbackurl', 'callback', 'statuscallback', 'statuscallbackurl', 'webhookurl', 'webhook', 'hookurl', 'notifyurl', 'endpointurl', 'payloadurl', 'deliveryurl',
  // OpenID Connect's dynamic client registration (twenty-first pass): the provider fetches `jwks_uri`,
  // `sector_identifier_uri` and `request_uris` and posts logout tokens and CIBA notifications (tokens) to
  // the back-channel endpoints.
  'jwksuri', 'sectoridentifieruri', 'requesturis', 'backchannellogouturi', 'backchannelclientnotificationendpoint',
  // Twenty-second pass: the `uri` spellings of the names above; Google Pub/Sub's `pushConfig.pushEndpoint`
  // (every message of the topic is pushed there); Twilio's phone number `SmsUrl`, `VoiceUrl` and their
  // fallbacks (each incoming text, a sign-in code among them, is posted there); Vonage's `answer_url`;
  // `ipn_url` (payment notifications).
  'callbackuri', 'webhookuri', 'notificationuri', 'notifyuri', 'hookuri', 'webhookendpoint', 'pushendpoint', 'smsurl', 'voiceurl', 'smsfallbackurl', 'voicefallbackurl', 'answerurl', 'fallbackanswerurl', 'ipnurl',
  // Twenty-fifth pass: where a server sends a credential it keeps, or every event, once configured:
  // EventBridge's API destination (`InvocationEndpoint`: events with the connection's key) and
  // connection (`AuthorizationEndpoint`: its OAuth client secret); an identity provider's token,
  // user-info, JWKS, discovery and metadata URLs (Keycloak's `tokenUrl`, Auth0's `token_endpoint`:
  // the client secret and the users' codes are posted there).
  'invocationendpoint', 'authorizationendpoint', 'tokenendpoint', 'tokenurl', 'userinfourl', 'userinfoendpoint', 'jwksurl', 'discoveryurl', 'metadataurl']);

/**
 * On a webhook endpoint (isWebhookPath), a member or field whose name ends so names where the service will
 * send: `url`, `address`, and (twenty-second pass) Pipedrive's `subscription_url`, a REST hook's
 * `target_url`, any `…_uri` or `…endpoint`; (twenty-third pass) Asana's `target`.
 */
function hookPathKey(k: string): boolean {
  // (`…address` too: Gitea's push mirror `remote_address`; a value still has to be an http(s) URL.)
  return callbackKeysOf(k).some((key) => key.endsWith('address') || key === 'target' || /(?:url|uri)s?$/.test(key) || key.endsWith('endpoint'));
}

/**
 * The URLs one callback value names (twenty-fourth pass): itself, and each line of it (Sentry's
 * webhooks plugin takes `urls` one a line, where a WHATWG parser of the whole drops the line
 * breaks and reads the first host); under a plural name (`urls`, `uris`) each piece between commas
 * or blanks too. At most MAX_INDICES + 1 pieces (callbackUrls refuses more).
 */
function valueUrls(k: string, v: string): string[] {
  const plural = /(?:url|uri)s$/i.test(k);
  if (!/[\r\n]/.test(v) && !(plural && /[\s,]/.test(v.trim()))) return [v];
  return [v, ...v.split(plural ? /[\s,]+/ : /[\r\n]+/).filter((x) => x.trim()).slice(0, MAX_INDICES + 1)];
}

/**
 * Objects whose `url` (`uri`, `endpoint`, `address`, `href`) is where the service sends (twenty-second
 * pass): one under a callback name (`{"webhook": {"url": …}}`, `{"callback": {"url": …}}`), a
 * Kubernetes `clientConfig` (a CRD's conversion webhook, which the API server sends every object it
 * converts), a `notification(s)` object.
 */
// (Twenty-fourth pass: Slack's app manifest, `event_subscriptions.request_url` (every event of the
// workspace's channels), `interactivity.request_url` and `message_menu_options_url`, each of
// `slash_commands` its `url`.)
const callbackHolders = new Set(['clientconfig', 'notification', 'notifications', 'webhooks', 'callbacks', 'hook', 'hooks', 'eventsubscriptions', 'interactivity', 'slashcommands']);
const callbackLeaves = new Set(['url', 'uri', 'endpoint', 'address', 'href', 'requesturl', 'messagemenuoptionsurl']);

/**
 * Whether a folded name is a holder's: callbackHolders, or (twenty-fourth pass) any name that says
 * webhook or callback (Shopify's `webhookSubscription: {uri}`, `webhook_config`, `callbackSettings`).
 */
function isHolderKey(k: string): boolean {
  return callbackHolders.has(k) || k.includes('webhook') || k.includes('callback') || k.includes('notification') || k.includes('endpoint') || holderEndings.some((e) => k.endsWith(e));
}

/**
 * Holders named otherwise (twenty-fifth pass): any name that says notification (the A2A protocol's
 * `pushNotificationConfig: {url}`, where an agent server posts each task's updates and artifacts;
 * DocuSign's envelope `eventNotification: {url}`; `notificationConfig`), a Knative `sink: {uri}`,
 * Cloud Scheduler's `httpTarget: {uri}` (called on schedule with the job's service-account token),
 * an object under a name that says endpoint (Eventarc's `destination: {httpEndpoint: {uri}}`,
 * Firehose's `HttpEndpointDestinationConfiguration.EndpointConfiguration.Url`: every record posted there).
 */
const holderEndings = ['sink', 'httptarget'];

/** Whether an object under this member name holds a callback URL in its `url` (callbackHolders). */
export function holdsCallback(name: string): boolean {
  return name.length <= 128 && (isCallbackKey(name) || callbackKeysOf(name).some(isHolderKey));
}

/** Whether a member of such an object names its URL. */
export function isCallbackLeaf(name: string): boolean {
  return name.length <= 32 && callbackLeaves.has(foldedKey(name).replaceAll('-', ''));
}

/**
 * A query or form's parameters as servers split them: on `&`, and (twenty-second pass) on `;` as
 * well where one stands, as Rack 2 splits a query (and Python's parse_qsl did before 3.9.2, Django
 * before 3.2), so `?a=1;callback_url=…` names a callback there.
 */
function serverParams(text: string): Array<[string, string]> {
  const plain = [...new URLSearchParams(text)];
  return text.includes(';') ? [...plain, ...rackTwoParams(text)] : plain;
}

/**
 * Amazon SNS's `Subscribe` (query or form): `Endpoint` is where the topic's every message is
 * posted (with `Protocol=http` or `https`), read as a callback (twenty-second pass).
 */
function snsEndpoints(pairs: Iterable<[string, string]>): Array<[string, string]> {
  let subscribe = false;
  const endpoints: string[] = [];
  for (const [k, v] of pairs) {
    const key = k.toLowerCase();
    if (key === 'action' && v.trim().toLowerCase() === 'subscribe') subscribe = true;
    else if (key === 'endpoint') endpoints.push(v);
  }
  // (Twenty-fifth pass: an ARN too, `Protocol=sqs`/`lambda`/`firehose` with `Endpoint=arn:aws:sqs:…:<another account>:q`:
  // SNS delivers every message of the topic to that account's queue or function; decided as arnEndpoint reads it.)
  return subscribe ? endpoints.map((v): [string, string] => [v.trim().startsWith('arn:') ? SNS_ARN : 'callbackurl', v]) : [];
}

/** The name snsEndpoints gives an SNS subscription's ARN endpoint, for callbackUrls (no form name holds a NUL). */
const SNS_ARN = '\u0000sns-arn';

/**
 * Endpoints that register a webhook, where a plain `url` (or `address`) is where the service will
 * send (a body past the capture cap is refused there): GitHub's and GitLab's `…/hooks` (`config.url`), Stripe's `/v1/webhook_endpoints`, Jira's
 * and Bitbucket's webhooks, Shopify's `webhooks.json` (`address`), Kubernetes admission webhooks
 * (`clientConfig.url`: the API server sends it every object it admits, secrets among them),
 * Kibana's connectors and Grafana's contact points (`config.url`, `settings.url`), Twilio's calls
 * (`Url`: fetched for the call's instructions).
 */
// (Twenty-fourth pass: any segment that says webhook, PagerDuty's `/webhook_subscriptions` with its
// `delivery_method.url`, `/outgoing-webhooks`, `/webhookSubscriptions`.)
// Read segment by segment: a pattern over the whole path with a run of word characters around
// `webhook` was quadratic in a path of repeated `webhookw`.
const hookSegment = /^(?:hooks|connector|contact-points|calls|[\w-]{0,100}webhook[\w-]{0,100})(?:\.json)?$/i;
/**
 * A repository's push mirrors (twenty-fifth pass): GitLab's `POST /projects/:id/remote_mirrors
 * {"url": …}` and Gitea's or Forgejo's `POST /repos/{o}/{r}/push_mirrors {"remote_address": …}`
 * have the server push every branch there on each push (the whole private repository, to the
 * attacker). A segment ending `mirror` or `mirrors` (`remote_mirrors`, `push_mirrors`, `mirrors`).
 */
function mirrorSegment(seg: string): boolean {
  if (seg.length > 100) return false;
  const s = seg.toLowerCase();
  // (And API Gateway's HTTP integrations, `PUT …/methods/{m}/integration {"uri": …}` and v2's
  // `POST /v2/apis/{id}/integrations {"IntegrationUri": …}`: every client request, its
  // Authorization header with it, proxied to that URL.)
  return s.endsWith('mirrors') || s.endsWith('mirror') || s === 'integration' || s === 'integrations';
}

/** Whether `pathname` ends in a hook segment, perhaps followed by one more (an id) and then `config`. */
function isWebhookPath(pathname: string): boolean {
  const segs = pathname.split('/');
  let n = segs.length;
  while (n > 1 && segs[n - 1] === '') n--; // trailing slashes
  const at = (i: number): string | undefined => (i >= 1 ? segs[i] : undefined);
  const hook = (i: number): boolean => { const seg = at(i); return seg !== undefined && (hookSegment.test(seg) || mirrorSegment(seg)); };
  return hook(n - 1) || hook(n - 2) || (hook(n - 3) && at(n - 1)?.toLowerCase() === 'config');
}

/**
 * What a JSON or form body naming a callback member holds (every callbackKeys name ends so, in any
 * letter case), or an escape that may spell one: one linear pass over the text.
 */
// (Twenty-fourth pass: a nested name unescaped, `webhook[url]=`, and a holder's `address` or `href`
// leaf; a JSON document in a field; a route's `action`; a GraphQL `query`.)
const callbackJsonMark = /(?:url|uris?|callback|webhook|endpoint|address|href|action|query)"|\\u/i;
const callbackFormMark = /(?:url|uris?|callback|webhook|endpoint|address|href|action)\]?=|%|[{[]/i;
/**
 * A YAML text too long to parse here that may register a callback off a hook path: a callback,
 * webhook or notification member (a CRD's conversion `webhook.clientConfig`), or a name spelled by
 * an escape. Narrow on purpose: large YAML documents (OpenAPI specs, manifests) name `url`s of
 * their own and are uploaded as files.
 */
const yamlCallbackMark = /callback|hook|notif|clientconfig|\\[xuU]/i;
/** A YAML text that may name a callback member (what callbackJsonMark finds in JSON), or spell one by an escape: parsed only then off a hook path. */
const yamlReadMark = /url|uri|callback|webhook|endpoint|address|href|action|query|\\/i;

/**
 * The URLs a request's JSON or form body registers for the service to call later (callbackKeys
 * anywhere in it; `url`/`address` on a webhook endpoint (isWebhookPath)): each is decided as a POST to it,
 * so a policy that refuses the host refuses the registration (a Graph subscription posting every
 * new mail to the attacker, a Kubernetes webhook receiving every Secret). Values that are not
 * absolute http(s) URLs name nothing the service dials; more than MAX_INDICES are refused.
 */
function callbackTargetsOf(rawHeaders: readonly string[], url: string, body: ServerBody): NamedTarget[] | Rejection {
  const q = url.indexOf('?');
  // The query too: many APIs read a parameter from either.
  // And the head (twenty-first pass): OData's `Prefer: odata.callback; url="…"` and `X-Callback-Url` and kin.
  const query = q >= 0 && (callbackFormMark.test(url.slice(q)) || /endpoint/i.test(url.slice(q))) ? serverParams(url.slice(q + 1).split('#', 1)[0]!) : [];
  const fromQuery = [...query, ...snsEndpoints(query), ...jsonValuePairs(query), ...nestedFormPairs(query), ...headerCallbacks(rawHeaders)];
  // (A body with nothing read in it still leaves these: a query callback beside a text body was dropped.)
  const fromHead = (): NamedTarget[] | Rejection => (fromQuery.length ? callbackUrls(fromQuery, false, url) : []);
  if (body.unreadable || !body.captured.length) return fromHead();
  const hookPath = isWebhookPath(new URL(url).pathname);
  if (hookPath && body.truncated) return refusals.bad('the request body registering a webhook is larger than the capture cap: Airlock cannot read every URL it registers');
  const bytes = body.captured;
  let type = '';
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'content-type') type = rawHeaders[i + 1]!.trim().toLowerCase();
  const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
  // (Or after Gson's XSSI guard `)]}'`, which it skips: twenty-eighth pass.)
  const json = first === 0x7b || first === 0x5b || (first === 0x29 && gsonPrefixed(bytes));
  const form = !json && type.startsWith('application/x-www-form-urlencoded');
  // The same object as XML (twenty-first pass): Spring with Jackson's XML module and ASP.NET's XML
  // formatters bind `<notificationUrl>` (or an attribute of that name) as they bind the JSON member.
  if (!json && !form && first === 0x3c && /xml/.test(type)) {
    const text = bytes.toString('utf8');
    const values = xmlCallbackValues(text, xmlEntities(text));
    if (values === undefined) return refusals.bad('the XML body gives a callback member by an entity of its DTD that Airlock cannot expand (a parameter or external entity, or one nested too deep): a parser reading the DTD registers what it expands to; write the URL itself');
    return callbackUrls([...fromQuery, ...values], hookPath, url);
  }
  // A multipart form's fields, which Django, Rails, PHP, multer and Spring bind as they bind a urlencoded form's (twenty-first pass).
  if (!json && type.startsWith('multipart/form-data')) {
    const raw = contentTypeOf(rawHeaders) ?? type;
    const read = multipartFields(bytes, raw, (n, file) => !file && (isCallbackKey(n) || namesRouteAction(n) || (hookPath && hookPathKey(n)) || nestsName(n)));
    // (A field in a charset no decoder here knows, its own or the form's `_charset_`: UTF-7's `https+ADovLw-…`.)
    if (read.undecodable?.length) return refusals.bodyUnreadable(`the request carries a callback field (${JSON.stringify(read.undecodable[0]!.slice(0, 40))}) in a charset Airlock cannot decode, which a server may decode and register; send it in UTF-8`);
    const fields = read.fields.map(([n, v]): [string, string] => [n, Buffer.from(v, 'latin1').toString('utf8')]);
    return callbackUrls([...fromQuery, ...fields, ...nestedFormPairs(fields), ...jsonPartCallbacks(bytes, raw)], hookPath, url);
  }
  // (Any other multipart body's JSON parts: Google's `multipart/related` uploads carry their metadata so.)
  if (!json && type.startsWith('multipart/')) return callbackUrls([...fromQuery, ...jsonPartCallbacks(bytes, contentTypeOf(rawHeaders) ?? type)], hookPath, url);
  // A YAML body (twenty-ninth pass): Kubernetes' API server takes `application/yaml` for every
  // object (a ValidatingWebhookConfiguration's `clientConfig.url` receives every admission review,
  // Secrets included), and Spring's and Jackson's YAML converters bind it as they bind JSON: read
  // as the JSON its documents make (describe/yaml-body.ts). One too long to parse here (16 KiB) is
  // refused on a hook path, and elsewhere when it may name a callback (yamlCallbackMark): what it
  // registers cannot be read.
  const media = type.split(';', 1)[0]!.trim();
  if (!json && yamlType(media)) {
    const text = bytes.toString('utf8');
    if (text.length > MAX_YAML_TEXT) {
      return hookPath || yamlCallbackMark.test(text) ? refusals.bad(`the YAML body is longer than the ${MAX_YAML_TEXT / 1024} KiB Airlock parses and may register a callback URL it cannot read; send it as JSON`) : fromHead();
    }
    if (!hookPath && !yamlReadMark.test(text)) return fromHead();
    const pairs: Array<[string, unknown]> = [...fromQuery];
    for (const r of yamlReadings(text).readings) appendAll(pairs, jsonCallbackPairs(JSON.stringify(r.json)) ?? []);
    return callbackUrls(pairs, hookPath, url);
  }
  if (!json && !form) return fromHead();
  if (!hookPath && !(json ? callbackJsonMark : callbackFormMark).test(bytes.toString('latin1'))) return fromHead();
  const pairs: Array<[string, unknown]> = [...fromQuery];
  if (json) {
    const read = jsonCallbackPairs(bytes.toString('utf8'));
    if (read === undefined) return fromHead();
    appendAll(pairs, read);
  } else {
    const fields = serverParams(bytes.toString('utf8'));
    for (const [k, v] of fields) pairs.push([k, v]);
    appendAll(pairs, snsEndpoints(fields));
    appendAll(pairs, jsonValuePairs(fields));
    appendAll(pairs, nestedFormPairs(fields));
    // (GraphQL sent as a form, as GitHub takes it: `query` and `variables` fields.)
    const query = fields.find(([k]) => k === 'query')?.[1];
    if (query !== undefined) appendAll(pairs, graphqlCallbackPairs(query, fields.find(([k]) => k === 'variables')?.[1]));
  }
  return callbackUrls(pairs, hookPath, url);
}

/**
 * The [name, value] of every member of a JSON text a callback may be read from (callbackUrls picks
 * them by name), at any depth, in the parse's one pass; undefined when no reader reads it as JSON.
 * A list under a callback name is each of its URLs (`request_uris`), an object under a callback
 * name or a holder's (holdsCallback) its `url` (`{"webhook": {"url": …}}`).
 */
function jsonCallbackPairs(text: string): Array<[string, unknown]> | undefined {
  const pairs: Array<[string, unknown]> = [];
  const take = (k: string, v: unknown): void => memberCallbackPairs(k, v, pairs);
  const urlsIn = (...roots: unknown[]): void => {
    for (const o of objectsIn(...roots)) for (const [k, v] of Object.entries(o)) take(k, v);
  };
  try {
    const root: unknown = JSON.parse(text, (k, v: unknown) => {
      take(k, v);
      return v;
    });
    // A GraphQL request (or a batch of them): URLs written as literal arguments of its calls.
    for (const r of Array.isArray(root) ? root.slice(0, MAX_INDICES + 1) : [root]) {
      if (r && typeof r === 'object' && typeof (r as { query?: unknown }).query === 'string') appendAll(pairs, graphqlCallbackPairs((r as { query: string }).query, (r as { variables?: unknown }).variables));
    }
    // A member given twice: JSON.parse keeps the last, Go's gjson and simdjson take the first (twenty-first pass).
    if (scanJson(text, false).duplicateCount) urlsIn(scanJson(text, true).firstWins);
  } catch {
    // JSON only lenient readers take (twenty-first pass): the first value of a body that goes on
    // (Go's json.Decoder, Jackson), comments and trailing commas (JSONC readers), NaN, single quotes.
    const lenient = parseLenientJson(text);
    if (!lenient || !('value' in lenient)) return undefined;
    urlsIn(lenient.value, ...(lenient.more ?? []));
  }
  return pairs;
}

/**
 * What one member may register, appended to `out` as [name, value] for callbackUrls: a URL (or a
 * route action, routeActionArguments) as it is; a list under a callback name, each URL; an object
 * under a callback or holder name (holdsCallback), its `url` (isCallbackLeaf), and (twenty-fourth
 * pass) each object of a list so held (Slack's `slash_commands: [{url}]`); a string that is a JSON
 * document (a form field's, Slack's `manifest`), what it registers.
 */
function memberCallbackPairs(k: string, v: unknown, out: Array<[string, unknown]>): void {
  if (k.length > 64) return;
  if (typeof v === 'string' && (mayBeHttpUrl(v) || (namesRouteAction(k) && routeActionArguments(v).length))) out.push([k, v]);
  else if (Array.isArray(v)) {
    if (isCallbackKey(k)) for (const x of v.slice(0, MAX_INDICES + 1)) if (typeof x === 'string' && mayBeHttpUrl(x)) out.push([k, x]);
    if (holdsCallback(k)) for (const x of v.slice(0, MAX_INDICES + 1)) if (x && typeof x === 'object' && !Array.isArray(x)) heldLeaves(k, x as Record<string, unknown>, out);
  } else if (v && typeof v === 'object' && holdsCallback(k)) heldLeaves(k, v as Record<string, unknown>, out);
}

/** Whether a form name nests (`a[b]`, `a.b`): servers bind it into an object (nestedFormPairs). */
const nestsName = (name: string): boolean => name.length <= 256 && (name.includes('[') || name.includes('.'));

/** The deepest a nested form name is read (PHP's own limit is 64). */
const MAX_FORM_NESTING = 32;
/** The keys of nested form names bound at most into one object (nestedFormPairs): ~20 ms of the event loop. */
const MAX_BOUND_KEYS = 8192;

/** Whether a form value may register something where it is bound (memberCallbackPairs: a URL, a route action's call). */
const registersMaybe = (v: unknown): v is string => typeof v === 'string' && (mayBeHttpUrl(v) || routeActionArguments(v).length > 0);

/**
 * A form's (or query's) nested names as the object servers bind them to (twenty-eighth pass): PHP,
 * Rack and qs (Express) read `webhooks[0][url]=…` as `{"webhooks": [{"url": …}]}`, Spring's data
 * binder reads `webhooks[0].url` and `webhook.url` so too; the callback readers read the object as
 * they read the same JSON (memberCallbackPairs: a holder's `url`, each object of a held list), where
 * they had read each name as a whole (`webhooks[0][url]` named no callback). An empty subscript
 * (`a[]`) appends; keys 0…n make a list; prototype-free maps.
 */
function nestedFormPairs(fields: ReadonlyArray<readonly [string, unknown]>): Array<[string, unknown]> {
  const paths: Array<[string[], unknown]> = [];
  for (const [name, value] of fields) {
    if (typeof value !== 'string' || !nestsName(name)) continue;
    // The name's pieces: its head, then each `[key]` or `.key`.
    const keys: string[] = [];
    let at = 0;
    while (at < name.length && name[at] !== '[' && name[at] !== '.') at++;
    keys.push(name.slice(0, at));
    while (at < name.length && keys.length <= MAX_FORM_NESTING) {
      if (name[at] === '[') {
        const close = name.indexOf(']', at);
        if (close < 0) break;
        keys.push(name.slice(at + 1, close));
        at = close + 1;
      } else if (name[at] === '.') {
        let end = at + 1;
        while (end < name.length && name[end] !== '[' && name[end] !== '.') end++;
        keys.push(name.slice(at + 1, end));
        at = end;
      } else break;
    }
    if (keys.length >= 2 && keys[0] !== '') paths.push([keys, value]);
  }
  // Twenty-ninth pass: only the names under a head some value of which may register something are
  // bound (a name's head is its own member of the form: heads never meet), and at most
  // MAX_BOUND_KEYS keys of them. A 1 MiB form of `a<n>[0]…[0]=x` bound whole held the event loop
  // ~1.4 s per request, every agent and the studio waiting; most large nested forms (Rails' nested
  // attributes) carry no URL at all and now cost nothing here.
  const heads = new Set<string>();
  for (const [keys, value] of paths) if (registersMaybe(value)) heads.add(keys[0]!);
  if (!heads.size) return [];
  const kept = heads.size === paths.length ? paths : paths.filter(([keys]) => heads.has(keys[0]!));
  let size = 0;
  for (const [keys] of kept) size += Math.min(keys.length, MAX_FORM_NESTING + 1);
  if (size > MAX_BOUND_KEYS) {
    // Past it, each value that may register something is taken as registering it (the policy
    // decides every such URL, and more than MAX_INDICES are refused): read at that cost, never less.
    const out: Array<[string, unknown]> = [];
    for (const [keys, value] of kept) {
      if (!registersMaybe(value)) continue;
      const leaf = keys[Math.min(keys.length, MAX_FORM_NESTING + 1) - 1]!;
      out.push([namesRouteAction(leaf) ? leaf : 'webhookurl', value]);
    }
    return out;
  }
  const bound = boundNested(kept, MAX_FORM_NESTING + 1);
  if (bound === undefined) return [];
  const out: Array<[string, unknown]> = [];
  for (const o of objectsIn(bound)) for (const [k, v] of Object.entries(o)) memberCallbackPairs(k, v, out);
  return out;
}

/** The URL leaves of an object under a holder's name (memberCallbackPairs). */
function heldLeaves(k: string, o: Record<string, unknown>, out: Array<[string, unknown]>, deeper = true): void {
  for (const [leaf, x] of Object.entries(o)) {
    // (A member named for a URL too: `webhooks: {event_url: "https://…"}`.)
    if (typeof x === 'string' && (isCallbackLeaf(leaf) || urlNamed(leaf)) && mayBeHttpUrl(x)) out.push([isCallbackKey(k) ? k : 'webhookurl', x]);
    // (Twenty-fifth pass: a held member named for a URL that is an object of its own, Vonage's
    // `webhooks: {event_url: {address, http_method}}`, holds it one level down.)
    else if (deeper && x && typeof x === 'object' && !Array.isArray(x) && urlNamed(leaf)) heldLeaves(k, x as Record<string, unknown>, out, false);
  }
}

/** Whether a member's folded name ends as a URL's does (`event_url`, `answerUri`). */
export function urlNamed(name: string): boolean {
  return name.length <= 64 && /(?:url|uri)$/.test(foldedKey(name));
}

/**
 * What a query or form value that is itself a JSON document registers (twenty-fourth pass: Slack's
 * `apps.manifest.create` takes `manifest` so, and many APIs take an object as a JSON field).
 */
function jsonValuePairs(pairs: ReadonlyArray<[string, string]>): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [, v] of pairs) {
    if (!/^\s*[{[]/.test(v) || !callbackJsonMark.test(v)) continue;
    const read = jsonCallbackPairs(v);
    if (read) appendAll(out, read);
  }
  return out;
}

/**
 * Callback members in the JSON parts of a multipart body (twenty-second pass): Spring binds a part
 * to an object with `@RequestPart` (a JSON part, a named file too), JAX-RS with `@FormDataParam`,
 * and Google's uploads carry their metadata as a `multipart/related` JSON part, so a subscription
 * sent as such a part was registered while the readers read fields by name only. A part is read
 * when its content starts like JSON (transfer encodings undone: proxy/mime-parts.ts).
 */
function jsonPartCallbacks(body: Buffer, contentType: string): Array<[string, unknown]> {
  // (No mark looked for in the body as sent: a part in base64, quoted-printable or UTF-16 spells none.)
  const out: Array<[string, unknown]> = [];
  for (const part of multipartParts(body, contentType)) {
    // (A quick look first: JSON starts so after blanks, NULs of UTF-16/32 and a byte order mark's bytes.)
    if (!/^[\s\0\xef\xbb\xbf\xfe\xff]{0,16}[{[]/.test(part.content.slice(0, 24))) continue;
    // (Its text as Jackson reads the part's bytes, follow-up to the twenty-second pass: a byte order
    // mark, UTF-16/32 told by its NULs or its charset; a UTF-16 part named nothing read as UTF-8.)
    let text: string;
    try {
      const bytes = Buffer.from(part.content, 'latin1');
      text = (unicodeText(bytes, part.headers['content-type']) ?? bytes).toString('utf8');
    } catch (err) {
      if (err instanceof DecodeFailure) continue;
      throw err;
    }
    const first = /^[\s\ufeff]*(.)/.exec(text.slice(0, 64))?.[1];
    if ((first !== '{' && first !== '[') || !callbackJsonMark.test(text)) continue;
    const read = jsonCallbackPairs(text);
    if (read) appendAll(out, read);
  }
  return out;
}

/**
 * Callback URLs a request's head names (twenty-first pass): OData's asynchronous `Prefer:
 * odata.callback; url="…"` (OData 4.0 §8.2.8.5: the service notifies that URL when the answer is
 * ready) and a header of a callback name with or without `X-` (`X-Callback-Url`, `Webhook-Url`).
 */
function headerCallbacks(rawHeaders: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < rawHeaders.length && out.length <= MAX_INDICES; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'prefer') {
      for (const preference of value.split(',')) {
        const [token, ...params] = preference.split(';');
        if (!/^\s*(?:odata\.)?callback\s*$/i.test(token ?? '')) continue;
        for (const p of params) {
          const eq = p.indexOf('=');
          if (eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'url') out.push(['callbackurl', p.slice(eq + 1).trim().replace(/^"|"$/g, '')]);
        }
      }
    } else if (namesCallback(name.replace(/^x-/, ''))) out.push([name.replace(/^x-/, ''), value]);
  }
  return out;
}

/**
 * What a GraphQL document's calls register (twenty-fourth pass): a URL written as a literal argument
 * (or a variable) under a callback name or holder, as the JSON readers read members, and under a
 * field that says hook (`webhookCreate(input: {url: …})`, Shopify's `webhookSubscriptionCreate`) any
 * member a hooks endpoint reads (hookPathKey). Parsed only when an argument may be so named.
 */
// (An argument's name is followed by its colon, or by ignored tokens before it: blanks, commas, a comment.)
// (Or a field that says hook takes arguments, its variables holding the URL: a name of at most 100
// more word characters, so that a run of `hook` is read once, not once per start.)
const graphqlCallbackMark = /(?:url|uris?|callback|hook|endpoint|address|target)[\s,]*[:#]|hook\w{0,100}[\s,]*[(#]/i;
function graphqlCallbackPairs(query: string, variables: unknown): Array<[string, unknown]> {
  if (!graphqlCallbackMark.test(query)) return [];
  const calls = fieldArguments(query, variables);
  if (!calls) return [];
  const out: Array<[string, unknown]> = [];
  for (const call of calls.slice(0, MAX_INDICES * 10)) {
    const hook = /hook/i.test(call.field);
    for (const o of objectsIn(call.args)) {
      for (const [k, v] of Object.entries(o)) {
        if (hook && typeof v === 'string' && mayBeHttpUrl(v) && !isCallbackKey(k) && hookPathKey(k)) out.push(['webhookurl', v]);
        else memberCallbackPairs(k, v, out);
      }
    }
  }
  return out;
}

/**
 * Mailgun's routes (twenty-fourth pass): an `action` field is an expression, and each incoming mail
 * the route matches is posted to the URL of `forward("https://…")`, or stored and notified to
 * `store(notify="https://…")`. The arguments of such a call, quoted or not, `name=` dropped.
 */
const routeAction = /^\s*(?:forward|store)\s*\(/i;
function routeActionArguments(v: string): string[] {
  if (!routeAction.test(v) || v.length > 4096) return [];
  const inner = v.slice(v.indexOf('(') + 1).replace(/\)\s*$/, '');
  return inner.split(',').map((a) => a.replace(/^\s*\w+\s*=/, '').trim().replace(/^["']|["']$/g, ''));
}

/** Whether a field is a route's `action` (routeActionArguments), for the readers and the watch past the capture cap. */
export function namesRouteAction(name: string): boolean {
  return name.length <= 128 && callbackKeysOf(name).includes('action');
}

/** Whether the start of a value is a route action's call (routeAction), for the watch past the capture cap. */
export function routeActionStart(head: string): boolean {
  return routeAction.test(head);
}

/**
 * A member or field name as callbackUrls matches it: a form's nested name by its last part
 * (`config[url]`, WebSub's `hub.callback`, and that one nested: `options[hub.callback]`, which PHP
 * keeps whole inside brackets), letter case, `_` and `-` folded away. And a name without brackets
 * as PHP fills $_POST (twenty-first pass): leading blanks dropped, `.`, blanks and an unclosed `[`
 * turned to `_`, so `callback.url`, `callback url` and `callback[url` are Laravel's `callback_url`.
 */
function callbackKeysOf(name: string): string[] {
  const k = listItemName(name);
  const inner = k.endsWith(']') ? k.slice(k.lastIndexOf('[') + 1, -1) : k;
  const last = foldedKey(inner.slice(inner.lastIndexOf('.') + 1)).replaceAll('-', '');
  if (k.includes(']') || !/[. []/.test(k)) return [last];
  const php = foldedKey(k.replace(/^ +/, '').replace(/[. []/g, '_')).replaceAll('-', '');
  return php === last ? [last] : [last, php];
}

/**
 * A name without the list subscripts at its end (twenty-fifth pass): PHP and Rack build
 * `{"callback_url": ["https://…"]}` of `callback_url[]=…` (and `request_uris[0]=…`), and Rack names
 * a multipart part with neither name nor Content-ID `<its Content-Type>[]`; an item of the list is
 * read under the list's own name (`callback_url`, `request_uris`).
 */
function listItemName(k: string): string {
  let end = k.length;
  while (end > 2 && k[end - 1] === ']') {
    const open = k.lastIndexOf('[', end - 1);
    if (open <= 0 || !/^\d{0,9}$/.test(k.slice(open + 1, end - 1))) break;
    end = open;
  }
  return end === k.length ? k : k.slice(0, end);
}

/**
 * Endings of a name that says a callback URL whatever comes before (twenty-third pass): Twilio's
 * `RecordingStatusCallback`, `AmdStatusCallback`, `ConferenceStatusCallback` (the recording's URL
 * and the call's details are posted there), Postmark's `InboundHookUrl` and `BounceHookUrl` (every
 * incoming mail), Twilio Conversations' `PreWebhookUrl`. A list of whole names lags the services.
 */
const callbackEndings = ['callback', 'callbackurl', 'callbackuri', 'hookurl', 'hookuri', 'notificationurl', 'notificationuri', 'notifyurl', 'pushendpoint', 'webhookendpoint'];

/**
 * Words that, before a name's `url`/`uri` ending, say the service reports an event there (twenty-sixth
 * pass, left open by the twenty-fifth: names off a hooks endpoint no list held): Vonage's
 * `status_url`, `inbound_url` and `event_url` (every message and call event), Plivo's
 * `hangup_url` and `fallback_url`, SMS gateways' `dlr_url` and `delivery_report_url`, `incoming_url`,
 * `alert_url`, `result_url`, `completion_url`, `progress_url`. A list of
 * whole names lags the services; a word of what is reported does not.
 */
// (Not words that end other words — `ring` (monitoring), `ping` (shipping), `complete` (autocomplete) —
// nor fields other services only show back: `receipt_url`.)
const eventWords = ['status', 'inbound', 'incoming', 'event', 'dlr', 'delivery', 'deliveryreport', 'report', 'hangup', 'fallback', 'alert', 'result', 'completion', 'progress', 'notify', 'reply', 'answer'];

/** Whether a folded name ends in `url`/`uri` (`urls`, `uris`) after a word of eventWords. */
function reportsEvents(key: string): boolean {
  const m = /(?:url|uri)s?$/.exec(key);
  if (!m || key.length > 64) return false;
  const head = key.slice(0, m.index);
  return eventWords.some((w) => head.endsWith(w) || head.endsWith(`${w}s`) || head.endsWith(`${w}d`));
}

/** Whether a name read as callbackKeysOf reads it is one a service reads a callback URL from (callbackKeys, callbackEndings, reportsEvents). */
function isCallbackKey(k: string): boolean {
  return callbackKeysOf(k).some((key) => callbackKeys.has(key) || callbackEndings.some((e) => key.endsWith(e)) || reportsEvents(key)) || nestedCallbackLeaf(listItemName(k));
}

/**
 * A nested form name whose last part is a URL's and the part before it a callback's or a holder's
 * (twenty-second pass): PHP and Rack build `{"webhook": {"url": …}}` of `webhook[url]=…`, as
 * `webhook.url` is for servers binding dotted names (Spring's data binder), which the JSON readers
 * read as the object's `url` (holdsCallback).
 */
function nestedCallbackLeaf(k: string): boolean {
  if (!k.includes('[') && !k.includes('.')) return false;
  const parts = k.split(/[[\].]+/).filter(Boolean);
  if (parts.length < 2 || !isCallbackLeaf(parts[parts.length - 1]!)) return false;
  const holder = foldedKey(parts[parts.length - 2]!).replaceAll('-', '');
  return callbackKeys.has(holder) || isHolderKey(holder);
}

/** Whether a member or field name is one a service reads a callback URL from (callbackKeys), for the watch past the capture (proxy/form-tail.ts). */
export function namesCallback(name: string): boolean {
  return name.length <= 128 && isCallbackKey(name);
}

/** The callback URLs among a request's named values (callbackTargetsOf), each as a POST to it; `base` is the request's URL, what a scheme-relative value is resolved against. */
function callbackUrls(pairs: ReadonlyArray<[string, unknown]>, hookPath: boolean, base: string): NamedTarget[] | Rejection {
  const out = new Map<string, NamedTarget>();
  for (const [k, v] of pairs) {
    if (typeof v !== 'string' || k.length > 128) continue;
    if (k === SNS_ARN) {
      const target = arnEndpoint(v.trim());
      if (typeof target === 'string') return refusals.bad(`the SNS subscription's endpoint ${target}: Airlock cannot tell where the topic's messages would go`);
      if (target) out.set(target.url, { ...target, why: `its SNS subscription ${target.why}` });
      continue;
    }
    const values = namesRouteAction(k) && !isCallbackKey(k) ? routeActionArguments(v) : isCallbackKey(k) || (hookPath && hookPathKey(k)) ? valueUrls(k, v) : [];
    for (const value of values) {
      const target = httpUrlAsParsed(value, base);
      if (target === undefined) continue;
      out.set(target, { method: 'POST', url: target, why: `its ${k.slice(0, 40)} has the service send to ${value.trim().slice(0, 160)}` });
      if (out.size > MAX_INDICES) return refusals.bad(`the request registers more than ${MAX_INDICES} URLs for the service to call`);
    }
  }
  // (A body past the capture cap, no whole JSON to read: its callback members are watched as it leaves, proxy/form-tail.ts.)
  return [...out.values()];
}

/**
 * Whether a value may read as an http(s) URL to a WHATWG URL parser (Node's `fetch` and `new URL`,
 * Rust's `url` crate): it strips leading C0 controls and blanks and drops tabs and newlines
 * anywhere, so `\x01https://…` and `h\ttps://…` are such URLs (twentieth pass). A scheme-relative
 * value (`//evil.example/cb`; `\\evil.example`, `/\evil.example`: a backslash is a slash in an
 * http(s) URL) is one too, to a service that resolves it against its own URL (twenty-first pass).
 * Cheap: most values are ruled out by their first character.
 */
export function mayBeHttpUrl(v: string): boolean {
  const c = v.charCodeAt(0);
  if (c > 0x20 && c !== 0x68 && c !== 0x48 && c !== 0x2f && c !== 0x5c && !/\s/.test(v[0]!)) return false;
  return /^(?:https?:|[/\\]{2})/i.test(unpadded(v).replace(/[\t\n\r]/g, ''));
}

/** A value without leading and trailing C0 controls and blanks (WHATWG), nor Unicode whitespace (Python's `requests` strips it). */
function unpadded(v: string): string {
  return trimWhere(v, (c) => c <= ' ' || /\s/.test(c));
}

/**
 * The http(s) URL a service that parses a value as WHATWG does dials (`https:\\evil.example\cb`,
 * `https:evil.example/cb`, `https:/evil.example` are `https://evil.example/…` to it, as a backslash
 * is a slash to .NET's `Uri` too; `//evil.example/cb` is resolved against `base`, the request's
 * URL, as a service resolving it against its own does); undefined when it names none.
 */
function httpUrlAsParsed(v: string, base: string): string | undefined {
  const value = unpadded(v);
  if (!mayBeHttpUrl(value)) return undefined;
  // (Absolute when it parses so: with a base, WHATWG reads `https:evil.example` as a path of the base.)
  const u = URL.parse(value) ?? URL.parse(value, base);
  if (!u) return undefined;
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : undefined;
}

/** A URL for a destination named by an AWS ARN (SQS queue, SNS topic, Lambda function), undefined for MinIO's (the operator's targets); a string saying why it cannot be read. */
function arnEndpoint(arn: string): NamedTarget | string | undefined {
  const m = /^arn:([a-z-]+):(sqs|sns|lambda):([a-z0-9-]*):([0-9a-z-]*):(.+)$/.exec(arn);
  if (!m) return `is not an SQS, SNS or Lambda ARN (${JSON.stringify(arn.slice(0, 80))})`;
  const [, partition, service, region, account, rest] = m as unknown as [string, string, string, string, string, string];
  if (partition === 'minio') return undefined; // a target MinIO's operator configured (arn:minio:sqs::ID:webhook)
  const domain = partition === 'aws' || partition === 'aws-us-gov' ? 'amazonaws.com' : partition === 'aws-cn' ? 'amazonaws.com.cn' : undefined;
  if (!domain || !/^[a-z]{2}(?:-[a-z]+)+-\d$/.test(region) || !/^\d{12}$/.test(account)) return `names a partition, region or account Airlock cannot read (${JSON.stringify(arn.slice(0, 80))})`;
  if (service === 'sqs') return /^[\w-]{1,80}(?:\.fifo)?$/.test(rest) ? { method: 'POST', url: `https://sqs.${region}.${domain}/${account}/${rest}`, why: `sends to the SQS queue ${arn.slice(0, 120)}` } : `names a queue Airlock cannot read (${JSON.stringify(arn.slice(0, 80))})`;
  if (service === 'sns') return /^[\w-]{1,256}(?:\.fifo)?$/.test(rest) ? { method: 'POST', url: `https://sns.${region}.${domain}/?Action=Publish&TopicArn=${encodeURIComponent(arn)}`, why: `publishes to the SNS topic ${arn.slice(0, 120)}` } : `names a topic Airlock cannot read (${JSON.stringify(arn.slice(0, 80))})`;
  return /^function:[\w-]{1,140}(?::[\w$-]{1,128})?$/.test(rest) ? { method: 'POST', url: `https://lambda.${region}.${domain}/2015-03-31/functions/${encodeURIComponent(arn)}/invocations`, why: `invokes the Lambda function ${arn.slice(0, 120)}` } : `names a function Airlock cannot read (${JSON.stringify(arn.slice(0, 80))})`;
}

/**
 * A bucket's event notifications: S3's (`PUT /<bucket>?notification`, MinIO and Ceph alike: every
 * `<Queue>`, `<Topic>`, `<CloudFunction>` ARN of any account gets each event, object keys and
 * all) and GCS's (`POST /storage/v1/b/<bucket>/notificationConfigs`, a Pub/Sub `topic` of any
 * project). Each destination is decided as a POST to it (`sqs.<region>.amazonaws.com/<account>/<queue>`,
 * `pubsub.googleapis.com/v1/projects/<p>/topics/<t>:publish`).
 */
function notificationTargetsOf(method: string, url: string, body: ServerBody): NamedTarget[] | Rejection {
  const s3 = method === 'PUT' && /[?&]notification(?:[=&#]|$)/.test(url);
  const gcs = method === 'POST' && /\/b\/[^/?#]+\/notificationConfigs\/*(?:[?#]|$)/.test(url);
  if (!s3 && !gcs) return [];
  if (body.unreadable) return unreadableBody('a bucket notification configuration', body.unreadable);
  if (!body.captured.length) return [];
  if (body.truncated) return refusals.bad('the request body is a bucket notification configuration larger than the capture cap: Airlock cannot read every destination it names');
  const out: NamedTarget[] = [];
  if (gcs) {
    const topic = serverKeys(parseObject(body.captured.toString('utf8')) ?? {}).topic;
    if (topic === undefined) return [];
    const m = typeof topic === 'string' ? /^(?:\/\/pubsub\.googleapis\.com\/)?projects\/([a-z0-9.:-]{1,100})\/topics\/([\w.~+%-]{1,255})$/i.exec(topic) : null;
    if (!m) return refusals.bad(`the notification configuration names a topic Airlock cannot read (${JSON.stringify(String(topic).slice(0, 80))})`);
    return [{ method: 'POST', url: `https://pubsub.googleapis.com/v1/projects/${encodeURIComponent(m[1]!)}/topics/${encodeURIComponent(m[2]!)}:publish`, why: `its notifications publish to ${m[0].slice(0, 160)}` }];
  }
  const xml = xmlWithoutMarkup(body.captured.toString('utf8'));
  for (const element of ['queue', 'topic', 'cloudfunction']) {
    const texts = elementTexts(xml, element, MAX_INDICES + 1);
    if (texts === undefined) return refusals.bad(`a ${element} of the notification configuration holds markup Airlock does not read`);
    for (const t of texts) {
      const arn = xmlText(t).trim();
      const target = arnEndpoint(arn);
      if (typeof target === 'string') return refusals.bad(`the notification configuration's ${element} ${target}`);
      if (target) out.push({ ...target, why: `its notifications: the store ${target.why}` });
      if (out.length > MAX_INDICES) return refusals.bad(`the notification configuration names more than ${MAX_INDICES} destinations`);
    }
  }
  return out;
}

/**
 * A Cloud Logging sink (twenty-fifth pass): `POST /v2/projects/<p>/sinks` (and folders',
 * organizations', billing accounts'; `PUT`/`PATCH …/sinks/<name>`) with `{"destination":
 * "storage.googleapis.com/<bucket>"}` has Logging write every matching entry of the project's logs
 * (request bodies, tokens in them) into that bucket, of any project, from then on; also a Pub/Sub
 * topic, a BigQuery dataset or a log bucket of another project. Decided as a write there; a
 * destination Airlock cannot read is refused.
 */
const logSinkPath = /\/v2\/(?:projects|folders|organizations|billingAccounts)\/[^/?#]{1,200}\/sinks(?:\/[^/?#]{1,200})?\/*(?:[?#]|$)/;
function logSinkTargetsOf(url: string, body: ServerBody): NamedTarget[] | Rejection {
  if (!url.includes('/sinks') || !logSinkPath.test(url) || !body.captured.length) return [];
  if (body.unreadable) return unreadableBody('a log sink', body.unreadable);
  if (body.truncated) return refusals.bad('the request body is a log sink larger than the capture cap: Airlock cannot read where it sends');
  const destination = serverKeys(parseObject(body.captured.toString('utf8')) ?? {}).destination;
  if (destination === undefined) return [];
  const d = typeof destination === 'string' ? destination.trim().replace(/^(?:https?:)?\/\//i, '') : '';
  const seg = (v: string): string => encodeURIComponent(v);
  let m: RegExpExecArray | null;
  let target: string | undefined;
  if ((m = /^storage\.googleapis\.com\/([a-z0-9][a-z0-9._-]{1,221})\/?$/i.exec(d))) target = `https://storage.googleapis.com/upload/storage/v1/b/${seg(m[1]!)}/o`;
  else if ((m = /^pubsub\.googleapis\.com\/projects\/([a-z0-9.:-]{1,100})\/topics\/([\w.~+%-]{1,255})$/i.exec(d))) target = `https://pubsub.googleapis.com/v1/projects/${seg(m[1]!)}/topics/${seg(m[2]!)}:publish`;
  else if ((m = /^bigquery\.googleapis\.com\/projects\/([a-z0-9.:-]{1,100})\/datasets\/(\w{1,1024})$/i.exec(d))) target = `https://bigquery.googleapis.com/bigquery/v2/projects/${seg(m[1]!)}/datasets/${seg(m[2]!)}/tables`;
  else if ((m = /^logging\.googleapis\.com\/projects\/([a-z0-9.:-]{1,100})\/locations\/([\w-]{1,100})\/buckets\/([\w.-]{1,100})$/i.exec(d))) target = `https://logging.googleapis.com/v2/projects/${seg(m[1]!)}/locations/${seg(m[2]!)}/buckets/${seg(m[3]!)}`;
  if (!target) return refusals.bad(`the log sink names a destination Airlock cannot read (${JSON.stringify(String(destination).slice(0, 80))})`);
  return [{ method: 'POST', url: target, why: `its log sink writes every matching log entry to ${d.slice(0, 160)}` }];
}

/** An AWS JSON call's operation: its first `X-Amz-Target` header. */
function amzTarget(rawHeaders: readonly string[]): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'x-amz-target') return rawHeaders[i + 1]!;
  return undefined;
}

/**
 * AWS's log destinations (twenty-fifth pass), JSON APIs named by `X-Amz-Target`: CloudWatch Logs'
 * `CreateExportTask` writes a log group into the S3 bucket `destination` (any account's whose
 * bucket policy lets the service write: the attacker's), `PutSubscriptionFilter` streams every new
 * entry to `destinationArn` (a Lambda function, Kinesis or Firehose stream, a cross-account
 * destination), CloudTrail's `CreateTrail`/`UpdateTrail` deliver the account's API activity into
 * `S3BucketName`. Decided as a write into the bucket, or as arnEndpoint reads the ARN; an ARN it
 * cannot read (Kinesis, Firehose, a Logs destination) is refused: a false refusal of such a
 * subscription, the price of not knowing which account a stream is in.
 */
function awsLogDestinationsOf(rawHeaders: readonly string[], body: ServerBody): NamedTarget[] | Rejection {
  const target = amzTarget(rawHeaders);
  const action = target?.trim().split('.').pop()?.toLowerCase();
  if (!action || !['createexporttask', 'putsubscriptionfilter', 'createtrail', 'updatetrail'].includes(action) || !body.captured.length) return [];
  if (body.unreadable) return unreadableBody(`an AWS ${action}`, body.unreadable);
  if (body.truncated) return refusals.bad(`the request body of an AWS ${action} is larger than the capture cap: Airlock cannot read where it sends`);
  const o = serverKeys(parseObject(body.captured.toString('utf8')) ?? {}) as Record<string, unknown>;
  // (Member names as AWS's JSON protocol matches them: exact, but read here without letter case, as serverKeys folds.)
  const member = (name: string): unknown => Object.entries(o).find(([k]) => k.toLowerCase() === name)?.[1];
  const bucket = action === 'createexporttask' ? member('destination') : action === 'putsubscriptionfilter' ? undefined : member('s3bucketname');
  if (action === 'putsubscriptionfilter') {
    const arn = member('destinationarn');
    if (arn === undefined) return [];
    const found = typeof arn === 'string' ? arnEndpoint(arn.trim()) : 'is not a string';
    if (typeof found === 'string') return refusals.bad(`the subscription filter's destination ${found}: Airlock cannot tell whose stream every new log entry would go to`);
    return found ? [{ ...found, why: `its subscription filter ${found.why} with every new log entry` }] : [];
  }
  if (bucket === undefined) return [];
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) return refusals.bad(`the ${action} names a bucket Airlock cannot read (${JSON.stringify(String(bucket).slice(0, 80))})`);
  return [{ method: 'PUT', url: `https://${bucket}.s3.amazonaws.com/`, why: `its ${action === 'createexporttask' ? 'export task writes the log group' : 'trail delivers the account\'s API activity'} into the bucket ${bucket}` }];
}

/**
 * AWS's event targets (twenty-sixth pass, left open by the twenty-fifth): EventBridge's `PutTargets`
 * (`X-Amz-Target: AWSEvents.PutTargets`, each `Targets[].Arn` and its `DeadLetterConfig.Arn`),
 * EventBridge Scheduler's schedules (`POST`/`PUT /schedules/<name>`, `Target.Arn`) and Pipes
 * (`POST`/`PUT /v1/pipes/<name>`, `Target`) have AWS send every matching event, from then on, to
 * the resource the ARN names, of any account (another account's event bus, queue or function).
 * Each is decided as the request AWS makes there: arnEndpoint's URL for SQS, SNS and Lambda, and
 * for any other service `https://<service>.<region>.amazonaws.com/<account>/<resource>`, so a
 * policy that limits the agent to its own account (the path's first segment, as an SQS queue's URL
 * has it) decides every target alike. An ARN without a region and account is refused.
 */
const scheduleOrPipePath = /\/(?:schedules|v1\/pipes)\/[^/?#]{1,200}\/*(?:[?#]|$)/;
function awsEventTargetsOf(rawHeaders: readonly string[], url: string, body: ServerBody): NamedTarget[] | Rejection {
  const target = amzTarget(rawHeaders);
  const action = target?.trim().split('.').pop()?.toLowerCase();
  const putTargets = action === 'puttargets';
  // (`PutEvents` sends each entry to the bus its `EventBusName` names, an ARN of any account's bus.)
  const putEvents = action === 'putevents' && /^\s*awsevents\./i.test(target ?? '');
  if (!putTargets && !putEvents && !scheduleOrPipePath.test(new URL(url).pathname)) return [];
  if (!body.captured.length) return [];
  if (body.unreadable) return unreadableBody('an AWS event target', body.unreadable);
  const text = body.captured.toString('utf8');
  if (!putTargets && !putEvents && !/"target"/i.test(text)) return [];
  if (body.truncated) return refusals.bad('the request body names AWS event targets and is larger than the capture cap: Airlock cannot read where every event goes');
  const o = parseObject(text) ?? {};
  // (Member names as AWS's JSON protocols match them: exact, but read here without letter case.)
  const member = (v: unknown, name: string): unknown => (v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v).find(([k]) => k.toLowerCase() === name)?.[1] : undefined);
  const arns: unknown[] = [];
  const targetArns = (t: unknown): void => {
    if (t === undefined) return;
    if (typeof t === 'string') return void arns.push(t); // (Pipes: `Target` is the ARN itself.)
    arns.push(member(t, 'arn'));
    const dead = member(member(t, 'deadletterconfig'), 'arn');
    if (dead !== undefined) arns.push(dead);
  };
  if (putEvents) {
    const list = member(o, 'entries');
    // (A bus by name is the caller's own account's; by ARN, any account's.)
    for (const e of Array.isArray(list) ? list : []) {
      const bus = member(e, 'eventbusname');
      if (bus !== undefined && (typeof bus !== 'string' || bus.trim().startsWith('arn:'))) arns.push(bus);
    }
  } else if (putTargets) {
    const list = member(o, 'targets');
    if (Array.isArray(list)) for (const t of list) targetArns(t);
    else if (list !== undefined) return refusals.bad('the PutTargets request\'s Targets is not a list Airlock can read');
  } else {
    targetArns(member(o, 'target'));
    const dead = member(member(o, 'deadletterconfig'), 'arn');
    if (dead !== undefined) arns.push(dead);
  }
  if (arns.length > MAX_INDICES) return tooMany('event targets');
  const out: NamedTarget[] = [];
  for (const arn of arns) {
    const a = typeof arn === 'string' ? arn.trim() : '';
    const known = /^arn:[a-z-]+:(?:sqs|sns|lambda):/.test(a) ? arnEndpoint(a) : undefined;
    if (known && typeof known !== 'string') {
      out.push({ ...known, why: `its event target ${known.why} with every matching event` });
      continue;
    }
    const m = /^arn:(aws|aws-us-gov|aws-cn):([a-z0-9-]{1,40}):([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):(.{1,400})$/.exec(a);
    if (typeof known === 'string' || !m) return refusals.bad(`an event target names an ARN Airlock cannot read (${JSON.stringify(String(arn).slice(0, 80))}): it cannot tell whose resource every matching event would go to`);
    const domain = m[1] === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
    out.push({ method: 'POST', url: `https://${m[2]}.${m[3]}.${domain}/${m[4]}/${m[5]!.split(/[:/]/).map(encodeURIComponent).join('/')}`, why: `its event target sends every matching event to ${a.slice(0, 160)}` });
  }
  return out;
}

/**
 * Azure's diagnostic settings (twenty-fifth pass): `PUT …/providers/Microsoft.Insights/diagnosticSettings/<name>`
 * on any resource (or a subscription's activity log) has Azure Monitor send its logs and metrics,
 * from then on, to the storage account, Log Analytics workspace, Event Hub or partner its
 * `properties` name by resource id, of any subscription. Each is decided as a PUT on that resource
 * through Azure Resource Manager (`https://management.azure.com<id>`), so a policy that limits the
 * agent to its own subscriptions refuses another's; an id Airlock cannot read is refused.
 */
const diagnosticDestinations = ['storageaccountid', 'workspaceid', 'eventhubauthorizationruleid', 'servicebusruleid', 'marketplacepartnerid'];
function diagnosticSettingsTargetsOf(url: string, body: ServerBody): NamedTarget[] | Rejection {
  if (!/\/providers\/microsoft\.insights\/diagnosticsettings\//i.test(new URL(url).pathname) || !body.captured.length) return [];
  if (body.unreadable) return unreadableBody('a diagnostic setting', body.unreadable);
  if (body.truncated) return refusals.bad('the request body is a diagnostic setting larger than the capture cap: Airlock cannot read where it sends');
  const root = parseObject(body.captured.toString('utf8'));
  const props = root && Object.entries(root).find(([k]) => k.toLowerCase() === 'properties')?.[1];
  if (!props || typeof props !== 'object') return [];
  const out: NamedTarget[] = [];
  for (const [k, v] of Object.entries(props as Record<string, unknown>)) {
    if (!diagnosticDestinations.includes(k.toLowerCase()) || v === null || v === undefined || v === '') continue;
    if (typeof v !== 'string' || !/^\/subscriptions\/[\w-]{1,64}\/[\w.()/-]{1,900}$/i.test(v.trim()) || v.includes('/../') || v.includes('/./')) return refusals.bad(`the diagnostic setting's ${k.slice(0, 40)} is no resource id Airlock can read (${JSON.stringify(String(v).slice(0, 80))})`);
    out.push({ method: 'PUT', url: `https://management.azure.com${v.trim()}`, why: `its diagnostic setting sends the resource's logs to ${v.trim().slice(0, 160)}` });
  }
  return out;
}

/**
 * Google APIs' push channels: `POST …/watch` (GCS object change notification, Drive's files and
 * changes, Calendar's events, Admin SDK …) with `{"type": "web_hook", "address": <URL>}`: the
 * service POSTs to that address on every change (names, ids, for GCS the object's metadata).
 * Decided as a POST to the address; one that is not an https URL is refused.
 */
function watchChannelTargetsOf(method: string, url: string, body: ServerBody): NamedTarget[] | Rejection {
  if (method !== 'POST' || !/[/:]watch\/*(?:[?#]|$)/i.test(url) || body.unreadable || !body.captured.length) return [];
  if (!body.captured.includes('address') && !body.captured.includes('\\u')) return [];
  const address = serverKeys(parseObject(body.captured.toString('utf8')) ?? {}).address;
  if (address === undefined) return [];
  if (typeof address !== 'string' || !/^https?:\/\/[^/]/i.test(address) || !URL.canParse(address)) return refusals.bad(`the watch channel's address is not one readable URL (${JSON.stringify(String(address).slice(0, 80))})`);
  return [{ method: 'POST', url: new URL(address).href, why: `its watch channel posts every change to ${address.slice(0, 160)}` }];
}

/**
 * Registering an Elasticsearch/OpenSearch snapshot repository (`PUT|POST /_snapshot/<repo>`): every
 * later snapshot writes the cluster's indices there, and a read-only `url` repository is fetched
 * from (its snapshots restored into indices). The location is the agent's to pick: an `s3` or
 * `gcs` bucket of any account (`settings.bucket`, `base_path`, an `endpoint` where the version
 * reads one), a `url`. Decided as a PUT into the bucket, a GET of the URL; a `source` repository
 * by the type it delegates to; an `hdfs` URI or another URL scheme (ftp, jar) is refused. `fs` and
 * `azure` write where the operator configured (a `path.repo` folder, the client's storage account).
 */
function snapshotRepositoryTargetsOf(method: string, url: string, body: ServerBody): NamedTarget[] | Rejection {
  if (!url.includes('/_snapshot/')) return [];
  const segs = new URL(url).pathname.split('/').filter(Boolean);
  if (segs.length !== 2 || segs[0] !== '_snapshot' || segs[1]!.startsWith('_')) return [];
  if (body.unreadable) return unreadableBody('a snapshot repository', body.unreadable);
  if (!body.captured.length) return [];
  if (body.truncated) return refusals.bad('the request body is a snapshot repository larger than the capture cap: Airlock cannot read where it writes');
  const o = parseObject(body.captured.toString('utf8'));
  if (!o) return [];
  const settings = (o.settings && typeof o.settings === 'object' ? o.settings : {}) as Record<string, unknown>;
  const type = typeof o.type === 'string' && o.type === 'source' ? settings.delegate_type : o.type;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  const base = (str(settings.base_path) ?? '').replace(/^\/+/, '');
  const why = (where: string): string => `its snapshot repository ${segs[1]!.slice(0, 80)} writes every snapshot into ${where.slice(0, 160)}`;
  if (type === 's3' || type === 'gcs') {
    const bucket = str(settings.bucket);
    if (!bucket || !/^[a-z0-9][a-z0-9._-]{0,221}$/.test(bucket)) return refusals.bad(`the snapshot repository names a bucket Airlock cannot read (${JSON.stringify(String(settings.bucket).slice(0, 80))})`);
    const endpoint = str(settings.endpoint);
    let at: string;
    try {
      at = endpoint
        ? new URL(`/${bucket}/${base}`, /^https?:\/\//i.test(endpoint) ? endpoint : `${str(settings.protocol) === 'http' ? 'http' : 'https'}://${endpoint}`).href
        : type === 's3' ? `https://${bucket}.s3.amazonaws.com/${encodeURI(base)}` : `https://storage.googleapis.com/${bucket}/${encodeURI(base)}`;
    } catch {
      return refusals.bad(`the snapshot repository names an endpoint Airlock cannot read (${JSON.stringify(endpoint!.slice(0, 80))})`);
    }
    return [{ method: 'PUT', url: at, why: why(at) }];
  }
  if (type === 'url') {
    const from = str(settings.url);
    if (from && /^file:/i.test(from)) return [];
    if (!from || !/^https?:\/\/[^/]/i.test(from) || !URL.canParse(from)) return refusals.bad(`the snapshot repository reads from a URL Airlock cannot decide (${JSON.stringify(String(settings.url).slice(0, 80))})`);
    return [{ method: 'GET', url: new URL(from).href, why: `its snapshot repository ${segs[1]!.slice(0, 80)} is read (and restored) from ${from.slice(0, 160)}` }];
  }
  if (type === 'hdfs') return refusals.bad('the snapshot repository writes to an HDFS cluster: Airlock cannot decide where');
  return [];
}

/**
 * An Elasticsearch Watcher watch (`PUT|POST /_watcher/watch/<id>`, `…/_execute` with an inline
 * `watch`; `_xpack/watcher` before 7): on its schedule, as the cluster, it runs its inputs — a
 * `search` of `request.indices`, an `http` request to any host — and its actions: a `webhook` to
 * any host (the payload, search hits and all, in its body), an `index` into an index. Each is
 * decided as the request it makes (a search, a GET, the webhook's method, a bulk). A host, index or
 * URL Airlock cannot read (a template, a computed name) is refused.
 */
function watcherTargetsOf(method: string, url: string, body: ServerBody): NamedTarget[] | Rejection {
  if (!url.includes('watcher/watch/')) return [];
  const path = new URL(url).pathname;
  if (!/^\/(?:_xpack\/)?_?watcher\/watch\/[^/]+\/*$|^\/(?:_xpack\/)?_?watcher\/watch\/(?:[^/]+\/)?_execute\/*$/.test(path)) return [];
  if (body.unreadable) return unreadableBody('a Watcher watch', body.unreadable);
  if (!body.captured.length) return [];
  if (body.truncated) return refusals.bad('the request body is a Watcher watch larger than the capture cap: Airlock cannot read where it reads and sends');
  const o = parseObject(body.captured.toString('utf8'));
  if (!o) return [];
  const watch = (path.includes('_execute') && o.watch && typeof o.watch === 'object' ? o.watch : o) as Record<string, unknown>;
  const u = new URL(url);
  const out: NamedTarget[] = [];
  // An http request spec: `url`, or `scheme`/`host`/`port`/`path` (+ `params`).
  const spec = (r: unknown): string | undefined => {
    const q = (r && typeof r === 'object' ? r : {}) as { url?: unknown; scheme?: unknown; host?: unknown; port?: unknown; path?: unknown };
    const raw = typeof q.url === 'string' ? q.url
      : typeof q.host === 'string' ? `${q.scheme === 'https' ? 'https' : 'http'}://${q.host}${typeof q.port === 'number' || typeof q.port === 'string' ? `:${q.port}` : ''}${typeof q.path === 'string' ? (q.path.startsWith('/') ? q.path : `/${q.path}`) : '/'}`
        : undefined;
    if (raw === undefined || raw.includes('{{') || !/^https?:\/\/[^/]/i.test(raw) || !URL.canParse(raw)) return undefined;
    return new URL(raw).href;
  };
  const index = (name: unknown): string | undefined => (typeof name === 'string' && name && !name.includes('{{') ? name : undefined);
  // Inputs: `input.search`, `input.http`, and each of `input.chain.inputs[]`.
  const inputs: unknown[] = [];
  const input = watch.input as Record<string, unknown> | undefined;
  if (input && typeof input === 'object') {
    inputs.push(input);
    const chain = (input.chain as { inputs?: unknown } | undefined)?.inputs;
    if (Array.isArray(chain)) for (const c of chain) if (c && typeof c === 'object') appendAll(inputs, Object.values(c as Record<string, unknown>));
  }
  for (const i of inputs) {
    const x = i as { search?: { request?: { indices?: unknown } }; http?: { request?: unknown } };
    if (x.search !== undefined) {
      const indices = x.search?.request?.indices;
      for (const n of (Array.isArray(indices) ? indices : [indices]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]))) {
        const name = index(typeof n === 'string' ? n.trim() : n);
        if (!name) return refusals.bad('the watch searches an index Airlock cannot read');
        out.push({ method: 'POST', url: new URL(`/${encodeURIComponent(name)}/_search`, u).href, why: `its watch searches index ${name.slice(0, 100)}` });
      }
    }
    if (x.http !== undefined) {
      const at = spec(x.http?.request);
      if (!at) return refusals.bad('the watch fetches a URL Airlock cannot read');
      out.push({ method: 'GET', url: at, why: `its watch fetches ${at.slice(0, 160)}` });
    }
  }
  const actions = watch.actions as Record<string, unknown> | undefined;
  for (const a of Object.values(actions && typeof actions === 'object' ? actions : {})) {
    const x = (a && typeof a === 'object' ? a : {}) as { webhook?: { method?: unknown }; index?: { index?: unknown } };
    if (x.webhook !== undefined) {
      const at = spec(x.webhook);
      if (!at) return refusals.bad('the watch sends a webhook to a URL Airlock cannot read');
      const how = typeof x.webhook?.method === 'string' ? x.webhook.method.toUpperCase() : 'GET';
      out.push({ method: how, url: at, why: `its watch sends its payload to ${at.slice(0, 160)}` });
    }
    if (x.index !== undefined) {
      const name = index(x.index?.index);
      if (!name) return refusals.bad('the watch writes into an index Airlock cannot read');
      out.push({ method: 'POST', url: new URL(`/${encodeURIComponent(name)}/_bulk`, u).href, why: `its watch writes into index ${name.slice(0, 100)}` });
    }
    if (out.length > MAX_INDICES) return refusals.bad(`the watch reads and sends to more than ${MAX_INDICES} places`);
  }
  return out;
}

/** WS-Addressing's anonymous and none addresses: the answer goes back on the request's own connection, or nowhere. */
const anonymousAddress = /^(?:http:\/\/www\.w3\.org\/2005\/08\/addressing\/(?:anonymous|none)|http:\/\/schemas\.xmlsoap\.org\/ws\/2004\/0[38]\/addressing\/role\/anonymous|http:\/\/schemas\.microsoft\.com\/ws\/2005\/05\/addressing\/none)$/;

/**
 * A SOAP message's WS-Addressing `ReplyTo` and `FaultTo` (2005/08 and the 2004/08 submission):
 * Apache CXF, Axis2 and WCF's composite duplex send the answer (or the fault) in a request of
 * their own to that `Address` rather than on the connection: a call to an allowed service had it
 * post its answer to any host. Decided as a POST to each address that is not anonymous; one that
 * is not an http(s) URL (a JMS queue, a relative reference) is refused.
 */
function replyAddressesOf(rawHeaders: readonly string[], method: string, body: ServerBody): NamedTarget[] | Rejection {
  if (method !== 'POST' || body.unreadable || !body.captured.length) return [];
  // (Element names are case-sensitive: a parser reads no other spelling as WS-Addressing's.)
  if (!body.captured.includes('ReplyTo') && !body.captured.includes('FaultTo')) return [];
  let xmlish = false;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'content-type' && /xml|soap/i.test(rawHeaders[i + 1]!)) xmlish = true;
  const text = body.captured.toString('utf8');
  if (!xmlish && !/<(?:[\w.-]+:)?Envelope[\s>]/i.test(text)) return [];
  return replyAddressesIn(text);
}

/**
 * The WS-Addressing reply and fault addresses an XML text names (anonymous ones left out), or the
 * refusal when one cannot be read one way; also read on a `<ReplyTo>` element past the capture cap
 * (proxy/form-tail.ts XmlReplyWatch).
 */
export function replyAddressesIn(text: string): NamedTarget[] | Rejection {
  const xml = xmlWithoutMarkup(text);
  const out: NamedTarget[] = [];
  for (const element of ['replyto', 'faultto']) {
    const blocks = elementBlocks(xml, element, 8);
    if (blocks === undefined) return refusals.bad(`the message's WS-Addressing ${element} cannot be read one way`);
    for (const block of blocks) {
      const texts = elementTexts(block, 'address', 2);
      if (texts === undefined || texts.length !== 1) return refusals.bad(`the message's WS-Addressing ${element} holds no single Address Airlock can read`);
      const address = xmlText(texts[0]!).trim();
      if (anonymousAddress.test(address)) continue;
      if (!/^https?:\/\/[^/]/i.test(address) || !URL.canParse(address)) return refusals.bad(`the message's WS-Addressing ${element} names an address Airlock cannot decide (${JSON.stringify(address.slice(0, 80))})`);
      out.push({ method: 'POST', url: new URL(address).href, why: `its WS-Addressing ${element} has the service post its ${element === 'faultto' ? 'fault' : 'answer'} to ${address.slice(0, 160)}` });
    }
  }
  return out;
}

/**
 * Whether the element name `name` found at `at` in `lower` opens a tag: `<name` or `<prefix:name`
 * (one prefix of at most 64 characters), then a blank, `>` or `/`. Its prefix and the `>` that ends
 * the tag (-1: never ended); undefined when it is no tag's name.
 */
function openingTag(lower: string, name: string, at: number): { prefix: string; gt: number } | undefined {
  let lt = at - 1;
  while (lt >= 0 && at - lt <= 65 && lower[lt] !== '<' && /[\w.:-]/.test(lower[lt]!)) lt--;
  if (lt < 0 || lower[lt] !== '<') return undefined;
  const prefix = lower.slice(lt + 1, at);
  if (prefix !== '' && (!prefix.endsWith(':') || prefix.indexOf(':') !== prefix.length - 1)) return undefined;
  const next = lower[at + name.length];
  if (next !== '>' && next !== '/' && next !== ' ' && next !== '\t' && next !== '\r' && next !== '\n') return undefined;
  return { prefix, gt: lower.indexOf('>', at) };
}

/** The content of each element of that lower-case local name (any prefix), nested markup and all, at most `max`; undefined when one is not closed. */
function elementBlocks(text: string, name: string, max: number): string[] | undefined {
  const lower = text.toLowerCase();
  const out: string[] = [];
  const n = name.length;
  for (let at = lower.indexOf(name); at >= 0; at = lower.indexOf(name, at + n)) {
    const tag = openingTag(lower, name, at);
    if (!tag) continue;
    const { prefix, gt } = tag;
    if (gt < 0) return undefined;
    if (lower[gt - 1] === '/') continue;
    const close = lower.indexOf(`</${prefix}${name}`, gt);
    if (close < 0 || out.length >= max) return undefined;
    out.push(text.slice(gt + 1, close));
    at = close;
  }
  return out;
}

/**
 * JSON:API's Atomic Operations extension (`{"atomic:operations": [{op, ref | href, data}]}`,
 * JsonApiDotNetCore, Graphiti and others, usually `POST …/operations`): the server runs each
 * operation on the resource it names — `href` as a URL, `ref` (or `data`) as `<type>/<id>` under
 * the endpoint's namespace (its parent), `relationship` below that — `add` as a POST, `update` as a
 * PATCH, `remove` as a DELETE. Each is decided as that request; an operation Airlock cannot read
 * (no target, an unknown `op`, past the capture, more than MAX_BATCH_CALLS) is refused.
 */
function atomicOperationsOf(rawHeaders: readonly string[], url: string, body: ServerBody): SecondTarget[] | Rejection {
  if (body.unreadable || !body.captured.length) return [];
  // Bytes first: most bodies cannot name the member (as sent, or escaped in JSON).
  if (!body.captured.includes('atomic:operations') && !(body.captured.includes('\\u') && body.captured.includes('operations'))) return [];
  const text = body.captured.toString('utf8');
  const o = parseObject(text);
  const ops = o?.['atomic:operations'];
  if (ops === undefined) return [];
  const ambiguous = ambiguousEnvelope(text, o);
  if (ambiguous) return ambiguous;
  if (body.truncated) return refusals.bad('the request body is a JSON:API atomic operations list larger than the capture cap: Airlock cannot read each operation, and the server runs each of them');
  if (!Array.isArray(ops) || ops.length > MAX_BATCH_CALLS) return refusals.bad(`the request body's atomic:operations is not a list of at most ${MAX_BATCH_CALLS} operations`);
  const namespace = new URL('./', url).href;
  const out: SecondTarget[] = [];
  const seg = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' && v !== '.' && v !== '..' ? encodeURIComponent(v) : typeof v === 'number' ? String(v) : undefined);
  for (const [n, raw] of ops.entries()) {
    const op = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as { op?: unknown; ref?: { type?: unknown; id?: unknown; lid?: unknown; relationship?: unknown }; href?: unknown; data?: { type?: unknown; id?: unknown } };
    const how = op.op === 'add' ? 'POST' : op.op === 'update' ? 'PATCH' : op.op === 'remove' ? 'DELETE' : undefined;
    if (!how) return refusals.bad(`operation ${n + 1} of the atomic:operations list has no op Airlock reads (add, update, remove)`);
    let target: string | Rejection;
    if (typeof op.href === 'string') target = sameOrigin(op.href, url, `operation ${n + 1} of the atomic:operations list`);
    else {
      const named = op.ref ?? (Array.isArray(op.data) ? undefined : op.data);
      const type = seg(named?.type);
      const id = seg(named?.id) ?? seg((named as { lid?: unknown } | undefined)?.lid);
      const relationship = op.ref ? seg(op.ref.relationship) : undefined;
      if (!type || (how !== 'POST' && !id) || (op.ref?.relationship !== undefined && !relationship)) return refusals.bad(`operation ${n + 1} of the atomic:operations list names no resource Airlock can read`);
      const path = `${type}${id && !(how === 'POST' && !op.ref) ? `/${id}` : ''}${relationship ? `/relationships/${relationship}` : ''}`;
      target = sameOrigin(path, namespace, `operation ${n + 1} of the atomic:operations list`);
    }
    if (typeof target !== 'string') return target;
    const data = op.data === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify({ data: op.data }));
    const headers = ['host', new URL(target).host, ...(data.length ? ['content-type', 'application/vnd.api+json'] : [])];
    out.push({ request: { method: how, url: target, headers: pairs(headers), body: data, bodyTruncated: false }, why: `operation ${n + 1} of its atomic:operations (${how} ${new URL(target).pathname.slice(0, 200)})` });
  }
  return out;
}

/** Elasticsearch endpoints whose body the readers below read for indices and documents. */
const elasticBodyPaths = /\/_(?:bulk|msearch|mget|mtermvectors|reindex|aliases|sql|query|ppl|transform|enrich|ml|rollup|snapshot|search|count|delete_by_query|update_by_query|explain|validate|async_search|knn_search|rank_eval|termvectors|ingest|eql|field_caps|render|scripts)(?:[/?#]|$)/;

/**
 * The format other than JSON an Elasticsearch/OpenSearch body is sent in, when one of the readers
 * below would read it: both read YAML, CBOR and Smile bodies (by `Content-Type`, any API) as they
 * read JSON, so `POST /_aliases` with a YAML `remove_index: {index: users}` deletes `users` while
 * a JSON reading finds nothing. Undefined for JSON and for other requests.
 */
function elasticBodyFormat(rawHeaders: readonly string[], url: string): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 12 || rawHeaders[i]!.toLowerCase() !== 'content-type') continue;
    const format = /(yaml|cbor|smile)/i.exec(rawHeaders[i + 1]!)?.[1];
    if (format && elasticBodyPaths.test(url)) return format.toUpperCase();
  }
  return undefined;
}

/** A body as the server reads it (serverBody): `unreadable` says why Airlock could not. */
interface ServerBody {
  /** The bytes the server parses, once (and if) they are read: UTF-8 for text. */
  readonly captured: Buffer;
  readonly truncated: boolean;
  readonly unreadable: string | undefined;
  /** It decodes past what the readers decode (MAX_DECODED_BYTES); a watch may read it decoded as it leaves. */
  readonly tooLarge?: boolean;
}

/**
 * The body as the server reads it before it parses it, read when a second target's reader asks: its
 * content codings undone (Elasticsearch accepts gzip and deflate bodies always, as do Salesforce and
 * ASP.NET's request decompression) and, but for a multipart body (bytes), a byte order mark, a
 * UTF-16/32 charset or JSON's NUL pattern followed (Python's `json.loads`, Jackson and .NET read
 * such JSON): read as raw UTF-8, a gzip'd `_bulk` or a UTF-16 `$batch` named no call to decide while
 * the server ran each. A body that cannot be read so is `unreadable`: each reader refuses the
 * request it would have read.
 */
function serverBody(rawHeaders: readonly string[], body: CapturedBody, labelled = true, legacy?: string): ServerBody {
  let read: { captured: Buffer; truncated: boolean; unreadable: string | undefined; tooLarge?: boolean } | undefined;
  const get = (): NonNullable<typeof read> => {
    if (read) return read;
    if (!body.captured.length) return (read = { ...body, unreadable: undefined });
    const codings: string[] = [];
    let type: string | undefined;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!.toLowerCase();
      if (name === 'content-type') type ??= rawHeaders[i + 1]!;
      else if (name === 'content-encoding') {
        for (const c of rawHeaders[i + 1]!.split(',')) if (c.trim() && c.trim().toLowerCase() !== 'identity') codings.push(c.trim().toLowerCase());
      }
    }
    try {
      // Past the capture cap, what its start decodes to: read as the start of any body is.
      // (A layer that does not decode whole is read as lenient servers read it: describe/body.ts leniently.)
      const bytes = codings.length ? undoContentCoding(body.captured, codings, body.truncated, true) : body.captured;
      const multipart = type !== undefined && /^\s*multipart\//i.test(type);
      if (legacy !== undefined && !multipart) return (read = { captured: Buffer.from(new TextDecoder(legacy).decode(bytes)), truncated: body.truncated, unreadable: undefined });
      const text = multipart ? undefined : unicodeText(bytes, labelled ? type : undefined);
      return (read = { captured: text ?? bytes, truncated: body.truncated, unreadable: undefined });
    } catch (err) {
      if (!(err instanceof DecodeFailure)) throw err;
      return (read = { captured: Buffer.alloc(0), truncated: true, unreadable: err.message, tooLarge: err.tooLarge });
    }
  };
  return {
    get captured() { return get().captured; },
    get truncated() { return get().truncated; },
    get unreadable() { return get().unreadable; },
    get tooLarge() { return get().tooLarge; },
  };
}

/**
 * Each way servers read the body: one, but when a UTF-16/32 charset label (no byte order mark) says
 * how to decode it. Servlets, Spring and .NET follow the label; Go, Node and Rust read JSON as UTF-8
 * whatever it says (RFC 8259): `charset=utf-16` on UTF-8 bytes hid a batch's calls from a reading
 * by the label while such a server ran them. Both readings are read then.
 */
function serverBodies(rawHeaders: readonly string[], captured: CapturedBody, legacy: readonly string[] = []): ServerBody[] {
  const labelled = serverBody(rawHeaders, captured);
  if (!captured.captured.length || bomOf(captured.captured)) return [labelled];
  // A legacy charset label (Shift_JIS, ISO-2022-JP …): the bytes as Spring, servlets and Django
  // decode them by it, and as Go, Node and Rust read them, as UTF-8 (twentieth pass: a Shift_JIS
  // `"\x81\"` ends a string the UTF-8 reading continues, so a `batch` after it hid in the string).
  if (legacy.length) return [labelled, ...legacy.map((l) => serverBody(rawHeaders, captured, true, l))];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === 'content-type' && /charset\s*=\s*"?(?:utf-?(?:16|32)|ucs-[24]|unicode)/i.test(rawHeaders[i + 1]!)) return [labelled, serverBody(rawHeaders, captured, false)];
  }
  return [labelled];
}

/**
 * The body as Elasticsearch's JSON parser reads it: `/* … *\/` and `// …` comments outside strings
 * are blanks to it (Jackson's ALLOW_COMMENTS, on in JsonXContentImpl), while JSON.parse refused
 * them, so `{/**\/"actions": [{"remove_index": {"index": "users"}}]}` named no index to decide.
 */
function withoutComments(body: ServerBody): ServerBody {
  if (body.unreadable || (!body.captured.includes('/*') && !body.captured.includes('//'))) return body;
  const text = body.captured.toString('utf8');
  let out = '';
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '/' && (text[i + 1] === '*' || text[i + 1] === '/')) {
      const end = text[i + 1] === '*' ? text.indexOf('*/', i + 2) : text.indexOf('\n', i + 2);
      // An unclosed block comment is an error to the server: left as is (nothing runs).
      if (end < 0 && text[i + 1] === '*') break;
      out += `${text.slice(from, i)} `;
      // (A line comment keeps its newline: bulk and msearch lines are split on it.)
      i = end < 0 ? text.length : text[i + 1] === '*' ? end + 1 : end - 1;
      from = i + 1;
    }
  }
  if (!from) return body;
  const captured = Buffer.from(out + text.slice(from));
  return { captured, truncated: body.truncated, unreadable: undefined };
}

/** The refusal for a second target's body Airlock cannot read as its server does. */
function unreadableBody(what: string, why: string): Rejection {
  return refusals.bad(`the request body is ${what} whose server reads it decoded, and Airlock cannot decode it (${why.slice(0, 120)}): it cannot decide what the server would run`);
}

/**
 * A second target as a request of its own with the agent's end-to-end headers, less those naming
 * the second target and those describing a body (it has none), Host set to the target's.
 */
export function bodilessTarget(rawHeaders: string[], method: string, target: string, why: string, drop?: Set<string>): SecondTarget {
  const kept = withoutNamedHeaders(rawHeaders);
  const headers: string[] = [];
  for (let i = 0; i < kept.length; i += 2) {
    const key = serverHeaderKey(kept[i]!);
    if (!drop?.has(key) && !bodyHeaders.has(key)) headers.push(kept[i]!, kept[i + 1]!);
  }
  return { request: { method, url: target, headers: pairs(withHost(headers, target)), body: Buffer.alloc(0), bodyTruncated: false }, why };
}

const destinationHeader = new Set(['destination']);

/** Headers describing a body, left out of a second target that has none. */
const bodyHeaders = new Set(['content-length', 'content-type', 'content-md5', 'content-encoding', 'transfer-encoding']);

/** The `Destination` URL, a refusal, or undefined when there is none. */
function destinationOf(rawHeaders: readonly string[], requestUrl: string): string | Rejection | undefined {
  let value: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 11 || rawHeaders[i]!.toLowerCase() !== 'destination') continue;
    if (value !== undefined) return refusals.bad('the request carries more than one Destination header (servers read the first or the last)');
    value = rawHeaders[i + 1]!.trim();
  }
  if (value === undefined) return undefined;
  // RFC 4918 §10.3: an absolute URI or an absolute path. Servers read anything else their own way
  // (Go roots `deny/x` as /deny/x and takes `http:/deny/x` as that path), so it is refused.
  if (!/^https?:\/\/[^/]/i.test(value) && !/^\/(?!\/)/.test(value)) {
    return refusals.bad(`the request carries a Destination header that is neither an absolute URL nor an absolute path (${JSON.stringify(value.slice(0, 80))})`);
  }
  return sameOrigin(value, requestUrl, 'its Destination header');
}

/** Headers of OpenStack Swift (and Ceph RGW's Swift API) naming another object or account. */
const swiftHeaders = new Set(['destination', 'destination-account', 'x-copy-from', 'x-copy-from-account', 'x-symlink-target', 'x-symlink-target-account', 'x-object-manifest']);

/**
 * OpenStack Swift (Ceph RGW's Swift API too) names objects in headers relative to the request's
 * account, not the host's root: `PUT /v1/AUTH_a/c/o` with `X-Copy-From: /private/secret` copies
 * `/v1/AUTH_a/private/secret` (`X-Copy-From-Account: AUTH_b` from another account), a `COPY`'s
 * `Destination: /private/x` writes `/v1/AUTH_a/private/x` (`Destination-Account` in another
 * account), `X-Symlink-Target: private/secret` makes the object read the target on every GET,
 * `X-Object-Manifest: private/prefix` makes it read every object under the prefix (Swift's
 * copy.py, symlink.py, dlo.py: values percent-decoded, a leading `/` optional). On a path shaped
 * like Swift's (`…/v1/<account>/<container>/<object>`) each is decided as that read or write in
 * the account (the absolute reading of `Destination` is decided as well, above); a value that is
 * not `<container>/<object>`, or a header given twice, is refused.
 */
function swiftTargetsOf(rawHeaders: readonly string[], method: string, requestUrl: string): NamedTarget[] | Rejection {
  const values = new Map<string, string>();
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length < 11 || name.length > 24) continue;
    const key = serverHeaderKey(name);
    if (!swiftHeaders.has(key)) continue;
    if (values.has(key)) {
      if (key === 'destination') continue; // destinationOf refuses it
      return refusals.bad(`the request carries more than one ${name} header (servers read the first or the last)`);
    }
    values.set(key, rawHeaders[i + 1]!.trim());
  }
  if (!values.size || (values.size === 1 && values.has('destination') && method.toUpperCase() !== 'COPY')) return [];
  const u = new URL(requestUrl);
  const shape = swiftShape(u.pathname);
  if (!shape) return [];
  const { root, accounts } = shape;
  const out: NamedTarget[] = [];
  const under = (header: string, accountHeader: string | undefined, how: string, why: string, prefix = false): Rejection | undefined => {
    const raw = values.get(header);
    if (raw === undefined) return undefined;
    let value: string;
    try {
      value = decodeURIComponent(raw);
    } catch {
      return refusals.bad(`the request carries a ${header} header Airlock cannot decode (${JSON.stringify(raw.slice(0, 80))})`);
    }
    const path = value.startsWith('/') && !prefix ? value : `/${value}`;
    const parts = path.split('/');
    if (parts.length < 3 || !parts[1] || (!prefix && !parts[2]) || parts.some((p) => p === '.' || p === '..')) {
      return refusals.bad(`the request carries a ${header} header that is not <container>/<object> (${JSON.stringify(raw.slice(0, 80))})`);
    }
    const named = accountHeader && values.get(accountHeader);
    // Under each reading of the path's account (none: Ceph RGW's default layout).
    for (const account of named ? [named] : accounts) {
      if (account !== undefined && (!account || /[/?#]/.test(account))) return refusals.bad(`the request carries a ${accountHeader ?? 'Swift'} account that is not one name (${JSON.stringify(account.slice(0, 80))})`);
      const target = `${root}${account === undefined ? '' : `/${encodeURIComponent(account)}`}${parts.map((p, i) => (i ? encodeURIComponent(p) : '')).join('/')}`;
      out.push({ method: how, url: new URL(target, u).href, why: `its ${header} ${why} ${target.slice(0, 200)}` });
    }
    return undefined;
  };
  return (
    (method.toUpperCase() === 'COPY' ? under('destination', 'destination-account', 'PUT', 'writes') : undefined) ??
    under('x-copy-from', 'x-copy-from-account', 'GET', 'reads') ??
    under('x-symlink-target', 'x-symlink-target-account', 'GET', 'links to') ??
    under('x-object-manifest', undefined, 'GET', 'reads every object under', true) ??
    out
  );
}

/**
 * Where a Swift path's account is: `root` is the path to its API version (`/v1`, `/v1.0`, both of
 * Swift's `valid_api_versions`; any prefix before it: Ceph's `/swift/v1`), `accounts` each reading
 * of the account — the segment after the version (`AUTH_a`), or none, as Ceph RGW lays out its
 * Swift API by default (`rgw_swift_account_in_url = false`: `/swift/v1/<container>/<object>`).
 * A name with a reseller prefix (`AUTH_`, `SERVICE_`) is read only as an account, a path with
 * two segments after the version only without one, and others both ways. Undefined for a path
 * that names no object either way.
 */
function swiftShape(pathname: string): { root: string; accounts: Array<string | undefined> } | undefined {
  const segs = pathname.split('/');
  const v = segs.findIndex((seg) => seg === 'v1' || seg === 'v1.0');
  if (v < 0 || segs.length < v + 3 || !segs[v + 1] || !segs[v + 2]) return undefined;
  let account: string;
  try {
    account = decodeURIComponent(segs[v + 1]!);
  } catch {
    return undefined;
  }
  const root = segs.slice(0, v + 1).join('/');
  if (segs.length === v + 3) return { root, accounts: [undefined] };
  return { root, accounts: /^[A-Z][A-Z0-9]*_/.test(account) ? [account] : [account, undefined] };
}

/**
 * Swift's static large object manifest (`PUT /v1/<account>/<c>/<o>?multipart-manifest=put`, a JSON
 * list of segments `{"path": "/<container>/<object>"}`, slo.py): every GET of the manifest returns
 * the segments joined, so each is decided as a GET of it in the account. A segment path Airlock
 * cannot read, or a list past the capture, is refused.
 */
function swiftManifestSegmentsOf(method: string, requestUrl: string, body: ServerBody): NamedTarget[] | Rejection {
  if (method.toUpperCase() !== 'PUT' || !requestUrl.includes('multipart-manifest=put')) return [];
  const u = new URL(requestUrl);
  const shape = swiftShape(u.pathname);
  if (u.searchParams.get('multipart-manifest') !== 'put' || !shape) return [];
  if (body.unreadable) return unreadableBody('a Swift manifest', body.unreadable);
  if (!body.captured.length) return [];
  if (body.truncated) return refusals.bad('the request body is a Swift manifest larger than the capture cap: Airlock cannot read every segment it joins');
  let list: unknown;
  try {
    list = JSON.parse(body.captured.toString('utf8'));
  } catch {
    return []; // not JSON: Swift refuses it
  }
  if (!Array.isArray(list) || list.length > MAX_BATCH_CALLS) return refusals.bad(`the Swift manifest is not a list of at most ${MAX_BATCH_CALLS} segments`);
  const out: NamedTarget[] = [];
  for (const seg of list) {
    const path = (seg as { path?: unknown } | null)?.path;
    if (path === undefined && (seg as { data?: unknown } | null)?.data !== undefined) continue; // inline data
    const parts = typeof path === 'string' ? path.replace(/^\/+/, '').split('/') : [];
    if (parts.length < 2 || !parts[0] || !parts[1] || parts.some((p) => p === '.' || p === '..')) return refusals.bad(`a segment of the Swift manifest names no <container>/<object> Airlock can read (${JSON.stringify(String(path).slice(0, 80))})`);
    for (const account of shape.accounts) {
      const target = `${shape.root}${account === undefined ? '' : `/${encodeURIComponent(account)}`}/${parts.map((p) => encodeURIComponent(p)).join('/')}`;
      out.push({ method: 'GET', url: new URL(target, u).href, why: `its manifest joins segment ${target.slice(0, 200)}` });
    }
  }
  return out;
}

/** Headers naming the object a copy reads: S3's CopyObject and UploadPartCopy, GCS's XML API (a bucket/key); Azure's (a URL, any host). */
const copySourceHeaders = new Set(['x-amz-copy-source', 'x-goog-copy-source', 'x-ms-copy-source', ...renameSourceHeaders()]);

/**
 * Headers naming the object a rename moves (read there, gone from there): S3's RenameObject
 * (`x-amz-rename-source: /bucket/key`, directory buckets), Azure Data Lake's Path Create in rename
 * mode (`x-ms-rename-source: /filesystem/path`), Azure Files' Rename (`x-ms-file-rename-source`, a URL).
 */
function renameSourceHeaders(): string[] {
  return ['x-amz-rename-source', 'x-ms-rename-source', 'x-ms-file-rename-source'];
}

/**
 * The service's own name of a host that names the bucket before it (virtual-hosted style, dotted
 * bucket names too): S3 (`bucket.s3.us-east-1.amazonaws.com`, `bucket.s3-website-…`, `.cn`), GCS
 * (`bucket.storage.googleapis.com`), R2 (`bucket.ACCOUNT.r2.cloudflarestorage.com`); undefined for
 * any other host. Label by label (a pattern for it backtracks exponentially on `s3-s-s-…`).
 */
function virtualHostedService(host: string): string | undefined {
  const labels = host.split('.');
  const n = labels.length;
  // The service's name from label `i` on, when a bucket (at least one character) stands before it.
  const from = (i: number): string | undefined => (i >= 1 && labels.slice(0, i).join('.') !== '' ? labels.slice(i).join('.') : undefined);
  if (host.endsWith('.storage.googleapis.com')) return from(n - 3);
  if (host.endsWith('.r2.cloudflarestorage.com')) return labels[n - 4] ? from(n - 4) : undefined;
  const end = labels[n - 1] === 'cn' ? n - 1 : n;
  if (labels[end - 1] !== 'com' || labels[end - 2] !== 'amazonaws') return undefined;
  // The bucket is the shortest run of labels before one that is `s3` or starts `s3-`.
  for (let i = 1; i < end - 2; i++) {
    // `s3express-<zone>` names a directory bucket's zonal endpoint.
    if (labels[i] !== 's3' && !/^s3(?:express)?-[a-z0-9-]+$/.test(labels[i]!)) continue;
    if (!labels.slice(i + 1, end - 2).every((l) => /^[a-z0-9-]+$/.test(l))) continue;
    const service = from(i);
    if (service) return service;
  }
  return undefined;
}

/**
 * The URL of the object a copy reads (`x-amz-copy-source: /bucket/key`, `x-goog-copy-source`), as
 * a GET of it would be sent to this server: under the host with the source's bucket first for a
 * virtual-hosted request (`dst.s3.amazonaws.com` copies from `src.s3.amazonaws.com/key`), as the
 * path on the same host otherwise (path style: S3's and GCS's own hosts, R2, MinIO); a rename's
 * source likewise, `moves` set. A refusal for two such headers or a source path that can mean
 * two things; undefined when there is none.
 */
function copySourceOf(rawHeaders: readonly string[], requestUrl: string): { url: string; moves: boolean } | Rejection | undefined {
  let value: string | undefined;
  let azure = false;
  let moves = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length < 16 || rawHeaders[i]!.length > 23) continue;
    const key = serverHeaderKey(rawHeaders[i]!);
    if (!copySourceHeaders.has(key)) continue;
    if (value !== undefined) return refusals.bad('the request carries more than one copy or rename source header (servers read the first or the last)');
    value = rawHeaders[i + 1]!.trim();
    azure = key === 'x-ms-copy-source' || (key === 'x-ms-file-rename-source' && /^https?:/i.test(value));
    moves = renameSourceHeaders().includes(key);
  }
  if (value === undefined) return undefined;
  // Azure's Copy Blob and Put Blob/Block From URL fetch the URL given, on any host: a GET of it.
  if (azure) {
    if (!/^https?:\/\/[^/]/i.test(value) || pathAmbiguity(rawPathOf(value))) return refusals.bad(`the request carries an Azure copy or rename source that is not one readable URL (${JSON.stringify(value.slice(0, 80))})`);
    try {
      const u = new URL(value);
      u.hash = '';
      return { url: u.href, moves };
    } catch {
      return refusals.bad(`the request carries an Azure copy or rename source that is not one readable URL (${JSON.stringify(value.slice(0, 80))})`);
    }
  }
  const [path = '', query] = value.replace(/^\/+/, '').split('?', 2) as [string, string?];
  const slash = path.indexOf('/');
  if (slash <= 0 || pathAmbiguity(`/${path}`)) return refusals.bad(`the request carries a copy source that is not one readable bucket/key (${JSON.stringify(value.slice(0, 80))})`);
  const base = new URL(requestUrl);
  const service = virtualHostedService(base.hostname);
  const host = service ? `${path.slice(0, slash)}.${service}${base.port ? `:${base.port}` : ''}` : base.host;
  const key = service ? path.slice(slash) : `/${path}`;
  try {
    return { url: new URL(`${base.protocol}//${host}${key}${query === undefined ? '' : `?${query}`}`).href, moves };
  } catch {
    return refusals.bad(`the request carries a copy source that is not one readable bucket/key (${JSON.stringify(value.slice(0, 80))})`);
  }
}

/**
 * The calls of a batch body, each as the request the server runs (its own method, target, headers
 * and body), a refusal, or undefined when the body carries none. Only non-form multipart bodies are
 * looked at (an upload pays nothing); a batch Airlock cannot read whole, or call by call, is refused.
 */
function batchOf(rawHeaders: readonly string[], url: string, body: ServerBody): SecondTarget[] | Rejection | undefined {
  let type: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.length !== 12 || rawHeaders[i]!.toLowerCase() !== 'content-type') continue;
    const v = rawHeaders[i + 1]!;
    if (/^\s*multipart\//i.test(v) && !/^\s*multipart\/form-data/i.test(v)) type = v;
  }
  if (type === undefined) return jsonBatchOf(url, body);
  if (body.unreadable) return unreadableBody('a multipart body that may be a batch of HTTP calls', body.unreadable);
  if (!body.captured.length) return undefined;
  const calls = httpBatchCalls(body.captured.toString('latin1'), type);
  if (calls === undefined) return undefined;
  if (calls === 'unreadable' || body.truncated) {
    return refusals.bad(`the request body is a batch of HTTP calls Airlock cannot read call by call (${body.truncated ? 'larger than the capture cap' : `one boundary, parts that are each an application/http call, at most ${MAX_BATCH_CALLS}`}), and the server runs each of them`);
  }
  const out: SecondTarget[] = [];
  const refs = new ContentIdReferences(calls.map((c) => c.contentId));
  for (const [n, call] of calls.entries()) {
    const written = refs.target(call.target, n);
    if (typeof written !== 'string') return written;
    const target = sameOrigin(written, url, `call ${n + 1} of the batch`);
    if (typeof target !== 'string') return target;
    const elsewhere = otherHost(call.headers, target, n);
    if (elsewhere) return elsewhere;
    refs.acted(n, call.method, target);
    const headers = withHost(flat(call.headers.filter(([k]) => serverHeaderKey(k) !== 'host')), target);
    out.push({
      request: { method: call.method, url: target, headers: pairs(headers), body: Buffer.from(call.body, 'latin1'), bodyTruncated: false },
      why: `call ${n + 1} of the batch (${call.method} ${new URL(target).pathname.slice(0, 200)})`,
    });
  }
  return out;
}

/**
 * JSON batches of calls. OData's (OData 4.01, ASP.NET OData, Microsoft Graph): `POST …/$batch` with
 * `{"requests": [{"method", "url", "headers", "body"}]}`, each a request the server runs. Its `url`
 * resolves against the batch's URL as any reference does, except on Microsoft Graph, which reads
 * `/me` under its version (`/v1.0/me`). Salesforce's composite (`…/composite`, `compositeRequest`
with absolute paths) and composite batch (`…/composite/batch`, `batchRequests` with paths under
`/services/data/`). A body past the capture cap, or one whose calls are not all
 * `{method, url}`, is refused; a body with no `requests` list is no batch.
 */
function jsonBatchOf(url: string, body: ServerBody): SecondTarget[] | Rejection | undefined {
  const composite = /\/services\/data\/[^/]+\/composite(?:\/batch)?\/?(?:[?#]|$)/.test(url);
  // Azure Resource Manager's batch (`POST management.azure.com/batch`, `{"requests": [{"httpMethod", "url"}]}`)
  // and SCIM's bulk (RFC 7644 §3.7: `POST <root>/Bulk`, `{"Operations": [{"method", "path", "data"}]}`).
  // ASP.NET Core (OData, Graph, ARM) matches route literals without case and past a trailing slash.
  const plainBatch = /\/batch\/*(?:[?#]|$)/i.test(url);
  const scim = /\/bulk\/*(?:[?#]|$)/i.test(url);
  if (!composite && !plainBatch && !scim && !/\/\$batch\/*(?:[?#]|$)/i.test(url)) return undefined;
  if (body.unreadable) return unreadableBody('a JSON batch of calls', body.unreadable);
  if (!body.captured.length) return undefined;
  if (body.truncated) return refusals.bad('the request body is a JSON batch larger than the capture cap: Airlock cannot read each call, and the server runs each of them');
  let json: unknown;
  const text = body.captured.toString('utf8');
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON to strict servers; lenient ones (Gson's `=` and `;`, comments, trailing commas) run
    // its calls (twenty-eighth pass: such a batch was no batch here): read so, then refused below.
    const lenient = parseLenientJson(text);
    if (!lenient || !('value' in lenient)) return undefined;
    json = lenient.value;
  }
  const ambiguous = ambiguousEnvelope(text, json);
  if (ambiguous) return ambiguous;
  json = serverKeys(json);
  // Salesforce: `compositeRequest` (absolute paths), `batchRequests` (paths under /services/data/).
  const o = json && typeof json === 'object' && !Array.isArray(json) ? (json as { requests?: unknown; compositeRequest?: unknown; batchRequests?: unknown; Operations?: unknown }) : undefined;
  const requests = composite ? o?.compositeRequest ?? o?.batchRequests : scim && !plainBatch ? o?.Operations : o?.requests;
  if (!Array.isArray(requests)) return undefined;
  // `/batch` and `/Bulk` name other APIs' endpoints too: only a list of calls (a method and a target) is one.
  if ((plainBatch || scim) && !requests.some((r) => r && typeof r === 'object' && ('httpMethod' in r || ('method' in r && ('url' in r || 'path' in r))))) return undefined;
  // SCIM's paths are under the service root, the Bulk endpoint's parent.
  // OData resolves a call's url against the service root: `$batch/`'s trailing slash left out.
  const base = composite && o?.batchRequests !== undefined && o.compositeRequest === undefined ? new URL('/services/data/', url).href : scim && !plainBatch ? scimRoot(url) : withoutTrailingSlash(url);
  if (requests.length > MAX_BATCH_CALLS) return refusals.bad(`the request body is a JSON batch of more than ${MAX_BATCH_CALLS} calls`);
  const graph = new URL(url).hostname === 'graph.microsoft.com';
  const out: SecondTarget[] = [];
  // OData 4.01's JSON batch names each call by its `id` (Content-ID references, below).
  const refs = new ContentIdReferences(composite ? [] : requests.map((r) => {
    const id = r && typeof r === 'object' ? (r as { id?: unknown }).id : undefined;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
  }));
  for (const [n, r] of requests.entries()) {
    const call = r && typeof r === 'object' && !Array.isArray(r) ? (r as { method?: unknown; url?: unknown; headers?: unknown; body?: unknown; richInput?: unknown; httpMethod?: unknown; content?: unknown; path?: unknown; data?: unknown }) : {};
    if (call.body === undefined && call.richInput !== undefined) call.body = call.richInput;
    // Azure's names (`httpMethod`, `content`), SCIM's (`path` under the root, `data`).
    if (call.method === undefined && call.httpMethod !== undefined) call.method = call.httpMethod;
    if (call.body === undefined) call.body = call.content ?? call.data;
    if (call.url === undefined && scim && typeof call.path === 'string') call.url = call.path.replace(/^\/+/, '');
    if (typeof call.method !== 'string' || typeof call.url !== 'string') return refusals.bad(`call ${n + 1} of the JSON batch has no method or url`);
    const dynamic = filledPath(call.url, '@{');
    if (dynamic) return dynamic;
    const written = refs.target(call.url, n);
    if (typeof written !== 'string') return written;
    const target = sameOrigin(graph ? written.replace(/^\/+/, '') : written, base, `call ${n + 1} of the batch`);
    if (typeof target !== 'string') return target;
    refs.acted(n, call.method, target);
    const own = call.headers && typeof call.headers === 'object' && !Array.isArray(call.headers) ? Object.entries(call.headers as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string') : [];
    const elsewhere = otherHost(own, target, n);
    if (elsewhere) return elsewhere;
    const data = call.body === undefined ? Buffer.alloc(0) : Buffer.from(typeof call.body === 'string' ? call.body : JSON.stringify(call.body));
    if (data.length && !own.some(([k]) => k.toLowerCase() === 'content-type')) own.push(['content-type', 'application/json']);
    out.push({
      request: { method: call.method.toUpperCase(), url: target, headers: pairs(withHost(flat(own.filter(([k]) => serverHeaderKey(k) !== 'host')), target)), body: data, bodyTruncated: false },
      why: `call ${n + 1} of the batch (${call.method.toUpperCase()} ${new URL(target).pathname.slice(0, 200)})`,
    });
  }
  return out;
}

/**
 * A batch call's own Host header naming another authority than the one it was decided at: OData
 * 4.0 (§11.7.2) lets a call give an absolute path and its host in a Host header, and a server
 * building the call from them runs it on that virtual host, which the policy never saw. Refused
 * (421), as a forwarding header naming another host is.
 */
function otherHost(headers: ReadonlyArray<[string, string]>, target: string, n: number): Rejection | undefined {
  const scheme = new URL(target).protocol.slice(0, -1);
  const here = parseAuthority(new URL(target).host, scheme);
  for (const [k, v] of headers) {
    if (serverHeaderKey(k) !== 'host') continue;
    const there = parseAuthority(v.trim(), scheme);
    if (!there || !here || !sameAuthority(there, here)) return refusals.misdirected(`call ${n + 1} of the batch names another host in its Host header (${JSON.stringify(v.slice(0, 80))}) than the one it was decided at`);
  }
  return undefined;
}

/**
 * OData's Content-ID references (OData 4.0 Part 1 §11.7.3.1; 4.01's JSON batch by `id`): a call
 * whose URL writes `$<id>` acts where the call of that Content-ID created its entity. ASP.NET OData
 * puts that answer's `Location` in place of the reference wherever it stands in the URL (`$1/Orders`
 * is `Customers(42)/Orders`; its older versions replace the text `$1` even inside `$10`), Olingo at
 * the URL's start. Read as written (`/odata/$1`), `DELETE $1` after `POST /keep/Items` deleted under
 * /keep while the policy saw /odata. A reference at the start is decided under the call it names:
 * the entity a POST created (`…/keep/Items($1)`), or that call's own target; a reference elsewhere in
 * the URL, to an id given twice or to a later call, or one that another id's name begins (`$1` and
 * `$10`), is refused.
 */
class ContentIdReferences {
  private readonly where: Array<string | undefined> = [];

  private readonly ids: ReadonlyArray<string | undefined>;

  constructor(ids: ReadonlyArray<string | undefined>) {
    this.ids = ids.map((id) => (id ? id : undefined));
  }

  /** The call's target with a reference at its start put where it acts, or the refusal. */
  target(raw: string, n: number): string | Rejection {
    if (!raw.includes('$') || !this.ids.some((id) => id !== undefined)) return raw;
    let out = raw;
    for (const m of raw.matchAll(/\$([A-Za-z0-9\-._~]+)/g)) {
      const token = m[1]!;
      const named = [...this.ids.entries()].filter(([, id]) => id !== undefined && token.startsWith(id));
      if (!named.length) continue;
      const [k, id] = named[0]!;
      const at = named.length === 1 && id === token && m.index === 0 && k < n ? this.where[k] : undefined;
      if (at === undefined) {
        return refusals.bad(`call ${n + 1} of the batch names ${JSON.stringify(m[0].slice(0, 40))}, a Content-ID reference Airlock cannot read one way (not at the start of its URL, to an id given twice, to a later call, or one another id begins): the server puts the location of an earlier call's entity there`);
      }
      out = at + raw.slice(m[0].length);
    }
    return out;
  }

  /** Records where call `n` acted, for the calls after it that refer to it. */
  acted(n: number, method: string, target: string): void {
    if (this.ids[n] === undefined) return;
    const u = new URL(target);
    u.search = '';
    u.hash = '';
    // What a POST creates is an entity under the target it was posted to (`Items` → `Items(42)`).
    this.where[n] = method.toUpperCase() === 'POST' ? `${u.href}($${this.ids[n]})` : u.href;
  }
}

/**
 * A call whose path the server fills from an earlier call's answer (Salesforce's `@{ref.field}`,
 * Facebook's `{result=name:$.path}`) anywhere but its last segment: `/sobjects/@{q.records[0].
 * attributes.type}/x` runs on a type the policy never saw. In the last segment (an id) or the
 * query, the place the call names is known; elsewhere it is refused.
 */
function filledPath(target: string, marker: string): Rejection | undefined {
  const path = target.split('?', 1)[0]!.split('#', 1)[0]!;
  const at = path.indexOf(marker);
  if (at < 0 || path.indexOf('/', at) < 0) return undefined;
  return refusals.bad(`a call of the batch names a path the server fills from an earlier answer (${JSON.stringify(path.slice(0, 80))}): Airlock cannot decide where it acts`);
}

/** The URL with its path's trailing slashes left out (`…/$batch/` → `…/$batch`), query and all. */
function withoutTrailingSlash(url: string): string {
  const u = new URL(url);
  if (!u.pathname.endsWith('/') || u.pathname === '/') return url;
  let end = u.pathname.length;
  while (end > 1 && u.pathname[end - 1] === '/') end--;
  u.pathname = u.pathname.slice(0, end);
  return u.href;
}

/** A SCIM Bulk endpoint's service root: `/scim/v2/Bulk` → `/scim/v2/`. */
function scimRoot(url: string): string {
  const u = new URL(url);
  let path = u.pathname;
  while (path.endsWith('/')) path = path.slice(0, -1);
  u.pathname = path.slice(0, path.lastIndexOf('/') + 1);
  u.search = '';
  return u.href;
}

/**
 * Facebook's Graph API batch (`batch=[{"method": "DELETE", "relative_url": "<id>"}, …]` in the query,
 * a urlencoded or multipart form, or a JSON body; its value a JSON list, or that list as a string):
 * the server runs each call, its `relative_url` under the API's root (the request's version, unless
 * the call names its own) and its `body` a form. Read wherever the request goes (the shape is
 * Facebook's own: a list of objects naming `relative_url`). A list that is not read whole is refused.
 */
/**
 * The `batch` values of a query or form as PHP registers them (twenty-second pass: Facebook's front
 * end fills $_GET and $_POST so): ` batch` and `batch%00x` are `batch`, and `batch[0][method]=…&
 * batch[0][relative_url]=…` (or `batch[][…]`) is a list of calls, written here as the JSON list it is.
 */
function phpBatchValues(pairs: Iterable<[string, string]>, values: string[]): void {
  const all = [...pairs];
  for (const [name, value] of all) if (name === 'batch' || (phpName(name) === 'batch' && !name.includes('['))) values.push(value);
  const nested = phpNested(all.map(batchCallDepth), 'batch');
  if (nested === undefined) return;
  // (An array under other keys than 0…n is still a batch to a server iterating it.)
  values.push(JSON.stringify(Array.isArray(nested) ? nested : Object.values(nested as object)));
}

/**
 * A nested `batch` name read to a call's member (`batch[0][body]`): what lies deeper only makes that
 * member an array to PHP (no string: a call's `relative_url` or `method` that is none is refused, a
 * `body` that is none sends nothing), so a deeper name is read as `batch[0][body][]` (twenty-ninth
 * pass: 1 MiB of `batch[<n>][0]…[0]=x`, 64 deep, bound whole held the event loop ~1.6 s, to any host).
 */
export function batchCallDepth(pair: [string, string]): [string, string] {
  const [name] = pair;
  let at = name.indexOf('[');
  if (at < 0 || name.length < 12) return pair;
  const nul = name.indexOf('\0');
  for (let n = 0; n < 2; n++) {
    const close = name.indexOf(']', at);
    if (close < 0 || (nul >= 0 && close > nul)) return pair;
    at = close + 1;
    if (name[at] !== '[') return pair;
  }
  // A third subscript: closed (PHP reads it as one) or not (the name is then `batch` with what came before).
  const close = name.indexOf(']', at);
  return close < 0 || (nul >= 0 && close > nul) ? pair : [`${name.slice(0, at)}[]`, ''];
}

/** `batch` as a part name @fastify/busboy reads so may be spelled (`ba tch`, `ba"tch"`): blanks, quotes and escapes between its letters. */
const looseBatchName = /b[ \t"\\]*a[ \t"\\]*t[ \t"\\]*c[ \t"\\]*h/;

function graphBatchOf(rawHeaders: readonly string[], url: string, body: ServerBody): SecondTarget[] | Rejection {
  const values: string[] = [];
  const q = url.indexOf('?');
  if (q >= 0 && /batch|%/i.test(url.slice(q))) phpBatchValues(new URLSearchParams(url.slice(q + 1).split('#')[0]), values);
  const type = contentTypeOf(rawHeaders);
  const media = type?.trim().toLowerCase() ?? '';
  const bodyMayHold = media.startsWith('application/x-www-form-urlencoded') || media.startsWith('multipart/form-data') || media === '' || /json/.test(media);
  if (bodyMayHold && !body.unreadable && body.captured.length) {
    // Looked at as bytes first: a body that cannot name `batch` (as sent, escaped in JSON, percent-
    // encoded in a form, extended in a part's name) is not turned into text (most bodies).
    const bytes = body.captured;
    const first = bytes.find((b) => b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d);
    const json = first === 0x7b || first === 0x5b || (first === 0x29 && gsonPrefixed(bytes));
    const multipart = media.startsWith('multipart/form-data');
    if (bytes.includes('batch') || bytes.includes(multipart ? 'name*' : json ? '\\u' : '%') || (multipart && looseBatchName.test(bytes.toString('latin1')))) {
      if (multipart) {
        const read = multipartFields(bytes, type!, (n, file) => phpName(n) === 'batch' && !file);
        if (read.undecodable?.some((n) => phpName(n) === 'batch')) return refusals.bodyUnreadable('the request carries a Graph API batch field in a charset Airlock cannot decode, which a server may decode and run; send it in UTF-8');
        phpBatchValues(read.fields.map(([name, value]): [string, string] => [name, Buffer.from(value, 'latin1').toString('utf8')]), values);
      } else if (json) {
        const text = bytes.toString('utf8');
        const o = parseObject(text);
        const list = o === undefined ? undefined : serverKeys(o).batch;
        if (list !== undefined) {
          const ambiguous = ambiguousEnvelope(text, o);
          if (ambiguous) return ambiguous;
          values.push(typeof list === 'string' ? list : JSON.stringify(list));
        }
      } else phpBatchValues(new URLSearchParams(bytes.toString('utf8')), values);
    }
  }
  if (!values.length) return [];
  // As for GraphQL forms: more lists than a batch holds calls is no request anyone sends; each was
  // parsed and checked (100,000 `batch=[]` fields: ~1.5 s of the event loop, every agent's).
  if (values.length > MAX_BATCH_CALLS) return refusals.bad(`the request carries more than ${MAX_BATCH_CALLS} Graph API batch fields`);
  const version = /^https?:\/\/[^/]+(\/v\d+(?:\.\d+)?\/)/.exec(url)?.[1] ?? '/';
  const out: SecondTarget[] = [];
  for (const value of values) {
    // Only a list (or a string holding one) can be a batch: anything else is left at once, without
    // the exception a parse throws (~25 µs each: 150,000 empty `batch=` fields took 4 s).
    const first = value.trimStart()[0];
    if (first !== '[' && first !== '"') continue;
    let list: unknown;
    try {
      list = JSON.parse(value);
    } catch {
      continue; // not JSON: Facebook refuses the batch, nothing runs
    }
    const ambiguous = ambiguousEnvelope(value, list);
    if (ambiguous) return ambiguous;
    list = serverKeys(list);
    if (!Array.isArray(list) || !list.some((c) => c && typeof c === 'object' && 'relative_url' in c)) continue;
    if (body.truncated) return refusals.bad('the request carries a Graph API batch in a body larger than the capture cap: Airlock cannot read each call, and the server runs each of them');
    if (list.length + out.length > MAX_BATCH_CALLS) return refusals.bad(`the request carries a Graph API batch of more than ${MAX_BATCH_CALLS} calls`);
    for (const [n, c] of list.entries()) {
      const call = c && typeof c === 'object' && !Array.isArray(c) ? (c as { method?: unknown; relative_url?: unknown; body?: unknown }) : {};
      if (typeof call.relative_url !== 'string' || (call.method !== undefined && typeof call.method !== 'string')) return refusals.bad(`call ${n + 1} of the Graph API batch has no relative_url or method Airlock can read`);
      const method = (call.method ?? 'GET').toUpperCase();
      const rel = call.relative_url.replace(/^\/+/, '');
      const dynamic = filledPath(rel, '{result=');
      if (dynamic) return dynamic;
      const target = sameOrigin(/^v\d+(?:\.\d+)?\//.test(rel) ? `/${rel}` : `${version}${rel}`, url, `call ${n + 1} of the batch`);
      if (typeof target !== 'string') return target;
      const data = typeof call.body === 'string' ? Buffer.from(call.body) : Buffer.alloc(0);
      const headers = ['host', new URL(target).host, ...(data.length ? ['content-type', 'application/x-www-form-urlencoded'] : [])];
      out.push({ request: { method, url: target, headers: pairs(headers), body: data, bodyTruncated: false }, why: `call ${n + 1} of the batch (${method} ${new URL(target).pathname.slice(0, 200)})` });
    }
  }
  return out;
}

/**
 * Salesforce's record envelopes, which create or change records of the types their records name
 * rather than the path's: an sObject tree (`POST …/composite/tree/Account` whose records nest
 * `{"Contacts": {"records": [{"attributes": {"type": "Contact"}, …}]}}`, any depth) and sObject
 * collections (`POST` or `PATCH …/composite/sobjects` with `{"records": [{"attributes": {"type":
 * "Deny__c"}, …}]}`). Each record is decided as its one-record request: `POST …/sobjects/<type>`,
 * or `PATCH …/sobjects/<type>/<id>`. A composite graph's calls (`…/composite/graph`, `graphs[].
 * compositeRequest`) are decided as a composite's.
 */
/**
 * Salesforce's standard objects by the key prefix of their record ids (the first three characters
 * of every id name its object type); a custom object's prefix is the org's own.
 */
const salesforceKeyPrefixes = new Map(Object.entries({
  '001': 'Account', '002': 'Note', '003': 'Contact', '005': 'User', '006': 'Opportunity', '00Q': 'Lead', '500': 'Case',
  '00T': 'Task', '00U': 'Event', '701': 'Campaign', '00v': 'CampaignMember', '800': 'Contract', '801': 'Order', '01t': 'Product2',
  '00k': 'OpportunityLineItem', '02s': 'EmailMessage', '069': 'ContentDocument', '068': 'ContentVersion', '00P': 'Attachment',
  '0Q0': 'Quote', '00G': 'Group', '00e': 'Profile', '0PS': 'PermissionSet', '00O': 'Report', '01Z': 'Dashboard', '015': 'Document',
  '00X': 'EmailTemplate', '0WO': 'WorkOrder', '02i': 'Asset', '01p': 'ApexClass', '01q': 'ApexTrigger', '0D5': 'FeedItem',
}));

/**
 * A Salesforce collection delete (`DELETE …/composite/sobjects?ids=<id>,<id>`) names records by id,
 * not by type: each is decided as the `DELETE …/sobjects/<type>/<id>` it is, its type read from the
 * id's key prefix. An id of a custom object (an org's own prefix) or none Airlock can read is
 * refused: delete such records one by one under their type.
 */
function salesforceIdsOf(method: string, url: string): IndexTarget[] | Rejection {
  if (method.toUpperCase() !== 'DELETE') return [];
  const m = /^(https?:\/\/[^/]+\/services\/data\/[^/]+\/)composite\/sobjects\/?\?/.exec(url);
  if (!m) return [];
  const all = new URL(url).searchParams.getAll('ids');
  if (all.length !== 1) return all.length ? refusals.bad('the collection delete names ids more than once (servers read the first or the last)') : [];
  const list = all[0]!.split(',').map((i) => i.trim());
  if (list.length > 200) return refusals.bad('the collection delete names more than 200 records');
  const out: IndexTarget[] = [];
  for (const id of list) {
    const type = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/.test(id) ? salesforceKeyPrefixes.get(id.slice(0, 3)) : undefined;
    if (!type) return refusals.bad(`the collection delete names record ${JSON.stringify(id.slice(0, 40))}, whose type Airlock cannot read from its id: delete it under its type (DELETE …/sobjects/<type>/<id>)`);
    out.push({ method: 'DELETE', url: `${m[1]}sobjects/${type}/${id}`, why: `its collection delete removes ${type} ${id}` });
  }
  return out;
}

function salesforceRecordsOf(rawHeaders: readonly string[], method: string, url: string, body: ServerBody): SecondTarget[] | Rejection {
  const m = /^(https?:\/\/[^/]+\/services\/data\/[^/]+\/)composite\/(tree\/[^/?#]+|sobjects|graph)\/?(?:[?#]|$)/.exec(url);
  if (!m) return [];
  if (body.unreadable) return unreadableBody('a Salesforce envelope of records', body.unreadable);
  if (!body.captured.length) return [];
  if (body.truncated) return refusals.bad('the request body is a Salesforce envelope of records larger than the capture cap: Airlock cannot read each record, and the server writes each of them');
  const text = body.captured.toString('utf8');
  const parsed = parseObject(text);
  if (!parsed) return [];
  const ambiguous = ambiguousEnvelope(text, parsed);
  if (ambiguous) return ambiguous;
  const o = serverKeys(parsed);
  const base = m[1]!;
  if (m[2] === 'graph') {
    const out: SecondTarget[] = [];
    for (const graph of Array.isArray(o.graphs) ? o.graphs : []) {
      const calls = jsonBatchOf(`${base}composite`, { captured: Buffer.from(JSON.stringify({ compositeRequest: (graph as { compositeRequest?: unknown } | null)?.compositeRequest })), truncated: false, unreadable: undefined });
      if (calls === undefined) continue;
      if (!Array.isArray(calls)) return calls;
      out.push(...calls);
      if (out.length > MAX_BATCH_CALLS) return refusals.bad(`the request body is a Salesforce composite graph of more than ${MAX_BATCH_CALLS} calls`);
    }
    return out;
  }
  const out: SecondTarget[] = [];
  const write = method.toUpperCase() === 'PATCH' ? 'PATCH' : 'POST';
  const visit = (records: unknown, depth: number): Rejection | undefined => {
    if (!Array.isArray(records) || depth > 8) return undefined;
    for (const r of records) {
      if (!r || typeof r !== 'object' || Array.isArray(r)) continue;
      const rec = r as Record<string, unknown>;
      const type = (rec.attributes as { type?: unknown } | undefined)?.type;
      if (typeof type !== 'string' || !/^\w{1,80}$/.test(type)) return refusals.bad(`a record of the Salesforce envelope names no sObject type Airlock can read (${JSON.stringify(String(type).slice(0, 40))})`);
      if (out.length >= MAX_BATCH_CALLS) return refusals.bad(`the request body is a Salesforce envelope of more than ${MAX_BATCH_CALLS} records`);
      const id = typeof rec.id === 'string' ? rec.id : typeof rec.Id === 'string' ? rec.Id : undefined;
      const target = write === 'PATCH' && id ? `${base}sobjects/${type}/${encodeURIComponent(id)}` : `${base}sobjects/${type}`;
      const data = Buffer.from(JSON.stringify(rec));
      out.push({ request: { method: write, url: target, headers: pairs(withHost(['content-type', 'application/json'], target)), body: data, bodyTruncated: false }, why: `its record of type ${type} (${write} ${new URL(target).pathname.slice(0, 200)})` });
      // Tree children: any field holding `{records: [...]}`.
      for (const v of Object.values(rec)) {
        if (v && typeof v === 'object' && !Array.isArray(v) && 'records' in v) {
          const refused = visit((v as { records: unknown }).records, depth + 1);
          if (refused) return refused;
        }
      }
    }
    return undefined;
  };
  const refused = visit(o.records, 0);
  return refused ?? out;
}

/**
 * GCS's JSON API copies with the destination later in the path (`POST /storage/v1/b/<src>/o/<obj>/
 * copyTo/b/<dst>/o/<obj2>`, `rewriteTo`): a policy reading the path's start judged a request to
 * the source bucket while the object is written in the destination: a write there, decided as
 * `PUT /storage/v1/b/<dst>/o/<obj2>`.
 */
function gcsCopyTargetOf(requestUrl: string): string | undefined {
  const m = /^https?:\/\/[^/]+\/(?:storage\/v1\/)?b\/[^/?#]+\/o\/[^/?#]+\/(?:copyTo|rewriteTo)\/b\/([^/?#]+)\/o\/([^/?#]+)/.exec(requestUrl);
  return m ? new URL(`/storage/v1/b/${m[1]}/o/${m[2]}`, requestUrl).href : undefined;
}

/** A document, object or collection a request's body names, decided as `method url`. */
export interface NamedTarget {
  method: string;
  url: string;
  why: string;
}

/**
 * Google APIs that act on resources their body names by full name rather than the path:
 * - Firestore's `documents:commit` and `:batchWrite` write each `writes[]` `update.name`,
 *   `delete`, `transform.document` (decided as `PATCH`/`DELETE /v1/<name>`); `:batchGet` reads each
 *   of `documents` (`GET /v1/<name>`); `:runQuery` and `:runAggregationQuery` read the collections
 *   their `structuredQuery.from` names under the path's parent (`GET …/<collectionId>`);
 * - GCS's `compose` (JSON API `POST …/b/<bucket>/o/<dest>/compose`, XML API `PUT /<bucket>/<obj>?compose`)
 *   reads each source object it lists in that bucket (`GET` of it): a policy refusing reads of
 *   `protected/` let its objects be composed into one the agent may read.
 * A body that names more than MAX_BATCH_CALLS, or past the capture, is refused.
 */
function documentsNamedBy(requestUrl: string, body: ServerBody): NamedTarget[] | Rejection {
  // Most requests name neither (no URL parsed for them).
  const maybeFirestore = requestUrl.includes('/databases/');
  if (!maybeFirestore && !requestUrl.includes('compose')) return [];
  const path = new URL(requestUrl).pathname;
  const firestore = maybeFirestore ? /^\/v1(?:beta\d)?\/(projects\/[^/]+\/databases\/[^/]+\/documents(?:\/[^:]*)?):(commit|batchWrite|batchGet|runQuery|runAggregationQuery)$/.exec(path) : null;
  const jsonCompose = firestore ? null : /^(?:\/storage\/v1)?\/b\/([^/]+)\/o\/[^/]+\/compose$/.exec(path);
  const xmlCompose = firestore || jsonCompose || !new URL(requestUrl).searchParams.has('compose') ? undefined : path.split('/').filter(Boolean);
  const compose = jsonCompose ? [jsonCompose[0], jsonCompose[1], undefined] : xmlCompose && xmlCompose.length >= 2 ? [path, undefined, xmlCompose[0]] : null;
  if (!firestore && !compose) return [];
  if (body.unreadable) return unreadableBody('a body naming the resources it acts on', body.unreadable);
  if (!body.captured.length) return [];
  if (body.truncated) return refusals.bad('the request body names the resources it acts on and is larger than the capture cap: Airlock cannot read them all');
  const text = body.captured.toString('utf8');
  const u = new URL(requestUrl);
  const out: NamedTarget[] = [];
  const add = (method: string, path: string, why: string): void => {
    out.push({ method, url: new URL(path, u).href, why });
  };
  const seg = (v: string): string => v.split('/').map((x) => encodeURIComponent(x)).join('/');
  if (compose) {
    if (compose[1] !== undefined) {
      const parsed = parseObject(text);
      const o = parsed && serverKeys(parsed);
      for (const src of Array.isArray(o?.sourceObjects) ? o.sourceObjects : []) {
        const name = (src as { name?: unknown } | null)?.name;
        if (typeof name === 'string') add('GET', `${u.pathname.startsWith('/storage/v1/') ? '/storage/v1' : ''}/b/${compose[1]}/o/${encodeURIComponent(name)}`, `its compose reads ${name.slice(0, 200)}`);
      }
    } else {
      const names = elementTexts(xmlWithoutMarkup(text), 'name', MAX_BATCH_CALLS + 1);
      if (names === undefined) return refusals.bad('a component of the compose request holds markup Airlock does not read');
      for (const name of names) add('GET', `/${compose[2]}/${seg(xmlText(name))}`, `its compose reads ${xmlText(name).slice(0, 200)}`);
    }
  } else {
    const parsed = parseObject(text);
    const ambiguous = parsed ? ambiguousEnvelope(text, parsed) : undefined;
    if (ambiguous) return ambiguous;
    const o = parsed && serverKeys(parsed);
    const root = `/${u.pathname.split('/').filter(Boolean)[0]}/`;
    const doc = (name: unknown): string | undefined => (typeof name === 'string' && /^projects\/[^/]+\/databases\/[^/]+\/documents\//.test(name) ? name : undefined);
    const kind = firestore![2]!;
    if (kind === 'commit' || kind === 'batchWrite') {
      for (const w of Array.isArray(o?.writes) ? o.writes : []) {
        const write = (w ?? {}) as { update?: { name?: unknown }; delete?: unknown; transform?: { document?: unknown } };
        const updated = doc(write.update?.name) ?? doc(write.transform?.document);
        const deleted = doc(write.delete);
        if (updated) add('PATCH', root + seg(updated), `its ${kind} writes ${updated.slice(0, 200)}`);
        if (deleted) add('DELETE', root + seg(deleted), `its ${kind} deletes ${deleted.slice(0, 200)}`);
        if (!updated && !deleted && w && typeof w === 'object') return refusals.bad(`a write of the Firestore ${kind} names no document Airlock can read`);
      }
    } else if (kind === 'batchGet') {
      for (const name of Array.isArray(o?.documents) ? o.documents : []) {
        const d = doc(name);
        if (!d) return refusals.bad('a document of the Firestore batchGet is not a full document name');
        add('GET', root + seg(d), `its batchGet reads ${d.slice(0, 200)}`);
      }
    } else {
      const query = (o?.structuredQuery ?? (o?.structuredAggregationQuery as { structuredQuery?: unknown } | undefined)?.structuredQuery) as { from?: unknown } | undefined;
      for (const f of Array.isArray(query?.from) ? query.from : []) {
        const id = (f as { collectionId?: unknown } | null)?.collectionId;
        // No collectionId with allDescendants: every collection under the parent.
        const collection = typeof id === 'string' ? id : '';
        add('GET', `${root}${seg(firestore![1]!)}/${encodeURIComponent(collection)}`, `its ${kind} reads collection ${collection.slice(0, 100) || '(all)'}`);
      }
    }
  }
  if (out.length > MAX_BATCH_CALLS) return refusals.bad(`the request body names more than ${MAX_BATCH_CALLS} resources`);
  return out;
}

/**
 * A container registry's cross-repository blob mount (OCI distribution spec: `POST
 * /v2/<repo>/blobs/uploads/?mount=<digest>&from=<other repo>`) links a blob of another repository
 * into this one, readable here after: a read of that blob, decided as `GET /v2/<from>/blobs/<digest>`.
 */
function mountSourcesOf(requestUrl: string): string[] | Rejection {
  if (!requestUrl.includes('/blobs/uploads') || !requestUrl.includes('from=')) return [];
  const u = new URL(requestUrl);
  if (!/^\/v2\/.+\/blobs\/uploads\/?$/.test(u.pathname)) return [];
  // Servers read the first or the last of a repeated parameter: each reading is decided.
  const digests = [...new Set(u.searchParams.getAll('mount'))];
  const out: string[] = [];
  for (const from of new Set(u.searchParams.getAll('from'))) {
    for (const digest of digests.length ? digests : ['']) {
      const segment = (v: string): string => encodeURIComponent(v).replace(/%3A/gi, ':');
      out.push(new URL(`/v2/${from.split('/').map(segment).join('/')}/blobs/${segment(digest)}`, u).href);
    }
  }
  return out.length > MAX_INDICES ? tooMany('blob mount sources') : out;
}

/** At most this many keys of one multi-object delete are decided (S3 takes 1,000; past this it is refused). */
const MAX_DELETED_KEYS = 1000;

/**
 * An S3 multi-object delete (`POST /<bucket>?delete`, or `POST /?delete` on a virtual-hosted
 * bucket; GCS's XML API, R2, MinIO) removes the keys its XML body lists, not the bucket the path
 * names: each key is decided as `DELETE` of it. A body past the capture, or listing more than
 * MAX_DELETED_KEYS (S3's own limit), is refused: keys Airlock did not read would be deleted.
 */
function deletedKeysOf(requestUrl: string, body: ServerBody): string[] | Rejection {
  if (!/[?&]delete(?:[=&#]|$)/.test(requestUrl)) return [];
  if (body.unreadable) return unreadableBody('a multi-object delete', body.unreadable);
  if (!body.captured.length) return [];
  const u = new URL(requestUrl);
  const segs = u.pathname.split('/').filter(Boolean);
  if (!u.searchParams.has('delete') || segs.length > 1) return [];
  const prefix = segs.length ? `/${segs[0]}/` : '/';
  // As an XML parser reads it (Go's encoding/xml in MinIO: a key in CDATA, split by a comment or a
  // processing instruction, `</Key >`); a key holding other markup is refused.
  const texts = elementTexts(xmlWithoutMarkup(body.captured.toString('utf8')), 'key', MAX_DELETED_KEYS + 1);
  if (texts === undefined) return refusals.bad('a key of the multi-object delete holds markup Airlock does not read');
  const keys = texts.map(xmlText);
  if (body.truncated || keys.length > MAX_DELETED_KEYS) return refusals.bad(`the request is a multi-object delete whose keys Airlock cannot all read (${body.truncated ? 'a body past the capture cap' : `more than ${MAX_DELETED_KEYS} keys`}): send fewer keys at a time`);
  return [...new Set(keys)].map((k) => new URL(prefix + k.split('/').map((seg) => encodeURIComponent(seg)).join('/'), u).href);
}

/**
 * A bucket's configuration that has the store write into another bucket: S3's server access
 * logging (`PUT /<bucket>?logging`, `<TargetBucket>`), replication (`?replication`, a destination
 * `<Bucket>` ARN), inventory and analytics exports (`?inventory`, `?analytics`: the bucket's key
 * list and statistics written to `<S3BucketDestination><Bucket>`), GCS's XML logging
 * (`<LogBucket>`). From then on the store writes there on its own (an inventory is the bucket's
 * whole listing): decided as a `PUT` into each bucket named. A name Airlock cannot read is refused.
 */
function bucketConfigTargetsOf(method: string, requestUrl: string, body: ServerBody): string[] | Rejection {
  if (method.toUpperCase() !== 'PUT' || !/[?&](?:logging|replication|inventory|analytics)(?:[=&#]|$)/.test(requestUrl)) return [];
  if (body.unreadable) return unreadableBody('a bucket configuration', body.unreadable);
  if (!body.captured.length) return [];
  const u = new URL(requestUrl);
  if (u.pathname.split('/').filter(Boolean).length > 1) return [];
  if (body.truncated) return refusals.bad('the request body is a bucket configuration larger than the capture cap: Airlock cannot read every bucket it names');
  const xml = xmlWithoutMarkup(body.captured.toString('utf8'));
  const out = new Set<string>();
  for (const element of ['targetbucket', 'bucket', 'logbucket']) {
    const texts = elementTexts(xml, element, MAX_INDICES + 1);
    if (texts === undefined) return refusals.bad(`a ${element} of the bucket configuration holds markup Airlock does not read`);
    for (const t of texts) {
      const v = xmlText(t).trim();
      const name = /^arn:aws[a-z-]*:s3:::([^/]+)$/.exec(v)?.[1] ?? v;
      if (!/^[a-z0-9][a-z0-9._-]{0,254}$/i.test(name)) return refusals.bad(`the bucket configuration names a bucket Airlock cannot read (${JSON.stringify(v.slice(0, 80))})`);
      const service = virtualHostedService(u.hostname);
      out.add(service ? `${u.protocol}//${name}.${service}${u.port ? `:${u.port}` : ''}/` : new URL(`/${name}/`, u).href);
      if (out.size > MAX_INDICES) return refusals.bad(`the bucket configuration names more than ${MAX_INDICES} buckets`);
    }
  }
  return [...out];
}

/**
 * An object store's browser form upload (S3's POST Object, GCS's XML API, MinIO's post policy):
 * `POST /<bucket>` (`POST /` on a virtual-hosted bucket) with a multipart/form-data body writes the
 * object its `key` field names (the field name in any case; `${filename}` in it is the file part's
 * name), not the bucket: decided as `PUT /<bucket>/<key>`. Only a form with a `file` part (which
 * both require) is read so; read in the captured body, as any body.
 */
function formUploadKeysOf(rawHeaders: readonly string[], method: string, url: string, body: ServerBody): string[] | Rejection {
  if (method.toUpperCase() !== 'POST') return [];
  const type = contentTypeOf(rawHeaders);
  if (!type || !/^\s*multipart\/form-data/i.test(type)) return [];
  const u = new URL(url);
  const segs = u.pathname.split('/').filter(Boolean);
  if (segs.length > 1 || body.unreadable || !body.captured.length) return [];
  const text = body.captured.toString('latin1');
  // (A part name in RFC 2231 pieces, `name*1=ke; name*0=y`, or as @fastify/busboy joins it, `name=k e"y"`, spells `key` nowhere whole.)
  if (!/k[ \t"\\]*e[ \t"\\]*y|name\*/i.test(text)) return [];
  // S3 and GCS take the object from a part named `file` (the last field): a form without one is
  // another API's (an upload whose `key` is an API key is not read as an object's name).
  if (!multipartFields(body.captured, type, (n) => n.toLowerCase() === 'file').fields.length) return [];
  const keys = multipartFields(body.captured, type, (n, file) => !file && n.toLowerCase() === 'key').fields.map(([, v]) => Buffer.from(v, 'latin1').toString('utf8'));
  if (!keys.length) return [];
  const names = [...text.matchAll(/;\s*filename\s*=\s*(?:"([^"\r\n]*)"|([^;\s]+))/gi)].map((m) => Buffer.from(m[1] ?? m[2] ?? '', 'latin1').toString('utf8'));
  const prefix = segs.length ? `/${segs[0]}/` : '/';
  const out = new Set<string>();
  for (const key of keys) {
    for (const name of key.includes('${filename}') ? (names.length ? names : ['']) : ['']) {
      const k = key.replaceAll('${filename}', name);
      out.add(new URL(prefix + k.split('/').map((seg) => encodeURIComponent(seg)).join('/'), u).href);
      if (out.size > MAX_INDICES) return tooMany('object keys for its form upload');
    }
  }
  return [...out];
}

/**
 * A WebDAV `REPORT` (CalDAV's calendar-multiget, CardDAV's addressbook-multiget) or `SEARCH`
 * (RFC 5323's scope) reads the resources its body's `href` elements name, anywhere on the server:
 * SabreDAV (Nextcloud, Baïkal) maps each through `calculateUri` and reads its properties and data,
 * so `REPORT /calendars/ok/` naming `/calendars/private/x.ics` returned it. Each is decided as a GET
 * of it. XML read as a parser does (comments dropped, CDATA and references as their text); a
 * document type (entities of its own) or a body past the capture is refused. The binding methods
 * (RFC 5842) likewise: `BIND /ok/` with `<href>/deny/secret</href>` makes the resource readable
 * as `/ok/<segment>` (Apache Jackrabbit's WebDAV server), `REBIND` moves it there.
 */
function davHrefsOf(method: string, url: string, body: ServerBody): string[] | Rejection {
  const m = method.toUpperCase();
  if (m !== 'REPORT' && m !== 'SEARCH' && m !== 'BIND' && m !== 'REBIND') return [];
  if (body.unreadable) return unreadableBody(`a ${m} body naming resources`, body.unreadable);
  if (!body.captured.length) return [];
  const raw = body.captured.toString('utf8');
  if (!/href/i.test(raw)) return [];
  if (/<!DOCTYPE|<!ENTITY/i.test(raw)) return refusals.bad(`the ${m} body declares a document type: Airlock reads its hrefs only without entities of its own`);
  if (body.truncated) return refusals.bad(`the ${m} body is larger than the capture cap: Airlock cannot read every resource it names`);
  const hrefs = elementTexts(xmlWithoutMarkup(raw), 'href', MAX_DELETED_KEYS + 1);
  if (hrefs === undefined) return refusals.bad(`an href of the ${m} body holds markup Airlock does not read`);
  const out = new Set<string>();
  for (const h of hrefs) {
    const target = sameOrigin(xmlText(h).trim(), url, `an href of the ${m} body`);
    if (typeof target !== 'string') return target;
    out.add(target);
    if (out.size > MAX_DELETED_KEYS) return refusals.bad(`the ${m} body names more than ${MAX_DELETED_KEYS} resources`);
  }
  return [...out];
}

/**
 * XML with comments and processing instructions left out and CDATA sections as the escaped text
 * they hold, as a parser reads an element's text (one linear pass).
 */
function xmlWithoutMarkup(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const bang = raw.indexOf('<!', i);
    const pi = raw.indexOf('<?', i);
    const lt = bang < 0 ? pi : pi < 0 ? bang : Math.min(bang, pi);
    if (lt < 0) return out + raw.slice(i);
    out += raw.slice(i, lt);
    if (lt === pi) {
      const end = raw.indexOf('?>', lt + 2);
      i = end < 0 ? raw.length : end + 2;
    } else if (raw.startsWith('<!--', lt)) {
      const end = raw.indexOf('-->', lt + 4);
      i = end < 0 ? raw.length : end + 3;
    } else if (raw.startsWith('<![CDATA[', lt)) {
      const end = raw.indexOf(']]>', lt + 9);
      out += raw.slice(lt + 9, end < 0 ? raw.length : end).replaceAll('&', '&amp;').replaceAll('<', '&lt;');
      i = end < 0 ? raw.length : end + 3;
    } else {
      out += '<!';
      i = lt + 2;
    }
  }
  return out;
}

/**
 * The text of each element of that (lower-case) local name (any prefix, any case, blanks or
 * attributes before `>`), at most `max`; undefined when one holds markup. Linear scans.
 */
function elementTexts(text: string, name: string, max: number): string[] | undefined {
  const lower = text.toLowerCase();
  const out: string[] = [];
  const n = name.length;
  for (let at = lower.indexOf(name); at >= 0 && out.length < max; at = lower.indexOf(name, at + n)) {
    const tag = openingTag(lower, name, at);
    if (!tag) continue;
    const { prefix, gt } = tag;
    if (gt < 0) return out;
    if (lower[gt - 1] === '/') continue; // <D:href/>
    const close = lower.indexOf('<', gt + 1);
    if (close < 0 || !lower.startsWith(`</${prefix}${name}`, close)) return undefined;
    out.push(text.slice(gt + 1, close));
    at = close;
  }
  return out;
}

/** At most this many elements and attributes of an XML body are read for callbacks (more is no subscription). */
const MAX_XML_NAMES = 20_000;

/**
 * The [local name, text] of every element whose text has no markup in it, and [name, value] of
 * every attribute, of an XML body (comments and CDATA as a parser reads them, entities undone):
 * what an XML data binder (Jackson's XML module, .NET's XmlSerializer) reads a property from.
 * One linear pass; names of callbackKeys only are kept.
 */
function xmlNamedValues(raw: string): Array<[string, string]> {
  const xml = xmlWithoutMarkup(raw);
  const out: Array<[string, string]> = [];
  // The open elements' local names (twenty-eighth pass): a binder reads `<webhook><url>…</url></webhook>`
  // (or `<webhooks><webhook url="…"/></webhooks>`) as the JSON `{"webhook": {"url": …}}`, a holder's
  // URL leaf, which the JSON readers read (memberCallbackPairs) and this one did not.
  const open: string[] = [];
  const held = (leaf: string, value: string, holders: Array<string | undefined>): void => {
    if (!(isCallbackLeaf(leaf) || urlNamed(leaf)) || namesCallback(leaf)) return;
    const holder = holders.find((h) => h !== undefined && holdsCallback(h));
    if (holder !== undefined) out.push([isCallbackKey(holder) ? holder : 'webhookurl', value]);
  };
  let seen = 0;
  for (let lt = xml.indexOf('<'); lt >= 0 && seen < MAX_XML_NAMES; lt = xml.indexOf('<', lt + 1), seen++) {
    if (xml[lt + 1] === '/') {
      open.pop();
      continue;
    }
    let end = lt + 1;
    while (end < xml.length && /[\w.:-]/.test(xml[end]!)) end++;
    const name = xml.slice(lt + 1, end);
    if (!name) continue;
    const gt = xmlTagEnd(xml, end);
    if (gt === -2) continue;
    if (gt < 0) break;
    const elementName = name.slice(name.lastIndexOf(':') + 1);
    // Attributes: name="value" or name='value'.
    const head = xml.slice(end, gt);
    for (let a = 0; a < head.length && seen < MAX_XML_NAMES; seen++) {
      const eq = head.indexOf('=', a);
      if (eq < 0) break;
      const attr = head.slice(a, eq).trim();
      let v = eq + 1;
      while (head[v] === ' ' || head[v] === '\t' || head[v] === '\n' || head[v] === '\r') v++;
      const quote = head[v];
      if (quote !== '"' && quote !== "'") break;
      const close = head.indexOf(quote, v + 1);
      if (close < 0) break;
      const local = attr.slice(attr.lastIndexOf(':') + 1);
      if (namesCallback(local)) out.push([local, xmlText(head.slice(v + 1, close))]);
      else held(local, xmlText(head.slice(v + 1, close)), [elementName, open.at(-1)]);
      a = close + 1;
    }
    const local = elementName;
    if (xml[gt - 1] === '/') continue;
    const next = xml.indexOf('<', gt + 1);
    const text = (): string => xmlText(xml.slice(gt + 1, next < 0 ? xml.length : next));
    if (namesCallback(local)) out.push([local, text()]);
    else held(local, text(), [open.at(-1), open.at(-2)]);
    open.push(local);
  }
  return out;
}

/**
 * The `>` that ends the tag whose name ends at `from`, outside quoted attribute values (a `>` is
 * plain text in one: `<s x="a>b" notificationUrl="…"/>` is one tag to an XML parser); -1 when a
 * quote or the text ends first, -2 when another `<` comes first (no tag).
 */
export function xmlTagEnd(xml: string, from: number): number {
  for (let i = from; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (c === 0x3e) return i;
    if (c === 0x22 || c === 0x27) {
      const close = xml.indexOf(xml[i]!, i + 1);
      if (close < 0) return -1;
      i = close;
    } else if (c === 0x3c) return -2; // (a tag never closed: no parser reads it; what follows is read on)
  }
  return -1;
}

/**
 * The http(s) URLs an XML fragment's callback elements and attributes hold (xmlNamedValues, the
 * document's internal entities expanded: xmlEntities of its start), for the watch past the capture
 * (proxy/form-tail.ts); a value left unexpandable is returned as it is (the watch stops for any).
 */
export function xmlCallbackUrls(fragment: string, entities: XmlEntities): string[] {
  const values = xmlCallbackValues(fragment, entities);
  if (values === undefined) return ['(an entity Airlock cannot expand)'];
  return values.map(([, v]) => v).filter((v) => mayBeHttpUrl(v));
}

/**
 * The internal general entities an XML text's DTD declares (`<!DOCTYPE s [<!ENTITY u "https://…">]>`):
 * a parser reading the DTD (.NET's XmlTextReader, Woodstox with DTD support, Python's expat and lxml)
 * expands `&u;` in a value to them (twenty-second pass: `<notificationUrl>&u;</notificationUrl>`
 * named no URL to the reader). `null` for no DTD; 'unreadable' where the subset declares parameter
 * or external entities (what they expand to is not here).
 */
export type XmlEntities = Map<string, string> | null | 'unreadable';
export function xmlEntities(text: string): XmlEntities {
  const at = text.search(/<!doctype/i);
  if (at < 0) return null;
  const open = text.indexOf('[', at);
  const gt = text.indexOf('>', at);
  if (open < 0 || (gt >= 0 && gt < open)) return xmlDoctype(text) ? 'unreadable' : null;
  const close = text.indexOf(']', open);
  if (close < 0) return 'unreadable';
  const subset = text.slice(open + 1, close);
  const out = new Map<string, string>();
  for (let i = subset.indexOf('<!ENTITY'); i >= 0; i = subset.indexOf('<!ENTITY', i + 8)) {
    const m = /^<!ENTITY\s+([A-Za-z_:][\w.:-]{0,127})\s+(?:"([^"]*)"|'([^']*)')\s*>/.exec(subset.slice(i, i + 16_384));
    if (!m) return 'unreadable'; // a parameter (`%`) or external (`SYSTEM`, `PUBLIC`) entity
    if (out.size >= 100) return 'unreadable';
    out.set(m[1]!, m[2] ?? m[3]!);
  }
  return out;
}

/** `value` with `entities` expanded (up to three levels, 16 KiB), or undefined when a reference stays that no entity here defines. */
function expandedEntities(value: string, entities: XmlEntities): string | undefined {
  if (!value.includes('&')) return value;
  // (Without a DTD an undeclared reference is no XML to any parser: refused as unreadable too.)
  let v = value;
  for (let level = 0; level < 4; level++) {
    const ref = /&([A-Za-z_:][\w.:-]*);/;
    if (!ref.test(v)) return v;
    if (entities === 'unreadable' || level === 3) return undefined;
    let unknown = false;
    v = v.replace(/&([A-Za-z_:][\w.:-]*);/g, (e, n: string) => {
      if (['amp', 'lt', 'gt', 'quot', 'apos'].includes(n)) return e;
      const x = entities?.get(n);
      if (x === undefined) unknown = true;
      return x ?? e;
    });
    if (unknown || v.length > 16_384) return undefined;
    v = xmlText(v);
  }
  return undefined;
}

/** xmlNamedValues with a DTD's entities expanded; undefined when one cannot be. */
function xmlCallbackValues(text: string, entities: XmlEntities): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  for (const [k, v] of xmlNamedValues(text)) {
    const expanded = expandedEntities(v, entities);
    if (expanded === undefined) return undefined;
    out.push([k, expanded]);
  }
  return out;
}

/** XML character data: the five entities and numeric references. */
function xmlText(s: string): string {
  return s.replace(/&(?:#x([0-9a-f]+)|#(\d+)|(amp|lt|gt|quot|apos));/gi, (e, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name) return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[name.toLowerCase()] ?? e;
    const code = hex ? parseInt(hex, 16) : Number(dec);
    return code <= 0x10ffff ? String.fromCodePoint(code) : e;
  });
}

/** Elasticsearch/OpenSearch endpoints whose body names indices besides the path's. */
const multiIndex = new Set(['_bulk', '_msearch', '_mget', '_mtermvectors', '_msearch/template']);

/**
 * At most this many other indices (keys, sources, places) of one request are decided; a request
 * naming more is refused (tooMany). Seventeenth pass: the readers kept the first 20 and let the
 * rest go undecided, so a bulk naming 20 harmless indices before `deny`, a path listing
 * `/a1,…,a20,deny/_search` or a 21st alias action reached what the policy denies.
 */
const MAX_INDICES = 20;

/** The refusal for a request naming more second targets of one kind than Airlock decides. */
function tooMany(what: string, bound = MAX_INDICES): Rejection {
  return refusals.bad(`the request names more than ${bound} ${what}: Airlock decides each, and refuses more than that rather than leave some undecided; send fewer in one request`);
}

/**
 * Meilisearch's and Typesense's multi-index endpoints (twenty-sixth pass, left open by the
 * twenty-fifth): the path names no index, the body does, so a policy that refuses
 * `/indexes/deny/search` let `POST /multi-search {"queries":[{"indexUid":"deny"}]}` read it.
 * - Meilisearch `POST /multi-search`: each `queries[].indexUid` is searched (federated or not), as
 *   `POST /indexes/<uid>/search`; `POST /swap-indexes` (`[{"indexes":["a","b"]}]`) swaps the
 *   documents of both, a write to each (`POST /indexes/<uid>/documents`).
 * - Typesense `POST /multi_search`: each `searches[].collection`, else the query's `collection`
 *   (Typesense's common parameters), as `GET /collections/<c>/documents/search`; `PUT /aliases/<a>`
 *   with `{"collection_name": "deny"}` makes every later search of the alias read that collection.
 * The endpoint's prefix is kept (a server behind `/search/` routes `/search/multi-search`). Both
 * readings of duplicate keys are read; a body past the capture cap, or one whose names are not
 * strings, is refused: Airlock cannot read which indices it names.
 */
/**
 * Typesense's joins: `filter_by`, `include_fields`, `exclude_fields` and `sort_by` name another
 * collection as `$<collection>(…)`, whose documents the search reads (`filter_by=$customers(id:=1)`,
 * `include_fields=$customers(*)`): each is decided as a search of that collection.
 */
/** What comes before `/collections/<name>/documents/search` (trailing slashes allowed) in `pathname`; undefined for another path. A scan: the pattern it replaces was quadratic on a repeated prefix. */
function typesenseSearchRoot(pathname: string): string | undefined {
  const suffix = '/documents/search';
  const path = trimTrailing(pathname, '/');
  if (!path.endsWith(suffix)) return undefined;
  const collection = path.slice(0, -suffix.length);
  const slash = collection.lastIndexOf('/');
  if (slash < 0 || slash === collection.length - 1) return undefined;
  const head = collection.slice(0, slash);
  return head.endsWith('/collections') ? head.slice(0, -'/collections'.length) : undefined;
}
const joinParams = new Set(['filter_by', 'include_fields', 'exclude_fields', 'sort_by']);
function typesenseJoins(pairs: Iterable<[string, unknown]>): string[] {
  const out: string[] = [];
  for (const [k, v] of pairs) {
    if (!joinParams.has(k.toLowerCase()) || typeof v !== 'string' || !v.includes('$')) continue;
    for (const m of v.matchAll(/\$([^\s$()]{1,256})\s*\(/g)) out.push(m[1]!);
  }
  return out;
}
const searchEnginePath = /\/(?:multi-search|multi_search|swap-indexes|(?:aliases|presets)\/[^/?#]+)\/*(?:[?#]|$)/i;
function searchEngineIndices(method: string, requestUrl: string, body: ServerBody): IndexTarget[] | Rejection {
  const joined = requestUrl.includes('$') || /%24/i.test(requestUrl) ? URL.parse(requestUrl) : null;
  const searchRoot = joined ? typesenseSearchRoot(joined.pathname) : undefined;
  if (joined && searchRoot !== undefined) {
    const u = joined;
    const joins = [...new Set(typesenseJoins(u.searchParams))];
    if (joins.length > MAX_INDICES) return tooMany('collections joined');
    return joins.map((j) => ({ method: 'GET', url: new URL(`${searchRoot}/collections/${encodeURIComponent(j)}/documents/search`, u).href, why: `its join reads collection ${j.slice(0, 100)}` }));
  }
  if (!searchEnginePath.test(requestUrl)) return [];
  const u = new URL(requestUrl);
  const segs = u.pathname.split('/');
  while (segs.length > 1 && segs.at(-1) === '') segs.pop();
  const last = segs.at(-1)!.toLowerCase();
  const alias = segs.at(-2)?.toLowerCase() === 'aliases';
  const preset = segs.at(-2)?.toLowerCase() === 'presets';
  const m = method.toUpperCase();
  if (alias || preset ? m !== 'PUT' && m !== 'POST' && m !== 'PATCH' : m !== 'POST') return [];
  const root = (alias || preset ? segs.slice(0, -2) : segs.slice(0, -1)).join('/');
  const what = alias ? 'a Typesense alias' : preset ? 'a Typesense preset' : last === 'swap-indexes' ? 'a Meilisearch index swap' : 'a multi-index search';
  if (body.unreadable) return unreadableBody(what, body.unreadable);
  const query = last === 'multi_search' ? u.searchParams.getAll('collection') : [];
  if (!body.captured.length && !query.length) return [];
  if (body.truncated) return refusals.bad(`the request body is ${what} larger than the capture cap: Airlock cannot read every index it names; send a smaller one`);
  const text = body.captured.toString('utf8');
  let readings: unknown[];
  try {
    const parsed: unknown = JSON.parse(text);
    readings = scanJson(text, false).duplicateCount ? [parsed, scanJson(text, true).firstWins] : [parsed];
  } catch {
    const o = parseObject(text);
    readings = o ? [o] : [];
  }
  const out: IndexTarget[] = [];
  const seen = new Set<string>();
  const seg = encodeURIComponent;
  let odd: string | undefined;
  const push = (name: unknown, how: 'search' | 'collection' | 'swap' | 'alias' | 'join' | 'preset'): void => {
    if (typeof name !== 'string' || !name.length) {
      odd ??= JSON.stringify(name ?? null).slice(0, 80);
      return;
    }
    const key = `${how} ${name}`;
    if (seen.has(key)) return;
    seen.add(key);
    const t = name.slice(0, 100);
    if (how === 'search') out.push({ method: 'POST', url: new URL(`${root}/indexes/${seg(name)}/search`, u).href, why: `its multi-search reads index ${t}` });
    else if (how === 'swap') out.push({ method: 'POST', url: new URL(`${root}/indexes/${seg(name)}/documents`, u).href, why: `its index swap replaces the documents of index ${t}` });
    else out.push({ method: 'GET', url: new URL(`${root}/collections/${seg(name)}/documents/search`, u).href, why: how === 'alias' ? `its alias has later searches read collection ${t}` : how === 'preset' ? `its preset has later searches read collection ${t}` : how === 'join' ? `its join reads collection ${t}` : `its multi-search reads collection ${t}` });
  };
  for (const r of readings) {
    const o = r && typeof r === 'object' ? (r as Record<string, unknown>) : undefined;
    if (last === 'multi-search') {
      const queries = o && !Array.isArray(o) ? o.queries : undefined;
      if (Array.isArray(queries)) for (const q of queries) if (q && typeof q === 'object') push((q as Record<string, unknown>).indexUid, 'search');
    } else if (last === 'multi_search') {
      const searches = o && !Array.isArray(o) ? o.searches : undefined;
      for (const c of query) push(c, 'collection');
      if (Array.isArray(searches)) {
        for (const q of searches) {
          if (!q || typeof q !== 'object') continue;
          const o = q as Record<string, unknown>;
          if (o.collection !== undefined) push(o.collection, 'collection');
          for (const j of typesenseJoins(Object.entries(o))) push(j, 'join');
        }
      }
      for (const j of typesenseJoins(u.searchParams)) push(j, 'join');
    } else if (last === 'swap-indexes') {
      for (const swap of Array.isArray(r) ? r : []) {
        const indexes = swap && typeof swap === 'object' ? (swap as Record<string, unknown>).indexes : undefined;
        if (Array.isArray(indexes)) for (const i of indexes) push(i, 'swap');
      }
    } else if (preset) {
      // A stored preset's searches run wherever `?preset=<name>` names it later: its collections and joins.
      const value = o && !Array.isArray(o) ? o.value : undefined;
      const v = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
      const entries = Array.isArray(v?.searches) ? (v.searches as unknown[]) : v ? [v] : [];
      for (const q of entries) {
        if (!q || typeof q !== 'object') continue;
        const e = q as Record<string, unknown>;
        if (e.collection !== undefined) push(e.collection, 'preset');
        for (const j of typesenseJoins(Object.entries(e))) push(j, 'preset');
      }
    } else if (o && 'collection_name' in o) push(o.collection_name, 'alias');
    if (out.length > MAX_INDICES) return tooMany(`indices in ${what}`);
  }
  if (odd !== undefined) return refusals.bad(`${what} names an index Airlock cannot read (${odd})`);
  return out;
}

/**
 * Amazon SQS (twenty-sixth pass): every action names its queue by `QueueUrl` — a member of the JSON
 * protocol's body (`X-Amz-Target: AmazonSQS.SendMessage`, what the SDKs send to `POST /`), a
 * parameter of the Query protocol's form or query — and SQS acts on that queue whatever the path
 * says: `POST /111111111111/own` with `{"QueueUrl": "https://sqs.us-east-1.amazonaws.com/999999999999/exfil"}`
 * sent the message to another account's queue while the policy read the path's. Each `QueueUrl`
 * is decided as a `POST` to it (the form arnEndpoint gives a queue). One that is no http(s) URL is
 * left to SQS, which refuses it.
 */
function sqsQueuesOf(rawHeaders: readonly string[], url: string, body: ServerBody): IndexTarget[] | Rejection {
  let target: string | undefined;
  let type = '';
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (name === 'x-amz-target') target ??= rawHeaders[i + 1]!;
    else if (name === 'content-type') type ||= rawHeaders[i + 1]!.toLowerCase();
  }
  const json = target !== undefined && /^\s*(?:amazonsqs\.|amazonsimplenotificationservice\.publish)/i.test(target);
  const form = type.startsWith('application/x-www-form-urlencoded');
  const q = url.indexOf('?');
  const inQuery = q >= 0 && /queueurl=|topicarn=|targetarn=/i.test(url.slice(q));
  if (!json && !inQuery && !(form && body.captured.length)) return [];
  const values: unknown[] = [];
  const topics: unknown[] = [];
  const pairs: Array<[string, unknown]> = [];
  if (inQuery) pairs.push(...new URL(url).searchParams);
  if (json || form) {
    if (body.unreadable) return unreadableBody('an SQS request', body.unreadable);
    const text = body.captured.toString('utf8');
    if (json && /queueurl|topicarn|targetarn/i.test(text)) {
      if (body.truncated) return refusals.bad('the request body is an SQS request larger than the capture cap: Airlock cannot read which queue it names');
      let readings: unknown[];
      try {
        const parsed: unknown = JSON.parse(text);
        readings = scanJson(text, false).duplicateCount ? [parsed, scanJson(text, true).firstWins] : [parsed];
      } catch {
        readings = [parseObject(text)];
      }
      for (const r of readings) if (r && typeof r === 'object' && !Array.isArray(r)) pairs.push(...Object.entries(r));
    } else if (form && /queueurl|topicarn|targetarn/i.test(text)) {
      if (body.truncated) return refusals.bad('the request body is an SQS or SNS request larger than the capture cap: Airlock cannot read which queue or topic it names');
      pairs.push(...serverParams(text));
    }
  }
  const publish = (target !== undefined && /publish$/i.test(target.trim())) || pairs.some(([k, v]) => k.toLowerCase() === 'action' && typeof v === 'string' && v.trim().toLowerCase() === 'publish');
  for (const [k, v] of pairs) {
    const name = k.toLowerCase();
    if (name === 'queueurl') values.push(v);
    else if (publish && (name === 'topicarn' || name === 'targetarn')) topics.push(v);
  }
  const out = new Map<string, IndexTarget>();
  // (SNS's Publish names its topic, or a mobile endpoint, by `TopicArn`/`TargetArn` in the form, the
  // query or the JSON body the same way: decided as arnEndpoint reads the ARN, the query form a
  // policy sees on a Publish's own URL.)
  for (const arn of topics) {
    const found = typeof arn === 'string' ? arnEndpoint(arn.trim()) : 'is not a string';
    if (typeof found === 'string' || !found || !found.url.startsWith('https://sns.')) return refusals.bad(`the SNS Publish names a topic Airlock cannot read (${JSON.stringify(String(arn).slice(0, 80))}): it cannot tell whose topic the message goes to`);
    out.set(found.url, { method: 'POST', url: found.url, why: `its Publish ${found.why.replace(/^publishes to /, 'sends to ')}` });
  }
  for (const v of values) {
    const queue = typeof v === 'string' ? httpUrlAsParsed(v, url) : undefined;
    if (queue === undefined) {
      if (typeof v !== 'string') return refusals.bad(`the SQS request names its queue by a QueueUrl that is no text (${JSON.stringify(v ?? null).slice(0, 80)})`);
      continue;
    }
    out.set(queue, { method: 'POST', url: queue, why: `its QueueUrl names the queue ${queue.slice(0, 160)}` });
    if (out.size > MAX_INDICES) return tooMany('queues');
  }
  return [...out.values()];
}

/**
 * Apache Solr (twenty-sixth pass): a search handler (`/solr/<collection>/select`, any handler under
 * a `solr` segment, or a path ending `/select`) runs over the collections its `collection`
 * parameter lists instead of the path's (SolrCloud: `/solr/public/select?q=*:*&collection=secret`
 * searches `secret`), and a distributed search queries each core its `shards` parameter names
 * (`host:port/solr/core`, `|` between replicas), on any host Solr's allow-list takes. Read from
 * the query, a form body and a JSON request's `params`; each collection decided as
 * `GET …/solr/<collection>/select`, each shard as a `GET` of its `select`.
 */
function solrTargetsOf(rawHeaders: readonly string[], url: string, body: ServerBody): IndexTarget[] | Rejection {
  // (Most requests: no Solr path, no URL parsed.)
  const lower = url.toLowerCase();
  if (!lower.includes('/solr') && !lower.includes('/select')) return [];
  if (!/[?&;](?:collection|shards|stmt|expr)=/.test(lower) && !body.captured.length) return [];
  const u = new URL(url);
  const segs = u.pathname.split('/');
  while (segs.length > 1 && segs.at(-1) === '') segs.pop();
  const at = segs.findIndex((x, i) => i > 0 && x.toLowerCase() === 'solr');
  const selectEnd = segs.at(-1)?.toLowerCase() === 'select' && segs.length >= 3;
  if (at < 0 && !selectEnd) return [];
  const root = at >= 0 ? segs.slice(0, at + 1).join('/') : segs.slice(0, -2).join('/');
  const values: Array<[string, unknown]> = [];
  for (const [k, v] of u.searchParams) values.push([k, v]);
  if (body.captured.length) {
    if (body.unreadable) return unreadableBody('a Solr request', body.unreadable);
    let type = '';
    for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'content-type') type ||= rawHeaders[i + 1]!.toLowerCase();
    const text = body.captured.toString('utf8');
    if (/collection|shards|stmt|expr/i.test(text)) {
      if (body.truncated) return refusals.bad('the request body is a Solr request larger than the capture cap: Airlock cannot read which collections it searches');
      if (type.startsWith('application/x-www-form-urlencoded')) values.push(...serverParams(text));
      else {
        const params = parseObject(text)?.params;
        if (params && typeof params === 'object') for (const [k, v] of Object.entries(params)) values.push([k, v]);
      }
    }
  }
  const out = new Map<string, IndexTarget>();
  const handler = segs.at(-1)?.toLowerCase();
  for (const [k, raw] of values) {
    const name = k.toLowerCase();
    // Solr's SQL (`/sql?stmt=SELECT … FROM other`) and streaming expressions (`/stream?expr=search(other, …)`,
    // `update(other, …)`; the `/graph` handler runs them too) name the collections they read and write in their own languages.
    if ((handler === 'sql' && name === 'stmt') || ((handler === 'stream' || handler === 'graph') && name === 'expr')) {
      for (const v of Array.isArray(raw) ? raw : [raw]) {
        if (typeof v !== 'string') return refusals.bad(`the Solr request's ${name} is no text Airlock can read`);
        const sources = name === 'stmt' ? querySources(v, false) : streamCollections(v);
        if (typeof sources === 'string') return refusals.bad(`the Solr ${name === 'stmt' ? 'SQL' : 'streaming expression'} names a collection Airlock cannot read (${sources.slice(0, 80)})`);
        for (const c of sources) {
          const target = new URL(`${root}/${encodeURIComponent(c)}/select`, u).href;
          out.set(target, { method: 'GET', url: target, why: `its ${name === 'stmt' ? 'SQL' : 'streaming expression'} reads or writes collection ${c.slice(0, 100)}` });
        }
      }
      if (out.size > MAX_INDICES) return tooMany('Solr collections');
      continue;
    }
    if (name !== 'collection' && name !== 'shards') continue;
    for (const v of Array.isArray(raw) ? raw : [raw]) {
      if (typeof v !== 'string') return refusals.bad(`the Solr request's ${name} is no text Airlock can read`);
      for (const piece of v.split(name === 'shards' ? /[,|]/ : ',')) {
        const p = piece.trim();
        if (!p) continue;
        let target: string;
        if (name === 'collection') target = new URL(`${root}/${encodeURIComponent(p)}/select`, u).href;
        else {
          const shard = URL.parse(/^https?:\/\//i.test(p) ? p : `http://${p}`);
          if (!shard || !shard.hostname) return refusals.bad(`the Solr request names a shard Airlock cannot read (${JSON.stringify(p.slice(0, 80))})`);
          target = new URL(`${trimTrailing(shard.pathname, '/')}/select`, shard).href;
        }
        out.set(target, { method: 'GET', url: target, why: name === 'collection' ? `its collection parameter searches ${p.slice(0, 100)}` : `its shards parameter queries ${p.slice(0, 160)}` });
        if (out.size > MAX_INDICES) return tooMany('Solr collections and shards');
      }
    }
  }
  return [...out.values()];
}

/**
 * The collections a Solr streaming expression reads or writes: the collection of each stream source
 * and sink (`search(c, …)`, `facet`, `stats`, `random`, `timeseries`, `significantTerms`, `nodes`,
 * `shortestPath`, `topic`, `knn`, `features`, `train`, `update`, `delete`, `commit`, `fetch`,
 * `shuffle`, `model`, `sql`, `parallel`'s worker collection), wherever it stands: a source is most
 * often the first argument of a decorator (`select(search(c, …), …)`, `unique(…)`, `rollup(…)`,
 * `let(a=search(c, …), …)`), and the scan must not consume it while reading the decorator (twenty-
 * eighth pass: `select(search(deny, …))` ran on `deny` undecided). Solr takes the collection as the
 * function's first value operand (`topic`'s second: its first is where it keeps its checkpoints);
 * one that is not a plain word standing alone (quoted, computed, after a named parameter, followed
 * by anything but `,` or `)`) is refused (the string says why), as is a stream that reads another
 * cluster or database than the one asked (`zkHost=`, `jdbc(…)`). A `sql` source's `stmt` names
 * collections in SQL.
 */
const streamFunctions = new Set(['search', 'facet', 'facet2d', 'stats', 'random', 'timeseries', 'significantterms', 'nodes', 'gathernodes', 'shortestpath', 'topic', 'knn', 'knnsearch', 'features', 'train', 'update', 'delete', 'commit', 'drill', 'parallel', 'fetch', 'shuffle', 'model', 'sql']);
function streamCollections(expr: string): string[] | string {
  const out = new Set<string>();
  const elsewhere = /\bzkhost\s*=|\bjdbc\s*\(/i.exec(expr);
  if (elsewhere) return `${elsewhere[0]}…: a stream read from another cluster or database`;
  // Only the name and its `(` are consumed: the next function (a source inside a decorator) is
  // matched in its turn.
  for (const m of expr.matchAll(/([A-Za-z][A-Za-z0-9]{0,40})\s*\(/g)) {
    const fn = m[1]!.toLowerCase();
    if (!streamFunctions.has(fn)) continue;
    let at = m.index + m[0].length;
    for (let k = fn === 'topic' ? 2 : 1; k > 0; k--) {
      const operand = plainOperand(expr, at);
      if (typeof operand === 'string') return JSON.stringify(`${m[0]}${operand}`.slice(0, 80));
      out.add(operand.name);
      at = operand.next;
    }
    if (out.size > MAX_INDICES) break;
  }
  for (const m of expr.matchAll(/\bstmt\s*=\s*"([^"]{0,65536})"/gi)) {
    const sources = querySources(m[1]!, false);
    if (typeof sources === 'string') return sources;
    for (const c of sources) out.add(c);
  }
  return [...out];
}

/** A streaming expression's operand at `at` when it is a plain word standing alone (then the index past its `,`), else what stands there. */
function plainOperand(expr: string, at: number): { name: string; next: number } | string {
  while (at < expr.length && /\s/.test(expr[at]!)) at++;
  const start = at;
  while (at < expr.length && at - start <= 256 && !/[\s,()]/.test(expr[at]!)) at++;
  const name = expr.slice(start, at);
  while (at < expr.length && /\s/.test(expr[at]!)) at++;
  const after = expr[at];
  if (!/^[\w.-]{1,256}$/.test(name) || (after !== ',' && after !== ')')) return expr.slice(start, start + 40);
  return { name, next: at + 1 };
}

/** An index (or alias) a body or path acts on, decided as `method url`. */
interface IndexTarget {
  method: string;
  url: string;
  why: string;
}

/**
 * The index a `_bulk` endpoint's path names (`/logs/_bulk`), null for `/_bulk`; undefined for any
 * other path (or one the readers refuse): the bulks whose lines proxy/bulk-tail.ts reads as they leave.
 */
export function bulkPathIndex(url: string): string | null | undefined {
  const path = new URL(routedUrl(url)).pathname;
  if (!/\/_bulk\/*$/.test(path)) return undefined;
  const segs = path.split('/').filter(Boolean);
  if (segs.length > 2) return undefined;
  try {
    return segs.length === 2 ? decodeURIComponent(segs[0]!) : null;
  } catch {
    return undefined;
  }
}

/**
 * Other indices an Elasticsearch/OpenSearch body acts on than its path names:
 * - `_bulk`, `_msearch`, `_msearch/template`, `_mget`, `_mtermvectors`: an action line's `_index`
 *   (`{"delete": {"_index": "users", "_id": "1"}}` in a bulk to `/logs/_bulk`), a search header's
 *   `index`, a document's `_index` override the path's; each is decided as the same endpoint under
 *   that index (`POST /users/_bulk`);
 * - `_reindex` reads its source indices and writes its destination's: a search there, a bulk there;
 * - `_aliases` runs its actions as the one-action APIs do: `add` as `PUT /<index>/_alias/<alias>`
 *   (pointing an allowed name at an index the policy denies makes every read of the name a read of
 *   it), `remove` as `DELETE /<index>/_alias/<alias>`, `remove_index` as `DELETE /<index>`.
 * A comma-separated list (`"index": "logs,users"`) is each of its indices, as the server splits it.
 * Lines that are not JSON objects are left to the server, which refuses them. Only the captured
 * body is read.
 */
function otherIndices(requestUrl: string, body: ServerBody): IndexTarget[] | Rejection {
  // Most requests: a path that names no such endpoint (no URL parsed, no body read for them).
  // Elasticsearch splits its raw path as Java's `split("/")` does, which drops trailing empty
  // segments: `/logs/_bulk/` is the bulk endpoint.
  if (!/\/_(?:bulk|msearch|mget|mtermvectors|reindex|aliases|msearch\/template)\/*(?:[?#]|$)/.test(requestUrl)) return [];
  // (A bulk decoding past what is read here is read decoded as it leaves: proxy/bulk-tail.ts.)
  if (body.unreadable && body.tooLarge && bulkPathIndex(requestUrl) !== undefined) return [];
  if (body.unreadable) return unreadableBody('an Elasticsearch body naming indices', body.unreadable);
  if (!body.captured.length) return [];
  const u = new URL(requestUrl);
  const segs = u.pathname.split('/').filter(Boolean);
  const template = segs.at(-1) === 'template' && segs.at(-2) === '_msearch';
  if (template) segs.splice(-2, 2, '_msearch/template');
  const endpoint = segs.at(-1);
  const target = (method: string, path: string, why: string): IndexTarget => ({ method, url: new URL(path, u).href, why });
  const names = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).flatMap((i) => (typeof i === 'string' ? i.split(',') : [])).map((i) => i.trim()).filter(Boolean);
  const seg = encodeURIComponent;
  if (endpoint === '_reindex' && segs.length === 1) {
    const o = parseObject(body.captured.toString('utf8'));
    const source = o?.source as { index?: unknown; remote?: { host?: unknown } } | undefined;
    const dest = o?.dest as { index?: unknown } | undefined;
    // Reindex from a remote cluster: the server itself reads `remote.host`, another origin.
    let from = u.origin;
    if (source?.remote !== undefined) {
      const host = source.remote?.host;
      try {
        if (typeof host !== 'string' || !/^https?:\/\/[^/]/i.test(host)) throw new Error('no URL');
        from = new URL(host).origin;
      } catch {
        return refusals.bad('the _reindex reads from a remote cluster whose host is not one readable URL');
      }
    }
    // A reindex script may send each document elsewhere (`ctx._index = 'users'`).
    const scripted = scriptIndices(o?.script);
    if (typeof scripted === 'string') return refusals.bad(`the _reindex script ${scripted}`);
    const reindexed = [
      ...names(source?.index).map((i) => ({ ...target('POST', `/${seg(i)}/_search`, `its _reindex reads index ${i.slice(0, 100)}${from === u.origin ? '' : ` on ${from.slice(0, 100)}`}`), url: new URL(`/${seg(i)}/_search`, from).href })),
      ...[...names(dest?.index), ...scripted].map((i) => target('POST', `/${seg(i)}/_bulk`, `its _reindex writes index ${i.slice(0, 100)}`)),
    ];
    return reindexed.length > MAX_INDICES ? tooMany('indices in its _reindex') : reindexed;
  }
  if (endpoint === '_aliases' && segs.length === 1) {
    const actions = parseObject(body.captured.toString('utf8'))?.actions;
    const out: IndexTarget[] = [];
    if (Array.isArray(actions) && actions.length > MAX_INDICES) return tooMany('_aliases actions');
    for (const action of Array.isArray(actions) ? actions : []) {
      if (!action || typeof action !== 'object') continue;
      for (const [verb, spec] of Object.entries(action as Record<string, unknown>)) {
        if (!spec || typeof spec !== 'object') continue;
        const a = spec as { index?: unknown; indices?: unknown; alias?: unknown; aliases?: unknown };
        const indices = [...names(a.index), ...names(a.indices)];
        const aliases = [...names(a.alias), ...names(a.aliases)];
        for (const i of indices) {
          if (verb === 'remove_index') out.push(target('DELETE', `/${seg(i)}`, `its _aliases remove_index deletes index ${i.slice(0, 100)}`));
          for (const alias of verb === 'remove_index' ? [] : aliases.length ? aliases : ['*']) {
            const how = verb === 'remove' ? 'DELETE' : 'PUT';
            out.push(target(how, `/${seg(i)}/_alias/${seg(alias)}`, `its _aliases ${verb.slice(0, 20)} names index ${i.slice(0, 100)} as ${alias.slice(0, 100)}`));
          }
        }
      }
    }
    return out.length > MAX_INDICES * 4 ? tooMany('indices and aliases in its _aliases actions', MAX_INDICES * 4) : out;
  }
  if (endpoint === undefined || !multiIndex.has(endpoint) || segs.length > 2) return [];
  const own = segs.length === 2 ? decodeURIComponent(segs[0]!) : undefined;
  const named = new Set<string>();
  const add = (v: unknown): void => {
    for (const i of names(v)) if (i !== own) named.add(i);
  };
  const text = body.captured.toString('utf8');
  if (endpoint === '_mget' || endpoint === '_mtermvectors') {
    const docs = parseObject(text)?.docs;
    if (Array.isArray(docs)) for (const d of docs) add(d && typeof d === 'object' ? (d as { _index?: unknown })._index : undefined);
  } else {
    // Line by line as the server reads them (BulkRequestParser, MultiSearchRequest), so that the
    // readers cannot be put out of step with it: a blank line is skipped only where the server
    // skips it, an action is the line's first member (what follows it is never read), and a line
    // the server would read otherwise than JSON.parse (a comment, Jackson's ALLOW_COMMENTS) is refused.
    let header = true;
    const lines = text.split('\n');
    for (const [n, line] of lines.entries()) {
      if (endpoint !== '_bulk') {
        // A search header names its indices as `index` or `indices` (MultiSearchRequest reads both);
        // a blank header is the defaults (the path's index) and a blank line after it its body.
        if (n === 0 && line === '') continue;
        if (header && line.trim()) {
          const o = parseObject(line);
          if (!o) return refusals.bad(`the ${endpoint} body has a header line Airlock cannot read as JSON (line ${n + 1})`);
          (add(o.index), add(o.indices));
        }
        header = !header;
        continue;
      }
      if (!header) {
        // The document line after an action, whatever it holds (a blank one too).
        header = true;
        continue;
      }
      const action = bulkAction(line);
      if (action === 'blank') continue;
      if (action === undefined) {
        // A cut last line (the capture cap) is the bulk tail watch's to read.
        if (n === lines.length - 1 && body.truncated) break;
        return refusals.bad(`the _bulk body has an action line Airlock cannot read as the server does (line ${n + 1}): it cannot tell which index it acts on`);
      }
      add(action.index);
      // Every verb but `delete` is followed by its document (or partial document) line.
      header = action.verb === 'delete';
    }
  }
  if (named.size > MAX_INDICES) return tooMany(`indices in its ${endpoint} body`);
  return [...named].map((index) => target('POST', `/${seg(index)}/${endpoint}`, `its ${endpoint} body acts on index ${index.slice(0, 100)}`));
}

/**
 * A bulk action line as Elasticsearch's BulkRequestParser reads it: its first member's name and,
 * when that member's value is an object, its `_index` (what follows the first member is never
 * read: `{"delete": {"_index": "deny"}, "delete": {"_index": "ok"}}` deletes in deny, and
 * `{"delete": {…}, "0": 1}` is a delete though JavaScript lists `"0"` first); `'blank'` for a
 * line the server skips; undefined for one Airlock cannot read so (a comment, no object).
 */
export function bulkAction(line: string): { verb: string; index: unknown } | 'blank' | undefined {
  if (!/[^ \t\r]/.test(line)) return 'blank';
  const m = /^[ \t\r]*\{[ \t\r]*("(?:[^"\\]|\\.)*")[ \t\r]*:[ \t\r]*/.exec(line);
  if (!m) return undefined;
  let verb: unknown;
  let meta: unknown;
  try {
    verb = JSON.parse(m[1]!);
    const end = jsonValueEnd(line, m[0].length);
    if (end < 0) return undefined;
    meta = JSON.parse(line.slice(m[0].length, end));
  } catch {
    return undefined;
  }
  if (typeof verb !== 'string') return undefined;
  return { verb, index: meta && typeof meta === 'object' && !Array.isArray(meta) ? (meta as { _index?: unknown })._index : undefined };
}

/** Where the JSON value starting at `at` ends (an object, array or string by its brackets and quotes; a literal at its delimiter); -1 when it does not. */
function jsonValueEnd(text: string, at: number): number {
  const first = text[at];
  if (first !== '{' && first !== '[' && first !== '"') {
    const stop = text.slice(at).search(/[,}\] \t\r]/);
    return stop < 0 ? -1 : at + stop;
  }
  let depth = 0;
  let inString = false;
  for (let i = at; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') {
        inString = false;
        if (depth === 0) return i + 1;
      }
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * The indices a Painless script sends documents to by assigning a literal to `ctx._index`
 * (`ctx._index = 'users'`, `ctx['_index'] = "users"`); a string saying why when it names
 * `_index` any other way (a computed name, a comparison Airlock does not tell apart) or runs a
 * stored script whose text Airlock never saw (`{"id": …}` with nothing else readable).
 */
function scriptIndices(script: unknown): string[] | string {
  if (script === undefined || script === null) return [];
  const s = script as { source?: unknown; inline?: unknown; id?: unknown };
  const text = typeof script === 'string' ? script : typeof s.source === 'string' ? s.source : typeof s.inline === 'string' ? s.inline : undefined;
  // A stored script (`{"id": …}`) may assign `ctx._index` too; its text was never part of a request
  // Airlock decided where it acts (stored by anyone, before or after).
  if (text === undefined) return typeof s.id === 'string' ? 'runs a stored script whose text Airlock cannot read: it cannot tell where it sends documents; send the script inline' : 'is not one readable script';
  if (!text.includes('_index')) return [];
  const out: string[] = [];
  // A literal that ends the statement (`'x-' + ctx._source.t` is computed).
  const assigned = /ctx\s*(?:\.\s*_index|\[\s*(['"])_index\1\s*\])\s*=(?!=)\s*(['"])([^'"\\]*)\2(?=\s*(?:[;}]|$))/g;
  let named = 0;
  for (const m of text.matchAll(assigned)) (out.push(m[3]!), named++);
  if (named !== text.split('_index').length - 1) return 'names _index otherwise than by assigning it a literal: Airlock cannot tell where it sends documents';
  return out.flatMap((i) => i.split(',')).map((i) => i.trim()).filter(Boolean);
}

/**
 * An ingest pipeline (`PUT /_ingest/pipeline/<id>`) that routes each document it processes into
 * another index: a `set` of `_index`, a `reroute` processor's `destination`, a script assigning
 * `ctx._index`. Every later index or bulk request naming the pipeline writes there, so creating it
 * is decided as a bulk into each index it names; one whose index is computed (a `{{template}}`,
 * `copy_from`, a `rename` onto `_index`, a `reroute` without a destination) is refused.
 */
function pipelineIndices(method: string, requestUrl: string, body: ServerBody): IndexTarget[] | Rejection {
  if (method.toUpperCase() !== 'PUT' || !/\/_ingest\/pipeline\/[^/?#_][^/?#]*\/*(?:[?#]|$)/.test(requestUrl)) return [];
  if (body.unreadable) return unreadableBody('an ingest pipeline', body.unreadable);
  if (!body.captured.length) return [];
  const text = body.captured.toString('utf8');
  if (!text.includes('_index') && !text.includes('reroute') && !text.includes('script') && !text.includes('\\u')) return [];
  const root = parseObject(text);
  if (!root) return [];
  const u = new URL(requestUrl);
  const indices = new Set<string>();
  for (const v of objectsIn(root)) {
    for (const [k, spec] of Object.entries(v)) {
      const p = (spec && typeof spec === 'object' ? spec : {}) as { field?: unknown; value?: unknown; copy_from?: unknown; target_field?: unknown; destination?: unknown; source?: unknown };
      if (k === 'set' && p.field === '_index') {
        if (typeof p.value !== 'string' || p.value.includes('{{') || p.copy_from !== undefined) return refusals.bad('the ingest pipeline sets _index to a value computed per document: Airlock cannot tell where it writes');
        indices.add(p.value);
      } else if (k === 'rename' && p.target_field === '_index') return refusals.bad('the ingest pipeline renames a field onto _index: Airlock cannot tell where it writes');
      else if (k === 'reroute') {
        if (typeof p.destination !== 'string' || p.destination.includes('{{')) return refusals.bad('the ingest pipeline reroutes documents to a data stream computed per document: Airlock cannot tell where it writes');
        indices.add(p.destination);
      } else if (k === 'script' && (typeof spec === 'string' || typeof p.source === 'string' || (spec && typeof spec === 'object' && 'id' in spec))) {
        const scripted = scriptIndices(spec);
        if (typeof scripted === 'string') return refusals.bad(`the ingest pipeline's script ${scripted}`);
        for (const i of scripted) indices.add(i);
      }
    }
    if (indices.size > MAX_INDICES) return refusals.bad(`the ingest pipeline routes documents into more than ${MAX_INDICES} indices`);
  }
  return [...indices].map((i) => ({ method: 'POST', url: new URL(`/${encodeURIComponent(i)}/_bulk`, u).href, why: `its ingest pipeline writes every document it processes into index ${i.slice(0, 100)}` }));
}

/**
 * A path whose first segment names indices as Elasticsearch/OpenSearch route it: alone, or before
 * an `_endpoint` segment (`/a,b/_search`; `DELETE /a,b` deletes both, `GET /a,b/` reads both's
 * settings). That segment decoded, and the path after it.
 */
function indexPath(requestUrl: string): { u: URL; first: string; rest: string } | undefined {
  const u = new URL(requestUrl);
  const segs = u.pathname.split('/');
  if (segs.length < 2 || (segs.length > 2 && segs[2] !== '' && !segs[2]!.startsWith('_'))) return undefined;
  try {
    return { u, first: decodeURIComponent(segs[1]!), rest: segs.length > 2 ? `/${segs.slice(2).join('/')}` : '' };
  } catch {
    return undefined;
  }
}

/**
 * Elasticsearch/OpenSearch resolve date math in an index name (`<logs-{now/d}>`, sent escaped:
 * `GET /%3Cusers-%7Bnow%7D%3E/_search` searches `users-2026.12.06`), which a policy reading the path
 * sees as `/%3Cusers…`. Each such name (alone or in a comma list, in the path's first segment before
 * an `_endpoint` or alone) is decided as the same request under its static part (`/users-/_search`);
 * one with none (`<{now}>`) is refused. A bulk or search line naming one is read so too, as the
 * second target it makes.
 */
function dateMathIndicesOf(method: string, requestUrl: string): IndexTarget[] | Rejection {
  if (!/%3C/i.test(requestUrl) && !requestUrl.includes('<')) return [];
  const path = indexPath(requestUrl);
  if (!path) return [];
  const { u, first, rest } = path;
  const out: IndexTarget[] = [];
  const items = first.split(',');
  if (items.length > MAX_INDICES) return tooMany('indices in its path');
  for (const item of items) {
    const name = item.trim().replace(/^-/, '');
    if (!name.startsWith('<') || !name.endsWith('>') || !name.includes('{')) continue;
    const prefix = name.slice(1, name.indexOf('{'));
    if (!prefix || /[<>]/.test(prefix)) return refusals.bad(`the path names an index by date math with no static part Airlock can decide (${JSON.stringify(name.slice(0, 80))})`);
    out.push({ method, url: new URL(`/${encodeURIComponent(prefix)}${rest}${u.search}`, u).href, why: `its path names index ${name.slice(0, 100)}, which the server resolves by date under ${prefix.slice(0, 100)}` });
  }
  return out;
}

/**
 * Elasticsearch/OpenSearch read a comma in a path's first segment as a list of targets
 * (`GET /logs,users/_search`, `/logs%2Cusers/_count`, `DELETE /logs,users`): a policy reading the
 * path's start judged a search of `logs` while the server searched `users` too. Each is decided as
 * the request under it alone (`GET /users/_search`). Only a list alone or before an `_endpoint`
 * segment is read so.
 */
function indexListOf(method: string, requestUrl: string): IndexTarget[] | Rejection {
  if (!requestUrl.includes(',') && !/%2c/i.test(requestUrl)) return [];
  const path = indexPath(requestUrl);
  if (!path) return [];
  const { u, first, rest } = path;
  const list = first.split(',').map((i) => i.trim()).filter(Boolean);
  if (list.length < 2) return [];
  if (list.length > MAX_INDICES) return tooMany('indices in its path');
  return list.map((i) => ({ method, url: new URL(`/${encodeURIComponent(i)}${rest}${u.search}`, u).href, why: `its path names index ${i.slice(0, 100)} in a list` }));
}

/**
 * Elasticsearch's SQL (`POST /_sql`) and ES|QL (`POST /_query`), OpenSearch's SQL and PPL
 * (`/_plugins/_sql`, `/_plugins/_ppl`, `/_opendistro/_sql`) read the indices their `query` names
 * (`SELECT * FROM users`, `FROM users | LIMIT 10`, `source=users`), none of which is in the path:
 * each is decided as a search of it (`GET /users/_search`). The sources after `FROM`, `JOIN`
 * (`LOOKUP JOIN`), `DESCRIBE`, ES|QL's `TS`/`METRICS` and PPL's `source=` are read outside strings and
 * comments, quoted or not, in lists; a source Airlock cannot read there is refused.
 */
function queryIndices(requestUrl: string, body: ServerBody): IndexTarget[] | Rejection {
  if (!/\/_(?:sql|query|ppl)(?:[/?#]|$)/.test(requestUrl)) return [];
  const u = new URL(requestUrl);
  const segs = u.pathname.split('/').filter(Boolean);
  const at = segs[0] === '_plugins' || segs[0] === '_opendistro' ? 1 : 0;
  if (!['_sql', '_query', '_ppl'].includes(segs[at] ?? '') || (at === 0 && segs[0] === '_ppl')) return [];
  if (body.unreadable) return unreadableBody('a query naming indices', body.unreadable);
  const fromQuery = u.searchParams.get('query') ?? undefined;
  const query = body.captured.length ? parseObject(body.captured.toString('utf8'))?.query : fromQuery;
  if (typeof query !== 'string') return [];
  if (body.truncated) return refusals.bad('the request body is a query larger than the capture cap: Airlock cannot read every index it names');
  const sources = querySources(query, segs[at] === '_ppl', segs[at] === '_query');
  if (typeof sources === 'string') return refusals.bad(`the query names a source Airlock cannot read (${sources}): it cannot decide which indices it reads`);
  if (sources.length > MAX_INDICES) return tooMany('sources in its query');
  return sources.map((i) => ({ method: 'GET', url: new URL(`/${encodeURIComponent(i)}/_search`, u).href, why: `its query reads index ${i.slice(0, 100)}` }));
}

/**
 * Elasticsearch APIs that set up a job copying indices the body names (not the path): a transform
 * (`PUT /_transform/<id>`, `_preview`: `source.index` read, `dest.index` written), an enrich policy
 * (`PUT /_enrich/policy/<name>`: its `indices` read into an enrich index every `ENRICH` reads), a
 * machine-learning datafeed (`indices`), a rollup job (`index_pattern` read, `rollup_index`
 * written), a snapshot restore (`POST /_snapshot/<repo>/<snap>/_restore`: `indices` brought back,
 * renamed into readable ones) or creation (`PUT /_snapshot/<repo>/<snap>`: `indices` copied out). Each source is decided as a search of it, each destination as a bulk.
 */
function jobIndices(requestUrl: string, body: ServerBody): IndexTarget[] | Rejection {
  const m = /\/(_transform|_enrich\/policy|_ml\/datafeeds|_rollup\/job|_snapshot)\/[^?#]+/.exec(requestUrl);
  if (!m) return [];
  if (body.unreadable) return unreadableBody('an Elasticsearch job naming indices', body.unreadable);
  if (!body.captured.length) return [];
  const u = new URL(requestUrl);
  // A snapshot restore brings its `indices` back; creating one (`PUT /_snapshot/<repo>/<snap>`,
  // `…/_create`) reads its `indices` into the repository, where a restore or another cluster
  // reading the repository gets them: both read the indices named.
  const snap = m[1] === '_snapshot' ? u.pathname.split('/').filter(Boolean) : undefined;
  if (snap && !u.pathname.endsWith('/_restore') && !(snap.length === 3 || (snap.length === 4 && snap[3] === '_create'))) return [];
  const o = parseObject(body.captured.toString('utf8'));
  if (!o) return [];
  const names = (v: unknown): string[] => (Array.isArray(v) ? v : [v]).flatMap((i) => (typeof i === 'string' ? i.split(',') : [])).map((i) => i.trim()).filter(Boolean);
  const read: unknown[] = [];
  const written: unknown[] = [];
  const source = o.source as { index?: unknown } | undefined;
  const dest = o.dest as { index?: unknown } | undefined;
  if (m[1] === '_transform') (read.push(source?.index), written.push(dest?.index));
  else if (m[1] === '_enrich/policy') for (const kind of ['match', 'range', 'geo_match']) read.push((o[kind] as { indices?: unknown } | undefined)?.indices);
  else if (m[1] === '_rollup/job') (read.push(o.index_pattern), written.push(o.rollup_index));
  else read.push(o.indices);
  const out: IndexTarget[] = [];
  for (const i of read.flatMap(names)) out.push({ method: 'POST', url: new URL(`/${encodeURIComponent(i)}/_search`, u).href, why: `its ${m[1]} reads index ${i.slice(0, 100)}` });
  for (const i of written.flatMap(names)) out.push({ method: 'POST', url: new URL(`/${encodeURIComponent(i)}/_bulk`, u).href, why: `its ${m[1]} writes index ${i.slice(0, 100)}` });
  return out.length > MAX_INDICES ? tooMany(`indices in its ${m[1]}`) : out;
}

/**
 * Elasticsearch/OpenSearch queries that read a document of another index than the path's: a
 * `terms` lookup (`{"terms": {"user": {"index": "users", "id": "2", "path": "followers"}}}`), a
 * `geo_shape`/`shape` `indexed_shape`, a `percolate` of a stored document (`index`, `id`), and
 * `more_like_this` `like`/`unlike` items, `pinned` docs and rank-eval ratings (`_index`, `_id`): a
 * search of an allowed index matched, scored or returned by what the named document holds. Each
 * is decided as a read of it (`GET /<index>/_doc/<id>`, or a search of the index without an id).
 * Read in the bodies of search-like endpoints only, every line of an `_msearch`.
 */
function lookedUpDocuments(requestUrl: string, body: ServerBody): IndexTarget[] | Rejection {
  // (Also where a body carries a query: SQL's and ES|QL's `filter`, EQL's, a reindex's `source.query`, field caps' `index_filter`.)
  // (And search templates, inline or stored: `_search/template`, `_render/template`, `PUT /_scripts/<id>`.)
  // (Twenty-sixth pass: and an index's mapping, whose lookup runtime fields every later search runs,
  // also as an index is created with it, `PUT /<index>` with `mappings.runtime`: read there only for
  // a lookup field, as other APIs' bodies on a one-segment path are no Elasticsearch query.)
  const created = !/\/_(?:search|count|delete_by_query|update_by_query|explain|validate|async_search|msearch|knn_search|rank_eval|termvectors|sql|query|eql|reindex|field_caps|render|scripts|mapping|mappings)(?:[/?#]|$)/.test(requestUrl);
  if (created && !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*\/[^/?#_][^/?#]*\/?(?:[?#]|$)/i.test(requestUrl)) return [];
  if (created && (!body.captured.length || !body.captured.includes('"target_index"'))) return [];
  if (body.unreadable) return unreadableBody('an Elasticsearch query', body.unreadable);
  if (!body.captured.length) return [];
  const text = body.captured.toString('utf8');
  const u = new URL(requestUrl);
  const templates = /\/_(?:search|msearch|render)\/template(?:\/|$)/.test(u.pathname) ? 'any' : /\/_scripts\//.test(u.pathname) ? 'mustache' : undefined;
  // (A template run by id: its stored text is read nowhere here, its params are; see storedRunIndices.)
  const runsStored = templates === 'any' && /\/_(?:search|msearch)\/template(?:\/|$)/.test(u.pathname) && /"id"|\\u/.test(text);
  // A template's member names and raw insertions come from its params (eighteenth pass): read
  // before the quick look below, which sees only the text as sent.
  if (templates && text.includes('{{') && body.truncated) return refusals.bad('the request body is a search template larger than the capture cap: Airlock cannot read what it renders to');
  // Most queries name no other document: no walk without the keys one needs (a template's
  // source as a JSON string writes them `\"index\"`).
  if (!/"(?:_|target_)?index\\?"/.test(text) && !text.includes('\\u') && !(templates && text.includes('{{')) && !runsStored) return [];
  if (body.truncated) return refusals.bad('the request body is an Elasticsearch query larger than the capture cap that names an index: Airlock cannot read every document it looks up');
  const found = new Map<string, IndexTarget>();
  const roots: unknown[] = [];
  for (const line of /\/_msearch/.test(u.pathname) ? text.split('\n') : [text]) {
    if (!line.trim()) continue;
    try {
      roots.push(JSON.parse(line));
    } catch {
      /* not JSON: the server refuses it */
    }
  }
  // A search template's source (seventeenth pass): the query the server renders from it, read as
  // one. Given as a JSON string, it is parsed; one whose index the template computes (`{{…}}`), or
  // a string that is no JSON before rendering and names an index, cannot be read and is refused.
  // Eighteenth pass: an inline template is rendered with its params as the server renders it
  // (renderedTemplate): `"{{k}}": "deny"` with `k: index`, or `{{{q}}}` with a JSON text, rendered
  // to a lookup of deny that no written member named. A stored one (no params yet) with a tag in a
  // member name or a raw insertion (`{{{q}}}`, `{{& q}}`) is refused; one run by id has the JSON
  // its params carry as text read too.
  for (let k = 0; templates && k < roots.length && k < 64; k++) {
    for (const o of objectsIn(roots[k])) {
      if (o.params && typeof o.params === 'object') {
        for (const p of objectsIn(o.params)) {
          for (const v of Object.values(p)) {
            // (Only text quoting the member as JSON does: a word `index` in a search phrase is no lookup.)
            if (typeof v !== 'string' || !/"_?index\\?"/.test(v)) continue;
            try {
              roots.push(JSON.parse(v));
            } catch {
              return refusals.bad('the request carries a search template param holding JSON text that names an index: Airlock cannot tell which documents the rendered query looks up');
            }
          }
        }
      }
      const source = o.source ?? o.inline ?? o.template;
      if (runsStored && source === undefined && (typeof o.id === 'string' || typeof o.id === 'number')) {
        const refused = storedRunIndices(String(o.id), o.params, u, found);
        if (refused) return refused;
      }
      // (A stored Painless script's source is no template: only a mustache one is stored as one.)
      if (source === undefined || (templates === 'mustache' && o.lang !== 'mustache')) continue;
      const written = typeof source === 'string' ? source : JSON.stringify(source);
      if (written.includes('{{')) {
        const rendered = templates === 'any' ? renderedTemplate(written, o.params) : undefined;
        if (rendered !== undefined) {
          try {
            roots.push(JSON.parse(rendered));
            continue;
          } catch {
            /* read as written, below */
          }
        } else if (/\{\{\s*[{&]/.test(written) || tagInMemberName(written)) {
          return refusals.bad('the request carries a search template whose member names or raw insertions come from its params: Airlock cannot tell which documents the query it renders to looks up');
        }
      }
      if (typeof source !== 'string' || !/_?index/.test(source)) continue;
      try {
        roots.push(JSON.parse(source));
      } catch {
        return refusals.bad('the request carries a search template whose source Airlock cannot read before the server renders it, and it names an index: Airlock cannot tell which documents it looks up');
      }
    }
  }
  for (const o of objectsIn(...roots)) {
    // A lookup runtime field (twenty-sixth pass; Elasticsearch 8.2+): `{"type": "lookup", "target_index": "users", "fetch_fields": […]}`
    // in a search's `runtime_mappings` or an index's mapping returns fields of the documents of
    // `target_index` it matches, for every hit.
    if (o.type === 'lookup' && o.target_index !== undefined) {
      if (typeof o.target_index !== 'string' || o.target_index.includes('{{')) return refusals.bad('the request carries a lookup runtime field whose target index Airlock cannot read');
      for (const i of o.target_index.split(',').map((x) => x.trim()).filter(Boolean)) {
        const path = `/${encodeURIComponent(i)}/_search`;
        found.set(path, { method: 'GET', url: new URL(path, u).href, why: `its lookup runtime field reads index ${i.slice(0, 100)}` });
      }
      if (found.size > MAX_BATCH_CALLS) return refusals.bad(`the Elasticsearch query looks up more than ${MAX_BATCH_CALLS} documents of other indices`);
    }
    const index = typeof o._index === 'string' ? o._index : typeof o.index === 'string' && o.id !== undefined ? o.index : undefined;
    if (index?.includes('{{')) return refusals.bad('the request carries a search template that computes the index of a document it looks up: Airlock cannot tell which index it reads');
    const id = o._index !== undefined ? o._id : o.id;
    if (index !== undefined) {
      for (const i of index.split(',').map((x) => x.trim()).filter(Boolean)) {
        const path = typeof id === 'string' || typeof id === 'number' ? `/${encodeURIComponent(i)}/_doc/${encodeURIComponent(String(id))}` : `/${encodeURIComponent(i)}/_search`;
        found.set(path, { method: 'GET', url: new URL(path, u).href, why: `its query reads a document of index ${i.slice(0, 100)}` });
        if (found.size > MAX_BATCH_CALLS) return refusals.bad(`the Elasticsearch query looks up more than ${MAX_BATCH_CALLS} documents of other indices`);
      }
    }
  }
  return [...found.values()];
}

/**
 * A search template run by id (twenty-first pass, left open since the seventeenth): its stored text
 * is not read here (stored before Airlock ran, or by another client), and a stored template that
 * takes a lookup's index from a param (`"index": "{{i}}"`, run with `params: {i: "deny"}`) read a
 * document of deny while the policy saw a search of the path's index. Each param value that could
 * be an index name (Elasticsearch's rules: lower case, none of `\ / * ? " < > | , #` or blanks; a
 * comma list is each of its names) is decided as a read of that index, into `found`; more than
 * MAX_INDICES are refused. What a stored template names itself stays unread.
 */
function storedRunIndices(id: string, params: unknown, u: URL, found: Map<string, IndexTarget>): Rejection | undefined {
  const stack = [params];
  for (let seen = 0; stack.length && seen < 10_000; seen++) {
    const v = stack.pop();
    if (v && typeof v === 'object') {
      for (const x of Object.values(v as Record<string, unknown>)) stack.push(x);
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'number') continue;
    for (const name of String(v).split(',')) {
      if (!/^[^-_+A-Z\\/*?"<>| ,#\s][^A-Z\\/*?"<>| ,#\s]{0,254}$/.test(name) || name === '.' || name === '..') continue;
      const path = `/${encodeURIComponent(name)}/_search`;
      found.set(path, { method: 'GET', url: new URL(path, u).href, why: `its template stored as ${id.slice(0, 60)} may look up a document of index ${name.slice(0, 100)}, a param's value` });
      if (found.size > MAX_INDICES) return tooMany('names of indices in the params of a template run by id');
    }
  }
  return undefined;
}

/**
 * A mustache template rendered with its params as Elasticsearch renders one in a JSON template:
 * `{{name}}` JSON-escaped, `{{{name}}}` and `{{& name}}` raw, `{{#toJson}}name{{/toJson}}` as JSON,
 * `{{#join}}name{{/join}}` joined by commas; dotted names walk the params. Undefined for any other
 * tag (sections, partials, delimiter changes): not rendered here.
 */
function renderedTemplate(template: string, params: unknown): string | undefined {
  const value = (name: string): unknown => {
    let v: unknown = params;
    for (const part of name.trim().split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
    return v;
  };
  const text = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  let out = '';
  let at = 0;
  for (let open = template.indexOf('{{'); open >= 0; open = template.indexOf('{{', at)) {
    out += template.slice(at, open);
    const raw = template[open + 2] === '{';
    const close = template.indexOf(raw ? '}}}' : '}}', open + 2);
    if (close < 0) return undefined;
    const tag = template.slice(open + (raw ? 3 : 2), close).trim();
    at = close + (raw ? 3 : 2);
    const fn = /^#(toJson|join)$/.exec(tag);
    if (fn) {
      const end = template.indexOf(`{{/${fn[1]}}}`, at);
      if (end < 0) return undefined;
      const v = value(template.slice(at, end));
      out += fn[1] === 'toJson' ? JSON.stringify(v ?? null) : Array.isArray(v) ? v.map(text).join(',') : text(v);
      at = end + fn[1]!.length + 5;
    } else if (raw || tag.startsWith('&')) out += text(value(raw ? tag : tag.slice(1)));
    else if (/^[\w.-]+$/.test(tag)) out += JSON.stringify(text(value(tag))).slice(1, -1);
    else return undefined;
  }
  return out + template.slice(at);
}

/** Whether a JSON-like text has a member name holding a mustache tag (`"{{k}}": …`), scanned linearly. */
function tagInMemberName(text: string): boolean {
  for (let i = text.indexOf('"'); i >= 0; ) {
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    if (j >= text.length) return false;
    let k = j + 1;
    while (text[k] === ' ' || text[k] === '\t' || text[k] === '\n' || text[k] === '\r') k++;
    if (text[k] === ':' && text.slice(i + 1, j).includes('{{')) return true;
    i = text.indexOf('"', j + 1);
  }
  return false;
}

/** A query's tokens: words (runs without blanks, quotes or `,|();[]`), quoted names, strings, punctuation; comments left out. */
function queryTokens(text: string): Array<{ kind: 'word' | 'name' | 'string' | 'punct'; text: string }> {
  const out: Array<{ kind: 'word' | 'name' | 'string' | 'punct'; text: string }> = [];
  let i = 0;
  while (i < text.length && out.length < 20_000) {
    const c = text[i]!;
    if (/\s/.test(c)) i++;
    else if ((c === '-' && text[i + 1] === '-') || (c === '/' && text[i + 1] === '/')) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === "'" || c === '"' || c === '`') {
      // Quoted: a doubled quote is the quote itself; `\` escapes in strings.
      let j = i + 1;
      let value = '';
      for (; j < text.length; j++) {
        if (text[j] === '\\' && c === "'") (value += text[j + 1] ?? ''), j++;
        else if (text[j] === c && text[j + 1] === c) (value += c), j++;
        else if (text[j] === c) break;
        else value += text[j];
      }
      out.push({ kind: c === "'" ? 'string' : 'name', text: value });
      i = j + 1;
    } else if (',|();[]'.includes(c)) (out.push({ kind: 'punct', text: c }), i++);
    else {
      let j = i;
      while (j < text.length && !/[\s,|();'"`[\]]/.test(text[j]!) && !(text[j] === '/' && (text[j + 1] === '*' || text[j + 1] === '/'))) j++;
      out.push({ kind: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** The indices a SQL, ES|QL or PPL text reads, or what could not be read. */
function querySources(text: string, ppl: boolean, esql = false): string[] | string {
  const tokens = queryTokens(text);
  const out = new Set<string>();
  const add = (name: string): void => {
    for (const i of name.split(',')) if (i.trim()) out.add(i.trim());
  };
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== 'word') continue;
    const w = t.text.toLowerCase();
    // PPL names its sources in every search: first (`source=users | …`, `search source = a,b`),
    // after conditions (`search level="error" source=users`), and in each subsearch (`[ source=users
    // ]` of a join, `appendcol`, `in`, `exists`); `index=` alike. Only the first must be read.
    if (ppl && /^(?:source|index)(?:=|$)/i.test(t.text)) {
      const lead = k === 0 || (k === 1 && tokens[0]!.text.toLowerCase() === 'search');
      const eq = t.text.indexOf('=');
      let rest = eq >= 0 ? t.text.slice(eq + 1) : undefined;
      let at = k;
      if (rest === undefined) {
        const n = tokens[at + 1];
        if (!n || n.kind !== 'word' || !n.text.startsWith('=')) {
          if (lead) return `${t.text} with no index after it`;
          continue;
        }
        at++;
        rest = n.text.slice(1);
      }
      if (rest.startsWith('=')) continue; // `source == x`: a comparison
      if (rest === '') {
        const n = tokens[at + 1];
        if (n?.text === '[') continue; // a subsearch: its own source is read
        if (!n || (n.kind !== 'word' && n.kind !== 'name')) {
          if (lead) return `${t.text} with no index after it`;
          continue;
        }
        at++;
        rest = n.text;
      }
      k = at;
      add(rest);
      while (tokens[k + 1]?.text === ',' && (tokens[k + 2]?.kind === 'word' || tokens[k + 2]?.kind === 'name')) (add(tokens[k + 2]!.text), (k += 2));
      continue;
    }
    // PPL's `lookup <index> …` and `join … <index>` (the right side ends the command).
    if (ppl && w === 'lookup' && tokens[k - 1]?.text === '|') {
      const n = tokens[k + 1];
      if (!n || (n.kind !== 'word' && n.kind !== 'name')) return `lookup followed by ${n ? n.text : 'nothing'}`;
      add(n.text);
      continue;
    }
    if (ppl && w === 'join') {
      const right = pplJoinSource(tokens, k);
      if (typeof right === 'string') return right;
      for (const i of right) add(i);
      continue;
    }
    const first = k === 0 || tokens[k - 1]!.text === '|';
    // ES|QL names its sources only in its first command and a `LOOKUP JOIN`: elsewhere `from` is a
    // field (`WHERE from == "x"`, a mail log's sender).
    if (esql ? !((k === 0 && (w === 'from' || w === 'ts' || w === 'metrics')) || (w === 'join' && tokens[k - 1]?.text.toLowerCase() === 'lookup')) : w !== 'from' && w !== 'join' && w !== 'describe' && w !== 'desc' && !(first && (w === 'ts' || w === 'metrics'))) continue;
    // `ORDER BY x DESC` and `FROM` inside a function (`EXTRACT(YEAR FROM d)`, `TRIM(x FROM y)`) name no index.
    if (w === 'desc' && k > 0) continue;
    if (w === 'from' && precededByOpenCall(tokens, k)) continue;
    let next = tokens[k + 1];
    if (!next) return `${t.text} at the end`;
    if (next.text === '(') continue; // a subquery: its own FROM is read
    if (next.kind === 'punct' || next.kind === 'string') return `${t.text} followed by ${next.kind === 'string' ? 'a string' : next.text}`;
    // A source, then optionally an alias, then `,` and another (SQL's comma join, ES|QL's list).
    for (;;) {
      add(next.text);
      k++;
      let after = tokens[k + 1];
      if (after?.kind === 'word' && after.text.toLowerCase() === 'as') (k++, (after = tokens[k + 1]));
      if (after?.kind !== 'punct' && after && tokens[k + 2]?.text === ',' && !/^(?:where|group|order|limit|having|metadata|on|using)$/i.test(after.text)) (k++, (after = tokens[k + 1]));
      if (after?.text !== ',') break;
      next = tokens[k + 2];
      if (!next || next.kind === 'punct') break;
      k++;
    }
  }
  return [...out];
}

/**
 * The right side of a PPL join at token k (`[type] join [left=a] [right=b] [hints] [on …] <source>
 * [as alias]`): the source list that ends the command, or none for a subsearch (`[ source=x ]`,
 * read where its `source=` is); what could not be read otherwise.
 */
function pplJoinSource(tokens: ReadonlyArray<{ kind: string; text: string }>, k: number): string[] | string {
  let j = k + 1;
  for (let depth = 0; j < tokens.length; j++) {
    const x = tokens[j]!.text;
    if (x === '[') depth++;
    else if (x === ']' && depth-- === 0) break;
    else if (x === '|' && depth === 0) break;
  }
  let end = j - 1;
  if (end > k + 2 && tokens[end - 1]!.kind === 'word' && tokens[end - 1]!.text.toLowerCase() === 'as') end -= 2;
  if (tokens[end]?.text === ']') return [];
  const out: string[] = [];
  while (end > k && (tokens[end]!.kind === 'word' || tokens[end]!.kind === 'name')) {
    out.push(tokens[end]!.text);
    if (tokens[end - 1]?.text !== ',') break;
    end -= 2;
  }
  return out.length ? out : 'join whose right side Airlock cannot read';
}

/** Whether token k sits inside a function call's parentheses opened since the last clause (`EXTRACT(YEAR FROM d)`). */
function precededByOpenCall(tokens: ReadonlyArray<{ kind: string; text: string }>, k: number): boolean {
  let depth = 0;
  for (let j = k - 1; j >= 0 && k - j < 64; j--) {
    const x = tokens[j]!.text;
    if (x === ')') depth++;
    else if (x === '(') {
      if (depth === 0) return j > 0 && tokens[j - 1]!.kind === 'word' && !/^(?:in|exists|from|join)$/i.test(tokens[j - 1]!.text);
      depth--;
    }
  }
  return false;
}

/**
 * A JSON envelope of calls or records that servers read in more than one way: a key given twice
 * (Jackson, Go and Python take the last, gjson and other first-match readers the first) or keys
 * equal but for letter case (Go's encoding/json matches both to one field, the last winning:
 * `{"url": "/ok", "URL": "/deny/x"}` runs /deny/x, `"REQUESTS"` after `"requests"` replaces the
 * list; Salesforce reads field names without case). Airlock cannot tell which calls run: refused.
 */
function ambiguousEnvelope(text: string, json: unknown): Rejection | undefined {
  let scan: ReturnType<typeof scanJson>;
  try {
    scan = scanJson(text, false);
  } catch {
    // (scanJson reads valid JSON only: this body was read leniently, parseObject.)
    return refusals.bad('the batch body is JSON only lenient readers take (a value after the first, a comment, a trailing comma): strict servers refuse it and lenient ones run its calls, so Airlock refuses it');
  }
  if (scan.duplicates.length) return refusals.bad(`the batch body repeats a key (${describeDuplicates(scan.duplicates, scan.duplicateCount)}): servers take the first or the last, so Airlock cannot tell which calls run`);
  const folded = keysEqualButForCase(json);
  if (folded) return refusals.bad(`the batch body has keys equal but for letter case or underscores (${folded.slice(0, 200)}): servers that match keys without case (Go's) or by either proto name (Google's) read one for the other, so Airlock cannot tell which calls run`);
  return undefined;
}

/** The first object's keys that fold to one (as Go's EqualFold: `URL` and `url`), walked iteratively; undefined when none. */
function keysEqualButForCase(root: unknown): string | undefined {
  for (const v of objectsIn(root)) {
    const seen = new Map<string, string>();
    for (const k of Object.keys(v)) {
      const f = foldedKey(k);
      const before = seen.get(f);
      if (before !== undefined) return `${before}, ${k}`;
      seen.set(f, k);
    }
  }
  return undefined;
}

/** Every object (not array) in parsed JSON, the roots included, walked iteratively (JSON may nest deep). */
function* objectsIn(...roots: unknown[]): Generator<Record<string, unknown>> {
  const stack = [...roots];
  while (stack.length) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
      continue;
    }
    const o = v as Record<string, unknown>;
    yield o;
    for (const child of Object.values(o)) if (child && typeof child === 'object') stack.push(child);
  }
}

/** A key as the servers of these envelopes match it: without letter case (Go's encoding/json, ASP.NET Core's and Newtonsoft's defaults, SCIM by RFC 7643 §2.1) and without underscores (protobuf's JSON reads `structured_query` as `structuredQuery`). */
function foldedKey(k: string): string {
  return k.toUpperCase().toLowerCase().replaceAll('_', '');
}

/** The member names the envelope readers read, by their folded spelling. */
const envelopeNames = new Map(
  ['requests', 'compositeRequest', 'batchRequests', 'Operations', 'method', 'url', 'headers', 'body', 'richInput', 'httpMethod', 'content', 'path', 'data', 'graphs',
    'records', 'attributes', 'type', 'id', 'writes', 'update', 'name', 'delete', 'transform', 'document', 'documents', 'structuredQuery', 'structuredAggregationQuery',
    'from', 'collectionId', 'allDescendants', 'sourceObjects', 'batch', 'relative_url'].map((n) => [foldedKey(n), n] as const),
);

/**
 * A parsed envelope with each member the readers read renamed to the spelling they read
 * (`Requests`, `HttpMethod`, `operations`, `structured_query`, `collection_id`, `source_objects`):
 * the servers match those names without case or underscores (foldedKey), so an envelope spelled
 * otherwise named no call to Airlock while the server ran each. Iterative (JSON may nest deep);
 * run after ambiguousEnvelope, so no two keys of one object fold alike.
 */
function serverKeys<T>(root: T): T {
  const copy = (v: unknown): unknown => (Array.isArray(v) ? [...v] : v && typeof v === 'object' ? { ...(v as object) } : v);
  const top = copy(root);
  const stack: unknown[] = [top];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (v[i] && typeof v[i] === 'object') stack.push((v[i] = copy(v[i])));
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const child = o[k] && typeof o[k] === 'object' ? copy(o[k]) : o[k];
      const name = envelopeNames.get(foldedKey(k)) ?? k;
      if (name !== k) delete o[k];
      o[name] = child;
      if (child && typeof child === 'object') stack.push(child);
    }
  }
  return top as T;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    // As lenient readers read it (twenty-first pass): the first value of a body that goes on (Go's
    // json.Decoder, Jackson), comments and trailing commas (JSONC readers), NaN, single quotes; a Graph
    // API batch followed by `]x` named no call to JSON.parse while such a server ran each.
    const lenient = text.length ? parseLenientJson(text) : undefined;
    o = lenient && 'value' in lenient ? lenient.value : undefined;
  }
  return o && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
}

/** `ref` resolved against the request's URL when it is on the same origin and its path reads one way; else the refusal. */
function sameOrigin(ref: string, requestUrl: string, what: string): string | Rejection {
  let target: URL;
  try {
    target = new URL(ref, requestUrl);
  } catch {
    return refusals.bad(`${what} names ${JSON.stringify(ref.slice(0, 80))}, which is not a URL`);
  }
  const base = new URL(requestUrl);
  const scheme = base.protocol.slice(0, -1);
  const there = parseAuthority(target.host, scheme);
  const here = parseAuthority(base.host, scheme);
  if (target.protocol !== base.protocol || target.username || target.password || !there || !here || !sameAuthority(there, here)) {
    return refusals.misdirected(`${what} names ${JSON.stringify(ref.slice(0, 80))}, another origin than the request's (a server hosting both would act there)`);
  }
  const ambiguous = pathAmbiguity(rawPathOf(ref));
  if (ambiguous) return refusals.bad(`${what} names a path that can mean two things: it holds ${ambiguous}`);
  target.hash = '';
  return target.href;
}

/** Raw header pairs with Host set to the target's authority. */
function withHost(raw: string[], url: string): string[] {
  const out = ['host', new URL(url).host];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() !== 'host') out.push(raw[i]!, raw[i + 1]!);
  return out;
}

function flat(p: Array<[string, string]>): string[] {
  return p.flatMap(([k, v]) => [k, v]);
}

function pairs(raw: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}
