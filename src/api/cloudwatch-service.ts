/**
 * CloudWatch metrics at `POST /` (signing name `monitoring`), in both of its protocols: awsJson1_0
 * (`X-Amz-Target: GraniteServiceVersion20100801.<Op>`, sent by the AWS SDK for JavaScript v3 and
 * current boto3) and awsQuery (a form with `Version=2010-08-01`, sent by AWS CLI v2 2.9). Serves
 * GetMetricData, GetMetricStatistics and ListMetrics over the `AWS/Lambda` minutes; each
 * operation asks for `cloudwatch:<Operation>` on `*` first, as AWS's policies name them.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { LambdaError } from '../core/errors.js';
import type { MetricReader } from '../monitoring/metric-minutes.js';
import { CloudWatchError, cloudWatchErrors } from './cloudwatch-errors.js';
import { decodeForm, decodeJson, type Fields } from './cloudwatch-input.js';
import {
  getMetricData,
  getMetricStatistics,
  listMetrics,
  type Answer,
} from './cloudwatch-operations.js';
import {
  getMetricDataRequest,
  getMetricStatisticsRequest,
  listMetricsRequest,
} from './cloudwatch-requests.js';
import { jsonAnswer, jsonError, xmlAnswer, xmlError } from './cloudwatch-wire.js';
import type { RpcAnswer, RpcRequest, RpcService } from './rpc-service.js';

const TARGET_PREFIX = 'GraniteServiceVersion20100801.';
const VERSION = '2010-08-01';
/** Looked for before a form is parsed: most forms at `POST /` are IAM's and STS's. */
const VERSION_FIELD = `Version=${VERSION}`;
/** Largest request taken: 500 queries of 30 dimensions each fit with room to spare. */
const BODY_LIMIT = 1024 * 1024;

const OPERATIONS: Record<
  string,
  (reader: MetricReader, fields: Fields) => Promise<Answer> | Answer
> = {
  GetMetricData: (reader, fields) => getMetricData(reader, getMetricDataRequest(fields)),
  GetMetricStatistics: (reader, fields) =>
    getMetricStatistics(reader, getMetricStatisticsRequest(fields)),
  ListMetrics: (reader, fields) => listMetrics(reader, listMetricsRequest(fields)),
};

/** Errors met before the service ran (the signature, the caller's key), under CloudWatch's codes. */
const LAMBDA_CODES: Record<string, { code: string; shape: string }> = {
  InvalidSignatureException: { code: 'SignatureDoesNotMatch', shape: 'InvalidSignatureException' },
  UnrecognizedClientException: {
    code: 'InvalidClientTokenId',
    shape: 'UnrecognizedClientException',
  },
  ExpiredTokenException: { code: 'ExpiredToken', shape: 'ExpiredTokenException' },
  MissingAuthenticationTokenException: {
    code: 'MissingAuthenticationToken',
    shape: 'MissingAuthenticationTokenException',
  },
  IncompleteSignatureException: {
    code: 'IncompleteSignature',
    shape: 'IncompleteSignatureException',
  },
  AccessDeniedException: { code: 'AccessDenied', shape: 'AccessDeniedException' },
};

export class CloudWatchService implements RpcService {
  readonly signingName = 'monitoring';
  readonly bodyLimit = BODY_LIMIT;
  readonly #reader: MetricReader;
  readonly #onFailure: (error: unknown) => void;

  /** `onFailure` hears of errors that are the server's own (answered as InternalServiceError). */
  constructor(reader: MetricReader, onFailure: (error: unknown) => void = () => undefined) {
    this.#reader = reader;
    this.#onFailure = onFailure;
  }

  claims(headers: IncomingHttpHeaders, body: Buffer | undefined): boolean {
    if (targetOf(headers)?.startsWith(TARGET_PREFIX) === true) return true;
    if (body === undefined || !isForm(headers) || !body.includes(VERSION_FIELD)) return false;
    return new URLSearchParams(body.toString('utf8')).get('Version') === VERSION;
  }

  async handle(request: RpcRequest): Promise<RpcAnswer> {
    const json = targetOf(request.headers) !== undefined;
    let operation = '';
    try {
      let fields: Fields;
      if (json) {
        operation = (targetOf(request.headers) ?? '').slice(TARGET_PREFIX.length);
        if (!Object.hasOwn(OPERATIONS, operation))
          throw cloudWatchErrors.unknownOperation(operation.slice(0, 100));
        fields = decodeJson(request.body);
      } else {
        const form = decodeForm(request.body);
        operation = form.action ?? '';
        if (!Object.hasOwn(OPERATIONS, operation))
          throw cloudWatchErrors.unknownOperation(operation.slice(0, 100));
        fields = form.fields;
      }
      await request.authorize(`cloudwatch:${operation}`, '*');
      const run = OPERATIONS[operation] as (typeof OPERATIONS)[string];
      const answer = await run(this.#reader, fields);
      return json ? jsonAnswer(answer) : xmlAnswer(operation, answer, request.requestId);
    } catch (error) {
      return this.renderError(error, request.headers, request.requestId);
    }
  }

  renderError(error: unknown, headers: IncomingHttpHeaders, requestId: string): RpcAnswer {
    const known = this.#cloudWatchErrorOf(error);
    return targetOf(headers) !== undefined ? jsonError(known) : xmlError(known, requestId);
  }

  #cloudWatchErrorOf(error: unknown): CloudWatchError {
    if (error instanceof CloudWatchError) return error;
    if (error instanceof LambdaError) {
      const mapped = LAMBDA_CODES[error.name];
      return new CloudWatchError(
        mapped?.code ?? error.name.replace(/Exception$/, ''),
        `com.amazon.coral.service#${mapped?.shape ?? error.name}`,
        error.spec.status,
        error.message,
      );
    }
    this.#onFailure(error);
    return cloudWatchErrors.internal();
  }
}

function targetOf(headers: IncomingHttpHeaders): string | undefined {
  const target = headers['x-amz-target'];
  return typeof target === 'string' ? target : undefined;
}

function isForm(headers: IncomingHttpHeaders): boolean {
  return (headers['content-type'] ?? '')
    .toLowerCase()
    .startsWith('application/x-www-form-urlencoded');
}
