/**
 * Lets the unpacker, which is not root, work inside an image's folders whatever their modes:
 * a folder it must enter, list or change gets owner rwx for the time of one layer, and its own
 * mode (the image's) is put back when the layer is complete. A folder that is gone or replaced
 * by then is left alone, and no symlink is ever followed while putting modes back.
 */
import { chmod, lstat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { invalidImage } from './invalid-image.js';

/** Owner read, write and search: what the unpacker needs on a folder it works in. */
const OWNER_RWX = 0o700;
/** Permission bits plus the sticky bit; setuid and setgid are never kept. */
export const KEPT_MODE_BITS = 0o1777;
/** Characters of folder paths remembered at most (a hostile image could list millions). */
const MAX_PENDING_CHARS = 64 * 1024 * 1024;
/** Folders known good while restoring, at most, before that cache starts afresh. */
const MAX_KNOWN_FOLDERS = 100_000;

export class DirectoryModes {
  readonly #rootDir: string;
  /** Absolute folder path → the mode it gets back in restore(). */
  readonly #pending = new Map<string, number>();
  #pendingChars = 0;

  constructor(rootDir: string) {
    this.#rootDir = rootDir;
  }

  /** Gives the owner rwx on `dir` (currently `mode`) until restore(), which puts `mode` back. */
  async grant(dir: string, mode: number): Promise<void> {
    if (this.#pending.has(dir) || (mode & OWNER_RWX) === OWNER_RWX) return;
    this.#record(dir, mode & KEPT_MODE_BITS);
    await chmod(dir, (mode & KEPT_MODE_BITS) | OWNER_RWX);
  }

  /** Gives `dir` the mode `mode`: now if the owner keeps rwx, else at restore(). */
  async set(dir: string, mode: number): Promise<void> {
    const kept = mode & KEPT_MODE_BITS;
    if ((kept & OWNER_RWX) === OWNER_RWX) {
      this.forget(dir);
      await chmod(dir, kept);
      return;
    }
    this.#record(dir, kept);
    await chmod(dir, kept | OWNER_RWX);
  }

  /** Drops what was recorded for `dir`, which was removed (a new folder there starts afresh). */
  forget(dir: string): void {
    if (this.#pending.delete(dir)) this.#pendingChars -= dir.length;
  }

  #record(dir: string, mode: number): void {
    if (!this.#pending.has(dir)) {
      this.#pendingChars += dir.length;
      if (this.#pendingChars > MAX_PENDING_CHARS) {
        throw invalidImage('the image has too many folders whose owner may not write in them');
      }
    }
    this.#pending.set(dir, mode);
  }

  /**
   * Puts every recorded mode back, deepest folders first (so a parent that loses its search bit
   * comes last), skipping any path that is no longer a folder reached through folders only.
   */
  async restore(): Promise<void> {
    const byDepth = [...this.#pending].sort(([a], [b]) => depth(b) - depth(a));
    this.#pending.clear();
    this.#pendingChars = 0;
    const folders = new Set<string>();
    for (const [dir, mode] of byDepth) {
      if (await this.#isFolderChain(dir, folders)) await chmod(dir, mode);
    }
  }

  async #isFolderChain(dir: string, folders: Set<string>): Promise<boolean> {
    const parts = relative(this.#rootDir, dir).split(sep);
    let current = this.#rootDir;
    for (const part of parts) {
      current = join(current, part);
      if (folders.has(current)) continue;
      const stats = await lstat(current).catch(() => undefined);
      if (stats?.isDirectory() !== true) return false;
      if (folders.size >= MAX_KNOWN_FOLDERS) folders.clear();
      folders.add(current);
    }
    return true;
  }
}

function depth(path: string): number {
  let count = 0;
  for (const char of path) if (char === sep) count += 1;
  return count;
}
