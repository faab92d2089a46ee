/**
 * Fuzzes the Runtime API as a hostile function would, from the host: deploys functions that keep
 * invocations open, keeps invoking them, finds their environments' `runtime.sock` in the server's
 * run folder, and sends the cases of runtime-api-cases.ts to whichever sockets are alive, with the
 * real request and extension ids when it has learnt them. Findings: any 5xx (the Runtime API
 * documents 500 only for a broken container, never for bad input), a request unanswered within
 * 30 s that is not a long poll, a 5xx or no answer on the normal invokes running alongside, and
 * the checks after the load (alive, signed ListFunctions, a fresh function runs, memory).
 */
import fc from 'fast-check';
import { lambdaClient } from '../helpers/lambda-client.js';
import { frameBytes } from './channel-cases.js';
import { playChannel } from './channel-session.js';
import {
  deployAll,
  RUNTIME_API_FUNCTIONS,
  RUNTIME_HEALTH_FUNCTION,
  type FunctionSpec,
} from './fuzz-functions.js';
import { startFuzzServer, type FuzzServer } from './fuzz-server.js';
import { FuzzTally, sampleOf, unanswered } from './fuzz-tally.js';
import { answerText, wireBytes, type HttpAnswer } from './http-sender.js';
import { InvokeDrivers } from './invoke-drivers.js';
import { percentEncode } from './mutations.js';
import { malformedHttp } from './raw-requests.js';
import { sendRaw } from './raw-http.js';
import { caseStream, InFlight, runLoad } from './run-load.js';
import {
  EXTENSION_ID,
  REQUEST_ID,
  runtimeCases,
  type IdChoice,
  type RuntimeCase,
  type RuntimeHttpCase,
  type RuntimeRawCase,
} from './runtime-api-cases.js';
import { rememberRequestId, SocketBook, type SocketState } from './socket-book.js';
import {
  afterLoad,
  deathSuspects,
  setupFailure,
  invokeEcho,
  type TargetReport,
  type TargetRun,
} from './target-report.js';
import { registerHarnessExtension } from './harness-extension.js';

const HANG_MS = 30_000;
/** The harness's own guard, should a client deadline fail. */
const STUCK_MS = 90_000;
/** A long poll (`/next`, `/event/next`, the assignment) with nothing to hand out is cut here. */
const LONG_POLL_MS = 150;
/** Bodies over these limits should be refused (413), not taken in whole. */
const LIMITS: readonly [RegExp, number][] = [
  [/^\/2018-06-01\/runtime\//, 6 * 1024 * 1024 + 100],
  [/^\/(2020-01-01\/extension|2022-07-01\/telemetry|2020-08-15\/logs)/, 1024 * 1024],
];

type Outcome = 'sent' | 'gone';

export async function fuzzRuntimeApi(run: TargetRun): Promise<TargetReport> {
  const server = await startFuzzServer();
  const tally = new FuzzTally();
  const drivers = new InvokeDrivers(server, tally);
  const harness = new Map<string, number>();
  let book: SocketBook | undefined;
  try {
    await deploy(server, [...RUNTIME_API_FUNCTIONS, RUNTIME_HEALTH_FUNCTION]);
    let newSockets = 0;
    book = new SocketBook(
      () => server.runtimeSockets(),
      (state) => {
        // Every third new environment gets a live extension (registered while it initialises).
        if (newSockets++ % 3 === 0) void registerHarnessExtension(state, harness);
      },
    );
    for (const spec of RUNTIME_API_FUNCTIONS) await drivers.invoke(spec.name, { ms: 100 });
    book.refresh();
    if (book.size === 0)
      throw new Error(
        `no Runtime API socket found under <tmpdir>/lamina-${server.pid}-*/envs/*/runtime.sock after invoking the functions`,
      );
    for (const spec of RUNTIME_API_FUNCTIONS) drivers.start(spec.name, 2, { ms: 1500 });
    const sockets = book;
    const inFlight = new InFlight<RuntimeCase>((listener) => server.onExit(listener));
    const checks = async () => {
      const fresh = 'rz-after';
      await deploy(server, [{ ...RUNTIME_HEALTH_FUNCTION, name: fresh }]);
      return [
        await invokeEcho(server, RUNTIME_HEALTH_FUNCTION.name),
        await invokeEcho(server, fresh),
        await invokeEcho(server, fresh),
      ];
    };
    const report = await afterLoad(
      run,
      server,
      tally,
      async (load) => {
        const result = await runLoad({
          ...load,
          cases: caseStream(runtimeCases, run.seed, run.firstIndex),
          stuckMs: STUCK_MS,
          timed: (c, ms) => tally.time(c.operation, ms),
          stuck: (c, index) =>
            tally.finding('hang', `${c.operation} still unanswered after ${STUCK_MS / 1000} s`, {
              request: sampleOf(index, c.operation, caseBytes(c)),
              status: 'stuck',
            }),
          handle: (c, index) =>
            inFlight.run(index, c, async () => {
              load.onRequest(index);
              await handle(sockets, tally, c, index);
            }),
        });
        inFlight.stop();
        await drivers.stop();
        return result;
      },
      checks,
    );
    return {
      ...report,
      environments_seen: sockets.seen,
      normal_invokes_during_load: Object.fromEntries([...drivers.counts].sort()),
      harness_extension_requests: Object.fromEntries([...harness].sort()),
      ...deathSuspects(inFlight, (c, index) => sampleOf(index, c.operation, caseBytes(c))),
    };
  } catch (error) {
    // A server that dies while being set up (a restart after a crash, say) is a finding too.
    return await setupFailure(run, server, error);
  } finally {
    await drivers.stop();
    await book?.close();
    await server.stop();
  }
}

async function deploy(server: FuzzServer, specs: readonly FunctionSpec[]): Promise<void> {
  const client = lambdaClient(server.endpoint);
  try {
    await deployAll(client, specs);
  } finally {
    client.destroy();
  }
}

/** Sends a case to a live socket, trying the next ones if the chosen one has just gone. */
async function handle(
  book: SocketBook,
  tally: FuzzTally,
  c: RuntimeCase,
  index: number,
): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const state = book.pick(c.socketPick + attempt);
    if (state === undefined) break;
    const outcome =
      c.kind === 'http'
        ? await sendHttp(tally, state, c, index)
        : c.kind === 'raw'
          ? await sendRawCase(tally, state, c, index)
          : await sendChannel(tally, state, c, index);
    if (outcome === 'sent') return;
    book.forget(state);
  }
  tally.count(c.operation, 'no live socket');
}

function resolveId(choice: IdChoice, live: readonly string[]): string {
  if (!choice.live) return choice.literal;
  return live[live.length - 1] ?? '00000000-0000-0000-0000-000000000000';
}

/** A literal id in a path: characters a request line cannot carry are escaped, the rest kept. */
const inPath = (id: string) => id.replace(/[^\x21-\x7e]/g, (ch) => percentEncode(ch));

async function sendHttp(
  tally: FuzzTally,
  state: SocketState,
  c: RuntimeHttpCase,
  index: number,
): Promise<Outcome> {
  const requestId = resolveId(c.requestId, state.requestIds);
  const extensionId = resolveId(c.extensionId, state.extensionIds);
  const headers = Object.fromEntries(
    Object.entries(c.headers).map(([n, v]) => [n, v.replace(EXTENSION_ID, extensionId)]),
  );
  const path = c.path.replace(
    REQUEST_ID,
    c.requestId.live ? percentEncode(requestId) : inPath(requestId),
  );
  const signal = c.longPoll ? AbortSignal.timeout(LONG_POLL_MS) : undefined;
  const answer = await state.sender.send(
    { method: c.method, path, query: [], headers, body: c.body },
    undefined,
    signal,
  );
  // The environment went away (its socket, or the client the harness had for it).
  if (
    answer.status === 'closed' &&
    /ENOENT|ECONNREFUSED|ClientDestroyed|ClientClosed/.test(answer.detail ?? '')
  )
    return 'gone';
  if (signal?.aborted === true && typeof answer.status !== 'number') {
    tally.count(c.operation, 'long poll (nothing to hand out)');
    return 'sent';
  }
  learn(state, c, answer);
  judge(tally, c.operation, index, answer, c.body.length, path);
  return 'sent';
}

/** Ids handed out in an answer become live ids for later cases. */
function learn(state: SocketState, c: RuntimeHttpCase, answer: HttpAnswer): void {
  if (answer.status !== 200) return;
  const requestId = answer.headers['lambda-runtime-aws-request-id'];
  if (typeof requestId === 'string') rememberRequestId(state, requestId);
  const extensionId = answer.headers['lambda-extension-identifier'];
  if (c.operation.includes('register') && typeof extensionId === 'string')
    state.extensionIds.push(extensionId);
}

function judge(
  tally: FuzzTally,
  operation: string,
  index: number,
  answer: HttpAnswer,
  bodyBytes: number,
  path: string,
): void {
  tally.count(operation, answer.status);
  const sample = () => ({
    request: sampleOf(index, operation, answer.wire),
    status: answer.status,
    errorType: answer.errorType ?? errorTypeOf(answer.body),
    answer: answerText(answer),
  });
  const status = answer.status;
  if (status === 'hang')
    tally.finding('hang', `no answer within ${HANG_MS / 1000} s to ${operation}`, sample());
  else if (status === 'closed' || status === 'client-refused')
    tally.note(unanswered(status), sample());
  else if (status >= 500)
    tally.finding('5xx', `${status} ${errorTypeOf(answer.body) ?? ''} on ${operation}`, sample());
  else if (status < 300) {
    const limit = LIMITS.find(([pattern]) => pattern.test(path))?.[1];
    if (limit !== undefined && bodyBytes > limit)
      tally.note(
        `a ${bodyBytes}-byte body (limit ${limit}) was accepted by ${operation}`,
        sample(),
      );
  }
}

function errorTypeOf(body: Buffer): string | undefined {
  return /"errorType" *: *"([^"]*)"/.exec(body.toString('utf8', 0, 2000))?.[1];
}

async function sendRawCase(
  tally: FuzzTally,
  state: SocketState,
  c: RuntimeRawCase,
  index: number,
): Promise<Outcome> {
  const requestId = resolveId(c.requestId, state.requestIds);
  const shape = { ...c.shape, target: c.shape.target.replace(REQUEST_ID, inPath(requestId)) };
  const chunks = c.preframed
    ? [
        wireBytes(
          shape.method,
          shape.target,
          'localhost',
          Object.fromEntries(shape.headers),
          shape.body,
        ),
      ]
    : (fc.sample(malformedHttp(shape), { seed: c.seed, numRuns: 1 })[0] ?? []);
  const raw = await sendRaw({ path: state.path }, chunks, HANG_MS);
  if (raw.refused) return 'gone';
  const bytes = Buffer.concat(chunks);
  const sample = (status: number | string) => ({
    request: sampleOf(index, c.operation, bytes),
    status,
    errorType: raw.errorTypes[0],
    answer: raw.head,
  });
  if (raw.timedOut) {
    tally.count(c.operation, c.longPoll ? 'long poll (nothing to hand out)' : 'hang');
    if (!c.longPoll)
      tally.finding(
        'hang',
        `no answer within ${HANG_MS / 1000} s to malformed HTTP`,
        sample('hang'),
      );
    return 'sent';
  }
  if (raw.statuses.length === 0) tally.count(c.operation, 'closed');
  for (const status of raw.statuses) {
    tally.count(c.operation, status);
    if (status >= 500)
      tally.finding(
        '5xx',
        `${status} ${raw.errorTypes[0] ?? ''} on ${c.operation}`,
        sample(status),
      );
  }
  return 'sent';
}

async function sendChannel(
  tally: FuzzTally,
  state: SocketState,
  c: Extract<RuntimeCase, { kind: 'channel' }>,
  index: number,
): Promise<Outcome> {
  const outcome = await playChannel(
    c,
    state.path,
    state.requestIds[state.requestIds.length - 1],
    HANG_MS,
  );
  if (outcome.status === 'gone') return 'gone';
  for (const id of outcome.invokeIds) rememberRequestId(state, id);
  tally.count(c.operation, outcome.status);
  const sample = () => ({
    request: sampleOf(index, c.operation, outcome.wire),
    status: outcome.status,
  });
  if (outcome.status === 'hang' && isPlainLongPoll(outcome.wire))
    // Mutated into a plain request (no Upgrade value) for a long-poll path: waiting is right.
    tally.count(c.operation, 'long poll (nothing to hand out)');
  else if (outcome.status === 'hang')
    tally.finding('hang', 'no answer to a runtime channel upgrade', sample());
  else if (typeof outcome.status === 'number' && outcome.status >= 500)
    tally.finding('5xx', `${outcome.status} on a runtime channel upgrade`, sample());
  return 'sent';
}

/** Paths the server answers only when there is work (long polls). */
const LONG_POLL_PATH =
  /^\/(2018-06-01\/runtime\/invocation|2020-01-01\/extension\/event)\/next$|^\/lamina\/2026-11-01\/assignment$/;

/**
 * Whether bytes meant as a channel upgrade reach the server as a plain long poll: a GET of a
 * long-poll path whose `Upgrade` header is missing or empty (HTTP parsers upgrade only on a value).
 */
export function isPlainLongPoll(wire: Buffer): boolean {
  const end = wire.indexOf('\r\n\r\n');
  const head = wire.subarray(0, end < 0 ? wire.length : end).toString('latin1');
  const [requestLine = '', ...headers] = head.split('\r\n');
  const [method, target] = requestLine.split(' ');
  if (method !== 'GET' || target === undefined) return false;
  if (!LONG_POLL_PATH.test(target.split('?')[0] ?? '')) return false;
  return headers.every((line) => {
    const colon = line.indexOf(':');
    return (
      line.slice(0, colon).trim().toLowerCase() !== 'upgrade' || line.slice(colon + 1).trim() === ''
    );
  });
}

/** A case's bytes (ids not filled in), for reports. */
function caseBytes(c: RuntimeCase): Buffer {
  if (c.kind === 'channel')
    return Buffer.concat([c.upgrade, ...c.frames.map((frame) => frameBytes(frame, undefined))]);
  if (c.kind === 'raw')
    return wireBytes(
      c.shape.method,
      c.shape.target,
      'localhost',
      Object.fromEntries(c.shape.headers),
      c.shape.body,
    );
  return wireBytes(c.method, c.path, 'localhost', c.headers, c.body);
}
