// Where the shared stores' URLs come from: --store/--limits over config.json over AIRLOCK_STORE /
// AIRLOCK_LIMITS; a URL of the wrong kind is refused under the name the user wrote.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { resolveConfig } from '../../runtime/config.ts';
import { tempDir } from '../temp-dir.ts';

t.test('store and limits: flag, config.json, environment', async (t) => {
  const home = tempDir(t);
  const saved = { ...process.env };
  t.teardown(() => {
    for (const k of ['AIRLOCK_STORE', 'AIRLOCK_LIMITS']) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  });
  delete process.env.AIRLOCK_STORE;
  delete process.env.AIRLOCK_LIMITS;
  t.equal(resolveConfig(home, {}).store, undefined, 'embedded by default');
  process.env.AIRLOCK_STORE = 'postgres://env/db';
  process.env.AIRLOCK_LIMITS = 'redis://env:6379';
  t.match(resolveConfig(home, {}), { store: 'postgres://env/db', limits: 'redis://env:6379' });
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ store: 'postgresql://file/db' }));
  t.equal(resolveConfig(home, {}).store, 'postgresql://file/db', 'config.json over the environment');
  t.equal(resolveConfig(home, { store: 'postgres://flag/db' }).store, 'postgres://flag/db', 'the flag over both');
  t.throws(() => resolveConfig(home, { store: 'mysql://x' }), /--store must be a postgres:\/\/ URL/);
  process.env.AIRLOCK_LIMITS = 'postgres://oops';
  t.throws(() => resolveConfig(home, {}), /AIRLOCK_LIMITS must be a redis:\/\/ URL/);
  fs.writeFileSync(path.join(home, 'config.json'), JSON.stringify({ limits: 'http://x' }));
  t.throws(() => resolveConfig(home, {}), /config\.json: "limits" has the wrong type or form: expected a Redis URL/);
});
