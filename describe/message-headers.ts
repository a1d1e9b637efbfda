// The addresses an RFC 5322 message names in its header block (To, Cc, Bcc, From, Reply-To …): whom
// a message sent as a value (a `raw` field, a tool's `message`, a `message/rfc822` body) reaches or
// comes from, for the grant's places (describe/places.ts) and Gmail's recipients.

/**
 * The text without its RFC 5322 comments (nested, `\\`-escaped) and quote marks, in one pass; a
 * `(` inside quotes is text. Undefined when a comment or quote does not end: where the addresses
 * are is then not known.
 */
export function withoutComments(text: string): string | undefined {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') quoted = false;
      else out += c;
    } else if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '"') quoted = true;
    else if (c === '(') depth = 1;
    else out += c;
  }
  return depth > 0 || quoted ? undefined : out;
}

/** Headers that name whom a message reaches, whom replies and reports go to, and whom it comes from. */
const addressHeaders = new Set(['to', 'cc', 'bcc', 'from', 'sender', 'reply-to', 'resent-to', 'resent-cc', 'resent-bcc', 'resent-from', 'resent-sender',
  'return-path', 'disposition-notification-to', 'return-receipt-to', 'errors-to', 'mail-followup-to', 'mail-reply-to', 'x-original-to', 'delivered-to']);

/** The part of a message read for its header block, at most. */
export const MAX_MESSAGE_HEAD = 64 * 1024;

/** A header line's start: a field name (RFC 5322: printable ASCII but `:`) then `:`. */
const headerLine = /^[!-9;-~]{1,76}:/;

/**
 * `name=address,…` for each address header of a text that is an RFC 5322 message (it starts with a
 * header line and its header block names an address header), sorted, addresses lower-case without
 * comments; `?` when the header block does not end within MAX_MESSAGE_HEAD (or before the text,
 * `whole` false, was cut) or an address header cannot be read; undefined when the text is no message.
 */
export function messageAddresses(text: string, whole = true): string | undefined {
  if (!headerLine.test(text)) return undefined;
  const window = text.slice(0, MAX_MESSAGE_HEAD);
  const end = window.search(/\r?\n\r?\n/);
  const head = (end < 0 ? window : window.slice(0, end)).replace(/\r?\n[ \t]/g, ' ');
  const out = new Set<string>();
  // (A text cut by the capture, or past the bound, whose header block has not ended holds more headers unseen.)
  let unread = end < 0 && (!whole || text.length > MAX_MESSAGE_HEAD);
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trim().toLowerCase();
    if (!addressHeaders.has(name)) continue;
    // RFC 5322 comments (`drop(note)@attacker.example`) and quotes are no part of the address delivered to.
    const value = withoutComments(line.slice(colon + 1));
    if (value === undefined) unread = true;
    else out.add(`${name}=${value.split(/[\s<>,;:]/).filter((t) => t.includes('@')).map((t) => t.toLowerCase()).sort().join(',')}`);
  }
  if (!out.size) return undefined;
  return unread ? '?' : [...out].sort().join(';');
}

/** A text that is all base64 or base64url (a Gmail `raw`, an encoded upload), long enough to hold a message. */
const base64Text = /^[A-Za-z0-9+/_-]{24,}={0,2}$/;

/** messageAddresses of a text, or of the message it encodes in base64 or base64url; undefined when neither is a message. */
export function encodedMessageAddresses(text: string, whole = true): string | undefined {
  const plain = messageAddresses(text, whole);
  if (plain !== undefined || text.length < 24) return plain;
  // (Only the start is decoded: 4 characters per 3 bytes, up to the header block's bound.)
  let start = text.slice(0, Math.ceil((MAX_MESSAGE_HEAD * 4) / 3) + 4);
  if (!base64Text.test(start)) return undefined;
  // (Its padding cut by a loop: `/=+$/` is quadratic over a run of `=`.)
  let end = start.length;
  while (end > 0 && start[end - 1] === '=') end--;
  start = start.slice(0, end);
  return messageAddresses(Buffer.from(start, 'base64url').toString('latin1'), whole);
}
