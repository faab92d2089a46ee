/**
 * `lamina runtimes list --json` against the real default runtimes folder, as scripts/setup.sh
 * leaves it: the four Node.js runtimes ready on their own binaries, the host's Python, and the AWS
 * SDK bundle loadable by the oldest and newest Node.js (CommonJS through NODE_PATH, ES modules
 * through a symlinked node_modules).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import type { RuntimeStatus, SdkStatus } from '../../src/cli/runtimes-command.js';
import { REPO_ROOT, tempDir } from '../helpers/server-process.js';

const run = promisify(execFile);

interface Listing {
  readonly runtimesDir: string;
  readonly runtimes: RuntimeStatus[];
  readonly awsSdk: SdkStatus;
}

async function listing(): Promise<Listing> {
  const { stdout } = await run(process.execPath, [
    join(REPO_ROOT, 'bin/lamina.js'),
    'runtimes',
    'list',
    '--json',
  ]);
  return JSON.parse(stdout) as Listing;
}

function row(list: Listing, runtime: string): RuntimeStatus {
  const found = list.runtimes.find((item) => item.runtime === runtime);
  assert.ok(found, `${runtime} is listed`);
  return found;
}

test('the four Node.js runtimes are ready, each on the release it names', async () => {
  const list = await listing();
  for (const runtime of ['nodejs18.x', 'nodejs20.x', 'nodejs22.x', 'nodejs24.x']) {
    const node = row(list, runtime);
    assert.equal(node.status, 'ready', `${runtime} (setup installs it)`);
    assert.match(node.source, /^npm:node-linux-(x64|arm64)@\d+\.\d+\.\d+$/);
    assert.ok(node.home !== undefined);
    const { stdout } = await run(join(node.home, 'bin', 'node'), ['--version']);
    assert.equal(stdout.trim(), `v${node.versions[0] ?? ''}`);
    assert.equal(node.versions[0]?.split('.')[0], runtime.slice(6, 8));
  }
});

test('python3.11 runs on the host interpreter; python3.12 is unavailable and says why', async () => {
  const list = await listing();
  const py311 = row(list, 'python3.11');
  assert.equal(py311.status, 'ready');
  assert.match(py311.versions[0] ?? '', /^3\.11\.\d+$/);
  if (!existsSync('/usr/bin/python3.12')) {
    const py312 = row(list, 'python3.12');
    assert.equal(py312.status, 'unavailable');
    assert.match(py312.reason ?? '', /no trustworthy Python binary source is reachable/);
    assert.match(py312.reason ?? '', /\/usr\/bin\/python3\.12/);
  }
  assert.equal(row(list, 'provided.al2023').status, 'ready');
});

test('the AWS SDK bundle loads with Node.js 18 and 24, as CommonJS and as ES modules', async () => {
  const list = await listing();
  const sdk = list.awsSdk;
  assert.equal(sdk.status, 'ready');
  assert.ok((sdk.packages ?? 0) > 300, 'every client package');
  assert.ok(sdk.nodeModules !== undefined);
  const dir = tempDir();
  try {
    // A function's folder outside the bundle, its node_modules a link to it.
    symlinkSync(sdk.nodeModules, join(dir.path, 'node_modules'));
    writeFileSync(
      join(dir.path, 'esm.mjs'),
      "const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');\n" +
        "console.log(typeof new DynamoDBClient({ region: 'us-east-1' }).send);\n",
    );
    for (const runtime of ['nodejs18.x', 'nodejs24.x']) {
      const node = join(row(list, runtime).home ?? '', 'bin', 'node');
      const cjs: { stdout: string } = await run(
        node,
        [
          '-e',
          "const { S3Client } = require('@aws-sdk/client-s3'); console.log(typeof new S3Client({ region: 'us-east-1' }).send)",
        ],
        { cwd: '/', env: { PATH: '/usr/bin:/bin', NODE_PATH: sdk.nodeModules } },
      );
      assert.equal(cjs.stdout.trim(), 'function', `${runtime} require`);
      const esm: { stdout: string } = await run(node, [join(dir.path, 'esm.mjs')], {
        cwd: dir.path,
        env: { PATH: '/usr/bin:/bin' },
      });
      assert.equal(esm.stdout.trim(), 'function', `${runtime} import`);
    }
  } finally {
    dir.remove();
  }
});
