// Live traffic: every decision as the proxy records it, filterable by agent, action and host.
// Pausing freezes the table but keeps receiving: nothing is lost, the count of waiting events shows.
import { html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api, live } from './api.ts';
import { LightElement, errorText, json, shortTime } from './base.ts';
import type { AuditRecord as Rec } from '../../engine/audit-log.ts';


const MAX_ROWS = 2000;

@customElement('traffic-view')
export class TrafficView extends LightElement {
  @state() private rows: Rec[] = [];
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
    live.addEventListener('traffic', (e) => this.add((e as CustomEvent<Rec>).detail));
    live.addEventListener('resync', () => void this.load());
  }

  private async load(): Promise<void> {
    try {
      const r = await api<{ records: Rec[]; source: string }>('GET', '/api/traffic/recent?limit=500');
      this.source = r.source;
      this.error = '';
      if (this.paused) this.waiting = [];
      this.rows = r.records.slice().reverse();
    } catch (err) {
      this.error = errorText(err);
    }
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
    if (this.paused) {
      this.waiting = [...this.waiting, ...batch].slice(-20_000);
      return;
    }
    this.rows = [...batch.reverse(), ...this.rows].slice(0, MAX_ROWS);
  }

  private togglePause(): void {
    if (this.paused) {
      this.rows = [...this.waiting.slice().reverse(), ...this.rows].slice(0, MAX_ROWS);
      this.waiting = [];
    }
    this.paused = !this.paused;
  }

  private filtered(): Rec[] {
    const agent = this.agent.trim().toLowerCase();
    const host = this.host.trim().toLowerCase();
    return this.rows.filter(
      (r) =>
        (!agent || (r.agent ?? '').toLowerCase().includes(agent)) &&
        (!host || (r.host ?? '').includes(host)) &&
        (!this.action || (r.decision?.action ?? 'none') === this.action),
    );
  }

  override render() {
    const rows = this.filtered();
    return html`<div class="page traffic">
      <div class="row wrap toolbar">
        <h2>Live traffic</h2>
        <span class="spacer"></span>
        <input aria-label="Filter by agent" placeholder="agent" .value=${this.agent} @input=${(e: Event) => (this.agent = (e.target as HTMLInputElement).value)} />
        <select aria-label="Filter by action" @change=${(e: Event) => (this.action = (e.target as HTMLSelectElement).value)}>
          <option value="">any action</option><option>allow</option><option>deny</option><option>approve</option><option value="none">no decision</option>
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
            <thead><tr><th>Time</th><th>Agent</th><th>Request</th><th>Decision</th><th>Outcome</th></tr></thead>
            <tbody>
              ${rows.slice(0, 500).map(
                (r) => html`<tr tabindex="0" class="clickable" @click=${() => (this.open = this.open === r.id ? undefined : r.id)}
                    @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && (this.open = this.open === r.id ? undefined : r.id)}>
                    <td class="mono small">${shortTime(r.time)}</td>
                    <td>${r.agent ?? '—'}</td>
                    <td class="mono url">${r.method} ${r.url}</td>
                    <td>${r.decision ? html`<span class="action ${r.decision.action}">${r.decision.action}</span> <span class="mono small">${r.decision.rule ?? ''}</span>` : '—'}</td>
                    <td class="small">${r.outcome}${r.status ? ` · ${r.status}` : ''}${r.total_ms !== undefined ? ` · ${r.total_ms.toFixed(1)} ms` : ''}</td>
                  </tr>
                  ${this.open === r.id
                    ? html`<tr class="detail"><td colspan="5">
                        ${r.decision ? html`<p><b>Reason:</b> ${r.decision.reason}</p>` : nothing}
                        ${r.detail ? html`<p><b>Detail:</b> ${r.detail}</p>` : nothing}
                        <pre class="mono small input-json">${json(r.description ?? r)}</pre>
                      </td></tr>`
                    : nothing}`,
              )}
            </tbody>
          </table>`}
    </div>`;
  }
}
