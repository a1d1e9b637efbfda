// OPA's JSON Web Token builtins (io.jwt.decode, io.jwt.verify_*, io.jwt.decode_verify) as OPA's Go
// runs them: base64url read as OPA's base64url.decode reads it (padding added, Go's strict decoder
// after), keys from a PEM certificate or public key or from a JWK or JWK set (kid and alg honoured
// as OPA honours them), Node's crypto for the signatures. Held to the `opa` binary over generated
// tokens in builtins-parity.test.ts. Encrypted tokens (JWE) are refused, as in OPA.
import crypto from 'node:crypto';
import { trimAny } from '../lib/text.ts';
import { goUtf8 } from './go-utf8.ts';
import { lookupTable } from '../lib/records.ts';

const ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512', 'EdDSA']);
// The curves Go's crypto/x509 and ecdsa read.
const CURVES = new Set(['prime256v1', 'secp384r1', 'secp521r1', 'secp224r1']);

/** OPA's base64url.decode: padding added when missing, then Go's base64.URLEncoding (line breaks skipped, padding exact). */
function base64Url(s: string, what: string): Buffer {
  let t = s;
  if (!t.endsWith('=')) {
    if (t.length % 4 === 1) throw new Error(`JWT ${what} had invalid encoding: illegal base64url string`);
    t += t.length % 4 === 2 ? '==' : t.length % 4 === 3 ? '=' : '';
  }
  const bare = t.replace(/[\r\n]/g, '');
  if (bare.length % 4 !== 0 || !/^[A-Za-z0-9_-]*(?:[A-Za-z0-9_-]==|[A-Za-z0-9_-]{2}=)?$/.test(bare)) {
    throw new Error(`JWT ${what} had invalid encoding: illegal base64 data`);
  }
  return Buffer.from(bare, 'base64url');
}

function jsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(goUtf8(bytes));
  } catch (err) {
    throw new Error(`${what}: invalid JSON: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${what}: decoded JSON type was not an Object`);
  return v as Record<string, unknown>;
}

interface Token {
  header: string;
  payload: string;
  signature: string;
}

function split(jwt: unknown): Token {
  if (typeof jwt !== 'string') throw new Error('operand 1 must be string');
  if (!jwt.includes('.')) throw new Error('encoded JWT had no period separators');
  const parts = jwt.split('.');
  if (parts.length !== 3) throw new Error(`encoded JWT must have 3 sections, found ${parts.length}`);
  return { header: parts[0]!, payload: parts[1]!, signature: parts[2]! };
}

function decodedHeader(t: Token): Record<string, unknown> {
  const h = jsonObject(base64Url(t.header, 'header'), 'bad JWT header');
  if ('enc' in h) throw new Error('JWT is a JWE object, which is not supported');
  return h;
}

interface Header {
  alg: string;
  kid: string;
  cty: string;
  valid: boolean;
}

/** OPA's parseTokenHeader: alg, kid, typ, cty must be strings; crit a list naming what must be understood. */
function readHeader(h: Record<string, unknown>): Header {
  const str = (k: string): string => {
    if (!(k in h)) return '';
    if (typeof h[k] !== 'string') throw new Error(`${k}: must be a string`);
    return h[k] as string;
  };
  const [alg, kid, cty] = [str('alg'), str('kid'), str('cty')];
  str('typ');
  let crit: Set<string> | undefined;
  if ('crit' in h) {
    if (!Array.isArray(h.crit)) throw new Error('crit: must be a list');
    crit = new Set(h.crit.filter((x): x is string => typeof x === 'string'));
    if (!crit.size) throw new Error('crit: must be a nonempty list');
  }
  const known = new Set(['alg', 'kid', 'typ', 'cty', 'crit']);
  const unknownCritical = Object.keys(h).some((k) => !known.has(k) && crit?.has(k));
  return { alg, kid, cty, valid: alg !== '' && !unknownCritical };
}

/** `io.jwt.decode`: [header, payload, signature as hex]; a `cty: JWT` header's payload decoded as the token. */
export function jwtDecode(jwt: unknown): unknown[] {
  const t = split(jwt);
  const header = decodedHeader(t);
  const payload = base64Url(t.payload, 'payload');
  if ('cty' in header) {
    if (typeof header.cty !== 'string') throw new Error('cty: must be a string');
    if (header.cty === 'JWT') return jwtDecode(trimAny(goUtf8(payload), `"'`));
  }
  const body = jsonObject(payload, 'JWT payload');
  return [header, body, base64Url(t.signature, 'signature').toString('hex')];
}

interface VerificationKey {
  key: crypto.KeyObject | Buffer;
  /** A private key: OPA's io.jwt.verify_* take only public ones. */
  isPrivate: boolean;
  alg: string;
  kid: string;
}

/** Go's pem.Decode, as far as OPA relies on it: the first block's type and bytes, and what follows its END line. */
function firstPemBlock(text: string): { type: string; der: Buffer; rest: string } | undefined {
  // At the start of the text or of a line.
  const begin = text.startsWith('-----BEGIN ') ? 0 : text.indexOf('\n-----BEGIN ') + 1;
  if (begin <= 0 && !text.startsWith('-----BEGIN ')) return undefined;
  const typeEnd = text.indexOf('-----', begin + 11);
  const lineEnd = text.indexOf('\n', begin);
  if (typeEnd < 0 || lineEnd < 0 || lineEnd < typeEnd) return undefined;
  const type = text.slice(begin + 11, typeEnd);
  const endLine = `-----END ${type}-----`;
  const end = text.indexOf(endLine, lineEnd);
  if (end < 0) return undefined;
  const afterEnd = text.indexOf('\n', end);
  // Header lines (`Proc-Type: …`) are not base64.
  const body = text.slice(lineEnd + 1, end).split('\n').filter((line) => !line.includes(':')).join('');
  return { type, der: Buffer.from(body, 'base64'), rest: afterEnd < 0 ? '' : text.slice(afterEnd + 1) };
}

/** OPA's getKeysFromCertOrJWK: the first PEM block (a certificate or a public key, nothing after it), else a JWK or JWK set. */
function keysOf(certificate: unknown): VerificationKey[] {
  if (typeof certificate !== 'string') throw new Error('operand 2 must be string');
  const pem = firstPemBlock(certificate);
  if (pem) {
    if (pem.rest.length > 0) throw new Error('extra data after a PEM certificate block');
    const der = pem.der;
    let key: crypto.KeyObject;
    if (pem.type === 'CERTIFICATE') key = new crypto.X509Certificate(der).publicKey;
    else if (pem.type === 'PUBLIC KEY') key = crypto.createPublicKey({ key: der, format: 'der', type: 'spki' });
    else throw new Error('failed to extract a Key from the PEM certificate');
    return [{ key: supported(key), isPrivate: false, alg: '', kid: '' }];
  }
  const parsed = JSON.parse(certificate) as { keys?: unknown };
  const list = parsed && typeof parsed === 'object' && Array.isArray(parsed.keys) ? parsed.keys : [parsed];
  const out: VerificationKey[] = [];
  for (const jwk of list as Array<Record<string, unknown>>) {
    if (!jwk || typeof jwk !== 'object') throw new Error('failed to parse a JWK key (set)');
    const alg = typeof jwk.alg === 'string' ? jwk.alg : '';
    const kid = typeof jwk.kid === 'string' ? jwk.kid : '';
    const isPrivate = 'd' in jwk;
    let key: crypto.KeyObject | Buffer;
    if (jwk.kty === 'oct') {
      if (typeof jwk.k !== 'string') throw new Error('failed to parse a JWK key (set): k');
      key = Buffer.from(jwk.k, 'base64url');
    } else {
      key = supported(crypto.createPublicKey({ key: jwk, format: 'jwk' } as crypto.JsonWebKeyInput));
    }
    // Keys for algorithms OPA does not know are passed over.
    if (alg && !ALGORITHMS.has(alg)) continue;
    out.push({ key, isPrivate, alg, kid });
  }
  return out;
}

function supported(key: crypto.KeyObject): crypto.KeyObject {
  const type = key.asymmetricKeyType;
  if (type === 'ec' && !CURVES.has(key.asymmetricKeyDetails?.namedCurve ?? '')) throw new Error('unsupported elliptic curve');
  if (type !== 'rsa' && type !== 'ec' && type !== 'ed25519') throw new Error(`unsupported key type ${String(type)}`);
  return key;
}

type Verify = (key: crypto.KeyObject | Buffer, data: Buffer, signature: Buffer) => boolean;

const hashes: Readonly<Record<string, string>> = lookupTable({ 256: 'sha256', 384: 'sha384', 512: 'sha512' });

/** A signature check of one algorithm family; `pssSalt` as OPA's verify_ps* (any length) or decode_verify (the hash's). */
function verifier(alg: string, pssSalt: 'auto' | 'digest'): Verify | undefined {
  const hash = hashes[alg.slice(2)];
  const asym = (type: string, check: (k: crypto.KeyObject, data: Buffer, sig: Buffer) => boolean): Verify => (key, data, sig) =>
    !Buffer.isBuffer(key) && key.asymmetricKeyType === type && check(key, data, sig);
  if (alg.startsWith('HS') && hash) {
    return (key, data, sig) => {
      if (!Buffer.isBuffer(key)) return false;
      const mac = crypto.createHmac(hash, key).update(data).digest();
      return mac.length === sig.length && crypto.timingSafeEqual(mac, sig);
    };
  }
  if (alg.startsWith('RS') && hash) return asym('rsa', (k, d, s) => crypto.verify(hash, d, k, s));
  if (alg.startsWith('PS') && hash) {
    const saltLength = pssSalt === 'auto' ? crypto.constants.RSA_PSS_SALTLEN_AUTO : crypto.constants.RSA_PSS_SALTLEN_DIGEST;
    return asym('rsa', (k, d, s) => crypto.verify(hash, d, { key: k, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength }, s));
  }
  if (alg.startsWith('ES') && hash) {
    return asym('ec', (k, d, s) => {
      // r and s, each the curve's size: Go splits the signature in half and reads each as a number.
      const size = { prime256v1: 32, secp384r1: 48, secp521r1: 66, secp224r1: 28 }[k.asymmetricKeyDetails?.namedCurve ?? ''] ?? 0;
      const half = Math.floor(s.length / 2);
      const [r, t] = [s.subarray(0, half), s.subarray(half)].map((x) => x.subarray(x.findIndex((b) => b !== 0) < 0 ? x.length : x.findIndex((b) => b !== 0)));
      if (!size || r!.length > size || t!.length > size) return false;
      const fixed = Buffer.concat([Buffer.alloc(size - r!.length), r!, Buffer.alloc(size - t!.length), t!]);
      return crypto.verify(hash, d, { key: k, dsaEncoding: 'ieee-p1363' }, fixed);
    });
  }
  if (alg === 'EdDSA' || alg === 'Ed25519') return asym('ed25519', (k, d, s) => crypto.verify(null, d, k, s));
  return undefined;
}

/** `io.jwt.verify_<alg>(jwt, certificate)`: the signature against the keys (the header's kid first), whatever the header's alg. */
export function jwtVerify(alg: string): (jwt: unknown, certificate: unknown) => boolean {
  const verify = verifier(alg, 'auto')!;
  return (jwt, certificate) => {
    const t = split(jwt);
    const keys = keysOf(certificate);
    const signature = base64Url(t.signature, 'signature');
    const header = readHeader(decodedHeader(t));
    const data = Buffer.from(`${t.header}.${t.payload}`);
    return checkSignature(keys, header, data, signature, (k) => (k.isPrivate ? undefined : verify));
  };
}

/** OPA's order: the key whose kid the header names alone; else each key whose alg (if any) is the header's. */
function checkSignature(keys: VerificationKey[], header: Header, data: Buffer, signature: Buffer, verifyFor: (k: VerificationKey) => Verify | undefined): boolean {
  const attempt = (k: VerificationKey): boolean => {
    try {
      return verifyFor(k)?.(k.key, data, signature) ?? false;
    } catch {
      return false;
    }
  };
  const named = header.kid ? keys.find((k) => k.kid === header.kid) : undefined;
  if (named) return attempt(named);
  return keys.some((k) => (!k.alg || k.alg === header.alg) && attempt(k));
}

/** `io.jwt.verify_hs<bits>(jwt, secret)`. */
export function jwtVerifyHs(alg: string): (jwt: unknown, secret: unknown) => boolean {
  const verify = verifier(alg, 'auto')!;
  return (jwt, secret) => {
    if (typeof jwt !== 'string') throw new Error('operand 1 must be string');
    if (typeof secret !== 'string') throw new Error('operand 2 must be string');
    const t = split(jwt);
    return verify(Buffer.from(secret), Buffer.from(`${t.header}.${t.payload}`), base64Url(t.signature, 'signature'));
  };
}

const UNVERIFIED = [false, {}, {}];

/** `io.jwt.decode_verify(jwt, constraints)`: [valid, header, payload] under cert or secret, alg, iss, aud and time (ns; now by default). */
export function jwtDecodeVerify(nowNs: () => number): (jwt: unknown, constraints: unknown) => unknown[] {
  return (jwt, constraints) => {
    if (!constraints || typeof constraints !== 'object' || Array.isArray(constraints)) throw new Error('operand 2 must be object');
    const c = constraints as Record<string, unknown>;
    let keys: VerificationKey[] | undefined;
    let secret = '';
    let [alg, iss, aud] = ['', '', ''];
    let time = -1;
    for (const [name, v] of Object.entries(c)) {
      if (name === 'cert') keys = keysOf(v);
      else if (['secret', 'alg', 'iss', 'aud'].includes(name)) {
        if (typeof v !== 'string') throw new Error(`${name} constraint: must be a string`);
        if (name === 'secret') secret = v;
        else if (name === 'alg') alg = v;
        else if (name === 'iss') iss = v;
        else aud = v;
      } else if (name === 'time') time = timeConstraint(v);
      else throw new Error(`unknown token validation constraint: ${name}`);
    }
    if (time === -1) time = timeConstraint(nowNs());
    if ((keys ? 1 : 0) + (secret ? 1 : 0) !== 1) throw new Error(keys && secret ? 'duplicate key constraints' : 'no key constraint');
    const trusted = keys ?? [{ key: Buffer.from(secret), isPrivate: false, alg: '', kid: '' }];

    let token = jwt;
    let header: Record<string, unknown>;
    let payload: Buffer;
    // Nested tokens (cty: JWT): at most as deep as the text allows, each level shorter than the last.
    for (;;) {
      const t = split(token);
      header = decodedHeader(t);
      const h = readHeader(header);
      if (!h.valid || (alg && alg !== h.alg)) return UNVERIFIED;
      const signature = base64Url(t.signature, 'signature');
      const data = Buffer.from(`${t.header}.${t.payload}`);
      if (!checkSignature(trusted, h, data, signature, () => verifier(h.alg, 'digest'))) return UNVERIFIED;
      payload = base64Url(t.payload, 'payload');
      if (h.cty.toUpperCase() !== 'JWT') break;
      token = goUtf8(payload);
    }
    const claims = jsonObject(payload, 'JWT payload');
    if (iss) {
      if (!('iss' in claims)) return UNVERIFIED;
      if (typeof claims.iss !== 'string') throw new Error('iss must be a string');
      if (claims.iss !== iss) return UNVERIFIED;
    }
    if ('aud' in claims) {
      const a = claims.aud;
      const ok = typeof a === 'string' ? a === aud : Array.isArray(a) && a.some((x) => typeof x === 'string' && x === aud);
      if (!ok) return UNVERIFIED;
    } else if (aud) return UNVERIFIED;
    const now = time / 1e9;
    if ('exp' in claims) {
      if (typeof claims.exp !== 'number') throw new Error('exp value must be a number');
      if (!(now < claims.exp)) return UNVERIFIED;
    }
    if ('nbf' in claims) {
      if (typeof claims.nbf !== 'number') throw new Error('nbf value must be a number');
      if (now < claims.nbf) return UNVERIFIED;
    }
    return [true, header, claims];
  };
}

function timeConstraint(v: unknown): number {
  if (typeof v !== 'number') throw new Error('token time constraint: must be a number');
  if (v < 0) throw new Error('token time constraint: must not be negative');
  return v;
}
