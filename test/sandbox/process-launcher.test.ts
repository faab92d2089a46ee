/**
 * The process launcher starts programs from a process of its own: their pipes reach this process
 * directly (both ways), files are opened for them by path, their pid and exit (code or signal) come
 * back, a program that cannot start is a rejected launch, and when the launcher dies its programs
 * are reported killed and the next launch forks a new one.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ForkedProcessLauncher } from '../../src/sandbox/process-launcher.js';
import { tempDir } from '../helpers/server-process.js';

function readAll(socket: Socket | undefined): Promise<string> {
  assert.ok(socket !== undefined);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  return new Promise((resolve) => socket.once('end', () => resolve(text)));
}

/** The pids of this process's children running the launcher. */
function launcherPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return (
          ppid === process.pid &&
          readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('launcher-main.js')
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('the process launcher', () => {
  const dir = tempDir('lamina-launcher-');
  let launcher: ForkedProcessLauncher;

  before(() => {
    launcher = new ForkedProcessLauncher();
  });

  after(() => {
    launcher.close();
    dir.remove();
  });

  test('pipes both ways, a file by path, the environment, the pid and the exit code', async () => {
    const file = join(dir.path, 'given.txt');
    writeFileSync(file, 'from a file\n');
    const child = await launcher.launch(
      '/bin/sh',
      [
        '-c',
        'echo "out $GREETING"; echo err >&2; cat <&3; read line <&4; echo "got $line" >&5; echo $$; exit 7',
      ],
      {
        env: { GREETING: 'hello', PATH: '/usr/bin:/bin' },
        stdio: ['ignore', 'pipe', 'pipe', { path: file }, 'pipe', 'pipe'],
      },
    );
    assert.ok(child.pid > 0);
    const [out, err, five] = [
      readAll(child.stdio[1]),
      readAll(child.stdio[2]),
      readAll(child.stdio[5]),
    ];
    assert.equal(child.stdio[0], undefined);
    assert.equal(child.stdio[3], undefined);
    child.stdio[4]?.end('to the program\n');
    assert.deepEqual(await child.exited, { code: 7, signal: null });
    assert.equal(await out, `out hello\nfrom a file\n${child.pid}\n`);
    assert.equal(await err, 'err\n');
    assert.equal(await five, 'got to the program\n');
  });

  test('a signal is reported as the way it ended', async () => {
    const child = await launcher.launch('/bin/sleep', ['60'], {
      env: {},
      stdio: ['ignore', 'pipe'],
    });
    child.kill('SIGTERM');
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGTERM' });
    // Once it has ended, kill does nothing (its pid may belong to another process by then).
    child.kill('SIGKILL');
  });

  test('a program that cannot start, or a file that cannot be opened, is a rejected launch', async () => {
    await assert.rejects(
      launcher.launch('/nonexistent/program', [], { env: {}, stdio: ['ignore', 'pipe', 'pipe'] }),
      /ENOENT/,
    );
    await assert.rejects(
      launcher.launch('/bin/true', [], {
        env: {},
        stdio: ['ignore', { path: join(dir.path, 'missing') }],
      }),
      /ENOENT/,
    );
    const child = await launcher.launch('/bin/true', [], { env: {}, stdio: ['ignore'] });
    assert.deepEqual(await child.exited, { code: 0, signal: null });
  });

  test('when the launcher dies, its programs count as killed and the next launch forks a new one', async () => {
    const child = await launcher.launch('/bin/sleep', ['60'], {
      env: {},
      stdio: ['ignore', 'pipe'],
    });
    const [first] = launcherPids();
    assert.ok(first !== undefined, 'the launcher is a child of this process');
    process.kill(first, 'SIGKILL');
    assert.deepEqual(await child.exited, { code: null, signal: 'SIGKILL' });
    // The orphan is this test's to end (a sandbox would die with its parent).
    process.kill(child.pid, 'SIGKILL');
    const next = await launcher.launch('/bin/sh', ['-c', 'echo again'], {
      env: {},
      stdio: ['ignore', 'pipe'],
    });
    assert.equal(await readAll(next.stdio[1]), 'again\n');
    assert.deepEqual(await next.exited, { code: 0, signal: null });
    assert.notDeepEqual(launcherPids(), [first]);
  });

  test('what a program writes before it exits at once is never lost', async () => {
    const runs = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const child = await launcher.launch(
          '/bin/sh',
          ['-c', `echo "out ${i}"; echo "err ${i}" >&2; exit 3`],
          {
            env: {},
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        const texts = await Promise.all([readAll(child.stdio[1]), readAll(child.stdio[2])]);
        return { texts, exit: await child.exited };
      }),
    );
    runs.forEach((run, i) => {
      assert.deepEqual(run.texts, [`out ${i}\n`, `err ${i}\n`]);
      assert.deepEqual(run.exit, { code: 3, signal: null });
    });
  });

  test('many launches at once each get their own pipes', async () => {
    const children = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        launcher.launch('/bin/sh', ['-c', `read x <&4; echo "${i} $x"`], {
          env: {},
          stdio: ['ignore', 'pipe', 'ignore', 'ignore', 'pipe'],
        }),
      ),
    );
    const outputs = children.map((child) => readAll(child.stdio[1]));
    children.forEach((child, i) => child.stdio[4]?.end(`for ${i}\n`));
    assert.deepEqual(
      await Promise.all(outputs),
      children.map((_, i) => `${i} for ${i}\n`),
    );
  });
});
