/** The fuzzer's command line: which API, how many requests, which seed, how long at most. */

export type FuzzTarget = 'lambda-api' | 'runtime-api';

export interface FuzzOptions {
  readonly targets: readonly FuzzTarget[];
  /** Requests per target. */
  readonly requests: number;
  readonly seed: number;
  /** Wall-clock budget of the whole run for sending requests, in seconds. */
  readonly timeLimitSeconds: number;
  /** Requests in flight at once, per target. */
  readonly concurrency: number;
}

/** Fixed so that two runs without `--seed` send the same requests. */
export const DEFAULT_SEED = 20_261_101;
export const DEFAULT_REQUESTS = 100_000;
export const DEFAULT_TIME_LIMIT_SECONDS = 1800;
export const DEFAULT_CONCURRENCY = 16;

export const USAGE =
  'usage: npm run fuzz -- [--target lambda-api|runtime-api|all] [--requests N] [--seed S]\n' +
  '                       [--time-limit SECONDS] [--concurrency N]';

export function parseFuzzOptions(argv: readonly string[]): FuzzOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    const [flag, inline] = arg.startsWith('--') ? arg.split('=', 2) : [arg, undefined];
    const known = ['--target', '--requests', '--seed', '--time-limit', '--concurrency'];
    if (flag === undefined || !known.includes(flag)) throw new Error(`unknown argument: ${arg}`);
    const value = inline ?? argv[(i += 1)];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    values.set(flag, value);
  }
  const target = values.get('--target') ?? 'all';
  if (!['lambda-api', 'runtime-api', 'all'].includes(target))
    throw new Error(`--target must be lambda-api, runtime-api or all, not ${target}`);
  return {
    targets: target === 'all' ? ['lambda-api', 'runtime-api'] : [target as FuzzTarget],
    requests: whole(values.get('--requests'), DEFAULT_REQUESTS, '--requests', 1),
    seed: whole(values.get('--seed'), DEFAULT_SEED, '--seed', 0),
    timeLimitSeconds: whole(
      values.get('--time-limit'),
      DEFAULT_TIME_LIMIT_SECONDS,
      '--time-limit',
      1,
    ),
    concurrency: whole(values.get('--concurrency'), DEFAULT_CONCURRENCY, '--concurrency', 1),
  };
}

function whole(text: string | undefined, fallback: number, flag: string, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text.replace(/_/g, ''));
  if (!Number.isSafeInteger(value) || value < min)
    throw new Error(`${flag} must be a whole number of at least ${min}, not ${text}`);
  return value;
}
