// Slack Web API (api.slack.com/methods): every call is `https://slack.com/api/{method}`, and Slack
// accepts GET or POST for any method — so the effect comes from the method name, never the HTTP
// verb. Incoming webhooks (hooks.slack.com/services/…) post messages.
import type { Effect, RequestInfo, ServiceInfo } from '../types.ts';
import { hostIs, type ServiceAdapter } from './adapter.ts';
import { bodyField, jsonObject } from './routes.ts';
import { formEntries, phpName } from '../body.ts';
import { appendAll } from '../../lib/arrays.ts';
import { emptyMap, lookupTable } from '../../lib/records.ts';

/** Arguments by which Web API methods name the channels they act in. */
const channelArguments = ['channel', 'channel_id', 'channels', 'channel_ids'];

const exact: Readonly<Record<string, Effect>> = lookupTable({
  'chat.postMessage': 'send',
  'chat.postEphemeral': 'send',
  'chat.meMessage': 'send',
  'chat.scheduleMessage': 'send',
  // Streaming a message (docs.slack.dev, 2025): starting, appending to and stopping a stream posts it.
  'chat.startStream': 'send',
  'chat.appendStream': 'send',
  'chat.stopStream': 'send',
  'chat.update': 'send',
  'chat.delete': 'delete',
  'chat.deleteScheduledMessage': 'delete',
  'files.upload': 'send',
  'files.completeUploadExternal': 'send',
  'files.getUploadURLExternal': 'write',
  'files.sharedPublicURL': 'send', // makes a file readable by anyone with the link
  'files.remote.share': 'send', // posts a file into channels
  'chat.unfurl': 'send', // adds content the channel sees under a message
  'files.delete': 'delete',
  'conversations.invite': 'admin',
  'conversations.inviteShared': 'admin',
  // Slack Connect: accepting or approving an invitation joins another organization to a channel
  // (its members read everything posted there); the external members' permissions likewise.
  'conversations.acceptSharedInvite': 'admin',
  'conversations.approveSharedInvite': 'admin',
  'conversations.externalInvitePermissions.set': 'admin',
  'conversations.requestSharedInvite.approve': 'admin',
  // Who may read a canvas: giving channels or people access publishes it to them.
  'canvases.access.set': 'send',
  'conversations.kick': 'admin',
  'conversations.archive': 'admin',
  'conversations.rename': 'write',
  'users.profile.set': 'admin',
  'auth.revoke': 'admin',
  'auth.test': 'read',
  'api.test': 'read',
});

/** Name suffixes that only read. Anything not listed (or unknown) is a write: fail closed. */
const readVerbs = new Set([
  'list', 'info', 'history', 'replies', 'members', 'get', 'getPresence', 'getPermalink', 'lookupByEmail', 'conversations',
  'permalink', 'identity', 'access', 'exists', 'accessLogs', 'billableInfo', 'integrationLogs', 'teamInfo',
]);

/** `exact` by lower-cased name: Slack's router does not hold clients to the documented letter case. */
const exactFolded = new Map(Object.entries(exact).map(([k, v]) => [k.toLowerCase(), v]));
const readVerbsFolded = new Set([...readVerbs].map((v) => v.toLowerCase()));

function effectOf(name: string): Effect {
  // Compared without letter case: `Chat.PostMessage` is judged as the `chat.postMessage` it may run.
  const method = name.toLowerCase();
  const known = exactFolded.get(method);
  if (known) return known;
  // Admin APIs (`admin.*`, and the older `users.admin.*` that deactivates users), apps, OAuth, and
  // app configuration tokens (`tooling.tokens.rotate` hands out a new one).
  if (method.startsWith('admin.') || method.startsWith('apps.') || method.startsWith('oauth.') || method.startsWith('tooling.') || method.split('.').includes('admin')) return 'admin';
  if (method.startsWith('search.')) return 'read';
  const verb = method.split('.').pop() ?? '';
  if (readVerbsFolded.has(verb)) return 'read';
  if (/^(delete|remove)/i.test(verb) && !method.startsWith('reactions.') && !method.startsWith('pins.') && !method.startsWith('stars.')) return 'delete';
  return 'write';
}

/**
 * The method's name as policies and labels list it: namespaces are lower-case in every documented
 * name (`conversations.`, `admin.users.`), so `Conversations.History` is named `conversations.History`
 * and still matches `conversations.**`; a documented name sent in another case gets its documented spelling.
 */
function canonicalName(name: string): string {
  const folded = name.toLowerCase();
  if (exactFolded.has(folded)) return documented.get(folded)!;
  const dot = name.lastIndexOf('.');
  return dot < 0 ? name : `${folded.slice(0, dot)}${name.slice(dot)}`;
}

const documented = new Map(Object.keys(exact).map((k) => [k.toLowerCase(), k]));

/** Every value a PHP reader takes as the parameter `key`, from the URL's query and a form body. */
function phpValues(request: RequestInfo, key: string): string[] {
  const out: string[] = [];
  for (const source of [request.body.form ?? {}, request.query]) {
    for (const [name, values] of formEntries(source)) if (name === key || phpName(name) === key) appendAll(out, values);
  }
  return out;
}

function describeSlack(request: RequestInfo): ServiceInfo {
  if (request.host === 'hooks.slack.com') {
    // /services/{team}/{bot}/{token}: the team and bot say where it posts (the token stays out).
    const [kind, team, bot] = request.segments;
    const params: Record<string, unknown> = kind === 'services' && team && bot ? { webhook: `${team}/${bot}` } : { channels: ['?'] };
    return { name: 'slack', operation: 'incoming_webhook.send', params, effect: 'send' };
  }
  const segs = request.segments;
  if (segs[0] !== 'api' || segs.length !== 2) return { name: 'slack', operation: 'unknown', params: {}, effect: 'write' };
  const method = canonicalName(segs[1]!);
  const params: Record<string, unknown> = emptyMap();
  const channel = bodyField(request, 'channel') ?? request.query.channel?.[0];
  if (channel !== undefined) params.channel = channel;
  // Slack may take the channel from the body or the URL, a repeated form field's first or last:
  // when they name different channels, every one is listed (a grant for one covers none of them).
  // Methods that post files name theirs as `channel_id` or a `channels` list
  // (files.completeUploadExternal, files.upload, files.remote.share, canvases.access.set): those
  // are where the request acts too, whatever `channel` says beside them.
  const named = new Set<string>();
  let listed = false;
  for (const key of channelArguments) {
    const json = jsonObject(request)?.[key];
    const values = [...phpValues(request, key), ...(Array.isArray(json) ? json : [json])];
    for (const v of values) {
      if (v === undefined) continue;
      if (key !== 'channel') listed = true;
      const names = typeof v !== 'string' ? ['?'] : key === 'channel' ? [v] : v.split(',').map((c) => c.trim());
      for (const c of names) named.add(c);
    }
  }
  if (named.size > 1 || listed) params.channels = [...named].sort();
  // An ephemeral message is seen by the one member its `user` names (in the channel): whom it
  // reaches, as a direct message's channel is. A grant for one member's covers no other's.
  if (method === 'chat.postEphemeral') {
    const users = [...new Set([...phpValues(request, 'user'), ...[jsonObject(request)?.user].filter((u) => u !== undefined)].map((u) => (typeof u === 'string' ? u : '?')))];
    params.user_id = users.length === 1 ? users[0] : users.length ? users.sort() : '?';
  }
  const effect = effectOf(method);
  // A message whose channel is not in the request (a `channels` list, an argument Airlock does not
  // read): no grant can show it goes where an approved one went.
  if (effect === 'send' && named.size === 0) params.channels = ['?'];
  return { name: 'slack', operation: method, params, effect };
}

export const slack: ServiceAdapter = {
  name: 'slack',
  hosts: hostIs('slack.com', 'api.slack.com', 'hooks.slack.com', 'files.slack.com'),
  describe(request) {
    if (request.host === 'files.slack.com') return { name: 'slack', operation: 'files.download', params: {}, effect: request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write' };
    return describeSlack(request);
  },
};
