import assert from 'node:assert/strict';
/** Builds zip archives in memory for tests, including hostile ones. */
import yazl from 'yazl';

/** One entry of a test archive. */
export interface ZipEntrySpec {
  readonly name: string;
  readonly content?: string | Buffer;
  /** Unix mode including the file type bits, e.g. 0o100755 or 0o120777 for a symlink. */
  readonly mode?: number;
  readonly directory?: boolean;
  /** Store without compression. */
  readonly store?: boolean;
}

/**
 * Builds a zip from entries. Names are used exactly as given, even hostile ones (`../x`, `/etc/x`):
 * the archiver refuses those, so they are written under a placeholder of the same length and the
 * bytes are swapped in afterwards (local header and central directory alike).
 */
export async function buildZip(entries: readonly ZipEntrySpec[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const swaps: Array<[Buffer, Buffer]> = [];
  for (const [index, original] of entries.entries()) {
    let entry = original;
    if (/(^|\/)\.\.(\/|$)|^\/|^[a-zA-Z]:|\\/.test(original.name)) {
      const placeholder = `Q${index}`.padEnd(original.name.length, 'q');
      if (placeholder.length !== original.name.length) throw new Error('name too short to swap');
      swaps.push([Buffer.from(placeholder), Buffer.from(original.name)]);
      entry = { ...original, name: placeholder };
    }
    const options = {
      mtime: new Date(0),
      ...(entry.mode === undefined ? {} : { mode: entry.mode }),
      compress: entry.store !== true,
    };
    if (entry.directory === true) {
      zip.addEmptyDirectory(entry.name, {
        mtime: options.mtime,
        ...(entry.mode === undefined ? {} : { mode: entry.mode }),
      });
    } else zip.addBuffer(Buffer.from(entry.content ?? ''), entry.name, options);
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const out = Buffer.concat(chunks);
  for (const [from, to] of swaps) {
    for (let at = out.indexOf(from); at >= 0; at = out.indexOf(from, at + 1)) to.copy(out, at);
  }
  return out;
}

/** A small Node.js function archive (`index.handler` returns its event). */
export function helloZip(body = 'exports.handler = async (event) => event;\n'): Promise<Buffer> {
  return buildZip([{ name: 'index.js', content: body }]);
}

/**
 * Builds a zip like `buildZip`, but writes `directory: true` entries itself: the helper hands yazl a
 * `compress` option that `addEmptyDirectory` refuses. A directory becomes an empty stored entry of
 * mode 0o40755 whose trailing slash is written as a marker byte and patched in afterwards.
 */
export async function zipOf(entries: readonly ZipEntrySpec[]): Promise<Buffer> {
  const marked = entries.map((entry): ZipEntrySpec => {
    if (entry.directory !== true) return entry;
    assert.ok(entry.name.endsWith('/'), `directory names end with a slash: ${entry.name}`);
    return { name: `${entry.name.slice(0, -1)}\x7f`, content: '', mode: 0o40755, store: true };
  });
  const zip = await buildZip(marked);
  for (const [index, entry] of entries.entries()) {
    const name = marked[index]?.name;
    if (entry.directory !== true || name === undefined) continue;
    const from = Buffer.from(name);
    for (let at = zip.indexOf(from); at >= 0; at = zip.indexOf(from, at + 1)) {
      zip[at + from.length - 1] = 0x2f;
    }
  }
  return zip;
}
