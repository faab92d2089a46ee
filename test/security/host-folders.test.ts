/**
 * Finding 2: the server followed a symlink planted by a function, as root. During init the jail
 * could write to the host folder bound at /run/lamina/inbound: a bootstrap replaced inbound.sock
 * with a symlink to a root-only host socket and the server connected to it; a descriptor opened
 * before the folder was sealed let a background process write 1 GiB into the host's /tmp. Now no
 * host folder is writable from a jail at any moment: the three sockets under /run/lamina are the
 * platform's, bound read-only, and the inbound relay connects out to the platform instead of
 * listening in a folder the platform would open.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

/**
 * From init (before any sealing could happen) and from the handler: every way the old attack
 * used, and a list of the jail's writable mounts.
 */
const ATTACKER = `
import fs from 'node:fs';
const attempt = (fn) => { try { fn(); return 'done'; } catch (e) { return e.code; } };
const attacks = (target) => ({
  replaceSocket: attempt(() => { fs.rmSync('/run/lamina/inbound.sock'); fs.symlinkSync(target, '/run/lamina/inbound.sock'); }),
  plantLink: attempt(() => fs.symlinkSync(target, '/run/lamina/evil.sock')),
  plantFile: attempt(() => fs.writeFileSync('/run/lamina/evil', 'x')),
  writeRuntimeSocket: attempt(() => fs.writeFileSync('/run/lamina/runtime.sock', 'x')),
});
const atInit = attacks(process.env.TARGET);
const writableMounts = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').filter(Boolean)
  .map((line) => { const f = line.split(' '); return { point: f[4], options: f[5], type: f[f.indexOf('-') + 1] }; })
  .filter((m) => m.options.split(',').includes('rw'));
export const handler = async () => ({ atInit, atInvoke: attacks(process.env.TARGET), writable: writableMounts() });
`;

describe('no host folder is writable from a jail', () => {
  const dir = tempDir();
  const secretDir = mkdtempSync(join(tmpdir(), 'lamina-secret-'));
  const secretSocket = join(secretDir, 'root-only.sock');
  const secret = createServer();
  let connections = 0;
  let server: ServerProcess;
  let client: LambdaClient;

  before(async () => {
    secret.on('connection', (socket) => {
      connections += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => secret.listen(secretSocket, resolve));
    server = await startServer({ dataDir: join(dir.path, 'data') });
    client = lambdaClient(server.endpoint);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    secret.close();
    rmSync(secretDir, { recursive: true, force: true });
    dir.remove();
  });

  test('the sockets cannot be replaced, nothing can be planted, and only /tmp and /dev/shm are writable', async () => {
    await deploy(
      client,
      'attacker',
      { 'index.mjs': ATTACKER },
      { environment: { TARGET: secretSocket } },
    );
    const report = (await invokeJson(client, 'attacker', {})).body as {
      atInit: Record<string, string>;
      atInvoke: Record<string, string>;
      writable: Array<{ point: string; options: string; type: string }>;
    };
    for (const phase of [report.atInit, report.atInvoke]) {
      for (const [attack, result] of Object.entries(phase))
        // (ENXIO: a socket cannot be opened as a file at all.)
        assert.ok(['EROFS', 'EACCES', 'EPERM', 'ENXIO'].includes(result), `${attack}: ${result}`);
    }
    // Writable: the environment's own /tmp and /dev/shm, and the kernel's own /proc, ptys and
    // device nodes (/dev/null and the like).
    const points = report.writable
      .filter((m) => m.type !== 'devtmpfs')
      .map((m) => m.point)
      .sort();
    assert.deepEqual(
      points.filter((point) => !['/proc', '/dev/pts'].includes(point)),
      ['/dev/shm', '/tmp'],
      JSON.stringify(report.writable),
    );
    // Telemetry and everything else the platform does reached nothing the function named.
    assert.equal(connections, 0);
  });
});
