/**
 * Runs a child process (an argument array, never a shell string) and collects its output, for the
 * runtime store's calls to npm, tar and the installed binaries. A failure is an Error that carries
 * the command and the end of its stderr, so an operator sees why an install stopped.
 */
import { spawn } from 'node:child_process';

/** What a finished command printed. */
export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args…`; resolves when it exits 0, rejects with its stderr otherwise. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.once('error', (error) => reject(new Error(`${command}: ${error.message}`)));
    child.once('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (code === 0) return resolve({ stdout, stderr });
      const tail = stderr.trim().split('\n').slice(-15).join('\n');
      reject(
        new Error(
          `${command} ${args.slice(0, 4).join(' ')}${args.length > 4 ? ' …' : ''} failed ` +
            `(${signal ?? `exit ${String(code)}`})${tail === '' ? '' : `:\n${tail}`}`,
        ),
      );
    });
  });
}
