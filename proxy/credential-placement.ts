// Where a credential directive puts its secret, and where the agent's placeholders are. A secret
// goes only into the slot its directive names — the named header, Authorization for Basic, the
// named query parameter, the body for `in: "body"` — and the slot is written by Airlock whole. A
// placeholder anywhere else (another header, a header's name, another query parameter or a
// parameter's name, the path, the host, the body without a body directive) is refused: it is
// never substituted, since a service that records that place (a request log, a resource name)
// would hand the real value back to the agent. Pure.
import { credentialParams, formEntries, parameterNames } from '../describe/body.ts';
import { parseLenientJson } from '../describe/json-lenient.ts';
import type { BodySummary, RequestDescription } from '../describe/types.ts';
import type { CredentialDirective } from '../engine/decision.ts';
import type { OutgoingRequest } from './enforcers.ts';
import { serverHeaderKey } from '../lib/text.ts';

export interface Slots {
  /** Lowercase header name → secrets injected there. */
  headers: Map<string, Set<string>>;
  /** Query parameter name (decoded) → secrets injected there. */
  query: Map<string, Set<string>>;
  body: Set<string>;
}

export function slotsOf(directives: CredentialDirective[]): Slots {
  const slots: Slots = { headers: new Map(), query: new Map(), body: new Set() };
  const add = (m: Map<string, Set<string>>, k: string, s: string): void => {
    let set = m.get(k);
    if (!set) m.set(k, (set = new Set()));
    set.add(s);
  };
  for (const d of directives) {
    if (d.in === 'header' && d.name) add(slots.headers, d.name.toLowerCase(), d.secret);
    else if (d.in === 'basic') add(slots.headers, 'authorization', d.secret);
    else if (d.in === 'query' && d.name) add(slots.query, d.name, d.secret);
    else if (d.in === 'body') slots.body.add(d.secret);
  }
  return slots;
}

/** A query parameter's name as servers read it ('+' is a space, %XX decoded); the raw name if it does not decode. */
export function queryKey(rawKey: string): string {
  const key = rawKey.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** One place a placeholder was seen. */
export interface Sighting {
  name: string;
  /** For people: "header x-data", "the name of a header", "query parameter q", "path", … */
  where: string;
  /** Set when this place is a slot a directive can fill. */
  slot?: { kind: 'header' | 'query' | 'body'; key: string };
}

interface Finder {
  find(text: string): string[];
}

/** Every placeholder in the outgoing request, place by place (the body as the description saw it). */
export function sightings(outgoing: OutgoingRequest, description: RequestDescription, finder: Finder): Sighting[] {
  const out: Sighting[] = [];
  const add = (names: string[], where: string, slot?: Sighting['slot']): void => {
    for (const name of names) out.push({ name, where, ...(slot ? { slot } : {}) });
  };
  for (const [n, v] of outgoing.headers) {
    add(finder.find(n), 'the name of a header');
    add(finder.find(v), `header ${n.toLowerCase()}`, { kind: 'header', key: n.toLowerCase() });
  }
  const url = outgoing.url;
  add(finder.find(url.hostname), 'host');
  add(finder.find(url.pathname), 'path');
  const search = url.search.replace(/^\?/, '');
  if (search) {
    const seen = new Set<string>();
    for (const part of search.split('&')) {
      const eq = part.indexOf('=');
      const rawKey = eq < 0 ? part : part.slice(0, eq);
      const names = finder.find(rawKey);
      add(names, 'the name of a query parameter');
      const valueNames = eq < 0 ? [] : finder.find(part.slice(eq + 1));
      const key = queryKey(rawKey);
      add(valueNames, `query parameter ${JSON.stringify(key.slice(0, 60))}`, { kind: 'query', key });
      for (const n of [...names, ...valueNames]) seen.add(n);
    }
    // Across parameters (a placeholder cut by "&"): in the query, but in no slot.
    add(finder.find(search).filter((n) => !seen.has(n)), 'the query');
  }
  for (const p of description.placeholders) if (p.where.includes('body')) add([p.name], 'body', { kind: 'body', key: '' });
  return out;
}

/** Whether a sighting is in a slot the directives fill with its own secret. */
export function inItsSlot(s: Sighting, slots: Slots): boolean {
  if (!s.slot) return false;
  if (s.slot.kind === 'body') return slots.body.has(s.name);
  const m = s.slot.kind === 'header' ? slots.headers : slots.query;
  return m.get(s.slot.key)?.has(s.name) ?? false;
}

/**
 * The body fields each secret goes in: `in: "body"` directives with a `name` (a form field, or a
 * JSON property at any depth), for secrets no unnamed body directive puts anywhere in the body.
 */
export function bodyFieldsOf(directives: CredentialDirective[]): Map<string, Set<string>> {
  const anywhere = new Set(directives.filter((d) => d.in === 'body' && !d.name).map((d) => d.secret));
  const out = new Map<string, Set<string>>();
  for (const d of directives) {
    if (d.in !== 'body' || !d.name || anywhere.has(d.secret)) continue;
    let set = out.get(d.secret);
    if (!set) out.set(d.secret, (set = new Set()));
    set.add(d.name);
  }
  return out;
}

/**
 * Where a body holds `placeholder` outside its named `fields`, or undefined when every copy of it
 * is the whole value of such a field (what the body substitution replaces is then only the
 * slot). A named slot is checked on the whole body as the server parses it: a body past the
 * capture, of another type, or with the placeholder in another spelling or inside other text
 * (a gist's content, an issue's body, a message's text: a service that stores it hands it back)
 * is refused. `raw`: the body's bytes as sent.
 */
export function outsideBodyFields(body: RequestDescription['request']['body'], raw: Buffer | undefined, name: string, placeholder: string, fields: Set<string>, finder: Finder): string | undefined {
  if (body.truncated) return 'past what Airlock reads of a body (a named body slot is checked on the whole body)';
  const text = raw ? raw.toString('latin1') : '';
  let exact = 0;
  for (let i = text.indexOf(placeholder); i >= 0; i = text.indexOf(placeholder, i + placeholder.length)) exact++;
  // Each reading a server may make of the body holds every copy in the slot, or none is substituted
  // (twenty-second pass): a form-typed body that is JSON (`{"note": "x&token=<ph>&"}`) has the
  // placeholder in its form field `token` to a form reader, and in `note` to a server that reads
  // JSON whatever the type says (Go's json.Decoder, GitHub's API), which stores the value there.
  const utf8 = raw ? raw.toString('utf8') : '';
  const looksJson = /^[\s\ufeff]*[{[]/.test(utf8.slice(0, 1024));
  let json = body.json;
  if (json === undefined && looksJson) {
    try {
      json = JSON.parse(utf8) as unknown;
    } catch {
      const lenient = parseLenientJson(utf8);
      json = lenient && 'value' in lenient ? lenient.value : null;
    }
  }
  const readings: number[] = [];
  if (body.form && (!looksJson || /^\s*application\/x-www-form-urlencoded/i.test(body.content_type))) {
    let inForm = 0;
    for (const f of fields) inForm += (body.form[f] ?? []).filter((v) => v === placeholder).length;
    readings.push(inForm);
  }
  if (json !== undefined) {
    let inJson = 0;
    // Iterative walk, bounded by the parsed document (itself bounded by the capture cap).
    const stack: unknown[] = [json];
    while (stack.length) {
      const v = stack.pop();
      if (Array.isArray(v)) for (const x of v) stack.push(x);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (fields.has(k) && x === placeholder) inJson++;
          else stack.push(x);
        }
      }
    }
    readings.push(inJson);
  }
  if (!readings.length) readings.push(0);
  if (readings.some((inSlot) => exact > inSlot)) return 'outside the field it goes in (or inside other text there)';
  if (readings.some((inSlot) => exact < inSlot)) return 'in a spelling Airlock does not substitute';
  if (finder.find(text.split(placeholder).join('')).includes(name)) return 'in another spelling besides';
  return undefined;
}

/** Where the directives put `secret`, for messages. */
export function slotNames(secret: string, slots: Slots): string {
  const places: string[] = [];
  for (const [h, s] of slots.headers) if (s.has(secret)) places.push(`header ${h}`);
  for (const [q, s] of slots.query) if (s.has(secret)) places.push(`query parameter ${JSON.stringify(q)}`);
  if (slots.body.has(secret)) places.push('the body');
  return places.join(', ') || 'nowhere';
}

/**
 * Header and query names that carry a credential (rego/sessions.rego reads the same lists as "the
 * agent authenticates with credentials of its own"). Header names compared as servers that key
 * headers by an environment name read them (`X_Api_Key` is `x-api-key` to CGI and Rack).
 */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'apikey', 'x-auth-token', 'private-token', 'x-access-token', 'x-goog-api-key', 'x-github-token', 'x-hasura-admin-secret', 'x-hasura-access-key']);
const CREDENTIAL_PARAMS = credentialParams;

/**
 * Takes out every credential of the agent's own that rides beside the injected ones: which of two
 * credentials a service authenticates a request by is its choice (Anthropic reads an
 * `Authorization: Bearer` as well as the injected `x-api-key`), so a request the policy decided as
 * the user's account could run on another (an attacker's, whose logs then show the prompt). The
 * request leaves with the credentials its decision named and no others: a session cookie is one
 * too (GitLab and Grafana take their session cookie as well as a token), unless the slot is the
 * Cookie header. Call after the slots are
 * written: what is left under a slot's exact name is Airlock's own. Returns what was taken out
 * ("header x-api-key", "query parameter token"), for the audit record.
 */
export function removeOtherCredentials(outgoing: Pick<OutgoingRequest, 'headers' | 'url'>, slots: Slots): string[] {
  const removed: string[] = [];
  const slotKeys = new Set([...slots.headers.keys()].map(serverHeaderKey));
  const { headers } = outgoing;
  for (let i = headers.length - 1; i >= 0; i--) {
    const lower = headers[i]![0].toLowerCase();
    if (slots.headers.has(lower)) continue;
    const key = serverHeaderKey(lower);
    if (!CREDENTIAL_HEADERS.has(key) && key !== 'cookie' && !slotKeys.has(key)) continue;
    removed.unshift(`header ${lower.slice(0, 60)}`);
    headers.splice(i, 1);
  }
  const search = outgoing.url.search.replace(/^\?/, '');
  if (!search) return removed;
  const slotParams = new Set([...slots.query.keys()].map((k) => k.toLowerCase()));
  const kept = search.split('&').filter((part) => {
    const key = queryKey(part.split('=', 1)[0]!);
    if (slots.query.has(key)) return true;
    const lower = key.toLowerCase();
    if (!CREDENTIAL_PARAMS.has(lower) && !slotParams.has(lower)) return true;
    removed.push(`query parameter ${JSON.stringify(key.slice(0, 60))}`);
    return false;
  });
  if (kept.length !== search.split('&').length) outgoing.url.search = kept.length ? `?${kept.join('&')}` : '';
  return removed;
}

/**
 * A credential of the agent's own in the body of a request Airlock injects into (Slack's Web API
 * takes a form or multipart `token` as well as the Authorization header; OAuth-style services take
 * `access_token`): which one the service authenticates by is its choice, as with headers. A body
 * is not rewritten to take it out, so the request is refused. Looked for where the description
 * reads fields: a form's (urlencoded, or multipart's credential-named fields), a JSON object's top
 * level, by every name a server registers the field under, in any case. A value holding the
 * placeholder of a secret the decision puts in the body is that slot, not the agent's own.
 * Returns the field's name, or undefined.
 */
export function agentCredentialInBody(body: BodySummary, isBodySlot: (value: string) => boolean): string | undefined {
  const named = (raw: string): boolean => parameterNames(raw).some((n) => CREDENTIAL_PARAMS.has(n.toLowerCase()));
  const own = (v: unknown): boolean => typeof v !== 'string' || !isBodySlot(v);
  for (const [name, values] of formEntries(body.form ?? {})) {
    if (named(name) && values.some(own)) return name;
  }
  const json = body.json;
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    for (const [name, value] of Object.entries(json)) {
      if (named(name) && own(value)) return name;
    }
  }
  return undefined;
}
