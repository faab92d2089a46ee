/**
 * Unpacks one layer of a container image (an OCI or Docker layer tar, plain or gzip) onto the
 * image's root folder, which already holds the lower layers, as the OCI image spec's "Image Layer
 * Filesystem Changeset" describes: entries apply in order, an entry replaces whatever was at its
 * path (a folder over a folder only changes its mode), `.wh.<name>` deletes `<name>` of the lower
 * layers and `.wh..wh..opq` empties its folder of them, keeping what this layer adds wherever the
 * marker sits in the tar.
 *
 * Every byte of an image is hostile, so nothing is ever created, changed or deleted outside the
 * root folder. An entry's name is checked by name first (`..` above the root is refused, and the
 * name's length and depth are bounded); then its folders are resolved inside the root, as Docker
 * and containerd do: a symlink on the way is followed with its target taken relative to the
 * image's root (`/usr/lib` is `<root>/usr/lib`, `..` stops at the root), step by step with
 * lstat and readlink, at most 255 of them (see RootfsWriter). So a layer may write
 * `lib/x86_64-linux-gnu/libfoo.so` over a merged-/usr base's `lib -> usr/lib`, and `evil -> /`
 * then `evil/etc/x` lands at `<root>/etc/x`. The entry's own last component is never followed
 * (an entry replaces a symlink at its path); symlinks are stored as they are. Hard links must
 * name an existing regular file (or symlink) of the image, resolved the same way; whiteouts and
 * opaque markers apply to the resolved folder. Every size is charged to the image's budget at
 * its header, before a byte of it is written. Ownership is not kept (files belong to the
 * server's user); modes are, without setuid and setgid.
 *
 * Device files and FIFOs are never created (only root could, and the jail mounts its own /dev);
 * such an entry still removes what the lower layers had at its path. Entry types tar-stream does
 * not name (GNU sparse `S`, volume headers…), contiguous files and PAX sparse files are refused.
 */
import type { Readable } from 'node:stream';
import { ImagePullError } from '../functions/image-store.js';
import { entryPath, MAX_PATH_BYTES } from './entry-path.js';
import { describeEntry, invalidImage, quote } from './invalid-image.js';
import { isGzipLayer, LayerReader, type LayerEntry } from './layer-reader.js';
import { FOLDER_BYTES, RootfsWriter, type Charge } from './rootfs-writer.js';
import { reservedFolderOf, whiteoutOf } from './whiteouts.js';

export { finishRootfs } from './finish-rootfs.js';

/**
 * Applies the layer read from `compressed` (of the manifest's `mediaType`) onto `rootDir`,
 * taking every unpacked byte from `budget.remainingBytes`. Throws ImagePullError: `InvalidImage`
 * for anything wrong with the layer, `InternalError` when this machine fails (a full disk); an
 * error of `compressed` itself is rethrown as it is. A failed layer leaves `rootDir` half
 * written (with owner rwx on the folders it worked in, so it can be deleted).
 */
export type UnpackLayer = (
  compressed: Readable,
  mediaType: string,
  rootDir: string,
  budget: { remainingBytes: number },
) => Promise<void>;

/** Most entries one layer may have. */
export const MAX_LAYER_ENTRIES = 1_000_000;

/** Errno codes that are this machine's failure rather than the image's. */
const PLATFORM_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE', 'ENOMEM', 'EROFS']);

export const unpackLayer: UnpackLayer = async (compressed, mediaType, rootDir, budget) => {
  let gzip: boolean;
  try {
    gzip = isGzipLayer(mediaType);
  } catch (error) {
    compressed.destroy();
    throw error;
  }
  let charged = 0;
  const charge: Charge = (bytes, what) => {
    if (bytes > budget.remainingBytes) {
      throw invalidImage(`${what} (${bytes} bytes): the image unpacks to more than 10 GB`);
    }
    budget.remainingBytes -= bytes;
    charged += bytes;
  };
  const reader = new LayerReader(compressed, gzip, () => charged);
  const writer = new RootfsWriter(rootDir, charge);
  let count = 0;
  let what = 'the layer';
  try {
    for await (const entry of reader.entries()) {
      count += 1;
      if (count > MAX_LAYER_ENTRIES) {
        throw invalidImage(`the layer has more than ${MAX_LAYER_ENTRIES} entries`);
      }
      what = describeEntry(entry.header.name);
      await applyEntry(entry, writer, charge, what);
    }
  } catch (error) {
    // The current entry's own refusal wins over a stream failure further on in the tar.
    if (error instanceof ImagePullError || error === reader.failure) throw error;
    throw asImageError(error, what);
  }
  await writer.finish();
};

async function applyEntry(
  entry: LayerEntry,
  writer: RootfsWriter,
  charge: Charge,
  what: string,
): Promise<void> {
  const { header } = entry;
  const parts = entryPath(header.name, what);
  const folder = parts.slice(0, -1);
  const name = parts.at(-1);
  const whiteout = name === undefined ? undefined : whiteoutOf(name, what);
  if (reservedFolderOf(folder, what) === 'skip' || whiteout !== undefined) {
    charge(dataBytes(entry), what);
    await drain(entry);
    if (whiteout?.kind === 'opaque') await writer.makeOpaque(folder, what);
    if (whiteout?.kind === 'remove') await writer.whiteout([...folder, whiteout.name], what);
    return;
  }
  switch (header.type) {
    case 'file':
      charge(fileBytes(entry, what), what);
      if (isSparse(entry)) throw invalidImage(`${what} is a sparse file, which is not supported`);
      await writer.writeFile(parts, what, header.mode, header.mtime, entry.data);
      return;
    case 'directory':
      charge(FOLDER_BYTES, what);
      await writer.makeFolder(parts, what, header.mode);
      return;
    case 'symlink': {
      charge(FOLDER_BYTES + dataBytes(entry), what);
      const target = symlinkTarget(entry, what);
      await drain(entry);
      await writer.makeSymlink(parts, what, target);
      return;
    }
    case 'link': {
      charge(FOLDER_BYTES + dataBytes(entry), what);
      const linkname = linknameOf(entry);
      const target = entryPath(linkname, `${what} (a hard link to ${quote(linkname)})`);
      await drain(entry);
      await writer.makeHardLink(parts, `${what} (a hard link to ${quote(linkname)})`, target);
      return;
    }
    case 'character-device':
    case 'block-device':
    case 'fifo':
      charge(dataBytes(entry), what);
      await drain(entry);
      await writer.clear(parts, what);
      return;
    default:
      throw invalidImage(
        `${what} has an entry type that is not supported (${String(header.type)})`,
      );
  }
}

/** Bytes of data that follow the entry's header in the tar. */
function dataBytes(entry: LayerEntry): number {
  return entry.header.type === 'directory' ? 0 : entry.header.size;
}

/** What a regular file counts for: its declared size, or a PAX sparse file's real size. */
function fileBytes(entry: LayerEntry, what: string): number {
  let bytes = entry.header.size;
  for (const key of ['GNU.sparse.realsize', 'GNU.sparse.size']) {
    const value = paxOf(entry)[key];
    if (value === undefined) continue;
    const size = Number(value);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw invalidImage(`${what} has an invalid ${key} (${quote(value)})`);
    }
    bytes = Math.max(bytes, size);
  }
  return bytes;
}

function isSparse(entry: LayerEntry): boolean {
  return Object.keys(paxOf(entry)).some((key) => key.startsWith('GNU.sparse.'));
}

/** The entry's PAX records (tar-stream types them as unknown). */
function paxOf(entry: LayerEntry): Record<string, string | undefined> {
  const pax: unknown = entry.header.pax;
  if (typeof pax !== 'object' || pax === null) return {};
  return pax as Record<string, string | undefined>;
}

function linknameOf(entry: LayerEntry): string {
  const linkname: unknown = entry.header.linkname;
  return typeof linkname === 'string' ? linkname : '';
}

function symlinkTarget(entry: LayerEntry, what: string): string {
  const target = linknameOf(entry);
  if (target === '') throw invalidImage(`${what} is a symbolic link to nothing`);
  if (target.includes('\0')) throw invalidImage(`${what} has a NUL byte in its link target`);
  if (Buffer.byteLength(target) > MAX_PATH_BYTES) {
    throw invalidImage(`${what} has a link target longer than ${MAX_PATH_BYTES} bytes`);
  }
  return target;
}

/** Reads and drops an entry's data (a folder's stream carries none and never ends). */
async function drain(entry: LayerEntry): Promise<void> {
  if (entry.header.type === 'directory' || entry.header.size === 0) return;
  for await (const chunk of entry.data) void chunk;
}

function asImageError(error: unknown, what: string): ImagePullError {
  if (error instanceof ImagePullError) return error;
  const code = error instanceof Error && 'code' in error ? String(error.code) : undefined;
  if (code === undefined) {
    const message = error instanceof Error ? error.message : String(error);
    return new ImagePullError('InternalError', `${what} could not be unpacked: ${message}`);
  }
  if (PLATFORM_ERRORS.has(code)) {
    return new ImagePullError('InternalError', `${what} could not be written (${code})`);
  }
  return invalidImage(`${what} cannot be unpacked (${code})`);
}
