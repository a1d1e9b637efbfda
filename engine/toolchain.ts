// Finds the `opa` CLI, or installs the pinned release with `go install` into the project-local
// tools folder. The pinned version lives in one place: package.json "airlock.opaVersion".
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { plantable } from '../lib/plantable.ts';

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const toolsBin = path.join(projectRoot, '.tools', 'bin');

export function pinnedOpaVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(projectRoot, 'package.json'), 'utf8')) as {
    airlock: { opaVersion: string };
  };
  return pkg.airlock.opaVersion;
}

export class ToolchainError extends Error {}

function onPath(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, cmd);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      /* keep looking */
    }
  }
  return undefined;
}

let cached: string | undefined;

/**
 * opa on PATH, passing over one this user could have written (`plantable`): opa compiles the
 * policy the proxy obeys, and an agent in `airlock run`'s sandbox writes what the user can
 * (`~/.local/bin`, which profiles put first on PATH; `~/go/bin`): an opa of its making would build
 * the agent's policy into the next `airlock start`. Relative PATH entries are passed over too.
 */
export function opaOnPath(): { found?: string; passedOver: string[] } {
  const passedOver: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'opa');
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
    } catch {
      continue;
    }
    if (path.isAbsolute(dir) && !plantable(candidate)) return { found: candidate, passedOver };
    passedOver.push(candidate);
  }
  return { passedOver };
}

/**
 * The opa binary to use: AIRLOCK_OPA, then the project's tools folder (kept read-only inside the
 * sandbox), then PATH (see opaOnPath).
 */
export function findOpa(): string | undefined {
  if (cached) return cached;
  const fromEnv = process.env.AIRLOCK_OPA;
  if (fromEnv) {
    if (!fs.existsSync(fromEnv)) throw new ToolchainError(`AIRLOCK_OPA is set to ${fromEnv}, which does not exist`);
    return (cached = fromEnv);
  }
  const local = path.join(toolsBin, 'opa');
  if (fs.existsSync(local)) return (cached = local);
  return (cached = opaOnPath().found);
}

export function requireOpa(): string {
  const opa = findOpa();
  if (!opa) {
    const passed = opaOnPath().passedOver;
    throw new ToolchainError(
      passed.length
        ? `the opa on PATH (${passed.join(', ')}) was passed over: your user can write it, and so can an agent in ` +
            `\`airlock run\`'s sandbox, which would then compile the policy Airlock obeys. Copy it into ${toolsBin} ` +
            `(read-only inside the sandbox), install it where only root writes, or name it in AIRLOCK_OPA.`
        : `the opa CLI was not found. Run \`npm install\` (it installs OPA ${pinnedOpaVersion()} with Go), ` +
            `or install opa yourself and put it on PATH or in AIRLOCK_OPA.`,
    );
  }
  return opa;
}

/**
 * The environment `go` runs with: yours, without Go's own settings file (`go env -w`, kept in
 * ~/.config/go/env), which an agent in `airlock run`'s sandbox can write: GOTOOLCHAIN=<v>+path there
 * made `go` run a `go<v>` of the agent's from PATH, GOPROXY/GOSUMDB/GOFLAGS would build the opa that
 * compiles every policy from its sources. Settings in the environment still apply.
 */
export function goEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, GOENV: 'off' };
}

export function goVersion(go: string): [number, number] | undefined {
  const out = spawnSync(go, ['env', 'GOVERSION'], { encoding: 'utf8', env: goEnv() }).stdout?.trim() ?? '';
  const m = /^go(\d+)\.(\d+)/.exec(out);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Ensures opa is available, installing the pinned version with `go install` if needed. */
export function ensureOpa(log: (line: string) => void = console.log): string {
  const existing = findOpa();
  if (existing) return existing;
  const version = pinnedOpaVersion();
  const go = onPath('go') ?? (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  const gov = go ? goVersion(go) : undefined;
  if (!go || !gov || gov[0] < 1 || (gov[0] === 1 && gov[1] < 25)) {
    throw new ToolchainError(
      `Airlock needs the opa CLI to compile policies, and neither opa nor Go >= 1.25 was found` +
        (gov ? ` (found Go ${gov.join('.')})` : '') +
        (opaOnPath().passedOver.length ? ` (passed over: ${opaOnPath().passedOver.join(', ')}, which your user, and so an agent in \`airlock run\`, could have written)` : '') +
        `.\nInstall one of:\n  - OPA ${version}: https://www.openpolicyagent.org/docs/latest/#running-opa (then put opa on PATH or set AIRLOCK_OPA)\n` +
        `  - Go >= 1.25 (https://go.dev/dl/), then run \`npm install\` again.`,
    );
  }
  log(`airlock: installing OPA ${version} with go install (one time, into .tools/bin) …`);
  fs.mkdirSync(toolsBin, { recursive: true });
  execFileSync(go, ['install', `github.com/open-policy-agent/opa@${version}`], {
    stdio: 'inherit',
    env: { ...goEnv(), GOBIN: toolsBin, CGO_ENABLED: '0' },
  });
  cached = undefined;
  const installed = findOpa();
  if (!installed) throw new ToolchainError(`go install finished but ${path.join(toolsBin, 'opa')} is missing`);
  return installed;
}
