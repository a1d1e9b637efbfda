// Every regular expression in Airlock's runtime code (proxy/, engine/, studio/, cli/) is checked
// with recheck, a ReDoS checker that proves a pattern linear or finds an attack string. Most of
// them see text an agent controls (URLs, headers, bodies, GraphQL, SQL, hostnames), and one
// super-linear pattern on the main thread freezes the proxy and the studio for every agent. So the
// rule is simple: a pattern recheck cannot call safe fails this test, wherever it is. Patterns
// built at run time (`new RegExp`) are allowed only in the files listed below, whose built values
// are checked here too.
//
// Proving several hundred patterns takes minutes, so each safe verdict is kept in
// redos-verdicts.json, keyed by (flags, pattern) under recheck's version and this file's checking
// code: a run analyses only patterns new or changed since, plus three cached ones drawn at random
// (a wrong entry is found in time). The cache may hold no pattern the sources no longer have.
// `AIRLOCK_REDOS_FULL=1` analyses every pattern, cached or not; `AIRLOCK_REDOS_WRITE=1` writes
// the cache anew from this run's verdicts (after a pattern is added, changed or removed).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import esbuild from 'esbuild';
import { checkSync } from 'recheck';
import t from 'tap';
import { regexMatchesAnything } from '../../describe/adapters/sql.ts';
import { ESCAPED_PREFIX_RE } from '../../describe/placeholders.ts';
import { BROWSER_SHAPES } from '../../describe/tunnel-sql.ts';
import { Scrubber } from '../../proxy/scrub.ts';

const root = path.resolve(import.meta.dirname, '..', '..');
const folders = ['lib', 'describe', 'engine', 'state', 'offline', 'proxy', 'sandbox', 'studio', 'runtime', 'cli'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      // Built bundles (studio/dist, and a build's dist.tmp-PID folder while it runs) are checked at their sources.
      if (e.name !== 'node_modules' && !e.name.startsWith('dist')) out.push(...sources(p));
    } else if (/\.(ts|mts|mjs|js)$/.test(e.name) && !e.name.endsWith('.d.ts')) {
      out.push(p);
    }
  }
  return out;
}

interface Found {
  where: string;
  pattern: string;
  flags: string;
}

const literals: Found[] = [];
const dynamic = new Set<string>();
for (const file of folders.flatMap((f) => sources(path.join(root, f)))) {
  const rel = path.relative(root, file);
  const { code } = esbuild.transformSync(fs.readFileSync(file, 'utf8'), { loader: file.endsWith('.ts') || file.endsWith('.mts') ? 'ts' : 'js', format: 'esm', target: 'es2022' });
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module', locations: true });
  walk.full(ast, (node) => {
    const n = node as acorn.Node & { regex?: { pattern: string; flags: string }; callee?: acorn.Node & { name?: string }; key?: { name?: string; value?: unknown }; value?: { type?: string; value?: unknown } };
    const line = (n as unknown as { loc: { start: { line: number } } }).loc.start.line;
    if (n.type === 'Literal' && n.regex) literals.push({ where: `${rel}:${line} (compiled)`, pattern: n.regex.pattern, flags: n.regex.flags });
    if ((n.type === 'NewExpression' || n.type === 'CallExpression') && n.callee?.type === 'Identifier' && n.callee.name === 'RegExp') dynamic.add(rel);
    // JSON Schema patterns (the decision contract) are regular expressions in strings.
    if (n.type === 'Property' && (n.key?.name === 'pattern' || n.key?.value === 'pattern') && n.value?.type === 'Literal' && typeof n.value.value === 'string') {
      literals.push({ where: `${rel}:${line} (schema)`, pattern: n.value.value, flags: 'u' });
    }
  });
}

/** Files that build patterns at run time; what they build is checked below. */
const reviewedDynamic = ['describe/adapters/sql.ts', 'describe/placeholders.ts', 'describe/tunnel-sql.ts', 'proxy/scrubber.ts'];

/**
 * The pattern with each bounded repetition `{m,n}` read as unbounded `{m,}` (outside classes and
 * escapes), or null when it has none. If the exact analysis proves the unbounded one linear, the
 * bounded one is too: each path through the unrolled copies maps to a distinct path through the
 * loop, so bounding a repetition never adds ambiguity. It saves the fuzzer's seconds per pattern,
 * and the fuzzer's step counts on a loaded machine once called a linear pattern quadratic.
 */
function unbounded(pattern: string): string | null {
  let out = '';
  let inClass = false;
  let changed = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
      continue;
    }
    if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '{') {
      const m = /^\{(\d+),(\d+)\}/.exec(pattern.slice(i, i + 24));
      if (m) {
        out += `{${m[1]},}`;
        i += m[0].length - 1;
        changed = true;
        continue;
      }
    }
    out += c;
  }
  return changed ? out : null;
}

/**
 * recheck's verdict. `auto` picks its fuzzer for large patterns, which can call a linear pattern
 * polynomial from timings; `automaton` is the exact analysis (ambiguity of the pattern's automaton).
 */
function verdict(pattern: string, flags: string, checker: 'auto' | 'automaton' = 'auto'): string {
  const relaxed = unbounded(pattern);
  // (Asked for the exact analysis alone — the scrubber's large alternations — the pattern is read as written.)
  if (relaxed !== null && checker === 'auto' && checkSync(relaxed, flags, { timeout: 20_000, checker: 'automaton' }).status === 'safe') return 'safe';
  // A fixed seed: the fuzzer's verdict on a pattern is the same on every run.
  let r = checkSync(pattern, flags, { timeout: 20_000, checker, randomSeed: 1 });
  // A slow (loaded) machine may run out of time before an answer: ask once more with longer.
  if (r.status === 'unknown' && r.error.kind === 'timeout') r = checkSync(pattern, flags, { timeout: 60_000, checker, randomSeed: 1 });
  // The fuzzer judges from step counts on the strings it tried; the automaton analysis is exact.
  // A fuzzer's "vulnerable" stands unless that analysis proves the pattern linear, and never for
  // a pattern with bounded repetitions: the analysis unrolls them and counts even `(a|a){1,40}`'s
  // 2^40 paths as a constant.
  if (r.status === 'vulnerable' && r.checker === 'fuzz' && checker === 'auto' && relaxed === null) {
    const exact = checkSync(pattern, flags, { timeout: 60_000, checker: 'automaton' });
    if (exact.status === 'safe') return 'safe';
  }
  // With bounded repetitions there is no exact analysis to ask, and the fuzzer's step counts on a
  // loaded machine have called a linear pattern quadratic (`proxy/reading-view.ts`'s UNFINISHED,
  // now and then). Its attack, pumped four times longer, is run by V8 itself: a super-linear
  // pattern takes minutes on it (16× the fuzzer's own attack for a square), a linear one well
  // under a second; 5 s between them.
  if (r.status === 'vulnerable' && r.checker === 'fuzz' && checker === 'auto' && relaxed !== null && runsLinearly(pattern, flags, r.attack)) return 'safe';
  if (r.status === 'safe') return 'safe';
  if (r.status === 'vulnerable') return `vulnerable (${r.complexity.summary}); attack: ${JSON.stringify(r.attack.pattern).slice(0, 120)}`;
  return `not proven safe (${r.status}: ${JSON.stringify(r.error ?? r)})`;
}

/** Whether V8 matches the attack, its pumps repeated four times as often, within 5 s (in a child: a slow one is killed). */
function runsLinearly(pattern: string, flags: string, attack: { pumps: Array<{ prefix: string; pump: string }>; suffix: string; base: number }): boolean {
  const text = attack.pumps.map((p) => p.prefix + p.pump.repeat(4 * attack.base)).join('') + attack.suffix;
  const script = 'const [p, f, s] = JSON.parse(require("node:fs").readFileSync(0, "utf8")); new RegExp(p, f).exec(s);';
  const run = spawnSync(process.execPath, ['-e', script], { input: JSON.stringify([pattern, flags, text]), timeout: 5_000, stdio: ['pipe', 'ignore', 'ignore'] });
  return run.status === 0 && !run.error;
}

// The scrubber's regexes are built per secret from its spellings (proxy/spellings.ts).
const scrubber = new Scrubber([
  { value: 'sk_live_51HxYzAbCdEf0123456789', placeholder: 'airlock-ph-stripe_key-0123456789abcdef' },
  { value: 'ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', placeholder: 'airlock-ph-github_token-0123456789abcdef' },
]);
const built = (scrubber as unknown as { parts: Array<{ matcher: { regexes: RegExp[] } }> }).parts.flatMap((p) => p.matcher.regexes);

const cachePath = path.join(import.meta.dirname, 'redos-verdicts.json');
interface Cache {
  recheck: string;
  checker: string;
  safe: string[];
}
/** What a cached verdict depends on besides the pattern: recheck's version and the code above that asks it. */
const cacheKey = {
  recheck: (JSON.parse(fs.readFileSync(path.join(root, 'node_modules', 'recheck', 'package.json'), 'utf8')) as { version: string }).version,
  checker: createHash('sha256').update(`${unbounded}\n${verdict}\n${runsLinearly}`).digest('hex').slice(0, 16),
};
const full = process.env.AIRLOCK_REDOS_FULL === '1';
const write = process.env.AIRLOCK_REDOS_WRITE === '1';
const cache: Cache = fs.existsSync(cachePath) ? JSON.parse(fs.readFileSync(cachePath, 'utf8')) : { ...cacheKey, safe: [] };
const cacheCurrent = cache.recheck === cacheKey.recheck && cache.checker === cacheKey.checker;
// Several hundred patterns (the cache cold, or AIRLOCK_REDOS_FULL) take two to ten minutes on a
// loaded 2-core machine: more than the runner's default per file.
t.setTimeout(full || !cacheCurrent ? 1_200_000 : 360_000);

/** A pattern's key in the cache: `flags/pattern`; one of thousands of characters (the scrubber's) by its hash. */
function keyOf(pattern: string, flags: string, checker: 'auto' | 'automaton' = 'auto'): string {
  const text = pattern.length > 500 ? `sha256:${createHash('sha256').update(pattern).digest('hex')}` : pattern;
  return `${checker === 'automaton' ? 'automaton:' : ''}${flags}/${text}`;
}
/** Every pattern this file judges, by key (the same pattern written in several places is one). */
const checks = new Map<string, { pattern: string; flags: string; checker: 'auto' | 'automaton' }>();
for (const l of literals) checks.set(keyOf(l.pattern, l.flags), { pattern: l.pattern, flags: l.flags, checker: 'auto' });
for (const re of [ESCAPED_PREFIX_RE, ...BROWSER_SHAPES]) checks.set(keyOf(re.source, re.flags), { pattern: re.source, flags: re.flags, checker: 'auto' });
// Large (thousands of characters) but with bounded repetitions only: the exact analysis proves it.
for (const re of built) checks.set(keyOf(re.source, re.flags, 'automaton'), { pattern: re.source, flags: re.flags, checker: 'automaton' });

// The cached verdicts taken as given: all but a few drawn at random each run, checked again so a
// wrong entry cannot stand for long (AIRLOCK_FUZZ_SEED repeats a draw).
const seed = Number(process.env.AIRLOCK_FUZZ_SEED) || Date.now() % 2 ** 31;
const trusted = new Set(cacheCurrent && !full ? cache.safe.filter((k) => checks.has(k)) : []);
const drawn: string[] = [];
for (let i = 0, x = seed >>> 0; i < 3 && trusted.size > 0; i++) {
  x = (Math.imul(x ^ (x >>> 15), 2246822519) + 3266489917) >>> 0;
  const k = [...trusted][x % trusted.size]!;
  trusted.delete(k);
  drawn.push(k);
}
const verdicts = new Map<string, string>();
/** The verdict on a pattern this file judges: from the cache, or analysed now. */
function judged(key: string): string {
  if (!verdicts.has(key)) {
    const c = checks.get(key)!;
    verdicts.set(key, trusted.has(key) ? 'safe' : verdict(c.pattern, c.flags, c.checker));
  }
  return verdicts.get(key)!;
}

t.test('every regular expression literal in the runtime code is linear', async (t) => {
  t.ok(literals.length > 100, `found the tree's patterns (${literals.length})`);
  if (!cacheCurrent) t.comment(`the verdict cache is for recheck ${cache.recheck}, checker ${cache.checker}; this is ${cacheKey.recheck}, ${cacheKey.checker}: every pattern is analysed (AIRLOCK_REDOS_WRITE=1 writes it anew)`);
  t.comment(`${checks.size} distinct patterns: ${checks.size - trusted.size} analysed (${drawn.length} cached ones among them, drawn with AIRLOCK_FUZZ_SEED=${seed}), ${trusted.size} proven before (${path.basename(cachePath)})`);
  const bad = literals.map((l) => ({ ...l, verdict: judged(keyOf(l.pattern, l.flags)) })).filter((l) => l.verdict !== 'safe');
  t.same(bad.map((b) => `${b.where} /${b.pattern}/${b.flags}: ${b.verdict}`), [], 'no super-linear (or unproven) pattern');
});

t.test('patterns built at run time come only from reviewed places, and what they build is linear', async (t) => {
  t.same([...dynamic].sort(), reviewedDynamic, 'new RegExp(...) only in the reviewed files (add a check here for a new one)');
  t.equal(judged(keyOf(ESCAPED_PREFIX_RE.source, ESCAPED_PREFIX_RE.flags)), 'safe', 'the escaped placeholder prefix');
  for (const re of BROWSER_SHAPES) t.equal(judged(keyOf(re.source, re.flags)), 'safe', `a browser's header shape: /${re.source.slice(0, 40)}…/`);
  t.ok(built.length >= 2, `the scrubber built its regexes (${built.length})`);
  for (const re of built) t.equal(judged(keyOf(re.source, re.flags, 'automaton')), 'safe', 'the scrubber\'s alternation of secret spellings');
  // SQL's `~ 'pattern'` is the agent's own regular expression, run on a few short samples only when
  // its backtracking there is small; one that is not is taken to match everything, never run.
  // Each of these ends in `!`, which no sample holds: run, it would answer false (after seconds to
  // ages for the first three: nested quantifiers, 40 alternatives, 90 stars).
  const hostile = ['('.repeat(20) + '[^!]*' + ')*'.repeat(20) + '!', `(${Array(40).fill('.').join('|')})*!`, `${'.*'.repeat(90)}!`, '(a)\\1*!', '((x*)y)*!'];
  for (const p of hostile) t.equal(regexMatchesAnything(p), true, `not run, judged as matching every row: ${p.slice(0, 40)}`);
  t.equal(regexMatchesAnything('.*.*!'), false, 'a small pattern is run on the samples');
  t.equal(regexMatchesAnything('a*'), true, 'and one every string matches is found so');
});

t.test('the checker does find a super-linear pattern (the test can fail)', async (t) => {
  t.match(verdict('([_A-Za-z][_0-9A-Za-z]*)\\s*\\(', 'g'), /vulnerable/, 'the old GraphQL field pattern');
  t.match(verdict('\\.+$', ''), /vulnerable/, 'the old trailing-dot pattern');
  t.match(verdict('^(?:a|a){1,40}$', ''), /vulnerable/, 'a bounded repetition whose unbounded reading is not linear is still judged as written');
  t.equal(unbounded('[{1,2}]a{2,9}\\{1,3}b{3}'), '[{1,2}]a{2,}\\{1,3}b{3}', 'only quantifiers are read as unbounded');
});

t.test('the verdict cache holds only patterns judged here, and is written on request', async (t) => {
  const gone = cache.safe.filter((k) => !checks.has(k));
  if (write) t.comment(`${gone.length} verdicts on patterns the sources no longer have are left out`);
  else t.same(gone, [], 'no cached verdict for a pattern the sources no longer have (AIRLOCK_REDOS_WRITE=1 writes the cache anew)');
  const unlisted = [...verdicts].filter(([k, v]) => v === 'safe' && !cache.safe.includes(k)).length;
  if (unlisted && !write) t.comment(`${unlisted} patterns proven now are not in the cache yet (AIRLOCK_REDOS_WRITE=1 adds them)`);
  if (write) {
    const safe = [...checks.keys()].filter((k) => judged(k) === 'safe').sort();
    fs.writeFileSync(cachePath, `${JSON.stringify({ ...cacheKey, safe }, null, 1).replace(/\n /g, '\n')}\n`);
    t.comment(`wrote ${safe.length} verdicts to ${path.relative(root, cachePath)}`);
  }
});
