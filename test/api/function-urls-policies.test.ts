/**
 * Function URL configurations and resource policies through the HTTP API in-process (real SQLite,
 * no sandboxes): AWS's recorded shapes and messages, one policy per function / version / alias,
 * cleanup with the alias, version and function, and the URL edge's answers that need no function
 * run (unknown url id, a NONE URL without a public statement, CORS preflight, both address forms).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { URL_FORBIDDEN } from '../../src/api/function-url-handler.js';
import { errorOf, inProcessApi, type InProcessApi } from '../helpers/in-process-api.js';
import { helloZip } from '../helpers/zips.js';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function';
const URL_PATH = (name: string) => `/2021-10-31/functions/${encodeURIComponent(name)}/url`;
const POLICY = (name: string) => `/2015-03-31/functions/${encodeURIComponent(name)}/policy`;
const QUALIFIER_PATTERN = '((?!^\\d+$)^[0-9a-zA-Z-_]+$)';
const URL_RE = /^http:\/\/([a-z0-9]{32})\.lambda-url\.us-east-1\.localhost:9000\/$/;

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'OPTIONS';

describe('function URL configurations and resource policies', () => {
  let api: InProcessApi;
  const call = (method: Method, url: string, payload?: unknown, headers = {}) =>
    api.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
  const json = (response: { body: string }) => JSON.parse(response.body) as Record<string, unknown>;
  const failure = async (method: Method, url: string, payload?: unknown) => {
    return errorOf(await call(method, url, payload));
  };

  before(async () => {
    api = await inProcessApi();
    for (const name of ['web', 'other']) {
      const created = await call('POST', '/2015-03-31/functions', {
        FunctionName: name,
        Runtime: 'nodejs20.x',
        Role: 'arn:aws:iam::000000000000:role/r',
        Handler: 'index.handler',
        Code: { ZipFile: (await helloZip()).toString('base64') },
      });
      assert.equal(created.statusCode, 201);
    }
    await api.preparation.idle();
    assert.equal((await call('POST', '/2015-03-31/functions/web/versions', {})).statusCode, 201);
    const alias = await call('POST', '/2015-03-31/functions/web/aliases', {
      Name: 'live',
      FunctionVersion: '1',
    });
    assert.equal(alias.statusCode, 201);
  });
  after(async () => api.close());

  test('Create, Get, Update, List and Delete answer with AWS shapes', async () => {
    const created = await call('POST', URL_PATH('web'), { AuthType: 'NONE' });
    assert.equal(created.statusCode, 201);
    const body = json(created);
    assert.match(body['FunctionUrl'] as string, URL_RE);
    assert.deepEqual(Object.keys(body).sort(), [
      'AuthType',
      'CreationTime',
      'FunctionArn',
      'FunctionUrl',
    ]);
    assert.equal(body['FunctionArn'], `${ARN}:web`);
    assert.match(body['CreationTime'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const got = json(await call('GET', URL_PATH('web')));
    assert.equal(got['InvokeMode'], 'BUFFERED');
    assert.equal(got['FunctionUrl'], body['FunctionUrl']);
    assert.equal(typeof got['LastModifiedTime'], 'string');

    // Update echoes InvokeMode only once it has been set (as recorded from AWS).
    const auth = json(await call('PUT', URL_PATH('web'), { AuthType: 'AWS_IAM' }));
    assert.equal(auth['AuthType'], 'AWS_IAM');
    assert.equal(auth['InvokeMode'], undefined);
    const streamed = json(
      await call('PUT', URL_PATH('web'), {
        InvokeMode: 'RESPONSE_STREAM',
        Cors: { AllowOrigins: ['https://app.example'], MaxAge: 60 },
      }),
    );
    assert.equal(streamed['InvokeMode'], 'RESPONSE_STREAM');
    assert.equal(streamed['AuthType'], 'AWS_IAM');
    assert.deepEqual(streamed['Cors'], { AllowOrigins: ['https://app.example'], MaxAge: 60 });
    assert.equal(json(await call('PUT', URL_PATH('web'), {}))['InvokeMode'], 'RESPONSE_STREAM');

    const aliasUrl = await call('POST', `${URL_PATH('web')}?Qualifier=live`, { AuthType: 'NONE' });
    assert.equal(aliasUrl.statusCode, 201);
    assert.equal(json(aliasUrl)['FunctionArn'], `${ARN}:web:live`);
    assert.notEqual(json(aliasUrl)['FunctionUrl'], body['FunctionUrl']);

    const listed = json(await call('GET', '/2021-10-31/functions/web/urls'));
    const configs = listed['FunctionUrlConfigs'] as Array<Record<string, unknown>>;
    assert.deepEqual(
      configs.map((c) => c['FunctionArn']),
      [`${ARN}:web`, `${ARN}:web:live`],
    );
    assert.equal(listed['NextMarker'], undefined);
    const page = json(await call('GET', '/2021-10-31/functions/web/urls?MaxItems=1'));
    assert.equal((page['FunctionUrlConfigs'] as unknown[]).length, 1);
    const next = json(
      await call(
        'GET',
        `/2021-10-31/functions/web/urls?Marker=${encodeURIComponent(page['NextMarker'] as string)}`,
      ),
    );
    assert.deepEqual(
      (next['FunctionUrlConfigs'] as Array<Record<string, unknown>>).map((c) => c['FunctionArn']),
      [`${ARN}:web:live`],
    );

    assert.equal((await call('DELETE', URL_PATH('web'))).statusCode, 204);
    // The alias's URL stays when the unqualified one is deleted.
    assert.equal((await call('GET', `${URL_PATH('web')}?Qualifier=live`)).statusCode, 200);
    assert.deepEqual(await failure('GET', URL_PATH('web')), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
    });
    assert.equal((await call('DELETE', `${URL_PATH('web')}?Qualifier=live`)).statusCode, 204);
  });

  test('URL operations refuse what AWS refuses, with its messages', async () => {
    const qualifierError = (value: string) => ({
      status: 400,
      type: 'ValidationException',
      message: `1 validation error detected: Value '${value}' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ${QUALIFIER_PATTERN}`,
    });
    assert.deepEqual(
      await failure('POST', `${URL_PATH('web')}?Qualifier=1`, { AuthType: 'NONE' }),
      qualifierError('1'),
    );
    assert.deepEqual(
      await failure('GET', `${URL_PATH('web')}?Qualifier=%24LATEST`),
      qualifierError('$LATEST'),
    );
    assert.deepEqual(await failure('POST', URL_PATH('missing'), { AuthType: 'NONE' }), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'Function does not exist',
    });
    assert.deepEqual(
      await failure('POST', `${URL_PATH('web')}?Qualifier=nope`, { AuthType: 'NONE' }),
      { status: 404, type: 'ResourceNotFoundException', message: 'Function does not exist' },
    );
    assert.deepEqual(
      await failure('POST', `${URL_PATH('web:live')}?Qualifier=other`, { AuthType: 'NONE' }),
      {
        status: 400,
        type: 'InvalidParameterValueException',
        message:
          'The derived qualifier from the function name does not match the specified qualifier.',
      },
    );
    assert.deepEqual(
      await failure('POST', URL_PATH('other'), { AuthType: 'NONE', InvokeMode: 'UNKNOWN' }),
      {
        status: 400,
        type: 'ValidationException',
        message:
          "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]",
      },
    );
    assert.deepEqual(await failure('POST', URL_PATH('other'), {}), {
      status: 400,
      type: 'ValidationException',
      message:
        "1 validation error detected: Value null at 'authType' failed to satisfy constraint: Member must not be null",
    });
    assert.equal((await call('POST', URL_PATH('other'), { AuthType: 'NONE' })).statusCode, 201);
    assert.deepEqual(await failure('POST', URL_PATH('other'), { AuthType: 'NONE' }), {
      status: 409,
      type: 'ResourceConflictException',
      message: `Failed to create function url config for [functionArn = ${ARN}:other]. Error message:  FunctionUrlConfig exists for this Lambda function`,
    });
    assert.deepEqual(await failure('PUT', `${URL_PATH('web')}?Qualifier=live`, {}), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
    });
    assert.deepEqual(await failure('GET', '/2021-10-31/functions/missing/urls'), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'Function does not exist',
    });
  });

  test('AddPermission, GetPolicy and RemovePermission keep one document per qualifier', async () => {
    const added = await call('POST', POLICY('web'), {
      StatementId: 'urlPermission',
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
    });
    assert.equal(added.statusCode, 201);
    assert.deepEqual(JSON.parse(json(added)['Statement'] as string), {
      Sid: 'urlPermission',
      Effect: 'Allow',
      Principal: '*',
      Action: 'lambda:InvokeFunctionUrl',
      Resource: `${ARN}:web`,
      Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } },
    });
    const s3 = await call('POST', POLICY('web'), {
      StatementId: 's3',
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceArn: 'arn:aws:s3:::bucket',
      SourceAccount: '000000000000',
    });
    assert.deepEqual(JSON.parse(json(s3)['Statement'] as string), {
      Sid: 's3',
      Effect: 'Allow',
      Principal: { Service: 's3.amazonaws.com' },
      Action: 'lambda:InvokeFunction',
      Resource: `${ARN}:web`,
      Condition: {
        StringEquals: { 'AWS:SourceAccount': '000000000000' },
        ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::bucket' },
      },
    });
    const policy = json(await call('GET', POLICY('web')));
    assert.equal(typeof policy['RevisionId'], 'string');
    const document = JSON.parse(policy['Policy'] as string) as Record<string, unknown>;
    assert.equal(document['Version'], '2012-10-17');
    assert.equal(document['Id'], 'default');
    assert.deepEqual(
      (document['Statement'] as Array<{ Sid: string }>).map((s) => s.Sid),
      ['urlPermission', 's3'],
    );

    // Versions and aliases have their own documents.
    assert.deepEqual(await failure('GET', `${POLICY('web')}?Qualifier=1`), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
    });
    const account = await call('POST', `${POLICY('web')}?Qualifier=1`, {
      StatementId: 'account',
      Action: 'lambda:InvokeFunction',
      Principal: '000000000000',
    });
    const statement = JSON.parse(json(account)['Statement'] as string) as { Principal: unknown };
    assert.deepEqual(statement.Principal, {
      AWS: 'arn:aws:iam::000000000000:root',
    });
    const versionPolicy = JSON.parse(
      json(await call('GET', `${POLICY('web')}?Qualifier=1`))['Policy'] as string,
    ) as { Statement: Array<{ Resource: string }> };
    assert.equal(versionPolicy.Statement[0]?.Resource, `${ARN}:web:1`);

    assert.deepEqual(await failure('DELETE', `${POLICY('web')}/s3?RevisionId=stale`), {
      status: 412,
      type: 'PreconditionFailedException',
      message:
        'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
    });
    assert.equal(
      (await call('DELETE', `${POLICY('web')}/s3?RevisionId=${policy['RevisionId'] as string}`))
        .statusCode,
      204,
    );
    assert.deepEqual(await failure('DELETE', `${POLICY('web')}/s3`), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'Statement s3 is not found in resource policy.',
    });
    assert.equal((await call('DELETE', `${POLICY('web')}/urlPermission`)).statusCode, 204);
    // The last statement takes the document with it.
    assert.equal((await call('GET', POLICY('web'))).statusCode, 404);
    assert.deepEqual(await failure('DELETE', `${POLICY('web')}/urlPermission`), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'No policy is associated with the given resource.',
    });
  });

  test('AddPermission refuses what AWS refuses, with its messages', async () => {
    const statement = {
      StatementId: 's3',
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
    };
    assert.deepEqual(
      await failure('POST', POLICY('other'), { ...statement, StatementId: 'example.com' }),
      {
        status: 400,
        type: 'ValidationException',
        message:
          "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
      },
    );
    assert.deepEqual(await failure('POST', POLICY('other:$LATEST'), statement), {
      status: 400,
      type: 'InvalidParameterValueException',
      message: 'We currently do not support adding policies for $LATEST.',
    });
    assert.deepEqual(
      await failure('POST', POLICY('other'), { ...statement, Principal: 'invalid.nonaws.com' }),
      {
        status: 400,
        type: 'InvalidParameterValueException',
        message: 'The provided principal was invalid. Please check the principal and try again.',
      },
    );
    assert.deepEqual(await failure('POST', POLICY('doesnotexist'), statement), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: `Function not found: ${ARN}:doesnotexist`,
    });
    assert.deepEqual(await failure('POST', POLICY('web:alias-doesnotexist'), statement), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: `Cannot find alias arn: ${ARN}:web:alias-doesnotexist`,
    });
    assert.deepEqual(await failure('POST', `${POLICY('web')}?Qualifier=42`, statement), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: `Function not found: ${ARN}:web:42`,
    });
    assert.deepEqual(
      await failure('POST', `${POLICY('web')}?Qualifier=live`, {
        ...statement,
        RevisionId: 'wrong',
      }),
      {
        status: 412,
        type: 'PreconditionFailedException',
        message:
          'The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id',
      },
    );
    assert.equal((await call('POST', POLICY('other'), statement)).statusCode, 201);
    assert.deepEqual(await failure('POST', POLICY('other'), statement), {
      status: 409,
      type: 'ResourceConflictException',
      message:
        'The statement id (s3) provided already exists. Please provide a new statement id, or remove the existing statement.',
    });
    assert.deepEqual(await failure('DELETE', `${POLICY('doesnotexist')}/s3`), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: `No policy found for: ${ARN}:doesnotexist`,
    });
    assert.deepEqual(await failure('GET', POLICY('doesnotexist')), {
      status: 404,
      type: 'ResourceNotFoundException',
      message: 'The resource you requested does not exist.',
    });
  });

  test('deleting an alias removes its URL and policy; a new alias of that name starts clean', async () => {
    await call('POST', '/2015-03-31/functions/web/aliases', { Name: 'temp', FunctionVersion: '1' });
    const url = json(await call('POST', `${URL_PATH('web')}?Qualifier=temp`, { AuthType: 'NONE' }));
    await call('POST', `${POLICY('web')}?Qualifier=temp`, {
      StatementId: 'x',
      Action: 'lambda:InvokeFunction',
      Principal: '*',
    });
    assert.equal((await call('DELETE', '/2015-03-31/functions/web/aliases/temp')).statusCode, 204);
    await call('POST', '/2015-03-31/functions/web/aliases', { Name: 'temp', FunctionVersion: '1' });
    assert.equal((await call('GET', `${URL_PATH('web')}?Qualifier=temp`)).statusCode, 404);
    assert.equal((await call('GET', `${POLICY('web')}?Qualifier=temp`)).statusCode, 404);
    // The deleted URL answers 404.
    const id = URL_RE.exec(url['FunctionUrl'] as string)?.[1] ?? '';
    const gone = await call('GET', `/lambda-url/${id}/`);
    assert.equal(gone.statusCode, 404);
  });

  test('deleting a version removes its policy; deleting the function removes everything', async () => {
    assert.equal((await call('POST', '/2015-03-31/functions/other/versions', {})).statusCode, 201);
    await call('POST', `${POLICY('other')}?Qualifier=1`, {
      StatementId: 'v1',
      Action: 'lambda:InvokeFunction',
      Principal: '*',
    });
    assert.equal((await call('GET', `${POLICY('other')}?Qualifier=1`)).statusCode, 200);
    assert.equal((await call('DELETE', '/2015-03-31/functions/other?Qualifier=1')).statusCode, 204);
    assert.equal((await call('POST', '/2015-03-31/functions/other/versions', {})).statusCode, 201);
    assert.equal((await call('GET', `${POLICY('other')}?Qualifier=2`)).statusCode, 404);
    // The unqualified policy was not touched by the version's deletion.
    assert.equal((await call('GET', POLICY('other'))).statusCode, 200);

    assert.equal((await call('DELETE', '/2015-03-31/functions/other')).statusCode, 204);
    const rows = await api.db
      .selectFrom('function_urls')
      .selectAll()
      .where('function_name', '=', 'other')
      .execute();
    const policies = await api.db
      .selectFrom('resource_policies')
      .selectAll()
      .where('function_name', '=', 'other')
      .execute();
    assert.deepEqual([rows.length, policies.length], [0, 0]);
  });

  test('the URL edge: unknown ids, NONE without a public statement, preflights, both forms', async () => {
    await call('POST', '/2015-03-31/functions', {
      FunctionName: 'edge',
      Runtime: 'nodejs20.x',
      Role: 'arn:aws:iam::000000000000:role/r',
      Handler: 'index.handler',
      Code: { ZipFile: (await helloZip()).toString('base64') },
    });
    const url = json(
      await call('POST', URL_PATH('edge'), {
        AuthType: 'NONE',
        Cors: {
          AllowOrigins: ['https://app.example'],
          AllowMethods: ['GET', 'POST'],
          AllowHeaders: ['content-type'],
          MaxAge: 300,
        },
      }),
    )['FunctionUrl'] as string;
    const host = new URL(url).host;
    const id = URL_RE.exec(url)?.[1] ?? '';

    const unknown = await call('GET', '/x', undefined, {
      host: `${'a'.repeat(32)}.lambda-url.us-east-1.localhost:9000`,
    });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.headers['x-amzn-errortype'], 'ResourceNotFoundException');

    // No AddPermission yet: 403, without running anything (the API's SigV4 does not apply).
    for (const request of [
      { url: '/any/path?q=1', headers: { host } },
      { url: `/lambda-url/${id}/any/path?q=1`, headers: {} },
    ]) {
      const refused = await call('POST', request.url, { hello: 'world' }, request.headers);
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.headers['x-amzn-errortype'], 'AccessDeniedException');
      assert.deepEqual(json(refused), { Message: URL_FORBIDDEN });
      assert.equal(typeof refused.headers['x-amzn-requestid'], 'string');
    }

    // A statement that is not the public URL grant does not open the URL.
    await call('POST', POLICY('edge'), {
      StatementId: 'invoke',
      Action: 'lambda:InvokeFunction',
      Principal: '*',
    });
    assert.equal((await call('GET', '/', undefined, { host })).statusCode, 403);

    const preflight = await call('OPTIONS', '/items', undefined, {
      host,
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
    });
    assert.equal(preflight.statusCode, 200);
    assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example');
    assert.equal(preflight.headers['access-control-allow-methods'], 'GET,POST');
    assert.equal(preflight.headers['access-control-allow-headers'], 'content-type');
    assert.equal(preflight.headers['access-control-max-age'], '300');
    const foreign = await call('OPTIONS', '/items', undefined, {
      host,
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
    });
    assert.equal(foreign.headers['access-control-allow-origin'], undefined);
    // Over the 6 MB synchronous limit: refused before anything runs.
    await call('POST', POLICY('edge'), {
      StatementId: 'public',
      Action: 'lambda:InvokeFunctionUrl',
      Principal: '*',
      FunctionUrlAuthType: 'NONE',
    });
    const big = await api.app.inject({
      method: 'POST',
      url: '/upload',
      headers: { host, 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(6_291_457),
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.headers['x-amzn-errortype'], 'RequestTooLargeException');
    await call('DELETE', `${POLICY('edge')}/public`);

    // Errors carry the CORS headers too, so browsers can read them.
    const denied = await call('GET', '/', undefined, { host, origin: 'https://app.example' });
    assert.equal(denied.statusCode, 403);
    assert.equal(denied.headers['access-control-allow-origin'], 'https://app.example');
  });
});
