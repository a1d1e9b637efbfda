// Bundles the browser app (lit + CodeMirror 6, TypeScript) with esbuild into studio/dist/.
// Run by `npm install` (scripts/setup.js) and, when the sources are newer than the bundle, by the
// studio server on start, so a dev checkout always serves what is in studio/app/.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const appDir = path.join(here, 'app');
export const distDir = path.join(here, 'dist');
const staticFiles = ['index.html', 'studio.css'];

function newestMtime(dir: string): number {
  let newest = 0;
  for (const ent of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!ent.isFile()) continue;
    const full = path.join(ent.parentPath ?? (ent as unknown as { path: string }).path, ent.name);
    newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** True when studio/dist is missing or older than any file in studio/app or this build script. */
export function studioBuildStale(): boolean {
  const stamp = path.join(distDir, '.built');
  if (!fs.existsSync(stamp)) return true;
  const built = fs.statSync(stamp).mtimeMs;
  return newestMtime(appDir) > built || fs.statSync(fileURLToPath(import.meta.url)).mtimeMs > built;
}

export interface BuildResult {
  outDir: string;
  bytes: number;
  ms: number;
}

export async function buildStudio(opts: { minify?: boolean; quiet?: boolean } = {}): Promise<BuildResult> {
  const t0 = Date.now();
  const { build } = await import('esbuild');
  // Build into a fresh folder and swap it in, so a running server never serves a half-written bundle.
  const tmp = `${distDir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const result = await build({
      entryPoints: [path.join(appDir, 'main.ts')],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      minify: opts.minify ?? true,
      sourcemap: 'linked',
      outfile: path.join(tmp, 'app.js'),
      logLevel: 'silent',
      legalComments: 'linked',
      tsconfigRaw: { compilerOptions: { experimentalDecorators: true, useDefineForClassFields: false } },
      metafile: true,
    });
    for (const f of staticFiles) fs.copyFileSync(path.join(appDir, f), path.join(tmp, f));
    fs.writeFileSync(path.join(tmp, '.built'), new Date().toISOString());
    const bytes = Object.values(result.metafile!.outputs).reduce((n, o) => n + o.bytes, 0);
    fs.rmSync(distDir, { recursive: true, force: true });
    try {
      fs.renameSync(tmp, distDir);
    } catch (err) {
      // Another process built at the same moment and won the rename: its bundle is as good as ours.
      if (!fs.existsSync(path.join(distDir, '.built'))) throw err;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const ms = Date.now() - t0;
    if (!opts.quiet) console.log(`airlock: studio built into ${path.relative(process.cwd(), distDir) || distDir} (${Math.round(bytes / 1024)} KiB, ${ms} ms)`);
    return { outDir: distDir, bytes, ms };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    const e = err as { errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }> };
    if (e.errors?.length) {
      const lines = e.errors.map((x) => (x.location ? `${x.location.file}:${x.location.line}:${x.location.column}: ${x.text}` : x.text));
      throw new Error(`studio build failed:\n${lines.join('\n')}`);
    }
    throw err;
  }
}

/** Builds only when stale; concurrent callers in one process share one build. */
let pending: Promise<unknown> | undefined;
export async function ensureStudioBuilt(opts: { quiet?: boolean } = {}): Promise<void> {
  if (!studioBuildStale()) return;
  pending ??= buildStudio(opts).finally(() => (pending = undefined));
  await pending;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildStudio({ minify: !process.argv.includes('--dev') });
}
