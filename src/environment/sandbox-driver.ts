/**
 * Port: starts execution environments (one process tree each) and controls them. Two drivers:
 * bubblewrap + cgroups (isolated) and plain processes (`--unsafe-plain-processes`, no isolation);
 * test/sandbox/driver-contract.test.ts holds both to the same contract.
 */

/** A relay to a host service: its port and the host socket the jail's listener connects to. */
export interface HostServiceSocket {
  readonly port: number;
  readonly socket: string;
}

/**
 * Back-pressure for an environment's output: while `closed`, the sandbox stops reading what its
 * processes print (their writes then block, as a full pipe does on Lambda), until `whenOpen`'s
 * listener runs. Whoever stores the lines closes it when they fall behind.
 */
export interface OutputGate {
  readonly closed: boolean;
  /** Runs `listener` once the gate is open (at once if it is). */
  whenOpen(listener: () => void): void;
}

/** What one environment runs and with which limits. */
export interface SandboxSpec {
  /** Unique id of the environment (used for cgroup and socket names). */
  readonly id: string;
  /** Host folder of the extracted function code, shown read-only at /var/task. */
  readonly codeDir: string;
  /** Host folder of the function's merged layers, shown read-only at /opt (an empty /opt if none). */
  readonly optDir?: string | undefined;
  /** Host folder of the runtime client, shown read-only at /var/runtime (none for provided.*). */
  readonly runtimeDir: string | undefined;
  /** Host folder of the language runtime (interpreter), shown read-only at /var/lang. */
  readonly langDir: string | undefined;
  /** Host node_modules folder shown over /var/runtime/node_modules (needs `runtimeDir`). */
  readonly modulesDir?: string | undefined;
  /** An image function's root file system: shown read-only as `/` instead of the host's /usr. */
  readonly rootDir?: string | undefined;
  /** The folder the command starts in (none: /var/task). */
  readonly workingDirectory?: string | undefined;
  /** Command run inside the jail, after the Runtime API relay is listening. */
  readonly command: readonly string[];
  /** The complete environment of the command. */
  readonly env: Readonly<Record<string, string>>;
  readonly memoryMiB: number;
  readonly ephemeralStorageMiB: number;
  /**
   * A pre-started sandbox: it boots at the background CPU weight, on CPU nothing at work wants,
   * until `resize` gives it a function.
   */
  readonly background?: boolean;
  /** Host unix socket of this environment's Runtime API, relayed to 127.0.0.1:9001 inside. */
  readonly runtimeApiSocket: string;
  /** Host unix socket relayed to 127.0.0.1:9002 inside (the Lamina API), if any. */
  readonly laminaApiSocket: string | undefined;
  /**
   * Host unix socket the jail's inbound relay connects out to, offering connections into the
   * jail's loopback (telemetry deliveries: see EnvironmentEndpoints).
   */
  readonly inboundSocket: string;
  /**
   * Host unix sockets of the allow-listed host services, each relayed to
   * host.lamina.internal:<port> (127.0.0.2) inside.
   */
  readonly hostServiceSockets?: readonly HostServiceSocket[] | undefined;
  /** Host unix socket of the OTLP endpoint, relayed to 127.0.0.1:9003 inside, if any. */
  readonly otlpSocket?: string | undefined;
  /** Receives every line the runtime's processes write to stdout or stderr. */
  readonly onOutput: (line: string) => void;
  /** Receives every line external extensions write to stdout or stderr. */
  readonly onExtensionOutput?: ((line: string) => void) | undefined;
  /** Pauses reading the output while the lines' consumer falls behind (none: never). */
  readonly outputGate?: OutputGate | undefined;
}

/** How an environment's process tree ended. */
export interface SandboxExit {
  readonly code: number | null;
  readonly signal: string | null;
  /** True when the memory limit's OOM killer ended it. */
  readonly outOfMemory: boolean;
}

/** A started environment's process tree. */
export interface SandboxProcess {
  readonly id: string;
  /** Resolves once the whole process tree has exited and what held it is released. */
  readonly exited: Promise<SandboxExit>;
  /** Stops every process of the environment (between invokes). */
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  /** Peak memory of the environment so far, in MiB (0 when not measurable). */
  maxMemoryUsedMiB(): Promise<number>;
  /**
   * Environment variables as the environment's processes must see them, for those handed over
   * after the start (a pre-started runtime's assignment): paths and addresses inside a jail are
   * the same for every environment, so a jail returns them as they are.
   */
  translate(variables: Readonly<Record<string, string>>): Record<string, string>;
  /** Kills the whole process tree; resolves with its exit. Idempotent. */
  kill(): Promise<SandboxExit>;
}

/** The external extensions (executables in /opt/extensions), started before the runtime. */
export interface ExtensionLaunch {
  /** Their file names, once all are started. When there are any, the runtime waits. */
  readonly extensions: Promise<readonly string[]>;
  /** Lets the runtime start once the extensions are ready (no-op without extensions). */
  startRuntime(): void;
  /**
   * Called when an external extension's process ends (exit code; 128+n after signal n), or could
   * not be started (code -1: the file is not executable).
   */
  onExtensionExit(listener: (name: string, code: number) => void): void;
}

/** Where and how fast an environment's processes may run. */
export interface CpuPlacement {
  /** Applies the CPU share of the memory size; init runs before it, at full speed. */
  limitCpu(): Promise<void>;
  /** Gives a pre-started environment its function's memory size, CPU share and CPU weight. */
  resize(memoryMiB: number): Promise<void>;
  /**
   * Keeps the environment's processes on the server's CPU (`true`) or lets them run on any CPU
   * (`false`); see ColocationPolicy. Synchronous; answers whether it is now where it was asked to
   * be: never on the server's CPU where CPUs cannot be assigned, or when the environment's CPU
   * share is more than one CPU.
   */
  colocate(on: boolean): boolean;
}

/** A started environment: its processes, its extensions' launch and its CPU placement. */
export interface Sandbox extends SandboxProcess, ExtensionLaunch, CpuPlacement {}

export interface SandboxDriver {
  start(spec: SandboxSpec): Promise<Sandbox>;
  /** Limits the driver cannot enforce on this host, stated plainly (empty when none). */
  limitations(): readonly string[];
}
