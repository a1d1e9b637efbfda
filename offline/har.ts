// HAR 1.2 import (browser devtools, mitmproxy, Charles): each entry becomes a RawRequest and goes
// through describe/describe.ts, the same code that describes live traffic, so a HAR request reaches the
// policy with the same service/SQL/MCP facts it would have had through the proxy.
// The file is streamed entry by entry (@streamparser/json): a 1 GB HAR with response bodies is
// never held in memory. Entries that cannot become a description are skipped with a reason;
// entries whose body is missing or binary are kept and carry a note.
import fs from 'node:fs';
import path from 'node:path';
import { JSONParser } from '@streamparser/json';
import type { Entry, Header, PostData } from 'har-format';
import { loadAdapters } from '../describe/adapters/index.ts';
import { DescribeError, describeRequest, type PlaceholderFinder, type RawRequest } from '../describe/describe.ts';
import type { AgentInfo, RequestDescription } from '../describe/types.ts';

export interface HarOptions {
  /** The agent the entries are attributed to (HAR files do not know about Airlock agents). */
  agent?: AgentInfo;
  /** Finds secret placeholders (the store's PlaceholderIndex); default: placeholderShapeFinder. */
  placeholders?: PlaceholderFinder;
  /** Body bytes kept per request, like the proxy's capture cap. */
  bodyCap?: number;
}

export const defaultHarAgent: AgentInfo = { id: 'har', labels: {} };

/**
 * Without the secret store, placeholders are still recognizable by their shape
 * (`airlock-ph-NAME-<32 hex>`, see state/secrets/store.ts), raw or percent-encoded. Used for HAR
 * files when no store is given; the store's PlaceholderIndex also finds base64/hex forms.
 */
const SHAPE_PREFIX = 'airlock-ph-';
const isNameChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_.-]/.test(c);
const isHex = (c: string | undefined): boolean => c !== undefined && /[0-9a-f]/.test(c);

/**
 * The shortest NAME (1–64 name characters) at `from` followed by `-<32 hex>` and no further hex
 * digit: what /airlock-ph-([A-Za-z0-9_.-]{1,64}?)-[0-9a-f]{32}(?![0-9a-f])/ takes, in bounded
 * steps per prefix (that pattern is polynomial over a text of repeated prefixes).
 */
function shapedName(t: string, from: number): string | undefined {
  for (let len = 1; len <= 64 && isNameChar(t[from + len - 1]); len++) {
    const dash = from + len;
    if (t[dash] !== '-') continue;
    let n = 0;
    while (n < 32 && isHex(t[dash + 1 + n])) n++;
    if (n === 32 && !isHex(t[dash + 33])) return t.slice(from, dash);
  }
  return undefined;
}

export const placeholderShapeFinder: PlaceholderFinder = {
  find(text: string): string[] {
    let t = text;
    if (t.includes('%')) t += ` ${t.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))}`;
    const out = new Set<string>();
    for (let at = t.indexOf(SHAPE_PREFIX); at >= 0;) {
      const name = shapedName(t, at + SHAPE_PREFIX.length);
      if (name !== undefined) out.add(name);
      // Like a global pattern: the search goes on after a match, or one character further.
      at = t.indexOf(SHAPE_PREFIX, name === undefined ? at + 1 : at + SHAPE_PREFIX.length + name.length + 33);
    }
    return [...out];
  },
};
const defaultBodyCap = 1024 * 1024;

export type HarConversion =
  | { ok: true; raw: RawRequest; notes: string[] }
  | { ok: false; reason: string };

/** A HAR `postData` may carry `encoding: "base64"` (mitmproxy, Charles, some browsers) though the spec only names it for responses. */
type HarPostData = PostData & { encoding?: string };

function bodyOf(entry: Entry, notes: string[]): { body: Buffer; missing: boolean } {
  const post = entry.request.postData as HarPostData | undefined;
  const declared = typeof entry.request.bodySize === 'number' ? entry.request.bodySize : -1;
  if (post && typeof post.text === 'string') {
    if (post.encoding === 'base64') {
      notes.push('binary body (base64 in the HAR), decoded');
      return { body: Buffer.from(post.text, 'base64'), missing: false };
    }
    if (post.encoding && post.encoding !== 'utf8' && post.encoding !== 'utf-8') {
      notes.push(`body in unknown encoding ${JSON.stringify(post.encoding)}: described as missing`);
      return { body: Buffer.alloc(0), missing: true };
    }
    return { body: Buffer.from(post.text, 'utf8'), missing: false };
  }
  if (post && Array.isArray(post.params)) {
    const mime = (post.mimeType ?? '').split(';')[0]!.trim().toLowerCase();
    if (mime === 'application/x-www-form-urlencoded' && post.params.every((p) => p.fileName === undefined)) {
      const form = new URLSearchParams(post.params.map((p) => [p.name, p.value ?? '']));
      return { body: Buffer.from(form.toString(), 'utf8'), missing: false };
    }
    notes.push(`body recorded only as ${post.params.length} ${mime || 'form'} params: described as missing`);
    return { body: Buffer.alloc(0), missing: true };
  }
  if (declared > 0) {
    notes.push(`body of ${declared} bytes not recorded in the HAR: described as missing (truncated)`);
    return { body: Buffer.alloc(0), missing: true };
  }
  return { body: Buffer.alloc(0), missing: false };
}

/** One HAR entry as the raw request the proxy would have seen. */
export function harEntryToRaw(entry: Entry, id: string, bodyCap = defaultBodyCap): HarConversion {
  const req = entry?.request;
  if (!req || typeof req !== 'object') return { ok: false, reason: 'entry has no request' };
  if (typeof req.method !== 'string' || !req.method) return { ok: false, reason: 'request has no method' };
  if (typeof req.url !== 'string' || !req.url) return { ok: false, reason: 'request has no url' };
  if (req.method.toUpperCase() === 'CONNECT') return { ok: false, reason: 'CONNECT tunnel entry (the requests inside it are separate entries)' };
  const time = new Date(entry.startedDateTime);
  if (typeof entry.startedDateTime !== 'string' || Number.isNaN(time.getTime())) {
    return { ok: false, reason: `invalid startedDateTime ${JSON.stringify(entry.startedDateTime ?? null)}: replay needs the captured time` };
  }
  const notes: string[] = [];
  // HTTP/2 pseudo-headers (":authority", ":path") are not headers the proxy would see.
  const headers: Array<[string, string]> = (Array.isArray(req.headers) ? req.headers : [])
    .filter((h: Header) => typeof h?.name === 'string' && !h.name.startsWith(':'))
    .map((h: Header) => [h.name, String(h.value ?? '')]);
  const { body, missing } = bodyOf(entry, notes);
  let bodyTruncated = missing;
  let captured = body;
  if (body.length > bodyCap) {
    captured = body.subarray(0, bodyCap);
    bodyTruncated = true;
  }
  if (bodyTruncated && !headers.some(([n]) => n.toLowerCase() === 'content-length')) {
    const size = missing ? req.bodySize : body.length;
    if (typeof size === 'number' && size > 0) headers.push(['content-length', String(size)]);
  }
  return { ok: true, raw: { id, time, method: req.method, url: req.url, headers, body: captured, bodyTruncated }, notes };
}

export type HarItem =
  | { kind: 'request'; source: string; input: RequestDescription; notes: string[]; status?: number }
  | { kind: 'skipped'; source: string; reason: string };

/** Describes one HAR entry; never throws. Call `await loadAdapters()` once first (readHar does). */
export function describeHarEntry(entry: Entry, source: string, opts: HarOptions = {}): HarItem {
  const conv = harEntryToRaw(entry, source, opts.bodyCap);
  if (!conv.ok) return { kind: 'skipped', source, reason: conv.reason };
  try {
    const input = describeRequest(conv.raw, { agent: opts.agent ?? defaultHarAgent, placeholders: opts.placeholders ?? placeholderShapeFinder });
    const status = entry.response?.status;
    return { kind: 'request', source, input, notes: conv.notes, ...(typeof status === 'number' && status > 0 ? { status } : {}) };
  } catch (err) {
    const reason = err instanceof DescribeError ? err.message : `cannot describe: ${(err as Error).message}`;
    return { kind: 'skipped', source, reason };
  }
}

export class HarFormatError extends Error {}

/**
 * Streams the entries of a HAR file, described. `onBytes` reports how much of the file was read.
 * Throws HarFormatError when the file is not JSON or has no `log.entries`.
 */
export async function* readHar(file: string, opts: HarOptions & { onBytes?: (n: number) => void; signal?: AbortSignal } = {}): AsyncGenerator<HarItem> {
  await loadAdapters(); // the SQL parser the describe step uses
  const parser = new JSONParser({ paths: ['$.log.version', '$.log.entries.*'], keepStack: false });
  const pending: Entry[] = [];
  let sawEntries = false;
  let sawLog = false;
  parser.onValue = ({ value, key }) => {
    if (typeof key === 'number') pending.push(value as unknown as Entry);
    else sawLog = true;
  };
  const name = path.basename(file);
  let index = 0;
  let bytes = 0;
  const stream = fs.createReadStream(file, { highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (opts.signal?.aborted) return;
      if (bytes === 0 && !/^\s*\{/.test(chunk.subarray(0, 64).toString('latin1').replace(/^\uFEFF/, ''))) {
        throw new HarFormatError(`${file} is not a HAR file (it does not start with a JSON object)`);
      }
      bytes += chunk.length;
      try {
        parser.write(chunk);
      } catch (err) {
        throw new HarFormatError(`${file} is not valid JSON near byte ${bytes}: ${(err as Error).message}`);
      }
      opts.onBytes?.(bytes);
      while (pending.length) {
        sawEntries = true;
        index++;
        yield describeHarEntry(pending.shift()!, `${name}#${index}`, opts);
      }
    }
    try {
      if (!parser.isEnded) parser.end();
    } catch (err) {
      throw new HarFormatError(`${file} ends in the middle of a JSON document: ${(err as Error).message}`);
    }
    while (pending.length) {
      sawEntries = true;
      index++;
      yield describeHarEntry(pending.shift()!, `${name}#${index}`, opts);
    }
    if (!sawEntries && !sawLog) throw new HarFormatError(`${file} is not a HAR file (no "log.version" nor "log.entries")`);
  } finally {
    stream.destroy();
  }
}
