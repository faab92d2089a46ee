/**
 * Images pushed to a test registry: an OCI image layout written from tar layers (or built from a
 * folder with umoci) and pushed with skopeo, plus raw manifest and blob uploads for what skopeo
 * would refuse or rewrite (indexes of foreign platforms, zstd media types).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';

const run = promisify(execFile);

export interface ImageConfigInput {
  readonly Entrypoint?: string[];
  readonly Cmd?: string[];
  readonly Env?: string[];
  readonly WorkingDir?: string;
}

export interface PushCredentials {
  readonly username: string;
  readonly password: string;
}

export interface PushLayersOptions {
  /** Uncompressed tar bytes of each layer, bottom first. */
  readonly layers: Buffer[];
  readonly config?: ImageConfigInput;
  /** Gzip the layers (default true). */
  readonly gzip?: boolean;
  readonly credentials?: PushCredentials;
  /** The config's architecture; default this machine's. */
  readonly architecture?: string;
}

export const OCI = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  tar: 'application/vnd.oci.image.layer.v1.tar',
  tarGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** This machine's OCI architecture name. */
export const HOST_ARCH = process.arch === 'arm64' ? 'arm64' : 'amd64';

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Tar bytes of regular files (`path → content`), mode 0644, root-owned. */
export async function tarOf(files: Record<string, string | Buffer>): Promise<Buffer> {
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve);
    archive.on('error', reject);
  });
  for (const [name, content] of Object.entries(files))
    archive.entry({ name, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) }, content);
  archive.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Writes an OCI image layout of `layers` and pushes it to `registryHost` as `repoTag` with skopeo
 * (digests preserved); answers the manifest digest.
 */
export async function pushLayers(
  registryHost: string,
  repoTag: string,
  options: PushLayersOptions,
): Promise<string> {
  const gzip = options.gzip ?? true;
  const layout = await mkdtemp(join(tmpdir(), 'lamina-oci-'));
  try {
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const put = async (bytes: Buffer, mediaType: string) => {
      const digest = sha256(bytes);
      await writeFile(join(blobs, digest.slice(7)), bytes);
      return { mediaType, digest, size: bytes.length };
    };
    const layers = [];
    for (const tar of options.layers)
      layers.push(await put(gzip ? gzipSync(tar) : tar, gzip ? OCI.tarGzip : OCI.tar));
    const config = await put(
      Buffer.from(
        JSON.stringify({
          architecture: options.architecture ?? HOST_ARCH,
          os: 'linux',
          config: options.config ?? {},
          rootfs: { type: 'layers', diff_ids: options.layers.map(sha256) },
        }),
      ),
      OCI.config,
    );
    const manifest = await put(
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI.manifest, config, layers })),
      OCI.manifest,
    );
    const tag = tagOf(repoTag);
    await writeFile(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    await writeFile(
      join(layout, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI.index,
        manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
      }),
    );
    const pushed = await skopeoPush(layout, tag, registryHost, repoTag, options.credentials);
    if (pushed !== manifest.digest)
      throw new Error(`skopeo changed the manifest: ${manifest.digest} became ${pushed}`);
    return pushed;
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}

/**
 * Builds an image from the files of `dir` with umoci (init, new, unpack --rootless, repack,
 * config) and pushes it with skopeo; answers the manifest digest.
 */
export async function imageFromDirectory(
  registryHost: string,
  repoTag: string,
  dir: string,
  config: ImageConfigInput = {},
): Promise<string> {
  const work = await mkdtemp(join(tmpdir(), 'lamina-umoci-'));
  try {
    const layout = join(work, 'layout');
    const bundle = join(work, 'bundle');
    const tag = tagOf(repoTag);
    const image = `${layout}:${tag}`;
    await run('umoci', ['init', '--layout', layout]);
    await run('umoci', ['new', '--image', image]);
    await run('umoci', ['unpack', '--rootless', '--image', image, bundle]);
    await cp(dir, join(bundle, 'rootfs'), { recursive: true });
    await run('umoci', ['repack', '--image', image, bundle]);
    const args = ['config', '--image', image];
    for (const item of config.Entrypoint ?? []) args.push('--config.entrypoint', item);
    for (const item of config.Cmd ?? []) args.push('--config.cmd', item);
    for (const item of config.Env ?? []) args.push('--config.env', item);
    if (config.WorkingDir !== undefined) args.push('--config.workingdir', config.WorkingDir);
    await run('umoci', args);
    return await skopeoPush(layout, tag, registryHost, repoTag, undefined);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Uploads one blob with the distribution API's monolithic upload; answers its descriptor. */
export async function pushBlob(
  registryHost: string,
  repository: string,
  bytes: Buffer,
  mediaType: string,
  credentials?: PushCredentials,
): Promise<{ mediaType: string; digest: string; size: number }> {
  const digest = sha256(bytes);
  const base = `http://${registryHost}`;
  const started = await fetch(`${base}/v2/${repository}/blobs/uploads/`, {
    method: 'POST',
    headers: authHeaders(credentials),
  });
  const location = started.headers.get('location');
  if (started.status !== 202 || location === null)
    throw new Error(`blob upload start answered ${started.status}: ${await started.text()}`);
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  const finished = await fetch(url, {
    method: 'PUT',
    headers: { ...authHeaders(credentials), 'content-type': 'application/octet-stream' },
    body: bytes,
  });
  if (finished.status !== 201)
    throw new Error(`blob upload answered ${finished.status}: ${await finished.text()}`);
  return { mediaType, digest, size: bytes.length };
}

/** PUTs a manifest (or index) document as `repository:reference`; answers its digest. */
export async function pushManifest(
  registryHost: string,
  repoTag: string,
  document: unknown,
  mediaType: string,
  credentials?: PushCredentials,
): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(document));
  const [repository, tag] = splitRepoTag(repoTag);
  const response = await fetch(`http://${registryHost}/v2/${repository}/manifests/${tag}`, {
    method: 'PUT',
    headers: { ...authHeaders(credentials), 'content-type': mediaType },
    body: bytes,
  });
  if (response.status !== 201)
    throw new Error(`manifest upload answered ${response.status}: ${await response.text()}`);
  return sha256(bytes);
}

async function skopeoPush(
  layout: string,
  tag: string,
  registryHost: string,
  repoTag: string,
  credentials: PushCredentials | undefined,
): Promise<string> {
  const digestFile = join(layout, '..', `${tag}.${process.pid}.digest`);
  const args = ['copy', '--quiet', '--dest-tls-verify=false', '--preserve-digests'];
  args.push('--digestfile', digestFile);
  if (credentials !== undefined)
    args.push('--dest-creds', `${credentials.username}:${credentials.password}`);
  args.push(`oci:${layout}:${tag}`, `docker://${registryHost}/${repoTag}`);
  try {
    await run('skopeo', args);
    return (await readFile(digestFile, 'utf8')).trim();
  } finally {
    await rm(digestFile, { force: true });
  }
}

function authHeaders(credentials: PushCredentials | undefined): Record<string, string> {
  if (credentials === undefined) return {};
  const basic = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
  return { authorization: `Basic ${basic}` };
}

function tagOf(repoTag: string): string {
  return splitRepoTag(repoTag)[1];
}

function splitRepoTag(repoTag: string): [string, string] {
  const colon = repoTag.lastIndexOf(':');
  if (colon < 0 || repoTag.slice(colon).includes('/')) return [repoTag, 'latest'];
  return [repoTag.slice(0, colon), repoTag.slice(colon + 1)];
}
