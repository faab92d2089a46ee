/** One server (and SDK client) for the tests of a suite: started before them, stopped after. */
import { after, before } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { lambdaClient } from './lambda-client.js';
import { startServer, tempDir, type ServerProcess, type StartOptions } from './server-process.js';

export interface ServerSuite {
  /** The server's data directory. */
  readonly dataDir: string;
  readonly server: ServerProcess;
  readonly client: LambdaClient;
}

/** Registers the suite's before/after hooks; the getters work inside its tests. */
export function useServer(options: Omit<StartOptions, 'dataDir'> = {}): ServerSuite {
  const dir = tempDir();
  let server: ServerProcess | undefined;
  let client: LambdaClient | undefined;
  before(async () => {
    server = await startServer({ ...options, dataDir: dir.path });
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
    dataDir: dir.path,
    get server() {
      return started(server);
    },
    get client() {
      return started(client);
    },
  };
}
