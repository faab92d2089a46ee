/**
 * The last lines of one invocation's log, for `X-Amz-Log-Result` (its last 4 KB). Only as many
 * lines are kept as that needs, so an invocation that logs gigabytes holds a few kilobytes here.
 */

/** How much of the log `X-Amz-Log-Result` carries (bytes). */
export const LOG_TAIL_BYTES = 4096;

export class LogTail {
  readonly #lines: string[] = [];
  /** Characters kept, counting one newline between lines. */
  #chars = 0;

  push(line: string): void {
    this.#lines.push(line);
    this.#chars += line.length + 1;
    // A character is at least one byte: lines beyond the last LOG_TAIL_BYTES characters cannot
    // reach into the last LOG_TAIL_BYTES bytes.
    for (;;) {
      const first = this.#lines[0];
      if (first === undefined || this.#chars - (first.length + 1) < LOG_TAIL_BYTES) break;
      this.#lines.shift();
      this.#chars -= first.length + 1;
    }
  }

  /** The kept lines, newline-separated (at least the last LOG_TAIL_BYTES bytes of the log). */
  text(): string {
    return this.#lines.join('\n');
  }
}
