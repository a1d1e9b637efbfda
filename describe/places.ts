// Where a call acts, read from its named arguments: the place words of MCP tool calls, JSON-RPC
// params and GraphQL mutation arguments (a grant covers the same call at the same place only).
import { createHash } from 'node:crypto';
import { parameterNames, percentU } from './body.ts';
import { encodedMessageAddresses } from './message-headers.ts';

/**
 * Argument names (letter case, `_` and `-` aside) by which MCP tools name where they act: the
 * repository of `create_issue {owner, repo}`, the channel of a Slack post, the recipients of a
 * mail, the project of `execute_sql {project_id}`, the file of `write_file {path}`, the URL fetched.
 * A grant for one tool call covers the same tool at the same place only, as REST grants do.
 */
const mcpPlaceArguments = new Set([
  'owner', 'repo', 'repository', 'reponame', 'org', 'organization', 'project', 'projectid', 'projectref', 'projectname',
  'channel', 'channelid', 'channelname', 'to', 'cc', 'bcc', 'recipient', 'recipients', 'email', 'workspace', 'team',
  'database', 'databaseid', 'table', 'tablename', 'bucket', 'url', 'uri', 'host', 'path', 'filepath', 'branch', 'account', 'accountid',
  // An SMS or call's `number` (as a word it would make `issue_number` a place too), a UK sort code.
  'number', 'sortcode',
  // (Twenty-first pass) when what a call grants or shares ends, by names whose words say nothing alone:
  // a cookie's or token's `max_age`, a certificate's `not_after`, a `valid_to`, `good_till` (endNames).
]);
/**
 * Words of an argument name (snake, kebab or camel case) that say where a call acts or whom it
 * reaches, whatever the rest of the name: `recipient_email`, `toAddress`, `chat_id` (Telegram),
 * `user_id` (a direct message), `phone_number` (SMS), `webhook_url`, `destination`, `room_id`.
 * Tools name their targets freely; a name that only looks like one makes grants stricter, never wider.
 */
/**
 * Words naming whom a message or payment reaches, for both lists below (eighteenth pass); and how
 * long what a call creates lasts and how often it can be used (a share link, an API key, an
 * invitation: an hour's link is not one that never expires). Not effect words: a stored row's
 * `expires_at` (a session table's) changes with every insert.
 */
const lastingWords = ['expires', 'expire', 'expiry', 'expiration', 'ttl', 'lifetime', 'valid', 'validity', 'until', 'uses',
  // (Nineteenth pass) and under other words: a link's `duration`, a `lifespan`, a `retention` period.
  'duration', 'lifespan', 'retention'];
const placeReachWords = ['dst', 'rcpt', 'payee', 'payees', 'payer', 'beneficiary', 'beneficiaries', 'iban', 'creditor', 'debtor', 'counterparty', 'counterparties',
  'mobile', 'mobiles', 'wallet', 'wallets', 'mailbox', 'mailboxes', 'addressee', 'addressees', 'customer', 'customers',
  ...lastingWords,
  // (Twentieth pass) an account or address by its abbreviation or bank code: a wallet's `addr`, `acct`,
  // a routing number, a UK `sort_code` (by name), a BIC or SWIFT code, an Australian BSB, an Indian
  // IFSC, a Mexican CLABE, a UPI `vpa`.
  'addr', 'addrs', 'acct', 'accts', 'routing', 'bic', 'swift', 'bsb', 'ifsc', 'clabe', 'vpa'];
/**
 * Words of a name that say when what a call grants, shares or keeps ends, or how long it is held
 * (twenty-first pass): an access grant's `end_date` or `endsAt`, a `deadline`, a `revoke_at`, a
 * lock's or lease's `lease_seconds`, a `grace_period`, a `hold_days`, `keep_for`. An access that
 * ends tomorrow is not one that ends in 2099. Places only where a call's arguments are its whole
 * description (MCP, GraphQL, hosts no module describes): a module reads its own (a model call's `stop`).
 */
const endWords = ['end', 'ends', 'ending', 'deadline', 'revoke', 'revokes', 'revocation', 'lease', 'leases', 'grace', 'hold', 'keep', 'cutoff', 'sunset'];
/** Names (folded, `_` and `-` aside) of when what a call grants ends, whose words say nothing alone. */
const endNames = ['maxage', 'notafter', 'notvalidafter', 'validto', 'validthrough', 'goodtill', 'goodtilldate', 'goodthrough'];
/** Words of a name that say when what a call grants, pays or shares begins (twenty-fourth pass): `starts_at`, `effective_date`, `begin`, `backdate`. */
const startWords = ['start', 'starts', 'starting', 'begin', 'begins', 'beginning', 'effective', 'backdate', 'backdated', 'retroactive', 'commence', 'commences'];
/** Those names whose words say nothing alone (folded). */
const startNames = ['notbefore', 'notvalidbefore', 'validfrom', 'effectivefrom'];
function isStartName(key: string): boolean {
  return startNames.includes(foldCase(key).replace(/[_\-\s.]/g, '')) || nameWords(key).some((w) => startWords.includes(w));
}
/** A calendar date, or a date and time (ISO 8601, RFC 3339). */
const dateValue = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
/** The day a date names (a query's or form's one value too). */
const startDay = (v: unknown): string | undefined => {
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  return typeof one === 'string' && dateValue.test(one) ? one.slice(0, 10) : undefined;
};
/** Whether a name says how long what a call creates lasts or when it ends (`X-Expires-In`, `X-Link-TTL`, `X-End-Date`, `X-Access-Hours`; twenty-first pass, for headers). */
export function isLastingName(key: string): boolean {
  return endNames.includes(foldCase(key).replace(/[_\-\s.]/g, '')) || nameWords(key).some((w) => lastingWords.includes(w) || endWords.includes(w)) || isDurationName(key);
}
/**
 * Units of time as words of a name (twenty-first pass, follow-up): `access_hours`, `share_days`,
 * `lock_secs`, `sessionMins` say how long what a call grants lasts by the unit alone. They are count
 * words too (a number, not a switch), so their numbers were content: a grant for an hour's access
 * covered a year's (`access_hours: 8760`). Not `min` (a minimum).
 */
// (Not `ms`: Microsoft's `x-ms-` headers.)
const timeUnitWords = new Set(['seconds', 'second', 'secs', 'sec', 'millis', 'milliseconds', 'minutes', 'minute', 'mins', 'hours', 'hour', 'hrs', 'hr',
  'days', 'day', 'weeks', 'week', 'wks', 'months', 'month', 'years', 'year', 'yrs']);
/**
 * Words beside a unit that say the time windows what is read or paces how a call runs, not how long
 * what it grants lasts: `last_days`, `older_than_days` (a bulk call's own: bulkSelectionWords),
 * `timeout_seconds`, `delay_ms`, `interval`, `per_hour`, `retry_after`.
 */
const timeWindowWords = new Set(['last', 'past', 'ago', 'since', 'older', 'newer', 'before', 'after', 'within', 'lookback', 'back', 'window', 'range', 'from',
  'timeout', 'delay', 'interval', 'every', 'per', 'poll', 'wait', 'sleep', 'retry', 'backoff', 'elapsed', 'uptime', 'age', 'took', 'latency', 'spent']);
/**
 * Whether a name says how long something lasts by a unit of time (timeUnitWords, none of
 * timeWindowWords nor an id's): `access_hours`, `lock_secs`, and with `bare`, a unit alone (`hours`, `days`).
 */
export function isDurationName(key: string, bare = true): boolean {
  if (key.length > 64 || isIdName(key)) return false;
  const words = nameWords(key).filter(Boolean);
  return words.some((w) => timeUnitWords.has(w)) && !words.some((w) => timeWindowWords.has(w)) && (bare || words.some((w) => !timeUnitWords.has(w)));
}
/**
 * Words of a name that say how far a call reaches, whatever the value (twenty-first pass): a
 * `level`, `tier`, `priority`, `severity`, `grade` or `clearance` (`level: "admin"` is not `"read"`).
 */
const rankWords = ['level', 'levels', 'lvl', 'tier', 'tiers', 'priority', 'priorities', 'prio', 'severity', 'grade', 'clearance'];
/**
 * Words of a name that say how much a call runs or uses, as a number (twenty-first pass): how many
 * of what runs (`replicas`, `instances`, `workers`, `concurrency`), what it may use (`cpu`,
 * `memory`, `capacity`, `iops`) and its bounds (`threshold`, `ceiling`, `burst`). A number under
 * them (or rankWords) is compared exactly, not by order of magnitude: a grant for `level: 100`
 * covers no `level: 999`, one for 100 replicas no 900. (Their texts stay content: a memory tool's
 * `memory: "…"`. A count that pages or windows a list — `limit`, `page`, `top` — and ids keep varying.)
 */
const sizeWords = new Set([...rankWords, 'replicas', 'instances', 'workers', 'nodes', 'threads', 'processes', 'concurrency', 'parallelism', 'capacity',
  'cpu', 'cpus', 'vcpu', 'vcpus', 'cores', 'memory', 'mem', 'ram', 'disk', 'storage', 'iops', 'throughput', 'bandwidth',
  'threshold', 'thresholds', 'ceiling', 'burst', 'multiplier', 'intensity', 'percent', 'percentage', 'pct', 'rate']);

/** A number, or a text holding one with a unit (`512Mi`, `2Gi`, `500m`, `1.5 GB`, `75%`): a size or share as Kubernetes and clouds spell it. */
const quantity = (v: unknown): boolean => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && /^[+-]?(?:\d[\d_]{0,30}(?:\.\d{0,20})?|\.\d{1,20})(?:e[+-]?\d{1,3})?\s?[A-Za-z%]{0,5}$/i.test(v.trim()));

/** Whether a name says its number is how much a call runs or uses, or how far it reaches (sizeWords): compared exactly. */
export const isSizeName = (key: string): boolean => nameWords(key).some((w) => sizeWords.has(w));

/** Where a data or cluster API acts, under its own word for a table (MongoDB, BigQuery, Cassandra, Cosmos DB, Kubernetes), and on which ports (eighteenth pass). */
/**
 * Words that say in whose tenant, account, company or partition of a service a call acts, one list
 * for a header's name (engine/grant-scope.ts placeHeaderWords) and an argument's (twenty-seventh
 * pass): `X-Tenant-Id: acme` was a place, while `{"tenant_id": "acme"}` in a JSON body, a query, a
 * form or an MCP call's arguments (or a tool's `headers: {"X-Tenant-Id": …}`) was not, and a grant
 * for a call in one tenant, merchant, company, realm, shard or schema covered it in another. (Not
 * `index` nor `cell`: in an argument, as often a position in a list or a sheet as a place.)
 */
export const tenancyWords = ['tenant', 'tenants', 'account', 'accounts', 'org', 'orgs', 'organization', 'organisation', 'workspace', 'project', 'team',
  'shop', 'shops', 'store', 'stores', 'site', 'sites', 'space', 'database', 'bucket', 'behalf', 'customer', 'merchant', 'merchants',
  'company', 'companies', 'business', 'businesses', 'partner', 'partners', 'realm', 'realms', 'subaccount', 'subaccounts',
  'shard', 'shards', 'partition', 'partitions', 'region', 'zone', 'zones', 'cluster', 'namespace', 'keyspace', 'dataset', 'collection',
  'schema', 'schemas', 'db', 'dbs'];
/**
 * Words that say whom a call acts as, beside its credential (Kubernetes' `Impersonate-User`,
 * GitLab's `sudo`, Google's `authuser`, a `run_as`): one list for a header's name
 * (engine/grant-scope.ts identityWords) and an argument's (twenty-seventh pass: `{"impersonate":
 * "alice"}` then `"ceo"` was covered, the header was not).
 */
export const actingWords = ['impersonate', 'impersonation', 'impersonated', 'sudo', 'authuser', 'runas', 'behalf'];
/**
 * Words of a name that say what kind of object a call creates or acts on, or under which version of
 * the API or model it runs (twenty-eighth pass, left open by the twenty-seventh): a generic
 * `POST /api/objects {"type": "note"}` and `{"type": "admin_user"}` are two operations to the server
 * (a Django or Rails admin's `model: "auth.user"`, Kubernetes' `kind`, a FHIR `resourceType`, a
 * polymorphic deserializer's `$type`, `@type`, `@class` or `__typename`, an `api_version` that
 * routes to an older handler), and a grant for the one covered the other. A text value (or a list
 * of texts) under them is the call's place; numbers are compared by the rules for numbers already,
 * and an object under them is read part by part (Confluence's `version: {number}` varies by design).
 * Not inside a list of objects: a chat message's parts (`content: [{type: "text"}]`), a rich
 * message's blocks, stay content, their count is not the call's kind.
 */
const kindWords = new Set(['type', 'types', 'kind', 'kinds', 'resource', 'resources', 'entity', 'entities', 'model', 'models',
  'class', 'classes', 'version', 'versions']);
const kindNames = new Set(['typename', 'objecttype', 'resourcetype', 'entitytype', 'modeltype', 'classname', 'apiversion', 'odatatype']);
export function isKindName(key: string): boolean {
  const bare = key.replace(/^[@$_]+/, '');
  if (kindNames.has(foldCase(bare).replace(/[_\-\s.]/g, ''))) return true;
  return nameWords(bare).some((w) => kindWords.has(w));
}
/** A kind's value: a text, or a short list of texts (a query's or form's values are such lists). */
const kindValue = (v: unknown): boolean =>
  (typeof v === 'string' && v.length > 0) || (Array.isArray(v) && v.length > 0 && v.length <= 16 && v.every((x) => typeof x === 'string'));
const storeWords = ['collection', 'collections', 'dataset', 'datasets', 'keyspace', 'container', 'containers', 'namespace', 'namespaces', 'cluster', 'clusters',
  // and which ports a firewall or forwarding rule opens (`port`, `ports`, `port_range`, AWS's `ToPort`), in which region data is kept
  'port', 'ports', 'region', 'regions'];
const mcpPlaceWords = new Set([
  'to', 'cc', 'bcc', 'recipient', 'recipients', 'receiver', 'receivers', 'email', 'emails', 'address', 'addresses', 'phone',
  'chat', 'user', 'users', 'member', 'members', 'contact', 'contacts', 'channel', 'channels', 'room', 'group', 'guild', 'space',
  'conversation', 'thread', 'repo', 'repository', 'owner', 'org', 'organization', 'project', 'workspace', 'team', 'database',
  'table', 'bucket', 'url', 'uri', 'host', 'domain', 'server', 'path', 'file', 'branch', 'account', 'destination', 'dest',
  'target', 'webhook', 'endpoint',
  // What a call runs and where it lands that the REST twins record (a workflow, its ref and inputs,
  // a merge's base and head, an environment, a tag, who can read what is created, where a link leads).
  'workflow', 'ref', 'base', 'head', 'environment', 'tag', 'event', 'inputs', 'visibility', 'private', 'public', 'redirect',
  // Whom a call invites, shares with, assigns or reaches by name or number (twelfth pass): a calendar
  // event's `attendees: ["…"]`, a file's `share_with`, an issue's `assignees`, a collaborator's
  // `username`, an SMS `number`: a grant for inviting a colleague does not cover inviting anyone.
  'attendee', 'attendees', 'participant', 'participants', 'invitee', 'invitees', 'guest', 'guests', 'assignee', 'assignees',
  'reviewer', 'reviewers', 'collaborator', 'collaborators', 'username', 'usernames', 'login', 'grantee', 'grantees',
  'principal', 'principals', 'audience', 'subscriber', 'subscribers', 'follower', 'followers', 'people', 'person', 'share',
  'sharee', 'viewer', 'viewers', 'editor', 'editors', 'msisdn', 'mention', 'mentions', 'forward',
  // Whom a message or payment reaches under other APIs' words (eighteenth pass): Plivo's `dst`, an
  // SMTP API's `rcpt`, a transfer's `payee`, `beneficiary`, `creditor_iban`, `counterparty`, an SMS
  // API's `mobiles`, a crypto `wallet`, a `mailbox`, a charge's `customer`.
  ...placeReachWords, ...storeWords, ...endWords, ...rankWords, ...tenancyWords, ...actingWords,
  // (Twenty-second pass) whom a send reaches, or whom it comes from, under other words: a push
  // notification's `topic`, `segments`, `cohort`, `devices` or `registration_ids`, a campaign's
  // `list_ids` or `distribution`, SMS `numbers` and `phones`, a `dm`, `who`, a `uid`, the `sender`.
  'numbers', 'phones', 'topic', 'topics', 'segment', 'segments', 'list', 'lists', 'cohort', 'cohorts', 'distribution',
  'device', 'devices', 'registration', 'registrations', 'sender', 'senders', 'who', 'dm', 'dms', 'uid', 'uids',
  // and whom a binding, delegation or signature names: a RoleBinding's `subjects`, an `identity`, an
  // `actor`, a `delegate`, an `approver`, a `signer`, a `holder`, a `party`, an `autoforward` address.
  'subjects', 'identity', 'identities', 'actor', 'actors', 'delegate', 'delegates', 'approver', 'approvers', 'signer', 'signers',
  'holder', 'holders', 'party', 'parties', 'autoforward',
  // and where what a call sends or copies comes from: a copy's or move's `source`/`src`, a mail's
  // `attachment(s)`, a `dir`, `folder` or `document` shared or archived (a grant for mailing
  // `report.pdf` covers no `~/.ssh/id_rsa`).
  'source', 'sources', 'src', 'attachment', 'attachments', 'attach', 'dir', 'dirs', 'directory', 'directories', 'folder', 'folders', 'document', 'documents',
  // (Twenty-third pass) a copy's, move's or sync's `from` (as its `to` is): a grant for copying `/tmp/a` covers no `~/.ssh/id_rsa`.
  'from',
  // and what a call expands by reference (twenty-third pass): a stored `template`, a `saved_search`
  // or saved query, a `preset`, `playbook`, `runbook`, `macro` or `recipe` names what it sends,
  // exports or runs as a list id names whom: a grant for the welcome template covers no other.
  'template', 'templates', 'saved', 'preset', 'presets', 'playbook', 'playbooks', 'runbook', 'runbooks', 'macro', 'macros', 'recipe', 'recipes', 'report', 'reports',
]);
/**
 * The words of `mcpPlaceWords` that say whom a service operation's arguments reach or where they
 * send (fifteenth pass): a recipient, a grantee (collaborator, reviewer, assignee, invitee, member,
 * a user to share with), an account that receives (a transfer's `destination`, a transfer's
 * `new_owner`), a URL data or events go to (a webhook's `config.url`). The module already names the
 * repository, branch, table or project it acts in; what an operation creates is named freely.
 */
const serviceReachWords = new Set([
  'to', 'cc', 'bcc', 'recipient', 'recipients', 'receiver', 'receivers', 'email', 'emails', 'address', 'addresses', 'phone', 'msisdn',
  'user', 'users', 'member', 'members', 'contact', 'contacts', 'attendee', 'attendees', 'participant', 'participants', 'invitee', 'invitees',
  'guest', 'guests', 'assignee', 'assignees', 'reviewer', 'reviewers', 'collaborator', 'collaborators', 'username', 'usernames', 'login',
  'grantee', 'grantees', 'principal', 'principals', 'audience', 'subscriber', 'subscribers', 'follower', 'followers', 'people', 'person',
  'share', 'sharee', 'viewer', 'viewers', 'editor', 'editors', 'mention', 'mentions', 'forward', 'destination', 'dest',
  'url', 'uri', 'webhook', 'endpoint', 'callback',
  // Whom a payment charges or is made for (Stripe's `customer`, `on_behalf_of`): a grant for charging
  // the team's test customer covers no other customer's saved card.
  'customer', 'customers', 'behalf', 'payer', 'payee', 'beneficiary',
  // (Twenty-fourth pass) what the money comes from or goes back to: the charge a refund returns
  // (Stripe's `charge`; its `payment_intent` is a payment's already), an invoice credited, the
  // card or bank `source` charged, the transfer reversed: a grant for refunding one charge covers no other.
  'charge', 'charges', 'invoice', 'invoices', 'source', 'sources', 'transfer', 'transfers',
  ...placeReachWords,
]);

/** Names (folded, `_` and `-` aside) of the account a call hands something to: a repository transfer's `new_owner`. (The owner a module names is its place already.) */
// And whom a network allow list lets in (GitHub's `allowListValue`, a CIDR).
const serviceReachNames = new Set(['newowner', 'newownerid', 'targetowner', 'transferto', 'allowlistvalue', 'cidr', 'cidrs', 'ipaddress', 'ipaddresses', 'iprange', 'ipranges', 'sortcode']);

/** Whether a service operation's argument names whom it reaches or where it sends (serviceReachWords), or changes what it does. */
function isServiceReachName(key: string): boolean {
  const bare = foldCase(key).replace(/^x-/, '').replace(/[_\-\s.]/g, '');
  // (Words split once: a service body is read up to 200,000 names.)
  return effectArgumentNames.has(bare) || serviceReachNames.has(bare) || nameWords(key).some((w) => effectArgumentWords.has(w) || serviceReachWords.has(w));
}

/** Calls and place values past which an MCP request's place is not listed (it is then opaque: no grant). */
export const MAX_MCP_PLACES = 64;
/** Argument nodes read per request, and the depth read, looking for places; past either the place is opaque. */
const MAX_MCP_ARGUMENT_NODES = 2048;
const MAX_MCP_ARGUMENT_DEPTH = 6;
/**
 * The same bounds when only the arguments that change what a call does are read (a service's
 * operation, whose body may be large and deep: a tree of files, a batch of model requests): read
 * only on the grant path, linear in the body, so a large body keeps its grants and a flag cannot
 * hide past the bound (past it the target is `?`: no grant).
 */
const MAX_EFFECT_ARGUMENT_NODES = 200_000;
const MAX_EFFECT_ARGUMENT_DEPTH = 64;

/**
 * Argument names (folded as below) and words that change what a call does where it acts, rather
 * than where (fourteenth pass): the same path, tool or mutation with one of them set is another
 * request. A dry run or a validation (`dryRun=All` of Kubernetes, AWS's `DryRun=true`, Google's
 * `validateOnly`, Azure's `whatIf`) does nothing, the same call without it acts; a deletion by flag
 * (Notion's `archived`/`in_trash`, Drive's `trashed`, Trello's `closed`, Rails' nested `_destroy`,
 * a `deleted` or `disabled` column); whom it empowers (a `role`, `is_admin`, `permissions`,
 * `scopes`); force, cascade and purge; how much it moves (an `amount`). Their values are part of
 * the place a grant records, so a grant for a dry run, a rename or a small transfer covers that
 * again and not the real run, the deletion, the promotion or a larger one.
 */
// (Sixteenth pass: more spellings of a rehearsal or of going live — `simulate`, Puppet's `noop`,
// Ansible's `check_mode`, Terraform Cloud's `plan-only` and `auto-apply`, Stripe's `livemode` and
// `confirm`, a `sandbox` or `testmode` flag — whatever their value's type.)
const effectArgumentNames = new Set([
  // (Twenty-third pass) when a send, post or run happens (effectArgumentWords' `scheduled` too).
  'sendat', 'sendtime', 'publishat', 'deliverat', 'deliveryat', 'deliverytime', 'runat', 'executeat', 'fireat', 'releaseat', 'launchat', 'postat', 'goliveat', 'sendafter', 'notbefore',
  'dryrun', 'validateonly', 'whatif', 'intrash', 'isdeleted', 'isadmin', 'issuperuser', 'isstaff', 'accesslevel', 'harddelete',
  'simulate', 'simulation', 'simulated', 'noop', 'checkmode', 'planonly', 'autoapply', 'autocommit', 'livemode', 'testmode', 'sandbox', 'confirm',
  // (Eighteenth pass) what a cloud call pays for by machine (`instance_type`, GCP's `machineType`, Azure's `vmSize`, RDS's `DBInstanceClass`).
  'instancetype', 'machinetype', 'vmsize', 'nodetype', 'nodesize', 'instanceclass', 'dbinstanceclass', 'cachenodetype',
  // (Eighteenth pass) the program a code tool runs (`python {code}`; as a word `code` would make a postal code one).
  'code', 'sourcecode', 'pythoncode', 'jscode', 'argv',
  // (Twenty-fourth pass) how a payout or payment is made (Stripe's payout `method: instant`: paid
  // at once, for a fee, and no longer cancellable as a standard one is while pending).
  'method',
  // and the access a share gives, by names that say so (not the word: `access_token` is a credential).
  'access', 'accesstype', 'accessright', 'accessrights', 'grant',
  // (Twentieth pass) what a call runs under other names: a container's `Entrypoint` and `Image`
  // (Docker's `containers/create`), a tool's argument vector and flags.
  'entrypoint', 'image', 'imagename', 'imageref', 'containerimage', 'args', 'cliargs', 'extraargs', 'flags']);
const effectArgumentWords = new Set([
  'dry', 'archived', 'archive', 'trashed', 'trash', 'deleted', 'delete', 'destroy', 'closed', 'disabled', 'suspended', 'banned',
  'role', 'roles', 'admin', 'admins', 'superuser', 'permission', 'permissions', 'privilege', 'privileges', 'scope', 'scopes', 'rights',
  'force', 'cascade', 'purge', 'permanent', 'permanently', 'amount', 'amounts',
  // (Eighteenth pass) how much a call spends or buys under other words: a price, a budget or bid, a
  // spend or credit limit, a fee or tip, a balance, a payout, leverage, a quantity of shares or seats.
  'price', 'prices', 'budget', 'budgets', 'bid', 'bids', 'spend', 'spending', 'credit', 'credits', 'fee', 'fees', 'tip', 'tips', 'balance',
  'balances', 'payout', 'payouts', 'leverage', 'quantity', 'qty', 'shares', 'seats', 'cost', 'costs',
  // and what it pays for: a subscription's plan or tier, a SKU.
  'plan', 'plans', 'pricing', 'sku', 'skus',
  // (Nineteenth pass) what the amount is counted in and what is traded: a currency (5 USD is not 5
  // KWD nor 5 BTC; ISO 20022's and FIX's `Ccy`, with their `Amt`), a unit (`cents` or `dollars`), a trade's `symbol`, `ticker` or `instrument`, and
  // its `side` (a grant for buying covers no selling).
  'currency', 'currencies', 'ccy', 'amt', 'amts', 'unit', 'units', 'denomination', 'coin', 'coins', 'symbol', 'symbols', 'ticker', 'tickers', 'instrument', 'instruments', 'side',
  // (Twentieth pass) what a call pays or moves under other words: an invoice's `total` (a count's
  // word otherwise), a refund, deposit or withdrawal, pay, a discount, a quota or cap, a stake, a premium or tax.
  'total', 'totals', 'subtotal', 'refund', 'refunds', 'deposit', 'deposits', 'withdrawal', 'withdrawals', 'withdraw', 'salary', 'salaries',
  'wage', 'wages', 'bonus', 'bonuses', 'reward', 'rewards', 'discount', 'discounts', 'allowance', 'allowances', 'quota', 'quotas', 'cap', 'caps',
  'stake', 'stakes', 'wager', 'bet', 'overdraft', 'premium', 'tax', 'taxes', 'payment', 'payments', 'donation', 'loan', 'gas',
  // (Twenty-first pass) what a write does to what exists, by its name: `on_conflict`, `if_exists`,
  // a `write_disposition`, `conflict_resolution`, `existing`.
  'conflict', 'conflicts', 'disposition', 'exists', 'existing', 'upsert', 'truncate', 'clobber',
  // (Twenty-first pass) how much a call trades or pays in other words and in base units: Alpaca's
  // `notional`, Coinbase's `funds`, `lots`, `contracts`, satoshis, wei, gwei, lamports.
  'notional', 'funds', 'lots', 'contracts', 'sats', 'satoshi', 'satoshis', 'wei', 'gwei', 'lamports',
  // (Twenty-first pass) whom a call empowers under other words: a `perm`, `membership`, `authority`,
  // `capabilities`, an `acl`.
  'perm', 'perms', 'priv', 'privs', 'membership', 'memberships', 'authority', 'authorities', 'capability', 'capabilities', 'acl', 'acls',
  // (Twenty-second pass) whom a storage call lets read or write what it stores, by a header's words:
  // S3's `x-amz-grant-read`, `x-amz-grant-full-control`, Azure's `x-ms-blob-public-access`.
  'grant', 'grants', 'public',
  // (Twenty-second pass) an access policy: an IAM or bucket `policy`, its `Statement`s (what each
  // lets whom do on what: `Action: "s3:GetObject"` is not `"s3:DeleteObject"`).
  'policy', 'policies', 'statement', 'statements',
  // What a shell, code or CI tool runs (eighteenth pass): the command is the operation, as an SQL
  // statement is; a grant for `ls -la` covers no `rm -rf ~`.
  'command', 'commands', 'cmd', 'cmdline', 'commandline', 'script', 'scripts', 'shell', 'exec', 'expression', 'expr', 'eval',
  // (Twenty-eighth pass) the same under the language's or the runner's name: a code tool's `lua`
  // (Redis `EVAL`), `js`, `python`, `bash`, `powershell`, a `program`, `snippet` or `function`
  // (Playwright MCP's `browser_evaluate {function}`), a `handler`, a graph query in `cypher` or
  // `gremlin`, an Elasticsearch `painless` or Jenkins `groovy` script, a `jinja` template: a grant for
  // `() => document.title` covers no `() => fetch(…document.cookie)`.
  'lua', 'js', 'javascript', 'python', 'py', 'ruby', 'perl', 'php', 'bash', 'sh', 'zsh', 'powershell', 'pwsh', 'cmdlet', 'vbscript',
  'applescript', 'osascript', 'program', 'programs', 'snippet', 'snippets', 'function', 'functions', 'handler', 'handlers',
  'cypher', 'gremlin', 'groovy', 'painless', 'jinja', 'argv0',
  // (Twenty-second pass) how often what a call does repeats: a payment's or a job's `frequency`,
  // `recurrence`, `schedule`, `cron` (`0 0 * * *` is not `* * * * *`), `cadence`, an RRULE.
  'frequency', 'recurrence', 'recurring', 'repeat', 'repeats', 'schedule', 'cron', 'crontab', 'cadence', 'rrule',
  // (Twenty-third pass) when a send, post or run happens: `scheduled_at`, `send_at`, `publish_at`,
  // `deliver_at`, `run_at` (a campaign held for tomorrow, while a human can still stop it, is not one sent now).
  'scheduled',
]);

/**
 * Letter case folded as servers that bind JSON without it compare names (Go's encoding/json, by
 * Unicode simple folding; ASP.NET Core): upper then lower, so `addreſs` (long s) is `address` and
 * `permiſſions` `permissions` there, as the Kelvin sign is `k` (fourteenth pass). Over-folds `ß`,
 * which only makes more names places.
 */
export const foldCase = (key: string): string => key.toUpperCase().toLowerCase();

/**
 * Words of a name: snake, kebab, camel case, dots, colons, slashes (MCP's `_meta` keys: `io.acme/workspace`), a form's brackets (`message[to]`, `to[]`)
 * and `$` (twenty-first pass, follow-up: OData's system query options, `$skip`, `$top`, `$filter`, are `skip`, `top`, `filter` to its servers).
 */
const nameWords = (key: string): string[] => key.replace(camelJoint, '$1 ').split(/[_\-\s.:/[\]$]+/).map(foldCase);
/** A lower-case letter or digit then a capital: a camel-case word boundary (no lookbehind: ReDoS checkers prove this linear at once). */
const camelJoint = /([a-z0-9])(?=[A-Z])/g;

/**
 * Words of an object's names that say it is an order or a transfer of something priced (twenty-first
 * pass): beside them a `size`, `volume`, `vol`, `value`, `sum` or `count` is how much is traded
 * (Coinbase's and Kraken's `size`/`volume`, `value` of a transfer), compared exactly, while
 * elsewhere they stay a page's size, a sound's volume, a setting's value.
 */
const tradeWords = new Set(['side', 'symbol', 'symbols', 'ticker', 'tickers', 'instrument', 'instruments', 'currency', 'ccy', 'pair', 'market', 'asset', 'assets', 'coin', 'recipient', 'to', 'payee', 'wallet', 'iban',
  // (Twenty-second pass) and an amount or price itself, beside which a `scale`, `decimals`,
  // `precision` or `exponent` says what it is worth (`amount: 5, scale: -3` is 5,000) and an
  // `interval` how often it is paid.
  'amount', 'amounts', 'amt', 'price', 'prices']);
const tradeSizeWords = new Set(['size', 'volume', 'vol', 'value', 'sum', 'count', 'scale', 'decimals', 'precision', 'exponent', 'interval', 'times']);
/** Whether an object's names say it is an order or a transfer (tradeWords), so its size words are how much. */
export function tradesSomething(o: Record<string, unknown>): boolean {
  let n = 0;
  for (const k of Object.keys(o)) {
    if (++n > 256) return false;
    if (k.length <= 64 && nameWords(k).some((w) => tradeWords.has(w))) return true;
  }
  return false;
}
/** Whether a name beside trade words says how much is traded (tradeSizeWords). */
// (Not a page's: `page_size`, `per_page` beside an amount filter page a read.)
const isTradeSizeName = (key: string): boolean => key.length <= 64 && nameWords(key).some((w) => tradeSizeWords.has(w)) && !nameWords(key).some((w) => w === 'page' || w === 'per');

/** A CloudEvent's attributes that say what happened and to what (CloudEvents 1.0): its `id` and `time` change per event. */
export const cloudEventAttributes: ReadonlySet<string> = new Set(['type', 'source', 'subject', 'dataschema']);

/** Whether an argument's name says it changes what the call does (effectArgumentNames above). */
export function isEffectName(key: string): boolean {
  // (A header's `X-` aside: `X-Validate-Only` is `validateOnly`.)
  return effectArgumentNames.has(foldCase(key).replace(/^x-/, '').replace(/[_\-\s.]/g, '')) || nameWords(key).some((w) => effectArgumentWords.has(w));
}

/**
 * An OData reference by annotation (twenty-second pass): `Customer@odata.bind: "Customers(5)"` (4.01:
 * `Customer@bind`) links the object written to customer 5, `members@odata.bind: [...]` adds members to
 * a group (Microsoft Graph), `@odata.id` names the object a `$ref` call links: another is another place.
 */
const odataReference = /@(?:odata\.)?(?:bind|id)$/i;

function isPlaceName(key: string, ids: boolean, extra?: ReadonlySet<string>): boolean {
  if (key.length <= 256 && odataReference.test(key)) return true;
  // (`$` aside: OData's `$filter` is a bulk call's `filter`.)
  const folded = foldCase(key).replace(/[_$-]/g, '');
  if (mcpPlaceArguments.has(folded) || endNames.includes(folded) || extra?.has(folded) || isEffectName(key)) return true;
  // A bulk call's (selectionArguments among `extra`): how many and which by age it acts on (twentieth pass).
  if (extra?.has('where') && nameWords(key).some((w) => bulkSelectionWords.has(w))) return true;
  if (ids && perRequestIds.has(folded)) return false;
  // Brackets too: a form's `message[to]` and `to[]` (Rack, PHP) name `to`.
  return nameWords(key).some((w) => mcpPlaceWords.has(w) || (ids && idWords.has(w)));
}

/**
 * Values that name how a call runs, whatever the argument is called: a rehearsal or the real run
 * (Ansible AWX's `job_type: check`, `mode: preview`, `transaction: rollback`), a test or live
 * system, a draft or a publication (WordPress's `status: publish`), who may read the result.
 */
const modeValues = new Set(['true', 'false', 'dryrun', 'dry-run', 'dry_run', 'simulate', 'simulation', 'preview', 'plan', 'check', 'validate', 'noop',
  'rollback', 'commit', 'apply', 'test', 'sandbox', 'live', 'production', 'draft', 'publish', 'published', 'private', 'public',
  // (Seventeenth pass) the real run and the systems it runs on in other words.
  'run', 'execute', 'real', 'prod', 'staging', 'dev', 'development', 'testing', 'trial', 'demo', 'mock', 'rehearsal', 'whatif', 'verify',
  // (Eighteenth pass) who may read what is shared, as values: Drive's `type: "anyone"`, GCS's `allUsers`, an ACL's `public-read`.
  'anyone', 'everyone', 'anonymous', 'world', 'allusers', 'allauthenticatedusers', 'public-read', 'public-read-write', 'authenticated-read',
  // (Nineteenth pass) how far a write goes: a hard delete, an overwrite or replace, a purge or wipe, recursive, cascading, forced.
  'hard', 'overwrite', 'replace', 'purge', 'wipe', 'destroy', 'permanent', 'recursive', 'cascade', 'force', 'forced',
  // (Twenty-first pass) and what a load or write does to what exists: truncate, clobber, drop, upsert
  // (BigQuery's `WRITE_TRUNCATE`, pandas' `if_exists: "replace"`, an `on_conflict`).
  'truncate', 'write_truncate', 'write-truncate', 'clobber', 'drop', 'upsert', 'erase', 'nuke', 'reset',
  // (Twenty-second pass) what a rule or policy statement does: an `Effect: "Deny"` is not `"Allow"`.
  'allow', 'deny', 'allowed', 'denied']);

/**
 * Values that name a privilege (twenty-first pass), whatever the argument is called: `kind: "admin"`,
 * `membership: "owner"`, `as: "root"`, `perm: "write"`, `ac: "rw"`, a list of capabilities holding
 * `"delete"`. A grant for adding a member covers no owner; one for read access no write access.
 */
const privilegeValues = new Set(['admin', 'admins', 'administrator', 'administrators', 'owner', 'owners', 'coowner', 'co-owner', 'superuser', 'superadmin', 'super-admin', 'super_admin',
  'root', 'sudo', 'sudoer', 'sudoers', 'wheel', 'maintainer', 'maintain', 'manager', 'manage', 'moderator', 'operator', 'write', 'writer', 'readwrite',
  'read-write', 'read_write', 'rw', 'rwx', 'w', 'full', 'fullaccess', 'full-access', 'full_access', 'fullcontrol', 'full_control', 'all', '*', 'delete', 'push', 'triage']);

/** A list of more than one text (a query's, form's or header's repeated parameter) one of which is a switch or a number compared by magnitude. */
export function repeatedSwitch(v: unknown, numeric: boolean): boolean {
  return Array.isArray(v) && v.length > 1 && v.length <= 256 && v.every((x) => typeof x === 'string') && v.some((x) => isSwitch(x, numeric) || (numeric && magnitude(x) !== undefined));
}

/**
 * Whether a value (a text, or an entry of a list) is a wildcard pattern: a word of no blanks holding
 * `*` (`s3:*`, `repo:acme/*`, `arn:aws:s3:::bucket/*`, `*.corp.example`, `.*`), as access policies,
 * token scopes, CORS and allow lists take them. Prose (`*bold* text`) has blanks and stays content.
 */
export function holdsWildcard(v: unknown): boolean {
  if (Array.isArray(v)) return v.length <= 256 && v.some((x) => typeof x === 'string' && holdsWildcard(x));
  return typeof v === 'string' && v.length <= 512 && v.includes('*') && !/\s/.test(v.trim());
}

/** Whether a value (a text, or an entry of a list) names a privilege (privilegeValues). */
export function namesPrivilege(v: unknown): boolean {
  if (Array.isArray(v)) return v.length <= 256 && v.some((x) => typeof x === 'string' && namesPrivilege(x));
  return typeof v === 'string' && v.length <= 24 && privilegeValues.has(v.trim().toLowerCase());
}

/**
 * Texts servers read as a boolean besides `true`/`false` (seventeenth pass): Go's `strconv.ParseBool`
 * (`1`, `t`, `0`, `f`), Rails' `ActiveModel::Type::Boolean` and pydantic (`on`/`off`, `yes`/`no`,
 * `y`/`n`), PHP's `filter_var(…, FILTER_VALIDATE_BOOLEAN)`: `?live=1` is the real run where
 * `?live=0` was the rehearsal, under any name.
 */
const booleanTexts = new Set(['1', '0', 't', 'f', 'y', 'n', 'yes', 'no', 'on', 'off', 'enabled', 'disabled', 'enable', 'disable']);

/**
 * A boolean, or a text (or a query's or form's one value) that names a mode (modeValues) in any case;
 * with `numeric`, also the texts servers read as a boolean (booleanTexts: `1`, `0`, `yes`, `off` …)
 * and small integers, as text or (nineteenth pass) as a JSON number: `{"execute": 1}` is as truthy
 * to Python, PHP and JavaScript as `"1"`, and `{"level": 9}` the same level as `?level=9`. Not a
 * header's `DNT: 1` (no `numeric` there), nor a larger number or a fraction.
 */
export function isSwitch(v: unknown, numeric = false): boolean {
  if (typeof v === 'boolean') return true;
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof one === 'number') return numeric && Number.isInteger(one) && Math.abs(one) <= 99;
  if (typeof one !== 'string' || one.length > 16) return false;
  const word = one.trim().toLowerCase();
  return modeValues.has(word) || (numeric && (booleanTexts.has(word) || smallInteger.test(word) || smallNumber(word)));
}

/**
 * A name that says what its value is, not a key of data (a date, an id): it starts with a letter and
 * has another, and no run of three digits. Kebab-case, dotted and numbered names (`risk-tier`,
 * `priority.level`, `level2`; twentieth pass) as well as `level`; not `2026-12-01`, `u123456`, `a`.
 */
function wordName(k: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_.-]{1,63}$/.test(k) && /^[A-Za-z][^A-Za-z]*[A-Za-z]/.test(k) && !/\d{3}/.test(k);
}

/** A command-line option: `-rf`, `--force`, `--since=1d` (a letter after the dashes: `-1` is a number). */
const cliOption = /^--?[A-Za-z][\w.-]{0,63}(?:=\S{0,256})?$/;

/**
 * Whether a value tells a program how to run (twentieth pass): a command-line option as the value
 * (`--force`), as its first word (`--prune --all`) or as an entry of an argument vector (`["push",
 * "--force", "origin"]`), whatever the argument is called. A tool given `-r` is not one given `-rf`.
 */
export function holdsOption(v: unknown): boolean {
  if (Array.isArray(v)) return v.length <= 256 && v.some((x) => typeof x === 'string' && x.length <= 320 && cliOption.test(x));
  if (typeof v !== 'string') return false;
  const text = v.trimStart();
  const end = text.search(/\s/);
  const first = end < 0 ? text : text.slice(0, end);
  return first.length <= 320 && cliOption.test(first);
}

/**
 * A small integer in the other spellings servers read as a number (nineteenth pass): `9.0`, `1.`
 * (PHP and JavaScript), `1e0`, `0x1` (JavaScript's `Number`, Python's `int(x, 0)`), `1_0` and
 * any Unicode decimal digits (`٣`, `１`: Python's `int()`). Fractions (`0.15`) and versions stay content.
 */
function smallNumber(word: string): boolean {
  const w = word.replace(/_/g, '');
  return /^[+-]?\p{Nd}{1,2}(?:\.0{0,4})?(?:e[+-]?\d{1,2})?$/u.test(w) || /^0[xob][0-9a-f]{1,2}$/.test(w);
}

/**
 * The order of magnitude of a number of three digits or more before its point (a JSON number, a
 * text, a query's one value): `~3d` for 100 to 999.99, `~-6d` for -100000 to -999999; undefined
 * for anything else.
 */
export function magnitude(v: unknown): string | undefined {
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof one === 'number') return Number.isFinite(one) && Math.abs(one) >= 100 ? `~${one < 0 ? '-' : ''}${Math.floor(Math.log10(Math.abs(one))) + 1}d` : undefined;
  if (typeof one !== 'string' || one.length > 40) return undefined;
  // In every spelling servers read as a number (twentieth pass, as smallNumber's): `100_000`, any
  // Unicode decimal digits (`１０００００`: Python's `int()`), `0x186a0`, `1e5`, `100000.0`.
  const text = one.trim().replace(/_/g, '');
  const sign = text.startsWith('-') ? '-' : '';
  const body = text.replace(/^[+-]/, '');
  if (/^\p{Nd}+$/u.test(body)) {
    const digits = [...body.replace(/^[0\uff10]+/, '')].length;
    return digits >= 3 ? `~${sign}${digits}d` : undefined;
  }
  const n = /^0[xob][0-9a-f]{1,16}$/i.test(body) ? Number(body) : /^\d{1,20}(?:\.\d{0,20})?(?:e\+?\d{1,3})?$/i.test(body) ? Number(body) : NaN;
  return Number.isFinite(n) && n >= 100 ? `~${sign}${Math.floor(Math.log10(n)) + 1}d` : undefined;
}

/** A number written for people: thousands grouped (`1,000`, `1'000`, `1 000.50`), a currency sign or code before it (`$5`, `€ 5,00`, `USD 5`). */
const moneyText = /^(?:[+-]?(?:[$€£¥₹]|[A-Z]{3}\s)?\s?\d{1,3}(?:[,'\s\u00a0]\d{3})+(?:[.,]\d{1,20})?|[+-]?(?:[$€£¥₹]|[A-Z]{3}\s)\s?\d{1,30}(?:[.,]\d{1,20})?)$/;

/** Epoch seconds, milliseconds and microseconds from 2001 to 2100: a time, not a quantity. */
const EPOCH_FROM = 978_307_200;
const EPOCH_TO = 4_102_444_800;

/** Whether a number (or a text of digits) is a plausible time since the epoch (EPOCH_FROM to EPOCH_TO, in s, ms or µs). */
export function epochTime(v: unknown): boolean {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{9,16}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!Number.isInteger(n)) return false;
  return [1, 1e3, 1e6].some((k) => n >= EPOCH_FROM * k && n <= EPOCH_TO * k);
}

/**
 * How a number under a name that says what its value is (and no count's, id's or window's) is
 * compared (twenty-second pass): exactly, as sent (a JSON number, a text in any spelling magnitude
 * reads, a quantity with a unit: `5%`, `2Gi`), a time by its magnitude; undefined for no number.
 */
export function numberPlace(v: unknown): string | undefined {
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof one === 'number' ? !Number.isFinite(one) : typeof one !== 'string' || one.length > 40 || !(quantity(one) || magnitude(one) !== undefined || moneyText.test(one.trim()))) return undefined;
  return epochTime(one) ? magnitude(one) : placeValue(v);
}

/**
 * A duration as the value (twenty-first pass, follow-up): ISO 8601's `PT1H`, `P100Y`, `P1DT12H`, and
 * Go's, systemd's and most configs' `8h`, `1h30m`, `36500d`, `1.5s`. A grant for an hour's access
 * covers no century's, whatever the argument is called (not under a read's window or a wait's name).
 */
const isoDuration = /^P(?=\d|T\d)(?:\d{1,9}Y)?(?:\d{1,9}M)?(?:\d{1,9}W)?(?:\d{1,9}D)?(?:T(?=\d)(?:\d{1,9}H)?(?:\d{1,9}M)?(?:\d{1,9}(?:[.,]\d{1,9})?S)?)?$/i;
const unitDuration = /^(?:\d{1,12}(?:\.\d{1,9})?\s?(?:ns|us|µs|ms|s|sec|secs|m|min|mins|h|hr|hrs|d|w|wk|y|yr))+$/i;
/**
 * A schedule as the value under a name no list holds (twenty-third pass): a cron line (`0 0 * * *`,
 * Quartz's six or seven fields), a nickname (`@daily`, `@every 1m`), AWS's `rate(1 day)` and
 * `cron(…)`: compared exactly, as under `cron`.
 */
export function scheduleText(v: unknown): boolean {
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof one !== 'string' || one.length > 128) return false;
  const text = one.trim();
  return /^(?:[\d*?LW#/,-]+|[A-Za-z]{3}(?:[,-][A-Za-z]{3})*)(?:[ \t]+(?:[\d*?LW#/,-]+|[A-Za-z]{3}(?:[,-][A-Za-z]{3})*)){4,6}$/.test(text) && /[*\d]/.test(text)
    || /^@(?:yearly|annually|monthly|weekly|daily|midnight|hourly|reboot|every\s+\S{1,20})$/i.test(text) || /^(?:rate|cron|at)\([^()]{1,100}\)$/i.test(text)
    // ISO 8601's repeating interval (`R/2026-12-08T09:00:00Z/P1D`, `R5/…`).
    || /^R\d{0,9}\/[^\s/]{1,40}(?:\/[^\s/]{1,40})?$/.test(text);
}
function durationText(v: unknown): boolean {
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof one !== 'string' || one.length > 64) return false;
  const text = one.trim();
  return isoDuration.test(text) || unitDuration.test(text);
}
/** Whether a name says it windows a read or paces a call (timeWindowWords), so a duration under it varies. */
const windowName = (key: string): boolean => key.length > 64 || nameWords(key).some((w) => timeWindowWords.has(w));

/** How many digits a number (a JSON number or text, or a query's one value) has before its point, in any spelling magnitude reads; undefined for anything else. */
function digitCount(v: unknown): number | undefined {
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  if (typeof one === 'number' && Number.isFinite(one)) return Math.abs(one) < 1 ? 1 : Math.floor(Math.log10(Math.abs(one))) + 1;
  if (typeof one !== 'string' || one.length > 40) return undefined;
  const m = /^([+-]?)(\d{1,30})(?:\.\d{0,20})?$/.exec(one.trim());
  return m ? Math.max(1, m[2]!.replace(/^0+/, '').length) : magnitude(one) === undefined ? undefined : Number(magnitude(one)!.replace(/[~d-]/g, ''));
}

/** The first significant digit of a number digitCount reads (`0` below 1), or `?`. */
function leadingDigit(v: unknown): string {
  const one = Array.isArray(v) && v.length === 1 ? v[0] : v;
  const n = typeof one === 'number' ? Math.abs(one) : typeof one === 'string' && one.length <= 40 ? Math.abs(Number(one.trim().replace(/[_,]/g, ''))) : NaN;
  if (!Number.isFinite(n)) return '?';
  return n < 1 ? '0' : n.toExponential()[0]!;
}

/**
 * A JSON list of 2 to 64 numbers read as its entries would be alone (twenty-first pass, follow-up):
 * exactly under a size's or a duration's name, otherwise each small integer exactly and each larger
 * one by magnitude; undefined for other lists and for lists of fractions only.
 */
function numberListPlace(v: unknown, exact: boolean): string | undefined {
  if (!Array.isArray(v) || v.length < 2 || v.length > 64 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) return undefined;
  if (exact) return placeValue(v);
  // Integers exactly (twenty-second pass: `[900, 900]` is not `[999, 999]`), times by magnitude, fractions not.
  const each = v.map((x: number) => (!Number.isInteger(x) ? '#' : epochTime(x) ? magnitude(x)! : String(x)));
  return each.some((x) => x !== '#') ? `[${each.join(',')}]` : undefined;
}

/**
 * A small integer text (`9`, `01`, `-1`; eighteenth pass): `int()` reads any of them as true, and
 * under a name no list holds it is as often a level, tier or priority (`?level=9`, `tier: "3"`) as a
 * switch, so it is compared as one. Longer ones (a timestamp, a cache buster, a port) and those
 * under a count's or an id's name (isNumberName) stay content.
 */
const smallInteger = /^[+-]?\d{1,2}$/;

/**
 * Words of a name that say its value is how the call runs or where (seventeenth pass): `mode=real`,
 * `env=prod`, `stage`, `live`: another value is another run, whatever it is.
 */
const modeNameWords = new Set(['mode', 'modes', 'env', 'environment', 'stage', 'live']);

/** Whether an argument's or header's name says it holds a mode (modeNameWords, in any case style). */
export function isModeName(key: string): boolean {
  return nameWords(key).some((w) => modeNameWords.has(w));
}

/**
 * Where traffic comes from or goes, without a scheme (eighteenth pass): an IPv4 address (with a
 * CIDR prefix or a port), an IPv6 one (`::` in it, or all eight groups; a CIDR prefix), a
 * scheme-relative URL (`//host/…`) or a host name with a path (`ci.corp.example/hook`). A firewall
 * rule's `sourceRanges: ["0.0.0.0/0"]` is not the office's `198.51.100.7/32`. Times (`12:30:00`),
 * versions (`1.2.3`), device ids (`aa:bb:…`) and file names (`report.pdf`) are none of these.
 */
function networkAddress(text: string): boolean {
  if (text.length > 300) return false;
  if (/^\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?(?::\d{1,5})?$/.test(text)) return true;
  if (/^[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\/\d{1,3})?$/i.test(text) && (text.includes('::') || text.split(':').length === 8)) return true;
  if (/^\/\/[a-z0-9.-]{1,253}(?::\d{1,5})?(?:[/?#]\S*)?$/i.test(text)) return text.slice(2).split(/[/:?#]/)[0]!.includes('.');
  if (/^(?:[a-z0-9-]{1,63}\.){1,8}[a-z]{2,24}(?::\d{1,5})?\/\S*$/i.test(text)) return true;
  // (Twenty-third pass) a host name alone, with no path: where a probe, relay, mirror or forward
  // goes (`upstream: "web1.corp.example"`, `relay: "db:5432"` is not `"evil.attacker.example:443"`):
  // with a port, under a top-level domain's name, or of three labels or more but a file's name (`a.tar.gz`).
  // (A fully qualified name's trailing dot is the same host; labels in any script: `bücher.example`.)
  const host = /^((?:[\p{L}\p{N}-]{1,63}\.){0,8}(\p{L}[\p{L}\p{N}-]{0,62}))\.?(?::(\d{1,5}))?$/iu.exec(text);
  if (!host) return false;
  const dots = host[1]!.split('.').length - 1;
  const last = host[2]!.toLowerCase();
  if (host[3] !== undefined) return dots > 0 || last === 'localhost';
  return dots > 0 && (hostSuffixes.has(last) || (dots >= 2 && !fileSuffixes.has(last)));
}
/** Top-level domains a host alone is read by (generic ones and those of private networks). */
const hostSuffixes = new Set(['com', 'net', 'org', 'io', 'dev', 'app', 'ai', 'co', 'cloud', 'xyz', 'info', 'biz', 'me', 'us', 'uk', 'de', 'fr', 'eu', 'example', 'internal', 'local', 'localhost', 'lan', 'corp', 'home', 'test', 'invalid', 'onion', 'arpa']);
/** Last parts of file names a host of three labels or more is not (`backup.tar.gz`, `app.min.js`). */
const fileSuffixes = new Set(['gz', 'bz2', 'xz', 'zst', 'zip', 'tar', 'tgz', 'json', 'yaml', 'yml', 'txt', 'csv', 'tsv', 'log', 'md', 'py', 'js', 'mjs', 'cjs', 'ts', 'tsx', 'jsx', 'go', 'rs', 'rb', 'java', 'sh', 'html', 'htm', 'css',
  'pdf', 'png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'bak', 'tmp', 'conf', 'cfg', 'ini', 'env', 'lock', 'sql', 'db', 'sqlite', 'xml', 'toml', 'pem', 'key', 'crt', 'cer', 'map', 'whl', 'jar', 'deb', 'rpm', 'bin', 'exe', 'dll', 'so', 'dylib', 'docx', 'xlsx', 'pptx', 'parquet', 'avro', 'proto', 'part', 'old', 'orig', 'swp']);

/** A URL with a scheme (`https://…`, `s3://…`, `mailto:…`, `tel:…`), a network address or an e-mail address, as the whole value (or one of a list's). */
export function isAddress(v: unknown): boolean {
  if (Array.isArray(v)) return v.length <= MAX_MCP_PLACES && v.some((x) => typeof x === 'string' && isAddress(x));
  if (typeof v !== 'string' || v.length > 4096) return false;
  const text = v.trim();
  if (/^[a-z][a-z0-9+.-]{0,30}:\/\/[^\s]+$/i.test(text) || /^(?:mailto|tel|sms|callto|xmpp):[^\s]+$/i.test(text)) return true;
  if (networkAddress(text)) return true;
  // An address with a display name (RFC 5322's `Alice <alice@corp.example>`, `"Eve" <…>`; twenty-second
  // pass): the address between the last `<` and the closing `>`, the name before holding neither.
  const lt = text.lastIndexOf('<');
  if (lt >= 0 && text.endsWith('>') && text.indexOf('<') === lt && !text.slice(0, lt).includes('>') && lt <= 256) {
    const inner = text.slice(lt + 1, -1);
    return inner.length > 0 && !/[\s<>]/.test(inner) && isAddress(inner);
  }
  // local@domain.tld, no blanks, one `@`, a dot in the domain (a linear check, not a pattern)
  const at = text.indexOf('@');
  return at > 0 && at === text.lastIndexOf('@') && text.length <= 320 && !/\s/.test(text) && text.indexOf('.', at + 2) > at + 1 && !text.endsWith('.');
}

/** A name that says its value is a credential (`webhook_secret`, `channel_token`, `password`, `api_key`). */
const credentialName = (k: string): boolean => /token|secret|passw|credential|api[-_]?key|access[-_]?key|private[-_]?key|signature/i.test(k);

/** A Matrix user, room or alias id (`@alice:corp.example`, `!room:server`, `#team:server`). */
const matrixId = /^[@!#+][^\s:]{1,255}:[^\s]{1,255}$/;

/** A name that is itself an address: a URL, an e-mail address or a Matrix id. */
const isAddressKey = (k: string): boolean => k.length <= 512 && (matrixId.test(k) || isAddress(k));

/** Longest string read as nested JSON for places. */
const MAX_NESTED_JSON = 64 * 1024;

/** A string that holds a JSON object or array, parsed; anything else as it is. */
function parsedJsonString(x: unknown): unknown {
  if (typeof x !== 'string' || x.length > MAX_NESTED_JSON) return x;
  const c = x.trimStart()[0];
  if (c !== '{' && c !== '[') return x;
  try {
    const v: unknown = JSON.parse(x);
    return v && typeof v === 'object' ? v : x;
  } catch {
    return x;
  }
}

/**
 * An argument's or header's name as spelled, for a grant's target: as it is when it holds only
 * word characters, `.`, `-`, `[` and `]`; otherwise by the digest of its UTF-16 code units (a name
 * holding `;`, `=`, `|` or `)` cannot pass for another place, nor two lone surrogates for one).
 */
export function spelledName(name: string): string {
  return /^[\w.\-[\]]*$/.test(name) ? name : `name-${createHash('sha256').update(Buffer.from(name, 'utf16le')).digest('hex').slice(0, 16)}`;
}

/** A service operation whose body is data it stores (PostgREST rows, also through pg_graphql; Storage or KV objects), not arguments naming whom it reaches. */
export function storesData(operation: string | undefined): boolean {
  return /^(rows|storage|kv\.values)\./.test(operation ?? '');
}

/** The start of an SSH public key (OpenSSH's and security keys' types) or an armored PGP or PEM public key. */
const publicKey = /^\s*(?:ssh-(?:rsa|dss|ed25519|ed448)|ecdsa-sha2-|sk-(?:ssh-ed25519|ecdsa-sha2-)|-----BEGIN (?:PGP |RSA |SSH2 )?PUBLIC KEY)/;

/** The names servers register a parameter spelled `raw` by (body.ts parameterNames; `%uXXXX` decoded as ASP.NET and IIS do). */
function serverNames(raw: string): string[] {
  const names = parameterNames(raw);
  return raw.includes('%u') || raw.includes('%U') ? [...names, ...parameterNames(percentU(raw))] : names;
}

/**
 * Items as a multiset, sorted (twenty-second pass): each distinct item once, followed by `*N` when
 * it occurs N > 1 times. A batch of fifty identical tool calls, JSON-RPC calls or GraphQL mutations
 * (an array, or one field under fifty aliases) runs fifty times: a grant for the one call covers no
 * batch of it.
 */
export function counted(items: Iterable<string>): string[] {
  const n = new Map<string, number>();
  for (const i of items) n.set(i, (n.get(i) ?? 0) + 1);
  return [...n].map(([i, k]) => (k > 1 ? `${i}*${k}` : i)).sort();
}

export const digest = (text: string): string => `sha256-${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;

/** Values looked at for an inexact number, at most; past it the value counts as holding one. */
const MAX_NUMBER_SCAN = 100_000;

/**
 * Whether a parsed JSON value holds an integer a 64-bit float cannot keep (past 2^53): the parsed
 * copy reads `1234567890123456789` and `…790` as one number, while servers that read integers
 * exactly (Python, Go's int64, Jackson's long) act on two different ids. Such a value proves no
 * sameness: as a place it is `?`, in a digest it makes the scope unreadable.
 */
export function inexactNumber(v: unknown): boolean {
  const stack: unknown[] = [v];
  let seen = 0;
  while (stack.length) {
    const x = stack.pop();
    if (++seen > MAX_NUMBER_SCAN) return true;
    if (typeof x === 'number') {
      if (Number.isInteger(x) && !Number.isSafeInteger(x)) return true;
    } else if (Array.isArray(x)) for (const y of x) stack.push(y);
    else if (x && typeof x === 'object') for (const y of Object.values(x)) stack.push(y);
  }
  return false;
}

/** The digest of a JSON value, or `?` when it holds an inexact number. */
export function valueDigest(v: unknown): string {
  return inexactNumber(v) ? '?' : digest(JSON.stringify(v) ?? '');
}

/** A text JSON would read as another type: a number, a boolean or null (any case: `False`, `NULL`). */
const typedText = /^(?:true|false|null|[+-]?\d*(?:\.\d*)?(?:e[+-]?\d+)?)$/i;

export function placeValue(v: unknown): string {
  const one = (x: unknown): string => {
    if (typeof x !== 'string' && typeof x !== 'number' && typeof x !== 'boolean') return '?';
    if (typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x)) return '?';
    // A text that reads as a number, a boolean or null (or starts as a quoted text or a list does)
    // is shown quoted (twentieth pass): `"false"` and `"0"` are true to JavaScript's and Python's
    // tests of truth, `false` and `0` are not, so they are different values.
    const text = typeof x === 'string' && (typedText.test(x) || x.startsWith('"') || x.startsWith('[')) ? JSON.stringify(x) : String(x);
    // Long values by digest: the target stays short, equal values still compare equal.
    return text.length <= 200 && !/[;=,?]/.test(text) ? text : digest(text);
  };
  if (!Array.isArray(v)) return one(v);
  // A list of one value that is no text is not that value (`[false]` is true where `false` is not).
  // (A list of one text is the text: a query's or form's one value.)
  if (v.length === 1 && typeof v[0] !== 'string') return `[${one(v[0])}]`;
  // Past 50 entries the list ends in `?` (no grant covers it) rather than growing without bound.
  return v.slice(0, 50).map(one).concat(v.length > 50 ? ['?'] : []).join(',');
}

/**
 * Words that name an object by id (`issueId`, `noteable_id`, `ids`, GitLab's `fullPath` is `path`
 * above): where a GraphQL mutation on a host no module describes acts, as the ids in a REST path are.
 */
// Not `key`: an `apiKey` argument's value would be written into the grant's target.
const idWords = new Set(['id', 'ids', 'gid', 'uuid', 'slug', 'handle']);
/** Ids a client makes up per request (Relay's `clientMutationId`, tracing): they name no object. */
const perRequestIds = new Set(['clientmutationid', 'requestid', 'traceid', 'spanid', 'correlationid']);

/** Whether a name says it holds an object's id (`id`, `user_id`, `pk`). */
const isIdName = (key: string): boolean => nameWords(key).some((w) => idWords.has(w) || w === 'pk' || w === 'oid' || w === 'guid');

/**
 * Whether a name ends in an id word (`issue_id`, `itemId`, `noteUUID`, `post_slug`, `order-pk`): it
 * names the object a handler looks up (`Issue.find(params[:issue_id])`), as `id` does; ids a
 * client makes per request (`request_id`, `clientMutationId`) aside (nineteenth pass).
 */
export function isObjectIdName(key: string): boolean {
  const words = nameWords(key).filter(Boolean);
  const last = words[words.length - 1];
  return last !== undefined && (idWords.has(last) || last === 'pk' || last === 'oid' || last === 'guid') && !perRequestIds.has(foldCase(key).replace(/[_-]/g, ''));
}

/** Words of a name that say it counts or positions (`page`, `offset`, `retry_count`): its `0` or `1` is a number, not a switch. */
const countWords = new Set(['page', 'offset', 'limit', 'count', 'index', 'position', 'seq', 'sequence', 'version', 'attempt', 'attempts', 'retry', 'retries', 'size', 'quantity', 'qty', 'total', 'width', 'height', 'line', 'row', 'column', 'number', 'num',
  // (Eighteenth pass: small integers are compared under other names, so the usual counts, spans and times are named here.)
  'n', 'k', 'top', 'first', 'last', 'skip', 'take', 'max', 'min', 'per', 'days', 'day', 'hours', 'hour', 'minutes', 'minute', 'seconds', 'second', 'weeks', 'week', 'months', 'month', 'year', 'years',
  // (Nineteenth pass: small JSON integers are compared too, so a seed, a delay, coordinates and sizes are named here.)
  'seed', 'delay', 'x', 'y', 'z', 'w', 'h', 'angle',
  // (Twenty-second pass: numbers under other names are compared exactly, so where a pointer or a shape is, is named here.)
  'coordinate', 'coordinates', 'coords', 'point', 'points', 'delta', 'dx', 'dy', 'bbox', 'rect', 'center',
  // and what a client counts per request or per write: a `nonce`, a document's `revision` (as its version), time `elapsed`.
  'nonce', 'revision', 'rev', 'generation', 'elapsed', 'rotation', 'radius', 'opacity', 'volume',
  'timeout', 'ttl', 'age', 'depth', 'zoom', 'precision', 'decimals', 'digits', 'rows', 'cols', 'columns', 'lines', 'items', 'results', 'start', 'end', 'v', 'lat', 'lng', 'lon', 'quality', 'scale', 'step', 'interval', 'period', 'window', 'batch', 'chunk', 'part', 'round', 'tab', 'slide', 'frame', 'shard', 'partition', 'replica', 'port', 'rank', 'rating', 'score', 'stars']);
/**
 * Count words that are also verbs or adjectives (twenty-first pass): `skip`, `take`, `top`,
 * `first`, `last`, `start` name a count as the name's last word (`$skip`, `take`, `first`,
 * `page_start`), not before another (`skip_backup: 1`, `skip_checks=yes`: a switch that drops a
 * safeguard, which a grant for `skip_backup: 0` must not cover).
 */
const countAtEndWords = new Set(['skip', 'take', 'top', 'first', 'last', 'start']);
export const isNumberName = (key: string): boolean => {
  if (isIdName(key)) return true;
  const words = nameWords(key).filter(Boolean);
  return words.some((w, i) => countWords.has(w) && (i === words.length - 1 || !countAtEndWords.has(w)));
};

/**
 * Names (folded as above) of the arguments that say which objects a call acts on (MongoDB's
 * `filter`, a `where`, CouchDB's `selector`, `criteria`, `conditions`): for a bulk delete or update
 * (bulkCall) they are its place, as a query's ids are a DELETE's; `{}` is every document.
 */
export const selectionArguments: ReadonlySet<string> = new Set(['filter', 'filters', 'where', 'selector', 'criteria', 'condition', 'conditions', 'predicate', 'match', 'matching']);

/**
 * Words of a name that say how many, or which by age, a bulk delete or update acts on, beside its
 * filter (twentieth pass): a purge's `limit`, `max_count`, `top`, `older_than_days`, `before`,
 * `since`, `keep_last`. A purge of 100 messages older than 30 days is not one of 100,000, nor of
 * every message (`older_than_days: 0`). Outside a bulk call they page and window a list freely.
 */
const bulkSelectionWords = new Set(['limit', 'max', 'count', 'top', 'first', 'last', 'take', 'n', 'batch', 'size', 'before', 'after', 'since', 'older', 'newer', 'age',
  'days', 'hours', 'minutes', 'seconds', 'weeks', 'months', 'years', 'keep', 'retain', 'from',
  // (Twenty-third pass) and which page of what it selects: a grant for purging the first page
  // (`cursor`, `page`, `offset`, `skip`, `marker`, a continuation) covers no other page, one by one all of them.
  'cursor', 'offset', 'skip', 'marker', 'continuation', 'scroll', 'startafter', 'pagination']);

/** Words of a call's name (a path segment, a tool's name) that say it deletes or changes what it selects, many at once. */
const bulkWords = new Set(['delete', 'deletes', 'remove', 'purge', 'destroy', 'archive', 'trash', 'wipe', 'clear', 'erase', 'truncate', 'update', 'updates', 'modify', 'patch', 'replace', 'bulk', 'many', 'all']);

/** Whether a call's name (a path segment or a tool's name: `deleteMany`, `bulk_delete`, `_purge`) says it acts on what it selects. */
export function bulkCall(name: string): boolean {
  return name.length <= 200 && nameWords(name).some((w) => bulkWords.has(w));
}

/**
 * Names (folded as above) by which calls whose operation is a parameter name the page or object
 * they act on: MediaWiki's `action=edit&title=…` (`MediaWiki:Common.js`, the site's script, beside
 * a sandbox page), `titles`, `pageids`, `oldid`, a move's `fromtitle`/`totitle`.
 */
export const pageArguments: ReadonlySet<string> = new Set(['title', 'titles', 'page', 'pageid', 'pageids', 'fromtitle', 'totitle', 'fromid', 'toid', 'oldid', 'revid', 'revids', 'undo', 'undoafter']);

/**
 * How a call's arguments are read: `places`, the place and effect words of a call whose operation
 * is its only description (MCP, JSON-RPC, GraphQL, REST on hosts no module describes); `effects`,
 * only the arguments that change what the call does (a service operation whose body is stored data:
 * table rows, an object's bytes); `service`, the place and effect words of a service operation's
 * arguments (whom a collaborator, reviewer or invitation names, where a webhook or a transfer goes:
 * the module names the operation and its place, the arguments say whom it reaches: serviceReachWords).
 */
export type ArgumentReading = 'places' | 'effects' | 'service';

/**
 * The place arguments of one call's named arguments, at any depth (bounded) and inside lists of
 * objects, joined; `(arguments)=?` among them when the arguments are too large or deep to read.
 * Undefined past MAX_MCP_PLACES places (a service operation's are then named by their digest).
 */
export function argumentPlaces(args: unknown, budget: { nodes: number }, ids = false, extra?: ReadonlySet<string>, nestedJson = false, reading: ArgumentReading = 'places'): string | undefined {
  const places = new Set<string>();
  let unread = false;
  const effectsOnly = reading === 'effects';
  // A service operation's body may be large and deep too (a tree of files, a batch of model requests).
  const wide = reading !== 'places';
  const maxNodes = wide ? MAX_EFFECT_ARGUMENT_NODES : MAX_MCP_ARGUMENT_NODES;
  const maxDepth = wide ? MAX_EFFECT_ARGUMENT_DEPTH : MAX_MCP_ARGUMENT_DEPTH;
  // With `nestedJson`, a string holding a JSON object or array is read as it (a form's
  // `payload={"to": …}`, a JSON string of JSON): servers and SDKs parse such fields.
  const value = (x: unknown): unknown => (nestedJson ? parsedJsonString(x) : x);
  // Where pick adds what it finds (an entry of a list gathers its own first).
  let sink = places;
  const pick = (o: unknown, prefix: string, depth: number): void => {
    if (!o || typeof o !== 'object') return;
    if (++budget.nodes > maxNodes || depth > maxDepth) {
      unread = true;
      return;
    }
    if (Array.isArray(o)) {
      // How many entries name each place (twentieth pass): a list of three payouts of 5 to alice is
      // not the approved one payout, though it names the same places. Each entry's places are
      // gathered apart and the list of more than one is also placed by the multiset of them.
      const outer = sink;
      const entries = new Map<string, number>();
      for (const raw of o) {
        const x = value(raw);
        if (!x || typeof x !== 'object') continue;
        sink = new Set();
        pick(x, prefix, depth + 1);
        for (const p of sink) outer.add(p);
        const key = [...sink].sort().join(';');
        if (key) entries.set(key, (entries.get(key) ?? 0) + 1);
        sink = outer;
      }
      if (o.length > 1 && entries.size) sink.add(`${prefix}(entries)=${digest(JSON.stringify([...entries].sort()))}`);
      return;
    }
    // An order's or transfer's object: its `size`, `volume`, `value` is how much (twenty-first pass).
    const trade = tradesSomething(o as Record<string, unknown>);
    // A CloudEvent (structured mode: it has a `specversion`): its `type`, `source`, `subject` say what
    // happened and to what, which every subscriber acts on (twenty-second pass).
    const event = typeof (o as Record<string, unknown>).specversion === 'string';
    for (const [k, raw] of Object.entries(o as Record<string, unknown>)) {
      // Parsing strings costs per entry: with `nestedJson` each entry counts against the budget.
      if (nestedJson && (++budget.nodes > maxNodes || (Array.isArray(raw) && raw.length > maxNodes))) {
        unread = true;
        return;
      }
      const parsed = Array.isArray(raw) && nestedJson ? raw.map(value) : value(raw);
      // A query's or form's one value holding a JSON list (`allow=["ci.corp.example","*"]`) is that
      // list, read as a JSON body's would be (twenty-third pass: its entries were never read).
      const v = Array.isArray(raw) && Array.isArray(parsed) && parsed.length === 1 && Array.isArray(parsed[0]) ? (parsed[0] as unknown[]) : parsed;
      // Compared as spelled: a name is found by its folded words (isPlaceName), but two spellings are
      // two arguments to a server that reads one of them (Kubernetes reads `dryRun`, not `DryRun`):
      // a grant for `?dryRun=All` (nothing done) does not cover `?DryRun=All` (the real run there).
      const name = spelledName(k);
      const nested = v && typeof v === 'object' && (!Array.isArray(v) || v.some((x) => x && typeof x === 'object'));
      // A number under this name may be a level or a switch (not a count's, an id's, nor a one-letter name's).
      const numeric = !isNumberName(k) && (typeof v !== 'number' || wordName(k));
      // A place given as an object (`to: {address, name}`) is the whole object, and its parts are read too.
      // Found under every name a server registers it by (PHP cuts a name at a NUL and drops leading
      // blanks, `to%00x` and ` to` are `to` there; Rack 2 reads `[to]` as `to`; ASP.NET decodes
      // `%u0074o`): such a spelling beside the approved one is another place (fifteenth pass).
      // Repeated parameters are a query's, a form's or a path segment's (argumentsTarget's `query`, `form`, `matrix`).
      const repeatable = prefix === 'query.' || prefix === 'form.' || prefix === 'matrix.';
      let list: string | undefined;
      let number: string | undefined;
      let mail: string | undefined;
      const found = (n: string): boolean => (trade && isTradeSizeName(n)) || (event && cloudEventAttributes.has(n)) || (effectsOnly ? isEffectName(n) : reading === 'service' ? isServiceReachName(n) : isPlaceName(n, ids, extra));
      // A key that is itself an address (Matrix's send-to-device `messages: {"@alice:corp": …}`, a
      // fan-out keyed by webhook URL, variables keyed by recipient) names whom the call reaches (eighteenth pass).
      if (!effectsOnly && isAddressKey(k)) sink.add(`${prefix}(key)=${placeValue(k)}`);
      // A credential under a place word (`webhook_secret`, `channel_token`) by its digest: grants keep no credential's value.
      if (found(k) || (/[\0 [\]%]/.test(k) && serverNames(k).some((n) => n !== k && found(n)))) sink.add(`${prefix}${name}=${nested || credentialName(k) ? valueDigest(v) : placeValue(v)}`);
      // A public key is whom a call lets in, whatever its name (a deploy key, an SSH or GPG key
      // added to an account, a signing key): another key is another grantee (fifteenth pass).
      else if (!effectsOnly && typeof v === 'string' && publicKey.test(v)) sink.add(`${prefix}${name}=${digest(v)}`);
      // What kind of object, or which version, a call acts on (twenty-eighth pass; kindWords): outside lists of objects.
      // (Under every name a server registers it by, as a place word: PHP's `type%00x`, ASP.NET's `%u0074ype`.)
      else if (reading === 'places' && kindValue(v) && !prefix.includes('[]') && (isKindName(k) || (/[\0 [\]%]/.test(k) && serverNames(k).some((n) => n !== k && isKindName(n))))) sink.add(`${prefix}${name}=${placeValue(v)}`);
      // A switch (`true`/`false` in JSON or as a query or form value, or a mode such as `preview`,
      // `live`, `draft`) says how the call acts, not what it carries, whatever its name (sixteenth
      // pass): `simulate`, `commit`, `apply`, `notify`, `plan-only`, `mode` … a grant for the
      // rehearsal covers no real run.
      // (A service's module names its operation and reads its flags itself: `draft`, `default_branch_only`.)
      // An address — a URL (`https://…`, `s3://…`, `mailto:`) or an e-mail address — is where the
      // call reaches whatever its name (`callback`, `postback`, `notify`, `sink`, `next` …; sixteenth pass).
      // A name that says it holds a mode (`mode=real`, `env=prod`) is compared whatever the value
      // (a scalar; seventeenth pass), and `0`/`1`, `yes`/`no`, `on`/`off` are switches as `true` is
      // (under an id's or a count's name `1` is a number: `PUT /items/1 {"id": 1}`, `page=1`).
      // (A JSON number only under a name of two letters or more: a map keyed by data, `counts: {"2026-12-01": 3}`,
      // holds numbers as content, and a one-letter name (`{"a": 1}`) says nothing of a level or switch.)
      // A command-line option says how a program runs whatever its name (`flags: "--force"`, an
      // argument vector holding one; twentieth pass).
      // A privilege as the value (`membership: "owner"`) is whom the call empowers whatever its name (twenty-first pass).
      // A query's or form's parameter repeated holding a switch or a number (`?go=yes&go=yes`,
      // `quorum=900&quorum=900`: PHP and Rails read the last, Express an array, truthy) is compared
      // whole, exactly (twenty-first pass). (A JSON list of numbers is data: a series, a tally.)
      // A wildcard pattern as the value (`s3:*`, `acme/*`, `arn:aws:s3:::*`, `*.corp.example`) names every
      // object it matches, whatever its name (twenty-second pass): a grant for one repository covers no `*`.
      else if (reading === 'places' && (isSwitch(v, numeric) || isAddress(v) || (!nested && isModeName(k)) || holdsOption(v) || namesPrivilege(v) || (repeatable && repeatedSwitch(v, numeric)) || holdsWildcard(v))) sink.add(`${prefix}${name}=${placeValue(v)}`);
      // An integer of three digits or more under a name no list holds (a `level`, `ceiling`, `burst`,
      // `replicas`) by its order of magnitude (twentieth pass): a grant for 100 covers 100 to 999,
      // not 100,000; ids, timestamps and cache busters keep theirs.
      // Under a name that says how much the call runs or uses, a number or a quantity (`0.5`, `512Mi`)
      // exactly (twenty-first pass: a grant for 100 covered 999, one for `cpu: 0.5` covered `8.5`).
      // (Also beside a count's word: `max_replicas`, `memory_limit`; not an id's.)
      // (Twenty-first pass, follow-up) how long access lasts by a unit's word beside another (`access_hours`)
      // likewise; under a unit alone (`days`, `minutes`: as often a read's window) by its count of digits, 1 to 9 apart from 8760.
      else if (reading === 'places' && (isSizeName(k) || isDurationName(k, false)) && !isIdName(k) && quantity(Array.isArray(v) && v.length === 1 ? v[0] : v)) sink.add(`${prefix}${name}=${placeValue(v)}`);
      // (Twenty-third pass) and in a body or a tool's arguments (what a call sets) by its first digit too:
      // `hours: 1` then `9` is nine times as long; 30 and 39 stay one. (A query's `?days=` is as often a read's window.)
      else if (reading === 'places' && isDurationName(k) && digitCount(v) !== undefined) sink.add(`${prefix}${name}=~${prefix.startsWith('query.') ? '' : `${leadingDigit(v)}x`}${digitCount(v)}d`);
      // A duration as the value (`PT1H`, `8h`) under a name no list holds, exactly (not a wait's nor a window's: `timeout`, `poll_interval`).
      else if (reading === 'places' && !isNumberName(k) && !windowName(k) && durationText(v)) sink.add(`${prefix}${name}=${placeValue(v)}`);
      else if (reading === 'places' && scheduleText(v)) sink.add(`${prefix}${name}=${placeValue(v)}`);
      // (Twenty-fourth pass) when what a call grants, pays or shares begins, as a date: by its day (a
      // time of the same day is the same start), so a backdated `effective_date` or `starts_at` (back
      // pay, a share reaching into the past) is not the approved one.
      else if (reading === 'places' && isStartName(k) && startDay(v) !== undefined) sink.add(`${prefix}${name}=~${startDay(v)}`);
      // (Twenty-second pass) Under a name that says what its value is, any number exactly, within its
      // magnitude too (`quorum: 100` then `999`, `ratio: 0.1` then `0.9`, `cents`, `usd`, `btc: 0.5`,
      // `traffic: "5%"`): what it counts is not known, so no other value is known to do no more. A
      // time (epoch seconds or milliseconds) still varies by magnitude, and counts, ids, windows do.
      else if (reading === 'places' && numeric && wordName(k) && (number = numberPlace(v)) !== undefined) sink.add(`${prefix}${name}=${number}`);
      else if (reading === 'places' && numeric && magnitude(v) !== undefined) sink.add(`${prefix}${name}=${magnitude(v)}`);
      // A JSON list of numbers under a name no list holds (`quorum: [900, 900]`, `level: [9, 9]`) is
      // read entry by entry as its one number would be (twenty-first pass, follow-up): small integers
      // exactly, larger ones by magnitude, and how many; fractions (coordinates, a series) stay content.
      else if (reading === 'places' && numeric && Array.isArray(v) && wordName(k) && (list = numberListPlace(v, isSizeName(k) || isDurationName(k))) !== undefined) sink.add(`${prefix}${name}=${list}`);
      // A whole message as the value (RFC 5322, as text or base64: a `raw` send, a tool's `message`):
      // whom its header block names — To, Cc, Bcc, From, Reply-To — is where it goes (twenty-second pass).
      // (A query's or form's values are lists of texts: each is read.)
      if (reading === 'places') {
        for (const x of Array.isArray(v) ? v.slice(0, MAX_MCP_PLACES) : [v]) if (typeof x === 'string' && (mail = encodedMessageAddresses(x)) !== undefined) sink.add(`${prefix}${name}(message)=${mail === '?' ? '?' : digest(mail)}`);
      }
      if (nested) pick(v, `${prefix}${name}${Array.isArray(v) ? '[]' : ''}.`, depth + 1);
    }
  };
  pick(args, '', 0);
  if (unread) places.add('(arguments)=?');
  const sorted = [...places].sort();
  if (places.size > MAX_MCP_PLACES) return wide && !unread ? `(places)=${digest(sorted.join(';'))}` : undefined;
  return sorted.join(';');
}


/**
 * Words of a call's name (an MCP tool, a JSON-RPC method, a GraphQL field, a service operation)
 * that say it deletes, changes, sends, pays or grants something it names (twenty-second pass,
 * follow-up): `delete_pod`, `kv_delete`, `closeTicket`, `issues.update`, `pay_invoice`. What such a
 * call names is its object (objectArguments). A create's, a read's and a search's are not.
 */
const objectVerbs = new Set(['delete', 'del', 'remove', 'rm', 'rmdir', 'unlink', 'purge', 'destroy', 'drop', 'erase', 'wipe', 'clear', 'truncate', 'trash', 'archive', 'unarchive',
  'unpublish', 'uninstall', 'evict', 'drain', 'cordon', 'kill', 'terminate', 'stop', 'shutdown', 'reboot', 'restart', 'cancel', 'close', 'revoke', 'disable', 'deactivate',
  'suspend', 'ban', 'unban', 'block', 'unblock', 'kick', 'expire', 'detach', 'disconnect', 'unsubscribe', 'unshare', 'unassign', 'reject', 'decline', 'dismiss', 'void', 'retract', 'abort',
  'update', 'upsert', 'modify', 'patch', 'edit', 'set', 'change', 'rename', 'move', 'mv', 'replace', 'overwrite', 'reset', 'rotate', 'scale', 'resize', 'restore', 'rollback', 'revert',
  'merge', 'reopen', 'resolve', 'transition', 'promote', 'demote', 'enable', 'activate', 'lock', 'unlock', 'approve', 'apply', 'deploy', 'publish', 'release', 'toggle', 'mark',
  'write', 'put', 'save',
  'send', 'post', 'reply', 'forward', 'notify', 'dm', 'broadcast', 'push', 'dispatch',
  'pay', 'transfer', 'refund', 'charge', 'payout', 'withdraw', 'tip', 'donate', 'capture', 'buy', 'sell', 'purchase', 'swap', 'trade',
  'grant', 'share', 'invite', 'assign', 'authorize', 'authorise', 'allow', 'permit', 'give', 'elevate', 'impersonate', 'accept', 'allowlist', 'whitelist',
  // (Twenty-third pass) and those that run what they name: `run_job {name}`, `execute_task`,
  // `start_vm`, `invoke_function`, `rollout_service`, `trigger`, `sync`: a grant for running the
  // nightly job does not cover running `wipe-prod`.
  'run', 'rerun', 'exec', 'execute', 'invoke', 'call', 'trigger', 'start', 'launch', 'spawn', 'rollout', 'redeploy', 'sync', 'provision', 'schedule',
  'enqueue', 'submit', 'fire', 'perform', 'build', 'rebuild', 'install', 'upgrade', 'downgrade', 'migrate', 'resume', 'pause', 'retry', 'replay', 'reindex', 'recreate',
  // and more that end, silence, empty or move what they name (an ops tool's, a wallet's, a pager's).
  'nuke', 'flush', 'reap', 'decommission', 'retire', 'deprovision', 'teardown', 'halt', 'freeze', 'unfreeze', 'quarantine', 'isolate', 'offboard', 'escalate',
  'mint', 'burn', 'stake', 'unstake', 'liquidate', 'settle', 'disburse', 'remit', 'wire', 'mute', 'unmute', 'silence', 'snooze', 'ack', 'acknowledge', 'tweet', 'announce',
  'mount', 'unmount', 'compact', 'vacuum', 'prune', 'expunge', 'shred', 'zap', 'scrub', 'redact', 'anonymize', 'anonymise', 'rekey', 'reissue', 'renew',
  'failover', 'switchover', 'cutover', 'sweep', 'recycle', 'reassign', 'delegate', 'sign', 'unpin', 'pin', 'hide', 'unhide', 'dedupe']);
/**
 * Verbs long enough to be found at the start of a name written as one word (`deletepod`, `killsecret`;
 * `removeUser` is split already), but those that begin common nouns (`postgres`, `market`, `locker`).
 */
const objectVerbPrefixes = [...objectVerbs].filter((w) => w.length >= 4 && w !== 'post' && w !== 'mark' && w !== 'lock');
/**
 * Short verbs glued to a noun of three letters or more (`setpod`, `delpod`, `runjob`, `rmfile`,
 * `mvfile`; twenty-third pass), or of two after `set`, `del` and `run` (`runvm`: a test's draw found it
 * granted by name alone), but where the word is a common one they begin (`settings`, `runtime`, `delta`, `payload`).
 */
const shortVerbPrefixes = ['set', 'del', 'rm', 'mv', 'run', 'put', 'pay', 'ban', 'tip', 'dm'];
/** Those glued to a noun of two letters too (`runvm`, `setdb`, `delvm`: a machine, a database, an address). */
const shortVerbsBeforeTwo = new Set(['set', 'del', 'run']);
const shortVerbWords = /^(?:sett(?:ing|le)|setup|setback|run(?:time|ner|ning|way|down|book|e)|del(?:ta|ay|iver|egat|ight|imit|ic|u|l|ph|e)|payload|paypal|payment|payroll|payee|payer|payout|ban(?:ner|k|d|an|ish|jo)|putt|tip(?:s|toe)|dmarc)/;

/** Whether a call's name says it deletes, changes, sends, pays or grants what it names (objectVerbs). */
export function actsOnObject(name: string, oneWord = true): boolean {
  if (name.length > 200) return true;
  const words = nameWords(name).filter(Boolean);
  // A read named by its noun (`get_post`, `list_releases`, `getBlock`) acts on nothing; but a noun
  // that is also a read's verb before the verb acting on it (`query_kill`, `query.halt`, `search_delete`:
  // two words, the last an object's verb) is read the way that acts (twenty-fourth pass).
  if (words.length > 1 && readVerbs.has(words[0]!)) return words.length === 2 && objectVerbs.has(words[1]!);
  if (words.some((w) => objectVerbs.has(w))) return true;
  // (Not a noun the verb makes: `deployments`, `updates`, `transfers`, `sharing`.)
  if (!oneWord || words.length !== 1) return false;
  const w = words[0]!;
  return objectVerbPrefixes.some((v) => w.startsWith(v) && !nounEndings.test(w.slice(v.length)))
    || (!shortVerbWords.test(w) && shortVerbPrefixes.some((v) => w.startsWith(v) && w.length - v.length >= (shortVerbsBeforeTwo.has(v) ? 2 : 3) && !nounEndings.test(w.slice(v.length))));
}
const nounEndings = /^(?:s|es|d|ed|r|er|ers|ing|ings|ment|ments|ion|ions|al|als)$/;

/** Argument names (folded, separators aside) under which one generic tool or route takes its verb (`pods {action: "delete", pod}`, `kubectl {verb}`, `{op}`). */
const verbArgumentNames = new Set(['action', 'actions', 'verb', 'verbs', 'op', 'ops', 'operation', 'operations', 'method', 'cmd', 'cmds', 'command', 'commands', 'subcommand', 'do', 'intent', 'task', 'mode']);

/**
 * Whether a call's arguments name a verb that deletes, changes, sends, pays, grants or runs
 * (actsOnObject) at their top (twenty-third pass): a generic tool (`pods {action: "delete", pod: "web-1"}`,
 * `kubectl {verb: "delete"}`, `manage_pods {op: "delete", name}`) acts on what it names as `delete_pod` does.
 */
export function actsByArgument(args: unknown): boolean {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return false;
  let n = 0;
  for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
    if (++n > 256) return true;
    // (A query's or form's values are lists of texts: any of them.)
    const texts = (Array.isArray(v) ? v.slice(0, 16) : [v]).filter((x): x is string => typeof x === 'string' && x.length <= 200);
    // (By its folded name or any of its words: `Action`, `action_type`, `opName`, `sub_command`.)
    if (texts.length && (verbArgumentNames.has(foldCase(k).replace(/[_\-\s.]/g, '')) || (k.length <= 64 && nameWords(k).some((w) => verbArgumentNames.has(w)))) && texts.some((x) => actsOnObject(x))) return true;
  }
  return false;
}
/**
 * Argument names (folded, separators aside) giving what a call sets its object to: a setter's
 * `value`, a toggle's `enabled`, a machine's `power` or desired `state`, a `paused` or `locked` flag.
 */
const setToNames = new Set(['value', 'val', 'newvalue', 'enabled', 'enable', 'disabled', 'disable', 'active', 'power', 'powerstate', 'state', 'desiredstate', 'targetstate', 'paused', 'suspended', 'locked', 'archived']);

/**
 * Whether a call named by no verb a list holds sets what it names by an argument (twenty-fourth
 * pass): its effect is in the arguments, not its name (`instances {instance, state: "stopped"}`,
 * `config {key, value}`, `featureflags {flag, enabled}`, a GraphQL `itemState(item, state)`), so
 * it acts on what it names as `stop_instance` does. A call named as a read (`list_instances
 * {state: "running"}`: a filter) does not.
 */
export function setsByArgument(name: string, args: unknown): boolean {
  if (!args || typeof args !== 'object' || Array.isArray(args)) return false;
  const first = nameWords(name).find(Boolean);
  if (first !== undefined && readVerbs.has(first)) return false;
  let n = 0;
  for (const k of Object.keys(args)) {
    if (++n > 256) return true;
    if (setToNames.has(foldCase(k).replace(/[_\-\s.]/g, ''))) return true;
  }
  return false;
}
const readVerbs = new Set(['get', 'list', 'read', 'fetch', 'search', 'find', 'query', 'describe', 'show', 'view', 'count', 'check', 'lookup', 'watch', 'export', 'download', 'retrieve', 'inspect', 'preview', 'browse', 'stat', 'head']);

/**
 * An argument's name that says it holds content a call carries, how it pages, waits or formats, or
 * an id a client makes per request, not which object it acts on: a message's `text`, a ticket's
 * `comment`, `commit_message`, `page_size`, `timeout_ms`, `request_id`, `timestamp`. By its last
 * word (`message_batch_id`, `comment_id`, `pull_request_number` name objects), never an id's name,
 * nor a word the call's own name holds (`delete_comment {comment: 5}`) unless the value is prose.
 * (Every other rule still reads them.)
 */
const freeLastWords = new Set(['text', 'texts', 'body', 'message', 'messages', 'msg', 'content', 'contents', 'description', 'desc', 'comment', 'comments', 'note', 'notes',
  'summary', 'title', 'subject', 'reason', 'caption', 'markdown', 'md', 'html', 'prose', 'detail', 'details', 'memo', 'remark', 'remarks', 'explanation', 'bio', 'excerpt',
  'headline', 'raw', 'mime', 'prompt', 'instructions', 'instruction', 'annotation', 'justification', 'rationale', 'display', 'displayname',
  'page', 'pagesize', 'limit', 'offset', 'cursor', 'top', 'skip', 'take', 'size', 'since', 'until', 'ago', 'window', 'lookback',
  'format', 'locale', 'lang', 'language', 'timezone', 'tz', 'verbose', 'pretty', 'indent']);
/** Words anywhere in a name that say it is shown text (`display_name`) or waits or retries (`timeout_ms`, `poll_interval`, `max_retries`). */
const freeAnyWords = new Set(['display', 'nickname', 'timeout', 'wait', 'poll', 'delay', 'backoff', 'retry', 'retries', 'attempts']);
/** Ids a client makes per request (folded, separators dropped): they name no object. */
const perRequestNames = new Set(['requestid', 'request', 'clientrequestid', 'traceid', 'spanid', 'correlationid', 'clientmutationid', 'idempotencykey', 'idempotencytoken', 'clienttoken',
  'nonce', 'timestamp', 'time', 'progresstoken', 'rid', 'reqid']);
function freeArgument(key: string, v: unknown, callWords: ReadonlySet<string>): boolean {
  if (key.length > 200) return false;
  if (perRequestNames.has(foldCase(key).replace(/[^a-z0-9]/g, ''))) return true;
  const words = nameWords(key).filter(Boolean);
  const last = words[words.length - 1];
  if (last === undefined || isObjectIdName(key)) return false;
  // The call's own noun (`delete_comment {comment}`) names its object, unless it holds prose.
  if (words.some((w) => callWords.has(w)) && !(typeof v === 'string' && /\s/.test(v.trim()))) return false;
  return freeLastWords.has(last) || words.some((w) => freeAnyWords.has(w));
}

/**
 * The object a call that deletes, changes, sends, pays or grants (actsOnObject) names, as
 * `object.<name>=<value>` items (twenty-second pass, follow-up): every scalar argument, at any
 * depth (bounded) and lists of them, under a name no list holds (`delete_pod {pod: "web-1"}`,
 * `kv_delete {key}`, `issue_number`, `close_ticket {ticket}`), content, paging, waiting and
 * per-request names aside (freeArgument). A human who approved deleting one pod granted deleting
 * that pod, not any. `undefined` past the bound (no grant shows the same object).
 */
export function objectArguments(args: unknown, call = ''): string[] | undefined {
  const out: string[] = [];
  const callWords = new Set(call.length <= 200 ? nameWords(call).filter((w) => w && !objectVerbs.has(w)).flatMap((w) => [w, w.replace(/s$/, '')]) : []);
  let nodes = 0;
  const walk = (o: unknown, at: string, depth: number): boolean => {
    if (++nodes > MAX_MCP_ARGUMENT_NODES || depth > MAX_MCP_ARGUMENT_DEPTH) return false;
    if (!o || typeof o !== 'object') return true;
    if (Array.isArray(o)) {
      for (const x of o) if (x && typeof x === 'object' && !walk(x, `${at}[]`, depth + 1)) return false;
      return true;
    }
    for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
      if (++nodes > MAX_MCP_ARGUMENT_NODES) return false;
      if (freeArgument(k, v, callWords)) continue;
      const name = `${at}${at ? '.' : ''}${spelledName(k)}`;
      const scalar = (x: unknown): boolean => x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean';
      // Never a credential's value in a grant: by its digest, compared as exactly.
      const shown = (x: unknown): string => (x === null ? 'null' : credentialName(k) || /^(?:key|secret|sig|code|auth)$/i.test(k) ? valueDigest(x) : placeValue(x));
      if (v === undefined) out.push(`object.${name}=(unset)`);
      else if (scalar(v)) out.push(`object.${name}=${shown(v)}`);
      else if (Array.isArray(v) && v.every(scalar)) out.push(`object.${name}=${v.length > 50 || v.includes(null) ? valueDigest(v) : shown(v)}`);
      else if (!walk(v, name, depth + 1)) return false;
      if (out.length > MAX_MCP_PLACES) return false;
    }
    return true;
  };
  if (!walk(args, '', 0)) return undefined;
  return out.sort();
}

/**
 * A bare id at the top of a call's arguments (`create_item {id: 6}`, `add_record {_id}`) that is no
 * read (twenty-third pass): as `POST /items {"id": 6}`, servers upsert, so it names the object
 * written. `object.<name>=<value>` items, as objectArguments gives.
 */
export function bareIdArguments(args: unknown, call: string): string[] {
  if (!args || typeof args !== 'object' || Array.isArray(args) || call.length > 200) return [];
  const words = nameWords(call).filter(Boolean);
  if (words.some((w) => readVerbs.has(w))) return [];
  const out: string[] = [];
  let n = 0;
  for (const [k, v] of Object.entries(args as Record<string, unknown>)) {
    if (++n > MAX_MCP_ARGUMENT_NODES) return ['object=?'];
    if (!['id', 'uuid', 'guid', 'gid', 'pk', 'oid'].includes(foldCase(k).replace(/[_\-]/g, ''))) continue;
    if (typeof v === 'string' || typeof v === 'number') out.push(`object.${spelledName(k)}=${placeValue(v)}`);
  }
  return out;
}

/** A call's places with its object arguments (objectArguments) beside them, each object item once: not where a place item says it already. */
export function withObjects(places: string, objects: readonly string[]): string {
  const have = new Set(places ? places.split(';') : []);
  return [places, ...objects.filter((o) => !have.has(o.slice('object.'.length)))].filter(Boolean).join(';');
}
