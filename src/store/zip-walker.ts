/**
 * Walks an untrusted zip entry by entry, inflating every byte, and refuses anything unsafe:
 * absolute paths, `..` segments, duplicate names, special files, symlinks that leave the archive's
 * root or pass through other symlinks, entries below a symlink, and expansion past the limit
 * (counted from the inflated bytes, never from the headers).
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import { LIMITS } from '../core/limits.js';

/** One entry as the walker hands it to a visitor. */
export type ZipItem =
  | { readonly kind: 'directory'; readonly path: string }
  | {
      readonly kind: 'file';
      readonly path: string;
      readonly executable: boolean;
      readonly data: Readable;
    }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

/** Receives entries in archive order; must consume a file's `data` before resolving. */
export type ZipVisitor = (item: ZipItem) => Promise<void>;

/** Limits of a walk; the defaults are Lambda's. */
export interface ZipLimits {
  readonly maxUnzippedBytes: number;
  readonly maxEntries: number;
}

const DEFAULT_LIMITS: ZipLimits = {
  maxUnzippedBytes: LIMITS.unzippedCodeBytes,
  maxEntries: LIMITS.zipEntries,
};

const UNZIP_FAILED =
  'Could not unzip uploaded file. Please check your file, then try to upload again.';
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;

/** Fails the walk with the "Could not unzip" error, plus the specific reason. */
export function unsafeZip(reason: string): LambdaError {
  return lambdaErrors.invalidParameter(`${UNZIP_FAILED} ${reason}`);
}

/** Walks the archive; resolves with the real expanded size in bytes. */
export async function walkZip(
  zip: Buffer,
  visit: ZipVisitor,
  limits: ZipLimits = DEFAULT_LIMITS,
): Promise<number> {
  const archive = await openZip(zip);
  const seen = new Set<string>();
  const symlinks = new Map<string, string>();
  let total = 0;
  let count = 0;
  try {
    for (;;) {
      const entry = await nextEntry(archive);
      if (entry === undefined) break;
      count += 1;
      if (count > limits.maxEntries) {
        throw unsafeZip(`The archive has more than ${limits.maxEntries} entries.`);
      }
      const path = checkPath(entry.fileName);
      if (seen.has(path)) throw unsafeZip(`The entry '${path}' appears more than once.`);
      seen.add(path);
      const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
      const type = mode & S_IFMT;
      if (entry.fileName.endsWith('/') || type === S_IFDIR) {
        await visit({ kind: 'directory', path });
        continue;
      }
      if (type !== 0 && type !== S_IFREG && type !== S_IFLNK) {
        throw unsafeZip(`The entry '${path}' is a special file (mode ${mode.toString(8)}).`);
      }
      const budget = limits.maxUnzippedBytes - total;
      const data = await openEntry(archive, entry);
      if (type === S_IFLNK) {
        const target = (await readAll(data, 4096, path)).toString('utf8');
        total += Buffer.byteLength(target);
        symlinks.set(path, target);
        await visit({ kind: 'symlink', path, target });
        continue;
      }
      const counted = countBytes(data, budget, limits.maxUnzippedBytes);
      await visit({ kind: 'file', path, executable: (mode & 0o111) !== 0, data: counted.stream });
      total += await counted.done;
    }
  } finally {
    archive.close();
  }
  checkSymlinks(symlinks, seen);
  return total;
}

function checkPath(raw: string): string {
  if (raw.includes('\0')) throw unsafeZip('An entry name contains a NUL byte.');
  if (raw.includes('\\')) throw unsafeZip(`The entry '${raw}' uses backslashes in its path.`);
  if (raw.startsWith('/') || /^[a-zA-Z]:/.test(raw)) {
    throw unsafeZip(`The entry '${raw}' has an absolute path.`);
  }
  const segments = raw.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw unsafeZip(`The entry '${raw}' has a '..' path segment.`);
  if (segments.length === 0) throw unsafeZip(`The entry '${raw}' has an empty path.`);
  return segments.join('/');
}

/**
 * Symlinks may point only inside the archive root, resolved lexically from their own folder, and
 * never through another symlink (whose real target could move the walk outside); no entry may sit
 * below a symlink, where extraction would write through it.
 */
function checkSymlinks(symlinks: Map<string, string>, names: Set<string>): void {
  if (symlinks.size === 0) return;
  for (const name of names) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const prefix = parts.slice(0, i).join('/');
      if (symlinks.has(prefix)) {
        throw unsafeZip(`The entry '${name}' lies below the symlink '${prefix}'.`);
      }
    }
  }
  for (const [link, target] of symlinks) {
    if (target === '' || target.startsWith('/')) {
      throw unsafeZip(`The symlink '${link}' points outside the archive (${target || 'empty'}).`);
    }
    const stack = posix.dirname(link) === '.' ? [] : posix.dirname(link).split('/');
    const steps = target.split('/').filter((s) => s !== '' && s !== '.');
    for (const [i, step] of steps.entries()) {
      if (step === '..') {
        if (stack.length === 0) {
          throw unsafeZip(`The symlink '${link}' points outside the archive (${target}).`);
        }
        stack.pop();
      } else {
        stack.push(step);
        if (i < steps.length - 1 && symlinks.has(stack.join('/'))) {
          throw unsafeZip(`The symlink '${link}' resolves through another symlink (${target}).`);
        }
      }
    }
  }
}

function openZip(zip: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      zip,
      { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false },
      (error, archive) => {
        if (error !== null || archive === undefined)
          reject(unsafeZip(`(${error?.message ?? 'unreadable'})`));
        else resolve(archive);
      },
    );
  });
}

function nextEntry(archive: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      archive.off('entry', onEntry);
      archive.off('end', onEnd);
      archive.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry) => {
      cleanup();
      resolve(entry);
    };
    const onEnd = () => {
      cleanup();
      resolve(undefined);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error instanceof LambdaError ? error : unsafeZip(`(${error.message})`));
    };
    archive.on('entry', onEntry);
    archive.on('end', onEnd);
    archive.on('error', onError);
    archive.readEntry();
  });
}

function openEntry(archive: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    archive.openReadStream(entry, (error, stream) => {
      if (error !== null || stream === undefined) {
        reject(unsafeZip(`(${entry.fileName}: ${error?.message ?? 'unreadable'})`));
      } else resolve(stream);
    });
  });
}

async function readAll(stream: Readable, max: number, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > max)
        throw unsafeZip(`The symlink '${path}' has a target longer than ${max} bytes.`);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    throw error instanceof LambdaError ? error : unsafeZip(`(${path}: ${String(error)})`);
  }
  return Buffer.concat(chunks);
}

/**
 * Wraps an entry stream so that it fails as soon as the archive's running total passes the limit,
 * and reports the bytes it really produced once the consumer has read it all.
 */
function countBytes(
  source: Readable,
  budget: number,
  limit: number,
): { stream: Readable; done: Promise<number> } {
  let produced = 0;
  let settle: (bytes: number) => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<number>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  source.on('data', (chunk: Buffer) => {
    produced += chunk.length;
    if (produced > budget) {
      source.destroy(
        new LambdaError(
          'InvalidParameterValueException',
          `Unzipped size must be smaller than ${limit} bytes`,
        ),
      );
    }
  });
  source.on('end', () => settle(produced));
  source.on('error', (error) =>
    fail(error instanceof LambdaError ? error : unsafeZip(`(${error.message})`)),
  );
  source.on('close', () => {
    if (!source.readableEnded) fail(unsafeZip('(the entry stream ended early)'));
  });
  // The walker awaits `done` only after the visitor succeeded; keep an early failure handled.
  done.catch(() => undefined);
  source.pause();
  return { stream: source, done };
}
