// Class: the studio's admin login leaks through redirected output. `airlock start > airlock.log`
// (or a CI log, a pipe into tee) puts the start-up lines where an agent may read them, and the
// login URL carries the admin token, with which the agent approves its own requests. A real
// `airlock start` child runs once with stdout piped and once under a pseudo-terminal (script(1)):
// the token reaches the terminal only; otherwise it sits in <home>/studio-login-url, mode 0600.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixtures, tempDir } from './helpers.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(repo, 'bin', 'airlock.js');

interface Started {
  stdout: string;
  stderr: string;
}

/** Starts `airlock start`, waits (bounded) for the studio's line, stops it with SIGTERM. */
function startOnce(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: repo, env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    };
    const hard = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 60_000);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (/studio at /.test(stdout) && /\n/.test(stdout.slice(stdout.indexOf('studio at ')))) stop();
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(hard);
      resolve({ stdout, stderr });
    });
  });
}

const startArgs = (home: string): string[] => [
  'start', '--home', home, '--policy', path.join(fixtures, 'allow-all'), '--proxy', '127.0.0.1:0', '--studio', '127.0.0.1:0', '--quiet',
];

t.test('stdout piped (redirected to a file, a pipe, a CI log): no token in the output', async (t) => {
  const home = tempDir(t, 'airlock-login-pipe-');
  const out = await startOnce(process.execPath, [bin, ...startArgs(home)]);
  const token = fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim();
  t.ok(token.length >= 32, 'the admin token was created');
  t.match(out.stdout, /studio at http:\/\/127\.0\.0\.1:\d+\//, 'the studio address is printed');
  t.notOk(out.stdout.includes(token), 'the admin token is not on stdout');
  t.notOk(out.stderr.includes(token), 'nor on stderr');
  t.notMatch(out.stdout + out.stderr, /#token=/, 'no login URL in the output');
  const file = path.join(home, 'studio-login-url');
  t.ok(out.stdout.includes(file), 'the output names the file that holds the login URL');
  const st = fs.statSync(file);
  t.equal(st.mode & 0o777, 0o600, 'the login URL file is mode 0600');
  t.match(fs.readFileSync(file, 'utf8'), new RegExp(`^http://127\\.0\\.0\\.1:\\d+/#token=${token}\\n$`), 'the file holds the login URL');

  // A later start, still not a terminal: the file is rewritten (current port), the token stays out of stdout.
  fs.chmodSync(file, 0o644);
  const again = await startOnce(process.execPath, [bin, ...startArgs(home)]);
  t.notOk(again.stdout.includes(token), 'a later start does not print the token either');
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'the rewritten file is mode 0600 again');
});

t.test('stdout is a terminal: the login URL is shown there', async (t) => {
  const script = ['/usr/bin/script', '/bin/script'].find((p) => fs.existsSync(p));
  if (!script) {
    t.fail('script(1) from util-linux is needed to give airlock start a pseudo-terminal');
    return;
  }
  const home = tempDir(t, 'airlock-login-tty-');
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = [process.execPath, bin, ...startArgs(home)].map(quote).join(' ');
  // script -q -e -c CMD /dev/null: CMD runs with a pty as its stdin/stdout/stderr; script copies
  // what it writes to our pipe.
  const out = await startOnce(script, ['-q', '-e', '-c', cmd, '/dev/null']);
  const token = fs.readFileSync(path.join(home, 'studio-token'), 'utf8').trim();
  t.ok(out.stdout.includes(`#token=${token}`), 'the login URL with the token reaches the terminal');
  t.notOk(fs.existsSync(path.join(home, 'studio-login-url')), 'no login URL file is written');
});

/** A listener on 127.0.0.1 that answers every request with `answer` (and a session cookie) and records what it was sent. */
async function recordingListener(t: Test, answer: string): Promise<{ received: string[]; port: number }> {
  const http = await import('node:http');
  const received: string[] = [];
  const listener = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push(`${req.method} ${req.url} ${JSON.stringify(req.headers)} ${body}`);
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'airlock_session=x' }).end(answer);
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  t.teardown(() => listener.close());
  return { received, port: (listener.address() as import('node:net').AddressInfo).port };
}

/** The real CLI on state folder `home`, with `env`: its exit code and what it printed. */
async function cliIn(home: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args, '--home', home], { env, timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` }));
  });
}

// The CLI logs in to the running studio with the admin token (`airlock approvals`, `limits`,
// `sessions`). Before, it posted the token to the configured or default studio address
// (127.0.0.1:8081) even when no Airlock ran there — so whoever listened on that port (another
// user, an agent run as a separate user, as docs/sandbox.md advises without namespaces) received
// the token whenever a person listed approvals with Airlock stopped or started without a studio.
// Must hold: the token goes only to the studio of the Airlock running on that state folder (its
// runtime.json) or to an address the person named (--studio, AIRLOCK_STUDIO); otherwise the CLI
// reads the state files and sends nothing.
t.test('the CLI never sends the admin token to an address no running Airlock holds', async (t) => {
  const { ensureAdminToken } = await import('../../studio/auth.ts');
  const home = tempDir(t, 'airlock-token-');
  const token = ensureAdminToken(home).token;
  const { received, port } = await recordingListener(t, '{"csrf":"x","approvals":[]}');
  // The studio address from config.json (the same path as the default 127.0.0.1:8081, on a port
  // this test may use); no Airlock runs on this state folder.
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ studio: `127.0.0.1:${port}` }));
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.AIRLOCK_STUDIO;
  for (const args of [['approvals', 'list'], ['limits'], ['sessions', 'list']]) {
    const r = await cliIn(home, args, env);
    t.notOk(r.out.includes(token), `${args.join(' ')}: the token is not printed`);
  }
  t.notOk(received.some((r) => r.includes(token)), 'the listener on the configured address never received the token');
  t.same(received, [], 'nothing was sent to it at all');
});

// Twenty-ninth pass: an address the person "named" may not be one they chose — `AIRLOCK_STUDIO`
// planted in an environment file their shell loads (a project's `.envrc`), a `--studio` in a
// script — and the CLI posted the admin token to whatever answered there. Now the studio proves
// it holds the token over the CLI's nonce before the CLI proves the same: the token never leaves.
t.test('the CLI never sends the admin token, even to an address named by --studio or AIRLOCK_STUDIO (twenty-ninth pass)', async (t) => {
  const { ensureAdminToken } = await import('../../studio/auth.ts');
  const home = tempDir(t, 'airlock-token-named-');
  const token = ensureAdminToken(home).token;
  // Answers every request as a studio would, whatever it is sent.
  const { received, port } = await recordingListener(t, '{"ok":true,"csrf":"x","server_nonce":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","proof":"x","approvals":[]}');
  const bare: NodeJS.ProcessEnv = { ...process.env };
  delete bare.AIRLOCK_STUDIO;
  for (const [what, args, env] of [
    ['--studio', ['approvals', 'list', '--studio', `127.0.0.1:${port}`], bare],
    ['AIRLOCK_STUDIO', ['approvals', 'approve', 'ap_0123456789abcdef'], { ...bare, AIRLOCK_STUDIO: `http://127.0.0.1:${port}` }],
  ] as const) {
    const r = await cliIn(home, [...args], env);
    t.not(r.code, 0, `${what}: the command fails`);
    t.match(r.out, /does not hold the admin token/, `${what}: saying the studio there does not hold the token`);
  }
  t.ok(received.length > 0, 'the listener was asked');
  t.notOk(received.some((r) => r.includes(token)), 'it never received the token');
  t.notOk(received.some((r) => r.includes('/api/approvals')), 'nor any call past the login');
});

t.test('property: a login proof holds only for its token, label, nonces and one use (twenty-ninth pass)', async (t) => {
  const fc = (await import('fast-check')).default;
  const { CLI_PROOF, STUDIO_PROOF, LoginChallenges, loginNonce, loginProof } = await import('../../studio/auth.ts');
  const nonce = fc.stringMatching(/^[A-Za-z0-9_-]{22,40}$/);
  const token = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
  fc.assert(fc.property(token, token, nonce, nonce, (a, b, c, s) => {
    const studio = loginProof(a, STUDIO_PROOF, c, s);
    if (!loginNonce(c) || !loginNonce(s)) return false;
    // The studio's answer is never a CLI's proof (an impostor cannot relay it), another token's never matches.
    return studio !== loginProof(a, CLI_PROOF, c, s) && (a === b) === (studio === loginProof(b, STUDIO_PROOF, c, s));
  }), { numRuns: 40 });
  const challenges = new LoginChallenges(4);
  const given = challenges.give('c'.repeat(22));
  t.notOk(challenges.take('d'.repeat(22), given), 'a challenge given for another client nonce is refused');
  t.notOk(challenges.take('c'.repeat(22), given), 'and spent by that try');
  const again = challenges.give('c'.repeat(22));
  t.ok(challenges.take('c'.repeat(22), again), 'its own client takes it once');
  t.notOk(challenges.take('c'.repeat(22), again), 'once only');
  for (const bad of ['', 'short', 'x'.repeat(129), 'a'.repeat(21) + '!', 'a'.repeat(30) + '\n']) t.notOk(loginNonce(bad), `not a nonce: ${JSON.stringify(bad.slice(0, 24))}`);
});
