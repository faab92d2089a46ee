/** Deploys test functions from in-memory files and waits until they are Active. */
import {
  CreateFunctionCommand,
  InvokeCommand,
  waitUntilFunctionActiveV2,
  type InvokeCommandOutput,
  type LambdaClient,
  type LoggingConfig,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { ROLE } from './lambda-client.js';
import { buildZip, type ZipEntrySpec } from './zips.js';

export interface DeployOptions {
  readonly runtime?: string;
  readonly handler?: string;
  readonly memorySize?: number;
  readonly timeout?: number;
  readonly ephemeralStorage?: number;
  readonly environment?: Record<string, string>;
  /** Layer version ARNs, merged into /opt in order. */
  readonly layers?: readonly string[];
  readonly loggingConfig?: LoggingConfig;
  /** The execution role (default: the test role every test server has, test-roles.ts). */
  readonly role?: string;
}

/** Creates a function from `files` (name → content, or full entry specs) and waits for Active. */
export async function deploy(
  client: LambdaClient,
  name: string,
  files: Record<string, string> | readonly ZipEntrySpec[],
  options: DeployOptions = {},
): Promise<void> {
  const entries = Array.isArray(files)
    ? (files as readonly ZipEntrySpec[])
    : Object.entries(files as Record<string, string>).map(([file, content]) => ({
        name: file,
        content,
      }));
  await client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: (options.runtime ?? 'nodejs20.x') as Runtime,
      Role: options.role ?? ROLE,
      Handler: options.handler ?? 'index.handler',
      Code: { ZipFile: await buildZip(entries) },
      MemorySize: options.memorySize ?? 512,
      Timeout: options.timeout ?? 10,
      ...(options.ephemeralStorage === undefined
        ? {}
        : { EphemeralStorage: { Size: options.ephemeralStorage } }),
      ...(options.environment === undefined
        ? {}
        : { Environment: { Variables: options.environment } }),
      ...(options.layers === undefined ? {} : { Layers: [...options.layers] }),
      ...(options.loggingConfig === undefined ? {} : { LoggingConfig: options.loggingConfig }),
    }),
  );
  await waitUntilFunctionActiveV2(
    { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
    { FunctionName: name },
  );
}

/** Invokes synchronously and returns the output with the payload parsed as JSON. */
export async function invokeJson(
  client: LambdaClient,
  name: string,
  payload?: unknown,
  extra: { LogType?: 'Tail'; ClientContext?: string } = {},
): Promise<{ output: InvokeCommandOutput; body: unknown; text: string; log: string }> {
  const output = await client.send(
    new InvokeCommand({
      FunctionName: name,
      ...(payload === undefined ? {} : { Payload: Buffer.from(JSON.stringify(payload)) }),
      ...extra,
    }),
  );
  const text = Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const log =
    output.LogResult === undefined ? '' : Buffer.from(output.LogResult, 'base64').toString('utf8');
  return { output, body, text, log };
}
