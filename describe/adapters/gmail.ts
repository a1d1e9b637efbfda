// Gmail API (developers.google.com/gmail/api/reference/rest): /gmail/v1/users/{userId}/…, plus the
// media upload forms /upload/gmail/v1/… and /resumable/upload/gmail/v1/… used to send large messages. www.googleapis.com hosts many
// Google APIs, so there only /gmail/ paths are Gmail.
import type { Effect, RequestInfo, ServiceInfo } from '../types.ts';
import { delimitedParts } from '../http-batch.ts';
import { multipartBoundaries } from '../multipart.ts';
import { messageAddresses, withoutComments } from '../message-headers.ts';
import { hostIs, type ServiceAdapter } from './adapter.ts';
import { bodyField, effectByMethod, fromTable, RouteTable, type RouteSpec } from './routes.ts';

const U = '/users/{user_id}';

const routes: RouteSpec[] = [
  { route: `GET ${U}/profile`, operation: 'users.get_profile', effect: 'read' },
  { route: `POST ${U}/watch`, operation: 'users.watch', effect: 'write' },
  { route: `POST ${U}/stop`, operation: 'users.stop', effect: 'write' },
  { route: `GET ${U}/history`, operation: 'history.list', effect: 'read' },
  { route: `GET ${U}/messages`, operation: 'messages.list', effect: 'read' },
  { route: `GET ${U}/messages/{id}`, operation: 'messages.get', effect: 'read' },
  { route: `GET ${U}/messages/{message_id}/attachments/{id}`, operation: 'messages.attachments.get', effect: 'read' },
  { route: `POST ${U}/messages/send`, operation: 'messages.send', effect: 'send' },
  { route: `POST ${U}/messages`, operation: 'messages.insert', effect: 'write' },
  { route: `POST ${U}/messages/import`, operation: 'messages.import', effect: 'write' },
  { route: `POST ${U}/messages/{id}/modify`, operation: 'messages.modify', effect: 'write' },
  { route: `POST ${U}/messages/batchModify`, operation: 'messages.batch_modify', effect: 'write' },
  { route: `POST ${U}/messages/{id}/trash`, operation: 'messages.trash', effect: 'write' },
  { route: `POST ${U}/messages/{id}/untrash`, operation: 'messages.untrash', effect: 'write' },
  { route: `DELETE ${U}/messages/{id}`, operation: 'messages.delete', effect: 'delete' },
  { route: `POST ${U}/messages/batchDelete`, operation: 'messages.batch_delete', effect: 'delete' },
  { route: `GET ${U}/threads`, operation: 'threads.list', effect: 'read' },
  { route: `GET ${U}/threads/{id}`, operation: 'threads.get', effect: 'read' },
  { route: `POST ${U}/threads/{id}/modify`, operation: 'threads.modify', effect: 'write' },
  { route: `POST ${U}/threads/{id}/trash`, operation: 'threads.trash', effect: 'write' },
  { route: `POST ${U}/threads/{id}/untrash`, operation: 'threads.untrash', effect: 'write' },
  { route: `DELETE ${U}/threads/{id}`, operation: 'threads.delete', effect: 'delete' },
  { route: `GET ${U}/drafts`, operation: 'drafts.list', effect: 'read' },
  { route: `GET ${U}/drafts/{id}`, operation: 'drafts.get', effect: 'read' },
  { route: `POST ${U}/drafts`, operation: 'drafts.create', effect: 'write' },
  { route: `PUT ${U}/drafts/{id}`, operation: 'drafts.update', effect: 'write' },
  { route: `DELETE ${U}/drafts/{id}`, operation: 'drafts.delete', effect: 'delete' },
  { route: `POST ${U}/drafts/send`, operation: 'drafts.send', effect: 'send' },
  { route: `GET ${U}/labels`, operation: 'labels.list', effect: 'read' },
  { route: `GET ${U}/labels/{id}`, operation: 'labels.get', effect: 'read' },
  { route: `POST ${U}/labels`, operation: 'labels.create', effect: 'write' },
  { route: `PUT|PATCH ${U}/labels/{id}`, operation: 'labels.update', effect: 'write' },
  { route: `DELETE ${U}/labels/{id}`, operation: 'labels.delete', effect: 'delete' },
  // Settings: forwarding, filters, send-as and delegates can silently redirect mail — admin.
  { route: `GET ${U}/settings/{setting+}`, operation: 'settings.get', effect: 'read' },
  { route: `POST|PUT|PATCH|DELETE ${U}/settings/{setting+}`, operation: 'settings.update', effect: 'admin' },
];

const table = new RouteTable(routes);

/** Calls one batch may carry (Google takes at most 100). */
const MAX_BATCH_CALLS = 100;

const effectRank: Record<Effect, number> = { read: 0, write: 1, send: 2, delete: 3, pay: 3, admin: 3 };

/** A batch whose calls cannot all be read: it may carry anything (sends, deletes), so it fails closed as admin. */
function unreadableBatch(why: string): ServiceInfo {
  return { name: 'gmail', operation: 'batch', params: { error: why }, effect: 'admin' };
}

/**
 * A batch request (developers.google.com/gmail/api/guides/batch): multipart/mixed, each part an
 * `application/http` call (`GET /gmail/v1/users/me/messages/1`, headers, body). Each call is
 * judged by the route table like a request of its own, and the batch takes the most dangerous
 * call's effect (a batch of reads reads; one send in it makes it a send). A body not read whole, a
 * part that is not an HTTP call to the Gmail API, a path with dot segments or escaped slashes, or a
 * call carrying a method override makes the batch unreadable: admin, as it may carry anything.
 */
function describeBatch(request: RequestInfo): ServiceInfo {
  const header = request.headers['content-type'] ?? [];
  if (request.method !== 'POST') return unreadableBatch('a batch is a POST');
  if (header.length !== 1 || !header[0]!.trim().toLowerCase().startsWith('multipart/mixed')) return unreadableBatch('not a multipart/mixed body');
  // A header that gives several boundaries (servers take the first or the last) is not read one way.
  const boundaries = multipartBoundaries(header[0]!);
  const boundary = boundaries.length === 1 ? boundaries[0] : undefined;
  const text = request.body.text;
  if (!boundary || text === undefined || request.body.text_truncated || request.body.truncated) return unreadableBatch('the batch body was not seen whole');
  // Before the first delimiter line is preamble; after the close delimiter (`--boundary--`) epilogue.
  const calls = delimitedParts(text, boundary);
  if (!calls) return unreadableBatch('the batch body has no close delimiter, or a line only beginning with one');
  if (calls.length === 0 || calls.length > MAX_BATCH_CALLS) return unreadableBatch(`a batch of ${calls.length} calls`);
  const operations = new Set<string>();
  const users = new Set<string>();
  let worst: Effect = 'read';
  for (const part of calls) {
    const [outer, inner] = splitHead(part);
    if (inner === undefined || !/^content-type:[ \t]*application\/http[ \t]*(;|$)/im.test(outer)) return unreadableBatch('a part is not an application/http call');
    const [head] = splitHead(inner.replace(/^(\r?\n)+/, ''));
    const lines = head.split(/\r?\n/);
    const line = /^([A-Za-z]{1,16}) (\/\S*)(?: HTTP\/\d(?:\.\d)?)?$/.exec(lines[0]!.trim());
    if (!line) return unreadableBatch('a call has no readable request line');
    if (lines.slice(1).some((h) => /^x[-_](http[-_])?method([-_]override)?\s*:/i.test(h.trimStart()))) return unreadableBatch('a call carries a method override');
    const method = line[1]!.toUpperCase();
    const [path, query = ''] = line[2]!.split('?', 2) as [string, string?];
    if (/(^|[&;])[^=&;]*method=/i.test(query)) return unreadableBatch('a call carries a method override');
    let segs: string[];
    try {
      segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return unreadableBatch('a call has an undecodable path');
    }
    if (segs.some((seg) => seg === '.' || seg === '..' || /[/\\]/.test(seg))) return unreadableBatch('a call path has dot segments or escaped slashes');
    if (segs[0] !== 'gmail' || segs[1] !== 'v1') return unreadableBatch('a call is not to the Gmail API');
    const info = fromTable('gmail', table, { ...request, method, segments: segs.slice(2) }, segs.slice(2));
    operations.add(info.operation);
    users.add(typeof info.params.user_id === 'string' ? info.params.user_id : '?');
    if (effectRank[info.effect] > effectRank[worst]) worst = info.effect;
  }
  // The mailboxes its calls act on (`me`, or another user's by delegation): the place a grant records.
  const params: Record<string, unknown> = { operations: [...operations].sort(), calls: calls.length, user_id: [...users].sort() };
  // The messages a batch sends are not read here: no grant covers its recipients.
  if (worst === 'send') params.recipients = ['?'];
  return { name: 'gmail', operation: 'batch', params, effect: worst };
}

/** A MIME or HTTP head and what follows its blank line (CRLF or bare LF). */
function splitHead(text: string): [string, string | undefined] {
  const m = /\r?\n\r?\n/.exec(text.replace(/^\r?\n/, ''));
  const t = text.replace(/^\r?\n/, '');
  return m ? [t.slice(0, m.index), t.slice(m.index + m[0].length)] : [t, undefined];
}

function describeGmail(request: RequestInfo): ServiceInfo | undefined {
  const segs = request.segments;
  let rest: string[];
  let upload = false;
  if (segs[0] === 'gmail' && segs[1] === 'v1') rest = segs.slice(2);
  else if (segs[0] === 'upload' && segs[1] === 'gmail' && segs[2] === 'v1') {
    rest = segs.slice(3);
    upload = true;
  // The discovery document's resumable-upload path (Google's Dart and other generated clients use
  // it): the same calls as /upload/gmail/v1, a send among them.
  } else if (segs[0] === 'resumable' && segs[1] === 'upload' && segs[2] === 'gmail' && segs[3] === 'v1') {
    rest = segs.slice(4);
    upload = true;
  // The Gmail batch endpoint (/batch/gmail/v1), and the host's plain /batch, which takes the same
  // calls: a batch is judged by the calls it carries wherever it is sent.
  } else if (segs[0] === 'batch' && (segs[1] === 'gmail' || segs.length === 1)) return describeBatch(request);
  else return request.host === 'gmail.googleapis.com' ? { name: 'gmail', operation: 'unknown', params: {}, effect: effectByMethod(request.method) } : undefined;
  let info = fromTable('gmail', table, request, rest);
  // A resumable upload's bytes go to its session URI, the same path with `upload_id`, by PUT: they
  // finish what the POST that opened the session began (the send happens here).
  if (upload && info.operation === 'unknown' && request.query.upload_id !== undefined && request.method === 'PUT') {
    const m = table.match('POST', rest);
    if (m) info = { name: 'gmail', operation: m.operation, params: m.params, effect: m.effect };
  }
  if (info.params.setting !== undefined) info.operation = `settings.${String(info.params.setting).split('/')[0]}.${request.method === 'GET' ? 'get' : 'update'}`;
  if (info.effect === 'send') {
    info.params.recipients = recipients(request);
    // Where replies, receipts and bounces go and whom it says it is from (twenty-third pass):
    // a grant for mail to alice covers none whose `Reply-To` sends her answer to an attacker.
    info.params.reply_paths = replyPaths(request);
  }
  // A watch has Gmail publish a notice of every change to the Pub/Sub topic it names, in any
  // project (an outsider's included): where it sends is that topic, which a grant records.
  if (info.operation === 'users.watch') {
    const topic = bodyField(request, 'topicName');
    info.params.topic = topic ? topic : '?';
  }
  return info;
}

/** Headers that name who receives a message. */
const recipientHeaders = new Set(['to', 'cc', 'bcc']);

/**
 * Who a send reaches, read from the message it carries (`raw`, base64url RFC 822, at the top or
 * under `message`): the To, Cc and Bcc addresses, lower-case, sorted. `?` when the message is not
 * in the description (a media upload, a draft sent by id): a grant records them
 * (engine/grant-scope.ts), so "allow similar" for mail to one person does not cover mail to another.
 */
function recipients(request: RequestInfo): string[] {
  const json = request.body.json as { id?: unknown; raw?: unknown; message?: { raw?: unknown } } | undefined;
  // A draft sent by id goes to the recipients stored with it, whatever message the body carries.
  if (json && typeof json === 'object' && json.id !== undefined) return ['?'];
  const raw = json && typeof json === 'object' ? (typeof json.raw === 'string' ? json.raw : json.message?.raw) : undefined;
  if (typeof raw !== 'string') return ['?'];
  const text = Buffer.from(raw, 'base64url').toString('latin1');
  const end = text.search(/\n\r?\n/);
  const head = (end < 0 ? text : text.slice(0, end)).replace(/\r?\n[ \t]/g, ' ');
  const out = new Set<string>();
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon < 0 || !recipientHeaders.has(line.slice(0, colon).trim().toLowerCase())) continue;
    // RFC 5322 comments (`drop(note)@attacker.example`) and quotes (`"drop"@attacker.example`) are
    // not part of the address a server delivers to: dropped before the addresses are read.
    const value = withoutComments(line.slice(colon + 1));
    if (value === undefined) out.add('?');
    else for (const token of value.split(/[\s<>,;:]/)) if (token.includes('@')) out.add(token.toLowerCase());
  }
  // Past 50 the list is cut and marked `?`: a cut list would let a grant for 50 recipients cover a 51st.
  return out.size ? ([...out].sort().slice(0, 50).concat(out.size > 50 ? ['?'] : [])) : ['?'];
}

/**
 * The message's other address headers (Reply-To, From, Sender, Resent-*, Disposition-Notification-To,
 * Errors-To, Return-Path …: message-headers.ts), `name=address` sorted; `(none)` when it names none;
 * `?` when the message is not in the description or they cannot be read.
 */
function replyPaths(request: RequestInfo): string {
  const json = request.body.json as { id?: unknown; raw?: unknown; message?: { raw?: unknown } } | undefined;
  const raw = json && typeof json === 'object' && json.id === undefined ? (typeof json.raw === 'string' ? json.raw : json.message?.raw) : undefined;
  if (typeof raw !== 'string') return '?';
  const all = messageAddresses(Buffer.from(raw, 'base64url').toString('latin1'));
  if (all === undefined) return '(none)';
  if (all === '?') return '?';
  return all.split(';').filter((x) => !recipientHeaders.has(x.slice(0, x.indexOf('=')))).join(';') || '(none)';
}

export const gmail: ServiceAdapter = {
  name: 'gmail',
  hosts: hostIs('gmail.googleapis.com', 'www.googleapis.com'),
  describe: describeGmail,
};
