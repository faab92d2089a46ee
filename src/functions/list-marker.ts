/** The opaque `Marker` of paginated lists: the key of the last item listed, base64url JSON. */
import { lambdaErrors } from '../core/errors.js';

/** The marker that continues a list after the item with key `after`. */
export function encodeMarker(after: string): string {
  return Buffer.from(JSON.stringify({ after })).toString('base64url');
}

/** The key a marker continues after; InvalidParameterValueException when it is not one of ours. */
export function decodeMarker(marker: string): string {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'after' in parsed) {
      const after = parsed.after;
      if (typeof after === 'string') return after;
    }
  } catch {
    // fall through to the error below
  }
  throw lambdaErrors.invalidParameter(`Invalid Marker: ${marker}`);
}
