/**
 * A test host standing in for the internet: a network namespace joined to the host by a veth
 * pair, with a route from the host, running test-internet-host.js (HTTP and DNS). A second
 * address on it, in another block, lets a test deny one block and reach the other.
 */
import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './server-process.js';

export interface TestInternet {
  /** The host's address (HTTP on 80, DNS on 53). */
  readonly address: string;
  /** Its IPv6 address (a unique local one, routed from the host). */
  readonly address6: string;
  /** Its second address, in `secondBlock`. */
  readonly secondAddress: string;
  readonly secondBlock: string;
  stop(): void;
}

export async function startTestInternet(): Promise<TestInternet> {
  const tag = (process.pid % 46_000).toString(36);
  const namespace = `lmti-${tag}`;
  const hostSide = `lmti${tag}`;
  const k = process.pid % 16_384;
  const octets = `${Math.floor((k * 4) / 256)}.${(k * 4) % 256}`;
  const [third, fourth] = octets.split('.').map(Number) as [number, number];
  const base = `10.254.${third}`;
  const address = `${base}.${fourth + 2}`;
  const secondAddress = `10.253.${third}.${fourth + 2}`;
  const prefix6 = `fd5e:${k.toString(16)}:`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  // The link goes first and at once: a namespace's teardown is asynchronous, and its interfaces
  // would hold their names for the next test internet of this process.
  const remove = () => {
    for (const args of [
      ['link', 'delete', hostSide],
      ['netns', 'delete', namespace],
    ]) {
      try {
        ip(...args);
      } catch {
        // already gone (or none left by an earlier run)
      }
    }
  };
  remove();
  ip('netns', 'add', namespace);
  ip('link', 'add', hostSide, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace);
  ip('addr', 'add', `${base}.${fourth + 1}/30`, 'dev', hostSide);
  ip('-6', 'addr', 'add', `${prefix6}:1/64`, 'dev', hostSide, 'nodad');
  ip('link', 'set', hostSide, 'up');
  ip('route', 'add', `${secondAddress}/32`, 'via', address);
  ip('-n', namespace, 'link', 'set', 'lo', 'up');
  ip('-n', namespace, 'addr', 'add', `${address}/30`, 'dev', 'eth0');
  ip('-n', namespace, 'addr', 'add', `${secondAddress}/32`, 'dev', 'eth0');
  ip('-n', namespace, '-6', 'addr', 'add', `${prefix6}:2/64`, 'dev', 'eth0', 'nodad');
  ip('-n', namespace, 'link', 'set', 'eth0', 'up');
  ip('-n', namespace, 'route', 'add', 'default', 'via', `${base}.${fourth + 1}`);
  ip('-n', namespace, '-6', 'route', 'add', 'default', 'via', `${prefix6}:1`);
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      namespace,
      process.execPath,
      join(REPO_ROOT, 'dist/test/helpers/test-internet-host.js'),
      address,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the test internet host exited (${code})`)));
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
  });
  return {
    address,
    address6: `${prefix6}:2`,
    secondAddress,
    secondBlock: `10.253.${third}.0/24`,
    stop: () => {
      child.kill('SIGKILL');
      remove();
    },
  };
}
