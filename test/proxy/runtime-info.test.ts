// The running Airlock tells the CLI where it listens (runtime.json), and config keys reach their parts.
import t from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import { startAirlock } from '../../runtime/airlock.ts';
import { resolveConfig } from '../../runtime/config.ts';
import { lastPolicy, readRuntimeInfo } from '../../runtime/running.ts';

const policy = path.resolve('test/proxy/fixtures/policy');

t.test('runtime.json names the bound addresses while running and goes away on close', async (t) => {
  const home = t.testdir({ 'config.json': JSON.stringify({ evalTimeoutMs: 1500, approvalWebhook: 'http://127.0.0.1:9/hook' }) });
  const airlock = await startAirlock({ home, policy, proxy: '127.0.0.1:0', studio: false, unixSocket: false });
  t.teardown(() => airlock.close());
  const info = readRuntimeInfo(home);
  t.equal(info?.proxy, `127.0.0.1:${airlock.proxyAddress.port}`);
  t.equal(info?.pid, process.pid);
  t.equal(airlock.engine.timeoutMs, 1500, 'evalTimeoutMs reaches the engine');
  t.equal(airlock.config.approvalWebhook, 'http://127.0.0.1:9/hook');
  t.equal((fs.statSync(path.join(home, 'runtime.json')).mode & 0o777), 0o600);
  await airlock.close();
  t.equal(readRuntimeInfo(home), undefined);
  t.notOk(fs.existsSync(path.join(home, 'runtime.json')));
  t.equal(lastPolicy(home), policy, 'the policy folder it loaded stays recorded (airlock run keeps it read-only)');
});

t.test('a stale runtime.json (its process is gone) is ignored', async (t) => {
  const home = t.testdir({ 'runtime.json': JSON.stringify({ pid: 2 ** 22 + 12345, proxy: '127.0.0.1:1', started: '' }) });
  t.equal(readRuntimeInfo(home), undefined);
});

t.test('defaults: a generous evaluation budget; flags win over the file', async (t) => {
  const home = t.testdir({ 'config.json': JSON.stringify({ evalTimeoutMs: 300 }), empty: {} });
  t.equal(resolveConfig(path.join(home, 'empty'), {}).evalTimeoutMs, 1000);
  t.equal(resolveConfig(home, {}).evalTimeoutMs, 300);
  t.equal(resolveConfig(home, { evalTimeoutMs: 50 }).evalTimeoutMs, 50);
});
