/**
 * The wildcards of IAM policies, compiled once into matchers: actions (`lambda:Get*`, case does not
 * matter), resource ARNs (`*` and `?` within each of the first five colon-separated segments, `*`
 * across anything in the resource part after them, `/` and `:` included), and the `…Like`
 * condition operators (`*` and `?` anywhere, case matters).
 */

/** A compiled pattern. */
export type Matcher = (value: string) => boolean;

const ANY: Matcher = () => true;

/** `*` (any run, possibly empty) and `?` (one character) anywhere in `pattern`. */
export function wildcardMatcher(pattern: string, ignoreCase = false): Matcher {
  if (pattern === '*') return ANY;
  if (!pattern.includes('*') && !pattern.includes('?')) {
    if (!ignoreCase) return (value) => value === pattern;
    const lower = pattern.toLowerCase();
    return (value) => value.toLowerCase() === lower;
  }
  const regex = new RegExp(`^${toRegexSource(pattern, '[\\s\\S]')}$`, ignoreCase ? 'i' : '');
  return (value) => regex.test(value);
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
  const segments = parts.map((part, index) =>
    index < 5 ? new RegExp(`^${toRegexSource(part, '[^:]')}$`) : undefined,
  );
  const rest = wildcardMatcher(parts[5] ?? '');
  return (value) => {
    const valueParts = splitArn(value);
    if (valueParts === undefined) return false;
    for (let i = 0; i < 5; i += 1) {
      if (!(segments[i] as RegExp).test(valueParts[i] ?? '')) return false;
    }
    return rest(valueParts[5] ?? '');
  };
}

/** `arn:partition:service:region:account:resource` as its six parts (the resource keeps colons). */
export function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

function toRegexSource(pattern: string, anyChar: string): string {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += `${anyChar}*`;
    else if (char === '?') source += anyChar;
    else source += char.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return source;
}
