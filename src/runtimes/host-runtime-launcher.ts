/**
 * How each runtime id starts inside an environment: Node.js (an installed official release of the
 * runtime's major, or the platform's own binary for its major, shown at /var/lang) with Lamina's
 * client in runtimes/nodejs and the AWS SDK bundle at /var/runtime/node_modules, python3.X from
 * /usr/bin with Lamina's client in runtimes/python, and `provided.*` running the function's own
 * `bootstrap`.
 */
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LambdaError } from '../core/errors.js';
import { RUNTIME_API_SOCKET } from '../environment/environment-variables.js';
import type { RuntimeLauncher, RuntimeLaunch } from '../environment/ports.js';

/** Where an installed runtime version lives (none: the platform's own Node.js). */
export type RuntimeLocator = (
  runtime: string,
  version: string | undefined,
) =>
  | { readonly version: string; readonly arn: string; readonly home?: string | undefined }
  | undefined;

export class HostRuntimeLauncher implements RuntimeLauncher {
  readonly #clientsDir: string;
  readonly #locate: RuntimeLocator;
  readonly #modulesDir: string | undefined;
  readonly #nodeHome: string;

  /**
   * `clientsDir` holds `nodejs/` and `python/` (the runtime clients); `modulesDir`, the AWS SDK
   * bundle's node_modules shown at /var/runtime/node_modules (none: the Lambda client the clients
   * folder carries).
   */
  constructor(clientsDir: string, locate: RuntimeLocator = () => undefined, modulesDir?: string) {
    this.#clientsDir = clientsDir;
    this.#locate = locate;
    this.#modulesDir = modulesDir;
    // …/bin/node → the install prefix, shown at /var/lang so /var/lang/bin/node is this binary.
    this.#nodeHome = dirname(dirname(realpathSync(process.execPath)));
  }

  launch(runtime: string, version?: string): RuntimeLaunch {
    if (runtime.startsWith('nodejs')) {
      const located = this.#locate(runtime, version);
      // Without a release of its own, a runtime runs on the platform's Node.js only when that is
      // its major (a function whose runtime was removed must not run on another major).
      if (located === undefined && runtime !== `nodejs${process.versions.node.split('.')[0]}.x`)
        throw new LambdaError(
          'InvalidRuntimeException',
          `The runtime ${runtime} of this function has no installed release on this Lamina server: ` +
            `npx lamina runtimes install ${runtime} adds one.`,
        );
      const release = located?.version ?? process.versions.node;
      const [major = '20', minor = '0'] = release.split('.');
      return {
        command: ['/var/lang/bin/node', '/var/runtime/index.mjs'],
        runtimeDir: join(this.#clientsDir, 'nodejs'),
        modulesDir: this.#modulesDir,
        langDir: located?.home ?? this.#nodeHome,
        entrypoints: [],
        prestart: true,
        env: {
          AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
          // Lamina's client takes the runtime channel (and removes the variable before user code).
          LAMINA_RUNTIME_SOCKET: RUNTIME_API_SOCKET,
          NODE_PATH: `/opt/nodejs/node${major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task`,
        },
        runtimeVersion: `nodejs:${major}.v${minor}`,
        runtimeVersionArn: located?.arn ?? '',
      };
    }
    const python = /^python(3\.\d+)$/.exec(runtime);
    if (python !== null) {
      const line = python[1] ?? '3';
      const located = this.#locate(runtime, version);
      return {
        command: [`/usr/bin/python${line}`, '/var/runtime/bootstrap.py'],
        runtimeDir: join(this.#clientsDir, 'python'),
        langDir: undefined,
        entrypoints: [],
        prestart: true,
        env: {
          AWS_EXECUTION_ENV: `AWS_Lambda_${runtime}`,
          // Lamina's client takes the runtime channel (and removes the variable before user code).
          LAMINA_RUNTIME_SOCKET: RUNTIME_API_SOCKET,
          PYTHONPATH: `/var/runtime:/opt/python/lib/python${line}/site-packages:/opt/python`,
          LC_CTYPE: 'C.UTF-8',
        },
        runtimeVersion: `python:${line}.v${located?.version.split('.')[2] ?? '1'}`,
        runtimeVersionArn: located?.arn ?? '',
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
      runtimeVersionArn: this.#locate(runtime, version)?.arn ?? '',
    };
  }
}
