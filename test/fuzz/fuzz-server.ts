/**
 * The server under fuzzing: the built `lamina server` as a child process (test credentials, a temp
 * data directory, port 0), its resident memory read from /proc while it runs, the error lines it
 * logs, and the checks made once the load stops (alive, a signed ListFunctions, a warm invoke).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startServer,
  tempDir,
  TEST_CREDENTIALS,
  type ServerProcess,
} from '../helpers/server-process.js';
import { HttpSender, type HttpAnswer } from './http-sender.js';
import { mountsGone } from '../helpers/poll.js';

/** Error lines kept from the server's log (pino level 50 and above), most recent last. */
const KEPT_ERROR_LINES = 30;
/** Last lines of everything the server printed (a crash's stack trace is not a log record). */
const KEPT_OUTPUT_LINES = 40;

export interface FuzzServer {
  readonly endpoint: string;
  readonly pid: number;
  readonly process: ServerProcess;
  /** A sender for control requests of the harness itself (deploys, checks). */
  readonly control: HttpSender;
  alive(): boolean;
  /** Calls `listener` when the process exits (however it exits). */
  onExit(listener: () => void): void;
  rssMiB(): number;
  /** CPU time the server process has used so far (user + system), in seconds. */
  cpuSeconds(): number;
  errorLines(): readonly string[];
  /** The last lines the server printed, log records or not. */
  outputTail(): readonly string[];
  /** Every environment's Runtime API socket that exists right now. */
  runtimeSockets(): string[];
  /** SIGTERM, then SIGKILL if it has not exited 20 s later; once (later calls share the result). */
  stop(): Promise<Shutdown>;
}

export interface Shutdown {
  readonly exit: number | string;
  readonly ms: number;
  /** SIGTERM was not enough. */
  readonly killed: boolean;
}

const STOP_GRACE_MS = 20_000;

export async function startFuzzServer(args: readonly string[] = []): Promise<FuzzServer> {
  const data = tempDir('lamina-fuzz-');
  const server = await startServer({ dataDir: data.path, args });
  const pid = server.child.pid;
  if (pid === undefined) throw new Error('the server has no process id');
  const errors: string[] = [];
  const output: string[] = [];
  const keepErrors = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line === '') continue;
      output.push(line.slice(0, 2000));
      if (output.length > KEPT_OUTPUT_LINES) output.shift();
      if (!/"level":(5\d|6\d)/.test(line)) continue;
      errors.push(line.slice(0, 2000));
      if (errors.length > KEPT_ERROR_LINES) errors.shift();
    }
  };
  server.child.stdout?.on('data', keepErrors);
  server.child.stderr?.on('data', keepErrors);
  const control = new HttpSender(server.endpoint, { connections: 8, timeoutMs: 60_000 });
  const alive = () => server.child.exitCode === null && server.child.signalCode === null;
  let stopping: Promise<Shutdown> | undefined;
  const stop = async (): Promise<Shutdown> => {
    const started = Date.now();
    await control.close();
    let killed = false;
    const grace = setTimeout(() => {
      killed = true;
      server.child.kill('SIGKILL');
    }, STOP_GRACE_MS);
    const exit = await server.stop();
    clearTimeout(grace);
    // A server that crashed or was killed leaves its mounts (ephemeral file systems, its run
    // folder) to its watchdog, which unmounts and removes them in the background.
    await mountsGone(data.path).catch(() => undefined);
    for (const run of runFolders(pid)) await mountsGone(run).catch(() => undefined);
    data.remove();
    for (const run of runFolders(pid)) rmSync(run, { recursive: true, force: true });
    return { exit, ms: Date.now() - started, killed };
  };
  return {
    endpoint: server.endpoint,
    pid,
    process: server,
    control,
    alive,
    onExit: (listener) => void server.child.once('exit', listener),
    rssMiB: () => rssMiB(pid),
    cpuSeconds: () => cpuSeconds(pid),
    errorLines: () => [...errors],
    outputTail: () => [...output],
    runtimeSockets: () => runtimeSockets(pid),
    stop: () => (stopping ??= stop()),
  };
}

/** The resident memory of a process in MiB, from /proc (NaN once it is gone). */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) / 1024;
  } catch {
    return NaN;
  }
}

/** utime + stime of a process in seconds, from /proc/<pid>/stat (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

/**
 * The server's run folder is `<tmpdir>/lamina-<pid>-<8 chars>/`, and each environment's Runtime API
 * socket is `envs/<environment id>/runtime.sock` in it.
 */
export function runtimeSockets(pid: number): string[] {
  const sockets: string[] = [];
  for (const run of runFolders(pid)) {
    let envs: string[] = [];
    try {
      envs = readdirSync(join(run, 'envs'));
    } catch {
      continue;
    }
    for (const env of envs) sockets.push(join(run, 'envs', env, 'runtime.sock'));
  }
  return sockets;
}

/** The run folders of the server with this process id. */
function runFolders(pid: number): string[] {
  const pattern = new RegExp(`^lamina-${pid}-[0-9a-f]{8}$`);
  return readdirSync(tmpdir())
    .filter((name) => pattern.test(name))
    .map((name) => join(tmpdir(), name));
}

/** Samples a process's memory every `intervalMs` while the load runs; keeps the peak. */
export class RssWatch {
  peakMiB = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(read: () => number, intervalMs = 250) {
    const sample = () => {
      const now = read();
      if (now > this.peakMiB) this.peakMiB = now;
    };
    sample();
    this.#timer = setInterval(sample, intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

export const CREDENTIALS = TEST_CREDENTIALS;

/** A signed request of the harness (not a fuzz case): method, path, JSON or raw body. */
export function controlRequest(
  server: FuzzServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const bytes =
    body === undefined
      ? Buffer.alloc(0)
      : Buffer.isBuffer(body)
        ? body
        : Buffer.from(JSON.stringify(body));
  return server.control.send(
    {
      method,
      path,
      query: [],
      headers: { 'content-type': 'application/json', ...headers },
      body: bytes,
    },
    { credentials: CREDENTIALS },
  );
}
