/** The shapes shared by the route table, the handlers and the HTTP adapter. */
import type { InvocationHistory } from '../monitoring/invocation-history.js';
import type { BrokerService } from '../event-sources/broker-service.js';
import type { RegistryService } from '../functions/registry-service.js';
import type { MappingService } from '../event-sources/mapping-service.js';
import type { Readable } from 'node:stream';
import type { AsyncEventService } from '../async/async-event-service.js';
import type { AliasService } from '../functions/alias-service.js';
import type { ConcurrencyService } from '../functions/concurrency-service.js';
import type { EventInvokeConfigService } from '../functions/event-invoke-config-service.js';
import type { FunctionService } from '../functions/function-service.js';
import type { FunctionUrlService } from '../functions/function-url-service.js';
import type { PermissionService } from '../functions/permission-service.js';
import type { LayerService } from '../functions/layer-service.js';
import type { ProvisionedConcurrencyService } from '../functions/provisioned-concurrency-service.js';
import type { VersionService } from '../functions/version-service.js';
import type { InvokeService } from '../invoke/invoke-service.js';
import type { ScheduleService } from '../schedules/schedule-service.js';
import type { PrestartedFamilyStatus } from '../environment/prestarted-pool.js';
import type { Scope } from '../core/arn.js';
import type { FunctionSettings } from '../core/function-model.js';
import type { UrlBase } from '../core/function-url.js';
import type { LiftedBlob } from './json-blob-lifter.js';

/** What every handler may use. */
export interface ApiContext {
  readonly scope: Scope;
  readonly functions: FunctionService;
  readonly layers: LayerService;
  readonly versions: VersionService;
  readonly aliases: AliasService;
  readonly concurrency: ConcurrencyService;
  readonly provisioned: ProvisionedConcurrencyService;
  readonly invocations: Pick<InvokeService, 'invoke' | 'invokeStreaming' | 'check'>;
  /** Pre-started sandboxes per runtime family (Lamina's own status API). */
  readonly prestartedStatus: () => readonly PrestartedFamilyStatus[];
  /** Past invocations' records, and usage with its price. */
  readonly invocationHistory: Pick<InvocationHistory, 'list' | 'usage'>;
  readonly eventInvokeConfigs: EventInvokeConfigService;
  /** The asynchronous queue: accepting Event invokes, looking events up, replaying them. */
  readonly asyncEvents: Pick<AsyncEventService, 'accept' | 'get' | 'list' | 'replay'>;
  readonly functionUrls: FunctionUrlService;
  readonly permissions: PermissionService;
  readonly eventSourceMappings: Pick<
    MappingService,
    'create' | 'get' | 'update' | 'delete' | 'list'
  >;
  /** Logins for container registries (image functions' pulls). */
  readonly registries: Pick<RegistryService, 'login' | 'logout' | 'get' | 'list'>;
  /** Lamina's registry of RabbitMQ brokers (presented as Amazon MQ brokers). */
  readonly brokers: Pick<BrokerService, 'add' | 'get' | 'list' | 'remove'>;
  /** EventBridge Scheduler's schedules, schedule groups and their tags. */
  readonly schedules: Pick<
    ScheduleService,
    | 'create'
    | 'get'
    | 'update'
    | 'delete'
    | 'list'
    | 'createGroup'
    | 'getGroup'
    | 'deleteGroup'
    | 'listGroups'
    | 'listTags'
    | 'tag'
    | 'untag'
  >;
  /** Where function URLs live (known once the server listens: the default uses its port). */
  readonly urlBase: () => UrlBase;
  /** `RuntimeVersionArn` of a runtime on this host. */
  readonly runtimeVersionArn: (settings: FunctionSettings) => string | undefined;
  /** A URL, valid for a while, from which the stored zip can be downloaded. */
  readonly codeLocation: (sha256Hex: string, host: string) => Promise<string>;
  /** Opens a stored zip, or undefined when it does not exist. */
  readonly openCode: (sha256Hex: string) => Promise<Readable | undefined>;
}

/** A request as handlers see it: decoded path labels, decoded query, raw body. */
export interface ApiRequest {
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string | string[] | undefined>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The raw body; for code uploads, its JSON with the `ZipFile` values lifted out (`lifted`). */
  readonly body: Buffer;
  /** The `ZipFile` values of a code upload, decoded as the body arrived (for `parseJsonObject`). */
  readonly lifted: readonly LiftedBlob[];
  readonly host: string;
  /** The request id sent back as `x-amzn-RequestId` (an invocation's id, for Invoke). */
  readonly requestId: string;
}

/** A handler's answer: JSON (object), raw bytes, a stream, or nothing. */
export interface ApiResponse {
  readonly status: number;
  readonly json?: unknown;
  readonly body?: Buffer;
  readonly stream?: Readable;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (ctx: ApiContext, req: ApiRequest) => Promise<ApiResponse>;

/** First value of a query parameter. */
export function queryValue(req: ApiRequest, name: string): string | undefined {
  const value = req.query[name];
  return Array.isArray(value) ? value[0] : value;
}

/** All values of a repeated query parameter. */
export function queryValues(req: ApiRequest, name: string): string[] {
  const value = req.query[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** A path label that the route guarantees. */
export function param(req: ApiRequest, name: string): string {
  return req.params[name] ?? '';
}
