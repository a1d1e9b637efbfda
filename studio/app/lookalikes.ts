// Waiting approvals that look alike, and what tells each apart, for the approval card and
// `airlock approvals list` (pure: bundled into the browser app and imported by the CLI). An agent
// that sends ten harmless requests and one that differs only in its body, its query or one header
// (`Stripe-Account`, another recipient) makes a person approve card after card of the same look.
import type { ApprovalView } from '../api/wire.ts';

/** What the comparison reads of an approval (a studio view or the CLI's record). */
type Approval = Pick<ApprovalView, 'id' | 'agent' | 'description' | 'summary' | 'request_hash' | 'description_complete'> & Partial<Pick<ApprovalView, 'held' | 'held_cookies'>>;

/** Headers of the message's framing that Airlock sets or strips itself: never a part that tells two apart. */
const FRAMING_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'airlock-approval']);

/** Look-alike parts listed on a card before "and N more". */
export const LOOKALIKE_PARTS = 6;

/**
 * What tells a request apart from another of its agent to the same method, host and path: its
 * exact path, query, each header's values (a header one has and another lacks differs too) and its body.
 */
function partsOf(a: Approval, cookies: boolean): Map<string, string> {
  const r = a.description?.request ?? {};
  const parts = new Map<string, string>();
  let search = '';
  try {
    search = new URL(r.url ?? '').search;
  } catch {
    search = String(r.url ?? '');
  }
  parts.set('the path', String(r.path ?? a.summary?.path ?? ''));
  parts.set('the query', search);
  const headers = r.headers && typeof r.headers === 'object' ? r.headers : {};
  for (const [n, vs] of Object.entries(headers)) if (!FRAMING_HEADERS.has(n.toLowerCase())) parts.set(`header ${n.toLowerCase()}`, JSON.stringify(vs));
  parts.set('the body', `${r.body?.size ?? 0} ${r.body?.sha256 ?? ''}`);
  // Credential headers are shown `[redacted]` on every card alike: whose they are (a keyed digest
  // of the agent's own session cookie, token …) is what tells the user's account from another.
  parts.set("whose credentials the agent sent", typeof r.own_credentials === 'string' ? r.own_credentials : '');
  // While every one of them is held, the cookie values the cards show then (an account or tenant
  // picked beside the session) are parts too: named, not "a value the card shows redacted".
  if (cookies) for (const [n, v] of Array.isArray(a.held_cookies) ? a.held_cookies : []) parts.set(`cookie ${n}`, v);
  return parts;
}

/** Headers the card shows redacted (`[redacted]`, `Bearer [redacted]`): values two cards may differ in unseen. */
function redactedHeaders(a: Approval): string[] {
  const headers = a.description?.request?.headers;
  if (!headers || typeof headers !== 'object') return [];
  return Object.entries(headers).filter(([, vs]) => (Array.isArray(vs) ? vs : [vs]).some((v) => String(v).includes('[redacted]'))).map(([n]) => n.toLowerCase());
}

/**
 * A path as servers route it, for grouping look-alikes: escapes undone (`%63harges`), any letter
 * case, `;params` cut, empty segments dropped (`//`, a trailing slash) and a format suffix on the
 * last segment cut (`/v1/charges.json`: Rails' `(.:format)`, Django REST's format suffixes, Spring's
 * suffix match run the action of `/v1/charges`). Grouping too much only adds a note naming the path.
 */
export function routeOf(path: string): string {
  const segments = path.split('/').map((seg) => {
    const semi = seg.indexOf(';');
    const raw = semi >= 0 ? seg.slice(0, semi) : seg;
    let text = raw;
    try {
      text = decodeURIComponent(raw);
    } catch {
      /* a broken escape stays as sent */
    }
    return text.toLowerCase();
  }).filter(Boolean);
  const last = segments.length - 1;
  if (last >= 0) {
    const seg = segments[last]!;
    const dot = seg.lastIndexOf('.');
    if (dot > 0 && seg.length - dot <= 11 && /^[a-z0-9]+$/.test(seg.slice(dot + 1))) segments[last] = seg.slice(0, dot);
  }
  return `/${segments.join('/')}`;
}

/**
 * Waiting approvals that look alike: the same agent, method, host, port and path (as servers route
 * it: routeOf). An agent that
 * sends ten harmless requests and one that differs only in its body, its query or one header
 * (`Stripe-Account`, another recipient) makes a person approve card after card of the same look.
 * For each approval of such a group: how many others there are, and the parts of it that no other
 * one shares (empty when each of its parts is also on another card).
 */
export function lookalikes(list: Approval[]): Map<string, Lookalike> {
  const groups = new Map<string, Approval[]>();
  for (const a of list) {
    const r = a.description?.request;
    // The path as many servers route it (see routeOf): the exact one is a part that may differ.
    const route = routeOf(String(r?.path ?? a.summary?.path ?? ''));
    const host = String(r?.host ?? a.summary?.host ?? '').toLowerCase().replace(/\.$/, '');
    const key = JSON.stringify([a.agent, String(r?.method ?? a.summary?.method ?? '').toUpperCase(), host, r?.port ?? null, route]);
    const g = groups.get(key);
    if (g) g.push(a);
    else groups.set(key, [a]);
  }
  const out = new Map<string, Lookalike>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    // A shortened copy (a long URL, many headers, a large body) may have cut what tells two apart.
    if (group.some((a) => a.description_complete === false)) {
      for (const a of group) out.set(a.id, { others: group.length - 1, own: [], same: 0, partial: true });
      continue;
    }
    const held = group.every((a) => a.held === true);
    const parts = group.map((a) => partsOf(a, held));
    // The path, query and body first: past LOOKALIKE_PARTS the card names only how many headers more.
    const names = [...new Set(parts.flatMap((p) => [...p.keys()]))].sort((x, y) => Number(x.startsWith('header ')) - Number(y.startsWith('header ')));
    group.forEach((a, i) => {
      const own = names.filter((n) => parts.every((p, j) => j === i || (p.get(n) ?? '') !== (parts[i]!.get(n) ?? '')));
      const same = group.filter((b, j) => j !== i && b.request_hash !== undefined && b.request_hash === a.request_hash).length;
      // Another request that reads the same on every part the card shows, yet is not this one: they
      // differ where the card cannot show it (a redacted header's value), and must not pass as twins.
      const unseen = group.some((b, j) => j !== i && b.request_hash !== a.request_hash && names.every((n) => (parts[j]!.get(n) ?? '') === (parts[i]!.get(n) ?? '')));
      if (unseen) {
        const hidden = redactedHeaders(a);
        own.push(hidden.length ? `a value the card shows redacted (header ${hidden.join(', header ')})` : 'something the card does not show');
      }
      out.set(a.id, { others: group.length - 1, own, same });
    });
  }
  return out;
}

/** A waiting approval among look-alikes: how many others, its own parts, how many are the very same request. */
export interface Lookalike {
  others: number;
  own: string[];
  same: number;
  /** Some copy in the group is shortened (its whole one not loaded yet): nothing is claimed about the parts. */
  partial?: boolean;
}

