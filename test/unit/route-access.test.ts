/** Every control-API route is authorized with AWS's action and the resource ARN AWS checks. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { accessOf, AUTHORIZED_OPERATIONS } from '../../src/api/route-access.js';
import { ROUTES } from '../../src/api/route-table.js';

const scope = { region: 'us-east-1', accountId: '111122223333' };
const fn = 'arn:aws:lambda:us-east-1:111122223333:function';

test('every route has an action and a resource', () => {
  const missing = ROUTES.map((r) => r.operation).filter((op) => !AUTHORIZED_OPERATIONS.has(op));
  assert.deepEqual(missing, []);
});

test('functions: unqualified, or qualified where the operation takes a qualifier', () => {
  const of = (operation: string, params: Record<string, string>, query = {}) =>
    accessOf(operation, { params, query }, scope);
  const invoke = of('Invoke', { FunctionName: 'f' });
  assert.equal(invoke.action, 'lambda:InvokeFunction');
  assert.equal(invoke.resource, `${fn}:f`);
  assert.deepEqual(invoke.context, { 'lambda:FunctionArn': `${fn}:f` });
  // Repeated, a qualifier counts as its first value, as the handlers read it.
  assert.equal(
    of('Invoke', { FunctionName: 'f' }, { Qualifier: ['prod', 'dev'] }).resource,
    `${fn}:f:prod`,
  );
  assert.equal(of('Invoke', { FunctionName: 'f' }, { Qualifier: 'prod' }).resource, `${fn}:f:prod`);
  assert.equal(of('Invoke', { FunctionName: 'f:3' }).resource, `${fn}:f:3`);
  assert.equal(of('Invoke', { FunctionName: `${fn}:f:live` }).resource, `${fn}:f:live`);
  assert.equal(
    of('InvokeWithResponseStream', { FunctionName: 'f' }).action,
    'lambda:InvokeFunction',
  );
  assert.equal(of('UpdateFunctionCode', { FunctionName: 'f:prod' }).resource, `${fn}:f`);
  assert.equal(of('GetAlias', { FunctionName: 'f', Name: 'prod' }).resource, `${fn}:f`);
  const create = accessOf(
    'CreateFunction',
    { params: {}, query: {}, body: { FunctionName: 'new' } },
    scope,
  );
  assert.equal(create.action, 'lambda:CreateFunction');
  assert.equal(create.resource, `${fn}:new`);
});

test("condition keys from the body: a URL's auth type, a permission's principal", () => {
  const url = accessOf(
    'CreateFunctionUrlConfig',
    { params: { FunctionName: 'f' }, query: {}, body: { AuthType: 'NONE' } },
    scope,
  );
  assert.equal(url.context?.['lambda:FunctionUrlAuthType'], 'NONE');
  const permission = accessOf(
    'AddPermission',
    {
      params: { FunctionName: 'f' },
      query: {},
      body: { Principal: '*', Action: 'lambda:InvokeFunction' },
    },
    scope,
  );
  assert.equal(permission.context?.['lambda:Principal'], '*');
});

test('a layer named by its ARN is authorized as that layer', () => {
  assert.equal(
    accessOf(
      'GetLayerVersion',
      {
        params: {
          LayerName: 'arn:aws:lambda:us-east-1:111122223333:layer:secret',
          VersionNumber: '1',
        },
        query: {},
      },
      scope,
    ).resource,
    'arn:aws:lambda:us-east-1:111122223333:layer:secret:1',
  );
});

test('layers, tags, listings and Lamina operations', () => {
  const layers = 'arn:aws:lambda:us-east-1:111122223333:layer';
  assert.equal(
    accessOf(
      'GetLayerVersion',
      { params: { LayerName: 'l', VersionNumber: '2' }, query: {} },
      scope,
    ).resource,
    `${layers}:l:2`,
  );
  assert.equal(
    accessOf('PublishLayerVersion', { params: { LayerName: 'l' }, query: {} }, scope).resource,
    `${layers}:l`,
  );
  assert.equal(
    accessOf('TagResource', { params: { ARN: `${fn}:f` }, query: {} }, scope).resource,
    `${fn}:f`,
  );
  assert.deepEqual(accessOf('ListFunctions', { params: {}, query: {} }, scope), {
    action: 'lambda:ListFunctions',
    resource: '*',
  });
  assert.equal(
    accessOf('ListAsyncEvents', { params: { FunctionName: 'f' }, query: {} }, scope).action,
    'lamina:ListAsyncEvents',
  );
});
