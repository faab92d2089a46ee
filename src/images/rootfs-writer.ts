/**
 * Applies one layer's entries to an image's root folder, which holds the lower layers, so that
 * nothing outside the root is ever created, changed or deleted.
 *
 * The folders above an entry are resolved inside the root, as Docker and containerd do (Go's
 * securejoin, containerd's fs.RootPath): component by component, each checked with lstat; a
 * missing folder is created (or, for a whiteout, ends the walk); a symlink is read with readlink
 * and its target followed as if the root were `/` (an absolute target starts again at the root,
 * `..` goes to the parent of the folder reached so far and never above the root), at most 255
 * symlinks and 8,192 components per entry (a loop is refused as too many levels of symbolic
 * links); anything else (a file) refuses the entry. The walk builds the host path itself from
 * folders it has just checked, so the OS never follows a symlink of the image: every call gets a
 * path whose every folder below the root is a real folder. The entry's own last component is
 * never followed: it is created with calls that do not follow it (O_CREAT|O_EXCL|O_NOFOLLOW,
 * mkdir, symlink, link) after whatever was there (a symlink included) is removed.
 *
 * Step-by-step resolution is race-free here because the root folder is private to the unpacker
 * while it works: the image store unpacks into a fresh `.partial-` folder that nothing else writes
 * or runs in, and entries are applied one at a time, so the only adversary is the layer's content
 * and a check stays true until the write that follows it.
 *
 * A hard link's target is resolved the same way (its folders inside the root, its last component
 * as is, like containerd's hardlinkRootPath) and must be a regular file or a symlink: a hard link
 * to a symlink makes a second name for the symlink itself (link(2) does not follow it), never
 * for what the symlink points to; a folder or a missing target is refused.
 *
 * It remembers what this layer created (by resolved path) so whiteouts and opaque markers, which
 * the OCI image spec applies to lower layers only, delete lower-layer content and keep this
 * layer's, whatever the order of the entries in the tar.
 */
import { constants, type Stats } from 'node:fs';
import {
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readlink,
  rmdir,
  symlink,
  unlink,
} from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DirectoryModes, KEPT_MODE_BITS } from './directory-modes.js';
import { invalidImage, quote } from './invalid-image.js';
import { ignoreMissing, removeTree } from './tree-remover.js';

/** Budget bytes a folder (or a link) counts for. */
export const FOLDER_BYTES = 512;
/** Symlinks one entry's path may go through, at most (as Go's securejoin). */
export const MAX_SYMLINKS = 255;
/**
 * Components (the entry's folders plus every component of the link targets followed, `.` and
 * empty ones included) one entry's path walk may take, at most: bounds the work of a hostile
 * chain of long link targets.
 */
export const MAX_WALK_COMPONENTS = 8192;
/** Mode of a folder the layer implies but does not list. */
const IMPLIED_FOLDER_MODE = 0o755;
/** Characters of entry names remembered per layer (what whiteouts must keep), at most. */
const MAX_REMEMBERED_NAME_CHARS = 128 * 1024 * 1024;
/** Folders the path check remembers at most before it starts afresh (a cache only). */
const MAX_KNOWN_FOLDERS = 100_000;
const NEW_FILE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** Takes `bytes` from the image's budget for the entry `what`, or throws. */
export type Charge = (bytes: number, what: string) => void;

/** A place in the root, resolved: its host path and its path below the root (`''` is the root). */
interface Place {
  readonly path: string;
  readonly relative: string;
}

export class RootfsWriter {
  readonly #rootDir: string;
  readonly #charge: Charge;
  readonly #modes: DirectoryModes;
  /** Resolved paths (components joined by `/`) this layer created. */
  readonly #created = new Set<string>();
  #createdChars = 0;
  /** Resolved paths known to be real folders the owner can work in, until something is removed. */
  readonly #folders = new Set<string>();

  constructor(rootDir: string, charge: Charge) {
    this.#rootDir = rootDir;
    this.#charge = charge;
    this.#modes = new DirectoryModes(rootDir);
  }

  /** Writes a regular file from `data`, with `mode` (setuid/setgid dropped) and `mtime`. */
  async writeFile(
    parts: readonly string[],
    what: string,
    mode: number,
    mtime: Date,
    data: AsyncIterable<Uint8Array>,
  ): Promise<void> {
    const place = await this.#replace(parts, what);
    this.#remember(place, what);
    const file = await open(place.path, NEW_FILE_FLAGS, 0o600);
    try {
      for await (const chunk of data) await writeAll(file, chunk);
      await file.chmod(mode & KEPT_MODE_BITS);
      if (Number.isFinite(mtime.getTime())) await file.utimes(mtime, mtime);
    } finally {
      await file.close();
    }
  }

  /** Creates a folder, or gives an existing one `mode`; the root's own mode is never changed. */
  async makeFolder(parts: readonly string[], what: string, mode: number): Promise<void> {
    if (parts.length === 0) return;
    const place = await this.#createdPlace(parts, what);
    const existing = await lstat(place.path).catch(ignoreMissing);
    if (existing?.isDirectory() !== true) {
      if (existing !== undefined) await this.#remove(place.path, existing);
      await mkdir(place.path, 0o700);
    }
    await this.#modes.set(place.path, mode);
    this.#knownFolder(place.relative);
    this.#remember(place, what);
  }

  /** Creates a symlink to `target`, stored as is (resolved inside the root when followed). */
  async makeSymlink(parts: readonly string[], what: string, target: string): Promise<void> {
    const place = await this.#replace(parts, what);
    this.#remember(place, what);
    await symlink(target, place.path);
  }

  /**
   * Creates a hard link to `target`, a regular file (or a symlink, which gets a second name) of
   * this or a lower layer; `target`'s folders are resolved inside the root, its last component
   * is taken as is.
   */
  async makeHardLink(
    parts: readonly string[],
    what: string,
    target: readonly string[],
  ): Promise<void> {
    if (target.length === 0) throw invalidImage(`${what} links to the image's root`);
    if (parts.length === 0) throw invalidImage(`${what} replaces the image's root`);
    const source = await this.#place(target, what, false);
    if (source === undefined) throw invalidImage(`${what} links to a file that does not exist`);
    const place = await this.#createdPlace(parts, what);
    const same = place.path === source.path;
    if (!same) {
      const existing = await lstat(place.path).catch(ignoreMissing);
      if (existing !== undefined) await this.#remove(place.path, existing);
    }
    // Checked after the removal, which may have taken the target with it. The target's folders
    // are real folders (just resolved), so neither lstat nor link(2) follows a symlink there,
    // and link(2) does not follow the target itself.
    const stats = await lstat(source.path).catch(ignoreMissing);
    if (stats === undefined) throw invalidImage(`${what} links to a file that does not exist`);
    if (!stats.isFile() && !stats.isSymbolicLink()) {
      throw invalidImage(`${what} links to something that is not a file`);
    }
    this.#remember(place, what);
    if (!same) await link(source.path, place.path);
  }

  /** Removes what is at `parts` and creates nothing (a device file or a FIFO of the layer). */
  async clear(parts: readonly string[], what: string): Promise<void> {
    if (parts.length === 0) throw invalidImage(`${what} replaces the image's root`);
    const place = await this.#place(parts, what, false);
    if (place === undefined) return;
    const existing = await lstat(place.path).catch(ignoreMissing);
    if (existing !== undefined) await this.#remove(place.path, existing);
  }

  /** Applies `.wh.<name>`: deletes `parts` (its folders resolved) as the lower layers have it. */
  async whiteout(parts: readonly string[], what: string): Promise<void> {
    const place = await this.#place(parts, what, false);
    if (place === undefined) return;
    await this.#removeLower(place.path, place.relative);
  }

  /** Applies `.wh..wh..opq` found in `folder` (resolved): empties it of lower-layer content. */
  async makeOpaque(folder: readonly string[], what: string): Promise<void> {
    const resolved = await this.#folder(folder, what, false);
    if (resolved === undefined) return;
    for (const name of await readdir(resolved.path)) {
      await this.#removeLower(join(resolved.path, name), child(resolved.relative, name));
    }
  }

  /** Gives every folder the layer worked in its image mode back; call once the layer is whole. */
  async finish(): Promise<void> {
    await this.#modes.restore();
  }

  /** Where an entry named `parts` goes, its folders resolved (and created when missing). */
  async #createdPlace(parts: readonly string[], what: string): Promise<Place> {
    const place = await this.#place(parts, what, true);
    if (place === undefined) throw new Error('a created parent folder is missing');
    return place;
  }

  /**
   * Where `parts` is: its folders resolved inside the root (missing ones created when `create`,
   * else undefined is returned), its last component as is.
   */
  async #place(
    parts: readonly string[],
    what: string,
    create: boolean,
  ): Promise<Place | undefined> {
    const folder = await this.#folder(parts.slice(0, -1), what, create);
    if (folder === undefined) return undefined;
    const name = last(parts);
    return { path: join(folder.path, name), relative: child(folder.relative, name) };
  }

  /**
   * Resolves the folder `parts` inside the root, following symlinks as if the root were `/`,
   * and makes sure it is a real folder reached through real folders only: missing folders are
   * created when `create` (else undefined is returned), and the owner gets rwx on each one.
   */
  async #folder(
    parts: readonly string[],
    what: string,
    create: boolean,
  ): Promise<Place | undefined> {
    /** Components still to walk, the next one last. */
    const pending = [...parts].reverse();
    /** The folders walked so far, for `..`: each entry is the parent of the next. */
    const above: Place[] = [];
    let current: Place = { path: this.#rootDir, relative: '' };
    let links = 0;
    let steps = 0;
    for (let part = pending.pop(); part !== undefined; part = pending.pop()) {
      steps += 1;
      if (steps > MAX_WALK_COMPONENTS) {
        throw invalidImage(
          `${what} goes through symbolic links whose targets add up to more than ` +
            `${MAX_WALK_COMPONENTS} path components`,
        );
      }
      if (part === '' || part === '.') continue;
      if (part === '..') {
        current = above.pop() ?? current;
        continue;
      }
      const next: Place = {
        path: join(current.path, part),
        relative: child(current.relative, part),
      };
      if (!this.#folders.has(next.relative)) {
        const stats = await lstat(next.path).catch(ignoreMissing);
        if (stats === undefined) {
          if (!create) return undefined;
          this.#charge(FOLDER_BYTES, what);
          await mkdir(next.path, 0o700);
          await this.#modes.set(next.path, IMPLIED_FOLDER_MODE);
        } else if (stats.isSymbolicLink()) {
          links += 1;
          if (links > MAX_SYMLINKS) {
            throw invalidImage(
              `${what} goes through too many levels of symbolic links (more than ${MAX_SYMLINKS})`,
            );
          }
          const target = await readlink(next.path);
          if (target.startsWith('/')) {
            current = { path: this.#rootDir, relative: '' };
            above.length = 0;
          }
          const components = target.split('/');
          for (let i = components.length - 1; i >= 0; i -= 1) pending.push(components[i] ?? '');
          continue;
        } else if (!stats.isDirectory()) {
          throw invalidImage(`${what} goes through ${quote(next.relative)}, which is not a folder`);
        } else {
          await this.#modes.grant(next.path, stats.mode);
        }
        this.#knownFolder(next.relative);
      }
      above.push(current);
      current = next;
    }
    return current;
  }

  /** Prepares the place of a new non-folder entry: parents made, whatever was there removed. */
  async #replace(parts: readonly string[], what: string): Promise<Place> {
    if (parts.length === 0) throw invalidImage(`${what} replaces the image's root`);
    const place = await this.#createdPlace(parts, what);
    const existing = await lstat(place.path).catch(ignoreMissing);
    if (existing !== undefined) await this.#remove(place.path, existing);
    return place;
  }

  async #remove(path: string, stats: Stats): Promise<void> {
    if (!stats.isDirectory()) {
      await unlink(path);
      return;
    }
    await removeTree(path, (dir) => this.#modes.forget(dir));
    this.#folders.clear();
  }

  /** Deletes lower-layer content at `path`; true if something this layer made is kept there. */
  async #removeLower(path: string, relative: string): Promise<boolean> {
    const stats = await lstat(path).catch(ignoreMissing);
    if (stats === undefined) return false;
    const keep = this.#created.has(relative);
    if (!stats.isDirectory()) {
      if (!keep) await unlink(path);
      return keep;
    }
    await this.#modes.grant(path, stats.mode);
    let kept = keep;
    for (const name of await readdir(path)) {
      if (await this.#removeLower(join(path, name), `${relative}/${name}`)) kept = true;
    }
    if (kept) return true;
    await rmdir(path);
    this.#modes.forget(path);
    this.#folders.clear();
    return false;
  }

  #knownFolder(relative: string): void {
    if (this.#folders.size >= MAX_KNOWN_FOLDERS) this.#folders.clear();
    this.#folders.add(relative);
  }

  #remember(place: Place, what: string): void {
    const { relative } = place;
    if (this.#created.has(relative)) return;
    this.#createdChars += relative.length;
    if (this.#createdChars > MAX_REMEMBERED_NAME_CHARS) {
      throw invalidImage(`${what}: the layer's names add up to more than 128 MiB`);
    }
    this.#created.add(relative);
  }
}

/** The path below the root of `name` in the folder `relative`. */
function child(relative: string, name: string): string {
  return relative === '' ? name : `${relative}/${name}`;
}

function last(parts: readonly string[]): string {
  const name = parts.at(-1);
  if (name === undefined) throw new RangeError('an entry path has no components');
  return name;
}

async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}
