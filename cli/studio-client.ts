// The CLI's one way to reach a running Airlock: its studio's REST API, logged in with the admin
// token of the state folder, so the running proxy sees a change at once (approvals, grants, rate
// limits). Where no studio answers, commands fall back to the state files, but never for a change
// while Airlock runs: editing a file behind the running process's back would be lost.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { airlockRunning, readRuntimeInfo } from '../runtime/running.ts';
import { trimTrailing } from '../lib/text.ts';
import { resolveHome, stateFile } from '../state/home.ts';
import { CliError } from './errors.ts';
import { CLI_PROOF, STUDIO_PROOF, loginNonce, loginProof, tokensEqual } from '../studio/auth.ts';

/** The studio's base URL: --studio, AIRLOCK_STUDIO, the config file's `studio`, or the default. */
export function studioUrl(home: string, flag?: string): string {
  let spec = flag ?? process.env.AIRLOCK_STUDIO ?? readRuntimeInfo(home)?.studio;
  if (!spec) {
    try {
      const cfg = JSON.parse(fs.readFileSync(stateFile(home, 'config'), 'utf8')) as { studio?: unknown };
      if (typeof cfg.studio === 'string') spec = cfg.studio;
    } catch {
      /* no or unreadable config: the runtime reports that itself */
    }
  }
  spec ??= '127.0.0.1:8081';
  if (/^https?:\/\//.test(spec)) return trimTrailing(spec, '/');
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(spec);
  if (!m) throw new CliError(`studio address ${spec}: expected HOST:PORT or a URL`);
  let host = m[1] ?? (m[2] || '127.0.0.1');
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '::') host = '::1';
  return `http://${host.includes(':') ? `[${host}]` : host}:${m[3]}`;
}

/** A logged-in session with the running studio. */
export class StudioClient {
  private constructor(readonly base: string, private readonly cookie: string, private readonly csrf: string) {}

  /** Logs in; undefined when nothing answers at `base`. */
  static async connect(base: string, home: string): Promise<StudioClient | 'refused' | undefined> {
    const tokenFile = stateFile(home, 'studioToken');
    let token: string;
    try {
      const st = fs.statSync(tokenFile);
      if ((st.mode & 0o077) !== 0) throw new CliError(`${tokenFile} is readable by other users; run: chmod 600 ${tokenFile}`);
      token = fs.readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      if (err instanceof CliError) throw err;
      return undefined; // no studio has ever run with this state folder
    }
    // The token never leaves this process (twenty-ninth pass): whatever answers at `base` (an
    // address planted in AIRLOCK_STUDIO, a listener on a port the studio left) first proves it
    // holds the token over a nonce of ours; then this side proves it holds it too.
    const clientNonce = crypto.randomBytes(24).toString('base64url');
    let res: Response;
    try {
      res = await fetch(`${base}/api/login/challenge`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_nonce: clientNonce }),
        signal: AbortSignal.timeout(3000),
      });
    } catch {
      return undefined;
    }
    const challenge = res.ok ? ((await res.json().catch(() => ({}))) as { server_nonce?: unknown; proof?: unknown }) : {};
    const serverNonce = challenge.server_nonce;
    if (!loginNonce(serverNonce) || typeof challenge.proof !== 'string' || !tokensEqual(challenge.proof, loginProof(token, STUDIO_PROOF, clientNonce, serverNonce))) {
      // Not this state folder's studio (or not a studio): it learns nothing, and nothing is sent.
      return 'refused';
    }
    try {
      res = await fetch(`${base}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_nonce: clientNonce, server_nonce: serverNonce, proof: loginProof(token, CLI_PROOF, clientNonce, serverNonce) }),
        signal: AbortSignal.timeout(3000),
      });
    } catch {
      return undefined;
    }
    if (res.status === 401) return 'refused';
    if (!res.ok) throw new CliError(`the studio at ${base} answered ${res.status} to login: ${await errorText(res)}`);
    const body = (await res.json()) as { csrf?: string };
    const cookie = (res.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
    if (!body.csrf || !cookie) throw new CliError(`the studio at ${base} did not open a session`);
    return new StudioClient(base, cookie, body.csrf);
  }

  async call<T>(method: string, url: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${url}`, {
        method,
        headers: { cookie: this.cookie, 'x-airlock-csrf': this.csrf, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new CliError(`the studio at ${this.base} did not answer: ${(err as Error).message}`);
    }
    if (!res.ok) throw new CliError(await errorText(res));
    return (await res.json()) as T;
  }
}

async function errorText(res: Response): Promise<string> {
  try {
    const b = (await res.json()) as { error?: string };
    return b.error ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status}`;
  }
}

export interface CommonOpts {
  home?: string;
  studio?: string;
}

/**
 * The channel to use: the running studio's API, or the state files when Airlock is not running.
 * `write` refuses the file channel while Airlock runs (the running process would not see it).
 */
export async function channel(opts: CommonOpts, write: boolean): Promise<{ kind: 'rest'; client: StudioClient } | { kind: 'file'; home: string }> {
  const home = resolveHome(opts.home);
  const running = await airlockRunning(home);
  // Logging in sends the admin token. It goes only to the studio of the Airlock running on this
  // state folder (runtime.json says where) or to an address the person named (--studio,
  // AIRLOCK_STUDIO): the configured or default address (127.0.0.1:8081) with no Airlock behind it
  // may be anyone's listener, another user's or an agent's, and would receive the token.
  const named = opts.studio ?? (process.env.AIRLOCK_STUDIO || undefined);
  const spec = named ?? (running ? readRuntimeInfo(home)?.studio : undefined);
  const base = studioUrl(home, spec);
  const client = spec ? await StudioClient.connect(base, home) : undefined;
  if (client instanceof StudioClient) {
    // A studio running without a proxy in its process (policy editing only) has no approvals.
    const probe = await client.call<{ available?: boolean }>('GET', '/api/approvals?status=pending');
    if (probe.available !== false) return { kind: 'rest', client };
  }
  if (client === 'refused' && (running || named)) {
    throw new CliError(`the studio at ${base} does not hold the admin token in ${stateFile(home, 'studioToken')} (another state folder's studio, or not a studio): nothing was sent to it; pass --studio HOST:PORT of this state folder's studio`);
  }
  if (running) {
    if (write) throw new CliError(`Airlock is running with ${home} but ${spec ? `its studio is not reachable at ${base}` : 'without a studio'}; pass --studio HOST:PORT (or start it with a studio) so the running proxy sees the change`);
  }
  if (!fs.existsSync(home)) throw new CliError(`no state folder at ${home} (pass --home or set AIRLOCK_HOME)`);
  return { kind: 'file', home };
}
