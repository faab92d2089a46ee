/**
 * Rewrites what a command and its environment say about a jail's paths and addresses into the
 * host's, for environments that run without a jail (the plain-process driver): `/var/task/x`
 * becomes `<code folder>/x`, `PATH=/var/lang/bin:/opt/bin` names the host folders, and
 * `127.0.0.1:9001` the port of the Runtime API's relay. Pure.
 */

/** A jail path (`/var/task`) or address (`127.0.0.1:9001`) and what stands for it on the host. */
export interface JailMapping {
  readonly inside: string;
  readonly host: string;
}

/** Characters that may come before or after a path inside a variable's value or an argument. */
const BEFORE = String.raw`(^|[\s:=,;"'/@\(\[\{\x60])`;
const AFTER = String.raw`(?=$|[\s/:,;"'\)\]\}\x60])`;

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A function that rewrites every whole occurrence of a mapping's `inside` in a string. */
export function jailPathRewriter(mappings: readonly JailMapping[]): (value: string) => string {
  if (mappings.length === 0) return (value) => value;
  // Longest first, so that `/var/task` is never read as the start of a longer mapped path.
  const sorted = [...mappings].sort((a, b) => b.inside.length - a.inside.length);
  const byInside = new Map(sorted.map((m) => [m.inside, m.host]));
  const pattern = new RegExp(
    `${BEFORE}(${sorted.map((m) => escape(m.inside)).join('|')})${AFTER}`,
    'g',
  );
  return (value) =>
    value.replace(
      pattern,
      (_match, before: string, inside: string) => before + (byInside.get(inside) ?? inside),
    );
}

/** The command and environment, rewritten. */
export function rewriteLaunch(
  command: readonly string[],
  env: Readonly<Record<string, string>>,
  rewrite: (value: string) => string,
): { command: string[]; env: Record<string, string> } {
  return {
    command: command.map(rewrite),
    env: Object.fromEntries(Object.entries(env).map(([name, value]) => [name, rewrite(value)])),
  };
}
