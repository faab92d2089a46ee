/**
 * What the composition root needs from the machine to run environments: a sandbox driver and
 * the folders and policies around it. Two kinds exist: bubblewrap + cgroups (the default; see
 * bwrap-host.ts) and plain processes with no isolation (plain-process-host.ts, only when asked
 * for by `--unsafe-plain-processes`).
 */
import type { Logger } from 'pino';
import type { ColocationPolicy } from '../environment/colocation-policy.js';
import type { SandboxDriver } from '../environment/sandbox-driver.js';
import type { DirectoryViews } from '../sandbox/overlay-views.js';
import type { SandboxIdentity } from './sandbox-identity.js';

export interface SandboxHost {
  readonly driver: SandboxDriver;
  /** How code, layer and runtime folders are shown to environments. */
  readonly views: DirectoryViews;
  /** The server's run folder: environment sockets and generated files. */
  readonly runDir: string;
  /** The host user and group environments run as (undefined: the server's own). */
  readonly identity: SandboxIdentity | undefined;
  /** Where lone invocations run beside the event loop (undefined: CPUs are not assigned). */
  readonly placement: ColocationPolicy | undefined;
  /** Releases what opening took: cgroups, mounts, the run folder (idempotent). */
  close(): Promise<void>;
}

/** What opening a sandbox host depends on (from the server's configuration). */
export interface SandboxHostOptions {
  readonly dataDir: string;
  readonly cpuColocation: boolean;
  readonly cpuColocationReleaseMs: number;
  readonly environmentProcessLimit: number | undefined;
  readonly functionNetwork: boolean;
  readonly functionDeny: readonly string[];
  readonly functionDns: readonly string[] | undefined;
  readonly logger: Logger;
}

export type SandboxHostOpener = (options: SandboxHostOptions) => Promise<SandboxHost>;
