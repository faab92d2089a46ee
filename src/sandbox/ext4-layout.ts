/**
 * The shape of the small ext4 file system that holds one environment's /tmp and /dev/shm (pure):
 * how large its image must be so that at least `EphemeralStorage.Size` bytes can be written to it,
 * and the mkfs.ext4 arguments that make exactly that shape.
 *
 * The arithmetic is exact rather than estimated because every block group is made the same size
 * (`-g`): mke2fs then lays out each group identically, and the space ext4 keeps for itself is a
 * sum of per-group and per-file-system terms. `mountLoopFilesystem` checks the result with statfs.
 */

/** File system block size in bytes (ext4's default for anything this large). */
export const BLOCK_BYTES = 4096;
/** One inode per 16 KiB of image (mke2fs's default ratio), so /tmp holds many small files. */
const BYTES_PER_INODE = 16_384;
const INODE_BYTES = 256;
/** A block bitmap of one block addresses 32,768 blocks: no group can be larger. */
const MAX_BLOCKS_PER_GROUP = 32_768;
/**
 * Groups are a multiple of 64 blocks, so that a group's inodes (blocks / 4) fill whole inode-table
 * blocks (16 inodes each) and mke2fs rounds nothing up.
 */
const GROUP_STEP_BLOCKS = 64;
/** 64-byte group descriptors (the `64bit` feature, asked for so no profile can change it). */
const DESCRIPTOR_BYTES = 64;
/** The root folder, lost+found (4 blocks), and the `tmp` and `shm` folders. */
const FOLDER_BLOCKS = 7;
/**
 * Written beyond the requested size before ENOSPC: room for the extent blocks of large files, so
 * that a file of exactly the requested size fits.
 */
export const SLACK_BYTES = 1024 * 1024;

/** The geometry of one file system image. */
export interface Ext4Layout {
  /** Size of the (sparse) image file in bytes. */
  readonly imageBytes: number;
  readonly blocksPerGroup: number;
  readonly groups: number;
  /** Bytes statfs reports as available once the `tmp` and `shm` folders exist. */
  readonly usableBytes: number;
}

/** Whether a group number holds a superblock backup (`sparse_super`: 0, 1, powers of 3, 5, 7). */
function hasSuperblock(group: number): boolean {
  if (group <= 1) return true;
  for (const base of [3, 5, 7]) {
    let power = base;
    while (power < group) power *= base;
    if (power === group) return true;
  }
  return false;
}

/** Bytes available to any user (reserved blocks are 0%) on a file system of this geometry. */
export function ext4UsableBytes(groups: number, blocksPerGroup: number): number {
  const blocks = groups * blocksPerGroup;
  const inodeTableBlocks =
    (blocksPerGroup * BLOCK_BYTES) / BYTES_PER_INODE / (BLOCK_BYTES / INODE_BYTES);
  const descriptorBlocks = Math.ceil((groups * DESCRIPTOR_BYTES) / BLOCK_BYTES);
  let superblockGroups = 0;
  for (let group = 0; group < groups; group += 1) if (hasSuperblock(group)) superblockGroups += 1;
  // Each group has a block bitmap, an inode bitmap and its inode table; the superblock and its
  // backups each come with a copy of the descriptors.
  const metadata = groups * (2 + inodeTableBlocks) + superblockGroups * (1 + descriptorBlocks);
  // ext4 holds back 2% of the blocks, at most 4,096, for its own allocations (s_resv_clusters):
  // statfs does not count them as available, and no user can write them.
  const heldBack = Math.min(Math.floor(blocks / 50), 4096);
  return (blocks - metadata - FOLDER_BLOCKS - heldBack) * BLOCK_BYTES;
}

/**
 * The layout with the fewest groups whose available bytes are at least `sizeBytes` + SLACK_BYTES
 * and at most CLOSE_FIT_BYTES beyond that (else the closest found), so that `sizeBytes` can be
 * written and little more before ENOSPC.
 */
export function ext4LayoutFor(sizeBytes: number): Ext4Layout {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0)
    throw new RangeError(
      `ephemeral storage size must be a positive whole number of bytes: ${sizeBytes}`,
    );
  const wanted = sizeBytes + SLACK_BYTES;
  const fewestGroups = Math.ceil(wanted / BLOCK_BYTES / MAX_BLOCKS_PER_GROUP);
  // Group sizes move in steps of 64 blocks, so the size moves in steps of 64 blocks per group
  // (20 MiB for 82 groups): a few more, smaller groups often fit closer.
  let best: Ext4Layout | undefined;
  for (let groups = fewestGroups; groups <= fewestGroups + GROUP_CHOICES; groups += 1) {
    const layout = smallestWithGroups(groups, wanted);
    if (layout === undefined) continue;
    if (layout.usableBytes - wanted <= CLOSE_FIT_BYTES) return layout;
    if (best === undefined || layout.usableBytes < best.usableBytes) best = layout;
  }
  if (best === undefined) throw new RangeError(`no ext4 layout holds ${sizeBytes} bytes`);
  return best;
}

/** Bytes beyond the wanted ones that `ext4LayoutFor` accepts without trying more groups. */
const CLOSE_FIT_BYTES = 1024 * 1024;
/** How many group counts beyond the fewest `ext4LayoutFor` tries. */
const GROUP_CHOICES = 16;

/** The smallest layout of `groups` equal groups with at least `wanted` bytes available. */
function smallestWithGroups(groups: number, wanted: number): Ext4Layout | undefined {
  // About 1.6% of the image goes to inode tables and up to 2% is held back: start below the
  // answer and grow the groups until it fits.
  let blocksPerGroup = roundUp(Math.ceil(wanted / BLOCK_BYTES / groups), GROUP_STEP_BLOCKS);
  for (; blocksPerGroup <= MAX_BLOCKS_PER_GROUP; blocksPerGroup += GROUP_STEP_BLOCKS) {
    const usableBytes = ext4UsableBytes(groups, blocksPerGroup);
    if (usableBytes >= wanted)
      return {
        imageBytes: groups * blocksPerGroup * BLOCK_BYTES,
        blocksPerGroup,
        groups,
        usableBytes,
      };
  }
  return undefined;
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

/**
 * mkfs.ext4 arguments for `image` (a sparse file of `layout.imageBytes`): no journal (the file
 * system dies with its environment), no reserved blocks, no room to grow, nothing zeroed or
 * discarded (a new sparse file reads as zeros), the root folder owned by root and `rootGroup`.
 */
export function mkfsArguments(layout: Ext4Layout, image: string, rootGroup: number): string[] {
  return [
    '-q',
    '-F',
    '-b',
    String(BLOCK_BYTES),
    '-g',
    String(layout.blocksPerGroup),
    '-i',
    String(BYTES_PER_INODE),
    '-I',
    String(INODE_BYTES),
    '-m',
    '0',
    '-O',
    '^has_journal,^resize_inode,64bit',
    '-E',
    `lazy_itable_init=1,assume_storage_prezeroed=1,nodiscard,root_owner=0:${rootGroup}`,
    image,
    String(layout.imageBytes / BLOCK_BYTES),
  ];
}
