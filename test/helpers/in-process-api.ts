/**
 * The control API wired in-process on a real SQLite file and a real code store, with a gate in
 * front of code preparation so tests can hold a function in Pending / InProgress deterministically.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { buildLambdaHttpApi } from '../../src/api/lambda-http-api.js';
import { BodyBudget } from '../../src/core/body-budget.js';
import type { Sigv4Verifier } from '../../src/core/sigv4-verifier.js';
import type { CodeRef } from '../../src/core/function-model.js';
import { CodeCollector } from '../../src/functions/code-collector.js';
import type { CodeStore } from '../../src/functions/code-store.js';
import { FunctionService } from '../../src/functions/function-service.js';
import { LayerService } from '../../src/functions/layer-service.js';
import { PreparationQueue } from '../../src/functions/preparation-queue.js';
import { RuntimeCatalog } from '../../src/functions/runtime-catalog.js';
import type { Database } from '../../src/store/database-schema.js';
import { FileCodeStore } from '../../src/store/file-code-store.js';
import { openSqliteDatabase } from '../../src/store/sqlite-database.js';
import { SqliteProvisionedConcurrencyRepository } from '../../src/store/sqlite-provisioned-concurrency-repository.js';
import { SqliteFunctionRepository } from '../../src/store/sqlite-function-repository.js';
import { SqliteLayerRepository } from '../../src/store/sqlite-layer-repository.js';
import {
  SqliteAliasRepository,
  SqliteVersionRepository,
} from '../../src/store/sqlite-version-repository.js';
import { AliasService } from '../../src/functions/alias-service.js';
import { ProvisionedConcurrencyService } from '../../src/functions/provisioned-concurrency-service.js';
import { ConcurrencyService } from '../../src/functions/concurrency-service.js';
import { VersionService } from '../../src/functions/version-service.js';
import { AsyncEventService } from '../../src/async/async-event-service.js';
import { EventInvokeConfigService } from '../../src/functions/event-invoke-config-service.js';
import { ServiceAsyncTargets } from '../../src/server/async-targets.js';
import { SqliteAsyncEventStore } from '../../src/store/sqlite-async-event-store.js';
import { SqliteEventInvokeConfigRepository } from '../../src/store/sqlite-event-invoke-config-repository.js';
import { FunctionUrlService } from '../../src/functions/function-url-service.js';
import { PermissionService } from '../../src/functions/permission-service.js';
import { SqliteFunctionUrlRepository } from '../../src/store/sqlite-function-url-repository.js';
import { SqlitePolicyRepository } from '../../src/store/sqlite-policy-repository.js';
import { defaultUrlBase } from '../../src/core/function-url.js';
import { tempDir } from './server-process.js';

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

/** A real FileCodeStore whose `prepare` first passes the gate. */
class GatedCodeStore implements CodeStore {
  readonly #inner: FileCodeStore;
  readonly #gate: PreparationGate;
  constructor(inner: FileCodeStore, gate: PreparationGate) {
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

/** What a test may set: a verifier (default: none, as `--auth none`) and the body budget. */
export interface InProcessOptions {
  readonly verifier?: Sigv4Verifier;
  readonly bodyBudget?: BodyBudget;
}

export async function inProcessApi(
  dataDir = tempDir().path,
  options: InProcessOptions = {},
): Promise<InProcessApi> {
  const bodyBudget = options.bodyBudget ?? new BodyBudget();
  const db = await openSqliteDatabase(join(dataDir, 'lamina.db'));
  const repository = new SqliteFunctionRepository(db);
  const gate = new PreparationGate();
  const code = new GatedCodeStore(new FileCodeStore(join(dataDir, 'code')), gate);
  const collector = new CodeCollector(repository, code);
  const ids = { uuid: () => randomUUID() };
  const preparation = new PreparationQueue(repository, code, collector, ids, (name, error) => {
    throw new Error(`preparation of ${name} failed: ${String(error)}`);
  });
  const scope = { region: 'us-east-1', accountId: '000000000000' };
  const versions = new SqliteVersionRepository(db);
  const aliases = new SqliteAliasRepository(db);
  const layers = new LayerService({
    scope,
    repository: new SqliteLayerRepository(db),
    code,
    collector,
    clock: { now: () => Date.now() },
    ids,
  });
  const functions = new FunctionService({
    layers,
    scope,
    repository,
    versions,
    aliases,
    code,
    collector,
    preparation,
    runtimes: new RuntimeCatalog(['nodejs20.x', 'python3.11', 'provided.al2023', 'provided.al2']),
    clock: { now: () => Date.now() },
    ids,
  });
  const concurrency = new ConcurrencyService(scope, repository, {
    accountLimit: 1000,
    minimumUnreserved: 100,
  });
  const clock = { now: () => Date.now() };
  const configs = new SqliteEventInvokeConfigRepository(db);
  const asyncStore = new SqliteAsyncEventStore(db);
  const app = buildLambdaHttpApi({
    bodyBudget,
    context: {
      scope,
      functions,
      layers,
      versions: new VersionService(scope, repository, versions, { now: () => Date.now() }, ids),
      aliases: new AliasService(scope, repository, versions, aliases, ids),
      invocations: {
        invoke: () => Promise.reject(new Error('invocation is not wired in control-plane tests')),
        invokeStreaming: () =>
          Promise.reject(new Error('invocation is not wired in control-plane tests')),
        check: () => Promise.reject(new Error('invocation is not wired in control-plane tests')),
      },
      concurrency,
      // Control-plane tests run no environments: provisioning is not started.
      provisioned: new ProvisionedConcurrencyService({
        scope,
        clock: { now: () => Date.now() },
        functions: repository,
        versions,
        aliases,
        configs: new SqliteProvisionedConcurrencyRepository(db),
        concurrency,
        provisioning: {
          apply: () => undefined,
          refresh: () => undefined,
          remove: () => Promise.resolve(),
          removeFunction: () => Promise.resolve(),
          state: () => undefined,
        },
      }),
      eventInvokeConfigs: new EventInvokeConfigService({
        scope,
        functions: repository,
        versions,
        aliases,
        configs,
        clock,
      }),
      // Events are stored but not run: no dispatcher in control-plane tests.
      asyncEvents: new AsyncEventService({
        scope,
        store: asyncStore,
        targets: new ServiceAsyncTargets(functions, configs, concurrency),
        clock,
        ids,
        onEnqueued: () => undefined,
        retentionMs: 7 * 24 * 3_600_000,
        onError: (error) => {
          throw error;
        },
      }),
      functionUrls: new FunctionUrlService({
        scope,
        functions: repository,
        aliases,
        urls: new SqliteFunctionUrlRepository(db),
        clock,
        ids,
      }),
      permissions: new PermissionService({
        scope,
        functions: repository,
        versions,
        aliases,
        policies: new SqlitePolicyRepository(db),
        ids,
      }),
      urlBase: () => defaultUrlBase(scope.region, 9000),
      prestartedStatus: () => [],
      runtimeVersionArn: (runtime) => `arn:aws:lambda:us-east-1::runtime:${runtime}`,
      codeLocation: (sha, host) => Promise.resolve(`http://${host}/lamina/2026-11-01/code/${sha}`),
      openCode: async (sha) => ((await code.has(sha)) ? code.open(sha) : undefined),
    },
    verifier: options.verifier,
    logger: pino({ level: 'silent' }),
    urlDomains: [defaultUrlBase(scope.region, 9000).domain],
  });
  await app.ready();
  return {
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
      await app.close();
      await asyncStore.flush();
      await preparation.stop();
      await db.destroy();
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
