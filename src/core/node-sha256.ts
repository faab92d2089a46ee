/**
 * SHA-256 and HMAC-SHA-256 in the shape @smithy/signature-v4 takes (`new Sha256(secret?)`,
 * `update`, async `digest`), on node:crypto, built once per use: the verifier hashes several
 * times per request, and the generic @smithy/core Hash re-creates its native hash after each
 * digest for reuse that signing never needs.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

type Key = string | ArrayBuffer | ArrayBufferView;

export class NodeSha256 {
  readonly #hash: Hash | Hmac;

  constructor(secret?: Key) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toKey(secret));
  }

  update(data: Key): void {
    this.#hash.update(typeof data === 'string' ? data : toKey(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }
}

function toKey(value: Key): string | Buffer {
  if (typeof value === 'string') return value;
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}
