/**
 * The runtime error catalogue covers every error type the code reports: each quoted
 * `Runtime.*`, `Sandbox.*`, `Extension.*`, `Function.*`, `Telemetry.*`, `Logs.*` name in src/ and
 * every `errorType:` literal is a row of it (or of the control API's catalogue), and the
 * Runtime and Extensions APIs answer refusals with the row's status.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ERROR_CATALOGUE } from '../../src/core/errors.js';
import {
  RUNTIME_ERROR_CATALOGUE,
  refusalStatus,
  runtimeErrorSpec,
} from '../../src/core/runtime-errors.js';
import { REPO_ROOT } from '../helpers/server-process.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Error type names written in the source, with where. */
function namesInSource(): Map<string, string> {
  const found = new Map<string, string>();
  const everywhere = [
    /'((?:Runtime|Sandbox|Extension|Function|Telemetry|Logs)\.[A-Z][A-Za-z]+)'/g,
    /errorType: '([A-Za-z.]+)'/g,
  ];
  // The Runtime API's refusals name their type in these two forms.
  const runtimeApi = [/refused: '([A-Za-z.]+)'/g, /#fail\(\s*res,\s*'([A-Za-z.]+)'/g];
  for (const file of sources(join(REPO_ROOT, 'src'))) {
    if (file.endsWith('runtime-errors.ts')) continue;
    const text = readFileSync(file, 'utf8');
    const patterns = file.includes('/runtime-api/') ? [...everywhere, ...runtimeApi] : everywhere;
    for (const pattern of patterns) {
      for (const match of text.matchAll(pattern)) found.set(match[1] as string, file);
    }
  }
  return found;
}

describe('runtime error catalogue', () => {
  test('every error type the source reports is catalogued', () => {
    const names = namesInSource();
    assert.ok(names.size > 25, `only ${names.size} names found: the scan is broken`);
    const missing = [...names].filter(
      ([name]) => runtimeErrorSpec(name) === undefined && !Object.hasOwn(ERROR_CATALOGUE, name),
    );
    assert.deepEqual(missing, []);
  });

  test('refusals carry an error status, invocation errors travel in a 200 Invoke response', () => {
    for (const [name, spec] of Object.entries(RUNTIME_ERROR_CATALOGUE)) {
      if (spec.surface === 'invocation') assert.equal(spec.status, 200, name);
      else {
        assert.ok(spec.status >= 400 && spec.status < 500, name);
        assert.equal(spec.retryable, false, name);
      }
    }
    assert.equal(refusalStatus('InvalidRequestID'), 400);
    assert.equal(refusalStatus('InvalidStateTransition'), 403);
    assert.equal(refusalStatus('RequestEntityTooLarge'), 413);
    assert.equal(runtimeErrorSpec('MyOwnError'), undefined);
    assert.equal(runtimeErrorSpec('toString'), undefined);
  });
});
