/**
 * Crafts image layer tars in memory for tests, hostile ones included: names are written exactly
 * as given (`../x`, `/etc/x`, NUL-free but otherwise anything), a declared size can disagree with
 * the content that follows (a 20 GB file followed by three bytes), and any type flag can be used
 * (devices, FIFOs, GNU sparse `S`). Headers are ustar; a name or link name over 100 bytes, a size
 * over 8 GiB or extra `pax` records go in a PAX extended header before the entry.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

/** One entry of a test layer. */
export interface TarEntry {
  readonly name: string;
  readonly type?:
    'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'block-device' | 'fifo';
  /** Permission bits; 0o644 for files, 0o755 for folders, 0o777 for symlinks by default. */
  readonly mode?: number;
  readonly content?: string | Buffer;
  /** Target of a symlink or hard link. */
  readonly linkname?: string;
  /** Declared size, overriding the content's length (the content is written as it is). */
  readonly size?: number;
  /** Raw type flag overriding `type`, e.g. 'S' (GNU sparse) or '7' (contiguous). */
  readonly typeflag?: string;
  /** Extra PAX records, e.g. `{ 'GNU.sparse.realsize': '30000000000' }`. */
  readonly pax?: Readonly<Record<string, string>>;
}

const BLOCK = 512;
const MAX_OCTAL_SIZE = 0o77777777777;
const TYPEFLAGS: Record<NonNullable<TarEntry['type']>, string> = {
  file: '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

/** A layer tar holding `entries` in order (gzip-compressed with `{ gzip: true }`). */
export async function tarLayer(
  entries: readonly TarEntry[],
  options: { gzip?: boolean } = {},
): Promise<Buffer> {
  const blocks: Buffer[] = [];
  for (const entry of entries) blocks.push(...entryBlocks(entry));
  blocks.push(Buffer.alloc(2 * BLOCK));
  const tar = Buffer.concat(blocks);
  return options.gzip === true ? gzip(tar) : tar;
}

function entryBlocks(entry: TarEntry): Buffer[] {
  const type = entry.type ?? 'file';
  const content =
    typeof entry.content === 'string'
      ? Buffer.from(entry.content)
      : (entry.content ?? Buffer.alloc(0));
  const size = entry.size ?? content.length;
  const linkname = entry.linkname ?? '';
  const records: Array<[string, string]> = [];
  if (Buffer.byteLength(entry.name) > 100) records.push(['path', entry.name]);
  if (Buffer.byteLength(linkname) > 100) records.push(['linkpath', linkname]);
  if (size > MAX_OCTAL_SIZE) records.push(['size', String(size)]);
  records.push(...Object.entries(entry.pax ?? {}));
  const blocks: Buffer[] = [];
  if (records.length > 0) {
    const data = Buffer.concat(records.map(([key, value]) => paxRecord(key, value)));
    blocks.push(
      header({ name: 'PaxHeader', mode: 0o644, size: data.length, typeflag: 'x', linkname: '' }),
      padded(data),
    );
  }
  blocks.push(
    header({
      name: entry.name,
      mode: entry.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      size: Math.min(size, MAX_OCTAL_SIZE),
      typeflag: entry.typeflag ?? TYPEFLAGS[type],
      linkname,
    }),
  );
  if (content.length > 0) blocks.push(padded(content));
  return blocks;
}

interface HeaderFields {
  readonly name: string;
  readonly mode: number;
  readonly size: number;
  readonly typeflag: string;
  readonly linkname: string;
}

function header(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  Buffer.from(fields.name).copy(block, 0, 0, 100);
  octal(block, 100, 8, fields.mode);
  octal(block, 108, 8, 1000);
  octal(block, 116, 8, 1000);
  octal(block, 124, 12, fields.size);
  octal(block, 136, 12, 1_700_000_000);
  block.write(fields.typeflag.slice(0, 1), 156, 'latin1');
  Buffer.from(fields.linkname).copy(block, 157, 0, 100);
  block.write('ustar\0', 257, 'latin1');
  block.write('00', 263, 'latin1');
  block.write('test', 265, 'latin1');
  block.write('test', 297, 'latin1');
  octal(block, 329, 8, 0);
  octal(block, 337, 8, 0);
  block.fill(' ', 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

/** Writes `value` as zero-padded octal filling `length - 1` bytes, then a NUL. */
function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, '0')}\0`, offset, 'latin1');
}

/** One PAX record, `<length> <key>=<value>\n`, where the length counts itself. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  while (String(length).length + Buffer.byteLength(body) !== length) {
    length = String(length).length + Buffer.byteLength(body);
  }
  return Buffer.from(`${length}${body}`);
}

function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}
