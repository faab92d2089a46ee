/**
 * Everything an execution environment reports, in one place: its log stream (the lines its
 * runtime and extensions print, and the platform's own: INIT_START, START, END, REPORT, the
 * timeout line, the extension lines), the log tail of an invocation (`X-Amz-Log-Result`), and the
 * platform events of the Telemetry API (`platform.initStart` … `platform.report`). The
 * environment says what happened; this says it, in the function's log format and to whoever
 * subscribed.
 */
import type { Clock } from '../core/clock.js';
import type { TelemetryCategory } from '../core/extension-protocol.js';
import { parseJsonWithin } from '../core/json-depth.js';
import { LogTail } from './log-tail.js';
import type { ReportFigures } from './platform-log.js';
import {
  platformLine,
  TEXT_SYSTEM_LOG,
  type PlatformEvent,
  type SystemLogSettings,
} from './platform-records.js';
import type { LogLine, LogSink } from './ports.js';
import type { TelemetryHub } from './telemetry-hub.js';
import {
  extensionLine,
  initReportRecord,
  initRuntimeDoneRecord,
  initStartRecord,
  reportRecord,
  runtimeDoneRecord,
  startRecord,
  type InitializationType,
  type TelemetryStatus,
} from './telemetry-records.js';

/** Where an environment's lines go and how its platform lines are written. */
export interface ReporterSettings {
  readonly logGroup: string;
  readonly logStream: string;
  /** Platform lines as text, or JSON records filtered by level (LoggingConfig). */
  readonly systemLog?: SystemLogSettings | undefined;
}

/** What an environment's init start is reported with. */
export interface InitStart {
  readonly runtimeVersion: string;
  readonly runtimeVersionArn: string;
  readonly initializationType: InitializationType;
  readonly functionName: string;
  readonly functionVersion: string;
}

/** How an invocation ended, as END, REPORT and their telemetry events say it. */
export interface InvocationEnd {
  readonly figures: ReportFigures;
  readonly failure: 'timeout' | 'error' | undefined;
  readonly telemetryStatus: TelemetryStatus;
  readonly traceId: string;
}

export class EnvironmentReporter {
  readonly #settings: ReporterSettings;
  readonly #logs: LogSink;
  readonly #clock: Clock;
  readonly #telemetry: TelemetryHub;
  #tail: LogTail | undefined;

  constructor(settings: ReporterSettings, logs: LogSink, clock: Clock, telemetry: TelemetryHub) {
    this.#settings = settings;
    this.#logs = logs;
    this.#clock = clock;
    this.#telemetry = telemetry;
  }

  /** A line the runtime's processes printed. */
  output(message: string): void {
    this.#log(message);
    this.#emit('function', 'function', () => this.#record(message));
  }

  /** A line an external extension printed. */
  extensionOutput(message: string): void {
    this.#log(message);
    this.#emit('extension', 'extension', () => this.#record(message));
  }

  /** INIT_START and `platform.initStart`. */
  initStart(start: InitStart): void {
    this.#platform({ kind: 'initStart', ...start });
    this.#telemetry.emit('platform', 'platform.initStart', initStartRecord(start));
  }

  /**
   * Init is over: `platform.initRuntimeDone`, one line and one event per extension, and
   * `platform.initReport`; the events buffered for subscribers during init go out.
   */
  initDone(
    initializationType: InitializationType,
    durationMs: number,
    error: { readonly errorType: string } | undefined,
    extensions: readonly Parameters<typeof extensionLine>[0][],
  ): void {
    const telemetry = this.#telemetry;
    const errorType = error?.errorType;
    const status: TelemetryStatus =
      error === undefined ? 'success' : errorType === 'Sandbox.Timedout' ? 'timeout' : 'error';
    telemetry.emit(
      'platform',
      'platform.initRuntimeDone',
      initRuntimeDoneRecord(initializationType, status, errorType),
    );
    for (const extension of extensions) {
      this.#log(
        this.#settings.systemLog?.json === true
          ? JSON.stringify({
              time: new Date(this.#clock.now()).toISOString(),
              type: 'platform.extension',
              record: extension,
            })
          : extensionLine(extension),
      );
      telemetry.emit('platform', 'platform.extension', extension);
    }
    telemetry.emit(
      'platform',
      'platform.initReport',
      initReportRecord(initializationType, durationMs, status, errorType),
    );
    telemetry.endInit();
  }

  /** START and `platform.start`; with `withTail`, the invocation's lines are kept from here. */
  start(requestId: string, version: string, traceId: string, withTail: boolean): void {
    this.#tail = withTail ? new LogTail() : undefined;
    this.#platform({ kind: 'start', requestId, version });
    this.#emit('platform', 'platform.start', () => startRecord(requestId, version, traceId));
  }

  /** `platform.runtimeDone`: the runtime has answered (or failed, or ran out of time). */
  runtimeDone(input: Parameters<typeof runtimeDoneRecord>[0]): void {
    this.#emit('platform', 'platform.runtimeDone', () => runtimeDoneRecord(input));
  }

  /** The line that says the platform stopped the invocation at its timeout. */
  timedOut(requestId: string, timeoutSeconds: number): void {
    this.#platform({ kind: 'timeout', requestId, timeoutSeconds });
  }

  /** END, REPORT and their events; answers the invocation's log tail, when one was kept. */
  end(end: InvocationEnd): string | undefined {
    const { figures } = end;
    const { requestId } = figures;
    this.#platform({ kind: 'end', requestId, status: end.failure ?? 'success' });
    this.#emit('platform', 'platform.end', () => ({ requestId }));
    this.#platform({ kind: 'report', figures });
    this.#emit('platform', 'platform.report', () =>
      reportRecord(figures, end.telemetryStatus, end.traceId),
    );
    const tail = this.#tail?.text();
    this.#tail = undefined;
    return tail === undefined ? undefined : `${tail}\n`;
  }

  /** The environment is gone: subscribers get what is buffered and no more; its stream may release its file. */
  close(): void {
    this.#telemetry.close();
    // END and REPORT are written; the stream can release its file (a late line reopens it).
    queueMicrotask(() => this.#logs.end(this.#settings.logGroup, this.#settings.logStream));
  }

  #platform(event: PlatformEvent): void {
    const settings = this.#settings.systemLog ?? TEXT_SYSTEM_LOG;
    const line = platformLine(event, settings, this.#clock.now());
    if (line !== undefined) this.#log(line);
  }

  /** A log line as a telemetry record: the object itself when the function logs JSON. */
  #record(message: string): unknown {
    if (this.#settings.systemLog?.json !== true || !message.startsWith('{')) return message;
    const parsed = parseJsonWithin(message);
    return parsed === undefined ? message : parsed.value;
  }

  /** Emits a telemetry event, building its record only when someone will receive it. */
  #emit(category: TelemetryCategory, type: string, record: () => unknown): void {
    if (this.#telemetry.listening) this.#telemetry.emit(category, type, record());
  }

  #log(message: string): void {
    const line: LogLine = { timeMs: this.#clock.now(), message };
    this.#logs.append(this.#settings.logGroup, this.#settings.logStream, [line]);
    this.#tail?.push(message);
  }
}
