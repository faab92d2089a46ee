// Summary statistics of latency samples (milliseconds), percentiles by the nearest-rank method.

/** The value at percentile `p` (0–100) of ascending `sorted`, by nearest rank. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** Rounds to 3 decimals (microseconds when the unit is ms). */
export function round(value) {
  return value === null || value === undefined ? null : Math.round(value * 1000) / 1000;
}

/** n, min, p50, p90, p99, max and mean of `samples`, rounded. */
export function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? null : sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return {
    n: sorted.length,
    min_ms: round(sorted[0] ?? null),
    p50_ms: round(percentile(sorted, 50)),
    p90_ms: round(percentile(sorted, 90)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted.at(-1) ?? null),
    mean_ms: round(mean),
  };
}
