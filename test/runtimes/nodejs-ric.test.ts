/**
 * Lamina's Node.js runtime interface client (runtimes/nodejs/index.mjs), driven through the
 * platform's real Runtime API server: each test writes a function into a temp directory, starts
 * the RIC on it as Lamina does (cwd = task root, Lambda's environment variables), waits for its
 * first `/next` or its init error (raced against its exit), invokes it and checks the answers and
 * the log lines it printed.
 *
 * The suite runs twice: here over HTTP on TCP (as with AWS_LAMBDA_RUNTIME_API alone), and from
 * nodejs-ric-channel.test.ts over Lamina's runtime channel on a unix socket (LAMINA_RUNTIME_SOCKET,
 * as in Lamina's sandbox), where every RIC must have opened the channel.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  RuntimeApiServer,
  type InitFailure,
  type InvocationEvent,
  type RuntimeAnswer,
} from '../../src/runtime-api/runtime-api-server.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const OVER_CHANNEL = process.env['LAMINA_RIC_TEST_TRANSPORT'] === 'channel';
const RIC = join(REPO_ROOT, 'runtimes/nodejs/index.mjs');
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:ric-test';
const TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const LOG_STREAM = '2026/01/01/[$LATEST]e6f4a0c4241adcd70c262d34c0bbc85c';
const TEXT_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]+)\t([A-Z]+)\t(.*)$/s;

type Files = Readonly<Record<string, string>>;
type Exit = { readonly code: number | null; readonly signal: NodeJS.Signals | null };
type Readiness =
  | { readonly kind: 'ready' }
  | { readonly kind: 'init-error'; readonly failure: InitFailure }
  | { readonly kind: 'exit'; readonly exit: Exit };
interface ErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: readonly string[];
}
interface StartOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Extra pipes after stdout/stderr (fd 3 …), e.g. for _LAMBDA_TELEMETRY_LOG_FD. */
  readonly extraPipes?: number;
  /** Use this Runtime API address instead of a fresh RuntimeApiServer (then start() does not wait). */
  readonly runtimeApi?: string;
}

/** Every RIC a test started; each is killed (by pid) once its test ends. */
const running = new Set<Ric>();

afterEach(async () => {
  await Promise.all([...running].map((ric) => ric.stop()));
});

/** Writes `files` into a fresh task root. */
function taskRoot(files: Files): string {
  const root = mkdtempSync(join(tmpdir(), 'lamina-ric-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, name)), { recursive: true });
    writeFileSync(join(root, name), content);
  }
  return root;
}

/** One RIC process with its own Runtime API server, task root and captured output. */
class Ric {
  readonly lines: string[] = [];
  readonly closed: Promise<Exit>;
  readiness: Readiness = { kind: 'ready' };
  readonly #server: RuntimeApiServer;
  readonly #child: ChildProcess;
  readonly #root: string;
  readonly #waiters: { match: (line: string) => boolean; found: (line: string) => void }[] = [];
  #stderr = '';
  #partial = '';

  readonly #socketDir: string | undefined;

  private constructor(
    server: RuntimeApiServer,
    child: ChildProcess,
    root: string,
    socketDir: string | undefined,
  ) {
    this.#server = server;
    this.#child = child;
    this.#root = root;
    this.#socketDir = socketDir;
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => this.#collect(chunk));
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
    this.closed = new Promise((resolveClosed) =>
      child.once('close', (code, signal) => resolveClosed({ code, signal })),
    );
  }

  static async start(files: Files, handler: string, options: StartOptions = {}): Promise<Ric> {
    const root = taskRoot(files);
    const server = new RuntimeApiServer();
    const overChannel = OVER_CHANNEL && options.runtimeApi === undefined;
    const socketDir = overChannel ? mkdtempSync(join(tmpdir(), 'lamina-ric-socket-')) : undefined;
    let address = options.runtimeApi ?? '';
    const transport: Record<string, string> = {};
    if (socketDir !== undefined) {
      // HTTP requests go to the socket too: the TCP address must never be used.
      transport['LAMINA_RUNTIME_SOCKET'] = await server.listen({
        path: join(socketDir, 'runtime.sock'),
      });
      address = '127.0.0.1:9';
    } else if (options.runtimeApi === undefined) {
      address = await server.listen({ host: '127.0.0.1', port: 0 });
    }
    const child = spawn(process.execPath, [RIC], {
      cwd: root,
      // A clean environment: nothing from the test runner (NODE_TEST_CONTEXT, NODE_OPTIONS) leaks in.
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        TZ: 'UTC',
        AWS_LAMBDA_RUNTIME_API: address,
        _HANDLER: handler,
        LAMBDA_TASK_ROOT: root,
        AWS_LAMBDA_FUNCTION_NAME: 'ric-test',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/ric-test',
        AWS_LAMBDA_LOG_STREAM_NAME: LOG_STREAM,
        NODE_PATH: '',
        ...transport,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe', ...Array<'pipe'>(options.extraPipes ?? 0).fill('pipe')],
    });
    const ric = new Ric(server, child, root, socketDir);
    running.add(ric);
    if (options.runtimeApi !== undefined) return ric;
    ric.readiness = await new Promise<Readiness>((resolveReady) => {
      server.onFirstNext(() => resolveReady({ kind: 'ready' }));
      server.onInitError((failure) => resolveReady({ kind: 'init-error', failure }));
      void ric.closed.then((exit) => resolveReady({ kind: 'exit', exit }));
    });
    return ric;
  }

  /** Starts a RIC and insists that it reached its first `/next`. */
  static async ready(files: Files, handler: string, options: StartOptions = {}): Promise<Ric> {
    const ric = await Ric.start(files, handler, options);
    assert.equal(ric.readiness.kind, 'ready', `the RIC did not start:\n${ric.output()}`);
    if (ric.#socketDir !== undefined) assert.equal(ric.#server.openChannels, 1);
    return ric;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** The child's extra pipe `fd` (from StartOptions.extraPipes). */
  pipe(fd: number): Readable {
    const stream = this.#child.stdio[fd];
    if (stream === null || stream === undefined || !('on' in stream)) assert.fail(`no pipe ${fd}`);
    return stream as Readable;
  }

  invoke(event: unknown = {}, extra: Partial<InvocationEvent> = {}): Promise<RuntimeAnswer> {
    return this.#server.invoke({
      requestId: randomUUID(),
      payload: Buffer.from(JSON.stringify(event)),
      deadlineMs: Date.now() + 60_000,
      invokedFunctionArn: FUNCTION_ARN,
      traceId: TRACE_ID,
      ...extra,
    });
  }

  /** Resolves with the first stdout line matching; rejects if the process ends without one. */
  waitForLine(match: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((found, reject) => {
      this.#waiters.push({ match, found });
      void this.closed.then(() =>
        reject(new Error(`the RIC exited without printing the line:\n${this.output()}`)),
      );
    });
  }

  /** Stops reading the child's stdout, so that its pipe fills up; resumeOutput() drains it. */
  pauseOutput(): void {
    this.#child.stdout?.pause();
  }

  resumeOutput(): void {
    this.#child.stdout?.resume();
  }

  output(): string {
    return `stdout:\n${this.lines.join('\n')}\nstderr:\n${this.#stderr}`;
  }

  async stop(): Promise<void> {
    running.delete(this);
    if (
      this.#child.exitCode === null &&
      this.#child.signalCode === null &&
      this.pid !== undefined
    ) {
      process.kill(this.pid, 'SIGKILL');
    }
    await this.closed;
    await this.#server.close();
    rmSync(this.#root, { recursive: true, force: true });
    if (this.#socketDir !== undefined) rmSync(this.#socketDir, { recursive: true, force: true });
  }

  #collect(chunk: string): void {
    const parts = (this.#partial + chunk).split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line);
      for (let i = this.#waiters.length - 1; i >= 0; i--) {
        const waiter = this.#waiters[i];
        if (waiter?.match(line) === true) {
          this.#waiters.splice(i, 1);
          waiter.found(line);
        }
      }
    }
  }
}

function describeAnswer(answer: RuntimeAnswer): string {
  if (answer.kind === 'too-large') return `too-large (${answer.bytes} bytes)`;
  if (answer.kind === 'stream') return 'stream';
  return `${answer.kind}: ${answer.body.toString()}`;
}

/** The parsed JSON of a successful answer. */
function resultOf(answer: RuntimeAnswer): unknown {
  if (answer.kind !== 'response') assert.fail(`expected a response, got ${describeAnswer(answer)}`);
  return JSON.parse(answer.body.toString()) as unknown;
}

/** The parsed error payload of a failed answer. */
function errorOf(answer: RuntimeAnswer): ErrorPayload {
  if (answer.kind !== 'error') assert.fail(`expected an error, got ${describeAnswer(answer)}`);
  return JSON.parse(answer.body.toString()) as ErrorPayload;
}

/** The init failure a RIC reported, with its parsed payload. */
function initErrorOf(ric: Ric): { header: string | undefined; payload: ErrorPayload } {
  const readiness = ric.readiness;
  if (readiness.kind !== 'init-error') assert.fail(`expected an init error:\n${ric.output()}`);
  const payload = JSON.parse(readiness.failure.body.toString()) as ErrorPayload;
  return { header: readiness.failure.errorType, payload };
}

/** Splits a Text-format log line into its fields. */
function textRecord(line: string): {
  time: string;
  requestId: string;
  level: string;
  message: string;
} {
  const match = TEXT_LINE.exec(line);
  if (match === null) assert.fail(`not a Text log line: ${JSON.stringify(line)}`);
  const [, time = '', requestId = '', level = '', message = ''] = match;
  return { time, requestId, level, message };
}

const ECHO_CJS = `exports.handler = async (event) => ({ echo: event, format: 'cjs' });\n`;

describe('handler resolution', () => {
  const cases: readonly { name: string; files: Files; handler: string; format: string }[] = [
    {
      name: 'CommonJS index.js',
      files: { 'index.js': ECHO_CJS },
      handler: 'index.handler',
      format: 'cjs',
    },
    {
      name: 'ES module .mjs',
      files: {
        'app.mjs': `export const handler = async (event) => ({ echo: event, format: 'mjs' });\n`,
      },
      handler: 'app.handler',
      format: 'mjs',
    },
    {
      name: '.js in a "type":"module" package',
      files: {
        'package.json': '{"type":"module"}',
        'index.js': `export async function handler(event) { return { echo: event, format: typeof require }; }\n`,
      },
      handler: 'index.handler',
      format: 'undefined',
    },
    {
      name: '.cjs',
      files: {
        'legacy.cjs': `module.exports.run = async (event) => ({ echo: event, format: 'cjs' });\n`,
      },
      handler: 'legacy.run',
      format: 'cjs',
    },
    {
      name: 'extensionless file',
      files: { service: `exports.go = async (event) => ({ echo: event, format: 'bare' });\n` },
      handler: 'service.go',
      format: 'bare',
    },
    {
      name: 'nested dir/file.fn',
      files: {
        'src/lib/app.js': `exports.fn = async (event) => ({ echo: event, format: __filename.endsWith('src/lib/app.js') ? 'nested' : __filename });\n`,
      },
      handler: 'src/lib/app.fn',
      format: 'nested',
    },
    {
      name: 'a.b.fn property path',
      files: {
        'app.mjs': `export const nested = { deeper: { fn: async (event) => ({ echo: event, format: 'path' }) } };\n`,
      },
      handler: 'app.nested.deeper.fn',
      format: 'path',
    },
    {
      name: 'Node resolution from the task root (node_modules)',
      files: {
        'node_modules/shared-handler/package.json': '{"name":"shared-handler","main":"main.js"}',
        'node_modules/shared-handler/main.js': `exports.handler = async (event) => ({ echo: event, format: 'package' });\n`,
      },
      handler: 'shared-handler.handler',
      format: 'package',
    },
  ];
  for (const { name, files, handler, format } of cases) {
    test(name, async () => {
      const ric = await Ric.ready(files, handler);
      assert.deepEqual(resultOf(await ric.invoke({ n: 1 })), { echo: { n: 1 }, format });
    });
  }
});

describe('init errors', () => {
  async function initFailure(
    files: Files,
    handler: string,
  ): Promise<{ ric: Ric; payload: ErrorPayload }> {
    const ric = await Ric.start(files, handler);
    const { header, payload } = initErrorOf(ric);
    assert.equal(header, payload.errorType, 'the error type travels in the header too');
    assert.ok(Array.isArray(payload.trace));
    assert.deepEqual(await ric.closed, { code: 129, signal: null });
    return { ric, payload };
  }

  test('missing module → Runtime.ImportModuleError, logged as an Uncaught Exception', async () => {
    const { ric, payload } = await initFailure({ 'index.js': ECHO_CJS }, 'nomodule.handler');
    assert.equal(payload.errorType, 'Runtime.ImportModuleError');
    assert.match(payload.errorMessage, /^Error: Cannot find module 'nomodule'\nRequire stack:/);
    assert.match(
      payload.trace?.[0] ?? '',
      /^Runtime\.ImportModuleError: Error: Cannot find module/,
    );
    const line = await ric.waitForLine((l) => l.includes('Uncaught Exception'));
    const record = textRecord(line);
    assert.equal(record.requestId, 'undefined');
    assert.equal(record.level, 'ERROR');
    assert.match(
      record.message,
      /^Uncaught Exception \t\{"errorType":"Runtime\.ImportModuleError"/,
    );
  });

  test('a package the module requires is missing → Runtime.ImportModuleError', async () => {
    const { payload } = await initFailure(
      { 'index.js': `require('not-installed-anywhere');\nexports.handler = async () => 1;\n` },
      'index.handler',
    );
    assert.equal(payload.errorType, 'Runtime.ImportModuleError');
    assert.match(payload.errorMessage, /Cannot find module 'not-installed-anywhere'/);
  });

  test("an ES module importing a missing package reports Node's own error, as Lambda does", async () => {
    const { payload } = await initFailure(
      { 'index.mjs': `import 'not-installed-anywhere';\nexport const handler = async () => 1;\n` },
      'index.handler',
    );
    assert.equal(payload.errorType, 'Error');
    assert.match(
      payload.errorMessage,
      /^Cannot find package 'not-installed-anywhere' imported from /,
    );
  });

  test('syntax error → Runtime.UserCodeSyntaxError (CommonJS and ES module)', async () => {
    const cjs = await initFailure(
      { 'index.js': 'exports.handler = async () => {;\n' },
      'index.handler',
    );
    assert.equal(cjs.payload.errorType, 'Runtime.UserCodeSyntaxError');
    assert.match(cjs.payload.errorMessage, /^SyntaxError: /);
    const esm = await initFailure(
      { 'index.mjs': 'export const handler = ) => 1;\n' },
      'index.handler',
    );
    assert.equal(esm.payload.errorType, 'Runtime.UserCodeSyntaxError');
  });

  test('missing handler → Runtime.HandlerNotFound "… is undefined or not exported"', async () => {
    const { payload } = await initFailure({ 'index.js': ECHO_CJS }, 'index.nope');
    assert.equal(payload.errorType, 'Runtime.HandlerNotFound');
    assert.equal(payload.errorMessage, 'index.nope is undefined or not exported');
    assert.equal(
      payload.trace?.[0],
      'Runtime.HandlerNotFound: index.nope is undefined or not exported',
    );
  });

  test('handler that is not a function → Runtime.HandlerNotFound "… is not a function"', async () => {
    const { payload } = await initFailure(
      { 'index.mjs': 'export const config = { value: 42 };\n' },
      'index.config.value',
    );
    assert.equal(payload.errorType, 'Runtime.HandlerNotFound');
    assert.equal(payload.errorMessage, 'index.config.value is not a function');
  });

  test('malformed handler names → Runtime.MalformedHandlerName', async () => {
    const parent = await initFailure({ 'index.js': ECHO_CJS }, '../index.handler');
    assert.equal(parent.payload.errorType, 'Runtime.MalformedHandlerName');
    assert.equal(
      parent.payload.errorMessage,
      "'../index.handler' is not a valid handler name. Use absolute paths when specifying root directories in handler names.",
    );
    const noDot = await initFailure({ 'index.js': ECHO_CJS }, 'index');
    assert.equal(noDot.payload.errorType, 'Runtime.MalformedHandlerName');
    assert.equal(noDot.payload.errorMessage, 'Bad handler');
  });

  test('a module that throws while loading reports its own error', async () => {
    const { payload } = await initFailure(
      {
        'index.mjs': `throw new RangeError('no config');\nexport const handler = async () => 1;\n`,
      },
      'index.handler',
    );
    assert.equal(payload.errorType, 'RangeError');
    assert.equal(payload.errorMessage, 'no config');
    assert.equal(payload.trace?.[0], 'RangeError: no config');
  });

  test('a streaming tag other than "response" → Runtime.MalformedStreamingHandler', async () => {
    const { payload } = await initFailure(
      {
        'index.js': `const h = async () => 1;\nh[Symbol.for('aws.lambda.runtime.handler.streaming')] = 'request';\nexports.handler = h;\n`,
      },
      'index.handler',
    );
    assert.equal(payload.errorType, 'Runtime.MalformedStreamingHandler');
  });
});

describe('invocations', () => {
  test('context fields, client context, identity and the X-Ray trace variable', async () => {
    const ric = await Ric.ready(
      {
        'index.mjs': `
export const handler = async (event, context) => ({
  keys: Object.keys(context),
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  invokedFunctionArn: context.invokedFunctionArn,
  awsRequestId: context.awsRequestId,
  identity: context.identity ?? null,
  clientContext: context.clientContext ?? null,
  remaining: context.getRemainingTimeInMillis(),
  waits: context.callbackWaitsForEmptyEventLoop,
  trace: process.env._X_AMZN_TRACE_ID ?? null,
});
`,
      },
      'index.handler',
    );
    const requestId = randomUUID();
    const deadlineMs = Date.now() + 42_000;
    const clientContext = {
      client: { app_title: 'demo' },
      custom: { city: 'Zürich €' }, // non-ASCII: UTF-8 bytes in the header
      env: { locale: 'de_CH' },
    };
    const identity = {
      cognitoIdentityId: 'us-east-1:abc',
      cognitoIdentityPoolId: 'us-east-1:pool',
    };
    const first = resultOf(
      await ric.invoke(
        {},
        {
          requestId,
          deadlineMs,
          invokedFunctionArn: `${FUNCTION_ARN}:prod`,
          clientContext: JSON.stringify(clientContext),
          cognitoIdentity: JSON.stringify(identity),
        },
      ),
    ) as Record<string, unknown>;
    assert.deepEqual(first['keys'], [
      'callbackWaitsForEmptyEventLoop',
      'succeed',
      'fail',
      'done',
      'functionVersion',
      'functionName',
      'memoryLimitInMB',
      'logGroupName',
      'logStreamName',
      'clientContext',
      'identity',
      'invokedFunctionArn',
      'awsRequestId',
      'tenantId',
      'getRemainingTimeInMillis',
    ]);
    const remaining = first['remaining'];
    assert.ok(
      typeof remaining === 'number' && remaining > 0 && remaining <= 42_000,
      `${String(remaining)}`,
    );
    delete first['keys'];
    delete first['remaining'];
    assert.deepEqual(first, {
      functionName: 'ric-test',
      functionVersion: '$LATEST',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/ric-test',
      logStreamName: LOG_STREAM,
      invokedFunctionArn: `${FUNCTION_ARN}:prod`,
      awsRequestId: requestId,
      identity,
      clientContext,
      waits: true,
      trace: TRACE_ID,
    });
    // Without client context, identity or trace header, the fields are absent and the variable is gone.
    const second = resultOf(await ric.invoke({}, { traceId: '' })) as Record<string, unknown>;
    assert.equal(second['identity'], null);
    assert.equal(second['clientContext'], null);
    assert.equal(second['trace'], null);
  });

  test('two invocations in a row reuse the same process (warm)', async () => {
    const ric = await Ric.ready(
      {
        'index.js': `let count = 0;\nexports.handler = async () => ({ count: ++count, pid: process.pid });\n`,
      },
      'index.handler',
    );
    assert.deepEqual(resultOf(await ric.invoke()), { count: 1, pid: ric.pid });
    assert.deepEqual(resultOf(await ric.invoke()), { count: 2, pid: ric.pid });
    assert.deepEqual(resultOf(await ric.invoke()), { count: 3, pid: ric.pid });
  });

  test('an undefined result is answered as null; the event arrives parsed', async () => {
    const ric = await Ric.ready(
      { 'index.mjs': `export const handler = async (event) => { globalThis.last = event; };\n` },
      'index.handler',
    );
    const answer = await ric.invoke({ deep: [1, { two: 'three' }] });
    if (answer.kind !== 'response') assert.fail(describeAnswer(answer));
    assert.equal(answer.body.toString(), 'null');
    assert.equal(answer.contentType, 'application/json');
  });

  test('a thrown Error → {errorType, errorMessage, trace}, no error-type header, "Invoke Error" log', async () => {
    const ric = await Ric.ready(
      {
        'index.mjs': `export const handler = async (event) => { throw new TypeError('bad input ' + JSON.stringify(event)); };\n`,
      },
      'index.handler',
    );
    const answer = await ric.invoke({ x: 1 });
    if (answer.kind !== 'error') assert.fail(describeAnswer(answer));
    assert.equal(answer.errorType, undefined, 'invocation errors carry no error-type header');
    const payload = errorOf(answer);
    assert.equal(payload.errorType, 'TypeError');
    assert.equal(payload.errorMessage, 'bad input {"x":1}');
    assert.equal(payload.trace?.[0], 'TypeError: bad input {"x":1}');
    assert.match(payload.trace?.[1] ?? '', /^ {4}at .*index\.mjs:1:/);
    const record = textRecord(await ric.waitForLine((l) => l.includes('Invoke Error')));
    assert.equal(record.level, 'ERROR');
    const [label, json] = record.message.split('\t');
    assert.equal(label, 'Invoke Error ');
    const logged = JSON.parse(json ?? '') as Record<string, unknown>;
    assert.equal(logged['errorType'], 'TypeError');
    assert.ok(Array.isArray(logged['stack']));
    // The process survives a function error.
    assert.equal(errorOf(await ric.invoke({ x: 2 })).errorMessage, 'bad input {"x":2}');
  });

  test('non-Error throws still yield a type and a message', async () => {
    const ric = await Ric.ready(
      {
        'index.js': `
exports.handler = async (event) => {
  if (event.kind === 'string') throw 'plain string';
  if (event.kind === 'number') throw 42;
  if (event.kind === 'object') throw { code: 7 };
  if (event.kind === 'undefined') return Promise.reject(undefined);
  if (event.kind === 'errorlike') throw { name: 'Custom', message: 'duck', stack: 'Custom: duck\\n    at x' };
};
`,
      },
      'index.handler',
    );
    const thrown = async (kind: string): Promise<ErrorPayload> =>
      errorOf(await ric.invoke({ kind }));
    assert.deepEqual(await thrown('string'), {
      errorType: 'string',
      errorMessage: 'plain string',
      trace: [],
    });
    assert.deepEqual(await thrown('number'), {
      errorType: 'number',
      errorMessage: '42',
      trace: [],
    });
    assert.deepEqual(await thrown('object'), {
      errorType: 'object',
      errorMessage: '[object Object]',
      trace: [],
    });
    assert.deepEqual(await thrown('undefined'), {
      errorType: 'string',
      errorMessage: 'handled',
      trace: [],
    });
    assert.deepEqual(await thrown('errorlike'), {
      errorType: 'Custom',
      errorMessage: 'duck',
      trace: ['Custom: duck', '    at x'],
    });
  });

  test('a result that cannot be serialised is an error', async () => {
    const ric = await Ric.ready(
      { 'index.js': `exports.handler = async () => ({ big: 1n });\n` },
      'index.handler',
    );
    const payload = errorOf(await ric.invoke());
    assert.equal(payload.errorType, 'Error');
    assert.equal(payload.errorMessage, 'Unable to stringify response body');
  });

  test('an invalid event body is reported as a SyntaxError of the invocation', async () => {
    const ric = await Ric.ready({ 'index.js': ECHO_CJS }, 'index.handler');
    const answer = await ric.invoke(undefined, { payload: Buffer.from('{not json') });
    assert.equal(errorOf(answer).errorType, 'SyntaxError');
  });

  describe('callback handlers', () => {
    // The result object is serialised when it is posted: a timer that fires before the post shows.
    const files = {
      'index.js': `
exports.handler = function (event, context, callback) {
  context.callbackWaitsForEmptyEventLoop = event.wait;
  const result = { timerFired: false, waits: context.callbackWaitsForEmptyEventLoop };
  setTimeout(() => { result.timerFired = true; }, 20);
  if (event.fail) callback(new Error('callback failure'));
  else callback(null, result);
};
`,
    };

    test('callbackWaitsForEmptyEventLoop = true answers once the event loop drains', async () => {
      const ric = await Ric.ready(files, 'index.handler');
      assert.deepEqual(resultOf(await ric.invoke({ wait: true })), {
        timerFired: true,
        waits: true,
      });
    });

    test('callbackWaitsForEmptyEventLoop = false answers immediately', async () => {
      const ric = await Ric.ready(files, 'index.handler');
      assert.deepEqual(resultOf(await ric.invoke({ wait: false })), {
        timerFired: false,
        waits: false,
      });
      // The pending timer from the first invocation does not disturb the next one.
      assert.deepEqual(resultOf(await ric.invoke({ wait: false })), {
        timerFired: false,
        waits: false,
      });
    });

    test('callback(error) answers with the error at once', async () => {
      const ric = await Ric.ready(files, 'index.handler');
      const payload = errorOf(await ric.invoke({ wait: true, fail: true }));
      assert.equal(payload.errorMessage, 'callback failure');
    });

    test('legacy context.succeed / fail / done, first call wins', async () => {
      const ric = await Ric.ready(
        {
          'index.js': `
exports.handler = (event, context) => {
  if (event.use === 'succeed') { context.succeed({ ok: 'succeed' }); context.fail(new Error('ignored')); }
  if (event.use === 'fail') context.fail(new Error('failed via context'));
  if (event.use === 'failEmpty') context.fail();
  if (event.use === 'done') context.done(null, { ok: 'done' });
  if (event.use === 'doneError') context.done(new Error('done with error'));
};
`,
        },
        'index.handler',
      );
      assert.deepEqual(resultOf(await ric.invoke({ use: 'succeed' })), { ok: 'succeed' });
      assert.equal(errorOf(await ric.invoke({ use: 'fail' })).errorMessage, 'failed via context');
      assert.deepEqual(errorOf(await ric.invoke({ use: 'failEmpty' })), {
        errorType: 'string',
        errorMessage: 'handled',
        trace: [],
      });
      assert.deepEqual(resultOf(await ric.invoke({ use: 'done' })), { ok: 'done' });
      assert.equal(errorOf(await ric.invoke({ use: 'doneError' })).errorMessage, 'done with error');
    });

    test('a sync handler that never calls back is answered null when the loop drains', async () => {
      const ric = await Ric.ready(
        {
          'index.js': `exports.handler = (event, context, callback) => { setTimeout(() => {}, 5); };\n`,
        },
        'index.handler',
      );
      assert.equal(resultOf(await ric.invoke()), null);
      assert.equal(resultOf(await ric.invoke()), null);
    });
  });

  test('an async handler that never settles → Runtime.NodeJsExit, and the process goes on', async () => {
    const ric = await Ric.ready(
      {
        'index.mjs': `
export const handler = async (event) => {
  if (event.hang) await new Promise(() => {});
  return 'fine';
};
`,
      },
      'index.handler',
    );
    const payload = errorOf(await ric.invoke({ hang: true }));
    assert.equal(payload.errorType, 'Runtime.NodeJsExit');
    assert.match(payload.errorMessage, /Promise that was never settled/);
    assert.equal(resultOf(await ric.invoke({ hang: false })), 'fine');
  });

  test('an uncaught exception is posted for the invocation, then the process exits 129', async () => {
    const ric = await Ric.ready(
      {
        'index.js': `
exports.handler = async () => {
  setImmediate(() => { throw new Error('escaped the handler'); });
  return new Promise(() => { setTimeout(() => {}, 60000); });
};
`,
      },
      'index.handler',
    );
    const payload = errorOf(await ric.invoke());
    assert.equal(payload.errorType, 'Error');
    assert.equal(payload.errorMessage, 'escaped the handler');
    assert.deepEqual(await ric.closed, { code: 129, signal: null });
    assert.ok(ric.lines.some((l) => textRecord(l).message.startsWith('Uncaught Exception \t{')));
  });

  test('an unhandled rejection is posted for the invocation, then the process exits 128', async () => {
    const ric = await Ric.ready(
      {
        'index.mjs': `
export const handler = async () => {
  Promise.reject(new Error('nobody listens'));
  return new Promise(() => { setTimeout(() => {}, 60000); });
};
`,
      },
      'index.handler',
    );
    const payload = errorOf(await ric.invoke());
    assert.equal(payload.errorType, 'Runtime.UnhandledPromiseRejection');
    assert.equal(payload.errorMessage, 'Error: nobody listens');
    assert.deepEqual(await ric.closed, { code: 128, signal: null });
    const logged = ric.lines.find((l) => l.includes('Unhandled Promise Rejection'));
    assert.ok(logged !== undefined, ric.output());
    assert.match(
      textRecord(logged).message,
      /"reason":\{"errorType":"Error","errorMessage":"nobody listens"/,
    );
  });
});

describe('logs', () => {
  test('Text format: one line per record, \\n → \\r, util.format, levels, request id', async () => {
    const ric = await Ric.ready(
      {
        'index.js': `
console.log('loading');
exports.handler = async (event) => {
  console.log('multi\\nline', { a: 1 });
  console.info('%s=%d', 'answer', 42);
  console.warn('careful');
  console.error(new Error('logged error'));
  console.debug('debugging');
  console.trace('tracing');
  console.log();
  console.log('done');
  return 1;
};
`,
      },
      'index.handler',
    );
    const requestId = randomUUID();
    resultOf(await ric.invoke({}, { requestId }));
    await ric.waitForLine((l) => l.endsWith('\tdone'));
    const records = ric.lines.map(textRecord);
    assert.deepEqual(records[0], {
      ...records[0],
      requestId: 'undefined',
      level: 'INFO',
      message: 'loading',
    });
    const during = records
      .filter((r) => r.requestId === requestId)
      .map((r) => [r.level, r.message]);
    assert.equal(during.length, 8, ric.output());
    assert.deepEqual(during[0], ['INFO', 'multi\rline { a: 1 }']);
    assert.deepEqual(during[1], ['INFO', 'answer=42']);
    assert.deepEqual(during[2], ['WARN', 'careful']);
    assert.equal(during[3]?.[0], 'ERROR');
    assert.match(during[3]?.[1] ?? '', /^Error: logged error\r {4}at /);
    assert.deepEqual(during.slice(4), [
      ['DEBUG', 'debugging'],
      ['TRACE', 'tracing'],
      ['INFO', 'undefined'],
      ['INFO', 'done'],
    ]);
    assert.ok(!Number.isNaN(Date.parse(records[0]?.time ?? '')));
  });

  test('JSON format: records, structured messages, errors, and AWS_LAMBDA_LOG_LEVEL filtering', async () => {
    const ric = await Ric.ready(
      {
        'index.mjs': `
console.warn('init warning');
console.info('init info');
export const handler = async () => {
  console.debug('dropped debug');
  console.info('dropped info');
  console.log('dropped log');
  console.warn({ structured: true, n: 1 });
  console.error('failed:', new RangeError('out of range'));
  console.error(new Error('alone'));
  console.fatal('the end');
  return 'ok';
};
`,
      },
      'index.handler',
      { env: { AWS_LAMBDA_LOG_FORMAT: 'JSON', AWS_LAMBDA_LOG_LEVEL: 'WARN' } },
    );
    const requestId = randomUUID();
    assert.equal(resultOf(await ric.invoke({}, { requestId })), 'ok');
    await ric.waitForLine((l) => l.includes('the end'));
    const records = ric.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(records.length, 5, ric.output());
    const [init, structured, withError, alone, fatal] = records;
    assert.deepEqual(Object.keys(init ?? {}), ['timestamp', 'level', 'message']);
    assert.equal(init?.['level'], 'WARN');
    assert.equal(init?.['message'], 'init warning');
    assert.deepEqual(structured, {
      timestamp: structured?.['timestamp'],
      level: 'WARN',
      requestId,
      message: { structured: true, n: 1 },
    });
    assert.equal(withError?.['level'], 'ERROR');
    assert.match(String(withError?.['message']), /^failed: RangeError: out of range\n {4}at /);
    assert.equal(withError?.['errorType'], 'RangeError');
    assert.equal(withError?.['errorMessage'], 'out of range');
    assert.ok(Array.isArray(withError?.['stackTrace']));
    const aloneMessage = alone?.['message'] as Record<string, unknown>;
    assert.equal(aloneMessage['errorType'], 'Error');
    assert.equal(aloneMessage['errorMessage'], 'alone');
    assert.equal(fatal?.['level'], 'FATAL');
    assert.ok(!Number.isNaN(Date.parse(String(fatal?.['timestamp']))));
  });

  test('a full stdout pipe loses and reorders nothing (fd 1 non-blocking once process.stdout exists)', async () => {
    const ric = await Ric.ready(
      {
        'index.js': `
exports.handler = async (event) => {
  void process.stdout.isTTY; // creating process.stdout makes fd 1 non-blocking (libuv)
  for (let i = 0; i < event.count; i++) console.log('line ' + i + ' ' + 'x'.repeat(i % 2 ? 3000 : 100));
  console.log('last');
  return event.count;
};
`,
      },
      'index.handler',
    );
    // ~3 MB of records against a 64 KB pipe nobody reads: writes fail with EAGAIN until resumed.
    ric.pauseOutput();
    const count = 2000;
    assert.equal(resultOf(await ric.invoke({ count })), count);
    ric.resumeOutput();
    await ric.waitForLine((l) => l.endsWith('\tlast'));
    const numbers = ric.lines
      .map((l) => /\tline (\d+) (x+)$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => {
        assert.equal(m[2]?.length, Number(m[1]) % 2 ? 3000 : 100, 'a record arrived whole');
        return Number(m[1]);
      });
    assert.deepEqual(
      numbers,
      Array.from({ length: count }, (_, i) => i),
    );
  });

  test('_LAMBDA_TELEMETRY_LOG_FD: framed records on that descriptor instead of stdout', async () => {
    const ric = await Ric.ready(
      {
        'index.js': `exports.handler = async () => { console.warn('framed\\nrecord'); return 1; };\n`,
      },
      'index.handler',
      { env: { _LAMBDA_TELEMETRY_LOG_FD: '3' }, extraPipes: 1 },
    );
    const chunks: Buffer[] = [];
    const frame = new Promise<Buffer>((resolveFrame) => {
      ric.pipe(3).on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        const all = Buffer.concat(chunks);
        if (all.length >= 16 && all.length >= 16 + all.readUInt32BE(4)) resolveFrame(all);
      });
    });
    const requestId = randomUUID();
    resultOf(await ric.invoke({}, { requestId }));
    const bytes = await frame;
    assert.equal(bytes.readUInt32BE(0), (0xa55a0003 | 0b10000) >>> 0, 'text frame at WARN');
    const message = bytes.subarray(16, 16 + bytes.readUInt32BE(4)).toString();
    const record = textRecord(message);
    assert.equal(record.requestId, requestId);
    assert.equal(record.level, 'WARN');
    assert.equal(record.message, 'framed\nrecord\n', 'a frame keeps its newlines');
    assert.ok(bytes.readBigUInt64BE(8) > 0n);
    assert.deepEqual(ric.lines, []);
  });
});

describe('response streaming', () => {
  test('streamifyResponse: chunks arrive as one response body with the content type set', async () => {
    const ric = await Ric.ready(
      {
        'index.mjs': `
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('chunk-1 ');
  await new Promise((r) => setTimeout(r, 5));
  responseStream.write('chunk-2 ');
  responseStream.end(context.awsRequestId);
});
`,
      },
      'index.handler',
    );
    const requestId = randomUUID();
    const answer = await ric.invoke({}, { requestId });
    if (answer.kind !== 'response') assert.fail(describeAnswer(answer));
    assert.equal(answer.body.toString(), `chunk-1 chunk-2 ${requestId}`);
    assert.equal(answer.contentType, 'text/plain');
    // Warm: the same stream handler serves again.
    const again = await ric.invoke({}, { requestId: 'second' });
    if (again.kind !== 'response') assert.fail(describeAnswer(again));
    assert.equal(again.body.toString(), 'chunk-1 chunk-2 second');
  });

  test('pipeline() into the stream, default content type', async () => {
    const ric = await Ric.ready(
      {
        'index.mjs': `
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  await pipeline(Readable.from(['a', 'b', Buffer.from('c')]), responseStream);
});
`,
      },
      'index.handler',
    );
    const answer = await ric.invoke();
    if (answer.kind !== 'response') assert.fail(describeAnswer(answer));
    assert.equal(answer.body.toString(), 'abc');
    assert.equal(answer.contentType, 'application/octet-stream');
  });

  test('HttpResponseStream.from: prelude, 8 NUL bytes, then the body', async () => {
    const ric = await Ric.ready(
      {
        'index.js': `
exports.handler = awslambda.streamifyResponse(async (event, responseStream) => {
  const stream = awslambda.HttpResponseStream.from(responseStream, {
    statusCode: 201,
    headers: { 'x-demo': 'yes' },
  });
  stream.write('<h1>');
  stream.end('hi</h1>');
});
`,
      },
      'index.handler',
    );
    const answer = await ric.invoke();
    if (answer.kind !== 'response') assert.fail(describeAnswer(answer));
    assert.equal(answer.contentType, 'application/vnd.awslambda.http-integration-response');
    const prelude = JSON.stringify({ statusCode: 201, headers: { 'x-demo': 'yes' } });
    assert.deepEqual(
      answer.body,
      Buffer.concat([Buffer.from(prelude), Buffer.alloc(8), Buffer.from('<h1>hi</h1>')]),
    );
  });

  test('an error mid-stream travels in the trailers', async () => {
    const ric = await Ric.ready(
      {
        'index.mjs': `
export const handler = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write('partial ');
  throw new RangeError('stream broke');
});
`,
      },
      'index.handler',
    );
    const answer = await ric.invoke();
    if (answer.kind !== 'error') assert.fail(describeAnswer(answer));
    assert.equal(answer.errorType, 'RangeError');
    const payload = errorOf(answer);
    assert.equal(payload.errorType, 'RangeError');
    assert.equal(payload.errorMessage, 'stream broke');
    assert.equal(payload.trace?.[0], 'RangeError: stream broke');
  });

  test('a stream the handler never ends, or a handler that is not async, fails the invocation', async () => {
    const ric = await Ric.ready(
      {
        'index.js': `
exports.handler = awslambda.streamifyResponse((event, responseStream) => {
  if (event.sync) return 'not a promise';
  return Promise.resolve();
});
`,
      },
      'index.handler',
    );
    assert.deepEqual(errorOf(await ric.invoke({ sync: false })), {
      errorType: 'string',
      errorMessage: 'Response stream is not finished.',
      trace: [],
    });
    assert.deepEqual(errorOf(await ric.invoke({ sync: true })), {
      errorType: 'string',
      errorMessage: 'Streaming does not support non-async handlers.',
      trace: [],
    });
  });

  test('the request has the shape of the official client (mode, chunked, trailers)', async (t) => {
    // A recording Runtime API: delivers one event, keeps every request it receives.
    const requests: {
      method: string;
      url: string;
      headers: IncomingMessage['headers'];
      body: string;
    }[] = [];
    let recorded: (() => void) | undefined;
    const events = [randomUUID()];
    const recorder = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        requests.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: { ...req.headers, ...req.trailers },
          body: Buffer.concat(chunks).toString(),
        });
        if (req.method === 'GET') {
          const id = events.shift();
          if (id === undefined) return; // hold the second long poll open
          res.writeHead(200, {
            'Lambda-Runtime-Aws-Request-Id': id,
            'Lambda-Runtime-Deadline-Ms': String(Date.now() + 60_000),
            'Lambda-Runtime-Invoked-Function-Arn': FUNCTION_ARN,
            // UTF-8 bytes on the wire, as Lambda sends them.
            'Lambda-Runtime-Client-Context': Buffer.from('{"custom":{"city":"Zürich €"}}').toString(
              'latin1',
            ),
          });
          res.end('{}');
          return;
        }
        res.writeHead(202).end('{"status":"OK"}');
        recorded?.();
      });
    });
    await new Promise<void>((listening) => recorder.listen(0, '127.0.0.1', listening));
    t.after(() => {
      recorder.closeAllConnections();
      recorder.close();
    });
    const posted = new Promise<void>((resolvePosted) => (recorded = resolvePosted));
    const { port } = recorder.address() as AddressInfo;
    const ric = await Ric.start(
      {
        'index.mjs': `
export const handler = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.write(context.clientContext.custom.city);
  responseStream.end();
});
`,
      },
      'index.handler',
      { runtimeApi: `127.0.0.1:${port}` },
    );
    await Promise.race([
      posted,
      ric.closed.then(() => assert.fail(`the RIC exited:\n${ric.output()}`)),
    ]);
    const post = requests.find((r) => r.method === 'POST');
    assert.ok(post !== undefined);
    assert.match(post.url, /^\/2018-06-01\/runtime\/invocation\/[0-9a-f-]{36}\/response$/);
    assert.equal(post.headers['lambda-runtime-function-response-mode'], 'streaming');
    assert.equal(post.headers['transfer-encoding'], 'chunked');
    assert.equal(
      post.headers['trailer'],
      'Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body',
    );
    assert.equal(post.headers['content-type'], 'application/octet-stream');
    assert.equal(post.body, 'Zürich €');
  });
});
