/** The cold starts the network lifecycle tests drive: a function that exits on request. */
import assert from 'node:assert/strict';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/**
 * Cold starts per test. Any leak per start (a namespace, an interface, a rule, a network
 * process) shows as hundreds left over. 1,000 took about 300 s on a 2-vCPU machine (300 ms a
 * start with 4 at once), the test runner's per-test limit: 400 keep the test well inside it.
 */
export const COLD_STARTS = 400;

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
