// A temporary folder removed when the test ends; shared by the area helpers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The part of tap's Test the helpers need. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

export function tempDir(t: Teardown, prefix = 'airlock-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 }));
  return dir;
}
