// git's first try through a proxy carries no credentials (libcurl's "anyauth" learns the scheme from
// the 407, then retries with them). That round trip is protocol, not a failure: recorded as
// `auth-challenge`, left out of the per-request log and of replay's skipped list. Credentials that
// were offered and refused stay `unauthenticated`, logged and listed.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';
import { parseCaptureLine } from '../../offline/replay.ts';
import { auditRecords, httpUpstream, startProxy, tempDir } from './helpers.ts';

const run = promisify(execFile);
const lines: string[] = [];
const px = await startProxy(t, { log: (l) => lines.push(l) });
const up = await httpUpstream(t, (req, res) => {
  // Enough of git's smart HTTP for ls-remote: an empty ref advertisement.
  res.setHeader('content-type', 'application/x-git-upload-pack-advertisement');
  res.end('001e# service=git-upload-pack\n00000000');
});

t.test('git through the proxy: the bare first try is an auth-challenge, then git authenticates', async (t) => {
  const home = tempDir(t);
  const r = await run('git', ['-c', `http.proxy=${px.proxyUrl}`, 'ls-remote', `http://127.0.0.1:${up.port}/repo.git`], {
    timeout: 30_000, env: { ...process.env, HOME: home, GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' },
  }).catch((e: { stderr: string }) => e);
  void r;
  const records = await auditRecords(px.airlock);
  const mine = records.filter((x) => String(x.url).includes('/repo.git'));
  t.ok(mine.some((x) => x.outcome === 'auth-challenge' && x.status === 407), 'git\'s bare first try answered 407 and recorded as a challenge');
  t.ok(mine.some((x) => x.outcome === 'forwarded' && x.agent === px.agent), 'then git authenticated and went through');
  t.notOk(mine.some((x) => x.outcome === 'unauthenticated'), 'nothing recorded as an authentication failure');
  t.notOk(lines.some((l) => /repo\.git/.test(l) && / 407 /.test(l)), 'no 407 line in the log');
  t.ok(lines.some((l) => /repo\.git/.test(l) && /forwarded 200/.test(l)), 'the real request is logged');
});

t.test('wrong credentials are a failure: recorded, logged, listed by replay', async (t) => {
  const bad = px.proxyUrl.replace(px.token, 'wrong-token');
  const r = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-x', bad, `http://127.0.0.1:${up.port}/bad`]);
  t.equal(r.stdout, '407');
  const records = await auditRecords(px.airlock);
  t.ok(records.some((x) => String(x.url).endsWith('/bad') && x.outcome === 'unauthenticated'));
  t.ok(lines.some((l) => /\/bad → - unauthenticated 407/.test(l)), 'logged');

  const items = fs.readFileSync(px.airlock.audit.file, 'utf8').split('\n').map((l, i) => parseCaptureLine(l, `audit:${i + 1}`));
  const reasons = items.flatMap((x) => (x?.kind === 'skipped' ? [x.reason] : []));
  t.ok(reasons.some((x) => /outcome: unauthenticated/.test(x)), 'replay lists the real failure as skipped');
  t.notOk(reasons.some((x) => /auth-challenge/.test(x)), 'but not the challenge round trips');
});
