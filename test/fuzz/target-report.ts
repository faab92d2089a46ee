/**
 * Runs one target's load with the server's memory watched, then checks the server once the load
 * stops (still alive, answers a signed ListFunctions, runs a normal function) and writes the
 * target's part of the report. Memory: resident size after the warm-up requests, the peak, and
 * the size once the load has stopped and garbage collection had up to a minute; more than
 * `MEMORY_GROWTH_LIMIT_MIB` above the start is a finding.
 */
import type { FuzzServer } from './fuzz-server.js';
import { controlRequest, RssWatch } from './fuzz-server.js';
import type { FuzzTally, RequestSample } from './fuzz-tally.js';
import type { InFlight, LoadResult } from './run-load.js';
import { settledRss } from './run-load.js';

export const MEMORY_GROWTH_LIMIT_MIB = 50;
/** `stopped_early` of a run whose server died. */
export const SERVER_DIED = 'the server process died';
const SETTLE_DEADLINE_MS = 60_000;

export interface TargetRun {
  readonly seed: number;
  readonly requests: number;
  /** The first request's number: later than 0 when the run goes on after the server died. */
  readonly firstIndex: number;
  readonly concurrency: number;
  /** Epoch milliseconds after which no new request is started. */
  readonly deadline: number;
  /** Told every 10 s how many requests have been sent. */
  readonly progress?: (sent: number) => void;
}

export type TargetReport = Record<string, unknown> & { readonly finding_count: number };

/** What a load is given: its size, and a call to make as each request starts. */
export interface LoadControl {
  readonly first: number;
  readonly total: number;
  readonly concurrency: number;
  readonly deadline: number;
  readonly progress?: (sent: number) => void;
  /** Why the load should stop now, if it should. */
  abandon(): string | undefined;
  onRequest(index: number): void;
}

/** One check of a normal function after the load. */
export interface InvokeCheck {
  readonly function: string;
  readonly status: number | string;
  readonly ok: boolean;
  readonly detail?: string;
}

const round = (n: number) => Math.round(n * 10) / 10;

export async function afterLoad(
  run: TargetRun,
  server: FuzzServer,
  tally: FuzzTally,
  load: (control: LoadControl) => Promise<LoadResult>,
  invokeChecks: () => Promise<readonly InvokeCheck[]>,
): Promise<TargetReport> {
  // The first requests warm the server up (JIT, caches, pools); memory is measured from there.
  const warmUp = run.firstIndex + Math.min(2000, Math.floor((run.requests - run.firstIndex) / 10));
  let startMiB = server.rssMiB();
  const watch = new RssWatch(() => server.rssMiB());
  const cpuAtStart = server.cpuSeconds();
  const result = await load({
    first: run.firstIndex,
    total: run.requests,
    concurrency: run.concurrency,
    deadline: run.deadline,
    ...(run.progress === undefined ? {} : { progress: run.progress }),
    // Requests to a dead server prove nothing more: the run stops and the report says why.
    abandon: () => (server.alive() ? undefined : SERVER_DIED),
    onRequest: (index) => {
      if (index === warmUp) startMiB = server.rssMiB();
    },
  });
  watch.stop();
  tally.sent = result.sent;
  const serverCpuSeconds = server.cpuSeconds() - cpuAtStart;
  const { endMiB, waitedMs } = await settledRss(
    () => server.rssMiB(),
    startMiB,
    MEMORY_GROWTH_LIMIT_MIB,
    SETTLE_DEADLINE_MS,
  );
  const growth = endMiB - startMiB;
  const alive = server.alive();
  if (alive && !(growth <= MEMORY_GROWTH_LIMIT_MIB))
    tally.finding('memory', `resident memory ${round(growth)} MiB above its start after the load`, {
      status: `${round(startMiB)} → ${round(endMiB)} MiB`,
    });

  if (!alive)
    tally.finding('crash', 'the server process died', {
      status: String(server.process.child.exitCode ?? server.process.child.signalCode),
    });
  const list = alive ? await controlRequest(server, 'GET', '/2015-03-31/functions') : undefined;
  if (alive && list?.status !== 200)
    tally.finding('after-load', 'a signed ListFunctions failed', {
      status: list?.status ?? 'dead',
      answer: list?.body.toString().slice(0, 300),
    });
  const invokes = alive ? await invokeChecks() : [];
  for (const check of invokes.filter((c) => !c.ok))
    tally.finding('after-load', `invoking ${check.function} failed`, {
      status: check.status,
      answer: check.detail,
    });

  // A server that no longer stops on SIGTERM is holding requests it will never finish.
  const shutdown = await server.stop();
  if (shutdown.killed)
    tally.finding('after-load', `the server did not exit within 20 s of SIGTERM`, {
      status: String(shutdown.exit),
    });

  const seconds = result.durationMs / 1000;
  return {
    seed: run.seed,
    requests_planned: run.requests - run.firstIndex,
    ...(run.firstIndex > 0 ? { first_request_index: run.firstIndex } : {}),
    server_pid: server.pid,
    concurrency: run.concurrency,
    stopped_early: result.stoppedEarly ?? false,
    duration_seconds: round(seconds),
    requests_per_second: Math.round(result.sent / Math.max(seconds, 0.001)),
    server_cpu_seconds: round(serverCpuSeconds),
    ...tally.toJson(),
    memory: {
      rss_start_mib: round(startMiB),
      rss_start_after_requests: warmUp,
      rss_peak_mib: round(Math.max(watch.peakMiB, startMiB)),
      rss_end_mib: round(endMiB),
      rss_growth_mib: round(growth),
      rss_settle_wait_seconds: round(waitedMs / 1000),
      growth_limit_mib: MEMORY_GROWTH_LIMIT_MIB,
    },
    after_load: {
      process_alive: alive,
      signed_list_functions_status: list?.status ?? 'not sent',
      invokes,
      shutdown_after_sigterm: shutdown,
    },
    server_error_log_tail: server.errorLines().slice(-10),
    ...(alive ? {} : { server_output_tail: server.outputTail() }),
    finding_count: tally.findingCount,
  };
}

/** Invokes a function the normal way (signed, RequestResponse) and checks it echoed the event. */
export async function invokeEcho(server: FuzzServer, name: string): Promise<InvokeCheck> {
  const marker = `check-${Date.now()}`;
  const answer = await controlRequest(server, 'POST', `/2015-03-31/functions/${name}/invocations`, {
    marker,
  });
  const text = answer.body.toString();
  const ok =
    answer.status === 200 &&
    answer.headers['x-amz-function-error'] === undefined &&
    text.includes(marker);
  return {
    function: name,
    status: answer.status,
    ok,
    ...(ok ? {} : { detail: text.slice(0, 300) }),
  };
}

/** The requests in flight or just sent when the server died, as samples (none if it lived). */
export function deathSuspects<T>(
  inFlight: InFlight<T>,
  sample: (item: T, index: number) => RequestSample,
): { requests_around_the_server_death?: RequestSample[] } {
  const suspects = inFlight.atDeath;
  if (suspects.length === 0) return {};
  return { requests_around_the_server_death: suspects.map(([index, item]) => sample(item, index)) };
}

/**
 * What a failed set-up becomes: the report of a server that died while the harness set it up (a
 * refused connection can come before the exit is seen, so the exit gets up to 2 s), or the error
 * again when the server lives.
 */
export async function setupFailure(
  run: TargetRun,
  server: FuzzServer,
  error: unknown,
): Promise<TargetReport> {
  await new Promise((resolve) => {
    server.onExit(() => resolve(undefined));
    setTimeout(resolve, 2000).unref();
  });
  if (!server.alive()) return diedBeforeLoad(run, server, error);
  throw error;
}

/** The report of a server that died before its load began (while the harness set it up). */
function diedBeforeLoad(run: TargetRun, server: FuzzServer, error: unknown): TargetReport {
  return {
    seed: run.seed,
    requests_planned: run.requests - run.firstIndex,
    ...(run.firstIndex > 0 ? { first_request_index: run.firstIndex } : {}),
    stopped_early: SERVER_DIED,
    requests_sent: 0,
    findings: [
      {
        finding: 'crash: the server died while the harness set it up, before any fuzz request',
        count: 1,
        samples: [{ status: String(error) }],
      },
    ],
    server_output_tail: server.outputTail(),
    finding_count: 1,
  };
}
