// Live traffic: every decision as the proxy records it, filterable by agent, action and host, newest
// request first. Requests held for approval show while they are held (the audit record is written
// when a request ends; until then the row comes from the approval). Pausing freezes the table but
// keeps receiving: nothing is lost, the count of waiting events shows.
import { html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api, live } from './api.ts';
import { LightElement, durationText, errorText, json, shortTime } from './base.ts';
import { visibleLine as vis } from './body-view.ts';
import type { ApprovalView, ApprovalsAnswer, AuditRecord, LiveEvents, RecordsAnswer } from '../api/wire.ts';

type Rec = AuditRecord & { held?: boolean };

const MAX_ROWS = 2000;

/** A held request as a traffic row (its audit record replaces it when the request ends). */
function heldRow(a: ApprovalView): Rec | undefined {
  const r = a.description?.request;
  if (!r) return undefined;
  return {
    time: r.time ?? a.created ?? '',
    id: r.id,
    agent: a.agent,
    method: r.method,
    url: r.url,
    host: r.host,
    decision: { action: 'approve', reason: a.reason ?? '', ...(a.rule ? { rule: a.rule } : {}) },
    ...(a.policy_version ? { policy_version: a.policy_version } : {}),
    outcome: 'held',
    extra: { approval_id: a.id },
    description: a.description,
    held: true,
  };
}

/** Newest request first: by the time the request arrived, not when its record was written. */
function byTimeDesc(a: Rec, b: Rec): number {
  return b.time.localeCompare(a.time);
}

@customElement('traffic-view')
export class TrafficView extends LightElement {
  @state() private rows: Rec[] = [];
  /** Held requests by request id. */
  @state() private heldNow = new Map<string, Rec>();
  @state() private paused = false;
  @state() private waiting: Rec[] = [];
  @state() private agent = '';
  @state() private action = '';
  @state() private host = '';
  @state() private open: string | undefined;
  @state() private error = '';
  @state() private source = '';

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    live.on('traffic', (r) => this.add(r));
    live.on('approval', (d) => this.onApproval(d));
    live.addEventListener('resync', () => void this.load());
  }

  private async load(): Promise<void> {
    try {
      const r = await api<RecordsAnswer>('GET', '/api/traffic/recent?limit=500');
      this.source = r.source ?? '';
      this.error = '';
      if (this.paused) this.waiting = [];
      this.rows = r.records.slice().sort(byTimeDesc);
    } catch (err) {
      this.error = errorText(err);
    }
    try {
      const a = await api<ApprovalsAnswer>('GET', '/api/approvals?status=pending');
      const held = new Map<string, Rec>();
      for (const x of a.available ? a.approvals : []) {
        const row = x.held ? heldRow(x) : undefined;
        if (row && !this.rows.some((r) => r.id === row.id)) held.set(row.id, row);
      }
      this.heldNow = held;
    } catch {
      /* no approvals here: nothing is held */
    }
  }

  private onApproval(d: LiveEvents['approval']): void {
    const row = heldRow(d.approval);
    if (!row) return;
    const next = new Map(this.heldNow);
    const stillHeld = (d.event === 'created' || d.event === 'held') && (!d.approval.status || d.approval.status === 'pending');
    if (stillHeld && !this.rows.some((r) => r.id === row.id)) next.set(row.id, row);
    else if (!stillHeld) next.delete(row.id);
    this.heldNow = next;
  }

  private incoming: Rec[] = [];
  private flushQueued = false;

  /** Events are batched per animation frame: a busy proxy must not re-render the table per request. */
  private add(r: Rec): void {
    this.incoming.push(r);
    if (this.flushQueued) return;
    this.flushQueued = true;
    requestAnimationFrame(() => this.flush());
    // Hidden tabs get no animation frames; flush on a timer too.
    setTimeout(() => this.flush(), 500);
  }

  private flush(): void {
    if (!this.flushQueued) return;
    this.flushQueued = false;
    const batch = this.incoming;
    this.incoming = [];
    if (!batch.length) return;
    // A finished request's record replaces its "held" row.
    if (batch.some((r) => this.heldNow.has(r.id))) {
      const next = new Map(this.heldNow);
      for (const r of batch) next.delete(r.id);
      this.heldNow = next;
    }
    if (this.paused) {
      this.waiting = [...this.waiting, ...batch].slice(-20_000);
      return;
    }
    this.rows = [...batch, ...this.rows].sort(byTimeDesc).slice(0, MAX_ROWS);
  }

  private togglePause(): void {
    if (this.paused) {
      this.rows = [...this.waiting, ...this.rows].sort(byTimeDesc).slice(0, MAX_ROWS);
      this.waiting = [];
    }
    this.paused = !this.paused;
  }

  private filtered(): Rec[] {
    const agent = this.agent.trim().toLowerCase();
    const host = this.host.trim().toLowerCase();
    const all = this.heldNow.size ? [...this.heldNow.values(), ...this.rows].sort(byTimeDesc) : this.rows;
    return all.filter(
      (r) =>
        (!agent || (r.agent ?? '').toLowerCase().includes(agent)) &&
        (!host || (r.host ?? '').includes(host)) &&
        (!this.action || (this.action === 'held' ? r.held === true : (r.decision?.action ?? 'none') === this.action)),
    );
  }

  private showApproval(id: string): void {
    location.hash = '#/approvals';
    window.dispatchEvent(new CustomEvent('airlock-show-approval', { detail: id }));
  }

  private evaluate(r: Rec): void {
    if (!r.description) return;
    location.hash = '#/policy';
    window.dispatchEvent(new CustomEvent('airlock-evaluate', { detail: { input: r.description, label: `${shortTime(r.time)} ${r.agent ?? ''} ${r.method ?? ''} ${r.url ?? ''}` } }));
  }

  override render() {
    const rows = this.filtered();
    return html`<div class="page traffic">
      <div class="row wrap toolbar">
        <h1>Live traffic</h1>
        <span class="spacer"></span>
        <input aria-label="Filter by agent" placeholder="agent" .value=${this.agent} @input=${(e: Event) => (this.agent = (e.target as HTMLInputElement).value)} />
        <select aria-label="Filter by action" @change=${(e: Event) => (this.action = (e.target as HTMLSelectElement).value)}>
          <option value="">any action</option><option>allow</option><option>deny</option><option>approve</option><option value="held">held now</option><option value="none">no decision</option>
        </select>
        <input aria-label="Filter by host" placeholder="host" .value=${this.host} @input=${(e: Event) => (this.host = (e.target as HTMLInputElement).value)} />
        <button id="pause" class=${this.paused ? 'primary' : ''} @click=${() => this.togglePause()} aria-pressed=${this.paused}>
          ${this.paused ? `Resume${this.waiting.length ? ` (${this.waiting.length} new)` : ''}` : 'Pause'}
        </button>
      </div>
      ${this.source === 'file' ? html`<p class="muted small">No proxy runs in this process: following the audit log file.</p>` : nothing}
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      ${rows.length === 0
        ? html`<p class="empty">${this.rows.length ? 'No request matches the filters.' : 'No traffic yet. Requests appear here the moment the proxy decides them.'}</p>`
        : html`<table class="grid" data-testid="traffic-table">
            <thead><tr><th>Time</th><th>Agent</th><th>Request</th><th>Decision</th><th>Policy</th><th>Outcome</th></tr></thead>
            <tbody>
              ${rows.slice(0, 500).map((r) => {
                const approvalId = (r.extra as { approval_id?: string } | undefined)?.approval_id;
                return html`<tr tabindex="0" class="clickable ${r.held ? 'held-row' : ''}" data-request=${r.id} @click=${() => (this.open = this.open === r.id ? undefined : r.id)}
                    @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && (this.open = this.open === r.id ? undefined : r.id)}>
                    <td class="mono small" title=${r.time}>${shortTime(r.time)}</td>
                    <td>${r.agent ?? '—'}</td>
                    <td class="mono url">${vis(r.method)} ${vis(r.url)}</td>
                    <td>${r.decision ? html`<span class="action ${r.decision.action}">${r.decision.action}</span> <span class="mono small">${r.decision.rule ?? ''}</span>` : '—'}</td>
                    <td class="mono small" title=${r.policy_version ?? ''}>${r.policy_version?.slice(0, 8) ?? '—'}</td>
                    <td class="small">${r.held ? html`<span class="tag pending">held — waiting for a person</span>` : html`${r.outcome}${r.status ? ` · ${r.status}` : ''}${r.total_ms !== undefined ? ` · ${durationText(r.total_ms)}` : ''}`}</td>
                  </tr>
                  ${this.open === r.id
                    ? html`<tr class="detail"><td colspan="6">
                        ${r.decision ? html`<p><b>Reason:</b> ${vis(r.decision.reason)}</p>` : nothing}
                        ${r.detail ? html`<p><b>Detail:</b> ${vis(r.detail)}</p>` : nothing}
                        <p class="small">Request <span class="mono">${r.id}</span> at ${r.time}${r.policy_version ? html` · decided by policy <span class="mono">${r.policy_version}</span>` : nothing}${r.decision_us !== undefined ? ` in ${durationText(r.decision_us / 1000)}` : ''}</p>
                        <div class="row">
                          ${approvalId ? html`<button class="small" data-action="open-approval" @click=${() => this.showApproval(approvalId)}>Open its approval</button>` : nothing}
                          ${r.description ? html`<button class="small" data-action="evaluate" @click=${() => this.evaluate(r)}>Evaluate against the draft</button>` : nothing}
                        </div>
                        <pre class="mono small input-json">${vis(json(r.description ?? r))}</pre>
                      </td></tr>`
                    : nothing}`;
              })}
            </tbody>
          </table>`}
    </div>`;
  }
}
