/**
 * Container images of `PackageType: Image` functions: pulled from an OCI or Docker v2 registry
 * while the function is Pending, unpacked once per image (layers cached by digest), and shown to
 * its environments as their root file system. The adapter lives in src/images/.
 */

/** How the image says it starts: the `config` object of its OCI image configuration. */
export interface ImageRunConfig {
  readonly entrypoint: readonly string[] | undefined;
  readonly cmd: readonly string[] | undefined;
  /** `KEY=value` items, in the image's order. */
  readonly env: readonly string[];
  readonly workingDir: string | undefined;
}

/** An image whose root file system is unpacked on this machine. */
export interface PulledImage {
  /** The manifest digest the reference resolved to: `sha256:<64 hex>`. */
  readonly digest: string;
  /** Host folder of the unpacked root file system (never written once complete). */
  readonly rootDir: string;
  readonly config: ImageRunConfig;
  /** The layers' compressed sizes added up (what `CodeSize` reports). */
  readonly sizeBytes: number;
  /** The unpacked size in bytes. */
  readonly unpackedBytes: number;
}

/** AWS's `StateReasonCode`/`LastUpdateStatusReasonCode` values for an image that cannot be used. */
export type ImageFailureCode =
  'ImageAccessDenied' | 'ImageDeleted' | 'InvalidImage' | 'InternalError';

/** Why an image could not be pulled or unpacked; the message is shown as the state reason. */
export class ImagePullError extends Error {
  readonly reasonCode: ImageFailureCode;

  constructor(reasonCode: ImageFailureCode, message: string) {
    super(message);
    this.name = 'ImagePullError';
    this.reasonCode = reasonCode;
  }
}

export interface ImageStore {
  /**
   * Resolves `uri` (`host[:port]/repository:tag` or `host[:port]/repository@sha256:<hex>`) to its
   * manifest digest and makes sure its root file system is unpacked here. Idempotent per digest;
   * concurrent pulls of one image share the work. Throws ImagePullError.
   */
  pull(uri: string): Promise<PulledImage>;
  /** The unpacked image of `digest`, if it is on this machine (no network). */
  open(digest: string): Promise<PulledImage | undefined>;
  /** Deletes the unpacked image of `digest` (layer blobs stay while other images use them). */
  remove(digest: string): Promise<void>;
}

/** Credentials for one registry host (`host` or `host:port`), as `registries login` stored them. */
export interface RegistryCredential {
  readonly username: string;
  readonly password: string;
}

export interface RegistryCredentials {
  lookup(host: string): Promise<RegistryCredential | undefined>;
}
