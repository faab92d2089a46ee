/**
 * A real container registry for tests: Debian's `docker-registry` (distribution 2.8) on a free
 * port, storing in a temporary folder, optionally behind htpasswd Basic auth (which distribution
 * serves without TLS too). Ready when its log says where it listens and `/v2/` answers; stop()
 * kills its process group and deletes its storage.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { poll } from './poll.js';

const run = promisify(execFile);
const BINARY = '/usr/bin/docker-registry';
const START_DEADLINE_MS = 20_000;

export interface TestRegistry {
  /** `ADDRESS:PORT`, e.g. `127.0.0.1:41234`. */
  readonly host: string;
  /** The registry's storage root (blobs under `docker/registry/v2/blobs/sha256/`). */
  readonly storageDir: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  /** Requires these Basic credentials for every request. */
  readonly htpasswd?: { readonly username: string; readonly password: string };
  /** The address to listen on; default 127.0.0.1. */
  readonly address?: string;
}

export async function startRegistry(options: RegistryOptions = {}): Promise<TestRegistry> {
  if (!existsSync(BINARY))
    throw new Error(
      `${BINARY} is missing: \`sh scripts/setup.sh --for-tests\` installs it (Debian package docker-registry)`,
    );
  const dir = await mkdtemp(join(tmpdir(), 'lamina-registry-'));
  const storageDir = join(dir, 'storage');
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${options.address ?? '127.0.0.1'}:0`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  if (options.htpasswd !== undefined) {
    const file = join(dir, 'htpasswd');
    const hash = await bcrypt(options.htpasswd.password);
    await writeFile(file, `${options.htpasswd.username}:${hash}\n`);
    lines.push('auth:', '  htpasswd:', '    realm: lamina-test', `    path: ${file}`);
  }
  const config = join(dir, 'config.yml');
  await writeFile(config, `${lines.join('\n')}\n`);

  const child = spawn(BINARY, ['serve', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  let log = '';
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const host = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`docker-registry did not start in ${START_DEADLINE_MS} ms: ${log}`)),
        START_DEADLINE_MS,
      );
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        const match = /listening on ([^\s"]+)"/.exec(log);
        if (match?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`docker-registry exited with ${String(code)} while starting: ${log}`));
      });
    });
    await poll(
      async () => {
        try {
          return (await fetch(`http://${host}/v2/`)).status;
        } catch {
          return 0;
        }
      },
      (status) => status === 200 || status === 401,
      START_DEADLINE_MS,
      `docker-registry at ${host} answering /v2/`,
    );
    return { host, storageDir, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A bcrypt hash (what distribution's htpasswd accepts), made by the C library's crypt(3). */
async function bcrypt(password: string): Promise<string> {
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const random = randomBytes(22);
  // The last salt character carries only 2 significant bits.
  const salt = [...random.subarray(0, 21)].map((byte) => alphabet[byte % 64]).join('');
  const last = '.Oeu'[(random[21] ?? 0) % 4] ?? '.';
  const { stdout } = await run('perl', [
    '-e',
    'print crypt($ARGV[0], $ARGV[1])',
    password,
    `$2b$05$${salt}${last}`,
  ]);
  if (!stdout.startsWith('$2b$'))
    throw new Error(`perl crypt() made no bcrypt hash (libxcrypt missing?): ${stdout}`);
  return stdout;
}
