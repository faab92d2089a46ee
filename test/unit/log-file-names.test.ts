import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import {
  logGroupFolder,
  logStreamFile,
  streamOfFile,
} from '../../src/observability/log-file-names.js';

test('every valid log group name is one segment inside the logs folder', () => {
  const root = '/data/logs';
  for (const group of ['..', '.', '/aws/lambda/f', '../..', '.../x', 'a/../../b', '#.-_']) {
    const folder = logGroupFolder(group);
    assert.ok(!folder.includes('/'), folder);
    assert.ok(folder !== '.' && folder !== '..', folder);
    assert.equal(resolve(join(root, folder)), join(root, folder));
  }
  assert.equal(logGroupFolder('..'), '%2E%2E');
  assert.equal(logGroupFolder('.'), '%2E');
  assert.equal(logGroupFolder('/aws/lambda/f'), '%2Faws%2Flambda%2Ff');
});

test('stream files round-trip and other files are ignored', () => {
  const stream = '2026/12/06/[$LATEST]0123456789abcdef0123456789abcdef';
  assert.equal(streamOfFile(logStreamFile(stream)), stream);
  assert.equal(streamOfFile(logStreamFile('..')), '..');
  assert.equal(streamOfFile('notes.txt'), undefined);
  assert.equal(streamOfFile('%E0%A4%A.log'), undefined);
});
