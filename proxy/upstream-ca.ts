// --upstream-ca FILE: extra certificates trusted for upstream TLS. Each file must hold PEM
// certificates and nothing secret: a private key handed over by mistake is refused (it would sit
// in a trust bundle, and it says the user picked the wrong file), and so is a file with no
// certificate or one that does not parse, instead of trusting less than the user thinks.
import crypto from 'node:crypto';
import fs from 'node:fs';

/**
 * The PEM blocks of a bundle, [label, whole block], in one pass: what
 * /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g finds, without its backtracking.
 */
function pemBlocks(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let at = text.indexOf('-----BEGIN '); at >= 0; at = text.indexOf('-----BEGIN ', at + 1)) {
    const close = text.indexOf('-----', at + 11);
    const label = close < 0 ? '' : text.slice(at + 11, close);
    if (!label || !/^[A-Z0-9 ]+$/.test(label)) continue;
    const endMark = `-----END ${label}-----`;
    const end = text.indexOf(endMark, close + 5);
    if (end < 0) continue;
    out.push([label, text.slice(at, end + endMark.length)]);
    at = end + endMark.length - 1;
  }
  return out;
}

/** The PEM certificates of one bundle file; throws with a message that does not repeat the flag. */
export function readCaBundle(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const certs: string[] = [];
  for (const [label, pem] of pemBlocks(text)) {
    if (/PRIVATE KEY/.test(label)) {
      throw new Error(`${file} holds a private key (${label}); give the CA's certificate (BEGIN CERTIFICATE), never a key`);
    }
    if (label !== 'CERTIFICATE' && label !== 'TRUSTED CERTIFICATE') continue;
    try {
      new crypto.X509Certificate(pem);
    } catch (err) {
      throw new Error(`${file}: certificate ${certs.length + 1} does not parse (${(err as Error).message})`);
    }
    certs.push(pem);
  }
  if (/PRIVATE KEY-----/.test(text)) throw new Error(`${file} holds a private key; give the CA's certificate (BEGIN CERTIFICATE), never a key`);
  if (certs.length === 0) throw new Error(`${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return certs;
}
