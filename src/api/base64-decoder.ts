/**
 * Decodes base64 text that arrives in pieces straight into one Buffer, so a 70 MB `ZipFile` is never
 * held as text. It accepts exactly what the one-piece rule of `WireObject.blob` accepts: white
 * space (JavaScript's `\s`) anywhere is ignored, `=` padding (at most two) only at the end, and a
 * length without white space that leaves 1 when divided by 4 is refused; the bytes are those
 * `Buffer.from(text, 'base64')` gives.
 */

const ALPHABET_ONLY = /^[A-Za-z0-9+/]*$/;
const WHITE_SPACE = /\s+/g;
const ALPHABET_THEN_PADDING = /^([A-Za-z0-9+/]*)(=*)$/;
/** Capacity of the output when the caller cannot say how large the text will be. */
const INITIAL_CAPACITY = 64 * 1024;

export class Base64Decoder {
  #out: Buffer;
  #written = 0;
  /** Alphabet characters not yet decoded (fewer than 4 after each push). */
  #pending = '';
  #alphabetChars = 0;
  #padding = 0;
  #valid = true;

  /** `expectedChars`: an upper bound of the text's length, if known, to size the output once. */
  constructor(expectedChars?: number) {
    const capacity =
      expectedChars === undefined ? INITIAL_CAPACITY : Math.ceil(expectedChars / 4) * 3 + 3;
    this.#out = Buffer.allocUnsafeSlow(capacity);
  }

  /** False once the text is known not to be base64 (the rest is then ignored). */
  get valid(): boolean {
    return this.#valid;
  }

  /** Feeds the next piece of text. */
  push(text: string): void {
    if (!this.#valid || text.length === 0) return;
    let chars = text;
    let padding = 0;
    if (!ALPHABET_ONLY.test(chars)) {
      chars = chars.replace(WHITE_SPACE, '');
      if (!ALPHABET_ONLY.test(chars)) {
        const match = ALPHABET_THEN_PADDING.exec(chars);
        if (match === null) return this.#invalid();
        chars = match[1] ?? '';
        padding = (match[2] ?? '').length;
      }
    }
    this.#append(chars);
    this.#padding += padding;
    if (this.#padding > 2) this.#invalid();
  }

  /** Feeds text known to hold base64 alphabet characters only (no white space, no padding). */
  pushAlphabet(chars: string): void {
    if (this.#valid) this.#append(chars);
  }

  /** The decoded bytes, or undefined when the text was not valid base64. */
  finish(): Buffer | undefined {
    if (!this.#valid || (this.#alphabetChars + this.#padding) % 4 === 1) return undefined;
    // A tail of 2 or 3 characters carries 1 or 2 bytes (and 1 character none), as Buffer decodes it.
    if (this.#pending.length > 0) this.#decode(this.#pending);
    this.#pending = '';
    const out = this.#out;
    // A generous first guess is given back rather than kept alive behind a small view.
    if (this.#written < out.length / 2 && out.length > INITIAL_CAPACITY) {
      return Buffer.from(out.subarray(0, this.#written));
    }
    return out.subarray(0, this.#written);
  }

  #append(chars: string): void {
    if (chars.length === 0) return;
    // Nothing but white space and padding may follow padding.
    if (this.#padding > 0) return this.#invalid();
    this.#alphabetChars += chars.length;
    const text = this.#pending + chars;
    const whole = text.length - (text.length % 4);
    this.#pending = text.slice(whole);
    if (whole > 0) this.#decode(whole === text.length ? text : text.slice(0, whole));
  }

  #decode(chars: string): void {
    const bytes = (chars.length / 4) * 3 + 2;
    if (this.#written + bytes > this.#out.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.#out.length * 2, this.#written + bytes));
      this.#out.copy(grown, 0, 0, this.#written);
      this.#out = grown;
    }
    this.#written += this.#out.write(chars, this.#written, 'base64');
  }

  #invalid(): void {
    this.#valid = false;
    this.#pending = '';
    this.#out = Buffer.alloc(0);
  }
}
