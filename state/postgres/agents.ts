// Agents and tokens in PostgreSQL (the AgentDirectory port; embedded: state/agents.ts). Tokens are
// stored as SHA-256 only, as in agents.json. Every replica keeps the table in memory for the check
// each request makes, and re-reads an agent when another replica announces a change (NOTIFY
// airlock_agents). The notice takes milliseconds to arrive, so the view alone would let a token
// revoked through another replica pass in that window: a token the view accepts is confirmed
// against the table (one primary-key read per request, with the agent's labels and the token's
// secrets as they are now), and a token revoked anywhere stops at its next request everywhere.
// The proxy asks with `deferConfirm` and has the session's entry statement confirm the token in
// the same round trip (PgSessions.enterConfirming); it runs `confirm` itself when no session entry
// did. While the database is unreachable no agent authenticates (503).
import crypto from 'node:crypto';
import { AgentError, matchToken, mintToken, type AgentSummary, type IssuedToken, type StoredAgent, type StoredToken } from '../agents.ts';
import type { AgentInfo } from '../../describe/types.ts';
import type { AgentDirectory, Identified } from '../stores.ts';
import { TurnGate } from '../../lib/turn-gate.ts';
import type { PgState } from './db.ts';

const CHANNEL = 'airlock_agents';
const nameRe = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Re-reads of a name a token missed (a token minted a moment ago on another replica) at once, and
 * how long one may wait for its turn. Anyone who can reach the proxy chooses the names and tokens
 * of a miss: without this a flood of wrong tokens was a statement each, queued in the pool ahead
 * of every agent's own; now it takes at most this many connections, names take turns, and a miss
 * that waits too long is a miss (407).
 */
const MISS_RELOADS = 2;
const MISS_WAIT_MS = 1000;
class MissNotReread extends Error {}

const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');
const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

export class PgAgents implements AgentDirectory {
  private agents = new Map<string, StoredAgent>();
  private readonly missGate = new TurnGate(MISS_RELOADS, 1);
  /** A miss's re-read of a name not started yet: later misses of the name share it. */
  private readonly queuedReload = new Map<string, { started: boolean; done: Promise<void> }>();

  private constructor(private readonly db: PgState) {}

  static async open(db: PgState): Promise<PgAgents> {
    const store = new PgAgents(db);
    await store.refresh();
    db.listen(CHANNEL, (p) => void store.reload(String(p.name)).catch(() => undefined));
    db.onResync(() => store.refresh());
    return store;
  }

  private async rows(name?: string): Promise<Map<string, StoredAgent>> {
    const where = name === undefined ? '' : 'WHERE a.name = $1';
    const r = await this.db.query(
      `SELECT a.name, a.labels, a.created, t.id, t.hash, t.label, t.created AS t_created, t.expires, t.secrets
         FROM agents a LEFT JOIN agent_tokens t ON t.agent = a.name ${where} ORDER BY a.name, t.created`,
      name === undefined ? [] : [name],
    );
    const out = new Map<string, StoredAgent>();
    for (const row of r.rows) {
      let a = out.get(row.name);
      if (!a) {
        a = { name: row.name, labels: row.labels ?? {}, created: iso(row.created), tokens: [] };
        out.set(row.name, a);
      }
      if (row.id) {
        const t: StoredToken = { id: row.id, hash: row.hash, created: iso(row.t_created) };
        if (row.label) t.label = row.label;
        if (row.expires) t.expires = iso(row.expires);
        if (Array.isArray(row.secrets)) t.secrets = row.secrets;
        a.tokens.push(t);
      }
    }
    return out;
  }

  async refresh(): Promise<void> {
    this.agents = await this.rows();
  }

  private async reload(name: string): Promise<void> {
    const one = (await this.rows(name)).get(name);
    if (one) this.agents.set(name, one);
    else this.agents.delete(name);
  }

  private async changed(name: string): Promise<void> {
    await this.reload(name);
    await this.db.notify(CHANNEL, { name });
  }


  private insertToken(client: { query: PgState['query'] } | PgState, agent: string, t: StoredToken): Promise<unknown> {
    return client.query('INSERT INTO agent_tokens (id, agent, hash, label, created, expires, secrets) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
      t.id, agent, t.hash, t.label ?? null, t.created, t.expires ?? null, t.secrets ? JSON.stringify(t.secrets) : null,
    ]);
  }

  /**
   * A token minted here, stored with its creation and expiry on the database's clock (every replica
   * judges expiry by that clock: one whose own clock is off neither lengthens nor shortens a TTL).
   */
  private async insertMinted(agent: string, issued: ReturnType<typeof mintToken>, ttlMs: number | undefined): Promise<void> {
    const t = issued.stored;
    const r = await this.db.query<{ created: Date; expires: Date | null }>(
      `INSERT INTO agent_tokens (id, agent, hash, label, created, expires, secrets)
       VALUES ($1, $2, $3, $4, now(), now() + $5::float8 * interval '1 millisecond', $6) RETURNING created, expires`,
      [t.id, agent, t.hash, t.label ?? null, ttlMs ?? null, t.secrets ? JSON.stringify(t.secrets) : null],
    );
    const row = r.rows[0]!;
    t.created = iso(row.created);
    if (row.expires) t.expires = issued.public.expires = iso(row.expires);
  }

  async add(name: string, opts: { labels?: Record<string, string>; label?: string; ttlMs?: number } = {}): Promise<IssuedToken> {
    if (!nameRe.test(name)) throw new AgentError(`invalid agent name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (max 64)`);
    const issued = mintToken(opts);
    const r = await this.db.query('INSERT INTO agents (name, labels, created) VALUES ($1, $2, now()) ON CONFLICT DO NOTHING', [name, JSON.stringify(opts.labels ?? {})]);
    if (r.rowCount === 0) throw new AgentError(`agent ${name} already exists`);
    await this.insertMinted(name, issued, opts.ttlMs);
    await this.changed(name);
    return issued.public;
  }

  /** Inserts an agent as it stands in another store (`airlock migrate-state`), tokens' hashes included. */
  async importAgent(a: StoredAgent): Promise<boolean> {
    // One transaction: an agent stored without its tokens (a token PostgreSQL refuses, the database
    // lost midway) would be kept as "already there" by the next run, its tokens never moved.
    const made = await this.db.transaction(async (c) => {
      const r = await c.query('INSERT INTO agents (name, labels, created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [a.name, JSON.stringify(a.labels ?? {}), a.created]);
      if (r.rowCount === 0) return false;
      for (const t of a.tokens) {
        await this.insertToken(c as unknown as { query: PgState['query'] }, a.name, t).catch((err: Error) => {
          throw new AgentError(`agent ${a.name}, token ${t.id}: ${err.message}`);
        });
      }
      return true;
    });
    if (made) await this.changed(a.name);
    return made;
  }

  async issueToken(name: string, opts: { ttlMs?: number; label?: string; secrets?: string[]; unixOnly?: boolean } = {}): Promise<IssuedToken> {
    const issued = mintToken(opts);
    const exists = await this.db.query('SELECT 1 FROM agents WHERE name = $1', [name]);
    if (!exists.rowCount) throw new AgentError(`no agent named ${name}`);
    await this.db.query('DELETE FROM agent_tokens WHERE agent = $1 AND expires IS NOT NULL AND expires <= now()', [name]);
    await this.insertMinted(name, issued, opts.ttlMs);
    await this.changed(name);
    return issued.public;
  }

  async revokeToken(name: string, idOrToken: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM agent_tokens WHERE agent = $1 AND (id = $2 OR hash = $3)', [name, idOrToken, sha256(idOrToken)]);
    if (!r.rowCount) return false;
    await this.changed(name);
    return true;
  }

  async remove(name: string): Promise<boolean> {
    const r = await this.db.query('DELETE FROM agents WHERE name = $1', [name]);
    if (!r.rowCount) return false;
    await this.changed(name);
    return true;
  }

  async setLabels(name: string, labels: Record<string, string>): Promise<void> {
    const r = await this.db.query('UPDATE agents SET labels = $2 WHERE name = $1', [name, JSON.stringify(labels)]);
    if (!r.rowCount) throw new AgentError(`no agent named ${name}`);
    await this.changed(name);
  }

  list(): AgentSummary[] {
    return [...this.agents.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((a) => ({ name: a.name, labels: a.labels, created: a.created, tokens: a.tokens.map(({ hash: _h, ...t }) => t) }));
  }

  /** Every agent with its token hashes (`airlock migrate-state`). */
  stored(): StoredAgent[] {
    return [...this.agents.values()];
  }

  get(name: string): AgentInfo | undefined {
    const a = this.agents.get(name);
    return a ? { id: a.name, labels: { ...a.labels } } : undefined;
  }

  /** Ids of the tokens that still authenticate. */
  liveTokenIds(): Set<string> {
    const now = Date.now();
    const out = new Set<string>();
    for (const a of this.agents.values()) for (const t of a.tokens) if (!t.expires || Date.parse(t.expires) > now) out.add(t.id);
    return out;
  }

  private check(name: string, token: string): { agent: AgentInfo; token: string } | undefined {
    const a = this.agents.get(name);
    // Expiry is left to the confirmation, on the database's clock (this replica's may be off).
    return a ? matchToken(a, token, -Infinity) : undefined;
  }

  async authenticate(name: string, token: string): Promise<AgentInfo | undefined> {
    return (await this.identify(name, token))?.agent;
  }

  /**
   * The agent and the id of the token that matched (a session is one token's life), confirmed
   * against the table, or with `deferConfirm` as the view has it plus the `confirm` to run.
   */
  async identify(name: string, token: string, opts: { deferConfirm?: boolean } = {}): Promise<Identified | undefined> {
    // A stale view could let a revoked token through: no authentication while the feed is down.
    this.db.ensureAvailable();
    let found = this.check(name, token);
    if (!found) {
      // A miss may be a token minted a moment ago on another replica, its notice still in flight.
      if (!nameRe.test(name)) return undefined;
      try {
        await this.reloadForMiss(name);
      } catch (err) {
        if (err instanceof MissNotReread) return undefined;
        throw err;
      }
      found = this.check(name, token);
      if (!found) return undefined;
    }
    const id = found.token;
    if (opts.deferConfirm) return { ...found, confirm: () => this.confirm(name, id) };
    const agent = await this.confirm(name, id);
    return agent ? { agent, token: id } : undefined;
  }

  /** Re-reads `name` after a miss: one waiting re-read per name, at most MISS_RELOADS running (a reload already running may predate the token). */
  private reloadForMiss(name: string): Promise<void> {
    const waiting = this.queuedReload.get(name);
    if (waiting && !waiting.started) return waiting.done;
    const w = { started: false, done: Promise.resolve() };
    w.done = this.missGate.run(name, () => {
      w.started = true;
      return this.reload(name);
    }, MISS_WAIT_MS, () => new MissNotReread());
    this.queuedReload.set(name, w);
    w.done.catch(() => undefined).finally(() => { if (this.queuedReload.get(name) === w) this.queuedReload.delete(name); });
    return w.done;
  }

  /** The token as the table holds it now, with its agent's labels and its secrets: gone (revoked, agent removed, expired) → undefined. */
  private async confirm(name: string, tokenId: string): Promise<AgentInfo | undefined> {
    const r = await this.db.query<TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM ${TOKEN_TABLES} WHERE t.id = $1 AND t.agent = $2`, [tokenId, name]);
    const agent = confirmedAgent(name, r.rows[0]);
    if (!agent) void this.reload(name).catch(() => undefined); // the view still has it: its notice has not arrived
    return agent;
  }
}

/** Where confirming a token reads (PgSessions.enterConfirming reads the same with a session's entry). */
export const TOKEN_TABLES = 'agent_tokens t JOIN agents a ON a.name = t.agent';
// Expiry is judged by the database's clock, the one clock every replica shares.
export const TOKEN_COLUMNS = 'a.labels AS agent_labels, t.secrets AS token_secrets, COALESCE(t.expires <= now(), false) AS token_expired';
export interface TokenRow { agent_labels: Record<string, string> | null; token_secrets: unknown; token_expired: boolean | null }

/** The agent a token's row stands for: no row (revoked, agent removed) or expired → undefined. */
export function confirmedAgent(name: string, row: TokenRow | undefined): AgentInfo | undefined {
  if (!row || row.token_expired !== false) return undefined;
  return { id: name, labels: { ...(row.agent_labels ?? {}) }, ...(Array.isArray(row.token_secrets) ? { secrets: row.token_secrets.map(String) } : {}) };
}
