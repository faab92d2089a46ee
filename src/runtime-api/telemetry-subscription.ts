/**
 * Reads and validates a Telemetry API (`PUT /2022-07-01/telemetry`) or Logs API
 * (`PUT /2020-08-15/logs`) subscription: schema version, types, buffering ranges (maxItems
 * 1,000–10,000, default 10,000; maxBytes 262,144–1,048,576, default 262,144; timeoutMs 25–30,000,
 * default 1,000) and destination (HTTP to `sandbox.localdomain`, or a TCP port in the sandbox).
 */
import type {
  TelemetryCategory,
  TelemetryDestination,
  TelemetrySubscription,
} from '../core/extension-protocol.js';

const SCHEMA_VERSIONS: Record<'telemetry' | 'logs', readonly string[]> = {
  telemetry: ['2022-07-01', '2022-12-13', '2025-01-29'],
  logs: ['2020-08-15', '2021-03-18'],
};
const CATEGORIES: readonly string[] = ['platform', 'function', 'extension'];
const RANGES = {
  maxItems: { min: 1000, max: 10_000, fallback: 10_000 },
  maxBytes: { min: 262_144, max: 1_048_576, fallback: 262_144 },
  timeoutMs: { min: 25, max: 30_000, fallback: 1000 },
} as const;
/** The Runtime API's own port inside the sandbox. */
const RESERVED_PORTS = new Set([9001]);

export function parseSubscription(
  api: 'telemetry' | 'logs',
  body: Buffer,
): { readonly subscription: TelemetrySubscription } | { readonly invalid: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { invalid: `Invalid JSON: ${(error as Error).message}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { invalid: 'The subscription request must be a JSON object' };
  const request = parsed as Record<string, unknown>;

  const versions = SCHEMA_VERSIONS[api];
  const schemaVersion = request['schemaVersion'] ?? (api === 'logs' ? versions[0] : undefined);
  if (typeof schemaVersion !== 'string' || !versions.includes(schemaVersion))
    return { invalid: `schemaVersion must be one of ${versions.join(', ')}` };

  const types = request['types'];
  if (
    !Array.isArray(types) ||
    types.length === 0 ||
    !types.every((t): t is TelemetryCategory => typeof t === 'string' && CATEGORIES.includes(t))
  )
    return { invalid: `types must be a non-empty array of ${CATEGORIES.join(', ')}` };

  const buffering = request['buffering'] ?? {};
  if (typeof buffering !== 'object' || buffering === null || Array.isArray(buffering))
    return { invalid: 'buffering must be an object' };
  const limits: Record<string, number> = {};
  for (const [field, range] of Object.entries(RANGES)) {
    const value = (buffering as Record<string, unknown>)[field];
    if (value === undefined) {
      limits[field] = range.fallback;
      continue;
    }
    if (
      typeof value !== 'number' ||
      !Number.isInteger(value) ||
      value < range.min ||
      value > range.max
    )
      return { invalid: `buffering.${field} must be an integer from ${range.min} to ${range.max}` };
    limits[field] = value;
  }

  const destination = parseDestination(request['destination']);
  if (typeof destination === 'string') return { invalid: destination };

  return {
    subscription: {
      api,
      schemaVersion,
      categories: [...new Set(types)],
      maxItems: limits['maxItems'] ?? RANGES.maxItems.fallback,
      maxBytes: limits['maxBytes'] ?? RANGES.maxBytes.fallback,
      timeoutMs: limits['timeoutMs'] ?? RANGES.timeoutMs.fallback,
      destination,
    },
  };
}

function parseDestination(value: unknown): TelemetryDestination | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'destination is required';
  const { protocol, URI, port } = value as Record<string, unknown>;
  if (protocol === 'TCP') {
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
      return 'destination.port must be an integer from 1 to 65535';
    if (RESERVED_PORTS.has(port)) return `destination.port ${port} is reserved`;
    return { protocol: 'TCP', port };
  }
  if (protocol !== 'HTTP') return 'destination.protocol must be HTTP or TCP';
  if (typeof URI !== 'string' || URI === '') return 'destination.URI is required';
  let url: URL;
  try {
    url = new URL(URI);
  } catch {
    return `Invalid destination: could not parse destination.URI ${URI}`;
  }
  if (url.protocol !== 'http:') return 'Invalid destination: destination.URI must use http';
  if (url.hostname !== 'sandbox.localdomain' && url.hostname !== 'sandbox')
    return 'Invalid destination: destination.URI host must be sandbox.localdomain';
  const destinationPort = url.port === '' ? 80 : Number(url.port);
  if (RESERVED_PORTS.has(destinationPort)) return `destination port ${destinationPort} is reserved`;
  return { protocol: 'HTTP', port: destinationPort, path: `${url.pathname}${url.search}` };
}
