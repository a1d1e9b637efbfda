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
import fs from 'node:fs';
import path from 'node:path';
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

/** The working directory's files (by name, at most 3 folders deep) holding a real value, with what the agent gets instead. */
export function workSecretFiles(cwd: string, values: RealValue[]): MaskedFile[] {
  if (!values.length) return [];
  const replacer = new EnvSecretReplacer(values);
  const out: MaskedFile[] = [];
  walkFolders(cwd, { left: MAX_ENTRIES, until: Date.now() + MAX_MS }, (dir, e, depth) => {
    if (e.isDirectory()) return depth < MAX_DEPTH && !SKIP.has(e.name);
    if (!(e.isFile() || e.isSymbolicLink()) || !candidate(e.name)) return false;
    const found = scanFile(path.join(dir, e.name), replacer);
    if (found) out.push(found);
    return false;
  });
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

/**
 * The other names (hard links) of files holding a real value. The sandbox shows the agent a copy by
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
      if (st.isFile() && st.nlink > 1) wanted.set(`${st.dev}:${st.ino}`, { file: f, nlink: st.nlink, found: new Set(), names: 0, seen: new Set(withMountAliases([f])) });
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
      if (!e.isFile()) return false;
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
