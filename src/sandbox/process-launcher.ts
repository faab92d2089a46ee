/**
 * Starts sandboxes from a small process of its own instead of this one. `spawn` forks, and a fork
 * of the server copies its page tables and waits for the child's exec on the event loop: 10 ms
 * for a server of 150 MB on an idle machine, 35 ms and more while environments boot, a stall every
 * tenant's invoke would feel at each cold start. The launcher (launcher-main.ts) is forked once,
 * is a few tens of MB, and forks off this process's loop.
 *
 * A launched program's pipes are made by the launcher, which sends this process its ends as
 * handles over the IPC channel and closes its own: data then flows between the program and this
 * process directly.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { LaunchRequest, LaunchStdio, LauncherReply } from './launcher-protocol.js';

export type { LaunchStdio } from './launcher-protocol.js';

export interface LaunchExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** A program the launcher started. */
export interface LaunchedProcess {
  readonly pid: number;
  /** This process's end of each `pipe` descriptor (undefined for the others). */
  readonly stdio: readonly (Socket | undefined)[];
  /** Resolves once it has exited (when the launcher dies, as killed). */
  readonly exited: Promise<LaunchExit>;
  /** Sends a signal unless it has already exited. */
  kill(signal: NodeJS.Signals): void;
}

export interface LaunchOptions {
  readonly env: Readonly<Record<string, string>>;
  readonly stdio: readonly LaunchStdio[];
}

export interface ProcessLauncher {
  launch(
    program: string,
    args: readonly string[],
    options: LaunchOptions,
  ): Promise<LaunchedProcess>;
  close(): void;
}

interface Running {
  /** This process's ends of the pipes, as they arrive. */
  readonly ends: (Socket | undefined)[];
  readonly started: (pid: number) => void;
  readonly failed: (error: Error) => void;
  readonly exited: (exit: LaunchExit) => void;
}

const LAUNCHER_MAIN = fileURLToPath(new URL('./launcher-main.js', import.meta.url));

export class ForkedProcessLauncher implements ProcessLauncher {
  readonly #running = new Map<number, Running>();
  #child: ChildProcess | undefined;
  #next = 1;
  #closed = false;

  /**
   * Forks the launcher now, while the server's thread may still use every CPU (the launcher's
   * children inherit its CPU affinity until they join their cgroups).
   */
  constructor() {
    this.#launcher();
  }

  async launch(
    program: string,
    args: readonly string[],
    options: LaunchOptions,
  ): Promise<LaunchedProcess> {
    if (this.#closed) throw new Error('the process launcher is closed');
    const child = this.#launcher();
    const id = this.#next++;
    const ends: (Socket | undefined)[] = [];
    let exitedResolve!: (exit: LaunchExit) => void;
    const exited = new Promise<LaunchExit>((resolve) => (exitedResolve = resolve));
    let started = false;
    let done = false;
    const pid = await new Promise<number>((resolve, reject) => {
      this.#hold(id, {
        ends,
        started: (pid) => {
          started = true;
          resolve(pid);
        },
        failed: (error) => {
          // Once started, only its exit counts.
          if (started) return;
          this.#release(id);
          for (const end of ends) end?.destroy();
          reject(error);
        },
        exited: (exit) => {
          this.#release(id);
          done = true;
          exitedResolve(exit);
        },
      });
      const request: LaunchRequest = {
        type: 'launch',
        id,
        program,
        args,
        env: options.env,
        stdio: options.stdio,
      };
      child.send(request, (error) => {
        if (error !== null) this.#running.get(id)?.failed(error);
      });
    });
    return {
      pid,
      stdio: ends,
      exited,
      kill: (signal) => {
        if (done) return;
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      },
    };
  }

  close(): void {
    this.#closed = true;
    if (this.#child?.connected === true) this.#child.disconnect();
  }

  /** The launcher, forked again if the last one died. */
  #launcher(): ChildProcess {
    if (this.#child !== undefined) return this.#child;
    const child = fork(LAUNCHER_MAIN, [], {
      execArgv: [],
      serialization: 'json',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    // Neither the launcher nor its channel keeps this process alive, unless a program it
    // launched is still running or starting (see #hold).
    child.unref();
    child.channel?.unref();
    child.on('message', (message: LauncherReply, handle: unknown) => this.#reply(message, handle));
    child.on('error', () => undefined);
    child.once('exit', () => {
      if (this.#child === child) this.#child = undefined;
      // Its programs are gone with it (bubblewrap dies with its parent), or will be.
      for (const running of [...this.#running.values()]) {
        running.failed(new Error('the process launcher exited'));
        running.exited({ code: null, signal: 'SIGKILL' });
      }
    });
    this.#child = child;
    return child;
  }

  #hold(id: number, running: Running): void {
    this.#running.set(id, running);
    if (this.#running.size === 1) this.#child?.channel?.ref();
  }

  #release(id: number): void {
    if (!this.#running.delete(id)) return;
    if (this.#running.size === 0) this.#child?.channel?.unref();
  }

  #reply(message: LauncherReply, handle: unknown): void {
    const running = this.#running.get(message.id);
    if (running === undefined) {
      if (handle instanceof Socket) handle.destroy();
      return;
    }
    if (message.type === 'fd') {
      if (handle instanceof Socket) running.ends[message.fd] = handle;
    } else if (message.type === 'started') running.started(message.pid);
    else if (message.type === 'failed') running.failed(new Error(message.message));
    else running.exited({ code: message.code, signal: message.signal });
  }
}
