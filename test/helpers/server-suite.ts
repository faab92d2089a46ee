/** One server (and SDK client) for the tests of a suite: started before them, stopped after. */
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaClient } from './lambda-client.js';
import { startServer, tempDir, type ServerProcess, type StartOptions } from './server-process.js';

export interface ServerSuite {
  /** The server's data directory. */
  readonly dataDir: string;
  /** A temporary folder of the suite's own, beside the data directory (zips, the CLI's home). */
  readonly workDir: string;
  readonly server: ServerProcess;
  readonly client: LambdaClient;
}

/** Registers the suite's before/after hooks; the getters work inside its tests. */
export function useServer(options: Omit<StartOptions, 'dataDir'> = {}): ServerSuite {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  let server: ServerProcess | undefined;
  let client: LambdaClient | undefined;
  before(async () => {
    server = await startServer({ ...options, dataDir });
    client = lambdaClient(server.endpoint);
  });
  after(async () => {
    client?.destroy();
    await server?.stop();
    dir.remove();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the suite server has not started');
    return value;
  };
  return {
    dataDir,
    workDir: dir.path,
    get server() {
      return started(server);
    },
    get client() {
      return started(client);
    },
  };
}
