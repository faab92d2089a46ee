/**
 * Reads a request body as it arrives, within its route's limits and the server's budget of
 * bytes in flight, hashing it for SigV4 on the way. A body with a Content-Length is copied into
 * one buffer of that size (no list of chunks to join); a code upload keeps only its JSON and its
 * decoded ZipFile values; a body over the route's limit is read to its end (so the client gets its
 * 413) but not kept.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { bodyBudgetExceeded, type BodyClaim } from '../core/body-budget.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import { JsonBlobLifter, type LiftedBlob } from './json-blob-lifter.js';

/** How one body is to be read. */
export interface BodyPlan {
  /** The largest body the operation accepts, in bytes. */
  readonly limitBytes: number;
  /** Beyond this many bytes reading stops with `tooLarge` (a little over the limit is read). */
  readonly readLimitBytes: number;
  /** The Content-Length, or undefined for a chunked body (then counted against the budget as read). */
  readonly declaredBytes: number | undefined;
  /** Hash the body (its SigV4 signature is still to be checked). */
  readonly hash: boolean;
  /** Decode `ZipFile` members while reading (code uploads). */
  readonly liftZipFiles: boolean;
  readonly tooLarge: () => LambdaError;
}

/** A body as read. */
export interface ReceivedBody {
  /** The body; for code uploads its JSON without the lifted values; empty when over the limit. */
  readonly bytes: Buffer;
  /** How many bytes arrived. */
  readonly receivedBytes: number;
  /** Hex SHA-256 of all that arrived, when the plan asked for it. */
  readonly sha256Hex: string | undefined;
  readonly lifted: readonly LiftedBlob[];
}

const EMPTY = Buffer.alloc(0);

/** Methods whose bodies the HTTP edge reads (Fastify leaves those of GET and HEAD alone). */
export const BODY_METHODS: ReadonlySet<string> = new Set([
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

/** The Content-Length of a request: 0 without a body, undefined for a chunked one. */
export function declaredBodyBytes(headers: IncomingMessage['headers']): number | undefined {
  if (headers['transfer-encoding'] !== undefined) return undefined;
  const length = headers['content-length'];
  return length === undefined ? 0 : Number(length);
}

/**
 * Whether part of a request's body has not arrived yet: answering such a request early must close
 * the connection, or the rest would be read (and, by an attacker, sent) for nothing.
 */
export function bodyStillArriving(request: IncomingMessage): boolean {
  // `complete` is Node's; requests injected in tests (light-my-request) have none and are whole.
  return (
    (request.complete as boolean | undefined) === false && declaredBodyBytes(request.headers) !== 0
  );
}

/** Reads `stream` to its end as `plan` says; bytes beyond a Content-Length were claimed already. */
export function readBody(
  stream: Readable,
  plan: BodyPlan,
  claim: BodyClaim,
): Promise<ReceivedBody> {
  return new Promise((resolve, reject) => {
    const hash = plan.hash ? createHash('sha256') : undefined;
    let sink: BodySink | undefined =
      (plan.declaredBytes ?? 0) > plan.limitBytes
        ? undefined
        : plan.liftZipFiles
          ? new LiftingSink(plan.declaredBytes)
          : new BufferSink(plan.declaredBytes);
    let received = 0;
    const stop = (error: unknown) => {
      detach();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    // A connection that breaks mid-body is the client's doing (and it is gone): no server error.
    const broken = (error: unknown) =>
      stop(
        new LambdaError(
          'InvalidRequestContentException',
          `The request body was cut off (${error instanceof Error ? error.message : String(error)}).`,
        ),
      );
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      claim.received(chunk.length);
      if (received > plan.readLimitBytes) return stop(plan.tooLarge());
      if (plan.declaredBytes === undefined && !claim.take(chunk.length)) {
        return stop(bodyBudgetExceeded());
      }
      hash?.update(chunk);
      // Over the limit: read on so the answer is a 413, but keep nothing.
      if (received > plan.limitBytes) sink = undefined;
      else sink?.push(chunk);
    };
    const onEnd = () => {
      detach();
      if (plan.declaredBytes !== undefined && received !== plan.declaredBytes) {
        return reject(lambdaErrors.badJson('Request body size did not match Content-Length'));
      }
      const kept = sink?.end() ?? { bytes: EMPTY, lifted: [] };
      resolve({ ...kept, receivedBytes: received, sha256Hex: hash?.digest('hex') });
    };
    const detach = () => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', broken);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', broken);
    stream.resume();
  });
}

interface BodySink {
  push(chunk: Buffer): void;
  end(): { bytes: Buffer; lifted: readonly LiftedBlob[] };
}

/** Keeps a body: in one buffer of its Content-Length, or as chunks joined once at the end. */
class BufferSink implements BodySink {
  readonly #declared: number | undefined;
  #buffer: Buffer | undefined;
  #written = 0;
  readonly #chunks: Buffer[] = [];

  constructor(declared: number | undefined) {
    this.#declared = declared;
  }

  push(chunk: Buffer): void {
    if (this.#declared === undefined) {
      this.#chunks.push(chunk);
      this.#written += chunk.length;
      return;
    }
    this.#buffer ??= Buffer.allocUnsafe(this.#declared);
    this.#written += chunk.copy(this.#buffer, this.#written);
  }

  end(): { bytes: Buffer; lifted: readonly LiftedBlob[] } {
    const bytes =
      this.#declared === undefined
        ? Buffer.concat(this.#chunks, this.#written)
        : (this.#buffer ?? EMPTY).subarray(0, this.#written);
    return { bytes, lifted: [] };
  }
}

/** Keeps a code upload's JSON and decodes its ZipFile values as they arrive. */
class LiftingSink implements BodySink {
  readonly #lifter: JsonBlobLifter;

  constructor(declared: number | undefined) {
    this.#lifter = new JsonBlobLifter(declared);
  }

  push(chunk: Buffer): void {
    this.#lifter.push(chunk);
  }

  end(): { bytes: Buffer; lifted: readonly LiftedBlob[] } {
    const { json, blobs } = this.#lifter.end();
    return { bytes: json, lifted: blobs };
  }
}
