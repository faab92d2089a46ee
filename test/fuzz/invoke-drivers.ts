/**
 * Keeps invocations running while the Runtime API is fuzzed: a few loops per function, each
 * invoking it (signed, RequestResponse) again as soon as the previous call returns. Their answers
 * are judged like any other: a normal invoke must never get a 5xx or no answer, whatever the
 * fuzzer does to the environments behind it (function errors come back as 200).
 */
import { CREDENTIALS, type FuzzServer } from './fuzz-server.js';
import type { FuzzTally } from './fuzz-tally.js';
import { sampleOf } from './fuzz-tally.js';
import { answerText, HttpSender } from './http-sender.js';

/** Longer than any function's timeout plus a cold start. */
const INVOKE_HANG_MS = 60_000;

export class InvokeDrivers {
  readonly counts = new Map<string, number>();
  readonly #sender: HttpSender;
  readonly #loops: Promise<void>[] = [];
  #stopped = false;
  #calls = 0;

  constructor(
    server: FuzzServer,
    readonly tally: FuzzTally,
  ) {
    this.#sender = new HttpSender(server.endpoint, { connections: 16, timeoutMs: INVOKE_HANG_MS });
  }

  /** Starts `loops` invoke loops for the function, sending `payload`. */
  start(name: string, loops: number, payload: unknown): void {
    for (let i = 0; i < loops; i += 1) this.#loops.push(this.#loop(name, payload));
  }

  /** One invoke, judged; resolves with its status. */
  async invoke(name: string, payload: unknown): Promise<number | string> {
    const answer = await this.#sender.send(
      {
        method: 'POST',
        path: `/2015-03-31/functions/${name}/invocations`,
        query: [],
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify(payload)),
      },
      { credentials: CREDENTIALS },
    );
    const key = `${name} ${String(answer.status)}${answer.headers['x-amz-function-error'] === undefined ? '' : ' (function error)'}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const sample = () => ({
      request: sampleOf(this.#calls, `Invoke ${name}`, answer.wire),
      status: answer.status,
      errorType: answer.errorType,
      answer: answerText(answer),
    });
    this.#calls += 1;
    if (answer.status === 'hang')
      this.tally.finding(
        'hang',
        `a normal Invoke of ${name} got no answer within ${INVOKE_HANG_MS / 1000} s`,
        sample(),
      );
    else if (typeof answer.status === 'number' && answer.status >= 500)
      this.tally.finding(
        '5xx',
        `${answer.status} ${answer.errorType ?? ''} on a normal Invoke of ${name}`,
        sample(),
      );
    return answer.status;
  }

  async #loop(name: string, payload: unknown): Promise<void> {
    while (!this.#stopped) await this.invoke(name, payload);
  }

  /** Lets the running calls finish and stops. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    await this.#sender.close();
  }
}
