/** Lamina's internal model of a function (camelCase, units in names); the wire shape is in api/. */

export type Architecture = 'x86_64' | 'arm64';
export type TracingMode = 'Active' | 'PassThrough';
export type LogFormat = 'Text' | 'JSON';
export type ApplicationLogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
export type SystemLogLevel = 'DEBUG' | 'INFO' | 'WARN';

/** `LoggingConfig`; the levels exist only with the JSON format, as on AWS. */
export interface LoggingSettings {
  readonly format: LogFormat;
  readonly applicationLogLevel?: ApplicationLogLevel;
  readonly systemLogLevel?: SystemLogLevel;
  readonly logGroup: string;
}

/** The configuration a caller controls. */
export interface FunctionSettings {
  readonly runtime: string;
  readonly handler: string;
  readonly role: string;
  readonly description: string;
  readonly timeoutSeconds: number;
  readonly memoryMiB: number;
  readonly ephemeralStorageMiB: number;
  /** Undefined when the caller never sent `Environment` (AWS then omits it). */
  readonly environment: Readonly<Record<string, string>> | undefined;
  readonly architecture: Architecture;
  readonly tracingMode: TracingMode;
  readonly logging: LoggingSettings;
  /** Layer versions merged into /opt, in order (later wins); at most 5. */
  readonly layers: readonly FunctionLayer[];
  readonly deadLetterTargetArn: string | undefined;
  readonly kmsKeyArn: string | undefined;
  /** Set for a `PackageType: Image` function (Runtime and Handler are then empty). */
  readonly image?: FunctionImage | undefined;
  /** `PutRuntimeManagementConfig` (absent: `Auto`). */
  readonly runtimeManagement?: RuntimeManagement | undefined;
  /** The runtime version the last code or runtime update picked (for `FunctionUpdate`). */
  readonly runtimeVersionAtUpdate?: string | undefined;
}

/** The image of a `PackageType: Image` function and its `ImageConfig` overrides. */
export interface FunctionImage {
  /** `Code.ImageUri` as given (`host[:port]/repository:tag` or `…@sha256:…`). */
  readonly uri: string;
  readonly entryPoint?: readonly string[] | undefined;
  readonly command?: readonly string[] | undefined;
  readonly workingDirectory?: string | undefined;
}

/** When a function moves to a new version of its runtime. */
export interface RuntimeManagement {
  readonly updateRuntimeOn: 'Auto' | 'FunctionUpdate' | 'Manual';
  /** The pinned version's ARN (`Manual` only). */
  readonly runtimeVersionArn?: string | undefined;
}

/**
 * A stored deployment package: the zip's SHA-256 (hex) and size in bytes. For an image function,
 * the image manifest's digest (hex) once the image was pulled ('' before), size 0 as on AWS.
 */
export interface CodeRef {
  readonly sha256Hex: string;
  readonly sizeBytes: number;
  /** Expanded size in bytes, when known (recorded since layers count against the same limit). */
  readonly unzippedBytes?: number;
}

/**
 * A layer version a function uses: its ARN and its stored code, kept with the function so the
 * function goes on running it after the layer version is deleted (as on AWS).
 */
export interface FunctionLayer {
  readonly arn: string;
  readonly code: CodeRef;
}

export type FunctionStateName = 'Pending' | 'Active' | 'Inactive' | 'Failed';
export type LastUpdateStatus = 'InProgress' | 'Successful' | 'Failed';

/** The lifecycle fields clients poll (`State*`, `LastUpdateStatus*`). */
export interface FunctionStatus {
  readonly state: FunctionStateName;
  readonly stateReason?: string;
  readonly stateReasonCode?: string;
  readonly lastUpdateStatus?: LastUpdateStatus;
  readonly lastUpdateStatusReason?: string;
  readonly lastUpdateStatusReasonCode?: string;
}

/** One version of a function (only `$LATEST` until versions are published). */
export interface FunctionVersion {
  readonly version: string;
  readonly settings: FunctionSettings;
  readonly code: CodeRef;
  /** Code last prepared successfully; what an invoke runs while an update is in progress. */
  readonly readyCode: CodeRef | undefined;
  readonly revisionId: string;
  readonly lastModifiedMs: number;
  readonly status: FunctionStatus;
  /** For a published version: the `$LATEST` LastModified it was published from. */
  readonly publishedFromModifiedMs?: number;
}

/** A function: its name, tags, and its `$LATEST` version. */
export interface FunctionRecord {
  readonly name: string;
  readonly createdMs: number;
  readonly tags: Readonly<Record<string, string>>;
  readonly reservedConcurrency: number | undefined;
  readonly latest: FunctionVersion;
}

export const LATEST = '$LATEST';

/** An alias: a name pointing at a published version (or $LATEST), optionally splitting traffic. */
export interface AliasRecord {
  readonly name: string;
  readonly functionVersion: string;
  readonly description: string;
  /** Extra version → share of invocations (0–1); the primary version gets the rest. */
  readonly additionalVersionWeights: Readonly<Record<string, number>> | undefined;
  readonly revisionId: string;
}
