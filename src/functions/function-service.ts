/**
 * The control-plane rules for functions: create, read, update, delete and list, with Lambda's
 * lifecycle (Pending → Active, InProgress → Successful), RevisionId preconditions and conflicts.
 * Mutations are durable before they resolve; code preparation continues in the background.
 */
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import { CREATED, transition } from '../core/function-lifecycle.js';
import type {
  AliasRecord,
  CodeRef,
  FunctionRecord,
  FunctionSettings,
  FunctionVersion,
  RuntimeManagement,
} from '../core/function-model.js';
import { parseImageReference } from '../core/image-reference.js';
import { LATEST } from '../core/function-model.js';
import { parseFunctionName, parseNameForCreate, type FunctionRef } from '../core/function-name.js';
import type { IdSource } from '../core/ids.js';
import { LIMITS } from '../core/limits.js';
import { constraint, validationMessage } from '../core/validation-message.js';
import type { CodeCollector } from './code-collector.js';
import type { CodeStore, InspectedCode } from './code-store.js';
import type { FunctionRepository } from './function-repository.js';
import type { PreparationQueue } from './preparation-queue.js';
import type { RuntimeCatalog } from './runtime-catalog.js';
import type { AliasRepository, VersionRepository } from './version-repository.js';
import {
  architectureForCode,
  checkExpandedSize,
  settingsForCreate,
  settingsForUpdate,
  type LayerLookup,
  type SettingsInput,
} from './settings-input.js';
import { checkTags } from './tag-rules.js';
import { decodeMarker, encodeMarker } from './list-marker.js';

/** Where the code of a create or code update comes from. */
export interface CodeInput {
  readonly zipFile?: Buffer | undefined;
  readonly s3Bucket?: string | undefined;
  readonly s3Key?: string | undefined;
  readonly imageUri?: string | undefined;
}

/** CreateFunction's fields. */
export interface CreateFunctionInput {
  readonly functionName: unknown;
  readonly settings: SettingsInput;
  readonly code: CodeInput | undefined;
  readonly tags: Readonly<Record<string, string>> | undefined;
}

/** UpdateFunctionCode's fields. */
export interface UpdateCodeInput {
  readonly code: CodeInput;
  readonly architectures: readonly string[] | undefined;
  readonly revisionId: string | undefined;
  readonly dryRun: boolean;
}

/** A page of ListFunctions. */
export interface FunctionPage {
  readonly functions: readonly FunctionRecord[];
  readonly nextMarker: string | undefined;
}

/** The collaborators and settings of a FunctionService. */
export interface FunctionServiceDeps {
  readonly scope: Scope;
  readonly repository: FunctionRepository;
  readonly versions: VersionRepository;
  readonly aliases: AliasRepository;
  readonly code: CodeStore;
  readonly collector: CodeCollector;
  readonly preparation: PreparationQueue;
  readonly runtimes: RuntimeCatalog;
  readonly clock: Clock;
  readonly ids: IdSource;
  /** Looks up the layer versions a request names (none exist without it). */
  readonly layers?: {
    lookup(arns: readonly string[] | undefined): Promise<LayerLookup>;
  };
  /** Told when a function, or (with `version`) one of its versions, is deleted. */
  readonly onDeleted?: (name: string, version?: string) => void;
  /** Refuses an execution role Lambda could not assume (none: roles are not checked). */
  readonly executionRoles?: { check(roleArn: string): Promise<void> } | undefined;
}

export class FunctionService {
  readonly #d: FunctionServiceDeps;

  constructor(deps: FunctionServiceDeps) {
    this.#d = deps;
  }

  get scope(): Scope {
    return this.#d.scope;
  }

  /** CreateFunction: validates everything, stores the zip and the record, answers Pending. */
  async create(input: CreateFunctionInput): Promise<FunctionRecord> {
    const { name } = parseNameForCreate(input.functionName, this.#d.scope);
    const settings = settingsForCreate(
      name,
      input.settings,
      this.#d.scope,
      this.#d.runtimes,
      await this.#lookupLayers(input.settings.layers),
    );
    const tags = input.tags ?? {};
    checkTags(tags);
    await this.#d.executionRoles?.check(settings.role);
    if (settings.image !== undefined) {
      const uri = requireImageUri(input.code, 'the intended function PackageType is Image');
      return this.#createImageFunction(
        name,
        { ...settings, image: { ...settings.image, uri } },
        tags,
      );
    }
    const zip = requireZip(input.code);
    const code = codeRef(await this.#d.code.inspect(zip));
    checkExpandedSize(code, settings.layers);
    if ((await this.#d.repository.get(name)) !== undefined) throw alreadyExists(name);
    const record = this.#newRecord(name, settings, code, tags);
    await this.#d.collector.withPinned(code.sha256Hex, async () => {
      await this.#d.code.put(zip, code);
      if ((await this.#d.repository.insert(record)) === 'exists') throw alreadyExists(name);
    });
    this.#d.preparation.schedule(name);
    return record;
  }

  /** An image function is stored Pending with no code yet: the preparation pulls its image. */
  async #createImageFunction(
    name: string,
    settings: FunctionSettings,
    tags: Readonly<Record<string, string>>,
  ): Promise<FunctionRecord> {
    const record = this.#newRecord(name, settings, NO_IMAGE_YET, tags);
    if ((await this.#d.repository.insert(record)) === 'exists') throw alreadyExists(name);
    this.#d.preparation.schedule(name);
    return record;
  }

  /** A function just created: Pending, its `$LATEST` on the runtime release of today. */
  #newRecord(
    name: string,
    settings: FunctionSettings,
    code: CodeRef,
    tags: Readonly<Record<string, string>>,
  ): FunctionRecord {
    const now = this.#d.clock.now();
    return {
      name,
      createdMs: now,
      tags,
      reservedConcurrency: undefined,
      latest: {
        version: LATEST,
        settings: this.#withRuntimeVersion(settings),
        code,
        readyCode: undefined,
        revisionId: this.#d.ids.uuid(),
        lastModifiedMs: now,
        status: CREATED,
      },
    };
  }

  /**
   * GetFunction / GetFunctionConfiguration / Invoke: the function and the version addressed by
   * the qualifier (`$LATEST`, a version number, or an alias, whose primary version is returned).
   */
  async get(
    functionName: string,
    qualifier: string | undefined,
  ): Promise<{
    record: FunctionRecord;
    version: FunctionVersion;
    ref: FunctionRef;
    alias: AliasRecord | undefined;
  }> {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    const record = await this.#d.repository.get(ref.name);
    if (record === undefined) throw lambdaErrors.functionNotFound(this.#arn(ref));
    const q = ref.qualifier;
    if (q === undefined || q === LATEST)
      return { record, version: record.latest, ref, alias: undefined };
    // A number names a published version; anything else names an alias.
    const alias = /^\d+$/.test(q) ? undefined : await this.#d.aliases.get(record.name, q);
    const target = /^\d+$/.test(q) ? q : alias?.functionVersion;
    const version = target === undefined ? undefined : await this.versionOf(record, target);
    if (version === undefined) throw lambdaErrors.functionNotFound(this.#arn(ref));
    return { record, version, ref, alias };
  }

  /** A version of a function (`$LATEST` or a published number), if it exists. */
  async versionOf(record: FunctionRecord, version: string): Promise<FunctionVersion | undefined> {
    return version === LATEST ? record.latest : this.#d.versions.get(record.name, version);
  }

  /** UpdateFunctionCode: a new zip (and optionally architecture) for `$LATEST`. */
  async updateCode(functionName: string, input: UpdateCodeInput): Promise<FunctionRecord> {
    const ref = this.#unqualified(functionName);
    const current = await this.#require(ref);
    const architecture = architectureForCode(
      current.latest.settings.architecture,
      input.architectures,
    );
    this.#d.runtimes.checkArchitecture(architecture);
    const image = current.latest.settings.image;
    if (image !== undefined) {
      const uri = requireImageUri(input.code, 'updating a function with packageType Image');
      const settings = this.#withRuntimeVersion({
        ...current.latest.settings,
        architecture,
        image: { ...image, uri },
      });
      if (input.dryRun) {
        this.#checkUpdatable(current, input.revisionId);
        return withLatest(current, { settings });
      }
      // The tag is resolved again (it may have moved): the code is the image's once pulled.
      const updated = await this.#mutate(ref, input.revisionId, (latest) => ({
        ...latest,
        code: NO_IMAGE_YET,
        settings,
      }));
      this.#d.preparation.schedule(ref.name);
      return updated;
    }
    const zip = requireZip(input.code);
    const code = codeRef(await this.#d.code.inspect(zip));
    checkExpandedSize(code, current.latest.settings.layers);
    if (input.dryRun) {
      this.#checkUpdatable(current, input.revisionId);
      return withLatest(current, { code, settings: { ...current.latest.settings, architecture } });
    }
    const updated = await this.#d.collector.withPinned(code.sha256Hex, async () => {
      await this.#d.code.put(zip, code);
      return this.#mutate(ref, input.revisionId, (latest) => ({
        ...latest,
        code,
        settings: this.#withRuntimeVersion({ ...latest.settings, architecture }),
      }));
    });
    this.#d.preparation.schedule(ref.name);
    return updated;
  }

  /** UpdateFunctionConfiguration. */
  async updateConfiguration(
    functionName: string,
    input: SettingsInput,
    revisionId: string | undefined,
  ): Promise<FunctionRecord> {
    const ref = this.#unqualified(functionName);
    const current = await this.#require(ref);
    const settings = settingsForUpdate(
      current.latest.settings,
      input,
      this.#d.scope,
      this.#d.runtimes,
      await this.#lookupLayers(input.layers),
    );
    checkExpandedSize(current.latest.code, settings.layers);
    if (input.role !== undefined) await this.#d.executionRoles?.check(settings.role);
    const next = input.runtime === undefined ? settings : this.#withRuntimeVersion(settings);
    const updated = await this.#mutate(ref, revisionId, (latest) => ({
      ...latest,
      settings: next,
    }));
    this.#d.preparation.schedule(ref.name);
    // The code of a layer version deleted meanwhile was kept only for this function.
    for (const layer of current.latest.settings.layers) {
      await this.#d.collector.collect(layer.code.sha256Hex);
    }
    return updated;
  }

  /** GetRuntimeManagementConfig: the setting of `$LATEST` or a published version. */
  async runtimeManagement(
    functionName: string,
    qualifier: string | undefined,
  ): Promise<{ functionArn: string; management: RuntimeManagement }> {
    const { record, version, ref } = await this.#managedVersion(functionName, qualifier);
    return {
      functionArn: functionArn(this.#d.scope, record.name, ref.qualifier),
      management: version.settings.runtimeManagement ?? { updateRuntimeOn: 'Auto' },
    };
  }

  /** PutRuntimeManagementConfig. */
  async putRuntimeManagement(
    functionName: string,
    qualifier: string | undefined,
    updateRuntimeOn: string | undefined,
    runtimeVersionArn: string | undefined,
  ): Promise<{ functionArn: string; management: RuntimeManagement }> {
    const management = checkRuntimeManagement(updateRuntimeOn, runtimeVersionArn);
    const { record, version, ref } = await this.#managedVersion(functionName, qualifier);
    if (management.runtimeVersionArn !== undefined) {
      const pinned = this.#d.runtimes.byArn(management.runtimeVersionArn);
      if (pinned === undefined || pinned.runtime !== version.settings.runtime) {
        throw lambdaErrors.invalidParameter(
          `${management.runtimeVersionArn} is not a version of ${version.settings.runtime} this ` +
            'server has: `npx lamina runtimes list` shows the versions installed, and ' +
            '`npx lamina runtimes install RUNTIME@VERSION` adds one.',
        );
      }
    }
    const change = (current: FunctionVersion): FunctionVersion => ({
      ...current,
      settings: { ...current.settings, runtimeManagement: management },
    });
    if (version.version === LATEST) {
      const updated = await this.#d.repository.update(record.name, (current) => ({
        ...current,
        latest: { ...change(current.latest), revisionId: this.#d.ids.uuid() },
      }));
      if (updated === undefined) throw lambdaErrors.functionNotFound(this.#arn(ref));
    } else if (
      (await this.#d.versions.update(record.name, version.version, change)) === undefined
    ) {
      throw lambdaErrors.functionNotFound(this.#arn(ref));
    }
    return { functionArn: functionArn(this.#d.scope, record.name, ref.qualifier), management };
  }

  async #managedVersion(functionName: string, qualifier: string | undefined) {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    if (ref.qualifier !== undefined && ref.qualifier !== LATEST && !/^\d+$/.test(ref.qualifier)) {
      throw lambdaErrors.invalidParameter(
        'The runtime management configuration belongs to $LATEST or a published version, not an alias.',
      );
    }
    const found = await this.get(functionName, qualifier);
    if (found.version.settings.image !== undefined) {
      throw lambdaErrors.invalidParameter(
        'Runtime management configuration is not supported for functions of PackageType Image.',
      );
    }
    return found;
  }

  /** DeleteFunction; deleting an unpublished version number succeeds as on AWS. */
  async delete(functionName: string, qualifier: string | undefined): Promise<void> {
    const ref = parseFunctionName(functionName, qualifier, this.#d.scope);
    if (ref.qualifier === LATEST) {
      throw lambdaErrors.invalidParameter(
        '$LATEST version cannot be deleted without deleting the function.',
      );
    }
    if (ref.qualifier !== undefined && !/^\d+$/.test(ref.qualifier)) {
      const record = await this.#d.repository.get(ref.name);
      if (record === undefined)
        throw lambdaErrors.functionNotFound(this.#arn({ ...ref, qualifier: undefined }));
      throw lambdaErrors.invalidParameter('Deletion of aliases is not currently supported.');
    }
    if (ref.qualifier !== undefined) {
      if ((await this.#d.repository.get(ref.name)) === undefined) {
        throw lambdaErrors.functionNotFound(this.#arn({ ...ref, qualifier: undefined }));
      }
      const version = await this.#d.versions.get(ref.name, ref.qualifier);
      if (version === undefined) return;
      const routed = (await this.#d.aliases.list(ref.name, undefined, 10_000)).filter(
        (alias) =>
          alias.functionVersion === ref.qualifier ||
          Object.keys(alias.additionalVersionWeights ?? {}).includes(ref.qualifier ?? ''),
      );
      if (routed.length > 0) {
        throw lambdaErrors.conflict(
          `Unable to delete version ${ref.qualifier} of ${this.#arn({ ...ref, qualifier: undefined })}: ` +
            `the alias(es) [${routed.map((a) => a.name).join(', ')}] route to it. Update or delete them first.`,
        );
      }
      await this.#d.versions.delete(ref.name, ref.qualifier);
      this.#d.onDeleted?.(ref.name, ref.qualifier);
      await this.#d.collector.collect(version.code.sha256Hex);
      for (const layer of version.settings.layers) {
        await this.#d.collector.collect(layer.code.sha256Hex);
      }
      return;
    }
    const record = await this.#d.repository.get(ref.name);
    if (record === undefined || !(await this.#d.repository.delete(ref.name))) {
      throw lambdaErrors.functionNotFound(this.#arn(ref));
    }
    this.#d.onDeleted?.(record.name);
    await this.#d.collector.collect(record.latest.code.sha256Hex);
    await this.#d.collector.collect(record.latest.readyCode?.sha256Hex);
    for (const layer of record.latest.settings.layers) {
      await this.#d.collector.collect(layer.code.sha256Hex);
    }
  }

  /** ListFunctions, in name order; `marker` is the opaque token of the previous page. */
  async list(marker: string | undefined, maxItems: number | undefined): Promise<FunctionPage> {
    if (maxItems !== undefined && (maxItems < 1 || maxItems > 10_000)) {
      throw lambdaErrors.validation(
        validationMessage([
          {
            field: 'maxItems',
            value: maxItems,
            constraint: maxItems < 1 ? constraint.min(1) : constraint.max(10_000),
          },
        ]),
      );
    }
    const limit = Math.min(maxItems ?? LIMITS.listMaxItems, LIMITS.listMaxItems);
    const after = marker === undefined ? undefined : decodeMarker(marker);
    const rows = await this.#d.repository.list(after, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      functions: page,
      nextMarker: rows.length > limit && last !== undefined ? encodeMarker(last.name) : undefined,
    };
  }

  /** Resolves once the function's code preparation (after a create or update) has finished. */
  async prepared(name: string): Promise<void> {
    await this.#d.preparation.settled(name);
  }

  /** Reads the function a tag operation names (unqualified ARN only). */
  async require(ref: FunctionRef): Promise<FunctionRecord> {
    return this.#require(ref);
  }

  /** Replaces a function's tags, bumping its RevisionId. */
  async setTags(
    ref: FunctionRef,
    change: (tags: Readonly<Record<string, string>>) => Record<string, string>,
  ): Promise<void> {
    const updated = await this.#d.repository.update(ref.name, (current) => {
      const tags = change(current.tags);
      checkTags(tags);
      return { ...current, tags, latest: { ...current.latest, revisionId: this.#d.ids.uuid() } };
    });
    if (updated === undefined) throw lambdaErrors.functionNotFound(this.#arn(ref));
  }

  /** Numbers for GetAccountSettings. */
  async usage(): Promise<{ functionCount: number; totalCodeBytes: number }> {
    return this.#d.repository.usage();
  }

  /** Records the runtime version a create or update runs on (`UpdateRuntimeOn: FunctionUpdate`). */
  #withRuntimeVersion(settings: FunctionSettings): FunctionSettings {
    if (settings.image !== undefined) return settings;
    const version = this.#d.runtimes.newest(settings.runtime);
    return { ...settings, runtimeVersionAtUpdate: version?.version };
  }

  async #lookupLayers(arns: readonly string[] | undefined): Promise<LayerLookup> {
    return (await this.#d.layers?.lookup(arns)) ?? new Map();
  }

  #unqualified(functionName: string): FunctionRef {
    const ref = parseFunctionName(functionName, undefined, this.#d.scope);
    if (ref.qualifier !== undefined && ref.qualifier !== LATEST) {
      throw lambdaErrors.invalidParameter(
        'Only the unpublished version ($LATEST) of a function can be updated; remove the qualifier.',
      );
    }
    return { name: ref.name, qualifier: undefined };
  }

  async #require(ref: FunctionRef): Promise<FunctionRecord> {
    const record = await this.#d.repository.get(ref.name);
    if (record === undefined) throw lambdaErrors.functionNotFound(this.#arn(ref));
    return record;
  }

  #checkUpdatable(record: FunctionRecord, revisionId: string | undefined): void {
    if (revisionId !== undefined && revisionId !== record.latest.revisionId) {
      throw lambdaErrors.staleRevision();
    }
    const result = transition(record.latest.status, { kind: 'update-started' });
    if (!result.ok) throw this.#conflict(record, result.refusal);
  }

  async #mutate(
    ref: FunctionRef,
    revisionId: string | undefined,
    change: (latest: FunctionVersion) => FunctionVersion,
  ): Promise<FunctionRecord> {
    let replacedCode: string | undefined;
    const updated = await this.#d.repository.update(ref.name, (current) => {
      this.#checkUpdatable(current, revisionId);
      const result = transition(current.latest.status, { kind: 'update-started' });
      if (!result.ok) throw this.#conflict(current, result.refusal);
      const next = change(current.latest);
      replacedCode = current.latest.code.sha256Hex;
      return withLatest(current, {
        ...next,
        status: result.status,
        revisionId: this.#d.ids.uuid(),
        lastModifiedMs: this.#d.clock.now(),
      });
    });
    if (updated === undefined) throw lambdaErrors.functionNotFound(this.#arn(ref));
    await this.#d.collector.collect(replacedCode);
    return updated;
  }

  #conflict(record: FunctionRecord, refusal: string): LambdaError {
    const prefix = 'The operation cannot be performed at this time.';
    if (refusal === 'pending') {
      return lambdaErrors.conflict(
        `${prefix} The function is currently in the following state: Pending`,
      );
    }
    return lambdaErrors.conflict(
      `${prefix} An update is in progress for resource: ${functionArn(this.#d.scope, record.name)}`,
    );
  }

  #arn(ref: FunctionRef): string {
    return functionArn(this.#d.scope, ref.name, ref.qualifier);
  }
}

function withLatest(record: FunctionRecord, latest: Partial<FunctionVersion>): FunctionRecord {
  return { ...record, latest: { ...record.latest, ...latest } };
}

function codeRef(inspected: InspectedCode): CodeRef {
  return {
    sha256Hex: inspected.sha256Hex,
    sizeBytes: inspected.sizeBytes,
    unzippedBytes: inspected.unzippedBytes,
  };
}

const UPDATE_RUNTIME_ON = ['Auto', 'FunctionUpdate', 'Manual'] as const;
const RUNTIME_VERSION_ARN_PATTERN =
  '^arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}::runtime:.+$';
const RUNTIME_VERSION_ARN_RE =
  /^arn:(aws[a-zA-Z-]*):lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}::runtime:.+$/;

/** PutRuntimeManagementConfig's fields, checked as AWS does (the ARN only with `Manual`). */
function checkRuntimeManagement(
  updateRuntimeOn: string | undefined,
  runtimeVersionArn: string | undefined,
): RuntimeManagement {
  const violations = [];
  if (updateRuntimeOn === undefined) {
    violations.push({ field: 'updateRuntimeOn', value: null, constraint: constraint.notNull() });
  } else if (!(UPDATE_RUNTIME_ON as readonly string[]).includes(updateRuntimeOn)) {
    violations.push({
      field: 'updateRuntimeOn',
      value: updateRuntimeOn,
      constraint: constraint.enumeration(UPDATE_RUNTIME_ON),
    });
  }
  if (runtimeVersionArn !== undefined) {
    if (runtimeVersionArn.length < 26 || runtimeVersionArn.length > 2048) {
      violations.push({
        field: 'runtimeVersionArn',
        value: runtimeVersionArn,
        constraint:
          runtimeVersionArn.length < 26 ? constraint.minLength(26) : constraint.maxLength(2048),
      });
    } else if (!RUNTIME_VERSION_ARN_RE.test(runtimeVersionArn)) {
      violations.push({
        field: 'runtimeVersionArn',
        value: runtimeVersionArn,
        constraint: constraint.pattern(RUNTIME_VERSION_ARN_PATTERN),
      });
    }
  }
  if (violations.length > 0) throw lambdaErrors.validation(validationMessage(violations));
  const on = updateRuntimeOn as RuntimeManagement['updateRuntimeOn'];
  if (on === 'Manual' && runtimeVersionArn === undefined) {
    throw lambdaErrors.invalidParameter(
      'RuntimeVersionArn is required when UpdateRuntimeOn is Manual.',
    );
  }
  if (on !== 'Manual' && runtimeVersionArn !== undefined) {
    throw lambdaErrors.invalidParameter(
      `RuntimeVersionArn can only be given when UpdateRuntimeOn is Manual, not ${on}.`,
    );
  }
  return on === 'Manual' ? { updateRuntimeOn: on, runtimeVersionArn } : { updateRuntimeOn: on };
}

/** The code of an image function whose image was not pulled yet. */
const NO_IMAGE_YET: CodeRef = { sha256Hex: '', sizeBytes: 0 };

/** `Code.ImageUri` of an image function's create or code update, checked. */
function requireImageUri(code: CodeInput | undefined, when: string): string {
  const uri = code?.imageUri;
  if (uri === undefined || code?.zipFile !== undefined || code?.s3Bucket !== undefined) {
    throw lambdaErrors.invalidParameter(`Please provide ImageUri when ${when}.`);
  }
  const parsed = parseImageReference(uri);
  if (typeof parsed === 'string') {
    throw lambdaErrors.invalidParameter(
      `Source image ${uri} is not valid. Provide a valid source image. (${parsed})`,
    );
  }
  return uri;
}

function alreadyExists(name: string): LambdaError {
  return lambdaErrors.conflict(`Function already exist: ${name}`);
}

function requireZip(code: CodeInput | undefined): Buffer {
  if (code === undefined) {
    throw lambdaErrors.validation(
      validationMessage([{ field: 'code', value: null, constraint: constraint.notNull() }]),
    );
  }
  if (code.s3Bucket !== undefined || code.s3Key !== undefined) {
    throw lambdaErrors.invalidParameter(
      'Lamina does not support S3 code locations (S3Bucket, S3Key, S3ObjectVersion): upload the ' +
        'zip inline as Code.ZipFile (with the AWS CLI: --zip-file fileb://function.zip).',
    );
  }
  if (code.imageUri !== undefined) {
    throw lambdaErrors.invalidParameter(
      "Please don't provide ImageUri when updating a function with packageType Zip.",
    );
  }
  if (code.zipFile === undefined) {
    throw lambdaErrors.invalidParameter('Please provide the function code as a ZipFile.');
  }
  if (code.zipFile.length > LIMITS.zippedCodeBytes) {
    throw new LambdaError(
      'RequestEntityTooLargeException',
      `Zipped size must be smaller than ${LIMITS.zippedCodeBytes} bytes`,
    );
  }
  return code.zipFile;
}
