/**
 * The bubblewrap command line of one environment (pure; see docs/sandbox.md for the reasoning).
 * Inside the jail a small shell starts socat relays from the jail's own loopback to the host's
 * unix sockets (the Runtime API on 127.0.0.1:9001, the Lamina API on 127.0.0.1:9002) and an inbound
 * relay the other way (a unix socket in a host folder, joined to a port inside the jail named by
 * the connection's first line), waits until the Runtime API relay listens, starts the external
 * extensions in /opt/extensions, waits for the platform's go when there are any, and then execs
 * the runtime.
 *
 * File descriptors between the platform and the jail's shell: 5 (out) carries control lines
 * (`start <name>`, `unlaunchable <name>`, `ready`, `exit <name> <code>`), 6 (in) the go for the runtime, 7 (out) the
 * extensions' stdout and stderr.
 */

/** Facts about the host the jail is built from. */
export interface HostLayout {
  /** Top-level folders that are symlinks on this host (merged /usr), e.g. `/bin` → `usr/bin`. */
  readonly symlinks: Readonly<Record<string, string>>;
  /** Top-level folders that are real directories to bind read-only (besides /usr). */
  readonly directories: readonly string[];
  /** Files and folders under /etc that runtimes need (TLS roots, the loader cache). */
  readonly etcEntries: readonly string[];
}

/** Everything the arguments depend on. */
export interface JailPlan {
  readonly layout: HostLayout;
  readonly codeDir: string;
  /** The function's merged layers for /opt, if it has any. */
  readonly optDir?: string | undefined;
  readonly runtimeDir: string | undefined;
  readonly langDir: string | undefined;
  /** Folder holding the generated passwd, group and hosts files. */
  readonly etcDir: string;
  readonly runtimeApiSocket: string;
  readonly laminaApiSocket: string | undefined;
  /** Host folder (writable by the jail's uid) where the inbound relay listens, if any. */
  readonly inboundDir?: string | undefined;
  readonly ephemeralStorageBytes: number;
  /** uid/gid the runtime sees inside the jail. */
  readonly jailUid: number;
  readonly jailGid: number;
  /** File descriptor number carrying the seccomp program, if any. */
  readonly seccompFd: number | undefined;
  readonly command: readonly string[];
}

export const RUNTIME_API_ADDRESS = '127.0.0.1:9001';
export const LAMINA_API_ADDRESS = '127.0.0.1:9002';
const RUN = '/run/lamina';
/** Where the inbound relay listens inside the jail (its folder is a host folder). */
export const INBOUND_SOCKET_NAME = 'inbound.sock';

/** Variables external extensions do not see (Lambda hides them from extensions). */
const HIDDEN_FROM_EXTENSIONS = [
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_XRAY_CONTEXT_MISSING',
  'AWS_XRAY_DAEMON_ADDRESS',
  'LAMBDA_RUNTIME_DIR',
  'LAMBDA_TASK_ROOT',
  '_AWS_XRAY_DAEMON_ADDRESS',
  '_AWS_XRAY_DAEMON_PORT',
  '_HANDLER',
];

/** The relay, extensions and exec script the jail's first process runs. */
export function jailScript(withLaminaApi: boolean, withInbound = false): string {
  const relay = (port: number, socket: string) =>
    `socat -lf /dev/null TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:${socket} 5>&- 6<&- 7>&- &`;
  // The first line of an inbound connection names the port; the shell reads it byte by byte.
  const inbound =
    `socat -lf /dev/null UNIX-LISTEN:${RUN}/inbound/${INBOUND_SOCKET_NAME},fork ` +
    `'SYSTEM:read p; exec socat -lf /dev/null STDIO TCP\\:127.0.0.1\\:$p' 5>&- 6<&- 7>&- &`;
  return [
    relay(9001, `${RUN}/runtime.sock`),
    withLaminaApi ? relay(9002, `${RUN}/api.sock`) : '',
    withInbound ? inbound : '',
    // 0100007F:2329 is 127.0.0.1:9001 in /proc/net/tcp; 0A is LISTEN.
    "until grep -q '0100007F:2329 00000000:0000 0A' /proc/net/tcp; do :; done",
    // The platform seals the inbound folder after init: its socket must exist by then.
    withInbound ? `until [ -S ${RUN}/inbound/${INBOUND_SOCKET_NAME} ]; do :; done` : '',
    'n=0',
    'for f in /opt/extensions/*; do',
    '  [ -f "$f" ] || continue',
    '  e=${f##*/}; n=$((n+1))',
    '  echo "start $e" >&5',
    '  [ -x "$f" ] || { echo "unlaunchable $e" >&5; continue; }',
    `  ( unset ${HIDDEN_FROM_EXTENSIONS.join(' ')}; "$f" >&7 2>&7 5>&- 7>&-; echo "exit $e $?" >&5 ) 6<&- &`,
    'done',
    'echo ready >&5',
    '[ "$n" = 0 ] || read _ <&6',
    'exec 5>&- 6<&- 7>&-',
    'exec "$@"',
  ]
    .filter((line) => line !== '')
    .join('\n');
}

/** bwrap arguments (without the `bwrap` itself). */
export function jailArguments(plan: JailPlan): string[] {
  const args = [
    '--unshare-user',
    '--unshare-ipc',
    '--unshare-pid',
    '--unshare-net',
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
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  for (const [path, target] of Object.entries(plan.layout.symlinks))
    args.push('--symlink', target, path);
  for (const dir of plan.layout.directories) args.push('--ro-bind', dir, dir);
  for (const entry of plan.layout.etcEntries) args.push('--ro-bind-try', entry, entry);
  for (const file of ['passwd', 'group', 'hosts'])
    args.push('--ro-bind', `${plan.etcDir}/${file}`, `/etc/${file}`);
  args.push('--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(plan.ephemeralStorageBytes), '--tmpfs', '/tmp');
  args.push('--ro-bind', plan.codeDir, '/var/task');
  if (plan.runtimeDir !== undefined) {
    args.push('--ro-bind', plan.runtimeDir, '/var/runtime');
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
  args.push('--ro-bind', plan.runtimeApiSocket, `${RUN}/runtime.sock`);
  if (plan.inboundDir !== undefined) args.push('--bind', plan.inboundDir, `${RUN}/inbound`);
  if (plan.laminaApiSocket !== undefined)
    args.push('--ro-bind', plan.laminaApiSocket, `${RUN}/api.sock`);
  args.push('--remount-ro', '/', '--chdir', '/var/task');
  if (plan.seccompFd !== undefined) args.push('--seccomp', String(plan.seccompFd));
  args.push(
    '--',
    '/bin/sh',
    '-c',
    jailScript(plan.laminaApiSocket !== undefined, plan.inboundDir !== undefined),
    'lamina-init',
    ...plan.command,
  );
  return args;
}
