/** Lambda's quotas as Lamina enforces them (bytes unless the name says otherwise). */
export const LIMITS = {
  functionNameMaxLength: 64,
  functionArnMaxLength: 140,
  namespacedFunctionNameMaxLength: 256,
  qualifierMaxLength: 128,
  descriptionMaxLength: 256,
  handlerMaxLength: 128,
  /** `ImageConfig.EntryPoint` and `Command`: at most this many items; `WorkingDirectory` length. */
  imageConfigItems: 1500,
  workingDirectoryMaxLength: 1000,
  memoryMiB: { min: 128, max: 10_240, default: 128 },
  timeoutSeconds: { min: 1, max: 900, default: 3 },
  ephemeralStorageMiB: { min: 512, max: 10_240, default: 512 },
  environmentBytes: 4_096,
  tagsPerFunction: 50,
  tagKeyMaxLength: 128,
  tagValueMaxLength: 256,
  layersPerFunction: 5,
  /** Largest zip accepted inline (`Code.ZipFile`). */
  zippedCodeBytes: 52_428_800,
  /** Largest expanded size of a function's code (and layers). */
  unzippedCodeBytes: 262_144_000,
  /** Largest CreateFunction / UpdateFunctionCode request body, as AWS answers it. */
  codeRequestBytes: 70_167_211,
  /** Largest body of any other control-plane request. */
  controlRequestBytes: 6_291_456,
  /** Most entries a function zip may hold; guards memory against archives of empty entries. */
  zipEntries: 100_000,
  /** Largest synchronous Invoke payload (and response). */
  invokePayloadBytes: 6_291_456,
  /** Largest `Event` (asynchronous) Invoke payload: 1 MB since October 2025. */
  eventPayloadBytes: 1_048_576,
  /** Largest payload of the legacy InvokeAsync operation. */
  invokeAsyncPayloadBytes: 262_144,
  totalCodeSizeBytes: 80_530_636_800,
  listMaxItems: 50,
} as const;
