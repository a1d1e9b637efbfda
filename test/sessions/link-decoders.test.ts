// The session enforcer's link scan reuses text decoders between responses: a body that ends in the
// middle of a character, or is cut off, must leave nothing behind for the next body to read.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import t from 'tap';
import type { RequestContext } from '../../proxy/enforcers.ts';
import { sessionEnforcer } from '../../proxy/session-enforcer.ts';
import type { AgentSessions } from '../../state/stores.ts';

const found: string[][] = [];
const store = { addLinks: (_id: string, _from: unknown, urls: readonly string[]) => found.push([...urls]), onChange: () => () => undefined } as unknown as AgentSessions;
const enforcer = sessionEnforcer({ store, trackLinks: () => true });

async function respond(id: string, chunks: Buffer[], contentType = 'application/json; charset=utf-8'): Promise<void> {
  const ctx = {
    description: { request: { id, url: 'https://page.example/', host: 'page.example', body: { truncated: false } }, session: { id: 's1', labels: {} } },
    decision: { action: 'allow', labels: [] },
    outgoing: { url: new URL('https://page.example/'), headers: [] },
    audit: {},
  } as unknown as RequestContext;
  const tap = enforcer.onResponse!(ctx, { statusCode: 200, headers: [['content-type', contentType]] });
  t.ok(tap, 'the body is scanned');
  await pipeline(Readable.from(chunks), tap!, async function* (src) {
    for await (const _ of src) { /* drain */ }
  });
}

t.test('a body ending mid-character, then a JSON body: the second is read from its first byte', async (t) => {
  for (let i = 0; i < 3; i++) {
    found.length = 0;
    await respond(`a${i}`, [Buffer.from('{"u":"https://x.example/a"} \u00e9'), Buffer.from([0xe2, 0x82])]);
    // Escaped slashes: only a JSON reading (from the first byte) finds this link.
    await respond(`b${i}`, [Buffer.from('\ufeff{"u":"https:\\/\\/y.example\\/'), Buffer.from(`${i}"}`)]);
    t.same(found, [['https://x.example/a'], [`https://y.example/${i}`]]);
  }
});
