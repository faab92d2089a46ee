/**
 * How each runtime id starts inside an environment, using this host's interpreters: Node.js (the
 * platform's own binary, shown at /var/lang) with Lamina's client in runtimes/nodejs, python3.X
 * from /usr/bin with Lamina's client in runtimes/python, and `provided.*` running the function's
 * own `bootstrap`.
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RUNTIME_API_SOCKET } from '../environment/environment-variables.js';
import type { RuntimeLauncher, RuntimeLaunch } from '../environment/ports.js';

export class HostRuntimeLauncher implements RuntimeLauncher {
  readonly #clientsDir: string;
  readonly #nodeMajor: string;
  readonly #nodeHome: string;

  /** `clientsDir` holds `nodejs/` and `python/` (the runtime clients). */
  constructor(clientsDir: string) {
    this.#clientsDir = clientsDir;
    this.#nodeMajor = process.versions.node.split('.')[0] ?? '20';
    // …/bin/node → the install prefix, shown at /var/lang so /var/lang/bin/node is this binary.
    this.#nodeHome = dirname(dirname(realpathSync(process.execPath)));
  }

  launch(runtime: string): RuntimeLaunch {
    if (runtime.startsWith('nodejs')) {
      const major = this.#nodeMajor;
      return {
        command: ['/var/lang/bin/node', '/var/runtime/index.mjs'],
        runtimeDir: join(this.#clientsDir, 'nodejs'),
        langDir: this.#nodeHome,
        entrypoints: [],
        prestart: true,
        env: {
          AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
          // Lamina's client takes the runtime channel (and removes the variable before user code).
          LAMINA_RUNTIME_SOCKET: RUNTIME_API_SOCKET,
          NODE_PATH: `/opt/nodejs/node${major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
        },
        runtimeVersion: `nodejs:${major}.v${process.versions.node.split('.')[1] ?? '0'}`,
      };
    }
    const python = /^python(3\.\d+)$/.exec(runtime);
    if (python !== null) {
      const version = python[1] ?? '3';
      return {
        command: [`/usr/bin/python${version}`, '/var/runtime/bootstrap.py'],
        runtimeDir: join(this.#clientsDir, 'python'),
        langDir: undefined,
        entrypoints: [],
        prestart: true,
        env: {
          AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
          // Lamina's client takes the runtime channel (and removes the variable before user code).
          LAMINA_RUNTIME_SOCKET: RUNTIME_API_SOCKET,
          PYTHONPATH: `/var/runtime:/opt/python/lib/python${version}/site-packages:/opt/python`,
          LC_CTYPE: 'C.UTF-8',
        },
        runtimeVersion: `python:${version}.v1`,
      };
    }
    return {
      command: ['/var/task/bootstrap'],
      runtimeDir: undefined,
      langDir: undefined,
      entrypoints: ['bootstrap'],
      prestart: false,
      env: {},
      runtimeVersion: `${runtime.replace('.', ':')}.v1`,
    };
  }
}

/** Python interpreters this host has in /usr/bin (visible inside the jail). */
export function hostPythonRuntimes(): string[] {
  const found: string[] = [];
  for (let minor = 8; minor <= 20; minor += 1) {
    if (existsSync(`/usr/bin/python3.${minor}`)) found.push(`python3.${minor}`);
  }
  return found;
}
