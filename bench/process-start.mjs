// Times process starts: spawn → exit of a command, one at a time (the cold-start baselines).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const BWRAP = '/usr/bin/bwrap';

function runOnce(command, args) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}`));
    });
  });
}

/** Milliseconds from spawn to exit of one `node -e 0`. */
export function timeNodeStart() {
  return runOnce(process.execPath, ['-e', '0']);
}

/** Milliseconds from spawn to exit for `count` sequential runs (after `warmup` unmeasured ones). */
export async function timeProcessStarts(command, args, count, warmup = 3) {
  for (let i = 0; i < warmup; i += 1) await runOnce(command, args);
  const samples = [];
  for (let i = 0; i < count; i += 1) samples.push(await runOnce(command, args));
  return samples;
}

/** Bare `node -e 0`, and the same inside a bubblewrap jail with Lamina's namespaces, `count` each. */
export async function processStartBaselines(count, onProgress) {
  onProgress?.(`baseline: ${count} × node -e 0`);
  const node = await timeProcessStarts(process.execPath, ['-e', '0'], count);
  if (!existsSync(BWRAP)) return { node, bwrap: undefined };
  onProgress?.(`baseline: ${count} × bwrap --unshare-all … node -e 0`);
  const jail = ['--unshare-all', '--die-with-parent', '--new-session', '--ro-bind', '/', '/'];
  const bwrap = await timeProcessStarts(
    BWRAP,
    [...jail, '--proc', '/proc', '--dev', '/dev', '--', process.execPath, '-e', '0'],
    count,
  );
  return { node, bwrap };
}
