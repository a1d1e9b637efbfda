// Credentials go only to destinations the user configured. Anyone can create a Supabase project
// or a Neon endpoint, so with the default policy an agent that sends a request (with no key at
// all) to an attacker's project must not make Airlock inject the user's key there. A real HTTPS
// origin on port 443 stands in for both the user's project and the attacker's (--resolve pins the
// names to it); it records every byte it gets, so the test proves the key never reached it under
// the attacker's name. Positive controls: the configured project and endpoint do get their keys.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { isProblem, startTestAirlock, tempDir, upstreamCa, viaProxy } from './helpers.ts';
import { upstreamOn443 } from './loopback-443.ts';

process.env.AIRLOCK_MASTER_KEY ??= '7b'.repeat(32);
const KEY = 'eyJhbGciOiJIUzI1NiJ9.SUPABASE_SERVICE_ROLE_CANARY.0123456789abcdef';
const CONN = 'postgresql://owner:NEON_PASSWORD_CANARY_42@ep-own-123456.us-east-2.aws.neon.tech/app';
const CF = 'CLOUDFLARE_TOKEN_CANARY_0123456789abcdefghij';
const own = 'ownproject0123456789';
const attacker = 'attackerproject01234';

const ca = await upstreamCa(t);
const origin = await upstreamOn443(t, { tlsCa: ca });
if (!origin) {
  t.pass('skipped: binding port 443 on a loopback address needs root');
} else {
  // The default policy, configured the way docs/policies.md tells a user to.
  const policy = tempDir(t, 'airlock-rego-');
  fs.cpSync(path.resolve(import.meta.dirname, '..', '..', 'rego'), policy, { recursive: true });
  const dataFile = path.join(policy, 'config', 'data.json');
  const data = JSON.parse(fs.readFileSync(dataFile, 'utf8')) as { services: Record<string, Record<string, unknown>> };
  data.services.supabase!.projects = [own];
  data.services.neon!.endpoints = ['ep-own-123456.us-east-2.aws.neon.tech'];
  data.services.cloudflare!.accounts = ['0123456789abcdef0123456789abcdef'];
  fs.writeFileSync(dataFile, JSON.stringify(data));
  const names = [`${own}.supabase.co`, `${attacker}.supabase.co`, `${attacker}.supabase.in`, 'api.supabase.com',
    'ep-own-123456.us-east-2.aws.neon.tech', 'ep-attacker-999999.us-east-2.aws.neon.tech', 'api.cloudflare.com'];
  const a = await startTestAirlock(t, {
    policy, secrets: { supabase_service_key: KEY, neon_connection_string: CONN, cloudflare_api_token: CF },
    resolve: names.map((n) => `${n}=${origin.host}`), allowPrivate: [`${origin.host}:443`], upstreamCa: [ca.files.cert],
  });
  const canaries = [KEY, CONN, 'NEON_PASSWORD_CANARY_42', CF];
  const seenBy = (host: string): string => origin.received.filter((r) => r.headers.host === host).map((r) => JSON.stringify(r)).join('\n');

  t.test('with the policy as shipped (no project configured), no Supabase project or Neon endpoint gets a key', async (t) => {
    const shipped = await startTestAirlock(t, {
      policy: path.resolve(import.meta.dirname, '..', '..', 'rego'), secrets: { supabase_service_key: KEY, neon_connection_string: CONN },
      resolve: names.map((n) => `${n}=${origin.host}`), allowPrivate: [`${origin.host}:443`], upstreamCa: [ca.files.cert],
    });
    const before = origin.received.length;
    // A read: allowed by the effect rules, so only the destination check stands between the key and the attacker.
    const s = await viaProxy(shipped.port, `https://${attacker}.supabase.co/rest/v1/secrets?select=*`, { auth: shipped.auth });
    t.equal(s.status, 403, 'an attacker\'s project: refused');
    t.match(s.body, /services\.supabase\.projects/, 'saying what to configure');
    const n = await viaProxy(shipped.port, 'https://ep-attacker-999999.us-east-2.aws.neon.tech/sql', { auth: shipped.auth, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"select 1","params":[]}' });
    t.equal(n.status, 403, 'an attacker\'s Neon endpoint: refused');
    t.equal(origin.received.length, before, 'the origin received nothing');
    t.same(canaries.filter((c) => JSON.stringify(origin.received.slice(before)).includes(c)), [], 'and no key');
  });

  t.test('an attacker\'s Supabase project gets neither the request nor the key', async (t) => {
    for (const [url, opts] of [
      [`https://${attacker}.supabase.co/rest/v1/anything`, {}],
      [`https://${attacker}.supabase.co/functions/v1/collect`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"hi":1}' }],
      [`https://${attacker}.supabase.co/rest/v1/t`, { headers: { apikey: a.placeholders.supabase_service_key! } }],
      [`https://${attacker}.supabase.in/rest/v1/anything`, {}],
      [`https://${own}.${attacker}.supabase.co/rest/v1/todos`, {}],
    ] as Array<[string, { method?: string; headers?: Record<string, string>; body?: string }]>) {
      const r = await viaProxy(a.port, url, { auth: a.auth, ...opts });
      t.equal(r.status, 403, `${url}: refused`);
      t.ok(isProblem(r), 'problem+json');
      t.match(r.body, /services\.supabase\.projects/, 'the refusal says what to configure');
    }
    t.equal(seenBy(`${attacker}.supabase.co`), '', 'the attacker\'s project received nothing');
    t.equal(seenBy(`${attacker}.supabase.in`), '');
  });

  t.test('the Management API does not act on an unconfigured project', async (t) => {
    const r = await viaProxy(a.port, `https://api.supabase.com/v1/projects/${attacker}/api-keys`, { auth: a.auth });
    t.equal(r.status, 403);
    t.match(r.body, /supabase\.project_not_allowed/);
  });

  t.test('an attacker\'s Neon endpoint gets no connection string; a Cloudflare account nobody named gets no token', async (t) => {
    const n = await viaProxy(a.port, 'https://ep-attacker-999999.us-east-2.aws.neon.tech/sql', { auth: a.auth, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"select 1","params":[]}' });
    t.equal(n.status, 403);
    t.match(n.body, /services\.neon\.endpoints/);
    const c = await viaProxy(a.port, 'https://api.cloudflare.com/client/v4/accounts/ffffffffffffffffffffffffffffffff/workers/scripts', { auth: a.auth });
    t.equal(c.status, 403);
    t.match(c.body, /services\.cloudflare\.accounts/);
    t.equal(seenBy('ep-attacker-999999.us-east-2.aws.neon.tech'), '');
    t.notOk(origin.received.some((r) => r.url.includes('ffffffffffffffffffffffffffffffff')), 'the other account was never asked');
  });

  t.test('positive controls: the configured project, endpoint and account get their keys', async (t) => {
    const s = await viaProxy(a.port, `https://${own}.supabase.co/rest/v1/todos?select=id`, { auth: a.auth });
    t.equal(s.status, 200, 'forwarded');
    const got = origin.received.find((r) => r.headers.host === `${own}.supabase.co`);
    t.equal(got?.headers.apikey, KEY, 'the real key reached the configured project');
    t.notOk(s.body.includes(KEY), 'and was scrubbed from the echo');
    const n = await viaProxy(a.port, 'https://ep-own-123456.us-east-2.aws.neon.tech/sql', { auth: a.auth, method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"select 1","params":[]}' });
    t.equal(n.status, 200);
    t.equal(origin.received.find((r) => r.headers.host === 'ep-own-123456.us-east-2.aws.neon.tech')?.headers['neon-connection-string'], CONN);
    const c = await viaProxy(a.port, 'https://api.cloudflare.com/client/v4/accounts/0123456789abcdef0123456789abcdef/workers/scripts', { auth: a.auth });
    t.equal(c.status, 200);
    t.equal(origin.received.find((r) => r.headers.host === 'api.cloudflare.com')?.headers.authorization, `Bearer ${CF}`);
  });

  t.test('no canary ever reached the origin under a name the user did not configure', async (t) => {
    const configured = new Set([`${own}.supabase.co`, 'ep-own-123456.us-east-2.aws.neon.tech', 'api.cloudflare.com']);
    for (const r of origin.received) {
      if (configured.has(String(r.headers.host)) && !r.url.includes('ffffffff')) continue;
      const text = JSON.stringify(r);
      t.same(canaries.filter((c) => text.includes(c)), [], `${r.headers.host}${r.url}`);
    }
  });
}
