/** 100 simultaneous first calls to a new function all succeed: cold starts are bounded and shared. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { deploy } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { startServer, tempDir } from '../helpers/server-process.js';

test(
  'a burst of 100 first calls: no errors, a bounded number of environments',
  { timeout: 240_000 },
  async () => {
    const dir = tempDir();
    const server = await startServer({ dataDir: dir.path });
    const client = lambdaClient(server.endpoint);
    try {
      await deploy(
        client,
        'bursty',
        {
          'index.js':
            "const env = require('crypto').randomUUID(); exports.handler = async (e) => ({ env, n: e.n });",
        },
        { memorySize: 128 },
      );
      const results = await Promise.all(
        Array.from({ length: 100 }, async (_, n) => {
          const out = await client.send(
            new InvokeCommand({ FunctionName: 'bursty', Payload: JSON.stringify({ n }) }),
          );
          assert.equal(out.FunctionError, undefined);
          return JSON.parse(Buffer.from(out.Payload ?? []).toString()) as {
            env: string;
            n: number;
          };
        }),
      );
      assert.deepEqual(
        results.map((r) => r.n),
        Array.from({ length: 100 }, (_, n) => n),
      );
      const environments = new Set(results.map((r) => r.env)).size;
      // At most 2 cold starts per core run at once, and calls queue for the environments that
      // come free, so the burst is served by far fewer environments than calls.
      assert.ok(environments >= 1 && environments <= 50, `environments: ${environments}`);
    } finally {
      client.destroy();
      await server.stop();
      dir.remove();
    }
  },
);
