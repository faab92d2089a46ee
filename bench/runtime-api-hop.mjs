// The Runtime API round trip without a sandbox: Lamina's RuntimeApiServer (from dist/) hands
// events to Lamina's real Node.js runtime client (runtimes/nodejs) running a no-op handler as a
// plain host process, either over TCP directly or through a socat TCP→unix-socket relay like the
// one inside every jail. Separates the relay's cost from the HTTP exchange itself.
import { Buffer } from 'node:buffer';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

/** Starts `socat` relaying an ephemeral 127.0.0.1 port to `socketPath`; resolves once it listens. */
function startRelay(socketPath) {
  const relay = spawn(
    'socat',
    ['-d', '-d', 'TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork', `UNIX-CONNECT:${socketPath}`],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let log = '';
    relay.once('error', reject);
    relay.once('exit', (code) => reject(new Error(`socat exited (${code}): ${log}`)));
    relay.stderr.on('data', (chunk) => {
      log += chunk.toString();
      const match = /listening on AF=2 (127\.0\.0\.1:\d+)/.exec(log);
      if (match !== null) resolve({ address: match[1], stop: () => relay.kill('SIGKILL') });
    });
  });
}

/**
 * Median-style samples (ms) of `count` invokes after `warmup`, each from RuntimeApiServer.invoke()
 * to the runtime's answer. `viaSocat` puts the relay between the runtime and the server.
 */
export async function measureRuntimeApiHop(repoRoot, { viaSocat, count, warmup }) {
  const { RuntimeApiServer } = await import(
    pathToFileURL(join(repoRoot, 'dist/src/runtime-api/runtime-api-server.js')).href
  );
  const task = mkdtempSync(join(tmpdir(), 'lamina-bench-hop-'));
  writeFileSync(join(task, 'index.js'), 'exports.handler = async () => null;\n');
  const server = new RuntimeApiServer();
  let relay;
  let runtime;
  try {
    let address;
    if (viaSocat) {
      const socketPath = join(task, 'runtime.sock');
      await server.listen({ path: socketPath });
      relay = await startRelay(socketPath);
      address = relay.address;
    } else {
      address = await server.listen({ host: '127.0.0.1', port: 0 });
    }
    runtime = spawn(process.execPath, [join(repoRoot, 'runtimes/nodejs/index.mjs')], {
      cwd: task,
      env: {
        PATH: process.env.PATH,
        AWS_LAMBDA_RUNTIME_API: address,
        LAMBDA_TASK_ROOT: task,
        _HANDLER: 'index.handler',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise((_, reject) =>
      runtime.once('exit', (code) => reject(new Error(`the runtime client exited (${code})`))),
    );
    await Promise.race([new Promise((resolve) => server.onFirstNext(resolve)), exited]);
    const samples = [];
    for (let i = 0; i < warmup + count; i += 1) {
      const started = performance.now();
      const answer = await Promise.race([
        server.invoke({
          requestId: randomUUID(),
          payload: Buffer.from('{}'),
          deadlineMs: Date.now() + 10_000,
          invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:hop',
          traceId: 'Root=1-00000000-000000000000000000000000;Sampled=0',
        }),
        exited,
      ]);
      if (answer.kind !== 'response') throw new Error(`the runtime answered ${answer.kind}`);
      if (i >= warmup) samples.push(performance.now() - started);
    }
    return samples;
  } finally {
    runtime?.kill('SIGKILL');
    relay?.stop();
    await server.close();
    rmSync(task, { recursive: true, force: true });
  }
}
