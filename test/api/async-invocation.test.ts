/**
 * The asynchronous-invocation API in-process (real SQLite, no workers): EventInvokeConfig with
 * AWS's recorded validation messages and shapes, and Event / InvokeAsync acceptance — durable
 * before the 202, and refused with AWS's errors for unknown functions, bad JSON and big payloads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { errorOf, inProcessApi, type InProcessApi } from '../helpers/in-process-api.js';
import { helloZip } from '../helpers/zips.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';
const CONFIG = (name: string) =>
  `/2019-09-25/functions/${encodeURIComponent(name)}/event-invoke-config`;

describe('asynchronous invocation API', () => {
  let api: InProcessApi;
  const call = (
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    payload?: string | Buffer,
    headers: Record<string, string> = {},
  ) => api.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload }) });
  const body = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;

  before(async () => {
    api = await inProcessApi();
    for (const name of ['target', 'other']) {
      const created = await call(
        'POST',
        '/2015-03-31/functions',
        JSON.stringify({
          FunctionName: name,
          Runtime: 'nodejs20.x',
          Role: 'arn:aws:iam::000000000000:role/r',
          Handler: 'index.handler',
          Code: { ZipFile: (await helloZip()).toString('base64') },
        }),
      );
      assert.equal(created.statusCode, 201);
    }
    await api.preparation.idle();
    assert.equal(
      (await call('POST', '/2015-03-31/functions/target/versions', '{}')).statusCode,
      201,
    );
    assert.equal(
      (
        await call(
          'POST',
          '/2015-03-31/functions/target/aliases',
          '{"Name":"live","FunctionVersion":"1"}',
        )
      ).statusCode,
      201,
    );
  });
  after(async () => api.close());

  test('Put, Get, Update, List and Delete with AWS shapes (LastModified in epoch seconds)', async () => {
    const before = Date.now() / 1000;
    const put = await call('PUT', CONFIG('target'), '{"MaximumRetryAttempts":0}');
    assert.equal(put.statusCode, 200);
    const putBody = body(put);
    assert.equal(typeof putBody['LastModified'], 'number');
    assert.ok((putBody['LastModified'] as number) >= before - 1);
    assert.deepEqual(
      { ...putBody, LastModified: 'n' },
      {
        LastModified: 'n',
        FunctionArn: `${ARN}:target:$LATEST`,
        MaximumRetryAttempts: 0,
        DestinationConfig: { OnSuccess: {}, OnFailure: {} },
      },
    );
    // Put replaces every field; Update keeps what it is not given.
    const age = body(await call('PUT', CONFIG('target'), '{"MaximumEventAgeInSeconds":60}'));
    assert.equal(age['MaximumRetryAttempts'], undefined);
    const updated = body(await call('POST', CONFIG('target'), '{"MaximumRetryAttempts":1}'));
    assert.equal(updated['MaximumEventAgeInSeconds'], 60);
    assert.equal(updated['MaximumRetryAttempts'], 1);
    const withDestination = body(
      await call(
        'POST',
        CONFIG('target'),
        JSON.stringify({ DestinationConfig: { OnFailure: { Destination: `${ARN}:other` } } }),
      ),
    );
    assert.deepEqual(withDestination['DestinationConfig'], {
      OnSuccess: {},
      OnFailure: { Destination: `${ARN}:other` },
    });
    const got = body(await call('GET', `${CONFIG('target')}?Qualifier=%24LATEST`));
    assert.equal(got['MaximumEventAgeInSeconds'], 60);
    assert.equal(got['MaximumRetryAttempts'], 1);

    // Qualified configs: by ?Qualifier=, by name:qualifier, by alias ARN.
    assert.equal(
      body(await call('PUT', `${CONFIG('target')}?Qualifier=1`, '{"MaximumRetryAttempts":1}'))[
        'FunctionArn'
      ],
      `${ARN}:target:1`,
    );
    assert.equal(
      body(await call('PUT', CONFIG('target:live'), '{"MaximumRetryAttempts":2}'))['FunctionArn'],
      `${ARN}:target:live`,
    );
    assert.equal(body(await call('GET', CONFIG(`${ARN}:target:live`)))['MaximumRetryAttempts'], 2);

    const listed = body(await call('GET', `${CONFIG('target')}/list`));
    assert.deepEqual(
      (listed['FunctionEventInvokeConfigs'] as Array<Record<string, unknown>>).map(
        (c) => c['FunctionArn'],
      ),
      [`${ARN}:target:$LATEST`, `${ARN}:target:1`, `${ARN}:target:live`],
    );
    assert.equal(listed['NextMarker'], undefined);
    const page1 = body(await call('GET', `${CONFIG('target')}/list?MaxItems=2`));
    assert.equal((page1['FunctionEventInvokeConfigs'] as unknown[]).length, 2);
    const page2 = body(
      await call('GET', `${CONFIG('target')}/list?Marker=${String(page1['NextMarker'])}`),
    );
    assert.equal((page2['FunctionEventInvokeConfigs'] as unknown[]).length, 1);

    for (const q of ['%24LATEST', '1', 'live'])
      assert.equal((await call('DELETE', `${CONFIG('target')}?Qualifier=${q}`)).statusCode, 204);
    assert.deepEqual(body(await call('GET', `${CONFIG('target')}/list`)), {
      FunctionEventInvokeConfigs: [],
    });
  });

  test("AWS's errors for bad EventInvokeConfig requests", async () => {
    const cases: Array<[string, string, string | undefined, number, string, string]> = [
      [
        'PUT',
        CONFIG('doesnotexist'),
        '{}',
        400,
        'InvalidParameterValueException',
        'You must specify at least one of error handling or destination setting.',
      ],
      [
        'PUT',
        CONFIG('doesnotexist'),
        '{"MaximumRetryAttempts":1}',
        404,
        'ResourceNotFoundException',
        "The function doesn't exist.",
      ],
      [
        'PUT',
        `${CONFIG('target')}?Qualifier=livedoesnotexist`,
        '{"MaximumRetryAttempts":1}',
        404,
        'ResourceNotFoundException',
        "The function doesn't exist.",
      ],
      [
        'PUT',
        `${CONFIG(`${ARN}:target:live`)}?Qualifier=other`,
        '{"MaximumRetryAttempts":1}',
        400,
        'InvalidParameterValueException',
        'The derived qualifier from the function name does not match the specified qualifier.',
      ],
      [
        'PUT',
        CONFIG('target'),
        '{"MaximumRetryAttempts":3}',
        400,
        'ValidationException',
        "1 validation error detected: Value '3' at 'maximumRetryAttempts' failed to satisfy constraint: Member must have value less than or equal to 2",
      ],
      [
        'PUT',
        CONFIG('target'),
        '{"MaximumEventAgeInSeconds":59}',
        400,
        'ValidationException',
        "1 validation error detected: Value '59' at 'maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value greater than or equal to 60",
      ],
      [
        'PUT',
        CONFIG('target'),
        JSON.stringify({
          DestinationConfig: { OnSuccess: { Destination: `${ARN}:doesnotexist` } },
        }),
        400,
        'InvalidParameterValueException',
        `The destination ARN ${ARN}:doesnotexist is invalid.`,
      ],
      [
        'PUT',
        CONFIG('target'),
        JSON.stringify({ DestinationConfig: { OnSuccess: { Destination: `${ARN}:target` } } }),
        400,
        'InvalidParameterValueException',
        "You can't specify the function as a destination for itself.",
      ],
      [
        'PUT',
        CONFIG('target'),
        JSON.stringify({
          DestinationConfig: {
            OnSuccess: { Destination: 'arn:aws:iam:us-east-1:000000000000:function:target' },
          },
        }),
        400,
        'InvalidParameterValueException',
        'The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:iam:us-east-1:000000000000:function:target), onFailure=null) is invalid.',
      ],
      [
        'PUT',
        CONFIG('target'),
        '{"MaximumRetryAttempts":"two"}',
        400,
        'InvalidRequestContentException',
        'Could not parse request body into json: MaximumRetryAttempts must be a whole number, got a string',
      ],
      [
        'GET',
        CONFIG('doesnotexist'),
        undefined,
        404,
        'ResourceNotFoundException',
        `The function ${ARN}:doesnotexist:$LATEST doesn't have an EventInvokeConfig`,
      ],
      [
        'GET',
        `${CONFIG('target')}?Qualifier=doesnotexist`,
        undefined,
        404,
        'ResourceNotFoundException',
        `The function ${ARN}:target:doesnotexist doesn't have an EventInvokeConfig`,
      ],
      [
        'DELETE',
        CONFIG('doesnotexist'),
        undefined,
        404,
        'ResourceNotFoundException',
        `The function ${ARN}:doesnotexist:$LATEST doesn't have an EventInvokeConfig`,
      ],
      [
        'POST',
        CONFIG('doesnotexist'),
        '{"MaximumRetryAttempts":0}',
        404,
        'ResourceNotFoundException',
        "The function doesn't exist.",
      ],
      [
        'POST',
        CONFIG(`${ARN}:target:live`),
        '{"MaximumRetryAttempts":0}',
        404,
        'ResourceNotFoundException',
        `The function ${ARN}:target:live doesn't have an EventInvokeConfig`,
      ],
      [
        'GET',
        `${CONFIG('doesnotexist')}/list`,
        undefined,
        404,
        'ResourceNotFoundException',
        "The function doesn't exist.",
      ],
    ];
    for (const [method, url, payload, status, type, message] of cases) {
      const response = await call(method as 'GET', url, payload);
      assert.deepEqual(
        errorOf(response),
        { status, type, message },
        `${method} ${url} ${payload ?? ''}`,
      );
    }
    const pattern = errorOf(
      await call(
        'PUT',
        CONFIG('target'),
        JSON.stringify({
          DestinationConfig: {
            OnFailure: { Destination: `arn:aws:_-/!lambda:us-east-1:000000000000:function:target` },
          },
        }),
      ),
    );
    assert.equal(pattern.type, 'ValidationException');
    assert.match(
      String(pattern.message),
      /at 'destinationConfig\.onFailure\.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: \$\|kafka:\/\//,
    );
  });

  test('destinations of other services are refused with a clear error; an empty one means none', async () => {
    for (const [arn, what] of [
      ['arn:aws:sqs:us-east-1:000000000000:queue', 'an Amazon SQS queue'],
      ['arn:aws:sns:us-east-1:000000000000:topic', 'an Amazon SNS topic'],
      [
        'arn:aws:events:us-east-1:000000000000:event-bus/default',
        'an Amazon EventBridge event bus',
      ],
      ['arn:aws:s3:::bucket', 'an Amazon S3 bucket'],
    ] as const) {
      const refused = errorOf(
        await call(
          'PUT',
          CONFIG('target'),
          JSON.stringify({ DestinationConfig: { OnSuccess: { Destination: arn } } }),
        ),
      );
      assert.equal(refused.type, 'InvalidParameterValueException', arn);
      assert.match(
        String(refused.message),
        new RegExp(
          `^The destination ${arn} is ${what}; Lamina delivers asynchronous invocation records only to Lambda functions`,
        ),
      );
    }
    const empty = body(
      await call(
        'PUT',
        CONFIG('target'),
        JSON.stringify({ DestinationConfig: { OnSuccess: {}, OnFailure: { Destination: '' } } }),
      ),
    );
    assert.deepEqual(empty['DestinationConfig'], { OnSuccess: {}, OnFailure: {} });
  });

  test('an Event invoke is stored before its 202; the function must exist; JSON and size limits apply', async () => {
    const accepted = await call('POST', '/2015-03-31/functions/target/invocations', '{"hello":1}', {
      'x-amz-invocation-type': 'Event',
    });
    assert.equal(accepted.statusCode, 202);
    assert.equal(accepted.body, '');
    const id = String(accepted.headers['x-amzn-requestid']);
    const stored = await api.asyncStore.get(id);
    assert.equal(stored?.status, 'Queued');
    assert.equal(stored?.functionName, 'target');
    assert.equal(stored?.payload.toString(), '{"hello":1}');

    const aliased = await call('POST', '/2015-03-31/functions/target:live/invocations', '', {
      'x-amz-invocation-type': 'Event',
    });
    assert.equal(aliased.statusCode, 202);
    assert.equal(
      (await api.asyncStore.get(String(aliased.headers['x-amzn-requestid'])))?.qualifier,
      'live',
    );

    const missing = await call('POST', '/2015-03-31/functions/nope/invocations', '{}', {
      'x-amz-invocation-type': 'Event',
    });
    assert.deepEqual(errorOf(missing), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: `Function not found: ${ARN}:nope`,
    });
    const badJson = await call('POST', '/2015-03-31/functions/target/invocations', '{"a":', {
      'x-amz-invocation-type': 'Event',
    });
    assert.equal(errorOf(badJson).type, 'InvalidRequestContentException');
    assert.match(
      String(errorOf(badJson).message),
      /^Could not parse request body into json: Could not parse payload into json: /,
    );
    const big = `"${'x'.repeat(1_048_577)}"`;
    assert.deepEqual(
      errorOf(
        await call('POST', '/2015-03-31/functions/target/invocations', big, {
          'x-amz-invocation-type': 'Event',
        }),
      ),
      {
        status: 413,
        type: 'RequestTooLargeException',
        message: 'Request must be smaller than 1048576 bytes for the InvokeAsync operation',
      },
    );
    const fits = `"${'x'.repeat(1_048_570)}"`;
    assert.equal(
      (
        await call('POST', '/2015-03-31/functions/target/invocations', fits, {
          'x-amz-invocation-type': 'Event',
        })
      ).statusCode,
      202,
    );
  });

  test('InvokeAsync (legacy): 202 {"Status":202}, 256 KB, the same errors', async () => {
    const accepted = await call(
      'POST',
      '/2014-11-13/functions/target/invoke-async/',
      '{"legacy":true}',
    );
    assert.equal(accepted.statusCode, 202);
    assert.deepEqual(body(accepted), { Status: 202 });
    assert.equal(
      (await api.asyncStore.get(String(accepted.headers['x-amzn-requestid'])))?.status,
      'Queued',
    );
    assert.equal(
      errorOf(await call('POST', '/2014-11-13/functions/nope/invoke-async/', '{}')).status,
      404,
    );
    assert.equal(
      errorOf(await call('POST', '/2014-11-13/functions/target/invoke-async', 'not json')).type,
      'InvalidRequestContentException',
    );
    assert.deepEqual(
      errorOf(
        await call('POST', '/2014-11-13/functions/target/invoke-async', `"${'x'.repeat(262_144)}"`),
      ),
      {
        status: 413,
        type: 'RequestTooLargeException',
        message: 'Request must be smaller than 262144 bytes for the InvokeAsync operation',
      },
    );
  });

  test('the events API: get, list newest first with Status / MaxItems / Marker, replay, and its errors', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(
        'POST',
        '/2015-03-31/functions/other/invocations',
        JSON.stringify({ i }),
        { 'x-amz-invocation-type': 'Event' },
      );
      ids.push(String(r.headers['x-amzn-requestid']));
    }
    const one = body(await call('GET', `/lamina/2026-11-01/async-events/${ids[0] ?? ''}`));
    assert.deepEqual(
      {
        ...one,
        EnqueuedTime: typeof one['EnqueuedTime'],
        NextAttemptTime: typeof one['NextAttemptTime'],
      },
      {
        RequestId: ids[0],
        FunctionArn: `${ARN}:other`,
        Qualifier: '$LATEST',
        Status: 'Queued',
        Attempts: 0,
        Throttles: 0,
        EnqueuedTime: 'string',
        LastAttemptTime: null,
        Condition: null,
        Error: null,
        Response: null,
        NextAttemptTime: 'string',
      },
    );
    const list = (query: string) =>
      call('GET', `/lamina/2026-11-01/functions/other/async-events${query}`);
    const all = body(await list(''));
    assert.deepEqual(
      (all['AsyncEvents'] as Array<{ RequestId: string }>).map((e) => e.RequestId),
      [...ids].reverse(),
    );
    const first = body(await list('?MaxItems=2&Status=Queued'));
    assert.equal((first['AsyncEvents'] as unknown[]).length, 2);
    const rest = body(await list(`?MaxItems=2&Marker=${String(first['NextMarker'])}`));
    assert.deepEqual(
      (rest['AsyncEvents'] as Array<{ RequestId: string }>).map((e) => e.RequestId),
      [ids[0]],
    );
    assert.equal(rest['NextMarker'], undefined);
    assert.deepEqual(body(await list('?Status=Failed')), { AsyncEvents: [] });

    const replay = await call('POST', `/lamina/2026-11-01/async-events/${ids[1] ?? ''}/replay`);
    assert.equal(replay.statusCode, 202);
    const replayId = String(body(replay)['RequestId']);
    const replayed = body(await call('GET', `/lamina/2026-11-01/async-events/${replayId}`));
    assert.equal(replayed['ReplayOf'], ids[1]);
    assert.equal((await api.asyncStore.get(replayId))?.payload.toString(), '{"i":1}');

    assert.deepEqual(errorOf(await call('GET', '/lamina/2026-11-01/async-events/nope')), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'Async event not found: nope',
    });
    assert.equal(
      errorOf(await call('POST', '/lamina/2026-11-01/async-events/nope/replay')).status,
      404,
    );
    assert.equal(errorOf(await list('?Status=Done')).type, 'ValidationException');
    assert.equal(errorOf(await list('?MaxItems=0')).type, 'ValidationException');
    assert.equal(errorOf(await list('?MaxItems=abc')).type, 'ValidationException');
    assert.equal(errorOf(await list('?Marker=%21%21')).type, 'InvalidParameterValueException');
  });
});
