// Throughput of the streaming scrub (ChunkScrubber, 16 KiB chunks) over 2 MiB of prose, HTML, JSON and CSV,
// best of 7, CPU time. Usage: node bin/run-ts.js bench/scrub/cells.ts [ROOT] (another checkout: before/after).
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from "node:url";
const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "../.."));
const { ChunkScrubber, Scrubber } = await import(pathToFileURL(path.join(root, 'proxy/scrub.ts')).href) as any;
const KEY = 'sk_live_51HxYzAbCdEf0123456789';
const s = new Scrubber([{ value: KEY, placeholder: 'airlock-ph-x-' + 'a'.repeat(32) }]);
const MIB = 2 * 1024 * 1024;
const words = 'the of and a to in is you that it he was for on are as with his they I at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part'.split(' ');
let seed = 1; const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
const fill = (f: () => string) => { let out = ''; while (out.length < MIB) out += f(); return Buffer.from(out.slice(0, MIB), 'latin1'); };
const bodies: Record<string, Buffer> = {
  prose: fill(() => Array.from({ length: 12 }, () => pick(words)).join(' ') + (rnd() < 0.2 ? '.\n\n' : ', ')),
  html: fill(() => `<div class="row"><a href="/item/${Math.floor(rnd() * 1e5)}">${pick(words)} ${pick(words)}</a> <span style="color:#333">${pick(words)}</span><td>${Math.floor(rnd() * 100)}</td></div>\n`),
  json: Buffer.from(JSON.stringify(Array.from({ length: 40000 }, (_, i) => ({ id: i, n: pick(words), ok: rnd() < 0.5, v: Math.floor(rnd() * 100), tok: crypto.randomBytes(6).toString('base64') }))).slice(0, MIB), 'latin1'),
  csv: fill(() => `${Math.floor(rnd() * 1e4)},${pick(words)},${Math.floor(rnd() * 100)},${pick(words)},x\n`),
};
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
for (const [name, body] of Object.entries(bodies)) {
  let best = Infinity;
  for (let r = 0; r < 7; r++) {
    const t = cpu();
    const c = new ChunkScrubber(s);
    let n = 0;
    for (let i = 0; i < body.length; i += 16384) n += c.feed(body.subarray(i, i + 16384))?.length ?? 0;
    n += c.end()?.length ?? 0;
    if (n !== body.length) throw new Error(`${name}: ${n} of ${body.length}`);
    best = Math.min(best, cpu() - t);
  }
  console.log(`${name}\t${(2 / (best / 1000)).toFixed(1)} MiB/s\t(${best.toFixed(0)} ms)`);
}
