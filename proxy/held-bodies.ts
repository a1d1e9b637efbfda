// The bodies of requests held for approval, exactly as the agent sent them (up to the capture cap),
// for as long as they are held: the studio shows a person the whole body before they approve it.
// Nothing here is written down, and an entry only points at the buffer the proxy keeps for the
// held request anyway, so it costs no memory of its own. When the hold ends the entry goes.
export interface HeldBody {
  bytes: Buffer;
  /** True when the agent sent more than the capture cap: `bytes` is only the start. */
  truncated: boolean;
  contentType: string;
  /**
   * The values of the cookies neither named nor shaped as a session or credential (describe heldCookieValues),
   * which the description keeps `[redacted]`: shown on the card while held, never written down.
   */
  cookies?: Array<[string, string]>;
}

export class HeldBodies {
  private readonly held = new Map<string, { body: HeldBody; holders: number }>();

  /** Registers the body of a request held on approval `id`; call the returned function when the hold ends. */
  hold(id: string, body: HeldBody): () => void {
    const entry = this.held.get(id);
    // A retry held on the same approval carries the identical body (bound by its hash): keep one.
    if (entry) entry.holders++;
    else this.held.set(id, { body, holders: 1 });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const e = this.held.get(id);
      if (e && --e.holders <= 0) this.held.delete(id);
    };
  }

  get(id: string): HeldBody | undefined {
    return this.held.get(id)?.body;
  }

  get size(): number {
    return this.held.size;
  }
}
