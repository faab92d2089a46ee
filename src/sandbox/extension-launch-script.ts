/**
 * The end of every environment's first script (a jail's, or a plain process's): starts the
 * external extensions of a folder, tells the platform on file descriptor 5 (`start <name>`,
 * `unlaunchable <name>`, `exit <name> <code>`, then `ready`), waits for the go on 6 when there are
 * any, sends their output to 7, and execs the runtime (the script's arguments).
 */

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

/** Shell lines that launch the extensions in `dir` (a path without quotes) and exec the runtime. */
export function extensionLaunchLines(dir: string): string[] {
  if (/['\n]/.test(dir)) throw new Error(`not a usable extensions folder: ${dir}`);
  return [
    'n=0',
    `for f in '${dir}'/*; do`,
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
  ];
}
