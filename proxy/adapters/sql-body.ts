// Where SQL sits in the JSON bodies of SQL-over-HTTP endpoints: `{query}`, `{sql}`, and batches
// (Neon `{queries: [{query}]}`, Cloudflare D1 `[{sql}]` / `{batch: [{sql}]}`), or an
// `application/sql` text body. A body whose SQL cannot be seen is reported as such (fails closed).
import type { RequestInfo } from '../../engine/types.ts';
import type { SqlSource } from './adapter.ts';
import { jsonObject } from './routes.ts';

/** The SQL text(s) of a `{query}` / `{sql}` JSON body, or why there are none. */
export function sqlFromJson(request: RequestInfo, keys: string[] = ['query', 'sql']): SqlSource {
  if (request.body.truncated) return { error: 'request body larger than the capture limit: SQL not fully visible' };
  const json = request.body.json;
  const pick = (o: unknown): string | undefined => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return undefined;
    for (const k of keys) {
      const v = (o as Record<string, unknown>)[k];
      if (typeof v === 'string') return v;
    }
    return undefined;
  };
  const one = pick(json);
  if (one !== undefined) return { texts: [one] };
  // Batches: Neon `{queries: [{query}]}`, Cloudflare D1 `[{sql}]` / `{batch: [{sql}]}`.
  const list = Array.isArray(json) ? json : (jsonObject(request)?.queries ?? jsonObject(request)?.batch);
  if (Array.isArray(list) && list.length > 0) {
    const texts = list.map(pick);
    if (texts.every((t): t is string => t !== undefined)) return { texts };
  }
  if (json === undefined && request.body.text !== undefined && request.body.size > 0) {
    return request.body.content_type === 'application/sql' ? { texts: [request.body.text] } : { error: 'SQL request body is not JSON' };
  }
  return { error: 'no SQL found in the request body' };
}
