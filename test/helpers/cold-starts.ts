/** The cold starts the network lifecycle tests drive: a function that exits on request. */
import assert from 'node:assert/strict';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/**
 * Cold starts per test: 100 in the suite, where a leak of anything per start (a namespace, an
 * interface, a rule, a network process) shows as a hundred left over, and the host must match its
 * state at rest exactly; 1,000 under `npm run soak` (LAMINA_SOAK_COLD_STARTS), which takes
 * several minutes on 2 vCPUs (400 took 176 s) and is not part of `npm test`.
 */
export const COLD_STARTS = coldStartCount(process.env['LAMINA_SOAK_COLD_STARTS']);

function coldStartCount(text: string | undefined): number {
  if (text === undefined || text === '') return 100;
  const count = Number(text);
  if (!Number.isSafeInteger(count) || count < 1)
    throw new Error(`LAMINA_SOAK_COLD_STARTS is a positive whole number, not ${text}`);
  return count;
}

/** Pre-started sandboxes the server keeps (Node.js only: the only runtime used here). */
export const PRESTARTED = 2;

export const EXITS =
  'exports.handler = async (event) => { if (event.exit) process.exit(0); return "warm"; };\n';

/** Cold starts until `client`'s function `exits` has started `count` environments. */
export async function coldStarts(client: LambdaClient, count: number): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (left > 0) {
        left -= 1;
        const out = await client.send(
          new InvokeCommand({ FunctionName: 'exits', Payload: Buffer.from('{"exit":true}') }),
        );
        assert.equal(out.FunctionError, 'Unhandled');
      }
    }),
  );
}
