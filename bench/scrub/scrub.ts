// Cost of the secret guards, in CPU time (the machine is shared; CPU time moves less than wall time):
//   - compiling a scrubber (once per set of secrets injected at a host, cached)
//   - scrubbing response bodies streamed in 16 KiB chunks: JSON text, random binary, zeros,
//     UTF-16 text, and small SSE events, for one and three secrets
//   - the request-side checks every request pays when secrets exist: the placeholder finder on
//     header values, a URL and a 1 MiB body; real-value detection on a request's headers and URL
//
// Usage: node bin/run-ts.js bench/scrub/scrub.ts [--root DIR] [--mib 8]
// --root runs the same measurements against another checkout (e.g. an export of main),
// for before/after figures with the same script.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const { values } = parseArgs({ options: { root: { type: 'string' }, mib: { type: 'string', default: '8' } } });
const root = path.resolve(values.root ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../..'));
const load = (m: string): Promise<Record<string, unknown>> => import(pathToFileURL(path.join(root, m)).href) as Promise<Record<string, unknown>>;
/** The first of `paths` that exists in that checkout: modules moved between folders over time. */
const loadFirst = (...paths: string[]): Promise<Record<string, unknown>> => load(paths.find((p) => fs.existsSync(path.join(root, p))) ?? paths[0]!);
type ScrubberCtor = new (secrets: Array<{ value: string; placeholder: string }>) => { scrubPartial(t: string): { out: string; rest: string }; scrubString(t: string): string };
const { Scrubber } = await load('proxy/scrub.ts') as { Scrubber: ScrubberCtor };
const { PlaceholderIndex } = await loadFirst('describe/placeholders.ts', 'proxy/placeholders.ts') as { PlaceholderIndex: new (s: Array<[string, string]>) => { find(t: string): string[] } };
const { SecretValueIndex } = await load('proxy/secret-values.ts') as { SecretValueIndex: new (s: Array<[string, string]>) => { find(t: string): string[] } };

const cpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** Best of `runs` CPU milliseconds for fn. */
function best(runs: number, fn: () => void): number {
  let b = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = cpu();
    fn();
    b = Math.min(b, cpu() - t);
  }
  return b;
}

const SECRETS = ['sk_live_51H8xQ2bench/Value+With=Punct&<>%0123', 'ghp_0123456789abcdefABCDEF0123456789abcd', 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx'];
const placeholders = SECRETS.map((_, i) => `airlock-ph-s${i}-${crypto.randomBytes(16).toString('hex')}`);
const mib = Number(values.mib);

const json = Buffer.from(JSON.stringify(Array.from({ length: 40_000 }, (_, i) => ({
  id: i, name: `item ${i}`, url: `https://example.com/a?b=${i}&c=%20d`, html: '&amp; <b>x</b> \\u00e9 = 3', tok: crypto.randomBytes(9).toString('base64'),
})))).subarray(0, mib * 1024 * 1024);
const binary = crypto.randomBytes(mib * 1024 * 1024);
const zeros = Buffer.alloc(mib * 1024 * 1024);
const utf16 = Buffer.from(json.toString('latin1'), 'utf16le').subarray(0, mib * 1024 * 1024);
const sse = Buffer.from('data: {"choices":[{"delta":{"content":"hello"}}]}\n\n'.repeat(20_000));

function stream(s: InstanceType<ScrubberCtor>, body: Buffer, chunk: number): void {
  let rest = '';
  for (let i = 0; i < body.length; i += chunk) {
    const r = s.scrubPartial(rest + body.toString('latin1', i, Math.min(body.length, i + chunk)));
    rest = r.rest;
  }
  s.scrubString(rest);
}

const rows: Array<[string, string]> = [];
for (const n of [1, 3]) {
  const secrets = SECRETS.slice(0, n).map((value, i) => ({ value: `${value}${crypto.randomBytes(2).toString('hex')}`, placeholder: placeholders[i]! }));
  let s!: InstanceType<ScrubberCtor>;
  const t0 = cpu();
  s = new Scrubber(secrets);
  s.scrubString('warm');
  rows.push([`compile a scrubber, ${n} secret(s)`, `${(cpu() - t0).toFixed(1)} ms`]);
  for (const [label, body, chunk] of [['JSON text', json, 16384], ['random binary', binary, 16384], ['zeros', zeros, 16384], ['UTF-16 text', utf16, 16384], ['SSE events, one per chunk', sse, 53]] as const) {
    const ms = best(3, () => stream(s, body, chunk));
    rows.push([`scrub ${label}, ${n} secret(s)`, `${(body.length / 1024 / 1024 / (ms / 1000)).toFixed(0)} MiB/s`]);
  }
}

const finder = new PlaceholderIndex(placeholders.map((p, i) => [`s${i}`, p]));
const headerValues = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'application/json, text/plain, */*', 'gzip, deflate, br', 'en-US,en;q=0.9', `Bearer ${crypto.randomBytes(20).toString('hex')}`, 'session=abc123; theme=dark; _ga=GA1.2.3', 'https://example.com/path?x=1&y=%20z', 'no-cache', 'keep-alive', '1'];
const url = 'https://api.example.com/v1/repos/acme/app/issues?state=open&per_page=100&q=label%3Abug+sort%3Aupdated';
const body = Buffer.from(JSON.stringify({ items: Array.from({ length: 6000 }, (_, i) => ({ i, text: `line ${i}\nwith a break`, n: 'x'.repeat(60) })) }, null, 2)).toString('latin1').slice(0, 1024 * 1024);
const perRequest = (): void => {
  for (const v of headerValues) finder.find(v);
  finder.find(url);
};
rows.push(['placeholder finder, 10 header values + URL', `${(best(5, () => { for (let i = 0; i < 1000; i++) perRequest(); })).toFixed(3)} µs`]);
rows.push(['placeholder finder, 1 MiB pretty-printed JSON body', `${best(5, () => finder.find(body)).toFixed(2)} ms`]);
const valuesIndex = new SecretValueIndex(SECRETS.map((v, i) => [`s${i}`, v]));
rows.push(['real-value detection, 10 header values + URL', `${(best(5, () => { for (let i = 0; i < 1000; i++) { for (const v of headerValues) valuesIndex.find(v); valuesIndex.find(url); } })).toFixed(3)} µs`]);

console.log(`scrub bench (${path.relative(process.cwd(), root) || '.'}), CPU time, best of runs`);
console.log('| what | figure |\n|---|---:|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
