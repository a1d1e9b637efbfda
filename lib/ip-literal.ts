// IPv4-mapped IPv6 literals (`::ffff:a.b.c.d`) as the IPv4 address they carry. Pure.

/**
 * An IPv4-mapped IPv6 literal as the URL parser writes it (`[::ffff:127.0.0.1]`, `[0::FFFF:7f00:1]`
 * and every other spelling become `::ffff:7f00:1`, brackets removed) is the IPv4 address it
 * carries: a dual-stack socket dials that address over IPv4. A policy is shown that address, as for
 * the other IPv4 spellings the parser makes canonical (`0x7f.1`, `2130706433`), so a deny-list
 * naming an address is not passed by its mapped spelling. Anything else (SIIT
 * `::ffff:0:a.b.c.d` included, an IPv6 destination) is returned as it is.
 */
export function unmappedHost(hostname: string): string {
  const m = hostname.startsWith('::ffff:') ? /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(hostname) : null;
  if (!m) return hostname;
  const hi = parseInt(m[1]!, 16);
  const lo = parseInt(m[2]!, 16);
  return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}

/** The URL with an IPv4-mapped IPv6 host written as the IPv4 address it carries (`unmappedHost`). */
export function unmapUrlHost(url: URL): URL {
  if (url.hostname.startsWith('[::ffff:')) {
    const bare = url.hostname.slice(1, -1);
    const v4 = unmappedHost(bare);
    if (v4 !== bare) url.hostname = v4;
  }
  return url;
}
