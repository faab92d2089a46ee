/**
 * Scale to zero, driven by an injected clock (no waiting through the idle time): environments
 * idle for longer than the idle timeout are stopped, the next invoke is a cold start again, and
 * provisioned environments stay.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  GetProvisionedConcurrencyConfigCommand,
  PublishVersionCommand,
  PutProvisionedConcurrencyConfigCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { useInProcessServer } from '../helpers/in-process-server.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { poll } from '../helpers/poll.js';

const IDLE_MS = 60_000;
const NOOP = { 'index.js': 'exports.handler = async () => "ok";' };

describe('scale to zero', () => {
  // Real time plus whatever the test adds: signatures stay within the allowed clock skew.
  let advancedMs = 0;
  const clock = { now: () => Date.now() + advancedMs };
  const suite = useInProcessServer({ idleTimeoutMs: IDLE_MS, prestartPoolSize: 0 }, clock);
  let client: LambdaClient;
  before(() => {
    client = suite.client;
  });

  const isCold = async (name: string) =>
    /Init Duration/.test((await invokeJson(client, name, {}, { LogType: 'Tail' })).log);

  test('idle environments stop after the idle time; the next invoke is cold', async () => {
    await deploy(client, 'idle-fn', NOOP);
    assert.equal(await isCold('idle-fn'), true);
    assert.equal(await isCold('idle-fn'), false);

    advancedMs += IDLE_MS - 1000;
    assert.equal(await suite.server.reapIdle(), 0);
    assert.equal(await isCold('idle-fn'), false);

    advancedMs += IDLE_MS + 1000;
    assert.equal(await suite.server.reapIdle(), 1);
    assert.equal(await isCold('idle-fn'), true);
  });

  test('provisioned environments stay through idle reaping', async () => {
    await deploy(client, 'kept-fn', NOOP, { memorySize: 128 });
    const { Version } = await client.send(new PublishVersionCommand({ FunctionName: 'kept-fn' }));
    const version = Version ?? '';
    await client.send(
      new PutProvisionedConcurrencyConfigCommand({
        FunctionName: 'kept-fn',
        Qualifier: version,
        ProvisionedConcurrentExecutions: 1,
      }),
    );
    const config = () =>
      client.send(
        new GetProvisionedConcurrencyConfigCommand({ FunctionName: 'kept-fn', Qualifier: version }),
      );
    await poll(config, (c) => c.Status === 'READY', 60_000);
    assert.equal(await isCold(`kept-fn:${version}`), false);

    advancedMs += 10 * IDLE_MS;
    await suite.server.reapIdle();
    const kept = await config();
    assert.equal(kept.AllocatedProvisionedConcurrentExecutions, 1);
    assert.equal(await isCold(`kept-fn:${version}`), false);
  });
});
