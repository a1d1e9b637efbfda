// --upstream-ca FILE: extra certificates trusted for upstream TLS. Each file must hold PEM
// certificates and nothing secret: a private key handed over by mistake is refused (it would sit
// in a trust bundle, and it says the user picked the wrong file), and so is a file with no
// certificate or one that does not parse, instead of trusting less than the user thinks.
import crypto from 'node:crypto';
import fs from 'node:fs';

const block = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;

/** The PEM certificates of one bundle file; throws with a message that does not repeat the flag. */
export function readCaBundle(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const certs: string[] = [];
  for (const m of text.matchAll(block)) {
    const label = m[1]!;
    if (/PRIVATE KEY/.test(label)) {
      throw new Error(`${file} holds a private key (${label}); give the CA's certificate (BEGIN CERTIFICATE), never a key`);
    }
    if (label !== 'CERTIFICATE' && label !== 'TRUSTED CERTIFICATE') continue;
    try {
      new crypto.X509Certificate(m[0]);
    } catch (err) {
      throw new Error(`${file}: certificate ${certs.length + 1} does not parse (${(err as Error).message})`);
    }
    certs.push(m[0]);
  }
  if (/PRIVATE KEY-----/.test(text)) throw new Error(`${file} holds a private key; give the CA's certificate (BEGIN CERTIFICATE), never a key`);
  if (certs.length === 0) throw new Error(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return certs;
}
