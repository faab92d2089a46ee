import { DEFAULT_BODY_BUDGET_BYTES } from '../core/body-budget.js';
import { AWS_LAMBDA_PRICES, type UsagePrices } from '../core/usage-prices.js';
import { LONG_RUN_MS } from '../environment/colocation-policy.js';
import { defaultRuntimesDir } from '../runtimes/runtime-store.js';

/** Settings of a Lamina server, as the CLI fills them (defaults in `DEFAULT_CONFIG`). */
export interface ServerConfig {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  /** `sigv4` verifies every request; `none` accepts anything (local throwaway use only). */
  readonly auth: 'sigv4' | 'none';
  /**
   * Account-wide concurrent executions (GetAccountSettings, admission); default: as many 128 MB
   * environments as the environment memory holds, so the host cannot be overcommitted.
   */
  readonly concurrencyLimit: number | undefined;
  /** Reserved concurrency may not bring the unreserved pool below this (default: a tenth). */
  readonly minimumUnreservedConcurrency: number | undefined;
  /** Pre-started generic sandboxes kept per managed runtime (0 disables specialisation). */
  readonly prestartPoolSize: number;
  /** How long a GetFunction `Code.Location` URL stays valid, in seconds. */
  readonly codeUrlExpirySeconds: number;
  readonly logLevel: string;
  /** Idle environments are stopped after this long (ms). */
  readonly idleTimeoutMs: number;
  /**
   * Environments are retired once this old (ms), busy ones after their invocation; their
   * credentials expire 20 minutes after it (see `credentialLifetimeMs`).
   */
  readonly environmentMaxAgeMs: number;
  /** Sum of MemorySize of all live environments (MiB); default: 75% of the host's memory. */
  readonly environmentMemoryMiB: number | undefined;
  /** How long an invoke waits for room before 429 (ms). */
  readonly queueTimeoutMs: number;
  /** Init phase limit (ms). */
  readonly initLimitMs: number;
  /** Most asynchronous events running at once (each still subject to concurrency admission). */
  readonly asyncConcurrency: number;
  /** How long finished asynchronous events stay visible before they are pruned (ms). */
  readonly asyncEventRetentionMs: number;
  /** How long invocation records are kept (`--invocation-record-retention`, ms). */
  readonly invocationRecordRetentionMs: number;
  /** What usage is priced at (`--prices FILE`; default AWS Lambda's published prices). */
  readonly prices: UsagePrices;
  /**
   * Whether invocations are watched (records, usage, metrics, spans); `--observability off` is
   * for measuring what watching costs.
   */
  readonly observability: boolean;
  /**
   * Public base of function URLs (`https://lambda-url.example.com` gives
   * `https://<url-id>.lambda-url.example.com/`); default `http://lambda-url.<region>.localhost:<port>`.
   */
  readonly functionUrlBase: string | undefined;
  /**
   * Pin the event loop to one CPU and run the environment of invocations that come one at a time
   * on it (fewer cross-CPU wake-ups per invoke); environments go back to every CPU under load.
   */
  readonly cpuColocation: boolean;
  /** How long a co-located invocation may run before it and the event loop are let go (ms). */
  readonly cpuColocationReleaseMs: number;
  /**
   * Most processes all environments may run together (`pids.max` of their parent cgroup);
   * default: half of the smaller of the host's `kernel.pid_max` and `kernel.threads-max`.
   */
  readonly environmentProcessLimit: number | undefined;
  /**
   * Bytes of request bodies the server receives at once, summed over all requests (default
   * 256 MiB): a body that does not fit is refused with 429 before it is read.
   */
  readonly requestBodyMemoryBytes: number;
  /**
   * Run functions as plain processes of the server's user, with no sandbox at all (no isolation,
   * no limits): for tests and for development on machines without bubblewrap. Unsafe.
   */
  readonly unsafePlainProcesses: boolean;
  /**
   * Outbound network for functions (`--function-network`): each environment gets its own network
   * namespace with NAT to the world; the host, link-local addresses and other environments stay
   * out of reach. Off: loopback only.
   */
  readonly functionNetwork: boolean;
  /**
   * Host services functions may use (`--function-allow HOST:PORT`), reached inside every
   * environment at host.lamina.internal on the same port; ports are distinct.
   */
  readonly functionAllow: readonly { readonly host: string; readonly port: number }[];
  /** More destinations functions may not reach (`--function-deny`), as CIDR blocks. */
  readonly functionDeny: readonly string[];
  /** Name servers for functions (`--function-dns`); default: the host's, loopback ones left out. */
  readonly functionDns: readonly string[] | undefined;
  /**
   * `--legacy-function-access`: the roles made at start for functions that named a role that
   * does not exist also get AWSLambda_FullAccess (else only AWSLambdaBasicExecutionRole).
   */
  readonly legacyFunctionAccess: boolean;
  /** The installed managed runtimes (`--runtimes-dir`; `npx lamina runtimes` manages it). */
  readonly runtimesDir: string;
  /**
   * Registry hosts (`host` or `host:port`) images may be pulled from over plain HTTP
   * (`--insecure-registry`); loopback hosts always may, as Docker allows.
   */
  readonly insecureRegistries: readonly string[];
  /**
   * Serve Prometheus's `/metrics` on this port of `host` instead of the API port
   * (`--metrics-port`; 0 picks a free one); undefined: on the API port.
   */
  readonly metricsPort: number | undefined;
  /**
   * The bearer token `/metrics` requires (`--metrics-token`, `LAMINA_METRICS_TOKEN`); undefined:
   * loopback clients only.
   */
  readonly metricsToken: string | undefined;
  /**
   * An OpenTelemetry collector's OTLP/HTTP base URL (`--otlp-endpoint`, e.g.
   * `http://127.0.0.1:4318`): the platform's spans of sampled invocations go to its `/v1/traces`.
   * Undefined: no spans are made.
   */
  readonly otlpEndpoint: string | undefined;
  /** Platform spans waiting for the collector, at most (`--otlp-span-buffer`); more are dropped. */
  readonly otlpSpanBuffer: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  host: '127.0.0.1',
  port: 9000,
  // Root: a system folder the sandbox's unprivileged uid can reach; others: beside the project.
  dataDir: process.getuid?.() === 0 ? '/var/lib/lamina' : '.lamina',
  region: 'us-east-1',
  accountId: '000000000000',
  auth: 'sigv4',
  concurrencyLimit: undefined,
  minimumUnreservedConcurrency: undefined,
  prestartPoolSize: 2,
  codeUrlExpirySeconds: 600,
  logLevel: 'info',
  idleTimeoutMs: 10 * 60 * 1000,
  environmentMaxAgeMs: 4 * 3_600_000,
  environmentMemoryMiB: undefined,
  queueTimeoutMs: 2000,
  initLimitMs: 10_000,
  asyncConcurrency: 32,
  asyncEventRetentionMs: 7 * 24 * 3_600_000,
  invocationRecordRetentionMs: 7 * 24 * 3_600_000,
  prices: AWS_LAMBDA_PRICES,
  observability: true,
  functionUrlBase: undefined,
  cpuColocation: true,
  cpuColocationReleaseMs: LONG_RUN_MS,
  environmentProcessLimit: undefined,
  requestBodyMemoryBytes: DEFAULT_BODY_BUDGET_BYTES,
  unsafePlainProcesses: false,
  functionNetwork: true,
  functionAllow: [],
  functionDeny: [],
  legacyFunctionAccess: false,
  functionDns: undefined,
  runtimesDir: defaultRuntimesDir(),
  insecureRegistries: [],
  metricsPort: undefined,
  metricsToken: undefined,
  otlpEndpoint: undefined,
  otlpSpanBuffer: 2048,
};

/** The smallest MemorySize: the default concurrency limit counts environments of this size. */
const SMALLEST_FUNCTION_MIB = 128;

/** Concurrency limits from the configuration, or derived from the environment memory. */
export function concurrencyLimits(
  config: ServerConfig,
  environmentMemoryMiB: number,
): { accountLimit: number; minimumUnreserved: number } {
  const accountLimit =
    config.concurrencyLimit ??
    Math.max(10, Math.floor(environmentMemoryMiB / SMALLEST_FUNCTION_MIB));
  return {
    accountLimit,
    minimumUnreserved:
      config.minimumUnreservedConcurrency ?? Math.min(100, Math.floor(accountLimit / 10)),
  };
}

/**
 * How long an environment's credentials are valid: its maximum age, plus time for the reaper to
 * notice it (at most 30 s) and for the invocation it is serving then to end (at most 15 minutes).
 */
export function credentialLifetimeMs(config: Pick<ServerConfig, 'environmentMaxAgeMs'>): number {
  return config.environmentMaxAgeMs + 20 * 60 * 1000;
}
