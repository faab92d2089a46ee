/**
 * Removes stored code that no function refers to any more. A hash being written by an in-flight
 * request is pinned, so a concurrent collection cannot delete a blob a new record is about to use;
 * so is the code of every live environment. A collection of a hash runs alone (its checks and
 * the removal), and a request that pins the hash waits for one under way to finish before it
 * writes: otherwise a removal that had passed its checks could delete what the request wrote
 * (a function created with the same code as one just deleted would be Active without its code).
 */
import type { CodeStore } from './code-store.js';
import type { FunctionRepository } from './function-repository.js';
import type { ImageStore } from './image-store.js';

export class CodeCollector {
  readonly #repository: FunctionRepository;
  readonly #code: CodeStore;
  readonly #images: Pick<ImageStore, 'open' | 'remove'> | undefined;
  readonly #pins = new Map<string, number>();
  /** The collection under way per hash (each waits for the one before it). */
  readonly #collecting = new Map<string, Promise<void>>();

  /** `images`: unpacked images are collected too (an image function's code is its digest). */
  constructor(
    repository: FunctionRepository,
    code: CodeStore,
    images?: Pick<ImageStore, 'open' | 'remove'>,
  ) {
    this.#repository = repository;
    this.#code = code;
    this.#images = images;
  }

  /** Runs `work` with the hash pinned, then collects it if `work` left it unreferenced. */
  async withPinned<T>(sha256Hex: string, work: () => Promise<T>): Promise<T> {
    const release = this.hold([sha256Hex]);
    try {
      await this.#collecting.get(sha256Hex);
      return await work();
    } finally {
      await release();
    }
  }

  /**
   * Pins hashes until the returned function is called (the first call counts), which collects
   * those left unreferenced: code a running environment uses stays while it runs, whatever
   * happens to its function meanwhile.
   */
  hold(hashes: readonly (string | undefined)[]): () => Promise<void> {
    const held = hashes.filter((hash): hash is string => hash !== undefined);
    for (const hash of held) this.#pins.set(hash, (this.#pins.get(hash) ?? 0) + 1);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      for (const hash of held) {
        const left = (this.#pins.get(hash) ?? 1) - 1;
        if (left === 0) this.#pins.delete(hash);
        else this.#pins.set(hash, left);
      }
      for (const hash of held) await this.collect(hash);
    };
  }

  /** Deletes the blob and its extracted tree unless a record or a request still uses it. */
  collect(sha256Hex: string | undefined): Promise<void> {
    // '' is the code of an image function whose image was never pulled: nothing stored.
    if (sha256Hex === undefined || sha256Hex === '') return Promise.resolve();
    const hash = sha256Hex;
    const previous = this.#collecting.get(hash) ?? Promise.resolve();
    const current = previous.then(async () => {
      if (this.#pins.has(hash)) return;
      if (await this.#repository.isCodeReferenced(hash)) return;
      // Pinned while the reference was read: the request will use the code.
      if (this.#pins.has(hash)) return;
      await this.#code.remove(hash);
      const digest = `sha256:${hash}`;
      if ((await this.#images?.open(digest)) !== undefined) await this.#images?.remove(digest);
    });
    const settled = current.catch(() => undefined);
    this.#collecting.set(hash, settled);
    void settled.then(() => {
      if (this.#collecting.get(hash) === settled) this.#collecting.delete(hash);
    });
    return current;
  }
}
