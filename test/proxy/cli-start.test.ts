// `airlock start` as a user runs it: foreground, one log line per decision, clean stop on SIGTERM,
// clear one-line errors for bad settings.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { AgentStore } from '../../state/agents.ts';
import { httpUpstream, policyDir, tempDir } from './helpers.ts';

const run = promisify(execFile);
const cli = path.resolve('bin/airlock.js');

t.test('airlock start: serves, logs each decision, stops cleanly on SIGTERM', async (t) => {
  const home = tempDir(t);
  const up = await httpUpstream(t);
  const { token } = await (await AgentStore.open(home)).add('cli-agent');
  const child = spawn(process.execPath, [cli, 'start', '--home', home, '--policy', policyDir, '--proxy', '127.0.0.1:0', '--no-studio', '--allow-private', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line: ${out}`)), 25_000);
    child.stdout.on('data', () => {
      const m = /proxy on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  const proxy = `http://cli-agent:${token}@127.0.0.1:${port}`;
  const ok = await run('curl', ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', '-x', proxy, `http://127.0.0.1:${up.port}/from-cli`]);
  t.equal(ok.stdout, '200');
  const denied = await run('curl', ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', '-x', proxy, `http://127.0.0.1:${up.port}/deny/x`]);
  t.equal(denied.stdout, '403');
  await new Promise((r) => setTimeout(r, 200));
  const code = await new Promise<number | null>((resolve) => {
    child.once('exit', (c) => resolve(c));
    child.kill('SIGTERM');
  });
  t.equal(code, 0, 'clean exit on SIGTERM');
  t.match(out, new RegExp(`cli-agent GET http://127\\.0\\.0\\.1:${up.port}/from-cli → allow \\(allow-all\\) forwarded 200`));
  t.match(out, /cli-agent GET \S+\/deny\/x → deny \(deny-path\) denied 403 .* — paths under \/deny are denied/);
  t.match(out, /SIGTERM, shutting down\nairlock: stopped\n/);
  t.notOk(out.includes(token), 'the token is never printed by the proxy');
});

t.test('airlock start: bad settings are one clear line', async (t) => {
  const home = tempDir(t);
  const bad = async (args: string[]): Promise<string> => {
    const r = await run(process.execPath, [cli, 'start', '--home', home, '--no-studio', ...args]).catch((e: { stderr: string; code: number }) => e);
    t.equal((r as { code: number }).code, 1);
    return (r as { stderr: string }).stderr;
  };
  t.match(await bad(['--policy', policyDir, '--proxy', 'nonsense']), /^airlock: --proxy nonsense: expected HOST:PORT \(add the port: nonsense:8080, or :0 for any free one\)\n$/);
  t.match(await bad(['--policy', policyDir, '--allow-private', 'example.com']), /^airlock: --allow-private example.com: not an IP address or CIDR\n$/);
  t.match(await bad(['--policy', path.join(home, 'missing')]), /^airlock: /);
});
