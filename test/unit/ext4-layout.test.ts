/** The ext4 image that holds one environment's /tmp: its size arithmetic and its mkfs arguments. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BLOCK_BYTES,
  ext4LayoutFor,
  ext4UsableBytes,
  mkfsArguments,
  SLACK_BYTES,
} from '../../src/sandbox/ext4-layout.js';

const MiB = 1024 * 1024;

/**
 * statfs's available bytes (`bavail * bsize`) measured on file systems that mkfs.ext4 1.47.0 made
 * with `mkfsArguments` on Linux 6.18, once the tmp and shm folders existed: [groups, blocks per
 * group, bytes].
 */
const MEASURED: readonly (readonly [number, number, number])[] = [
  [5, 27264, 538_382_336],
  [5, 27328, 539_648_000],
  [5, 31936, 630_657_024],
  [6, 28416, 673_366_016],
  [7, 29184, 806_838_272],
  [9, 29440, 1_051_398_144],
  [17, 15936, 1_075_322_880],
  [24, 32704, 3_147_649_024],
  [27, 29760, 3_222_708_224],
  [33, 32448, 4_300_259_328],
  [45, 29696, 5_370_802_176],
  [62, 30144, 7_518_130_176],
  [66, 32384, 8_600_313_856],
  [85, 29184, 9_984_315_392],
  [95, 28096, 10_744_184_832],
];

describe('ext4 layout', () => {
  test('the available bytes are what ext4 reports for the same geometry', () => {
    for (const [groups, blocksPerGroup, measured] of MEASURED)
      assert.equal(
        ext4UsableBytes(groups, blocksPerGroup),
        measured,
        `${groups} × ${blocksPerGroup}`,
      );
  });

  test('every EphemeralStorage size fits, with at most 8 MiB more', () => {
    for (let mib = 512; mib <= 10_240; mib += 1) {
      const layout = ext4LayoutFor(mib * MiB);
      const extra = layout.usableBytes - mib * MiB;
      assert.ok(extra >= SLACK_BYTES, `${mib} MiB: only ${extra} bytes beyond the size`);
      assert.ok(extra <= 8 * MiB, `${mib} MiB: ${extra} bytes beyond the size`);
      assert.equal(layout.usableBytes, ext4UsableBytes(layout.groups, layout.blocksPerGroup));
      assert.equal(layout.imageBytes, layout.groups * layout.blocksPerGroup * BLOCK_BYTES);
      assert.equal(layout.blocksPerGroup % 64, 0);
      assert.ok(layout.blocksPerGroup <= 32_768);
    }
  });

  test('the image is a few percent larger than the size (inode tables, what ext4 holds back)', () => {
    const small = ext4LayoutFor(512 * MiB);
    assert.ok(small.imageBytes < 540 * MiB, String(small.imageBytes / MiB));
    const large = ext4LayoutFor(10_240 * MiB);
    assert.ok(large.imageBytes < 10_500 * MiB, String(large.imageBytes / MiB));
  });

  test('sizes that are not a positive whole number of bytes are refused', () => {
    for (const size of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      assert.throws(() => ext4LayoutFor(size), RangeError);
  });

  test('mkfs makes equal groups, no journal, no reserved blocks, a root folder for the jails', () => {
    const layout = ext4LayoutFor(512 * MiB);
    const args = mkfsArguments(layout, '/s/1.a.img', 65534);
    const value = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(value('-b'), '4096');
    assert.equal(value('-g'), String(layout.blocksPerGroup));
    assert.equal(value('-m'), '0');
    assert.equal(value('-O'), '^has_journal,^resize_inode,64bit');
    assert.match(value('-E') ?? '', /(^|,)root_owner=0:65534(,|$)/);
    assert.match(value('-E') ?? '', /(^|,)assume_storage_prezeroed=1(,|$)/);
    assert.deepEqual(args.slice(-2), ['/s/1.a.img', String(layout.imageBytes / 4096)]);
  });
});
