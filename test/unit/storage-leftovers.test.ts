/** Which ephemeral storage a dead server left: entry names and the mount table. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mountPointsOf } from '../../src/sandbox/mountinfo.js';
import {
  isStorageId,
  leftovers,
  storageName,
  storageOwner,
} from '../../src/sandbox/storage-leftovers.js';

const MOUNTINFO = [
  '26 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard',
  '44 26 7:0 / /var/lib/lamina/tmp/41.abc rw,nosuid,nodev,noatime - ext4 /dev/loop0 rw',
  '45 26 7:1 / /var/lib/lamina/tmp/41.pool.3 rw,nosuid,nodev shared:7 - ext4 /dev/loop1 rw',
  '46 26 7:2 / /var/lib/lamina/tmp/77.def rw,nosuid,nodev - ext4 /dev/loop2 rw',
  '47 44 7:3 / /var/lib/lamina/tmp/41.abc/tmp/inner rw - ext4 /dev/loop3 rw',
  '48 26 7:4 / /srv/with\\040space/41.x rw - ext4 /dev/loop4 rw',
  '49 44 7:0 / /var/lib/lamina/tmp/41.abc rw,nosuid,nodev,noatime - ext4 /dev/loop0 rw',
  '',
].join('\n');

describe('mount table', () => {
  test('mount points in order, escapes undone, stacked mounts listed twice', () => {
    assert.deepEqual(mountPointsOf(MOUNTINFO), [
      '/',
      '/var/lib/lamina/tmp/41.abc',
      '/var/lib/lamina/tmp/41.pool.3',
      '/var/lib/lamina/tmp/77.def',
      '/var/lib/lamina/tmp/41.abc/tmp/inner',
      '/srv/with space/41.x',
      '/var/lib/lamina/tmp/41.abc',
    ]);
  });

  test('tabs, newlines and backslashes are escaped too; other characters are kept', () => {
    const line = '1 1 0:1 / /a\\011b\\012c\\134d/é rw - ext4 x rw';
    assert.deepEqual(mountPointsOf(line), ['/a\tb\nc\\d/é']);
  });
});

describe('storage names', () => {
  test('a name carries the server pid, for folders and images alike', () => {
    assert.equal(storageName(41, 'abc'), '41.abc');
    assert.equal(storageName(41, 'pool.3'), '41.pool.3');
    assert.equal(storageOwner('41.abc'), 41);
    assert.equal(storageOwner('41.abc.img'), 41);
    assert.equal(storageOwner('41.pool.3.img'), 41);
    for (const other of ['lost+found', '41', '41.', 'x.abc', '41.a b', '41.a.b.c', '0.abc'])
      assert.equal(storageOwner(other), undefined, other);
  });

  test('ids are letters, digits, - and _ (a dot would be taken for a pool label)', () => {
    assert.ok(isStorageId('0f3a9c_x-1'));
    for (const bad of ['', 'a.b', '../x', 'a/b', 'x'.repeat(101)]) assert.ok(!isStorageId(bad));
    assert.throws(() => storageName(41, '../x'));
  });
});

describe('leftovers', () => {
  const root = '/var/lib/lamina/tmp';
  const gone = (pid: number) => pid === 41;

  test("only a gone server's mounts, folders and images directly in the folder", () => {
    const found = leftovers(
      root,
      [
        '41.abc',
        '41.abc.img',
        '41.pool.3',
        '41.pool.3.img',
        '41.old.img',
        '77.def',
        '77.def.img',
        'notes',
      ],
      mountPointsOf(MOUNTINFO),
      gone,
    );
    assert.deepEqual(found.mounts, [
      '/var/lib/lamina/tmp/41.abc',
      '/var/lib/lamina/tmp/41.pool.3',
      '/var/lib/lamina/tmp/41.abc',
    ]);
    assert.deepEqual(found.folders, [
      '/var/lib/lamina/tmp/41.abc',
      '/var/lib/lamina/tmp/41.pool.3',
    ]);
    assert.deepEqual(found.images, [
      '/var/lib/lamina/tmp/41.abc.img',
      '/var/lib/lamina/tmp/41.pool.3.img',
      '/var/lib/lamina/tmp/41.old.img',
    ]);
  });

  test('nothing when every owner is alive', () => {
    const found = leftovers(root, ['41.abc', '41.abc.img'], mountPointsOf(MOUNTINFO), () => false);
    assert.deepEqual(found, { mounts: [], folders: [], images: [] });
  });
});
