/**
 * Lamina's own status of the pre-started sandbox pool: `GET /lamina/2026-11-01/prestarted-sandboxes`
 * → `{Runtimes: [{Command, Size, Ready, Booting, Specialisations, LastError?}]}`.
 */
import type { Handler } from '../api-types.js';

export const getPrestartedSandboxes: Handler = (ctx) =>
  Promise.resolve({
    status: 200,
    json: {
      Runtimes: ctx.prestartedStatus().map((family) => ({
        Command: family.family,
        Size: family.size,
        Ready: family.ready,
        Booting: family.booting,
        Specialisations: family.taken,
        ...(family.lastError === undefined ? {} : { LastError: family.lastError }),
      })),
    },
  });
