/**
 * Validation of the configuration fields of CreateFunction and UpdateFunctionConfiguration.
 * Pure: takes the type-checked request fields and returns the settings to store, or throws the
 * error AWS answers (ValidationException for patterns, lengths and ranges, gathered together;
 * InvalidParameterValueException for the rules checked after those).
 */
import type { Scope } from '../core/arn.js';
import { lambdaErrors } from '../core/errors.js';
import type {
  ApplicationLogLevel,
  Architecture,
  CodeRef,
  FunctionImage,
  FunctionLayer,
  FunctionSettings,
  LogFormat,
  LoggingSettings,
  SystemLogLevel,
  TracingMode,
} from '../core/function-model.js';
import { LIMITS } from '../core/limits.js';
import { constraint, validationMessage, type Violation } from '../core/validation-message.js';
import type { RuntimeCatalog } from './runtime-catalog.js';

/** Configuration fields as they arrived (type-checked, not yet validated); absent = unchanged. */
export interface SettingsInput {
  readonly runtime?: string | undefined;
  readonly handler?: string | undefined;
  readonly role?: string | undefined;
  readonly description?: string | undefined;
  readonly timeoutSeconds?: number | undefined;
  readonly memoryMiB?: number | undefined;
  readonly ephemeralStorageMiB?: number | undefined;
  readonly environment?: Readonly<Record<string, string>> | undefined;
  readonly architectures?: readonly string[] | undefined;
  readonly tracingMode?: string | undefined;
  readonly logging?: LoggingInput | undefined;
  readonly layers?: readonly string[] | undefined;
  readonly deadLetterTargetArn?: string | undefined;
  readonly kmsKeyArn?: string | undefined;
  readonly packageType?: string | undefined;
  readonly snapStartApplyOn?: string | undefined;
  readonly vpcSubnetIds?: readonly string[] | undefined;
  readonly fileSystemCount?: number | undefined;
  /** `ImageConfig` (image functions only); each member absent = unchanged / image's own. */
  readonly imageConfig?: ImageConfigInput | undefined;
}

/** `ImageConfig` as it arrived. */
export interface ImageConfigInput {
  readonly entryPoint?: readonly string[] | undefined;
  readonly command?: readonly string[] | undefined;
  readonly workingDirectory?: string | undefined;
}

/** `LoggingConfig` as it arrived. */
export interface LoggingInput {
  readonly format?: string | undefined;
  readonly applicationLogLevel?: string | undefined;
  readonly systemLogLevel?: string | undefined;
  readonly logGroup?: string | undefined;
}

const ROLE_PATTERN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';
const ROLE_RE = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const HANDLER_PATTERN = '[^\\s]+';
const ENV_KEY_PATTERN = '[a-zA-Z]([a-zA-Z0-9_])+';
const ENV_KEY_RE = /^[a-zA-Z][a-zA-Z0-9_]+$/;
const LOG_GROUP_PATTERN = '[\\.\\-_/#A-Za-z0-9]+';
const LOG_GROUP_RE = /^[.\-_/#A-Za-z0-9]+$/;
const LAYER_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)';
const LAYER_RE =
  /^(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d:\d{12}:layer:[a-zA-Z0-9_-]+:[0-9]+)$|^(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9_-]+)$/;

const ARCHITECTURES = ['x86_64', 'arm64'] as const;
const TRACING_MODES = ['Active', 'PassThrough'] as const;
const LOG_FORMATS = ['JSON', 'Text'] as const;
const APP_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
const SYSTEM_LEVELS = ['DEBUG', 'INFO', 'WARN'] as const;

/** Environment variables a function may not set: the platform owns them. */
export const RESERVED_ENVIRONMENT_KEYS: ReadonlySet<string> = new Set([
  '_HANDLER',
  '_X_AMZN_TRACE_ID',
  'AWS_DEFAULT_REGION',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME',
  'AWS_ACCESS_KEY',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

/** The layer versions a request names, looked up beforehand: ARN → layer, undefined if unknown. */
export type LayerLookup = ReadonlyMap<string, FunctionLayer | undefined>;

/** Validates a CreateFunction's fields, filling AWS's defaults. */
export function settingsForCreate(
  functionName: string,
  input: SettingsInput,
  scope: Scope,
  runtimes: RuntimeCatalog,
  layers: LayerLookup = new Map(),
): FunctionSettings {
  const violations = collectViolations(input);
  if (input.role === undefined) {
    violations.unshift({ field: 'role', value: null, constraint: constraint.notNull() });
  }
  if (violations.length > 0) throw lambdaErrors.validation(validationMessage(violations));
  checkUnsupported(input);
  const image = input.packageType === 'Image';
  checkPackageFields(image, input);
  if (!image && input.runtime === undefined) {
    throw lambdaErrors.invalidParameter(
      'Runtime is required for a function whose PackageType is Zip.',
    );
  }
  if (!image && input.handler === undefined) {
    throw lambdaErrors.invalidParameter(
      'Handler is required for a function whose PackageType is Zip.',
    );
  }
  const logGroup = `/aws/lambda/${functionName}`;
  const settings: FunctionSettings = {
    runtime: input.runtime ?? '',
    handler: input.handler ?? '',
    role: input.role ?? '',
    description: input.description ?? '',
    timeoutSeconds: input.timeoutSeconds ?? LIMITS.timeoutSeconds.default,
    memoryMiB: input.memoryMiB ?? LIMITS.memoryMiB.default,
    ephemeralStorageMiB: input.ephemeralStorageMiB ?? LIMITS.ephemeralStorageMiB.default,
    environment: input.environment,
    architecture: (input.architectures?.[0] as Architecture | undefined) ?? 'x86_64',
    tracingMode: (input.tracingMode as TracingMode | undefined) ?? 'PassThrough',
    logging: mergeLogging({ format: 'Text', logGroup }, input.logging),
    layers: [],
    deadLetterTargetArn: input.deadLetterTargetArn,
    kmsKeyArn: input.kmsKeyArn,
    // The URI itself comes with the code (Code.ImageUri), checked by the service.
    image: image ? imageSettings({ uri: '' }, input.imageConfig) : undefined,
  };
  checkRules(settings, scope, runtimes);
  return { ...settings, layers: resolveLayers(input.layers ?? [], scope, layers) };
}

/** Validates an UpdateFunctionConfiguration's fields over the current settings. */
export function settingsForUpdate(
  current: FunctionSettings,
  input: SettingsInput,
  scope: Scope,
  runtimes: RuntimeCatalog,
  layers: LayerLookup = new Map(),
): FunctionSettings {
  const violations = collectViolations(input);
  if (violations.length > 0) throw lambdaErrors.validation(validationMessage(violations));
  checkUnsupported(input);
  checkPackageFields(current.image !== undefined, input);
  const settings: FunctionSettings = {
    ...current,
    runtime: input.runtime ?? current.runtime,
    handler: input.handler ?? current.handler,
    role: input.role ?? current.role,
    description: input.description ?? current.description,
    timeoutSeconds: input.timeoutSeconds ?? current.timeoutSeconds,
    memoryMiB: input.memoryMiB ?? current.memoryMiB,
    ephemeralStorageMiB: input.ephemeralStorageMiB ?? current.ephemeralStorageMiB,
    environment: input.environment ?? current.environment,
    architecture: current.architecture,
    tracingMode: (input.tracingMode as TracingMode | undefined) ?? current.tracingMode,
    logging: mergeLogging(current.logging, input.logging),
    layers: current.layers,
    deadLetterTargetArn:
      input.deadLetterTargetArn === undefined
        ? current.deadLetterTargetArn
        : input.deadLetterTargetArn || undefined,
    kmsKeyArn: input.kmsKeyArn === undefined ? current.kmsKeyArn : input.kmsKeyArn || undefined,
    image:
      current.image === undefined ? undefined : imageSettings(current.image, input.imageConfig),
  };
  checkRules(settings, scope, runtimes, input.runtime !== undefined);
  if (input.layers === undefined) return settings;
  return { ...settings, layers: resolveLayers(input.layers, scope, layers) };
}

/** Checks the architectures of an UpdateFunctionCode (the one setting it may change). */
export function architectureForCode(
  current: Architecture,
  architectures: readonly string[] | undefined,
): Architecture {
  const violations: Violation[] = [];
  checkArchitectures(architectures, violations);
  if (violations.length > 0) throw lambdaErrors.validation(validationMessage(violations));
  return (architectures?.[0] as Architecture | undefined) ?? current;
}

function collectViolations(input: SettingsInput): Violation[] {
  const v: Violation[] = [];
  const push = (field: string, value: unknown, text: string) =>
    v.push({ field, value, constraint: text });
  if (input.role !== undefined && !ROLE_RE.test(input.role)) {
    push('role', input.role, constraint.pattern(ROLE_PATTERN));
  }
  if (input.handler !== undefined) {
    if (input.handler.length > LIMITS.handlerMaxLength) {
      push('handler', input.handler, constraint.maxLength(LIMITS.handlerMaxLength));
    } else if (!/^\S+$/.test(input.handler)) {
      push('handler', input.handler, constraint.pattern(HANDLER_PATTERN));
    }
  }
  if (input.description !== undefined && input.description.length > LIMITS.descriptionMaxLength) {
    push('description', input.description, constraint.maxLength(LIMITS.descriptionMaxLength));
  }
  range(v, 'timeout', input.timeoutSeconds, LIMITS.timeoutSeconds);
  range(v, 'memorySize', input.memoryMiB, LIMITS.memoryMiB);
  range(v, 'ephemeralStorage.size', input.ephemeralStorageMiB, LIMITS.ephemeralStorageMiB);
  checkArchitectures(input.architectures, v);
  if (input.environment !== undefined) {
    const bad = Object.keys(input.environment).filter((key) => !ENV_KEY_RE.test(key));
    if (bad.length > 0) {
      v.push({
        field: 'environment.variables',
        value: `{${bad.join(', ')}}`,
        constraint: `Map keys must satisfy constraint: [${constraint.pattern(ENV_KEY_PATTERN)}]`,
      });
    }
  }
  enumeration(v, 'tracingConfig.mode', input.tracingMode, TRACING_MODES);
  const logging = input.logging;
  if (logging !== undefined) {
    enumeration(v, 'loggingConfig.logFormat', logging.format, LOG_FORMATS);
    enumeration(v, 'loggingConfig.applicationLogLevel', logging.applicationLogLevel, APP_LEVELS);
    enumeration(v, 'loggingConfig.systemLogLevel', logging.systemLogLevel, SYSTEM_LEVELS);
    if (logging.logGroup !== undefined) {
      if (logging.logGroup.length < 1 || logging.logGroup.length > 512) {
        push('loggingConfig.logGroup', logging.logGroup, constraint.maxLength(512));
      } else if (!LOG_GROUP_RE.test(logging.logGroup)) {
        push('loggingConfig.logGroup', logging.logGroup, constraint.pattern(LOG_GROUP_PATTERN));
      }
    }
  }
  if (input.layers !== undefined && input.layers.some((arn) => !LAYER_RE.test(arn))) {
    push(
      'layers',
      input.layers,
      'Member must satisfy constraint: [Member must have length less than or equal to 2048, ' +
        'Member must have length greater than or equal to 1, ' +
        `${constraint.pattern(LAYER_PATTERN)}, Member must not be null]`,
    );
  }
  enumeration(v, 'snapStart.applyOn', input.snapStartApplyOn, ['PublishedVersions', 'None']);
  enumeration(v, 'packageType', input.packageType, ['Zip', 'Image']);
  const imageConfig = input.imageConfig;
  if (imageConfig !== undefined) {
    for (const [field, list] of [
      ['imageConfig.entryPoint', imageConfig.entryPoint],
      ['imageConfig.command', imageConfig.command],
    ] as const) {
      if (list !== undefined && list.length > LIMITS.imageConfigItems) {
        push(field, list, constraint.maxLength(LIMITS.imageConfigItems));
      }
    }
    const dir = imageConfig.workingDirectory;
    if (dir !== undefined && dir.length > LIMITS.workingDirectoryMaxLength) {
      push(
        'imageConfig.workingDirectory',
        dir,
        constraint.maxLength(LIMITS.workingDirectoryMaxLength),
      );
    }
  }
  return v;
}

/**
 * The `ImageConfig` of an image function: each member given replaces the stored one, and an
 * empty list or string clears it (the image's own ENTRYPOINT, CMD or WORKDIR then applies).
 */
function imageSettings(current: FunctionImage, input: ImageConfigInput | undefined): FunctionImage {
  const list = (given: readonly string[] | undefined, stored: readonly string[] | undefined) =>
    given === undefined ? stored : given.length === 0 ? undefined : given;
  const dir = input?.workingDirectory;
  return {
    uri: current.uri,
    entryPoint: list(input?.entryPoint, current.entryPoint),
    command: list(input?.command, current.command),
    workingDirectory: dir === undefined ? current.workingDirectory : dir || undefined,
  };
}

function checkArchitectures(architectures: readonly string[] | undefined, v: Violation[]): void {
  if (architectures === undefined) return;
  if (architectures.length > 1) {
    v.push({ field: 'architectures', value: architectures, constraint: constraint.maxLength(1) });
  } else if (architectures.length === 0) {
    v.push({ field: 'architectures', value: architectures, constraint: constraint.minLength(1) });
  } else if (!ARCHITECTURES.includes(architectures[0] as Architecture)) {
    v.push({
      field: 'architectures',
      value: architectures,
      constraint: `Member must satisfy constraint: [${constraint.enumeration(ARCHITECTURES)}, ${constraint.notNull()}]`,
    });
  }
}

function range(
  v: Violation[],
  field: string,
  value: number | undefined,
  limits: { readonly min: number; readonly max: number },
): void {
  if (value === undefined) return;
  if (value < limits.min) v.push({ field, value, constraint: constraint.min(limits.min) });
  else if (value > limits.max) v.push({ field, value, constraint: constraint.max(limits.max) });
}

function enumeration(
  v: Violation[],
  field: string,
  value: string | undefined,
  allowed: readonly string[],
): void {
  if (value !== undefined && !allowed.includes(value)) {
    v.push({ field, value, constraint: constraint.enumeration(allowed) });
  }
}

/** An image function takes no Runtime, Handler or Layers; only an image function takes ImageConfig. */
function checkPackageFields(image: boolean, input: SettingsInput): void {
  if (image) {
    if (input.runtime !== undefined || input.handler !== undefined || input.layers !== undefined) {
      throw lambdaErrors.invalidParameter(
        "Please don't provide Handler or Runtime or Layer when the intended function PackageType is Image.",
      );
    }
  } else if (input.imageConfig !== undefined) {
    throw lambdaErrors.invalidParameter(
      'ImageConfig is only supported for functions whose PackageType is Image.',
    );
  }
}

/** Features AWS has that Lamina does not, refused plainly instead of silently ignored. */
function checkUnsupported(input: SettingsInput): void {
  if (input.snapStartApplyOn === 'PublishedVersions') {
    throw lambdaErrors.invalidParameter('SnapStart is not supported by Lamina.');
  }
  if (input.vpcSubnetIds !== undefined && input.vpcSubnetIds.length > 0) {
    throw lambdaErrors.invalidParameter(
      'VpcConfig with subnets is not supported by Lamina: each function has its own network with ' +
        'outbound access to addresses outside the host (not the host, link-local addresses or ' +
        'other functions); the server options --function-network, --function-allow, --function-deny ' +
        'and --function-dns change it.',
    );
  }
  if (input.fileSystemCount !== undefined && input.fileSystemCount > 0) {
    throw lambdaErrors.invalidParameter('FileSystemConfigs (EFS) are not supported by Lamina.');
  }
  if (input.deadLetterTargetArn) {
    throw lambdaErrors.invalidParameter(
      `Lamina cannot deliver to ${input.deadLetterTargetArn}: dead-letter queues (SQS, SNS) are not supported. ` +
        'Use an OnFailure destination to a Lamina function instead.',
    );
  }
}

function mergeLogging(current: LoggingSettings, input: LoggingInput | undefined): LoggingSettings {
  const format = (input?.format as LogFormat | undefined) ?? current.format;
  const logGroup = input?.logGroup ?? current.logGroup;
  if (format === 'Text') {
    if (input?.applicationLogLevel !== undefined || input?.systemLogLevel !== undefined) {
      throw lambdaErrors.invalidParameter(
        'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request or change the LogFormat to "Json" and try again.',
      );
    }
    return { format, logGroup };
  }
  return {
    format,
    logGroup,
    applicationLogLevel:
      (input?.applicationLogLevel as ApplicationLogLevel | undefined) ??
      current.applicationLogLevel ??
      'INFO',
    systemLogLevel:
      (input?.systemLogLevel as SystemLogLevel | undefined) ?? current.systemLogLevel ?? 'INFO',
  };
}

function checkRules(
  settings: FunctionSettings,
  scope: Scope,
  runtimes: RuntimeCatalog,
  runtimeChanged = true,
): void {
  if (runtimeChanged && settings.image === undefined) runtimes.check(settings.runtime);
  runtimes.checkArchitecture(settings.architecture);
  if (settings.environment !== undefined) {
    const reserved = Object.keys(settings.environment).filter((k) =>
      RESERVED_ENVIRONMENT_KEYS.has(k),
    );
    if (reserved.length > 0) {
      throw lambdaErrors.invalidParameter(
        'Lambda was unable to configure your environment variables because the environment ' +
          'variables you have provided contains reserved keys that are currently not supported ' +
          `for modification. Reserved keys used in this request: ${reserved.join(', ')}`,
      );
    }
    const measured = JSON.stringify(settings.environment);
    if (Buffer.byteLength(measured) > LIMITS.environmentBytes) {
      throw lambdaErrors.invalidParameter(
        'Lambda was unable to configure your environment variables because the environment ' +
          'variables you have provided exceeded the 4KB limit. String measured: ' +
          measured,
      );
    }
  }
}

/**
 * Checks the layer ARNs a function names, in AWS's order (count, region, two versions of one
 * layer, existence), and returns the layers with their code.
 */
function resolveLayers(
  arns: readonly string[],
  scope: Scope,
  lookup: LayerLookup,
): FunctionLayer[] {
  if (arns.length > LIMITS.layersPerFunction) {
    throw lambdaErrors.invalidParameter('Cannot reference more than 5 layers.');
  }
  for (const arn of arns) {
    if (arn.split(':')[3] !== scope.region) {
      throw lambdaErrors.invalidParameter(
        `Layers are not in the same region as the function. Layers are expected to be in region ${scope.region}.`,
      );
    }
  }
  const layerOf = (arn: string) => arn.slice(0, arn.lastIndexOf(':'));
  arns.forEach((arn, i) => {
    const twin = arns.slice(0, i).find((earlier) => layerOf(earlier) === layerOf(arn));
    if (twin !== undefined) {
      throw lambdaErrors.invalidParameter(
        'Two different versions of the same layer are not allowed to be referenced in the same ' +
          `function. ${twin} and ${arn} are versions of the same layer.`,
      );
    }
  });
  return arns.map((arn) => {
    const layer = lookup.get(arn);
    if (layer === undefined)
      throw lambdaErrors.invalidParameter(`Layer version ${arn} does not exist.`);
    return layer;
  });
}

/**
 * Checks that a function's code and its layers, expanded, fit the 250 MB limit (skipped when the
 * function's expanded size was not recorded).
 */
export function checkExpandedSize(code: CodeRef, layers: readonly FunctionLayer[]): void {
  if (code.unzippedBytes === undefined) return;
  const total = layers.reduce((sum, l) => sum + (l.code.unzippedBytes ?? 0), code.unzippedBytes);
  if (total > LIMITS.unzippedCodeBytes) {
    throw lambdaErrors.invalidParameter(
      `Function code combined with layers exceeds the maximum allowed size of ${LIMITS.unzippedCodeBytes} bytes. The actual size is ${total} bytes.`,
    );
  }
}
