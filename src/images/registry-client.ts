/**
 * Pulling from an OCI / Docker v2 registry as the distribution spec describes it: resolving a
 * reference to an image manifest (choosing linux/<this machine's architecture> from an index),
 * reading its configuration, and streaming layer blobs to files verified against their digests.
 * Authenticates on demand (anonymous first; Bearer tokens or Basic on a 401) and turns every
 * failure into an ImagePullError whose message the user sees as the function's state reason.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hostName, manifestReference, type ImageReference } from '../core/image-reference.js';
import {
  ImagePullError,
  type ImageFailureCode,
  type ImageRunConfig,
  type RegistryCredential,
  type RegistryCredentials,
} from '../functions/image-store.js';
import {
  choosePlatform,
  hostArchitecture,
  MANIFEST_ACCEPT,
  parseImageConfig,
  parseManifest,
  PULL_LIMITS,
  type Descriptor,
  type ManifestDocument,
} from './manifest.js';
import { basicAuthorization, parseChallenges, tokenFromAnswer, tokenUrl } from './registry-auth.js';
import {
  isLoopback,
  RegistryTransport,
  TransportError,
  type Response,
  type TransportTimeouts,
} from './registry-transport.js';

const MAX_REDIRECTS = 5;
const MAX_TOKEN_ANSWER_BYTES = 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface RegistryClientOptions {
  readonly credentials: RegistryCredentials;
  /** Hosts (`host` or `host:port`) allowed to speak plain HTTP besides loopback ones. */
  readonly insecureRegistries: readonly string[];
  readonly timeouts?: Partial<TransportTimeouts>;
}

/** The image manifest a reference resolved to. */
export interface ResolvedManifest {
  /** The image manifest's digest (for an index, the digest of the platform's manifest). */
  readonly digest: string;
  /** The descriptor of its configuration blob. */
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  /** The layers' compressed sizes added up. */
  readonly sizeBytes: number;
}

export class RegistryClient {
  readonly #transport: RegistryTransport;
  readonly #credentials: RegistryCredentials;

  constructor(options: RegistryClientOptions) {
    this.#credentials = options.credentials;
    this.#transport = new RegistryTransport({
      insecureRegistries: options.insecureRegistries,
      ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
    });
  }

  /** A session for pulling `ref` (written by the user as `uri`, quoted in messages). */
  session(ref: ImageReference, uri: string): RegistrySession {
    return new RegistrySession(this.#transport, this.#credentials, ref, uri);
  }
}

/** The requests of one pull: they share the authorization they earned. */
export class RegistrySession {
  readonly #transport: RegistryTransport;
  readonly #credentials: RegistryCredentials;
  readonly #ref: ImageReference;
  readonly #uri: string;
  #authorization: string | undefined;
  #credential: Promise<RegistryCredential | undefined> | undefined;

  constructor(
    transport: RegistryTransport,
    credentials: RegistryCredentials,
    ref: ImageReference,
    uri: string,
  ) {
    this.#transport = transport;
    this.#credentials = credentials;
    this.#ref = ref;
    this.#uri = uri;
  }

  /** An ImagePullError whose message starts `Lamina could not pull <uri>: `. */
  fail(code: ImageFailureCode, detail: string): ImagePullError {
    return new ImagePullError(code, `Lamina could not pull ${this.#uri}: ${detail}`);
  }

  /**
   * Resolves the reference to an image manifest (for an index, the one for linux/<this machine's
   * architecture>), checking its digest when the reference pins one.
   */
  async resolve(signal?: AbortSignal): Promise<ResolvedManifest> {
    const architecture = this.#architecture();
    let { document, digest } = await this.#manifest(
      manifestReference(this.#ref),
      this.#ref.digest,
      signal,
    );
    if (document.kind === 'index') {
      const chosen = choosePlatform(document.manifests, architecture);
      if (typeof chosen === 'string') throw this.fail('InvalidImage', chosen);
      ({ document, digest } = await this.#manifest(chosen.digest, chosen.digest, signal));
      if (document.kind === 'index')
        throw this.fail(
          'InvalidImage',
          `the index entry ${chosen.digest} is itself an index; nested indexes are not supported`,
        );
    }
    return {
      digest,
      config: document.config,
      layers: document.layers,
      sizeBytes: document.layers.reduce((sum, layer) => sum + layer.size, 0),
    };
  }

  /** Reads the image configuration blob; refuses an image for another OS or architecture. */
  async runConfig(config: Descriptor, signal?: AbortSignal): Promise<ImageRunConfig> {
    const architecture = this.#architecture();
    const summary = parseImageConfig(await this.#blobBytes(config, signal));
    if (typeof summary === 'string') throw this.fail('InvalidImage', summary);
    if (summary.os !== undefined && summary.os !== 'linux')
      throw this.fail(
        'InvalidImage',
        `the image is for ${summary.os}; only linux images run on Lamina`,
      );
    if (summary.architecture !== undefined && summary.architecture !== architecture)
      throw this.fail(
        'InvalidImage',
        `the image is for linux/${summary.architecture}, but this server runs linux/${architecture}`,
      );
    return summary.runConfig;
  }

  #architecture(): string {
    const architecture = hostArchitecture();
    if (architecture === undefined)
      throw this.fail(
        'InternalError',
        `this machine's architecture (${process.arch}) cannot run container images`,
      );
    return architecture;
  }

  /**
   * Streams the blob of `layer` into `file` (created, must not exist) and checks its size and
   * digest; a mismatch is InvalidImage. The caller deletes the file when this throws.
   */
  async downloadBlob(layer: Descriptor, file: string, signal?: AbortSignal): Promise<void> {
    const what = `layer ${layer.digest}`;
    const response = await this.#get(this.#path('blobs', layer.digest), {}, what, signal);
    await this.#check(response, what, 'blob');
    const declared = Number(response.headers['content-length'] ?? Number.NaN);
    if (declared > layer.size) {
      response.body.destroy();
      throw this.fail(
        'InvalidImage',
        `the registry sends ${declared} bytes for ${what}, whose manifest size is ${layer.size}`,
      );
    }
    const hash = createHash('sha256');
    let count = 0;
    const tooLong = this.fail(
      'InvalidImage',
      `the registry sent more bytes for ${what} than its manifest size ${layer.size}`,
    );
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        count += chunk.length;
        if (count > layer.size) {
          callback(tooLong);
          return;
        }
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(
        response.body,
        meter,
        createWriteStream(file, { flags: 'wx', mode: 0o600 }),
        ...(signal === undefined ? [] : [{ signal }]),
      );
    } catch (error) {
      if (error instanceof ImagePullError || isAbort(error)) throw error;
      throw this.fail(
        'InternalError',
        `the download of ${what} from ${this.#ref.host} failed: ${messageOf(error)}`,
      );
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (count !== layer.size || actual !== layer.digest)
      throw this.fail(
        'InvalidImage',
        `${what} does not match its digest: the registry sent ${count} bytes hashing to ${actual} (the manifest says ${layer.size} bytes)`,
      );
  }

  async #manifest(
    reference: string,
    expected: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ document: ManifestDocument; digest: string }> {
    const response = await this.#get(
      this.#path('manifests', reference),
      { accept: MANIFEST_ACCEPT },
      'the manifest',
      signal,
    );
    await this.#check(response, 'the manifest', 'manifest');
    const bytes = await this.#readBounded(response, PULL_LIMITS.documentBytes, 'the manifest');
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (expected !== undefined && digest !== expected)
      throw this.fail(
        'InvalidImage',
        `the manifest the registry sent for ${expected} has digest ${digest}`,
      );
    const document = parseManifest(bytes, header(response, 'content-type'));
    if (typeof document === 'string') throw this.fail('InvalidImage', document);
    return { document, digest };
  }

  async #blobBytes(descriptor: Descriptor, signal: AbortSignal | undefined): Promise<Buffer> {
    const what = `the image configuration ${descriptor.digest}`;
    const response = await this.#get(this.#path('blobs', descriptor.digest), {}, what, signal);
    await this.#check(response, what, 'blob');
    const bytes = await this.#readBounded(
      response,
      Math.min(descriptor.size, PULL_LIMITS.documentBytes),
      what,
    );
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (digest !== descriptor.digest || bytes.length !== descriptor.size)
      throw this.fail(
        'InvalidImage',
        `${what} does not match its digest (the registry sent ${bytes.length} bytes hashing to ${digest})`,
      );
    return bytes;
  }

  #path(kind: 'manifests' | 'blobs', reference: string): string {
    return `/v2/${this.#ref.repository}/${kind}/${reference}`;
  }

  /** GETs a registry path, following redirects and authenticating once when answered 401. */
  async #get(
    path: string,
    headers: Record<string, string>,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    let authenticated = false;
    for (;;) {
      const response = await this.#follow(
        this.#transport.urlFor(this.#ref.host, path),
        headers,
        what,
        signal,
      );
      // Only the registry's own 401 is answered with its credentials: a host it redirected to
      // does not get to name a realm for them.
      if (response.status !== 401 || authenticated || response.url.host !== this.#ref.host)
        return response;
      // Not drained: connections are not reused, and a body that never ends would stream on.
      response.body.destroy();
      await this.#authenticate(parseChallenges(response.headers['www-authenticate']), signal);
      authenticated = true;
    }
  }

  async #follow(
    start: URL,
    headers: Record<string, string>,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    let url = start;
    for (let hop = 0; ; hop += 1) {
      const sameOrigin = url.host === start.host;
      const sent = {
        ...headers,
        ...(sameOrigin && this.#authorization !== undefined
          ? { authorization: this.#authorization }
          : {}),
      };
      const response = await this.#send(url, sent, what, signal);
      const location = header(response, 'location');
      if (![301, 302, 303, 307, 308].includes(response.status) || location === undefined)
        return response;
      response.body.destroy();
      if (hop >= MAX_REDIRECTS)
        throw this.fail(
          'InternalError',
          `the registry redirected ${what} more than ${MAX_REDIRECTS} times`,
        );
      try {
        url = new URL(location, url);
      } catch {
        throw this.fail(
          'InternalError',
          `the registry redirected ${what} to ${JSON.stringify(location.slice(0, 200))}, which is not a URL`,
        );
      }
    }
  }

  async #send(
    url: URL,
    headers: Record<string, string>,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<Response> {
    // A registry elsewhere may not send the server to this machine's own services (by a redirect
    // or a token realm): loopback is reached only for a registry that is itself on loopback.
    if (isLoopback(hostName(url.hostname)) && !isLoopback(hostName(this.#ref.host)))
      throw this.fail(
        'InternalError',
        `the registry sent ${what} to ${url.origin}, a loopback address, which only a registry on loopback may`,
      );
    try {
      return await this.#transport.get(url, headers, signal);
    } catch (error) {
      if (isAbort(error)) throw error;
      const hint =
        error instanceof TransportError &&
        error.kind === 'tls' &&
        !this.#transport.allowsPlainHttp(url.host)
          ? `; if ${url.host} serves plain HTTP, start the Lamina server with --insecure-registry ${url.host}`
          : '';
      throw this.fail('InternalError', `could not fetch ${what}: ${messageOf(error)}${hint}`);
    }
  }

  async #authenticate(
    challenges: ReturnType<typeof parseChallenges>,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.#credential ??= this.#credentials.lookup(this.#ref.host);
    const credential = await this.#credential;
    const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
    if (bearer !== undefined) {
      const url = tokenUrl(bearer, this.#ref.repository);
      if (typeof url === 'string') throw this.fail('InternalError', url);
      const headers: Record<string, string> =
        credential === undefined ? {} : { authorization: basicAuthorization(credential) };
      const response = await this.#send(url, headers, `a token from ${url.origin}`, signal);
      if (response.status === 401 || response.status === 403) {
        response.body.destroy();
        throw this.#denied(
          credential !== undefined,
          ` (its token service ${url.origin}${url.pathname} answered ${response.status})`,
        );
      }
      if (response.status !== 200) {
        const detail = await this.#errorDetail(response);
        throw this.fail(
          'InternalError',
          `the token service ${url.origin}${url.pathname} answered ${response.status}${detail}`,
        );
      }
      const token = tokenFromAnswer(
        await this.#readBounded(response, MAX_TOKEN_ANSWER_BYTES, 'the token', () =>
          this.fail(
            'InternalError',
            `the token service ${url.origin}${url.pathname} answered more than ${MAX_TOKEN_ANSWER_BYTES} bytes`,
          ),
        ),
      );
      if (token === undefined)
        throw this.fail(
          'InternalError',
          `the token service ${url.origin}${url.pathname} answered without a token`,
        );
      this.#authorization = `Bearer ${token}`;
      return;
    }
    if (challenges.some((challenge) => challenge.scheme === 'basic')) {
      if (credential === undefined) throw this.#denied(false, '');
      this.#authorization = basicAuthorization(credential);
      return;
    }
    const schemes = challenges.map((challenge) => challenge.scheme).join(', ');
    throw this.fail(
      'ImageAccessDenied',
      `the registry asks for authentication Lamina does not support (${schemes === '' ? 'no WWW-Authenticate challenge' : schemes})`,
    );
  }

  #denied(withCredential: boolean, detail: string): ImagePullError {
    const host = this.#ref.host;
    return this.fail(
      'ImageAccessDenied',
      withCredential
        ? `the registry refused access with the credentials stored for ${host}${detail}; check them with \`npx lamina registries login ${host}\``
        : `the registry refused access${detail}; log in with \`npx lamina registries login ${host}\``,
    );
  }

  /** Throws the ImagePullError a non-200 answer means. */
  async #check(response: Response, what: string, kind: 'manifest' | 'blob'): Promise<void> {
    if (response.status === 200) return;
    if (response.status === 401 || response.status === 403) {
      response.body.destroy();
      this.#credential ??= this.#credentials.lookup(this.#ref.host);
      throw this.#denied(
        (await this.#credential) !== undefined,
        ` (answered ${response.status} for ${what})`,
      );
    }
    const codes = await this.#errorCodes(response);
    if (codes.includes('NAME_UNKNOWN'))
      throw this.fail(
        'ImageDeleted',
        `the registry answered ${response.status} for ${what}: repository ${this.#ref.repository} not found`,
      );
    if (kind === 'manifest' && (response.status === 404 || codes.includes('MANIFEST_UNKNOWN')))
      throw this.fail(
        'ImageDeleted',
        `the registry answered ${response.status} for ${what} (tag or digest not found)`,
      );
    if (kind === 'blob' && (response.status === 404 || codes.includes('BLOB_UNKNOWN')))
      throw this.fail(
        'ImageDeleted',
        `the registry answered ${response.status} for ${what} (blob not found; the image's content was deleted)`,
      );
    throw this.fail(
      'InternalError',
      `the registry answered ${response.status} for ${what}${codes.length === 0 ? '' : ` (${codes.join(', ')})`}`,
    );
  }

  async #errorCodes(response: Response): Promise<string[]> {
    const bytes = await this.#readBounded(response, MAX_ERROR_BODY_BYTES, 'an error').catch(() =>
      Buffer.alloc(0),
    );
    try {
      const json = JSON.parse(bytes.toString('utf8')) as { errors?: unknown };
      if (!Array.isArray(json.errors)) return [];
      return json.errors
        .map((item: unknown) =>
          typeof item === 'object' && item !== null
            ? (item as Record<string, unknown>).code
            : undefined,
        )
        .filter((code): code is string => typeof code === 'string')
        .slice(0, 5);
    } catch {
      return [];
    }
  }

  async #errorDetail(response: Response): Promise<string> {
    const codes = await this.#errorCodes(response);
    return codes.length === 0 ? '' : ` (${codes.join(', ')})`;
  }

  /** Reads a whole body of at most `max` bytes; a longer one is InvalidImage (or `tooLarge`). */
  async #readBounded(
    response: Response,
    max: number,
    what: string,
    tooLarge = () => this.fail('InvalidImage', `${what} is larger than ${max} bytes`),
  ): Promise<Buffer> {
    const declared = Number(header(response, 'content-length') ?? Number.NaN);
    if (declared > max) {
      response.body.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of response.body as Readable) {
        const buffer = chunk as Buffer;
        total += buffer.length;
        if (total > max) {
          response.body.destroy();
          throw tooLarge();
        }
        chunks.push(buffer);
      }
    } catch (error) {
      if (error instanceof ImagePullError || isAbort(error)) throw error;
      throw this.fail(
        'InternalError',
        `reading ${what} from ${response.url.host} failed: ${messageOf(error)}`,
      );
    }
    return Buffer.concat(chunks);
  }
}

function header(response: Response, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
