// Finds secret placeholders in request text. Runs on the hot path over every header value, the
// path, the query and the captured body, so the common case (no placeholder) is a few substring
// searches for the shared prefix `airlock-ph-` in each encoding we look for (plus one regex for
// escaped spellings, only on text containing '%' or '\'). Only when a prefix shows up do we check
// each secret exactly.
//
// Encoded forms matter because a prompt-injected agent trying to smuggle a placeholder somewhere
// it is not bound may encode it; the policy should still see that a placeholder is headed there.
// Detected forms: raw, base64, base64url (at any byte alignment), hex (lower or upper case), and
// escapes of any subset of characters (%XX, \uXXXX, \xXX, &#N;, &#xH; and the other families of
// describe/text-decodings.ts); also wrapped over lines (MIME base64 at 76 columns, PEM, quoted-printable
// soft breaks, JSON "\n"), looked at again with the line breaks removed.
import { trimTrailing } from '../lib/text.ts';
import type { PlaceholderFinder as Finder } from './describe.ts';
import { mayBeWrapped, unescapeAll, unwrap } from './text-decodings.ts';

export type { PlaceholderFinder } from './describe.ts';

/** Every placeholder starts with this: the finder's cheap first look, and the secret store's format. */
export const PLACEHOLDER_PREFIX = 'airlock-ph-';

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * The base64 text that encodes `bytes` whatever its byte offset inside a larger encoded blob:
 * for each of the 3 alignments, the characters determined by `bytes` alone (edge characters that
 * mix in neighbouring bytes are dropped).
 */
export function base64Cores(bytes: Buffer, url = false): string[] {
  const cores: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    let enc = trimTrailing(padded.toString('base64'), '=');
    // Leading chars that include bits of the zero padding: shift 1 → 1 char, shift 2 → 2 chars.
    const dropStart = shift === 0 ? 0 : shift === 1 ? 2 : 3;
    // Trailing char carrying bits of a following byte when the length is not a multiple of 3.
    const dropEnd = padded.length % 3 === 0 ? 0 : 1;
    enc = enc.slice(dropStart, enc.length - dropEnd);
    if (url) enc = enc.replace(/\+/g, '-').replace(/\//g, '_');
    if (enc) cores.push(enc);
  }
  return cores;
}

/** Every encoded spelling of `s` we detect, exact (no case folding except hex). */
export function encodedForms(s: string): string[] {
  const bytes = Buffer.from(s, 'utf8');
  const hex = bytes.toString('hex');
  return [...new Set([s, ...base64Cores(bytes), ...base64Cores(bytes, true), hex, hex.toUpperCase()])];
}

/** The prefix raw, base64/base64url (each alignment) and hex (lower or upper case). */
const PREFIX_FORMS = encodedForms(PLACEHOLDER_PREFIX);
/** The same without the raw spelling: when one shows up, each secret's encoded forms are checked. */
const ENCODED_PREFIX_FORMS = PREFIX_FORMS.filter((f) => f !== PLACEHOLDER_PREFIX);

/** The prefix with any subset of its characters escaped as %XX, \u00XX, \xXX, &#N; or &#xH; (hex in either case). */
function escapedPrefix(): string {
  return [...PLACEHOLDER_PREFIX].map((c) => {
    const code = c.charCodeAt(0).toString(16);
    const hex = `${code[0]}[${code[1]!.toLowerCase()}${code[1]!.toUpperCase()}]`;
    return `(?:${escapeRe(c)}|%${hex}|\\\\u00${hex}|\\\\x${hex}|&#0*${c.charCodeAt(0)};?|&#[xX]0*${hex};?)`;
  }).join('');
}

/** The prefix with escaped characters; only tried on text that has a '%', '\\' or '&#' at all. */
export const ESCAPED_PREFIX_RE = new RegExp(escapedPrefix());

interface Entry {
  name: string;
  placeholder: string;
  /** Encoded spellings (base64/base64url cores, hex) checked when an encoded prefix shows up. */
  encoded: string[];
}

export class PlaceholderIndex implements Finder {
  private readonly entries: Entry[];
  private readonly byPlaceholder = new Map<string, string>();
  private readonly maxLength: number;

  /** `secrets`: name → placeholder. */
  constructor(secrets: Iterable<[string, string]>) {
    this.entries = [];
    for (const [name, placeholder] of secrets) {
      this.entries.push({ name, placeholder, encoded: encodedForms(placeholder).filter((f) => f !== placeholder) });
      this.byPlaceholder.set(placeholder, name);
    }
    this.maxLength = Math.max(0, ...this.entries.map((e) => e.placeholder.length));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Names of the secrets whose placeholder occurs in `text`, raw or encoded, also wrapped over lines. */
  find(text: string): string[] {
    if (this.entries.length === 0) return [];
    const found = new Set(this.findIn(text));
    // Doubly percent-encoded (%2561…): look again once decoded.
    if (found.size < this.entries.length && text.includes('%25')) for (const n of this.findIn(unescapeAll(text))) found.add(n);
    if (found.size < this.entries.length && mayBeWrapped(text)) for (const n of this.findIn(unwrap(text))) found.add(n);
    return [...found];
  }

  private findIn(text: string): string[] {
    // The pre-filter: plain substring searches (much faster in V8 than one regex alternation).
    const mayBeEscaped = text.includes('%') || text.includes('\\') || text.includes('&#');
    if (!PREFIX_FORMS.some((f) => text.includes(f)) && !(mayBeEscaped && ESCAPED_PREFIX_RE.test(text))) return [];
    const found = new Set<string>();
    // Raw: look up each prefix occurrence directly.
    for (let i = text.indexOf(PLACEHOLDER_PREFIX); i !== -1; i = text.indexOf(PLACEHOLDER_PREFIX, i + 1)) {
      const candidate = text.slice(i, i + this.maxLength);
      for (const e of this.entries) if (candidate.startsWith(e.placeholder)) found.add(e.name);
    }
    if (found.size === this.entries.length) return [...found];
    // Encoded forms are rarer; only when their prefix shows up is each secret checked exactly.
    const encoded = ENCODED_PREFIX_FORMS.some((f) => text.includes(f));
    const decoded = mayBeEscaped ? unescapeAll(text) : '';
    if (!encoded && !decoded.includes(PLACEHOLDER_PREFIX)) return [...found];
    for (const e of this.entries) {
      if (found.has(e.name)) continue;
      if ((encoded && e.encoded.some((f) => text.includes(f))) || (decoded && decoded.includes(e.placeholder))) found.add(e.name);
    }
    return [...found];
  }

  /** Where a raw placeholder occurs: [start, end, secret name], in order. For substitution. */
  locate(text: string): Array<[number, number, string]> {
    const hits: Array<[number, number, string]> = [];
    for (let i = text.indexOf(PLACEHOLDER_PREFIX); i !== -1; i = text.indexOf(PLACEHOLDER_PREFIX, i + 1)) {
      for (const e of this.entries) {
        if (text.startsWith(e.placeholder, i)) {
          hits.push([i, i + e.placeholder.length, e.name]);
          i += e.placeholder.length - 1;
          break;
        }
      }
    }
    return hits;
  }

  /** Replaces raw placeholders of the secrets in `values` (name → replacement); others are left. */
  substitute(text: string, values: ReadonlyMap<string, string>): { text: string; replaced: Set<string> } {
    const replaced = new Set<string>();
    if (!text.includes(PLACEHOLDER_PREFIX)) return { text, replaced };
    let out = '';
    let last = 0;
    for (const [start, end, name] of this.locate(text)) {
      const value = values.get(name);
      if (value === undefined) continue;
      out += text.slice(last, start) + value;
      last = end;
      replaced.add(name);
    }
    return { text: out + text.slice(last), replaced };
  }

  placeholderOf(name: string): string | undefined {
    return this.entries.find((e) => e.name === name)?.placeholder;
  }
}
