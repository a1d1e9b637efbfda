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
import { isFile, withEditorCopies } from './paths.ts';
import { lookupTable } from '../lib/records.ts';

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
  // Twenty-ninth pass: the X session's cookies (MIT-MAGIC-COOKIE: whoever presents it to the display,
  // or to ssh's forwarded one, types into every window of the user's) and the session manager's ICE ones.
  '.Xauthority', '.ICEauthority',
  // Database passwords (libpq, MySQL clients), decryption keys of sops-encrypted secrets, object
  // store and registry credentials, model hub tokens.
  '.pgpass', '.my.cnf', '.mylogin.cnf', '.config/sops/age', '.config/rclone/rclone.conf', '.s3cfg', '.boto',
  '.composer/auth.json', '.config/composer/auth.json', '.huggingface/token', '.cache/huggingface/token',
  '.config/containers/auth.json',
  // Thirteenth pass: more caches and stores of live credentials. The AWS CLI caches assumed roles'
  // keys (cli/cache) and `aws login` sessions; kubelogin its OIDC tokens; Copilot its OAuth token;
  // Terraform's CLI config, Pulumi, Helm repositories, Databricks, Snowflake, dbt profiles
  // (database passwords), ngrok, Teleport's keys, MinIO's client, Cloudflare's (cloudflared's
  // account certificate, wrangler), Oracle, Alibaba, Scaleway, Linode and IBM clouds, NuGet API keys,
  // Maven's master password, Gradle's and Docker's old file, Gitea's, JFrog's, Sentry's, CircleCI's,
  // Travis's, Argo CD's, Supabase's and Railway's CLIs.
  '.aws/cli/cache', '.aws/login/cache', '.kube/cache/oidc-login', '.config/github-copilot', '.terraformrc',
  '.pulumi/credentials.json', '.config/helm/repositories.yaml', '.databrickscfg', '.snowflake/connections.toml', '.snowsql/config',
  '.dbt/profiles.yml', '.config/ngrok', '.ngrok2', '.tsh', '.mc/config.json', '.cloudflared', '.wrangler', '.config/.wrangler',
  '.oci', '.aliyun', '.config/scw', '.config/linode-cli', '.bluemix', '.nuget/NuGet/NuGet.Config', '.config/NuGet/NuGet.Config',
  '.m2/settings-security.xml', '.dockercfg', '.config/tea', '.jfrog', '.sentryclirc', '.circleci/cli.yml', '.travis/config.yml',
  '.config/argocd', '.supabase/access-token', '.railway/config.json', '.config/pypoetry/auth.toml', '.local/share/uv/credentials',
  // Sixteenth pass: browser profiles and the desktop apps built on one. Firefox keeps cookies in
  // plain SQLite (every site's live session) and, with no primary password (the default), its saved
  // passwords decrypt offline from logins.json and key4.db; Chromium-based browsers and Electron
  // apps encrypt theirs with a key from the desktop keyring, or with a fixed one where there is none
  // (servers, WSL, containers). Slack's `d` cookie is the whole workspace session, Discord's token is
  // in its local storage, Signal's database key beside the database, Bitwarden CLI's refresh token
  // in its data.json. No browser runs inside (no display is reachable); the agent's own automation
  // uses profiles of its own.
  '.mozilla', '.librewolf', '.waterfox', '.thunderbird', '.config/google-chrome', '.config/google-chrome-beta',
  '.config/google-chrome-unstable', '.config/chromium', '.config/BraveSoftware', '.config/microsoft-edge',
  '.config/microsoft-edge-beta', '.config/microsoft-edge-dev', '.config/vivaldi', '.config/opera', '.config/yandex-browser',
  'snap/firefox/common/.mozilla', 'snap/chromium/common/chromium', '.var/app/org.mozilla.firefox', '.var/app/com.google.Chrome',
  '.var/app/org.chromium.Chromium', '.var/app/com.brave.Browser', '.var/app/com.microsoft.Edge',
  '.config/Slack', '.var/app/com.slack.Slack', '.config/discord', '.var/app/com.discordapp.Discord', '.config/Signal',
  '.config/Element', '.config/teams-for-linux', '.config/Bitwarden', '.config/Bitwarden CLI',
  // KDE's wallets (GNOME's keyrings are above) and the NSS database Chromium and other NSS programs
  // keep client certificates and their private keys in.
  '.local/share/kwalletd', '.pki/nssdb',
  // Seventeenth pass: Subversion's cached logins (plain-text passwords where no keyring is used)
  // and mail clients' passwords (fetchmail, msmtp, mbsync: IMAP and SMTP logins, often the same
  // account as the user's single sign-on).
  '.subversion/auth', '.fetchmailrc', '.msmtprc', '.config/msmtp', '.mbsyncrc',
  // Eighteenth pass: plain-text and fixed-key stores (Emacs's auth-source, Pidgin's accounts,
  // FileZilla's sites, a VNC password, CIFS and davfs2 mount credentials, HTTPie's sessions, DBeaver's
  // credentials, Remmina's profiles, lftp's bookmarks, offlineimap's and aerc's accounts), API
  // clients' collections and environments, VS Code's and Cursor's secret storage (sign-in sessions,
  // Copilot's token; a fixed key where no desktop keyring runs), and more CLIs' tokens and keys.
  '.authinfo', '.purple/accounts.xml', '.config/filezilla', '.filezilla', '.vnc/passwd', '.smbcredentials', '.davfs2/secrets',
  '.config/httpie/sessions', '.local/share/DBeaverData/workspace6/General/.dbeaver/credentials-config.json',
  '.config/remmina', '.local/share/remmina', '.local/share/lftp/bookmarks', '.lftp/bookmarks', '.offlineimaprc', '.config/aerc/accounts.conf',
  '.config/Insomnia', '.config/Postman', '.config/Code/User/globalStorage/state.vscdb', '.config/Code - Insiders/User/globalStorage/state.vscdb',
  '.config/VSCodium/User/globalStorage/state.vscdb', '.config/Cursor/User/globalStorage/state.vscdb', '.config/Windsurf/User/globalStorage/state.vscdb',
  // Twenty-sixth pass: the same store of the editors' servers (Remote-SSH's, Cursor's, Windsurf's,
  // VSCodium's, code-server's, OpenVSCode Server's), on the machine agents usually run on, where no
  // desktop keyring answers: sign-ins and extension secrets under a fixed key or none.
  ...['.vscode-server', '.vscode-server-insiders', '.cursor-server', '.windsurf-server', '.vscodium-server', '.openvscode-server']
    .map((d) => `${d}/data/User/globalStorage/state.vscdb`),
  '.local/share/code-server/User/globalStorage/state.vscdb',
  '.kaggle/kaggle.json', '.config/kaggle/kaggle.json', '.modal.toml', '.config/turso', '.config/neonctl', '.twilio-cli', '.config/twilio-cli',
  '.ollama/id_ed25519', '.codeium/config.json', '.local/share/com.vercel.cli', '.dogrc', '.newrelic/credentials.json', '.config/atlascli',
  '.mongodb/atlascli', '.config/influxdb2', '.cassandra/cqlshrc', '.minikube/profiles', '.minikube/ca.key', '.docker/contexts/tls',
  '.config/exoscale', '.vultr-cli.yaml', '.config/vultr-cli.yaml', '.config/upctl.yaml', '.tccli',
];

/** A password in mutt's settings (`imap_pass`, `smtp_pass`) or in a mail server's URL. */
const MUTT_PASSWORD = /(?:imap_pass|smtp_pass|pop_pass)\s*=|(?:imaps?|smtps?|pops?):\/\/[^\s/@:"']+:[^\s/@"']+@/i;

/**
 * Configuration files that tools inside still read, hidden only when they hold a credential: an
 * npm or Yarn registry token (`//registry…/:_authToken=`, `npmAuthToken`), an index URL with a
 * password in pip's config, a `<password>` of Maven's servers, a password or token in Gradle's
 * properties, git's `http.extraHeader` with an Authorization (what CI checkouts leave), a user and
 * password in curl's or wget's rc file. Read up to 256 KiB; file → what marks a credential.
 */
const CREDENTIAL_BEARING: Readonly<Record<string, RegExp>> = lookupTable({
  '.npmrc': /_authToken|_auth\s*=|_password\s*=|:password\s*=/i,
  '.yarnrc': /_authToken|_auth\s*=|_password/i,
  '.yarnrc.yml': /npmAuth(?:Token|Ident)/,
  '.config/pip/pip.conf': /:\/\/[^\s/@:]+:[^\s/@]+@/,
  '.pip/pip.conf': /:\/\/[^\s/@:]+:[^\s/@]+@/,
  '.m2/settings.xml': /<password>/i,
  '.gradle/gradle.properties': /(?:password|token|secret)\s*[=:]/i,
  '.gitconfig': /extraheader\s*=[\s"]*authorization/i,
  '.config/git/config': /extraheader\s*=[\s"]*authorization/i,
  '.curlrc': /^[ \t]*-?-?(?:user|u|oauth2-bearer|proxy-user)(?![\w-])/im,
  '.wgetrc': /password\s*=/i,
  // Eighteenth pass: mutt's and neomutt's rc files with an IMAP or SMTP password, or one in a URL.
  '.muttrc': MUTT_PASSWORD,
  '.config/mutt/muttrc': MUTT_PASSWORD,
  '.neomuttrc': MUTT_PASSWORD,
  '.config/neomutt/neomuttrc': MUTT_PASSWORD,
});

/** Those of CREDENTIAL_BEARING in `homeDir` that exist and hold a credential. */
export function credentialBearingFiles(homeDir: string, env: NodeJS.ProcessEnv = {}): string[] {
  if (!homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root) return [];
  const out: string[] = [];
  for (const [rel, marks] of Object.entries(CREDENTIAL_BEARING)) {
    for (const p of [path.join(homeDir, rel), xdgMoved(homeDir, rel, env)]) {
      if (!p) continue;
      let fd: number | undefined;
      try {
        fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        if (!fs.fstatSync(fd).isFile()) continue;
        const buf = Buffer.alloc(256 * 1024);
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        if (marks.test(buf.subarray(0, n).toString('utf8'))) out.push(p);
      } catch {
        /* missing or unreadable */
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    }
  }
  return out;
}

/**
 * Run by root, the agent reads every root-owned file (it runs as the owner; no capability is needed
 * for that): the password hashes, the SSH host keys (whoever has them can pose as this machine),
 * TLS and VPN private keys, Wi-Fi passwords, the Kerberos keytab, systemd's credential key, a
 * cluster's admin kubeconfig, cloud-init's user data, the database maintenance password, the
 * Tailscale node key; and every other user's credential stores and histories. Hidden like the
 * user's own (the ones that exist; never one holding the working directory). Empty for anyone but
 * root: others cannot read these anyway.
 */
export const SYSTEM_SECRETS = [
  '/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/security/opasswd', '/etc/ssl/private', '/etc/pki/tls/private',
  '/etc/letsencrypt/live', '/etc/letsencrypt/archive', '/etc/letsencrypt/accounts', '/etc/krb5.keytab', '/etc/NetworkManager/system-connections',
  '/etc/wpa_supplicant', '/var/lib/iwd', '/etc/netplan', '/etc/wireguard', '/etc/ipsec.secrets', '/etc/ipsec.d/private', '/etc/openvpn',
  '/etc/ppp/chap-secrets', '/etc/ppp/pap-secrets', '/var/lib/systemd/credential.secret', '/etc/credstore', '/etc/credstore.encrypted',
  '/etc/rancher/k3s/k3s.yaml', '/etc/rancher/rke2/rke2.yaml', '/etc/kubernetes/admin.conf', '/etc/kubernetes/super-admin.conf', '/etc/kubernetes/pki',
  '/var/lib/kubelet/pki', '/var/lib/cloud/instance/user-data.txt', '/var/lib/cloud/instances', '/var/lib/sss/db', '/var/lib/sss/secrets',
  '/etc/sssd/sssd.conf', '/etc/ldap.secret', '/etc/libvirt/secrets', '/etc/postfix/sasl_passwd', '/etc/postfix/sasl_passwd.db', '/etc/msmtprc',
  '/etc/mysql/debian.cnf', '/var/lib/samba/private', '/var/lib/tailscale', '/etc/gitlab-runner/config.toml', '/etc/docker/key.json',
  '/var/lib/docker/swarm', '/etc/ssh/ssh_host_key',
];

export function systemSecretFiles(cwd: string = process.cwd(), opts: { uid?: number; passwd?: string; sshDir?: string; ownHome?: string } = {}): string[] {
  if ((opts.uid ?? process.getuid?.()) !== 0) return [];
  const sshDir = opts.sshDir ?? '/etc/ssh';
  let hostKeys: string[] = [];
  try {
    hostKeys = fs.readdirSync(sshDir).filter((n) => /^ssh_host_.*key$/.test(n)).map((n) => path.join(sshDir, n));
  } catch {
    /* no sshd */
  }
  // Other users' home folders, from the password file (not the root folder, not the system's
  // placeholders, at most 64).
  let passwd = opts.passwd;
  if (passwd === undefined) {
    try {
      passwd = fs.readFileSync('/etc/passwd', 'utf8');
    } catch {
      passwd = '';
    }
  }
  const own = realOrSame(opts.ownHome ?? os.homedir());
  const homes = [...new Set(passwd.split('\n').map((l) => l.split(':')[5] ?? '').filter((h) => path.isAbsolute(h) && h !== '/' && !/^\/(?:nonexistent|dev\/null|proc|sys|bin|sbin|usr|var\/empty)(?:\/|$)/.test(h)))]
    .filter((h) => realOrSame(h) !== own && fs.existsSync(h)).slice(0, 64);
  const inHomes = homes.flatMap((h) => [...homeSecretPaths(h, {}, cwd), ...credentialBearingFiles(h)]);
  const here = realOrSame(path.resolve(cwd));
  const holdsHere = (p: string): boolean => !path.relative(realOrSame(p), here).startsWith('..');
  return [...new Set([...SYSTEM_SECRETS, ...hostKeys, ...inHomes])].filter((p) => fs.existsSync(p) && !holdsHere(p));
}

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
      // Sixteenth pass: the JVM's performance files (`hsperfdata_<user>/<pid>`, what jps and jstat
      // read) hold each running Java program's command line and system properties (a
      // `-Dspring.datasource.password=…`): the host's, which the sandbox's own /proc hides. Run by
      // root, every user's. A JVM inside writes its own into the empty folder put there.
      if (name.startsWith('hsperfdata_')) {
        const p = path.join(dir, name);
        try {
          const st = fs.lstatSync(p);
          if (st.isDirectory() && (uid === 0 || st.uid === uid)) out.push(p);
        } catch {
          /* gone */
        }
        continue;
      }
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
  // With the copies editors leave beside a file (seventeenth pass: `~/.netrc~`, `~/.pgpass.bak`,
  // `~/.git-credentials.swp` held what the hidden file held).
  const files = homeSecretPaths(homeDir, env, cwd).flatMap((p) => (isFile(p) ? withEditorCopies(p) : [p]));
  return [...new Set([...files.filter((p) => fs.existsSync(p)), ...credentialBearingFiles(homeDir, env)])];
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
    env.XAUTHORITY, env.ICEAUTHORITY,
  ].filter((p): p is string => !!p && path.isAbsolute(p));
  const homeOk = !!homeDir && path.isAbsolute(homeDir) && homeDir !== path.parse(homeDir).root;
  const inHome = !homeOk ? [] : [...[...HISTORIES, ...CREDENTIALS].flatMap((p) => [path.join(homeDir, p), xdgMoved(homeDir, p, env) ?? []].flat()), ...ideCredentialStores(homeDir, env)];
  // Never one that holds the working directory (hiding it would hide the agent's work).
  const here = path.resolve(cwd);
  const holdsHere = (p: string): boolean => {
    const rel = path.relative(path.resolve(p), here);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  };
  return [...new Set([...inHome, ...named])].filter((p) => !holdsHere(p));
}

/**
 * JetBrains IDEs' own credential store (twenty-sixth pass), relative to the home folder: where no
 * desktop keyring answers (a server, Gateway's remote backend, WSL, a container) each IDE keeps the
 * passwords and tokens it saves — the GitHub and GitLab logins, DataGrip's database passwords,
 * deployment and proxy passwords — in a KeePass file `c.kdbx` in its config folder, whose master key
 * is `c.pwd` beside it, encrypted with a key built into the IDE: the two read as plain text to
 * anyone. The config folder itself stays readable (and read-only: it runs code, entry-files.ts).
 * Android Studio's are under `.config/Google`. Absolute paths.
 */
function ideCredentialStores(homeDir: string, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [vendor, only] of [['.config/JetBrains', ''], ['.config/Google', 'AndroidStudio']] as const) {
    for (const base of [path.join(homeDir, vendor), xdgMoved(homeDir, vendor, env)]) {
      let names: string[];
      try {
        names = base ? fs.readdirSync(base) : [];
      } catch {
        continue;
      }
      for (const n of names.filter((x) => x.startsWith(only)).slice(0, 64)) out.push(path.join(base!, n, 'c.kdbx'), path.join(base!, n, 'c.pwd'));
    }
  }
  return out;
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

/**
 * Coding agents' own logins: the OAuth tokens (a refresh token among them, long-lived) or API key
 * their CLI keeps in the home folder, with the variables through which the same CLI takes its key
 * instead. The agent run in the sandbox is often that CLI, which needs its login to work: a login
 * is hidden only when the run hands the CLI its key through Airlock (a secret's placeholder under
 * one of those variables, injected by the proxy), and named before the run otherwise.
 */
const AGENT_LOGINS: Array<{ cli: string; file: string; dirVar?: string; vars: string[] }> = [
  { cli: 'Claude Code', file: '.claude/.credentials.json', dirVar: 'CLAUDE_CONFIG_DIR', vars: ['ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN'] },
  { cli: 'Codex', file: '.codex/auth.json', dirVar: 'CODEX_HOME', vars: ['OPENAI_API_KEY', 'CODEX_API_KEY'] },
  { cli: 'Gemini CLI', file: '.gemini/oauth_creds.json', vars: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'] },
];

export interface AgentLogin {
  cli: string;
  path: string;
  vars: string[];
  /** The run hands the CLI its key through Airlock: the login is hidden. */
  hidden: boolean;
}

/**
 * The coding agents' logins that exist, each hidden or not: hidden when a variable that gives the
 * same CLI its key is among `handed` (the names the run exports a placeholder under, or whose value
 * it replaces by one).
 */
export function agentLogins(homeDir: string, env: NodeJS.ProcessEnv, handed: Set<string>): AgentLogin[] {
  const out: AgentLogin[] = [];
  for (const l of AGENT_LOGINS) {
    const dir = l.dirVar && env[l.dirVar] && path.isAbsolute(env[l.dirVar]!) ? env[l.dirVar]! : homeDir && path.isAbsolute(homeDir) ? path.join(homeDir, path.dirname(l.file)) : undefined;
    if (!dir) continue;
    const p = path.join(dir, path.basename(l.file));
    try {
      if (!fs.statSync(p).isFile()) continue;
    } catch {
      continue;
    }
    out.push({ cli: l.cli, path: p, vars: l.vars, hidden: l.vars.some((v) => handed.has(v)) });
  }
  return out;
}
