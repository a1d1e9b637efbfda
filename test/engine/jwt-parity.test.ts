// OPA's JSON Web Token builtins, run by Airlock in JavaScript (engine/go-jwt.ts), must answer as
// the `opa` binary does: tokens of every algorithm OPA knows, signed with real keys (RSA, the three
// NIST curves, Ed25519, HMAC secrets), given with every key form (PEM public key, X.509
// certificate, JWK, JWK sets with and without kid and alg, a private JWK), tampered, nested,
// malformed, and checked under constraints (iss, aud, exp, nbf, alg, time). (A non-string `iss` or
// `cty` crashes the opa binary itself, a Go panic: not generated; Airlock makes it undefined.)
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { makeBuiltins } from '../../engine/builtins.ts';
import { agreesWithOpa } from './opa-oracle.ts';

const seed = process.env.AIRLOCK_FUZZ_SEED ? Number(process.env.AIRLOCK_FUZZ_SEED) : Date.now() % 2 ** 31;
const runs = Number(process.env.AIRLOCK_FUZZ_RUNS) || 300;

const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const otherRsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = { ES256: crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }), ES384: crypto.generateKeyPairSync('ec', { namedCurve: 'P-384' }), ES512: crypto.generateKeyPairSync('ec', { namedCurve: 'P-521' }) };
const ed = crypto.generateKeyPairSync('ed25519');
const secrets = ['s3cret', 'other'];

/** A self-signed certificate for a key (OpenSSL: Node makes none). */
function certificate(key: crypto.KeyObject): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-jwt-'));
  try {
    fs.writeFileSync(path.join(dir, 'key.pem'), key.export({ type: 'pkcs8', format: 'pem' }));
    return execFileSync('openssl', ['req', '-x509', '-key', path.join(dir, 'key.pem'), '-subj', '/CN=jwt', '-days', '1'], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const spki = (k: crypto.KeyObject): string => k.export({ type: 'spki', format: 'pem' }) as string;
const jwk = (k: crypto.KeyObject, extra: Record<string, string> = {}): Record<string, unknown> => ({ ...k.export({ format: 'jwk' }), ...extra });
// Each algorithm's right keys in every form, then keys of other kinds, other keys and broken ones.
const rsaForms = [spki(rsa.publicKey), certificate(rsa.privateKey), `${spki(rsa.publicKey)}\n`, `junk before\n${spki(rsa.publicKey)}`,
  JSON.stringify(jwk(rsa.publicKey)), JSON.stringify(jwk(rsa.publicKey, { alg: 'RS256', kid: 'r1' })), JSON.stringify(jwk(rsa.publicKey, { alg: 'PS256' })),
  JSON.stringify(jwk(rsa.privateKey, { kid: 'r1' })), JSON.stringify({ keys: [jwk(otherRsa.publicKey, { kid: 'r1' }), jwk(rsa.publicKey, { kid: 'r2' })] }),
  JSON.stringify({ keys: [jwk(otherRsa.publicKey, { kid: 'x', alg: 'RS256' }), jwk(rsa.publicKey, { alg: 'RS256' }), jwk(ec.ES256.publicKey, { alg: 'ES256' })] })];
const rightForms: Record<string, string[]> = {
  RS: rsaForms, PS: rsaForms,
  ES256: [spki(ec.ES256.publicKey), JSON.stringify(jwk(ec.ES256.publicKey, { kid: 'e1' })), JSON.stringify({ keys: [jwk(otherRsa.publicKey, { kid: 'e1' }), jwk(ec.ES256.publicKey, { alg: 'ES256' })] })],
  ES384: [certificate(ec.ES384.privateKey), JSON.stringify(jwk(ec.ES384.publicKey))],
  ES512: [spki(ec.ES512.publicKey), JSON.stringify(jwk(ec.ES512.publicKey, { alg: 'ES512' }))],
  EdDSA: [spki(ed.publicKey), JSON.stringify(jwk(ed.publicKey, { alg: 'EdDSA' })), JSON.stringify(jwk(ed.privateKey))],
  HS: [JSON.stringify({ kty: 'oct', k: Buffer.from('s3cret').toString('base64url') })],
};
const otherForms = [spki(otherRsa.publicKey), `junk${spki(rsa.publicKey)}`, JSON.stringify({ keys: [jwk(rsa.publicKey, { alg: 'RSA-OAEP' })] }), JSON.stringify({ keys: [] }), 'not a key', '{"kty": "RSA"}',
  `${spki(rsa.publicKey)}\n\n`, `${spki(rsa.publicKey)}${spki(otherRsa.publicKey)}`];
const keyForms = [...new Set([...Object.values(rightForms).flat(), ...otherForms])];
const formsFor = (alg: string): string[] => rightForms[alg] ?? rightForms[alg.slice(0, 2)]!;

const b64 = (v: unknown): string => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function sign(alg: string, data: string): Buffer {
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('HS')) return crypto.createHmac(hash, secrets[0]!).update(data).digest();
  if (alg.startsWith('RS')) return crypto.sign(hash, Buffer.from(data), rsa.privateKey);
  if (alg.startsWith('PS')) return crypto.sign(hash, Buffer.from(data), { key: rsa.privateKey, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: crypto.constants.RSA_PSS_SALTLEN_DIGEST });
  if (alg.startsWith('ES')) return crypto.sign(hash, Buffer.from(data), { key: ec[alg as keyof typeof ec].privateKey, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA') return crypto.sign(null, Buffer.from(data), ed.privateKey);
  return Buffer.alloc(0);
}

function token(header: Record<string, unknown>, payload: unknown, signAs = String(header.alg)): string {
  const data = `${b64(header)}.${typeof payload === 'string' ? b64(payload) : b64(payload)}`;
  return `${data}.${sign(signAs, data).toString('base64url')}`;
}

const algs = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'HS256', 'HS384', 'HS512'];
const claims = fc.record({ iss: fc.constantFrom('me', 'me', 'them'), aud: fc.constantFrom('api', 'api', ['api', 'x'], ['x'], 3), exp: fc.constantFrom(2000, 2000, 1000, 1500.5, '2000'),
  nbf: fc.constantFrom(0, 1000, 1600, 1800), sub: fc.constantFrom('a', 'é😀') }, { requiredKeys: ['sub'] });
const headerArb = fc.record({ alg: fc.constantFrom(...algs), kid: fc.constantFrom('r1', 'r2', 'e1', 'x'), typ: fc.constantFrom('JWT', 'at+jwt'), crit: fc.constantFrom(['exp'], ['kid'], ['x5t'], []), x5t: fc.constant('q') }, { requiredKeys: ['alg'] });
/** Tokens signed as their header says (mostly `alg`), signed otherwise, tampered, nested, or malformed. */
const tokenArb = (alg?: string): fc.Arbitrary<string> => {
  const header = alg ? headerArb.map((h) => ({ ...h, alg })) : headerArb;
  return fc.oneof(
    { weight: 8, arbitrary: fc.tuple(header, claims).map(([h, c]) => token(h, c)) },
    fc.tuple(header, claims, fc.constantFrom(...algs)).map(([h, c, other]) => token(h, c, other)),
    fc.tuple(header, claims, fc.integer({ min: 0, max: 400 })).map(([h, c, i]) => {
      const tok = token(h, c);
      const k = i % tok.length;
      return tok.slice(0, k) + (tok[k] === 'A' ? 'B' : 'A') + tok.slice(k + 1);
    }),
    // Nested: a token whose payload is a token (cty JWT), quoted as jwt.io quotes it or not.
    fc.tuple(header, claims, fc.constantFrom('JWT', 'jwt'), fc.boolean()).map(([h, c, cty, quoted]) => {
      const inner = token(h, c);
      return token({ alg: h.alg, cty }, quoted ? `"${inner}"` : inner);
    }),
    fc.constantFrom('a.b', 'a.b.c.d', 'e30.e30.', 'e30.e30.YWJj', `${b64({ alg: 'none' })}.${b64({ sub: 'x' })}.`, `${b64({ alg: 'HS256', enc: 'A256GCM' })}.e30.`,
      `${b64({ alg: 'HS256' })}.W10.`, `${b64({ alg: 'HS256' })}.e30.Y`, `${b64({ alg: 'HS256' })}=.e30.`, 'x'),
  );
};
/** The right key for the token's algorithm most of the time. */
const keyFor = (alg: string): fc.Arbitrary<string> => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...formsFor(alg)) }, fc.constantFrom(...keyForms));
const constraintsFor = (alg: string): fc.Arbitrary<Record<string, unknown>> => fc.record({
  key: alg.startsWith('HS')
    ? fc.oneof({ weight: 3, arbitrary: fc.constant({ secret: secrets[0] }) }, fc.constantFrom(...secrets.slice(1), '').map((secret) => ({ secret })), keyFor(alg).map((cert) => ({ cert })))
    : fc.oneof({ weight: 3, arbitrary: keyFor(alg).map((cert) => ({ cert })) }, fc.constantFrom(...secrets).map((secret) => ({ secret }))),
  alg: fc.constantFrom(alg, alg, 'RS256'), iss: fc.constantFrom('me', 'me', 'them'), aud: fc.constantFrom('api', 'api', 'x'),
  time: fc.oneof({ weight: 4, arbitrary: fc.constant(1800e9) }, fc.constantFrom(1200e9, 1500.5e9, 2500e9, -1, '1')),
}, { requiredKeys: ['key', 'time'] }).map(({ key, ...rest }) => ({ ...key, ...rest }));
const decodeVerifyCase = fc.constantFrom(...algs).chain((alg) => fc.tuple(tokenArb(alg), constraintsFor(alg)));

t.test('io.jwt builtins agree with OPA\'s own on generated tokens, keys and constraints', async (t) => {
  const cases: Record<string, unknown[][]> = {
    'io.jwt.decode': fc.sample(tokenArb(), { numRuns: runs, seed }).map((x) => [x]),
    'io.jwt.decode_verify': fc.sample(decodeVerifyCase, { numRuns: runs * 2, seed }),
  };
  for (const alg of algs) {
    const name = `io.jwt.verify_${alg.toLowerCase()}`;
    cases[name] = fc.sample(fc.tuple(tokenArb(alg), alg.startsWith('HS') ? fc.constantFrom(...secrets) : keyFor(alg)), { numRuns: Math.ceil(runs / 3), seed });
  }
  agreesWithOpa(t, cases, seed);
  // Not a test of nothing: valid tokens are among the cases, for every verifying builtin.
  const custom = makeBuiltins({ nowNs: () => 0 });
  for (const [name, list] of Object.entries(cases).filter(([n]) => n !== 'io.jwt.decode')) {
    const valid = list.filter((args) => {
      const r = custom[name]!(...args);
      return r === true || (Array.isArray(r) && r[0] === true);
    }).length;
    t.ok(valid > 0, `${name}: ${valid} of ${list.length} cases verify`);
  }
});
