// Files that run outside the sandbox later, with the user's rights, without anyone running the
// agent's work on purpose: what a login or interactive shell sources, what git, ssh, npm, pip and
// editors obey on their next start, what a shell prompt, direnv or an editor runs on entering a
// folder. The sandbox shares the user's filesystem, so an agent could plant a line in any of them.
//
// Two measures, both by `airlock run`:
// - protect: those of the home folder that exist are bound read-only in the sandbox (as the
//   repository's own git control files are, cli/commands/run.ts);
// - report: after the run, every such file that was created or changed while the agent ran (one
//   that did not exist cannot be bound without making it; a symlinked one can be replaced; the
//   working directory's folders are the agent's to write) is named on the terminal, so the user
//   looks before their shell, editor or git reads it. A file's change time cannot be set back by
//   its writer (utimes sets it to now), so "changed since the run started" needs no snapshot.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { terminalText } from '../lib/text.ts';
import { configLines, configText, inside, isDir, isFile, realFolders } from './paths.ts';
import { hiddenFromGit } from './git-review.ts';
import { spent, walkFolders, type WalkBudget } from './walk.ts';
import { lookupTable } from '../lib/records.ts';
import { globMatch } from '../lib/glob.ts';
import { hostProgram } from '../lib/plantable.ts';

/** In the home folder: path → what runs it. A folder stands for everything in it. */
const HOME_ENTRIES: Readonly<Record<string, string>> = lookupTable({
  '.profile': 'login shells source it',
  '.bash_profile': 'bash login shells source it',
  '.bash_login': 'bash login shells source it',
  '.bashrc': 'interactive bash sources it',
  '.bash_logout': 'bash runs it at logout',
  '.bash_aliases': '.bashrc sources it',
  '.zshenv': 'every zsh sources it',
  '.zprofile': 'zsh login shells source it',
  '.zshrc': 'interactive zsh sources it',
  '.zlogin': 'zsh login shells source it',
  '.zlogout': 'zsh runs it at logout',
  '.kshrc': 'interactive ksh sources it',
  '.mkshrc': 'interactive mksh sources it',
  '.cshrc': 'csh sources it',
  '.tcshrc': 'tcsh sources it',
  '.login': 'csh login shells source it',
  '.config/fish': 'fish sources its config',
  '.config/nushell': 'nushell sources its config',
  '.inputrc': 'readline key bindings type text into your shell',
  '.xprofile': 'your X session sources it',
  '.xsessionrc': 'your X session sources it',
  '.xsession': 'your X session runs it',
  '.xinitrc': 'startx runs it',
  '.pam_environment': 'your login reads it',
  '.config/environment.d': 'systemd sets your session environment from it',
  '.config/autostart': 'your desktop starts it at login',
  // The whole folder (sixteenth pass): besides user/, the user manager reads units from
  // user.control/ (first of all its unit folders; `.wants/` links there start them at login) and
  // its own settings from user.conf and user.conf.d/ (DefaultEnvironment=LD_PRELOAD=… for every
  // user service, ManagerEnvironment=XDG_DATA_DIRS=… for where units come from).
  '.config/systemd': 'systemd runs your user units and obeys its user manager settings',
  // PipeWire runs the programs of `context.exec` at every start (your login), WirePlumber its
  // scripts; xdg-user-dir (a shell script desktop programs call for a user folder) sources
  // user-dirs.dirs.
  '.config/pipewire': 'PipeWire runs the programs its context.exec names at every start (your login)',
  '.config/wireplumber': 'WirePlumber runs its scripts at every start (your login)',
  '.config/user-dirs.dirs': 'xdg-user-dir, which desktop programs run, sources it',
  // Files and frameworks shell rc files commonly source, and prompts that run commands.
  '.bashrc.local': '.bashrc commonly sources it',
  '.zshrc.local': '.zshrc commonly sources it',
  '.aliases': 'shell rc files commonly source it',
  '.bash_functions': 'shell rc files commonly source it',
  '.p10k.zsh': 'zsh sources it (powerlevel10k)',
  '.fzf.zsh': 'zsh sources it (fzf)',
  '.fzf.bash': 'bash sources it (fzf)',
  '.oh-my-zsh': 'zsh sources its plugins and custom files',
  '.zprezto': 'zsh sources it (prezto)',
  '.zsh': 'zsh rc files commonly source it',
  '.config/zsh': 'zsh sources it (ZDOTDIR)',
  '.bash_it': 'bash sources it (bash-it)',
  '.config/starship.toml': 'starship runs its custom commands at every prompt',
  '.gitconfig': 'git runs programs it names (core.fsmonitor, filters, aliases)',
  '.gitconfig.local': '~/.gitconfig commonly includes it',
  '.config/git': 'git runs programs its config names',
  '.ssh': 'ssh runs ProxyCommand, LocalCommand, Match exec, rc; authorized_keys lets others in',
  '.npmrc': 'npm obeys node-options, script-shell, registries',
  '.yarnrc': 'yarn obeys it',
  '.yarnrc.yml': 'yarn runs yarnPath',
  '.config/pip': 'pip obeys its index and options',
  '.pip': 'pip obeys its index and options',
  '.pydistutils.cfg': 'Python builds obey it',
  '.condarc': 'conda obeys it',
  '.cargo/config': 'cargo runs programs it names',
  '.cargo/config.toml': 'cargo runs programs it names',
  '.config/direnv': 'direnv sources direnvrc and trusts its allow-list',
  '.local/share/direnv/allow': 'direnv runs the .envrc files it lists',
  // Eighteenth pass: mise's equivalent (a file per config the user trusted with `mise trust`).
  '.local/state/mise/trusted-configs': 'mise runs the hooks, tasks and env scripts of the config files it trusts',
  // Eighteenth pass: REPLs' and tools' start files that run code from the home folder at every start.
  '.mongoshrc.js': 'mongosh runs it at every start', '.mongorc.js': 'the mongo shell runs it at every start',
  '.erlang': 'Erlang runs it at every start', '.iex.exs': 'IEx runs it at every start', '.sbclrc': 'SBCL runs it at every start',
  '.ocamlinit': 'the OCaml toplevel and utop run it at every start', '.racketrc': 'Racket\'s REPL runs it at every start',
  '.guile': 'Guile runs it at every start', '.gnuplot': 'gnuplot runs it at every start (system() runs commands)',
  '.pylintrc': 'pylint runs its init-hook (VS Code\'s extension on opening a file)',
  '.config/pylintrc': 'pylint runs its init-hook (VS Code\'s extension on opening a file)',
  '.lein/profiles.clj': 'Leiningen runs its user profile\'s injections in every project',
  '.mix/archives': 'every mix loads its archives', '.config/yt-dlp': 'yt-dlp runs the commands its config names (--exec)',
  '.config/mpv': 'mpv runs its scripts at every start', '.config/bat/config': 'bat runs the pager it names',
  '.config/lazygit': 'lazygit runs the pager and commands its config names', '.config/aria2': 'aria2 runs the hooks its config names',
  '.gemrc': 'gem obeys it',
  '.gradle/init.d': 'gradle runs its scripts',
  '.gradle/init.gradle': 'gradle runs it',
  '.m2/settings.xml': 'maven obeys it',
  '.vimrc': 'vim sources it',
  '.exrc': 'vi sources it',
  '.config/nvim': 'neovim sources its config',
  '.emacs': 'emacs loads it',
  '.emacs.d/init.el': 'emacs loads it',
  '.config/Code/User/settings.json': 'VS Code obeys it',
  '.config/Code/User/tasks.json': 'VS Code runs its tasks',
  '.config/mise': 'mise runs its hooks and tasks',
  '.tmux.conf': 'tmux runs its commands',
  '.config/tmux': 'tmux runs its commands',
  '.screenrc': 'screen runs its commands',
  '.wgetrc': 'wget obeys it',
  '.curlrc': 'curl obeys it',
  '.netrc': 'tools send the passwords it holds',
  '.docker/config.json': 'docker runs its credential helpers',
  '.kube/config': 'kubectl runs its exec credential plugins',
  '.aws/config': 'the AWS CLI runs credential_process',
  // Thirteenth pass: what REPLs, debuggers and database shells run at every start (psql's `\!`,
  // sqlite3's `.shell`, gdb's `shell`, Ruby, R, Julia, GHCi, IPython startup files), editors' plugin
  // folders (vim loads ~/.vim/plugin, emacs ~/.emacs.d's early-init.el and packages, neovim its
  // site and lazy.nvim folders, VS Code and its forks every extension in their folders), terminals,
  // window managers and editors whose configs start programs, bash-completion's files (sourced on a
  // Tab), Mercurial's and jj's user configs (hooks, fsmonitor), docker's CLI plugins (`docker
  // compose` runs ~/.docker/cli-plugins/docker-compose), Terraform's provider folder, Maven's
  // ~/.mavenrc (mvn sources it), Gradle's properties (jvmargs), sbt's global plugins, bun's preload.
  '.psqlrc': 'psql runs its commands (\\!) at every start',
  '.sqliterc': 'sqlite3 runs its commands (.shell) at every start',
  '.gdbinit': 'gdb runs its commands at every start',
  '.config/gdb': 'gdb runs its commands at every start',
  '.lldbinit': 'lldb runs its commands at every start',
  '.irbrc': 'irb runs it at every start',
  '.pryrc': 'pry runs it at every start',
  '.Rprofile': 'R runs it at every start',
  '.julia/config': 'julia runs startup.jl at every start',
  '.ghci': 'GHCi runs its commands at every start',
  '.ipython': 'IPython runs its startup files and config',
  '.jupyter': 'Jupyter runs its config files',
  '.vim': 'vim sources its plugins',
  '.emacs.d': 'emacs loads early-init.el, init.el and its packages',
  '.config/emacs': 'emacs loads its init files and packages',
  '.local/share/nvim/site': 'neovim sources its plugins',
  '.local/share/nvim/lazy': 'neovim loads its plugins (lazy.nvim)',
  // Twenty-first pass: the other plugin managers' folders neovim loads from: vim-plug's default for
  // neovim, rocks.nvim's tree, dein's (its docs put it in ~/.cache/dein).
  '.local/share/nvim/plugged': 'neovim loads its plugins (vim-plug)',
  '.local/share/nvim/rocks': 'neovim loads its plugins (rocks.nvim)',
  '.cache/dein': 'vim and neovim load their plugins (dein)',
  '.vscode/extensions': 'VS Code loads its extensions',
  '.vscode-oss/extensions': 'VSCodium loads its extensions',
  '.cursor/extensions': 'Cursor loads its extensions',
  '.vscode-server/extensions': 'VS Code\'s server loads its extensions',
  '.vscode-server/data/Machine': 'VS Code\'s server obeys its settings',
  '.config/VSCodium/User': 'VSCodium runs its tasks and obeys its settings',
  '.config/Cursor/User': 'Cursor runs its tasks and obeys its settings',
  '.config/helix': 'helix starts the language servers its config names',
  '.config/zed': 'Zed runs its tasks and language servers',
  '.config/kitty': 'kitty runs the programs its config names',
  '.config/wezterm': 'WezTerm runs its config (Lua)',
  '.wezterm.lua': 'WezTerm runs it (Lua)',
  '.config/alacritty': 'Alacritty runs the shell its config names',
  '.config/i3': 'i3 runs its exec lines',
  '.config/sway': 'sway runs its exec lines',
  '.config/hypr': 'Hyprland runs its exec lines',
  '.bash_completion': 'bash-completion sources it',
  '.local/share/bash-completion': 'bash-completion sources its completions',
  '.hgrc': 'Mercurial runs its hooks and extensions',
  '.config/hg': 'Mercurial runs its hooks and extensions',
  '.config/jj': 'jj runs programs its config names',
  '.docker/cli-plugins': 'docker runs its CLI plugins (docker compose, buildx)',
  '.terraform.d/plugins': 'terraform runs the providers in it',
  '.mavenrc': 'mvn sources it',
  // Twenty-first pass: bundler's user config (`gemfile` names another Gemfile, Ruby code evaluated at
  // every `bundle exec`) and its plugins (loaded at every bundle command); not its cache.
  '.bundle/config': 'bundler obeys it (gemfile: another Gemfile, Ruby code run at every bundle exec)',
  '.bundle/plugin': 'bundler loads its plugins at every bundle command',
  '.gradle/gradle.properties': 'gradle obeys it (org.gradle.jvmargs)',
  '.sbt': 'sbt loads its global plugins and settings',
  '.bunfig.toml': 'bun runs its preload scripts',
  '.bashrc.d': '.bashrc sources the files in it (Fedora, RHEL)',
  // Fourteenth pass: Node's require() looks in every node_modules above the requiring file and in
  // these two: a package planted here is what every Node program under the home folder loads for
  // an optional dependency it lacks (debug's supports-color, ws's bufferutil, node-fetch's encoding).
  'node_modules': 'every Node program under your home folder loads packages from it (an optional dependency it lacks)',
  '.node_modules': 'Node loads packages from it for every program',
  '.node_libraries': 'Node loads packages from it for every program',
  // Desktop and session: systemd's second user-unit folder, desktop entries (one named like an
  // installed application replaces it in menus and file associations), the default applications,
  // Plasma's login scripts; version managers' plugins (asdf, mise, pyenv run their scripts at every
  // use of a tool, pyenv's at every shell start).
  '.local/share/systemd/user': 'systemd runs your user units',
  '.local/share/applications': 'your desktop runs the programs its entries name',
  '.config/mimeapps.list': 'opening a file runs the program it names',
  '.config/plasma-workspace/env': 'Plasma sources it at login',
  '.asdf/plugins': 'asdf runs its plugins\' scripts',
  '.local/share/mise/plugins': 'mise runs its plugins\' scripts',
  '.pyenv/plugins': 'pyenv runs its plugins at every shell start',
  // Fifteenth pass: coding agents' and AI editors' configs start programs outside any sandbox: the
  // MCP servers they list are commands (Cursor, VS Code, Windsurf, Claude Desktop, Continue, Amazon
  // Q start them), aider runs its lint and test commands after each edit, and Claude Code's hook
  // scripts conventionally live in ~/.claude/hooks. (What the agent's own CLI rewrites as it runs,
  // ~/.claude/settings.json, Codex's and Gemini's, is named after the run instead: HOME_REPORTED.)
  '.cursor/mcp.json': 'Cursor starts the MCP servers (commands) it lists',
  '.config/Code/User/mcp.json': 'VS Code starts the MCP servers (commands) it lists',
  '.codeium/windsurf/mcp_config.json': 'Windsurf starts the MCP servers (commands) it lists',
  '.config/Claude/claude_desktop_config.json': 'Claude Desktop starts the MCP servers (commands) it lists',
  '.continue/config.yaml': 'Continue starts the MCP servers (commands) it lists',
  '.continue/config.json': 'Continue starts the MCP servers (commands) it lists',
  '.continue/config.ts': 'Continue runs it',
  '.aws/amazonq/mcp.json': 'Amazon Q starts the MCP servers (commands) it lists',
  '.aider.conf.yml': 'aider runs its lint-cmd and test-cmd after every edit',
  '.claude/hooks': 'Claude Code runs the hook scripts your settings name',
  // The interpreters and compilers version managers installed: every node, python, pip, cargo and
  // rustc the user runs is one of these (the Node that runs Airlock was already kept). A program or
  // library replaced there, or a module of the standard library, ran in everything the user does.
  // Installing into them inside fails (pip then installs for the user, which is named after the run).
  '.nvm/versions': 'nvm\'s Node versions: every node, npm and global package you run',
  '.local/share/fnm/node-versions': 'fnm\'s Node versions: every node you run',
  '.volta/tools': 'volta\'s tools: every node and package manager you run',
  '.nodenv/versions': 'nodenv\'s Node versions: every node you run',
  '.pyenv/versions': 'pyenv\'s Pythons: every python and pip you run',
  '.local/share/uv/python': 'uv\'s Pythons: every python uv runs',
  '.rbenv/versions': 'rbenv\'s Rubies: every ruby you run',
  '.goenv/versions': 'goenv\'s Go versions: every go you run',
  '.rustup/toolchains': 'rustup runs these toolchains for every cargo and rustc',
  '.rustup/settings.toml': 'rustup obeys its default toolchain and directory overrides',
  '.asdf/installs': 'asdf\'s tools: every program it runs',
  '.local/share/mise/installs': 'mise\'s tools: every program it runs',
  '.sdkman/candidates': 'sdkman\'s JDKs and tools: every java, gradle and maven you run',
  // Eighteenth pass: the command-line tools installed into the home folder, outside any version
  // manager: npm's global packages under a user prefix (npm's docs suggest ~/.npm-global; `claude`
  // is installed so), pipx's and uv's tool environments, pnpm's, bun's and yarn's global folders.
  // A package changed there is the user's next `claude`, `black`, `tsc`. `npm install -g` inside fails.
  '.npm-global/lib/node_modules': 'npm\'s global packages: every command you installed with npm install -g',
  '.npm-packages/lib/node_modules': 'npm\'s global packages: every command you installed with npm install -g',
  '.local/lib/node_modules': 'npm\'s global packages (prefix ~/.local): every command you installed with npm install -g',
  '.local/share/pipx/venvs': 'pipx\'s environments: every command you installed with pipx',
  '.local/pipx/venvs': 'pipx\'s environments: every command you installed with pipx',
  '.local/share/uv/tools': 'uv\'s tool environments: every command you installed with uv tool install',
  '.local/share/pnpm/global': 'pnpm\'s global packages: every command you installed with pnpm add -g',
  '.bun/install/global': 'bun\'s global packages: every command you installed with bun add -g',
  '.config/yarn/global': 'yarn\'s global packages: every command you installed with yarn global add',
  // Sixteenth pass: more shells' start files (as fish's and nushell's); the global version file of
  // asdf and mise (a `path:` version is any folder of programs: every node, python … you run);
  // package managers' own configs as pip's (uv's and poetry's indexes and find-links: a package of
  // the agent's, whose build runs at your next install; pnpm's node-options); Go's settings file (GOFLAGS=-toolexec=… runs a program of the agent's in every
  // `go build`, GOTOOLCHAIN=…+path a `go` of its own); what debuggers, terminals and multiplexers
  // run at their start (pdb's commands, zellij's and ghostty's commands); Ansible's config (a
  // vault password file that is a program runs at every start).
  '.xonshrc': 'xonsh runs it at every start',
  '.config/xonsh': 'xonsh runs its rc files at every start',
  '.config/elvish': 'elvish runs its rc.elv at every start',
  '.elvish': 'elvish runs its rc.elv at every start',
  '.config/powershell': 'PowerShell runs its profile at every start',
  '.yashrc': 'yash sources it',
  '.config/oils': 'osh and ysh source their rc files',
  '.tool-versions': 'asdf and mise run the versions it names for every node, python, … (a path: version is any programs)',
  '.config/uv/uv.toml': 'uv installs from the indexes and folders it names (a package\'s build runs at install)',
  '.config/pypoetry/config.toml': 'poetry installs from the sources it names',
  '.config/pnpm/rc': 'pnpm obeys node-options and the hooks it names in every run',
  '.config/go/env': 'go obeys its settings file (GOFLAGS=-toolexec, GOTOOLCHAIN) in every build',
  '.pdbrc': 'pdb runs its commands (Python) at every start',
  '.config/zellij': 'zellij runs the commands its layouts name at every start',
  '.config/ghostty': 'ghostty runs the command its config names in every window',
  '.ansible.cfg': 'ansible runs the programs it names (a vault password script, plugins)',
  // Seventeenth pass: what the pager runs. less obeys the `#env` section of its lesskey file
  // (`LESSOPEN=|-cmd %s`: a command run for every less, piped input included, so every `git log`,
  // `git diff` and `man`; it wins over a LESSOPEN in the environment), and Debian's and Ubuntu's
  // lesspipe (set up by their default .bashrc) runs ~/.lessfilter for every file less opens.
  '.lesskey': 'less runs the LESSOPEN its #env section sets for every page it shows (git log, git diff, man)',
  '.config/lesskey': 'less runs the LESSOPEN its #env section sets for every page it shows (git log, git diff, man)',
  '.less': 'less runs the LESSOPEN its (compiled) #env section sets for every page it shows',
  '.config/less': 'less runs the LESSOPEN its (compiled) #env section sets for every page it shows',
  '.lessfilter': 'lesspipe (Debian, Ubuntu) runs it for every file less opens',
  '.config/lessfilter': 'lesspipe (Debian, Ubuntu) runs it for every file less opens',
  // Mail delivery runs the programs these name for every message the user receives (`|command`).
  '.forward': 'mail delivery (sendmail, postfix, exim) runs the programs it names for every message you receive',
  '.procmailrc': 'procmail runs the programs its recipes name for every message you receive',
  '.mailfilter': 'maildrop runs it for every message you receive',
  '.qmail': 'qmail runs the programs it names for every message you receive',
  '.mailcap': 'mail readers and run-mailcap run the viewers it names',
  // npm init loads it; vim 9.1 reads its XDG folder; svn runs its tunnel, diff and editor commands.
  '.npm-init.js': 'npm init runs it',
  '.config/vim': 'vim sources its vimrc and plugins',
  '.subversion/config': 'svn runs the tunnel, diff and editor commands it names',
  // IDEs and editors whose folders hold code they run at start: JetBrains' options and VM options
  // (-javaagent:), its plugins and the IDEs Toolbox installed; Sublime Text's Python plugins.
  '.config/JetBrains': 'JetBrains IDEs obey its options and VM options (-javaagent) at every start',
  '.local/share/JetBrains': 'JetBrains IDEs load its plugins (and Toolbox runs the IDEs installed there)',
  '.config/sublime-text': 'Sublime Text runs its Python plugins at every start',
  '.config/sublime-text-3': 'Sublime Text runs its Python plugins at every start',
  '.config/Code/User/keybindings.json': 'VS Code runs the commands it binds (sendSequence types into your terminal)',
  '.config/Code/User/profiles': 'VS Code obeys the settings and runs the tasks of its profiles',
  // Desktop sessions: GNOME Shell's extensions (JavaScript run in the shell at login), Plasma's
  // login and logout scripts; file managers that run commands on opening a file. (dconf's
  // database: desktopSettings.)
  '.local/share/gnome-shell/extensions': 'GNOME Shell runs its extensions at login',
  '.config/autostart-scripts': 'Plasma runs its scripts at login',
  '.config/plasma-workspace/shutdown': 'Plasma runs its scripts at logout',
  '.config/mc': 'Midnight Commander runs the commands its menus and file bindings name',
  '.config/ranger': 'ranger runs the programs its rifle.conf opens files with',
  '.config/lf': 'lf runs the commands its lfrc names',
  // Programs that start programs they find in the home folder on their own: D-Bus starts the
  // session service a `.service` file there names (before the system's) when any program asks for
  // its bus name (notify-send, a file chooser); Jupyter runs a kernel spec's argv for every notebook
  // on that kernel; tmux's plugin manager runs its plugins at every tmux start; fish sources and
  // autoloads what its user vendor folders hold (a `git.fish` function runs for every `git`);
  // Debian's sensible-editor (crontab -e) runs the editor ~/.selected_editor names; xterm's
  // translations in X resources type text; podman obeys its runtime, hooks and registries; nix
  // loads overlays into every evaluation and home-manager runs activation scripts.
  '.local/share/dbus-1': 'D-Bus starts the services it names (before the system\'s) when a program asks for their bus name',
  '.local/share/jupyter/kernels': 'Jupyter runs a kernel\'s argv for every notebook on it',
  '.local/share/jupyter/nbextensions': 'Jupyter loads its extensions in your notebooks',
  '.local/share/jupyter/labextensions': 'JupyterLab loads its extensions',
  '.tmux': 'tmux runs its plugins (tpm) at every start',
  '.local/share/fish/vendor_conf.d': 'fish sources it at every start',
  '.local/share/fish/vendor_functions.d': 'fish runs the functions in it in place of commands of their name',
  '.local/share/fish/vendor_completions.d': 'fish sources it at a Tab',
  '.selected_editor': 'sensible-editor (crontab -e, mutt) runs the editor it names',
  '.Xresources': 'xterm types the text its translations name; your X session loads it',
  '.Xdefaults': 'xterm types the text its translations name',
  '.xbindkeysrc': 'xbindkeys runs the commands it binds',
  '.config/containers/containers.conf': 'podman runs the runtime and hooks it names',
  '.config/containers/registries.conf': 'podman pulls images from the registries it names',
  '.config/containers/registries.conf.d': 'podman pulls images from the registries it names',
  '.config/containers/policy.json': 'podman trusts the image signatures it names',
  // Twenty-sixth pass: podman's Quadlet folder (its generator turns a `.container`, `.pod`, `.kube`
  // file there into a user service at the next daemon-reload or login, and `[Install]` starts it:
  // a container with the home folder mounted and the network), the drop-ins of containers.conf, and
  // storage.conf (its `mount_program` is a program podman runs).
  '.config/containers/systemd': 'podman\'s Quadlet makes a user service of each container file in it, started at your next login',
  '.config/containers/containers.conf.d': 'podman runs the runtime and hooks it names',
  '.config/containers/storage.conf': 'podman runs the mount_program it names',
  '.config/nixpkgs': 'nix loads its overlays and config into every evaluation',
  '.config/nix': 'nix obeys its settings (substituters, builders)',
  '.config/home-manager': 'home-manager switch runs its activation scripts',
  '.emacs.el': 'emacs loads it',
  '.spacemacs': 'emacs loads it (Spacemacs)',
  '.doom.d': 'emacs loads it (Doom)',
  '.config/doom': 'emacs loads it (Doom)',
  '.Renviron': 'R obeys it at every start (R_PROFILE_USER, R_LIBS_USER)',
  '.R': 'R package builds obey its Makevars (compilers)',
  '.cpan/CPAN/MyConfig.pm': 'cpan runs it (Perl) at every start',
  '.perldb': 'perl -d runs it',
  // luarocks' config files only: its --local tree (~/.luarocks/lib, share) is where the agent's
  // own `luarocks install --local` goes.
  ...Object.fromEntries(['config.lua', 'config-5.1.lua', 'config-5.2.lua', 'config-5.3.lua', 'config-5.4.lua'].map((f) => [`.luarocks/${f}`, 'luarocks runs its config (Lua)'])),
  '.octaverc': 'Octave runs it at every start',
  '.config/mpv/scripts': 'mpv runs its scripts at every start',
  '.local/share/nvim/mason': 'neovim starts the language servers installed in it',
  '.local/share/zed': 'Zed runs its extensions and the language servers it installed',
  '.local/share/nautilus-python/extensions': 'Files (nautilus) runs its Python extensions at every start',
  '.local/share/plasma': 'Plasma runs its widgets (JavaScript) at login',
  '.local/share/kwin/scripts': 'KWin runs its scripts at login',
  '.config/khotkeysrc': 'Plasma runs the commands it binds',
  '.config/xfce4': 'Xfce runs its autostart, panel launchers and keyboard shortcuts',
  '.config/openbox': 'Openbox runs its autostart and key bindings',
  '.config/labwc': 'labwc runs its autostart and key bindings',
  '.config/niri': 'niri runs its spawn-at-startup and key bindings',
  '.config/river': 'river runs its init at every start',
  '.config/awesome': 'awesome runs its rc.lua at every start',
  '.config/bspwm': 'bspwm runs its bspwmrc at every start',
  '.config/qtile': 'qtile runs its config (Python) at every start',
  '.xmonad': 'xmonad runs its config at every start',
  '.config/xmonad': 'xmonad runs its config at every start',
  '.config/herbstluftwm': 'herbstluftwm runs its autostart',
  '.config/sxhkd': 'sxhkd runs the commands it binds',
  '.config/waybar': 'waybar runs its modules\' commands',
  '.config/polybar': 'polybar runs its modules\' commands',
  '.config/dunst': 'dunst runs its scripts for notifications',
  '.config/foot': 'foot runs the shell its config names',
  '.config/terminator': 'terminator runs the commands its profiles name',
  '.local/share/konsole': 'konsole runs the commands its profiles name',
  '.config/kak': 'kakoune runs its kakrc (shell expansions)',
  '.config/micro': 'micro runs its init.lua and plugins',
  // Cline's and Roo Code's MCP servers, kept in VS Code's storage of each extension.
  '.config/Code/User/globalStorage/saoudrizwan.claude-dev/settings/cline_mcp_settings.json': 'Cline starts the MCP servers (commands) it lists',
  '.config/Code/User/globalStorage/rooveterinaryinc.roo-cline/settings/mcp_settings.json': 'Roo Code starts the MCP servers (commands) it lists',
});

/**
 * Home folder files that run programs outside the sandbox but that the agent's own CLI writes as it
 * runs (Claude Code's settings, Codex's trusted projects, Gemini's chosen login): not bound
 * read-only (the agent inside would fail to start or to save), named after the run when changed.
 */
const HOME_REPORTED: Readonly<Record<string, string>> = lookupTable({
  '.claude/settings.json': 'Claude Code runs the hooks, status line and apiKeyHelper it names, outside any sandbox when run outside',
  '.claude/settings.local.json': 'Claude Code runs the hooks, status line and apiKeyHelper it names',
  '.claude/plugins': 'Claude Code runs its plugins\' hooks and MCP servers',
  '.claude/commands': 'Claude Code runs the shell lines (!`…`) of the commands you invoke',
  '.claude/skills': 'Claude Code runs the scripts of the skills it uses',
  '.codex/config.toml': 'Codex starts the MCP servers and notify program it names, and trusts the projects it lists',
  '.gemini/settings.json': 'Gemini CLI starts the MCP servers it names',
  '.config/opencode': 'opencode starts the MCP servers and plugins its config names',
  '.config/goose': 'goose starts the extensions (commands) its config names',
  // Twenty-fifth pass: the agents' global instructions, read in every folder (see FOLDER_ENTRIES).
  '.claude/CLAUDE.md': 'Claude Code takes it as your instructions in every folder (outside the sandbox: it acts on them with your access)',
  '.claude/agents': 'Claude Code takes its subagents\' prompts and tools as yours in every folder',
  '.codex/AGENTS.md': 'Codex takes it as your instructions in every folder',
  '.codex/AGENTS.override.md': 'Codex takes it as your instructions in every folder, in place of AGENTS.md',
  '.gemini/GEMINI.md': 'Gemini CLI takes it as your instructions in every folder',
});

/**
 * Run by root, the agent writes what root can: the system's own run-on-entry places, which run as
 * root outside the sandbox (cron, every program's dynamic loader, sudo, PAM, every login shell, ssh
 * logins' motd scripts, git's system config). Those that exist are bound read-only (the others'
 * folders are written by package installs, so they are named after the run instead, below).
 * Path → what runs it.
 */
const SYSTEM_ENTRIES: Readonly<Record<string, string>> = lookupTable({
  '/etc/ld.so.preload': 'every program on the machine loads the libraries it names',
  '/etc/crontab': 'cron runs it as root', '/etc/anacrontab': 'anacron runs it as root', '/var/spool/cron': 'cron runs the crontabs in it',
  '/var/spool/at': 'atd runs the jobs in it',
  '/etc/sudoers': 'sudo obeys it', '/etc/sudoers.d': 'sudo obeys it',
  '/etc/profile': 'login shells source it', '/etc/bash.bashrc': 'interactive bash sources it', '/etc/bashrc': 'interactive bash sources it',
  '/etc/environment': 'every login reads it', '/etc/zsh': 'zsh sources its files', '/etc/zshenv': 'every zsh sources it', '/etc/zshrc': 'zsh sources it',
  '/etc/zprofile': 'zsh login shells source it', '/etc/inputrc': 'readline key bindings type text into shells',
  '/etc/gitconfig': 'git runs programs it names', '/etc/rc.local': 'it runs at boot', '/etc/update-motd.d': 'its scripts run as root at every ssh login',
  '/etc/ssh/sshd_config': 'sshd obeys it', '/etc/ssh/sshd_config.d': 'sshd obeys it', '/etc/ssh/ssh_config': 'ssh runs ProxyCommand and Match exec',
  '/etc/ssh/ssh_config.d': 'ssh runs ProxyCommand and Match exec', '/etc/pam.d': 'logins run what it names (pam_exec)', '/etc/security': 'PAM obeys it',
  // Fourteenth pass: the system-wide configs of what every user runs. npm's global config (Debian's
  // /etc/npmrc, or <prefix>/etc/npmrc) runs its node-options and script-shell in every npm; pip's
  // names the index (a local folder of the agent's packages, whose setup.py runs at install);
  // sshd runs sshrc at every login; sudo loads the plugins sudo.conf names, as root; vim, tmux,
  // screen and fish run commands from their system files.
  '/etc/npmrc': 'every user\'s npm obeys its node-options and script-shell', '/usr/etc/npmrc': 'every user\'s npm obeys its node-options and script-shell',
  '/usr/local/etc/npmrc': 'every user\'s npm obeys its node-options and script-shell', '/etc/pip.conf': 'every user\'s pip installs from the index it names',
  '/etc/xdg/pip/pip.conf': 'every user\'s pip installs from the index it names', '/etc/gemrc': 'every user\'s gem obeys it',
  '/etc/mercurial/hgrc': 'hg runs its hooks and extensions', '/etc/mercurial/hgrc.d': 'hg runs its hooks and extensions',
  '/etc/ssh/sshrc': 'sshd runs it at every ssh login', '/etc/sudo.conf': 'sudo loads the plugins it names, as root',
  '/etc/vim': 'vim runs its commands for every user', '/etc/vimrc': 'vim runs its commands for every user', '/etc/tmux.conf': 'tmux runs its run-shell commands',
  '/etc/screenrc': 'screen runs its commands', '/etc/fish': 'fish sources its files', '/etc/wgetrc': 'every user\'s wget obeys it',
  '/etc/environment.d': 'systemd sets its variables (LD_PRELOAD, PATH) in every user session',
  // What every program on the machine trusts to find hosts and load code: OpenSSL's config names
  // engines and providers (shared objects every OpenSSL program loads: curl, git, Python), NSS's
  // names libnss modules every lookup loads; /etc/hosts and the resolver's config say where names,
  // Airlock's upstreams too, lead.
  '/etc/ssl/openssl.cnf': 'every OpenSSL program (curl, git, Python) loads the engines and providers it names',
  '/etc/pki/tls/openssl.cnf': 'every OpenSSL program (curl, git, Python) loads the engines and providers it names',
  '/etc/nsswitch.conf': 'every name lookup loads the NSS modules it names', '/etc/hosts': 'every program, Airlock too, resolves names through it',
  '/etc/resolv.conf': 'every program, Airlock too, asks the name servers it names', '/etc/gai.conf': 'every program orders addresses by it',
});

/** Run by root: places package installs write too, named after the run when created or changed (not protected). */
const SYSTEM_REPORTED: Readonly<Record<string, string>> = lookupTable({
  '/etc/cron.d': 'cron runs it as root', '/etc/cron.hourly': 'cron runs it as root', '/etc/cron.daily': 'cron runs it as root',
  '/etc/cron.weekly': 'cron runs it as root', '/etc/cron.monthly': 'cron runs it as root', '/etc/systemd/system': 'systemd runs its units as root',
  '/etc/systemd/user': 'systemd runs its units for every user', '/etc/profile.d': 'login shells source it', '/etc/init.d': 'its scripts run as root',
  '/etc/udev/rules.d': 'udev runs its RUN programs as root', '/etc/modprobe.d': 'modprobe runs its install commands as root',
  '/etc/logrotate.d': 'logrotate runs its scripts as root', '/etc/apt/apt.conf.d': 'apt runs its hooks as root', '/etc/ld.so.conf.d': 'the dynamic loader searches it',
  '/etc/ld.so.conf': 'the dynamic loader searches it', '/etc/passwd': 'it says who has uid 0', '/etc/group': 'it says who is in sudo and docker',
  '/etc/xdg/autostart': 'desktops start it at every login', '/etc/X11/Xsession.d': 'X sessions source it', '/etc/NetworkManager/dispatcher.d': 'NetworkManager runs it as root',
  '/usr/local/bin': 'it is on everyone\'s PATH before /usr/bin', '/usr/local/sbin': 'it is on root\'s PATH before /usr/sbin',
  // Fourteenth pass: written by package installs (ldconfig, update-ca-certificates), so named, not protected.
  '/etc/ld.so.cache': 'every program on the machine finds its libraries through it', '/etc/ssl/certs': 'curl, git, pip and Python trust the certificates in it',
  '/usr/local/share/ca-certificates': 'update-ca-certificates adds them to what every program trusts', '/etc/pki/ca-trust': 'every program trusts the certificates in it',
});

/**
 * Missing system files an empty one of which changes nothing: made empty so that they can be bound
 * read-only (and left: removing one while another run binds it would lift that run's bind).
 */
const SYSTEM_NEUTRAL = ['/etc/ld.so.preload'];

/**
 * Run by root (`uid` 0), the system run-on-entry places that exist, to bind read-only; `made` lists
 * the empty files made first (see SYSTEM_NEUTRAL). A `--writable` path naming one (or a
 * path inside it) unlocks it. Nothing for anyone else: they cannot write these.
 */
export function systemEntryFiles(writable: string[] = [], uid: number | undefined = process.getuid?.(), entries: Record<string, string> = SYSTEM_ENTRIES): { protect: string[]; made: string[] } {
  if (uid !== 0) return { protect: [], made: [] };
  const unlocked = writable.map((w) => path.resolve(w));
  const made: string[] = [];
  for (const p of SYSTEM_NEUTRAL) {
    if (!Object.hasOwn(entries, p) || unlocked.some((w) => inside(w, p))) continue;
    try {
      fs.writeFileSync(p, '', { flag: 'wx', mode: 0o644 }); // O_EXCL: never through a symlink
      made.push(p);
    } catch {
      /* there already, or no folder for it */
    }
  }
  const protect = [...Object.keys(entries), ...Object.keys(entries).map(compiledForm)].filter((p) => fs.existsSync(p) && !unlocked.some((w) => inside(w, p)));
  return { protect, made };
}

/**
 * zsh reads `F.zwc`, the compiled form `zcompile` writes, in place of each start file and each file
 * it sources (`source`, `.`) when the `.zwc` is newer (the writer sets its time), and compinit
 * sources its completion dump (`~/.zcompdump`, oh-my-zsh's `~/.zcompdump-HOST-VERSION`, and that
 * one's `.zwc`) at every interactive start. So beside a read-only `~/.zshrc` a `~/.zshrc.zwc` of the
 * agent's, or a line appended to the dump, ran in the user's next shell (seventeenth pass). The
 * compiled form of every entry, and the dumps in the home folder and `ZDOTDIR`, are entries too.
 */
export function compiledForm(p: string): string {
  return `${p}.zwc`;
}

/** The completion dumps compinit sources (see compiledForm), as they exist now. */
export function zshDumps(homeDir: string, env: NodeJS.ProcessEnv = {}): string[] {
  const out = new Set<string>();
  const dirs = [homeDir, env.ZDOTDIR, path.join(homeDir, '.cache', 'prezto'), path.join(homeDir, '.cache', 'zsh')];
  for (const dir of dirs) {
    if (!dir || !path.isAbsolute(dir)) continue;
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) if (/^\.?zcompdump/.test(n) && out.size < 64) out.add(path.join(dir, n));
  }
  const named = env.ZSH_COMPDUMP;
  if (named && path.isAbsolute(named)) for (const f of [named, compiledForm(named)]) if (fs.existsSync(f)) out.add(f);
  return [...out];
}

/** Shell startup files whose `source`/`.` lines name further files that run as they do. */
const RC_FILES = ['.profile', '.bash_profile', '.bash_login', '.bashrc', '.bash_aliases', '.zshenv', '.zprofile', '.zshrc', '.zlogin', '.kshrc', '.mkshrc'];

/**
 * The files of the home folder that the user's shell startup files source (`. "$HOME/.cargo/env"`,
 * rustup's and uv's installers add it; `[ -s "$NVM_DIR/nvm.sh" ] && \\. "$NVM_DIR/nvm.sh"`, nvm's;
 * `source ~/.config/shell/aliases.sh`), nested up to 3 deep: each runs in every new shell like the
 * rc file itself, and the agent could append to it. Paths are expanded as far as they can be read
 * without running anything: `~`, `$HOME`, variables the files set before (`export NVM_DIR=…`) and
 * `${VAR:-default}`; a path that still holds a `$`, a glob or a command substitution is passed over.
 */
export function rcSourced(homeDir: string): string[] {
  if (!homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root) return [];
  const vars = new Map<string, string>([['HOME', homeDir]]);
  const expand = (word: string): string | undefined => {
    let w = word;
    if (w.startsWith("'")) w = w.slice(1, w.endsWith("'") ? -1 : undefined);
    else {
      if (w.startsWith('"')) w = w.slice(1, w.endsWith('"') ? -1 : undefined);
      if (w === '~' || w.startsWith('~/')) w = homeDir + w.slice(1);
      // Twice: the inner variables of a default first (`${XDG_BIN_HOME:-$HOME/.local/bin}`).
      for (let i = 0; i < 2; i++) w = w.replace(/\$\{([A-Za-z_]\w*)(?::?-([^}$]*))?\}|\$([A-Za-z_]\w*)/g, (all, a: string | undefined, dflt: string | undefined, b: string | undefined) => vars.get((a ?? b)!) ?? dflt ?? all);
    }
    if (/[$`*?[\]]/.test(w) || !path.isAbsolute(w)) return undefined;
    return path.normalize(w);
  };
  const out: string[] = [];
  const queue = RC_FILES.map((f) => ({ file: path.join(homeDir, f), depth: 0 }));
  const seen = new Set(queue.map((q) => q.file));
  while (queue.length && out.length < 64) {
    const { file, depth } = queue.shift()!;
    let text: string;
    try {
      const st = fs.statSync(file);
      if (!st.isFile()) continue;
      text = fs.readFileSync(file, 'utf8').slice(0, 256 * 1024);
    } catch {
      continue;
    }
    for (const raw of text.split('\n').slice(0, 5000)) {
      const line = raw.trim();
      if (line.startsWith('#')) continue;
      const set = /^(?:export\s+|typeset\s+|local\s+)?([A-Za-z_]\w*)=("[^"]*"|'[^']*'|[^\s;&|]*)/.exec(line);
      if (set) {
        const v = expand(set[2]!);
        if (v) vars.set(set[1]!, v);
      }
      for (const m of line.matchAll(/(?:^|[;&|({]|\bthen\b|\bdo\b|\belse\b)\s*(?:\\?\.|source)\s+("[^"]*"|'[^']*'|[^\s;&|)]+)/g)) {
        const target = expand(m[1]!);
        if (!target || !inside(target, homeDir) || target === homeDir || seen.has(target)) continue;
        seen.add(target);
        let isFile = false;
        try {
          isFile = fs.statSync(target).isFile();
        } catch {
          /* missing */
        }
        if (!isFile) continue;
        out.push(target);
        if (depth < 3) queue.push({ file: target, depth: depth + 1 });
      }
    }
  }
  return out;
}

/**
 * Program folders of the home folder that installers and version managers put on PATH from the
 * rc files: a program there runs in place of the one of that name (rustup's proxies in
 * `.cargo/bin` are every cargo and rustc; shims are every node, python and ruby).
 */
const INSTALLER_BINS = [
  '.cargo/bin', '.pyenv/shims', '.pyenv/bin', '.rbenv/shims', '.nodenv/shims', '.goenv/shims', '.asdf/shims', '.local/share/mise/shims',
  '.volta/bin', 'go/bin', '.bun/bin', '.deno/bin', '.local/share/pnpm', '.npm-global/bin', '.npm-packages/bin', '.yarn/bin',
  '.config/yarn/global/node_modules/.bin', '.dotnet/tools', '.ghcup/bin', '.cabal/bin', '.pub-cache/bin', '.config/composer/vendor/bin',
  '.composer/vendor/bin', '.krew/bin', '.foundry/bin', '.juliaup/bin', '.elan/bin', '.nimble/bin', '.pulumi/bin', '.sdkman/bin',
  '.nix-profile/bin', '.rye/shims', '.pixi/bin', '.wasmtime/bin', '.fly/bin', '.console-ninja/.bin',
];

/**
 * Folders of the home folder that the rc files (and the files they source) add to PATH:
 * `export PATH="$HOME/tools/bin:$PATH"`, `PATH=~/x:$PATH`, zsh's `path=(~/bin $path)`. Only what
 * reads without running anything (`~`, `$HOME`, `${HOME}`); at most 32.
 */
export function rcPathFolders(homeDir: string, variable: 'path' | 'fpath' = 'path'): string[] {
  if (!homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root) return [];
  const out = new Set<string>();
  for (const file of [...RC_FILES.map((f) => path.join(homeDir, f)), ...rcSourced(homeDir)]) {
    const text = configText(file);
    if (text === undefined) continue;
    for (const raw of text.split('\n').slice(0, 5000)) {
      const assignment = variable === 'path' ? /\b(?:PATH=|path\+?=\()("[^"]*"|'[^']*'|[^\s;&|)]+(?:\s+[^\s;&|)]+)*)/g : /\b(?:FPATH=|fpath\+?=\(?)("[^"]*"|'[^']*'|[^\s;&|)]+(?:\s+[^\s;&|)]+)*)/g;
      for (const m of raw.matchAll(assignment)) {
        for (let word of m[1]!.replace(/^["']|["']$/g, '').split(/[:\s]+/)) {
          word = word.replace(/^["']|["']$/g, '');
          if (word === '~' || word.startsWith('~/')) word = homeDir + word.slice(1);
          word = word.replace(/^\$\{HOME\}|^\$HOME\b/, homeDir);
          if (!path.isAbsolute(word) || /[$`*?[\]]/.test(word)) continue;
          const dir = path.normalize(word);
          if (inside(dir, homeDir) && dir !== path.resolve(homeDir)) out.add(dir);
        }
      }
      if (out.size >= 32) return [...out];
    }
  }
  return [...out];
}

/**
 * Entries above that are folders, which programs read the files of when the files exist: an empty
 * folder changes nothing for them (unlike an empty `.inputrc` or `.bash_profile`, which would be
 * read instead of another file), so one that is missing is made before the run and protected like
 * the others. Otherwise the agent makes `~/.config/git/config` (read along with `~/.gitconfig`) or a
 * unit in `~/.config/systemd/user` (or `user.control`, or a `user.conf`), and an editor polling `git status` runs it during the run.
 * Folder → what must exist already for it to be made: these are read by what nearly every machine
 * runs (git, ssh, pip, a systemd or desktop login); a missing folder of a tool not in use (fish,
 * nvim, mise) is left missing, and named after the run if the agent makes it.
 */
const HOME_FOLDERS: Readonly<Record<string, string>> = lookupTable({
  '.ssh': '',
  '.config/git': '.config', '.config/environment.d': '.config', '.config/autostart': '.config',
  '.config/systemd': '.config', '.config/pip': '.config',
  '.local/share/direnv/allow': '.local/share/direnv', '.gradle/init.d': '.gradle',
  '.local/state/mise/trusted-configs': '.local/state/mise',
  // Seventeenth pass: the session bus picks a new service file up at once (inotify), so one the
  // agent made there would be started during the run when any program asks for its name.
  '.local/share/dbus-1': '.local/share',
});

/**
 * Entries above that are files an empty one of which changes nothing: made empty (0600) when
 * missing, so the agent cannot write the first one (`~/.npmrc` with `node-options`, read by every
 * npm on the host). Not `~/.gitconfig` where git's other global file (`~/.config/git/config`)
 * exists: `git config --global` writes to the first of them that exists. Not shell, vim or emacs
 * files: an empty one is read instead of another (`~/.profile`, vim's defaults, `init.el`).
 */
const NEUTRAL_FILES = ['.gitconfig', '.npmrc', '.curlrc', '.wgetrc'];

/** In the working directory, at any depth: name → what runs it. */
const FOLDER_ENTRIES: Readonly<Record<string, string>> = lookupTable({
  '.git': 'a git repository: your prompt or editor runs its config and hooks on entering the folder',
  '.hg': 'a Mercurial repository: hg runs its hooks',
  '.envrc': 'direnv runs it on entering the folder (once allowed)',
  '.vscode': 'VS Code runs its tasks and obeys its settings on opening the folder',
  '.idea': 'JetBrains IDEs run its configurations',
  'mise.toml': 'mise runs its hooks on entering the folder',
  '.mise.toml': 'mise runs its hooks on entering the folder',
  'mise.local.toml': 'mise runs its hooks on entering the folder',
  '.mise.local.toml': 'mise runs its hooks on entering the folder',
  '.autoenv.zsh': 'zsh-autoenv runs it on entering the folder',
  '.exrc': 'vim runs it (exrc)',
  '.nvimrc': 'neovim runs it (exrc)',
  '.nvim.lua': 'neovim runs it (exrc)',
  '.dir-locals.el': 'emacs evaluates it',
  '.npmrc': 'npm obeys node-options and script-shell',
  '.yarnrc.yml': 'yarn runs yarnPath',
  // Fourteenth pass: yarn 1 runs its yarn-path; pnpm runs the hooks of its pnpmfile at every
  // install; husky's hooks (run at the next commit, maybe before any diff is read) are in .husky.
  '.yarnrc': 'yarn 1 runs its yarn-path',
  '.pnpmfile.cjs': 'pnpm runs its hooks at every install',
  '.pnpmfile.mjs': 'pnpm runs its hooks at every install',
  // Twenty-second pass: Yarn Plug'n'Play's loader (no node_modules), listed in Yarn's own .gitignore
  // without zero-installs: every yarn run, yarn node and the editor's Yarn SDK load it.
  '.pnp.cjs': 'yarn run, yarn node and the editor\'s Yarn SDK load it (Plug\'n\'Play: it maps every package to its code); in no diff without zero-installs: run yarn install unless the agent was to install packages',
  '.pnp.loader.mjs': 'yarn run and yarn node load it for ES modules (Plug\'n\'Play); in no diff without zero-installs: run yarn install unless the agent was to install packages',
  '.pnp.data.json': 'Yarn\'s Plug\'n\'Play loader reads where each package\'s code is from it; run yarn install unless the agent was to install packages',
  '.husky': 'husky runs its hooks at your next commit',
  '.pth': 'Python runs its import lines',
  // Thirteenth pass: dev containers run `initializeCommand` on your machine when the folder is
  // opened in one; a `.code-workspace` file's tasks run on opening it (runOn: folderOpen); helix and
  // Zed start the language servers (any program) a project's config names; rust-analyzer runs cargo,
  // which obeys `.cargo/config.toml` (rustc-wrapper, runners), on opening the folder; jj's repository
  // config, read by prompts that show jj status; bun's preload scripts; vim's project `.vimrc`.
  '.devcontainer': 'VS Code runs its initializeCommand on your machine when you open the folder in a dev container',
  '.devcontainer.json': 'VS Code runs its initializeCommand on your machine when you open the folder in a dev container',
  '.code-workspace': 'VS Code runs its tasks on opening the workspace',
  '.helix': 'helix starts the language servers it names on opening a file there',
  '.zed': 'Zed runs its tasks and the language servers it names',
  '.cargo': 'cargo, which rust-analyzer runs on opening the folder, runs the programs its config names',
  '.jj': 'a jj repository: your prompt runs jj, which obeys its config',
  'bunfig.toml': 'bun runs its preload scripts',
  '.bunfig.toml': 'bun runs its preload scripts',
  '.vimrc': 'vim runs it (exrc)',
  // lefthook's local config, which lefthook's own .gitignore entry keeps out of every diff: the
  // hooks lefthook installed run its commands at your next commit.
  'lefthook-local.yml': 'lefthook runs its commands at your next commit (git ignores it)',
  '.lefthook-local.yml': 'lefthook runs its commands at your next commit (git ignores it)',
  // Fifteenth pass: coding agents' project configs. Claude Code runs the hooks, status line and
  // apiKeyHelper of `.claude/settings.json` and of `.claude/settings.local.json` (which it keeps out
  // of git: in no diff) the next time it starts in the folder, outside the sandbox when run so (the
  // IDE extensions); `.mcp.json` and the other agents' files list MCP servers, which are commands;
  // aider runs the lint and test commands of its config after every edit. pre-commit's hook runs
  // what `.pre-commit-config.yaml` says at your next commit; make reads `GNUmakefile` and
  // `makefile` before the `Makefile` whose diff you read; VS Code's ESLint extension runs the
  // project's ESLint config on opening a file.
  '.claude': 'Claude Code runs the hooks and commands its settings name when started here (settings.local.json is in no diff)',
  '.mcp.json': 'coding agents (Claude Code) start the MCP servers (commands) it lists',
  '.cursor': 'Cursor starts the MCP servers and runs the hooks its files name',
  '.gemini': 'Gemini CLI starts the MCP servers its settings name',
  '.codex': 'Codex obeys its config (MCP servers, notify program)',
  '.aider.conf.yml': 'aider runs its lint-cmd and test-cmd after every edit',
  '.continue': 'Continue starts the MCP servers its config names',
  '.roo': 'Roo Code starts the MCP servers its config names',
  '.kiro': 'Kiro runs its hooks and MCP servers',
  '.windsurf': 'Windsurf runs its workflows and MCP servers',
  '.amazonq': 'Amazon Q starts the MCP servers its config names',
  'opencode.json': 'opencode starts the MCP servers and plugins it names',
  '.opencode': 'opencode runs its plugins',
  '.pre-commit-config.yaml': 'pre-commit runs its hooks at your next commit',
  // Twenty-sixth pass: what else the user's next commit runs, as pre-commit's config and lefthook's
  // local one: lefthook's main config (the hooks it installed read it at each run), lint-staged's
  // (run by a husky or lefthook pre-commit hook: its commands run on the staged files), commitlint's
  // JavaScript config (a commit-msg hook loads it), husky 4's hook config.
  ...Object.fromEntries(['lefthook.yml', '.lefthook.yml', 'lefthook.yaml', '.lefthook.yaml', 'lefthook.toml', '.lefthook.toml', 'lefthook.json', '.lefthook.json']
    .map((n) => [n, 'lefthook runs its commands at your next commit'])),
  ...Object.fromEntries(['.lintstagedrc', '.lintstagedrc.json', '.lintstagedrc.yaml', '.lintstagedrc.yml', '.lintstagedrc.js', '.lintstagedrc.cjs', '.lintstagedrc.mjs', 'lint-staged.config.js', 'lint-staged.config.cjs', 'lint-staged.config.mjs']
    .map((n) => [n, 'lint-staged, which your pre-commit hook runs, runs its commands at your next commit'])),
  ...Object.fromEntries(['commitlint.config.js', 'commitlint.config.cjs', 'commitlint.config.mjs', 'commitlint.config.ts', '.commitlintrc.js', '.commitlintrc.cjs', '.commitlintrc.mjs', '.commitlintrc.ts']
    .map((n) => [n, 'commitlint, which your commit-msg hook runs, loads it (JavaScript) at your next commit'])),
  ...Object.fromEntries(['.huskyrc', '.huskyrc.json', '.huskyrc.js', 'husky.config.js']
    .map((n) => [n, 'husky 4 runs the hooks it names at your next commit'])),
  // Twenty-fifth pass: coding agents' instruction files. The next agent started here outside the
  // sandbox (the user's own Claude Code, Codex, Gemini CLI, Copilot, Cursor) reads them as the
  // user's instructions and acts on them with the user's access: a prompt injection that outlives
  // the run. Claude Code keeps `CLAUDE.local.md` out of git (in no diff), Codex's
  // `AGENTS.override.md` takes the place of `AGENTS.md`; each is read in folders below too.
  'CLAUDE.md': 'Claude Code takes it as your instructions when started here (outside the sandbox: it acts on them with your access)',
  'CLAUDE.local.md': 'Claude Code takes it as your instructions when started here (git ignores it: in no diff)',
  'AGENTS.md': 'coding agents (Codex, Cursor, Copilot, …) take it as your instructions when started here',
  'AGENTS.override.md': 'Codex takes it as your instructions in place of AGENTS.md when started here',
  'GEMINI.md': 'Gemini CLI takes it as your instructions when started here',
  '.cursorrules': 'Cursor takes it as your instructions for this project',
  '.windsurfrules': 'Windsurf takes it as your instructions for this project',
  '.clinerules': 'Cline takes it as your instructions for this project',
  'copilot-instructions.md': 'GitHub Copilot takes it as your instructions for this repository (.github)',
  // Twenty-sixth pass: the other coding agents' instruction files and folders: Amp's `AGENT.md`, Qwen
  // Code's `QWEN.md`, Crush's `CRUSH.md`, Warp's `WARP.md`, goose's `.goosehints`, Zed's `.rules`,
  // Augment's, JetBrains Junie's, Trae's and OpenHands' folders (and Copilot's `.github/instructions`,
  // `prompts` and `chatmodes`, see localOverride).
  ...Object.fromEntries(['AGENT.md', 'QWEN.md', 'CRUSH.md', 'WARP.md', '.goosehints', '.rules', '.augment-guidelines', '.junie', '.augment', '.trae', '.openhands']
    .map((n) => [n, 'coding agents take it as your instructions when started here (outside the sandbox: they act on them with your access)'])),
  // Twentieth pass: what hides a file from the review itself. A file a `.gitignore` covers shows in
  // no `git status` or diff (a `conftest.py` pytest loads, a `requests.py` beside a script), and a
  // new one can cover itself (`*`); a `.gitattributes` line `-diff` shows a file's change as
  // "Binary files differ".
  '.gitignore': 'git hides what it covers (and itself, with *) from git status and every diff: review the files it ignores',
  '.gitattributes': 'git shows the diff of a file it marks -diff or binary as "Binary files differ"',
  'GNUmakefile': 'make reads it before Makefile',
  'makefile': 'make reads it before Makefile',
  'eslint.config.js': 'VS Code\'s ESLint extension runs it on opening a file',
  'eslint.config.mjs': 'VS Code\'s ESLint extension runs it on opening a file',
  'eslint.config.cjs': 'VS Code\'s ESLint extension runs it on opening a file',
  'eslint.config.ts': 'VS Code\'s ESLint extension runs it on opening a file',
  '.eslintrc.js': 'VS Code\'s ESLint extension runs it on opening a file',
  '.eslintrc.cjs': 'VS Code\'s ESLint extension runs it on opening a file',
  // rustup runs the toolchain a `path` in these names (any folder of programs) for every cargo and
  // rustc in the folder, and rust-analyzer runs cargo on opening it; Python runs sitecustomize and
  // usercustomize at every start of the environment whose site-packages holds them.
  'rust-toolchain.toml': 'rustup runs the toolchain it names (a path: any programs) for cargo here, which rust-analyzer runs on opening the folder',
  'rust-toolchain': 'rustup runs the toolchain it names (a path: any programs) for cargo here, which rust-analyzer runs on opening the folder',
  'sitecustomize.py': 'Python runs it at every start of the environment it is in',
  'usercustomize.py': 'Python runs it at every start of the environment it is in',
  // Sixteenth pass: asdf and mise take the version of node, python, … in the folder from
  // `.tool-versions`, and a `path:` version is any folder of programs (asdf's shims, first on PATH,
  // run `path/bin/node` for your next `node` there). VS Code's
  // Prettier, Stylelint and Tailwind CSS extensions run the project's JavaScript config when a file
  // is formatted, linted or opened, as ESLint's does.
  '.tool-versions': 'asdf and mise run the tools it names for node, python, … in the folder (a path: version is any programs)',
  'prettier.config.js': 'VS Code\'s Prettier extension runs it when you format a file',
  'prettier.config.cjs': 'VS Code\'s Prettier extension runs it when you format a file',
  'prettier.config.mjs': 'VS Code\'s Prettier extension runs it when you format a file',
  'prettier.config.ts': 'VS Code\'s Prettier extension runs it when you format a file',
  '.prettierrc.js': 'VS Code\'s Prettier extension runs it when you format a file',
  '.prettierrc.cjs': 'VS Code\'s Prettier extension runs it when you format a file',
  '.prettierrc.mjs': 'VS Code\'s Prettier extension runs it when you format a file',
  '.prettierrc.ts': 'VS Code\'s Prettier extension runs it when you format a file',
  'stylelint.config.js': 'VS Code\'s Stylelint extension runs it on opening a style sheet',
  'stylelint.config.cjs': 'VS Code\'s Stylelint extension runs it on opening a style sheet',
  'stylelint.config.mjs': 'VS Code\'s Stylelint extension runs it on opening a style sheet',
  '.stylelintrc.js': 'VS Code\'s Stylelint extension runs it on opening a style sheet',
  '.stylelintrc.cjs': 'VS Code\'s Stylelint extension runs it on opening a style sheet',
  '.stylelintrc.mjs': 'VS Code\'s Stylelint extension runs it on opening a style sheet',
  'tailwind.config.js': 'VS Code\'s Tailwind CSS extension runs it on opening the folder',
  'tailwind.config.cjs': 'VS Code\'s Tailwind CSS extension runs it on opening the folder',
  'tailwind.config.mjs': 'VS Code\'s Tailwind CSS extension runs it on opening the folder',
  'tailwind.config.ts': 'VS Code\'s Tailwind CSS extension runs it on opening the folder',
  // Twenty-eighth pass: the same tools' configs in JSON and YAML, which name code to load: Prettier's
  // `plugins` (a `./plugin.js` runs), ESLint's legacy `parser` and `plugins` (a path is required),
  // Stylelint's `plugins`, Babel's `plugins` and `presets` (a path runs in every build and in ESLint's
  // Babel parser): the editor's extension loads them when you open or format a file, before any diff.
  ...Object.fromEntries(['.prettierrc', '.prettierrc.json', '.prettierrc.json5', '.prettierrc.yaml', '.prettierrc.yml', '.prettierrc.toml']
    .map((n) => [n, 'VS Code\'s Prettier extension loads the plugins it names (a path to a .js file runs) when you format a file'])),
  ...Object.fromEntries(['.eslintrc', '.eslintrc.json', '.eslintrc.yaml', '.eslintrc.yml']
    .map((n) => [n, 'VS Code\'s ESLint extension loads the parser and plugins it names (a path to a .js file runs) on opening a file'])),
  ...Object.fromEntries(['.stylelintrc', '.stylelintrc.json', '.stylelintrc.yaml', '.stylelintrc.yml']
    .map((n) => [n, 'VS Code\'s Stylelint extension loads the plugins it names (a path to a .js file runs) on opening a style sheet'])),
  ...Object.fromEntries(['.babelrc', '.babelrc.json', 'babel.config.json', '.babelrc.js', '.babelrc.cjs', '.babelrc.mjs', 'babel.config.js', 'babel.config.cjs', 'babel.config.mjs']
    .map((n) => [n, 'Babel runs the plugins and presets it names (a path to a .js file) in every build, and ESLint\'s Babel parser in your editor on opening a file'])),
  // Twenty-first pass: start files that REPLs and debuggers run from the folder they start in (pdb
  // reads `./.pdbrc` after `~/.pdbrc`; irb `./.irbrc`, pry `./.pryrc`, R `./.Rprofile` and
  // `./.Renviron` in place of the home folder's, which RStudio sources on opening the project; GHCi
  // `./.ghci`, Octave `./.octaverc`), and build tools' project settings that start programs: Bazel's
  // `.bazelrc` (`--workspace_status_command`, `--run_under`), sbt's `.jvmopts`/`.sbtopts` (a
  // `-javaagent`; Metals starts sbt on opening the folder), Maven's `.mvn` (jvm.config, extensions,
  // the wrapper's jar `./mvnw` runs) and Gradle's wrapper (the jar `./gradlew` runs, the
  // distribution it fetches; IDEs run it on opening the folder).
  '.pdbrc': 'pdb runs its commands (Python) when you debug here',
  '.irbrc': 'irb runs it when started here',
  '.pryrc': 'pry runs it when started here',
  '.Rprofile': 'R runs it when started here (RStudio on opening the project)',
  '.Renviron': 'R sets its variables when started here (R_PROFILE_USER, R_LIBS: code R runs)',
  '.ghci': 'GHCi runs its commands when started here',
  '.octaverc': 'Octave runs it when started here',
  '.bazelrc': 'bazel obeys it (workspace_status_command, run_under run programs)',
  '.jvmopts': 'sbt starts the JVM with it (-javaagent runs code; Metals starts sbt on opening the folder)',
  '.sbtopts': 'sbt obeys it (-javaagent runs code; Metals starts sbt on opening the folder)',
  '.mvn': 'Maven and ./mvnw obey it (jvm.config, extensions, the wrapper\'s jar run by ./mvnw)',
  'gradle-wrapper.jar': './gradlew runs it (your IDE on opening the folder)',
  'gradle-wrapper.properties': './gradlew runs the Gradle it names (your IDE on opening the folder)',
  // Dart's map of package names to folders (`.dart_tool`, in no diff): `dart run`, `flutter run` and
  // the analyzer take every `package:` import from where it says.
  'package_config.json': 'dart and flutter take every package: import from the folders it names (.dart_tool is in no diff): run dart pub get again',
  // bundler's project config, which projects keep out of git: its `gemfile` is another Gemfile (Ruby
  // code at the next `bundle exec`), its `plugin` folder loaded at every bundle command.
  '.bundle': 'bundler obeys its config (gemfile: another Gemfile, Ruby code) and loads its plugins at every bundle command here; projects keep it out of git',
  // Twenty-first pass: what runs at the user's next command in the folder, or on entering it,
  // without a config the lists above name. docker compose merges its override file into every
  // `docker compose up` (a privileged container with the host's / mounted), and projects keep it out
  // of git for being local; pytest imports every `conftest.py` on its way (VS Code's Python
  // extension runs its discovery on opening the folder where pytest is on); direnv's `use flake` and
  // `use nix` (in an `.envrc` the user allowed once) evaluate the flake or shell file again when it
  // changes and source its shellHook on entering the folder, as devenv's and devbox's do.
  ...Object.fromEntries(['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yml', 'docker-compose.override.yaml']
    .map((n) => [n, 'docker compose merges it into every docker compose up here (a privileged container, the host\'s files mounted); projects keep it out of git'])),
  'conftest.py': 'pytest imports it (VS Code\'s Python extension on opening the folder, when pytest is on)',
  // What an allowed `.envrc` sources (`source_env .envrc.local`: direnv asks again only when the
  // `.envrc` itself changes; such files are kept out of git), and mise's project folder (mise trusts
  // a config by its path: a change to a trusted one runs at the next `cd`).
  '.envrc.local': 'direnv runs it on entering the folder when your allowed .envrc sources it, without asking again (git ignores it)',
  '.envrc.private': 'direnv runs it on entering the folder when your allowed .envrc sources it, without asking again (git ignores it)',
  '.mise': 'mise runs the hooks and tasks of its config on entering the folder once trusted (by path: a change is not asked about again)',
  ...Object.fromEntries(['flake.nix', 'shell.nix', 'devenv.nix', 'devbox.json']
    .map((n) => [n, 'direnv\'s use flake / use nix (an .envrc you allowed once), devenv and devbox run its shell hook on entering the folder, without asking again'])),
  // Twenty-sixth pass: what the user's tools read in the folder, or above it, without asking, and
  // projects keep out of git (so in no diff). nix-direnv's cache of the evaluated shell
  // (`.direnv/flake-profile-*.rc`), which direnv sources on entering the folder as long as it is
  // newer than the flake (the writer sets the time), and the folders `layout python`/`layout node`
  // put first on PATH there; Go's workspace file (Go's own docs say not to commit it), whose `use`
  // and `replace` lines choose the code every `go build`, `go run` and `go test` there compiles, in
  // the folder and below; MSBuild's per-user project file (`App.csproj.user`, in every Visual
  // Studio .gitignore, see the walk) and the `Directory.Build.*` files it imports from the project's
  // folder and every folder above (a `<Target>` with an `Exec` runs at every build, and C# Dev Kit's
  // design-time build on opening the folder), NuGet's config (the feeds a restore takes packages,
  // and the build targets they carry, from); Android's `local.properties` (git-ignored by every
  // Android project: `sdk.dir`, `ndk.dir` and `cmake.dir` are where the build, and Android Studio's
  // sync on opening, run the compilers and tools from) and Gradle's project properties
  // (`org.gradle.java.home` is the JVM it starts, `org.gradle.jvmargs` a `-javaagent:`), as the
  // wrapper's; uv's project config (`find-links` and the index a package's build comes from at the
  // next `uv sync`); JetBrains' shared run configurations (`.run/`, as `.idea/`'s).
  '.direnv': 'direnv sources nix-direnv\'s cached shell in it (flake-profile-*.rc) on entering the folder without asking again, and layout puts its bin folders first on PATH; git ignores it',
  'go.work': 'go build, go run and go test here and below compile the modules it names in place of the project\'s dependencies (projects keep it out of git)',
  'Directory.Build.props': 'MSBuild imports it into every project in this folder and below (its targets run at every dotnet build, and the editor\'s design-time build on opening the folder)',
  'Directory.Build.targets': 'MSBuild imports it into every project in this folder and below (its targets run at every dotnet build, and the editor\'s design-time build on opening the folder)',
  'Directory.Build.rsp': 'MSBuild reads its switches for every build in this folder and below (a logger or property is code it loads)',
  ...Object.fromEntries(['nuget.config', 'NuGet.config', 'NuGet.Config'].map((n) => [n, 'NuGet restores packages (and the build targets they carry, run at every build) from the feeds it names, here and below'])),
  'local.properties': 'the Android build and Android Studio\'s sync on opening the folder run the SDK\'s, NDK\'s and CMake\'s programs from where it says (sdk.dir, ndk.dir, cmake.dir); git ignores it',
  // Twenty-eighth pass: Python linters' and type checkers' project configs that run code: pylint's
  // `init-hook` is Python it runs, mypy's `plugins` are modules it imports by path; VS Code's Pylint
  // and Mypy extensions run them on opening a file, before any diff is read (a `pyproject.toml`,
  // `setup.cfg` or `tox.ini` is named when it holds one, see pythonToolHooks). YouCompleteMe imports
  // `.ycm_extra_conf.py` on opening a file (without asking where the user's globlist covers it).
  ...Object.fromEntries(['.pylintrc', 'pylintrc', '.pylintrc.toml', 'pylintrc.toml']
    .map((n) => [n, 'pylint runs its init-hook (Python) and loads its plugins; VS Code\'s Pylint extension on opening a file'])),
  ...Object.fromEntries(['mypy.ini', '.mypy.ini']
    .map((n) => [n, 'mypy imports the plugins it names (a path to a .py file runs); VS Code\'s Mypy extension on opening a file'])),
  '.ycm_extra_conf.py': 'YouCompleteMe imports it (Python) on opening a file here',
  // Twenty-eighth pass: CMake's per-user presets, which CMake's docs say not to commit: read with
  // every `cmake --preset` and by VS Code's CMake Tools on opening the folder (its cacheVariables
  // name the compilers and tools the build runs, its environment the variables).
  'CMakeUserPresets.json': 'CMake reads it at every cmake --preset, VS Code\'s CMake Tools on opening the folder (the compilers and tools its cacheVariables name run at the build); projects keep it out of git',
  'gradle.properties': 'Gradle, which your IDE runs on opening the folder, starts the JVM it names (org.gradle.java.home) with its options (org.gradle.jvmargs: a -javaagent runs code)',
  'uv.toml': 'uv installs from the indexes and folders it names (a package\'s build runs at your next uv sync here)',
  '.run': 'JetBrains IDEs list its run configurations (their before-launch tasks run with them)',
  // Twenty-seventh pass: package managers' project-local configs projects keep out of git (the
  // docs of each say so), start files REPLs read in the folder they start in, and editors' second
  // names: Poetry's `poetry.toml` (`poetry config --local`: `virtualenvs.path`, whose python
  // `poetry run` starts), PDM's `.pdm-python` (the interpreter `pdm use` chose: a path, run by every
  // pdm command here) and `pdm.toml`, bazelisk's `.bazeliskrc` (`BAZELISK_BASE_URL`: the bazel it
  // downloads and runs, fetched by the host past Airlock), IEx's and the OCaml toplevel's start
  // files, Emacs's `.dir-locals-2.el` (read with `.dir-locals.el`).
  'poetry.toml': 'poetry obeys it here (virtualenvs.path: the environment whose python poetry run starts; sources and installer settings); projects keep it out of git',
  '.pdm-python': 'pdm runs the interpreter it names for every command here (pdm run, install, sync); git ignores it',
  'pdm.toml': 'pdm obeys it here (the interpreter, the environment\'s location, the package sources)',
  '.pdm.toml': 'pdm obeys it here (the interpreter, the environment\'s location, the package sources)',
  '.bazeliskrc': 'bazelisk downloads and runs the bazel it names (BAZELISK_BASE_URL: where from) at your next bazel here, fetched past Airlock',
  '.iex.exs': 'IEx runs it when started here (iex -S mix)',
  '.ocamlinit': 'the OCaml toplevel and utop run it when started here',
  '.dir-locals-2.el': 'emacs evaluates it with .dir-locals.el',
  // Twentieth pass: the test runners' and Svelte's configs their VS Code extensions run on opening
  // the folder (Vitest's starts Vitest on the Vite or Vitest config it finds, Playwright's lists the
  // tests — config and test files loaded —, Jest's starts jest, Svelte's language server imports its
  // config for the preprocessors), before any review of the change.
  ...Object.fromEntries([
    ...['vitest.config', 'vitest.workspace', 'vite.config'].map((n) => [n, 'VS Code\'s Vitest extension runs it on opening the folder']),
    ...['playwright.config', 'playwright-ct.config'].map((n) => [n, 'VS Code\'s Playwright extension runs it (and loads the tests) on opening the folder']),
    ['jest.config', 'VS Code\'s Jest extension runs it on opening the folder'],
    ['svelte.config', 'VS Code\'s Svelte extension runs it on opening a .svelte file'],
  ].flatMap(([n, why]) => ['js', 'mjs', 'cjs', 'ts', 'mts', 'cts'].map((ext) => [`${n}.${ext}`, why]))),
});

/**
 * Interpreters and programs installed into the home folder by managers HOME_ENTRIES does not list
 * (nineteenth pass): kept read-only where they exist, as the version managers' installs are, but
 * not looked through after a run (a conda root holds 100,000 files, more than the walk's budget; an
 * agent cannot change them inside).
 */
const HOME_INSTALLS: Readonly<Record<string, string>> = lookupTable({
  // The same installed by other managers: conda's and mamba's (their base
  // interpreter and every environment; `conda init`'s block in the rc files runs `<root>/bin/conda
  // shell.bash hook` at every shell start), Homebrew's in the home folder (every program it
  // installed), IntelliJ's downloaded JDKs, .NET's user install, rye's Pythons, ghcup's GHCs,
  // elan's Lean toolchains, gvm's Go versions, juliaup's Julias, pixi's global environments.
  ...Object.fromEntries(['miniconda3', 'anaconda3', 'miniforge3', 'mambaforge', 'miniconda', 'anaconda', 'micromamba', '.local/share/mamba', '.conda/envs']
    .map((d) => [d, 'conda\'s Python and environments: every python, pip and conda you run (your shell runs its conda at every start)'])),
  '.linuxbrew': 'Homebrew\'s programs: every program you installed with brew',
  '.jdks': 'the JDKs your IDE downloaded: every java its builds and runs start',
  '.dotnet/dotnet': '.NET\'s host: every dotnet you run', '.dotnet/sdk': '.NET\'s SDKs: every dotnet build',
  '.dotnet/shared': '.NET\'s runtimes: every .NET program you run', '.dotnet/host': '.NET\'s host resolver: every dotnet you run',
  '.rye/py': 'rye\'s Pythons: every python rye runs',
  '.ghcup/ghc': 'ghcup\'s GHCs: every ghc and cabal build',
  '.elan/toolchains': 'elan\'s Lean toolchains: every lean and lake you run',
  '.gvm/gos': 'gvm\'s Go versions: every go you run',
  '.julia/juliaup': 'juliaup\'s Julias: every julia you run',
  '.pixi/envs': 'pixi\'s global environments: every command you installed with pixi global',
});

/** Folders not walked in the working directory: big, and no prompt or editor enters them. */
const NOT_WALKED = new Set(['node_modules', '.git', '.hg']);
/** Bounds of the walk after a run (entries read, milliseconds). */
const WALK_ENTRIES = 20_000;
const WALK_MS = 500;
/** HOME_ENTRIES that are version managers' installs: big trees, checked on their own budget. */
const TOOLCHAIN_TREE = /\/(?:versions|toolchains|installs|candidates|tools|install\/global)$/;

/** Entries of each walk after a run read whatever the time: a small project is always read whole. */
const SURE_ENTRIES = 5000;

/**
 * Where the environment moved a folder of the home folder (`XDG_CONFIG_HOME` for `.config/…`,
 * `XDG_DATA_HOME` for `.local/share/…`, `XDG_STATE_HOME` for `.local/state/…`): programs read the
 * moved one; both are looked at.
 */
export function xdgMoved(homeDir: string, rel: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const [prefix, name] of [['.config/', 'XDG_CONFIG_HOME'], ['.local/share/', 'XDG_DATA_HOME'], ['.local/state/', 'XDG_STATE_HOME']] as const) {
    const base = env[name];
    if (!rel.startsWith(prefix) || !base || !path.isAbsolute(base)) continue;
    const moved = path.join(base, rel.slice(prefix.length));
    return moved === path.join(homeDir, rel) ? undefined : moved;
  }
  return undefined;
}

/**
 * The remote editors' servers installed in the home folder (eighteenth pass): VS Code's Remote-SSH,
 * Cursor's and Windsurf's start their server (its Node, JavaScript and the `code-<commit>` CLI that
 * launches it) from here at the next connection, unchecked. Kept read-only where they exist; not
 * named after a run (the running server writes its logs beside them all the time).
 */
export function remoteServers(homeDir: string): string[] {
  const out: string[] = [];
  for (const name of ['.vscode-server', '.vscode-server-insiders', '.vscodium-server', '.cursor-server', '.windsurf-server']) {
    const dir = path.join(homeDir, name);
    let entries: string[];
    try {
      entries = fs.readdirSync(dir).slice(0, 256);
    } catch {
      continue;
    }
    for (const e of entries) if (e === 'bin' || e === 'cli' || e.startsWith('code-')) out.push(path.join(dir, e));
  }
  return out;
}

/**
 * dconf's database folder (nineteenth pass; left open since the sixteenth): GNOME's settings, among
 * them commands it runs (a custom keybinding's `command`, the default terminal's `exec`) and what
 * runs at login. Inside, with no D-Bus, an agent writes the database file itself, and the desktop
 * obeys it at the next login. The folder is kept read-only, not the file: dconf's service replaces
 * the file by a rename in that folder whenever an app saves a setting, which lifts a bind of the
 * file but not of the folder; and not named after a run (it changes whenever a setting is saved).
 * Made (empty, private, as dconf makes it) where the system has dconf and the folder is missing, so
 * the agent cannot make the first database either.
 */
export function desktopSettings(homeDir: string, env: NodeJS.ProcessEnv, dconfInstalled = ['/etc/dconf', '/usr/libexec/dconf-service', '/usr/lib/dconf/dconf-service'].some((p) => fs.existsSync(p))): string[] {
  const out: string[] = [];
  for (const p of [path.join(homeDir, '.config', 'dconf'), xdgMoved(homeDir, '.config/dconf', env)]) {
    if (!p || out.includes(p)) continue;
    try {
      if (!fs.existsSync(p) && dconfInstalled && fs.existsSync(path.dirname(p)) && fs.lstatSync(path.dirname(p)).isDirectory()) fs.mkdirSync(p, { mode: 0o700 });
    } catch {
      /* not ours to make */
    }
    if (isDir(p)) out.push(p);
  }
  return out;
}

/**
 * The home folder's entry files that exist (folders made first, see HOME_FOLDERS), to bind
 * read-only in the sandbox: all but one that
 * holds the working directory, or that a `--writable` path names (itself or a path inside it:
 * `--read-only --writable ~/.config/fish` lets the agent write it; `--writable ~` does not unlock
 * ~/.bashrc).
 */
export function homeEntryFiles(homeDir: string, cwd: string, writable: string[] = [], env: NodeJS.ProcessEnv = process.env): string[] {
  if (!homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root) return [];
  const here = path.resolve(cwd);
  const unlocked = writable.map((w) => path.resolve(w));
  const out: string[] = [];
  for (const rel of Object.keys(HOME_ENTRIES)) {
    const p = path.join(homeDir, rel);
    if (inside(here, p) || unlocked.some((w) => inside(w, p))) continue;
    // Run in the home folder itself, its node_modules is the project's own.
    if (rel === 'node_modules' && here === path.resolve(homeDir)) continue;
    const anchor = HOME_FOLDERS[rel];
    if (anchor !== undefined) {
      try {
        // Not through a symlink the agent left in place of a folder above (lstat each on the way).
        if (!fs.existsSync(p) && fs.existsSync(path.join(homeDir, anchor)) && realFolders(homeDir, path.dirname(rel))) fs.mkdirSync(p, { recursive: true, mode: 0o700 });
      } catch {
        /* not ours to make: reported after the run if the agent makes it */
      }
    }
    const xdgGit = [path.join(homeDir, '.config', 'git', 'config'), xdgMoved(homeDir, '.config/git/config', env)];
    if (NEUTRAL_FILES.includes(rel) && !(rel === '.gitconfig' && xdgGit.some((g) => g && fs.existsSync(g)))) {
      try {
        fs.writeFileSync(p, '', { flag: 'wx', mode: 0o600 }); // O_EXCL: never through a symlink
      } catch {
        /* there already, or not ours to make */
      }
    }
    for (const q of [p, xdgMoved(homeDir, rel, env)]) if (q && fs.existsSync(q) && !inside(here, q) && !unlocked.some((w) => inside(w, q))) out.push(q);
  }
  // What git's global configs include, protected like them; one that is missing is made empty (git
  // reads an empty one as none) when it belongs in the home folder, outside the working directory.
  // One inside the working directory is protected too (sixteenth pass: a team's shared config kept
  // in the project, `[includeIf "gitdir:~/work/"] path = ~/work/.gitconfig`): git obeys it in every
  // repository the include covers, the editor's `git status` during the run included, as it obeys
  // the repository's own `.git/config`, which is kept read-only there as well.
  for (const inc of gitIncludes(homeDir, env)) {
    if (inside(here, inc) || unlocked.some((w) => inside(w, inc))) continue;
    if (!fs.existsSync(inc) && inside(inc, homeDir) && !inside(inc, here) && realFolders(homeDir, path.relative(homeDir, path.dirname(inc)))) {
      try {
        fs.mkdirSync(path.dirname(inc), { recursive: true, mode: 0o700 });
        fs.writeFileSync(inc, '', { flag: 'wx', mode: 0o600 });
      } catch {
        /* not ours to make */
      }
    }
    if (fs.existsSync(inc) && !out.includes(inc)) out.push(inc);
  }
  // The global ignore and attributes files and the programs git's and ssh's configs name (twentieth
  // pass), where they exist in the home folder.
  for (const f of [...gitGlobalFiles(homeDir, env), ...sshIncludedFiles(homeDir), ...sshPrograms(homeDir), ...configNamedFiles(homeDir)]) {
    if (inside(f, homeDir) && !inside(here, f) && !inside(f, here) && !unlocked.some((w) => inside(w, f)) && fs.existsSync(f) && !out.includes(f)) out.push(f);
  }
  // What the user's environment names as startup code, protected like them (missing: named after the run).
  for (const f of envEntryFiles(env, homeDir, cwd).keys()) {
    if (unlocked.some((w) => inside(w, f)) || out.includes(f) || !fs.existsSync(f)) continue;
    out.push(f);
  }
  // conda and mamba installed elsewhere in the home folder (`~/opt/miniconda3`): `conda init` and
  // `micromamba shell init` export where.
  const condaExe = env.CONDA_EXE && path.isAbsolute(env.CONDA_EXE) ? path.dirname(path.dirname(env.CONDA_EXE)) : undefined;
  const installs = [...Object.keys(HOME_INSTALLS).map((rel) => path.join(homeDir, rel)), condaExe, env.MAMBA_ROOT_PREFIX]
    .filter((p): p is string => !!p && path.isAbsolute(p) && inside(p, homeDir) && path.resolve(p) !== path.resolve(homeDir) && !out.includes(p) && fs.existsSync(p));
  for (const f of [...remoteServers(homeDir), ...desktopSettings(homeDir, env), ...installs]) if (!inside(here, f) && !inside(f, here) && !unlocked.some((w) => inside(w, f))) out.push(f);
  // What the shell rc files source, protected like them.
  for (const f of rcSourced(homeDir)) {
    if (inside(here, f) || unlocked.some((w) => inside(w, f)) || out.includes(f)) continue;
    out.push(f);
  }
  // zsh's compiled forms of all these, and its completion dumps, protected like them (compiledForm).
  const zsh = [...Object.keys(HOME_ENTRIES).map((rel) => compiledForm(path.join(homeDir, rel))), ...out.map(compiledForm), ...zshDumps(homeDir, env)];
  for (const f of zsh) {
    if (out.includes(f) || inside(here, f) || inside(f, here) || unlocked.some((w) => inside(w, f)) || !fs.existsSync(f)) continue;
    out.push(f);
  }
  return out;
}

/**
 * Files and folders the user's own environment names as code every program of a kind runs at its
 * start (fourteenth pass): `BASH_ENV` (every non-interactive bash), `ENV` (sh), `PYTHONSTARTUP`,
 * `ZDOTDIR` (zsh's rc files), `INPUTRC`, the preloads of `NODE_OPTIONS` (`--require`, `--import`,
 * `--loader`), `LD_PRELOAD`, a JVM's `-javaagent:`, Ruby's `-r`, the folders of `PYTHONPATH` and
 * `NODE_PATH` (imported before the standard library / for what node_modules lacks), and the configs
 * `GIT_CONFIG_GLOBAL`, `NPM_CONFIG_USERCONFIG`, `PIP_CONFIG_FILE`, `WGETRC`, `CURL_HOME`, `SCREENRC`,
 * `MYVIMRC` name. Only those in the home folder (the user's to write, so the agent's), never one in
 * or holding the working directory. Path → why.
 */
export function envEntryFiles(env: NodeJS.ProcessEnv, homeDir: string, cwd: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!homeDir || !path.isAbsolute(homeDir) || homeDir === path.parse(homeDir).root) return out;
  const here = path.resolve(cwd);
  const add = (value: string | undefined, why: string): void => {
    if (!value) return;
    const p = path.resolve(value.replace(/^~(?=\/|$)/, homeDir));
    if (!path.isAbsolute(value.replace(/^~(?=\/|$)/, homeDir)) || !inside(p, homeDir) || p === path.resolve(homeDir) || inside(p, here) || inside(here, p)) return;
    if (!out.has(p) && out.size < 64) out.set(p, why);
  };
  // npm reads its settings from the environment in any case; the rest are exact names.
  const get = (name: string): string | undefined => env[name] ?? (name.startsWith('NPM_CONFIG_') ? env[Object.keys(env).find((k) => k.toUpperCase() === name) ?? ''] : undefined);
  add(get('BASH_ENV'), 'BASH_ENV names it: every non-interactive bash runs it');
  add(get('ENV'), 'ENV names it: sh runs it');
  add(get('PYTHONSTARTUP'), 'PYTHONSTARTUP names it: interactive Python runs it');
  add(get('ZDOTDIR'), 'ZDOTDIR names it: zsh runs the rc files in it');
  add(get('INPUTRC'), 'INPUTRC names it: readline key bindings type text into shells');
  add(get('GIT_CONFIG_GLOBAL'), 'GIT_CONFIG_GLOBAL names it: git runs programs it names');
  add(get('NPM_CONFIG_USERCONFIG'), 'npm_config_userconfig names it: npm obeys its node-options and script-shell');
  add(get('PIP_CONFIG_FILE'), 'PIP_CONFIG_FILE names it: pip installs from the index it names');
  add(get('WGETRC'), 'WGETRC names it: wget obeys it');
  add(get('SCREENRC'), 'SCREENRC names it: screen runs its commands');
  add(get('MYVIMRC'), 'MYVIMRC names it: vim runs it');
  const miseState = get('MISE_STATE_DIR');
  if (miseState) add(path.join(miseState, 'trusted-configs'), 'mise runs the hooks, tasks and env scripts of the config files it trusts');
  const curlHome = get('CURL_HOME');
  if (curlHome) add(path.join(curlHome, '.curlrc'), 'CURL_HOME names its folder: curl obeys it');
  // Option strings: the file after each preload flag, however it is spelled.
  const words = (v: string | undefined): string[] => (v ?? '').slice(0, 8192).split(/\s+/).filter(Boolean).slice(0, 256);
  const node = words(get('NODE_OPTIONS'));
  node.forEach((w, i) => {
    const m = /^(?:--require|-r|--import|--loader|--experimental-loader)(?:=(.+))?$/.exec(w);
    if (m) add(m[1] ?? node[i + 1], 'NODE_OPTIONS preloads it: every Node program runs it');
  });
  for (const name of ['JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS']) {
    for (const w of words(get(name))) add(/^-javaagent:([^=]+)/.exec(w)?.[1], `${name} loads it as an agent: every JVM runs it`);
  }
  for (const w of words(get('RUBYOPT'))) add(/^-r(.+)$/.exec(w)?.[1], 'RUBYOPT requires it: every Ruby runs it');
  for (const lib of (get('LD_PRELOAD') ?? '').split(/[\s:]+/).filter(Boolean).slice(0, 32)) add(lib, 'LD_PRELOAD names it: every program loads it');
  for (const dir of (get('PYTHONPATH') ?? '').split(':').filter(Boolean).slice(0, 32)) add(dir, 'on PYTHONPATH: Python imports from it before the standard library');
  for (const dir of (get('NODE_PATH') ?? '').split(':').filter(Boolean).slice(0, 32)) add(dir, 'on NODE_PATH: Node programs load from it what their node_modules lacks');
  // The other languages' module paths (twenty-second pass): local::lib's bootstrap in ~/.bashrc sets
  // PERL5LIB=~/perl5/lib/perl5, searched before the system's (`use strict` in every perl program, git's
  // perl commands among them); Ruby's, Java's (folders and jars) and R's alike.
  const modulePaths: Array<[string, string]> = [
    ['PERL5LIB', 'on PERL5LIB: every Perl program loads modules from it before the system\'s'],
    ['PERLLIB', 'on PERLLIB: every Perl program loads modules from it before the system\'s'],
    ['RUBYLIB', 'on RUBYLIB: every Ruby program requires from it before the standard library'],
    ['CLASSPATH', 'on CLASSPATH: Java programs started without -cp load classes from it'],
    ['R_LIBS_USER', 'on R_LIBS_USER: R loads packages from it before the system\'s'],
    ['R_LIBS', 'on R_LIBS: R loads packages from it before the system\'s'],
  ];
  for (const [name, why] of modulePaths) for (const dir of (get(name) ?? '').split(':').filter(Boolean).slice(0, 32)) add(dir, why);
  // Where the user installs tools globally, moved by the environment or npm's config (eighteenth pass).
  // Both: the user's other shells may lack the variable.
  for (const prefix of [get('NPM_CONFIG_PREFIX'), npmrcPrefix(get('NPM_CONFIG_USERCONFIG') ?? path.join(homeDir, '.npmrc'), homeDir)]) {
    if (prefix) add(path.join(prefix.replace(/^~(?=\/|$)/, homeDir), 'lib', 'node_modules'), 'npm\'s global packages (your prefix): every command you installed with npm install -g');
  }
  const pipx = get('PIPX_HOME');
  if (pipx) add(path.join(pipx, 'venvs'), 'pipx\'s environments: every command you installed with pipx');
  add(get('UV_TOOL_DIR'), 'uv\'s tool environments: every command you installed with uv tool install');
  const pnpm = get('PNPM_HOME');
  if (pnpm) add(path.join(pnpm, 'global'), 'pnpm\'s global packages: every command you installed with pnpm add -g');
  const bun = get('BUN_INSTALL');
  if (bun) add(path.join(bun, 'install', 'global'), 'bun\'s global packages: every command you installed with bun add -g');
  return out;
}

/** The `prefix` an npmrc sets (`prefix=~/.npm-global`, `${HOME}` read), or undefined. */
function npmrcPrefix(file: string, homeDir: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').slice(0, 64 * 1024);
  } catch {
    return undefined;
  }
  // A line at a time (one pattern over the whole text was polynomial in its blanks: the ReDoS guard).
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t.startsWith('prefix')) continue;
    const rest = t.slice('prefix'.length).trimStart();
    if (!rest.startsWith('=')) continue;
    const value = rest.slice(1).trim().replace(/^"/, '').replace(/"$/, '');
    if (value && !value.includes('"')) return value.replace(/^\$\{HOME\}|^\$HOME\b/, homeDir);
  }
  return undefined;
}

/**
 * The files git's global configs include (`[include] path = …`, `[includeIf "…"] path = …`, nested
 * up to 4 deep), which git obeys as the configs themselves: `~/.gitconfig.local` is a common one.
 * A relative path is the including file's folder's; `~/` the home folder's.
 */
export function gitIncludes(homeDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  return configIncludes([path.join(homeDir, '.gitconfig'), path.join(homeDir, '.config', 'git', 'config'), xdgMoved(homeDir, '.config/git/config', env)]
    .filter((p): p is string => !!p), homeDir);
}

/**
 * The regular files of the home folder a config's value names by path (`~/x`, `$HOME/x`, `${HOME}/x`
 * or absolute), at the start of the value or after a space, quote, `=`, `!`, `:` or `(`.
 */
function homeFilesNamed(value: string, homeDir: string): string[] {
  const out: string[] = [];
  for (const m of value.matchAll(/(?:^|[\s'"=!:(])((?:~|\$HOME|\$\{HOME\})\/[^\s'";|&)]+|\/[^\s'";|&)]+)/g)) {
    const raw = m[1]!;
    const target = path.resolve(raw.startsWith('/') ? raw : path.join(homeDir, raw.slice(raw.indexOf('/') + 1)));
    if (out.length < 32 && !out.includes(target) && inside(target, homeDir) && target !== path.resolve(homeDir) && isFile(target)) out.push(target);
  }
  return out;
}

/**
 * The programs of the home folder `~/.ssh/config` runs by path (`ProxyCommand ~/bin/proxy.sh %h`,
 * `LocalCommand`, `KnownHostsCommand`, `Match exec`, a PKCS#11 or security key provider library):
 * `~/.ssh` is hidden whole, but a program it names elsewhere was the agent's to rewrite, and the
 * user's next `ssh` (or `git push` over ssh) ran it (twentieth pass). Top-level file only.
 */
const SSH_RUNS = new Set(['proxycommand', 'localcommand', 'knownhostscommand', 'pkcs11provider', 'securitykeyprovider']);

/** What an ssh_config line runs or loads: the value of a keyword above, or what follows `exec` in a `Match` line. */
function sshCommandValue(line: string): string | undefined {
  const text = line.trimStart();
  const keyword = /^[A-Za-z0-9]+/.exec(text)?.[0] ?? '';
  let rest = text.slice(keyword.length);
  if (keyword.toLowerCase() === 'match') {
    const exec = /\bexec(?=[\s=])/i.exec(rest);
    if (!exec) return undefined;
    rest = rest.slice(exec.index + 4);
  } else if (!SSH_RUNS.has(keyword.toLowerCase())) {
    return undefined;
  }
  // Blanks, or an `=` between blanks, before the value.
  rest = rest.trimStart();
  return rest.startsWith('=') ? rest.slice(1).trimStart() : rest;
}

/**
 * The user's ssh config and the files its `Include` lines name, nested up to 4 deep (twenty-seventh
 * pass), as ssh reads them: a relative path from `~/.ssh`, `~/` the home folder, several paths a
 * line, quoted or not, a wildcard (`config.d/*`) in the last part matched against that folder's
 * files. Container and VM managers add their own outside `~/.ssh`, which the sandbox left writable
 * (`Include ~/.orbstack/ssh/config`, Colima's `~/.colima/ssh_config`, Lima's, a team's in a
 * dotfiles folder): a `ProxyCommand` or `Match exec` the agent put there ran at the next `ssh` or
 * `git push`, and the programs they name were passed over (top-level file only). Existing ones
 * only; bounded.
 */
export function sshConfigFiles(homeDir: string): string[] {
  if (!homeDir || !path.isAbsolute(homeDir)) return [];
  const sshDir = path.join(homeDir, '.ssh');
  const out = [path.join(sshDir, 'config')];
  for (let i = 0, depth = new Map([[out[0]!, 0]]); i < out.length && out.length < 32; i++) {
    const file = out[i]!;
    if ((depth.get(file) ?? 0) >= 4) continue;
    for (const line of configLines(file)) {
      // `Include` (any case), then blanks or an `=` between blanks, then the paths (plain string
      // steps: no regular expression with overlapping runs).
      const text = line.trimStart();
      if (text.slice(0, 7).toLowerCase() !== 'include') continue;
      let rest = text.slice(7);
      if (!rest || !/^[\s=]/.test(rest)) continue;
      rest = rest.trimStart();
      if (rest.startsWith('=')) rest = rest.slice(1);
      // Paths split on blanks, a quoted one kept whole; a comment ends the line.
      for (const q of rest.matchAll(/"([^"]*)"|([^\s"]+)/g)) {
        const raw = q[1] ?? q[2]!;
        if (raw.startsWith('#')) break;
        const named = raw.startsWith('~/') ? path.join(homeDir, raw.slice(2)) : path.resolve(sshDir, raw);
        const found = /[*?[]/.test(path.basename(named)) && !/[*?[]/.test(path.dirname(named))
          ? (() => {
            try {
              const shape = path.basename(named);
              return fs.readdirSync(path.dirname(named)).slice(0, 256).filter((n) => globMatch(shape, n)).sort().map((n) => path.join(path.dirname(named), n));
            } catch {
              return [];
            }
          })()
          : [named];
        for (const f of found) {
          if (out.length >= 32 || out.includes(f) || !regularFile(f)) continue;
          out.push(f);
          depth.set(f, (depth.get(file) ?? 0) + 1);
        }
      }
    }
  }
  return out.filter(regularFile);
}

/** A regular file, through links (a config kept in a dotfiles folder is one). */
function regularFile(f: string): boolean {
  try {
    return fs.statSync(f).isFile();
  } catch {
    return false;
  }
}

/** The files sshConfigFiles finds outside `~/.ssh` (which is read-only inside and named whole). */
export function sshIncludedFiles(homeDir: string): string[] {
  return sshConfigFiles(homeDir).filter((f) => !inside(f, path.join(homeDir, '.ssh')));
}

export function sshPrograms(homeDir: string): string[] {
  const out: string[] = [];
  for (const line of sshConfigFiles(homeDir).flatMap((f) => configLines(f))) {
    const value = sshCommandValue(line);
    if (value !== undefined) for (const f of homeFilesNamed(value, homeDir)) if (out.length < 32 && !out.includes(f)) out.push(f);
  }
  return out;
}

/**
 * The files of the home folder npm's and tmux's user configs name by path: npm runs `script-shell`
 * and the `--require` of `node-options` in every script and trusts `cafile`; tmux runs `run-shell`
 * and `if-shell` commands and loads `source-file`s at every start. Their configs are read-only, what
 * they name was the agent's (twentieth pass). Twenty-first pass: the same for the other configs of
 * HOME_ENTRIES that run programs or load code by path — the shell rc files and what they source
 * (`eval "$(~/tools/zoxide init bash)"`, `~/scripts/motd.sh`), starship's custom `command`s, vim's
 * and neovim's `source`/`dofile`, kitty's `launch`, Alacritty's and WezTerm's shells, fish's and
 * nushell's configs, emacs's `load`, direnv's `direnvrc`, mise's hooks, VS Code's interpreter and
 * shell paths. Those also name data (`HISTFILE=~/.bash_history`, `set undofile`), which changes on
 * its own and must stay writable: only a program (executable) or a script or library by its
 * extension is taken from them.
 */
const NAMING_CONFIGS = ['.npmrc', '.tmux.conf', '.config/tmux/tmux.conf'];
const PROGRAM_NAMING_CONFIGS = [
  ...RC_FILES, '.config/starship.toml', '.vimrc', '.vim/vimrc', '.config/nvim/init.vim', '.config/nvim/init.lua',
  '.config/kitty/kitty.conf', '.config/alacritty/alacritty.toml', '.config/alacritty/alacritty.yml', '.wezterm.lua',
  '.config/wezterm/wezterm.lua', '.config/fish/config.fish', '.config/nushell/config.nu', '.config/nushell/env.nu',
  '.emacs', '.emacs.d/init.el', '.config/direnv/direnvrc', '.direnvrc', '.config/mise/config.toml', '.screenrc',
  '.config/Code/User/settings.json', '.config/lazygit/config.yml', '.config/mpv/mpv.conf', '.config/yt-dlp/config', '.pylintrc',
];
const SCRIPT_FILE = /\.(?:sh|bash|zsh|fish|nu|py|js|mjs|cjs|ts|lua|vim|el|elc|pl|rb|php|jar|so)$/;

/**
 * Every other config of the home folder that runs programs (twenty-sixth pass): the files HOME_ENTRIES
 * protects, and those directly in the folders it protects (a window manager's `config` with `exec
 * ~/scripts/autostart.sh`, Cursor's and VSCodium's `settings.json` naming an interpreter, cargo's
 * `rustc-wrapper` and `runner`), plus the hidden configs whose programs run on the host (`~/.kube/config`'s
 * exec plugin, `~/.aws/config`'s `credential_process`): the config is read-only or hidden, but a
 * program it names elsewhere in the home folder was the agent's to rewrite, and ran at the next
 * login, `kubectl`, `aws` or build (HIDDEN_NAMING: the hidden ones read). Not the version managers' installs (TOOLCHAIN_TREE); bounded.
 */
const HIDDEN_NAMING = [
  '.kube/config', '.aws/config',
  // gpg-agent's pinentry (every signed commit), gh's aliases and editor, rclone's password_command,
  // and the mail tools' password commands and Python files (every sync, often from cron).
  '.gnupg/gpg-agent.conf', '.gnupg/gpg.conf', '.config/gh/config.yml', '.config/rclone/rclone.conf', '.mbsyncrc', '.msmtprc',
  '.config/msmtp/config', '.offlineimaprc', '.config/aerc/accounts.conf', '.fetchmailrc',
];

function protectedConfigs(homeDir: string): string[] {
  const out: string[] = [];
  const small = (p: string, limit: number): boolean => {
    try {
      const st = fs.statSync(p);
      return st.isFile() && st.size <= limit;
    } catch {
      return false;
    }
  };
  for (const rel of [...Object.keys(HOME_ENTRIES), ...HIDDEN_NAMING]) {
    if (out.length >= 400) break;
    if (TOOLCHAIN_TREE.test(rel)) continue;
    const p = path.join(homeDir, rel);
    if (small(p, 256 * 1024)) {
      out.push(p);
      continue;
    }
    if (!isDir(p)) continue;
    let names: string[];
    try {
      names = fs.readdirSync(p).slice(0, 32);
    } catch {
      continue;
    }
    for (const n of names) if (small(path.join(p, n), 64 * 1024)) out.push(path.join(p, n));
  }
  return out;
}

function programOrScript(p: string): boolean {
  try {
    return (fs.statSync(p).mode & 0o111) !== 0 || SCRIPT_FILE.test(p);
  } catch {
    return false;
  }
}

export function configNamedFiles(homeDir: string): string[] {
  const out: string[] = [];
  const configs = [
    ...NAMING_CONFIGS.map((rel) => ({ file: path.join(homeDir, rel), any: true })),
    ...[...PROGRAM_NAMING_CONFIGS.map((rel) => path.join(homeDir, rel)), ...rcSourced(homeDir)].map((file) => ({ file, any: false })),
    ...protectedConfigs(homeDir).map((file) => ({ file, any: false })),
  ];
  for (const { file, any } of configs) {
    for (const line of configLines(file).slice(0, 5000)) {
      // Comments: `#` (shells, TOML, YAML), `;` (ini, emacs), `--` (Lua), `//` (JSON). Not vim's `"`:
      // a shell line may begin with a quoted program (`"$HOME/bin/motd"`).
      if (/^\s*(?:[#;]|--|\/\/)/.test(line)) continue;
      for (const f of homeFilesNamed(line, homeDir)) if (out.length < 64 && !out.includes(f) && f !== file && (any || programOrScript(f))) out.push(f);
    }
  }
  return out;
}

/**
 * The files of the home folder git's global configs name by path: the programs git runs
 * (`gpg.program = ~/bin/gpg-wrap`, `core.editor`, a credential helper, a filter), and
 * the ignore and attributes files (`core.excludesFile`,
 * `core.attributesFile`), in every repository of the user's: a line the agent adds to the first
 * hides a file of its own (a `conftest.py` pytest loads) from every `git status` and diff, the second
 * turns a file's diff into "Binary files differ" (`-diff`); and the template folder (`init.templateDir`,
 * `GIT_TEMPLATE_DIR`), whose hooks git copies into every repository the user makes or clones (a
 * `post-checkout` there runs at the end of the next `git clone`). Twentieth pass; the default places
 * (`~/.config/git/ignore`, `attributes`) are in `~/.config/git`, protected whole.
 */
export function gitGlobalFiles(homeDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const configs = [path.join(homeDir, '.gitconfig'), path.join(homeDir, '.config', 'git', 'config'), xdgMoved(homeDir, '.config/git/config', env)].filter((p): p is string => !!p);
  const out: string[] = [];
  const named = (key: string, raw: string, value: string): void => {
    if (!['core.excludesfile', 'core.attributesfile', 'init.templatedir', 'core.hookspath'].includes(key)) {
      // Any other value naming a file of the home folder by path: a program git runs (`gpg.program`,
      // `core.editor`, `credential.helper`, `diff.external`, a filter, an alias `!~/bin/x`) or a file
      // it trusts (`http.sslCAInfo`); the program, rewritten, runs at the next commit or fetch.
      for (const target of homeFilesNamed(raw, homeDir)) if (out.length < 32 && !out.includes(target)) out.push(target);
      return;
    }
    if (!value) return;
    const target = value.startsWith('~/') ? path.join(homeDir, value.slice(2)) : path.isAbsolute(value) ? value : undefined;
    // Twenty-sixth pass: a global `core.hooksPath` is a folder of programs git runs in every
    // repository (at every commit, checkout, merge, push); relative, it is each repository's own
    // (named after the run in the working directory's, see repositoryHooks). Not the home folder itself.
    if (target && key === 'core.hookspath' && path.resolve(target) === path.resolve(homeDir)) return;
    if (target && !out.includes(target) && out.length < 16) out.push(target);
  };
  for (const file of [...configs, ...configIncludes(configs, homeDir)]) {
    // As git reads it (gitConfigEntries); its own reading below where git cannot.
    const entries = gitConfigEntries(file);
    if (entries) {
      for (const [key, value] of entries) named(key, `=${value}`, value);
      continue;
    }
    const text = configText(file);
    if (text === undefined) continue;
    let section = '';
    for (const raw of text.split('\n')) {
      let line = raw.trim();
      if (line.startsWith('[')) {
        section = /^\[\s*(core|init)\s*\]/i.exec(line)?.[1]?.toLowerCase() ?? '';
        const close = line.indexOf(']');
        line = close < 0 ? '' : line.slice(close + 1).trim();
      }
      const eq = line.indexOf('=');
      if (eq < 0 || line.startsWith('#') || line.startsWith(';')) continue;
      const key = `${section}.${line.slice(0, eq).trim().toLowerCase()}`;
      let value = line.slice(eq + 1).trim();
      if (value.startsWith('"')) value = value.slice(1, Math.max(1, value.indexOf('"', 1)));
      else value = value.split(/[;#]/, 1)[0]!.trim();
      named(key, line.slice(eq + 1), value);
    }
  }
  const template = env.GIT_TEMPLATE_DIR;
  if (template && path.isAbsolute(template) && !out.includes(template)) out.push(template);
  return out;
}

/**
 * A git config file's entries as git reads them (twenty-seventh pass): `[section "sub"] key` as
 * `section.sub.key` (section and key in lower case), values unquoted, escapes undone, a line ended
 * by a backslash continued, a comment after a value dropped. Read by the git airlock run pinned
 * before the run (hostProgram), with `--no-includes` (includes are followed by the callers, as
 * files of their own) and no other config. The readers below split lines themselves: a value
 * continued on the next line (`path = ../te\` + `am.gitconfig`) or quoted in part (`path =
 * ../"team".gitconfig`), which git reads as `../team.gitconfig`, was taken for another file, and
 * the config git obeys stayed the agent's to write. Undefined when git cannot read it (no git, a
 * file git refuses): the callers' own reading then.
 */
export function gitConfigEntries(file: string): Array<[string, string]> | undefined {
  try {
    // Followed (a `~/.gitconfig` kept in a dotfiles folder is a link); what is no regular file (a
    // FIFO the agent left in a nested repository's `.git/config`) is never read: git would wait on it.
    if (!fs.statSync(file).isFile()) return [];
  } catch {
    return undefined;
  }
  const git = hostProgram('git');
  if (!('file' in git)) return undefined;
  const r = spawnSync(git.file, ['config', '--file', file, '--no-includes', '--null', '--list'], {
    cwd: '/', encoding: 'utf8', timeout: 5000, maxBuffer: 4 << 20, stdio: ['ignore', 'pipe', 'ignore'],
    env: { PATH: '/usr/bin:/bin', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  if (r.status !== 0 || typeof r.stdout !== 'string') return undefined;
  // `key\nvalue\0` each (`key\0` for a key with no `=`).
  return r.stdout.split('\0').filter(Boolean).slice(0, 4096).map((e): [string, string] => {
    const nl = e.indexOf('\n');
    return nl < 0 ? [e, ''] : [e.slice(0, nl), e.slice(nl + 1)];
  });
}

/** Whether a git config key (as gitConfigEntries gives it) is an include's path: `include.path`, `includeif.<condition>.path`. */
function includeKey(key: string): boolean {
  return key === 'include.path' || (key.startsWith('includeif.') && key.endsWith('.path'));
}

/** Where a git include's value leads: `~/` in the home folder, a relative path from the including file's folder. */
function includeTarget(value: string, file: string, homeDir: string): string {
  return value.startsWith('~/') && homeDir ? path.join(homeDir, value.slice(2)) : path.resolve(path.dirname(file), value);
}

/** The files the git config files `configs` include, nested up to 4 deep (see gitIncludes). */
export function configIncludes(configs: string[], homeDir: string): string[] {
  const out: string[] = [];
  const queue = configs.map((p) => ({ file: p, depth: 0 }));
  while (queue.length && out.length < 32) {
    const { file, depth } = queue.shift()!;
    const entries = gitConfigEntries(file);
    if (entries) {
      for (const [key, value] of entries) {
        if (!includeKey(key) || !value) continue;
        const target = includeTarget(value, file, homeDir);
        if (out.includes(target)) continue;
        out.push(target);
        if (depth < 4) queue.push({ file: target, depth: depth + 1 });
      }
      continue;
    }
    const text = configText(file);
    if (text === undefined) continue;
    let including = false;
    for (const raw of text.split('\n')) {
      let line = raw.trim();
      if (line.startsWith('[')) {
        including = /^\[\s*include(?:if)?\b/i.test(line);
        // `[include] path = …` on one line is a section and a variable.
        const close = line.indexOf(']');
        line = close < 0 ? '' : line.slice(close + 1).trim();
      }
      const eq = line.indexOf('=');
      if (!including || eq < 0 || line.slice(0, eq).trim().toLowerCase() !== 'path') continue;
      let value = line.slice(eq + 1).trim();
      if (value.startsWith('"')) value = value.slice(1, Math.max(1, value.indexOf('"', 1)));
      else value = value.split(/[;#]/, 1)[0]!.trim(); // a comment after the value
      if (!value) continue;
      const target = includeTarget(value, file, homeDir);
      if (out.includes(target)) continue;
      out.push(target);
      if (depth < 4) queue.push({ file: target, depth: depth + 1 });
    }
  }
  return out;
}

export interface Planted {
  path: string;
  why: string;
}

/**
 * Whether `p` or, for a folder, something below it, changed at or after `since`. A symlink counts
 * as changed when it or what it leads to did (twenty-seventh pass): a project's `.envrc ->
 * config/envrc`, a `.vscode` linked to a folder shared between projects, a `~/.bash_aliases`
 * linked into a dotfiles folder is what direnv, the editor and bash read, and the agent rewrote the
 * file behind the link, whose own name is on no list, leaving the link's times as they were. What
 * it leads to is followed within the same depth and budget; a link to a folder only as the entry
 * itself (a link to a folder above counts entries until the depth bound, never loops).
 */
function changedSince(p: string, since: number, budget: WalkBudget, depth = 0): boolean {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return false;
  }
  if (st.ctimeMs >= since) return true;
  if (st.isSymbolicLink()) {
    try {
      st = fs.statSync(p);
    } catch {
      return false; // leads nowhere: nothing behind it to run
    }
    if (st.ctimeMs >= since) return true;
    // A link to a folder is walked only as the entry itself: links below it to folders (nix-direnv's
    // `.direnv/flake-inputs/* -> /nix/store/…`, whole source trees) are the tools' own, and
    // walking them would spend the budget on every run.
    if (depth > 0) return false;
  }
  if (!st.isDirectory() || depth > 6) return false;
  let names: string[];
  try {
    names = fs.readdirSync(p);
  } catch {
    return false;
  }
  for (const n of names) {
    if (spent(budget)) return false;
    if (changedSince(path.join(p, n), since, budget, depth + 1)) return true;
  }
  return false;
}

/**
 * What of a folder entry counts as changed: a `.git` folder's config, hooks, info and commondir
 * (objects and the index change with every commit), a `.hg` folder's hgrc, anything else whole.
 */
function folderEntryWatched(p: string): string[] {
  const name = path.basename(p);
  if (name === '.git' && isDir(p)) return ['config', 'config.worktree', 'hooks', 'info', 'commondir'].map((n) => path.join(p, n));
  if (name === '.hg' && isDir(p)) return [path.join(p, 'hgrc')];
  return [p];
}

/**
 * Files a tool reads in place of, or on top of, a tracked one, by a name no list can hold whole
 * (twenty-sixth pass): MSBuild imports `<project file>.user` (`App.csproj.user`, `*.user` in every
 * Visual Studio .gitignore) into each build, its targets run; Task takes `Taskfile.yml` in place of
 * the `Taskfile.dist.yml` a project commits (its docs: the other one is for git to ignore).
 */
function localOverride(dir: string, name: string): string | undefined {
  if (path.basename(dir) === '.github' && ['instructions', 'prompts', 'chatmodes'].includes(name)) return 'GitHub Copilot takes its files as your instructions and prompts for this repository';
  // Yarn's own release (the `yarnPath` of `.yarnrc.yml`, run at every yarn command here) and its
  // plugins (loaded at every command), rewritten in place with `.yarnrc.yml` unchanged (twenty-seventh pass).
  if (path.basename(dir) === '.yarn' && (name === 'releases' || name === 'plugins')) return 'yarn runs the release and loads the plugins in it at every command here (.yarnrc.yml\'s yarnPath and plugins)';
  if (/proj\.user$/i.test(name) && name.length > 9) return 'MSBuild imports it into the project beside it at every build (its targets run; the editor\'s design-time build on opening the folder); git ignores *.user';
  // mise's other config names in a folder (an environment's `mise.dev.toml`, `.mise.<env>.toml`, the
  // old `.rtx.toml`, and `config.toml`, `config.<env>.toml` and `conf.d/` in a `mise` or
  // `.config/mise` folder): read with `mise.toml`, their hooks and env run on entering the folder.
  if (/^\.?mise\.[\w.-]+\.toml$/.test(name) || name === '.rtx.toml' || (path.basename(dir) === 'mise' && (/^config(?:\.[\w.-]+)?\.toml$/.test(name) || name === 'conf.d'))) {
    return 'mise reads it with mise.toml: its hooks and env run on entering the folder';
  }
  if (/^[Tt]askfile\.ya?ml$/.test(name) && ['Taskfile.dist.yml', 'Taskfile.dist.yaml', 'taskfile.dist.yml', 'taskfile.dist.yaml'].some((d) => fs.existsSync(path.join(dir, d)))) {
    return 'task runs it in place of the Taskfile.dist.yml beside it (projects keep it out of git)';
  }
  return undefined;
}

/**
 * The committed original a file stands in for by name (twenty-seventh pass), when it is there
 * beside it: tools that ship a `.dist` config read the one without `.dist` first, and projects
 * commit the `.dist` one and ignore the other (PHP CS Fixer's `.php-cs-fixer.php` over
 * `.php-cs-fixer.dist.php`, code it runs; PHPUnit's `phpunit.xml` over `phpunit.xml.dist` or
 * `phpunit.dist.xml`, whose bootstrap runs; PHPStan's and Psalm's, Behat's, Codeception's, Task's
 * `Taskfile.yml`). The twenty-sixth pass named Task's alone; this is the rule its case was of:
 * `<stem>.dist.<ext>` or `<name>.dist` beside `<name>`.
 */
function distOriginal(dir: string, name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  const candidates = TEMPLATE_MARKS.flatMap((mark) => [`${name}.${mark}`, ...(dot > 0 ? [`${name.slice(0, dot)}.${mark}${name.slice(dot)}`] : [])]);
  return candidates.find((c) => isFile(path.join(dir, c)));
}

/**
 * The marks of a committed template whose real file the project keeps out of git (twenty-eighth
 * pass: the same rule as `.dist`, for the other spellings projects use): Rails' `config/database.yml`
 * beside `database.yml.example` (Rails runs its ERB, Ruby, at every `rails` command), a
 * `config.mk` beside `config.mk.sample` that the Makefile includes, `settings.yml.template`.
 */
const TEMPLATE_MARKS = ['dist', 'example', 'sample', 'template', 'default'];

/**
 * The value of `core.hooksPath` in a git config file (the last one; undefined: none), unquoted.
 * Git runs the hooks of that folder in place of `.git/hooks` (twenty-sixth pass).
 */
export function hooksPathIn(file: string): string | undefined {
  const entries = gitConfigEntries(file);
  if (entries) return entries.filter(([key]) => key === 'core.hookspath').at(-1)?.[1] || undefined;
  const text = configText(file);
  if (text === undefined) return undefined;
  let core = false;
  let found: string | undefined;
  for (const raw of text.split('\n')) {
    let line = raw.trim();
    if (line.startsWith('[')) {
      core = /^\[\s*core\s*\]/i.test(line);
      const close = line.indexOf(']');
      line = close < 0 ? '' : line.slice(close + 1).trim();
    }
    const eq = line.indexOf('=');
    if (!core || eq < 0 || line.slice(0, eq).trim().toLowerCase() !== 'hookspath') continue;
    let value = line.slice(eq + 1).trim();
    if (value.startsWith('"')) value = value.slice(1, Math.max(1, value.indexOf('"', 1)));
    else value = value.split(/[;#]/, 1)[0]!.trim();
    found = value || undefined;
  }
  return found;
}

/**
 * The hooks folders git runs for the repository at `top` when `core.hooksPath` moves them (its own
 * config, else the user's global one; a relative path is the working tree's): a hook made or
 * changed there runs at the user's next commit, checkout, merge or push, as `.git/hooks`' would.
 */
export function repositoryHooks(top: string, homeDir: string, env: NodeJS.ProcessEnv = {}): string[] {
  const own = isDir(path.join(top, '.git')) ? hooksPathIn(path.join(top, '.git', 'config')) : undefined;
  const global = homeDir ? [path.join(homeDir, '.gitconfig'), path.join(homeDir, '.config', 'git', 'config'), xdgMoved(homeDir, '.config/git/config', env)]
    .map((f) => (f ? hooksPathIn(f) : undefined)).filter((v): v is string => !!v).at(-1) : undefined;
  const value = own ?? global;
  if (!value) return [];
  const resolved = value.startsWith('~/') && homeDir ? path.join(homeDir, value.slice(2)) : path.resolve(top, value);
  return resolved === path.resolve(top) || resolved === path.join(top, '.git', 'hooks') ? [] : [resolved];
}

/** Whether a folder holds a Python source (a `.py` file): where Python imports modules from. */
function besidePython(dir: string): boolean {
  try {
    return fs.readdirSync(dir).some((n) => n.endsWith('.py'));
  } catch {
    return false;
  }
}

/** The names of the folders in `dir` (bounded). */
function subfolders(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).slice(0, 16).map((e) => e.name);
  } catch {
    return [];
  }
}

/** The entries of a program folder (bounded), as paths. */
function programsIn(dir: string): string[] {
  try {
    return fs.readdirSync(dir).slice(0, 2048).map((n) => path.join(dir, n));
  } catch {
    return [];
  }
}

/** Whether what the link `p` leads to (a package's bin script) changed at or after `since`. */
function targetChangedSince(p: string, since: number): boolean {
  try {
    return fs.statSync(p).ctimeMs >= since;
  } catch {
    return false;
  }
}

/** Bounds of the look through installed packages after a run (files read, milliseconds). */
const PACKAGE_ENTRIES = 200_000;
const PACKAGE_MS = 2000;
/** More packages changed than this in one folder (an install): named as one entry. */
const MANY_PACKAGES = 5;

/**
 * The packages of a `node_modules` or a `site-packages` folder, as paths: each entry (a scope's
 * packages for `@scope`), but for npm's, pnpm's and yarn's bookkeeping and build caches (dot
 * entries other than pnpm's store: `.bin` is looked at on its own) and Python's bytecode.
 */
function packagesIn(dir: string): string[] {
  const names = (d: string): string[] => {
    try {
      return fs.readdirSync(d).slice(0, 20_000);
    } catch {
      return [];
    }
  };
  const out: string[] = [];
  for (const n of names(dir)) {
    if (n === '__pycache__' || (n.startsWith('.') && n !== '.pnpm')) continue;
    if (n.startsWith('@') && path.basename(dir) === 'node_modules') out.push(...names(path.join(dir, n)).map((m) => path.join(dir, n, m)));
    else out.push(path.join(dir, n));
  }
  return out;
}

/**
 * Whether a file (not a folder: Python adds `__pycache__` to a package on its first import) at or
 * below `p` changed at or after `since`; bytecode aside (removed after the run where the walk
 * finds it, and Python writes it on its own).
 */
function packageChangedSince(p: string, since: number, budget: WalkBudget & { ranOut?: boolean }, depth = 0): boolean {
  if (spent(budget)) {
    budget.ranOut = true;
    return false;
  }
  let st: fs.Stats;
  try {
    st = fs.lstatSync(p);
  } catch {
    return false;
  }
  if (!st.isDirectory()) return !p.endsWith('.pyc') && st.ctimeMs >= since;
  if (depth > 32 || path.basename(p) === '__pycache__') return false;
  let names: string[];
  try {
    names = fs.readdirSync(p);
  } catch {
    return false;
  }
  return names.some((n) => packageChangedSince(path.join(p, n), since, budget, depth + 1));
}

/**
 * Installed packages changed during the run (eighteenth pass): what the project's next `npm test`,
 * dev server or build, or `python app.py` in its venv, loads, and in no diff (git ignores
 * node_modules and venvs). Named by package, or the folder once when an install changed many.
 */
function packagesChanged(dir: string, since: number, budget: WalkBudget & { ranOut?: boolean }, why: string): Planted[] {
  if (!budget.until) budget.until = Date.now() + PACKAGE_MS; // from the first package folder met
  const changed = packagesIn(dir).filter((p) => packageChangedSince(p, since, budget));
  if (changed.length <= MANY_PACKAGES) return changed.map((p) => ({ path: p, why }));
  const some = changed.slice(0, 3).map((p) => path.relative(dir, p)).join(', ');
  return [{ path: dir, why: `${changed.length} packages changed (${some}, …): ${why}` }];
}

/**
 * Build tools' caches of compiled code in a project (nineteenth pass): babel-loader's, webpack's,
 * `@babel/register`'s, turbo's and nx's in `node_modules/.cache`, Vite's optimized dependencies
 * (`node_modules/.vite`), Next's `.next/cache`, Parcel's, turbo's and nx's own folders, Angular's.
 * The host's next build or dev server takes an entry as it finds it (its key is a hash of the source
 * and options, or a time, both the writer's to copy; turbo and nx restore a task's whole output from
 * one) in place of compiling the source again, so a forged entry runs code no diff of the source
 * shows, and git ignores them all. Tools write them at every build, so an entry's being new says
 * nothing: those written during the run are removed after it, and the tools compile again.
 * Keyed by the folder holding the cache (`*`: any).
 */
const CODE_CACHES: Array<[parent: string, name: string]> = [
  ['node_modules', '.cache'], ['node_modules', '.vite'], ['.next', 'cache'], ['*', '.parcel-cache'],
  ['*', '.turbo'], ['.nx', 'cache'], ['.angular', 'cache'],
  // Twenty-first pass: bootsnap's (Rails' `tmp/cache/bootsnap`): its compile cache holds Ruby's
  // compiled instruction sequences, taken while the source's recorded size and time match.
  ['cache', 'bootsnap'],
];
/** Bounds of the look through code caches after a run (entries, milliseconds). */
const CACHE_ENTRIES = 100_000;
const CACHE_MS = 1500;

/**
 * The files at or below `dir` (a real folder, not followed) changed at or after `since`, into `out`;
 * false when the budget ran out first.
 */
function cacheFilesSince(dir: string, since: number, budget: WalkBudget, out: string[]): boolean {
  try {
    const st = fs.lstatSync(dir);
    // The cache itself made a link during the run (`node_modules/.vite -> /tmp/x`, entries forged
    // there): the link goes, what it leads to is left.
    if (st.isSymbolicLink() && st.ctimeMs >= since) out.push(dir);
    if (!st.isDirectory()) return true;
  } catch {
    return true;
  }
  return walkFolders(dir, budget, (d, e) => {
    const p = path.join(d, e.name);
    if (!e.isDirectory() && !e.isSymbolicLink() && !e.isFile()) return false;
    if (!e.isDirectory()) {
      try {
        if (fs.lstatSync(p).ctimeMs >= since) out.push(p);
      } catch {
        /* gone */
      }
    }
    return e.isDirectory();
  });
}

const NODE_PACKAGE = 'Node programs of the project load its code (npm test, a dev server, a build); node_modules is in no diff: reinstall with npm ci unless the agent was to install packages';
const PYTHON_PACKAGE = 'the environment\'s python imports its code (and pytest its entry points); a venv is in no diff: reinstall unless the agent was to install packages';
const PHP_PACKAGE = 'every PHP request, artisan and phpunit of the project loads its code through vendor/autoload.php; vendor is in no diff: reinstall with composer install unless the agent was to install packages';
const YARN_ARCHIVE = 'Yarn\'s Plug\'n\'Play loads the package\'s code out of this archive as it is (yarn run, yarn node); .yarn/cache is in no diff without zero-installs: run yarn install --check-cache unless the agent was to install packages';
const RUBY_PACKAGE = 'bundle exec and the app load its code; vendor/bundle is in no diff: reinstall with bundle install unless the agent was to install packages';

/**
 * The virtual environments tools keep for projects in the home folder rather than in the project:
 * pipenv's (`~/.local/share/virtualenvs`, or `WORKON_HOME`), virtualenvwrapper's (`~/.virtualenvs`,
 * `WORKON_HOME`), pdm's (`~/.local/share/pdm/venvs`), hatch's (`~/.local/share/hatch/env/virtual`,
 * nested by project). A folder holding `pyvenv.cfg`, 3 deep at most, 256 in all.
 */
function outsideVenvs(homeDir: string, env: NodeJS.ProcessEnv): string[] {
  const dataHome = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(homeDir, '.local', 'share');
  const workon = env.WORKON_HOME && path.isAbsolute(env.WORKON_HOME) ? [env.WORKON_HOME] : [];
  const roots = [...new Set([path.join(dataHome, 'virtualenvs'), path.join(homeDir, '.virtualenvs'), ...workon, path.join(dataHome, 'pdm', 'venvs'), path.join(dataHome, 'hatch', 'env', 'virtual')])];
  const out: string[] = [];
  const look = (dir: string, depth: number): void => {
    if (out.length >= 256) return;
    if (depth > 0 && fs.existsSync(path.join(dir, 'pyvenv.cfg'))) {
      out.push(dir);
      return;
    }
    if (depth >= 3) return;
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).slice(0, 256).map((e) => e.name);
    } catch {
      /* none */
    }
    for (const n of names) look(path.join(dir, n), depth + 1);
  };
  for (const r of roots) look(r, 0);
  return out;
}

/**
 * The files a build file includes by name (twenty-eighth pass), which its tool reads as part of it
 * and runs as written: make's `include`, `-include` and `sinclude` (recipes, and `$(shell …)` run as
 * make reads them: `-include .env` to export a project's settings, `include config.mk`, `-include
 * local.mk`), Bazel's `import` and `try-import` (`try-import %workspace%/user.bazelrc`, which Bazel's
 * docs suggest for settings kept out of git: `--run_under`, `--workspace_status_command` are
 * programs), just's `import` and `import?`. A tracked build file's diff shows only the name, and the
 * included file is often one git ignores. Words with a variable are skipped; a `*` in the last part
 * of a path is matched against that folder. The include's path is relative to the build file's
 * folder (where make, bazel and just run it).
 */
export function buildIncludes(file: string, workspace = path.dirname(file)): string[] {
  const name = path.basename(file);
  const kind = /^(?:GNUmakefile|[Mm]akefile)$/.test(name) || name.endsWith('.mk') ? 'make'
    : name === '.bazelrc' || name.endsWith('.bazelrc') || name === 'bazel.rc' ? 'bazel'
      : /^\.?[Jj]ustfile$/.test(name) || name.endsWith('.just') ? 'just' : undefined;
  if (!kind) return [];
  const text = configText(file);
  if (text === undefined) return [];
  const dir = path.dirname(file);
  const out = new Set<string>();
  const add = (word: string): void => {
    let w = word.trim();
    if (kind === 'bazel') w = w.replaceAll('%workspace%', workspace);
    if (!w || w.includes('$') || w.includes('%') || out.size >= 64) return;
    const p = path.resolve(dir, w);
    const base = path.basename(p);
    if (!base.includes('*') && !base.includes('?') && !base.includes('[')) {
      if (!path.dirname(p).includes('*')) out.add(p);
      return;
    }
    let names: string[] = [];
    try {
      names = fs.readdirSync(path.dirname(p)).slice(0, 1024);
    } catch {
      return;
    }
    for (const n of names) if (out.size < 64 && globMatch(base, n)) out.add(path.join(path.dirname(p), n));
  };
  for (const raw of text.split('\n').slice(0, 5000)) {
    const line = raw.trim();
    const sp = line.search(/\s/);
    if (sp < 0) continue;
    const word = line.slice(0, sp);
    const rest = line.slice(sp + 1).trim();
    if (kind === 'make' && (word === 'include' || word === '-include' || word === 'sinclude')) {
      for (const w of rest.split('#')[0]!.split(/\s+/)) add(w);
    } else if (kind === 'bazel' && (word === 'import' || word === 'try-import')) {
      add(rest.split('#')[0]!.replace(/^["']|["']$/g, ''));
    } else if (kind === 'just' && (word === 'import' || word === 'import?')) {
      const q = rest[0];
      if (q !== '\'' && q !== '"') continue;
      const end = rest.indexOf(q, 1);
      if (end > 0) add(rest.slice(1, end));
    }
  }
  return [...out];
}

/** dotenv files: `.env`, `.env.local`, `.env.development.local`, `.flaskenv`. */
const DOTENV = /^(?:\.env(?:\.[\w-]+)*|\.flaskenv)$/;

/**
 * Variables whose value is code to the programs that read them: preloads and option variables of
 * Node, Python, Perl, Ruby, the JVM and the dynamic loader, shell startup files, the programs git,
 * ssh and editors start, build wrappers, and PATH.
 */
const CODE_VARIABLES = new Set([
  'NODE_OPTIONS', 'NODE_PATH', 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'DYLD_INSERT_LIBRARIES', 'DYLD_LIBRARY_PATH',
  'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME', 'PYTHONUSERBASE', 'PYTHONINSPECT', 'PERL5OPT', 'PERL5LIB', 'PERLLIB', 'RUBYOPT', 'RUBYLIB',
  'JAVA_TOOL_OPTIONS', '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'BASH_ENV', 'ENV', 'ZDOTDIR', 'PROMPT_COMMAND', 'PATH',
  'GIT_SSH', 'GIT_SSH_COMMAND', 'GIT_EXEC_PATH', 'GIT_ASKPASS', 'SSH_ASKPASS', 'GIT_EDITOR', 'GIT_PAGER', 'GIT_EXTERNAL_DIFF', 'GIT_PROXY_COMMAND',
  'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG_COUNT', 'EDITOR', 'VISUAL', 'PAGER', 'BROWSER',
  'RUSTC_WRAPPER', 'RUSTC', 'CARGO_BUILD_RUSTC_WRAPPER', 'GOFLAGS', 'CC', 'CXX', 'NPM_CONFIG_NODE_OPTIONS', 'NPM_CONFIG_SCRIPT_SHELL',
  // docker compose reads the project's .env for it (twenty-first pass): another compose file (a
  // privileged container, the host's files mounted) at the next docker compose up.
  'COMPOSE_FILE',
  // Twenty-second pass: variables that move a tool's config or repository to files of the agent's,
  // or name a program: git's own folder, work tree, index and templates (the config there runs an
  // fsmonitor at git status; another index hides changes), the home and config folders every tool
  // reads its config from, less's input filters (git diff's pager runs them), kubectl's and the AWS
  // CLI's configs (exec plugins, credential_process), another Gemfile, a path toolchain, cargo's
  // and gem's homes, Python's warning filters (they import the module a category names), Perl's
  // debugger, the askpass sudo runs, npm's config files and prefix, Go's env file, the shell tools start.
  'GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_TEMPLATE_DIR', 'GIT_SEQUENCE_EDITOR', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'HOME', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_DATA_DIRS', 'XDG_CONFIG_DIRS', 'LESSOPEN', 'LESSCLOSE', 'MANPAGER', 'KUBECONFIG', 'AWS_CONFIG_FILE',
  'BUNDLE_GEMFILE', 'RUSTUP_TOOLCHAIN', 'RUSTUP_HOME', 'CARGO_HOME', 'GEM_HOME', 'GEM_PATH', 'PYTHONWARNINGS', 'PERL5DB', 'SUDO_ASKPASS',
  'NPM_CONFIG_USERCONFIG', 'NPM_CONFIG_GLOBALCONFIG', 'NPM_CONFIG_PREFIX', 'GOENV', 'GOTOOLCHAIN', 'SHELL',
]);

/** Whether a Python version file names a path (a line with a slash, a backslash or a leading `~` or `.`). */
function namesPath(file: string): boolean {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').slice(0, 4096);
  } catch {
    return false;
  }
  return text.split('\n').some((line) => {
    const t = line.trim();
    return !t.startsWith('#') && (/[\/\\]/.test(t) || /^[~.]/.test(t));
  });
}

/**
 * Whether a Python project file (`pyproject.toml`, `setup.cfg`, `tox.ini`) sets pylint's
 * `init-hook` (Python pylint runs) or names a mypy plugin by path (twenty-eighth pass): VS Code's
 * Pylint and Mypy extensions run them on opening a file, before any diff is read. Plain line scan.
 */
function pythonToolHooks(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').slice(0, 512 * 1024);
  } catch {
    return undefined;
  }
  let section = '';
  for (const raw of text.split('\n').slice(0, 20_000)) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      section = line.toLowerCase();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().replace(/["']/g, '').toLowerCase();
    if ((key === 'init-hook' || key === 'init_hook') && section.includes('pylint')) return 'pylint\'s init-hook (Python)';
    if (key === 'plugins' && section.includes('mypy') && /[\/\\]|\.py\b/.test(line.slice(eq + 1))) return 'a mypy plugin by path';
  }
  return undefined;
}

/** The code-running variables a dotenv file sets (comma-separated), or undefined. */
function codeVariables(file: string): string | undefined {
  const text = configText(file);
  if (text === undefined) return undefined;
  const found = new Set<string>();
  for (const line of text.split('\n').slice(0, 5000)) {
    const name = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]/.exec(line)?.[1];
    if (name && (CODE_VARIABLES.has(name.toUpperCase()) || name.toUpperCase().startsWith('GIT_CONFIG_'))) found.add(name);
  }
  return found.size ? [...found].slice(0, 5).join(', ') : undefined;
}

/**
 * The entry files created or changed since `since` (ms since the epoch): the home folder's list,
 * and, in the working directory and below it, the folder entries (a new `.git` counts when its
 * config, hooks or info changed: objects and the index change with every commit). The walk is
 * bounded; `complete` says whether it saw the project whole, `homeComplete` the home folder's
 * files, `toolchainsComplete` the version managers' installs (those in `readOnly`, bound read-only
 * for the run, are not looked at).
 */
export function plantedSince(since: number, homeDir: string, cwd: string, searchPath = '', env: NodeJS.ProcessEnv = {}, system: Record<string, string> | undefined = process.getuid?.() === 0 ? { ...SYSTEM_ENTRIES, ...SYSTEM_REPORTED } : undefined, readOnly: ReadonlySet<string> = new Set()): { planted: Planted[]; complete: boolean; homeComplete: boolean; toolchainsComplete: boolean; caches: string[] } {
  const planted: Planted[] = [];
  // Python's bytecode and build tools' code caches written during the run: removed after it.
  const caches: string[] = [];
  // The first entries are read whatever the time here too: under load the home folder's checks ran
  // out of time and passed over what they had not read as unchanged, with no note.
  const budget = walkBudget();
  const changedIn = (dir: string, pick: (name: string) => boolean, why: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      if (spent(budget)) return;
      const p = path.join(dir, n);
      if (pick(n) && !planted.some((f) => f.path === p) && changedSince(p, since, budget)) planted.push({ path: p, why });
    }
  };
  const homeOk = !!homeDir && path.isAbsolute(homeDir) && homeDir !== path.parse(homeDir).root;
  if (homeOk) {
    const zwc = (p: string): Planted => ({ path: compiledForm(p), why: `zsh runs it in place of ${path.basename(p)} (its compiled form, when newer)` });
    for (const [rel, why] of Object.entries({ ...HOME_ENTRIES, ...HOME_REPORTED })) {
      if (TOOLCHAIN_TREE.test(rel)) continue; // read last, on their own budget (below)
      for (const p of [path.join(homeDir, rel), xdgMoved(homeDir, rel, env)]) {
        if (p && changedSince(p, since, budget)) planted.push({ path: p, why });
        if (p && changedSince(compiledForm(p), since, budget)) planted.push(zwc(p));
      }
    }
    for (const inc of gitIncludes(homeDir, env)) if (!planted.some((f) => f.path === inc) && changedSince(inc, since, budget)) planted.push({ path: inc, why: 'a git global config includes it' });
    for (const f of sshIncludedFiles(homeDir)) if (!planted.some((p) => p.path === f) && changedSince(f, since, budget)) planted.push({ path: f, why: 'your ~/.ssh/config includes it: ssh runs its ProxyCommand, LocalCommand and Match exec at your next ssh or git push' });
    for (const f of sshPrograms(homeDir)) if (!planted.some((p) => p.path === f) && changedSince(f, since, budget)) planted.push({ path: f, why: 'your ~/.ssh/config runs it (ProxyCommand, LocalCommand, Match exec) at your next ssh or git push' });
    for (const f of configNamedFiles(homeDir)) if (!planted.some((p) => p.path === f) && changedSince(f, since, budget)) planted.push({ path: f, why: 'a config of yours names it (npm, tmux, your shell rc files, starship, vim, neovim, a terminal, emacs, direnv, mise, VS Code): it runs or is loaded at the next start' });
    for (const f of gitGlobalFiles(homeDir, env)) if (!planted.some((p) => p.path === f) && changedSince(f, since, budget)) planted.push({ path: f, why: 'your git config names it for every repository: a program git runs, an ignore or attributes file (what it hides shows in no git status or diff), the template folder (its hooks go into your next git init or clone and run there) or the hooks folder (core.hooksPath: its hooks run at your next commit, checkout or push in every repository)' });
    for (const f of rcSourced(homeDir)) {
      if (!planted.some((p) => p.path === f) && changedSince(f, since, budget)) planted.push({ path: f, why: 'your shell rc files source it' });
      if (!planted.some((p) => p.path === compiledForm(f)) && changedSince(compiledForm(f), since, budget)) planted.push(zwc(f));
    }
    for (const [f, why] of envEntryFiles(env, homeDir, cwd)) {
      if (!planted.some((p) => p.path === f) && changedSince(f, since, budget)) planted.push({ path: f, why });
      if (!planted.some((p) => p.path === compiledForm(f)) && changedSince(compiledForm(f), since, budget)) planted.push(zwc(f));
    }
    for (const f of zshDumps(homeDir, env)) if (!planted.some((p) => p.path === f) && changedSince(f, since, budget)) planted.push({ path: f, why: 'zsh\'s compinit sources it at every interactive start' });
    // Python runs the import lines of every .pth file in the user's site-packages, and its
    // usercustomize module, at each start.
    const lib = path.join(homeDir, '.local', 'lib');
    let pythons: string[] = [];
    try {
      pythons = fs.readdirSync(lib).filter((n) => n.startsWith('python'));
    } catch {
      /* none */
    }
    for (const py of pythons.slice(0, 16)) {
      changedIn(path.join(lib, py, 'site-packages'), (n) => n.endsWith('.pth') || n === 'usercustomize.py' || n === 'sitecustomize.py', 'Python runs it at every start');
      // Fourteenth pass: the user site comes before the system's packages on sys.path, so any
      // package there (a `yaml` or `requests` of the agent's) is what every Python program of the
      // user's imports in place of the system's.
      changedIn(path.join(lib, py, 'site-packages'), (n) => !n.endsWith('.dist-info') && !n.endsWith('.egg-info') && n !== '__pycache__', 'your Python programs import it before the system\'s packages');
    }
    // Ruby's and R's user libraries, as the Python user site (eighteenth pass): RubyGems puts the
    // user's gem folder on every ruby's path and activates the highest version found (a gemspec there
    // is a gem), R puts R_LIBS_USER (`~/R/<platform>-library/<version>`) first in .libPaths().
    for (const gems of [path.join(homeDir, '.local', 'share', 'gem', 'ruby'), path.join(homeDir, '.gem', 'ruby')]) {
      for (const version of subfolders(gems)) {
        for (const d of ['gems', 'specifications']) changedIn(path.join(gems, version, d), () => true, 'every ruby of yours loads your user gems (the highest version of a gem wins)');
      }
    }
    // @babel/register's cache where the project has no node_modules/.cache: `~/.babel.<version>.<env>.json`
    // (`~/.babel.json` in Babel 6), or BABEL_CACHE_PATH; an entry is the compiled code of a source
    // file, taken while the source's time matches (nineteenth pass, see CODE_CACHES).
    let homeNames: string[] = [];
    try {
      homeNames = fs.readdirSync(homeDir).filter((n) => /^\.babel\..*json$/.test(n));
    } catch {
      /* unreadable */
    }
    const babel = env.BABEL_CACHE_PATH && path.isAbsolute(env.BABEL_CACHE_PATH) ? [env.BABEL_CACHE_PATH] : [];
    for (const f of [...homeNames.slice(0, 32).map((n) => path.join(homeDir, n)), ...babel]) {
      try {
        if (fs.lstatSync(f).ctimeMs >= since) caches.push(f);
      } catch {
        /* none */
      }
    }
    for (const platform of subfolders(path.join(homeDir, 'R'))) {
      for (const version of subfolders(path.join(homeDir, 'R', platform))) changedIn(path.join(homeDir, 'R', platform, version), () => true, 'R loads your user library before the site\'s packages');
    }
  }
  // Run by root: the system's own places (see SYSTEM_ENTRIES).
  for (const [p, why] of Object.entries(system ?? {})) {
    if (changedSince(p, since, budget)) planted.push({ path: p, why });
    if (changedSince(compiledForm(p), since, budget)) planted.push({ path: compiledForm(p), why: `zsh runs it in place of ${path.basename(p)} (its compiled form, when newer)` });
  }
  // A node_modules in a folder above the working directory: Node programs below it (this project,
  // its siblings) load from it what their own node_modules lacks. Not protected: an npm workspace's
  // root is above its packages, and `npm install` in a package writes there (fourteenth pass).
  for (let a = path.resolve(cwd); a !== path.dirname(a);) {
    a = path.dirname(a);
    const nm = path.join(a, 'node_modules');
    if (!planted.some((f) => f.path === nm) && changedSince(nm, since, budget)) planted.push({ path: nm, why: 'Node programs in the folders below it load from it what their own node_modules lacks' });
    // The folder entries in the folders between the working directory and the home folder (or the
    // root): an editor opened on a parent folder runs its `.vscode` tasks, direnv and mise walk up
    // to the nearest `.envrc` and `mise.toml`, and a `.git` made above a folder that was in no
    // repository makes it part of one, whose config the prompt runs (fourteenth pass). The home
    // folder's own entries are HOME_ENTRIES' (its `.cargo` and `.vscode` change with every build
    // and extension install).
    // Only with the home folder known: without it, the folder above may be the home folder itself.
    // The home folder's own repository (eighteenth pass): a `~/.git` the agent makes (or changes the
    // control files of, where the user keeps dotfiles there) is the repository of every folder under
    // the home folder that has none of its own, whose config the prompt runs.
    if (homeOk && path.resolve(a) === path.resolve(homeDir)) {
      for (const name of ['.git', '.hg']) {
        const q = path.join(a, name);
        if (!planted.some((f) => f.path === q) && folderEntryWatched(q).some((w) => changedSince(w, since, budget))) planted.push({ path: q, why: `${FOLDER_ENTRIES[name]} (the home folder's: every folder under it that is in no repository of its own)` });
      }
    }
    if (!homeOk || a === path.parse(a).root || path.resolve(a) === path.resolve(homeDir) || inside(homeDir, a)) continue;
    for (const name of Object.keys(FOLDER_ENTRIES)) {
      if (name === '.pth' || name === '.code-workspace') continue; // suffix rules, in the walk below
      const q = path.join(a, name);
      if (planted.some((f) => f.path === q)) continue;
      if (folderEntryWatched(q).some((w) => changedSince(w, since, budget))) planted.push({ path: q, why: `${FOLDER_ENTRIES[name]} (above the working directory)` });
    }
  }
  // Folders on PATH that the agent could write (in the home folder or the working directory): a
  // program put there runs in place of the one of that name (`~/.local/bin/git`).
  const root = path.resolve(cwd);
  const onPath = [...new Set(searchPath.split(path.delimiter).filter((d) => path.isAbsolute(d)).map((d) => path.resolve(d)))];
  for (const dir of onPath.slice(0, 64)) {
    if ((homeOk && inside(dir, homeDir)) || inside(dir, root)) changedIn(dir, () => true, 'on your PATH: it runs in place of any program of that name');
  }
  // Folders login profiles put first on PATH once they exist (Debian's and Ubuntu's ~/.profile,
  // Fedora's ~/.bashrc), so on no PATH yet when missing at login: a `~/bin/git` the agent makes is
  // the git of the user's next login (fifteenth pass).
  for (const dir of homeOk ? [path.join(homeDir, '.local', 'bin'), path.join(homeDir, 'bin')] : []) {
    if (!onPath.includes(path.resolve(dir))) changedIn(dir, () => true, 'your login profile puts this folder first on PATH once it exists: it runs in place of any program of that name');
  }
  // The program folders installers and version managers put on PATH from the rc files (rustup's
  // `.cargo/env`, `eval "$(pyenv init -)"`'s shims), and those the rc files name themselves: on no
  // PATH of a run started from a launcher, an IDE or a shell that did not read them (eighteenth pass).
  for (const dir of homeOk ? [...INSTALLER_BINS.map((rel) => path.join(homeDir, rel)), ...rcPathFolders(homeDir)] : []) {
    if (!onPath.includes(path.resolve(dir))) changedIn(dir, () => true, 'your shell\'s rc files (or the installer of its tools) put this folder on PATH: it runs in place of any program of that name');
  }
  // The function folders the rc files put on zsh's fpath (`fpath+=~/.zfunc`, as rustup's docs say
  // for its completions), twenty-first pass: zsh autoloads a function from the first folder that
  // has it, so a `_git` there runs at the user's next `git <Tab>`, an autoloaded name when called.
  for (const dir of homeOk ? rcPathFolders(homeDir, 'fpath') : []) {
    changedIn(dir, () => true, 'your zsh rc files put this folder on fpath: zsh autoloads its functions (a completion function runs at your next Tab)');
  }
  const packageBudget: WalkBudget & { ranOut?: boolean } = { left: PACKAGE_ENTRIES, until: 0, sure: SURE_ENTRIES };
  const cacheBudget: WalkBudget & { ranOut?: boolean } = { left: CACHE_ENTRIES, until: 0, sure: SURE_ENTRIES };
  // The working directory's walk gets a budget of its own, count and time: the home folder's checks
  // above can spend all of theirs (a big ~/.pyenv or ~/.config under load), and the walk then
  // reported a project of three files as too big to check and read none of it (twenty-third pass).
  // Its first entries are read whatever the time (the follow-up: the time still ran out under load).
  const homeComplete = !budget.ranOut;
  // Version managers' installs (~/.rustup/toolchains, ~/.nvm/versions, ~/.pyenv/versions: tens of
  // thousands of files each) last and on a budget of their own, so that they never crowd out the
  // rc files and configs above, nor the working directory below.
  Object.assign(budget, { left: WALK_ENTRIES, until: Date.now() + WALK_MS, sure: SURE_ENTRIES, ranOut: false });
  for (const [rel, why] of homeOk ? Object.entries({ ...HOME_ENTRIES, ...HOME_REPORTED }).filter(([rel]) => TOOLCHAIN_TREE.test(rel)) : []) {
    // One the sandbox bound read-only could not change (a big one would only make a note every run).
    for (const p of [path.join(homeDir, rel), xdgMoved(homeDir, rel, env)]) if (p && !readOnly.has(p) && changedSince(p, since, budget)) planted.push({ path: p, why });
  }
  const toolchainsComplete = !budget.ranOut;
  Object.assign(budget, { left: WALK_ENTRIES, until: Date.now() + WALK_MS, sure: SURE_ENTRIES, ranOut: false });
  const addPackages = (found: Planted[]): void => {
    for (const f of found) if (!planted.some((g) => g.path === f.path)) planted.push(f);
  };
  const venvChanged = (dir: string, why = 'a Python virtual environment: editors run its python on opening the folder, your shell its activate script and, once activated, the programs in its bin'): void => {
    if (planted.some((f) => f.path === dir)) return;
    // Every program of its bin (fourteenth pass): an activated environment puts bin first on PATH,
    // so a changed `pytest` or `pip` there runs in place of the real one.
    // Its pip.conf too (twenty-first pass): pip in the environment installs from the index it names
    // (a package of the agent's: its build runs at the next `pip install`).
    if ([path.join(dir, 'pyvenv.cfg'), path.join(dir, 'pip.conf'), ...programsIn(path.join(dir, 'bin'))].some((w) => changedSince(w, since, budget) || targetChangedSince(w, since))) planted.push({ path: dir, why });
    let pythons: string[] = [];
    try {
      pythons = fs.readdirSync(path.join(dir, 'lib')).filter((n) => n.startsWith('python') || n.startsWith('pypy'));
    } catch {
      /* none */
    }
    for (const py of pythons.slice(0, 8)) addPackages(packagesChanged(path.join(dir, 'lib', py, 'site-packages'), since, packageBudget, PYTHON_PACKAGE));
  };
  // The project's environments kept outside it (nineteenth pass): pipenv's, virtualenvwrapper's,
  // pdm's and hatch's, which `pipenv run`, `workon`, `pdm run`, `hatch run` and the editor's Python
  // use for the project as its own `.venv` (the same names; not protected: the agent installs there).
  for (const dir of homeOk ? outsideVenvs(homeDir, env) : []) venvChanged(dir, 'a Python virtual environment of a project (pipenv, virtualenvwrapper, pdm, hatch): `pipenv run`, `workon`, your editor run its python and the programs in its bin');
  // Submodules' and nested repositories' working trees, read for hidden changes after the walk.
  const repositories: string[] = [];
  const walked = walkFolders(root, budget, (dir, e) => {
    const p = path.join(dir, e.name);
    if (e.name === '.git' && dir !== root) repositories.push(dir);
    // A folder holding HEAD, objects/ and refs/ is a git folder itself (a bare repository, which
    // `core.worktree` gives a working tree): git run inside it obeys its config as a .git's.
    if (e.name === 'HEAD' && e.isFile() && dir !== root && ['objects', 'refs'].every((n) => isDir(path.join(dir, n)))
      && !planted.some((f) => f.path === dir) && ['config', 'hooks', 'info', 'commondir'].some((n) => changedSince(path.join(dir, n), since, budget))) {
      planted.push({ path: dir, why: 'a bare git repository: git run inside it obeys its config and hooks' });
    }
    // A Python virtual environment (pyvenv.cfg beside bin/): VS Code's and PyCharm's Python
    // support run its interpreter on opening the folder, the user's shell its activate script.
    if (e.name === 'pyvenv.cfg' && e.isFile()) venvChanged(dir);
    // node_modules is not walked, but what `npm run`, `npx` and `yarn` start is in its .bin (links
    // into the packages): one changed there, or the file it leads to, runs at the next script, and
    // node_modules is in no diff (fourteenth pass).
    if (e.name === 'node_modules' && e.isDirectory() && !planted.some((f) => f.path === path.join(p, '.bin'))) {
      if (programsIn(path.join(p, '.bin')).some((w) => changedSince(w, since, budget) || targetChangedSince(w, since))) {
        planted.push({ path: path.join(p, '.bin'), why: 'npm run, npx and yarn run its programs (node_modules is in no diff: reinstall with npm ci unless the agent was to install packages)' });
      }
    }
    if (e.name === 'node_modules' && e.isDirectory()) addPackages(packagesChanged(p, since, packageBudget, NODE_PACKAGE));
    // The other ecosystems' installs in the project, in no diff either (twenty-first pass):
    // Composer's `vendor` (every PHP request, artisan and phpunit runs `vendor/autoload.php` and the
    // packages it maps), bundler's `vendor/bundle` (`bundle install --path`, what `.bundle/config`
    // names), PEP 582's `__pypackages__` (pdm), named by package as node_modules' are.
    if (e.name === 'vendor' && e.isDirectory()) {
      if (fs.existsSync(path.join(p, 'composer', 'installed.json')) || fs.existsSync(path.join(p, 'autoload.php'))) addPackages(packagesChanged(p, since, packageBudget, PHP_PACKAGE));
      for (const v of subfolders(path.join(p, 'bundle', 'ruby'))) addPackages(packagesChanged(path.join(p, 'bundle', 'ruby', v, 'gems'), since, packageBudget, RUBY_PACKAGE));
      if (fs.existsSync(path.join(p, 'composer')) || isDir(path.join(p, 'bundle'))) return false;
    }
    // Yarn's project cache (twenty-second pass): the archives Plug'n'Play reads packages from.
    if (e.name === 'cache' && e.isDirectory() && path.basename(dir) === '.yarn') {
      addPackages(packagesChanged(p, since, packageBudget, YARN_ARCHIVE));
      return false;
    }
    if (e.name === '__pypackages__' && e.isDirectory()) {
      for (const v of subfolders(p)) addPackages(packagesChanged(path.join(p, v, 'lib'), since, packageBudget, PYTHON_PACKAGE));
      return false;
    }
    // Build tools' code caches (CODE_CACHES): node_modules' are not walked, the others not by the
    // walk's budget (a `.next/cache` holds thousands of entries).
    for (const [parent, name] of CODE_CACHES) {
      const cache = e.name === parent && parent === 'node_modules' ? path.join(p, name)
        : e.name === name && (parent === '*' || path.basename(dir) === parent) ? p : undefined;
      if (!cache || !e.isDirectory()) continue;
      if (!cacheBudget.until) cacheBudget.until = Date.now() + CACHE_MS;
      if (!cacheFilesSince(cache, since, cacheBudget, caches)) {
        cacheBudget.ranOut = true;
        if (!planted.some((f) => f.path === cache)) planted.push({ path: cache, why: 'a build tool\'s cache of compiled code, which your next build or dev server loads as it finds it; too big to check after the run: remove it (the tool compiles again)' });
      }
      if (cache === p) return false;
    }
    // Python bytecode (fifteenth pass): Python loads `__pycache__/x.cpython-312.pyc` in place of
    // `x.py` when the source time and size recorded in it match, and both are the writer's to copy,
    // so a forged one runs code no diff of `x.py` shows (`*.pyc` is in every .gitignore). Python
    // writes these itself too, so their being new says nothing: those written during the run are
    // removed (bytecode), and Python compiles the sources again. A `.pyc` outside `__pycache__` is
    // imported as the module of its name when no `.py` is beside it (`json.pyc` next to a script
    // is imported in place of the standard library's json); Python never writes one there: named.
    // Numba's cache beside it (nineteenth pass): `__pycache__/f.x-12.py312.nbi`, an index numba reads
    // with pickle.load (code) when the source's recorded time and size match, and its `.nbc` data.
    if (/\.(?:pyc|nbi|nbc)$/.test(e.name) && e.isFile() && changedSince(p, since, budget)) {
      if (path.basename(dir) === '__pycache__') caches.push(p);
      else if (e.name.endsWith('.pyc') && !planted.some((f) => f.path === p)) planted.push({ path: p, why: 'Python imports it as the module of its name where no .py is beside it, before the standard library\'s' });
    }
    // A Python extension module beside Python sources (twentieth pass): Python's finder tries
    // `x.cpython-312-….so`, `x.abi3.so` and `x.so` before `x.py` in each folder, so one there runs in
    // place of a source no diff shows changed (and, in a script's folder, of an installed package of
    // that name); `*.so` is in every Python .gitignore. Installed packages are named by package.
    if (e.isFile() && e.name.endsWith('.so') && !planted.some((f) => f.path === p) && !/(?:^|[\\/])(?:site|dist)-packages(?:[\\/]|$)/.test(dir)
      && changedSince(p, since, budget) && besidePython(dir)) {
      planted.push({ path: p, why: 'Python imports an extension module in place of the .py of the same name beside it (and of an installed package of that name); *.so is in every Python .gitignore' });
    }
    // A dotenv file setting a variable that runs code: bun, pipenv, VS Code's Python, docker
    // compose and `node --env-file` load it into the programs they start (fourteenth pass).
    // uv's Python request files (twenty-second pass): a line may be a path to an interpreter or an
    // install folder (`./.cache/py/bin/python3`), which `uv run`, `uv sync` and `uv venv` in this folder
    // run on the host; a version (`3.12`, `cpython@3.12`, `>=3.11`) is no program of the agent's.
    if (e.isFile() && (e.name === '.python-version' || e.name === '.python-versions') && !planted.some((f) => f.path === p) && changedSince(p, since, budget) && namesPath(p)) {
      planted.push({ path: p, why: 'uv runs the interpreter a path in it names (uv run, uv sync, uv venv in this folder)' });
    }
    // What a build file includes by name (twenty-eighth pass): make, bazel and just read it as part
    // of the build file and run what it says at the user's next make, bazel or just there.
    if (e.isFile()) {
      for (const inc of buildIncludes(p, root)) {
        if (inside(inc, root) && !planted.some((f) => f.path === inc) && changedSince(inc, since, budget)) {
          planted.push({ path: inc, why: `${path.basename(p)} includes it (${path.relative(root, p)}): its recipes and commands run at your next ${e.name.includes('bazelrc') ? 'bazel' : /ustfile|\.just$/.test(e.name) ? 'just' : 'make'} here, and the build file's diff shows only its name` });
        }
      }
    }
    if (e.isFile() && (e.name === 'pyproject.toml' || e.name === 'setup.cfg' || e.name === 'tox.ini') && !planted.some((f) => f.path === p) && changedSince(p, since, budget)) {
      const hook = pythonToolHooks(p);
      if (hook) planted.push({ path: p, why: `it sets ${hook}, which VS Code's Pylint and Mypy extensions run on opening a file here, before you read its diff` });
    }
    if (e.isFile() && DOTENV.test(e.name) && !planted.some((f) => f.path === p) && changedSince(p, since, budget)) {
      const runs = codeVariables(p);
      if (runs) planted.push({ path: p, why: `it sets ${runs}, which runs code in the programs that load it (bun, pipenv, VS Code's Python, docker compose, node --env-file)` });
    }
    // The `*` .gitignore tools put in their own folders (pytest's, ruff's and mypy's caches, a venv
    // uv or virtualenv made, husky's `_`): nothing there is collected or imported by name.
    const toolIgnore = e.name === '.gitignore' && (/^\..*cache$/.test(path.basename(dir)) || path.basename(dir) === '_' || fs.existsSync(path.join(dir, 'pyvenv.cfg')));
    const why = toolIgnore ? undefined : (Object.hasOwn(FOLDER_ENTRIES, e.name) ? FOLDER_ENTRIES[e.name] : undefined)
      ?? (e.name.endsWith('.pth') ? FOLDER_ENTRIES['.pth'] : e.name.endsWith('.code-workspace') ? FOLDER_ENTRIES['.code-workspace'] : undefined)
      ?? localOverride(dir, e.name);
    if (why) {
      if (!planted.some((f) => f.path === p) && folderEntryWatched(p).some((w) => changedSince(w, since, budget))) planted.push({ path: p, why });
    } else if (!e.isDirectory() && !DOTENV.test(e.name) && changedSince(p, since, budget) && !planted.some((f) => f.path === p) && distOriginal(dir, e.name)) {
      // (A dotenv file beside its `.dist` is values, named above when one runs code.)
      planted.push({ path: p, why: `tools read it in place of the ${distOriginal(dir, e.name)} beside it, the one the project commits (PHP CS Fixer, PHPUnit, PHPStan, Psalm, Behat, Task; an editor's fixer on saving a file; Rails' database.yml, whose ERB is Ruby; a Makefile's included config): code and settings of the agent's, in no diff where git ignores it` });
    }
    return !NOT_WALKED.has(e.name);
  });
  // The hooks folder `core.hooksPath` names for the working directory's repository and those in it
  // (twenty-sixth pass): a hook made or changed there runs at the next commit, perhaps before any
  // diff is read (as `.husky/`'s). One in the home folder that the global config names is protected
  // and named above (gitGlobalFiles).
  for (const top of [root, ...repositories].slice(0, 64)) {
    for (const hooks of repositoryHooks(top, homeOk ? homeDir : '', env)) {
      if (!inside(hooks, root) || planted.some((f) => f.path === hooks)) continue;
      if (changedSince(hooks, since, budget)) planted.push({ path: hooks, why: 'git runs the hooks in this folder (core.hooksPath) at your next commit, checkout, merge or push' });
    }
  }
  // Changes git's own view hides from a review (twentieth pass, `git-review.ts`).
  for (const h of hiddenFromGit(since, [root, ...repositories])) if (!planted.some((f) => f.path === h.path)) planted.push(h);
  // The git airlock run found before the run, changed during it (twenty-seventh pass): not run for
  // that review, and the user's next git is it.
  const git = hostProgram('git');
  if ('changed' in git && !planted.some((f) => f.path === git.changed)) {
    planted.push({ path: git.changed, why: 'the git program on your PATH changed during the run (airlock run did not run it for its review of the repository): your next git command runs it; reinstall git unless you updated it yourself' });
  }
  return { planted, complete: walked && !packageBudget.ranOut && !cacheBudget.ranOut, homeComplete, toolchainsComplete, caches };
}

/**
 * What in Claude Code's state file (`~/.claude.json`, or under `CLAUDE_CONFIG_DIR`) starts programs
 * or lifts its questions: the MCP servers (commands) of the user and of each project, a project's
 * approval of its `.mcp.json` servers, and the trust given to a folder (whose `.claude` hooks then
 * run without asking). Claude Code rewrites the file as it runs, so it is compared on these parts:
 * taken before the run and after, a difference names the file. Keyed by path; undefined: none.
 */
export function claudeState(homeDir: string, env: NodeJS.ProcessEnv = {}, unchanged?: Map<string, ClaudeState | undefined>): Map<string, ClaudeState | undefined> {
  const out = new Map<string, ClaudeState | undefined>();
  const dirs = [homeDir, env.CLAUDE_CONFIG_DIR].filter((d): d is string => !!d && path.isAbsolute(d));
  for (const file of new Set(dirs.map((d) => path.join(d, '.claude.json')))) {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      out.set(file, undefined);
      continue;
    }
    const id = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    // The same file untouched since: read once (it may hold megabytes of history).
    const known = unchanged?.get(file);
    if (known?.id === id) {
      out.set(file, known);
      continue;
    }
    let doc: unknown;
    try {
      if (st.size > 64 * 1024 * 1024) throw new Error('too big');
      doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch {
      out.set(file, { id, digest: 'unreadable' });
      continue;
    }
    const o = (doc && typeof doc === 'object' ? doc : {}) as Record<string, unknown>;
    const projects = o.projects && typeof o.projects === 'object' ? (o.projects as Record<string, Record<string, unknown> | null>) : {};
    // The parts that say something (a project Claude Code merely opened, untrusted, has none).
    const empty = (v: unknown): boolean => v === undefined || v === null || v === false || (typeof v === 'object' && Object.keys(v as object).length === 0);
    const parts = (x: Record<string, unknown> | null | undefined): Array<[string, unknown]> => (x && typeof x === 'object'
      ? (['mcpServers', 'enabledMcpjsonServers', 'enableAllProjectMcpServers', 'hasTrustDialogAccepted', 'hooks'] as const).map((k): [string, unknown] => [k, x[k]]).filter(([, v]) => !empty(v)) : []);
    // Whose login it holds (seventeenth pass): a Console key, or the account and organization of a
    // claude.ai login. An agent that put another account's there has the user's next session work in
    // that account, prompts and code included; a token refresh changes neither.
    const account = o.oauthAccount && typeof o.oauthAccount === 'object' ? (o.oauthAccount as Record<string, unknown>) : {};
    const login = JSON.stringify([o.primaryApiKey ?? null, account.accountUuid ?? null, account.organizationUuid ?? null, account.emailAddress ?? null]);
    out.set(file, { id, digest: JSON.stringify([parts(o), Object.entries(projects).map(([k, v]) => [k, parts(v)] as const).filter(([, p]) => p.length > 0)]), login });
  }
  return out;
}

/** A state file as claudeState read it: its identity (device, inode, size, times) and what in it runs. */
export interface ClaudeState {
  id: string;
  digest: string;
  /** Whose login the file holds (its Console key, its claude.ai account and organization). */
  login?: string;
}

/** The files of `before` (claudeState) whose code-running parts differ now. */
export function claudeStateChanged(before: Map<string, ClaudeState | undefined>, homeDir: string, env: NodeJS.ProcessEnv = {}): Planted[] {
  const now = claudeState(homeDir, env, before);
  const out: Planted[] = [...now].filter(([f, v]) => v !== undefined && v.digest !== before.get(f)?.digest)
    .map(([f]) => ({ path: f, why: 'Claude Code starts the MCP servers it lists and runs the hooks of the projects it trusts; the servers, approvals or trusted projects changed' }));
  for (const [f, v] of now) {
    const was = before.get(f)?.login;
    if (v?.login !== undefined && was !== undefined && v.login !== was) out.push({ path: f, why: LOGIN_CHANGED('Claude Code', 'claude /login') });
  }
  return out;
}

const LOGIN_CHANGED = (cli: string, again: string): string => `it now holds another account's login or key than before the run: your next ${cli} session outside the sandbox would work in that account, your prompts and code going to it; log in again (${again})`;

/**
 * Whose login Codex's and Gemini CLI's files hold (seventeenth pass): readable inside unless the run
 * hands the CLI its key, so an agent can put another account's login there, and the user's next
 * session outside works in that account. A token refresh keeps the account: Codex's key and
 * `tokens.account_id`, the `sub` and `email` of each file's ID token. Keyed by file; undefined: none.
 */
export function loginIdentities(homeDir: string, env: NodeJS.ProcessEnv = {}): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  const codexDir = env.CODEX_HOME && path.isAbsolute(env.CODEX_HOME) ? env.CODEX_HOME : path.join(homeDir, '.codex');
  for (const file of [path.join(codexDir, 'auth.json'), path.join(homeDir, '.gemini', 'oauth_creds.json')]) {
    let doc: Record<string, unknown>;
    try {
      if (!homeDir || fs.statSync(file).size > 1024 * 1024) continue;
      doc = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      out.set(file, undefined);
      continue;
    }
    const tokens = doc.tokens && typeof doc.tokens === 'object' ? (doc.tokens as Record<string, unknown>) : doc;
    const claims = (jwt: unknown): unknown[] => {
      try {
        const c = JSON.parse(Buffer.from(String(jwt).split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
        return [c.sub ?? null, c.email ?? null];
      } catch {
        return [null, null];
      }
    };
    out.set(file, JSON.stringify([doc.OPENAI_API_KEY ?? null, tokens.account_id ?? null, ...claims(tokens.id_token)]));
  }
  return out;
}

/** The login files of `before` (loginIdentities) that now name another account. */
export function loginsChanged(before: Map<string, string | undefined>, homeDir: string, env: NodeJS.ProcessEnv = {}): Planted[] {
  const out: Planted[] = [];
  for (const [f, now] of loginIdentities(homeDir, env)) {
    const was = before.get(f);
    if (was === undefined || now === undefined || was === now) continue;
    out.push({ path: f, why: f.endsWith('auth.json') ? LOGIN_CHANGED('Codex', 'codex login') : LOGIN_CHANGED('Gemini CLI', 'gemini, /auth') });
  }
  return out;
}

/**
 * Removes the Python bytecode and build tools' cache entries written during the run (plantedSince's
 * `caches`), which the tools make again from the sources. After the run, with the agent gone; a
 * name only, never followed (a link the agent left there is removed, not what it leads to).
 */
/**
 * The files and folders a mise config has mise's shell hook source, load or put on PATH
 * (twenty-eighth pass): `[env]`'s `_.source` (a shell script whose exports mise applies), `_.file`
 * (dotenv, JSON or YAML files of variables), `_.path` (folders put first on PATH), the scripts its
 * `[hooks]` commands name by path (run on entering the folder), in any of their
 * forms (a string, an array, possibly over several lines, an inline table `{ path = … }`, `_ = {
 * source = … }`), and the old top-level `env_file`, `dotenv` and `env_path`. Relative paths and
 * `{{config_root}}` are the project's folder (the config's, or the one above `.config`, `.mise` or
 * `mise` holding it), `~` and `{{env.HOME}}` the home folder. A plain line scan of the TOML.
 */
export function miseReads(config: string, homeDir: string): string[] {
  const text = configText(config);
  if (text === undefined) return [];
  let root = path.dirname(config);
  for (const inner of ['mise', '.mise', 'conf.d']) if (path.basename(root) === inner) root = path.dirname(root);
  if (path.basename(root) === '.config') root = path.dirname(root);
  const out = new Set<string>();
  const resolve = (v: string): void => {
    let p = v.trim();
    for (const t of ['{{config_root}}', '{{ config_root }}']) if (p.startsWith(t)) p = root + p.slice(t.length);
    for (const t of ['{{env.HOME}}', '{{ env.HOME }}', '$HOME']) if (p.startsWith(t) && homeDir) p = homeDir + p.slice(t.length);
    if ((p === '~' || p.startsWith('~/')) && homeDir) p = homeDir + p.slice(1);
    if (!p || p.includes('{{') || p.includes('$') || p.includes('*')) return;
    if (out.size < 64) out.add(path.resolve(root, p));
  };
  // The quoted strings of a value (TOML's basic and literal strings), read to its end.
  const strings = (value: string): string[] => {
    const found: string[] = [];
    for (let i = 0; i < value.length; i++) {
      const q = value[i];
      if (q === '#') break;
      if (q !== '"' && q !== '\'') continue;
      const end = value.indexOf(q, i + 1);
      if (end < 0) break;
      found.push(value.slice(i + 1, end));
      i = end;
    }
    return found;
  };
  let table = '';
  let open = false; // inside a value continued on the next lines (an array or inline table)
  let depth = 0;
  for (const raw of text.split('\n').slice(0, 5000)) {
    const line = raw.trim();
    if (open) {
      for (const s of strings(line)) for (const w of table === 'hooks' || table.startsWith('hooks.') ? s.split(/\s+/).filter((x) => x.includes('/') && !x.includes('://')) : [s]) resolve(w);
      for (const c of line) depth += c === '[' || c === '{' ? 1 : c === ']' || c === '}' ? -1 : 0;
      if (depth <= 0) open = false;
      continue;
    }
    if (line.startsWith('[')) {
      table = line.replace(/^\[+/, '').split(']')[0]!.trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim().replace(/["']/g, '');
    const full = table ? `${table}.${key}` : key;
    // Hooks (`[hooks] enter = "bash ./scripts/enter.sh"`, `[[hooks.enter]] script = …`) are shell
    // commands mise runs on entering the folder: a word of one that is a path names a script.
    const hook = table === 'hooks' || table.startsWith('hooks.');
    const wanted = hook || ['env._.source', 'env._.file', 'env._.path', 'env._', 'env_file', 'dotenv', 'env_path'].includes(full)
      || (table === 'env._' && ['source', 'file', 'path'].includes(key));
    if (!wanted) continue;
    const value = line.slice(eq + 1);
    for (const s of strings(value)) {
      if (!hook) resolve(s);
      else for (const w of s.split(/\s+/)) if (w.includes('/') && !w.includes('://')) resolve(w);
    }
    depth = 0;
    for (const c of value) depth += c === '[' || c === '{' ? 1 : c === ']' || c === '}' ? -1 : 0;
    open = depth > 0;
  }
  return [...out];
}

/** The entries of a tool's trust folder (mise's trusted configs, direnv's allow list), the first 1,024; none when it cannot be read. */
function trustEntries(dir: string): string[] {
  try {
    return fs.readdirSync(dir).slice(0, 1024).map((name) => path.join(dir, name));
  } catch {
    return [];
  }
}

/** A fresh budget for one walk after the run (WALK_ENTRIES entries, WALK_MS, the first SURE_ENTRIES whatever the time). */
function walkBudget(): WalkBudget {
  return { left: WALK_ENTRIES, until: Date.now() + WALK_MS, sure: SURE_ENTRIES };
}

/**
 * Takes back mise's trust of a config that changed during the run (twenty-seventh pass), so that
 * mise asks again before it runs the config's env scripts, templates and hooks. mise trusts a
 * config by its path (a link to it in `<state>/trusted-configs`, with a `.hash` beside it that only
 * its paranoid mode reads): a trusted `mise.toml` the agent rewrote ran at the user's very next
 * prompt (mise's shell hook), right after the report that names it was printed, before anyone
 * could read it. The trust list is read-only inside; this runs on the host after the run. Trust
 * given to whole folders (`trusted_config_paths`) is not a file here and stays. Returns the configs
 * whose trust was taken back.
 */
export function untrustChanged(since: number, homeDir: string, env: NodeJS.ProcessEnv = {}): Planted[] {
  if (!homeDir || !path.isAbsolute(homeDir)) return [];
  const stateHome = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(homeDir, '.local', 'state');
  const state = env.MISE_STATE_DIR && path.isAbsolute(env.MISE_STATE_DIR) ? env.MISE_STATE_DIR : path.join(stateHome, 'mise');
  const dir = path.join(state, 'trusted-configs');
  const out: Planted[] = [];
  const budget = walkBudget();
  for (const entry of trustEntries(dir)) {
    let target: string;
    let named: string[] = [];
    try {
      if (!fs.lstatSync(entry).isSymbolicLink()) continue;
      target = path.resolve(dir, fs.readlinkSync(entry));
      if (fs.statSync(target).ctimeMs < since) {
        // What the config sources, loads or puts on PATH (twenty-eighth pass): mise trusts the
        // config by its path and never looks at these again.
        named = miseReads(target, homeDir).filter((f) => changedSince(f, since, budget) || (isDir(f) && programsIn(f).some((p) => changedSince(p, since, budget))));
        if (!named.length) continue;
      }
      fs.unlinkSync(entry);
    } catch {
      continue; // not a trust, leads nowhere, unchanged, or not ours to remove
    }
    // Rust's `with_extension("hash")`: the entry's extension replaced, or `.hash` added.
    const name = path.basename(entry);
    const dot = name.lastIndexOf('.');
    fs.rmSync(path.join(dir, `${dot > 0 ? name.slice(0, dot) : name}.hash`), { force: true });
    for (const f of named) if (!out.some((o) => o.path === f)) out.push({ path: f, why: `mise's trusted ${target} sources, loads or puts it on PATH ([env] _.source, _.file, _.path): mise's shell hook ran it at your next prompt there without asking again` });
    out.push({ path: target, why: named.length
      ? 'mise trusted it and what it sources changed during the run: its trust is taken back, so mise runs nothing of it until you read them and run mise trust again'
      : 'mise trusted it and it changed during the run: its trust is taken back, so mise runs nothing of it until you read it and run mise trust again' });
  }
  return out;
}

/**
 * The words of one line of shell, quotes removed, with the separators (`;`, `&&`, `||`, `|`, `(`,
 * `)`, `{`, `}`) as words of their own and a comment dropped. A plain scan (no regular
 * expression), linear in the line; `$…` is kept as written for `direnvPath` to read.
 */
function shellWords(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let has = false;
  const flush = (): void => {
    if (has) out.push(word);
    word = '';
    has = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\'' || c === '"') {
      const end = line.indexOf(c, i + 1);
      word += line.slice(i + 1, end < 0 ? line.length : end);
      has = true;
      i = end < 0 ? line.length : end;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      has = true;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      flush();
    } else if (c === '#' && !has) {
      break;
    } else if (c === ';' || c === '|' || c === '&' || c === '(' || c === ')' || c === '{' || c === '}') {
      // `$(pwd)` and `${PWD}` stay in the word: their parentheses and braces are not separators.
      if (c === '(' && word.endsWith('$')) {
        const end = line.indexOf(')', i);
        word += line.slice(i, end < 0 ? line.length : end + 1);
        has = true;
        i = end < 0 ? line.length : end;
        continue;
      }
      if (c === '{' && word.endsWith('$')) {
        const end = line.indexOf('}', i);
        word += line.slice(i, end < 0 ? line.length : end + 1);
        has = true;
        i = end < 0 ? line.length : end;
        continue;
      }
      flush();
      out.push(c);
    } else {
      word += c;
      has = true;
    }
  }
  flush();
  return out;
}

/**
 * A path as an `.envrc` in `dir` names it: relative to `dir` (direnv evaluates the file there),
 * `~`, `$HOME`, `$PWD`, `$(pwd)` and `$(expand_path …)`'s plain form read; undefined where another
 * variable or a substitution decides it.
 */
function direnvPath(word: string, dir: string, homeDir: string): string | undefined {
  let w = word;
  for (const pwd of ['$PWD', '${PWD}', '$(pwd)', '$(pwd -P)']) if (w.startsWith(pwd)) w = dir + w.slice(pwd.length);
  for (const home of ['$HOME', '${HOME}']) if (w.startsWith(home) && homeDir) w = homeDir + w.slice(home.length);
  if ((w === '~' || w.startsWith('~/')) && homeDir) w = homeDir + w.slice(1);
  if (!w || w.includes('$') || w.includes('`') || w.includes('*') || w.includes('?')) return undefined;
  return path.resolve(dir, w);
}

/** Words that end one command of a line and start the next (or open a compound's body). */
const SHELL_SEPARATORS = new Set([';', '|', '&', '(', ')', '{', '}', 'then', 'do', 'else', 'elif', '!', 'if', 'while', 'until']);

/**
 * What an `.envrc` makes the user's shell run or put first on PATH when direnv loads it, read from
 * its text as direnv's stdlib reads its commands (twenty-eighth pass): the files it sources
 * (`source_env FILE|DIR`, `source_env_if_exists`, `source_up [NAME]` — the file of that name, `.envrc`
 * by default, in each folder above —, bash's `source` and `.`), the dotenv files it loads (`dotenv`,
 * `dotenv_if_exists`, `.env` by default: every variable of the user's shell, PATH and
 * PROMPT_COMMAND among them), and the folders it puts on a search path (`PATH_add`, `path_add VAR`,
 * `load_prefix`'s bin, `PATH=…` with `$PWD`). direnv asks again only when the `.envrc` itself
 * changes, never when these do. Files sourced are read the same way, 3 deep, 64 in all.
 */
export function direnvReads(envrc: string, homeDir: string): { files: string[]; folders: string[] } {
  const files = new Set<string>();
  const folders = new Set<string>();
  // `dir`: the folder the file is evaluated in (source_env enters the sourced file's own folder;
  // bash's `source` stays where it was).
  const read = (file: string, dir: string, depth: number): void => {
    const text = configText(file);
    if (text === undefined) return;
    const sourced: Array<[string, string]> = [];
    for (const line of text.split('\n').slice(0, 5000)) {
      const words = shellWords(line);
      for (let i = 0; i < words.length; i++) {
        const cmd = words[i]!;
        if (i > 0 && !SHELL_SEPARATORS.has(words[i - 1]!)) continue; // only a word in command position
        const args: string[] = [];
        for (let j = i + 1; j < words.length && !SHELL_SEPARATORS.has(words[j]!) && args.length < 32; j++) args.push(words[j]!);
        const plain = args.filter((a) => !a.startsWith('-'));
        const at = (w: string | undefined): string | undefined => (w === undefined ? undefined : direnvPath(w, dir, homeDir));
        if (cmd === 'source_env' || cmd === 'source_env_if_exists') {
          const p = at(plain[0]);
          const f = p && isDir(p) ? path.join(p, '.envrc') : p;
          if (f) sourced.push([f, path.dirname(f)]);
        } else if (cmd === 'source' || cmd === '.') {
          const p = at(plain[0]);
          if (p) sourced.push([p, dir]);
        } else if (cmd === 'source_up' || cmd === 'source_up_if_exists') {
          const name = plain[0] ?? '.envrc';
          if (!name.includes('$') && !name.includes('/')) {
            for (let a = dir; a !== path.dirname(a);) {
              a = path.dirname(a);
              sourced.push([path.join(a, name), a]);
            }
          }
        } else if (cmd === 'dotenv' || cmd === 'dotenv_if_exists') {
          const p = at(plain[0] ?? '.env');
          if (p) files.add(p);
        } else if (cmd === 'PATH_add') {
          for (const a of plain) { const p = at(a); if (p) folders.add(p); }
        } else if (cmd === 'path_add' || cmd === 'MANPATH_add') {
          for (const a of plain.slice(cmd === 'path_add' ? 1 : 0)) { const p = at(a); if (p) folders.add(p); }
        } else if (cmd === 'load_prefix') {
          const p = at(plain[0]);
          if (p) for (const b of ['bin', 'sbin']) folders.add(path.join(p, b));
        } else {
          // `export PATH="$PWD/bin:$PATH"`, `PATH=./node_modules/.bin:$PATH`
          const assign = cmd === 'export' ? plain[0] : cmd;
          const eq = assign?.indexOf('=') ?? -1;
          if (assign && eq > 0 && CODE_PATH_VARIABLES.has(assign.slice(0, eq))) {
            for (const part of assign.slice(eq + 1).split(':')) { const p = part ? direnvPath(part, dir, homeDir) : undefined; if (p) folders.add(p); }
          }
        }
      }
    }
    for (const [s, at] of sourced) {
      if (files.size >= 64 || files.has(s) || s === envrc) continue;
      files.add(s);
      if (depth < 3) read(s, at, depth + 1);
    }
  };
  read(envrc, path.dirname(envrc), 0);
  return { files: [...files], folders: [...folders] };
}

/** Search paths whose folders' files are code to what looks there (a program, a module). */
const CODE_PATH_VARIABLES = new Set(['PATH', 'PYTHONPATH', 'NODE_PATH', 'PERL5LIB', 'RUBYLIB', 'LD_LIBRARY_PATH', 'CLASSPATH', 'GEM_PATH']);

/**
 * Takes back direnv's permission for an allowed `.envrc` whose sourced files, dotenv files or
 * search-path folders (`direnvReads`) changed during the run (twenty-eighth pass), so that direnv
 * asks before it loads that `.envrc` again. direnv allows an `.envrc` by a hash of its path and
 * content (a file in `<data>/direnv/allow` holding the path): an agent that rewrote what the
 * `.envrc` sources (`source_env_if_exists .envrc.user`, `dotenv .env.development`, `PATH_add bin`)
 * had it run by the user's next `cd` there, right after the report, without any question. Every
 * allowed `.envrc` is read, the working directory's or any other the user allowed (the agent
 * writes the home folder too). The allow list is read-only inside; this runs on the host after
 * the run. Returns the changed files and the `.envrc` files whose permission was taken back.
 */
export function untrustDirenv(since: number, homeDir: string, env: NodeJS.ProcessEnv = {}): Planted[] {
  if (!homeDir || !path.isAbsolute(homeDir)) return [];
  const data = env.XDG_DATA_HOME && path.isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : path.join(homeDir, '.local', 'share');
  const dir = path.join(data, 'direnv', 'allow');
  const out: Planted[] = [];
  const budget = walkBudget();
  for (const entry of trustEntries(dir)) {
    let envrc: string;
    try {
      if (!fs.lstatSync(entry).isFile()) continue;
      envrc = fs.readFileSync(entry, 'utf8').slice(0, 4096).split('\n')[0]!.trim();
    } catch {
      continue;
    }
    if (!path.isAbsolute(envrc) || !isFile(envrc)) continue;
    const reads = direnvReads(envrc, homeDir);
    const changed = [
      ...reads.files.filter((f) => changedSince(f, since, budget)).map((f) => ({ path: f, why: `your allowed ${envrc} sources or loads it: direnv ran it at your next cd there without asking again` })),
      ...reads.folders.filter((d) => programsIn(d).some((p) => changedSince(p, since, budget))).map((d) => ({ path: d, why: `your allowed ${envrc} puts this folder on a search path (PATH_add): what is in it ran in place of your programs at your next cd there` })),
    ];
    if (!changed.length) continue;
    for (const c of changed) if (!out.some((o) => o.path === c.path)) out.push(c);
    try {
      fs.unlinkSync(entry);
    } catch {
      continue; // not ours to remove: the files are named all the same
    }
    out.push({ path: envrc, why: 'direnv allowed it and what it sources changed during the run: its permission is taken back, so direnv loads nothing of it until you read them and run direnv allow again' });
  }
  return out;
}

export function removeCaches(files: string[]): void {
  for (const f of files) {
    try {
      if (!fs.lstatSync(f).isDirectory()) fs.unlinkSync(f);
    } catch {
      /* gone already */
    }
  }
}

/** Entries `airlock run` prints in full, then one of each further kind up to this many kinds. */
const REPORT_LINES = 40;
const REPORT_KINDS = 200;

/** The lines `airlock run` prints after the run (none when nothing was planted). */
export function plantedReport(found: { planted: Planted[]; complete: boolean; homeComplete?: boolean; toolchainsComplete?: boolean }, homeDir: string, cwd: string): string[] {
  const shown = (p: string): string => {
    const rel = path.relative(path.resolve(cwd), p);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
    if (homeDir && inside(p, homeDir)) return `~/${path.relative(homeDir, p)}`;
    return p;
  };
  const lines: string[] = [];
  if (found.planted.length) {
    lines.push('airlock: files that run outside the sandbox later were created or changed during the run; review them before your shell, editor or git reads them:');
    // The reason too (twenty-second pass): some quote names the agent chose (the packages of an install).
    const line = (f: Planted): string => `airlock:   ${terminalText(`${shown(f.path)} (${f.why})`)}`;
    // Past the first ones, one of each kind not shown yet (twenty-second pass: fifty decoys the
    // agent made, `.envrc` after `.envrc`, pushed the one that mattered past a bare count).
    const kinds = new Set<string>();
    let same = 0;
    let other = 0;
    for (const [i, f] of found.planted.entries()) {
      if (i < REPORT_LINES) lines.push(line(f));
      else if (kinds.has(f.why)) same++;
      else if (kinds.size >= REPORT_LINES + REPORT_KINDS) other++;
      else lines.push(line(f));
      kinds.add(f.why);
    }
    if (same) lines.push(`airlock:   … and ${same} more of the same kinds as above`);
    if (other) lines.push(`airlock:   … and ${other} more of other kinds (many: review the working directory whole)`);
  }
  if (!found.complete) lines.push(`airlock: the working directory (or its installed packages) is too big to check whole for such files (.git, .envrc, .vscode, node_modules, …) after the run; look for new ones yourself`);
  if (found.homeComplete === false) lines.push(`airlock: your home folder's files that tools run or load (shell rc files, git's, ssh's and editors' configs and what they name) were too many to check whole after the run; look for changes there yourself`);
  if (found.toolchainsComplete === false) lines.push(`airlock: your version managers' installs in the home folder (~/.rustup/toolchains, ~/.nvm/versions, ~/.pyenv/versions, …) are too big to check whole for files changed during the run; reinstall a toolchain if in doubt`);
  return lines;
}
