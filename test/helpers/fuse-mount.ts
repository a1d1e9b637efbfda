// A FUSE mount served by python3 straight on /dev/fuse (no libfuse), typed `fuse.sshfs` as sshfs
// mounts (a network file system on the host) unless told otherwise. Mounting needs root and
// /dev/fuse (CI runs as root).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Teardown } from '../temp-dir.ts';

/**
 * The server. `answer`: every name looked up is printed (`asked=NAME`) and does not exist, every
 * file or folder made is refused. `stall`: a lookup is printed (`stalled=NAME`) and never answered
 * (a hung mount). Either way it gives up after `maxMs`, so that what waits on it ends.
 */
const server = `
import ctypes, os, struct, sys, time, select
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open('/dev/fuse', os.O_RDWR)
opts = 'fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other' % fd
if libc.mount(sys.argv[2].encode(), sys.argv[1].encode(), sys.argv[5].encode(), 6, opts.encode()) != 0:
    print('mount-failed ' + os.strerror(ctypes.get_errno()), flush=True); sys.exit(1)
print('ready', flush=True)
stall = sys.argv[3] == 'stall'
until = time.time() + float(sys.argv[4]) / 1000
def reply(unique, err=0, body=b''):
    os.write(fd, struct.pack('<IiQ', 16 + len(body), -err, unique) + body)
while time.time() < until:
    if not select.select([fd], [], [], 0.2)[0]: continue
    try:
        buf = os.read(fd, 1 << 20)
    except OSError as e:
        if e.errno == 19: break
        continue
    ln, op, unique, node = struct.unpack_from('<IIQQ', buf)
    body = buf[40:]
    if op == 26:  # INIT
        reply(unique, 0, struct.pack('<IIIIHHIIHHI', 7, 31, 0, 0, 16, 12, 65536, 1, 0, 0, 0) + bytes(28))
    elif op == 3:  # GETATTR: the root, a folder
        reply(unique, 0, struct.pack('<QII', 1, 0, 0) + struct.pack('<QQQQQQIIIIIIIIII', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0o40777, 2, 0, 0, 0, 4096, 0))
    elif op == 1 and stall:  # LOOKUP: never answered
        print('stalled=' + body.split(b'\\0')[0].decode('latin1'), flush=True)
    elif op in (1, 8, 9, 35):  # LOOKUP, MKNOD, MKDIR, CREATE: the name reached the server
        print('asked=' + (body[16:] if op in (8, 35) else body[8:] if op == 9 else body).split(b'\\0')[0].decode('latin1'), flush=True)
        reply(unique, 2 if op == 1 else 13)
    elif op == 27:  # OPENDIR
        reply(unique, 0, bytes(16))
    elif op in (28, 29, 18, 25):  # READDIR (empty), RELEASEDIR, RELEASE, FLUSH
        reply(unique, 0)
    elif op in (2, 36, 42):  # FORGET, INTERRUPT, BATCH_FORGET: no answer
        pass
    elif op == 38:  # DESTROY
        break
    else:
        reply(unique, 38)
`;

/**
 * Mounts the server on `dir` (an empty folder) until the test ends; undefined without root or
 * /dev/fuse. `asked`: what the server printed; `stalling`: it has not given up yet; `stop`: the
 * server killed (every lookup still waiting then fails at once) and the mount gone.
 */
export async function fuseMount(t: Teardown, dir: string, opts: { mode: 'answer' | 'stall'; source?: string; maxMs?: number; type?: string }): Promise<{ asked: () => string; stalling: () => boolean; stop: () => void } | undefined> {
  if (process.getuid!() !== 0 || !fs.existsSync('/dev/fuse')) return undefined;
  const child = spawn('python3', ['-u', '-c', server, dir, opts.source ?? 'remote:/srv', opts.mode, String(opts.maxMs ?? 600_000), opts.type ?? 'fuse.sshfs'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let seen = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (seen += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = (): void => {
    child.kill('SIGKILL');
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  };
  t.teardown(stop);
  for (let i = 0; i < 200 && !/ready|mount-failed/.test(seen); i++) await new Promise((r) => setTimeout(r, 25));
  if (!seen.includes('ready')) throw new Error(`the FUSE server did not start: ${seen}`);
  return { asked: () => seen, stalling: () => !exited, stop };
}
