// Route tables of the non-GitHub adapters, against each API's documented request shapes.
import t, { type Test } from 'tap';
import { loadAdapters, recognize } from '../../describe/adapters/index.ts';
import { parseLine, requestOf, type Req } from './helpers.ts';

await loadAdapters();

function check(t: Test, cases: Array<[string | Req, string, Record<string, unknown>?]>, name: string): void {
  for (const [r, want, params] of cases) {
    const req = typeof r === 'string' ? parseLine(r) : r;
    const label = `${req.method} ${req.url}`;
    const { service } = recognize(requestOf(req));
    t.equal(service?.name, name, `${label}: service`);
    t.equal(service && `${service.operation}:${service.effect}`, want, label);
    if (params) t.match(service?.params, params, `${label}: params`);
  }
}

t.test('Stripe', async (t) => {
  check(t, [
    ['GET https://api.stripe.com/v1/customers?limit=3', 'customers.list:read'],
    ['GET https://api.stripe.com/v1/customers/cus_1', 'customers.retrieve:read', { id: 'cus_1' }],
    ['GET https://api.stripe.com/v1/customers/search?query=x', 'customers.search:read'],
    ['POST https://api.stripe.com/v1/customers', 'customers.create:write'],
    ['POST https://api.stripe.com/v1/customers/cus_1', 'customers.update:write'],
    ['DELETE https://api.stripe.com/v1/customers/cus_1', 'customers.delete:delete'],
    ['POST https://api.stripe.com/v1/accounts/acct_1/external_accounts', 'accounts.external_accounts:admin'],
    ['POST https://api.stripe.com/v1/accounts/acct_1/external_accounts/ba_1', 'accounts.external_accounts:admin'],
    ['GET https://api.stripe.com/v1/accounts/acct_1/external_accounts', 'accounts.external_accounts:read'],
    [{ method: 'POST', url: 'https://api.stripe.com/v1/payment_intents', form: { amount: '2000', currency: 'usd' } }, 'payment_intents.create:pay'],
    ['POST https://api.stripe.com/v1/payment_intents/pi_1/confirm', 'payment_intents.confirm:pay', { id: 'pi_1' }],
    ['POST https://api.stripe.com/v1/payment_intents/pi_1/capture', 'payment_intents.capture:pay'],
    ['POST https://api.stripe.com/v1/payment_intents/pi_1/cancel', 'payment_intents.cancel:write'],
    ['POST https://api.stripe.com/v1/charges', 'charges.create:pay'],
    ['POST https://api.stripe.com/v1/refunds', 'refunds.create:pay'],
    ['POST https://api.stripe.com/v1/payouts', 'payouts.create:pay'],
    ['POST https://api.stripe.com/v1/transfers', 'transfers.create:pay'],
    ['POST https://api.stripe.com/v1/subscriptions', 'subscriptions.create:pay'],
    ['DELETE https://api.stripe.com/v1/subscriptions/sub_1', 'subscriptions.delete:delete'],
    ['POST https://api.stripe.com/v1/invoices/in_1/pay', 'invoices.pay:pay'],
    ['POST https://api.stripe.com/v1/invoices/in_1/send', 'invoices.send:send'],
    ['POST https://api.stripe.com/v1/invoices/in_1/void', 'invoices.void:delete'],
    ['POST https://api.stripe.com/v1/checkout/sessions', 'checkout.sessions.create:write', { resource: 'checkout.sessions' }],
    ['GET https://api.stripe.com/v1/checkout/sessions/cs_1', 'checkout.sessions.retrieve:read'],
    ['POST https://api.stripe.com/v1/treasury/outbound_payments', 'treasury.outbound_payments.create:pay'],
    ['POST https://api.stripe.com/v1/issuing/cards', 'issuing.cards.create:pay'],
    ['POST https://api.stripe.com/v1/webhook_endpoints', 'webhook_endpoints.create:admin'],
    ['POST https://api.stripe.com/v1/accounts/acct_1', 'accounts.update:admin'],
    ['POST https://api.stripe.com/v1/account', 'account.create:admin'],
    ['GET https://api.stripe.com/v1/balance', 'balance.list:read'],
    ['GET https://api.stripe.com/v1/customers/cus_1/sources', 'customers.sources:read'],
    ['DELETE https://api.stripe.com/v1/customers/cus_1/sources/card_1', 'customers.sources.delete:delete', { sub_id: 'card_1' }],
    ['POST https://files.stripe.com/v1/files', 'files.create:write'],
  ], 'stripe');
});

t.test('Gmail', async (t) => {
  check(t, [
    ['GET https://gmail.googleapis.com/gmail/v1/users/me/messages?q=invoice', 'messages.list:read', { user_id: 'me' }],
    ['GET https://gmail.googleapis.com/gmail/v1/users/me/messages/18c', 'messages.get:read', { id: '18c' }],
    ['GET https://gmail.googleapis.com/gmail/v1/users/me/messages/18c/attachments/a1', 'messages.attachments.get:read'],
    [{ method: 'POST', url: 'https://gmail.googleapis.com/gmail/v1/users/me/messages/send', json: { raw: 'RnJvbTo=' } }, 'messages.send:send'],
    ['POST https://gmail.googleapis.com/upload/gmail/v1/users/me/messages/send?uploadType=media', 'messages.send:send'],
    ['POST https://www.googleapis.com/gmail/v1/users/me/messages/send', 'messages.send:send'],
    ['POST https://gmail.googleapis.com/gmail/v1/users/me/drafts/send', 'drafts.send:send'],
    ['POST https://gmail.googleapis.com/gmail/v1/users/me/drafts', 'drafts.create:write'],
    ['DELETE https://gmail.googleapis.com/gmail/v1/users/me/messages/18c', 'messages.delete:delete'],
    ['POST https://gmail.googleapis.com/gmail/v1/users/me/messages/batchDelete', 'messages.batch_delete:delete'],
    ['POST https://gmail.googleapis.com/gmail/v1/users/me/messages/18c/trash', 'messages.trash:write'],
    ['POST https://gmail.googleapis.com/gmail/v1/users/me/messages/18c/modify', 'messages.modify:write'],
    ['DELETE https://gmail.googleapis.com/gmail/v1/users/me/threads/t1', 'threads.delete:delete'],
    ['POST https://gmail.googleapis.com/gmail/v1/users/me/settings/forwardingAddresses', 'settings.forwardingAddresses.update:admin'],
    ['PUT https://gmail.googleapis.com/gmail/v1/users/me/settings/autoForwarding', 'settings.autoForwarding.update:admin'],
    ['POST https://gmail.googleapis.com/gmail/v1/users/me/settings/filters', 'settings.filters.update:admin'],
    ['GET https://gmail.googleapis.com/gmail/v1/users/me/settings/filters', 'settings.filters.get:read'],
    ['GET https://gmail.googleapis.com/gmail/v1/users/me/profile', 'users.get_profile:read'],
    ['POST https://gmail.googleapis.com/batch/gmail/v1', 'batch:admin'],
  ], 'gmail');
  t.equal(recognize(requestOf(parseLine('GET https://www.googleapis.com/drive/v3/files'))).service, undefined, 'other Google APIs on www.googleapis.com are not Gmail');
});

t.test('Slack: the method name decides, never the HTTP verb', async (t) => {
  check(t, [
    [{ method: 'POST', url: 'https://slack.com/api/chat.postMessage', json: { channel: 'C123', text: 'hi' } }, 'chat.postMessage:send', { channel: 'C123' }],
    [{ method: 'POST', url: 'https://slack.com/api/chat.postMessage', form: { channel: 'C9', text: 'hi' } }, 'chat.postMessage:send', { channel: 'C9' }],
    ['GET https://slack.com/api/chat.postMessage?channel=C1&text=hi', 'chat.postMessage:send', { channel: 'C1' }],
    ['POST https://slack.com/api/chat.delete', 'chat.delete:delete'],
    ['POST https://slack.com/api/chat.update', 'chat.update:send'],
    ['GET https://slack.com/api/conversations.history?channel=C1', 'conversations.history:read'],
    ['GET https://slack.com/api/conversations.list', 'conversations.list:read'],
    ['GET https://slack.com/api/users.info?user=U1', 'users.info:read'],
    ['GET https://slack.com/api/search.messages?query=x', 'search.messages:read'],
    ['POST https://slack.com/api/files.upload', 'files.upload:send'],
    ['POST https://slack.com/api/files.delete', 'files.delete:delete'],
    ['POST https://slack.com/api/conversations.invite', 'conversations.invite:admin'],
    ['POST https://slack.com/api/admin.users.remove', 'admin.users.remove:admin'],
    ['POST https://slack.com/api/reactions.add', 'reactions.add:write'],
    ['POST https://slack.com/api/reactions.remove', 'reactions.remove:write'],
    ['POST https://slack.com/api/some.brandNewMethod', 'some.brandNewMethod:write'],
    ['POST https://slack.com/api/auth.test', 'auth.test:read'],
    ['POST https://hooks.slack.com/services/T0/B0/XXXX', 'incoming_webhook.send:send'],
  ], 'slack');
});

t.test('Supabase: PostgREST, storage, auth admin, management API', async (t) => {
  check(t, [
    ['GET https://abcd.supabase.co/rest/v1/users?select=id,name&id=eq.5', 'rows.select:read', { project: 'abcd', table: 'users', filters: ['id'] }],
    ['POST https://abcd.supabase.co/rest/v1/users', 'rows.insert:write', { table: 'users' }],
    ['PATCH https://abcd.supabase.co/rest/v1/users?id=eq.5', 'rows.update:write', { filters: ['id'] }],
    ['PATCH https://abcd.supabase.co/rest/v1/users', 'rows.update:write', { all_rows: true }],
    ['DELETE https://abcd.supabase.co/rest/v1/users?select=id', 'rows.delete:delete', { all_rows: true, filters: [] }],
    ['DELETE https://abcd.supabase.co/rest/v1/users?or=(a.eq.1,b.eq.2)', 'rows.delete:delete', { filters: ['or'] }],
    ['GET https://abcd.supabase.co/rest/v1/rpc/search_docs?q=x', 'rpc.call:read', { function: 'search_docs' }],
    ['POST https://abcd.supabase.co/rest/v1/rpc/recalculate', 'rpc.call:write'],
    ['GET https://abcd.supabase.co/storage/v1/object/avatars/u1.png', 'storage.objects.get:read', { path: 'avatars/u1.png' }],
    ['POST https://abcd.supabase.co/storage/v1/object/list/avatars', 'storage.objects.list:read'],
    ['DELETE https://abcd.supabase.co/storage/v1/object/avatars', 'storage.objects.delete:delete'],
    ['POST https://abcd.supabase.co/storage/v1/bucket/avatars/empty', 'storage.buckets.empty:delete'],
    ['DELETE https://abcd.supabase.co/auth/v1/admin/users/u1', 'auth.admin:admin'],
    ['POST https://abcd.supabase.co/functions/v1/hello', 'functions.invoke:write'],
    ['GET https://api.supabase.com/v1/projects', 'projects.list:read'],
    ['DELETE https://api.supabase.com/v1/projects/abcd', 'projects.delete:delete', { ref: 'abcd' }],
    ['POST https://api.supabase.com/v1/projects/abcd/secrets', 'secrets.create:admin'],
    ['GET https://api.supabase.com/v1/projects/abcd/api-keys', 'api_keys.list:admin'],
  ], 'supabase');
});

t.test('Cloudflare, Neon console', async (t) => {
  check(t, [
    ['GET https://api.cloudflare.com/client/v4/zones', 'zones.list:read'],
    ['DELETE https://api.cloudflare.com/client/v4/zones/z1', 'zones.delete:delete', { zone_id: 'z1' }],
    ['POST https://api.cloudflare.com/client/v4/zones/z1/dns_records', 'dns.records.create:write'],
    ['PATCH https://api.cloudflare.com/client/v4/zones/z1/dns_records/r1', 'dns.records.edit:write'],
    ['DELETE https://api.cloudflare.com/client/v4/zones/z1/dns_records/r1', 'dns.records.delete:delete'],
    ['PATCH https://api.cloudflare.com/client/v4/zones/z1/settings/ssl', 'zones.settings.edit:admin'],
    ['PUT https://api.cloudflare.com/client/v4/accounts/a1/workers/scripts/w', 'workers.scripts.update:write'],
    ['DELETE https://api.cloudflare.com/client/v4/accounts/a1/workers/scripts/w', 'workers.scripts.delete:delete'],
    ['POST https://api.cloudflare.com/client/v4/user/tokens', 'user.tokens.create:admin'],
    ['GET https://api.cloudflare.com/client/v4/user/tokens/verify', 'user.tokens.verify:read'],
    ['DELETE https://api.cloudflare.com/client/v4/accounts/a1/r2/buckets/b', 'r2.buckets.delete:delete'],
  ], 'cloudflare');
  check(t, [
    ['GET https://console.neon.tech/api/v2/projects', 'projects.get:read'],
    ['DELETE https://console.neon.tech/api/v2/projects/p1', 'projects.delete:delete'],
    ['DELETE https://console.neon.tech/api/v2/projects/p1/branches/b1', 'branches.delete:delete'],
    ['POST https://console.neon.tech/api/v2/projects/p1/branches', 'projects.branches.update:write', { project_id: 'p1' }],
  ], 'neon');
});

t.test('OpenAI and Anthropic: inference reads unless the provider reaches third parties', async (t) => {
  check(t, [
    [{ method: 'POST', url: 'https://api.openai.com/v1/chat/completions', json: { model: 'gpt-4o', messages: [] } }, 'chat.completions.create:read', { model: 'gpt-4o' }],
    [{ method: 'POST', url: 'https://api.openai.com/v1/responses', json: { model: 'm', tools: [{ type: 'function' }, { type: 'web_search' }] } }, 'responses.create:read', { tool_types: ['function', 'web_search'] }],
    [{ method: 'POST', url: 'https://api.openai.com/v1/responses', json: { model: 'm', tools: [{ type: 'mcp', server_url: 'https://x' }] } }, 'responses.create:send', { remote_tools: ['mcp'] }],
    ['POST https://api.openai.com/v1/embeddings', 'embeddings.create:read'],
    ['GET https://api.openai.com/v1/models', 'models.list:read'],
    ['POST https://api.openai.com/v1/files', 'files.create:write'],
    ['DELETE https://api.openai.com/v1/files/file-1', 'files.delete:delete'],
    ['POST https://api.openai.com/v1/organization/admin_api_keys', 'organization.update:admin'],
    ['POST https://api.openai.com/v1/fine_tuning/jobs', 'fine_tuning.jobs.create:write'],
  ], 'openai');
  check(t, [
    [{ method: 'POST', url: 'https://api.anthropic.com/v1/messages', json: { model: 'claude', messages: [] } }, 'messages.create:read', { model: 'claude' }],
    [{ method: 'POST', url: 'https://api.anthropic.com/v1/messages', json: { model: 'c', mcp_servers: [{ type: 'url', url: 'https://x' }] } }, 'messages.create:send', { remote_tools: ['mcp'] }],
    [{ method: 'POST', url: 'https://api.anthropic.com/v1/messages', json: { model: 'c', tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] } }, 'messages.create:send'],
    ['POST https://api.anthropic.com/v1/messages/count_tokens', 'messages.count_tokens:read'],
    ['POST https://api.anthropic.com/v1/messages/batches', 'messages.batches.create:write'],
    ['DELETE https://api.anthropic.com/v1/messages/batches/b1', 'messages.batches.delete:delete'],
    ['POST https://api.anthropic.com/v1/organizations/invites', 'organizations.update:admin'],
  ], 'anthropic');
});

t.test('unknown hosts get no service', async (t) => {
  for (const line of ['GET https://example.com/repos/a/b', 'POST https://stripe.com.evil.example/v1/charges', 'POST https://evil.example/api/chat.postMessage']) {
    t.same(recognize(requestOf(parseLine(line))), {}, line);
  }
});

t.test('Telegram Bot API: the method name decides, whatever the HTTP verb or letter case', async (t) => {
  check(t, [
    ['GET https://api.telegram.org/bot123:AbC/getUpdates?offset=5', 'getupdates:read'],
    ['GET https://api.telegram.org/bot123:AbC/getMe', 'getme:read'],
    ['GET https://api.telegram.org/bot123:AbC/sendMessage?chat_id=42&text=hi', 'sendmessage:send', { chat_id: '42' }],
    ['GET https://api.telegram.org/bot123:AbC/SENDMESSAGE?chat_id=42&text=hi', 'sendmessage:send', { chat_id: '42' }],
    [{ method: 'POST', url: 'https://api.telegram.org/bot123:AbC/sendDocument', form: { chat_id: '7' } }, 'senddocument:send', { chat_id: '7' }],
    [{ method: 'POST', url: 'https://api.telegram.org/bot123:AbC/sendMessage', json: { chat_id: -100, text: 'x' } }, 'sendmessage:send', { chat_id: '-100' }],
    ['GET https://api.telegram.org/bot123:AbC/sendMessage?chat_id=1&chat_id=2', 'sendmessage:send', { chat_id: ['1', '2'] }],
    ['GET https://api.telegram.org/bot123:AbC/sendMessage?text=no-chat', 'sendmessage:send', { chat_id: '?' }],
    ['GET https://api.telegram.org/bot123:AbC/forwardMessage?chat_id=9&from_chat_id=1&message_id=2', 'forwardmessage:send'],
    ['GET https://api.telegram.org/bot123:AbC/editMessageText?chat_id=9', 'editmessagetext:send'],
    ['GET https://api.telegram.org/bot123:AbC/deleteMessage?chat_id=9&message_id=3', 'deletemessage:delete'],
    ['GET https://api.telegram.org/bot123:AbC/setWebhook?url=https://evil.example/hook', 'setwebhook:admin'],
    ['GET https://api.telegram.org/bot123:AbC/deleteWebhook', 'deletewebhook:admin'],
    ['GET https://api.telegram.org/bot123:AbC/banChatMember?chat_id=9&user_id=1', 'banchatmember:admin'],
    ['GET https://api.telegram.org/bot123:AbC/exportChatInviteLink?chat_id=9', 'exportchatinvitelink:admin'],
    ['GET https://api.telegram.org/bot123:AbC/refundStarPayment', 'refundstarpayment:pay'],
    ['GET https://api.telegram.org/bot123:AbC/createForumTopic?chat_id=9', 'createforumtopic:write'],
    ['GET https://api.telegram.org/file/bot123:AbC/documents/file_1.pdf', 'file.download:read'],
    ['GET https://api.telegram.org/bot123:AbC/sendMessage/extra', 'unknown:write'],
    ['GET https://api.telegram.org/', 'unknown:write'],
  ], 'telegram');
});
