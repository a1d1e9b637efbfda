// The editor's unsaved buffers, for other pages that decide with "the draft": Replay sends them
// along, so what is replayed is the draft as it is on screen.
let provider: (() => Record<string, string>) | undefined;

export function provideUnsaved(fn: () => Record<string, string>): void {
  provider = fn;
}

/** path → text of every buffer whose text differs from the saved file. */
export function unsavedBuffers(): Record<string, string> {
  return provider?.() ?? {};
}
