/**
 * Finding 7: output without newlines slowed the server quadratically (80 MB without a newline
 * took 65 s and 860 MB, and other functions' invokes slowed from 0.7 s to 6 s). Now lines are
 * split in linear time and cut at 256 KB, as Lambda cuts log events, and no partial line grows
 * without bound; a function that prints faster than the logs are written is slowed down instead
 * of filling the server's memory.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  memoryReturns,
  peakRssDuring,
  prepareVictim,
  rssMiB,
  VICTIM_P99_LIMIT_MS,
  type Victim,
} from '../helpers/attack-harness.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
import { logGroupFolder } from '../../src/observability/log-file-names.js';

const MB = 1024 * 1024;

/** Writes `mb` MiB to stdout without a newline (then one), waiting for the pipe as it goes. */
const FLOOD = `
const chunk = 'z'.repeat(1024 * 1024);
const write = (text) => new Promise((resolve) => { if (process.stdout.write(text)) resolve(); else process.stdout.once('drain', resolve); });
exports.handler = async ({ mb }) => {
  for (let i = 0; i < mb; i += 1) await write(chunk);
  await write('\\nafter the flood\\n');
  return 'flooded';
};`;

describe('output without newlines costs the server linear time and bounded memory', () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  let server: ServerProcess;
  let client: LambdaClient;
  let victim: Victim;

  before(async () => {
    server = await startServer({ dataDir });
    client = lambdaClient(server.endpoint);
    await deploy(client, 'flood', { 'index.js': FLOOD }, { timeout: 120 });
    victim = await prepareVictim(client);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  test('80 MB without a newline: others stay fast, lines are cut at 256 KB, memory comes back', async () => {
    const pid = server.child.pid as number;
    const baselineMiB = rssMiB(pid);
    const { result, p99Ms } = await victim.during(() =>
      peakRssDuring(pid, () => invokeJson(client, 'flood', { mb: 80 })),
    );
    assert.equal(result.result.body, 'flooded');
    assert.ok(p99Ms < VICTIM_P99_LIMIT_MS, `victim p99 ${p99Ms.toFixed(1)} ms`);
    // The store holds at most 4 MB of unwritten lines; its JSON doubles the bytes at most.
    assert.ok(result.peakMiB - baselineMiB < 200, `grew ${result.peakMiB - baselineMiB} MiB`);
    await memoryReturns(pid, baselineMiB);

    // Stop the server so every line is on disk, then read the function's log.
    await server.stop();
    const folder = join(dataDir, 'logs', logGroupFolder('/aws/lambda/flood'));
    const messages = readdirSync(folder).flatMap((file) =>
      readFileSync(join(folder, file), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { m: string }).m),
    );
    const flood = messages.filter((m) => m.startsWith('z'));
    assert.equal(flood.join('').length, 80 * MB);
    assert.ok(flood.every((m) => Buffer.byteLength(m) <= 256 * 1024));
    assert.equal(flood.length, (80 * MB) / (256 * 1024));
    assert.ok(messages.includes('after the flood'));
  });
});
