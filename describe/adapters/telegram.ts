// Telegram Bot API (core.telegram.org/bots/api): every call is
// `https://api.telegram.org/bot{token}/{method}`, the Bot API takes GET or POST for any method
// (arguments in the query, a form, multipart or JSON), and its method names are case-insensitive —
// so the effect comes from the method name, never the HTTP verb: `GET …/sendMessage?chat_id=…&text=…`
// sends a message. Files are downloaded from `/file/bot{token}/{path}`.
import type { Effect, RequestInfo, ServiceInfo } from '../types.ts';
import { hostIs, type ServiceAdapter } from './adapter.ts';
import { jsonObject } from './routes.ts';
import { phpName } from '../body.ts';
import { appendAll } from '../../lib/arrays.ts';
import { emptyMap } from '../../lib/records.ts';

/** Lower-cased names whose effect is not their prefix's. */
const exact = new Map<string, Effect>([
  // Confirms a payment, refunds one, moves Stars or gifts.
  ['answerprecheckoutquery', 'pay'],
  ['refundstarpayment', 'pay'],
  ['sendgift', 'pay'],
  ['giftpremiumsubscription', 'pay'],
  ['transfergift', 'pay'],
  ['transferbusinessaccountstars', 'pay'],
  ['convertgifttostars', 'pay'],
  ['upgradegift', 'pay'],
  // Where the bot's updates go, and its commands: configuration.
  ['deletewebhook', 'admin'],
  ['deletemycommands', 'admin'],
  ['leavechat', 'admin'],
  ['logout', 'admin'],
  ['close', 'admin'],
  ['approvechatjoinrequest', 'admin'],
  ['declinechatjoinrequest', 'admin'],
  ['exportchatinvitelink', 'admin'],
  ['createchatinvitelink', 'admin'],
  ['createchatsubscriptioninvitelink', 'admin'],
  ['editchatinvitelink', 'admin'],
  ['editchatsubscriptioninvitelink', 'admin'],
  ['revokechatinvitelink', 'admin'],
  ['forwardmessage', 'send'],
  ['forwardmessages', 'send'],
  ['copymessage', 'send'],
  ['copymessages', 'send'],
  ['stoppoll', 'send'],
  ['stopmessagelivelocation', 'send'],
  ['poststory', 'send'],
  ['setmessagereaction', 'send'],
  ['createinvoicelink', 'send'],
]);

/** The effect of a method by its (case-folded) name; a name not known here is a write (fails closed). */
export function telegramEffect(method: string): Effect {
  const m = method.toLowerCase();
  const known = exact.get(m);
  if (known) return known;
  if (m.startsWith('get')) return 'read';
  if (m.startsWith('send') || m.startsWith('edit') || m.startsWith('answer')) return 'send';
  if (m.startsWith('delete')) return 'delete';
  if (/^(ban|unban|restrict|promote|set|verify|remove|revoke)/.test(m)) return 'admin';
  return 'write';
}

/** Every value of an argument: the query's and a form's (as PHP-style readers name it too) and a JSON body's. */
function argument(request: RequestInfo, key: string): string[] {
  const out: string[] = [];
  for (const source of [request.query, request.body.form ?? {}]) {
    for (const [name, values] of Object.entries(source)) if (name === key || phpName(name) === key) appendAll(out, values);
  }
  const json = jsonObject(request)?.[key];
  if (json !== undefined) out.push(typeof json === 'string' || typeof json === 'number' ? String(json) : '?');
  return out;
}

function describeTelegram(request: RequestInfo): ServiceInfo {
  const [first, second, ...rest] = request.segments;
  if (first === 'file' && second?.startsWith('bot') && rest.length) {
    return { name: 'telegram', operation: 'file.download', params: {}, effect: request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write' };
  }
  if (!first?.startsWith('bot') || second === undefined || rest.length) return { name: 'telegram', operation: 'unknown', params: {}, effect: 'write' };
  // Named in lower case: Telegram runs `SENDMESSAGE` as `sendMessage`, so a rule or grant naming
  // one spelling must meet every one.
  const method = second.toLowerCase();
  const effect = telegramEffect(method);
  const params: Record<string, unknown> = emptyMap();
  // Which chat it acts in (a grant for one chat covers no other); more than one spelling: all.
  const chats = [...new Set(argument(request, 'chat_id'))];
  if (chats.length === 1) params.chat_id = chats[0];
  else if (chats.length > 1) params.chat_id = chats.sort();
  else if (effect === 'send') params.chat_id = '?';
  // Where a forward or copy takes its message from (`forwardMessage {from_chat_id}`): a grant for
  // forwarding out of one chat covers no other chat's messages.
  const from = [...new Set(argument(request, 'from_chat_id'))];
  if (from.length === 1) params.from_chat_id = from[0];
  else if (from.length > 1) params.from_chat_id = from.sort();
  // A call with `business_connection_id` acts on behalf of the business account connected to the
  // bot (Bot API 7.2: its messages are sent as that person): whom it acts as, a place a grant records.
  const business = [...new Set(argument(request, 'business_connection_id'))];
  if (business.length === 1) params.business_connection_id = business[0];
  else if (business.length > 1) params.business_connection_id = business.sort();
  return { name: 'telegram', operation: method, params, effect };
}

export const telegram: ServiceAdapter = {
  name: 'telegram',
  hosts: hostIs('api.telegram.org'),
  describe: describeTelegram,
};
