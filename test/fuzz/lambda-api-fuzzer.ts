/**
 * Fuzzes the Lambda API of a real `lamina server` process: deploys a pool of functions, sends the
 * cases of lambda-api-cases.ts, and judges every answer. Findings: a 5xx other than AWS's
 * documented function-side 502s (every 500 counts: a fuzzed request is bad input and must get a
 * 4xx), a request unanswered within 30 s, a spoiled signature or an unsigned request accepted, and
 * the checks after the load (process alive, signed ListFunctions, warm invoke, memory).
 */
import { createHash } from 'node:crypto';
import {
  CreateAliasCommand,
  PublishLayerVersionCommand,
  PublishVersionCommand,
} from '@aws-sdk/client-lambda';
import fc from 'fast-check';
import { lambdaClient } from '../helpers/lambda-client.js';
import { buildZip } from '../helpers/zips.js';
import { deployAll, ECHO_SOURCE, LAMBDA_API_FUNCTIONS } from './fuzz-functions.js';
import { CREDENTIALS, startFuzzServer, type FuzzServer } from './fuzz-server.js';
import { FuzzTally, sampleOf, unanswered } from './fuzz-tally.js';
import {
  answerText,
  HttpSender,
  queryString,
  wireBytes,
  type HttpAnswer,
  type HttpCase,
  type Signing,
} from './http-sender.js';
import { lambdaCases, type LambdaCase, type Spoil } from './lambda-api-cases.js';
import { ACCOUNT, REGION, type LambdaPool } from './lambda-api-templates.js';
import { malformedHttp } from './raw-requests.js';
import { sendRaw } from './raw-http.js';
import { caseStream, InFlight, runLoad } from './run-load.js';
import {
  afterLoad,
  deathSuspects,
  setupFailure,
  invokeEcho,
  type TargetRun,
  type TargetReport,
} from './target-report.js';

/** No answer within this long is a hang. */
const HANG_MS = 30_000;
/** The harness's own guard, should a client deadline fail. */
const STUCK_MS = 90_000;

/** The 5xx errors AWS documents as coming from the function's side (lambda-contract.md §2). */
const DOCUMENTED_502 = new Set([
  'ResourceNotReadyException',
  'InvalidRuntimeException',
  'InvalidZipFileException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'EC2AccessDeniedException',
  'EC2ThrottledException',
  'EC2UnexpectedException',
  'ENILimitReachedException',
  'ENINotReadyException',
  'InvalidSubnetIDException',
  'InvalidSecurityGroupIDException',
  'SubnetIPAddressLimitReachedException',
]);

export async function fuzzLambdaApi(run: TargetRun): Promise<TargetReport> {
  const server = await startFuzzServer();
  try {
    const pool = await deployPool(server);
    const tally = new FuzzTally();
    const { cases, untemplated } = lambdaCases(pool);
    const sender = new HttpSender(server.endpoint, {
      connections: run.concurrency,
      timeoutMs: HANG_MS,
    });
    const target = new URL(server.endpoint);
    const tcp = { host: target.hostname, port: Number(target.port) };
    const inFlight = new InFlight<LambdaCase>((listener) => server.onExit(listener));
    const judge = (c: Exclude<LambdaCase, { kind: 'raw' }>, index: number, answer: HttpAnswer) =>
      judgeAnswer(tally, c, index, answer);
    // The health function is warm before the load, so the check after it is a warm invoke.
    const warm = await invokeEcho(server, LAMBDA_API_FUNCTIONS.health.name);
    if (!warm.ok) throw new Error(`the health function does not run: ${warm.detail ?? ''}`);
    const checks = async () => [
      await invokeEcho(server, LAMBDA_API_FUNCTIONS.health.name),
      await invokeEcho(server, 'fz-echo'),
    ];
    const report = await afterLoad(
      run,
      server,
      tally,
      async (load) => {
        const result = await runLoad({
          ...load,
          cases: caseStream(cases, run.seed, run.firstIndex),
          stuckMs: STUCK_MS,
          timed: (c, ms) => tally.time(c.operation, ms),
          stuck: (c, index) =>
            tally.finding('hang', `${c.operation} still unanswered after ${STUCK_MS / 1000} s`, {
              request: sampleOf(index, c.operation, caseBytes(c, sender.host)),
              status: 'stuck',
            }),
          handle: (c, index) =>
            inFlight.run(index, c, async () => {
              load.onRequest(index);
              if (c.kind === 'raw') {
                const shape = c.sign ? await signShape(sender, c.shape) : c.shape;
                const [chunks] = fc.sample(malformedHttp(shape), { seed: c.seed, numRuns: 1 });
                const raw = await sendRaw(tcp, chunks ?? [], HANG_MS);
                judgeRaw(tally, c.operation, index, Buffer.concat(chunks ?? []), raw);
                return;
              }
              const signing = c.kind === 'signed' ? signingFor(c.spoil) : undefined;
              judge(c, index, await sender.send(c.request, signing));
            }),
        });
        inFlight.stop();
        return result;
      },
      checks,
    );
    await sender.close();
    return {
      ...report,
      operations_fuzzed_generically: untemplated,
      ...deathSuspects(inFlight, (c, index) =>
        sampleOf(index, c.operation, caseBytes(c, sender.host)),
      ),
    };
  } catch (error) {
    // A server that dies while being set up (a restart after a crash, say) is a finding too.
    return await setupFailure(run, server, error);
  } finally {
    await server.stop();
  }
}

async function deployPool(server: FuzzServer): Promise<LambdaPool> {
  const client = lambdaClient(server.endpoint);
  try {
    const { stable, mutable, health } = LAMBDA_API_FUNCTIONS;
    await deployAll(client, [...stable, ...mutable, health]);
    const zip = await buildZip([{ name: 'index.js', content: ECHO_SOURCE }]);
    const layer = await client.send(
      new PublishLayerVersionCommand({
        LayerName: 'fz-layer',
        Content: { ZipFile: zip },
        CompatibleRuntimes: ['nodejs20.x'],
      }),
    );
    for (const { name } of stable) {
      await client.send(new PublishVersionCommand({ FunctionName: name }));
      await client.send(
        new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }),
      );
    }
    return {
      stable: stable.map((f) => f.name),
      mutable: mutable.map((f) => f.name),
      layerName: 'fz-layer',
      layerArn: layer.LayerVersionArn ?? `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:fz-layer:1`,
      zip,
      zipSha256Hex: createHash('sha256').update(zip).digest('hex'),
    };
  } finally {
    client.destroy();
  }
}

function signingFor(spoil: Spoil | undefined): Signing {
  const credentials = CREDENTIALS;
  const minutes = (n: number) => new Date(Date.now() + n * 60_000);
  switch (spoil) {
    case undefined:
      return { credentials };
    case 'signature':
      return {
        credentials,
        tamper: (headers) => {
          const auth = String(headers['authorization'] ?? '');
          headers['authorization'] = auth.slice(0, -1) + (auth.endsWith('0') ? '1' : '0');
        },
      };
    case 'secret':
      return {
        credentials: { ...credentials, secretAccessKey: `${credentials.secretAccessKey}x` },
      };
    case 'key':
      return { credentials: { ...credentials, accessKeyId: 'LKIAUNKNOWNUNKNOWN00' } };
    case 'expired':
      return { credentials, signingDate: minutes(-20) };
    case 'future':
      return { credentials, signingDate: minutes(20) };
    case 'region':
      return { credentials, region: 'eu-west-1' };
    case 'date-header':
      return {
        credentials,
        tamper: (headers) => {
          headers['x-amz-date'] = new Date(Date.now() - 1000)
            .toISOString()
            .replace(/[-:]|\.\d{3}/g, '');
        },
      };
  }
}

/** Signs a raw request's shape, so that its malformed framing meets an authenticated request. */
async function signShape(
  sender: HttpSender,
  shape: Extract<LambdaCase, { kind: 'raw' }>['shape'],
): Promise<Extract<LambdaCase, { kind: 'raw' }>['shape']> {
  const [path, search = ''] = shape.target.split('?');
  const query = [...new URLSearchParams(search).entries()];
  const headers = Object.fromEntries(shape.headers.filter(([n]) => n.toLowerCase() !== 'host'));
  const signed = await sender.signedHeaders(
    { method: shape.method, path: path ?? '/', query, headers, body: shape.body },
    { credentials: CREDENTIALS },
  );
  const pairs = Object.entries(signed).map(([n, v]) => [n, String(v)] as const);
  return {
    ...shape,
    headers: [['Host', sender.host], ...pairs.filter(([n]) => n !== 'content-length')],
  };
}

function judgeAnswer(
  tally: FuzzTally,
  c: Exclude<LambdaCase, { kind: 'raw' }>,
  index: number,
  answer: HttpAnswer,
): void {
  const operation =
    c.kind === 'signed' && c.spoil !== undefined ? `spoiled ${c.operation}` : c.operation;
  tally.count(operation, answer.status);
  const sample = () => ({
    request: sampleOf(index, operation, answer.wire),
    status: answer.status,
    errorType: answer.errorType,
    answer: answerText(answer),
  });
  const status = answer.status;
  if (status === 'hang')
    tally.finding('hang', `no answer within ${HANG_MS / 1000} s to ${operation}`, sample());
  else if (status === 'closed' || status === 'client-refused')
    tally.note(unanswered(status), sample());
  else if (status >= 500 && !(status === 502 && DOCUMENTED_502.has(answer.errorType ?? '')))
    tally.finding(
      '5xx',
      `${status} ${answer.errorType ?? '(no x-amzn-ErrorType)'} on ${operation}`,
      sample(),
    );
  else if (status < 300 && c.kind === 'signed' && c.spoil !== undefined)
    tally.finding(
      'auth',
      `a request signed with a spoiled signature (${c.spoil}) was accepted`,
      sample(),
    );
  else if (status < 300 && c.kind === 'unsigned' && !isFunctionUrl(c.request))
    tally.finding('auth', 'an unsigned request was accepted', sample());
}

function isFunctionUrl(request: HttpCase): boolean {
  const host = request.headers['host'];
  return (
    request.path.startsWith('/lambda-url/') ||
    (typeof host === 'string' && host.includes('lambda-url'))
  );
}

function judgeRaw(
  tally: FuzzTally,
  operation: string,
  index: number,
  bytes: Buffer,
  raw: Awaited<ReturnType<typeof sendRaw>>,
): void {
  const sample = (status: number | string) => ({
    request: sampleOf(index, operation, bytes),
    status,
    errorType: raw.errorTypes[0],
    answer: raw.head,
  });
  if (raw.timedOut) {
    tally.count(operation, 'hang');
    tally.finding('hang', `no answer within ${HANG_MS / 1000} s to malformed HTTP`, sample('hang'));
    return;
  }
  if (raw.statuses.length === 0) tally.count(operation, 'closed');
  for (const status of raw.statuses) {
    tally.count(operation, status);
    if (status >= 500)
      tally.finding(
        '5xx',
        `${status} ${raw.errorTypes[0] ?? ''} on malformed HTTP`,
        sample(status),
      );
  }
}

/** A case's bytes before signing, for reports. */
function caseBytes(c: LambdaCase, host: string): Buffer {
  if (c.kind === 'raw')
    return wireBytes(
      c.shape.method,
      c.shape.target,
      host,
      Object.fromEntries(c.shape.headers),
      c.shape.body,
    );
  const search = queryString(c.request.query);
  const target = search === '' ? c.request.path : `${c.request.path}?${search}`;
  return wireBytes(c.request.method, target, host, c.request.headers, c.request.body);
}
