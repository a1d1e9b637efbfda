// OPA's string and encoding builtins that OPA's WASM target leaves to the host, as Go runs them:
// positions and counts in runes (code points), hex and base64 over the UTF-8 bytes, and a decoded
// byte string that is not UTF-8 written as OPA's JSON encoder writes it (go-utf8.ts).
import { goUtf8 } from './go-utf8.ts';

function text(builtin: string, ...args: unknown[]): void {
  if (!args.every((a) => typeof a === 'string')) throw new Error(`${builtin}: operands must be strings`);
}

/** Go's `strings.Count`: non-overlapping; an empty substring counts the runes plus one. */
export function stringsCount(s: string, sub: string): number {
  text('strings.count', s, sub);
  if (sub === '') return [...s].length + 1;
  let n = 0;
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length)) n++;
  return n;
}

/** OPA's `indexof_n`: every rune index where `search` starts, overlapping ones too. */
export function indexOfN(s: string, search: string): number[] {
  text('indexof_n', s, search);
  if (search === '') throw new Error('indexof_n: empty search character');
  const runes = [...s];
  const want = [...search];
  const out: number[] = [];
  for (let i = 0; i + want.length <= runes.length; i++) {
    if (want.every((r, k) => runes[i + k] === r)) out.push(i);
  }
  return out;
}

export function hexEncode(s: string): string {
  text('hex.encode', s);
  return Buffer.from(s, 'utf8').toString('hex');
}

/** Go's `hex.DecodeString`: an odd length or a non-hex character is an error (Node's decoder stops there quietly). */
export function hexDecode(s: string): string {
  text('hex.decode', s);
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(s)) throw new Error('hex.decode: invalid hex string');
  return goUtf8(Buffer.from(s, 'hex'));
}

export function base64UrlEncodeNoPad(s: string): string {
  text('base64url.encode_no_pad', s);
  return Buffer.from(s, 'utf8').toString('base64url');
}

/** gobwas/glob's `QuoteMeta`: a backslash before each of its special characters. */
export function globQuoteMeta(s: string): string {
  text('glob.quote_meta', s);
  return s.replace(/[*?\\[\]{}]/g, (c) => `\\${c}`);
}

/** OPA's `strings.split_n(s, delimiter, n)`: the first `n` parts of the split (the rest dropped), or the last `-n`. */
export function stringsSplitN(s: string, delimiter: string, n: number): string[] {
  text('strings.split_n', s, delimiter);
  if (!Number.isInteger(n)) throw new Error('strings.split_n: operand 3 must be an integer');
  // Go splits by an empty delimiter into runes.
  const parts = delimiter === '' ? [...s] : s.split(delimiter);
  return n >= 0 ? parts.slice(0, n) : parts.slice(Math.max(parts.length + n, 0));
}
