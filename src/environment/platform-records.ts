/**
 * The platform's own log events (init start, invocation start and end, report, timeout), written
 * as Lambda's text lines or, for functions whose LoggingConfig asks for JSON, as JSON records in
 * the `{time, type, record}` shape of the Telemetry API, kept or dropped by the SystemLogLevel.
 */
import type { LoggingSettings, SystemLogLevel } from '../core/function-model.js';
import {
  billedMs,
  endLine,
  initStartLine,
  reportLine,
  startLine,
  timeoutLine,
  type ReportFigures,
} from './platform-log.js';

/** One platform event of an environment. */
export type PlatformEvent =
  | {
      readonly kind: 'initStart';
      readonly runtimeVersion: string;
      readonly runtimeVersionArn: string;
      readonly initializationType: string;
      readonly functionName: string;
      readonly functionVersion: string;
    }
  | { readonly kind: 'start'; readonly requestId: string; readonly version: string }
  | { readonly kind: 'timeout'; readonly requestId: string; readonly timeoutSeconds: number }
  | { readonly kind: 'end'; readonly requestId: string; readonly status: ReportStatus }
  | { readonly kind: 'report'; readonly figures: ReportFigures };

type ReportStatus = 'success' | 'error' | 'timeout';

/** How an environment writes platform events (text unless the function's LoggingConfig says JSON). */
export interface SystemLogSettings {
  readonly json: boolean;
  /** Lowest level kept (JSON only); Lambda's default is INFO. */
  readonly level: SystemLogLevel;
}

export const TEXT_SYSTEM_LOG: SystemLogSettings = { json: false, level: 'INFO' };

/** The system-log settings of a function's LoggingConfig. */
export function systemLogSettings(logging: LoggingSettings): SystemLogSettings {
  if (logging.format !== 'JSON') return TEXT_SYSTEM_LOG;
  return { json: true, level: logging.systemLogLevel ?? 'INFO' };
}

const RANK: Readonly<Record<SystemLogLevel, number>> = { DEBUG: 0, INFO: 1, WARN: 2 };

/** The line to log for an event (undefined when the level filters it out). */
export function platformLine(
  event: PlatformEvent,
  settings: SystemLogSettings,
  nowMs: number,
): string | undefined {
  if (!settings.json) return textLine(event, nowMs);
  const { type, level, record } = jsonRecord(event);
  if (RANK[level] < RANK[settings.level]) return undefined;
  return JSON.stringify({ time: new Date(nowMs).toISOString(), type, record });
}

function textLine(event: PlatformEvent, nowMs: number): string | undefined {
  switch (event.kind) {
    case 'initStart':
      // An image function has no managed runtime version to name.
      return event.runtimeVersion === ''
        ? undefined
        : initStartLine(event.runtimeVersion, event.runtimeVersionArn);
    case 'start':
      return startLine(event.requestId, event.version);
    case 'timeout':
      return timeoutLine(new Date(nowMs).toISOString(), event.requestId, event.timeoutSeconds);
    case 'end':
      return endLine(event.requestId);
    case 'report':
      return reportLine(event.figures);
  }
}

/** The JSON record of an event and the level it is logged at. */
function jsonRecord(event: PlatformEvent): {
  type: string;
  level: SystemLogLevel;
  record: Record<string, unknown>;
} {
  switch (event.kind) {
    case 'initStart':
      return {
        type: 'platform.initStart',
        level: 'INFO',
        record: {
          initializationType: event.initializationType,
          phase: 'init',
          runtimeVersion: event.runtimeVersion,
          runtimeVersionArn: event.runtimeVersionArn,
          functionName: event.functionName,
          functionVersion: event.functionVersion,
        },
      };
    case 'start':
      return {
        type: 'platform.start',
        level: 'INFO',
        record: { requestId: event.requestId, version: event.version },
      };
    case 'timeout':
      // The report that follows says `status: timeout`; this one is for readers of the stream.
      return {
        type: 'platform.runtimeDone',
        level: 'WARN',
        record: { requestId: event.requestId, status: 'timeout', errorType: 'Sandbox.Timedout' },
      };
    case 'end':
      return {
        type: 'platform.runtimeDone',
        level: 'DEBUG',
        record: { requestId: event.requestId, status: event.status },
      };
    case 'report':
      return reportRecord(event.figures);
  }
}

function reportRecord(f: ReportFigures): {
  type: string;
  level: SystemLogLevel;
  record: Record<string, unknown>;
} {
  const metrics: Record<string, number> = {
    durationMs: round2(f.durationMs),
    billedDurationMs: billedMs(f.durationMs),
    memorySizeMB: f.memorySizeMiB,
    maxMemoryUsedMB: f.maxMemoryUsedMiB,
  };
  if (f.initDurationMs !== undefined) metrics['initDurationMs'] = round2(f.initDurationMs);
  const record: Record<string, unknown> = {
    requestId: f.requestId,
    metrics,
    status: f.status ?? 'success',
  };
  if (f.status === 'error') record['errorType'] = f.errorType ?? 'Runtime.Unknown';
  if (f.status === 'timeout') record['errorType'] = 'Sandbox.Timedout';
  return { type: 'platform.report', level: f.status === undefined ? 'INFO' : 'WARN', record };
}

function round2(ms: number): number {
  return Math.round(ms * 100) / 100;
}
