// Credentials in the environment `airlock run` inherits that Airlock does not keep (nineteenth
// pass). The sandbox hides the files tools keep credentials in (`~/.aws/credentials`, gh's
// `hosts.yml`, `~/.pgpass`), but the same credentials often live in the environment instead: an
// `AWS_SECRET_ACCESS_KEY` exported in a shell profile, a `DATABASE_URL` with a password, CI's job
// tokens (`CI_JOB_TOKEN`, `ACTIONS_ID_TOKEN_REQUEST_TOKEN`, which mints cloud credentials), a
// `SLACK_WEBHOOK_URL`, a token under a name of the user's own. The agent's only way out is Airlock,
// and a credential it holds goes out through any allowed request (an issue's text, a query); inside
// the sandbox nothing but Airlock is reachable, so no local service needs one either. A credential
// the agent should use is a secret Airlock keeps: the agent gets its placeholder.
import { PLACEHOLDER_PREFIX } from '../describe/placeholders.ts';

/** Name parts that say the value is a credential (`GH_TOKEN`, `CLIENT_SECRET`, `SENTRY_DSN`). */
const WORDS = new Set([
  'TOKEN', 'TOKENS', 'SECRET', 'SECRETS', 'PASSWORD', 'PASSWD', 'PASSPHRASE', 'PASS', 'PAT', 'DSN', 'APIKEY', 'AUTHTOKEN',
  'ACCESSTOKEN', 'CREDENTIAL', 'CREDENTIALS', 'CREDS', 'WEBHOOK', 'COOKIE', 'PRIVATEKEY', 'SECRETKEY', 'AUTH',
]);
/** Two parts that say so together (`OPENAI_API_KEY`, `AZURE_STORAGE_CONNECTION_STRING`). */
const PAIRS = new Set(['API KEY', 'PRIVATE KEY', 'ACCESS KEY', 'ACCOUNT KEY', 'AUTH KEY', 'SIGNING KEY', 'ENCRYPTION KEY', 'MASTER KEY', 'CONNECTION STRING', 'SESSION KEY', 'CLIENT KEY']);
/** A last part that makes the name one of a place or a setting about the credential, not the credential. */
const ABOUT = new Set(['FILE', 'PATH', 'DIR', 'HOME', 'URL', 'URI', 'ENDPOINT', 'HOST', 'PORT', 'USER', 'USERNAME', 'NAME', 'ID', 'TYPE', 'TTL', 'EXPIRY', 'EXPIRES', 'LENGTH', 'PROMPT', 'METHOD', 'HEADER', 'COMMAND', 'CMD', 'HELPER', 'SOCK', 'SOCKET']);

/** Values that are a credential whatever their name. */
const VALUE_PATTERNS: RegExp[] = [
  // A URL with a password in its userinfo, anywhere in the value (a DSN, a list of index URLs);
  // the scheme read from its last character only, so each start is tried once (linear).
  /[a-z0-9+.-]:\/\/[^\s/@:]*:[^\s/@]+@/i,
  // An HTTP credential header (git's GIT_CONFIG_VALUE_n for http.extraHeader, curl options).
  /\b(?:proxy-)?authorization\s*:\s*\S/i,
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  // Well-known token formats: GitHub, GitLab, OpenAI and Anthropic, Stripe, Slack, AWS key ids,
  // Google API keys, npm, Hugging Face, PyPI, DigitalOcean, Shopify, SendGrid.
  /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9_-]{20,}|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|npm_[A-Za-z0-9]{36}|hf_[A-Za-z0-9]{30,}|pypi-[A-Za-z0-9_-]{50,}|dop_v1_[a-f0-9]{64}|shp(?:at|ss|ca)_[a-fA-F0-9]{32}|SG\.[\w-]{16,}\.[\w-]{16,})\b/,
  // Twentieth pass: formats whose body is all lower case, all hex or short, which the prefixed
  // rule below cannot tell from ordinary text: Vault, Twilio, Mailgun, Databricks, Pulumi,
  // Terraform Cloud, Google's OAuth access and refresh tokens, age and Tailscale keys, Doppler,
  // ElevenLabs, Stripe's webhook secrets, Azure storage keys and SAS signatures, Mapbox's secret
  // tokens, Atlassian's, Square's, and a signed JWT (a bearer token: CI's OIDC tokens, Supabase's
  // service role key).
  // One pattern a format: together, as one alternation, the ReDoS checker could not prove them linear.
  /\bhv[sbr]\.[A-Za-z0-9_-]{20,}/,
  /\bSK[0-9a-f]{32}/,
  /\bkey-[0-9a-f]{32}/,
  /\bdapi[0-9a-f]{32}/,
  /\bpul-[0-9a-f]{40}/,
  /\b[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{40,}/,
  /\bya29\.[\w-]{20,}/,
  /\b1\/\/0[\w-]{30,}/,
  /\bAGE-SECRET-KEY-1[0-9A-Z]{50,}/,
  /\btskey-[\w-]{20,}/,
  /\bdp\.(?:st|pt|sa|ct|scim|audit)\.[\w.-]{20,}/,
  /\bsk_[0-9a-f]{48}/,
  /\bwhsec_[A-Za-z0-9+/=]{24,}/,
  /\bsk\.eyJ[\w.-]{20,}/,
  /\bATATT[\w=-]{40,}/,
  /\b(?:EAAA|sq0csp-)[\w-]{30,}/,
  /\bAccountKey=[A-Za-z0-9+/]{20,}|[?&;]sig=[A-Za-z0-9%+/]{20,}/,
];

/**
 * A signed JWT anywhere in the value (`eyJ…` header and payload of 8+ more characters, a signature of
 * 16+). Scanned, not matched by a pattern: `[\w-]` runs through `-eyJ-eyJ…`, so every start
 * re-read the run (quadratic). The end of each run is found once, from the right.
 */
function signedJwt(value: string): boolean {
  const word = (c: string | undefined): boolean => c !== undefined && /[\w-]/.test(c);
  const runEnd = new Int32Array(value.length + 1);
  runEnd[value.length] = value.length;
  for (let i = value.length - 1; i >= 0; i--) runEnd[i] = word(value[i]) ? runEnd[i + 1]! : i;
  const segment = (at: number, header: boolean, least: number): number => {
    if (header && !value.startsWith('eyJ', at)) return -1;
    const end = runEnd[at]!;
    return end - at >= least ? end : -1;
  };
  for (let i = value.indexOf('eyJ'); i >= 0; i = value.indexOf('eyJ', i + 1)) {
    if (i > 0 && /\w/.test(value[i - 1]!)) continue;
    const h = segment(i, true, 11);
    if (h < 0 || value[h] !== '.') continue;
    const p = segment(h + 1, true, 11);
    if (p < 0 || value[p] !== '.') continue;
    if (segment(p + 1, false, 16) >= 0) return true;
  }
  return false;
}

/**
 * A vendor's token under a name of the user's own: a short lower-case prefix (`xai-`, `gsk_`, `r8_`,
 * `lin_api_`, `dckr_pat_`, `glsa_`, `pcsk_`, a vendor not listed yet) and 30 or more letters and
 * digits of all three kinds with many distinct characters (random, not a word or a hex id). Hashes
 * (`sha512-…`, npm's integrity) are not tokens.
 */
const PREFIXED = /\b([a-z][a-z0-9]{0,11}(?:[_-][A-Za-z0-9]{1,8}){0,2})[_-]([A-Za-z0-9]{30,})(?![A-Za-z0-9])/g;
const HASHES = /^(?:sha\d*|md5|blake\d*|h\d)$/;

function prefixedToken(value: string): boolean {
  let n = 0;
  for (const m of value.matchAll(PREFIXED)) {
    if (++n > 64) return false;
    const prefix = m[1]!;
    const body = m[2]!.slice(0, 256);
    if (HASHES.test(prefix.split(/[_-]/)[0]!)) continue;
    const kinds = [/[a-z]/g, /[A-Z]/g, /[0-9]/g].map((re) => body.match(re)?.length ?? 0);
    if (kinds.every((k) => k >= 2) && new Set(body).size >= 16) return true;
  }
  return false;
}

/**
 * Words a part may end with, glued to the word before it (twenty-sixth pass): Bitwarden's CLI reads
 * its API key from `BW_CLIENTSECRET`, and `GITHUBTOKEN`, `SLACKBOTTOKEN`, `MYAPIKEY` are spelled so.
 */
const GLUED = ['TOKEN', 'TOKENS', 'SECRET', 'SECRETS', 'APIKEY', 'PASSPHRASE'];

/** Whether the name says the variable holds a credential. */
export function credentialName(name: string): boolean {
  const upper = name.toUpperCase();
  const parts = upper.split(/[^A-Z0-9]+/).filter(Boolean);
  if (!parts.length) return false;
  const last = parts[parts.length - 1]!;
  // `SLACK_WEBHOOK_URL`: the URL is the credential (whoever has it posts).
  if (parts.includes('WEBHOOK')) return true;
  if (ABOUT.has(last)) return false;
  if (parts.some((p) => WORDS.has(p) || p.includes('PASSWORD') || p.includes('PASSWD') || GLUED.some((w) => p.length > w.length && p.endsWith(w)))) return true;
  // `MYSQL_PWD` (not `PWD`, the working directory, nor `OLDPWD`).
  if (parts.length > 1 && last === 'PWD') return true;
  return parts.some((p, i) => i > 0 && PAIRS.has(`${parts[i - 1]} ${p}`));
}

/**
 * Names that may hold key material but say nothing more (twenty-sixth pass): a part `KEY`, `KEYS` or
 * `SESSION` with no word before it that the pairs above know — Kaggle's `KAGGLE_KEY`, Datadog's
 * `DD_APP_KEY`, New Relic's `NEW_RELIC_LICENSE_KEY`, Algolia's `ALGOLIA_ADMIN_KEY`, Laravel's
 * `APP_KEY`, the Bitwarden CLI's unlocked-vault key `BW_SESSION`, 1Password's `OP_SESSION_<account>`.
 * Not a public key's or a key id's name (`GPG_KEY`, which Docker's official images set to a
 * fingerprint; `VAPID_PUBLIC_KEY`, `STRIPE_PUBLISHABLE_KEY`, `RECAPTCHA_SITE_KEY`), nor a place or a
 * setting (`…_KEY_FILE`, `…_KEY_ID`: ABOUT).
 */
const KEY_PARTS = new Set(['KEY', 'KEYS', 'SESSION']);
const PUBLIC_PARTS = new Set(['PUBLIC', 'PUB', 'PUBLISHABLE', 'GPG', 'PGP', 'GNUPG', 'FINGERPRINT', 'SITE', 'SORT', 'PARTITION', 'PRIMARY', 'CACHE', 'IDEMPOTENCY']);

function keyName(name: string): boolean {
  const parts = name.toUpperCase().split(/[^A-Z0-9]+/).filter(Boolean);
  if (!parts.length || ABOUT.has(parts[parts.length - 1]!)) return false;
  return parts.some((p) => KEY_PARTS.has(p)) && !parts.some((p) => PUBLIC_PARTS.has(p));
}

/**
 * Whether a value is key material rather than a word, a path or a setting: 32 or more hex digits
 * (dashes allowed: a UUID-shaped key), or 20 or more base64 characters of all three kinds, with many
 * distinct characters (random), `base64:`-prefixed as Laravel writes them or not.
 */
export function keyMaterial(value: string): boolean {
  let v = value.trim();
  if (v.startsWith('base64:')) v = v.slice(7);
  if (v.length > 1024) return false;
  if (/^[0-9A-Fa-f-]+$/.test(v)) return v.replace(/-/g, '').length >= 32;
  if (v.length < 20 || !/^[A-Za-z0-9+/=_.-]+$/.test(v)) return false;
  const kinds = [/[a-z]/g, /[A-Z]/g, /[0-9]/g].map((re) => v.match(re)?.length ?? 0);
  return kinds.every((k) => k >= 2) && new Set(v).size >= 12;
}

/**
 * Keys of a `key=value` pair that say its value is a credential, read lower-case with separators
 * dropped, at the end of the key (`sonatypePassword`, `Pwd`, `client_secret`, `auth_token`).
 */
const PAIR_WORDS = ['password', 'passwd', 'pwd', 'secret', 'token', 'apikey', 'accesskey', 'secretkey', 'privatekey', 'passphrase'];

/**
 * A credential as one `key=value` pair among others in the value (twenty-sixth pass): .NET's
 * `ConnectionStrings__Default="Server=db;User Id=sa;Password=…"` (how .NET takes connection strings
 * from the environment), libpq's `host=db password=…`, ODBC's `Pwd=…`, a JDBC URL's
 * `?user=app&password=…`, a JVM option `-Dorg.gradle.project.sonatypePassword=…` in `GRADLE_OPTS`,
 * `MAVEN_OPTS` or `JAVA_TOOL_OPTIONS`, `--api-key=…` in a tool's options. A plain scan from each `=`
 * (no pattern backtracks over the key). Not a value that is a reference (`$TOKEN`, `%PW%`, `{…}`,
 * `<…>`), a path, or Java's published default store password `changeit`.
 */
/** The length of a text without its trailing `=` (a loop: a pattern would backtrack on `=` runs). */
function unpadded(text: string): number {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end--;
  return end;
}

function pairedCredential(value: string): boolean {
  const v = value.slice(0, 64 * 1024);
  let n = 0;
  for (let eq = v.indexOf('='); eq >= 0 && n++ < 256; eq = v.indexOf('=', eq + 1)) {
    let end = eq;
    while (end > 0 && v[end - 1] === ' ') end--;
    let start = end;
    while (start > 0 && end - start < 64 && /[\w.-]/.test(v[start - 1]!)) start--;
    const key = v.slice(start, end).toLowerCase().replace(/[^a-z0-9]/g, '');
    if (!key || !PAIR_WORDS.some((w) => key.endsWith(w))) continue;
    let at = eq + 1;
    while (at < v.length && v[at] === ' ') at++;
    if (v[at] === '"' || v[at] === "'") at++;
    let stop = at;
    while (stop < v.length && stop - at < 256 && !/[\s;,&"']/.test(v[stop]!)) stop++;
    const secret = v.slice(at, stop);
    // Another pair after an empty value (`password= token=…`) is no value of this one; base64's
    // padding at the end is.
    if (secret.length < 3 || /^[$%{<\/~]/.test(secret) || secret.toLowerCase() === 'changeit' || (secret.includes('=') && secret.indexOf('=') < unpadded(secret))) continue;
    return true;
  }
  return false;
}

/** Whether the value is a credential by its form (a URL with a password, a known token format, a `password=` pair). */
export function credentialValue(value: string): boolean {
  return VALUE_PATTERNS.some((re) => re.test(value)) || signedJwt(value) || prefixedToken(value) || pairedCredential(value);
}

/**
 * Whether a variable of the environment holds a credential Airlock does not keep: by its name (with a
 * value of 6 characters or more, as the secret scanner reads) or by its value; never one holding an
 * Airlock placeholder (a real value replaced, a nested run's).
 */
export function credentialVariable(name: string, value: string): boolean {
  if (value.includes(PLACEHOLDER_PREFIX)) return false;
  // A path names where a credential is (`GOOGLE_APPLICATION_CREDENTIALS=/home/me/key.json`): the
  // file is hidden by name or by that variable (home-secrets.ts), and the path is no credential.
  const aPath = /^~?\/[^\s:]*$/.test(value.trim());
  return (value.trim().length >= 6 && !aPath && credentialName(name)) || credentialValue(value) || (keyName(name) && keyMaterial(value));
}
