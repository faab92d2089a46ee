/** An invocation event as the Runtime API tests hand it to a RuntimeApiServer. */
import type { InvocationEvent } from '../../src/core/runtime-protocol.js';

/** A fixed deadline, ARN and trace id, and a client context with non-ASCII characters. */
export function invocationEvent(requestId: string, payload = '{"k":1}'): InvocationEvent {
  return {
    requestId,
    payload: Buffer.from(payload),
    deadlineMs: 1_800_000_000_000,
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:f',
    traceId: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
    clientContext: '{"custom":{"name":"日本"}}',
  };
}
