/** Runs the real AWS CLI v2 (`/usr/bin/aws lambda …`, `aws iam …`) against a test server, isolated from any profile. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { TEST_CREDENTIALS } from './server-process.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `aws lambda <args> --endpoint-url <endpoint> --output json`; `home` holds no config. */
export function awsLambda(
  endpoint: string,
  home: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return awsCommand(endpoint, home, ['lambda', ...args], env);
}

/** `aws <service> <args> --endpoint-url <endpoint> --output json` (`iam`, `sts`, `lambda`…). */
export function awsCommand(
  endpoint: string,
  home: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      '/usr/bin/aws',
      [...args, '--endpoint-url', endpoint, '--output', 'json'],
      {
        env: {
          PATH: process.env['PATH'],
          HOME: home,
          AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_CONFIG_FILE: join(home, 'none'),
          AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
          AWS_PAGER: '',
          ...env,
        },
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Like `awsLambda`, but throws on failure and parses the JSON output. */
export async function awsLambdaJson(
  endpoint: string,
  home: string,
  args: readonly string[],
): Promise<Record<string, unknown>> {
  const result = await awsLambda(endpoint, home, args);
  if (result.code !== 0)
    throw new Error(`aws lambda ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout.trim() === '' ? {} : (JSON.parse(result.stdout) as Record<string, unknown>);
}
