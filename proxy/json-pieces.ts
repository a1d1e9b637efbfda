// A secret handed out a piece per document: an event stream or NDJSON whose every event is a JSON
// object carrying a few characters in one field (an OpenAI-style `{"choices":[{"delta":{"content":
// "sk_"}}]}`, Anthropic's `{"delta":{"text":"…"}}`, Ollama's `{"response":"…"}`, a log tail that
// streams a terminal's output). A reader joins that field across the documents; the JSON around
// each piece is other text to the scrubber, so no spelling matches. Here each complete line's JSON
// is read and the string values of each field (named by its key path, array indices left out) are
// joined as their reader joins them, and matched for the secrets. The body itself passes as it
// came, a line at a time: a line is held back while a joined field ends in 8 or more characters of
// a secret's start (fewer go out, as over a WebSocket), and a secret completed across documents
// cuts the stream. Used for event streams and NDJSON from hosts that got a secret (proxy/scrub.ts).
import { UnscrubbableEncodingError } from './scrubbable.ts';
import type { Scrubber } from './scrubber.ts';
import { appendAll } from '../lib/arrays.ts';
import { PROBE_START } from './secret-probe.ts';

/** A possible start of a secret spelling fewer characters than this (Scrubber.spellsAtEnd) at a joined field's end goes out with its line. */
const SHORT_HOLD = 8;
/** A line longer than this is not read as one document: let out as it comes. */
const MAX_LINE = 64 * 1024;
/** Text kept back at most while a joined field may still become a secret. */
const MAX_HELD = 1024 * 1024;
/** String values read per line at most (a line is one small document in the streams this is for). */
const MAX_VALUES = 256;
/**
 * Values of any kind visited per line at most. A short array is walked twice (as a list and as a
 * tuple), so arrays nested in arrays doubled the walk at each level: `[[[…0…]]]` 30 deep (65 bytes,
 * a WebSocket message an echo service returns, an NDJSON line) was billions of steps, the event
 * loop held for minutes for every agent.
 */
const MAX_VISITS = 16 * MAX_VALUES;

interface Field {
  /** What the joined field ends with that may still become a secret (latin1, UTF-8 bytes). */
  rest: string;
}

export class JsonPieces {
  /** Text not let out yet (latin1). */
  private held = '';
  /** The line under way (not ended yet), as far as it came: part of it may be out already. */
  private current = '';
  private readonly fields = new Map<string, Field>();
  /** The rules of which a joined field kept PROBE_START or more characters back that then proved none (takeReleased). */
  private released: Array<{ label?: string; replace: string }> = [];

  constructor(private readonly scrubber: () => Scrubber) {}

  /** Takes scrubbed text (latin1); returns what may go out now. Throws when a secret was joined. */
  take(text: string, final: boolean): string {
    this.held += text;
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      this.line(this.current + text.slice(from, nl));
      this.current = '';
      from = nl + 1;
    }
    this.current += text.slice(from);
    if (final) {
      if (this.current) this.line(this.current);
      for (const f of this.fields.values()) this.check(f, '', true);
      const out = this.held;
      this.held = this.current = '';
      return out;
    }
    // A line that will not end is no document: it is no longer read.
    if (this.current.length > MAX_LINE) this.current = '';
    for (const f of this.fields.values()) {
      if (!this.scrubber().spellsAtEnd(f.rest, SHORT_HOLD)) continue;
      // Kept back while the next piece may complete it; bounded (a stream that never says).
      if (this.held.length > MAX_HELD) throw new UnscrubbableEncodingError('a stream kept more than 1 MiB back while a field joined across its documents ended in what may start a secret');
      return '';
    }
    // The line under way waits from where a document may begin (its field name goes out).
    const keep = Math.min(this.held.length, documentPart(this.current));
    const out = this.held.slice(0, this.held.length - keep);
    this.held = this.held.slice(this.held.length - keep);
    return out;
  }

  /**
   * One whole document (a WebSocket message): read, its fields joined to the ones before. Returns
   * whether a joined field now ends in 8 or more characters of a secret's start (the message must
   * wait for the next); throws when a secret was joined.
   */
  document(text: string): boolean {
    this.line(text.trim());
    for (const f of this.fields.values()) if (this.scrubber().spellsAtEnd(f.rest, SHORT_HOLD)) return true;
    return false;
  }

  /**
   * The rules of which a joined field kept PROBE_START or more characters of a start back and the
   * next piece (or the end) showed it was none: the tripwire (proxy/secret-probe.ts). Emptied.
   */
  takeReleased(): Array<{ label?: string; replace: string }> {
    const out = this.released;
    if (out.length) this.released = [];
    return out;
  }

  /** The rules of which a joined field ends with `min` or more characters of a start (the tripwire: proxy/secret-probe.ts). */
  probed(min: number): Array<{ label?: string; replace: string }> {
    const out: Array<{ label?: string; replace: string }> = [];
    for (const f of this.fields.values()) if (f.rest.length >= min) appendAll(out, this.scrubber().startsAtEnd(f.rest, min));
    return out;
  }

  /** One line: an event stream's `data:` line or an NDJSON line, read as JSON if it is. */
  private line(raw: string): void {
    let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('data:')) line = line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5);
    const first = line.charCodeAt(0);
    // An object, an array or a string: a document that can carry a piece.
    if (first !== 0x7b && first !== 0x5b && first !== 0x22) return;
    let doc: unknown;
    try {
      doc = JSON.parse(/[^\x00-\x7f]/.test(line) ? Buffer.from(line, 'latin1').toString('utf8') : line);
    } catch {
      return;
    }
    let budget = MAX_VALUES;
    let visits = MAX_VISITS;
    // `keyed`: the same field as a reader that reassembles by an `index` reads it (below), if any.
    const walk = (v: unknown, path: string, depth: number, keyed?: string): void => {
      if (budget <= 0 || visits-- <= 0 || depth > 32) return;
      if (typeof v === 'string') {
        budget--;
        this.piece(path, v);
        if (keyed !== undefined) this.piece(keyed, v);
      } else if (Array.isArray(v)) {
        // A short array is a tuple as often as a list (`["stdout","sk_"]`): each place is a field too.
        v.forEach((x, i) => {
          walk(x, path, depth + 1, keyed);
          if (v.length <= 4) walk(x, `${path}.${i}`, depth + 1, keyed === undefined ? undefined : `${keyed}.${i}`);
        });
      } else if (v && typeof v === 'object') {
        // Twenty-seventh pass: an object carrying an integer `index` is one of several streams
        // interleaved in one — OpenAI's choices with `n` > 1 and parallel tool calls, each delta
        // `{index: 1, …}` at the array's first place: its SDK (and any client) joins each index's
        // pieces apart, so they are joined by it too, beside the join in the order they came.
        const index = (v as { index?: unknown }).index;
        const by = Number.isInteger(index) && (index as number) >= 0 && (index as number) < 32 ? `${keyed ?? path}@${index as number}` : keyed;
        // Twenty-third pass: numbered names (`k0`, `k1`; `part_2`; `"3"`) are one field, a piece each.
        for (const [k, x] of Object.entries(v)) {
          const name = numberedField(k);
          walk(x, `${path}.${name}`, depth + 1, by === undefined ? undefined : `${by}.${name}`);
        }
      }
    };
    walk(doc, '', 0);
  }

  private piece(path: string, value: string): void {
    let f = this.fields.get(path);
    if (!f) {
      if (this.fields.size >= 4 * MAX_VALUES) return;
      this.fields.set(path, (f = { rest: '' }));
    }
    // Every value, repeated ones too: a key's doubled letter comes as the same piece twice.
    this.check(f, /[^\x00-\x7f]/.test(value) ? Buffer.from(value, 'utf8').toString('latin1') : value, false);
  }

  private check(f: Field, value: string, final: boolean): void {
    const text = f.rest + value;
    if (!text) return;
    const scrubber = this.scrubber();
    const probing = f.rest.length >= PROBE_START ? scrubber.startsAtEnd(f.rest, PROBE_START) : undefined;
    const r = final ? { out: scrubber.scrubString(text), rest: '' } : scrubber.scrubPartial(text);
    // What is held may already be a whole spelling, kept back only because what follows could still
    // change how it reads (an unfinished `&x…` entity after it: proxy/reading-view.ts): no later
    // document need come, so the held part is read as final too (it is short: a start of a spelling).
    if (r.out !== text.slice(0, text.length - r.rest.length) || (!final && r.rest && scrubber.scrubString(r.rest) !== r.rest)) {
      throw new UnscrubbableEncodingError('a secret was handed out a piece per document (a field joined across the events or lines of this stream)');
    }
    // A long start that the next piece (or the end) showed was none: a probe's guess.
    if (probing?.length && r.rest.length < text.length) appendAll(this.released, probing);
    f.rest = r.rest;
  }
}

/**
 * Where a name's number at its end starts (`k0`, `part_12`, `p-3`, `7`), with one `.`, `_` or `-`
 * before it; -1 when it ends in no digit. The rest of the name, with `#`, names the field. A scan:
 * `/[._-]?\d+$/` tries every start in a run of digits (quadratic on a long one).
 */
export function numberAt(name: string): number {
  let i = name.length;
  while (i > 0 && name.charCodeAt(i - 1) >= 0x30 && name.charCodeAt(i - 1) <= 0x39) i--;
  if (i === name.length) return -1;
  return i > 0 && '._-'.includes(name[i - 1]!) ? i - 1 : i;
}

const numberedField = (name: string): string => {
  const at = numberAt(name);
  return at < 0 ? name : `${name.slice(0, at)}#`;
};

/** How much of the end of a line not yet ended may be a document under way (what must wait). */
function documentPart(line: string): number {
  let payload = line;
  if (line.startsWith('data:')) payload = line.slice(line.charCodeAt(5) === 0x20 ? 6 : 5);
  else if ('data:'.startsWith(line)) return 0;
  const start = payload.trimStart();
  const first = start.charCodeAt(0);
  // Nothing yet (blanks), or the start of an object, an array or a string.
  return !start || first === 0x7b || first === 0x5b || first === 0x22 ? payload.length : 0;
}
