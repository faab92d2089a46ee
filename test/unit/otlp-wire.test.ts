/** What the in-environment OTLP endpoint reads and answers, and where it sends (pure parts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { environmentVariables, OTLP_ADDRESS } from '../../src/environment/environment-variables.js';
import { collectorUrls } from '../../src/core/otlp-collector-urls.js';
import {
  exportResponse,
  formatOf,
  gzippedOf,
  signalOfPath,
} from '../../src/runtime-api/otlp-wire.js';
import { jailArguments, jailScript } from '../../src/sandbox/jail-arguments.js';

describe('OTLP/HTTP requests', () => {
  test('only the three signal paths are taken, exactly', () => {
    assert.equal(signalOfPath('/v1/traces'), 'traces');
    assert.equal(signalOfPath('/v1/metrics'), 'metrics');
    assert.equal(signalOfPath('/v1/logs'), 'logs');
    for (const other of [
      undefined,
      '/',
      '/v1/traces/',
      '/v1/traces?x=1',
      '/V1/TRACES',
      '//v1/traces',
      '/v1/../v1/traces',
      'http://collector:4318/v1/traces',
      '/v1/profiles',
    ])
      assert.equal(signalOfPath(other), undefined, String(other));
  });

  test('protobuf and JSON bodies, with parameters; nothing else', () => {
    assert.equal(formatOf('application/x-protobuf'), 'protobuf');
    assert.equal(formatOf('Application/JSON; charset=utf-8'), 'json');
    assert.equal(formatOf(undefined), undefined);
    assert.equal(formatOf('text/plain'), undefined);
    assert.equal(formatOf('application/grpc'), undefined);
  });

  test('gzip or no encoding; nothing else', () => {
    assert.equal(gzippedOf(undefined), false);
    assert.equal(gzippedOf('identity'), false);
    assert.equal(gzippedOf('GZIP'), true);
    assert.equal(gzippedOf('br'), undefined);
    assert.equal(gzippedOf('gzip, gzip'), undefined);
  });
});

describe('OTLP/HTTP answers', () => {
  test('success is an empty response in the request’s encoding', () => {
    assert.deepEqual(exportResponse('json'), {
      contentType: 'application/json',
      body: Buffer.from('{}'),
    });
    assert.deepEqual(exportResponse('protobuf'), {
      contentType: 'application/x-protobuf',
      body: Buffer.alloc(0),
    });
  });

  test('a drop is a partial success carrying only its message', () => {
    assert.deepEqual(JSON.parse(exportResponse('json', 'dropped').body.toString()), {
      partialSuccess: { errorMessage: 'dropped' },
    });
    // partial_success (field 1, length 9) holding error_message (field 2, length 7).
    assert.deepEqual(
      exportResponse('protobuf', 'dropped').body,
      Buffer.concat([Buffer.from([0x0a, 9, 0x12, 7]), Buffer.from('dropped')]),
    );
    // Lengths past 127 take two bytes.
    const long = 'x'.repeat(200);
    const body = exportResponse('protobuf', long).body;
    assert.deepEqual([...body.subarray(0, 6)], [0x0a, 203, 1, 0x12, 200, 1]);
    assert.equal(body.length, 206);
  });
});

describe('the collector’s URLs', () => {
  test('each signal under the base, as OTEL_EXPORTER_OTLP_ENDPOINT is read', () => {
    const urls = collectorUrls('http://collector:4318');
    assert.equal(urls.traces.href, 'http://collector:4318/v1/traces');
    assert.equal(urls.metrics.href, 'http://collector:4318/v1/metrics');
    assert.equal(urls.logs.href, 'http://collector:4318/v1/logs');
    assert.equal(
      collectorUrls('https://otel.example/prefix/').logs.href,
      'https://otel.example/prefix/v1/logs',
    );
  });

  test('a base given as the traces URL is taken as its endpoint', () => {
    assert.equal(
      collectorUrls('http://collector:4318/v1/traces').metrics.href,
      'http://collector:4318/v1/metrics',
    );
  });

  test('only http and https', () => {
    assert.throws(() => collectorUrls('file:///etc/passwd'), /http or https/);
    assert.throws(() => collectorUrls('not a url'));
  });
});

describe('the environment’s OTLP endpoint', () => {
  const settings = {
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    role: 'arn:aws:iam::000000000000:role/r',
    memoryMiB: 128,
    timeoutSeconds: 3,
    ephemeralStorageMiB: 512,
    layers: [],
    logging: { format: 'Text', logGroup: '/aws/lambda/fn' },
  } as unknown as Parameters<typeof environmentVariables>[0]['settings'];
  const inputs = {
    functionName: 'fn',
    version: '$LATEST',
    region: 'us-east-1',
    settings,
    logStreamName: 'stream',
    initializationType: 'on-demand' as const,
    runtimeEnv: {},
  };

  test('functions are pointed at it when there is one', () => {
    const env = environmentVariables({ ...inputs, otlpEndpoint: `http://${OTLP_ADDRESS}` });
    assert.equal(env['OTEL_EXPORTER_OTLP_ENDPOINT'], 'http://127.0.0.1:9003');
    assert.equal(environmentVariables(inputs)['OTEL_EXPORTER_OTLP_ENDPOINT'], undefined);
  });

  test('a function’s own endpoint wins', () => {
    const own = { ...settings, environment: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://mine:4318' } };
    const env = environmentVariables({
      ...inputs,
      settings: own,
      otlpEndpoint: `http://${OTLP_ADDRESS}`,
    });
    assert.equal(env['OTEL_EXPORTER_OTLP_ENDPOINT'], 'http://mine:4318');
  });

  test('not set for a function that configures its own exporting or brings a collector layer', () => {
    for (const environment of [
      // The OpenTelemetry Lambda layers: their wrapper's SDK sends to the layer's collector on 4318.
      { AWS_LAMBDA_EXEC_WRAPPER: '/opt/otel-handler' },
      { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://mine:4318/v1/traces' },
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
      { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=x' },
    ]) {
      const env = environmentVariables({
        ...inputs,
        settings: { ...settings, environment },
        otlpEndpoint: `http://${OTLP_ADDRESS}`,
      });
      assert.equal(env['OTEL_EXPORTER_OTLP_ENDPOINT'], undefined, JSON.stringify(environment));
    }
    // Other OpenTelemetry settings leave it set.
    const named = environmentVariables({
      ...inputs,
      settings: { ...settings, environment: { OTEL_SERVICE_NAME: 'orders' } },
      otlpEndpoint: `http://${OTLP_ADDRESS}`,
    });
    assert.equal(named['OTEL_EXPORTER_OTLP_ENDPOINT'], 'http://127.0.0.1:9003');
  });

  test('the jail relays 127.0.0.1:9003 to its own socket, bound read-only, only when asked', () => {
    const script = jailScript(true, false, [], undefined, true);
    assert.match(
      script,
      /TCP-LISTEN:9003,bind=127\.0\.0\.1,.*UNIX-CONNECT:\/run\/lamina\/otlp\.sock .*&$/m,
    );
    assert.ok(script.indexOf('9003') < script.indexOf('exec "$@"'));
    assert.doesNotMatch(jailScript(true), /9003|otlp/);
    const plan = {
      layout: { symlinks: {}, directories: [], etcEntries: [] },
      codeDir: '/data/code',
      runtimeDir: undefined,
      langDir: undefined,
      etcFds: { passwd: 8, group: 9, hosts: 10, 'resolv.conf': 11 },
      runtimeApiSocket: '/run/x/envs/1/runtime.sock',
      laminaApiSocket: undefined,
      ephemeralStorageBytes: 512 * 1024 * 1024,
      jailUid: 993,
      jailGid: 993,
      seccompFd: undefined,
      command: ['/var/task/bootstrap'],
    };
    const args = jailArguments({ ...plan, otlpSocket: '/run/x/envs/1/otlp.sock' });
    const at = args.indexOf('/run/x/envs/1/otlp.sock');
    assert.deepEqual(args.slice(at - 1, at + 2), [
      '--ro-bind',
      '/run/x/envs/1/otlp.sock',
      '/run/lamina/otlp.sock',
    ]);
    assert.match(args.find((a) => a.includes('TCP-LISTEN')) ?? '', /TCP-LISTEN:9003/);
    assert.doesNotMatch(jailArguments(plan).join(' '), /otlp|9003/);
    // An image's jail has it too, its relay run by the host's socat.
    const image = jailArguments({
      ...plan,
      otlpSocket: '/run/x/envs/1/otlp.sock',
      rootDir: '/images/abc/rootfs',
      layout: {
        ...plan.layout,
        loader: {
          path: '/usr/lib64/ld-linux-x86-64.so.2',
          libraryPath: '/usr/lib/x86_64-linux-gnu',
        },
      },
    });
    assert.ok(image.join(' ').includes('--ro-bind /run/x/envs/1/otlp.sock /run/lamina/otlp.sock'));
    assert.match(
      image.find((a) => a.includes('TCP-LISTEN')) ?? '',
      /\/run\/lamina\/host\/usr\/bin\/socat -lf \/dev\/null TCP-LISTEN:9003/,
    );
  });
});
