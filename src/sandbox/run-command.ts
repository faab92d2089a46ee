/**
 * Runs a program to completion (an argument array, never a shell string built from outside),
 * keeping its stderr. The programs are the platform's own housekeeping (`mkfs.ext4`, `mount`,
 * `umount`) around environments' storage and views.
 *
 * They are started by one long-lived shell rather than by this process: `spawn` forks, and a
 * fork copies this process's page tables on its event loop (10–40 ms for a server of a few
 * hundred MB), a stall every tenant's invoke would feel. The shell forks cheaply and off the event
 * loop; it ends when this process does (its input closes).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

/**
 * The shell's loop: each input line is `<id> <command>`; each command runs in the background and
 * answers `<id> <status> <base64 of its first 2 KB of stderr>`.
 */
const LOOP = [
  'while IFS= read -r line; do',
  '  ( id=${line%% *}; command=${line#* }',
  '    err=$(eval "$command" 2>&1 >/dev/null); status=$?',
  `    printf '%s %s %s\\n' "$id" "$status" "$(printf %s "$err" | head -c 2048 | base64 -w0)" ) &`,
  'done',
].join('\n');

/** Quotes a word for sh (single quotes; a quote inside becomes '\''). */
export function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly describe: string;
}

class CommandShell {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #pending = new Map<number, Pending>();
  #next = 1;
  #buffer = '';
  #dead: Error | undefined;

  constructor() {
    this.#child = spawn('/bin/sh', ['-c', LOOP], { stdio: ['pipe', 'pipe', 'ignore'] });
    // The shell keeps this process alive only while a command is under way (see #hold).
    this.#child.unref();
    for (const stream of [this.#child.stdin, this.#child.stdout])
      stream.on('error', () => undefined);
    this.#hold(false);
    this.#child.stdout.setEncoding('utf8');
    this.#child.stdout.on('data', (text: string) => this.#answers(text));
    this.#child.once('exit', () => this.#fail(new Error('the command shell exited')));
    this.#child.once('error', (error) => this.#fail(error));
  }

  get alive(): boolean {
    return this.#dead === undefined;
  }

  run(file: string, args: readonly string[], cwd: string | undefined): Promise<void> {
    const describe = `${file} ${args.join(' ')}`;
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = this.#next++;
    const command = [cwd === undefined ? '' : `cd ${shellWord(cwd)} &&`, shellWord(file)]
      .concat(args.map(shellWord))
      .filter((part) => part !== '')
      .join(' ');
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, describe });
      this.#hold(true);
      // A command is one line: newlines in words would end it early.
      if (command.includes('\n')) {
        this.#pending.delete(id);
        this.#hold(this.#pending.size > 0);
        reject(new Error(`a command cannot hold a newline: ${describe}`));
        return;
      }
      this.#child.stdin.write(`${id} ${command}\n`);
    });
  }

  #answers(text: string): void {
    this.#buffer += text;
    for (let end = this.#buffer.indexOf('\n'); end >= 0; end = this.#buffer.indexOf('\n')) {
      const [id = '', status = '', said = ''] = this.#buffer.slice(0, end).split(' ');
      this.#buffer = this.#buffer.slice(end + 1);
      const pending = this.#pending.get(Number(id));
      if (pending === undefined) continue;
      this.#pending.delete(Number(id));
      this.#hold(this.#pending.size > 0);
      if (status === '0') {
        pending.resolve();
        continue;
      }
      const stderr = Buffer.from(said, 'base64').toString('utf8').trim().split('\n').join(' | ');
      pending.reject(
        new Error(
          `${pending.describe} failed (status ${status})${stderr === '' ? '' : `: ${stderr}`}`,
        ),
      );
    }
  }

  /** Whether the shell's pipes keep this process's event loop alive. */
  #hold(on: boolean): void {
    for (const stream of [this.#child.stdin, this.#child.stdout]) {
      const handle = stream as unknown as { ref?: () => void; unref?: () => void };
      if (on) handle.ref?.();
      else handle.unref?.();
    }
  }

  #fail(error: Error): void {
    this.#dead ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

let shell: CommandShell | undefined;

/**
 * Runs `file` with `args` (in `cwd`, default this process's) and resolves when it exits with
 * status 0; rejects with its stderr otherwise (or when it cannot be started), so the failure
 * carries the program's own words.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { readonly cwd?: string } = {},
): Promise<void> {
  if (shell === undefined || !shell.alive) shell = new CommandShell();
  return shell.run(file, args, options.cwd);
}
