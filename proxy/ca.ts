// The local certificate authority that lets the proxy read HTTPS: an ECDSA P-256 CA created on
// first start in the state folder (ca.pem, ca-key.pem mode 0600), and leaf certificates minted per
// host on demand and cached. X.509 is done by @peculiar/x509 (well-kept, WebCrypto based, pure JS):
// signing goes through WebCrypto's async API, so minting a leaf never blocks other connections.
// All leaves share one P-256 key created at start: a leaf key is as sensitive as the CA key next to
// it anyway, and reusing it makes a new host cost one signature instead of a key generation.
// @peculiar/x509 is loaded by the first certificate made (~0.2 s of CPU and its ASN.1 classes):
// an Airlock that never intercepts TLS, and every command that only checks the CA, go without it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import type * as X509 from '@peculiar/x509';
import { stateFile } from '../state/home.ts';
import { TurnCache, TurnGate } from '../lib/turn-gate.ts';

const webcrypto = crypto.webcrypto as unknown as Crypto;

let x509Loaded: Promise<typeof X509> | undefined;
/** @peculiar/x509, loaded once, with WebCrypto as its provider. */
function x509(): Promise<typeof X509> {
  return (x509Loaded ??= (async () => {
    // It resolves its ASN.1 classes through tsyringe, which needs the Reflect metadata API.
    await import('reflect-metadata');
    const m = await import('@peculiar/x509');
    m.cryptoProvider.set(webcrypto);
    return m;
  })());
}

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const sign = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface CaFiles {
  cert: string;
  key: string;
}

export function caFiles(home: string): CaFiles {
  return { cert: stateFile(home, 'caCert'), key: stateFile(home, 'caKey') };
}

function pemKey(der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64}-----END PRIVATE KEY-----\n`;
}

function keyFromPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) PRIVATE KEY-----|\s+/g, ''), 'base64');
}

/** ca.pem or ca-key.pem cannot be used; the message names the file and what to do. */
export class CaFileError extends Error {}

/**
 * Certificates minted at once, and per agent, and how long one may wait for its turn. Every
 * CONNECT to a new name costs a certificate before any policy sees a request: 2,000 CONNECTs to
 * made-up names from one agent queued ~10 s of work ahead of everyone (a neighbour's plain GET
 * waited 8.5 s). Agents take turns; a CONNECT whose certificate waited past the bound is closed.
 */
const MINTING = 2;
const MINTING_PER_AGENT = 1;
const MINT_WAIT_MS = 15_000;

export class CertificateAuthority {
  /** Contexts minted, shared once ready; one being minted is another agent's only in its own turn. */
  private readonly leaves = new TurnCache<tls.SecureContext>(new TurnGate(MINTING, MINTING_PER_AGENT), 2000);
  /** The CA certificate as @peculiar/x509 reads it: its subject and key for each leaf. */
  private cert: Promise<X509.X509Certificate> | undefined;

  private constructor(
    readonly files: CaFiles,
    readonly certPem: string,
    private readonly signingKey: CryptoKey,
    private readonly leafKeys: CryptoKeyPair,
    private readonly leafKeyPem: string,
  ) {}

  /** Loads the CA from the state folder, creating it on first start. */
  static async open(home: string): Promise<CertificateAuthority> {
    const files = caFiles(home);
    fs.mkdirSync(home, { recursive: true, mode: 0o700 });
    if (!fs.existsSync(files.cert) || !fs.existsSync(files.key)) await create(files);
    const certPem = fs.readFileSync(files.cert, 'utf8');
    const keyPem = fs.readFileSync(files.key, 'utf8');
    const mode = fs.statSync(files.key).mode & 0o777;
    if (mode & 0o077) fs.chmodSync(files.key, 0o600); // never leave the CA key readable by others
    const broken = (file: string, what: string, err: unknown): CaFileError => new CaFileError(
      `${file} is not ${what} (${(err as Error).message}); restore it from a backup, or delete both ${files.cert} and ${files.key} `
      + 'so Airlock creates a new CA (agents must then trust the new ca.pem)',
    );
    let certKey: Buffer;
    try {
      if (!/-----BEGIN CERTIFICATE-----/.test(certPem)) throw new Error('no PEM certificate in it');
      certKey = new crypto.X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    } catch (err) {
      throw broken(files.cert, "Airlock's CA certificate", err);
    }
    let signingKey: CryptoKey;
    try {
      if (!/-----BEGIN PRIVATE KEY-----/.test(keyPem)) throw new Error('no PKCS#8 PEM private key in it');
      signingKey = await webcrypto.subtle.importKey('pkcs8', new Uint8Array(keyFromPem(keyPem)), alg, false, ['sign']);
      const publicDer = crypto.createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
      if (!publicDer.equals(certKey)) throw new Error(`it does not belong to the certificate in ${files.cert}`);
    } catch (err) {
      throw broken(files.key, "the private key of Airlock's CA", err);
    }
    const leafKeys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
    const leafKeyPem = pemKey(await webcrypto.subtle.exportKey('pkcs8', leafKeys.privateKey));
    return new CertificateAuthority(files, certPem, signingKey, leafKeys, leafKeyPem);
  }

  /**
   * A TLS context presenting a certificate for `host` (a DNS name or an IP address). Cached; a new
   * one is minted in `owner`'s turn (the agent that asked).
   */
  contextFor(host: string, owner = ''): Promise<tls.SecureContext> {
    const key = host.toLowerCase();
    return this.leaves.get(
      key,
      owner,
      async () => tls.createSecureContext({ cert: `${await this.mint(key)}${this.certPem}`, key: this.leafKeyPem }),
      MINT_WAIT_MS,
      () => new Error(`no certificate for ${key} within ${MINT_WAIT_MS / 1000} s`),
    );
  }

  private async mint(host: string): Promise<string> {
    const isIp = net.isIP(host) !== 0;
    const x509m = await x509();
    const ca = await (this.cert ??= Promise.resolve(new x509m.X509Certificate(this.certPem)));
    const now = Date.now();
    const leaf = await x509m.X509CertificateGenerator.create({
      serialNumber: crypto.randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
      subject: isIp ? 'CN=airlock-ip' : `CN=${host.slice(0, 64).replace(/[,+="<>#;\\]/g, '')}`,
      issuer: ca.subject,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + 30 * 86400_000),
      signingAlgorithm: sign,
      publicKey: this.leafKeys.publicKey,
      signingKey: this.signingKey,
      extensions: [
        new x509m.BasicConstraintsExtension(false, undefined, true),
        new x509m.KeyUsagesExtension(x509m.KeyUsageFlags.digitalSignature, true),
        new x509m.ExtendedKeyUsageExtension([x509m.ExtendedKeyUsage.serverAuth]),
        new x509m.SubjectAlternativeNameExtension([{ type: isIp ? 'ip' : 'dns', value: host }]),
        await x509m.AuthorityKeyIdentifierExtension.create(ca.publicKey),
      ],
    });
    return leaf.toString('pem') + '\n';
  }
}

async function create(files: CaFiles): Promise<void> {
  const x509m = await x509();
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509m.X509CertificateGenerator.createSelfSigned({
    serialNumber: crypto.randomBytes(16).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=Airlock local CA ${new Date(now).toISOString().slice(0, 10)} ${crypto.randomBytes(4).toString('hex')}, O=Airlock`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + 10 * 365 * 86400_000),
    signingAlgorithm: sign,
    keys,
    extensions: [
      new x509m.BasicConstraintsExtension(true, 0, true),
      new x509m.KeyUsagesExtension(x509m.KeyUsageFlags.keyCertSign | x509m.KeyUsageFlags.cRLSign | x509m.KeyUsageFlags.digitalSignature, true),
      await x509m.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const keyPem = pemKey(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  // Key first, exclusively, 0600: never a window where it exists with wider permissions.
  fs.writeFileSync(files.key, keyPem, { mode: 0o600, flag: 'w' });
  fs.chmodSync(files.key, 0o600);
  fs.writeFileSync(files.cert, cert.toString('pem') + '\n', { mode: 0o644 });
}
