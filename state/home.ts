// The state folder (default `.airlock/`, or --home / AIRLOCK_HOME), created private to the user,
// and the name of every file and folder Airlock keeps in it. Each module asks here for the path it
// reads or writes, so the folder's layout is one table: what a backup must copy, what
// `airlock migrate-state` must move, and what the CLI may look at while Airlock runs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const STATE_FILES = {
  /** Settings (`airlock start` flags win over them): runtime/config.ts. */
  config: 'config.json',
  /** Where the running Airlock listens, removed when it stops: runtime/running.ts. */
  runtimeInfo: 'runtime.json',
  /** The proxy's Unix socket (mode 0600), also the "is Airlock running" probe. */
  proxySocket: 'proxy.sock',
  /** One JSON line per request: state/audit-log.ts. */
  audit: 'audit.jsonl',
  /** Audit records waiting for the shared store (PostgreSQL) to come back: state/postgres/audit.ts. */
  auditSpool: 'audit-spool.jsonl',
  agents: 'agents.json',
  /** Grants and approval settings; each approval is a file of its own in `approvalRecords`. */
  approvals: 'approvals.json',
  approvalRecords: 'approvals',
  ratelimits: 'ratelimits.json',
  totp: 'totp.json',
  /** Encrypted secrets; the key is in `masterKey` (or AIRLOCK_MASTER_KEY_FILE) or the environment. */
  secrets: 'secrets.json',
  masterKey: 'master.key',
  /** The local CA agents trust, and its key. */
  caCert: 'ca.pem',
  caKey: 'ca-key.pem',
  /** The CA as a PKCS#12 trust store for Java agents (`airlock run`). */
  javaTrustStore: 'ca-truststore.p12',
  /** Saved `airlock run` options per agent. */
  runDefaults: 'run-defaults.json',
  /** The studio's admin token, and the login URL written there when the start is not on a terminal. */
  studioToken: 'studio-token',
  studioLoginUrl: 'studio-login-url',
  /** Published policy versions: the history, and one folder per version. */
  policyVersions: 'policy-versions.json',
  policies: 'policies',
  /** The studio's policy draft. */
  draft: 'draft',
  /**
   * A copy of the user's list of state folders (knownHomesFile), which agents cannot reach: the
   * list itself is on the user's filesystem, where an agent can move its folder aside.
   */
  knownHomes: 'state-folders',
  /**
   * The policy folder the last `airlock start` of this state folder loaded (absolute), kept after it
   * stops: every `airlock run` of the user keeps it read-only, as the next start would obey it.
   */
  lastPolicy: 'policy-folder',
  /** Airlock's scratch folders (a policy snapshot being published, checked, tested): see privateTempDir. */
  tmp: 'tmp',
} as const;

export type StateFile = keyof typeof STATE_FILES;

/** The path of one of the state folder's files. */
export function stateFile(home: string, which: StateFile): string {
  return path.join(home, STATE_FILES[which]);
}

/**
 * A new scratch folder for work Airlock then trusts (a policy snapshot it compiles and publishes),
 * in the state folder's `tmp/`, not the temp folder: every `airlock run` sandbox of this user
 * hides every state folder, but sees the host's temp folder as the same user, so a sandboxed agent
 * could rewrite a snapshot there between the human's click and opa's build. The caller removes it.
 */
export function privateTempDir(home: string, prefix: string): string {
  const root = stateFile(home, 'tmp');
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  return fs.mkdtempSync(path.join(root, prefix));
}

export function resolveHome(flag?: string): string {
  const home = path.resolve(flag ?? process.env.AIRLOCK_HOME ?? '.airlock');
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(home);
  } catch {
    return home; // not there yet: the commands that add state create it
  }
  if (!stat.isDirectory()) {
    const from = flag !== undefined ? '--home' : process.env.AIRLOCK_HOME !== undefined ? 'AIRLOCK_HOME' : 'the default state folder';
    throw new Error(`the state folder ${home} (${from}) is a file, not a folder: name a folder (one that does not exist yet is created)`);
  }
  return home;
}

export function ensureHome(flag?: string): string {
  const home = resolveHome(flag);
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  rememberHome(home);
  return home;
}

/**
 * The user's list of state folders (one real path a line), so that `airlock run` hides every one
 * of them in the sandbox, not only its own: the default state folder is `.airlock` in the folder
 * Airlock was started from, so a machine easily has several, and an agent of one project could
 * read another's master key, secrets and CA key. XDG_STATE_HOME, or ~/.local/state.
 */
export function knownHomesFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'airlock', 'state-folders');
}

/** The state folders on the list that still exist. */
export function knownHomes(file = knownHomesFile()): string[] {
  return readHomes(file).filter((p) => fs.existsSync(p));
}

function readHomes(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return [...new Set(text.split('\n').filter((l) => path.isAbsolute(l)))];
}

/**
 * The state folders `airlock run` of `home` hides: the user's list and the copy kept in `home`,
 * together, written back to the copy. The list is on the user's filesystem: a sandboxed agent moved
 * its folder aside and planted a shorter one, and the next run left another project's state folder
 * (its master key) in view. The copy is in the state folder, hidden from every run of it, so what
 * one run knew the next still hides.
 */
export function rememberedHomes(home: string): string[] {
  const copy = stateFile(home, 'knownHomes');
  const all = [...new Set([...readHomes(knownHomesFile()), ...readHomes(copy)])];
  writeList(copy, all);
  return all.filter(isStateFolder);
}

/** A folder that holds something of Airlock's: an entry planted in the list (`/usr`) is not hidden. */
function isStateFolder(p: string): boolean {
  try {
    const names = new Set<string>(Object.values(STATE_FILES));
    return fs.readdirSync(p).some((e) => names.has(e));
  } catch {
    return false;
  }
}

/** The file is missing, empty or ends with a newline (so an appended line starts a line). */
function endsLine(file: string): boolean {
  try {
    const st = fs.statSync(file);
    if (st.size === 0) return true;
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(1);
      fs.readSync(fd, b, 0, 1, st.size - 1);
      return b[0] === 0x0a;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return true;
  }
}

/** Writes a list of folders whole (a rename), or leaves it as it was when it cannot. */
function writeList(file: string, homes: string[]): void {
  try {
    if (readHomes(file).join('\n') === homes.join('\n')) return;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, homes.map((h) => `${h}\n`).join(''), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    /* a read-only folder: the run still hides what it read */
  }
}

/**
 * Adds a state folder to the user's list, and the list to the folder's own copy (rememberedHomes);
 * a list that cannot be written is left alone. The user's list is only ever appended to or
 * rewritten in place, never replaced: every running sandbox hides it by a mount on its path, and a
 * rename over that path takes the mount away (the agent of a run then read the list and could
 * write a shorter one). Folders that are gone are dropped once there are many of them.
 */
function rememberHome(home: string): void {
  try {
    const real = fs.realpathSync(home);
    const file = knownHomesFile();
    const listed = readHomes(file);
    if (!listed.includes(real)) {
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        const live = listed.filter((p) => fs.existsSync(p));
        if (listed.length - live.length > 200) fs.writeFileSync(file, [...live, real].map((h) => `${h}\n`).join(''), { mode: 0o600 });
        else fs.appendFileSync(file, `${endsLine(file) ? '' : '\n'}${real}\n`, { mode: 0o600 });
      } catch {
        /* a read-only folder: the copy below still remembers it */
      }
    }
    rememberedHomes(real);
  } catch {
    /* a read-only home directory: runs hide their own state folder still */
  }
}
