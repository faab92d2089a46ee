/**
 * A function's environment variables that the C library's loader reads (`LD_PRELOAD`,
 * `LD_LIBRARY_PATH`, `LD_DEBUG`…) reached the programs that build its jail on the host (`nsenter`
 * and `setpriv` as root, `unshare` and `nft` for an unprivileged server, bubblewrap): with
 * `LD_PRELOAD` naming a library in its own code, a function would run code as root outside any
 * jail. The probe is `LD_DEBUG` with `LD_DEBUG_OUTPUT` naming a folder on the host that anyone may
 * write to: every host process that inherits them writes its loader trace there. Inside the jail
 * the function still has both variables.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import {
  startServer,
  tempDir,
  UNPRIVILEGED_USER,
  type ServerProcess,
} from '../helpers/server-process.js';

const ECHO =
  'exports.handler = async () => ({ debug: process.env.LD_DEBUG, output: process.env.LD_DEBUG_OUTPUT });\n';

for (const [title, user] of [
  ['loader variables of a function (root server)', undefined],
  ['loader variables of a function (unprivileged server)', UNPRIVILEGED_USER],
] as const) {
  describe(title, () => {
    const dir = tempDir();
    const trap = mkdtempSync(join(tmpdir(), 'lamina-loader-trap-'));
    let server: ServerProcess;
    let client: LambdaClient;

    before(async () => {
      chmodSync(trap, 0o1777);
      server = await startServer({ dataDir: dir.path, ...(user === undefined ? {} : { user }) });
      client = lambdaClient(server.endpoint);
    });

    after(async () => {
      client.destroy();
      await server.stop();
      dir.remove();
      rmSync(trap, { recursive: true, force: true });
    });

    test('reach the function inside its jail and no program outside it', async () => {
      const output = join(trap, 'trace');
      await deploy(
        client,
        'loader',
        { 'index.js': ECHO },
        { environment: { LD_DEBUG: 'libs', LD_DEBUG_OUTPUT: output } },
      );
      const { body } = await invokeJson(client, 'loader', {});
      assert.deepEqual(body, { debug: 'libs', output });
      assert.deepEqual(readdirSync(trap), [], 'a host process inherited LD_DEBUG_OUTPUT');
    });
  });
}
