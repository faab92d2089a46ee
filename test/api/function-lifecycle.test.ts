/** The control API in-process (real SQLite, real code store): lifecycle, conflicts, recovery. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inProcessApi, type InProcessApi } from '../helpers/in-process-api.js';
import { helloZip } from '../helpers/zips.js';

const ROLE = 'arn:aws:iam::000000000000:role/r';

/** Parses a JSON response body. */
function json(body: string): Record<string, unknown> {
  return JSON.parse(body) as Record<string, unknown>;
}

async function createBody(name: string, body?: string): Promise<string> {
  return JSON.stringify({
    FunctionName: name,
    Runtime: 'nodejs20.x',
    Role: ROLE,
    Handler: 'index.handler',
    Code: { ZipFile: (await helloZip(body)).toString('base64') },
  });
}

describe('function lifecycle', () => {
  let api: InProcessApi;
  before(async () => {
    api = await inProcessApi();
  });
  after(async () => api.close());

  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: string) =>
    api.app.inject({ method, url, ...(payload === undefined ? {} : { payload }) });
  const config = async (name: string) =>
    JSON.parse((await call('GET', `/2015-03-31/functions/${name}/configuration`)).body) as Record<
      string,
      unknown
    >;

  test('updates are refused while Pending, and while an update is InProgress', async () => {
    api.gate.close();
    const created = await call('POST', '/2015-03-31/functions', await createBody('held'));
    assert.equal(created.statusCode, 201);
    assert.equal((await config('held'))['State'], 'Pending');

    const whilePending = await call(
      'PUT',
      '/2015-03-31/functions/held/configuration',
      '{"Timeout":5}',
    );
    assert.equal(whilePending.statusCode, 409);
    assert.equal(whilePending.headers['x-amzn-errortype'], 'ResourceConflictException');
    assert.deepEqual(JSON.parse(whilePending.body), {
      Type: 'User',
      message:
        'The operation cannot be performed at this time. The function is currently in the following state: Pending',
    });

    api.gate.open();
    await api.preparation.idle();
    assert.equal((await config('held'))['State'], 'Active');

    api.gate.close();
    const first = await call('PUT', '/2015-03-31/functions/held/configuration', '{"Timeout":5}');
    assert.equal(first.statusCode, 200);
    assert.equal(json(first.body)['LastUpdateStatus'], 'InProgress');
    const second = await call(
      'PUT',
      '/2015-03-31/functions/held/code',
      JSON.stringify({ ZipFile: (await helloZip('//2')).toString('base64') }),
    );
    assert.equal(second.statusCode, 409);
    assert.equal(
      json(second.body)['message'],
      'The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:000000000000:function:held',
    );
    // Reads still work and show the update under way.
    const during = await config('held');
    assert.equal(during['LastUpdateStatus'], 'InProgress');
    assert.equal(during['LastUpdateStatusReason'], 'The function is being created.');

    api.gate.open();
    await api.preparation.idle();
    const done = await config('held');
    assert.equal(done['LastUpdateStatus'], 'Successful');
    assert.equal(done['Timeout'], 5);
    assert.equal(done['LastUpdateStatusReason'], undefined);
  });

  test('every mutation and every completed preparation changes the RevisionId', async () => {
    await call('POST', '/2015-03-31/functions', await createBody('revs'));
    await api.preparation.idle();
    const seen = new Set<unknown>([(await config('revs'))['RevisionId']]);
    api.gate.close();
    await call('PUT', '/2015-03-31/functions/revs/configuration', '{"Description":"a"}');
    seen.add((await config('revs'))['RevisionId']);
    api.gate.open();
    await api.preparation.idle();
    seen.add((await config('revs'))['RevisionId']);
    await call(
      'POST',
      '/2017-03-31/tags/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Arevs',
      '{"Tags":{"k":"v"}}',
    );
    seen.add((await config('revs'))['RevisionId']);
    assert.equal(seen.size, 4);
  });

  test('an unfinished preparation is resumed after a restart', async () => {
    api.gate.close();
    await call('POST', '/2015-03-31/functions', await createBody('resume', '//resume'));
    const stored = await api.repository.listAwaitingPreparation();
    assert.deepEqual(
      stored.map((r) => r.name),
      ['resume'],
    );
    // A second API on the same data directory plays the restarted server.
    const restarted = await inProcessApi(api.dataDir);
    try {
      assert.equal(await restarted.preparation.recover(), 1);
      await restarted.preparation.idle();
      const got = await restarted.app.inject({
        method: 'GET',
        url: '/2015-03-31/functions/resume/configuration',
      });
      assert.equal(json(got.body)['State'], 'Active');
    } finally {
      await restarted.close();
      api.gate.open();
      await api.preparation.idle();
    }
  });

  test('malformed bodies and wrong types are InvalidRequestContentException', async () => {
    const notJson = await call('POST', '/2015-03-31/functions', '{"FunctionName": ');
    assert.equal(notJson.statusCode, 400);
    assert.equal(notJson.headers['x-amzn-errortype'], 'InvalidRequestContentException');
    const wrongType = await call(
      'POST',
      '/2015-03-31/functions',
      JSON.stringify({ FunctionName: 'wt', MemorySize: 'big' }),
    );
    assert.equal(wrongType.statusCode, 400);
    assert.match(String(json(wrongType.body)['message']), /MemorySize must be a whole number/);
    const badBase64 = await call(
      'POST',
      '/2015-03-31/functions',
      JSON.stringify({
        FunctionName: 'b64',
        Role: ROLE,
        Runtime: 'nodejs20.x',
        Handler: 'i.h',
        Code: { ZipFile: '%%%' },
      }),
    );
    assert.equal(badBase64.headers['x-amzn-errortype'], 'InvalidRequestContentException');
    const missingRole = await call(
      'POST',
      '/2015-03-31/functions',
      JSON.stringify({ FunctionName: 'nr' }),
    );
    assert.equal(missingRole.headers['x-amzn-errortype'], 'ValidationException');
  });

  test('routes answer with and without trailing slashes; unknown paths are named', async () => {
    assert.equal((await call('GET', '/2015-03-31/functions/')).statusCode, 200);
    assert.equal((await call('GET', '/2016-08-19/account-settings/')).statusCode, 200);
    const unknown = await call('GET', '/2099-01-01/nothing');
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.headers['x-amzn-errortype'], 'UnknownOperationException');
    assert.ok(unknown.headers['x-amzn-requestid']);
  });

  test('requests over the size limits get 413 with the AWS message', async () => {
    const tooBig = await call(
      'PUT',
      '/2015-03-31/functions/revs/configuration',
      'x'.repeat(6_291_457),
    );
    assert.equal(tooBig.statusCode, 413);
    assert.equal(tooBig.headers['x-amzn-errortype'], 'RequestEntityTooLargeException');
    assert.equal(
      json(tooBig.body)['message'],
      'Request must be smaller than 6291456 bytes for the UpdateFunctionConfiguration operation',
    );
  });

  test('deleting: $LATEST is refused, unknown versions succeed, aliases are not supported', async () => {
    await call('POST', '/2015-03-31/functions', await createBody('del'));
    const latest = await call('DELETE', '/2015-03-31/functions/del?Qualifier=%24LATEST');
    assert.equal(latest.statusCode, 400);
    assert.equal(
      json(latest.body)['message'],
      '$LATEST version cannot be deleted without deleting the function.',
    );
    assert.equal((await call('DELETE', '/2015-03-31/functions/del?Qualifier=7')).statusCode, 204);
    const alias = await call('DELETE', '/2015-03-31/functions/del?Qualifier=live');
    assert.equal(json(alias.body)['message'], 'Deletion of aliases is not currently supported.');
    const mismatch = await call('DELETE', '/2015-03-31/functions/del%3A1?Qualifier=2');
    assert.equal(
      json(mismatch.body)['message'],
      'The derived qualifier from the function name does not match the specified qualifier.',
    );
    assert.equal((await call('DELETE', '/2015-03-31/functions/del')).statusCode, 204);
  });
});
