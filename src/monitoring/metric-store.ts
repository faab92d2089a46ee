/**
 * Where finished minutes of CloudWatch metrics are kept (SQLite in the server): one row per series
 * and minute written, several rows of the same minute merged when read (a late report, an
 * invocation that ended minutes after it started, adds a row rather than rewriting one).
 */
import type { Dimension } from './lambda-metric-catalog.js';

/** What a minute of a series adds up to, as it is stored. */
export interface MinuteFigures {
  /** The minute's start (epoch ms, a multiple of 60,000). */
  readonly minuteMs: number;
  /** Which write of the server's memory it came from (a read skips what memory still holds). */
  readonly batch: number;
  readonly count: number;
  readonly sum: number;
  readonly min: number;
  readonly max: number;
  /** The encoded LogHistogram of its values. */
  readonly histogram: Uint8Array;
}

/** A minute of one series, to be written. */
export interface SeriesMinute extends MinuteFigures {
  readonly key: string;
  readonly namespace: string;
  readonly metric: string;
  readonly dimensions: readonly Dimension[];
}

/** A series with data, and the last minute it had some. */
export interface StoredSeries {
  readonly key: string;
  readonly namespace: string;
  readonly metric: string;
  readonly dimensions: readonly Dimension[];
  readonly lastMinuteMs: number;
}

export interface MetricStore {
  /**
   * Writes minutes (their series are recorded, or their last minute moved), in several steps:
   * writing the same minutes again after a failure adds nothing twice.
   */
  write(minutes: readonly SeriesMinute[]): Promise<void>;
  /** The series with data in or after the minute `sinceMs`. */
  series(sinceMs: number): Promise<StoredSeries[]>;
  /**
   * The rows of series `key` with `fromMs <= minute < toMs`, by minute; histograms only when asked
   * for (empty otherwise).
   */
  read(key: string, fromMs: number, toMs: number, histograms: boolean): Promise<MinuteFigures[]>;
  /** Deletes rows of minutes before `beforeMs`, and series with no minute left; returns rows. */
  prune(beforeMs: number): Promise<number>;
}
