// Java reads no CA-file variable; it trusts the key store named by -Djavax.net.ssl.trustStore. So
// `airlock run` makes a PKCS12 trust store holding Airlock's CA with the JDK's own keytool (when a
// JDK is installed) and hands it to Java programs through JAVA_TOOL_OPTIONS. It is made once per
// CA and kept next to it in the state folder (<home>/ca-truststore.p12).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { JAVA_TRUSTSTORE_PASSWORD } from './env.ts';
import { stateFile } from '../state/home.ts';
import { plantable } from './support.ts';

/**
 * The JDK's keytool: JAVA_HOME's, then PATH's. It runs here, on the host, outside any sandbox: one
 * a sandboxed agent could have put there (~/.local/bin first on PATH, a JDK in a folder of yours)
 * would run its code as you, next to the state folder. Such a one is passed over, with a warning.
 */
function findKeytool(env: NodeJS.ProcessEnv): string | undefined {
  const dirs = [...(env.JAVA_HOME ? [path.join(env.JAVA_HOME, 'bin')] : []), ...(env.PATH ?? '').split(path.delimiter)];
  const passed: string[] = [];
  for (const dir of dirs) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, 'keytool');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
    } catch {
      continue; // not here
    }
    if (!plantable(candidate)) return candidate;
    passed.push(candidate);
  }
  if (passed.length) throw new Error(`the keytool found (${passed.join(', ')}) is in a place your user, so an agent, can write, and runs outside the sandbox: not run`);
  return undefined;
}

/** The trust store for `caCert`, made or reused; undefined when no keytool is installed (no Java to serve). */
export function javaTrustStore(home: string, caCert: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const keytool = findKeytool(env);
  if (!keytool) return undefined;
  const store = stateFile(home, 'javaTrustStore');
  try {
    if (fs.statSync(store).mtimeMs >= fs.statSync(caCert).mtimeMs) return store;
  } catch {
    /* not made yet */
  }
  const tmp = `${store}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  const r = spawnSync(keytool, ['-importcert', '-noprompt', '-alias', 'airlock-ca', '-file', caCert, '-keystore', tmp, '-storetype', 'PKCS12', '-storepass', JAVA_TRUSTSTORE_PASSWORD], {
    encoding: 'utf8', timeout: 30_000, stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (r.status !== 0 || !fs.existsSync(tmp)) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`keytool could not make a trust store for Java: ${(r.stderr || r.stdout || r.error?.message || '').trim().split('\n')[0]}`);
  }
  fs.renameSync(tmp, store);
  return store;
}
