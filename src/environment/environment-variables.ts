/** The environment of a function's runtime process: Lambda's reserved variables + the user's. */
import type { FunctionSettings } from '../core/function-model.js';

/** What the variables are derived from. */
export interface EnvironmentInputs {
  readonly functionName: string;
  readonly version: string;
  readonly region: string;
  readonly settings: FunctionSettings;
  readonly logStreamName: string;
  readonly initializationType: 'on-demand' | 'provisioned-concurrency';
  /** Variables the runtime adds (AWS_EXECUTION_ENV, NODE_PATH, PYTHONPATH, …). */
  readonly runtimeEnv: Readonly<Record<string, string>>;
  /** The function's own credentials and the Lamina API reachable from inside, if any. */
  readonly credentials?:
    | {
        readonly accessKeyId: string;
        readonly secretAccessKey: string;
        readonly sessionToken: string;
      }
    | undefined;
  readonly laminaEndpoint?: string | undefined;
  /** The environment's OTLP endpoint (`http://127.0.0.1:9003`), if the server has a collector. */
  readonly otlpEndpoint?: string | undefined;
}

export const RUNTIME_API = '127.0.0.1:9001';
/**
 * Where a jail reaches its OTLP endpoint (with `--otlp-endpoint`): not 4318, which an
 * OpenTelemetry collector a function brings as a layer listens on.
 */
export const OTLP_ADDRESS = '127.0.0.1:9003';
/**
 * Where the jail shows the Runtime API's own unix socket (the relay behind RUNTIME_API connects to
 * it): Lamina's runtime clients, told by LAMINA_RUNTIME_SOCKET, talk to it directly.
 */
export const RUNTIME_API_SOCKET = '/run/lamina/runtime.sock';

/** Unreserved defaults; the function's own variables may override them. */
const DEFAULTS: Readonly<Record<string, string>> = {
  TZ: ':UTC',
  LANG: 'en_US.UTF-8',
  PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
  LD_LIBRARY_PATH:
    '/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib',
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  // Lambda points these at its X-Ray daemon; nothing listens here, and UDP sends are dropped.
  AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
  _AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1',
  _AWS_XRAY_DAEMON_PORT: '2000',
};

/**
 * The environment a pre-started runtime boots with, before it is bound to a function: what the
 * process start depends on, and the flag that makes it wait for its assignment.
 */
export function prestartVariables(
  runtimeEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  return {
    ...DEFAULTS,
    ...runtimeEnv,
    AWS_LAMBDA_RUNTIME_API: RUNTIME_API,
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    LAMINA_PRESTARTED: '1',
  };
}

/**
 * Whether a function's own variables configure its OTLP exporting: any `OTEL_EXPORTER_OTLP_*`
 * (a per-signal endpoint, headers, protocol), or `AWS_LAMBDA_EXEC_WRAPPER`, which the
 * OpenTelemetry Lambda layers use to start the SDK pointed at their collector extension's default
 * (localhost:4318). Lamina's endpoint would override either, so it is not set then.
 */
export function bringsOwnExporting(
  environment: Readonly<Record<string, string>> | undefined,
): boolean {
  if (environment === undefined) return false;
  return Object.keys(environment).some(
    (name) => name === 'AWS_LAMBDA_EXEC_WRAPPER' || name.startsWith('OTEL_EXPORTER_OTLP_'),
  );
}

export function environmentVariables(inputs: EnvironmentInputs): Record<string, string> {
  const s = inputs.settings;
  const env: Record<string, string> = {
    ...DEFAULTS,
    ...inputs.runtimeEnv,
    // The SDKs' exporters send every signal there (`/v1/traces`, …), unless the function
    // configures its own exporting (see bringsOwnExporting).
    ...(inputs.otlpEndpoint === undefined || bringsOwnExporting(s.environment)
      ? {}
      : { OTEL_EXPORTER_OTLP_ENDPOINT: inputs.otlpEndpoint }),
    ...(s.environment ?? {}),
    // Reserved: always the platform's values.
    _HANDLER: s.handler,
    AWS_REGION: inputs.region,
    AWS_DEFAULT_REGION: inputs.region,
    AWS_LAMBDA_FUNCTION_NAME: inputs.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(s.memoryMiB),
    AWS_LAMBDA_FUNCTION_VERSION: inputs.version,
    AWS_LAMBDA_INITIALIZATION_TYPE: inputs.initializationType,
    AWS_LAMBDA_LOG_GROUP_NAME: s.logging.logGroup,
    AWS_LAMBDA_LOG_STREAM_NAME: inputs.logStreamName,
    AWS_LAMBDA_RUNTIME_API: RUNTIME_API,
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
  };
  if (s.logging.format === 'JSON') {
    env['AWS_LAMBDA_LOG_FORMAT'] = 'JSON';
    if (s.logging.applicationLogLevel !== undefined)
      env['AWS_LAMBDA_LOG_LEVEL'] = s.logging.applicationLogLevel;
  }
  if (inputs.credentials !== undefined) {
    env['AWS_ACCESS_KEY_ID'] = inputs.credentials.accessKeyId;
    env['AWS_SECRET_ACCESS_KEY'] = inputs.credentials.secretAccessKey;
    env['AWS_SESSION_TOKEN'] = inputs.credentials.sessionToken;
  }
  if (inputs.laminaEndpoint !== undefined) env['AWS_ENDPOINT_URL_LAMBDA'] = inputs.laminaEndpoint;
  return env;
}
