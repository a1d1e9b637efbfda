// The agent environment and the seccomp program as pure functions (no processes).
import t from 'tap';
import { agentEnv, caVars, proxyVars } from '../../sandbox/env.ts';
import { seccompProgram, seccompSupported } from '../../sandbox/seccomp.ts';

const base = {
  PATH: '/usr/bin', NO_PROXY: '*', no_proxy: '*', HTTP_PROXY: 'http://elsewhere:1',
  AIRLOCK_MASTER_KEY: 'k', AIRLOCK_MASTER_KEY_FILE: '/k', AIRLOCK_HOME: '/h', AIRLOCK_ANYTHING: 'x',
  SSH_AUTH_SOCK: '/tmp/ssh/agent', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/user/1/bus',
  PAT: 'token=sekrit-value-123', SHORT: 'abc',
  // CA files a host environment may point at the system bundle (they would refuse Airlock's leaves).
  GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: '/etc/ssl/certs/ca-certificates.crt', CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE: '/etc/ssl/certs/ca-certificates.crt',
  HTTPLIB2_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', NIX_SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
};
const opts = { agent: 'bot', token: 'T0k3n', proxyHost: '127.0.0.1', proxyPort: 3128, caCert: '/run/airlock/ca.pem', sandboxed: true };

t.test('proxy and CA variables are set, bypasses and Airlock\'s own variables removed', async (t) => {
  const env = agentEnv(base, opts);
  for (const k of proxyVars) t.equal(env[k], 'http://bot:T0k3n@127.0.0.1:3128', k);
  for (const k of caVars) t.equal(env[k], '/run/airlock/ca.pem', k);
  for (const k of ['GRPC_DEFAULT_SSL_ROOTS_FILE_PATH', 'CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE', 'HTTPLIB2_CA_CERTS', 'NIX_SSL_CERT_FILE']) t.equal(env[k], '/run/airlock/ca.pem', `${k} from the host environment points at Airlock's CA`);
  t.equal(env.NODE_USE_ENV_PROXY, '1');
  t.equal(env.AIRLOCK_AGENT, 'bot');
  for (const k of ['NO_PROXY', 'no_proxy', 'AIRLOCK_MASTER_KEY', 'AIRLOCK_MASTER_KEY_FILE', 'AIRLOCK_HOME', 'AIRLOCK_ANYTHING', 'SSH_AUTH_SOCK', 'DBUS_SESSION_BUS_ADDRESS']) {
    t.notOk(k in env, `${k} removed`);
  }
  t.equal(env.PATH, '/usr/bin', 'the rest is kept');
  const plain = agentEnv(base, { ...opts, sandboxed: false });
  t.equal(plain.SSH_AUTH_SOCK, '/tmp/ssh/agent', 'without the sandbox, ssh-agent stays usable');
});

t.test('proxy settings in other spellings (any case, tools\' own names) do not reach the agent', async (t) => {
  // Python's urllib reads every *_proxy name whatever its case: No_Proxy=* bypassed Airlock.
  const spellings = ['No_Proxy', 'NO_proxy', 'nO_pRoXy', 'Https_Proxy', 'HTTP_proxy', 'All_Proxy', 'ftp_proxy', 'npm_config_proxy', 'NPM_CONFIG_HTTPS_PROXY', 'npm_config_noproxy', 'NPM_CONFIG_NOPROXY', 'PIP_PROXY', 'CARGO_HTTP_PROXY', 'YARN_HTTPS_PROXY'];
  const env = agentEnv({ PATH: '/usr/bin', ...Object.fromEntries(spellings.map((k) => [k, k.toLowerCase().includes('no') ? '*' : 'http://elsewhere:1'])) }, opts);
  for (const k of spellings) t.notOk(k in env, `${k} removed`);
  for (const k of proxyVars) t.equal(env[k], 'http://bot:T0k3n@127.0.0.1:3128', `${k} is Airlock's`);
});

t.test('placeholders: set under their names, never over the variables airlock run owns', async (t) => {
  const env = agentEnv(base, { ...opts, placeholders: { GITHUB_TOKEN: 'airlock-ph-github-x' } });
  t.equal(env.GITHUB_TOKEN, 'airlock-ph-github-x');
  t.throws(() => agentEnv(base, { ...opts, placeholders: { HTTPS_PROXY: 'p' } }), /cannot replace HTTPS_PROXY/);
  t.throws(() => agentEnv(base, { ...opts, placeholders: { 'BAD-NAME': 'p' } }), /invalid environment variable name/);
});

t.test('real secret values in the inherited environment become placeholders', async (t) => {
  const seen: string[] = [];
  const env = agentEnv(base, {
    ...opts,
    realValues: [{ secret: 'pat', value: 'sekrit-value-123', placeholder: 'airlock-ph-pat-1' }, { secret: 'tiny', value: 'abc', placeholder: 'airlock-ph-tiny-1' }],
    onReplaced: (v, s) => seen.push(`${v}:${s}`),
  });
  t.equal(env.PAT, 'token=airlock-ph-pat-1');
  t.equal(env.SHORT, 'abc', 'values too short to be told from ordinary text are left alone');
  t.same(seen, ['PAT:pat']);
});

t.test('seccomp program: whole instructions, AF_UNIX allowed only when asked', async (t) => {
  t.ok(seccompSupported('x64') && seccompSupported('arm64'));
  t.notOk(seccompSupported('ia32'));
  for (const arch of ['x64', 'arm64']) {
    const strict = seccompProgram({}, arch);
    const loose = seccompProgram({ allowUnixSockets: true }, arch);
    t.equal(strict.length % 8, 0, `${arch}: 8-byte sock_filter entries`);
    // Strict: AF_UNIX refused, and socketpair's type checked (a datagram pair could be re-aimed).
    t.equal(strict.length - loose.length, 3 * 8 * 2, `${arch}: the same allowlist, plus the socketpair type check in each ABI`);
    t.not(loose.toString('hex'), strict.toString('hex'), `${arch}: the AF_UNIX rule differs`);
    t.equal(strict.readUInt16LE(strict.length - 8), 0x06, `${arch}: ends with return instructions`);
  }
  t.throws(() => seccompProgram({}, 'mips'), /no seccomp filter for architecture mips/);
});

t.test('Node preload and Java trust store: appended to the user\'s own options, quoted when needed', async (t) => {
  const env = agentEnv({ ...base, NODE_OPTIONS: '--max-old-space-size=512', JAVA_TOOL_OPTIONS: '-Xmx1g' }, {
    ...opts, nodePreload: '/run/airlock/node-fetch-proxy.cjs', javaTrustStore: '/run/airlock/truststore.p12',
  });
  t.equal(env.NODE_OPTIONS, '--max-old-space-size=512 --disable-warning=UNDICI-EHPA --require /run/airlock/node-fetch-proxy.cjs');
  t.equal(env.JAVA_TOOL_OPTIONS, '-Xmx1g -Djavax.net.ssl.trustStore=/run/airlock/truststore.p12 -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=airlock');
  const spaced = agentEnv(base, { ...opts, nodePreload: '/tmp/my runs/node-fetch-proxy.cjs' });
  t.equal(spaced.NODE_OPTIONS, '--disable-warning=UNDICI-EHPA --require "/tmp/my runs/node-fetch-proxy.cjs"');
  for (const k of ['npm_config_cafile', 'PIP_CERT', 'CARGO_HTTP_CAINFO']) t.equal(env[k], '/run/airlock/ca.pem', `${k} is the CA`);
  t.throws(() => agentEnv(base, { ...opts, placeholders: { NODE_OPTIONS: 'p' } }), /cannot replace NODE_OPTIONS/);
});
