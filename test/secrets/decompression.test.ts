// Decoding responses Airlock must scrub (a credential was injected): the decoder honours the
// agent's pace (backpressure all the way to the compressed input), and a body that inflates past
// the size or ratio cap — a gzip bomb, stacked `gzip, gzip` — is cut off with the reason reported.
import crypto from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import zlib from 'node:zlib';
import fc from 'fast-check';
import t from 'tap';
import { PackedScan } from '../../proxy/packed-scan.ts';
import { DecompressionLimitError, Scrubber, scrubResponse, UnscrubbableEncodingError, defaultInflateLimits } from '../../proxy/scrub.ts';

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
  // 32 MiB of text that compresses about 3x, with the secret sprinkled in.
  const text = Buffer.from(Array.from({ length: 2048 }, () => `${crypto.randomBytes(6000).toString('hex').slice(0, 16000)} ${SECRET}\n`).join(''));
  const gz = zlib.gzipSync(text);
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
  t.equal(body.length, text.length - (SECRET.length - PH.length) * 2048, 'every byte arrives once read');
  t.notOk(body.includes(SECRET), 'scrubbed');
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

function zeros(bytes: number): Buffer {
  const gz = zlib.createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (d: Buffer) => out.push(d));
  const block = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < bytes / block.length; i++) gz.write(block);
  gz.end();
  return Buffer.concat(out.length ? out : [zlib.gzipSync(Buffer.alloc(bytes))]);
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
  const inner = zlib.gzipSync(Buffer.alloc(256 * 1024 * 1024), { level: 9 }); // 256 MiB of zeros → ~250 KiB
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
  const br = zlib.brotliCompressSync(Buffer.alloc(32 * 1024 * 1024));
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
