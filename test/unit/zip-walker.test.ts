import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { LambdaError } from '../../src/core/errors.js';
import { unsafeZip, walkZip } from '../../src/store/zip-walker.js';
import type { ZipItem, ZipLimits } from '../../src/store/zip-walker.js';
import { helloZip, zipOf } from '../helpers/zips.js';
import type { ZipEntrySpec } from '../helpers/zips.js';
import { assertTooBig, assertUnsafe, UNZIP_FAILED } from '../helpers/zip-assertions.js';

const SMALL: ZipLimits = { maxUnzippedBytes: 1000, maxEntries: 100 };
const SYMLINK = 0o120777;

/** What a visitor saw, with file contents read in full. */
type Seen =
  | { kind: 'directory'; path: string }
  | { kind: 'file'; path: string; executable: boolean; content: string }
  | { kind: 'symlink'; path: string; target: string };

async function readStream(item: Extract<ZipItem, { kind: 'file' }>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of item.data) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Walks a zip, consuming every file, and returns what was visited plus the walker's total. */
async function walk(zip: Buffer, limits?: ZipLimits): Promise<{ items: Seen[]; total: number }> {
  const items: Seen[] = [];
  const visitor = async (item: ZipItem): Promise<void> => {
    if (item.kind === 'file') {
      const content = (await readStream(item)).toString('utf8');
      items.push({ kind: 'file', path: item.path, executable: item.executable, content });
    } else if (item.kind === 'symlink') {
      items.push({ kind: 'symlink', path: item.path, target: item.target });
    } else {
      items.push({ kind: 'directory', path: item.path });
    }
  };
  const total = await walkZip(zip, visitor, limits);
  return { items, total };
}

async function assertRejectsZip(entries: readonly ZipEntrySpec[], reason?: RegExp): Promise<void> {
  await assertUnsafe(walk(await zipOf(entries)), reason);
}

/** Rewrites the uncompressed-size fields of a one-entry zip, in both headers. */
function lieAboutSize(zip: Buffer, claimed: number): Buffer {
  const out = Buffer.from(zip);
  const local = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
  const central = Buffer.from([0x50, 0x4b, 0x01, 0x02]);
  const end = Buffer.from([0x50, 0x4b, 0x05, 0x06]);
  assert.equal(out.indexOf(local), 0);
  const eocd = out.lastIndexOf(end);
  assert.ok(eocd > 0);
  const directory = out.readUInt32LE(eocd + 16);
  assert.ok(out.subarray(directory, directory + 4).equals(central));
  out.writeUInt32LE(claimed, 22);
  out.writeUInt32LE(claimed, directory + 24);
  return out;
}

/** A one-entry zip whose deflated data is overwritten with 0xff bytes (an invalid block type). */
async function corruptZip(): Promise<Buffer> {
  const zip = await zipOf([{ name: 'a.js', content: 'hello '.repeat(2000) }]);
  const nameLength = zip.readUInt16LE(26);
  const extraLength = zip.readUInt16LE(28);
  const compressedSize = zip.readUInt32LE(18);
  const start = 30 + nameLength + extraLength;
  zip.fill(0xff, start, start + compressedSize);
  return zip;
}

describe('walkZip: well-formed archives', () => {
  it('visits files, directories and symlinks in archive order and returns the real size', async () => {
    const zip = await zipOf([
      { name: 'index.js', content: 'exports.handler = 1;\n' },
      { name: 'lib/', directory: true },
      { name: 'lib/util.js', content: 'util' },
      { name: 'bin/run', content: '#!/bin/sh\n', mode: 0o100755 },
      { name: 'lib/link.js', content: 'util.js', mode: SYMLINK },
    ]);
    const { items, total } = await walk(zip);
    assert.deepEqual(items, [
      { kind: 'file', path: 'index.js', executable: false, content: 'exports.handler = 1;\n' },
      { kind: 'directory', path: 'lib' },
      { kind: 'file', path: 'lib/util.js', executable: false, content: 'util' },
      { kind: 'file', path: 'bin/run', executable: true, content: '#!/bin/sh\n' },
      { kind: 'symlink', path: 'lib/link.js', target: 'util.js' },
    ]);
    // Bytes of files plus the bytes of symlink targets.
    assert.equal(total, 21 + 4 + 10 + 7);
  });

  it('counts the inflated bytes of compressed and stored entries alike', async () => {
    const zip = await zipOf([
      { name: 'a.txt', content: 'a'.repeat(300) },
      { name: 'b.txt', content: 'b'.repeat(200), store: true },
    ]);
    const { items, total } = await walk(zip);
    assert.equal(total, 500);
    assert.deepEqual(
      items.map((item) => (item.kind === 'file' ? item.content.length : -1)),
      [300, 200],
    );
  });

  it('reports an empty archive as zero bytes with no visits', async () => {
    const { items, total } = await walk(await zipOf([]));
    assert.deepEqual(items, []);
    assert.equal(total, 0);
  });

  it('walks the hello archive with the default limits', async () => {
    const { items, total } = await walk(await helloZip('body'));
    assert.deepEqual(items, [
      { kind: 'file', path: 'index.js', executable: false, content: 'body' },
    ]);
    assert.equal(total, 4);
  });

  it('marks files executable from the permission bits of their Unix mode', async () => {
    const { items } = await walk(
      await zipOf([
        { name: 'exec', content: 'x', mode: 0o100755 },
        { name: 'plain', content: 'p', mode: 0o100644 },
        { name: 'no-type-bits', content: 'n', mode: 0o644 },
      ]),
    );
    assert.deepEqual(
      items.map((item) => (item.kind === 'file' ? [item.path, item.executable] : [])),
      [
        ['exec', true],
        ['plain', false],
        ['no-type-bits', false],
      ],
    );
  });

  it('normalises `.` segments and doubled slashes', async () => {
    const { items } = await walk(
      await zipOf([
        { name: './a.js', content: 'a' },
        { name: 'x//y/./z.js', content: 'z' },
      ]),
    );
    assert.deepEqual(
      items.map((item) => item.path),
      ['a.js', 'x/y/z.js'],
    );
  });

  it('accepts symlinks that stay inside the archive root', async () => {
    const { items } = await walk(
      await zipOf([
        { name: 'index.js', content: 'x' },
        { name: 'top.js', content: 'index.js', mode: SYMLINK },
        { name: 'sub/up.js', content: '../index.js', mode: SYMLINK },
        { name: 'a/b/c.js', content: '../../sub/../index.js', mode: SYMLINK },
        { name: 'root', content: '.', mode: SYMLINK },
      ]),
    );
    assert.deepEqual(
      items.filter((item) => item.kind === 'symlink'),
      [
        { kind: 'symlink', path: 'top.js', target: 'index.js' },
        { kind: 'symlink', path: 'sub/up.js', target: '../index.js' },
        { kind: 'symlink', path: 'a/b/c.js', target: '../../sub/../index.js' },
        { kind: 'symlink', path: 'root', target: '.' },
      ],
    );
  });

  it('passes a visitor error through unchanged', async () => {
    const boom = new Error('visitor failed');
    await assert.rejects(
      walkZip(await helloZip(), () => Promise.reject(boom)),
      (error: unknown) => error === boom,
    );
  });
});

describe('walkZip: not a zip', () => {
  it('rejects an empty buffer', async () => {
    await assertUnsafe(walk(Buffer.alloc(0)));
  });

  it('rejects random bytes', async () => {
    await assertUnsafe(walk(randomBytes(4096)));
  });

  it('rejects plain text', async () => {
    await assertUnsafe(walk(Buffer.from('this is not a zip file at all')));
  });

  it('rejects a zip cut short at the end', async () => {
    const zip = await helloZip();
    await assertUnsafe(walk(zip.subarray(0, zip.length - 8)));
  });

  it('rejects a zip cut in half', async () => {
    const zip = await zipOf([
      { name: 'a.js', content: 'a'.repeat(500) },
      { name: 'b.js', content: 'b'.repeat(500) },
    ]);
    await assertUnsafe(walk(zip.subarray(0, Math.floor(zip.length / 2))));
  });

  it('rejects an entry whose compressed data is corrupt', async () => {
    await assert.rejects(walk(await corruptZip()));
  });

  it('reports corrupt compressed data as InvalidParameterValueException', async () => {
    await assertUnsafe(walk(await corruptZip()));
  });
});

describe('walkZip: unsafe entry names', () => {
  const hostile = [
    '../evil.js',
    'a/../../evil.js',
    'a/../b.js',
    'lib/..',
    '/etc/evil',
    '/abs.js',
    'C:/evil.js',
    'c:evil.js',
    '..\\evil.js',
    'a\\..\\..\\evil.js',
  ];
  for (const name of hostile) {
    it(`rejects the entry name ${JSON.stringify(name)}`, async () => {
      await assertRejectsZip([
        { name: 'index.js', content: 'ok' },
        { name, content: 'evil' },
      ]);
    });
  }

  it('rejects a hostile directory entry', async () => {
    await assertRejectsZip([{ name: '../outside/', directory: true }]);
  });

  it('rejects a name holding a NUL byte', async () => {
    const zip = await zipOf([{ name: 'aXb.js', content: 'x' }]);
    for (let at = zip.indexOf('aXb.js'); at >= 0; at = zip.indexOf('aXb.js', at + 1)) {
      zip[at + 1] = 0;
    }
    await assertUnsafe(walk(zip));
  });

  it('rejects a name that is empty once normalised', async () => {
    await assertRejectsZip([{ name: './', directory: true }], /empty path/);
  });

  it('visits nothing for the hostile entry itself', async () => {
    const seen: string[] = [];
    const zip = await zipOf([
      { name: 'ok.js', content: 'ok' },
      { name: '../evil.js', content: 'evil' },
    ]);
    await assertUnsafe(
      walkZip(zip, async (item) => {
        seen.push(item.path);
        if (item.kind === 'file') await readStream(item);
      }),
    );
    assert.deepEqual(seen, ['ok.js']);
  });
});

describe('walkZip: duplicates and special files', () => {
  it('rejects a name that appears twice', async () => {
    await assertRejectsZip(
      [
        { name: 'a.js', content: '1' },
        { name: 'a.js', content: '2' },
      ],
      /more than once/,
    );
  });

  it('rejects names that are duplicates once normalised', async () => {
    await assertRejectsZip(
      [
        { name: 'a.js', content: '1' },
        { name: './a.js', content: '2' },
      ],
      /more than once/,
    );
  });

  it('rejects a file and a directory of the same name', async () => {
    await assertRejectsZip(
      [
        { name: 'lib/', directory: true },
        { name: 'lib', content: 'x' },
      ],
      /more than once/,
    );
  });

  it('rejects a symlink and a file of the same name', async () => {
    await assertRejectsZip(
      [
        { name: 'a.js', content: 'x' },
        { name: 'a.js', content: 'b.js', mode: SYMLINK },
      ],
      /more than once/,
    );
  });

  const specials: Array<[string, number]> = [
    ['a FIFO', 0o010644],
    ['a character device', 0o020644],
    ['a block device', 0o060644],
    ['a socket', 0o140755],
  ];
  for (const [label, mode] of specials) {
    it(`rejects ${label}`, async () => {
      await assertRejectsZip([{ name: 'special', content: '', mode }], /special file/);
    });
  }
});

describe('walkZip: symlinks', () => {
  const escaping: Array<[string, string, string]> = [
    ['an absolute target', 'link', '/etc/passwd'],
    ['an absolute directory target', 'link', '/'],
    ['a parent target', 'link', '..'],
    ['a target leaving via ..', 'link', '../outside.js'],
    ['a nested link leaving via ..', 'sub/link', '../../outside.js'],
    ['a target that dips out and back', 'a/link', '../../a/x.js'],
    ['a target that leaves after descending', 'link', 'sub/../../x.js'],
    ['an empty target', 'link', ''],
  ];
  for (const [label, name, target] of escaping) {
    it(`rejects ${label} (${name} -> ${JSON.stringify(target)})`, async () => {
      await assertRejectsZip(
        [
          { name: 'index.js', content: 'x' },
          { name, content: target, mode: SYMLINK },
        ],
        /points outside the archive/,
      );
    });
  }

  it('rejects a symlink that resolves through another symlink', async () => {
    await assertRejectsZip(
      [
        { name: 'sub/file.js', content: 'x' },
        { name: 'first', content: 'sub', mode: SYMLINK },
        { name: 'second', content: 'first/file.js', mode: SYMLINK },
      ],
      /through another symlink/,
    );
  });

  it('rejects a symlink that resolves through a symlink listed after it', async () => {
    await assertRejectsZip(
      [
        { name: 'second', content: 'first/file.js', mode: SYMLINK },
        { name: 'first', content: 'sub', mode: SYMLINK },
        { name: 'sub/file.js', content: 'x' },
      ],
      /through another symlink/,
    );
  });

  it('rejects a symlink that resolves through an escaping symlink', async () => {
    await assertRejectsZip([
      { name: 'out', content: '../..', mode: SYMLINK },
      { name: 'via', content: 'out/etc/passwd', mode: SYMLINK },
    ]);
  });

  it('rejects a symlink that resolves through itself', async () => {
    await assertRejectsZip([{ name: 'loop', content: 'loop/x', mode: SYMLINK }], /symlink/);
  });

  it('rejects a file below a symlink', async () => {
    await assertRejectsZip(
      [
        { name: 'link', content: 'sub', mode: SYMLINK },
        { name: 'link/evil.js', content: 'x' },
      ],
      /below the symlink/,
    );
  });

  it('rejects a file below a symlink listed after it', async () => {
    await assertRejectsZip(
      [
        { name: 'link/evil.js', content: 'x' },
        { name: 'link', content: '/etc', mode: SYMLINK },
      ],
      /symlink/,
    );
  });

  it('rejects a directory below a symlink', async () => {
    await assertRejectsZip(
      [
        { name: 'link', content: 'sub', mode: SYMLINK },
        { name: 'link/deeper/', directory: true },
      ],
      /below the symlink/,
    );
  });

  it('rejects a symlink below a symlink', async () => {
    await assertRejectsZip(
      [
        { name: 'link', content: 'sub', mode: SYMLINK },
        { name: 'link/inner', content: '../index.js', mode: SYMLINK },
      ],
      /below the symlink/,
    );
  });

  it('rejects a symlink target holding a NUL byte', async () => {
    await assertRejectsZip([
      { name: 'index.js', content: 'x' },
      { name: 'link', content: 'index.js\0tail', mode: SYMLINK },
    ]);
  });

  it('rejects a symlink target longer than 4096 bytes', async () => {
    await assertRejectsZip(
      [{ name: 'link', content: 'a/'.repeat(2100), mode: SYMLINK }],
      /longer than 4096 bytes/,
    );
  });
});

describe('walkZip: size limit', () => {
  it('rejects a zip bomb with the exact size message', async () => {
    const zip = await zipOf([{ name: 'bomb.bin', content: Buffer.alloc(10_240) }]);
    assert.ok(zip.length < 1000, 'the bomb must be smaller than the limit when compressed');
    await assertTooBig(walk(zip, SMALL), 1000);
  });

  it('rejects a stored (uncompressed) entry over the limit', async () => {
    const zip = await zipOf([{ name: 'big.bin', content: Buffer.alloc(1001, 7), store: true }]);
    await assertTooBig(walk(zip, SMALL), 1000);
  });

  it('accepts an archive of exactly the limit', async () => {
    const zip = await zipOf([
      { name: 'a.bin', content: Buffer.alloc(600) },
      { name: 'b.bin', content: Buffer.alloc(400) },
    ]);
    assert.equal((await walk(zip, SMALL)).total, 1000);
  });

  it('rejects one byte over the limit', async () => {
    const zip = await zipOf([{ name: 'a.bin', content: Buffer.alloc(1001) }]);
    await assertTooBig(walk(zip, SMALL), 1000);
  });

  it('counts the total across entries, not each entry alone', async () => {
    const zip = await zipOf([
      { name: 'a.bin', content: Buffer.alloc(600) },
      { name: 'b.bin', content: Buffer.alloc(600) },
    ]);
    await assertTooBig(walk(zip, SMALL), 1000);
  });

  it('stops inflating as soon as the limit is passed', async () => {
    const size = 8 * 1024 * 1024;
    const zip = await zipOf([{ name: 'bomb.bin', content: Buffer.alloc(size) }]);
    let delivered = 0;
    await assertTooBig(
      walkZip(
        zip,
        async (item) => {
          if (item.kind !== 'file') return;
          for await (const chunk of item.data) delivered += (chunk as Buffer).length;
        },
        SMALL,
      ),
      1000,
    );
    assert.ok(delivered < size / 8, `the visitor received ${delivered} bytes`);
  });

  it('rejects an archive whose headers understate a bomb, delivering no more than the limit', async () => {
    const honest = await zipOf([{ name: 'bomb.bin', content: Buffer.alloc(10_240) }]);
    let delivered = 0;
    await assert.rejects(
      walkZip(
        lieAboutSize(honest, 10),
        async (item) => {
          if (item.kind !== 'file') return;
          for await (const chunk of item.data) delivered += (chunk as Buffer).length;
        },
        SMALL,
      ),
    );
    assert.ok(delivered <= 1000, `the visitor received ${delivered} bytes`);
  });

  it('reports understating headers as InvalidParameterValueException', async () => {
    const honest = await zipOf([{ name: 'bomb.bin', content: Buffer.alloc(10_240) }]);
    await assert.rejects(walk(lieAboutSize(honest, 10), SMALL), (error: unknown) => {
      assert.ok(error instanceof LambdaError, `not a LambdaError: ${String(error)}`);
      assert.equal(error.code, 'InvalidParameterValueException');
      assert.ok(
        error.message === 'Unzipped size must be smaller than 1000 bytes' ||
          error.message.startsWith(UNZIP_FAILED),
        error.message,
      );
      return true;
    });
  });

  it('rejects an archive whose headers understate its size, even within the limit', async () => {
    const honest = await zipOf([{ name: 'a.bin', content: Buffer.alloc(500) }]);
    await assert.rejects(walk(lieAboutSize(honest, 10), SMALL));
    await assert.rejects(walk(lieAboutSize(honest, 10)));
  });

  it('reports understating headers within the limit as InvalidParameterValueException', async () => {
    const honest = await zipOf([{ name: 'a.bin', content: Buffer.alloc(500) }]);
    await assertUnsafe(walk(lieAboutSize(honest, 10), SMALL));
  });

  it('counts symlink targets against the limit', async () => {
    const zip = await zipOf([
      { name: 'one', content: 'x'.repeat(600), mode: SYMLINK },
      { name: 'two', content: 'y'.repeat(600), mode: SYMLINK },
    ]);
    await assertTooBig(walk(zip, SMALL), 1000);
  });

  it('uses Lambda’s limit by default', async () => {
    const zip = await zipOf([{ name: 'bomb.bin', content: Buffer.alloc(10_240) }]);
    assert.equal((await walk(zip)).total, 10_240);
  });
});

describe('walkZip: entry limit', () => {
  const limits: ZipLimits = { maxUnzippedBytes: 1000, maxEntries: 3 };

  it('accepts exactly the maximum number of entries', async () => {
    const zip = await zipOf([
      { name: 'a', content: '1' },
      { name: 'b', content: '2' },
      { name: 'c', content: '3' },
    ]);
    assert.equal((await walk(zip, limits)).items.length, 3);
  });

  it('rejects one entry more than the maximum', async () => {
    const zip = await zipOf([
      { name: 'a', content: '1' },
      { name: 'b', content: '2' },
      { name: 'c', content: '3' },
      { name: 'd', content: '4' },
    ]);
    await assertUnsafe(walk(zip, limits), /more than 3 entries/);
  });

  it('counts empty directories as entries', async () => {
    const zip = await zipOf([
      { name: 'a/', directory: true },
      { name: 'b/', directory: true },
      { name: 'c/', directory: true },
      { name: 'd/', directory: true },
    ]);
    await assertUnsafe(walk(zip, limits), /more than 3 entries/);
  });
});

describe('unsafeZip', () => {
  it('builds the "Could not unzip" error with its reason', () => {
    const error = unsafeZip('Because.');
    assert.ok(error instanceof LambdaError);
    assert.equal(error.code, 'InvalidParameterValueException');
    assert.equal(error.message, `${UNZIP_FAILED} Because.`);
    assert.equal(error.spec.status, 400);
  });
});
