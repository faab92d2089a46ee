/**
 * End to end: Powertools for AWS Lambda (TypeScript), installed from npm and shipped in the
 * function's zip, runs unmodified: Logger writes its structured line with the Lambda context,
 * Metrics prints an EMF record, and Tracer (with no X-Ray daemon to talk to) does not break the
 * invocation.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { packageEntries } from '../helpers/node-packages.js';
import { useServer } from '../helpers/server-suite.js';

type JsonRecord = Record<string, unknown>;

/** The JSON objects printed in a log tail (a line may carry a text prefix before its `{`). */
function jsonObjects(log: string): JsonRecord[] {
  return log.split('\n').flatMap((line) => {
    const at = line.indexOf('{');
    if (at < 0) return [];
    try {
      return [JSON.parse(line.slice(at)) as JsonRecord];
    } catch {
      return [];
    }
  });
}

const HANDLER = [
  "import { Logger } from '@aws-lambda-powertools/logger';",
  "import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';",
  "import { Tracer } from '@aws-lambda-powertools/tracer';",
  "const logger = new Logger({ serviceName: 'orders' });",
  "const metrics = new Metrics({ namespace: 'Lamina', serviceName: 'orders' });",
  "const tracer = new Tracer({ serviceName: 'orders' });",
  'export const handler = async (event, context) => {',
  '  logger.addContext(context);',
  "  logger.info('order placed', { orderId: event.orderId });",
  '  const segment = tracer.getSegment();',
  "  const sub = segment?.addNewSubsegment('## place order');",
  '  if (sub !== undefined) tracer.setSegment(sub);',
  "  tracer.putAnnotation('orderId', event.orderId);",
  "  metrics.addMetric('ordersPlaced', MetricUnit.Count, 1);",
  '  metrics.publishStoredMetrics();',
  '  sub?.close();',
  '  if (segment !== undefined) tracer.setSegment(segment);',
  '  return { placed: event.orderId, tracing: tracer.isTracingEnabled() };',
  '};',
].join('\n');

describe('Powertools for AWS Lambda (TypeScript)', () => {
  const suite = useServer();
  let client: LambdaClient;
  before(() => {
    client = suite.client;
  });

  for (const format of ['Text', 'JSON'] as const) {
    test(`Logger, Metrics and Tracer in a function (LogFormat ${format})`, async () => {
      const name = `powertools-${format.toLowerCase()}`;
      await deploy(
        client,
        name,
        [
          { name: 'index.mjs', content: HANDLER },
          ...packageEntries([
            '@aws-lambda-powertools/logger',
            '@aws-lambda-powertools/metrics',
            '@aws-lambda-powertools/tracer',
          ]),
        ],
        { loggingConfig: { LogFormat: format }, timeout: 30 },
      );
      const result = await invokeJson(client, name, { orderId: 42 }, { LogType: 'Tail' });
      assert.equal(result.output.FunctionError, undefined, result.text);
      assert.deepEqual(result.body, { placed: 42, tracing: true });
      const requestId = result.output.$metadata.requestId;
      const objects = jsonObjects(result.log);

      const logged = objects.find((o) => o['message'] === 'order placed');
      assert.ok(logged !== undefined, result.log);
      assert.equal(logged['level'], 'INFO');
      assert.equal(logged['service'], 'orders');
      assert.equal(logged['orderId'], 42);
      assert.equal(logged['function_name'], name);
      assert.equal(logged['function_request_id'], requestId);
      assert.equal(logged['cold_start'], true);
      // context.memoryLimitInMB is a string on Lambda, and Powertools passes it on.
      assert.equal(logged['function_memory_size'], '512');

      const emf = objects.find((o) => '_aws' in o);
      assert.ok(emf !== undefined, result.log);
      const aws = emf['_aws'] as { CloudWatchMetrics: Array<{ Namespace: string }> };
      assert.equal(aws.CloudWatchMetrics[0]?.Namespace, 'Lamina');
      assert.equal(emf['ordersPlaced'], 1);
      assert.equal(emf['service'], 'orders');

      // The second invocation is warm: Powertools' cold-start detection agrees.
      const warm = await invokeJson(client, name, { orderId: 43 }, { LogType: 'Tail' });
      const warmLogged = jsonObjects(warm.log).find((o) => o['message'] === 'order placed');
      assert.equal(warmLogged?.['cold_start'], false);
    });
  }
});
