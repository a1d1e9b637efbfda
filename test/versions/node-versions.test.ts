// The Node.js releases the README supports: every installed dependency accepts them (no engine
// warnings at install), and Airlock itself starts and serves on each (22 and 24 from the cache
// `node scripts/fetch-node.js` fills; skipped loudly when missing). `airlock run` and fetch() on
// each release are covered by test/run/registries.test.ts.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { AgentStore } from '../../state/agents.ts';
import { missingRelease, nodeRelease, supportedMajors } from '../node-versions.ts';

const run = promisify(execFile);
const semver = createRequire(import.meta.url)('semver') as { satisfies(v: string, range: string): boolean; minVersion(range: string): { version: string } | null };
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { engines: { node: string }; version: string };
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };

t.test('every locked dependency accepts the lowest release of each supported line', async (t) => {
  const lowest = supportedMajors.map((m) => semver.minVersion(`${pkg.engines.node.split('||').find((r) => r.includes(`${m}.`) || r.includes(`>=${m}`)) ?? `>=${m}`}`)?.version ?? `${m}.0.0`);
  t.same(lowest.map((v) => Number(v.split('.')[0])), supportedMajors, `package.json engines ${pkg.engines.node} names each line`);
  for (const v of lowest) {
    t.ok(semver.satisfies(v, pkg.engines.node), `${v} is within ${pkg.engines.node}`);
    const refusing = Object.entries(lock.packages)
      .filter(([, p]) => typeof (p.engines as { node?: string } | undefined)?.node === 'string' && !semver.satisfies(v, (p.engines as { node: string }).node))
      .map(([name, p]) => `${name.replace(/^.*node_modules\//, '')}@${p.version} wants ${(p.engines as { node: string }).node}`);
    t.same(refusing, [], `no dependency warns on Node ${v}`);
  }
  t.ok(semver.satisfies(process.versions.node, pkg.engines.node), `the running Node ${process.versions.node} is supported`);
});

// The running release is what every other test uses.
for (const major of supportedMajors.filter((m) => m !== Number(process.versions.node.split('.')[0]))) {
  const node = nodeRelease(major);
  t.test(`Airlock starts and serves on Node ${major}`, { skip: node ? false : missingRelease(major) }, async (t) => {
    if (!node) return;
    const cli = path.resolve('bin/airlock.js');
    t.equal((await run(node.bin, [cli, '--version'])).stdout, `${pkg.version}\n`);
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-test-node-'));
    t.teardown(() => fs.rmSync(home, { recursive: true, force: true, maxRetries: 10 }));
    const { token } = await (await AgentStore.open(home)).add('ver');
    const child = spawn(node.bin, [cli, 'start', '--home', home, '--policy', 'test/proxy/fixtures/policy', '--proxy', '127.0.0.1:0', '--no-studio'], { stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start line on Node ${node.version}: ${out}`)), 60_000);
      child.stdout.on('data', () => {
        const m = /proxy on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      child.once('exit', () => reject(new Error(`exited on Node ${node.version}: ${out}`)));
    });
    const denied = await run('curl', ['-sS', '--max-time', '15', '-o', '/dev/null', '-w', '%{http_code}', '-x', `http://ver:${token}@127.0.0.1:${port}`, 'http://example.test/deny/x']);
    t.equal(denied.stdout, '403', `decided on Node ${node.version}`);
    const code = await new Promise<number | null>((resolve) => {
      child.once('exit', (c) => resolve(c));
      child.kill('SIGTERM');
    });
    t.equal(code, 0, 'clean stop');
    t.notMatch(out, /ExperimentalWarning|DeprecationWarning|Error/, 'no warnings or errors on this release');
  });
}
