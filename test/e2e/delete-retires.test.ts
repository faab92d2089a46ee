/**
 * Deleting a function, or one of its versions, ends its environments at once (idle ones) or as
 * soon as their invocation completes (busy ones), instead of at the idle timeout (600 s): three
 * functions created, invoked and deleted used to leave their processes running. A version that
 * no alias routes to any more loses its idle environments too. No pre-started
 * sandboxes here, so that every environment cgroup of the server is a function's.
 */
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { before, describe, test } from 'node:test';
import {
  CreateAliasCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  InvokeCommand,
  PublishVersionCommand,
  UpdateAliasCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { poll } from '../helpers/poll.js';
import {
  alive,
  cgroupPids,
  environmentCgroupBases,
  environmentCgroups,
} from '../helpers/server-cgroups.js';
import { useServer } from '../helpers/server-suite.js';

const NOOP = { 'index.mjs': 'export const handler = async () => "ok";' };

describe('deleting a function, a version or an alias’s last use of one retires environments', () => {
  const suite = useServer({ args: ['--prestart-pool-size', '0'] });
  let client: LambdaClient;
  let bases: string[] = [];
  before(() => {
    assert.equal(process.getuid?.(), 0, 'this test needs root (it reads the cgroups)');
    client = suite.client;
    bases = environmentCgroupBases(suite.server.child.pid as number);
    assert.ok(bases.length > 0, 'no cgroup bases found');
  });

  /** The server's environments (by id) and the processes in them. */
  const environments = () => {
    const cgroups = environmentCgroups(bases, suite.server.child.pid as number);
    return { ids: new Set(cgroups.map((dir) => basename(dir))), pids: cgroupPids(cgroups) };
  };
  const gone = (ids: ReadonlySet<string>, what: string) =>
    poll(
      () => Promise.resolve(environments()),
      (now) => [...ids].every((id) => !now.ids.has(id)),
      10_000,
      what,
    );

  test('three functions invoked, then deleted, leave no environment and no process', async () => {
    const before = environments().ids;
    for (const name of ['del-a', 'del-b', 'del-c']) {
      await deploy(client, name, NOOP);
      assert.equal((await invokeJson(client, name, {})).text, '"ok"');
    }
    const { ids, pids } = environments();
    const theirs = new Set([...ids].filter((id) => !before.has(id)));
    assert.equal(theirs.size, 3);
    for (const name of ['del-a', 'del-b', 'del-c'])
      await client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await gone(theirs, 'the deleted functions’ environments ended');
    await poll(
      () => Promise.resolve(pids.filter(alive)),
      (left) => left.length === 0,
      10_000,
      'their processes gone',
    );
  });

  test('deleting a version ends its environments and leaves $LATEST’s warm', async () => {
    await deploy(client, 'del-version', NOOP);
    const { Version } = await client.send(
      new PublishVersionCommand({ FunctionName: 'del-version' }),
    );
    const before = environments().ids;
    await invokeJson(client, `del-version:${Version ?? ''}`, {});
    const versionEnv = new Set([...environments().ids].filter((id) => !before.has(id)));
    assert.equal(versionEnv.size, 1);
    await invokeJson(client, 'del-version', {});
    const both = environments().ids;
    assert.ok(
      [...versionEnv].every((id) => both.has(id)),
      'a version and $LATEST keep theirs',
    );
    await client.send(
      new DeleteFunctionCommand({ FunctionName: 'del-version', Qualifier: Version }),
    );
    await gone(versionEnv, 'the deleted version’s environment ended');
    const latest = await invokeJson(client, 'del-version', {}, { LogType: 'Tail' });
    assert.doesNotMatch(latest.log, /Init Duration/, '$LATEST is still warm');
  });

  test('an alias moved off a version ends that version’s idle environment; a routed one stays', async () => {
    await deploy(client, 'del-alias', NOOP);
    const publish = async () =>
      (await client.send(new PublishVersionCommand({ FunctionName: 'del-alias' }))).Version ?? '';
    const v1 = await publish();
    await client.send(
      new UpdateFunctionConfigurationCommand({ FunctionName: 'del-alias', Description: 'two' }),
    );
    await waitUntilFunctionUpdatedV2(
      { client, maxWaitTime: 60, minDelay: 1, maxDelay: 1 },
      { FunctionName: 'del-alias' },
    );
    const v2 = await publish();
    await client.send(
      new CreateAliasCommand({ FunctionName: 'del-alias', Name: 'live', FunctionVersion: v1 }),
    );
    await client.send(
      new CreateAliasCommand({ FunctionName: 'del-alias', Name: 'also', FunctionVersion: v1 }),
    );
    const before = environments().ids;
    await invokeJson(client, 'del-alias:live', {});
    const v1Env = new Set([...environments().ids].filter((id) => !before.has(id)));
    assert.equal(v1Env.size, 1);
    // Another alias still routes to version 1: its environment stays warm.
    await client.send(
      new UpdateAliasCommand({ FunctionName: 'del-alias', Name: 'live', FunctionVersion: v2 }),
    );
    const warm = await invokeJson(client, 'del-alias:also', {}, { LogType: 'Tail' });
    assert.doesNotMatch(warm.log, /Init Duration/, 'version 1 is still routed, and warm');
    await client.send(new DeleteAliasCommand({ FunctionName: 'del-alias', Name: 'also' }));
    await gone(v1Env, 'the environment of the version no alias routes to ended');
    // It can still be invoked by number: it starts anew.
    const again = await invokeJson(client, `del-alias:${v1}`, {}, { LogType: 'Tail' });
    assert.equal(again.text, '"ok"');
    assert.match(again.log, /Init Duration/);
  });

  test('a busy environment completes its invocation, then ends', async () => {
    await deploy(client, 'del-busy', {
      'index.mjs':
        'export const handler = async () => { await new Promise((r) => setTimeout(r, 1500)); return "done"; };',
    });
    const before = environments().ids;
    const running = client.send(new InvokeCommand({ FunctionName: 'del-busy' }));
    const busy = await poll(
      () => Promise.resolve(new Set([...environments().ids].filter((id) => !before.has(id)))),
      (ids) => ids.size === 1,
      10_000,
      'the environment started',
    );
    await client.send(new DeleteFunctionCommand({ FunctionName: 'del-busy' }));
    const answer = await running;
    assert.equal(answer.FunctionError, undefined, Buffer.from(answer.Payload ?? []).toString());
    assert.equal(Buffer.from(answer.Payload ?? []).toString(), '"done"');
    await gone(busy, 'the busy environment ended after its invocation');
  });
});
