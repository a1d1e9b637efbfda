// A form field that makes the server run other requests, watched in the part of a body past the
// capture cap (the description and the second-target readers see only the first MiB): Facebook's
// Graph API runs the calls of a `batch` field wherever it stands in a form, so `pad=<1 MiB>&batch=
// [{"method":"DELETE","relative_url":…}]` ran calls no one decided. The upload is cut where such a
// field starts (StreamStop: a refusal, and the server never gets a whole request to run).
import { Transform, type TransformCallback } from 'node:stream';
import { bomOf, phpName } from '../describe/body.ts';
import { dispositionNames } from '../describe/content-disposition.ts';
import { isFileHead, multipartBoundaries, unfoldHead } from '../describe/multipart.ts';
import { DecodedWatch, readersDecode, requestCodings } from './decoded-watch.ts';
import { StreamStop } from './enforcers.ts';
import { refusals } from './refusals.ts';
import { urlNamed, holdsCallback, isCallbackLeaf, mayBeHttpUrl, namesCallback, namesRouteAction, replyAddressesIn, routeActionStart, xmlCallbackUrls, xmlEntities, xmlTagEnd, type XmlEntities } from './second-targets.ts';
import { serverCharsets } from './charset-readings.ts';
import { lookupTable } from '../lib/records.ts';

/**
 * Field and member names whose value the server runs as requests (proxy/second-targets.ts reads them
 * in the captured part): Facebook's `batch`, JSON:API's `atomic:operations` (eighteenth pass: its
 * reader parses the captured start, which is no whole JSON past the cap, so a list past it, or
 * before a padding `meta` the cap cut, named no operation while the server ran each).
 */
const RUN_FIELDS = new Set(['batch', 'atomic:operations']);

/** The longest part head read (busboy, Node's usual multipart parser, takes up to 80 KiB). */
const MAX_PART_HEAD = 96 * 1024;

/**
 * The watches for a form or JSON body (as proxy/second-targets.ts's graphBatchOf reads one), none for
 * another body or one the readers read whole: a body past the capture cap, or one whose content
 * coding decodes to more than the readers decode (MAX_DECODED_BYTES: they read none of it). A coded
 * or UTF-16/32 body is watched as its server decodes it (proxy/decoded-watch.ts); one labelled in a
 * legacy charset (Shift_JIS, ISO-2022-JP …) also as a server decoding by the label reads it
 * (second-targets.ts serverBodies reads both ways too).
 */
export function formTailWatches(rawHeaders: readonly string[], body: { captured: Buffer; truncated: boolean }): Transform[] {
  const codings = requestCodings(rawHeaders);
  if (!body.truncated && !codings?.length) return [];
  let type: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'content-type') type ??= rawHeaders[i + 1]!;
  const media = type?.trim().toLowerCase() ?? '';
  if (!watchedMedia(media)) return [];
  // (Decoded once more only for a watched type: most coded uploads are not forms or JSON.)
  if (!body.truncated && readersDecode(body.captured, codings!, false) !== 'too large') return [];
  const make = (): Transform | undefined => {
    if (xmlMedia(media)) return new XmlReplyWatch(codings?.length ? 0 : body.captured.length, xmlEntities(body.captured.toString('latin1')));
    if (media.startsWith('application/x-www-form-urlencoded')) return new UrlencodedWatch();
    // (Any multipart: a `multipart/related` upload's JSON metadata part, a `multipart/mixed` one's.)
    if (media.startsWith('multipart/')) {
      const boundaries = multipartBoundaries(type!);
      return boundaries.length ? new MultipartWatch(boundaries) : undefined;
    }
    // JSON, and an untyped body (JSON when it starts like JSON, else read as a form).
    return new JsonMemberWatch(media === '');
  };
  const watch = make();
  if (!watch) return [];
  // (An untyped body may be a SOAP envelope: second-targets.ts reads one so.)
  const replies = media === '' ? [new XmlReplyWatch(codings?.length ? 0 : body.captured.length, xmlEntities(body.captured.toString('latin1')))] : [];
  if (!codings) return [watch, ...replies];
  const multipart = media.startsWith('multipart/');
  const unicode = !multipart && (/;\s*charset\s*=\s*"?(?:utf-?(?:16|32)|ucs-[24]|unicode)/i.test(media) || bomOf(body.captured) !== undefined || body.captured[1] === 0 || body.captured[0] === 0);
  const legacy = multipart ? [] : serverCharsets(type).legacy;
  const decoded = (w: Transform, legacyLabel?: string): Transform => (codings.length || unicode || legacyLabel !== undefined ? new DecodedWatch(codings, type, w, legacyLabel) : w);
  return [decoded(watch), ...replies.map((w) => decoded(w)), ...legacy.map((l) => decoded(make()!, l))];
}

/** The media types watched: forms, JSON, XML (SOAP), and an untyped body. */
function watchedMedia(media: string): boolean {
  return media === '' || media.includes('json') || xmlMedia(media) || media.startsWith('application/x-www-form-urlencoded') || media.startsWith('multipart/');
}

/** XML as second-targets.ts replyAddressesOf reads it (`text/xml`, `application/soap+xml` …). */
function xmlMedia(media: string): boolean {
  return !media.startsWith('multipart/') && /xml|soap/.test(media);
}

/** The longest WS-Addressing ReplyTo/FaultTo or callback element, or tag, read past the capture cap. */
const MAX_REPLY_ELEMENT = 16 * 1024;
/** The end of each element the watch reads (under any namespace prefix). */
const replyClosing = { ReplyTo: /<\/(?:[\w.-]{1,64}:)?ReplyTo\s*>/, FaultTo: /<\/(?:[\w.-]{1,64}:)?FaultTo\s*>/ };
/** A tag's opening: its qualified and local name. */
const tagOpening = /<((?:[\w.-]{1,64}:)?([\w.-]{1,128}))(?=[\s>/])/g;

/**
 * A SOAP message's WS-Addressing `ReplyTo` or `FaultTo` past the capture cap (twentieth pass): the
 * reader (second-targets.ts replyAddressesOf) reads the captured start, so `<wsa:ReplyTo>` after a
 * large header (a padding element, a WS-Security token) had CXF, Axis2 or WCF post the answer to an
 * address nobody decided. Each such element that ends past what the reader read is read whole (held
 * back while open, up to 16 KiB) and one naming anything but the anonymous address stops the upload.
 * So is an element or attribute of a callback name (twenty-second pass: `<notificationUrl>` after a
 * padding element was bound by Jackson's XML module and registered, the reader having read only the
 * start); a tag is held while open, so a tag or such an element longer than 16 KiB past the cap is refused.
 */
class XmlReplyWatch extends Transform {
  readonly preservesLength = true;
  /** Bytes seen before the current text; the text kept from earlier chunks (an opening cut in two, an open element). */
  private seen = 0;
  private kept = '';
  private held: Buffer[] = [];

  /** `decided`: bytes the reader read (an element ending within them was decided there); `entities`: its DTD's (a coded body's start is read undecoded: none found, a reference then stops). */
  constructor(private readonly decided: number, private readonly entities: XmlEntities) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const text = this.kept + chunk.toString('latin1');
    const base = this.seen - this.kept.length;
    this.seen += chunk.length;
    let from = 0;
    const hold = (start: number, what: string): void => {
      if (text.length - start > MAX_REPLY_ELEMENT) return cb(replyStop(`${what} longer than ${MAX_REPLY_ELEMENT} bytes`));
      this.kept = text.slice(start);
      this.held.push(chunk);
      cb();
    };
    for (;;) {
      tagOpening.lastIndex = from;
      const open = tagOpening.exec(text);
      if (!open) {
        // (An opening cut at the chunk's end: its start is kept for the next chunk.)
        this.kept = text.slice(Math.max(from, text.length - 200));
        this.held.push(chunk);
        return cb(null, this.release());
      }
      const start = open.index;
      const [, qualified, local] = open as unknown as [string, string, string];
      const reply = local === 'ReplyTo' || local === 'FaultTo';
      const gt = xmlTagEnd(text, start + open[0].length);
      if (gt === -2) {
        from = start + 1;
        continue;
      }
      if (gt < 0) return hold(start, 'an XML tag');
      let end = gt + 1;
      if ((reply || namesCallback(local)) && text[gt - 1] !== '/') {
        const close = reply ? replyClosing[local as keyof typeof replyClosing].exec(text.slice(gt)) : null;
        const closed = reply ? (close ? gt + close.index + close[0].length : -1) : closingEnd(text, qualified, gt);
        if (closed < 0) return hold(start, reply ? `a WS-Addressing ${local}` : `a callback element (${local.slice(0, 40)})`);
        end = closed;
      }
      if (base + end > this.decided) {
        const fragment = Buffer.from(text.slice(start, end), 'latin1').toString('utf8');
        if (reply) {
          const read = replyAddressesIn(fragment);
          if (!Array.isArray(read)) return cb(replyStop(read.detail ?? `a WS-Addressing ${local} Airlock cannot read`));
          if (read.length) return cb(replyStop(`its WS-Addressing ${local} names ${read[0]!.url.slice(0, 120)}`));
        } else if ((end > gt + 1 || text.slice(start, gt).includes('=')) && xmlCallbackUrls(fragment, this.entities).length) return cb(callbackStop(local));
      }
      from = end;
    }
  }

  /** The chunks held while an element was open, once it is read. */
  private release(): Buffer {
    const out = Buffer.concat(this.held);
    this.held = [];
    return out;
  }

  override _flush(cb: TransformCallback): void {
    // (An element still open at the end: no parser reads the message.)
    if (this.held.length) return cb(null, this.release());
    cb();
  }
}

/** The end of the first `</qualified>` (blanks before its `>`) after `from`, or -1. */
function closingEnd(text: string, qualified: string, from: number): number {
  const mark = `</${qualified}`;
  for (let at = text.indexOf(mark, from); at >= 0; at = text.indexOf(mark, at + 1)) {
    let i = at + mark.length;
    while (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r') i++;
    if (text[i] === '>') return i + 1;
  }
  return -1;
}

function replyStop(what: string): StreamStop {
  return new StreamStop(refusals.bad(`the message past the part Airlock reads (the capture cap) has the service send elsewhere (${what}), which Airlock cannot decide; send it in a smaller message`));
}

/**
 * A callback member (second-targets.ts callbackKeys: `notificationUrl`, `callback_url`, `webhook`
 * …, at any depth of a JSON body, or a form field) holding an http(s) URL, past what the readers
 * read whole (nineteenth pass): a JSON body past the capture cap is no JSON to them, so
 * `{"notificationUrl": "https://evil.example/", "pad": "<2 MiB>"}` — the member before the cap as
 * well as after it — registered a destination nobody decided.
 */
function callbackStop(name: string): StreamStop {
  return new StreamStop(refusals.bad(`the body names a callback URL (${JSON.stringify(name.slice(0, 40))}) in a body larger than Airlock reads whole (the capture cap, or what it decodes): the service would send to it, which Airlock cannot decide; send it in a smaller body`));
}

/** The first characters of a value, raw: enough for `https:` spelled with escapes. */
const VALUE_HEAD = 48;

/** Whether the start of a value (JSON escapes or percent-escapes undone as `undo` does) is an http(s) URL. */
function urlStart(head: string, undo: (s: string) => string): boolean {
  const text = undo(head);
  if (mayBeHttpUrl(text)) return true;
  // (A route action's call, Mailgun's `forward("https://…")`: its first argument, cut or not.)
  if (routeActionStart(text)) {
    const arg = text.slice(text.indexOf('(') + 1).replace(/^\s*(?:\w+\s*=\s*)?["']?/, '');
    return mayBeHttpUrl(arg) || 'https:'.startsWith(arg.trim().toLowerCase()) || /^[/\\]/.test(arg.trim());
  }
  // (A head of blanks, tabs or newlines, or of a scheme spread out by them, may still become one: WHATWG drops them.)
  const left = text.replace(/^[\s\x00-\x20]+/, '').replace(/[\t\n\r]/g, '').toLowerCase();
  return head.length >= VALUE_HEAD && ('https:'.startsWith(left) || left === '/' || left === '\\');
}

/** JSON's one-letter escapes (a tab in a URL's scheme is dropped by WHATWG parsers: `h\ttps://`). */
const namedEscapes: Readonly<Record<string, string>> = lookupTable({ b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' });

function undoJsonEscapes(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\(.)/g, (_, hex: string | undefined, c: string | undefined) => (hex ? String.fromCharCode(parseInt(hex, 16)) : namedEscapes[c ?? ''] ?? c ?? ''));
}

function undoFormEscapes(s: string): string {
  return s.replaceAll('+', ' ').replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

function stop(name: string): StreamStop {
  return new StreamStop(refusals.bad(`the body names a ${JSON.stringify(name)} field past the part Airlock reads (the capture cap, or what it decodes): the server runs its calls, which Airlock cannot decide; send the batch in a smaller body`));
}

/**
 * A JSON object's top-level member names as they stream by (seventeenth pass): a body larger than
 * the capture cap is no whole JSON to the readers, so `{"batch": [...], "pad": "<2 MiB>"}` (or the
 * batch after the padding) named no call while Facebook's Graph API ran each. A member whose name
 * folds to a watched field (escapes undone, letter case and `_` as the readers fold them) stops the
 * upload. An untyped body that does not start like a JSON object is watched as a form.
 */
class JsonMemberWatch extends Transform {
  readonly preservesLength = true;
  /** Undecided until the first byte that is no blank or byte order mark; then JSON, a form, or nothing. */
  private mode: 'start' | 'json' | 'off' = 'start';
  private form: UrlencodedWatch | undefined;
  private depth = 0;
  /** Per open container, whether it is an object (its strings after `{` and `,` are names). */
  private readonly objects: boolean[] = [];
  private inString = false;
  private escaped = false;
  /** The next string is a member name (after `{` or `,` in an object). */
  private namePosition = false;
  /** The member name being read (latin1 of its bytes), or undefined for any other string. */
  private name: string | undefined;
  /** A member name read, waiting for its `:`. */
  private named: string | undefined;
  /** The member whose value is next, when it names a callback; `valueHead` its string value's start. */
  private callbackMember: string | undefined;
  private valueHead: string | undefined;
  /** The callback member the string being read belongs to (its own value, or one of its list's). */
  private valueMember: string | undefined;
  /**
   * A callback member whose value is a list, and the depth of its items (twenty-second pass: OpenID
   * Connect's `request_uris: ["…", "https://evil.example/r"]` past the cap was skipped as any value,
   * while the provider fetches each).
   */
  private list: { member: string; depth: number } | undefined;
  /** A member whose value is next and may be an object holding a callback's `url` (second-targets.ts holdsCallback). */
  private holderMember: string | undefined;
  /** Whether that member is one named for a URL inside a holder (one level down: heldLeaves). */
  private holderNested = false;
  /**
   * Such objects open, innermost last, and the depth of their members (twenty-second pass:
   * `{"webhook": {"url": …}}` past the cap; twenty-fifth: Vonage's `webhooks: {event_url: {address}}`,
   * the holder read on after the inner object closes). At most MAX_HOLDERS; deeper ones replace the innermost.
   */
  private readonly holders: Array<{ member: string; depth: number; nested: boolean }> = [];

  /** `untyped`: a body of no type (a form unless it starts like JSON); `part`: a multipart part's content, which no decoding reaches first. */
  constructor(private readonly untyped: boolean, private readonly part = false) {
    super();
  }

  override _flush(cb: TransformCallback): void {
    if (this.form) return this.form._flush(cb);
    cb();
  }

  override _transform(chunk: Buffer, enc: BufferEncoding, cb: TransformCallback): void {
    if (this.form) return this.form._transform(chunk, enc, cb);
    const stopped = this.look(chunk);
    if (stopped) return cb(stopped);
    // (look may have found the body to be a form: TypeScript's narrowing above does not know.)
    const form = this.form as UrlencodedWatch | undefined;
    if (form) return form._transform(chunk, enc, cb);
    cb(null, chunk);
  }

  /** Whether nothing more can be found (the value ended, or it is no JSON). */
  get done(): boolean {
    return this.mode === 'off' && !this.form;
  }

  /** Reads the next bytes of the JSON text; the stop, if they name a watched member. */
  look(chunk: Buffer): StreamStop | undefined {
    let i = 0;
    if (this.mode === 'start') {
      // A part's JSON in UTF-16 or UTF-32 (NULs or a byte order mark before its `{`), which Jackson
      // reads by those bytes: not read here (its names hold NULs), so refused.
      if (this.part && /^(?:\xff\xfe|\xfe\xff)?[\0\s]{0,16}[{[]\0|^(?:\xff\xfe|\xfe\xff)?\0[\0\s]{0,15}[{[]/.test(chunk.toString('latin1', 0, 24))) {
        return new StreamStop(refusals.bad('a JSON part of the multipart body past what Airlock reads whole (the capture cap) is in UTF-16 or UTF-32, which servers decode and bind (a callback URL in it would be registered): send it in UTF-8'));
      }
      while (i < chunk.length && (chunk[i] === 0x20 || chunk[i] === 0x09 || chunk[i] === 0x0a || chunk[i] === 0x0d || chunk[i] === 0xef || chunk[i] === 0xbb || chunk[i] === 0xbf)) i++;
      if (i === chunk.length) return undefined;
      // (A JSON array too, twenty-second pass: `[{"pad": …, "notificationUrl": …}]` past the cap was
      // not watched; untyped, only when its first item starts like JSON, else it is read as a form.)
      let j = i + 1;
      while (j < chunk.length && (chunk[j] === 0x20 || chunk[j] === 0x09 || chunk[j] === 0x0a || chunk[j] === 0x0d)) j++;
      const array = chunk[i] === 0x5b && (!this.untyped || chunk[j] === 0x7b || chunk[j] === 0x5b || chunk[j] === 0x22);
      if (chunk[i] !== 0x7b && !array) {
        if (!this.untyped) this.mode = 'off';
        else {
          // (Read as a form from this chunk on: _transform hands it to the form's watch.)
          this.form = new UrlencodedWatch();
          return undefined;
        }
      } else this.mode = 'json';
    }
    if (this.mode === 'off') return undefined;
    const stopped = this.scan(chunk, i);
    if (stopped === LONG_NAME) return new StreamStop(refusals.bad(`the JSON body has a member name longer than ${MAX_MEMBER_NAME} bytes past the first part Airlock reads (the capture cap): servers that fold names may read it as a field that runs calls`));
    if (stopped?.startsWith(CALLBACK)) return callbackStop(stopped.slice(CALLBACK.length));
    if (stopped) return stop(stopped);
    return undefined;
  }

  /** Reads `chunk` from `i`; the watched name found, if any. */
  private scan(chunk: Buffer, i: number): string | undefined {
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inString && this.valueHead !== undefined) {
        // A callback member's string value: its first characters, then skipped as any value.
        const end = b === 0x22 && !this.escaped;
        if (!end) {
          this.escaped = !this.escaped && b === 0x5c;
          this.valueHead += String.fromCharCode(b);
        }
        if (end || this.valueHead.length >= VALUE_HEAD) {
          const url = urlStart(Buffer.from(this.valueHead, 'latin1').toString('utf8'), undoJsonEscapes);
          this.valueHead = undefined;
          if (url) return CALLBACK + this.valueMember!;
          this.callbackMember = undefined;
          if (end) this.inString = false;
        }
        continue;
      }
      if (this.inString) {
        if (this.name === undefined) {
          // Inside a value or a deeper name: on to the next quote or backslash.
          if (this.escaped) {
            this.escaped = false;
            continue;
          }
          const n = chunk.length;
          let c = b;
          while (c !== 0x22) {
            if (c === 0x5c) i++;
            if (++i >= n) break;
            c = chunk[i]!;
          }
          if (i > n) this.escaped = true; // the chunk ended on a backslash
          else if (i < n) this.inString = false;
          continue;
        }
        if (this.escaped) this.escaped = false;
        else if (b === 0x5c) this.escaped = true;
        else if (b === 0x22) {
          this.inString = false;
          this.named = this.name;
          this.name = undefined;
          continue;
        }
        // (Underscores fold away, so a name of any length may read as a watched one: past a bound, refused.)
        if (this.name.length >= MAX_MEMBER_NAME) return LONG_NAME;
        // (A deeper name is read for a callback member only, whose names are short: a long one is skipped as a value.)
        if (this.depth > 1 && this.name.length > 1024) {
          this.name = undefined;
          this.named = undefined;
          continue;
        }
        this.name += String.fromCharCode(b);
        continue;
      }
      if (this.callbackMember !== undefined && b === 0x5b) {
        // (A list under a callback name: each string item read as its value is.)
        this.list = { member: this.callbackMember, depth: this.depth + 1 };
        this.callbackMember = undefined;
      }
      if (this.holderMember !== undefined && b === 0x7b) {
        const held = { member: this.holderMember, depth: this.depth + 1, nested: this.holderNested };
        if (this.holders.length >= MAX_HOLDERS) this.holders[this.holders.length - 1] = held;
        else this.holders.push(held);
      }
      if (this.holderMember !== undefined && b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) this.holderNested = false;
      if (this.holderMember !== undefined && b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) this.holderMember = undefined;
      if (this.callbackMember !== undefined && b !== 0x22 && b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) this.callbackMember = undefined;
      switch (b) {
        case 0x22:
          this.inString = true;
          this.name = this.namePosition ? '' : undefined;
          if (this.callbackMember !== undefined) {
            this.valueHead = '';
            this.valueMember = this.callbackMember;
          } else if (this.list?.depth === this.depth && this.name === undefined) {
            this.valueHead = '';
            this.valueMember = this.list.member;
          }
          break;
        case 0x7b:
        case 0x5b:
          this.depth++;
          this.objects.push(b === 0x7b);
          this.namePosition = b === 0x7b;
          break;
        case 0x7d:
        case 0x5d:
          this.objects.pop();
          this.namePosition = false;
          if (this.list && this.depth <= this.list.depth) this.list = undefined;
          while (this.holders.length && this.depth <= this.holders.at(-1)!.depth) this.holders.pop();
          if (--this.depth <= 0) {
            this.mode = 'off';
            return undefined;
          }
          break;
        case 0x2c:
          this.namePosition = this.objects.at(-1) === true;
          break;
        case 0x3a:
          if (this.named !== undefined) {
            const name = memberName(this.named);
            if (this.depth === 1 && name !== undefined && RUN_FIELDS.has(name)) return name;
            const raw = Buffer.from(this.named, 'latin1').toString('utf8');
            const unescaped = undoJsonEscapes(raw);
            if (namesCallback(name ?? raw) || namesCallback(unescaped) || namesRouteAction(unescaped)) this.callbackMember = unescaped;
            const holder = this.holders.at(-1)?.depth === this.depth ? this.holders.at(-1) : undefined;
            if (holder && (isCallbackLeaf(unescaped) || urlNamed(unescaped)) && this.callbackMember === undefined) this.callbackMember = `${holder.member}.${unescaped}`;
            if (holdsCallback(unescaped)) this.holderMember = unescaped;
            else if (holder && !holder.nested && urlNamed(unescaped)) {
              this.holderMember = `${holder.member}.${unescaped}`;
              this.holderNested = true;
            }
          }
          this.named = undefined;
          this.namePosition = false;
          break;
        default:
      }
    }
    return undefined;
  }
}

/** Holder objects open at once that the JSON watch tracks (JsonMemberWatch.holders). */
const MAX_HOLDERS = 64;

/** The scan's mark for a callback member holding a URL (followed by the member's name). */
const CALLBACK = '\u0000callback:';

/** The longest top-level member name read past the capture cap (4 KiB). */
const MAX_MEMBER_NAME = 4096;
const LONG_NAME = '\u0000long';

/** A member name as the readers match it (second-targets.ts foldedKey): escapes undone, without letter case or `_`. */
function memberName(raw: string): string | undefined {
  try {
    return (JSON.parse(`"${Buffer.from(raw, 'latin1').toString('utf8')}"`) as string).toUpperCase().toLowerCase().replaceAll('_', '');
  } catch {
    return undefined;
  }
}

/** Names as URLSearchParams reads them (`+` a blank, escapes decoded), between `&` and `=`. */
class UrlencodedWatch extends Transform {
  /** Only looks: the body leaves byte for byte, with the length it declared (proxy/upstream.ts bodyFraming). */
  readonly preservesLength = true;
  private inName = true;
  private name = '';
  /** A callback field's name, and the start of its value, while it is read. */
  private callbackField: string | undefined;
  private valueHead = '';
  /** Chunks kept back while a callback field's value is undecided (the body's last bytes may be all of it). */
  private held: Buffer[] = [];
  /**
   * The value being read as a JSON document, its escapes undone (twenty-fifth pass: a field's JSON,
   * `subscription={"notificationUrl": …}`, which the readers read within the cap (second-targets.ts
   * jsonValuePairs), after a padding field past it registered the URL); to the next `&` (a `;` the
   * name scan splits on as Rack 2 does stays inside a JSON document PHP reads whole). `escape`: a
   * `%` escape the chunk's end cut.
   */
  private json: { watch: JsonMemberWatch; escape: string } | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const stopped = this.scan(chunk, 0);
    if (stopped) return cb(stopped);
    if (this.callbackField !== undefined && !this.inName) {
      this.held.push(chunk);
      return cb();
    }
    const out = this.held.length ? Buffer.concat([...this.held, chunk]) : chunk;
    this.held = [];
    cb(null, out);
  }

  /** Feeds the JSON value read from `from` to its end in this chunk (the next `&`); the stop, if it names a callback. */
  private feedJson(chunk: Buffer, from: number): StreamStop | undefined {
    const json = this.json!;
    const amp = chunk.indexOf(0x26, from);
    const raw = json.escape + chunk.toString('latin1', from, amp < 0 ? chunk.length : amp);
    // (An escape cut at the end waits for its digits.)
    const cut = amp < 0 ? raw.length - (raw.at(-1) === '%' ? 1 : raw.at(-2) === '%' ? 2 : 0) : raw.length;
    json.escape = raw.slice(cut);
    const stopped = json.watch.look(Buffer.from(undoFormEscapes(raw.slice(0, cut)), 'latin1'));
    if (stopped || amp >= 0 || json.watch.done) this.json = undefined;
    return stopped;
  }

  private scan(chunk: Buffer, start: number): StreamStop | undefined {
    let at = start;
    if (this.json) {
      const stopped = this.feedJson(chunk, 0);
      if (stopped) return stopped;
    }
    while (at < chunk.length) {
      if (!this.inName) {
        const amp = separatorAt(chunk, at);
        if (this.callbackField !== undefined) {
          this.valueHead += chunk.toString('latin1', at, Math.min(amp < 0 ? chunk.length : amp, at + VALUE_HEAD));
          if (amp >= 0 || this.valueHead.length >= VALUE_HEAD) {
            if (urlStart(this.valueHead, undoFormEscapes)) return callbackStop(this.callbackField);
            this.callbackField = undefined;
          }
        }
        if (amp < 0) break;
        this.inName = true;
        this.name = '';
        at = amp + 1;
        continue;
      }
      const amp = separatorAt(chunk, at);
      const eq = chunk.indexOf(0x3d, at);
      const end = eq >= 0 && (amp < 0 || eq < amp) ? eq : amp;
      // A name is short; past 64 characters it can no longer be one watched (kept to 64 + escapes).
      if (this.name.length < 256) this.name += chunk.toString('latin1', at, end < 0 ? Math.min(chunk.length, at + 256) : Math.min(end, at + 256));
      if (end < 0) break;
      if (end === eq) {
        const name = formName(this.name);
        // (As PHP registers the name too: ` batch`, `batch[0][relative_url]` are Facebook's `batch`.)
        if (name !== undefined && (RUN_FIELDS.has(name) || RUN_FIELDS.has(phpName(name)))) return stop(name);
        if (name !== undefined && (namesCallback(name) || namesRouteAction(name))) {
          this.callbackField = name;
          this.valueHead = '';
        }
        this.inName = false;
        if (!this.json) {
          this.json = { watch: new JsonMemberWatch(false, true), escape: '' };
          const stopped = this.feedJson(chunk, eq + 1);
          if (stopped) return stopped;
        }
      } else this.name = '';
      at = end + 1;
    }
    return undefined;
  }

  /** A callback field whose value the body's end cut short of VALUE_HEAD. */
  override _flush(cb: TransformCallback): void {
    if (this.callbackField !== undefined && !this.inName && urlStart(this.valueHead, undoFormEscapes)) return cb(callbackStop(this.callbackField));
    if (this.held.length) this.push(Buffer.concat(this.held));
    this.held = [];
    cb();
  }
}

/**
 * The next parameter separator from `at`: `&`, or `;` as Rack 2 (and Python's parse_qsl before
 * 3.9.2) split forms too (twenty-second pass: `pad=<1 MiB>;callback_url=…` hid the callback in
 * the padding's value); -1 when none. Splitting on both only adds names to look at.
 */
function separatorAt(chunk: Buffer, at: number): number {
  const amp = chunk.indexOf(0x26, at);
  const semi = chunk.indexOf(0x3b, at);
  return amp < 0 ? semi : semi < 0 ? amp : Math.min(amp, semi);
}

function formName(raw: string): string | undefined {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/** At most this many boundaries are watched in all (the body's, and those of parts that are multiparts themselves). */
const MAX_WATCHED_BOUNDARIES = 12;

/** One boundary's reading: where its next delimiter is searched from, and the JSON part being read. */
interface BoundaryReading {
  delimiter: string;
  /** Absolute offset in the body the next delimiter is searched from (what is before it was read). */
  next: number;
  /** Absolute offset the JSON part was read to. */
  fed: number;
  /** The part being read as JSON, up to its next delimiter. */
  json?: JsonMemberWatch;
  /** A route's `action` field being read (its name, and its value's start so far). */
  action?: { name: string; head: string };
}

/**
 * A route `action` field's value past the capture cap, once its start is read (twenty-fifth pass:
 * Mailgun's `store(notify="https://…")` in a multipart field after a large one registered a URL the
 * readers never read; only such a call stops the upload, so WordPress's `action=upload-attachment`
 * beside its file goes on). `done`: the part ended, whatever was read of it is all.
 */
function actionStop(r: BoundaryReading, done: boolean): StreamStop | undefined {
  const a = r.action;
  if (!a || (!done && a.head.length < VALUE_HEAD)) return undefined;
  r.action = undefined;
  return urlStart(a.head.slice(0, VALUE_HEAD), (v) => v) ? callbackStop(a.name) : undefined;
}

/**
 * Part heads after each delimiter, read as the describe step reads them (dispositionNames), and
 * each part's content as JSON when it starts like JSON (twenty-second pass, follow-up): Spring's
 * `@RequestPart`, JAX-RS's `@FormDataParam` and Google's `multipart/related` uploads bind a JSON
 * part to an object, so `{"notificationUrl": …}` in a part after a large file registered a
 * callback the readers (second-targets.ts jsonPartCallbacks) never read past the cap. A part that
 * is a multipart itself has its boundary watched too; a JSON (or untyped) part in a transfer
 * encoding (base64, quoted-printable), which such servers decode, is refused: it is not decoded here.
 */
class MultipartWatch extends Transform {
  readonly preservesLength = true;
  private carry = '';
  /** Absolute offset of the carry's first byte. */
  private base = 0;
  private readonly readings: BoundaryReading[];

  constructor(boundaries: string[]) {
    super();
    this.readings = boundaries.map((b) => ({ delimiter: `--${b}`, next: 0, fed: 0 }));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const text = this.carry + chunk.toString('latin1');
    const base = this.base;
    let keepFrom = text.length;
    /** Reads a JSON part's text on, to `until` (what was read is not read again). */
    const feed = (r: BoundaryReading, until: number): StreamStop | undefined => {
      const fed = Math.max(0, r.fed - base);
      r.fed = base + Math.max(fed, until);
      if (r.action && until > fed) {
        r.action.head += text.slice(fed, Math.min(until, fed + VALUE_HEAD));
        const stopped = actionStop(r, false);
        if (stopped) return stopped;
      }
      return until > fed && r.json && !r.json.done ? r.json.look(Buffer.from(text.slice(fed, until), 'latin1')) : undefined;
    };
    // (Readings added for a nested multipart are read in this same pass: the loop sees them.)
    for (const r of this.readings) {
      const d = r.delimiter;
      // The next blank line of each kind, searched again only once passed (one pass over the text).
      let crlf = -2;
      let lf = -2;
      // (What may be the start of a delimiter the chunk's end cut is read with the next chunk.)
      const safe = Math.max(0, text.length - d.length - 1);
      for (let guard = 0; guard < text.length + 2; guard++) {
        const from = Math.max(0, r.next - base);
        const at = text.indexOf(d, from);
        // A delimiter mid-line is content to RFC 2046 parsers (Spring's, Python's): the JSON part goes
        // on through it, while its head is still read for parsers that split wherever it stands.
        const mid = r.json !== undefined && at > 0 && text[at - 1] !== '\n';
        if (r.json) {
          const stopped = feed(r, at >= 0 ? at : Math.max(from, safe));
          if (stopped) return cb(stopped);
          if (at < 0) {
            r.next = r.fed;
            break;
          }
          if (!mid) {
            r.json = undefined;
            const ended = actionStop(r, true);
            if (ended) return cb(ended);
          }
        }
        if (at < 0) {
          r.next = base + Math.max(from, safe);
          break;
        }
        const headStart = at + d.length;
        // A close delimiter (`--b--`) has no head; a part after it is still looked at (some parsers read on).
        if (text.startsWith('--', headStart)) {
          r.next = base + headStart + 2;
          continue;
        }
        if (headStart + 2 > text.length) {
          r.next = base + at;
          keepFrom = Math.min(keepFrom, at);
          // (Inside a JSON part the text after it is read on as JSON meanwhile: the body's end may be all of it.)
          const stopped = mid ? feed(r, safe) : undefined;
          if (stopped) return cb(stopped);
          break;
        }
        if (crlf !== -1 && crlf < headStart) crlf = text.indexOf('\r\n\r\n', headStart);
        if (lf !== -1 && lf < headStart) lf = text.indexOf('\n\n', headStart);
        const blank = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
        if (blank < 0) {
          if (text.length - headStart > MAX_PART_HEAD) return cb(new StreamStop(refusals.bad('a part head of the form body is longer than Airlock reads')));
          // The head is not all here yet: kept, from its delimiter, for the next chunk.
          r.next = base + at;
          keepFrom = Math.min(keepFrom, at);
          const stopped = mid ? feed(r, safe) : undefined;
          if (stopped) return cb(stopped);
          break;
        }
        const head = unfoldHead(text.slice(headStart, blank));
        const stopped = readHead(head);
        if (stopped) return cb(stopped);
        const contentStart = blank + (blank === crlf ? 4 : 2);
        r.next = base + contentStart;
        // (A line-start delimiter may stand within what read as that head: searched from just after it.)
        if (mid) {
          r.next = base + headStart;
          continue;
        }
        r.fed = r.next;
        const type = partHeader(head, 'content-type');
        if (type !== undefined && /^\s*multipart\//i.test(type)) {
          for (const b of multipartBoundaries(type)) {
            if (this.readings.some((x) => x.delimiter === `--${b}`)) continue;
            if (this.readings.length >= MAX_WATCHED_BOUNDARIES) return cb(new StreamStop(refusals.bad('the body nests more multipart parts than Airlock reads')));
            this.readings.push({ delimiter: `--${b}`, next: base + contentStart, fed: base + contentStart });
          }
        } else {
          r.json = new JsonMemberWatch(false, true);
          const action = isFileHead(head) ? undefined : dispositionNames(head).find(namesRouteAction);
          r.action = action === undefined ? undefined : { name: action, head: '' };
        }
      }
    }
    // (And what may be the start of a delimiter the chunk's end cut.)
    const keep = Math.max(...this.readings.map((r) => r.delimiter.length));
    const cut = Math.min(keepFrom, Math.max(0, text.length - keep - 1));
    this.carry = text.slice(cut);
    this.base = base + cut;
    cb(null, chunk);
  }

  /** A JSON part the body's end cut (no close delimiter): its last bytes, held back for a delimiter, read too. */
  override _flush(cb: TransformCallback): void {
    for (const r of this.readings) {
      const from = Math.max(0, r.fed - this.base);
      if (r.action) {
        r.action.head += this.carry.slice(from, from + VALUE_HEAD);
        const stopped = actionStop(r, true);
        if (stopped) return cb(stopped);
      }
      if (r.json && !r.json.done && from < this.carry.length) {
        const stopped = r.json.look(Buffer.from(this.carry.slice(from), 'latin1'));
        if (stopped) return cb(stopped);
      }
    }
    cb();
  }
}

/** A part head's stop: a field that runs calls or names a callback, or a JSON part the server decodes from a transfer encoding. */
function readHead(head: string): StreamStop | undefined {
  if (!isFileHead(head)) {
    for (const name of dispositionNames(head)) if (RUN_FIELDS.has(name) || RUN_FIELDS.has(phpName(name))) return stop(name);
    // A callback field (twenty-first pass): its value is not read here, the field stops the upload.
    for (const name of dispositionNames(head)) if (namesCallback(name)) return callbackStop(name);
  }
  const coding = partHeader(head, 'content-transfer-encoding')?.toLowerCase();
  const type = partHeader(head, 'content-type');
  if (coding && !['7bit', '8bit', 'binary'].includes(coding) && (type === undefined || /json/i.test(type))) {
    return new StreamStop(refusals.bad(`a part of the multipart body past what Airlock reads whole (the capture cap) is JSON or untyped in the transfer encoding ${JSON.stringify(coding.slice(0, 40))}, which servers decode and bind (a callback URL in it would be registered): send it unencoded`));
  }
  return undefined;
}

/** A part header's value (the first line of that name, as proxy/mime-parts.ts reads it), or undefined. */
function partHeader(head: string, name: string): string | undefined {
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && line.slice(0, colon).trim().toLowerCase() === name) return line.slice(colon + 1).trim();
  }
  return undefined;
}
