/**
 * The real functions the fuzzers keep deployed, so that fuzzed invokes run code and fuzzed
 * Runtime API requests meet live environments: Node.js, Python and a custom runtime with a shell
 * `bootstrap` (curl against the Runtime API, as a hand-written runtime would).
 */
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, type DeployOptions } from '../helpers/functions.js';
import type { ZipEntrySpec } from '../helpers/zips.js';

export interface FunctionSpec {
  readonly name: string;
  readonly files: readonly ZipEntrySpec[];
  readonly options: DeployOptions;
}

const node = (name: string, source: string, options: DeployOptions = {}): FunctionSpec => ({
  name,
  files: [{ name: 'index.js', content: source }],
  options: { memorySize: 128, timeout: 10, ...options },
});

export const ECHO_SOURCE =
  'exports.handler = async (event, context) => ({ event, requestId: context.awsRequestId });\n';

/** A custom runtime in shell: fetch the next event, (optionally) wait, post the event back. */
export function shellBootstrap(pauseSeconds: number): string {
  return [
    '#!/bin/sh',
    'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"',
    'while true; do',
    '  curl -sS -D /tmp/headers -o /tmp/event "$API/invocation/next" || exit 1',
    "  ID=$(grep -i '^Lambda-Runtime-Aws-Request-Id:' /tmp/headers | tr -d '[:space:]' | cut -d: -f2)",
    pauseSeconds > 0 ? `  sleep ${pauseSeconds}` : '  :',
    '  curl -sS -X POST "$API/invocation/$ID/response" --data-binary @/tmp/event -o /dev/null',
    'done',
    '',
  ].join('\n');
}

const custom = (name: string, pauseSeconds: number): FunctionSpec => ({
  name,
  files: [{ name: 'bootstrap', content: shellBootstrap(pauseSeconds), mode: 0o100755 }],
  options: {
    runtime: 'provided.al2023',
    handler: 'function.handler',
    memorySize: 128,
    timeout: 10,
  },
});

const python = (name: string, source: string): FunctionSpec => ({
  name,
  files: [{ name: 'handler.py', content: source }],
  options: { runtime: 'python3.11', handler: 'handler.handler', memorySize: 128, timeout: 10 },
});

/** What the Lambda API fuzzer invokes and reconfigures. */
export const LAMBDA_API_FUNCTIONS = {
  stable: [
    node('fz-echo', ECHO_SOURCE),
    node('fz-error', "exports.handler = async () => { throw new Error('fuzz'); };\n"),
    python('fz-py', 'def handler(event, context):\n    return {"event": event}\n'),
    custom('fz-custom', 0),
  ],
  mutable: ['fz-m-0', 'fz-m-1', 'fz-m-2'].map((name) => node(name, ECHO_SOURCE)),
  health: node('fz-health', ECHO_SOURCE),
};

/**
 * What the Runtime API fuzzer keeps busy: invocations that stay open for a while (so that their
 * request ids can be used against the Runtime API), a slow init (so that extensions can register
 * while it lasts), a custom runtime on HTTP.
 */
export const RUNTIME_API_FUNCTIONS = [
  node(
    'rz-wait',
    'exports.handler = async (event) => {\n' +
      '  const ms = Math.min(Number(event && event.ms) || 1000, 5000);\n' +
      '  await new Promise((resolve) => setTimeout(resolve, ms));\n' +
      '  return { waited: ms };\n' +
      '};\n',
  ),
  {
    name: 'rz-slow-init',
    files: [
      {
        name: 'index.mjs',
        content:
          'await new Promise((resolve) => setTimeout(resolve, 2000));\n' +
          'export const handler = async () => { await new Promise((r) => setTimeout(r, 500)); return { ok: true }; };\n',
      },
    ],
    options: { memorySize: 128, timeout: 10 },
  },
  custom('rz-custom', 1),
  python(
    'rz-py',
    'import time\n\ndef handler(event, context):\n    time.sleep(1)\n    return {"ok": True}\n',
  ),
] satisfies FunctionSpec[];

export const RUNTIME_HEALTH_FUNCTION = node('rz-health', ECHO_SOURCE);

export async function deployAll(
  client: LambdaClient,
  specs: readonly FunctionSpec[],
): Promise<void> {
  for (const spec of specs) await deploy(client, spec.name, spec.files, spec.options);
}
