/**
 * SandboxDriver on bubblewrap + cgroups. Each environment is started as
 *   sh (waits on a pipe) → setpriv (drops to the sandbox uid, no_new_privs) → bwrap → jail
 * so that the platform, still root, can put the first process into the environment's cgroups
 * before anything else runs; every later process inherits them.
 */
import { spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { chmod } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Sandbox, SandboxDriver, SandboxExit, SandboxSpec } from '../invoke/sandbox-driver.js';
import type { Colocatable } from '../invoke/colocation-policy.js';
import { cpuQuotaFor, type CgroupManager, type EnvironmentCgroup } from './cgroups.js';
import { cpusetSwitch } from './cpuset-switch.js';
import { ExtensionControl } from './extension-control.js';
import { INBOUND_SOCKET_NAME, jailArguments, type HostLayout } from './jail-arguments.js';
import { buildSeccompFilter, seccompSupported } from './seccomp-filter.js';

/** Settings of the driver. */
export interface BwrapDriverOptions {
  /** Folder for generated jail files (world-searchable). */
  readonly runDir: string;
  readonly cgroups: CgroupManager;
  /** uid/gid the jail runs as on the host when Lamina is root (default: nobody). */
  readonly hostUid?: number;
  readonly hostGid?: number;
  /**
   * The server's CPU (a cpuset list of one), on which `colocate(true)` places an environment
   * (none: `colocate` does nothing).
   */
  readonly serverCpu?: string | undefined;
}

const JAIL_UID = 993;
const JAIL_GID = 993;
const PIDS_MAX = 1024;
const CPU_PERIOD_MICROS = 100_000;

export class BwrapSandboxDriver implements SandboxDriver {
  readonly #options: BwrapDriverOptions;
  readonly #layout: HostLayout;
  readonly #etcDir: string;
  readonly #seccompFile: string | undefined;
  readonly #asRoot: boolean;
  /**
   * The host's CPUs, read once: `availableParallelism()` reads the calling thread's affinity, which
   * is one CPU while the main thread is co-located with an environment.
   */
  readonly #cores = availableParallelism();
  readonly #limitations: string[];

  constructor(options: BwrapDriverOptions) {
    this.#options = options;
    this.#asRoot = process.getuid?.() === 0;
    this.#layout = hostLayout();
    this.#etcDir = join(options.runDir, 'etc');
    mkdirSync(this.#etcDir, { recursive: true, mode: 0o755 });
    writeFileSync(
      join(this.#etcDir, 'passwd'),
      `root:x:0:0::/tmp:/sbin/nologin\nsbx_user1051:x:${JAIL_UID}:${JAIL_GID}::/tmp:/sbin/nologin\n`,
    );
    writeFileSync(join(this.#etcDir, 'group'), `root:x:0:\nsbx_user1051:x:${JAIL_GID}:\n`);
    writeFileSync(
      join(this.#etcDir, 'hosts'),
      '127.0.0.1\tlocalhost sandbox.localdomain lamina\n::1\tlocalhost\n',
    );
    this.#limitations = [...options.cgroups.limitations];
    if (seccompSupported()) {
      this.#seccompFile = join(options.runDir, 'seccomp.bpf');
      writeFileSync(this.#seccompFile, buildSeccompFilter());
    } else {
      this.#limitations.push(`no seccomp filter for the ${process.arch} architecture yet`);
    }
    if (!this.#asRoot) {
      this.#limitations.push(
        'not running as root: environments run as the current user inside their user namespace',
      );
    }
  }

  limitations(): readonly string[] {
    return this.#limitations;
  }

  async start(spec: SandboxSpec): Promise<Sandbox> {
    const cgroup = await this.#options.cgroups.create(spec.id, {
      memoryBytes: spec.memoryMiB * 1024 * 1024,
      cpuPeriodMicros: CPU_PERIOD_MICROS,
      cpuQuotaMicros: cpuQuotaFor(spec.memoryMiB, this.#cores),
      pidsMax: PIDS_MAX,
    });
    const seccompFd =
      this.#seccompFile === undefined ? undefined : openSync(this.#seccompFile, 'r');
    const inboundDir = this.#inboundDir(spec.id);
    const bwrapArgs = jailArguments({
      layout: this.#layout,
      codeDir: spec.codeDir,
      optDir: spec.optDir,
      runtimeDir: spec.runtimeDir,
      langDir: spec.langDir,
      etcDir: this.#etcDir,
      runtimeApiSocket: spec.runtimeApiSocket,
      laminaApiSocket: spec.laminaApiSocket,
      inboundDir,
      ephemeralStorageBytes: spec.ephemeralStorageMiB * 1024 * 1024,
      jailUid: JAIL_UID,
      jailGid: JAIL_GID,
      seccompFd: seccompFd === undefined ? undefined : 3,
      command: spec.command,
    });
    const drop = this.#asRoot
      ? [
          '/usr/bin/setpriv',
          `--reuid=${this.#options.hostUid ?? 65534}`,
          `--regid=${this.#options.hostGid ?? 65534}`,
          '--clear-groups',
          '--no-new-privs',
          '--',
        ]
      : [];
    const child = spawn(
      '/bin/sh',
      [
        '-c',
        'read _ <&4; exec 4<&-; exec "$@"',
        'lamina-start',
        ...drop,
        '/usr/bin/bwrap',
        ...bwrapArgs,
      ],
      {
        env: { ...spec.env },
        // 4: the start gate; 5, 6, 7: the extension control, runtime gate and extension output.
        stdio: ['ignore', 'pipe', 'pipe', seccompFd ?? 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
      },
    );
    if (seccompFd !== undefined) closeSync(seccompFd);
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const gate = child.stdio[4];
    const fds: readonly unknown[] = child.stdio;
    const control = new ExtensionControl(readable(fds[5]), writable(fds[6]));
    try {
      for (const stream of [child.stdout, child.stderr]) {
        if (stream !== null) splitLines(stream, spec.onOutput);
      }
      const extensionOutput = readable(fds[7]);
      if (extensionOutput !== undefined)
        splitLines(extensionOutput, spec.onExtensionOutput ?? spec.onOutput);
      if (child.pid === undefined) throw new Error('could not start the sandbox (spawn failed)');
      await cgroup?.attach(child.pid);
    } catch (error) {
      // Never leave a half-started jail behind: it would wait on its gate forever.
      child.kill('SIGKILL');
      await exited;
      await cgroup?.remove();
      rmSync(inboundDir, { recursive: true, force: true });
      throw error;
    }
    if (gate instanceof Writable) gate.end('\n');
    const inbound = { dir: inboundDir, socket: join(inboundDir, INBOUND_SOCKET_NAME) };
    const placement = this.#placement(cgroup);
    return new BwrapSandbox(
      {
        id: spec.id,
        pid: child.pid,
        memoryMiB: spec.memoryMiB,
        cores: this.#cores,
        asRoot: this.#asRoot,
      },
      exited,
      cgroup,
      control,
      inbound,
      placement,
    );
  }

  /** What moves an environment's processes to the server's CPU and back, when it can. */
  #placement(cgroup: EnvironmentCgroup | undefined): Colocatable | undefined {
    const { serverCpu, cgroups } = this.#options;
    const setCpus = cgroup?.setCpus;
    if (serverCpu === undefined || setCpus === undefined || cgroups.cpus === undefined)
      return undefined;
    return cpusetSwitch(setCpus, serverCpu, cgroups.cpus);
  }

  /** A folder the jail's uid can create the inbound relay's socket in (removed with the jail). */
  #inboundDir(id: string): string {
    const parent = join(this.#options.runDir, 'inbound');
    mkdirSync(parent, { recursive: true, mode: 0o711 });
    const dir = join(parent, id);
    mkdirSync(dir, { mode: 0o700 });
    if (this.#asRoot) {
      // Owned by root, writable by the jail's group until sealed: the jail cannot chmod it back.
      chownSync(dir, 0, this.#options.hostGid ?? 65534);
      chmodSync(dir, 0o770);
    }
    return dir;
  }
}

function readable(stream: unknown): Readable | undefined {
  return stream instanceof Readable ? stream : undefined;
}

function writable(stream: unknown): Writable | undefined {
  return stream instanceof Writable ? stream : undefined;
}

class BwrapSandbox implements Sandbox {
  readonly id: string;
  readonly exited: Promise<SandboxExit>;
  readonly #pid: number;
  readonly #placement: Colocatable | undefined;
  readonly #cores: number;
  /** Whether its CPU share is at most one CPU (only then may it be confined to one). */
  #fitsOneCpu: boolean;
  readonly #cgroup: EnvironmentCgroup | undefined;
  readonly #control: ExtensionControl;
  readonly extensions: Promise<readonly string[]>;
  readonly inboundSocket: string;
  readonly #inboundDir: string;
  readonly #asRoot: boolean;
  #frozen = false;

  constructor(
    identity: {
      readonly id: string;
      readonly pid: number;
      readonly memoryMiB: number;
      readonly cores: number;
      readonly asRoot: boolean;
    },
    exited: Promise<{ code: number | null; signal: string | null }>,
    cgroup: EnvironmentCgroup | undefined,
    control: ExtensionControl,
    inbound: { readonly dir: string; readonly socket: string },
    placement: Colocatable | undefined,
  ) {
    this.id = identity.id;
    this.#pid = identity.pid;
    this.#cores = identity.cores;
    this.#fitsOneCpu = fitsOneCpu(identity.memoryMiB, identity.cores);
    this.#placement = placement;
    this.#cgroup = cgroup;
    this.#control = control;
    this.extensions = control.extensions;
    this.inboundSocket = inbound.socket;
    this.#inboundDir = inbound.dir;
    this.#asRoot = identity.asRoot;
    this.exited = exited.then(async ({ code, signal }) => {
      const outOfMemory = (await cgroup?.oomKilled().catch(() => false)) ?? false;
      await cgroup?.remove().catch(() => undefined);
      rmSync(inbound.dir, { recursive: true, force: true });
      return { code, signal, outOfMemory };
    });
  }

  startRuntime(): void {
    this.#control.startRuntime();
  }

  async sealInbound(): Promise<void> {
    // Without root the jail runs as Lamina's own user, which owns the folder anyway.
    if (this.#asRoot) await chmod(this.#inboundDir, 0o750).catch(() => undefined);
  }

  onExtensionExit(listener: (name: string, code: number) => void): void {
    this.#control.onExit(listener);
  }

  async limitCpu(): Promise<void> {
    await this.#cgroup?.limitCpu();
  }

  async resize(memoryMiB: number): Promise<void> {
    await this.#cgroup?.resize(memoryMiB * 1024 * 1024, cpuQuotaFor(memoryMiB, this.#cores));
    this.#fitsOneCpu = fitsOneCpu(memoryMiB, this.#cores);
  }

  colocate(on: boolean): boolean {
    // An environment with more than one CPU's share would lose the rest on a single CPU.
    if (on && !this.#fitsOneCpu) return false;
    return this.#placement?.colocate(on) ?? !on;
  }

  freeze(): Promise<void> {
    if (this.#cgroup === undefined || this.#frozen) return Promise.resolve();
    this.#frozen = true;
    return settled(() => this.#cgroup?.freeze());
  }

  thaw(): Promise<void> {
    if (this.#cgroup === undefined || !this.#frozen) return Promise.resolve();
    this.#frozen = false;
    return settled(() => this.#cgroup?.thaw());
  }

  maxMemoryUsedMiB(): Promise<number> {
    let bytes = 0;
    try {
      bytes = this.#cgroup?.peakMemoryBytes() ?? 0;
    } catch {
      // the cgroup is gone (the environment is being removed)
    }
    return Promise.resolve(Math.ceil(bytes / (1024 * 1024)));
  }

  async kill(): Promise<SandboxExit> {
    try {
      process.kill(this.#pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (this.#frozen) await this.thaw().catch(() => undefined);
    return this.exited;
  }
}

/**
 * Splits output into lines on `\n` only: runtimes write one log record per line and replace the
 * newlines inside a record with `\r`, which must stay part of the record.
 */
function splitLines(stream: Readable, onLine: (line: string) => void): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) onLine(line);
  });
  stream.on('end', () => {
    if (rest !== '') onLine(rest);
  });
}

/** Reads which top-level folders are merged-/usr symlinks on this host. */
function hostLayout(): HostLayout {
  const symlinks: Record<string, string> = {};
  const directories: string[] = [];
  for (const path of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) symlinks[path] = readlinkSync(path);
    else directories.push(path);
  }
  const etcEntries = [
    '/etc/ld.so.cache',
    '/etc/ld.so.conf',
    '/etc/ld.so.conf.d',
    '/etc/ssl',
    '/etc/ca-certificates',
    '/etc/pki',
    '/etc/alternatives',
    '/etc/nsswitch.conf',
    '/etc/localtime',
    '/etc/mime.types',
  ].filter((entry) => existsSync(entry));
  return { symlinks, directories, etcEntries };
}

function fitsOneCpu(memoryMiB: number, cores: number): boolean {
  return cpuQuotaFor(memoryMiB, cores, CPU_PERIOD_MICROS) <= CPU_PERIOD_MICROS;
}

/** Runs a synchronous cgroup write as a promise that rejects with what it threw. */
function settled(write: () => void): Promise<void> {
  try {
    write();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
