/**
 * The bubblewrap command line of one environment (pure; see docs/sandbox.md for the reasoning).
 * Inside the jail a small shell starts socat relays from the jail's own loopback to the host's
 * unix sockets (the Runtime API on 127.0.0.1:9001, the Lamina API on 127.0.0.1:9002, the OTLP
 * endpoint on 127.0.0.1:9003 with `--otlp-endpoint`, allow-listed host services on
 * 127.0.0.2:<port>, which /etc/hosts names host.lamina.internal) and inbound tunnels the other way
 * (connections offered to the platform's inbound socket, each joined to the port inside the jail
 * that the platform names on its first line), waits until the Runtime API relay listens, starts the external extensions in /opt/extensions, waits for the platform's go
 * when there are any, and then execs the runtime.
 *
 * File descriptors between the platform and the jail's shell: 5 (out) carries control lines
 * (`start <name>`, `unlaunchable <name>`, `ready`, `exit <name> <code>`), 6 (in) the go for the runtime, 7 (out) the
 * extensions' stdout and stderr.
 */
import { OTLP_ADDRESS } from '../environment/environment-variables.js';
import { extensionLaunchLines } from './extension-launch-script.js';

/** Facts about the host the jail is built from. */
export interface HostLayout {
  /** Top-level folders that are symlinks on this host (merged /usr), e.g. `/bin` → `usr/bin`. */
  readonly symlinks: Readonly<Record<string, string>>;
  /** Top-level folders that are real directories to bind read-only (besides /usr). */
  readonly directories: readonly string[];
  /** Files and folders under /etc that runtimes need (TLS roots, the loader cache). */
  readonly etcEntries: readonly string[];
  /**
   * The host's dynamic loader and its library folder, both under /usr (merged /usr): an image's
   * jail runs the host's shell and socat through them from /run/lamina/host/usr, whatever C
   * library the image has. None: this host cannot run image functions.
   */
  readonly loader?: { readonly path: string; readonly libraryPath: string } | undefined;
}

/** Where an image's jail sees the host's /usr (for the relay's shell and socat). */
export const HOST_USR = '/run/lamina/host/usr';

/** Everything the arguments depend on. */
export interface JailPlan {
  readonly layout: HostLayout;
  readonly codeDir: string;
  /** The function's merged layers for /opt, if it has any. */
  readonly optDir?: string | undefined;
  readonly runtimeDir: string | undefined;
  /** node_modules shown over /var/runtime/node_modules (the AWS SDK bundle), if any. */
  readonly modulesDir?: string | undefined;
  readonly langDir: string | undefined;
  /**
   * File descriptors (as bubblewrap sees them) of the generated passwd, group and hosts files:
   * copied into the jail (`--ro-bind-data`), so no host path of them shows in its mount table.
   */
  readonly etcFds: {
    readonly passwd: number;
    readonly group: number;
    readonly hosts: number;
    readonly 'resolv.conf': number;
  };
  readonly runtimeApiSocket: string;
  readonly laminaApiSocket: string | undefined;
  /** Host unix socket the inbound tunnels connect out to, if any. */
  readonly inboundSocket?: string | undefined;
  /** Allow-listed host services: a listener on host.lamina.internal:<port> relayed to each. */
  readonly hostServices?: readonly { readonly port: number; readonly socket: string }[] | undefined;
  /** Host unix socket of the OTLP endpoint, relayed to OTLP_ADDRESS inside, if any. */
  readonly otlpSocket?: string | undefined;
  readonly ephemeralStorageBytes: number;
  /**
   * Host folders backing /tmp and /dev/shm, sharing one EphemeralStorage-sized file system on
   * disk; without them both are tmpfs mounts in memory (/tmp of EphemeralStorage, /dev/shm of
   * `SHM_FALLBACK_BYTES`).
   */
  readonly ephemeral?: { readonly tmpDir: string; readonly shmDir: string } | undefined;
  /** uid/gid the runtime sees inside the jail. */
  readonly jailUid: number;
  readonly jailGid: number;
  /** File descriptor number carrying the seccomp program, if any. */
  readonly seccompFd: number | undefined;
  /**
   * Whether the jail starts inside a network namespace the platform made for it (egress); else
   * bubblewrap makes an empty one (loopback only).
   */
  readonly ownNetwork?: boolean | undefined;
  /** Variables set inside the jail only (see `splitEnvironment`). */
  readonly jailOnlyEnv?: Readonly<Record<string, string>> | undefined;
  readonly command: readonly string[];
  /** An image function's root file system, shown read-only as `/` (needs `layout.loader`). */
  readonly rootDir?: string | undefined;
  /** The folder the command starts in (none: /var/task, or / for an image). */
  readonly workingDirectory?: string | undefined;
}

/** What the C library's loader and start-up, or a shell, read from the environment. */
const LOADER_VARIABLES = new Set([
  'BASH_ENV',
  'BASHOPTS',
  'ENV',
  'GETCONF_DIR',
  'GLIBC_TUNABLES',
  'HOSTALIASES',
  'IFS',
  'LOCALDOMAIN',
  'LOCPATH',
  'NIS_PATH',
  'NLSPATH',
  'PS4',
  'RESOLV_HOST_CONF',
  'RES_OPTIONS',
  'SHELLOPTS',
  'TMPDIR',
  'TZDIR',
]);

/**
 * Splits an environment's variables into those the programs that build the jail may inherit and
 * those only the jail may have: a function's `LD_PRELOAD`, `LD_LIBRARY_PATH` or `GCONV_PATH` (all
 * of `LD_*`, `GCONV*`, `MALLOC_*` and LOADER_VARIABLES) would load its code into `nsenter` or
 * `setpriv` running as root, or into bubblewrap before the jail exists. bubblewrap sets those
 * inside the jail (`--setenv`), where the function's own processes start.
 */
export function splitEnvironment(env: Readonly<Record<string, string>>): {
  readonly outside: Record<string, string>;
  readonly inside: Record<string, string>;
} {
  const outside: Record<string, string> = {};
  const inside: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    const jailOnly =
      LOADER_VARIABLES.has(key) ||
      key.startsWith('LD_') ||
      key.startsWith('GCONV') ||
      key.startsWith('MALLOC_');
    (jailOnly ? inside : outside)[key] = value;
  }
  return { outside, inside };
}

export const RUNTIME_API_ADDRESS = '127.0.0.1:9001';
export const LAMINA_API_ADDRESS = '127.0.0.1:9002';
const OTLP_PORT = Number(OTLP_ADDRESS.split(':')[1]);
/** Where host.lamina.internal points inside a jail (its own loopback; see /etc/hosts). */
export const HOST_SERVICES_ADDRESS = '127.0.0.2';
const RUN = '/run/lamina';
/** /dev/shm when it cannot share the EphemeralStorage file system (Docker's default size). */
export const SHM_FALLBACK_BYTES = 64 * 1024 * 1024;
/** Connection attempts (1 ms apart) made while waiting for the Runtime API relay to listen. */
const RELAY_WAIT_TRIES = 5000;
/** Connections the jail keeps offered to the platform at once (deliveries take turns). */
const INBOUND_TUNNELS = 1;

/** The relay, extensions and exec script the jail's first process runs. */
export function jailScript(
  withLaminaApi: boolean,
  withInbound = false,
  hostServicePorts: readonly number[] = [],
  tools: { readonly socat: string; readonly sleep: string } = { socat: 'socat', sleep: 'sleep' },
  withOtlp = false,
): string {
  const socat = tools.socat;
  const relay = (port: number, socket: string, address = '127.0.0.1') =>
    `${socat} -lf /dev/null TCP-LISTEN:${port},bind=${address},reuseaddr,fork UNIX-CONNECT:${socket} 5>&- 6<&- 7>&- &`;
  // Each tunnel connects out and waits; the platform's first line names the port to join, read
  // byte by byte by the shell. A refused or failed offer waits a second before the next.
  const tunnel =
    `while :; do ${socat} -lf /dev/null UNIX-CONNECT:${RUN}/inbound.sock ` +
    `'SYSTEM:read p || exit; exec ${socat} -lf /dev/null STDIO TCP\\:127.0.0.1\\:$p' || ${tools.sleep} 1; done`;
  const tunnels = Array.from({ length: INBOUND_TUNNELS }, () => `(${tunnel}) 5>&- 6<&- 7>&- &`);
  return [
    relay(9001, `${RUN}/runtime.sock`),
    withLaminaApi ? relay(9002, `${RUN}/api.sock`) : '',
    withOtlp ? relay(OTLP_PORT, `${RUN}/otlp.sock`) : '',
    ...hostServicePorts.map((port) =>
      relay(port, `${RUN}/host-${port}.sock`, HOST_SERVICES_ADDRESS),
    ),
    ...(withInbound ? tunnels : []),
    // Waits for the Runtime API relay to listen without spinning: one socat connects to it,
    // sleeping 1 ms between refused attempts (the relayed connection closes at once, unused).
    `${socat} -u -lf /dev/null OPEN:/dev/null TCP:${RUNTIME_API_ADDRESS},retry=${RELAY_WAIT_TRIES},interval=0.001 5>&- 6<&- 7>&-`,
    ...extensionLaunchLines('/opt/extensions'),
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** bwrap arguments (without the `bwrap` itself). */
export function jailArguments(plan: JailPlan): string[] {
  return plan.rootDir === undefined
    ? hostJailArguments(plan)
    : imageJailArguments(plan, plan.rootDir);
}

/** The namespaces, identity and session every jail starts with. */
function isolation(plan: JailPlan): string[] {
  return [
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    ...(plan.ownNetwork === true ? [] : ['--unshare-net']),
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--uid',
    String(plan.jailUid),
    '--gid',
    String(plan.jailGid),
    '--hostname',
    'lamina',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
  ];
}

/** /etc's generated files, /proc, /dev, /tmp and /dev/shm: the same in every jail. */
function systemMounts(plan: JailPlan, args: string[]): void {
  for (const file of ['passwd', 'group', 'hosts', 'resolv.conf'] as const)
    args.push('--ro-bind-data', String(plan.etcFds[file]), `/etc/${file}`);
  args.push('--proc', '/proc', '--dev', '/dev');
  if (plan.ephemeral !== undefined) {
    args.push('--bind', plan.ephemeral.tmpDir, '/tmp', '--bind', plan.ephemeral.shmDir, '/dev/shm');
  } else {
    args.push('--perms', '1777', '--size', String(plan.ephemeralStorageBytes), '--tmpfs', '/tmp');
    args.push('--perms', '1777', '--size', String(SHM_FALLBACK_BYTES), '--tmpfs', '/dev/shm');
  }
  // bubblewrap's /dev is a writable tmpfs of half the host's memory: only its nodes are needed.
  args.push('--remount-ro', '/dev');
}

/** The platform's sockets under /run/lamina. */
function socketMounts(plan: JailPlan, args: string[]): void {
  args.push('--ro-bind', plan.runtimeApiSocket, `${RUN}/runtime.sock`);
  if (plan.inboundSocket !== undefined)
    args.push('--ro-bind', plan.inboundSocket, `${RUN}/inbound.sock`);
  if (plan.laminaApiSocket !== undefined)
    args.push('--ro-bind', plan.laminaApiSocket, `${RUN}/api.sock`);
  for (const service of plan.hostServices ?? [])
    args.push('--ro-bind', service.socket, `${RUN}/host-${service.port}.sock`);
  if (plan.otlpSocket !== undefined) args.push('--ro-bind', plan.otlpSocket, `${RUN}/otlp.sock`);
}

/** The seccomp filter, the jail-only variables and the first process. */
function start(
  plan: JailPlan,
  args: string[],
  shell: readonly string[],
  tools?: Parameters<typeof jailScript>[3],
): string[] {
  if (plan.seccompFd !== undefined) args.push('--seccomp', String(plan.seccompFd));
  for (const [key, value] of Object.entries(plan.jailOnlyEnv ?? {}))
    args.push('--setenv', key, value);
  args.push(
    '--',
    ...shell,
    '-c',
    jailScript(
      plan.laminaApiSocket !== undefined,
      plan.inboundSocket !== undefined,
      (plan.hostServices ?? []).map((service) => service.port),
      tools,
      plan.otlpSocket !== undefined,
    ),
    'lamina-init',
    ...plan.command,
  );
  return args;
}

/**
 * An image function's jail: the image's root file system as `/`, read-only (its mount points were
 * made when it was unpacked), /run/lamina a small tmpfs with the platform's sockets and the host's
 * /usr (whose shell and socat run the relays through the host's own loader).
 */
function imageJailArguments(plan: JailPlan, rootDir: string): string[] {
  const loader = plan.layout.loader;
  if (loader === undefined)
    throw new Error('this host cannot run image functions (no loader under /usr)');
  const args = [...isolation(plan), '--ro-bind', rootDir, '/'];
  systemMounts(plan, args);
  args.push('--perms', '0755', '--size', String(1024 * 1024), '--tmpfs', RUN);
  args.push('--ro-bind', '/usr', HOST_USR);
  socketMounts(plan, args);
  args.push('--remount-ro', RUN, '--chdir', plan.workingDirectory ?? '/');
  const host = (path: string) => `${HOST_USR}${path.slice('/usr'.length)}`;
  const run = (program: string) =>
    `${host(loader.path)} --inhibit-cache --library-path ${host(loader.libraryPath)} ${host(program)}`;
  return start(plan, args, run('/usr/bin/dash').split(' '), {
    socat: run('/usr/bin/socat'),
    sleep: run('/usr/bin/sleep'),
  });
}

/** A zip function's jail: the host's /usr, the code at /var/task, layers at /opt. */
function hostJailArguments(plan: JailPlan): string[] {
  const args = [...isolation(plan), '--ro-bind', '/usr', '/usr'];
  for (const [path, target] of Object.entries(plan.layout.symlinks))
    args.push('--symlink', target, path);
  for (const dir of plan.layout.directories) args.push('--ro-bind', dir, dir);
  for (const entry of plan.layout.etcEntries) args.push('--ro-bind-try', entry, entry);
  systemMounts(plan, args);
  args.push('--ro-bind', plan.codeDir, '/var/task');
  if (plan.runtimeDir !== undefined) {
    args.push('--ro-bind', plan.runtimeDir, '/var/runtime');
    if (plan.modulesDir !== undefined)
      args.push('--ro-bind', plan.modulesDir, '/var/runtime/node_modules');
    // ES modules ignore NODE_PATH: packages the runtime ships (the AWS SDK) are found by walking up
    // from /var/task, which ends at /node_modules.
    args.push('--symlink', '/var/runtime/node_modules', '/node_modules');
  }
  if (plan.langDir !== undefined) args.push('--ro-bind', plan.langDir, '/var/lang');
  if (plan.optDir === undefined) args.push('--dir', '/opt');
  else {
    args.push('--ro-bind', plan.optDir, '/opt');
    // ES modules ignore NODE_PATH; the walk up from /var/task passes /var/node_modules before
    // /node_modules, so layer packages are found first, as NODE_PATH orders them.
    args.push('--symlink', '/opt/nodejs/node_modules', '/var/node_modules');
  }
  socketMounts(plan, args);
  args.push('--remount-ro', '/', '--chdir', plan.workingDirectory ?? '/var/task');
  return start(plan, args, ['/bin/sh']);
}
