import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cutPoint, LineSplitter } from '../../src/sandbox/line-splitter.js';

function split(chunks: readonly (string | Buffer)[], maxBytes?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), maxBytes);
  for (const chunk of chunks) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  test('splits on \\n only, across chunks, keeping \\r inside records and blank lines', () => {
    assert.deepEqual(split(['a\rb\nc', 'd\n\n', 'e']), ['a\rb', 'cd', '', 'e']);
  });

  test('a line of exactly the limit is one line; one byte more is cut into two', () => {
    assert.deepEqual(split(['abcd\n'], 4), ['abcd']);
    assert.deepEqual(split(['abcde\n'], 4), ['abcd', 'e']);
    assert.deepEqual(split(['ab', 'cd', 'ef', 'gh', 'i'], 4), ['abcd', 'efgh', 'i']);
  });

  test('output without newlines comes out in lines of the limit, never more', () => {
    const lines = split([Buffer.alloc(10 * 1024 + 7, 'x')], 1024);
    assert.equal(lines.length, 11);
    assert.ok(lines.every((line) => line.length <= 1024));
    assert.equal(lines.join('').length, 10 * 1024 + 7);
  });

  test('a cut never splits a UTF-8 character', () => {
    // 'é' is two bytes: a limit of 3 fits "aé" (3 bytes) but not "aéé".
    assert.deepEqual(split(['aéé\n'], 3), ['aé', 'é']);
    // '😀' is four bytes; a limit of 5 after "a" leaves room for one.
    assert.deepEqual(split(['a😀😀😀'], 5), ['a😀', '😀', '😀']);
  });

  test('time is linear in the output: 64 MiB in small chunks without a newline', () => {
    const chunk = Buffer.alloc(64 * 1024, 'y');
    let lines = 0;
    let bytes = 0;
    const splitter = new LineSplitter((line) => {
      lines += 1;
      bytes += line.length;
    });
    for (let i = 0; i < 1024; i += 1) splitter.push(chunk);
    splitter.end();
    assert.equal(bytes, 64 * 1024 * 1024);
    assert.equal(lines, 256);
  });
});

describe('cutPoint', () => {
  test('moves back over continuation bytes only', () => {
    const text = Buffer.from('ab€'); // € = e2 82 ac
    assert.equal(cutPoint(text, 2), 2);
    assert.equal(cutPoint(text, 3), 2);
    assert.equal(cutPoint(text, 4), 2);
    assert.equal(cutPoint(text, 5), 5);
    assert.equal(cutPoint(text, 9), 5);
  });
});
