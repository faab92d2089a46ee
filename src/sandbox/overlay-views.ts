/**
 * Read-only views of host folders whose mounts show no host path inside a jail. A bind mount
 * shows, in the jail's `/proc/self/mountinfo`, its source's path within the source's file system
 * (`/var/lib/lamina/code/trees/<sha>`); a view is an overlay file system of its own on the folder,
 * so the jail's bind of it shows `/` and the options `lowerdir=<folder name>:.empty` (the mount is
 * made from the folder's parent, with paths relative to it). Views are mounted under a folder of
 * the server's run folder, reused while their folder stays the same one, and unmounted when
 * unused beyond a few (every mount is copied into each new jail's namespace).
 *
 * Only root can mount: without it a view is the folder itself.
 */
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { runCommand } from './run-command.js';

/** A folder as the jail will see it; `release` once the jail is gone. */
export interface DirectoryView {
  readonly path: string;
  release(): void;
}

/** Gives folders their views. */
export interface DirectoryViews {
  acquire(dir: string): Promise<DirectoryView>;
  /** Makes the view ahead of its first use (off the cold-start path); failures are ignored. */
  prepare(dir: string): Promise<void>;
  close(): Promise<void>;
}

/** Unused views kept mounted for reuse, at most. */
export const IDLE_VIEWS = 16;
/** The empty folder every view's second layer is (overlayfs needs two without an upper layer). */
const EMPTY = '.empty';

interface Entry {
  readonly path: string;
  /** The folder's identity when mounted: a folder replaced by another gets a new view. */
  readonly identity: string;
  readonly mounted: Promise<void>;
  refs: number;
  lastUsed: number;
}

/** The folders themselves: no views (without root, or where views are turned off). */
export const plainDirectories: DirectoryViews = {
  acquire: (dir) => Promise.resolve({ path: dir, release: () => undefined }),
  prepare: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

export class OverlayViews implements DirectoryViews {
  readonly #root: string;
  readonly #entries = new Map<string, Entry>();
  /** Views of folders since replaced, still used by jails that have them. */
  readonly #stale = new Set<Entry>();
  readonly #unmounting = new Set<Promise<void>>();
  #made = 0;
  #uses = 0;

  /** `root`: an empty folder of the server's own (its views are mounted in it). */
  constructor(root: string) {
    this.#root = root;
  }

  async acquire(dir: string): Promise<DirectoryView> {
    const name = basename(dir);
    // Option syntax: a name with a separator cannot be given relatively; such a folder is bound.
    // A top-level folder (`/usr` as the interpreter's prefix) is bound too: its path is the one
    // the jail shows anyway, and its parent is no place for the empty layer.
    if (/[:,\\=\s]/.test(name) || dirname(dir) === '/') return plainDirectories.acquire(dir);
    const identity = await identityOf(dir);
    let entry = this.#entries.get(dir);
    if (entry !== undefined && entry.identity !== identity) {
      // The folder was replaced: its old view serves the jails that have it, then goes.
      this.#entries.delete(dir);
      if (entry.refs === 0) this.#unmount(entry);
      else this.#stale.add(entry);
      entry = undefined;
    }
    if (entry === undefined) {
      const path = join(this.#root, String((this.#made += 1)));
      entry = { path, identity, mounted: this.#mount(dir, path), refs: 0, lastUsed: 0 };
      this.#entries.set(dir, entry);
    }
    const used = entry;
    used.refs += 1;
    try {
      await used.mounted;
    } catch (error) {
      used.refs -= 1;
      if (this.#entries.get(dir) === used) this.#entries.delete(dir);
      throw error;
    }
    let released = false;
    return {
      path: used.path,
      release: () => {
        if (released) return;
        released = true;
        used.refs -= 1;
        used.lastUsed = this.#uses += 1;
        if (used.refs === 0 && this.#stale.delete(used)) this.#unmount(used);
        this.#trim();
      },
    };
  }

  async prepare(dir: string): Promise<void> {
    try {
      (await this.acquire(dir)).release();
    } catch {
      // made when first used instead
    }
  }

  async close(): Promise<void> {
    for (const entry of [...this.#entries.values(), ...this.#stale]) this.#unmount(entry);
    this.#entries.clear();
    this.#stale.clear();
    await Promise.all(this.#unmounting);
  }

  /** Unmounts the least recently used unused views beyond IDLE_VIEWS. */
  #trim(): void {
    const idle = [...this.#entries.entries()]
      .filter(([, entry]) => entry.refs === 0)
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [dir, entry] of idle.slice(0, Math.max(0, idle.length - IDLE_VIEWS))) {
      this.#entries.delete(dir);
      this.#unmount(entry);
    }
  }

  async #mount(dir: string, path: string): Promise<void> {
    const parent = dirname(dir);
    await mkdir(join(parent, EMPTY), { recursive: true, mode: 0o755 });
    await mkdir(path, { recursive: true, mode: 0o755 });
    await runCommand(
      '/usr/bin/mount',
      ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${basename(dir)}:${EMPTY}`, path],
      { cwd: parent },
    );
  }

  /** Unmounts a view nobody uses any more, in the background (close waits for them all). */
  #unmount(entry: Entry): void {
    const unmounting = (async () => {
      await entry.mounted.catch(() => undefined);
      await runCommand('/usr/bin/umount', ['-l', entry.path]).catch(() => undefined);
      await rmdir(entry.path).catch(() => undefined);
    })();
    this.#unmounting.add(unmounting);
    void unmounting.finally(() => this.#unmounting.delete(unmounting));
  }
}

async function identityOf(dir: string): Promise<string> {
  const info = await stat(dir);
  return `${info.dev}:${info.ino}`;
}
