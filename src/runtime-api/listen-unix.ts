/** Starting a server on a unix socket path, failing with the listen error. */
import type { Server } from 'node:net';

/** Listens on `path`; rejects with the error if it cannot (the path exists, say). */
export function listenUnix(server: Server, path: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
