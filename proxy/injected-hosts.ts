// The places a credential was injected into, and which secrets in which forms. Whatever comes
// back from such a place afterwards is scrubbed for those secrets — every response and every
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
// A service keeps what it recorded longer than one Airlock process lives, and a load balancer
// sends the agent's next request to any replica: the places are kept in the ledger (the state
// folder, or PostgreSQL shared by every replica: state/stores.ts InjectionLedger), by place,
// secret name and form — never a value. Values come from the secret store by name when a scrubber
// is built; the values this process sent are kept in memory too, so a value replaced in the store
// since is still scrubbed here.
//
// Memory is bounded: past MAX_HOSTS hosts and addresses, every secret injected anywhere is
// scrubbed from every host (more scrubbing, never less), and the ledger records the place `*`.
import type { InjectedPlace, InjectionLedger } from '../state/stores.ts';
import { Scrubber } from './scrubber.ts';

/** The secret store as the scrubbers read it. */
export interface SecretSource {
  /** Changes whenever a value or placeholder may have changed. */
  readonly generation: number;
  valueOf(name: string): string | undefined;
  placeholderOf(name: string): string | undefined;
  names(): string[];
}

/** One secret injected into a request: its value, and a form it left in (formOf). */
export interface Injection {
  secret: string;
  value: string;
  form: string;
}

/** Where a directive puts a value, as the ledger records it: `value` (itself, or a text holding it), `basic:<pair>`, `query:<template>`. */
export function formOf(d: { in: string; name?: string; format?: string }): string {
  if (d.in === 'basic') return `basic:${d.format ?? `${d.name ?? ''}:{}`}`;
  if (d.in === 'query') return `query:${d.format ?? '{}'}`;
  return 'value';
}

/** The text a form of `value` is on the wire: what the service received, scrubbed in every spelling. */
export function spellForm(form: string, value: string): string {
  const fill = (template: string): string => template.split('{}').join(value);
  if (form.startsWith('basic:')) return Buffer.from(fill(form.slice('basic:'.length))).toString('base64');
  if (form.startsWith('query:')) return encodeURIComponent(fill(form.slice('query:'.length)));
  return value;
}

const MAX_HOSTS = 1024;
const MAX_SCRUBBERS = 64;
/** Values of one secret this process sent, and secrets so remembered. */
const MAX_SENT_VALUES = 8;
const MAX_SENT_SECRETS = 4096;

const pairKey = (secret: string, form: string): string => `${secret}\0${form}`;

interface HostEntry {
  /** pairKey(secret, form). */
  pairs: Set<string>;
  scrubber?: Scrubber;
  stamp?: string;
}

export class InjectedHosts {
  /** By host name, and by `@[address]:port` (addressKey). */
  private readonly hosts = new Map<string, HostEntry>();
  private everywhere: HostEntry | undefined;
  /** Compiled scrubbers by their value set, shared between hosts that got the same secrets. */
  private readonly compiled = new Map<string, Scrubber>();
  /** Scrubbers for a host and an address together, valid while the stamp has not moved. */
  private readonly pairs = new Map<string, { stamp: string; scrubber: Scrubber }>();
  /** Values this process injected, by secret, oldest first. */
  private readonly sent = new Map<string, string[]>();
  private changes = 0;
  private readonly stopLedger: (() => void) | undefined;

  constructor(private readonly source: SecretSource, private readonly ledger?: InjectionLedger) {
    if (!ledger) return;
    const learn = (list: InjectedPlace[]): void => {
      for (const p of list) this.add(p.place, [pairKey(p.secret, p.form)]);
    };
    learn(ledger.pairs());
    this.stopLedger = ledger.onRecord(learn);
  }

  /** The key under which what was sent to an address and port is remembered. */
  static addressKey(address: string, port: number): string {
    return `@[${address}]:${port}`;
  }

  /**
   * Notes that `injected` went into a request to `place`: a host (lowercase, as described) or an
   * addressKey. Scrubbed here at once; the promise (when something new must be written) resolves
   * once the ledger has it, and the request must not leave before.
   */
  remember(place: string, injected: readonly Injection[]): Promise<void> | undefined {
    for (const i of injected) this.noteSent(i.secret, i.value);
    this.add(place, injected.map((i) => pairKey(i.secret, i.form)));
    if (!this.ledger) return undefined;
    const where = this.everywhere ? '*' : place;
    return this.ledger.record(injected.map((i) => ({ place: where, secret: i.secret, form: i.form })));
  }

  /** Whether anything was injected into `host`, or sent to `address` (an addressKey). */
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
    const stamp = this.stamp();
    const known = this.pairs.get(key);
    if (known && known.stamp === stamp) return known.scrubber;
    const scrubber = this.compile([...byName.pairs, ...byAddress.pairs]);
    if (this.pairs.size >= MAX_HOSTS) this.pairs.delete(this.pairs.keys().next().value!);
    this.pairs.set(key, { stamp, scrubber });
    return scrubber;
  }

  close(): void {
    this.stopLedger?.();
  }

  private add(place: string, keys: readonly string[]): void {
    if (!this.everywhere && (place === '*' || (!this.hosts.has(place) && this.hosts.size >= MAX_HOSTS))) {
      const all = new Set<string>();
      for (const e of this.hosts.values()) for (const k of e.pairs) all.add(k);
      this.everywhere = { pairs: all };
      this.hosts.clear();
      this.changes++;
    }
    let entry = this.everywhere ?? this.hosts.get(place);
    if (!entry) {
      entry = { pairs: new Set() };
      this.hosts.set(place, entry);
      this.changes++;
    }
    for (const k of keys) {
      if (entry.pairs.has(k)) continue;
      entry.pairs.add(k);
      this.changes++;
    }
  }

  private noteSent(secret: string, value: string): void {
    if (!value) return;
    let list = this.sent.get(secret);
    if (list?.includes(value)) return;
    if (!list) {
      if (this.sent.size >= MAX_SENT_SECRETS) this.sent.delete(this.sent.keys().next().value!);
      list = [];
      this.sent.set(secret, list);
    }
    list.push(value);
    if (list.length > MAX_SENT_VALUES) list.shift();
    this.changes++;
  }

  private stamp(): string {
    return `${this.changes}:${this.source.generation}`;
  }

  private scrubberOf(entry: HostEntry): Scrubber {
    const stamp = this.stamp();
    if (!entry.scrubber || entry.stamp !== stamp) {
      entry.scrubber = this.compile(entry.pairs);
      entry.stamp = stamp;
    }
    return entry.scrubber;
  }

  /** The scrubber for these secret/form pairs, with the store's values now and the ones this process sent. */
  private compile(keys: Iterable<string>): Scrubber {
    const unique = new Map<string, { value: string; placeholder: string }>();
    for (const k of keys) {
      const cut = k.indexOf('\0');
      const secret = k.slice(0, cut);
      const form = k.slice(cut + 1);
      for (const name of secret === '*' ? [...new Set([...this.source.names(), ...this.sent.keys()])] : [secret]) {
        const placeholder = this.source.placeholderOf(name) ?? `airlock-ph-${name}`;
        const values = new Set(this.sent.get(name));
        const now = this.source.valueOf(name);
        if (now) values.add(now);
        for (const v of values) {
          const value = spellForm(form, v);
          if (value) unique.set(`${value}\0${placeholder}`, { value, placeholder });
        }
      }
    }
    const secrets = [...unique.values()].sort((a, b) => (a.value < b.value ? -1 : a.value > b.value ? 1 : a.placeholder < b.placeholder ? -1 : 1));
    const key = JSON.stringify(secrets.map((s) => [s.value, s.placeholder]));
    let s = this.compiled.get(key);
    if (!s) {
      s = new Scrubber(secrets);
      if (this.compiled.size >= MAX_SCRUBBERS) this.compiled.delete(this.compiled.keys().next().value!);
      this.compiled.set(key, s);
    }
    return s;
  }
}
