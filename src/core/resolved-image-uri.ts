/** `ResolvedImageUri`: an image function's URI pinned to the digest it resolved to. */
import { formatResolved, parseImageReference } from './image-reference.js';

/** `host/repository@sha256:…` for `uri` (as given, with a tag or digest) and `digest`. */
export function resolvedImageUri(uri: string, digest: string): string {
  const ref = parseImageReference(uri);
  if (typeof ref === 'string') throw new Error(`not an image URI: ${uri} (${ref})`);
  return formatResolved(ref, digest);
}
