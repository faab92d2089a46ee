/** Lambda's platform log lines (INIT_START, START, END, REPORT, timeouts), formatted exactly. */

export function initStartLine(runtimeVersion: string, runtimeVersionArn: string): string {
  return `INIT_START Runtime Version: ${runtimeVersion}\tRuntime Version ARN: ${runtimeVersionArn}`;
}

export function startLine(requestId: string, version: string): string {
  return `START RequestId: ${requestId} Version: ${version}`;
}

export function endLine(requestId: string): string {
  return `END RequestId: ${requestId}`;
}

/** Measurements of one invocation for its REPORT line. */
export interface ReportFigures {
  readonly requestId: string;
  readonly durationMs: number;
  readonly memorySizeMiB: number;
  readonly maxMemoryUsedMiB: number;
  /** Only on the invocation that ran init (a cold start). */
  readonly initDurationMs?: number | undefined;
  /** `timeout`, or `error` with an error type, when the invocation did not finish normally. */
  readonly status?: 'timeout' | 'error' | undefined;
  readonly errorType?: string | undefined;
}

/** Billed duration: the duration rounded up to the next millisecond. */
export function billedMs(durationMs: number): number {
  return Math.max(1, Math.ceil(durationMs));
}

export function reportLine(f: ReportFigures): string {
  let line =
    `REPORT RequestId: ${f.requestId}\tDuration: ${f.durationMs.toFixed(2)} ms\t` +
    `Billed Duration: ${billedMs(f.durationMs)} ms\tMemory Size: ${f.memorySizeMiB} MB\t` +
    `Max Memory Used: ${f.maxMemoryUsedMiB} MB\t`;
  if (f.initDurationMs !== undefined) line += `Init Duration: ${f.initDurationMs.toFixed(2)} ms\t`;
  if (f.status === 'timeout') line += 'Status: timeout';
  else if (f.status === 'error')
    line += `Status: error\tError Type: ${f.errorType ?? 'Runtime.Unknown'}`;
  return line;
}

/** The line logged when the platform stops an invocation at its timeout. */
export function timeoutLine(isoTime: string, requestId: string, timeoutSeconds: number): string {
  return `${isoTime} ${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;
}

/** `2026/11/21/[$LATEST]<32 hex>`: the log stream of one environment. */
export function logStreamName(epochMs: number, version: string, hex32: string): string {
  const d = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/[${version}]${hex32}`;
}
