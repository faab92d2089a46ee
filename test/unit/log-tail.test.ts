import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOG_TAIL_BYTES, LogTail } from '../../src/environment/log-tail.js';

test('keeps every line while the log is short', () => {
  const tail = new LogTail();
  for (const line of ['START', 'hello', 'END']) tail.push(line);
  assert.equal(tail.text(), 'START\nhello\nEND');
});

test('keeps what the last 4 KB need and no more, however much is logged', () => {
  const tail = new LogTail();
  const all: string[] = [];
  for (let i = 0; i < 100_000; i += 1) {
    const line = `line ${i} ${'é'.repeat(i % 97)}`;
    all.push(line);
    tail.push(line);
  }
  const whole = Buffer.from(all.join('\n'));
  const kept = Buffer.from(tail.text());
  assert.ok(kept.length >= LOG_TAIL_BYTES);
  assert.ok(tail.text().length < 2 * LOG_TAIL_BYTES);
  assert.deepEqual(kept.subarray(-LOG_TAIL_BYTES), whole.subarray(-LOG_TAIL_BYTES));
});

test('one line longer than the tail is kept whole (the handler cuts it)', () => {
  const tail = new LogTail();
  tail.push('a');
  tail.push('x'.repeat(10_000));
  assert.equal(tail.text(), 'x'.repeat(10_000));
});
