/**
 * Clients of a test server's CloudWatch Logs API: the AWS SDK's, the real CLI (`aws logs …`, and
 * the environment to spawn `aws logs tail --follow` with), and raw signed requests for what no
 * client sends (forged tokens, bodies that are not JSON, unknown operations).
 */
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../src/core/node-sha256.js';
import { awsCommand } from './aws-cli.js';
import { TEST_CREDENTIALS } from './server-process.js';

/** An SDK client; `clockOffsetMs` signs for a server whose clock runs ahead of the real one. */
export function logsClient(
  endpoint: string,
  credentials = TEST_CREDENTIALS,
  clockOffsetMs = 0,
): CloudWatchLogsClient {
  return new CloudWatchLogsClient({
    endpoint,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    systemClockOffset: clockOffsetMs,
  });
}

/** `aws logs <args>`, its JSON output parsed; throws with the CLI's stderr on failure. */
export async function awsLogs(
  endpoint: string,
  home: string,
  args: readonly string[],
): Promise<Record<string, unknown>> {
  const result = await awsCommand(endpoint, home, ['logs', ...args]);
  if (result.code !== 0)
    throw new Error(`aws logs ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim() === '' ? {} : (JSON.parse(result.stdout) as Record<string, unknown>);
}

/** The environment the CLI runs in (as awsCommand sets it), for commands spawned directly. */
export function cliEnvironment(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    HOME: home,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_PAGER: '',
  };
}

export interface LogsAnswer {
  readonly status: number;
  readonly text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  readonly json: Record<string, unknown> | undefined;
  /** `__type` of an error answer. */
  readonly type: string | undefined;
}

/** A signed `POST /` with `X-Amz-Target: Logs_20140328.<operation>` and `body` as it is. */
export async function logsRequest(
  endpoint: string,
  operation: string,
  body: string | Buffer,
  options: { service?: string; credentials?: typeof TEST_CREDENTIALS } = {},
): Promise<LogsAnswer> {
  const url = new URL('/', endpoint);
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const signed = await new SignatureV4({
    service: options.service ?? 'logs',
    region: 'us-east-1',
    credentials: options.credentials ?? TEST_CREDENTIALS,
    sha256: NodeSha256,
  }).sign(
    new HttpRequest({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': `Logs_20140328.${operation}`,
      },
      body: bytes,
    }),
  );
  const response = await fetch(url, { method: 'POST', headers: signed.headers, body: bytes });
  const text = await response.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  const type = json?.['__type'];
  return { status: response.status, text, json, type: typeof type === 'string' ? type : undefined };
}
