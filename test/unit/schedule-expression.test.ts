/**
 * EventBridge Scheduler's schedule expressions: the recorded accepted and rejected expressions,
 * the examples of AWS's cron reference, and next-fire sequences from fixed instants (L, W, #, year
 * bounds, StartDate/EndDate, rate anchors, DST in America/New_York and Europe/Berlin).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type FireWindow,
  nextFireAfter,
  parseScheduleExpression,
  ScheduleExpressionError,
} from '../../src/core/schedule-expression.js';

const ms = (iso: string): number => Date.parse(iso);

/** The next `count` fires after `fromIso`, each found from the previous one; `none` ends it. */
function fires(
  expression: string,
  fromIso: string,
  count: number,
  options: { timezone?: string; window?: FireWindow } = {},
): string[] {
  const parsed = parseScheduleExpression(expression, options.timezone);
  const out: string[] = [];
  let after = ms(fromIso);
  while (out.length < count) {
    const fire = nextFireAfter(parsed, after, options.window);
    if (fire === undefined) return [...out, 'none'];
    out.push(new Date(fire).toISOString().replace(':00.000Z', 'Z'));
    after = fire;
  }
  return out;
}

function rejection(expression: string, timezone?: string): ScheduleExpressionError {
  try {
    parseScheduleExpression(expression, timezone);
  } catch (error) {
    if (error instanceof ScheduleExpressionError) return error;
    throw error;
  }
  throw new Error(`expected ${expression} to be rejected`);
}

describe('rejected expressions carry AWS message', () => {
  // Recorded against AWS (aws-recorded/scheduler.json), then reference §5 and the cron reference.
  const recorded = [
    'cron(0 1 * * * *)',
    'cron(7 20 * * NOT *)',
    'cron(INVALID)',
    'cron(0 dummy ? * MON-FRI *)',
    'cron(71 8 1 * ? *)',
    'cron()',
    'rate(10 seconds)',
    'rate(10 years)',
    'rate()',
    'rate(10)',
    'rate(10 minutess)',
    'rate(foo minutes)',
    'rate(-10 minutes)',
    'rate( 10 minutes )',
    ' rate(10 minutes)',
    'at(2021-12-31T23:59:59Z)',
    'at(2021-12-31)',
  ];
  const documented = [
    'rate(5 seconds)',
    'cron(0 1 ? * 3#1,6#3 *)', // one `#` expression only
    'cron(0 1 ? * ? *)', // both day fields `?`
    'cron(0 1 1 * MON *)', // neither day field `?`
    'cron(0 1 * * ? 2200)',
    'cron(0 1 * * ? 1969)',
    'cron(60 1 * * ? *)',
    'cron(0 24 * * ? *)',
    'cron(0 1 32 * ? *)',
    'cron(0 1 0 * ? *)',
    'cron(0 1 * 13 ? *)',
    'cron(0 1 ? * 0 *)', // Sunday is 1, not 0
    'cron(0 1 ? * 8 *)',
    'cron(0 1 * * ?)',
    'cron(0 0 1 * * ? *)',
    'cron(0/0 1 * * ? *)',
    'cron(? 1 * * ? *)',
    'cron(L 1 * * ? *)',
    'cron(0 1 ? * 2W *)',
    'cron(0 1 2#1 * ? *)',
    'cron(0 1 L,15 * ? *)',
    'cron(0 1 15W,20 * ? *)',
    'cron(0 1 ? * 2#6 *)',
    'cron(0 1 ? * 2L,3 *)',
    'cron(0 1 * JAN-FOO ? *)',
    'cron(0 1 * * ? 2199-1970)', // years do not wrap
    'cron(1-2-3 1 * * ? *)',
    'cron(*-5 1 * * ? *)',
    'cron(0,,5 1 * * ? *)',
    'cron( 0 1 * * ? * )',
    'cron(0 1 * * ? *) ',
    'CRON(0 1 * * ? *)',
    'rate(0 minutes)',
    'rate(1.5 hours)',
    'rate(5  minutes)',
    'rate(5 weeks)',
    'Rate(5 minutes)',
    'at(2021-02-29T00:00:00)',
    'at(2021-12-31T24:00:00)',
    'at(2021-12-31T23:60:00)',
    'at(2021-12-31 23:59:59)',
    'at(1969-12-31T23:59:59)',
    '',
    '@daily',
    '0 1 * * ? *',
  ];
  for (const expression of [...recorded, ...documented]) {
    test(JSON.stringify(expression), () => {
      const error = rejection(expression);
      assert.equal(error.message, `Invalid Schedule Expression ${expression}.`);
      assert.equal(error.field, 'ScheduleExpression');
    });
  }
});

describe('accepted expressions', () => {
  const accepted = [
    // Recorded accepted by AWS.
    'cron(0-15/1 8-8 ? * 2,3,4,5,6,7 *)',
    'cron(30-30 13-13 ? * 2,4,6 *)',
    'cron(1-31/30 1-1 ? * 1,7 *)',
    'cron(0 18 ? * MON-FRI *)',
    'cron(*/15 * * * ? *)',
    'cron(0-59/10 0-23/2 ? * * *)',
    // The cron and rate references' examples.
    'cron(0 10 * * ? *)',
    'cron(15 12 * * ? *)',
    'cron(0 8 1 * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0/10 * ? * MON-FRI *)',
    'cron(0/5 8-17 ? * MON-FRI *)',
    'cron(0/30 20-2 ? * MON-FRI *)',
    'cron(0 12 * * ? *)',
    'cron(5,35 14 * * ? *)',
    'cron(15 10 ? * 6L 2019-2022)',
    'cron(0 9 ? * 3#2 *)',
    'cron(0 9 3W * ? *)',
    'cron(0 9 L * ? *)',
    'cron(0 9 ? JAN,FEB,MAR * *)',
    'cron(0 9 1-15 * ? *)',
    'rate(1 minute)',
    'rate(5 minutes)',
    'rate(1 hour)',
    'rate(1 day)',
    'at(2022-11-01T11:00:00)',
    // Quartz forms the dialect shares (L-n confirmed by AWS support), names in any case.
    'cron(0 9 L-2 * ? *)',
    'cron(0 9 LW * ? *)',
    'cron(0 9 ? * FRIL *)',
    'cron(0 9 ? * MON#1 *)',
    'cron(0 9 ? * L *)',
    'cron(0 9 ? * mon-fri *)',
    'cron(0\t9 * * ? *)',
  ];
  for (const expression of accepted) {
    test(expression, () => {
      assert.equal(parseScheduleExpression(expression).expression, expression);
    });
  }

  test('fields are the ascending values each allows', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['cron(1-31/30 1-1 ? * 1,7 *)', { minutes: [1, 31], hours: [1] }],
      ['cron(*/15 0-23/6 * * ? *)', { minutes: [0, 15, 30, 45], hours: [0, 6, 12, 18] }],
      [
        'cron(1/10 20-2 * * ? *)',
        { minutes: [1, 11, 21, 31, 41, 51], hours: [0, 1, 2, 20, 21, 22, 23] },
      ],
      ['cron(0 0 * NOV-FEB ? *)', { months: [1, 2, 11, 12] }],
      ['cron(0 0 * * ? 2190/5)', { years: [2190, 2195] }],
    ];
    for (const [expression, expected] of cases) {
      const parsed = parseScheduleExpression(expression);
      assert.equal(parsed.kind, 'cron');
      if (parsed.kind !== 'cron') return;
      for (const [field, values] of Object.entries(expected))
        assert.deepEqual(parsed.fields[field as keyof typeof parsed.fields], values, expression);
    }
  });

  test('day fields: which one applies, and its special forms', () => {
    const cases: Array<[string, unknown]> = [
      ['cron(0 0 ? * FRI-MON *)', { kind: 'daysOfWeek', weekdays: [1, 2, 6, 7] }],
      ['cron(0 0 ? * L *)', { kind: 'daysOfWeek', weekdays: [7] }],
      ['cron(0 0 ? * 6L *)', { kind: 'lastOfWeekday', weekday: 6 }],
      ['cron(0 0 ? * TUE#2 *)', { kind: 'nthWeekday', weekday: 3, nth: 2 }],
      ['cron(0 0 L * ? *)', { kind: 'lastDayOfMonth', offset: 0 }],
      ['cron(0 0 L-3 * ? *)', { kind: 'lastDayOfMonth', offset: 3 }],
      ['cron(0 0 LW * ? *)', { kind: 'lastWeekdayOfMonth' }],
      ['cron(0 0 15W * ? *)', { kind: 'nearestWeekday', day: 15 }],
      ['cron(0 0 1,15 * ? *)', { kind: 'daysOfMonth', days: [1, 15] }],
    ];
    for (const [expression, days] of cases) {
      const parsed = parseScheduleExpression(expression);
      assert.deepEqual(parsed.kind === 'cron' && parsed.fields.days, days, expression);
    }
  });

  test('rate: value, unit and period; singular and plural both accepted', () => {
    assert.deepEqual(parseScheduleExpression('rate(5 minutes)'), {
      kind: 'rate',
      expression: 'rate(5 minutes)',
      timezone: 'UTC',
      value: 5,
      unit: 'minute',
      periodMs: 300_000,
    });
    assert.equal(parseScheduleExpression('rate(2 day)').kind, 'rate');
    assert.equal(parseScheduleExpression('rate(1 hours)').kind, 'rate');
  });
});

describe('time zones', () => {
  test('UTC by default; IANA names accepted', () => {
    assert.equal(parseScheduleExpression('rate(1 hour)').timezone, 'UTC');
    for (const zone of ['America/New_York', 'Europe/Berlin', 'Asia/Kolkata', 'Etc/GMT+5'])
      assert.equal(parseScheduleExpression('cron(0 9 * * ? *)', zone).timezone, zone);
  });

  test('an unknown zone or a bare offset is rejected, naming the timezone member', () => {
    for (const zone of ['Mars/Olympus_Mons', '+05:00', '', 'America/New York']) {
      const error = rejection('cron(0 9 * * ? *)', zone);
      assert.equal(error.field, 'ScheduleExpressionTimezone', zone);
      assert.equal(error.message, `Invalid Schedule Expression Timezone ${zone}.`);
    }
  });

  test('cron and at() are wall-clock times in the zone', () => {
    const from = '2024-06-01T00:00:00Z';
    assert.deepEqual(fires('cron(0 9 * * ? *)', from, 1, { timezone: 'Asia/Kolkata' }), [
      '2024-06-01T03:30Z',
    ]);
    assert.deepEqual(fires('at(2024-06-01T12:00:00)', from, 2, { timezone: 'Europe/Berlin' }), [
      '2024-06-01T10:00Z',
      'none',
    ]);
  });
});

describe('next fire: the cron reference examples', () => {
  const cases: Array<[string, string, string[]]> = [
    ['cron(0 10 * * ? *)', '2024-01-01T10:00:00Z', ['2024-01-02T10:00Z', '2024-01-03T10:00Z']],
    ['cron(15 12 * * ? *)', '2024-01-01T00:00:00Z', ['2024-01-01T12:15Z', '2024-01-02T12:15Z']],
    // 2024-01-05 is a Friday.
    [
      'cron(0 18 ? * MON-FRI *)',
      '2024-01-05T00:00:00Z',
      ['2024-01-05T18:00Z', '2024-01-08T18:00Z'],
    ],
    ['cron(0 8 1 * ? *)', '2024-01-01T08:00:00Z', ['2024-02-01T08:00Z', '2024-03-01T08:00Z']],
    [
      'cron(0/15 * * * ? *)',
      '2024-01-01T00:07:00Z',
      ['2024-01-01T00:15Z', '2024-01-01T00:30Z', '2024-01-01T00:45Z', '2024-01-01T01:00Z'],
    ],
    [
      'cron(0/10 * ? * MON-FRI *)',
      '2024-01-05T23:45:00Z',
      ['2024-01-05T23:50Z', '2024-01-08T00:00Z', '2024-01-08T00:10Z'],
    ],
    [
      'cron(0/5 8-17 ? * MON-FRI *)',
      '2024-01-05T17:50:00Z',
      ['2024-01-05T17:55Z', '2024-01-08T08:00Z'],
    ],
    // 20-2 wraps past midnight; Saturday's early hours belong to Saturday, so they do not fire.
    [
      'cron(0/30 20-2 ? * MON-FRI *)',
      '2024-01-05T23:00:00Z',
      ['2024-01-05T23:30Z', '2024-01-08T00:00Z', '2024-01-08T00:30Z', '2024-01-08T01:00Z'],
    ],
    ['cron(5,35 14 * * ? *)', '2024-01-01T14:05:00Z', ['2024-01-01T14:35Z', '2024-01-02T14:05Z']],
    [
      'cron(15 10 ? * 6L 2019-2022)',
      '2022-10-01T00:00:00Z',
      ['2022-10-28T10:15Z', '2022-11-25T10:15Z', '2022-12-30T10:15Z', 'none'],
    ],
    // Recorded-valid expressions.
    [
      'cron(1-31/30 1-1 ? * 1,7 *)',
      '2024-01-05T00:00:00Z',
      ['2024-01-06T01:01Z', '2024-01-06T01:31Z', '2024-01-07T01:01Z'],
    ],
    [
      'cron(0-59/10 0-23/2 ? * * *)',
      '2024-01-01T00:55:00Z',
      ['2024-01-01T02:00Z', '2024-01-01T02:10Z'],
    ],
  ];
  for (const [expression, from, expected] of cases)
    test(`${expression} after ${from}`, () => {
      assert.deepEqual(fires(expression, from, expected.length), expected);
    });
});

describe('next fire: L, W and #', () => {
  const cases: Array<[string, string, string[]]> = [
    ['cron(0 0 L * ? *)', '2023-01-31T00:00:00Z', ['2023-02-28T00:00Z', '2023-03-31T00:00Z']],
    ['cron(0 0 L * ? *)', '2024-01-31T00:00:00Z', ['2024-02-29T00:00Z']],
    [
      'cron(0 0 L-2 * ? *)',
      '2024-02-01T00:00:00Z',
      ['2024-02-27T00:00Z', '2024-03-29T00:00Z', '2024-04-28T00:00Z'],
    ],
    // Last weekday: 2024-03-31 and 2024-06-30 are Sundays.
    [
      'cron(0 0 LW * ? *)',
      '2024-03-01T00:00:00Z',
      ['2024-03-29T00:00Z', '2024-04-30T00:00Z', '2024-05-31T00:00Z', '2024-06-28T00:00Z'],
    ],
    // 2022-01-01 is a Saturday: the nearest weekday within January is Monday the 3rd.
    ['cron(0 0 1W * ? *)', '2021-12-31T00:00:00Z', ['2022-01-03T00:00Z', '2022-02-01T00:00Z']],
    // 2022-05-01 is a Sunday: Monday the 2nd.
    ['cron(0 0 1W * ? *)', '2022-04-15T00:00:00Z', ['2022-05-02T00:00Z']],
    // 2022-04-30 is a Saturday: Friday the 29th.
    ['cron(0 0 30W * ? *)', '2022-04-01T00:00:00Z', ['2022-04-29T00:00Z']],
    // 2022-07-31 is a Sunday and the last day: back to Friday the 29th, never into August.
    ['cron(0 0 31W 7 ? *)', '2022-07-01T00:00:00Z', ['2022-07-29T00:00Z']],
    // A month without a 31st has no 31W.
    ['cron(0 0 31W * ? *)', '2024-04-01T00:00:00Z', ['2024-05-31T00:00Z']],
    ['cron(0 0 ? * 3#2 *)', '2024-01-01T00:00:00Z', ['2024-01-09T00:00Z', '2024-02-13T00:00Z']],
    ['cron(0 0 ? * 6#5 *)', '2024-01-01T00:00:00Z', ['2024-03-29T00:00Z', '2024-05-31T00:00Z']],
    [
      'cron(0 0 ? * FRIL *)',
      '2024-01-01T00:00:00Z',
      ['2024-01-26T00:00Z', '2024-02-23T00:00Z', '2024-03-29T00:00Z'],
    ],
    // `L` alone in day-of-week is Saturday, every week.
    ['cron(0 0 ? * L *)', '2024-01-01T00:00:00Z', ['2024-01-06T00:00Z', '2024-01-13T00:00Z']],
  ];
  for (const [expression, from, expected] of cases)
    test(`${expression} after ${from}`, () => {
      assert.deepEqual(fires(expression, from, expected.length), expected);
    });
});

describe('next fire: bounds', () => {
  test('year field bounds, and nothing after 2199', () => {
    assert.deepEqual(fires('cron(59 23 31 12 ? 2199)', '2024-01-01T00:00:00Z', 2), [
      '2199-12-31T23:59Z',
      'none',
    ]);
    assert.deepEqual(fires('cron(* * * * ? *)', '2199-12-31T23:58:00Z', 2), [
      '2199-12-31T23:59Z',
      'none',
    ]);
    assert.deepEqual(fires('cron(0 0 1 1 ? 2020)', '2024-01-01T00:00:00Z', 1), ['none']);
  });

  test('expressions that can never fire answer undefined', () => {
    assert.deepEqual(fires('cron(0 0 30 2 ? *)', '1970-01-01T00:00:00Z', 1), ['none']);
    // 2199 is not a leap year, so it has no fifth Monday in February.
    assert.deepEqual(fires('cron(0 0 ? 2 2#5 2199)', '1970-01-01T00:00:00Z', 1), ['none']);
  });

  test('rare dates resolve without walking minute by minute', () => {
    // Each of these would take minutes if the search stepped through every minute of 230 years
    // (the test runner's timeout would end the suite); no wall-clock bound is asserted here.
    assert.deepEqual(fires('cron(0 12 ? 2 MON#5 *)', '1970-01-01T00:00:00Z', 3), [
      '1988-02-29T12:00Z',
      '2016-02-29T12:00Z',
      '2044-02-29T12:00Z',
    ]);
    assert.deepEqual(fires('cron(30 6 1 1 ? 2199)', '1970-01-01T00:00:00Z', 1), [
      '2199-01-01T06:30Z',
    ]);
    assert.deepEqual(
      fires('cron(0 0 29 2 ? 2196/3)', '1970-01-01T00:00:00Z', 2, { timezone: 'Europe/Berlin' }),
      ['2196-02-28T23:00Z', 'none'],
    );
  });

  test('StartDate and EndDate bound cron fires, both inclusive', () => {
    const window = { startMs: ms('2024-01-01T05:00:00Z'), endMs: ms('2024-01-01T07:00:00Z') };
    assert.deepEqual(fires('cron(0 * * * ? *)', '2024-01-01T00:00:00Z', 4, { window }), [
      '2024-01-01T05:00Z',
      '2024-01-01T06:00Z',
      '2024-01-01T07:00Z',
      'none',
    ]);
    assert.deepEqual(
      fires('cron(0 * * * ? *)', '2024-01-01T00:00:00Z', 1, {
        window: { startMs: ms('2024-01-01T05:00:01Z') },
      }),
      ['2024-01-01T06:00Z'],
    );
  });

  test('at() fires once, at its minute, whatever StartDate and EndDate say', () => {
    const window = { startMs: ms('2030-01-01T00:00:00Z'), endMs: ms('2020-01-01T00:00:00Z') };
    assert.deepEqual(fires('at(2024-06-01T12:00:45)', '2024-01-01T00:00:00Z', 2, { window }), [
      '2024-06-01T12:00Z',
      'none',
    ]);
    assert.deepEqual(fires('at(2024-06-01T12:00:00)', '2024-06-01T12:00:00Z', 1), ['none']);
  });
});

describe('next fire: rate', () => {
  const rate = parseScheduleExpression('rate(5 minutes)');
  const anchorMs = ms('2024-01-01T00:00:10Z');

  test('a schedule created at T fires at T, T + period, … (anchorMs)', () => {
    const cases: Array<[string, string]> = [
      ['2023-12-31T00:00:00Z', '2024-01-01T00:00:10Z'],
      ['2024-01-01T00:00:09.999Z', '2024-01-01T00:00:10Z'],
      ['2024-01-01T00:00:10Z', '2024-01-01T00:05:10Z'],
      ['2024-01-01T00:07:00Z', '2024-01-01T00:10:10Z'],
      ['2024-01-01T01:00:10Z', '2024-01-01T01:05:10Z'],
    ];
    for (const [after, expected] of cases)
      assert.equal(nextFireAfter(rate, ms(after), { anchorMs }), ms(expected), after);
  });

  test('StartDate is the first fire and wins over the anchor; EndDate is inclusive', () => {
    const window = {
      anchorMs,
      startMs: ms('2024-01-01T06:00:00Z'),
      endMs: ms('2024-01-01T06:10:00Z'),
    };
    assert.deepEqual(fires('rate(5 minutes)', '2024-01-01T00:00:00Z', 4, { window }), [
      '2024-01-01T06:00Z',
      '2024-01-01T06:05Z',
      '2024-01-01T06:10Z',
      'none',
    ]);
  });

  test('without an anchor, afterMs is the previous fire', () => {
    assert.equal(nextFireAfter(rate, anchorMs), anchorMs + 300_000);
  });

  test('rate(N days) counts 24-hour periods across a DST change', () => {
    // 09:00 EST on the Saturday before the spring change, then 10:00 EDT.
    const window = { anchorMs: ms('2024-03-09T14:00:00Z') };
    assert.deepEqual(
      fires('rate(1 day)', '2024-03-09T13:00:00Z', 3, { timezone: 'America/New_York', window }),
      ['2024-03-09T14:00Z', '2024-03-10T14:00Z', '2024-03-11T14:00Z'],
    );
  });
});

describe('next fire: daylight saving time', () => {
  const newYork = { timezone: 'America/New_York' };
  const berlin = { timezone: 'Europe/Berlin' };

  // New York springs forward on 2024-03-10 (02:00 EST → 03:00 EDT) and falls back on 2024-11-03
  // (02:00 EDT → 01:00 EST); Berlin on 2024-03-31 (02:00 CET → 03:00 CEST) and 2024-10-27
  // (03:00 CEST → 02:00 CET).
  const cases: Array<[string, string, { timezone: string }, string[]]> = [
    // A time inside the skipped hour does not fire that day.
    [
      'cron(30 2 * * ? *)',
      '2024-03-09T00:00:00Z',
      newYork,
      ['2024-03-09T07:30Z', '2024-03-11T06:30Z'],
    ],
    [
      'cron(0/30 * * * ? *)',
      '2024-03-10T06:00:00Z',
      newYork,
      ['2024-03-10T06:30Z', '2024-03-10T07:00Z', '2024-03-10T07:30Z'],
    ],
    [
      'cron(30 2 * * ? *)',
      '2024-03-30T00:00:00Z',
      berlin,
      ['2024-03-30T01:30Z', '2024-04-01T00:30Z'],
    ],
    // A time inside the repeated hour fires once, at its first occurrence.
    [
      'cron(30 1 * * ? *)',
      '2024-11-02T00:00:00Z',
      newYork,
      ['2024-11-02T05:30Z', '2024-11-03T05:30Z', '2024-11-04T06:30Z'],
    ],
    [
      'cron(0/30 * * * ? *)',
      '2024-11-03T04:45:00Z',
      newYork,
      ['2024-11-03T05:00Z', '2024-11-03T05:30Z', '2024-11-03T07:00Z', '2024-11-03T07:30Z'],
    ],
    // Asked from inside the second pass through the hour: its minutes already fired.
    ['cron(0/30 * * * ? *)', '2024-11-03T06:10:00Z', newYork, ['2024-11-03T07:00Z']],
    [
      'cron(30 2 * * ? *)',
      '2024-10-26T00:00:00Z',
      berlin,
      ['2024-10-26T00:30Z', '2024-10-27T00:30Z', '2024-10-28T01:30Z'],
    ],
    [
      'cron(0/15 2 * * ? *)',
      '2024-10-26T23:59:00Z',
      berlin,
      [
        '2024-10-27T00:00Z',
        '2024-10-27T00:15Z',
        '2024-10-27T00:30Z',
        '2024-10-27T00:45Z',
        '2024-10-28T01:00Z',
      ],
    ],
    // at() in the skipped hour never fires; in the repeated hour it fires at the first pass.
    ['at(2024-03-10T02:30:00)', '2024-01-01T00:00:00Z', newYork, ['none']],
    ['at(2024-11-03T01:30:00)', '2024-01-01T00:00:00Z', newYork, ['2024-11-03T05:30Z', 'none']],
    ['at(2024-10-27T02:30:00)', '2024-01-01T00:00:00Z', berlin, ['2024-10-27T00:30Z', 'none']],
  ];
  for (const [expression, from, zone, expected] of cases)
    test(`${expression} in ${zone.timezone} after ${from}`, () => {
      assert.deepEqual(fires(expression, from, expected.length, zone), expected);
    });
});
