// Response scrubbing: every encoded form, every chunk split, compressed bodies, headers.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { PassThrough, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import t from 'tap';
import fc from 'fast-check';
import { ChunkScrubber, Scrubber, ScrubStream, scrubForms, scrubResponse } from '../../proxy/scrub.ts';
import { publicPrefixLength } from '../../proxy/scrubber.ts';
import { JsonPieces } from '../../proxy/json-pieces.ts';
import { tarEntry } from '../helpers/tar.ts';
import { ascii85, fromAscii85, pdfTextStreams } from '../helpers/ascii85.ts';

const SECRET = 'ghp_Canary/Secret+Value=42?&x';
const PH = 'airlock-ph-gh-0123456789abcdef0123456789abcdef';
const scrubber = new Scrubber([{ value: SECRET, placeholder: PH }]);

/** `body` written to `stream` cut at `cuts` (a turn of the event loop apart): what came out, and the error it ended with. */
async function throughCuts(stream: ScrubStream, body: Buffer, cuts: number[]): Promise<{ out: Buffer; err?: Error }> {
  const out: Buffer[] = [];
  stream.on('data', (d: Buffer) => out.push(d));
  const done = new Promise<Error | undefined>((resolve) => {
    stream.on('end', () => resolve(undefined));
    stream.on('error', (err) => resolve(err));
  });
  const points = [...new Set(cuts.map((c) => c % body.length))].sort((a, b) => a - b).filter(Boolean);
  for (const [i, p] of [0, ...points].entries()) {
    if (stream.destroyed) break;
    stream.write(body.subarray(p, points[i] ?? body.length));
    await new Promise((r) => setImmediate(r));
  }
  if (!stream.destroyed) stream.end();
  return { out: Buffer.concat(out), err: await done };
}

async function collect(transform: Transform, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  transform.on('data', (d: Buffer) => out.push(d));
  const done = new Promise<void>((resolve, reject) => {
    transform.on('end', resolve);
    transform.on('error', reject);
  });
  for (const c of chunks) {
    transform.write(c);
    // Each chunk its own burst: what arrives in one turn is scrubbed together (ScrubStream).
    await Promise.resolve();
  }
  transform.end();
  await done;
  return Buffer.concat(out);
}

function encodings(value: string): Record<string, string> {
  const b = Buffer.from(value);
  return {
    raw: value,
    base64: b.toString('base64'),
    base64url: b.toString('base64url'),
    hex: b.toString('hex'),
    HEX: b.toString('hex').toUpperCase(),
    percent: encodeURIComponent(value),
    form: new URLSearchParams({ v: value }).toString().slice(2),
    json: JSON.stringify(value).slice(1, -1),
    phpJson: JSON.stringify(value).slice(1, -1).replace(/\//g, '\\/'),
    encodeURI: encodeURI(value),
    percentLower: encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  };
}

t.test('every encoded form at every alignment is scrubbed from a string', async (t) => {
  for (const [label, enc] of Object.entries(encodings(SECRET))) {
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      // The secret inside a larger encoded blob, at each byte alignment.
      const blob = label.startsWith('base64')
        ? Buffer.concat([Buffer.from(prefix), Buffer.from(SECRET), Buffer.from('tail')]).toString(label === 'base64' ? 'base64' : 'base64url')
        : `${prefix}${enc}tail`;
      const out = scrubber.scrubString(`before ${blob} after`);
      t.notOk(out.includes(enc), `${label} (prefix ${prefix.length}) removed`);
      t.ok(out.includes(PH), `${label} (prefix ${prefix.length}) replaced by the placeholder`);
      // No 8-character window of any form survives.
      for (const f of scrubForms(SECRET)) t.notOk(out.includes(f), `${label}/${prefix.length}: no form ${f.slice(0, 12)}… left`);
    }
  }
  t.equal(scrubber.scrubString('nothing to see here'), 'nothing to see here');
});

t.test('a secret split at every offset across two and three chunks is caught', async (t) => {
  for (const [label, enc] of Object.entries(encodings(SECRET))) {
    const body = Buffer.from(`{"echo":"${enc}","more":"x${enc}y"}`);
    const expected = scrubber.scrubString(body.toString('latin1'));
    t.notOk(expected.includes(enc), `${label}: reference scrub removes it`);
    let failures = 0;
    for (let i = 0; i <= body.length; i++) {
      const out = await collect(new ScrubStream(scrubber), [body.subarray(0, i), body.subarray(i)]);
      if (out.toString('latin1') !== expected) failures++;
    }
    for (let i = 1; i < body.length; i += 3) {
      const j = Math.min(body.length, i + 7);
      const out = await collect(new ScrubStream(scrubber), [body.subarray(0, i), body.subarray(i, j), body.subarray(j)]);
      if (out.toString('latin1') !== expected) failures++;
    }
    t.equal(failures, 0, `${label}: every split gives the same output as a whole-body scrub`);
  }
  // One byte at a time.
  const body = Buffer.from(`x${SECRET}y${SECRET}`);
  const out = await collect(new ScrubStream(scrubber), [...body].map((b) => Buffer.from([b])));
  t.equal(out.toString(), `x${PH}y${PH}`);
});

t.test('an upstream answering in 1-byte chunks is scrubbed a burst at a time, not a byte at a time', async (t) => {
  // Node's HTTP parser hands over every chunk of one socket read in one go: 1-byte chunks made each
  // byte a scrub of its own (~5 µs a byte; 300 KB held the event loop ~100 ms a read).
  let scrubs = 0;
  const stream = new ScrubStream(() => (scrubs++, scrubber));
  const body = Buffer.from(`${'x'.repeat(3000)}${SECRET}${'y'.repeat(3000)}`);
  const out: Buffer[] = [];
  stream.on('data', (d: Buffer) => out.push(d));
  const ended = new Promise((r) => stream.on('end', r));
  for (const b of body) stream.write(Buffer.from([b]));
  await new Promise((r) => setImmediate(r));
  stream.end();
  await ended;
  t.equal(Buffer.concat(out).toString(), `${'x'.repeat(3000)}${PH}${'y'.repeat(3000)}`, 'scrubbed as a whole-body scrub would');
  t.ok(scrubs <= 3, `${body.length} one-byte chunks of one turn cost ${scrubs} scrubs (the head's look, the burst, the end)`);
});

t.test('only a possible secret prefix is held back; the rest streams immediately', async (t) => {
  const stream = new ScrubStream(scrubber);
  const seen: string[] = [];
  stream.on('data', (d: Buffer) => seen.push(d.toString()));
  stream.write(Buffer.from('data: hello\n\n'));
  await new Promise((r) => setImmediate(r));
  t.same(seen, ['data: hello\n\n'], 'an SSE event with no secret prefix is not delayed');
  stream.write(Buffer.from('data: ghp_Can'));
  await new Promise((r) => setImmediate(r));
  t.same(seen, ['data: hello\n\n', 'data: '], 'the start of the secret is held');
  stream.end(Buffer.from('ary/Secret+Value=42?&x\n'));
  await new Promise((r) => stream.on('end', r));
  t.equal(seen.join(''), `data: hello\n\ndata: ${PH}\n`);
});

t.test('thirteenth pass: the tripwire on what a stream holds back (a long start that proves none, or is dropped, trips; a key handed back whole does not)', async (t) => {
  /** Feeds `chunks` (a turn apart) through a stream with a probe; whether it tripped (and late), what came out. */
  const run = async (chunks: string[], opts: { events?: boolean; drop?: boolean } = {}): Promise<{ trips: boolean[]; out: string }> => {
    const trips: boolean[] = [];
    const stream = new ScrubStream(scrubber, undefined, opts.events ?? false, false, {
      begin: () => undefined,
      trip: (rules, late) => {
        trips.push(late ?? false);
        return rules.length ? new Error('tripped') : undefined;
      },
      end: () => undefined,
    });
    const out: string[] = [];
    stream.on('data', (d: Buffer) => out.push(d.toString('latin1')));
    stream.on('error', () => undefined);
    for (const c of chunks) {
      if (stream.destroyed) break;
      stream.write(Buffer.from(c, 'latin1'));
      await new Promise((r) => setImmediate(r));
    }
    if (opts.drop) stream.destroy();
    else if (!stream.destroyed) {
      stream.end();
      await new Promise((r) => { stream.on('close', r); });
    }
    return { trips, out: out.join('') };
  };
  const events = (p: string): string => `data: ${p}\n\n`;
  // fast-check over the length of the start (1–14), plain or an event stream, and how it goes on.
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 14 }), fc.boolean(), fc.constantFrom('other', 'end', 'drop', 'whole'), async (n, ev, then) => {
    const wrap = ev ? events : (p: string): string => p;
    const start = `answer: ${SECRET.slice(0, n)}`;
    const next = then === 'whole' ? SECRET.slice(n) : '#, and more';
    const r = await run(then === 'other' || then === 'whole' ? [wrap(start), wrap(next)] : [wrap(start)], { events: ev, drop: then === 'drop' });
    const shouldTrip = n >= 10 && then !== 'whole';
    const trips = r.trips.length > 0;
    if (then === 'whole' && (trips || r.out.includes(SECRET.slice(0, 8)))) throw new Error(`a key handed back whole in two chunks (cut at ${n}, events ${ev}): ${trips ? 'tripped' : 'its start reached the reader'}`);
    if (n < 10 && trips) throw new Error(`a start of ${n} characters tripped (events ${ev}, ${then})`);
    if (shouldTrip && !trips) throw new Error(`a start of ${n} characters followed by ${then} did not trip (events ${ev})`);
    if (trips && r.out.includes(SECRET.slice(0, 10))) throw new Error(`tripped, yet the 10-character start was let out (events ${ev}, ${then})`);
    if (then === 'drop' && trips && !r.trips[0]) throw new Error('a dropped stream trips late');
  }), { numRuns: 40 });
  t.pass('the tripwire fires past 9 characters that prove none, never on a key handed back whole');
  // Fourteenth pass: the same start in EBCDIC (an echo that answers unlabelled cp037, which the
  // scrubber holds like any spelling) was held without counting: an oracle with no tripwire.
  const cp037 = Buffer.from('405a7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6f7cc1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e9bae0bbb06d79818283848586878889919293949596979899a2a3a4a5a6a7a8a9c04fd0a1', 'hex');
  const ebcdic = (text: string): string => Buffer.from([...text].map((c) => cp037[c.charCodeAt(0) - 0x20]!)).toString('latin1');
  for (const n of [9, 10, 13]) {
    const r = await run([ebcdic(`answer: ${SECRET.slice(0, n)}`), ebcdic('#, and more')]);
    t.equal(r.trips.length > 0, n >= 10, `an EBCDIC start of ${n} characters that proves none ${n >= 10 ? 'trips' : 'does not trip'}`);
  }
  // And in UTF-16 or UTF-32 (held through the strided views, counted only in the text as it came).
  const wide = (text: string, enc: string): string => {
    const le = Buffer.from(text, 'utf16le');
    if (enc === 'utf16le') return le.toString('latin1');
    if (enc === 'utf16be') return Buffer.from(le).swap16().toString('latin1');
    return Buffer.concat([...text].map((c) => Buffer.from([c.charCodeAt(0), 0, 0, 0]))).toString('latin1');
  };
  for (const enc of ['utf16le', 'utf16be', 'utf32le']) {
    for (const n of [9, 11]) {
      const r = await run([wide(`answer: ${SECRET.slice(0, n)}`, enc), wide('#, and more', enc)]);
      t.equal(r.trips.length > 0, n >= 10, `a ${enc} start of ${n} characters that proves none ${n >= 10 ? 'trips' : 'does not trip'}`);
    }
  }
  const wholeWide = await run([wide(`answer: ${SECRET.slice(0, 12)}`, 'utf16le'), wide(`${SECRET.slice(12)} and more`, 'utf16le')]);
  t.same([wholeWide.trips, wholeWide.out.includes(wide(SECRET.slice(0, 8), 'utf16le'))], [[], false], 'the key handed back whole in UTF-16 across two chunks does not trip, and is scrubbed');
  const whole = await run([ebcdic(`answer: ${SECRET.slice(0, 12)}`), ebcdic(`${SECRET.slice(12)} and more`)]);
  t.same(whole.trips, [], 'the key handed back whole in EBCDIC across two chunks does not trip (it is scrubbed)');
});

// Seventeenth pass: the tripwire counted a held start in held characters, fillers and all: the
// blanks, tabs, line breaks, soft breaks (`=\r\n`) and separators a spelling lets in between (or
// after) a key's characters. A piece ending in a key's public prefix and a run of blanks (a padded
// column, a binary frame's space padding) was held, then let go, and revoked the agent's token.
// Counted now in the characters that spell the key, gaps left out (PrefixAutomaton.heldSpelled).
t.test('seventeenth pass: the tripwire counts a held start in characters of the key, not the blanks, line breaks or soft breaks after or between them', async (t) => {
  const keys = ['sk_live_51HabcDEFghiJKLmno0123456789', 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', 'xoxb-123456789012-abcdefABCDEF', 'github_pat_11ABCDEFG0abcdefghij_KLMNOPqrstuv', 'sk-ant-api03-AbCdEfGhIjKlMnOp'];
  const scrubbers = keys.map((value) => new Scrubber([{ value, placeholder: PH }]));
  const fillers = [' ', '\t', '\n', '\r\n', '=\r\n', '=\n', '=', ', ', '"', '\\n', '\0', '\u200b', ' \t\r\n'];
  const between = ['', ' ', '\n', ', ', '=\r\n', '\r\n  '];
  await fc.assert(fc.property(fc.integer({ min: 0, max: keys.length - 1 }), fc.constantFrom(...fillers), fc.integer({ min: 1, max: 200 }), fc.constantFrom(...between), fc.integer({ min: 1, max: 16 }), fc.constantFrom('', 'x ', 'log: '), (k, filler, run, gap, n, before) => {
    const key = keys[k]!;
    const s = scrubbers[k]!;
    const least = Math.max(10, publicPrefixLength(key) + 2);
    const text = Buffer.from(`${before}${[...key.slice(0, n)].join(gap)}${filler.repeat(run)}`, 'utf8').toString('latin1');
    const held = s.scrubPartial(text).rest;
    const trips = held.length >= 10 && s.startsAtEnd(held, 10).length > 0;
    if (n < least && trips) throw new Error(`${n} characters of ${key.slice(0, 8)}… (gap ${JSON.stringify(gap)}) and ${run} × ${JSON.stringify(filler)} tripped`);
    // A start the tripwire must still see: held with 10 or more of the key's characters in it.
    if (n >= least && held.includes(key[0]!) && held.length >= 10 && !trips) throw new Error(`${n} characters of ${key.slice(0, 8)}… (gap ${JSON.stringify(gap)}) and ${run} × ${JSON.stringify(filler)} held without tripping`);
  }), { numRuns: 300 });
  t.pass('a held start counts the key\'s characters, not the fillers');
  const s = scrubbers[0]!;
  // The report's case: the public prefix and a run of blanks, held and then let go.
  t.same(s.startsAtEnd(`note sk_live_${' '.repeat(40)}`, 10), [], 'the public prefix and 40 blanks: no probe');
  t.same(s.startsAtEnd('note sk_live_5=\r\n=\r\n=\r\n', 10), [], 'the prefix, one character and soft breaks: no probe');
  t.same(s.startsAtEnd('note sk_live_5=', 10), [], 'the prefix, one character and an `=` (a soft break or an escape begun): no probe');
  t.same(s.startsAtEnd(`note ${[...'sk_live_5'].join(', ')}, `, 10), [], 'the prefix and one character as a list: no probe');
  // The wire itself: 10 characters of the key, however spaced, trip.
  t.same(s.startsAtEnd(`note sk_live_51${' '.repeat(40)}`, 10).map((r) => r.replace), [PH], 'two characters past the prefix and blanks: the key\'s start');
  t.same(s.startsAtEnd(`note ${[...'sk_live_51'].join('=\r\n')}`, 10).map((r) => r.replace), [PH], 'two characters past the prefix with soft breaks between: the key\'s start');
  t.same(s.startsAtEnd(`note ${[...'sk_live_51'].join(', ')}, `, 10).map((r) => r.replace), [PH], 'as a list: the key\'s start');
});

// Twenty-first pass: a WebSocket hold (proxy/credentials.ts readAcross) counted a held start in
// held bytes. With any byte that is no letter or digit a gap between a key's characters (twentieth
// pass), one letter of a key and binary framing after it (PostgreSQL's Sync, `S` 00 00 00 04) was
// an 8-byte start: held until a next message the client sends only after the server answered.
t.test('twenty-first pass: a hold counts a start in the characters it spells: one letter of a key and binary framing is none, the public prefix and eight spaced characters are', async (t) => {
  const key = 'sk_live_TUNNEL_CANARY_0123456789abcdef';
  const s = new Scrubber([{ value: key, placeholder: PH }]);
  const holds = (text: string): boolean => {
    const held = s.scrubPartial(text).rest;
    return held.length >= 8 && s.spellsAtEnd(held, 8);
  };
  const letters = [...new Set([...key.replace(/[^0-9A-Za-z]/g, '')].flatMap((c) => [c.toLowerCase(), c.toUpperCase()]))];
  // Random bytes, one letter of the key, random bytes: spells one or two characters, never eight
  // (a run of bytes that happens to spell seven more of the key in order is not drawn).
  await fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), fc.constantFrom(...letters), fc.uint8Array({ minLength: 1, maxLength: 12 }), (before, c, after) => {
    const text = Buffer.concat([before, Buffer.from(c), after]).toString('latin1');
    if (holds(text)) throw new Error(`held: ${JSON.stringify(text)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 400), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  for (const [what, text] of [['Sync', 'S\0\0\0\x04'], ['Execute + Sync', 'E\0\0\0\x09\0\0\0\0\0S\0\0\0\x04'], ['ReadyForQuery', 'Z\0\0\0\x05I'], ['a MySQL packet', '\x05\0\0\0\x03USE\0'], ['UTF-16 of 5 characters', Buffer.from(key.slice(0, 5), 'utf16le').toString('latin1')]] as const) {
    t.notOk(holds(text), `${what}: not held`);
  }
  // What the hold is for: 8 characters of the key's start, however spaced, in any spelling.
  for (const [what, text] of [
    ['the public prefix and blanks', `note ${key.slice(0, 8)}${' '.repeat(40)}`],
    ['the public prefix and soft breaks', `note ${key.slice(0, 9)}${'=\r\n'.repeat(6)}`],
    ['8 characters grouped by binary bytes', [...key.slice(0, 8).toUpperCase()].map((c, i) => c + String.fromCharCode(i + 1)).join('')],
    ['UTF-16 of 8 characters', Buffer.from(key.slice(0, 8), 'utf16le').toString('latin1')],
    ['hex of 4 characters', `x ${Buffer.from(key.slice(0, 4)).toString('hex')}`],
    ['reversed', [...key].reverse().join('').slice(0, 9)],
  ] as const) t.ok(holds(text), `${what}: held`);
  // The same count where a joined JSON field or an event is kept back until the next (a message
  // then waits a second and the tunnel closes; an event stream waits for an event that may never
  // come): a terminal's output or a tool's result ending in `s` and marks is no start.
  const ordinary = ['ls\r\nfiles\r\n\u001b[0m$ ', 'status: pass\r\n\r\n\r\n\r\n', 'All tests pass. ----- '];
  for (const data of ordinary) {
    const pieces = new JsonPieces(() => s);
    t.notOk(pieces.document(JSON.stringify({ type: 'stdout', data })), `a JSON message ending ${JSON.stringify(data.slice(-8))}: not kept back`);
    const events = scrubResponse(s, { statusCode: 200, headers: [['content-type', 'text/event-stream']] }).transform!;
    const got: Buffer[] = [];
    events.on('data', (d: Buffer) => got.push(d));
    const event = `data: ${JSON.stringify(data)}\n\n`;
    events.write(Buffer.from(event));
    await new Promise((r) => setTimeout(r, 20));
    t.equal(Buffer.concat(got).toString(), event, `an event ending ${JSON.stringify(data.slice(-8))}: goes out when it ends`);
  }
  const started = new JsonPieces(() => s);
  t.ok(started.document(JSON.stringify({ type: 'stdout', data: `note ${key.slice(0, 9)}      ` })), 'a JSON message ending in the key\'s start and blanks: kept back');
});

// Twenty-second pass (a false hold): the reading view took any `<` and up to 79 characters but
// `<>`, or any `&` and 14 letters or digits, at a text's end for a filler still open, so a key's
// public prefix then `< more`, `<5 x` or `&zz` (a chat's arrow, a comparison) was kept back — a
// WebSocket message until the tunnel closed. Only a start some filler can still become holds.
t.test('twenty-second pass: a key\'s start then a `<` or `&` no filler can become is no start; a tag, comment, CDATA or reference begun still is', async (t) => {
  const key = 'sk_live_TUNNEL_CANARY_0123456789abcdef';
  const s = new Scrubber([{ value: key, placeholder: PH }]);
  const holds = (text: string): boolean => {
    const held = s.scrubPartial(text).rest;
    return held.length >= 8 && s.spellsAtEnd(held, 8);
  };
  // Markup and references that cannot become a filler: `<` then no letter, `/`, `!` (or after a
  // blank, where no tag is read), a comment past its 9 characters, `<!` then no `-` or `[`, a
  // reference no filler's name begins.
  const leads = ['<', '< ', '<5', '<-', '<=', '<.', ' <b', ' </b', ' <!--', '<!x', '<!-- 0123456789', '<![X', '&zz', '& ', '&a', '&;', '&#g', '&Zx'];
  await fc.assert(fc.property(fc.constantFrom(`note ${key.slice(0, 8)}`, key.slice(0, 8), key.slice(0, 9), 's k _ l i v e _'), fc.constantFrom(...leads), fc.stringMatching(/^[a-z0-9 .,;:?=-]{0,40}$/), (start, lead, rest) => {
    // `x` first: the key's next character is `T` or `U`, and `<` alone at the very end may still begin `<wbr>`.
    const text = `${start}${lead} x${rest}`;
    if (holds(text)) throw new Error(`held: ${JSON.stringify(text)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 400), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Each such lead that ends in a letter or digit is no start at the very end either (one ending in
  // a mark or a blank may still be a gap a reader skips before the key's next character; `&a` may
  // still become `&amp;`, the reference escaped again: `&amp;#84;` spells the key's `T`).
  for (const lead of leads.filter((l) => /[0-9A-Za-z]$/.test(l) && l !== '&a')) t.notOk(holds(`note ${key.slice(0, 8)}${lead}`), `the prefix then ${JSON.stringify(lead)}: not held`);
  // What the hold is for: a filler begun after the start, which the next piece may end and the key go on after.
  for (const lead of ['<', '<b', '</', '</b', '<span style="color:#ff0000"', '<wbr', ' <wb', '<!', '<!-', '<!-- x', '<![CDA', '&', '&sh', '&#', '&#x200', '&#0000119808', '&Zero', '&zwn', '&NoBr', '&lr', '&rl', '\\u20', '&a', '&am', '&amp', '&amp;#8']) {
    t.ok(holds(`note ${key.slice(0, 8)}${lead}`), `the prefix then ${JSON.stringify(lead)}: held`);
  }
});

// Fifteenth pass: the packed scan held inflated text ending in a key's start without the tripwire
// counting it: an echo of the agent's guess inside a `.gz` streamed in flushes (a log export that
// follows) answered the guess by the hold, a character at a time.
t.test('the tripwire on what the packed scan holds: a long start inside compressed data that proves none, or is dropped, trips', async (t) => {
  const { PackedScan } = await import('../../proxy/packed-scan.ts');
  /** A gzip stream of `parts`, each flushed apart (a live export), and its end. */
  const gz = async (parts: string[]): Promise<Buffer[]> => {
    const z = zlib.createGzip();
    let cur: Buffer[] = [];
    const out: Buffer[] = [];
    z.on('data', (d: Buffer) => cur.push(d));
    for (const p of parts) {
      z.write(p);
      await new Promise<void>((r) => z.flush(zlib.constants.Z_SYNC_FLUSH, () => r()));
      out.push(Buffer.concat(cur));
      cur = [];
    }
    await new Promise<void>((r) => z.end(r));
    await new Promise<void>((r) => setImmediate(r));
    out[out.length - 1] = Buffer.concat([out[out.length - 1]!, ...cur]);
    return out;
  };
  /** `held`: a long start is expected to be held after the first chunk (waited for: inflating runs on the thread pool). */
  const run = async (chunks: Buffer[], drop: boolean, held: boolean): Promise<{ trips: boolean[]; out: Buffer; err?: Error }> => {
    const trips: boolean[] = [];
    let begun = 0;
    const p = new PackedScan(() => scrubber, new PassThrough(), false, {
      begin: () => {
        begun++;
        return undefined;
      },
      trip: (rules, late) => {
        trips.push(late ?? false);
        return rules.length ? new Error('tripped') : undefined;
      },
      end: () => undefined,
    });
    const out: Buffer[] = [];
    let err: Error | undefined;
    p.on('data', (d: Buffer) => out.push(d));
    p.on('error', (e) => { err = e; });
    for (const c of chunks) {
      if (p.destroyed) break;
      p.write(c);
      for (const until = Date.now() + (held ? 2000 : 5); !begun && Date.now() < until;) await new Promise((r) => setTimeout(r, 2));
    }
    if (drop) p.destroy();
    else if (!p.destroyed) {
      p.end();
      await new Promise((r) => { p.on('close', r); });
    }
    return { trips, out: Buffer.concat(out), ...(err ? { err } : {}) };
  };
  const inflated = (b: Buffer): string => {
    try { return zlib.gunzipSync(b, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('latin1'); } catch { return ''; }
  };
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 14 }), fc.constantFrom('other', 'end', 'drop', 'whole'), async (n, then) => {
    const start = `GET /search?q=${SECRET.slice(0, n)}`;
    const next = then === 'whole' ? `${SECRET.slice(n)} HTTP/1.1` : '# HTTP/1.1';
    const chunks = await gz(then === 'other' || then === 'whole' ? [start, next] : [start]);
    // 'end': the body ends right after the start; 'drop': the reader goes away while it is held.
    const r = await run(then === 'end' ? [Buffer.concat(chunks)] : then === 'drop' ? [chunks[0]!] : chunks, then === 'drop', n >= 10 && then !== 'end');
    const trips = r.trips.length > 0;
    if (n < 10 && trips) throw new Error(`a start of ${n} characters tripped (${then})`);
    if (n >= 10 && then !== 'whole' && !trips) throw new Error(`a start of ${n} characters followed by ${then} did not trip`);
    if (then === 'whole' && trips) throw new Error(`a key handed back whole (cut at ${n}) tripped`);
    if (trips && inflated(r.out).includes(SECRET.slice(0, 10))) throw new Error(`tripped, yet the 10-character start was let out (${then})`);
    if (then === 'drop' && trips && !r.trips[0]) throw new Error('a dropped stream trips late');
  }), { numRuns: 16 });
  t.pass('the packed scan\'s holds trip past 9 characters that prove none, never on a key handed back whole');
});

t.test('the tripwire counts from past a key\'s public prefix: a page of github_pat_11 examples cut by a chunk trips nothing, 2 characters past it trip', async (t) => {
  t.equal(publicPrefixLength('github_pat_11ABCDEFG0abcdefghij'), 13);
  t.equal(publicPrefixLength('sk-ant-api03-AbCdEfGhIjKl'), 13);
  t.equal(publicPrefixLength('sk_live_51Habc'), 8);
  t.equal(publicPrefixLength('ghp_Canary/Secret+Value=42?&x'), 4);
  t.equal(publicPrefixLength('AbC-xyz_0123456789'), 0, 'a random key with capitals has none');
  const pat = `github_pat_11${'ABCDEFGHIJ0123456789abcdefghij'.repeat(3)}`;
  const s = new Scrubber([{ value: pat, placeholder: 'airlock-ph-github_token-0123456789abcdef0123456789abcdef' }]);
  const tripsAt = async (n: number): Promise<boolean> => {
    let tripped = false;
    const stream = new ScrubStream(s, undefined, false, false, {
      begin: () => undefined,
      trip: (rules) => {
        if (rules.length) tripped = true;
        return rules.length ? new Error('tripped') : undefined;
      },
      end: () => undefined,
    });
    stream.on('data', () => undefined);
    stream.on('error', () => undefined);
    stream.write(Buffer.from(`an example token: ${pat.slice(0, n)}`));
    await new Promise((r) => setImmediate(r));
    if (!stream.destroyed) stream.write(Buffer.from('EXAMPLEEXAMPLE and more docs'));
    await new Promise((r) => setImmediate(r));
    stream.destroy();
    return tripped;
  };
  for (const n of [10, 11, 12, 13, 14]) t.notOk(await tripsAt(n), `a chunk ending in ${n} characters of github_pat_11…, then something else: no trip (a public prefix)`);
  for (const n of [15, 16]) t.ok(await tripsAt(n), `${n} characters (2 past the public prefix) that prove none trip`);
});

t.test('several secrets, unicode and binary bodies', async (t) => {
  const s = new Scrubber([{ value: SECRET, placeholder: PH }, { value: 'pässwörd-ü-123', placeholder: 'airlock-ph-db-x' }]);
  const binary = Buffer.concat([Buffer.from([0, 255, 128]), Buffer.from('pässwörd-ü-123'), Buffer.from([1, 2, 3]), Buffer.from(SECRET)]);
  const out = await collect(new ScrubStream(s), [binary.subarray(0, 6), binary.subarray(6)]);
  t.same(out, Buffer.concat([Buffer.from([0, 255, 128]), Buffer.from('airlock-ph-db-x'), Buffer.from([1, 2, 3]), Buffer.from(PH)]));
  t.ok(new Scrubber([]).empty);
});

t.test('scrubResponse: headers, compressed bodies (gzip, deflate raw and zlib, br), lengths fixed', async (t) => {
  const plain = Buffer.from(`echo: ${SECRET} / ${Buffer.from(SECRET).toString('base64')}`.repeat(50));
  const cases: Array<[string, Buffer]> = [
    ['gzip', zlib.gzipSync(plain)],
    ['deflate', zlib.deflateSync(plain)],
    ['deflate', zlib.deflateRawSync(plain)],
    ['br', zlib.brotliCompressSync(plain)],
    ['gzip, br', zlib.brotliCompressSync(zlib.gzipSync(plain))],
    ['identity', plain],
  ];
  for (const [coding, body] of cases) {
    const head = {
      statusCode: 200,
      headers: [['Content-Encoding', coding], ['Content-Length', String(body.length)], ['X-Echo', `Bearer ${SECRET}`], ['Content-Type', 'text/plain']] as Array<[string, string]>,
    };
    const { transform } = scrubResponse(scrubber, head);
    t.ok(transform, coding);
    t.same(head.headers, [['X-Echo', `Bearer ${PH}`], ['Content-Type', 'text/plain']], `${coding}: header scrubbed, encoding and length removed`);
    // Odd chunk sizes so a secret and compressed blocks straddle boundaries.
    const chunks: Buffer[] = [];
    for (let i = 0; i < body.length; i += 37) chunks.push(body.subarray(i, i + 37));
    const out = (await collect(transform!, chunks)).toString();
    t.notOk(out.includes(SECRET), `${coding}: no raw secret`);
    t.notOk(out.includes(Buffer.from(SECRET).toString('base64').slice(4, 20)), `${coding}: no base64 secret`);
    t.equal(out, scrubber.scrubString(plain.toString('latin1')), `${coding}: same as scrubbing the plain body`);
  }
});

t.test('scrubResponse: unknown encodings fail closed; bodiless responses carry no body-derived header', async (t) => {
  t.throws(() => scrubResponse(scrubber, { statusCode: 200, headers: [['content-encoding', 'zstd']] }), /cannot scrub a response with content-encoding "zstd"/);
  const head = { statusCode: 304, headers: [['etag', '"1"'], ['content-length', '10']] as Array<[string, string]> };
  t.equal(scrubResponse(scrubber, head).transform, undefined);
  // Fifteenth pass: what is derived from the unscrubbed body (a validator, a checksum, a bodiless answer's length) is dropped.
  // Seventeenth pass: the ETag is sealed (proxy/entity-tags.ts), not dropped: nothing of the real one shows.
  t.same(head.headers.map(([n]) => n), ['etag'], 'a 304: its length dropped, its ETag sealed');
  t.notOk(head.headers[0]![1].includes('"1"'), 'a 304: the real tag does not show');
  const object = { statusCode: 200, headers: [['ETag', '"9b2cf535f27731c974343645a3985328"'], ['x-amz-checksum-sha256', 'q1w2'], ['x-goog-hash', 'crc32c=n03x6A=='], ['x-ms-content-crc64', 'a1b2'], ['x-ms-blob-content-md5', 'm5=='], ['x-goog-stored-content-length', '312'], ['last-modified', 'Sun, 06 Dec 2026 12:00:00 GMT']] as Array<[string, string]> };
  scrubResponse(scrubber, object);
  t.same(object.headers.map(([n]) => n), ['ETag', 'last-modified'], 'an object\'s checksums dropped, its date kept, its ETag sealed');
  t.notOk(object.headers[0]![1].includes('9b2cf535'), 'the object\'s real tag does not show');
  t.equal(scrubResponse(scrubber, { statusCode: 200, headers: [] }, { method: 'HEAD' }).transform, undefined);
  t.equal(scrubResponse(new Scrubber([]), { statusCode: 200, headers: [] }).transform, undefined);
});

// Eighteenth pass: checksums other stores send (Artifactory, Backblaze, Alibaba OSS, Tencent COS, a
// registry's digest) and a Content-Security-Policy's hash sources are functions of the unscrubbed
// body too: the agent checks a guess put where the placeholder is against them offline.
t.test('eighteenth pass: checksum headers named by a word of their name, and CSP hash sources, are dropped; other headers stay', async (t) => {
  const hashHeaders = ['X-Checksum-Sha1', 'X-Checksum-Sha256', 'X-Checksum-Md5', 'X-Bz-Content-Sha1', 'x-oss-hash-crc64ecma', 'x-cos-hash-crc64ecma', 'Docker-Content-Digest', 'X-Content-SHA512', 'x-object-crc32c', 'X-Body-Hash'];
  await fc.assert(fc.property(fc.subarray(hashHeaders, { minLength: 1 }), fc.boolean(), (names, upper) => {
    const head = { statusCode: 200, headers: [...names.map((n) => [upper ? n.toUpperCase() : n, crypto.randomBytes(20).toString('hex')]), ['X-Request-Id', 'abc123'], ['Content-Type', 'text/plain']] as Array<[string, string]> };
    scrubResponse(scrubber, head);
    if (head.headers.map(([n]) => n).join() !== 'X-Request-Id,Content-Type') throw new Error(`kept: ${head.headers.map(([n]) => n).join()}`);
  }), { numRuns: 30 });
  const head = { statusCode: 200, headers: [['Content-Security-Policy', "default-src 'self'; script-src 'self' 'sha256-RFWPLDbv2BY+rCkDzsE+0fr8ylGr2R2faWMhq4lfEQc=' 'nonce-abc'"], ['content-security-policy-report-only', "style-src 'sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC'"]] as Array<[string, string]> };
  scrubResponse(scrubber, head);
  t.same(head.headers, [['Content-Security-Policy', "default-src 'self'; script-src 'self'  'nonce-abc'"], ['content-security-policy-report-only', 'style-src ']], 'hash sources dropped, the rest of the policy kept');
});

t.test('seventeenth pass: entity tags of a host that got a secret are sealed; a request gets the real tag back, an unissued computable one matches nothing', async (t) => {
  const { sealTags, unsealTags, UNISSUED_TAG } = await import('../../proxy/entity-tags.ts');
  const md5 = (b: string): Buffer => crypto.createHash('md5').update(b).digest();
  const sha1 = (b: string): Buffer => crypto.createHash('sha1').update(b).digest();
  // What frameworks compute from a body (the agent can too, with a guess): Express/Koa, Rack/Rails, Django, Werkzeug, Spring, nginx, Apache, a base64 MD5.
  const computed = fc.tuple(fc.string({ maxLength: 40 }), fc.boolean()).map(([body, weak]) => [
    `"${Buffer.byteLength(body).toString(16)}-${sha1(body).toString('base64').slice(0, 27)}"`, `"${md5(body).toString('hex')}"`, `"${sha1(body).toString('hex')}"`,
    `"0${md5(body).toString('hex')}"`, `"65f1a2b3-${Buffer.byteLength(body).toString(16)}"`, `"2a-5f8a1b2c3d4e5"`, `"${md5(body).toString('base64')}"`, `"${crypto.createHash('sha256').update(body).digest('base64url')}"`,
  ].map((tag) => (weak ? `W/${tag}` : tag)));
  await fc.assert(fc.property(computed, (tags) => {
    for (const tag of tags) {
      if (unsealTags(tag, true) !== UNISSUED_TAG) throw new Error(`${tag} on a write: ${unsealTags(tag, true)}`);
      if (unsealTags(tag, false) !== undefined) throw new Error(`${tag} on a read: kept`);
      const sealed = sealTags(tag);
      if (sealed.includes(tag.replace(/^W\//, '').slice(1, -1)) || unsealTags(sealed, true) !== tag || unsealTags(sealed, false) !== tag) throw new Error(`${tag}: sealed ${sealed} does not round-trip`);
    }
  }), { numRuns: 30 });
  // Opaque versions a service hands in its JSON (Graph, Cosmos DB, Azure, Google IAM) go on as they are; `*` too.
  for (const tag of ['W/"JzEtVGFzayAgQEBAQEBAQEBAQEBAQEBAWCc="', '"00000000-0000-0000-9a2c-2d4e43d701d7"', '"0x8D4BCC2E4835CD0"', '"BwWWja0YfJA="', '*']) t.equal(unsealTags(tag, true), tag, `${tag} on a write: as it is`);
  t.equal(unsealTags(`${sealTags('"abc"')}, "5f8a1b2c-1a4"`, true), `"abc", ${UNISSUED_TAG}`, 'a list: each tag on its own');
  t.equal(sealTags('"x"'), sealTags('"x"'), 'equal tags stay equal');
  const forged = sealTags('"x"').replace(/al1\.(.)/, (_m, c: string) => `al1.${c === 'A' ? 'B' : 'A'}`);
  t.equal(unsealTags(forged, true), UNISSUED_TAG, 'a sealed tag altered by the agent is no tag Airlock handed out');
});

t.test('corrupt compressed body errors the stream (never passes it through)', async (t) => {
  const { transform } = scrubResponse(scrubber, { statusCode: 200, headers: [['content-encoding', 'gzip']] });
  await t.rejects(collect(transform!, [Buffer.from('this is not gzip at all, and contains ' + SECRET)]));
});

t.test('a large body through a real pipe keeps its bytes', async (t) => {
  const big = Buffer.alloc(2 * 1024 * 1024, 'abcdefgh');
  big.write(SECRET, 1024 * 1024 - 5);
  const src = Readable.from((function* () {
    for (let i = 0; i < big.length; i += 16384) yield big.subarray(i, i + 16384);
  })());
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (d: Buffer) => parts.push(d));
  await new Promise((resolve, reject) => src.pipe(new ScrubStream(scrubber)).pipe(sink).on('finish', resolve).on('error', reject));
  const out = Buffer.concat(parts);
  t.equal(out.length, big.length - SECRET.length + PH.length);
  t.notOk(out.includes(SECRET));
});

t.test('a long secret (a 3 KiB PEM key) is scrubbed across chunk splits', async (t) => {
  const pem = `-----BEGIN PRIVATE KEY-----\n${Buffer.alloc(2200, 7).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
  const s = new Scrubber([{ value: pem, placeholder: 'airlock-ph-pem-x' }]);
  const body = Buffer.from(JSON.stringify({ key: pem, b64: Buffer.from(pem).toString('base64') }));
  // Cut every 241 bytes (97 before: ~75 scans of a 7 KiB body with a 3 KiB value's matcher, seconds of CI time); still ~30 cuts across the key and its base64.
  let bad = 0;
  for (let i = 0; i <= body.length; i += 241) {
    const out = (await collect(new ScrubStream(s), [body.subarray(0, i), body.subarray(i)])).toString();
    if (out.includes('BEGIN PRIVATE KEY') || out.includes(Buffer.from(pem).toString('base64').slice(8, 60)) || !out.includes('airlock-ph-pem-x')) bad++;
  }
  t.equal(bad, 0);
});

// Ninth pass: an answer in EBCDIC with no label (requests decodes it by itself, guessing cp037).
t.test('a secret in EBCDIC (037, 500, 273, 1026, 875) is replaced by its placeholder in the same page, at every chunk cut', async (t) => {
  const cp037 = Buffer.from('405a7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6f7cc1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e9bae0bbb06d79818283848586878889919293949596979899a2a3a4a5a6a7a8a9c04fd0a1', 'hex');
  const cp273 = Buffer.from('404f7f7b5b6c507d4d5d5c4e6b604b61f0f1f2f3f4f5f6f7f8f97a5e4c7e6e6fb5c1c2c3c4c5c6c7c8c9d1d2d3d4d5d6d7d8d9e2e3e4e5e6e7e8e963ecfc5f6d79818283848586878889919293949596979899a2a3a4a5a6a7a8a943bbdc59', 'hex');
  const enc = (text: string, page: Buffer): Buffer => Buffer.from([...text].map((c) => page[c.charCodeAt(0) - 0x20]!));
  for (const value of [SECRET, '_leading_underscore_0123', 'sk_live_51HxYzAbC']) {
    const s = new Scrubber([{ value, placeholder: PH }]);
    for (const page of [cp037, cp273]) {
      const body = enc(`{"log":"Bearer ${value}","n":1}`, page);
      const want = enc(`{"log":"Bearer ${PH}","n":1}`, page).toString('latin1');
      for (let cut = 0; cut <= body.length; cut += 3) {
        const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
        if (out !== want) t.fail(`${value} in EBCDIC cut at ${cut}: ${JSON.stringify(out)}`);
      }
    }
  }
  t.pass('replaced at every cut');
  // Fourteenth pass: the value encoded or escaped inside the EBCDIC text (hex, base64 at an odd
  // offset, JSON with `\/`, upper-cased): two layers the literal matcher did not read.
  const b = Buffer.from(SECRET);
  for (const [name, form] of [['hex', b.toString('hex')], ['base64', Buffer.concat([Buffer.from('x'), b]).toString('base64')], ['json', JSON.stringify(SECRET).slice(1, -1).replace(/\//g, '\\/')], ['upper', SECRET.toUpperCase()]] as const) {
    for (const page of [cp037, cp273]) {
      const body = enc(`{"log":"${form}","n":1}`, page);
      for (const cut of [0, 9, 17, body.length - 5]) {
        const out = (await collect(new ScrubStream(scrubber), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
        t.notOk(out.includes(enc(form.slice(4, 24), page).toString('latin1')), `${name} in EBCDIC cut at ${cut} is not passed on`);
      }
    }
  }
  // Control: a binary body with no secret passes byte for byte.
  const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff));
  t.same(await collect(new ScrubStream(scrubber), [random]), random, 'bytes without a secret pass unchanged');
});

// Fourteenth pass: forms that are exact strings in ordinary text's characters (base85 in three
// alphabets, base32 in lower case and extended hex, reversed, ROT13, ROT47) are found by sampling
// (proxy/sampled-forms.ts); a form cut anywhere across chunks is held and replaced whole, and a
// held start counts for the tripwire past the public prefix as the raw value's does.
t.test('sampled forms: base85, other base32, reversed and rotated, at any offset and any chunk cut', async (t) => {
  const b85 = (bytes: Buffer, alphabet: string): string => {
    let out = '';
    for (let i = 0; i + 4 <= bytes.length; i += 4) {
      let n = bytes.readUInt32BE(i);
      let g = '';
      for (let k = 0; k < 5; k++) {
        g = alphabet[n % 85]! + g;
        n = Math.floor(n / 85);
      }
      out += g;
    }
    return out;
  };
  const b32 = (bytes: Buffer, alphabet: string): string => {
    let bits = '';
    for (const b of bytes) bits += b.toString(2).padStart(8, '0');
    let out = '';
    for (let i = 0; i + 5 <= bits.length; i += 5) out += alphabet[parseInt(bits.slice(i, i + 5), 2)];
    return out;
  };
  const A85 = Array.from({ length: 85 }, (_, i) => String.fromCharCode(33 + i)).join('');
  const Z85 = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
  const R85 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~';
  const rot13 = (x: string): string => x.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + 13) % 26) + (c <= 'Z' ? 65 : 97)));
  const rot47 = (x: string): string => x.replace(/[!-~]/g, (c) => String.fromCharCode(33 + ((c.charCodeAt(0) - 33 + 47) % 94)));
  const whole = (v: string, alphabet: string): string => {
    const base = BigInt(alphabet.length);
    let out = '';
    for (let n = BigInt(`0x${Buffer.from(v).toString('hex')}`); n > 0n; n /= base) out = alphabet[Number(n % base)] + out;
    return out;
  };
  /** The value inside a blob of `pad` other bytes before it, encoded whole: what a service shows. */
  const shown: Record<string, (v: string, pad: number) => string> = {
    ascii85: (v, pad) => b85(Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(v), Buffer.alloc(8, 0x62)]), A85),
    z85: (v, pad) => b85(Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(v), Buffer.alloc(8, 0x62)]), Z85),
    rfc1924: (v, pad) => b85(Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(v), Buffer.alloc(8, 0x62)]), R85),
    base32lower: (v, pad) => b32(Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(v), Buffer.alloc(8, 0x62)]), 'abcdefghijklmnopqrstuvwxyz234567'),
    base32hex: (v, pad) => b32(Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(v), Buffer.alloc(8, 0x62)]), '0123456789ABCDEFGHIJKLMNOPQRSTUV'),
    // Twenty-third pass: Crockford's base32 (either case) and z-base-32.
    crockford: (v, pad) => b32(Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(v), Buffer.alloc(8, 0x62)]), '0123456789ABCDEFGHJKMNPQRSTVWXYZ'),
    crockfordLower: (v, pad) => b32(Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(v), Buffer.alloc(8, 0x62)]), '0123456789abcdefghjkmnpqrstvwxyz'),
    zbase32: (v, pad) => b32(Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(v), Buffer.alloc(8, 0x62)]), 'ybndrfg8ejkmcpqxot1uwisza345h769'),
    reversed: (v) => [...v].reverse().join(''),
    reversedUpper: (v) => [...v].reverse().join('').toUpperCase(),
    rot13: (v) => rot13(v),
    rot47: (v) => rot47(v),
    // Twenty-fourth pass: every character doubled (a terminal echoing twice: local echo on over a
    // remote one), and the value's bytes as one number in base 36, base 62 (either alphabet) or decimal.
    doubled: (v) => [...v].map((c) => c + c).join(''),
    base36: (v) => whole(v, '0123456789abcdefghijklmnopqrstuvwxyz'),
    base62: (v) => whole(v, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'),
    base62lowerFirst: (v) => whole(v, '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'),
    decimal: (v) => whole(v, '0123456789'),
  };
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const reveals = (out: string, form: string): boolean => out.includes(form.slice(0, 16));
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(shown)), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 1000 }), fc.constantFrom('{"log":"', 'x ', ''), async (name, pad, at, before) => {
    const form = shown[name]!(value, pad);
    const body = Buffer.from(`${before}${form}" and more`, 'latin1');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (reveals(out, name.startsWith('rev') || name.startsWith('rot') || name.startsWith('base36') || name.startsWith('base62') || name === 'decimal' || name === 'doubled' ? form : form.slice(5, -15))) throw new Error(`${name} (pad ${pad}) cut at ${cut} passed: ${out}`);
  }), { numRuns: 60 });
  // Control: text with no secret passes as it came at every cut.
  const plain = Buffer.from('{"items":[{"id":1,"name":"Evil_kcab reversed?","b85":"F)Po,+EV:.@;]Tu"}]}', 'latin1');
  for (let cut = 0; cut <= plain.length; cut += 5) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `plain text cut at ${cut} passes`);
  // The tripwire: ROT13 of the public prefix and one guessed character is no probe; two past it are.
  t.same(s.startsAtEnd(`x ${rot13(value.slice(0, 9))}`, 10), [], 'ROT13 of the public prefix and one character: no probe');
  t.same(s.startsAtEnd(`x ${rot13(value.slice(0, 11))}`, 10).map((r) => r.replace), [PH], 'ROT13 of two characters past it: the secret\'s start');
});

// Nineteenth pass: the value grouped from its start every 4–16 characters by `-`, `.`, `:`, `/`, `|`
// or `_` (a recovery-code or license-key layout, a viewer grouping a token to read it aloud), and
// shifted by any Caesar shift or mirrored (Atbash): exact strings no spelling matched (ROT13 alone was).
t.test('nineteenth pass: the value grouped by a mark every 4–16 characters, under any Caesar shift or Atbash, at any chunk cut; dates, addresses, versions and grouped ids pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const shift = (x: string, k: number): string => x.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + k) % 26) + (c <= 'Z' ? 65 : 97)));
  const atbash = (x: string): string => x.replace(/[a-z]/gi, (c) => String.fromCharCode((c <= 'Z' ? 155 : 219) - c.charCodeAt(0)));
  const group = (x: string, n: number, mark: string): string => x.match(new RegExp(`.{1,${n}}`, 'g'))!.join(mark);
  const form = fc.oneof(
    fc.record({ n: fc.integer({ min: 4, max: 16 }), mark: fc.constantFrom('-', '.', ':', '/', '|', '_') }).map(({ n, mark }) => ({ label: `grouped ${n} by ${mark}`, text: group(value, n, mark) })),
    fc.integer({ min: 1, max: 25 }).map((k) => ({ label: `shifted ${k}`, text: shift(value, k) })),
    fc.constant({ label: 'atbash', text: atbash(value) }),
  );
  await fc.assert(fc.asyncProperty(form, fc.constantFrom('{"code":"', 'key: ', ''), fc.integer({ min: 0, max: 2000 }), async ({ label, text }, before, at) => {
    const body = Buffer.from(`${before}${text}" and more`, 'latin1');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (out.includes(text.slice(10, 22)) || !out.includes(PH)) throw new Error(`${label} cut at ${cut} passed: ${out}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 80) });
  // Controls: grouped text of other kinds, at every cut.
  const plain = Buffer.from('{"at":"2026-12-06T23:19:00Z","ip":"fe80::1:2:3","v":"1.22.333.4444","code":"ABCD-EFGH-IJKL-MNOP","path":"/usr/local/lib","mac":"00:1a:2b:3c:4d:5e","t":"a|b|c","word":"uryyb jbeyq"}', 'latin1');
  for (let cut = 0; cut <= plain.length; cut += 3) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `grouped text cut at ${cut} passes`);
  // The tripwire: the grouped public prefix and one character is no probe; two past it are.
  t.same(s.startsAtEnd(`x ${group(value, 4, '-').slice(0, 11)}`, 10), [], 'grouped by 4: the public prefix and one character, no probe');
  t.same(s.startsAtEnd(`x ${group(value, 4, '-').slice(0, 14)}`, 10).map((r) => r.replace), [PH], 'grouped by 4: two characters past it, the secret\'s start');
});

// Sixteenth pass: the value with characters a reader does not see between its characters — zero-
// width characters, soft hyphens (UTF-8, `&shy;`, `&#173;`), `<wbr>`, their JSON escapes — which a
// browser's text, a copy or an agent's `replace()` drops: the scrubber also reads the text without
// them, where it holds one, and holds a start under way with them at a chunk's end.
t.test('sixteenth pass: fillers between the value\'s characters and styled letters NFKC reads as plain, at any spacing and any chunk cut; text with them and no secret passes byte for byte', async (t) => {
  const fillers = ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad', '&shy;', '&shy', '&#173;', '&#xAD;', '&#8203;', '&#x200b;', '&ZeroWidthSpace;', '&zwj;', '<wbr>', '<WBR/>', '\\u200b', '\\u00AD', '\\uFEFF',
    // Seventeenth pass: markup a browser shows nothing of — short tags, a comment, a CDATA end and start.
    '<span>', '</span><span>', '<b class=k>', '</i>', '<!-- -->', '<!---->', ']]><![CDATA['];
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const strip = (x: string): string => Buffer.from(x, 'latin1').toString('utf8').replace(/[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]|&(?:shy|ZeroWidthSpace|zwj|#173|#x[aA][dD]|#8203|#x200[bB]);?|<[^<>]*>|\]\]>|\\u(?:200b|00ad|feff)/gi, '');
  await fc.assert(fc.asyncProperty(fc.constantFrom(...fillers), fc.integer({ min: 1, max: 9 }), fc.constantFrom('{"log":"', '<p>', ''), fc.integer({ min: 0, max: 2000 }), async (filler, every, before, at) => {
    const spelled = [...value].map((c, i) => (i > 0 && i % every === 0 ? filler : '') + c).join('');
    const body = Buffer.from(`${before}${spelled} and more`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (strip(out).toLowerCase().includes(value.slice(8, 20).toLowerCase()) || !out.includes(PH)) throw new Error(`${JSON.stringify(filler)} every ${every} cut at ${cut} passed: ${JSON.stringify(out)}`);
  }), { numRuns: 60 });
  // Controls: fillers in ordinary text (an emoji's joiners, soft-hyphenated words, <wbr> in a URL) at every cut.
  const plain = Buffer.from('{"t":"👨\u200d👩\u200d👧 Ge\u00adschwin\u00addig\u00adkeit &shy;ok https://example.com/a<wbr>/b \\u200b zero\u200bwidth"}', 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 11) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `text with fillers cut at ${cut} passes`);
  const page = Buffer.from('<!doctype html><p>Hello <b>world</b>, <span class=x>sk_</span><i>live</i></p><!-- c --><script><![CDATA[x = a[b[0]]]]></script><a href="/x?a<b">y</a>', 'utf8');
  for (let cut = 0; cut <= page.length; cut += 13) t.same(await collect(new ScrubStream(s), [page.subarray(0, cut), page.subarray(cut)]), page, `a page with markup cut at ${cut} passes`);
  // In the head too: a header value with zero-width spaces between the characters.
  const head = { statusCode: 200, headers: [['x-debug-auth', Buffer.from([...value].join('\u200b'), 'utf8').toString('latin1')], ['content-type', 'text/plain']] as Array<[string, string]> };
  scrubResponse(s, head);
  t.equal(head.headers[0]![1], PH, 'a header value with zero-width spaces between the characters is scrubbed');
  // Served as binary (`application/octet-stream`), text is still read so; a control byte marks real binary.
  const zwText = Buffer.from(`log: ${[...value].join('\u200b')}\n`, 'utf8');
  const asBinary = (await collect(scrubResponse(s, { statusCode: 200, headers: [['content-type', 'application/octet-stream']] }).transform!, [zwText])).toString('latin1');
  t.ok(asBinary.includes(PH), 'text with fillers served as application/octet-stream is read as text');
  // Soft hyphens' two bytes amid binary data start nothing: the bytes pass as they came.
  const binary = Buffer.concat([Buffer.from([0x00, 0xc2, 0xad, 0x99]), Buffer.from(value.slice(0, 6)), Buffer.from([0xc2, 0xad, 0xff])]);
  t.same(await collect(new ScrubStream(s), [binary]), binary, 'binary bytes with a soft hyphen pass');
  // Styled letters and digits NFKC reads as plain ones (mathematical bold, italic, script, double-struck,
  // sans-serif, monospace; circled), all of the value or some characters, at any cut.
  const styled = (base: number, digits?: number) => (c: string): string => {
    const x = c.charCodeAt(0);
    if (x >= 65 && x <= 90) return String.fromCodePoint(base + x - 65);
    if (x >= 97 && x <= 122) return String.fromCodePoint(base + 26 + x - 97);
    return x >= 48 && x <= 57 && digits ? String.fromCodePoint(digits + x - 48) : c;
  };
  const circled = (c: string): string => {
    const x = c.charCodeAt(0);
    if (x >= 65 && x <= 90) return String.fromCodePoint(0x24b6 + x - 65);
    if (x >= 97 && x <= 122) return String.fromCodePoint(0x24d0 + x - 97);
    return x >= 49 && x <= 57 ? String.fromCodePoint(0x2460 + x - 49) : x === 48 ? '\u24ea' : c;
  };
  const styles = [styled(0x1d400, 0x1d7ce), styled(0x1d434), styled(0x1d49c), styled(0x1d538, 0x1d7d8), styled(0x1d5a0, 0x1d7e2), styled(0x1d670, 0x1d7f6), circled];
  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: styles.length - 1 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2000 }), async (k, every, at) => {
    const spelled = [...value].map((c, i) => (i % every === 0 ? styles[k]!(c) : c)).join('');
    const body = Buffer.from(`<p>${spelled}</p>`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (Buffer.from(out, 'latin1').toString('utf8').normalize('NFKC').includes(value.slice(8, 20))) throw new Error(`style ${k} every ${every} cut at ${cut} passed: ${out}`);
  }), { numRuns: 30 });
  const maths = Buffer.from('E = mc² and H₂O, 𝐁𝐨𝐥𝐝 ① ⓐ ™ € 🄰', 'utf8');
  t.same(await collect(new ScrubStream(s), [maths]), maths, 'styled text without the value passes');
  // The tripwire counts a start held with fillers in it as it counts the value's.
  const zw = (x: string): string => Buffer.from([...x].join('\u200b'), 'utf8').toString('latin1');
  t.same(s.startsAtEnd(`x ${zw(value.slice(0, 9))}`, 10), [], 'the public prefix and one character, with fillers: no probe');
  t.same(s.startsAtEnd(`x ${zw(value.slice(0, 11))}`, 10).map((r) => r.replace), [PH], 'two characters past it, with fillers: the secret\'s start');
});

/** Full-width, bold and circled forms of a key's letters and digits (what NFKC reads back as the key). */
const letterForms: Record<string, (c: string) => number> = {
  'full-width': (c) => c.charCodeAt(0) + 0xfee0,
  bold: (c) => {
    const x = c.charCodeAt(0);
    return x >= 97 && x <= 122 ? 0x1d41a + x - 97 : x >= 65 && x <= 90 ? 0x1d400 + x - 65 : x >= 48 && x <= 57 ? 0x1d7ce + x - 48 : x;
  },
  circled: (c) => (/[a-z]/.test(c) ? 0x24d0 + c.charCodeAt(0) - 97 : c.charCodeAt(0)),
};

/** Property: the key with every `every`-th character in a letter form, written by `writes`, after a prefix, cut anywhere, is scrubbed. */
async function lettersWrittenAreScrubbed(s: Scrubber, value: string, writes: Record<string, (cp: number) => string>, befores: string[], runs: number): Promise<void> {
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(letterForms)), fc.constantFrom(...Object.keys(writes)), fc.integer({ min: 1, max: 3 }), fc.constantFrom(...befores), fc.integer({ min: 0, max: 2000 }), async (kind, write, every, before, at) => {
    const spelled = [...value].map((c, i) => {
      const cp = letterForms[kind]!(c);
      return i % every === 0 && cp !== c.charCodeAt(0) ? writes[write]!(cp) : c;
    }).join('');
    const body = Buffer.from(`${before}${spelled} and more`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (!out.includes(PH)) throw new Error(`${kind} as ${write} every ${every} cut at ${cut} passed: ${out}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? runs) });
}

// Nineteenth pass (left open by the eighteenth): the same letters under CSS escapes (`\ff53 `, a
// page's `content:` or a stylesheet a service writes, `\01d42c`), JavaScript's `\u{ff53}` and
// Python's `\U0000ff53` (its `repr`/`unicode_escape` of a styled letter): a reader decodes them and
// NFKC reads the key. And terminal colour sequences between a key's characters (a CI log, a
// `script`/asciinema recording, Rich or chalk highlighting a token; raw, JSON's `\u001b[` in a
// recording, Python's `\x1b[` in a repr): a terminal shows the key, `strip-ansi` gives it.
t.test('nineteenth pass: full-width and styled letters as CSS, \\u{…} or \\U escapes, and colour sequences between a key\'s characters, at any chunk cut; CSS and coloured logs without it pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const hex = (cp: number): string => cp.toString(16);
  const writes: Record<string, (cp: number) => string> = {
    'css blank': (cp) => `\\${hex(cp)} `,
    'css padded': (cp) => `\\${hex(cp).padStart(6, '0')}`,
    'css upper, line feed': (cp) => `\\${hex(cp).toUpperCase()}\n`,
    'js braces': (cp) => `\\u{${hex(cp)}}`,
    'js braces padded': (cp) => `\\u{00${hex(cp).toUpperCase()}}`,
    python: (cp) => `\\U${hex(cp).padStart(8, '0')}`,
  };
  await lettersWrittenAreScrubbed(s, value, writes, ['{"shown":"', '.k::after{content:"', ''], 60);
  const colours: Record<string, [string, string]> = {
    raw: ['\x1b[31m', '\x1b[0m'], bold: ['\x1b[1;32m', '\x1b[m'], '256': ['\x1b[38;5;196m', '\x1b[39m'],
    json: ['\\u001b[33m', '\\u001b[0m'], 'JSON upper': ['\\u001B[1m', '\\u001B[22m'], python: ['\\x1b[36m', '\\x1b[0m'],
  };
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(colours)), fc.integer({ min: 1, max: 12 }), fc.boolean(), fc.constantFrom('{"stdout":"', '[ok] ', ''), fc.integer({ min: 0, max: 2000 }), async (kind, every, closed, before, at) => {
    const [on, off] = colours[kind]!;
    const spelled = [...value].map((c, i) => (i % every === 0 ? `${on}${c}${closed ? off : ''}` : c)).join('');
    const body = Buffer.from(`${before}${spelled} done`, 'latin1');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (!out.includes(PH)) throw new Error(`${kind} every ${every} cut at ${cut} passed: ${JSON.stringify(out)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60) });
  // Controls: a stylesheet with such escapes and a coloured build log (raw and as a recording's JSON), at every cut.
  const plain = Buffer.from('.q::before{content:"\\ff08\\FF09 \\01d400"}.i{content:"\\1d42c \\24d0"} a\\:hover{x:\\u{ff21}\\U0000ff22}\n'
    + '\x1b[32m✓\x1b[0m 12 passed \x1b[1;31msk_test\x1b[0m_fixture \x1b[38;5;196mERROR\x1b[39m\n[0.5, "o", "\\u001b[1mBuilding\\u001b[0m \\u001b[32mok\\u001b[0m"]\n', 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 5) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `CSS and coloured text cut at ${cut} passes`);
});

// Twentieth pass (left open by the nineteenth): what a reader skips between a key's characters,
// beyond the fillers and marks tried before — the key grouped every 1–3 characters by any mark, or
// a whole blob grouped so that the key starts inside a group; no-break and thin spaces; combining
// marks (`s̶k̶`: a "strikethrough text" generator), bidi controls, variation selectors, tag
// characters, Hangul and Mongolian fillers; a man page's overstrike (`_\bs` underline, `s\bs` bold:
// `man | col -b`, `less` and a terminal show the key); 24-bit colour (`ESC[38;2;r;g;bm`, longer
// than the 8 parameter characters read before) and other CSI sequences (erase, cursor moves).
t.test('twentieth pass: the key grouped every 1–3 characters or from before its start, or reversed and grouped, with marks, spaces, combining or invisible characters, overstrike or 24-bit colour between its characters, at any chunk cut; such text without it passes byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const marks = ['-', '.', ':', '/', '|', '_', ' ', '\u00a0', '\u2009', '\u00b7', '\u2022', '\t', ', '];
  const between: Record<string, (c: string, i: number) => string> = {
    strike: (c) => `${c}\u0336`, underline: (c) => `${c}\u0332`, acute: (c) => `${c}\u0301`, 'variation selector': (c) => `${c}\ufe0f`,
    'tag space': (c) => `${c}\u{e0020}`, 'hangul filler': (c) => `${c}\u3164`, mongolian: (c) => `${c}\u180e`,
    'bidi override': (c) => `\u202e${c}\u202c`, 'bidi isolate': (c) => `\u2066${c}\u2069`,
    'man underline': (c) => `_\b${c}`, 'man bold': (c) => `${c}\b${c}`, 'bold underline': (c) => `_\b${c}\b${c}`,
    'man bold json': (c) => `${c}\\b${c}`, 'man underline json': (c) => `_\\u0008${c}`,
    truecolor: (c, i) => `\x1b[38;2;${(i * 37) % 256};128;${255 - i}m${c}`, 'bold truecolor': (c, i) => `\x1b[1;38;2;255;${i};0m${c}\x1b[0m`,
    'truecolor json': (c, i) => `\\u001b[48;2;0;${i * 8};255m${c}`, 'colon truecolor': (c) => `\x1b[38:2::255:0:0m${c}`,
    'erase line': (c) => `\x1b[K${c}`, 'cursor forward': (c) => `${c}\x1b[0C`,
  };
  const read = (out: string): string => Buffer.from(out, 'latin1').toString('utf8').replace(/\\b|\\u0008/g, '\b').replace(/(?:\x1b|\\u001b)\[[0-9;:?]*[@-~]/g, '').replace(/[^\x08]\x08/g, '').normalize('NFKD').replace(/[^0-9A-Za-z]/g, '');
  const core = value.replace(/[^0-9A-Za-z]/g, '');
  const form = fc.oneof(
    fc.record({ n: fc.integer({ min: 1, max: 3 }), mark: fc.constantFrom(...marks), lead: fc.constantFrom('', 'a', 'ab', 'abc', 'abcd') })
      .map(({ n, mark, lead }) => ({ label: `grouped ${n} by ${JSON.stringify(mark)} after ${lead.length}`, text: `${lead}${value}xyz`.match(new RegExp(`.{1,${n}}`, 'g'))!.join(mark) })),
    // Reversed, grouped by any size and mark, case changed or not (a reader reverses it back).
    fc.record({ n: fc.integer({ min: 1, max: 16 }), mark: fc.constantFrom(...marks), upper: fc.boolean() })
      .map(({ n, mark, upper }) => ({ label: `reversed, grouped ${n} by ${JSON.stringify(mark)}${upper ? ', upper case' : ''}`, text: [...(upper ? value.toUpperCase() : value)].reverse().join('').match(new RegExp(`.{1,${n}}`, 'g'))!.join(mark) })),
    fc.record({ kind: fc.constantFrom(...Object.keys(between)), every: fc.integer({ min: 1, max: 4 }) })
      .map(({ kind, every }) => ({ label: `${kind} every ${every}`, text: [...value].map((c, i) => (i % every === 0 ? between[kind]!(c, i) : c)).join('') })),
  );
  await fc.assert(fc.asyncProperty(form, fc.constantFrom('{"log":"', 'key: ', '<p>', ''), fc.integer({ min: 0, max: 2000 }), async ({ label, text }, before, at) => {
    const body = Buffer.from(`${before}${text} done\n`, 'utf8');
    const shown = (x: string): boolean => [x, [...x].reverse().join('')].some((y) => y.toLowerCase().includes(core.slice(6, 18).toLowerCase()));
    if (!shown(read(body.toString('latin1')))) throw new Error(`${label}: the reader does not read the key`);
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (!out.includes(PH) || shown(read(out))) throw new Error(`${label} cut at ${cut} passed: ${JSON.stringify(out)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 80) });
  // Controls, at every 3rd cut: a man page's overstrike, a 24-bit coloured log, Vietnamese and
  // strikethrough text, grouped numbers and punctuation, the key's public prefix grouped.
  const plain = Buffer.from('N\bNA\bAM\bME\bE\n     _\bl_\bs - list\n\x1b[38;2;255;100;0mwarn\x1b[0m \x1b[1;38;2;0;255;0msk_live\x1b[0m_fixture \x1b[2K\x1b[1G100%\n'
    + 'Tiếng Việt có dấu; s\u0336k\u0336i\u0336p\u0336 this; \u202eabc\u202c \u2066x\u2069 ❤\ufe0f \u3164\n'
    + 'card 4242-4242-4242-4242, tel +1 (555) 010-0000, s.k._.l.i.v.e, a-b-c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r-s-t-u-v-w-x-y-z, 0.1.2.3.4.5.6.7.8.9\n', 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 3) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `such text cut at ${cut} passes`);
});

// Twenty-first pass (left open by the twentieth): a terminal's other sequences between a key's
// characters — a hyperlink around each (OSC 8: a renderer linking every character), a window title,
// DCS strings, charset and cursor-save escapes — raw, or as a recording's JSON or a repr writes
// them: a terminal shows the key and strip-ansi gives it.
t.test('twenty-first pass: the key with OSC hyperlinks, titles, DCS strings or short escapes between its characters, at any chunk cut; terminal text with them passes byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const kinds: Record<string, (c: string, url: string) => string> = {
    'osc8 st': (c, url) => `\x1b]8;;${url}\x1b\\${c}\x1b]8;;\x1b\\`, 'osc8 bel': (c, url) => `\x1b]8;;${url}\x07${c}\x1b]8;;\x07`,
    'osc8 json': (c, url) => `\\u001b]8;;${url}\\u001b\\\\${c}\\u001b]8;;\\u001b\\\\`, 'osc8 repr': (c, url) => `\\x1b]8;;${url}\\x07${c}\\x1b]8;;\\x07`,
    title: (c, url) => `\x1b]0;${url.slice(0, 12)}\x07${c}`, dcs: (c) => `\x1bP1$r0m\x1b\\${c}`, charset: (c) => `\x1b(B${c}`, 'save restore': (c) => `\x1b7${c}\x1b8`,
  };
  const read = (out: string): string => out.replace(/\\u001b|\\x1b/gi, '\x1b').replace(/\\u0007|\\x07|\\a/g, '\x07').replace(/\x1b\\\\/g, '\x1b\\')
    .replace(/\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]/g, '');
  // Twenty-second pass: links up to 125 characters (`ls --hyperlink`'s `file://host/home/…/path`),
  // not 32; the length drawn apart (fast-check's strings stay short).
  const url = fc.tuple(fc.integer({ min: 0, max: 119 }), fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789:/.-?=&'.split('')), minLength: 1, maxLength: 12 })).map(([n, p]) => `https:${p.repeat(Math.ceil(n / p.length)).slice(0, n)}`);
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(kinds)), url, fc.integer({ min: 1, max: 4 }), fc.constantFrom('{"log":"', '$ ls\r\n', ''), fc.integer({ min: 0, max: 4000 }), async (kind, link, every, before, at) => {
    const text = [...value].map((c, i) => (i % every === 0 ? kinds[kind]!(c, link) : c)).join('');
    const body = Buffer.from(`${before}${text} done\n`, 'utf8');
    if (!read(body.toString('latin1')).includes(value)) throw new Error(`${kind}: the reader does not read the key`);
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (!out.includes(PH) || read(out).includes(value.slice(6, 18))) throw new Error(`${kind} every ${every} (${link}) cut at ${cut} passed: ${JSON.stringify(out)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 80), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls, at every 3rd cut: `ls --hyperlink` output, a title, a recording's JSON, the public prefix linked.
  const plain = Buffer.from('\x1b]0;build: ok\x07\x1b]8;;file://host/home/u/a.txt\x1b\\a.txt\x1b]8;;\x1b\\  \x1b]8;;file://host/home/u/b.txt\x1b\\b.txt\x1b]8;;\x1b\\\n'
    + '\x1b(B\x1b7progress 50%\x1b8 \x1b]8;;https://docs.example/keys\x07sk_live\x1b]8;;\x07_fixture\n[1.5, "o", "\\u001b]8;;https://x.example\\u001b\\\\link\\u001b]8;;\\u001b\\\\ \\u001b(B ok"]\n', 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 3) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `terminal text cut at ${cut} passes`);
});

// Twenty-second pass (left open by the twenty-first): a terminal's colours turned into HTML a
// character at a time — aha, ansi_up, ansi-to-html, a CI page showing a lolcat'd log — put a tag of
// 20–70 characters around each character (`<span style="color:#ff0000">s</span>`); only tags of up
// to 16 were read past. A browser shows the key, and copying it gives it.
t.test('twenty-second pass: the key with a long tag around each character (ansi-to-html, aha, font colours), at any chunk cut, is replaced; pages with long tags pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const colours = ['#ff0000', '#00ff00', 'rgb(255,85,85)', 'rgb(0,187,187)', '#c4a000'];
  const kinds: Record<string, (c: string, i: number) => string> = {
    'ansi_up style': (c, i) => `<span style="color:${colours[i % 5]}">${c}</span>`,
    'aha style': (c, i) => `<span style="color:${colours[i % 5]};font-weight:bold;background-color:rgb(0,0,0);">${c}</span>`,
    'ansi_up class': (c, i) => `<span class="ansi-${['red', 'green', 'bright-blue'][i % 3]}-fg ansi-bold">${c}</span>`,
    'font colour': (c, i) => `<font color="${colours[i % 5]}">${c}</font>`,
    'link each': (c, i) => `<a href="https://gist.example/raw/${i}" target="_blank">${c}</a>`,
  };
  const read = (out: string): string => out.replace(/<[^<>]*>/g, '');
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(kinds)), fc.integer({ min: 1, max: 3 }), fc.constantFrom('<pre>', '<div class="log">$ cat .env\n', ''), fc.integer({ min: 0, max: 6000 }), async (kind, every, before, at) => {
    const text = [...value].map((c, i) => (i % every === 0 ? kinds[kind]!(c, i) : c)).join('');
    const body = Buffer.from(`${before}${text}</pre>\n`, 'utf8');
    if (!read(body.toString('latin1')).includes(value)) throw new Error(`${kind}: the reader does not read the key`);
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (!out.includes(PH) || read(out).includes(value.slice(6, 18))) throw new Error(`${kind} every ${every} cut at ${cut} passed: ${JSON.stringify(out)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls, at every 7th cut: a page of long tags (a log turned to HTML, the key's public prefix coloured).
  const plain = Buffer.from('<div class="container-fluid" data-role="page"><span style="color:#ff0000;font-weight:bold">ERROR</span> <a href="https://docs.example/errors/E1234?ref=log">E1234</a>'
    + '<span class="ansi-green-fg">sk_live</span><span class="ansi-red-fg">_fixture</span> <font color="#c4a000">w</font><font color="#00ff00">arn</font> 0<span style="color:rgb(0,187,187)">1</span>2</div>\n', 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 7) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `a page of long tags cut at ${cut} passes`);
});

// Twenty-first pass: a hex dump of the record (`xxd`, `hexdump -C`, `od`: a debug page showing the
// raw request): each line's hex spells 16 bytes, and a reader joins the lines (`xxd -r`); the text
// column and the next line's offset stood between them, so no spelling matched across lines.
t.test('twenty-first pass: the key in a hex dump (xxd, hexdump -C, od; od -c, od -t u1, hexdump, od -x, od -b) at any offset and chunk cut is not read back from its hex; dumps without it pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const tools: Record<string, string[]> = { xxd: ['xxd'], 'hexdump -C': ['hexdump', '-C'], 'od with text': ['od', '-A', 'x', '-t', 'x1z', '-v'], 'od without text': ['od', '-A', 'x', '-t', 'x1', '-v'] };
  const dump = (tool: string, bytes: Buffer): string => spawnSync(tools[tool]![0]!, tools[tool]!.slice(1), { input: bytes }).stdout.toString('latin1');
  // The reader: each line's hex (after its offset, before its text column), joined and decoded.
  const unhex = (out: string): string => Buffer.from(out.split('\n').map((l) => {
    const hex = /^[0-9a-fA-F]{6,8}:? +(.*)$/.exec(l)?.[1] ?? '';
    return (/^[0-9a-fA-F]{8}: /.test(l) ? hex.slice(0, 39) : hex.replace(/ {2}[|>].*$/, '')).replace(/\s/g, '');
  }).join('').replace(/[^0-9a-fA-F]/g, ''), 'hex').toString('latin1');
  const check = async (tool: string, pad: number, at: number): Promise<void> => {
    const text = dump(tool, Buffer.from(`${'x'.repeat(pad)}Authorization: Bearer ${value}\r\nhost: svc.example\r\n`));
    if (!unhex(text).includes(value)) throw new Error(`${tool}: the reader does not read the key`);
    const body = Buffer.from(text, 'latin1');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (unhex(out).includes(value.slice(8, 20)) || !out.includes(PH)) throw new Error(`${tool} after ${pad} cut at ${cut}: ${JSON.stringify(out)}`);
  };
  // Twenty-second pass: the cuts the lead's full run found (`od -t x1z` after 4 bytes cut at 158,
  // xxd cut at a line's end, 204), and those found here: after a line's break and the next
  // offset and a byte's first digit (xxd 147), inside the next line's text column (hexdump -C 174),
  // a held rest starting inside a word (xxd after 9 cut at 114).
  for (const [tool, pad, at] of [['od with text', 4, 158], ['xxd', 0, 204], ['xxd', 0, 147], ['xxd', 0, 205], ['hexdump -C', 0, 174], ['xxd', 8, 117], ['xxd', 9, 114]] as const) await check(tool, pad, at);
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(tools)), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 4000 }), check), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Twenty-second pass: dumps of each byte as a character (`od -c`, `hexdump -c`) or a decimal
  // (`od -t u1`), whose next line's offset stood between the key's characters; decimals read as
  // hex with a text column (`…  58  32  66`) lost what they spelled.
  // And 16-bit little-endian words (`hexdump`'s default, `od -x`, `hexdump -x`: `6b73 6c5f` for `sk_l`), octal bytes (`od -b`).
  // Twenty-second pass, follow-up: 32- and 64-bit words (`od -t x4`, `od -t x8`; `od -t x2` is `od -x`) and binary digits (`xxd -b`, its text column after).
  const others: Record<string, string[]> = { 'od -c': ['od', '-c'], 'hexdump -c': ['hexdump', '-c'], 'od -A x -c': ['od', '-A', 'x', '-c'], 'od -t u1': ['od', '-t', 'u1'], 'od -A d -t d1': ['od', '-A', 'd', '-t', 'd1'], hexdump: ['hexdump'], 'od -x': ['od', '-x'], 'hexdump -x': ['hexdump', '-x'], 'od -b': ['od', '-b'], 'hexdump -b': ['hexdump', '-b'], 'od -t x2': ['od', '-t', 'x2'], 'od -t x4': ['od', '-t', 'x4'], 'od -t x8': ['od', '-t', 'x8'], 'xxd -b': ['xxd', '-b'] };
  const escapes: Record<string, string> = { '\\r': '\r', '\\n': '\n', '': ' ' };
  // A word's bytes, least significant first; a binary byte.
  const swapped = (w: string): string => (w.match(/../g) ?? []).reverse().join('');
  const undump = (tool: string, out: string): string => (tool === 'xxd -b'
    ? Buffer.from(out.split('\n').flatMap((l) => (/^[0-9a-f]{8}: ((?:[01]{8} )+)/.exec(l)?.[1] ?? '').trim().split(' ').filter(Boolean).map((b) => parseInt(b, 2)))).toString('latin1')
    : /^od -t x[48]$/.test(tool) ? Buffer.from(out.split('\n').map((l) => l.slice(7).trim().split(/ +/).filter(Boolean).map(swapped).join('')).join(''), 'hex').toString('latin1')
      : undumpBytes(tool, out));
  const undumpBytes = (tool: string, out: string): string => out.split('\n').map((l) => l.slice(7)).map((l) => (tool.endsWith('c')
    ? (l.match(/.{1,4}/g) ?? []).map((f) => escapes[f.trim()] ?? f.trim()).join('')
    : /^hexdump( -x)?$|^od -(x|t x2)$/.test(tool) ? l.trim().split(/ +/).filter(Boolean).map((w) => `${w.slice(2, 4)}${w.slice(0, 2)}`).join('').replace(/[^0-9a-f]/g, '').replace(/^(..)*$/, (h) => Buffer.from(h, 'hex').toString('latin1'))
      : Buffer.from(l.trim().split(/ +/).filter(Boolean).map((x) => parseInt(x, tool.endsWith('-b') ? 8 : 10))).toString('latin1'))).join('');
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(others)), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 4000 }), async (tool, pad, at) => {
    const text = spawnSync(others[tool]![0]!, others[tool]!.slice(1), { input: Buffer.from(`${'x'.repeat(pad)}Authorization: Bearer ${value}\r\nhost: svc.example\r\n`) }).stdout.toString('latin1');
    if (!undump(tool, text).includes(value)) throw new Error(`${tool}: the reader does not read the key`);
    const body = Buffer.from(text, 'latin1');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (undump(tool, out).includes(value.slice(8, 20))) throw new Error(`${tool} after ${pad} cut at ${cut}: ${JSON.stringify(out)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 40), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls: dumps of other bytes, at every 5th cut.
  for (const tool of [...Object.keys(tools), ...Object.keys(others)]) {
    const argv = tools[tool] ?? others[tool]!;
    const plain = Buffer.from(spawnSync(argv[0]!, argv.slice(1), { input: Buffer.from('GET /v1/charges HTTP/1.1\r\nauthorization: Bearer sk_test_fixture_0000\r\n\r\n\x00\x01\x02binary') }).stdout.toString('latin1'), 'latin1');
    for (let cut = 0; cut <= plain.length; cut += 5) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `${tool} of other bytes cut at ${cut} passes`);
  }
});

// Twenty-second pass, follow-up: spellings real tools and servers write that no pattern read — a
// JSON string inside a JSON string (`\\u0073`, a log's or an API gateway's record of a body) or
// three levels deep, a template escaping a reference again (`&amp;#115;`), Unicode notation
// (`U+0073 U+006B`, ICU's `U+0073U+006B`), and a character as a database writes it back in a query
// (`CHAR(115)+CHAR(107)`, `CHR(115)||CHR(107)`, `CONCAT(CHAR(115),…)`, `NCHAR(115)`).
/** International Morse code as a Python dict `M` (the suite's producer: a table written out, as such tools carry it). */
const MORSE_PY = `M = dict(zip('abcdefghijklmnopqrstuvwxyz0123456789_/+=&', '.- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- ...- .-- -..- -.-- --.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----. ..--.- -..-. .-.-. -...- .-...'.split()))`;

/** The NATO alphabet as a Python dict `W`. */
const NATO_PY = `W = dict(zip('abcdefghijklmnopqrstuvwxyz0123456789', 'Alfa Bravo Charlie Delta Echo Foxtrot Golf Hotel India Juliett Kilo Lima Mike November Oscar Papa Quebec Romeo Sierra Tango Uniform Victor Whiskey X-ray Yankee Zulu Zero One Two Three Four Five Six Seven Eight Nine'.split()))\nW['_'] = 'Underscore'`;

/**
 * Twenty-eighth pass: the key spelt out — by Unicode names (Python's and Perl's `\\N{…}`, any case; Perl's
 * `\\N{U+73}`; in a JSON string too), in Morse code (blanks, ` / ` or `|` between; upper-cased first; a
 * character Morse has no code for `?`), in the NATO alphabet (the case said before a capital or by the
 * word's case, or not at all) — written by Python, all in one run (`out`: name → form).
 */
const SPELT_OUT = ['Python \\N{name}', 'Python \\N{name} lower, in JSON', 'Perl \\N{U+…}', "Morse ' ' lower", "Morse ' / ' upper", "Morse ' | ' upper", "Morse '  ' lower", 'NATO words', 'NATO capital', 'NATO word case, dashes', 'NATO commas, lines'];
const SPELT_PY = `import unicodedata
${MORSE_PY}
${NATO_PY}
name = lambda c: '\\\\N{%s}' % unicodedata.name(c) if unicodedata.name(c, '') else c
out = dict(zip(${JSON.stringify(SPELT_OUT)}, [
  ''.join(name(c) for c in v),
  json.dumps(''.join('\\\\N{%s}' % unicodedata.name(c).lower() if unicodedata.name(c, '') else c for c in v))[1:-1],
  ''.join('\\\\N{U+%X}' % ord(c) for c in v),
  ' '.join(M.get(c.lower(), '?') for c in v.lower()),
  ' / '.join(M.get(c.lower(), '?') for c in v.upper()),
  ' | '.join(M.get(c.lower(), '?') for c in v.upper()),
  '  '.join(M.get(c.lower(), '?') for c in v.lower()),
  ' '.join(W.get(c.lower(), c) for c in v),
  ' '.join(('capital ' if c.isupper() else '') + W.get(c.lower(), c) for c in v),
  ' - '.join(W.get(c.lower(), c).upper() if c.isupper() else W.get(c.lower(), c).lower() for c in v),
  ',\\n'.join(W.get(c.lower(), '?') for c in v),
]))
print(json.dumps(out))`;

t.test('twenty-second pass (follow-up): the key JSON-escaped twice or three times, a reference escaped again, in Unicode notation or as SQL CHAR()/CHR() calls (twenty-seventh: VB, BASIC, Excel, PHP and Ruby calls, Java\'s \\uuu; twenty-eighth: Python\'s and Perl\'s \\N{…}, Morse code, the NATO alphabet), at any two chunk cuts, is replaced; such text without it passes byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const py = (code: string, arg: string): string => {
    const r = spawnSync('python3', ['-c', `import json, sys\nv = sys.argv[1]\n${code}`, arg]);
    if (r.status !== 0) throw new Error(r.stderr.toString());
    return r.stdout.toString('latin1').replace(/\n$/, '');
  };
  // Twenty-eighth pass: every spelt-out form of a value from one Python run (a run each cost ~1 s of the file's CPU).
  const speltCache = new Map<string, Record<string, string>>();
  const spelt = (v: string): Record<string, string> => {
    let got = speltCache.get(v);
    if (!got) speltCache.set(v, (got = JSON.parse(py(SPELT_PY, v)) as Record<string, string>));
    return got;
  };
  // The producers: Python's json (ensure_ascii escapes of each character, dumped again), html, ICU's uconv.
  const producers: Record<string, (v: string) => string> = {
    'json twice': (v) => py("print(json.dumps(''.join('\\\\u%04x' % ord(c) for c in v))[1:-1])", v),
    'json three times': (v) => py("print(json.dumps(json.dumps(''.join('\\\\u%04x' % ord(c) for c in v)))[1:-1])", v),
    'json twice, \\x': (v) => py("print(json.dumps(''.join('\\\\x%02x' % ord(c) for c in v))[1:-1])", v),
    'json twice, every other': (v) => py("print(json.dumps(''.join('\\\\u%04x' % ord(c) if i % 2 else c for i, c in enumerate(v)))[1:-1])", v),
    'html escaped again': (v) => py("import html\nprint(html.escape(''.join('&#%d;' % ord(c) for c in v)))", v),
    'U+ spaced': (v) => py("print(' '.join('U+%04X' % ord(c) for c in v))", v),
    'U+ commas': (v) => py("print(', '.join('U+%04X' % ord(c) for c in v))", v),
    'uconv any-hex/unicode': (v) => spawnSync('uconv', ['-x', 'any-hex/unicode'], { input: v }).stdout.toString('latin1'),
    'SQL Server CHAR()+': (v) => py("print('+'.join('CHAR(%d)' % ord(c) for c in v))", v),
    'SQL Server NCHAR() + ': (v) => py("print(' + '.join('NCHAR(%d)' % ord(c) for c in v))", v),
    'Oracle CHR()||': (v) => py("print('||'.join('CHR(%d)' % ord(c) for c in v))", v),
    'PostgreSQL chr() || ': (v) => py("print(' || '.join('chr(%d)' % ord(c) for c in v))", v),
    'MySQL CONCAT(CHAR(),…)': (v) => py("print('CONCAT(' + ','.join('CHAR(%d)' % ord(c) for c in v) + ')')", v),
    // Twenty-seventh pass: the call as other languages write and join it, and Java's escape with several `u`s.
    'VB Chr() & ChrW()': (v) => py("print(' & '.join(('ChrW(%d)' if i % 2 else 'Chr(%d)') % ord(c) for i, c in enumerate(v)))", v),
    'BASIC CHR$()+': (v) => py("print('+'.join('CHR$(%d)' % ord(c) for c in v))", v),
    'Excel =CHAR()&': (v) => py("print('=' + '&'.join('CHAR(%d)' % ord(c) for c in v))", v),
    'PHP chr().': (v) => py("print('.'.join('chr(%d)' % ord(c) for c in v))", v),
    'Ruby 115.chr + ': (v) => py("print(' + '.join('%d.chr' % ord(c) for c in v))", v),
    'Java \\uuu': (v) => py("print(''.join('\\\\' + 'u' * (2 + i % 3) + '%04x' % ord(c) for i, c in enumerate(v)))", v),
    // Twenty-eighth pass: a character by its Unicode name (Python's and Perl's `\N{…}`, any case; Perl's
    // `\N{U+73}`; in a JSON string too), and the value in Morse code (a code a character; blanks, ` / `
    // or `|` between; upper-cased first; a character Morse has no code for left out or `?`).
    ...Object.fromEntries(SPELT_OUT.map((name) => [name, (v: string) => spelt(v)[name]!])),
  };
  const shown = Object.fromEntries(Object.entries(producers).map(([k, f]) => [k, f(value)]));
  const befores = ['{"log":"', "SELECT * FROM t WHERE k = ", 'x '];
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(shown)), fc.constantFrom(...befores), fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 4000 }), async (name, before, a, b) => {
    const form = shown[name]!;
    const body = Buffer.from(`${before}${form}" and more`, 'latin1');
    const [c1, c2] = [a % (body.length + 1), b % (body.length + 1)].sort((x, y) => x - y);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, c1), body.subarray(c1, c2), body.subarray(c2)])).toString('latin1');
    const middle = form.slice(Math.floor(form.length / 2) - 12, Math.floor(form.length / 2) + 12);
    if (out.includes(middle) || !out.includes(PH)) throw new Error(`${name} cut at ${c1}, ${c2} passed: ${out.slice(0, 240)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls: the same producers over other text (a query's line break, a snowman, an escaped log line), at every 29th cut.
  const other = 'GET /v1/charges?limit=10 \u2603 CR LF\r\n';
  // (The spelt-out producers over a short text only, and the texts below: their forms of `other` are kilobytes, and every cut reads the whole body.)
  const plain = Buffer.from(`{"logs":[${Object.entries(producers).filter(([k]) => !SPELT_OUT.includes(k)).map(([, f]) => JSON.stringify(f(other))).join(',')},${JSON.stringify(SPELT_OUT.map((k) => spelt('GET /v1')[k]).join(' '))}],"py":"dash = '\\\\N{EM DASH}\\\\N{latin small letter e with acute}'","morse":"... --- ... / .... . .-.. .-.. --- / .-- --- .-. .-.. -..","rule":"- - - . . . - - - | -- -- -- . . .","nato":"Alpha and Bravo teams met at the Hotel India in Lima, Sierra Leone: call sign Kilo Echo Zero One, capital Delta","q":"SELECT CHAR(13)+CHAR(10), CHR(65)||CHR(66)","u":"U+2603 SNOWMAN, U+1F600","e":"\\\\u00e9\\\\n","vb":"s = \\"a\\" & Chr(13) & Chr(10) & ChrW(8364)","xl":"=A1&CHAR(10)&B1","php":"$nl = chr(13).chr(10);","rb":"10.chr + 13.chr","java":"char e = '\\\\uuu00e9';","sh":"n=$(1+2)"}`, 'latin1');
  for (let cut = 0; cut <= plain.length; cut += 29) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `other text cut at ${cut} passes`);
});

// Twenty-third pass (left open by the twenty-second): the key as a bare bit string — `basenc
// --base2msbf` (wrapped at 76 columns, so a line break falls between a byte's two halves, or not
// wrapped), Python's `''.join(f'{b:08b}')`, grouped by nibbles (`0111 0011 …`) or bytes with no
// offsets: only `xxd -b`'s blank-separated bytes were a spelling.
t.test('twenty-third pass: the key as a bare bit string (basenc --base2msbf, wrapped or not; nibbles grouped) at any two chunk cuts is replaced; such text without it passes byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const basenc = (v: string, ...args: string[]): string => spawnSync('basenc', ['--base2msbf', ...args], { input: v }).stdout.toString('latin1').replace(/\n$/, '');
  const py = (code: string, arg: string): string => spawnSync('python3', ['-c', `import sys\nv = sys.argv[1].encode()\n${code}`, arg]).stdout.toString('latin1').replace(/\n$/, '');
  const producers: Record<string, (v: string) => string> = {
    'basenc --base2msbf': (v) => basenc(v),
    'basenc --base2msbf -w0': (v) => basenc(v, '-w0'),
    'basenc --base2msbf -w 64': (v) => basenc(v, '-w', '64'),
    'python bits': (v) => py("print(''.join(f'{b:08b}' for b in v))", v),
    'python nibbles': (v) => py("b = ''.join(f'{b:08b}' for b in v)\nprint(' '.join(b[i:i + 4] for i in range(0, len(b), 4)))", v),
    'python nibbles CRLF every 8 bytes': (v) => py("b = ''.join(f'{b:08b}' for b in v)\nprint('\\r\\n'.join(' '.join(b[j:j + 4] for j in range(i, min(i + 64, len(b)), 4)) for i in range(0, len(b), 64)))", v),
    'python bytes by tabs': (v) => py("print('\\t'.join(f'{b:08b}' for b in v))", v),
  };
  const shown = Object.fromEntries(Object.entries(producers).map(([k, f]) => [k, f(value)]));
  for (const [k, v] of Object.entries(shown)) t.ok(/^[01][01 \t\r\n]+$/.test(v) && v.length >= value.length * 8, `${k} wrote bits`);
  const befores = ['{"bits":"', 'key: ', ''];
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(shown)), fc.constantFrom(...befores), fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 4000 }), async (name, before, a, b) => {
    const form = shown[name]!;
    const body = Buffer.from(`${before}${form}" and more`, 'latin1');
    const [c1, c2] = [a % (body.length + 1), b % (body.length + 1)].sort((x, y) => x - y);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, c1), body.subarray(c1, c2), body.subarray(c2)])).toString('latin1');
    const bits = out.replace(/[^01]/g, '');
    const key = Buffer.from(value).subarray(4, 20);
    const hidden = [...key].map((x) => x.toString(2).padStart(8, '0')).join('');
    if (bits.includes(hidden) || !out.includes(PH)) throw new Error(`${name} cut at ${c1}, ${c2} passed: ${out.slice(0, 240)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls: the same producers over other text, bit fields and flags in JSON, at every 53rd cut.
  const other = 'GET /v1/charges?limit=10 and some other words';
  const plain = Buffer.from(`{"bits":[${Object.values(producers).map((f) => JSON.stringify(f(other))).join(',')}],"mask":"0000000011111111","flags":1010101010101010,"ids":[10,11,100,101]}`, 'latin1');
  for (let cut = 0; cut <= plain.length; cut += 53) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `other text cut at ${cut} passes`);
});

// Twenty-third pass (left open by the twenty-second): a key in pieces shorter than a run (12
// characters), each the value of a parameter of one name in the head — a Link per piece with its
// `title`, Server-Timing metrics' `desc`, a Location's repeated query parameter, numbered cookie
// attributes, Warning texts, in one header or several — which a client reads by name and joins.
t.test('twenty-third pass: a key in pieces a parameter each (Link titles, Server-Timing descriptions, a repeated query parameter, numbered attributes, Warning texts, filename continuations, encoded-words, cookie names) is refused; ordinary heads pass unchanged', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const piecesOf = (n: number): string[] => value.match(new RegExp(`.{1,${n}}`, 'g'))!;
  const placements: Record<string, (p: string[]) => Array<[string, string]>> = {
    'link titles': (p) => [['link', p.map((x, i) => `</page/${i}>; rel="item"; title="${x}"`).join(', ')]],
    'link titles, a header each': (p) => p.map((x, i) => ['link', `</page/${i}>; rel="item"; title="${x}"`]),
    'server-timing desc': (p) => [['server-timing', p.map((x, i) => `m${i};dur=1.5;desc="${x}"`).join(', ')]],
    'location repeated query': (p) => [['location', `https://svc.example/next?x=1&a=${p.join('&a=')}`]],
    'numbered cookie attributes': (p) => p.map((x, i) => ['set-cookie', `sess=1; Path=/; p${p.length - 1 - i}=${x}`]),
    'warning texts': (p) => [['warning', p.map((x) => `199 - "${x}"`).join(', ')]],
    'www-authenticate params, numbered': (p) => [['www-authenticate', `Bearer realm="api", ${p.map((x, i) => `hint_${i}="${x}"`).join(', ')}`]],
    // RFC 2231 continuations (a MIME reader joins `filename*0*`, `filename*1*` and decodes them), RFC 2047 encoded-words side by side, cookie names.
    'filename continuations, percent-encoded': (p) => [['content-disposition', `attachment; ${p.map((x, i) => `filename*${i}*=${i ? '' : "UTF-8''"}${[...Buffer.from(x)].map((b) => `%${b.toString(16)}`).join('')}`).join('; ')}`]],
    'encoded-words side by side': (p) => [['x-subject', p.map((x, i) => (i % 2 ? `=?UTF-8?Q?${[...Buffer.from(x)].map((b) => `=${b.toString(16).toUpperCase()}`).join('')}?=` : `=?utf-8?B?${Buffer.from(x).toString('base64')}?=`)).join(' ')]],
    'cookie names': (p) => p.map((x, i) => ['set-cookie', `${x}=${i}; Path=/`]),
  };
  fc.assert(fc.property(fc.constantFrom(...Object.keys(placements)), fc.integer({ min: 4, max: 11 }), (name, n) => {
    const head = { statusCode: 200, headers: placements[name]!(piecesOf(n)) };
    let refused = false;
    try {
      scrubResponse(s, head);
    } catch {
      refused = true;
    }
    // Twenty-ninth pass: a run of encoded-words is read as its decoder joins it wherever it is (proxy/encoded-words.ts): the run is the placeholder.
    if (!refused && !(name === 'encoded-words side by side' && head.headers[0]![1] === PH)) throw new Error(`${name} in pieces of ${n} passed: ${JSON.stringify(head.headers)}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls: ordinary heads of many parameters pass unchanged; the key whole in one parameter is its placeholder.
  const ordinary: Array<[string, string]> = [
    ['link', '</a?page=2>; rel="next"; title="Next page", </a?page=9>; rel="last"; title="Last page", </style.css>; rel=preload; as=style'],
    ['server-timing', 'db;dur=53;desc="Database", app;dur=47.2;desc="App", cache;desc="HIT"'],
    ['set-cookie', 'a=1; Path=/; Domain=svc.example; Secure'], ['set-cookie', 'b=2; Path=/; Max-Age=60; SameSite=Lax'],
    ['location', 'https://svc.example/x?id=1&id=2&id=3&tag=sk_&tag=live'],
    ['warning', '199 - "sk_live_ keys" , 299 - "Deprecated"'],
    ['content-disposition', "attachment; filename=\"r.csv\"; filename*=UTF-8''r.csv"],
    ['x-subject', '=?utf-8?Q?Hello?= =?utf-8?B?IFdvcmxk?= =?UTF-8?Q?_sk=5Flive?='],
    ['set-cookie', 'sk_=1; Path=/'], ['set-cookie', 'live=2'],
  ];
  const head = { statusCode: 200, headers: ordinary.map(([a, b]) => [a, b] as [string, string]) };
  scrubResponse(s, head);
  t.same(head.headers, ordinary, 'ordinary heads pass unchanged');
  const whole = { statusCode: 200, headers: [['link', `</a?t=${value}>; rel="next"; title="${value}", </b>; rel="prev"; title="x"`]] as Array<[string, string]> };
  scrubResponse(s, whole);
  t.equal(whole.headers[0]![1], `</a?t=${PH}>; rel="next"; title="${PH}", </b>; rel="prev"; title="x"`, 'the key whole in parameters is replaced, not refused');
});

// Twentieth pass (left open by the nineteenth): the key cut short — a request inspector that
// truncates a header value at a width (`Bearer sk_live_51HxYzAbCdEf0…`), a page or a log showing a
// key's start past its public prefix and half the rest — passed wherever no chunk ended inside it.
t.test('twentieth pass: the key cut short past its public prefix and half the rest, in a body at any cut or a header, is replaced; the key whole is one match; shorter starts pass', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const least = 8 + Math.ceil((value.length - 8) / 2);
  await fc.assert(fc.asyncProperty(fc.integer({ min: least, max: value.length - 1 }), fc.constantFrom('…', '...', '"', ' (truncated)', ''), fc.constantFrom('{"authorization":"Bearer ', 'key: ', ''), fc.integer({ min: 0, max: 2000 }), async (n, marker, before, at) => {
    const body = Buffer.from(`${before}${value.slice(0, n)}${marker}`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('utf8');
    if (out !== `${before}${PH}${marker}`) throw new Error(`cut short at ${n}, chunk cut at ${cut}: ${out}`);
    const head = { statusCode: 200, headers: [['x-seen-authorization', `Bearer ${value.slice(0, n)}${marker}`]] as Array<[string, string]> };
    scrubResponse(s, head);
    if (head.headers[0]![1] !== `Bearer ${PH}${marker}`) throw new Error(`cut short at ${n} in a header: ${head.headers[0]![1]}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60) });
  // Controls: the key whole at every cut is one placeholder; a start shorter than that passes; a
  // short value (a password) is never matched cut short.
  const whole = Buffer.from(`a ${value} b ${value}`);
  for (let cut = 0; cut <= whole.length; cut++) t.equal((await collect(new ScrubStream(s), [whole.subarray(0, cut), whole.subarray(cut)])).toString(), `a ${PH} b ${PH}`, `the key whole, cut at ${cut}: one match each`);
  const shorter = Buffer.from(`{"shown":"${value.slice(0, least - 1)}…"}`);
  t.same(await collect(new ScrubStream(s), [shorter]), shorter, 'a start one shorter passes');
  const password = new Scrubber([{ value: 'correct-horse-b4', placeholder: PH }]);
  t.equal(password.scrubString('correct-horse is a phrase'), 'correct-horse is a phrase', 'a short value is not matched cut short');
  // The tripwire: a held start past that length is still a start (the next piece may prove none),
  // not the key completed; a start proved none trips as before, one cut short and let out does not.
  t.same(s.startsAtEnd(`x ${value.slice(0, least + 3)}`, 10).map((r) => r.replace), [PH], 'a start cut short is still a start to the tripwire');
  t.same(s.startsAtEnd(`x ${value}`, 10), [], 'the key whole is no start');
});

// Twenty-first pass (left open by the twentieth): the key's end without its start — a page showing
// `…NNEL_CANARY_0123…`, a log column keeping a value's end, a service dropping a key's public
// prefix (which leaves the whole secret). Any run of half the rest (12 to 24 bytes) is replaced.
t.test('twenty-first pass: a run of the key past its public prefix, half the rest or longer, anywhere and at any cut, is replaced; shorter runs pass and are no probe', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const least = Math.max(12, Math.ceil((value.length - 8) / 2)); // half the rest, at least 12
  const runs = (text: string): string | undefined => Array.from({ length: value.length - 8 - least + 1 }, (_, i) => value.slice(8 + i, 8 + i + least)).find((r) => text.includes(r));
  await fc.assert(fc.asyncProperty(fc.integer({ min: 8, max: value.length - least }), fc.integer({ min: least, max: value.length - 8 }), fc.constantFrom('…', '...', '"', ''), fc.constantFrom('{"authorization":"Bearer ', 'key: ', ''), fc.integer({ min: 0, max: 2000 }), async (from, n, marker, before, at) => {
    const shown = value.slice(from, Math.min(value.length, from + n));
    if (shown.length < least) return;
    const body = Buffer.from(`${before}${marker}${shown}${marker}`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('utf8');
    if (runs(out) || !out.includes(PH)) throw new Error(`${shown} (from ${from}), chunk cut at ${cut}: ${out}`);
    const head = { statusCode: 200, headers: [['x-seen', `${marker}${shown}`]] as Array<[string, string]> };
    scrubResponse(s, head);
    if (runs(head.headers[0]![1])) throw new Error(`${shown} in a header: ${head.headers[0]![1]}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls: a run one shorter passes; the key whole is one placeholder; a held run is no probe.
  const shorter = Buffer.from(`{"shown":"…${value.slice(-(least - 1))}"}`);
  t.same(await collect(new ScrubStream(s), [shorter]), shorter, 'a run one shorter passes');
  t.equal(s.scrubString(`a ${value} b`), `a ${PH} b`, 'the key whole: one placeholder');
  t.equal(s.scrubString(value.slice(8)), PH.repeat(Math.floor((value.length - 8) / least)) + value.slice(8 + least * Math.floor((value.length - 8) / least)), 'the key without its prefix: windows of it replaced, less than a window left');
  t.same(s.startsAtEnd(`x ${value.slice(10, 10 + least - 1)}`, 10), [], 'a run held at a chunk\'s end is no start of the key to the tripwire');
});

// Twentieth pass: Greek and Cyrillic letters drawn as Latin ones in place of some of a key's
// letters (`ѕk_lіvе_51НхYz…`): a person, a screenshot's reader or an agent reads the key; NFKC
// keeps them, so no fold read them. And modifier and subscript letters (`ˢᵏ_ˡⁱᵛᵉ`, a "superscript
// text" generator), which NFKC reads as plain ones, outside the ranges folded before.
t.test('twentieth pass: the key with Greek or Cyrillic look-alikes or modifier letters for any of its letters, at any chunk cut; Greek, Russian, IPA and mixed text passes byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const looks: Record<string, string[]> = {
    s: ['ѕ', 'ˢ', 'ₛ'], i: ['і', 'ⁱ', 'ᵢ'], e: ['е', 'ᵉ', 'ₑ'], x: ['х', 'ˣ', 'ₓ'], l: ['ӏ', 'ˡ', 'ₗ'], H: ['Н', 'Η', 'ᴴ'], Y: ['Ү', 'Υ'], z: ['ᶻ'], A: ['А', 'Α', 'ᴬ'], b: ['ᵇ'], C: ['С'], d: ['ԁ', 'ᵈ'], E: ['Е', 'Ε', 'ᴱ'], f: ['ᶠ'], k: ['ᵏ', 'ₖ'], v: ['ν', 'ᵛ', 'ᵥ'],
  };
  // Look-alikes and modifier letters each alone: a run of look-alikes beside modifier letters only (`ѕᵏ`) is left open.
  const cyrillicOrGreek = (c: string): boolean => c.charCodeAt(0) >= 0x370 && c.charCodeAt(0) < 0x530;
  const skeleton = (x: string): string => {
    const back = new Map(Object.entries(looks).flatMap(([plain, ls]) => ls.map((l) => [l, plain] as [string, string])));
    return [...x].map((c) => back.get(c) ?? c).join('');
  };
  await fc.assert(fc.asyncProperty(fc.array(fc.boolean(), { minLength: value.length, maxLength: value.length }), fc.nat(), fc.constantFrom('{"key":"', 'key: ', '<td>', ''), fc.integer({ min: 0, max: 2000 }), async (swap, pick, before, at) => {
    const kind = pick % 2 === 0;
    const spelled = [...value].map((c, i) => {
      const ls = (looks[c] ?? []).filter((l) => cyrillicOrGreek(l) === kind);
      return swap[i] && ls.length ? ls[pick % ls.length]! : c;
    }).join('');
    const body = Buffer.from(`${before}${spelled} ok`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (skeleton(Buffer.from(out, 'latin1').toString('utf8')).includes(value.slice(6, 18)) || !out.includes(PH)) throw new Error(`${spelled} cut at ${cut} passed: ${Buffer.from(out, 'latin1').toString('utf8')}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 80) });
  const plain = Buffer.from('{"ru":"Съешь же ещё этих мягких французских булок, да выпей чаю. Windows 10 и macOS, iPhone-а, USB-С, 5кг","el":"Καλημέρα κόσμε, Α1 και Β2, Ω3, ΑΒΓ_τεστ, CO2 και H2O","ipa":"/ˈfəʊnˌiːm/ kʰæt, 10ᵗʰ, Xₙ₊₁, Tiếng Việt"}', 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 3) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `Greek and Russian text cut at ${cut} passes`);
});

// Twenty-fourth pass: alphabets that carry each ASCII character at an offset a reader subtracts —
// Unicode tag characters (U+E0000 + the character: "ASCII smuggling", invisible on a page, read by a
// language model), Braille dots of a byte (U+2800 + the byte: hexyl's braille table), negative
// circled and squared capitals (🅐, 🅰: NFKC keeps them) — raw or as `json.dumps` escapes them.
t.test('twenty-fourth pass: the key in tag characters, Braille dots of its bytes or negative circled or squared capitals, raw or JSON-escaped, whole or in part, at any chunk cut; Braille text, flags and emoji pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const alphabets: Record<string, { to: (c: string) => string | undefined; back: (cp: number) => string | undefined }> = {
    tags: { to: (c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0)), back: (cp) => (cp >= 0xe0021 && cp <= 0xe007e ? String.fromCharCode(cp - 0xe0000) : undefined) },
    braille: { to: (c) => String.fromCodePoint(0x2800 + c.charCodeAt(0)), back: (cp) => (cp >= 0x2821 && cp <= 0x287e ? String.fromCharCode(cp - 0x2800) : undefined) },
    'negative circled': { to: (c) => (/[a-z]/i.test(c) ? String.fromCodePoint(0x1f150 + c.toUpperCase().charCodeAt(0) - 65) : undefined), back: (cp) => (cp >= 0x1f150 && cp <= 0x1f169 ? String.fromCharCode(cp - 0x1f150 + 65) : undefined) },
    'negative squared': { to: (c) => (/[a-z]/i.test(c) ? String.fromCodePoint(0x1f170 + c.toUpperCase().charCodeAt(0) - 65) : undefined), back: (cp) => (cp >= 0x1f170 && cp <= 0x1f189 ? String.fromCharCode(cp - 0x1f170 + 65) : undefined) },
  };
  // What a reader of the output gets: escapes decoded, each alphabet's characters taken back.
  const read = (out: string): string => {
    const text = Buffer.from(out, 'latin1').toString('utf8').replace(/(?:\\u[0-9a-fA-F]{4})+/g, (m) => JSON.parse(`"${m}"`));
    return [...text].map((ch) => Object.values(alphabets).map((a) => a.back(ch.codePointAt(0)!)).find((x) => x !== undefined) ?? ch).join('').toUpperCase();
  };
  const escaped = (x: string): string => [...x].map((ch) => [...Array(ch.length).keys()].map((k) => `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`).join('')).join('');
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(alphabets)), fc.boolean(), fc.integer({ min: 1, max: 3 }), fc.constantFrom('{"shown":"', '<p>', ''), fc.integer({ min: 0, max: 2000 }), async (name, json, every, before, at) => {
    const spelled = [...value].map((c, i) => {
      const x = i % every === 0 ? alphabets[name]!.to(c) : undefined;
      return x === undefined ? c : json ? escaped(x) : x;
    }).join('');
    const body = Buffer.from(`${before}${spelled} and more`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (read(out).includes(value.slice(6, 18).toUpperCase()) || !out.includes(PH)) throw new Error(`${name}${json ? ' as JSON' : ''} every ${every} cut at ${cut} passed: ${Buffer.from(out, 'latin1').toString('utf8')}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 20) });
  // Controls: English Braille, a subdivision flag (tag characters), emoji and Braille spinners, raw and escaped, at every 3rd cut.
  const plain = Buffer.from(`{"braille":"⠠⠓⠑⠇⠇⠕ ⠺⠕⠗⠇⠙ ⠼⠁⠃⠉","flag":"🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁥󠁮󠁧󠁿","spin":"⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ loading","x":"🅰🅱 blood types, 🅿 parking","esc":${JSON.stringify('⡀⣿ 🏴󠁧󠁢󠁷󠁬󠁳󠁿').replace(/[^\x00-\x7f]/g, (m) => `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`)}}`, 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 7) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `Braille, flags and emoji cut at ${cut} pass`);
});

// Twenty-fourth pass: a page localized by the agent's `Accept-Language` that writes every digit in
// its script (Persian and Arabic sites, Hindi, Thai): the key's digits read back as `۵۱`, `५१`; Python's
// `int()`, `unicodedata.digit` and a person read them.
t.test('twenty-fourth pass: a key\'s digits in another script (Persian, Arabic-Indic, Devanagari, Bengali, Thai, Khmer), raw or JSON-escaped, at any chunk cut; localized pages with numbers pass byte for byte', async (t) => {
  const s = new Scrubber(['sk_live_51HxYzAbCdEf0123456789', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'].map((value) => ({ value, placeholder: PH })));
  const zeros: Record<string, number> = { persian: 0x6f0, arabic: 0x660, devanagari: 0x966, bengali: 0x9e6, thai: 0xe50, khmer: 0x17e0 };
  const back = (x: string): string => x.replace(/\p{Nd}/gu, (d) => String((d.codePointAt(0)! - Object.values(zeros).find((z) => d.codePointAt(0)! >= z && d.codePointAt(0)! <= z + 9)!) || 0));
  await fc.assert(fc.asyncProperty(fc.constantFrom('sk_live_51HxYzAbCdEf0123456789', 'ghp_16C7e42F292c6912E7710c838347Ae178B4a'), fc.constantFrom(...Object.keys(zeros)), fc.boolean(), fc.constantFrom('{"shown":"', '<td>', ''), fc.integer({ min: 0, max: 2000 }), async (value, script, json, before, at) => {
    const spelled = value.replace(/[0-9]/g, (d) => {
      const x = String.fromCodePoint(zeros[script]! + Number(d));
      return json ? `\\u${x.charCodeAt(0).toString(16).padStart(4, '0')}` : x;
    });
    const body = Buffer.from(`${before}${spelled} and more`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    const read = back(Buffer.from(out, 'latin1').toString('utf8').replace(/(?:\\u[0-9a-fA-F]{4})+/g, (m) => JSON.parse(`"${m}"`)));
    if (read.includes(value.slice(8, 20)) || !out.includes(PH)) throw new Error(`${script}${json ? ' as JSON' : ''} cut at ${cut} passed: ${Buffer.from(out, 'latin1').toString('utf8')}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 20) });
  const plain = Buffer.from(`{"fa":"قیمت ۱۲۵۰۰ تومان، کد ABC۱۲۳ و ۱۴۰۳/۰۹/۱۶","ar":"السعر ١٢٥ ريال","hi":"मूल्य ₹१२५, कोड x१२३","th":"ราคา ๑๒๕ บาท","esc":${JSON.stringify('کد ۱۲۳ ok٤٥').replace(/[^\x00-\x7f]/g, (m) => `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`)}}`, 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 7) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `localized page cut at ${cut} passes`);
});

// Twenty-fifth pass (left open by the twenty-fourth): regional indicator symbols (🇸🇰: a chat's
// "emojify" bot, a zero-width space between them so no two make a flag; raw, JSON-escaped or as
// references), a key of digits and marks only in another script's digits (a grouped PIN or account
// number: no ASCII character beside its digits), the key reversed and ROT13'd, Atbash'd or shifted
// (`rev | tr`; ROT13's and Atbash's in either case): at any chunk cut.
t.test('twenty-fifth pass: regional indicators, a digits-only key in another script, the key reversed under ROT13/Atbash/a shift, at any chunk cut; flags and localized dates pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const pins = ['4417-1234-5678-9113', '5501.2203.9981.4', '8842/1190/3316'];
  const s = new Scrubber([value, ...pins].map((v) => ({ value: v, placeholder: PH })));
  const ri = (c: string): string | undefined => (/[a-z]/i.test(c) ? String.fromCodePoint(0x1f1e6 + c.toUpperCase().charCodeAt(0) - 65) : undefined);
  const writes: Record<string, (x: string) => string> = {
    raw: (x) => x,
    json: (x) => [...x].map((ch) => (ch.codePointAt(0)! < 0x80 ? ch : [...Array(ch.length).keys()].map((k) => `\\u${ch.charCodeAt(k).toString(16).padStart(4, '0')}`).join(''))).join(''),
    hex: (x) => [...x].map((ch) => (ch.codePointAt(0)! < 0x80 ? ch : `&#x${ch.codePointAt(0)!.toString(16).toUpperCase()};`)).join(''),
    decimal: (x) => [...x].map((ch) => (ch.codePointAt(0)! < 0x80 ? ch : `&#${ch.codePointAt(0)!};`)).join(''),
  };
  const zeros = [0x6f0, 0x660, 0x966, 0x9e6, 0xe50, 0x17e0];
  const rot = (x: string, k: number): string => x.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + k) % 26) + (c <= 'Z' ? 65 : 97)));
  const atbash = (x: string): string => x.replace(/[a-z]/gi, (c) => String.fromCharCode((c <= 'Z' ? 155 : 219) - c.charCodeAt(0)));
  const reversed = [...value].reverse().join('');
  const kinds = fc.oneof(
    fc.record({ write: fc.constantFrom(...Object.keys(writes)), zwsp: fc.boolean(), every: fc.integer({ min: 1, max: 2 }) }).map(({ write, zwsp, every }) => ({
      how: `regional indicators ${write}${zwsp ? ' with zero-width spaces' : ''} every ${every}`, secret: value,
      text: writes[write]!([...value].map((c, i) => (i % every === 0 && ri(c) ? ri(c)! + (zwsp ? '\u200b' : '') : c)).join('')),
    })),
    fc.record({ zero: fc.constantFrom(...zeros), pin: fc.constantFrom(...pins), json: fc.boolean() }).map(({ zero, pin, json }) => ({
      how: `digits-only key ${pin} in the script of U+${zero.toString(16)}${json ? ' as JSON' : ''}`, secret: pin,
      text: pin.replace(/[0-9]/g, (d) => (json ? `\\u${(zero + Number(d)).toString(16).padStart(4, '0')}` : String.fromCodePoint(zero + Number(d)))),
    })),
    fc.record({ k: fc.integer({ min: 0, max: 26 }), cased: fc.constantFrom('as is', 'upper', 'lower') }).map(({ k, cased }) => {
      const x = k === 26 ? atbash(reversed) : rot(reversed, k);
      return { how: `reversed, ${k === 26 ? 'Atbash' : `shift ${k}`}, ${k !== 0 && k !== 13 && k !== 26 ? 'as is' : cased}`, secret: value, text: k !== 0 && k !== 13 && k !== 26 ? x : cased === 'upper' ? x.toUpperCase() : cased === 'lower' ? x.toLowerCase() : x };
    }),
  );
  // What a reader gets back: escapes and references decoded, the indicators and digits read as ASCII, each cipher undone.
  const read = (out: string): string => {
    const text = Buffer.from(out, 'latin1').toString('utf8').replace(/(?:\\u[0-9a-fA-F]{4})+/g, (m) => JSON.parse(`"${m}"`)).replace(/&#(x?)([0-9a-fA-F]+);/gi, (_, x: string, n: string) => String.fromCodePoint(parseInt(n, x ? 16 : 10)));
    return [...text].map((ch) => {
      const cp = ch.codePointAt(0)!;
      if (cp >= 0x1f1e6 && cp <= 0x1f1ff) return String.fromCharCode(cp - 0x1f1e6 + 65);
      const zero = zeros.find((z) => cp >= z && cp <= z + 9);
      return zero === undefined ? (cp === 0x200b ? '' : ch) : String(cp - zero);
    }).join('');
  };
  const readable = (out: string, secret: string): boolean => {
    const text = read(out).toLowerCase();
    const forms = [secret, ...(secret === value ? [...Array(26).keys()].map((k) => rot(reversed, k)).concat(atbash(reversed)) : [])].map((f) => f.toLowerCase());
    const core = (f: string): string[] => [f.slice(4, 16), [...f].reverse().join('').slice(4, 16)];
    return forms.some((f) => core(f).some((c) => text.includes(c)) || (pins.includes(secret) && text.replace(/[^0-9]/g, '').includes(f.replace(/[^0-9]/g, '').slice(1, 12))));
  };
  await fc.assert(fc.asyncProperty(kinds, fc.constantFrom('{"shown":"', '<td>', 'PIN: '), fc.integer({ min: 0, max: 2000 }), async ({ how, secret, text }, before, at) => {
    const body = Buffer.from(`${before}${text} and more`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (!readable(body.toString('latin1'), secret)) throw new Error(`${how}: the oracle does not read the body`);
    if (readable(out, secret) || !out.includes(PH)) throw new Error(`${how} cut at ${cut} passed: ${Buffer.from(out, 'latin1').toString('utf8')}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 30) });
  // Controls: flags side by side and apart (raw, escaped, references), a Persian page's dates, times, prices and phone number.
  const flags = '🇺🇸🇬🇧🇫🇷🇩🇪🇯🇵 🇮🇳 🇧🇷🇨🇦';
  const plain = Buffer.from(`{"flags":"${flags}","esc":${JSON.stringify(flags).replace(/[^\x00-\x7f]/g, (m) => `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`)},"ref":"&#x1F1FA;&#x1F1F8; &#127468;&#127463;","fa":"تاریخ ۱۴۰۳/۰۹/۱۶ ساعت ۱۲:۳۰، تلفن ۰۹۱۲-۳۴۵-۶۷۸۹، قیمت ۱۲.۵۰۰ و ۱,۲۵۰","hi":"दिनांक १६/०९/२०२४"}`, 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 7) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `flags and localized dates cut at ${cut} pass`);
});

// Twenty-sixth pass: the Caesar shifts (and Atbash) lower- or upper-cased or over digits, forward or
// reversed (only ROT13 and Atbash were cased, only reversed); the rest of the Enclosed
// Alphanumerics a "fancy text" generator writes (⒮, 🄢, ⑸, ⒌, 🄆, ⓹, ❺, ➄, ➎, ⓿), raw or
// JSON-escaped; octal escapes without a leading zero (`\65`), mixed per character with the other
// escape families a C, Python or JavaScript string holds.
t.test('twenty-sixth pass: Caesar shifts in any letter case or over digits, enclosed alphanumerics, small capitals, unpadded octal escapes mixed with others, the bytes as a list of binary or octal numbers, at any chunk cut; numbered lists, modes and other numbers pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const shift = (x: string, k: number): string => x.replace(/[a-z]/gi, (c) => String.fromCharCode(((c.toLowerCase().charCodeAt(0) - 97 + k) % 26) + (c <= 'Z' ? 65 : 97)));
  const atbash = (x: string): string => x.replace(/[a-z]/gi, (c) => String.fromCharCode((c <= 'Z' ? 155 : 219) - c.charCodeAt(0)));
  const reversed = [...value].reverse().join('');
  // [first code point, last, the ASCII character of the first]
  const enclosed: Array<[number, number, number]> = [[0x249c, 0x24b5, 0x61], [0x1f110, 0x1f129, 0x41], [0x2474, 0x247c, 0x31], [0x2488, 0x2490, 0x31], [0x1f101, 0x1f10a, 0x30], [0x24f5, 0x24fd, 0x31], [0x2776, 0x277e, 0x31], [0x2780, 0x2788, 0x31], [0x278a, 0x2792, 0x31]];
  const enclose = (c: string, alphabets: Array<[number, number, number]>): string => {
    for (const [a, b, to] of alphabets) if (c.charCodeAt(0) >= to && c.charCodeAt(0) <= to + b - a) return String.fromCodePoint(a + c.charCodeAt(0) - to);
    return c;
  };
  const jsonEscaped = (x: string): string => JSON.stringify(x).slice(1, -1).replace(/[^\x00-\x7f]/g, (m) => `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const escapes = [(b: number) => `\\${b.toString(8)}`, (b: number) => `\\x${b.toString(16)}`, (b: number) => `\\u${b.toString(16).padStart(4, '0')}`, (b: number) => `&#${b};`, (b: number) => String.fromCharCode(b)];
  const kinds = fc.oneof(
    fc.record({ k: fc.integer({ min: 1, max: 26 }), cased: fc.constantFrom('lower', 'upper'), back: fc.boolean() }).map(({ k, cased, back }) => {
      const x = k === 26 ? atbash(back ? reversed : value) : shift(back ? reversed : value, k);
      return { how: `${back ? 'reversed, ' : ''}${k === 26 ? 'Atbash' : `shift ${k}`}, ${cased}`, text: cased === 'lower' ? x.toLowerCase() : x.toUpperCase() };
    }),
    fc.record({ picks: fc.array(fc.integer({ min: 0, max: enclosed.length - 1 }), { minLength: 1, maxLength: 4 }), json: fc.boolean(), every: fc.integer({ min: 1, max: 2 }) }).map(({ picks, json, every }) => {
      const alphabets = picks.map((i) => enclosed[i]!);
      const text = [...value].map((c, i) => (i % every === 0 ? enclose(c, alphabets) : c)).join('');
      return { how: `enclosed ${picks.join(',')} every ${every}${json ? ' as JSON' : ''}`, text: json ? jsonEscaped(text) : text };
    }),
    fc.array(fc.integer({ min: 0, max: escapes.length - 1 }), { minLength: value.length, maxLength: value.length }).map((picks) => ({
      how: `escapes ${picks.join('')}`, text: [...value].map((c, i) => escapes[i % 3 === 0 ? 0 : picks[i]!]!(c.charCodeAt(0))).join(''),
    })),
    fc.record({ every: fc.integer({ min: 1, max: 3 }), json: fc.boolean(), modifier: fc.boolean() }).map(({ every, json, modifier }) => {
      // Small capitals, or modifier letters (ˢᵏ: twentieth pass), raw or as Python's json.dumps escapes them.
      const text = [...value].map((c, i) => (i % every === 0 ? (modifier ? modifiers[c] : smallCaps[c]) ?? c : c)).join('');
      return { how: `${modifier ? 'modifier letters' : 'small capitals'} every ${every}${json ? ' as JSON' : ''}`, text: json ? jsonEscaped(text) : text };
    }),
    // Digits rotated too: CyberChef's ROT13 with "rotate numbers" (by the same amount mod 10), ROT18, ROT5.
    fc.record({ k: fc.integer({ min: 1, max: 27 }), back: fc.boolean() }).map(({ k, back }) => {
      // 1–25: letters and digits by k; 26: ROT18 (ROT13 and ROT5); 27: ROT5 alone.
      const [letters, d] = k === 26 ? [13, 5] : k === 27 ? [0, 5] : [k, k];
      const x = shift(back ? reversed : value, letters).replace(/[0-9]/g, (c) => String((Number(c) + d) % 10));
      return { how: `${back ? 'reversed, ' : ''}letters by ${letters}, digits by ${d}`, text: x };
    }),
  );
  const modifiers: Record<string, string> = { s: 'ˢ', k: 'ᵏ', l: 'ˡ', i: 'ⁱ', v: 'ᵛ', e: 'ᵉ', x: 'ˣ', y: 'ʸ', z: 'ᶻ', a: 'ᵃ', b: 'ᵇ', c: 'ᶜ', d: 'ᵈ', f: 'ᶠ', h: 'ʰ', H: 'ᴴ', Y: 'ʸ', A: 'ᴬ', C: 'ᶜ', E: 'ᴱ' };
  const smallCaps: Record<string, string> = Object.fromEntries([...'abcdefghijklmnopqrstuvwyz'].map((c, i) => [c, [...'ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘǫʀꜱᴛᴜᴠᴡʏᴢ'][i]!]));
  // What a reader gets back: escapes and references undone, enclosed characters read as ASCII, every shift and case undone.
  const read = (out: string): string => {
    const text = Buffer.from(out, 'latin1').toString('utf8')
      .replace(/\\u([0-9a-fA-F]{4})|\\x([0-9a-fA-F]{2})|\\([0-7]{1,3})|&#([0-9]+);/g, (_, u?: string, x?: string, o?: string, d?: string) => String.fromCharCode(u ? parseInt(u, 16) : x ? parseInt(x, 16) : o ? parseInt(o, 8) : Number(d)))
      .replace(/[\ud800-\udbff][\udc00-\udfff]|[^\x00-\x7f]/g, (m) => enclose2(m)).normalize('NFKC');
    return text.toLowerCase();
  };
  const enclose2 = (m: string): string => {
    const cp = m.codePointAt(0)!;
    const small = Object.entries(smallCaps).find(([, look]) => look === m);
    if (small) return small[0];
    for (const [a, b, to] of [...enclosed, [0x24ff, 0x24ff, 0x30] as [number, number, number]]) if (cp >= a && cp <= b) return String.fromCharCode(to + cp - a);
    return m;
  };
  const readable = (out: string): boolean => {
    const text = read(out);
    const forms = [value, reversed, ...[...Array(25).keys()].flatMap((k) => [shift(value, k + 1), shift(reversed, k + 1)]), atbash(value), atbash(reversed)].map((f) => f.toLowerCase());
    // Digits read under every rotation too (a reader tries them as it tries the letters' shifts).
    const spun = [...Array(10).keys()].map((d) => text.replace(/[0-9]/g, (c) => String((Number(c) + d) % 10)));
    return forms.some((f) => spun.some((t) => t.includes(f.slice(9, 21))));
  };
  await fc.assert(fc.asyncProperty(kinds, fc.constantFrom('{"shown":"', '<td>', 'key = "'), fc.integer({ min: 0, max: 2000 }), async ({ how, text }, before, at) => {
    const body = Buffer.from(`${before}${text} and more`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (!readable(body.toString('latin1'))) throw new Error(`${how}: the oracle does not read the body`);
    if (readable(out) || !out.includes(PH)) throw new Error(`${how} cut at ${cut} passed: ${Buffer.from(out, 'latin1').toString('utf8')}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 40) });
  // Controls: numbered lists in enclosed digits and letters, raw and escaped; C and Python text with octal escapes; shouted and swap-cased prose.
  const plain = Buffer.from(`{"steps":"⑴ open ⑵ save ⒈ one ⒉ two ❶ ❷ ➊ ➋ ⒜ first ⒝ second 🄐 🄑 🄁 🄂","esc":${jsonEscaped('"⑴ open ⑵ save ⒜ ⒝ ❶ ❷"')},"c":"printf(\\"\\101\\102\\n\\0\\65\\"); path\\\\62\\\\x","shout":"THE QUICK BROWN FOX 51 TIMES","swap":"tHE qUICK bROWN fOX","ipa":${jsonEscaped('ˈfɔnətɪk ʀ ɢ ʟ ᴀʙᴄ ˢᵘᵖ x₁ ᵏᵉʸ_ᵛᵃˡᵘᵉ')},"caps":"ꜱᴍᴀʟʟ ᴄᴀᴘꜱ 51"}`, 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 7) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `numbered lists and escaped text cut at ${cut} pass`);
  // A run of the key (past its public prefix, half the rest or longer: a log column, a truncated
  // view) shown in regional indicators, small capitals or enclosed letters: read in one case, it
  // matched no window of the key's mixed case (left open by the twenty-fifth pass).
  const ri = (c: string): string => (/[a-z]/i.test(c) ? `${String.fromCodePoint(0x1f1e6 + c.toUpperCase().charCodeAt(0) - 65)}\u200b` : c);
  const styles: Record<string, (c: string) => string> = { regional: ri, 'small capitals': (c) => smallCaps[c.toLowerCase()] ?? c, enclosed: (c) => enclose(c, enclosed) };
  const rest = value.length - 8;
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(styles)), fc.integer({ min: Math.ceil(rest / 2) + 1, max: rest }), fc.nat(), fc.integer({ min: 0, max: 2000 }), async (style, length, from, at) => {
    const start = 8 + (from % (rest - length + 1));
    const run = value.slice(start, start + length);
    const body = Buffer.from(`{"tail":"…${[...run].map(styles[style]!).join('')}","n":1}`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    const back = [...Buffer.from(out, 'latin1').toString('utf8').replaceAll(PH, ' ').replace(/\u200b/g, '')].map((c) => {
      const cp = c.codePointAt(0)!;
      return cp >= 0x1f1e6 && cp <= 0x1f1ff ? String.fromCharCode(cp - 0x1f1e6 + 97) : enclose2(c);
    }).join('').toLowerCase();
    const least = Math.ceil(rest / 2);
    const shown = Array.from({ length: value.length - least + 1 }, (_, i) => value.slice(i, i + least).toLowerCase()).find((w) => back.includes(w));
    if (shown !== undefined || !out.includes(PH)) throw new Error(`a run of ${length} from ${start} in ${style} cut at ${cut} passed: ${back}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 30) });
  // The bytes as a list of binary or octal numbers as a language writes them: Python's bin()/oct(),
  // JavaScript's toString(2), C's 0163, padded or not, quoted or not, blanks or commas between.
  const bytes = [...Buffer.from(value)];
  const lists = fc.record({
    base: fc.constantFrom('bin()', 'toString(2)', '08b', '#010b', 'oct()', "'0' + toString(8)"), sep: fc.constantFrom(' ', ', ', ',', '\n'), quote: fc.constantFrom('', "'", '"'),
  }).map(({ base, sep, quote }) => {
    const one = (b: number): string => ({ 'bin()': `0b${b.toString(2)}`, 'toString(2)': b.toString(2), '08b': b.toString(2).padStart(8, '0'), '#010b': `0b${b.toString(2).padStart(8, '0')}`, 'oct()': `0o${b.toString(8)}`, "'0' + toString(8)": `0${b.toString(8)}` })[base]!;
    return { how: `${base} sep ${JSON.stringify(sep)} quote ${quote}`, text: `[${bytes.map((b) => quote + one(b) + quote).join(sep)}]`, middle: bytes.slice(9, 21).map((b) => quote + one(b) + quote).join(sep) };
  });
  await fc.assert(fc.asyncProperty(lists, fc.integer({ min: 0, max: 2000 }), async ({ how, text, middle }, at) => {
    const body = Buffer.from(`{"bytes":${JSON.stringify(text)}} and more`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (out.includes(JSON.stringify(middle).slice(1, -1)) || !out.includes(PH)) throw new Error(`${how} cut at ${cut} passed: ${out}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 30) });
  // Controls: lists of other numbers, binary flags and octal file modes.
  const numbers = Buffer.from(JSON.stringify({ bits: [...Buffer.from('not the key at all, 0123')].map((b) => `0b${b.toString(2)}`), modes: ['0755', '0644', '0o600', '0700'], flags: '1010101 1100110 0111001', ids: [115, 107, 95] }), 'utf8');
  for (let cut = 0; cut <= numbers.length; cut += 9) t.same(await collect(new ScrubStream(s), [numbers.subarray(0, cut), numbers.subarray(cut)]), numbers, `lists of other numbers cut at ${cut} pass`);
});

// Twenty-sixth pass: a key with `/`, `+`, `=` or `&` (an AWS secret access key) as a serializer
// writes it into a text — PHP's json_encode (`\/`: php-jwt's claims), Go's and Rails' JSON
// (`\u0026`), a query string or form (`%2F`, `%2f`, `+`), HTML-escaped — and that text in base64
// (standard or URL-safe, padded or not: a JWT, a signed cookie, an OAuth `state`) or hex: the
// agent decodes it and reads the key; only base64 of the key's own bytes was matched.
t.test('twenty-sixth pass: a key escaped by a serializer (PHP or Go JSON, a query, a form, HTML) inside base64, base64url or hex, at any chunk cut; tokens of other claims pass byte for byte', async (t) => {
  const values = ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AKIAx+Secret/Value==9f3kQ8Lm2', 'tok_live_8f3K&x9<q>Lm2Zp7Rw4Yt'];
  const s = new Scrubber(values.map((value) => ({ value, placeholder: PH })));
  const serialize: Record<string, (claims: Record<string, string>) => string> = {
    'php json_encode': (c) => JSON.stringify(c).replace(/\//g, '\\/'),
    'go json': (c) => JSON.stringify(c).replace(/[<>&]/g, (m) => `\\u00${m.charCodeAt(0).toString(16)}`),
    query: (c) => new URLSearchParams(c).toString().replace(/%20/g, '+'),
    'query lower hex': (c) => Object.entries(c).map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())}`).join('&'),
    'python quote': (c) => Object.entries(c).map(([k, v]) => `${k}=${encodeURIComponent(v).replace(/%2F/g, '/')}`).join('&'),
    html: (c) => Object.entries(c).map(([k, v]) => `<p data-k="${k}">${v.replace(/[&<>"']/g, (m) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[m]!)}</p>`).join(''),
  };
  const wrap: Record<string, (text: string) => string> = {
    jwt: (x) => `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${Buffer.from(x).toString('base64url')}.c2lnbmF0dXJl`,
    base64: (x) => Buffer.from(x).toString('base64'),
    'base64 wrapped': (x) => Buffer.from(x).toString('base64').replace(/.{76}/g, '$&\n'),
    hex: (x) => Buffer.from(x).toString('hex'),
  };
  const decoded = (blob: string, how: string): string => (how === 'hex' ? Buffer.from(blob, 'hex') : how === 'jwt' ? Buffer.from(blob.split('.')[1] ?? '', 'base64url') : Buffer.from(blob.replace(/\n/g, ''), 'base64')).toString('latin1');
  await fc.assert(fc.asyncProperty(fc.constantFrom(...values), fc.constantFrom(...Object.keys(serialize)), fc.constantFrom(...Object.keys(wrap)), fc.string({ maxLength: 5 }), fc.integer({ min: 0, max: 3000 }), async (value, how, outer, pad, at) => {
    const claims = { sub: `u${pad}`, key: value, iat: '1700000000' };
    const text = serialize[how]!(claims);
    const blob = wrap[outer]!(text);
    // A wrapped blob as a PEM-like block of text (a line break the reading view reads past), others in JSON.
    const wrapped = outer === 'base64 wrapped';
    const body = Buffer.from(wrapped ? `-----BEGIN SESSION-----\n${blob}\n-----END SESSION-----\n` : `{"session":"${blob}","ok":true}`, 'utf8');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    const unscrubbed = decoded(blob, outer);
    if (!unscrubbed.includes(text.slice(text.indexOf('key') + 4, text.indexOf('key') + 20))) throw new Error(`${how} in ${outer}: the oracle does not read the body`);
    // What the agent decodes from what it got: no piece of the key's escaped text past its first 8 characters.
    const left = out.replace(/airlock-ph-[a-z]+-[0-9a-f]+/g, '');
    const back = decoded(wrapped ? left.split('-----')[2]!.trim() : (JSON.parse(left) as { session: string }).session, outer);
    const escaped = serialize[how]!({ key: value });
    const core = escaped.slice(escaped.indexOf(value.slice(0, 4)) + 8, escaped.indexOf(value.slice(0, 4)) + 20);
    if (back.includes(core) || !out.includes(PH)) throw new Error(`${how} in ${outer} cut at ${cut} passed: ${back}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 40) });
  // Controls: tokens whose claims hold other values with the same characters, whole and cut.
  const other = Buffer.from(JSON.stringify({ a: wrap.jwt!(serialize['php json_encode']!({ url: 'https://example.com/a/b?c=1&d=2', k: 'wJalrXUtnFEMI/Other/Value' })), b: wrap.base64!(serialize.query!({ next: '/home/x+y=z', k: 'AKIAx+Other/Value==' })), c: wrap.hex!(serialize.html!({ t: 'a & b < c' })) }), 'utf8');
  for (let cut = 0; cut <= other.length; cut += 11) t.same(await collect(new ScrubStream(s), [other.subarray(0, cut), other.subarray(cut)]), other, `tokens of other claims cut at ${cut} pass`);
});

// Twenty-seventh pass: the bytes in the base64 alphabets of crypt, bcrypt, xxencode and BinHex 4.0,
// in crypt's little-endian packing (SHA-crypt's `b64_from_24bit`, phpass, passlib's `h64`) and in
// Base45 (RFC 9285), inside a larger blob at any byte offset; and the key as a document format
// escapes it, any subset of its characters so: RTF's `\'hh` and `\uN?` (line breaks and groups
// between, the document inside a JSON string too), TeX's `^^hh`, `\char N`, `\char"HH`, `\symbol{N}`.
t.test('twenty-seventh pass: a key in crypt, bcrypt, xxencode, BinHex, h64 or Base45 at any offset, or escaped by RTF or TeX in any mix, at any chunk cut, is replaced; hashes, QR payloads and documents without it pass byte for byte', async (t) => {
  const values = ['sk_live_51Hx9Qz/Rt+Vb7Kp2Wm4Ns8Ld', 'ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8', 'xoxb-2048-Zq8&Lm<3>Tn9%Yw=Pk'];
  const s = new Scrubber(values.map((value) => ({ value, placeholder: PH })));
  const STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const alphabets: Record<string, string> = {
    crypt: './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    bcrypt: './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789',
    xxencode: '+-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
    binhex: '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr',
  };
  const B45 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:';
  const h64 = (b: Buffer): string => {
    let out = '';
    for (let i = 0; i + 3 <= b.length; i += 3) for (let v = b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16), k = 0; k < 4; k++, v >>= 6) out += alphabets.crypt![v & 63];
    return out;
  };
  const base45 = (b: Buffer): string => {
    let out = '';
    for (let i = 0; i + 2 <= b.length; i += 2) {
      const n = b[i]! * 256 + b[i + 1]!;
      out += B45[n % 45]! + B45[Math.floor(n / 45) % 45]! + B45[Math.floor(n / 2025)]!;
    }
    return out;
  };
  const encode: Record<string, (b: Buffer) => string> = {
    ...Object.fromEntries(Object.entries(alphabets).map(([name, a]) => [name, (b: Buffer) => b.toString('base64').replace(/=+$/, '').replace(/./g, (c) => a[STD.indexOf(c)]!)])),
    h64, base45,
    // The earlier forms' alphabets hold marks a serializer escapes (`"`, `\\`, `/`, `&`, `<`) too.
    ascii85: (b: Buffer) => ascii85(b).slice(0, -2).replace(/\n/g, ''),
  };
  // Decoders at every alignment (what an agent makes of what it got).
  const decode: Record<string, (x: string) => string> = {
    ...Object.fromEntries(Object.entries(alphabets).map(([name, a]) => [name, (x: string) => Array.from({ length: 4 }, (_, k) => Buffer.from([...x.slice(k)].map((c) => STD[a.indexOf(c)] ?? '').join(''), 'base64').toString('latin1')).join('\n')])),
    h64: (x) => Array.from({ length: 4 }, (_, k) => {
      const six = [...x.slice(k)].map((c) => alphabets.crypt!.indexOf(c));
      const out: number[] = [];
      for (let i = 0; i + 4 <= six.length; i += 4) {
        const v = six[i]! | (six[i + 1]! << 6) | (six[i + 2]! << 12) | (six[i + 3]! << 18);
        out.push(v & 255, (v >> 8) & 255, (v >> 16) & 255);
      }
      return Buffer.from(out).toString('latin1');
    }).join('\n'),
    ascii85: (x) => Array.from({ length: 5 }, (_, k) => fromAscii85(x.slice(k).replace(/[^!-u]/g, '')).toString('latin1')).join('\n'),
    base45: (x) => Array.from({ length: 3 }, (_, k) => {
      const d = [...x.slice(k)].map((c) => B45.indexOf(c));
      const out: number[] = [];
      for (let i = 0; i + 3 <= d.length; i += 3) {
        const n = d[i]! + d[i + 1]! * 45 + d[i + 2]! * 2025;
        if (n >= 0 && n < 65536) out.push(n >> 8, n & 255);
      }
      return Buffer.from(out).toString('latin1');
    }).join('\n'),
  };
  const rtfRead = (x: string): string => x.replace(/\\\\/g, '\\').replace(/\\r\\n|[\r\n{}]/g, '').replace(/\\'([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\u(\d+) ?\??/g, (_, n: string) => String.fromCharCode(Number(n)));
  const texRead = (x: string): string => x.replace(/\^\^([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\char"([0-9A-F]+) ?/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\\char(\d+) ?/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/\\symbol\{(\d+)\}/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/\\([^A-Za-z0-9])/g, '$1');
  const rtfEscapes = [(c: string) => `\\'${c.charCodeAt(0).toString(16).padStart(2, '0')}`, (c: string) => `\\'${c.charCodeAt(0).toString(16).toUpperCase()}`, (c: string) => `\\u${c.charCodeAt(0)}?`, (c: string) => `\\u${c.charCodeAt(0)} ?`, (c: string) => c];
  const texEscapes = [(c: string) => `^^${c.charCodeAt(0).toString(16).padStart(2, '0')}`, (c: string) => `\\char${c.charCodeAt(0)} `, (c: string) => `\\char"${c.charCodeAt(0).toString(16).toUpperCase()} `, (c: string) => `\\symbol{${c.charCodeAt(0)}}`, (c: string) => (/[A-Za-z0-9]/.test(c) ? c : `\\${c}`)];
  // Written into a JSON string (PHP's `\/` too) or HTML text, as a serializer writes it.
  const writers: Record<string, [(x: string) => string, (x: string) => string]> = {
    json: [(x) => `{"hash":${JSON.stringify(x)}}`, (x) => x.slice(9, -2).replace(/\\(["\\/])/g, '$1')],
    php: [(x) => `{"hash":${JSON.stringify(x).replace(/\//g, '\\/')}}`, (x) => x.slice(9, -2).replace(/\\(["\\/])/g, '$1')],
    html: [(x) => `<td>${x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')}</td>`, (x) => x.slice(4, -5).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&')],
  };
  const binary = fc.record({ how: fc.constantFrom(...Object.keys(encode)), writer: fc.constantFrom(...Object.keys(writers)), before: fc.uint8Array({ maxLength: 5 }), after: fc.uint8Array({ maxLength: 4 }) }).map(({ how, writer, before, after }) => ({
    how: `${how} in ${writer}`, doc: (v: string) => writers[writer]![0](encode[how]!(Buffer.concat([Buffer.from(before), Buffer.from(v), Buffer.from(after)]))), read: (x: string) => decode[how]!(writers[writer]![1](x)),
  }));
  const escaped = fc.record({ how: fc.constantFrom('rtf', 'rtf-json', 'tex'), picks: fc.array(fc.nat(), { minLength: 64, maxLength: 64 }), breakAt: fc.nat() }).map(({ how, picks, breakAt }) => ({
    how,
    doc: (v: string) => {
      const escapes = how === 'tex' ? texEscapes : rtfEscapes;
      // Each character in any of the escapes (at least every other one escaped); in RTF a line break or a group somewhere between (TeX reads a line break as a blank).
      const parts = [...v].map((c, i) => escapes[(picks[i]! % (i % 2 ? escapes.length : escapes.length - 1))]!(c));
      const at = 1 + (breakAt % (parts.length - 1));
      if (how !== 'tex') parts[at] = (breakAt % 2 ? '\r\n' : '{') + parts[at]! + (breakAt % 2 ? '' : '}');
      const body = how === 'tex' ? `\\texttt{${parts.join('')}}` : `{\\rtf1\\ansi\\deff0\\f0 ${parts.join('')}\\par}`;
      return how === 'rtf-json' ? JSON.stringify({ name: 'export.rtf', document: body }) : body;
    },
    read: how === 'tex' ? texRead : rtfRead,
  }));
  await fc.assert(fc.asyncProperty(fc.constantFrom(...values), fc.oneof(binary, escaped), fc.integer({ min: 0, max: 4000 }), async (value, form, at) => {
    const body = Buffer.from(form.doc(value), 'latin1');
    const core = value.slice(8, 20);
    if (!form.read(body.toString('latin1')).includes(core)) throw new Error(`${form.how}: the oracle does not read the body`);
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    if (form.read(out).includes(core) || !out.includes(PH)) throw new Error(`${form.how} cut at ${cut} passed: ${out}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 40) });
  // Controls: hashes and payloads in those alphabets, the same forms of other values, RTF and TeX documents without the key.
  const other = 'sk_live_51Hx9Qz/Other+Value7Kp2Wm4';
  const controls = [
    '$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW', '$6$rounds=5000$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/',
    '$P$BJXh1SJYtbsWtU5Ab1cyGEl2d5.pIo/', 'HC1:6BFOXN*TS0BI$ZD-PHQ7I9AD66V5B22CH9M9ESI9XBHXK-%69LQOGI.*V76GCV4*XUA2P-FHT-HNTI4L6N$Q%UG/YL WO*Z7ON15 BM0VM.JQ$F4W17PG4.VAS5EG4V*BRL0K-RDY5RWOOH6PO9:TUQJAJG9-*NIRICVELZUZM9EN9-O9:PICIG805CZKHKB-43.E3KD3OAJ6*K6ZCY73JC3KD3ZQTWD3E.KLC8M3LP-89B9K+KB2KK3M*EDZI9$JAQJKKIJX2MM+GWHKSKE MCAOI8%MCU5VTQDPIMQK9*O7%NC.UTWA6QK.-T3-SY$NCU5CIQ 52744E09T5OK.W0:ML',
    ...Object.keys(encode).map((how) => `{"k":"${encode[how]!(Buffer.from(`pad${other}tail`)).replace(/["\\]/g, (m) => `\\${m}`)}"}`),
    "{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fswiss Helvetica;}}\\f0\\pard Caf\\'e9 cr\\'e8me \\u8212? \\u8220?quoted\\u8221? 100\\'25 {\\b bold}\\par\r\n\\'73\\'6b_\\'6c\\'69\\'76\\'65 is how the prefix reads\\par}",
    JSON.stringify({ document: `{\\rtf1 ${[...other].map((c) => `\\'${c.charCodeAt(0).toString(16)}`).join('')}}` }),
    `\\documentclass{article}\\begin{document}Costs 5\\% \\& more: \\char92 \\symbol{126} ^^e9t\\'e9 \\texttt{${[...other].map((c, i) => (i % 2 ? `\\char${c.charCodeAt(0)} ` : c)).join('')}}\\end{document}`,
  ].map((c) => Buffer.from(c, 'latin1'));
  for (const c of controls) for (let cut = 0; cut <= c.length; cut += 59) t.same(await collect(new ScrubStream(s), [c.subarray(0, cut), c.subarray(cut)]), c, `${c.toString('latin1').slice(0, 24)}… cut at ${cut} passes`);
});

// Sixteenth pass: more forms a service shows its record in, each an exact string no spelling
// matched: the value's UTF-16 bytes in base64 or hex (PowerShell's -EncodedCommand, .NET's
// Encoding.Unicode), base58, yEnc, uuencode (GNU and Python), the value reversed with its case
// swapped; hex separated by `_` or `.`, and Perl's `\x{73}`.
// Eighteenth pass: full-width and styled letters written as JSON escapes (`\uff53`, Python's
// `json.dumps` and every `ensure_ascii` writer; a surrogate pair `\ud835\udc2c` for a styled
// letter) or as numeric character references (`&#xff53;`, `&#65363;`, `&#x1d42c;`): a reader
// decodes them, then NFKC (or a person) reads the key. The reading view folded them only as UTF-8.
t.test('eighteenth pass: full-width and styled letters as JSON escapes, numeric references or percent-encoded, whole or in part, at any chunk cut; CJK text escaped so passes byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const writes: Record<string, (cp: number) => string> = {
    json: (cp) => JSON.stringify(String.fromCodePoint(cp)).slice(1, -1).replace(/[^\x00-\x7f]/g, (m) => `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`),
    'JSON upper': (cp) => [...String.fromCodePoint(cp)].map((ch) => [...Array(ch.length).keys()].map((k) => `\\u${ch.charCodeAt(k).toString(16).toUpperCase().padStart(4, '0')}`).join('')).join(''),
    'hex reference': (cp) => `&#x${cp.toString(16)};`,
    'decimal reference': (cp) => `&#${cp};`,
    'padded reference': (cp) => `&#X00${cp.toString(16).toUpperCase()};`,
    // Percent-encoded UTF-8 (a redirect's query, a link to the record): either case.
    percent: (cp) => encodeURIComponent(String.fromCodePoint(cp)),
    'percent lower': (cp) => encodeURIComponent(String.fromCodePoint(cp)).toLowerCase(),
  };
  await lettersWrittenAreScrubbed(s, value, writes, ['{"shown":"', '<p>', ''], 80);
  // Controls: Japanese escaped by json.dumps (full-width punctuation among it), references in a page, at every cut.
  const plain = Buffer.from(`{"t":${JSON.stringify('こんにちは（世界）！ＡＢＣ順で ｓｋ は略語 ２０２６年').replace(/[^\x00-\x7f]/g, (m) => `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`)}}<p>&#xff21;&#65314; &#x1d400;&#x1d401; &#12354;</p><a href="/s?q=${encodeURIComponent('（ＡＢＣ）検索 ｓｋ')}&amp;p=2%20">next</a> 100%`, 'utf8');
  for (let cut = 0; cut <= plain.length; cut += 7) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `escaped CJK text cut at ${cut} passes`);
});

t.test('sixteenth pass: UTF-16 bytes in base64 or hex, base58, yEnc, uuencode, swapped reversal, hex with _ or ., Perl escapes (seventeenth: the reversal under or over base64 and hex; twenty-eighth: base64 three deep, hex in base64, ROT13 of base64, the bytes as an octal or upper-cased base-36 number): at any offset and chunk cut', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const blob = (v: Buffer, pad: number): Buffer => Buffer.concat([Buffer.alloc(pad, 0x61), v, Buffer.alloc(8, 0x62)]);
  const uu = (bytes: Buffer, zero: string): string => {
    let out = String.fromCharCode(32 + bytes.length);
    for (let i = 0; i < bytes.length; i += 3) {
      const [a, b, c] = [bytes[i]!, bytes[i + 1] ?? 0, bytes[i + 2] ?? 0];
      for (const v of [a >> 2, ((a & 3) << 4) | (b >> 4), ((b & 15) << 2) | (c >> 6), c & 63]) out += v === 0 ? zero : String.fromCharCode(32 + v);
    }
    return out;
  };
  const b58 = (bytes: Buffer): string => {
    const A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
    let n = BigInt(`0x${bytes.toString('hex')}`);
    let out = '';
    for (; n > 0n; n /= 58n) out = A[Number(n % 58n)] + out;
    return out;
  };
  const bytes = Buffer.from(value);
  const rev = (x: string): string => [...x].reverse().join('');
  const shown: Record<string, (pad: number) => string> = {
    'utf16le-base64': (pad) => blob(Buffer.from(value, 'utf16le'), pad * 2).toString('base64'),
    'utf16be-base64url': (pad) => blob(Buffer.from(value, 'utf16le').swap16(), pad * 2).toString('base64url'),
    'utf16le-hex': (pad) => blob(Buffer.from(value, 'utf16le'), pad * 2).toString('hex'),
    'utf16be-HEX': (pad) => blob(Buffer.from(value, 'utf16le').swap16(), pad * 2).toString('hex').toUpperCase(),
    base58: () => b58(bytes),
    yenc: (pad) => [...blob(bytes, pad)].map((b) => String.fromCharCode((b + 42) & 0xff)).join(''),
    'uuencode-gnu': (pad) => uu(blob(bytes, pad), '`'),
    'uuencode-python': (pad) => uu(blob(bytes, pad), ' '),
    'reversed-swapped': () => [...value].reverse().join('').replace(/[a-z]/gi, (c) => String.fromCharCode(c.charCodeAt(0) ^ 0x20)),
    'hex-underscore': () => bytes.toString('hex').replace(/(..)(?!$)/g, '$1_'),
    'hex-dot': () => bytes.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1.'),
    perl: () => [...value].map((c) => `\\x{${c.charCodeAt(0).toString(16)}}`).join(''),
    // Seventeenth pass: two layers, the reversal under or over base64 and hex.
    'reversed-base64': (pad) => blob(Buffer.from(rev(value)), pad).toString('base64'),
    'reversed-base64url': (pad) => blob(Buffer.from(rev(value)), pad).toString('base64url'),
    'reversed-hex': (pad) => blob(Buffer.from(rev(value)), pad).toString('hex'),
    'base64-reversed': (pad) => rev(blob(bytes, pad).toString('base64')),
    'HEX-reversed': (pad) => rev(blob(bytes, pad).toString('hex').toUpperCase()),
    // Seventeenth pass: UTF-16 bytes in base64 wrapped over lines (76 columns, CRLF or LF; a line may start anywhere in the value).
    'utf16le-base64-wrapped': (pad) => `${'QUJD'.repeat(pad * 3)}${blob(Buffer.from(value, 'utf16le'), pad * 2).toString('base64')}`.match(/.{1,76}/g)!.join(pad % 2 ? '\r\n' : '\n'),
    // Twenty-third pass: base64 inside base64 — a Kubernetes image pull secret (`.dockerconfigjson`:
    // base64 of a JSON whose `auth` is base64 of `user:token`), the user's and the registry's names
    // moving both layers' alignments; the same under base64url, and base64 shown as hex.
    'dockerconfig-base64': (pad) => Buffer.from(`{"auths":{"${'r'.repeat(pad)}.example":{"auth":"${Buffer.from(`${'u'.repeat(4 - pad)}:${value}`).toString('base64')}"}}}`).toString('base64'),
    'base64url-of-base64': (pad) => blob(Buffer.from(blob(bytes, pad).toString('base64')), (pad * 2) % 3).toString('base64url'),
    'hex-of-base64': (pad) => Buffer.from(`${'x'.repeat(pad)}${blob(bytes, (pad + 1) % 3).toString('base64')}`).toString('hex'),
    // Twenty-eighth pass: base64 three layers deep (the outer standard or URL-safe), the value's hex as
    // base64, base64 under ROT13 — each layer at another alignment.
    'base64-three-deep': (pad) => blob(Buffer.from(blob(Buffer.from(blob(bytes, pad).toString('base64')), (pad + 1) % 3).toString('base64')), (pad + 2) % 3).toString('base64'),
    'base64url-of-base64-twice': (pad) => blob(Buffer.from(`{"data":"${blob(Buffer.from(blob(bytes, (pad * 2) % 3).toString('base64')), pad).toString('base64')}"}`), pad).toString('base64url'),
    'base64-of-hex': (pad) => blob(Buffer.from(blob(bytes, pad).toString('hex')), (pad + 1) % 3).toString('base64'),
    'base64url-of-HEX': (pad) => blob(Buffer.from(bytes.toString('hex').toUpperCase()), pad).toString('base64url'),
    // The bytes as one number in octal, and in base 36 upper-cased.
    'octal-number': () => BigInt(`0x${bytes.toString('hex')}`).toString(8),
    'base36-number-upper': () => BigInt(`0x${bytes.toString('hex')}`).toString(36).toUpperCase(),
    'rot13-of-base64': (pad) => blob(bytes, pad).toString('base64').replace(/[A-Za-z]/g, (c) => String.fromCharCode(((c.charCodeAt(0) - (c <= 'Z' ? 65 : 97) + 13) % 26) + (c <= 'Z' ? 65 : 97))),
  };
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(shown)), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 2000 }), fc.constantFrom('{"log":"', 'x ', ''), async (name, pad, at, before) => {
    const form = shown[name]!(pad);
    const body = Buffer.from(`${before}${form}" and more`, 'latin1');
    const cut = at % (body.length + 1);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1');
    const middle = form.slice(Math.floor(form.length / 2) - 8, Math.floor(form.length / 2) + 8);
    if (out.includes(middle) || !out.includes(PH)) throw new Error(`${name} (pad ${pad}) cut at ${cut} passed: ${out.slice(0, 200)}`);
  }), { numRuns: 40 });
  // Seventeenth pass: the wrapped blob and a key cut by CDATA ends and starts, at every cut (a chunk may end right after a line break, or inside `]]>`).
  const cdata = [...value].join(']]><![CDATA[');
  for (const body of [Buffer.from(shown['utf16le-base64-wrapped']!(1)), Buffer.from(`<x><![CDATA[${cdata}]]></x>`)]) {
    const passed: number[] = [];
    for (let cut = 1; cut < body.length; cut++) if (!(await collect(new ScrubStream(s), [body.subarray(0, cut), body.subarray(cut)])).toString('latin1').includes(PH)) passed.push(cut);
    t.same(passed, [], `${body.subarray(0, 12).toString('latin1')}…: scrubbed at every cut`);
  }
  // Control: such text without the secret passes byte for byte.
  const plain = Buffer.from('{"bits":"01110011 01101011","oct":"163 153 137","hex":"de_ad_be_ef","perl":"\\x{263a}","b64":"cwBrAF8A"}', 'latin1');
  for (let cut = 0; cut <= plain.length; cut += 7) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `plain text cut at ${cut} passes`);
});

// Eleventh pass: a host that got a secret showed it as references with five or more leading zeros
// (`&#0000000115;`, JavaScript's `\u{0000073}`), which browsers, Python's html.unescape and
// JavaScript read: the spelling patterns allow four zeros. Such content is refused (the request
// guard refuses it going out), wherever it is and wherever the stream is cut.
// Eighteenth pass: a page in a legacy charset (Shift_JIS, EUC-JP, GBK, GB18030, Big5, EUC-KR,
// windows-1252) is matched as bytes, which spell an ASCII key as UTF-8 does; but the same charsets
// spell full-width letters (a page in zenkaku, `mb_convert_kana`) and soft hyphens in bytes of
// their own, which a reader decodes and NFKC (or a copy) reads as the key. Refused now, at any cut.
t.test('eighteenth pass: a page in a legacy charset (declared or not) showing the key in full-width letters (whole or every other) or with soft hyphens is refused at any cut; such pages without it pass byte for byte, an ASCII echo is replaced', async (t) => {
  /** The bytes `label` writes each character of `chars` as (found by decoding every one- and two-byte sequence). */
  const encoderFor = (label: string): Map<string, Buffer> => {
    const map = new Map<string, Buffer>();
    const dec = new TextDecoder(label, { fatal: true });
    const tryBytes = (b: Buffer): void => {
      try { const c = dec.decode(b); if ([...c].length === 1 && !map.has(c)) map.set(c, Buffer.from(b)); } catch { /* not a character */ }
    };
    for (let x = 0; x < 256; x++) tryBytes(Buffer.from([x]));
    for (let lead = 0x81; lead <= 0xfe; lead++) for (let trail = 0x40; trail <= 0xfe; trail++) tryBytes(Buffer.from([lead, trail]));
    return map;
  };
  const wide = (c: string): string => String.fromCharCode(c.charCodeAt(0) + 0xfee0);
  const cjk = ['shift_jis', 'euc-jp', 'gbk', 'gb18030', 'big5', 'euc-kr'];
  const encoders = new Map([...cjk, 'windows-1252'].map((l) => [l, encoderFor(l)]));
  const encode = (label: string, text: string): Buffer => Buffer.concat([...text].map((c) => encoders.get(label)!.get(c) ?? Buffer.from(c)));
  const forms: Record<string, (v: string) => string> = {
    'full-width': (v) => [...v].map(wide).join(''),
    'every other': (v) => [...v].map((c, i) => (i % 2 ? wide(c) : c)).join(''),
    'soft hyphens': (v) => [...v].join('\u00ad'),
  };
  type Declared = 'header' | 'meta' | 'none';
  const page = (label: string, shown: string, declared: Declared): string => (label === 'windows-1252'
    ? `<html><head>${declared === 'meta' ? `<meta charset="${label}">` : ''}<title>Clé</title></head><body><p>Votre clé : ${shown}</p><p>${'Déjà noté. '.repeat(40)}</p></body></html>`
    : `<html><head>${declared === 'meta' ? `<meta charset="${label}">` : ''}<title>鍵</title></head><body><p>あなたのキー: ${shown}</p><p>${'お知らせ '.repeat(40)}</p></body></html>`);
  const reads = (label: string, out: Buffer): string => new TextDecoder(label).decode(out).normalize('NFKC').replace(/\u00ad/g, '');
  const run = async (label: string, body: Buffer, declared: Declared, at: number[]): Promise<{ out: Buffer; err?: Error }> => {
    const { transform } = scrubResponse(scrubber, { statusCode: 200, headers: [['Content-Type', declared === 'header' ? `text/html; charset=${label}` : 'text/html']] });
    const points = [...new Set(at.map((p) => p % body.length))].sort((x, y) => x - y).filter(Boolean);
    const chunks = [0, ...points].map((p, i) => body.subarray(p, points[i] ?? body.length));
    const out: Buffer[] = [];
    transform!.on('data', (d: Buffer) => out.push(d));
    return new Promise((resolve) => {
      transform!.on('end', () => resolve({ out: Buffer.concat(out) }));
      transform!.on('error', (err: Error) => resolve({ out: Buffer.concat(out), err }));
      Readable.from(chunks).pipe(transform!);
    });
  };
  const label = fc.constantFrom(...cjk, 'windows-1252');
  // Declared by the header or the page's <meta>, or not at all (eighteenth pass too: a reader guesses it).
  await fc.assert(fc.asyncProperty(label, fc.constantFrom(...Object.keys(forms)), fc.constantFrom<Declared>('header', 'meta', 'none'), cuts, async (cs, form, meta, at) => {
    // windows-1252 has no full-width letters; the CJK charsets have no one-byte soft hyphen.
    if ((cs === 'windows-1252') !== (form === 'soft hyphens')) return;
    const body = encode(cs, page(cs, forms[form]!(SECRET), meta));
    if (!reads(cs, body).includes(SECRET)) throw new Error(`${cs} ${form}: the oracle does not read the key in the page itself`);
    const got = await run(cs, body, meta, at);
    // Refused, or (twentieth pass: soft hyphens are bytes a reader skips between the key's) replaced.
    if (!got.err && !got.out.includes(PH)) throw new Error(`${cs} ${form} (${meta}, cuts ${at}): passed`);
    if (reads(cs, got.out).includes(SECRET)) throw new Error(`${cs} ${form}: the bytes let out before the refusal read as the key`);
    const control = encode(cs, page(cs, forms[form]!('ghp_nothing_secret_here_at_all_0000'), meta));
    const passed = await run(cs, control, meta, at);
    if (passed.err || !passed.out.equals(control)) throw new Error(`${cs} ${form} control: ${passed.err?.message ?? 'bytes changed'}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60) });
  // ISO-2022-JP with no label (declared, it is refused): 7-bit text a reader guesses by its escape
  // sequences — a redundant `ESC ( B` between the key's letters, or full-width letters in JIS X 0208
  // (`ESC $ B` then `#s#k…`) — served as text, binary or untyped, at any cut.
  // JIS X 0208 rows 1 and 3 (symbols, letters and digits): each full-width character's two 7-bit bytes.
  const jisOf = new Map<string, string>();
  for (let row = 0x21; row <= 0x23; row++) {
    for (let cell = 0x21; cell <= 0x7e; cell++) jisOf.set(new TextDecoder('iso-2022-jp').decode(Buffer.from([0x1b, 0x24, 0x42, row, cell])), String.fromCharCode(row, cell));
  }
  const jis = (c: string): string => jisOf.get(String.fromCharCode(c.charCodeAt(0) + 0xfee0)) ?? c;
  const iso2022: Record<string, (v: string) => string> = {
    'shifts between': (v) => [...v].join('\x1b(B'),
    'JIS full-width': (v) => `\x1b$B${[...v].map(jis).join('')}\x1b(B`,
  };
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(iso2022)), fc.constantFrom('text/plain', 'application/octet-stream', ''), cuts, async (kind, type, at) => {
    const body = Buffer.from(`build log\n\x1b$B$3$s$K$A$O\x1b(B key: ${iso2022[kind]!(SECRET)}\ndone\n`, 'latin1');
    const readAs = (b: Buffer): string => new TextDecoder('iso-2022-jp').decode(b).normalize('NFKC');
    if (!readAs(body).includes(SECRET)) throw new Error(`${kind}: the oracle does not read the key`);
    const { transform } = scrubResponse(scrubber, { statusCode: 200, headers: type ? [['Content-Type', type]] : [] });
    const got = await new Promise<{ out: Buffer; err?: Error }>((resolve) => {
      const out: Buffer[] = [];
      transform!.on('data', (d: Buffer) => out.push(d));
      transform!.on('end', () => resolve({ out: Buffer.concat(out) }));
      transform!.on('error', (err: Error) => resolve({ out: Buffer.concat(out), err }));
      Readable.from(split(body, at)).pipe(transform!);
    });
    // Refused, or (twenty-first pass: `ESC ( B` is a terminal escape a reader skips between the key's characters) replaced.
    if ((!got.err && !got.out.includes(PH)) || readAs(got.out).includes(SECRET)) throw new Error(`${kind} as ${type || 'no type'} (cuts ${at}): ${got.err || got.out.includes(PH) ? 'the bytes let out read as the key' : 'passed'}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 30) });
  // Controls: Japanese in ISO-2022-JP and a log coloured by tput (`ESC ( B ESC [ m`) pass byte for byte.
  for (const text of ['\x1b$B$3$s$K$A$O\x1b(B sekai\n', 'ok \x1b[1mbold\x1b(B\x1b[m done ghp_nothing_secret_here\n']) {
    const body = Buffer.from(text.repeat(30), 'latin1');
    const out = await collect(scrubResponse(scrubber, { statusCode: 200, headers: [['Content-Type', 'text/plain']] }).transform!, split(body, [7, 100, 333]));
    t.same(out, body, 'ISO-2022-JP text without the key passes');
  }
  // The key in ASCII in such a page (no charset declared) is replaced by its placeholder, as before, not refused.
  for (const cs of [...cjk, 'windows-1252']) {
    const got = await run(cs, encode(cs, page(cs, SECRET, 'none')), 'none', [40, 90]);
    t.ok(!got.err && reads(cs, got.out).includes(PH) && !reads(cs, got.out).includes(SECRET), `${cs}: the ASCII key replaced`);
  }
});

t.test('overlong references from a host that got a secret are refused, at every cut; four zeros are a spelling', async (t) => {
  const padded = (zeros: number): string => [...SECRET].map((c) => `&#${'0'.repeat(zeros)}${c.charCodeAt(0)};`).join('');
  const js = [...SECRET].map((c) => `\\u{000000${c.charCodeAt(0).toString(16)}}`).join('');
  const hexRefs = [...SECRET].map((c) => `&#X000000${c.charCodeAt(0).toString(16)}`).join('');
  for (const text of [`<p>${padded(5)}</p>`, `x ${padded(700)} y`, `var k = "${js}";`, hexRefs]) {
    t.throws(() => scrubber.scrubString(text), /five or more leading zeros/, `whole: refused (${text.slice(0, 20)}…)`);
    const body = Buffer.from(text);
    const step = Math.max(1, Math.floor(body.length / 16));
    for (let cut = 0; cut <= body.length; cut += step) {
      const out = await collect(new ScrubStream(scrubber), [body.subarray(0, cut), body.subarray(cut)]).catch((err: Error) => err);
      if (!(out instanceof Error) || !/five or more leading zeros/.test(out.message)) t.fail(`cut at ${cut}: not refused`);
    }
  }
  t.equal(scrubber.scrubString(`<p>${padded(4)}</p>`), `<p>${PH}</p>`, 'four zeros: a spelling, replaced');
  t.throws(() => scrubResponse(scrubber, { statusCode: 302, headers: [['location', `/x?k=${padded(6)}`]] }), /five or more leading zeros/, 'in a header: the response is withheld');
  t.equal(new Scrubber([], [{ value: SECRET, replace: '[x]' }]).scrubString('&#000000115;'), '&#000000115;', 'a redactor of values (no own secrets) passes them');
});

// Twelfth pass: a service that shows its record over server-sent events cuts the value with the
// framing a reader drops — `data:` names, line ends, other fields, keep-alive comments.
t.test('an event stream is read as its reader joins the data: a secret cut by the framing is caught at every chunk cut', async (t) => {
  const data = (text: string): string => text.split(/\r\n|\r|\n/).map((l) => l.replace(/^(?:\ufeff|\xef\xbb\xbf)/, '')).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('').replace(/\s+/g, '');
  const pieces = (v: string, n: number): string[] => v.match(new RegExp(`[^]{1,${n}}`, 'g'))!;
  const b64 = Buffer.from(`xy${SECRET}`).toString('base64');
  const bodies: Record<string, string> = {
    'lines of one event': `data: ${pieces(SECRET, 7).join('\ndata: ')}\n\n`,
    'wrapped, indented': `data: token:\ndata:     ${pieces(SECRET, 6).join('\ndata:     ')}\n\n`,
    'an event per piece': pieces(SECRET, 4).map((p) => `data: ${p}\n\n`).join(''),
    'ids, event names, CRLF': pieces(SECRET, 5).map((p, i) => `id: ${i}\r\nevent: log\r\ndata:${p}\r\n\r\n`).join(''),
    'keep-alive comments between': pieces(SECRET, 3).map((p) => `data: ${p}\n\n: ping\n\n`).join(''),
    'base64 lines': `data: ${pieces(b64, 9).join('\ndata: ')}\n\n`,
    'inside escapes': `data: ${pieces(encodeURIComponent(SECRET), 5).join('\n\ndata: ')}\n\n`,
    'after a byte order mark': `\ufeffdata: ${pieces(SECRET, 6).join('\ndata: ')}\n\n`,
  };
  const plain = 'retry: 1000\n: hello\nevent: delta\ndata: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n';
  for (const [label, body] of Object.entries(bodies)) {
    t.not(data(body).indexOf(SECRET) < 0 && !Buffer.from(data(body), 'base64').includes(SECRET) && !decodeURIComponent(data(body)).includes(SECRET), true, `${label}: a reader joins the value`);
    for (let cut = 1; cut < body.length; cut += 3) {
      // Declared, or not (a client that parses the stream whatever its type).
      const type = ['text/event-stream; charset=utf-8', 'text/plain', 'application/octet-stream'][cut % 3]!;
      const s = scrubResponse(scrubber, { statusCode: 200, headers: [['content-type', type]] }).transform!;
      // A start let out at an event's end and completed by the next is refused: the stream is cut there.
      const got: Buffer[] = [];
      s.on('data', (d: Buffer) => got.push(d));
      await collect(s, [Buffer.from(body.slice(0, cut)), Buffer.from(body.slice(cut))]).catch(() => undefined);
      const out = Buffer.concat(got).toString('latin1');
      const view = data(out);
      if (view.includes(SECRET) || Buffer.from(view, 'base64').includes(SECRET) || decodeURIComponent(view.replace(/%(?![0-9a-f]{2})/gi, '%25')).includes(SECRET)) t.fail(`${label}, cut at ${cut}: a reader joins the value from ${JSON.stringify(out)}`);
    }
  }
  // Control: an ordinary stream passes byte for byte, and an event goes out when it ends (not an event later).
  const s = scrubResponse(scrubber, { statusCode: 200, headers: [['content-type', 'text/event-stream']] }).transform!;
  const got: Buffer[] = [];
  s.on('data', (d: Buffer) => got.push(d));
  s.write(Buffer.from(plain.slice(0, plain.indexOf('data: [DONE]'))));
  await new Promise((r) => setImmediate(r));
  t.equal(Buffer.concat(got).toString(), plain.slice(0, plain.indexOf('data: [DONE]')), 'the first event went out whole at once');
  t.equal((await collect(scrubResponse(scrubber, { statusCode: 200, headers: [['content-type', 'text/event-stream']] }).transform!, [Buffer.from(plain)])).toString(), plain, 'an ordinary stream passes unchanged');
});

t.test('property: an event stream without the secret passes unchanged at any cuts; one cut over events and lines is never joined by a reader', async (t) => {
  const runs = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 150);
  const data = (text: string): string => text.split(/\r\n|\r|\n/).map((l) => l.replace(/^\xef\xbb\xbf/, '')).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('').replace(/\s+/g, '');
  const run = (body: string, cuts: number[], declared: boolean): string => {
    const c = new ChunkScrubber(scrubber, undefined, declared);
    let out = '';
    let at = 0;
    try {
      for (const k of [...cuts.filter((x) => x > 0 && x < body.length)].sort((a, b) => a - b).concat([body.length])) {
        out += c.feed(Buffer.from(body.slice(at, k), 'latin1'))?.toString('latin1') ?? '';
        at = k;
      }
      out += c.end()?.toString('latin1') ?? '';
    } catch {
      // Cut: what went out before stays what the reader has.
    }
    return out;
  };
  const word = fc.stringMatching(/^[a-zA-Z0-9 {}":,._-]{0,30}$/);
  const line = fc.oneof(word.map((w) => `data: ${w}`), word.map((w) => `data:${w}`), fc.constant(''), word.map((w) => `: ${w}`), fc.nat(999).map((n) => `id: ${n}`), fc.constant('event: delta'));
  fc.assert(fc.property(fc.array(fc.tuple(line, fc.constantFrom('\n', '\r\n', '\r')), { maxLength: 30 }), fc.array(fc.nat(400), { maxLength: 6 }), fc.boolean(), (lines, cuts, declared) => {
    const body = lines.map(([l, e]) => l + e).join('');
    const out = run(body, cuts, declared);
    if (out !== body) t.fail(`changed: ${JSON.stringify(body)} became ${JSON.stringify(out)}`);
  }), { numRuns: runs });
  fc.assert(fc.property(fc.array(fc.nat(SECRET.length), { maxLength: 6 }), fc.array(fc.constantFrom('\n', '\n\n', '\r\n\r\n', '\n: ping\n\n', '\nid: 3\n', '\n\nevent: x\n'), { minLength: 7, maxLength: 7 }), fc.array(fc.nat(300), { maxLength: 6 }), fc.boolean(), (splits, seps, cuts, declared) => {
    const points = [...new Set(splits)].filter((x) => x > 0 && x < SECRET.length).sort((a, b) => a - b);
    let body = 'data: ';
    let prev = 0;
    points.forEach((p, i) => {
      body += `${SECRET.slice(prev, p)}${seps[i]!}data: `;
      prev = p;
    });
    body += `${SECRET.slice(prev)}\n\n`;
    const out = run(body, cuts, declared);
    if (data(out).includes(SECRET)) t.fail(`a reader joins the value from ${JSON.stringify(out)}`);
  }), { numRuns: runs });
  t.pass(`${runs} streams of each kind`);
});

// Thirteenth pass: compressed data inside a body that no Content-Encoding declares (proxy/packed-scan.ts).
/** Chunk cuts for the PackedScan properties, and a body split at them. */
const cuts = fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 6 });
function split(b: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % b.length))].sort((x, y) => x - y).filter(Boolean);
  return [0, ...points].map((p, i) => b.subarray(p, points[i] ?? b.length));
}

/** What a PackedScan over `chunks` passes on, and the error it ended with (`binary`: an answer that is no text). */
async function packedScanOf(chunks: Buffer[], binary: boolean): Promise<{ out: Buffer; err?: Error }> {
  const { PackedScan } = await import('../../proxy/packed-scan.ts');
  const p = new PackedScan(() => scrubber, new PassThrough(), binary);
  const out: Buffer[] = [];
  p.on('data', (d: Buffer) => out.push(d));
  return new Promise((resolve) => {
    p.on('end', () => resolve({ out: Buffer.concat(out) }));
    p.on('error', (err: Error) => resolve({ out: Buffer.concat(out), err }));
    Readable.from(chunks).pipe(p);
  });
}

t.test('PackedScan: a secret in undeclared compressed data is refused at any cuts; other data passes byte for byte', async (t) => {
  const doc = (v: string): Buffer => Buffer.from(`{"headers":{"authorization":"Bearer ${v}"}}`);
  const noise = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 73 + 5) & 0xff));
  const corrupt = (b: Buffer): Buffer => {
    // The deflate data cut after the secret and followed by bytes that break it: Node's zlib drops
    // that write's output, a reader feeding it piece by piece gets the secret.
    const raw = zlib.deflateRawSync(b, { level: 0 });
    return Buffer.concat([raw.subarray(0, raw.length - 2), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
  };
  const bodies: Record<string, (v: string) => Buffer> = {
    gzip: (v) => zlib.gzipSync(doc(v)),
    'gzip-name': (v) => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x08, 0, 0, 0, 0, 0, 3]), Buffer.from('log.json\0'), zlib.deflateRawSync(doc(v))]),
    zlib: (v) => zlib.deflateSync(doc(v)),
    'gzip-then-garbage': (v) => Buffer.concat([zlib.gzipSync(doc(v)), Buffer.from('\r\n--boundary--\r\n')]),
    'gzip-corrupt': (v) => Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]), corrupt(doc(v))]),
    'gzip-inside': (v) => Buffer.concat([noise, zlib.gzipSync(doc(v)), noise]),
    pdf: (v) => Buffer.concat([Buffer.from('%PDF-1.4\n4 0 obj\n<< /Filter /FlateDecode >>\nstream\n'), zlib.deflateSync(doc(v)), Buffer.from('\nendstream\n')]),
    // Fourteenth pass: brotli has no magic; an answer that is no text is read as brotli from its first byte.
    brotli: (v) => zlib.brotliCompressSync(doc(v)),
    zip: (v) => {
      const data = zlib.deflateRawSync(doc(v));
      const h = Buffer.alloc(30);
      h.writeUInt32LE(0x04034b50, 0);
      h.writeUInt16LE(8, 8);
      h.writeUInt16LE(8, 26);
      return Buffer.concat([noise, h, Buffer.from('log.json'), data, noise]);
    },
  };
  // Every kind read as an answer that is no text: a brotli guess at the first byte of the others fails and passes them.
  const run = (chunks: Buffer[]) => packedScanOf(chunks, true);
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(bodies)), cuts, async (kind, at) => {
    const withSecret = bodies[kind]!(SECRET);
    const got = await run(split(withSecret, at));
    if (!got.err) throw new Error(`${kind}: passed (${got.out.length} of ${withSecret.length} bytes)`);
    // What left before the refusal does not hold the value: no stream in it inflates to it.
    const o = got.out;
    const inflateAt = (f: typeof zlib.inflateSync, i: number): string => {
      try { return f(o.subarray(i), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('latin1'); } catch { return ''; }
    };
    // Every place a stream of these containers can start: a zlib header, a gzip member's data, a zip entry's data.
    const inflated = [...o.keys()].map((i) => (o[i] === 0x78 ? inflateAt(zlib.inflateSync, i) : '')
      + (o[i] === 0x1f && o[i + 1] === 0x8b ? inflateAt(zlib.inflateRawSync, i + 10) + inflateAt(zlib.inflateRawSync, i + 19) : '')
      + (o[i] === 0x50 && o[i + 1] === 0x4b && o[i + 2] === 3 ? inflateAt(zlib.inflateRawSync, i + 38) : '')).join('');
    if (inflated.includes(SECRET)) throw new Error(`${kind}: the bytes let out before the refusal inflate to the value`);
    const control = bodies[kind]!('ghp_nothing_secret_here_at_all_0000');
    const passed = await run(split(control, at));
    if (passed.err || !passed.out.equals(control)) throw new Error(`${kind} control: ${passed.err?.message ?? 'bytes changed'}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60) });
  t.pass('refused at every cut; controls byte for byte');
});

// Sixteenth pass: compression Node 20 cannot read (zstd, xz, bzip2, 7z, LZ4 files; zip entries
// compressed with bzip2, LZMA, zstd, xz, PPMd or deflate64, or encrypted) passed on unread. A
// service exporting its record so (a `.zst` log export, a `.tar.xz` backup) handed the value to an
// agent that unpacks it. Now refused by its first bytes (an answer or a WebSocket message), and a
// zip entry by its method, at any cut; such magics inside other binary data pass.
t.test('sixteenth pass: an answer that is zstd, xz, bzip2 or LZ4 data, holds a zip entry Node cannot read or a uuencoded file, is refused at any cut; the magics inside other data pass', async (t) => {
  const { packedTexts } = await import('../../proxy/packed-scan.ts');
  // Real files of {"headers":{"authorization":"Bearer <SECRET>"}} (xz, bzip2, zstd, lz4 command-line tools).
  const files: Record<string, Buffer> = {
    xz: Buffer.from('/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQBDeyJoZWFkZXJzIjp7ImF1dGhvcml6YXRpb24iOiJCZWFyZXIgZ2hwX0NhbmFyeS9TZWNyZXQrVmFsdWU9NDI/JngifX0AFkTEeujMimgAAVxE+iI5Rx+2830BAAAAAARZWg==', 'base64'),
    bzip2: Buffer.from('QlpoOTFBWSZTWesLHrUAACCfgFEIlBKYAAkAruXeeiAASIp6QGRoPUNGaj0agpNqekNGTIZGEPQl2blCeaU01yCOzIEU7uoMJW1xVJHH0TbBBsco0xB4EIAlDArhUdCsZlxdyRThQkOsLHrU', 'base64'),
    zstd: Buffer.from('KLUv/SREIQIAeyJoZWFkZXJzIjp7ImF1dGhvcml6YXRpb24iOiJCZWFyZXIgZ2hwX0NhbmFyeS9TZWNyZXQrVmFsdWU9NDI/JngifX13d53n', 'base64'),
    lz4: Buffer.from('BCJNGGRAp0QAAIB7ImhlYWRlcnMiOnsiYXV0aG9yaXphdGlvbiI6IkJlYXJlciBnaHBfQ2FuYXJ5L1NlY3JldCtWYWx1ZT00Mj8meCJ9fQAAAADu5FS4', 'base64'),
  };
  const zipEntry = (method: number, flags: number): Buffer => {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(flags, 6);
    h.writeUInt16LE(method, 8);
    h.writeUInt16LE(8, 26);
    return Buffer.concat([Buffer.from('%export\n'), h, Buffer.from('log.json'), files.bzip2!]);
  };
  // A uuencoded record (GNU `uuencode`, Python's `uu`): lines of 45 bytes cut the value.
  const uu = (bytes: Buffer): string => {
    let out = '';
    for (let at = 0; at < bytes.length; at += 45) {
      const line = bytes.subarray(at, at + 45);
      out += String.fromCharCode(32 + line.length);
      for (let i = 0; i < line.length; i += 3) {
        const [x, y, z] = [line[i]!, line[i + 1] ?? 0, line[i + 2] ?? 0];
        for (const v of [x >> 2, ((x & 3) << 4) | (y >> 4), ((y & 15) << 2) | (z >> 6), z & 63]) out += v === 0 ? '`' : String.fromCharCode(32 + v);
      }
      out += '\n';
    }
    return out;
  };
  files.uuencode = Buffer.from(`records of today\nbegin 644 record.json\n${uu(Buffer.from(`{"headers":{"authorization":"Bearer ${SECRET}"}}`))}\`\nend\n`, 'latin1');
  files['zip-bzip2'] = zipEntry(12, 0);
  files['zip-zstd'] = zipEntry(93, 0);
  files['zip-encrypted'] = zipEntry(8, 1);
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(files)), cuts, fc.boolean(), async (kind, at, binary) => {
    const body = files[kind]!;
    const got = await packedScanOf(split(body, at), binary);
    // Nothing past the file's magic (a zip: its entry's data; uuencode: its begin line) is let out first.
    if (!got.err || got.out.length > (kind.startsWith('zip') ? 46 : kind === 'uuencode' ? 39 : 8)) throw new Error(`${kind} (cuts ${at}): ${got.err ? `${got.out.length} bytes let out first` : 'passed'}`);
  }), { numRuns: 30 });
  for (const [kind, body] of Object.entries(files)) t.throws(() => packedTexts(body), `${kind} as a WebSocket message: refused`);
  // Controls: the magics inside a binary download, and a `BZh` text, pass byte for byte.
  const download = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), files.zstd!, files.xz!, Buffer.alloc(64, 7)]);
  for (const body of [download, Buffer.from('BZh is how a bzip2 file starts'), Buffer.from('to begin 644 lines\nbegin 644 is a mode\nbegin here\n')]) {
    const got = await packedScanOf(split(body, [5, 30]), true);
    t.ok(!got.err && got.out.equals(body), 'passes as it came');
  }
});

// Seventeenth pass: compressed data after other bytes, where no magic is looked for — a tar's
// member that is a zlib stream, an `.xz`, `.zst` or `.br` file (a `.tar` backup or export), a PNG's
// `zTXt`, compressed `iTXt` or `iCCP` chunk (a chart or screenshot carrying the record as text) —
// and a brotli `.br` export served as `text/plain` or JSON: each passed from a host that got a secret.
t.test('seventeenth pass: tar members and PNG text chunks are read as bodies, a zlib stream with a preset dictionary is read, raw deflate and brotli (typed as text too) are guessed at: refused at any cut; others pass byte for byte', async (t) => {
  const { packedTexts } = await import('../../proxy/packed-scan.ts');
  const doc = (v: string): Buffer => Buffer.from(`{"headers":{"authorization":"Bearer ${v}"}}`);
  // Real files of doc(SECRET) (the xz and zstd command-line tools), as in the sixteenth pass's test.
  const xz = Buffer.from('/Td6WFoAAATm1rRGAgAhARYAAAB0L+WjAQBDeyJoZWFkZXJzIjp7ImF1dGhvcml6YXRpb24iOiJCZWFyZXIgZ2hwX0NhbmFyeS9TZWNyZXQrVmFsdWU9NDI/JngifX0AFkTEeujMimgAAVxE+iI5Rx+2830BAAAAAARZWg==', 'base64');
  const zst = Buffer.from('KLUv/SREIQIAeyJoZWFkZXJzIjp7ImF1dGhvcml6YXRpb24iOiJCZWFyZXIgZ2hwX0NhbmFyeS9TZWNyZXQrVmFsdWU9NDI/JngifX13d53n', 'base64');

  const tar = (...members: Array<[string, Buffer]>): Buffer => Buffer.concat([...members.map(([n, d]) => tarEntry(n, d)), Buffer.alloc(1024)]);
  const crc = (b: Buffer): number => zlib.crc32(b);
  const chunk = (type: string, data: Buffer): Buffer => {
    const td = Buffer.concat([Buffer.from(type), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    td.copy(out, 4);
    out.writeUInt32BE(crc(td), 8 + data.length);
    return out;
  };
  const png = (...chunks: Buffer[]): Buffer => Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', Buffer.from('00000001000000010800000000', 'hex')), ...chunks, chunk('IDAT', zlib.deflateSync(Buffer.alloc(2))), chunk('IEND', Buffer.alloc(0))]);
  const bodies: Record<string, (v: string) => Buffer> = {
    'tar-zlib': (v) => tar(['README', Buffer.from('exported\n')], ['requests.log.z', zlib.deflateSync(doc(v))]),
    'tar-br': (v) => tar(['README', Buffer.from('exported\n')], ['requests.json.br', zlib.brotliCompressSync(doc(v))]),
    'png-ztxt': (v) => png(chunk('zTXt', Buffer.concat([Buffer.from('Comment\0\0'), zlib.deflateSync(doc(v))]))),
    'png-itxt': (v) => png(chunk('iTXt', Buffer.concat([Buffer.from('Comment\0\x01\0en\0Kommentar\0'), zlib.deflateSync(doc(v))]))),
    'png-iccp': (v) => png(chunk('iCCP', Buffer.concat([Buffer.from('profile\0\0'), zlib.deflateSync(doc(v))]))),
    // A zlib stream with a preset dictionary (FDICT): zlib refuses it without the dictionary, a reader who has it does not.
    'zlib-dictionary': (v) => zlib.deflateSync(Buffer.concat([doc(v), doc(v)]), { dictionary: Buffer.from('{"headers":{"authorization":"Bearer ') }),
    // Raw deflate has no header: an answer (or a tar member) that reads as deflate from its first byte.
    'raw-deflate': (v) => zlib.deflateRawSync(doc(v)),
    'tar-raw-deflate': (v) => tar(['README', Buffer.from('exported\n')], ['requests.log.deflate', zlib.deflateRawSync(doc(v))]),
    'tar-zlib-dictionary': (v) => tar(['README', Buffer.from('exported\n')], ['requests.log.z', zlib.deflateSync(doc(v), { dictionary: Buffer.from('authorization') })]),
  };
  const refused = (kind: string) => async (at: number[], binary: boolean): Promise<void> => {
    const body = bodies[kind]!(SECRET);
    const got = await packedScanOf(split(body, at), binary);
    if (!got.err) throw new Error(`${kind} (cuts ${at}): passed`);
    // What left before the refusal holds no stream that gives the value.
    const o = got.out;
    const text = [...o.keys()].map((i) => {
      try { return o[i] === 0x78 ? zlib.inflateSync(o.subarray(i), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('latin1') : ''; } catch { return ''; }
    }).join('') + [0, 1536].map((i) => {
      try { return zlib.inflateRawSync(o.subarray(i), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('latin1'); } catch { return ''; }
    }).join('');
    if (text.includes(SECRET)) throw new Error(`${kind} (cuts ${at}): the bytes let out inflate to the value`);
  };
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(bodies)), cuts, fc.boolean(), async (kind, at, binary) => refused(kind)(at, binary)), { numRuns: 20 });
  // Members Node cannot decompress, and brotli under a text type, by the first bytes of each.
  for (const [name, data] of [['requests.json.xz', xz], ['requests.json.zst', zst]] as const) {
    for (const at of [[3], [100, 511, 515], [600]]) {
      const got = await packedScanOf(split(tar(['README', Buffer.from('exported\n')], [name, data]), at), false);
      t.ok(got.err && got.out.length <= 1024 + 8, `a tar member ${name} (cuts ${at}): refused before its data`);
    }
  }
  for (const at of [[1], [7, 20]]) {
    const got = await packedScanOf(split(zlib.brotliCompressSync(Buffer.concat([doc(SECRET), Buffer.from(' '.repeat(300))])), at), false);
    t.ok(got.err, `brotli typed as text (cuts ${at}): refused`);
  }
  // As a WebSocket message: each member's text is read (and matched by the caller); an xz member is refused.
  for (const kind of ['tar-zlib', 'png-ztxt', 'png-itxt', 'zlib-dictionary']) t.ok(packedTexts(bodies[kind]!(SECRET)).some((text) => text.includes(SECRET)), `${kind} as a WebSocket message: its text read`);
  t.throws(() => packedTexts(tar(['README', Buffer.from('exported\n')], ['requests.json.xz', xz])), 'a tar with an xz member as a WebSocket message: refused');
  // Controls: the same containers of other text, text with colour codes, JSON in 3-byte writes, byte for byte.
  const controls = [...Object.values(bodies).map((b) => b('ghp_nothing_secret_here_at_all_0000')), tar(['a.txt', Buffer.from('hello\n')], ['b.bin', Buffer.alloc(700, 0x78)]), Buffer.from('\x1b[32mok\x1b[0m build passed\n'), Buffer.from('{"ok":true,"items":[1,2,3]}')];
  for (const body of controls) {
    for (const at of [[3, 6, 9, 12], [200, 520]]) {
      for (const binary of [true, false]) {
        const got = await packedScanOf(split(body, at), binary);
        if (got.err || !got.out.equals(body)) t.fail(`control ${body.subarray(0, 12).toString('latin1')}… (cuts ${at}): ${got.err?.message ?? 'bytes changed'}`);
      }
    }
  }
  t.pass('refused at any cut; controls byte for byte');
});

// Eighteenth pass: compressed data inside compressed data (a `.gz` log in a `.tar.gz` backup, a
// zip of `.gz` files, a `.gz` of a `.gz`), a stored zip entry that is a `.br` or raw deflate file,
// and PDF streams ReportLab writes by default (`/Filter [/ASCII85Decode /FlateDecode]`), as hex,
// or after a lone CR (pdf.js and poppler read them so): each passed, the inflated text was matched
// but not read again, and no magic shows in ASCII85 or hex text. WebSocket messages that are
// brotli or raw deflate (OKX's API sends raw deflate) were not read either.
t.test('eighteenth pass: compressed data inside compressed data, stored zip entries, PDF streams under ASCII85, hex or a lone CR, brotli and raw deflate messages: refused at any cut, read as messages; others pass byte for byte', async (t) => {
  const { packedTexts } = await import('../../proxy/packed-scan.ts');
  const doc = (v: string): Buffer => Buffer.from(`{"headers":{"authorization":"Bearer ${v}"},"log":"${'GET /v1/items 200 12ms; '.repeat(12)}"}`);
  const tar = (...members: Array<[string, Buffer]>): Buffer => Buffer.concat([...members.map(([n, d]) => tarEntry(n, d)), Buffer.alloc(1024)]);
  const zipEntry = (name: string, data: Buffer, method: 0 | 8): Buffer => {
    const h = Buffer.alloc(30);
    const stored = method === 8 ? zlib.deflateRawSync(data) : data;
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(method, 8);
    h.writeUInt32LE(stored.length, 18);
    h.writeUInt32LE(data.length, 22);
    h.writeUInt16LE(name.length, 26);
    return Buffer.concat([h, Buffer.from(name), stored]);
  };
  const pdf = (filter: string, data: Buffer, eol = '\n'): Buffer => Buffer.concat([Buffer.from(`%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n4 0 obj\n<< /Filter ${filter} /Length ${data.length} >>\nstream${eol}`, 'latin1'), data, Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n')]);
  const bodies: Record<string, (v: string) => Buffer> = {
    'tgz-gz': (v) => zlib.gzipSync(tar(['README', Buffer.from('logs\n')], ['requests.log.gz', zlib.gzipSync(doc(v))])),
    'tgz-br': (v) => zlib.gzipSync(tar(['README', Buffer.from('logs\n')], ['requests.json.br', zlib.brotliCompressSync(doc(v))])),
    'zip-of-gz': (v) => Buffer.concat([zipEntry('README', Buffer.from('logs\n'), 8), zipEntry('requests.log.gz', zlib.gzipSync(doc(v)), 8)]),
    'gz-gz': (v) => zlib.gzipSync(zlib.gzipSync(doc(v))),
    'zip-stored-deflate': (v) => Buffer.concat([zipEntry('README', Buffer.from('logs\n'), 0), zipEntry('requests.deflate', zlib.deflateRawSync(doc(v)), 0)]),
    'zip-stored-br': (v) => Buffer.concat([zipEntry('README', Buffer.from('logs\n'), 0), zipEntry('requests.json.br', zlib.brotliCompressSync(doc(v)), 0)]),
    'pdf-a85': (v) => pdf('[ /ASCII85Decode /FlateDecode ]', Buffer.from(ascii85(zlib.deflateSync(doc(v))))),
    'pdf-hex': (v) => pdf('[ /ASCIIHexDecode /FlateDecode ]', Buffer.from(`${zlib.deflateSync(doc(v)).toString('hex').replace(/.{64}(?=.)/g, '$&\n')}>`)),
    'pdf-cr': (v) => pdf('/FlateDecode', zlib.deflateSync(doc(v)), '\r'),
  };
  // What a reader gets from bytes let out: every gzip, zlib and zip entry start (stored data read
  // as brotli or raw deflate too), every ASCII85 or hex PDF stream, inflated as far as it goes, and
  // what that gives read again so (three layers).
  const sync = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
  const reveal = (b: Buffer, depth = 0): string => {
    if (depth > 3 || !b.length) return '';
    const outs: Buffer[] = [];
    const tryf = (f: () => Buffer): void => {
      try { const r = f(); if (r.length) outs.push(r); } catch { /* not such a stream */ }
    };
    const guesses = (d: Buffer): void => {
      tryf(() => zlib.inflateRawSync(d, sync));
      tryf(() => zlib.brotliDecompressSync(d, { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH }));
    };
    guesses(b);
    for (let i = 0; i < b.length; i++) {
      if (b[i] === 0x1f && b[i + 1] === 0x8b) tryf(() => zlib.inflateRawSync(b.subarray(i + 10), sync));
      if (b[i] === 0x78) tryf(() => zlib.inflateSync(b.subarray(i), sync));
      if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 3 && b.length >= i + 30) guesses(b.subarray(i + 30 + b.readUInt16LE(i + 26) + b.readUInt16LE(i + 28)));
      if (i % 512 === 0 && i) guesses(b.subarray(i));
    }
    for (const d of pdfTextStreams(b.toString('latin1'))) tryf(() => zlib.inflateSync(d, sync));
    return outs.map((o) => `${o.toString('latin1')}\n${reveal(o, depth + 1)}`).join('\n');
  };
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(bodies)), cuts, fc.boolean(), async (kind, at, binary) => {
    const body = bodies[kind]!(SECRET);
    if (!reveal(body).includes(SECRET)) throw new Error(`${kind}: the oracle does not read the value in the body itself`);
    const got = await packedScanOf(split(body, at), binary);
    if (!got.err) throw new Error(`${kind} (cuts ${at}): passed`);
    if (reveal(got.out).includes(SECRET)) throw new Error(`${kind} (cuts ${at}): the bytes let out before the refusal give the value`);
    const control = bodies[kind]!('ghp_nothing_secret_here_at_all_0000');
    const passed = await packedScanOf(split(control, at), binary);
    if (passed.err || !passed.out.equals(control)) throw new Error(`${kind} control (cuts ${at}): ${passed.err?.message ?? 'bytes changed'}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 30) });
  // As WebSocket messages: the same, and a message that is brotli or raw deflate from its first byte.
  const messages = { ...bodies, brotli: (v: string) => zlib.brotliCompressSync(doc(v)), 'raw-deflate': (v: string) => zlib.deflateRawSync(doc(v)) };
  for (const [kind, make] of Object.entries(messages)) {
    t.ok(packedTexts(make(SECRET)).some((text) => text.includes(SECRET)), `${kind} as a WebSocket message: its text read`);
    t.notOk(packedTexts(make('ghp_nothing_secret_here_at_all_0000')).some((text) => text.includes(SECRET)), `${kind} control as a message: read, nothing found`);
  }
  // Controls: binary messages and a text PDF stream that hold nothing compressed pass unread.
  for (const b of [crypto.randomBytes(4096), Buffer.from('stream\r\nBT /F1 12 Tf (hello) Tj ET\nendstream\n'), Buffer.from('{"type":"ping"}')]) t.doesNotThrow(() => packedTexts(b), 'a message with nothing compressed passes');
});

// Fifteenth pass: a compressed stream written as base64 text (proxy/packed-base64.ts) — a Flask or
// Django session cookie's `.eJw…` (base64url of zlib), a gzip payload in a JSON field (`H4sI…`),
// base64 wrapped at 76 columns or JSON-escaped, a zip in a data: URL — which the agent decodes and
// inflates: no spelling matched it (the value is never written out) and the packed scan looked for
// the compressed bytes only.
t.test('PackedScan: a secret in a compressed stream written as base64 is refused at any cuts; other text passes byte for byte', async (t) => {
  const doc = (v: string): Buffer => Buffer.from(`{"user_id":7,"token":"Bearer ${v}","_fresh":true}`);
  const zipOf = (d: Buffer): Buffer => {
    const data = zlib.deflateRawSync(d);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(8, 8);
    h.writeUInt16LE(8, 26);
    return Buffer.concat([h, Buffer.from('log.json'), data]);
  };
  const bodies: Record<string, (v: string) => string> = {
    'flask-session': (v) => `{"cookies":{"session":".${zlib.deflateSync(doc(v)).toString('base64url')}.Z1x2Yw.c2lnbmF0dXJl"}}`,
    'gzip-field': (v) => JSON.stringify({ awslogs: { data: zlib.gzipSync(doc(v)).toString('base64') } }),
    // Django's signing.dumps(compress=True): `.` + base64url of zlib, `:`-separated timestamp and signature.
    'django-signed': (v) => `<input type="hidden" name="state" value=".${zlib.deflateSync(doc(v)).toString('base64url')}:1tK9xY:c2lnbmF0dXJl">`,
    'mime-wrapped': (v) => `export:\r\n${zlib.gzipSync(doc(v)).toString('base64').replace(/.{76}(?=.)/g, '$&\r\n')}\r\n`,
    'json-escaped': (v) => JSON.stringify({ blob: zlib.gzipSync(doc(v)).toString('base64').replace(/.{20}(?=.)/g, '$&\n') }).replace(/\//g, '\\/'),
    // Express's res.cookie() percent-encodes the value: `+`, `/` and `=` as %2B, %2F, %3D.
    'express-cookie': (v) => `Set-Cookie: export=${encodeURIComponent(zlib.gzipSync(doc(v)).toString('base64'))}; Path=/`,
    // A page of records, each a gzip blob (Kinesis GetRecords of CloudWatch Logs data): one inflater per record was refused past eight.
    'records-page': (v) => JSON.stringify({ Records: Array.from({ length: 10 }, (_, i) => ({ SequenceNumber: String(i), Data: zlib.gzipSync(i === 9 ? doc(v) : `{"seq":${i}}`).toString('base64') })) }),
    'zip-data-url': (v) => `<a href="data:application/zip;base64,${zipOf(doc(v)).toString('base64')}">export</a>`,
    // Twenty-seventh pass: `base64.b64encode(zlib.compress(…))` in a JSON field or a line of text, at
    // every level (78 9c, 78 da, 78 01, 78 5e: `eJ`, `eN`, `eA`, `eF`): only a signed payload's `.eJ` was looked for in a body.
    ...Object.fromEntries([6, 9, 1, 4].flatMap((level) => [
      [`zlib-${level}-field`, (v: string) => JSON.stringify({ id: 7, blob: zlib.deflateSync(doc(v), { level }).toString('base64') })],
      [`zlib-${level}-line`, (v: string) => `id=7\npayload: ${zlib.deflateSync(doc(v), { level }).toString('base64url')}\n`],
    ])),
    // Twenty-seventh pass: such base64 written as base64 again — a Helm release as `kubectl get secret -o json`
    // shows it (base64 of base64 of gzip), a zlib payload and a zip in a base64 envelope.
    'helm-release': (v) => JSON.stringify({ kind: 'Secret', type: 'helm.sh/release.v1', data: { release: Buffer.from(zlib.gzipSync(doc(v)).toString('base64')).toString('base64') } }),
    ...Object.fromEntries([6, 9, 1, 4].map((level) => [`zlib-${level}-twice`, (v: string) => `{"envelope":"${Buffer.from(zlib.deflateSync(doc(v), { level }).toString('base64')).toString('base64url')}"}`])),
    'zip-twice': (v) => `<input name="export" value="${Buffer.from(zipOf(doc(v)).toString('base64')).toString('base64')}">`,
  };
  // What a reader gets from the text let out: every base64 run (wraps and JSON escapes undone, a
  // partial quad decoded too) read as gzip, zlib or a zip entry, as far as it inflates.
  const revealed = (o: string, depth = 0): string => {
    const out: string[] = [];
    const sync = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    const inflate = (f: () => Buffer): void => {
      try { out.push(f().toString('latin1')); } catch { /* not such a stream */ }
    };
    for (const m of o.matchAll(/(?:[A-Za-z0-9+/_-]|\\[/nr]|\r|\n|%2[BbFf])+/g)) {
      const b = Buffer.from(m[0].replace(/\\\/|%2[Ff]/g, '/').replace(/%2[Bb]/g, '+').replace(/\\[nr]|[\r\n]/g, ''), 'base64');
      inflate(() => zlib.gunzipSync(b, sync));
      inflate(() => zlib.inflateSync(b, sync));
      if (b.length > 30) inflate(() => zlib.inflateRawSync(b.subarray(30 + b.readUInt16LE(26) + b.readUInt16LE(28)), sync));
      // And the decoded text's own base64 runs (twenty-seventh pass: base64 of base64).
      if (depth === 0 && b.length > 8) out.push(revealed(b.toString('latin1'), 1));
    }
    return out.join('\n');
  };
  const run = (chunks: Buffer[]) => packedScanOf(chunks, false);
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(bodies)), cuts, async (kind, at) => {
    const withSecret = Buffer.from(bodies[kind]!(SECRET));
    if (!revealed(withSecret.toString('latin1')).includes(SECRET)) throw new Error(`${kind}: the oracle does not read the value in the body itself`);
    const got = await run(split(withSecret, at));
    if (!got.err) throw new Error(`${kind}: passed (${got.out.length} of ${withSecret.length} bytes)`);
    if (revealed(got.out.toString('latin1')).includes(SECRET)) throw new Error(`${kind}: the text let out before the refusal decodes and inflates to the value`);
    const control = Buffer.from(bodies[kind]!('ghp_nothing_secret_here_at_all_0000'));
    const passed = await run(split(control, at));
    if (passed.err || !passed.out.equals(control)) throw new Error(`${kind} control: ${passed.err?.message ?? 'bytes changed'}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 18) });
  // In the head: a session cookie (whole, or chunked in two a client joins) and a header holding gzip as base64.
  const flask = `.${zlib.deflateSync(doc(SECRET)).toString('base64url')}.Z1x2Yw.c2lnbmF0dXJl`;
  for (const headers of [
    [['set-cookie', `session=${flask}; HttpOnly; Path=/`]],
    [['set-cookie', `session.0=${flask.slice(0, 30)}; Path=/`], ['set-cookie', `session.1=${flask.slice(30)}; Path=/`]],
    [['x-debug-payload', zlib.gzipSync(doc(SECRET)).toString('base64')]],
    // zlib at every level in a header (78 9c, 78 da, 78 01, 78 5e): `eJ`, `eN`, `eA`, `eF`.
    ...[6, 9, 1, 4].map((level) => [['x-state', zlib.deflateSync(doc(SECRET), { level }).toString('base64')]]),
    // Twenty-seventh pass: base64 of that base64.
    [['x-state', Buffer.from(zlib.gzipSync(doc(SECRET)).toString('base64')).toString('base64')]],
    [['set-cookie', `state=${Buffer.from(zlib.deflateSync(doc(SECRET), { level: 9 }).toString('base64')).toString('base64url')}; Path=/`]],
  ] as Array<Array<[string, string]>>) {
    t.throws(() => scrubResponse(scrubber, { statusCode: 200, headers }), /compressed stream/, `${headers[0]![0]}: refused`);
  }
  const session = `.${zlib.deflateSync(doc('ghp_nothing_secret_here_at_all_0000')).toString('base64url')}.Z1x2Yw.c2lnbmF0dXJl`;
  const head = { statusCode: 200, headers: [['set-cookie', `session=${session}; HttpOnly; Path=/`]] as Array<[string, string]> };
  scrubResponse(scrubber, head);
  t.equal(head.headers[0]![1], `session=${session}; HttpOnly; Path=/`, 'control: a session cookie without the value passes as it was');
});

// Thirteenth pass: a secret a few characters per document of a stream (proxy/json-pieces.ts), at any chunk cuts.
t.test('JsonPieces: a secret a piece per event or NDJSON line (twenty-seventh: between another index\'s pieces) is cut at any chunk cuts, at most 7 characters out; other streams pass byte for byte', async (t) => {
  const docs = {
    sse: (p: string, i: number) => `data: ${JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: { content: p } }], n: i })}\n\n`,
    ndjson: (p: string) => `${JSON.stringify({ model: 'm', response: p, done: false })}\n`,
    crlf: (p: string) => `data:${JSON.stringify(['stdout', p])}\r\n\r\n`,
    // Twenty-third pass: a field of a numbered name, the number another each document (`k0`, `k1`, …).
    numbered: (p: string, i: number) => `${JSON.stringify({ model: 'm', [`part_${i}`]: p })}\n`,
    // Twenty-seventh pass: another stream's pieces between them, told apart by an `index` a client
    // reassembles by — OpenAI's choices with `n: 2`, parallel tool calls, NDJSON of indexed parts.
    'choices n=2': (p: string, i: number) => `data: ${JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: { content: p } }] })}\n\ndata: ${JSON.stringify({ id: 'c1', choices: [{ index: 1, delta: { content: ` w${i}` } }] })}\n\n`,
    'tool calls': (p: string, i: number) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: `{"q":${i}` } }] } }] })}\n\ndata: ${JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: p } }] } }] })}\n\n`,
    'ndjson index': (p: string, i: number) => `${JSON.stringify({ index: 1, text: `x${i}` })}\n${JSON.stringify({ index: 0, text: p })}\n`,
  } as const;
  const field = (line: string): string => {
    try {
      const v = JSON.parse(line.replace(/^data: ?/, '')) as { choices?: Array<{ index: number; delta: { content?: string; tool_calls?: Array<{ index: number; function: { arguments: string } }> } }>; response?: string; index?: number; text?: string } | string[];
      if (!Array.isArray(v)) for (const [k, x] of Object.entries(v)) if (k.startsWith('part_')) return x as string;
      if (Array.isArray(v)) return v[1]!;
      // What the reader of index 0 joins.
      if (v.index !== undefined) return v.index === 0 ? v.text ?? '' : '';
      const c = v.choices?.[0];
      if (c?.delta.tool_calls) return c.delta.tool_calls[0]!.index === 0 ? c.delta.tool_calls[0]!.function.arguments : '';
      return c ? (c.index === 0 ? c.delta.content ?? '' : '') : v.response ?? '';
    } catch {
      return '';
    }
  };
  const lineKinds = new Set(['ndjson', 'numbered', 'ndjson index']);
  const run = (body: Buffer, cuts: number[], kind: string): Promise<{ out: Buffer; err?: Error }> =>
    throughCuts(new ScrubStream(scrubber, undefined, !lineKinds.has(kind), lineKinds.has(kind)), body, cuts);
  await fc.assert(fc.asyncProperty(fc.constantFrom(...(Object.keys(docs) as Array<keyof typeof docs>)), fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 12 }), async (kind, n, cuts) => {
    const pieces = SECRET.match(new RegExp(`[^]{1,${n}}`, 'g'))!;
    const body = Buffer.from(pieces.map((p, i) => docs[kind](p, i)).join(''));
    const got = await run(body, cuts, kind);
    if (!got.err) throw new Error(`${kind}, ${n} a document: passed`);
    const joined = got.out.toString().split('\n').map(field).join('');
    const leaked = Array.from({ length: SECRET.length - 7 }, (_, i) => SECRET.slice(i, i + 8)).find((p) => joined.includes(p));
    if (leaked) throw new Error(`${kind}, ${n} a document: ${JSON.stringify(leaked)} joined from what went out`);
    const control = Buffer.from(['Hello, ', 'this is ', 'an ordinary ', 'answer.'].map((p, i) => docs[kind](p, i)).join(''));
    const passed = await run(control, cuts, kind);
    if (passed.err || !passed.out.equals(control)) throw new Error(`${kind} control: ${passed.err?.message ?? 'bytes changed'}`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60) });
  t.pass('cut at every cut; controls byte for byte');
});

// Twenty-third pass (left open by the twenty-second: pieces across answers): an event stream's
// other fields a few characters an event — each `id:` (EventSource's `lastEventId`), each `event:`
// type, a comment — which a reader of the ids or types joins; data lines were joined, other fields
// were read a chunk at a time, each on its own.
t.test('twenty-third pass: a secret a piece per event in `id:`, `event:`, a comment or another field is cut at any chunk cuts, at most 7 characters out; ordinary ids and types pass byte for byte', async (t) => {
  const run = (body: Buffer, cuts: number[]): Promise<{ out: Buffer; err?: Error }> => throughCuts(new ScrubStream(scrubber, undefined, true), body, cuts);
  const fields = { id: 'id: ', 'id, no blank': 'id:', event: 'event: ', comment: ': ', other: 'x-part: ' } as const;
  await fc.assert(fc.asyncProperty(fc.constantFrom(...(Object.keys(fields) as Array<keyof typeof fields>)), fc.integer({ min: 1, max: 11 }), fc.boolean(), fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 12 }), async (kind, n, crlf, cuts) => {
    const nl = crlf ? '\r\n' : '\n';
    const pieces = SECRET.match(new RegExp(`[^]{1,${n}}`, 'g'))!;
    const body = Buffer.from(pieces.map((p, i) => `${fields[kind]}${p}${nl}data: {"n":${i}}${nl}${nl}`).join(''));
    const got = await run(body, cuts);
    if (!got.err) throw new Error(`${kind}, ${n} an event: passed`);
    const joined = got.out.toString().split(/\r?\n/).filter((l) => l.startsWith(fields[kind])).map((l) => l.slice(fields[kind].length)).join('');
    const leaked = Array.from({ length: SECRET.length - 7 }, (_, i) => SECRET.slice(i, i + 8)).find((p) => joined.includes(p));
    if (leaked) throw new Error(`${kind}, ${n} an event: ${JSON.stringify(leaked)} joined from what went out`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls: ids, types, retries and comments of an ordinary stream (the key's public prefix among them) pass byte for byte at every 11th cut.
  const control = Buffer.from(Array.from({ length: 12 }, (_, i) => `${i % 3 ? '' : ': ping\n'}id: ${1000 + i}\nevent: ${i % 2 ? 'delta' : 'message'}\nretry: 3000\ndata: {"t":"ghp_ and x"}\n\n`).join('') + 'event: ghp_\ndata: x\n\nevent: Can\ndata: y\n\n');
  for (let cut = 0; cut <= control.length; cut += 11) {
    const passed = await run(control, cut ? [cut] : []);
    if (passed.err || !passed.out.equals(control)) t.fail(`control cut at ${cut}: ${passed.err?.message ?? 'bytes changed'}`);
  }
  t.pass('cut at every cut; controls byte for byte');
});

// Sixteenth pass: each burst was scrubbed a microtask after its read, so every stream with data in
// one poll of the event loop was scrubbed before anything else ran: one agent's 100 downloads from
// a host that got a secret made a neighbour's GET take ~1 s (p50; 6 ms without them). Past a few
// milliseconds of scrubbing in one turn of the event loop, bursts wait their agent's turn.
t.test("scrubbing takes turns: another agent's stream goes before one agent's backlog, and the event loop gets its turn", async (t) => {
  const chunk = Buffer.from(`{"t":"${'x'.repeat(256 * 1024)}"}`);
  const order: string[] = [];
  const streams: ScrubStream[] = [];
  for (let i = 0; i < 100; i++) {
    const s = new ScrubStream(scrubber);
    s.owner = 'hostile';
    s.on('data', () => order.push('hostile'));
    streams.push(s);
  }
  const mine = new ScrubStream(scrubber);
  mine.owner = 'neighbour';
  mine.on('data', () => order.push('neighbour'));
  // Each write in a turn of its own, as reads of many sockets arrive; the neighbour's last.
  for (const s of streams) {
    s.write(chunk);
    await Promise.resolve();
  }
  mine.write(Buffer.from('{"ok":true}'));
  let beforeIo = -1;
  setImmediate(() => { beforeIo = order.length; });
  await new Promise<void>((resolve) => {
    const check = (): void => { if (order.length >= 101) resolve(); else setImmediate(check); };
    check();
  });
  const at = order.indexOf('neighbour');
  t.ok(at < 50, `the neighbour's burst went in its turn (${at + 1} of 101)`);
  t.ok(beforeIo >= 0 && beforeIo < 100, `the event loop had a turn before the backlog was done (${beforeIo} of 101 scrubbed then)`);
  for (const s of [...streams, mine]) s.destroy();
});

// Sixteenth pass: a short array is walked twice (a list, and a tuple whose places are fields), so
// arrays nested in arrays doubled the walk at each level: `[[[…0…]]]` 30 deep, 65 bytes (a
// WebSocket message an echo service on a host that got a secret returns, an NDJSON or event-stream
// line), held the event loop for minutes for every agent (26 deep: seconds). Visits are bounded.
t.test('JsonPieces: arrays nested in arrays are read within a bound (a message, an NDJSON line, an event)', async (t) => {
  const { JsonPieces } = await import('../../proxy/json-pieces.ts');
  const nested = `${'['.repeat(26)}0${']'.repeat(26)}`;
  for (const [how, read] of [
    ['a WebSocket message', (p: InstanceType<typeof JsonPieces>) => p.document(nested)],
    ['an NDJSON line', (p: InstanceType<typeof JsonPieces>) => p.take(`${nested}\n`, false)],
    ['an event', (p: InstanceType<typeof JsonPieces>) => p.take(`data: ${nested}\n\n`, true)],
  ] as const) {
    const started = performance.now();
    read(new JsonPieces(() => scrubber));
    const ms = performance.now() - started;
    t.ok(ms < 250, `${how} of ${nested.length} bytes read in ${Math.round(ms)} ms`);
  }
  // The tuple places still join: a secret a piece per message in a short array's second place.
  const p = new JsonPieces(() => scrubber);
  t.throws(() => { for (const piece of SECRET.match(/.{1,3}/g)!) p.document(JSON.stringify(['stdout', piece])); }, /a piece per document/, 'a secret a piece per tuple is still caught');
});

// Sixteenth pass: every compressed start inside one whole message (a WebSocket message from a host
// that got a secret, a header value) was inflated on the main thread up to 16 MiB each, and each
// that broke off was halved, up to 16 MiB a try: a 61 KB message of four broken gzip members of
// zeros held the event loop 4.4 s (64 members: a minute). The message's streams share one budget now.
t.test('packedTexts: the compressed streams of one message are read within one budget', async (t) => {
  const { packedTexts } = await import('../../proxy/packed-scan.ts');
  const zlibMod = await import('node:zlib');
  const zeros = zlibMod.deflateRawSync(Buffer.alloc(15 * 1024 * 1024), { level: 9, finishFlush: zlibMod.constants.Z_SYNC_FLUSH });
  const broken = Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]), zeros, Buffer.from([0xff, 0xff, 0xff])]);
  const started = performance.now();
  t.throws(() => packedTexts(Buffer.concat([broken, broken, broken, broken])), { message: /expands past|break off/ }, 'the message is refused');
  const ms = performance.now() - started;
  t.ok(ms < 800, `within ${Math.round(ms)} ms (1–4.4 s before)`);
  // An ordinary compressed blob in a message is still read.
  const blob = zlibMod.gzipSync(Buffer.from(`{"log":"${SECRET}"}`));
  t.ok(packedTexts(Buffer.concat([Buffer.from('frame:'), blob])).some((x) => x.includes(SECRET)), 'a gzip member inside a message is read');
});

// Twenty-third pass (follow-up): a key read back a few characters per labelled row in one body
// (a table with row numbers, CSV, HTML cells, JSON fields of different names, an array of
// objects, a repeated form field, YAML): the labels between the pieces hid it from every spelling.
t.test('twenty-third pass (follow-up): a key a piece per labelled row or field in one body is cut at any chunk cuts, at most 7 characters out; random tables and JSON of short values pass byte for byte', async (t) => {
  const KEY = 'sk_live_51HxYzAbCdEf0123456789';
  const keyed = new Scrubber([{ value: KEY, placeholder: PH }]);
  const run = (body: Buffer, cuts: number[]): Promise<{ out: Buffer; err?: Error }> => throughCuts(new ScrubStream(keyed), body, cuts);
  // Each layout: the body of these cells, and how its reader takes the pieces back out of a body.
  const names = 'abcdefghijklmnopqrstuvwxyz';
  const layouts: Record<string, { body: (cells: string[]) => string; read: (body: string) => string }> = {
    markdown: { body: (c) => `| i | c |\n|---|---|\n${c.map((p, i) => `| ${i} | ${p} |\n`).join('')}`, read: (b) => [...b.matchAll(/^\| \d+ \| ([^ |\n]+) \|$/gm)].map((m) => m[1]).join('') },
    csv: { body: (c) => `i,c\r\n${c.map((p, i) => `${i},${p}\r\n`).join('')}`, read: (b) => [...b.matchAll(/^\d+,([^\r\n]+)\r$/gm)].map((m) => m[1]).join('') },
    tsv: { body: (c) => c.map((p, i) => `${i}\t${p}\tshown on the page\n`).join(''), read: (b) => [...b.matchAll(/^\d+\t([^\t\n]+)\tshown on the page$/gm)].map((m) => m[1]).join('') },
    html: { body: (c) => `<table><tr><th>i</th><th>c</th></tr>${c.map((p, i) => `<tr><td>${i}</td><td class="v">${p}</td></tr>`).join('')}</table>`, read: (b) => [...b.matchAll(/<td class="v">([^<]+)<\/td><\/tr>/g)].map((m) => m[1]).join('') },
    'json fields': { body: (c) => JSON.stringify(Object.fromEntries(c.map((p, i) => [`${names[i % 26]}${names[Math.floor(i / 26)]}`, p]))), read: (b) => [...b.matchAll(/"[a-z]{2}":"([^"]*)"(?=[,}])/g)].map((m) => m[1]).join('') },
    'json rows': { body: (c) => JSON.stringify(c.map((p, i) => ({ i, c: p }))), read: (b) => [...b.matchAll(/"c":"([^"]*)"\}/g)].map((m) => m[1]).join('') },
    form: { body: (c) => c.map((p) => `a=${p}`).join('&'), read: (b) => [...b.matchAll(/(?:^|&)a=([^&]*)(?=&)/g)].map((m) => m[1]).join('') },
    yaml: { body: (c) => c.map((p, i) => `k${i}: ${p}\n`).join(''), read: (b) => [...b.matchAll(/^k\d+: (\S+)$/gm)].map((m) => m[1]).join('') },
    'numbered lines': { body: (c) => c.map((p, i) => `${i + 1}. ${p}\n`).join(''), read: (b) => [...b.matchAll(/^\d+\. (\S+)$/gm)].map((m) => m[1]).join('') },
    'blank-separated': { body: (c) => c.map((p, i) => `  ${i} ${p}\r\n`).join(''), read: (b) => [...b.matchAll(/^ {2}\d+ (\S+)\r$/gm)].map((m) => m[1]).join('') },
    // Twenty-fifth pass: tables wider than the 8 strides read (a CSV export of 12 columns, a Markdown table of 10).
    'csv 12 columns': { body: (c) => `id,at,m,path,st,ms,ip,ua,ref,lang,x,piece\r\n${c.map((p, i) => `${i},2026-12-07,GET,/v1/items,200,${i * 7},10.0.0.${i},curl,-,en,${i % 3},${p}\r\n`).join('')}`, read: (b) => [...b.matchAll(/^\d+,(?:[^,\r\n]*,){10}([^\r\n]+)\r$/gm)].map((m) => m[1]).join('') },
    'html 10 columns': { body: (c) => `<table>${c.map((p, i) => `<tr><td>${i}</td><td>x</td><td>${i % 5}</td><td>y</td><td>z</td><td>1</td><td>2</td><td>ok</td><td>-</td><td class="v">${p}</td></tr>`).join('')}</table>`, read: (b) => [...b.matchAll(/<td class="v">([^<]+)<\/td><\/tr>/g)].map((m) => m[1]).join('') },
    'markdown 10 columns': { body: (c) => `| i | a | b | c | d | e | f | g | h | v |\n${c.map((p, i) => `| ${i} | x | ${i % 5} | y | z | 1 | 2 | ok | - | ${p} |\n`).join('')}`, read: (b) => [...b.matchAll(/^\| \d+ \|(?: [^|]* \|){8} ([^ |\n]+) \|$/gm)].map((m) => m[1]).join('') },
  };
  const fuzz = { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 60), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) };
  // Twenty-fourth pass (left open by the twenty-third): pieces of 9–11 characters a row too.
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(layouts)), fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 9, max: 11 })), fc.boolean(), fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 12 }), async (kind, n, upper, cuts) => {
    const value = upper ? KEY.toUpperCase() : KEY;
    const body = Buffer.from(layouts[kind]!.body(value.match(new RegExp(`.{1,${n}}`, 'g'))!));
    const got = await run(body, cuts);
    if (!got.err) throw new Error(`${kind}, ${n} a row: passed`);
    const joined = layouts[kind]!.read(got.out.toString()).toLowerCase();
    const leaked = Array.from({ length: KEY.length - 7 }, (_, i) => KEY.slice(i, i + 8).toLowerCase()).find((p) => joined.includes(p));
    if (leaked) throw new Error(`${kind}, ${n} a row: ${JSON.stringify(leaked)} read back from what went out`);
  }), fuzz);
  // Controls: random tables and JSON of short values (letters, digits, the key's public prefix among them) pass byte for byte at two cuts.
  const cell = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_]{1,6}$/), fc.constantFrom('sk', 'sk_', 'live', '_51', 'Hx', 'sk_live_', '0', '1', 'true', 'null'));
  await fc.assert(fc.asyncProperty(fc.constantFrom(...Object.keys(layouts)), fc.array(cell, { minLength: 1, maxLength: 26 }), fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 2 }), async (kind, cells, cuts) => {
    const body = Buffer.from(layouts[kind]!.body(cells));
    const got = await run(body, cuts);
    if (got.err || !got.out.equals(body)) throw new Error(`control ${kind} ${JSON.stringify(cells)}: ${got.err?.message ?? 'bytes changed'}`);
  }), fuzz);
  t.pass('every layout cut; controls byte for byte');
});

// Twenty-eighth pass (the CI's seed -2070356186 of the property above): a chunk that ended after
// `<t` of a `<tr` lost the row's start (the tag's name was not carried to the next chunk), so the
// first row's piece fell in another column and the column's join began at the second row; in
// capitals that join (the key's end) read as no spelling, since a run of the key is matched in its
// own case. Both: the tag carried across chunks, and a join in another case read in the key's.
t.test('twenty-eighth pass: a chunk cut inside `<tr` keeps the row\'s columns, and a column joining the key\'s end in another case (its start not given) is refused; other capitals pass', async (t) => {
  const KEY = 'sk_live_51HxYzAbCdEf0123456789';
  const keyed = new Scrubber([{ value: KEY, placeholder: PH }]);
  const html = (c: string[]): string => `<table>${c.map((p, i) => `<tr><td>${i}</td><td>x</td><td>${i % 5}</td><td>y</td><td>z</td><td>1</td><td>2</td><td>ok</td><td>-</td><td class="v">${p}</td></tr>`).join('')}</table>`;
  const csv = (c: string[]): string => `i,c\r\n${c.map((p, i) => `${i},${p}\r\n`).join('')}`;
  for (const cut of [8, 9, 10, 11]) {
    const got = await throughCuts(new ScrubStream(keyed), Buffer.from(html(KEY.toUpperCase().match(/.{1,9}/g)!)), [cut]);
    t.ok(got.err, `the key in capitals, 9 a row of a 10-column table, cut at ${cut}: refused`);
  }
  await fc.assert(fc.asyncProperty(fc.constantFrom('upper', 'lower', 'own'), fc.integer({ min: 9, max: 14 }), fc.integer({ min: 3, max: 8 }), fc.constantFrom('csv', 'html'), fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 3 }), async (kase, from, n, layout, cuts) => {
    const tail = KEY.slice(from);
    const cased = kase === 'upper' ? tail.toUpperCase() : kase === 'lower' ? tail.toLowerCase() : tail;
    const cells = cased.match(new RegExp(`.{1,${n}}`, 'g'))!;
    const got = await throughCuts(new ScrubStream(keyed), Buffer.from(layout === 'csv' ? csv(cells) : html(cells)), cuts);
    if (!got.err) throw new Error(`the key's last ${tail.length} characters (${kase}), ${n} a row in ${layout}: passed`);
  }), { numRuns: Number(process.env.AIRLOCK_FUZZ_RUNS ?? 40), ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  // Controls: capitals that are part of no key, and the key's end too short to be a run of it.
  for (const cells of [['ABCDEF', 'GHIJKL', 'MNOPQR'], ['SK_LIVE', 'XYZ'], KEY.slice(-9).toUpperCase().match(/.{1,3}/g)!]) {
    const body = Buffer.from(csv(cells));
    const got = await throughCuts(new ScrubStream(keyed), body, [7]);
    t.ok(!got.err && got.out.equals(body), `control ${JSON.stringify(cells)} passes byte for byte`);
  }
});

// Twenty-ninth pass: MIME encoded-words side by side are one text to a reader (RFC 2047 §6.2: the
// blanks and folds between them dropped), so a key split across two or more — B or Q, any split,
// in a message export's or a multipart part's header in the body — was read whole by Python's email
// package while no word held a spelling of it (the head's runs were read, a body's not). Property:
// any split, blanks or a fold between, at any two chunk cuts: the run comes out replaced; controls:
// other encoded-words (accented names, a subject in pieces) pass byte for byte at every cut.
t.test('twenty-ninth pass: the key in MIME encoded-words side by side (B or Q, any split, blanks or folds between) at any two chunk cuts is replaced; other encoded-words pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const { encodedWords } = await import('../attacks/readback-service.ts');
  await fc.assert(fc.asyncProperty(fc.constantFrom<'b' | 'q'>('b', 'q'), fc.integer({ min: 1, max: 24 }), fc.constantFrom(' ', '\r\n ', '\r\n\t', '  '), fc.nat(), fc.nat(), async (kind, size, gap, a, b) => {
    const words = encodedWords(`token ${value} rotated`, kind, size, gap);
    const body = Buffer.from(`From: ci@example.com\r\nSubject: ${words}\r\nContent-Type: text/plain\r\n\r\nsee the subject\r\n`, 'latin1');
    const [c1, c2] = [a % (body.length + 1), b % (body.length + 1)].sort((x, y) => x - y);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, c1), body.subarray(c1, c2), body.subarray(c2)])).toString('latin1');
    if (!out.includes(`Subject: ${PH}`)) throw new Error(`${kind}${size} ${JSON.stringify(gap)} cut at ${c1}, ${c2}: ${out.slice(0, 200)}`);
  }), { numRuns: 40, ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  const { encodedWords: ew } = await import('../attacks/readback-service.ts');
  const plain = Buffer.from(`Subject: ${ew('Café au lait — Ünïcode subject in pieces, sk_live is a prefix', 'b', 7, '\r\n ')}\r\nFrom: =?utf-8?q?Ren=C3=A9?= <r@example.com>\r\nX-Note: ${ew('sk_live_51Hx and nothing more', 'q', 5, ' ')}\r\n\r\nbody =?utf-8?b?aGk=?=\r\n`, 'latin1');
  for (let cut = 0; cut <= plain.length; cut += 7) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `other encoded-words cut at ${cut} pass`);
});

// Twenty-ninth pass (left open by the twenty-eighth): the key's UTF-32 bytes (Python's
// `v.encode('utf-32-le')`, a `wchar_t` dump, .NET's `Encoding.UTF32`) as base64 or hex: only its
// UTF-8 and UTF-16 bytes were read so. Property: little or big endian, after 0–5 other characters,
// base64 (standard or URL-safe) or hex (either case), at any two chunk cuts; controls: other text's.
t.test('twenty-ninth pass: the key\'s UTF-32 bytes as base64 or hex at any alignment and two chunk cuts are replaced; other UTF-32 base64 and hex pass byte for byte', async (t) => {
  const value = 'sk_live_51HxYzAbCdEf0123456789';
  const s = new Scrubber([{ value, placeholder: PH }]);
  const utf32 = (text: string, be: boolean): Buffer => {
    const b = Buffer.alloc(4 * [...text].length);
    [...text].forEach((c, i) => (be ? b.writeUInt32BE(c.codePointAt(0)!, 4 * i) : b.writeUInt32LE(c.codePointAt(0)!, 4 * i)));
    return b;
  };
  const shown = (b: Buffer, how: number): string => [b.toString('base64'), b.toString('base64url'), b.toString('hex'), b.toString('hex').toUpperCase()][how]!;
  await fc.assert(fc.asyncProperty(fc.boolean(), fc.string({ unit: fc.constantFrom(...'abc xyz:'), maxLength: 5 }), fc.integer({ min: 0, max: 3 }), fc.nat(), fc.nat(), async (be, before, how, a, b) => {
    const body = Buffer.from(`{"w":"${shown(utf32(`${before}${value}`, be), how)}"}`, 'latin1');
    const [c1, c2] = [a % (body.length + 1), b % (body.length + 1)].sort((x, y) => x - y);
    const out = (await collect(new ScrubStream(s), [body.subarray(0, c1), body.subarray(c1, c2), body.subarray(c2)])).toString('latin1');
    if (!out.includes(PH)) throw new Error(`UTF-32 ${be ? 'BE' : 'LE'} after ${JSON.stringify(before)} as ${how} cut at ${c1}, ${c2}: ${out.slice(0, 120)}`);
  }), { numRuns: 40, ...(process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {}) });
  const other = ['sk_test_other value, not the key', 'Grüße aus Köln 😀', value.slice(0, 12)];
  const plain = Buffer.from(JSON.stringify(other.flatMap((o) => [false, true].flatMap((be) => [0, 1, 2, 3].map((how) => shown(utf32(o, be), how))))), 'latin1');
  for (let cut = 0; cut <= plain.length; cut += 37) t.same(await collect(new ScrubStream(s), [plain.subarray(0, cut), plain.subarray(cut)]), plain, `other UTF-32 text cut at ${cut} passes`);
});
