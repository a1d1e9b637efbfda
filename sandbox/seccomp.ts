// The seccomp filter every sandboxed process runs under: an allowlist of socket families.
//
// The network namespace cuts TCP/UDP (AF_INET, AF_INET6) and abstract Unix sockets, but other
// families ignore network namespaces: AF_VSOCK reaches the hypervisor host (a Firecracker or
// QEMU VM's host side), a Unix socket *file* on the shared filesystem (a tmux server — tmux
// send-keys alone runs commands outside —, X11 in /tmp/.X11-unix, an ssh-agent, a Docker socket)
// is reachable from any namespace, and further families (AF_ALG, AF_KEY, AF_BLUETOOTH, AF_CAN,
// AF_TIPC, AF_RDS, …) are kernel attack surface the agent has no use for. So socket(2) creates only
//   AF_INET, AF_INET6             the agent's traffic (its namespace routes it to Airlock alone);
//                                 not AF_INET with SOCK_PACKET, the kernel's old name for AF_PACKET
//                                 (in a user namespace of its own the agent has CAP_NET_RAW for it)
//   AF_NETLINK, NETLINK_ROUTE     getaddrinfo and getifaddrs ask the (namespaced) routing tables
//   AF_UNIX                       only with `airlock run --allow-unix-sockets`
// and socketpair(2) only AF_UNIX of type SOCK_STREAM or SOCK_SEQPACKET (anonymous, connects to
// nothing; Node and Python use it for child processes). Not SOCK_DGRAM: a datagram socket, even
// one of a pair, can be re-aimed with sendto(2)/connect(2) at any datagram socket file on the
// shared filesystem. Other families fail with EAFNOSUPPORT (as on a kernel without them), other
// netlink protocols with EPROTONOSUPPORT, AF_UNIX with EACCES. io_uring is refused because its
// ring can create sockets without the socket syscall the filter sees; i386's socketcall(2), which
// multiplexes every socket call, is refused whole. The kernel keyrings (add_key, request_key,
// keyctl) are refused too (ENOSYS, as on a kernel without them): they are not namespaced, so the
// agent would inherit the session keyring of whoever started `airlock run` and share the user's
// keyring — Kerberos tickets, cached disk passphrases, tokens tools keep there. perf_event_open,
// bpf and userfaultfd fail with ENOSYS too: none is namespaced, and only the host's sysctls bound
// them (a developer's machine often sets perf_event_paranoid to -1 or 0 for profilers, and then a
// CPU-wide event samples the registers and stacks of every process, Airlock's included; the other
// two are kernel-exploit tools an agent has no use for). ioctl(TIOCSTI), ioctl(TIOCSETD),
// ioctl(TIOCEXCL), ioctl(TCXONC) (see below) and ioctl(TIOCLINUX) fail with EPERM: they push keystrokes into a terminal (TIOCLINUX pastes on a
// virtual console), and an agent given a terminal that is no session's controlling terminal could
// make it its own (setsid, TIOCSCTTY) and type commands for whatever reads it after the run (the
// sandbox's own session stops only the case where it is the user's shell's terminal). A mode with
// the set-user-ID or set-group-ID bit (chmod, fchmod, fchmodat, fchmodat2, and open, openat, creat,
// mknod, mknodat making a file) fails with EPERM, and openat2, whose mode the filter cannot read,
// with ENOSYS: the files are the host's, and a set-ID copy of a shell runs as the agent's user (root
// when run by root) for whoever starts it outside. The bridge needs no
// Unix socket inside: its listening socket is handed to `airlock run` outside over an inherited
// channel (see inside.mjs).
//
// The program is classic BPF as bubblewrap's --seccomp FD expects (struct sock_filter[], native
// byte order), assembled here so no libseccomp binding is needed.
import { lookupTable } from '../lib/records.ts';

const AUDIT_ARCH = { x86_64: 0xc000003e, i386: 0x40000003, aarch64: 0xc00000b7, arm: 0x40000028 } as const;

interface ArchSyscalls {
  audit: number;
  socket: number;
  socketpair: number;
  ioUringSetup: number;
  ioctl: number;
  /** add_key, request_key, keyctl: the kernel keyrings (not namespaced; see below). */
  keys: [number, number, number];
  /** perf_event_open, bpf, userfaultfd: not namespaced, only the host's sysctls limit them (see below). */
  surface: [number, number, number];
  /**
   * Calls that give a file its mode (see SET_ID): [number, the mode's argument, the flags'
   * argument where the mode counts only with O_CREAT or O_TMPFILE]. openat2 carries both in a
   * struct the filter cannot read: refused whole (ENOSYS: libc and runtimes fall back to openat).
   */
  modes: Array<[number, number, number?]>;
  openat2: number;
  /** i386 multiplexes every socket call through socketcall(2): refused as a whole. */
  socketcall?: number;
  /** x86_64's x32 ABI: syscall numbers with bit 30 set. */
  x32?: boolean;
}

const native: Readonly<Record<string, { main: ArchSyscalls; compat: ArchSyscalls }>> = lookupTable({
  x64: {
    main: { audit: AUDIT_ARCH.x86_64, socket: 41, socketpair: 53, ioUringSetup: 425, ioctl: 16, keys: [248, 249, 250], surface: [298, 321, 323], x32: true,
      modes: [[90, 1], [91, 1], [268, 2], [452, 2], [2, 2, 1], [257, 3, 2], [85, 1], [133, 1], [259, 2]], openat2: 437 },
    compat: { audit: AUDIT_ARCH.i386, socket: 359, socketpair: 360, ioUringSetup: 425, ioctl: 54, keys: [286, 287, 288], surface: [336, 357, 374], socketcall: 102,
      modes: [[15, 1], [94, 1], [306, 2], [452, 2], [5, 2, 1], [295, 3, 2], [8, 1], [14, 1], [297, 2]], openat2: 437 },
  },
  arm64: {
    main: { audit: AUDIT_ARCH.aarch64, socket: 198, socketpair: 199, ioUringSetup: 425, ioctl: 29, keys: [217, 218, 219], surface: [241, 280, 282],
      modes: [[52, 1], [53, 2], [452, 2], [56, 3, 2], [33, 2]], openat2: 437 },
    compat: { audit: AUDIT_ARCH.arm, socket: 281, socketpair: 288, ioUringSetup: 425, ioctl: 54, keys: [309, 310, 311], surface: [364, 386, 388],
      modes: [[15, 1], [94, 1], [333, 2], [452, 2], [5, 2, 1], [322, 3, 2], [8, 1], [14, 1], [324, 2]], openat2: 437 },
  },
});

/** Socket families (socket(2)'s domain) a sandboxed process may create. */
export const AF = { UNIX: 1, INET: 2, INET6: 10, NETLINK: 16 } as const;
const NETLINK_ROUTE = 0;

export function seccompSupported(arch: string = process.arch): boolean {
  return Object.hasOwn(native, arch);
}

// struct seccomp_data: nr at 0, arch at 4, instruction_pointer at 8, args[6] (u64) from 16.
// Domains and protocols are ints: the low word of each argument is the whole value (x86_64 and
// aarch64 are little-endian).
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0_LOW = 16;
const OFF_ARG1_LOW = 24;
const OFF_ARG2_LOW = 32;
/** socket(2)'s type without its SOCK_NONBLOCK / SOCK_CLOEXEC flags (the kernel's SOCK_TYPE_MASK). */
const SOCK_TYPE_MASK = 0xf;
const SOCK_STREAM = 1;
const SOCK_SEQPACKET = 5;
/** The obsolete (AF_INET, SOCK_PACKET) pair, which the kernel turns into an AF_PACKET socket. */
const SOCK_PACKET = 10;
/** Terminal ioctls that push input: TIOCSTI, TIOCLINUX (its paste subcommand). */
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;
/**
 * Changes a terminal's line discipline, which outlives the run on a terminal the agent was given
 * (N_NULL on the user's terminal leaves it dead after the run) and loads line-discipline modules
 * on demand (dev.tty.ldisc_autoload: n_hdlc, n_gsm, … with their history of kernel exploits).
 */
const TIOCSETD = 0x5423;
/**
 * Terminal state a settings restore (stty) does not undo, which outlives the run on the user's
 * terminal: TIOCEXCL makes it exclusive (every later open of it, /dev/tty by ssh, sudo, git's
 * password prompt, less, fails with EBUSY for all but root), TCXONC with TCOOFF stops its output
 * (the user's shell, and airlock run's own report, then block writing to it).
 */
const TIOCEXCL = 0x540c;
const TCXONC = 0x540a;

/**
 * The set-user-ID and set-group-ID bits (S_ISUID | S_ISGID). The sandbox's own processes gain
 * nothing from them (no_new_privs), but the files it writes are the host's: an agent that copies a
 * shell into the temp folder or the project and sets the bits leaves a program that runs as its
 * user — as root when `airlock run` runs as root — for any other account, container or later
 * process on the machine that starts it (`sh -p`). No agent work needs them; a folder's
 * group-inheriting setgid bit is refused with them (chmod(2) cannot tell a folder from a file).
 */
const SET_ID = 0o6000;
/** open(2)'s O_CREAT and __O_TMPFILE: without either the kernel ignores the mode argument. */
const OPEN_MAKES = 0o100 | 0o20000000;

const LD_W_ABS = 0x20;
const JA = 0x05;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const AND_K = 0x54;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const EACCES = 13;
const ENOSYS = 38;
const EPROTONOSUPPORT = 93;
const EAFNOSUPPORT = 97;

interface Insn {
  code: number;
  k: number;
  jt?: string;
  jf?: string;
  /** JA: the label jumped to (its offset goes in k). */
  to?: string;
  label?: string;
}

function archBlock(a: ArchSyscalls, allowUnix: boolean, p: string): Insn[] {
  const out: Insn[] = [{ code: LD_W_ABS, k: OFF_NR }];
  if (a.x32) out.push({ code: JGE_K, k: 0x40000000, jt: 'eperm' });
  if (a.socketcall !== undefined) out.push({ code: JEQ_K, k: a.socketcall, jt: 'eperm' });
  out.push(
    { code: JEQ_K, k: a.ioUringSetup, jt: 'enosys' },
    ...[...a.keys, ...a.surface, a.openat2].map((k): Insn => ({ code: JEQ_K, k, jt: 'enosys' })),
    ...a.modes.map(([nr], i): Insn => ({ code: JEQ_K, k: nr, jt: `${p}mode${i}` })),
    { code: JEQ_K, k: a.ioctl, jt: `${p}ioctl` },
    { code: JEQ_K, k: a.socketpair, jt: `${p}pair` },
    { code: JEQ_K, k: a.socket, jf: 'allow' },
    // socket(domain, type, protocol)
    { code: LD_W_ABS, k: OFF_ARG0_LOW },
    { code: JEQ_K, k: AF.INET, jt: `${p}inet` },
    { code: JEQ_K, k: AF.INET6, jt: 'allow' },
    { code: JEQ_K, k: AF.UNIX, jt: allowUnix ? 'allow' : 'eacces' },
    { code: JEQ_K, k: AF.NETLINK, jf: 'eafnosupport' },
    { code: LD_W_ABS, k: OFF_ARG2_LOW },
    { code: JEQ_K, k: NETLINK_ROUTE, jt: 'allow', jf: 'eprotonosupport' },
    // AF_INET with SOCK_PACKET is AF_PACKET by its old name (net/socket.c): refused like AF_PACKET.
    { code: LD_W_ABS, k: OFF_ARG1_LOW, label: `${p}inet` },
    { code: AND_K, k: SOCK_TYPE_MASK },
    { code: JEQ_K, k: SOCK_PACKET, jt: 'eafnosupport', jf: 'allow' },
    // ioctl(fd, cmd, ...): cmd is an unsigned int, so its low word is all the kernel reads.
    { code: LD_W_ABS, k: OFF_ARG1_LOW, label: `${p}ioctl` },
    { code: JEQ_K, k: TIOCSTI, jt: 'eperm' },
    { code: JEQ_K, k: TIOCSETD, jt: 'eperm' },
    { code: JEQ_K, k: TIOCEXCL, jt: 'eperm' },
    { code: JEQ_K, k: TCXONC, jt: 'eperm' },
    { code: JEQ_K, k: TIOCLINUX, jt: 'eperm', jf: 'allow' },
    // socketpair(domain, type, protocol, sv)
    { code: LD_W_ABS, k: OFF_ARG0_LOW, label: `${p}pair` },
    { code: JEQ_K, k: AF.UNIX, jf: 'eafnosupport' },
  );
  if (allowUnix) out.push({ code: JA, k: 0, to: 'allow' });
  else {
    // A connected stream or seqpacket pair can reach nothing else (connect: EISCONN; a sendto
    // address is refused or ignored). A datagram one can: sendto(path) and connect(path) re-aim
    // it at any host datagram socket file (syslog, journald, a daemon's control socket).
    out.push(
      { code: LD_W_ABS, k: OFF_ARG1_LOW },
      { code: AND_K, k: SOCK_TYPE_MASK },
      { code: JEQ_K, k: SOCK_STREAM, jt: 'allow' },
      { code: JEQ_K, k: SOCK_SEQPACKET, jt: 'allow', jf: 'eacces' },
    );
  }
  // A mode given with a set-ID bit (see SET_ID): EPERM; open(2)'s only where it makes a file.
  a.modes.forEach(([, modeArg, flagsArg], i) => {
    const first = out.length;
    if (flagsArg !== undefined) out.push({ code: LD_W_ABS, k: OFF_ARG0_LOW + 8 * flagsArg }, { code: JSET_K, k: OPEN_MAKES, jf: 'allow' });
    out.push({ code: LD_W_ABS, k: OFF_ARG0_LOW + 8 * modeArg }, { code: JSET_K, k: SET_ID, jt: 'eperm', jf: 'allow' });
    out[first]!.label = `${p}mode${i}`;
  });
  return out;
}

/**
 * The filter as bytes, for bubblewrap's --seccomp. Throws on an architecture it does not know.
 * `allowUnixSockets` (airlock run --allow-unix-sockets) adds AF_UNIX to the allowed families.
 */
export function seccompProgram(opts: { allowUnixSockets?: boolean } = {}, arch: string = process.arch): Buffer {
  const allowUnix = opts.allowUnixSockets === true;
  const spec = native[arch];
  if (!spec) throw new Error(`no seccomp filter for architecture ${arch}`);
  const insns: Insn[] = [
    { code: LD_W_ABS, k: OFF_ARCH },
    { code: JEQ_K, k: spec.main.audit, jf: 'compat' },
    ...archBlock(spec.main, allowUnix, 'main-'),
    // The accumulator still holds the arch here: a process of any third ABI is refused outright.
    { code: LD_W_ABS, k: OFF_ARCH, label: 'compat' },
    { code: JEQ_K, k: spec.compat.audit, jf: 'eperm' },
    ...archBlock(spec.compat, allowUnix, 'compat-'),
    { code: RET_K, k: RET_ALLOW, label: 'allow' },
    { code: RET_K, k: RET_ERRNO | EACCES, label: 'eacces' },
    { code: RET_K, k: RET_ERRNO | EPERM, label: 'eperm' },
    { code: RET_K, k: RET_ERRNO | ENOSYS, label: 'enosys' },
    { code: RET_K, k: RET_ERRNO | EAFNOSUPPORT, label: 'eafnosupport' },
    { code: RET_K, k: RET_ERRNO | EPROTONOSUPPORT, label: 'eprotonosupport' },
  ];
  const at = new Map<string, number>();
  insns.forEach((ins, i) => ins.label && at.set(ins.label, i));
  const buf = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, i) => {
    const offset = (l: string | undefined, max: number): number => {
      if (!l) return 0;
      const target = at.get(l);
      if (target === undefined) throw new Error(`seccomp label ${l} missing`);
      const off = target - (i + 1);
      if (off < 0 || off > max) throw new Error('seccomp jump out of range');
      return off;
    };
    buf.writeUInt16LE(ins.code, i * 8);
    buf.writeUInt8(offset(ins.jt, 255), i * 8 + 2);
    buf.writeUInt8(offset(ins.jf, 255), i * 8 + 3);
    buf.writeUInt32LE((ins.to ? offset(ins.to, 0xffffffff) : ins.k) >>> 0, i * 8 + 4);
  });
  return buf;
}
