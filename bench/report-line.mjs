// Reads the platform's REPORT line out of an `X-Amz-Log-Result` log tail.
import { Buffer } from 'node:buffer';

/** Duration, Init Duration (cold starts only) and Max Memory Used from a base64 log tail. */
export function parseReportLine(logResultBase64) {
  if (logResultBase64 === undefined || logResultBase64 === null) return undefined;
  const text = Buffer.from(logResultBase64, 'base64').toString('utf8');
  const line = text.split('\n').find((l) => l.startsWith('REPORT '));
  if (line === undefined) return undefined;
  const number = (label) => {
    const match = new RegExp(`(?:^|\\t)${label}: ([\\d.]+)`).exec(line);
    return match === null ? undefined : Number(match[1]);
  };
  return {
    durationMs: number('Duration'),
    initDurationMs: number('Init Duration'),
    maxMemoryUsedMb: number('Max Memory Used'),
  };
}
