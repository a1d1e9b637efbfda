// Destination safety (SSRF): a policy can allow "api.example.com", but that name must not lead the
// proxy to loopback, the LAN, the cloud metadata service or Airlock itself. The check runs on the
// resolved addresses (so 2130706433, 0x7f.1, 127.1 and [::ffff:127.0.0.1] are caught whatever the
// spelling), every resolved address must pass, and the caller dials exactly the address that passed
// (no second resolution for DNS rebinding to exploit). Names are resolved only after an allow.
// Only the operator's --allow-private CIDR[:PORT] opens a private destination; Airlock's own
// listeners are refused even then.
import dns from 'node:dns';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { trimTrailing } from '../lib/text.ts';
import { readFileStart } from '../lib/file-start.ts';
import { SPARE_LOOKUP_MS, spareLookup } from './spare-lookup.ts';
import { TurnCache, TurnGate } from '../lib/turn-gate.ts';

/** Special-purpose ranges, by the reason a destination in them is refused. */
const ranges: Array<[reason: string, cidrs: string[]]> = [
  ['loopback', ['127.0.0.0/8', '::1/128']],
  ['unspecified', ['0.0.0.0/8', '::/128']],
  ['private (RFC 1918)', ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16']],
  ['link-local / cloud metadata', ['169.254.0.0/16', 'fe80::/10']],
  ['carrier-grade NAT (RFC 6598)', ['100.64.0.0/10']],
  ['unique-local IPv6', ['fc00::/7', 'fec0::/10']],
  ['NAT64', ['64:ff9b::/96', '64:ff9b:1::/48']],
  ['6to4', ['2002::/16']],
  ['Teredo', ['2001::/32']],
  ['multicast', ['224.0.0.0/4', 'ff00::/8']],
  ['reserved', ['240.0.0.0/4', '192.0.0.0/24', '192.0.2.0/24', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '100::/64', '2001:db8::/32', '::/96']],
];

function addCidr(list: net.BlockList, cidr: string): void {
  const [addr, bits] = cidr.split('/') as [string, string];
  const family = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
  list.addSubnet(addr, Number(bits), family);
}

const classifiers: Array<[string, net.BlockList]> = ranges.map(([reason, cidrs]) => {
  const list = new net.BlockList();
  for (const c of cidrs) addCidr(list, c);
  return [reason, list];
});

/** The eight 16-bit groups of an IPv6 address (zone id dropped), or undefined when it is not one. */
export function ipv6Groups(address: string): number[] | undefined {
  let s = address.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!net.isIPv6(s)) return undefined;
  const colon = s.lastIndexOf(':');
  const last = s.slice(colon + 1);
  if (last.includes('.')) {
    // A dotted IPv4 tail (::ffff:1.2.3.4) is the last two groups.
    const b = last.split('.').map(Number) as [number, number, number, number];
    s = `${s.slice(0, colon + 1)}${((b[0] << 8) | b[1]).toString(16)}:${((b[2] << 8) | b[3]).toString(16)}`;
  }
  const halves = s.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length > 1 ? new Array<string>(8 - head.length - tail.length).fill('0') : [];
  const groups = [...head, ...fill, ...tail].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

const dotted = (hi: number, lo: number): string => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** An IPv4-mapped IPv6 address (::ffff:a.b.c.d, ::ffff:7f00:1, any spelling) is the IPv4 address inside it. */
export function unmapIPv4(address: string): string {
  const a = address.toLowerCase();
  const g = ipv6Groups(a);
  if (!g) return a;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) return dotted(g[6]!, g[7]!);
  return a;
}

/**
 * The IPv4 address an IPv6 address stands for, for classification: IPv4-mapped (::ffff:0:0/96)
 * and SIIT IPv4-translated (::ffff:0:0:0/96, RFC 7915 / RFC 2765) addresses both carry one, and a
 * translator or a dual-stack socket delivers them to it. Anything else comes back unchanged.
 */
export function embeddedIPv4(address: string): string {
  const a = unmapIPv4(address);
  const g = net.isIPv6(a) ? ipv6Groups(a) : undefined;
  if (g && g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0xffff && g[5] === 0) return dotted(g[6]!, g[7]!);
  return a;
}

const classified = new Map<string, string | undefined>();

/** Why an address is special ("loopback", "private (RFC 1918)", …), or undefined for a public address. */
export function classifyAddress(address: string): string | undefined {
  // Memoized: the same few upstream addresses are checked on every request.
  if (classified.has(address)) return classified.get(address);
  const reason = classifyUncached(address);
  if (classified.size >= 10_000) classified.clear();
  classified.set(address, reason);
  return reason;
}

function classifyUncached(address: string): string | undefined {
  const unmapped = embeddedIPv4(address);
  const family = net.isIPv4(unmapped) ? 'ipv4' : net.isIPv6(unmapped) ? 'ipv6' : undefined;
  if (!family) return 'not an IP address';
  for (const [reason, list] of classifiers) if (list.check(unmapped, family)) return reason;
  // ::/8, reserved by the IETF: IPv4-compatible ::a.b.c.d and the other shapes with an IPv4 tail
  // (the mapped and SIIT ones were judged above by the address they carry). Checked by hand: a
  // BlockList's IPv6 subnet also matches IPv4 addresses as if mapped.
  if (family === 'ipv6' && ipv6Groups(unmapped)![0]! < 0x100) return 'reserved';
  return undefined;
}

export interface AllowRule {
  cidr: string;
  list: net.BlockList;
  port?: number;
  /** One address (a /32 or /128): the only kind of rule that opens one of this machine's own addresses. */
  exact?: boolean;
}

/** Parses --allow-private values: CIDR[:PORT], a bare address, or [IPv6-CIDR]:PORT. */
export function parseAllowPrivate(spec: string): AllowRule {
  let s = spec.trim();
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    s = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else if (!s.includes('::') && /^[^:]+:\d+$/.test(s)) {
    const i = s.lastIndexOf(':');
    port = Number(s.slice(i + 1));
    s = s.slice(0, i);
  }
  const [addr, bitsText] = s.split('/') as [string, string | undefined];
  const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : undefined;
  if (!family) throw new Error(`--allow-private ${spec}: not an IP address or CIDR`);
  const max = family === 'ipv4' ? 32 : 128;
  const bits = bitsText === undefined ? max : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > max) throw new Error(`--allow-private ${spec}: bad prefix length`);
  if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) throw new Error(`--allow-private ${spec}: bad port`);
  const list = new net.BlockList();
  list.addSubnet(addr, bits, family);
  return { cidr: `${addr}/${bits}`, list, ...(port !== undefined ? { port } : {}), exact: bits === max };
}

export interface Endpoint {
  address: string;
  port: number;
}

export interface DestinationOptions {
  allowPrivate?: AllowRule[];
  /** Airlock's own listeners (proxy, studio): never dialed, whatever --allow-private says. */
  own?: Endpoint[];
  /** Pinned names (--resolve HOST[:PORT]=ADDR[:PORT]): the pinned address is still checked. */
  resolve?: Map<string, ResolvePin>;
  /** Resolver; defaults to the system's (getaddrinfo). */
  lookup?: (host: string) => Promise<string[]>;
  /** This machine's interface addresses (default: os.networkInterfaces(), re-read every second). */
  local?: LocalAddresses;
}

export class DestinationError extends Error {
  constructor(message: string, readonly kind: 'blocked' | 'resolve') {
    super(message);
  }
}

/**
 * This machine's own interface addresses. A service bound to 0.0.0.0 or [::] answers on every one
 * of them, so a name pointed at the LAN or public address of this machine reaches local services
 * as surely as 127.0.0.1 does: the guard treats them as loopback. Interfaces change (DHCP, VPNs,
 * containers, hotplug), so the list is re-read when it is older than `ttlMs` (on the next check;
 * getifaddrs costs tens of microseconds, too much for every request, nothing once a second).
 */
export class LocalAddresses {
  private addresses = new Set<string>();
  /** IPv6 ranges routed to this machine without being on an interface (`ip -6 route add local …`). */
  private ranges: net.BlockList | undefined;
  private rangesKey = '';
  private readAt = -Infinity;
  /** Changes whenever the list does (the guard's answers are kept per generation). */
  generation = 0;

  constructor(
    private readonly ttlMs = 1000,
    private readonly read: () => ReturnType<typeof os.networkInterfaces> = os.networkInterfaces,
    private readonly now: () => number = Date.now,
    private readonly readRoutes: () => string = readIPv6Routes,
  ) {
    this.refresh(true);
  }

  has(address: string): boolean {
    this.fresh();
    const a = embeddedIPv4(address);
    return this.addresses.has(a) || (this.ranges !== undefined && net.isIPv6(a) && this.ranges.check(a, 'ipv6'));
  }

  /** Re-reads the list when it is older than its ttl. */
  fresh(): void {
    if (this.now() - this.readAt >= this.ttlMs) this.refresh(false);
  }

  private refresh(first: boolean): void {
    const out = new Set<string>();
    try {
      for (const list of Object.values(this.read())) for (const i of list ?? []) out.add(embeddedIPv4(i.address));
    } catch (err) {
      // Without the first list the guard cannot know what is local: refuse to start. Later, keep
      // the last list (and try again on the next check) rather than forget every address.
      if (first) throw new Error(`cannot read this machine's network interfaces: ${(err as Error).message}`);
      this.readAt = this.now();
      return;
    }
    const ranges = localIPv6Ranges(this.readRoutes());
    const key = ranges.join(' ');
    if (out.size !== this.addresses.size || [...out].some((a) => !this.addresses.has(a)) || key !== this.rangesKey) this.generation++;
    this.addresses = out;
    if (key !== this.rangesKey) {
      this.rangesKey = key;
      this.ranges = ranges.length ? new net.BlockList() : undefined;
      for (const r of ranges) addCidr(this.ranges!, r);
    }
    this.readAt = this.now();
  }
}

/** Read once a second: a router's full table (hundreds of thousands of routes) is not read past this. */
const MAX_ROUTES_BYTES = 1 << 20;

/** Linux's IPv6 routing tables, local table included (at most MAX_ROUTES_BYTES); empty elsewhere. */
function readIPv6Routes(): string {
  return readFileStart('/proc/net/ipv6_route', MAX_ROUTES_BYTES);
}

const RTF_LOCAL = 0x80000000;

/**
 * The IPv6 prefixes routed to this machine itself (`local` routes shorter than /128: AnyIP, which
 * no interface lists), from /proc/net/ipv6_route: destination, prefix length, …, flags, device.
 * (IPv4's local table is not in /proc/net/route; such an IPv4 connection is caught once up, see
 * DestinationGuard.connectedRefusal.)
 */
export function localIPv6Ranges(table: string): string[] {
  const out: string[] = [];
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const bits = parseInt(f[1]!, 16);
    const flags = parseInt(f[8]!, 16);
    if (!(flags & RTF_LOCAL) || !(bits < 128) || !/^[0-9a-f]{32}$/i.test(f[0]!)) continue;
    const groups = f[0]!.match(/.{4}/g)!.map((g) => g.replace(/^0{1,3}/, ''));
    out.push(`${groups.join(':')}/${bits}`);
  }
  return out.sort();
}

const dnsCacheMs = 5000;

/** How long resolving a name may take, waiting for a lookup slot included, before the request is refused. */
export const DNS_TIMEOUT_MS = 5000;
/**
 * System lookups outstanding at once, and per agent. getaddrinfo holds one of libuv's four pool
 * threads until it returns, which a name server that never answers makes tens of seconds, and the
 * file system (audit, approvals), zlib and crypto share those threads: one agent sending requests
 * to many such names would stall Airlock for everyone. A lookup holds its slot until it returns,
 * even after its request gave up on it.
 */
const MAX_LOOKUPS = lookupSlots(process.env.UV_THREADPOOL_SIZE);
const MAX_LOOKUPS_PER_AGENT = 1;
/**
 * A system lookup running longer than this is taken as one that will not answer soon. When every
 * slot above holds such a lookup (three agents asking for names that never answer: twenty-first
 * pass), a new name is resolved by the spare lane (proxy/spare-lookup.ts: the hosts file, then
 * the name servers asked directly, no pool thread), where agents take turns again, so a neighbour's
 * name still resolves. Normal lookups take milliseconds; a slow name server's up to about a second.
 */
const STUCK_LOOKUP_MS = 1500;
/** Spare lookups at once, and per agent: each is a socket on the event loop, cancelled after SPARE_LOOKUP_MS. */
const MAX_SPARE_LOOKUPS = 32;
const MAX_SPARE_LOOKUPS_PER_AGENT = 2;

export class DestinationGuard {
  private readonly allow: AllowRule[];
  private readonly own: Endpoint[];
  private readonly pins: Map<string, ResolvePin>;
  private readonly lookup: (host: string) => Promise<string[]>;
  private readonly local: LocalAddresses;

  constructor(opts: DestinationOptions = {}) {
    this.local = opts.local ?? new LocalAddresses();
    this.allow = opts.allowPrivate ?? [];
    this.own = [];
    this.pins = opts.resolve ?? new Map();
    this.lookup = opts.lookup ?? systemLookup;
    for (const e of opts.own ?? []) this.addOwn(e);
  }

  /** Registers one of Airlock's own listening addresses (known once it listens). */
  addOwn(e: Endpoint): void {
    this.own.push({ address: embeddedIPv4(e.address), port: e.port });
    this.answered.clear();
  }

  /** Is address:port one of Airlock's own listeners? Wildcard listeners own every local address. */
  isOwn(address: string, port: number): boolean {
    const a = embeddedIPv4(address);
    for (const o of this.own) {
      if (o.port !== port) continue;
      if (o.address === a) return true;
      const wildcard = o.address === '0.0.0.0' || o.address === '::';
      const cls = classifyAddress(a);
      if ((wildcard || cls === 'loopback' || cls === 'unspecified') && (cls === 'loopback' || cls === 'unspecified' || this.local.has(a))) return true;
    }
    return false;
  }

  /**
   * Answers of refusal() while this machine's addresses stay the same (the other inputs are fixed
   * or clear it): classifying and checking the allow rules costs ~15 µs, too much for every request.
   */
  private readonly answered = new Map<string, { generation: number; why: string | undefined }>();

  /** Why address:port may not be dialed, or undefined when it may. */
  refusal(address: string, port: number): string | undefined {
    this.local.fresh();
    const key = `${address} ${port}`;
    const hit = this.answered.get(key);
    if (hit && hit.generation === this.local.generation) return hit.why;
    const why = this.decideRefusal(address, port);
    if (this.answered.size >= 4096) this.answered.clear();
    this.answered.set(key, { generation: this.local.generation, why });
    return why;
  }

  /**
   * The check once a connection is up, before a byte is sent: why it may not be used, or undefined.
   * The interface list is re-read at most once a second, so an address added since (DHCP, a VPN, a
   * container bridge, a `local` route to a whole range) would be judged by its range alone. The
   * kernel says what it routed: a connection to this machine has the destination as its own source
   * address, or a loopback one. Such a connection is judged as this machine's own address.
   */
  connectedRefusal(remote: string, local: string, port: number): string | undefined {
    const r = embeddedIPv4(remote);
    const l = embeddedIPv4(local);
    if (!r || !l || (r !== l && classifyAddress(l) !== 'loopback')) return undefined;
    const reason = classifyAddress(r);
    if (reason === 'loopback' || reason === 'unspecified') return undefined; // judged as such before the dial
    return this.decideRefusal(r, port, true);
  }

  private decideRefusal(address: string, port: number, routedHere = false): string | undefined {
    if (this.isOwn(address, port)) return `${address}:${port} is Airlock itself`;
    let reason = classifyAddress(address);
    // One of this machine's own addresses is loopback by another name, whatever range it is in.
    const own = reason !== 'loopback' && reason !== 'unspecified' && (routedHere || this.local.has(address));
    if (own) reason = "this machine's own address (treated as loopback)";
    if (!reason) return undefined;
    const a = embeddedIPv4(address);
    const family = net.isIPv4(a) ? 'ipv4' : 'ipv6';
    for (const r of this.allow) {
      if (r.port !== undefined && r.port !== port) continue;
      // A range opens the LAN, not this machine: its own addresses open only when named exactly.
      if (own && !r.exact) continue;
      if (r.list.check(a, family) || r.list.check(address, net.isIPv4(address) ? 'ipv4' : 'ipv6')) return undefined;
    }
    return `${address} is ${reason}; ${own ? `only --allow-private ${a} (this exact address) opens it` : 'only --allow-private opens it'}`;
  }

  /**
   * Lookups within the slots above, agents taking turns; a lookup whose request gave up is dropped
   * from the queue. An answer is shared once known; a lookup still queued is only its agent's.
   */
  private readonly answers = new TurnCache<string[]>(new TurnGate(MAX_LOOKUPS, MAX_LOOKUPS_PER_AGENT), 5000, dnsCacheMs);
  /** When each system lookup still running started (performance.now()). */
  private readonly systemRunning = new Set<{ at: number }>();
  /** The spare lane's answers and turns (used while the system's lookups are jammed). */
  private readonly spareAnswers = new TurnCache<string[]>(new TurnGate(MAX_SPARE_LOOKUPS, MAX_SPARE_LOOKUPS_PER_AGENT), 5000, dnsCacheMs);
  /** The name servers the spare lane asks (undefined: the system's, from resolv.conf). */
  spareServers: string[] | undefined;
  /** The resolv.conf whose search list the spare lane completes names with (undefined: /etc/resolv.conf). */
  spareResolvConf: string | undefined;

  /**
   * getaddrinfo runs on libuv's small thread pool; a few seconds of caching keeps it off the hot
   * path. Safe against rebinding: whatever the answer, the proxy dials the address it checked.
   */
  private cachedLookup(host: string, owner: string): Promise<string[]> {
    const late = (): Error => new Error(`no answer from DNS within ${Math.round(DNS_TIMEOUT_MS / 1000)} s`);
    const known = this.answers.fresh(host) ?? this.spareAnswers.fresh(host);
    if (known) return Promise.resolve(known);
    if (this.systemJammed()) return this.spareAnswers.get(host, owner, () => spareLookup(host, this.spareServers, this.spareResolvConf), Math.min(DNS_TIMEOUT_MS, SPARE_LOOKUP_MS + 500), late);
    return this.answers.get(host, owner, () => this.systemLookupTimed(host), DNS_TIMEOUT_MS, late);
  }

  private systemLookupTimed(host: string): Promise<string[]> {
    const entry = { at: performance.now() };
    this.systemRunning.add(entry);
    let out: Promise<string[]>;
    try {
      out = this.lookup(host);
    } catch (err) {
      out = Promise.reject(err);
    }
    return out.finally(() => this.systemRunning.delete(entry));
  }

  /** Every system lookup slot is held by a lookup that has run past STUCK_LOOKUP_MS. */
  private systemJammed(): boolean {
    if (this.systemRunning.size < MAX_LOOKUPS) return false;
    const now = performance.now();
    for (const e of this.systemRunning) if (now - e.at < STUCK_LOOKUP_MS) return false;
    return true;
  }

  /**
   * Resolves host (pins first), checks every address and returns the one to dial. Throws
   * DestinationError when any address is refused or the name does not resolve.
   */
  async resolve(host: string, port: number, owner = ''): Promise<string> {
    return (await this.resolveEndpoint(host, port, owner)).address;
  }

  /**
   * Like resolve(), and also the port to dial: a pin may send HOST:PORT to another port
   * (`--resolve registry.test:443=127.0.0.1:8443`). The checks apply to the address and port dialed.
   */
  async resolveEndpoint(host: string, port: number, owner = ''): Promise<{ address: string; port: number }> {
    const bare = host.startsWith('[') ? host.slice(1, -1) : host;
    let addresses: string[];
    let dialPort = port;
    if (net.isIP(bare)) addresses = [bare];
    else {
      const name = bare.toLowerCase();
      const pinned = this.pins.get(`${name}:${port}`) ?? this.pins.get(name);
      if (pinned) {
        addresses = pinned.addresses;
        dialPort = pinned.port ?? port;
      } else {
        try {
          addresses = await this.cachedLookup(name, owner);
        } catch (err) {
          throw new DestinationError(`cannot resolve ${bare}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'resolve');
        }
      }
    }
    if (addresses.length === 0) throw new DestinationError(`cannot resolve ${bare}: no addresses`, 'resolve');
    for (const a of addresses) {
      const why = this.refusal(a, dialPort);
      if (why) throw new DestinationError(`destination ${bare}:${port}${dialPort !== port ? ` (pinned to port ${dialPort})` : ''} refused: ${why}`, 'blocked');
    }
    return { address: unmapIPv4(addresses[0]!), port: dialPort };
  }
}

async function systemLookup(host: string): Promise<string[]> {
  const res = await dns.promises.lookup(host, { all: true, verbatim: true });
  return res.map((r) => r.address);
}

/**
 * System lookups at once for libuv's pool as UV_THREADPOOL_SIZE sizes it (read once, when the pool
 * starts; libuv's own reading: atoi, 0 is 1, past 1024 or negative is 1024): three of the default
 * four, and always one thread left for the file system, zlib and crypto. With a pool of two (a
 * container's setting) three stuck lookups held both threads and every audit write waited behind
 * them (twenty-second pass). A pool of one leaves none: every name goes to the spare lane.
 */
export function lookupSlots(poolSize: string | undefined): number {
  let threads = 4;
  if (poolSize !== undefined) {
    const n = Number.parseInt(poolSize.trimStart(), 10);
    threads = Number.isNaN(n) || n === 0 ? 1 : n < 0 || n > 1024 ? 1024 : n;
  }
  return Math.min(3, threads - 1);
}

/** A --resolve pin: the addresses a name stands for, and optionally the port to dial instead. */
export interface ResolvePin {
  addresses: string[];
  port?: number;
}

function portNumber(text: string, spec: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--resolve ${spec}: port ${text} is not a port number (1-65535)`);
  return n;
}

/** One target: 10.0.0.1, 10.0.0.1:8443, ::1, [::1] or [::1]:8443. */
function parseTarget(text: string, spec: string): { address: string; port?: number } {
  const t = text.trim();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t);
  let address = t;
  let port: number | undefined;
  if (bracketed) {
    address = bracketed[1]!;
    if (bracketed[2] !== undefined) port = portNumber(bracketed[2], spec);
  } else if (!net.isIPv6(t)) {
    const m = /^([^:]+):(\d+)$/.exec(t);
    if (m) {
      address = m[1]!;
      port = portNumber(m[2]!, spec);
    }
  }
  if (!net.isIP(address)) throw new Error(`--resolve ${spec}: ${address} is not an IP address`);
  return { address, ...(port !== undefined ? { port } : {}) };
}

/**
 * Parses --resolve values into the pin map: `HOST=ADDR[,ADDR…]` (any port) or
 * `HOST:PORT=ADDR[:PORT][,…]` (only that port, optionally dialed on another one), as curl's
 * --resolve and --connect-to do between them. Keys are `host` or `host:port`.
 */
export function parseResolvePins(specs: string[] | Record<string, string | string[]> | undefined): Map<string, ResolvePin> {
  const pins = new Map<string, ResolvePin>();
  if (!specs) return pins;
  const entries: Array<[string, string | string[], string]> = Array.isArray(specs)
    ? specs.map((s) => {
        const i = s.indexOf('=');
        if (i <= 0) throw new Error(`--resolve ${s}: expected HOST[:PORT]=ADDR[:PORT]`);
        return [s.slice(0, i), s.slice(i + 1), s];
      })
    : Object.entries(specs).map(([k, v]) => [k, v, `${k}=${String(v)}`]);
  for (const [left, value, spec] of entries) {
    // HOST[:PORT], trailing dots dropped (one pattern with no overlap, then a linear trim).
    const m = /^([^\s:=\[\]]+)(?::(\d+))?$/.exec(left.trim());
    const bare = m ? trimTrailing(m[1]!, '.') : '';
    if (!m || !bare) throw new Error(`--resolve ${spec}: expected HOST[:PORT]=ADDR[:PORT] (a host name on the left)`);
    const host = bare.toLowerCase();
    if (net.isIP(host)) throw new Error(`--resolve ${spec}: ${host} is already an address; pin a host name`);
    const fromPort = m[2] !== undefined ? portNumber(m[2], spec) : undefined;
    const targets = (Array.isArray(value) ? value : value.split(',')).map((a) => parseTarget(a, spec));
    if (targets.length === 0) throw new Error(`--resolve ${spec}: no address`);
    const ports = new Set(targets.map((x) => x.port));
    if (ports.size > 1) throw new Error(`--resolve ${spec}: give every address the same port`);
    const toPort = targets[0]!.port;
    if (toPort !== undefined && fromPort === undefined) throw new Error(`--resolve ${spec}: a target port needs the port it replaces on the left (HOST:PORT=ADDR:PORT)`);
    pins.set(fromPort !== undefined ? `${host}:${fromPort}` : host, { addresses: targets.map((x) => x.address), ...(toPort !== undefined ? { port: toPort } : {}) });
  }
  return pins;
}
