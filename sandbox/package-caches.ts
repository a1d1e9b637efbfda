// Package managers' and build tools' caches in the home folder. Their content is used later, on the
// host, without being checked again: npm takes a packument and its tarball from `_cacache` while
// the cached answer is fresh (both are the writer's, integrity included) and runs its install
// scripts; pip installs a cached wheel; cargo builds (build.rs runs) what `registry/src` holds; Go
// builds `pkg/mod` and links the objects of its build cache; corepack runs the yarn or pnpm it keeps;
// pre-commit runs the hook environments it installed at every commit; gradlew runs the distribution
// in `wrapper/dists`. An agent that writes what the user can would have its code run by the user's
// next install, build or commit outside the sandbox.
//
// So the sandbox binds a folder of the agent's own over each (kept per agent in the state folder,
// which no host tool reads): the agent's tools work with a cache (cold at first, warm on its next
// runs), and the host's caches stay as they were.
import fs from 'node:fs';
import path from 'node:path';
import { inside, isDir, realFolders, realPath } from './paths.ts';
import { lookupTable } from '../lib/records.ts';

/** A cache folder as the home folder (or the environment) places it, and what runs from it. */
export interface PackageCache {
  /** Where host tools read it. */
  path: string;
  /** A short name, unique per list: the private folder's name. */
  name: string;
}

/** Relative to the home folder: name → default path. The environment may move some (below). */
const DEFAULTS: Readonly<Record<string, string>> = lookupTable({
  npm: '.npm', // _cacache, npx's _npx (packages `npx x` runs)
  yarn: '.cache/yarn',
  'yarn-berry': '.yarn/berry',
  pnpm: '.local/share/pnpm/store',
  'pnpm-cache': '.cache/pnpm',
  corepack: '.cache/node/corepack',
  bun: '.bun/install/cache',
  deno: '.cache/deno',
  pip: '.cache/pip',
  uv: '.cache/uv',
  poetry: '.cache/pypoetry',
  'pre-commit': '.cache/pre-commit',
  'cargo-registry': '.cargo/registry',
  'cargo-git': '.cargo/git',
  'go-mod': 'go/pkg/mod',
  'go-build': '.cache/go-build',
  maven: '.m2/repository',
  'gradle-caches': '.gradle/caches',
  'gradle-wrapper': '.gradle/wrapper/dists',
  composer: '.cache/composer',
  nuget: '.nuget/packages',
  ccache: '.cache/ccache',
  'ccache-old': '.ccache',
  sccache: '.cache/sccache',
  // Eighteenth pass: programs and code host tools take from a cache unchecked: the browsers and
  // drivers end-to-end test runners start, Electron's builds and node-gyp's headers (native modules
  // compile against them), Hugging Face's remote-code modules and pickled weights and torch hub's
  // `hubconf.py` (imported by `from_pretrained`, `torch.hub.load`), virtualenv's seed wheels (the pip
  // of every new environment), coursier's and Ivy's jars (sbt, mill, ant builds).
  playwright: '.cache/ms-playwright',
  puppeteer: '.cache/puppeteer',
  cypress: '.cache/Cypress',
  selenium: '.cache/selenium',
  electron: '.cache/electron',
  'node-gyp': '.cache/node-gyp',
  huggingface: '.cache/huggingface',
  torch: '.cache/torch',
  virtualenv: '.local/share/virtualenv',
  coursier: '.cache/coursier',
  ivy: '.ivy2/cache',
  // Julia's packages, their precompiled images (loaded in place of the sources) and artifacts
  // (binaries), cabal's store of built libraries and its source tarballs, Bazel's output bases
  // (fetched external repositories and action outputs a later build takes as they are).
  'julia-packages': '.julia/packages',
  'julia-compiled': '.julia/compiled',
  'julia-artifacts': '.julia/artifacts',
  'cabal-store': '.cabal/store',
  'cabal-packages': '.cabal/packages',
  bazel: '.cache/bazel',
  // Nineteenth pass: caches that Python tools editors run on every file load with `pickle.load`
  // (which runs whatever code the pickle names): parso's and jedi's parsed modules (IPython's
  // completion, jedi-language-server, pylsp), pylint's stats (VS Code's extension runs pylint on
  // opening a file), black's file cache (format on save). And Dart's pub cache, whose package sources
  // every `dart`/`flutter` build compiles in place, as Go's module cache.
  parso: '.cache/parso',
  jedi: '.cache/jedi',
  pylint: '.cache/pylint',
  'pylint-old': '.pylint.d',
  black: '.cache/black',
  pub: '.pub-cache/hosted',
  'pub-git': '.pub-cache/git',
  // Models and data that libraries load with pickle (torch.load of a whole checkpoint, joblib):
  // Whisper's and CLIP's checkpoints, NLTK's data (its punkt tokenizers were pickles),
  // scikit-learn's fetched data sets, Keras's models (an HDF5 model's Lambda layers run code).
  whisper: '.cache/whisper',
  clip: '.cache/clip',
  nltk: 'nltk_data',
  sklearn: 'scikit_learn_data',
  keras: '.keras',
  // Twenty-first pass: Neovim's Lua module caches (`vim.loader`'s `luac/`, lazy.nvim's, impatient's
  // `luacache*`): a chunk is taken in place of the module whose size and modification time its
  // header records, both the writer's to copy, so a forged one runs at the user's next `nvim`.
  nvim: '.cache/nvim',
  // Twenty-eighth pass: programs and code host tools run from a cache without checking them again:
  // the bazel binary bazelisk downloaded (run at every `bazel`), the Maven distribution `./mvnw`
  // unpacked (its `bin/mvn` runs at every `./mvnw`, and the IDE's on opening the folder), Zig's
  // package and build caches (a dependency's `build.zig` and the compiled build runner, found by a
  // hash of the inputs, run at every `zig build`), Conan's recipes (Python run at every `conan
  // install`) and binaries, Gradle's native library (loaded by every Gradle daemon) and the JDKs its
  // toolchains provisioned (the compiler it runs), stack's GHCs and built snapshots, conda's user
  // package cache (linked into every new environment as extracted), rebar3's plugins and packages.
  bazelisk: '.cache/bazelisk',
  'maven-wrapper': '.m2/wrapper',
  zig: '.cache/zig',
  conan: '.conan2/p',
  'conan-old': '.conan/data',
  'gradle-native': '.gradle/native',
  'gradle-jdks': '.gradle/jdks',
  'stack-programs': '.stack/programs',
  'stack-snapshots': '.stack/snapshots',
  'conda-pkgs': '.conda/pkgs',
  rebar3: '.cache/rebar3',
});
/** Caches never made when missing: folders directly in the home folder the tool makes itself. */
const NOT_MADE = new Set(['ccache-old', 'pylint-old', 'nltk', 'sklearn', 'keras']);

function env1(env: NodeJS.ProcessEnv, name: string): string | undefined {
  // npm reads its settings in any case (npm_config_cache, NPM_CONFIG_CACHE).
  const key = name.startsWith('npm_') ? Object.keys(env).find((k) => k.toLowerCase() === name) : name;
  const v = key ? env[key] : undefined;
  return v && path.isAbsolute(v) ? v : undefined;
}

/** Where the environment moves a cache (tools' own variables, XDG_CACHE_HOME). */
function moved(name: string, rel: string, env: NodeJS.ProcessEnv): string | undefined {
  const cacheHome = env1(env, 'XDG_CACHE_HOME');
  return ownVariable(name, env) ?? (rel.startsWith('.cache/') && cacheHome ? path.join(cacheHome, rel.slice('.cache/'.length)) : undefined);
}

function ownVariable(name: string, env: NodeJS.ProcessEnv): string | undefined {
  const cargo = env1(env, 'CARGO_HOME');
  const gradle = env1(env, 'GRADLE_USER_HOME');
  const gopath = env.GOPATH?.split(':').find((p) => path.isAbsolute(p));
  // The first depot of JULIA_DEPOT_PATH is where Julia writes.
  const julia = env.JULIA_DEPOT_PATH?.split(':').find((p) => path.isAbsolute(p));
  const pub = env1(env, 'PUB_CACHE');
  const maven = env1(env, 'MAVEN_USER_HOME');
  const conan = env1(env, 'CONAN_HOME');
  const conanOld = env1(env, 'CONAN_USER_HOME');
  const stack = env1(env, 'STACK_ROOT');
  // conda's first package folder (CONDA_PKGS_DIRS is a comma-separated list).
  const condaPkgs = env.CONDA_PKGS_DIRS?.split(',').map((p) => p.trim()).find((p) => path.isAbsolute(p));
  switch (name) {
    case 'npm': return env1(env, 'npm_config_cache');
    case 'pip': return env1(env, 'PIP_CACHE_DIR');
    case 'uv': return env1(env, 'UV_CACHE_DIR');
    case 'corepack': return env1(env, 'COREPACK_HOME');
    case 'deno': return env1(env, 'DENO_DIR');
    case 'pre-commit': return env1(env, 'PRE_COMMIT_HOME');
    case 'poetry': return env1(env, 'POETRY_CACHE_DIR');
    case 'yarn': return env1(env, 'YARN_CACHE_FOLDER');
    case 'bun': return env1(env, 'BUN_INSTALL_CACHE_DIR');
    case 'composer': return env1(env, 'COMPOSER_CACHE_DIR');
    case 'nuget': return env1(env, 'NUGET_PACKAGES');
    case 'ccache': return env1(env, 'CCACHE_DIR');
    case 'sccache': return env1(env, 'SCCACHE_DIR');
    case 'playwright': return env1(env, 'PLAYWRIGHT_BROWSERS_PATH');
    case 'puppeteer': return env1(env, 'PUPPETEER_CACHE_DIR');
    case 'cypress': return env1(env, 'CYPRESS_CACHE_FOLDER');
    case 'selenium': return env1(env, 'SE_CACHE_PATH');
    case 'electron': return env1(env, 'ELECTRON_CACHE');
    case 'node-gyp': return env1(env, 'npm_config_devdir');
    case 'huggingface': return env1(env, 'HF_HOME');
    case 'torch': return env1(env, 'TORCH_HOME');
    case 'virtualenv': return env1(env, 'VIRTUALENV_OVERRIDE_APP_DATA');
    case 'coursier': return env1(env, 'COURSIER_CACHE');
    case 'pylint': return env1(env, 'PYLINT_HOME');
    case 'nltk': return env.NLTK_DATA?.split(':').find((p) => path.isAbsolute(p));
    case 'sklearn': return env1(env, 'SCIKIT_LEARN_DATA');
    case 'keras': return env1(env, 'KERAS_HOME');
    case 'black': return env1(env, 'BLACK_CACHE_DIR');
    case 'pub': return pub && path.join(pub, 'hosted');
    case 'pub-git': return pub && path.join(pub, 'git');
    case 'julia-packages': return julia && path.join(julia, 'packages');
    case 'julia-compiled': return julia && path.join(julia, 'compiled');
    case 'julia-artifacts': return julia && path.join(julia, 'artifacts');
    case 'cargo-registry': return cargo && path.join(cargo, 'registry');
    case 'cargo-git': return cargo && path.join(cargo, 'git');
    case 'go-mod': return env1(env, 'GOMODCACHE') ?? (gopath && path.join(gopath, 'pkg', 'mod'));
    case 'go-build': return env1(env, 'GOCACHE');
    case 'gradle-caches': return gradle && path.join(gradle, 'caches');
    case 'gradle-wrapper': return gradle && path.join(gradle, 'wrapper', 'dists');
    case 'gradle-native': return gradle && path.join(gradle, 'native');
    case 'gradle-jdks': return gradle && path.join(gradle, 'jdks');
    case 'bazelisk': return env1(env, 'BAZELISK_HOME');
    case 'maven-wrapper': return maven && path.join(maven, 'wrapper');
    case 'zig': return env1(env, 'ZIG_GLOBAL_CACHE_DIR');
    case 'conan': return conan && path.join(conan, 'p');
    case 'conan-old': return conanOld && path.join(conanOld, '.conan', 'data');
    case 'stack-programs': return stack && path.join(stack, 'programs');
    case 'stack-snapshots': return stack && path.join(stack, 'snapshots');
    case 'conda-pkgs': return condaPkgs;
    default: return undefined;
  }
}

/**
 * The caches to give the agent a private copy of: each that exists, and each missing one whose
 * tool's folder exists (`~/.cargo` for `~/.cargo/registry`; the home folder for `~/.npm`), made
 * empty first (private) so that the agent cannot make the first one the host then uses. Never one
 * that holds the working directory or lies inside it (the project's own), nor the home folder, a
 * root or a temp folder itself.
 */
export function packageCaches(homeDir: string, env: NodeJS.ProcessEnv, cwd: string, temps: string[] = []): PackageCache[] {
  if (!homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root) return [];
  const here = realPath(path.resolve(cwd));
  const out: PackageCache[] = [];
  const seen = new Set<string>();
  // Where the environment moves a cache and, when it exists, where the home folder has it: the
  // user's other shells may lack the variable. npm sets npm_config_cache for everything an npm script
  // starts (`npm run agent` → `airlock run`), so its home cache is made too when missing.
  const places = Object.entries(DEFAULTS).flatMap(([name, rel]) => {
    const other = moved(name, rel, env);
    const home = { name: `${name}-home`, rel, other: undefined, make: name === 'npm' };
    return other ? [{ name, rel, other, make: true }, home] : [{ name, rel, other, make: true }];
  });
  for (const { name, rel, other, make } of places) {
    const p = path.resolve(other ?? path.join(homeDir, rel));
    // The tool's own folder: `~/.cargo` for `~/.cargo/registry`, the home folder for `~/.npm`.
    const top = other ? path.dirname(p) : rel.includes('/') ? path.join(homeDir, rel.split('/')[0]!) : homeDir;
    // Not ~/.ccache nor ~/.pylint.d: ccache and pylint use them instead of ~/.cache's once they exist;
    // nor a folder of a library's data directly in the home folder.
    if (make && !NOT_MADE.has(name) && !fs.existsSync(p) && isDir(top) && realFolders(top, path.relative(top, p))) {
      try {
        fs.mkdirSync(p, { recursive: true, mode: 0o700 });
      } catch {
        /* not ours to make */
      }
    }
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      continue;
    }
    if (!st.isDirectory()) continue;
    const real = realPath(p);
    if (seen.has(real) || inside(here, real) || inside(real, here) || real === path.parse(real).root || real === realPath(homeDir) || temps.some((t) => realPath(t) === real)) continue;
    seen.add(real);
    out.push({ path: real, name });
  }
  return out;
}

/** The agent's own folder for a cache, in the state folder (made private). */
export function privateCacheFolder(stateHome: string, agent: string, name: string): string {
  // Agent names are letters, digits, '.', '_', '-': a prefix keeps '.' and '..' plain names.
  const dir = path.join(stateHome, 'caches', `agent-${agent}`, name);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}
