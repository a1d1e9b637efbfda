// Files of the home folder that hold secrets, hidden in the sandbox like the state folder (a file
// behind /dev/null, a folder behind an empty one):
// - command histories: what the user typed, the real values of secrets included (`printf %s ghp_… |
//   airlock secret set github_token`, `export GITHUB_TOKEN=…` before `--from-env`,
//   `AIRLOCK_MASTER_KEY=… airlock start`, a token pasted into psql or a Python prompt);
// - credential stores of the tools whose services Airlock brokers: the same GitHub token the user
//   gave Airlock sits in gh's hosts.yml and git's credential store, cloud keys in their CLIs' files.
//   The agent is meant to hold placeholders only; Airlock injects the real value where the policy says.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { xdgMoved } from './entry-files.ts';

/** Shells', REPLs' and editors' history files, relative to the home folder. */
const HISTORIES = [
  '.bash_history', '.zsh_history', '.zhistory', '.histfile', '.sh_history', '.ksh_history', '.history',
  '.local/share/fish/fish_history', '.config/fish/fish_history', '.local/share/nushell/history.txt', '.config/nushell/history.txt',
  '.local/share/nushell/history.sqlite3', '.config/nushell/history.sqlite3', '.local/share/atuin/history.db',
  '.python_history', '.node_repl_history', '.ts_node_repl_history', '.irb_history', '.pry_history', '.psql_history',
  '.mysql_history', '.sqlite_history', '.rediscli_history', '.dbshell', '.mongodb/mongosh', '.lesshst', '.viminfo',
  '.local/state/nvim/shada', '.local/share/nvim/shada', '.bun_repl_history', '.deno_history', '.Rhistory', '.julia/logs/repl_history.jl',
];

/** Credential stores, relative to the home folder (a folder stands for all in it). */
const CREDENTIALS = [
  '.ssh', '.gnupg', '.password-store', '.git-credentials', '.config/git/credentials', '.netrc', '.config/gh', '.config/hub',
  '.docker/config.json', '.pypirc', '.aws/credentials', '.aws/sso/cache', '.config/gcloud', '.azure', '.kube/config',
  '.cargo/credentials', '.cargo/credentials.toml', '.gem/credentials', '.terraform.d/credentials.tfrc.json', '.vault-token',
  '.config/op', '.local/share/keyrings', '.config/glab-cli', '.config/hcloud', '.config/doctl', '.fly', '.netlify',
  '.config/netlify', '.vercel', '.config/stripe', '.config/configstore',
  // Database passwords (libpq, MySQL clients), decryption keys of sops-encrypted secrets, object
  // store and registry credentials, model hub tokens.
  '.pgpass', '.my.cnf', '.mylogin.cnf', '.config/sops/age', '.config/rclone/rclone.conf', '.s3cfg', '.boto',
  '.composer/auth.json', '.config/composer/auth.json', '.huggingface/token', '.cache/huggingface/token',
  '.config/containers/auth.json',
];

/**
 * Credentials kept outside the home folder, in places the sandbox shares: Kerberos ticket caches
 * (MIT's default is `FILE:/tmp/krb5cc_<uid>`, pam_krb5 and sssd add a suffix; a ticket-granting
 * ticket is the user on every kerberized service), keytabs, and container registry logins
 * (podman's `$XDG_RUNTIME_DIR/containers/auth.json`, `REGISTRY_AUTH_FILE`). Named by the
 * environment or at their usual places; only the user's own files (another user's are not readable).
 */
export function tempSecretFiles(env: NodeJS.ProcessEnv, tmpDirs: string[] = [os.tmpdir(), '/tmp'], cwd: string = process.cwd()): string[] {
  const uid = process.getuid?.() ?? -1;
  const fileOf = (v: string | undefined): string | undefined => {
    const m = /^(?:(FILE|DIR|WRFILE):)?(\/.*)$/.exec(v ?? '');
    return m?.[2];
  };
  const out = [
    fileOf(env.KRB5CCNAME), fileOf(env.KRB5_KTNAME), fileOf(env.KRB5_CLIENT_KTNAME), env.REGISTRY_AUTH_FILE,
    env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json') : undefined,
  ].filter((p): p is string => !!p && path.isAbsolute(p));
  for (const dir of new Set(tmpDirs)) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name !== `krb5cc_${uid}` && !name.startsWith(`krb5cc_${uid}_`)) continue;
      const p = path.join(dir, name);
      try {
        // The user's own (a symlink too: an agent may have aimed the user's next kinit at a file of
        // its own, hidden then where it points; never a folder holding the working directory).
        if (fs.lstatSync(p).uid === uid) out.push(p);
      } catch {
        /* gone */
      }
    }
  }
  // Never a temp folder itself nor one holding the working directory (a `DIR:` cache named oddly,
  // a symlink aimed there), wherever a link leads.
  const here = realOrSame(path.resolve(cwd));
  const tooWide = (p: string): boolean => {
    const real = realOrSame(p);
    return tmpDirs.some((d) => realOrSame(d) === real) || !path.relative(real, here).startsWith('..');
  };
  return [...new Set(out)].filter((p) => fs.existsSync(p) && !tooWide(p));
}

/** The files that exist, of both kinds, for this home folder and environment (`HISTFILE` too). */
export function homeSecretFiles(homeDir: string, env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string[] {
  return homeSecretPaths(homeDir, env, cwd).filter((p) => fs.existsSync(p));
}

/**
 * Where those files go, existing or not. One missing when a run starts is not hidden, and the agent
 * may make it: a symlink to a file of its own, or the file with a hard link elsewhere that it keeps
 * (~/.bash_history on a new machine); the tool that later writes its secret there (bash appends,
 * libpq's user edits ~/.pgpass, `aws configure`) writes where the next run reads. And an existing
 * one with another hard link is readable under that name. See madeDuringRun and linkedElsewhere.
 */
export function homeSecretPaths(homeDir: string, env: NodeJS.ProcessEnv, cwd: string = process.cwd()): string[] {
  const named = [
    env.HISTFILE, env.PYTHON_HISTORY, env.NODE_REPL_HISTORY, env.PSQL_HISTORY, env.MYSQL_HISTFILE, env.SQLITE_HISTORY, env.REDISCLI_HISTFILE,
    // Where the environment moved a credential store (or names a key file: a service account's JSON).
    env.GOOGLE_APPLICATION_CREDENTIALS, env.AWS_SHARED_CREDENTIALS_FILE, env.DOCKER_CONFIG, env.GNUPGHOME, env.PASSWORD_STORE_DIR,
    env.CLOUDSDK_CONFIG, env.AZURE_CONFIG_DIR, env.GH_CONFIG_DIR, env.NETRC, ...(env.KUBECONFIG ?? '').split(path.delimiter),
  ].filter((p): p is string => !!p && path.isAbsolute(p));
  const inHome = !homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root ? [] : [...HISTORIES, ...CREDENTIALS].flatMap((p) => [path.join(homeDir, p), xdgMoved(homeDir, p, env) ?? []].flat());
  // Never one that holds the working directory (hiding it would hide the agent's work).
  const here = path.resolve(cwd);
  const holdsHere = (p: string): boolean => {
    const rel = path.relative(path.resolve(p), here);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  return [...new Set([...inHome, ...named])].filter((p) => !holdsHere(p));
}

/** Whether something (a link included) is at `p`. */
export function lexists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Files among `paths` that another hard link also names (the sandbox hides one name only). */
export function linkedElsewhere(paths: string[]): string[] {
  return paths.filter((p) => {
    try {
      const st = fs.lstatSync(p);
      return st.isFile() && st.nlink > 1;
    } catch {
      return false;
    }
  });
}

function realOrSame(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Where MIT Kerberos keeps the user's ticket cache by default (for the report of one made during a run). */
export function defaultTicketCaches(tmpDirs: string[] = [os.tmpdir(), '/tmp']): string[] {
  return [...new Set(tmpDirs.map((d) => path.join(d, `krb5cc_${process.getuid?.() ?? 0}`)))];
}
