/**
 * Create, Get, Update, Delete and List of event source mappings: checks and defaults (core rules),
 * durable state, and a word to the supervisor after each change, which moves the mapping out of
 * its transitional state (Creating, Enabling, Updating, Disabling, Deleting) once it has acted.
 */
import type { Clock } from '../core/clock.js';
import { compileFilters, FilterPatternError } from '../core/event-filter.js';
import {
  duplicateMappingError,
  mappingSettings,
  NO_RECORDS,
  requestedState,
  sameSource,
  USER_INITIATED,
  type EventSourceMapping,
  type MappingInput,
  type MappingSource,
} from '../core/event-source-mapping.js';
import { functionArn, type Scope } from '../core/arn.js';
import { lambdaErrors, LambdaError } from '../core/errors.js';
import type { IdSource } from '../core/ids.js';
import type { BrokerRepository, MappingFunctions, MappingRepository } from './ports.js';

/** A Create request, in model casing. */
export interface CreateMappingRequest {
  readonly functionName: string | undefined;
  readonly eventSourceArn: string | undefined;
  /** SelfManagedEventSource.Endpoints. */
  readonly endpoints: Readonly<Record<string, readonly string[]>> | undefined;
  readonly queues: readonly string[] | undefined;
  readonly topics: readonly string[] | undefined;
  readonly enabled: boolean | undefined;
  readonly settings: MappingInput;
}

/** An Update request. */
export interface UpdateMappingRequest {
  readonly functionName: string | undefined;
  readonly enabled: boolean | undefined;
  readonly settings: MappingInput;
}

/** Where the supervisor hears of changes. */
export interface MappingChanges {
  changed(uuid: string): void;
}

const NOT_FOUND = 'The resource you requested does not exist.';

export interface MappingServiceDeps {
  readonly scope: Scope;
  readonly clock: Clock;
  readonly ids: IdSource;
  readonly mappings: MappingRepository;
  readonly brokers: BrokerRepository;
  readonly functions: MappingFunctions;
  readonly changes: MappingChanges;
}

export class MappingService {
  readonly #d: MappingServiceDeps;

  constructor(deps: MappingServiceDeps) {
    this.#d = deps;
  }

  async create(request: CreateMappingRequest): Promise<EventSourceMapping> {
    const source = await this.#source(request);
    const target = await this.#d.functions.resolve(required(request.functionName, 'functionName'));
    const settings = mappingSettings(source, request.settings);
    checkFilters(settings.filterPatterns);
    const arn = functionArn(this.#d.scope, target.name, target.qualifier);
    for (const other of await this.#d.mappings.list({ functionName: target.name, limit: 10_000 }))
      if (other.qualifier === target.qualifier && sameSource(other.source, source))
        throw duplicateMappingError(source, arn, other.uuid);
    const mapping: EventSourceMapping = {
      uuid: this.#d.ids.uuid(),
      functionName: target.name,
      qualifier: target.qualifier,
      source,
      settings,
      enabled: request.enabled ?? true,
      state: 'Creating',
      stateTransitionReason: USER_INITIATED,
      lastProcessingResult: NO_RECORDS,
      lastModifiedMs: this.#d.clock.now(),
    };
    await this.#d.mappings.put(mapping);
    this.#d.changes.changed(mapping.uuid);
    return mapping;
  }

  async get(uuid: string): Promise<EventSourceMapping> {
    const mapping = await this.#d.mappings.get(uuid);
    if (mapping === undefined) throw new LambdaError('ResourceNotFoundException', NOT_FOUND);
    return mapping;
  }

  async update(uuid: string, request: UpdateMappingRequest): Promise<EventSourceMapping> {
    const current = await this.get(uuid);
    const target =
      request.functionName === undefined
        ? { name: current.functionName, qualifier: current.qualifier }
        : await this.#d.functions.resolve(request.functionName);
    const settings = mappingSettings(current.source, request.settings, current.settings);
    checkFilters(settings.filterPatterns);
    const enabled = request.enabled ?? current.enabled;
    const mapping: EventSourceMapping = {
      ...current,
      functionName: target.name,
      qualifier: target.qualifier,
      settings,
      enabled,
      state: requestedState(current.state, enabled, current.enabled),
      stateTransitionReason: USER_INITIATED,
      lastModifiedMs: this.#d.clock.now(),
    };
    await this.#d.mappings.put(mapping);
    this.#d.changes.changed(uuid);
    return mapping;
  }

  /** Answers the mapping as it is being deleted (state Deleting); the supervisor removes it. */
  async delete(uuid: string): Promise<EventSourceMapping> {
    const current = await this.get(uuid);
    const mapping: EventSourceMapping = {
      ...current,
      state: 'Deleting',
      stateTransitionReason: USER_INITIATED,
    };
    await this.#d.mappings.put(mapping);
    this.#d.changes.changed(uuid);
    return mapping;
  }

  /** A page of mappings of one function and/or one source; `marker` is the last UUID seen. */
  async list(filter: {
    readonly functionName: string | undefined;
    readonly eventSourceArn: string | undefined;
    readonly marker: string | undefined;
    readonly maxItems: number;
  }): Promise<{ mappings: EventSourceMapping[]; nextMarker: string | undefined }> {
    const functionName =
      filter.functionName === undefined
        ? undefined
        : (await this.#d.functions.resolve(filter.functionName)).name;
    const rows = await this.#d.mappings.list({
      functionName,
      sourceArn: filter.eventSourceArn,
      afterUuid: filter.marker,
      limit: filter.maxItems + 1,
    });
    const mappings = rows.slice(0, filter.maxItems);
    const last = mappings.at(-1);
    return {
      mappings,
      nextMarker: rows.length > filter.maxItems && last !== undefined ? last.uuid : undefined,
    };
  }

  /** The source a Create request names: a registered broker's queue, or a self-managed stream. */
  async #source(request: CreateMappingRequest): Promise<MappingSource> {
    const arn = request.eventSourceArn;
    if (arn !== undefined) {
      if (request.endpoints !== undefined)
        throw lambdaErrors.invalidParameter(
          'EventSourceArn and SelfManagedEventSource cannot both be set.',
        );
      return this.#brokerSource(arn, request);
    }
    if (request.endpoints === undefined)
      throw lambdaErrors.invalidParameter('Unrecognized event source.');
    return selfManagedSource(request.endpoints, request.topics);
  }

  async #brokerSource(arn: string, request: CreateMappingRequest): Promise<MappingSource> {
    const name = /^arn:aws[a-zA-Z-]*:mq:[a-z0-9-]+:\d{12}:broker:([^:]+):b-[0-9a-f-]+$/.exec(
      arn,
    )?.[1];
    if (name === undefined)
      throw lambdaErrors.invalidParameter(
        'Unrecognized event source. Lamina reads RabbitMQ brokers registered with ' +
          '`npx lamina brokers add` (arn:aws:mq:REGION:ACCOUNT:broker:NAME:b-…), and NATS ' +
          'JetStream or Redis streams through SelfManagedEventSource.',
      );
    const found = await this.#d.brokers.get(name);
    if (found === undefined || found.broker.arn !== arn)
      throw lambdaErrors.invalidParameter(`No broker is registered with the ARN ${arn}.`);
    const queues = request.queues ?? [];
    if (queues.length !== 1 || (queues[0] ?? '') === '')
      throw lambdaErrors.invalidParameter(
        'Queues must name exactly one queue for an Amazon MQ event source.',
      );
    const vhosts = (request.settings.sourceAccess ?? []).filter((a) => a.type === 'VIRTUAL_HOST');
    for (const access of request.settings.sourceAccess ?? [])
      if (access.type !== 'VIRTUAL_HOST' && access.type !== 'BASIC_AUTH')
        throw lambdaErrors.invalidParameter(
          `Unsupported source access configuration type ${access.type} for Amazon MQ.`,
        );
    if (vhosts.length > 1)
      throw lambdaErrors.invalidParameter('At most one VIRTUAL_HOST may be given.');
    if ((request.topics ?? []).length > 0)
      throw lambdaErrors.invalidParameter('Topics cannot be set for an Amazon MQ event source.');
    return {
      kind: 'rabbitmq',
      brokerArn: arn,
      queue: queues[0] ?? '',
      virtualHost: vhosts[0]?.uri,
    };
  }
}

const NATS_SERVER = /^(nats|tls):\/\/[^\s/]+$|^[^\s/:]+:\d{1,5}$/;
const REDIS_URL = /^rediss?:\/\/[^\s]+$/;

function selfManagedSource(
  endpoints: Readonly<Record<string, readonly string[]>>,
  topics: readonly string[] | undefined,
): MappingSource {
  const keys = Object.keys(endpoints);
  if (keys.includes('KAFKA_BOOTSTRAP_SERVERS'))
    throw lambdaErrors.invalidParameter(
      'Self-managed Apache Kafka is not supported by Lamina yet (no Kafka broker to test it ' +
        'against); use NATS_SERVERS (NATS JetStream) or REDIS_URLS (Redis Streams).',
    );
  const key = keys[0];
  if (keys.length !== 1 || (key !== 'NATS_SERVERS' && key !== 'REDIS_URLS'))
    throw lambdaErrors.invalidParameter(
      'SelfManagedEventSource.Endpoints must have exactly one key: NATS_SERVERS or REDIS_URLS.',
    );
  const list = endpoints[key] ?? [];
  if (list.length === 0 || list.length > 10 || list.some((e) => e.length === 0 || e.length > 300))
    throw lambdaErrors.invalidParameter(`${key} must list 1 to 10 servers.`);
  const form = key === 'NATS_SERVERS' ? NATS_SERVER : REDIS_URL;
  const bad = list.find((endpoint) => !form.test(endpoint));
  if (bad !== undefined)
    throw lambdaErrors.invalidParameter(
      key === 'NATS_SERVERS'
        ? `${bad} is not a NATS server: HOST:PORT or nats://HOST:PORT.`
        : `${bad} is not a Redis URL: redis://[USER:PASSWORD@]HOST:PORT[/DB] (or rediss://).`,
    );
  const stream = topics?.[0];
  if (topics?.length !== 1 || stream === undefined || !/^[A-Za-z0-9_.:-]{1,249}$/.test(stream))
    throw lambdaErrors.invalidParameter(
      'Topics must name exactly one stream (letters, digits, "_", "-", ".", ":"; at most 249).',
    );
  return { kind: key === 'NATS_SERVERS' ? 'nats' : 'redis', endpoints: [...list], stream };
}

function required(value: string | undefined, field: string): string {
  if (value === undefined || value === '')
    throw lambdaErrors.validation(
      `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

/** Lambda's answer to a pattern it cannot read. */
function checkFilters(patterns: readonly string[] | undefined): void {
  try {
    compileFilters(patterns ?? []);
  } catch (error) {
    if (error instanceof FilterPatternError)
      throw lambdaErrors.invalidParameter('Invalid filter pattern definition.');
    throw error;
  }
}
