// Peer proxies installed from package registries, started on loopback with settings that let
// them reach the local upstream: Debian's squid and tinyproxy, mitmproxy's mitmdump (PyPI), and
// Stripe's smokescreen (built with `go install github.com/stripe/smokescreen@latest`). A peer that
// is not installed is reported as missing with the command that installs it, never silently dropped.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort, start, waitForPort, type Proc } from './proc.ts';

export interface RunningProxy {
  name: string;
  /** http://127.0.0.1:PORT */
  proxyUrl: string;
  proc: Proc;
  proxyAuthorization?: string;
  /** One line on how this proxy is configured for the run (for the README table footnotes). */
  note: string;
}

export interface Peer {
  name: string;
  install: string;
  find(): string | undefined;
  start(bin: string, port: number, tmp: string): Promise<{ proc: Proc; note: string }>;
}

function which(cmd: string, extra: string[] = []): string | undefined {
  for (const p of [...extra, ...(process.env.PATH ?? '').split(':').map((d) => path.join(d, cmd))]) {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

/** Where bench/lib/install-peers.sh puts mitmproxy from PyPI (a venv of its own, so it changes no other Python). */
export const mitmVenv = path.join(os.homedir(), '.cache', 'airlock', 'bench-peers', 'mitmproxy');

const goBin = (): string[] => {
  const gopath = spawnSync('go', ['env', 'GOPATH'], { encoding: 'utf8' }).stdout?.trim() || path.join(os.homedir(), 'go');
  return [path.join(gopath, 'bin', 'smokescreen')];
};

export const peers: Peer[] = [
  {
    name: 'squid',
    install: 'apt-get install -y squid',
    find: () => which('squid', ['/usr/sbin/squid']),
    async start(bin, port, tmp) {
      // No cache (memory or disk), no access log, no pinger helper; -N: one process, no kids. As
      // root squid drops to its `proxy` user, which must be able to write its log and pid file.
      const dir = fs.mkdtempSync(path.join(tmp, 'squid-'));
      fs.chmodSync(dir, 0o777);
      const conf = path.join(dir, 'squid.conf');
      fs.writeFileSync(conf, [
        `http_port 127.0.0.1:${port}`, 'http_access allow all', 'cache deny all', 'cache_mem 0 MB',
        'access_log none', 'cache_store_log none', `cache_log ${path.join(dir, 'cache.log')}`,
        `pid_filename ${path.join(dir, 'squid.pid')}`, `coredump_dir ${dir}`, 'pinger_enable off',
        'shutdown_lifetime 0 seconds', 'via off', 'forwarded_for transparent', 'max_filedescriptors 8192', '',
      ].join('\n'));
      const proc = start('squid', bin, ['-N', '-f', conf]);
      await waitForPort(port, proc);
      return { proc, note: 'squid -N (one process), no cache, no access log' };
    },
  },
  {
    name: 'tinyproxy',
    install: 'apt-get install -y tinyproxy',
    find: () => which('tinyproxy', ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy']),
    async start(bin, port, tmp) {
      const conf = path.join(tmp, 'tinyproxy.conf');
      fs.writeFileSync(conf, [
        `Port ${port}`, 'Listen 127.0.0.1', 'Timeout 60', 'MaxClients 2000', 'LogLevel Critical',
        `PidFile "${path.join(tmp, 'tinyproxy.pid')}"`, 'DisableViaHeader Yes', 'ConnectPort 443', 'ConnectPort 80', '',
      ].join('\n'));
      const proc = start('tinyproxy', bin, ['-d', '-c', conf]);
      await waitForPort(port, proc);
      // tinyproxy closes the client connection after each answer (no client keep-alive): wrk
      // reconnects and counts a read error each time, so its row is a connection per request.
      return { proc, note: 'tinyproxy -d, MaxClients 2000, no filtering; closes the client connection after every answer, so each request pays a new connection (wrk counts those closes as read errors)' };
    },
  },
  {
    name: 'mitmproxy',
    install: `python3 -m venv ${mitmVenv} && ${mitmVenv}/bin/pip install mitmproxy`,
    find: () => which('mitmdump', [path.join(mitmVenv, 'bin', 'mitmdump')]),
    async start(bin, port, tmp) {
      const proc = start('mitmproxy', bin, ['--listen-host', '127.0.0.1', '--listen-port', String(port), '-q', '--set', `confdir=${path.join(tmp, 'mitm')}`, '--set', 'flow_detail=0']);
      await waitForPort(port, proc, 60_000);
      return { proc, note: 'mitmdump regular mode, quiet, no addons' };
    },
  },
  {
    name: 'smokescreen',
    install: 'go install github.com/stripe/smokescreen@latest (Go from https://go.dev/dl)',
    find: () => which('smokescreen', goBin()),
    async start(bin, port) {
      const proc = start('smokescreen', bin, ['--listen-ip', '127.0.0.1', '--listen-port', String(port), '--allow-range', '127.0.0.0/8', '--statsd-address', '127.0.0.1:9']);
      await waitForPort(port, proc);
      return { proc, note: 'smokescreen, no ACL file (default allow), --allow-range 127.0.0.0/8' };
    },
  },
];

export async function startPeer(peer: Peer, tmp: string): Promise<RunningProxy | { name: string; missing: string }> {
  const bin = peer.find();
  if (!bin) return { name: peer.name, missing: `not installed; install with: ${peer.install}` };
  const port = await freePort();
  const { proc, note } = await peer.start(bin, port, tmp);
  return { name: peer.name, proxyUrl: `http://127.0.0.1:${port}`, proc, note };
}
