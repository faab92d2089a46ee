/** Row types of the metadata database, as Kysely sees them. */
import type { Generated } from 'kysely';

export interface FunctionsTable {
  name: string;
  created_ms: number;
  tags_json: string;
  reserved_concurrency: number | null;
  last_version: Generated<number>;
}

export interface AliasesTable {
  function_name: string;
  name: string;
  record_json: string;
}

export interface FunctionVersionsTable {
  function_name: string;
  version: string;
  record_json: string;
  code_sha256: string;
  ready_code_sha256: string | null;
  code_size: number;
  awaiting_preparation: number;
}

export interface ProvisionedConcurrencyTable {
  function_name: string;
  qualifier: string;
  requested: number;
  last_modified_ms: number;
}

export interface InvocationRecordsTable {
  seq: Generated<number>;
  request_id: string;
  function_name: string;
  executed_version: string;
  qualifier: string | null;
  trigger: string;
  received_ms: number;
  start_ms: number;
  end_ms: number;
  cold: number;
  init_duration_ms: number | null;
  duration_ms: number;
  billed_duration_ms: number;
  memory_size_mib: number;
  max_memory_used_mib: number;
  architecture: string;
  outcome: string;
  error_type: string | null;
  trace_header: string;
  provisioned: number;
}

export interface UsageHoursTable {
  function_name: string;
  version: string;
  architecture: string;
  hour_ms: number;
  requests: Generated<number>;
  billed_ms: Generated<number>;
  mib_ms: Generated<number>;
  provisioned_duration_mib_ms: Generated<number>;
  provisioned_mib_ms: Generated<number>;
}

export interface AsyncEventsTable {
  seq: Generated<number>;
  request_id: string;
  function_name: string;
  qualifier: string | null;
  payload: Buffer;
  client_context: string | null;
  status: string;
  attempts: number;
  backoffs: number;
  throttles: number;
  enqueued_ms: number;
  last_attempt_ms: number | null;
  next_attempt_ms: number | null;
  finished_ms: number | null;
  condition: string | null;
  error_type: string | null;
  error_message: string | null;
  response: Buffer | null;
  executed_version: string | null;
  function_error: string | null;
  replay_of: string | null;
  /** The sender's retry limits (AsyncLimits) as JSON, if any. */
  limits_json: string | null;
  /** The X-Ray trace header the event's attempts and destination continue. */
  trace_header: string | null;
  /** What sent it when not an Event invoke (`schedule`); null: `async`. */
  trigger: string | null;
}

export interface EventInvokeConfigsTable {
  function_name: string;
  qualifier: string;
  maximum_retry_attempts: number | null;
  maximum_event_age_seconds: number | null;
  on_success: string | null;
  on_failure: string | null;
  last_modified_ms: number;
}

export interface FunctionUrlsTable {
  function_name: string;
  /** '' for the unqualified function. */
  qualifier: string;
  url_id: string;
  auth_type: string;
  invoke_mode: string | null;
  cors_json: string | null;
  creation_ms: number;
  last_modified_ms: number;
}

export interface ResourcePoliciesTable {
  function_name: string;
  /** '' for the unqualified function. */
  qualifier: string;
  statements_json: string;
  revision_id: string;
}

export interface LayersTable {
  name: string;
  last_version: number;
}

export interface LayerVersionsTable {
  layer_name: string;
  version: number;
  record_json: string;
  code_sha256: string;
}

export interface IamNamedTable {
  name: string;
  record_json: string;
}

export interface IamGroupMembersTable {
  group_name: string;
  user_name: string;
}

export interface IamAccessKeysTable {
  access_key_id: string;
  user_name: string;
  status: string;
  create_date_ms: number;
  /** The secret, sealed with the key kept apart from the database (SecretBox). */
  secret_sealed: string;
}

export interface IamPoliciesTable {
  arn: string;
  record_json: string;
}

export interface IamPolicyVersionsTable {
  arn: string;
  version_id: string;
  record_json: string;
}

export interface IamInlinePoliciesTable {
  holder_kind: string;
  holder_name: string;
  policy_name: string;
  document: string;
}

export interface IamAttachmentsTable {
  holder_kind: string;
  holder_name: string;
  policy_arn: string;
}

export interface BrokersTable {
  name: string;
  record_json: string;
  /** The connection URL (it may hold a password), sealed with the secrets key (SecretBox). */
  url_sealed: string;
}

export interface RegistryLoginsTable {
  host: string;
  record_json: string;
  /** The registry password, sealed with the secrets key (SecretBox). */
  password_sealed: string;
}

export interface EventSourceMappingsTable {
  uuid: string;
  function_name: string;
  /** The EventSourceArn, or the endpoints of a self-managed source: what ListEventSourceMappings filters on. */
  source_arn: string;
  record_json: string;
}

export interface ScheduleGroupsTable {
  name: string;
  record_json: string;
}

export interface SchedulesTable {
  group_name: string;
  name: string;
  /** ENABLED or DISABLED (ListSchedules filters on it). */
  state: string;
  /** When the next fire is due (epoch ms); null: none (disabled, or no occurrence left). */
  due_ms: number | null;
  /** The schedule's revision: the runner records a fire only on the revision it read. */
  revision: number;
  record_json: string;
}

export interface ScheduleDeliveriesTable {
  /** The fire's request id. */
  id: string;
  group_name: string;
  schedule_name: string;
  next_try_ms: number;
  record_json: string;
}

export interface SchedulerClientTokensTable {
  operation: string;
  token: string;
  /** What the call acted on (`group/name`, or a group's name). */
  resource: string;
  used_ms: number;
}

/** A CloudWatch metric series (metric and dimensions) and the last minute it had data. */
export interface MetricSeriesTable {
  id: Generated<number>;
  series_key: string;
  namespace: string;
  metric_name: string;
  /** `[{"Name":…,"Value":…}]` in the listed order. */
  dimensions_json: string;
  last_minute_ms: number;
}

/** One minute of a series as one write of the server's memory had it. */
export interface MetricMinutesTable {
  series_id: number;
  minute_ms: number;
  batch: number;
  sample_count: number;
  sum: number;
  minimum: number;
  maximum: number;
  histogram: Uint8Array;
}

export interface MigrationRow {
  name: string;
  timestamp: Generated<string>;
}

export interface Database {
  functions: FunctionsTable;
  function_versions: FunctionVersionsTable;
  aliases: AliasesTable;
  provisioned_concurrency: ProvisionedConcurrencyTable;
  async_events: AsyncEventsTable;
  invocation_records: InvocationRecordsTable;
  usage_hours: UsageHoursTable;
  event_invoke_configs: EventInvokeConfigsTable;
  function_urls: FunctionUrlsTable;
  resource_policies: ResourcePoliciesTable;
  layers: LayersTable;
  layer_versions: LayerVersionsTable;
  iam_users: IamNamedTable;
  iam_roles: IamNamedTable;
  iam_groups: IamNamedTable;
  iam_group_members: IamGroupMembersTable;
  iam_access_keys: IamAccessKeysTable;
  iam_policies: IamPoliciesTable;
  iam_policy_versions: IamPolicyVersionsTable;
  iam_inline_policies: IamInlinePoliciesTable;
  iam_attachments: IamAttachmentsTable;
  brokers: BrokersTable;
  registry_logins: RegistryLoginsTable;
  event_source_mappings: EventSourceMappingsTable;
  schedule_groups: ScheduleGroupsTable;
  schedules: SchedulesTable;
  schedule_deliveries: ScheduleDeliveriesTable;
  scheduler_client_tokens: SchedulerClientTokensTable;
  metric_series: MetricSeriesTable;
  metric_minutes: MetricMinutesTable;
}
