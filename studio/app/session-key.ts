// The page's session key: an ECDSA P-256 key made unextractable at login and kept in this origin's
// IndexedDB (per origin, port included). Its public half goes with the login; when another port of
// this host replaced or evicted the session cookie (cookies are not isolated by port), the page
// signs the studio's challenge with it to take its session back. No page on another port can reach
// it, and no script can read the private half out of the browser.

const DB = 'airlock-studio';
const STORE = 'keys';
const ID = 'session';

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function withStore<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = fn(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  } finally {
    db.close();
  }
}

/**
 * A new session key: its public half (JWK) for the login, and `keep`, which puts it in place of the
 * last once the login succeeded (a login that fails, such as a login URL with a wrong token another
 * page opened, must not replace the key of the session that goes on). Undefined where the browser
 * has no WebCrypto.
 */
export async function newSessionKey(): Promise<{ jwk: JsonWebKey; keep: () => Promise<void> } | undefined> {
  try {
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
    const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
    const keep = async (): Promise<void> => {
      try {
        await withStore('readwrite', (s) => s.put(pair.privateKey, ID));
      } catch {
        /* storage disabled: a lost cookie means logging in again */
      }
    };
    return { jwk: { kty, crv, x, y }, keep };
  } catch {
    return undefined; // not a secure context (a LAN address over HTTP): the cookie alone
  }
}

/** `text` signed with the kept session key (base64url, IEEE P1363), or undefined when none is kept. */
export async function signWithSessionKey(text: string): Promise<string | undefined> {
  try {
    const key = await withStore<CryptoKey | undefined>('readonly', (s) => s.get(ID) as IDBRequest<CryptoKey | undefined>);
    if (!key) return undefined;
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, new TextEncoder().encode(text));
    let bin = '';
    for (const b of new Uint8Array(sig)) bin += String.fromCharCode(b);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, ''); // '=' only pads
  } catch {
    return undefined;
  }
}

/** Forgets the kept session key (logging out). */
export async function forgetSessionKey(): Promise<void> {
  try {
    await withStore('readwrite', (s) => s.delete(ID));
  } catch {
    /* nothing kept */
  }
}
