/**
 * A function that runs V8's full garbage collection, for `MemoryReclaimer`: `global.gc` when Node
 * was started with `--expose-gc`, else obtained by turning that flag on and reading `gc` from a new
 * context (as Jest's leak detector does); undefined if neither works.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export function fullCollection(): (() => void) | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as () => void;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}
