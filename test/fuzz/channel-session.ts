/**
 * Plays one runtime channel case against an environment's socket: the upgrade request (with its
 * first frames in the same write, sometimes), then the frames in pieces; an INVOKE that comes back
 * is read (its id is live) and, if the case says so, answered as a runtime would. The channel
 * answers nothing else, so the session ends shortly after the last write.
 */
import { FrameReader, FrameType, encodeFrame } from '../../src/runtime-api/channel-frames.js';
import { frameBytes, type ChannelCase } from './channel-cases.js';
import { openSocket } from './raw-http.js';

export interface ChannelOutcome {
  /** The upgrade's status, `closed` (no answer), `hang` (none within the deadline) or `gone`. */
  readonly status: number | 'closed' | 'hang' | 'gone';
  readonly invokeIds: readonly string[];
  /** The bytes written, for reports. */
  readonly wire: Buffer;
}

/** How long to wait for an INVOKE after a NEXT frame (the environment may have none to give). */
const INVOKE_WAIT_MS = 100;

export function playChannel(
  c: ChannelCase,
  socketPath: string,
  liveId: string | undefined,
  hangMs: number,
): Promise<ChannelOutcome> {
  const frames = c.frames.map((frame) => frameBytes(frame, liveId));
  const first = Buffer.concat([c.upgrade, ...frames.slice(0, c.framesWithUpgrade)]);
  const rest = Buffer.concat(frames.slice(c.framesWithUpgrade));
  const wire = Buffer.concat([first, rest]);
  const asksNext = c.frames.some((f) => f.type === FrameType.next);
  return new Promise((resolve) => {
    const socket = openSocket({ path: socketPath });
    const invokeIds: string[] = [];
    let received = Buffer.alloc(0);
    let status: ChannelOutcome['status'] | undefined;
    let connected = false;
    let settled = false;
    const finish = (final: ChannelOutcome['status']) => {
      if (settled) return;
      settled = true;
      clearTimeout(hangTimer);
      socket.destroy();
      resolve({ status: status ?? final, invokeIds, wire });
    };
    const hangTimer = setTimeout(() => finish('hang'), hangMs);
    const reader = new FrameReader(
      {
        frame: (frame) => {
          if (frame.type !== FrameType.invoke || typeof frame.meta['id'] !== 'string') return;
          const id = frame.meta['id'];
          invokeIds.push(id);
          if (!c.answerInvoke) return finish(101);
          socket.write(encodeFrame(FrameType.response, { id }, Buffer.from('{}')), () =>
            finish(101),
          );
        },
        oversized: () => undefined,
        malformed: () => undefined,
      },
      64 * 1024 * 1024,
    );
    socket.on('connect', () => {
      connected = true;
      socket.write(first);
    });
    socket.on('data', (chunk: Buffer) => {
      if (status !== undefined) return reader.push(chunk);
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return;
      status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(received.toString('latin1'))?.[1] ?? 0);
      if (status !== 101) return finish(status);
      reader.push(received.subarray(end + 4));
      for (const piece of split(rest, c.pieces)) socket.write(piece);
      if (asksNext) setTimeout(() => finish(101), INVOKE_WAIT_MS);
      else socket.end(() => finish(101));
    });
    socket.on('error', () => finish(connected ? 'closed' : 'gone'));
    socket.on('close', () => finish('closed'));
  });
}

function split(bytes: Buffer, pieces: number): Buffer[] {
  if (bytes.length === 0) return [];
  const size = Math.ceil(bytes.length / pieces);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}
