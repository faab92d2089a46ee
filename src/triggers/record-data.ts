/**
 * What event filters see of a record's bytes: the parsed JSON value when they are UTF-8 JSON, the
 * text when they are other UTF-8, nothing when they are not text (then only metadata filters can
 * match, as on Lambda).
 */
const utf8 = new TextDecoder('utf-8', { fatal: true });

export function decodedData(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
