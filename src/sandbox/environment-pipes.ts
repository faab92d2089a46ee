/**
 * The platform's end of an environment's pipes, the same for every driver: stdout and stderr, and
 * the extensions' output (descriptor 7), split into lines under one output rate; the extension
 * control (5) and the runtime's go (6) of the script that launches extensions
 * (extension-launch-script.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import type { SandboxSpec } from '../environment/sandbox-driver.js';
import { ExtensionControl } from './extension-control.js';
import { splitLines } from './line-splitter.js';
import { OutputRate } from './output-rate.js';

/** Starts reading what `child` prints, as `spec` asks; answers the extensions' control. */
export function readEnvironmentPipes(child: ChildProcess, spec: SandboxSpec): ExtensionControl {
  const fds: readonly unknown[] = child.stdio;
  const control = new ExtensionControl(readable(fds[5]), writable(fds[6]));
  // One rate for the environment: its stdout, stderr and extensions' output together.
  const rate = new OutputRate();
  for (const stream of [child.stdout, child.stderr])
    if (stream !== null) splitLines(stream, spec.onOutput, spec.outputGate, rate);
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
