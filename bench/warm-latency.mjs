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

/**
 * Brings a freshly started server (and the environments and this client) to steady state before
 * warm figures are taken: V8 optimises the invoke path over the first several thousand calls, and
 * a new server spends two to four times more CPU per invoke until then. Runs rounds of
 * `roundInvokes` with all `clients` until two successive rounds' throughput differ by less than
 * `tolerance` (after at least `minRounds`), or `maxRounds`; returns each round's invokes/s.
 */
export async function warmUpUntilSteady(
  clients,
  { roundInvokes, minRounds, maxRounds, tolerance = 0.05 },
) {
  const rounds = [];
  for (let round = 0; round < maxRounds; round += 1) {
    const { invokesPerSecond } = await measureThroughput(clients, roundInvokes, 0);
    rounds.push(Math.round(invokesPerSecond));
    const [previous, last] = rounds.slice(-2);
    if (rounds.length >= minRounds && Math.abs(last - previous) / previous < tolerance) break;
  }
  return { round_invokes: roundInvokes, invokes_per_second_per_round: rounds };
}

/**
 * Sequential latencies of two targets measured in alternating blocks (A, B, A, B, …), so that both
 * see the same drift in the machine's speed. `a` and `b` are { invokeOnce, before?, after? }
 * (`before`/`after` run around each of its measured blocks, e.g. to add up CPU time); each target
 * gets `warmup` unmeasured calls first. Returns { a: latencies, b: latencies }.
 */
export async function measureInterleaved(a, b, { blocks, perBlock, warmup }) {
  const latencies = { a: [], b: [] };
  for (const target of [a, b]) for (let i = 0; i < warmup; i += 1) await target.invokeOnce();
  for (let block = 0; block < blocks; block += 1) {
    for (const [key, target] of [
      ['a', a],
      ['b', b],
    ]) {
      target.before?.();
      for (let i = 0; i < perBlock; i += 1) latencies[key].push((await target.invokeOnce()).ms);
      target.after?.();
    }
  }
  return latencies;
}
