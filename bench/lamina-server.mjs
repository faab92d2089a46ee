// Starts the built `lamina server` on a free port and a fresh temp data directory, waiting for its
// readiness line (never sleeping) and racing it against an early exit; stops it with SIGTERM.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { setTimeout as delay } from 'node:timers/promises';
import { AttachRolePolicyCommand, CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';

export const BENCH_CREDENTIALS = {
  accessKeyId: 'LKIABENCHBENCHBENCH1',
  secretAccessKey: 'bench-secret-key-for-lamina-benchmarks-00',
};

const READY = /Lamina is listening on (\S+)/;

/**
 * Starts the server (with extra `args`, e.g. `--async-concurrency 1`, Node.js flags `nodeArgs`,
 * e.g. `--cpu-prof`, and as `user` when one is given); resolves with
 * { endpoint, pid, dataDir, stop() } once it listens. Its data directory is a new one, removed
 * on stop, unless `dataDir` names one the caller keeps.
 */
export async function startLaminaServer(
  repoRoot,
  {
    readyTimeoutMs = 60_000,
    args = [],
    nodeArgs = [],
    dataDir: kept = undefined,
    user = undefined,
  } = {},
) {
  const dataDir = kept ?? mkdtempSync(join(tmpdir(), 'lamina-bench-'));
  // The sandbox's unprivileged uid must be able to reach the code below the data directory.
  chmodSync(dataDir, 0o711);
  // `user` ({ uid, gid }): the server runs as that unprivileged user, owning its data directory.
  if (user !== undefined) chownSync(dataDir, user.uid, user.gid);
  const child = spawn(
    process.execPath,
    [
      ...nodeArgs,
      join(repoRoot, 'bin/lamina.js'),
      'server',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--log-level',
      'warn',
      ...args,
    ],
    {
      cwd: repoRoot,
      ...(user === undefined ? {} : { uid: user.uid, gid: user.gid }),
      env: {
        ...process.env,
        ...(user === undefined ? {} : { HOME: dataDir }),
        LAMINA_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
        LAMINA_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk.toString()));
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const removeDataDir = () => {
    if (kept === undefined) rmSync(dataDir, { recursive: true, force: true });
  };
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const forced = delay(20_000, 'timeout', { ref: false }).then(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    });
    const result = await Promise.race([exited, forced]);
    removeDataDir();
    return result;
  };
  try {
    const endpoint = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`lamina server not ready after ${readyTimeoutMs} ms:\n${stderr}`)),
        readyTimeoutMs,
      );
      child.stdout.on('data', (chunk) => {
        stdout += chunk.toString();
        const match = READY.exec(stdout);
        if (match !== null) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(`lamina server exited (${code}) before it was ready:\n${stderr}${stdout}`),
        );
      });
    });
    /** The end of what the server printed (its log lines), for failure reports. */
    const logTail = (chars = 3000) => `${stdout}${stderr}`.slice(-chars);
    await ensureBenchRole(endpoint);
    return { endpoint, pid: child.pid, dataDir, stop, logTail };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The execution role benchmark functions name (lambda-functions.mjs ROLE): trusting Lambda, with
 * AWSLambda_FullAccess (some benchmark functions call the Lambda API with their credentials).
 */
async function ensureBenchRole(endpoint) {
  const iam = new IAMClient({
    endpoint,
    region: 'us-east-1',
    credentials: BENCH_CREDENTIALS,
    maxAttempts: 1,
  });
  try {
    await iam
      .send(
        new CreateRoleCommand({
          RoleName: 'lambda-role',
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'lambda.amazonaws.com' },
                Action: 'sts:AssumeRole',
              },
            ],
          }),
        }),
      )
      .catch((error) => {
        if (error.name !== 'EntityAlreadyExistsException') throw error;
      });
    await iam.send(
      new AttachRolePolicyCommand({
        RoleName: 'lambda-role',
        PolicyArn: 'arn:aws:iam::aws:policy/AWSLambda_FullAccess',
      }),
    );
  } finally {
    iam.destroy();
  }
}
