/**
 * Container image references as `ImageUri` takes them: `host[:port]/repository[:tag]`,
 * `host[:port]/repository@sha256:<64 hex>` or both (`repository:tag@sha256:…`, the digest wins).
 * The grammar is the distribution spec's; AWS requires a registry host, so unlike Docker a bare
 * `repository:tag` is refused instead of meaning Docker Hub. Pure.
 */

/** A parsed image reference. */
export interface ImageReference {
  /** The registry as written: `host`, `host:port` or `[ipv6]:port`. */
  readonly host: string;
  /** The repository path inside the registry, e.g. `team/app`. */
  readonly repository: string;
  /** The tag; `latest` when the reference names neither a tag nor a digest (as Docker does). */
  readonly tag: string | undefined;
  /** `sha256:<64 hex>` when the reference pins one. */
  readonly digest: string | undefined;
}

/** The longest `host/repository` Docker accepts. */
const NAME_MAX_LENGTH = 255;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:.]+\\])(?::[0-9]{1,5})?$`,
);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^\w[\w.-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** Parses an image URI; answers the reference or a message saying what is wrong with it. */
export function parseImageReference(uri: string): ImageReference | string {
  if (uri.length === 0) return 'The image URI is empty.';
  let rest = uri;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest))
      return `The image URI ${uri} has an invalid digest "${digest}": expected sha256: followed by 64 lower-case hex digits.`;
  }
  const slash = rest.indexOf('/');
  if (slash < 0) return missingHost(uri);
  const host = rest.slice(0, slash);
  if (!looksLikeHost(host)) return missingHost(uri);
  if (!HOST_RE.test(host) || !validPort(host))
    return `The image URI ${uri} has an invalid registry host "${host}".`;
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0 && !path.slice(colon).includes('/')) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG_RE.test(tag))
      return `The image URI ${uri} has an invalid tag "${tag}": a tag is 1 to 128 letters, digits, underscores, dots and dashes, not starting with a dot or dash.`;
  }
  if (path.length === 0) return `The image URI ${uri} names no repository after the host.`;
  const bad = path.split('/').find((component) => !PATH_COMPONENT_RE.test(component));
  if (bad !== undefined)
    return `The image URI ${uri} has an invalid repository "${path}": each path component must be lower-case letters and digits, separated by ".", "_", "__" or dashes${bad === '' ? ' (empty component)' : ` ("${bad}" is not)`}.`;
  if (host.length + 1 + path.length > NAME_MAX_LENGTH)
    return `The image URI ${uri} is too long: host and repository together must be at most ${NAME_MAX_LENGTH} characters.`;
  return {
    host,
    repository: path,
    tag: tag ?? (digest === undefined ? 'latest' : undefined),
    digest,
  };
}

/** `host/repository@digest`: the reference pinned to what it resolved to (`ResolvedImageUri`). */
export function formatResolved(ref: ImageReference, digest: string): string {
  return `${ref.host}/${ref.repository}@${digest}`;
}

/** What the registry is asked for: the digest when pinned, otherwise the tag. */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** The host name without port or brackets, e.g. `::1` for `[::1]:5000`. */
export function hostName(host: string): string {
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'));
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

/** Docker's rule: the first component names a registry when it has a dot, a port or is localhost. */
function looksLikeHost(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component.startsWith('[') ||
    component === 'localhost'
  );
}

function validPort(host: string): boolean {
  const end = host.startsWith('[') ? host.indexOf(']') + 1 : host.indexOf(':');
  if (end < 0 || end === host.length) return true;
  const port = Number(host.slice(end + 1));
  return port >= 1 && port <= 65535;
}

function missingHost(uri: string): string {
  return `The image URI ${uri} names no registry host: write it as host[:port]/repository:tag or host[:port]/repository@sha256:<digest> (for example 127.0.0.1:5000/app:v1).`;
}
