/**
 * Parsing JSON that came from a function, into values the platform writes out again. V8's
 * `JSON.parse` takes any nesting, but `JSON.stringify` recurses and throws past a few thousand
 * levels: a payload of `[[[[…]]]]` that was parsed would break every later answer that embeds it.
 * So text nested deeper than a bound stays text.
 */

/** Deepest nesting that is parsed (AWS services commonly allow far less). */
export const MAX_JSON_NESTING = 1000;

/** `text` parsed as JSON, or undefined when it is not JSON or is nested too deeply. */
export function parseJsonWithin(
  text: string,
  maxNesting = MAX_JSON_NESTING,
): { readonly value: unknown } | undefined {
  if (nestingDepth(text) > maxNesting) return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

/** The deepest nesting of `[` and `{` in JSON text, ignoring strings (linear). */
export function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, (depth += 1));
    else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return deepest;
}

/**
 * Whether JSON bytes nest `[` and `{` deeper than `limit` outside strings: read as bytes (no
 * string is made) and stopped at the first level too deep, so a megabyte of bracket soup costs a
 * few milliseconds where parsing it would block for a third of a second.
 */
export function nestingExceeds(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}
