// The steps every request goes through, in this order, over one Exchange (proxy/exchange.ts):
//
//   admit     the audit log is writable; a WebSocket upgrade is a well-formed offer; the agent is
//             authenticated; the target is well-formed (Host, CONNECT target and SNI agree)
//   describe  raw request → request description (describe/), then the enforcers' describe hooks
//   decide    the policy engine; deny, and a path that means two things, stop here
//   enforce   the enforcers' beforeForward in order (an approve no enforcer took is denied: fail
//             closed), then destination safety on the resolved address to dial
//   forward   proxy/upstream.ts (HTTP) or proxy/websocket-forward.ts (upgrades)
//   record    the audit record, written once
//
// Each step fills the exchange and returns a Refusal or nothing; none touches a socket, so the
// order is tested by feeding exchanges (test/proxy/pipeline.test.ts). proxy/listener.ts drives the
// steps for plain requests and upgrades alike, and renders a refusal on its connection.
import net from 'node:net';
import type { AgentInfo, RequestDescription } from '../describe/types.ts';
import { DescribeError, describeRequestLoaded, type PlaceholderFinder, type RawRequest } from '../describe/describe.ts';
import { pathAmbiguity, pathHeaderAmbiguity, rawPathOf } from '../describe/path-ambiguity.ts';
import type { EngineDecision } from '../engine/decision.ts';
import type { AbortLike } from '../lib/abort-flag.ts';
import { unmappedHost, unmapUrlHost } from '../lib/ip-literal.ts';
import { trimTrailing } from '../lib/text.ts';
import { TurnGate } from '../lib/turn-gate.ts';
import { parseProxyAuthorization, tokenRefusedHere } from '../state/agents.ts';
import { credentialSlot } from '../engine/grants.ts';
import { retryExceedsApproval } from '../state/approvals.ts';
import { evaluatedAs, type AuditRecord } from '../state/audit-log.ts';
import type { AuditTrail, Identified } from '../state/stores.ts';
import { AgentBusyError, AgentGate, descriptionWeight, type Capture } from './agent-gate.ts';
import { AuditBudget, RefusalRate } from './audit-budget.ts';
import type { DestinationError, DestinationGuard } from './destination.ts';
import { StreamStop, refusedBeforeSending, type Enforcer, type OutgoingRequest, type Rejection, type RequestContext, type RequestOrigin } from './enforcers.ts';
import type { Exchange, RequestHead, Tunnel } from './exchange.ts';
import { endToEnd, formatAuthority, otherForwardedHost, parseAuthority, requestTransferCoding, sameAuthority, misreadHeader, withoutNamedHeaders, type Authority } from './http-util.ts';
import type { LastingChecks } from './lasting-request.ts';
import type { CapturedBody } from './request-body.ts';
import { credentialsHint, denial, refusals, type Refusal } from './refusals.ts';
import { checkAgentHandshake, isHandshakeProblem } from './websocket-handshake.ts';
import { bulkTailWatch } from './bulk-tail.ts';
import { formTailWatches } from './form-tail.ts';
import { secondTargets } from './second-targets.ts';
import { bridgeTargets, socketIoRequest } from './bridge-targets.ts';
import { AnswerTunnels, BodyStreams, bodyTunnel, tunnelAcross, type AnswerWatch } from './body-tunnels.ts';
import { upstreamHeaders } from './websocket-relay.ts';

export interface PipelineDeps {
  engine: {
    decide(input: RequestDescription, opts?: { inputJson?: string }): Promise<EngineDecision>;
    /** Another policy version went live (lasting requests are decided again: proxy/lasting-request.ts). */
    onReload?(fn: () => void): () => void;
    /** The live policy version (a request a human approved under another one is decided again). */
    readonly version?: string | undefined;
  };
  agents: {
    authenticate(name: string, token: string): Promise<AgentInfo | undefined>;
    /** Also names the token that matched (sessions are per token); preferred when present. */
    identify?(name: string, token: string, opts?: { deferConfirm?: boolean }): Promise<Identified | undefined>;
  };
  /** `available` false: records cannot be written (disk full), so nothing is forwarded (503). */
  audit: Pick<AuditTrail, 'append' | 'overShare' | 'behindFor'> & { readonly available?: boolean; readonly unavailableReason?: string | undefined; readonly behind?: boolean };
  guard: Pick<DestinationGuard, 'isOwn' | 'resolveEndpoint'>;
  /** Live list: read on every request, so enforcers added after start apply at once. */
  enforcers: Enforcer[];
  /** Read on every request (the finder is set once the secrets are loaded). */
  placeholders: () => PlaceholderFinder | undefined;
  /** The memory one agent's open requests' descriptions may take (proxy/agent-gate.ts AGENT_DESCRIBED_BYTES); the default when absent. */
  describedPerAgent?: number;
  /** The bytes of a request body captured for its description (the gate's crowd of captured bodies counts in these); 1 MiB when absent. */
  bodyCap?: number;
  /** Each agent's share of the audit log's disk (proxy/audit-budget.ts); the default when absent. */
  auditBudget?: AuditBudget;
  /** Refusals one agent may record one by one per minute (proxy/audit-budget.ts); the default when absent. */
  refusalsPerMinute?: number;
  /** Calls `fn` with the id of each grant revoked (here or through another replica); returns how to stop. */
  grantRevocations?(fn: (id: string) => void): () => void;
  /**
   * Waits until the engine runs the policy version live in a shared store now (replicas): a
   * version published elsewhere a moment before a human's click may not have reached this one yet.
   */
  livePolicy?(): Promise<void>;
}

/**
 * Header fields a request may carry (Tomcat's and Apache's default is 100). Every field is
 * described and searched for placeholders on the main thread: a 16 KiB head holds ~1,000 short
 * fields (Node keeps 2,000), ~4 ms each request, and one agent's loops of them slowed every other
 * agent's requests (a neighbour's GET p50 56–230 ms). Past it: 431 problem+json, recorded.
 */
export const MAX_HEADER_FIELDS = 256;

/**
 * Query parameters a request's URL may carry (`&` or `;` between them, as Rack 2 splits). Each is
 * read on the main thread under every name a server takes for SQL, as JSON, base64 and twice
 * encoded: a 14 KB URL of 2,600 short parameters took ~85 ms to describe on a loaded box (a plain
 * 16 KB query ~7 ms), one agent's four slots of them at a time (twenty-second pass). Past it: 414
 * problem+json, recorded.
 */
export const MAX_QUERY_PARAMS = 512;

/** The parameters of url's query: runs of characters between `&` or `;`, up to a `#`. */
export function queryParamCount(url: string): number {
  const q = url.indexOf('?');
  if (q < 0) return 0;
  let n = 0;
  let inParam = false;
  for (let i = q + 1; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 0x23) break;
    if (c === 0x26 || c === 0x3b) inParam = false;
    else if (!inParam) {
      inParam = true;
      n++;
    }
  }
  return n;
}

/** A second target's identity: the same request named twice is decided once. */
function targetKey(r: RawRequest): string {
  return `${r.method} ${r.url} ${r.body.length}:${r.body.toString('latin1')}`;
}

/** How deep second targets naming their own are read (a batch call that is itself a batch or a copy), and how many in all. */
const MAX_TARGET_DEPTH = 3;
const MAX_SECOND_TARGETS = 2000;
/**
 * A body at least this large (or any compressed one: 12 KB of gzip inflate to 8 MiB) is described
 * in the process's one heavy turn (Pipeline.heavy); smaller ones take microseconds and go at once.
 */
export const HEAVY_BODY_BYTES = 32 * 1024;
/** The longest wait for that turn: past it the request is refused (429 agent-busy). */
const HEAVY_WAIT_MS = 60_000;

/**
 * Past this many field separators (a form's `&` or `;`, JSON's `,`, a line, XML's `<`) a smaller
 * body is heavy too: each field is read under the names servers take for SQL, as JSON, base64 and
 * twice encoded, and a 25 KB form of 4,500 short fields took ~70 ms to describe on a loaded box,
 * four at a time per agent outside the turn (twenty-second pass).
 */
export const HEAVY_BODY_FIELDS = 512;

function manyFields(body: Buffer): boolean {
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if ((c === 0x26 || c === 0x3b || c === 0x2c || c === 0x0a || c === 0x3c) && ++n > HEAVY_BODY_FIELDS) return true;
  }
  return false;
}

/** The scheme, host and port a request goes to (its URL's origin), or the URL where it is none. */
function destinationOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

function heavyRequest(x: Exchange): boolean {
  const body = x.body.captured;
  if (body.length >= HEAVY_BODY_BYTES || manyFields(body)) return true;
  const coding = x.head.headers['content-encoding'];
  return body.length > 0 && coding !== undefined && coding.trim().toLowerCase() !== 'identity' && coding.trim() !== '';
}

const heavyLate = (): Error => new AgentBusyError(`other agents' large requests kept this one from being described for ${HEAVY_WAIT_MS / 1000} s`);

/** Request headers Airlock never forwards (besides hop-by-hop): expectations are answered by the proxy. */
const dropToUpstream = new Set(['expect', 'host']);

/**
 * The headers of a request forwarded with `bare_headers` (a followed link): fixed values, so the
 * request carries nothing the agent chose but its URL. No Accept-Encoding: every client reads an
 * identity body.
 */
export const BARE_HEADERS: ReadonlyArray<readonly [string, string]> = [['user-agent', 'Mozilla/5.0 (compatible; Airlock)'], ['accept', '*/*']];

/** One socket read: what Node's HTTP parser hands a request's body stream before it stops reading. */
const PARSER_READ_BYTES = 64 * 1024;

/** What of a request's body may sit in memory while it waits for a slot: its length up to one read (none without a body). */
function bufferedWhileWaiting(headers: RequestHead['headers']): number {
  const cl = headers['content-length'];
  if (cl === undefined) return headers['transfer-encoding'] === undefined ? 0 : PARSER_READ_BYTES;
  const n = Number(cl);
  return Number.isFinite(n) && n >= 0 ? Math.min(n, PARSER_READ_BYTES) : PARSER_READ_BYTES;
}

/** Two readings' second targets as one: a refusal of either wins. */
function bothTargets(a: ReturnType<typeof secondTargets>, b: ReturnType<typeof secondTargets>): ReturnType<typeof secondTargets> {
  if (a && 'refusal' in a) return a;
  if (b && 'refusal' in b) return b;
  return a && b ? [...a, ...b] : a ?? b;
}

export class Pipeline {
  /** Body prefix, description and decision take one of the agent's few slots (proxy/agent-gate.ts). */
  private readonly gate: AgentGate;
  /**
   * The describe and decide steps of a large body, one at a time in the process, agents taking
   * turns. They are main-thread work (parsing, a description of ten times the body's size, its
   * JSON): run side by side they finish no sooner, the heap holds all of them at once, and every
   * other agent's request waits behind all of them at each of its own steps. One agent's four
   * slots of 1 MiB JSON bodies made a neighbour's GET take 1–4 s (with one at a time: 20–300 ms).
   */
  private readonly heavy = new TurnGate(1, 1);
  /** Each agent's request bodies to a destination read as the streams a tunnel server may join them into (proxy/body-tunnels.ts). */
  private readonly bodyStreams = new BodyStreams();
  /** Each agent's answers from a destination read for a tunnel's other half (the server's bytes), and the destinations found so. */
  private readonly answerTunnels = new AnswerTunnels();
  private readonly auditBudget: AuditBudget;
  private readonly refusalRate: RefusalRate;

  /** What a lasting request's watch asks (proxy/lasting-request.ts). */
  readonly lasting: LastingChecks;

  /** Set when the proxy closes: connections it ends are recorded as ended by Airlock, not the agent. */
  stopping = false;

  constructor(private readonly deps: PipelineDeps) {
    this.gate = new AgentGate(undefined, undefined, undefined, deps.describedPerAgent, undefined, undefined, undefined, deps.bodyCap || undefined);
    this.auditBudget = deps.auditBudget ?? new AuditBudget();
    this.refusalRate = new RefusalRate((summary) => deps.audit.append(summary), deps.refusalsPerMinute);
    this.lasting = {
      authenticate: (header) => this.authenticate(header),
      onPolicyReload: (fn) => deps.engine.onReload?.(fn) ?? (() => undefined),
      onGrantRevoked: (fn) => deps.grantRevocations?.(fn) ?? (() => undefined),
      decide: (input) => deps.engine.decide(input),
    };
  }

  /** admit → describe → decide: the opening a plain request and an upgrade share. `readBody` runs in the agent's slot. */
  async open(x: Exchange, readBody?: (capture: Capture) => Promise<CapturedBody>): Promise<Refusal | undefined> {
    const refused = await this.admit(x);
    if (refused) return refused;
    // While it waits for a slot, what Node's parser already took of its body (one socket read, up
    // to 64 KiB, before it stops reading) is in memory too: counted in the same crowd until the slot starts.
    const waiting = this.gate.capturing(x.agent!.id);
    try {
      if (readBody) waiting.take(bufferedWhileWaiting(x.head.headers));
      return await this.gate.run(x.agent!.id, async () => {
        waiting.release();
        // The captured body is counted in the agents' crowd while the slot holds it (CAPTURED_CROWD_BODIES).
        const body = this.gate.capturing(x.agent!.id);
        try {
          if (readBody) x.body = await readBody(body);
          // Past the bound of its forwarded requests' descriptions, an agent's large requests wait (AGENT_DESCRIBED_BYTES).
          const heavy = heavyRequest(x);
          if (heavy) this.gate.checkDescribed(x.agent!.id);
          // The main-thread parts (the description, its JSON) in the heavy turn when large; the
          // policy's evaluation (on its own thread) after it, so the next one's describe overlaps it.
          return (await this.describe(x, heavy)) ?? this.decide(x);
        } finally {
          body.release();
        }
      });
    } catch (err) {
      if (err instanceof AgentBusyError) return refusals.closing(refusals.busy(err.message));
      // A body the slot refused to read further (in too many pieces: proxy/request-body.ts).
      if (err instanceof StreamStop) return err.rejection;
      throw err;
    } finally {
      waiting.release();
    }
  }

  // ─── admit ───────────────────────────────────────────────────────────────────────────────────

  async admit(x: Exchange): Promise<Refusal | undefined> {
    const unaudited = this.auditUnavailable();
    if (unaudited) return unaudited;
    if (x.upgrade) {
      // The agent's socket is not read until the upstream's 101 is verified: an upgrade that is
      // not a well-formed WebSocket offer never reaches a decision.
      const offer = checkAgentHandshake(x.head);
      if (isHandshakeProblem(offer)) return { ...refusals.bad(offer.detail), ...(offer.headers ? { headers: offer.headers } : {}) };
      x.offer = offer;
    }
    const tunnel = x.tunnel;
    const credential = tunnel ? tunnel.credential : x.head.headers['proxy-authorization'];
    // A run's token works through the Unix socket only (state/agents.ts).
    const elsewhere = tunnel ? undefined : tokenRefusedHere(credential, x.remoteAddress);
    if (elsewhere) return refusals.unauthenticated(elsewhere);
    // A shared directory may leave the token's confirmation to describe (one round trip with the session's entry).
    const who = await this.identify(credential, { deferConfirm: true });
    const agent = who?.agent;
    if (!agent) return this.unauthenticated(x);
    x.agent = agent;
    x.token = who.token;
    x.confirm = who.confirm;
    x.record.agent = agent.id;
    const over = this.auditUnavailable(agent.id);
    if (over) return over;
    try {
      x.entered(this.gate.enter(agent.id));
    } catch (err) {
      if (err instanceof AgentBusyError) return refusals.closing(refusals.busy(err.message));
      throw err;
    }
    const fields = x.head.rawHeaders.length / 2;
    if (fields > MAX_HEADER_FIELDS) {
      return { status: 431, type: 'bad-request', title: 'Request header fields too large', detail: `the request carries ${fields} header fields; Airlock reads at most ${MAX_HEADER_FIELDS}`, outcome: 'rejected' };
    }
    const target = tunnel ? tunnelTarget(x, tunnel) : this.absoluteTarget(x);
    if (typeof target !== 'string') return target;
    const params = queryParamCount(target);
    if (params > MAX_QUERY_PARAMS) {
      return { status: 414, type: 'bad-request', title: 'Too many query parameters', detail: `the request's URL carries ${params} query parameters; Airlock reads at most ${MAX_QUERY_PARAMS}`, outcome: 'rejected' };
    }
    const misread = misreadHeader(x.head.rawHeaders);
    if (misread) return refusals.bad(`the request carries ${misread}`);
    const coding = x.head.headers['transfer-encoding'] === undefined ? undefined : requestTransferCoding(x.head.rawHeaders);
    if (coding !== undefined) {
      return refusals.notImplemented(`the request body is sent with transfer coding ${JSON.stringify(coding.slice(0, 40))}, which Airlock does not implement (RFC 9112 §6.1): only chunked; send a compressed body with Content-Encoding instead`);
    }
    x.url = x.upgrade ? target.replace(/^http/, 'ws') : target;
    x.record.url = x.url;
    return undefined;
  }

  /**
   * A reader of an answer's body for the server's side of a tunnel (proxy/body-tunnels.ts
   * `AnswerTunnels`): given each chunk before it goes to the agent, a refusal that cuts it there.
   */
  answerWatch(x: Exchange, headers: Array<[string, string]>): AnswerWatch | undefined {
    if (!x.agent) return undefined;
    return this.answerTunnels.watch(x.agent.id, destinationOf(x.url), { method: x.head.method ?? 'GET', url: x.url, bodyLength: x.body.captured.length }, headers);
  }

  /**
   * A refusal while records cannot be written (checked again before dialing), or while `agent`'s
   * own records waiting to be written are past its share (state/audit-shares.ts).
   */
  auditUnavailable(agent?: string): Rejection | undefined {
    const audit = this.deps.audit;
    if (audit.available === false) return refusals.audit(audit.unavailableReason ?? 'write failed');
    const over = agent === undefined ? undefined : audit.overShare?.(agent);
    return over === undefined ? undefined : refusals.audit(over);
  }

  async authenticate(header: string | undefined): Promise<AgentInfo | undefined> {
    return (await this.identify(header))?.agent;
  }

  /** The refusal for credentials that do not (or no longer) authenticate. */
  private unauthenticated(x: Exchange): Refusal {
    if (x.tunnel) return refusals.closing(refusals.unauthenticated('the credentials of this tunnel are no longer valid'));
    const credential = x.head.headers['proxy-authorization'];
    return refusals.challenge(credential, credentialsHint(credential));
  }

  /**
   * The agent and, when the directory names it, the id of the token that matched (its session).
   * With `deferConfirm` the answer may carry the `confirm` the caller still has to run.
   */
  private async identify(header: string | undefined, opts: { deferConfirm?: boolean } = {}): Promise<{ agent: AgentInfo; token?: string; confirm?: () => Promise<AgentInfo | undefined> } | undefined> {
    const cred = parseProxyAuthorization(header);
    if (!cred) return undefined;
    if (this.deps.agents.identify) return this.deps.agents.identify(cred.name, cred.token, opts);
    const agent = await this.deps.agents.authenticate(cred.name, cred.token);
    return agent ? { agent } : undefined;
  }

  /**
   * The token admit left unconfirmed, confirmed now (by a describe hook's round trip, or here): the
   * description gets the agent's labels and secrets as they are now; a revoked token → its refusal.
   */
  private async confirmed(x: Exchange, origin: RequestOrigin | undefined, d?: RequestDescription): Promise<Refusal | undefined> {
    const confirm = x.confirm;
    if (!confirm) return undefined;
    x.confirm = undefined;
    const answer = origin?.unconfirmed?.confirmed;
    const agent = answer === undefined ? await confirm() : answer ?? undefined;
    if (!agent) return this.unauthenticated(x);
    x.agent = agent;
    if (d) d.agent = agent;
    return undefined;
  }

  /** The absolute-form target of a request sent to the proxy itself (not tunneled). */
  private absoluteTarget(x: Exchange): string | Rejection {
    const target = x.head.url ?? '';
    if (!/^https?:\/\//i.test(target)) return refusals.bad('this is a proxy: send absolute-form requests (http://host/path) or CONNECT');
    if (x.head.headers.host === undefined && x.head.httpVersionMinor >= 1) return refusals.bad('an HTTP/1.1 request must carry a Host header (RFC 9112 §3.2)');
    const parsed = parseUrl(target);
    if (!parsed) return refusals.bad('request target is not a valid absolute URL');
    const url = unmapUrlHost(parsed);
    if (url.username || url.password || /^https?:\/\/[^/?#]*@/i.test(target)) return refusals.bad('request target must not contain userinfo (user:pass@); send credentials in headers');
    // RFC 9112 §3.2.2: with an absolute-form target the proxy ignores the received Host and uses
    // the target's authority (the description and the upstream both get that one).
    const authority = authorityOf(url, url.protocol.slice(0, -1));
    if (isOwnAddress(this.deps.guard, authority)) return refusals.self('requests to the proxy or studio through the proxy are refused');
    return url.href;
  }

  // ─── describe ────────────────────────────────────────────────────────────────────────────────

  /**
   * The description, with the enforcers' describe hooks; then its JSON (`serialize`). With `heavy`
   * the main-thread parts take the heavy turn, each on its own: the hooks wait for stores (grants,
   * the session, with PostgreSQL the token's confirmation), and a slow database held the one turn
   * every agent's large requests share for as long (seventeenth pass).
   */
  async describe(x: Exchange, heavy = false): Promise<Refusal | undefined> {
    const raw: RawRequest = {
      id: x.id, time: x.time, method: x.head.method ?? 'GET', url: x.url, headers: withHost(withoutNamedHeaders(x.head.rawHeaders), x.url),
      body: x.body.captured, bodyTruncated: x.body.truncated,
    };
    let d: RequestDescription;
    try {
      const placeholders = this.deps.placeholders();
      const step = (): Promise<RequestDescription> => describeRequestLoaded(raw, placeholders ? { agent: x.agent!, placeholders } : { agent: x.agent! });
      d = heavy ? await this.inHeavyTurn(x.agent!.id, step) : await step();
    } catch (err) {
      if (err instanceof DescribeError) return (await this.confirmed(x, undefined)) ?? refusals.bad(err.message);
      throw err;
    }
    const origin: RequestOrigin = { token: x.token, ...(x.confirm ? { unconfirmed: {} } : {}) };
    for (const e of this.deps.enforcers) {
      if (!e.describe) continue;
      const p = e.describe(d, origin);
      if (p) await p;
    }
    const revoked = await this.confirmed(x, origin, d);
    if (revoked) return revoked;
    x.described = d;
    if (!heavy) return this.serialize(x);
    // Weighed now, counted once the request is forwarded (enforce): see AGENT_DESCRIBED_BYTES.
    x.weight = await this.inHeavyTurn(x.agent!.id, async () => (this.serialize(x), descriptionWeight(evaluatedAs.get(d) ?? '')));
    return undefined;
  }

  /** `step` in the heavy turn (see `heavy`): one at a time in the process, agents taking turns. */
  private inHeavyTurn<T>(agent: string, step: () => Promise<T>): Promise<T> {
    return this.heavy.run(agent, step, HEAVY_WAIT_MS, heavyLate);
  }

  /** The description as JSON, once: the policy evaluates this text and the audit record carries it. */
  private serialize(x: Exchange): undefined {
    try {
      evaluatedAs.set(x.described!, JSON.stringify(x.described));
    } catch {
      /* the engine says why it cannot evaluate it */
    }
    return undefined;
  }

  // ─── decide ──────────────────────────────────────────────────────────────────────────────────

  /** The decision, noted in the audit record; a deny or a path that means two things stops here. */
  async decide(x: Exchange): Promise<Refusal | undefined> {
    const described = x.described!;
    const record = x.record;
    record.host = described.request.host;
    const inputJson = evaluatedAs.get(described);
    const decision = await this.deps.engine.decide(described, inputJson === undefined ? {} : { inputJson });
    x.decision = decision;
    record.description = described;
    record.decision = decisionSummary(decision);
    record.policy_version = decision.policy_version;
    record.decision_us = decision.decision_us;
    if (decision.action === 'deny') return { ...denial(decision), ...(decision.rule ? { rule: decision.rule } : {}) };
    // The path as sent (shapes the URL parser would erase) and as it will be forwarded (shapes the
    // normalization could create, such as %25%41 becoming %25A).
    // Also a header naming another path, unless a human is asked (the approval card names the path
    // the server runs) or the decision forwards none of the agent's headers.
    const ambiguous = decision.raw_path === true ? undefined : pathAmbiguity(rawPathOf(x.head.url ?? '')) ?? pathAmbiguity(described.request.path)
      ?? (decision.action !== 'allow' || (decision.bare_headers === true && !x.upgrade) ? undefined : pathHeaderAmbiguity(x.head.rawHeaders));
    if (ambiguous) {
      return { ...refusals.bad(`the request path can mean two things: it holds ${ambiguous}. Airlock refuses it so the policy and the upstream read the same path (a policy accepts such paths for a host with raw_path: true)`), ...(decision.rule ? { rule: decision.rule } : {}) };
    }
    // The same for the host: a forwarding header naming another one, on a request no human looks at.
    const otherHost = decision.action !== 'allow' || (decision.bare_headers === true && !x.upgrade)
      ? undefined
      : otherForwardedHost(x.head.rawHeaders, { hostname: described.request.host, port: described.request.port }, described.request.scheme);
    if (otherHost) return { ...refusals.misdirected(`the request names two hosts: ${otherHost}; send it to that host, or without the header`), ...(decision.rule ? { rule: decision.rule } : {}) };
    // An upgrade has no body: what it may name is the destination a bridge dials behind it.
    // (socket.io's handshake too: its server hands the socket its first request, a plain GET, whose Referer WeTTY reads.)
    return this.decideSecondTargets(x, decision, x.upgrade ? () => bridgeTargets(x.head.rawHeaders, x.url)
      : socketIoRequest(x.url) ? () => bothTargets(bridgeTargets(x.head.rawHeaders, x.url), secondTargets(x.head.rawHeaders, x.url, x.body, x.head.method ?? 'GET', decision.action !== 'allow')) : undefined);
  }

  /**
   * Requests that act on more than their own target (proxy/second-targets.ts: a WebDAV
   * `Destination`, an object store's copy source, the calls of a batch, …): each second target is
   * described and decided as the request it amounts to, and the request gets the strictest of the
   * decisions (deny over approve over allow), so a policy that refuses writes under /admin refuses
   * a copy into it. Nothing is done for the usual request.
   */
  private async decideSecondTargets(x: Exchange, decision: EngineDecision, reader?: () => ReturnType<typeof secondTargets>): Promise<Refusal | undefined> {
    // The body's readers parse it whole (a MiB of `_msearch` lines or batch calls: 0.1–0.3 s), so a
    // large body takes the heavy turn for them too (see `heavy`).
    const held = decision.action !== 'allow';
    // An origin whose answers opened another protocol's session: the agent's upgrades and requests there carry the client's side.
    const marked = this.answerTunnels.refused(x.agent!.id, destinationOf(x.url.replace(/^ws(s?):/i, 'http$1:')));
    if (marked) return { ...marked, ...(decision.rule ? { rule: decision.rule } : {}) };
    // A plain request's body may carry a tunnel, and its command the destination a tunnel dials (proxy/body-tunnels.ts).
    const tunnel = (): ReturnType<typeof bodyTunnel> => {
      const alone = bodyTunnel(x.head.rawHeaders, x.url, x.body);
      if (alone && 'refusal' in alone) return alone;
      // An opening cut across this agent's bodies to the destination (a tunnel server joins them).
      const across = this.bodyStreams.read(x.agent!.id, destinationOf(x.url), x.body, x.head.rawHeaders, x.url);
      return across ? { refusal: tunnelAcross(across) } : alone;
    };
    const read = reader ?? ((): ReturnType<typeof secondTargets> => bothTargets(tunnel(), secondTargets(x.head.rawHeaders, x.url, x.body, x.head.method ?? 'GET', held)));
    const targets = heavyRequest(x) ? await this.inHeavyTurn(x.agent!.id, async () => read()) : read();
    if (targets === undefined) return undefined;
    const rule = decision.rule ? { rule: decision.rule } : {};
    if ('refusal' in targets) return { ...targets.refusal, ...rule };
    let chosen = decision;
    // A second target may name its own (a Salesforce composite call to sObject Collections, whose
    // records name their types; a batch call carrying a copy source): read to MAX_TARGET_DEPTH
    // levels, MAX_SECOND_TARGETS in all; one deeper, or past the count, is refused.
    const queue = targets.map((target) => ({ target, depth: 1 }));
    // (A target keeps the request's other headers, so it may name again what the request named: decided once.)
    const seen = new Set(targets.map((t) => targetKey(t.request)));
    for (let i = 0; i < queue.length; i++) {
      const { target, depth } = queue[i]!;
      const judged = await this.describeCarried(x, target.request, undefined, false);
      if (judged && !('decision' in judged)) return { ...judged, ...rule };
      const there = judged?.decision;
      if (there && severity[there.action] > severity[chosen.action]) {
        chosen = { ...there, reason: `${target.why}: ${there.reason}` };
        if (chosen.action === 'deny') break;
      }
      const r = target.request;
      const found = secondTargets(r.headers.flat(), r.url, { captured: r.body, truncated: r.bodyTruncated }, r.method, held);
      if (found === undefined) continue;
      if ('refusal' in found) return { ...found.refusal, detail: `${target.why}: ${found.refusal.detail}`, ...rule };
      const inner = found.filter((t) => !seen.has(targetKey(t.request)));
      if (!inner.length) continue;
      if (depth >= MAX_TARGET_DEPTH || queue.length + inner.length > MAX_SECOND_TARGETS) {
        return { ...refusals.bad(`${target.why} names further requests the server runs, past what Airlock reads (${MAX_TARGET_DEPTH} levels, ${MAX_SECOND_TARGETS} requests)`), ...rule };
      }
      for (const t of inner) {
        seen.add(targetKey(t.request));
        queue.push({ target: { ...t, why: `${target.why}, then ${t.why}` }, depth: depth + 1 });
      }
    }
    if (chosen === decision) return undefined;
    x.decision = chosen;
    x.record.decision = decisionSummary(chosen);
    return chosen.action === 'deny' ? { ...denial(chosen), ...(chosen.rule ? { rule: chosen.rule } : {}) } : undefined;
  }

  /**
   * A statement an open tunnel carries (proxy/tunnel-sql.ts), described as its HTTP twin and
   * decided like it: the same describe step (placeholders, the enforcers' describe hooks: grants,
   * the session) and the same engine. A twin that cannot be described is refused.
   */
  async decideCarried(x: Exchange, raw: RawRequest, sqlDialect?: 'postgresql' | 'written', onlySql = false): Promise<{ described: RequestDescription; decision: EngineDecision } | Rejection | undefined> {
    // In one of the agent's slots, as a request's describe and decide are: an agent's tunnels (up
    // to AGENT_OPEN of them, each with a statement being decided) otherwise ran that many describe
    // steps at once and starved every other agent.
    // Its bytes are in memory from now (read from the tunnel) while it waits for a slot: counted in
    // the agents' crowd of captured bodies, as a request's body is in its slot (CAPTURED_CROWD_BODIES).
    const body = this.gate.capturing(x.agent!.id);
    try {
      body.take(raw.body.length);
      // A large statement takes the heavy turn too (see `heavy`), for its main-thread parts.
      return await this.gate.run(x.agent!.id, () => this.describeCarried(x, raw, sqlDialect, onlySql, raw.body.length >= HEAVY_BODY_BYTES));
    } catch (err) {
      if (err instanceof AgentBusyError) return refusals.busy(err.message);
      throw err;
    } finally {
      body.release();
    }
  }

  private async describeCarried(x: Exchange, raw: RawRequest, sqlDialect: 'postgresql' | 'written' | undefined, onlySql: boolean, heavy = false): Promise<{ described: RequestDescription; decision: EngineDecision } | Rejection | undefined> {
    let d: RequestDescription;
    try {
      const placeholders = this.deps.placeholders();
      const step = (): Promise<RequestDescription> => describeRequestLoaded(raw, { agent: x.agent!, ...(placeholders ? { placeholders } : {}), ...(sqlDialect ? { sqlDialect } : {}) });
      d = heavy ? await this.inHeavyTurn(x.agent!.id, step) : await step();
    } catch (err) {
      if (err instanceof DescribeError) return refusals.bad(err.message);
      throw err;
    }
    // A message of another protocol in which no SQL was found is not a statement: nothing to decide.
    if (onlySql && !d.sql) return undefined;
    const origin: RequestOrigin = { token: x.token };
    for (const e of this.deps.enforcers) {
      if (!e.describe) continue;
      const p = e.describe(d, origin);
      if (p) await p;
    }
    const json = (): string | undefined => {
      try {
        const text = JSON.stringify(d);
        evaluatedAs.set(d, text);
        return text;
      } catch {
        return undefined; // the engine says why it cannot evaluate it
      }
    };
    const inputJson = heavy ? await this.inHeavyTurn(x.agent!.id, async () => json()) : json();
    return { described: d, decision: await this.deps.engine.decide(d, inputJson === undefined ? {} : { inputJson }) };
  }

  /** A statement an open tunnel carries was let through: what each enforcer does before it is relayed (enforcers.ts onCarried). */
  async carried(tunnel: RequestContext | undefined, statement: RequestContext): Promise<Rejection | undefined> {
    for (const e of this.deps.enforcers) {
      if (!e.onCarried) continue;
      const r = await e.onCarried(tunnel, statement);
      if (r) return r;
    }
    return undefined;
  }

  /** The enforcers that charge a decision's rate limits. */
  rateLimiters(): Enforcer[] {
    return this.deps.enforcers.filter((e) => e.name === 'rate-limits' && e.beforeForward);
  }

  /** The enforcers that hold an `approve` for a human (none: such a decision is refused). */
  approvalHolders(): Enforcer[] {
    return this.deps.enforcers.filter((e) => e.handlesApproval && e.beforeForward);
  }

  // ─── enforce ─────────────────────────────────────────────────────────────────────────────────

  /**
   * The enforcers (their notes go to the audit record), then destination safety on the resolved
   * address to dial. `signal` aborts when the agent's connection goes away (a hold ends then).
   */
  async enforce(x: Exchange, signal: AbortLike): Promise<Refusal | undefined> {
    let refused: Refusal | undefined;
    try {
      refused = await this.enforceSteps(x, signal);
    } catch (err) {
      await this.refusedBeforeDial(x, refusals.internal(err));
      throw err;
    }
    if (refused) await this.refusedBeforeDial(x, refused);
    return refused;
  }

  /** Each enforcer hears that the request was refused before it was dialed (nothing of it left). */
  private async refusedBeforeDial(x: Exchange, r: Refusal): Promise<void> {
    if (x.context) await refusedBeforeSending(this.deps.enforcers, x.context, r);
  }

  private async enforceSteps(x: Exchange, signal: AbortLike): Promise<Refusal | undefined> {
    const described = x.described!;
    const decision = x.decision!;
    const headers = decision.bare_headers === true && !x.upgrade ? BARE_HEADERS.map(([k, v]): [string, string] => [k, v]) : endToEnd(x.head.rawHeaders, dropToUpstream);
    const outgoing: OutgoingRequest = x.upgrade
      ? { method: 'GET', url: new URL(described.request.url), headers: upstreamHeaders(headers), bodyTransforms: [] }
      : { method: (x.head.method ?? 'GET').toUpperCase(), url: new URL(described.request.url), headers, bodyTransforms: [] };
    // A form past the capture (or decoding past what the readers decode): a field that makes the server run calls is watched
    // for as the rest leaves (proxy/form-tail.ts). So is an Elasticsearch bulk's: its later lines' indices (proxy/bulk-tail.ts).
    if (!x.upgrade && x.body.captured.length) outgoing.bodyTransforms.push(...formTailWatches(x.head.rawHeaders, x.body));
    const bulk = !x.upgrade && x.body.captured.length ? bulkTailWatch(x.head.rawHeaders, described.request.url, x.body) : undefined;
    if (bulk) outgoing.bodyTransforms.push(bulk);
    const ctx: RequestContext = x.upgrade
      ? { description: described, decision, outgoing, audit: {}, signal, refusalHeaders: {} }
      : { description: described, decision, outgoing, audit: {}, signal, refusalHeaders: {}, body: { bytes: x.body.captured, truncated: x.body.truncated } };
    x.context = ctx;
    const rejected = await this.beforeForward(ctx);
    if (nonEmpty(ctx.audit)) x.record.extra = ctx.audit;
    const rule = decision.rule;
    if (rejected) return { ...rejected, rule };
    // Checked again at the last moment: an approval hold can last minutes, the disk can fill meanwhile.
    const unaudited = this.auditUnavailable(described.agent.id);
    if (unaudited) return { ...unaudited, rule };
    // Forwarded, the description is kept until the response is sent (the audit record carries it):
    // counted against its agent's bound until then (held ones meet the approvals' held-data budget,
    // refused ones end at once).
    if (x.weight) x.entered(this.gate.weigh(described.agent.id, x.weight));
    // So can the agent's token be revoked (here or through another replica) while a human looks.
    if (ctx.audit.approval === 'approved') {
      const credential = x.tunnel ? x.tunnel.credential : x.head.headers['proxy-authorization'];
      const still = await this.authenticate(credential);
      if (still?.id !== described.agent.id) return { ...refusals.unauthenticated('the agent\'s credentials were revoked while the request was held for approval'), rule };
      // And a policy version can go live while a human looks at a card decided by the one before:
      // with replicas, one published elsewhere milliseconds before the click, whose notice is still
      // on its way here, counts too (read from the store; one query per released request).
      try {
        await this.deps.livePolicy?.();
      } catch (err) {
        return { ...refusals.internal(err), rule };
      }
      const changed = await this.decidedSinceApproval(described, decision, String(ctx.audit.approval_id ?? ''));
      if (changed) return { ...changed, rule };
    }
    try {
      x.dial = await this.deps.guard.resolveEndpoint(outgoing.url.hostname.replace(/^\[|\]$/g, ''), described.request.port, described.agent.id);
    } catch (err) {
      const e = err as DestinationError;
      return { ...(e.kind === 'resolve' ? refusals.resolve(e.message) : refusals.destination(e.message)), rule };
    }
    for (const e of this.deps.enforcers) {
      const r = e.onDestination?.(ctx, x.dial.address, x.dial.port);
      const refused = r && await r;
      if (refused) {
        if (nonEmpty(ctx.audit)) x.record.extra = ctx.audit;
        return { ...refused, rule };
      }
    }
    if (nonEmpty(ctx.audit)) x.record.extra = ctx.audit;
    return undefined;
  }

  /**
   * A request released by a human, decided when it arrived: when another policy version went live
   * during the hold (a publish, a rollback, a data change, here or heard from another replica), it
   * is decided again and leaves only if the live policy would still let it go as approved — not
   * denied, no riskier, no step-up the card did not ask for, and the same secrets in the same slots.
   */
  private async decidedSinceApproval(described: RequestDescription, decision: EngineDecision, approvalId: string): Promise<Rejection | undefined> {
    const live = this.deps.engine.version;
    if (live === undefined || live === decision.policy_version) return undefined;
    const now = await this.deps.engine.decide(described);
    const version = now.policy_version ? ` (version ${now.policy_version})` : '';
    if (now.action !== 'allow' && now.action !== 'approve') {
      const r = denial(now);
      return { ...r, detail: `the live policy${version} now denies this request, approved under version ${decision.policy_version}: ${r.detail}` };
    }
    const approved = { id: approvalId, risk: decision.approval?.risk ?? 'medium', step_up: decision.approval?.step_up === true, credentials: decision.credentials ?? [] };
    const slots = (d: EngineDecision): string => (d.credentials ?? []).map(credentialSlot).sort().join('\n');
    const exceeds = retryExceedsApproval(approved, now) ?? (slots(now) !== slots(decision) ? `the live policy${version} sends other secrets with this request than the card said: it needs a new approval` : undefined);
    if (!exceeds) return undefined;
    return {
      status: 403, type: 'approval-invalid', title: 'Approval does not apply', detail: `${exceeds}; it was approved under version ${decision.policy_version}`,
      headers: { 'Airlock-Approval-Id': approvalId }, extra: { approval_id: approvalId }, outcome: 'approval-refused',
    };
  }

  private async beforeForward(ctx: RequestContext): Promise<Rejection | undefined> {
    const origin = ctx.outgoing.url.origin;
    const r = await this.runBeforeForward(ctx);
    // The destination is what the policy decided on: an enforcer may change path, query and
    // headers, never scheme, host or port.
    if (!r && ctx.outgoing.url.origin !== origin) {
      return { status: 502, type: 'enforcer-error', title: 'Enforcer error', detail: 'an enforcer changed the request destination; refused', outcome: 'error' };
    }
    return r;
  }

  private async runBeforeForward(ctx: RequestContext): Promise<Rejection | undefined> {
    let approvalHandled = false;
    for (const e of this.deps.enforcers) {
      if (e.handlesApproval) approvalHandled = true;
      if (!e.beforeForward) continue;
      const r = await e.beforeForward(ctx);
      if (r) return r;
      if (ctx.signal.aborted) return { status: 499, type: 'client-closed', title: 'Client closed the request', detail: 'the agent went away', outcome: 'client-aborted' };
    }
    if (ctx.decision.action === 'approve' && !approvalHandled) {
      return { status: 403, type: 'approval-unavailable', title: 'Approval required', detail: `${ctx.decision.reason} (approval required, but no approver is configured: denied)`, outcome: 'denied' };
    }
    if (ctx.decision.action !== 'allow' && ctx.decision.action !== 'approve') return denial(ctx.decision);
    return undefined;
  }

  // ─── record ──────────────────────────────────────────────────────────────────────────────────

  /** The exchange ended in a refusal (already rendered on its connection): its record says which. */
  refused(x: Exchange, r: Rejection): void {
    const record = x.record;
    record.outcome = r.outcome;
    record.status = r.status;
    record.detail = r.logDetail ?? r.detail;
    this.finish(x);
  }

  /** The exchange's record, written once, with its outcome and how long the exchange took. */
  finish(x: Exchange, outcome?: string): void {
    if (x.recorded) return;
    x.recorded = true;
    if (outcome !== undefined) x.record.outcome = outcome;
    // Airlock closed the connections (the agent's, then the upstream's), not the agent or the upstream: the record says so.
    if (this.stopping && (x.record.outcome === 'client-aborted' || x.record.outcome === 'upstream-error')) x.record.outcome = 'airlock-stopped';
    x.record.total_ms = x.elapsed();
    this.append(x.record);
  }

  /** A record outside the exchange's own (a CONNECT, a WebSocket tunnel's end, a statement it carried). */
  append(record: AuditRecord): void {
    // Past its agent's rate a refusal is counted into a summary instead (proxy/audit-budget.ts).
    if (!this.refusalRate.admit(record)) return;
    // While the trail is behind, large descriptions are left out for the agents whose records wait (all of them, for a trail that cannot tell).
    const audit = this.deps.audit;
    const behind = record.agent !== undefined && audit.behindFor ? audit.behindFor(record.agent) : audit.behind === true;
    this.auditBudget.bound(record, record.description && evaluatedAs.get(record.description), behind);
    this.deps.audit.append(record);
  }

  /** Writes the refusals counted since the last summary (the proxy is closing). */
  flushRecords(): void {
    this.refusalRate.flush();
  }
}

/** The absolute URL of a tunneled request; Host, CONNECT target and SNI must agree. */
function tunnelTarget(x: Exchange, tunnel: Tunnel): string | Rejection {
  if (tunnel.sni !== undefined && tunnel.sni !== tunnel.target.hostname) {
    return refusals.closing(refusals.misdirected(`TLS SNI ${tunnel.sni} does not match the CONNECT target ${tunnel.target.hostname}`));
  }
  let path = x.head.url ?? '/';
  if (!path.startsWith('/')) {
    // absolute-form inside a tunnel: allowed only when it names the tunnel's own origin.
    const abs = parseUrl(path);
    if (!abs || abs.protocol !== `${tunnel.scheme}:` || !sameAuthority(authorityOf(abs, tunnel.scheme), tunnel.target)) {
      return refusals.closing(refusals.misdirected('request target inside the tunnel names another origin than the CONNECT target'));
    }
    // As for forwarded requests: userinfo is no part of what a proxy sends on (and a place to hide a secret).
    if (abs.username || abs.password || /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(path)) return refusals.bad('request target must not contain userinfo (user:pass@); send credentials in headers');
    path = abs.pathname + abs.search;
  }
  const hostHeader = x.head.headers.host;
  const host = hostHeader ? parseAuthority(hostHeader, tunnel.scheme) : undefined;
  if (!host || !sameAuthority(host, tunnel.target)) {
    return refusals.closing(refusals.misdirected(`Host ${JSON.stringify(hostHeader ?? '')} does not match the CONNECT target ${formatAuthority(tunnel.target, tunnel.scheme)}`));
  }
  return `${tunnel.scheme}://${formatAuthority(tunnel.target, tunnel.scheme)}${path}`;
}

/** An IP literal naming one of Airlock's own listeners (proxy, studio). */
export function isOwnAddress(guard: Pick<DestinationGuard, 'isOwn'>, a: Authority): boolean {
  return net.isIP(a.hostname) !== 0 && guard.isOwn(a.hostname, a.port);
}

/** Header pairs with Host set to the target's authority (the one the request really goes to). */
function withHost(rawHeaders: string[], url: string): Array<[string, string]> {
  const host = new URL(url).host;
  const out: Array<[string, string]> = [['host', host]];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() !== 'host') out.push([rawHeaders[i]!, rawHeaders[i + 1]!]);
  return out;
}

function decisionSummary(d: EngineDecision): NonNullable<AuditRecord['decision']> {
  return { action: d.action, reason: d.reason, ...(d.rule ? { rule: d.rule } : {}), ...(d.fail_closed ? { fail_closed: d.fail_closed } : {}) };
}

/** The order of strictness of the decisions' actions. */
const severity: Record<EngineDecision['action'], number> = { allow: 0, approve: 1, deny: 2 };

/** Whether an object has an own enumerable key (without allocating the key list: this runs per request). */
export function nonEmpty(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function parseUrl(s: string): URL | undefined {
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

export function authorityOf(url: URL, scheme: string): Authority {
  let hostname = trimTrailing(url.hostname, '.');
  if (hostname.startsWith('[')) hostname = unmappedHost(hostname.slice(1, -1));
  return { hostname, port: url.port ? Number(url.port) : scheme === 'https' || scheme === 'wss' ? 443 : 80 };
}
