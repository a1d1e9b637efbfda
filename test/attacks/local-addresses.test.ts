// Class: destinations on the machine's own addresses. A service bound to 0.0.0.0 / [::] (a
// database, a dev server, a metrics endpoint) answers on every address of the machine, not only
// 127.0.0.1: a name the policy allows, pointed at the machine's LAN or public address, reaches it.
// And IPv6 spellings that carry an IPv4 address — mapped (::ffff:a.b.c.d) and SIIT-translated
// (::ffff:0:a.b.c.d) — must be judged as that IPv4 address.
//
// What each part exercises:
// - "for real": a child process in a fresh network namespace (unshare --net, root) gives an
//   interface public and private addresses, runs a wildcard-bound service and a real Airlock, and
//   sends requests through it (the dial would happen; the service records whether it did);
// - the running guard against this machine's real interface list (no request is sent: these are
//   not loopback addresses, and the suite never dials anything but loopback);
// - fast-check over IPv4 addresses and their IPv6 spellings, against the guard's classification.
import t from 'tap';
import fc from 'fast-check';
import { execFile } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DestinationGuard, LocalAddresses, classifyAddress, parseAllowPrivate } from '../../proxy/destination.ts';
import { fixtures, startTestAirlock } from './helpers.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const runs = Number(process.env.AIRLOCK_FUZZ_RUNS ?? 300);
const seed = process.env.AIRLOCK_FUZZ_SEED ? Number(process.env.AIRLOCK_FUZZ_SEED) : undefined;

t.test('for real, in a network namespace: names and literals of this machine\'s own addresses never reach its wildcard-bound service', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('SKIPPED LOUDLY: creating a network namespace with its own interface addresses needs root (CI runs as root)', () => undefined);
    return;
  }
  const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile('unshare', ['--net', process.execPath, path.join(repo, 'bin', 'run-ts.js'), path.join(fixtures, 'own-address-netns.ts')],
      { cwd: repo, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
  t.equal(out.code, 0, `the namespace world ran (${out.stderr.trim().slice(0, 400)})`);
  const world = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as { results: Record<string, { status: number; type?: string }>; hits: string[] };
  const blocked = ['public_name', 'public_literal', 'public_mapped', 'public_mapped_hex', 'public_siit', 'public_v6_name', 'public_v6_literal', 'lan_in_opened_range', 'added_later', 'added_just_now', 'local_route', 'added_just_now_v6', 'local_route_v6', 'websocket_just_now'];
  for (const name of blocked) {
    t.match(world.results[name], { status: 403, type: /destination-blocked$/ }, `${name}: 403 destination-blocked`);
  }
  t.equal(world.results.lan_named_exactly?.status, 200, 'control: the one address the operator named exactly is reachable');
  t.same(world.hits.map((h) => h.split(' ')[1]), ['/lan-named'], 'the local service saw only the control request (no byte of the others reached it)');
});

t.test('the running guard refuses every address of this machine\'s real interfaces, even inside an opened range', async (t) => {
  const own = Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).map((i) => i.address);
  t.ok(own.length > 0, `interfaces: ${own.join(', ')}`);
  const a = await startTestAirlock(t, { policy: 'allow-all', allowPrivate: ['0.0.0.0/0', '::/0'] });
  // Loopback itself opens with a range that covers it (the operator opened 0.0.0.0/0); the
  // machine's other addresses are loopback by another name, and a range never opens them.
  for (const address of own.filter((x) => classifyAddress(x) !== 'loopback')) {
    const reason = a.airlock.guard.refusal(address, 5432);
    t.ok(reason, `${address} refused with every range opened: ${reason}`);
  }
  for (const address of own.filter((x) => classifyAddress(x) !== 'loopback')) {
    const exact = new DestinationGuard({ allowPrivate: [parseAllowPrivate(address.includes(':') ? `[${address.split('%')[0]}]:5432` : `${address}:5432`)] });
    t.equal(exact.refusal(address.split('%')[0]!, 5432), undefined, `${address}: named exactly (with a port), it opens`);
    t.ok(exact.refusal(address.split('%')[0]!, 5433), `${address}: only that port`);
  }
});

t.test('the interface list is re-read: an address added later is local after the TTL, a removed one stops being', async (t) => {
  let now = 0;
  let list: ReturnType<typeof os.networkInterfaces> | undefined = { eth0: [iface('11.22.33.44')] };
  const read = (): ReturnType<typeof os.networkInterfaces> => {
    if (!list) throw new Error('netlink unavailable');
    return list;
  };
  const local = new LocalAddresses(1000, read, () => now);
  const guard = new DestinationGuard({ local });
  t.match(guard.refusal('11.22.33.44', 80), /own address/);
  t.equal(guard.refusal('11.22.33.55', 80), undefined, 'a public address not on this machine');
  list = { eth0: [iface('11.22.33.44'), iface('11.22.33.55')] };
  now = 999;
  t.equal(guard.refusal('11.22.33.55', 80), undefined, 'within the TTL the old list stands (the documented delay)');
  now = 1000;
  t.match(guard.refusal('11.22.33.55', 80), /own address/, 'after it, the new address is local');
  list = { eth0: [iface('11.22.33.55')] };
  now = 2000;
  t.equal(guard.refusal('11.22.33.44', 80), undefined, 'a removed address is public again');
  now = 3000;
  list = undefined;
  t.match(guard.refusal('11.22.33.55', 80), /own address/, 'a failed re-read keeps the last list');
});

function iface(address: string): os.NetworkInterfaceInfo {
  const v6 = net.isIPv6(address);
  return { address, netmask: v6 ? 'ffff:ffff:ffff:ffff::' : '255.255.255.0', family: v6 ? 'IPv6' : 'IPv4', mac: '00:00:00:00:00:00', internal: false, cidr: null, ...(v6 ? { scopeid: 0 } : {}) } as os.NetworkInterfaceInfo;
}

const hex = (n: number): string => n.toString(16);
/** Ways to write an IPv6 address whose last 32 bits are the IPv4 address a.b.c.d, behind `prefix` groups. */
function spellings(b: readonly number[], prefix: readonly string[]): string[] {
  const hi = (b[0]! << 8) | b[1]!;
  const lo = (b[2]! << 8) | b[3]!;
  const dottedTail = b.join('.');
  const head = new Array<string>(6 - prefix.length).fill('0').concat(prefix);
  return [
    `::${prefix.join(':')}:${dottedTail}`,
    `::${prefix.join(':')}:${hex(hi)}:${hex(lo)}`,
    `${head.join(':')}:${dottedTail}`,
    `${head.map((g) => g.padStart(4, '0')).join(':')}:${hex(hi).padStart(4, '0')}:${hex(lo).padStart(4, '0')}`.toUpperCase(),
    `0::${prefix.join(':')}:${hex(hi)}:${hex(lo)}`,
  ];
}

t.test('property: IPv4-mapped and SIIT-translated spellings are classified as the IPv4 address they carry', async (t) => {
  const guard = new DestinationGuard({ allowPrivate: [] });
  // Bias towards the special ranges, where a misclassification opens something.
  const special = fc.constantFrom([127, 0, 0, 1], [10, 1, 2, 3], [169, 254, 169, 254], [192, 168, 0, 1], [100, 64, 0, 1], [172, 16, 0, 1], [0, 0, 0, 0], [224, 0, 0, 1], [8, 8, 8, 8]);
  const any = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  fc.assert(
    fc.property(fc.oneof(special, any), fc.constantFrom(['ffff'] as const, ['ffff', '0'] as const), (b, prefix) => {
      const v4 = b.join('.');
      const want = classifyAddress(v4);
      for (const s of spellings(b, prefix)) {
        if (!net.isIPv6(s)) continue;
        const got = classifyAddress(s);
        if (got !== want) throw new Error(`${s} classified ${got ?? 'public'}, ${v4} is ${want ?? 'public'}`);
        if ((guard.refusal(s, 80) === undefined) !== (guard.refusal(v4, 80) === undefined)) throw new Error(`${s} and ${v4} differ at the guard`);
      }
    }),
    { numRuns: runs, ...(seed !== undefined ? { seed } : {}) },
  );
  t.pass(`${runs} addresses × 5 spellings × mapped/SIIT`);
  t.equal(classifyAddress('::ffff:0:7f00:1'), 'loopback', '::ffff:0:127.0.0.1 is loopback');
  t.equal(classifyAddress('::ffff:0:a9fe:a9fe'), 'link-local / cloud metadata');
  t.equal(classifyAddress('::ffff:0:808:808'), undefined, 'a SIIT form of a public address is public');
});

t.test('property: a connection the kernel routed to this machine is refused once up, whatever the address and its spelling', async (t) => {
  // The list is empty (a machine whose interfaces were read before the address appeared); the
  // operator opened 10/8 and one address of its own exactly.
  const empty = new LocalAddresses(60_000, () => ({}));
  const guard = new DestinationGuard({ local: empty, allowPrivate: [parseAllowPrivate('10.0.0.0/8'), parseAllowPrivate('10.9.9.9')] });
  const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((b) => b.join('.'));
  const mapped = (a: string): string => `::ffff:${a}`;
  fc.assert(
    fc.property(octets, octets, fc.boolean(), fc.integer({ min: 1, max: 65535 }), (remote, other, spellMapped, port) => {
      const cls = classifyAddress(remote);
      const r = spellMapped ? mapped(remote) : remote;
      const here = guard.connectedRefusal(r, spellMapped ? mapped(remote) : remote, port);
      const viaLo = guard.connectedRefusal(r, '127.0.0.1', port);
      if (cls === 'loopback' || cls === 'unspecified') {
        if (here || viaLo) throw new Error(`${r}: already judged as ${cls} before the dial, not again`);
        return;
      }
      const opened = remote === '10.9.9.9';
      for (const [name, why] of [['source = destination', here], ['source on loopback', viaLo]] as const) {
        if (opened && why) throw new Error(`${r} (${name}): the address opened exactly was refused: ${why}`);
        if (!opened && !why) throw new Error(`${r} (${name}): routed to this machine, not refused`);
      }
      if (other !== remote && classifyAddress(other) !== 'loopback' && guard.connectedRefusal(r, other, port)) throw new Error(`${r} from ${other}: another machine's connection refused`);
    }),
    { numRuns: runs * 3, ...(seed !== undefined ? { seed } : {}) },
  );
  t.pass(`${runs * 3} (remote, local) pairs`);
  t.match(guard.connectedRefusal('2a01:4f8::66', '2a01:4f8::66', 443), /own address/, 'IPv6: source = destination');
  t.equal(guard.connectedRefusal('2a01:4f8::66', '2a01:4f8::1', 443), undefined, 'IPv6: another source');
});
