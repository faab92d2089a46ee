/**
 * Per-environment cgroups, written directly: memory (= MemorySize, OOM kills the environment),
 * CPU quota proportional to memory (1,769 MB = one vCPU, capped at the host's cores), pids (1,024),
 * the freezer, and on request a cpuset (which CPUs the environment may run on: `setCpus`). cgroup
 * v1 (one hierarchy per controller, under Lamina's own cgroup in each) and cgroup v2 (a `lamina`
 * subtree at the root of the unified hierarchy) are both handled; whatever cannot be created (no
 * root, no delegation) is reported as a limitation instead.
 */
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { access, mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { hostPidsCap } from './host-pids.js';
import { processExists } from './process-exists.js';

/** Limits of one environment. */
export interface CgroupLimits {
  readonly memoryBytes: number;
  readonly cpuQuotaMicros: number;
  readonly cpuPeriodMicros: number;
  readonly pidsMax: number;
  /**
   * Starts at the background CPU weight (a pre-started sandbox booting for no one yet) instead of
   * the init weight; `resize` moves it to the init weight.
   */
  readonly background?: boolean;
}

/**
 * CPU weights (v1 `cpu.shares`, v2 `cpu.weight`). An environment initialises without a quota (as
 * Lambda boosts init) but at 1/8 of the kernel's default weight, so that under contention it takes
 * its CPU from what environments serving invokes (and the server) leave; `limitCpu` gives it the
 * default weight with its quota. A pre-started sandbox boots at 1/64 of the default.
 */
const CPU_SHARES = { normal: 1024, init: 128, background: 16 } as const;
const CPU_WEIGHT = { normal: 100, init: 12, background: 2 } as const;

/** The cgroups of one environment. */
export interface EnvironmentCgroup {
  /** Moves a process (and so its future children) into the environment's cgroups. */
  attach(pid: number): Promise<void>;
  /**
   * Applies the CPU quota (left unlimited until then, so that init runs at full speed) and the
   * normal CPU weight (init runs at a lower one).
   */
  limitCpu(): Promise<void>;
  /**
   * Changes the memory limit and the CPU quota `limitCpu` applies (a pre-started environment
   * takes its function's size), and gives a background environment the init CPU weight.
   * Rejects when the processes already use more than the new limit.
   */
  resize(memoryBytes: number, cpuQuotaMicros: number): Promise<void>;
  /** Freezer writes and the peak-memory read are synchronous: see cgroupFile. */
  freeze(): void;
  thaw(): void;
  peakMemoryBytes(): number;
  /**
   * Restricts the environment's processes to `cpus` (a cpuset list such as `0` or `0-1`), through
   * a descriptor kept open, synchronously. Undefined when the cpuset controller is not available.
   */
  readonly setCpus: ((cpus: string) => void) | undefined;
  /** Whether the OOM killer has killed a process of this environment. */
  oomKilled(): Promise<boolean>;
  /** Removes the cgroups once their processes are gone. */
  remove(): Promise<void>;
}

export interface CgroupManager {
  readonly version: 'v1' | 'v2' | 'none';
  /** The folders environments' cgroups are made in (`<server pid>.<id>` in each). */
  readonly environmentBases: readonly string[];
  /** The v1 freezer's folder among them, if any (frozen tasks must be thawed to die). */
  readonly freezerBase: string | undefined;
  /** What cannot be enforced on this host (empty when everything can). */
  readonly limitations: readonly string[];
  /** The CPUs environments may use (a cpuset list), when their cpusets can be set. */
  readonly cpus: string | undefined;
  create(id: string, limits: CgroupLimits): Promise<EnvironmentCgroup | undefined>;
  /**
   * Puts this process's main thread (only) into a cpuset of its own, whose CPUs `setCpus` then
   * changes. Only cgroup v1 places single threads; undefined elsewhere or when it fails.
   */
  mainThreadCpuset(): Promise<ThreadCpuset | undefined>;
  /** Removes what the manager made for itself (not the environments' cgroups). */
  close(): Promise<void>;
}

/** The cpuset of one thread. */
export interface ThreadCpuset {
  /** Synchronous, through a descriptor kept open. */
  setCpus(cpus: string): void;
  /** Moves the thread back to the parent cpuset and removes this one. */
  remove(): Promise<void>;
}

/** CPU quota for a memory size: 1,769 MB is one vCPU; never more than the host's cores. */
export function cpuQuotaFor(memoryMiB: number, cores: number, periodMicros = 100_000): number {
  const share = Math.min(memoryMiB / 1769, cores);
  return Math.max(1000, Math.round(share * periodMicros));
}

const ROOT = '/sys/fs/cgroup';

/**
 * Environment cgroups are named `<server pid>.<environment id>`, so a server can tell which ones
 * were left behind by a server that died (kill -9 leaves frozen environments alive) and end them.
 */
function cgroupName(id: string): string {
  return `${process.pid}.${id}`;
}

function ownerAlive(name: string): boolean {
  const pid = Number(/^(\d+)\./.exec(name)?.[1] ?? NaN);
  return !Number.isInteger(pid) || processExists(pid);
}

/** Kills every process of the orphaned cgroups under `bases` (thawing them first) and removes them. */
async function sweepOrphans(
  bases: readonly string[],
  freezerBase: string | undefined,
  v2: boolean,
): Promise<number> {
  const orphans = new Set<string>();
  for (const base of bases) {
    for (const name of await readdir(base).catch(() => [] as string[])) {
      if (/^\d+\./.test(name) && !ownerAlive(name)) orphans.add(name);
    }
  }
  for (const name of orphans) {
    if (v2)
      await writeFile(join(bases[0] ?? '', name, 'cgroup.freeze'), '0').catch(() => undefined);
    else if (freezerBase !== undefined)
      await writeFile(join(freezerBase, name, 'freezer.state'), 'THAWED').catch(() => undefined);
    for (const base of bases) {
      const procs = await readFile(join(base, name, 'cgroup.procs'), 'utf8').catch(() => '');
      for (const pid of procs.split('\n').filter((line) => line !== '')) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    for (const base of bases) await removeDir(join(base, name)).catch(() => undefined);
  }
  return orphans.size;
}

/**
 * Detects the host's cgroup layout and returns a manager for it. With `cpusets`, environments (and
 * the main thread, on request) get cpusets too, where the layout allows it. `processLimit` caps
 * the processes of all environments together (default: hostPidsCap()).
 */
export async function detectCgroups({
  cpusets = false,
  processLimit = undefined as number | undefined,
} = {}): Promise<CgroupManager> {
  const pidsCap = processLimit ?? hostPidsCap();
  if (existsSync(join(ROOT, 'cgroup.controllers'))) return CgroupV2.open(pidsCap);
  if (existsSync(join(ROOT, 'memory'))) return CgroupV1.open(cpusets, pidsCap);
  return noCgroups([
    'cgroups are not mounted: memory, CPU and pids limits and the freezer are not enforced',
  ]);
}

function noCgroups(limitations: string[]): CgroupManager {
  return {
    version: 'none',
    limitations,
    environmentBases: [],
    freezerBase: undefined,
    cpus: undefined,
    create: () => Promise.resolve(undefined),
    mainThreadCpuset: () => Promise.resolve(undefined),
    close: () => Promise.resolve(),
  };
}

/** Caps the processes of all environments together (see host-pids.ts) on their parent cgroup. */
async function capHostPids(parent: string, cap: number, limitations: string[]): Promise<void> {
  try {
    await write(join(parent, 'pids.max'), String(cap));
  } catch (error) {
    limitations.push(
      `cannot cap the processes of all environments together in ${parent} ` +
        `(${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
}

async function write(file: string, value: string): Promise<void> {
  await writeFile(file, value);
}

/** Runs synchronous work as a promise: resolved when it returns, rejected with what it threw. */
function settle(work: () => void): Promise<void> {
  try {
    work();
    return Promise.resolve();
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * A cgroup write in the calling thread: tens of microseconds on the kernel's side, against three
 * thread-pool round trips for `write`; for writes on an invocation's path.
 */
function writeNow(file: string, value: string): void {
  writeFileSync(file, value);
}

async function removeDir(dir: string): Promise<void> {
  // Processes of a killed tree can take a moment to leave the cgroup after the tree's exit.
  for (let attempt = 0; attempt < 100; attempt += 1) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw error;
      await delay(10);
    }
  }
}

/**
 * A cgroup file the invoke path reads or writes (peak memory, the freezer) through a descriptor
 * kept open, synchronously: cgroup files are kernel state, not disk, and answer at once (about a
 * microsecond), where each `fs/promises` call costs a thread-pool round trip (tens of
 * microseconds, more under load). A read starts from offset 0 each time.
 */
function cgroupFile(file: string, flags: 'r' | 'w') {
  let fd: number | undefined;
  const buffer = Buffer.alloc(64);
  return {
    readNumber: (): number => {
      fd ??= openSync(file, flags);
      const bytesRead = readSync(fd, buffer, 0, buffer.length, 0);
      return Number(buffer.toString('utf8', 0, bytesRead).trim());
    },
    write: (value: string): void => {
      fd ??= openSync(file, flags);
      writeSync(fd, value);
    },
    close: (): void => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

function counter(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return match === null ? 0 : Number(match[1]);
}

type V1Controller = 'memory' | 'cpu' | 'pids' | 'freezer';
type V1Bases = Readonly<Record<V1Controller, string | undefined>>;

/** The v1 cpuset folder environments' cpusets are made in, and what they start with. */
interface V1Cpuset {
  readonly base: string;
  readonly cpus: string;
  readonly mems: string;
}

/**
 * Prepares a v1 cpuset for environments (`lamina` below this process's own cpuset). A v1 cpuset
 * starts with no CPUs and no memory nodes, so both are copied from the parent. Load balancing is
 * turned off in it (while it is still empty, so nothing is rebuilt): changing the CPUs of a
 * load-balanced cpuset rebuilds the scheduler's domains, while under a balanced root the flag
 * changes nothing else. Undefined when there is no cpuset hierarchy or it cannot be written.
 */
async function openCpusetV1(own: Record<string, string>): Promise<V1Cpuset | undefined> {
  const mount = join(ROOT, 'cpuset');
  if (!existsSync(join(mount, 'cpuset.cpus'))) return undefined;
  const parent = join(mount, own['cpuset'] ?? '/');
  const base = join(parent, 'lamina');
  try {
    const cpus = (await readFile(join(parent, 'cpuset.effective_cpus'), 'utf8')).trim();
    const mems = (await readFile(join(parent, 'cpuset.effective_mems'), 'utf8')).trim();
    await mkdir(base, { recursive: true });
    await initCpusetV1(base, cpus, mems);
    return { base, cpus, mems };
  } catch {
    return undefined;
  }
}

async function initCpusetV1(dir: string, cpus: string, mems: string): Promise<void> {
  await write(join(dir, 'cpuset.sched_load_balance'), '0');
  await write(join(dir, 'cpuset.cpus'), cpus);
  await write(join(dir, 'cpuset.mems'), mems);
}

function environmentBasesOf(bases: V1Bases, cpuset: V1Cpuset | undefined): string[] {
  const all = Object.values(bases).filter((base): base is string => base !== undefined);
  return cpuset === undefined ? all : [...all, cpuset.base];
}

/** The name of the empty cgroup `pinFreezer` keeps frozen (swept like an environment's). */
export const FREEZER_PIN = 'freezer-pin';

/**
 * Keeps one empty v1 freezer cgroup frozen while the server runs, and returns its folder. Since
 * Linux 6.1 the v1 freezer turns a static key on when the first cgroup starts freezing and off
 * when the last thaws, patching kernel code each time: 1 to 5 ms per write, and every CPU is
 * stopped for it. An environment frozen after each invoke would cross that line twice per invoke
 * whenever it is the only frozen one. With this cgroup frozen, the key stays on and a freezer
 * write takes microseconds. Undefined (and no harm done) when it cannot be made.
 */
async function pinFreezer(freezerBase: string): Promise<string | undefined> {
  const dir = join(freezerBase, cgroupName(FREEZER_PIN));
  try {
    await mkdir(dir, { recursive: true });
    await write(join(dir, 'freezer.state'), 'FROZEN');
    return dir;
  } catch {
    await removeDir(dir).catch(() => undefined);
    return undefined;
  }
}

/** cgroup v1: a `lamina/<id>` folder in each controller, below this process's own cgroup. */
class CgroupV1 implements CgroupManager {
  readonly version = 'v1';
  readonly limitations: readonly string[];
  readonly #bases: V1Bases;
  readonly #cpuset: V1Cpuset | undefined;
  readonly #freezerPin: string | undefined;

  private constructor(
    bases: V1Bases,
    cpuset: V1Cpuset | undefined,
    limitations: string[],
    freezerPin: string | undefined,
  ) {
    this.#bases = bases;
    this.#cpuset = cpuset;
    this.limitations = limitations;
    this.#freezerPin = freezerPin;
  }

  get cpus(): string | undefined {
    return this.#cpuset?.cpus;
  }

  get environmentBases(): readonly string[] {
    return environmentBasesOf(this.#bases, this.#cpuset);
  }

  get freezerBase(): string | undefined {
    return this.#bases.freezer;
  }

  async mainThreadCpuset(): Promise<ThreadCpuset | undefined> {
    // The main thread's id is the process id; `tasks` moves one thread, `cgroup.procs` all.
    const dir = await this.#makeCpuset('server', (made) =>
      write(join(made, 'tasks'), String(process.pid)),
    );
    const parent = this.#cpuset === undefined ? undefined : dirname(this.#cpuset.base);
    if (dir === undefined || parent === undefined) return undefined;
    const cpus = cgroupFile(join(dir, 'cpuset.cpus'), 'w');
    return {
      setCpus: (list) => cpus.write(list),
      remove: async () => {
        cpus.close();
        await write(join(parent, 'tasks'), String(process.pid)).catch(() => undefined);
        await removeDir(dir).catch(() => undefined);
      },
    };
  }

  static async open(cpusets: boolean, pidsCap: number): Promise<CgroupManager> {
    const own = ownPathsV1();
    const limitations: string[] = [];
    const bases: Record<V1Controller, string | undefined> = {
      memory: undefined,
      cpu: undefined,
      pids: undefined,
      freezer: undefined,
    };
    for (const controller of ['memory', 'cpu', 'pids', 'freezer'] as const) {
      const mount = join(ROOT, controller);
      if (!existsSync(mount)) {
        limitations.push(`the ${controller} cgroup controller is not mounted`);
        continue;
      }
      const base = join(mount, own[controller] ?? '/', 'lamina');
      try {
        await mkdir(base, { recursive: true });
        // Made by another user (a root server before an unprivileged one): not this server's.
        await access(base, constants.W_OK);
        bases[controller] = base;
      } catch (error) {
        limitations.push(
          `cannot create ${base} (${(error as NodeJS.ErrnoException).code ?? String(error)}): no ${controller} limits`,
        );
      }
    }
    if (bases.pids !== undefined) await capHostPids(bases.pids, pidsCap, limitations);
    const cpuset = cpusets ? await openCpusetV1(own) : undefined;
    await sweepOrphans(environmentBasesOf(bases, cpuset), bases.freezer, false);
    const pin = bases.freezer === undefined ? undefined : await pinFreezer(bases.freezer);
    return new CgroupV1(bases, cpuset, limitations, pin);
  }

  async close(): Promise<void> {
    if (this.#freezerPin === undefined) return;
    await write(join(this.#freezerPin, 'freezer.state'), 'THAWED').catch(() => undefined);
    await removeDir(this.#freezerPin).catch(() => undefined);
  }

  /**
   * A cpuset of this server's named `id` (its folder, `<pid>.<id>`), or undefined when it cannot
   * be made (the CPUs changed since start, say): co-location is an optimisation, so whatever
   * needed the cpuset goes on without one. `also` runs on the new cpuset before it is kept.
   */
  async #makeCpuset(
    id: string,
    also: (dir: string) => Promise<void> = () => Promise.resolve(),
  ): Promise<string | undefined> {
    const cpuset = this.#cpuset;
    if (cpuset === undefined) return undefined;
    const dir = join(cpuset.base, cgroupName(id));
    try {
      // (It may be left from an earlier server with this pid, in another pid namespace.)
      await mkdir(dir, { recursive: true });
      await initCpusetV1(dir, cpuset.cpus, cpuset.mems);
      await also(dir);
      return dir;
    } catch {
      await removeDir(dir).catch(() => undefined);
      return undefined;
    }
  }

  async create(id: string, initial: CgroupLimits): Promise<EnvironmentCgroup> {
    let limits = initial;
    const dirs: Partial<Record<V1Controller, string>> = {};
    for (const [controller, base] of Object.entries(this.#bases)) {
      if (base === undefined) continue;
      const dir = join(base, cgroupName(id));
      await mkdir(dir);
      dirs[controller as keyof typeof dirs] = dir;
    }
    const cpusetDir = await this.#makeCpuset(id);
    const members =
      cpusetDir === undefined ? Object.values(dirs) : [...Object.values(dirs), cpusetDir];
    const cpus =
      cpusetDir === undefined ? undefined : cgroupFile(join(cpusetDir, 'cpuset.cpus'), 'w');
    const swap =
      dirs.memory === undefined ? undefined : join(dirs.memory, 'memory.memsw.limit_in_bytes');
    const hasSwapLimit = swap !== undefined && existsSync(swap);
    const setMemory = async (
      bytes: number,
      lowering: boolean,
      put: (file: string, value: string) => Promise<void> | void = write,
    ) => {
      if (dirs.memory === undefined) return;
      const limit = join(dirs.memory, 'memory.limit_in_bytes');
      // memsw may never be below the memory limit: lower memory first, raise memsw first.
      if (hasSwapLimit && swap !== undefined && !lowering) await put(swap, String(bytes));
      await put(limit, String(bytes));
      if (hasSwapLimit && swap !== undefined && lowering) await put(swap, String(bytes));
    };
    await setMemory(limits.memoryBytes, true);
    const shares = dirs.cpu === undefined ? undefined : join(dirs.cpu, 'cpu.shares');
    if (dirs.cpu !== undefined) {
      await write(join(dirs.cpu, 'cpu.cfs_period_us'), String(limits.cpuPeriodMicros));
      if (shares !== undefined)
        await write(
          shares,
          String(limits.background === true ? CPU_SHARES.background : CPU_SHARES.init),
        );
    }
    if (dirs.pids !== undefined) await write(join(dirs.pids, 'pids.max'), String(limits.pidsMax));
    const peak =
      dirs.memory === undefined
        ? undefined
        : cgroupFile(join(dirs.memory, 'memory.max_usage_in_bytes'), 'r');
    const freezer =
      dirs.freezer === undefined ? undefined : cgroupFile(join(dirs.freezer, 'freezer.state'), 'w');
    return {
      attach: async (pid) => {
        for (const dir of members) await write(join(dir, 'cgroup.procs'), String(pid));
      },
      limitCpu: async () => {
        if (dirs.cpu === undefined) return;
        await write(join(dirs.cpu, 'cpu.cfs_quota_us'), String(limits.cpuQuotaMicros));
        if (shares !== undefined) await write(shares, String(CPU_SHARES.normal));
      },
      // On a cold start's path (specialisation): written at once, not through the thread pool.
      resize: async (memoryBytes, cpuQuotaMicros) => {
        await setMemory(memoryBytes, memoryBytes < limits.memoryBytes, writeNow);
        if (limits.background === true && shares !== undefined)
          writeNow(shares, String(CPU_SHARES.init));
        limits = { ...limits, memoryBytes, cpuQuotaMicros, background: false };
      },
      freeze: () => freezer?.write('FROZEN'),
      thaw: () => freezer?.write('THAWED'),
      peakMemoryBytes: () => peak?.readNumber() ?? 0,
      setCpus: cpus === undefined ? undefined : (list) => cpus.write(list),
      oomKilled: async () => {
        if (dirs.memory === undefined) return false;
        const text = await readFile(join(dirs.memory, 'memory.oom_control'), 'utf8');
        return counter(text, 'oom_kill') > 0;
      },
      remove: async () => {
        peak?.close();
        freezer?.close();
        cpus?.close();
        if (dirs.freezer !== undefined)
          await write(join(dirs.freezer, 'freezer.state'), 'THAWED').catch(() => undefined);
        for (const dir of members) await removeDir(dir);
      },
    };
  }
}

function ownPathsV1(): Record<string, string> {
  const paths: Record<string, string> = {};
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers === undefined || path === undefined) continue;
    for (const controller of controllers.split(',')) paths[controller] = path;
  }
  return paths;
}

/** cgroup v2: `/sys/fs/cgroup/lamina/<id>` with memory, cpu and pids enabled for the subtree. */
class CgroupV2 implements CgroupManager {
  readonly version = 'v2';
  readonly limitations: readonly string[];
  readonly #base: string;
  /** Environments are not placed on CPUs under v2 (see `mainThreadCpuset`). */
  readonly cpus = undefined;
  readonly freezerBase = undefined;

  get environmentBases(): readonly string[] {
    return [this.#base];
  }

  private constructor(base: string, limitations: string[]) {
    this.#base = base;
    this.limitations = limitations;
  }

  static async open(pidsCap: number): Promise<CgroupManager> {
    const base = join(ROOT, 'lamina');
    try {
      await mkdir(base, { recursive: true });
      const available = (await readFile(join(ROOT, 'cgroup.controllers'), 'utf8')).split(/\s+/);
      const wanted = ['memory', 'cpu', 'pids'].filter((c) => available.includes(c));
      const enable = wanted.map((c) => `+${c}`).join(' ');
      await write(join(ROOT, 'cgroup.subtree_control'), enable);
      await write(join(base, 'cgroup.subtree_control'), enable);
      const limitations = ['memory', 'cpu', 'pids']
        .filter((c) => !wanted.includes(c))
        .map((c) => `the ${c} controller is not available`);
      if (wanted.includes('pids')) await capHostPids(base, pidsCap, limitations);
      await sweepOrphans([base], undefined, true);
      return new CgroupV2(base, limitations);
    } catch (error) {
      return noCgroups([
        `cannot manage ${base} (${(error as NodeJS.ErrnoException).code ?? String(error)}): ` +
          'memory, CPU and pids limits and the freezer are not enforced (run as root or delegate a cgroup)',
      ]);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  mainThreadCpuset(): Promise<ThreadCpuset | undefined> {
    // v2 places whole processes (threads only inside a threaded subtree), and the server's own
    // cgroup is not Lamina's to change: no co-location, so environments get no cpuset either.
    return Promise.resolve(undefined);
  }

  async create(id: string, initial: CgroupLimits): Promise<EnvironmentCgroup> {
    let limits = initial;
    const dir = join(this.#base, cgroupName(id));
    await mkdir(dir);
    const file = (name: string) => join(dir, name);
    if (existsSync(file('memory.max'))) {
      await write(file('memory.max'), String(limits.memoryBytes));
      if (existsSync(file('memory.swap.max'))) await write(file('memory.swap.max'), '0');
    }
    if (existsSync(file('pids.max'))) await write(file('pids.max'), String(limits.pidsMax));
    const weight = existsSync(file('cpu.weight')) ? file('cpu.weight') : undefined;
    if (weight !== undefined)
      await write(
        weight,
        String(limits.background === true ? CPU_WEIGHT.background : CPU_WEIGHT.init),
      );
    const peakName = ['memory.peak', 'memory.current'].find((name) => existsSync(file(name)));
    const peak = peakName === undefined ? undefined : cgroupFile(file(peakName), 'r');
    const freezer = cgroupFile(file('cgroup.freeze'), 'w');
    return {
      attach: (pid) => write(file('cgroup.procs'), String(pid)),
      limitCpu: async () => {
        if (existsSync(file('cpu.max'))) {
          await write(file('cpu.max'), `${limits.cpuQuotaMicros} ${limits.cpuPeriodMicros}`);
        }
        if (weight !== undefined) await write(weight, String(CPU_WEIGHT.normal));
      },
      // On a cold start's path (specialisation): written at once, not through the thread pool.
      resize: (memoryBytes, cpuQuotaMicros) =>
        settle(() => {
          if (existsSync(file('memory.max'))) {
            const current = Number(readFileSync(file('memory.current'), 'utf8'));
            if (current > memoryBytes)
              throw new Error('the environment uses more than the new limit');
            writeNow(file('memory.max'), String(memoryBytes));
          }
          if (limits.background === true && weight !== undefined)
            writeNow(weight, String(CPU_WEIGHT.init));
          limits = { ...limits, memoryBytes, cpuQuotaMicros, background: false };
        }),
      freeze: () => freezer.write('1'),
      thaw: () => freezer.write('0'),
      peakMemoryBytes: () => (peak === undefined ? 0 : peak.readNumber()),
      setCpus: undefined,
      oomKilled: async () =>
        counter(await readFile(file('memory.events'), 'utf8').catch(() => ''), 'oom_kill') > 0,
      remove: async () => {
        peak?.close();
        freezer.close();
        if (existsSync(file('cgroup.kill')))
          await write(file('cgroup.kill'), '1').catch(() => undefined);
        await removeDir(dir);
      },
    };
  }
}
