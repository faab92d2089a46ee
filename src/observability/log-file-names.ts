/**
 * Where a log group's and a log stream's events live under the logs folder. Names come from
 * users (`LoggingConfig.LogGroup` may be any of `[.\-_/#A-Za-z0-9]{1,512}`, `..` included, as on
 * AWS), so each becomes one path segment that can never climb out: percent-encoding turns `/`
 * into `%2F`, and the two names a file system reads as navigation, `.` and `..`, have their dots
 * encoded too.
 */

/** The folder (one segment) holding a log group's streams. */
export function logGroupFolder(group: string): string {
  return segment(group);
}

/** The file (one segment) holding a log stream's events. */
export function logStreamFile(stream: string): string {
  return `${segment(stream)}.log`;
}

/** The stream a file name holds, or undefined for a file that is not a log stream. */
export function streamOfFile(file: string): string | undefined {
  if (!file.endsWith('.log')) return undefined;
  try {
    return decodeURIComponent(file.slice(0, -'.log'.length));
  } catch {
    return undefined;
  }
}

function segment(name: string): string {
  const encoded = encodeURIComponent(name);
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded;
}
