/**
 * Lamina's Python runtime interface client (runtimes/python/bootstrap.py), run as the platform
 * runs it — `python3 bootstrap.py` in the task root — against the real Runtime API server.
 * Fixture functions are written into a temp directory per environment.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  RuntimeApiServer,
  type InitFailure,
  type InvocationEvent,
  type RuntimeAnswer,
} from '../../src/runtime-api/runtime-api-server.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BOOTSTRAP = join(REPO_ROOT, 'runtimes/python/bootstrap.py');
const RUNTIME_DIR = dirname(BOOTSTRAP);
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:py-fixture';
const TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const TEXT_LINE = /^\[(\w+)\]\t(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\t([^\t]*)\t(.*)$/s;
/** Each suite's own limit: a runtime that never answers fails the test instead of hanging it. */
const LIMIT = { timeout: 20_000 };
/**
 * python-ric-channel.test.ts runs this suite again over Lamina's runtime channel on a unix socket
 * (LAMINA_RUNTIME_SOCKET, as in Lamina's sandbox); every runtime must then have opened it.
 */
const OVER_CHANNEL = process.env['LAMINA_RIC_TEST_TRANSPORT'] === 'channel';

type Readiness =
  | { readonly kind: 'ready' }
  | { readonly kind: 'init-error'; readonly failure: InitFailure }
  | { readonly kind: 'exit'; readonly code: number | null };

interface Invoked {
  readonly requestId: string;
  readonly answer: RuntimeAnswer;
}

interface StartOptions {
  readonly handler: string;
  readonly env?: Readonly<Record<string, string>>;
}

/** One execution environment: a temp task root, a Runtime API server and the python3 process. */
class PythonEnvironment {
  readonly dir: string;
  readonly server: RuntimeApiServer;
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  #stdout = '';
  #stderr = '';
  #watchers: (() => void)[] = [];

  constructor(files: Readonly<Record<string, string>>, maxResponseBytes?: number) {
    this.dir = mkdtempSync(join(tmpdir(), 'lamina-pyric-'));
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(dirname(join(this.dir, name)), { recursive: true });
      writeFileSync(join(this.dir, name), content);
    }
    this.server = new RuntimeApiServer(maxResponseBytes === undefined ? {} : { maxResponseBytes });
  }

  /** Starts the runtime and waits until it asks for work, reports an init error, or exits. */
  async start(options: StartOptions): Promise<Readiness> {
    const transport: Record<string, string> = {};
    let address: string;
    if (OVER_CHANNEL) {
      // HTTP requests go to the socket too: the TCP address must never be used.
      transport['LAMINA_RUNTIME_SOCKET'] = await this.server.listen({
        path: join(this.dir, '.runtime.sock'),
      });
      address = '127.0.0.1:9';
    } else {
      address = await this.server.listen({ host: '127.0.0.1', port: 0 });
    }
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(
        ([key]) => key === 'PATH' || key === 'HOME' || key.startsWith('PYENV'),
      ),
    );
    const child = spawn('python3', [BOOTSTRAP], {
      cwd: this.dir,
      env: {
        ...inherited,
        PYTHONDONTWRITEBYTECODE: '1',
        AWS_LAMBDA_RUNTIME_API: address,
        _HANDLER: options.handler,
        LAMBDA_TASK_ROOT: this.dir,
        AWS_LAMBDA_FUNCTION_NAME: 'py-fixture',
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
        AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/py-fixture',
        AWS_LAMBDA_LOG_STREAM_NAME: '2026/01/01/[$LATEST]0123456789abcdef',
        ...transport,
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stdout?.on('data', (chunk: Buffer) => {
      this.#stdout += chunk.toString('utf8');
      for (const watcher of this.#watchers.slice()) watcher();
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString('utf8')));
    this.#exited = new Promise((resolveExit) => {
      // 'close', not 'exit': by then stdout and stderr have been read to the end
      child.once('close', (code) => resolveExit(code));
      child.once('error', () => resolveExit(null));
    });
    return new Promise<Readiness>((resolveReady) => {
      this.server.onFirstNext(() => resolveReady({ kind: 'ready' }));
      this.server.onInitError((failure) => resolveReady({ kind: 'init-error', failure }));
      void this.#exited.then((code) => resolveReady({ kind: 'exit', code }));
    });
  }

  /** Starts the runtime and fails the test unless it becomes ready. */
  async startReady(options: StartOptions): Promise<void> {
    const readiness = await this.start(options);
    assert.equal(readiness.kind, 'ready', `runtime did not start:\n${this.#stderr}${this.#stdout}`);
    if (OVER_CHANNEL) assert.equal(this.server.openChannels, 1);
  }

  stdout(): string {
    return this.#stdout;
  }

  /** Resolves once stdout satisfies the predicate (log lines and answers travel separately). */
  async waitForStdout(predicate: (stdout: string) => boolean): Promise<string> {
    if (predicate(this.#stdout)) return this.#stdout;
    return new Promise((resolveWait) => {
      const watcher = (): void => {
        if (!predicate(this.#stdout)) return;
        this.#watchers = this.#watchers.filter((w) => w !== watcher);
        resolveWait(this.#stdout);
      };
      this.#watchers.push(watcher);
    });
  }

  /** The exit status, once the process has ended. */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  async invoke(payload: unknown, extra: Partial<InvocationEvent> = {}): Promise<Invoked> {
    const requestId = randomUUID();
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
    const answer = await this.server.invoke({
      requestId,
      payload: body,
      deadlineMs: Date.now() + 60_000,
      invokedFunctionArn: FUNCTION_ARN,
      traceId: TRACE_ID,
      ...extra,
    });
    return { requestId, answer };
  }

  /** Kills the process (by its pid) if it still runs, closes the server, removes the task root. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
    }
    await this.#exited;
    await this.server.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function responseJson(answer: RuntimeAnswer): unknown {
  assert.ok(answer.kind === 'response', `expected a response, got ${JSON.stringify(answer)}`);
  assert.equal(answer.contentType, 'application/json');
  return JSON.parse(answer.body.toString('utf8'));
}

function errorJson(answer: RuntimeAnswer): {
  errorType: string | undefined;
  body: Record<string, unknown>;
} {
  assert.ok(answer.kind === 'error', `expected an error, got ${JSON.stringify(answer)}`);
  return {
    errorType: answer.errorType,
    body: JSON.parse(answer.body.toString('utf8')) as Record<string, unknown>,
  };
}

/** Stdout lines written from `offset` on. */
function linesFrom(stdout: string, offset: number): string[] {
  return stdout.slice(offset).split('\n');
}

/** 1-based number of the first line of `source` containing `text`. */
function lineOf(source: string, text: string): number {
  const index = source.split('\n').findIndex((line) => line.includes(text));
  assert.ok(index >= 0, `fixture has no line with ${text}`);
  return index + 1;
}

const APP_PY = [
  'import logging',
  'import os',
  'import sys',
  'from decimal import Decimal',
  '',
  'logger = logging.getLogger("app")',
  'logger.setLevel(logging.INFO)',
  'logger.info("cold start")',
  'invocations = 0',
  '',
  '',
  'class CustomError(Exception):',
  '    pass',
  '',
  '',
  'def fail_deeper(message):',
  '    raise CustomError(message)',
  '',
  '',
  'def handler(event, context):',
  '    global invocations',
  '    invocations += 1',
  '    case = event.get("case") if isinstance(event, dict) else None',
  '    if case == "echo":',
  '        return event["value"]',
  '    if case == "none":',
  '        return None',
  '    if case == "decimal":',
  '        return [Decimal("1.5"), Decimal("10"), Decimal("-0.25")]',
  '    if case == "context":',
  '        client_context = context.client_context',
  '        return {',
  '            "function_name": context.function_name,',
  '            "function_version": context.function_version,',
  '            "invoked_function_arn": context.invoked_function_arn,',
  '            "memory_limit_in_mb": context.memory_limit_in_mb,',
  '            "aws_request_id": context.aws_request_id,',
  '            "log_group_name": context.log_group_name,',
  '            "log_stream_name": context.log_stream_name,',
  '            "remaining": context.get_remaining_time_in_millis(),',
  '            "identity": [',
  '                context.identity.cognito_identity_id,',
  '                context.identity.cognito_identity_pool_id,',
  '            ],',
  '            "client_context": None if client_context is None else {',
  '                "client": [',
  '                    client_context.client.installation_id,',
  '                    client_context.client.app_title,',
  '                    client_context.client.app_version_name,',
  '                    client_context.client.app_version_code,',
  '                    client_context.client.app_package_name,',
  '                ],',
  '                "custom": client_context.custom,',
  '                "env": client_context.env,',
  '            },',
  '            "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),',
  '            "sys_path": sys.path[:2],',
  '        }',
  '    if case == "raise":',
  '        fail_deeper(event["message"])',
  '    if case == "unserialisable":',
  '        return {"tags": {"a"}}',
  '    if case == "print":',
  '        print("first line")',
  '        print("second\\nthird")',
  '        return "printed"',
  '    if case == "log":',
  '        logger.info("info record")',
  '        logger.debug("debug record")',
  '        logger.warning("multi\\nline warning")',
  '        try:',
  '            1 / 0',
  '        except ZeroDivisionError:',
  '            logger.exception("caught it")',
  '        return "logged"',
  '    if case == "warm":',
  '        return {"pid": os.getpid(), "invocations": invocations}',
  '    if case == "exit":',
  '        sys.exit(event["code"])',
  '    if case == "big":',
  '        return "x" * event["size"]',
  '    if case == "bytes":',
  '        return b"\\x00raw bytes\\xff"',
  '    if case == "socket":',
  '        return "LAMINA_RUNTIME_SOCKET" in os.environ',
  '    return {"event": event}',
  '',
].join('\n');

/** Logs at every level from a logger with no level of its own (the root logger's level rules). */
const LEVELS_PY = [
  'import logging',
  '',
  'log = logging.getLogger("levels")',
  '',
  '',
  'def handler(event, context):',
  '    if event.get("raise"):',
  '        raise KeyError("missing")',
  '    log.debug("debug record")',
  '    log.info("info record")',
  '    log.warning("warning record")',
  '    log.error("error record", extra={"orderId": 42})',
  '    try:',
  '        raise ValueError("boom")',
  '    except ValueError:',
  '        log.exception("with traceback")',
  '    return "done"',
  '',
].join('\n');

describe('python RIC: a warm environment', LIMIT, () => {
  const env = new PythonEnvironment({ 'app.py': APP_PY });
  before(() => env.startReady({ handler: 'app.handler' }));
  after(() => env.stop());

  test('returns dict, list, str and number results as JSON', async () => {
    for (const value of [{ a: 1, nested: { b: [true, null] } }, [1, 'two', 3.5], 'héllo ✓', 42]) {
      assert.deepEqual(responseJson((await env.invoke({ case: 'echo', value })).answer), value);
    }
  });

  test('bytes results go out as they are, as application/unknown', async () => {
    const { answer } = await env.invoke({ case: 'bytes' });
    assert.ok(answer.kind === 'response');
    assert.equal(answer.contentType, 'application/unknown');
    assert.deepEqual(answer.body, Buffer.from('\u0000raw bytes\u00ff', 'latin1'));
  });

  test("the function does not see Lamina's runtime socket variable", async () => {
    assert.equal(responseJson((await env.invoke({ case: 'socket' })).answer), false);
  });

  test('None becomes null', async () => {
    const { answer } = await env.invoke({ case: 'none' });
    assert.ok(answer.kind === 'response');
    assert.equal(answer.body.toString(), 'null');
  });

  test('Decimal results become JSON numbers', async () => {
    const { answer } = await env.invoke({ case: 'decimal' });
    assert.deepEqual(responseJson(answer), [1.5, 10, -0.25]);
  });

  test('context carries the environment, the invoke headers and the remaining time', async () => {
    const { requestId, answer } = await env.invoke({ case: 'context' });
    const result = responseJson(answer) as Record<string, unknown>;
    const remaining = result['remaining'];
    assert.ok(typeof remaining === 'number' && remaining > 50_000 && remaining <= 60_000);
    assert.deepEqual(
      { ...result, remaining: 'checked' },
      {
        function_name: 'py-fixture',
        function_version: '$LATEST',
        invoked_function_arn: FUNCTION_ARN,
        memory_limit_in_mb: '256',
        aws_request_id: requestId,
        log_group_name: '/aws/lambda/py-fixture',
        log_stream_name: '2026/01/01/[$LATEST]0123456789abcdef',
        remaining: 'checked',
        identity: [null, null],
        client_context: null,
        trace_id: TRACE_ID,
        sys_path: [env.dir, RUNTIME_DIR],
      },
    );
  });

  test('remaining time follows the deadline of each invocation', async () => {
    const { answer } = await env.invoke({ case: 'context' }, { deadlineMs: Date.now() + 1500 });
    const remaining = (responseJson(answer) as Record<string, unknown>)['remaining'];
    assert.ok(
      typeof remaining === 'number' && remaining > 0 && remaining <= 1500,
      String(remaining),
    );
  });

  test('client context and Cognito identity reach context.client_context and identity', async () => {
    const clientContext = {
      client: {
        installation_id: 'install-1',
        app_title: 'My App',
        app_version_name: '1.2',
        app_version_code: '12',
        app_package_name: 'com.example.app',
      },
      custom: { tier: 'gold' },
      env: { platform: 'Android', locale: 'en_US' },
    };
    const { answer } = await env.invoke(
      { case: 'context' },
      {
        clientContext: JSON.stringify(clientContext),
        cognitoIdentity: JSON.stringify({
          cognitoIdentityId: 'us-east-1:identity-1',
          cognitoIdentityPoolId: 'us-east-1:pool-1',
        }),
      },
    );
    const result = responseJson(answer) as Record<string, unknown>;
    assert.deepEqual(result['identity'], ['us-east-1:identity-1', 'us-east-1:pool-1']);
    assert.deepEqual(result['client_context'], {
      client: ['install-1', 'My App', '1.2', '12', 'com.example.app'],
      custom: { tier: 'gold' },
      env: { platform: 'Android', locale: 'en_US' },
    });
  });

  test('an exception becomes Lambda’s Python error payload and an [ERROR] log record', async () => {
    const offset = env.stdout().length;
    const { requestId, answer } = await env.invoke({ case: 'raise', message: 'card declined' });
    const { errorType, body } = errorJson(answer);
    assert.equal(errorType, 'CustomError');
    const file = join(env.dir, 'app.py');
    const frames = [
      `  File "${file}", line ${lineOf(APP_PY, 'fail_deeper(event')}, in handler\n    fail_deeper(event["message"])\n`,
      `  File "${file}", line ${lineOf(APP_PY, 'raise CustomError')}, in fail_deeper\n    raise CustomError(message)\n`,
    ];
    assert.deepEqual(body, {
      errorMessage: 'card declined',
      errorType: 'CustomError',
      requestId,
      stackTrace: frames,
    });
    assert.deepEqual(Object.keys(body), ['errorMessage', 'errorType', 'requestId', 'stackTrace']);

    const stdout = await env.waitForStdout((out) => out.includes('in fail_deeper', offset));
    const record = linesFrom(stdout, offset).find((line) => line.startsWith('[ERROR] CustomError'));
    const nbsp = '\u00a0';
    assert.equal(
      record,
      [
        '[ERROR] CustomError: card declined',
        'Traceback (most recent call last):',
        `${nbsp.repeat(2)}File "${file}", line ${lineOf(APP_PY, 'fail_deeper(event')}, in handler`,
        `${nbsp.repeat(4)}fail_deeper(event["message"])`,
        `${nbsp.repeat(2)}File "${file}", line ${lineOf(APP_PY, 'raise CustomError')}, in fail_deeper`,
        `${nbsp.repeat(4)}raise CustomError(message)`,
      ].join('\r'),
    );
  });

  test('a result json cannot encode is a Runtime.MarshalError', async () => {
    const { requestId, answer } = await env.invoke({ case: 'unserialisable' });
    const { errorType, body } = errorJson(answer);
    assert.equal(errorType, 'Runtime.MarshalError');
    assert.deepEqual(body, {
      errorMessage: 'Unable to marshal response: Object of type set is not JSON serializable',
      errorType: 'Runtime.MarshalError',
      requestId,
      stackTrace: [],
    });
  });

  test('a payload that is not JSON is a Runtime.UnmarshalError', async () => {
    const { requestId, answer } = await env.invoke(Buffer.from('not json'));
    const { errorType, body } = errorJson(answer);
    assert.equal(errorType, 'Runtime.UnmarshalError');
    assert.deepEqual(body, {
      errorMessage: 'Unable to unmarshal input: Expecting value: line 1 column 1 (char 0)',
      errorType: 'Runtime.UnmarshalError',
      requestId,
      stackTrace: [],
    });
  });

  test('print() output reaches stdout as is', async () => {
    const offset = env.stdout().length;
    assert.equal(responseJson((await env.invoke({ case: 'print' })).answer), 'printed');
    const stdout = await env.waitForStdout((out) => out.includes('third\n', offset));
    // Another invocation's late log lines may come first: the three lines must be consecutive.
    const lines = linesFrom(stdout, offset);
    const first = lines.indexOf('first line');
    assert.deepEqual(lines.slice(first, first + 4), ['first line', 'second', 'third', '']);
  });

  test('logging records use the Text format, one line each, with the request id', async () => {
    const offset = env.stdout().length;
    const { requestId, answer } = await env.invoke({ case: 'log' });
    assert.equal(responseJson(answer), 'logged');
    const stdout = await env.waitForStdout((out) => out.includes('division by zero', offset));
    const records = linesFrom(stdout, offset)
      .map((line) => TEXT_LINE.exec(line))
      .filter((match) => match?.[3] === requestId)
      .map((match) => ({ level: match?.[1], id: match?.[3], message: match?.[4] }));
    assert.deepEqual(records.slice(0, 2), [
      { level: 'INFO', id: requestId, message: 'info record' },
      { level: 'WARNING', id: requestId, message: 'multi\rline warning' },
    ]);
    assert.equal(records.length, 3, 'the DEBUG record is below the logger level');
    const exception = records[2];
    assert.equal(exception?.level, 'ERROR');
    assert.match(
      exception?.message ?? '',
      /^caught it\rTraceback \(most recent call last\):\r {2}File ".*app\.py", line \d+, in handler\r.*\rZeroDivisionError: division by zero$/s,
    );
  });

  test('a record logged while the module was imported has an empty request id', () => {
    const line = env.stdout().split('\n')[0] ?? '';
    const match = TEXT_LINE.exec(line);
    assert.ok(match !== null, line);
    assert.deepEqual([match[1], match[3], match[4]], ['INFO', '', 'cold start']);
  });

  test('invocations reuse the same warm process and module state', async () => {
    const first = responseJson((await env.invoke({ case: 'warm' })).answer) as Record<
      string,
      number
    >;
    const second = responseJson((await env.invoke({ case: 'warm' })).answer) as Record<
      string,
      number
    >;
    assert.equal(second['pid'], first['pid']);
    assert.equal(second['invocations'], (first['invocations'] ?? 0) + 1);
  });
});

describe('python RIC: handler location', LIMIT, () => {
  const files = {
    'helper.py': 'GREETING = "hello from the task root"\n',
    'pkg/sub/mod.py': [
      'import helper',
      '',
      '',
      'def handler(event, context):',
      '    return {"greeting": helper.GREETING, "module": __name__}',
      '',
    ].join('\n'),
  };
  for (const handler of ['pkg/sub/mod.handler', 'pkg.sub.mod.handler']) {
    test(`${handler} is found in a package subfolder`, async () => {
      const env = new PythonEnvironment(files);
      try {
        await env.startReady({ handler });
        assert.deepEqual(responseJson((await env.invoke({})).answer), {
          greeting: 'hello from the task root',
          module: 'pkg.sub.mod',
        });
      } finally {
        await env.stop();
      }
    });
  }
});

describe('python RIC: init errors', LIMIT, () => {
  const cases: readonly {
    readonly name: string;
    readonly handler: string;
    readonly errorType: string;
    readonly errorMessage: string | RegExp;
    readonly stackTrace?: (dir: string) => string[];
  }[] = [
    {
      name: 'a handler without a dot',
      handler: 'nodot',
      errorType: 'Runtime.MalformedHandlerName',
      errorMessage: "Bad handler 'nodot': not enough values to unpack (expected 2, got 1)",
    },
    {
      name: 'a module that does not exist',
      handler: 'missing.handler',
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Unable to import module 'missing': No module named 'missing'",
    },
    {
      name: 'a module whose own import fails',
      handler: 'needs_dep.handler',
      errorType: 'Runtime.ImportModuleError',
      errorMessage: "Unable to import module 'needs_dep': No module named 'not_installed'",
    },
    {
      name: 'a syntax error',
      handler: 'broken.handler',
      errorType: 'Runtime.UserCodeSyntaxError',
      errorMessage: /^Syntax error in module 'broken': .*\(broken\.py, line 1\)$/,
      stackTrace: (dir) => [`  File "${dir}/broken.py" Line 1\n    def handler(event, context)\n`],
    },
    {
      name: 'a missing function',
      handler: 'app.nope',
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: "Handler 'nope' missing on module 'app'",
    },
    {
      name: 'a built-in module',
      handler: 'sys.handler',
      errorType: 'Runtime.BuiltInModuleConflict',
      errorMessage: 'Cannot use built-in module sys as a handler module',
    },
    {
      name: 'an exception raised while importing',
      handler: 'startup.handler',
      errorType: 'Exception',
      errorMessage: 'Runtime startup fails',
    },
  ];
  const files = {
    'app.py': APP_PY,
    'broken.py': 'def handler(event, context)\n    return 1\n',
    'needs_dep.py': 'import not_installed\n',
    'startup.py': 'raise Exception("Runtime startup fails")\n',
  };

  for (const { name, handler, errorType, errorMessage, stackTrace } of cases) {
    test(`${name} is reported as ${errorType}, then the process exits 1`, async () => {
      const env = new PythonEnvironment(files);
      try {
        const readiness = await env.start({ handler });
        assert.ok(readiness.kind === 'init-error', `expected an init error: ${readiness.kind}`);
        assert.equal(readiness.failure.errorType, errorType);
        const body = JSON.parse(readiness.failure.body.toString('utf8')) as Record<string, unknown>;
        assert.deepEqual(Object.keys(body), [
          'errorMessage',
          'errorType',
          'requestId',
          'stackTrace',
        ]);
        if (typeof errorMessage === 'string') assert.equal(body['errorMessage'], errorMessage);
        else assert.match(String(body['errorMessage']), errorMessage);
        assert.equal(body['errorType'], errorType);
        assert.equal(body['requestId'], '');
        if (errorType === 'Exception') {
          const frames = body['stackTrace'] as string[];
          assert.match(frames[0] ?? '', /importlib\/__init__\.py", line \d+, in import_module\n/);
          assert.equal(
            frames.at(-1),
            `  File "${env.dir}/startup.py", line 1, in <module>\n    raise Exception("Runtime startup fails")\n`,
          );
        } else {
          assert.deepEqual(body['stackTrace'], stackTrace?.(env.dir) ?? []);
        }
        assert.equal(await env.exited(), 1);
        const lines = env.stdout().split('\n');
        const warning = lines.findIndex((line) => line.includes('LAMBDA_WARNING'));
        assert.match(
          lines[warning] ?? '',
          /^\[WARNING\]\t\S+\t\tLAMBDA_WARNING: Unhandled exception\./,
        );
        assert.ok(lines[warning + 1]?.startsWith(`[ERROR] ${errorType}: `), lines[warning + 1]);
      } finally {
        await env.stop();
      }
    });
  }

  test('sys.exit() while importing ends the process without an init error', async () => {
    const env = new PythonEnvironment({ 'quits.py': 'import sys\nsys.exit(3)\n' });
    try {
      assert.deepEqual(await env.start({ handler: 'quits.handler' }), { kind: 'exit', code: 3 });
    } finally {
      await env.stop();
    }
  });
});

describe('python RIC: the process ends or refuses', LIMIT, () => {
  test('sys.exit() in the handler answers Runtime.ExitError and ends the process', async () => {
    const env = new PythonEnvironment({ 'app.py': APP_PY });
    try {
      await env.startReady({ handler: 'app.handler' });
      const { requestId, answer } = await env.invoke({ case: 'exit', code: 3 });
      const { errorType, body } = errorJson(answer);
      assert.equal(errorType, 'Runtime.ExitError');
      assert.deepEqual(body, {
        errorType: 'Runtime.ExitError',
        errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status 3`,
      });
      assert.equal(await env.exited(), 3);
    } finally {
      await env.stop();
    }
  });

  test('a runtime socket that cannot be reached ends the runtime: no fallback to HTTP', async () => {
    const env = new PythonEnvironment({ 'app.py': APP_PY });
    try {
      const readiness = await env.start({
        handler: 'app.handler',
        env: { LAMINA_RUNTIME_SOCKET: join(env.dir, 'missing.sock') },
      });
      assert.deepEqual(readiness, { kind: 'exit', code: 1 });
      assert.equal(env.server.openChannels, 0);
    } finally {
      await env.stop();
    }
  });

  test('a response over the size limit is refused, and the runtime keeps serving', async () => {
    const env = new PythonEnvironment({ 'app.py': APP_PY }, 1024);
    try {
      await env.startReady({ handler: 'app.handler' });
      const tooLarge = await env.invoke({ case: 'big', size: 200_000 });
      assert.equal(tooLarge.answer.kind, 'too-large');
      const next = await env.invoke({ case: 'echo', value: 'still here' });
      assert.equal(responseJson(next.answer), 'still here');
    } finally {
      await env.stop();
    }
  });
});

describe('python RIC: log format and level', LIMIT, () => {
  async function logsOf(
    env: Readonly<Record<string, string>>,
    event: unknown = {},
  ): Promise<{ requestId: string; answer: RuntimeAnswer; lines: string[]; dir: string }> {
    const environment = new PythonEnvironment({ 'levels.py': LEVELS_PY });
    try {
      await environment.startReady({ handler: 'levels.handler', env });
      const { requestId, answer } = await environment.invoke(event);
      const marker = answer.kind === 'response' ? 'with traceback' : 'KeyError';
      const stdout = await environment.waitForStdout((out) => out.includes(marker));
      return { requestId, answer, lines: stdout.split('\n').filter(Boolean), dir: environment.dir };
    } finally {
      await environment.stop();
    }
  }

  test('Text without AWS_LAMBDA_LOG_LEVEL keeps Python’s WARNING default', async () => {
    const { lines } = await logsOf({});
    const levels = lines.map((line) => TEXT_LINE.exec(line)?.[1]);
    assert.deepEqual(levels, ['WARNING', 'ERROR', 'ERROR']);
  });

  test('JSON with AWS_LAMBDA_LOG_LEVEL=TRACE logs everything as structured records', async () => {
    const { requestId, lines, dir } = await logsOf({
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_LOG_LEVEL: 'TRACE',
    });
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      records.map((record) => [record['level'], record['message']]),
      [
        ['DEBUG', 'debug record'],
        ['INFO', 'info record'],
        ['WARNING', 'warning record'],
        ['ERROR', 'error record'],
        ['ERROR', 'with traceback'],
      ],
    );
    for (const record of records) {
      assert.match(String(record['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(record['logger'], 'levels');
      assert.equal(record['requestId'], requestId);
    }
    assert.deepEqual(Object.keys(records[0] ?? {}), [
      'timestamp',
      'level',
      'message',
      'logger',
      'requestId',
    ]);
    assert.equal(records[3]?.['orderId'], 42);
    const withTrace = records[4] ?? {};
    assert.equal(withTrace['errorType'], 'ValueError');
    assert.equal(withTrace['errorMessage'], 'boom');
    assert.equal(
      withTrace['location'],
      `${dir}/levels.py:handler:${lineOf(LEVELS_PY, 'log.exception')}`,
    );
    assert.deepEqual(withTrace['stackTrace'], [
      `  File "${dir}/levels.py", line ${lineOf(LEVELS_PY, 'raise ValueError')}, in handler\n    raise ValueError("boom")\n`,
    ]);
  });

  test('JSON with AWS_LAMBDA_LOG_LEVEL=ERROR filters out lower levels', async () => {
    const { lines } = await logsOf({
      AWS_LAMBDA_LOG_FORMAT: 'JSON',
      AWS_LAMBDA_LOG_LEVEL: 'ERROR',
    });
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      records.map((record) => record['message']),
      ['error record', 'with traceback'],
    );
  });

  test('JSON format logs an unhandled exception as a JSON error record', async () => {
    const { requestId, answer, lines } = await logsOf(
      { AWS_LAMBDA_LOG_FORMAT: 'JSON' },
      { raise: true },
    );
    assert.equal(errorJson(answer).body['errorMessage'], "'missing'");
    const record = JSON.parse(lines.at(-1) ?? '') as Record<string, unknown>;
    assert.match(String(record['timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(
      { ...record, timestamp: 'checked', stackTrace: 'checked' },
      {
        timestamp: 'checked',
        log_level: 'ERROR',
        errorMessage: "'missing'",
        errorType: 'KeyError',
        requestId,
        stackTrace: 'checked',
      },
    );
  });
});
