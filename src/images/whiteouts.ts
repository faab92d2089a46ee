/**
 * The OCI image spec's whiteout names ("Image Layer Filesystem Changeset"): `.wh.<name>` deletes
 * `<name>` of the lower layers, `.wh..wh..opq` empties its folder of lower-layer content, and
 * the rest of the `.wh..wh.` family is metadata of old AUFS-built images that is skipped. The
 * prefix is reserved, so no real file of an image can carry it. Pure.
 */
import { invalidImage } from './invalid-image.js';

const WHITEOUT_PREFIX = '.wh.';
const META_PREFIX = '.wh..wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/** What a `.wh.`-prefixed base name asks for. */
export type Whiteout =
  | { readonly kind: 'opaque' }
  | { readonly kind: 'remove'; readonly name: string }
  | { readonly kind: 'metadata' };

/** The whiteout `baseName` stands for, or undefined for an ordinary name. */
export function whiteoutOf(baseName: string, what: string): Whiteout | undefined {
  if (!baseName.startsWith(WHITEOUT_PREFIX)) return undefined;
  if (baseName === OPAQUE_MARKER) return { kind: 'opaque' };
  if (baseName.startsWith(META_PREFIX)) return { kind: 'metadata' };
  const name = baseName.slice(WHITEOUT_PREFIX.length);
  // `.wh.`, `.wh..` and `.wh...` would name the folder holding them, or its parent.
  if (name === '' || name === '.' || name === '..') {
    throw invalidImage(`${what} is a whiteout of no file`);
  }
  return { kind: 'remove', name };
}

/**
 * How a path whose folder components carry the whiteout prefix is handled: `skip` for entries
 * inside AUFS metadata folders (`.wh..wh.plnk/…`), a refusal for any other reserved name, and
 * `apply` for ordinary paths.
 */
export function reservedFolderOf(folders: readonly string[], what: string): 'apply' | 'skip' {
  for (const folder of folders) {
    if (!folder.startsWith(WHITEOUT_PREFIX)) continue;
    if (folder.startsWith(META_PREFIX)) return 'skip';
    throw invalidImage(`${what} lies inside the whiteout ${JSON.stringify(folder)}`);
  }
  return 'apply';
}
