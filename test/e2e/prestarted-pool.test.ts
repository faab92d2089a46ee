/**
 * Pre-started generic sandboxes: a cold start specialises one (the function sees only its own
 * code, variables and memory limit), the pool refills behind it, functions that change how the
 * runtime boots start their own, Python has its pool too, and a size of 0 turns it off.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { useServer } from '../helpers/server-suite.js';
import { poll } from '../helpers/poll.js';
import { signedJson } from '../helpers/signed-fetch.js';
import { environmentCgroupBases, environmentCgroups } from '../helpers/server-cgroups.js';

interface PoolStatus {
  Runtimes: { Command: string; Size: number; Ready: number; Specialisations: number }[];
}

const INSPECT = {
  'index.mjs':
    "import { readdirSync } from 'node:fs';\n" +
    'export const handler = async () => ({\n' +
    "  files: readdirSync('/var/task').sort(),\n" +
    '  cwd: process.cwd(),\n' +
    '  url: import.meta.url,\n' +
    '  name: process.env.AWS_LAMBDA_FUNCTION_NAME,\n' +
    '  memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,\n' +
    '  mine: process.env.MY_SETTING,\n' +
    '  prestartFlag: process.env.LAMINA_PRESTARTED ?? null,\n' +
    '  nodeOptions: process.env.NODE_OPTIONS ?? null,\n' +
    '  execArgv: process.execArgv,\n' +
    '});\n',
  'data/extra.txt': 'linked',
};

const GREEDY = {
  'index.js':
    'exports.handler = async () => {\n' +
    '  const keep = [];\n' +
    '  for (let i = 0; i < 64; i += 1) keep.push(Buffer.alloc(8 * 1024 * 1024, 1));\n' +
    '  return keep.length;\n' +
    '};\n',
};

const PYTHON = {
  'app.py':
    'import os\n' +
    'def handler(event, context):\n' +
    "    return {'name': os.environ['AWS_LAMBDA_FUNCTION_NAME'], 'files': sorted(os.listdir('.')),\n" +
    "            'flag': os.environ.get('LAMINA_PRESTARTED')}\n",
};

/** The CPU weight of each environment cgroup of a server, by environment id (v1 shares, v2 weight). */
function cpuWeights(serverPid: number): Map<string, number> {
  const weights = new Map<string, number>();
  for (const dir of environmentCgroups(environmentCgroupBases(serverPid), serverPid)) {
    const file = ['cpu.shares', 'cpu.weight'].map((name) => join(dir, name)).find(existsSync);
    if (file === undefined) continue;
    const id = dir.slice(dir.lastIndexOf('.') + 1);
    weights.set(id, Number(readFileSync(file, 'utf8')));
  }
  return weights;
}

function nodeFamily(status: PoolStatus) {
  return status.Runtimes.find((r) => r.Command.includes('/var/runtime/index.mjs'));
}

describe('pre-started sandbox pool', () => {
  const suite = useServer({ args: ['--prestart-pool-size', '1'] });
  const status = async () =>
    (await signedJson(suite.server.endpoint, 'GET', '/lamina/2026-11-01/prestarted-sandboxes'))
      .json as PoolStatus;

  test('a cold start specialises a pre-started sandbox, which the pool then replaces', async () => {
    const client = suite.client;
    const booted = await poll(status, (s) => nodeFamily(s)?.Ready === 1);
    assert.equal(nodeFamily(booted)?.Size, 1);
    const before = nodeFamily(booted)?.Specialisations ?? 0;

    await deploy(client, 'specialised', INSPECT, {
      memorySize: 256,
      environment: { MY_SETTING: 'mine' },
    });
    const { body, log } = await invokeJson(client, 'specialised', {}, { LogType: 'Tail' });
    assert.deepEqual(body, {
      files: ['data', 'index.mjs'],
      cwd: '/var/task',
      url: 'file:///var/task/index.mjs',
      name: 'specialised',
      memory: '256',
      mine: 'mine',
      prestartFlag: null,
      nodeOptions: null,
      execArgv: [],
    });
    assert.match(log, /Init Duration: /);
    const after = await poll(status, (s) => nodeFamily(s)?.Ready === 1);
    assert.equal(nodeFamily(after)?.Specialisations, before + 1);
  });

  test('a pre-started sandbox boots at the background CPU weight, and works at the normal one', async () => {
    const pid = suite.server.child.pid as number;
    await poll(status, (s) => nodeFamily(s)?.Ready === 1);
    const waiting = cpuWeights(pid);
    assert.ok(waiting.size > 0, 'no cpu cgroups (the suite runs as root with a cpu controller)');
    const background = [...waiting].filter(([, weight]) => weight === 16 || weight === 2);
    assert.ok(background.length > 0, `weights ${JSON.stringify([...waiting])}`);
    await deploy(suite.client, 'weighted', INSPECT);
    await invokeJson(suite.client, 'weighted');
    // The sandbox that was waiting now serves the function, at the kernel's default weight.
    const working = cpuWeights(pid);
    const specialised = background.filter(([id]) => {
      const now = working.get(id);
      return now === 1024 || now === 100;
    });
    assert.equal(
      specialised.length,
      1,
      `before ${JSON.stringify(background)}, after ${JSON.stringify([...working])}`,
    );
  });

  test("a specialised sandbox has the function's memory limit", async () => {
    const client = suite.client;
    await poll(status, (s) => nodeFamily(s)?.Ready === 1);
    const before = nodeFamily(await status())?.Specialisations ?? 0;
    await deploy(client, 'greedy', GREEDY, { memorySize: 128 });
    const result = await client.send(new InvokeCommand({ FunctionName: 'greedy' }));
    assert.equal(result.FunctionError, 'Unhandled');
    const payload = JSON.parse(Buffer.from(result.Payload ?? []).toString()) as {
      errorType: string;
      errorMessage: string;
    };
    assert.equal(payload.errorType, 'Runtime.ExitError');
    assert.match(payload.errorMessage, /signal: killed/);
    assert.equal(nodeFamily(await status())?.Specialisations, before + 1);
  });

  test('a function that sets NODE_OPTIONS boots its own sandbox, with the option applied', async () => {
    const client = suite.client;
    await poll(status, (s) => nodeFamily(s)?.Ready === 1);
    const before = nodeFamily(await status())?.Specialisations ?? 0;
    await deploy(client, 'own-boot', INSPECT, {
      environment: { NODE_OPTIONS: '--max-old-space-size=100', MY_SETTING: 'x' },
    });
    const { body } = await invokeJson(client, 'own-boot');
    assert.equal((body as { nodeOptions: string }).nodeOptions, '--max-old-space-size=100');
    assert.equal(nodeFamily(await status())?.Specialisations, before);
  });

  test('Python gets a pool once a Python function has started', async () => {
    const client = suite.client;
    await deploy(client, 'py-one', PYTHON, { runtime: 'python3.11', handler: 'app.handler' });
    await invokeJson(client, 'py-one');
    const python = (s: PoolStatus) => s.Runtimes.find((r) => r.Command.includes('python3.11'));
    await poll(status, (s) => python(s)?.Ready === 1);
    await deploy(client, 'py-two', PYTHON, { runtime: 'python3.11', handler: 'app.handler' });
    const { body } = await invokeJson(client, 'py-two');
    assert.deepEqual(body, { name: 'py-two', files: ['app.py'], flag: null });
    assert.equal(python(await status())?.Specialisations, 1);
  });
});

describe('pre-started sandbox pool turned off', () => {
  const suite = useServer({ args: ['--prestart-pool-size', '0'] });

  test('--prestart-pool-size 0 keeps no sandboxes and cold starts still work', async () => {
    const response = await signedJson(
      suite.server.endpoint,
      'GET',
      '/lamina/2026-11-01/prestarted-sandboxes',
    );
    assert.deepEqual(response.json, { Runtimes: [] });
    await deploy(suite.client, 'no-pool', INSPECT, { environment: { MY_SETTING: 'y' } });
    const { body } = await invokeJson(suite.client, 'no-pool');
    assert.equal((body as { mine: string }).mine, 'y');
  });
});
