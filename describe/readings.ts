// An ambiguous body is recognized once per reading (last-wins and first-wins JSON, the declared
// form or text beside sniffed JSON) and described by the worst: the most severe service effect,
// the most dangerous SQL, every JSON-RPC call of every reading. A policy that knows nothing of
// `request.body.ambiguous` still sees the dangerous reading; the default policy also holds the
// request. SQL read differently by the grammars a generic endpoint might speak adds its own reason.
import type { AmbiguityReason, McpInfo, RequestDescription, RequestInfo, ServiceInfo, SqlInfo } from './types.ts';
import type { BodyReading } from './body.ts';
import { lookupTable } from '../lib/records.ts';

export interface Recognition {
  mcp?: McpInfo;
  service?: ServiceInfo;
  sql?: SqlInfo;
  /** Set when the SQL reads differently under the grammars the endpoint might speak. */
  ambiguity?: AmbiguityReason;
}

const effectRank: Readonly<Record<string, number>> = lookupTable({ read: 0, write: 1, send: 2, delete: 3, pay: 3, admin: 3 });

/** The effect, then the flags a body sets that make one operation riskier (a force update, every row). */
function serviceRank(s: ServiceInfo): number {
  const p = s.params as { force?: unknown; all_rows?: unknown } | undefined;
  return (effectRank[s.effect] ?? 3) * 2 + (p?.force === true || p?.all_rows === true ? 1 : 0);
}

function worseService(a: ServiceInfo | undefined, b: ServiceInfo | undefined): ServiceInfo | undefined {
  if (!a || !b) return a ?? b;
  return serviceRank(b) > serviceRank(a) ? b : a;
}

function sqlRank(s: SqlInfo): number {
  if (!s.parsed) return 3;
  if (s.destructive) return 2;
  return s.statements.some((st) => st.kind !== 'select' && st.kind !== 'explain' && st.kind !== 'show') ? 1 : 0;
}

function worseSql(a: SqlInfo | undefined, b: SqlInfo | undefined): SqlInfo | undefined {
  if (!a || !b) return a ?? b;
  return sqlRank(b) > sqlRank(a) ? b : a;
}

function calls(m: McpInfo | undefined): McpInfo[] {
  if (!m) return [];
  if (m.batch) return m.batch;
  return [m];
}

/** Every JSON-RPC call of every reading, so the policy judges the most dangerous one. */
function mergeMcp(readings: Array<McpInfo | undefined>): McpInfo | undefined {
  const seen = new Set<string>();
  const all: McpInfo[] = [];
  for (const r of readings) {
    for (const c of calls(r)) {
      const key = JSON.stringify(c);
      if (!seen.has(key)) {
        seen.add(key);
        all.push(c);
      }
    }
  }
  if (all.length === 0) return undefined;
  if (all.length === 1 && !readings.find((r) => r)?.batch) return all[0];
  const { batch: _ignored, ...first } = all[0]!;
  return { ...first, batch: all };
}

function readingRequest(request: RequestInfo, reading: BodyReading): RequestInfo {
  const body = { ...request.body };
  delete body.json;
  delete body.form;
  delete body.text;
  delete body.text_truncated;
  if (reading.json !== undefined) body.json = reading.json;
  if (reading.form !== undefined) body.form = reading.form;
  if (reading.text !== undefined) body.text = reading.text;
  if (reading.textTruncated) body.text_truncated = true;
  return { ...request, body };
}

/** Fills `mcp`, `service` and `sql` of a description from every reading of its body. */
export function withReadings(description: RequestDescription, alternates: BodyReading[], recognize: (r: RequestInfo) => Recognition): RequestDescription {
  const request = description.request;
  const primary = recognize(request);
  const results = [primary, ...alternates.map((a) => recognize(readingRequest(request, a)))];
  let service = primary.service;
  let sql = primary.sql;
  for (const r of results.slice(1)) {
    service = worseService(service, r.service);
    sql = worseSql(sql, r.sql);
  }
  const mcp = alternates.length ? mergeMcp(results.map((r) => r.mcp)) : primary.mcp;
  if (mcp) description.mcp = mcp;
  if (service) description.service = service;
  if (sql) description.sql = sql;
  for (const r of results) {
    if (!r.ambiguity) continue;
    const body = request.body;
    body.ambiguous = true;
    const reasons = (body.ambiguous_reasons ??= []);
    if (!reasons.some((x) => x.code === r.ambiguity!.code && x.detail === r.ambiguity!.detail)) reasons.push(r.ambiguity);
  }
  return description;
}
