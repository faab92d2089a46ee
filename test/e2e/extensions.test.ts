/**
 * External extensions end to end: executables in a layer's `extensions/` folder start in the
 * sandbox before the runtime, register, receive INVOKE (the next invoke waits for their
 * post-processing) and SHUTDOWN when the environment is reaped, and receive `platform.report`
 * over the Telemetry API; crashing extensions fail init or reset the environment. The real server
 * runs in-process with a clock the test moves, so reaping needs no waiting; extensions' output is
 * read back from the function's log stream.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { PublishLayerVersionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { untilChanged } from '../helpers/poll.js';
import { buildZip } from '../helpers/zips.js';

const IDLE_MS = 60_000;
const EXECUTABLE = 0o100755;

/** The shared part of the extensions: a Runtime API client on node:http. */
const CLIENT = `#!/usr/bin/env node
const http = require('node:http');
const fs = require('node:fs');
const name = require('node:path').basename(process.argv[1]);
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
function call(method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
const register = (events) =>
  call('POST', '/2020-01-01/extension/register', { 'Lambda-Extension-Name': name }, JSON.stringify({ events }));
const next = (id) => call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
`;

/** Registers for INVOKE and SHUTDOWN, subscribes to platform telemetry, logs what it gets. */
const PROBE = `${CLIENT}
(async () => {
  const reg = await register(['INVOKE', 'SHUTDOWN']);
  const id = reg.headers['lambda-extension-identifier'];
  console.log(name + ': registered ' + reg.status + ' ' + reg.text + ' _HANDLER=' + (process.env._HANDLER ?? 'unset'));
  const listener = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      for (const e of JSON.parse(text)) console.log(name + ': telemetry ' + e.type + ' ' + (e.record.requestId ?? '') + ' ' + JSON.stringify(e.record.metrics ?? {}));
      res.end();
    });
  });
  await new Promise((resolve) => listener.listen(4244, 'sandbox.localdomain', resolve));
  const sub = await call('PUT', '/2022-07-01/telemetry', { 'Lambda-Extension-Identifier': id },
    JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform'], buffering: { timeoutMs: 25 },
      destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4244/' } }));
  console.log(name + ': subscribed ' + sub.status);
  for (;;) {
    const event = JSON.parse((await next(id)).text);
    console.log(name + ': event ' + event.eventType + ' ' + (event.requestId ?? event.shutdownReason) + ' deadline=' + typeof event.deadlineMs);
    if (event.eventType === 'SHUTDOWN') process.exit(0);
    // Post-processing: the invocation is complete only when it is done.
    await new Promise((resolve) => setTimeout(resolve, 200));
    fs.writeFileSync('/tmp/post-' + event.requestId, '');
  }
})();
`;

const CRASH_AT_INIT = `${CLIENT}
register(['INVOKE']).then(() => process.exit(3));
`;

const INIT_ERROR = `${CLIENT}
register(['INVOKE']).then(async (reg) => {
  const id = reg.headers['lambda-extension-identifier'];
  await call('POST', '/2020-01-01/extension/init/error',
    { 'Lambda-Extension-Identifier': id, 'Lambda-Extension-Function-Error-Type': 'Extension.MissingConfig' },
    JSON.stringify({ errorMessage: 'no config', errorType: 'Extension.MissingConfig' }));
  process.exit(0);
});
`;

/** Crashes on its first INVOKE, before it asks for the next event (its first call waits for it). */
const CRASH_ON_INVOKE = `${CLIENT}
register(['INVOKE']).then(async (reg) => {
  const id = reg.headers['lambda-extension-identifier'];
  await next(id);
  process.exit(1);
});
`;

const HANDLER = {
  'index.js': `exports.handler = async () => ({ files: require('node:fs').readdirSync('/tmp') });`,
};

describe('external extensions', () => {
  let advancedMs = 0;
  const clock = { now: () => Date.now() + advancedMs };
  const suite = useInProcessServer({ idleTimeoutMs: IDLE_MS, prestartPoolSize: 0 }, clock);
  let client: LambdaClient;
  before(() => {
    client = suite.client;
  });

  const layer = async (
    name: string,
    file: string,
    content: string,
    mode = EXECUTABLE,
  ): Promise<string> => {
    const zip = await buildZip([{ name: `extensions/${file}`, content, mode }]);
    const out = await client.send(
      new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: zip } }),
    );
    return out.LayerVersionArn ?? '';
  };

  /** Every line of the function's log streams so far. */
  const logOf = async (fn: string): Promise<string[]> => {
    await suite.server.logs.flush();
    const group = join(
      suite.server.config.dataDir,
      'logs',
      encodeURIComponent(`/aws/lambda/${fn}`),
    );
    return readdirSync(group).flatMap((file) =>
      readFileSync(join(group, file), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { m: string }).m),
    );
  };

  test('an extension registers before the runtime, gets INVOKE, telemetry and SHUTDOWN on reap', async () => {
    await deploy(client, 'ext-fn', HANDLER, { layers: [await layer('probe', 'probe', PROBE)] });
    // With a log tail the answer waits for REPORT, which waits for the extension to finish.
    const first = await invokeJson(client, 'ext-fn', {}, { LogType: 'Tail' });
    assert.equal(first.output.FunctionError, undefined, first.text);
    const firstId = first.output.$metadata.requestId ?? '';
    assert.match(first.log, /REPORT RequestId: .*Init Duration/);

    // The same environment serves the next invocation, and the extension's post-processing of
    // the first (which ends with a file in /tmp) happened before the environment was free again.
    const second = await invokeJson(client, 'ext-fn', {}, { LogType: 'Tail' });
    assert.doesNotMatch(second.log, /Init Duration/);
    assert.ok((second.body as { files: string[] }).files.includes(`post-${firstId}`), second.text);

    const log = await untilChanged(
      () => logOf('ext-fn'),
      (lines) => lines.some((l) => l.startsWith(`probe: telemetry platform.report ${firstId}`)),
      (listener) => suite.onLogLines(listener),
      30_000,
      'platform.report in the extension',
    );
    const registered = log.find((l) => l.startsWith('probe: registered'));
    assert.match(
      registered ?? '',
      /^probe: registered 200 \{"functionName":"ext-fn","functionVersion":"\$LATEST","handler":"index.handler"\} _HANDLER=unset$/,
    );
    // Extension init comes first: the extension registered before the runtime logged START.
    assert.ok(log.indexOf(registered ?? '') < log.findIndex((l) => l.startsWith('START')));
    assert.ok(log.includes('probe: subscribed 200'));
    assert.ok(log.includes('EXTENSION\tName: probe\tState: Ready\tEvents: [INVOKE,SHUTDOWN]'));
    assert.ok(log.includes(`probe: event INVOKE ${firstId} deadline=number`));
    const report = log.find((l) => l.startsWith(`probe: telemetry platform.report ${firstId}`));
    const metrics = JSON.parse(report?.split(' ').slice(4).join(' ') ?? '{}') as Record<
      string,
      number
    >;
    assert.equal(metrics['memorySizeMB'], 512);
    assert.equal(typeof metrics['initDurationMs'], 'number');
    assert.equal(typeof metrics['billedDurationMs'], 'number');

    advancedMs += IDLE_MS + 1000;
    assert.equal(await suite.server.reapIdle(), 1);
    const afterReap = await logOf('ext-fn');
    assert.ok(
      afterReap.includes('probe: event SHUTDOWN spindown deadline=number'),
      afterReap.join('\n'),
    );
  });

  test('an extension that exits during init fails the invoke with Extension.Crash', async () => {
    await deploy(client, 'crash-init-fn', HANDLER, {
      layers: [await layer('crash-init', 'crasher', CRASH_AT_INIT)],
    });
    const { output, body } = await invokeJson(client, 'crash-init-fn', {});
    assert.equal(output.FunctionError, 'Unhandled');
    assert.deepEqual(body, {
      errorType: 'Extension.Crash',
      errorMessage: `RequestId: ${output.$metadata.requestId ?? ''} Error: exit status 3`,
    });
  });

  test('an extension that reports /init/error fails init with its error type', async () => {
    await deploy(client, 'init-error-fn', HANDLER, {
      layers: [await layer('init-error', 'reporter', INIT_ERROR)],
    });
    const { output, body } = await invokeJson(client, 'init-error-fn', {});
    assert.equal(output.FunctionError, 'Unhandled');
    assert.deepEqual(body, {
      errorType: 'Extension.MissingConfig',
      errorMessage: `RequestId: ${output.$metadata.requestId ?? ''} Error: exit code 0`,
    });
  });

  test('an extension that crashes while handling an invoke resets the environment', async () => {
    await deploy(client, 'crash-invoke-fn', HANDLER, {
      layers: [await layer('crash-invoke', 'flaky', CRASH_ON_INVOKE)],
    });
    const crashed = await invokeJson(client, 'crash-invoke-fn', {}, { LogType: 'Tail' });
    // The extension crashes as the invocation starts: before the runtime answers (the invoke
    // fails with Extension.Crash) or after (the answer stands). Either way REPORT shows the
    // crash and the environment is reset.
    if (crashed.output.FunctionError !== undefined) {
      assert.deepEqual(crashed.body, {
        errorType: 'Extension.Crash',
        errorMessage: `RequestId: ${crashed.output.$metadata.requestId ?? ''} Error: exit status 1`,
      });
    } else {
      assert.deepEqual(crashed.body, { files: [] });
    }
    assert.match(crashed.log, /REPORT RequestId: .*Status: error\tError Type: Extension\.Crash/);
    const next = await invokeJson(client, 'crash-invoke-fn', {}, { LogType: 'Tail' });
    assert.match(next.log, /Init Duration/);
  });

  test('a timed-out invocation shuts extensions down with reason timeout', async () => {
    await deploy(
      client,
      'ext-timeout-fn',
      {
        'index.js':
          'exports.handler = () => new Promise((resolve) => setTimeout(resolve, 60_000));',
      },
      { timeout: 1, layers: [await layer('probe-timeout', 'probe', PROBE)] },
    );
    const { body } = await invokeJson(client, 'ext-timeout-fn', {}, { LogType: 'Tail' });
    assert.equal((body as { errorType: string }).errorType, 'Sandbox.Timedout');
    const log = await logOf('ext-timeout-fn');
    assert.ok(log.includes('probe: event SHUTDOWN timeout deadline=number'), log.join('\n'));
  });

  test('a file in /opt/extensions that is not executable is Extension.LaunchError', async () => {
    await deploy(client, 'launch-error-fn', HANDLER, {
      layers: [await layer('not-executable', 'plain', CRASH_AT_INIT, 0o100644)],
    });
    const { output, body } = await invokeJson(client, 'launch-error-fn', {});
    assert.equal(output.FunctionError, 'Unhandled');
    assert.equal((body as { errorType: string }).errorType, 'Extension.LaunchError');
  });
});
