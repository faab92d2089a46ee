/** Ports the event sources need; adapters implement them and the server wires them. */
import type { EventSourceMapping, MappingSource } from '../core/event-source-mapping.js';

/** Durable storage of mappings. */
export interface MappingRepository {
  get(uuid: string): Promise<EventSourceMapping | undefined>;
  /** Inserts or replaces. */
  put(mapping: EventSourceMapping): Promise<void>;
  delete(uuid: string): Promise<void>;
  /** Mappings by UUID order after `afterUuid`, of one function and/or one source, at most `limit`. */
  list(filter: {
    readonly functionName?: string | undefined;
    readonly sourceArn?: string | undefined;
    readonly afterUuid?: string | undefined;
    readonly limit: number;
  }): Promise<EventSourceMapping[]>;
  /** Every mapping (the supervisor's start). */
  all(): Promise<EventSourceMapping[]>;
  /**
   * Sets status fields in one write without reading first (the API may be changing the mapping
   * meanwhile); a mapping being deleted is left alone.
   */
  patchStatus(
    uuid: string,
    fields: Partial<
      Pick<EventSourceMapping, 'state' | 'stateTransitionReason' | 'lastProcessingResult'>
    >,
  ): Promise<void>;
}

/** A broker registered with Lamina (RabbitMQ), presented as an Amazon MQ broker. */
export interface Broker {
  readonly name: string;
  /** `b-` and a UUID, as Amazon MQ's broker ids. */
  readonly brokerId: string;
  readonly arn: string;
  readonly engineType: 'RABBITMQ';
  /** The URL with its password hidden (`amqp://user:****@host:5672/vhost`). */
  readonly displayUrl: string;
  readonly createdMs: number;
}

export interface BrokerRepository {
  get(name: string): Promise<{ broker: Broker; url: string } | undefined>;
  /** False when the name is taken. */
  insert(broker: Broker, url: string): Promise<boolean>;
  delete(name: string): Promise<boolean>;
  list(): Promise<Broker[]>;
}

/** One record read from a source, as its event shows it. */
export interface SourceRecord {
  /** What `batchItemFailures[].itemIdentifier` names: a message id or a stream sequence. */
  readonly id: string;
  /** Records are delivered in order within a partition (a queue; a stream's subject or stream). */
  readonly partition: string;
  readonly arrivalMs: number;
  /** The record in the function's event. */
  readonly event: Record<string, unknown>;
  /** What filters see: the record with its data decoded (JSON when it is JSON). */
  readonly filterView: Record<string, unknown>;
}

/**
 * A connection to one queue or stream. `next` resolves with up to `max` records, waiting at most
 * `windowMs` after the first one for more (and indefinitely for the first, until `close`); it
 * rejects when the connection fails (the supervisor reconnects). Records stay the source's until
 * `settle`d: a crash before then delivers them again.
 */
export interface RecordSource {
  next(max: number, windowMs: number): Promise<SourceRecord[]>;
  /** The function's event for a batch of this source's records (AWS's shape for the source). */
  eventOf(records: readonly SourceRecord[]): Record<string, unknown>;
  /** What the OnFailure record says of a batch (its `…BatchInfo` member). */
  batchInfoOf(records: readonly SourceRecord[]): Record<string, unknown>;
  /** Whether a failed record holds back the records after it (streams) or not (queues). */
  readonly ordered: boolean;
  /** `done` records are processed (or sent to the OnFailure destination); `rejected` could not be. */
  settle(done: readonly SourceRecord[], rejected: readonly SourceRecord[]): Promise<void>;
  /** Ends a pending `next` at once (answering no records); the source is closing. */
  interrupt(): void;
  close(): Promise<void>;
}

/** Opens sources; throws (a connection or authentication problem) with a message for the user. */
export interface SourceConnector {
  open(mapping: EventSourceMapping, source: MappingSource): Promise<RecordSource>;
}

/** A function's answer to a batch. */
export type BatchOutcome =
  | { readonly kind: 'success'; readonly payload: Buffer; readonly executedVersion: string }
  | {
      readonly kind: 'function-error';
      readonly payload: Buffer;
      readonly executedVersion: string;
      readonly errorType: string;
    }
  /**
   * The function could not be run. `passing`: for a reason that passes by itself (throttled, not
   * Active yet, deleted while the mapping stays): tried again without using up a retry.
   */
  | { readonly kind: 'not-invoked'; readonly reason: string; readonly passing: boolean };

/** Runs a function synchronously, as Invoke does (concurrency, logs). */
export interface MappingInvoker {
  invoke(request: {
    readonly requestId: string;
    readonly functionName: string;
    readonly qualifier: string | undefined;
    readonly payload: Buffer;
    /** The batch's trace (an X-Ray header whose Parent is the batch's span), continued by the invocation. */
    readonly traceHeader: string;
  }): Promise<BatchOutcome>;
}

/** Sends the record of a batch that could not be processed to a function (asynchronously). */
export interface FailureDestination {
  send(functionArn: string, record: Record<string, unknown>): Promise<void>;
}

/** What the mapping service asks of functions. */
export interface MappingFunctions {
  /**
   * The function (its plain name and qualifier) the mapping invokes; throws Lambda's
   * InvalidParameterValueException "Function does not exist" when there is none.
   */
  resolve(
    functionName: string,
  ): Promise<{ readonly name: string; readonly qualifier: string | undefined }>;
}
