/**
 * EventBridge Scheduler's schedule expressions: `rate(…)`, `cron(…)` and `at(…)` parsed with
 * AWS's validation message, and the next time a schedule fires, in its IANA time zone, within its
 * StartDate/EndDate.
 *
 * Semantics (reference §5 and AWS's "Cron expressions reference"): cron has six fields (minutes,
 * hours, day-of-month, month, day-of-week with 1 = Sunday, year 1970-2199), exactly one of the two
 * day fields is `?`; `L`, `L-n`, `LW`, `nW`, `dL`, `d#n` and the `#` item stand alone in their
 * field (Quartz, which EventBridge's dialect follows); ranges may wrap (`20-2` in hours is AWS's
 * own example). Cron and at() are evaluated in the time zone: a wall-clock time that the spring
 * change skips does not fire, one that the autumn change repeats fires once, at its first
 * occurrence. `rate(N days)` counts 24-hour periods.
 *
 * Why no library: croner 11 (Quartz weekdays, L/W/#, time zones) was evaluated and does not fit.
 * Its DST rules are Vixie cron's: a fixed-time job in the spring gap runs at the end of the gap
 * (AWS skips it) and a job with a range or step runs twice in the repeated autumn hour (AWS runs
 * it once). It also rejects expressions AWS documents (`0/15`, `1/10`, the wrapping `20-2`,
 * `L-2`) and accepts ones AWS rejects (`?` in both day fields, years past 2199, weekday 0), so
 * both the validation and the calculator would have been ours anyway.
 */

/** A rejected expression or time zone; the caller wraps `message` in a `ValidationException`. */
export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
  /** The request member at fault. */
  readonly field: 'ScheduleExpression' | 'ScheduleExpressionTimezone';

  constructor(message: string, field: ScheduleExpressionError['field'] = 'ScheduleExpression') {
    super(message);
    this.field = field;
  }
}

/** A wall-clock time in the schedule's time zone (month 1-12). */
export interface LocalDateTime {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
}

/** Which days of a month match: from the day-of-month field or from the day-of-week field. */
export type DaySpec =
  | { readonly kind: 'daysOfMonth'; readonly days: readonly number[] }
  /** `L` (offset 0) or `L-n`: the last day of the month, less `offset` days. */
  | { readonly kind: 'lastDayOfMonth'; readonly offset: number }
  /** `LW`: the last Monday-to-Friday of the month. */
  | { readonly kind: 'lastWeekdayOfMonth' }
  /** `nW`: the Monday-to-Friday nearest to day `day`, never leaving the month. */
  | { readonly kind: 'nearestWeekday'; readonly day: number }
  /** Weekdays 1 (Sunday) to 7 (Saturday); `L` alone is 7. */
  | { readonly kind: 'daysOfWeek'; readonly weekdays: readonly number[] }
  /** `dL`: the last such weekday of the month. */
  | { readonly kind: 'lastOfWeekday'; readonly weekday: number }
  /** `d#n`: the n-th such weekday of the month (1-5). */
  | { readonly kind: 'nthWeekday'; readonly weekday: number; readonly nth: number };

/** A cron expression's fields, each an ascending list of the values it allows. */
export interface CronFields {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly days: DaySpec;
  readonly months: readonly number[];
  readonly years: readonly number[];
}

export type RateUnit = 'minute' | 'hour' | 'day';

/** A validated schedule expression; `expression` is the text as given, `timezone` the IANA zone. */
export type ScheduleExpression =
  | {
      readonly kind: 'rate';
      readonly expression: string;
      readonly timezone: string;
      readonly value: number;
      readonly unit: RateUnit;
      readonly periodMs: number;
    }
  | {
      readonly kind: 'cron';
      readonly expression: string;
      readonly timezone: string;
      readonly fields: CronFields;
    }
  | {
      readonly kind: 'at';
      readonly expression: string;
      readonly timezone: string;
      /** The time to fire; its seconds are dropped (Scheduler fires with minute precision). */
      readonly at: LocalDateTime;
    };

/** The bounds of a schedule, in epoch milliseconds. */
export interface FireWindow {
  /** StartDate: nothing fires before it (a fire exactly at it counts); a rate's first fire. */
  readonly startMs?: number;
  /** EndDate: nothing fires after it (a fire exactly at it counts). */
  readonly endMs?: number;
  /** Rate only, used when there is no StartDate: when the schedule was created, its first fire. */
  readonly anchorMs?: number;
}

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const UNIT_MS: Record<RateUnit, number> = { minute: MINUTE_MS, hour: 3_600_000, day: DAY_MS };
const RATE_RE = /^rate\((\d+) (minute|hour|day)s?\)$/;
const AT_RE = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

/**
 * Validates `expression` and `timezone` (default `UTC`), throwing a `ScheduleExpressionError`
 * with AWS's message (`Invalid Schedule Expression <expression>.`) for an invalid expression.
 */
export function parseScheduleExpression(expression: string, timezone = 'UTC'): ScheduleExpression {
  const parsed = parseRate(expression) ?? parseAt(expression) ?? parseCron(expression);
  if (parsed === undefined)
    throw new ScheduleExpressionError(`Invalid Schedule Expression ${expression}.`);
  if (!isTimeZone(timezone))
    // No AWS answer is recorded for a bad zone; this text follows the expression's.
    throw new ScheduleExpressionError(
      `Invalid Schedule Expression Timezone ${timezone}.`,
      'ScheduleExpressionTimezone',
    );
  return { ...parsed, expression, timezone };
}

/**
 * The first fire strictly after `afterMs` (epoch ms), or `undefined` when there is none.
 *
 * - cron: the first matching wall-clock minute in the zone, within `startMs`..`endMs`; the search
 *   stops after year 2199.
 * - at(): its minute, if after `afterMs`; StartDate and EndDate do not apply (AWS ignores them for
 *   one-time schedules).
 * - rate: fires at `anchor + n·period` (n ≥ 0), the anchor being `startMs`, else `anchorMs` (pass
 *   the creation time T to fire at T, T + period, …); with neither, `afterMs` is taken as the
 *   previous fire. Fires up to `endMs`.
 */
export function nextFireAfter(
  expression: ScheduleExpression,
  afterMs: number,
  window: FireWindow = {},
): number | undefined {
  if (expression.kind === 'at') {
    const fire = firstInstantOf(expression.timezone, expression.at);
    return fire !== undefined && fire > afterMs ? fire : undefined;
  }
  const fire =
    expression.kind === 'rate'
      ? nextRateFire(expression.periodMs, afterMs, window)
      : nextCronFire(expression.fields, expression.timezone, afterMs, window.startMs);
  return fire !== undefined && (window.endMs === undefined || fire <= window.endMs)
    ? fire
    : undefined;
}

// ---- parsing ----

type Parsed = ScheduleExpression extends infer E
  ? E extends unknown
    ? Omit<E, 'expression' | 'timezone'>
    : never
  : never;

/**
 * `rate(<positive integer> <unit>)`. Whether Scheduler insists on `minute` for 1 and `minutes`
 * otherwise is unverified, so either form is accepted rather than refusing what AWS may take.
 */
function parseRate(expression: string): Parsed | undefined {
  const match = RATE_RE.exec(expression);
  if (match === null) return undefined;
  const value = Number(match[1]);
  const unit = match[2] as RateUnit;
  const periodMs = value * UNIT_MS[unit];
  if (value < 1 || !Number.isSafeInteger(periodMs)) return undefined;
  return { kind: 'rate', value, unit, periodMs };
}

/** `at(yyyy-mm-ddThh:mm:ss)`, a real calendar time from 1970 on. */
function parseAt(expression: string): Parsed | undefined {
  const match = AT_RE.exec(expression);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const valid =
    year >= 1970 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59;
  return valid ? { kind: 'at', at: { year, month, day, hour, minute } } : undefined;
}

/** `cron(minutes hours day-of-month month day-of-week year)`. */
function parseCron(expression: string): Parsed | undefined {
  if (!expression.startsWith('cron(') || !expression.endsWith(')')) return undefined;
  const body = expression.slice('cron('.length, -1);
  // Fields are separated by white space; none may lead or trail inside the parentheses.
  if (body !== body.trim()) return undefined;
  const parts = body.toUpperCase().split(/\s+/);
  if (parts.length !== 6) return undefined;
  const [minuteText, hourText, domText, monthText, dowText, yearText] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // Exactly one day field is `?`: the other one says which days match.
  if ((domText === '?') === (dowText === '?')) return undefined;
  const days = domText === '?' ? parseDayOfWeek(dowText) : parseDayOfMonth(domText);
  const minutes = parseList(minuteText, MINUTES);
  const hours = parseList(hourText, HOURS);
  const months = parseList(monthText, MONTHS);
  const years = parseList(yearText, YEARS);
  if (!days || !minutes || !hours || !months || !years) return undefined;
  return { kind: 'cron', fields: { minutes, hours, days, months, years } };
}

interface FieldRange {
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Whether `a-b` with b < a wraps past the maximum (Quartz; AWS's example `20-2`). */
  readonly wraps: boolean;
}

const MINUTES: FieldRange = { min: 0, max: 59, wraps: true };
const HOURS: FieldRange = { min: 0, max: 23, wraps: true };
const DAYS_OF_MONTH: FieldRange = { min: 1, max: 31, wraps: true };
const MONTH_NAMES = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
];
const MONTHS: FieldRange = { min: 1, max: 12, names: MONTH_NAMES, wraps: true };
const WEEKDAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const DAYS_OF_WEEK: FieldRange = { min: 1, max: 7, names: WEEKDAY_NAMES, wraps: true };
const YEARS: FieldRange = { min: 1970, max: 2199, wraps: false };

/** The day-of-month field: `L`, `L-n`, `LW`, `nW`, or a list. */
function parseDayOfMonth(text: string): DaySpec | undefined {
  if (text === 'L') return { kind: 'lastDayOfMonth', offset: 0 };
  if (text === 'LW') return { kind: 'lastWeekdayOfMonth' };
  const lastOffset = /^L-(\d+)$/.exec(text)?.[1];
  if (lastOffset !== undefined) {
    const offset = Number(lastOffset);
    return offset <= 30 ? { kind: 'lastDayOfMonth', offset } : undefined;
  }
  const nearest = /^(\d+)W$/.exec(text)?.[1];
  if (nearest !== undefined) {
    const day = parseValue(nearest, DAYS_OF_MONTH);
    return day === undefined ? undefined : { kind: 'nearestWeekday', day };
  }
  const days = parseList(text, DAYS_OF_MONTH);
  return days && { kind: 'daysOfMonth', days };
}

/** The day-of-week field: `L` (Saturday), `dL`, `d#n`, or a list. */
function parseDayOfWeek(text: string): DaySpec | undefined {
  if (text === 'L') return { kind: 'daysOfWeek', weekdays: [7] };
  const last = /^(\w+)L$/.exec(text)?.[1];
  if (last !== undefined) {
    const weekday = parseValue(last, DAYS_OF_WEEK);
    return weekday === undefined ? undefined : { kind: 'lastOfWeekday', weekday };
  }
  const nth = /^(\w+)#(\d)$/.exec(text);
  if (nth !== null) {
    const weekday = parseValue(nth[1] ?? '', DAYS_OF_WEEK);
    const n = Number(nth[2]);
    return weekday === undefined || n < 1 || n > 5
      ? undefined
      : { kind: 'nthWeekday', weekday, nth: n };
  }
  const weekdays = parseList(text, DAYS_OF_WEEK);
  return weekdays && { kind: 'daysOfWeek', weekdays };
}

/** A comma list of `*`, `v`, `a-b`, each optionally `/step`: the ascending values it allows. */
function parseList(text: string, range: FieldRange): number[] | undefined {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const itemValues = parseItem(item, range);
    if (itemValues === undefined) return undefined;
    for (const value of itemValues) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

function parseItem(item: string, range: FieldRange): number[] | undefined {
  const [base = '', stepText, extra] = item.split('/');
  if (extra !== undefined) return undefined;
  const step = stepText === undefined ? 1 : parseStep(stepText, range);
  if (step === undefined) return undefined;
  if (base === '*') return stepped(range.min, range.max, step, range);
  const [fromText = '', toText, rest] = base.split('-');
  if (rest !== undefined) return undefined;
  const from = parseValue(fromText, range);
  // `a/step` runs from a to the field's maximum; a lone value is just itself.
  const to = toText !== undefined ? parseValue(toText, range) : stepText ? range.max : from;
  if (from === undefined || to === undefined || (to < from && !range.wraps)) return undefined;
  return stepped(from, to, step, range);
}

function parseStep(text: string, range: FieldRange): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const step = Number(text);
  return step >= 1 && step <= range.max - range.min + 1 ? step : undefined;
}

/** A number or (for months and weekdays) a three-letter name within the field's range. */
function parseValue(text: string, range: FieldRange): number | undefined {
  const named = range.names?.indexOf(text) ?? -1;
  if (named >= 0) return range.min + named;
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= range.min && value <= range.max ? value : undefined;
}

/** from, from+step, … up to `to`, going round past the maximum when `to` < `from`. */
function stepped(from: number, to: number, step: number, range: FieldRange): number[] {
  const span = range.max - range.min + 1;
  const end = to >= from ? to : to + span;
  const values: number[] = [];
  for (let value = from; value <= end; value += step)
    values.push(((value - range.min) % span) + range.min);
  return values;
}

/** An IANA zone name that the runtime knows (offsets such as `+05:00` are not zone names). */
function isTimeZone(timezone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+/-]*$/.test(timezone)) return false;
  try {
    zoneFormatter(timezone);
    return true;
  } catch {
    return false;
  }
}

// ---- next fire ----

function nextRateFire(periodMs: number, afterMs: number, window: FireWindow): number {
  const anchor = window.startMs ?? window.anchorMs;
  if (anchor === undefined) return afterMs + periodMs;
  if (afterMs < anchor) return anchor;
  return anchor + (Math.floor((afterMs - anchor) / periodMs) + 1) * periodMs;
}

/**
 * Walks the matching wall-clock minutes from the one after `afterMs` on. A minute that does not
 * exist (spring gap) or whose first occurrence is not after `afterMs` (the second pass through a
 * repeated hour) is passed over, so at most an hour's worth of minutes is ever skipped.
 */
function nextCronFire(
  fields: CronFields,
  zone: string,
  afterMs: number,
  startMs: number | undefined,
): number | undefined {
  const from = startMs === undefined ? afterMs : Math.max(afterMs, startMs - 1);
  const now = localDateTimeOf(zone, from);
  let candidate = nextMatch(
    fields,
    normalized(now.year, now.month, now.day, now.hour, now.minute + 1),
  );
  while (candidate !== undefined) {
    const fire = firstInstantOf(zone, candidate);
    if (fire !== undefined && fire > from) return fire;
    const { year, month, day, hour, minute } = candidate;
    candidate = nextMatch(fields, normalized(year, month, day, hour, minute + 1));
  }
  return undefined;
}

/**
 * The first wall-clock minute at or after `from` that the fields allow. Each step jumps to the
 * next allowed value of the largest field that does not match, so the cost is a few steps per
 * month examined, never a walk through minutes.
 */
function nextMatch(fields: CronFields, from: LocalDateTime): LocalDateTime | undefined {
  let t = from;
  for (;;) {
    const year = firstAtLeast(fields.years, t.year);
    if (year === undefined) return undefined;
    if (year !== t.year) t = normalized(year, 1, 1, 0, 0);
    const month = firstAtLeast(fields.months, t.month);
    if (month === undefined) {
      t = normalized(t.year + 1, 1, 1, 0, 0);
      continue;
    }
    if (month !== t.month) t = normalized(t.year, month, 1, 0, 0);
    const day = firstAtLeast(matchingDays(fields.days, t.year, t.month), t.day);
    if (day === undefined) {
      t = normalized(t.year, t.month + 1, 1, 0, 0);
      continue;
    }
    if (day !== t.day) t = normalized(t.year, t.month, day, 0, 0);
    const hour = firstAtLeast(fields.hours, t.hour);
    if (hour === undefined) {
      t = normalized(t.year, t.month, t.day + 1, 0, 0);
      continue;
    }
    if (hour !== t.hour) t = normalized(t.year, t.month, t.day, hour, 0);
    const minute = firstAtLeast(fields.minutes, t.minute);
    if (minute !== undefined) return { ...t, minute };
    t = normalized(t.year, t.month, t.day, t.hour + 1, 0);
  }
}

/** The days of `month` that `spec` selects, ascending. */
function matchingDays(spec: DaySpec, year: number, month: number): number[] {
  const last = daysInMonth(year, month);
  const weekdayOf = (day: number): number =>
    new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
  const isWeekend = (day: number): boolean => weekdayOf(day) === 1 || weekdayOf(day) === 7;
  switch (spec.kind) {
    case 'daysOfMonth':
      return spec.days.filter((day) => day <= last);
    case 'lastDayOfMonth':
      return last - spec.offset >= 1 ? [last - spec.offset] : [];
    case 'lastWeekdayOfMonth':
      return [isWeekend(last) ? last - (weekdayOf(last) === 1 ? 2 : 1) : last];
    case 'nearestWeekday':
      return spec.day > last ? [] : [nearestWeekday(spec.day, last, weekdayOf(spec.day))];
    case 'daysOfWeek':
      return allDays(last).filter((day) => spec.weekdays.includes(weekdayOf(day)));
    case 'lastOfWeekday':
      return [last - ((weekdayOf(last) - spec.weekday + 7) % 7)];
    case 'nthWeekday': {
      const day = 1 + ((spec.weekday - weekdayOf(1) + 7) % 7) + (spec.nth - 1) * 7;
      return day <= last ? [day] : [];
    }
  }
}

/** `nW`: a Saturday moves back to Friday and a Sunday on to Monday, unless that leaves the month. */
function nearestWeekday(day: number, last: number, weekday: number): number {
  if (weekday === 7) return day === 1 ? 3 : day - 1;
  if (weekday === 1) return day === last ? day - 2 : day + 1;
  return day;
}

function allDays(last: number): number[] {
  return Array.from({ length: last }, (_, index) => index + 1);
}

function firstAtLeast(sorted: readonly number[], value: number): number | undefined {
  return sorted.find((candidate) => candidate >= value);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Calendar arithmetic with carries (minute 60, day 32, month 13 …) done by `Date.UTC`. */
function normalized(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): LocalDateTime {
  return fieldsOf(new Date(Date.UTC(year, month - 1, day, hour, minute)));
}

function fieldsOf(date: Date): LocalDateTime {
  return {
    year: date.getUTCFullYear(),
    month: date.getUTCMonth() + 1,
    day: date.getUTCDate(),
    hour: date.getUTCHours(),
    minute: date.getUTCMinutes(),
  };
}

// ---- time zones ----

const formatters = new Map<string, Intl.DateTimeFormat>();

/** One formatter per zone; constructing one throws a RangeError for an unknown zone. */
function zoneFormatter(zone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(zone);
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, formatter);
  }
  return formatter;
}

/** The zone's offset from UTC at `instantMs`, in milliseconds (east positive). */
function offsetMs(zone: string, instantMs: number): number {
  const parts = zoneFormatter(zone).formatToParts(new Date(instantMs));
  const part = (type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((candidate) => candidate.type === type)?.value);
  const wall = Date.UTC(
    part('year'),
    part('month') - 1,
    part('day'),
    part('hour'),
    part('minute'),
    part('second'),
  );
  return wall - Math.floor(instantMs / 1000) * 1000;
}

function localDateTimeOf(zone: string, instantMs: number): LocalDateTime {
  return fieldsOf(new Date(instantMs + offsetMs(zone, instantMs)));
}

/**
 * The earliest instant showing `local` on the zone's clocks, or `undefined` inside a spring gap.
 * The offsets a day either side cover any single transition near `local`; each is kept if the
 * zone really has it at the instant it gives.
 */
function firstInstantOf(zone: string, local: LocalDateTime): number | undefined {
  const asUtc = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  const offsets = new Set([offsetMs(zone, asUtc - DAY_MS), offsetMs(zone, asUtc + DAY_MS)]);
  const instants = [...offsets]
    .map((offset) => asUtc - offset)
    .filter((instant) => offsetMs(zone, instant) === asUtc - instant);
  return instants.length === 0 ? undefined : Math.min(...instants);
}
