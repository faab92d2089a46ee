/**
 * Metric series keyed by two label values (a function and a resource, a mapping and its
 * function), with a cap: once `max` series exist, observations of new keys are folded into one
 * overflow series and counted, so neither the server's memory nor Prometheus's series count grows
 * with whatever names clients invent. Lookups are two Map reads and allocate nothing.
 */

/** The label value of the series that holds what the cap folded. */
export const OVERFLOW_LABEL = '_overflow';

/** Longest label value kept; longer ones are cut (names Lamina accepts are far shorter). */
const MAX_LABEL_CHARS = 256;

export class SeriesTable<T> {
  readonly #rows = new Map<string, Map<string, T>>();
  readonly #make: (first: string, second: string) => T;
  readonly #max: number;
  #size = 0;
  #overflow: T | undefined;
  #folded = 0;

  /** `make` builds a new series for its two label values; at most `max` are made. */
  constructor(max: number, make: (first: string, second: string) => T) {
    this.#max = max;
    this.#make = make;
  }

  /** The series of (`first`, `second`), or the overflow series once the table is full. */
  get(first: string, second: string): T {
    const found = this.#rows.get(first)?.get(second);
    if (found !== undefined) return found;
    return this.#add(bounded(first), bounded(second));
  }

  /** Every series, the overflow one last (if anything was folded into it). */
  *values(): IterableIterator<T> {
    for (const row of this.#rows.values()) yield* row.values();
    if (this.#overflow !== undefined) yield this.#overflow;
  }

  /** Series made (the overflow series not counted). */
  get size(): number {
    return this.#size;
  }

  /** Observations that went to the overflow series because the table was full. */
  get folded(): number {
    return this.#folded;
  }

  #add(first: string, second: string): T {
    // A cut label value may already have its series.
    const again = this.#rows.get(first)?.get(second);
    if (again !== undefined) return again;
    if (this.#size >= this.#max) {
      this.#folded += 1;
      this.#overflow ??= this.#make(OVERFLOW_LABEL, OVERFLOW_LABEL);
      return this.#overflow;
    }
    let row = this.#rows.get(first);
    if (row === undefined) {
      row = new Map();
      this.#rows.set(first, row);
    }
    const series = this.#make(first, second);
    row.set(second, series);
    this.#size += 1;
    return series;
  }
}

function bounded(value: string): string {
  return value.length > MAX_LABEL_CHARS ? value.slice(0, MAX_LABEL_CHARS) : value;
}
