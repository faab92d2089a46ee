// Warm-invoke measurements: sequential latency from one client, and throughput of several
// concurrent clients over a fixed number of invokes.
import { performance } from 'node:perf_hooks';

/**
 * Runs `warmup` unmeasured calls of `invokeOnce()` then `count` measured ones, one at a time.
 * `invokeOnce` resolves with { ms, extra? }; returns the latencies and the extras.
 * `onMeasuredStart()` runs between the two (to take a snapshot, e.g. of CPU time).
 */
export async function measureSequential(invokeOnce, count, warmup, onMeasuredStart) {
  for (let i = 0; i < warmup; i += 1) await invokeOnce();
  onMeasuredStart?.();
  const latencies = [];
  const extras = [];
  for (let i = 0; i < count; i += 1) {
    const { ms, extra } = await invokeOnce();
    latencies.push(ms);
    if (extra !== undefined) extras.push(extra);
  }
  return { latencies, extras };
}

/**
 * `clients` concurrent loops share `total` invokes (each client calls its own `invoke()`), after
 * `warmupRounds` rounds in which every client invokes once at the same time, so that one warm
 * environment per client exists before the clock starts.
 */
export async function measureThroughput(clients, total, warmupRounds) {
  for (let round = 0; round < warmupRounds; round += 1) {
    await Promise.all(clients.map((client) => client.invoke()));
  }
  let remaining = total;
  const latencies = [];
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (remaining > 0) {
        remaining -= 1;
        latencies.push((await client.invoke()).ms);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { seconds, latencies, invokesPerSecond: total / seconds };
}
