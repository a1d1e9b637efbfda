// The scrubber against every spelling (fast-check): secrets with punctuation and non-ASCII
// characters, spelled by the suite's own generator (test/attacks/spelling-oracle.ts: escape
// families mixed per character, soft line breaks, base64/base64url at any alignment and wrapping,
// hex with separators), inside UTF-8, UTF-16 and UTF-32 text, cut into chunks anywhere. After
// scrubbing, the suite's brute-force reader must not find the secret; text without a secret must
// come out byte for byte; a stream must give what a whole-string scrub gives.
import crypto from 'node:crypto';
import fc from 'fast-check';
import t from 'tap';
import { Scrubber, ScrubStream } from '../../proxy/scrub.ts';
import { docEncodings, echoSpelling, encodeDoc, reveal, spelling } from '../attacks/spelling-oracle.ts';

const numRuns = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 150);
const seed = process.env.AIRLOCK_FUZZ_SEED ? { seed: Number(process.env.AIRLOCK_FUZZ_SEED) } : {};
const PH = 'airlock-ph-s-0123456789abcdef0123456789abcdef';

// Secrets as people have them: API keys, passwords with punctuation, a few with non-ASCII characters.
const asciiSecret = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-/+=.:&<>"\'%~!@#$ '), minLength: 10, maxLength: 48 })
  .filter((s) => s.trim() === s && /[A-Za-z0-9]{3}/.test(s));
const unicodeSecret = fc.tuple(asciiSecret, fc.constantFrom('é', 'ü', '€', 'ß', '中', '😀')).map(([s, u]) => `${s.slice(0, 5)}${u}${s.slice(5)}`);

const scrubbers = new Map<string, Scrubber>();
const scrubberFor = (secret: string): Scrubber => {
  let s = scrubbers.get(secret);
  if (!s) scrubbers.set(secret, (s = new Scrubber([{ value: secret, placeholder: PH }])));
  return s;
};

async function streamed(scrubber: Scrubber, body: Buffer, cuts: number[]): Promise<Buffer> {
  const stream = new ScrubStream(scrubber);
  const out: Buffer[] = [];
  stream.on('data', (d: Buffer) => out.push(d));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('error', reject);
  });
  let at = 0;
  for (const c of [...new Set(cuts.map((x) => x % (body.length + 1)))].sort((a, b) => a - b)) {
    stream.write(body.subarray(at, c));
    at = c;
    // Each piece its own burst: the stream scrubs what arrives in one turn together (ScrubStream).
    await Promise.resolve();
  }
  stream.end(body.subarray(at));
  await done;
  return Buffer.concat(out);
}

t.test('no spelling of a secret survives, in any text encoding, cut anywhere', async (t) => {
  const sample = fc.oneof(
    fc.tuple(asciiSecret, fc.constantFrom(...docEncodings)),
    fc.tuple(unicodeSecret, fc.constant('utf8' as const)),
  ).chain(([secret, enc]) => fc.record({
    secret: fc.constant(secret), enc: fc.constant(enc), spelled: echoSpelling(secret),
    before: fc.constantFrom('', '{"echo":"', 'Authorization: Bearer ', '<p>token: ', 'k=', '-----BEGIN-----\n'),
    after: fc.constantFrom('', '"}', '\r\n', '</p>', '&next=1', '\n-----END-----'),
    cuts: fc.array(fc.nat(), { maxLength: 4 }),
  }));
  await fc.assert(fc.asyncProperty(sample, async ({ secret, enc, spelled, before, after, cuts }) => {
    const body = encodeDoc(`${before} ${spelled.text} ${after}`, enc);
    if (!reveal(body, secret)) return; // the generator's spelling must be readable, or the check means nothing
    const out = await streamed(scrubberFor(secret), body, cuts);
    const found = reveal(out, secret);
    if (found) throw new Error(`${spelled.how} in ${enc} survived scrubbing (readable as ${found})`);
  }), { numRuns, ...seed });
});

t.test('text without a secret passes byte for byte; a stream scrubs like the whole string', async (t) => {
  const secret = 'sk_live_R3ad/Back+Canary=&<x>%~ 0123';
  const scrubber = scrubberFor(secret);
  const ordinary = fc.oneof(
    fc.json(),
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a).toString('latin1')),
    fc.constantFrom('%41%42%43 =41=42 \\u0041 &#65; &amp; QUJD\r\nREVG 0x41,0x42', 'data: {"delta":"hello"}\n\n'),
  );
  await fc.assert(fc.asyncProperty(ordinary, fc.array(fc.nat(), { maxLength: 5 }), async (text, cuts) => {
    const body = Buffer.from(text, 'latin1');
    const out = await streamed(scrubber, body, cuts);
    if (!out.equals(body)) throw new Error(`ordinary content changed: ${JSON.stringify(text.slice(0, 80))}`);
  }), { numRuns, ...seed });
  await fc.assert(fc.asyncProperty(spelling(secret), fc.constantFrom(...docEncodings), fc.array(fc.nat(), { maxLength: 6 }), async (spelled, enc, cuts) => {
    const body = encodeDoc(`x ${spelled.text} y ${spelled.text}`, enc);
    const whole = Buffer.from(scrubber.scrubString(body.toString('latin1')), 'latin1');
    const out = await streamed(scrubber, body, cuts);
    if (!out.equals(whole)) throw new Error(`${spelled.how} in ${enc}: stream and whole-string scrub differ`);
  }), { numRuns, ...seed });
});

t.test('a UTF-16/32 echo gets the placeholder in the same encoding', async (t) => {
  const secret = 'ghp_Canary0123456789abcdefXYZ';
  for (const enc of ['utf16le', 'utf16be', 'utf32le', 'utf32be'] as const) {
    const out = Buffer.from(scrubberFor(secret).scrubString(encodeDoc(`{"k":"${secret}"}`, enc).toString('latin1')), 'latin1');
    t.ok(out.equals(encodeDoc(`{"k":"${PH}"}`, enc)), enc);
  }
});

t.test('streaming holds back only what could still become a secret', async (t) => {
  const scrubber = scrubberFor('ghp_Canary0123456789abcdefXYZ');
  const stream = new ScrubStream(scrubber);
  const seen: string[] = [];
  stream.on('data', (d: Buffer) => seen.push(d.toString('latin1')));
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
  stream.write(Buffer.from('data: {"a":"hello"}\n\n'));
  await tick();
  t.same(seen, ['data: {"a":"hello"}\n\n'], 'an SSE event with nothing secret-like is passed at once');
  stream.write(Buffer.from('data: gh%70_Can'));
  await tick();
  t.same(seen.slice(1), ['data: '], 'a partly escaped start of the secret is held');
  stream.end(Buffer.from('ary0123456789abcdefXYZ\n'));
  await new Promise((r) => stream.on('end', r));
  t.equal(seen.join(''), `data: {"a":"hello"}\n\ndata: ${PH}\n`);
});

// A long credential (an AWS session token, an Azure or GCP JWT: 400–2,000 bytes) is matched in its
// canonical spellings whole, and its first and last 64 bytes in every spelling: a service that
// shows it wrapped (MIME base64, quoted-printable), hex with separators or escaped its own way must
// leave neither the value nor either end of it readable.
t.test('a long credential leaves no end readable, in any spelling', async (t) => {
  const token = (seed: string, n: number, url: boolean): string => {
    let out = '';
    for (let i = 0; out.length < n; i++) out += crypto.createHash('sha512').update(`${seed}${i}`).digest(url ? 'base64url' : 'base64');
    return out.slice(0, n);
  };
  const secrets = [`FwoGZXIvYXdzE${token('aws', 700, false)}`, `eyJhbGciOiJSUzI1NiJ9.${token('jwt-body', 300, true)}.${token('jwt-sig', 342, true)}`];
  const sample = fc.record({ secret: fc.constantFrom(...secrets), enc: fc.constantFrom('utf8', 'utf16le') as fc.Arbitrary<'utf8' | 'utf16le'>, cuts: fc.array(fc.nat(), { maxLength: 3 }) })
    .chain((s) => echoSpelling(s.secret).map((spelled) => ({ ...s, spelled })));
  await fc.assert(fc.asyncProperty(sample, async ({ secret, enc, spelled, cuts }) => {
    const body = encodeDoc(`{"echo":"${spelled.text}"}`, enc);
    if (!reveal(body, secret)) return;
    // Not refused (twenty-fifth pass): a list of its characters whose ends the scrubber replaced is
    // no set of labelled rows (the twenty-fourth pass refused it, a false refusal).
    const out = await streamed(scrubberFor(secret), body, cuts);
    for (const [what, part] of [['the value', secret], ['its first 64 bytes', secret.slice(0, 64)], ['its last 64 bytes', secret.slice(-64)]] as const) {
      const found = reveal(out, part);
      if (found) throw new Error(`${spelled.how} in ${enc}: ${what} survived scrubbing (readable as ${found})`);
    }
  }), { numRuns: Math.max(8, Math.round(numRuns / 15)), ...seed });
  // Twenty-fifth pass: a long key as a list of its characters (Java's, Gson's, Python's), its first
  // few let out before the list is read whole, was refused as pieces per labelled row (a false
  // refusal: the scrubber replaced its ends); it passes now with no end readable, at any cuts.
  const lists: Array<[string, string]> = [['', ', '], ['"', ','], ["'", ', '], ["'", ' '], ['', ',\n  ']];
  await fc.assert(fc.asyncProperty(fc.constantFrom(...secrets), fc.constantFrom(...lists), fc.array(fc.integer({ min: 1, max: 3200 }), { maxLength: 3 }), async (secret, [q, sep], cuts) => {
    const body = Buffer.from(`{"echo":"[${[...secret].map((c) => `${q}${c}${q}`).join(sep)}]"}`);
    const out = await streamed(scrubberFor(secret), body, cuts);
    if (!out.includes(PH)) throw new Error(`list ${JSON.stringify(q + sep)}: no placeholder`);
    for (const part of [secret.slice(0, 64), secret.slice(-64)]) if (reveal(out, part)) throw new Error(`list ${JSON.stringify(q + sep)}: an end readable`);
  }), { numRuns: 12, ...seed });
});


// Twenty-ninth pass: the hold for a spelt-out key at a chunk's end (proxy/spellings.ts mayHoldSpoken)
// reads back only over the trailing run of the spelling's own characters (it was a regex over the
// whole tail, ~5 µs of every scrubbed answer), and finds a NATO spelling glued to what is before it
// (`9Sierra`, `tokenSierra`: the spellings' regexes need no boundary), which it missed when the cut
// fell inside the first word and no other word of the alphabet was in the tail: the rest of the key
// was let out spelt. Property: what a partial scrub holds starts no later than where the spelt-out
// spellings' own automaton says one may be under way; controls: a JSON, HTML or prose end holds nothing of it.
t.test('twenty-ninth pass: a spelt-out key cut anywhere after any text (glued to a digit or word too) is held from its start; JSON, HTML and prose ends are not held for it', async (t) => {
  const { PrefixAutomaton, spokenSpellingsOf } = await import('../../proxy/spellings.ts');
  const keys = ['sk_live_51HxYzAbCdEf0123456789', 'ghp_Canary0123456789abcdefXYZ'];
  const autos = new Map(keys.map((k) => [k, new PrefixAutomaton(spokenSpellingsOf(k))]));
  const W: Record<string, string> = Object.fromEntries(Object.entries({ a: 'Alfa', b: 'Bravo', c: 'Charlie', d: 'Delta', e: 'Echo', f: 'Foxtrot', g: 'Golf', h: 'Hotel', i: 'India', j: 'Juliett', k: 'Kilo', l: 'Lima', m: 'Mike', n: 'November', o: 'Oscar', p: 'Papa', q: 'Quebec', r: 'Romeo', s: 'Sierra', t: 'Tango', u: 'Uniform', v: 'Victor', w: 'Whiskey', x: 'X-ray', y: 'Yankee', z: 'Zulu', 0: 'Zero', 1: 'One', 2: 'Two', 3: 'Three', 4: 'Four', 5: 'Five', 6: 'Six', 7: 'Seven', 8: 'Eight', 9: 'Nine', _: 'Underscore' }));
  const M: Record<string, string> = { a: '.-', b: '-...', c: '-.-.', d: '-..', e: '.', f: '..-.', g: '--.', h: '....', i: '..', j: '.---', k: '-.-', l: '.-..', m: '--', n: '-.', o: '---', p: '.--.', q: '--.-', r: '.-.', s: '...', t: '-', u: '..-', v: '...-', w: '.--', x: '-..-', y: '-.--', z: '--..', 0: '-----', 1: '.----', 2: '..---', 3: '...--', 4: '....-', 5: '.....', 6: '-....', 7: '--...', 8: '---..', 9: '----.', _: '..--.-' };
  const spell = (key: string, how: number, sep: string): string => {
    const v = [...key];
    if (how === 0) return v.map((c) => W[c.toLowerCase()]).join(sep);
    if (how === 1) return v.map((c) => (/[A-Z]/.test(c) ? 'capital ' : '') + W[c.toLowerCase()]).join(sep);
    if (how === 2) return v.map((c) => (/[A-Z]/.test(c) ? W[c.toLowerCase()]!.toUpperCase() : W[c.toLowerCase()]!.toLowerCase())).join(sep);
    if (how === 3) return v.map((c) => (c === '_' ? '_' : W[c.toLowerCase()])).join(sep);
    return v.map((c) => M[c.toLowerCase()]).join(sep === ', ' ? ' ' : sep);
  };
  const befores = ['{"log":"', 'id=9', 'token', 'key: ', 'Hotel India in Lima, the code is ', '<td>', 'x\n', '- '];
  await fc.assert(fc.asyncProperty(fc.constantFrom(...keys), fc.integer({ min: 0, max: 4 }), fc.constantFrom(' ', ' - ', ', ', ' / ', '\n'), fc.constantFrom(...befores), fc.nat(), async (key, how, sep, before, at) => {
    const form = spell(key, how, sep);
    // Morse right after a letter or digit is read as a sentence's full stop and not held (left open).
    if (how === 4 && /[0-9A-Za-z]$/.test(before)) return;
    // Cut short (a whole spelling is replaced, not held).
    const cut = 1 + (at % (form.length - 1));
    const text = `${before}${form.slice(0, cut)}`;
    const truth = autos.get(key)!.earliestPrefix(text, 0);
    const { rest } = scrubberFor(key).scrubPartial(text);
    if (text.length - rest.length > truth) throw new Error(`${JSON.stringify(text.slice(-60))}: let out up to ${text.length - rest.length}, the spelling may start at ${truth}`);
    if (how !== 3 || cut < 12) return;
    // The whole answer in two chunks: the key comes out replaced, none of its spelling after the cut.
    const body = Buffer.from(`${before}${form}" and more`, 'latin1');
    const out = (await streamed(scrubberFor(key), body, [text.length])).toString('latin1');
    if (!out.includes(PH) || out.includes(form.slice(-20))) throw new Error(`${JSON.stringify(text.slice(-40))}: the spelling was let out: ${out.slice(0, 200)}`);
  }), { numRuns: 60, ...seed });
  const json = JSON.stringify(Array.from({ length: 12 }, (_, i) => ({ id: i, name: `item ${i}`, note: 'Hotel India' })));
  const html = '<p>Alpha and <b>Bravo</b> teams, Kilo Echo</p>\n';
  const prose = 'Alpha and Bravo teams met at the Hotel India in Lima, Sierra Leone. The end.\n';
  for (const [what, text] of [['JSON', json], ['HTML', html], ['prose', prose]] as const) {
    const { PrefixAutomaton: P } = await import('../../proxy/spellings.ts');
    t.equal(new P(spokenSpellingsOf(keys[0]!)).earliestPrefix(text, 0), text.length, `${what}: no spelling under way at its end`);
    const { out, rest } = scrubberFor(keys[0]!).scrubPartial(text);
    t.equal(out + rest, text, `${what} passes byte for byte`);
  }
});
