/**
 * One target's report when its run needed several servers (each death is a finding; the run goes
 * on with a fresh server): the counts and findings added up, the first death's evidence, and each
 * server's own figures (requests, memory, checks after its load) in short.
 */
import type { TargetReport } from './target-report.js';

interface Grouped {
  readonly count: number;
  readonly samples: readonly unknown[];
}

const SAMPLES_PER_KEY = 3;

export function combineParts(parts: readonly TargetReport[], diedMarker: string): TargetReport {
  const died = parts.filter((p) => p['stopped_early'] === diedMarker);
  const first = died[0];
  return {
    seed: parts[0]?.['seed'],
    requests_sent: sum(parts, (p) => Number(p['requests_sent'])),
    server_deaths: died.length,
    stopped_early: parts[parts.length - 1]?.['stopped_early'] ?? false,
    duration_seconds: Math.round(sum(parts, (p) => Number(p['duration_seconds'])) * 10) / 10,
    status_counts: addCounts(parts.map((p) => p['status_counts'] as Record<string, number>)),
    findings: group(parts, 'findings', 'finding'),
    notes: group(parts, 'notes', 'note'),
    ...(first === undefined
      ? {}
      : {
          first_death: {
            first_request_index: first['first_request_index'] ?? 0,
            requests_sent: first['requests_sent'],
            server_output_tail: first['server_output_tail'],
            requests_around_the_server_death: first['requests_around_the_server_death'],
          },
        }),
    // Each death's cause, as the server printed it (its error line and the first stack frame).
    deaths: died.map((p) => ({
      first_request_index: p['first_request_index'] ?? 0,
      requests_sent: p['requests_sent'],
      cause: causeOf(p['server_output_tail']),
    })),
    servers: parts.map((p) => ({
      server_pid: p['server_pid'],
      first_request_index: p['first_request_index'] ?? 0,
      requests_sent: p['requests_sent'],
      stopped_early: p['stopped_early'],
      duration_seconds: p['duration_seconds'],
      memory: p['memory'],
      after_load: p['after_load'],
    })),
    finding_count: sum(parts, (p) => p.finding_count),
  };
}

function sum(parts: readonly TargetReport[], pick: (p: TargetReport) => number): number {
  return parts.reduce((total, p) => total + (Number.isFinite(pick(p)) ? pick(p) : 0), 0);
}

function addCounts(all: readonly (Record<string, number> | undefined)[]): Record<string, number> {
  const total = new Map<string, number>();
  for (const counts of all)
    for (const [key, n] of Object.entries(counts ?? {})) total.set(key, (total.get(key) ?? 0) + n);
  return Object.fromEntries([...total].sort(([a], [b]) => a.localeCompare(b)));
}

/** Findings (or notes) of every part merged by their text. */
function group(
  parts: readonly TargetReport[],
  field: 'findings' | 'notes',
  key: 'finding' | 'note',
): Record<string, unknown>[] {
  const merged = new Map<string, Grouped>();
  for (const part of parts) {
    for (const entry of (part[field] ?? []) as (Record<string, unknown> & Grouped)[]) {
      const name = String(entry[key]);
      const before = merged.get(name) ?? { count: 0, samples: [] };
      merged.set(name, {
        count: before.count + entry.count,
        samples: [...before.samples, ...entry.samples].slice(0, SAMPLES_PER_KEY),
      });
    }
  }
  return [...merged].map(([name, { count, samples }]) => ({ [key]: name, count, samples }));
}

function causeOf(tail: unknown): string {
  const lines = Array.isArray(tail) ? tail.map(String) : [];
  const at = lines.findIndex((line) => /^\w*Error\b|Error:/.test(line));
  return at < 0 ? lines.slice(-3).join(' | ') : lines.slice(at, at + 2).join(' | ');
}
