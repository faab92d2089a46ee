/**
 * Reads a JSON body as it arrives and lifts the string values of `ZipFile` members out of it,
 * decoding their base64 straight into Buffers: a 70 MB code upload is then held once, as the zip,
 * instead of as the body, the body as text, the parsed string and the decoded zip together. What
 * remains is small JSON in which each lifted value is replaced by a mark (`LIFTED_MARK` and the
 * blob's index) that `WireObject.blob` resolves.
 *
 * It tokenises only as far as it must (strings, escapes, objects and arrays, which string is a
 * member's value); validating the JSON is left to `JSON.parse` of what remains. A lifted value that
 * would make the JSON invalid (a raw control character, a bad escape) leaves an invalid mark, so the
 * body is refused as it would be whole.
 */
import { StringDecoder } from 'node:string_decoder';
import { Base64Decoder } from './base64-decoder.js';

/** The member whose string values are lifted. */
const LIFTED_MEMBER = 'ZipFile';
/** What a lifted value becomes in the remaining JSON, followed by the blob's index. */
export const LIFTED_MARK = '\u0000lifted-blob:';

/** A lifted value: its decoded bytes, or undefined when it was not valid base64. */
export interface LiftedBlob {
  readonly bytes: Buffer | undefined;
}

/** The body without its lifted values, and those values. */
export interface LiftedJson {
  readonly json: Buffer;
  readonly blobs: readonly LiftedBlob[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MAX_KEY_BYTES = 256;
const ALPHABET_ONLY = /^[A-Za-z0-9+/]*$/;
// Raw control characters are not allowed in JSON strings.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f]/;
const HEX = /^[0-9A-Fa-f]$/;
const ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};
const INVALID_MARK = Buffer.from('"\u0000"');

/** `rest`: the body cannot be one JSON object any more; what follows is not kept. */
type Mode = 'structure' | 'key' | 'string' | 'blob' | 'rest';

/** One lifted value being decoded. */
interface OpenBlob {
  readonly base64: Base64Decoder;
  readonly text: StringDecoder;
  /** Inside an escape: '' after the backslash, then 'u' and the hex digits read so far. */
  escape: string | undefined;
  malformed: boolean;
}

export class JsonBlobLifter {
  readonly #expectedBytes: number | undefined;
  #consumed = 0;
  readonly #json: Buffer[] = [];
  readonly #blobs: LiftedBlob[] = [];
  /** The open objects (true) and arrays (false), innermost last. */
  readonly #containers: boolean[] = [];
  #mode: Mode = 'structure';
  #keyNext = false;
  /** The last member name read, and the one whose value comes next (after its colon). */
  #lastKey: string | undefined;
  #valueKey: string | undefined;
  #escaped = false;
  #key: number[] = [];
  #blob: OpenBlob | undefined;
  #opened = false;

  /** `expectedBytes`: the body's Content-Length, if known, to size decoded values once. */
  constructor(expectedBytes?: number) {
    this.#expectedBytes = expectedBytes;
  }

  /** Reads the next piece of the body. */
  push(chunk: Buffer): void {
    let copyFrom = 0;
    let i = 0;
    while (i < chunk.length) {
      switch (this.#mode) {
        case 'structure': {
          const c = chunk[i] as number;
          if (this.#containers.length === 0 && !isWhiteSpace(c) && !this.#opens(c)) {
            // Not a JSON object (or something after it): keep the byte that says so, for
            // JSON.parse to name, and nothing after it.
            this.#copy(chunk, copyFrom, i + 1);
            this.#mode = 'rest';
            copyFrom = chunk.length;
            i = chunk.length;
            break;
          }
          if (c === QUOTE && this.#startsLiftedValue()) {
            this.#copy(chunk, copyFrom, i);
            this.#openBlob(i + 1);
          } else this.#structure(c);
          i += 1;
          break;
        }
        case 'key':
          i = this.#readKey(chunk, i);
          break;
        case 'string':
          i = this.#skipString(chunk, i);
          break;
        case 'blob':
          i = this.#readBlob(chunk, i);
          if (this.#mode !== 'blob') copyFrom = i;
          break;
        case 'rest':
          copyFrom = chunk.length;
          i = chunk.length;
          break;
      }
    }
    if (this.#mode !== 'blob') this.#copy(chunk, copyFrom, chunk.length);
    this.#consumed += chunk.length;
  }

  /** The remaining JSON and the lifted values (an unfinished body leaves invalid JSON). */
  end(): LiftedJson {
    return { json: Buffer.concat(this.#json), blobs: this.#blobs };
  }

  /** Whether `c` opens the body's one top-level object (only the first `{` does). */
  #opens(c: number): boolean {
    if (c !== OPEN_OBJECT || this.#opened) return false;
    this.#opened = true;
    return true;
  }

  #startsLiftedValue(): boolean {
    const inObject = this.#containers[this.#containers.length - 1] === true;
    return inObject && !this.#keyNext && this.#valueKey === LIFTED_MEMBER;
  }

  #structure(c: number): void {
    const inObject = this.#containers[this.#containers.length - 1] === true;
    switch (c) {
      case QUOTE:
        this.#mode = inObject && this.#keyNext ? 'key' : 'string';
        this.#key = [];
        this.#escaped = false;
        break;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        this.#containers.push(c === OPEN_OBJECT);
        this.#keyNext = c === OPEN_OBJECT;
        break;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        this.#containers.pop();
        this.#keyNext = false;
        break;
      case COMMA:
        this.#keyNext = inObject;
        break;
      case COLON:
        this.#keyNext = false;
        this.#valueKey = this.#lastKey;
        return;
      default:
        if (isWhiteSpace(c)) return;
    }
    this.#valueKey = undefined;
  }

  #readKey(chunk: Buffer, from: number): number {
    for (let i = from; i < chunk.length; i += 1) {
      const c = chunk[i] as number;
      if (!this.#escaped && c === QUOTE) {
        this.#lastKey = decodeKey(this.#key);
        this.#mode = 'structure';
        return i + 1;
      }
      this.#escaped = !this.#escaped && c === BACKSLASH;
      if (this.#key.length <= MAX_KEY_BYTES) this.#key.push(c);
    }
    return chunk.length;
  }

  #skipString(chunk: Buffer, from: number): number {
    const next = new SpecialBytes(chunk);
    let i = from;
    while (i < chunk.length) {
      if (this.#escaped) {
        this.#escaped = false;
        i += 1;
        continue;
      }
      const end = next.after(i);
      if (end === chunk.length) return end;
      if (chunk[end] === BACKSLASH) {
        this.#escaped = true;
        i = end + 1;
      } else {
        this.#mode = 'structure';
        return end + 1;
      }
    }
    return i;
  }

  #openBlob(valueStart: number): void {
    const remaining =
      this.#expectedBytes === undefined
        ? undefined
        : Math.max(0, this.#expectedBytes - this.#consumed - valueStart);
    this.#blob = {
      base64: new Base64Decoder(remaining),
      text: new StringDecoder('utf8'),
      escape: undefined,
      malformed: false,
    };
    this.#mode = 'blob';
    this.#valueKey = undefined;
  }

  /** Decodes a lifted value up to its closing quote or the chunk's end; returns where it stopped. */
  #readBlob(chunk: Buffer, from: number): number {
    const blob = this.#blob as OpenBlob;
    const next = new SpecialBytes(chunk);
    let i = from;
    while (i < chunk.length) {
      if (blob.escape !== undefined) {
        i = this.#readEscape(blob, chunk, i);
        continue;
      }
      const end = next.after(i);
      // Raw text up to an escape or the end of the value: a multi-byte character cut by a chunk
      // boundary waits for its rest; one cut by an escape or the quote is broken, as in the whole.
      const run = chunk.subarray(i, end);
      const text = end < chunk.length ? blob.text.end(run) : blob.text.write(run);
      if (ALPHABET_ONLY.test(text)) blob.base64.pushAlphabet(text);
      else {
        if (CONTROL.test(text)) blob.malformed = true;
        blob.base64.push(text);
      }
      i = end;
      if (i === chunk.length) break;
      if (chunk[i] === BACKSLASH) {
        blob.escape = '';
        i += 1;
        continue;
      }
      this.#closeBlob(blob);
      return i + 1;
    }
    return i;
  }

  #readEscape(blob: OpenBlob, chunk: Buffer, at: number): number {
    const c = String.fromCharCode(chunk[at] as number);
    if (blob.escape === '') {
      if (c === 'u') {
        blob.escape = 'u';
        return at + 1;
      }
      const escaped = ESCAPES[c];
      if (escaped === undefined) blob.malformed = true;
      else blob.base64.push(escaped);
      blob.escape = undefined;
      return at + 1;
    }
    if (!HEX.test(c)) {
      // Not an escape after all: the JSON is invalid; the byte is read again as text.
      blob.malformed = true;
      blob.escape = undefined;
      return at;
    }
    const escape = `${blob.escape ?? ''}${c}`;
    blob.escape = escape;
    if (escape.length === 5) {
      blob.base64.push(String.fromCharCode(Number.parseInt(escape.slice(1), 16)));
      blob.escape = undefined;
    }
    return at + 1;
  }

  #closeBlob(blob: OpenBlob): void {
    const index = this.#blobs.length;
    this.#blobs.push({ bytes: blob.malformed ? undefined : blob.base64.finish() });
    this.#json.push(
      blob.malformed ? INVALID_MARK : Buffer.from(JSON.stringify(`${LIFTED_MARK}${index}`)),
    );
    this.#blob = undefined;
    this.#mode = 'structure';
  }

  #copy(chunk: Buffer, from: number, to: number): void {
    // A copy: the socket's read buffer behind the chunk is not kept alive for a few bytes.
    if (to > from) this.#json.push(Buffer.from(chunk.subarray(from, to)));
  }
}

/**
 * The next quote or backslash of a chunk at or after a position (the chunk's length if none), each
 * searched for again only once passed: a value full of escapes is read in one pass, not one per
 * escape.
 */
class SpecialBytes {
  readonly #chunk: Buffer;
  #quote = -2;
  #backslash = -2;

  constructor(chunk: Buffer) {
    this.#chunk = chunk;
  }

  after(position: number): number {
    if (this.#quote !== -1 && this.#quote < position)
      this.#quote = this.#chunk.indexOf(QUOTE, position);
    if (this.#backslash !== -1 && this.#backslash < position)
      this.#backslash = this.#chunk.indexOf(BACKSLASH, position);
    let end = this.#chunk.length;
    if (this.#quote >= 0) end = this.#quote;
    if (this.#backslash >= 0 && this.#backslash < end) end = this.#backslash;
    return end;
  }
}

/** JSON's white space between tokens. */
function isWhiteSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A member name from its raw bytes; undefined when it is too long to matter or malformed. */
function decodeKey(raw: readonly number[]): string | undefined {
  if (raw.length > MAX_KEY_BYTES) return undefined;
  const bytes = Buffer.from(raw);
  if (!raw.some((c) => c === BACKSLASH || c >= 0x80)) return bytes.toString('latin1');
  try {
    return JSON.parse(`"${bytes.toString('utf8')}"`) as string;
  } catch {
    return undefined;
  }
}
