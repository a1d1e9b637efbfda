// Approvals inbox: held requests, live over the WebSocket. Approve once, deny with a message, or
// allow similar requests for N minutes; a TOTP code when the approval needs step-up.
//
// A person must approve exactly the request they looked at:
// - Cards are keyed by approval id (lit `repeat`): a card's DOM, focus and typed inputs stay with its
//   approval whatever arrives or leaves. New approvals go to the bottom, so nothing moves up under
//   the pointer when one arrives; focus never moves onto another approval's button.
// - An action on a card that changed (arrived, moved, or its content changed) in the last
//   GUARD_MS is ignored and the card says so: the pointer or key may have been aimed at what was
//   there before.
// - The body is shown whole (held requests' bytes come from the proxy), or the card says what is
//   cut and approving needs an explicit "approve without seeing all of it".
// - Approvals whose hold ended (timeout, the agent went away) stay approvable for the agent's retry
//   and are listed under "Waiting for the agent to retry" with the same actions.
import { html, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { ApiError, api, live } from './api.ts';
import { LightElement, announce, dayTime, errorText, json, timeText, toast } from './base.ts';
import { base64Sections } from './base64-text.ts';
import { forwardedHosts, oneHeaderNames } from './forwarded-hosts.ts';
import { aspNetReading, phpReading, rackReading } from './param-names.ts';
import { LOOKALIKE_PARTS, lookalikes, type Lookalike } from './lookalikes.ts';
import { hostEnd, shortHost } from './host-end.ts';
import { laterCauses } from './later-causes.ts';
import { grantScopeText, grantTiesText } from './grant-scope.ts';
import { base64Bytes, bytesText, hexDump, lineCount, textBlock, visibleLine as vis, visibleString } from './body-view.ts';
import type {
  ApprovalAnswer, ApprovalView as Approval, ApprovalsAnswer, ApproveBody, DenyBody, ErrorAnswer, GrantBody, GrantRecord as Grant, GrantRevokedAnswer, GrantsAnswer, HeldBodyAnswer as LoadedBody,
  LiveEvents, ResolveAnswer, AgentSessionAnswer, TimelineEntry,
} from '../api/wire.ts';

/** An action on a card that changed less than this long ago is ignored. */
export const GUARD_MS = 700;

/**
 * When the person pressed the key or button behind `e`: its time stamp (the browser's, when the
 * input arrived), not the clock when the page got to it. A page busy for a while (a flood of rows, a
 * large card) handles a press late, after it moved the cards; measured at handling, a press made on
 * what was on screen before counted as made long after the move (twentieth pass).
 */
function inputTime(e?: Event): number {
  const now = performance.now();
  return e && e.isTrusted && e.timeStamp > 0 ? Math.min(now, e.timeStamp) : now;
}
/**
 * A field being typed in can lose focus without the person moving it: its card was decided
 * elsewhere and left, or moved between the sections. Letters typed on less than this long after the
 * last one are still typing, not shortcuts — "just ask me" would otherwise select a card (J) and
 * approve it (A). Moving focus on purpose (Tab, Enter, Escape, a click, a focus) ends the typing.
 */
const TYPING_MS = 1200;
/** Bodies up to this size are loaded with the card; larger ones on request. */
const AUTOLOAD_BYTES = 64 * 1024;
/** Binary bodies are dumped in hex up to this size; past it the card offers a download. */
const HEX_BYTES = 256 * 1024;

type Kind = 'approve' | 'deny' | 'grant';

/** Headers of the message's framing that Airlock sets or strips itself: not shown on the card. */
const FRAMING_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'airlock-approval']);

/** What the page keeps per approval: typed inputs, the loaded body, errors, when it last changed. */
interface CardState {
  message: string;
  minutes: string;
  totp: string;
  /** "Approve without seeing all of it" ticked. */
  ack: boolean;
  error: string;
  errorField: '' | 'totp';
  busy: boolean;
  body?: { loading: boolean; data?: LoadedBody; bytes?: Uint8Array; error?: string; downloaded?: boolean };
  /** A body box is longer than it is tall: "Show all of it" is offered. */
  overflow?: boolean;
  /**
   * A box longer than it is tall (the bytes as sent, or the server's reading of them) was not
   * scrolled to its end: approving waits for it, or for "Show all of it".
   */
  unread?: boolean;
  /** The boxes (data-box) scrolled to their end. */
  readBoxes?: Set<string>;
  expanded?: boolean;
  changedAt: number;
  /** The card changed and no frame has shown it yet (see measure): every action waits for one. */
  unshown?: boolean;
  sig?: string;
  /** The studio refused the approval as unseen (403 body-not-shown): why, so the card offers the explicit choice. */
  serverUnseen?: string;
  /** The session's timeline (GET /api/sessions/:id), for "why a human is needed": every request that brought a label. */
  why?: { loading: boolean; timeline?: TimelineEntry[]; error?: string };
  /** The reason split into the policy's words and the request's own (reasonPieces), for the reason it was made for. */
  reasonPieces?: { reason: string; pieces: Array<[string, boolean]> };
  /** The whole approval (GET /api/approvals/:id) when the list's copy of its description is shortened. */
  whole?: { loading: boolean; approval?: Approval; error?: string };
}

function agentName(a: Approval): string {
  return visibleString(a.agent || '?');
}

/** The statements of SQL a request carries, each as a tag (destructive ones in red); SQL nobody could read said so. */
function sqlTags(sql: { parsed?: boolean; error?: string; statements?: Array<{ kind: string; tables?: string[]; destructive?: boolean }> }) {
  return html`${(sql.statements ?? []).map((s) => html`<span class="tag ${s.destructive ? 'danger' : ''}">${vis(s.kind)}${s.tables?.length ? html` ${vis(s.tables.join(', '))}` : ''}</span> `)}${
    sql.parsed === false ? html`<span class="tag danger" title=${visibleString(sql.error)}>not readable: treat as destructive</span>` : ''}`;
}

/**
 * The GraphQL operations a request may run, each with its root fields (mutations in red), as the
 * MCP and SQL lines list theirs: a batch's second member, an alias (`viewer: deleteRepository`) or
 * the operation `operationName` selects is said, not left to a reading of the JSON. A body that
 * names no document (a persisted query: the server runs a document it stored under a hash) or
 * cannot be read says so: what it runs is not on the card.
 */
function graphqlTags(g: { parsed?: boolean; error?: string; batch?: number; operations?: Array<{ type?: string; name?: string | null; fields?: string[] }> }) {
  const ops = Array.isArray(g.operations) ? g.operations : [];
  return html`${g.batch ? html`a batch of ${g.batch} requests: ` : ''}${ops.map((o) => html`<span class="tag ${o.type === 'query' ? '' : 'danger'}">${vis(o.type)}${o.name ? html` ${vis(o.name)}` : ''}${o.fields?.length ? html` (${vis(o.fields.join(', '))})` : ''}</span> `)}${
    g.parsed === false ? html`<span class="tag danger" data-testid="graphql-unreadable">what the server runs is not in the request (${vis(g.error ?? 'not readable')}): treat it as any mutation</span>` : ''}`;
}

/** "POST api.example:8443/v1/things": method, host (with a non-default port) and path. */
export function requestLine(a: Approval): string {
  const r = a.description?.request;
  const method = r?.method ?? a.summary?.method ?? '';
  try {
    const u = new URL(r?.url ?? '');
    return visibleString(`${method} ${u.host}${u.pathname}`);
  } catch {
    const s = a.summary;
    return visibleString(`${method} ${r?.host ?? s?.host ?? ''}${r?.path ?? s?.path ?? ''}`);
  }
}


/** requestLine for one-line places: a long host keeps its end (`…bbbb.evil.example`), never its start only. */
export function shortRequestLine(a: Approval): string {
  const r = a.description?.request;
  const method = r?.method ?? a.summary?.method ?? '';
  let host = r?.host ?? a.summary?.host ?? '';
  let rest = r?.path ?? a.summary?.path ?? '';
  let scheme = '';
  try {
    const u = new URL(r?.url ?? '');
    host = u.host;
    rest = u.pathname;
    scheme = `${u.protocol}//`;
  } catch {
    // the record's host and path
  }
  const shown = shortHost(host);
  return visibleString(`${method} ${scheme}${shown}${rest.length > 60 ? `${rest.slice(0, 59)}…` : rest}`);
}

/** The URL line of a card: the whole URL, the end of its host drawn apart (bold) wherever the line wraps. */
function urlLine(url: string | undefined) {
  let u: URL;
  try {
    u = new URL(url ?? '');
  } catch {
    return vis(url);
  }
  const [head, tail] = hostEnd(u.hostname);
  const at = (url ?? '').indexOf(u.hostname);
  if (!tail || !head || at < 0) return vis(url);
  const text = url!;
  return html`${vis(text.slice(0, at))}<span class="host-start">${vis(head)}</span><b class="host-end" title="the host name ends in ${tail}: it is a name of ${tail}">${vis(tail)}</b>${vis(text.slice(at + u.hostname.length))}`;
}

/** `%uXXXX` escapes undone as classic ASP.NET and IIS do (describe/body.ts `percentU`, for the page). */
const percentU = (text: string): string => text.replace(/%[uU]([0-9A-Fa-f]{4})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));

/** At most this many of the request's strings are looked for in a reason, the longest first. */
const QUOTABLE_MAX = 64;

/**
 * Strings the request chose that a policy's reason may quote: MCP tool and method names (any text
 * at all), an Upgrade name, and the readers' errors, which quote the request. The default policy
 * says "MCP tool call(s) X on host: a human must approve": with X = `read_file (read-only; low
 * risk, approved by policy)` the agent writes half of the reason's sentence in the policy's voice.
 */
function quotable(a: Approval): string[] {
  const d = a.description ?? {};
  const out = new Set<string>();
  const add = (v: unknown) => typeof v === 'string' && v.length >= 2 && out.add(v);
  const mcp = d.mcp;
  for (const c of mcp ? (Array.isArray(mcp.batch) ? mcp.batch : [mcp]) : []) {
    add(c?.tool);
    add(c?.method);
  }
  add(d.request?.upgrade);
  add(d.request?.method_override?.reason);
  add(d.sql?.error);
  add(d.graphql?.error);
  return [...out].sort((x, y) => y.length - x.length).slice(0, QUOTABLE_MAX);
}

/**
 * The reason with every stretch of it that is the request's own text (see quotable) set apart as a
 * quotation: where the policy's words end and the agent's begin is on the card. Longest first, no
 * overlaps; [text, quoted] pieces in order.
 */
export function reasonPieces(reason: string, strings: string[]): Array<[string, boolean]> {
  const spans: Array<[number, number]> = [];
  const wordChar = /[\p{L}\p{N}_]/u;
  // Not inside a word of the policy's: a tool named `ll` is not the end of "call".
  const alone = (at: number, q: string): boolean =>
    !(wordChar.test(q[0]!) && at > 0 && wordChar.test(reason[at - 1]!)) && !(wordChar.test(q[q.length - 1]!) && wordChar.test(reason[at + q.length] ?? ''));
  for (const q of strings) {
    for (let at = reason.indexOf(q), n = 0; at >= 0 && n < 100; at = reason.indexOf(q, at + 1), n++) {
      if (alone(at, q) && !spans.some(([s, e]) => at < e && at + q.length > s)) spans.push([at, at + q.length]);
    }
  }
  spans.sort((x, y) => x[0] - y[0]);
  const out: Array<[string, boolean]> = [];
  let last = 0;
  for (const [s, e] of spans) {
    if (s > last) out.push([reason.slice(last, s), false]);
    out.push([reason.slice(s, e), true]);
    last = e;
  }
  if (last < reason.length) out.push([reason.slice(last), false]);
  return out;
}

/** The API says whether a TOTP code is needed now (step-up asked for and TOTP enrolled). */
function needsStepUp(a: Approval): boolean {
  return a.needs_step_up;
}

function resolutionText(a: Approval): string {
  const r = a.resolution;
  if (!r) return '';
  return `by ${r.by ?? '?'}${r.grant_id ? ' (grant)' : ''}${r.message ? ` — “${r.message}”` : ''}`;
}

function isPending(a: Approval): boolean {
  return a.status === 'pending';
}

/** What "Allow similar" would let through, in words (see grant-scope.ts), drawn with hidden characters shown. */
const grantScope = (a: Approval): string | undefined => grantScopeText(a, visibleString);

const riskText: Record<string, string> = {
  critical: 'Critical risk',
  high: 'High risk',
  medium: 'Medium risk',
  low: 'Low risk',
};

/** Whether the card shows the whole description yet (part of what counts as the card changing). */
function wholeShown(st: CardState | undefined): number {
  return st?.whole?.approval ? 1 : 0;
}

/**
 * Whether a toast covers the middle of this button: when it goes (by itself, or a click on it), a
 * click meant for the toast lands on the button, which counts as the card changing under the pointer.
 */
function underToast(b: Element): boolean {
  const r = b.getBoundingClientRect();
  if (!r.width) return false;
  return !!document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)?.closest('.toast');
}

/** Whether a card's action row (its last part, under everything it shows) is wholly on screen. */
function actionsOnScreen(card: Element): boolean {
  const r = (card.querySelector('.approval-actions') ?? card).getBoundingClientRect();
  const view = card.closest('main')?.getBoundingClientRect();
  const top = Math.max(0, view?.top ?? 0);
  const bottom = Math.min(window.innerHeight, view?.bottom ?? window.innerHeight);
  return r.height > 0 && r.top >= top && r.bottom <= bottom;
}

function docTop(el: Element): number {
  const main = el.closest('main');
  return Math.round(el.getBoundingClientRect().top + (main?.scrollTop ?? 0) + window.scrollY);
}

function isTyping(el: Element | null): boolean {
  return !!el?.closest('input, textarea, select, [contenteditable=""], [contenteditable=true], dialog');
}

@customElement('approvals-view')
export class ApprovalsView extends LightElement {
  @property({ type: Boolean }) active = false;
  @state() private items: Approval[] = [];
  @state() private unavailable = '';
  @state() private error = '';
  @state() private hint = '';
  @state() private grants: Grant[] = [];
  @state() private now = Date.now();
  @state() private notify = typeof Notification !== 'undefined' ? Notification.permission : 'unsupported';
  private readonly cards = new Map<string, CardState>();
  /** Waiting approvals that look alike (see lookalikes), and the waiting set they were computed for. */
  private alike = new Map<string, Lookalike>();
  private alikeKey = '';
  /** The field letters were last typed into, until focus moves on purpose (see TYPING_MS). */
  private typedIn: Element | undefined;
  /** When the last letter was typed into it, or ignored as typing after it lost focus. */
  private typedAt = -Infinity;
  /** This view moves focus itself (to the list, after a card left): not the person's choice. */
  private movingFocus = false;
  /** The list was loaded once: later loads announce what arrived while the page was not listening. */
  private loadedOnce = false;
  /** Approvals whose end this page already announced. */
  private readonly told = new Set<string>();
  /** Approval events that arrive while the list loads: applied over the loaded list (it may be older). */
  private buffered: Array<LiveEvents['approval']> | undefined;
  private tick: number | undefined;
  private measureTimer: number | undefined;
  /** The first list was shown (see load): the cards came up then. */
  private shownFirst = false;
  /** When the window or tab last came to the front (see onWindowShown). */
  private shownAt = -Infinity;
  /** The run of keys being typed (each less than TYPING_MS after the one before): when it began, its last key. */
  private keyRunStart = -Infinity;
  private keyRunLast = -Infinity;
  /** The run of pointer presses (each less than GUARD_MS after the one before): when it began, its last press. */
  private pointerRunStart = -Infinity;
  private pointerRunLast = -Infinity;
  /** The page's size and scroll position at the last measure (see measure). */
  private pageSize: string | undefined;
  private pageScroll: string | undefined;
  private hintTimer: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // A studio that has just loaded came to the front as much as one brought up: a page the agent
    // serves opens it (window.open) while the person types or clicks there, and no focus event
    // reaches this view (made once the session resumes), so the guards had nothing to measure from.
    // Its cards come up when the first list is in (load).
    this.shownAt = performance.now();
    void this.load();
    live.on('approval', (d) => this.onEvent(d));
    live.addEventListener('grants', () => void this.loadGrants());
    live.addEventListener('resync', () => void this.load());
    window.addEventListener('keydown', this.onKey);
    window.addEventListener('airlock-focus-returned', this.onFocusReturned);
    window.addEventListener('focus', this.onWindowShown);
    window.addEventListener('pageshow', this.onWindowShown);
    document.addEventListener('visibilitychange', this.onWindowShown);
    document.addEventListener('focusin', this.onFocusIn);
    document.addEventListener('pointerdown', this.onPointerDown, true);
    window.addEventListener('airlock-show-approval', (e) => void this.show((e as CustomEvent<string>).detail));
    this.tick = window.setInterval(() => {
      this.now = Date.now();
      // Past the retry window an approval can no longer be used: it leaves the inbox.
      if (this.items.some((a) => isPending(a) && a.retry_until && Date.parse(a.retry_until) < this.now)) this.publish();
    }, 1000);
    // Layout can move under the pointer without this view re-rendering (a banner above it).
    this.measureTimer = window.setInterval(() => this.active && !document.hidden && this.measure(), 100);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.tick);
    clearInterval(this.measureTimer);
    window.removeEventListener('keydown', this.onKey);
    window.removeEventListener('airlock-focus-returned', this.onFocusReturned);
    window.removeEventListener('focus', this.onWindowShown);
    window.removeEventListener('pageshow', this.onWindowShown);
    document.removeEventListener('visibilitychange', this.onWindowShown);
    document.removeEventListener('focusin', this.onFocusIn);
    document.removeEventListener('pointerdown', this.onPointerDown, true);
  }

  /** Focus came back from a dialog (the login in place): never onto an approval's action. */
  private readonly onFocusReturned = (): void => {
    if (document.activeElement?.closest('[data-approval]')) this.querySelector<HTMLElement>('#approval-list')?.focus();
  };

  /**
   * The studio's window or tab came to the front. A page the agent serves (a dev server the person
   * opens) knows where the studio is and what it looks like: it can load it behind a window of its
   * own and close that window between the two clicks of a double click it asks for, so the second
   * lands on a card's button ("double-clickjacking": no frame, so frame-ancestors does not stop it).
   * Actions right after the window came to the front are not taken.
   */
  private readonly onWindowShown = (e: Event): void => {
    if (e.type === 'focus' && e.target !== window) return;
    if (document.visibilityState === 'visible') this.shownAt = performance.now();
  };

  /** Focus moved on purpose (by the person, or a script acting for them): typing has ended. */
  private readonly onFocusIn = (e: FocusEvent): void => {
    if (!this.movingFocus && this.typedIn && !this.typedIn.contains(e.target as Node)) this.typedIn = undefined;
  };

  private readonly onPointerDown = (e: Event): void => {
    this.typedIn = undefined;
    const t = inputTime(e);
    if (t - this.pointerRunLast >= GUARD_MS) this.pointerRunStart = t;
    this.pointerRunLast = t;
  };

  /** Puts focus on the list after a card left (not the person's choice: typing goes on). */
  private focusList(): void {
    this.movingFocus = true;
    try {
      this.querySelector<HTMLElement>('#approval-list')?.focus();
    } finally {
      this.movingFocus = false;
    }
  }

  protected override updated(): void {
    this.measure();
  }

  private card(id: string): CardState {
    let s = this.cards.get(id);
    if (!s) {
      s = { message: '', minutes: '15', totp: '', ack: false, error: '', errorField: '', busy: false, changedAt: performance.now() };
      this.cards.set(id, s);
    }
    return s;
  }

  /** Records, per card, when its buttons last moved on the page or its content last changed. */
  private measure(): void {
    const t = performance.now();
    // Positions are measured in the page, so the person's own scrolling changes nothing. But the
    // page can scroll by itself: when the list gets shorter at its end (a card decided elsewhere),
    // the browser clamps the scroll position and the cards above slide under the pointer without
    // moving in the page. A scroll that comes with a change of the page's size is such a shift:
    // every card counts as changed.
    const main = this.closest('main') ?? document.querySelector('main');
    const size = `${main?.scrollHeight}|${main?.clientHeight}|${document.documentElement.scrollHeight}|${window.innerHeight}`;
    const scroll = `${main?.scrollTop}|${window.scrollY}`;
    const shifted = this.pageSize !== undefined && size !== this.pageSize && scroll !== this.pageScroll;
    this.pageSize = size;
    this.pageScroll = scroll;
    for (const el of this.querySelectorAll<HTMLElement>('[data-approval]')) {
      const id = el.dataset.approval!;
      const a = this.items.find((x) => x.id === id);
      const actions = el.querySelector('.approval-actions') ?? el;
      // Where each button is (across, too: a field appearing before "Approve once" shifts it sideways).
      const across = [...actions.querySelectorAll('button')].map((b) => `${Math.round(b.getBoundingClientRect().left)}${underToast(b) ? 't' : ''}`).join(',');
      const sig = `${docTop(actions)}|${across}|${el.dataset.section}|${a?.needs_step_up}|${a?.risk}|${a?.reason}|${a?.description?.request?.url}|${el.querySelector('.approve-blocked') ? 1 : 0}|${wholeShown(this.cards.get(id))}`;
      const st = this.card(id);
      if ((st.sig !== undefined && st.sig !== sig) || shifted) {
        st.changedAt = t;
        // A change counts from the frame that shows it: a busy page paints it late.
        if (!st.unshown) {
          st.unshown = true;
          requestAnimationFrame((frame) => {
            st.unshown = false;
            st.changedAt = Math.max(st.changedAt, frame);
          });
        }
      }
      st.sig = sig;
      const long = st.expanded ? [] : [...el.querySelectorAll<HTMLElement>('.body-text')].filter((box) => box.scrollHeight > box.clientHeight + 2);
      const overflow = long.length > 0;
      const unread = long.some((box) => !st.readBoxes?.has(box.dataset.box ?? ''));
      if (overflow !== !!st.overflow || unread !== !!st.unread) {
        st.overflow = overflow;
        st.unread = unread;
        this.requestUpdate();
      }
    }
  }

  /** Brings one approval into view (a link from Traffic): its card, or its line under "Recently resolved". */
  private async show(id: string): Promise<void> {
    if (!this.items.some((a) => a.id === id)) await this.load();
    await this.updateComplete;
    // The page becomes visible with the route change: wait for layout.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const el = this.querySelector<HTMLElement>(`[data-approval="${id}"]`) ?? this.querySelector<HTMLElement>(`[data-resolved="${id}"]`);
    if (!el) return toast(`Approval ${id} is no longer kept`, 'info');
    el.scrollIntoView({ block: 'center' });
    el.focus();
  }

  private waiting(a: Approval): boolean {
    // Held again past its first hold: the agent retried with Airlock-Approval and waits now.
    return a.held === false || (a.held !== true && !!a.expires && Date.parse(a.expires) <= this.now);
  }

  private pending(): Approval[] {
    return this.items
      .filter((a) => isPending(a) && (!a.retry_until || Date.parse(a.retry_until) > this.now))
      .sort((x, y) => (x.created ?? '').localeCompare(y.created ?? ''));
  }

  /** Resolved (or expired) approvals, most recently resolved first. */
  private resolved(): Approval[] {
    const at = (a: Approval) => (a.resolution as { at?: string } | undefined)?.at ?? a.created ?? '';
    return this.items.filter((a) => !isPending(a)).sort((x, y) => at(y).localeCompare(at(x)));
  }

  private publish(): void {
    const pending = this.pending();
    // Bounded over a long session: every pending approval, the newest 200 resolved ones, and
    // per-card state only for cards on screen.
    const resolved = this.resolved();
    if (resolved.length > 200) {
      const keep = new Set(resolved.slice(0, 200));
      this.items = this.items.filter((a) => isPending(a) || keep.has(a));
    }
    const ids = new Set(pending.map((a) => a.id));
    for (const id of this.cards.keys()) if (!ids.has(id)) this.cards.delete(id);
    window.dispatchEvent(new CustomEvent('airlock-pending', { detail: pending.length }));
  }

  private async load(): Promise<void> {
    const buffered: Array<LiveEvents['approval']> = [];
    this.buffered = buffered;
    try {
      const r = await api<ApprovalsAnswer>('GET', '/api/approvals');
      if (this.buffered !== buffered) return; // a newer load is under way
      const before = new Set(this.pending().map((a) => a.id));
      const known = new Set(this.items.map((a) => a.id));
      this.items = r.available ? r.approvals : [];
      // Decided while this page was not listening (a reconnect, a login again): say which; and
      // announce what arrived meanwhile, as if it had come live (not on the page's first load).
      for (const a of this.items) {
        if (before.has(a.id) && !isPending(a)) this.decidedElsewhere(a);
        else if (this.loadedOnce && !known.has(a.id) && isPending(a)) this.announceNew(a);
      }
      this.loadedOnce = true;
      // Events that came while the answer was on its way are newer than it (or the same): a request
      // that arrived meanwhile must not vanish, nor one decided meanwhile come back.
      for (const d of buffered) this.merge(d.approval);
      this.unavailable = r.available ? '' : `Not available: ${r.reason}`;
      this.error = '';
      for (const a of this.items) this.maybeLoadBody(a);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 503)) this.unavailable = err.status === 404 ? 'Approvals are not part of this build yet.' : errorText(err);
      else this.error = errorText(err);
    } finally {
      if (this.buffered === buffered) this.buffered = undefined;
    }
    const first = !this.shownFirst;
    this.shownFirst = true;
    this.publish();
    if (first) this.shownAt = performance.now(); // the cards came up (connectedCallback)
    void this.loadGrants();
  }

  private async loadGrants(): Promise<void> {
    try {
      const r = await api<GrantsAnswer>('GET', '/api/grants');
      this.grants = r.available ? r.grants : [];
    } catch {
      this.grants = [];
    }
  }

  private async revoke(g: Grant): Promise<void> {
    try {
      await api<GrantRevokedAnswer>('DELETE', `/api/grants/${encodeURIComponent(g.id)}`);
      toast('Grant revoked', 'ok');
      void this.loadGrants();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  private onEvent(d: LiveEvents['approval']): void {
    this.buffered?.push(d);
    const a = d.approval;
    // Held again: its bytes can be shown now, so the studio's earlier "not shown" no longer stands.
    if (d.event === 'held') delete this.cards.get(a.id)?.serverUnseen;
    const before = this.items.find((x) => x.id === a.id);
    this.merge(a);
    if (!before && isPending(a)) this.announceNew(a);
    if (before && isPending(before) && !isPending(a)) this.decidedElsewhere(a);
    if (d.event === 'released' && isPending(a)) announce(`The agent stopped waiting for ${requestLine(a)}. It can still be approved for the agent's retry.`);
    this.maybeLoadBody(a);
    this.publish();
  }

  /** Remembers that the page said how this approval ended (one toast per approval). */
  private tell(id: string): void {
    if (this.told.size > 1000) this.told.clear();
    this.told.add(id);
  }

  private merge(a: Approval): void {
    const known = this.items.findIndex((x) => x.id === a.id);
    if (known >= 0) this.items = this.items.map((x, i) => (i === known ? { ...x, ...a } : x));
    else this.items = [...this.items, a];
  }

  /**
   * A card left because it was decided somewhere else (another tab, the CLI, the API) or expired:
   * say which request and how, and if focus was on it, put it on the list — never on another card.
   */
  private decidedElsewhere(a: Approval): void {
    const st = this.cards.get(a.id);
    if (st?.busy || this.told.has(a.id)) return; // this page's own action: its answer says what happened
    this.tell(a.id);
    const by = a.resolution?.by;
    const how = a.status === 'approved' ? 'Approved elsewhere' : a.status === 'denied' ? 'Denied elsewhere' : 'Expired';
    const text = `${how}${by && by !== 'timeout' ? ` (by ${by})` : ''}: ${requestLine(a)} (agent ${agentName(a)})`;
    toast(text, 'info');
    announce(text);
    const el = this.querySelector(`[data-approval="${a.id}"]`);
    if (el && (el.contains(document.activeElement) || document.activeElement === el)) {
      void this.updateComplete.then(() => this.focusList());
    }
  }

  private announceNew(a: Approval): void {
    announce(`New approval needed: ${riskText[a.risk ?? 'medium'] ?? a.risk}, ${agentName(a)}: ${requestLine(a)}`);
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || (document.hasFocus() && this.active)) return;
    const n = new Notification('Airlock: approval needed', { body: `${agentName(a)}: ${shortRequestLine(a)}\n${visibleString(a.reason)}`, tag: a.id });
    n.onclick = () => {
      window.focus();
      location.hash = '#/approvals';
    };
  }

  private async askNotify(): Promise<void> {
    if (typeof Notification === 'undefined') return;
    this.notify = await Notification.requestPermission();
  }

  // ---- the body -----------------------------------------------------------------------------

  /**
   * Loads the held request's bytes with the card (up to AUTOLOAD_BYTES): exactly what was sent, even
   * where the record holds it parsed (a parsed JSON body would hide a duplicate key).
   */
  private maybeLoadBody(a: Approval): void {
    this.maybeLoadWhole(a);
    this.maybeLoadWhy(a);
    const v = a.body_view;
    if (!v || !isPending(a) || !v.available || v.visibility === 'empty') return;
    const st = this.card(a.id);
    if (st.body?.data || st.body?.loading) return;
    if ((v.captured ?? v.size) > AUTOLOAD_BYTES) return; // large: on request
    void this.loadBody(a);
  }

  /**
   * The list and its events carry a shortened copy of a large description (a long URL, a large
   * parsed body): the card fetches the whole one, and approving waits for it.
   */
  private maybeLoadWhole(a: Approval): void {
    if (!isPending(a) || a.description_complete !== false) return;
    const st = this.card(a.id);
    if (st.whole) return;
    st.whole = { loading: true };
    void api<ApprovalAnswer>('GET', `/api/approvals/${encodeURIComponent(a.id)}`)
      .then((r) => (st.whole = { loading: false, approval: r.approval }))
      .catch((err: unknown) => (st.whole = { loading: false, error: errorText(err) }))
      .finally(() => this.requestUpdate());
  }

  /** The approval as the card shows it: with its whole description once loaded. */
  private shown(a: Approval): Approval {
    const w = this.cards.get(a.id)?.whole?.approval;
    if (!w) return a;
    // Live facts (held, its bytes) come from the latest record; the description from the whole one.
    return { ...a, description: w.description, own_credentials: w.own_credentials, description_complete: true, body_view: { ...w.body_view, available: a.body_view.available, captured: a.body_view.captured } };
  }

  private async loadBody(a: Approval): Promise<void> {
    const st = this.card(a.id);
    st.body = { loading: true };
    this.requestUpdate();
    try {
      const data = await api<LoadedBody>('GET', `/api/approvals/${encodeURIComponent(a.id)}/body`);
      st.body = { loading: false, data, ...(data.base64 !== undefined ? { bytes: base64Bytes(data.base64) } : {}) };
    } catch (err) {
      st.body = { loading: false, error: errorText(err) };
    }
    this.requestUpdate();
  }

  private download(a: Approval): void {
    const st = this.card(a.id);
    const d = st.body?.data;
    if (!d) return;
    const bytes = st.body?.bytes;
    const blob = bytes ? new Blob([bytes as BlobPart], { type: 'application/octet-stream' }) : new Blob([d.text ?? ''], { type: 'text/plain' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `${a.id}-body${d.text !== undefined ? '.txt' : '.bin'}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    st.body!.downloaded = true;
    this.requestUpdate();
  }

  /**
   * Whether the person can see all of the body now. `ok`: they can (or there is none); otherwise
   * `why` says what is missing and `ackable` whether "approve without seeing all of it" is offered.
   */
  private bodyGate(raw: Approval, st: CardState): { ok: boolean; why?: string; ackable: boolean } {
    const a = this.shown(raw);
    if (a.description_complete === false && isPending(a)) {
      return st.whole?.error
        ? { ok: false, why: `the card shows a shortened copy of this request, and the whole one cannot be loaded (${st.whole.error})`, ackable: true }
        : { ok: false, why: 'the card shows a shortened copy of this request: loading all of it', ackable: false };
    }
    const gate = this.bodyShown(a, st);
    // On the card is not yet read: a long body must be scrolled to its end (or shown at full height).
    if (gate.ok && st.unread && !st.expanded) {
      return { ok: false, why: 'the body is longer than its box: scroll it to the end, or show all of it', ackable: false };
    }
    return gate;
  }

  /** Whether the whole body can be on the card now (see bodyGate). */
  private bodyShown(a: Approval, st: CardState): { ok: boolean; why?: string; ackable: boolean } {
    if (st.serverUnseen) return { ok: false, why: st.serverUnseen, ackable: true };
    // A parameter the server may read from a cookie: its value is redacted, so it is never on the card.
    const cookies = Array.isArray(a.description?.request?.cookie_params) ? a.description.request.cookie_params : [];
    if (cookies.length) {
      const held = new Set((Array.isArray(a.held_cookies) && isPending(a) ? a.held_cookies : []).map(([n]) => n));
      const seen = cookies.every((n) => held.has(n));
      return { ok: false, why: `the request carries a cookie named like its parameter ${cookies.map((n) => `"${visibleString(n)}"`).join(', ')}, which the server may read instead of what the card shows${seen ? ' (its value is in the headers below while the request is held)' : ', and cookie values are not shown'}`, ackable: true };
    }
    // Cookies that may say whose account it acts in, whose values the card cannot show (past its bound, cut, or no longer held).
    if (typeof a.cookies_unseen === 'string' && isPending(a)) return { ok: false, why: visibleString(a.cookies_unseen), ackable: true };
    // A handshake is all the card can show of a WebSocket: what goes over it once open is never on a card.
    const upgrade = a.description?.request?.upgrade;
    if (upgrade) {
      return { ok: false, why: `approving opens a ${visibleString(upgrade) === 'websocket' ? 'WebSocket' : `connection upgraded to "${visibleString(upgrade)}"`}: every message the agent then sends over it, for as long as it stays open, leaves without being shown to you or approved`, ackable: true };
    }
    const v = a.body_view;
    // Bytes the server will decode but the studio cannot: what it reads is unknown.
    if (st.body?.data?.decode_error) return { ok: false, why: st.body.data.decode_error, ackable: true };
    // Whole in the record, yet read otherwise than shown (an XML body's own entities): said before "whole".
    if (st.body?.data?.reading_error) return { ok: false, why: visibleString(st.body.data.reading_error), ackable: true };
    const b = a.description?.request?.body;
    if (!v) {
      // An older server: judge from the description.
      if (!b || !b.size) return { ok: true, ackable: false };
      if (b.truncated) return { ok: false, why: 'the body is larger than the capture cap: the rest was never read', ackable: true };
      return b.json !== undefined || b.form !== undefined || (b.text !== undefined && b.text.length >= b.size) ? { ok: true, ackable: false } : { ok: false, why: 'only a preview of the body is shown', ackable: true };
    }
    if (v.visibility === 'empty' || v.visibility === 'whole') return { ok: true, ackable: false };
    if (v.visibility === 'beyond-cap') {
      return { ok: false, why: `the body is ${bytesText(v.size)}, larger than the proxy's capture cap: only the first ${bytesText(v.captured ?? 0)} were ever read, by the policy or by anyone`, ackable: true };
    }
    const data = st.body?.data;
    if (data) {
      if (data.decode_error) return { ok: false, why: data.decode_error, ackable: true };
      if (data.reading_error) return { ok: false, why: visibleString(data.reading_error), ackable: true };
      const shown = data.decoded_size ?? data.captured;
      if (data.text !== undefined || shown <= HEX_BYTES || st.body?.downloaded) return { ok: true, ackable: false };
      return { ok: false, why: `the card shows the first ${bytesText(HEX_BYTES)} of this ${bytesText(shown)} binary body: download it to see the rest`, ackable: true };
    }
    if (v.available) return { ok: false, why: `load the whole body (${bytesText(v.size)}) and read it before approving`, ackable: false };
    if ((b?.ambiguous || b?.json !== undefined || b?.form !== undefined) && v.unseen) return { ok: false, why: visibleString(v.unseen), ackable: true };
    return { ok: false, why: `only a preview of this ${bytesText(v.size)} body is kept once the agent's request is no longer held; it shows whole again when the agent retries`, ackable: true };
  }

  /**
   * What the server runs when it is not the request line: a method override (header, query, form or
   * JSON `_method`) and a path named by X-Original-URL / X-Rewrite-URL (IIS URL Rewrite, Symfony, Zend).
   */
  private renderRunsAs(r: NonNullable<Approval['description']>['request'] | Record<string, never>) {
    const o = r.method_override;
    const headers = r.headers ?? {};
    const rewrites = Object.entries(headers).filter(([n]) => ['x-original-url', 'x-rewrite-url'].includes(n.toLowerCase().replaceAll('_', '-')));
    const hosts = forwardedHosts(headers, r.host, r.port);
    const cookies = Array.isArray(r.cookie_params) ? r.cookie_params : [];
    const alike = oneHeaderNames(headers);
    if (!o && !rewrites.length && !hosts.length && !cookies.length && !alike.length) return nothing;
    return html`${o
        ? html`<p class="warn-text small" data-testid="runs-as" role="note"><b>The server may run this as ${vis(o.values.join(' or ') || '?')}</b>, not ${vis(r.method)}: a method override in ${vis(o.sources.join(', '))}${o.ambiguous ? html` (ambiguous${o.reason ? html`: ${vis(o.reason)}` : ''})` : ''}.</p>`
        : nothing}${rewrites.map(([n, v]) => html`<p class="warn-text small" data-testid="runs-as" role="note"><b>The server may act on <span class="mono">${vis(v.join(', '))}</span></b>, not this path: the ${vis(n)} header names it.</p>`)}${hosts.map(([n, h]) => html`<p class="warn-text small" data-testid="runs-as" role="note"><b>The server may act for host <span class="mono">${vis(h)}</span></b>, not ${vis(r.host)}: the ${vis(n)} header names it (servers that trust forwarding headers serve that host).</p>`)}${cookies.length
        ? html`<p class="warn-text small" data-testid="runs-as" role="note"><b>The server may read ${cookies.map((c, i) => html`${i ? ', ' : ''}<span class="mono">${vis(c)}</span>`)} from a cookie</b>, not from the query or form shown: PHP's <span class="mono">$_REQUEST</span> takes a cookie over both when <span class="mono">request_order</span> is unset (as without a php.ini), classic ASP.NET's <span class="mono">Request[…]</span> where they lack the name. Cookie values are shown only while the request is held, and only those neither named nor shaped as a session or credential.</p>`
        : nothing}${alike.map((names) => html`<p class="warn-text small" data-testid="runs-as" role="note"><b>The server may read ${names.map((n, i) => html`${i ? ' and ' : ''}<span class="mono">${vis(n)}</span>`)} as one header</b>: CGI, PHP-FPM, Python's wsgiref and Rack read every separator alike and take the first or the last of their values, as the order sent decides; the headers below list them apart.</p>`)}`;
  }

  /** The policy's reason, the request's own text in it set apart (reasonPieces), once per reason. */
  private renderReason(a: Approval, st: CardState) {
    const reason = String(a.reason ?? '');
    if (st.reasonPieces?.reason !== reason) st.reasonPieces = { reason, pieces: reasonPieces(reason, quotable(a)) };
    return st.reasonPieces.pieces.map(([text, quoted]) =>
      quoted ? html`<q class="from-request mono" title="text the request chose, quoted by the policy">${vis(text)}</q>` : vis(text));
  }

  /** Other waiting requests that look like this one, and what only this one has (see lookalikes). */
  private renderLookalike(a: Approval) {
    const l = this.alike.get(a.id);
    if (!l) return nothing;
    const n = l.others;
    const others = `${n} other waiting request${n === 1 ? '' : 's'} of this agent ${n === 1 ? 'goes' : 'go'} to the same method, host and path`;
    if (l.partial) {
      return html`<p class="small warn-text lookalike" data-testid="lookalike" role="note">${others}; what tells them apart is compared once their whole requests are loaded.</p>`;
    }
    if (!l.own.length) {
      const same = l.same ? `${l.same === n ? (n === 1 ? 'it is' : 'all of them are') : `${l.same} of them ${l.same === 1 ? 'is' : 'are'}`} this very request (path, query, headers and body)` : 'each of its parts is also on another card';
      return html`<p class="small muted lookalike" data-testid="lookalike" role="note">${others}; ${same}, and each approval lets through only its own request.</p>`;
    }
    const shown = l.own.slice(0, LOOKALIKE_PARTS);
    return html`<p class="warn-text small lookalike" data-testid="lookalike" role="note"><b>${others}, and this one is unlike ${n === 1 ? 'it' : 'every one of them'} in ${shown.map((p, i) => html`${i ? (i === shown.length - 1 && l.own.length <= LOOKALIKE_PARTS ? ' and ' : ', ') : ''}<span class="mono">${vis(p)}</span>`)}${
      l.own.length > shown.length ? ` and ${l.own.length - shown.length} more header${l.own.length - shown.length === 1 ? '' : 's'}` : ''}</b>: read ${l.own.length === 1 ? 'it' : 'them'} before approving.</p>`;
  }

  /**
   * The URL as the server reads it, when it is escaped: `?to=%65vil%40x` is exact but unreadable, and
   * `/v1/%64elete` reads as `delete`. Every value of a repeated key is listed.
   */
  private renderDecodedUrl(r: NonNullable<Approval['description']>['request'] | Record<string, never>) {
    let u: URL;
    try {
      u = new URL(r.url ?? '');
    } catch {
      return nothing;
    }
    // A shortened copy of the description may hold cut values: only arrays of strings are read.
    const path = u.pathname.includes('%') && Array.isArray(r.segments) ? r.segments.map(String) : undefined;
    const query = /[%+]/.test(u.search) && r.query && typeof r.query === 'object'
      ? Object.entries(r.query).flatMap(([k, vs]) => (Array.isArray(vs) ? vs : [vs]).map((v) => [k, String(v)] as const))
      : [];
    // Rack 2 (Rails, Sinatra: GitHub's and Stripe's APIs) splits a query at `;` as at `&`:
    // `?to=boss@corp.example;to=drop@attacker.example` is one odd value elsewhere, two there (the last wins).
    const rack = u.search.includes(';') ? [...new URLSearchParams(u.search.slice(1).replaceAll(';', '&'))] : [];
    // Classic ASP.NET and IIS also undo `%uXXXX`, which other servers leave as text: `?to=%u0064%u0072…`.
    const iis = /%u[0-9a-f]{4}/i.test(u.search) ? [...new URLSearchParams(u.search.slice(1))].map(([k, v]) => [percentU(k), percentU(v)] as const) : [];
    // PHP registers `mail.to`, ` to` and `to[` under other names (`mail_to`, `to`, `to_`) and uses the
    // last of a name; ASP.NET reads `to` and `TO` as one name: the card says which value each uses.
    const params = [...new URLSearchParams(u.search.slice(1))];
    const php = phpReading(params) ?? [];
    const asp = aspNetReading(params) ?? [];
    // Rack 2 drops brackets around a name: `?to=boss@corp.example&[to]=drop@attacker.example` is `to = drop@…` to Rails.
    const rackNames = rackReading([...new URLSearchParams(u.search.slice(1).replaceAll(';', '&'))]) ?? [];
    if (!path && !query.length && !rack.length && !iis.length && !php.length && !asp.length && !rackNames.length) return nothing;
    const pairs = (list: ReadonlyArray<readonly [string, string]>) => list.map(([k, v], i) => html`${i ? ', ' : ''}<span class="mono">${vis(k)} = ${vis(v)}</span>`);
    return html`<p class="small decoded-url" data-testid="decoded-url">As the server reads the URL:${path
        ? html` path segments ${path.map((seg, i) => html`${i ? ' / ' : ''}<span class="mono">${vis(seg)}</span>`)}`
        : nothing}${path && query.length ? ';' : ''}${query.length
        ? html` query ${pairs(query)}`
        : nothing}${rack.length
        ? html`${path || query.length ? ';' : ''} as Rack 2 (Rails, Sinatra) reads the query, <span class="mono">;</span> separating too: ${pairs(rack)}`
        : nothing}${iis.length
        ? html`${path || query.length || rack.length ? ';' : ''} as classic ASP.NET (IIS) reads the query, <span class="mono">%uXXXX</span> undone too: ${pairs(iis)}`
        : nothing}${php.length
        ? html`${path || query.length || rack.length || iis.length ? ';' : ''} <b>as PHP reads the query</b> (a blank before a name dropped, <span class="mono">.</span> and blanks in it read as <span class="mono">_</span>, the last of a repeated name used): ${pairs(php)}`
        : nothing}${rackNames.length
        ? html`${path || query.length || rack.length || iis.length || php.length ? ';' : ''} <b>as Rack 2 (Rails, Sinatra) names the parameters</b> (brackets around a name dropped, the last of a repeated name used): ${pairs(rackNames)}`
        : nothing}${asp.length
        ? html`${path || query.length || rack.length || iis.length || php.length || rackNames.length ? ';' : ''} <b>as ASP.NET reads the query</b> (names in any letter case are one name, its values joined by commas): ${pairs(asp)}`
        : nothing}</p>`;
  }

  /**
   * Whose credentials the request goes out with. Credential headers are shown redacted (`Bearer
   * [redacted]`) whether Airlock writes your secret into them or the agent sent a value of its own
   * (a token an injected prompt handed it: the request then acts as that account — a gist in the
   * attacker's account, a message into the attacker's workspace — while the card looked like yours).
   */
  private renderCredentials(a: Approval) {
    const directives = Array.isArray(a.credentials) ? a.credentials : [];
    const own = Array.isArray(a.own_credentials) ? a.own_credentials : [];
    if (!directives.length && !own.length) return nothing;
    const slot = (c: (typeof directives)[number]) =>
      c.in === 'header' ? html`header <b>${vis(c.name)}</b> (whatever the agent sent there is replaced)` : c.in === 'basic' ? html`HTTP Basic authorization (header <b>authorization</b>)` : c.in === 'query' ? html`query parameter <b>${vis(c.name)}</b>` : html`the body, where its placeholder stands`;
    return html`<div class="small credentials" data-testid="credentials">${directives.map((c) => html`<p>Approving sends your secret <b class="mono">${vis(c.secret)}</b> in ${slot(c)}.</p>`)}${own.length
        ? html`<p class="warn-text" data-testid="own-credential" role="note"><b>The agent sent a credential of its own</b> in ${own.map((n, i) => html`${i ? ', ' : ''}<b class="mono">${vis(n)}</b>`)}: not one of your secrets (a credential header is shown redacted). The request acts as whoever it belongs to${directives.length ? '' : ' (no secret of yours goes with it)'} — data sent this way lands in that account, which may be an attacker's.</p>`
        : nothing}</div>`;
  }

  /**
   * Every header the agent sent that reaches the server: a header can change what the request does
   * (`Stripe-Account` acts for another account, `Destination` names where a WebDAV MOVE goes,
   * `Content-Profile` another database schema). Framing headers Airlock sets itself are left out;
   * credentials are shown redacted, as the description keeps them.
   */
  private renderHeaders(r: NonNullable<Approval['description']>['request'] | Record<string, never>, heldCookies?: Array<[string, string]>) {
    const headers = r.headers && typeof r.headers === 'object' ? Object.entries(r.headers).filter(([n]) => !FRAMING_HEADERS.has(n.toLowerCase())) : [];
    if (!headers.length) return nothing;
    const lines = headers.flatMap(([n, vs]) => (Array.isArray(vs) ? vs : [vs]).map((v) => [n, String(v)] as const));
    // The record keeps every cookie's value redacted; while held, those not named as a session or
    // credential (an account, tenant or region picked beside the session) are shown from memory.
    const cookies = Array.isArray(heldCookies) ? heldCookies.filter((c) => Array.isArray(c) && c.length === 2) : [];
    return html`<ul class="small mono request-headers" data-testid="request-headers" aria-label="Request headers">${lines.map(([n, v]) => html`<li><b>${vis(n)}</b>: ${vis(v)}</li>`)}${
      cookies.length
        ? html`<li data-testid="held-cookies"><span class="muted">cookie values, while held (those neither named nor shaped as a session or credential; never recorded):</span> ${cookies.map(([n, v], i) => html`${i ? '; ' : ''}<b>${vis(String(n))}</b>=${vis(String(v))}`)}</li>`
        : nothing}</ul>`;
  }

  /** "Why a human is needed": the earlier requests of the session that made this one need a human. */
  private renderWhy(a: Approval) {
    if (!a.because?.length) return nothing;
    const labels = a.description?.session?.labels ?? {};
    const sessionId = a.session ?? a.description?.session?.id;
    const st = this.card(a.id);
    const causes = a.because.map((id) => {
      const label = Object.entries(labels).find(([, arr]) => arr.request_id === id);
      return label
        ? html`<li><span class="chip label-${label[0]}">${label[0]}</span> first from request <span class="mono">${id}</span> to <b>${vis(label[1].host)}</b> at ${timeText(label[1].time)}${this.renderLaterCauses(a, label[0], id, st)}</li>`
        : html`<li>request <span class="mono">${id}</span></li>`;
    });
    return html`<div class="why small" data-testid="why" role="note"><b>Why a human is needed:</b> this session read
      <ul>${causes}</ul>and this request can carry data out.
      ${sessionId ? html`<a href="#/sessions/${sessionId}">Session ${sessionId}</a>` : nothing}</div>`;
  }

  /**
   * The session keeps the first request that brought a label; every later one that brought it again
   * (the page that actually injected the agent, after a harmless one) is in its timeline: listed
   * here, each with its URL, so the person judges every source, not the first.
   */
  private renderLaterCauses(a: Approval, label: string, firstId: string, st: CardState) {
    if (!st.why) return html` <span class="muted" data-testid="why-later">(loading the later requests that brought it…)</span>`;
    if (st.why.error) return html` <span class="warn-text" data-testid="why-later">(later requests may have brought it too; the session's timeline cannot be loaded: ${st.why.error})</span>`;
    if (!st.why.timeline) return html` <span class="muted" data-testid="why-later">(loading the later requests that brought it…)</span>`;
    const timeline = st.why.timeline;
    // The session keeps its last requests only (200): past them, the first one is gone from the timeline (see laterCauses).
    const { later, cut } = laterCauses(timeline, firstId, label, a.created);
    const gap = cut
      ? html`<span class="warn-text" data-testid="why-cut">the session keeps only its last ${timeline.length} requests${timeline.length ? html`, from ${timeText(timeline[0]!.time)}` : ''}: any between the first one and those may have brought it again and cannot be listed here (the audit log has them)</span>`
      : nothing;
    if (!later.length) return cut ? html` (${gap})` : html` <span class="muted" data-testid="why-later">(no later request brought it)</span>`;
    const shown = later.slice(-20);
    return html`, and again from ${later.length} later request${later.length === 1 ? '' : 's'}${cut ? html` among the ones kept` : ''}:
      <ul data-testid="why-later">${shown.map((e) => html`<li><span class="mono">${vis(e.method)} ${vis(e.url)}</span> at ${timeText(e.time)}</li>`)}${later.length > shown.length ? html`<li>and ${later.length - shown.length} earlier ones (see the session)</li>` : nothing}${cut ? html`<li>${gap}</li>` : nothing}</ul>`;
  }

  /** The session's timeline for a card held because of what its session read. */
  private maybeLoadWhy(a: Approval): void {
    const id = a.session ?? a.description?.session?.id;
    if (!isPending(a) || !a.because?.length || !id) return;
    const st = this.card(a.id);
    if (st.why) return;
    st.why = { loading: true };
    void api<AgentSessionAnswer>('GET', `/api/sessions/${encodeURIComponent(id)}`)
      .then((r) => (st.why = { loading: false, timeline: Array.isArray(r.session?.timeline) ? r.session.timeline : [] }))
      .catch((err: unknown) => (st.why = { loading: false, error: errorText(err) }))
      .finally(() => this.requestUpdate());
  }

  private renderBody(a: Approval, st: CardState): TemplateResult | typeof nothing {
    const r = a.description?.request ?? {};
    const b = r.body;
    const v = a.body_view;
    const size = v?.size ?? b?.size ?? 0;
    if (!size) return html`<p class="small muted">No body.</p>`;
    const type = b?.content_type || 'no content type';
    const data = st.body?.data;
    if (data) {
      const whole = !data.truncated;
      const coding = data.content_encoding?.length
        ? data.decode_error
          ? `, ${data.content_encoding.join(', ')}-encoded and not decodable: the raw bytes`
          : `, decoded from ${data.content_encoding.join(', ')} (${bytesText(data.captured)} sent) as the server will read it`
        : '';
      const shownBytes = data.decoded_size ?? data.captured;
      const head = whole
        ? `Body: all ${bytesText(shownBytes)} ${data.content_encoding?.length && !data.decode_error ? '' : 'exactly as sent '}(${type})${coding}`
        : `Body: the first ${bytesText(data.captured)} of ${bytesText(data.size)} (${type}) — the rest was never captured${coding}`;
      if (data.text !== undefined) {
        return html`<section class="body-box" aria-label="Request body"><p class="small"><b>${head}</b>, ${lineCount(data.text)} line${lineCount(data.text) === 1 ? '' : 's'}${this.expandToggle(st)}</p>${textBlock(data.text, this.blockOptions(st, 'sent'))}</section>${this.renderReading(data, st)}`;
      }
      const bytes = st.body!.bytes!;
      return html`<section class="body-box" aria-label="Request body"><p class="small"><b>${head}</b>, binary, shown as a hex dump${bytes.length > HEX_BYTES ? html` (first ${bytesText(HEX_BYTES)} on the card)` : nothing}.</p>
        <pre class="mono small body-text hex ${st.expanded ? 'expanded' : ''}" tabindex="0" data-box="sent" @scroll=${this.blockOptions(st, 'sent').onScroll}>${hexDump(bytes, HEX_BYTES)}</pre>
        ${this.expandToggle(st)}
        <button class="ghost small" data-action="download" @click=${() => this.download(a)}>Download all ${bytesText(bytes.length)}${st.body?.downloaded ? ' (downloaded)' : ''}</button></section>${this.renderReading(data, st)}`;
    }
    let preview = '';
    if (b?.json !== undefined) preview = json(b.json);
    else if (b?.form !== undefined) preview = json(b.form);
    else if (b?.text !== undefined) preview = b.text;
    const wholeInRecord = v ? v.visibility === 'whole' : !b?.truncated && (b?.json !== undefined || b?.form !== undefined);
    const loadButton =
      v?.available && !st.body?.loading
        ? html`<button class="small" data-action="load-body" @click=${() => void this.loadBody(a)}>Load the whole body (${bytesText(v.captured ?? size)})</button>`
        : nothing;
    const head = b?.ambiguous && !wholeInRecord && preview
      ? `Body: ${bytesText(size)} (${type}) — servers read it in more than one way; below is one reading of it, not the bytes sent`
      : wholeInRecord
      ? `Body: ${bytesText(size)} (${type})${b?.json !== undefined ? ', parsed JSON' : b?.form !== undefined ? ', parsed form' : ''}, shown whole`
      : (b?.json !== undefined || b?.form !== undefined) && preview
      ? `Body: ${bytesText(size)} (${type}) — the parsed copy the record keeps, not the bytes sent: ${visibleString(v?.unseen ?? 'it may differ from them')}`
      : preview
        ? `Body: a preview of ${Math.min(preview.length, size)} characters of ${bytesText(size)} (${type}) — the rest is not shown`
        : `Body: ${bytesText(size)} (${type}) — not text, nothing of it is in the record`;
    // The parsed copy has its escapes undone already; base64 strings in it are decoded below it.
    const b64 = b?.json !== undefined ? base64Sections(b.json) : b?.form !== undefined ? base64Sections(b.form) : [];
    return html`<section class="body-box" aria-label="Request body"><p class="small"><b>${head}</b></p>
      ${preview ? html`${this.expandToggle(st)}${textBlock(preview, this.blockOptions(st, 'record'))}` : nothing}
      ${st.body?.loading ? html`<p class="small muted">Loading the whole body…</p>` : nothing}
      ${st.body?.error ? html`<p class="small error">Cannot load the body: ${st.body.error}</p>` : nothing}
      ${loadButton}</section>${b64.length ? this.renderReading({ reading: { how: 'base64 strings decoded', text: b64.join('\n') } }, st) : nothing}`;
  }

  /**
   * The body as its server reads it, when that differs from the bytes as sent (form fields and JSON
   * strings with escapes undone, multipart parts decoded, another charset): `to=%64%72%6f%70…` is
   * exact but nobody reads it. Its box must be read to its end as well.
   */
  private renderReading(data: Pick<LoadedBody, 'reading'>, st: CardState, box = 'reading', what = 'body') {
    if (!data.reading) return nothing;
    return html`<section class="body-box reading" aria-label="The ${what} as the server reads it" data-testid=${box === 'reading' ? 'server-reading' : box}>
      <p class="small"><b>${what === 'body' ? 'As the server reads it' : `The ${what} as the server reads it`}</b> (${vis(data.reading.how)}), ${lineCount(data.reading.text)} line${lineCount(data.reading.text) === 1 ? '' : 's'}:</p>
      ${textBlock(data.reading.text, this.blockOptions(st, box))}</section>`;
  }

  /**
   * Query values that are base64 of text (a `?payload=` or `?state=` the server decodes and acts
   * on), decoded as the body's are: exact in the URL line, and unreadable there.
   */
  private renderQueryReading(r: NonNullable<Approval['description']>['request'] | Record<string, never>, st: CardState) {
    const sections = r.query && typeof r.query === 'object' ? base64Sections(r.query) : [];
    if (!sections.length) return nothing;
    return this.renderReading({ reading: { how: 'base64 values decoded', text: sections.join('\n') } }, st, 'query-reading', 'query');
  }

  private blockOptions(st: CardState, box: string) {
    return {
      box,
      expanded: !!st.expanded,
      onScroll: (e: Event) => {
        const el = e.target as HTMLElement;
        if (!st.readBoxes?.has(box) && el.scrollTop + el.clientHeight >= el.scrollHeight - 4) {
          (st.readBoxes ??= new Set()).add(box);
          this.requestUpdate();
        }
      },
    };
  }

  private expandToggle(st: CardState) {
    if (!st.overflow && !st.expanded) return nothing;
    return html` <button class="ghost small" data-action="expand-body" aria-pressed=${!!st.expanded} @click=${() => {
      st.expanded = !st.expanded;
      this.requestUpdate();
    }}>${st.expanded ? 'Show in a box' : 'Show all of it'}</button>`;
  }

  // ---- acting -------------------------------------------------------------------------------

  /** Entry point for every click and key: refuses actions on cards that just changed. */
  private attempt(a: Approval, kind: Kind, e: Event): void {
    const st = this.card(a.id);
    this.measure();
    // Right after the window came to the front, and while a run of keys or clicks that began before
    // it goes on (fromBeforeFront), the person was aiming at the window that was there.
    const t = inputTime(e);
    const run = this.fromBeforeFront(t);
    if (t - this.shownAt < GUARD_MS || run) {
      st.error = `The studio just came to the front (another window or tab was over it)${run ? ` while ${run} were coming` : ''}: nothing was done. Look at this card, then act${run ? ' after a pause' : ''}.`;
      st.errorField = '';
      this.requestUpdate();
      return;
    }
    if (st.unshown || t - st.changedAt < GUARD_MS) {
      st.error = 'This card changed just now (it arrived, moved or was updated): nothing was done. Look at it again, then act.';
      st.errorField = '';
      this.requestUpdate();
      return;
    }
    if (st.busy) return;
    void this.act(a, kind);
  }

  /**
   * Whether the input that triggers an action now (the latest key or pointer press) belongs to a
   * run that began before the window came to the front, or within its first GUARD_MS: it was aimed
   * at the window that was there. A page that brings the studio up while the person types (a Space
   * or Enter on a focused button) or clicks rapidly had those land on a card past the front guard.
   */
  private fromBeforeFront(t: number): 'keys' | 'clicks' | undefined {
    const keyed = this.keyRunLast >= this.pointerRunLast;
    const [start, last, gap] = keyed ? [this.keyRunStart, this.keyRunLast, TYPING_MS] : [this.pointerRunStart, this.pointerRunLast, GUARD_MS];
    if (t - last >= gap || start >= this.shownAt + GUARD_MS) return undefined;
    return keyed ? 'keys' : 'clicks';
  }

  private async act(a: Approval, kind: Kind): Promise<void> {
    const st = this.card(a.id);
    const totp = st.totp.trim() || undefined;
    const message = st.message.trim() || undefined;
    const minutes = Number(st.minutes || 15);
    if (needsStepUp(a) && kind !== 'deny' && !totp) {
      st.error = 'Enter the 6-digit code from your authenticator app: this approval needs step-up.';
      st.errorField = 'totp';
      this.requestUpdate();
      await this.updateComplete;
      this.querySelector<HTMLInputElement>(`[data-approval="${a.id}"] input[name=totp]`)?.focus();
      return;
    }
    const gate = this.bodyGate(a, st);
    const unseenOk = !gate.ok && gate.ackable && st.ack;
    if (kind !== 'deny' && !gate.ok && !unseenOk) {
      st.error = `Not approved: ${gate.why}.`;
      st.errorField = '';
      this.requestUpdate();
      return;
    }
    // What the person saw: the server refuses the action if the approval is bound to anything else.
    const whole = st.whole?.approval?.description.request.body.sha256;
    const seen = { request_hash: a.request_hash, ...(st.body?.data ? { body_sha256: st.body.data.sha256 } : whole ? { body_sha256: whole } : {}) };
    const approval: ApproveBody = { totp, ...seen, ...(unseenOk ? { accept_unseen_body: true } : {}) };
    // A grant for a high-risk request is an explicit choice (the server refuses it otherwise).
    if (kind === 'grant' && a.risk === 'high') {
      // What the grant lets through, as the card says it: on a route Airlock reads no operation on
      // that is every request to the path, whatever its body — not "the same operation".
      if (!window.confirm(`This request is high risk. For ${minutes} min, let through without asking: ${grantScope(a) ?? 'requests like this one'}?`)) return;
      approval.grant_high = true;
    }
    const body: ApproveBody | GrantBody | DenyBody = kind === 'deny' ? { message, ...seen } : kind === 'grant' ? { ...approval, minutes } : approval;
    const focusInside = !!document.activeElement?.closest(`[data-approval="${a.id}"]`);
    st.busy = true;
    st.error = '';
    st.errorField = '';
    this.requestUpdate();
    try {
      await api<ResolveAnswer>('POST', `/api/approvals/${encodeURIComponent(a.id)}/${kind}`, body);
      this.items = this.items.map((x) => (x.id === a.id ? { ...x, status: kind === 'deny' ? 'denied' : 'approved' } : x));
      this.publish();
      const what = `${requestLine(a)} (agent ${agentName(a)})`;
      const done = kind === 'deny' ? `Denied: ${what}` : kind === 'grant' ? `Approved, and similar requests for ${minutes} min: ${what}` : `Approved once: ${what}`;
      toast(done, 'ok');
      announce(done);
      this.tell(a.id);
      if (focusInside) {
        // Focus goes to the list, never onto another approval's button.
        await this.updateComplete;
        this.querySelector<HTMLElement>('#approval-list')?.focus();
      }
    } catch (err) {
      const code = err instanceof ApiError ? (err.body as Partial<ErrorAnswer>).code : undefined;
      st.error = errorText(err);
      st.errorField = code === 'step-up-required' || code === 'totp-invalid' || code === 'totp-locked' ? 'totp' : '';
      // Step-up was enrolled after the card was shown: fetch the approval again, the code field appears.
      if (code === 'step-up-required' && !needsStepUp(a)) {
        void this.load().then(async () => {
          await this.updateComplete;
          this.querySelector<HTMLInputElement>(`[data-approval="${a.id}"] input[name=totp]`)?.focus();
        });
      }
      if (code === 'body-not-shown') {
        const text = errorText(err).replace(/^not approved: /, '');
        const end = text.indexOf('. Deny it, or ');
        st.serverUnseen = end >= 0 ? text.slice(0, end) : text;
      }
      if (code === 'not-pending' || code === 'not-what-was-seen') {
        // Decided elsewhere (or not the request on the card): the card leaves, so say it where it stays seen.
        const verb = kind === 'deny' ? 'Not denied' : 'Not approved';
        const now = code === 'not-pending' ? errorText(err).replace(/^approval \S+ is /, 'was ') : errorText(err);
        toast(`${verb}: ${requestLine(a)} (agent ${agentName(a)}) ${now}`, 'error');
        this.tell(a.id);
        void this.load();
      }
    } finally {
      st.busy = false;
      this.requestUpdate();
    }
  }

  /** J/K move between cards; A approves and D denies the card that has focus. Never while typing. */
  private readonly onKey = (e: KeyboardEvent): void => {
    const t = inputTime(e);
    // Every key counts for the run (see fromBeforeFront): Enter or Space on a focused button too.
    if (t - this.keyRunLast >= TYPING_MS) this.keyRunStart = t;
    this.keyRunLast = t;
    if (e.key === 'Tab' || e.key === 'Enter' || e.key === 'Escape') this.typedIn = undefined;
    if (e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1) return;
    if (isTyping(e.target as Element)) {
      this.typedIn = e.target as Element;
      this.typedAt = t;
      return;
    }
    if (!this.active || e.defaultPrevented) return;
    const key = e.key.toLowerCase();
    // A run of keys that began before the window came to the front (or just as it did) was typed
    // for another window: a page the agent serves can bring the studio up (window.open) while the
    // person types a sentence there, and "just a moment" held a J that selected a card and an A that
    // approved it, past the front guard. Shortcuts wait for a pause in the typing.
    if (this.keyRunStart < this.shownAt + GUARD_MS && ['j', 'k', 'a', 'd'].includes(key)) {
      e.preventDefault();
      this.showHint('The studio came to the front while keys were being typed: they are not shortcuts, nothing was done. Stop typing a moment, then press the key again.');
      return;
    }
    // Letters right after the field typed in lost focus by itself are more typing: not shortcuts.
    if (this.typedIn && document.activeElement !== this.typedIn && t - this.typedAt < TYPING_MS) {
      this.typedAt = t;
      if (['j', 'k', 'a', 'd'].includes(key)) {
        e.preventDefault();
        this.showHint('Shortcuts wait until you stop typing: nothing was done. Press the key again in a moment.');
      }
      return;
    }
    if (!['j', 'k', 'a', 'd'].includes(key)) return;
    e.preventDefault();
    const cards = [...this.querySelectorAll<HTMLElement>('[data-approval]')];
    const current = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-approval]');
    if (key === 'j' || key === 'k') {
      if (!cards.length) return;
      const i = current ? cards.indexOf(current) : -1;
      const next = key === 'j' ? (i < 0 ? 0 : Math.min(cards.length - 1, i + 1)) : i < 0 ? cards.length - 1 : Math.max(0, i - 1);
      cards[next]!.focus();
      this.hint = '';
      return;
    }
    const a = current && this.items.find((x) => x.id === current.dataset.approval);
    if (!a) return this.showHint('No card is selected: press J or K to select one, then A or D.');
    // A click needs the buttons on screen, and they end the card: A needs the same. J brings a card's
    // top into view; of a card taller than the window (120 headers, Stripe-Account last) the rest was
    // never on screen.
    if (key === 'a' && !actionsOnScreen(current)) {
      return this.showHint('This card goes on below the window: nothing was done. Scroll to its end (its buttons), then press A.');
    }
    this.hint = '';
    this.attempt(a, key === 'a' ? 'approve' : 'deny', e);
  };

  private showHint(text: string): void {
    this.hint = text;
    clearTimeout(this.hintTimer);
    this.hintTimer = window.setTimeout(() => (this.hint = ''), 6000);
  }

  // ---- render -------------------------------------------------------------------------------

  override render() {
    const pending = this.pending();
    const held = pending.filter((a) => !this.waiting(a));
    const waiting = pending.filter((a) => this.waiting(a));
    const done = this.resolved().slice(0, 20);
    // Approvals do not change once made: computed again only when the waiting set (or a whole copy loaded) does, not every second.
    const alikeKey = pending.map((a) => `${a.id}${this.cards.get(a.id)?.whole?.approval ? '+' : ''}`).join(',');
    if (alikeKey !== this.alikeKey) {
      this.alikeKey = alikeKey;
      this.alike = lookalikes(pending.map((a) => this.shown(a)));
    }
    // One keyed list for both sections: a card moving between them keeps its DOM, focus and inputs.
    const entries: Array<{ key: string; a?: Approval; waiting?: boolean }> = [
      ...held.map((a) => ({ key: a.id, a, waiting: false })),
      ...(waiting.length ? [{ key: '#waiting' }] : []),
      ...waiting.map((a) => ({ key: a.id, a, waiting: true })),
    ];
    return html`<div class="page approvals">
      <div class="row wrap">
        <h1>Approvals</h1>
        ${this.renderRiskSummary(pending)}
        <span class="spacer"></span>
        ${this.notify === 'default' ? html`<button class="ghost" @click=${() => this.askNotify()}>Enable desktop notifications</button>` : nothing}
        ${this.notify === 'denied' ? html`<span class="muted small">Desktop notifications are blocked in this browser.</span>` : nothing}
      </div>
      <p class="small muted shortcuts" data-testid="shortcuts">Keyboard: <kbd>J</kbd> next card · <kbd>K</kbd> previous card · <kbd>A</kbd> approve once (with the card's buttons on screen) · <kbd>D</kbd> deny (with the card's message) · <kbd>Tab</kbd> through a card's fields.
        A click or key on a card that changed in the last ${GUARD_MS} ms is ignored.</p>
      <p class="small warn-text hint-line" role="status">${this.hint}</p>
      ${this.unavailable ? html`<p class="empty">${this.unavailable}</p>` : nothing}
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      ${!this.unavailable && pending.length === 0 ? html`<p class="empty" data-testid="approvals-empty">Nothing waits for you. Held requests appear here the moment a policy asks for approval.</p>` : nothing}
      ${held.length ? html`<h2 class="section-title">Held now <span class="muted small">(${held.length}, oldest first)</span></h2>` : nothing}
      <div class="approval-list" id="approval-list" tabindex="-1" aria-label="Pending approvals">
        ${repeat(
          entries,
          (e) => e.key,
          (e) =>
            e.a
              ? this.renderItem(e.a, e.waiting!)
              : html`<h2 class="section-title waiting-title" data-testid="waiting-title">Waiting for the agent to retry <span class="muted small">(${waiting.length})</span></h2>
                  <p class="small muted">The agent's request is no longer held (its hold ended or the agent went away). Approving lets its identical retry with <code>Airlock-Approval</code> through once; denying refuses it.</p>`,
        )}
      </div>
      ${this.grants.filter((g) => Date.parse(g.expires) > this.now).length
        ? html`<h2 class="section-title">Active grants</h2>
            <table class="grid" data-testid="grants"><thead><tr><th>Agent</th><th>Requests like</th><th>Expires</th><th></th></tr></thead><tbody>
              ${this.grants
                .filter((g) => Date.parse(g.expires) > this.now)
                .map(
                  (g) => html`<tr><td>${g.agent}</td><td class="mono small">${vis(g.method)} ${vis(g.host)}${g.operation ? html` (${vis(g.operation)})` : ''}${g.path_pattern ? html` ${vis(g.path_pattern)}` : ''}
                    <div class="muted" data-testid="grant-ties">${vis(grantTiesText(g))}</div></td>
                    <td class="small" title=${g.expires}>${dayTime(g.expires)}</td><td><button class="ghost small" @click=${() => this.revoke(g)}>Revoke</button></td></tr>`,
                )}
            </tbody></table>`
        : nothing}
      ${done.length
        ? html`<h2 class="section-title">Recently resolved</h2><ul class="resolved">${done.map((a) => html`<li class="small" data-resolved=${a.id} tabindex="-1"><span class="tag ${a.status === 'approved' ? 'live' : a.status === 'denied' ? 'danger' : ''}">${a.status}</span> ${agentName(a)} <span class="mono">${requestLine(a)}</span>
              <span class="muted">${resolutionText(a)}</span></li>`)}</ul>`
        : nothing}
    </div>`;
  }

  /**
   * Above the list, how many wait at each risk, and a link to every high and critical card: cards
   * are listed oldest first, so a critical request an agent sent after forty harmless ones would be
   * forty cards down, below the window, while the person works through the top of the list.
   */
  private renderRiskSummary(pending: Approval[]) {
    // In the heading's row, from the first card on, one line no taller than the heading: a line
    // appearing or growing when a card arrives would move every card under the pointer.
    if (!pending.length) return nothing;
    const order = ['critical', 'high', 'medium', 'low'];
    const counts = order.map((r) => [r, pending.filter((a) => (a.risk ?? 'medium') === r).length] as const).filter(([, n]) => n > 0);
    const risky = pending.filter((a) => a.risk === 'critical' || a.risk === 'high').sort((x, y) => order.indexOf(x.risk!) - order.indexOf(y.risk!));
    const shown = risky.slice(0, 10);
    return html`<div class="small risk-summary" data-testid="risk-summary" role="note"><b>Waiting:</b> ${counts.map(([r, n], i) => html`${i ? ', ' : ''}<span class="risk-badge risk-${r}">${n} ${r}</span>`)}.${
      risky.length ? html` Go to: ` : ''}${shown.map((a, i) => html`${i ? ' · ' : ''}<a href="#/approvals" data-jump=${a.id} @click=${(e: Event) => {
        e.preventDefault();
        const el = this.querySelector<HTMLElement>(`[data-approval="${a.id}"]`);
        el?.scrollIntoView({ block: 'start' });
        el?.focus({ preventScroll: true });
      }}>${riskText[a.risk!]}: ${shortRequestLine(a)}</a>`)}${risky.length > shown.length ? ` and ${risky.length - shown.length} more` : ''}</div>`;
  }

  private renderItem(raw: Approval, waiting: boolean) {
    const a = this.shown(raw);
    const st = this.card(a.id);
    const d = a.description ?? {};
    const r = d.request ?? {};
    const risk = a.risk ?? 'medium';
    const left = a.expires ? Math.max(0, Math.round((Date.parse(a.expires) - this.now) / 1000)) : undefined;
    const stepUp = needsStepUp(a);
    const stepUpAsked = a.step_up || risk === 'critical';
    const gate = this.bodyGate(a, st);
    const blocked = !gate.ok && !(gate.ackable && st.ack);
    const act = (kind: Kind) => (e: Event) => {
      e.preventDefault();
      this.attempt(a, kind, e);
    };
    const errId = `ap-err-${a.id}`;
    return html`<article class="card approval risk-${risk} ${waiting ? 'waiting' : ''}" data-approval=${a.id} data-section=${waiting ? 'waiting' : 'held'} data-risk=${risk}
        tabindex="0" aria-labelledby="ap-title-${a.id}" aria-describedby="ap-reason-${a.id}">
      <header class="row wrap">
        <span class="risk-badge risk-${risk}" data-testid="risk">${risk === 'critical' ? '⚠ ' : ''}${riskText[risk] ?? `${risk} risk`}</span>
        <h3 class="approval-title" id="ap-title-${a.id}"><b>${agentName(a)}</b> <span class="mono url">${vis(r.method)} ${urlLine(r.url)}</span></h3>
        <span class="spacer"></span>
        ${waiting
          ? html`<span class="small tag pending" title="the agent's request is not held now">not held · approvable until ${timeText(a.retry_until)}</span>`
          : left === 0 && a.held
            ? html`<span class="small tag pending" title="the agent retried with Airlock-Approval and waits for your answer">held again · the agent retried</span>`
            : left !== undefined
            ? html`<span class="muted small" title="the agent's request is refused (approval-timeout) when this runs out; the approval stays open for its retry">${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left</span>`
            : nothing}
        <span class="muted small" data-testid="created" title="held at ${a.created ?? '?'} (UTC)">${dayTime(a.created)}</span>
      </header>
      ${this.renderLookalike(a)}
      ${this.renderDecodedUrl(r)}
      ${this.renderQueryReading(r, st)}
      ${this.renderRunsAs(r)}
      <p id="ap-reason-${a.id}">${this.renderReason(a, st)} ${a.rule ? html`<span class="mono small">(${vis(a.rule)})</span>` : nothing}</p>
      ${this.renderWhy(a)}
      ${d.service ? html`<p class="small">Service: <b>${vis(d.service.name)}</b> <span class="mono">${vis(d.service.operation)}</span> (${vis(d.service.effect)})</p>` : nothing}
      ${d.sql?.statements?.length || d.sql?.parsed === false ? html`<p class="small">SQL: ${sqlTags(d.sql)}</p>` : nothing}
      ${d.graphql && typeof d.graphql === 'object' ? html`<p class="small" data-testid="graphql">GraphQL: ${graphqlTags(d.graphql)}</p>` : nothing}
      ${d.mcp
        ? html`<p class="small">MCP: ${d.mcp.batch ? html`a batch of ${d.mcp.batch.length} calls<br />` : ''}${(d.mcp.batch ?? [d.mcp]).map(
            (c, i) => html`${i ? html`<br />` : ''}<span class="mono">${vis(c.method)} ${vis(c.tool)}</span>${c.sql ? html` — SQL: ${sqlTags(c.sql)}` : ''}`,
          )}</p>`
        : nothing}
      ${this.renderCredentials(a)}
      ${this.renderHeaders(r, isPending(a) ? a.held_cookies : undefined)}
      ${this.renderBody(a, st)}
      ${stepUpAsked && !stepUp ? html`<p class="small warn-text">Step-up is asked for, but no TOTP is enrolled (<code>airlock totp enroll</code>): anyone with the studio login can approve this.</p>` : nothing}
      ${!gate.ok
        ? html`<div class="approve-blocked small" role="note"><p><b>Approving is held back:</b> ${gate.why}.</p>
            ${gate.ackable
              ? html`<label class="check"><input type="checkbox" name="ack" .checked=${st.ack} @change=${(e: Event) => ((st.ack = (e.target as HTMLInputElement).checked), this.requestUpdate())} />
                  Approve without seeing all of it</label>`
              : nothing}</div>`
        : nothing}
      <div class="approval-actions row wrap">
        ${stepUp
          ? html`<label class="small totp">TOTP code <input name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" size="7" required
              .value=${st.totp} @input=${(e: Event) => (st.totp = (e.target as HTMLInputElement).value)}
              @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && (e.preventDefault(), this.attempt(a, 'approve', e))}
              aria-invalid=${st.errorField === 'totp' ? 'true' : 'false'} aria-describedby=${errId} /></label>`
          : nothing}
        <button class="primary" data-action="approve" aria-describedby="ap-title-${a.id}" ?disabled=${st.busy || blocked} @click=${act('approve')}>Approve once</button>
        <span class="group">
          <button data-action="grant" aria-describedby="ap-title-${a.id} ap-scope-${a.id}" @click=${act('grant')} ?disabled=${st.busy || blocked || risk === 'critical' || a.step_up === true || (a.because?.length ?? 0) > 0}
            title=${risk === 'critical' || a.step_up === true ? 'critical and step-up requests are approved one by one' : (a.because?.length ?? 0) > 0 ? 'held because of what the session read: approved one by one' : `lets through ${grantScope(a)}`}>Allow similar for</button>
          <input name="minutes" type="number" min="1" max="1440" .value=${st.minutes} @input=${(e: Event) => (st.minutes = (e.target as HTMLInputElement).value)} aria-label="minutes" size="4" /> min
        </span>
        <span class="group">
          <input name="message" placeholder="Message to the agent (optional)" aria-label="Deny message" .value=${st.message}
            @input=${(e: Event) => (st.message = (e.target as HTMLInputElement).value)}
            @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && (e.preventDefault(), this.attempt(a, 'deny', e))} />
          <button class="danger" data-action="deny" aria-describedby="ap-title-${a.id}" ?disabled=${st.busy} @click=${act('deny')}>Deny</button>
        </span>
      </div>
      ${grantScope(a) ? html`<p class="small muted grant-scope" id="ap-scope-${a.id}" data-testid="grant-scope">Allow similar lets through, for the minutes you choose: ${vis(grantScope(a))}.</p>` : nothing}
      <p class="card-error error small" id=${errId} role="alert" data-testid="card-error">${st.error}</p>
    </article>`;
  }
}
