// The hosts a credential was injected into during this process, and with which values. Whatever
// comes back from such a host afterwards is scrubbed for those values — every response and every
// WebSocket message, not only the answer to the request that carried the injection — because a
// service may record a request's headers and show them on another request (a request log, a
// debug page, a webhook history) that injects nothing. The forms a directive sent the value in
// (the base64 of a Basic pair, a percent-encoded query value) are scrubbed in every spelling too:
// a service records those, and may show them back hex- or base64-encoded.
//
// A server answers to more names than the one the policy bound (a single-tenant server ignores
// Host; a service has an API name and a web name), so the address and port a secret was sent to
// count too: whatever comes back from a request sent to that address and port, under any name,
// is scrubbed for what was injected there.
//
// Memory is bounded: past MAX_HOSTS hosts and addresses, every value injected anywhere is scrubbed
// from every host (more scrubbing, never less). Values stay in memory only, like the store's.
import { Scrubber } from './scrubber.ts';

export interface InjectedSecret {
  name: string;
  /** The value, or a form it was sent in (the base64 of a Basic pair, a percent-encoded query value). */
  value: string;
  placeholder: string;
}

const MAX_HOSTS = 1024;
const MAX_SCRUBBERS = 64;

interface HostEntry {
  /** value → secret. */
  secrets: Map<string, InjectedSecret>;
  scrubber?: Scrubber;
}

export class InjectedHosts {
  /** By host name, and by `@[address]:port` (addressKey). */
  private readonly hosts = new Map<string, HostEntry>();
  private everywhere: HostEntry | undefined;
  /** Compiled scrubbers by their value set, shared between hosts that got the same secrets. */
  private readonly compiled = new Map<string, Scrubber>();
  /** Scrubbers for a host and an address together, valid while `changes` has not moved. */
  private readonly pairs = new Map<string, { changes: number; scrubber: Scrubber }>();
  private changes = 0;

  /** The key under which what was sent to an address and port is remembered. */
  static addressKey(address: string, port: number): string {
    return `@[${address}]:${port}`;
  }

  /** Notes that `secrets` were injected into a request to `place`: a host (lowercase, as described) or an addressKey. */
  remember(place: string, secrets: InjectedSecret[]): void {
    if (!this.everywhere && !this.hosts.has(place) && this.hosts.size >= MAX_HOSTS) {
      this.everywhere = { secrets: new Map() };
      for (const e of this.hosts.values()) for (const [v, s] of e.secrets) this.everywhere.secrets.set(v, s);
      this.changes++;
    }
    const entry = this.everywhere ?? this.hosts.get(place) ?? this.hosts.set(place, { secrets: new Map() }).get(place)!;
    for (const s of secrets) {
      if (!s.value) continue;
      const known = entry.secrets.get(s.value);
      if (known && known.placeholder === s.placeholder) continue;
      entry.secrets.set(s.value, s);
      delete entry.scrubber;
      this.changes++;
    }
  }

  /** Whether anything was injected into `host`, or sent to `address` (an addressKey), in this process. */
  has(host: string, address?: string): boolean {
    return this.everywhere !== undefined || this.hosts.has(host) || (address !== undefined && this.hosts.has(address));
  }

  /** The scrubber for what comes back from `host` at `address` (an addressKey), or undefined when nothing was ever injected there. */
  scrubberFor(host: string, address?: string): Scrubber | undefined {
    if (this.everywhere) return this.scrubberOf(this.everywhere);
    const byName = this.hosts.get(host);
    const byAddress = address === undefined ? undefined : this.hosts.get(address);
    if (!byName || !byAddress) {
      const only = byName ?? byAddress;
      return only && this.scrubberOf(only);
    }
    const key = `${host}\0${address}`;
    const known = this.pairs.get(key);
    if (known && known.changes === this.changes) return known.scrubber;
    const scrubber = this.compile([...byName.secrets.values(), ...byAddress.secrets.values()]);
    if (this.pairs.size >= MAX_HOSTS) this.pairs.delete(this.pairs.keys().next().value!);
    this.pairs.set(key, { changes: this.changes, scrubber });
    return scrubber;
  }

  private scrubberOf(entry: HostEntry): Scrubber {
    entry.scrubber ??= this.compile([...entry.secrets.values()]);
    return entry.scrubber;
  }

  private compile(list: InjectedSecret[]): Scrubber {
    const unique = new Map<string, InjectedSecret>();
    for (const x of list) unique.set(`${x.value}\0${x.placeholder}`, x);
    const secrets = [...unique.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.placeholder < b.placeholder ? -1 : 1));
    const key = JSON.stringify(secrets.map((s) => [s.value, s.placeholder]));
    let s = this.compiled.get(key);
    if (!s) {
      s = new Scrubber(secrets.map((x) => ({ value: x.value, placeholder: x.placeholder })));
      if (this.compiled.size >= MAX_SCRUBBERS) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, s);
    }
    return s;
  }
}
