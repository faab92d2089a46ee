/**
 * SandboxDriver on bubblewrap + cgroups. Each environment is started as
 *   [its network's entry] → sh (waits on a pipe) → setpriv (drops to the sandbox uid,
 *   no_new_privs; as root only) → bwrap → jail
 * so that the platform, still root, can put the first process into the environment's cgroups
 * (and finish its network) before anything else runs; every later process inherits them.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import type {
  Sandbox,
  SandboxDriver,
  SandboxExit,
  SandboxSpec,
} from '../environment/sandbox-driver.js';
import type { Colocatable } from '../environment/colocation-policy.js';
import { cpuQuotaFor, type CgroupManager, type EnvironmentCgroup } from './cgroups.js';
import { cpusetSwitch } from './cpuset-switch.js';
import type { EphemeralStorage, EphemeralStorageProvider } from './ephemeral-storage.js';
import { plainDirectories, type DirectoryView, type DirectoryViews } from './overlay-views.js';
import type { ExtensionControl } from './extension-control.js';
import {
  NETWORK_SIGNAL_FD,
  type EnvironmentNetwork,
  type NetworkProvider,
} from './environment-network.js';
import { readEnvironmentPipes } from './environment-pipes.js';
import type { ProcessLauncher } from './process-launcher.js';
import {
  HOST_SERVICES_ADDRESS,
  jailArguments,
  splitEnvironment,
  type HostLayout,
} from './jail-arguments.js';
import { buildSeccompFilter, seccompSupported } from './seccomp-filter.js';

/** Settings of the driver. */
export interface BwrapDriverOptions {
  /** Folder for generated jail files (world-searchable). */
  readonly runDir: string;
  readonly cgroups: CgroupManager;
  /** Starts the jails (off this process's event loop). */
  readonly launcher: ProcessLauncher;
  /** uid/gid the jail runs as on the host when Lamina is root (default: nobody). */
  readonly hostUid?: number | undefined;
  readonly hostGid?: number | undefined;
  /**
   * The server's CPU (a cpuset list of one), on which `colocate(true)` places an environment
   * (none: `colocate` does nothing).
   */
  readonly serverCpu?: string | undefined;
  /** Disk-backed /tmp and /dev/shm (none, or none on this host: in-memory tmpfs mounts). */
  readonly ephemeral?: EphemeralStorageProvider | undefined;
  /** How code, layer and runtime folders are shown (none: bound as they are). */
  readonly views?: DirectoryViews | undefined;
  /** Egress: each environment's own network (none: loopback only). */
  readonly network?: Pick<NetworkProvider, 'attach'> | undefined;
  /** Name servers for the jails' /etc/resolv.conf (with a network). */
  readonly nameservers?: readonly string[] | undefined;
}

/** The folders a jail binds, as it will see them, and the views to release when it is gone. */
interface JailViews {
  readonly codeDir: string;
  readonly optDir: string | undefined;
  readonly runtimeDir: string | undefined;
  readonly langDir: string | undefined;
  readonly all: readonly DirectoryView[];
}

/** Where the generated /etc files reach bubblewrap (see the launch's stdio). */
const ETC_FDS = { passwd: 9, group: 10, hosts: 11, 'resolv.conf': 12 } as const;
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
      '127.0.0.1\tlocalhost sandbox.localdomain lamina\n' +
        `${HOST_SERVICES_ADDRESS}\thost.lamina.internal\n::1\tlocalhost\n`,
    );
    writeFileSync(
      join(this.#etcDir, 'resolv.conf'),
      resolvConf(options.network === undefined ? [] : (options.nameservers ?? [])),
    );
    this.#limitations = [...options.cgroups.limitations];
    const storageLimitation = options.ephemeral?.limitation;
    if (storageLimitation !== undefined) this.#limitations.push(storageLimitation);
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
    const views = await this.#views(spec);
    const storageBytes = spec.ephemeralStorageMiB * 1024 * 1024;
    let storage: EphemeralStorage | undefined;
    let cgroup: EnvironmentCgroup | undefined;
    // Made while the storage and cgroups are: a few milliseconds of `ip` commands.
    const network = this.#options.network?.attach();
    try {
      storage = await this.#options.ephemeral?.create(spec.id, storageBytes);
      cgroup = await this.#options.cgroups.create(spec.id, {
        memoryBytes: spec.memoryMiB * 1024 * 1024,
        cpuPeriodMicros: CPU_PERIOD_MICROS,
        cpuQuotaMicros: cpuQuotaFor(spec.memoryMiB, this.#cores),
        pidsMax: PIDS_MAX,
        background: spec.background ?? false,
      });
      await network;
    } catch (error) {
      const made = await network?.catch(() => undefined);
      await this.#undoLaunch(cgroup, storage, made, views);
      throw error;
    }
    return this.#launch(spec, views, cgroup, storage, await network);
  }

  /** The views of the folders the jail binds (released when the jail is gone). */
  async #views(spec: SandboxSpec): Promise<JailViews> {
    const views = this.#options.views ?? plainDirectories;
    const all: DirectoryView[] = [];
    const view = async (dir: string) => {
      const made = await views.acquire(dir);
      all.push(made);
      return made.path;
    };
    try {
      // An image's root file system is bound as it is (it is never written once unpacked).
      if (spec.rootDir !== undefined)
        return {
          codeDir: spec.rootDir,
          optDir: undefined,
          runtimeDir: undefined,
          langDir: undefined,
          all,
        };
      return {
        codeDir: await view(spec.codeDir),
        optDir: spec.optDir === undefined ? undefined : await view(spec.optDir),
        runtimeDir: spec.runtimeDir === undefined ? undefined : await view(spec.runtimeDir),
        langDir: spec.langDir === undefined ? undefined : await view(spec.langDir),
        all,
      };
    } catch (error) {
      for (const made of all) made.release();
      throw error;
    }
  }

  async #launch(
    spec: SandboxSpec,
    views: JailViews,
    cgroup: EnvironmentCgroup | undefined,
    storage: EphemeralStorage | undefined,
    network: EnvironmentNetwork | undefined,
  ): Promise<Sandbox> {
    const seccompFile = this.#seccompFile;
    const env = splitEnvironment(spec.env);
    const etcFiles = (['passwd', 'group', 'hosts', 'resolv.conf'] as const).map((name) => ({
      path: join(this.#etcDir, name),
    }));
    const bwrapArgs = jailArguments({
      layout: this.#layout,
      codeDir: views.codeDir,
      optDir: views.optDir,
      runtimeDir: views.runtimeDir,
      modulesDir: spec.modulesDir,
      langDir: views.langDir,
      etcFds: ETC_FDS,
      runtimeApiSocket: spec.runtimeApiSocket,
      laminaApiSocket: spec.laminaApiSocket,
      inboundSocket: spec.inboundSocket,
      hostServices: spec.hostServiceSockets,
      otlpSocket: spec.otlpSocket,
      ephemeralStorageBytes: spec.ephemeralStorageMiB * 1024 * 1024,
      ephemeral: storage,
      jailUid: JAIL_UID,
      jailGid: JAIL_GID,
      seccompFd: seccompFile === undefined ? undefined : 3,
      ownNetwork: network !== undefined,
      jailOnlyEnv: env.inside,
      command: spec.command,
      rootDir: spec.rootDir,
      workingDirectory: spec.workingDirectory,
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
    const [program, ...args] = [
      ...(network?.enter ?? []),
      '/bin/sh',
      '-c',
      'read _ <&4; exec 4<&-; exec "$@"',
      'lamina-start',
      ...drop,
      '/usr/bin/bwrap',
      ...bwrapArgs,
    ] as [string, ...string[]];
    const connects = network?.connect !== undefined;
    const child = await this.#options.launcher
      .launch(program, args, {
        env: env.outside,
        // 3: the seccomp filter; 4: the start gate; 5, 6, 7: the extension control, runtime gate
        // and extension output; 8 (NETWORK_SIGNAL_FD): the network's progress, when it has any to
        // tell; 9, 10, 11, 12: /etc/passwd, group, hosts and resolv.conf (ETC_FDS).
        stdio: [
          'ignore',
          'pipe',
          'pipe',
          seccompFile === undefined ? 'ignore' : { path: seccompFile },
          'pipe',
          'pipe',
          'pipe',
          'pipe',
          connects ? 'pipe' : 'ignore',
          ...etcFiles,
        ],
      })
      .catch(async (error: unknown) => {
        await this.#undoLaunch(cgroup, storage, network, views);
        throw new Error(`could not start the sandbox: ${(error as Error).message}`, {
          cause: error,
        });
      });
    const { pid, stdio } = child;
    const exited = child.exited;
    const gate = stdio[4];
    const control = readEnvironmentPipes(stdio, spec);
    try {
      const signals = stdio[NETWORK_SIGNAL_FD];
      await Promise.all([
        cgroup?.attach(pid),
        signals === undefined ? undefined : network?.connect?.(pid, signals),
      ]);
    } catch (error) {
      // Never leave a half-started jail behind: it would wait on its gate forever.
      child.kill('SIGKILL');
      await exited;
      await this.#undoLaunch(cgroup, storage, network, views);
      throw error;
    }
    gate?.end('\n');
    const placement = this.#placement(cgroup);
    return new BwrapSandbox(
      {
        id: spec.id,
        pid,
        memoryMiB: spec.memoryMiB,
        cores: this.#cores,
        asRoot: this.#asRoot,
      },
      exited,
      { cgroup, storage, network, views: views.all },
      control,
      placement,
    );
  }

  /** Releases what `start` made for a jail that did not start (or was never launched). */
  async #undoLaunch(
    cgroup: EnvironmentCgroup | undefined,
    storage: EphemeralStorage | undefined,
    network: EnvironmentNetwork | undefined,
    views: JailViews,
  ): Promise<void> {
    await cgroup?.remove();
    await storage?.remove();
    await network?.release();
    for (const view of views.all) view.release();
  }

  /** What moves an environment's processes to the server's CPU and back, when it can. */
  #placement(cgroup: EnvironmentCgroup | undefined): Colocatable | undefined {
    const { serverCpu, cgroups } = this.#options;
    const setCpus = cgroup?.setCpus;
    if (serverCpu === undefined || setCpus === undefined || cgroups.cpus === undefined)
      return undefined;
    return cpusetSwitch(setCpus, serverCpu, cgroups.cpus);
  }
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
    owned: {
      readonly cgroup: EnvironmentCgroup | undefined;
      readonly storage: EphemeralStorage | undefined;
      readonly network: EnvironmentNetwork | undefined;
      readonly views: readonly DirectoryView[];
    },
    control: ExtensionControl,
    placement: Colocatable | undefined,
  ) {
    this.id = identity.id;
    this.#pid = identity.pid;
    this.#cores = identity.cores;
    this.#fitsOneCpu = fitsOneCpu(identity.memoryMiB, identity.cores);
    this.#placement = placement;
    const { cgroup, storage, network, views } = owned;
    this.#cgroup = cgroup;
    this.#control = control;
    this.extensions = control.extensions;
    this.exited = exited.then(async ({ code, signal }) => {
      const outOfMemory = (await cgroup?.oomKilled().catch(() => false)) ?? false;
      await cgroup?.remove().catch(() => undefined);
      // Unmounted and deleted without looking inside: what the jail wrote is never read.
      await storage?.remove().catch(() => undefined);
      await network?.release();
      for (const view of views) view.release();
      return { code, signal, outOfMemory };
    });
  }

  startRuntime(): void {
    this.#control.startRuntime();
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

  translate(variables: Readonly<Record<string, string>>): Record<string, string> {
    return { ...variables };
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
  return { symlinks, directories, etcEntries, loader: hostLoader() };
}

/** The host's dynamic loader when it lives under /usr (merged /usr), with its library folder. */
function hostLoader(): HostLayout['loader'] {
  for (const path of ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1']) {
    try {
      const real = realpathSync(path);
      if (real.startsWith('/usr/')) return { path: real, libraryPath: dirname(real) };
    } catch {
      // not this architecture's loader
    }
  }
  return undefined;
}

function fitsOneCpu(memoryMiB: number, cores: number): boolean {
  return cpuQuotaFor(memoryMiB, cores, CPU_PERIOD_MICROS) <= CPU_PERIOD_MICROS;
}

/** Runs a synchronous cgroup write as a promise that rejects with what it threw (ENOENT aside). */
function settled(write: () => void): Promise<void> {
  try {
    write();
    return Promise.resolve();
  } catch (error) {
    // The cgroup is gone: the environment's processes have ended and it is being removed, so
    // there is nothing left to freeze or thaw (what runs next sees the exit, not this write).
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return Promise.resolve();
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/** A jail's /etc/resolv.conf: the name servers it may use (none: names do not resolve). */
export function resolvConf(nameservers: readonly string[]): string {
  if (nameservers.length === 0) return '# no name servers: this environment has no network\n';
  return `${nameservers.map((address) => `nameserver ${address}`).join('\n')}\noptions timeout:2 attempts:2\n`;
}
