// The sandbox for a normal user: `airlock run` without root needs a user namespace too. When the
// tests run as root, the CLI is started as uid 65534 (nobody) with setpriv, so the unprivileged
// path is what runs either way. Airlock is stood in for by a small HTTP server on the state
// folder's proxy.sock that authenticates the per-run token (the real proxy runs as root here and
// its socket is private to root).
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { writeRuntimeInfo } from '../../runtime/running.ts';
import { AgentStore, parseProxyAuthorization } from '../../state/agents.ts';
import { airlockBin, bridgeProbe, results } from './helpers.ts';
import { fuseMount } from '../helpers/fuse-mount.ts';

const asRoot = process.getuid?.() === 0;
const uid = asRoot ? 65534 : process.getuid!();
const gid = asRoot ? 65534 : process.getgid!();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-test-unpriv-'));
const home = path.join(dir, 'home');
const work = path.join(dir, 'work');
const tmp = path.join(dir, 'tmp');
for (const d of [home, work, tmp]) fs.mkdirSync(d, { mode: 0o700 });
fs.writeFileSync(path.join(home, 'ca.pem'), 'stand-in CA\n');
const agents = await AgentStore.open(home);
await agents.add('bot');

const seen: Array<{ url: string; agent?: string }> = [];
const standIn = http.createServer((req, res) => {
  void (async () => {
    const creds = parseProxyAuthorization(req.headers['proxy-authorization']);
    const agent = creds ? (await (await AgentStore.open(home)).authenticate(creds.name, creds.token))?.id : undefined;
    seen.push({ url: req.url ?? '', agent });
    res.end(`stand-in saw ${req.url} as ${agent ?? 'nobody'}\n`);
  })();
});
await new Promise<void>((resolve) => standIn.listen(path.join(home, 'proxy.sock'), resolve));
t.teardown(async () => {
  standIn.closeAllConnections();
  await new Promise((r) => standIn.close(r));
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10 });
});
// What an agent of an earlier run could have left (its $HOME is the user's, writable): a bwrap in
// ~/.local/bin, which profiles put first on PATH. It would start the next run unconfined; here it
// only leaves a mark and runs the real one.
const planted = path.join(work, '.local', 'bin');
const plantedMark = path.join(tmp, 'planted-bwrap-ran');
fs.mkdirSync(planted, { recursive: true });
fs.writeFileSync(path.join(planted, 'bwrap'), `#!/bin/sh\ntouch '${plantedMark}'\nexec /usr/bin/bwrap "$@"\n`, { mode: 0o755 });
// And a keytool, which airlock run runs on the host to make Java's trust store.
fs.writeFileSync(path.join(planted, 'keytool'), `#!/bin/sh\ntouch '${plantedMark}-keytool'\nexit 1\n`, { mode: 0o755 });
// The running Airlock's policy folder, in a project of the user's: read-only inside the sandbox.
const project = path.join(work, 'proj');
fs.mkdirSync(path.join(project, 'rego'), { recursive: true });
fs.writeFileSync(path.join(project, 'rego', 'airlock.rego'), 'package airlock\n');
writeRuntimeInfo(home, { proxy: { host: '127.0.0.1', port: 1 } }, path.join(project, 'rego'));
// A Node of the user's (nvm puts it under the home folder), which runs airlock run here: the next
// `airlock start` would run on it too.
const nodePrefix = path.join(work, '.nvm', 'versions', 'node', 'v20');
const userNode = path.join(nodePrefix, 'bin', 'node');
fs.mkdirSync(path.dirname(userNode), { recursive: true });
fs.copyFileSync(process.execPath, userNode);
fs.chmodSync(userNode, 0o755);
if (asRoot) {
  fs.chmodSync(dir, 0o755);
  for (let p = userNode; p !== work; p = path.dirname(p)) fs.chownSync(p, uid, gid);
  for (const p of [project, path.join(project, 'rego'), path.join(project, 'rego', 'airlock.rego')]) fs.chownSync(p, uid, gid);
  for (const p of [path.join(work, '.local'), planted, path.join(planted, 'bwrap'), path.join(planted, 'keytool')]) fs.chownSync(p, uid, gid);
  for (const p of [home, work, tmp, ...fs.readdirSync(home).map((f) => path.join(home, f))]) fs.chownSync(p, uid, gid);
}

t.test(`airlock run as uid ${uid}: user namespace, only the proxy leads out`, async (t) => {
  const probe = [
    'echo uid=$(id -u)',
    'echo capeff=$(awk \'/^CapEff/ {print $2}\' /proc/self/status)',
    'echo via_proxy=$(curl -sS -m 10 http://example.test/unpriv)',
    "curl -sS --noproxy '*' -m 5 -o /dev/null http://127.0.0.1:9/ 2>/dev/null; echo direct=$?",
    `echo home_entries=$(ls -A '${home}' | wc -l)`,
    `touch '${planted}/agent-can-write' && echo can_plant=yes`,
    // The policy folder is bound read-only; its parent is the user's: moved aside, a policy of the
    // agent's put at the old path would be what the next airlock start compiles.
    `(echo x >> '${project}/rego/airlock.rego') 2>/dev/null || echo policy_readonly=yes`,
    `mv '${project}' '${project}-aside' 2>/dev/null && mkdir -p '${project}/rego' && echo 'package airlock' > '${project}/rego/planted.rego' && echo renamed=yes`,
    `(: > '${nodePrefix}/bin/npx-planted') 2>/dev/null || echo node_readonly=yes`,
    `mv '${nodePrefix}' '${nodePrefix}-aside' 2>/dev/null && echo node_moved=yes`,
    `python3 -c '${bridgeProbe.replaceAll("'", "'\\''")}'`,
    // Fifteenth pass: a limit of processes of its own (a fork bomb stops there, not at the user's
    // limit shared with their session), at nice 10; neither can be undone inside.
    "echo nproc=$(awk '/^Max processes/ {print $3 \"/\" $4}' /proc/self/limits)",
    "(ulimit -u 100000 2>/dev/null || ulimit -p 100000 2>/dev/null) && echo nproc_raised=yes",
    "echo nice=$(awk '{print $19}' /proc/self/stat)",
    "python3 -c 'import os; os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))' 2>/dev/null && echo realtime=yes",
    "python3 -c 'import os; os.setpriority(os.PRIO_PROCESS, 0, 0)' 2>/dev/null && echo reniced=yes",
    // The kernel counts the processes of the command's namespace only (not the user's others): a
    // limit of 40, set by the command on itself, lets it start nearly 40.
    "(ulimit -u 40 2>/dev/null || ulimit -p 40; python3 -c 'import os, time\nfor i in range(100):\n  try:\n    pid = os.fork()\n  except OSError:\n    print(\"forks=%d\" % i); break\n  if pid == 0:\n    time.sleep(1); os._exit(0)' 2>/dev/null)",
  ].join('\n');
  // Twenty-third pass (found in a full run): a network or FUSE mount in a folder this user cannot
  // enter (another user's sshfs under their 0700 home; here a root-only folder) made the sandbox
  // fail to start: it covers such mounts and could not make the mount point. The agent cannot
  // reach it either: left alone, the run goes on.
  const privateMount = asRoot ? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'airlock-root-only-')), 'share') : undefined;
  if (privateMount) {
    t.teardown(() => fs.rmSync(path.dirname(privateMount), { recursive: true, force: true }));
    fs.mkdirSync(privateMount);
    if (!(await fuseMount(t, privateMount, { mode: 'answer', source: 'nas:/team' }))) t.comment('no /dev/fuse: the mount in a root-only folder is not tried');
  }
  const cli = [userNode, airlockBin, 'run', '--agent', 'bot', '--home', home, '--', 'sh', '-c', probe];
  // tap instruments child processes through NODE_OPTIONS and writes into .tap/, which the
  // unprivileged user cannot: drop it for that run.
  // Fifteenth pass: limits that allow real-time scheduling (as audio setups give their users),
  // where this machine lets the launcher raise them (CAP_SYS_RESOURCE; not in every container).
  const rt = asRoot && spawnSync('prlimit', ['--rtprio=50:50', '--', 'true']).status === 0 ? ['prlimit', '--rtprio=50:50', '--'] : [];
  const argv = asRoot ? [...rt, 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'env', '-u', 'NODE_OPTIONS', ...cli] : cli;
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, HOME: work, PATH: `${planted}:${process.env.PATH ?? '/usr/bin:/bin'}` };
  const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  t.equal(run.code, 0, `ran (stderr: ${run.stderr.trim()})`);
  const r = results(run.stdout);
  t.equal(r.uid, String(uid), 'the command runs as the unprivileged user');
  t.equal(r.capeff, '0000000000000000', 'with no capabilities');
  t.equal(r.via_proxy, 'stand-in saw http://example.test/unpriv as bot', 'the proxy is reached and the per-run token authenticates');
  t.equal(r.direct, '7', 'a direct connection has no route');
  t.equal(r.home_entries, '0', 'the state folder is hidden');
  t.equal(r.can_plant, 'yes', 'control: the agent can write ~/.local/bin (first on PATH)');
  t.notOk(fs.existsSync(plantedMark), 'airlock run did not start the bwrap planted there');
  t.notOk(fs.existsSync(`${plantedMark}-keytool`), 'nor the keytool (it runs outside the sandbox)');
  t.equal(r.policy_readonly, 'yes', 'control: the policy folder is read-only inside');
  t.not(r.renamed, 'yes', 'the folder above it cannot be moved aside');
  t.notOk(fs.existsSync(path.join(project, 'rego', 'planted.rego')), 'no policy of the agent\'s is where Airlock reads its policy');
  t.ok(fs.existsSync(path.join(project, 'rego', 'airlock.rego')), 'the policy is where it was');
  t.equal(r.node_readonly, 'yes', 'the install folder of the user\'s Node that runs Airlock is read-only inside');
  t.not(r.node_moved, 'yes', 'and its install folder cannot be moved aside');
  // The bridge (inside.mjs) runs as this user too: its channel to airlock run stays out of reach.
  t.ok(Number(r.bridges) >= 1, 'control: the agent sees the bridge');
  t.not(r.ptrace, 'attached', `ptrace of the bridge: ${r.ptrace}`);
  t.equal(r.getfd, '', 'pidfd_getfd takes none of its descriptors');
  t.not(r.mem, 'opened', 'its /proc/PID/mem cannot be opened');
  t.equal(r.forged, '', 'no channel to forge messages on');
  t.equal(r.nproc, '8192/8192', 'the command has a limit of processes of its own, soft and hard');
  t.notOk(r.nproc_raised, 'which it cannot raise');
  t.ok(Number(r.forks) > 30 && Number(r.forks) < 40, `the namespace's processes are counted apart from the user's others (${r.forks} forks under a limit of 40)`);
  t.equal(r.nice, '10', 'the command runs at nice 10');
  t.notOk(r.reniced, 'and cannot lower it');
  if (rt.length) t.notOk(r.realtime, 'nor take real-time scheduling, which the launcher\'s limits allowed');
  else t.comment('real-time limits not checked: this machine does not let the launcher raise RLIMIT_RTPRIO');
  t.same(seen.map((s) => s.url), ['http://example.test/unpriv']);
});
