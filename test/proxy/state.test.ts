// The proxy's state: agent store (hashed tokens, several per agent, TTL, revocation, changes made by
// another process), the audit log reader, the local CA files, and the CLI commands over them.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { AgentStore, parseProxyAuthorization } from '../../state/agents.ts';
import { AuditLog, readAudit } from '../../state/audit-log.ts';
import { CertificateAuthority } from '../../proxy/ca.ts';
import { resolveConfig } from '../../runtime/config.ts';
import { tempDir } from './helpers.ts';

const run = promisify(execFile);
const cli = path.resolve('bin/airlock.js');

t.test('agent store: hashed tokens, several per agent, TTL and revocation', async (t) => {
  const home = tempDir(t);
  const store = await AgentStore.open(home);
  const first = await store.add('bot', { labels: { env: 'dev' } });
  t.equal(Buffer.from(first.token, 'base64url').length, 32, '256-bit token');
  const file = fs.readFileSync(store.file, 'utf8');
  t.notOk(file.includes(first.token), 'token not stored in clear');
  t.ok(file.includes(crypto.createHash('sha256').update(first.token).digest('hex')), 'its sha256 is');
  t.equal(fs.statSync(store.file).mode & 0o777, 0o600);
  const who = await store.authenticate('bot', first.token);
  t.same(who, { id: 'bot', labels: { env: 'dev' }, created: who?.created }, 'the agent, with its registration time (grants and approvals are bound to it)');
  t.ok(Number.isFinite(Date.parse(String(who?.created))), 'created is a time');
  t.equal(await store.authenticate('bot', 'nope'), undefined);
  t.equal(await store.authenticate('nobody', first.token), undefined);
  t.equal(await store.authenticate('__proto__', first.token), undefined);

  const run1 = await store.issueToken('bot', { ttlMs: 60_000, label: 'run 1' });
  t.ok(run1.expires);
  t.ok(await store.authenticate('bot', run1.token));
  t.ok(await store.authenticate('bot', first.token), 'the first token still works');
  const short = await store.issueToken('bot', { ttlMs: 1 });
  await new Promise((r) => setTimeout(r, 5));
  t.equal(await store.authenticate('bot', short.token), undefined, 'an expired token is refused');
  t.ok(await store.revokeToken('bot', run1.id));
  t.equal(await store.authenticate('bot', run1.token), undefined, 'a revoked token is refused');
  t.notOk(await store.revokeToken('bot', run1.id));
  await t.rejects(store.add('bot'), /already exists/);
  await t.rejects(store.add('bad name'), /invalid agent name/);
  await t.rejects(store.issueToken('ghost'), /no agent/);
  t.same(store.list().map((a) => [a.name, a.tokens.length]), [['bot', 2]]);
  t.notOk(JSON.stringify(store.list()).includes('hash'), 'list never shows hashes');

  // Another process (the CLI) adds and removes agents while the proxy runs.
  const other = await AgentStore.open(home);
  const added = await other.add('late');
  t.ok(await store.authenticate('late', added.token), 'an agent added elsewhere works at once');
  await other.remove('bot');
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(await store.authenticate('bot', first.token), undefined, 'an agent removed elsewhere stops working');

  t.same(parseProxyAuthorization(`Basic ${Buffer.from('a:b:c').toString('base64')}`), { name: 'a', token: 'b:c' });
  t.equal(parseProxyAuthorization('Bearer x'), undefined);
  t.equal(parseProxyAuthorization(`Basic ${Buffer.from('nocolon').toString('base64')}`), undefined);
});

t.test('agent store: processes that mint tokens at the same moment (several airlock run at once) lose none and fail none', async (t) => {
  const home = tempDir(t);
  await (await AgentStore.open(home)).add('bot');
  // Each process, once all are loaded, mints five tokens: the writes overlap.
  const script = path.join(home, 'mint.mts');
  fs.writeFileSync(script, `import fs from 'node:fs';
import { AgentStore } from ${JSON.stringify(path.resolve('state/agents.ts'))};
const home = process.argv[2];
const store = await AgentStore.open(home);
fs.writeFileSync(home + '/ready-' + process.pid, '');
for (let i = 0; i < 3000 && fs.readdirSync(home).filter((f) => f.startsWith('ready-')).length < 4; i++) await new Promise((r) => setTimeout(r, 10));
const out = [];
for (let i = 0; i < 5; i++) out.push((await store.issueToken('bot', { label: String(i) })).token);
console.log(out.join(' '));
`);
  const runs = await Promise.allSettled(Array.from({ length: 4 }, () => run(process.execPath, ['--import=tsx', script, home], { timeout: 60_000 })));
  const failed = runs.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason).slice(0, 300));
  t.same(failed, [], 'no process failed (lowdb renaming a temp file another had renamed: ENOENT)');
  const tokens = runs.flatMap((r) => (r.status === 'fulfilled' ? r.value.stdout.trim().split(' ') : []));
  const store = await AgentStore.open(home);
  const kept = await Promise.all(tokens.map(async (tok) => (await store.authenticate('bot', tok)) !== undefined));
  t.equal(kept.filter(Boolean).length, 20, 'every one of the 20 tokens works: none was overwritten by another process\'s write');
  t.notOk(fs.existsSync(`${store.file}.lock`), 'the lock is gone');
});

t.test('audit log: append, stream with filters, torn lines skipped', async (t) => {
  const home = tempDir(t);
  const log = new AuditLog(home);
  const seen: string[] = [];
  const off = log.onRecord((r) => seen.push(r.id));
  for (let i = 0; i < 5; i++) {
    log.append({ time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), id: `r${i}`, agent: i % 2 ? 'a' : 'b', host: i < 3 ? 'x.example' : 'y.example', outcome: 'forwarded' });
  }
  off();
  // The secrets module's redactor runs on every line, and listeners see the redacted record.
  log.redact = (line) => line.replaceAll('s3cret-value', '[redacted]');
  let heard = '';
  log.onRecord((r) => (heard = String(r.url)));
  log.append({ time: new Date(Date.UTC(2026, 0, 2)).toISOString(), id: 'r5', url: 'http://x.example/?k=s3cret-value', outcome: 'forwarded' });
  log.redact = undefined;
  await log.close();
  t.notOk(fs.readFileSync(log.file, 'utf8').includes('s3cret-value'));
  t.equal(heard, 'http://x.example/?k=[redacted]');
  fs.appendFileSync(log.file, '{"torn": ');
  t.same(seen, ['r0', 'r1', 'r2', 'r3', 'r4']);
  const ids = async (f: Parameters<typeof readAudit>[1]): Promise<string[]> => {
    const out: string[] = [];
    for await (const r of readAudit(log.file, f)) out.push(r.id);
    return out;
  };
  t.same(await ids({}), ['r0', 'r1', 'r2', 'r3', 'r4', 'r5']);
  t.same(await ids({ agent: 'a' }), ['r1', 'r3']);
  t.same(await ids({ until: '2026-01-02T00:00:00Z' }), ['r0', 'r1', 'r2', 'r3', 'r4']);
  t.same(await ids({ host: 'Y.example' }), ['r3', 'r4']);
  t.same(await ids({ since: '2026-01-01T00:01:00Z', until: '2026-01-01T00:03:00Z' }), ['r1', 'r2']);
  t.same(await ids({ limit: 2 }), ['r0', 'r1']);
  t.same(await ids({ outcome: 'denied' }), []);
  t.equal(fs.statSync(log.file).mode & 0o777, 0o600);
  // Restarted after the crash that tore the last line: the first record appended now is not glued to it.
  const again = new AuditLog(home);
  again.append({ time: new Date(Date.UTC(2026, 0, 3)).toISOString(), id: 'after-crash', outcome: 'forwarded' });
  await again.close();
  t.same(await ids({ since: '2026-01-02T00:00:00Z' }), ['r5', 'after-crash'], 'the first record after a torn line is kept');
});

t.test('local CA: created once, key private, leaves cached and valid for the host', async (t) => {
  const home = tempDir(t);
  const ca = await CertificateAuthority.open(home);
  t.equal(fs.statSync(ca.files.key).mode & 0o777, 0o600);
  const again = await CertificateAuthority.open(home);
  t.equal(again.certPem, ca.certPem, 'same CA on the next start');
  const [a, b] = await Promise.all([ca.contextFor('api.example.com'), ca.contextFor('api.example.com')]);
  t.equal(a, b, 'one leaf per host, cached');
  const { stdout } = await run('openssl', ['x509', '-noout', '-text', '-in', ca.files.cert]);
  t.match(stdout, /CA:TRUE/);
  t.match(stdout, /prime256v1|P-256/);
});

t.test('config file, flags win; CLI agent and ca commands', async (t) => {
  const home = tempDir(t);
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ proxy: '127.0.0.1:9999', bodyCap: 10, allowPrivate: ['10.0.0.0/8'] }));
  const c = resolveConfig(home, { bodyCap: 20 });
  t.equal(c.proxy, '127.0.0.1:9999');
  t.equal(c.bodyCap, 20, 'flag wins');
  t.same(c.allowPrivate, ['10.0.0.0/8']);
  t.equal(c.policy, 'rego');
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ porxy: 'typo' }));
  t.throws(() => resolveConfig(home, {}), /unknown setting "porxy"/);
  fs.rmSync(path.join(home, 'config.json'));

  const add = await run(process.execPath, [cli, 'agent', 'add', 'ci-bot', '--home', home, '--label', 'team=ci']);
  t.match(add.stdout, /^http:\/\/ci-bot:[A-Za-z0-9_-]{43}@127\.0\.0\.1:8080\n$/);
  // Uppercase HTTP_PROXY alone sends curl's http:// requests straight out: the hint names both spellings.
  t.match(add.stderr, 'use it as http_proxy and https_proxy (and their uppercase forms: curl reads only the lowercase http_proxy)');
  const token = /ci-bot:([^@]+)@/.exec(add.stdout)![1]!;
  const list = await run(process.execPath, [cli, 'agent', 'list', '--home', home]);
  t.match(list.stdout, /ci-bot\t1 token/);
  t.notOk(list.stdout.includes(token), 'list never prints tokens');
  const dup = await run(process.execPath, [cli, 'agent', 'add', 'ci-bot', '--home', home]).catch((e: { code: number; stderr: string }) => e);
  t.equal((dup as { code: number }).code, 1);
  t.match((dup as { stderr: string }).stderr, /^airlock: agent ci-bot already exists; its token was shown once, when it was added\. For a new one: airlock agent rm ci-bot && airlock agent add ci-bot /);
  const ca = await run(process.execPath, [cli, 'ca', 'path', '--home', home]);
  t.equal(ca.stdout, `${path.join(home, 'ca.pem')}\n`);
  t.ok(fs.existsSync(path.join(home, 'ca-key.pem')));
  const rm = await run(process.execPath, [cli, 'agent', 'rm', 'ci-bot', '--home', home]);
  t.match(rm.stdout, /removed agent ci-bot/);
  const rm2 = await run(process.execPath, [cli, 'agent', 'rm', 'ci-bot', '--home', home]).catch((e: { code: number }) => e);
  t.equal((rm2 as { code: number }).code, 1);
});
