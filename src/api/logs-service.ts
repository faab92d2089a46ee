/**
 * CloudWatch Logs at `POST /` (awsJson1_1, `X-Amz-Target: Logs_20140328.<Operation>`, SigV4
 * service `logs`): the operations Lambda users script against, over the function logs through
 * the LogArchive port. Unknown operations, bodies that are not JSON objects and errors of every
 * kind are answered in the Logs shape. Reads (listings and events) run at most READS_AT_ONCE at
 * a time, with up to READS_WAITING more waiting; beyond that a caller is throttled (`Rate
 * exceeded`), so no number of concurrent requests can make the server hold more than a few pages
 * of events.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Clock } from '../core/clock.js';
import type { Scope } from '../core/arn.js';
import type { LogArchive } from '../monitoring/log-archive.js';
import { logsAnswer, LogsError, logsErrors, renderLogsError } from './logs-errors.js';
import { describeLogStreams, filterLogEvents, getLogEvents } from './logs-event-operations.js';
import {
  deleteLogGroup,
  deleteRetentionPolicy,
  describeLogGroups,
  putRetentionPolicy,
  type LogsContext,
  type LogsOperation,
} from './logs-group-operations.js';
import { LogsInput } from './logs-input.js';
import { LogsTokens } from './logs-tokens.js';
import type { RpcAnswer, RpcRequest, RpcService } from './rpc-service.js';

/** The target prefix of CloudWatch Logs requests. */
export const LOGS_TARGET_PREFIX = 'Logs_20140328.';

/** Largest request body taken (Logs requests are small: names, a pattern, a token). */
export const LOGS_BODY_LIMIT = 256 * 1024;

/** Reads of events that run at once, and that may wait for their turn. */
export const READS_AT_ONCE = 4;
export const READS_WAITING = 64;

const OPERATIONS: Readonly<Record<string, { run: LogsOperation; reads: boolean }>> = {
  DescribeLogGroups: { run: describeLogGroups, reads: true },
  DescribeLogStreams: { run: describeLogStreams, reads: true },
  GetLogEvents: { run: getLogEvents, reads: true },
  FilterLogEvents: { run: filterLogEvents, reads: true },
  DeleteLogGroup: { run: deleteLogGroup, reads: false },
  PutRetentionPolicy: { run: putRetentionPolicy, reads: false },
  DeleteRetentionPolicy: { run: deleteRetentionPolicy, reads: false },
};

export interface LogsServiceOptions {
  readonly archive: LogArchive;
  readonly scope: Scope;
  readonly clock: Clock;
  /** The key paging tokens are sealed with (default: random, for this run). */
  readonly tokenKey?: Buffer;
}

/** The CloudWatch Logs service of `POST /`. */
export function createLogsService(options: LogsServiceOptions): RpcService {
  const context: LogsContext = {
    archive: options.archive,
    scope: options.scope,
    clock: options.clock,
    tokens: new LogsTokens(options.tokenKey ?? randomBytes(32), options.clock),
  };
  const reads = new ReadGate(READS_AT_ONCE, READS_WAITING);
  return {
    signingName: 'logs',
    bodyLimit: LOGS_BODY_LIMIT,
    claims: (headers) => targetOf(headers)?.startsWith(LOGS_TARGET_PREFIX) === true,
    async handle(request: RpcRequest): Promise<RpcAnswer> {
      try {
        const target = targetOf(request.headers) ?? '';
        const name = target.startsWith(LOGS_TARGET_PREFIX)
          ? target.slice(LOGS_TARGET_PREFIX.length)
          : '';
        const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : undefined;
        if (operation === undefined)
          throw new LogsError(
            'UnknownOperationException',
            `The operation ${JSON.stringify(name.slice(0, 128))} is not supported by this service.`,
          );
        const input = LogsInput.parse(request.body);
        const run = () => operation.run(input, request, context);
        const body = await (operation.reads ? reads.run(run) : run());
        return logsAnswer(body, request.requestId);
      } catch (error) {
        return renderLogsError(error, request.requestId);
      }
    },
    renderError: (error: unknown, _headers: IncomingHttpHeaders, requestId: string) =>
      renderLogsError(error, requestId),
  };
}

function targetOf(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-amz-target'];
  return Array.isArray(value) ? value[0] : value;
}

/** A counting gate: `run` waits for one of `slots`, or is throttled when too many wait. */
class ReadGate {
  readonly #slots: number;
  readonly #maxWaiting: number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(slots: number, maxWaiting: number) {
    this.#slots = slots;
    this.#maxWaiting = maxWaiting;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#busy >= this.#slots) {
      if (this.#waiting.length >= this.#maxWaiting) throw logsErrors.throttled();
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#busy += 1;
    try {
      return await work();
    } finally {
      const next = this.#waiting.shift();
      // The slot passes straight to the next waiter, or is freed.
      if (next !== undefined) next();
      else this.#busy -= 1;
    }
  }
}
