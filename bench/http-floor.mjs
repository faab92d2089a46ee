// The floor of one HTTP hop on this machine: a keep-alive POST from this process to a node:http
// server in another process that answers `null` at once. Two such hops (client → Lamina, Lamina →
// runtime) are on every invoke's path.
import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

const SERVER = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-length': 4 }).end('null'));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/**
 * Starts the floor server in its own process; resolves with { endpoint, port, stop() }. Any
 * request gets `200 null` once its body has arrived (nothing is verified).
 */
export async function startHttpFloorServer() {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise((resolve, reject) => {
      child.stdout.once('data', (chunk) => resolve(Number(chunk.toString().trim())));
      child.once('exit', (code) => reject(new Error(`the echo server exited (${code})`)));
    });
    return { endpoint: `http://127.0.0.1:${port}`, port, stop: () => child.kill('SIGKILL') };
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}

/** Latencies (ms) of `count` sequential round trips after `warmup`. */
export async function measureHttpFloor(count, warmup) {
  const server = await startHttpFloorServer();
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const once = () =>
      new Promise((resolve, reject) => {
        const req = request(
          { agent, host: '127.0.0.1', port: server.port, method: 'POST', path: '/' },
          (res) => {
            res.resume();
            res.on('end', resolve);
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
    const samples = [];
    for (let i = 0; i < warmup + count; i += 1) {
      const started = performance.now();
      await once();
      if (i >= warmup) samples.push(performance.now() - started);
    }
    return samples;
  } finally {
    agent.destroy();
    server.stop();
  }
}
