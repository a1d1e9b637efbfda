// Decoding responses Airlock must scrub (a credential was injected): the decoder honours the
// agent's pace (backpressure all the way to the compressed input), and a body that inflates past
// the size or ratio cap — a gzip bomb, stacked `gzip, gzip` — is cut off with the reason reported.
import crypto from 'node:crypto';
import { PassThrough, Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import fc from 'fast-check';
import t from 'tap';
import { PackedScan } from '../../proxy/packed-scan.ts';
import { DecompressionLimitError, Scrubber, scrubResponse, UnscrubbableEncodingError, defaultInflateLimits } from '../../proxy/scrub.ts';
import { watchLoopStalls } from '../helpers/loop-stall.ts';

const SECRET = 'ghp_Canary/Secret+Value=42?&x';
const PH = 'airlock-ph-gh-0123456789abcdef0123456789abcdef';
const scrubber = new Scrubber([{ value: SECRET, placeholder: PH }]);

function transformFor(encoding: string, onLimit?: (why: string) => void, limits = defaultInflateLimits): Transform {
  const head = { statusCode: 200, headers: [['content-encoding', encoding]] as Array<[string, string]> };
  return scrubResponse(scrubber, head, { limits, ...(onLimit ? { onLimit } : {}) }).transform!;
}

/** Compressed bytes served lazily, counting how many the consumer pulled. */
function lazySource(data: Buffer, chunk = 16 * 1024): Readable & { pulled: number } {
  let at = 0;
  const r = new Readable({
    read() {
      if (at >= data.length) return void this.push(null);
      const c = data.subarray(at, at + chunk);
      at += c.length;
      (r as Readable & { pulled: number }).pulled = at;
      this.push(c);
    },
  }) as Readable & { pulled: number };
  r.pulled = 0;
  return r;
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

t.test('a slow reader holds the decoder back: nothing is inflated ahead of the agent', async (t) => {
  // 12 MiB of text that compresses about 2x, with the secret sprinkled in.
  const lines = 768;
  const text = Buffer.from(Array.from({ length: lines }, () => `${crypto.randomBytes(6000).toString('hex').slice(0, 16000)} ${SECRET}\n`).join(''));
  const gz = zlib.gzipSync(text, { level: 1 });
  const source = lazySource(gz);
  const transform = transformFor('gzip');
  source.pipe(transform);
  // Nobody reads: wait (bounded) until the pipeline stops moving.
  let last = -1;
  for (let i = 0; i < 50 && source.pulled !== last; i++) {
    last = source.pulled;
    await settle(40);
  }
  t.ok(transform.readableLength <= 64 * 1024, `decoded bytes waiting for the agent stay small (${transform.readableLength})`);
  t.ok(source.pulled < 2 * 1024 * 1024, `compressed input is taken only as fast as the agent reads (${source.pulled} of ${gz.length} bytes pulled)`);
  // Now read it all: the body is complete and scrubbed.
  const out: Buffer[] = [];
  for await (const c of transform) out.push(c as Buffer);
  const body = Buffer.concat(out).toString('latin1');
  t.equal(body.length, text.length - (SECRET.length - PH.length) * lines, 'every byte arrives once read');
  t.notOk(body.includes(SECRET), 'scrubbed');
});

// Fourteenth pass: `deflate` (zlib-wrapped or raw, told apart by a stage of its own) pushed what
// zlib inflated whatever the reader's pace: each 64 KiB read of a bomb became 64 MiB waiting in
// that stage while the agent read nothing, never seen by the ratio cap (it counts what is read).
t.test('a slow reader holds back every decoder, deflate (zlib and raw) and brotli included', async (t) => {
  const spaces = Buffer.alloc(16 * 1024 * 1024, 0x20);
  const fast = { level: 1 };
  const bombs: Record<string, Buffer> = {
    gzip: zlib.gzipSync(spaces, fast), 'deflate (zlib)': zlib.deflateSync(spaces, fast), 'deflate (raw)': zlib.deflateRawSync(spaces, fast),
    br: zlib.brotliCompressSync(spaces, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }),
  };
  for (const [name, bomb] of Object.entries(bombs)) {
    const transform = transformFor(name.split(' ')[0]!);
    const source = lazySource(bomb, 64 * 1024);
    source.pipe(transform);
    let last = -1;
    for (let i = 0; i < 50 && source.pulled !== last; i++) {
      last = source.pulled;
      await settle(20);
    }
    // What the decoders inflated and hold for the agent (the stages are this stream's own).
    const decoders = transform as unknown as { first: Transform; last: Transform };
    const waiting = decoders.first.readableLength + decoders.last.readableLength + transform.readableLength;
    t.ok(waiting < 256 * 1024, `${name}: ${Math.round(waiting / 1024)} KiB inflated ahead of a reader that reads nothing`);
    source.destroy();
    transform.destroy();
  }
});

// Fourteenth pass: a body with no content coding went through a stage that took every chunk at
// once (its scrubbed output is pushed a microtask later, after Transform's own check), so an agent
// that stopped reading had the whole answer read into Airlock's heap at network speed (20 unread
// 2 GB downloads: RSS 320 → 730 MiB and growing, a neighbour's GET 3.5–5 s); the upload guard is
// the same stage (a slow upstream). Each kind of body the scrubber reads must stop being pulled.
t.test('a slow reader holds back an uncoded body too: plain, event stream, JSON lines, behind the packed scan', async (t) => {
  const types = ['application/octet-stream', 'application/json', 'text/event-stream', 'application/x-ndjson', 'text/plain; charset=utf-8'];
  await fc.assert(fc.asyncProperty(fc.constantFrom(...types), fc.constantFrom(1024, 16 * 1024, 64 * 1024), fc.boolean(), async (type, chunk, packed) => {
    const line = type.includes('event') ? `data: {"t":"${'x'.repeat(90)}"}\n\n` : `{"t":"${'x'.repeat(96)}"}\n`;
    const body = Buffer.from(line.repeat(Math.ceil((8 * 1024 * 1024) / line.length)));
    const head = { statusCode: 200, headers: [['content-type', type]] as Array<[string, string]> };
    const inner = scrubResponse(scrubber, head, {}).transform!;
    const transform = packed ? new PackedScan(() => scrubber, inner) : inner;
    const source = lazySource(body, chunk);
    source.pipe(transform);
    let last = -1;
    for (let i = 0; i < 50 && source.pulled !== last; i++) {
      last = source.pulled;
      await settle(20);
    }
    const pulled = source.pulled;
    source.destroy();
    transform.destroy();
    return pulled < 2 * 1024 * 1024;
  }), { numRuns: 8 });
  t.pass('nobody reading: at most ~2 MiB of an 8 MiB body is taken, whatever its type, chunking or stages');
});

/** gzip of `bytes` zeros (a multiple of 4 MiB), built from one deflated block repeated: compressing them would take seconds. */
function zeros(bytes: number): Buffer {
  const block = Buffer.alloc(4 * 1024 * 1024);
  const deflated = zlib.deflateRawSync(block, { level: 9, finishFlush: zlib.constants.Z_FULL_FLUSH });
  let crc = 0;
  for (let i = 0; i < bytes / block.length; i++) crc = zlib.crc32(block, crc);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(bytes >>> 0, 4);
  const header = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
  return Buffer.concat([header, ...Array<Buffer>(bytes / block.length).fill(deflated), zlib.deflateRawSync(Buffer.alloc(0)), trailer]);
}

async function drain(transform: Transform, source: Readable): Promise<{ bytes: number; error?: Error }> {
  let bytes = 0;
  source.pipe(transform);
  try {
    for await (const c of transform) bytes += (c as Buffer).length;
    return { bytes };
  } catch (error) {
    return { bytes, error: error as Error };
  }
}

t.test('a stacked gzip bomb (gzip, gzip) is cut off at the ratio cap, with the reason', async (t) => {
  const inner = zeros(256 * 1024 * 1024); // 256 MiB of zeros → ~260 KiB
  const bomb = zlib.gzipSync(inner, { level: 9 }); // → a few KiB
  let why = '';
  const r = await drain(transformFor('gzip, gzip', (w) => (why = w)), lazySource(bomb));
  t.ok(r.error instanceof DecompressionLimitError, `the stream ends in an error (${r.error?.message})`);
  t.ok(r.bytes < 4 * 1024 * 1024, `the agent got only the first MiB or so (${r.bytes} bytes)`);
  t.match(why, /expands more than 200x/, 'the reason is reported for the audit record');
  t.ok(bomb.length < 64 * 1024, `(the bomb was ${bomb.length} bytes)`);
});

t.test('a single-layer bomb and a body past the size cap are cut off too', async (t) => {
  const r = await drain(transformFor('gzip'), lazySource(zeros(64 * 1024 * 1024)));
  t.ok(r.error instanceof DecompressionLimitError, 'gzip of 64 MiB of zeros');
  t.ok(r.bytes < 4 * 1024 * 1024);
  const incompressible = zlib.deflateSync(crypto.randomBytes(3 * 1024 * 1024));
  const small = { ...defaultInflateLimits, maxBytes: 1024 * 1024 };
  const s = await drain(transformFor('deflate', undefined, small), lazySource(incompressible));
  t.ok(s.error instanceof DecompressionLimitError, 'past maxBytes');
  t.match(s.error?.message ?? '', /passed 1 MiB/);
  const br = zlib.brotliCompressSync(Buffer.alloc(32 * 1024 * 1024), { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } });
  t.ok((await drain(transformFor('br'), lazySource(br))).error instanceof DecompressionLimitError, 'brotli bomb');
});

t.test('more stacked codings than the cap are refused before any decoding', async (t) => {
  let refused: unknown;
  try {
    transformFor('gzip, gzip, gzip, gzip');
  } catch (err) {
    refused = err;
  }
  t.ok(refused instanceof UnscrubbableEncodingError, 'four layers: unscrubbable (the proxy answers 502 problem+json)');
  t.ok(transformFor('gzip, identity, gzip'), 'identity does not count');
});

// Sixteenth pass: a compressed stream zlib refuses (one that breaks off) is read again the way a
// reader feeding it in pieces would, by halving: each try a synchronous inflate on the main thread,
// bounded in nothing. A few KB of brotli (128 MiB of zeros) that break off at the end from a host
// that got a secret (a stored file the agent uploaded, read back) held the event loop for seconds
// for every agent (1 GiB: 35 s, 2 GiB resident). Each try is bounded now; past it the answer is refused.
t.test('a compressed stream that breaks off is read again within a bound: the event loop is not held', async (t) => {
  // brotli of 128 MiB of zeros (211 bytes; compressing them takes seconds): one chunk, which zlib refuses whole.
  const bomb = Buffer.from('y///P/gnAOKxQCD3/o///3/wTwDEYRGA7v0f////4J8AiMMCAN37P/7//8E/ARCHBQC693/8//+DfwIgDgsAdO//+P//B/8EQBwWAOje//H//w/+CYA4LADQvf/j//8f/BMAcVgAoHv/x///P/gnAOKwAED3/o///3/wTwDEYQGA7v0f////4J8AiMMCAN37P/7//8E/ARCHBQC693/8//+DfwIgDgsAdO//+P//B/8EQBwWAOje//H//w/+CYA4LADQvf/L//8//BMAcVgAoHv/Bw==', 'base64');
  const broken = Buffer.concat([bomb.subarray(0, bomb.length - 3), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
  const stalls = watchLoopStalls();
  const scan = new PackedScan(() => scrubber, new PassThrough(), true);
  const error = await new Promise<Error | undefined>((resolve) => {
    scan.on('error', resolve);
    scan.on('end', () => resolve(undefined));
    scan.resume();
    lazySource(broken, 16 * 1024).pipe(scan);
  });
  // The inflater's end (and its reading again) may come after the refusal: wait for it too.
  await new Promise((r) => setTimeout(r, 100));
  const stall = stalls.stop();
  t.ok(error instanceof UnscrubbableEncodingError, `the answer is refused (${error?.message})`);
  t.ok(stall.cpuMs < 1000, `the event loop was never held a second of CPU (longest ${Math.round(stall.cpuMs)} ms; ${Math.round(stall.wallMs)} ms of wall time)`);
});

// Sixteenth pass: the studio decoded a held body's stacked content codings however many there were
// (the describe step stops past four): 2,800 stored-block gzip layers of a 970 KB body kept a pool
// thread busy 4 s per card opened, the threads the audit log's writes and DNS lookups share.
t.test("the studio's reading of a held body decodes at most as many stacked codings as the describe step", async (t) => {
  const { decodeHeldBody } = await import('../../studio/body-decoding.ts');
  const { MAX_CONTENT_CODINGS } = await import('../../describe/body.ts');
  const layered = (n: number): Buffer => {
    let b = Buffer.from('{"to":"boss@corp.example"}');
    for (let i = 0; i < n; i++) b = zlib.gzipSync(b, { level: 0 });
    return b;
  };
  const ok = await decodeHeldBody({ bytes: layered(MAX_CONTENT_CODINGS), truncated: false } as never, Array(MAX_CONTENT_CODINGS).fill('gzip').join(', '));
  t.match(ok, { ok: true }, `${MAX_CONTENT_CODINGS} layers are shown`);
  const many = 40;
  const refused = await decodeHeldBody({ bytes: layered(many), truncated: false } as never, Array(many).fill('gzip').join(', '));
  t.match(refused, { ok: false, error: /40 stacked content codings/ }, 'more are not decoded (approving needs the explicit choice)');
});
