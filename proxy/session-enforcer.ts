// Sessions and information-flow labels in the proxy (docs/policies.md, "Sessions and labels").
//
// describe:     the request's session (input.session) — started on its token's first request —
//               and, when links are tracked, where this exact URL was seen (request.provenance).
// beforeForward: the request's egress bytes count for the session once it is let through.
// onResponse:   an answer of the upstream (any status) adds the decision's `labels` to the session —
//               in memory at once, durably before the first byte of the body reaches the agent —
//               and, when links are tracked, a 2xx body's links are recorded as it streams
//               (describe/links.ts), and a 3xx's Location (redirectScan).
// egressMeter / onMessage: a stream still sending data out (an upload past the captured prefix,
//               a WebSocket) was decided under the labels the session held when it opened; once the
//               session gains a label (or a human resets it), the next byte it would send is refused
//               and the stream cut. The agent's next request is decided with the labels it now holds.
// onMessage / the response tap: an answer still streaming to the agent when a human clears one of
//               its labels brings it again with its next piece; one still streaming (or still on its
//               way) when a human resets the session is cut.
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import type { LabelArrival, SessionInfo } from '../describe/types.ts';
import { LINK_SCAN_LIMITS, LinkScanner, bodyLinkCarriesRequestValue, echoedBy, linkFormat, normalizeLink, pageSkeleton, redirectCarriesRequestValue, requestSkeletonSteps, requestValues, type LinkScanLimits, type RequestSkeletons } from '../describe/links.ts';
import { ownThreadClock } from '../engine/thread-cpu.ts';
import { TurnGate } from '../lib/turn-gate.ts';
import type { Entered } from '../state/sessions.ts';
import type { AgentSessions } from '../state/stores.ts';
import { isStoreUnavailable } from '../state/unavailable.ts';
import { decodedBody, multipartText } from './body-readings.ts';
import { cookieValueDigest, credentialCookieDigests } from '../describe/describe.ts';
import { restrictAcceptEncoding } from './credentials.ts';
import type { EgressMeter, Enforcer, Rejection, RequestContext, ResponseHead } from './enforcers.ts';
import { refusals } from './refusals.ts';
import { lookupTable } from '../lib/records.ts';

export interface SessionEnforcerOptions {
  store: AgentSessions;
  /** Whether links are recorded and looked up now (the loaded policy reads request.provenance, or config says so). */
  trackLinks: () => boolean;
  limits?: LinkScanLimits;
}

/** The session key of a request whose token is unknown (a proxy built without token ids). */
const agentWide = (agent: string): string => `agent:${agent}`;

function headerValue(head: ResponseHead, name: string): string | undefined {
  for (const [k, v] of head.headers) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** A streaming answer's session, the labels it brought, and how many human changes of the session it has seen. */
interface StreamLabels {
  id: string;
  labels: readonly string[];
  seen: number;
}

function sessionEnded(): Rejection {
  return {
    status: 403,
    type: 'session-reset',
    title: 'Session reset',
    detail: 'a human reset this session while this stream was open; it is closed. Send the request again: it starts the new session',
    outcome: 'session-reset',
  };
}

/** A `wrote:` label the store refused: the request does not leave (its host would then serve back what it carried). */
function writtenUnstored(err: unknown): Rejection {
  return {
    status: 503,
    type: 'session-store-unavailable',
    title: 'Session store unavailable',
    detail: `this request's session label could not be stored (${err instanceof Error ? err.message : String(err)}); it was not forwarded. Retry shortly.`,
    outcome: 'store-unavailable',
    headers: { 'retry-after': '1' },
  };
}

function staleStream(labels: string): Rejection {
  return {
    status: 403,
    type: 'session-labels-changed',
    title: 'Session labels changed',
    detail: `this connection was decided before the session gained the label(s) ${labels}; it is closed. Send the request again: it is decided with what the session holds now`,
    outcome: 'session-labels-changed',
  };
}

/**
 * Whether a compiled policy reads `request.provenance`: OPA compiles every reference's path into
 * the module's string constants, so the word is in the WebAssembly bytes exactly when some rule
 * reachable from the decision refers to it. (A policy that builds the name at run time is not seen:
 * it then gets no provenance and its browsing rule never matches — closed, not open.)
 */
export function policyReadsProvenance(wasm: Buffer | undefined): boolean {
  return wasm !== undefined && wasm.includes('provenance');
}

/**
 * `wrote:<host>` says where this session sent data (rego/sessions.rego: that host's links are not
 * followed), not what its context holds: no stream decided before it is stale for it, since only
 * browsing (a GET without a body, no stream) is decided on it.
 */
function isWrittenLabel(label: string): boolean {
  return label.startsWith('wrote:');
}

export function sessionEnforcer(opts: SessionEnforcerOptions): Enforcer {
  const { store } = opts;
  const limits = opts.limits ?? LINK_SCAN_LIMITS;
  /** Bumped whenever a session gains a label: streams opened under an older generation are stale. */
  const generation = new Map<string, { n: number; labels: string; ended?: true }>();
  /** The generation each request's streams were decided (or last relabelled) under. */
  const decidedAt = new WeakMap<RequestContext, number>();

  /** The generation each description was decided under (recorded when it was described). */
  const describedAt = new WeakMap<object, number>();
  /**
   * Per session, the cookie names each host set in its answers (`Set-Cookie`), host by host (the
   * exact host: a `Domain` attribute is not followed). A cookie named as a login
   * (`request.credential_cookies`) that the host itself handed out in this session is that page's
   * own (an anonymous `PHPSESSID`, a cookie jar's round trip); one it never set here is a login the
   * agent brought, and the host answers as that account (twenty-eighth pass: such a read came in as
   * a page, `untrusted` only). Kept as digests of name and value (`cookieValueDigest`; twenty-ninth
   * pass: by name alone, a login value sent under a name the host had handed out passed as its own).
   * Kept in memory only: after a restart every such cookie counts as brought (fails closed).
   * Bounded: 10,000 sessions, 256 hosts each, 256 values a host.
   */
  const cookiesSet = new Map<string, Map<string, Set<string>>>();
  const noteCookiesSet = (session: string, host: string, head: ResponseHead): void => {
    let hosts: Map<string, Set<string>> | undefined;
    for (const [k, v] of head.headers) {
      if (k.toLowerCase() !== 'set-cookie') continue;
      const eq = v.indexOf('=');
      const name = eq > 0 ? v.slice(0, eq).trim() : '';
      if (name === '' || name.length > 128) continue;
      const semi = v.indexOf(';', eq + 1);
      const value = v.slice(eq + 1, semi < 0 ? undefined : semi).trim();
      if (!hosts) {
        hosts = cookiesSet.get(session);
        if (!hosts) {
          if (cookiesSet.size >= 10_000) cookiesSet.clear();
          cookiesSet.set(session, (hosts = new Map()));
        }
      }
      let names = hosts.get(host);
      if (!names) {
        if (hosts.size >= 256) continue;
        hosts.set(host, (names = new Set()));
      }
      // The value handed out, as a digest (twenty-ninth pass): a login cookie's value the agent puts
      // under that name is not the page's own.
      if (names.size < 256) names.add(cookieValueDigest(name, value));
    }
  };

  /** The session each token was last described in (at most 10,000 tokens). */
  const sessionOfToken = new Map<string, string>();

  const genOf = (id: string): number => generation.get(id)?.n ?? 0;
  const streamCheck = (ctx: RequestContext): Rejection | undefined => {
    const id = ctx.description.session?.id;
    if (id === undefined) return undefined;
    const at = decidedAt.get(ctx) ?? describedAt.get(ctx.description) ?? 0;
    const g = generation.get(id);
    return g && g.n !== at ? (g.ended ? sessionEnded() : staleStream(g.labels)) : undefined;
  };

  /**
   * Adds a response's labels to its session; a label new to it makes the session's older streams
   * stale. `ownStream` says whether this request's own stream stays current: a WebSocket's does (the
   * policy decided it with the labels its 101 brings, and a human's clear is restated through it); an
   * upload's does not, since what the agent sends after reading its answer was decided without it.
   */
  const arrive = (ctx: RequestContext, id: string, held: Record<string, unknown>, labels: readonly string[], ownStream = true): Promise<unknown> => {
    const r = ctx.description.request;
    try {
      held = store.get(id).labels; // what it holds now (a human may have cleared one since the request was described)
    } catch {
      /* a shared store's view not yet refreshed: the description's copy */
    }
    const fresh = labels.filter((l) => !held[l] && !isWrittenLabel(l));
    if (fresh.length) {
      // Every stream of this session opened before now is stale — except this request's own, when
      // it was current until now. One already stale (the session gained a label after it was
      // decided) stays stale: its own answer's labels vouch for nothing it may send.
      const before = genOf(id);
      const current = ownStream && (decidedAt.get(ctx) ?? describedAt.get(ctx.description) ?? 0) === before;
      const g = { n: before + 1, labels: fresh.join(', ') };
      generation.set(id, g);
      if (current) decidedAt.set(ctx, g.n);
    }
    return store.addLabels(id, labels, { request_id: r.id, host: r.host, time: new Date().toISOString() });
  };

  /**
   * Per WebSocket answer that brought labels: what its check against a human's clear or reset needs.
   * The value holds no reference to its key: V8's young-generation collector keeps a WeakMap entry
   * whose value reaches its key alive, which promoted every request to the old generation (RSS
   * grew by ~100 MiB under load, GC time doubled).
   */
  const streamChecks = new WeakMap<RequestContext, StreamLabels>();
  /** Bumped for a session whenever a human clears one of its labels or resets it (the store's change feed). */
  const humanChanges = new Map<string, number>();
  /**
   * The `wrote:` labels of every session of every agent: a host holds what any agent stored there and
   * serves it to all, so no session follows its links (fourteenth pass: only the same agent's later
   * sessions inherited them; another agent, or a session already live, followed what was stored).
   * Bounded by the hosts the configuration lets agents send to (a `*.` entry is one label).
   */
  const writtenAnywhere = new Map<string, LabelArrival>();
  try {
    for (const s of store.list()) for (const [l, a] of Object.entries(s.labels)) if (isWrittenLabel(l) && !writtenAnywhere.has(l)) writtenAnywhere.set(l, a);
  } catch {
    /* a shared store's view not read yet: its change feed fills the map */
  }
  store.onChange((c) => {
    if (c.type === 'labels') {
      for (const l of c.labels ?? []) if (isWrittenLabel(l) && !writtenAnywhere.has(l)) writtenAnywhere.set(l, c.session.labels[l] ?? { request_id: '', host: l.slice(6), time: new Date().toISOString() });
    }
    // A human who clears it vouches for what that host serves.
    if (c.type === 'cleared' && isWrittenLabel(c.label)) writtenAnywhere.delete(c.label);
    if (c.type === 'cleared' || c.type === 'ended') humanChanges.set(c.session.id, (humanChanges.get(c.session.id) ?? 0) + 1);
    // A reset ends the session: its streams still sending were decided in it, and are cut.
    if (c.type === 'ended') generation.set(c.session.id, { n: genOf(c.session.id) + 1, labels: '', ended: true });
    // Labels a response brought through another replica make this replica's older streams of the
    // session stale too, as `arrive` does for labels that arrive here.
    const content = c.type === 'labels' && c.remote ? (c.labels ?? []).filter((l) => !isWrittenLabel(l)) : [];
    if (content.length) generation.set(c.session.id, { n: genOf(c.session.id) + 1, labels: content.join(', ') });
  });
  /** The check for a streaming answer: cheap (one map lookup) until a human changed its session. */
  const recheck = (ctx: RequestContext, st: StreamLabels): Promise<unknown> | Rejection | undefined => {
    const now = humanChanges.get(st.id) ?? 0;
    if (now === st.seen) return undefined;
    st.seen = now;
    return restate(ctx, st.id, st.labels);
  };
  /**
   * A response still streaming to the agent (a long body, server-sent events, WebSocket messages)
   * keeps bringing content after its labels arrived. If a human has since cleared one of them, the
   * next piece brings them again; if the session was reset, the stream belongs to a session that
   * no longer exists and is cut (the agent asks again, in its new session). A session the store
   * cannot find (a shared store's view not yet refreshed) is left as it is.
   */
  const restate = (ctx: RequestContext, id: string, labels: readonly string[]): Promise<unknown> | Rejection | undefined => {
    let rec: { labels: Record<string, unknown>; ended?: unknown };
    try {
      rec = store.get(id);
    } catch {
      return undefined;
    }
    if (rec.ended) return sessionEnded();
    return labels.every((l) => rec.labels[l]) ? undefined : arrive(ctx, id, rec.labels, labels);
  };

  /**
   * A session's first request: the `wrote:` labels of its agent's other sessions (earlier runs, a
   * session a human reset) come with it. What an earlier session stored on a host is still there,
   * so the new session does not follow that host's links either (a link written in one run and
   * followed in the next). Content labels do not come: a new session starts with nothing read.
   */
  const inheritWritten = async (agent: string, session: SessionInfo): Promise<void> => {
    const inherited = new Map<string, LabelArrival>();
    for (const other of store.list({ agent })) {
      if (other.id === session.id) continue;
      for (const [label, arrival] of Object.entries(other.labels)) {
        if (isWrittenLabel(label) && !session.labels[label] && !inherited.has(label)) inherited.set(label, arrival);
      }
    }
    for (const [label, arrival] of inherited) {
      await store.addLabels(session.id, [label], arrival);
      session.labels[label] = arrival;
    }
  };

  return {
    name: 'sessions',

    async describe(d, origin) {
      const r = d.request;
      const track = opts.trackLinks() && (r.scheme === 'http' || r.scheme === 'https');
      const key = origin?.token ?? agentWide(d.agent.id);
      // The generation before the store is read: a label that arrives while it is read (a database
      // answers asynchronously) may be missing from what it returns, so this request counts as
      // decided before that label (its streams are stale).
      const known = sessionOfToken.get(key);
      const before = known === undefined ? undefined : genOf(known);
      const link = track ? { url: r.url, host: r.host } : undefined;
      // A token admit left unconfirmed is confirmed by this same statement when the store can (shared state).
      const pending = origin?.unconfirmed;
      let entered: Entered;
      if (pending && pending.confirmed === undefined && origin?.token !== undefined && store.enterConfirming) {
        const both = await store.enterConfirming(d.agent.id, key, r.time, link);
        pending.confirmed = both?.agent ?? null;
        if (!both) return; // revoked: the pipeline refuses it
        entered = both;
      } else {
        entered = await store.enter(d.agent.id, key, r.time, link);
      }
      d.session = entered.session;
      // A login cookie the host set in this session is its own; the others are the agent's (cookiesSet).
      if (r.credential_cookies) {
        const own = cookiesSet.get(entered.session.id)?.get(r.host);
        // Own only when every value sent under the name is one the host handed out here (twenty-ninth
        // pass: the name alone let a brought login value ride under the page's anonymous PHPSESSID).
        const sent = credentialCookieDigests(r);
        const brought = own ? r.credential_cookies.filter((n) => !(sent?.get(n) ?? []).length || !sent!.get(n)!.every((dg) => own.has(dg))) : r.credential_cookies;
        if (brought.length) r.credential_cookies = brought;
        else delete r.credential_cookies;
      }
      if (entered.session.requests <= 1) await inheritWritten(d.agent.id, entered.session);
      // Where any session sent data, for the browsing rules (the session's record is left as it is).
      if (track) for (const [l, a] of writtenAnywhere) if (!d.session.labels[l]) d.session.labels[l] = a;
      if (sessionOfToken.size >= 10_000 && known === undefined) sessionOfToken.clear(); // bounded; a token it forgot is described as before
      sessionOfToken.set(key, entered.session.id);
      describedAt.set(d, known === entered.session.id ? before! : genOf(entered.session.id));
      if (track) r.provenance = entered.seen ? { seen: true, request_id: entered.seen.request_id, host: entered.seen.host } : { seen: false, host_seen: entered.hostSeen === true };
    },

    beforeForward(ctx) {
      const s = ctx.description.session;
      if (!s) return undefined;
      ctx.audit.session = { id: s.id };
      // An answer in a content coding the link scan cannot undo (zstd, which curl --compressed, urllib3
      // with zstandard and browsers ask for, and CDNs serve) records no link, so a search result
      // could not be followed: the agent is offered only the codings the scan reads (eleventh pass).
      const r = ctx.description.request;
      if (opts.trackLinks() && (r.scheme === 'http' || r.scheme === 'https') && !r.upgrade && restrictAcceptEncoding(ctx.outgoing.headers)) {
        ctx.audit.negotiation_neutralized = [...new Set([...(ctx.audit.negotiation_neutralized as string[] | undefined ?? []), 'accept-encoding'])].sort();
      }
      store.addEgress(s.id, ctx.description.request.egress_bytes);
      // `wrote:<host>` (rego/sessions.rego): the host holds what this request sends from the moment
      // it arrives, answered or not (a write the agent abandons mid-way has reached it): stored before
      // it leaves, so that host's later links are not followed.
      const wrote = (ctx.decision.labels ?? []).filter(isWrittenLabel);
      if (!wrote.length) return undefined;
      return store.addLabels(s.id, wrote, { request_id: r.id, host: r.host, time: new Date().toISOString() }).then(
        () => undefined,
        (err: unknown) => (isStoreUnavailable(err) ? refusals.unavailable(err) : writtenUnstored(err)),
      );
    },

    egressMeter(ctx): EgressMeter | undefined {
      const s = ctx.description.session;
      if (!s) return undefined;
      // As the byte budgets count (proxy/ratelimit-enforcer.ts): beforeForward already counted the
      // body the description counted (the captured prefix, or the declared length), and each
      // WebSocket frame is counted here at its size on the wire, once.
      let covered = ctx.description.request.body.size;
      return (bytes) => {
        const stale = streamCheck(ctx);
        if (stale) return stale;
        const prepaid = Math.min(covered, bytes);
        covered -= prepaid;
        store.addEgress(s.id, bytes - prepaid);
        return undefined;
      };
    },

    onMessage(ctx, message) {
      if (message.to === 'agent') {
        if (message.kind === 'close') return undefined;
        const st = streamChecks.get(ctx);
        if (!st) return undefined;
        const again = recheck(ctx, st);
        if (!(again instanceof Promise)) return again;
        again.catch(() => undefined); // re-added in memory at once; written as it goes
        return undefined;
      }
      if (message.kind === 'close') return undefined;
      // Counted by egressMeter, which the relay calls for every frame to the upstream.
      return streamCheck(ctx);
    },

    // A statement an open tunnel carries (a SELECT over Hrana or PostgreSQL's protocol) answers over
    // the tunnel: its labels arrive before it is relayed, as a response's do before its body. A
    // label new to the session makes the tunnel stale, as any stream decided before it: this
    // statement is refused and the tunnel closed; the agent's next upgrade is decided with it.
    onCarried(tunnel, statement) {
      const s = statement.description.session;
      const labels = statement.decision.labels ?? [];
      if (!s || !labels.length) return undefined;
      (statement.audit.session as Record<string, unknown> | undefined ?? (statement.audit.session = { id: s.id }) as Record<string, unknown>).labels = [...labels];
      const ended = restate(statement, s.id, []);
      if (ended && !(ended instanceof Promise)) return ended;
      // A read of the tunnel's own upstream (a database socket's records) keeps the tunnel current,
      // as its 101's labels do, unless it was stale already.
      if (statement.carriedRead && tunnel) return Promise.resolve(arrive(tunnel, s.id, s.labels, labels, true)).then(() => streamCheck(tunnel));
      return Promise.resolve(arrive(statement, s.id, s.labels, labels, false)).then(() => (tunnel ? streamCheck(tunnel) : undefined));
    },

    onResponse(ctx, head) {
      const s = ctx.description.session;
      if (!s) return undefined;
      // Labels arrive with every answer of the upstream, whatever its status: a 404 or 500 page
      // brings its content into the agent's context as much as a 200 does (a host that serves an
      // injection chooses its status too). Links come from successful answers only.
      const ok = (head.statusCode >= 200 && head.statusCode < 300) || head.statusCode === 101;
      noteCookiesSet(s.id, ctx.description.request.host, head);
      const labels = ctx.decision.labels ?? [];
      let stored: Promise<unknown> | undefined;
      if (labels.length) {
        (ctx.audit.session as Record<string, unknown> | undefined ?? (ctx.audit.session = { id: s.id }) as Record<string, unknown>).labels = [...labels];
        // Reset while this request was on its way: its answer belongs to no session; cut it.
        const ended = restate(ctx, s.id, []);
        if (ended && !(ended instanceof Promise)) return new ResponseTap(Promise.reject(new Error(ended.detail)), undefined);
        // An upload still streaming when its answer brings a new label (a page that answers before
        // the body ends) is cut at its next byte: the agent read that answer before sending the rest.
        stored = arrive(ctx, s.id, s.labels, labels, head.statusCode === 101);
      }
      const format = ok && opts.trackLinks() && head.statusCode !== 101 ? linkFormat(headerValue(head, 'content-type') ?? '') : undefined;
      const location = head.statusCode >= 300 && head.statusCode < 400 && opts.trackLinks() ? headerValue(head, 'location') : undefined;
      const scan = format ? linkScan(ctx, head, format, limits, store) : location !== undefined ? redirectScan(ctx, location, limits, store) : undefined;
      if (!stored && !scan) return undefined;
      if (!labels.length) return new ResponseTap(stored, scan);
      const st: StreamLabels = { id: s.id, labels, seen: humanChanges.get(s.id) ?? 0 };
      if (head.statusCode === 101) streamChecks.set(ctx, st);
      return new ResponseTap(stored, scan, () => recheck(ctx, st));
    },
  };
}

interface Scan {
  feed(chunk: Buffer): void;
  finish(): Promise<void>;
}

/**
 * Text decoders kept for reuse: opening one costs a converter lookup per response. A decoder goes
 * back only after its final (flushing) decode, which leaves it as a new one is.
 */
const textDecoders = {
  free: new Map<string, TextDecoder[]>(),
  take(charset: string): TextDecoder {
    return this.free.get(charset.toLowerCase())?.pop() ?? new TextDecoder(charset);
  },
  give(d: TextDecoder): void {
    let list = this.free.get(d.encoding);
    if (!list) this.free.set(d.encoding, (list = []));
    if (list.length < 64) list.push(d);
  },
};

const linkDecoders: Readonly<Record<string, () => Transform>> = lookupTable({
  gzip: zlib.createGunzip, 'x-gzip': zlib.createGunzip, deflate: zlib.createInflate, br: zlib.createBrotliDecompress,
});

/** Reads a response body's links on the side (decoded, bounded); the bytes to the agent are untouched. */
function linkScan(ctx: RequestContext, head: ResponseHead, format: NonNullable<ReturnType<typeof linkFormat>>, limits: LinkScanLimits, store: AgentSessions): Scan | undefined {
  // What the request itself carried: links the answer merely echoes are not recorded. Unknown
  // (a body not seen whole): no links from this answer at all. Worked out once links are found.
  const r = ctx.description.request;
  if (r.body.truncated || ctx.body?.truncated || r.body.decode_error !== undefined) return undefined;
  const coding = (headerValue(head, 'content-encoding') ?? 'identity').trim().toLowerCase();
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(headerValue(head, 'content-type') ?? '')?.[1] ?? 'utf-8';
  const sent = requestSent(ctx, charset);
  let text: TextDecoder;
  try {
    text = textDecoders.take(charset);
  } catch {
    return undefined; // a charset this Node cannot decode: no links from it (fails closed)
  }
  if (coding !== 'identity' && !Object.hasOwn(linkDecoders, coding)) return undefined;
  return new LinkScan(ctx, new LinkScanner(format, r.url, limits), text, limits, store, coding === 'identity' ? undefined : linkDecoders[coding]!(), sent);
}

/** What the request carried, read step by step in every view a server may echo it in (describe/links.ts). */
function requestSent(ctx: RequestContext, charset: string): () => Generator<void, RequestSkeletons | undefined> {
  return () => {
    // Multipart parts as a MIME parser reads them (base64 or quoted-printable undone), and the bytes
    // of a body under a content coding once it is undone (read in other charsets too): a server may echo those.
    const parts = multipartText(ctx);
    const decoded = [...(parts ? [Buffer.from(parts, 'latin1')] : []), ...[decodedBody(ctx)].filter((b): b is Buffer => b !== undefined)];
    return requestSkeletonSteps({
      pathAndQuery: ctx.outgoing.url.pathname + ctx.outgoing.url.search, headers: ctx.outgoing.headers, ...(ctx.body ? { body: ctx.body } : {}),
      ...(decoded.length ? { decoded } : {}), answerCharset: charset, summary: ctx.description.request.body,
    });
  };
}

/**
 * A redirect's `Location` is a link the answer served: curl -L, requests, fetch and browsers follow
 * it with a request of their own (the proxy never follows it). A followed link that moved
 * (`http://` to `https://`, a trailing slash, another host, a search engine's click-through URL)
 * was refused as a URL no answer served.
 *  - The answer to a request that carried nothing but a link the session was served (a followed
 *    link: forwarded bare, no body) chose its Location alone: it counts as served by whoever served
 *    that link (the redirect stands in for it). The echo check does not apply: what the request
 *    carried is that served link, which the Location often repeats.
 *  - Any other answer's Location is a link of that host's, judged as its body's links are: one the
 *    request carried (an open redirect to `https://evil/?d=<data>` the agent wrote) is not recorded;
 *    nor is one to another host that carries a value the request sent (redirectCarriesRequestValue).
 * Its body's links are not read (a "moved here" page repeats the Location).
 */
function redirectScan(ctx: RequestContext, location: string, limits: LinkScanLimits, store: AgentSessions): Scan | undefined {
  const r = ctx.description.request;
  const session = ctx.description.session;
  if (!session || r.body.truncated || ctx.body?.truncated || r.body.decode_error !== undefined) return undefined;
  const raw = location.trim();
  const link = normalizeLink(raw, new URL(r.url));
  if (!link || link.length > limits.urlChars) return undefined;
  const p = r.provenance;
  const followed = p?.seen === true && p.request_id !== undefined && p.host !== undefined && ctx.decision.bare_headers === true && r.body.size === 0 && !r.upgrade;
  if (followed) {
    const from = { request_id: p.request_id!, host: p.host! };
    return { feed: () => undefined, finish: async () => { await store.addLinks(session.id, from, [link]); } };
  }
  // A redirect to another host built from what the request sent (OAuth's error redirect to the
  // client's registered URI, with the request's `state`) carries the agent's data without echoing
  // the whole link: not recorded (fifteenth pass).
  if (redirectCarriesRequestValue(link, requestValues({ host: r.host, query: r.query, form: r.body.form, json: r.body.json }))) {
    ctx.audit.location_carries_request = true;
    return undefined;
  }
  // Read as a page whose text is the link, as the answer wrote it when absolute (its spelling counts for the echo check).
  const written = /^https?:\/\//i.test(raw) ? raw : link;
  const scan = new LinkScan(ctx, new LinkScanner('text', r.url, limits), textDecoders.take('utf-8'), limits, store, undefined, requestSent(ctx, 'utf-8'));
  scan.feed(Buffer.from(`${written}\n`, 'latin1'));
  return { feed: () => undefined, finish: () => scan.finish() };
}

/** One response's link scan: bytes in (still encoded when `decoder` is set), links to the store at the end. */
class LinkScan implements Scan {
  private read = 0;
  private stopped = false;
  private readonly decoded: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: RequestContext,
    private readonly scanner: LinkScanner,
    private readonly text: TextDecoder,
    private readonly limits: LinkScanLimits,
    private readonly store: AgentSessions,
    private readonly decoder: Transform | undefined,
    private readonly sent: () => Generator<void, RequestSkeletons | undefined>,
  ) {
    if (decoder) {
      decoder.on('data', (chunk: Buffer) => this.take(chunk));
      this.decoded = new Promise((resolve) => {
        decoder.once('end', resolve);
        decoder.once('error', () => resolve()); // a broken coding: what was read so far counts
        decoder.once('close', resolve);
      });
    }
  }

  private take(chunk: Buffer): void {
    if (this.stopped) return;
    this.read += chunk.length;
    try {
      this.scanner.write(this.text.decode(chunk, { stream: true }));
    } catch (err) {
      return this.unread(err);
    }
    if (this.scanner.full || this.read > this.limits.maxChars * 4) {
      // Enough read: the decoder stops now, not after inflating whatever it was given (a few KB
      // of brotli are gigabytes, a minute of a libuv thread that DNS and file writes share).
      this.stopped = true;
      this.decoder?.destroy();
    }
  }

  feed(chunk: Buffer): void {
    if (this.stopped) return;
    try {
      if (this.decoder) this.decoder.write(chunk);
      else this.take(chunk);
    } catch (err) {
      this.unread(err);
    }
  }

  /**
   * The reader threw on the answer (twenty-seventh pass): called from the body's stream (its
   * transform, or the decoder's 'data' listener), the throw went out of the socket's read, an
   * uncaught exception that stopped the process. Now the scan stops and records no link of this
   * answer (fails closed: none is followable), and the record says why; the answer goes on.
   */
  private unread(err: unknown): void {
    this.stopped = true;
    this.failed = true;
    this.decoder?.destroy();
    this.ctx.audit.links_unread = `the answer's links could not be read: ${(err as Error)?.message ?? String(err)}`.slice(0, 200);
  }

  private failed = false;

  async finish(): Promise<void> {
    if (this.decoder) {
      if (this.stopped) this.decoder.destroy();
      else this.decoder.end();
      await this.decoded; // bounded: the decoder is destroyed once maxChars × 4 bytes came out
    }
    if (!this.stopped) {
      try {
        this.scanner.write(this.text.decode());
      } catch (err) {
        this.unread(err);
      }
      textDecoders.give(this.text); // flushed: holds no state of this body
    }
    if (this.failed) return;
    const r = this.ctx.description.request;
    const found = this.scanner.end();
    if (!found.length) return;
    // One answer of an agent judged at a time, agents taking turns: each costs up to a second of
    // the event loop in slices, and one agent's many answers must not take every turn.
    const owner = (this.ctx.description.agent as { id?: string } | undefined)?.id ?? '';
    const judged = await linkJudging.run(owner, () => this.judge(found), JUDGE_WAIT_MS, () => new Error('link judging waited too long'))
      .catch(() => ({ urls: [], unjudged: found.length }));
    const { urls, unjudged } = judged;
    if (unjudged) this.ctx.audit.links_unjudged = unjudged;
    // A database store commits the links before the response ends (the next request may be on another replica).
    if (urls.length) await this.store.addLinks(this.ctx.description.session!.id, { request_id: r.id, host: r.host }, urls);
  }

  /**
   * The links of `found` the request did not carry. Reading what it carried (every view of a body
   * of up to a MiB) runs in slices within SKELETON_BUDGET_MS; past it no link is recorded (fails closed).
   */
  private async judge(found: readonly string[]): Promise<{ urls: string[]; unjudged: number }> {
    const sent = await sliced(this.sent(), SKELETON_BUDGET_MS);
    if (sent === budgetSpent) return { urls: [], unjudged: found.length };
    if (!sent) return { urls: [], unjudged: 0 };
    const r = this.ctx.description.request;
    const page = pageSkeleton(r.url);
    // A link to another host whose query value is one the request sent: built from the request (fifteenth pass).
    const values = requestValues({ host: r.host, query: r.query, form: r.body.form, json: r.body.json }, true);
    return servedLinks(found, (u) => !bodyLinkCarriesRequestValue(u, values) && !echoedBy(u, sent, this.scanner.spellingsOf(u), page));
  }
}

/** Answers whose links are judged at once (at most one per agent), and how long one waits for its turn. */
const linkJudging = new TurnGate(8, 1);
const JUDGE_WAIT_MS = 15_000;
/** Reading what a request carried, at most (a MiB body of `<` and `&`, or of `%25`, took ~1–2 s in one go). */
const SKELETON_BUDGET_MS = 1000;

const budgetSpent = Symbol('budget spent');

/** The event loop thread's own CPU clock (undefined without /proc: wall time is charged then). */
let loopClock: ReturnType<typeof ownThreadClock> | null = null;

/**
 * Runs a generator's steps in slices of ECHO_SLICE_MS of the event loop; `budgetSpent` once they
 * took budgetMs. A slice is charged the thread's own CPU time (at most its wall time): on a busy
 * machine the time spent waiting for a core is not the work's, and charging it left a loaded
 * Airlock's answers with no followable link.
 */
async function sliced<T>(steps: Generator<void, T>, budgetMs: number): Promise<T | typeof budgetSpent> {
  if (loopClock === null) loopClock = ownThreadClock();
  const clock = loopClock;
  let spent = 0;
  let sliceAt = performance.now();
  let cpuAt = clock?.cpuMs();
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    const now = performance.now();
    if (now - sliceAt >= ECHO_SLICE_MS) {
      const cpu = clock?.cpuMs();
      spent += cpu !== undefined && cpuAt !== undefined ? Math.min(now - sliceAt, cpu - cpuAt) : now - sliceAt;
      if (spent >= budgetMs) return budgetSpent;
      await new Promise((resolve) => setImmediate(resolve));
      sliceAt = performance.now();
      cpuAt = clock?.cpuMs();
    }
  }
}

/** Judging an answer's links runs in slices of this much of the event loop; other requests go on between them. */
const ECHO_SLICE_MS = 5;
/** Past this much judging, an answer's remaining links are not recorded (not followable: fails closed). */
const ECHO_BUDGET_MS = 250;

/** The links `served` keeps, judged in slices within ECHO_BUDGET_MS; `unjudged`: links left out past it. */
async function servedLinks(found: readonly string[], served: (url: string) => boolean): Promise<{ urls: string[]; unjudged: number }> {
  const urls: string[] = [];
  let judged = 0;
  function* steps(): Generator<void, void> {
    for (; judged < found.length; judged++) {
      yield;
      if (served(found[judged]!)) urls.push(found[judged]!);
    }
  }
  const done = await sliced(steps(), ECHO_BUDGET_MS);
  return { urls, unjudged: done === budgetSpent ? found.length - judged : 0 };
}

/**
 * The response body on its way to the agent: waits for the labels to be stored before the first
 * byte passes (a database store answers asynchronously), and feeds the link scan a copy.
 */
class ResponseTap extends Transform {
  constructor(
    private stored: Promise<unknown> | undefined,
    private readonly scan: Scan | undefined,
    /** Between pieces of the body: the labels again if a human cleared one, a refusal if the session was reset. */
    private readonly restate?: () => Promise<unknown> | Rejection | undefined,
  ) {
    super();
    stored?.catch(() => undefined); // handled when the first piece (or the end) waits for it
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.scan?.feed(chunk);
    let wait = this.stored;
    this.stored = undefined;
    if (!wait && this.restate) {
      const again = this.restate();
      if (again && !(again instanceof Promise)) return cb(new Error(again.detail));
      wait = again;
    }
    if (!wait) return cb(null, chunk);
    wait.then(() => cb(null, chunk), (err: unknown) => cb(err as Error));
  }

  override _flush(cb: TransformCallback): void {
    // Labels that could not be stored fail the response; a link scan that failed only loses links.
    (this.stored ?? Promise.resolve())
      .then(() => this.scan?.finish().catch(() => undefined))
      .then(() => cb(), (err: unknown) => cb(err as Error));
  }
}
