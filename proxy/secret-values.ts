// Finds real secret values (not placeholders) in request text. An agent should never hold a real
// value, but one may learn it elsewhere (an old log, a leaked file, an upstream that echoed it
// before scrubbing existed). Sending it is then exactly the exfiltration Airlock exists to stop,
// so a value is treated like a placeholder: it may only go where the decision binds its secret.
// Also used to redact values from anything Airlock writes down (the audit log).
import { escapeDecodeLenient, percentDecodeLenient } from './placeholders.ts';
import { scrubForms } from './scrub.ts';

/** Values shorter than this are not searched for: they would match innocent text. */
export const MIN_DETECTABLE_LENGTH = 8;

interface Entry {
  name: string;
  /** The value as latin1 text (one char per byte), as requests are read. */
  raw: string;
  /** Raw and encoded spellings (base64/base64url at any alignment, hex, percent, JSON-escaped), longest first. */
  forms: string[];
}

export class SecretValueIndex {
  private readonly entries: Entry[] = [];

  /** `secrets`: name → real value. */
  constructor(secrets: Iterable<[string, string]>) {
    for (const [name, value] of secrets) {
      if (value.length < MIN_DETECTABLE_LENGTH) continue;
      const raw = Buffer.from(value, 'utf8').toString('latin1');
      this.entries.push({ name, raw, forms: scrubForms(value).sort((a, b) => b.length - a.length) });
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** Every form of every value, with its secret's name (for streaming body guards). */
  rules(): Array<{ name: string; forms: string[] }> {
    return this.entries.map((e) => ({ name: e.name, forms: e.forms }));
  }

  /** Names of the secrets whose real value occurs in `text` (latin1 or plain JS text), raw or encoded. */
  find(text: string): string[] {
    if (this.entries.length === 0 || text.length < MIN_DETECTABLE_LENGTH) return [];
    const mayBeEscaped = text.includes('%') || text.includes('\\');
    const decoded = mayBeEscaped ? percentDecodeLenient(escapeDecodeLenient(text)) : '';
    const found: string[] = [];
    for (const e of this.entries) {
      if (e.forms.some((f) => text.includes(f)) || (decoded && decoded.includes(e.raw))) found.push(e.name);
    }
    return found;
  }

  /** Replaces every form of every value in `text` by `[secret:NAME]`. */
  redact(text: string): string {
    let out = text;
    for (const e of this.entries) {
      for (const f of e.forms) if (out.includes(f)) out = out.split(f).join(`[secret:${e.name}]`);
    }
    return out;
  }
}
