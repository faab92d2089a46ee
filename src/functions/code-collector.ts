/**
 * Removes stored code that no function refers to any more. A hash being written by an in-flight
 * request is pinned, so a concurrent collection cannot delete a blob a new record is about to use;
 * so is the code of every live environment.
 */
import type { CodeStore } from './code-store.js';
import type { FunctionRepository } from './function-repository.js';

export class CodeCollector {
  readonly #repository: FunctionRepository;
  readonly #code: CodeStore;
  readonly #pins = new Map<string, number>();

  constructor(repository: FunctionRepository, code: CodeStore) {
    this.#repository = repository;
    this.#code = code;
  }

  /** Runs `work` with the hash pinned, then collects it if `work` left it unreferenced. */
  async withPinned<T>(sha256Hex: string, work: () => Promise<T>): Promise<T> {
    const release = this.hold([sha256Hex]);
    try {
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
  async collect(sha256Hex: string | undefined): Promise<void> {
    if (sha256Hex === undefined || this.#pins.has(sha256Hex)) return;
    if (await this.#repository.isCodeReferenced(sha256Hex)) return;
    await this.#code.remove(sha256Hex);
  }
}
