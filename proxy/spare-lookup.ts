// Resolving a name without libuv's thread pool, for when the system's lookups are jammed.
// getaddrinfo (the system's resolver, what `dns.lookup` runs) holds one of libuv's four pool threads
// until it returns, tens of seconds for a name server that never answers, and nothing can cancel it.
// The destination guard lets three run at once, one per agent; three agents asking for such names
// took all three and every other agent's new name waited its five seconds and was refused. This
// lane asks the name servers directly (c-ares: sockets on the event loop, cancelled on our clock)
// and reads /etc/hosts first, as the system's `files dns` order does. A name is completed with
// resolv.conf's search list as glibc's resolver completes it (twenty-second pass: a one-label name,
// `db` under `search corp.example`, was asked as is and refused while the lane was in use).
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

const RESOLV_CONF = '/etc/resolv.conf';
/** glibc keeps at most six search domains. */
const MAX_SEARCH = 6;

/** What glibc's resolver completes a name with: the search list and `ndots`. */
export interface SearchRules {
  search: string[];
  ndots: number;
}

/** resolv.conf as glibc reads it for names: the last `search` or `domain` line, `options ndots:N`; LOCALDOMAIN and RES_OPTIONS over it. */
export function parseResolvConf(text: string, env: NodeJS.ProcessEnv = process.env): SearchRules {
  let search: string[] = [];
  let ndots = 1;
  const options = (words: string[]): void => {
    for (const o of words) {
      const m = /^ndots:(\d+)$/.exec(o);
      if (m) ndots = Math.min(15, Number(m[1]));
    }
  };
  for (const line of text.split('\n')) {
    const f = line.replace(/[#;].*/, '').trim().split(/\s+/);
    if (f[0] === 'search') search = f.slice(1);
    else if (f[0] === 'domain') search = f.slice(1, 2);
    else if (f[0] === 'options') options(f.slice(1));
  }
  if (env.LOCALDOMAIN !== undefined) search = env.LOCALDOMAIN.trim().split(/\s+/);
  if (env.RES_OPTIONS !== undefined) options(env.RES_OPTIONS.trim().split(/\s+/));
  search = search.map((d) => d.toLowerCase().replace(/\.$/, '')).filter((d) => d !== '').slice(0, MAX_SEARCH);
  return { search, ndots };
}

/** The names asked for `name`, in glibc's order: as is first when it has `ndots` dots or more, else the search list first; a trailing dot asks it alone. */
export function searchNames(name: string, rules: SearchRules): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const listed = rules.search.map((d) => `${name}.${d}`);
  const dots = name.split('.').length - 1;
  return dots >= rules.ndots ? [name, ...listed] : [...listed, name];
}

let rulesCache: { file: string; at: number; mtimeMs: number; size: number; rules: SearchRules } | undefined;

/** resolv.conf's rules, re-read when the file changed (checked at most once a second). */
function searchRules(file: string, now = Date.now()): SearchRules {
  if (rulesCache && rulesCache.file === file && now - rulesCache.at < 1000) return rulesCache.rules;
  let st: fs.Stats | undefined;
  try {
    st = fs.statSync(file);
  } catch {
    st = undefined;
  }
  if (!st) rulesCache = { file, at: now, mtimeMs: 0, size: 0, rules: parseResolvConf('') };
  else if (!rulesCache || rulesCache.file !== file || st.mtimeMs !== rulesCache.mtimeMs || st.size !== rulesCache.size) {
    rulesCache = { file, at: now, mtimeMs: st.mtimeMs, size: st.size, rules: parseResolvConf(readFileStart(file, 64 * 1024)) };
  } else rulesCache.at = now;
  return rulesCache.rules;
}

/**
 * The addresses of `host` from the hosts file, else from the name servers (`servers`, default the
 * system's), each name resolv.conf's search list makes of it in turn, IPv4 and IPv6 asked at once.
 * Rejects with the resolver's code (ENOTFOUND, ETIMEOUT…).
 */
export async function spareLookup(host: string, servers?: string[], resolvConf = RESOLV_CONF): Promise<string[]> {
  const fromFile = hostsFileAddresses(host.replace(/\.$/, ''));
  if (fromFile) return fromFile;
  const resolver = new dns.promises.Resolver({ timeout: 700, tries: 2 });
  if (servers) resolver.setServers(servers);
  const timer = setTimeout(() => resolver.cancel(), SPARE_LOOKUP_MS);
  try {
    let code = 'ENOTFOUND';
    for (const name of searchNames(host, searchRules(resolvConf))) {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
      const out = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (out.length) return out;
      const failed = [v4, v6].map((r) => (r.status === 'rejected' ? (r.reason as NodeJS.ErrnoException).code : undefined));
      // No address, and no definite "none" from either: say what went wrong (a timeout, a refusal), ask no further.
      const other = failed.find((c) => c && c !== 'ENODATA' && c !== 'ENOTFOUND');
      if (other) {
        code = other;
        break;
      }
    }
    throw Object.assign(new Error(`cannot resolve ${host}: ${code}`), { code });
  } finally {
    clearTimeout(timer);
  }
}
