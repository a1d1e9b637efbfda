// Traffic tests: requests with the decision each must get, in YAML or JSON files (format in
// docs/replay.md). Hand-written requests go through describe/describe.ts like live traffic; captured
// descriptions (from `airlock capture export --as-tests`) are used as they are. Decisions are made
// in replay mode, so time builtins see the case's time and results never depend on the clock.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { loadAdapters } from '../describe/adapters/index.ts';
import { describeRequest, type PlaceholderFinder, type RawRequest } from '../describe/describe.ts';
import { PLACEHOLDER_PREFIX, PlaceholderIndex } from '../describe/placeholders.ts';
import { PolicyEngine } from '../engine/engine.ts';
import { normalizeLink } from '../describe/links.ts';
import type { AgentInfo, Grant, LabelArrival, RequestDescription, Risk } from '../describe/types.ts';
import type { Action, Decision, EngineDecision } from '../engine/decision.ts';
import { emptyMap } from '../lib/records.ts';

export interface Expectation {
  action: Action;
  rule?: string;
  /** Names of the secrets the decision injects (compared as a set). */
  credentials?: string[];
  /** Keys of the rate limits the decision charges (compared as a set). */
  rate_limits?: string[];
  approval?: { risk?: Risk; step_up?: boolean };
  /** The labels the decision gives the response (compared as a set). */
  labels?: string[];
}

/**
 * The session a case starts in: labels held (a list of names, or name → {request_id, host, time}),
 * links already seen (URLs, normalized as the proxy normalizes them) and counters.
 */
export interface CaseSession {
  id?: string;
  labels?: string[] | Record<string, Partial<LabelArrival>>;
  seen?: Array<string | { url: string; request_id?: string; host?: string }>;
  requests?: number;
  egress_bytes?: number;
}

export interface CaseRequest {
  method: string;
  url: string;
  headers?: Record<string, string | string[]> | Array<[string, string]>;
  body?: unknown;
  body_base64?: string;
  agent?: string | AgentInfo;
  time?: string;
  grants?: Grant[];
}

export interface TrafficCase {
  name: string;
  request?: CaseRequest;
  description?: RequestDescription;
  /** The session the case's request is made in (overrides the file's). */
  session?: CaseSession;
  expect: Expectation;
}

export interface TrafficTestFile {
  file: string;
  agent?: string | AgentInfo;
  time?: string;
  /**
   * Merged over the policy's data for this file's cases (objects merged key by key, anything else
   * replaced): e.g. `{config: {services: {supabase: {projects: [ref]}}}}` to test the default policy
   * as configured for your own destinations.
   */
  data?: Record<string, unknown>;
  /** The session every case starts in unless it names its own. */
  session?: CaseSession;
  cases: TrafficCase[];
}

/** A case made into the description the policy sees, or the reason it could not be. */
export type PreparedCase =
  | { ok: true; name: string; source: string; input: RequestDescription; expect: Expectation }
  | { ok: false; name: string; source: string; error: string; expect?: Expectation };

export interface CaseResult {
  file: string;
  name: string;
  source: string;
  passed: boolean;
  /** What did not match, one line each ("action: expected approve, got allow"). */
  problems: string[];
  expect?: Expectation;
  actual?: EngineDecision;
  input?: RequestDescription;
}

export class TrafficTestFormatError extends Error {}

/** The time a case is decided at when neither the case nor the file names one: a Monday, 10:00 UTC. */
export const defaultCaseTime = '2026-01-05T10:00:00Z';
/** `{{placeholder:NAME}}`, optionally encoded the way an exfiltrating agent might: `|base64`, `|base64url`, `|hex`, `|url`. */
export const placeholderPattern = /\{\{\s*placeholder:([A-Za-z0-9_.-]+)(?:\|(base64|base64url|hex|url))?\s*\}\}/g;
/**
 * What `{{placeholder:NAME}}` expands to in test requests: shaped like the secret store's
 * placeholders (`airlock-ph-NAME-<32 hex>`), deterministic so descriptions are stable.
 */
export function testPlaceholder(name: string): string {
  return `${PLACEHOLDER_PREFIX}${name}-${crypto.createHash('sha256').update(`airlock-fixture:${name}`).digest('hex').slice(0, 32)}`;
}

/** The proxy's own finder (raw and encoded forms) over the placeholders a case mentions. */
function finderFor(request: CaseRequest): PlaceholderFinder {
  const names = new Set<string>();
  for (const m of JSON.stringify(request).matchAll(placeholderPattern)) names.add(m[1]!);
  return new PlaceholderIndex([...names].map((n): [string, string] => [n, testPlaceholder(n)]));
}

const actions = new Set(['allow', 'deny', 'approve']);
const risks = new Set(['low', 'medium', 'high', 'critical']);
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function checkAgent(v: unknown, where: string): string | AgentInfo | undefined {
  if (v === undefined || typeof v === 'string') return v;
  if (isObject(v) && typeof v.id === 'string' && (v.labels === undefined || isObject(v.labels))) {
    return { id: v.id, labels: (v.labels as Record<string, string>) ?? {} };
  }
  throw new TrafficTestFormatError(`${where}: agent must be a name or {id, labels}`);
}

function checkExpectation(v: unknown, where: string): Expectation {
  if (!isObject(v)) throw new TrafficTestFormatError(`${where}: "expect" must be an object with at least "action"`);
  const known = new Set(['action', 'rule', 'credentials', 'rate_limits', 'approval', 'labels']);
  for (const k of Object.keys(v)) if (!known.has(k)) throw new TrafficTestFormatError(`${where}: unknown expectation "${k}" (known: ${[...known].join(', ')})`);
  if (typeof v.action !== 'string' || !actions.has(v.action)) throw new TrafficTestFormatError(`${where}: expect.action must be allow, deny or approve`);
  const exp: Expectation = { action: v.action as Action };
  if (v.rule !== undefined) {
    if (typeof v.rule !== 'string') throw new TrafficTestFormatError(`${where}: expect.rule must be a string`);
    exp.rule = v.rule;
  }
  for (const k of ['credentials', 'rate_limits', 'labels'] as const) {
    if (v[k] === undefined) continue;
    if (!isStringList(v[k])) throw new TrafficTestFormatError(`${where}: expect.${k} must be a list of names`);
    exp[k] = v[k] as string[];
  }
  if (v.approval !== undefined) {
    const a = v.approval;
    if (!isObject(a)) throw new TrafficTestFormatError(`${where}: expect.approval must be an object ({risk, step_up})`);
    if (a.risk !== undefined && (typeof a.risk !== 'string' || !risks.has(a.risk))) throw new TrafficTestFormatError(`${where}: expect.approval.risk must be low, medium, high or critical`);
    if (a.step_up !== undefined && typeof a.step_up !== 'boolean') throw new TrafficTestFormatError(`${where}: expect.approval.step_up must be true or false`);
    exp.approval = {};
    if (a.risk !== undefined) exp.approval.risk = a.risk as Risk;
    if (a.step_up !== undefined) exp.approval.step_up = a.step_up as boolean;
  }
  return exp;
}

function checkSession(v: unknown, where: string): CaseSession {
  const bad = (what: string): never => {
    throw new TrafficTestFormatError(`${where}: session.${what}`);
  };
  if (!isObject(v)) bad('must be an object ({labels, seen, requests, egress_bytes})');
  const s = v as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!['id', 'labels', 'seen', 'requests', 'egress_bytes'].includes(k)) bad(`${k} is not a session field (id, labels, seen, requests, egress_bytes)`);
  if (s.id !== undefined && typeof s.id !== 'string') bad('id must be a string');
  if (s.labels !== undefined && !isStringList(s.labels) && !(isObject(s.labels) && Object.values(s.labels).every(isObject))) bad('labels must be a list of names or name → {request_id, host, time}');
  if (s.seen !== undefined && !(Array.isArray(s.seen) && s.seen.every((x) => typeof x === 'string' || (isObject(x) && typeof x.url === 'string')))) bad('seen must be a list of URLs (or {url, request_id, host})');
  for (const k of ['requests', 'egress_bytes']) if (s[k] !== undefined && !(Number.isInteger(s[k]) && (s[k] as number) >= 0)) bad(`${k} must be a whole number`);
  return s as CaseSession;
}

/**
 * Puts a case's starting session into its description: input.session, and request.provenance for
 * the request's URL against the `seen` links (normalized the way the proxy normalizes them).
 */
export function applyCaseSession(d: RequestDescription, s: CaseSession | undefined): void {
  if (!s) return;
  const time = d.request.time;
  const labels: Record<string, LabelArrival> = emptyMap();
  if (Array.isArray(s.labels)) for (const l of s.labels) labels[l] = { request_id: `earlier-${l}`, host: 'earlier.example', time };
  else for (const [l, a] of Object.entries(s.labels ?? {})) labels[l] = { request_id: a.request_id ?? `earlier-${l}`, host: a.host ?? 'earlier.example', time: a.time ?? time };
  d.session = { id: s.id ?? 'test-session', started: time, labels, requests: s.requests ?? 0, egress_bytes: s.egress_bytes ?? 0 };
  if (s.seen === undefined || (d.request.scheme !== 'http' && d.request.scheme !== 'https')) return;
  let hostSeen = false;
  for (const entry of s.seen) {
    const e = typeof entry === 'string' ? { url: entry } : entry;
    const url = normalizeLink(e.url);
    if (!url) continue;
    if (url === d.request.url) {
      d.request.provenance = { seen: true, request_id: e.request_id ?? 'earlier-link', host: e.host ?? new URL(url).hostname };
      return;
    }
    if (new URL(url).hostname.replace(/^\[|\]$/g, '') === d.request.host) hostSeen = true;
  }
  d.request.provenance = { seen: false, host_seen: hostSeen };
}

const FILE_KEYS = ['agent', 'time', 'data', 'session', 'cases'];
const CASE_KEYS = ['name', 'request', 'description', 'session', 'expect'];
const REQUEST_KEYS = ['method', 'url', 'headers', 'body', 'body_base64', 'agent', 'time', 'grants'];

/** A misspelt key ("metod", "expct") is named, not read as a missing one or silently ignored. */
function checkKeys(v: Record<string, unknown>, known: string[], where: string, what: string): void {
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) throw new TrafficTestFormatError(`${where}: "${k}" is not a key of ${what} (known: ${known.join(', ')})`);
  }
}

/** A YAML or JSON syntax error as file:line:col: message. */
function syntaxError(err: unknown, text: string, file: string): TrafficTestFormatError {
  const e = err as Error & { linePos?: Array<{ line: number; col: number }> };
  let message = (e.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
  let pos = e.linePos?.[0];
  const at = /at position (\d+)/.exec(message);
  if (!pos && at) {
    const before = text.slice(0, Number(at[1])).split('\n');
    pos = { line: before.length, col: (before.at(-1) ?? '').length + 1 };
    const cut = message.search(/ (?:in JSON )?at position \d/); // the rest of the message is where; cut there (no `\d+.*$`: quadratic)
    if (cut >= 0) message = message.slice(0, cut);
  }
  return new TrafficTestFormatError(pos ? `${file}:${pos.line}:${pos.col}: ${message}` : `${file}: ${message}`);
}

function checkCase(v: unknown, index: number, file: string): TrafficCase {
  const where0 = `${file}: case ${index + 1}`;
  if (!isObject(v)) throw new TrafficTestFormatError(`${where0}: must be an object`);
  if (typeof v.name !== 'string' || !v.name.trim()) throw new TrafficTestFormatError(`${where0}: needs a "name"`);
  const where = `${file}: case "${v.name}"`;
  checkKeys(v, CASE_KEYS, where, 'a case');
  const hasReq = v.request !== undefined;
  const hasDesc = v.description !== undefined;
  if (hasReq === hasDesc) throw new TrafficTestFormatError(`${where}: needs exactly one of "request" or "description"`);
  const c: TrafficCase = { name: v.name, expect: checkExpectation(v.expect, where) };
  if (v.session !== undefined) c.session = checkSession(v.session, where);
  if (hasReq) {
    const r = v.request;
    if (!isObject(r)) throw new TrafficTestFormatError(`${where}: "request" must be an object`);
    checkKeys(r, REQUEST_KEYS, `${where}: request`, 'a request');
    if (typeof r.method !== 'string' || typeof r.url !== 'string') throw new TrafficTestFormatError(`${where}: request needs "method" and "url"`);
    if (r.body !== undefined && r.body_base64 !== undefined) throw new TrafficTestFormatError(`${where}: request has both "body" and "body_base64"`);
    if (r.body_base64 !== undefined && typeof r.body_base64 !== 'string') throw new TrafficTestFormatError(`${where}: body_base64 must be a string`);
    if (r.headers !== undefined && !isObject(r.headers) && !(Array.isArray(r.headers) && r.headers.every((p) => isStringList(p) && p.length === 2))) {
      throw new TrafficTestFormatError(`${where}: request.headers must be a map of name → value(s) or a list of [name, value] pairs`);
    }
    if (r.time !== undefined && (typeof r.time !== 'string' || Number.isNaN(Date.parse(r.time)))) throw new TrafficTestFormatError(`${where}: request.time must be an RFC 3339 time`);
    if (r.grants !== undefined && !Array.isArray(r.grants)) throw new TrafficTestFormatError(`${where}: request.grants must be a list`);
    checkAgent(r.agent, where);
    c.request = r as unknown as CaseRequest;
  } else {
    const d = v.description;
    if (!isObject(d) || !isObject(d.request) || !isObject(d.agent) || typeof d.request.method !== 'string' || typeof d.request.host !== 'string') {
      throw new TrafficTestFormatError(`${where}: "description" must be a request description (request.method, request.host, agent, …)`);
    }
    if (typeof d.request.time !== 'string' || Number.isNaN(Date.parse(d.request.time))) {
      throw new TrafficTestFormatError(`${where}: description.request.time must be an RFC 3339 time (tests are decided at the request's time)`);
    }
    c.description = d as unknown as RequestDescription;
  }
  return c;
}

/** Parses a traffic test file (YAML or JSON). Throws TrafficTestFormatError naming the file and case. */
export function parseTrafficTests(text: string, file: string): TrafficTestFile {
  let doc: unknown;
  try {
    doc = file.endsWith('.json') ? JSON.parse(text) : YAML.parse(text, { prettyErrors: true });
  } catch (err) {
    throw syntaxError(err, text, file);
  }
  if (!isObject(doc) || !Array.isArray(doc.cases)) {
    // A bare list of cases is the usual first try: say where it goes.
    const found = Array.isArray(doc) ? ' (this one is a bare list: put it under "cases:", beside "agent: NAME")' : isObject(doc) && 'cases' in doc ? ' ("cases" is not a list)' : '';
    throw new TrafficTestFormatError(`${file}: a traffic test file is an object with a "cases" list${found}`);
  }
  checkKeys(doc, FILE_KEYS, file, 'a traffic test file');
  if (doc.time !== undefined && (typeof doc.time !== 'string' || Number.isNaN(Date.parse(doc.time)))) throw new TrafficTestFormatError(`${file}: time must be an RFC 3339 time`);
  const names = new Set<string>();
  const cases = doc.cases.map((c, i) => {
    const checked = checkCase(c, i, file);
    if (names.has(checked.name)) throw new TrafficTestFormatError(`${file}: two cases are named "${checked.name}"`);
    names.add(checked.name);
    return checked;
  });
  if (doc.data !== undefined && !isObject(doc.data)) throw new TrafficTestFormatError(`${file}: data must be an object (merged over the policy's data)`);
  return {
    file, agent: checkAgent(doc.agent, file), time: doc.time as string | undefined, ...(doc.data ? { data: doc.data } : {}),
    ...(doc.session !== undefined ? { session: checkSession(doc.session, file) } : {}), cases,
  };
}

export function loadTrafficTests(file: string): TrafficTestFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new TrafficTestFormatError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseTrafficTests(text, file);
}

const testFileExt = /\.(ya?ml|json)$/i;

/** Traffic test files under the given paths (files as given; folders searched recursively, sorted). */
export function findTrafficTestFiles(paths: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const ent of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (ent.name.startsWith('.')) continue;
      const p = path.join(dir, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (testFileExt.test(ent.name)) out.push(p);
    }
  };
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new TrafficTestFormatError(`${p}: no such file or folder`);
    }
    if (st.isDirectory()) walk(p);
    else out.push(p);
  }
  return out;
}

function agentInfo(a: string | AgentInfo | undefined): AgentInfo {
  if (a === undefined) return { id: 'test-agent', labels: {} };
  return typeof a === 'string' ? { id: a, labels: {} } : { id: a.id, labels: a.labels ?? {} };
}

function encodePlaceholder(name: string, encoding: string | undefined): string {
  const p = testPlaceholder(name);
  switch (encoding) {
    case 'base64': return Buffer.from(p).toString('base64');
    case 'base64url': return Buffer.from(p).toString('base64url');
    case 'hex': return Buffer.from(p).toString('hex');
    case 'url': return [...Buffer.from(p)].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
    default: return p;
  }
}

function expand(s: string): string {
  return s.replace(placeholderPattern, (_, name: string, encoding: string | undefined) => encodePlaceholder(name, encoding));
}

function headerPairs(h: CaseRequest['headers']): Array<[string, string]> {
  if (!h) return [];
  if (Array.isArray(h)) return h.map(([n, v]) => [n, expand(String(v))]);
  return Object.entries(h).flatMap(([n, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [n, expand(String(x))]));
}

/** Loads what describing needs (the SQL parser); prepareCase needs it to have resolved. */
export const prepareCases = (): Promise<void> => loadAdapters();

/** The raw request a hand-written case stands for (what the proxy would have received). */
export function rawRequestOf(file: TrafficTestFile, c: TrafficCase, index: number): RawRequest {
  const r = c.request;
  if (!r) throw new TrafficTestFormatError(`${file.file}: case "${c.name}" is a description, not a request`);
  const headers = headerPairs(r.headers);
  let body = Buffer.alloc(0);
  if (r.body_base64 !== undefined) body = Buffer.from(r.body_base64, 'base64');
  else if (typeof r.body === 'string') body = Buffer.from(expand(r.body), 'utf8');
  else if (r.body !== undefined && r.body !== null) {
    body = Buffer.from(expand(JSON.stringify(r.body)), 'utf8');
    if (!headers.some(([n]) => n.toLowerCase() === 'content-type')) headers.push(['Content-Type', 'application/json']);
  }
  if (body.length && !headers.some(([n]) => n.toLowerCase() === 'content-length')) headers.push(['Content-Length', String(body.length)]);
  const time = new Date(r.time ?? file.time ?? defaultCaseTime);
  return { id: `test:${path.basename(file.file)}#${index + 1}`, time, method: r.method, url: expand(r.url), headers, body, bodyTruncated: false };
}

/** The agent a case runs as: the case's, else the file's, else "test-agent". */
export function caseAgent(file: TrafficTestFile, c: TrafficCase): AgentInfo {
  return agentInfo(c.request?.agent ?? file.agent);
}

/** Builds the description of one case (hand-written request → describe; description → as is). Await prepareCases() once first. */
export function prepareCase(file: TrafficTestFile, c: TrafficCase, index: number): PreparedCase {
  const source = `${path.basename(file.file)}#${index + 1}`;
  const session = c.session ?? file.session;
  if (c.description) {
    const input = session ? structuredClone(c.description) : c.description;
    applyCaseSession(input, session);
    return { ok: true, name: c.name, source, input, expect: c.expect };
  }
  try {
    const raw = rawRequestOf(file, c, index);
    const input = describeRequest(raw, { agent: caseAgent(file, c), placeholders: finderFor(c.request!), grants: c.request!.grants ?? [] });
    applyCaseSession(input, session);
    return { ok: true, name: c.name, source, input, expect: c.expect };
  } catch (err) {
    return { ok: false, name: c.name, source, error: `cannot describe the request: ${(err as Error).message}`, expect: c.expect };
  }
}

const sameSet = (a: string[], b: string[]): boolean => {
  const x = [...new Set(a)].sort();
  const y = [...new Set(b)].sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
};
const listText = (a: string[]): string => (a.length ? `[${[...new Set(a)].sort().join(', ')}]` : '[]');

/** What in a decision does not match the expectation, one line per difference. */
export function compareExpectation(expect: Expectation, d: Decision): string[] {
  const problems: string[] = [];
  if (d.action !== expect.action) problems.push(`action: expected ${expect.action}, got ${d.action}`);
  if (expect.rule !== undefined && d.rule !== expect.rule) problems.push(`rule: expected ${expect.rule}, got ${d.rule ?? '(none)'}`);
  if (expect.credentials) {
    const got = (d.credentials ?? []).map((c) => c.secret);
    if (!sameSet(expect.credentials, got)) problems.push(`credentials: expected ${listText(expect.credentials)}, got ${listText(got)}`);
  }
  if (expect.rate_limits) {
    const got = (d.rate_limits ?? []).map((r) => r.key);
    if (!sameSet(expect.rate_limits, got)) problems.push(`rate_limits: expected ${listText(expect.rate_limits)}, got ${listText(got)}`);
  }
  if (expect.labels) {
    const got = d.labels ?? [];
    if (!sameSet(expect.labels, got)) problems.push(`labels: expected ${listText(expect.labels)}, got ${listText(got)}`);
  }
  if (expect.approval) {
    if (expect.approval.risk !== undefined && d.approval?.risk !== expect.approval.risk) {
      problems.push(`approval.risk: expected ${expect.approval.risk}, got ${d.approval?.risk ?? '(no approval)'}`);
    }
    if (expect.approval.step_up !== undefined && (d.approval?.step_up ?? false) !== expect.approval.step_up) {
      problems.push(`approval.step_up: expected ${expect.approval.step_up}, got ${d.approval?.step_up ?? false}`);
    }
  }
  return problems;
}

/** The expectation that today's decision would satisfy (used by `capture export --as-tests`). */
export function expectationOf(d: Decision): Expectation {
  const e: Expectation = { action: d.action };
  if (d.rule) e.rule = d.rule;
  if (d.credentials?.length) e.credentials = [...new Set(d.credentials.map((c) => c.secret))].sort();
  if (d.rate_limits?.length) e.rate_limits = [...new Set(d.rate_limits.map((r) => r.key))].sort();
  if (d.approval) e.approval = { risk: d.approval.risk, ...(d.approval.step_up !== undefined ? { step_up: d.approval.step_up } : {}) };
  if (d.labels?.length) e.labels = [...d.labels];
  return e;
}

/** `extra` merged over `base`: objects key by key, anything else replaced. */
export function mergeData(base: unknown, extra: unknown): unknown {
  if (!isObject(base) || !isObject(extra)) return structuredClone(extra);
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(extra)) out[k] = k in base ? mergeData(base[k], v) : structuredClone(v);
  return out;
}

/** An inline engine on the same compiled policy with `extra` merged over its data. */
async function engineWithData(engine: PolicyEngine, extra: Record<string, unknown>): Promise<PolicyEngine> {
  const compiled = engine.policy;
  if (!compiled) throw new TrafficTestFormatError('the engine has no policy loaded');
  const scoped = new PolicyEngine({ mode: 'inline', timeoutMs: engine.timeoutMs });
  await scoped.load({ ...compiled, data: mergeData(compiled.data, extra) });
  return scoped;
}

/** Runs every case of a file against the engine (with the file's `data` merged over the policy's, if any). */
export async function runTrafficTestFile(engine: PolicyEngine, file: TrafficTestFile): Promise<CaseResult[]> {
  if (!file.data) return runCases(engine, file);
  const scoped = await engineWithData(engine, file.data);
  try {
    return await runCases(scoped, file);
  } finally {
    await scoped.close();
  }
}

async function runCases(engine: PolicyEngine, file: TrafficTestFile): Promise<CaseResult[]> {
  await prepareCases();
  const results: CaseResult[] = [];
  for (const [i, c] of file.cases.entries()) {
    const prepared = prepareCase(file, c, i);
    if (!prepared.ok) {
      results.push({ file: file.file, name: c.name, source: prepared.source, passed: false, problems: [prepared.error], expect: c.expect });
      continue;
    }
    const actual = await engine.decide(prepared.input, { replay: true });
    const problems = compareExpectation(prepared.expect, actual);
    if (actual.fail_closed && !problems.length && prepared.expect.action === 'deny') {
      // A deny because the policy failed is never the deny a test expects.
      problems.push(`action: expected a policy deny, got a fail-closed deny (${actual.fail_closed}): ${actual.reason}`);
    }
    results.push({ file: file.file, name: c.name, source: prepared.source, passed: problems.length === 0, problems, expect: c.expect, actual, input: prepared.input });
  }
  return results;
}

export interface TrafficTestSummary {
  results: CaseResult[];
  /** Files that could not be loaded at all (each counts as one failure). */
  fileErrors: Array<{ file: string; error: string }>;
  passed: number;
  failed: number;
}

/** Loads and runs traffic test files; format errors are reported, never thrown. */
export async function runTrafficTests(engine: PolicyEngine, files: string[], onResult?: (r: CaseResult) => void): Promise<TrafficTestSummary> {
  const summary: TrafficTestSummary = { results: [], fileErrors: [], passed: 0, failed: 0 };
  for (const f of files) {
    let loaded: TrafficTestFile;
    try {
      loaded = loadTrafficTests(f);
    } catch (err) {
      summary.fileErrors.push({ file: f, error: (err as Error).message });
      summary.failed++;
      continue;
    }
    for (const r of await runTrafficTestFile(engine, loaded)) {
      summary.results.push(r);
      if (r.passed) summary.passed++;
      else summary.failed++;
      onResult?.(r);
    }
  }
  return summary;
}
