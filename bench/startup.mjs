// Start-up: how soon Lamina answers after `npm start` on a checkout that is already built, how
// soon the server process is ready after its own launch, and how much memory it holds once idle.
//
//   node bench/startup.mjs [--runs N] [--idle-seconds S]
//
// Prints one JSON object. Each run uses a fresh data directory; the first `npm start` (which may
// build) is not measured. Idle RSS is the server process alone (sandboxes are separate
// processes), read from /proc after S seconds without requests (pre-started sandboxes booted).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { machineInfo } from './machine-info.mjs';
import { summarize } from './stats.mjs';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PORT = 19_731;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'idle-seconds': { type: 'string', default: '10' },
  },
});
const runs = Number(values.runs);
const idleSeconds = Number(values['idle-seconds']);

/** Resolves once anything answers HTTP on the port (any status), polling every 5 ms. */
async function answered(port) {
  for (;;) {
    const ok = await new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET' }, (res) => {
        res.resume();
        resolve(true);
      });
      req.once('error', () => resolve(false));
      req.end();
    });
    if (ok) return;
    await delay(5);
  }
}

/** Starts `command`; `stop()` stops the server it runs and waits for `command` to exit. */
function launch(command, args, dataDir) {
  const child = spawn(command, [...args, '--port', String(PORT), '--data-dir', dataDir], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  const listening = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk.toString();
      if (stdout.includes('Lamina is listening on')) resolve(performance.now());
    });
    child.stderr.resume();
    child.once('exit', (code) => reject(new Error(`${command} exited (${code}): ${stdout}`)));
  });
  listening.catch(() => undefined);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    child,
    listening,
    stop: async () => {
      // The server alone: it stops its sandboxes and unmounts their file systems, then npm ends.
      try {
        process.kill(serverPid(child.pid), 'SIGTERM');
      } catch {
        // already gone
      }
      await exited;
    },
  };
}

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round((kib / 1024) * 10) / 10;
}

/** The node server process under `npm start` (npm → sh → node). */
function serverPid(rootPid) {
  const children = (pid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  };
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift();
    // `node bin/lamina.js server …` (not the `sh -c "… && node bin/lamina.js …"` npm runs).
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (argv[1] === 'bin/lamina.js') return pid;
    queue.push(...children(pid));
  }
  throw new Error('no server process');
}

/** Removes a stopped server's data directory (a file system it unmounted may still be busy). */
async function removeDataDir(dataDir) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    try {
      rmSync(dataDir, { recursive: true, force: true });
      return;
    } catch {
      await delay(50);
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
}

async function once(kind) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lamina-bench-startup-'));
  const started = performance.now();
  const server =
    kind === 'npm'
      ? launch('npm', ['start', '--silent', '--'], dataDir)
      : launch(process.execPath, ['bin/lamina.js', 'server'], dataDir);
  try {
    const listeningAt = await server.listening;
    await answered(PORT);
    const answeredAt = performance.now();
    let idle;
    if (kind === 'server') {
      await delay(idleSeconds * 1000);
      idle = rssMiB(serverPid(server.child.pid));
    }
    return { readyMs: listeningAt - started, answerMs: answeredAt - started, idleRssMiB: idle };
  } finally {
    await server.stop();
    await removeDataDir(dataDir);
  }
}

// Unmeasured: the first start may build or install.
await once('npm');
const npmRuns = [];
const serverRuns = [];
for (let i = 0; i < runs; i += 1) {
  npmRuns.push(await once('npm'));
  serverRuns.push(await once('server'));
}
const rss = serverRuns.map((run) => run.idleRssMiB).sort((a, b) => a - b);
console.log(
  JSON.stringify(
    {
      machine: machineInfo(REPO_ROOT),
      runs,
      npm_start_to_answer: summarize(npmRuns.map((run) => run.answerMs)),
      server_launch_to_ready: summarize(serverRuns.map((run) => run.readyMs)),
      server_launch_to_answer: summarize(serverRuns.map((run) => run.answerMs)),
      idle_seconds: idleSeconds,
      idle_rss_mib: { min: rss[0], median: rss[Math.floor(rss.length / 2)], max: rss.at(-1) },
      targets: { npm_start_ms: 2000, server_ready_ms: 500, idle_rss_mib: 80 },
    },
    null,
    2,
  ),
);
