// The encrypted secret store: values never on disk in clear, tampering detected, key rules enforced.
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { SecretStore, placeholderEnvironment, secretEnvironment, placeholderFor, listSecrets } from '../../state/secrets/index.ts';

const CANARY = 'canary-Zq7-SECRET-3f9a1c';

function withEnv(vars: Record<string, string | undefined>, t: Test): void {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  t.teardown(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

t.test('set, reveal, list, remove with a key file; nothing in clear on disk', async (t) => {
  withEnv({ AIRLOCK_MASTER_KEY: undefined, AIRLOCK_MASTER_KEY_FILE: undefined }, t);
  const home = t.testdir();
  const store = await SecretStore.open(home);
  const info = await store.set('github', CANARY, { env: ['GITHUB_TOKEN', 'GH_TOKEN'], hosts: ['api.github.com'] });
  t.match(info.placeholder, /^airlock-ph-github-[0-9a-f]{32}$/);
  t.equal(store.reveal('github'), CANARY);
  t.equal((fs.statSync(path.join(home, 'master.key')).mode & 0o777), 0o600);
  t.equal((fs.statSync(path.join(home, 'secrets.json')).mode & 0o777), 0o600);
  const disk = fs.readFileSync(path.join(home, 'secrets.json'), 'utf8');
  t.notOk(disk.includes(CANARY), 'value not stored in clear');
  t.notOk(disk.includes(Buffer.from(CANARY).toString('base64')), 'value not stored as base64');

  // A fresh process (new store object) decrypts it too; the placeholder survives an update.
  const again = await SecretStore.open(home);
  await again.unlock();
  t.equal(again.reveal('github'), CANARY);
  const updated = await again.set('github', 'other-value');
  t.equal(updated.placeholder, info.placeholder, 'placeholder stable across updates');
  t.same(updated.env, ['GITHUB_TOKEN', 'GH_TOKEN']);
  const rotated = await again.set('github', 'other-value', { rotatePlaceholder: true });
  t.not(rotated.placeholder, info.placeholder);

  t.same(await secretEnvironment(home), { GITHUB_TOKEN: rotated.placeholder, GH_TOKEN: rotated.placeholder });
  t.same(await secretEnvironment(home, { github: ['MY_GH'] }), { MY_GH: rotated.placeholder });
  t.equal(await placeholderFor(home, 'github'), rotated.placeholder);
  t.equal(await placeholderFor(home, 'nope'), undefined);
  t.notOk(JSON.stringify(await listSecrets(home)).includes('other-value'));
  t.throws(() => placeholderEnvironment([{ ...updated, env: ['BAD NAME'] }]), /invalid environment variable/);
  // One variable, one secret: refused when stored, and when a store written elsewhere already holds two.
  await t.rejects(again.set('GitHub-Token', 'x'), /secrets "github" and "GitHub-Token" are both exported as GITHUB_TOKEN: give one another variable/);
  t.throws(() => placeholderEnvironment([updated, { ...updated, name: 'other', env: ['GH_TOKEN'] }]), /secrets "github" and "other" are both exported as GH_TOKEN/);
  t.same(placeholderEnvironment([updated, { ...updated, name: 'other', env: ['GH_TOKEN'] }], { other: ['OTHER'] }), { GITHUB_TOKEN: updated.placeholder, GH_TOKEN: updated.placeholder, OTHER: updated.placeholder }, 'a run that renames one is fine');

  t.equal(await again.remove('github'), true);
  t.equal(await again.remove('github'), false);
  t.throws(() => again.reveal('github'), /no secret named/);
});

t.test('placeholders are unguessable and distinct', async (t) => {
  withEnv({ AIRLOCK_MASTER_KEY: undefined, AIRLOCK_MASTER_KEY_FILE: undefined }, t);
  const store = await SecretStore.open(t.testdir());
  const a = await store.set('a', 'x1');
  const b = await store.set('b', 'x1');
  t.not(a.placeholder.slice(-32), b.placeholder.slice(-32));
  await t.rejects(store.set('bad name', 'x'), /invalid secret name/);
  await t.rejects(store.set('empty', ''), /empty/);
  await t.rejects(store.set('e', 'x', { env: ['1X'] }), /invalid environment variable/);
});

t.test('key file with wider permissions is refused; missing key file is a clear error', async (t) => {
  withEnv({ AIRLOCK_MASTER_KEY: undefined, AIRLOCK_MASTER_KEY_FILE: undefined }, t);
  const home = t.testdir();
  const store = await SecretStore.open(home);
  await store.set('s', CANARY);
  fs.chmodSync(path.join(home, 'master.key'), 0o640);
  await t.rejects((await SecretStore.open(home)).unlock(), /permissions 640.*chmod 600/);
  fs.chmodSync(path.join(home, 'master.key'), 0o600);
  fs.renameSync(path.join(home, 'master.key'), path.join(home, 'moved.key'));
  await t.rejects((await SecretStore.open(home)).unlock(), /master key file .*master\.key is missing/);
  withEnv({ AIRLOCK_MASTER_KEY_FILE: path.join(home, 'moved.key') }, t);
  const s2 = await SecretStore.open(home);
  await s2.unlock();
  t.equal(s2.reveal('s'), CANARY);
});

t.test('AIRLOCK_MASTER_KEY: hex, base64, passphrase; wrong key is refused', async (t) => {
  const hex = 'ab'.repeat(32);
  for (const [label, key] of [['hex', hex], ['base64', Buffer.from(hex, 'hex').toString('base64')], ['passphrase', 'correct horse battery staple']] as const) {
    withEnv({ AIRLOCK_MASTER_KEY: key }, t);
    const home = t.testdir();
    const store = await SecretStore.open(home);
    await store.set('s', CANARY);
    t.notOk(fs.existsSync(path.join(home, 'master.key')), `${label}: no key file created`);
    const again = await SecretStore.open(home);
    await again.unlock();
    t.equal(again.reveal('s'), CANARY, `${label}: round trip`);
    withEnv({ AIRLOCK_MASTER_KEY: label === 'passphrase' ? 'wrong horse battery staple' : 'cd'.repeat(32) }, t);
    await t.rejects((await SecretStore.open(home)).unlock(), /cannot unlock secret store .*secrets\.json: wrong master key/, `${label}: wrong key`);
    withEnv({ AIRLOCK_MASTER_KEY: undefined }, t);
    await t.rejects((await SecretStore.open(home)).unlock(), /sealed with AIRLOCK_MASTER_KEY, which is not set/);
  }
  withEnv({ AIRLOCK_MASTER_KEY: 'short' }, t);
  await t.rejects((await SecretStore.open(t.testdir())).set('x', 'y'), /at least 12 characters/);
  withEnv({ AIRLOCK_MASTER_KEY: 'hex:abcd' }, t);
  await t.rejects((await SecretStore.open(t.testdir())).set('x', 'y'), /expected 32 bytes/);
});

t.test('tampered or corrupt store: clear error naming the file, file untouched', async (t) => {
  withEnv({ AIRLOCK_MASTER_KEY: 'ef'.repeat(32) }, t);
  const home = t.testdir();
  const file = path.join(home, 'secrets.json');
  const store = await SecretStore.open(home);
  await store.set('a', CANARY);
  await store.set('b', 'another-secret-value');
  const original = fs.readFileSync(file, 'utf8');

  // Swap the ciphertexts of two secrets: authenticated with name + placeholder, so it fails.
  const doc = JSON.parse(original);
  [doc.secrets.a.value, doc.secrets.b.value] = [doc.secrets.b.value, doc.secrets.a.value];
  fs.writeFileSync(file, JSON.stringify(doc));
  let s = await SecretStore.open(home);
  await s.unlock();
  t.throws(() => s.reveal('a'), new RegExp(`secret store ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt or was tampered with \\(secret "a" does not decrypt\\)`));

  // Flip a bit of a ciphertext.
  const flipped = JSON.parse(original);
  const ct = Buffer.from(flipped.secrets.a.value.ct, 'base64');
  ct[0]! ^= 1;
  flipped.secrets.a.value.ct = ct.toString('base64');
  fs.writeFileSync(file, JSON.stringify(flipped));
  s = await SecretStore.open(home);
  await s.unlock();
  t.throws(() => s.reveal('a'), /does not decrypt/);

  // Edit a placeholder (would redirect which placeholder unlocks the value).
  const edited = JSON.parse(original);
  edited.secrets.a.placeholder = 'airlock-ph-a-' + '0'.repeat(32);
  fs.writeFileSync(file, JSON.stringify(edited));
  s = await SecretStore.open(home);
  await s.unlock();
  t.throws(() => s.reveal('a'), /does not decrypt/);

  // Tampered wrapped key.
  const wrapped = JSON.parse(original);
  wrapped.wrap.key.tag = Buffer.alloc(16).toString('base64');
  fs.writeFileSync(file, JSON.stringify(wrapped));
  await t.rejects((await SecretStore.open(home)).unlock(), /cannot unlock secret store/);

  // Not JSON at all / wrong shape: refused at open, file left as it was.
  for (const junk of ['{"version":1, "secrets": ', '{"version":1,"wrap":null,"secrets":{"x y":{}}}', '[1,2]', '{"version":2}']) {
    fs.writeFileSync(file, junk);
    await t.rejects(SecretStore.open(home), new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), junk);
    t.equal(fs.readFileSync(file, 'utf8'), junk, 'corrupt file not overwritten');
  }
});

t.test('rekey: key file → env key → passphrase → key file; values and placeholders survive, old keys stop working', async (t) => {
  withEnv({ AIRLOCK_MASTER_KEY: undefined, AIRLOCK_MASTER_KEY_FILE: undefined }, t);
  const home = t.testdir();
  const store = await SecretStore.open(home);
  const info = await store.set('gh', CANARY);
  await store.set('db', 'second-value');
  const oldFile = fs.readFileSync(path.join(home, 'master.key'), 'utf8');
  const oldDisk = fs.readFileSync(path.join(home, 'secrets.json'), 'utf8');

  const envKey = '12'.repeat(32);
  await store.rekey({ env: envKey });
  t.not(JSON.parse(fs.readFileSync(path.join(home, 'secrets.json'), 'utf8')).secrets.gh.value.ct, JSON.parse(oldDisk).secrets.gh.value.ct, 're-encrypted');
  await t.rejects((await SecretStore.open(home)).unlock(), /sealed with AIRLOCK_MASTER_KEY, which is not set/, 'the key file no longer opens it');
  withEnv({ AIRLOCK_MASTER_KEY: envKey }, t);
  let s = await SecretStore.open(home);
  await s.unlock();
  t.equal(s.reveal('gh'), CANARY);
  t.equal(s.placeholderFor('gh'), info.placeholder, 'placeholder kept');

  await s.rekey({ env: 'passphrase:a long enough passphrase' });
  withEnv({ AIRLOCK_MASTER_KEY: envKey }, t);
  await t.rejects((await SecretStore.open(home)).unlock(), /wrong master key/, 'the previous env key no longer opens it');
  withEnv({ AIRLOCK_MASTER_KEY: 'a long enough passphrase' }, t);
  s = await SecretStore.open(home);
  await s.unlock();
  t.equal(s.reveal('db'), 'second-value');

  await s.rekey({ keyFile: true });
  withEnv({ AIRLOCK_MASTER_KEY: undefined }, t);
  t.not(fs.readFileSync(path.join(home, 'master.key'), 'utf8'), oldFile, 'a new key file');
  t.equal(fs.statSync(path.join(home, 'master.key')).mode & 0o777, 0o600);
  t.notOk(fs.existsSync(path.join(home, 'master.key.new')));
  s = await SecretStore.open(home);
  await s.unlock();
  t.equal(s.reveal('gh'), CANARY);
  await t.rejects(s.rekey({ env: 'short' }), /at least 12 characters/);
});
