/**
 * Runtime channel cases: an upgrade request (mostly the right one, sometimes wrong in its method,
 * path or protocol, sometimes with frames in the same write), then frames with random or wrong
 * types, meta documents that are valid, mutated, not JSON or over 64 KB, bodies, and length
 * fields that lie (shorter, longer, absurdly large), written in pieces. See channel-frames.ts for
 * the framing: `u32 length | u8 type | u32 meta length | meta JSON | body`.
 */
import fc from 'fast-check';
import { CHANNEL_PATH, CHANNEL_PROTOCOL, FrameType } from '../../src/runtime-api/channel-frames.js';
import type { IdChoice } from './runtime-api-cases.js';
import { hostileValue, jsonText, mutatedBytes } from './mutations.js';

/** One frame to write; `meta` with `liveId` gets the environment's current request id as `id`. */
export interface FrameSpec {
  readonly type: number;
  readonly meta:
    { readonly json: Record<string, unknown>; readonly id: IdChoice } | { readonly bytes: Buffer };
  readonly body: Buffer;
  /** Added to the length field (0: the true length). */
  readonly lengthDelta: number;
  /** Added to the meta-length field. */
  readonly metaLengthDelta: number;
}

export interface ChannelCase {
  readonly kind: 'channel';
  readonly operation: string;
  readonly upgrade: Buffer;
  readonly frames: readonly FrameSpec[];
  /** Frames sent in the upgrade request's own write. */
  readonly framesWithUpgrade: number;
  /** How many pieces the frames are written in. */
  readonly pieces: number;
  /** Answer an INVOKE the channel receives (as a runtime would) before closing. */
  readonly answerInvoke: boolean;
}

const upgradeRequest = fc.oneof(
  {
    weight: 10,
    arbitrary: fc.constant(
      `GET ${CHANNEL_PATH} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: ${CHANNEL_PROTOCOL}\r\n\r\n`,
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('GET', 'POST', 'PUT'),
        fc.constantFrom(
          CHANNEL_PATH,
          `${CHANNEL_PATH}/`,
          '/2018-06-01/runtime/invocation/next',
          '/x',
        ),
        fc.constantFrom(CHANNEL_PROTOCOL, 'websocket', 'h2c', '', CHANNEL_PROTOCOL.toUpperCase()),
      )
      .map(
        ([method, path, protocol]) =>
          `${method} ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\n\r\n`,
      ),
  },
);

function frameSpec(idChoice: fc.Arbitrary<IdChoice>): fc.Arbitrary<FrameSpec> {
  const meta = fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .record({
          id: idChoice,
          extra: fc.record(
            {
              contentType: fc.constantFrom('application/json', 'text/plain'),
              errorType: fc.constantFrom('Runtime.Fuzz', ''),
            },
            { requiredKeys: [] },
          ),
        })
        .map(({ id, extra }) => ({ json: { ...extra }, id })),
    },
    {
      weight: 2,
      arbitrary: hostileValue
        .chain((value) => mutatedBytes(Buffer.from(jsonText({ id: value, contentType: value }))))
        .map((bytes) => ({ bytes })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => ({ bytes: Buffer.from(b) })),
    },
    { weight: 1, arbitrary: fc.constant({ bytes: Buffer.alloc(0) }) },
    { weight: 1, arbitrary: fc.constant({ bytes: Buffer.from(`{"id":"${'x'.repeat(70_000)}"}`) }) },
  );
  return fc.record({
    type: fc.oneof(
      {
        weight: 10,
        arbitrary: fc.constantFrom(FrameType.next, FrameType.response, FrameType.error),
      },
      { weight: 1, arbitrary: fc.constant(FrameType.invoke) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    ),
    meta,
    body: fc.oneof(
      { weight: 6, arbitrary: fc.constant(Buffer.from('{"fuzz":true}')) },
      { weight: 3, arbitrary: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)) },
      { weight: 2, arbitrary: fc.constant(Buffer.alloc(0)) },
    ),
    lengthDelta: fc.oneof(
      { weight: 14, arbitrary: fc.constant(0) },
      { weight: 2, arbitrary: fc.integer({ min: -16, max: 16 }) },
      { weight: 1, arbitrary: fc.constantFrom(7 * 1024 * 1024, 0xffff_ff00, -1_000_000) },
    ),
    metaLengthDelta: fc.oneof(
      { weight: 14, arbitrary: fc.constant(0) },
      { weight: 1, arbitrary: fc.integer({ min: -8, max: 8 }) },
      { weight: 1, arbitrary: fc.constantFrom(0xffff_ffff, 65 * 1024) },
    ),
  });
}

export function channelCase(idChoice: fc.Arbitrary<IdChoice>): fc.Arbitrary<ChannelCase> {
  return fc
    .record({
      upgrade: upgradeRequest,
      frames: fc.array(frameSpec(idChoice), { minLength: 0, maxLength: 6 }),
      framesWithUpgrade: fc.integer({ min: 0, max: 2 }),
      pieces: fc.integer({ min: 1, max: 4 }),
      answerInvoke: fc.boolean(),
    })
    .map((c) => ({
      kind: 'channel' as const,
      operation: 'runtime channel',
      ...c,
      upgrade: Buffer.from(c.upgrade, 'latin1'),
    }));
}

/** A frame's bytes, with its length fields as the spec says (true or lying). */
export function frameBytes(frame: FrameSpec, liveId: string | undefined): Buffer {
  let meta: Buffer;
  if ('json' in frame.meta) {
    const id = frame.meta.id.live ? (liveId ?? '') : frame.meta.id.literal;
    meta = Buffer.from(JSON.stringify({ id, ...frame.meta.json }));
  } else meta = frame.meta.bytes;
  const head = Buffer.alloc(9);
  head.writeUInt32BE(clampU32(5 + meta.length + frame.body.length + frame.lengthDelta), 0);
  head.writeUInt8(frame.type & 0xff, 4);
  head.writeUInt32BE(clampU32(meta.length + frame.metaLengthDelta), 5);
  return Buffer.concat([head, meta, frame.body]);
}

function clampU32(n: number): number {
  return Math.min(0xffff_ffff, Math.max(0, n));
}
