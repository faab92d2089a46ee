/**
 * When a schedule fires, as pure functions of the schedule, the time and a random source:
 *
 * - the first occurrence of an enabled schedule (a rate starts at its StartDate, else at its
 *   anchor: creation, so it fires at once; cron and at() at their next matching minute);
 * - the occurrence after a fire: the first one after both the occurrence fired and now, so
 *   occurrences that passed while the server was down (or while the runner was late) are folded
 *   into the one fire that catches up, never fired one by one;
 * - the due time of an occurrence: itself with `FlexibleTimeWindow` OFF, else a random point in
 *   the window after it.
 */
import type { FireTiming, FlexibleTimeWindow, ScheduleSettings } from '../core/schedule.js';
import {
  nextFireAfter,
  parseScheduleExpression,
  type ScheduleExpression,
} from '../core/schedule-expression.js';

/** A number in [0, 1), like Math.random (injected so tests choose the flexible offsets). */
export type RandomSource = () => number;

/** What the plan reads of a schedule. */
export type PlannedSchedule = Pick<
  ScheduleSettings,
  'expression' | 'timezone' | 'startMs' | 'endMs' | 'state' | 'flexibleWindow'
> & { readonly anchorMs: number };

const NO_FIRE: FireTiming = { nextFireMs: undefined, dueMs: undefined };

/** The offset of a fire within its flexible window (ms): 0 when OFF, else in [0, window). */
export function flexibleOffsetMs(window: FlexibleTimeWindow, random: RandomSource): number {
  if (window.mode === 'OFF') return 0;
  const span = window.maximumWindowMinutes * 60_000;
  return Math.min(span - 1, Math.max(0, Math.floor(random() * span)));
}

/**
 * The first fire of a schedule at or after `fromMs` (created, updated or enabled then). A
 * disabled schedule has none; nor has one whose occurrences are all before `fromMs`.
 */
export function firstFire(
  schedule: PlannedSchedule,
  fromMs: number,
  random: RandomSource,
): FireTiming {
  if (schedule.state !== 'ENABLED') return NO_FIRE;
  return timing(schedule, nextOccurrence(schedule, fromMs - 1), random);
}

/**
 * The fire after the occurrence `firedMs`, fired at `nowMs`: the first occurrence after both.
 * However many occurrences lie between them (a server stopped for a day, a clock that jumped),
 * the fire just made stands for all of them.
 */
export function fireAfter(
  schedule: PlannedSchedule,
  firedMs: number,
  nowMs: number,
  random: RandomSource,
): FireTiming {
  if (schedule.state !== 'ENABLED') return NO_FIRE;
  return timing(schedule, nextOccurrence(schedule, Math.max(firedMs, nowMs)), random);
}

/** Whether a schedule has fired for the last time (nothing left to fire). */
export function isComplete(timingAfter: FireTiming): boolean {
  return timingAfter.nextFireMs === undefined;
}

function timing(
  schedule: PlannedSchedule,
  occurrence: number | undefined,
  random: RandomSource,
): FireTiming {
  if (occurrence === undefined) return NO_FIRE;
  return {
    nextFireMs: occurrence,
    dueMs: occurrence + flexibleOffsetMs(schedule.flexibleWindow, random),
  };
}

function nextOccurrence(schedule: PlannedSchedule, afterMs: number): number | undefined {
  return nextFireAfter(expressionOf(schedule), afterMs, {
    ...(schedule.startMs === undefined ? {} : { startMs: schedule.startMs }),
    ...(schedule.endMs === undefined ? {} : { endMs: schedule.endMs }),
    anchorMs: schedule.anchorMs,
  });
}

/** Parsed expressions, by zone and text (a runner parses the same few again and again). */
const parsed = new Map<string, ScheduleExpression>();

function expressionOf(schedule: PlannedSchedule): ScheduleExpression {
  const timezone = schedule.timezone ?? 'UTC';
  const key = `${timezone}\u0000${schedule.expression}`;
  let expression = parsed.get(key);
  if (expression === undefined) {
    expression = parseScheduleExpression(schedule.expression, timezone);
    if (parsed.size >= 1024) parsed.clear();
    parsed.set(key, expression);
  }
  return expression;
}
