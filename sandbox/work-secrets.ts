// Files of the working directory that hold the real value of a secret Airlock keeps. The agent is
// meant to hold placeholders only, and `airlock run` replaces real values in the environment it
// hands over (env-secrets.ts); the same token often sits in the project's `.env` (what dotenv,
// docker compose, direnv and frameworks read), a `.envrc`, a project `.npmrc`, Terraform's
// variables or state. The sandbox shows the agent a copy of each such file with every spelling of
// the value replaced by the secret's placeholder (read-only for the run); one whose value cannot
// be taken apart is hidden. The same for the home folder's shell rc files and tools' configs, where
// people export tokens for their shell. Looked for by name (the places such files have), near the top of the
// working directory, within bounds: reading every file of a big repository at each run would cost
// more than a run's start may.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hostProgram } from '../lib/plantable.ts';
import { repositoryOf } from './git-review.ts';
import { rcSourced } from './entry-files.ts';
import { EnvSecretReplacer, type RealValue } from './env-secrets.ts';
import { walkFolders, type WalkBudget } from './walk.ts';
import { withMountAliases } from './mount-aliases.ts';
import { withEditorCopies } from './paths.ts';

export interface MaskedFile {
  path: string;
  /** The secrets whose real values it holds. */
  secrets: string[];
  /** What the agent reads instead (placeholders in place of values); undefined: hidden. */
  text: string | undefined;
}

/** Exact names of files that commonly hold credentials in a project. */
const NAMES = new Set(['.envrc', '.npmrc', '.yarnrc', '.yarnrc.yml', '.pypirc', '.netrc', '.pgpass', '.dev.vars', '.flaskenv', '.git-credentials',
  'local.settings.json', 'credentials', 'credentials.json', 'secrets.json', 'secrets.yaml', 'secrets.yml', 'secrets.toml', '.secrets', 'secret.env']);
/** Names by their ending: `prod.env`, Terraform's variables and state. */
const SUFFIXES = ['.env', '.tfvars', '.tfvars.json', '.tfstate', '.tfstate.backup'];

function candidate(name: string): boolean {
  return leftoverOf(name).some(named);
}

function named(name: string): boolean {
  return name === '.env' || name.startsWith('.env.') || NAMES.has(name) || SUFFIXES.some((s) => name.endsWith(s));
}

/**
 * The name, and the file an editor's leftover of that name is of (seventeenth pass): a backup
 * (`.env~`, `secrets.json.bak`, `.orig`, nano's `.save`), Emacs's auto-save (`#.env#`) and vim's
 * swap (`.secrets.json.swp`, `.swo`, …, `.env.swp` for a dotfile) hold what the file held, the real
 * value included.
 */
function leftoverOf(name: string): string[] {
  const out = [name, name.replace(/^#(.+)#$/, '$1').replace(/~$/, '').replace(/\.(?:bak|orig|old|save|tmp)$/, '')];
  const swap = /^(.+)\.sw[a-p]$/.exec(name)?.[1];
  if (swap) out.push(swap, swap.replace(/^\./, ''));
  return out;
}

/** Not walked: big, and not where a project keeps its settings. */
const SKIP = new Set(['node_modules', '.git', '.hg', '.venv', 'venv', 'vendor', 'target', 'dist', 'build', '__pycache__', '.terraform']);
const MAX_DEPTH = 3;
const MAX_ENTRIES = 5000;
const MAX_BYTES = 1 << 20;
const MAX_MS = 300;
/** The home folder's walk: deeper (`~/src/org/project/config/.env`), more entries. */
const HOME_DEPTH = 5;
const HOME_ENTRIES = 20_000;

/**
 * Files of the home folder where people keep tokens for their shell: the rc files (`export
 * GITHUB_TOKEN=ghp_…` in ~/.zshrc is how many give a token to their tools), what they source, and
 * the usual side files; tools' configs that carry a token inline.
 */
const HOME_FILES = ['.profile', '.bash_profile', '.bash_login', '.bashrc', '.bash_aliases', '.zshenv', '.zprofile', '.zshrc', '.zlogin', '.kshrc', '.mkshrc',
  '.config/fish/config.fish', '.env', '.secrets', '.localrc', '.bashrc.local', '.zshrc.local', '.exports', '.extra', '.npmrc', '.yarnrc.yml', '.gitconfig',
  '.config/git/config', '.m2/settings.xml', '.gradle/gradle.properties', '.config/pip/pip.conf', '.pip/pip.conf', '.curlrc', '.wgetrc'];

/** The home folder's shell and tool files holding a real value (see HOME_FILES; and what rc files source). */
export function homeSecretValueFiles(homeDir: string, values: RealValue[]): MaskedFile[] {
  if (!values.length || !homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root) return [];
  const replacer = new EnvSecretReplacer(values);
  const out: MaskedFile[] = [];
  for (const p of new Set([...HOME_FILES.map((f) => path.join(homeDir, f)), ...rcSourced(homeDir)].flatMap(withEditorCopies))) {
    const found = scanFile(p, replacer);
    if (found) out.push(found);
  }
  return out;
}

/**
 * A regular file of at most 1 MiB holding a value, with its rewritten text. A symlink (dotfiles kept
 * in a repository and linked with stow, `.env -> ../shared/.env`) is followed: the agent reads
 * through it, so the file it leads to is the one replaced (its real path is the one returned).
 */
function scanFile(p: string, replacer: EnvSecretReplacer): MaskedFile | undefined {
  let text: string;
  let real: string;
  try {
    real = fs.realpathSync(p);
    const st = fs.statSync(real);
    if (!st.isFile() || st.size > MAX_BYTES) return undefined;
    text = fs.readFileSync(real, 'utf8');
  } catch {
    return undefined;
  }
  const scan = replacer.scan(text);
  return scan.secrets.length || scan.value === undefined ? { path: real, secrets: scan.secrets, text: scan.value } : undefined;
}

/**
 * The working directory's files (by name, at most 3 folders deep) holding a real value, with what the
 * agent gets instead. With `home`, the home folder's too (eighteenth pass: other projects' `.env`
 * files hold the same token, and the agent reads the whole home folder), 5 folders deep, passing
 * over its top-level dot folders (tools' state: their credential stores are hidden by name).
 */
export function workSecretFiles(cwd: string, values: RealValue[], home?: string): MaskedFile[] {
  if (!values.length) return [];
  const replacer = new EnvSecretReplacer(values);
  const out: MaskedFile[] = [];
  const roots: Array<{ root: string; depth: number; dotFolders: boolean }> = [{ root: cwd, depth: MAX_DEPTH, dotFolders: true }];
  if (home && path.isAbsolute(home) && home !== path.parse(home).root && path.resolve(home) !== path.resolve(cwd)) roots.push({ root: home, depth: HOME_DEPTH, dotFolders: false });
  for (const { root, depth: maxDepth, dotFolders } of roots) {
    walkFolders(root, { left: root === cwd ? MAX_ENTRIES : HOME_ENTRIES, until: Date.now() + MAX_MS }, (dir, e, depth) => {
      // Another project's repository config (a clone with the token in its URL, a CI checkout's
      // extraheader), as the working directory's own (repoConfigs).
      if (root !== cwd && e.name === '.git' && e.isDirectory()) {
        const found = scanFile(path.join(dir, '.git', 'config'), replacer);
        if (found) out.push(found);
      }
      if (e.isDirectory()) return depth < maxDepth && !SKIP.has(e.name) && (dotFolders || depth > 0 || !e.name.startsWith('.')) && path.join(dir, e.name) !== path.resolve(cwd);
      if (!(e.isFile() || e.isSymbolicLink()) || !candidate(e.name)) return false;
      const found = scanFile(path.join(dir, e.name), replacer);
      if (found) out.push(found);
      return false;
    });
  }
  for (const p of repoConfigs(cwd)) {
    const found = scanFile(p, replacer);
    if (found) out.push(found);
  }
  return out;
}

/**
 * The configs of the git repository holding `cwd` (seventeenth pass): a clone made with the token in
 * its URL (`https://x-access-token:ghp_…@github.com/…`) and CI checkouts (actions/checkout's
 * `http.…extraheader = AUTHORIZATION: basic …`) keep it there, where `git remote -v` shows it. For a
 * linked worktree, its own config and the main repository's.
 */
export function repoConfigs(cwd: string): string[] {
  for (let d = path.resolve(cwd); ; d = path.dirname(d)) {
    const dotgit = path.join(d, '.git');
    try {
      const st = fs.statSync(dotgit);
      if (st.isDirectory()) return [path.join(dotgit, 'config'), path.join(dotgit, 'config.worktree')].filter((f) => fs.existsSync(f));
      if (st.isFile()) {
        const gitdir = fs.readFileSync(dotgit, 'utf8').slice(0, 4096).split('\n').find((l) => l.startsWith('gitdir:'))?.slice(7).trim();
        if (!gitdir) return [];
        const own = path.resolve(d, gitdir);
        const out = [path.join(own, 'config'), path.join(own, 'config.worktree')];
        try {
          out.push(path.join(path.resolve(own, fs.readFileSync(path.join(own, 'commondir'), 'utf8').trim()), 'config'));
        } catch {
          /* no commondir: a submodule's own folder */
        }
        return out.filter((f) => fs.existsSync(f));
      }
    } catch {
      /* no .git here */
    }
    if (d === path.dirname(d)) return [];
  }
}

/** Bounds of the look through a repository's objects: a blob larger than this is passed over (assets, not settings). */
const HISTORY_BLOB_BYTES = 1 << 20;
const HISTORY_OBJECTS = 20_000;
const HISTORY_MS = 3000;

export interface HistorySecrets {
  /** The secrets whose real values some object of the repository holds. */
  secrets: string[];
  /** False when the repository was too big to read within the bounds. */
  complete: boolean;
}

/**
 * Secrets whose real value the object store of the git repository holding `cwd` keeps (eighteenth
 * pass): the sandbox shows a copy of `.env` with placeholders, but a `.env` committed once (and
 * removed since), stashed, or staged stays a blob there, which `git show HEAD~1:.env`, `git log -p`
 * or the pack files read inside. Read: every version of each file looked for by name (`.env`,
 * `secrets.json`, … as above) in every commit of every ref, the reflog and the index, and every
 * loose blob (one staged and unstaged stays loose until git's clean-up), each up to 1 MiB. Every
 * blob of a repository would be too much (an 18 MB repository is 580 MB of blobs). `cat-file` and
 * `rev-list` run no hook or filter; the user's own git settings are left out.
 */
export function historySecrets(cwd: string, values: RealValue[]): HistorySecrets {
  const replacer = new EnvSecretReplacer(values);
  if (!values.length) return { secrets: [], complete: true };
  const until = Date.now() + HISTORY_MS;
  // The git found on PATH as the host runs it (hostProgram): not one a former run's agent put early on PATH.
  const program = hostProgram('git');
  // None to trust (only one in a folder of the user's, or one changed): unchecked, where there is a repository.
  if (!('file' in program)) return { secrets: [], complete: repositoryOf(cwd) === undefined };
  const git = (args: string[], input?: string) => spawnSync(program.file, ['-c', 'safe.directory=*', '-c', 'core.fsmonitor=false', '-C', cwd, ...args], {
    input, maxBuffer: 64 << 20, timeout: Math.max(1, until - Date.now()), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  const where = git(['rev-parse', '--path-format=absolute', '--git-common-dir']);
  if (where.status !== 0) return { secrets: [], complete: true };
  const objects = path.join(where.stdout.toString('utf8').trim(), 'objects');
  let complete = true;
  const ids = new Set<string>();
  const listed = git(['rev-list', '--objects', '--all', '--reflog', '--indexed-objects']);
  if (listed.status !== 0 || listed.error) complete = false;
  for (const line of listed.stdout?.toString('utf8').split('\n') ?? []) {
    const space = line.indexOf(' ');
    if (space > 0 && candidate(path.posix.basename(line.slice(space + 1)))) ids.add(line.slice(0, space));
  }
  try {
    for (const d of fs.readdirSync(objects).filter((n) => /^[0-9a-f]{2}$/.test(n))) {
      for (const f of fs.readdirSync(path.join(objects, d))) if (/^[0-9a-f]{38,62}$/.test(f)) ids.add(d + f);
      if (ids.size > HISTORY_OBJECTS) break;
    }
  } catch {
    /* no loose objects */
  }
  if (ids.size > HISTORY_OBJECTS) complete = false;
  const asked = [...ids].slice(0, HISTORY_OBJECTS).join('\n') + '\n';
  const checked = git(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], asked);
  if (checked.status !== 0 || checked.error) return { secrets: [], complete: false };
  const blobs = checked.stdout.toString('latin1').split('\n').map((l) => l.split(' ')).filter(([, type, size]) => type === 'blob' && Number(size) <= HISTORY_BLOB_BYTES).map(([id]) => id!);
  const found = new Set<string>();
  const read = git(['cat-file', '--batch'], blobs.join('\n') + '\n');
  if (read.status !== 0 || read.error) complete = false;
  const out = read.stdout ?? Buffer.alloc(0);
  for (let at = 0; at < out.length;) {
    const eol = out.indexOf(10, at);
    if (eol < 0) break;
    const size = Number(out.subarray(at, eol).toString('latin1').split(' ')[2]);
    if (!Number.isFinite(size)) break;
    for (const s of replacer.holds(out.subarray(eol + 1, eol + 1 + size).toString('latin1'))) found.add(s);
    at = eol + 1 + size + 1;
  }
  return { secrets: [...found].sort(), complete };
}

/**
 * The other names (hard links) of files holding a real value (and of hidden files and sockets). The sandbox shows the agent a copy by
 * binding it over the file's path, and a mount sits on a path, not on the file: another name of the
 * same file (`ln .env notes.txt`, left by an earlier run before the user put the token in `.env`)
 * showed the real value. Looked for under `roots` only when a file has more than one name (one
 * lstat per entry then, within `budget`); `missing`: how many names of each were not found.
 */
export function otherNames(files: string[], roots: string[], budget: WalkBudget = { left: 100_000, until: Date.now() + 1000 }): { names: Map<string, string[]>; missing: Map<string, number> } {
  // `seen`: paths already accounted for, with every path a bind mount gives each (the same file
  // under another mount is no other name: counted once, so the search does not stop early).
  const wanted = new Map<string, { file: string; nlink: number; found: Set<string>; names: number; seen: Set<string> }>();
  for (const f of files) {
    try {
      const st = fs.statSync(f);
      // A socket file too (twenty-ninth pass): a host service's socket hidden by one name is reached by any other.
      if ((st.isFile() || st.isSocket()) && st.nlink > 1) wanted.set(`${st.dev}:${st.ino}`, { file: f, nlink: st.nlink, found: new Set(), names: 0, seen: new Set(withMountAliases([f])) });
    } catch {
      /* gone */
    }
  }
  const left = (): number => [...wanted.values()].reduce((n, w) => n + Math.max(0, w.nlink - 1 - w.names), 0);
  const devices = new Set([...wanted.keys()].map((k) => k.split(':')[0]));
  for (const root of wanted.size ? [...new Set(roots)] : []) {
    if (left() === 0) break;
    // A hard link is on the file's own filesystem: a root on another (a tmpfs /tmp) holds none.
    try {
      if (!devices.has(String(fs.statSync(root).dev))) continue;
    } catch {
      continue;
    }
    walkFolders(root, budget, (dir, e) => {
      if (e.isDirectory()) return true;
      if (!e.isFile() && !e.isSocket()) return false;
      const p = path.join(dir, e.name);
      try {
        const st = fs.lstatSync(p);
        const w = st.nlink > 1 ? wanted.get(`${st.dev}:${st.ino}`) : undefined;
        if (w && p !== w.file) {
          w.found.add(p);
          if (!w.seen.has(p)) {
            w.names++;
            for (const a of withMountAliases([p])) w.seen.add(a);
          }
        }
      } catch {
        /* gone meanwhile */
      }
      return false;
    });
  }
  const names = new Map<string, string[]>();
  const missing = new Map<string, number>();
  for (const w of wanted.values()) {
    if (w.found.size) names.set(w.file, [...w.found]);
    if (w.nlink - 1 - w.names > 0) missing.set(w.file, w.nlink - 1 - w.names);
  }
  return { names, missing };
}
