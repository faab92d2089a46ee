/**
 * The store of invocation records and of hourly usage (the port the recorder and the API use;
 * `store/sqlite-invocation-record-store.ts` implements it). Records and usage are written together,
 * so the usage of any hour is exactly the sum of its records.
 */
import type { Architecture } from '../core/function-model.js';
import type {
  InvocationOutcomeKind,
  InvocationReport,
  InvocationTrigger,
} from '../core/invocation-report.js';
import type { UsageFigures } from '../core/usage-prices.js';

/** A stored record: the report and its place in the store (newer records have larger ones). */
export interface StoredInvocation extends InvocationReport {
  readonly seq: number;
}

/** Which records to list, newest first. */
export interface InvocationQuery {
  readonly functionName?: string | undefined;
  readonly requestId?: string | undefined;
  /** Records of invocations that started at or after this time (epoch ms). */
  readonly sinceMs?: number | undefined;
  /** … and before this time. */
  readonly untilMs?: number | undefined;
  readonly outcome?: InvocationOutcomeKind | undefined;
  readonly trigger?: InvocationTrigger | undefined;
  /** Records stored before this one (`seq` of the previous page's last record). */
  readonly beforeSeq?: number | undefined;
  readonly limit: number;
}

/** Provisioned concurrency kept ready by one version over a span of time. */
export interface ProvisionedAccrual {
  readonly functionName: string;
  readonly version: string;
  readonly architecture: Architecture;
  /** The hour (epoch ms, a multiple of 3,600,000) the span falls in. */
  readonly hourMs: number;
  /** Environments × memory (MiB) × milliseconds. */
  readonly mibMs: number;
}

/** Usage of one function version, architecture and period. */
export interface UsageRow extends UsageFigures {
  readonly functionName: string;
  readonly version: string;
  readonly architecture: Architecture;
  /** Start of the period (epoch ms). */
  readonly periodMs: number;
}

export interface UsageQuery {
  readonly functionName?: string | undefined;
  /** Hours starting at or after (epoch ms, rounded down to the hour by the caller). */
  readonly sinceMs?: number | undefined;
  readonly untilMs?: number | undefined;
  readonly by: 'hour' | 'day';
}

export interface InvocationRecordStore {
  /** Writes records and provisioned accruals, and adds both to the hourly usage, in one commit. */
  append(
    reports: readonly InvocationReport[],
    accruals: readonly ProvisionedAccrual[],
  ): Promise<void>;
  list(query: InvocationQuery): Promise<StoredInvocation[]>;
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /** Deletes up to `max` records of invocations that started before `cutoffMs`; returns how many. */
  pruneRecords(cutoffMs: number, max: number): Promise<number>;
  /** Deletes usage of hours before `cutoffMs`; returns how many rows. */
  pruneUsage(cutoffMs: number): Promise<number>;
}

/** What provisioned concurrency is kept ready now, per version (for its usage). */
export interface ProvisionedNow {
  readonly functionName: string;
  readonly version: string;
  readonly architecture: Architecture;
  readonly memoryMiB: number;
  /** Environments allocated (ready) for the version. */
  readonly allocated: number;
}
