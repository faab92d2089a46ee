/** The InvokeWithResponseStream messages decode, with the SDK's own codec, to what was encoded. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { invokeCompleteMessage, payloadChunkMessage } from '../../src/api/event-stream-wire.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function headersOf(message: Uint8Array): Record<string, unknown> {
  const decoded = codec.decode(message);
  return Object.fromEntries(Object.entries(decoded.headers).map(([k, v]) => [k, v.value]));
}

describe('event-stream wire', () => {
  test('PayloadChunk carries the bytes as they are, as an octet-stream event', () => {
    const bytes = Buffer.from([0, 1, 2, 255, 0x7b]);
    const message = payloadChunkMessage(bytes);
    assert.deepEqual(headersOf(message), {
      ':event-type': 'PayloadChunk',
      ':content-type': 'application/octet-stream',
      ':message-type': 'event',
    });
    assert.deepEqual(Buffer.from(codec.decode(message).body), bytes);
    // Prelude: total length, then headers length, both big-endian.
    assert.equal(Buffer.from(message).readUInt32BE(0), message.length);
  });

  test('InvokeComplete is JSON with only the fields that are set', () => {
    const ok = codec.decode(invokeCompleteMessage({ LogResult: 'U1RBUlQ=' }));
    assert.equal(JSON.stringify(JSON.parse(toUtf8(ok.body))), '{"LogResult":"U1RBUlQ="}');
    const failed = invokeCompleteMessage({ ErrorCode: 'Sandbox.Timedout', ErrorDetails: 'late' });
    assert.deepEqual(headersOf(failed), {
      ':event-type': 'InvokeComplete',
      ':content-type': 'application/json',
      ':message-type': 'event',
    });
    assert.deepEqual(JSON.parse(toUtf8(codec.decode(failed).body)), {
      ErrorCode: 'Sandbox.Timedout',
      ErrorDetails: 'late',
    });
    assert.equal(toUtf8(codec.decode(invokeCompleteMessage({})).body), '{}');
  });
});
