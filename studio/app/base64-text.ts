// Base64 strings that decode to text, for a person reading a request: a Gmail `raw` message or a
// GitHub file's `content` is base64 in the JSON, and the server decodes it and acts on the text.
// Pure and without Node's Buffer: the browser app uses it on a record's parsed body, and the
// studio's server (studio/body-reading.ts) on a held body's.

/** At most this many base64 strings of one body are decoded. */
export const MAX_BASE64_STRINGS = 100;

const alphabet = /^[A-Za-z0-9+/_-]+={0,2}$/;
const control = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\uFFFD]/;

/**
 * The text a string decodes to as base64 (or base64url, line breaks allowed), or undefined: too
 * short, another alphabet, or bytes that are not UTF-8 text (an image stays as it is).
 */
export function base64Text(s: string): string | undefined {
  if (s.length < 16) return undefined;
  const compact = s.replace(/\r?\n/g, '');
  if (compact.length % 4 === 1 || !alphabet.test(compact)) return undefined;
  let binary: string;
  try {
    let end = compact.length;
    while (end > 0 && compact[end - 1] === '=') end--;
    const std = compact.slice(0, end).replace(/-/g, '+').replace(/_/g, '/');
    binary = atob(std + '='.repeat((4 - (std.length % 4)) % 4));
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
  return text && !control.test(text) ? text : undefined;
}

/** `── <where>: base64, decoded` sections for the base64 strings of a parsed JSON or form body. */
export function base64Sections(value: unknown): string[] {
  const out: string[] = [];
  // Iterative, bounded by the parsed body (itself bounded by the capture cap) and MAX_BASE64_STRINGS.
  const stack: Array<[string, unknown]> = [['', value]];
  while (stack.length && out.length < MAX_BASE64_STRINGS) {
    const [where, v] = stack.pop()!;
    if (typeof v === 'string') {
      const text = base64Text(v);
      if (text !== undefined) out.push(`── ${where || 'the body'}: base64, decoded\n${text}`);
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([`${where}[${i}]`, v[i]]);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v).reverse()) stack.push([`${where}.${k}`, x]);
    }
  }
  return out;
}
