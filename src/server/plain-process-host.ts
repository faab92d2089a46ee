/**
 * The unsafe sandbox host (`--unsafe-plain-processes`): environments are plain processes of the
 * server's user (PlainProcessDriver), folders are shown as they are, nothing is confined.
 */
import { tmpdir } from 'node:os';
import { PlainProcessDriver } from '../sandbox/plain-process-driver.js';
import { plainDirectories } from '../sandbox/overlay-views.js';
import { openRunDir, removeRunDir } from './run-folder.js';
import type { SandboxHost } from './sandbox-host.js';

export async function openPlainProcessHost(): Promise<SandboxHost> {
  const runDir = await openRunDir(tmpdir(), undefined);
  let closing: Promise<void> | undefined;
  return {
    driver: new PlainProcessDriver(runDir),
    views: plainDirectories,
    runDir,
    identity: undefined,
    placement: undefined,
    close: () => (closing ??= removeRunDir(runDir)),
  };
}
