// The agent store: who may use the proxy. Each agent has labels (policies see them as
// input.agent.labels) and one or more tokens. Tokens are 256-bit random values shown once; only
// their SHA-256 is stored (a slow hash buys nothing for a full-entropy secret, and the proxy checks
// a token on every request). Several tokens per agent, some short-lived: `airlock run` mints one
// per run and revokes it afterwards.
//
// The file is shared between processes (`airlock agent add` writes it while `airlock start` runs),
// so the store notices changes on disk and re-reads them: a new agent works at once, a removed
// agent or revoked token stops working within a second.
import crypto from 'node:crypto';
import { StampCheck, isJsonObject, openDocument, recordsProblem, withFileLock, type Document } from './document.ts';
import { stateFile } from './home.ts';
import type { AgentInfo } from '../describe/types.ts';

export interface StoredToken {
  id: string;
  /** sha256 hex of the token. */
  hash: string;
  label?: string;
  created: string;
  /** RFC 3339; absent = never expires. */
  expires?: string;
  /** The only secrets injected for requests made with this token (a run's --secret/--no-secrets); absent = all. */
  secrets?: string[];
}

export interface StoredAgent {
  name: string;
  labels: Record<string, string>;
  created: string;
  tokens: StoredToken[];
}

interface AgentsFile {
  version: 1;
  agents: Record<string, StoredAgent>;
}

/** What is wrong with agents.json's agents, if anything (the file is then refused, never half-used). */
function agentsProblem(d: AgentsFile): string | undefined {
  return recordsProblem(d.agents, 'agents', (a) => {
    if (typeof a.name !== 'string') return '"name" must be a string';
    if (a.labels !== undefined && !(isJsonObject(a.labels) && Object.values(a.labels).every((v) => typeof v === 'string'))) return '"labels" must map names to strings';
    if (!Array.isArray(a.tokens)) return '"tokens" must be a list';
    for (const t of a.tokens as unknown[]) {
      if (!isJsonObject(t) || typeof t.id !== 'string' || typeof t.hash !== 'string') return 'each token must have a string "id" and "hash"';
      if (t.expires !== undefined && (typeof t.expires !== 'string' || Number.isNaN(Date.parse(t.expires)))) return `token ${t.id}: "expires" must be an RFC 3339 time`;
      if (t.secrets !== undefined && !(Array.isArray(t.secrets) && t.secrets.every((x) => typeof x === 'string'))) return `token ${t.id}: "secrets" must be a list of secret names`;
    }
    return undefined;
  });
}

export interface IssuedToken {
  /** The secret token: shown once, never stored. */
  token: string;
  id: string;
  expires?: string;
}

export interface AgentSummary {
  name: string;
  labels: Record<string, string>;
  created: string;
  tokens: Array<Omit<StoredToken, 'hash'>>;
}

/** The agent a token belongs to, with the id of the token that matched (unexpired, compared in constant time). */
export function matchToken(a: StoredAgent, token: string, now = Date.now()): { agent: AgentInfo; token: string } | undefined {
  const want = memo(tokenDigests, token, () => crypto.createHash('sha256').update(token).digest());
  for (const t of a.tokens) {
    if (t.expires && Date.parse(t.expires) <= now) continue;
    const have = memo(storedDigests, t.hash, () => Buffer.from(t.hash, 'hex'));
    if (have.length === want.length && crypto.timingSafeEqual(have, want)) {
      return { agent: { id: a.name, labels: { ...a.labels }, ...(Array.isArray(t.secrets) ? { secrets: [...t.secrets] } : {}), ...(typeof a.created === 'string' ? { created: a.created } : {}) }, token: t.id };
    }
  }
  return undefined;
}

// Every request is authenticated, and hashing its token (plus decoding the stored hashes) cost more
// than the comparison itself: digests of the tokens and hashes seen lately are kept. Only the
// derivation is skipped; each request is still compared against the stored hashes and expiries.
const tokenDigests = new Map<string, Buffer>();
const storedDigests = new Map<string, Buffer>();

function memo(cache: Map<string, Buffer>, key: string, make: () => Buffer): Buffer {
  let v = cache.get(key);
  if (v === undefined) {
    if (cache.size >= 1024) cache.clear();
    v = make();
    cache.set(key, v);
  }
  return v;
}

export class AgentError extends Error {}

const nameRe = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why a name cannot be an agent's, or undefined when it can. */
export function agentNameProblem(name: string): string | undefined {
  return nameRe.test(name) ? undefined : `invalid agent name ${JSON.stringify(name)}: use letters, digits, '.', '_' or '-' (max 64)`;
}

function sha256(s: string): string {
  return crypto.createHash('sha256').update(s).digest('hex');
}

/**
 * How a token minted for `airlock run` begins (`.` never occurs in the random part, base64url). It
 * works only on a connection that came over Airlock's Unix socket (<home>/proxy.sock, which
 * `airlock run` relays each of the agent's connections to, and which every sandbox hides), never on
 * the TCP port, which any local user, container or browser page can reach: a run's token that
 * leaks (printed, written to a file the agent could leave behind, read off a CI log) is of no use
 * there. The mark is part of the token itself, so it needs no stored field and cannot be stripped
 * (the stored hash covers it).
 */
export const UNIX_ONLY_TOKEN = 'unix.';

/**
 * Why the credential in a Proxy-Authorization header may not be used on this connection, if so: a
 * run's token (UNIX_ONLY_TOKEN) over a TCP connection (one with a remote address).
 */
export function tokenRefusedHere(header: string | undefined, remoteAddress: string | undefined): string | undefined {
  if (remoteAddress === undefined) return undefined;
  const cred = parseProxyAuthorization(header);
  if (!cred?.token.startsWith(UNIX_ONLY_TOKEN)) return undefined;
  return `this token was issued to an \`airlock run\` of agent ${JSON.stringify(cred.name.slice(0, 64))} and works only through Airlock's Unix socket (the run relays to it), not on the TCP port: a leaked run token is no credential here`;
}

/** A new token: its stored form (only a hash) and what is shown once to the operator. */
export function mintToken(opts: { label?: string; ttlMs?: number; secrets?: string[]; unixOnly?: boolean }): { stored: StoredToken; public: IssuedToken } {
  const token = (opts.unixOnly ? UNIX_ONLY_TOKEN : '') + crypto.randomBytes(32).toString('base64url');
  const id = crypto.randomBytes(6).toString('hex');
  const stored: StoredToken = { id, hash: sha256(token), created: new Date().toISOString() };
  if (opts.label) stored.label = opts.label;
  if (opts.secrets) stored.secrets = [...new Set(opts.secrets)].sort();
  if (opts.ttlMs !== undefined) {
    if (!(opts.ttlMs > 0)) throw new AgentError('token ttl must be positive');
    stored.expires = new Date(Date.now() + opts.ttlMs).toISOString();
  }
  return { stored, public: { token, id, ...(stored.expires ? { expires: stored.expires } : {}) } };
}

/** How often (at most) the store checks the file for changes made by another process. */
const recheckMs = 1000;

export class AgentStore {
  private doc: Document<AgentsFile>;
  private stamp: string;
  private lastCheck = Date.now();
  private reloading: Promise<void> | undefined;
  private broken: Error | undefined;
  /** Set while the file's disk does not answer a change check: every authentication is refused (503), none made from what may be stale. */
  private stalled: Error | undefined;
  /** The change check, off the event loop (a stalled disk holds a pool thread, not every agent). */
  private readonly look: StampCheck;

  private constructor(private readonly home: string, doc: Document<AgentsFile>, look: StampCheck, stamp: string) {
    this.doc = doc;
    this.look = look;
    this.stamp = stamp;
  }

  /** `stalledMs`: how long the file's disk may take to answer a change check (state/document.ts STALLED_DISK_MS). */
  static async open(home: string, opts: { stalledMs?: number } = {}): Promise<AgentStore> {
    const doc = await openDocument<AgentsFile>(stateFile(home, 'agents'), { version: 1, agents: {} }, { mode: 0o600, check: agentsProblem, durable: true });
    const look = new StampCheck(doc.file, opts.stalledMs);
    return new AgentStore(home, doc, look, await look.now());
  }

  get file(): string {
    return this.doc.file;
  }

  /**
   * Re-reads the file when another process changed it. A file that became unreadable fails closed:
   * every call throws (so no agent authenticates) until the file is fixed; one whose disk does not
   * answer within its bound throws StoreUnavailableError (a 503) until it does.
   */
  async refresh(): Promise<void> {
    this.lastCheck = Date.now();
    let stamp: string;
    try {
      stamp = await this.look.now();
      this.stalled = undefined;
    } catch (err) {
      this.stalled = err as Error;
      throw err;
    }
    if (stamp === this.stamp) {
      if (this.broken) throw this.broken;
      return;
    }
    this.reloading ??= (async () => {
      try {
        this.doc = await openDocument<AgentsFile>(stateFile(this.home, 'agents'), { version: 1, agents: {} }, { mode: 0o600, check: agentsProblem, durable: true });
        this.broken = undefined;
      } catch (err) {
        this.broken = err as Error;
        throw err;
      } finally {
        this.stamp = stamp;
        this.reloading = undefined;
      }
    })();
    await this.reloading;
  }

  /** Reads the file as it is now and writes the change, while no other process writes it (withFileLock). */
  private async save(fn: (data: AgentsFile) => void): Promise<void> {
    await withFileLock(this.doc.file, async () => {
      await this.refresh();
      await this.doc.update(fn);
      this.stamp = await this.look.now();
    });
  }

  /** Creates an agent and its first token. */
  async add(name: string, opts: { labels?: Record<string, string>; label?: string; ttlMs?: number } = {}): Promise<IssuedToken> {
    const problem = agentNameProblem(name);
    if (problem) throw new AgentError(problem);
    await this.refresh();
    if (this.doc.data.agents[name]) throw new AgentError(`agent ${name} already exists`);
    const issued = mintToken(opts);
    await this.save((d) => {
      d.agents[name] = { name, labels: { ...(opts.labels ?? {}) }, created: new Date().toISOString(), tokens: [issued.stored] };
    });
    return issued.public;
  }


  /**
   * Adds a token to an existing agent (e.g. a per-run token with a TTL). `secrets` limits what the
   * proxy injects for requests made with it (the proxy refuses any other secret).
   */
  async issueToken(name: string, opts: { ttlMs?: number; label?: string; secrets?: string[]; unixOnly?: boolean } = {}): Promise<IssuedToken> {
    await this.refresh();
    if (!this.doc.data.agents[name]) throw new AgentError(`no agent named ${name}`);
    const issued = mintToken(opts);
    const now = Date.now();
    await this.save((d) => {
      const a = d.agents[name];
      if (!a) throw new AgentError(`no agent named ${name}`);
      // Drop expired tokens while we are writing anyway.
      a.tokens = a.tokens.filter((t) => !t.expires || Date.parse(t.expires) > now);
      a.tokens.push(issued.stored);
    });
    return issued.public;
  }

  /** Revokes one token by its id (or by the token value itself). Returns whether one was removed. */
  async revokeToken(name: string, idOrToken: string): Promise<boolean> {
    await this.refresh();
    const a = this.doc.data.agents[name];
    if (!a) return false;
    const hash = sha256(idOrToken);
    const keep = a.tokens.filter((t) => t.id !== idOrToken && t.hash !== hash);
    if (keep.length === a.tokens.length) return false;
    await this.save((d) => {
      const cur = d.agents[name];
      if (cur) cur.tokens = cur.tokens.filter((t) => t.id !== idOrToken && t.hash !== hash);
    });
    return true;
  }

  async remove(name: string): Promise<boolean> {
    await this.refresh();
    if (!this.doc.data.agents[name]) return false;
    await this.save((d) => {
      delete d.agents[name];
    });
    return true;
  }

  async setLabels(name: string, labels: Record<string, string>): Promise<void> {
    await this.refresh();
    if (!this.doc.data.agents[name]) throw new AgentError(`no agent named ${name}`);
    await this.save((d) => {
      d.agents[name]!.labels = { ...labels };
    });
  }

  list(): AgentSummary[] {
    return Object.values(this.doc.data.agents)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((a) => ({ name: a.name, labels: a.labels, created: a.created, tokens: a.tokens.map(({ hash: _h, ...t }) => t) }));
  }

  /** Ids of the tokens that still authenticate (unexpired), over all agents. */
  liveTokenIds(): Set<string> {
    const now = Date.now();
    const out = new Set<string>();
    for (const a of Object.values(this.doc.data.agents)) for (const t of a.tokens) if (!t.expires || Date.parse(t.expires) > now) out.add(t.id);
    return out;
  }

  get(name: string): AgentInfo | undefined {
    const a = this.doc.data.agents[name];
    return a ? { id: a.name, labels: { ...a.labels } } : undefined;
  }

  private check(name: string, token: string): { agent: AgentInfo; token: string } | undefined {
    const a = Object.hasOwn(this.doc.data.agents, name) ? this.doc.data.agents[name] : undefined;
    return a ? matchToken(a, token) : undefined;
  }

  /** The agent a name + token belong to, or undefined. Sees changes other processes made. */
  async authenticate(name: string, token: string): Promise<AgentInfo | undefined> {
    return (await this.identify(name, token))?.agent;
  }

  /** The agent and the id of the token that matched (a session is one token's life). */
  async identify(name: string, token: string): Promise<{ agent: AgentInfo; token: string } | undefined> {
    if (this.broken || this.stalled || Date.now() - this.lastCheck > recheckMs) await this.refresh();
    const found = this.check(name, token);
    if (found) return found;
    // A miss may be an agent added a moment ago by `airlock agent add`: look at the file once more.
    if ((await this.look.now()) !== this.stamp) {
      await this.refresh();
      return this.check(name, token);
    }
    return undefined;
  }
}

/** Parses a Proxy-Authorization header value (Basic agent:token). */
export function parseProxyAuthorization(value: string | undefined): { name: string; token: string } | undefined {
  if (!value) return undefined;
  const m = /^Basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(value);
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return undefined;
  return { name: decoded.slice(0, i), token: decoded.slice(i + 1) };
}
