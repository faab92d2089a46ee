/**
 * The control API of a built Lamina server, driven in-process on a real SQLite file and a real
 * code store, with a gate in front of code preparation so tests can hold a function in Pending /
 * InProgress deterministically.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import pino from 'pino';
import type { BodyBudget } from '../../src/core/body-budget.js';
import type { CodeRef } from '../../src/core/function-model.js';
import type { CodeStore } from '../../src/functions/code-store.js';
import type { PreparationQueue } from '../../src/functions/preparation-queue.js';
import { buildLamina } from '../../src/server/build-lamina.js';
import { grantTestRoles } from './test-roles.js';
import type { LaminaServer } from '../../src/server/lamina-server.js';
import { openPlainProcessHost } from '../../src/server/plain-process-host.js';
import { DEFAULT_CONFIG, type ServerConfig } from '../../src/server/server-config.js';
import type { Database } from '../../src/store/database-schema.js';
import type { SqliteAsyncEventStore } from '../../src/store/sqlite-async-event-store.js';
import type { SqliteFunctionRepository } from '../../src/store/sqlite-function-repository.js';
import { TEST_CREDENTIALS, tempDir } from './server-process.js';

/** Holds preparations until released. */
export class PreparationGate {
  #open = true;
  #waiters: Array<() => void> = [];
  /** Preparations wait from now on. */
  close(): void {
    this.#open = false;
  }
  /** Releases waiting preparations and lets new ones through. */
  open(): void {
    this.#open = true;
    for (const release of this.#waiters.splice(0)) release();
  }
  async pass(): Promise<void> {
    if (!this.#open) await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/** The real code store, whose `prepare` first passes the gate. */
class GatedCodeStore implements CodeStore {
  readonly #inner: CodeStore;
  readonly #gate: PreparationGate;
  constructor(inner: CodeStore, gate: PreparationGate) {
    this.#inner = inner;
    this.#gate = gate;
  }
  inspect(zip: Buffer) {
    return this.#inner.inspect(zip);
  }
  put(zip: Buffer, code: CodeRef) {
    return this.#inner.put(zip, code);
  }
  async prepare(code: CodeRef) {
    await this.#gate.pass();
    return this.#inner.prepare(code);
  }
  prepareMerged(codes: readonly CodeRef[]) {
    return this.#inner.prepareMerged(codes);
  }
  has(sha: string) {
    return this.#inner.has(sha);
  }
  open(sha: string) {
    return this.#inner.open(sha);
  }
  remove(sha: string) {
    return this.#inner.remove(sha);
  }
}

export interface InProcessApi {
  /** The server as built (never started): its HTTP app answers `inject`, nothing runs events. */
  readonly server: LaminaServer;
  readonly app: FastifyInstance;
  readonly gate: PreparationGate;
  readonly preparation: PreparationQueue;
  readonly repository: SqliteFunctionRepository;
  readonly db: Kysely<Database>;
  readonly asyncStore: SqliteAsyncEventStore;
  readonly dataDir: string;
  /** The budget of request-body bytes in flight the app was built with. */
  readonly bodyBudget: BodyBudget;
  close(): Promise<void>;
}

/**
 * The control API of a server built as `lamina server` builds it, from `config` over the defaults
 * (no authentication unless `auth: 'sigv4'`, with the test key pair), on plain processes, and not
 * started: tests drive its HTTP app, recover preparations themselves, and no event is run.
 */
export async function inProcessApi(
  dataDir = tempDir().path,
  config: Partial<ServerConfig> = {},
): Promise<InProcessApi> {
  const gate = new PreparationGate();
  const server = await buildLamina(
    {
      ...DEFAULT_CONFIG,
      auth: 'none',
      dataDir,
      functionUrlBase: 'http://lambda-url.us-east-1.localhost:9000',
      ...config,
    },
    {
      logger: pino({ level: 'silent' }),
      env: {
        LAMINA_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        LAMINA_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      },
      sandboxHost: openPlainProcessHost,
      codeStore: (store) => new GatedCodeStore(store, gate),
    },
  );
  const { http: app, preparation, repository, db, asyncStore, bodyBudget } = server.parts;
  await grantTestRoles(server.parts.iam);
  await app.ready();
  return {
    server,
    app,
    gate,
    preparation,
    repository,
    db,
    asyncStore,
    dataDir,
    bodyBudget,
    close: async () => {
      gate.open();
      await server.stop();
    },
  };
}

/** An injected response read as an AWS error: status, `x-amzn-ErrorType`, the message (either casing). */
export function errorOf(response: {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}): { status: number; type: unknown; message: unknown } {
  const parsed = JSON.parse(response.body) as Record<string, unknown>;
  return {
    status: response.statusCode,
    type: response.headers['x-amzn-errortype'],
    message: parsed['message'] ?? parsed['Message'],
  };
}
