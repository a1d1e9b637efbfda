// The policy editor: file tree of the draft, CodeMirror 6 with Rego, compile-as-you-type with inline
// diagnostics and a problems list, opa fmt (button and on save), evaluate pane, publish with
// version history and rollback.
import { html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { EditorView, basicSetup } from 'codemirror';
import { EditorState, type Extension } from '@codemirror/state';
import { keymap } from '@codemirror/view';
import { indentUnit } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { ApiError, api, live } from './api.ts';
import { LightElement, errorText, json, timeText, toast } from './base.ts';
import { rego } from './rego-language.ts';
import { studioEditorTheme } from './editor-theme.ts';
import './explain-view.ts';

interface Problem {
  file: string;
  line: number;
  column: number;
  message: string;
}
interface DraftFile {
  path: string;
  size: number;
  test: boolean;
}
interface Buffer {
  path: string;
  saved: string;
  state: EditorState;
}
interface VersionRecord {
  version: string;
  published: string;
  files: string[];
  note?: string;
  rollback_of?: string;
}
interface Decision {
  action: string;
  reason: string;
  rule?: string;
  policy_version?: string;
  fail_closed?: string;
  [k: string]: unknown;
}
interface Capture {
  time: string;
  id: string;
  agent?: string;
  method?: string;
  url?: string;
  decision?: Decision;
  description?: unknown;
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

const sampleInput = {
  request: {
    id: 'sample-1',
    time: '2026-01-05T10:00:00Z',
    method: 'GET',
    url: 'https://api.github.com/repos/acme/app',
    scheme: 'https',
    host: 'api.github.com',
    port: 443,
    path: '/repos/acme/app',
    segments: ['repos', 'acme', 'app'],
    query: {},
    headers: { 'user-agent': ['agent/1.0'] },
    body: { size: 0, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', content_type: '', truncated: false },
    egress_bytes: 40,
  },
  agent: { id: 'demo', labels: {} },
  placeholders: [],
  grants: [],
};

@customElement('policy-view')
export class PolicyView extends LightElement {
  @state() private files: DraftFile[] = [];
  @state() private current: string | undefined;
  @state() private problems: Problem[] = [];
  @state() private checking = false;
  @state() private checkError = '';
  @state() private tab: 'problems' | 'evaluate' | 'versions' = 'problems';
  @state() private fmtOnSave = localStorage.getItem('airlock.fmtOnSave') !== 'false';
  @state() private dirty = new Set<string>();
  @state() private versions: { current: string | null; running: string | null; proxy: boolean; history: VersionRecord[] } | undefined;
  @state() private publishing = false;
  @state() private publishResult: { ok: boolean; error?: string; problems?: Problem[]; tests?: { output: string; failed: number } | null; version?: string } | undefined;
  @state() private evalResult: { draft: { ok: boolean; decision?: Decision; problems?: Problem[] }; live: Decision | null; liveError?: string } | undefined;
  @state() private evalError = '';
  @state() private captures: Capture[] = [];
  @state() private newFileOpen = false;
  @state() private diff: Array<{ path: string; status: string; patch: string }> | undefined;
  /** Saved draft files that differ from the live policy (undefined until known). */
  @state() private unpublished: number | undefined;
  @state() private loadError = '';

  private readonly buffers = new Map<string, Buffer>();
  private view: EditorView | undefined;
  private checkTimer: number | undefined;
  private checkSeq = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadFiles();
    void this.loadVersions();
    live.addEventListener('policy', () => void this.loadVersions());
    live.addEventListener('draft', (e) => void this.onDraftChanged((e as CustomEvent<{ path?: string; action: string }>).detail));
    window.addEventListener('beforeunload', (e) => {
      if (this.dirty.size) e.preventDefault(); // unsaved edits: let the browser ask
    });
    live.addEventListener('resync', () => {
      void this.loadVersions();
      void this.loadFiles();
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.view?.destroy();
    this.view = undefined;
  }

  // ---- files -----------------------------------------------------------------------------------

  private async loadFiles(): Promise<void> {
    try {
      const r = await api<{ files: DraftFile[] }>('GET', '/api/policy/files');
      this.files = r.files;
      this.loadError = '';
      void this.loadUnpublished();
      if (!this.current && this.files.length) {
        const first = this.files.find((f) => f.path.endsWith('.rego') && !f.test) ?? this.files[0]!;
        await this.open(first.path);
      }
      this.scheduleCheck(0);
    } catch (err) {
      this.loadError = errorText(err);
    }
  }

  private async loadVersions(): Promise<void> {
    try {
      this.versions = await api('GET', '/api/policy/versions');
    } catch {
      /* shown as empty history */
    }
    void this.loadUnpublished();
  }

  private async loadUnpublished(): Promise<void> {
    try {
      this.unpublished = (await api<{ files: unknown[] }>('GET', '/api/policy/diff')).files.length;
    } catch {
      this.unpublished = undefined;
    }
  }

  /** Another tab (or this one) changed the draft: refresh the tree and any buffer without local edits. */
  private async onDraftChanged(d: { path?: string; action: string }): Promise<void> {
    await this.loadFiles();
    if (!d.path) return;
    const buf = this.buffers.get(d.path);
    if (!buf || this.dirty.has(d.path)) return;
    if (d.action === 'deleted') {
      this.buffers.delete(d.path);
      return;
    }
    let content: string;
    try {
      content = (await api<{ content: string }>('GET', `/api/policy/file?path=${encodeURIComponent(d.path)}`)).content;
    } catch {
      return;
    }
    if (content === buf.saved || this.dirty.has(d.path)) return;
    buf.saved = content;
    if (this.current === d.path && this.view) this.replaceDoc(content);
    else buf.state = EditorState.create({ doc: content, extensions: this.extensions(d.path) });
  }

  private extensions(path: string): Extension[] {
    return [
      basicSetup,
      studioEditorTheme,
      EditorState.tabSize.of(4),
      indentUnit.of('\t'),
      path.endsWith('.rego') ? rego : [],
      lintGutter(),
      keymap.of([
        { key: 'Mod-s', preventDefault: true, run: () => (void this.save(), true) },
        { key: 'Shift-Alt-f', preventDefault: true, run: () => (void this.format(), true) },
      ]),
      EditorView.updateListener.of((u) => {
        if (!u.docChanged || !this.current) return;
        const buf = this.buffers.get(this.current);
        if (!buf) return;
        buf.state = u.state;
        this.markDirty(buf);
        this.scheduleCheck();
      }),
      EditorView.contentAttributes.of({ 'aria-label': `Editor: ${path}` }),
    ];
  }

  private markDirty(buf: Buffer): void {
    const isDirty = buf.state.doc.toString() !== buf.saved;
    if (isDirty !== this.dirty.has(buf.path)) {
      const next = new Set(this.dirty);
      if (isDirty) next.add(buf.path);
      else next.delete(buf.path);
      this.dirty = next;
    }
  }

  async open(path: string): Promise<void> {
    if (this.current && this.view) this.buffers.get(this.current)!.state = this.view.state;
    let buf = this.buffers.get(path);
    if (!buf) {
      try {
        const r = await api<{ content: string }>('GET', `/api/policy/file?path=${encodeURIComponent(path)}`);
        buf = { path, saved: r.content, state: EditorState.create({ doc: r.content, extensions: this.extensions(path) }) };
        this.buffers.set(path, buf);
      } catch (err) {
        toast(`Cannot open ${path}: ${errorText(err)}`, 'error');
        return;
      }
    }
    this.current = path;
    await this.updateComplete;
    const host = this.querySelector<HTMLElement>('.editor-host');
    if (!host) return;
    if (!this.view) this.view = new EditorView({ state: buf.state, parent: host });
    else this.view.setState(buf.state);
    this.applyDiagnostics();
  }

  private overlay(): Record<string, string> {
    const files: Record<string, string> = {};
    if (this.current && this.view) this.buffers.get(this.current)!.state = this.view.state;
    for (const b of this.buffers.values()) {
      const text = b.state.doc.toString();
      if (text !== b.saved) files[b.path] = text;
    }
    return files;
  }

  private async save(): Promise<void> {
    const path = this.current;
    if (!path || !this.view) return;
    const buf = this.buffers.get(path)!;
    let content = this.view.state.doc.toString();
    if (this.fmtOnSave && path.endsWith('.rego')) {
      const formatted = await this.runFmt(path, content, false);
      if (formatted !== undefined && formatted !== content && this.current === path) {
        this.replaceDoc(formatted);
        content = formatted;
      }
    }
    try {
      await api('PUT', '/api/policy/file', { path, content });
      buf.saved = content;
      buf.state = this.view.state;
      this.markDirty(buf);
      toast(`Saved ${path}`, 'ok');
      void this.loadFiles();
    } catch (err) {
      toast(`Save failed: ${errorText(err)}`, 'error');
    }
  }

  private replaceDoc(text: string): void {
    const v = this.view!;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
  }

  private async runFmt(path: string, content: string, report: boolean): Promise<string | undefined> {
    try {
      const r = await api<{ ok: boolean; content?: string; problems: Problem[] }>('POST', '/api/policy/fmt', { path, content });
      if (r.ok) return r.content;
      if (report) toast(`opa fmt: ${r.problems[0]?.message ?? 'cannot format'} (line ${r.problems[0]?.line ?? '?'})`, 'error');
    } catch (err) {
      if (report) toast(`opa fmt failed: ${errorText(err)}`, 'error');
    }
    return undefined;
  }

  private async format(): Promise<void> {
    const path = this.current;
    if (!path || !this.view) return;
    const formatted = await this.runFmt(path, this.view.state.doc.toString(), true);
    if (formatted !== undefined && this.current === path && formatted !== this.view.state.doc.toString()) {
      this.replaceDoc(formatted);
      toast('Formatted with opa fmt', 'ok');
    }
  }

  private async createFile(e: Event): Promise<void> {
    e.preventDefault();
    const input = this.querySelector<HTMLInputElement>('#new-file-name')!;
    let name = input.value.trim();
    if (!name) return;
    if (!/\.(rego|json|ya?ml)$/.test(name)) name += '.rego';
    const pkg = name.endsWith('_test.rego') ? 'package airlock_test\n\nimport rego.v1\n' : 'package airlock\n\nimport rego.v1\n';
    try {
      await api('PUT', '/api/policy/file', { path: name, content: name.endsWith('.rego') ? pkg : '' });
      this.newFileOpen = false;
      await this.loadFiles();
      await this.open(name);
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  private async deleteFile(path: string): Promise<void> {
    if (!confirm(`Delete ${path} from the draft?`)) return;
    try {
      await api('DELETE', `/api/policy/file?path=${encodeURIComponent(path)}`);
      this.buffers.delete(path);
      if (this.current === path) {
        this.current = undefined;
        this.view?.destroy();
        this.view = undefined;
      }
      await this.loadFiles();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  // ---- compile as you type ---------------------------------------------------------------------

  private scheduleCheck(delay = 500): void {
    clearTimeout(this.checkTimer);
    this.checkTimer = window.setTimeout(() => void this.check(), delay);
  }

  private async check(): Promise<void> {
    const seq = ++this.checkSeq;
    this.checking = true;
    try {
      const r = await api<{ ok: boolean; problems: Problem[] }>('POST', '/api/policy/check', { files: this.overlay() });
      if (seq !== this.checkSeq) return;
      this.problems = r.problems;
      this.checkError = '';
    } catch (err) {
      if (seq !== this.checkSeq) return;
      this.checkError = errorText(err);
    } finally {
      if (seq === this.checkSeq) this.checking = false;
    }
    this.applyDiagnostics();
  }

  private applyDiagnostics(): void {
    const v = this.view;
    if (!v || !this.current) return;
    const doc = v.state.doc;
    const diagnostics: Diagnostic[] = [];
    for (const p of this.problems) {
      if (p.file !== this.current) continue;
      const line = doc.line(Math.min(Math.max(1, p.line || 1), doc.lines));
      const from = Math.min(line.from + Math.max(0, (p.column || 1) - 1), line.to);
      const word = /^[\w.]+/.exec(doc.sliceString(from, line.to))?.[0].length ?? 0;
      diagnostics.push({ from, to: Math.min(line.to, from + Math.max(1, word)), severity: 'error', message: p.message, source: 'opa' });
    }
    v.dispatch(setDiagnostics(v.state, diagnostics));
  }

  private async goTo(p: Problem): Promise<void> {
    if (p.file !== this.current && this.files.some((f) => f.path === p.file)) await this.open(p.file);
    const v = this.view;
    if (!v || p.file !== this.current) return;
    const line = v.state.doc.line(Math.min(Math.max(1, p.line || 1), v.state.doc.lines));
    const pos = Math.min(line.from + Math.max(0, (p.column || 1) - 1), line.to);
    v.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
    v.focus();
  }

  // ---- evaluate ----------------------------------------------------------------------------------

  private async loadCaptures(): Promise<void> {
    try {
      this.captures = (await api<{ records: Capture[] }>('GET', '/api/captures?limit=100')).records;
    } catch (err) {
      toast(`Cannot load captured requests: ${errorText(err)}`, 'error');
    }
  }

  private pickCapture(e: Event): void {
    const i = Number((e.target as HTMLSelectElement).value);
    const c = this.captures[i];
    if (c?.description) this.querySelector<HTMLTextAreaElement>('#eval-input')!.value = json(c.description);
  }

  private async evaluate(): Promise<void> {
    const text = this.querySelector<HTMLTextAreaElement>('#eval-input')!.value;
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (err) {
      this.evalError = `The input is not valid JSON: ${errorText(err)}`;
      return;
    }
    this.evalError = '';
    try {
      this.evalResult = await api('POST', '/api/policy/evaluate', { input, files: this.overlay() });
    } catch (err) {
      this.evalError = errorText(err);
      this.evalResult = undefined;
    }
  }

  // ---- publish -----------------------------------------------------------------------------------

  private openPublish(): void {
    this.publishResult = undefined;
    this.diff = undefined;
    this.querySelector<HTMLDialogElement>('#publish-dialog')!.showModal();
    api<{ files: Array<{ path: string; status: string; patch: string }> }>('GET', '/api/policy/diff')
      .then((r) => (this.diff = r.files))
      .catch(() => (this.diff = []));
  }

  private async publish(e: Event): Promise<void> {
    e.preventDefault();
    if (this.dirty.size) {
      this.publishResult = { ok: false, error: `Save your changes first: ${[...this.dirty].join(', ')} ${this.dirty.size === 1 ? 'has' : 'have'} unsaved edits.` };
      return;
    }
    const note = this.querySelector<HTMLInputElement>('#publish-note')!.value;
    this.publishing = true;
    try {
      const r = await api<{ record: VersionRecord }>('POST', '/api/policy/publish', { note });
      this.publishResult = { ok: true, version: r.record.version };
      this.querySelector<HTMLInputElement>('#publish-note')!.value = '';
      this.diff = [];
      toast(`Published policy ${r.record.version.slice(0, 8)}`, 'ok');
      void this.loadVersions();
    } catch (err) {
      const body = err instanceof ApiError ? err.body : {};
      this.publishResult = {
        ok: false,
        error: errorText(err),
        problems: (body.problems as Problem[] | undefined) ?? [],
        tests: (body.tests as { output: string; failed: number } | null | undefined) ?? null,
      };
    } finally {
      this.publishing = false;
    }
  }

  private async rollback(version: string): Promise<void> {
    if (!confirm(`Make version ${version.slice(0, 8)} the live policy again?`)) return;
    try {
      await api('POST', '/api/policy/rollback', { version });
      toast(`Rolled back to ${version.slice(0, 8)}`, 'ok');
      void this.loadVersions();
    } catch (err) {
      toast(`Rollback failed: ${errorText(err)}`, 'error');
    }
  }

  private async resetDraft(): Promise<void> {
    if (!confirm('Discard the draft and start again from the live policy?')) return;
    try {
      await api('POST', '/api/policy/draft/reset');
      this.buffers.clear();
      this.dirty = new Set();
      this.current = undefined;
      this.view?.destroy();
      this.view = undefined;
      await this.loadFiles();
      toast('Draft reset to the live policy', 'ok');
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  // ---- render ------------------------------------------------------------------------------------

  override render() {
    const count = this.problems.length;
    return html`
      <div class="policy-layout">
        <aside class="file-tree" aria-label="Draft files">
          <div class="pane-title">
            Draft
            <button class="ghost small" title="New file" aria-label="New file" @click=${() => (this.newFileOpen = !this.newFileOpen)}>+ New</button>
          </div>
          ${this.newFileOpen
            ? html`<form class="new-file" @submit=${(e: Event) => this.createFile(e)}>
                <input id="new-file-name" placeholder="services/example.rego" aria-label="New file name" autofocus />
              </form>`
            : nothing}
          ${this.loadError ? html`<p class="error">${this.loadError}</p>` : nothing}
          ${this.files.length === 0 && !this.loadError ? html`<p class="empty">The draft is empty. Create a file to start.</p>` : nothing}
          <ul role="list">
            ${this.files.map(
              (f, i) => html`${dirOf(f.path) && dirOf(f.path) !== dirOf(this.files[i - 1]?.path ?? '') ? html`<li class="dir" aria-hidden="true">${dirOf(f.path)}/</li>` : nothing}
              <li class="${f.path === this.current ? 'selected' : ''} ${dirOf(f.path) ? 'nested' : ''}">
                <button class="file" data-file=${f.path} title="${f.path} (Delete key removes it)" @click=${() => this.open(f.path)}
                  @keydown=${(e: KeyboardEvent) => e.key === 'Delete' && (e.preventDefault(), void this.deleteFile(f.path))} aria-current=${f.path === this.current ? 'true' : 'false'} aria-label=${f.path}>
                  ${f.path.slice(dirOf(f.path).length ? dirOf(f.path).length + 1 : 0)}${this.dirty.has(f.path) ? html`<span class="dirty" title="unsaved">●</span>` : nothing}
                  ${this.problems.some((p) => p.file === f.path) ? html`<span class="err-dot" title="has problems">!</span>` : nothing}
                </button>
                <button class="ghost small del" tabindex="-1" title="Delete ${f.path}" aria-label="Delete ${f.path}" @click=${() => this.deleteFile(f.path)}>×</button>
              </li>`,
            )}
          </ul>
        </aside>
        <section class="editor-pane">
          <div class="toolbar">
            <span class="mono file-name">${this.current ?? 'no file open'}${this.current && this.dirty.has(this.current) ? ' (unsaved)' : ''}</span>
            <span class="spacer"></span>
            <label class="check"><input type="checkbox" .checked=${this.fmtOnSave} @change=${(e: Event) => {
              this.fmtOnSave = (e.target as HTMLInputElement).checked;
              localStorage.setItem('airlock.fmtOnSave', String(this.fmtOnSave));
            }} /> fmt on save</label>
            <button id="fmt" @click=${() => this.format()} ?disabled=${!this.current} title="opa fmt (Shift+Alt+F)">Format</button>
            <button id="save" @click=${() => this.save()} ?disabled=${!this.current} title="Save (Ctrl+S)">Save</button>
            ${this.unpublished !== undefined
              ? html`<span class="tag ${this.unpublished ? 'pending' : ''}" data-testid="unpublished" title="saved draft compared with the live policy">${this.unpublished ? `${this.unpublished} unpublished` : 'draft = live'}</span>`
              : nothing}
            <button id="publish" class="primary" @click=${() => this.openPublish()}>Publish…</button>
          </div>
          <div class="editor-host"></div>
          <div class="compile-status ${count ? 'bad' : 'good'}" role="status" data-testid="compile-status">
            ${this.checkError
              ? html`Cannot check the draft: ${this.checkError}`
              : this.checking
                ? 'Checking…'
                : count
                  ? `${count} problem${count === 1 ? '' : 's'} — the draft does not compile`
                  : 'The draft compiles'}
          </div>
        </section>
        <aside class="side-pane">
          <div class="tabs" role="tablist">
            ${(['problems', 'evaluate', 'versions'] as const).map(
              (t) => html`<button role="tab" aria-selected=${this.tab === t} class=${this.tab === t ? 'active' : ''} @click=${() => {
                this.tab = t;
                if (t === 'evaluate' && !this.captures.length) void this.loadCaptures();
              }}>${t === 'problems' ? `Problems (${count})` : t === 'evaluate' ? 'Evaluate' : 'Versions'}</button>`,
            )}
          </div>
          <div class="tab-body">${this.tab === 'problems' ? this.renderProblems() : this.tab === 'evaluate' ? this.renderEvaluate() : this.renderVersions()}</div>
        </aside>
      </div>
      ${this.renderPublishDialog()}
    `;
  }

  private renderProblems() {
    if (!this.problems.length) return html`<p class="empty">No problems. The draft compiles.</p>`;
    return html`<ul class="problems" data-testid="problems">
      ${this.problems.map(
        (p) => html`<li><button class="problem" @click=${() => this.goTo(p)}>
          <span class="mono loc">${p.file}:${p.line}:${p.column}</span><span class="msg">${p.message}</span>
        </button></li>`,
      )}
    </ul>`;
  }

  private renderEvaluate() {
    const r = this.evalResult;
    return html`<div class="evaluate">
      <div class="row">
        <select aria-label="Captured request" @change=${(e: Event) => this.pickCapture(e)} @focus=${() => this.captures.length || this.loadCaptures()}>
          <option value="">${this.captures.length ? 'Pick a captured request…' : 'No captured requests yet'}</option>
          ${this.captures.map((c, i) => html`<option value=${i}>${c.time.slice(11, 19)} ${c.agent ?? ''} ${c.method ?? ''} ${c.url ?? ''}</option>`)}
        </select>
        <button class="ghost" @click=${() => (this.querySelector<HTMLTextAreaElement>('#eval-input')!.value = json(sampleInput))}>Sample</button>
      </div>
      <label for="eval-input" class="sr-only">Request description (input JSON)</label>
      <textarea id="eval-input" class="mono" spellcheck="false" rows="12" placeholder="Paste a request description (input) here, or pick a captured request"></textarea>
      <button id="evaluate" class="primary" @click=${() => this.evaluate()}>Evaluate against the draft</button>
      ${this.evalError ? html`<p class="error" role="alert">${this.evalError}</p>` : nothing}
      ${r
        ? html`<div class="decisions">
            <div class="decision-card">
              <h4>Draft</h4>
              ${r.draft.ok && r.draft.decision
                ? this.renderDecision(r.draft.decision)
                : html`<p class="error">The draft does not compile: ${r.draft.problems?.[0]?.message ?? ''}</p>`}
            </div>
            <div class="decision-card">
              <h4>Live</h4>
              ${r.live ? this.renderDecision(r.live) : html`<p class="muted">${r.liveError ?? 'No live policy'}</p>`}
            </div>
          </div>`
        : nothing}
      <airlock-explain .request=${() => ({ input: JSON.parse(this.querySelector<HTMLTextAreaElement>('#eval-input')!.value), files: this.overlay() })}></airlock-explain>
    </div>`;
  }

  renderDecision(d: Decision) {
    const { action, reason, rule, policy_version: _pv, decision_us: _us, ...rest } = d;
    return html`<div data-testid="decision">
      <span class="action ${action}">${action}</span> <span class="mono">${rule ?? ''}</span>
      <p>${reason}</p>
      ${Object.keys(rest).length ? html`<pre class="mono small">${json(rest)}</pre>` : nothing}
    </div>`;
  }

  private renderVersions() {
    const v = this.versions;
    if (!v) return html`<p class="muted">Loading…</p>`;
    return html`<div class="versions">
      <p class="muted small">
        ${v.proxy ? html`The proxy decides with <span class="mono">${v.running?.slice(0, 8) ?? 'none'}</span>.` : 'No proxy runs with this studio: publishing stores the version for the next start.'}
      </p>
      <button class="ghost" @click=${() => this.resetDraft()}>Reset draft to live policy</button>
      ${v.history.length === 0 ? html`<p class="empty">Nothing published from the studio yet. The live policy is the policy folder the proxy started with.</p>` : nothing}
      <ol class="history" data-testid="history">
        ${v.history.map(
          (h, i) => html`<li>
            <div><span class="mono">${h.version.slice(0, 8)}</span> ${h.version === v.current && i === 0 ? html`<span class="tag live">live</span>` : nothing}
              ${h.rollback_of ? html`<span class="tag">rollback</span>` : nothing}</div>
            <div class="muted small">${timeText(h.published)} · ${h.files.length} files</div>
            ${h.note ? html`<div class="small">${h.note}</div>` : nothing}
            ${h.version !== v.current ? html`<button class="ghost small" @click=${() => this.rollback(h.version)}>Roll back to this</button>` : nothing}
          </li>`,
        )}
      </ol>
    </div>`;
  }

  private renderPublishDialog() {
    const r = this.publishResult;
    return html`<dialog id="publish-dialog" aria-labelledby="publish-title">
      <form method="dialog" @submit=${(e: Event) => this.publish(e)}>
        <h3 id="publish-title">Publish the draft</h3>
        <p class="muted small">The draft must compile and pass its <code>opa test</code> tests. It then becomes the live policy (hot reload, no restart) and a new version in the history.</p>
        <div class="diff" data-testid="publish-diff">
          ${this.diff === undefined
            ? html`<p class="muted small">Comparing the draft with the live policy…</p>`
            : this.diff.length === 0
              ? html`<p class="muted small">The saved draft is the same as the live policy.</p>`
              : html`<p class="small">${this.diff.length === 1 ? '1 file differs' : `${this.diff.length} files differ`} from the live policy:</p>
                  ${this.diff.map(
                    (f) => html`<details><summary class="mono small"><span class="tag ${f.status === 'removed' ? 'danger' : ''}">${f.status}</span> ${f.path}</summary>
                      <pre class="mono small patch">${f.patch.split('\n').slice(3).map((l) => html`<span class=${l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : ''}>${l}\n</span>`)}</pre></details>`,
                  )}`}
        </div>
        <label for="publish-note">Note (optional)</label>
        <input id="publish-note" placeholder="What changed and why" />
        ${r?.ok ? html`<p class="ok" role="status" data-testid="publish-ok">Published version <span class="mono">${r.version?.slice(0, 8)}</span>. It is live.</p>` : nothing}
        ${r && !r.ok
          ? html`<div class="error" role="alert" data-testid="publish-error"><p>${r.error}</p>
              ${r.problems?.length ? html`<ul>${r.problems.map((p) => html`<li class="mono small">${p.file}:${p.line}:${p.column}: ${p.message}</li>`)}</ul>` : nothing}
              ${r.tests?.output ? html`<pre class="mono small">${r.tests.output}</pre>` : nothing}</div>`
          : nothing}
        <div class="row end">
          <button type="button" class="ghost" @click=${() => this.querySelector<HTMLDialogElement>('#publish-dialog')!.close()}>Close</button>
          <button type="submit" id="publish-confirm" class="primary" ?disabled=${this.publishing}>${this.publishing ? 'Publishing…' : 'Publish'}</button>
        </div>
      </form>
    </dialog>`;
  }
}
