// The end of a host name, which says whose it is (pure: bundled into the browser app and imported
// by the CLI). `api.github.com.aaaa….evil.example` is a name of evil.example, but people read a
// host from its start, and a long one wraps or is cut so that its end is out of sight.

/**
 * A host name is read from its end (`api.github.com.x.evil.example` is a name of evil.example), but
 * people read it from its start, and a long one wraps or is cut so that its end is out of sight.
 * Split into what goes before its last two labels and those (an address or a one-label name: all
 * of it), so the end can be drawn apart and kept on screen.
 */
export function hostEnd(host: string): [string, string] {
  if (/^[\d.]+$|^\[|:/.test(host)) return ['', host];
  const labels = host.replace(/\.$/, '').split('.');
  if (labels.length <= 2) return ['', host];
  const tail = labels.slice(-2).join('.');
  return [host.slice(0, host.length - tail.length - (host.endsWith('.') ? 1 : 0)), host.slice(host.length - tail.length - (host.endsWith('.') ? 1 : 0))];
}

/** Hosts longer than this are shortened from their start in one-line places (the links, notifications, `approvals list`). */
export const SHORT_HOST = 40;

/** A host for a one-line place: a long one keeps its end (`…bbbb.evil.example`), never its start only. */
export function shortHost(host: string): string {
  return host.length > SHORT_HOST ? `…${host.slice(host.length - SHORT_HOST)}` : host;
}
