/**
 * The Extensions API (2020-01-01) and the Telemetry/Logs subscription endpoints with raw HTTP, as
 * extensions call them: a real RuntimeApiServer serving a real ExtensionRegistry. Error types and
 * messages are Lambda's (the runtime interface emulator's handlers).
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ExtensionRegistry } from '../../src/environment/extension-registry.js';
import { TelemetryHub } from '../../src/environment/telemetry-hub.js';
import { RuntimeApiServer } from '../../src/runtime-api/runtime-api-server.js';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

let api: RuntimeApiServer;
let registry: ExtensionRegistry;
let address: string;

function call(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Reply> {
  const [host = '', port = ''] = address.split(':');
  return new Promise((resolve, reject) => {
    const req = request({ host, port: Number(port), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const register = (name: string, events: string[], extra: Record<string, string> = {}) =>
  call(
    'POST',
    '/2020-01-01/extension/register',
    { 'Lambda-Extension-Name': name, ...extra },
    JSON.stringify({ events }),
  );
const next = (id: string) =>
  call('GET', '/2020-01-01/extension/event/next', { 'Lambda-Extension-Identifier': id });
const parsed = (reply: Reply) => JSON.parse(reply.body) as Record<string, unknown>;

const SUBSCRIPTION = {
  schemaVersion: '2022-12-13',
  types: ['platform', 'function'],
  buffering: { maxItems: 1000, maxBytes: 262144, timeoutMs: 100 },
  destination: { protocol: 'HTTP', URI: 'http://sandbox.localdomain:8080/lambda' },
};

describe('Extensions API', () => {
  beforeEach(async () => {
    api = new RuntimeApiServer();
    address = await api.listen({ host: '127.0.0.1', port: 0 });
    registry = new ExtensionRegistry(
      {
        functionName: 'f',
        functionVersion: '$LATEST',
        handler: 'index.handler',
        accountId: '000000000000',
      },
      new TelemetryHub(undefined, () => Date.now()),
    );
    registry.expectExternal(['ext-a', 'ext-b']);
    api.attachExtensions(registry);
  });
  afterEach(async () => api.close());

  test('register answers the identifier and the function; accountId only when asked for', async () => {
    const plain = await register('ext-a', ['INVOKE', 'SHUTDOWN']);
    assert.equal(plain.status, 200);
    assert.match(String(plain.headers['lambda-extension-identifier']), /^[0-9a-f-]{36}$/);
    assert.deepEqual(parsed(plain), {
      functionName: 'f',
      functionVersion: '$LATEST',
      handler: 'index.handler',
    });
    const withAccount = await register('internal', ['INVOKE'], {
      'Lambda-Extension-Accept-Feature': 'accountId',
    });
    assert.equal(parsed(withAccount)['accountId'], '000000000000');
  });

  test('registration errors', async () => {
    const empty = await register('', ['INVOKE']);
    assert.equal(empty.status, 403);
    assert.deepEqual(parsed(empty), {
      errorMessage: 'Empty extension name',
      errorType: 'Extension.InvalidExtensionName',
    });
    const badEvent = await register('ext-a', ['BOOT']);
    assert.deepEqual(parsed(badEvent), {
      errorMessage: 'BOOT: ErrorInvalidEventType',
      errorType: 'Extension.InvalidEventType',
    });
    const internalShutdown = await register('in-process', ['SHUTDOWN']);
    assert.deepEqual(parsed(internalShutdown), {
      errorMessage: 'SHUTDOWN: ShutdownEventNotSupportedForInternalExtension',
      errorType: 'Extension.InvalidEventType',
    });
    const badJson = await call('POST', '/2020-01-01/extension/register', {
      'Lambda-Extension-Name': 'x',
    });
    assert.equal(badJson.status, 403);
    assert.equal(parsed(badJson)['errorType'], 'InvalidRequestFormat');
    const keys = await call(
      'POST',
      '/2020-01-01/extension/register',
      { 'Lambda-Extension-Name': 'x' },
      JSON.stringify({ events: [], configurationKeys: ['k'] }),
    );
    assert.deepEqual(parsed(keys), {
      errorMessage: 'configurationKeys are deprecated; use environment variables instead',
      errorType: 'InvalidRequestFormat',
    });
    assert.equal((await register('ext-a', ['INVOKE'])).status, 200);
    const twice = await register('ext-a', ['INVOKE']);
    assert.deepEqual(parsed(twice), {
      errorMessage:
        'State transition from Registered to Registered failed for extension ext-a. Error: State transition is not allowed',
      errorType: 'Extension.InvalidExtensionState',
    });
    assert.equal((await register('internal', [])).status, 200);
    assert.deepEqual(parsed(await register('internal', [])), {
      errorMessage: 'Extension with this name already registered',
      errorType: 'Extension.InvalidExtensionState',
    });
  });

  test('at most 10 extensions; none after init', async () => {
    for (let i = 0; i < 8; i += 1) assert.equal((await register(`in-${i}`, [])).status, 200);
    assert.deepEqual(parsed(await register('in-8', [])), {
      errorMessage: 'Extension limit (10) reached',
      errorType: 'Extension.TooManyExtensions',
    });
    registry.closeRegistration();
    assert.deepEqual(parsed(await register('late', [])), {
      errorMessage: 'Extension registration closed already',
      errorType: 'Extension.RegistrationClosed',
    });
  });

  test('identifier header checks', async () => {
    const missing = await call('GET', '/2020-01-01/extension/event/next');
    assert.equal(missing.status, 403);
    assert.deepEqual(parsed(missing), {
      errorMessage: 'Missing Lambda-Extension-Identifier header',
      errorType: 'Extension.MissingExtensionIdentifier',
    });
    assert.deepEqual(parsed(await next('not-a-uuid')), {
      errorMessage: 'Invalid Lambda-Extension-Identifier',
      errorType: 'Extension.InvalidExtensionIdentifier',
    });
    const unknown = '11111111-2222-4333-8444-555555555555';
    assert.deepEqual(parsed(await next(unknown)), {
      errorMessage: `Unknown extension ${unknown}`,
      errorType: 'Extension.UnknownExtensionIdentifier',
    });
  });

  test('INVOKE and SHUTDOWN reach subscribed extensions; the invoke is done when they ask again', async () => {
    const a = String(
      (await register('ext-a', ['INVOKE', 'SHUTDOWN'])).headers['lambda-extension-identifier'],
    );
    const b = String(
      (await register('ext-b', ['SHUTDOWN'])).headers['lambda-extension-identifier'],
    );
    const externals = registry.externalsReady();
    const aFirst = next(a);
    const bFirst = next(b);
    await externals;
    const again = await next(a);
    assert.deepEqual(parsed(again), {
      errorMessage: `State transition from Ready to Ready failed for extension ${a}. Error: State transition is not allowed`,
      errorType: 'Extension.InvalidExtensionState',
    });
    assert.equal(
      registry.dispatchInvoke({
        requestId: 'r1',
        deadlineMs: 1_800_000_000_000,
        invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
        traceId: 'Root=1-x',
      }),
      1,
    );
    const invoke = await aFirst;
    assert.equal(invoke.status, 200);
    assert.match(String(invoke.headers['lambda-extension-event-identifier']), /^[0-9a-f-]{36}$/);
    assert.deepEqual(parsed(invoke), {
      eventType: 'INVOKE',
      deadlineMs: 1_800_000_000_000,
      requestId: 'r1',
      invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
      tracing: { type: 'X-Amzn-Trace-Id', value: 'Root=1-x' },
    });
    let done = false;
    const invokeDone = registry.invokeDone().then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    const aSecond = next(a);
    await invokeDone;

    const shutdown = registry.shutdown('spindown', 1_800_000_002_000);
    for (const reply of await Promise.all([aSecond, bFirst])) {
      assert.deepEqual(parsed(reply), {
        eventType: 'SHUTDOWN',
        shutdownReason: 'spindown',
        deadlineMs: 1_800_000_002_000,
      });
    }
    void next(a).catch(() => undefined);
    registry.exited('ext-b', 0);
    await shutdown;
  });

  test('/init/error and /exit/error need the error type header; the exit reports the failure', async () => {
    const a = String((await register('ext-a', ['INVOKE'])).headers['lambda-extension-identifier']);
    const noHeader = await call('POST', '/2020-01-01/extension/init/error', {
      'Lambda-Extension-Identifier': a,
    });
    assert.equal(noHeader.status, 403);
    assert.deepEqual(parsed(noHeader), {
      errorMessage: 'Lambda-Extension-Function-Error-Type not found',
      errorType: 'Extension.MissingHeader',
    });
    const reported = await call(
      'POST',
      '/2020-01-01/extension/init/error',
      { 'Lambda-Extension-Identifier': a, 'Lambda-Extension-Function-Error-Type': 'Fatal' },
      '{"errorMessage":"x","errorType":"Fatal"}',
    );
    assert.equal(reported.status, 202);
    assert.deepEqual(parsed(reported), { status: 'OK' });
    const exitAfter = await call('POST', '/2020-01-01/extension/exit/error', {
      'Lambda-Extension-Identifier': a,
      'Lambda-Extension-Function-Error-Type': 'Extension.Oops',
    });
    assert.deepEqual(parsed(exitAfter), {
      errorMessage: `State transition from InitError to ExitError failed for extension ${a}. Error: State transition is not allowed`,
      errorType: 'Extension.InvalidExtensionState',
    });
    registry.exited('ext-a', 0);
    assert.deepEqual(await registry.failed, {
      errorType: 'Extension.InitError',
      message: 'exit code 0',
    });
  });

  test('an extension that exits without reporting is Extension.Crash', async () => {
    await register('ext-a', ['INVOKE']);
    registry.exited('ext-a', 137);
    assert.deepEqual(await registry.failed, {
      errorType: 'Extension.Crash',
      message: 'signal: killed',
    });
  });

  test('Telemetry and Logs API subscriptions: validation, closing with init', async () => {
    const a = String((await register('ext-a', ['INVOKE'])).headers['lambda-extension-identifier']);
    const put = (path: string, body: unknown) =>
      call('PUT', path, { 'Lambda-Extension-Identifier': a }, JSON.stringify(body));
    const ok = await put('/2022-07-01/telemetry', SUBSCRIPTION);
    assert.equal(ok.status, 200);
    assert.equal(ok.body, '"OK"');
    const logs = await put('/2020-08-15/logs', { ...SUBSCRIPTION, schemaVersion: undefined });
    assert.equal(logs.status, 200);

    const invalid: Array<[unknown, RegExp]> = [
      [{ ...SUBSCRIPTION, schemaVersion: '2019-01-01' }, /schemaVersion/],
      [{ ...SUBSCRIPTION, types: [] }, /types/],
      [{ ...SUBSCRIPTION, types: ['platform', 'metrics'] }, /types/],
      [{ ...SUBSCRIPTION, buffering: { maxItems: 999 } }, /maxItems/],
      [{ ...SUBSCRIPTION, buffering: { maxBytes: 2_000_000 } }, /maxBytes/],
      [{ ...SUBSCRIPTION, buffering: { timeoutMs: 24 } }, /timeoutMs/],
      [
        { ...SUBSCRIPTION, destination: { protocol: 'HTTP', URI: 'http://example.com:8080/' } },
        /sandbox\.localdomain/,
      ],
      [{ ...SUBSCRIPTION, destination: { protocol: 'TCP', port: 70_000 } }, /port/],
      [{ ...SUBSCRIPTION, destination: { protocol: 'UDP', port: 80 } }, /protocol/],
    ];
    for (const [body, message] of invalid) {
      const reply = await put('/2022-07-01/telemetry', body);
      assert.equal(reply.status, 400, JSON.stringify(body));
      assert.equal(parsed(reply)['errorType'], 'ValidationError');
      assert.match(String(parsed(reply)['errorMessage']), message);
    }
    const logsInvalid = await put('/2020-08-15/logs', { ...SUBSCRIPTION, types: [] });
    assert.equal(parsed(logsInvalid)['errorType'], 'Logs.ValidationError');

    registry.closeRegistration();
    const closed = await put('/2022-07-01/telemetry', SUBSCRIPTION);
    assert.equal(closed.status, 403);
    assert.deepEqual(parsed(closed), {
      errorMessage: 'Telemetry API subscription is closed',
      errorType: 'Telemetry.SubscriptionClosed',
    });
  });

  test('without extensions attached (a pre-started runtime) the paths are 404', async () => {
    const bare = new RuntimeApiServer();
    const bareAddress = await bare.listen({ host: '127.0.0.1', port: 0 });
    const saved = address;
    address = bareAddress;
    try {
      assert.equal((await register('ext-a', [])).status, 404);
    } finally {
      address = saved;
      await bare.close();
    }
  });
});
