/**
 * Turns a tar entry's name into path components below the image's root, the way tar does
 * (a leading `/` is dropped, `.` and empty components vanish, `..` pops one), and refuses names
 * that cannot be a file of the image: a NUL, more than 4,096 bytes, a `..` above the root, a
 * component over 255 bytes or more than 256 components. Pure: it never touches the disk, so a
 * `..` is resolved by name only; the symlinks on the way are resolved afterwards, inside the
 * root, by RootfsWriter (these limits apply to the name, not to the resolved path).
 */
import { invalidImage } from './invalid-image.js';

/** Longest entry or link name accepted, in bytes (Linux's PATH_MAX). */
export const MAX_PATH_BYTES = 4096;
/** Deepest entry accepted, in components. */
export const MAX_PATH_DEPTH = 256;
/** Longest single component accepted, in bytes (Linux's NAME_MAX). */
export const MAX_COMPONENT_BYTES = 255;

/**
 * The components of `name` below the root (empty for the root itself); `what` starts each
 * refusal's message, e.g. `entry "a/../../x"`. Throws an InvalidImage ImagePullError.
 */
export function entryPath(name: string, what: string): string[] {
  if (name.includes('\0')) throw invalidImage(`${what} has a NUL byte in its name`);
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) {
    throw invalidImage(`${what} has a name longer than ${MAX_PATH_BYTES} bytes`);
  }
  const parts: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.pop() === undefined) throw invalidImage(`${what} escapes the image's root`);
      continue;
    }
    if (Buffer.byteLength(part) > MAX_COMPONENT_BYTES) {
      throw invalidImage(`${what} has a name component longer than ${MAX_COMPONENT_BYTES} bytes`);
    }
    parts.push(part);
  }
  if (parts.length > MAX_PATH_DEPTH) {
    throw invalidImage(`${what} is deeper than ${MAX_PATH_DEPTH} folders`);
  }
  return parts;
}
