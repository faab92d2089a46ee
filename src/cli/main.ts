/** The `lamina` command. */
import { addBroker, getBroker, listBrokers, removeBroker } from './brokers-command.js';
import {
  listRegistries,
  loginRegistry,
  logoutRegistry,
  readPassword,
} from './registries-command.js';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseUrlBase } from '../core/function-url.js';
import { readCredentials } from '../server/credentials.js';
import { buildLamina } from '../server/build-lamina.js';
import { DEFAULT_CONFIG, type ServerConfig } from '../server/server-config.js';
import {
  describeApiError,
  getEvent,
  listEvents,
  replayEvent,
  type EventsClientOptions,
} from './events-command.js';
import { functionLogGroups } from '../store/function-log-groups.js';
import { parseSince, printLogs } from './logs-command.js';
import { listInvocations, pricesFrom, showUsage } from './invocations-command.js';
import { INVOCATION_OUTCOMES, INVOCATION_TRIGGERS } from '../core/invocation-report.js';
import { addRuntimesCommands } from './runtimes-command.js';
import { metricsTokenProblem } from '../api/prometheus-access.js';
import { startupBanner } from './startup-banner.js';

const MiB = 1024 * 1024;

/** A comma-separated list of CIDR blocks (`10.0.0.0/8,fd00::/8`). */
function cidrList(value: string): string[] {
  return value.split(',').map((item) => {
    const [address = '', prefix, extra] = item.trim().split('/');
    const family = isIP(address);
    const bits = Number(prefix);
    if (
      family === 0 ||
      extra !== undefined ||
      !Number.isInteger(bits) ||
      bits < 0 ||
      bits > (family === 4 ? 32 : 128)
    )
      throw new InvalidArgumentError(`not a CIDR block: ${item}`);
    return `${address}/${bits}`;
  });
}

/** A comma-separated list of HOST:PORT (`[v6]:PORT` for IPv6), each port once. */
function hostPortList(value: string): Array<{ host: string; port: number }> {
  const services = value.split(',').map((item) => {
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(item.trim());
    const host = match?.[1] ?? match?.[2];
    const n = Number(match?.[3]);
    if (host === undefined || !Number.isInteger(n) || n < 1 || n > 65535)
      throw new InvalidArgumentError(`not HOST:PORT: ${item}`);
    return { host, port: n };
  });
  const ports = services.map((service) => service.port);
  const repeated = ports.find((p, i) => ports.indexOf(p) !== i);
  if (repeated !== undefined)
    throw new InvalidArgumentError(
      `port ${repeated} is given twice: functions reach every service at host.lamina.internal:PORT`,
    );
  return services;
}

/** A comma-separated list of IPv4 addresses. */
function ipv4List(value: string): string[] {
  return value.split(',').map((item) => {
    if (isIP(item.trim()) !== 4) throw new InvalidArgumentError(`not an IPv4 address: ${item}`);
    return item.trim();
  });
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('not a port number');
  return n;
}

function wholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('not a whole number');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('not a positive number of seconds');
  return n;
}

function positiveWholeNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not a whole number above 0');
  return n;
}

function duration(value: string): number {
  try {
    const ms = parseSince(value);
    if (ms > 0) return ms;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('not a duration such as 7d, 12h, 30m or 3600 (seconds)');
}

function accountId(value: string): string {
  if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError('must be 12 digits');
  return value;
}

function urlBase(value: string): string {
  try {
    parseUrlBase(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : 'not a URL');
  }
  return value;
}

/** An OTLP/HTTP base URL: http or https, no query or fragment. */
function otlpEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidArgumentError('not an http or https URL');
  if (url.search !== '' || url.hash !== '')
    throw new InvalidArgumentError('a base URL has no query or fragment');
  return value;
}

function metricsToken(value: string): string {
  const problem = metricsTokenProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(`the metrics token ${problem}`);
  return value;
}

function region(value: string): string {
  if (!/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/.test(value)) {
    throw new InvalidArgumentError('not an AWS region name such as us-east-1');
  }
  return value;
}

/** Runs the CLI with `process.argv`-style arguments. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('lamina').description(
    'Self-hosted serverless compute, wire-compatible with AWS Lambda.',
  );
  program
    .command('server')
    .description('Start the Lamina API server on the embedded store.')
    .option('--host <host>', 'address to listen on', DEFAULT_CONFIG.host)
    .option('--port <port>', 'port to listen on (0 picks a free one)', port, DEFAULT_CONFIG.port)
    .option(
      '--data-dir <dir>',
      'where metadata and code are kept',
      process.env['LAMINA_DATA_DIR'] ?? DEFAULT_CONFIG.dataDir,
    )
    .option('--region <region>', 'region Lamina presents itself as', region, DEFAULT_CONFIG.region)
    .option('--account-id <id>', 'account id in ARNs', accountId, DEFAULT_CONFIG.accountId)
    .addOption(
      new Option('--auth <mode>', 'request authentication')
        .choices(['sigv4', 'none'])
        .default('sigv4'),
    )
    .option(
      '--log-level <level>',
      'fatal, error, warn, info, debug or trace',
      DEFAULT_CONFIG.logLevel,
    )
    .option(
      '--concurrency-limit <n>',
      'account concurrent executions (default: 128 MB environments that fit in 75% of memory)',
      wholeNumber,
    )
    .option(
      '--min-unreserved-concurrency <n>',
      'concurrency reserved concurrency must leave unreserved (default: a tenth, at most 100)',
      wholeNumber,
    )
    .option(
      '--prestart-pool-size <n>',
      'pre-started generic sandboxes kept per managed runtime (0: none)',
      wholeNumber,
      DEFAULT_CONFIG.prestartPoolSize,
    )
    .option(
      '--idle-timeout <seconds>',
      'stop environments idle this long',
      seconds,
      DEFAULT_CONFIG.idleTimeoutMs / 1000,
    )
    .option(
      '--environment-max-age <duration>',
      'retire environments this old (their credentials expire 20 minutes later): 4h, 90m',
      duration,
      DEFAULT_CONFIG.environmentMaxAgeMs,
    )
    .option(
      '--async-concurrency <n>',
      'most asynchronous events running at once',
      positiveWholeNumber,
      DEFAULT_CONFIG.asyncConcurrency,
    )
    .option(
      '--async-event-retention <duration>',
      'how long finished asynchronous events stay visible: 7d, 12h, 30m',
      duration,
      DEFAULT_CONFIG.asyncEventRetentionMs,
    )
    .option(
      '--invocation-record-retention <duration>',
      'how long invocation records are kept: 7d, 12h, 30m',
      duration,
      DEFAULT_CONFIG.invocationRecordRetentionMs,
    )
    .option(
      '--prices <file>',
      "a JSON file of the prices usage is priced at (default: AWS Lambda's published prices)",
    )
    .addOption(
      new Option(
        '--observability <mode>',
        'watch invocations (records, usage, metrics, spans); off only to measure what it costs',
      )
        .choices(['on', 'off'])
        .default('on'),
    )
    .option(
      '--function-url-base <url>',
      'public base of function URLs, e.g. https://lambda-url.example.com (default: http://lambda-url.<region>.localhost:<port>)',
      urlBase,
      process.env['LAMINA_FUNCTION_URL_BASE'],
    )
    .option(
      '--environment-process-limit <n>',
      'most processes all environments may run together (default: half the host’s pid_max)',
      positiveWholeNumber,
    )
    .option(
      '--request-body-memory <MiB>',
      'request-body bytes received at once over all requests; a body that does not fit gets 429',
      positiveWholeNumber,
      DEFAULT_CONFIG.requestBodyMemoryBytes / MiB,
    )
    .addOption(
      new Option(
        '--cpu-colocation <mode>',
        "pin the event loop to one CPU and run a lone invocation's environment on it",
      )
        .choices(['on', 'off'])
        .default('on'),
    )
    .option(
      '--cpu-colocation-release <ms>',
      'a co-located invocation that runs longer is let go, with the event loop, to every CPU',
      positiveWholeNumber,
      DEFAULT_CONFIG.cpuColocationReleaseMs,
    )
    .option(
      '--unsafe-plain-processes',
      'UNSAFE: run functions as plain processes of this user, with no sandbox and no limits (tests and development without bubblewrap only)',
      false,
    )
    .addOption(
      new Option(
        '--function-network <on|off>',
        "functions' own network with outbound access (off: loopback only)",
      )
        .choices(['on', 'off'])
        .default('on'),
    )
    .option(
      '--environment-memory <MiB>',
      "function memory all environments may reserve together (default: 75% of the host's memory)",
      positiveWholeNumber,
    )
    .option(
      '--function-allow <host:port,...>',
      'host services functions may use, at host.lamina.internal:PORT (e.g. 127.0.0.1:5432)',
      hostPortList,
    )
    .option(
      '--function-deny <cidr,...>',
      'more destinations functions may not reach, e.g. an office network',
      cidrList,
    )
    .option(
      '--function-dns <ip,...>',
      "name servers for functions (default: the host's, except those on loopback)",
      ipv4List,
    )
    .option(
      '--runtimes-dir <dir>',
      'the installed managed runtimes (`lamina runtimes` manages them)',
      DEFAULT_CONFIG.runtimesDir,
    )
    .option(
      '--insecure-registry <host[:port]>',
      'a registry image functions may be pulled from over plain HTTP (repeatable; loopback registries always may)',
      (value: string, previous: string[] = []) => [...previous, value.toLowerCase()],
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics (/metrics) on this port of --host instead of the API port (0 picks a free one)',
      port,
    )
    .option(
      '--metrics-token <token>',
      'bearer token /metrics requires (or $LAMINA_METRICS_TOKEN; default: loopback clients only)',
      metricsToken,
    )
    .option(
      '--otlp-endpoint <url>',
      "an OpenTelemetry collector's OTLP/HTTP base URL (e.g. http://127.0.0.1:4318): spans of sampled invocations go to <url>/v1/traces",
      otlpEndpoint,
    )
    .option(
      '--otlp-span-buffer <spans>',
      'platform spans waiting for the collector, at most; more are dropped and counted',
      positiveWholeNumber,
      DEFAULT_CONFIG.otlpSpanBuffer,
    )
    .option(
      '--legacy-function-access',
      'roles made at start for functions that named a missing role also get AWSLambda_FullAccess (what their credentials could do before roles were checked)',
    )
    .action(async (options: Record<string, unknown>) => {
      const config: ServerConfig = {
        ...DEFAULT_CONFIG,
        host: options['host'] as string,
        port: options['port'] as number,
        dataDir: options['dataDir'] as string,
        region: options['region'] as string,
        accountId: options['accountId'] as string,
        auth: options['auth'] as 'sigv4' | 'none',
        logLevel: options['logLevel'] as string,
        idleTimeoutMs: (options['idleTimeout'] as number) * 1000,
        environmentMaxAgeMs: options['environmentMaxAge'] as number,
        concurrencyLimit: options['concurrencyLimit'] as number | undefined,
        minimumUnreservedConcurrency: options['minUnreservedConcurrency'] as number | undefined,
        prestartPoolSize: options['prestartPoolSize'] as number,
        asyncConcurrency: options['asyncConcurrency'] as number,
        asyncEventRetentionMs: options['asyncEventRetention'] as number,
        invocationRecordRetentionMs: options['invocationRecordRetention'] as number,
        prices: pricesFrom(options['prices'] as string | undefined),
        observability: options['observability'] === 'on',
        functionUrlBase: options['functionUrlBase'] as string | undefined,
        cpuColocation: options['cpuColocation'] === 'on',
        cpuColocationReleaseMs: options['cpuColocationRelease'] as number,
        environmentProcessLimit: options['environmentProcessLimit'] as number | undefined,
        requestBodyMemoryBytes: (options['requestBodyMemory'] as number) * MiB,
        unsafePlainProcesses: options['unsafePlainProcesses'] === true,
        functionNetwork: options['functionNetwork'] === 'on',
        environmentMemoryMiB: options['environmentMemory'] as number | undefined,
        functionAllow:
          (options['functionAllow'] as Array<{ host: string; port: number }> | undefined) ?? [],
        functionDeny: (options['functionDeny'] as string[] | undefined) ?? [],
        functionDns: options['functionDns'] as string[] | undefined,
        legacyFunctionAccess: options['legacyFunctionAccess'] === true,
        runtimesDir: options['runtimesDir'] as string,
        insecureRegistries: (options['insecureRegistry'] as string[] | undefined) ?? [],
        metricsPort: options['metricsPort'] as number | undefined,
        metricsToken: (options['metricsToken'] as string | undefined) ?? metricsTokenFromEnv(),
        otlpEndpoint: options['otlpEndpoint'] as string | undefined,
        otlpSpanBuffer: options['otlpSpanBuffer'] as number,
      };
      await runServer(config);
    });
  program
    .command('logs')
    .description(
      "Print a function's logs (log group /aws/lambda/<function> and its LoggingConfig LogGroup), oldest first.",
    )
    .argument('<function>', 'function name')
    .option('--since <duration>', 'how far back: 30s, 10m, 2h, 1d', '10m')
    .option('--follow', 'keep printing new log events', false)
    .option('--log-group <name>', 'read this log group instead of /aws/lambda/<function>')
    .option(
      '--data-dir <dir>',
      "the server's data directory",
      process.env['LAMINA_DATA_DIR'] ?? DEFAULT_CONFIG.dataDir,
    )
    .action(async (functionName: string, options: Record<string, unknown>) => {
      await printLogs({
        dataDir: options['dataDir'] as string,
        logGroups:
          options['logGroup'] === undefined
            ? functionLogGroups(join(options['dataDir'] as string, 'lamina.db'), functionName)
            : [options['logGroup'] as string],
        sinceMs: parseSince(options['since'] as string),
        follow: options['follow'] === true,
        write: (text) => process.stdout.write(text),
      });
    });
  addEventsCommands(program);
  addInvocationsCommands(program);
  addBrokersCommands(program);
  addRegistriesCommands(program);
  addRuntimesCommands(program);
  await program.parseAsync(argv);
}

/** `LAMINA_METRICS_TOKEN`, checked as `--metrics-token` is. */
function metricsTokenFromEnv(): string | undefined {
  const token = process.env['LAMINA_METRICS_TOKEN'];
  if (token === undefined || token === '') return undefined;
  const problem = metricsTokenProblem(token);
  if (problem !== undefined) throw new Error(`LAMINA_METRICS_TOKEN ${problem}.`);
  return token;
}

/** The options every client command takes: where the server is and how to sign for it. */
function withClientOptions(command: Command): Command {
  return command
    .option(
      '--endpoint <url>',
      "the server's endpoint",
      process.env['LAMINA_ENDPOINT'] ?? `http://${DEFAULT_CONFIG.host}:${DEFAULT_CONFIG.port}`,
    )
    .option(
      '--region <region>',
      "the server's region (SigV4 scope)",
      region,
      process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? DEFAULT_CONFIG.region,
    )
    .option(
      '--data-dir <dir>',
      "the server's data directory (for its credentials.json)",
      process.env['LAMINA_DATA_DIR'] ?? DEFAULT_CONFIG.dataDir,
    )
    .addOption(new Option('--output <format>', 'output').choices(['text', 'json']).default('text'));
}

/** `lamina registries login|list|logout`, talking to a running server's registries API. */
function addRegistriesCommands(program: Command): void {
  const registries = program
    .command('registries')
    .description('Store the logins image functions are pulled from a registry with.');
  withClientOptions(
    registries
      .command('login')
      .description("Store a registry's user name and password (anonymous pulls need none).")
      .argument('<host>', 'the registry as image URIs name it: host or host:port')
      .requiredOption('--username <name>', 'the user name')
      .option('--password <password>', 'the password (prefer --password-stdin)')
      .option('--password-stdin', 'read the password from standard input'),
  ).action(async (host: string, options: Record<string, unknown>) => {
    const given = options['password'] as string | undefined;
    const password = options['passwordStdin'] === true ? await readPassword(process.stdin) : given;
    if (password === undefined || password === '') {
      process.stderr.write('lamina registries login: give --password-stdin or --password\n');
      process.exitCode = 2;
      return;
    }
    await runClient(options, (client) =>
      loginRegistry(client, host, options['username'] as string, password),
    );
  });
  withClientOptions(registries.command('list').description('The stored logins.')).action(
    (options: Record<string, unknown>) => runClient(options, (client) => listRegistries(client)),
  );
  withClientOptions(
    registries
      .command('logout')
      .description("Forget a registry's login.")
      .argument('<host>', 'host or host:port'),
  ).action((host: string, options: Record<string, unknown>) =>
    runClient(options, (client) => logoutRegistry(client, host)),
  );
}

/** `lamina brokers add|list|get|remove`, talking to a running server's broker API. */
function addBrokersCommands(program: Command): void {
  const brokers = program
    .command('brokers')
    .description('Register the RabbitMQ brokers event source mappings read from.');
  withClientOptions(
    brokers
      .command('add')
      .description('Register a broker; prints the ARN mappings name as EventSourceArn.')
      .argument('<name>', 'a name (letters, digits, - and _)')
      .argument('<url>', 'amqp://USER:PASSWORD@HOST:5672/VHOST (or amqps://)'),
  ).action((name: string, url: string, options: Record<string, unknown>) =>
    runClient(options, (client) => addBroker(client, name, url)),
  );
  withClientOptions(brokers.command('list').description('The registered brokers.')).action(
    (options: Record<string, unknown>) => runClient(options, (client) => listBrokers(client)),
  );
  withClientOptions(
    brokers.command('get').description('One broker.').argument('<name>', 'its name'),
  ).action((name: string, options: Record<string, unknown>) =>
    runClient(options, (client) => getBroker(client, name)),
  );
  withClientOptions(
    brokers
      .command('remove')
      .description('Forget a broker (refused while a mapping reads from it).')
      .argument('<name>', 'its name'),
  ).action((name: string, options: Record<string, unknown>) =>
    runClient(options, (client) => removeBroker(client, name)),
  );
}

/** `lamina events list|get|replay`, talking to a running server's events API. */
function addEventsCommands(program: Command): void {
  const events = program
    .command('events')
    .description('Look up, list and replay asynchronous invocations (events) of a server.');
  withClientOptions(
    events
      .command('list')
      .description("A function's events, newest first.")
      .argument('<function>', 'function name or ARN')
      .option('--status <status>', 'Queued, Running, Retrying, Succeeded, Failed or Expired')
      .option('--max-items <n>', 'events per page (1–1000, default 50)', positiveWholeNumber)
      .option('--marker <marker>', 'the page after this marker (printed with the previous page)'),
  ).action((functionName: string, options: Record<string, unknown>) =>
    runClient(options, (client) =>
      listEvents(client, functionName, {
        status: options['status'] as string | undefined,
        maxItems: options['maxItems'] as number | undefined,
        marker: options['marker'] as string | undefined,
      }),
    ),
  );
  withClientOptions(
    events
      .command('get')
      .description('One event: status, attempts, error and the last response.')
      .argument('<request-id>', 'the request id its 202 answered'),
  ).action((requestId: string, options: Record<string, unknown>) =>
    runClient(options, (client) => getEvent(client, requestId)),
  );
  withClientOptions(
    events
      .command('replay')
      .description('Queue a new event with the same function and payload.')
      .argument('<request-id>', 'the event to replay'),
  ).action((requestId: string, options: Record<string, unknown>) =>
    runClient(options, (client) => replayEvent(client, requestId)),
  );
}

/** `lamina invocations` and `lamina usage`, talking to a running server's records API. */
function addInvocationsCommands(program: Command): void {
  withClientOptions(
    program
      .command('invocations')
      .description('Records of past invocations, newest first.')
      .option('--function <name>', 'only this function')
      .option('--since <time>', 'started at or after: a duration back (30m, 2h, 7d) or an ISO time')
      .option('--until <time>', 'started before: a duration back or an ISO time')
      .addOption(
        new Option('--outcome <outcome>', 'only this outcome').choices([...INVOCATION_OUTCOMES]),
      )
      .addOption(
        new Option('--trigger <trigger>', 'only this trigger').choices([...INVOCATION_TRIGGERS]),
      )
      .option('--max-items <n>', 'records per page (1–1000, default 50)', positiveWholeNumber)
      .option('--marker <marker>', 'the page after this marker (printed with the previous page)'),
  ).action((options: Record<string, unknown>) =>
    runClient(options, (client) =>
      listInvocations(client, {
        functionName: options['function'] as string | undefined,
        since: options['since'] as string | undefined,
        until: options['until'] as string | undefined,
        outcome: options['outcome'] as string | undefined,
        trigger: options['trigger'] as string | undefined,
        maxItems: options['maxItems'] as number | undefined,
        marker: options['marker'] as string | undefined,
      }),
    ),
  );
  withClientOptions(
    program
      .command('usage')
      .description('Requests, GB-seconds and their price per function version and hour or day.')
      .option('--function <name>', 'only this function')
      .option('--since <time>', 'from: a duration back (30m, 2h, 7d) or an ISO time')
      .option('--until <time>', 'to: a duration back or an ISO time')
      .addOption(
        new Option('--by <period>', 'one row per').choices(['hour', 'day']).default('hour'),
      ),
  ).action((options: Record<string, unknown>) =>
    runClient(options, (client) =>
      showUsage(client, {
        functionName: options['function'] as string | undefined,
        since: options['since'] as string | undefined,
        until: options['until'] as string | undefined,
        by: options['by'] as 'hour' | 'day',
      }),
    ),
  );
}

/**
 * Credentials as the server resolves them (LAMINA_ACCESS_KEY_ID / LAMINA_SECRET_ACCESS_KEY, then
 * the data directory's credentials.json), else the AWS CLI's variables; none: unsigned requests.
 */
async function runClient(
  options: Record<string, unknown>,
  body: (client: EventsClientOptions) => Promise<void>,
): Promise<void> {
  const env = process.env;
  const own = readCredentials(options['dataDir'] as string, env);
  const awsId = env['AWS_ACCESS_KEY_ID'];
  const awsSecret = env['AWS_SECRET_ACCESS_KEY'];
  const credentials =
    own ??
    (awsId !== undefined && awsId !== '' && awsSecret !== undefined && awsSecret !== ''
      ? { accessKeyId: awsId, secretAccessKey: awsSecret, sessionToken: env['AWS_SESSION_TOKEN'] }
      : undefined);
  try {
    await body({
      endpoint: options['endpoint'] as string,
      region: options['region'] as string,
      credentials,
      output: options['output'] as 'text' | 'json',
      write: (text) => process.stdout.write(text),
    });
  } catch (error) {
    process.stderr.write(`lamina: ${describeApiError(error, credentials !== undefined)}\n`);
    process.exitCode = 1;
  }
}

async function runServer(config: ServerConfig): Promise<void> {
  const server = await buildLamina(config);
  try {
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }
  process.stdout.write(startupBanner(server));
  const stop = (signal: string) => {
    process.stdout.write(`Lamina: ${signal} received, finishing in-flight requests…\n`);
    server.stop().then(
      () => {
        process.stdout.write('Lamina: stopped.\n');
        // Everything is closed; do not let a stray handle keep the process alive.
        process.exit(process.exitCode ?? 0);
      },
      (error: unknown) => {
        process.stderr.write(`Lamina: stop failed: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
