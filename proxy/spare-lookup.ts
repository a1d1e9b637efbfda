// Resolving a name without libuv's thread pool, for when the system's lookups are jammed.
// getaddrinfo (the system's resolver, what `dns.lookup` runs) holds one of libuv's four pool threads
// until it returns, tens of seconds for a name server that never answers, and nothing can cancel it.
// The destination guard lets three run at once, one per agent; three agents asking for such names
// took all three and every other agent's new name waited its five seconds and was refused. This
// lane asks the name servers directly (c-ares: sockets on the event loop, cancelled on our clock)
// and reads /etc/hosts first, as the system's `files dns` order does.
import dns from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import { readFileStart } from '../lib/file-start.ts';

/** How long one spare lookup may take before it is cancelled (its slot is then free again). */
export const SPARE_LOOKUP_MS = 2000;

const HOSTS_FILE = '/etc/hosts';
/** Read at most this much of the hosts file (a blocklist of a million names is not read past it). */
const MAX_HOSTS_BYTES = 4 << 20;

let hostsCache: { at: number; mtimeMs: number; size: number; names: Map<string, string[]> } | undefined;

/** The addresses the hosts file gives `name` (lower case, no trailing dot), if any. Re-read when it changed. */
export function hostsFileAddresses(name: string, file = HOSTS_FILE, now = Date.now()): string[] | undefined {
  if (!hostsCache || now - hostsCache.at >= 1000) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(file);
    } catch {
      st = undefined;
    }
    if (!st) hostsCache = { at: now, mtimeMs: 0, size: 0, names: new Map() };
    else if (!hostsCache || st.mtimeMs !== hostsCache.mtimeMs || st.size !== hostsCache.size) {
      hostsCache = { at: now, mtimeMs: st.mtimeMs, size: st.size, names: parseHosts(readFileStart(file, MAX_HOSTS_BYTES)) };
    } else hostsCache.at = now;
  }
  return hostsCache.names.get(name);
}

/** `address name [aliases…]` lines, `#` comments; every address a name is given, in file order. */
export function parseHosts(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    // A zone (`fe80::1%eth0`) is left off: the guard judges the address itself (link-local).
    const address = f[0]!.replace(/%.*/, '');
    if (f.length < 2 || !net.isIP(address)) continue;
    for (const n of f.slice(1)) {
      const name = n.toLowerCase().replace(/\.$/, '');
      const list = out.get(name) ?? [];
      if (!list.includes(address)) list.push(address);
      out.set(name, list);
    }
  }
  return out;
}

/**
 * The addresses of `host` from the hosts file, else from the name servers (`servers`, default the
 * system's), IPv4 and IPv6 asked at once. Rejects with the resolver's code (ENOTFOUND, ETIMEOUT…).
 */
export async function spareLookup(host: string, servers?: string[]): Promise<string[]> {
  const fromFile = hostsFileAddresses(host);
  if (fromFile) return fromFile;
  const resolver = new dns.promises.Resolver({ timeout: 700, tries: 2 });
  if (servers) resolver.setServers(servers);
  const timer = setTimeout(() => resolver.cancel(), SPARE_LOOKUP_MS);
  try {
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
    const out = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (out.length) return out;
    const failed = [v4, v6].map((r) => (r.status === 'rejected' ? (r.reason as NodeJS.ErrnoException).code : undefined));
    // No address, and no definite "none" from either: say what went wrong (a timeout, a refusal).
    const code = failed.find((c) => c && c !== 'ENODATA' && c !== 'ENOTFOUND') ?? 'ENOTFOUND';
    throw Object.assign(new Error(`cannot resolve ${host}: ${code}`), { code });
  } finally {
    clearTimeout(timer);
  }
}
