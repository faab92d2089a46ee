/**
 * The contract every SandboxDriver keeps, run against both: bubblewrap + cgroups and plain
 * processes. An environment sees its code at /var/task, its layers at /opt and the interpreter at
 * /var/lang, reaches the Runtime API at AWS_LAMBDA_RUNTIME_API and at LAMINA_RUNTIME_SOCKET and
 * the Lamina API at 127.0.0.1:9002; the platform reaches into it through the inbound socket;
 * external extensions start first, apart from the runtime's private variables and its output, and
 * the runtime waits for its go; variables handed over later are translated; freeze, thaw and kill act on it.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { Sandbox, SandboxSpec } from '../../src/environment/sandbox-driver.js';
import { openBwrapHost } from '../../src/server/bwrap-host.js';
import { openPlainProcessHost } from '../../src/server/plain-process-host.js';
import { sandboxPassage, sandboxSocket } from '../../src/server/private-folders.js';
import type { SandboxHost } from '../../src/server/sandbox-host.js';
import { tempDir } from '../helpers/server-process.js';

/** Lines an environment printed, with a wait for one that matches (event-driven). */
class Lines {
  readonly all: string[] = [];
  #waiters: Array<{ match: RegExp; resolve: (line: string) => void }> = [];
  readonly push = (line: string): void => {
    this.all.push(line);
    for (const waiter of [...this.#waiters]) {
      if (!waiter.match.test(line)) continue;
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  };
  waitFor(match: RegExp): Promise<string> {
    const seen = this.all.find((line) => match.test(line));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
}

/** The platform's side of one environment: its three sockets, answering as the test says. */
class PlatformSide {
  readonly dir: string;
  readonly runtimeSocket: string;
  readonly apiSocket: string;
  readonly inboundSocket: string;
  readonly #servers: Server[] = [];
  readonly #offered: Socket[] = [];
  #offerWaiters: Array<(socket: Socket) => void> = [];
  /** Requests to /hold wait until this resolves. */
  hold: Promise<void> = Promise.resolve();

  constructor(host: SandboxHost, id: string, answer: (path: string) => string) {
    this.dir = join(host.runDir, 'contract', id);
    sandboxPassage(dirname(this.dir), host.identity);
    sandboxPassage(this.dir, host.identity);
    this.runtimeSocket = join(this.dir, 'runtime.sock');
    this.apiSocket = join(this.dir, 'api.sock');
    this.inboundSocket = join(this.dir, 'inbound.sock');
    const http = (name: string) =>
      createHttpServer((req: IncomingMessage, res: ServerResponse) => {
        const path = req.url ?? '/';
        void this.hold.then(() => res.end(path === '/ping' ? `pong from ${name}` : answer(path)));
      });
    this.#servers.push(http('runtime'), http('api'));
    const inbound = createServer((socket) => {
      const waiter = this.#offerWaiters.shift();
      if (waiter !== undefined) waiter(socket);
      else this.#offered.push(socket);
    });
    this.#servers.push(inbound);
  }

  async listen(host: SandboxHost): Promise<void> {
    const paths = [this.runtimeSocket, this.apiSocket, this.inboundSocket];
    await Promise.all(
      this.#servers.map(
        (server, i) =>
          new Promise<void>((resolve) => server.listen(paths[i] as string, () => resolve())),
      ),
    );
    for (const path of paths) sandboxSocket(path, host.identity);
  }

  /** The next connection the environment offers into itself. */
  offered(): Promise<Socket> {
    const ready = this.#offered.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.#offerWaiters.push(resolve));
  }

  close(): void {
    for (const socket of this.#offered) socket.destroy();
    for (const server of this.#servers) {
      server.close();
      (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    }
  }
}

const NODE_PREFIX = dirname(dirname(process.execPath));
const PATH = '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin';

/** Runs a Node.js script inside the environment (the interpreter at /var/lang). */
function nodeCommand(script: string): string[] {
  return ['/var/lang/bin/node', '-e', script];
}

const drivers: Array<[string, () => Promise<SandboxHost>]> = [
  [
    'bubblewrap',
    () =>
      openBwrapHost({
        dataDir: tempDir().path,
        cpuColocation: false,
        cpuColocationReleaseMs: 1000,
        environmentProcessLimit: undefined,
        functionNetwork: true,
        functionDeny: [],
        functionDns: undefined,
        logger: pino({ level: 'silent' }),
      }),
  ],
  ['plain processes', () => openPlainProcessHost()],
];

for (const [name, open] of drivers) {
  describe(`sandbox driver contract: ${name}`, () => {
    let host: SandboxHost;
    const files = tempDir();
    const codeDir = join(files.path, 'code');
    const optDir = join(files.path, 'opt');
    const sides: PlatformSide[] = [];
    const sandboxes: Sandbox[] = [];
    let count = 0;

    before(async () => {
      host = await open();
      mkdirSync(codeDir, { mode: 0o755 });
      writeFileSync(join(codeDir, 'hello.txt'), 'code at /var/task\n', { mode: 0o644 });
      mkdirSync(join(optDir, 'extensions'), { recursive: true, mode: 0o755 });
      chmodSync(optDir, 0o755);
      writeFileSync(
        join(optDir, 'extensions', 'ext'),
        '#!/bin/sh\necho "ext sees handler=[$_HANDLER] greeting=$GREETING"\nexit 3\n',
        { mode: 0o755 },
      );
      writeFileSync(join(optDir, 'extensions', 'broken'), 'not executable\n', { mode: 0o644 });
      writeFileSync(join(optDir, 'layer.txt'), 'layer at /opt\n', { mode: 0o644 });
    });

    after(async () => {
      await Promise.all(sandboxes.map((sandbox) => sandbox.kill()));
      for (const side of sides) side.close();
      await host.close();
      files.remove();
    });

    /** Starts an environment running `command`, with or without the layer's extensions. */
    async function start(
      command: readonly string[],
      options: {
        withOpt?: boolean;
        env?: Record<string, string>;
        answer?: (path: string) => string;
      } = {},
    ) {
      count += 1;
      const id = `contract${count}`;
      const side = new PlatformSide(host, id, options.answer ?? (() => 'no answer'));
      sides.push(side);
      await side.listen(host);
      const output = new Lines();
      const extensionOutput = new Lines();
      const spec: SandboxSpec = {
        id: `${id}-${process.pid}`,
        codeDir,
        optDir: options.withOpt === true ? optDir : undefined,
        runtimeDir: undefined,
        langDir: NODE_PREFIX,
        command,
        env: {
          PATH,
          AWS_LAMBDA_RUNTIME_API: '127.0.0.1:9001',
          LAMINA_RUNTIME_SOCKET: '/run/lamina/runtime.sock',
          _HANDLER: 'index.handler',
          ...options.env,
        },
        memoryMiB: 128,
        ephemeralStorageMiB: 512,
        runtimeApiSocket: side.runtimeSocket,
        laminaApiSocket: side.apiSocket,
        inboundSocket: side.inboundSocket,
        onOutput: output.push,
        onExtensionOutput: extensionOutput.push,
      };
      const sandbox = await host.driver.start(spec);
      sandboxes.push(sandbox);
      return { sandbox, side, output, extensionOutput };
    }

    test('the command runs with its variables and sees its code at /var/task', async () => {
      const { sandbox, output } = await start(
        ['/bin/sh', '-c', 'echo "greeting=$GREETING"; cat /var/task/hello.txt; exit 7'],
        { env: { GREETING: 'hello' } },
      );
      const exit = await sandbox.exited;
      assert.deepEqual(exit, { code: 7, signal: null, outOfMemory: false });
      await output.waitFor(/^code at/);
      assert.deepEqual(output.all, ['greeting=hello', 'code at /var/task']);
    });

    test('the Runtime API answers at AWS_LAMBDA_RUNTIME_API and at LAMINA_RUNTIME_SOCKET', async () => {
      const { sandbox, output } = await start(
        nodeCommand(`
const http = require('node:http');
const get = (options) => new Promise((resolve) => http.get(options, (res) => {
  let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => resolve(body));
}));
(async () => {
  console.log('tcp: ' + await get('http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/ping'));
  console.log('unix: ' + await get({ socketPath: process.env.LAMINA_RUNTIME_SOCKET, path: '/ping' }));
  console.log('api: ' + await get('http://127.0.0.1:9002/ping'));
})();`),
      );
      assert.equal((await sandbox.exited).code, 0, output.all.join('\n'));
      await output.waitFor(/^api: /);
      assert.deepEqual(output.all, [
        'tcp: pong from runtime',
        'unix: pong from runtime',
        'api: pong from api',
      ]);
    });

    test('the platform reaches a port inside through the inbound socket', async () => {
      // A port free on the host's loopback (plain processes share it; a jail has its own).
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
      const port = (probe.address() as { port: number }).port;
      await new Promise((resolve) => probe.close(resolve));
      const { output, side } = await start(
        nodeCommand(`
require('node:net').createServer((socket) => socket.end('inside answers')).listen(${port}, '127.0.0.1', () => console.log('listening'));`),
      );
      await output.waitFor(/^listening$/);
      const socket = await side.offered();
      socket.write(`${port}\n`);
      const answer = await new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
      });
      assert.equal(answer, 'inside answers');
    });

    test('extensions start first, apart, and the runtime waits for its go', async () => {
      const { sandbox, output, extensionOutput } = await start(
        ['/bin/sh', '-c', 'echo runtime started; cat /opt/layer.txt'],
        { withOpt: true, env: { GREETING: 'hi' } },
      );
      const exits = new Map<string, number>();
      const bothExited = new Promise<void>((resolve) =>
        sandbox.onExtensionExit((extension, code) => {
          exits.set(extension, code);
          if (exits.size === 2) resolve();
        }),
      );
      assert.deepEqual([...(await sandbox.extensions)].sort(), ['broken', 'ext']);
      await bothExited;
      assert.deepEqual(Object.fromEntries(exits), { broken: -1, ext: 3 });
      // Its output and its exit come through different pipes: either may be read first.
      await extensionOutput.waitFor(/^ext sees/);
      assert.deepEqual(extensionOutput.all, ['ext sees handler=[] greeting=hi']);
      assert.deepEqual(output.all, [], 'the runtime started before its go');
      sandbox.startRuntime();
      assert.equal((await sandbox.exited).code, 0);
      await output.waitFor(/^layer at/);
      assert.deepEqual(output.all, ['runtime started', 'layer at /opt']);
    });

    test('variables handed over later name what the environment sees', async () => {
      const started: { sandbox?: Sandbox } = {};
      const { sandbox, output } = await start(
        nodeCommand(`
const http = require('node:http');
http.get('http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/variables', (res) => {
  let body = ''; res.on('data', (c) => (body += c));
  res.on('end', () => {
    const v = JSON.parse(body);
    console.log(require('node:fs').readFileSync(v.TASK + '/hello.txt', 'utf8').trim());
    http.get('http://' + v.API + '/ping', (r) => r.on('data', (c) => console.log(String(c))));
  });
});`),
        // Asked for once the runtime runs, which is after `start` has answered.
        {
          answer: () =>
            JSON.stringify(
              started.sandbox?.translate({ TASK: '/var/task', API: '127.0.0.1:9001' }) ?? {},
            ),
        },
      );
      started.sandbox = sandbox;
      assert.equal((await sandbox.exited).code, 0, output.all.join('\n'));
      await output.waitFor(/^pong from runtime$/);
      assert.deepEqual(output.all, ['code at /var/task', 'pong from runtime']);
    });

    test('a frozen environment continues once thawed; kill ends it', async () => {
      const { sandbox, side, output } = await start(
        nodeCommand(`
const http = require('node:http');
console.log('asking');
http.get('http://' + process.env.AWS_LAMBDA_RUNTIME_API + '/hold', (res) => {
  res.on('data', (c) => console.log('answered ' + c));
  res.on('end', () => setInterval(() => {}, 1000));
});`),
        { answer: () => 'late' },
      );
      let release!: () => void;
      side.hold = new Promise((resolve) => (release = resolve));
      await output.waitFor(/^asking$/);
      await sandbox.freeze();
      release();
      await sandbox.thaw();
      await output.waitFor(/^answered late$/);
      assert.ok((await sandbox.maxMemoryUsedMiB()) > 0, 'no peak memory for a running Node.js');
      const exit = await sandbox.kill();
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(exit.outOfMemory, false);
      // Idempotent.
      assert.deepEqual(await sandbox.kill(), exit);
    });
  });
}
