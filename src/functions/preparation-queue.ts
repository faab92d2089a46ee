/**
 * Prepares code in the background after a create or update has been acknowledged: extracts the
 * zip once per hash, then moves the function from Pending/InProgress to Active/Successful (or to
 * Failed with the reason). Jobs are keyed by function name, so a burst of requests for one
 * function prepares it once; on restart, unfinished preparations are scheduled again.
 */
import type { IdSource } from '../core/ids.js';
import type { CodeRef, FunctionRecord } from '../core/function-model.js';
import { awaitsPreparation, transition } from '../core/function-lifecycle.js';
import { LambdaError } from '../core/errors.js';
import type { CodeCollector } from './code-collector.js';
import type { CodeStore } from './code-store.js';
import type { FunctionRepository } from './function-repository.js';
import { ImagePullError, type ImageStore } from './image-store.js';
import { resolvedImageUri } from '../core/resolved-image-uri.js';

/** Receives failures the queue could not record (logged by the composition root). */
export type PreparationErrorSink = (name: string, error: unknown) => void;

export class PreparationQueue {
  readonly #repository: FunctionRepository;
  readonly #code: CodeStore;
  readonly #collector: CodeCollector;
  readonly #ids: IdSource;
  readonly #onError: PreparationErrorSink;
  readonly #images: ImageStore | undefined;
  readonly #running = new Map<string, Promise<void>>();
  readonly #again = new Set<string>();
  /** Functions whose image is being pulled (a pull may take minutes; stop() does not wait). */
  readonly #pulling = new Set<string>();
  #stopped = false;

  constructor(
    repository: FunctionRepository,
    code: CodeStore,
    collector: CodeCollector,
    ids: IdSource,
    onError: PreparationErrorSink,
    images?: ImageStore,
  ) {
    this.#images = images;
    this.#repository = repository;
    this.#code = code;
    this.#collector = collector;
    this.#ids = ids;
    this.#onError = onError;
  }

  /** Schedules the preparation of a function; a no-op if it is already prepared. */
  schedule(name: string): void {
    if (this.#stopped) return;
    if (this.#running.has(name)) {
      this.#again.add(name);
      return;
    }
    const job = this.#run(name).finally(() => {
      this.#running.delete(name);
      if (this.#again.delete(name)) this.schedule(name);
    });
    this.#running.set(name, job);
  }

  /** Resolves when no preparation of this function is running or scheduled. */
  async settled(name: string): Promise<void> {
    for (let job = this.#running.get(name); job !== undefined; job = this.#running.get(name)) {
      await job;
    }
  }

  /** Schedules every function left Pending or InProgress by an earlier run. */
  async recover(): Promise<number> {
    const owed = await this.#repository.listAwaitingPreparation();
    for (const record of owed) this.schedule(record.name);
    return owed.length;
  }

  /** Resolves when no preparation is running (used by shutdown and tests). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.allSettled([...this.#running.values()]);
  }

  /**
   * Stops accepting work and waits for running jobs, except image pulls: a registry may take
   * minutes (or, hostile, forever) to answer. Their functions stay Pending or InProgress, and the
   * next start pulls them again (`recover`).
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    const waited = () =>
      [...this.#running].filter(([name]) => !this.#pulling.has(name)).map(([, job]) => job);
    for (let jobs = waited(); jobs.length > 0; jobs = waited()) await Promise.allSettled(jobs);
  }

  async #run(name: string): Promise<void> {
    try {
      const record = await this.#repository.get(name);
      if (record === undefined || !awaitsPreparation(record.latest.status)) return;
      const image = record.latest.settings.image;
      if (image !== undefined) {
        // A configuration update keeps the image it runs; only a new code (none yet) is pulled.
        const pinned = record.latest.code.sha256Hex;
        const source = pinned === '' ? image.uri : resolvedImageUri(image.uri, `sha256:${pinned}`);
        await this.#pull(name, image.uri, source);
        return;
      }
      const code = record.latest.code;
      let failure: { reasonCode: string; reason: string } | undefined;
      try {
        await this.#code.prepare(code);
      } catch (error) {
        failure = describeFailure(error);
      }
      const previous = record.latest.readyCode?.sha256Hex;
      await this.#repository.update(name, (current) =>
        current.latest.code.sha256Hex === code.sha256Hex
          ? this.#complete(current, failure)
          : current,
      );
      if (previous !== code.sha256Hex) await this.#collector.collect(previous);
    } catch (error) {
      this.#onError(name, error);
    }
  }

  /**
   * Pulls an image function's image; the digest it resolved to becomes the code the function
   * runs (unless the function moved to another image meanwhile: the next job pulls that one).
   */
  async #pull(name: string, uri: string, source: string): Promise<void> {
    const images = this.#images;
    let failure: { reasonCode: string; reason: string } | undefined;
    let digest: { hex: string; sizeBytes: number } | undefined;
    this.#pulling.add(name);
    try {
      if (images === undefined) throw new Error('this server has no image store');
      const pulled = await images.pull(source);
      digest = { hex: pulled.digest.replace(/^sha256:/, ''), sizeBytes: pulled.sizeBytes };
    } catch (error) {
      failure =
        error instanceof ImagePullError
          ? { reasonCode: error.reasonCode, reason: error.message }
          : describeFailure(error);
    } finally {
      this.#pulling.delete(name);
    }
    // Stopped meanwhile: the store may be closed; the next start pulls again.
    if (this.#stopped) return;
    if (images === undefined || digest === undefined) {
      await this.#repository.update(name, (current) =>
        current.latest.settings.image?.uri === uri ? this.#complete(current, failure) : current,
      );
      return;
    }
    const code: CodeRef = { sha256Hex: digest.hex, sizeBytes: digest.sizeBytes };
    let replaced: string | undefined;
    // Pinned while it is recorded: a collection of the same digest (another function deleted
    // meanwhile) cannot remove it in between, and if the record does not take it (the function
    // was deleted or moved to another image), it is collected when the pin ends.
    await this.#collector.withPinned(code.sha256Hex, async () => {
      if ((await images.open(`sha256:${code.sha256Hex}`)) === undefined) await images.pull(source);
      await this.#repository.update(name, (current) => {
        if (current.latest.settings.image?.uri !== uri) return current;
        replaced = current.latest.readyCode?.sha256Hex;
        return this.#complete({ ...current, latest: { ...current.latest, code } }, undefined);
      });
    });
    // The image the function ran before, unless another function or version still runs it.
    if (replaced !== code.sha256Hex) await this.#collector.collect(replaced);
  }

  #complete(
    current: FunctionRecord,
    failure: { reasonCode: string; reason: string } | undefined,
  ): FunctionRecord {
    const result = transition(
      current.latest.status,
      failure === undefined ? { kind: 'prepared' } : { kind: 'preparation-failed', ...failure },
    );
    if (!result.ok) return current;
    return {
      ...current,
      latest: {
        ...current.latest,
        status: result.status,
        readyCode: failure === undefined ? current.latest.code : current.latest.readyCode,
        revisionId: this.#ids.uuid(),
      },
    };
  }
}

function describeFailure(error: unknown): { reasonCode: string; reason: string } {
  if (error instanceof LambdaError) {
    return { reasonCode: 'InvalidZipFileException', reason: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { reasonCode: 'InternalError', reason: `Lamina could not prepare the code: ${message}` };
}
