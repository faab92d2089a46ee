/** PublishVersion and ListVersionsByFunction. */
import type { Scope } from '../core/arn.js';
import { functionArn } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { lambdaErrors } from '../core/errors.js';
import type { FunctionVersion } from '../core/function-model.js';
import { LATEST } from '../core/function-model.js';
import { parseFunctionName } from '../core/function-name.js';
import type { IdSource } from '../core/ids.js';
import { LIMITS } from '../core/limits.js';
import type { FunctionRepository } from './function-repository.js';
import type { VersionRepository } from './version-repository.js';

export interface PublishInput {
  readonly codeSha256: string | undefined;
  readonly description: string | undefined;
  readonly revisionId: string | undefined;
}

export class VersionService {
  readonly #scope: Scope;
  readonly #functions: FunctionRepository;
  readonly #versions: VersionRepository;
  readonly #clock: Clock;
  readonly #ids: IdSource;

  constructor(
    scope: Scope,
    functions: FunctionRepository,
    versions: VersionRepository,
    clock: Clock,
    ids: IdSource,
  ) {
    this.#scope = scope;
    this.#functions = functions;
    this.#versions = versions;
    this.#clock = clock;
    this.#ids = ids;
  }

  /** Publishes `$LATEST` as the next version; unchanged code and configuration return the newest. */
  async publish(
    functionName: string,
    input: PublishInput,
  ): Promise<{ version: FunctionVersion; name: string; created: boolean }> {
    const ref = parseFunctionName(functionName, undefined, this.#scope);
    const notFound = () => lambdaErrors.functionNotFound(functionArn(this.#scope, ref.name));
    if (ref.qualifier !== undefined && ref.qualifier !== LATEST) throw notFound();
    const result = await this.#versions.publish(ref.name, (latest, newest, next) => {
      // As CodeSha256 shows it: base64 of a zip's SHA-256, an image's digest in hex.
      const sha =
        latest.settings.image === undefined
          ? Buffer.from(latest.code.sha256Hex, 'hex').toString('base64')
          : latest.code.sha256Hex;
      if (latest.status.state === 'Pending' || latest.status.lastUpdateStatus === 'InProgress') {
        throw lambdaErrors.conflict(
          latest.status.state === 'Pending'
            ? 'The operation cannot be performed at this time. The function is currently in the following state: Pending'
            : `The operation cannot be performed at this time. An update is in progress for resource: ${functionArn(this.#scope, ref.name)}`,
        );
      }
      if (input.revisionId !== undefined && input.revisionId !== latest.revisionId) {
        throw lambdaErrors.staleRevision();
      }
      if (input.codeSha256 !== undefined && input.codeSha256 !== sha) {
        throw lambdaErrors.invalidParameter(
          `CodeSHA256 (${input.codeSha256}) is different from current CodeSHA256 in $LATEST (${sha}). Please try again with the CodeSHA256 in $LATEST.`,
        );
      }
      const settings = {
        ...latest.settings,
        description: input.description ?? latest.settings.description,
      };
      // Unchanged code and configuration since the newest version: return it, do not publish.
      if (newest !== undefined && newest.publishedFromModifiedMs === latest.lastModifiedMs) {
        return undefined;
      }
      return {
        ...latest,
        version: String(next),
        settings,
        readyCode: latest.readyCode ?? latest.code,
        revisionId: this.#ids.uuid(),
        lastModifiedMs: this.#clock.now(),
        status: { state: 'Active', lastUpdateStatus: 'Successful' },
        publishedFromModifiedMs: latest.lastModifiedMs,
      };
    });
    if (result === undefined) throw notFound();
    return { ...result, name: ref.name };
  }

  /** `$LATEST` then published versions in order; `marker` is the last version number shown. */
  async list(
    functionName: string,
    marker: string | undefined,
    maxItems: number | undefined,
    pageLimit: number = LIMITS.listMaxItems,
  ): Promise<{ name: string; versions: FunctionVersion[]; nextMarker: string | undefined }> {
    const ref = parseFunctionName(functionName, undefined, this.#scope);
    const record = await this.#functions.get(ref.name);
    if (record === undefined)
      throw lambdaErrors.functionNotFound(functionArn(this.#scope, ref.name));
    const limit = Math.min(Math.max(maxItems ?? pageLimit, 1), pageLimit);
    const after = marker === undefined ? -1 : Number(marker);
    if (!Number.isInteger(after))
      throw lambdaErrors.invalidParameter(`Invalid Marker: ${marker ?? ''}`);
    const page: FunctionVersion[] = after < 0 ? [record.latest] : [];
    const published = await this.#versions.list(
      ref.name,
      Math.max(after, 0),
      limit - page.length + 1,
    );
    page.push(...published);
    const shown = page.slice(0, limit);
    const last = shown[shown.length - 1];
    return {
      name: ref.name,
      versions: shown,
      nextMarker:
        page.length > limit && last !== undefined
          ? last.version === LATEST
            ? '0'
            : last.version
          : undefined,
    };
  }
}
