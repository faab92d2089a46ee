/**
 * End to end: LoggingConfig applied by the runtimes and the platform. JSON application records
 * with level filtering (Node.js console, Python logging), platform events as JSON records filtered
 * by SystemLogLevel, a custom log group that `lamina logs` reads, and AWS's validation.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  GetFunctionConfigurationCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { failureOf, lambdaClient } from '../helpers/lambda-client.js';
import { REPO_ROOT, startServer, tempDir } from '../helpers/server-process.js';

const run = promisify(execFile);

type JsonRecord = Record<string, unknown>;

/** The log tail's lines parsed as JSON (every line must be JSON). */
function records(log: string): JsonRecord[] {
  return log
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as JsonRecord);
}

test('LoggingConfig: JSON records, level filtering, system records and a custom log group', async () => {
  const dir = tempDir();
  const server = await startServer({ dataDir: dir.path });
  const client = lambdaClient(server.endpoint);
  try {
    await deploy(
      client,
      'json-node',
      {
        'index.js': [
          'exports.handler = async () => {',
          "  console.debug('too low');",
          "  console.info('also too low');",
          "  console.warn('careful', 42);",
          "  console.error('failed:', new TypeError('boom'));",
          '  return { format: process.env.AWS_LAMBDA_LOG_FORMAT, level: process.env.AWS_LAMBDA_LOG_LEVEL,',
          '    group: process.env.AWS_LAMBDA_LOG_GROUP_NAME };',
          '};',
        ].join('\n'),
      },
      {
        loggingConfig: {
          LogFormat: 'JSON',
          ApplicationLogLevel: 'WARN',
          SystemLogLevel: 'INFO',
          LogGroup: '/custom/json-node',
        },
      },
    );
    const config = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'json-node' }),
    );
    assert.deepEqual(config.LoggingConfig, {
      LogFormat: 'JSON',
      ApplicationLogLevel: 'WARN',
      SystemLogLevel: 'INFO',
      LogGroup: '/custom/json-node',
    });
    const result = await invokeJson(client, 'json-node', {}, { LogType: 'Tail' });
    assert.deepEqual(result.body, { format: 'JSON', level: 'WARN', group: '/custom/json-node' });
    const requestId = result.output.$metadata.requestId;
    const lines = records(result.log);
    const types = lines.map((r) => r['type'] ?? r['level']);
    // runtimeDone is a DEBUG system event: filtered out at INFO.
    assert.deepEqual(types, ['platform.start', 'WARN', 'ERROR', 'platform.report']);
    const [start, warn, error, report] = lines;
    assert.deepEqual(start?.['record'], { requestId, version: '$LATEST' });
    assert.match(String(start?.['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(warn?.['message'], 'careful 42');
    assert.equal(warn?.['requestId'], requestId);
    assert.match(String(warn?.['timestamp']), /^\d{4}-\d\d-\d\dT/);
    assert.match(String(error?.['message']), /^failed: TypeError: boom/);
    assert.equal(error?.['errorType'], 'TypeError');
    assert.equal(error?.['errorMessage'], 'boom');
    assert.ok(Array.isArray(error?.['stackTrace']));
    const reportRecord = report?.['record'] as JsonRecord;
    assert.equal(reportRecord['requestId'], requestId);
    assert.equal(reportRecord['status'], 'success');
    const metrics = reportRecord['metrics'] as JsonRecord;
    assert.equal(metrics['memorySizeMB'], 512);
    assert.equal(typeof metrics['durationMs'], 'number');
    assert.equal(typeof metrics['billedDurationMs'], 'number');
    assert.equal(typeof metrics['initDurationMs'], 'number');

    await deploy(
      client,
      'json-python',
      {
        'app.py': [
          'import logging',
          'logger = logging.getLogger()',
          'def handler(event, context):',
          '    logger.debug("hidden")',
          '    logger.info("shown %s", "here")',
          '    logger.warning("warned")',
          '    return "ok"',
        ].join('\n'),
      },
      {
        runtime: 'python3.11',
        handler: 'app.handler',
        loggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'WARN' },
      },
    );
    const python = await invokeJson(client, 'json-python', {}, { LogType: 'Tail' });
    const pythonRecords = records(python.log);
    // SystemLogLevel WARN drops the platform's INFO events of a successful invocation.
    assert.deepEqual(
      pythonRecords.map((r) => [r['level'], r['message']]),
      [
        ['INFO', 'shown here'],
        ['WARNING', 'warned'],
      ],
    );
    assert.equal(pythonRecords[0]?.['requestId'], python.output.$metadata.requestId);
    assert.ok(typeof pythonRecords[0]?.['logger'] === 'string');
    assert.ok(typeof pythonRecords[0]?.['timestamp'] === 'string');

    // Log levels only exist with the JSON format.
    const refused = await failureOf(
      client.send(
        new UpdateFunctionConfigurationCommand({
          FunctionName: 'json-python',
          LoggingConfig: { LogFormat: 'Text', ApplicationLogLevel: 'DEBUG' },
        }),
      ),
    );
    assert.equal(refused.name, 'InvalidParameterValueException');
    assert.equal(
      refused.message,
      'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or change the LogFormat to "Json" and try again.',
    );
    // Back to Text: the levels go, the lines are text again.
    await client.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: 'json-python',
        LoggingConfig: { LogFormat: 'Text' },
      }),
    );
    await waitUntilFunctionUpdatedV2(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { FunctionName: 'json-python' },
    );
    const text = await client.send(
      new GetFunctionConfigurationCommand({ FunctionName: 'json-python' }),
    );
    assert.deepEqual(text.LoggingConfig, {
      LogFormat: 'Text',
      LogGroup: '/aws/lambda/json-python',
    });
    const textRun = await invokeJson(client, 'json-python', {}, { LogType: 'Tail' });
    assert.match(textRun.log, /^START RequestId: /m);
    assert.match(textRun.log, /^\[WARNING\]\t\S+\t\S+\twarned$/m);

    client.destroy();
    // Stopping flushes the logs to disk; the CLI reads the data directory.
    assert.equal(await server.stop('SIGTERM'), 0);
    // `lamina logs` finds the custom group from the function's configuration.
    const { stdout } = await run(process.execPath, [
      join(REPO_ROOT, 'bin/lamina.js'),
      'logs',
      'json-node',
      '--data-dir',
      dir.path,
      '--since',
      '1h',
    ]);
    const messages = stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' ').slice(2).join(' '));
    assert.equal((JSON.parse(messages[0] ?? '{}') as JsonRecord)['type'], 'platform.initStart');
    assert.ok(messages.some((m) => m.includes('"careful 42"')));
    assert.equal(
      (JSON.parse(messages[messages.length - 1] ?? '{}') as JsonRecord)['type'],
      'platform.report',
    );
  } finally {
    client.destroy();
    await server.stop();
    dir.remove();
  }
});
