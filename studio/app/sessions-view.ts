// Sessions: each agent session's labels (with the request that brought each), its timeline of
// requests and label events, and the two human actions — clear a label, reset the session.
import { html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api, live } from './api.ts';
import { LightElement, errorText, timeText, toast } from './base.ts';
import { visibleLine as vis } from './body-view.ts';
import type {
  AgentSessionAnswer, AgentSessionsAnswer, LabelArrival as Arrival, LabelEvent, SessionClearBody, SessionRecord as Detail, SessionResetBody,
  TimelineEntry as Entry,
} from '../api/wire.ts';

@customElement('sessions-view')
export class SessionsView extends LightElement {
  @state() private list: AgentSessionsAnswer | undefined;
  @state() private selected: Detail | undefined;
  @state() private error = '';
  private unsubscribe: (() => void) | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    // Many events under load: refresh at most twice a second.
    let pending = 0;
    const onSession = (): void => {
      if (pending) return;
      pending = window.setTimeout(() => {
        pending = 0;
        void this.load();
        if (this.selected) void this.open(this.selected.id);
      }, 500);
    };
    live.addEventListener('session', onSession);
    live.addEventListener('traffic', onSession);
    this.unsubscribe = () => {
      live.removeEventListener('session', onSession);
      live.removeEventListener('traffic', onSession);
    };
    const m = /^#\/sessions\/(s_[0-9a-f]+)/.exec(location.hash);
    if (m) void this.open(m[1]!);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.unsubscribe?.();
  }

  private async load(): Promise<void> {
    try {
      this.list = await api<AgentSessionsAnswer>('GET', '/api/sessions');
      this.error = '';
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async open(id: string): Promise<void> {
    try {
      this.selected = (await api<AgentSessionAnswer>('GET', `/api/sessions/${encodeURIComponent(id)}`)).session;
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  private async clear(label: string): Promise<void> {
    const s = this.selected;
    if (!s) return;
    const reason = prompt(`Clear "${label}" from session ${s.id}? Requests that need it to be absent will pass without a human. Why (kept in the audit log)?`);
    if (reason === null) return;
    try {
      await api<AgentSessionAnswer>('POST', `/api/sessions/${encodeURIComponent(s.id)}/clear`, { label, reason } satisfies SessionClearBody);
      toast(`Label ${label} cleared`, 'ok');
      await this.open(s.id);
      void this.load();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  private async reset(): Promise<void> {
    const s = this.selected;
    if (!s || !confirm(`Reset session ${s.id}? The agent's next request starts a new, empty session.`)) return;
    try {
      await api<AgentSessionAnswer>('POST', `/api/sessions/${encodeURIComponent(s.id)}/reset`, {} satisfies SessionResetBody);
      toast(`Session ${s.id} reset`, 'ok');
      await this.open(s.id);
      void this.load();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  private labelChips(labels: Record<string, Arrival>) {
    const names = Object.keys(labels).sort();
    if (!names.length) return html`<span class="muted">none</span>`;
    const trifecta = labels.untrusted && labels.private;
    return html`${names.map((l) => html`<span class="chip label-${l}">${l}</span> `)}${trifecta ? html`<span class="chip risk-high" title="untrusted content and private data: requests that can carry data out need a human">trifecta</span>` : nothing}`;
  }

  private renderDetail(s: Detail) {
    type Row = { time: string; kind: 'request' | 'label'; entry?: Entry; event?: LabelEvent };
    const rows: Row[] = [
      ...s.timeline.map((entry): Row => ({ time: entry.time, kind: 'request', entry })),
      ...s.events.map((event): Row => ({ time: event.time, kind: 'label', event })),
    ].sort((a, b) => b.time.localeCompare(a.time));
    return html`<section class="card session-detail" aria-label="session ${s.id}">
      <h2>Session <span class="mono">${s.id}</span> <span class="muted small">agent ${s.agent} · token ${s.token} · ${s.ended ? `ended ${timeText(s.ended.time)} by ${s.ended.by}` : 'live'}</span></h2>
      <p class="small">started ${timeText(s.started)} · ${s.requests} requests · ${s.egress_bytes} bytes out · ${s.links} links remembered</p>
      <h3>Labels</h3>
      ${Object.keys(s.labels).length === 0 ? html`<p class="muted">No label: nothing this session read is marked untrusted or private.</p>` : nothing}
      <ul class="labels">
        ${Object.entries(s.labels).sort(([a], [b]) => a.localeCompare(b)).map(([label, a]) => html`<li>
          <span class="chip label-${label}">${label}</span> since request <span class="mono">${a.request_id}</span> to <b>${vis(a.host)}</b> at ${timeText(a.time)}
          ${s.ended ? nothing : html`<button class="small" data-clear=${label} @click=${() => this.clear(label)}>Clear</button>`}
        </li>`)}
      </ul>
      ${s.ended ? nothing : html`<button class="danger small" @click=${() => this.reset()}>Reset session</button>`}
      <h3>Timeline</h3>
      <ol class="timeline">
        ${rows.map((r) => r.kind === 'request'
          ? html`<li class="req" id="req-${r.entry!.id}"><span class="small muted">${timeText(r.time)}</span>
              <span class="mono">${vis(r.entry!.method)} ${vis(r.entry!.url)}</span> → <b>${r.entry!.action ?? '-'}</b>${r.entry!.rule ? html` <span class="small">(${r.entry!.rule})</span>` : nothing}
              <span class="small">${r.entry!.outcome}${r.entry!.status !== undefined ? ` ${r.entry!.status}` : ''}</span>
              ${(r.entry!.labels_added ?? []).map((l) => html` <span class="chip label-${l}">+${l}</span>`)}
              <span class="small muted mono">${r.entry!.id}</span></li>`
          : html`<li class="label-event"><span class="small muted">${timeText(r.time)}</span>
              ${r.event!.kind === 'added' ? html`label <span class="chip label-${r.event!.label}">${r.event!.label}</span> arrived (request <span class="mono">${r.event!.request_id}</span> to ${vis(r.event!.host)})`
                : r.event!.kind === 'cleared' ? html`label <b>${r.event!.label}</b> cleared by ${r.event!.by}${r.event!.reason ? `: ${r.event!.reason}` : ''}`
                : html`session reset by ${r.event!.by}${r.event!.reason ? `: ${r.event!.reason}` : ''}`}</li>`)}
      </ol>
    </section>`;
  }

  override render() {
    const d = this.list;
    return html`<div class="page">
      <h1>Sessions</h1>
      <p class="muted">A session is one <code>airlock run</code>, or an agent token's life until you reset it. Labels are what its responses brought into the agent's context; a session holding both <b>untrusted</b> and <b>private</b> needs a human for every request that can carry data out.</p>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      ${d && !d.available ? html`<p class="empty">Not available: ${d.reason}</p>` : nothing}
      ${d?.available && d.sessions.length === 0 ? html`<p class="empty">No sessions yet.</p>` : nothing}
      ${d?.available && d.sessions.length
        ? html`<table class="grid sessions"><thead><tr><th>Session</th><th>Agent</th><th>Labels</th><th>Requests</th><th>Last seen</th><th></th></tr></thead><tbody>
            ${d.sessions.map((s) => html`<tr class=${this.selected?.id === s.id ? 'selected' : ''}>
              <td class="mono">${s.id}</td><td>${s.agent}</td><td>${this.labelChips(s.labels)}</td><td>${s.requests}</td>
              <td class="small">${timeText(s.last_seen)}${s.ended ? html` <span class="muted">(ended)</span>` : nothing}</td>
              <td><button class="small" @click=${() => this.open(s.id)}>Timeline</button></td></tr>`)}
          </tbody></table>`
        : nothing}
      ${this.selected ? this.renderDetail(this.selected) : nothing}
    </div>`;
  }
}
