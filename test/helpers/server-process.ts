/**
 * Starts the built `lamina server` as a child process on a free port and a temp data directory,
 * waiting for its readiness line (never sleeping), racing it against an early exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTestRoles } from './test-roles.js';

/** The repository root (tests run from dist/test/...). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export const TEST_CREDENTIALS = {
  accessKeyId: 'LKIATESTTESTTEST0001',
  secretAccessKey: 'test-secret-key-for-lamina-tests-only-000',
};

/** A running server process. */
export interface ServerProcess {
  readonly endpoint: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** Everything the process printed on stdout so far. */
  output(): string;
  /** Sends a signal and resolves with the exit code (or signal name) once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface StartOptions {
  readonly dataDir?: string;
  readonly args?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** A cgroup folder (e.g. a v1 pids cgroup) the server process joins before it starts. */
  readonly cgroup?: string;
  /** An unprivileged host user the server runs as (its data directory is made theirs). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** Whether to make the execution roles test functions name (default: yes; test-roles.ts). */
  readonly testRoles?: boolean;
}

/** The unprivileged user tests run servers as (nobody, nogroup). */
export const UNPRIVILEGED_USER = { uid: 65_534, gid: 65_534 } as const;

/**
 * Makes a fresh temp directory, removed by the returned cleanup. It is made searchable by others
 * (0711), as a data directory must be for the sandbox's unprivileged user to reach the code.
 */
export function tempDir(prefix = 'lamina-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(path, 0o711);
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDir().path;
  const user = options.user;
  if (user !== undefined) chownSync(dataDir, user.uid, user.gid);
  const command = [
    process.execPath,
    join(REPO_ROOT, 'bin/lamina.js'),
    'server',
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'warn',
    ...(options.args ?? []),
  ];
  const joined =
    options.cgroup === undefined
      ? command
      : ['/bin/sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', options.cgroup, ...command];
  const child = spawn(joined[0] as string, joined.slice(1), {
    cwd: REPO_ROOT,
    ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
    env: {
      ...process.env,
      ...(user === undefined ? {} : { HOME: dataDir }),
      LAMINA_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      LAMINA_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit(code ?? signal ?? 'unknown')),
  );
  const endpoint = await new Promise<string>((resolveReady, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /Lamina is listening on (\S+)/.exec(stdout);
      if (match?.[1] !== undefined) resolveReady(match[1]);
    });
    void exited.then((code) =>
      reject(new Error(`lamina server exited (${code}) before it was ready:\n${stderr}${stdout}`)),
    );
  });
  if (options.testRoles !== false) {
    await ensureTestRoles(endpoint, {
      accessKeyId: options.env?.['LAMINA_ACCESS_KEY_ID'] ?? TEST_CREDENTIALS.accessKeyId,
      secretAccessKey:
        options.env?.['LAMINA_SECRET_ACCESS_KEY'] ?? TEST_CREDENTIALS.secretAccessKey,
    });
  }
  return {
    endpoint,
    dataDir,
    child,
    output: () => stdout,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
