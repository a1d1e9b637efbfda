// Builds request descriptions the way the proxy does (describeRequest), for adapter tests.
import { describeRequest } from '../../describe/describe.ts';
import type { RequestInfo } from '../../describe/types.ts';

export interface Req {
  method: string;
  url: string;
  json?: unknown;
  form?: Record<string, string>;
  text?: string;
  contentType?: string;
  truncated?: boolean;
}

export function requestOf(r: Req): RequestInfo {
  let body = Buffer.alloc(0);
  const headers: Array<[string, string]> = [];
  if (r.json !== undefined) {
    body = Buffer.from(JSON.stringify(r.json));
    headers.push(['content-type', r.contentType ?? 'application/json']);
  } else if (r.form) {
    body = Buffer.from(new URLSearchParams(r.form).toString());
    headers.push(['content-type', 'application/x-www-form-urlencoded']);
  } else if (r.text !== undefined) {
    body = Buffer.from(r.text);
    headers.push(['content-type', r.contentType ?? 'text/plain']);
  }
  if (r.truncated) headers.push(['content-length', String(body.length * 100)]);
  const d = describeRequest({ method: r.method, url: r.url, headers, body, bodyTruncated: r.truncated ?? false }, { agent: { id: 'test', labels: {} } });
  return d.request;
}

/** "POST https://x/y" → {method, url}. */
export function parseLine(line: string): Req {
  const [method, url] = line.split(' ');
  return { method: method!, url: url! };
}
