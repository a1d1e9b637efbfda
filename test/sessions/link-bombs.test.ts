// The link scan reads response bodies on the side, decoded (gzip, deflate, br), and stops after
// maxChars × 4 bytes. Stopping must stop the decoder too: a few KB of brotli inflate to gigabytes,
// and a decoder left running keeps a libuv thread (shared with DNS lookups and file writes) busy
// for a minute per response. The decoders are counted here (the enforcer loaded with zlib's
// factories wrapped): however large the bomb, the scan decodes about its cap and no more.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import t from 'tap';
import type { RequestContext } from '../../proxy/enforcers.ts';
import type { AgentSessions } from '../../state/stores.ts';

let decodedBytes = 0;
const counting = (make: () => NodeJS.ReadWriteStream) => (): NodeJS.ReadWriteStream => {
  const d = make();
  d.on('data', (c: Buffer) => (decodedBytes += c.length));
  return d;
};
const countingZlib = {
  ...zlib,
  createGunzip: counting(zlib.createGunzip),
  createInflate: counting(zlib.createInflate),
  createBrotliDecompress: counting(zlib.createBrotliDecompress),
};
const { sessionEnforcer } = await t.mockImport<typeof import('../../proxy/session-enforcer.ts')>('../../proxy/session-enforcer.ts', {
  'node:zlib': { ...countingZlib, default: countingZlib },
});

const BOMB = 256 * 1024 * 1024; // decoded size of each bomb
const CAP = 4 * 1024; // maxChars: the scan stops after 4 × this many decoded bytes
const found: string[][] = [];
const store = { addLinks: (_id: string, _from: unknown, urls: readonly string[]) => found.push([...urls]), onChange: () => () => undefined } as unknown as AgentSessions;
const enforcer = sessionEnforcer({ store, trackLinks: () => true, limits: { maxChars: CAP, maxLinks: 1000, urlChars: 2048 } });

async function squeeze(coding: string): Promise<Buffer> {
  const enc = coding === 'br' ? zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } }) : coding === 'deflate' ? zlib.createDeflate({ level: 9 }) : zlib.createGzip({ level: 9 });
  const parts: Buffer[] = [];
  enc.on('data', (d: Buffer) => parts.push(d));
  const head = Buffer.from('<a href="https://x.example/first">x</a>');
  enc.write(head);
  const spaces = Buffer.alloc(16 * 1024 * 1024, 0x20);
  for (let i = 0; i < BOMB / spaces.length; i++) if (!enc.write(spaces)) await new Promise((r) => enc.once('drain', r));
  await new Promise<void>((r) => enc.end(r));
  return Buffer.concat(parts);
}

t.test('a decompression bomb in a scanned response is decoded only up to the scan cap', async (t) => {
  for (const coding of ['br', 'gzip', 'deflate']) {
    const bomb = await squeeze(coding);
    const ctx = {
      description: { request: { id: coding, url: 'https://page.example/', host: 'page.example', body: { truncated: false } }, session: { id: 's1', labels: {} } },
      decision: { action: 'allow', labels: [] },
      outgoing: { url: new URL('https://page.example/'), headers: [] },
      audit: {},
    } as unknown as RequestContext;
    const tap = enforcer.onResponse!(ctx, { statusCode: 200, headers: [['content-type', 'text/html'], ['content-encoding', coding]] });
    t.ok(tap, `the ${coding} body is scanned`);
    decodedBytes = 0;
    found.length = 0;
    let passed = 0;
    const chunks: Buffer[] = [];
    for (let i = 0; i < bomb.length; i += 16384) chunks.push(bomb.subarray(i, i + 16384));
    await pipeline(Readable.from(chunks), tap!, async function* (src) {
      for await (const c of src) passed += (c as Buffer).length;
    });
    t.equal(passed, bomb.length, `the agent gets the ${coding} body as sent (${bomb.length} bytes)`);
    // Counted at all (the wrapped decoders are the ones the enforcer made), and no further than the cap.
    t.ok(decodedBytes > 0 && decodedBytes < 4 * CAP + 4 * 1024 * 1024, `${coding}: ${decodedBytes} bytes decoded of ${BOMB} (the scan's cap is ${4 * CAP})`);
    t.same(found, [['https://x.example/first']], 'the links before the cap still count');
  }
});
