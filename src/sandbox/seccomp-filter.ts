/**
 * The seccomp filter every environment runs under, as a classic BPF program for bubblewrap's
 * `--seccomp FD`. It denies (EPERM) what a function never needs: mounting, module loading,
 * kexec/reboot, tracing other processes, the kernel keyring, bpf/perf, io_uring, clock setting, new
 * namespaces (unshare, setns, clone with CLONE_NEW*), and the x32 ABI; clone3 answers ENOSYS so
 * libc falls back to clone, whose flags can be inspected. Other architectures are killed.
 */

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;
const CLONE_NAMESPACE_FLAGS = 0x7e020080;

/** x86_64 syscall numbers denied with EPERM. */
export const DENIED_X86_64: Readonly<Record<string, number>> = {
  ptrace: 101,
  syslog: 103,
  vhangup: 153,
  pivot_root: 155,
  adjtimex: 159,
  chroot: 161,
  acct: 163,
  settimeofday: 164,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  lookup_dcookie: 212,
  clock_settime: 227,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  clock_adjtime: 305,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  // io_uring bypasses seccomp for the operations it queues and has a long record of kernel
  // escalations; container runtimes deny it too, and runtimes fall back to ordinary syscalls.
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
};

const CLONE = 56;
const CLONE3 = 435;

type Instruction = {
  code: number;
  jt: number | string;
  jf: number | string;
  k: number;
  label?: string;
};

/** Whether this host's architecture has a filter (x86_64 only so far). */
export function seccompSupported(arch = process.arch): boolean {
  return arch === 'x64';
}

/** The filter as bytes of `struct sock_filter[]` in the host's byte order (little endian). */
export function buildSeccompFilter(): Buffer {
  const program: Instruction[] = [
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 4 },
    { code: BPF_JEQ_K, jt: 0, jf: 'kill', k: AUDIT_ARCH_X86_64 },
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 0 },
    { code: BPF_JGE_K, jt: 'eperm', jf: 0, k: X32_SYSCALL_BIT },
    { code: BPF_JEQ_K, jt: 'enosys', jf: 0, k: CLONE3 },
    ...Object.values(DENIED_X86_64).map((nr) => ({ code: BPF_JEQ_K, jt: 'eperm', jf: 0, k: nr })),
    { code: BPF_JEQ_K, jt: 0, jf: 'allow', k: CLONE },
    // clone's flags are its first argument; the low 32 bits sit at offset 16 on little endian.
    { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 16 },
    { code: BPF_JSET_K, jt: 'eperm', jf: 'allow', k: CLONE_NAMESPACE_FLAGS },
    { code: BPF_RET_K, jt: 0, jf: 0, k: RET_ALLOW, label: 'allow' },
    { code: BPF_RET_K, jt: 0, jf: 0, k: RET_ERRNO | EPERM, label: 'eperm' },
    { code: BPF_RET_K, jt: 0, jf: 0, k: RET_ERRNO | ENOSYS, label: 'enosys' },
    { code: BPF_RET_K, jt: 0, jf: 0, k: RET_KILL_PROCESS, label: 'kill' },
  ];
  const labels = new Map(
    program.flatMap((ins, i) => (ins.label === undefined ? [] : [[ins.label, i] as const])),
  );
  const offset = (target: number | string, at: number): number => {
    if (typeof target === 'number') return target;
    const to = labels.get(target);
    if (to === undefined || to - at - 1 > 255) throw new Error(`bad jump to ${target}`);
    return to - at - 1;
  };
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(offset(ins.jt, i), i * 8 + 2);
    out.writeUInt8(offset(ins.jf, i), i * 8 + 3);
    out.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return out;
}
