// The first hour's error messages, as a user meets them: real `airlock` processes, each mistake
// answered with one line that names the file or setting (as the user wrote it) and what to do.
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import https from 'node:https';
import t from 'tap';
import { startAirlock, type AirlockOptions } from '../../runtime/airlock.ts';
import { policyDir, tempDir, upstreamCert } from './helpers.ts';

const run = promisify(execFile);
const cli = path.resolve('bin/airlock.js');
// Real processes on a shared machine: a generous bound for the whole file (not a timing assertion).
t.setTimeout(300_000);

async function fails(args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const r = await run(process.execPath, [cli, ...args], { timeout: 60_000, ...opts }).then(
    (ok) => ({ code: 0, stderr: ok.stderr }),
    (e: { code: number; stderr: string }) => e,
  );
  t.equal(r.code, 1, `airlock ${args[0]} exits 1`);
  return r.stderr;
}

const start = (home: string, ...more: string[]): string[] => ['start', '--home', home, '--policy', policyDir, '--proxy', '127.0.0.1:0', '--no-studio', ...more];

const inProcess = async (home: string, more: AirlockOptions = {}): Promise<string> => {
  const err = await startAirlock({ home, policy: policyDir, proxy: '127.0.0.1:0', studio: false, threads: 1, ...more }).then(
    async (a) => { await a.close(); return undefined; },
    (e: Error) => e,
  );
  t.ok(err, 'refused to start');
  return err?.message ?? '';
};
const quote = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

t.test('config.json: checked against its schema; errors name the file, the key and what is expected', async (t) => {
  const home = tempDir(t);
  const file = path.join(home, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ allowPrivate: '10.0.0.0/8' }));
  t.equal(await fails(start(home)), `airlock: ${file}: "allowPrivate" has the wrong type or form: expected a list of CIDR[:PORT] strings, e.g. ["10.1.0.0/16:8443"]\n`, 'the CLI prints one line');
  fs.writeFileSync(file, JSON.stringify({ upstreamTimeouts: { firstByte: 'soon' } }));
  t.match(await inProcess(home), /"upstreamTimeouts\.firstByte" has the wrong type or form: expected a duration/);
  fs.writeFileSync(file, JSON.stringify({ upstreamTimeouts: { firstbyte: '5m' } }));
  t.match(await inProcess(home), /unknown setting "upstreamTimeouts\.firstbyte" \(known: connect, firstByte, idle\)/);
  // A value of the right type but wrong content is reported under the config key, not a flag name.
  fs.writeFileSync(file, JSON.stringify({ allowPrivate: ['example.com'] }));
  const err = await inProcess(home, { allowPrivate: [] });
  t.match(err, new RegExp(`^${quote(file)}: "allowPrivate": example\\.com: not an IP address or CIDR$`));
  t.notMatch(err, /--allow-private/);
  t.match(await inProcess(home, { allowPrivate: ['example.com'] }), /^--allow-private example\.com: not an IP address or CIDR$/, 'the same value as a flag is named as the flag');
  fs.writeFileSync(file, JSON.stringify({ resolve: ['registry.test=127.0.0.1:8443'] }));
  t.match(await inProcess(home), /config\.json: "resolve": registry\.test=127\.0\.0\.1:8443: a target port needs the port it replaces/);
  fs.writeFileSync(file, '{}');
  t.match(await inProcess(home, { upstreamTimeouts: { firstByte: 'soon' } }), /^--upstream-first-byte-timeout "soon": expected a duration/);
});

t.test('--upstream-ca: a private key, an empty file or a missing one is refused by name', async (t) => {
  const home = tempDir(t);
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyFile = path.join(home, 'corp-ca-key.pem');
  fs.writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  t.match(await fails(start(home, '--upstream-ca', keyFile)), new RegExp(`^airlock: --upstream-ca .*corp-ca-key\\.pem holds a private key \\(PRIVATE KEY\\); give the CA's certificate`));
  const both = path.join(home, 'both.pem');
  fs.writeFileSync(both, fs.readFileSync(upstreamCert(home).certFile, 'utf8') + privateKey.export({ type: 'pkcs8', format: 'pem' }));
  t.match(await inProcess(home, { upstreamCa: [both] }), /both\.pem holds a private key/, 'also next to a certificate');
  const empty = path.join(home, 'empty.pem');
  fs.writeFileSync(empty, 'not pem\n');
  t.match(await inProcess(home, { upstreamCa: [empty] }), /empty\.pem holds no PEM certificate/);
  t.match(await inProcess(home, { upstreamCa: [path.join(home, 'nope.pem')] }), /nope\.pem: no such file/);
});

t.test('state files: a corrupt ca.pem, totp.json or agents.json stops the start with the file named', async (t) => {
  const home = tempDir(t);
  // A first start creates the CA; then the certificate is damaged.
  await run(process.execPath, [cli, 'ca', 'path', '--home', home]);
  const ca = path.join(home, 'ca.pem');
  fs.writeFileSync(ca, 'garbage\n');
  const err = await fails(start(home));
  t.match(err, new RegExp(`^airlock: ${ca.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not Airlock's CA certificate \\(no PEM certificate in it\\); restore it`));
  t.notMatch(err, /Unsupported format|raw/);
  fs.rmSync(ca);
  fs.rmSync(path.join(home, 'ca-key.pem'));
  fs.writeFileSync(path.join(home, 'totp.json'), '{"version": 1, "secret": ');
  t.match(await inProcess(home), /totp\.json/);
  // A damaged file's bytes quoted in the message reach the terminal as visible escapes, never as control sequences.
  fs.rmSync(path.join(home, 'totp.json'));
  fs.writeFileSync(path.join(home, 'agents.json'), '{"agents": {"bot": \x1b]0;owned\x07\x1b[2J');
  const quoted = await fails(start(home));
  t.match(quoted, /agents\.json is unreadable \(.*\\x1b/);
  t.notMatch(quoted, /[\x00-\x08\x0b-\x1f\x7f]/, 'no control character in the message');
  fs.writeFileSync(path.join(home, 'agents.json'), '{"agents": {"bot": {"name": "bot", "tokens": "x"}}}');
  t.match(await fails(start(home)), /agents\.json is unreadable \(agents "bot": "tokens" must be a list\)/);
});

t.test('a second start on the same state folder says which Airlock runs there', async (t) => {
  const home = tempDir(t);
  const first = spawn(process.execPath, [cli, ...start(home)], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (first.exitCode === null) first.kill('SIGKILL'); });
  let out = '';
  first.stdout.on('data', (d: Buffer) => (out += d.toString()));
  first.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 30_000);
    first.stdout.on('data', () => { if (/proxy on/.test(out)) { clearTimeout(timer); resolve(); } });
  });
  const err = await fails(['start', '--home', home, '--policy', policyDir, '--no-studio']);
  t.match(err, new RegExp(`^airlock: Airlock is already running with the state folder \\S+ \\(pid ${first.pid}, proxy on 127\\.0\\.0\\.1:\\d+\\); stop it first`));
  t.notMatch(err, /EADDRINUSE/);
  first.kill('SIGTERM');
  await new Promise((r) => first.once('exit', r));
});

t.test('approval ids: a prefix under 6 characters is explained, not "no approval"', async (t) => {
  const home = tempDir(t);
  const { main } = await import('../../cli/main.ts');
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string) => { stderr += chunk; return true; }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['approvals', 'show', 'ap_3', '--home', home, '--studio', '127.0.0.1:1']);
  } finally {
    process.stderr.write = write;
  }
  t.equal(code, 1);
  t.match(stderr, /"ap_3" is too short to name an approval: give its whole id or at least 6 characters/);
});

t.test('output piped into head: no "write EPIPE"', async (t) => {
  const home = tempDir(t);
  const { describeRequest } = await import('../../describe/describe.ts');
  const description = describeRequest({ method: 'GET', url: 'http://a.test/x', headers: [['host', 'a.test']], body: Buffer.alloc(0), bodyTruncated: false }, { agent: { id: 'bot', labels: {} } });
  const line = JSON.stringify({ time: new Date().toISOString(), id: 'x', agent: 'bot', method: 'GET', url: 'http://a.test/x', outcome: 'denied', description });
  fs.writeFileSync(path.join(home, 'audit.jsonl'), `${line}\n`.repeat(20_000));
  const r = await run('sh', ['-c', `"${process.execPath}" "${cli}" capture export --home "${home}" | head -c 100 >/dev/null`], { timeout: 60_000 });
  t.equal(r.stderr, '', 'nothing on stderr');
});

t.test('airlock --version; npx airlock from the checkout; npm link puts airlock on PATH', async (t) => {
  const version = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;
  t.equal((await run(process.execPath, [cli, '--version'])).stdout, `${version}\n`);
  t.equal((await run(process.execPath, [cli, 'version'])).stdout, `${version}\n`, '`airlock version` too, not "did you mean sessions?"');
  const npx = await run('npx', ['--offline', 'airlock', '--version'], { timeout: 60_000 });
  t.equal(npx.stdout, `${version}\n`, 'npx airlock runs the checkout\'s own bin (no download)');
  const prefix = tempDir(t);
  await run('npm', ['link', '--ignore-scripts', '--no-audit', '--no-fund', '--offline'], { timeout: 60_000, env: { ...process.env, npm_config_prefix: prefix } });
  const linked = await run(path.join(prefix, 'bin', 'airlock'), ['--version']);
  t.equal(linked.stdout, `${version}\n`, 'npm link: <prefix>/bin/airlock is the checkout');
});

t.test('--resolve HOST:PORT=ADDR:PORT: a local HTTPS server stands in for a name on 443', async (t) => {
  const home = tempDir(t);
  const cert = upstreamCert(home);
  const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => res.end(`stand-in saw ${req.headers.host} ${req.url}\n`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => server.close());
  const port = (server.address() as { port: number }).port;
  const airlock = await startAirlock({
    home, policy: policyDir, proxy: '127.0.0.1:0', studio: false, threads: 1,
    allowPrivate: [`127.0.0.1:${port}`], upstreamCa: [cert.certFile], resolve: [`api.github.com:443=127.0.0.1:${port}`],
  });
  t.teardown(() => airlock.close());
  const { token } = await airlock.agents.add('pinner');
  const r = await run('curl', ['-sS', '--max-time', '20', '--cacert', path.join(home, 'ca.pem'), '-x', airlock.proxyUrl('pinner', token), 'https://api.github.com/repos/acme/app']);
  t.equal(r.stdout, 'stand-in saw api.github.com /repos/acme/app\n', 'the name and port the agent used reach the stand-in on its own port');
});

t.test('a busy studio port is explained like a busy proxy port, with the way out', async (t) => {
  const home = tempDir(t);
  const net = await import('node:net');
  const squatter = net.createServer();
  await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
  t.teardown(() => squatter.close());
  const port = (squatter.address() as { port: number }).port;
  const err = await fails(['start', '--home', home, '--policy', policyDir, '--proxy', '127.0.0.1:0', '--studio', `127.0.0.1:${port}`]);
  t.match(err, new RegExp(`^airlock: studio cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use by another program .*; choose another address with --studio or "studio" in config\\.json, or run without it \\(--no-studio\\)\\n$`));
});

t.test('a token typo and a client without the CA are named, not silent', async (t) => {
  const home = tempDir(t);
  const airlock = await startAirlock({ home, policy: policyDir, proxy: '127.0.0.1:0', studio: false, threads: 1 });
  t.teardown(() => airlock.close());
  const { token } = await airlock.agents.add('coder');
  const curl = (...args: string[]) => run('curl', ['-sS', '--max-time', '20', ...args]).then((r) => r, (e: { stdout: string; stderr: string }) => e);
  // A mistyped token: the 407 says which agent's token was refused, on both proxy paths.
  const typo = airlock.proxyUrl('coder', `${token}x`);
  const plain = await curl('-x', typo, 'http://api.github.com/zen');
  t.match(JSON.parse(plain.stdout), { status: 407, detail: /^no agent "coder" holds the token sent \(a typo in the proxy URL/ });
  t.match((await curl('-x', airlock.proxyUrl('coder', token).replace('coder:', 'coedr:'), 'http://api.github.com/zen')).stdout, /no agent \\"coedr\\" holds the token sent/);
  // curl without Airlock's CA: its handshake fails on the client, and Airlock's log says why.
  const lines: string[] = [];
  airlock.audit.onRecord((r) => lines.push(JSON.stringify(r)));
  const untrusted = await curl('-x', airlock.proxyUrl('coder', token), 'https://api.github.com/zen');
  t.match(untrusted.stderr, /SSL certificate problem/);
  const deadline = Date.now() + 10_000;
  while (!lines.some((l) => l.includes('tls-untrusted')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const record = JSON.parse(lines.find((l) => l.includes('tls-untrusted')) ?? '{}') as { agent?: string; url?: string; detail?: string };
  t.match(record, { agent: 'coder', url: 'api.github.com:443', detail: /refused the certificate Airlock made for api\.github\.com .*does not trust Airlock's CA.*airlock ca path/ });
});

t.test('a wrong proxy URL: https:// to the proxy port, or the studio\'s port, says what to use', async (t) => {
  const home = tempDir(t);
  const airlock = await startAirlock({ home, policy: policyDir, proxy: '127.0.0.1:0', studio: '127.0.0.1:0', threads: 1 });
  t.teardown(() => airlock.close());
  const { token } = await airlock.agents.add('coder');
  const lines: string[] = [];
  airlock.audit.onRecord((r) => lines.push(JSON.stringify(r)));
  const py = (proxy: string) => run('python3', ['-c', `import requests\ntry: requests.get("https://api.github.com/zen", proxies={"https": "${proxy}"}, timeout=20)\nexcept Exception as e: print(e)`], { timeout: 60_000 });
  await py(airlock.proxyUrl('coder', token).replace('http:', 'https:'));
  const deadline = Date.now() + 10_000;
  while (!lines.some((l) => l.includes('opened TLS to the proxy port')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  t.ok(lines.some((l) => l.includes('its proxy URL must start with http://')), 'the log says the proxy URL must be http://');
  const studio = `127.0.0.1:${airlock.studioAddress!.port}`;
  const proxyAt = `${airlock.proxyAddress.host}:${airlock.proxyAddress.port}`;
  t.match((await py(`http://coder:${token}@${studio}`)).stdout, new RegExp(`Airlock studio, not the proxy: use ${quote(proxyAt)}`), 'CONNECT to the studio: the status line names the proxy');
  const plain = await run('curl', ['-sS', '--max-time', '20', '-x', `http://coder:${token}@${studio}`, 'http://api.github.com/zen']);
  t.match(JSON.parse(plain.stdout), { error: new RegExp(`^this is Airlock's studio, not its proxy: the proxy listens on ${quote(proxyAt)}`) });
});

t.test('run from the wrong folder: reading commands create no state folder, adding ones say they made one', async (t) => {
  const home = path.join(tempDir(t), '.airlock');
  const { main } = await import('../../cli/main.ts');
  const write = process.stderr.write.bind(process.stderr);
  const writeOut = process.stdout.write.bind(process.stdout);
  let stderr = '';
  const cli = async (...args: string[]): Promise<number> => {
    stderr = '';
    process.stderr.write = ((chunk: string) => { stderr += chunk; return true; }) as typeof process.stderr.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      return await main([...args, '--home', home]);
    } finally {
      process.stderr.write = write;
      process.stdout.write = writeOut;
    }
  };
  for (const args of [['secret', 'list'], ['agent', 'list'], ['totp', 'status'], ['agent', 'rm', 'coder']]) {
    t.equal(await cli(...args), 1, `${args.join(' ')} exits 1`);
    t.match(stderr, new RegExp(`^airlock: no state folder at ${quote(home)}: run this where Airlock runs`), args.join(' '));
  }
  t.notOk(fs.existsSync(home), 'no empty state folder was left behind');
  t.equal(await cli('agent', 'add', 'coder'), 0);
  t.match(stderr, new RegExp(`^airlock: note: created a new state folder ${quote(home)}; an Airlock running on another folder does not see it`));
  t.equal(await cli('agent', 'add', 'other'), 0);
  t.notMatch(stderr, /created a new state folder/, 'only when it was created');
  t.equal(await cli('agent', 'add', 'twice', '--label', 'team=web', '--label', 'team=ops'), 1, 'a label given twice is refused, not replaced');
  t.equal(stderr, 'airlock: --label team is given twice (team=web and team=ops): an agent\'s label has one value\n');
});

t.test('a state folder that is a file (--home or AIRLOCK_HOME) is named, not "EEXIST: mkdir"', async (t) => {
  const file = path.join(tempDir(t), 'not-a-folder');
  fs.writeFileSync(file, 'x');
  const said = `the state folder ${file} (--home) is a file, not a folder`;
  t.match(await fails(['agent', 'add', 'coder', '--home', file]), `airlock: ${said}`);
  t.match(await fails(start(file)), `airlock: ${said}`);
  const r = await run(process.execPath, [cli, 'agent', 'list'], { env: { ...process.env, AIRLOCK_HOME: file } }).catch((e: { stderr: string }) => e);
  t.match(r.stderr, `the state folder ${file} (AIRLOCK_HOME) is a file, not a folder`);
  t.notMatch(r.stderr, /EEXIST|ENOTDIR/);
});

t.test('a traffic test file with a typo: the misspelt key, or the syntax error as file:line:col', async (t) => {
  const dir = tempDir(t);
  const write = (name: string, text: string): string => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };
  const head = 'agent: coder\ncases:\n  - name: c\n';
  const get = '    request: {method: GET, url: "https://api.github.com/repos/acme/app"}\n';
  const cases: Array<[string, string, RegExp]> = [
    ['metod.yaml', `${head}    request: {metod: GET, url: "https://x.test/"}\n    expect: {action: allow}\n`, /case "c": request: "metod" is not a key of a request \(known: method, url,/],
    ['expct.yaml', `${head}${get}    expct: {action: allow}\n`, /case "c": "expct" is not a key of a case \(known: name, request, description, session, expect\)/],
    ['top.yaml', `agnet: coder\ncases:\n  - name: c\n${get}    expect: {action: allow}\n`, /"agnet" is not a key of a traffic test file/],
    ['list.yaml', `- name: c\n${get.slice(2)}  expect: {action: allow}\n`, /list\.yaml: a traffic test file is an object with a "cases" list \(this one is a bare list: put it under "cases:", beside "agent: NAME"\)$/],
    ['syntax.yaml', `${head}    request: {method: GET, url: "https://a"\n`, /syntax\.yaml:5:1: Flow map in block collection must be sufficiently indented and end with a \}$/],
  ];
  const { parseTrafficTests } = await import('../../offline/traffic-tests.ts');
  for (const [name, text, said] of cases) t.throws(() => parseTrafficTests(text, path.join(dir, name)), { message: said }, name);
  // One real run: the CLI prints it and exits 1.
  const f = write('syntax.yaml', `${head}    request: {method: GET, url: "https://a"\n`);
  const r = await run(process.execPath, [cli, 'test', '--no-rego', f], { timeout: 60_000 }).catch((e: { code: number; stdout: string }) => e);
  t.equal((r as { code?: number }).code, 1, 'exit 1');
  t.match(r.stdout, `FAIL ${f}:5:1: Flow map`);
});

t.test('airlock run --agent with a name no agent can have says so, not "add one with: airlock agent add a b"', async (t) => {
  const err = await fails(['run', '--home', tempDir(t), '--agent', 'a b', '--', 'true']);
  t.equal(err, `airlock: invalid agent name "a b": use letters, digits, '.', '_' or '-' (max 64)\n`);
  // The hint to start Airlock is a command that pastes back whole, whatever the folder's name.
  const home = path.join(tempDir(t), "my state's");
  t.match(await fails(['run', '--home', home, '--agent', 'coder', '--', 'true']), `(start it with: airlock start --home '${home.replace("'", "'\\''")}')`);
  // No command, or one given without `--`: what to type, never a wall of help or "unknown option '-c'".
  t.equal(await fails(['run', '--home', home, '--agent', 'coder']), 'airlock: give the command to run after --, e.g. airlock run --agent coder -- sh\n');
  const noDashes = await fails(['run', '--home', home, '--agent', 'coder', 'sh', '-c', 'true']);
  t.match(noDashes, 'Airlock is not running', "sh's -c is sh's option");
  t.notMatch(noDashes, /unknown option|--help/);
});

t.test('a missing policy folder is named without a made-up :0:0 position', async (t) => {
  const dir = path.join(tempDir(t), 'no-policy');
  const r = await run(process.execPath, [cli, 'build', '--policy', dir], { timeout: 60_000 }).catch((e: { code: number; stdout: string; stderr: string }) => e);
  t.equal((r as { code?: number }).code, 1);
  t.match(`${r.stdout}${r.stderr}`, `${dir}: policy folder does not exist (run from the folder that holds it, or pass --policy DIR)`);
  t.notMatch(`${r.stdout}${r.stderr}`, /:0:0/);
  // start, replay and capture say the same, not "policy … does not compile" over a folder that is not there.
  const said = await fails(['replay', path.resolve('fixtures/traffic/audit-sample.jsonl'), '--policy', dir]);
  t.equal(said, `airlock: ${dir}: policy folder does not exist (run from the folder that holds it, or pass --policy DIR)\n`);
  // `airlock` linked onto PATH and run in another folder: the default `rego` is not there, so name the shipped one.
  const elsewhere = tempDir(t);
  const shipped = path.resolve('rego');
  const hint = `the default policy is ${shipped}: pass --policy ${shipped}, or copy it here with cp -r ${shipped} rego`;
  t.equal(await fails(['start', '--home', path.join(elsewhere, 'state'), '--proxy', '127.0.0.1:0', '--no-studio'], { cwd: elsewhere }), `airlock: rego: policy folder does not exist (${hint})\n`);
  t.equal(await fails(['test'], { cwd: elsewhere }), `airlock: policy folder rego does not exist (${hint})\n`);
  t.notOk(fs.existsSync(path.join(elsewhere, 'state')), 'the refused start left no empty state folder behind');
});

t.test('airlock test on a folder that does not load: each problem at file:line:col, as build says it', async (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'services'));
  fs.writeFileSync(path.join(dir, 'airlock.rego'), 'package airlock\n\ndefault decision := {"action": "deny", "reason": "no"}\n');
  fs.writeFileSync(path.join(dir, 'services', 'helper.rego'), 'package airlock.helper\n\nx := 1 +++\n');
  const { runRegoTests } = await import('../../offline/policy-tests.ts');
  let r = await runRegoTests(dir);
  t.match(r.failures, [new RegExp(`^${quote(dir)}/services/helper\\.rego:3:\\d+: rego_parse_error`)], 'a Rego error outside airlock.rego, with its column');
  fs.writeFileSync(path.join(dir, 'services', 'helper.rego'), 'package airlock.helper\n\nx := 1\n');
  fs.writeFileSync(path.join(dir, 'data.json'), '{\n  "config": {,\n}\n');
  r = await runRegoTests(dir);
  t.match(r.failures, [`${dir}/data.json:2:`], 'a data file\'s JSON error at its line, not "invalid character"');
  t.match(r.details, [{ file: 'data.json', line: 2 }], 'the studio gets the place too');
});

t.test('airlock eval takes the request file explain takes; anything else is refused with an example', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'airlock.rego'), 'package airlock\n\ndecision := {"action": "deny", "reason": concat(" ", [input.request.host, input.agent.id]), "rule": "d"}\n');
  const req = path.join(dir, 'req.json');
  fs.writeFileSync(req, JSON.stringify({ method: 'GET', url: 'https://api.github.com/repos/acme/app' }));
  const ok = await run(process.execPath, [cli, 'eval', '--policy', dir, '--input', req, '--agent', 'coder'], { timeout: 60_000 });
  t.match(JSON.parse(ok.stdout), { action: 'deny', reason: 'api.github.com coder', rule: 'd' }, 'described as live traffic, not "input.invalid"');
  fs.writeFileSync(req, JSON.stringify({ url: 'https://api.github.com/' }));
  const { requestInput } = await import('../../cli/request-input.ts');
  await t.rejects(requestInput({ input: req, agent: 'coder', descriptionAsIs: true }), { message: `input ${req} is neither a request description (request.host) nor a request (method and url): e.g. {"method": "GET"` });
  fs.writeFileSync(req, '{\n  "method": "GET",\n  "url": "https://x.test/",\n}\n');
  await t.rejects(requestInput({ input: req, agent: 'coder' }), { message: `${req}:3:28: invalid JSON: a trailing comma is not allowed in JSON` }, 'file:line:col, not "at position 48"');
});

t.test('a policy with no data.airlock.decision: build says what the contract is, and airlock test fails without traffic tests too', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'policy.rego'), 'package myorg\n\nallow if input.request.method == "GET"\n');
  const { runPolicyTests } = await import('../../offline/policy-tests.ts');
  const report = await runPolicyTests(dir);
  t.equal(report.ok, false, 'not "0 passed, 0 failed"');
  t.match(report.lines.join('\n'), '(policy): no rule "decision" in package airlock: a policy answers data.airlock.decision, e.g. `decision :=');
  t.notMatch(report.lines.join('\n'), /entrypoint/);
});

t.test('a listen address spelt as a URL, a bare port or an unbracketed IPv6 address says what was meant', async (t) => {
  const { parseHostPort } = await import('../../runtime/config.ts');
  const said: Array<[string, string]> = [
    ['http://127.0.0.1:8080', '(a listen address, not a URL: 127.0.0.1:8080)'],
    ['8080', '(a port alone is :8080, on 127.0.0.1)'],
    ['::1:8080', '(an IPv6 address goes in brackets: [::1]:8080)'],
    ['::1', '(an IPv6 address goes in brackets, then the port: [::1]:8080)'],
    ['127.0.0.1', '(add the port: 127.0.0.1:8080, or :0 for any free one)'],
  ];
  for (const [spec, hint] of said) t.throws(() => parseHostPort(spec, '--proxy'), { message: `--proxy ${spec}: expected HOST:PORT ${hint}` }, spec);
  t.same(parseHostPort('[::1]:0', '--proxy'), { host: '::1', port: 0 });
});
