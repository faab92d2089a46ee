/** Which runtime release a function runs on, and the refusals of runtimes and architectures. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FunctionSettings } from '../../src/core/function-model.js';
import { RuntimeCatalog, type RuntimeVersion } from '../../src/functions/runtime-catalog.js';

const v = (runtime: string, version: string): RuntimeVersion => ({
  runtime,
  version,
  arn: `arn:aws:lambda:us-east-1::runtime:${runtime}-${version}`,
});
let versions: RuntimeVersion[] = [v('nodejs22.x', '22.23.5'), v('nodejs22.x', '22.23.3')];
let refreshed = 0;
const catalog = new RuntimeCatalog(
  {
    versions: () => versions,
    missing: (runtime) => (runtime === 'nodejs24.x' ? 'it is not installed.' : undefined),
    refresh: () => {
      refreshed += 1;
    },
  },
  'x86_64',
);
const settings = (extra: Partial<FunctionSettings>) =>
  ({ runtime: 'nodejs22.x', ...extra }) as FunctionSettings;

test('Auto runs the newest release; Manual the pinned one; FunctionUpdate the recorded one', () => {
  assert.equal(catalog.versionFor(settings({}))?.version, '22.23.5');
  const pinned = v('nodejs22.x', '22.23.3').arn;
  assert.equal(
    catalog.versionFor(
      settings({ runtimeManagement: { updateRuntimeOn: 'Manual', runtimeVersionArn: pinned } }),
    )?.version,
    '22.23.3',
  );
  assert.equal(
    catalog.versionFor(
      settings({
        runtimeManagement: { updateRuntimeOn: 'FunctionUpdate' },
        runtimeVersionAtUpdate: '22.23.3',
      }),
    )?.version,
    '22.23.3',
  );
  // A pinned release that is gone falls back to the newest.
  assert.equal(
    catalog.versionFor(
      settings({ runtimeManagement: { updateRuntimeOn: 'Manual', runtimeVersionArn: 'x' } }),
    )?.version,
    '22.23.5',
  );
});

test('a runtime installed meanwhile is found after a refresh; a missing one says why', () => {
  const before = refreshed;
  assert.throws(
    () => catalog.check('nodejs24.x'),
    /not available on this Lamina server: it is not installed/,
  );
  assert.equal(refreshed, before + 1);
  versions = [...versions, v('nodejs24.x', '24.22.3')];
  catalog.check('nodejs24.x');
  assert.throws(() => catalog.check('nodejs14.x'), /no longer supported/);
  assert.throws(
    () => catalog.check('cobol1.0'),
    /failed to satisfy constraint: Member must satisfy enum value set: \[nodejs22\.x, nodejs24\.x\]/,
  );
});

test("only the host's architecture runs", () => {
  catalog.checkArchitecture('x86_64');
  assert.throws(() => catalog.checkArchitecture('arm64'), /runs functions on x86_64 only/);
});
