// Compiles a policy folder to a WebAssembly bundle with the opa CLI. Errors come back as
// structured {file, line, column, message} so the CLI prints `file:line:col: message` and the
// studio can show inline diagnostics — never a stack trace.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as tar from 'tar';
import { shellWord } from '../lib/text.ts';
import { projectRoot, requireOpa } from './toolchain.ts';
import { checkDataFiles } from './data-files.ts';
import { compileKey, readCompiled, writeCompiled } from './compile-cache.ts';
import type { PolicyProblem } from './problem.ts';
import { ENTRYPOINT } from './entrypoint.ts';

const run = promisify(execFile);

export { ENTRYPOINT };

export type { PolicyProblem };

export interface CompiledPolicy {
  wasm: Buffer;
  data: unknown;
  /** Hash of the sources: the policy version recorded with every decision. */
  version: string;
  dir: string;
  files: string[];
}

export class PolicyCompileError extends Error {
  /** `dir`: the policy folder the problems' file names are relative to (for `located`). */
  constructor(readonly problems: PolicyProblem[], readonly dir?: string) {
    super(problems.map((p) => formatProblem(p)).join('\n'));
  }

  /** The problems as file:line:col lines a terminal or editor opens from the current folder. */
  located(): string[] {
    return this.problems.map((p) => formatProblem(p, this.dir));
  }
}

/**
 * `file:line:col: message`. File names are relative to the policy folder (what the studio's editor
 * shows); given that folder, the name is made one a terminal opens from the current folder.
 */
export function formatProblem(p: PolicyProblem, dir?: string): string {
  let file = p.file;
  if (dir !== undefined && file !== dir && !file.startsWith('(') && !path.isAbsolute(file)) {
    const abs = path.resolve(dir, file);
    const rel = path.relative(process.cwd(), abs);
    file = rel.startsWith('..') || path.isAbsolute(rel) ? abs : rel;
  }
  // A problem with no place in a file (a missing folder, no .rego files) has no line to show.
  return p.line > 0 ? `${file}:${p.line}:${p.column}: ${p.message}` : `${file}: ${p.message}`;
}

const sourceExt = new Set(['.rego', '.json', '.yaml', '.yml']);

/**
 * Policy source files (relative paths, sorted) — what goes into the bundle and its version hash.
 * Files and links only: a FIFO or a device named `x.rego` (put in a draft or policy folder by anyone
 * who can write it) was read whole by the version hash and copied by the studio's drafts, and its
 * open(2) blocked the whole process, every agent with it, for as long as nobody wrote to it.
 */
export function listPolicyFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    for (const ent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      if (ent.name.startsWith('.')) continue;
      const r = path.join(rel, ent.name);
      if (ent.isDirectory()) walk(r);
      else if ((ent.isFile() || ent.isSymbolicLink()) && sourceExt.has(path.extname(ent.name))) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

export function policyVersion(dir: string, files = listPolicyFiles(dir)): string {
  const h = crypto.createHash('sha256');
  for (const f of files) {
    h.update(f).update('\0').update(fs.readFileSync(path.join(dir, f))).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

interface OpaCheckError {
  message: string;
  code?: string;
  location?: { file?: string; row?: number; col?: number };
  details?: { idx?: number };
}

function problemsFromOpaJson(text: string, dir: string): PolicyProblem[] | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  try {
    const parsed = JSON.parse(text.slice(start)) as { errors?: OpaCheckError[] };
    if (!parsed.errors?.length) return undefined;
    return parsed.errors.map((e) => ({
      file: e.location?.file ? path.relative(dir, path.resolve(dir, e.location.file)) : '(policy)',
      line: e.location?.row ?? 0,
      // opa reports parse errors at col 0 with the offending index in details.idx.
      column: e.location?.col || (e.details?.idx !== undefined ? e.details.idx + 1 : 1),
      message: e.code ? `${e.code}: ${e.message}` : e.message,
      code: e.code,
    }));
  } catch {
    return undefined;
  }
}

/** `file:row: message` lines as printed by opa build. */
function problemsFromOpaText(text: string, dir: string): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  for (const m of text.matchAll(/^(?:\S+ )?([^\s:]+\.rego):(\d+): (.+)$/gm)) {
    problems.push({ file: path.relative(dir, path.resolve(dir, m[1]!)), line: Number(m[2]), column: 1, message: m[3]! });
  }
  if (problems.length === 0) problems.push({ file: '(policy)', line: 0, column: 0, message: text.trim() || 'opa failed' });
  return problems;
}

/** The folder compiles but has no `data.airlock.decision` (another package name, an `allow` rule): say what the contract is. */
const noDecision: PolicyProblem = {
  file: '(policy)',
  line: 0,
  column: 0,
  message: 'no rule "decision" in package airlock: a policy answers data.airlock.decision, e.g. `decision := {"action": "deny", "reason": "…"}` in a file that starts with `package airlock` (docs/policies.md)',
};

async function opa(args: string[], cwd: string): Promise<{ ok: boolean; out: string }> {
  // No opa at all is a ToolchainError that says what to install, never a policy problem.
  const bin = requireOpa();
  try {
    const r = await run(bin, args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    if (typeof e.code === 'string') throw err; // spawn failure (ENOENT…), not an opa error
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Type-checks a policy folder; resolves with the problems found (empty when clean). */
export async function checkPolicy(dir: string, opts: { strict?: boolean } = {}): Promise<PolicyProblem[]> {
  // `opa check` reads only Rego; `opa build` also loads every data file, so check those here.
  const data = checkDataFiles(dir, listPolicyFiles(dir));
  const args = ['check', '--format', 'json', ...(opts.strict ? ['--strict'] : []), '.'];
  const r = await opa(args, dir);
  if (r.ok) return data;
  return [...data, ...(problemsFromOpaJson(r.out, dir) ?? problemsFromOpaText(r.out, dir))];
}

/** What to do about a policy folder that is not there, in parentheses. */
export function missingPolicyHint(dir: string): string {
  // `airlock` linked onto PATH and run elsewhere: the default `rego` is the one Airlock ships.
  const shipped = path.join(projectRoot, 'rego');
  const word = shellWord(shipped);
  return dir === 'rego' && fs.existsSync(shipped)
    ? `(the default policy is ${shipped}: pass --policy ${word}, or copy it here with cp -r ${word} rego)`
    : '(run from the folder that holds it, or pass --policy DIR)';
}

/** Compiles a policy folder to WASM. Throws PolicyCompileError with structured problems. */
export async function compilePolicy(dir: string): Promise<CompiledPolicy> {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    throw new PolicyCompileError([{ file: dir, line: 0, column: 0, message: `policy folder does not exist ${missingPolicyHint(dir)}` }]);
  }
  const files = listPolicyFiles(abs);
  if (!files.some((f) => f.endsWith('.rego'))) {
    throw new PolicyCompileError([{ file: dir, line: 0, column: 0, message: 'policy folder has no .rego files' }]);
  }
  // Only policy sources go in: tests are compiled by `opa test`, not shipped in the decision bundle.
  const buildArgs = ['build', '-t', 'wasm', '-e', ENTRYPOINT, '--ignore', '*_test.rego', '.'];
  const keyNow = (): Promise<string | undefined> => compileKey(abs, requireOpa(), `check --format json .\0${buildArgs.join('\0')}`);
  const key = await keyNow();
  const kept = key === undefined ? undefined : await readCompiled(key);
  if (kept) return { wasm: kept.wasm, data: JSON.parse(kept.dataJson) as unknown, version: policyVersion(abs, files), dir: abs, files };

  const problems = await checkPolicy(abs);
  if (problems.length) throw new PolicyCompileError(problems, abs);
  const r = await opaBundle(buildArgs, abs);
  if (!r.ok) throw new PolicyCompileError(r.out.includes(`entrypoint "${ENTRYPOINT}" does not refer to a rule`) ? [noDecision] : problemsFromOpaText(r.out, abs), abs);
  const entries = await bundleEntries(r.bundle);
  const wasm = entries.get('policy.wasm');
  if (!wasm) throw new PolicyCompileError([{ file: '(policy)', line: 0, column: 0, message: 'opa build produced no policy.wasm' }], abs);
  const dataJson = entries.get('data.json')?.toString('utf8') ?? '{}';
  const data: unknown = JSON.parse(dataJson);
  // Kept only if the folder did not change while opa read it: the entry is what this key compiles to.
  if (key !== undefined && (await keyNow()) === key) await writeCompiled(key, { wasm, dataJson });
  return { wasm, data, version: policyVersion(abs, files), dir: abs, files };
}

/**
 * `opa build` with the bundle written to its standard output, read here: no file. A bundle written
 * to the temp folder and read back was Airlock's to trust but anyone's of the same user to swap,
 * and an agent in `airlock run`'s sandbox sees the host's temp folder as that user: it put a bundle
 * of its own (any policy, any data) in place between opa's write and the read, and the proxy obeyed it.
 */
async function opaBundle(args: string[], cwd: string): Promise<{ ok: true; bundle: Buffer } | { ok: false; out: string }> {
  const bin = requireOpa();
  // Through `| cat`: Node gives a child a socket for its stdout, which opa cannot open by name
  // (ENXIO); the shell's pipe it can. opa's own exit status comes after its stderr.
  const script = '{ "$@" -o /dev/stdout; echo "opa-status=$?" >&2; } | cat';
  let r: { stdout: Buffer; stderr: Buffer };
  try {
    r = await run('/bin/sh', ['-c', script, 'sh', bin, ...args], { cwd, encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  } catch (err) {
    if (typeof (err as { code?: unknown }).code === 'string') throw err; // spawn failure (ENOENT…)
    r = err as { stdout: Buffer; stderr: Buffer };
  }
  const stderr = r.stderr?.toString('utf8') ?? '';
  const status = /opa-status=(\d+)\s*$/.exec(stderr);
  if (status?.[1] === '0') return { ok: true, bundle: r.stdout };
  if (status?.[1] === '127' || status?.[1] === '126') throw Object.assign(new Error(`cannot run ${bin}: ${stderr.slice(0, status.index).trim()}`), { code: 'ENOENT' });
  // What opa wrote on stdout is text only when it is no bundle (gzip starts with 0x1f).
  const text = r.stdout?.length && r.stdout[0] !== 0x1f ? r.stdout.toString('utf8') : '';
  return { ok: false, out: `${text}${status ? stderr.slice(0, status.index) : stderr}` };
}

/** The files of a gzipped tar bundle, by path without its leading `/` (opa writes `/policy.wasm`). */
function bundleEntries(gz: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    const parser = new tar.Parser({
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => files.set(entry.path.replace(/^\/+/, ''), Buffer.concat(chunks)));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve(files));
    parser.end(gz);
  });
}
