/**
 * Counts writes to the metadata repositories, so that caches of what they hold (the function an
 * invoke resolves to) know when to read again. `watch` wraps a repository: after each of the named
 * write methods settles, the generation moves on; every other method passes through.
 */
export class WriteGeneration {
  #value = 0;

  get value(): number {
    return this.#value;
  }

  bump(): void {
    this.#value += 1;
  }

  watch<T extends object>(target: T, writes: readonly (keyof T & string)[]): T {
    const writeSet = new Set<string | symbol>(writes);
    return new Proxy(target, {
      get: (object, property) => {
        const value: unknown = Reflect.get(object, property, object);
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        if (!writeSet.has(property)) return method.bind(object);
        return async (...args: unknown[]) => {
          this.bump();
          try {
            return await method.apply(object, args);
          } finally {
            this.bump();
          }
        };
      },
    });
  }
}
