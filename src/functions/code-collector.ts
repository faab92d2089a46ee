/**
 * Removes stored code that no function refers to any more. A hash being written by an in-flight
 * request is pinned, so a concurrent collection cannot delete a blob a new record is about to use.
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
    this.#pins.set(sha256Hex, (this.#pins.get(sha256Hex) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = (this.#pins.get(sha256Hex) ?? 1) - 1;
      if (left === 0) this.#pins.delete(sha256Hex);
      else this.#pins.set(sha256Hex, left);
      await this.collect(sha256Hex);
    }
  }

  /** Deletes the blob and its extracted tree unless a record or a request still uses it. */
  async collect(sha256Hex: string | undefined): Promise<void> {
    if (sha256Hex === undefined || this.#pins.has(sha256Hex)) return;
    if (await this.#repository.isCodeReferenced(sha256Hex)) return;
    await this.#code.remove(sha256Hex);
  }
}
