/**
 * Finding 8: `LoggingConfig.LogGroup` of `..` was accepted and wrote logs into the data
 * directory's root. Log group names are validated exactly as AWS validates them
 * (`[.\-_/#A-Za-z0-9]{1,512}`, so `..` is a valid name there too) and a name is never a path: it
 * becomes one segment inside the logs folder, `..` and `.` included.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf, lambdaClient } from '../helpers/lambda-client.js';
import { REPO_ROOT, startServer, tempDir } from '../helpers/server-process.js';

const run = promisify(execFile);

test('log groups named "..", "." or "../x" stay inside the logs folder', async () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  const server = await startServer({ dataDir });
  const client = lambdaClient(server.endpoint);
  const before = readdirSync(dataDir).sort();
  try {
    for (const [name, group] of [
      ['dots', '..'],
      ['dot', '.'],
      ['climb', '../../x'],
    ] as const) {
      await deploy(
        client,
        name,
        {
          'index.mjs': `export const handler = async () => { console.log('in ${name}'); return 1; };`,
        },
        { loggingConfig: { LogFormat: 'Text', LogGroup: group } },
      );
      await invokeJson(client, name, {});
    }
    // AWS's own rules still refuse what they refuse (here: a character outside the pattern).
    const refused = await failureOf(
      client.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'dots',
          LoggingConfig: { LogFormat: 'Text', LogGroup: '..\\x' },
        }),
      ),
    );
    assert.equal(refused.name, 'ValidationException');
  } finally {
    client.destroy();
    await server.stop();
  }
  // Nothing new beside the data directory's own folders, and the groups are where they belong.
  const after = readdirSync(dataDir).filter((name) => !before.includes(name));
  assert.deepEqual(
    after.filter((name) => name.endsWith('.log')),
    [],
  );
  const groups = readdirSync(join(dataDir, 'logs')).sort();
  assert.ok(groups.includes('%2E%2E'), groups.join(' '));
  assert.ok(groups.includes('%2E'), groups.join(' '));
  assert.ok(groups.includes('..%2F..%2Fx'), groups.join(' '));
  for (const [name, group] of [
    ['dots', '..'],
    ['climb', '../../x'],
  ]) {
    const { stdout } = await run(process.execPath, [
      join(REPO_ROOT, 'bin/lamina.js'),
      'logs',
      name as string,
      '--log-group',
      group as string,
      '--data-dir',
      dataDir,
      '--since',
      '1h',
    ]);
    assert.match(stdout, new RegExp(`in ${name as string}`));
  }
  dir.remove();
});
