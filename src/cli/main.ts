/** The `lamina` command. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { LaminaServer } from '../server/lamina-server.js';
import { DEFAULT_CONFIG, type ServerConfig } from '../server/server-config.js';
import { parseSince, printLogs } from './logs-command.js';
import { startupBanner } from './startup-banner.js';

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

function accountId(value: string): string {
  if (!/^\d{12}$/.test(value)) throw new InvalidArgumentError('must be 12 digits');
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
        concurrencyLimit: options['concurrencyLimit'] as number | undefined,
        minimumUnreservedConcurrency: options['minUnreservedConcurrency'] as number | undefined,
        prestartPoolSize: options['prestartPoolSize'] as number,
      };
      await runServer(config);
    });
  program
    .command('logs')
    .description("Print a function's logs (log group /aws/lambda/<function>), oldest first.")
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
        functionName,
        logGroup: options['logGroup'] as string | undefined,
        sinceMs: parseSince(options['since'] as string),
        follow: options['follow'] === true,
        write: (text) => process.stdout.write(text),
      });
    });
  await program.parseAsync(argv);
}

async function runServer(config: ServerConfig): Promise<void> {
  const server = new LaminaServer(config);
  await server.start();
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
