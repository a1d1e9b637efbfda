// Types of bundle.js (plain JavaScript: bin/airlock.js runs it before any TypeScript loader).
export function bundleDir(root?: string): string;
export function ensureBundle(opts: { entry: string; name: string; root?: string }): { file: string; dir: string; key: string; built: boolean };
export function keepBundle(bundle: { file: string; dir: string }): () => string;
