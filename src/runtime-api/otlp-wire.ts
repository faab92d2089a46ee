/**
 * The parts of OTLP/HTTP (https://opentelemetry.io/docs/specs/otlp/#otlphttp) the in-environment
 * endpoint reads and answers, as pure functions: which signal a path is, which of the two
 * encodings a body has, and the `Export…ServiceResponse` it answers with. The relay never decodes
 * a body; the collector does.
 */

/** The three signals, each posted to `/v1/<signal>`. */
export type OtlpSignal = 'traces' | 'metrics' | 'logs';

/** `application/x-protobuf` or `application/json` (OTLP/JSON). */
export type OtlpFormat = 'protobuf' | 'json';

export const OTLP_MEDIA_TYPES: Readonly<Record<OtlpFormat, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

const SIGNAL_PATHS: ReadonlyMap<string, OtlpSignal> = new Map([
  ['/v1/traces', 'traces'],
  ['/v1/metrics', 'metrics'],
  ['/v1/logs', 'logs'],
]);

/** The signal of a request target: exactly `/v1/traces`, `/v1/metrics` or `/v1/logs`. */
export function signalOfPath(target: string | undefined): OtlpSignal | undefined {
  return target === undefined ? undefined : SIGNAL_PATHS.get(target);
}

/** The body's encoding from its Content-Type (parameters such as `charset` allowed). */
export function formatOf(contentType: string | undefined): OtlpFormat | undefined {
  const media = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase();
  if (media === OTLP_MEDIA_TYPES.protobuf) return 'protobuf';
  if (media === OTLP_MEDIA_TYPES.json) return 'json';
  return undefined;
}

/**
 * Whether the body is gzipped, from its Content-Encoding: OTLP servers must take `gzip` and no
 * compression; anything else (several encodings, `br`) is not taken (undefined).
 */
export function gzippedOf(contentEncoding: string | undefined): boolean | undefined {
  const value = (contentEncoding ?? '').trim().toLowerCase();
  if (value === '' || value === 'identity') return false;
  if (value === 'gzip') return true;
  return undefined;
}

/**
 * The success answer, in the request's encoding: an empty `Export…ServiceResponse`, or one whose
 * `partial_success` carries only `error_message` (no count of rejected items: the relay does not
 * decode bodies), which OTLP clients log as a warning and do not retry.
 */
export function exportResponse(
  format: OtlpFormat,
  warning?: string,
): { readonly contentType: string; readonly body: Buffer } {
  const contentType = OTLP_MEDIA_TYPES[format];
  if (format === 'json') {
    const answer = warning === undefined ? {} : { partialSuccess: { errorMessage: warning } };
    return { contentType, body: Buffer.from(JSON.stringify(answer)) };
  }
  if (warning === undefined) return { contentType, body: Buffer.alloc(0) };
  // partial_success is field 1 of each signal's response, error_message field 2 of it.
  const message = lengthDelimited(2, Buffer.from(warning, 'utf8'));
  return { contentType, body: lengthDelimited(1, message) };
}

/** A protobuf field of wire type 2 (length-delimited). */
function lengthDelimited(field: number, value: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(value.length), value]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
