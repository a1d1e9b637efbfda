// The default policy (rego/) with an MCP server, a generic SQL host and the SQL services' destinations configured, for the body
// and SQL attack properties: a request is described by describeRequest (the proxy's own code) and
// decided by the compiled policy, exactly as live.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolicyEngine } from '../../engine/engine.ts';
import { projectRoot } from '../../engine/toolchain.ts';
import type { RequestDescription } from '../../describe/types.ts';
import type { EngineDecision } from '../../engine/decision.ts';
import { loadAdapters } from '../../describe/adapters/index.ts';
import { describeRequest } from '../../describe/describe.ts';
import type { Teardown } from './helpers.ts';

export const MCP_HOST = 'mcp.acme-tools.dev';
export const SQL_HOST = 'db.internal.example';
export const READ_ONLY_TOOLS = ['search_issues', 'get_issue'];

/** A copy of rego/ with extra configuration merged into config/data.json. */
export function configuredRego(t: Teardown, extra: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-rego-bodies-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
  fs.cpSync(path.join(projectRoot, 'rego'), dir, { recursive: true });
  const file = path.join(dir, 'config', 'data.json');
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown> & { services: Record<string, Record<string, unknown>> };
  // The SQL endpoints the properties use, configured as a user does for their own (keys go only to configured destinations).
  data.services.supabase!.projects = ['abcdefghijklmnopqrst'];
  data.services.neon!.endpoints = ['ep-cool-darkness-123456.us-east-2.aws.neon.tech'];
  data.services.cloudflare!.accounts = ['01a7362d577a6c3019a474fd6f485823', 'a1'];
  Object.assign(data, { mcp_servers: { [MCP_HOST]: { read_only_tools: READ_ONLY_TOOLS } }, allowed_hosts: [SQL_HOST] }, extra);
  fs.writeFileSync(file, JSON.stringify(data));
  return dir;
}

export interface Raw {
  method?: string;
  url: string;
  headers?: Array<[string, string]>;
  body?: Buffer | string;
  truncated?: boolean;
}

export interface Decided {
  description: RequestDescription;
  decision: EngineDecision;
}

/** Severity of a decision: allow < approve low … critical < deny. */
export function severity(d: EngineDecision): number {
  if (d.action === 'allow') return 0;
  if (d.action === 'deny') return 10;
  return { low: 1, medium: 2, high: 3, critical: 4 }[d.approval?.risk ?? 'critical'] ?? 4;
}

/** `extra` is merged into the configuration as configuredRego does (more allowed hosts …). */
export async function bodyPolicy(t: Teardown, extra: Record<string, unknown> = {}): Promise<(r: Raw) => Promise<Decided>> {
  await loadAdapters();
  const engine = new PolicyEngine({ mode: 'inline', timeoutMs: 10_000 });
  t.teardown(() => engine.close());
  await engine.loadFolder(configuredRego(t, extra));
  return async (r) => {
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body ?? Buffer.alloc(0);
    const description = describeRequest(
      { method: r.method ?? 'POST', url: r.url, headers: r.headers ?? [], body, bodyTruncated: r.truncated ?? false, time: new Date('2026-01-05T10:00:00Z') },
      { agent: { id: 'coder', labels: {} } },
    );
    const decision = await engine.decide(description, { replay: true });
    return { description, decision };
  };
}
