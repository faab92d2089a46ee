/**
 * The pure rules of event source mappings: defaults per source type, every limit at its
 * boundaries with Lambda's error codes and messages, starting positions, updates, duplicate
 * messages, source identity and the state moves.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LambdaError } from '../../src/core/errors.js';
import {
  batchingWindowMs,
  duplicateMappingError,
  mappingSettings,
  requestedState,
  sameSource,
  settledState,
  type MappingInput,
  type MappingSettings,
  type MappingSource,
  type MappingState,
} from '../../src/core/event-source-mapping.js';

const BROKER_ARN =
  'arn:aws:mq:us-east-1:123456789012:broker:main:b-0d9d2b0c-6c0e-4c3a-9a3e-1f2e3d4c5b6a';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:worker';
const ON_FAILURE = 'arn:aws:lambda:us-east-1:123456789012:function:dead-letters';
const QUEUE: MappingSource = {
  kind: 'rabbitmq',
  brokerArn: BROKER_ARN,
  queue: 'orders',
  virtualHost: undefined,
};
const STREAM: MappingSource = { kind: 'nats', endpoints: ['n:4222'], stream: 's' };
const LATEST = { startingPosition: 'LATEST' } as const;

/** The code and message of the LambdaError `run` throws. */
function refusal(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof LambdaError, `expected a LambdaError, got ${String(error)}`);
    return { code: error.code, message: error.message };
  }
  return assert.fail('expected a LambdaError, but nothing was thrown');
}

const invalid = (message: string) => ({ code: 'InvalidParameterValueException', message });
const validation = (field: string, value: string, constraint: string) => ({
  code: 'ValidationException',
  message: `1 validation error detected: Value ${value} at '${field}' failed to satisfy constraint: ${constraint}`,
});
const atLeast = (min: number) => `Member must have value greater than or equal to ${min}`;
const atMost = (max: number) => `Member must have value less than or equal to ${max}`;

describe('mappingSettings: defaults', () => {
  test('a queue gets Lambda defaults and leaves stream-only settings unset', () => {
    assert.deepEqual(mappingSettings(QUEUE, {}), {
      batchSize: 100,
      maximumBatchingWindowInSeconds: undefined,
      filterPatterns: undefined,
      reportBatchItemFailures: false,
      maximumRetryAttempts: undefined,
      maximumRecordAgeInSeconds: undefined,
      bisectBatchOnFunctionError: undefined,
      startingPosition: undefined,
      startingPositionTimestamp: undefined,
      parallelizationFactor: undefined,
      maximumConcurrency: undefined,
      onFailure: undefined,
      sourceAccess: undefined,
    });
  });

  for (const source of [STREAM, { ...STREAM, kind: 'redis' } as const])
    test(`a ${source.kind} stream gets the stream defaults`, () => {
      assert.deepEqual(mappingSettings(source, LATEST), {
        batchSize: 100,
        maximumBatchingWindowInSeconds: undefined,
        filterPatterns: undefined,
        reportBatchItemFailures: false,
        maximumRetryAttempts: -1,
        maximumRecordAgeInSeconds: -1,
        bisectBatchOnFunctionError: false,
        startingPosition: 'LATEST',
        startingPositionTimestamp: undefined,
        parallelizationFactor: 1,
        maximumConcurrency: undefined,
        onFailure: undefined,
        sourceAccess: undefined,
      });
    });

  test('batchingWindowMs: 500 ms unless set', () => {
    const table: [MappingInput, number][] = [
      [{}, 500],
      [{ maximumBatchingWindowInSeconds: 0 }, 0],
      [{ maximumBatchingWindowInSeconds: 2 }, 2000],
      [{ maximumBatchingWindowInSeconds: 300 }, 300_000],
    ];
    for (const [input, ms] of table) {
      assert.equal(batchingWindowMs(mappingSettings(QUEUE, input)), ms, JSON.stringify(input));
      const stream = mappingSettings(STREAM, { ...LATEST, ...input });
      assert.equal(batchingWindowMs(stream), ms, `stream ${JSON.stringify(input)}`);
    }
  });
});

describe('mappingSettings: limits', () => {
  type NumericField =
    | 'batchSize'
    | 'maximumBatchingWindowInSeconds'
    | 'maximumRetryAttempts'
    | 'maximumRecordAgeInSeconds'
    | 'parallelizationFactor'
    | 'maximumConcurrency';
  const table: {
    field: NumericField;
    wireField?: string;
    accepted: number[];
    refused: [number, string][];
  }[] = [
    {
      field: 'batchSize',
      accepted: [1, 10_000],
      refused: [
        [0, atLeast(1)],
        [10_001, atMost(10_000)],
      ],
    },
    {
      field: 'maximumBatchingWindowInSeconds',
      accepted: [0, 300],
      refused: [
        [-1, atLeast(0)],
        [301, atMost(300)],
      ],
    },
    {
      field: 'maximumRetryAttempts',
      accepted: [-1, 0, 10_000],
      refused: [
        [-2, atLeast(-1)],
        [10_001, atMost(10_000)],
      ],
    },
    {
      field: 'maximumRecordAgeInSeconds',
      accepted: [-1, 60, 604_800],
      refused: [
        [59, atLeast(60)],
        [604_801, atMost(604_800)],
      ],
    },
    {
      field: 'parallelizationFactor',
      accepted: [1, 10],
      refused: [
        [0, atLeast(1)],
        [11, atMost(10)],
      ],
    },
    {
      field: 'maximumConcurrency',
      wireField: 'scalingConfig.maximumConcurrency',
      accepted: [2, 1000],
      refused: [
        [1, atLeast(2)],
        [1001, atMost(1000)],
      ],
    },
  ];
  for (const { field, wireField, accepted, refused } of table) {
    test(`${field}: ${accepted.join(', ')} accepted`, () => {
      for (const value of accepted) {
        const input: MappingInput = { ...LATEST, [field]: value };
        assert.equal(mappingSettings(STREAM, input)[field], value, `${field} ${value}`);
      }
    });
    test(`${field}: ${refused.map(([value]) => value).join(', ')} refused`, () => {
      for (const [value, constraint] of refused) {
        const input: MappingInput = { ...LATEST, [field]: value };
        assert.deepEqual(
          refusal(() => mappingSettings(STREAM, input)),
          validation(wireField ?? field, `'${value}'`, constraint),
          `${field} ${value}`,
        );
      }
    });
  }

  test('at most 5 filters', () => {
    const patterns = (n: number) => Array.from({ length: n }, (_, i) => `{"n":[${i}]}`);
    const five = mappingSettings(QUEUE, { filterPatterns: patterns(5) }).filterPatterns;
    assert.deepEqual(five, patterns(5));
    assert.deepEqual(
      refusal(() => mappingSettings(QUEUE, { filterPatterns: patterns(6) })),
      invalid('The number of filters must not exceed 5.'),
    );
  });

  test('a pattern of at most 4096 characters', () => {
    const longest = 'x'.repeat(4096);
    const kept = mappingSettings(QUEUE, { filterPatterns: [longest] }).filterPatterns;
    assert.deepEqual(kept, [longest]);
    const tooLong = 'x'.repeat(4097);
    assert.deepEqual(
      refusal(() => mappingSettings(QUEUE, { filterPatterns: [tooLong] })),
      validation(
        'filterCriteria.filters.member.pattern',
        `'${tooLong}'`,
        'Member must have length less than or equal to 4096',
      ),
    );
  });

  test('FunctionResponseTypes: ReportBatchItemFailures only', () => {
    const table: [string[], boolean][] = [
      [['ReportBatchItemFailures'], true],
      [[], false],
    ];
    for (const [functionResponseTypes, on] of table)
      assert.equal(mappingSettings(QUEUE, { functionResponseTypes }).reportBatchItemFailures, on);
    assert.deepEqual(
      refusal(() => mappingSettings(QUEUE, { functionResponseTypes: ['ReportEverything'] })),
      validation(
        'functionResponseTypes',
        "'[ReportEverything]'",
        'Member must satisfy enum value set: [ReportBatchItemFailures]',
      ),
    );
  });

  test('OnFailure must be a function ARN', () => {
    assert.equal(mappingSettings(QUEUE, { onFailure: ON_FAILURE }).onFailure, ON_FAILURE);
    assert.equal(
      mappingSettings(QUEUE, { onFailure: `${ON_FAILURE}:live` }).onFailure,
      `${ON_FAILURE}:live`,
    );
    for (const arn of ['arn:aws:sqs:us-east-1:123456789012:dlq', 'dead-letters'])
      assert.deepEqual(
        refusal(() => mappingSettings(QUEUE, { onFailure: arn })),
        invalid(
          'The provided destination config DestinationConfig.OnFailure.Destination is invalid: ' +
            'Lamina sends failed records to a function (arn:aws:lambda:REGION:ACCOUNT:function:NAME).',
        ),
        arn,
      );
  });

  test('OnSuccess is refused for every source, before anything else', () => {
    for (const [source, input] of [
      [QUEUE, { onSuccess: ON_FAILURE }],
      [STREAM, { ...LATEST, onSuccess: ON_FAILURE }],
      [STREAM, { onSuccess: ON_FAILURE, batchSize: 0 }],
    ] as const)
      assert.deepEqual(
        refusal(() => mappingSettings(source, input)),
        invalid('Unsupported DestinationConfig parameter for given event source mapping type.'),
      );
  });
});

describe('mappingSettings: StartingPosition', () => {
  test('a stream without one is refused as an invalid parameter', () => {
    assert.equal(refusal(() => mappingSettings(STREAM, {})).code, 'InvalidParameterValueException');
  });

  test('a stream without one gets the recorded message', () => {
    assert.deepEqual(
      refusal(() => mappingSettings(STREAM, {})),
      invalid(
        "1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint: Member must not be null.",
      ),
    );
  });

  test('an unknown position is a ValidationException, for queues too', () => {
    for (const source of [STREAM, QUEUE])
      assert.deepEqual(
        refusal(() => mappingSettings(source, { startingPosition: 'invalid' })),
        validation(
          'startingPosition',
          "'invalid'",
          'Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]',
        ),
      );
  });

  test('a queue takes no position', () => {
    assert.deepEqual(
      refusal(() => mappingSettings(QUEUE, LATEST)),
      invalid(`Unsupported starting position for arn type: ${BROKER_ARN}`),
    );
  });

  test('accepted positions are kept, with the timestamp only for AT_TIMESTAMP', () => {
    const table: [
      MappingInput,
      Pick<MappingSettings, 'startingPosition' | 'startingPositionTimestamp'>,
    ][] = [
      [LATEST, { startingPosition: 'LATEST', startingPositionTimestamp: undefined }],
      [
        { startingPosition: 'TRIM_HORIZON' },
        { startingPosition: 'TRIM_HORIZON', startingPositionTimestamp: undefined },
      ],
      [
        { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: 1_741_010_802 },
        { startingPosition: 'AT_TIMESTAMP', startingPositionTimestamp: 1_741_010_802 },
      ],
    ];
    for (const [input, expected] of table) {
      const { startingPosition, startingPositionTimestamp } = mappingSettings(STREAM, input);
      assert.deepEqual({ startingPosition, startingPositionTimestamp }, expected);
    }
  });

  test('AT_TIMESTAMP needs a timestamp, and only it may have one', () => {
    const table: [MappingInput, string][] = [
      [
        { startingPosition: 'AT_TIMESTAMP' },
        'StartingPositionTimestamp must be set when StartingPosition is AT_TIMESTAMP.',
      ],
      [
        { startingPosition: 'LATEST', startingPositionTimestamp: 1_741_010_802 },
        'StartingPositionTimestamp can only be set when StartingPosition is AT_TIMESTAMP.',
      ],
      [
        { startingPosition: 'TRIM_HORIZON', startingPositionTimestamp: 0 },
        'StartingPositionTimestamp can only be set when StartingPosition is AT_TIMESTAMP.',
      ],
    ];
    for (const [input, message] of table)
      assert.deepEqual(
        refusal(() => mappingSettings(STREAM, input)),
        invalid(message),
      );
  });
});

describe('mappingSettings: updates', () => {
  const existing = mappingSettings(STREAM, {
    startingPosition: 'AT_TIMESTAMP',
    startingPositionTimestamp: 1_741_010_802,
    batchSize: 50,
    maximumBatchingWindowInSeconds: 5,
    filterPatterns: ['{"a":[1]}'],
    functionResponseTypes: ['ReportBatchItemFailures'],
    maximumRetryAttempts: 3,
    maximumRecordAgeInSeconds: 3600,
    bisectBatchOnFunctionError: true,
    parallelizationFactor: 4,
    maximumConcurrency: 20,
    onFailure: ON_FAILURE,
    sourceAccess: [{ type: 'BASIC_AUTH', uri: 'arn:aws:secretsmanager:us-east-1:1:secret:s' }],
  });

  const table: [string, MappingInput, Partial<MappingSettings>][] = [
    ['nothing given keeps everything', {}, {}],
    ['a batch size changes only that', { batchSize: 10 }, { batchSize: 10 }],
    [
      'an empty filter list clears the filters',
      { filterPatterns: [] },
      { filterPatterns: undefined },
    ],
    [
      'new filters replace the old',
      { filterPatterns: ['{"b":[2]}'] },
      { filterPatterns: ['{"b":[2]}'] },
    ],
    ['an empty OnFailure clears it', { onFailure: '' }, { onFailure: undefined }],
    [
      'no response types turn item failures off',
      { functionResponseTypes: [] },
      { reportBatchItemFailures: false },
    ],
    [
      'false and zero are kept, not defaulted',
      { bisectBatchOnFunctionError: false, maximumRetryAttempts: 0 },
      { bisectBatchOnFunctionError: false, maximumRetryAttempts: 0 },
    ],
  ];
  for (const [label, input, changes] of table)
    test(label, () => {
      assert.deepEqual(mappingSettings(STREAM, input, existing), { ...existing, ...changes });
    });

  test('a queue mapping keeps its unset settings unset', () => {
    const queue = mappingSettings(QUEUE, { batchSize: 7 });
    assert.deepEqual(mappingSettings(QUEUE, { batchSize: 8 }, queue), { ...queue, batchSize: 8 });
  });

  test('the starting position cannot be changed', () => {
    for (const input of [
      { startingPosition: 'TRIM_HORIZON' },
      { startingPosition: 'AT_TIMESTAMP' },
      { startingPositionTimestamp: 1 },
    ])
      assert.deepEqual(
        refusal(() => mappingSettings(STREAM, input, existing)),
        invalid('StartingPosition and StartingPositionTimestamp cannot be updated.'),
        JSON.stringify(input),
      );
  });

  test('an update is held to the same limits', () => {
    assert.deepEqual(
      refusal(() => mappingSettings(STREAM, { batchSize: 0 }, existing)),
      validation('batchSize', "'0'", atLeast(1)),
    );
  });
});

describe('duplicates and identity', () => {
  test('duplicateMappingError names the source, the function and the mapping', () => {
    const table: [MappingSource, string][] = [
      [
        QUEUE,
        `An event source mapping with event source ("${BROKER_ARN}"), function ("${FUNCTION_ARN}"), ` +
          'queues ("orders") already exists. Please update or delete the existing mapping with UUID u-1',
      ],
      [
        { kind: 'nats', endpoints: ['n1:4222', 'n2:4222'], stream: 'orders' },
        `An event source mapping with event source ("n1:4222,n2:4222"), function ("${FUNCTION_ARN}"), ` +
          'topics ("orders") already exists. Please update or delete the existing mapping with UUID u-1',
      ],
    ];
    for (const [source, message] of table) {
      const error = duplicateMappingError(source, FUNCTION_ARN, 'u-1');
      assert.ok(error instanceof LambdaError);
      assert.deepEqual(
        { code: error.code, message: error.message },
        {
          code: 'ResourceConflictException',
          message,
        },
      );
    }
  });

  test('sameSource', () => {
    const redis: MappingSource = { kind: 'redis', endpoints: ['n:4222'], stream: 's' };
    const table: [string, MappingSource, MappingSource, boolean][] = [
      ['the same queue', QUEUE, { ...QUEUE }, true],
      ['no vhost and an empty one', QUEUE, { ...QUEUE, virtualHost: '' }, true],
      ['another vhost', QUEUE, { ...QUEUE, virtualHost: 'v' }, false],
      ['another queue', QUEUE, { ...QUEUE, queue: 'other' }, false],
      ['another broker', QUEUE, { ...QUEUE, brokerArn: `${BROKER_ARN}x` }, false],
      ['a queue and a stream', QUEUE, STREAM, false],
      ['a stream and a queue', STREAM, QUEUE, false],
      ['the same stream', STREAM, { ...STREAM }, true],
      [
        'endpoints in another order',
        { ...STREAM, endpoints: ['a:1', 'b:2'] },
        { ...STREAM, endpoints: ['b:2', 'a:1'] },
        true,
      ],
      ['another endpoint list', STREAM, { ...STREAM, endpoints: ['n:4222', 'm:4222'] }, false],
      ['another stream', STREAM, { ...STREAM, stream: 't' }, false],
      ['NATS and Redis', STREAM, redis, false],
    ];
    for (const [label, a, b, same] of table) assert.equal(sameSource(a, b), same, label);
  });
});

describe('mapping states', () => {
  test('requestedState: what the user asked for, from a settled or moving state', () => {
    const table: [MappingState, boolean, boolean, MappingState][] = [
      ['Enabled', true, true, 'Updating'],
      ['Enabled', false, true, 'Disabling'],
      ['Disabled', true, false, 'Enabling'],
      ['Disabled', false, false, 'Updating'],
      ['Updating', true, true, 'Updating'],
      ['Enabling', false, true, 'Disabling'],
      ['Disabling', true, false, 'Enabling'],
    ];
    for (const [current, enabled, wasEnabled, next] of table)
      assert.equal(requestedState(current, enabled, wasEnabled), next, `${current} ${enabled}`);
  });

  test('requestedState: a mapping being created or deleted cannot be changed', () => {
    for (const current of ['Creating', 'Deleting'] as const)
      for (const enabled of [true, false])
        assert.equal(
          refusal(() => requestedState(current, enabled, !enabled)).message,
          'Cannot update the event source mapping because it is in use.',
        );
  });

  test('requestedState: a busy mapping is refused with ResourceInUseException', () => {
    for (const current of ['Creating', 'Deleting'] as const)
      assert.equal(
        refusal(() => requestedState(current, true, true)).code,
        'ResourceInUseException',
      );
  });

  test('settledState: moving states settle by the wish, settled ones stay', () => {
    const table: [MappingState, MappingState, MappingState][] = [
      ['Creating', 'Enabled', 'Disabled'],
      ['Updating', 'Enabled', 'Disabled'],
      ['Enabling', 'Enabled', 'Disabled'],
      ['Disabling', 'Enabled', 'Disabled'],
      ['Enabled', 'Enabled', 'Enabled'],
      ['Disabled', 'Disabled', 'Disabled'],
      ['Deleting', 'Deleting', 'Deleting'],
    ];
    for (const [state, whenEnabled, whenDisabled] of table) {
      assert.equal(settledState(state, true), whenEnabled, `${state} enabled`);
      assert.equal(settledState(state, false), whenDisabled, `${state} disabled`);
    }
  });
});
