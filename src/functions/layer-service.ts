/**
 * The control-plane rules for layers: publishing versions (the zip goes through the same checks
 * and the same content-addressed store as function code), reading, listing, deleting, the layer
 * permission calls, and looking up the layer versions a function names.
 */
import type { Scope } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { LambdaError, lambdaErrors } from '../core/errors.js';
import type { Architecture, FunctionLayer } from '../core/function-model.js';
import type { IdSource } from '../core/ids.js';
import {
  layerVersionArn,
  parseLayerVersionArn,
  type LayerPolicy,
  type LayerStatement,
  type LayerVersionRecord,
} from '../core/layer-model.js';
import { LIMITS } from '../core/limits.js';
import { constraint, validationMessage } from '../core/validation-message.js';
import type { CodeCollector } from './code-collector.js';
import type { CodeStore } from './code-store.js';
import type { CodeInput } from './function-service.js';
import type { LayerRepository } from './layer-repository.js';
import {
  checkLayerVersionArn,
  checkListFilters,
  checkPermission,
  checkPublish,
  layerNameOf,
  versionNumberOf,
  type LayerPermissionFields,
  type PublishLayerFields,
} from './layer-rules.js';

/** PublishLayerVersion's request. */
export interface PublishLayerInput extends PublishLayerFields {
  readonly content: CodeInput | undefined;
}

/** ListLayers / ListLayerVersions filters and paging. */
export interface LayerListInput {
  readonly compatibleRuntime: string | undefined;
  readonly compatibleArchitecture: string | undefined;
  readonly marker: string | undefined;
  readonly maxItems: number | undefined;
}

/** One page of layer versions (ListLayers: the latest matching version of each layer). */
export interface LayerPage {
  readonly items: readonly LayerVersionRecord[];
  readonly nextMarker: string | undefined;
}

export interface LayerServiceDeps {
  readonly scope: Scope;
  readonly repository: LayerRepository;
  readonly code: CodeStore;
  readonly collector: CodeCollector;
  readonly clock: Clock;
  readonly ids: IdSource;
}

const PAGE_LIMIT = 50;

export class LayerService {
  readonly #d: LayerServiceDeps;

  constructor(deps: LayerServiceDeps) {
    this.#d = deps;
  }

  /** PublishLayerVersion: checks the zip like function code, stores it, numbers the version. */
  async publish(layerNameParam: string, input: PublishLayerInput): Promise<LayerVersionRecord> {
    const layerName = layerNameOf(layerNameParam);
    checkPublish(input);
    const zip = requireLayerZip(input.content);
    const inspected = await this.#d.code.inspect(zip);
    const code = {
      sha256Hex: inspected.sha256Hex,
      sizeBytes: inspected.sizeBytes,
      unzippedBytes: inspected.unzippedBytes,
    };
    return this.#d.collector.withPinned(code.sha256Hex, async () => {
      await this.#d.code.put(zip, code);
      return this.#d.repository.publish(layerName, (version) => ({
        layerName,
        version,
        description: input.description ?? '',
        compatibleRuntimes: input.compatibleRuntimes,
        compatibleArchitectures: input.compatibleArchitectures as Architecture[] | undefined,
        licenseInfo: input.licenseInfo,
        createdMs: this.#d.clock.now(),
        code,
        policy: undefined,
      }));
    });
  }

  /** GetLayerVersion. */
  async get(layerNameParam: string, versionParam: string): Promise<LayerVersionRecord> {
    const layerName = layerNameOf(layerNameParam);
    const version = versionNumberOf(versionParam);
    const found = await this.#d.repository.get(layerName, version);
    if (found === undefined) throw notFound();
    return found;
  }

  /** GetLayerVersionByArn. */
  async getByArn(arn: string | undefined): Promise<LayerVersionRecord> {
    if (arn === undefined) {
      throw lambdaErrors.validation(
        validationMessage([{ field: 'arn', value: null, constraint: constraint.notNull() }]),
      );
    }
    checkLayerVersionArn(arn);
    const ref = parseLayerVersionArn(arn);
    if (ref === undefined || !this.#local(ref)) throw notFound();
    const found = await this.#d.repository.get(ref.layerName, ref.version);
    if (found === undefined) throw notFound();
    return found;
  }

  /** ListLayers: each layer with its latest version matching the filters, by name. */
  async listLayers(input: LayerListInput): Promise<LayerPage> {
    checkListFilters(input.compatibleRuntime, input.compatibleArchitecture);
    const latest = new Map<string, LayerVersionRecord>();
    for (const record of await this.#d.repository.all()) {
      if (!latest.has(record.layerName) && matches(record, input)) {
        latest.set(record.layerName, record);
      }
    }
    return page([...latest.values()], input, (r) => r.layerName);
  }

  /** ListLayerVersions: newest first; an unknown layer lists nothing. */
  async listVersions(layerNameParam: string, input: LayerListInput): Promise<LayerPage> {
    const layerName = layerNameOf(layerNameParam);
    checkListFilters(input.compatibleRuntime, input.compatibleArchitecture);
    const versions = (await this.#d.repository.versions(layerName)).filter((r) =>
      matches(r, input),
    );
    return page(versions, input, (r) => String(r.version).padStart(20, '0'), true);
  }

  /** DeleteLayerVersion: succeeds for unknown versions too; functions using it keep its code. */
  async delete(layerNameParam: string, versionParam: string): Promise<void> {
    const layerName = layerNameOf(layerNameParam);
    const version = versionNumberOf(versionParam);
    const found = await this.#d.repository.get(layerName, version);
    if (found === undefined) return;
    await this.#d.repository.delete(layerName, version);
    await this.#d.collector.collect(found.code.sha256Hex);
  }

  /** AddLayerVersionPermission: the new statement (as AWS renders it) and the policy's RevisionId. */
  async addPermission(
    layerNameParam: string,
    versionParam: string,
    fields: LayerPermissionFields,
    revisionId: string | undefined,
  ): Promise<{ statement: Record<string, unknown>; revisionId: string }> {
    const layerName = layerNameOf(layerNameParam);
    const version = versionNumberOf(versionParam);
    checkPermission(fields);
    const statement: LayerStatement = {
      sid: fields.statementId ?? '',
      action: fields.action ?? '',
      principal: fields.principal ?? '',
      ...(fields.organizationId === undefined ? {} : { organizationId: fields.organizationId }),
    };
    const updated = await this.#d.repository.updatePolicy(layerName, version, (current) => {
      checkRevision(current, revisionId);
      if (current?.statements.some((s) => s.sid === statement.sid)) {
        throw lambdaErrors.conflict(
          `The statement id (${statement.sid}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
        );
      }
      return {
        revisionId: this.#d.ids.uuid(),
        statements: [...(current?.statements ?? []), statement],
      };
    });
    if (updated?.policy === undefined) throw this.#versionNotFound(layerName, version);
    return {
      statement: this.statementJson(updated, statement),
      revisionId: updated.policy.revisionId,
    };
  }

  /** GetLayerVersionPolicy. */
  async getPolicy(layerNameParam: string, versionParam: string): Promise<LayerVersionRecord> {
    const layerName = layerNameOf(layerNameParam);
    const version = versionNumberOf(versionParam);
    const found = await this.#d.repository.get(layerName, version);
    if (found === undefined) throw this.#versionNotFound(layerName, version);
    if (found.policy === undefined) {
      throw new LambdaError(
        'ResourceNotFoundException',
        'No policy is associated with the given resource.',
      );
    }
    return found;
  }

  /** RemoveLayerVersionPermission. */
  async removePermission(
    layerNameParam: string,
    versionParam: string,
    statementId: string,
    revisionId: string | undefined,
  ): Promise<void> {
    const layerName = layerNameOf(layerNameParam);
    const version = versionNumberOf(versionParam);
    const updated = await this.#d.repository.updatePolicy(layerName, version, (current) => {
      if (!current?.statements.some((s) => s.sid === statementId)) {
        throw new LambdaError(
          'ResourceNotFoundException',
          `Statement ${statementId} is not found in resource policy.`,
        );
      }
      checkRevision(current, revisionId);
      const statements = current.statements.filter((s) => s.sid !== statementId);
      return statements.length === 0 ? undefined : { revisionId: this.#d.ids.uuid(), statements };
    });
    if (updated === undefined) throw this.#versionNotFound(layerName, version);
  }

  /** A statement as AWS renders it in policies. */
  statementJson(record: LayerVersionRecord, s: LayerStatement): Record<string, unknown> {
    const json: Record<string, unknown> = {
      Sid: s.sid,
      Effect: 'Allow',
      Principal: s.principal,
      Action: s.action,
      Resource: layerVersionArn(this.#d.scope, record.layerName, record.version),
    };
    if (s.organizationId !== undefined) {
      json['Condition'] = { StringEquals: { 'aws:PrincipalOrgID': s.organizationId } };
    }
    return json;
  }

  /**
   * The layer versions a function names, looked up before its settings are checked: ARN → the
   * layer and its code, or undefined when there is no such version (here).
   */
  async lookup(
    arns: readonly string[] | undefined,
  ): Promise<Map<string, FunctionLayer | undefined>> {
    const found = new Map<string, FunctionLayer | undefined>();
    for (const arn of arns ?? []) {
      const ref = parseLayerVersionArn(arn);
      const record =
        ref === undefined || !this.#local(ref)
          ? undefined
          : await this.#d.repository.get(ref.layerName, ref.version);
      found.set(arn, record === undefined ? undefined : { arn, code: record.code });
    }
    return found;
  }

  #local(ref: { readonly region: string; readonly accountId: string }): boolean {
    return ref.region === this.#d.scope.region && ref.accountId === this.#d.scope.accountId;
  }

  #versionNotFound(layerName: string, version: number): LambdaError {
    return new LambdaError(
      'ResourceNotFoundException',
      `Layer version ${layerVersionArn(this.#d.scope, layerName, version)} does not exist.`,
    );
  }
}

function notFound(): LambdaError {
  return new LambdaError('ResourceNotFoundException', 'The resource you requested does not exist.');
}

function checkRevision(current: LayerPolicy | undefined, revisionId: string | undefined): void {
  if (revisionId !== undefined && revisionId !== current?.revisionId) {
    throw new LambdaError(
      'PreconditionFailedException',
      'The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy API to retrieve the latest Revision Id',
    );
  }
}

function matches(record: LayerVersionRecord, input: LayerListInput): boolean {
  const runtime = input.compatibleRuntime;
  const architecture = input.compatibleArchitecture;
  if (runtime !== undefined && !(record.compatibleRuntimes ?? []).includes(runtime)) return false;
  if (
    architecture !== undefined &&
    !(record.compatibleArchitectures ?? []).includes(architecture as Architecture)
  ) {
    return false;
  }
  return true;
}

/** Pages a sorted list by an opaque marker naming the last key of the previous page. */
function page(
  items: readonly LayerVersionRecord[],
  input: LayerListInput,
  key: (record: LayerVersionRecord) => string,
  descending = false,
): LayerPage {
  if (input.maxItems !== undefined && (input.maxItems < 1 || input.maxItems > PAGE_LIMIT)) {
    throw lambdaErrors.validation(
      validationMessage([
        {
          field: 'maxItems',
          value: input.maxItems,
          constraint: input.maxItems < 1 ? constraint.min(1) : constraint.max(PAGE_LIMIT),
        },
      ]),
    );
  }
  const limit = input.maxItems ?? PAGE_LIMIT;
  const after = input.marker === undefined ? undefined : decodeMarker(input.marker);
  const rest =
    after === undefined
      ? items
      : items.filter((r) => (descending ? key(r) < after : key(r) > after));
  const chosen = rest.slice(0, limit);
  const last = chosen[chosen.length - 1];
  return {
    items: chosen,
    nextMarker:
      rest.length > limit && last !== undefined
        ? Buffer.from(key(last)).toString('base64url')
        : undefined,
  };
}

function decodeMarker(marker: string): string {
  const text = Buffer.from(marker, 'base64url').toString('utf8');
  if (!/^[a-zA-Z0-9_-]+$/.test(text))
    throw lambdaErrors.invalidParameter(`Invalid Marker: ${marker}`);
  return text;
}

function requireLayerZip(content: CodeInput | undefined): Buffer {
  if (content === undefined) {
    throw lambdaErrors.validation(
      validationMessage([{ field: 'content', value: null, constraint: constraint.notNull() }]),
    );
  }
  if (content.s3Bucket !== undefined || content.s3Key !== undefined) {
    throw lambdaErrors.invalidParameter(
      'Lamina does not support S3 code locations (S3Bucket, S3Key, S3ObjectVersion): upload the ' +
        'layer zip inline as Content.ZipFile (with the AWS CLI: --zip-file fileb://layer.zip).',
    );
  }
  if (content.zipFile === undefined) {
    throw lambdaErrors.invalidParameter('Please provide the layer content as a ZipFile.');
  }
  if (content.zipFile.length > LIMITS.zippedCodeBytes) {
    throw new LambdaError(
      'RequestEntityTooLargeException',
      `Zipped size must be smaller than ${LIMITS.zippedCodeBytes} bytes`,
    );
  }
  return content.zipFile;
}
