// Status, live traffic, captures, agents and secrets (names and bindings only). Without a proxy in
// this process the routes read the state folder's files instead of the proxy's services.
import type { FastifyInstance } from 'fastify';
import { AgentStore } from '../../state/agents.ts';
import { auditFile, readAudit, type AuditRecord } from '../../state/audit-log.ts';
import { SecretStore, SECRET_NAME } from '../../state/secrets/index.ts';
import type { AgentDirectory } from '../../state/stores.ts';
import type { StudioContext } from '../context.ts';
import { JsonlTail, LiveBuffer, liveRecord } from '../live.ts';
import { proxyAddressText } from '../services.ts';
import type {
  AgentAddBody, AgentAddedAnswer, AgentsAnswer, OkAnswer, RecordsAnswer, SecretSetAnswer, SecretSetBody, SecretsAnswer, StatusAnswer, Untrusted,
} from './wire.ts';
import { emptyMap } from '../../lib/records.ts';

const httpError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode });

/** What the live traffic view gets of an audit record: a bounded copy (studio/live.ts). */
export function trafficEvent(r: AuditRecord): AuditRecord {
  return liveRecord(r);
}

export async function systemRoutes(app: FastifyInstance, { ctx }: { ctx: StudioContext }): Promise<void> {
  const services = ctx.services;

  // Live traffic: the runtime's audit log subscription when a proxy runs in this process, else a
  // tail of the audit file (a proxy in another process, or none). Either way only bounded copies
  // are kept and sent: an agent's large bodies stay in the audit log on disk.
  const recent = new LiveBuffer<AuditRecord>(500);
  const push = (r: AuditRecord): void => {
    ctx.hub.broadcast('traffic', recent.push(r));
  };
  const audit = services?.audit;
  const file = auditFile(ctx.home);
  if (audit) {
    ctx.onClose(audit.onRecord(push));
    // Seed the recent list from the end of the file (never the whole log: it can be large).
    const seed = new JsonlTail(file, () => undefined, 500, (r) => liveRecord(r as AuditRecord));
    seed.loadExisting();
    for (const r of seed.records() as AuditRecord[]) recent.push(r, false);
  } else {
    const tail = new JsonlTail(file, (r) => push(r as AuditRecord), 500, (r) => liveRecord(r as AuditRecord));
    tail.start();
    for (const r of tail.records() as AuditRecord[]) recent.push(r, false);
    ctx.onClose(() => tail.stop());
  }

  app.get<{ Reply: StatusAnswer }>('/api/status', async () => ({
    proxy: { running: Boolean(services?.engine), address: proxyAddressText(services) ?? null },
    policy: { running: ctx.runningVersion() ?? null, current: ctx.versions.current, live: ctx.liveDir() ?? null },
    home: ctx.home,
    pieces: {
      approvals: Boolean(services?.approvals),
      limiter: Boolean(services?.limiter),
      secrets: true,
      agents: true,
    },
    clients: ctx.hub.size,
  }));

  app.get<{ Reply: RecordsAnswer }>('/api/traffic/recent', async (req) => {
    const limit = Math.min(500, Math.max(1, Number((req.query as { limit?: string }).limit ?? 200) || 200));
    return { records: recent.records(limit), source: audit ? 'proxy' : 'file' };
  });

  // Captured requests for the evaluate pane's picker: newest first, filtered.
  app.get<{ Reply: RecordsAnswer }>('/api/captures', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = Math.min(500, Math.max(1, Number(q.limit ?? 100) || 100));
    const keep = new NewestRecords(limit, CAPTURES_MAX_CHARS);
    // A shared audit log (PostgreSQL): every replica's records; unfiltered, the last day's.
    const shared = services?.sharedAudit;
    if (shared) {
      const filter = { agent: q.agent || undefined, host: q.host || undefined, since: q.since || (!q.until ? new Date(Date.now() - 86_400_000).toISOString() : undefined), until: q.until || undefined };
      try {
        for await (const r of shared.read(filter)) if (r.description) keep.add(r);
      } catch (err) {
        throw httpError(400, (err as Error).message);
      }
      return { records: keep.newestFirst() };
    }
    if (!q.agent && !q.host && !q.since && !q.until) {
      // Unfiltered: the newest records are at the end of the file; don't read a large log whole.
      const tail = new JsonlTail(file, () => undefined, 5000);
      tail.loadExisting();
      return { records: (tail.records() as AuditRecord[]).filter((r) => r && r.description).slice(-limit).reverse() };
    }
    try {
      for await (const r of readAudit(file, { agent: q.agent || undefined, host: q.host || undefined, since: q.since || undefined, until: q.until || undefined })) {
        if (r.description) keep.add(r);
      }
    } catch (err) {
      throw httpError(400, (err as Error).message);
    }
    return { records: keep.newestFirst() };
  });

  // The proxy's agents when it runs here (its cache sees changes at once), else the file.
  const agents = async (): Promise<AgentDirectory> => services?.agents ?? AgentStore.open(ctx.home);

  app.get<{ Reply: AgentsAnswer }>('/api/agents', async () => {
    const store = await agents();
    await store.refresh();
    return { available: true, agents: store.list() };
  });

  // A new agent's token is in the answer once (as the proxy URL), like `airlock agent add`.
  app.post<{ Body: Untrusted<AgentAddBody> | undefined; Reply: AgentAddedAnswer }>('/api/agents', async (req) => {
    const b = req.body ?? {};
    if (typeof b.name !== 'string') throw httpError(400, 'name is required');
    const labels: Record<string, string> = emptyMap();
    if (b.labels !== undefined) {
      if (!b.labels || typeof b.labels !== 'object' || Array.isArray(b.labels)) throw httpError(400, 'labels must be an object of strings');
      for (const [k, v] of Object.entries(b.labels as Record<string, unknown>)) {
        if (typeof v !== 'string' || !/^[A-Za-z0-9_.\/-]{1,63}$/.test(k) || v.length > 256) throw httpError(400, `label ${k} is not usable`);
        labels[k] = v;
      }
    }
    const store = await agents();
    let issued;
    try {
      issued = await store.add(b.name, { labels });
    } catch (err) {
      throw httpError(400, (err as Error).message);
    }
    const proxyUrl = services?.proxyUrl?.(b.name, issued.token);
    ctx.hub.broadcast('agents', { event: 'added', name: b.name });
    return { ok: true, name: b.name, token: issued.token, proxyUrl: proxyUrl ?? null };
  });

  app.delete<{ Params: { name: string }; Reply: OkAnswer }>('/api/agents/:name', async (req) => {
    const store = await agents();
    if (!(await store.remove(req.params.name))) throw httpError(404, `no agent named ${req.params.name}`);
    ctx.hub.broadcast('agents', { event: 'removed', name: req.params.name });
    return { ok: true };
  });

  // Opened from the state folder for every call: `airlock secret` in another process may have
  // changed the file, and a write from a fresh read never overwrites that change. The proxy's own
  // view (proxy/live-secrets.ts) sees every change through the store's watch.
  const secrets = (): Promise<SecretStore> => SecretStore.open(ctx.home);

  // Names, placeholders, env names and expected hosts. Never a value: there is no route that reads one.
  app.get<{ Reply: SecretsAnswer }>('/api/secrets', async () => {
    const store = await secrets();
    await store.reload();
    return { available: true, secrets: store.list() };
  });

  app.put<{ Params: { name: string }; Body: Untrusted<SecretSetBody> | undefined; Reply: SecretSetAnswer }>('/api/secrets/:name', async (req) => {
    const name = req.params.name;
    if (!SECRET_NAME.test(name)) throw httpError(400, 'secret names use letters, digits, ".", "_" and "-" (at most 64)');
    const b = req.body ?? {};
    if (typeof b.value !== 'string' || b.value.length === 0) throw httpError(400, 'value is required');
    if (b.value.length > 64 * 1024) throw httpError(400, 'value is larger than 64 KiB');
    const list = (v: unknown): string[] | undefined =>
      Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]).filter(Boolean) : undefined;
    const store = await secrets();
    let info;
    try {
      info = await store.set(name, b.value, { hosts: list(b.hosts), env: list(b.env) });
    } catch (err) {
      // Store errors name files and keys, never the value.
      throw httpError(400, (err as Error).message);
    }
    ctx.hub.broadcast('secrets', { event: 'set', name });
    return { ok: true, secret: info };
  });
}

/**
 * The captures answer holds at most this much record text. A record carries its request's parsed
 * body (up to the capture cap, 1 MiB), so 500 of an agent's largest requests were ~5 GiB of heap
 * in the process that also runs the proxy.
 */
export const CAPTURES_MAX_CHARS = 16 * 1024 * 1024;

/** The newest records seen, at most `limit` of them and `maxChars` of their JSON text. */
export class NewestRecords {
  private readonly kept: Array<{ record: AuditRecord; chars: number }> = [];
  private chars = 0;

  constructor(private readonly limit: number, private readonly maxChars: number) {}

  add(record: AuditRecord): void {
    const chars = JSON.stringify(record).length;
    this.kept.push({ record, chars });
    this.chars += chars;
    // The newest stays even when it alone is over the bound: the picker shows it, once.
    while (this.kept.length > 1 && (this.kept.length > this.limit || this.chars > this.maxChars)) this.chars -= this.kept.shift()!.chars;
  }

  newestFirst(): AuditRecord[] {
    return this.kept.map((k) => k.record).reverse();
  }
}
