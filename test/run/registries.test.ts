// Package managers and Node's fetch inside the `airlock run` sandbox, with the real clients (npm,
// pip, node) and the real default policy (rego/, with the package_registries preset switched on)
// against a registry stand-in on loopback: registry.npmjs.org, pypi.org and files.pythonhosted.org
// are pinned with --resolve HOST:443=127.0.0.1:PORT. Nothing leaves the machine.
//   - npm installs despite a `cafile` in the user's .npmrc (npm_config_cafile wins); pip installs;
//   - a refused request is printed on the run's terminal even when pip hides it;
//   - publishing is held (and, with no studio, refused at once: approval-unavailable).
// fetch() on each Node release and Java's trust store: test/run/node-fetch.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tar from 'tar';
import t from 'tap';
import { startAirlock } from '../../runtime/airlock.ts';
import { results, runAirlock, type RunResult } from '../sandbox/helpers.ts';
import { upstreamCert } from '../upstream-cert.ts';

// Real package managers on a shared machine: a generous bound for the file (not a timing assertion).
t.setTimeout(300_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-test-registries-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
const home = path.join(dir, 'home');
const work = path.join(dir, 'work');
fs.mkdirSync(home, { mode: 0o700 });
fs.mkdirSync(work);

// ─── the packages the stand-in serves ─────────────────────────────────────────────────────────
const pkg = 'tiny-airlock-pkg';
const npmDir = path.join(dir, 'npm-src', 'package');
fs.mkdirSync(npmDir, { recursive: true });
fs.writeFileSync(path.join(npmDir, 'package.json'), JSON.stringify({ name: pkg, version: '1.0.0', main: 'index.js' }));
fs.writeFileSync(path.join(npmDir, 'index.js'), "module.exports = 'hello from the stand-in registry';\n");
const tgzFile = path.join(dir, `${pkg}-1.0.0.tgz`);
tar.create({ gzip: true, cwd: path.dirname(npmDir), file: tgzFile, sync: true, portable: true }, ['package']);
const tgz = fs.readFileSync(tgzFile);
// A scoped package: npm asks for its packument as /@scope%2fname (an encoded slash).
const scoped = '@airlock-test/scoped';
const scopedDir = path.join(dir, 'npm-scoped', 'package');
fs.mkdirSync(scopedDir, { recursive: true });
fs.writeFileSync(path.join(scopedDir, 'package.json'), JSON.stringify({ name: scoped, version: '1.0.0', main: 'index.js' }));
fs.writeFileSync(path.join(scopedDir, 'index.js'), "module.exports = 'hello from a scoped package';\n");
const scopedTgzFile = path.join(dir, 'scoped-1.0.0.tgz');
tar.create({ gzip: true, cwd: path.dirname(scopedDir), file: scopedTgzFile, sync: true, portable: true }, ['package']);
const scopedTgz = fs.readFileSync(scopedTgzFile);

/** A packument as the npm registry serves it. */
function packument(name: string, tarball: string, bytes: Buffer): string {
  return JSON.stringify({
    name, 'dist-tags': { latest: '1.0.0' },
    versions: { '1.0.0': { name, version: '1.0.0', main: 'index.js', dist: {
      tarball,
      shasum: crypto.createHash('sha1').update(bytes).digest('hex'),
      integrity: `sha512-${crypto.createHash('sha512').update(bytes).digest('base64')}`,
    } } },
  });
}
const wheelName = 'tiny_airlock_pkg-1.0-py3-none-any.whl';
const wheelFile = path.join(dir, wheelName);
execFileSync('python3', ['-c', `
import base64, hashlib, sys, zipfile
files = {
  'tiny_airlock_pkg/__init__.py': b'GREETING = "hello from the stand-in index"\\n',
  'tiny_airlock_pkg-1.0.dist-info/METADATA': b'Metadata-Version: 2.1\\nName: tiny-airlock-pkg\\nVersion: 1.0\\n',
  'tiny_airlock_pkg-1.0.dist-info/WHEEL': b'Wheel-Version: 1.0\\nGenerator: airlock-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n',
}
def h(b): return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(b).digest()).rstrip(b'=').decode()
record = ''.join(f'{n},{h(b)},{len(b)}\\n' for n, b in files.items()) + 'tiny_airlock_pkg-1.0.dist-info/RECORD,,\\n'
with zipfile.ZipFile(sys.argv[1], 'w') as z:
  for n, b in files.items(): z.writestr(n, b)
  z.writestr('tiny_airlock_pkg-1.0.dist-info/RECORD', record)
`, wheelFile]);
const wheel = fs.readFileSync(wheelFile);

// ─── the registry stand-in ────────────────────────────────────────────────────────────────────
const hosts = ['registry.npmjs.org', 'pypi.org', 'files.pythonhosted.org'];
const cert = upstreamCert(dir, hosts);
const seen: string[] = [];
const server = https.createServer({ key: cert.key, cert: cert.cert }, (req, res) => {
  const where = `${req.method} ${req.headers.host}${req.url}`;
  seen.push(where);
  req.resume();
  const send = (type: string, body: string | Buffer): void => {
    res.writeHead(200, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  const host = req.headers.host;
  if (host === 'registry.npmjs.org' && req.method === 'GET' && req.url === `/${pkg}`) {
    return send('application/json', packument(pkg, `https://registry.npmjs.org/${pkg}/-/${pkg}-1.0.0.tgz`, tgz));
  }
  if (host === 'registry.npmjs.org' && req.method === 'GET' && req.url?.toLowerCase() === '/@airlock-test%2fscoped') {
    return send('application/json', packument(scoped, `https://registry.npmjs.org/${scoped}/-/scoped-1.0.0.tgz`, scopedTgz));
  }
  if (host === 'registry.npmjs.org' && req.url === `/${scoped}/-/scoped-1.0.0.tgz`) return send('application/octet-stream', scopedTgz);
  if (host === 'registry.npmjs.org' && req.url === `/${pkg}/-/${pkg}-1.0.0.tgz`) return send('application/octet-stream', tgz);
  if (host === 'registry.npmjs.org' && req.method === 'POST' && req.url?.startsWith('/-/npm/v1/security/')) return send('application/json', '{}');
  if (host === 'pypi.org' && req.url === `/simple/${pkg}/`) {
    const sha = crypto.createHash('sha256').update(wheel).digest('hex');
    return send('text/html', `<!DOCTYPE html><html><body><a href="https://files.pythonhosted.org/packages/${wheelName}#sha256=${sha}">${wheelName}</a></body></html>`);
  }
  if (host === 'files.pythonhosted.org' && req.url === `/packages/${wheelName}`) return send('application/octet-stream', wheel);
  res.writeHead(404, { 'content-type': 'text/plain' });
  res.end('not in the stand-in\n');
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
t.teardown(() => {
  server.closeAllConnections();
  server.close();
});
const port = (server.address() as net.AddressInfo).port;

// ─── Airlock with the default policy, registries preset on ────────────────────────────────────
const policy = path.join(dir, 'policy');
fs.cpSync(path.resolve('rego'), policy, { recursive: true });
const configFile = path.join(policy, 'config', 'data.json');
fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), presets: ['package_registries'] }));
const airlock = await startAirlock({
  home, policy, proxy: '127.0.0.1:0', studio: false, threads: 1,
  allowPrivate: [`127.0.0.1:${port}`], upstreamCa: [cert.certFile],
  resolve: hosts.map((h) => `${h}:443=127.0.0.1:${port}`),
});
t.teardown(() => airlock.close());
await airlock.agents.add('pm');
const base = ['--agent', 'pm', '--home', home, '--no-secrets'];

// A user whose npm config points at another CA bundle: without npm_config_cafile, npm fails with
// SELF_SIGNED_CERT_IN_CHAIN / UNABLE_TO_GET_ISSUER_CERT behind Airlock.
const userHome = path.join(dir, 'user');
fs.mkdirSync(userHome);
fs.writeFileSync(path.join(userHome, '.npmrc'), `cafile=${cert.certFile}\nfund=false\naudit=true\nupdate-notifier=false\n`);
// PIP_BREAK_SYSTEM_PACKAGES: Debian's pip refuses installs outside a venv (PEP 668); --target stays in ./pydeps.
const env: NodeJS.ProcessEnv = { ...process.env, HOME: userHome, npm_config_userconfig: path.join(userHome, '.npmrc'), PIP_BREAK_SYSTEM_PACKAGES: '1' };
delete env.AIRLOCK_MASTER_KEY;
delete env.AIRLOCK_MASTER_KEY_FILE;

const pipCheck = spawnSync('python3', ['-m', 'pip', '--version'], { encoding: 'utf8' });
const noPip = pipCheck.status !== 0 ? `pip is not installed for python3 (${pipCheck.stderr.trim().split('\n')[0]}); .ci/run installs python3-pip` : false;

const show = (r: RunResult): string => `exit ${r.code}\nstdout: ${r.stdout.slice(-1500)}\nstderr: ${r.stderr.slice(-2500)}`;

t.test('npm install in the sandbox, with a cafile in the user\'s .npmrc', async (t) => {
  const r = await runAirlock([...base, '--', 'sh', '-c', `npm install --no-save --prefix ./jsdeps ${pkg} ${scoped} && node -e "console.log('required=' + require('./jsdeps/node_modules/${pkg}')); console.log('scoped=' + require('./jsdeps/node_modules/${scoped}'))"`], { cwd: work, env, timeoutMs: 180_000 });
  t.equal(r.code, 0, show(r));
  t.equal(results(r.stdout).required, 'hello from the stand-in registry');
  t.equal(results(r.stdout).scoped, 'hello from a scoped package', 'a scoped package (/@scope%2fname: the preset forwards the path as sent)');
  t.ok(seen.includes(`GET registry.npmjs.org/${pkg}`), 'the packument came through Airlock');
  t.ok(seen.includes(`GET registry.npmjs.org/${pkg}/-/${pkg}-1.0.0.tgz`), 'and the tarball');
});

t.test('pip install in the sandbox', { skip: noPip }, async (t) => {
  const r = await runAirlock([...base, '--', 'sh', '-c', `python3 -m pip install --disable-pip-version-check --no-cache-dir --target ./pydeps --index-url https://pypi.org/simple ${pkg} && PYTHONPATH=./pydeps python3 -c "import tiny_airlock_pkg; print('imported=' + tiny_airlock_pkg.GREETING)"`], { cwd: work, env, timeoutMs: 180_000 });
  t.equal(r.code, 0, show(r));
  t.equal(results(r.stdout).imported, 'hello from the stand-in index');
  t.ok(seen.includes(`GET pypi.org/simple/${pkg}/`) && seen.includes(`GET files.pythonhosted.org/packages/${wheelName}`), 'index and wheel came through Airlock');
});

t.test('pip hides the 403 ("No matching distribution"); airlock run says it', { skip: noPip }, async (t) => {
  const r = await runAirlock([...base, '--', 'python3', '-m', 'pip', 'download', '--disable-pip-version-check', '--no-cache-dir', '--retries', '0', '-d', './dl', '--index-url', 'https://pypi.mirror.test/simple', pkg], { cwd: work, env, timeoutMs: 180_000 });
  t.not(r.code, 0, 'pip fails');
  t.match(r.stderr, new RegExp(`airlock: denied 403 GET https://pypi\\.mirror\\.test/simple/${pkg}/ \\(host\\.unknown\\): pypi\\.mirror\\.test is not a known service`), show(r));
  t.notOk(seen.some((s) => s.includes('mirror')), 'nothing reached anywhere');
  const quiet = await runAirlock([...base, '--no-report-denials', '--', 'node', '-e', "fetch('https://pypi.mirror.test/').then((r) => console.log('status=' + r.status))"], { cwd: work, env });
  t.equal(results(quiet.stdout).status, '403');
  t.notMatch(quiet.stderr, /airlock: denied/, '--no-report-denials keeps quiet');
});

t.test('npm publish is held for a human; with no studio it is refused at once', async (t) => {
  const src = path.join(work, 'to-publish');
  fs.mkdirSync(src, { recursive: true });
  fs.writeFileSync(path.join(src, 'package.json'), JSON.stringify({ name: 'airlock-publish-probe', version: '0.0.1' }));
  const r = await runAirlock([...base, '--', 'npm', 'publish', '--registry', 'https://registry.npmjs.org/', '--//registry.npmjs.org/:_authToken=not-a-real-token', '--provenance=false'], { cwd: src, env, timeoutMs: 180_000 });
  t.not(r.code, 0, 'npm publish fails');
  t.match(r.stderr, /airlock: denied 403 PUT https:\/\/registry\.npmjs\.org\/airlock-publish-probe \(preset\.write\): .*no approver is running/, show(r));
  t.notOk(seen.some((s) => s.startsWith('PUT ')), 'the stand-in received no publish');
});
