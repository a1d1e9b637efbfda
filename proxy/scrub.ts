// Response scrubbing: every secret injected at a host is searched for in what comes back from it
// — headers and body, in every spelling of proxy/spellings.ts — and replaced by its placeholder,
// so an upstream that echoes a credential (an error page, a debug endpoint, a log of request
// headers) never hands the real value to the agent. The matching itself is proxy/scrubber.ts;
// what cannot be scrubbed (ranges, unreadable charsets) is refused by proxy/scrubbable.ts.
//
// The body is scrubbed as a stream. A secret split across chunks is still caught: the scrubber
// holds back only the shortest tail that could still be the start of a spelling, so ordinary
// streaming (SSE, long polls) is not delayed beyond that. Compressed bodies are decompressed,
// scrubbed and passed on uncompressed (Content-Encoding and Content-Length removed).
//
// The secrets to look for may grow while a body streams (a long poll, server-sent events, a
// download): a credential injected into the same host meanwhile is looked for from the next chunk
// on, since the service may record it and push it down this very stream.
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { encodedWordRuns } from './encoded-words.ts';
import { ForbiddenContentError, Scrubber } from './scrubber.ts';
import { BodySniffer, UnscrubbableEncodingError, checkHeaderCharsets, checkScrubbable } from './scrubbable.ts';
import { JsonPieces, numberAt } from './json-pieces.ts';
import { LabelledPieces } from './labelled-pieces.ts';
import { DecodedReading, undeclaredLegacy } from './decoded-reading.ts';
import { messageBudget, packedTexts } from './packed-scan.ts';
import { PROBE_START, type HoldProbe } from './secret-probe.ts';

export type { HoldProbe };
import { appendAll } from '../lib/arrays.ts';
import { inTurn } from './scrub-turns.ts';
import { sealTags } from './entity-tags.ts';

export { ForbiddenContentError, Scrubber, scrubForms, type MatchRule, type ScrubSecret } from './scrubber.ts';
export { UnscrubbableEncodingError } from './scrubbable.ts';


/** A scrubber, or where to ask for the current one (its secrets may grow while a body streams). */
export type ScrubberSource = Scrubber | (() => Scrubber);

/**
 * The tripwire on what a stream holds back (proxy/secret-probe.ts): told the rules of which the
 * held text ends with PROBE_START or more characters of a start; the error it returns ends the stream.
 */
/** How long a long start may stay held in an answer or an upload before it counts as dropped. */
const PROBE_HOLD_MS = 10_000;
/** A held tail this long is read again only once it grew by half (ChunkScrubber.feed). */
const DEFER_HELD = 4 * 1024;
/** A long start of a key (the probe's) with this much held after it unresolved trips the probe at once (ChunkScrubber.feed). */
const PROBE_HELD = 8 * 1024;

/**
 * Scrubs a body chunk by chunk: each chunk's safe part comes out at once, the tail that could be
 * the start of a secret is held back for the next chunk. Shared by both scrubbing streams.
 */
export class ChunkScrubber {
  private rest = '';
  /** How long the held tail was when last read (feed: DEFER_HELD). */
  private scanned = 0;
  /** Whether every secret was ASCII when the head was checked (a charset was accepted on that ground). */
  private readonly asciiAtHead: boolean;
  /** An event stream: whether what comes next starts a line (nothing or a line end let out before it). */
  private lineStart = true;
  /** An event stream: the possible start of a secret let out at the end of the last event (SHORT_HOLD). */
  private behind = '';
  /** With a probe: the rules of which what is held now is a start PROBE_START or more long. */
  private probing: Array<{ label?: string; replace: string }> | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  /** Told the tripwire's error when a long start stayed held past PROBE_HOLD_MS (the owning stream ends). */
  expired?: (err: Error) => void;

  /** Readings of the text in its declared legacy charsets, and the scrubbed text waiting on them. */
  private readonly readings = new Map<string, DecodedReading>();
  private waiting = '';
  /** Charsets guessed for text no label declares (undeclaredLegacy), once it showed it is no UTF-8. */
  private guessed: Set<string> | undefined;
  /** The last bytes let out while no charset was guessed yet. */
  private lastOut = '';
  /** The text showed UTF-8 past ASCII: no charset is guessed for it. */
  private utf8Shown = false;
  /** Whether the body is an event stream (undefined: not known until its first bytes). */
  private events: boolean | undefined;
  /** An event stream's or NDJSON's documents, their fields joined as a reader joins them (proxy/json-pieces.ts). */
  private pieces: JsonPieces | undefined;
  /** An event stream's other fields' values let out so far, by name: what of their join may still begin a secret (fieldJoins). */
  private readonly joined = new Map<string, string>();
  /** The body's short cells read down a column (proxy/labelled-pieces.ts): a key a piece per labelled row. */
  private readonly labelled = new LabelledPieces();
  /** The scrubber the last chunk was scrubbed with (what the labelled cells are read with). */
  private last: Scrubber | undefined;

  /**
   * `sniff`: looks at the start of the body first and refuses what cannot be scrubbed. `events`:
   * the body is declared an event stream, matched as its reader joins it (eventFraming); if not,
   * one whose first line is an event stream's field is read so too (a client that parses the
   * stream whatever its type: sseclient, a `fetch` reader, an agent's own loop).
   */
  constructor(private readonly source: ScrubberSource, private readonly sniff?: BodySniffer, events = false, lines = false, private readonly probe?: HoldProbe, private readonly reading = true) {
    this.asciiAtHead = this.scrubber.asciiOnly;
    this.events = events || undefined;
    if (lines) this.pieces = new JsonPieces(() => this.scrubber);
  }

  private scrub(text: string, final: boolean): { out: string; rest: string } {
    const scrubber = (this.last = this.scrubber);
    if (this.events === undefined) {
      // Undecided while the body so far may still become a field name (a few bytes at most).
      const bare = text.startsWith(BOM) ? text.slice(BOM.length) : text;
      if (!final && (BOM.startsWith(text) || EVENT_FIELDS.some((f) => f.length > bare.length && f.startsWith(bare)))) return { out: '', rest: text };
      this.events = EVENT_FIELDS.some((f) => bare.startsWith(f));
    }
    if (this.events) this.pieces ??= new JsonPieces(() => this.scrubber);
    // A body typed as binary is read as text too where it looks like text (no control bytes): a
    // record served as `application/octet-stream` is read so; random bytes hold one within a few.
    const reading = this.reading || !CONTROL_BYTES.test(text);
    if (!this.events) return final ? { out: scrubber.scrubString(text, reading), rest: '' } : scrubber.scrubPartial(text, reading);
    const framing = eventFraming(text, this.lineStart, final);
    // Other fields and comments are read apart from the data: a secret in one cannot be replaced
    // without changing what the reader makes of the line, so the stream is refused.
    if (framing.fields && scrubber.find(framing.fields).size) throw new UnscrubbableEncodingError('an event stream carries a secret in a field or comment line');
    const joins = this.fieldJoins(framing.fieldLines, final);
    const r = scrubber.scrubHidden(text, framing.hidden, final, { holdAt: Math.min(framing.holdAt, joins.at), behind: this.behind, boundary: framing.boundary, shortHold: SHORT_HOLD });
    // The field lines let out are part of their joins now; the held ones are read again with the next bytes.
    const cutoff = text.length - r.rest.length;
    for (const f of joins.rests) if (f.at < cutoff) this.joined.set(f.name, f.rest);
    this.behind = r.behind;
    if (r.out) {
      const last = r.out.charCodeAt(r.out.length - 1);
      this.lineStart = last === 0x0a || last === 0x0d;
    }
    return r;
  }

  /**
   * Twenty-third pass: an event stream's other fields joined across its events, by name — each
   * event's `id` (EventSource's `lastEventId`) or `event` type a few characters of a key, which a
   * reader of the ids or types joins. As a stream is read: what a field's values let out so far may
   * still begin (`joined`: the rest a partial scrub holds) and the next value. A join that spells a
   * secret refuses the stream; the first field line whose join ends in SHORT_HOLD or more characters
   * of a secret's start is where the stream is held (`at`), until later lines show it is none or
   * complete it. `rests`: each line's new rest, kept once the line is let out.
   */
  private fieldJoins(lines: EventFraming['fieldLines'], final: boolean): { at: number; rests: Array<{ at: number; name: string; rest: string }> } {
    const rests: Array<{ at: number; name: string; rest: string }> = [];
    if (!lines.length) return { at: Infinity, rests };
    const scrubber = this.scrubber;
    const joins = new Map<string, string>();
    for (const f of lines) {
      const join = (joins.get(f.name) ?? this.joined.get(f.name) ?? '') + f.value;
      const r = scrubber.scrubPartial(join);
      if (r.out.length + r.rest.length !== join.length || !join.startsWith(r.out)) throw new UnscrubbableEncodingError(`an event stream carries a secret in its \`${f.name}\` fields joined across events`);
      const rest = r.rest.length > JOIN_KEPT ? r.rest.slice(-JOIN_KEPT) : r.rest;
      joins.set(f.name, rest);
      rests.push({ at: f.at, name: f.name, rest });
      if (!final && rest.length >= SHORT_HOLD && scrubber.startsAtEnd(rest, SHORT_HOLD).length) return { at: f.at, rests };
    }
    return { at: Infinity, rests };
  }

  /** The scrubber for the next chunk: the current one when the source is live. */
  private get scrubber(): Scrubber {
    if (typeof this.source !== 'function') return this.source;
    const s = this.source();
    // A non-ASCII secret injected meanwhile may be spelled differently in a charset accepted for ASCII ones.
    if (this.asciiAtHead && !s.asciiOnly) throw new UnscrubbableEncodingError('a secret with non-ASCII characters was injected while this response streamed; the rest was withheld');
    return s;
  }

  /**
   * Scrubbed text read again in each legacy charset it is declared in (proxy/decoded-reading.ts):
   * what may go on now, all of it held while a decoded reading ends in what may start a secret.
   */
  private decoded(free: string, final: boolean): string {
    // No charset declared: once the text reads as another charset than UTF-8, in those a reader guesses.
    // The last bytes let out before go first (a character the chunk's edge cut, as it came).
    let read = free;
    // Text that showed itself UTF-8 past ASCII is not looked at again (a body keeps its charset).
    if (!this.guessed && !this.utf8Shown && !this.sniff?.legacy.size) {
      const legacy = undeclaredLegacy(free);
      if (legacy) {
        this.guessed = new Set(legacy);
        read = this.lastOut + free;
      } else {
        this.utf8Shown = legacy === false;
        this.lastOut = free.length >= 8 ? free.slice(-8) : (this.lastOut + free).slice(-8);
      }
    }
    const labels = this.guessed ?? this.sniff?.legacy;
    if (!labels?.size) return free;
    for (const label of labels) if (!this.readings.has(label)) this.readings.set(label, new DecodedReading(label));
    let held = false;
    for (const reading of this.readings.values()) held = reading.read(this.scrubber, read, final) || held;
    this.waiting += free;
    if (held && !final) return '';
    const out = this.waiting;
    this.waiting = '';
    return out;
  }

  /** The scrubbed bytes that can leave now (none when all of the chunk is held back). */
  feed(chunk: Buffer): Buffer | undefined {
    let input: Buffer | undefined = chunk;
    if (this.sniff) input = this.sniff.feed(chunk);
    if (!input) return undefined;
    const before = this.rest;
    const text = before + input.toString('latin1');
    // Twenty-eighth pass: a long held tail is read again only once it grew by half (or at the end):
    // read again with every chunk, a key's first character followed by fillers (`s` and `<b></b>`,
    // `&shy;`, colour sequences) dripped 64 bytes at a time cost the main thread ~20 s for 64 KiB.
    // Holding more than was held is safe (nothing goes out unread); a long start (the probe's) is
    // read as it comes.
    if (this.scanned >= DEFER_HELD && !this.probing && text.length < this.scanned * 1.5) {
      this.rest = text;
      return undefined;
    }
    try {
      // A long start held (PROBE_START or more characters of a key's) while more than PROBE_HELD
      // follows it unresolved is the probe's case, decided now as the timer would decide it.
      if (this.probing && text.length > PROBE_HELD) this.trip(this.probing);
      const { out, rest } = this.scrub(text, false);
      this.rest = rest;
      this.scanned = rest.length;
      // What was held as a long start of a secret went out as it was: the next bytes showed it was none.
      if (this.probing && rest.length < text.length && out.startsWith(before.slice(0, PROBE_START))) this.trip(this.probing);
      const joined = this.pieces && out ? this.pieces.take(out, false) : out;
      const free = this.decoded(joined ? this.labelled.take(joined, false, this.last!) : joined, false);
      const released = this.pieces?.takeReleased();
      if (this.probe) {
        if (released?.length) this.trip(released);
        this.holding(this.heldStarts());
      }
      return free ? Buffer.from(free, 'latin1') : undefined;
    } catch (err) {
      // A secret completed (refused) or another failure: whatever was held is no probe's.
      this.settle();
      throw err;
    }
  }

  /** What is held now: a long start begins (asked of the probe), goes on, or is over (completed). */
  private holding(rules: Array<{ label?: string; replace: string }> | undefined): void {
    if (!rules) return this.settle();
    const first = !this.probing;
    this.probing = rules;
    if (!first) return;
    const err = this.probe!.begin(rules);
    if (err) {
      this.probing = undefined;
      throw err;
    }
    // Decided one turn after the timer: timers run before sockets are read, and after a stall of
    // Airlock's own the piece that completes the start may be there unread (websocket-relay.ts).
    const timer: NodeJS.Timeout = setTimeout(() => setImmediate(() => {
      if (this.probeTimer !== timer) return;
      this.probeTimer = undefined;
      const held = this.probing;
      this.probing = undefined;
      const e = held && this.probe!.trip(held);
      if (e) this.expired?.(e);
    }), PROBE_HOLD_MS);
    this.probeTimer = timer;
    timer.unref();
  }

  /** No long start held any more (completed, or the stream failed): the probe is told, the timer stopped. */
  private settle(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    if (!this.probing) return;
    this.probing = undefined;
    this.probe?.end();
  }

  /** The tripwire's error, thrown (the stream ends, the piece not let out). */
  private trip(rules: Array<{ label?: string; replace: string }>): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    this.probing = undefined;
    const err = this.probe?.trip(rules);
    if (err) throw err;
  }

  /**
   * The stream was destroyed. Without an error (the agent went away rather than wait for the next
   * bytes) while a long start of a secret was held: a probe's guess all the same. With one (the
   * upstream broke, a refusal): no probe.
   */
  abandoned(err: Error | null): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
    const probing = this.probing;
    this.probing = undefined;
    if (!probing) return;
    if (err) this.probe?.end();
    else this.probe?.trip(probing, true);
  }

  /**
   * The rules of which what is held back, as its reader reads it (an event stream's framing taken
   * out), ends with PROBE_START or more characters of a start; undefined when none. Only held text
   * that long is read.
   */
  private heldStarts(): Array<{ label?: string; replace: string }> | undefined {
    let rules: Array<{ label?: string; replace: string }> = [];
    if (this.rest.length >= PROBE_START) {
      let view = this.rest;
      if (this.events) {
        const { hidden } = eventFraming(view, false, false);
        let at = 0;
        view = '';
        for (const [a, b] of hidden) {
          view += this.rest.slice(at, a);
          at = b;
        }
        view += this.rest.slice(at);
      }
      rules = this.scrubber.startsAtEnd(view, PROBE_START);
    }
    if (this.pieces) appendAll(rules, this.pieces.probed(PROBE_START));
    return rules.length ? rules : undefined;
  }

  /** The held-back tail, scrubbed, at the end of the body. */
  end(): Buffer | undefined {
    const sniffed = this.sniff?.end();
    const before = this.rest;
    const tail = this.rest + (sniffed ? sniffed.toString('latin1') : '');
    this.rest = '';
    try {
      let out = tail ? this.scrub(tail, true).out : '';
      // The stream ended on a long start of a secret: let out as it is, it would answer the guess.
      if (this.probing && out.startsWith(before.slice(0, PROBE_START))) this.trip(this.probing);
      if (this.pieces) out = this.pieces.take(out, true);
      out = this.decoded(this.last ? this.labelled.take(out, true, this.last) : out, true);
      const released = this.pieces?.takeReleased();
      if (released?.length && this.probe) this.trip(released);
      this.settle();
      return out ? Buffer.from(out, 'latin1') : undefined;
    } catch (err) {
      this.settle();
      throw err;
    }
  }
}

/** Bytes no text holds (C0 controls but tab, line ends, form feed and escape). */
const CONTROL_BYTES = /[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]/;

const DATA_FIELD = 'data:';
/** How an event stream's first line begins (after a byte order mark): a field or a comment. */
const EVENT_FIELDS = ['data:', 'event:', 'id:', 'retry:', ':'];
/** A UTF-8 byte order mark, as latin1. */
const BOM = '\xef\xbb\xbf';
/**
 * A possible start of a secret at the end of an event shorter than this goes out with it (most
 * events end with some character a spelling may start with: holding each a whole event would
 * delay every live stream); a longer one waits for the next event. A start that goes out and is
 * then completed cuts the stream: at most 7 characters of a spelling reach the reader (as over a
 * WebSocket, proxy/credentials.ts).
 */
const SHORT_HOLD = 8;
/** A line of an event stream longer than this is read as it comes, not held back until it ends. */
const MAX_HELD_LINE = 1024;

/** What a reader of an event stream drops from its text (eventFraming). */
export interface EventFraming {
  /** Everything but the data, in order: field names, line ends, blank lines, other fields and comments. */
  hidden: Array<[number, number]>;
  /** The text of the lines that are other fields or comments (`id:`, `event:`, `retry:`, `: ping`), whole: read on its own. */
  fields: string;
  /** Held back from here at the latest: a last line not yet whole that is no data line (yet). */
  holdAt: number;
  /** The whole lines of other fields, each at its offset: its name (`''`: a comment) and value as a reader takes them. */
  fieldLines: Array<{ at: number; name: string; value: string }>;
  /** The text ends in framing after data (an event's end, a comment): the next data may continue it. */
  boundary: boolean;
}

/**
 * The framing of an event stream. A reader (EventSource, sseclient, the OpenAI and Anthropic
 * SDKs) drops the field names and joins an event's `data:` lines with a line break; an agent
 * joins the events. So a service that shows a record over server-sent events — wrapped or encoded
 * over lines, or a few characters an event as a terminal or a build log streams — cuts a secret
 * with that framing, even inside an escape or a hex byte. Read as the data alone, joined, it is
 * whole again. (A data line ending in `=` keeps its line end: a quoted-printable soft break.)
 * Other fields and comments are read on their own. `lineStart`: the text starts a line; if not,
 * it continues a data line (what is held back starts in data). While the stream goes on, what
 * follows the last data is framing too (`boundary`): the next event may continue it (SHORT_HOLD).
 */
export function eventFraming(text: string, lineStart: boolean, final: boolean): EventFraming {
  const hidden: Array<[number, number]> = [];
  let fields = '';
  const fieldLines: EventFraming['fieldLines'] = [];
  /** Where the hidden stretch since the last data began (-1: none open). */
  let from = lineStart ? 0 : -1;
  const cr = text.indexOf('\r') >= 0;
  /** The line from `i` (a line start; -1: the text begins inside a data line) to its line end at `end` (-1: not yet). */
  const line = (i: number, end: number): void => {
    const stop = end < 0 ? text.length : end;
    const eol = end < 0 ? stop : text.charCodeAt(end) === 0x0d && text.charCodeAt(end + 1) === 0x0a ? end + 2 : end + 1;
    let value = -1;
    // A byte order mark before the first field (a reader skips it).
    const name = i >= 0 && text.startsWith(BOM, i) ? i + BOM.length : i;
    if (i < 0) value = 0;
    else if (text.startsWith(DATA_FIELD, name)) value = name + DATA_FIELD.length + (text.charCodeAt(name + DATA_FIELD.length) === 0x20 ? 1 : 0);
    else if (i < stop) {
      fields += text.slice(i, eol);
      if (end >= 0) {
        const colon = text.indexOf(':', name);
        const named = colon >= 0 && colon < stop ? colon : stop;
        const v = named < stop ? named + 1 + (text.charCodeAt(named + 1) === 0x20 ? 1 : 0) : stop;
        fieldLines.push({ at: i, name: text.slice(name, named), value: text.slice(v, stop) });
      }
    }
    if (value < 0) return; // a blank line or another field: part of the hidden stretch
    if (from >= 0 && from < value) hidden.push([from, value]);
    // A quoted-printable soft break at the end of a data line stays (the value needs it).
    from = end >= 0 && stop > value && text.charCodeAt(stop - 1) === 0x3d ? eol : stop;
  };
  let start = lineStart ? 0 : -1;
  let i = cr ? (LINE_END.lastIndex = 0, LINE_END.exec(text)?.index ?? -1) : text.indexOf('\n');
  while (i >= 0) {
    line(start, i);
    // \r\n ends one line.
    start = text.charCodeAt(i) === 0x0d && text.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1;
    if (cr) {
      LINE_END.lastIndex = start;
      i = LINE_END.exec(text)?.index ?? -1;
    } else {
      i = text.indexOf('\n', start);
    }
  }
  let holdAt = text.length;
  if (start < text.length) {
    if (final || start < 0 || text.startsWith(DATA_FIELD, start) || text.length - start > MAX_HELD_LINE) {
      line(start, -1);
    } else {
      // A last line not yet whole and no data line (yet): a field name under way, a comment or
      // another field. Held back until it is whole, and read past meanwhile (a piece of a secret
      // before it is held too: what follows the line may continue it).
      holdAt = start;
    }
  }
  // What follows the last data is framing too while the stream goes on: the next data continues it.
  const boundary = !final && from >= 0 && from < text.length;
  if (boundary) hidden.push([from, text.length]);
  return { hidden, fields, holdAt, boundary, fieldLines };
}

const LINE_END = /[\r\n]/g;

/** What a field's join keeps at most of what may still begin a secret (a value of a few KiB: a long token's spelling). */
const JOIN_KEPT = 4096;

/** What the scrubber refuses (an overlong escape) is content it cannot scrub. */
function unscrubbable(err: unknown): unknown {
  return err instanceof ForbiddenContentError ? new UnscrubbableEncodingError(err.message) : err;
}

/** Pushes what a scrubbing step lets out; returns the step's error instead of throwing it. */
function pushScrubbed(stream: Transform, step: () => Buffer | undefined): Error | undefined {
  try {
    const out = step();
    if (out) stream.push(out);
    return undefined;
  } catch (err) {
    // A forbidden find stays a ForbiddenContentError: the request guard makes it a refusal; in a
    // response body it is withheld like any stage's error (proxy/upstream.ts).
    return err as Error;
  }
}

/** A whole text (a header value, a WebSocket message) scrubbed; what cannot be is an UnscrubbableEncodingError. */
export function scrubText(scrubber: Scrubber, text: string): string {
  try {
    return scrubber.scrubString(text);
  } catch (err) {
    throw unscrubbable(err);
  }
}

/** A streaming body scrubber: bytes in, bytes out, secrets replaced even across chunk boundaries. */
export class ScrubStream extends Transform {
  private readonly chunks: ChunkScrubber;
  /**
   * The chunks of one burst, scrubbed together in the agent's next turn (proxy/scrub-turns.ts): Node's HTTP
   * parser hands over every chunk of a socket read at once, and an upstream answering in 1-byte
   * chunks made each byte a scrub of its own (~5 µs a byte: 300 KB held the event loop 100 ms a
   * read and cost 1.5 s of CPU). At most one read's worth waits.
   */
  private burst: Buffer[] | undefined;
  /**
   * The write waiting for the reader (fourteenth pass). A burst is pushed a microtask after its
   * chunks were taken, so Transform's own check (its readable buffer grew during the transform)
   * never saw it and took every write at once: an agent (or upstream) that stopped reading had the
   * whole answer (upload) read into this buffer at network speed, GiBs of heap and seconds of
   * scrubbing on the main thread. A chunk is now taken only while the burst and the scrubbed output
   * waiting for the reader are under the high-water mark; past it the write waits for the burst to
   * be scrubbed or for `_read`.
   */
  private waiting: TransformCallback | undefined;

  constructor(scrubber: ScrubberSource, sniff?: BodySniffer, events = false, lines = false, probe?: HoldProbe, reading = true) {
    super();
    this.chunks = new ChunkScrubber(scrubber, sniff, events, lines, probe, reading);
    this.chunks.expired = (err) => this.destroy(this.streamError(err));
  }

  /** Whose turn this stream's bursts are scrubbed in (proxy/scrub-turns.ts): its agent. */
  owner = '';

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.burst) {
      this.burst = [];
      inTurn(this.owner, () => {
        const err = this.scrubBurst();
        if (err) this.destroy(this.streamError(err));
      });
    }
    this.burst.push(chunk);
    this.burstBytes += chunk.length;
    if (this.readableLength + this.burstBytes < this.readableHighWaterMark) cb();
    else this.waiting = cb;
  }

  private burstBytes = 0;

  /** The waiting write goes on once the reader has room (or asks: `_read`). */
  private admit(): void {
    const cb = this.waiting;
    if (!cb || this.readableLength + this.burstBytes >= this.readableHighWaterMark) return;
    this.waiting = undefined;
    cb();
  }

  override _read(size: number): void {
    const cb = this.waiting;
    this.waiting = undefined;
    cb?.();
    super._read(size);
  }

  /** What a scrubbing error is to this stream's reader (a subclass may make it a refusal). */
  protected streamError(err: Error): Error {
    return err;
  }

  private scrubBurst(): Error | undefined {
    const burst = this.burst;
    this.burst = undefined;
    this.burstBytes = 0;
    if (!burst || this.destroyed) return undefined;
    const err = pushScrubbed(this, () => this.chunks.feed(burst.length === 1 ? burst[0]! : Buffer.concat(burst)));
    if (!err) this.admit();
    return err;
  }

  override _flush(cb: TransformCallback): void {
    const err = this.scrubBurst();
    cb(err ?? pushScrubbed(this, () => this.chunks.end()));
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.chunks.abandoned(err);
    cb(err);
  }
}

/** Raw or zlib-wrapped deflate, decided on the first byte (servers send both as "deflate"). */
/**
 * Runs `then` once `stream` has ended, also when it ended already: a decoder ends at the end of its
 * compressed stream, which may come before its input does (bytes after a deflate or brotli stream
 * are dropped), and a listener added after 'end' would wait forever (the answer hung, unaudited).
 */
function whenEnded(stream: Transform, then: () => void): void {
  if (stream.readableEnded) then();
  else stream.once('end', then);
}

class AnyInflate extends Transform {
  private inner: zlib.Inflate | zlib.InflateRaw | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.inner) {
      // zlib header: CM=8 in the low nibble and a header checksum divisible by 31.
      const zlibWrapped = chunk.length >= 2 && (chunk[0]! & 0x0f) === 8 && ((chunk[0]! << 8) | chunk[1]!) % 31 === 0;
      const inner = zlibWrapped ? zlib.createInflate() : zlib.createInflateRaw();
      this.inner = inner;
      // The reader's pace reaches zlib (fourteenth pass): pushing regardless inflated each chunk
      // whole into this buffer while the agent read nothing, 64 MiB of a `deflate` bomb per 64 KiB
      // read, before the ratio cap (counted as the agent reads) could see it.
      inner.on('data', (d: Buffer) => {
        if (!this.push(d)) inner.pause();
      });
      inner.on('error', (err) => this.destroy(err));
    }
    this.inner.write(chunk, cb);
  }

  override _read(size: number): void {
    this.inner?.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.inner?.destroy();
    cb(err);
  }

  override _flush(cb: TransformCallback): void {
    if (!this.inner) return cb();
    whenEnded(this.inner, () => cb());
    this.inner.end();
  }
}

/** Thrown into the response stream when a decoded body passes the inflate limits: the rest is withheld. */
export class DecompressionLimitError extends Error {}

/**
 * Caps on decoding a compressed response Airlock must scrub. A compressed body can expand ~1000×
 * per gzip layer (a million-fold with `gzip, gzip`), so the decoded size and the expansion ratio
 * are capped; past either the stream is cut and the reason audited (the head is already sent).
 */
export interface InflateLimits {
  /** Decoded bytes of one response body. */
  maxBytes: number;
  /** Decoded bytes per compressed byte, checked once `ratioAfterBytes` have been decoded. */
  maxRatio: number;
  ratioAfterBytes: number;
  /** Stacked content codings (`gzip, gzip` is two); more is refused as unscrubbable. */
  maxCodings: number;
}

export const defaultInflateLimits: InflateLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxRatio: 200,
  ratioAfterBytes: 1024 * 1024,
  maxCodings: 3,
};

type ZstdFactory = () => Transform;
/** zstd decoding exists from Node 22.15/23.8; on older Node a zstd body is unscrubbable (502). */
const createZstd = (zlib as unknown as { createZstdDecompress?: ZstdFactory }).createZstdDecompress;

function decoderFor(coding: string): Transform | undefined {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return new AnyInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      if (createZstd) return createZstd();
      throw new UnscrubbableEncodingError('cannot scrub a response with content-encoding "zstd" (this Node.js has no zstd decoder)');
    case 'identity':
      return undefined;
    default:
      throw new UnscrubbableEncodingError(`cannot scrub a response with content-encoding "${coding}"`);
  }
}

const MiB = 1024 * 1024;

/**
 * Decoders (in order) feeding a scrubber; one Transform so the proxy pipes a single stage.
 * Backpressure runs end to end: when the agent reads slowly this stream's buffer fills, the last
 * decoder is paused, zlib stops inflating mid-chunk, and the compressed input stops being
 * accepted, so a body is never inflated faster than the agent takes it.
 */
class DecodeScrubStream extends Transform {
  private readonly chunks: ChunkScrubber;
  private readonly first: Transform;
  private readonly last: Transform;
  private compressed = 0;
  private decoded = 0;

  constructor(scrubber: ScrubberSource, decoders: Transform[], private readonly limits: InflateLimits, sniff?: BodySniffer, onLimit?: (why: string) => void, events = false, lines = false, probe?: HoldProbe, reading = true) {
    super();
    this.chunks = new ChunkScrubber(scrubber, sniff, events, lines, probe, reading);
    this.chunks.expired = (err) => this.destroy(err);
    this.first = decoders[0]!;
    this.last = decoders[decoders.length - 1]!;
    for (let i = 0; i < decoders.length - 1; i++) decoders[i]!.pipe(decoders[i + 1]!);
    for (const d of decoders) d.on('error', (err) => this.destroy(err));
    this.last.on('data', (d: Buffer) => {
      this.decoded += d.length;
      const over = this.overLimit();
      if (over) {
        onLimit?.(over);
        this.destroy(new DecompressionLimitError(over));
        return;
      }
      // Scrubbed in the agent's turn (proxy/scrub-turns.ts); the decoder waits meanwhile.
      this.last.pause();
      inTurn(this.owner, () => {
        if (this.destroyed) return;
        const err = pushScrubbed(this, () => this.chunks.feed(d));
        if (err) this.destroy(err);
        else if (this.readableLength < this.readableHighWaterMark) this.last.resume();
      });
    });
  }

  /** Whose turn this stream's chunks are scrubbed in: its agent. */
  owner = '';

  private overLimit(): string | undefined {
    const l = this.limits;
    if (this.decoded > l.maxBytes) return `the decoded response passed ${Math.round(l.maxBytes / MiB)} MiB (decompression limit); the rest was withheld`;
    if (this.decoded > l.ratioAfterBytes && this.decoded > l.maxRatio * this.compressed) {
      return `the response expands more than ${l.maxRatio}x when decoded (${this.compressed} bytes became over ${this.decoded}: a decompression bomb); the rest was withheld`;
    }
    return undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.compressed += chunk.length;
    this.first.write(chunk, (err) => cb(err ?? undefined));
  }

  override _read(size: number): void {
    this.last.resume();
    super._read(size);
  }

  override _flush(cb: TransformCallback): void {
    // After the chunks still waiting for their turn (one queue per agent, in order).
    whenEnded(this.last, () => inTurn(this.owner, () => cb(pushScrubbed(this, () => this.chunks.end()))));
    this.first.end();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.first.destroy();
    this.last.destroy();
    this.chunks.abandoned(err);
    cb(err);
  }
}

export interface ScrubbedResponse {
  /** The transform for the response body, or undefined when the response has no body to scrub. */
  transform: Transform | undefined;
}

function headerValues(headers: Array<[string, string]>, name: string): string[] {
  return headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/**
 * What a client can join from pieces of a head: the header values in order and in the order of
 * their names (`X-Token-1`, `X-Token-2`), and the cookie values in order and in the order of the
 * cookies' names (chunked cookies, `t.0=…`, `t.1=…`, are read by name: another cookie may be set
 * between them, and a server setting them from a map sends them in any order).
 */
function reassembled(headers: Array<[string, string]>): string[] {
  if (headers.length < 2) return [];
  const cookies = headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]): [string, string] => {
    const pair = v.split(';', 1)[0]!;
    const eq = pair.indexOf('=');
    return [pair.slice(0, Math.max(0, eq)).trim(), pair.slice(eq + 1)];
  });
  const byName = [...headers].sort((a, b) => (a[0].toLowerCase() < b[0].toLowerCase() ? -1 : a[0].toLowerCase() > b[0].toLowerCase() ? 1 : 0));
  const cookiesByName = [...cookies].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return [
    headers.map(([, v]) => v).join(''), byName.map(([, v]) => v).join(''),
    ...(cookies.length > 1 ? [cookies.map(([, v]) => v).join(''), cookiesByName.map(([, v]) => v).join('')] : []),
  ];
}

/**
 * A header parameter or list item: its name (or none: a quoted string, a `<…>` reference) and value;
 * anything else one character at a time (no group set). Every start consumes what it read (a
 * token run whole, an unclosed quote or `<` to where it stops), so the scan is linear: a pattern
 * that could fail after reading on (`name` with no `=`, an unclosed quote) tried again from each
 * next character, quadratic on a long run.
 */
const HEADER_PART = /([!#$%&'*+.^_`|~0-9A-Za-z-]+)(?:[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"?|([^;,&"\s]*)))?|"((?:[^"\\]|\\.)*)"?|<([^<>]*)>?|[^]/g;

/**
 * Twenty-third pass: pieces of a key shorter than a run, each a parameter of the same name in one
 * head — a Link's `title="…"` per link, Server-Timing's `desc="…"` per metric, a query's repeated
 * `a=` in a Location, a cookie's attributes, Warning texts, in one header or several — which a
 * client reads by that name and joins. The values of each name in order, the names' joins one
 * line each (a line break no spelling of a piece takes for part of a key).
 */
function parametersJoined(headers: Array<[string, string]>): string {
  const byName = new Map<string, Array<{ part: string; n: number }>>();
  for (const [, value] of headers) {
    for (const m of value.matchAll(HEADER_PART)) {
      if (m[2] === undefined && m[3] === undefined && m[4] === undefined && m[5] === undefined) continue; // a name with no value, or one character
      // Numbered names (`p0=`, `p1=`; `t.1`, `t.2`; `title*1*=`) are one name, joined in their numbers' order too.
      let name = m[1]?.toLowerCase();
      let n = 0;
      if (name !== undefined) {
        const star = name.endsWith('*') ? '*' : '';
        const stem = star ? name.slice(0, -1) : name;
        const at = numberAt(stem);
        if (at >= 0) {
          n = Number(stem.slice('._-'.includes(stem[at]!) ? at + 1 : at));
          name = `${stem.slice(0, at)}#${star}`;
        }
      }
      name ??= m[5] !== undefined ? '<>' : '""';
      let list = byName.get(name);
      if (!list) byName.set(name, (list = []));
      list.push({ part: m[2] ?? m[3] ?? m[4] ?? m[5] ?? '', n });
    }
  }
  const lines: string[] = [];
  // A cookie a piece of a key in its name (`Set-Cookie: sk_live_=0`, `51HxYzAb=1`): a client lists the names.
  const cookieNames = headers.filter(([n]) => n.toLowerCase() === 'set-cookie').map(([, v]) => v.split('=', 1)[0]!.trim());
  if (cookieNames.length > 1) lines.push(cookieNames.join(''));
  // MIME encoded-words side by side are one text to a decoder (RFC 2047 §6.2: the blanks between them are dropped).
  for (const [, value] of headers) if (value.includes('=?')) lines.push(...encodedWordRuns(value).map((r) => r.text));
  for (const list of byName.values()) {
    if (list.length < 2) continue;
    lines.push(list.map((p) => p.part).join(''));
    if (list.some((p) => p.n)) lines.push([...list].sort((a, b) => a.n - b.n).map((p) => p.part).join(''));
  }
  return lines.join('\n');
}

/** Media types a reader takes as text (or a document holding text). */
const READ_AS_TEXT = /^(?:text\/|multipart\/|message\/)|json|xml|javascript|ecmascript|x-www-form-urlencoded|yaml|csv|html|markdown|rtf/;

const JSON_LINES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/json-seq', 'application/stream+json', 'application/x-json-stream']);

/** Headers that describe the exact bytes of the body, which scrubbing may change. */
const bodyDigests = new Set(['content-length', 'content-md5', 'digest', 'content-digest', 'repr-digest']);
/**
 * Headers that are a function of the unscrubbed body: a validator most frameworks derive from it
 * (Express's `W/"<length>-<sha1>"`, Rack::ETag, Django's ConditionalGetMiddleware: a hash of the
 * body) and object checksums (S3, GCS, Azure). With the scrubbed body in hand, the agent puts a
 * guess where the placeholder is and checks it against the hash offline (a password, a short key:
 * a dictionary), and Express's tag carries the body's length (the secret's), as do a stored
 * object's length headers. Dropped from every
 * answer of a host that got a secret, a HEAD's and a 304's too, with the length they declare;
 * the ETag is sealed instead (proxy/entity-tags.ts: revalidation and conditional writes still work).
 */
const derivedFromBody = /^(?:content-md5|digest|content-digest|repr-digest|x-amz-checksum-[a-z0-9]+|x-goog-hash|x-ms-content-(?:crc64|md5)|x-ms-blob-content-md5|x-goog-stored-content-length|x-amz-decoded-content-length|x-(?:original|uncompressed|decompressed)-content-length)$/;
/**
 * Eighteenth pass: the same by a word of the name, for the stores nobody listed — Artifactory's
 * `X-Checksum-Sha256`, Backblaze's `X-Bz-Content-Sha1`, Alibaba's and Tencent's
 * `x-oss-hash-crc64ecma`/`x-cos-hash-crc64ecma`, a registry's `Docker-Content-Digest`.
 */
const digestWord = /(?:^|-)(?:md5|sha(?:1|224|256|384|512)?|crc(?:32c?|64(?:ecma)?)?|checksum|hash|digest)(?:-|$)/;
/**
 * A Content-Security-Policy's hash sources (`'sha256-…'`) are hashes of inline scripts and styles
 * of the unscrubbed body: dropped (the inline code they allowed is blocked, never more allowed).
 */
const cspHashSource = /'sha(?:256|384|512)-[A-Za-z0-9+/_=-]*'/gi;

/**
 * Scrubs a response head in place (header names and values) and returns the body transform; a
 * live `source` is asked again for each chunk of the body.
 * Compressed bodies are decoded and passed on uncompressed; length and digest headers are dropped
 * (the body may change). Throws UnscrubbableEncodingError for a response the scrubber cannot read
 * — an encoding it cannot decode, partial content, a charset it does not match — so the caller
 * never passes that body through unscrubbed. The body transform refuses (errors) a body whose
 * first bytes show such an encoding.
 */
export function scrubResponse(
  source: ScrubberSource, head: { statusCode: number; statusMessage?: string; headers: Array<[string, string]> },
  opts: { method?: string; limits?: InflateLimits; onLimit?: (why: string) => void; probe?: HoldProbe; owner?: string } = {},
): ScrubbedResponse {
  const scrubber = typeof source === 'function' ? source() : source;
  if (scrubber.empty && typeof source !== 'function') return { transform: undefined };
  // What a client joins, as sent: a piece may be scrubbed on its own (half a key or more is: the
  // value cut short or a run of it), which would hide that the pieces joined make the whole key.
  const sent = reassembled(head.headers);
  for (const h of head.headers) {
    h[0] = scrubText(scrubber, h[0]);
    h[1] = scrubText(scrubber, h[1]);
  }
  if (head.statusMessage) head.statusMessage = scrubText(scrubber, head.statusMessage);
  checkHeaderCharsets(head.statusMessage ? [...head.headers, ['', head.statusMessage]] : head.headers, scrubber.asciiOnly);
  const joins = reassembled(head.headers);
  for (const [i, text] of joins.entries()) {
    // Each header is scrubbed already: a match here spans two of them; so does one that scrubbing
    // the pieces joined finds otherwise than scrubbing each (the same order of the same headers).
    if (scrubText(scrubber, text) !== text || (sent.length === joins.length && scrubText(scrubber, sent[i]!) !== text)) {
      throw new UnscrubbableEncodingError('a secret is split across headers of this response (a client that joins them reads it)');
    }
  }
  // Pieces a client joins by their parameters' names (read once the head is scrubbed: a whole key in one is its placeholder by now).
  const parameters = parametersJoined(head.headers);
  if (parameters && scrubText(scrubber, parameters) !== parameters) throw new UnscrubbableEncodingError('a secret is split across parameters of this response\'s headers (a client that joins them reads it)');
  // A compressed stream written as base64 in a header (a Flask or Django session cookie: base64url
  // of zlib), whole or in pieces a client joins: inflated and matched.
  // One budget for them all (twenty-sixth pass: each value, and each join again, had 16 MiB of its own).
  const headerTexts = [...head.headers.map(([, v]) => v), ...joins, head.statusMessage ?? ''];
  const budget = messageBudget(headerTexts.reduce((n, text) => n + text.length, 0));
  for (const text of headerTexts) {
    for (const packed of packedTexts(Buffer.from(text, 'latin1'), true, budget)) {
      if (scrubText(scrubber, packed) !== packed) throw new UnscrubbableEncodingError('a header of this response holds a compressed stream (written as base64) that holds a secret');
    }
  }
  const noBody = opts.method === 'HEAD' || head.statusCode === 204 || head.statusCode === 304 || (head.statusCode >= 100 && head.statusCode < 200);
  for (let i = head.headers.length - 1; i >= 0; i--) {
    const name = head.headers[i]![0].toLowerCase();
    if (derivedFromBody.test(name) || digestWord.test(name) || (noBody && name === 'content-length')) head.headers.splice(i, 1);
    else if (name === 'etag') head.headers[i]![1] = sealTags(head.headers[i]![1]);
    else if (name.startsWith('content-security-policy')) head.headers[i]![1] = head.headers[i]![1].replace(cspHashSource, '');
  }
  if (noBody) return { transform: undefined };
  const sniff = checkScrubbable(head, scrubber.asciiOnly);
  const codings = headerValues(head.headers, 'content-encoding')
    .flatMap((v) => v.split(','))
    .map((c) => c.trim().toLowerCase())
    .filter(Boolean);
  const limits = opts.limits ?? defaultInflateLimits;
  const layers = codings.filter((c) => c !== 'identity');
  if (layers.length > limits.maxCodings) {
    throw new UnscrubbableEncodingError(`cannot scrub a response with ${layers.length} stacked content codings (${layers.join(', ')}); at most ${limits.maxCodings} are decoded`);
  }
  const decoders = codings.reverse().map(decoderFor).filter((d): d is Transform => d !== undefined);
  // In place: the proxy holds this array.
  for (let i = head.headers.length - 1; i >= 0; i--) {
    const name = head.headers[i]![0].toLowerCase();
    if (bodyDigests.has(name) || name === 'content-encoding') head.headers.splice(i, 1);
  }
  const types = headerValues(head.headers, 'content-type').map((v) => v.split(';')[0]!.trim().toLowerCase());
  const events = types.includes('text/event-stream');
  // Documents a line each (NDJSON, JSON Lines, JSON text sequences): their fields are joined as a reader joins them.
  const lines = types.some((t) => JSON_LINES.has(t));
  // A body whose type is no text (an image, an archive, a download) is read as a person reads text
  // (proxy/reading-view.ts) only where it looks like text: in random bytes that pass costs a quarter of the scrub.
  const reading = types.length === 0 || types.some((t) => READ_AS_TEXT.test(t));
  const transform = decoders.length ? new DecodeScrubStream(source, decoders, limits, sniff, opts.onLimit, events, lines, opts.probe, reading) : new ScrubStream(source, sniff, events, lines, opts.probe, reading);
  if (opts.owner !== undefined) transform.owner = opts.owner;
  return { transform };
}
