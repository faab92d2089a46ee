/** The runtime fuzzer tells a mutated upgrade that became a plain long poll from a hang. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPlainLongPoll } from '../fuzz/runtime-api-fuzzer.js';

const request = (line: string, upgrade: string | undefined) =>
  Buffer.from(
    `${line}\r\nHost: localhost\r\nConnection: Upgrade\r\n` +
      (upgrade === undefined ? '' : `Upgrade: ${upgrade}\r\n`) +
      '\r\n\x00\x00\x00\x07',
    'latin1',
  );

test('a GET of a long-poll path without an Upgrade value is a long poll', () => {
  for (const path of [
    '/2018-06-01/runtime/invocation/next',
    '/2020-01-01/extension/event/next',
    '/lamina/2026-11-01/assignment',
  ]) {
    assert.ok(isPlainLongPoll(request(`GET ${path} HTTP/1.1`, '')), path);
    assert.ok(isPlainLongPoll(request(`GET ${path} HTTP/1.1`, undefined)), path);
  }
});

test('a real upgrade, another path or another method is not', () => {
  const next = '/2018-06-01/runtime/invocation/next';
  assert.ok(!isPlainLongPoll(request(`GET ${next} HTTP/1.1`, 'lamina-runtime-channel')));
  assert.ok(!isPlainLongPoll(request('GET /lamina/2026-11-01/runtime-channel HTTP/1.1', '')));
  assert.ok(!isPlainLongPoll(request(`POST ${next} HTTP/1.1`, '')));
});
