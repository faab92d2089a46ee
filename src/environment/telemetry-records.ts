/**
 * The records of Lambda's platform telemetry events (Telemetry API schema 2022-12-13; the Logs
 * API's records are subsets), built from what an environment measured. Pure.
 */
import { billedMs, type ReportFigures } from './platform-log.js';

export type InitializationType = 'on-demand' | 'provisioned-concurrency';

/** Outcome words of `platform.runtimeDone`, `platform.report` and `platform.initRuntimeDone`. */
export type TelemetryStatus = 'success' | 'error' | 'failure' | 'timeout';

export interface TracingValue {
  readonly type: 'X-Amzn-Trace-Id';
  readonly value: string;
}

export function tracing(traceId: string): TracingValue {
  return { type: 'X-Amzn-Trace-Id', value: traceId };
}

export function initStartRecord(input: {
  readonly initializationType: InitializationType;
  readonly runtimeVersion: string;
  readonly runtimeVersionArn: string;
  readonly functionName: string;
  readonly functionVersion: string;
}): Record<string, unknown> {
  return { ...input, phase: 'init' };
}

export function initRuntimeDoneRecord(
  initializationType: InitializationType,
  status: TelemetryStatus,
  errorType: string | undefined,
): Record<string, unknown> {
  return {
    initializationType,
    phase: 'init',
    status,
    ...(errorType === undefined ? {} : { errorType }),
  };
}

export function initReportRecord(
  initializationType: InitializationType,
  durationMs: number,
  status: TelemetryStatus,
  errorType: string | undefined,
): Record<string, unknown> {
  return {
    initializationType,
    phase: 'init',
    status,
    ...(errorType === undefined ? {} : { errorType }),
    metrics: { durationMs: round(durationMs) },
  };
}

export function startRecord(requestId: string, version: string, traceId: string) {
  return { requestId, version, tracing: tracing(traceId) };
}

export function runtimeDoneRecord(input: {
  readonly requestId: string;
  readonly status: TelemetryStatus;
  readonly errorType: string | undefined;
  readonly durationMs: number;
  readonly producedBytes: number;
  readonly traceId: string;
}): Record<string, unknown> {
  return {
    requestId: input.requestId,
    status: input.status,
    ...(input.errorType === undefined ? {} : { errorType: input.errorType }),
    metrics: { durationMs: round(input.durationMs), producedBytes: input.producedBytes },
    tracing: tracing(input.traceId),
  };
}

export function reportRecord(
  figures: ReportFigures,
  status: TelemetryStatus,
  traceId: string,
): Record<string, unknown> {
  return {
    requestId: figures.requestId,
    status,
    ...(figures.errorType === undefined || status === 'success'
      ? {}
      : { errorType: figures.errorType }),
    metrics: {
      durationMs: round(figures.durationMs),
      billedDurationMs: billedMs(figures.durationMs),
      memorySizeMB: figures.memorySizeMiB,
      maxMemoryUsedMB: figures.maxMemoryUsedMiB,
      ...(figures.initDurationMs === undefined
        ? {}
        : { initDurationMs: round(figures.initDurationMs) }),
    },
    tracing: tracing(traceId),
  };
}

/** The `EXTENSION` platform log line written for each extension at the end of init. */
export function extensionLine(e: {
  readonly name: string;
  readonly state: string;
  readonly events: readonly string[];
  readonly errorType?: string;
}): string {
  const line = `EXTENSION\tName: ${e.name}\tState: ${e.state}\tEvents: [${e.events.join(',')}]`;
  return e.errorType === undefined ? line : `${line}\tError Type: ${e.errorType}`;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
