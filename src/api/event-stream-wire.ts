/**
 * The binary event-stream messages of InvokeWithResponseStream (`application/vnd.amazon.eventstream`),
 * encoded by the codec the AWS SDK decodes them with: every message carries the headers
 * `:message-type: event`, `:event-type` and `:content-type`. `PayloadChunk` holds raw response bytes;
 * the last message, `InvokeComplete`, holds `{ErrorCode?, ErrorDetails?, LogResult?}` as JSON.
 */
import { EventStreamCodec, type MessageHeaders } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';

export const EVENT_STREAM_CONTENT_TYPE = 'application/vnd.amazon.eventstream';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** The fields of the final event; absent ones are left out of the JSON. */
export interface InvokeComplete {
  readonly ErrorCode?: string | undefined;
  readonly ErrorDetails?: string | undefined;
  readonly LogResult?: string | undefined;
}

function eventHeaders(eventType: string, contentType: string): MessageHeaders {
  return {
    ':event-type': { type: 'string', value: eventType },
    ':content-type': { type: 'string', value: contentType },
    ':message-type': { type: 'string', value: 'event' },
  };
}

/** One `PayloadChunk` message holding `chunk` as is. */
export function payloadChunkMessage(chunk: Uint8Array): Uint8Array {
  return codec.encode({
    headers: eventHeaders('PayloadChunk', 'application/octet-stream'),
    body: chunk,
  });
}

/** The `InvokeComplete` message that ends the stream. */
export function invokeCompleteMessage(complete: InvokeComplete): Uint8Array {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(complete)) {
    if (typeof value === 'string') fields[name] = value;
  }
  return codec.encode({
    headers: eventHeaders('InvokeComplete', 'application/json'),
    body: fromUtf8(JSON.stringify(fields)),
  });
}
