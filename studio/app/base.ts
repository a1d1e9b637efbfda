// Shared bits of the studio's components: light-DOM lit elements (one global stylesheet, and
// CodeMirror and the tests see plain DOM), formatting helpers, and a toast channel.
import { LitElement } from 'lit';

export class LightElement extends LitElement {
  protected override createRenderRoot(): HTMLElement {
    return this;
  }
}

export function toast(message: string, kind: 'ok' | 'error' | 'info' = 'info'): void {
  window.dispatchEvent(new CustomEvent('airlock-toast', { detail: { message, kind } }));
}

/** Says something to screen readers through the shell's live region (new approvals, outcomes). */
export function announce(message: string): void {
  window.dispatchEvent(new CustomEvent('airlock-announce', { detail: message }));
}

export function timeText(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { hour12: false });
}

export function shortTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleTimeString(undefined, { hour12: false });
}

/**
 * The time of day when `iso` is today (local time), else the date too: an approval waiting for the
 * agent's retry can be a day old, and "14:02:11" alone reads as this afternoon's.
 */
export function dayTime(iso: string | undefined, now = new Date()): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toDateString() === now.toDateString() ? d.toLocaleTimeString(undefined, { hour12: false }) : d.toLocaleString(undefined, { hour12: false });
}

/** "0.4 ms", "12 ms", "1.3 s", "2 min 05 s". */
export function durationText(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function json(v: unknown): string {
  return JSON.stringify(v, null, 2);
}
