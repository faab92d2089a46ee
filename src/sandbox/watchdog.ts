/**
 * A small process that outlives the server to end its environments if the server dies without a
 * clean stop (kill -9, a crash, the OOM killer). bubblewrap's `--die-with-parent` cannot act on a
 * frozen environment (a frozen task does not run its SIGKILL until thawed), and nothing else would
 * thaw it, so without this a killed server leaves every idle environment alive.
 *
 * The watchdog is a shell in a session of its own, ignoring the terminal's signals, that waits on
 * a pipe from the server. A clean stop writes `disarm` and it exits; when the pipe closes without
 * it (the server is gone), it thaws every cgroup of the server's environments, kills their
 * processes until none is left, removes the cgroups, unmounts what the server mounted and removes
 * what it made on disk (named by prefixes). The next server start sweeps whatever remains.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** What the watchdog ends, named by the server's pid in each place. */
export interface WatchdogPlan {
  /** The server's pid: its environments' cgroups are `<pid>.*` in each base. */
  readonly serverPid: number;
  /** Folders holding environment cgroups (one per controller on v1, one on v2). */
  readonly cgroupBases: readonly string[];
  /** The v1 freezer base (thawed first), if any. */
  readonly freezerBase?: string | undefined;
  /** Whether the bases are cgroup v2 (`cgroup.kill` ends a whole cgroup, frozen or not). */
  readonly v2: boolean;
  /**
   * Path prefixes of what the server made on disk (its run folder; `<storage root>/<pid>.` for
   * its ephemeral file systems): mounts under them are lazily unmounted, then everything whose
   * path starts with one is removed.
   */
  readonly prefixes: readonly string[];
}

export interface Watchdog {
  /**
   * The server stops cleanly: the watchdog exits without touching anything. Resolves once it has
   * exited, so that a stopped server leaves no process of its own behind.
   */
  disarm(): Promise<void>;
}

/** The watchdog's script (pure; `$1` is the server pid, the rest come from the plan). */
export function watchdogScript(plan: WatchdogPlan): string {
  // Everything under a prefix is deleted: only absolute paths below a folder of the root qualify.
  for (const prefix of plan.prefixes) {
    if (!/^\/[^/]+\/./.test(prefix)) throw new Error(`not a safe watchdog prefix: ${prefix}`);
  }
  const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;
  const bases = plan.cgroupBases.map(quote).join(' ');
  const prefixes = plan.prefixes.map(quote).join(' ');
  const pid = String(plan.serverPid);
  const thaw = plan.v2
    ? `for d in ${bases}; do for c in "$d"/${pid}.*; do [ -d "$c" ] && echo 1 > "$c/cgroup.kill"; done; done 2>/dev/null`
    : plan.freezerBase === undefined
      ? ':'
      : `for c in ${quote(plan.freezerBase)}/${pid}.*; do [ -d "$c" ] && echo THAWED > "$c/freezer.state"; done 2>/dev/null`;
  return [
    "trap '' INT TERM HUP QUIT PIPE",
    'read line',
    '[ "$line" = disarm ] && exit 0',
    // Kill until the cgroups are empty and gone (processes may fork while they die).
    'n=0',
    'while [ $n -lt 200 ]; do',
    '  n=$((n+1)); left=0',
    `  ${thaw}`,
    `  for d in ${bases}; do for c in "$d"/${pid}.*; do`,
    '    [ -d "$c" ] || continue; left=1',
    '    while read p; do kill -9 "$p"; done < "$c/cgroup.procs" 2>/dev/null',
    '    rmdir "$c" 2>/dev/null',
    '  done; done',
    '  [ $left = 0 ] && break',
    '  sleep 0.05',
    'done',
    // Three passes: a mount the server started just before it died may complete after the first.
    'for pass in 1 2 3; do',
    `  for f in ${prefixes}; do`,
    // Mount points under the prefix, deepest first (octal escapes in mountinfo are left as is).
    `    awk -v f="$f" 'index($5, f) == 1 { print $5 }' /proc/self/mountinfo | sort -r |`,
    '      while read m; do umount -l "$m"; done 2>/dev/null',
    '    rm -rf "$f"*',
    '  done',
    '  [ $pass = 3 ] || sleep 0.5',
    'done',
  ].join('\n');
}

/** Starts the watchdog for `plan`; it keeps running after this process, until told or orphaned. */
export function startWatchdog(plan: WatchdogPlan): Watchdog {
  const child: ChildProcess = spawn('/bin/sh', ['-c', watchdogScript(plan), 'lamina-watchdog'], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.unref();
  child.on('error', () => undefined);
  const pipe = child.stdin;
  pipe?.on('error', () => undefined);
  // The pipe must not keep the event loop alive, only the watchdog waiting.
  (pipe as unknown as { unref?: () => void } | null)?.unref?.();
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else {
      child.once('exit', () => resolve());
      // Never started: there is nothing to wait for.
      child.once('error', () => resolve());
    }
  });
  return {
    disarm: () => {
      // Waited for: held open until the watchdog has read its word and gone.
      child.ref();
      pipe?.end('disarm\n');
      return exited;
    },
  };
}
