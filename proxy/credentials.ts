// Credential injection: the decision's `credentials` directives applied to the outgoing request,
// and the response scrubbing that goes with them. The agent only ever holds placeholders; the real
// value is put in here, right before dialing, for the one destination (scheme + host + port) the
// decision was made for, and searched for in whatever comes back from that host from then on.
//
//   {secret, in: "header", name, format}   sets header `name` (agent's value overwritten)
//   {secret, in: "basic", name?, format?}  Authorization: Basic base64(user:password); the pair is
//                                          `format` with {} = secret, default "<name>:{}"
//   {secret, in: "query", name, format}    sets query parameter `name` (agent's value overwritten)
//   {secret, in: "body"}                   substitutes the placeholder inside the body
// The value goes only into that slot. A placeholder anywhere else — another header, a header's
// name, another query parameter, the path, a WebSocket message — is refused (403), never
// substituted (proxy/credential-placement.ts), and so is a placeholder of a secret the decision
// does not name. WebSocket handshakes take header/basic/query credentials; the messages coming
// back are scrubbed one by one (onMessage), like every response from a host that got a secret.
import { performance } from 'node:perf_hooks';
import { Transform } from 'node:stream';
import type { CredentialDirective } from '../engine/decision.ts';
import { StreamStop, type Enforcer, type Rejection, type RelayedMessage, type RequestContext, type RequestOrigin, type ResponseGuard, type ResponseHead } from './enforcers.ts';
import type { RequestDescription } from '../describe/types.ts';
import { agentCredentialInBody, bodyFieldsOf, inItsSlot, outsideBodyFields, queryKey, removeOtherCredentials, sightings, slotNames, slotsOf, type Sighting } from './credential-placement.ts';
import { InjectedHosts, formOf, spellForm, type Injection, type SecretSource } from './injected-hosts.ts';
import type { InjectionLedger } from '../state/stores.ts';
import { isStoreUnavailable } from '../state/unavailable.ts';
import type { PlaceholderIndex } from '../describe/placeholders.ts';
import type { LiveSecrets } from './live-secrets.ts';
import { asLatin1 } from './secret-values.ts';
import { DecodeFailure, parseMediaType, undoContentCoding } from '../describe/body.ts';
import { formDefaultCharsets } from '../describe/multipart.ts';
import { bodyReadings, charsetsOf, misreadSubstitution, declaredCharsets, extendedParameters, formTexts, isWideLabel, needsDecoding, type Readings } from './charset-readings.ts';
import { bodyStrings, contentCodings, messageText, multipartText } from './body-readings.ts';
import { JsonPieces } from './json-pieces.ts';
import { PackedScan, packedTexts } from './packed-scan.ts';
import { ForbiddenContentError, Scrubber, ScrubStream, scrubResponse, scrubText, UnscrubbableEncodingError, type HoldProbe, type MatchRule } from './scrub.ts';
import { problemBody } from './http-util.ts';
import { UNISSUED_TAG, unsealTags } from './entity-tags.ts';
import { heldRefusal, PROBE_START, probeRefusal, SecretProbe } from './secret-probe.ts';

/** How long a request waits while its token holds a long start of a secret elsewhere (then refused). */
const PROBE_WAIT_MS = 1000;
import { appendAll } from '../lib/arrays.ts';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * Numeric character references with five or more leading zeros. HTML reads any number
 * (`&#0000000115;` is "s" to a browser, and to a service that renders what it stores); the spelling
 * matcher allows four (a bounded pattern keeps a streamed match bounded). What it cannot match the
 * guard refuses instead of passing: no ordinary text writes a reference that way.
 */
const OVERLONG_REFERENCES = ['&#00000', '&#x00000', '&#X00000'];
const OVERLONG_WHY = 'a numeric character reference with five or more leading zeros (&#00000…), a spelling Airlock does not match';
const UNSAFE_HEADER_VALUE = /[\r\n\0]/;
/** Headers a credential may not be put in: framing, routing and hop-by-hop headers. */
const RESERVED_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-authorization', 'proxy-connection', 'expect']);

function reject(status: number, type: string, title: string, detail: string, outcome = 'credential-refused'): Rejection {
  return { status, type, title, detail, outcome };
}

/**
 * The secret store cannot be opened (a key that is not set or not the one it was sealed with): the
 * agent learns only that, the cause (which names the state folder) goes to the operator's log.
 */
function storeUnreadable(cause: string): Rejection {
  return {
    ...reject(503, 'credential-unavailable', 'Credential unavailable', 'the secret store cannot be read, so no credential is injected; the operator finds why in Airlock\'s log under this request id'),
    logDetail: `the secret store cannot be read, so no credential is injected: ${cause}`,
  };
}

/** Where a credential went could not be written down (a full disk): it does not go. A shared store that is down is a 503 naming it. */
function unrecorded(err: unknown): Rejection {
  if (isStoreUnavailable(err)) throw err;
  return {
    ...reject(503, 'credential-unavailable', 'Credential unavailable', 'where the credential goes cannot be recorded, so it is not injected; the operator finds why in Airlock\'s log under this request id'),
    logDetail: `cannot record where the credential goes, so it is not injected: ${(err as Error).message}`,
  };
}

/** The secret store as the read-back scrubbers see it: values and placeholders by name. */
function secretSource(live: LiveSecrets): SecretSource {
  let generation = -1;
  let values = new Map<string, string>();
  const current = (): Map<string, string> => {
    if (generation !== live.generation) {
      generation = live.generation;
      values = new Map(live.values.rules().map((r) => [r.name, r.value]));
    }
    return values;
  };
  return {
    get generation() {
      return live.generation;
    },
    valueOf: (name) => current().get(name),
    placeholderOf: (name) => live.finder.placeholderOf(name),
    names: () => [...current().keys()],
  };
}

function format(template: string | undefined, value: string): string {
  return (template ?? '{}').split('{}').join(value);
}

function originOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' || url.protocol === 'wss:' ? '443' : '80');
  return `${url.protocol}//${url.hostname}:${port}`;
}

function setHeader(headers: Array<[string, string]>, name: string, value: string): void {
  const lower = name.toLowerCase();
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]![0].toLowerCase() === lower) headers.splice(i, 1);
  headers.push([name, value]);
}

/**
 * Replaces (or adds) query parameter `name`, leaving the rest of the query byte-for-byte. Every
 * parameter whose name reads as `name` (queryKey, the same reading the placement check uses) goes.
 */
function setQueryParam(url: URL, name: string, value: string): void {
  const parts = url.search.replace(/^\?/, '').split('&').filter(Boolean).filter((p) => queryKey(p.split('=')[0]!) !== name);
  parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
  url.search = `?${parts.join('&')}`;
}

/**
 * A WebSocket message to the agent whose end (with the messages before it) is a start of some
 * spelling of an injected secret spelling this many of its characters (gaps left out) is kept
 * back until the next message (websocket-relay.ts): an upstream that splits a secret across
 * messages hands over at most HOLD_PREFIX - 1 characters.
 */
const HOLD_PREFIX = 8;

/**
 * What a WebSocket's messages in one direction ended with, for reading a secret cut across them:
 * the raw tail (the last maxLength - 1 characters), and `start`, its part that may begin a
 * spelling, as `by` read it. A match that crosses into the next message begins inside `start`
 * (earlier, the text can no longer become one), so while the matcher is the same only `start`
 * plus the new message is scanned: a message costs its own length, not the matcher's maxLength.
 */
interface MessageTail {
  tail: string;
  start: string;
  by: Scrubber;
}

/**
 * A direction's two streams, each read on its own: data messages (text and binary, which a client
 * joins) and control frames (ping and pong payloads). A piece in either is checked against both,
 * and while either ends with a start, everything after it is kept back: a ping between two halves
 * must neither break the data stream's start nor let the held half go.
 */
interface TunnelTails {
  data?: MessageTail;
  control?: MessageTail;
  /** The secrets of which what is held now kept PROBE_START or more characters back (holdProbe). */
  probe?: string[];
}

/**
 * Reads one message against what came before (and records it): `joined`, each text in which a
 * secret form completes across the previous messages and this one; `hold`, the messages so far
 * end with HOLD_PREFIX or more characters of a start. A close reason ends the stream: read, not kept.
 */
function readAcross(state: TunnelTails, kind: RelayedMessage['kind'], text: string, by: Scrubber): { joined: string[]; hold: boolean } {
  const keep = by.maxLength - 1;
  const beforeOf = (t: MessageTail | undefined): string => (t ? (t.by === by ? t.start : t.tail) : '');
  const joined: string[] = [];
  for (const t of [state.data, state.control]) {
    const before = beforeOf(t);
    if (before && by.splitAt(before + text.slice(0, keep), before.length)) joined.push(before + text.slice(0, keep));
  }
  if (kind === 'close') return { joined, hold: false };
  const own = kind === 'text' || kind === 'binary' ? 'data' : 'control';
  const prev = state[own];
  const start = by.scrubPartial(beforeOf(prev) + text).rest;
  const tail = text.length >= keep ? text.slice(text.length - keep) : (prev?.tail ?? '').slice(-(keep - text.length)) + text;
  state[own] = { tail, start, by };
  // Counted in what the start spells (gaps a reader skips left out), not in held bytes: binary
  // framing after one letter of a key (PostgreSQL's Sync, `S` 00 00 00 04, ends every batch and
  // the client then waits for the answer) is no long start, and was held until the tunnel closed.
  return { joined, hold: [state.data, state.control].some((t) => t !== undefined && t.start.length >= HOLD_PREFIX && t.by.spellsAtEnd(t.start, HOLD_PREFIX)) };
}

/**
 * The secrets (by `nameOf` each rule, undefined for what is no secret's value) of which a
 * direction's held start keeps back PROBE_START or more characters: the tripwire
 * (proxy/secret-probe.ts). Asked only while something is held.
 */
function probedStarts(state: TunnelTails, nameOf: (rule: { label?: string; replace: string }) => string | undefined): string[] {
  const names = new Set<string>();
  for (const t of [state.data, state.control]) {
    if (!t || t.start.length < PROBE_START) continue;
    for (const rule of t.by.startsAtEnd(t.start, PROBE_START)) {
      const name = nameOf(rule);
      if (name !== undefined) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * The tripwire over one direction's holds (proxy/secret-probe.ts). A hold that keeps back
 * PROBE_START or more characters of a secret's start is noted; if what is held is then let go —
 * the next message showed the start was none — or dropped (nothing followed in time, the tunnel
 * ended: `message.probe`), the probe trips. A start the next message completes is refused as a
 * split before this (a service handing back a key the reader would join is no probe: it is scrubbed).
 * `names` is asked only while something is held.
 */
function holdProbe(tails: TunnelTails, held: boolean, names: () => string[], message: RelayedMessage, probe: SecretProbe, ctx: RequestContext, where: string): Rejection | undefined {
  if (!held) {
    const probed = tails.probe;
    tails.probe = undefined;
    return probed ? probe.trip(ctx, probed, where) : undefined;
  }
  const now = names();
  if (now.length) {
    const first = !tails.probe;
    tails.probe = [...new Set([...(tails.probe ?? []), ...now])].sort();
    // One long start held at a time per token (guesses in parallel): a second trips.
    // (The tunnel is the holder, both directions: its own next message settles it, not waits.)
    const refused = first ? probe.begin(ctx, ctx, tails.probe, where) : undefined;
    if (refused) return refused;
  }
  const probed = tails.probe;
  if (probed) message.probe = () => probe.trip(ctx, probed, where);
  return undefined;
}

/** Whether an answer's Content-Type says text (a text reader, not an unpacker, takes it). */
function textualAnswer(headers: Array<[string, string]>): boolean {
  const type = headers.find(([n]) => n.toLowerCase() === 'content-type')?.[1].split(';')[0]!.trim().toLowerCase() ?? '';
  return /^(?:text\/|multipart\/|message\/)|json|xml|javascript|ecmascript|x-www-form-urlencoded|yaml|csv/.test(type);
}

const DECODABLE = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity', '*']);

/** The values of every Content-Type header of a request. */
function contentTypes(headers: Array<[string, string]>): string[] {
  return headers.filter(([k]) => k.toLowerCase() === 'content-type').map(([, v]) => v);
}

/** Keeps only content codings the scrubber (and the link scan) can decode in the agent's Accept-Encoding. */
export function restrictAcceptEncoding(headers: Array<[string, string]>): boolean {
  const values = headers.filter(([n]) => n.toLowerCase() === 'accept-encoding').map(([, v]) => v);
  if (values.length === 0) return false;
  const kept = values.join(',').split(',').map((c) => c.trim()).filter((c) => c && DECODABLE.has(c.split(';')[0]!.trim().toLowerCase()))
    .map((c) => (c.startsWith('*') ? 'gzip, deflate, br' : c));
  const next = kept.length ? kept.join(', ') : 'identity';
  if (values.length === 1 && values[0] === next) return false;
  setHeader(headers, 'accept-encoding', next);
  return true;
}

/** Methods whose conditional headers only ask whether a representation changed (no write depends on them). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Takes away the agent's say over how an answer from a host holding an injected secret is spelled:
 * no ranges (a secret cut into pieces cannot be matched), UTF-8 text, only content codings the
 * scrubber decodes. Validators the agent could compute itself go: a framework's ETag of the
 * scrubbed body with a guess in the placeholder's place (Express's `W/"<length>-<sha1>"`) sent as
 * `If-None-Match` or `If-Match` would be confirmed by a 304 or a 412. Tags such a host sent are
 * sealed (proxy/entity-tags.ts) and get their real value back here; a tag Airlock did not hand
 * out is dropped from a read, and on a write (dropped, a conditional write would become an
 * unconditional one) made one that matches nothing when a body could have given it.
 * Returns the headers it changed, for the audit record.
 */
export function neutralizeNegotiation(headers: Array<[string, string]>, method = 'GET'): string[] {
  const changed = new Set<string>();
  const read = SAFE_METHODS.has(method.toUpperCase());
  for (let i = headers.length - 1; i >= 0; i--) {
    const name = headers[i]![0].toLowerCase();
    if (name === 'range' || name === 'if-range') {
      headers.splice(i, 1);
      changed.add(name);
    } else if (name === 'if-none-match' || name === 'if-match') {
      const real = unsealTags(headers[i]![1], !read);
      if (real === undefined) headers.splice(i, 1);
      else headers[i]![1] = real;
      // A sealed tag given its value back is no change to record.
      if (real === undefined || real.includes(UNISSUED_TAG)) changed.add(name);
    }
  }
  const charsets = headers.filter(([n]) => n.toLowerCase() === 'accept-charset').map(([, v]) => v);
  if (charsets.length !== 1 || charsets[0] !== 'utf-8') {
    setHeader(headers, 'accept-charset', 'utf-8');
    if (charsets.length) changed.add('accept-charset');
  }
  if (restrictAcceptEncoding(headers)) changed.add('accept-encoding');
  return [...changed].sort();
}

/**
 * Placeholder-to-value substitution in a request body (`replace`: the secrets bound to the body),
 * refusing any spelling of the placeholders in `forbidden` and of the real values in
 * `forbiddenValues`.
 */
function bodyScrubber(index: PlaceholderIndex, replace: Map<string, string>, forbidden: string[], forbiddenValues: Array<{ name: string; value: string }>): Scrubber {
  const rules: MatchRule[] = [];
  for (const [name, value] of replace) {
    const ph = index.placeholderOf(name);
    if (ph) rules.push({ forms: [ph], replace: value });
  }
  for (const name of forbidden) {
    const ph = index.placeholderOf(name);
    if (ph) rules.push({ value: ph, forbid: `the request body carries the placeholder of secret "${name}", which the policy does not inject into the body for this destination; upload aborted` });
  }
  for (const { name, value } of forbiddenValues) {
    rules.push({ value, label: `v:${name}`, forbid: `the request body carries the value of secret "${name}", which the policy does not bind to this destination; upload aborted` });
  }
  rules.push({ forms: OVERLONG_REFERENCES, forbid: `the request body carries ${OVERLONG_WHY}; upload aborted` });
  return new Scrubber([], rules);
}

/** A forbidden find in an upload becomes a refusal (403, recorded as denied), not an upstream failure. */
function asRefusal(err: Error | null | undefined): Error | null | undefined {
  if (!(err instanceof ForbiddenContentError)) return err;
  if (err.message.includes(OVERLONG_WHY)) {
    return new StreamStop(reject(415, 'body-unreadable', 'Request body cannot be checked',
      `${err.message}; Airlock checks every body for secrets and placeholders before it leaves, so it was refused (write the reference without the zeros)`, 'denied'));
  }
  const value = /carries the value of/.test(err.message);
  return new StreamStop(reject(403, value ? 'secret-value-not-bound' : 'placeholder-not-bound',
    value ? 'Secret value not authorized for this destination' : 'Placeholder not authorized here', err.message, 'denied'));
}

/**
 * A body under a content coding (gzip, deflate, br) reaches the server decoded: the guard reads it
 * decoded too, whole, before anything leaves (the stream guard sees only compressed bytes). So is
 * text whose declared charset spells a secret in bytes the stream guard does not match
 * (proxy/charset-readings.ts: ISO-2022-JP, a form's escapes in UTF-16, a multipart part's own
 * charset, RFC 2231 parameters). A body that cannot be read so (an unknown coding or charset, past
 * the capture cap, past the decoded-size limit) is refused: what Airlock cannot read it cannot
 * check for secrets.
 */
function checkCodedBody(ctx: RequestContext, scrubber: Scrubber): Rejection | undefined {
  // A charset Airlock has no decoder for (UTF-7, EBCDIC code pages) spells the value in bytes no
  // matcher knows, and Python servers decode both: refused like an unreadable coding.
  const charsetError = ctx.description.request.body.decode_error;
  const charset = ctx.description.request.body.charset;
  if (charsetError?.startsWith('unknown charset') && charset !== 'binary') {
    return reject(415, 'body-unreadable', 'Request body cannot be checked',
      `the request body declares charset ${JSON.stringify(charset ?? '').slice(0, 60)}, which Airlock cannot decode; Airlock checks every body for secrets and placeholders before it leaves, so it was refused (send it as UTF-8)`, 'denied');
  }
  if (!ctx.body || ctx.body.bytes.length === 0) return undefined;
  const codings = contentCodings(ctx.outgoing.headers);
  const unreadable = (why: string, fix: string): Rejection => reject(415, 'body-unreadable', 'Request body cannot be checked',
    `${why}; Airlock checks every body for secrets and placeholders before it leaves, so it was refused (${fix})`, 'denied');
  const codingUnreadable = (why: string): Rejection => unreadable(`the request body is sent with Content-Encoding ${codings.join(', ')}, and ${why}`, 'send it without a content coding');
  let bytes = ctx.body.bytes;
  if (codings.length) {
    if (ctx.body.truncated) return codingUnreadable('it is larger than the capture cap, so Airlock cannot decode it whole');
    try {
      bytes = undoContentCoding(ctx.body.bytes, codings);
    } catch (err) {
      if (err instanceof DecodeFailure) return codingUnreadable(err.message);
      throw err;
    }
  }
  const types = contentTypes(ctx.outgoing.headers);
  // Past the capture cap the rest streams through the byte guard, which reads UTF-8, ASCII-compatible
  // and UTF-16/32 text as bytes, but not escape-shifted text nor a form's escapes in another charset.
  if (ctx.body.truncated) {
    const form = types.some((v) => parseMediaType(v).type === 'application/x-www-form-urlencoded');
    // A multipart form's default charset too (its fields without one of their own are read in it).
    const defaults = types.flatMap((v) => formDefaultCharsets(bytes, v));
    const label = [...declaredCharsets(bytes, types), ...defaults].find((l) => needsDecoding(l, scrubber.asciiOnly) && (!isWideLabel(l) || form));
    if (label !== undefined) return unreadable(`the request body declares charset ${JSON.stringify(label.slice(0, 40))} and is larger than the capture cap, so Airlock cannot decode it whole`, 'send it as UTF-8');
  }
  const readings = bodyReadings(bytes, types, scrubber.asciiOnly);
  if (readings.unknown) return unreadable(`${readings.unknown}, which Airlock cannot decode`, 'send it as UTF-8');
  try {
    if (codings.length) scrubber.scrubString(bytes.toString('latin1'));
    for (const text of readings.texts) scrubber.scrubString(text);
  } catch (err) {
    if (err instanceof ForbiddenContentError) return (asRefusal(err) as StreamStop).rejection;
    throw err;
  }
  return undefined;
}

/**
 * A body substitution the server would read as other text: a placeholder in a field it decodes in
 * UTF-16 or EBCDIC (the part's own charset, the form's `_charset_` field, the request's) becomes a
 * value stored as text no scrubber of the record matches (proxy/charset-readings.ts
 * misreadSubstitution). Refused; a body under a content coding is not substituted at all.
 */
function misreadBody(ctx: RequestContext, index: PlaceholderIndex, replace: Map<string, string>): Rejection | undefined {
  if (!ctx.body || contentCodings(ctx.outgoing.headers).length) return undefined;
  const swaps = [...replace].flatMap(([name, value]) => {
    const placeholder = index.placeholderOf(name);
    return placeholder ? [{ placeholder, value }] : [];
  });
  const where = misreadSubstitution(ctx.body.bytes, contentTypes(ctx.outgoing.headers), swaps, ctx.body.truncated);
  return where ? reject(415, 'body-unreadable', 'Request body cannot be checked',
    `${where}, in which its server would read a substituted secret as other text, which Airlock could not recognise where the service shows it back; so the placeholder is not substituted there and the request was refused (send it as UTF-8)`, 'denied') : undefined;
}

/** The body guard's stream: what it refuses stops the request as a refusal. */
class BodyGuardStream extends ScrubStream {
  /** Only looks (no substitution): what leaves is what came, byte for byte, so a declared length still holds. */
  readonly preservesLength: boolean;

  constructor(scrubber: Scrubber, substitutes: boolean, probe?: HoldProbe) {
    super(scrubber, undefined, false, false, probe);
    this.preservesLength = !substitutes;
  }

  protected override streamError(err: Error): Error {
    return asRefusal(err) ?? err;
  }

  override _flush(cb: (err?: Error | null) => void): void {
    super._flush((err) => cb(asRefusal(err)));
  }
}

/**
 * The secrets a decision would inject that the agent's run was not given (`airlock run --secret` /
 * `--no-secrets`, carried by the run's token), with the refusal's wording; undefined when none.
 */
function outsideRunSecrets(allowed: string[] | undefined, named: Set<string>): { names: string[]; detail: string } | undefined {
  if (!allowed) return undefined;
  const names = [...named].filter((n) => !allowed.includes(n)).sort();
  if (!names.length) return undefined;
  const given = allowed.length ? `only secret ${allowed.map((n) => `"${n}"`).join(', ')} (--secret)` : 'no secrets (--no-secrets)';
  return {
    names,
    detail: `the policy would inject secret ${names.map((n) => `"${n}"`).join(', ')}, but this agent's run was given ${given}; `
      + `Airlock injects nothing outside a run's secrets (start the run with --secret ${names[0]} to allow it)`,
  };
}

/**
 * Refuses a request that carries a placeholder, or a real value, of a secret the decision does not
 * bind to this destination. Runs first in the enforcer order, so such a request is refused before
 * a human is asked to approve it; the injector asks again (answered from the memo) in case the
 * order is changed.
 */
export class CredentialGuard implements Enforcer {
  readonly name = 'credential-guard';
  private readonly verdicts = new WeakMap<RequestContext, Rejection | null>();
  /** When this guard last looked at the store for a request (performance.now()). */
  private readonly refreshedAt = new WeakMap<RequestContext, number>();
  /** The placeholders of each allowed request, place by place. */
  private readonly seen = new WeakMap<RequestContext, Sighting[]>();

  /** Every placeholder and real value in every spelling (labelled `p:NAME` / `v:NAME`), per store generation. */
  private headMatcher: { generation: number; scrubber: Scrubber } | undefined;
  /** The end of what an agent sent over each WebSocket so far: a value cut across messages is read across them. */
  private readonly sentTails = new WeakMap<RequestContext, TunnelTails>();

  constructor(readonly live: LiveSecrets, readonly probe = new SecretProbe()) {}

  /** Notes the token each request came with (for the tripwire, proxy/secret-probe.ts). */
  describe(description: RequestDescription, origin?: RequestOrigin): void {
    this.probe.note(description, origin);
  }

  async beforeForward(ctx: RequestContext): Promise<Rejection | undefined> {
    if (this.probe.isTripped(ctx)) return probeRefusal();
    // Another piece of this token holds a long start of a secret: wait until it settles (all alike).
    if (this.probe.heldElsewhere(ctx)) {
      const clear = await this.probe.clear(ctx, PROBE_WAIT_MS);
      if (this.probe.isTripped(ctx)) return probeRefusal();
      if (!clear) return heldRefusal();
    }
    await this.refreshFor(ctx);
    return this.check(ctx);
  }

  private spellingMatcher(): Scrubber {
    const generation = this.live.generation;
    if (this.headMatcher?.generation === generation) return this.headMatcher.scrubber;
    const rules: MatchRule[] = [];
    for (const { name } of this.live.store.list()) {
      const ph = this.live.finder.placeholderOf(name);
      if (ph) rules.push({ value: ph, label: `p:${name}`, replace: '' });
    }
    for (const { name, value } of this.live.values.rules()) rules.push({ value, label: `v:${name}`, replace: '' });
    if (rules.length) rules.push({ forms: OVERLONG_REFERENCES, label: 'z:', replace: '' });
    const scrubber = new Scrubber([], rules);
    this.headMatcher = { generation, scrubber };
    return scrubber;
  }

  /**
   * Placeholders and values in the request head outside the slots the directives write whole, in
   * every spelling the scrubber knows (base64 or hex split by blanks, escaped blanks or byte
   * separators at any width, …), which the finders' exact forms miss. One scan of the joined parts.
   */
  private spelledInHead(ctx: RequestContext, slots: ReturnType<typeof slotsOf>): { placeholders: string[]; values: string[]; unreadable?: string } {
    const matcher = this.spellingMatcher();
    if (matcher.empty) return { placeholders: [], values: [] };
    const { outgoing } = ctx;
    const parts = [outgoing.url.hostname];
    // URL parts also as the server decodes them: base64 split by %20, "+" or %0A is split by blanks then.
    const url = (text: string): void => void parts.push(text, ...(/[%+]/.test(text) ? [queryKey(text)] : []));
    url(outgoing.url.pathname);
    const pairs: string[] = [];
    for (const p of outgoing.url.search.replace(/^\?/, '').split('&')) {
      if (!p) continue;
      const eq = p.indexOf('=');
      pairs.push(eq >= 0 && slots.query.has(queryKey(p.slice(0, eq))) ? p.slice(0, eq) : p);
    }
    for (const p of pairs) url(p);
    // The query as a server reads it in the Content-Type's charset (Django decodes it so).
    for (const label of pairs.length ? charsetsOf(contentTypes(outgoing.headers)) : []) {
      if (!needsDecoding(label, matcher.asciiOnly)) continue;
      const read = formTexts(pairs.join('&'), label);
      if ('error' in read) return { placeholders: [], values: [], unreadable: `the request declares charset ${JSON.stringify(label.slice(0, 40))} (Content-Type), in which servers such as Django decode the query string too, and Airlock cannot decode it: the query ${read.error} (send it as UTF-8)` };
      appendAll(parts, read.texts.map(asLatin1));
    }
    // RFC 2231/5987 parameters (`filename*=utf-16le''%73%00…`) also as the server decodes them.
    const extended: Readings = { texts: [] };
    for (const [n, v] of outgoing.headers) {
      parts.push(n);
      if (slots.headers.has(n.toLowerCase())) continue;
      parts.push(v);
      extendedParameters(v, extended);
    }
    appendAll(parts, extended.texts);
    const placeholders = new Set<string>();
    const values = new Set<string>();
    let overlong = false;
    for (const label of matcher.find(parts.join('\0'))) {
      if (label === 'z:') overlong = true;
      else (label.startsWith('p:') ? placeholders : values).add(label.slice(2));
    }
    // A JSON or form body's strings as the server reads them (one layer the raw body guard does not
    // undo: a "\\x64" in JSON is "\x64" to the server); the body slot's own placeholders may be there.
    const strings = [bodyStrings(ctx.description.request.body), multipartText(ctx)].filter(Boolean).join('\0');
    if (strings) {
      for (const label of matcher.find(strings)) {
        const name = label.slice(2);
        if (label === 'z:') overlong = true;
        else if (label.startsWith('v:')) values.add(name);
        else if (!slots.body.has(name)) placeholders.add(name);
      }
    }
    if (overlong && !placeholders.size && !values.size) return { placeholders: [], values: [], unreadable: `the request carries ${OVERLONG_WHY}` };
    return { placeholders: [...placeholders].sort(), values: [...values].sort() };
  }

  /**
   * Makes sure the store was looked at for this request within the last millisecond. The injector
   * runs right after the guard unless a hold (approval) came between, so this saves the second file
   * check per request without letting a `secret rm` made during a hold go unseen.
   */
  async refreshFor(ctx: RequestContext): Promise<void> {
    const at = this.refreshedAt.get(ctx);
    if (at !== undefined && performance.now() - at < 1) return;
    await this.live.refresh();
    this.refreshedAt.set(ctx, performance.now());
  }

  /**
   * Messages to the upstream go out as they are (placeholders are never substituted in frames),
   * so one that carries a placeholder — of any secret: a message is no credential's slot — or the
   * real value of a secret not bound here closes the tunnel.
   */
  onMessage(ctx: RequestContext, message: RelayedMessage): Rejection | undefined {
    if (message.to !== 'upstream') return undefined;
    let tails = this.sentTails.get(ctx);
    if (!tails) this.sentTails.set(ctx, (tails = {}));
    // Another piece of this token holds a long start of a secret: its messages are refused alike.
    if (this.probe.heldElsewhere(ctx, ctx)) return heldRefusal();
    const text = message.data.toString('latin1');
    const named = new Set((ctx.decision.credentials ?? []).map((d) => d.secret));
    // Every spelling (the finders' exact forms, then the scrubber's matcher over the text and, for
    // a JSON message, over its strings as the server reads them).
    const matcher = this.spellingMatcher();
    const spelled = matcher.empty ? new Set<string>() : matcher.find(messageText(text));
    // One begun in the messages before and completed in this one (an agent cutting a value it
    // learned into pieces): read across them; what lies wholly in the earlier ones was read then.
    const across = matcher.empty ? undefined : readAcross(tails, message.kind, text, matcher);
    for (const joined of across?.joined ?? []) for (const l of matcher.find(joined)) spelled.add(l);
    if (spelled.has('z:')) {
      return reject(415, 'body-unreadable', 'Message cannot be checked',
        `a WebSocket message carries ${OVERLONG_WHY}; Airlock checks every message for secrets and placeholders before it leaves, so the tunnel was closed`, 'denied');
    }
    const values = [...new Set([...this.live.values.find(text), ...[...spelled].filter((l) => l.startsWith('v:')).map((l) => l.slice(2))])]
      .filter((n) => !named.has(n)).sort();
    if (values.length) {
      ctx.audit.secret_values_refused = values;
      return reject(403, 'secret-value-not-bound', 'Secret value not authorized for this destination',
        `a WebSocket message carries the value of secret ${values.map((n) => `"${n}"`).join(', ')}, which the policy does not bind here; the tunnel was closed`, 'denied');
    }
    const placeholders = [...new Set([...this.live.finder.find(text), ...[...spelled].filter((l) => l.startsWith('p:')).map((l) => l.slice(2))])].sort();
    const unbound = placeholders.filter((n) => !named.has(n));
    if (unbound.length) {
      ctx.audit.placeholders_refused = unbound;
      return reject(403, 'placeholder-not-bound', 'Placeholder not authorized for this destination',
        `a WebSocket message carries the placeholder of secret ${unbound.map((n) => `"${n}"`).join(', ')}, which the policy does not bind here; the tunnel was closed`, 'denied');
    }
    if (placeholders.length) {
      ctx.audit.placeholders_misplaced = placeholders.map((n) => `${n} (a WebSocket message)`);
      return reject(403, 'placeholder-not-bound', 'Placeholder not authorized here',
        `a WebSocket message carries the placeholder of secret ${placeholders.map((n) => `"${n}"`).join(', ')}; a placeholder is replaced only in the handshake slot its credential directive names, never in a message, so the tunnel was closed`, 'denied');
    }
    if (!across) return undefined;
    // Ending with HOLD_PREFIX or more characters of a start of one: kept back until the next
    // message shows it is not (websocket-relay.ts), so the pieces before the last never leave.
    // PROBE_START or more of a value's start trips the wire: an agent that has no real value
    // (the design) has no reason to send one, and one guessing it learns no more.
    const probed = holdProbe(tails!, across.hold, () => probedStarts(tails!, (r) => (r.label?.startsWith('v:') ? r.label.slice(2) : undefined)), message,
      this.probe, ctx, 'a WebSocket message to the upstream');
    if (probed) return probed;
    if (across.hold) {
      message.hold = reject(403, 'secret-value-not-bound', 'Message cannot be checked',
        'a WebSocket message ended with what may be the start of a secret\'s value or placeholder and no message followed to show it was not; the tunnel was closed', 'denied');
    }
    return undefined;
  }

  check(ctx: RequestContext): Rejection | undefined {
    const memo = this.verdicts.get(ctx);
    if (memo !== undefined) return memo ?? undefined;
    const verdict = this.evaluate(ctx);
    this.verdicts.set(ctx, verdict ?? null);
    return verdict;
  }

  private evaluate(ctx: RequestContext): Rejection | undefined {
    const index = this.live.finder;
    const { outgoing, description } = ctx;
    const origin = originOf(outgoing.url);
    const directives = ctx.decision.credentials ?? [];
    const named = new Set(directives.map((d) => d.secret));
    const outsideRun = outsideRunSecrets(description.agent.secrets, named);
    if (outsideRun) {
      ctx.audit.secrets_outside_run = outsideRun.names;
      return reject(403, 'secret-not-in-run', 'Secret not given to this run', outsideRun.detail, 'denied');
    }
    // Every placeholder in the request, place by place: a fresh look at headers (names and
    // values), host, path and query with the current index, plus what the description saw
    // (including the captured body).
    const seen = index.size ? sightings(outgoing, description, index) : [];
    const present = new Set([...description.placeholders.map((p) => p.name), ...seen.map((x) => x.name)]);
    const unbound = [...present].filter((n) => !named.has(n)).sort();
    const leaked = this.unboundValues(ctx, named);
    if (leaked.length) {
      ctx.audit.secret_values_refused = leaked;
      return reject(403, 'secret-value-not-bound', 'Secret value not authorized for this destination',
        `the request carries the value of secret ${leaked.map((n) => `"${n}"`).join(', ')}, which the policy does not bind to ${origin} `
        + '(refused as an exfiltration attempt)', 'denied');
    }
    if (unbound.length) {
      ctx.audit.placeholders_refused = unbound;
      return reject(403, 'placeholder-not-bound', 'Placeholder not authorized for this destination',
        `the request carries the placeholder of secret ${unbound.map((n) => `"${n}"`).join(', ')}, which the policy does not bind to ${origin}; `
        + 'a placeholder is only replaced where the policy injects its secret (refused as a possible exfiltration attempt)'
        + (named.size ? `; the policy binds ${[...named].sort().map((n) => `"${n}"`).join(', ')} here (store the value under that name: airlock secret set ${[...named].sort()[0]})` : ''), 'denied');
    }
    const slots = slotsOf(directives);
    const misplaced = seen.filter((x) => !inItsSlot(x, slots));
    if (misplaced.length) {
      const first = misplaced[0]!;
      ctx.audit.placeholders_misplaced = [...new Set(misplaced.map((x) => `${x.name} (${x.where})`))].sort();
      return reject(403, 'placeholder-not-bound', 'Placeholder not authorized here',
        `the placeholder of secret "${first.name}" is in the ${first.where}, but the policy injects that secret only in ${slotNames(first.name, slots)} for ${origin}; `
        + 'a placeholder is replaced only in the place its credential directive names and refused anywhere else (a service that records that place could hand the real value back)', 'denied');
    }
    // A body directive with a `name` fills that field only: the placeholder anywhere else in the
    // body (a gist's content, an issue's text) would have the service store the real value.
    for (const [secret, fields] of bodyFieldsOf(directives)) {
      const ph = index.placeholderOf(secret);
      if (!ph || !description.placeholders.some((p) => p.name === secret && p.where.includes('body'))) continue;
      const where = outsideBodyFields(description.request.body, ctx.body?.bytes, secret, ph, fields, index);
      if (!where) continue;
      ctx.audit.placeholders_misplaced = [`${secret} (the body, ${where})`];
      return reject(403, 'placeholder-not-bound', 'Placeholder not authorized here',
        `the placeholder of secret "${secret}" is in the body ${where}, but the policy injects that secret only as the whole value of body field ${[...fields].sort().map((f) => JSON.stringify(f)).join(', ')} for ${origin}; `
        + 'a placeholder is replaced only in the place its credential directive names and refused anywhere else (a service that records that place could hand the real value back)', 'denied');
    }
    const spelled = this.spelledInHead(ctx, slots);
    if (spelled.unreadable) {
      return reject(415, 'body-unreadable', 'Request cannot be checked',
        `${spelled.unreadable}; Airlock checks every request for secrets and placeholders before it leaves, so it was refused`, 'denied');
    }
    const spelledValues = spelled.values.filter((n) => !named.has(n));
    if (spelledValues.length) {
      ctx.audit.secret_values_refused = spelledValues;
      return reject(403, 'secret-value-not-bound', 'Secret value not authorized for this destination',
        `the request carries an encoded spelling of the value of secret ${spelledValues.map((n) => `"${n}"`).join(', ')}, which the policy does not bind to ${origin} `
        + '(refused as an exfiltration attempt)', 'denied');
    }
    if (spelled.placeholders.length) {
      ctx.audit.placeholders_refused = spelled.placeholders;
      return reject(403, 'placeholder-not-bound', 'Placeholder not authorized here',
        `the request head carries an encoded spelling of the placeholder of secret ${spelled.placeholders.map((n) => `"${n}"`).join(', ')} outside the slot a credential directive writes; `
        + 'a placeholder is replaced only in the place its credential directive names and refused anywhere else', 'denied');
    }
    this.seen.set(ctx, seen);
    return undefined;
  }

  /** The placeholders the agent put in the slots the directives fill (after check() allowed the request). */
  slotted(ctx: RequestContext): Sighting[] {
    return this.seen.get(ctx) ?? [];
  }

  /** Secrets whose real value is in the request's host, path, query, header names and values or described body but not bound here. */
  private unboundValues(ctx: RequestContext, named: Set<string>): string[] {
    const values = this.live.values;
    if (values.size === 0) return [];
    const { outgoing, description } = ctx;
    // One look at host, path, query and every header name and value, NUL between them: decoded
    // readings stay local to each part, and a match spanning two parts (only a value holding NUL
    // could) can only refuse more, never miss one.
    const parts = [outgoing.url.hostname, `${outgoing.url.pathname}${outgoing.url.search}`];
    for (const [n, v] of outgoing.headers) parts.push(n, v);
    const found = new Set(values.find(parts.join('\0')));
    const b = description.request.body;
    const bodyText = b.json !== undefined ? JSON.stringify(b.json) : b.form ? JSON.stringify(b.form) : b.text;
    if (bodyText) for (const n of values.find(asLatin1(bodyText))) found.add(n);
    return [...found].filter((n) => !named.has(n)).sort();
  }
}

export class CredentialEnforcer implements Enforcer {
  readonly name = 'credentials';
  /** Requests whose answer is scrubbed: the host had a secret when the request left or when its answer came. */
  private readonly scrubbed = new WeakSet<RequestContext>();
  /** Request body guards by what they look for (compiling one is far costlier than running it). */
  private readonly bodyGuards = new Map<string, Scrubber>();
  /** Where secrets were injected: kept in the ledger beyond this process, shared by replicas. */
  readonly injectedHosts: InjectedHosts;
  /** What each injecting request carried, remembered under its address too once it is known (onDestination). */
  private readonly injecting = new WeakMap<RequestContext, Injection[]>();
  /** The address and port each request was sent to (an InjectedHosts.addressKey). */
  private readonly sentTo = new WeakMap<RequestContext, string>();
  /** The end of the last message each tunnel sent to the agent, raw: to see a secret split across messages. */
  private readonly messageTails = new WeakMap<RequestContext, TunnelTails>();
  /** Per tunnel: the fields of the JSON messages to the agent, joined (proxy/json-pieces.ts). */
  private readonly messagePieces = new WeakMap<RequestContext, JsonPieces>();

  constructor(private readonly live: LiveSecrets, private readonly guard = new CredentialGuard(live), private readonly ledger?: InjectionLedger) {
    this.injectedHosts = new InjectedHosts(secretSource(live), ledger);
  }

  async beforeForward(ctx: RequestContext): Promise<Rejection | undefined> {
    await this.guard.refreshFor(ctx);
    // Places another replica recorded that this one has not heard of yet: read before deciding what is scrubbed.
    const behind = this.ledger?.catchUp?.();
    if (behind) await behind;
    const directives: CredentialDirective[] = ctx.decision.credentials ?? [];
    const index = this.live.finder;
    const { outgoing, description } = ctx;
    const origin = originOf(outgoing.url);
    const host = description.request.host;

    const refused = this.guard.check(ctx);
    if (refused) return refused;
    if (directives.length === 0) {
      const unchecked = this.guardBody(ctx, index, new Set(), new Map());
      if (unchecked) return unchecked;
      if (!this.injectedHosts.has(host)) return undefined;
      // A host that got a secret earlier: what it sends back (responses, WebSocket messages) is
      // scrubbed, however it is asked for.
      this.neutralize(ctx);
      return undefined;
    }

    if (this.live.error) return storeUnreadable(this.live.error);
    // A WebSocket handshake carries credentials in its head (header, basic, query); frames are never
    // substituted, and every message coming back is scrubbed like a response (onMessage).
    const bodyOnUpgrade = description.request.upgrade ? directives.find((d) => d.in === 'body') : undefined;
    if (bodyOnUpgrade) {
      return reject(403, 'credential-upgrade-unsupported', 'Credentials not injected into WebSocket frames',
        `the policy asks for secret "${bodyOnUpgrade.secret}" in the body of a ${description.request.upgrade} upgrade; a handshake has no body and frames are never substituted`);
    }
    // The destination is fixed before enforcers run; injected credentials are bound to it.
    const described = `${description.request.scheme}://${description.request.host.includes(':') ? `[${description.request.host}]` : description.request.host}:${description.request.port}`;
    if (originOf(outgoing.url) !== described) {
      return reject(403, 'credential-destination-mismatch', 'Credential destination mismatch', `the request goes to ${origin}, not ${described} the policy decided for; no credential is injected`);
    }

    const values = new Map<string, string>();
    for (const name of new Set(directives.map((d) => d.secret))) {
      if (!this.live.store.has(name)) {
        return reject(503, 'credential-missing', 'Credential unavailable', `the policy injects secret "${name}", which is not in the secret store (add it with: airlock secret set ${name})`);
      }
      try {
        await this.live.store.unlock();
        values.set(name, this.live.store.reveal(name));
      } catch (err) {
        return storeUnreadable((err as Error).message);
      }
    }

    // Each directive writes its slot whole; whatever the agent put there (its placeholder) is gone.
    const bodyNames = new Set<string>();
    /** Each secret and the forms it leaves in (itself, and e.g. the base64 of a Basic pair): scrubbed in every spelling. */
    const injected = new Map<string, Injection>();
    for (const d of directives) {
      const value = values.get(d.secret)!;
      const form = formOf(d);
      for (const f of new Set(['value', form])) injected.set(`${d.secret}\0${f}`, { secret: d.secret, value, form: f });
      if (d.in === 'header' || d.in === 'basic') {
        const name = d.in === 'header' ? d.name ?? '' : 'authorization';
        const text = d.in === 'header' ? format(d.format, value) : `Basic ${spellForm(form, value)}`;
        if (!TOKEN.test(name) || RESERVED_HEADERS.has(name.toLowerCase())) return reject(500, 'credential-invalid', 'Invalid credential directive', `header name ${JSON.stringify(name)} for secret "${d.secret}" is not a header a credential can go in`);
        if (UNSAFE_HEADER_VALUE.test(text)) return reject(500, 'credential-invalid', 'Invalid credential directive', `secret "${d.secret}" contains characters that cannot go in a header`);
        setHeader(outgoing.headers, name, text);
      } else if (d.in === 'query') {
        if (!d.name) return reject(500, 'credential-invalid', 'Invalid credential directive', `query credential for secret "${d.secret}" has no parameter name`);
        setQueryParam(outgoing.url, d.name, format(d.format, value));
      } else if (d.in === 'body') {
        bodyNames.add(d.secret);
      } else {
        return reject(500, 'credential-invalid', 'Invalid credential directive', `unknown credential location ${JSON.stringify((d as { in: unknown }).in)}`);
      }
    }

    const othersRemoved = removeOtherCredentials(outgoing, slotsOf(directives));
    const bodyPlaceholders = [...bodyNames].map((n) => index.placeholderOf(n)).filter((p): p is string => p !== undefined);
    const inBody = agentCredentialInBody(description.request.body, (v) => bodyPlaceholders.some((p) => v.includes(p)));
    if (inBody !== undefined) {
      return reject(403, 'agent-credential-in-body', 'A credential of the agent\'s own in the body', `the body carries ${JSON.stringify(inBody.slice(0, 60))} beside the credential Airlock injects (${[...new Set(directives.map((d) => d.secret))].join(', ')}); a service may authenticate by either, so the request could act as another account: send it without that field`);
    }

    const unchecked = this.guardBody(ctx, index, bodyNames, new Map([...values].filter(([k]) => bodyNames.has(k))));
    if (unchecked) return unchecked;
    const sent = [...injected.values()];
    // Written down (the state folder, or the store every replica shares) before the request leaves.
    const recorded = this.injectedHosts.remember(host, sent);
    if (recorded) {
      try {
        await recorded;
      } catch (err) {
        return unrecorded(err);
      }
    }
    this.injecting.set(ctx, sent);
    this.neutralize(ctx);
    ctx.audit.credentials = {
      injected: directives.map((d) => ({ secret: d.secret, in: d.in, ...(d.name ? { name: d.name } : {}) })),
      placeholders_substituted: [...new Set(this.guard.slotted(ctx).map((x) => x.name))].sort(),
      destination: origin,
      ...(othersRemoved.length ? { agent_credentials_removed: othersRemoved } : {}),
    };
    return undefined;
  }

  /**
   * The address the request goes to: an injecting request's secrets are remembered under it (any
   * other name for that server shows what it received), and a request to a server that got a
   * secret under another name is neutralized like one to a host that got it.
   */
  onDestination(ctx: RequestContext, address: string, port: number): Promise<Rejection | undefined> | undefined {
    if (this.live.values.size === 0) return undefined; // no secret to inject, none ever injected
    const key = InjectedHosts.addressKey(address, port);
    this.sentTo.set(ctx, key);
    const injected = this.injecting.get(ctx);
    if (injected) return this.injectedHosts.remember(key, injected)?.then(() => undefined, unrecorded);
    if (!this.scrubbed.has(ctx) && this.injectedHosts.has(ctx.description.request.host, key)) this.neutralize(ctx);
    return undefined;
  }

  /** Whether a secret was injected into this request's host, or sent to its address under any name. */
  private hadSecret(ctx: RequestContext): boolean {
    return this.injectedHosts.has(ctx.description.request.host, this.sentTo.get(ctx));
  }

  /** Marks the response for scrubbing and neutralizes the request's content negotiation. */
  private neutralize(ctx: RequestContext): void {
    this.scrubbed.add(ctx);
    const changed = neutralizeNegotiation(ctx.outgoing.headers, ctx.outgoing.method);
    if (changed.length) ctx.audit.negotiation_neutralized = changed;
  }

  /**
   * Body substitution for in:"body" secrets and refusal, past the captured prefix the description
   * saw, of any other placeholder (the upload is aborted before it leaves); every body is checked
   * for the real values of the secrets not bound here. Placeholders are matched in every spelling
   * here (quoted-printable, base64 wrapped at any width, UTF-16), which the description's finder
   * does not read. A body under a content coding is checked as the server will read it, decoded.
   */
  private guardBody(ctx: RequestContext, index: PlaceholderIndex, bodyNames: Set<string>, replace: Map<string, string>): Rejection | undefined {
    const body = ctx.description.request.body;
    if (body.size === 0 && !body.truncated) return undefined;
    const named = new Set((ctx.decision.credentials ?? []).map((d) => d.secret));
    const forbiddenValues = this.live.values.rules().filter((r) => !named.has(r.name));
    // Only the placeholders of secrets substituted in the body may be there (anywhere else, 403).
    const forbidden = this.live.store.list().map((s) => s.name).filter((n) => !bodyNames.has(n));
    if (!replace.size && !forbidden.length && !forbiddenValues.length) return undefined;
    const key = JSON.stringify([this.live.generation, [...replace.keys()].sort(), forbidden, forbiddenValues.map((r) => r.name)]);
    let scrubber = this.bodyGuards.get(key);
    if (!scrubber) {
      scrubber = bodyScrubber(index, replace, forbidden, forbiddenValues);
      if (this.bodyGuards.size >= 64) this.bodyGuards.delete(this.bodyGuards.keys().next().value!);
      this.bodyGuards.set(key, scrubber);
    }
    const coded = forbidden.length || forbiddenValues.length ? checkCodedBody(ctx, scrubber) : undefined;
    if (coded) return coded;
    const misread = replace.size ? misreadBody(ctx, index, replace) : undefined;
    if (misread) return misread;
    // A tail held back that is 10+ characters of a value's start trips the wire (proxy/secret-probe.ts).
    const probe = this.guard.probe.stream(ctx, 'an upload', (rules) => [...new Set(rules.filter((r) => r.label?.startsWith('v:')).map((r) => r.label!.slice(2)))].sort());
    const guard = new BodyGuardStream(scrubber, replace.size > 0, probe);
    guard.owner = ctx.description.agent.id;
    ctx.outgoing.bodyTransforms.push(guard);
    return undefined;
  }

  /**
   * The scrubber for what comes back for this request now (and, over an upgrade, for each message):
   * asked again as the answer streams, because a credential injected into the host after this
   * request left — a long poll, an event stream, a tunnel opened before — can be recorded by the
   * service and pushed down this very answer.
   */
  scrubberFor(ctx: RequestContext): Scrubber | undefined {
    return this.injectedHosts.scrubberFor(ctx.description.request.host, this.sentTo.get(ctx));
  }

  /**
   * Messages to the agent are scrubbed one by one. A secret form that starts at the end of one
   * message and ends in the next cannot be taken back from the first: the tunnel is closed instead.
   */
  onMessage(ctx: RequestContext, message: RelayedMessage): Rejection | undefined {
    if (message.to !== 'agent') return undefined;
    const scrubber = this.scrubberFor(ctx);
    if (!scrubber || scrubber.maxLength === 0) return undefined;
    const text = message.data.toString('latin1');
    let tails = this.messageTails.get(ctx);
    if (!tails) this.messageTails.set(ctx, (tails = {}));
    let across: ReturnType<typeof readAcross>;
    let scrubbed: string;
    let piecesHeld = false;
    let released: Set<string> | undefined;
    try {
      across = readAcross(tails, message.kind, text, scrubber);
      scrubbed = scrubText(scrubber, text);
      // A message a JSON document (a terminal's `{"type":"stdout","data":"sk_"}`): its fields are
      // joined across the messages as their reader joins them (proxy/json-pieces.ts).
      if (message.kind === 'text' || message.kind === 'binary') {
        let pieces = this.messagePieces.get(ctx);
        if (!pieces) this.messagePieces.set(ctx, (pieces = new JsonPieces(() => this.scrubberFor(ctx) ?? scrubber)));
        piecesHeld = pieces.document(scrubbed);
        // A joined field's long start the message showed was none (the tripwire, below).
        for (const r of pieces.takeReleased()) {
          const name = this.secretOf(r.replace);
          if (name !== undefined) (released ??= new Set()).add(name);
        }
        // Compressed data inside the message (a gzip or zip blob), unpacked by the agent.
        for (const packed of packedTexts(message.data)) {
          if (scrubText(scrubber, packed) !== packed) throw new UnscrubbableEncodingError('a compressed stream inside a WebSocket message holds a secret');
        }
      }
    } catch (err) {
      // What the scrubber refuses (an overlong escape), in this message or begun in the one before.
      if (!(err instanceof UnscrubbableEncodingError) && !(err instanceof ForbiddenContentError)) throw err;
      ctx.audit.scrub_refused = err.message;
      return reject(502, 'response-unscrubbable', 'Message cannot be scrubbed', `${err.message}; the tunnel was closed because a credential was injected into ${ctx.description.request.host} or the server at its address`, 'scrub-refused');
    }
    if (across.joined.length) {
      // A key handed back whole across messages: refused as a split, no probe.
      if (tails.probe) this.guard.probe.end(ctx, ctx);
      ctx.audit.scrub_refused = 'a secret split across WebSocket messages';
      return reject(502, 'response-unscrubbable', 'Message cannot be scrubbed', `a WebSocket message continued a secret begun in the previous one; the tunnel was closed because a credential was injected into ${ctx.description.request.host} or the server at its address`, 'scrub-refused');
    }
    // What the messages so far end with may be the start of a secret the next one completes:
    // relayed now, that start would be out before the split shows. Kept back instead (a start
    // shorter than HOLD_PREFIX, which says little, passes: most text ends with a letter or digit
    // some spelling begins with).
    const names = (): string[] => [...new Set([...probedStarts(tails!, (r) => this.secretOf(r.replace)), ...(piecesHeld ? this.messagePieces.get(ctx)!.probed(PROBE_START).map((r) => this.secretOf(r.replace)) : [])])]
      .filter((n): n is string => n !== undefined).sort();
    const where = 'a WebSocket message to the agent';
    if (released) return this.guard.probe.trip(ctx, [...released].sort(), where);
    const probed = holdProbe(tails, across.hold || piecesHeld, names, message, this.guard.probe, ctx, where);
    if (probed) return probed;
    if (across.hold || piecesHeld) {
      message.hold = reject(502, 'response-unscrubbable', 'Message cannot be scrubbed', `a WebSocket message ended with what may be the start of a secret and no message followed to show it was not; the tunnel was closed because a credential was injected into ${ctx.description.request.host} or the server at its address`, 'scrub-refused');
    }
    if (scrubbed !== text) message.data = Buffer.from(scrubbed, 'latin1');
    return undefined;
  }

  /** The secret whose value a scrubber rule replaces with `placeholder` (a held start's name). */
  private secretOf(placeholder: string): string | undefined {
    if (!placeholder) return undefined;
    for (const { name } of this.live.store.list()) if (this.live.finder.placeholderOf(name) === placeholder) return name;
    return placeholder.startsWith('airlock-ph-') ? placeholder.slice('airlock-ph-'.length) : placeholder;
  }

  /**
   * An answer whose head came before any secret was injected into its host (or sent to its server
   * under another name) streams as it is; if
   * one is injected while it still streams (an event stream, a long download opened first), the
   * rest is cut: its head is gone, so its negotiation (ranges, charset, coding) cannot be taken
   * back, and the service may push the new record down it.
   */
  responseGuard(ctx: RequestContext): ResponseGuard | undefined {
    if (this.scrubbed.has(ctx) || this.live.values.size === 0) return undefined;
    const host = ctx.description.request.host;
    return () => {
      if (!this.hadSecret(ctx)) return undefined;
      ctx.audit.scrub_refused = 'a credential was injected into this host while the answer streamed unscrubbed';
      return reject(502, 'response-unscrubbable', 'Response cannot be scrubbed',
        `a credential was injected into ${host} or the server at its address while this answer was streaming unscrubbed (it began before); the rest was withheld`, 'scrub-refused');
    };
  }

  onResponse(ctx: RequestContext, head: ResponseHead): Transform | undefined {
    // Whether the host (or its server) has had a secret by the time the answer comes, not when the request left.
    if (!this.hadSecret(ctx)) return undefined;
    this.scrubbed.add(ctx);
    try {
      // A body past the inflate limits is cut off; the audit record says why. The body is scrubbed
      // for the secrets injected into the host by the time each chunk passes.
      const live = (): Scrubber => this.scrubberFor(ctx)!;
      const names = (rules: Array<{ replace: string }>): string[] => [...new Set(rules.map((r) => this.secretOf(r.replace)).filter((n): n is string => n !== undefined))].sort();
      const scrub = scrubResponse(live, head, {
        method: ctx.outgoing.method,
        owner: ctx.description.agent.id,
        onLimit: (why) => { ctx.audit.response_cut = why; },
        // Held text that long is a probe or a read-back: the token goes (proxy/secret-probe.ts).
        probe: this.guard.probe.stream(ctx, 'an answer streamed to the agent', names),
      }).transform;
      // Compressed streams inside the body that no Content-Encoding declares are read on the side
      // (brotli, which has no magic, from the first byte of an answer that is no text).
      // Its holds on inflated text are counted by the tripwire too (a guess echoed inside a `.gz`).
      return scrub && new PackedScan(live, scrub, !textualAnswer(head.headers), this.guard.probe.stream(ctx, 'compressed data inside an answer streamed to the agent', names));
    } catch (err) {
      if (!(err instanceof UnscrubbableEncodingError)) throw err;
      // Fail closed: a body we cannot scrub is replaced by a problem, never passed on.
      const body = problemBody(502, 'response-unscrubbable', 'Response cannot be scrubbed', `${err.message}; it was withheld because a credential was injected into ${ctx.description.request.host} or the server at its address`);
      head.statusCode = 502;
      head.headers.splice(0, head.headers.length, ['content-type', 'application/problem+json']);
      ctx.audit.scrub_refused = err.message;
      return new Transform({
        transform(_chunk, _enc, cb) {
          cb();
        },
        flush(cb) {
          this.push(body);
          cb();
        },
      });
    }
  }
}
