// The studio shell: login, navigation, connection/proxy status, toasts, title badge.
import { html, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { ApiError, api, authEvents, live, login, logout, resumeSession, type LiveState } from './api.ts';
import { LightElement, errorText } from './base.ts';
import type { StatusAnswer } from '../api/wire.ts';
import './policy-view.ts';
import './replay-view.ts';
import './approvals-view.ts';
import './traffic-view.ts';
import './admin-views.ts';
import './sessions-view.ts';

const pages = [
  { id: 'policy', label: 'Policy' },
  { id: 'replay', label: 'Replay' },
  { id: 'approvals', label: 'Approvals' },
  { id: 'traffic', label: 'Traffic' },
  { id: 'sessions', label: 'Sessions' },
  { id: 'agents', label: 'Agents' },
  { id: 'secrets', label: 'Secrets' },
  { id: 'limits', label: 'Limits' },
] as const;
type PageId = (typeof pages)[number]['id'];

@customElement('airlock-studio')
export class AirlockStudio extends LightElement {
  /** ended: the session ended while the app was in use (a studio restart, expiry): log in again in place, nothing on the page is lost. */
  @state() private auth: 'checking' | 'out' | 'in' | 'ended' = 'checking';
  @state() private announcement = '';
  @state() private loginError = '';
  @state() private page: PageId = 'policy';
  @state() private conn: LiveState = 'closed';
  @state() private status: StatusAnswer | undefined;
  @state() private pending = 0;
  @state() private toasts: Array<{ id: number; message: string; kind: string }> = [];
  private toastId = 0;

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('hashchange', () => {
      // A login URL opened in a tab that already shows the studio only changes the fragment.
      if (/(?:^#|&)token=/.test(location.hash)) void this.boot();
      else this.route();
    });
    window.addEventListener('airlock-toast', (e) => this.addToast((e as CustomEvent).detail));
    window.addEventListener('airlock-pending', (e) => this.setPending((e as CustomEvent<number>).detail));
    window.addEventListener('airlock-announce', (e) => this.announce((e as CustomEvent<string>).detail));
    authEvents.addEventListener('logged-out', () => this.loggedOut());
    live.addEventListener('state', (e) => {
      this.conn = (e as CustomEvent<LiveState>).detail;
      if (this.conn === 'open') void this.loadStatus();
    });
    live.addEventListener('policy', () => void this.loadStatus());
    this.route();
    void this.boot();
  }

  private route(): void {
    const id = location.hash.replace(/^#\/?/, '').split(/[/?]/)[0] as PageId;
    if (pages.some((p) => p.id === id)) this.page = id;
  }

  private async boot(): Promise<void> {
    // The login URL carries the token in the fragment: never sent to any server, removed at once.
    const m = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash);
    if (m) {
      history.replaceState(null, '', `${location.pathname}#/policy`);
      try {
        await login(m[1]!);
        return this.loggedIn();
      } catch (err) {
        this.loginError = errorText(err);
      }
    }
    try {
      if (await resumeSession()) return this.loggedIn();
    } catch (err) {
      this.loginError = errorText(err);
    }
    this.auth = 'out';
  }

  private loggedIn(): void {
    this.auth = 'in';
    this.loginError = '';
    live.start();
    void this.loadStatus();
  }

  private loggedOut(): void {
    if (this.auth !== 'in') return;
    live.stop();
    // Keep the app (and the editor's unsaved buffers) on screen; the login opens over it.
    this.auth = 'ended';
    this.loginError = '';
  }

  /** Screen readers hear it through the live region; cleared first so the same text is said again. */
  private announce(text: string): void {
    this.announcement = '';
    requestAnimationFrame(() => (this.announcement = text));
  }

  protected override updated(): void {
    const dialog = this.querySelector<HTMLDialogElement>('#relogin');
    if (dialog && !dialog.open) {
      dialog.showModal();
      dialog.querySelector<HTMLInputElement>('#relogin-token')?.focus();
    }
  }

  private async submitRelogin(e: Event): Promise<void> {
    e.preventDefault();
    const input = this.querySelector<HTMLInputElement>('#relogin-token')!;
    try {
      await login(input.value.trim());
      input.value = '';
      this.querySelector<HTMLDialogElement>('#relogin')?.close();
      // Closing the dialog gives focus back to what had it: pages move it off anything that acts at
      // a keypress (an approval's button), since the hand that pressed Enter here may press again.
      window.dispatchEvent(new Event('airlock-focus-returned'));
      this.loggedIn();
    } catch (err) {
      this.loginError = err instanceof ApiError && err.status === 401 ? 'That token is not right.' : errorText(err);
    }
  }

  private async loadStatus(): Promise<void> {
    try {
      this.status = await api<StatusAnswer>('GET', '/api/status');
    } catch {
      /* the connection indicator already says what is wrong */
    }
  }

  private setPending(n: number): void {
    this.pending = n;
    document.title = n > 0 ? `(${n}) Airlock Studio` : 'Airlock Studio';
  }

  private addToast(t: { message: string; kind: string }): void {
    const id = ++this.toastId;
    this.toasts = [...this.toasts, { id, ...t }].slice(-4);
    setTimeout(() => (this.toasts = this.toasts.filter((x) => x.id !== id)), t.kind === 'error' ? 8000 : 4000);
  }

  private async submitLogin(e: Event): Promise<void> {
    e.preventDefault();
    const input = this.querySelector<HTMLInputElement>('#login-token')!;
    try {
      await login(input.value.trim());
      input.value = '';
      this.loggedIn();
    } catch (err) {
      this.loginError = err instanceof ApiError && err.status === 401 ? 'That token is not right.' : errorText(err);
    }
  }

  private async logout(): Promise<void> {
    live.stop();
    try {
      await logout();
    } finally {
      this.auth = 'out';
      this.loginError = '';
    }
  }

  override render() {
    if (this.auth === 'checking') return html`<div class="center-screen muted">Loading…</div>`;
    if (this.auth === 'out') return this.renderLogin();
    return html`
      <a class="skip-link" href="#main" @click=${(e: Event) => {
        e.preventDefault();
        this.querySelector<HTMLElement>('main')?.focus();
      }}>Skip to content</a>
      <header class="topbar">
        <a class="brand" href="#/policy">Airlock <span>Studio</span></a>
        <nav aria-label="Studio sections">
          ${pages.map(
            (p) => html`<a href="#/${p.id}" class=${this.page === p.id ? 'active' : ''} aria-current=${this.page === p.id ? 'page' : 'false'}
              >${p.label}${p.id === 'approvals' && this.pending > 0 ? html` <span class="badge" data-testid="pending-badge">${this.pending}</span>` : nothing}</a
            >`,
          )}
        </nav>
        <div class="status">${this.renderStatus()}</div>
        <button class="ghost" @click=${() => this.logout()}>Log out</button>
      </header>
      ${this.conn === 'reconnecting'
        ? html`<div class="banner warn" role="status">Connection to the studio lost — reconnecting… Live updates resume when it is back.</div>`
        : nothing}
      <main id="main" tabindex="-1">
        <policy-view ?hidden=${this.page !== 'policy'}></policy-view>
        <replay-view ?hidden=${this.page !== 'replay'}></replay-view>
        <approvals-view ?hidden=${this.page !== 'approvals'} .active=${this.page === 'approvals'}></approvals-view>
        <traffic-view ?hidden=${this.page !== 'traffic'}></traffic-view>
        ${this.page === 'sessions' ? html`<sessions-view></sessions-view>` : nothing}
        ${this.page === 'agents' ? html`<agents-view></agents-view>` : nothing}
        ${this.page === 'secrets' ? html`<secrets-view></secrets-view>` : nothing}
        ${this.page === 'limits' ? html`<limits-view></limits-view>` : nothing}
      </main>
      <div class="sr-only" role="status" aria-live="polite" aria-atomic="true" data-testid="announcer">${this.announcement}</div>
      ${this.auth === 'ended' ? this.renderRelogin() : nothing}
      <div class="toasts" aria-live="polite">${this.toasts.map(
        (t) => html`<div class="toast ${t.kind}" role=${t.kind === 'error' ? 'alert' : 'status'} title="Click to dismiss" @click=${() => (this.toasts = this.toasts.filter((x) => x.id !== t.id))}>${t.message}</div>`,
      )}</div>
    `;
  }

  private renderStatus() {
    const s = this.status;
    const conn =
      this.conn === 'open'
        ? html`<span class="dot ok"></span>live`
        : this.conn === 'reconnecting'
          ? html`<span class="dot warn"></span>reconnecting`
          : html`<span class="dot"></span>${this.conn}`;
    const proxy = !s
      ? nothing
      : s.proxy.running
        ? html`<span title="proxy address"><span class="dot ok"></span>proxy ${s.proxy.address ?? 'running'}</span>`
        : html`<span title="no proxy runs in this process"><span class="dot off"></span>proxy stopped</span>`;
    const version = s?.policy.running ?? s?.policy.current;
    return html`<span data-testid="conn">${conn}</span> ${proxy} ${version ? html`<span class="mono" title="live policy version">policy ${version.slice(0, 8)}</span>` : nothing}`;
  }

  /** The login over the page after the session ended: the page stays as it was underneath. */
  private renderRelogin() {
    return html`<dialog id="relogin" class="relogin" aria-labelledby="relogin-title" @cancel=${(e: Event) => e.preventDefault()}>
      <form class="login" @submit=${(e: Event) => this.submitRelogin(e)}>
        <h2 id="relogin-title">Log in again</h2>
        <p>Your studio session ended: the studio restarted, or the session expired. Nothing on this page is lost — unsaved edits stay in the editor (and in this browser) and come back after you log in.</p>
        <p class="muted small">Paste the token from <code>&lt;home&gt;/studio-token</code>.</p>
        <label for="relogin-token">Studio token</label>
        <input id="relogin-token" type="password" autocomplete="current-password" required />
        ${this.loginError ? html`<p class="error" role="alert">${this.loginError}</p>` : nothing}
        <button type="submit" class="primary">Log in</button>
      </form>
    </dialog>`;
  }

  private renderLogin() {
    return html`<div class="center-screen">
      <form class="login card" @submit=${(e: Event) => this.submitLogin(e)}>
        <h1>Airlock Studio</h1>
        <p class="muted">Open the login URL that <code>airlock start</code> printed, or paste the token from <code>&lt;home&gt;/studio-token</code>.</p>
        <label for="login-token">Studio token</label>
        <input id="login-token" type="password" autocomplete="current-password" required autofocus />
        ${this.loginError ? html`<p class="error" role="alert">${this.loginError}</p>` : nothing}
        <button type="submit" class="primary">Log in</button>
      </form>
    </div>`;
  }
}
