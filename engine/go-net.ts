// OPA's `net.cidr_is_valid` as Go's `net.ParseCIDR` reads a CIDR: an address as netip.ParseAddr
// reads it (IPv4 without leading zeros, IPv6 without a zone) and a prefix length of decimal digits
// up to the address's bits. (The CIDR builtins that return sets stay unsupported: the WebAssembly
// boundary carries a set as an array.)
import net from 'node:net';

export function cidrIsValid(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const [addr, mask] = [s.slice(0, slash), s.slice(slash + 1)];
  if (addr.includes('%')) return false;
  const bits = net.isIPv4(addr) ? 32 : net.isIPv6(addr) ? 128 : 0;
  // Go's dtoi: digits only (leading zeros allowed), stopping at 0xFFFFFF.
  if (!bits || !/^[0-9]{1,8}$/.test(mask)) return false;
  return Number(mask) <= bits;
}
