// Approvals inbox: held requests, live over the WebSocket. Approve once, deny with a message, or
// allow similar requests for N minutes; a TOTP code when the approval needs step-up. A desktop
// notification and the title badge say when something waits.
import { html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ApiError, api, live } from './api.ts';
import { LightElement, errorText, json, shortTime, toast } from './base.ts';
import type { GrantRecord as Grant } from '../../engine/approvals.ts';

export interface Approval {
  id: string;
  status?: string;
  agent?: string | { id?: string };
  created?: string;
  expires?: string;
  reason?: string;
  rule?: string;
  risk?: string;
  step_up?: boolean;
  description?: {
    request?: { method?: string; url?: string; host?: string; body?: { size?: number; content_type?: string; json?: unknown; text?: string; form?: unknown } };
    agent?: { id?: string };
    service?: { name?: string; operation?: string; effect?: string };
    sql?: { statements?: Array<{ kind: string; tables?: string[]; destructive?: boolean; text?: string }>; destructive?: boolean };
    mcp?: { method?: string; tool?: string; arguments?: unknown };
  };
  [k: string]: unknown;
}


function agentName(a: Approval): string {
  if (typeof a.agent === 'string') return a.agent;
  return a.agent?.id ?? a.description?.agent?.id ?? '?';
}

/** The API says whether a TOTP code is needed now (step-up asked for and TOTP enrolled). */
function needsStepUp(a: Approval): boolean {
  return typeof a.needs_step_up === 'boolean' ? a.needs_step_up : Boolean(a.step_up);
}

function resolutionText(a: Approval): string {
  const r = a.resolution as { by?: string; message?: string; grant_id?: string } | undefined;
  if (!r) return '';
  return `by ${r.by ?? '?'}${r.grant_id ? ' (grant)' : ''}${r.message ? ` — “${r.message}”` : ''}`;
}

function isPending(a: Approval): boolean {
  return !a.status || a.status === 'pending';
}

@customElement('approvals-view')
export class ApprovalsView extends LightElement {
  @property({ type: Boolean }) active = false;
  @state() private items: Approval[] = [];
  @state() private unavailable = '';
  @state() private error = '';
  @state() private grants: Grant[] = [];
  @state() private now = Date.now();
  @state() private notify = typeof Notification !== 'undefined' ? Notification.permission : 'unsupported';
  private tick: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    live.addEventListener('approval', (e) => this.onEvent((e as CustomEvent).detail));
    live.addEventListener('grants', () => void this.loadGrants());
    live.addEventListener('resync', () => void this.load());
    this.tick = window.setInterval(() => {
      this.now = Date.now();
      // Expired requests leave the inbox on their own.
      if (this.items.some((a) => a.expires && Date.parse(a.expires) < this.now - 1000)) this.publish();
    }, 1000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.tick);
  }

  private pending(): Approval[] {
    return this.items.filter((a) => isPending(a) && (!a.expires || Date.parse(a.expires) > this.now - 1000));
  }

  private publish(): void {
    window.dispatchEvent(new CustomEvent('airlock-pending', { detail: this.pending().length }));
  }

  private async load(): Promise<void> {
    try {
      const r = await api<{ available?: boolean; reason?: string; approvals?: Approval[] }>('GET', '/api/approvals');
      this.items = r.approvals ?? [];
      this.unavailable = r.available === false ? `Not available: ${r.reason ?? 'no approval queue'}` : '';
      this.error = '';
    } catch (err) {
      if (err instanceof ApiError && (err.status === 404 || err.status === 503)) this.unavailable = err.status === 404 ? 'Approvals are not part of this build yet.' : errorText(err);
      else this.error = errorText(err);
    }
    this.publish();
    void this.loadGrants();
  }

  private async loadGrants(): Promise<void> {
    try {
      const r = await api<{ available?: boolean; grants?: Grant[] }>('GET', '/api/grants');
      this.grants = r.grants ?? [];
    } catch {
      this.grants = [];
    }
  }

  private async revoke(g: Grant): Promise<void> {
    try {
      await api('DELETE', `/api/grants/${encodeURIComponent(g.id)}`);
      toast('Grant revoked', 'ok');
      void this.loadGrants();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  private onEvent(detail: unknown): void {
    const d = detail as { event?: string; type?: string; approval?: Approval } & Approval;
    const a = d.approval ?? (d.id ? d : undefined);
    if (!a) return void this.load();
    const known = this.items.findIndex((x) => x.id === a.id);
    if (known >= 0) this.items = this.items.map((x, i) => (i === known ? { ...x, ...a } : x));
    else {
      this.items = [a, ...this.items];
      if (isPending(a)) this.notifyNew(a);
    }
    this.publish();
  }

  private notifyNew(a: Approval): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted' || (document.hasFocus() && this.active)) return;
    const r = a.description?.request;
    const n = new Notification('Airlock: approval needed', { body: `${agentName(a)}: ${r?.method ?? ''} ${r?.url ?? ''}\n${a.reason ?? ''}`, tag: a.id });
    n.onclick = () => {
      window.focus();
      location.hash = '#/approvals';
    };
  }

  private async askNotify(): Promise<void> {
    if (typeof Notification === 'undefined') return;
    this.notify = await Notification.requestPermission();
  }

  private async act(a: Approval, kind: 'approve' | 'deny' | 'grant', form: HTMLElement): Promise<void> {
    const totp = form.querySelector<HTMLInputElement>('[name=totp]')?.value.trim() || undefined;
    const message = form.querySelector<HTMLInputElement>('[name=message]')?.value.trim() || undefined;
    const minutes = Number(form.querySelector<HTMLInputElement>('[name=minutes]')?.value || 15);
    if (needsStepUp(a) && kind !== 'deny' && !totp) {
      toast('This approval needs a TOTP code from your authenticator.', 'error');
      form.querySelector<HTMLInputElement>('[name=totp]')?.focus();
      return;
    }
    const body: Record<string, unknown> = kind === 'deny' ? { message } : kind === 'grant' ? { minutes, totp } : { totp };
    // A grant for a high-risk request is an explicit choice (the server refuses it otherwise).
    if (kind === 'grant' && a.risk === 'high') {
      if (!window.confirm(`This request is high risk. Allow similar requests (same operation, at most high risk) for ${minutes} min without asking?`)) return;
      body.grant_high = true;
    }
    try {
      await api('POST', `/api/approvals/${encodeURIComponent(a.id)}/${kind}`, body);
      this.items = this.items.map((x) => (x.id === a.id ? { ...x, status: kind === 'deny' ? 'denied' : 'approved' } : x));
      this.publish();
      toast(kind === 'deny' ? 'Denied' : kind === 'grant' ? `Allowed similar requests for ${minutes} min` : 'Approved once', 'ok');
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  override render() {
    const pending = this.pending();
    const done = this.items.filter((a) => !pending.includes(a)).slice(0, 20);
    return html`<div class="page approvals">
      <div class="row wrap">
        <h2>Approvals</h2>
        <span class="spacer"></span>
        ${this.notify === 'default' ? html`<button class="ghost" @click=${() => this.askNotify()}>Enable desktop notifications</button>` : nothing}
        ${this.notify === 'denied' ? html`<span class="muted small">Desktop notifications are blocked in this browser.</span>` : nothing}
      </div>
      ${this.unavailable ? html`<p class="empty">${this.unavailable}</p>` : nothing}
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      ${!this.unavailable && pending.length === 0 ? html`<p class="empty" data-testid="approvals-empty">Nothing waits for you. Held requests appear here the moment a policy asks for approval.</p>` : nothing}
      <div class="approval-list">${pending.map((a) => this.renderItem(a))}</div>
      ${this.grants.filter((g) => Date.parse(g.expires) > this.now).length
        ? html`<h3>Active grants</h3>
            <table class="grid" data-testid="grants"><thead><tr><th>Agent</th><th>Requests like</th><th>Expires</th><th></th></tr></thead><tbody>
              ${this.grants
                .filter((g) => Date.parse(g.expires) > this.now)
                .map(
                  (g) => html`<tr><td>${g.agent}</td><td class="mono small">${g.method} ${g.host}${g.operation ? ` (${g.operation})` : ''}${g.path_pattern ? ` ${g.path_pattern}` : ''}</td>
                    <td class="small">${shortTime(g.expires)}</td><td><button class="ghost small" @click=${() => this.revoke(g)}>Revoke</button></td></tr>`,
                )}
            </tbody></table>`
        : nothing}
      ${done.length
        ? html`<h3>Recently resolved</h3><ul class="resolved">${done.map((a) => html`<li class="small"><span class="tag ${a.status === 'approved' ? 'live' : a.status === 'denied' ? 'danger' : ''}">${a.status}</span> ${agentName(a)} ${a.description?.request?.method ?? ''} <span class="mono">${a.description?.request?.url ?? ''}</span>
              <span class="muted">${resolutionText(a)}</span></li>`)}</ul>`
        : nothing}
    </div>`;
  }

  private renderItem(a: Approval) {
    const d = a.description ?? {};
    const r = d.request ?? {};
    const left = a.expires ? Math.max(0, Math.round((Date.parse(a.expires) - this.now) / 1000)) : undefined;
    const body = r.body?.json !== undefined ? json(r.body.json) : r.body?.text ?? (r.body?.form ? json(r.body.form) : '');
    return html`<article class="card approval risk-${a.risk ?? 'medium'}" data-approval=${a.id} aria-label="Approval ${a.id}">
      <header class="row wrap">
        <span class="tag risk">${a.risk ?? 'medium'} risk</span>
        <b>${agentName(a)}</b>
        <span class="mono url">${r.method} ${r.url}</span>
        <span class="spacer"></span>
        ${left !== undefined ? html`<span class="muted small" title="denied automatically when this runs out">${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')} left</span>` : nothing}
        <span class="muted small">${shortTime(a.created)}</span>
      </header>
      <p>${a.reason ?? ''} ${a.rule ? html`<span class="mono small">(${a.rule})</span>` : nothing}</p>
      ${d.service ? html`<p class="small">Service: <b>${d.service.name}</b> <span class="mono">${d.service.operation}</span> (${d.service.effect})</p>` : nothing}
      ${d.sql?.statements?.length
        ? html`<p class="small">SQL: ${d.sql.statements.map((s) => html`<span class="tag ${s.destructive ? 'danger' : ''}">${s.kind}${s.tables?.length ? ` ${s.tables.join(', ')}` : ''}</span> `)}</p>`
        : nothing}
      ${d.mcp ? html`<p class="small">MCP: <span class="mono">${d.mcp.method} ${d.mcp.tool ?? ''}</span></p>` : nothing}
      ${body ? html`<details><summary class="small">Body preview (${r.body?.size ?? 0} bytes, ${r.body?.content_type || 'no type'})</summary><pre class="mono small">${body.slice(0, 4000)}</pre></details>` : nothing}
      <div class="approval-actions row wrap">
        ${needsStepUp(a) ? html`<label class="small">TOTP <input name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" size="7" required /></label>` : nothing}
        <button class="primary" data-action="approve" @click=${(e: Event) => this.act(a, 'approve', (e.target as HTMLElement).closest('article')!)}>Approve once</button>
        <span class="group">
          <button data-action="grant" @click=${(e: Event) => this.act(a, 'grant', (e.target as HTMLElement).closest('article')!)} ?disabled=${a.risk === 'critical' || a.step_up === true}
            title=${a.risk === 'critical' || a.step_up === true ? 'critical and step-up requests are approved one by one' : 'same agent, method, host and operation, at this risk or lower'}>Allow similar for</button>
          <input name="minutes" type="number" min="1" max="1440" value="15" aria-label="minutes" size="4" /> min
        </span>
        <span class="group">
          <input name="message" placeholder="Message to the agent (optional)" aria-label="Deny message" />
          <button class="danger" data-action="deny" @click=${(e: Event) => this.act(a, 'deny', (e.target as HTMLElement).closest('article')!)}>Deny</button>
        </span>
      </div>
    </article>`;
  }
}
