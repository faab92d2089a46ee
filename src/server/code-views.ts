/**
 * A CodeStore whose prepared folders get their jail views as they are prepared (off the invoke
 * path: preparation runs while a function is Pending), so that the first cold start of a new
 * function finds its view mounted.
 */
import type { CodeStore } from '../functions/code-store.js';
import type { DirectoryViews } from '../sandbox/overlay-views.js';

export function withViews(code: CodeStore, views: DirectoryViews): CodeStore {
  return {
    inspect: (zip) => code.inspect(zip),
    put: (zip, ref) => code.put(zip, ref),
    prepare: async (ref) => {
      const dir = await code.prepare(ref);
      await views.prepare(dir);
      return dir;
    },
    prepareMerged: (refs) => code.prepareMerged(refs),
    has: (sha) => code.has(sha),
    open: (sha) => code.open(sha),
    remove: (sha) => code.remove(sha),
  };
}
