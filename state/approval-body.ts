// Whether a person deciding an approval can read the whole request body. The approval record keeps
// the description the policy saw, whose body is complete only when it was parsed (JSON, a form) or
// its text preview covers every byte; anything else (a long text, binary, a body past the capture
// cap) needs the held request's own bytes, or must be approved knowingly unseen.
import type { BodySummary } from '../describe/types.ts';
import { phpName } from '../describe/body.ts';
import { cookieShownWhileHeld } from '../describe/describe.ts';

export type BodyVisibility =
  /** No body at all. */
  | 'empty'
  /** The record holds all of it (parsed JSON or form, or a text preview that covers every byte). */
  | 'whole'
  /** The record holds a preview or nothing readable; the bytes are needed to see it all. */
  | 'partial'
  /** The agent sent more than the proxy captures: no one (not the policy, not a person) saw the rest. */
  | 'beyond-cap';

/**
 * `cut`: the body in hand is the approval record's shortened copy (a large parsed body is kept in
 * part), so what it holds is a preview whatever it looks like.
 */
export function bodyVisibility(body: BodySummary, cut = false): BodyVisibility {
  if (body.truncated) return 'beyond-cap';
  if (body.size === 0) return 'empty';
  if (cut) return 'partial';
  // Servers read it in more than one way (duplicate keys, numbers past a double, a Content-Type
  // that disagrees …): the parsed copy is one reading, not what every server will read.
  if (body.ambiguous === true) return 'partial';
  // A parsed number is a 64-bit float: an integer past 2^53 (an account or object id, an amount in
  // minor units) is kept rounded, and a server that reads integers exactly acts on the digits sent.
  if (body.json !== undefined && roundedNumber(body.json) !== undefined) return 'partial';
  // JSON read in a declared non-Unicode charset (`charset=shift_jis`): servers that read JSON as
  // UTF-8, as RFC 8259 says (Go, Node), read its non-ASCII text otherwise (`佐藤` is `菴占陸` in
  // Shift_JIS). The copy is one of two readings: the bytes show both.
  if (body.json !== undefined && otherCharsetText(body)) return 'partial';
  // Fields PHP or ASP.NET read as one (` to` and `to`): which value they use is the order sent,
  // which the kept copy (fields grouped by name) does not keep.
  if (body.form !== undefined && mergedFormNames(body.form).length) return 'partial';
  // A multipart body's form is its fields, not its uploads nor the parts' heads: the bytes show it whole.
  if (body.json !== undefined || (body.form !== undefined && !body.content_type?.startsWith('multipart/'))) return 'whole';
  // A text preview is whole only when the describe step kept all of it (`text_truncated` unset):
  // its length in UTF-8 proves nothing once a charset or a content coding was undone (4,096
  // windows-1252 `é` are 8,192 bytes of UTF-8, as long as the 8 KiB body whose start they are).
  // XML whose parser reads other text than the bytes (character references, entities it declares):
  // the record keeps the bytes, not that reading, which only the held body shows.
  if (typeof body.text === 'string' && xmlReadOtherwise(body.text, body.content_type ?? '')) return 'partial';
  // YAML: aliases, merge keys, tags, escapes and YAML 1.1's readings (`0777`, `1:20`, `no`) are
  // the parser's, shown beside the held bytes (studio/body-reading.ts); the record keeps the text.
  if (typeof body.text === 'string' && /^(?:application|text)\/(?:x-)?yaml$|\+yaml$/.test(body.content_type ?? '')) return 'partial';
  if (typeof body.text === 'string' && !body.text_truncated && !body.text.includes('\uFFFD') && Buffer.byteLength(body.text, 'utf8') === body.size) return 'whole';
  return 'partial';
}

/**
 * Whether an XML body (any `…xml` type, or text that opens as XML, an XML-RPC call or a SOAP
 * envelope: those servers read the raw body) holds character references or declares entities,
 * which its parser reads as other text than the bytes show.
 */
export function xmlReadOtherwise(text: string, contentType: string): boolean {
  if (!text.includes('&#') && !/<!entity/i.test(text)) return false;
  const start = text.trimStart();
  return /xml/i.test(contentType) || start.startsWith('<?xml') || start.startsWith('<methodCall') || /^<[\w.-]+:Envelope\b/.test(start);
}

/** What the approver could not see, in words, or undefined when nothing is hidden. */
export function unseenBodyText(body: BodySummary, heldBytes: number | undefined, cut = false): string | undefined {
  const v = bodyVisibility(body, cut);
  if (v === 'empty' || v === 'whole') return undefined;
  if (v === 'beyond-cap') return `the body is larger than the capture cap: only its first ${heldBytes ?? 'captured'} bytes were ever read, by the policy or by anyone`;
  if (heldBytes !== undefined) return undefined; // the held request's bytes are there to be read whole
  if (body.ambiguous === true && (body.json !== undefined || body.form !== undefined || body.text !== undefined)) {
    const why = (body.ambiguous_reasons ?? []).map((r) => r.detail).join('; ');
    return `servers read this body in more than one way${why ? ` (${why})` : ''} and only one reading is kept once the request is no longer held`;
  }
  if (body.json !== undefined && otherCharsetText(body)) {
    return `the kept copy of this JSON body is its text read in ${body.charset}, while servers that read JSON as UTF-8 (Go, Node) read its non-ASCII text otherwise; the bytes are kept only while the request is held`;
  }
  const merged = body.form !== undefined ? mergedFormNames(body.form) : [];
  if (merged.length) {
    return `the kept copy of this form groups its fields by name, while PHP, Rack 2 or ASP.NET read ${merged.map((g) => g.map((n) => JSON.stringify(n)).join(' and ')).join('; ')} as one field and use the value sent last (ASP.NET: all of them joined): which one that is only the bytes show, and they are kept only while the request is held`;
  }
  const rounded = body.json !== undefined ? roundedNumber(body.json) : undefined;
  if (rounded !== undefined) {
    return `the kept copy of this JSON body holds ${rounded}, an integer past 2^53 that a 64-bit float cannot keep exactly: the digits sent may differ (a server that reads integers exactly acts on those), and the bytes are kept only while the request is held`;
  }
  return `only a preview of the ${body.size}-byte body is kept once the request is no longer held`;
}

/** A parsed body decoded from a charset that is not Unicode, with text outside ASCII (which reads alike in either). */
function otherCharsetText(body: BodySummary): boolean {
  if (body.charset === undefined || /^utf-?(8|16|32)/i.test(body.charset)) return false;
  const stack: unknown[] = [body.json];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (/[^\x00-\x7f]/.test(v)) return true;
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (/[^\x00-\x7f]/.test(k)) return true;
        stack.push(x);
      }
    }
  }
  return false;
}

/**
 * The first integer of a parsed JSON value too large for a 64-bit float to hold exactly (its text
 * as kept), or undefined. Walked without recursion; a record's copy of a description is bounded.
 */
export function roundedNumber(json: unknown): string | undefined {
  const stack: unknown[] = [json];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (Number.isInteger(v) && !Number.isSafeInteger(v)) return String(v);
    } else if (v && typeof v === 'object') {
      for (const x of Object.values(v as Record<string, unknown>)) stack.push(x);
    }
  }
  return undefined;
}

/**
 * Groups of a form's field names that PHP (` to`, `mail.to`, `to[]` beside `to`: describe/body.ts
 * phpName) or ASP.NET (`TO`: names without letter case) read as one field. The record keeps a form
 * grouped by name, so the order of their values, which decides the one used, is lost.
 */
export function mergedFormNames(form: Record<string, unknown>): string[][] {
  const groups = new Map<string, Set<string>>();
  const arrays = new Set<string>();
  for (const name of Object.keys(form)) {
    // `user[name]` and `user[email]` are one array to PHP, as they are meant: only a plain name
    // beside another spelling of it, or beside an array of its name, is read otherwise than sent.
    const trimmed = name.replace(/^ +/, '');
    const open = trimmed.indexOf('[');
    const array = open >= 0 && trimmed.indexOf(']', open) > 0 && !trimmed.slice(0, open).includes('\0');
    if (array) arrays.add(name);
    // Rack 2 drops brackets around a plain name (`[to]`, `to]` are `to`; studio/app/param-names.ts rackName).
    const bare = name.replace(/^[[\]]+/, '');
    const cut = bare.search(/[[\]]/);
    const rack = cut < 0 ? bare : /^\]*$/.test(bare.slice(cut)) ? bare.slice(0, cut) : undefined;
    for (const key of [`php:${phpName(name)}`, `asp:${name.toLowerCase()}`, ...(rack ? [`rack:${rack}`] : [])]) {
      const g = groups.get(key) ?? new Set<string>();
      g.add(name);
      groups.set(key, g);
    }
  }
  const out: string[][] = [];
  const seen = new Set<string>();
  for (const g of groups.values()) {
    const plain = [...g].filter((n) => !arrays.has(n)).length;
    if (g.size < 2 || plain === 0) continue;
    const names = [...g].sort();
    if (seen.has(names.join('\0'))) continue;
    seen.add(names.join('\0'));
    out.push(names);
  }
  return out;
}

/**
 * Why approving a held upgrade (a WebSocket handshake) is a knowing choice: approving opens a
 * channel over which the agent sends anything for as long as it stays open, none of it ever on a
 * card or in `airlock approvals show`. Undefined for any other request.
 */
export function upgradeText(request: { upgrade?: unknown }): string | undefined {
  if (typeof request.upgrade !== 'string' || !request.upgrade) return undefined;
  const what = request.upgrade.toLowerCase() === 'websocket' ? 'a WebSocket' : `a connection upgraded to ${JSON.stringify(request.upgrade)}`;
  return `approving opens ${what}: every message the agent then sends over it, for as long as it stays open, leaves without being shown or approved`;
}

/**
 * Why the card cannot show the values of the cookies that say whose account a request acts in
 * (`account_id=acct_1Attacker` beside the session: the record keeps every value redacted, and the
 * card shows them from the held request's memory only), or undefined. `held`: the values the held
 * request keeps (describe heldCookieValues, `…` marking cookies past its bound and values it cut),
 * undefined once the request is no longer held. An agent that put the account cookie after 50
 * others, or hung up once held (its card waiting for the retry), had it approved at a click, unseen.
 */
export function cookieValuesText(request: { headers?: unknown }, held: ReadonlyArray<readonly [string, string]> | undefined): string | undefined {
  const header = (request.headers as Record<string, unknown> | undefined)?.cookie;
  const values = Array.isArray(header) ? header.map(String) : typeof header === 'string' ? [header] : [];
  const names = [...new Set(values.flatMap((v) => v.split(';')).map((p) => p.trim()).filter((p) => p.endsWith('=[redacted]')).map((p) => p.slice(0, -'=[redacted]'.length)).filter(cookieShownWhileHeld))];
  if (!names.length) return undefined;
  const listed = names.slice(0, 8).map((n) => JSON.stringify(n)).join(', ') + (names.length > 8 ? ` and ${names.length - 8} more` : '');
  if (!held) return `the request carries cookies (${listed}) whose values, which may say whose account it acts in, are shown only while it is held, by the Airlock holding it: they are not on this card`;
  const more = held.find(([n]) => n === '…');
  const cut = held.filter(([, v]) => /… \(cut: \d+ characters\)$/.test(v)).map(([n]) => JSON.stringify(n));
  if (!more && !cut.length) return undefined;
  return `the request carries ${more ? `more cookies than the card shows (${more[1]})` : ''}${more && cut.length ? ', and ' : ''}${cut.length ? `cookie values the card shows cut (${cut.join(', ')})` : ''}: whose account it acts in may be in what is not shown`;
}

/**
 * Why approving a request whose cookies carry one of its parameters (`request.cookie_params`) is a
 * knowing choice: the server may take the parameter from the cookie, whose value nobody is shown
 * (cookies are redacted), not from the query or form the card shows. Undefined when none does.
 */
export function cookieParamsText(request: { cookie_params?: unknown }): string | undefined {
  const names = Array.isArray(request.cookie_params) ? request.cookie_params.map(String) : [];
  if (!names.length) return undefined;
  return `the request carries a cookie named like its parameter ${names.map((n) => JSON.stringify(n)).join(', ')}, and servers may read the parameter from that cookie (PHP's $_REQUEST takes it over the query and form when request_order is unset, classic ASP.NET's Request[…] where they lack it), whose value is not shown (cookies are redacted)`;
}
