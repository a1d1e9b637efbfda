// The hosts a credential was injected into during this process, and with which values. Whatever
// comes back from such a host afterwards is scrubbed for those values — every response and every
// WebSocket message, not only the answer to the request that carried the injection — because a
// service may record a request's headers and show them on another request (a request log, a
// debug page, a webhook history) that injects nothing. The forms a directive sent the value in
// (the base64 of a Basic pair, a percent-encoded query value) are scrubbed in every spelling too:
// a service records those, and may show them back hex- or base64-encoded.
//
// Memory is bounded: past MAX_HOSTS hosts, every value injected anywhere is scrubbed from every
// host (more scrubbing, never less). Values stay in memory only, like the store's.
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
  private readonly hosts = new Map<string, HostEntry>();
  private everywhere: HostEntry | undefined;
  /** Compiled scrubbers by their value set, shared between hosts that got the same secrets. */
  private readonly compiled = new Map<string, Scrubber>();

  /** Notes that `secrets` were injected into a request to `host` (lowercase, as described). */
  remember(host: string, secrets: InjectedSecret[]): void {
    if (!this.everywhere && !this.hosts.has(host) && this.hosts.size >= MAX_HOSTS) {
      this.everywhere = { secrets: new Map() };
      for (const e of this.hosts.values()) for (const [v, s] of e.secrets) this.everywhere.secrets.set(v, s);
    }
    const entry = this.everywhere ?? this.hosts.get(host) ?? this.hosts.set(host, { secrets: new Map() }).get(host)!;
    for (const s of secrets) {
      if (!s.value) continue;
      const known = entry.secrets.get(s.value);
      if (known && known.placeholder === s.placeholder) continue;
      entry.secrets.set(s.value, s);
      delete entry.scrubber;
    }
  }

  /** Whether anything was injected into `host` in this process. */
  has(host: string): boolean {
    return this.everywhere !== undefined || this.hosts.has(host);
  }

  /** The scrubber for what comes back from `host`, or undefined when nothing was ever injected there. */
  scrubberFor(host: string): Scrubber | undefined {
    const entry = this.everywhere ?? this.hosts.get(host);
    if (!entry) return undefined;
    if (!entry.scrubber) {
      const secrets = [...entry.secrets.values()].sort((a, b) => (a.value < b.value ? -1 : 1));
      const key = JSON.stringify(secrets.map((s) => [s.value, s.placeholder]));
      let s = this.compiled.get(key);
      if (!s) {
        s = new Scrubber(secrets.map((x) => ({ value: x.value, placeholder: x.placeholder })));
        if (this.compiled.size >= MAX_SCRUBBERS) this.compiled.delete(this.compiled.keys().next().value!);
        this.compiled.set(key, s);
      }
      entry.scrubber = s;
    }
    return entry.scrubber;
  }
}
