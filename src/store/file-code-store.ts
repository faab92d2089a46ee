/**
 * CodeStore on the local disk under the data directory:
 *   code/zips/<sha256-hex>.zip   the uploaded archive, written to a temp file, fsynced, renamed
 *   code/trees/<sha256-hex>/     its extracted tree, built in a temp folder and renamed into place
 *   code/merged/<key>/           several trees laid over each other (a function's layers), hard
 *   code/merged/<key>.list       links into the trees; the .list names the trees it was made of
 * Content-addressed, so identical code is stored and extracted once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import {
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  symlink,
  chmod,
  writeFile,
} from 'node:fs/promises';
import { join, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type { CodeRef } from '../core/function-model.js';
import type { CodeStore, InspectedCode } from '../functions/code-store.js';
import { mergeTrees } from './layer-merge.js';
import { walkZip, type ZipLimits } from './zip-walker.js';

export class FileCodeStore implements CodeStore {
  readonly #zips: string;
  readonly #trees: string;
  readonly #merged: string;
  readonly #limits: ZipLimits | undefined;
  readonly #preparing = new Map<string, Promise<string>>();
  /** Hashes known to be extracted: the invoke path asks on every call and must not touch disk. */
  readonly #ready = new Set<string>();

  /** `root` is the folder that holds `zips/` and `trees/`. */
  constructor(root: string, limits?: ZipLimits) {
    this.#zips = join(root, 'zips');
    this.#trees = join(root, 'trees');
    this.#merged = join(root, 'merged');
    this.#limits = limits;
  }

  async inspect(zip: Buffer): Promise<InspectedCode> {
    const unzippedBytes = await walkZip(
      zip,
      async (item) => {
        if (item.kind === 'file') {
          // Drained only to count and validate the inflated bytes.
          item.data.resume();
          await finished(item.data);
        }
      },
      this.#limits,
    );
    return {
      sha256Hex: createHash('sha256').update(zip).digest('hex'),
      sizeBytes: zip.length,
      unzippedBytes,
    };
  }

  async put(zip: Buffer, code: CodeRef): Promise<void> {
    const file = this.#zipPath(code.sha256Hex);
    if (await exists(file)) return;
    await mkdir(this.#zips, { recursive: true });
    const temp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
    const handle = await open(temp, 'wx', 0o644);
    try {
      await handle.writeFile(zip);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await syncDirectory(this.#zips);
  }

  async prepare(code: CodeRef): Promise<string> {
    if (this.#ready.has(code.sha256Hex)) return this.treePath(code.sha256Hex);
    const running = this.#preparing.get(code.sha256Hex);
    if (running !== undefined) return running;
    const job = this.#extract(code.sha256Hex)
      .then((tree) => {
        this.#ready.add(code.sha256Hex);
        return tree;
      })
      .finally(() => this.#preparing.delete(code.sha256Hex));
    this.#preparing.set(code.sha256Hex, job);
    return job;
  }

  async prepareMerged(codes: readonly CodeRef[]): Promise<string> {
    const trees = await Promise.all(codes.map((code) => this.prepare(code)));
    const only = trees[0];
    if (trees.length === 1 && only !== undefined) return only;
    const list = codes.map((code) => code.sha256Hex).join('\n');
    const key = createHash('sha256').update(list).digest('hex');
    const merged = join(this.#merged, key);
    if (this.#ready.has(`merged:${key}`)) return merged;
    const running = this.#preparing.get(`merged:${key}`);
    if (running !== undefined) return running;
    const job = this.#merge(trees, merged, list)
      .then(() => {
        this.#ready.add(`merged:${key}`);
        return merged;
      })
      .finally(() => this.#preparing.delete(`merged:${key}`));
    this.#preparing.set(`merged:${key}`, job);
    return job;
  }

  async has(sha256Hex: string): Promise<boolean> {
    return exists(this.#zipPath(sha256Hex));
  }

  open(sha256Hex: string): Readable {
    return createReadStream(this.#zipPath(sha256Hex));
  }

  async remove(sha256Hex: string): Promise<void> {
    this.#ready.delete(sha256Hex);
    await this.#removeMergedWith(sha256Hex);
    await rm(join(this.#trees, sha256Hex), { recursive: true, force: true });
    await rm(this.#zipPath(sha256Hex), { force: true });
  }

  /** The folder of an extracted tree (whether or not it exists yet). */
  treePath(sha256Hex: string): string {
    return join(this.#trees, sha256Hex);
  }

  async #extract(sha256Hex: string): Promise<string> {
    const tree = this.treePath(sha256Hex);
    if (await exists(tree)) return tree;
    const zip = await readFileFully(this.#zipPath(sha256Hex));
    const temp = `${tree}.tmp-${randomBytes(6).toString('hex')}`;
    await mkdir(temp, { recursive: true, mode: 0o755 });
    const links: Array<{ path: string; target: string }> = [];
    try {
      await walkZip(
        zip,
        async (item) => {
          const target = join(temp, item.path);
          if (item.kind === 'directory') {
            await mkdir(target, { recursive: true, mode: 0o755 });
          } else if (item.kind === 'file') {
            await mkdir(dirname(target), { recursive: true, mode: 0o755 });
            const mode = item.executable ? 0o755 : 0o644;
            await pipeline(item.data, createWriteStream(target, { flags: 'wx', mode }));
            await chmod(target, mode);
          } else {
            links.push({ path: target, target: item.target });
          }
        },
        this.#limits,
      );
      // Links last: no file is ever written through a link made by the same archive.
      for (const link of links) {
        await mkdir(dirname(link.path), { recursive: true, mode: 0o755 });
        await symlink(link.target, link.path);
      }
      await chmod(temp, 0o755);
      await rename(temp, tree);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
    return tree;
  }

  async #merge(trees: readonly string[], merged: string, list: string): Promise<void> {
    if (await exists(merged)) return;
    await mkdir(this.#merged, { recursive: true, mode: 0o755 });
    const temp = `${merged}.tmp-${randomBytes(6).toString('hex')}`;
    await mkdir(temp, { mode: 0o755 });
    try {
      await mergeTrees(trees, temp);
      await chmod(temp, 0o755);
      await writeFile(`${merged}.list`, list);
      await rename(temp, merged);
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }

  /** Merged trees hold links to a tree's files: they go with it. */
  async #removeMergedWith(sha256Hex: string): Promise<void> {
    const names = await readdir(this.#merged).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.endsWith('.list'))) {
      const file = join(this.#merged, name);
      const list = await readFile(file, 'utf8').catch(() => '');
      if (!list.split('\n').includes(sha256Hex)) continue;
      const key = name.slice(0, -'.list'.length);
      this.#ready.delete(`merged:${key}`);
      await rm(join(this.#merged, key), { recursive: true, force: true });
      await rm(file, { force: true });
    }
  }

  #zipPath(sha256Hex: string): string {
    return join(this.#zips, `${sha256Hex}.zip`);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readFileFully(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
