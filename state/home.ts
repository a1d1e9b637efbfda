// The state folder (default `.airlock/`, or --home / AIRLOCK_HOME), created private to the user,
// and the name of every file and folder Airlock keeps in it. Each module asks here for the path it
// reads or writes, so the folder's layout is one table: what a backup must copy, what
// `airlock migrate-state` must move, and what the CLI may look at while Airlock runs.
import fs from 'node:fs';
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
} as const;

export type StateFile = keyof typeof STATE_FILES;

/** The path of one of the state folder's files. */
export function stateFile(home: string, which: StateFile): string {
  return path.join(home, STATE_FILES[which]);
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
  return home;
}
