/**
 * Runs the enabled mappings: one poller each, reading batches from its source and handing them to
 * the BatchProcessor, and settles every mapping's transitional state once it has acted on it
 * (Creating/Enabling/Updating → Enabled, Disabling → Disabled, Deleting → gone). A source that
 * cannot be reached is retried with a growing pause (1 s up to 30 s) and the reason is shown in
 * StateTransitionReason and LastProcessingResult until it recovers. At start, mappings left in a
 * transitional state by a stop or a crash are settled and the enabled ones resume; records that
 * were not settled are delivered again by their source.
 */
import type { Clock } from '../core/clock.js';
import { DueTimer } from '../core/due-timer.js';
import { compileFilters } from '../core/event-filter.js';
import {
  batchingWindowMs,
  settledState,
  USER_INITIATED,
  type EventSourceMapping,
} from '../core/event-source-mapping.js';
import type { BatchProcessor } from './batch-processor.js';
import type { MappingChanges } from './mapping-service.js';
import type { MappingRepository, RecordSource, SourceConnector } from './ports.js';

const FIRST_RECONNECT_MS = 1000;
const LONGEST_RECONNECT_MS = 30_000;

export interface MappingSupervisorDeps {
  readonly mappings: MappingRepository;
  readonly connector: SourceConnector;
  readonly processor: (report: (result: string) => void, pause: Pauser) => BatchProcessor;
  readonly clock: Clock;
  readonly functionArn: (mapping: EventSourceMapping) => string;
  readonly onError: (error: unknown, uuid: string) => void;
}

/** Waits on the injected clock; a stop ends every wait at once (answering false). */
export class Pauser {
  readonly #clock: Clock;
  readonly #timer: DueTimer;
  #wake: ((ran: boolean) => void) | undefined;
  #stopped = false;

  constructor(clock: Clock) {
    this.#clock = clock;
    this.#timer = new DueTimer(clock, () => this.#end(true));
  }

  pause(ms: number): Promise<boolean> {
    if (this.#stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer.at(this.#clock.now() + ms);
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#timer.cancel();
    this.#end(false);
  }

  #end(ran: boolean): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.(ran);
  }
}

class Poller {
  readonly #pauser: Pauser;
  #source: RecordSource | undefined;
  #stopped = false;
  readonly done: Promise<void>;

  constructor(
    readonly mapping: EventSourceMapping,
    readonly deps: MappingSupervisorDeps,
    readonly status: (fields: { reason?: string; result?: string }) => void,
    /** Called once, after the first attempt to open the source (whether it opened or not). */
    readonly started: () => Promise<void>,
  ) {
    this.#pauser = new Pauser(deps.clock);
    this.done = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#pauser.stop();
    this.#source?.interrupt();
    await this.done;
  }

  async #run(): Promise<void> {
    const { mapping, deps } = this;
    const filter = compileFilters(mapping.settings.filterPatterns ?? []);
    const processor = deps.processor((result) => this.status({ result }), this.#pauser);
    const target = { mapping, functionArn: deps.functionArn(mapping), filter };
    let failures = 0;
    let starting = true;
    while (!this.#stopped) {
      let source: RecordSource;
      try {
        source = await deps.connector.open(mapping, mapping.source);
      } catch (error) {
        failures += 1;
        this.#problem(error);
        if (starting) await this.started();
        starting = false;
        await this.#pauser.pause(reconnectPauseMs(failures));
        continue;
      }
      // Enabled once the source reads: records after this moment are the mapping's (LATEST).
      if (starting) await this.started();
      starting = false;
      this.#source = source;
      if (this.#stopped) source.interrupt();
      if (failures > 0) this.status({ reason: USER_INITIATED });
      failures = 0;
      try {
        await this.#drain(source, { ...target, source }, processor);
      } catch (error) {
        failures += 1;
        this.#problem(error);
        await source.close().catch(() => undefined);
        this.#source = undefined;
        await this.#pauser.pause(reconnectPauseMs(failures));
        continue;
      }
      await source.close().catch(() => undefined);
      this.#source = undefined;
    }
  }

  async #drain(
    source: RecordSource,
    target: Parameters<BatchProcessor['process']>[0],
    processor: BatchProcessor,
  ): Promise<void> {
    const { settings } = this.mapping;
    // A stream's lanes (ParallelizationFactor) run side by side; a queue's batches, up to
    // ScalingConfig.MaximumConcurrency.
    const workers = Math.max(
      1,
      (source.ordered ? settings.parallelizationFactor : settings.maximumConcurrency) ?? 1,
    );
    const worker = async () => {
      while (!this.#stopped) {
        const records = await source.next(settings.batchSize, batchingWindowMs(settings));
        if (this.#stopped || records.length === 0) continue;
        const settlement = await processor.process(target, records);
        if (settlement === undefined) return;
        await source.settle(settlement.done, settlement.rejected);
      }
    };
    await Promise.all(Array.from({ length: workers }, worker));
  }

  #problem(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    const problem = `PROBLEM: Connection error. ${message}`.slice(0, 1000);
    this.status({ reason: problem, result: problem });
  }
}

function reconnectPauseMs(failures: number): number {
  return Math.min(LONGEST_RECONNECT_MS, FIRST_RECONNECT_MS * 2 ** Math.max(0, failures - 1));
}

export class MappingSupervisor implements MappingChanges {
  readonly #d: MappingSupervisorDeps;
  readonly #pollers = new Map<string, Poller>();
  /** Each mapping's changes are acted on one after another. */
  readonly #queues = new Map<string, Promise<void>>();
  #stopping = false;

  constructor(deps: MappingSupervisorDeps) {
    this.#d = deps;
  }

  /** Settles what a stop or a crash left half-way and starts the enabled mappings. */
  async start(): Promise<void> {
    for (const mapping of await this.#d.mappings.all()) this.changed(mapping.uuid);
    await this.idle();
  }

  changed(uuid: string): void {
    if (this.#stopping) return;
    const previous = this.#queues.get(uuid) ?? Promise.resolve();
    const next = previous
      .then(() => this.#reconcile(uuid))
      .catch((error: unknown) => this.#d.onError(error, uuid));
    this.#queues.set(uuid, next);
    void next.then(() => {
      if (this.#queues.get(uuid) === next) this.#queues.delete(uuid);
    });
  }

  /** Resolves once every change heard so far has been acted on (for tests and orderly stops). */
  async idle(): Promise<void> {
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()]);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await this.idle();
    await Promise.all([...this.#pollers.values()].map((poller) => poller.stop()));
    this.#pollers.clear();
  }

  async #reconcile(uuid: string): Promise<void> {
    const mapping = await this.#d.mappings.get(uuid);
    const running = this.#pollers.get(uuid);
    if (running !== undefined) {
      this.#pollers.delete(uuid);
      await running.stop();
    }
    if (mapping === undefined) return;
    if (mapping.state === 'Deleting') {
      await this.#d.mappings.delete(uuid);
      return;
    }
    const state = settledState(mapping.state, mapping.enabled);
    const settle = async () => {
      if (state !== mapping.state) await this.#d.mappings.patchStatus(uuid, { state });
    };
    if (!mapping.enabled || this.#stopping) return settle();
    // Status is written when it changes, not after every batch.
    let shown = {
      stateTransitionReason: mapping.stateTransitionReason,
      lastProcessingResult: mapping.lastProcessingResult,
    };
    const status = (fields: { reason?: string; result?: string }) => {
      const next = {
        stateTransitionReason: fields.reason ?? shown.stateTransitionReason,
        lastProcessingResult: fields.result ?? shown.lastProcessingResult,
      };
      if (
        next.stateTransitionReason === shown.stateTransitionReason &&
        next.lastProcessingResult === shown.lastProcessingResult
      )
        return;
      shown = next;
      this.#d.mappings
        .patchStatus(uuid, next)
        .catch((error: unknown) => this.#d.onError(error, uuid));
    };
    this.#pollers.set(uuid, new Poller({ ...mapping, state }, this.#d, status, settle));
  }
}
