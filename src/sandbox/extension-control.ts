/**
 * The platform's end of the jail shell's extension pipes (see jail-arguments.ts): reads the
 * control lines (`start <name>`, `unlaunchable <name>`, `ready`, `exit <name> <code>`; a file
 * that is not executable is reported as an exit with code -1) and gives the runtime its go.
 */
import type { Readable, Writable } from 'node:stream';

export class ExtensionControl {
  readonly #gate: Writable | undefined;
  readonly #names: string[] = [];
  readonly #exits: Array<[string, number]> = [];
  #listener: ((name: string, code: number) => void) | undefined;
  #announced!: (names: readonly string[]) => void;
  /** The extensions started, once the shell says it started them all (or its pipe closed). */
  readonly extensions = new Promise<readonly string[]>((resolve) => {
    this.#announced = resolve;
  });

  constructor(control: Readable | null | undefined, gate: Writable | null | undefined) {
    this.#gate = gate ?? undefined;
    // The gate is written at most once; a jail that died before reading it must not crash us.
    this.#gate?.on('error', () => undefined);
    if (control === null || control === undefined) {
      this.#announced([]);
      return;
    }
    control.on('error', () => undefined);
    let rest = '';
    control.setEncoding('utf8');
    control.on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) this.#line(line);
    });
    control.on('close', () => this.#announced([...this.#names]));
  }

  /** Lets the runtime start. */
  startRuntime(): void {
    if (this.#gate !== undefined && !this.#gate.writableEnded) this.#gate.end('\n');
  }

  onExit(listener: (name: string, code: number) => void): void {
    this.#listener = listener;
    for (const [name, code] of this.#exits.splice(0)) listener(name, code);
  }

  #line(line: string): void {
    const space = line.indexOf(' ');
    const word = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    if (word === 'start') this.#names.push(rest);
    else if (word === 'unlaunchable') this.#report(rest, -1);
    else if (word === 'ready') this.#announced([...this.#names]);
    else if (word === 'exit') {
      const last = rest.lastIndexOf(' ');
      const name = rest.slice(0, last);
      this.#report(name, Number(rest.slice(last + 1)));
    }
  }

  #report(name: string, code: number): void {
    if (this.#listener === undefined) this.#exits.push([name, code]);
    else this.#listener(name, code);
  }
}
