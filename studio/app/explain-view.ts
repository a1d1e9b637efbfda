// The evaluate pane's explain section: for the request in the pane, which rule of the draft
// decided, which verdicts applied, which rules did not apply and where each stopped, and what the
// engine did with grants (POST /api/policy/explain, engine/explain.ts).
import { html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { api } from './api.ts';
import { LightElement, errorText } from './base.ts';
import type { EvaluateBody, ExplainAnswer, Explanation } from '../api/wire.ts';
import { visibleLine as vis } from './body-view.ts';

@customElement('airlock-explain')
export class ExplainView extends LightElement {
  /** Returns the pane's current input and unsaved files, or throws with a message for the user. */
  @property({ attribute: false }) request?: () => EvaluateBody;
  @state() private result?: Explanation;
  @state() private problem = '';
  @state() private busy = false;

  private async run(): Promise<void> {
    if (!this.request) return;
    this.busy = true;
    this.problem = '';
    try {
      const r = await api<ExplainAnswer>('POST', '/api/policy/explain', this.request());
      if (r.ok) this.result = r.explanation;
      else {
        this.result = undefined;
        this.problem = `The draft does not compile: ${r.problems[0]?.message ?? ''}`;
      }
    } catch (err) {
      this.result = undefined;
      this.problem = errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private loc(r: { file?: string; line?: number }) {
    return html`<span class="mono small muted">${r.file}:${r.line}</span>`;
  }

  override render() {
    const x = this.result;
    const decisionRules = x?.rules.filter((r) => r.kind === 'decision') ?? [];
    const notApplied = decisionRules.filter((r) => !r.applied && !r.skipped);
    return html`<section class="explain" data-testid="explain">
      <button class="ghost" data-testid="explain-run" ?disabled=${this.busy} @click=${() => this.run()}>${this.busy ? 'Explaining…' : 'Explain the draft’s decision'}</button>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${x
        ? html`<div class="explain-body">
            <p><span class="action ${x.decision.action}">${x.decision.action}</span>
              ${x.decision.approval ? html`<span class="tag">${x.decision.approval.risk}</span>` : nothing}
              <span class="mono" data-testid="explain-rule">${x.decision.rule ?? ''}</span>
              ${x.decided_by?.file ? html` decided at ${this.loc(x.decided_by)}` : nothing}</p>
            <p class="small">${vis(x.decision.reason)}</p>
            ${x.verdicts?.length
              ? html`<h5>Verdicts (the most severe wins)</h5>
                  <ul class="explain-list" data-testid="explain-verdicts">${x.verdicts.map(
                    (v) => html`<li class=${v.rule === x.decision.rule ? 'chosen' : ''}><span class="action ${v.action}">${v.action}</span> ${v.risk ? html`<span class="tag">${v.risk}</span>` : nothing}
                      <span class="mono">${v.rule}</span> <span class="small muted">${vis(v.reason)}</span></li>`,
                  )}</ul>`
              : nothing}
            ${notApplied.length
              ? html`<details open><summary>Rules that did not apply (${notApplied.length})</summary>
                  <ul class="explain-list" data-testid="explain-not-applied">${notApplied.map(
                    (r) => html`<li><span class="mono">${r.rule ?? r.head}</span> ${this.loc(r)}
                      ${r.failed ? html`<div class="small">stopped at ${this.loc(r.failed)} <code>${r.failed.expression}</code></div>` : nothing}</li>`,
                  )}</ul></details>`
              : nothing}
            ${x.grants
              ? html`<h5>Grants</h5><ul class="explain-list" data-testid="explain-grants">
                  <li class="small">Without grants the draft decides ${x.grants.own.action}${x.grants.own.risk ? ` (${x.grants.own.risk})` : ''} ${x.grants.own.rule ?? ''}</li>
                  ${x.grants.offered.map((id) => html`<li><span class="mono">${id}</span> offered to the policy</li>`)}
                  ${x.grants.withheld.map((w) => html`<li><span class="mono">${w.id}</span> held back: ${w.reason}</li>`)}</ul>`
              : nothing}
            ${x.notes.length ? html`<ul class="small muted">${x.notes.map((n) => html`<li>${n}</li>`)}</ul>` : nothing}
          </div>`
        : nothing}
    </section>`;
  }
}
