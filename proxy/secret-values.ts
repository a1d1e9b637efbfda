// Finds real secret values (not placeholders) in request text. An agent should never hold a real
// value, but one may learn it elsewhere (an old log, a leaked file, an upstream that echoed it
// before scrubbing existed). Sending it is then exactly the exfiltration Airlock exists to stop,
// so a value is treated like a placeholder: it may only go where the decision binds its secret.
// Also used to redact values from anything Airlock writes down (the audit log).
//
// Detection runs on every request, so it reads the text as decoders would — escapes of every
// family decoded (%XX, \xXX, \uXXXX, &#N;, &name;, \/ …), quoted-printable decoded, line breaks
// and whitespace removed (wrapped base64 and hex) — and looks for a few exact strings (raw,
// base64/base64url at any alignment, hex) with substring searches. Streams (bodies) and
// redaction use the full spelling matcher (proxy/scrubber.ts) instead.
import { base64Cores } from '../describe/placeholders.ts';
import { readings } from '../describe/text-decodings.ts';
import { Scrubber, type MatchRule } from './scrubber.ts';

/** Values shorter than this are not searched for: they would match innocent text. */
export const MIN_DETECTABLE_LENGTH = 8;

interface Entry {
  name: string;
  value: string;
  /** Raw (latin1), base64/base64url cores, hex in either case. */
  forms: string[];
}

/** Request text (a URL, a decoded body preview) as latin1 UTF-8 bytes, the way header values already are. */
export function asLatin1(text: string): string {
  return /[^\x00-\x7f]/.test(text) ? Buffer.from(text, 'utf8').toString('latin1') : text;
}

export class SecretValueIndex {
  private readonly entries: Entry[] = [];
  private redactor: Scrubber | undefined;
  /** Whether some value has a space (only then is a form-encoded '+' reading worth making). */
  private readonly spaces: boolean;

  /** `secrets`: name → real value. */
  constructor(secrets: Iterable<[string, string]>) {
    for (const [name, value] of secrets) {
      if (value.length < MIN_DETECTABLE_LENGTH) continue;
      const bytes = Buffer.from(value, 'utf8');
      const hex = bytes.toString('hex');
      const forms = [...new Set([bytes.toString('latin1'), ...base64Cores(bytes), ...base64Cores(bytes, true), hex, hex.toUpperCase()])];
      this.entries.push({ name, value, forms: forms.sort((a, b) => b.length - a.length) });
    }
    this.spaces = this.entries.some((e) => e.value.includes(' '));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Each value, for streaming guards (matched there in every spelling). */
  rules(): Array<{ name: string; value: string }> {
    return this.entries.map((e) => ({ name: e.name, value: e.value }));
  }

  /** Names of the secrets whose real value occurs in `text` (latin1), raw or in any decoded reading. */
  find(text: string): string[] {
    if (this.entries.length === 0 || text.length < MIN_DETECTABLE_LENGTH) return [];
    const views = readings(text, this.spaces);
    return this.entries.filter((e) => views.some((v) => e.forms.some((f) => v.includes(f)))).map((e) => e.name);
  }

  /**
   * Replaces every spelling of every value in `text` (any JS text) by `[secret:NAME]`. The full
   * matcher decides alone (no `find` first): it knows spellings `find`'s readings do not (hex split
   * by blanks or line breaks), and it is the cheaper of the two on text without a value.
   */
  redact(text: string): string {
    if (this.entries.length === 0) return text;
    const latin1 = asLatin1(text);
    this.redactor ??= new Scrubber([], this.entries.map((e): MatchRule => ({ value: e.value, replace: `[secret:${e.name}]` })));
    const scrubbed = this.redactor.scrubString(latin1);
    return scrubbed === latin1 ? text : Buffer.from(scrubbed, 'latin1').toString('utf8');
  }
}
