// Agents, secrets (names and bindings; a value can be set, never read) and rate-limit buckets.
import { html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { api } from './api.ts';
import { LightElement, durationText, errorText, timeText, toast } from './base.ts';
import { bytesText } from './body-view.ts';
import type {
  AgentAddBody, AgentAddedAnswer, AgentSummary, AgentsAnswer, LimitResetAnswer, LimitResetBody, LimitsAnswer, OkAnswer, SecretInfo, SecretSetAnswer,
  SecretSetBody, SecretsAnswer,
} from '../api/wire.ts';

/** Agent names as the agent store accepts them (state/agents.ts), as an HTML pattern (v flag: "-" escaped). */
const AGENT_NAME_PATTERN = '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}';

/** Copies text to the clipboard; falls back to selecting it (copy by hand) where the API is refused. */
async function copyText(text: string, select: HTMLElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (select) {
      const range = document.createRange();
      range.selectNodeContents(select);
      const sel = window.getSelection();
      sel?.removeAllRanges();
      sel?.addRange(range);
      try {
        if (document.execCommand('copy')) return true;
      } catch {
        /* selected: the person copies it */
      }
    }
    return false;
  }
}

@customElement('agents-view')
export class AgentsView extends LightElement {
  @state() private agents: AgentSummary[] | undefined;
  @state() private error = '';
  @state() private formError = '';
  @state() private issued: AgentAddedAnswer | undefined;
  @state() private copied: '' | 'copied' | 'selected' = '';

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.agents = (await api<AgentsAnswer>('GET', '/api/agents')).agents;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async add(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const d = new FormData(form);
    const labels: Record<string, string> = {};
    for (const pair of String(d.get('labels') ?? '').split(/[\s,]+/).filter(Boolean)) {
      const [k, ...v] = pair.split('=');
      labels[k!] = v.join('=');
    }
    try {
      this.issued = await api<AgentAddedAnswer>('POST', '/api/agents', { name: String(d.get('name') ?? '').trim(), labels } satisfies AgentAddBody);
      this.copied = '';
      this.formError = '';
      form.reset();
      void this.load();
    } catch (err) {
      this.formError = errorText(err);
    }
  }

  private async removeAgent(name: string): Promise<void> {
    if (!confirm(`Remove agent ${name}? Its tokens stop working at once.`)) return;
    try {
      await api<OkAnswer>('DELETE', `/api/agents/${encodeURIComponent(name)}`);
      toast(`Agent ${name} removed`, 'ok');
      void this.load();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  override render() {
    return html`<div class="page">
      <h1>Agents</h1>
      <p class="muted">Agents authenticate to the proxy with their token (<code>http://NAME:TOKEN@proxy</code>). A token is shown once, when it is created; only its hash is stored.</p>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      ${this.agents?.length === 0 ? html`<p class="empty">No agents yet.</p>` : nothing}
      ${this.agents?.length
        ? html`<table class="grid"><thead><tr><th>Name</th><th>Labels</th><th>Tokens</th><th>Created</th><th></th></tr></thead><tbody>
            ${this.agents.map(
              (a) => html`<tr><td class="mono">${a.name}</td>
                <td>${Object.entries(a.labels).map(([k, v]) => html`<span class="tag">${k}=${v}</span> `)}</td>
                <td class="small">${a.tokens.length} ${a.tokens.map((t) => html`<div class="muted">${t.label ?? t.id}${t.expires ? ` · expires ${timeText(t.expires)}` : ''}</div>`)}</td>
                <td class="small">${timeText(a.created)}</td>
                <td><button class="ghost small" @click=${() => this.removeAgent(a.name)} aria-label="Remove agent ${a.name}">Remove</button></td></tr>`,
            )}</tbody></table>`
        : nothing}
      ${this.issued
        ? html`<div class="card issued" role="status" data-testid="agent-issued">
            <p>Agent <b>${this.issued.name}</b> created. Copy its proxy URL now — it holds the token and is not shown again:</p>
            <pre class="mono" id="issued-url">${this.issued.proxyUrl ?? this.issued.token}</pre>
            <div class="row">
              <button class="primary small" id="copy-url" @click=${async () => {
                const ok = await copyText(this.issued!.proxyUrl ?? this.issued!.token, this.querySelector('#issued-url'));
                this.copied = ok ? 'copied' : 'selected';
              }}>Copy</button>
              <span class="small ${this.copied === 'copied' ? 'ok' : 'muted'}" role="status">${this.copied === 'copied' ? 'Copied to the clipboard.' : this.copied === 'selected' ? 'Selected: press Ctrl+C to copy.' : ''}</span>
              <span class="spacer"></span>
              <button class="ghost small" @click=${() => (this.issued = undefined)}>I have copied it</button>
            </div>
          </div>`
        : nothing}
      <form class="card secret-form" @submit=${(e: Event) => this.add(e)} autocomplete="off">
        <h2>Add an agent</h2>
        <div class="row wrap">
          <label>Name <input name="name" required pattern=${AGENT_NAME_PATTERN} title="letters, digits, '.', '_' or '-'; starts with a letter or digit; at most 64" placeholder="coder" /></label>
          <label>Labels <input name="labels" placeholder="team=web env=dev" /></label>
        </div>
        ${this.formError ? html`<p class="error" role="alert">${this.formError}</p>` : nothing}
        <button type="submit" class="primary">Add agent</button>
      </form>
    </div>`;
  }
}


@customElement('secrets-view')
export class SecretsView extends LightElement {
  @state() private secrets: SecretInfo[] | undefined;
  @state() private error = '';
  @state() private formError = '';

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    try {
      this.secrets = (await api<SecretsAnswer>('GET', '/api/secrets')).secrets;
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async set(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const d = new FormData(form);
    const name = String(d.get('name') ?? '').trim();
    const split = (v: FormDataEntryValue | null) => String(v ?? '').split(/[\s,]+/).filter(Boolean);
    try {
      await api<SecretSetAnswer>('PUT', `/api/secrets/${encodeURIComponent(name)}`, { value: String(d.get('value') ?? ''), hosts: split(d.get('hosts')), env: split(d.get('env')) } satisfies SecretSetBody);
      form.reset();
      this.formError = '';
      toast(`Secret ${name} stored (encrypted)`, 'ok');
      void this.load();
    } catch (err) {
      this.formError = errorText(err);
    }
  }

  override render() {
    return html`<div class="page">
      <h1>Secrets</h1>
      <p class="muted">Agents hold placeholders, never values. The proxy injects a value only where a policy decision binds it. Values can be set here but never read back.</p>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      ${this.secrets?.length === 0 ? html`<p class="empty">No secrets yet.</p>` : nothing}
      ${this.secrets?.length
        ? html`<table class="grid"><thead><tr><th>Name</th><th>Placeholder</th><th>Env</th><th>Hosts</th><th>Updated</th></tr></thead><tbody>
            ${this.secrets.map(
              (s) => html`<tr><td class="mono">${s.name}</td><td class="mono small">${s.placeholder}</td><td class="mono small">${s.env.join(', ')}</td>
                <td class="small">${s.hosts.join(', ') || html`<span class="muted">—</span>`}</td><td class="small">${timeText(s.updated)}</td></tr>`,
            )}</tbody></table>`
        : nothing}
      <form class="card secret-form" @submit=${(e: Event) => this.set(e)} autocomplete="off">
        <h2>Set a secret value</h2>
        <div class="row wrap">
          <label>Name <input name="name" required pattern="[A-Za-z0-9_.\\-]{1,64}" title="the name the policy uses, e.g. github_token in the default policy" placeholder="github_token" /></label>
          <label>Value <input name="value" type="password" required autocomplete="new-password" /></label>
          <label>Hosts <input name="hosts" placeholder="api.github.com" /></label>
          <label>Env names <input name="env" placeholder="GITHUB_TOKEN" /></label>
        </div>
        ${this.formError ? html`<p class="error" role="alert">${this.formError}</p>` : nothing}
        <button type="submit" class="primary">Store encrypted</button>
      </form>
    </div>`;
  }
}

/** "minute", "hour", "5 minutes", "1.5 hours", "day". */
export function windowText(seconds: number): string {
  const units: Array<[number, string]> = [[86_400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  for (const [n, name] of units) {
    if (seconds >= n && seconds % n === 0) {
      const k = seconds / n;
      return k === 1 ? name : `${k} ${name}s`;
    }
  }
  return `${seconds} seconds`;
}

@customElement('limits-view')
export class LimitsView extends LightElement {
  @state() private data: LimitsAnswer | undefined;
  @state() private error = '';
  private timer: number | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    this.timer = window.setInterval(() => void this.load(), 2000);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    clearInterval(this.timer);
  }

  private async load(): Promise<void> {
    try {
      this.data = await api<LimitsAnswer>('GET', '/api/limits');
      this.error = '';
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async reset(key: string): Promise<void> {
    if (!confirm(`Refill every bucket with key ${key}?`)) return;
    try {
      await api<LimitResetAnswer>('POST', '/api/limits/reset', { key } satisfies LimitResetBody);
      toast(`Refilled ${key}`, 'ok');
      void this.load();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  override render() {
    const d = this.data;
    return html`<div class="page">
      <h1>Rate-limit buckets</h1>
      <p class="muted">Buckets are created by the <code>rate_limits</code> of decisions and shared by every request with the same key. Every bucket charged since Airlock started is listed, full ones too.</p>
      ${this.error ? html`<p class="error">${this.error}</p>` : nothing}
      ${d && !d.available ? html`<p class="empty">Not available: ${d.reason}</p>` : nothing}
      ${d?.available && !d.buckets.length ? html`<p class="empty">No bucket has been charged yet.</p>` : nothing}
      ${d?.available && d.buckets.length
        ? html`<table class="grid" data-testid="limits-table"><thead><tr><th>Key</th><th>Counts</th><th>Available</th><th>Limit</th><th>Full in</th><th></th></tr></thead><tbody>
            ${d.buckets.map((b) => {
              const bytes = b.unit === 'egress_bytes';
              const amount = (n: number) => (bytes ? bytesText(Math.floor(n)) : `${Math.floor(n)} request${Math.floor(n) === 1 ? '' : 's'}`);
              const full = !b.full_in_s;
              return html`<tr data-bucket=${b.key}><td class="mono">${b.key}</td>
                <td class="small">${bytes ? 'bytes sent (egress)' : 'requests'}</td>
                <td><meter min="0" max=${b.limit} value=${b.available} low=${b.limit * 0.2} optimum=${b.limit} aria-label="available"></meter> ${amount(b.available)}${full ? html` <span class="tag live">full</span>` : nothing}</td>
                <td>${amount(b.limit)} per ${windowText(b.window_s)}</td>
                <td>${full ? '—' : durationText(b.full_in_s * 1000)}</td>
                <td>${!full ? html`<button class="ghost small" @click=${() => this.reset(b.key)}>Refill</button>` : nothing}</td></tr>`;
            })}</tbody></table>`
        : nothing}
    </div>`;
  }
}
