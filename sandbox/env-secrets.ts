// Real secret values in the environment `airlock run` hands an agent, in any spelling: a token
// left in your shell (GH_PAT=ghp_…), a Basic pair (base64 of user:secret), hex, percent-encoded,
// inside a URL (https://user:secret@host). Each becomes the secret's placeholder — inside base64
// and hex blobs by decoding the blob, replacing, and encoding it again the same way, so a Basic
// pair or a DSN still works through the proxy with the placeholder in it. Blobs are taken apart two
// deep, and every spelling is looked for at each depth: a Kubernetes .dockerconfigjson is the
// base64 of JSON whose "auth" is the base64 of user:token, and a base64 config file may hold the
// value percent- or JSON-escaped. A variable that still holds a spelling afterwards (one we could
// not take apart) is dropped, never passed on.
import { Scrubber } from '../proxy/scrubber.ts';
import { SecretValueIndex } from '../proxy/secret-values.ts';

export interface RealValue {
  secret: string;
  value: string;
  placeholder: string;
}

/** Values shorter than this would match by accident: left alone (the store refuses nothing, so guard here). */
export const MIN_ENV_VALUE_LENGTH = 6;

/** A base64 run, possibly wrapped over lines (PEM, MIME). */
const BASE64_RUN = /[A-Za-z0-9+/_-]+(?:\r?\n[A-Za-z0-9+/_-]+)*={0,2}/g;
const HEX_RUN = /[0-9A-Fa-f]{12,}/g;

/** Replaces raw values inside decoded bytes (latin1); the names of the secrets replaced. */
function replaceRaw(bytes: string, values: RealValue[], replaced: Set<string>): string {
  let out = bytes;
  for (const v of values) {
    const raw = Buffer.from(v.value, 'utf8').toString('latin1');
    if (!out.includes(raw)) continue;
    out = out.split(raw).join(Buffer.from(v.placeholder, 'utf8').toString('latin1'));
    replaced.add(v.secret);
  }
  return out;
}

/** The text without its trailing '=' padding (a loop: /=+$/ backtracks quadratically on '=' runs). */
function trimPadding(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  return text.slice(0, end);
}

/** The text cut into lines of `width` characters joined by `eol`, the way the blob came wrapped. */
function wrapLines(text: string, width: number, eol: string): string {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines.join(eol);
}

/** Base64 blobs whose decoded bytes hold a value: decoded, replaced (recursively), encoded again alike. */
function replaceInBase64(text: string, values: RealValue[], replaced: Set<string>, spell: Speller, depth: number): string {
  return text.replace(BASE64_RUN, (run) => {
    if (run.length < 8) return run;
    const padded = run.endsWith('=');
    const lines = trimPadding(run).split(/\r?\n/);
    const eol = run.includes('\r\n') ? '\r\n' : '\n';
    const width = lines.length > 1 ? lines[0]!.length : 0;
    const body = lines.join('');
    const alphabets: BufferEncoding[] = /[-_]/.test(body) ? ['base64url'] : /[+/]/.test(body) ? ['base64'] : ['base64', 'base64url'];
    for (const enc of alphabets) {
      for (let s = 0; s < Math.min(4, body.length - 7); s++) {
        const blob = body.slice(s);
        const decoded = Buffer.from(blob, enc).toString('latin1');
        const next = replaceSecrets(decoded, values, replaced, spell, depth + 1);
        if (next === decoded) continue;
        // Encoded again the way it came: same alphabet, padded only if it was.
        const bare = trimPadding(Buffer.from(next, 'latin1').toString(enc));
        const whole = body.slice(0, s) + (padded ? bare + '='.repeat((4 - (bare.length % 4)) % 4) : bare);
        return width ? wrapLines(whole, width, eol) : whole;
      }
    }
    return run;
  });
}

/** Hex blobs whose decoded bytes hold a value, the same way (case kept). */
function replaceInHex(text: string, values: RealValue[], replaced: Set<string>, spell: Speller, depth: number): string {
  return text.replace(HEX_RUN, (run) => {
    for (let s = 0; s < 2; s++) {
      const blob = run.slice(s, s + ((run.length - s) & ~1));
      const decoded = Buffer.from(blob, 'hex').toString('latin1');
      const next = replaceSecrets(decoded, values, replaced, spell, depth + 1);
      if (next === decoded) continue;
      const hex = Buffer.from(next, 'latin1').toString('hex');
      return run.slice(0, s) + (/[A-F]/.test(blob) ? hex.toUpperCase() : hex) + run.slice(s + blob.length);
    }
    return run;
  });
}

/** Replaces every other spelling of the values in a text (latin1), adding the names it found to `replaced`. */
type Speller = (text: string, replaced: Set<string>) => string;

/** Every value in `text` (latin1) replaced by its placeholder: raw, inside base64/hex blobs, then any other spelling. */
function replaceSecrets(text: string, values: RealValue[], replaced: Set<string>, spell: Speller, depth = 0): string {
  let out = replaceRaw(text, values, replaced);
  if (depth < 2) {
    out = replaceInBase64(out, values, replaced, spell, depth);
    out = replaceInHex(out, values, replaced, spell, depth);
  }
  return spell(out, replaced);
}

export interface EnvScan {
  /** The variable's new value, or undefined when it must be dropped. */
  value: string | undefined;
  /** Secrets found in it. */
  secrets: string[];
}

/** Replaces real secret values in environment variables; one compiled matcher for a whole environment. */
export class EnvSecretReplacer {
  private readonly values: RealValue[];
  private readonly spellings: Scrubber | undefined;
  private readonly detector: SecretValueIndex;

  constructor(values: RealValue[]) {
    this.values = values.filter((v) => v.value.length >= MIN_ENV_VALUE_LENGTH);
    this.spellings = this.values.length
      ? new Scrubber([], this.values.map((v) => ({ value: v.value, replace: v.placeholder, label: v.secret })))
      : undefined;
    this.detector = new SecretValueIndex(this.values.map((v) => [v.secret, v.value]));
  }

  /** Whether a variable's name itself holds a value (such a variable is dropped). */
  nameHolds(name: string): string[] {
    if (!this.spellings) return [];
    return [...this.spellings.find(Buffer.from(name, 'utf8').toString('latin1'))];
  }

  /** The secrets a text (read as latin1, as bytes) holds in any spelling the scrubber or detector reads. */
  holds(latin1: string): string[] {
    if (!this.spellings) return [];
    return [...new Set([...this.spellings.find(latin1), ...this.detector.find(latin1)])];
  }

  scan(value: string): EnvScan {
    const spellings = this.spellings;
    if (!spellings) return { value, secrets: [] };
    const latin1 = Buffer.from(value, 'utf8').toString('latin1');
    const replaced = new Set<string>();
    // No shortcut on a first look: a value two encodings deep shows in no one-layer spelling.
    const out = replaceSecrets(latin1, this.values, replaced, (text, names) => {
      const found = spellings.find(text);
      if (!found.size) return text;
      for (const n of found) names.add(n);
      return spellings.scrubString(text);
    });
    if (out === latin1 && replaced.size === 0 && this.detector.find(latin1).length === 0) return { value, secrets: [] };
    const left = [...spellings.find(out), ...this.detector.find(out)];
    for (const n of this.detector.find(latin1)) replaced.add(n);
    return { value: left.length ? undefined : Buffer.from(out, 'latin1').toString('utf8'), secrets: [...replaced].sort() };
  }
}
