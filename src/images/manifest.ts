/**
 * Reading what a registry serves, as the OCI image spec and Docker's schema 2 define it: manifests,
 * indexes (manifest lists), descriptors and the image configuration, with the limits that keep a
 * hostile registry bounded. Pure: each function answers a value or a message saying what is wrong.
 */
import type { ImageRunConfig } from '../functions/image-store.js';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** The Accept header of a manifest request: every manifest and index type Lamina reads. */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerList,
].join(', ');

/** Layer media types Lamina unpacks (uncompressed or gzip tar). */
export const LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
  'application/vnd.docker.image.rootfs.diff.tar',
]);

/** Bounds on what a registry may make Lamina read. */
export const PULL_LIMITS = {
  /** A manifest, index or configuration document: 4 MiB. */
  documentBytes: 4 * 1024 * 1024,
  layers: 128,
  /** The layers' compressed sizes added up: 10 GiB. */
  compressedBytes: 10 * 1024 * 1024 * 1024,
} as const;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** A content descriptor: what a manifest says about a blob or a child manifest. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: Platform;
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export type ManifestDocument =
  | { readonly kind: 'index'; readonly manifests: readonly Descriptor[] }
  | {
      readonly kind: 'image';
      readonly config: Descriptor;
      readonly layers: readonly Descriptor[];
    };

/** Reads a manifest or index; `contentType` is the response's, used when the body names none. */
export function parseManifest(
  bytes: Buffer,
  contentType: string | undefined,
): ManifestDocument | string {
  const json = parseObject(bytes, 'manifest');
  if (typeof json === 'string') return json;
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  const mediaType = declared ?? contentType?.split(';')[0]?.trim();
  if (
    json.schemaVersion === 1 ||
    mediaType?.startsWith('application/vnd.docker.distribution.manifest.v1')
  )
    return 'the manifest is Docker schema 1, which is deprecated and not supported; push the image again with a current Docker or buildah';
  if (json.schemaVersion !== 2) return 'the manifest has no schemaVersion 2';
  const isIndex =
    mediaType === MEDIA_TYPES.ociIndex ||
    mediaType === MEDIA_TYPES.dockerList ||
    (mediaType === undefined && Array.isArray(json.manifests));
  if (isIndex) {
    if (!Array.isArray(json.manifests)) return 'the image index has no manifests list';
    const manifests: Descriptor[] = [];
    for (const item of json.manifests) {
      const descriptor = parseDescriptor(item, 'an index entry');
      if (typeof descriptor === 'string') return descriptor;
      manifests.push(descriptor);
    }
    return { kind: 'index', manifests };
  }
  if (
    mediaType !== undefined &&
    mediaType !== MEDIA_TYPES.ociManifest &&
    mediaType !== MEDIA_TYPES.dockerManifest
  )
    return `the manifest has media type ${mediaType}, which is not a container image manifest`;
  const config = parseDescriptor(json.config, 'the config');
  if (typeof config === 'string') return config;
  if (!Array.isArray(json.layers)) return 'the manifest has no layers list';
  if (json.layers.length > PULL_LIMITS.layers)
    return `the image has ${json.layers.length} layers; at most ${PULL_LIMITS.layers} are supported`;
  const layers: Descriptor[] = [];
  let total = 0;
  for (const item of json.layers) {
    const layer = parseDescriptor(item, 'a layer');
    if (typeof layer === 'string') return layer;
    const problem = layerProblem(layer);
    if (problem !== undefined) return problem;
    total += layer.size;
    layers.push(layer);
  }
  if (total > PULL_LIMITS.compressedBytes)
    return `the image's layers add up to ${total} bytes compressed; at most ${PULL_LIMITS.compressedBytes} (10 GiB) are supported`;
  if (config.mediaType !== MEDIA_TYPES.ociConfig && config.mediaType !== MEDIA_TYPES.dockerConfig)
    return `the manifest's config has media type ${config.mediaType}: this is not a container image`;
  if (config.size > PULL_LIMITS.documentBytes)
    return `the image configuration is ${config.size} bytes; at most ${PULL_LIMITS.documentBytes} are supported`;
  return { kind: 'image', config, layers };
}

/** Why a layer cannot be unpacked (zstd, foreign, non-distributable…), or undefined. */
export function layerProblem(layer: Descriptor): string | undefined {
  if (LAYER_MEDIA_TYPES.has(layer.mediaType)) return undefined;
  if (layer.mediaType.endsWith('+zstd') || layer.mediaType.endsWith('.zstd'))
    return `layer ${layer.digest} has media type ${layer.mediaType}: zstd-compressed layers are not supported; rebuild the image with gzip compression`;
  if (layer.mediaType.includes('foreign') || layer.mediaType.includes('nondistributable'))
    return `layer ${layer.digest} has media type ${layer.mediaType}: foreign or non-distributable layers are not supported`;
  return `layer ${layer.digest} has media type ${layer.mediaType}, which is not a tar or tar+gzip layer`;
}

/**
 * The entry of an index for `linux/<architecture>` (for arm64, variant v8 or none), or a message
 * naming the platforms offered.
 */
export function choosePlatform(
  manifests: readonly Descriptor[],
  architecture: string,
): Descriptor | string {
  const chosen = manifests.find(
    (entry) =>
      entry.platform?.os === 'linux' &&
      entry.platform.architecture === architecture &&
      (architecture !== 'arm64' ||
        entry.platform.variant === undefined ||
        entry.platform.variant === 'v8'),
  );
  if (chosen !== undefined) return chosen;
  const offered = manifests
    .map((entry) => entry.platform)
    .filter((platform): platform is Platform => platform !== undefined)
    .filter((platform) => platform.os !== 'unknown')
    .map((p) => `${p.os}/${p.architecture}${p.variant === undefined ? '' : `/${p.variant}`}`);
  return `the image index has no manifest for linux/${architecture} (it offers ${offered.length === 0 ? 'no platform' : [...new Set(offered)].join(', ')})`;
}

/** What an image configuration says: how it starts and which platform it is for. */
export interface ImageConfigSummary {
  readonly runConfig: ImageRunConfig;
  readonly os: string | undefined;
  readonly architecture: string | undefined;
}

/** Reads an image configuration blob. */
export function parseImageConfig(bytes: Buffer): ImageConfigSummary | string {
  const json = parseObject(bytes, 'image configuration');
  if (typeof json === 'string') return json;
  const config = json.config ?? {};
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    return 'the image configuration has a config that is not an object';
  const fields = config as Record<string, unknown>;
  const entrypoint = stringList(fields.Entrypoint, 'Entrypoint');
  if (typeof entrypoint === 'string') return entrypoint;
  const cmd = stringList(fields.Cmd, 'Cmd');
  if (typeof cmd === 'string') return cmd;
  const env = stringList(fields.Env, 'Env');
  if (typeof env === 'string') return env;
  const workingDir = fields.WorkingDir;
  if (workingDir !== undefined && workingDir !== null && typeof workingDir !== 'string')
    return 'the image configuration has a WorkingDir that is not a string';
  return {
    runConfig: {
      entrypoint,
      cmd,
      env: env ?? [],
      workingDir: typeof workingDir === 'string' && workingDir !== '' ? workingDir : undefined,
    },
    os: typeof json.os === 'string' ? json.os : undefined,
    architecture: typeof json.architecture === 'string' ? json.architecture : undefined,
  };
}

/** The OCI architecture name of this machine, or undefined when images cannot run on it. */
export function hostArchitecture(nodeArch: string = process.arch): string | undefined {
  if (nodeArch === 'x64') return 'amd64';
  if (nodeArch === 'arm64') return 'arm64';
  return undefined;
}

function parseDescriptor(value: unknown, what: string): Descriptor | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `${what} is not a descriptor object`;
  const item = value as Record<string, unknown>;
  const { mediaType, digest, size } = item;
  if (typeof mediaType !== 'string' || mediaType.length === 0 || mediaType.length > 255)
    return `${what} has no media type`;
  if (typeof digest !== 'string' || !DIGEST_RE.test(digest))
    return `${what} has digest ${JSON.stringify(digest)}; only sha256:<64 hex> digests are supported`;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
    return `${what} (${digest}) has an invalid size`;
  const platform = parsePlatform(item.platform);
  return platform === undefined
    ? { mediaType, digest, size }
    : { mediaType, digest, size, platform };
}

function parsePlatform(value: unknown): Platform | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { os, architecture, variant } = value as Record<string, unknown>;
  if (typeof os !== 'string' || typeof architecture !== 'string') return undefined;
  return typeof variant === 'string' ? { os, architecture, variant } : { os, architecture };
}

function stringList(value: unknown, field: string): string[] | undefined | string {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    return `the image configuration has a ${field} that is not a list of strings`;
  return value;
}

function parseObject(bytes: Buffer, what: string): Record<string, unknown> | string {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return `the ${what} is not valid JSON`;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return `the ${what} is not a JSON object`;
  return json as Record<string, unknown>;
}
