// Replay: run captured traffic (fixtures file, uploaded HAR, or the audit log) against the draft and
// the live policy side by side; counts per action and a filterable table of changed decisions.
import { html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { ApiError, api, live } from './api.ts';
import { LightElement, errorText, json } from './base.ts';
import { visibleLine as vis } from './body-view.ts';
import { unsavedBuffers } from './draft-buffers.ts';
import { csvText } from './csv.ts';
import type {
  ChangedRow as Row, OkAnswer, PolicyProblem, ReplayAnswer, ReplayBody, ReplayRefusal, ReplayReport as Report, ReplaySourcesAnswer,
} from '../api/wire.ts';

@customElement('replay-view')
export class ReplayView extends LightElement {
  @state() private sources: ReplaySourcesAnswer | undefined;
  @state() private kind: 'fixture' | 'audit' | 'har' = 'fixture';
  @state() private compare: 'live' | 'recorded' = 'live';
  @state() private shownCompare: 'live' | 'recorded' = 'live';
  @state() private running = false;
  @state() private progress: { decided: number; bytes: number; totalBytes: number } | undefined;
  @state() private report: Report | undefined;
  @state() private baselineError: string | undefined;
  @state() private error = '';
  @state() private problems: PolicyProblem[] = [];
  @state() private filter = '';
  @state() private changeFilter = '';
  @state() private openRow: number | undefined;
  @state() private groupByRule = false;
  /** Unsaved buffers the last replay used (empty: the saved draft). */
  @state() private replayedUnsaved: string[] = [];
  private harText: string | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    // Say which draft a replay would use: the editor's unsaved buffers change it.
    window.addEventListener('airlock-unsaved', () => this.requestUpdate());
    live.on('replay-progress', (p) => {
      if (this.running) this.progress = p;
    });
  }

  private async load(): Promise<void> {
    try {
      this.sources = await api<ReplaySourcesAnswer>('GET', '/api/replay/sources');
    } catch (err) {
      this.error = errorText(err);
    }
  }

  private async readHar(e: Event): Promise<void> {
    const f = (e.target as HTMLInputElement).files?.[0];
    this.harText = f ? await f.text() : undefined;
  }

  private async run(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    // The draft as the editor shows it, unsaved edits included (as Evaluate does).
    const body: ReplayBody = { source: this.kind, compare: this.compare, files: unsavedBuffers() };
    if (this.kind === 'fixture') body.file = String(data.get('fixture') ?? '');
    if (this.kind === 'audit') {
      for (const k of ['since', 'until', 'agent', 'host'] as const) {
        const v = String(data.get(k) ?? '');
        if (v) body[k] = k === 'since' || k === 'until' ? new Date(v).toISOString() : v;
      }
    }
    if (this.kind === 'har') {
      if (!this.harText) {
        this.error = 'Choose a HAR file first.';
        return;
      }
      body.har = this.harText;
    }
    this.running = true;
    this.error = '';
    this.problems = [];
    this.progress = undefined;
    this.openRow = undefined;
    try {
      const r = await api<ReplayAnswer>('POST', '/api/replay', body);
      this.report = r.report;
      this.replayedUnsaved = r.unsaved;
      this.baselineError = r.baselineError;
      this.shownCompare = this.compare;
    } catch (err) {
      this.error = errorText(err);
      if (err instanceof ApiError && Array.isArray(err.body.problems)) this.problems = (err.body as Partial<ReplayRefusal>).problems!;
    } finally {
      this.running = false;
    }
  }

  /** The editor at a problem's place (policy-view listens). */
  private goTo(p: PolicyProblem): void {
    location.hash = '#/policy';
    window.dispatchEvent(new CustomEvent('airlock-goto', { detail: p }));
  }

  private cancel(): void {
    void api<OkAnswer>('POST', '/api/replay/cancel');
  }

  private beforeName(title = false): string {
    const n = this.shownCompare === 'live' ? 'live' : 'recorded';
    return title ? n[0]!.toUpperCase() + n.slice(1) : n;
  }

  private rows(): Array<[Row, number]> {
    const r = this.report;
    if (!r) return [];
    const q = this.filter.trim().toLowerCase();
    return r.changedRows
      .map((row, i) => [row, i] as [Row, number])
      .filter(([row]) => {
        if (this.changeFilter.includes(' → ')) {
          const [from, to] = this.changeFilter.split(' → ');
          if (row.before.action !== from || row.after.action !== to) return false;
        } else if (this.changeFilter && !row.changes.includes(this.changeFilter as Row['changes'][number])) return false;
        if (!q) return true;
        const hay = `${row.input.request?.method} ${row.input.request?.url} ${row.input.agent?.id} ${row.before.rule} ${row.after.rule} ${row.after.reason} ${row.source}`.toLowerCase();
        return hay.includes(q);
      });
  }

  /** The rows as a file: JSON, or CSV (cells a spreadsheet would run as a formula are kept as text: csvCell). */
  private export(kind: 'json' | 'csv'): void {
    const rows = this.rows().map(([row]) => ({
      source: row.source,
      method: row.input.request?.method ?? '',
      url: row.input.request?.url ?? '',
      agent: row.input.agent?.id ?? '',
      [`${this.beforeName()}_action`]: row.before.action,
      [`${this.beforeName()}_rule`]: row.before.rule ?? '',
      draft_action: row.after.action,
      draft_rule: row.after.rule ?? '',
      draft_reason: row.after.reason,
      changes: row.changes.join(' '),
      what_changed: (row.details ?? []).join('; '),
    }));
    let text: string;
    if (kind === 'json') text = JSON.stringify(rows, null, 2);
    else {
      text = csvText(Object.keys(rows[0] ?? { source: '' }), rows);
    }
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([text], { type: kind === 'json' ? 'application/json' : 'text/csv' }));
    link.download = `replay-changes.${kind}`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  /** Rows in groups by rule change ("live rule → draft rule"), biggest first; one unnamed group when not grouping. */
  private grouped(rows: Array<[Row, number]>): Array<[string | undefined, Array<[Row, number]>]> {
    if (!this.groupByRule) return [[undefined, rows]];
    const groups = new Map<string, Array<[Row, number]>>();
    for (const entry of rows) {
      const [row] = entry;
      const key = row.before.rule === row.after.rule ? `${row.after.rule ?? '(no rule)'}` : `${row.before.rule ?? '(no rule)'} → ${row.after.rule ?? '(no rule)'}`;
      const list = groups.get(key) ?? [];
      list.push(entry);
      groups.set(key, list);
    }
    return [...groups.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  }

  override render() {
    const s = this.sources;
    const unsaved = Object.keys(unsavedBuffers());
    return html`<div class="page replay">
      <h1>Replay traffic against the draft</h1>
      <p class="muted">Every request is decided by the draft and by the live policy, with the time it was captured (deterministic). Nothing is sent anywhere.
        The draft is replayed as the editor shows it: ${unsaved.length ? html`<b>with your unsaved edits to ${unsaved.join(', ')}</b>` : 'the saved files (no unsaved edits)'}.</p>
      ${s && !s.available ? html`<div class="banner warn">Replay is not available: ${s.reason}</div>` : nothing}
      <form class="card replay-form" @submit=${(e: Event) => this.run(e)}>
        <fieldset class="row">
          <legend>Traffic</legend>
          ${(['fixture', 'har', 'audit'] as const).map(
            (k) => html`<label class="check"><input type="radio" name="kind" .checked=${this.kind === k} @change=${() => (this.kind = k)} />
              ${k === 'fixture' ? 'Fixtures file' : k === 'har' ? 'HAR upload' : 'Audit log'}</label>`,
          )}
        </fieldset>
        ${this.kind === 'fixture'
          ? html`<label>File <select name="fixture" id="replay-fixture" required>
              ${s?.fixtures.length ? s.fixtures.map((f) => html`<option value=${f.path}>${f.path} (${Math.ceil(f.size / 1024)} KiB)</option>`) : html`<option value="">No files in fixtures/</option>`}
            </select></label>`
          : nothing}
        ${this.kind === 'har' ? html`<label>HAR file (browser devtools, mitmproxy) <input type="file" accept=".har,application/json" @change=${(e: Event) => this.readHar(e)} /></label>` : nothing}
        ${this.kind === 'audit'
          ? s?.audit
            ? html`<div class="row wrap">
                <label>From <input type="datetime-local" name="since" /></label>
                <label>To <input type="datetime-local" name="until" /></label>
                <label>Agent <input name="agent" placeholder="any" /></label>
                <label>Host <input name="host" placeholder="any" /></label>
              </div>`
            : html`<p class="empty">The audit log is empty: no traffic has gone through the proxy yet.</p>`
          : nothing}
        <label>Compare the draft with
          <select id="replay-compare" @change=${(e: Event) => (this.compare = (e.target as HTMLSelectElement).value as 'live' | 'recorded')}>
            <option value="live">the live policy</option>
            <option value="recorded">the decisions recorded in the capture (or the test expectations)</option>
          </select></label>
        <div class="row">
          <button type="submit" id="replay-run" class="primary" ?disabled=${this.running || (s !== undefined && !s.available)}>${this.running ? 'Replaying…' : 'Replay'}</button>
          ${this.running ? html`<button type="button" class="ghost" @click=${() => this.cancel()}>Cancel</button>` : nothing}
          ${this.running && this.progress
            ? html`<progress max=${this.progress.totalBytes || 1} value=${this.progress.bytes}></progress><span class="muted">${this.progress.decided} decided</span>`
            : nothing}
        </div>
      </form>
      ${this.error
        ? html`<div class="error" role="alert">${this.error}
            ${this.problems.length ? html`<ul data-testid="replay-problems">${this.problems.map((p) => html`<li class="mono small">${p.line > 0
              ? html`<button class="ghost small problem-link" title="open ${p.file} at line ${p.line} in the editor" @click=${() => this.goTo(p)}>${p.file}:${p.line}:${p.column}</button>`
              : p.file}: ${p.message}</li>`)}</ul>` : nothing}</div>`
        : nothing}
      ${this.report ? this.renderReport(this.report) : nothing}
    </div>`;
  }

  private renderReport(r: Report) {
    const actions = ['allow', 'approve', 'deny'] as const;
    const rows = this.rows();
    return html`<section class="report" data-testid="replay-report">
      ${this.baselineError ? html`<div class="banner warn">${this.baselineError} — showing the draft only.</div>` : nothing}
      <div class="counts">
        ${actions.map((a) => {
          const delta = r.before ? (r.after[a] ?? 0) - (r.before[a] ?? 0) : undefined;
          return html`<div class="count-card ${a}">
            <div class="label">${a}</div>
            <div class="num"><span data-testid="count-${a}">${r.after[a] ?? 0}</span>
              ${delta ? html`<span class="delta ${delta > 0 ? 'up' : 'down'}" data-testid="delta-${a}" title="draft compared with ${this.beforeName()}">${delta > 0 ? '+' : '−'}${Math.abs(delta)}</span>` : nothing}</div>
            ${r.before ? html`<div class="muted small">${this.beforeName()}: ${r.before[a] ?? 0}</div>` : nothing}
          </div>`;
        })}
        <div class="count-card">
          <div class="label">changed</div>
          <div class="num" data-testid="count-changed">${r.changed}</div>
          <div class="muted small">of ${r.decided} in ${r.elapsedMs} ms${r.skipped ? `, ${r.skipped} skipped` : ''}${r.unrecorded ? `, ${r.unrecorded} had no recorded decision` : ''}</div>
        </div>
      </div>
      <p class="small muted" data-testid="replayed-draft">Replayed ${this.replayedUnsaved.length ? html`the draft with unsaved edits to <span class="mono">${this.replayedUnsaved.join(', ')}</span>` : 'the saved draft'}.</p>
      ${r.aborted ? html`<p class="banner warn">Cancelled: the numbers cover what was replayed so far.</p>` : nothing}
      ${r.skippedSamples.length
        ? html`<details><summary>${r.skipped} entries could not be replayed</summary><ul>${r.skippedSamples.map((s) => html`<li class="small"><span class="mono">${s.source}</span>: ${s.reason}</li>`)}</ul></details>`
        : nothing}
      ${r.changed === 0
        ? html`<p class="empty">No decision changes between ${this.shownCompare === 'live' ? 'the live policy' : 'the recorded decisions'} and the draft.</p>`
        : html`
            <div class="row wrap">
              <input type="search" placeholder="Filter: URL, agent, rule…" aria-label="Filter changed decisions" .value=${this.filter} @input=${(e: Event) => (this.filter = (e.target as HTMLInputElement).value)} />
              <select aria-label="Kind of change" @change=${(e: Event) => (this.changeFilter = (e.target as HTMLSelectElement).value)}>
                <option value="">All changes</option>
                ${Object.entries(r.transitions).map(([k, n]) => html`<option value=${k}>${k} (${n})</option>`)}
                <option value="rule">rule changed</option>
                <option value="risk">risk changed</option>
                <option value="credentials">credentials changed</option>
                <option value="approval">approval terms changed (step-up, timeout)</option>
                <option value="rate_limits">rate limits changed</option>
                <option value="forwarding">forwarding changed (raw_path, bare_headers)</option>
                <option value="labels">labels changed</option>
              </select>
              <label class="check"><input type="checkbox" id="group-by-rule" .checked=${this.groupByRule} @change=${(e: Event) => (this.groupByRule = (e.target as HTMLInputElement).checked)} /> Group by rule</label>
              <span class="muted small">${rows.length} shown${r.changedOmitted ? `, ${r.changedOmitted} more not kept` : ''}</span>
              <span class="spacer"></span>
              <button class="ghost small" id="export-json" @click=${() => this.export('json')}>Export JSON</button>
              <button class="ghost small" id="export-csv" @click=${() => this.export('csv')}>Export CSV</button>
            </div>
            <table class="grid" data-testid="changed-table">
              <thead><tr><th>Request</th><th>Agent</th><th>${this.beforeName(true)}</th><th>Draft</th><th>Draft rule · reason</th></tr></thead>
              <tbody>
                ${this.grouped(rows).map(([group, members]) => html`${group !== undefined
                  ? html`<tr class="group-row" data-testid="rule-group"><th colspan="5" scope="rowgroup"><span class="mono">${group}</span> <span class="muted small">(${members.length})</span></th></tr>`
                  : nothing}${members.map(
                  ([row, i]) => html`<tr tabindex="0" class="clickable" @click=${() => (this.openRow = this.openRow === i ? undefined : i)}
                      @keydown=${(e: KeyboardEvent) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), (this.openRow = this.openRow === i ? undefined : i))}>
                      <td class="mono url">${vis(row.input.request?.method)} ${vis(row.input.request?.url)}</td>
                      <td>${row.input.agent?.id ?? ''}</td>
                      <td><span class="action ${row.before.action}">${row.before.action}</span><div class="mono small">${row.before.rule ?? ''}</div></td>
                      <td><span class="action ${row.after.action}">${row.after.action}</span><div class="mono small">${row.after.rule ?? ''}</div></td>
                      <td class="small">${vis(row.after.reason)}${(row.details ?? []).map((l) => html`<div class="mono warn-text" data-testid="change-line">${vis(l)}</div>`)}</td>
                    </tr>
                    ${this.openRow === i
                      ? html`<tr class="detail"><td colspan="5">
                          <div class="decisions">
                            <div class="decision-card"><h4>${this.beforeName(true)}</h4><pre class="mono small">${vis(json(row.before))}</pre></div>
                            <div class="decision-card"><h4>Draft</h4><pre class="mono small">${vis(json(row.after))}</pre></div>
                          </div>
                          <h4>Input <span class="muted small">${row.source}</span></h4>
                          <pre class="mono small input-json">${vis(json(row.input))}</pre>
                        </td></tr>`
                      : nothing}`,
                )}`)}
              </tbody>
            </table>
          `}
    </section>`;
  }
}
