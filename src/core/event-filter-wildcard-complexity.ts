/**
 * EventBridge's refusal of wildcard patterns that are too hard to match: a set of globs on one
 * field is rated by how many positions after a `*` a worst-case value can keep alive at once,
 * and over 10 the rule is rejected (the limit fits AWS's recorded accept and reject cases). The
 * rating explores the reachable position sets of an automaton, which can blow up, so the
 * exploration has a step budget of 20 000 and anything past it rates as too complex.
 */
import type { Glob } from './event-filter-wildcard.js';

/** Highest rating a field's wildcards may have. */
export const MAX_WILDCARD_COMPLEXITY = 10;
/** Position sets explored before a field's wildcards are rated too complex outright. */
const MAX_WILDCARD_ANALYSIS_STEPS = 20_000;

/**
 * How many positions after a `*` a worst-case value can keep alive at once, across all the
 * wildcards of one field: EventBridge's measure of how hard a rule is to match. Explores the
 * sets of positions that values can reach (a subset construction), stopping as soon as the
 * answer is over the limit or the exploration outgrows its budget.
 */
export function wildcardComplexity(globs: readonly Glob[]): number {
  const nfa = new WildcardNfa(globs.filter((glob) => glob.tokens.includes(null)));
  const first = nfa.closure(nfa.starts);
  const seen = new Set([first.join()]);
  const pending = [first];
  let worst = 0;
  for (let steps = 0; pending.length > 0; steps += 1) {
    if (steps > MAX_WILDCARD_ANALYSIS_STEPS) return Infinity;
    const state = pending.pop() ?? [];
    worst = Math.max(worst, state.filter((p) => nfa.afterStar[p]).length);
    if (worst > MAX_WILDCARD_COMPLEXITY) return worst;
    for (const next of nfa.successors(state)) {
      const key = next.join();
      if (next.length > 0 && !seen.has(key)) {
        seen.add(key);
        pending.push(next);
      }
    }
  }
  return worst;
}

/** The wildcards of one field as one automaton over positions; a position awaits a token. */
class WildcardNfa {
  /** Per position: the character awaited, null for a star (loops), undefined at a glob's end. */
  readonly tokens: Array<string | null | undefined> = [];
  /** Per position: whether a star comes at or before it in its glob. */
  readonly afterStar: boolean[] = [];
  readonly starts: number[] = [];

  constructor(globs: readonly Glob[]) {
    for (const glob of globs) {
      this.starts.push(this.tokens.length);
      let seenStar = false;
      for (const token of [...glob.tokens, undefined]) {
        seenStar ||= token === null;
        this.tokens.push(token);
        this.afterStar.push(seenStar);
      }
    }
  }

  /** The positions, plus those a star lets a value skip to without reading anything. */
  closure(positions: Iterable<number>): number[] {
    const set = new Set<number>();
    for (let p of positions) {
      set.add(p);
      while (this.tokens[p] === null) set.add((p += 1));
    }
    return [...set].sort((a, b) => a - b);
  }

  /** The states one more character leads to: one per awaited character, one for any other. */
  successors(state: readonly number[]): number[][] {
    const stars = state.filter((p) => this.tokens[p] === null);
    const byCharacter = new Map<string, number[]>();
    for (const p of state) {
      const token = this.tokens[p];
      if (typeof token !== 'string') continue;
      const moved = byCharacter.get(token) ?? [];
      moved.push(p + 1);
      byCharacter.set(token, moved);
    }
    return [
      ...[...byCharacter.values()].map((moved) => this.closure([...stars, ...moved])),
      this.closure(stars),
    ];
  }
}
