// Changes git's own view hides (twentieth pass). The user reviews an agent's work with `git status`
// and `git diff`, then runs it. Git trusts its index and refs for that view, and both are the
// agent's to write (it commits, so they are not kept read-only): a tracked file marked
// `skip-worktree` or `assume-unchanged`, or whose index entry records the changed file's size and
// time with the old content's id, is "unchanged" to `git status`, `git diff` and `git diff HEAD`;
// a `refs/replace/<commit>` makes git read another commit (the agent's tree) wherever HEAD is read.
// Read after the run straight from the files, so no git (and nothing of the repository's config)
// runs on the host; only files changed during the run are hashed. (Packs written during the run
// are the exception: git's own `index-pack --verify` checks them, outside any repository.)
import { spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { hostProgram } from '../lib/plantable.ts';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { inside } from './paths.ts';
import { spent, walkFolders, type WalkBudget } from './walk.ts';

export interface Hidden {
  path: string;
  why: string;
}

/** At most this many bytes of changed files are hashed (the rest is named as unread). */
const HASH_BYTES = 64 * 1024 * 1024;
const MAX_ENTRIES = 1_000_000;
/** An index not changed during the run is read up to this size, for at most this many marked files. */
const INDEX_BYTES = 32 * 1024 * 1024;
const MARKED_FILES = 20_000;

/** The path a `.git` file names (`gitdir: PATH`), read line by line (no pattern to backtrack). */
export function gitdirOf(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const t = line.trimEnd();
    if (t.startsWith('gitdir:')) return t.slice('gitdir:'.length).trim() || undefined;
  }
  return undefined;
}

/**
 * The repository whose `.git` is in `dir`: its git folder (the folder itself, or the one a `.git`
 * file names), its common folder (a linked worktree's `commondir`), and whether `.git` is a file.
 */
export function gitFoldersIn(dir: string): { gitDir: string; common: string; dotGitIsFile: boolean } | undefined {
  const dotGit = path.join(dir, '.git');
  let gitDir: string | undefined;
  let dotGitIsFile = false;
  try {
    const st = fs.statSync(dotGit);
    if (st.isDirectory()) gitDir = dotGit;
    else if (st.isFile()) {
      dotGitIsFile = true;
      const named = gitdirOf(fs.readFileSync(dotGit, 'utf8').slice(0, 4096));
      if (named) gitDir = path.resolve(dir, named);
    }
  } catch {
    /* none here */
  }
  if (!gitDir) return undefined;
  let common = gitDir;
  try {
    common = path.resolve(gitDir, fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    /* not a linked worktree */
  }
  return { gitDir, common, dotGitIsFile };
}

/** The nearest repository holding `cwd`: its working tree's top, its git folder and common folder. */
export function repositoryOf(cwd: string): { top: string; gitDir: string; common: string } | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const found = gitFoldersIn(dir);
    if (found) return { top: dir, gitDir: found.gitDir, common: found.common };
    if (dir === path.dirname(dir)) return undefined;
  }
}

interface IndexEntry {
  /** The path's bytes as a latin1 string: git keeps names as bytes, and one in no UTF-8 is a file all the same. */
  name: string;
  mode: number;
  mtimeSec: number;
  size: number;
  oid: Buffer;
  /** assume-unchanged (`assume valid`) or skip-worktree: git does not look at the file. */
  unlooked: 'assume-unchanged' | 'skip-worktree' | undefined;
  stage: number;
  /** `git add -N`: in no tree git writes. */
  intentToAdd: boolean;
}

/** Git's offset varint (index v4's name prefix lengths). */
function varint(buf: Buffer, at: number): [number, number] {
  let c = buf[at++]!;
  let val = c & 127;
  while (c & 128 && at < buf.length) {
    c = buf[at++]!;
    val = ((val + 1) << 7) + (c & 127);
  }
  return [val, at];
}

/**
 * The entries of a git index (versions 2, 3 and 4), or a reason it cannot be read as plain entries
 * (a split index keeps them in another file; an unknown version).
 */
export function readIndex(buf: Buffer, oidLength: number): { entries: IndexEntry[]; fsmonitor?: FsmonitorData; untracked?: Buffer; tree?: Buffer } | { unread: string } {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'DIRC') return { unread: 'not a git index' };
  const version = buf.readUInt32BE(4);
  if (version < 2 || version > 4) return { unread: `index version ${version}` };
  const count = buf.readUInt32BE(8);
  if (count > MAX_ENTRIES) return { unread: `${count} entries` };
  const entries: IndexEntry[] = [];
  let at = 12;
  let previous: Buffer = Buffer.alloc(0);
  for (let i = 0; i < count; i++) {
    const start = at;
    if (at + 40 + oidLength + 2 > buf.length) return { unread: 'cut short' };
    const mtimeSec = buf.readUInt32BE(at + 8);
    const mode = buf.readUInt32BE(at + 24);
    const size = buf.readUInt32BE(at + 36);
    const oid = buf.subarray(at + 40, at + 40 + oidLength);
    const flags = buf.readUInt16BE(at + 40 + oidLength);
    at += 40 + oidLength + 2;
    let extended = 0;
    if (flags & 0x4000) {
      if (version < 3 || at + 2 > buf.length) return { unread: 'extended flags' };
      extended = buf.readUInt16BE(at);
      at += 2;
    }
    let name: Buffer;
    if (version === 4) {
      const [strip, next] = varint(buf, at);
      const end = buf.indexOf(0, next);
      if (end < 0 || strip > previous.length) return { unread: 'cut short' };
      name = Buffer.concat([previous.subarray(0, previous.length - strip), buf.subarray(next, end)]);
      at = end + 1;
    } else {
      const end = buf.indexOf(0, at);
      if (end < 0) return { unread: 'cut short' };
      name = buf.subarray(at, end);
      // 1 to 8 NULs pad the entry to a multiple of 8 bytes.
      at = start + ((at - start + (end - at) + 8) & ~7);
    }
    previous = name;
    entries.push({
      name: name.toString('latin1'),
      mode,
      mtimeSec,
      size,
      oid,
      stage: (flags >> 12) & 3,
      unlooked: flags & 0x8000 ? 'assume-unchanged' : extended & 0x4000 ? 'skip-worktree' : undefined,
      intentToAdd: (extended & 0x2000) !== 0,
    });
  }
  // A split index (`git update-index --split-index`) keeps most entries in a shared file, which
  // the `link` extension names; what is here is only part of the view.
  let fsmonitor: FsmonitorData | undefined;
  let untracked: Buffer | undefined;
  let tree: Buffer | undefined;
  for (let e = at; e + 8 <= buf.length - oidLength;) {
    const sig = buf.toString('latin1', e, e + 4);
    const len = buf.readUInt32BE(e + 4);
    const body = buf.subarray(e + 8, Math.min(e + 8 + len, buf.length - oidLength));
    if (sig === 'link') return { unread: 'a split index' };
    if (sig === 'FSMN') fsmonitor = readFsmonitor(body, count);
    if (sig === 'UNTR') untracked = body;
    if (sig === 'TREE') tree = body;
    e += 8 + len;
  }
  return { entries, ...(fsmonitor && { fsmonitor }), ...(untracked && { untracked }), ...(tree && { tree }) };
}

/**
 * Git's fsmonitor extension (`FSMN`, twenty-first pass): with the user's `core.fsmonitor`, git asks
 * the hook or daemon what changed since the token and looks at no other entry than those and the
 * ones this bitmap marks dirty. The token is the time of the last query where the hook speaks
 * protocol 1 (nanoseconds, in either format), else the watcher's own opaque token.
 */
interface FsmonitorData {
  /** The token as a time in nanoseconds, when it is one. */
  tokenNs: bigint | undefined;
  /** Entries git will look at whatever the watcher says. */
  dirty: Set<number>;
}

function readFsmonitor(ext: Buffer, count: number): FsmonitorData | undefined {
  if (ext.length < 4) return undefined;
  const version = ext.readUInt32BE(0);
  let at: number;
  let tokenNs: bigint | undefined;
  if (version === 1) {
    if (ext.length < 12) return undefined;
    tokenNs = ext.readBigUInt64BE(4);
    at = 12;
  } else if (version === 2) {
    const end = ext.indexOf(0, 4);
    if (end < 0) return undefined;
    const token = ext.toString('latin1', 4, end);
    if (/^\d{1,20}$/.test(token)) tokenNs = BigInt(token) < 10n ** 15n ? BigInt(token) * 10n ** 9n : BigInt(token);
    at = end + 1;
  } else {
    return undefined;
  }
  if (at + 4 > ext.length) return undefined;
  const dirty = ewahBits(ext.subarray(at + 4, at + 4 + ext.readUInt32BE(at)), count);
  return dirty ? { tokenNs, dirty } : undefined;
}

/**
 * Git's untracked cache (`UNTR`, twenty-first pass follow-up): for each folder, its stat when git
 * last listed it and the untracked names it found; git lists a folder again only when its stat no
 * longer matches (with `core.untrackedCache` true, or unset: git keeps a cache the index has).
 * Read as folders (`a/b/`, the top is ``) with their names, sub-folders, check-only mark and,
 * where git may trust the list, the folder's recorded times.
 */
interface UntrackedFolder {
  names: Set<string>;
  /** Its sub-folders' keys (`a/b/c/`). */
  children: string[];
  /** A folder holding no tracked file: git shows it whole (`a/`) when it finds any untracked file in it. */
  checkOnly: boolean;
  /** The folder's ctime and mtime (seconds, nanoseconds) when git listed it, where it trusts the list. */
  stat?: { ctime: number; mtime: [number, number] };
}

/** The folders of an untracked cache, or undefined when it cannot be read (cut short, too many). */
function readUntracked(ext: Buffer, oidLength: number): Map<string, UntrackedFolder> | undefined {
  const folders = new Map<string, UntrackedFolder>();
  const order: UntrackedFolder[] = [];
  const nul = (from: number): number => {
    const end = ext.indexOf(0, from);
    if (end < 0) throw new RangeError('cut short');
    return end;
  };
  try {
    let [n, at] = varint(ext, 0);
    at += n + 2 * 36 + 4 + 2 * oidLength; // the environment, the exclude files' stat, flags, hashes
    at = nul(at) + 1; // the per-folder ignore file's name
    let blocks: number;
    [blocks, at] = varint(ext, at);
    if (blocks > MAX_ENTRIES) return undefined;
    // Depth first: each block is followed by its sub-folders' blocks (a stack, not recursion).
    const open: Array<{ path: string; left: number }> = [];
    for (let b = 0; b < blocks; b++) {
      let count: number;
      let subs: number;
      [count, at] = varint(ext, at);
      [subs, at] = varint(ext, at);
      const end = nul(at);
      while (open.length && open[open.length - 1]!.left === 0) open.pop();
      const parent = open[open.length - 1];
      if (b > 0 && !parent) return undefined;
      if (parent) parent.left--;
      const name = ext.toString('latin1', at, end);
      const folder = parent ? `${parent.path}${name}/` : '';
      at = end + 1;
      const names = new Set<string>();
      for (let k = 0; k < count; k++) {
        const e = nul(at);
        names.add(ext.toString('latin1', at, e));
        at = e + 1;
      }
      const entry: UntrackedFolder = { names, children: [], checkOnly: false };
      if (parent) folders.get(parent.path)?.children.push(folder);
      folders.set(folder, entry);
      order.push(entry);
      open.push({ path: folder, left: subs });
    }
    // Three bitmaps (valid, check-only, hash valid), then a stat for each valid folder.
    const bitmaps: Array<Set<number>> = [];
    for (let k = 0; k < 3; k++) {
      const words = ext.readUInt32BE(at + 4);
      const bits = ewahBits(ext.subarray(at, at + 12 + words * 8), blocks);
      if (!bits) return undefined;
      bitmaps.push(bits);
      at += 12 + words * 8;
    }
    for (const i of bitmaps[1]!) order[i]!.checkOnly = true;
    for (const i of [...bitmaps[0]!].sort((x, y) => x - y)) {
      if (at + 36 > ext.length) return undefined;
      order[i]!.stat = { ctime: ext.readUInt32BE(at), mtime: [ext.readUInt32BE(at + 8), ext.readUInt32BE(at + 12)] };
      at += 36;
    }
  } catch {
    return undefined;
  }
  return folders;
}

/** At most this many bytes of `git ls-files --others` output are read. */
const UNTRACKED_BYTES = 64 * 1024 * 1024;

/**
 * The git `airlock run` found before the run (hostProgram, twenty-seventh pass), never a `git` from
 * PATH as it is after the run (the agent's, in a folder of the user's early on PATH); none, or one
 * changed during the run: a failed result, as when git is missing.
 */
function spawnGit(args: string[], options: SpawnSyncOptions): SpawnSyncReturns<string | Buffer> {
  const git = hostProgram('git');
  if ('file' in git) return spawnSync(git.file, args, options);
  const empty = options.encoding && options.encoding !== 'buffer' ? '' : Buffer.alloc(0);
  return { pid: 0, output: [null, empty, empty], stdout: empty, stderr: empty, status: null, signal: null, error: new Error('changed' in git ? `${git.changed} changed during the run` : 'no git') };
}

/** `git ls-files -z --others --exclude-standard` (and `extra`), with no fsmonitor, no hook, no replace objects. */
function untrackedFiles(top: string, gitDir: string, extra: string[]): SpawnSyncReturns<string | Buffer> {
  // No transport either: a nested repository's config is the agent's (see gitIn).
  return spawnGit(['-c', 'core.fsmonitor=false', '-c', 'safe.directory=*', '-c', 'protocol.allow=never', 'ls-files', '-z', '--others', '--exclude-standard', ...extra], {
    cwd: top, timeout: 5000, maxBuffer: UNTRACKED_BYTES, stdio: ['ignore', 'pipe', 'ignore'],
    // The user's own ignore files (global and system config) count: they are in git status's view too.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(process.env.HOME && { HOME: process.env.HOME }), ...(process.env.XDG_CONFIG_HOME && { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME }), GIT_DIR: gitDir, GIT_WORK_TREE: top, GIT_NO_REPLACE_OBJECTS: '1', GIT_NO_LAZY_FETCH: '1' },
  });
}

/** Source files a project's own programs load when they sit among its sources. */
const SOURCE = /\.(?:py|js|mjs|cjs|ts|mts|cts|jsx|tsx|rb|php|pl|pm|sh|bash|zsh|lua|go|rs|java|kt|scala|clj|ex|exs|erl|r|jl|cs|swift|c|h|cc|cpp|hpp)$/i;

/**
 * Folders builds, installs, environments and tools write (ignored whole, and changed by every
 * build): not looked into for changed sources. Installed packages are named by package elsewhere.
 */
const BUILT = /^(?:node_modules|bower_components|jspm_packages|dist|build|out|target|_build|deps|vendor|coverage|htmlcov|\.nyc_output|site-packages|__pypackages__|__pycache__|\.?venv|env|\.tox|\.nox|\.eggs|.*\.egg-info|\.(?:[\w-]+_)?cache|\.[\w-]+-cache|\.next|\.nuxt|\.svelte-kit|\.output|\.vercel|\.netlify|\.turbo|\.angular|\.parcel-cache|\.gradle|\.yarn|\.pnpm-store|\.bundle|\.terraform|\.hypothesis|\.ipynb_checkpoints|\.idea|\.vscode|\.docusaurus|\.expo|storybook-static|tmp|temp|logs?)$/i;

/**
 * Ignored source files beside tracked ones changed during the run (twenty-second pass): git shows
 * no ignored file, and projects ignore some they import (setuptools_scm's `_version.py`, which the
 * package's `__init__` imports; Django's `local_settings.py`); Go compiles every `.go` of a package.
 * Folders git ignores whole (`dist/`, `node_modules/`: builds and installs) are not looked into.
 */
function hiddenIgnored(since: number, top: string, gitDir: string, entries: IndexEntry[], outputBudget: WalkBudget, scope: string[]): Hidden[] {
  const r = untrackedFiles(top, gitDir, ['--ignored', '--directory']);
  if (r.status !== 0 || !Buffer.isBuffer(r.stdout)) return [];
  const tracked = new Set(entries.map((e) => {
    const slash = e.name.lastIndexOf('/');
    return slash < 0 ? '' : e.name.slice(0, slash);
  }));
  const out: Hidden[] = [];
  let folders = 0;
  let outputs = 0;
  const loose = new Map<string, string[]>();
  const looseCount = new Map<string, number>();
  let walked = '';
  let generated = false;
  const addLoose = (file: string): void => {
    if (!scope.some((d) => inside(file, d))) return;
    const at = path.dirname(file);
    loose.set(at, [...(loose.get(at) ?? []), file].slice(0, 4));
    looseCount.set(at, (looseCount.get(at) ?? 0) + 1);
  };
  for (const rel of r.stdout.toString('latin1').split('\0').slice(0, MAX_ENTRIES)) {
    const slash = rel.lastIndexOf('/', rel.length - 2);
    const parent = slash < 0 ? '' : rel.slice(0, slash);
    // Inside a build output looked through already (git lists `dist/` and, for `dist/*`, `dist/sub/`):
    // git lists in path order, so what is inside a folder comes right after it. The generated-code
    // walk below passes over build folders in it (`public/build/`, listed after `public/`).
    if (walked && rel.startsWith(walked) && !(rel.endsWith('/') && BUILT.test(rel.slice(slash + 1, -1)) && generated)) continue;
    // A folder ignored whole beside tracked sources (twenty-second pass, follow-up): generated code
    // the project imports (`generated/api_pb2.py`, `gen/`), local plugins or settings packages.
    // Its changed sources are named as a file's are; builds, installs, environments and tools'
    // caches are not (BUILT).
    if (rel.endsWith('/') && tracked.has(parent) && !BUILT.test(rel.slice(slash + 1, -1)) && folders++ < 16) {
      const dir = Buffer.concat([Buffer.from(`${top}/`), Buffer.from(rel, 'latin1')]);
      // A nested repository there is looked into too: the agent can make one (`git init`, a commit)
      // whose own git status is then clean.
      const skip = (d: Buffer, name: string): boolean => BUILT.test(name) || fs.existsSync(Buffer.concat([d, Buffer.from('/pyvenv.cfg')]));
      // Programs and compiled code there too (twenty-third pass, follow-up: Go's `bin/`), by folder.
      const changed = changedUnder(dir, since, isCode, skip);
      [walked, generated] = [rel, true];
      for (const f of changed.filter((c) => !SOURCE.test(c))) addLoose(f);
      for (const f of changed.filter((c) => SOURCE.test(c)).slice(0, 64 - out.length)) out.push({ path: f, why: 'a source file in a folder git ignores whole, beside the project\'s tracked sources, changed during the run: git status and git diff never show it, and the project\'s programs may load it (generated code, a local package); review it' });
      if (changed.ranOut) out.push({ path: dir.toString('utf8'), why: 'a folder git ignores whole, beside the project\'s tracked sources, too big to check after the run for changed source files (git status and git diff never show them): review it' });
      continue;
    }
    // Build outputs (twenty-third pass, follow-up): a folder git ignores whole that the host runs or
    // serves later (`dist/cli.js` a package.json's bin names, `target/release/app`, Go's `bin/`,
    // `.next/`, an `.egg-info`'s entry points): its changed code is named, one line a folder, so
    // that a build the user asked for reads as one line and an agent's change to it is not unseen.
    if (rel.endsWith('/')) {
      const name = rel.slice(slash + 1, -1);
      const dir = Buffer.concat([Buffer.from(`${top}/`), Buffer.from(rel, 'latin1')]);
      // Only in the project (the working directory, the repositories in it): a dotfiles repository
      // in the home folder ignoring `*` lists every folder of the home as ignored.
      if (outputs >= OUTPUT_FOLDERS || !scope.some((d) => inside(dir.toString('utf8').replace(/\/$/, ''), d))) continue;
      outputs++;
      // Installs, environments, caches and reports are not walked; what a package.json names in
      // one (a `bin` in `vendor/`, `tmp/`) is still looked at.
      const walk = !OUTSIDE_OUTPUTS.test(name) && !fs.existsSync(Buffer.concat([dir, Buffer.from('pyvenv.cfg')]));
      const found = builtChanged(since, top, parent, dir, outputBudget, walk);
      if (walk) [walked, generated] = [rel, false];
      if (found) out.push(found);
      continue;
    }
    if (!rel) continue;
    const file = Buffer.concat([Buffer.from(`${top}/`), Buffer.from(rel, 'latin1')]);
    if (!SOURCE.test(rel) || !tracked.has(slash < 0 ? '' : rel.slice(0, slash))) {
      // An ignored file of code anywhere else (a `go build` binary at the top, a `*.so` or `*.node`
      // built in place, a compiled `.js` beside its `.ts`): named by the folder holding it.
      let st: fs.Stats;
      try {
        st = fs.lstatSync(file);
      } catch {
        continue;
      }
      // Not in a folder of installs, environments, caches or reports (named elsewhere, or not run).
      if (rel.split('/').slice(0, -1).some((d) => OUTSIDE_OUTPUTS.test(d))) continue;
      if (st.ctimeMs >= since && isCode(rel.slice(slash + 1), st, file)) addLoose(file.toString('utf8'));
      continue;
    }
    try {
      if (fs.lstatSync(file).ctimeMs < since) continue;
    } catch {
      continue;
    }
    if (out.length >= 64) break;
    out.push({ path: file.toString('utf8'), why: 'a source file git ignores, beside the project\'s tracked sources, changed during the run: git status and git diff never show it, and the project\'s programs load it (an import, a package\'s module); review it' });
  }
  for (const [at, files] of [...loose].slice(0, 16)) {
    const n = looseCount.get(at) ?? files.length;
    const named = entryPoints(path.join(at, 'package.json'), at);
    const entry = files.map((f) => named.get(path.relative(at, f))).find(Boolean);
    out.push(n === 1
      ? { path: files[0]!, why: `a file of code git ignores changed during the run${entry ? ` (package.json's ${entry} names it)` : ''}: git status and git diff never show it, and it is run or loaded as it is (a program, a native module, compiled code); if no build you asked for made it, remove it and build again` }
      : { path: at, why: `${n} files of code in this folder that git ignores changed during the run (${files.slice(0, 3).map((f) => path.basename(f)).join(', ')}${n > 3 ? ', …' : ''})${entry ? `, package.json's ${entry} naming one` : ''}: git status and git diff never show them, and they are run or loaded as they are; if no build you asked for made them, remove them and build again` });
  }
  return out;
}

/**
 * Ignored folders that are no build output: installs and environments (named by package elsewhere),
 * tools' caches (removed after the run where they hold code), editors' folders (entry files
 * elsewhere), reports and scratch the host neither runs nor serves.
 */
const OUTSIDE_OUTPUTS = /^(?:\.git|node_modules|bower_components|jspm_packages|site-packages|__pypackages__|__pycache__|\.?venv|\.tox|\.nox|\.eggs|deps|vendor|\.yarn|\.pnpm-store|\.bundle|\.terraform|\.gradle|\.(?:[\w-]+_)?cache|\.[\w-]+-cache|\.hypothesis|\.ipynb_checkpoints|\.idea|\.vscode|coverage|htmlcov|\.nyc_output|tmp|temp|logs?)$/i;
/** Build output folders looked into per repository, and the walk's bounds over all of them, in every repository (entries, ms; the first entries whatever the time). */
const OUTPUT_FOLDERS = 32;
const OUTPUT_ENTRIES = 50_000;
const OUTPUT_MS = 1000;
const OUTPUT_SURE = 5000;

/**
 * Names of files that are code whatever their mode: native and compiled code (Erlang's `.beam` in
 * `_build`), archives run as programs (`.pyz`, `.phar`, `.asar`), web pages, and packages the host
 * installs or publishes next (`twine upload dist/*`, `npm publish` of a `.tgz`, a `.vsix`).
 */
const COMPILED = /\.(?:so(?:\.[\d.]+)?|dylib|node|dll|exe|pyd|wasm|jar|war|class|a|o|rlib|rmeta|bundle|html?|xhtml|beam|pyc|pyz|pex|phar|asar|bat|cmd|ps1|whl|egg|tgz|tar\.gz|crate|gem|nupkg|vsix|deb|rpm|apk|AppImage|msi|dmg)$/i;

/**
 * Build files whose commands a build tool runs as they are written (twenty-eighth pass), which
 * projects keep out of git because a tool generates them: autotools' `Makefile` (from the tracked
 * `Makefile.in`; `make` reads it, not the template), a `config.mk` or `local.mk` a tracked Makefile
 * includes, CMake's build folder (`build/Makefile`, `CMakeFiles/*.dir/build.make`, `build.ninja`,
 * `CMakeCache.txt`, whose compiler and tool paths every `cmake --build` runs), meson's `build.ninja`,
 * configure's `config.status` and `libtool`: a recipe the agent added there ran at the user's next
 * `make`, `ninja` or `cmake --build`, outside the sandbox, and no diff showed it (none has an exec
 * bit or a source file's extension).
 */
const BUILD_FILES = /^(?:GNUmakefile|[Mm]akefile(?:\.[\w-]+)?|.*\.(?:mk|make|ninja|cmake)|CMakeCache\.txt|CMakeUserPresets\.json|config\.status|libtool)$/;

/**
 * Whether an ignored file is code the host runs or loads: a source, compiled code, a link, Python
 * entry points, or a program: an exec bit on a name with no extension (`bin/server`, a shell reads
 * one with no `#!` as a script) or on a file starting as a script or a binary does (`#!`, ELF,
 * Mach-O, PE); a `test.log` with the bit set on a filesystem that sets it on all is no program.
 */
function isCode(name: string, st: fs.Stats, file?: Buffer | string): boolean {
  if (SOURCE.test(name) || COMPILED.test(name) || BUILD_FILES.test(name) || name === 'entry_points.txt' || st.isSymbolicLink()) return true;
  if (!st.isFile() || (st.mode & 0o111) === 0) return false;
  if (!/\.[^.]+$/.test(name.replace(/^\.+/, '')) || file === undefined) return true;
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    fs.readSync(fd, head, 0, 4, 0);
  } catch {
    return true;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
  const magic = head.readUInt32BE(0);
  return head.subarray(0, 2).toString('latin1') === '#!' || head.subarray(0, 2).toString('latin1') === 'MZ'
    || [0x7f454c46, 0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe].includes(magic);
}

/**
 * The files a package.json names to run or load (bin, main, module, browser, exports, and paths its
 * scripts start), as paths relative to `pkgDir`, each with the field naming it. Unreadable: none.
 */
function entryPoints(manifest: string, pkgDir: string): Map<string, string> {
  const out = new Map<string, string>();
  let doc: Record<string, unknown>;
  try {
    if (fs.statSync(manifest).size > 1024 * 1024) return out;
    doc = JSON.parse(fs.readFileSync(manifest, 'utf8')) as Record<string, unknown>;
  } catch {
    return out;
  }
  const add = (v: unknown, field: string, depth = 0): void => {
    if (out.size >= 256 || depth > 8) return;
    if (typeof v === 'string') {
      const rel = path.relative(pkgDir, path.resolve(pkgDir, v));
      if (rel && !rel.startsWith('..') && !out.has(rel)) out.set(rel, field);
    } else if (v && typeof v === 'object') for (const x of Object.values(v).slice(0, 256)) add(x, field, depth + 1);
  };
  for (const field of ['bin', 'main', 'module', 'browser', 'exports']) add(doc[field], field);
  const scripts = doc.scripts && typeof doc.scripts === 'object' ? Object.entries(doc.scripts as Record<string, unknown>).slice(0, 256) : [];
  for (const [name, cmd] of scripts) {
    for (const word of typeof cmd === 'string' ? cmd.split(/[\s;&|()'"=]+/).slice(0, 256) : []) if (/^(?:\.\/)?[\w.@-]+\/[\w./@-]+$/.test(word)) add(word, `${name} script`);
  }
  return out;
}

/**
 * A build output folder's changed code (hiddenIgnored), as one entry naming the folder: the files a
 * manifest beside it names first (what `npx`, `npm start` run), then the first others the walk finds.
 */
function builtChanged(since: number, top: string, parent: string, dir: Buffer, budget: WalkBudget, walk: boolean): Hidden | undefined {
  const folder = dir.toString('utf8').replace(/\/$/, '');
  // The package.json beside the folder and the repository's own (a `bin` of `build/out/cli.js`).
  const named: string[] = [];
  const files: string[] = [];
  for (const pkgDir of [...new Set([path.join(top, parent), top])]) {
    for (const [rel, field] of [...entryPoints(path.join(pkgDir, 'package.json'), pkgDir)].slice(0, 256)) {
      const file = path.join(pkgDir, rel);
      if (!inside(file, folder) || files.includes(file) || files.length >= 64) continue;
      try {
        if (fs.lstatSync(file).ctimeMs < since) continue;
      } catch {
        continue; // not built
      }
      files.push(file);
      named.push(`${path.relative(top, file)}, which ${path.relative(top, path.join(pkgDir, 'package.json'))}'s ${field} names`);
    }
  }
  const changed = walk ? changedUnder(dir, since, isCode, (_d, name) => name === 'node_modules' || name === '.git', budget, 3) : [];
  const shown = path.relative(top, folder);
  if (!named.length && !changed.length) {
    return changed.ranOut ? { path: folder, why: 'a build output folder git ignores, too big to check after the run for code changed in it (git status and git diff never show it; the host runs or serves what it holds): if no build you asked for wrote it, remove it and build again' } : undefined;
  }
  const first = [...named, ...changed.filter((f) => !files.includes(f)).map((f) => path.relative(top, f))].slice(0, 3);
  return { path: folder, why: `a build output folder git ignores, code in it changed during the run (${first.join('; ')}${changed.length >= 3 || changed.ranOut ? '; …' : ''}): git status and git diff never show it, and the host runs or serves what it holds; if a build you asked for wrote it, that is all; if not, remove ${shown} and build again` };
}

/**
 * New untracked files the untracked cache hides from `git status`: git's own list of them, made
 * without the cache (`ls-files --others` does not read it; no fsmonitor, no hook runs), walked
 * through the cache's folders. A file is hidden when the folder holding it (or the sub-folder it
 * is in) is one whose list git trusts — its recorded mtime (and ctime, unless the user's
 * `core.trustCtime` is false) is the folder's, and the index was written after it (git takes a folder changed in the index's own second as changed) — and the list
 * lacks it. The agent's own `git status` writes lists that match the folders, so nothing is named.
 */
function hiddenUntracked(since: number, top: string, gitDir: string, indexFile: string, folders: Map<string, UntrackedFolder>, trustCtime: boolean): Hidden[] {
  const out: Hidden[] = [];
  let indexTime: bigint;
  try {
    indexTime = fs.statSync(indexFile, { bigint: true }).mtimeNs;
  } catch {
    return out;
  }
  const r = untrackedFiles(top, gitDir, []);
  if (r.status !== 0) {
    out.push({ path: indexFile, why: 'the untracked files could not be listed to check git\'s untracked cache in the index against them: git status may not show every new file; review with git -c core.untrackedCache=false status' });
    return out;
  }
  // Names are kept as bytes (latin1 strings): a folder named in no UTF-8 (pytest still walks into
  // it for a conftest.py) is found all the same.
  const bytes = (rel: string): Buffer => Buffer.concat([Buffer.from(`${top}/`), Buffer.from(rel, 'latin1')]);
  // Whether git trusts a folder's list: built with nanosecond times or not, both ways checked.
  const trust = new Map<string, boolean>();
  const trusted = (folder: string): boolean => {
    let known = trust.get(folder);
    if (known !== undefined) return known;
    known = false;
    const stat = folders.get(folder)?.stat;
    try {
      const st = stat && fs.statSync(bytes(folder), { bigint: true });
      if (stat && st) {
        const [sec, nsec] = [BigInt(stat.mtime[0]), BigInt(stat.mtime[1])];
        const recorded = sec * 10n ** 9n + nsec;
        const now = st.mtimeNs;
        // Seconds compared in any build (the ctime too, git's core.trustCtime default), nanoseconds
        // in one built with them.
        known = now / 10n ** 9n === sec && (!trustCtime || st.ctimeNs / 10n ** 9n === BigInt(stat.ctime))
          && (indexTime / 10n ** 9n > sec || (now === recorded && indexTime > recorded));
      }
    } catch {
      /* gone: git lists it again */
    }
    trust.set(folder, known);
    return known;
  };
  const untracked = r.stdout.toString('latin1').split('\0').filter(Boolean).slice(0, MAX_ENTRIES);
  // Folders of the cache holding an untracked file outside every sub-folder of the cache: git,
  // reading such a folder again, finds it.
  const direct = new Set<string>();
  for (const rel of untracked) {
    const parts = rel.split('/');
    let folder = '';
    for (const part of parts) {
      if (!folders.has(folder)) break;
      const sub = `${folder}${part}/`;
      if (!folders.has(sub)) {
        direct.add(folder);
        break;
      }
      folder = sub;
    }
  }
  // Whether git shows a folder with no tracked file (`a/`): its list, or its sub-folders', where
  // trusted; what is in it, where git reads it again. Depth first, each folder once.
  const whole = new Map<string, boolean>();
  const shown = (folder: string): boolean => {
    const known = whole.get(folder);
    if (known !== undefined) return known;
    whole.set(folder, false);
    const entry = folders.get(folder)!;
    const found = (trusted(folder) ? entry.names.size > 0 : direct.has(folder)) || entry.children.some(shown);
    whole.set(folder, found);
    return found;
  };
  for (const rel of untracked) {
    const file = bytes(rel);
    try {
      if (fs.lstatSync(file).ctimeMs < since) continue;
    } catch {
      continue;
    }
    // Git's walk with the cache: a trusted folder's list is shown as it is; a sub-folder of the
    // cache is walked into, or (one holding no tracked file) shown whole if anything is found in it;
    // anything else is found only where git reads the folder again.
    const parts = rel.split('/');
    let folder = '';
    let visible = true;
    for (let k = 0; k < parts.length; k++) {
      const entry = folders.get(folder);
      if (!entry) break;
      if (trusted(folder) && (entry.names.has(parts[k]!) || entry.names.has(`${parts[k]}/`))) break;
      const sub = `${folder}${parts[k]}/`;
      const child = k < parts.length - 1 ? folders.get(sub) : undefined;
      if (child?.checkOnly) {
        visible = shown(sub);
        break;
      }
      if (child) {
        folder = sub;
        continue;
      }
      visible = !trusted(folder);
      break;
    }
    if (!visible) out.push({ path: file.toString('utf8'), why: 'new during the run, and git status does not show it: git\'s untracked cache in the index lists its folder without it; review it, then git update-index --no-untracked-cache' });
  }
  return out;
}

/**
 * Git's cache of trees (`TREE`, twenty-second pass): for each folder, the tree id the index's
 * entries under it make, kept so git need not hash them again. `git status` and `git diff HEAD`
 * skip a folder whose recorded tree is HEAD's, and `git commit` writes it as recorded; the agent
 * staged a change and recorded HEAD's trees, and neither showed it. Each folder whose recorded
 * tree is not what its entries make is returned (the deepest ones: those above differ with them),
 * as a path relative to the top ('' for the top).
 */
function forgedTrees(entries: IndexEntry[], ext: Buffer, sha256: boolean): string[] {
  const oidLength = sha256 ? 32 : 20;
  // The recorded nodes, in git's order (a folder, then its sub-folders), with their full paths.
  const recorded = new Map<string, { oid: Buffer; children: string[] }>();
  let at = 0;
  const node = (prefix: string, depth: number): string | undefined => {
    const nul = ext.indexOf(0, at);
    const nl = nul < 0 ? -1 : ext.indexOf(0x0a, nul);
    if (nul < 0 || nl < 0 || depth > 64) return undefined;
    const name = ext.toString('latin1', at, nul);
    const [count, subtrees] = ext.toString('latin1', nul + 1, nl).split(' ').map(Number);
    at = nl + 1;
    const full = depth === 0 ? '' : `${prefix}${name}/`;
    let oid: Buffer | undefined;
    if (count! >= 0) {
      oid = ext.subarray(at, at + oidLength);
      at += oidLength;
    }
    const children: string[] = [];
    for (let k = 0; k < (subtrees ?? 0) && k < 100_000; k++) {
      const c = node(full, depth + 1);
      if (c === undefined) return undefined;
      children.push(c);
    }
    if (oid) recorded.set(full, { oid, children });
    return full;
  };
  if (node('', 0) === undefined || recorded.size === 0) return [];
  // What the entries make, folder by folder (index order is git's tree order).
  const made = new Map<string, Buffer>();
  const live = entries.filter((e) => e.stage === 0 && !e.intentToAdd);
  let i = 0;
  const build = (prefix: string, depth: number): Buffer => {
    const parts: Buffer[] = [];
    while (i < live.length && live[i]!.name.startsWith(prefix)) {
      const e = live[i]!;
      const rest = e.name.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0 || slash === rest.length - 1) {
        // A file, a link, a submodule, or a sparse directory entry (`sub/`): its own id.
        parts.push(Buffer.from(`${e.mode >>> 12 === 0o04 ? '40000' : e.mode.toString(8)} ${slash < 0 ? rest : rest.slice(0, -1)}\0`, 'latin1'), e.oid);
        if (slash >= 0) made.set(e.name, e.oid); // the sparse folder's tree is the entry's
        i++;
      } else {
        const sub = rest.slice(0, slash);
        const oid = depth < 64 ? build(`${prefix}${sub}/`, depth + 1) : Buffer.alloc(oidLength);
        parts.push(Buffer.from(`40000 ${sub}\0`, 'latin1'), oid);
      }
    }
    const body = Buffer.concat(parts);
    const oid = crypto.createHash(sha256 ? 'sha256' : 'sha1').update(`tree ${body.length}\0`).update(body).digest();
    made.set(prefix, oid);
    return oid;
  };
  build('', 0);
  const wrong = new Set([...recorded].filter(([p, r]) => !made.get(p)?.equals(r.oid)).map(([p]) => p));
  return [...wrong].filter((p) => !recorded.get(p)!.children.some((c) => wrong.has(c)));
}

/**
 * Files (not folders) at or below `dir` changed at or after `since`: 20,000 looked at, 32 deep, at
 * most 64 named; only those `pick` takes, in no folder `skip` names. `ranOut` says the bound was met.
 */
function changedUnder(dir: Buffer, since: number, pick: (name: string, st: fs.Stats, file: Buffer) => boolean = () => true, skip: (folder: Buffer, name: string) => boolean = () => false,
  budget: WalkBudget = { left: 20_000, until: Infinity }, most = 64): string[] & { ranOut?: boolean } {
  const out: string[] & { ranOut?: boolean } = [];
  const walk = (d: Buffer, depth: number): void => {
    let names: Buffer[];
    try {
      names = fs.readdirSync(d, { encoding: 'buffer' });
    } catch {
      return;
    }
    for (const n of names) {
      if (out.length >= most || out.ranOut) return;
      if (spent(budget)) {
        out.ranOut = true;
        return;
      }
      const p = Buffer.concat([d, Buffer.from('/'), n]);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        continue;
      }
      const name = n.toString('latin1');
      if (st.isDirectory()) {
        if (depth < 32 && name !== '.git' && !skip(p, name)) walk(p, depth + 1);
      } else if (st.ctimeMs >= since && pick(name, st, p)) out.push(p.toString('utf8'));
    }
  };
  const top = dir.at(-1) === 0x2f ? dir.subarray(0, -1) : dir;
  if (!skip(top, path.basename(top.toString('latin1')))) walk(top, 0);
  return out;
}

/** The set bits below `limit` of a git EWAH bitmap (ewah/ewah_io.c), or undefined when cut short. */
function ewahBits(buf: Buffer, limit: number): Set<number> | undefined {
  if (buf.length < 8) return undefined;
  const words = buf.readUInt32BE(4);
  if (8 + words * 8 > buf.length) return undefined;
  const bits = new Set<number>();
  let pos = 0;
  for (let w = 0; w < words && pos < limit;) {
    const rlw = buf.readBigUInt64BE(8 + w++ * 8);
    const run = Number((rlw >> 1n) & 0xffffffffn) * 64;
    if (rlw & 1n) for (let k = 0; k < run && pos < limit; k++) bits.add(pos++);
    else pos += run;
    const literals = Number(rlw >> 33n);
    for (let k = 0; k < literals && w < words && pos < limit; k++) {
      const word = buf.readBigUInt64BE(8 + w++ * 8);
      for (let c = 0n; c < 64n; c++, pos++) if ((word >> c) & 1n) bits.add(pos);
    }
  }
  return bits;
}

/** At most this many loose objects written during the run are checked against their names. */
const LOOSE_OBJECTS = 20_000;
/** And at most this many loose objects are looked at (a stat each) to find them. */
const LOOSE_LOOKED = 200_000;

/**
 * Loose objects written during the run whose content is not what their name says (twenty-first
 * pass). Git reads an object by its name and does not hash it again (only `git fsck` does), and the
 * object store is the agent's to write (it commits): the blob of a committed file rewritten in
 * place reads as the file at HEAD, so `git status` and `git diff` show nothing while the next `git
 * checkout`, `stash`, `reset --hard` or `restore` writes the agent's content into the working tree.
 * Each object changed during the run is inflated (1 MiB of output past the size its header says is
 * a mismatch too) and hashed. Packs are not read (see docs/security-tests.md).
 */
function forgedObjects(since: number, objects: string, sha256: boolean): Hidden[] {
  const out: Hidden[] = [];
  const hexLength = sha256 ? 64 : 40;
  let checked = 0;
  let looked = 0;
  let bytes = 0;
  let folders: string[];
  try {
    folders = fs.readdirSync(objects).filter((n) => /^[0-9a-f]{2}$/.test(n));
  } catch {
    return out;
  }
  out.push(...forgedPacks(since, path.join(objects, 'pack'), sha256));
  for (const dir of folders) {
    const folder = path.join(objects, dir);
    let names: string[];
    try {
      // Every folder: an object rewritten in place changes its own time, not its folder's.
      names = fs.readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.length !== hexLength - 2 || !/^[0-9a-f]+$/.test(name)) continue;
      if (++looked > LOOSE_LOOKED) {
        out.push({ path: objects, why: 'git\'s object store holds too many loose objects to check after the run: run git fsck before you check out, stash or reset' });
        return out;
      }
      const file = path.join(folder, name);
      let raw: Buffer;
      try {
        const st = fs.lstatSync(file);
        if (st.ctimeMs < since) continue;
        if (++checked > LOOSE_OBJECTS || bytes > HASH_BYTES) {
          out.push({ path: objects, why: 'git\'s object store: more objects were written during the run than are checked after it; run git fsck before you check out, stash or reset' });
          return out;
        }
        raw = st.isFile() ? fs.readFileSync(file) : Buffer.alloc(0);
      } catch {
        continue;
      }
      let content: Buffer | undefined;
      try {
        content = zlib.inflateSync(raw, { maxOutputLength: HASH_BYTES });
      } catch {
        content = undefined;
      }
      bytes += content?.length ?? 0;
      const id = content && crypto.createHash(sha256 ? 'sha256' : 'sha1').update(content).digest('hex');
      if (id !== dir + name) {
        out.push({ path: file, why: 'an object of git\'s store written during the run whose content is not what its name says: git show, checkout, stash, reset and restore read it (the agent\'s) in place of the real one, and git diff shows nothing; git fsck names it: remove it and fetch the real one' });
      }
    }
  }
  return out;
}

/** Git LFS objects written during the run are hashed up to this many bytes in all. */
const LFS_BYTES = 256 * 1024 * 1024;

/**
 * Git LFS objects written during the run whose content is not what their name says (twenty-sixth
 * pass): `.git/lfs/objects/ab/cd/<sha256>` is named by the SHA-256 of its content, and git-lfs's
 * smudge filter copies a local object into the working tree without hashing it again (only `git
 * lfs fsck` does). An object of a file the repository tracks, rewritten in place by the agent (or
 * one planted for a pointer not yet fetched), is what the next `git checkout`, `git lfs pull` or
 * `reset --hard` writes, while the pointer in every diff is the same. Each object changed during the
 * run is hashed; past the bound the folder is named.
 */
function forgedLfsObjects(since: number, objects: string): Hidden[] {
  const out: Hidden[] = [];
  let bytes = 0;
  let looked = 0;
  const hex2 = (n: string): boolean => /^[0-9a-f]{2}$/.test(n);
  const list = (dir: string): string[] => {
    try {
      return fs.readdirSync(dir);
    } catch {
      return [];
    }
  };
  const chunk = Buffer.alloc(1 << 20);
  for (const a of list(objects).filter(hex2)) {
    for (const b of list(path.join(objects, a)).filter(hex2)) {
      const folder = path.join(objects, a, b);
      for (const name of list(folder)) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        if (++looked > LOOSE_LOOKED) {
          out.push({ path: objects, why: 'Git LFS\'s object store holds too many objects to check after the run: run git lfs fsck before you check out or pull' });
          return out;
        }
        const file = path.join(folder, name);
        let fd: number | undefined;
        try {
          const st = fs.lstatSync(file);
          if (st.ctimeMs < since) continue;
          if (bytes + st.size > LFS_BYTES) {
            out.push({ path: objects, why: 'Git LFS\'s object store: more was written during the run than is checked after it; run git lfs fsck before you check out or pull' });
            return out;
          }
          bytes += st.size;
          const hash = crypto.createHash('sha256');
          if (st.isFile()) {
            fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
            for (let n = fs.readSync(fd, chunk); n > 0; n = fs.readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
          }
          // A link, or a name whose folders do not match it, is no object git-lfs wrote.
          if (!st.isFile() || hash.digest('hex') !== name || !name.startsWith(a + b)) {
            out.push({ path: file, why: 'a Git LFS object written during the run whose content is not what its name says: git-lfs copies it into the working tree at the next checkout, pull or reset without hashing it, and every diff shows the same pointer; git lfs fsck names it: remove it and fetch the real one' });
          }
        } catch {
          /* gone, or unreadable */
        } finally {
          if (fd !== undefined) fs.closeSync(fd);
        }
      }
    }
  }
  return out;
}

/** Packs made during the run are checked up to this size in all, and this long. */
const PACK_BYTES = 256 * 1024 * 1024;
const PACK_MS = 10_000;

/**
 * Packs made or changed during the run that git's own `index-pack --verify` refuses: it hashes every
 * object again, so one whose content is not what the index names is found (`git repack` or `gc`
 * inside carries a rewritten loose object into a pack as it is). Run outside any repository, with no
 * user or system config: nothing of the agent's runs.
 */
function forgedPacks(since: number, packDir: string, sha256: boolean): Hidden[] {
  const out: Hidden[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(packDir).filter((n) => n.endsWith('.pack')).slice(0, 256);
  } catch {
    return out;
  }
  let bytes = 0;
  const until = Date.now() + PACK_MS;
  for (const name of names) {
    const pack = path.join(packDir, name);
    let st: fs.Stats;
    try {
      st = fs.statSync(pack);
      const idx = fs.statSync(pack.replace(/\.pack$/, '.idx'));
      if (Math.max(st.ctimeMs, idx.ctimeMs) < since) continue;
    } catch {
      continue; // no index: git does not read it
    }
    bytes += st.size;
    const left = until - Date.now();
    const r = bytes > PACK_BYTES || left <= 0 ? undefined : spawnGit(['index-pack', '--verify', `--object-format=${sha256 ? 'sha256' : 'sha1'}`, pack], {
      cwd: '/', stdio: 'ignore', timeout: left, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
    });
    if (r?.status === 0) continue;
    out.push({
      path: pack,
      why: r && r.status !== null
        ? 'a pack of git\'s store written during the run holding an object whose content is not what its name says: git show, checkout, stash, reset and restore read it (the agent\'s) in place of the real one, and git diff shows nothing; git fsck names it'
        : 'a pack of git\'s store written during the run, too big (or too slow) to check after it: run git fsck before you check out, stash or reset',
    });
  }
  return out;
}

/**
 * The object store's own indexes written during the run that git's `verify` refuses (twenty-first
 * pass): git reads a commit's tree from the commit-graph without reading the commit, so a graph
 * naming the agent's tree (its change staged) for HEAD left `git status` and `git diff HEAD` clean;
 * a multi-pack-index says where each object is. Run with the repository's own config (read-only
 * during the run: the user's) but no fsmonitor, hook or user config; these commands run no program.
 */
function forgedIndexes(since: number, common: string): Hidden[] {
  const out: Hidden[] = [];
  const objects = path.join(common, 'objects');
  const changed = (p: string): boolean => {
    try {
      const st = fs.statSync(p);
      if (st.ctimeMs >= since) return true;
      return st.isDirectory() && fs.readdirSync(p).slice(0, 256).some((n) => fs.statSync(path.join(p, n)).ctimeMs >= since);
    } catch {
      return false;
    }
  };
  const checks: Array<[string[], string, string]> = [
    [[path.join(objects, 'info', 'commit-graph'), path.join(objects, 'info', 'commit-graphs')], 'commit-graph', 'git\'s commit-graph written during the run does not match the commits: git reads a commit\'s tree from it, so git status and git diff HEAD compare with a tree of the agent\'s; remove it (git commit-graph write again) and review with git -c core.commitGraph=false diff HEAD'],
    [[path.join(objects, 'pack', 'multi-pack-index')], 'multi-pack-index', 'git\'s multi-pack-index written during the run does not match the packs: git reads objects where it says; remove it and run git fsck'],
  ];
  // Alternates (`objects/info/alternates`) written during the run: git reads an object missing here
  // from the folders it names, which the agent fills (and removes the real one), unchecked.
  for (const name of ['alternates', 'http-alternates']) {
    const p = path.join(objects, 'info', name);
    if (changed(p)) out.push({ path: p, why: 'git\'s alternates written during the run: git reads objects missing here from the folders it names (the agent\'s), in place of real ones, and git status and diff show nothing; remove it and run git fsck' });
  }
  for (const [paths, command, why] of checks) {
    const at = paths.find(changed);
    if (!at) continue;
    const r = gitIn(common, common, [command, 'verify']);
    if (r.status !== 0) out.push({ path: at, why: r.status === null ? `git's ${command} written during the run could not be checked in time: review with git -c core.commitGraph=false diff HEAD and run git fsck` : why });
  }
  return out;
}

/** Git's object id of a blob with this content. */
function blobId(content: Buffer, sha256: boolean): Buffer {
  return crypto.createHash(sha256 ? 'sha256' : 'sha1').update(`blob ${content.length}\0`).update(content).digest();
}

/**
 * What git may have stored for a file's content: the content itself, with CRLF line ends made LF
 * (`core.autocrlf`, `text` attributes), or Git LFS's pointer to it. A file staged through another
 * clean filter (git-crypt) differs from every one, and is named if changed during the run.
 */
function storedForms(content: Buffer): Buffer[] {
  const forms = [content];
  if (content.includes('\r\n')) forms.push(Buffer.from(content.toString('latin1').replaceAll('\r\n', '\n'), 'latin1'));
  const oid = crypto.createHash('sha256').update(content).digest('hex');
  forms.push(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${oid}\nsize ${content.length}\n`));
  return forms;
}

/**
 * Files of the repositories holding `dirs` (the working directory's, and the submodules and nested
 * repositories found in it: `git status` recurses into submodules) changed since `since` (ms) that
 * `git status` and `git diff` do not show as changed, and replace refs made since then: each named
 * with why. At most 64 repositories.
 */
export function hiddenFromGit(since: number, dirs: string[]): Hidden[] {
  const repos = new Map<string, { top: string; gitDir: string; common: string }>();
  for (const d of dirs) {
    const repo = repositoryOf(d);
    if (repo && !repos.has(repo.gitDir) && repos.size < 64) repos.set(repo.gitDir, repo);
  }
  // The repository's other linked worktrees (twenty-first pass): their working trees are elsewhere
  // (`~/src/app-feature`, the agent's to write as the home folder is) and their indexes in the
  // common folder (`worktrees/<name>/index`), so a change there could be hidden the same ways.
  for (const repo of [...repos.values()]) {
    // And the main working tree, from a linked one (a non-bare repository's common folder is its `.git`).
    if (path.basename(repo.common) === '.git' && !repos.has(repo.common) && repos.size < 64) repos.set(repo.common, { top: path.dirname(repo.common), gitDir: repo.common, common: repo.common });
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.join(repo.common, 'worktrees')).slice(0, 16);
    } catch {
      /* none */
    }
    for (const name of names) {
      const gitDir = path.join(repo.common, 'worktrees', name);
      let dotGit: string;
      try {
        dotGit = fs.readFileSync(path.join(gitDir, 'gitdir'), 'utf8').trim();
      } catch {
        continue;
      }
      if (!path.isAbsolute(dotGit) || repos.has(gitDir) || repos.size >= 64) continue;
      repos.set(gitDir, { top: path.dirname(dotGit), gitDir, common: repo.common });
    }
  }
  const out: Hidden[] = [];
  // The object store is shared by a repository's worktrees: checked once per common folder.
  const stores = new Set<string>();
  // The build output folders of all of them are looked through on one budget (hiddenIgnored).
  const outputs: WalkBudget = { left: OUTPUT_ENTRIES, until: Date.now() + OUTPUT_MS, sure: OUTPUT_SURE };
  const scope = dirs.map((d) => path.resolve(d));
  for (const repo of repos.values()) {
    const store = !stores.has(repo.common);
    stores.add(repo.common);
    for (const h of hiddenIn(since, repo, store, outputs, scope)) if (!out.some((o) => o.path === h.path)) out.push(h);
  }
  return out;
}

/**
 * The todo of a rebase in progress changed during the run and holding an `exec` line (twenty-fourth
 * pass; a cherry-pick's or revert's todo refuses one): `git rebase --continue` runs each on the host, and a user who stopped
 * a rebase for the agent to do an edit or resolve a conflict continues it; git status shows only
 * that a rebase is in progress. Read up to TODO_BYTES (a bigger one is named unread).
 */
function sequencerExecs(since: number, gitDir: string): Hidden[] {
  const p = path.join(gitDir, 'rebase-merge', 'git-rebase-todo');
  try {
    const st = fs.statSync(p);
    if (Math.max(st.mtimeMs, st.ctimeMs) < since) return [];
    const text = st.size <= TODO_BYTES ? fs.readFileSync(p, 'latin1') : undefined;
    if (text === undefined) return [{ path: p, why: 'the todo of the rebase in progress (too big to read) may hold exec lines: your git rebase --continue runs them outside the sandbox (git rebase --edit-todo shows them)' }];
    // `exec CMD` or `x CMD`, after blanks; git's comment lines start with its comment character.
    if (text.split('\n').some((line) => /^[ \t]*(?:exec|x)[ \t]/.test(line))) {
      return [{ path: p, why: 'the todo of the rebase in progress holds an exec line: your git rebase --continue runs it outside the sandbox (git rebase --edit-todo shows it)' }];
    }
  } catch {
    /* no rebase in progress */
  }
  return [];
}
const TODO_BYTES = 4 * 1024 * 1024;

function hiddenIn(since: number, repo: { top: string; gitDir: string; common: string }, store: boolean, outputs: WalkBudget, scope: string[]): Hidden[] {
  const out: Hidden[] = [...sequencerExecs(since, repo.gitDir)];
  let config = '';
  try {
    config = fs.readFileSync(path.join(repo.common, 'config'), 'utf8');
  } catch {
    /* none */
  }
  // A line `objectformat = sha256` (any case, any blanks), read line by line: linear.
  const says = (key: string, value: string): boolean => config.split('\n').some((line) => {
    const eq = line.indexOf('=');
    return eq > 0 && line.slice(0, eq).trim().toLowerCase() === key && line.slice(eq + 1).trim().toLowerCase() === value;
  });
  const sha256 = says('objectformat', 'sha256');
  // With the user's `core.trustCtime = false` git compares no ctime: a folder's mtime set back to
  // the one the cache records (the user's own cache, the index untouched) hides a new file in it.
  const trustCtime = !says('trustctime', 'false');
  const indexFile = path.join(repo.gitDir, 'index');
  // An index changed during the run is read whole; one left as it was only for the files the user
  // marked before the run (a change the agent made to one of those is hidden as well).
  let buf: Buffer | undefined;
  let indexChanged = false;
  try {
    const st = fs.statSync(indexFile);
    indexChanged = st.ctimeMs >= since;
    if (indexChanged || st.size <= INDEX_BYTES) buf = fs.readFileSync(indexFile);
  } catch {
    /* no index */
  }
  // Replace refs (loose or packed) made during the run: git shows the object one names in place of
  // the real one, so HEAD can read as a commit of the agent's whose tree is the changed files.
  const replace = path.join(repo.common, 'refs', 'replace');
  let replaced = false;
  try {
    replaced = fs.readdirSync(replace).some((n) => fs.lstatSync(path.join(replace, n)).ctimeMs >= since);
  } catch {
    /* none */
  }
  try {
    const packed = path.join(repo.common, 'packed-refs');
    if (!replaced && fs.statSync(packed).ctimeMs >= since) replaced = fs.readFileSync(packed, 'latin1').includes(' refs/replace/');
  } catch {
    /* none */
  }
  if (replaced) out.push({ path: replace, why: 'git replace refs made during the run: git status, diff and log read the objects they name (the agent\'s) in place of the real ones; review with GIT_NO_REPLACE_OBJECTS=1 git diff, then git replace -d each' });
  if (store) out.push(...forgedObjects(since, path.join(repo.common, 'objects'), sha256), ...forgedIndexes(since, repo.common), ...forgedLfsObjects(since, path.join(repo.common, 'lfs', 'objects')));
  if (!buf) return out;
  const index = readIndex(buf, sha256 ? 32 : 20);
  if ('unread' in index && !indexChanged) return out;
  if ('unread' in index) {
    out.push({ path: indexFile, why: `git's index changed during the run and could not be read (${index.unread}): git status may not show every change the agent made` });
    return out;
  }
  out.push(...hiddenIgnored(since, repo.top, repo.gitDir, index.entries, outputs, scope));
  if (indexChanged && index.tree) {
    for (const p of forgedTrees(index.entries, index.tree, sha256)) {
      out.push({ path: p ? Buffer.concat([Buffer.from(`${repo.top}/`), Buffer.from(p.slice(0, -1), 'latin1')]).toString('utf8') : indexFile, why: 'git\'s cache of trees in the index (written during the run) records a tree for this folder that is not what the index holds: git status, git diff HEAD and your next commit take the recorded one and do not show the change staged here; review with git reset (it rebuilds the index from HEAD and keeps your files), then git status' });
    }
  }
  const folders = index.untracked && (indexChanged || !trustCtime) ? readUntracked(index.untracked, sha256 ? 32 : 20) : undefined;
  if (indexChanged && index.untracked && !folders) out.push({ path: indexFile, why: 'git\'s untracked cache in the index was written during the run and could not be read: git status may not show every new file; review with git -c core.untrackedCache=false status' });
  if (folders) out.push(...hiddenUntracked(since, repo.top, repo.gitDir, indexFile, folders, trustCtime));
  let hashed = 0;
  let marked = 0;
  for (const [i, e] of index.entries.entries()) {
    if (e.stage !== 0) continue;
    if (!indexChanged && (!e.unlooked || ++marked > MARKED_FILES)) continue;
    const kind = e.mode >>> 12;
    // A sparse directory entry (twenty-second pass): git expands it to entries marked skip-worktree
    // and looks at nothing in the folder, so every file changed in it during the run is hidden. The
    // agent makes one with a copy of the git folder whose patterns leave the folder out.
    if (kind === 0o04 && e.unlooked === 'skip-worktree') {
      for (const f of changedUnder(Buffer.concat([Buffer.from(`${repo.top}/`), Buffer.from(e.name, 'latin1')]), since)) {
        out.push({ path: f, why: 'changed during the run in a folder a sparse directory entry of git\'s index covers: git status and git diff do not look in it; review it, then rebuild the index (git read-tree HEAD, which drops what is staged)' });
      }
      continue;
    }
    if (kind !== 0o10 && kind !== 0o12) continue; // regular files and symlinks; not submodules
    // Looked up by its bytes (twenty-second pass: a tracked `lib/\xff/app.py` read as UTF-8 was
    // not found, so its hidden change went unnamed); named as UTF-8 would print it.
    const file = Buffer.concat([Buffer.from(`${repo.top}/`), Buffer.from(e.name, 'latin1')]);
    const shown = file.toString('utf8');
    let st: fs.Stats;
    try {
      st = fs.lstatSync(file);
    } catch {
      continue;
    }
    if (st.ctimeMs < since) continue;
    // What git looks at before it reads a file: nothing for the two flags, else size and time;
    // nothing either for an entry the fsmonitor data says is clean, unless the watcher reports the
    // file: one changed after a token that is a time is (a real watcher saw it), so only a token
    // later than the change (the agent's: one in the future) hides it. An opaque token names the
    // watcher's own instance and sequence, which answers any other with "everything changed".
    const trusted = index.fsmonitor !== undefined && !index.fsmonitor.dirty.has(i) && index.fsmonitor.tokenNs !== undefined
      && index.fsmonitor.tokenNs > BigInt(Math.round(st.ctimeMs * 1e6));
    const looksSame = e.unlooked !== undefined || trusted || (Math.floor(st.mtimeMs / 1000) === e.mtimeSec && st.size % 2 ** 32 === e.size);
    if (!looksSame) continue;
    if (hashed > HASH_BYTES) {
      out.push({ path: shown, why: 'changed during the run, and too much was changed to compare it with git\'s index: review it whole' });
      continue;
    }
    let content: Buffer;
    try {
      content = st.isSymbolicLink() ? Buffer.from(fs.readlinkSync(file)) : st.isFile() ? fs.readFileSync(file) : Buffer.alloc(0);
    } catch {
      continue;
    }
    hashed += content.length;
    if (storedForms(content).some((c) => blobId(c, sha256).equals(e.oid))) continue;
    out.push({
      path: shown,
      why: trusted && e.unlooked === undefined
        ? 'changed during the run while git\'s fsmonitor data in the index says it is clean, with a token later than the change: git status and git diff ask your fsmonitor for changes since then and do not show it; review it, then git update-index --no-fsmonitor && git update-index --fsmonitor'
        : e.unlooked
        ? `changed during the run and marked ${e.unlooked} in git's index: git status and git diff do not show the change; review it, then git update-index --no-${e.unlooked === 'assume-unchanged' ? 'assume-unchanged' : 'skip-worktree'}`
        : 'changed during the run while git\'s index records its size and time with the old content: git status and git diff do not show the change; review it, then git update-index --really-refresh',
    });
  }
  return out;
}

/**
 * History rewritten during the run (twenty-second pass). The agent commits, so the refs are its to
 * write: a commit of its own made to look like the user's last one (the same author, dates and
 * message, its change in the tree), put in place of it on the branch and in the reflog, leaves
 * `git status`, `git diff` and `git log` as they were, with its change in the working tree. So the
 * branch tips and HEAD's commit are taken before the run, and each one whose commit after it no
 * longer has the old one in its history is named. Of the working directory's repository and (the
 * follow-up) of every repository in the project: submodules (`.git/modules/…`) and nested
 * repositories, whose history the user reviews the same way (git status in the parent shows a
 * submodule at a look-alike commit as unchanged when the parent's index is moved with it).
 */
export interface RefTips {
  common: string;
  gitDir: string;
  /** Ref name (`HEAD` for the commit HEAD resolves to) to commit id. */
  tips: Map<string, string>;
}

const REFS = 4096;
/** At most this many repositories' tips are taken (each costs two git runs), and the walk finding them is bounded. */
const REPOSITORIES = 24;
const FIND_ENTRIES = 20_000;
const FIND_MS = 1000;
const FIND_SURE = 5_000;

/**
 * Git, run on the repository's own files with no user or system config, no hook or fsmonitor. The
 * repository's config is read all the same, and a nested repository's is the agent's to write
 * during the run (twenty-second pass, follow-up): made a partial clone, git fetched a missing
 * object on its own (`core.sshCommand` ran on the host), and `log.showSignature` runs
 * `gpg.program` on a signed commit; so no transport is allowed and no signature read.
 */
function gitIn(common: string, gitDir: string, args: string[], timeout = 5000): { status: number | null; stdout: string } {
  const r = spawnGit(['-c', 'core.fsmonitor=false', '-c', 'safe.directory=*', '-c', 'protocol.allow=never', '-c', 'log.showSignature=false', ...args], {
    cwd: '/', stdio: ['ignore', 'pipe', 'ignore'], timeout, maxBuffer: 8 * 1024 * 1024, encoding: 'latin1',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_DIR: gitDir, GIT_COMMON_DIR: common, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_NO_REPLACE_OBJECTS: '1', GIT_NO_LAZY_FETCH: '1' },
  });
  return { status: r.status, stdout: typeof r.stdout === 'string' ? r.stdout : '' };
}

/** The branch tips and HEAD's commit, as git reads them (loose, packed or reftable refs). */
function tipsOf(common: string, gitDir: string): Map<string, string> {
  const tips = new Map<string, string>();
  const refs = gitIn(common, gitDir, ['for-each-ref', `--count=${REFS}`, '--format=%(objectname) %(refname)', 'refs/heads', 'refs/remotes', 'refs/tags']);
  for (const line of refs.stdout.split('\n')) {
    const at = line.indexOf(' ');
    if (at > 0) tips.set(line.slice(at + 1), line.slice(0, at));
  }
  // The stash's entries (its reflog), each kept as `stash <id>`: `git stash pop` puts one back in
  // the working tree as your own change, which no review then questions.
  // Read from the reflog's file (each line: old id, new id, who, when, message), no git run.
  let stash = '';
  try {
    stash = fs.readFileSync(path.join(common, 'logs', 'refs', 'stash'), 'latin1').slice(0, 1024 * 1024);
  } catch {
    /* no stash */
  }
  for (const line of stash.split('\n').slice(-256)) {
    const id = line.split(' ')[1] ?? '';
    if (/^[0-9a-f]{40,64}$/.test(id)) tips.set(`stash ${id}`, id);
  }
  const head = gitIn(common, gitDir, ['rev-parse', '--verify', '-q', 'HEAD^{commit}']).stdout.trim();
  if (head) tips.set('HEAD', head);
  return tips;
}

/**
 * The git folders of the repository holding `cwd` and of those in it: submodules' own repositories
 * (`modules/<name>[/modules/…]`) and every `.git` the project holds (nested repositories, submodule
 * checkouts), bounded in count and in the walk that finds them.
 */
function repositoriesAt(cwd: string, nested: string[] = nestedRepositories(cwd, REPOSITORIES)): Array<{ gitDir: string; common: string }> {
  const out = new Map<string, { gitDir: string; common: string }>();
  const add = (r: { gitDir: string; common: string } | undefined): void => {
    if (r && out.size < REPOSITORIES && !out.has(r.gitDir)) out.set(r.gitDir, { gitDir: r.gitDir, common: r.common });
  };
  const own = repositoryOf(cwd);
  add(own);
  // The repository's other worktrees, main and linked: each has its own HEAD (one detached at a
  // look-alike commit, its index to match, reads as clean in `git status` there).
  if (own) {
    if (own.gitDir !== own.common && fs.existsSync(path.join(own.common, 'index'))) add({ gitDir: own.common, common: own.common });
    try {
      for (const e of fs.readdirSync(path.join(own.common, 'worktrees'), { withFileTypes: true }).slice(0, REPOSITORIES)) {
        if (e.isDirectory()) add({ gitDir: path.join(own.common, 'worktrees', e.name), common: own.common });
      }
    } catch {
      /* no linked worktrees */
    }
  }
  const modules = [...new Set([...out.values()].map((r) => path.join(r.common, 'modules')))];
  for (let i = 0; i < modules.length && out.size < REPOSITORIES; i++) {
    let names: fs.Dirent[] = [];
    try {
      names = fs.readdirSync(modules[i]!, { withFileTypes: true });
    } catch {
      /* no submodules */
    }
    for (const e of names.filter((n) => n.isDirectory())) {
      const d = path.join(modules[i]!, e.name);
      if (fs.existsSync(path.join(d, 'HEAD'))) {
        add({ gitDir: d, common: d });
        modules.push(path.join(d, 'modules'));
      } else {
        modules.push(d); // a submodule named `a/b` is kept at modules/a/b
      }
    }
  }
  for (const dir of nested) if (out.size < REPOSITORIES) add(gitFoldersIn(dir));
  return [...out.values()];
}

/**
 * The folders below `cwd` holding a `.git` (nested repositories, submodule checkouts), at most
 * `limit`, found by a walk bounded in entries and time (its first entries read whatever the time,
 * as the other walks'); `node_modules` is not looked into.
 */
export function nestedRepositories(cwd: string, limit: number): string[] {
  const root = path.resolve(cwd);
  const out: string[] = [];
  walkFolders(root, { left: FIND_ENTRIES, until: Date.now() + FIND_MS, sure: FIND_SURE }, (dir, e) => {
    if (e.name === '.git') {
      if (dir !== root && out.length < limit) out.push(dir);
      return false;
    }
    return e.name !== 'node_modules' && out.length < limit;
  });
  return out;
}

/**
 * The tips of every repository at `cwd` (see repositoriesAt), the working directory's first; a
 * worktree's with its own HEAD. `nested`: the nested repositories found already (nestedRepositories),
 * so that a run walks the project for them once, not before each of its checks.
 */
export function refTips(cwd: string, nested?: string[]): RefTips[] {
  return repositoriesAt(cwd, nested).map((r) => ({ common: r.common, gitDir: r.gitDir, tips: tipsOf(r.common, r.gitDir) }));
}

export function rewrittenRefs(before: RefTips[] | undefined): Hidden[] {
  const out: Hidden[] = [];
  const started = Date.now();
  for (const repo of before ?? []) {
    if (out.length >= 16 || Date.now() - started > 10_000) break;
    // Worktrees share their branches: each is named once.
    for (const h of rewrittenIn(repo, started)) if (!out.some((o) => o.path === h.path)) out.push(h);
  }
  return out.slice(0, 16);
}

/** rewrittenRefs for one repository. */
function rewrittenIn(before: RefTips, started: number): Hidden[] {
  if (before.tips.size === 0) return [];
  const after = tipsOf(before.common, before.gitDir);
  const out: Hidden[] = [];
  // HEAD last, and not again when it moved as the branch it names did.
  const moves = new Set<string>();
  const stashLog = path.join(before.common, 'logs', 'refs', 'stash');
  for (const [name, old] of [...before.tips].sort(([a], [b]) => Number(a === 'HEAD') - Number(b === 'HEAD'))) {
    const tip = after.get(name);
    // A stash entry replaced (twenty-second pass, follow-up: a look-alike of your stashed change
    // with the agent's in it, swapped into the stash's reflog) or dropped: named with how to see it.
    if (name.startsWith('stash ')) {
      if (!tip && !out.some((h) => h.path === stashLog)) out.push({ path: stashLog, why: `the stash entry ${old.slice(0, 12)} you had before the run is no longer in the stash (dropped, popped or replaced by a look-alike): before you git stash pop, review git stash show -p, and git diff ${old.slice(0, 12)} stash@{0}` });
      continue;
    }
    // A tag moved (twenty-second pass, follow-up): tags do not move but by force, and `git diff
    // v1.2` (what changed since the release) then compares with the agent's commit.
    if (name.startsWith('refs/tags/') && tip && tip !== old) {
      if (out.length < 16) out.push({ path: path.join(before.common, name), why: `tag ${name.slice('refs/tags/'.length)} was ${old.slice(0, 12)} before the run and names another object after it: git diff and git log against the tag compare with the agent's; review git diff ${old.slice(0, 12)} ${tip.slice(0, 12)}, then git tag -f it back` });
      continue;
    }
    if (!tip || tip === old || moves.has(`${old} ${tip}`)) continue; // a branch removed shows in git branch; unchanged is fine
    moves.add(`${old} ${tip}`);
    if (out.length >= 16 || Date.now() - started > 10_000) break;
    // Parents read from the commits themselves, not a commit-graph the agent may have written.
    if (name.startsWith('refs/remotes/')) continue; // a fetch moves them
    const r = gitIn(before.common, before.gitDir, ['-c', 'core.commitGraph=false', 'merge-base', '--is-ancestor', old, tip]);
    // New commits on top show in git log, and git status says the branch is ahead of its remote,
    // unless a remote-tracking ref moved to the same commit (the agent's update-ref, no fetch):
    // then git status says "up to date" and the commits look pushed (a pull does the same: named too).
    const along = [...before.tips].find(([n, o]) => n.startsWith('refs/remotes/') && o !== tip && after.get(n) === tip)?.[0];
    if (r.status === 0 && along && name !== 'HEAD') {
      out.push({
        path: path.join(before.common, name),
        why: `${name.replace(/^refs\/heads\//, 'branch ')} and ${along.replace(/^refs\/remotes\//, '')} both moved during the run to ${tip.slice(0, 12)}: git status says the branch is up to date and its new commits look pushed (the agent can move a remote-tracking ref without fetching); review git log -p ${old.slice(0, 12)}..${name.replace(/^refs\/heads\//, '')}`,
      });
      continue;
    }
    if (r.status === 0) continue; // new commits on top: git log shows them
    const shown = name === 'HEAD' ? 'HEAD' : name.replace(/^refs\/heads\//, 'branch ');
    out.push({
      path: path.join(before.common, name === 'HEAD' ? path.relative(before.common, path.join(before.gitDir, 'HEAD')) : name),
      why: `${shown} was ${old.slice(0, 12)} before the run and its history no longer holds that commit (rewritten, or moved to another history): git status, git diff and git log compare with the new one, which may look like the old; review with git diff ${old.slice(0, 12)} ${name === 'HEAD' ? 'HEAD' : name.replace(/^refs\/heads\//, '')}`,
    });
  }
  return out;
}
