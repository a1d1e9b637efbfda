// The environment an agent runs with: every common client pointed at Airlock's proxy, Airlock's
// CA trusted, secret placeholders where real keys would be, and Airlock's own secrets removed.
import { credentialVariable } from './env-credentials.ts';
import { EnvSecretReplacer } from './env-secrets.ts';
import { emptyMap } from '../lib/records.ts';

export const proxyVars = ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy'] as const;
/**
 * Every variable a common client reads its trusted CAs from: Node (and npm/pnpm/yarn through
 * npm_config_cafile, which also overrides a `cafile` in the user's .npmrc), OpenSSL and Go
 * (SSL_CERT_FILE), Python requests and pip, curl, git, cargo, the AWS SDKs, Deno, Bundler, gRPC,
 * gcloud, httplib2 (Google's Python clients), Nix. Set whether or not the user's environment had
 * them: one inherited pointing at the system bundle would make that client refuse every answer.
 * Everything an agent reaches goes through Airlock's interception, so Airlock's CA is the only one needed.
 */
export const caVars = [
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO',
  'npm_config_cafile', 'PIP_CERT', 'CARGO_HTTP_CAINFO', 'AWS_CA_BUNDLE', 'DENO_CERT', 'BUNDLE_SSL_CA_CERT',
  'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH', 'CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE', 'HTTPLIB2_CA_CERTS', 'NIX_SSL_CERT_FILE',
] as const;

/** Java has no CA-file variable: a PKCS12 trust store holding Airlock's CA, through JAVA_TOOL_OPTIONS. */
export const JAVA_TRUSTSTORE_PASSWORD = 'airlock';

/** Variables that would let a client skip the proxy, or that belong to Airlock itself. */
const dropped = ['NO_PROXY', 'no_proxy', 'AIRLOCK_MASTER_KEY', 'AIRLOCK_MASTER_KEY_FILE', 'AIRLOCK_HOME', 'AIRLOCK_STUDIO_PASSWORD'];

/**
 * A proxy setting of the user's environment in another spelling than the ones set here: Python's
 * urllib (so requests and pip) reads every `*_proxy` name in any case (`No_Proxy=*` bypassed
 * Airlock for every host, `Https_Proxy` named another proxy), npm its `npm_config_*proxy` in any
 * case, pip `PIP_PROXY`, cargo `CARGO_HTTP_PROXY`, yarn `YARN_HTTPS_PROXY`. Dropped: the clients
 * then use the variables above.
 */
function otherProxySetting(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.endsWith('_proxy') || lower === 'npm_config_noproxy';
}

export interface AgentEnvOptions {
  agent: string;
  token: string;
  /** host:port of the proxy as the agent sees it. */
  proxyHost: string;
  proxyPort: number;
  /** CA certificate path as the agent sees it. */
  caCert: string;
  /** env var name → placeholder string. */
  placeholders?: Record<string, string>;
  /**
   * Real secret values (decrypted by `airlock run` from the store): wherever one appears in the
   * inherited environment (a GITHUB_TOKEN left in your shell), in any spelling (a Basic pair in
   * base64, hex, percent-encoded, in a URL), it is replaced by its placeholder; a variable that
   * still holds one afterwards is dropped (sandbox/env-secrets.ts).
   */
  realValues?: Array<{ secret: string; value: string; placeholder: string }>;
  /** Told (names only, never values) about each replacement; `dropped` when the variable was removed instead. */
  onReplaced?: (envVar: string, secret: string, dropped?: boolean) => void;
  /**
   * Told the names (never values) of the variables left out of a sandboxed agent's environment as
   * credentials Airlock does not keep (sandbox/env-credentials.ts).
   */
  onCredentials?: (envVars: string[]) => void;
  /** In a sandbox, host-side sockets (ssh-agent, D-Bus) are out of reach anyway: don't advertise them. */
  sandboxed: boolean;
  /** Path (as the agent sees it) of node-fetch-proxy.cjs, preloaded into every Node process. */
  nodePreload?: string;
  /** Path (as the agent sees it) of a PKCS12 trust store with Airlock's CA, for Java. */
  javaTrustStore?: string;
}

/** A NODE_OPTIONS value: quoted when it holds spaces (Node's parser takes "..." there). */
function nodeOptionArg(value: string): string {
  return /[\s"\\]/.test(value) ? `"${value.replace(/(["\\])/g, '\\$1')}"` : value;
}

const reserved = new Set<string>([...proxyVars, ...caVars, 'NODE_USE_ENV_PROXY', 'NODE_OPTIONS', 'JAVA_TOOL_OPTIONS', 'AIRLOCK_AGENT']);
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function agentEnv(base: NodeJS.ProcessEnv, o: AgentEnvOptions): Record<string, string> {
  const env: Record<string, string> = emptyMap();
  for (const [k, v] of Object.entries(base)) {
    if (v === undefined || dropped.includes(k) || k.startsWith('AIRLOCK_') || otherProxySetting(k)) continue;
    env[k] = v;
  }
  const replaced = new Set<string>();
  if (o.realValues?.length) {
    const replacer = new EnvSecretReplacer(o.realValues);
    for (const [k, v] of Object.entries(env)) {
      const inName = replacer.nameHolds(k);
      const scan = inName.length ? { value: undefined, secrets: inName } : replacer.scan(v);
      if (!scan.secrets.length) continue;
      replaced.add(k);
      if (scan.value === undefined) delete env[k];
      else env[k] = scan.value;
      for (const s of scan.secrets) o.onReplaced?.(k, s, scan.value === undefined);
    }
  }
  if (o.sandboxed) {
    delete env.SSH_AUTH_SOCK;
    delete env.DBUS_SESSION_BUS_ADDRESS;
    // Credentials Airlock does not keep (the files tools keep them in are hidden; a variable
    // holding a secret's real value was replaced above): left out, names told.
    const creds = Object.keys(env).filter((k) => !replaced.has(k) && credentialVariable(k, env[k]!));
    for (const k of creds) delete env[k];
    if (creds.length) o.onCredentials?.(creds);
  }
  // Agent names are [A-Za-z0-9._-] and tokens base64url: nothing to escape, but stay safe.
  const url = `http://${encodeURIComponent(o.agent)}:${encodeURIComponent(o.token)}@${o.proxyHost}:${o.proxyPort}`;
  for (const k of proxyVars) env[k] = url;
  for (const k of caVars) env[k] = o.caCert;
  env.NODE_USE_ENV_PROXY = '1';
  if (o.nodePreload) {
    // Node 22 warns on every start that NODE_USE_ENV_PROXY's agent is experimental: not the agent's business.
    const ours = `--disable-warning=UNDICI-EHPA --require ${nodeOptionArg(o.nodePreload)}`;
    env.NODE_OPTIONS = env.NODE_OPTIONS ? `${env.NODE_OPTIONS} ${ours}` : ours;
  }
  if (o.javaTrustStore) {
    const ours = `-Djavax.net.ssl.trustStore=${o.javaTrustStore} -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=${JAVA_TRUSTSTORE_PASSWORD}`;
    env.JAVA_TOOL_OPTIONS = env.JAVA_TOOL_OPTIONS ? `${env.JAVA_TOOL_OPTIONS} ${ours}` : ours;
  }
  env.AIRLOCK_AGENT = o.agent;
  for (const [name, placeholder] of Object.entries(o.placeholders ?? {})) {
    if (!envName.test(name)) throw new Error(`invalid environment variable name for a placeholder: ${JSON.stringify(name)}`);
    if (reserved.has(name)) throw new Error(`a placeholder cannot replace ${name}: airlock run sets it`);
    env[name] = placeholder;
  }
  return env;
}
