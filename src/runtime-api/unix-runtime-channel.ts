/** Opens an environment's Runtime API on a host unix socket the jail's relay can connect to. */
import { chmod, rm } from 'node:fs/promises';
import { RuntimeApiServer } from './runtime-api-server.js';

/** A RuntimeApiServer listening on `socketPath` (mode 0666: the jail runs as another uid). */
export async function openUnixRuntimeChannel(socketPath: string): Promise<RuntimeApiServer> {
  await rm(socketPath, { force: true });
  const server = new RuntimeApiServer();
  await server.listen({ path: socketPath });
  await chmod(socketPath, 0o666);
  return server;
}
