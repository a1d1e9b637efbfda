// The Evaluate pane of the policy editor: a request description — picked from captured traffic
// (searchable), described from a request by the proxy's own describe step, or pasted — decided by
// the draft (unsaved buffers included) and by the live policy, side by side, and explained
// (explain-view.ts: which rule decided and why the others did not).
import { html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { api } from './api.ts';
import { LightElement, errorText, json, shortTime } from './base.ts';
import './explain-view.ts';
import type { AuditRecord, DescribeAnswer, DescribeBody, EngineDecision, EvaluateAnswer, EvaluateBody, RecordsAnswer, RequestDescription } from '../api/wire.ts';
import { visibleLine as vis } from './body-view.ts';

const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** The sample request: a GitHub read, described by the proxy's describe step when used. */
const sample = { method: 'GET', url: 'https://api.github.com/repos/acme/app', agent: 'demo', headers: 'User-Agent: agent/1.0', body: '' };

@customElement('evaluate-pane')
export class EvaluatePane extends LightElement {
  /** The editor's unsaved buffers (path → text): evaluation sees the draft as it is on screen. */
  @property({ attribute: false }) overlay: () => Record<string, string> = () => ({});
  @state() private captures: AuditRecord[] = [];
  @state() private capturesLoaded = false;
  @state() private query = '';
  @state() private result: EvaluateAnswer | undefined;
  @state() private error = '';
  @state() private describing = false;
  @state() private evaluating = false;
  @state() private form = { ...sample, body: '' };
  @state() private picked = '';

  /** Loads a description into the input (from Traffic's "Evaluate" link) and evaluates it. */
  async load(input: unknown, label = ''): Promise<void> {
    await this.updateComplete;
    this.textarea().value = json(input);
    this.picked = label;
    await this.evaluate();
  }

  private textarea(): HTMLTextAreaElement {
    return this.querySelector<HTMLTextAreaElement>('#eval-input')!;
  }

  async loadCaptures(): Promise<void> {
    try {
      this.captures = (await api<RecordsAnswer>('GET', '/api/captures?limit=500')).records;
      this.capturesLoaded = true;
    } catch (err) {
      this.error = `Cannot load captured requests: ${errorText(err)}`;
    }
  }

  private matchingCaptures(): AuditRecord[] {
    const words = this.query.trim().toLowerCase().split(/\s+/).filter(Boolean);
    return this.captures
      .filter((c) => {
        const hay = `${c.time} ${c.agent ?? ''} ${c.method ?? ''} ${c.url ?? ''} ${c.decision?.action ?? ''} ${c.decision?.rule ?? ''}`.toLowerCase();
        return words.every((w) => hay.includes(w));
      })
      .slice(0, 200);
  }

  private pick(c: AuditRecord): void {
    if (!c.description) return;
    this.textarea().value = json(c.description);
    this.picked = `${shortTime(c.time)} ${c.agent ?? ''} ${c.method ?? ''} ${c.url ?? ''}`;
    this.result = undefined;
    this.error = '';
  }

  /** Sends the request form through the proxy's describe step; the description lands in the input. */
  private async describe(): Promise<boolean> {
    const f = this.form;
    const headers: Array<[string, string]> = [];
    for (const line of f.headers.split('\n')) {
      if (!line.trim()) continue;
      const i = line.indexOf(':');
      if (i <= 0) {
        this.error = `Header line "${line.trim()}" is not "Name: value".`;
        this.result = undefined;
        return false;
      }
      headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
    }
    this.describing = true;
    try {
      const r = await api<DescribeAnswer>('POST', '/api/policy/describe', {
        method: f.method, url: f.url.trim(), agent: f.agent.trim() || 'demo', headers, ...(f.body ? { body: f.body } : {}),
      } satisfies DescribeBody);
      this.textarea().value = json(r.input);
      this.picked = `${f.method} ${f.url.trim()} (described)`;
      this.error = '';
      this.result = undefined;
      return true;
    } catch (err) {
      this.error = `Cannot describe that request: ${errorText(err)}`;
      this.result = undefined;
      return false;
    } finally {
      this.describing = false;
    }
  }

  private async useSample(): Promise<void> {
    this.form = { ...sample };
    await this.updateComplete;
    await this.describe();
  }

  async evaluate(): Promise<void> {
    let input: RequestDescription;
    try {
      // Checked by the server (a JSON object with a request): a clear error for anything else.
      input = JSON.parse(this.textarea().value) as RequestDescription;
    } catch (err) {
      this.error = `The input is not valid JSON: ${errorText(err)}`;
      this.result = undefined; // never leave an old answer beside a new question
      return;
    }
    this.error = '';
    this.result = undefined;
    this.evaluating = true;
    try {
      this.result = await api<EvaluateAnswer>('POST', '/api/policy/evaluate', { input, files: this.overlay() } satisfies EvaluateBody);
    } catch (err) {
      this.error = errorText(err);
      this.result = undefined;
    } finally {
      this.evaluating = false;
    }
  }

  private field(name: keyof typeof sample) {
    return (e: Event) => (this.form = { ...this.form, [name]: (e.target as HTMLInputElement).value });
  }

  override render() {
    const r = this.result;
    const found = this.matchingCaptures();
    return html`<div class="evaluate">
      <h2 class="sr-only">Evaluate a request</h2>
      <details class="eval-section" open>
        <summary>Captured requests</summary>
        <input type="search" id="capture-search" aria-label="Search captured requests" placeholder="Search: agent, method, URL, decision, rule"
          .value=${this.query} @input=${(e: Event) => (this.query = (e.target as HTMLInputElement).value)}
          @focus=${() => this.capturesLoaded || this.loadCaptures()} aria-controls="capture-list" />
        <ul class="capture-list" id="capture-list" role="listbox" aria-label="Captured requests" data-testid="capture-list">
          ${!this.capturesLoaded
            ? html`<li class="muted small">Focus the search to load what the proxy captured.</li>`
            : found.length === 0
              ? html`<li class="muted small">${this.captures.length ? 'No captured request matches.' : 'No captured requests yet.'}</li>`
              : found.map(
                  (c) => html`<li role="option" aria-selected="false"><button class="capture" @click=${() => this.pick(c)}>
                    <span class="mono small">${shortTime(c.time)}</span> ${vis(c.agent)} <span class="mono">${vis(c.method)} ${vis(c.url)}</span>
                    ${c.decision ? html`<span class="action ${c.decision.action}">${c.decision.action}</span>` : nothing}</button></li>`,
                )}
        </ul>
      </details>
      <details class="eval-section">
        <summary>Describe a request (as the proxy would)</summary>
        <div class="describe-form">
          <div class="row">
            <select aria-label="Method" .value=${this.form.method} @change=${this.field('method')}>${methods.map((m) => html`<option ?selected=${m === this.form.method}>${m}</option>`)}</select>
            <input aria-label="URL" class="grow mono" .value=${this.form.url} @input=${this.field('url')} placeholder="https://api.github.com/repos/acme/app" />
          </div>
          <label>Agent <input aria-label="Agent" .value=${this.form.agent} @input=${this.field('agent')} /></label>
          <label class="stack">Headers (one "Name: value" per line)<textarea class="mono" rows="3" aria-label="Headers" .value=${this.form.headers} @input=${this.field('headers')}></textarea></label>
          <label class="stack">Body<textarea class="mono" rows="3" aria-label="Body" .value=${this.form.body} @input=${this.field('body')}></textarea></label>
          <button id="describe" @click=${() => this.describe()} ?disabled=${this.describing}>Describe</button>
        </div>
      </details>
      <div class="row">
        <label for="eval-input" class="grow">Request description (the policy's input)${this.picked ? html` <span class="muted small">— ${vis(this.picked)}</span>` : nothing}</label>
        <button class="ghost" id="sample" @click=${() => this.useSample()} ?disabled=${this.describing} title="A GitHub read, described by the proxy's describe step">Sample</button>
      </div>
      <textarea id="eval-input" class="mono" spellcheck="false" rows="14" placeholder="Pick a captured request, describe one, or paste a request description"></textarea>
      <button id="evaluate" class="primary" @click=${() => this.evaluate()} ?disabled=${this.describing || this.evaluating}>Evaluate against the draft</button>
      ${this.error ? html`<p class="error" role="alert" data-testid="eval-error">${this.error}</p>` : nothing}
      ${r
        ? html`<div class="decisions">
            <div class="decision-card">
              <h3>Draft</h3>
              ${r.draft.ok
                ? this.renderDecision(r.draft.decision)
                : html`<p class="error">The draft does not compile: ${r.draft.problems[0] && r.draft.problems[0].line > 0 ? `${r.draft.problems[0].file}:${r.draft.problems[0].line}:${r.draft.problems[0].column}: ` : ''}${r.draft.problems[0]?.message ?? ''}${
                  r.draft.problems.length > 1 ? ` (and ${r.draft.problems.length - 1} more: see Problems)` : ''}</p>`}
            </div>
            <div class="decision-card">
              <h3>Live</h3>
              ${r.live ? this.renderDecision(r.live) : html`<p class="muted">${r.liveError ?? 'No live policy'}</p>`}
            </div>
          </div>`
        : nothing}
      <airlock-explain .request=${(): EvaluateBody => ({ input: JSON.parse(this.textarea().value) as RequestDescription, files: this.overlay() })}></airlock-explain>
    </div>`;
  }

  renderDecision(d: EngineDecision) {
    const { action, reason, rule, policy_version: _pv, decision_us: _us, ...rest } = d;
    return html`<div data-testid="decision">
      <span class="action ${action}">${action}</span> <span class="mono">${rule ?? ''}</span>
      <p>${vis(reason)}</p>
      ${Object.keys(rest).length ? html`<pre class="mono small">${json(rest)}</pre>` : nothing}
    </div>`;
  }
}
