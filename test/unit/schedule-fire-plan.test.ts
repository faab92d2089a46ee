/**
 * When schedules fire: a rate's first fire at its anchor or StartDate, a cron in its zone, the
 * fold of missed occurrences into one fire (a server that was down, a clock that jumped a year),
 * one-time schedules that complete, and flexible windows with a chosen random source.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  fireAfter,
  firstFire,
  flexibleOffsetMs,
  isComplete,
  type PlannedSchedule,
} from '../../src/schedules/fire-plan.js';

const ms = (iso: string): number => Date.parse(iso);
const iso = (value: number | undefined): string | undefined =>
  value === undefined ? undefined : new Date(value).toISOString();
const never = () => {
  throw new Error('no random number is needed with the window OFF');
};

function schedule(overrides: Partial<PlannedSchedule> = {}): PlannedSchedule {
  return {
    expression: 'rate(5 minutes)',
    timezone: undefined,
    startMs: undefined,
    endMs: undefined,
    state: 'ENABLED',
    flexibleWindow: { mode: 'OFF' },
    anchorMs: ms('2030-01-01T00:00:00Z'),
    ...overrides,
  };
}

describe('fire plan', () => {
  test('a rate fires at its anchor (creation) and every period after', () => {
    const created = ms('2030-01-01T00:00:00Z');
    const first = firstFire(schedule(), created, never);
    assert.deepEqual(first, { nextFireMs: created, dueMs: created });
    const second = fireAfter(schedule(), created, created + 12, never);
    assert.equal(iso(second.nextFireMs), '2030-01-01T00:05:00.000Z');
    // Enabled again later, it keeps its rhythm and does not fire at once.
    const again = firstFire(schedule(), ms('2030-01-01T00:07:00Z'), never);
    assert.equal(iso(again.nextFireMs), '2030-01-01T00:10:00.000Z');
  });

  test('a StartDate is the first fire of a rate; an EndDate ends the schedule', () => {
    const s = schedule({
      startMs: ms('2030-02-01T08:00:00Z'),
      endMs: ms('2030-02-01T08:10:00Z'),
    });
    const first = firstFire(s, ms('2030-01-01T00:00:00Z'), never);
    assert.equal(iso(first.nextFireMs), '2030-02-01T08:00:00.000Z');
    const third = fireAfter(s, ms('2030-02-01T08:05:00Z'), ms('2030-02-01T08:05:00Z'), never);
    assert.equal(iso(third.nextFireMs), '2030-02-01T08:10:00.000Z');
    const after = fireAfter(s, ms('2030-02-01T08:10:00Z'), ms('2030-02-01T08:10:00Z'), never);
    assert.ok(isComplete(after));
  });

  test('a cron in a zone fires at its local time (Paris: UTC+1 in winter, UTC+2 in summer)', () => {
    const s = schedule({ expression: 'cron(0 3 ? * MON-FRI *)', timezone: 'Europe/Paris' });
    const winter = firstFire(s, ms('2030-01-04T12:00:00Z'), never); // a Friday
    assert.equal(iso(winter.nextFireMs), '2030-01-07T02:00:00.000Z'); // Monday 03:00 CET
    const summer = firstFire(s, ms('2030-07-05T12:00:00Z'), never);
    assert.equal(iso(summer.nextFireMs), '2030-07-08T01:00:00.000Z'); // Monday 03:00 CEST
  });

  test('occurrences missed while the server was down fold into one fire', () => {
    const s = schedule({ expression: 'cron(0 * * * ? *)' });
    const missed = ms('2030-01-01T10:00:00Z');
    // Back a day and a half later: the fire made now stands for all 36 missed hours.
    const now = ms('2030-01-02T22:30:00Z');
    const next = fireAfter(s, missed, now, never);
    assert.equal(iso(next.nextFireMs), '2030-01-02T23:00:00.000Z');
    // A per-minute cron after a year's jump: one fire, then the next minute after now.
    const everyMinute = schedule({ expression: 'cron(* * * * ? *)' });
    const yearLater = ms('2031-01-01T10:00:30Z');
    const after = fireAfter(everyMinute, ms('2030-01-01T10:00:00Z'), yearLater, never);
    assert.equal(iso(after.nextFireMs), '2031-01-01T10:01:00.000Z');
    // A rate too: the next occurrence after now, on its anchor's rhythm.
    const rate = fireAfter(
      schedule(),
      ms('2030-01-01T00:00:00Z'),
      ms('2030-01-03T00:02:00Z'),
      never,
    );
    assert.equal(iso(rate.nextFireMs), '2030-01-03T00:05:00.000Z');
  });

  test('a one-time schedule fires once, then is complete; a past at() never fires', () => {
    const s = schedule({ expression: 'at(2030-03-01T09:30:00)', timezone: 'America/New_York' });
    const first = firstFire(s, ms('2030-01-01T00:00:00Z'), never);
    assert.equal(iso(first.nextFireMs), '2030-03-01T14:30:00.000Z');
    assert.ok(isComplete(fireAfter(s, first.nextFireMs ?? 0, ms('2030-03-01T14:30:01Z'), never)));
    assert.ok(isComplete(firstFire(s, ms('2030-04-01T00:00:00Z'), never)));
  });

  test('a disabled schedule has no fire', () => {
    assert.deepEqual(firstFire(schedule({ state: 'DISABLED' }), 0, never), {
      nextFireMs: undefined,
      dueMs: undefined,
    });
  });

  test('a flexible window puts the fire at a random point of the window after the occurrence', () => {
    const window = { mode: 'FLEXIBLE', maximumWindowMinutes: 15 } as const;
    assert.equal(
      flexibleOffsetMs(window, () => 0),
      0,
    );
    assert.equal(
      flexibleOffsetMs(window, () => 0.5),
      450_000,
    );
    // Never the window's end itself, whatever the source answers.
    assert.equal(
      flexibleOffsetMs(window, () => 1),
      899_999,
    );
    assert.equal(flexibleOffsetMs({ mode: 'OFF' }, never), 0);
    const s = schedule({ expression: 'cron(0 12 * * ? *)', flexibleWindow: window });
    const fire = firstFire(s, ms('2030-01-01T00:00:00Z'), () => 0.2);
    assert.equal(iso(fire.nextFireMs), '2030-01-01T12:00:00.000Z');
    assert.equal(iso(fire.dueMs), '2030-01-01T12:03:00.000Z');
  });
});
