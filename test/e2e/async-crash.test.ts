/**
 * Durability of accepted events: the server is killed with SIGKILL while events are queued,
 * running and still arriving, restarted on the same data directory, and every event that got
 * its 202 runs (each response is produced by the function itself, from the event's own id).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { EventsApi, type EventView } from '../helpers/async-events.js';
import { deploy } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { startServer, tempDir, TEST_CREDENTIALS } from '../helpers/server-process.js';

const WORKER = {
  'index.js':
    'exports.handler = async (event) => { await new Promise((r) => setTimeout(r, 400)); return { ran: event.id }; };',
};

/** A killed server's watchdog removes its run folder (`<tmp>/lamina-<pid>-…`) and mounts. */
async function runDirsGone(pid: number | undefined): Promise<void> {
  await poll(
    () =>
      Promise.resolve(readdirSync(tmpdir()).filter((name) => name.startsWith(`lamina-${pid}-`))),
    (left) => left.length === 0,
    15_000,
    'the killed server’s run folder removed by its watchdog',
  );
}

/** Sends an Event invoke; resolves with its request id on 202, undefined if it was not accepted. */
async function send(client: LambdaClient, id: string): Promise<string | undefined> {
  try {
    const out = await client.send(
      new InvokeCommand({
        FunctionName: 'worker',
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify({ id })),
      }),
    );
    return out.StatusCode === 202 ? out.$metadata.requestId : undefined;
  } catch {
    return undefined; // the server died before answering: not accepted
  }
}

describe('asynchronous events survive kill -9', () => {
  test('every accepted event runs after a crash and a restart', async () => {
    const dir = tempDir();
    let server = await startServer({ dataDir: dir.path, args: ['--async-concurrency', '4'] });
    let client = lambdaClient(server.endpoint);
    try {
      await deploy(client, 'worker', WORKER);
      // payload id → request id of every event that got its 202.
      const accepted = new Map<string, string>();
      const wave = async (prefix: string, n: number, onAccepted?: () => void) =>
        Promise.all(
          Array.from({ length: n }, async (_, i) => {
            const requestId = await send(client, `${prefix}-${i}`);
            if (requestId !== undefined) {
              accepted.set(`${prefix}-${i}`, requestId);
              onAccepted?.();
            }
          }),
        );
      await wave('first', 40);
      assert.equal(accepted.size, 40);

      // Wait until some events run and others still wait.
      const events = new EventsApi(server.endpoint, TEST_CREDENTIALS);
      const before = await events.waitForList(
        'worker',
        (list) =>
          list.some((e) => e.Status === 'Running') && list.some((e) => e.Status === 'Queued'),
      );
      const runningAtKill = before.filter((e) => e.Status === 'Running').map((e) => e.RequestId);

      // A second wave is still arriving when the process is killed.
      let killed: Promise<number | string> | undefined;
      const stillArriving = wave('second', 30, () => {
        killed ??= server.stop('SIGKILL');
      });
      await stillArriving;
      assert.equal(await killed, 'SIGKILL');
      client.destroy();
      await runDirsGone(server.child.pid);
      assert.ok(accepted.size > 40, 'some of the second wave were accepted before the kill');

      server = await startServer({ dataDir: dir.path, args: ['--async-concurrency', '4'] });
      client = lambdaClient(server.endpoint);
      const after = new EventsApi(server.endpoint, TEST_CREDENTIALS);
      const all = await after.waitForList(
        'worker',
        (list) =>
          [...accepted.values()].every((id) =>
            list.some((e) => e.RequestId === id && e.Status === 'Succeeded'),
          ),
        180_000,
      );
      const byId = new Map<string, EventView>(all.map((e) => [e.RequestId, e]));
      for (const [payloadId, requestId] of accepted) {
        const event = byId.get(requestId);
        assert.equal(event?.Status, 'Succeeded', payloadId);
        assert.deepEqual(event.Response, { ran: payloadId });
      }
      // Those cut off mid-run were put back and ran again (the kill left no record of a run).
      assert.ok(runningAtKill.length > 0);
      for (const id of runningAtKill) assert.ok((byId.get(id)?.Attempts ?? 0) >= 1, id);
      assert.match(server.output(), /interrupted by a crash will run again/);
    } finally {
      client.destroy();
      await server.stop();
      dir.remove();
    }
  });
});
