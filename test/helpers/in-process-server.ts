/**
 * A LaminaServer in the test process, for tests that own its clock or call it directly (reaping):
 * built and started before the suite's tests, stopped after them.
 */
import { after, before } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import pino from 'pino';
import type { Clock } from '../../src/core/clock.js';
import { join } from 'node:path';
import type { LogLine } from '../../src/environment/ports.js';
import { FileLogStore } from '../../src/observability/file-log-store.js';
import { grantTestRoles } from './test-roles.js';
import { buildLamina, type LaminaOverrides } from '../../src/server/build-lamina.js';
import type { LaminaServer, ServerLogSink } from '../../src/server/lamina-server.js';
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/server/server-config.js';
import { lambdaClient } from './lambda-client.js';
import { TEST_CREDENTIALS, tempDir } from './server-process.js';

export interface InProcessSuite {
  readonly server: LaminaServer;
  /** An SDK client of the server (once it has started). */
  readonly client: LambdaClient;
  /** Calls `listener` after every batch of function log lines (returns what removes it). */
  onLogLines(listener: () => void): () => void;
}

/** The server's own log store, telling listeners of every batch of lines appended to it. */
class WatchedLogStore implements ServerLogSink {
  readonly #inner: FileLogStore;
  readonly listeners = new Set<() => void>();
  constructor(inner: FileLogStore) {
    this.#inner = inner;
  }
  append(group: string, stream: string, lines: readonly LogLine[]): void {
    this.#inner.append(group, stream, lines);
    for (const listener of [...this.listeners]) listener();
  }
  end(group: string, stream: string): void {
    this.#inner.end(group, stream);
  }
  get closed(): boolean {
    return this.#inner.closed;
  }
  whenOpen(listener: () => void): void {
    this.#inner.whenOpen(listener);
  }
  flush(): Promise<void> {
    return this.#inner.flush();
  }
}

/**
 * Registers the suite's hooks; `config` overrides the defaults (port 0, a temporary data dir);
 * `extra` sets other parts (schedules' random source).
 */
export function useInProcessServer(
  config: Partial<ServerConfig>,
  clock: Clock,
  extra: Pick<LaminaOverrides, 'random'> = {},
): InProcessSuite {
  const dir = tempDir();
  let server: LaminaServer | undefined;
  const logs = new WatchedLogStore(new FileLogStore(join(dir.path, 'logs')));
  const overrides = {
    ...extra,
    clock,
    logs,
    logger: pino({ level: 'warn' }),
    env: {
      LAMINA_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      LAMINA_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    },
  };
  let client: LambdaClient | undefined;
  before(async () => {
    server = await buildLamina(
      { ...DEFAULT_CONFIG, port: 0, dataDir: dir.path, ...config },
      overrides,
    );
    await grantTestRoles(server.parts.iam);
    await server.start();
    client = lambdaClient(server.endpoint);
  });
  after(async () => {
    client?.destroy();
    await server?.stop();
    dir.remove();
  });
  return {
    get server() {
      if (server === undefined) throw new Error('the in-process server has not started');
      return server;
    },
    onLogLines(listener) {
      logs.listeners.add(listener);
      return () => logs.listeners.delete(listener);
    },
    get client() {
      if (client === undefined) throw new Error('the in-process server has not started');
      return client;
    },
  };
}
