/**
 * Composition of event sources: the broker registry, the mapping API's service, and the
 * supervisor that runs mappings, invoking functions the way Invoke does and sending failed
 * batches through the asynchronous queue to their OnFailure function.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import type { IdSource } from '../core/ids.js';
import type { AsyncEventService } from '../async/async-event-service.js';
import { BatchProcessor, type BatchProcessorDeps } from '../event-sources/batch-processor.js';
import { BrokerService } from '../event-sources/broker-service.js';
import { MappingService } from '../event-sources/mapping-service.js';
import { MappingSupervisor } from '../event-sources/mapping-supervisor.js';
import type { BatchOutcome, MappingFunctions } from '../event-sources/ports.js';
import type { CachedFunctionLookup } from '../functions/cached-function-lookup.js';
import type { InvokeService } from '../invoke/invoke-service.js';
import type { Database } from '../store/database-schema.js';
import type { SecretBox } from '../store/secret-box.js';
import {
  SqliteBrokerRepository,
  SqliteMappingRepository,
} from '../store/sqlite-event-source-repositories.js';
import { BrokerSourceConnector } from '../triggers/source-connector.js';

export interface EventSources {
  readonly mappings: MappingService;
  readonly brokers: BrokerService;
  readonly supervisor: MappingSupervisor;
}

export function buildEventSources(deps: {
  readonly db: Kysely<Database>;
  readonly secrets: SecretBox;
  readonly scope: Scope;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly logger: Logger;
  readonly lookup: CachedFunctionLookup;
  readonly invocations: () => InvokeService | undefined;
  readonly asyncEvents: Pick<AsyncEventService, 'accept'>;
  /** Hears of batches and of failed batches their OnFailure function could not get (metrics). */
  readonly observer?: BatchProcessorDeps['observer'];
}): EventSources {
  const { scope, clock, ids } = deps;
  const mappings = new SqliteMappingRepository(deps.db);
  const brokerRepository = new SqliteBrokerRepository(deps.db, deps.secrets);
  const brokers = new BrokerService({ scope, clock, ids, brokers: brokerRepository, mappings });
  const functions: MappingFunctions = {
    resolve: async (name) => {
      try {
        const { record, ref } = (await deps.lookup.get(name, undefined)).found;
        return { name: record.name, qualifier: ref.qualifier };
      } catch (error) {
        if (error instanceof LambdaError && error.code === 'ResourceNotFoundException')
          throw lambdaErrors.invalidParameter('Function does not exist');
        throw error;
      }
    },
  };
  const supervisor = new MappingSupervisor({
    mappings,
    connector: new BrokerSourceConnector((arn) => brokers.urlOf(arn), clock),
    clock,
    functionArn: (mapping) => functionArn(scope, mapping.functionName, mapping.qualifier),
    onError: (error, uuid) =>
      deps.logger.error({ err: error, uuid }, 'an event source mapping failed'),
    processor: (report, pauser) =>
      new BatchProcessor({
        clock,
        ids,
        report,
        observer: deps.observer,
        pause: (ms) => pauser.pause(ms),
        invoker: {
          invoke: async (request) => {
            const invocations = deps.invocations();
            if (invocations === undefined)
              return { kind: 'not-invoked', reason: 'The server is starting.', passing: true };
            return outcomeOf(() =>
              invocations.invokeToEnd({
                ...request,
                clientContext: undefined,
                logTail: false,
                trigger: 'mapping',
              }),
            );
          },
        },
        destination: {
          send: async (arn, record) => {
            await deps.asyncEvents.accept({
              requestId: ids.uuid(),
              functionName: arn,
              qualifier: undefined,
              payload: Buffer.from(JSON.stringify(record)),
              clientContext: undefined,
            });
          },
        },
      }),
  });
  const service = new MappingService({
    scope,
    clock,
    ids,
    mappings,
    brokers: brokerRepository,
    functions,
    changes: supervisor,
  });
  return { mappings: service, brokers, supervisor };
}

/**
 * Refusals that pass by themselves: throttled, the function not Active yet, or deleted (the
 * mapping stays, as on Lambda, and its records wait for the function or the mapping's deletion).
 */
const PASSING = new Set<string>([
  'TooManyRequestsException',
  'ResourceConflictException',
  'ResourceNotFoundException',
]);

/** An invocation's result as a batch outcome; errors before the function ran are not thrown. */
async function outcomeOf(
  run: () => ReturnType<InvokeService['invokeToEnd']>,
): Promise<BatchOutcome> {
  try {
    const result = await run();
    const { outcome } = result;
    return outcome.kind === 'success'
      ? { kind: 'success', payload: outcome.payload, executedVersion: result.executedVersion }
      : {
          kind: 'function-error',
          payload: outcome.payload,
          executedVersion: result.executedVersion,
          errorType: outcome.errorType,
        };
  } catch (error) {
    if (error instanceof LambdaError)
      return {
        kind: 'not-invoked',
        reason: `${error.code}: ${error.message}`,
        passing: PASSING.has(error.code),
      };
    throw error;
  }
}
