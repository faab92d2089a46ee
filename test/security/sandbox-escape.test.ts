/**
 * Escape attempts from inside real functions: each must fail. The probes run in the function and
 * report what they saw; the test asserts on the report.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import type { ServerProcess } from '../helpers/server-process.js';
import { useServer } from '../helpers/server-suite.js';

type Probe = { ok: true; value: unknown } | { ok: false; code: string };

const PROBES = `
const fs = require('fs');
const net = require('net');
const cp = require('child_process');
const attempt = (fn) => { try { return { ok: true, value: fn() }; } catch (e) { return { ok: false, code: e.code || e.message }; } };
const connect = (port) => new Promise((resolve) => {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.once('connect', () => { socket.destroy(); resolve({ ok: true, value: port }); });
  socket.once('error', (e) => resolve({ ok: false, code: e.code }));
});
exports.handler = async () => ({
  writeTask: attempt(() => fs.writeFileSync('/var/task/pwned', 'x')),
  writeRoot: attempt(() => fs.writeFileSync('/pwned', 'x')),
  writeUsr: attempt(() => fs.writeFileSync('/usr/pwned', 'x')),
  readDataDir: attempt(() => fs.readdirSync(process.env.DATA_DIR)),
  readRoot: attempt(() => fs.readdirSync('/root')),
  readShadow: attempt(() => fs.readFileSync('/etc/shadow', 'utf8')),
  processes: attempt(() => fs.readdirSync('/proc').filter((n) => /^\\d+$/.test(n)).length),
  uid: attempt(() => process.getuid()),
  setuid: attempt(() => process.setuid(0)),
  tmp: attempt(() => fs.readdirSync('/tmp')),
  run: attempt(() => fs.readdirSync('/run/lamina')),
  writeRun: attempt(() => fs.writeFileSync('/run/lamina/pwned', 'x')),
  unshare: attempt(() => cp.execFileSync('/usr/bin/unshare', ['-r', 'id'], { stdio: 'pipe' }).toString()),
  mount: attempt(() => cp.execFileSync('/usr/bin/mount', ['-t', 'tmpfs', 'none', '/tmp'], { stdio: 'pipe' }).toString()),
  capabilities: attempt(() => fs.readFileSync('/proc/self/status', 'utf8').split('\\n').filter((l) => /^Cap(Eff|Prm)|NoNewPrivs|Seccomp:/.test(l))),
  laminaApi: await connect(Number(process.env.API_PORT)),
  postgres: await connect(5432),
  ownRuntimeApi: await connect(9001),
});
`;

describe('sandbox escape attempts', () => {
  const suite = useServer();
  let client: LambdaClient;
  let server: ServerProcess;
  before(() => {
    server = suite.server;
    client = suite.client;
  });

  test('files, processes, users, network and kernel interfaces stay out of reach', async () => {
    await deploy(
      client,
      'probe',
      { 'index.js': PROBES },
      {
        environment: { DATA_DIR: suite.dataDir, API_PORT: new URL(server.endpoint).port },
      },
    );
    const report = (await invokeJson(client, 'probe', {})).body as Record<string, Probe>;
    const failed = (name: string) => {
      const probe = report[name];
      assert.ok(
        probe !== undefined && !probe.ok,
        `${name} should have failed: ${JSON.stringify(probe)}`,
      );
      return probe.code;
    };
    assert.equal(failed('writeTask'), 'EROFS');
    assert.equal(failed('writeRoot'), 'EROFS');
    assert.equal(failed('writeUsr'), 'EROFS');
    // Nothing under /run/lamina is a host folder: the jail writes nowhere there.
    assert.equal(failed('writeRun'), 'EROFS');
    assert.equal(failed('readDataDir'), 'ENOENT');
    assert.equal(failed('readRoot'), 'ENOENT');
    assert.ok(['ENOENT', 'EACCES'].includes(failed('readShadow')));
    // uid 0 is not even mapped in the jail's user namespace.
    assert.ok(['EPERM', 'EINVAL'].includes(failed('setuid')));
    failed('unshare');
    failed('mount');
    assert.equal(failed('laminaApi'), 'ECONNREFUSED');
    assert.equal(failed('postgres'), 'ECONNREFUSED');
    assert.deepEqual(report['ownRuntimeApi'], { ok: true, value: 9001 });
    // Its own small process tree only: the runtime, the relay and the jail's init.
    const processes = report['processes'];
    assert.ok(
      processes?.ok === true && typeof processes.value === 'number' && processes.value < 10,
      JSON.stringify(processes),
    );
    assert.deepEqual(report['uid'], { ok: true, value: 993 });
    assert.deepEqual(report['tmp'], { ok: true, value: [] });
    // The three sockets the platform made: two relays out, and the inbound tunnels' socket.
    assert.deepEqual(report['run'], {
      ok: true,
      value: ['api.sock', 'inbound.sock', 'runtime.sock'],
    });
    const status = report['capabilities'];
    assert.ok(status?.ok === true && Array.isArray(status.value));
    const lines = status.value as string[];
    assert.ok(lines.includes('CapEff:\t0000000000000000'), lines.join(' | '));
    assert.ok(lines.includes('NoNewPrivs:\t1'), lines.join(' | '));
    assert.ok(lines.includes('Seccomp:\t2'), lines.join(' | '));
  });

  test('the pids limit stops a fork bomb', async () => {
    await deploy(
      client,
      'forker',
      {
        'index.js': `
const cp = require('child_process');
exports.handler = async () => {
  const children = [];
  let error = null;
  for (let i = 0; i < 1100 && error === null; i += 1) {
    try {
      const child = cp.spawn('/usr/bin/sleep', ['30'], { stdio: 'ignore' });
      await new Promise((resolve) => { child.once('spawn', resolve); child.once('error', (e) => { error = e.code; resolve(); }); });
      children.push(child);
    } catch (e) { error = e.code; }
  }
  for (const child of children) child.kill('SIGKILL');
  return { started: children.length, error };
};`,
      },
      { memorySize: 2048, timeout: 60 },
    );
    const result = (await invokeJson(client, 'forker', {})).body as {
      started: number;
      error: string | null;
    };
    assert.ok(result.started < 1024, JSON.stringify(result));
    assert.equal(result.error, 'EAGAIN');
  });

  test('/tmp is capped at EphemeralStorage', async () => {
    await deploy(
      client,
      'filler',
      {
        'index.js': `
const fs = require('fs');
exports.handler = async () => {
  const chunk = Buffer.alloc(8 * 1024 * 1024);
  const fd = fs.openSync('/tmp/fill', 'w');
  let written = 0;
  try { for (;;) { fs.writeSync(fd, chunk); written += chunk.length; } }
  catch (e) { return { written, code: e.code }; }
  finally { fs.closeSync(fd); fs.rmSync('/tmp/fill'); }
};`,
      },
      { memorySize: 2048, ephemeralStorage: 512 },
    );
    const result = (await invokeJson(client, 'filler', {})).body as {
      written: number;
      code: string;
    };
    assert.equal(result.code, 'ENOSPC');
    // Counted in whole 8 MB chunks (the last one partly written), over a file system that holds
    // the size and at most 8 MB more.
    assert.ok(result.written <= (512 + 8 + 8) * 1024 * 1024, JSON.stringify(result));
    assert.ok(result.written >= 504 * 1024 * 1024, JSON.stringify(result));
  });
});
