// Reads the V8 CPU profiles `node --cpu-prof` writes (one file per thread: the main thread and each
// worker, i.e. Airlock's evaluation threads) and sums the samples taken inside a time window (the
// load phase, not start-up) into the functions that spent the CPU:
//   self   the function's own code; for native code (a socket write, postMessage) and Node's
//          internals, `via` names the nearest Airlock function on the stack, i.e. who asked for it
//          (or, when none is, the nearest JavaScript caller). Native self time includes the
//          system call it makes: a socket write's share carries the kernel's loopback TCP work
//   total  anything below the function on the stack (Airlock's own functions only: top-down)
// as shares of all busy samples of the process. Sample timestamps are CLOCK_MONOTONIC
// microseconds, the clock `process.hrtime` reads, so the bench marks the window from its own
// process. Positions are mapped back to TypeScript lines with the source maps
// bench/lib/source-maps-at-exit.mjs wrote (tsx runs every module as one transpiled line).
import fs from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The whole profile when no window is given (e.g. bench/proxy/proxy.ts --profile). */
export interface ProfileWindow {
  /** process.hrtime.bigint() / 1000n at the start and end of the load (µs). */
  fromUs: number;
  toUs: number;
}

export interface FunctionCost {
  name: string;
  where: string;
  thread: string;
  selfPct: number;
  totalPct: number;
  /** For native and Node-internal code: the nearest Airlock functions on the stack, with their share of this function's self time. */
  via?: Array<{ name: string; where: string; pct: number }>;
}

export interface ProfileSummary {
  /** Busy samples in the window per thread (idle excluded). */
  threads: Record<string, number>;
  busySamples: number;
  top: FunctionCost[];
  /** Airlock's own functions (not Node's, not node_modules) by total time: where the time goes, top-down. */
  ownByTotal: FunctionCost[];
  /** Self time per source file (or V8/Node category), as shares of busy samples. */
  byFile: Array<{ where: string; selfPct: number }>;
}

interface Entry {
  name: string;
  where: string;
  thread: string;
  own: boolean;
  self: number;
  total: number;
  via: Map<string, number>;
}

const IDLE = '(idle)';
/**
 * Functions that only sleep (an evaluation thread blocked in Atomics.wait): V8 samples a thread
 * blocked there as running the function, though it uses no CPU, so its own samples count as idle.
 */
const SLEEPERS = new Set(['sleepUntilPosted']);

export function summarize(files: string[], window: ProfileWindow | undefined, root: string, sourceMaps: Record<string, SourceMapPayload> = {}, topN = 25): ProfileSummary {
  const maps = new Map<string, SourceMap>();
  const mapOf = (url: string): SourceMap | undefined => {
    if (!sourceMaps[url]) return undefined;
    if (!maps.has(url)) maps.set(url, new SourceMap(sourceMaps[url]!));
    return maps.get(url);
  };
  const bundleMaps = new Map<string, SourceMap | undefined>();
  /** A frame in one of lib/bundle.js's bundles (what `airlock start` and its threads run): its source file and line, from the map beside it. */
  const inBundle = (file: string, f: ProfileNode['callFrame']): string | undefined => {
    if (!file.includes('/node_modules/.cache/airlock/')) return undefined;
    if (!bundleMaps.has(file)) {
      try {
        bundleMaps.set(file, new SourceMap(JSON.parse(fs.readFileSync(`${file}.map`, 'utf8')) as SourceMapPayload));
      } catch {
        bundleMaps.set(file, undefined);
      }
    }
    const entry = bundleMaps.get(file)?.findEntry(f.lineNumber, f.columnNumber);
    if (!entry || !('originalSource' in entry)) return undefined;
    const source = entry.originalSource.startsWith('file://') ? new URL(entry.originalSource).pathname : path.resolve(path.dirname(file), entry.originalSource);
    return `${path.relative(root, source)}:${entry.originalLine + 1}`;
  };
  const whereOf = (f: ProfileNode['callFrame']): string => {
    if (!f.url) return '';
    const file = f.url.startsWith('file://') ? new URL(f.url).pathname : f.url;
    const bundled = inBundle(file, f);
    if (bundled) return bundled;
    const rel = file.startsWith(`${root}/`) ? path.relative(root, file) : file.replace(/^.*\/node_modules\//, 'node_modules/');
    const entry = mapOf(f.url)?.findEntry(f.lineNumber, f.columnNumber);
    const line = entry && 'originalLine' in entry ? entry.originalLine : f.url.endsWith('.ts') ? undefined : f.lineNumber;
    return line === undefined ? rel : `${rel}:${line + 1}`;
  };
  const isOwn = (where: string): boolean => where !== '' && !where.startsWith('node:') && !where.startsWith('node_modules/') && !where.startsWith('/') && !where.startsWith('wasm:');

  const entries = new Map<string, Entry>();
  const byFile = new Map<string, number>();
  const threads: Record<string, number> = {};
  let busy = 0;
  for (const file of files) {
    const tid = /\.(\d+)\.\d+\.cpuprofile$/.exec(file)?.[1] ?? '0';
    const thread = tid === '0' ? 'main' : `worker ${tid}`;
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const entryOf = new Map<number, Entry>();
    const entry = (id: number): Entry => {
      let e = entryOf.get(id);
      if (!e) {
        const n = byId.get(id)!;
        const where = whereOf(n.callFrame);
        const name = n.callFrame.functionName || '(anonymous)';
        const key = `${thread}\u0000${name}\u0000${where}`;
        e = entries.get(key) ?? { name, where, thread, own: isOwn(where), self: 0, total: 0, via: new Map() };
        entries.set(key, e);
        entryOf.set(id, e);
      }
      return e;
    };
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (window && (t < window.fromUs || t > window.toUs)) continue;
      const leafId = p.samples[i]!;
      const leafName = byId.get(leafId)!.callFrame.functionName;
      if (leafName === IDLE || SLEEPERS.has(leafName)) continue;
      busy++;
      threads[thread] = (threads[thread] ?? 0) + 1;
      const leaf = entry(leafId);
      leaf.self++;
      const fileKey = leaf.where ? leaf.where.replace(/:\d+$/, '') : leaf.name;
      byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + 1);
      // Total time once per distinct function on this sample's stack (recursion counted once); the
      // nearest Airlock frame is who the leaf's time is charged to.
      const seen = new Set<Entry>();
      let via: Entry | undefined;
      let caller: Entry | undefined;
      for (let id: number | undefined = leafId; id !== undefined; id = parent.get(id)) {
        if (byId.get(id)!.callFrame.functionName === '(root)') break;
        const e = entry(id);
        if (!via && e.own) via = e;
        if (!caller && id !== leafId && e.where) caller = e;
        if (seen.has(e)) continue;
        seen.add(e);
        e.total++;
      }
      // No Airlock frame on the stack (a write flushed from Node's stream machinery): the nearest JS caller.
      via ??= caller;
      if (!leaf.own && via) {
        const k = `${via.name}\u0000${via.where}`;
        leaf.via.set(k, (leaf.via.get(k) ?? 0) + 1);
      }
    }
  }
  const pct = (n: number): number => (busy ? Math.round((n / busy) * 1000) / 10 : 0);
  const cost = (e: Entry): FunctionCost => {
    const via = [...e.via.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([k, n]) => {
      const [name, where] = k.split('\u0000') as [string, string];
      return { name, where, pct: Math.round((n / e.self) * 100) };
    });
    return { name: e.name, where: e.where, thread: e.thread, selfPct: pct(e.self), totalPct: pct(e.total), ...(via.length ? { via } : {}) };
  };
  const all = [...entries.values()];
  return {
    threads,
    busySamples: busy,
    top: all.filter((e) => e.self > 0).sort((a, b) => b.self - a.self).slice(0, topN).map(cost),
    ownByTotal: all.filter((e) => e.own).sort((a, b) => b.total - a.total).slice(0, topN).map(cost),
    byFile: [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([w, n]) => ({ where: w, selfPct: pct(n) })),
  };
}

/**
 * Markdown tables of a summary; `usPerRequest` (the profiled run's CPU µs per request) turns shares
 * into µs. With `brief`, only that many top functions by self time (for a reference like the bare relay).
 */
export function profileTables(s: ProfileSummary, usPerRequest?: number, brief?: number): string {
  const us = (p: number): string => (usPerRequest ? (usPerRequest * p / 100).toFixed(1) : '–');
  const via = (f: FunctionCost): string => (f.via ? f.via.map((v) => `\`${v.name}\` ${v.where} (${v.pct}%)`).join(', ') : '');
  const head = [
    `Busy samples counted: ${s.busySamples} (${Object.entries(s.threads).map(([t, n]) => `${t} ${n}`).join(', ')}); shares are of all busy samples of the process${usPerRequest ? `, µs are that share of the profiled run's ${usPerRequest.toFixed(0)} µs CPU per request` : ''}.`,
    '',
    'Top functions by self time:',
    '',
    '| self % | ≈ µs/req | function | where | thread | via (nearest Airlock function, else JS caller) |',
    '|---:|---:|---|---|---|---|',
    ...s.top.slice(0, brief ?? s.top.length).map((f) => `| ${f.selfPct.toFixed(1)} | ${us(f.selfPct)} | \`${f.name}\` | ${f.where || '(native)'} | ${f.thread} | ${via(f)} |`),
  ];
  if (brief) return head.join('\n');
  return [
    ...head,
    '',
    'Airlock\'s own functions by total time (itself and everything it calls):',
    '',
    '| total % | ≈ µs/req | self % | function | where | thread |',
    '|---:|---:|---:|---|---|---|',
    ...s.ownByTotal.map((f) => `| ${f.totalPct.toFixed(1)} | ${us(f.totalPct)} | ${f.selfPct.toFixed(1)} | \`${f.name}\` | ${f.where} | ${f.thread} |`),
    '',
    '| self % by file | ≈ µs/req | file (or native / V8 category) |',
    '|---:|---:|---|',
    ...s.byFile.map((f) => `| ${f.selfPct.toFixed(1)} | ${us(f.selfPct)} | ${f.where} |`),
  ].join('\n');
}
