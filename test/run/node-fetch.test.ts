// Node's built-in fetch() inside the `airlock run` sandbox, unchanged, on every Node release the
// README names (20 through the preload airlock run puts in NODE_OPTIONS, 22 and 24 natively): both
// `airlock run` and the agent run on that release. Releases not in the cache (scripts/fetch-node.js)
// are skipped loudly. Also: Java gets a trust store holding Airlock's CA.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { missingRelease, nodeRelease, supportedMajors } from '../node-versions.ts';
import { results, runAirlock, startWorld, type RunResult } from '../sandbox/helpers.ts';

t.setTimeout(300_000);
const world = await startWorld();
t.teardown(() => world.close());
const base = ['--agent', world.agent, '--home', world.home, '--no-secrets'];
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.AIRLOCK_MASTER_KEY;
delete env.AIRLOCK_MASTER_KEY_FILE;
const show = (r: RunResult): string => `exit ${r.code}\nstdout: ${r.stdout.slice(-1500)}\nstderr: ${r.stderr.slice(-2500)}`;
const url = `https://allowed.test:${world.https.port}/fetched`;

for (const major of supportedMajors) {
  const node = nodeRelease(major);
  t.test(`fetch() unchanged on Node ${major}: airlock run and the agent both on that release`, { skip: node ? false : missingRelease(major) }, async (t) => {
    if (!node) return;
    const before = world.https.hits.length;
    const r = await runAirlock([...base, '--', node.bin, '-e', `fetch('${url}').then((r) => r.text()).then((b) => console.log('fetched=' + b.trim().split(' ').slice(0, 4).join(' ') + ' on ' + process.version), (e) => console.log('fetched=ERR ' + (e.cause?.code ?? e.message)))`], {
      cwd: world.work, env, timeoutMs: 120_000, node: node.bin,
    });
    t.equal(r.code, 0, show(r));
    t.equal(results(r.stdout).fetched, `upstream saw GET /fetched on v${node.version}`);
    t.equal(world.https.hits.length, before + 1, 'through Airlock to the upstream');
    t.notMatch(r.stderr, /EnvHttpProxyAgent is experimental/, 'no Node warning for the agent to read');
  });
}

t.test('a denied fetch() is a 403 from Airlock, not a DNS failure', async (t) => {
  const r = await runAirlock([...base, '--', 'node', '-e', `fetch('https://denied.test:${world.https.port}/x').then((r) => console.log('status=' + r.status), (e) => console.log('status=ERR ' + (e.cause?.code ?? e.message)))`], { cwd: world.work, env });
  t.equal(results(r.stdout).status, '403', show(r));
  t.match(r.stderr, /airlock: denied 403 GET https:\/\/denied\.test:\d+\/x \(default-deny\)/, 'and airlock run says so');
});

const noKeytool = spawnSync('keytool', ['-help'], { stdio: 'ignore' }).error ? 'no JDK (keytool) installed: airlock run sets no JAVA_TOOL_OPTIONS then' : false;
t.test('Java: JAVA_TOOL_OPTIONS names a trust store holding Airlock\'s CA', { skip: noKeytool }, async (t) => {
  const r = await runAirlock([...base, '--', 'sh', '-c', 'ts=$(printf %s "$JAVA_TOOL_OPTIONS" | sed -n "s/.*trustStore=\\([^ ]*\\).*/\\1/p"); keytool -list -rfc -keystore "$ts" -storetype PKCS12 -storepass airlock 2>/dev/null'], { cwd: world.work, env, timeoutMs: 120_000 });
  t.equal(r.code, 0, show(r));
  const pem = fs.readFileSync(path.join(world.home, 'ca.pem'), 'utf8').trim();
  const body = (s: string): string => s.replace(/-----[A-Z ]+-----|\s+/g, '');
  t.ok(body(r.stdout).includes(body(pem)), 'the store holds Airlock\'s CA certificate');
});
