/**
 * The Logs API's paging tokens: what is sealed opens again for the same operation and group only,
 * and not once changed, cut, sealed under another key or older than 24 hours.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LogsError } from '../../src/api/logs-errors.js';
import { LogsTokens, TOKEN_LIFETIME_MS } from '../../src/api/logs-tokens.js';
import { ManualClock } from '../helpers/manual-clock.js';

const KEY = Buffer.alloc(32, 7);

function refused(open: () => unknown): void {
  assert.throws(
    open,
    (error: unknown) =>
      error instanceof LogsError &&
      error.code === 'InvalidParameterException' &&
      error.message === 'The specified nextToken is invalid.',
  );
}

test('a token opens for its operation and scope, and for nothing else', () => {
  const tokens = new LogsTokens(KEY, new ManualClock());
  const value = { t: 1_700_000_000_000, s: '2026/01/01/[$LATEST]abc', o: 42 };
  const token = tokens.seal('FilterLogEvents', '/aws/lambda/a', value);
  assert.deepEqual(tokens.open('FilterLogEvents', '/aws/lambda/a', token), value);
  refused(() => tokens.open('FilterLogEvents', '/aws/lambda/b', token));
  refused(() => tokens.open('GetLogEvents', '/aws/lambda/a', token));
  refused(() =>
    new LogsTokens(Buffer.alloc(32, 8), new ManualClock()).open(
      'FilterLogEvents',
      '/aws/lambda/a',
      token,
    ),
  );
});

test('changed, cut or made-up tokens are invalid', () => {
  const tokens = new LogsTokens(KEY, new ManualClock());
  const token = tokens.seal('GetLogEvents', 'g\ns', { d: 'f', o: 10 });
  const [payload = '', mac = ''] = token.split('.');
  const other = Buffer.from(
    JSON.stringify({ v: { d: 'f', o: 999_999 }, e: Date.now() + 1e9 }),
  ).toString('base64url');
  for (const bad of [
    `${other}.${mac}`,
    `${payload}.${mac.slice(1)}`,
    `${payload}x.${mac}`,
    token.slice(0, -1),
    payload,
    '',
    '.',
    'f/12345',
    'x'.repeat(10_000),
  ])
    refused(() => tokens.open('GetLogEvents', 'g\ns', bad));
});

test('tokens expire after 24 hours', () => {
  const clock = new ManualClock();
  const tokens = new LogsTokens(KEY, clock);
  const token = tokens.seal('DescribeLogGroups', '', 'group');
  clock.advance(TOKEN_LIFETIME_MS - 60_000);
  assert.equal(tokens.open('DescribeLogGroups', '', token), 'group');
  clock.advance(120_000);
  refused(() => tokens.open('DescribeLogGroups', '', token));
});
