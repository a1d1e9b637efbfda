// The policy editor: file tree of the draft, CodeMirror 6 with Rego, compile-as-you-type with inline
// diagnostics and a problems list, opa fmt (button and on save), evaluate pane, publish with
// version history and rollback.
import { html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { EditorView, basicSetup } from 'codemirror';
import { EditorState, type Extension } from '@codemirror/state';
import { highlightSpecialChars, keymap } from '@codemirror/view';
import { indentUnit } from '@codemirror/language';
import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { ApiError, api, live } from './api.ts';
import { LightElement, errorText, json, timeText, toast } from './base.ts';
import { rego } from './rego-language.ts';
import { INVISIBLE_CHAR, visibleLine } from './body-view.ts';
import { studioEditorTheme } from './editor-theme.ts';
import { provideUnsaved } from './draft-buffers.ts';
import './evaluate-pane.ts';
import type { EvaluatePane } from './evaluate-pane.ts';
import type {
  CheckAnswer, DiffAnswer, DraftBody, DraftFile, DraftFilesAnswer, DraftResetAnswer, FileAnswer, FileDiff, FileWriteBody, FormatAnswer, FormatBody, LiveEvents, OkAnswer,
  PolicyProblem as Problem, PublishAnswer, PublishBody, PublishRefusal, RollbackBody, TestFailure, TestReport, VersionsAnswer, VersionsDiffAnswer,
} from '../api/wire.ts';

interface Buffer {
  path: string;
  saved: string;
  state: EditorState;
}
/**
 * Unsaved editor buffers survive a studio restart, a lost session or a closed tab: they are kept in
 * this browser's localStorage (policy text only — never a token or a secret) until saved.
 */
const UNSAVED_KEY = 'airlock.unsaved.v1';
interface StoredBuffer {
  content: string;
  /** Hash of the saved text the edits started from: tells whether the file changed meanwhile. */
  base: string;
  at: string;
}

function textHash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return `${h.toString(16)}:${s.length}`;
}

function readUnsaved(): Record<string, StoredBuffer> {
  try {
    const v = JSON.parse(localStorage.getItem(UNSAVED_KEY) ?? '{}') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, StoredBuffer>) : {};
  } catch {
    return {};
  }
}

function dirOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

@customElement('policy-view')
export class PolicyView extends LightElement {
  @state() private files: DraftFile[] = [];
  @state() private current: string | undefined;
  @state() private problems: Problem[] = [];
  @state() private checking = false;
  @state() private checkError = '';
  @state() private tab: 'problems' | 'tests' | 'evaluate' | 'versions' = 'problems';
  @state() private fmtOnSave = localStorage.getItem('airlock.fmtOnSave') !== 'false';
  @state() private dirty = new Set<string>();
  @state() private versions: VersionsAnswer | undefined;
  @state() private publishing = false;
  @state() private publishResult: { ok: boolean; error?: string; problems?: Problem[]; tests?: TestReport | null; version?: string } | undefined;
  @state() private testing = false;
  @state() private testReport: TestReport | undefined;
  @state() private testError = '';
  /** The side pane at half the window (long descriptions, diffs). */
  @state() private wide = localStorage.getItem('airlock.widePane') === 'true';
  @state() private compare: { from: string; to: string; files?: FileDiff[]; error?: string } | undefined;
  @state() private rollbackTarget: string | undefined;
  @state() private compareFrom: string | undefined;
  @state() private compareTo: string | undefined;
  @state() private newFileOpen = false;
  @state() private diff: FileDiff[] | undefined;
  /** Saved draft files that differ from the live policy (undefined until known). */
  @state() private unpublished: number | undefined;
  @state() private loadError = '';

  private readonly buffers = new Map<string, Buffer>();
  private persistTimer: number | undefined;
  private restored = false;
  /** Stored edits that could not be restored yet (the file could not be read). */
  private keptUnsaved: Record<string, StoredBuffer> = {};
  private view: EditorView | undefined;
  private checkTimer: number | undefined;
  private checkSeq = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    provideUnsaved(() => this.overlay());
    // "Evaluate" from another page (a traffic row): this tab, that description.
    window.addEventListener('airlock-evaluate', (e) => {
      this.tab = 'evaluate';
      void this.updateComplete.then(() => this.querySelector<EvaluatePane>('evaluate-pane')?.load((e as CustomEvent<{ input: unknown; label?: string }>).detail.input, (e as CustomEvent<{ label?: string }>).detail.label));
    });
    // A problem named on another page (Replay: the draft does not compile): the editor, at its place.
    window.addEventListener('airlock-goto', (e) => {
      this.tab = 'problems';
      // The page becomes visible with the route change: the editor takes focus after layout.
      const p = (e as CustomEvent<Problem>).detail;
      requestAnimationFrame(() => requestAnimationFrame(() => void this.goTo(p)));
    });
    void this.loadFiles();
    void this.loadVersions();
    live.addEventListener('policy', () => void this.loadVersions());
    live.on('draft', (d) => void this.onDraftChanged(d));
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
      const r = await api<DraftFilesAnswer>('GET', '/api/policy/files');
      this.files = r.files;
      this.loadError = '';
      void this.loadUnpublished();
      const restored = await this.restoreUnsaved();
      if (!this.current && this.files.length) {
        const first = restored[0] ?? (this.files.find((f) => f.path.endsWith('.rego') && !f.test) ?? this.files[0]!).path;
        await this.open(first);
      }
      this.scheduleCheck(0);
    } catch (err) {
      this.loadError = errorText(err);
    }
  }

  private async loadVersions(): Promise<void> {
    try {
      this.versions = await api<VersionsAnswer>('GET', '/api/policy/versions');
    } catch {
      /* shown as empty history */
    }
    void this.loadUnpublished();
  }

  private async loadUnpublished(): Promise<void> {
    try {
      this.unpublished = (await api<DiffAnswer>('GET', '/api/policy/diff')).files.length;
    } catch {
      this.unpublished = undefined;
    }
  }

  /** Another tab (or this one) changed the draft: refresh the tree and any buffer without local edits. */
  private async onDraftChanged(d: LiveEvents['draft']): Promise<void> {
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
      content = (await api<FileAnswer>('GET', `/api/policy/file?path=${encodeURIComponent(d.path)}`)).content;
    } catch {
      return;
    }
    if (content === buf.saved || this.dirty.has(d.path)) return;
    buf.saved = content;
    if (this.current === d.path && this.view) this.replaceDoc(content);
    else buf.state = EditorState.create({ doc: content, extensions: this.extensions(d.path) });
  }

  /** Brings back unsaved buffers kept in this browser (once per page load); returns their paths. */
  private async restoreUnsaved(): Promise<string[]> {
    if (this.restored) return [];
    this.restored = true;
    const stored = readUnsaved();
    const back: string[] = [];
    const changed: string[] = [];
    const gone: string[] = [];
    for (const [path, entry] of Object.entries(stored)) {
      if (this.buffers.has(path) || typeof entry?.content !== 'string') continue;
      if (!this.files.some((f) => f.path === path)) {
        gone.push(path);
        continue;
      }
      let saved: string;
      try {
        saved = (await api<FileAnswer>('GET', `/api/policy/file?path=${encodeURIComponent(path)}`)).content;
      } catch {
        this.keptUnsaved[path] = entry; // try again on the next page load; lose nothing
        continue;
      }
      if (saved === entry.content) continue;
      if (textHash(saved) !== entry.base) changed.push(path);
      const buf: Buffer = { path, saved, state: EditorState.create({ doc: entry.content, extensions: this.extensions(path) }) };
      this.buffers.set(path, buf);
      this.markDirty(buf);
      back.push(path);
    }
    if (back.length) {
      toast(`Restored unsaved edits to ${back.join(', ')}${changed.length ? ` (${changed.join(', ')} changed in the draft since: compare before saving)` : ''}`, changed.length ? 'error' : 'ok');
      this.scheduleCheck(0);
    }
    if (gone.length) toast(`Unsaved edits to ${gone.join(', ')} were not restored: the file is no longer in the draft`, 'error');
    this.persistUnsaved();
    return back;
  }

  /** Writes every unsaved buffer to localStorage (debounced); saved files leave it. */
  private persistUnsaved(now = false): void {
    clearTimeout(this.persistTimer);
    const write = (): void => {
      if (!this.restored) return; // what is stored has not been read back yet: do not overwrite it
      this.syncCurrent();
      const out: Record<string, StoredBuffer> = {};
      for (const [path, entry] of Object.entries(this.keptUnsaved)) if (!this.buffers.has(path)) out[path] = entry;
      for (const b of this.buffers.values()) {
        const text = b.state.doc.toString();
        if (text !== b.saved) out[b.path] = { content: text, base: textHash(b.saved), at: new Date().toISOString() };
      }
      try {
        if (Object.keys(out).length) localStorage.setItem(UNSAVED_KEY, JSON.stringify(out));
        else localStorage.removeItem(UNSAVED_KEY);
      } catch {
        /* storage full or blocked: the in-page buffers and the unload prompt remain */
      }
    };
    if (now) write();
    else this.persistTimer = window.setTimeout(write, 250);
  }

  private extensions(path: string): Extension[] {
    return [
      basicSetup,
      // CodeMirror marks some bidi and invisible characters (RLO, LRI); the rest (RLE, PDF, FSI,
      // zero-width joiners, tag characters …) would reorder or hide policy text unseen ("Trojan
      // Source"): every character the approval cards show as ⟨U+…⟩ is marked here too.
      highlightSpecialChars({ addSpecialChars: INVISIBLE_CHAR }),
      // Lines end at a line feed only, as OPA reads them: by default CodeMirror also breaks a line at
      // a lone CR, which OPA reads as a blank, so `# note\rdeny := true` showed a rule on its own line
      // that is part of the comment (and saving turned the CR into a line feed, the rule live). The
      // lone CR is marked (highlightSpecialChars) and the buffer keeps the bytes as they are.
      EditorState.lineSeparator.of('\n'),
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
        this.persistUnsaved();
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
      window.dispatchEvent(new CustomEvent('airlock-unsaved', { detail: [...next] }));
    }
  }

  async open(path: string): Promise<void> {
    this.syncCurrent();
    let buf = this.buffers.get(path);
    if (!buf) {
      try {
        const r = await api<FileAnswer>('GET', `/api/policy/file?path=${encodeURIComponent(path)}`);
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

  /** Keeps the open file's buffer up to date with the editor (a deleted file has no buffer). */
  private syncCurrent(): void {
    const buf = this.current ? this.buffers.get(this.current) : undefined;
    if (buf && this.view) buf.state = this.view.state;
  }

  private overlay(): Record<string, string> {
    const files: Record<string, string> = {};
    this.syncCurrent();
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
      await api<OkAnswer>('PUT', '/api/policy/file', { path, content } satisfies FileWriteBody);
      buf.saved = content;
      buf.state = this.view.state;
      this.markDirty(buf);
      this.persistUnsaved(true);
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
      const r = await api<FormatAnswer>('POST', '/api/policy/fmt', { path, content } satisfies FormatBody);
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
      await api<OkAnswer>('PUT', '/api/policy/file', { path: name, content: name.endsWith('.rego') ? pkg : '' } satisfies FileWriteBody);
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
      await api<OkAnswer>('DELETE', `/api/policy/file?path=${encodeURIComponent(path)}`);
      this.buffers.delete(path);
      if (this.dirty.has(path)) {
        this.dirty = new Set([...this.dirty].filter((p) => p !== path));
        window.dispatchEvent(new CustomEvent('airlock-unsaved', { detail: [...this.dirty] }));
      }
      if (this.current === path) {
        this.current = undefined;
        this.view?.destroy();
        this.view = undefined;
      }
      this.persistUnsaved(true);
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
      const r = await api<CheckAnswer>('POST', '/api/policy/check', { files: this.overlay() } satisfies DraftBody);
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

  /** Where a problem's column is in its line: columns count code points (OPA's, and the data files' checks), CodeMirror UTF-16 units. */
  private columnAt(line: { from: number; to: number; text: string }, column: number | undefined): number {
    let at = 0;
    let n = 1;
    for (const ch of line.text) {
      if (n >= (column || 1)) break;
      at += ch.length;
      n++;
    }
    return Math.min(line.from + at, line.to);
  }

  private applyDiagnostics(): void {
    const v = this.view;
    if (!v || !this.current) return;
    const doc = v.state.doc;
    const diagnostics: Diagnostic[] = [];
    for (const p of this.problems) {
      if (p.file !== this.current) continue;
      const line = doc.line(Math.min(Math.max(1, p.line || 1), doc.lines));
      const from = this.columnAt(line, p.column);
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
    const pos = this.columnAt(line, p.column);
    v.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
    v.focus();
  }

  // ---- publish -----------------------------------------------------------------------------------

  private openPublish(): void {
    this.publishResult = undefined;
    this.diff = undefined;
    this.querySelector<HTMLDialogElement>('#publish-dialog')!.showModal();
    api<DiffAnswer>('GET', '/api/policy/diff')
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
      const r = await api<PublishAnswer>('POST', '/api/policy/publish', { note } satisfies PublishBody);
      this.publishResult = { ok: true, version: r.record.version };
      this.querySelector<HTMLInputElement>('#publish-note')!.value = '';
      this.diff = [];
      toast(`Published policy ${r.record.version.slice(0, 8)}`, 'ok');
      void this.loadVersions();
    } catch (err) {
      const body: Partial<PublishRefusal> = err instanceof ApiError ? err.body : {};
      this.publishResult = {
        ok: false,
        error: errorText(err),
        problems: body.problems ?? [],
        tests: body.tests ?? null,
      };
    } finally {
      this.publishing = false;
    }
  }

  private askRollback(version: string): void {
    this.rollbackTarget = version;
    const dialog = this.querySelector<HTMLDialogElement>('#rollback-dialog')!;
    dialog.querySelector<HTMLInputElement>('#rollback-note')!.value = '';
    dialog.showModal();
  }

  private async rollback(e: Event): Promise<void> {
    e.preventDefault();
    const version = this.rollbackTarget;
    const dialog = this.querySelector<HTMLDialogElement>('#rollback-dialog')!;
    if (!version) return dialog.close();
    const note = dialog.querySelector<HTMLInputElement>('#rollback-note')!.value.trim();
    try {
      await api<PublishAnswer>('POST', '/api/policy/rollback', { version, ...(note ? { note } : {}) } satisfies RollbackBody);
      dialog.close();
      toast(`Rolled back to ${version.slice(0, 8)}`, 'ok');
      void this.loadVersions();
    } catch (err) {
      toast(`Rollback failed: ${errorText(err)}`, 'error');
    }
  }

  private async compareVersions(from?: string, to?: string): Promise<void> {
    from ??= this.querySelector<HTMLSelectElement>('#compare-from')?.value;
    to ??= this.querySelector<HTMLSelectElement>('#compare-to')?.value;
    if (!from || !to) return;
    this.compareFrom = from;
    this.compareTo = to;
    this.compare = { from, to };
    try {
      const r = await api<VersionsDiffAnswer>('GET', `/api/policy/versions/diff?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      this.compare = { from, to, files: r.files };
    } catch (err) {
      this.compare = { from, to, error: errorText(err) };
    }
  }

  // ---- tests -------------------------------------------------------------------------------------

  private async runTests(): Promise<void> {
    this.tab = 'tests';
    this.testing = true;
    this.testError = '';
    try {
      this.testReport = await api<TestReport>('POST', '/api/policy/test', { files: this.overlay() } satisfies DraftBody);
    } catch (err) {
      this.testReport = undefined;
      this.testError = errorText(err);
    } finally {
      this.testing = false;
    }
  }

  /** A failing Rego test opens its file at its line; a failing traffic case opens in Evaluate. */
  private async openFailure(f: TestFailure): Promise<void> {
    if (f.inDraft && f.file) {
      this.querySelector<HTMLDialogElement>('#publish-dialog')?.close();
      await this.goTo({ file: f.file, line: f.line, column: 1, message: f.message });
      return;
    }
    if (f.input) {
      this.querySelector<HTMLDialogElement>('#publish-dialog')?.close();
      this.tab = 'evaluate';
      await this.updateComplete;
      await this.querySelector<EvaluatePane>('evaluate-pane')?.load(f.input, `${f.file}:${f.line} ${f.name}`);
    }
  }

  private async resetDraft(): Promise<void> {
    if (!confirm('Discard the draft and start again from the live policy?')) return;
    try {
      await api<DraftResetAnswer>('POST', '/api/policy/draft/reset');
      this.buffers.clear();
      this.dirty = new Set();
      window.dispatchEvent(new CustomEvent('airlock-unsaved', { detail: [] }));
      this.persistUnsaved(true);
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
      <h1 class="sr-only">Policy editor</h1>
      <div class="policy-layout ${this.wide ? 'wide' : ''}">
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
            <button id="run-tests" @click=${() => this.runTests()} ?disabled=${this.testing} title="Rego tests and traffic tests, as airlock test runs them">${this.testing ? 'Testing…' : 'Run tests'}</button>
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
        <aside class="side-pane" aria-label="Problems, tests, evaluate and versions">
          <div class="tabs" role="tablist">
            ${(['problems', 'tests', 'evaluate', 'versions'] as const).map(
              (t) => html`<button role="tab" aria-selected=${this.tab === t} class=${this.tab === t ? 'active' : ''} @click=${() => (this.tab = t)}>${
                t === 'problems' ? `Problems (${count})` : t === 'tests' ? `Tests${this.testReport ? ` (${this.testReport.failed ? `${this.testReport.failed} failed` : 'pass'})` : ''}` : t === 'evaluate' ? 'Evaluate' : 'Versions'
              }</button>`,
            )}
            <button class="ghost small wide-toggle" aria-pressed=${this.wide} title="Make this pane wider or narrower" @click=${() => {
              this.wide = !this.wide;
              localStorage.setItem('airlock.widePane', String(this.wide));
            }}>${this.wide ? '⇥ Narrower' : '⇤ Wider'}</button>
          </div>
          <div class="tab-body">
            <div ?hidden=${this.tab !== 'problems'}>${this.renderProblems()}</div>
            <div ?hidden=${this.tab !== 'tests'}>${this.renderTests()}</div>
            <evaluate-pane ?hidden=${this.tab !== 'evaluate'} .overlay=${() => this.overlay()}></evaluate-pane>
            <div ?hidden=${this.tab !== 'versions'}>${this.renderVersions()}</div>
          </div>
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

  private renderTestFailures(failures: TestFailure[]) {
    return html`<ul class="problems test-failures" data-testid="test-failures">
      ${failures.map(
        (f) => html`<li>
          <button class="problem" @click=${() => this.openFailure(f)} title=${f.inDraft ? 'open in the editor' : f.input ? 'evaluate this request against the draft' : ''}>
            <span class="mono loc">${f.file ? `${f.file}${f.line ? `:${f.line}` : ''}` : f.kind === 'rego' ? 'opa test' : 'traffic tests'}</span>
            <span class="msg">${f.name ? html`<b>${f.name}</b>: ` : nothing}${f.message}</span>
          </button>
        </li>`,
      )}
    </ul>`;
  }

  private renderTests() {
    const r = this.testReport;
    return html`<div class="tests">
      <p class="muted small">The same suite as <code>airlock test</code> and the publish gate: the draft's Rego tests (<code>*_test.rego</code>) and the traffic tests in <code>fixtures/tests/</code>. Unsaved edits count.</p>
      <button class="primary" @click=${() => this.runTests()} ?disabled=${this.testing}>${this.testing ? 'Running…' : 'Run tests'}</button>
      ${this.testError ? html`<p class="error" role="alert">${this.testError}</p>` : nothing}
      ${r
        ? html`<p class=${r.ok ? 'ok' : 'error'} role="status" data-testid="test-summary">${r.passed} passed, ${r.failed} failed</p>
            ${r.failures.length ? this.renderTestFailures(r.failures) : nothing}
            <details><summary class="small">Output</summary><pre class="mono small">${r.output}</pre></details>`
        : nothing}
    </div>`;
  }

  private renderVersions() {
    const v = this.versions;
    if (!v) return html`<p class="muted">Loading…</p>`;
    const live = v.current ?? v.running;
    // One option per version (a version can be in the history more than once: publish, rollback).
    const seen = new Set<string>();
    const versions = v.history.filter((h) => !seen.has(h.version) && seen.add(h.version));
    const options = (selected: string) => versions.map((h) => html`<option value=${h.version} ?selected=${h.version === selected}>${h.version.slice(0, 8)} · ${timeText(h.published)}${h.initial ? ' (initial)' : ''}</option>`);
    const special = (selected: string) => html`<option value="live" ?selected=${selected === 'live'}>live</option><option value="draft" ?selected=${selected === 'draft'}>draft (saved)</option>`;
    const from = this.compareFrom ?? versions[1]?.version ?? 'live';
    const to = this.compareTo ?? 'draft';
    const c = this.compare;
    return html`<div class="versions">
      <h2 class="sr-only">Versions</h2>
      <p class="muted small">
        ${v.proxy ? html`The proxy decides with <span class="mono">${v.running?.slice(0, 8) ?? 'none'}</span>.` : 'No proxy runs with this studio: publishing stores the version for the next start.'}
      </p>
      <button class="ghost" @click=${() => this.resetDraft()}>Reset draft to live policy</button>
      ${v.history.length >= 1
        ? html`<fieldset class="compare-versions"><legend class="small">Compare</legend>
            <div class="row wrap">
              <select aria-label="Compare from" id="compare-from" @change=${(e: Event) => (this.compareFrom = (e.target as HTMLSelectElement).value)}>${options(from)}${special(from)}</select>
              <span>→</span>
              <select aria-label="Compare to" id="compare-to" @change=${(e: Event) => (this.compareTo = (e.target as HTMLSelectElement).value)}>${special(to)}${options(to)}</select>
              <button class="small" id="compare" @click=${() => this.compareVersions()}>Compare</button>
            </div></fieldset>`
        : nothing}
      ${c ? this.renderCompare(c) : nothing}
      ${v.history.length === 0 ? html`<p class="empty">Nothing published from the studio yet. The live policy is the policy folder the proxy started with.</p>` : nothing}
      <ol class="history" data-testid="history">
        ${v.history.map(
          (h, i) => html`<li>
            <div><span class="mono">${h.version.slice(0, 8)}</span> ${h.version === live && (i === 0 || (!v.current && h.initial)) ? html`<span class="tag live">live</span>` : nothing}
              ${h.rollback_of ? html`<span class="tag">rollback</span>` : nothing}${h.initial ? html`<span class="tag" title=${h.source ?? ''}>initial</span>` : nothing}</div>
            <div class="muted small">${timeText(h.published)} · ${h.files.length} files</div>
            ${h.note ? html`<div class="small">${h.note}</div>` : nothing}
            <div class="row">
              ${h.version !== live ? html`<button class="ghost small" data-rollback=${h.version} @click=${() => this.askRollback(h.version)}>Roll back to this</button>` : nothing}
              <button class="ghost small" @click=${() => this.compareVersions(h.version, 'draft')}>Diff with draft</button>
            </div>
          </li>`,
        )}
      </ol>
      ${this.renderRollbackDialog()}
    </div>`;
  }

  private renderCompare(c: NonNullable<PolicyView['compare']>) {
    return html`<section class="compare-result" data-testid="version-diff" aria-label="Differences">
      <p class="small"><b>${c.from.slice(0, 8)}</b> → <b>${c.to.slice(0, 8)}</b>:
        ${c.error ? html`<span class="error">${c.error}</span>` : c.files === undefined ? 'comparing…' : c.files.length === 0 ? 'no differences' : `${c.files.length} file${c.files.length === 1 ? '' : 's'} differ`}
        <button class="ghost small" @click=${() => (this.compare = undefined)}>Close</button></p>
      ${(c.files ?? []).map((f) => this.renderPatch(f, true))}
    </section>`;
  }

  private renderPatch(f: FileDiff, open = false) {
    return html`<details ?open=${open}><summary class="mono small"><span class="tag ${f.status === 'removed' ? 'danger' : ''}">${f.status}</span> ${f.path}</summary>
      <pre class="mono small patch">${f.patch.split('\n').slice(3).map((l) => html`<span class=${l.startsWith('+') ? 'add' : l.startsWith('-') ? 'del' : l.startsWith('@@') ? 'hunk' : ''}>${visibleLine(l)}\n</span>`)}</pre></details>`;
  }

  private renderRollbackDialog() {
    const v = this.rollbackTarget;
    return html`<dialog id="rollback-dialog" aria-labelledby="rollback-title" @close=${() => (this.rollbackTarget = undefined)}>
      <form method="dialog" @submit=${(e: Event) => this.rollback(e)}>
        <h3 id="rollback-title">Roll back to ${v?.slice(0, 8) ?? ''}</h3>
        <p class="muted small">This version becomes the live policy again (hot reload). The rollback is recorded in the history with your note.</p>
        <label for="rollback-note">Why (recorded with the rollback)</label>
        <input id="rollback-note" placeholder="e.g. the new GitHub rule held every push" />
        <div class="row end">
          <button type="button" class="ghost" @click=${() => this.querySelector<HTMLDialogElement>('#rollback-dialog')!.close()}>Cancel</button>
          <button type="submit" id="rollback-confirm" class="primary">Roll back</button>
        </div>
      </form>
    </dialog>`;
  }

  private renderPublishDialog() {
    const r = this.publishResult;
    return html`<dialog id="publish-dialog" aria-labelledby="publish-title">
      <form method="dialog" @submit=${(e: Event) => this.publish(e)}>
        <h3 id="publish-title">Publish the draft</h3>
        <p class="muted small">The draft must compile and pass its tests — the same suite as <code>airlock test</code>: its Rego tests and the traffic tests in <code>fixtures/tests/</code>. It then becomes the live policy (hot reload, no restart) and a new version in the history.</p>
        <div class="diff" data-testid="publish-diff">
          ${this.diff === undefined
            ? html`<p class="muted small">Comparing the draft with the live policy…</p>`
            : this.diff.length === 0
              ? html`<p class="muted small">The saved draft is the same as the live policy.</p>`
              : html`<p class="small">${this.diff.length === 1 ? '1 file differs' : `${this.diff.length} files differ`} from the live policy:</p>
                  ${this.diff.map((f) => this.renderPatch(f))}`}
        </div>
        <label for="publish-note">Note (optional)</label>
        <input id="publish-note" placeholder="What changed and why" />
        ${r?.ok ? html`<p class="ok" role="status" data-testid="publish-ok">Published version <span class="mono">${r.version?.slice(0, 8)}</span>. It is live.</p>` : nothing}
        ${r && !r.ok
          ? html`<div class="error" role="alert" data-testid="publish-error"><p>${r.error}</p>
              ${r.problems?.length ? html`<ul>${r.problems.map((p) => html`<li class="mono small">${p.file}:${p.line}:${p.column}: ${p.message}</li>`)}</ul>` : nothing}
              ${r.tests?.failures?.length ? this.renderTestFailures(r.tests.failures) : nothing}
              ${r.tests?.output ? html`<details><summary class="small">Output</summary><pre class="mono small">${r.tests.output}</pre></details>` : nothing}</div>`
          : nothing}
        <div class="row end">
          <button type="button" class="ghost" @click=${() => this.querySelector<HTMLDialogElement>('#publish-dialog')!.close()}>Close</button>
          <button type="submit" id="publish-confirm" class="primary" ?disabled=${this.publishing}>${this.publishing ? 'Publishing…' : 'Publish'}</button>
        </div>
      </form>
    </dialog>`;
  }
}
