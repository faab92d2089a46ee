/**
 * Walks an untrusted zip entry by entry, inflating every byte, and refuses anything unsafe:
 * absolute paths, `..` segments, duplicate names, special files, symlinks that leave the archive's
 * root or pass through other symlinks, entries below a symlink, and expansion past the limit
 * (counted from the inflated bytes, never from the headers).
 */
import { posix } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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
  const files = new Set<string>();
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
      const data = await openEntry(archive, entry);
      if (type === S_IFLNK) {
        const target = (await readAll(data, 4096, path)).toString('utf8');
        if (target.includes('\0'))
          throw unsafeZip(`The symlink '${path}' has a NUL byte in its target.`);
        total += Buffer.byteLength(target);
        if (total > limits.maxUnzippedBytes) throw tooLarge(limits.maxUnzippedBytes);
        symlinks.set(path, target);
        await visit({ kind: 'symlink', path, target });
        continue;
      }
      files.add(path);
      total += await visitFile(
        data,
        path,
        (mode & 0o111) !== 0,
        limits.maxUnzippedBytes - total,
        limits.maxUnzippedBytes,
        visit,
      );
    }
  } finally {
    archive.close();
  }
  checkNesting(seen, files, symlinks);
  checkSymlinks(symlinks);
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

/** No entry may sit below a file or a symlink: extraction would fail or write through the link. */
function checkNesting(names: Set<string>, files: Set<string>, symlinks: Map<string, string>): void {
  for (const name of names) {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      const prefix = parts.slice(0, i).join('/');
      if (symlinks.has(prefix)) {
        throw unsafeZip(`The entry '${name}' lies below the symlink '${prefix}'.`);
      }
      if (files.has(prefix))
        throw unsafeZip(`The entry '${name}' lies below the file '${prefix}'.`);
    }
  }
}

/**
 * Symlinks may point only inside the archive root, resolved lexically from their own folder, and
 * never through another symlink (whose real target could move the walk outside).
 */
function checkSymlinks(symlinks: Map<string, string>): void {
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

function tooLarge(limit: number): LambdaError {
  return new LambdaError(
    'InvalidParameterValueException',
    `Unzipped size must be smaller than ${limit} bytes`,
  );
}

/**
 * Hands a file's inflated bytes to the visitor through a counting stream that fails as soon as the
 * archive's running total passes the limit. Whatever the inflater reports (corrupt data, sizes
 * that contradict the headers) becomes the "Could not unzip" error, even when it surfaces in the
 * visitor's own pipeline first. Resolves with the bytes really produced.
 */
async function visitFile(
  source: Readable,
  path: string,
  executable: boolean,
  budget: number,
  limit: number,
  visit: ZipVisitor,
): Promise<number> {
  let produced = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      produced += chunk.length;
      if (produced > budget) callback(tooLarge(limit));
      else callback(null, chunk);
    },
  });
  const piping = pipeline(source, counter).then(
    () => undefined,
    (error: unknown) => zipError(error, path),
  );
  try {
    await visit({ kind: 'file', path, executable, data: counter });
  } catch (visitError) {
    counter.destroy();
    source.destroy();
    const failure = await piping;
    throw failure ?? visitError;
  }
  const failure = await piping;
  if (failure !== undefined) throw failure;
  return produced;
}

/** The archive's own error for a failed entry stream; undefined for a plain early close. */
function zipError(error: unknown, path: string): LambdaError | undefined {
  if (error instanceof LambdaError) return error;
  if ((error as { code?: unknown }).code === 'ERR_STREAM_PREMATURE_CLOSE') return undefined;
  const message = error instanceof Error ? error.message : String(error);
  return unsafeZip(`(${path}: ${message})`);
}
