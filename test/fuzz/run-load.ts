/**
 * Drives a fuzzing load: a deterministic stream of cases drawn by fast-check from the seed (in
 * batches, so that a run of any length is one sequence), handled with a fixed number in flight,
 * until the count is reached or the deadline passes.
 */
import fc from 'fast-check';

/** The cases of `arbitrary` for `seed`, in order, without end, from the `first`-th on. */
export function* caseStream<T>(
  arbitrary: fc.Arbitrary<T>,
  seed: number,
  first = 0,
  batch = 100,
): Generator<T> {
  for (let index = Math.floor(first / batch); ; index += 1) {
    // A batch's seed depends on the run's seed and the batch's position only.
    const cases = fc.sample(arbitrary, { seed: (seed * 1_000_003 + index) | 0, numRuns: batch });
    yield* index * batch < first ? cases.slice(first - index * batch) : cases;
  }
}

export interface LoadResult {
  readonly sent: number;
  /** Why the load stopped before every case was sent (the deadline, `abandon`), if it did. */
  readonly stoppedEarly: string | undefined;
  readonly durationMs: number;
}

export async function runLoad<T>(options: {
  readonly cases: Iterator<T>;
  /** Cases are numbered from `first` (default 0) up to `total` (excluded). */
  readonly first?: number;
  readonly total: number;
  readonly concurrency: number;
  /** Epoch milliseconds after which no new case is started. */
  readonly deadline: number;
  readonly handle: (item: T, index: number) => Promise<void>;
  readonly progress?: (sent: number) => void;
  /**
   * A case not handled within `stuckMs` (the handlers' own deadlines failed) is reported here and
   * left behind, so that one stuck request cannot stall the run.
   */
  readonly stuck: (item: T, index: number) => void;
  readonly stuckMs: number;
  /** Asked before each case: a reason to stop now (e.g. the server died), or undefined. */
  readonly abandon?: () => string | undefined;
  /** Told how long each case took. */
  readonly timed?: (item: T, ms: number) => void;
}): Promise<LoadResult> {
  const started = Date.now();
  const first = options.first ?? 0;
  let next = first;
  let stoppedEarly: string | undefined;
  const ticker = setInterval(() => options.progress?.(next), 10_000);
  const worker = async () => {
    for (;;) {
      // A case can settle without any I/O (no live target): yield to the event loop each time, or
      // the loop would run on microtasks alone and never see the server's exit or any timer.
      await new Promise((resolve) => setImmediate(resolve));
      if (next >= options.total) return;
      if (Date.now() > options.deadline) {
        stoppedEarly ??= 'the time limit passed before every request was sent';
        return;
      }
      const reason = options.abandon?.();
      if (reason !== undefined) {
        stoppedEarly ??= reason;
        return;
      }
      const index = next;
      next += 1;
      const item = options.cases.next();
      if (item.done === true) return;
      let timer: NodeJS.Timeout | undefined;
      const stuck = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          options.stuck(item.value, index);
          resolve();
        }, options.stuckMs);
      });
      const began = performance.now();
      await Promise.race([options.handle(item.value, index), stuck]);
      clearTimeout(timer);
      options.timed?.(item.value, performance.now() - began);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    clearInterval(ticker);
  }
  return { sent: next - first, stoppedEarly, durationMs: Date.now() - started };
}

/**
 * Reads the server's memory after the load until it is back within `slackMiB` of `startMiB` or
 * `deadlineMs` has passed (garbage collection needs a moment); resolves with the last reading.
 */
export async function settledRss(
  read: () => number,
  startMiB: number,
  slackMiB: number,
  deadlineMs: number,
): Promise<{ readonly endMiB: number; readonly waitedMs: number }> {
  const started = Date.now();
  for (;;) {
    const now = read();
    if (!(now > startMiB + slackMiB) || Date.now() - started > deadlineMs)
      return { endMiB: now, waitedMs: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/**
 * The cases being handled right now and the last ones started, as they were when the server died:
 * one of them is likely what killed it (a case can be done, from the client's side, before the
 * server has processed its bytes). The report lists them.
 */
export class InFlight<T> {
  readonly #now = new Map<number, T>();
  readonly #recent: (readonly [number, T])[] = [];
  #atDeath: (readonly [number, T])[] | undefined;

  /** `onDeath` registers a listener for the server's exit. */
  constructor(onDeath: (listener: () => void) => void) {
    onDeath(() => {
      const suspects = new Map([...this.#recent, ...this.#now]);
      this.#atDeath ??= [...suspects].sort(([a], [b]) => a - b);
    });
  }

  async run(index: number, item: T, work: () => Promise<void>): Promise<void> {
    this.#now.set(index, item);
    this.#recent.push([index, item]);
    if (this.#recent.length > RECENT_KEPT) this.#recent.shift();
    try {
      await work();
    } finally {
      this.#now.delete(index);
    }
  }

  /** The load is over: the server's exit from now on is the harness stopping it. */
  stop(): void {
    this.#atDeath ??= [];
  }

  get atDeath(): readonly (readonly [number, T])[] {
    return this.#atDeath ?? [];
  }
}

/** How many of the last cases started are kept as suspects. */
const RECENT_KEPT = 16;
