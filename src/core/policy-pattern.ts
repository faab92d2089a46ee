/**
 * The wildcards of IAM policies, compiled once into matchers: actions (`lambda:Get*`, case does not
 * matter), resource ARNs (`*` and `?` within each of the first five colon-separated segments, and
 * across anything in the resource part after them, `/` and `:` included), and the `…Like`
 * condition operators (`*` and `?` anywhere, case matters).
 */

/** A compiled pattern. */
export type Matcher = (value: string) => boolean;

const ANY: Matcher = () => true;

/**
 * `*` (any run, possibly empty) and `?` (one character) anywhere in `pattern`. Matched without
 * regular expressions, in time proportional to the pattern's length times the value's at worst:
 * policies come from users, and a pattern such as `*a*a*a…b` would make a backtracking regular
 * expression take exponential time.
 */
export function wildcardMatcher(pattern: string, ignoreCase = false): Matcher {
  if (pattern === '*') return ANY;
  const folded = ignoreCase ? pattern.toLowerCase() : pattern;
  if (!folded.includes('*') && !folded.includes('?'))
    return ignoreCase ? (value) => value.toLowerCase() === folded : (value) => value === folded;
  return (value) => globMatch(folded, ignoreCase ? value.toLowerCase() : value);
}

/** An action pattern (`service:Name`, wildcards; case-insensitive). */
export function actionMatcher(pattern: string): Matcher {
  return wildcardMatcher(pattern, true);
}

/**
 * A resource ARN pattern: `*` alone matches everything; otherwise partition, service, region and
 * account each match within their segment, and the rest (the resource) as a whole.
 */
export function arnMatcher(pattern: string): Matcher {
  if (pattern === '*') return ANY;
  const parts = splitArn(pattern);
  if (parts === undefined) return wildcardMatcher(pattern);
  const matchers = parts.map((part) => wildcardMatcher(part));
  return (value) => {
    const valueParts = splitArnOnce(value);
    return (
      valueParts !== undefined && matchers.every((match, index) => match(valueParts[index] ?? ''))
    );
  };
}

/** The last ARN split by a matcher: one request's resource is matched by every statement. */
let lastArn: string | undefined;
let lastParts: string[] | undefined;

function splitArnOnce(arn: string): string[] | undefined {
  if (arn !== lastArn) {
    lastArn = arn;
    lastParts = splitArn(arn);
  }
  return lastParts;
}

/** `arn:partition:service:region:account:resource` as its six parts (the resource keeps colons). */
export function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** Glob matching with one backtrack point (the last `*`): linear in practice, O(n·m) at worst. */
function globMatch(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    const c = pattern[p];
    if (c === '*') {
      star = p;
      resume = v;
      p += 1;
    } else if (c !== undefined && (c === '?' || c === value[v])) {
      p += 1;
      v += 1;
    } else if (star >= 0) {
      p = star + 1;
      resume += 1;
      v = resume;
    } else return false;
  }
  while (pattern[p] === '*') p += 1;
  return p === pattern.length;
}
