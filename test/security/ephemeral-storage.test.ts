/**
 * Disk-backed ephemeral storage, for real (needs root: it formats and mounts file systems). Each
 * environment's /tmp and /dev/shm hold EphemeralStorage.Size and no more, one environment cannot
 * fill another's, writing does not count against the memory limit, other host users cannot reach
 * it, and nothing is left behind: not by `remove`, not by a server that died.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, watch } from 'node:fs';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  rmdir,
  stat,
  statfs,
  writeFile,
} from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  openEphemeralStorage,
  type EphemeralStorageProvider,
} from '../../src/sandbox/ephemeral-storage.js';
import { mountLoopFilesystem } from '../../src/sandbox/loop-filesystem.js';
import { IMAGE_SUFFIX } from '../../src/sandbox/storage-leftovers.js';

const MiB = 1024 * 1024;
const SIZE = 512 * MiB;
/** The jail's host uid and gid (nobody, nogroup). */
const NOBODY = 65534;

interface Outcome {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stderr: string;
}

/** Runs `args` to its end, keeping its stderr. */
function run(args: readonly string[], cwd?: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const [file = '', ...rest] = args;
    const child = spawn(file, rest, { stdio: ['ignore', 'ignore', 'pipe'], cwd });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

/** `args` as an unprivileged host user, by default the jail's (nobody, nogroup). */
function as(args: readonly string[], uid = NOBODY, gid = NOBODY): readonly string[] {
  return ['/usr/bin/setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...args];
}

/** dd from /dev/zero into `file`, `megabytes` MiB or until it fails. */
function dd(file: string, megabytes?: number): readonly string[] {
  const count = megabytes === undefined ? [] : [`count=${megabytes}`];
  return ['/usr/bin/dd', 'if=/dev/zero', `of=${file}`, 'bs=1M', ...count, 'status=none'];
}

async function mountPointsUnder(root: string): Promise<string[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((point) => point.startsWith(`${root}/`));
}

/** Backing files of the bound loop devices that lie under `root`. */
async function loopFilesUnder(root: string): Promise<string[]> {
  const files: string[] = [];
  for (const device of await readdir('/sys/block')) {
    if (!device.startsWith('loop')) continue;
    const backing = await readFile(`/sys/block/${device}/loop/backing_file`, 'utf8').catch(
      () => '',
    );
    if (backing.startsWith(`${root}/`)) files.push(backing.trim());
  }
  return files;
}

/**
 * Resolves once `image` (an existing file) is gone for good: unlinked and closed by its last user,
 * its loop device included (inotify's IN_DELETE_SELF, which fs.watch reports as `rename`). An
 * unmount alone does not prove it: a jail starting anywhere on the host copies every mount into
 * its new namespace for a moment, and that copy keeps the loop device bound until it is dropped.
 * Rejects after 30 s, as a failure.
 */
function released(image: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      watcher.close();
      reject(new Error(`${image} is still in use after 30 s`));
    }, 30_000);
    const watcher = watch(image, (event) => {
      if (event !== 'rename') return;
      clearTimeout(deadline);
      watcher.close();
      resolve();
    });
  });
}

/** The mount point and image of a storage, from its tmp folder (`<root>/<name>/tmp`). */
function whereIs(tmpDir: string): { mountPoint: string; image: string } {
  const mountPoint = dirname(tmpDir);
  return { mountPoint, image: mountPoint + IMAGE_SUFFIX };
}

async function availableBytes(folder: string): Promise<number> {
  const { bavail, bsize } = await statfs(folder);
  return bavail * bsize;
}

/**
 * A memory cgroup of `bytes` (no swap) to run a command in; cgroup v1 (one hierarchy per
 * controller) or v2. `inside` prefixes a command so that it runs in the cgroup from its start.
 */
async function memoryCgroup(name: string, bytes: number) {
  const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
  const dir = v2 ? `/sys/fs/cgroup/${name}` : `/sys/fs/cgroup/memory/${name}`;
  if (v2) await writeFile('/sys/fs/cgroup/cgroup.subtree_control', '+memory');
  await mkdir(dir);
  if (v2) {
    await writeFile(join(dir, 'memory.max'), String(bytes));
    if (existsSync(join(dir, 'memory.swap.max')))
      await writeFile(join(dir, 'memory.swap.max'), '0');
  } else {
    await writeFile(join(dir, 'memory.limit_in_bytes'), String(bytes));
    if (existsSync(join(dir, 'memory.memsw.limit_in_bytes')))
      await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), String(bytes));
  }
  return {
    inside: (args: readonly string[]) => [
      '/bin/sh',
      '-c',
      'echo $$ > "$1" && shift && exec "$@"',
      'sh',
      join(dir, 'cgroup.procs'),
      ...args,
    ],
    oomKills: async () => {
      const text = await readFile(join(dir, v2 ? 'memory.events' : 'memory.oom_control'), 'utf8');
      return Number(/^oom_kill (\d+)$/m.exec(text)?.[1] ?? NaN);
    },
    remove: () => rmdir(dir),
  };
}

describe('disk-backed ephemeral storage (as root)', () => {
  let root = '';
  let provider: EphemeralStorageProvider;
  const errors: unknown[] = [];

  before(async () => {
    assert.equal(
      process.getuid?.(),
      0,
      'these tests format and mount file systems: run them as root',
    );
    // On disk, reachable by nobody (/var/tmp is 1777), and never the same for two runs.
    root = await mkdtemp('/var/tmp/lamina-ephemeral-');
    provider = await openEphemeralStorage({
      root,
      poolSize: 1,
      onError: (error) => errors.push(error),
    });
    assert.equal(provider.limitation, undefined);
  });

  after(async () => {
    const images = (await readdir(root)).filter((name) => name.endsWith(IMAGE_SUFFIX));
    const gone = images.map((name) => released(join(root, name)));
    await provider.close();
    await Promise.all(gone);
    assert.deepEqual(await mountPointsUnder(root), [], 'a file system is still mounted');
    assert.deepEqual(await loopFilesUnder(root), [], 'a loop device is still bound');
    assert.deepEqual(await readdir(root), [], 'something is left in the storage folder');
    await rmdir(root);
  });

  test('a storage holds its size and little more; /dev/shm shares it; another is unaffected', async () => {
    const first = await provider.create('first', SIZE);
    const second = await provider.create('second', SIZE);
    assert.ok(first !== undefined && second !== undefined);
    try {
      assert.ok((await availableBytes(first.tmpDir)) >= SIZE);
      const fill = join(first.tmpDir, 'fill');
      const filled = await run(as(dd(fill)));
      assert.equal(filled.code, 1);
      assert.match(filled.stderr, /No space left on device/);
      const written = (await stat(fill)).size;
      assert.ok(written >= SIZE, `only ${written} bytes fit`);
      assert.ok(written <= SIZE + 8 * MiB, `${written} bytes fit`);

      const shm = await run(as(dd(join(first.shmDir, 'segment'), 1)));
      assert.equal(shm.code, 1, '/dev/shm has room although /tmp is full');
      assert.match(shm.stderr, /No space left on device/);

      assert.ok((await availableBytes(second.tmpDir)) >= SIZE);
      const other = await run(as(dd(join(second.tmpDir, 'data'), 16)));
      assert.equal(other.code, 0, other.stderr);
      const otherShm = await run(as(dd(join(second.shmDir, 'segment'), 16)));
      assert.equal(otherShm.code, 0, otherShm.stderr);
    } finally {
      await first.remove();
      await second.remove();
    }
  });

  test("the folders are 1777 and root's, on a nosuid,nodev mount only the jail's group reaches", async () => {
    const storage = await provider.create('modes', SIZE);
    assert.ok(storage !== undefined);
    try {
      for (const folder of [storage.tmpDir, storage.shmDir]) {
        const stats = await stat(folder);
        assert.equal(stats.mode & 0o7777, 0o1777, folder);
        assert.equal(stats.uid, 0, folder);
        assert.deepEqual(await readdir(folder), []);
      }
      const { mountPoint } = whereIs(storage.tmpDir);
      const line = (await readFile('/proc/self/mountinfo', 'utf8'))
        .split('\n')
        .find((entry) => entry.split(' ')[4] === mountPoint);
      const options = line?.split(' ')[5]?.split(',') ?? [];
      assert.ok(options.includes('nosuid') && options.includes('nodev'), line);

      const stranger = await run(as(['/usr/bin/touch', join(storage.tmpDir, 'x')], 65533, 65533));
      assert.notEqual(stranger.code, 0, 'a host user outside the jail group reached /tmp');
      assert.match(stranger.stderr, /Permission denied/);
    } finally {
      await storage.remove();
    }
  });

  test('remove leaves no mount, no loop device and no file, and can be repeated', async () => {
    const storage = await provider.create('large', 10_240 * MiB);
    assert.ok(storage !== undefined);
    const { mountPoint, image } = whereIs(storage.tmpDir);
    assert.ok((await availableBytes(storage.tmpDir)) >= 10_240 * MiB);
    // The image is sparse: the host's disk is used as /tmp fills, not up front.
    assert.ok((await stat(image)).blocks * 512 < 32 * MiB);
    const wrote = await run(as(dd(join(storage.tmpDir, 'data'), 8)));
    assert.equal(wrote.code, 0, wrote.stderr);

    const gone = released(image);
    await storage.remove();
    await storage.remove();
    assert.ok(!existsSync(mountPoint) && !existsSync(image));
    await gone;
    assert.ok(!(await mountPointsUnder(root)).includes(mountPoint));
    assert.ok(!(await loopFilesUnder(root)).some((file) => file.startsWith(image)));
  });

  test('a busy file system is detached at once and freed when its last user ends', async () => {
    const storage = await provider.create('busy', SIZE);
    assert.ok(storage !== undefined);
    const { mountPoint, image } = whereIs(storage.tmpDir);
    // A process whose working folder is in /tmp keeps the file system busy until it ends.
    const holder = spawn('/usr/bin/cat', [], {
      cwd: storage.tmpDir,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    const ended = new Promise((resolve) => holder.once('exit', resolve));
    const gone = released(image);
    try {
      await new Promise((resolve, reject) => holder.once('spawn', resolve).once('error', reject));
      await storage.remove();
      assert.ok(!existsSync(mountPoint) && !existsSync(image));
      assert.ok(!(await mountPointsUnder(root)).includes(mountPoint));
      const held = await loopFilesUnder(root);
      assert.ok(
        held.some((file) => file.startsWith(image)),
        'the file system was not in use',
      );
    } finally {
      holder.stdin.end();
      await ended;
    }
    await gone;
    const loops = await loopFilesUnder(root);
    assert.ok(!loops.some((file) => file.startsWith(image)), loops.join(' '));
  });

  test('writing 400 MiB in a 128 MiB memory cgroup does not OOM-kill the writer', async () => {
    // (Into a tmpfs it does: tmpfs pages are charged to the cgroup and cannot be written back.)
    const storage = await provider.create('memory', SIZE);
    assert.ok(storage !== undefined);
    const cgroup = await memoryCgroup(`lamina-ephemeral-test-${process.pid}`, 128 * MiB);
    try {
      const wrote = await run(cgroup.inside(as(dd(join(storage.tmpDir, 'data'), 400))));
      assert.deepEqual([wrote.code, wrote.signal], [0, null], wrote.stderr);
      assert.equal(await cgroup.oomKills(), 0);
      assert.equal((await stat(join(storage.tmpDir, 'data'))).size, 400 * MiB);
    } finally {
      await cgroup.remove();
      await storage.remove();
    }
  });

  test('the sweep removes what a dead server left, and nothing else', async () => {
    // A pid that no longer runs: a child that has exited and been reaped.
    const child = spawn('/usr/bin/true');
    await new Promise((resolve) => child.once('exit', resolve));
    const dead = child.pid;
    assert.ok(dead !== undefined);
    const entry = (name: string) => join(root, `${dead}.${name}`);

    // What a server killed with -9 leaves: a mounted storage its jail wrote to, an image it had
    // not formatted yet, an empty mount point; and what the sweep must not touch.
    const mounted = await mountLoopFilesystem(root, `${dead}.mounted`, SIZE, NOBODY);
    const jailWrote = await run(as(dd(join(mounted, 'tmp', 'data'), 1)));
    assert.equal(jailWrote.code, 0, jailWrote.stderr);
    await writeFile(entry('unformatted.img'), '');
    await mkdir(entry('empty'));
    await mkdir(entry('full'));
    await writeFile(join(entry('full'), 'keep'), 'not ours to delete');
    await mkdir(join(root, '1.alive'));
    const ours = (await readdir(root)).filter((name) => name.startsWith(`${process.pid}.`));

    const gone = released(entry('mounted.img'));
    errors.length = 0;
    assert.equal(await provider.sweep(), 4);
    await gone;
    assert.deepEqual((await readdir(root)).sort(), [`${dead}.full`, '1.alive', ...ours].sort());
    assert.ok(!(await mountPointsUnder(root)).some((point) => point.startsWith(entry(''))));
    assert.ok(!(await loopFilesUnder(root)).some((file) => file.startsWith(entry(''))));
    // The folder that is not empty is reported, not deleted.
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as NodeJS.ErrnoException).code, 'ENOTEMPTY');

    await rm(entry('full'), { recursive: true });
    await rmdir(join(root, '1.alive'));
  });
});
