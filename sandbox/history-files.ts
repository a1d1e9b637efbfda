// Command histories in the home folder: what the user typed, the real values of secrets included
// (`printf %s ghp_… | airlock secret set github_token`, `export GITHUB_TOKEN=…`, `AIRLOCK_MASTER_KEY=…
// airlock start`, a token pasted into psql or a Python prompt). Hidden in the sandbox like the state
// folder: behind /dev/null, so a history the agent's shell writes is discarded and reads are empty.
import fs from 'node:fs';
import path from 'node:path';

/** Shells', REPLs' and editors' history files, relative to the home folder. */
const HISTORIES = [
  '.bash_history', '.zsh_history', '.zhistory', '.histfile', '.sh_history', '.ksh_history', '.history',
  '.local/share/fish/fish_history', '.config/fish/fish_history', '.local/share/nushell/history.txt', '.config/nushell/history.txt',
  '.local/share/nushell/history.sqlite3', '.config/nushell/history.sqlite3', '.local/share/atuin/history.db',
  '.python_history', '.node_repl_history', '.ts_node_repl_history', '.irb_history', '.pry_history', '.psql_history',
  '.mysql_history', '.sqlite_history', '.rediscli_history', '.dbshell', '.mongodb/mongosh', '.lesshst', '.viminfo',
  '.local/state/nvim/shada', '.local/share/nvim/shada', '.bun_repl_history', '.deno_history', '.Rhistory', '.julia/logs/repl_history.jl',
];

/** The history files that exist for this home folder and environment (`HISTFILE` too). */
export function historyFiles(homeDir: string, env: NodeJS.ProcessEnv): string[] {
  if (!homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root) return [];
  const named = [env.HISTFILE, env.PYTHON_HISTORY, env.NODE_REPL_HISTORY, env.PSQL_HISTORY, env.MYSQL_HISTFILE, env.SQLITE_HISTORY, env.REDISCLI_HISTFILE]
    .filter((p): p is string => !!p && path.isAbsolute(p));
  return [...new Set([...HISTORIES.map((p) => path.join(homeDir, p)), ...named])].filter((p) => fs.existsSync(p));
}
