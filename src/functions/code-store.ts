/** Port: content-addressed storage of deployment packages (zips) and their extracted trees. */
import type { Readable } from 'node:stream';
import type { CodeRef } from '../core/function-model.js';

/** What inspecting a zip found: its identity and its real expanded size. */
export interface InspectedCode extends CodeRef {
  readonly unzippedBytes: number;
}

export interface CodeStore {
  /**
   * Reads a whole zip, inflating every entry, and throws an AWS-shaped error if it is not a zip,
   * holds unsafe paths or links, or expands past the limit. Writes nothing.
   */
  inspect(zip: Buffer): Promise<InspectedCode>;
  /** Stores the zip durably (fsync) under its hash; idempotent. */
  put(zip: Buffer, code: CodeRef): Promise<void>;
  /** Extracts the stored zip once per hash and returns the read-only directory holding it. */
  prepare(code: CodeRef): Promise<string>;
  /**
   * The read-only directory of several prepared zips laid over each other in order (later wins):
   * a function's layers, shown at /opt. Built once per ordered list and reused.
   */
  prepareMerged(codes: readonly CodeRef[]): Promise<string>;
  /** Whether a stored zip exists. */
  has(sha256Hex: string): Promise<boolean>;
  /** A stream of the stored zip. */
  open(sha256Hex: string): Readable;
  /** Removes a zip and its extracted tree. */
  remove(sha256Hex: string): Promise<void>;
}
