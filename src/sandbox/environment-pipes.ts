/**
 * The platform's end of an environment's pipes, the same for every driver: stdout and stderr, and
 * the extensions' output (descriptor 7), split into lines under one output rate; the extension
 * control (5) and the runtime's go (6) of the script that launches extensions
 * (extension-launch-script.ts).
 */
import { Readable, Writable } from 'node:stream';
import type { SandboxSpec } from '../environment/sandbox-driver.js';
import { ExtensionControl } from './extension-control.js';
import { splitLines } from './line-splitter.js';
import { OutputRate } from './output-rate.js';

/**
 * Starts reading what a program prints on its descriptors (`fds`, this process's ends by number),
 * as `spec` asks; answers the extensions' control.
 */
export function readEnvironmentPipes(fds: readonly unknown[], spec: SandboxSpec): ExtensionControl {
  const control = new ExtensionControl(readable(fds[5]), writable(fds[6]));
  // One rate for the environment: its stdout, stderr and extensions' output together.
  const rate = new OutputRate();
  for (const stream of [readable(fds[1]), readable(fds[2])])
    if (stream !== undefined) splitLines(stream, spec.onOutput, spec.outputGate, rate);
  const extensionOutput = readable(fds[7]);
  if (extensionOutput !== undefined)
    splitLines(extensionOutput, spec.onExtensionOutput ?? spec.onOutput, spec.outputGate, rate);
  return control;
}

function readable(stream: unknown): Readable | undefined {
  return stream instanceof Readable ? stream : undefined;
}

function writable(stream: unknown): Writable | undefined {
  return stream instanceof Writable ? stream : undefined;
}
