// A self-signed certificate for the tests' local HTTPS upstreams, made by openssl; shared by the
// area helpers. The first name is the subject; names that are IP addresses go in as IP SANs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export function upstreamCert(dir: string, names = ['localhost', 'api.github.com', '127.0.0.1']): { key: string; cert: string; certFile: string } {
  const keyFile = path.join(dir, 'upstream-key.pem');
  const certFile = path.join(dir, 'upstream.pem');
  const san = names.map((n) => (net.isIP(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '2', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`,
  ], { stdio: 'ignore' });
  return { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8'), certFile };
}
