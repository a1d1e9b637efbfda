// Agent sessions in PostgreSQL (the AgentSessions port; embedded: state/sessions.ts), shared by
// every replica. Correctness over speed:
//  - `enter` (every request) reads the session from the database in one statement: its labels,
//    counters and the URL's provenance as committed by any replica. `enterConfirming` also
//    confirms the agent's token in that statement (the proxy's one round trip per request). Nothing a decision reads comes
//    from a local cache, so a label added through replica A counts on B's very next decision.
//  - `addLabels` commits before it returns (the proxy holds the response until then); clears and
//    resets commit in one transaction each, with their label event.
//  - `addLinks` commits before the response's end is passed on (the proxy awaits it), so a link an
//    agent was served through A can be followed through B.
//  - Egress counters and the timeline are written in batches once a second (a crash forgets at
//    most that second of them; neither feeds a label).
// `get` and `list` (studio, CLI) answer from a view in memory, re-read for a session when any
// replica announces a change to it (NOTIFY airlock_sessions) and for recently active sessions on
// every batch. Bounds as in the embedded store (SESSION_LIMITS, docs/sessions.md): links per
// session (count and bytes, oldest dropped first) at each write; timeline and label events per
// session at each batch; ended sessions kept and link bytes over all sessions (least recently
// active sessions' links first) by a sweep once a minute. A live session's labels are never dropped.
import crypto from 'node:crypto';
import type { AgentInfo, LabelArrival, SessionInfo } from '../../describe/types.ts';
import { confirmedAgent, TOKEN_COLUMNS, TOKEN_TABLES, type TokenRow } from './agents.ts';
import { hostOf, LINK_OVERHEAD, SESSION_LIMITS, SessionError, type Entered, type LabelEvent, type SessionChange, type SessionLimits, type SessionRecord, type SessionSummary, type TimelineEntry } from '../sessions.ts';
import type { AgentSessions } from '../stores.ts';
import { jsonb, PG_STORE, STATEMENT_TIMEOUT_MS, type PgState } from './db.ts';
import { ChangeFeed } from '../../lib/change-feed.ts';
import { TurnGate } from '../../lib/turn-gate.ts';
import { StoreUnavailableError } from '../unavailable.ts';

const CHANNEL = 'airlock_sessions';
/** How far the record of where secrets were injected has moved (state/postgres/injected-places.ts), read with every entry. */
const INJECTED_SEQ = '(SELECT max(seq) FROM injected_places) AS injected_seq, (SELECT version FROM policy_current WHERE id = 1) AS policy_live';
const SWEEP_MS = 60_000;
/** Timeline entries waiting for the next batch, at most (beyond it the oldest are dropped). */
const PENDING_TIMELINE = 10_000;

/**
 * Link writes at once on a replica, one per session, sessions taking turns; the links of a
 * session's answers that wait meanwhile are written together. Each response an agent is served
 * writes its links before it ends (an insert and a trim of the session's oldest): one agent's 300
 * link-rich answers at once filled the pool for 4 s, and every other agent's statements waited
 * behind them (2 s, then 503).
 */
const LINK_WRITES = 2;

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

const LABELS_SQL = `COALESCE((SELECT jsonb_object_agg(l.label, jsonb_build_object('request_id', l.request_id, 'host', l.host, 'time', l.time))
  FROM session_labels l WHERE l.session = s.id), '{}'::jsonb)`;

const RECORD_SQL = `SELECT s.id, s.agent, s.token, s.started, s.last_seen, s.ended, s.requests, s.egress_bytes, ${LABELS_SQL} AS labels,
  (SELECT count(*) FROM session_links k WHERE k.session = s.id) AS links,
  (SELECT COALESCE(sum(length(k.url) + ${LINK_OVERHEAD}), 0) FROM session_links k WHERE k.session = s.id) AS link_bytes,
  COALESCE((SELECT jsonb_agg(e.event ORDER BY e.seq) FROM session_events e WHERE e.session = s.id), '[]'::jsonb) AS events,
  COALESCE((SELECT jsonb_agg(t.entry ORDER BY t.seq) FROM session_timeline t WHERE t.session = s.id), '[]'::jsonb) AS timeline
  FROM sessions s`;

export interface PgSessionOptions {
  /** Counters and the timeline are written this often (ms, default 1000; 0: only on flush/close). */
  flushMs?: number;
  limits?: Partial<SessionLimits>;
  /** Token ids that still authenticate: sessions of others count as ended when ended ones are swept. */
  liveTokens?: () => Set<string> | undefined;
  /**
   * The live policy version as this request's statement read it: a replica that has not loaded it
   * yet (the notice of a publish or rollback still on its way, its compile still running) waits
   * for it, or refuses the request, rather than deciding with the replaced version.
   */
  livePolicy?: (version: string) => Promise<void> | undefined;
}

type Notice = { id?: unknown; type?: unknown; labels?: unknown; label?: unknown; by?: unknown };

export class PgSessions implements AgentSessions {
  private view = new Map<string, SessionRecord>();
  /** Egress bytes not written yet, per session. */
  private egress = new Map<string, number>();
  private timeline: Array<{ id: string; entry: TimelineEntry }> = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastSweep = Date.now();
  private lastRefresh = new Date();
  private readonly changes = new ChangeFeed<SessionChange>();
  private readonly linkWrites = new TurnGate(LINK_WRITES, 1);
  /** Per session, the links waiting for its turn (not yet written). */
  private readonly linkBatches = new Map<string, { links: Array<{ url: string; request_id: string; host: string }>; started: boolean; done: Promise<void> }>();
  private readonly limits: SessionLimits;
  private closed = false;

  private constructor(private readonly db: PgState, private readonly opts: PgSessionOptions) {
    this.limits = { ...SESSION_LIMITS, ...(opts.limits ?? {}) };
  }

  static async open(db: PgState, opts: PgSessionOptions = {}): Promise<PgSessions> {
    const store = new PgSessions(db, opts);
    await store.refresh();
    db.listen(CHANNEL, (p) => void store.heard(p as Notice).catch(() => undefined));
    db.onResync(() => store.refresh());
    const every = opts.flushMs ?? 1000;
    if (every > 0) {
      store.timer = setInterval(() => void store.flush().catch(() => undefined), every);
      store.timer.unref();
    }
    return store;
  }

  // ─── the view in memory (get, list) ──────────────────────────────────────────────────────────

  private async records(where: string, params: unknown[]): Promise<SessionRecord[]> {
    const r = await this.db.query(`${RECORD_SQL} ${where}`, params);
    return r.rows.map((row) => ({
      id: row.id, agent: row.agent, token: row.token, started: iso(row.started), last_seen: iso(row.last_seen),
      ...(row.ended ? { ended: row.ended } : {}),
      labels: row.labels, requests: Number(row.requests), egress_bytes: Number(row.egress_bytes),
      links: Number(row.links), link_bytes: Number(row.link_bytes), events: row.events, timeline: row.timeline,
    }));
  }

  /** Re-reads every session (at open, and after the change feed was down). */
  async refresh(): Promise<void> {
    const since = new Date();
    const all = await this.records('', []);
    this.view = new Map(all.map((r) => [r.id, r]));
    this.lastRefresh = since;
  }

  private async reload(id: string): Promise<SessionRecord | undefined> {
    const [rec] = await this.records('WHERE s.id = $1', [id]);
    if (rec) this.view.set(id, rec);
    else this.view.delete(id);
    return rec;
  }

  /** Another replica changed a session: re-read it and tell this process's subscribers. */
  private async heard(p: Notice, attempt = 0): Promise<void> {
    if (typeof p.id !== 'string') return;
    let rec: SessionRecord | undefined;
    try {
      rec = await this.reload(p.id);
    } catch (err) {
      // The session could not be re-read (a statement past its bound, a connection lost): labels
      // gained or a reset through another replica still make this replica's open streams of it
      // stale at once (they only need its id); the session is read again for the studio later.
      const known = this.view.get(p.id);
      const s = known ? summary(known) : { id: p.id, agent: '', token: '', started: '', last_seen: '', labels: {}, requests: 0, egress_bytes: 0, links: 0, link_bytes: 0 };
      if (attempt === 0 && p.type === 'labels' && Array.isArray(p.labels)) this.emit({ type: 'labels', session: s, labels: p.labels.map(String), remote: true });
      if (attempt === 0 && p.type === 'ended') this.emit({ type: 'ended', session: s });
      if (attempt < 5 && !this.closed) setTimeout(() => void this.heard(p, attempt + 1).catch(() => undefined), 500 * 2 ** attempt).unref();
      throw err;
    }
    if (!rec) return;
    const s = summary(rec);
    if (p.type === 'cleared' && typeof p.label === 'string') this.emit({ type: 'cleared', session: s, label: p.label, by: String(p.by ?? 'unknown') });
    else if (p.type === 'started' || p.type === 'ended') this.emit({ type: p.type, session: s });
    else if (p.type === 'labels') this.emit({ type: 'labels', session: s, ...(Array.isArray(p.labels) ? { labels: p.labels.map(String) } : {}), remote: true });
  }

  private announce(id: string, notice: Omit<Notice, 'id'>): void {
    void this.db.notify(CHANNEL, { id, ...notice }).catch(() => undefined);
  }

  // ─── the proxy's calls ───────────────────────────────────────────────────────────────────────

  async enter(agent: string, token: string, time: string, link?: { url: string; host: string }): Promise<Entered> {
    return (await this.entry(agent, token, time, link, false))!;
  }

  /**
   * `enter`, with the token confirmed in the same statement (PgAgents' `deferConfirm`): a request
   * makes one round trip for both. A token the table no longer holds counts nothing.
   */
  async enterConfirming(agent: string, token: string, time: string, link?: { url: string; host: string }): Promise<(Entered & { agent: AgentInfo }) | undefined> {
    return this.entry(agent, token, time, link, true) as Promise<(Entered & { agent: AgentInfo }) | undefined>;
  }

  private async entry(agent: string, token: string, time: string, link: { url: string; host: string } | undefined, confirming: boolean): Promise<(Entered & { agent?: AgentInfo }) | undefined> {
    const entering = `UPDATE sessions s SET requests = s.requests + 1, last_seen = GREATEST(s.last_seen, $3::timestamptz)
          WHERE s.agent = $1 AND s.token = $2 AND s.ended IS NULL${confirming ? ' AND EXISTS (SELECT 1 FROM tok)' : ''}
          RETURNING s.id, s.started, s.requests - 1 AS requests, s.egress_bytes, ${LABELS_SQL} AS labels,
            (SELECT jsonb_build_object('request_id', k.request_id, 'host', k.host) FROM session_links k WHERE k.session = s.id AND k.url = $4::text) AS seen,
            EXISTS (SELECT 1 FROM session_links k WHERE k.session = s.id AND k.url_host = $5::text) AS host_seen,
            ${INJECTED_SEQ}`;
    // Confirming: the token's row, and the session's entry only while that row exists; no row at all → revoked.
    const sql = confirming
      ? `WITH tok AS (SELECT ${TOKEN_COLUMNS} FROM ${TOKEN_TABLES} WHERE t.id = $2 AND t.agent = $1), entered AS (${entering})
         SELECT tok.*, entered.* FROM tok LEFT JOIN entered ON true`
      : entering;
    // Two replicas may start the token's session at once: the unique index keeps one, the other counts into it.
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await this.db.query(sql, [agent, token, time, link?.url ?? null, link?.host ?? null]);
      const row = r.rows[0];
      if (row?.injected_seq != null) this.db.mark('injected_places', Number(row.injected_seq));
      if (row?.policy_live != null) await this.opts.livePolicy?.(String(row.policy_live));
      let confirmed: AgentInfo | undefined;
      if (confirming) {
        confirmed = confirmedAgent(agent, row as TokenRow | undefined);
        if (!confirmed) return undefined;
      }
      const as = confirmed ? { agent: confirmed } : {};
      if (row?.id != null) {
        const session: SessionInfo = { id: row.id, started: iso(row.started), labels: row.labels, requests: Number(row.requests), egress_bytes: Number(row.egress_bytes) + (this.egress.get(row.id) ?? 0) };
        if (!link) return { session, ...as };
        return row.seen ? { session, seen: row.seen, ...as } : { session, hostSeen: row.host_seen === true, ...as };
      }
      const id = `s_${crypto.randomBytes(8).toString('hex')}`;
      const made = await this.db.query(
        `INSERT INTO sessions (id, agent, token, started, last_seen, requests) VALUES ($1, $2, $3, $4, $4, 1)
          ON CONFLICT (agent, token) WHERE ended IS NULL DO NOTHING RETURNING started, ${INJECTED_SEQ}`,
        [id, agent, token, time],
      );
      if (made.rows[0]?.injected_seq != null) this.db.mark('injected_places', Number(made.rows[0].injected_seq));
      if (made.rows[0]?.policy_live != null) await this.opts.livePolicy?.(String(made.rows[0].policy_live));
      if (!made.rowCount) continue;
      const started = iso(made.rows[0]!.started);
      const rec: SessionRecord = { id, agent, token, started, last_seen: started, labels: {}, requests: 1, egress_bytes: 0, links: 0, link_bytes: 0, events: [], timeline: [] };
      this.view.set(id, rec);
      this.emit({ type: 'started', session: summary(rec) });
      this.announce(id, { type: 'started' });
      const session: SessionInfo = { id, started, labels: {}, requests: 0, egress_bytes: 0 };
      return link ? { session, hostSeen: false, ...as } : { session, ...as };
    }
    throw new Error(`session of agent ${agent} could not be started (the token's session changed during three attempts)`);
  }

  addEgress(id: string, bytes: number): void {
    if (!(bytes > 0)) return;
    this.egress.set(id, (this.egress.get(id) ?? 0) + bytes);
  }

  async addLabels(id: string, labels: readonly string[], arrival: LabelArrival): Promise<string[]> {
    const wanted = [...new Set(labels)];
    if (!wanted.length) return [];
    // One statement: the labels and their events commit together, before the response goes on.
    const r = await this.db.query<{ label: string }>(
      `WITH added AS (
         INSERT INTO session_labels (session, label, request_id, host, time)
         SELECT $1, l.label, $3, $4, $5 FROM unnest($2::text[]) WITH ORDINALITY AS l(label, n)
          WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1) ORDER BY l.n
         ON CONFLICT (session, label) DO NOTHING RETURNING label
       ), events AS (
         INSERT INTO session_events (session, event)
         SELECT $1, jsonb_build_object('time', $5::text, 'kind', 'added', 'label', label, 'request_id', $3::text, 'host', $4::text) FROM added
       )
       SELECT label FROM added`,
      [id, wanted, arrival.request_id, arrival.host, arrival.time],
    );
    const added = wanted.filter((l) => r.rows.some((row) => row.label === l));
    if (added.length) {
      const rec = this.view.get(id);
      if (rec) {
        for (const label of added) {
          rec.labels[label] = { ...arrival };
          rec.events.push({ time: arrival.time, kind: 'added', label, request_id: arrival.request_id, host: arrival.host });
        }
        this.emit({ type: 'labels', session: summary(rec), labels: added });
      }
      this.announce(id, { type: 'labels', labels: added });
    }
    return added;
  }

  async addLinks(id: string, from: { request_id: string; host: string }, urls: readonly string[]): Promise<void> {
    const fresh = [...new Set(urls.filter((u) => u.length <= this.limits.urlChars))];
    if (!fresh.length) return;
    // Answers whose links wait for the session's turn are written together, in the order they came.
    const waiting = this.linkBatches.get(id);
    if (waiting && !waiting.started && waiting.links.length + fresh.length <= this.limits.linksPerSession) {
      for (const url of fresh) waiting.links.push({ url, ...from });
      return waiting.done;
    }
    const batch = { links: fresh.map((url) => ({ url, ...from })), started: false, done: Promise.resolve() };
    batch.done = this.linkWrites.run(id, () => {
      batch.started = true;
      return this.writeLinks(id, batch.links);
    }, 2 * STATEMENT_TIMEOUT_MS, () => new StoreUnavailableError(PG_STORE, `${this.db.display}: the links of this session's other answers took too long to write`));
    if (!batch.started) {
      this.linkBatches.set(id, batch);
      batch.done.catch(() => undefined).finally(() => { if (this.linkBatches.get(id) === batch) this.linkBatches.delete(id); });
    }
    return batch.done;
  }

  private async writeLinks(id: string, links: ReadonlyArray<{ url: string; request_id: string; host: string }>): Promise<void> {
    const r = await this.db.query(
      `WITH ins AS (
         INSERT INTO session_links (session, url, url_host, request_id, host)
         SELECT $1, x.u, x.h, x.r, x.f FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS x(u, h, r, f, n)
          WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1) ORDER BY x.n
         ON CONFLICT (session, url) DO NOTHING RETURNING 1
       ) SELECT count(*) AS n FROM ins`,
      [id, links.map((l) => l.url), links.map((l) => hostOf(l.url)), links.map((l) => l.request_id), links.map((l) => l.host)],
    );
    if (!Number(r.rows[0]?.n)) return;
    // Over the session's bounds: the oldest links go first.
    await this.db.query(
      `DELETE FROM session_links WHERE session = $1 AND seq IN (
         SELECT seq FROM (SELECT seq, row_number() OVER w AS n, sum(length(url) + ${LINK_OVERHEAD}) OVER w AS bytes
                            FROM session_links WHERE session = $1 WINDOW w AS (ORDER BY seq DESC)) x
          WHERE x.n > $2 OR x.bytes > $3)`,
      [id, this.limits.linksPerSession, this.limits.linkBytesPerSession],
    );
  }

  noteRequest(id: string, entry: TimelineEntry): void {
    this.timeline.push({ id, entry: { ...entry, url: entry.url.slice(0, 300) } });
    if (this.timeline.length > PENDING_TIMELINE) this.timeline.splice(0, this.timeline.length - PENDING_TIMELINE);
  }

  /** Writes the batched counters and timeline, re-reads recently active sessions, sweeps once a minute. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBatch().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  private async writeBatch(): Promise<void> {
    const egress = this.egress;
    this.egress = new Map();
    const timeline = this.timeline;
    this.timeline = [];
    try {
      if (egress.size) {
        await this.db.query(
          'UPDATE sessions s SET egress_bytes = s.egress_bytes + x.b FROM unnest($1::text[], $2::bigint[]) AS x(id, b) WHERE s.id = x.id',
          [[...egress.keys()], [...egress.values()]],
        );
      }
    } catch (err) {
      for (const [id, b] of egress) this.addEgress(id, b);
      throw err;
    }
    if (timeline.length) {
      const ids = [...new Set(timeline.map((t) => t.id))];
      await this.db.query(
        `INSERT INTO session_timeline (session, entry)
         SELECT x.s, x.e FROM unnest($1::text[], $2::jsonb[]) WITH ORDINALITY AS x(s, e, n)
          WHERE EXISTS (SELECT 1 FROM sessions WHERE id = x.s) ORDER BY x.n`,
        [timeline.map((t) => t.id), timeline.map((t) => jsonb(t.entry))],
      );
      await this.trim('session_timeline', ids, this.limits.timelinePerSession);
      await this.trim('session_events', ids, this.limits.labelEventsPerSession);
    }
    if (Date.now() - this.lastSweep >= SWEEP_MS) {
      this.lastSweep = Date.now();
      await this.sweep();
    }
    // What other replicas counted meanwhile (the view is for people; decisions read the database).
    const since = new Date(this.lastRefresh.getTime() - 2000);
    this.lastRefresh = new Date();
    for (const rec of await this.records('WHERE s.last_seen >= $1 OR s.id = ANY($2::text[])', [since, [...egress.keys(), ...timeline.map((t) => t.id)]])) this.view.set(rec.id, rec);
  }

  /** Keeps the newest `keep` rows of each of these sessions in a per-session log table. */
  private async trim(table: 'session_timeline' | 'session_events', ids: string[], keep: number): Promise<void> {
    await this.db.query(
      `DELETE FROM ${table} WHERE seq IN (
         SELECT seq FROM (SELECT seq, row_number() OVER (PARTITION BY session ORDER BY seq DESC) AS n FROM ${table} WHERE session = ANY($1::text[])) x
          WHERE x.n > $2)`,
      [ids, keep],
    );
  }

  /** Ended sessions beyond the newest N go (but the newest holder of each `wrote:` label); over the total, the least recently active sessions' links go. */
  async sweep(): Promise<void> {
    const live = this.opts.liveTokens?.();
    const gone = await this.db.query<{ id: string }>(
      `DELETE FROM sessions WHERE id IN (
         SELECT id FROM sessions WHERE (ended IS NOT NULL OR ($1::text[] IS NOT NULL AND NOT (token = ANY($1::text[]))))
            -- the newest holder of each wrote: label stays: every session is decided with them (twenty-ninth pass)
            AND id NOT IN (SELECT DISTINCT ON (l.label) l.session FROM session_labels l JOIN sessions k ON k.id = l.session
                            WHERE l.label LIKE 'wrote:%' ORDER BY l.label, k.last_seen DESC)
          ORDER BY last_seen DESC OFFSET $2)
       RETURNING id`,
      [live ? [...live] : null, this.limits.endedSessionsKept],
    );
    for (const { id } of gone.rows) this.view.delete(id);
    await this.db.query(
      `DELETE FROM session_links WHERE session IN (
         SELECT session FROM (
           SELECT p.session, sum(p.bytes) OVER (ORDER BY p.last_seen DESC, p.session) AS total
             FROM (SELECT k.session, s.last_seen, sum(length(k.url) + ${LINK_OVERHEAD}) AS bytes
                     FROM session_links k JOIN sessions s ON s.id = k.session GROUP BY k.session, s.last_seen) p
         ) x WHERE x.total > $1)`,
      [this.limits.linkBytesTotal],
    );
  }

  /**
   * Imports an embedded session with its links (`airlock migrate-state`); a session already there,
   * or a live one for a token that has a live session here, is kept as it is. True when imported.
   */
  async importSession(rec: SessionRecord, links: ReadonlyArray<{ url: string; request_id: string; host: string }>): Promise<boolean> {
    return this.db.transaction(async (c) => {
      const made = await c.query(
        `INSERT INTO sessions (id, agent, token, started, last_seen, ended, requests, egress_bytes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        [rec.id, rec.agent, rec.token, rec.started, rec.last_seen, rec.ended ? jsonb(rec.ended) : null, rec.requests, rec.egress_bytes],
      );
      if (!made.rowCount) return false;
      const labels = Object.entries(rec.labels);
      await c.query(
        'INSERT INTO session_labels (session, label, request_id, host, time) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[])',
        [rec.id, labels.map(([l]) => l), labels.map(([, a]) => a.request_id), labels.map(([, a]) => a.host), labels.map(([, a]) => a.time)],
      );
      await c.query('INSERT INTO session_events (session, event) SELECT $1, e FROM unnest($2::jsonb[]) WITH ORDINALITY AS x(e, n) ORDER BY x.n', [rec.id, rec.events.map((e) => jsonb(e))]);
      await c.query('INSERT INTO session_timeline (session, entry) SELECT $1, e FROM unnest($2::jsonb[]) WITH ORDINALITY AS x(e, n) ORDER BY x.n', [rec.id, rec.timeline.map((e) => jsonb(e))]);
      const kept = links.filter((l) => l.url.length <= this.limits.urlChars).slice(-this.limits.linksPerSession);
      await c.query(
        `INSERT INTO session_links (session, url, url_host, request_id, host)
         SELECT $1, x.u, x.uh, x.r, x.h FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS x(u, uh, r, h, n) ORDER BY x.n ON CONFLICT DO NOTHING`,
        [rec.id, kept.map((l) => l.url), kept.map((l) => hostOf(l.url)), kept.map((l) => l.request_id), kept.map((l) => l.host)],
      );
      return true;
    });
  }

  // ─── human actions ───────────────────────────────────────────────────────────────────────────

  /** The id of a session named by id or unique prefix (at least 6 characters), from the database. */
  private async resolve(idOrPrefix: string): Promise<string> {
    const r = await this.db.query<{ id: string }>(
      'SELECT id FROM sessions WHERE id = $1 OR (length($1::text) >= 6 AND left(id, length($1::text)) = $1) LIMIT 3',
      [idOrPrefix],
    );
    const ids = r.rows.map((row) => row.id);
    if (ids.includes(idOrPrefix)) return idOrPrefix;
    if (idOrPrefix.length < 6) throw new SessionError('bad-request', `"${idOrPrefix.slice(0, 40)}" is too short to name a session: give its id or at least 6 characters of it (airlock sessions list)`);
    if (ids.length === 1) return ids[0]!;
    if (ids.length > 1) throw new SessionError('ambiguous', `session id prefix ${idOrPrefix} matches ${ids.length} or more sessions; give more of it`);
    throw new SessionError('not-found', `no session ${idOrPrefix.slice(0, 80)}`);
  }

  async clearLabel(idOrPrefix: string, label: string, by: string, reason?: string): Promise<SessionRecord> {
    const id = await this.resolve(idOrPrefix);
    const event: LabelEvent = { time: new Date().toISOString(), kind: 'cleared', label, by, ...(reason ? { reason: reason.slice(0, 500) } : {}) };
    const held = await this.db.transaction(async (c) => {
      const d = await c.query('DELETE FROM session_labels WHERE session = $1 AND label = $2', [id, label]);
      if (!d.rowCount) return (await c.query<{ label: string }>('SELECT label FROM session_labels WHERE session = $1 ORDER BY label', [id])).rows.map((r) => r.label);
      await c.query('INSERT INTO session_events (session, event) VALUES ($1, $2)', [id, jsonb(event)]);
      return undefined;
    });
    if (held) throw new SessionError('bad-request', `session ${id} does not hold the label ${JSON.stringify(label.slice(0, 64))} (it holds ${held.join(', ') || 'none'})`);
    this.announce(id, { type: 'cleared', label, by });
    const rec = (await this.reload(id))!;
    this.emit({ type: 'cleared', session: summary(rec), label, by });
    return rec;
  }

  async reset(idOrPrefix: string, by: string, reason?: string): Promise<SessionRecord> {
    const id = await this.resolve(idOrPrefix);
    const time = new Date().toISOString();
    const ended = { time, by, ...(reason ? { reason: reason.slice(0, 500) } : {}) };
    const before = await this.db.transaction(async (c) => {
      const u = await c.query('UPDATE sessions SET ended = $2 WHERE id = $1 AND ended IS NULL', [id, jsonb(ended)]);
      if (!u.rowCount) return (await c.query('SELECT ended FROM sessions WHERE id = $1', [id])).rows[0]?.ended as SessionRecord['ended'];
      await c.query('INSERT INTO session_events (session, event) VALUES ($1, $2)', [id, jsonb({ time, kind: 'reset', by, ...(ended.reason ? { reason: ended.reason } : {}) } satisfies LabelEvent)]);
      return undefined;
    });
    if (before) throw new SessionError('not-live', `session ${id} already ended (${before.time}, by ${before.by})`);
    this.announce(id, { type: 'ended' });
    const rec = (await this.reload(id))!;
    this.emit({ type: 'ended', session: summary(rec) });
    return rec;
  }

  // ─── reading ─────────────────────────────────────────────────────────────────────────────────

  get(idOrPrefix: string): SessionRecord {
    const exact = this.view.get(idOrPrefix);
    if (exact) return exact;
    if (idOrPrefix.length < 6) throw new SessionError('bad-request', `"${idOrPrefix.slice(0, 40)}" is too short to name a session: give its id or at least 6 characters of it (airlock sessions list)`);
    const hits = [...this.view.keys()].filter((k) => k.startsWith(idOrPrefix));
    if (hits.length === 1) return this.view.get(hits[0]!)!;
    if (hits.length > 1) throw new SessionError('ambiguous', `session id prefix ${idOrPrefix} matches ${hits.length} sessions; give more of it`);
    throw new SessionError('not-found', `no session ${idOrPrefix.slice(0, 80)}`);
  }

  list(filter: { agent?: string; live?: boolean } = {}): SessionSummary[] {
    const out: SessionSummary[] = [];
    for (const rec of this.view.values()) {
      if (filter.agent !== undefined && rec.agent !== filter.agent) continue;
      if (filter.live !== undefined && filter.live === Boolean(rec.ended)) continue;
      out.push(summary(rec));
    }
    return out.sort((a, b) => b.last_seen.localeCompare(a.last_seen));
  }

  onChange(fn: (c: SessionChange) => void): () => void {
    return this.changes.subscribe(fn);
  }

  private emit(c: SessionChange): void {
    this.changes.emit(c);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}

function summary(rec: SessionRecord): SessionSummary {
  const { events: _e, timeline: _t, ...rest } = rec;
  return { ...rest, labels: { ...rec.labels } };
}
