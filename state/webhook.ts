// Webhook notifications for new approvals, so a user can route them to chat. Fire and forget: the
// approval never waits on the webhook. Failed deliveries (network errors, 408/429/5xx) are retried
// with exponential backoff and jitter; the queue is bounded so a dead endpoint cannot grow memory.
// Payloads carry a summary only (no headers, no body, no query string): nothing secret.
//
// Events wait per agent and are sent agents taking turns (sixteenth pass): one queue for all, first
// come first served, put one agent's burst of 50 held requests ahead of a neighbour's, and with an
// endpoint taking seconds (a chat relay under load, timeouts retried) the person heard of the
// neighbour's request a minute later, its hold over. Past the bound the agent with the most
// waiting loses its oldest, never another agent's only one.

export interface WebhookOptions {
  url: string;
  /** Delivery attempts per event (default 5). */
  attempts?: number;
  /** First retry delay (ms, default 1000); doubles each attempt. */
  baseDelayMs?: number;
  /** Per-attempt timeout (ms, default 5000). */
  timeoutMs?: number;
  /** Events waiting for delivery before the oldest is dropped (default 100). */
  maxQueue?: number;
  fetch?: typeof fetch;
  /** Where delivery failures are reported (default stderr). */
  log?: (line: string) => void;
}

export class WebhookError extends Error {}

/** Validates a webhook URL: http(s), no userinfo in logs (kept, but never printed). */
export function checkWebhookUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new WebhookError(`webhook URL is not a valid URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new WebhookError('webhook URL must be http:// or https://');
  return u;
}

/** The URL as safe to print: origin + path, no credentials, no query (chat webhooks put tokens there). */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.length > 1 ? '/…' : '/'}`;
  } catch {
    return '(invalid URL)';
  }
}

interface Queued {
  body: string;
  attempt: number;
  key: string;
}

export class WebhookNotifier {
  /** Waiting events per key (the agent); the Map's order is the turn order (a served key moves to the back). */
  private readonly queues = new Map<string, Queued[]>();
  private queued = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private inflight = 0;
  private closed = false;
  private readonly aborts = new Set<AbortController>();
  /** Delivered and failed counts (for status and tests). */
  readonly stats = { delivered: 0, failed: 0, dropped: 0, attempts: 0 };

  constructor(private readonly opts: WebhookOptions) {
    checkWebhookUrl(opts.url);
  }

  /** Queues one event for delivery (`key`: whose turn it waits in, the agent); returns immediately. */
  notify(payload: unknown, key = keyOf(payload)): void {
    if (this.closed) return;
    const max = this.opts.maxQueue ?? 100;
    if (this.queued >= max) {
      // The oldest event of the agent with the most waiting goes.
      let longest: Queued[] | undefined;
      for (const q of this.queues.values()) if (!longest || q.length > longest.length) longest = q;
      longest?.shift();
      this.queued--;
      this.stats.dropped++;
    }
    this.enqueue({ body: JSON.stringify(payload), attempt: 0, key });
    this.pump();
  }

  private enqueue(item: Queued): void {
    const q = this.queues.get(item.key);
    if (q) q.push(item);
    else this.queues.set(item.key, [item]);
    this.queued++;
  }

  /** The next event in turn: the first key's oldest; that key goes to the back of the turn order. */
  private take(): Queued | undefined {
    for (const [key, q] of this.queues) {
      this.queues.delete(key);
      const item = q.shift();
      if (q.length) this.queues.set(key, q);
      if (!item) continue;
      this.queued--;
      return item;
    }
    return undefined;
  }

  private pump(): void {
    while (!this.closed && this.inflight < 4 && this.queued > 0) {
      const item = this.take();
      if (!item) return;
      this.inflight++;
      void this.send(item).finally(() => {
        this.inflight--;
        this.pump();
      });
    }
  }

  private async send(item: Queued): Promise<void> {
    const doFetch = this.opts.fetch ?? fetch;
    const ac = new AbortController();
    this.aborts.add(ac);
    const timer = setTimeout(() => ac.abort(), this.opts.timeoutMs ?? 5000);
    let retry = false;
    let why = '';
    this.stats.attempts++;
    try {
      const res = await doFetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'airlock-webhook/1' },
        body: item.body,
        signal: ac.signal,
        redirect: 'manual',
      });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) {
        this.stats.delivered++;
        return;
      }
      why = `HTTP ${res.status}`;
      retry = res.status === 408 || res.status === 429 || res.status >= 500;
    } catch (err) {
      why = (err as Error).name === 'AbortError' ? 'timed out' : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
      retry = true;
    } finally {
      clearTimeout(timer);
      this.aborts.delete(ac);
    }
    const attempts = this.opts.attempts ?? 5;
    if (retry && item.attempt + 1 < attempts && !this.closed) {
      const base = (this.opts.baseDelayMs ?? 1000) * 2 ** item.attempt;
      const delay = base / 2 + Math.random() * (base / 2);
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (this.closed) return;
        this.enqueue({ ...item, attempt: item.attempt + 1 });
        this.pump();
      }, delay);
      t.unref();
      this.timers.add(t);
      return;
    }
    this.stats.failed++;
    (this.opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(
      `airlock: approval webhook ${displayUrl(this.opts.url)} failed after ${item.attempt + 1} attempt(s): ${why}`,
    );
  }

  /** Resolves once nothing is queued, in flight or waiting for a retry (tests), or after `maxMs`. */
  async idle(maxMs = 10_000): Promise<void> {
    const until = Date.now() + maxMs;
    while ((this.queued || this.inflight || this.timers.size) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const ac of this.aborts) ac.abort();
    this.queues.clear();
    this.queued = 0;
  }
}

/** Whose turn an event waits in: the approval's agent (events of no agent share one turn). */
function keyOf(payload: unknown): string {
  const agent = (payload as { approval?: { agent?: unknown } } | undefined)?.approval?.agent;
  return typeof agent === 'string' ? agent : '';
}

/**
 * The webhook for new approvals as configured right now: `url()` is asked on every event (the
 * config file's `approvalWebhook`, AIRLOCK_APPROVAL_WEBHOOK, or `airlock approvals webhook URL`,
 * which may change while Airlock runs); a new URL gets a new notifier, an unusable one a warning.
 */
export class WebhookChannel {
  private hook: WebhookNotifier | undefined;
  private hookUrl: string | undefined;

  constructor(private readonly url: () => string | undefined, private readonly warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}

  notify(event: unknown): void {
    const url = this.url();
    if (!url) return;
    if (url !== this.hookUrl) {
      this.hook?.close();
      this.hookUrl = url;
      try {
        this.hook = new WebhookNotifier({ url });
      } catch (err) {
        this.hook = undefined;
        this.warn(`airlock: approval webhook not used: ${(err as Error).message}`);
      }
    }
    this.hook?.notify(event);
  }

  close(): void {
    this.hook?.close();
  }
}
