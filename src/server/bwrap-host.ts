/**
 * The default sandbox host: every environment in a bubblewrap jail under cgroups, run as the
 * sandbox user when the server is root, watched by a watchdog that ends them if the server dies.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ColocationPolicy, nodeReleaseTimer } from '../environment/colocation-policy.js';
import { BwrapSandboxDriver } from '../sandbox/bwrap-sandbox-driver.js';
import { FunctionNetwork, missingNetworkTools, readIfAny } from '../sandbox/function-network.js';
import type { NetworkProvider } from '../sandbox/environment-network.js';
import { hostNameservers } from '../sandbox/network-rules.js';
import { UserModeNetwork } from '../sandbox/user-mode-network.js';
import { detectCgroups } from '../sandbox/cgroups.js';
import { openEphemeralStorage } from '../sandbox/ephemeral-storage.js';
import { OverlayViews, plainDirectories } from '../sandbox/overlay-views.js';
import { ForkedProcessLauncher } from '../sandbox/process-launcher.js';
import { openServerCpu } from '../sandbox/server-cpu.js';
import { startWatchdog } from '../sandbox/watchdog.js';
import { sandboxPassage } from './private-folders.js';
import { openRunDir, removeRunDir } from './run-folder.js';
import { checkSandboxPrerequisites } from './sandbox-prerequisites.js';
import { sandboxIdentity } from './sandbox-identity.js';
import type { SandboxHost, SandboxHostOptions } from './sandbox-host.js';

export async function openBwrapHost(options: SandboxHostOptions): Promise<SandboxHost> {
  const { dataDir, logger } = options;
  checkSandboxPrerequisites(dataDir);
  const identity = sandboxIdentity();
  // What a server that died, watchdog and all, left in the temp folder goes first.
  const runDir = await openRunDir(tmpdir(), identity);
  // What is opened from here on is released, in reverse, if a later step fails (or on close).
  const undo: Array<() => Promise<void> | void> = [() => removeRunDir(runDir)];
  const release = async () => {
    for (const step of undo.splice(0).reverse()) await step();
  };
  try {
    // Code, layers and runtime folders are shown to jails through views that hide their paths.
    const viewsRoot = join(runDir, 'views');
    sandboxPassage(viewsRoot, identity);
    const views = identity === undefined ? plainDirectories : new OverlayViews(viewsRoot);
    undo.push(() => views.close());
    const ephemeralRoot = join(dataDir, 'ephemeral');
    const cgroups = await detectCgroups({
      cpusets: options.cpuColocation,
      processLimit: options.environmentProcessLimit,
    });
    undo.push(() => cgroups.close());
    // Whatever kills this process, the watchdog ends its environments (frozen ones included).
    const watchdog = startWatchdog({
      serverPid: process.pid,
      cgroupBases: cgroups.environmentBases,
      freezerBase: cgroups.freezerBase,
      v2: cgroups.version === 'v2',
      prefixes: [runDir, join(ephemeralRoot, `${process.pid}.`)],
    });
    // Disarmed last: everything it would clean up is gone by then.
    undo.unshift(() => watchdog.disarm());
    // Jails are started by a process of its own: a fork of this one would stall its event loop.
    const launcher = new ForkedProcessLauncher();
    undo.push(() => launcher.close());
    const serverCpu = options.cpuColocation ? await openServerCpu(cgroups) : undefined;
    if (serverCpu !== undefined) {
      undo.push(() => serverCpu.close());
      logger.debug(`lone invocations run with the event loop on CPU ${serverCpu.cpu}`);
    }
    const ephemeral = await openEphemeralStorage({
      root: ephemeralRoot,
      ...(identity === undefined ? {} : { jailGid: identity.gid }),
      onError: (error) => logger.warn({ err: error }, 'preparing ephemeral storage failed'),
    });
    undo.push(() => ephemeral.close());
    const network = await openNetwork(options, runDir);
    if (network !== undefined) undo.push(() => network.close());
    const driver = new BwrapSandboxDriver({
      runDir,
      cgroups,
      launcher,
      serverCpu: serverCpu?.cpu,
      hostUid: identity?.uid,
      hostGid: identity?.gid,
      ephemeral,
      views,
      network,
      nameservers: network === undefined ? undefined : functionNameservers(options),
    });
    let closing: Promise<void> | undefined;
    return {
      driver,
      views,
      runDir,
      identity,
      placement:
        serverCpu === undefined
          ? undefined
          : new ColocationPolicy(serverCpu, nodeReleaseTimer(options.cpuColocationReleaseMs)),
      close: () => (closing ??= release()),
    };
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
}

/**
 * The function network, when it is on: the server's own namespaces as root, user-mode networking
 * otherwise (none, with one line saying why, where that is not possible).
 */
async function openNetwork(
  options: SandboxHostOptions,
  runDir: string,
): Promise<NetworkProvider | undefined> {
  if (!options.functionNetwork) return undefined;
  if (process.getuid?.() !== 0) {
    try {
      return await UserModeNetwork.open({
        workDir: join(runDir, 'network'),
        denied: options.functionDeny,
      });
    } catch (error) {
      options.logger.warn(
        `function network off: ${(error as Error).message}; functions have loopback only`,
      );
      return undefined;
    }
  }
  const missing = missingNetworkTools();
  if (missing !== undefined) throw new Error(missing);
  return FunctionNetwork.open({
    dataDir: options.dataDir,
    workDir: join(runDir, 'network'),
    denied: options.functionDeny,
  });
}

/** `--function-dns`, or the host's name servers that a jail can reach (not on loopback). */
function functionNameservers(options: SandboxHostOptions): readonly string[] {
  if (options.functionDns !== undefined) return options.functionDns;
  const usable = hostNameservers(readIfAny('/etc/resolv.conf'));
  if (usable.length === 0) {
    options.logger.warn(
      'functions cannot resolve names: the host has no name server outside loopback; set --function-dns',
    );
  }
  return usable;
}
