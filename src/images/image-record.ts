/**
 * `image.json`, the record beside an unpacked root file system: the manifest digest, how the image
 * starts, its sizes and the layer blobs it was made of (which keep those blobs from collection).
 */
import { open, readFile } from 'node:fs/promises';
import type { ImageRunConfig } from '../functions/image-store.js';

export interface ImageRecord {
  readonly digest: string;
  readonly config: ImageRunConfig;
  readonly sizeBytes: number;
  readonly unpackedBytes: number;
  readonly layers: readonly {
    readonly digest: string;
    readonly mediaType: string;
    readonly size: number;
  }[];
}

/** Writes the record and flushes it to disk, so a renamed image folder never has a torn one. */
export async function writeImageRecord(file: string, record: ImageRecord): Promise<void> {
  const handle = await open(file, 'wx', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The record in `file`, or undefined when there is none or it is not one. */
export async function readImageRecord(file: string): Promise<ImageRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const json = JSON.parse(text) as unknown;
    return isImageRecord(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

function isImageRecord(value: unknown): value is ImageRecord {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.digest === 'string' &&
    typeof record.sizeBytes === 'number' &&
    typeof record.unpackedBytes === 'number' &&
    typeof record.config === 'object' &&
    record.config !== null &&
    Array.isArray(record.layers) &&
    record.layers.every(
      (layer: unknown) =>
        typeof layer === 'object' &&
        layer !== null &&
        typeof (layer as Record<string, unknown>).digest === 'string',
    )
  );
}
