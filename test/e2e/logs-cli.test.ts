/** `lamina logs`: the log lines of real invocations, read back from the data directory. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { REPO_ROOT, startServer, tempDir } from '../helpers/server-process.js';

const run = promisify(execFile);

test('lamina logs prints INIT_START, START, function output, END and REPORT in order', async () => {
  const dir = tempDir();
  try {
    const server = await startServer({ dataDir: dir.path });
    const client = lambdaClient(server.endpoint);
    await deploy(client, 'talker', {
      'index.js':
        "exports.handler = async (e) => { console.log('said', e.word); console.error('multi\\nline'); return e.word; };",
    });
    for (const word of ['one', 'two'])
      assert.equal((await invokeJson(client, 'talker', { word })).body, word);
    client.destroy();
    // Stopping flushes the logs to disk; the CLI reads the data directory.
    assert.equal(await server.stop('SIGTERM'), 0);
    const { stdout } = await run(process.execPath, [
      join(REPO_ROOT, 'bin/lamina.js'),
      'logs',
      'talker',
      '--data-dir',
      dir.path,
      '--since',
      '1h',
    ]);
    const lines = stdout.trim().split('\n');
    const messages = lines.map((line) => line.split(' ').slice(2).join(' '));
    const stream = /^\S+ (\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}) /.exec(lines[0] ?? '');
    assert.ok(stream !== null, lines[0]);
    assert.match(messages[0] ?? '', /^INIT_START Runtime Version: nodejs:/);
    const kinds = messages.map(
      (m) =>
        /^(START|END|REPORT) /.exec(m)?.[1] ??
        (/\tINFO\tsaid /.test(m) ? 'INFO' : /\tERROR\tmulti\rline$/.test(m) ? 'ERROR' : 'other'),
    );
    assert.deepEqual(kinds.slice(1), [
      'START',
      'INFO',
      'ERROR',
      'END',
      'REPORT',
      'START',
      'INFO',
      'ERROR',
      'END',
      'REPORT',
    ]);
    assert.match(messages[5] ?? '', /Init Duration/);
    assert.doesNotMatch(messages[10] ?? '', /Init Duration/);
  } finally {
    dir.remove();
  }
});
