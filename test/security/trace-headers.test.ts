/**
 * Hostile trace headers (`X-Amzn-Trace-Id`, `traceparent`) on Invoke, Event invokes and function
 * URLs: a megabyte, thousands of `;` fields, control characters, bytes outside ASCII, ids of the
 * wrong length. Each request is answered as it would be without the header (or, past Node.js's
 * 16 KB of headers, with its 431), the function runs in a fresh trace of Lamina's making (the
 * hostile value never reaches it), and the server keeps serving.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { before, describe, test } from 'node:test';
import {
  AddPermissionCommand,
  CreateFunctionUrlConfigCommand,
  InvokeCommand,
} from '@aws-sdk/client-lambda';
import { EventsApi } from '../helpers/async-events.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { traceIdOfXRay, xrayField } from '../helpers/otlp-collector.js';
import { TEST_CREDENTIALS } from '../helpers/server-process.js';
import { useServer } from '../helpers/server-suite.js';
import { PUBLIC_URL, urlRequest } from '../helpers/url-request.js';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const TRACE_ID = '5759e988bd862e3fe1be46a994272793';
const REPORTER = {
  'index.js': 'exports.handler = async () => ({ trace: process.env._X_AMZN_TRACE_ID ?? null });',
};

/** Values a client's HTTP stack will send (printable, or Latin-1 bytes), each to be ignored. */
const SENDABLE: Record<string, Record<string, string>> = {
  'thousands of ; fields': { 'x-amzn-trace-id': `Root=${ROOT};${';'.repeat(12_000)}` },
  'thousands of fields': {
    'x-amzn-trace-id': `Root=${ROOT};${Array.from({ length: 1500 }, (_, i) => `F${i}=1`).join(';')}`,
  },
  '12 KB of Lineage': { 'x-amzn-trace-id': `Root=${ROOT};Lineage=${'a'.repeat(12_000)}` },
  'a Latin-1 byte': { 'x-amzn-trace-id': `Root=${ROOT};Lineage=\u00ff` },
  'a Root of 36 digits': { 'x-amzn-trace-id': `Root=${ROOT}0;Sampled=1` },
  'two Roots': { 'x-amzn-trace-id': `Root=${ROOT};Root=1-00000001-bd862e3fe1be46a994272793` },
  'a traceparent in upper case': {
    traceparent: `00-${TRACE_ID.toUpperCase()}-53995C3F42CD8AD8-01`,
  },
  'a traceparent of version ff': { traceparent: `ff-${TRACE_ID}-53995c3f42cd8ad8-01` },
  'a traceparent of 10 KB': {
    traceparent: `01-${TRACE_ID}-53995c3f42cd8ad8-01-${'x'.repeat(10_000)}`,
  },
};

/** Sends raw bytes to the server and resolves with the status line of its answer. */
function rawStatus(port: number, request: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const end = answer.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(answer.slice(0, end));
      }
    });
    // The server may close while the request is still being written: its answer counts.
    socket.on('error', (error) =>
      answer === '' ? reject(error) : resolve(answer.split('\r\n')[0] ?? ''),
    );
    socket.on('close', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.end(request);
  });
}

describe('hostile trace headers are ignored, and the server keeps serving', () => {
  const suite = useServer();
  let url = '';

  before(async () => {
    await deploy(suite.client, 'reporter', REPORTER);
    const created = await suite.client.send(
      new CreateFunctionUrlConfigCommand({ FunctionName: 'reporter', AuthType: 'NONE' }),
    );
    await suite.client.send(new AddPermissionCommand({ FunctionName: 'reporter', ...PUBLIC_URL }));
    url = created.FunctionUrl ?? '';
  });

  /** The trace the function saw when invoked with `headers` (signed, through the SDK). */
  async function invokedWith(headers: Record<string, string>): Promise<string> {
    const command = new InvokeCommand({ FunctionName: 'reporter' });
    command.middlewareStack.add(
      (next) => async (args) => {
        Object.assign((args.request as { headers: Record<string, string> }).headers, headers);
        return next(args);
      },
      { step: 'build', name: 'hostileTraceHeaders' },
    );
    const output = await suite.client.send(command);
    const text = Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8');
    assert.equal(output.StatusCode, 200, text);
    assert.equal(output.FunctionError, undefined, text);
    return (JSON.parse(text) as { trace: string }).trace;
  }

  /** A fresh trace of Lamina's: a valid header, not the hostile Root, unsampled (PassThrough). */
  function assertFresh(seen: string, what: string): void {
    assert.match(seen, /^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/, what);
    assert.notEqual(traceIdOfXRay(seen), TRACE_ID, what);
  }

  for (const [what, headers] of Object.entries(SENDABLE)) {
    test(`Invoke and a function URL ignore ${what}`, async () => {
      assertFresh(await invokedWith(headers), `Invoke: ${what}`);
      const answer = await urlRequest(url, { headers });
      assert.equal(answer.status, 200, answer.body.toString());
      assertFresh((answer.json() as { trace: string }).trace, `URL: ${what}`);
    });
  }

  test('an Event invoke with a hostile header runs in a trace of its own', async () => {
    const command = new InvokeCommand({ FunctionName: 'reporter', InvocationType: 'Event' });
    command.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amzn-trace-id'] =
          `Root=${ROOT};${';'.repeat(12_000)}Sampled=1`;
        return next(args);
      },
      { step: 'build', name: 'hostileTraceHeader' },
    );
    const accepted = await suite.client.send(command);
    assert.equal(accepted.StatusCode, 202);
    const done = await new EventsApi(suite.server.endpoint, TEST_CREDENTIALS).waitFor(
      accepted.$metadata.requestId ?? '',
      (e) => e.Status === 'Succeeded',
    );
    assertFresh((done.Response as { trace: string }).trace, 'Event');
  });

  test('a megabyte of header is refused by the HTTP layer (431), then the server serves on', async () => {
    const port = Number(new URL(suite.server.endpoint).port);
    const host = new URL(url).host;
    const huge = Buffer.from(
      `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Amzn-Trace-Id: Root=${ROOT};${'a'.repeat(1024 * 1024)}\r\n\r\n`,
      'latin1',
    );
    // The server answers after 16 KB and closes; a client still writing may then be reset before
    // it reads the answer (the race is the client's), so it tries again until it reads one.
    let status: string | undefined;
    for (let attempt = 0; attempt < 10 && status === undefined; attempt += 1) {
      status = await rawStatus(port, huge).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
        return undefined;
      });
    }
    assert.match(status ?? 'every attempt was reset before its answer', /^HTTP\/1\.1 431 /);
    const { body } = await invokeJson(suite.client, 'reporter');
    assertFresh((body as { trace: string }).trace, 'after the megabyte');
  });

  test('control characters are refused by the HTTP layer (400); tabs around fields are not', async () => {
    const port = Number(new URL(suite.server.endpoint).port);
    const host = new URL(url).host;
    for (const control of ['\u0001', '\u001b[31m', '\u007f', '\u0000']) {
      const request = Buffer.from(
        `GET / HTTP/1.1\r\nHost: ${host}\r\nX-Amzn-Trace-Id: Root=${ROOT}${control};Sampled=1\r\nConnection: close\r\n\r\n`,
        'latin1',
      );
      assert.match(await rawStatus(port, request), /^HTTP\/1\.1 400 /, JSON.stringify(control));
    }
    // A tab is legal in a header value: the trace is honoured.
    const answer = await urlRequest(url, {
      headers: { 'x-amzn-trace-id': `Root=${ROOT};\tSampled=1` },
    });
    const seen = (answer.json() as { trace: string }).trace;
    assert.equal(traceIdOfXRay(seen), TRACE_ID);
    assert.equal(xrayField(seen, 'Sampled'), '1');
    const { body } = await invokeJson(suite.client, 'reporter');
    assertFresh((body as { trace: string }).trace, 'after the control characters');
  });
});
