/**
 * How the layer unpacker refuses an image: an `InvalidImage` ImagePullError whose message names
 * the offending entry, quoted and cut short so a hostile 4 MB name cannot flood the state reason.
 */
import { ImagePullError } from '../functions/image-store.js';

const MAX_QUOTED_CHARS = 200;

/** An `InvalidImage` refusal with `message` as the function's state reason. */
export function invalidImage(message: string): ImagePullError {
  return new ImagePullError('InvalidImage', message);
}

/** `entry "<name>"`, JSON-quoted (so NULs and newlines show) and cut at 200 characters. */
export function describeEntry(name: string): string {
  return `entry ${quote(name)}`;
}

/** A name JSON-quoted and cut at 200 characters. */
export function quote(name: string): string {
  const cut = name.length > MAX_QUOTED_CHARS ? `${name.slice(0, MAX_QUOTED_CHARS)}…` : name;
  return JSON.stringify(cut);
}
