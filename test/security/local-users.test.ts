/**
 * Finding 6: other local users reached functions. Runtime sockets were 0666 in 0711 folders,
 * environment ids were visible in world-readable log file names, and logs and extracted code were
 * world-readable: a second local user posted to another environment's Runtime API. Now only root
 * (the server) and the sandbox group (the jails) may enter the run folder and the data directory
 * or open a socket, and logs are root's alone.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { poll } from '../helpers/poll.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

/** Tries each operation and prints `{path: "ok" | error code}`. */
const PROBE = `
const fs = require('fs');
const net = require('net');
const [sockets, dirs, files] = JSON.parse(process.argv[1]);
const out = {};
const connect = (path) => new Promise((resolve) => {
  const s = net.connect(path);
  s.once('connect', () => { s.destroy(); resolve('ok'); });
  s.once('error', (e) => resolve(e.code));
});
(async () => {
  for (const path of sockets) out[path] = await connect(path);
  for (const path of dirs) { try { fs.readdirSync(path); out[path] = 'ok'; } catch (e) { out[path] = e.code; } }
  for (const path of files) { try { fs.readFileSync(path); out[path] = 'ok'; } catch (e) { out[path] = e.code; } }
  process.stdout.write(JSON.stringify(out));
})();
`;

const NOBODY = 65534;

describe('another local user reaches nothing of Lamina', () => {
  const dir = tempDir();
  const dataDir = join(dir.path, 'data');
  let server: ServerProcess;
  let client: LambdaClient;
  let targets: { sockets: string[]; dirs: string[]; files: string[] };

  before(async () => {
    server = await startServer({ dataDir });
    client = lambdaClient(server.endpoint);
    await deploy(client, 'target', {
      'index.mjs': 'export const handler = async () => { console.log("secret log"); return 1; };',
    });
    await invokeJson(client, 'target', {});
    const pid = server.child.pid as number;
    const runName = readdirSync(tmpdir()).find((name) => name.startsWith(`lamina-${pid}-`));
    assert.ok(runName !== undefined, 'no run folder');
    const runDir = join(tmpdir(), runName);
    const envs = readdirSync(join(runDir, 'envs')).map((id) => join(runDir, 'envs', id));
    assert.ok(envs.length > 0);
    // `.empty` is the blank lower layer of the directory views; the others are unpacked zips.
    const tree = readdirSync(join(dataDir, 'code', 'trees')).find((name) => !name.startsWith('.'));
    assert.ok(tree !== undefined, 'no code tree');
    // Log lines are written in batches off the invoke path: wait for the group's folder.
    const [logGroup] = await poll(
      () =>
        Promise.resolve(
          existsSync(join(dataDir, 'logs')) ? readdirSync(join(dataDir, 'logs')) : [],
        ),
      (groups) => groups.length > 0,
      10_000,
      'a log group folder',
    );
    assert.ok(logGroup !== undefined);
    targets = {
      sockets: envs.flatMap((env) =>
        ['runtime.sock', 'api.sock', 'inbound.sock'].map((name) => join(env, name)),
      ),
      dirs: [
        runDir,
        join(runDir, 'envs'),
        dataDir,
        join(dataDir, 'logs'),
        join(dataDir, 'logs', logGroup),
      ],
      files: [
        join(dataDir, 'code', 'trees', tree, 'index.mjs'),
        join(dataDir, 'lamina.db'),
        join(dataDir, 'credentials.json'),
      ],
    };
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  function probe(uid: number, gid: number): Record<string, string> {
    const output = execFileSync(
      process.execPath,
      ['-e', PROBE, JSON.stringify(Object.values(targets))],
      {
        uid,
        gid,
        encoding: 'utf8',
      },
    );
    return JSON.parse(output) as Record<string, string>;
  }

  test('sockets, logs, code and the database are closed to another user', () => {
    assert.equal(process.getuid?.(), 0, 'this test needs root (to act as another user)');
    const seen = probe(NOBODY, NOBODY);
    for (const [path, result] of Object.entries(seen)) {
      // credentials.json need not exist (the keys come from the environment here).
      if (path.endsWith('credentials.json') && result === 'ENOENT') continue;
      assert.equal(result, 'EACCES', `${path}: ${result}`);
    }
  });

  test('the same probe as root reaches them all (the probe can tell)', () => {
    const seen = probe(0, 0);
    for (const [path, result] of Object.entries(seen)) {
      if (path.endsWith('credentials.json')) continue;
      // A pre-started environment may have been replaced since the paths were listed.
      if (path.endsWith('.sock') && result === 'ENOENT') continue;
      assert.equal(result, 'ok', `${path}: ${result}`);
    }
    assert.ok(
      Object.entries(seen).some(([path, result]) => path.endsWith('.sock') && result === 'ok'),
    );
  });

  test('the function still runs: the jail reaches its code and sockets through its group', async () => {
    assert.equal((await invokeJson(client, 'target', {})).body, 1);
  });
});
