// The seccomp filter every sandboxed process runs under: it refuses to create AF_UNIX sockets.
// The network namespace cuts TCP/UDP and abstract Unix sockets, but a Unix socket *file* on the
// shared filesystem (a tmux server, X11 in /tmp/.X11-unix, an ssh-agent, a Docker socket) is
// reachable from any namespace and would be a way out — tmux send-keys alone runs commands
// outside. socketpair() stays allowed (anonymous, connects to nothing; Node and Python use it for
// child processes). io_uring is refused because its ring can create sockets without the socket
// syscall the filter sees. The bridge needs no Unix socket inside: its listening socket is handed
// to `airlock run` outside over an inherited channel (see inside.mjs).
//
// The program is classic BPF as bubblewrap's --seccomp FD expects (struct sock_filter[], native
// byte order), assembled here so no libseccomp binding is needed.

const AUDIT_ARCH = { x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 } as const;

interface ArchSyscalls {
  audit: number;
  socket: number;
  ioUringSetup: number;
  /** i386 multiplexes every socket call through socketcall(2): refused as a whole. */
  socketcall?: number;
  /** x86_64's x32 ABI: syscall numbers with bit 30 set. */
  x32?: boolean;
}

const native: Record<string, { main: ArchSyscalls; compat: ArchSyscalls }> = {
  x64: {
    main: { audit: AUDIT_ARCH.x86_64, socket: 41, ioUringSetup: 425, x32: true },
    compat: { audit: AUDIT_ARCH.i386, socket: 359, ioUringSetup: 425, socketcall: 102 },
  },
  arm64: {
    main: { audit: AUDIT_ARCH.aarch64, socket: 198, ioUringSetup: 425 },
    compat: { audit: AUDIT_ARCH.arm, socket: 281, ioUringSetup: 425 },
  },
};

export function seccompSupported(arch: string = process.arch): boolean {
  return Object.hasOwn(native, arch);
}

// struct seccomp_data: nr at 0, arch at 4, instruction_pointer at 8, args[6] (u64) from 16.
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0_LOW = 16; // little-endian low word of args[0] (x86_64 and aarch64 are little-endian)

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const AF_UNIX = 1;
const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;

type Label = 'allow' | 'eacces' | 'eperm' | 'enosys' | 'compat';
interface Insn {
  code: number;
  k: number;
  jt?: Label;
  jf?: Label;
  label?: Label;
}

function archBlock(a: ArchSyscalls, blockUnix: boolean): Insn[] {
  const out: Insn[] = [{ code: LD_W_ABS, k: OFF_NR }];
  if (a.x32) out.push({ code: JGE_K, k: 0x40000000, jt: 'eperm' });
  if (a.socketcall !== undefined) out.push({ code: JEQ_K, k: a.socketcall, jt: 'eperm' });
  if (!blockUnix) {
    out.push({ code: JEQ_K, k: a.ioUringSetup, jt: 'enosys', jf: 'allow' });
    return out;
  }
  out.push({ code: JEQ_K, k: a.ioUringSetup, jt: 'enosys' });
  out.push({ code: JEQ_K, k: a.socket, jf: 'allow' });
  out.push({ code: LD_W_ABS, k: OFF_ARG0_LOW });
  out.push({ code: JEQ_K, k: AF_UNIX, jt: 'eacces', jf: 'allow' });
  return out;
}

/**
 * The filter as bytes, for bubblewrap's --seccomp. Throws on an architecture it does not know.
 * `allowUnixSockets` (airlock run --allow-unix-sockets) keeps only the io_uring rule.
 */
export function seccompProgram(opts: { allowUnixSockets?: boolean } = {}, arch: string = process.arch): Buffer {
  const blockUnix = !opts.allowUnixSockets;
  const spec = native[arch];
  if (!spec) throw new Error(`no seccomp filter for architecture ${arch}`);
  const insns: Insn[] = [
    { code: LD_W_ABS, k: OFF_ARCH },
    { code: JEQ_K, k: spec.main.audit, jf: 'compat' },
    ...archBlock(spec.main, blockUnix),
    // The accumulator still holds the arch here: a process of any third ABI is refused outright.
    { code: JEQ_K, k: spec.compat.audit, jf: 'eperm', label: 'compat' },
    ...archBlock(spec.compat, blockUnix),
    { code: RET_K, k: RET_ALLOW, label: 'allow' },
    { code: RET_K, k: RET_ERRNO | EACCES, label: 'eacces' },
    { code: RET_K, k: RET_ERRNO | EPERM, label: 'eperm' },
    { code: RET_K, k: RET_ERRNO | ENOSYS, label: 'enosys' },
  ];
  const at = new Map<Label, number>();
  insns.forEach((ins, i) => ins.label && at.set(ins.label, i));
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, i) => {
    const jump = (l: Label | undefined): number => {
      if (!l) return 0;
      const off = at.get(l)! - (i + 1);
      if (off < 0 || off > 255) throw new Error('seccomp jump out of range');
      return off;
    };
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(jump(ins.jt), i * 8 + 2);
    buf.writeUInt8(jump(ins.jf), i * 8 + 3);
    buf.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return buf;
}
