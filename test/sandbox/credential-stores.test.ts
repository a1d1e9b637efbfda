// Eighteenth pass (issue 15, class 7: real secrets read from disk inside the sandbox). Credential
// stores on no list until now: plain-text and fixed-key ones (Emacs's auth-source, Pidgin's
// accounts, FileZilla's sites, a VNC password, CIFS and davfs2 mount credentials, HTTPie's sessions,
// DBeaver's credentials, Remmina's profiles, lftp's bookmarks), API clients' collections (Insomnia,
// Postman), VS Code's and Cursor's secret storage (a fixed key where no desktop keyring runs), and
// CLIs' tokens (Kaggle, Modal, Turso, Neon, Twilio, Ollama's key, Codeium, Vercel's current place,
// Datadog, New Relic, MongoDB Atlas, InfluxDB, cqlsh, minikube's and docker contexts' client keys,
// Exoscale, Vultr, UpCloud, Tencent), and mail clients' rc files holding a password.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { homeSecretFiles } from '../../sandbox/home-secrets.ts';
import { results, runAirlock, startWorld } from './helpers.ts';
import { tempDir } from '../temp-dir.ts';

const CANARY = 'StoreCanary-18-0123456789';
const ENV_CANARY = 'EnvCanary-19-0123456789';
const STORES = [
  '.authinfo', '.purple/accounts.xml', '.config/filezilla/sitemanager.xml', '.vnc/passwd', '.smbcredentials', '.davfs2/secrets',
  '.config/httpie/sessions/api.example/default.json', '.local/share/DBeaverData/workspace6/General/.dbeaver/credentials-config.json',
  '.config/remmina/prod.remmina', '.local/share/remmina/prod.remmina', '.local/share/lftp/bookmarks', '.lftp/bookmarks',
  '.config/Insomnia/insomnia.Request.db', '.config/Postman/Partitions/x/Local Storage/leveldb/000003.log',
  '.config/Code/User/globalStorage/state.vscdb', '.config/Cursor/User/globalStorage/state.vscdb',
  '.kaggle/kaggle.json', '.config/kaggle/kaggle.json', '.modal.toml', '.config/turso/settings.json', '.config/neonctl/credentials.json',
  '.twilio-cli/config.json', '.ollama/id_ed25519', '.codeium/config.json', '.local/share/com.vercel.cli/auth.json', '.dogrc',
  '.newrelic/credentials.json', '.config/atlascli/config.toml', '.config/influxdb2/configs', '.cassandra/cqlshrc',
  '.minikube/profiles/minikube/client.key', '.docker/contexts/tls/remote/docker/key.pem', '.config/exoscale/exoscale.toml',
  '.vultr-cli.yaml', '.config/upctl.yaml', '.tccli/default.credential', '.offlineimaprc', '.config/aerc/accounts.conf',
  // Twenty-ninth pass: the X session's cookie (types into the user's windows) and ICE's.
  '.Xauthority', '.ICEauthority',
];
// Read by their programs inside too: hidden only when they hold a password.
const BEARING: Record<string, string> = {
  '.muttrc': `set imap_pass = "${CANARY}"\n`,
  '.config/mutt/muttrc': `set smtp_url = "smtps://me:${CANARY}@mail.example.com"\n`,
  '.neomuttrc': `set smtp_pass = '${CANARY}'\n`,
};

function makeHome(home: string): void {
  for (const rel of STORES) {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), `secret=${CANARY}\n`, { mode: 0o600 });
  }
  for (const [rel, text] of Object.entries(BEARING)) {
    fs.mkdirSync(path.dirname(path.join(home, rel)), { recursive: true });
    fs.writeFileSync(path.join(home, rel), text, { mode: 0o600 });
  }
}

t.test('each store is on the hidden list; a mail rc file without a password is not', async (t) => {
  const home = tempDir(t, 'hunt18-sandbox-stores-');
  makeHome(home);
  const covers = (rel: string): boolean => homeSecretFiles(home, {}, path.join(home, 'work')).some((h) => path.join(home, rel) === h || path.join(home, rel).startsWith(`${h}/`));
  for (const rel of [...STORES, ...Object.keys(BEARING)]) t.ok(covers(rel), `~/${rel}`);
  fs.writeFileSync(path.join(home, '.muttrc'), 'set editor = vim\nset imap_user = me\n');
  t.notOk(covers('.muttrc'), 'a muttrc holding no password stays readable');
  // Twenty-ninth pass: a display manager's cookie named by $XAUTHORITY (SDDM's /tmp/xauth_*).
  const cookie = path.join(home, 'xauth_Ab12Cd');
  fs.writeFileSync(cookie, 'cookie', { mode: 0o600 });
  t.ok(homeSecretFiles(home, { XAUTHORITY: cookie }, path.join(home, 'work')).includes(cookie), 'the X cookie $XAUTHORITY names');
});

t.test('inside the sandbox the agent reads none of them', async (t) => {
  const world = await startWorld();
  t.teardown(() => world.close());
  const home = path.join(world.dir, 'user');
  makeHome(home);
  const work = path.join(home, 'src', 'app');
  fs.mkdirSync(work, { recursive: true });
  const all = [...STORES, ...Object.keys(BEARING)];
  // Nineteenth pass: the same credentials in the environment (a shell profile's exports, CI's job
  // tokens), under names of any kind; and ordinary variables as the control.
  const creds = {
    AWS_SECRET_ACCESS_KEY: `${ENV_CANARY}-aws`, DATABASE_URL: `postgres://app:${ENV_CANARY}@db:5432/app`, CI_JOB_TOKEN: `${ENV_CANARY}-ci`,
    SLACK_WEBHOOK_URL: `https://hooks.slack.com/services/${ENV_CANARY}`, MY_UPSTREAM: `https://bot:${ENV_CANARY}@git.example.com/r.git`, PGPASSWORD: ENV_CANARY,
  };
  const script = `for f in ${all.map((rel) => `"$HOME/${rel}"`).join(' ')}; do cat "$f" 2>/dev/null; done | grep -c '${CANARY}' | sed 's/^/seen=/'; env | grep -c '${ENV_CANARY}' | sed 's/^/envseen=/'; echo tok=$TOKENIZERS_PARALLELISM; echo started=yes`;
  const r = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', '-c', script], { cwd: work, env: { ...process.env, HOME: home, ...creds, TOKENIZERS_PARALLELISM: 'false' } });
  t.equal(results(r.stdout).started, 'yes', `the agent ran (${r.stderr.slice(-300)})`);
  t.equal(results(r.stdout).seen, '0', 'no store shows its credential inside');
  t.notOk(r.stdout.includes(CANARY), 'the canary never reaches the agent');
  for (const rel of STORES) t.equal(fs.readFileSync(path.join(home, rel), 'utf8'), `secret=${CANARY}\n`, `~/${rel} is as it was on the host`);
  t.equal(results(r.stdout).envseen, '0', 'no credential of the environment reaches the agent');
  t.equal(results(r.stdout).tok, 'false', 'control: an ordinary variable does');
  for (const k of Object.keys(creds)) t.match(r.stderr, new RegExp(`environment variables [^\\n]*\\b${k}\\b[^\\n]*like a credential`), `${k} is named`);
  t.notOk(r.stderr.includes(ENV_CANARY), 'no value is printed');
});
