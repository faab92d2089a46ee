/**
 * SandboxDriver without a sandbox: each environment is a plain process tree of the server's own
 * user, on the host's file system and network. For tests and for developing on machines without
 * bubblewrap, and only when asked for by `--unsafe-plain-processes`: a function can read and
 * write whatever the server can, and nothing limits its memory, CPU or processes.
 *
 * What a jail shows at fixed places is told by path instead: the command and the environment are
 * rewritten so that /var/task, /opt, /var/runtime, /var/lang and the Runtime API's socket name
 * the host folders, and 127.0.0.1:9001 (9002, 9003) a loopback relay of the environment's own. The same
 * script as in a jail launches the external extensions (from the layers' `extensions` folder).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  OTLP_ADDRESS,
  RUNTIME_API,
  RUNTIME_API_SOCKET,
} from '../environment/environment-variables.js';
import type {
  Sandbox,
  SandboxDriver,
  SandboxExit,
  SandboxSpec,
} from '../environment/sandbox-driver.js';
import { extensionLaunchLines } from './extension-launch-script.js';
import type { ExtensionControl } from './extension-control.js';
import { readEnvironmentPipes } from './environment-pipes.js';
import { jailPathRewriter, rewriteLaunch, type JailMapping } from './jail-path-map.js';
import { LAMINA_API_ADDRESS } from './jail-arguments.js';
import { offerInbound, openLoopbackRelay, type LoopbackRelay } from './loopback-relays.js';

/** What every server using this driver prints at start. */
export const PLAIN_PROCESS_LIMITATIONS: readonly string[] = [
  'UNSAFE: functions run as plain processes of the server user, with no isolation (--unsafe-plain-processes)',
  'no memory, CPU, process or storage limits; /tmp is the host one; Max Memory Used is the runtime process peak',
  "each environment's Runtime API is relayed on a loopback TCP port that every local user can reach",
  'environments are not ended by a watchdog: if the server is killed, they keep running',
];

/**
 * How long an ended environment's output may take to be read to its end (a process that left
 * the group could hold the pipes open for ever).
 */
const OUTPUT_DRAIN_MS = 1000;

export class PlainProcessDriver implements SandboxDriver {
  /** The empty folder that stands for /opt for environments without layers. */
  readonly #emptyOpt: string;

  /** `runDir`: where the empty folder standing for /opt is made. */
  constructor(runDir: string) {
    this.#emptyOpt = join(runDir, 'empty-opt');
    mkdirSync(this.#emptyOpt, { recursive: true });
  }

  limitations(): readonly string[] {
    return PLAIN_PROCESS_LIMITATIONS;
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    if (spec.rootDir !== undefined)
      throw new Error(
        'image functions need the bubblewrap sandbox: a plain process cannot have the image as its root',
      );
    const relays: LoopbackRelay[] = [];
    let inbound: { close(): void } | undefined;
    const closeRelays = () => {
      for (const relay of relays) relay.close();
      inbound?.close();
    };
    try {
      const runtimeApi = await openLoopbackRelay(spec.runtimeApiSocket);
      relays.push(runtimeApi);
      const laminaApi =
        spec.laminaApiSocket === undefined
          ? undefined
          : await openLoopbackRelay(spec.laminaApiSocket);
      if (laminaApi !== undefined) relays.push(laminaApi);
      const otlp =
        spec.otlpSocket === undefined ? undefined : await openLoopbackRelay(spec.otlpSocket);
      if (otlp !== undefined) relays.push(otlp);
      const optDir = spec.optDir ?? this.#emptyOpt;
      const mappings: JailMapping[] = [
        { inside: '/var/task', host: spec.codeDir },
        { inside: '/opt', host: optDir },
        { inside: RUNTIME_API_SOCKET, host: spec.runtimeApiSocket },
        { inside: RUNTIME_API, host: `127.0.0.1:${runtimeApi.port}` },
      ];
      if (spec.runtimeDir !== undefined)
        mappings.push({ inside: '/var/runtime', host: spec.runtimeDir });
      if (spec.langDir !== undefined) mappings.push({ inside: '/var/lang', host: spec.langDir });
      if (laminaApi !== undefined)
        mappings.push({ inside: LAMINA_API_ADDRESS, host: `127.0.0.1:${laminaApi.port}` });
      if (otlp !== undefined)
        mappings.push({ inside: OTLP_ADDRESS, host: `127.0.0.1:${otlp.port}` });
      const rewrite = jailPathRewriter(mappings);
      const launch = rewriteLaunch(spec.command, spec.env, rewrite);
      const script = extensionLaunchLines(join(optDir, 'extensions')).join('\n');
      // Its own process group, so that the whole tree is stopped, continued and killed at once.
      const child = spawn('/bin/sh', ['-c', script, 'lamina-init', ...launch.command], {
        cwd: spec.codeDir,
        env: launch.env,
        detached: true,
        // 5, 6, 7: the extension control, the runtime's go and the extensions' output.
        stdio: ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
      });
      // Ended once the runtime has exited, what it left is killed and its output is read.
      const leader = { exited: false };
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
        child.once('exit', (code, signal) => {
          signalGroup(child.pid, 'SIGKILL');
          leader.exited = true;
          const drained = setTimeout(() => resolve({ code, signal }), OUTPUT_DRAIN_MS);
          child.once('close', () => {
            clearTimeout(drained);
            resolve({ code, signal });
          });
        });
        child.once('error', () => resolve({ code: null, signal: null }));
      });
      if (child.pid === undefined)
        throw new Error('could not start the environment (spawn failed)');
      inbound = offerInbound(spec.inboundSocket);
      const control = readEnvironmentPipes(child.stdio, spec);
      return new PlainProcess(spec.id, child.pid, leader, exited, control, closeRelays, rewrite);
    } catch (error) {
      closeRelays();
      throw error;
    }
  }
}

class PlainProcess implements Sandbox {
  readonly id: string;
  readonly exited: Promise<SandboxExit>;
  readonly extensions: Promise<readonly string[]>;
  readonly #pid: number;
  readonly #control: ExtensionControl;
  readonly #rewrite: (value: string) => string;
  #frozen = false;
  #peakMiB = 0;

  readonly #leader: { readonly exited: boolean };

  constructor(
    id: string,
    pid: number,
    leader: { readonly exited: boolean },
    exited: Promise<{ code: number | null; signal: string | null }>,
    control: ExtensionControl,
    closeRelays: () => void,
    rewrite: (value: string) => string,
  ) {
    this.id = id;
    this.#leader = leader;
    this.#rewrite = rewrite;
    this.#pid = pid;
    this.#control = control;
    this.extensions = control.extensions;
    this.exited = exited.then(({ code, signal }) => {
      closeRelays();
      return { code, signal, outOfMemory: false };
    });
  }

  startRuntime(): void {
    this.#control.startRuntime();
  }

  onExtensionExit(listener: (name: string, code: number) => void): void {
    this.#control.onExit(listener);
  }

  limitCpu(): Promise<void> {
    return Promise.resolve();
  }

  resize(): Promise<void> {
    return Promise.resolve();
  }

  colocate(on: boolean): boolean {
    return !on;
  }

  freeze(): Promise<void> {
    if (!this.#frozen) this.#frozen = this.#signalGroup('SIGSTOP');
    return Promise.resolve();
  }

  thaw(): Promise<void> {
    if (this.#frozen) {
      this.#frozen = false;
      this.#signalGroup('SIGCONT');
    }
    return Promise.resolve();
  }

  /** The runtime process's own peak (VmHWM): the tree's other processes are not counted. */
  maxMemoryUsedMiB(): Promise<number> {
    if (!this.#leader.exited) {
      try {
        const status = readFileSync(`/proc/${this.#pid}/status`, 'utf8');
        const kib = Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0);
        this.#peakMiB = Math.max(this.#peakMiB, Math.ceil(kib / 1024));
      } catch {
        // gone meanwhile
      }
    }
    return Promise.resolve(this.#peakMiB);
  }

  translate(variables: Readonly<Record<string, string>>): Record<string, string> {
    return rewriteLaunch([], variables, this.#rewrite).env;
  }

  kill(): Promise<SandboxExit> {
    this.#signalGroup('SIGKILL');
    return this.exited;
  }

  /**
   * Signals the process group while it may exist: once its leader has exited, the group was
   * killed with it, and its id may be reused by another process.
   */
  #signalGroup(signal: NodeJS.Signals): boolean {
    return !this.#leader.exited && signalGroup(this.#pid, signal);
  }
}

/** Sends `signal` to the process group `pid` leads; answers whether it was delivered. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}
