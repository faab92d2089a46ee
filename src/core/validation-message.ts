/**
 * Lambda's validation-error text: `N validation error(s) detected: Value '<v>' at '<field>'
 * failed to satisfy constraint: <constraint>; …`, with values rendered the Java way AWS does.
 */

/** One violated constraint of one field. */
export interface Violation {
  readonly field: string;
  readonly value: unknown;
  readonly constraint: string;
}

/** Renders a value the way AWS quotes it: strings and lists in quotes, null bare. */
export function renderValue(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `'[${value.map((v) => scalar(v)).join(', ')}]'`;
  return `'${scalar(value)}'`;
}

function scalar(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** Renders one violation without the count prefix. */
export function renderViolation(v: Violation): string {
  return `Value ${renderValue(v.value)} at '${v.field}' failed to satisfy constraint: ${v.constraint}`;
}

/** The full message for one or more violations. */
export function validationMessage(violations: readonly Violation[]): string {
  const n = violations.length;
  const head = `${n} validation error${n === 1 ? '' : 's'} detected: `;
  return head + violations.map(renderViolation).join('; ');
}

export const constraint = {
  pattern: (pattern: string) => `Member must satisfy regular expression pattern: ${pattern}`,
  maxLength: (max: number) => `Member must have length less than or equal to ${max}`,
  minLength: (min: number) => `Member must have length greater than or equal to ${min}`,
  min: (min: number) => `Member must have value greater than or equal to ${min}`,
  max: (max: number) => `Member must have value less than or equal to ${max}`,
  notNull: () => 'Member must not be null',
  enumeration: (values: readonly string[]) =>
    `Member must satisfy enum value set: [${values.join(', ')}]`,
};
