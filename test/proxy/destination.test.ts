// Destination safety table: every special address form is refused on its resolved address, only
// --allow-private opens one, Airlock's own listeners never.
import t from 'tap';
import { DestinationError, DestinationGuard, classifyAddress, parseAllowPrivate, parseResolvePins, unmapIPv4 } from '../../proxy/destination.ts';
import { parseTarget } from '../../describe/describe.ts';
import { parseHosts } from '../../proxy/spare-lookup.ts';

/** How a resolution ends: the address, or the kind of refusal with its message. */
async function outcome(p: Promise<string>): Promise<string> {
  try {
    return await p;
  } catch (err) {
    return err instanceof DestinationError ? `${err.kind}: ${err.message}` : `error: ${(err as Error).message}`;
  }
}

t.test('classification of special addresses', async (t) => {
  const table: Array<[string, string | undefined]> = [
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['10.1.2.3', 'private (RFC 1918)'], ['172.16.0.1', 'private (RFC 1918)'], ['172.31.255.255', 'private (RFC 1918)'], ['192.168.1.1', 'private (RFC 1918)'],
    ['169.254.169.254', 'link-local / cloud metadata'], ['fe80::1', 'link-local / cloud metadata'],
    ['100.64.0.1', 'carrier-grade NAT (RFC 6598)'], ['100.127.255.255', 'carrier-grade NAT (RFC 6598)'],
    ['fc00::1', 'unique-local IPv6'], ['fd12:3456::1', 'unique-local IPv6'],
    ['64:ff9b::7f00:1', 'NAT64'], ['64:ff9b::a9fe:a9fe', 'NAT64'],
    ['2002:7f00:1::1', '6to4'], ['2001:0:4136:e378::1', 'Teredo'],
    ['224.0.0.1', 'multicast'], ['ff02::1', 'multicast'], ['255.255.255.255', 'reserved'],
    ['::127.0.0.1', 'reserved'], ['::ffff:0:0:a9fe:a9fe', 'reserved'], ['0:0:0:1::7f00:1', 'reserved'], ['::ffff:0:a9fe:a9fe', 'link-local / cloud metadata'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:a9fe:a9fe', 'link-local / cloud metadata'], ['::ffff:10.0.0.1', 'private (RFC 1918)'],
    ['8.8.8.8', undefined], ['1.1.1.1', undefined], ['172.32.0.1', undefined], ['100.128.0.1', undefined], ['2606:4700::1111', undefined], ['::ffff:8.8.8.8', undefined],
  ];
  for (const [addr, want] of table) t.equal(classifyAddress(addr), want, `${addr} → ${want ?? 'public'}`);
  t.equal(unmapIPv4('::ffff:7f00:1'), '127.0.0.1');
  t.equal(unmapIPv4('::ffff:1.2.3.4'), '1.2.3.4');
});

t.test('numeric host spellings normalize to the address they reach, and are refused', async (t) => {
  const guard = new DestinationGuard({ lookup: async () => { throw new Error('numeric forms must not be looked up'); } });
  for (const spelling of ['http://2130706433/', 'http://0x7f.1/', 'http://127.1/', 'http://0177.0.0.1/', 'http://[::ffff:127.0.0.1]/', 'http://[::1]/', 'http://0/', 'http://169.254.169.254/', 'http://[::ffff:a9fe:a9fe]/', 'http://017700000001/']) {
    const url = parseTarget(spelling);
    t.match(await outcome(guard.resolve(url.hostname.replace(/^\[|\]$/g, ''), 80)), /^blocked:/, spelling);
  }
});

t.test('names: every resolved address must pass; pins are checked too', async (t) => {
  const answers: Record<string, string[]> = {
    'public.example': ['93.184.215.14'],
    'mixed.example': ['93.184.215.14', '10.0.0.5'],
    'meta.example': ['169.254.169.254'],
    'v6private.example': ['fd00::1'],
  };
  const lookups: string[] = [];
  const guard = new DestinationGuard({
    lookup: async (h) => {
      lookups.push(h);
      return answers[h] ?? [];
    },
    resolve: parseResolvePins(['api.github.com=127.0.0.1', 'pinned.example=93.184.215.15']),
  });
  t.equal(await guard.resolve('public.example', 443), '93.184.215.14');
  t.equal(await guard.resolve('PUBLIC.example', 80), '93.184.215.14');
  t.same(lookups, ['public.example'], 'answers are cached briefly (the checked address is what gets dialed)');
  t.match(await outcome(guard.resolve('mixed.example', 443)), /^blocked:.*10\.0\.0\.5 is private/, 'one private answer poisons the name');
  t.match(await outcome(guard.resolve('meta.example', 80)), /^blocked:.*cloud metadata/);
  t.match(await outcome(guard.resolve('v6private.example', 80)), /^blocked:/);
  t.match(await outcome(guard.resolve('nothing.example', 80)), /^resolve:/);
  t.equal(await guard.resolve('pinned.example', 443), '93.184.215.15', 'pins replace DNS');
  t.match(await outcome(guard.resolve('api.github.com', 443)), /^blocked:/, 'a pin to loopback is still refused without --allow-private');
});

t.test('a name another agent queued behind its own hung lookups is looked up in the neighbour\'s own turn', async (t) => {
  // Eighth pass: the cache shared a lookup still waiting in one agent's turn. An agent whose lookup
  // of a name that never answers holds its one slot, then asks for the name its neighbour uses,
  // made the neighbour wait in that queue until DNS_TIMEOUT_MS refused it ("no answer from DNS").
  const never = new Promise<string[]>(() => {});
  const lookups: string[] = [];
  const guard = new DestinationGuard({ lookup: async (h) => (lookups.push(h), h.startsWith('hang') ? never : ['93.184.215.14']) });
  void outcome(guard.resolve('hang.example', 443, 'hostile'));
  const queued = outcome(guard.resolve('api.shared.example', 443, 'hostile'));
  const t0 = performance.now();
  t.equal(await outcome(guard.resolve('api.shared.example', 443, 'calm')), '93.184.215.14', 'the neighbour gets its answer');
  t.ok(performance.now() - t0 < 1000, `at once (${Math.round(performance.now() - t0)} ms), not after the hostile agent's queue`);
  t.equal(await outcome(guard.resolve('API.shared.example', 80, 'hostile')), '93.184.215.14', 'a known answer is shared with every agent');
  t.same(lookups, ['hang.example', 'api.shared.example'], 'one lookup for the name');
  void queued;
});

t.test('--allow-private opens exactly what it names; Airlock itself stays closed', async (t) => {
  const guard = new DestinationGuard({
    allowPrivate: ['127.0.0.1', '10.0.0.0/8:8443', '[fd00::/8]:80'].map(parseAllowPrivate),
    resolve: parseResolvePins({ 'api.github.com': '127.0.0.1' }),
    own: [{ address: '127.0.0.1', port: 8080 }, { address: '127.0.0.1', port: 8081 }],
  });
  t.equal(guard.refusal('127.0.0.1', 3000), undefined);
  t.equal(await guard.resolve('api.github.com', 443), '127.0.0.1');
  t.match(guard.refusal('127.0.0.2', 3000), /loopback/, '127.0.0.2 is not 127.0.0.1/32');
  t.equal(guard.refusal('10.9.9.9', 8443), undefined);
  t.match(guard.refusal('10.9.9.9', 8444), /private/, 'port-bound exception');
  t.equal(guard.refusal('fd00::5', 80), undefined);
  t.match(guard.refusal('169.254.169.254', 80), /metadata/);
  t.match(guard.refusal('127.0.0.1', 8080), /Airlock itself/, 'the proxy itself, even inside an allowed range');
  t.match(guard.refusal('127.0.0.1', 8081), /Airlock itself/, 'the studio');
  t.match(guard.refusal('::ffff:127.0.0.1', 8080), /Airlock itself/);
  t.match(guard.refusal('0.0.0.0', 8080), /Airlock itself/, '0.0.0.0 reaches local listeners');
  t.throws(() => parseAllowPrivate('localhost'), /not an IP/);
  t.throws(() => parseAllowPrivate('10.0.0.0/33'), /prefix/);
  t.throws(() => parseResolvePins(['x=not-an-ip']), /not an IP/);
});

t.test('a wildcard listener owns every local address on its port', async (t) => {
  const guard = new DestinationGuard({ allowPrivate: [parseAllowPrivate('0.0.0.0/0'), parseAllowPrivate('::/0')], own: [{ address: '0.0.0.0', port: 9000 }] });
  t.match(guard.refusal('127.0.0.1', 9000), /Airlock itself/);
  t.match(guard.refusal('::1', 9000), /Airlock itself/);
  t.equal(guard.refusal('127.0.0.1', 9001), undefined);
});

t.test('--resolve HOST[:PORT]=ADDR[:PORT]: a pin may name the port it applies to and the port to dial', async (t) => {
  const pins = parseResolvePins([
    'registry.test:443=127.0.0.1:8443', 'registry.test=127.0.0.9', 'v6.test:443=[::1]:9443', 'bare6.test=::1,::2', 'Trailing.Test.:80=127.0.0.1',
  ]);
  t.same(pins.get('registry.test:443'), { addresses: ['127.0.0.1'], port: 8443 });
  t.same(pins.get('registry.test'), { addresses: ['127.0.0.9'] });
  t.same(pins.get('v6.test:443'), { addresses: ['::1'], port: 9443 });
  t.same(pins.get('bare6.test'), { addresses: ['::1', '::2'] });
  t.same(pins.get('trailing.test:80'), { addresses: ['127.0.0.1'] });
  const guard = new DestinationGuard({ resolve: pins, allowPrivate: [parseAllowPrivate('127.0.0.1:8443'), parseAllowPrivate('127.0.0.9')] });
  t.same(await guard.resolveEndpoint('registry.test', 443), { address: '127.0.0.1', port: 8443 }, 'the port-specific pin wins and names the port to dial');
  t.same(await guard.resolveEndpoint('REGISTRY.test', 80), { address: '127.0.0.9', port: 80 }, 'other ports use the host-wide pin');
  const closed = new DestinationGuard({ resolve: pins, allowPrivate: [parseAllowPrivate('127.0.0.1:443')] });
  t.match(await outcome(closed.resolve('registry.test', 443)), /^blocked:.*pinned to port 8443/, '--allow-private is checked against the port actually dialed');
  for (const [bad, why] of [
    ['registry.test=127.0.0.1:8443', /target port needs the port it replaces/],
    ['registry.test:99999=127.0.0.1', /not a port number/],
    ['registry.test:443=127.0.0.1:0', /not a port number/],
    ['registry.test:443=127.0.0.1:1,127.0.0.2:2', /same port/],
    ['127.0.0.1:443=127.0.0.2', /already an address/],
    ['registry.test:443=host.test:80', /not an IP address/],
    ['=127.0.0.1', /expected HOST\[:PORT\]=ADDR\[:PORT\]/],
  ] as const) t.throws(() => parseResolvePins([bad]), why, bad);
});

t.test('the spare lane reads the hosts file as the system does (names, aliases, comments; a zone left off)', async (t) => {
  const hosts = parseHosts([
    '127.0.0.1 localhost',
    '# 10.0.0.9 commented.example',
    '10.1.2.3\tBuild.Internal. build   # the CI box',
    'fe80::1%eth0 router.lan',
    '::1 localhost ip6-localhost',
    'not-an-address bogus.example',
    '10.1.2.4 build.internal',
  ].join('\n'));
  t.same(hosts.get('localhost'), ['127.0.0.1', '::1'], 'every address a name is given, in file order');
  t.same(hosts.get('build.internal'), ['10.1.2.3', '10.1.2.4'], 'case and a trailing dot as the resolver reads them');
  t.same(hosts.get('build'), ['10.1.2.3'], 'an alias');
  t.same(hosts.get('router.lan'), ['fe80::1'], 'the zone left off: the guard judges fe80::1 (link-local)');
  t.notOk(hosts.has('commented.example'), 'a comment');
  t.notOk(hosts.has('bogus.example'), 'a line without an address');
  t.match(classifyAddress(hosts.get('router.lan')![0]!), /link-local|private/, 'and refuses it unless opened');
});
