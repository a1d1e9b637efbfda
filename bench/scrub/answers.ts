// Cost of scrubbing small answers: 30,000 answers of 1 KiB (JSON, prose, HTML), each through a
// ChunkScrubber (one chunk fed, then the end) for one credential in play; best of 3, CPU time.
// Usage: node bin/run-ts.js bench/scrub/answers.ts [ROOT]   (ROOT: another checkout, for before/after)
import path from 'node:path';
import { pathToFileURL } from 'node:url';
const root = path.resolve(process.argv[2] ?? '.');
const { ChunkScrubber } = await import(pathToFileURL(path.join(root, 'proxy/scrub.ts')).href) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
const { Scrubber } = await import(pathToFileURL(path.join(root, 'proxy/scrubber.ts')).href) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
const scrubber = new Scrubber([{ value: 'sk_live_51H8xQ2benchValueWithPunct0123ab', placeholder: 'airlock-ph-s0-0123456789abcdef0123456789abcdef' }]);
const json = Buffer.from(JSON.stringify(Array.from({ length: 12 }, (_, i) => ({ id: i, name: `item ${i}`, url: `https://example.com/a?b=${i}`, note: 'ok' }))).slice(0, 1024));
const prose = Buffer.from(('The quick brown fox jumps over the lazy dog, and the answer comes back as plain prose with words and blanks. ').repeat(10).slice(0, 1023) + '\n');
const html = Buffer.from(('<p>Some <b>html</b> text, a paragraph of it.</p>\n').repeat(21).slice(0, 1024));
const cpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (const [label, body] of [['json', json], ['prose', prose], ['html', html]] as const) {
  const run = (n: number): number => { const t = cpu(); for (let i = 0; i < n; i++) { const c = new ChunkScrubber(scrubber); c.feed(body); c.end(); } return cpu() - t; };
  run(3000);
  let best = Infinity;
  for (let r = 0; r < 3; r++) best = Math.min(best, run(30000));
  console.log(`${label}: ${best.toFixed(0)} ms / 30,000 = ${(best / 30).toFixed(2)} µs an answer`);
}
