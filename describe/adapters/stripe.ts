// Stripe (docs.stripe.com/api): REST over form-encoded bodies under /v1, and API v2 (JSON) under /v2. Resources follow one
// pattern (list/create on the collection, retrieve/update/delete on an id, POST actions on
// /{id}/{action}), so the adapter derives the operation from the path and a table says which
// operations move money (`pay`) or change the account (`admin`).
import type { Effect, RequestInfo, ServiceInfo } from '../types.ts';
import { hostIs, type ServiceAdapter } from './adapter.ts';
import { effectByMethod, jsonObject } from './routes.ts';
import { formEntries, rackTwoParams } from '../body.ts';
import { entriesOnce, lookupTable } from '../../lib/records.ts';

/** Top-level path names that namespace a resource: /v1/checkout/sessions → checkout.sessions. */
const namespaces = new Set([
  'apps', 'billing', 'billing_portal', 'checkout', 'climate', 'entitlements', 'financial_connections', 'forwarding',
  'identity', 'issuing', 'radar', 'reporting', 'sigma', 'tax', 'terminal', 'test_helpers', 'treasury',
]);

/** Operations that move money or commit the account to spending it. */
const pay = new Set([
  'payment_intents.create', 'payment_intents.confirm', 'payment_intents.capture', 'payment_intents.increment_authorization',
  'charges.create', 'charges.capture', 'refunds.create', 'charges.refund', 'payouts.create', 'transfers.create',
  'transfers.reversals', 'topups.create', 'invoices.pay', 'subscriptions.create', 'subscription_items.create',
  'subscription_schedules.create', 'credit_notes.create', 'application_fees.refunds', 'customers.balance_transactions',
  'treasury.outbound_payments.create', 'treasury.outbound_transfers.create', 'treasury.received_credits.create',
  'issuing.cards.create', 'issuing.authorizations.approve', 'setup_intents.confirm', 'quotes.accept',
  // Older and less common spellings of the same: a refund created under its charge (`/v1/charges/{id}/refunds`),
  // an application fee's legacy refund, money pulled in from a bank account, a customer's balance
  // or a verified bank debit paying an intent, a paused subscription resumed (it invoices and
  // charges), a card charged on a Terminal reader, a dispute closed (its amount is conceded).
  'charges.refunds', 'application_fees.refund', 'treasury.inbound_transfers.create', 'payment_intents.apply_customer_balance',
  'payment_intents.verify_microdeposits', 'subscriptions.resume', 'disputes.close',
  'terminal.readers.process_payment_intent', 'terminal.readers.confirm_payment_intent', 'terminal.readers.refund_payment',
  // An invoice item is charged with the customer's next invoice, as a subscription item is.
  'invoiceitems.create',
  // Older spellings: subscriptions created under their customer (`/v1/customers/{id}/subscriptions`,
  // and the singular form before it), a legacy order paid, a dispute closed under its charge.
  // Billing credit grants are credit applied to the customer's invoices, as a balance is.
  'customers.subscriptions', 'customers.subscription', 'orders.pay', 'charges.dispute.close', 'billing.credit_grants.create',
  // Finalizing an invoice that collects automatically has Stripe charge the customer's saved method.
  'invoices.finalize',
  // Usage reported for metered billing is charged on the customer's next invoice, as an invoice
  // item is: a meter event (v1 and v2) or a legacy usage record of any quantity.
  'billing.meter_events.create', 'v2.billing.meter_events.create', 'v2.billing.meter_event_stream.create',
  'subscription_items.usage_records',
]);

/**
 * The parameters Stripe reads, by name: its API reads them as Rack does, the URL's query and the
 * body in one bucket whatever the method (a POST's `?balance=` counts as the body's; stripe-mock
 * #100 mirrors it), an untyped POST body as a form, multipart/form-data fields as form fields. A
 * nested name counts by its base (`items[0][price]` is `items`; Rack 2 also drops leading brackets,
 * `[balance]` is `balance`). `unread` when the body may carry parameters the description does not
 * hold (multipart fields, a body cut by the capture or not decoded): whatever they say may be set.
 */
interface StripeParams {
  values: Map<string, unknown[]>;
  unread: boolean;
}

/** The base names Rack 3 and Rack 2 give a parameter name. */
function baseNames(name: string): string[] {
  const open = name.indexOf('[', 1);
  const rack3 = open < 0 ? name : name.slice(0, open);
  let start = 0;
  while (start < name.length && (name[start] === '[' || name[start] === ']')) start++;
  let end = start;
  while (end < name.length && name[end] !== '[' && name[end] !== ']') end++;
  const rack2 = name.slice(start, end);
  return rack2 === rack3 ? [rack3] : [rack3, rack2];
}

function stripeParams(request: RequestInfo): StripeParams {
  const values = new Map<string, unknown[]>();
  const add = (name: string, v: unknown): void => {
    for (const base of baseNames(name)) {
      let list = values.get(base);
      if (!list) values.set(base, (list = []));
      list.push(v);
    }
  };
  const body = request.body;
  for (const [k, vs] of Object.entries(request.query)) for (const v of vs) add(k, v);
  for (const [k, vs] of formEntries(body.form ?? {})) for (const v of vs) add(k, v);
  for (const [k, v] of entriesOnce(jsonObject(request) ?? {})) add(k, v);
  let unread = body.size > 0 && (body.truncated || body.decode_error !== undefined || body.content_type.startsWith('multipart/'));
  // Rack reads an untyped POST body as a form.
  if (body.content_type === '' && body.json === undefined && body.text !== undefined) {
    for (const [k, v] of new URLSearchParams(body.text)) add(k, v);
    if (body.text_truncated) unread = true;
  }
  // Rack 2 also splits the query on `;` (forms too, by the reading describe/method-override.ts
  // takes): a value holding `;` may carry more parameters (an encoded `%3B` read so too: more, not less).
  const search = request.url.includes(';') ? new URL(request.url).search : '';
  if (search.includes(';')) for (const [k, v] of rackTwoParams(search)) add(k, v);
  for (const [, vs] of formEntries(body.form ?? {})) {
    for (const v of vs) if (v.includes(';')) for (const [k, x] of rackTwoParams(v.slice(v.indexOf(';') + 1))) add(k, x);
  }
  return { values, unread };
}

/**
 * A SetupIntent or PaymentIntent created with `confirm=true` is confirmed at once (the same as
 * the confirm call), an invoice with `auto_advance=true` finalized and charged later; a
 * subscription or subscription item update that changes what is billed
 * (items, price, quantity, an invoice now) charges as creating one does.
 */
function chargesAsCreated(params: StripeParams, operation: string): boolean {
  // An invoice created or updated with `auto_advance=true` is finalized by Stripe about an hour
  // later and, when it collects automatically, charged (as invoices.finalize is at once).
  const flag = operation === 'setup_intents.create' ? 'confirm' : operation === 'invoices.create' || operation === 'invoices.update' ? 'auto_advance' : undefined;
  if (flag !== undefined) {
    // Every value a server might take (a repeated form field's first or last).
    const values = params.values.get(flag) ?? [];
    return params.unread || values.some((v) => v === true || (typeof v === 'string' && /^\s*(true|1)\s*$/i.test(v)));
  }
  // An Issuing card or cardholder whose spending controls or status change may spend more (a
  // limit raised, a card reactivated), as issuing a card does.
  if (operation === 'issuing.cards.update' || operation === 'issuing.cardholders.update') {
    return params.unread || params.values.has('spending_controls') || params.values.has('status');
  }
  if (operation !== 'subscriptions.update' && operation !== 'subscription_items.update' && operation !== 'subscription_schedules.update') return false;
  if (params.unread) return true;
  for (const k of params.values.keys()) if (!harmlessSubscriptionFields.has(k)) return true;
  return false;
}

/** Subscription fields that change nothing billed. */
const harmlessSubscriptionFields = new Set(['metadata', 'description', 'expand', 'cancel_at_period_end', 'cancel_at', 'cancellation_details', 'default_source', 'default_payment_method', 'payment_settings', 'collection_method', 'days_until_due', 'off_session']);

/**
 * Fields Stripe returns only when asked to expand them (API v1 `expand[]`, API v2 `include[]`),
 * and which are credentials: an Issuing card's full number and CVC (enough to spend on the card
 * anywhere), an Apps secret's payload, a Treasury financial account's or v2 financial address's
 * full bank account number (`financial_addresses.aba.account_number`,
 * `credentials.us_bank_account.account_number`: with the routing number, enough to set up debits),
 * an Identity check's verified government ID number (`verified_outputs.id_number`).
 */
/**
 * Whether the answer embeds other objects in full (`expand[]`, API v2's `include`, wherever Rack
 * reads them, or a body that may carry them unread): a subscription list with `data.customer`
 * expanded answers with customers as they filled themselves in. Its labels (rego/sessions.rego).
 */
function expandsObjects(request: RequestInfo): boolean {
  const params = stripeParams(request);
  return params.unread || (params.values.get('expand') ?? []).length > 0 || (params.values.get('include') ?? []).length > 0;
}

function expandsCredential(request: RequestInfo): boolean {
  // Wherever Rack reads them (stripeParams): `expand[]`, Rack 2's `[expand][]`, after a `;`, a JSON list.
  const params = stripeParams(request);
  const values = [...(params.values.get('expand') ?? []), ...(params.values.get('include') ?? [])].flat();
  return values.some((v) => /(^|\.)(number|cvc|payload|account_number|id_number)$/.test(String(v).trim()));
}

/**
 * A customer's `balance` is credit or debt applied to their invoices: setting it is a balance
 * transaction. Older API versions (any request may ask for one with `Stripe-Version`) spell it
 * `account_balance`, and take `plan` on a customer, which subscribes and charges them; an invoice
 * update with `forgiven` writes its amount off.
 */
/** Operations whose parameters may make them move money; only their parameters are read. */
const parameterOperations = new Set([
  'customers.create', 'customers.update', 'invoices.create', 'invoices.update', 'setup_intents.create', 'issuing.cards.update',
  'issuing.cardholders.update', 'subscriptions.update', 'subscription_items.update', 'subscription_schedules.update',
]);

function paysByParameters(request: RequestInfo, operation: string): boolean {
  if (!parameterOperations.has(operation)) return false;
  const params = stripeParams(request);
  return setsCustomerBalance(params, operation) || chargesAsCreated(params, operation);
}

function setsCustomerBalance(params: StripeParams, operation: string): boolean {
  const fields = operation === 'customers.create' || operation === 'customers.update' ? ['balance', 'account_balance', 'plan'] : operation === 'invoices.update' ? ['forgiven'] : [];
  return fields.length > 0 && (params.unread || fields.some((f) => params.values.has(f)));
}

/** The object a send acts on: its `file` parameter (read as Rack reads it) or the id in its path; `?` when several or none. */
function sentObject(request: RequestInfo, params: Record<string, unknown>): string {
  const read = stripeParams(request);
  const files = read.values.get('file') ?? [];
  if (read.unread || files.length > 1) return '?';
  const named = files.length === 1 ? files[0] : params.id;
  return typeof named === 'string' && named !== '' && !/[;=,|?()]/.test(named) ? named : '?';
}

/** Operations that change who can act on the account or where events go. */
const admin = new Set([
  'webhook_endpoints.create', 'webhook_endpoints.update', 'webhook_endpoints.delete',
  'accounts.create', 'accounts.update', 'accounts.delete', 'accounts.reject', 'accounts.login_links', 'accounts.persons',
  // `people` is the newer name of `persons` (the account's owners and representatives);
  // capabilities decide what a connected account may do (take payments, receive transfers).
  'accounts.people', 'accounts.capabilities',
  'account.update', 'apps.secrets.create', 'apps.secrets.delete', 'payouts.reverse',
  // The bank account or card payouts go to (Connect accounts' external accounts): changing it
  // redirects the money.
  'accounts.external_accounts', 'accounts.bank_accounts', 'account.external_accounts', 'account.bank_accounts',
  // Links and sessions that let whoever holds them edit the account, its bank account included;
  // the payout schedule.
  'account_links.create', 'account_sessions.create', 'balance_settings.create', 'balance_settings.update',
  // A customer portal session is a link that lets whoever holds it change the customer's payment
  // methods and subscriptions, as an account link does for the account.
  'billing_portal.sessions.create',
  // An ephemeral key lets a client act on a customer or reveal an Issuing card's details; a
  // forwarding request sends a saved card's full number to the third party its `url` names.
  'ephemeral_keys.create', 'forwarding.requests.create',
  // The legacy Recipients API: a recipient's bank account is where transfers to it go.
  'recipients.create', 'recipients.update',
]);

/**
 * API v2 (/v2/{namespace}/{resource}…, JSON bodies): the money-moving operations, and the
 * resources where a change redirects money or changes the account — the vault of bank accounts
 * payouts go to, payout methods and their setup, accounts and their links and tokens, event
 * destinations (v2's webhooks).
 */
const v2Pay = new Set(['v2.money_management.outbound_payments.create', 'v2.money_management.outbound_transfers.create']);
/** API v2's payments namespace (off-session payments …): creating, confirming or capturing one charges a customer. */
const v2PaymentVerbs = new Set(['create', 'confirm', 'capture']);

function v2Pays(operation: string): boolean {
  if (v2Pay.has(operation)) return true;
  if (!operation.startsWith('v2.payments.')) return false;
  return v2PaymentVerbs.has(operation.slice(operation.lastIndexOf('.') + 1));
}
const v2Admin = ['v2.core.vault.', 'v2.core.accounts', 'v2.core.account_links', 'v2.core.account_tokens', 'v2.core.event_destinations',
  'v2.money_management.outbound_setup_intents', 'v2.money_management.payout_methods', 'v2.money_management.financial_accounts'];

const override: Readonly<Record<string, Effect>> = lookupTable({
  'invoices.send': 'send',
  // A file link is a public URL to a file (identity documents, dispute evidence): a public link
  // to private data, as Supabase's signed URLs and Slack's public file URLs are.
  'file_links.create': 'send',
  'file_links.update': 'send',
  'invoices.void': 'delete',
  'payouts.cancel': 'write',
  'payment_intents.cancel': 'write',
});

/** A read that hands out a credential (an Apps secret, an expanded card number or CVC) is admin. */
function readEffect(request: RequestInfo, resource: string): Effect {
  return resource === 'apps.secrets' || expandsCredential(request) ? 'admin' : 'read';
}

function describeStripe(request: RequestInfo): ServiceInfo {
  const v2 = request.segments[0] === 'v2';
  const segs = request.segments[0] === 'v1' || v2 ? request.segments.slice(1) : request.segments;
  if (segs.length === 0 || (v2 && segs.length < 2)) return { name: 'stripe', operation: 'unknown', params: {}, effect: effectByMethod(request.method) };
  let resource = segs[0]!;
  let rest = segs.slice(1);
  if (v2) {
    // /v2/core/vault/us_bank_accounts: the vault is a namespace inside core.
    resource = `v2.${resource}`;
    if (resource === 'v2.core' && rest[0] === 'vault' && rest.length > 1) {
      resource = 'v2.core.vault';
      rest = rest.slice(1);
    }
    resource = `${resource}.${rest[0]}`;
    rest = rest.slice(1);
  } else if (namespaces.has(resource) && rest.length > 0) {
    resource = `${resource}.${rest[0]}`;
    rest = rest.slice(1);
  }
  const m = request.method === 'HEAD' ? 'GET' : request.method;
  const params: Record<string, unknown> = { resource };
  // Connect: the account the request acts for, `self` (the key's own) without a Stripe-Account
  // header; every value when it is repeated. `Stripe-Context` names the account (or the path to
  // it) an organization key or API v2 acts in: it counts the same.
  const onBehalf = [...(request.headers['stripe-account'] ?? []), ...(request.headers['stripe-context'] ?? [])];
  params.stripe_account = onBehalf.length === 0 ? 'self' : onBehalf.length === 1 ? onBehalf[0] : [...new Set(onBehalf)].sort();
  let verb: string;
  if (rest.length === 0) {
    verb = m === 'GET' ? 'list' : m === 'POST' ? 'create' : 'unknown';
  } else if (rest.length === 1 && rest[0] === 'search') {
    verb = m === 'GET' ? 'search' : 'unknown';
  } else if (rest.length === 1) {
    params.id = rest[0];
    verb = m === 'GET' ? 'retrieve' : m === 'POST' ? 'update' : m === 'DELETE' ? 'delete' : 'unknown';
  } else {
    // /{id}/{action} or /{id}/{sub}[/{sub_id}]
    params.id = rest[0];
    if (rest[2] !== undefined) params.sub_id = rest[2];
    verb = rest[1]!;
    if (resource === 'charges' && verb === 'dispute' && rest[2] === 'close') {
      verb = 'dispute.close';
      delete params.sub_id;
    }
    if (m === 'GET') return { name: 'stripe', operation: `${resource}.${verb}`, params: withExpands(params, request), effect: readEffect(request, resource) };
    if (m === 'DELETE') return { name: 'stripe', operation: `${resource}.${verb}.delete`, params, effect: 'delete' };
  }
  const operation = verb === 'unknown' ? 'unknown' : `${resource}.${verb}`;
  let effect: Effect;
  if (m === 'GET') effect = readEffect(request, resource);
  else if (pay.has(operation) || v2Pays(operation) || paysByParameters(request, operation)) effect = 'pay';
  else if (expandsCredential(request)) effect = 'admin';
  else if (admin.has(operation) || (resource === 'account' && m !== 'GET')) effect = 'admin';
  else if (v2 && m !== 'GET' && v2Admin.some((prefix) => resource === prefix || resource.startsWith(prefix))) effect = m === 'DELETE' ? 'delete' : 'admin';
  else if (override[operation]) effect = override[operation]!;
  else effect = effectByMethod(m);
  // What a send publishes or whom it reaches is the object it names: the invoice emailed (its
  // customer), the file a public link exposes (`file`, wherever Rack reads it). The place a grant
  // records: a grant for a public link to the logo covers none to an identity document.
  if (effect === 'send') params.sends = sentObject(request, params);
  // A customer's `email` is where Stripe sends its invoices, receipts and payment links: changing
  // it redirects them. The place a grant records (`(unchanged)` when the request names none): a
  // grant for a customer's metadata covers no change of where their mail goes.
  if (operation === 'customers.update' || operation === 'customers.create') {
    const read = stripeParams(request);
    const emails = read.values.get('email') ?? [];
    params.recipients = read.unread || emails.length > 1 ? ['?'] : emails.length === 0 ? ['(unchanged)'] : [typeof emails[0] === 'string' && !/[;=,|?()]/.test(emails[0]) ? emails[0].trim().toLowerCase() : '?'];
  }
  return { name: 'stripe', operation, params: withExpands(params, request), effect };
}

function withExpands(params: Record<string, unknown>, request: RequestInfo): Record<string, unknown> {
  if (expandsObjects(request)) params.expands = true;
  return params;
}

export const stripe: ServiceAdapter = {
  name: 'stripe',
  hosts: hostIs('api.stripe.com', 'files.stripe.com'),
  describe: describeStripe,
};
