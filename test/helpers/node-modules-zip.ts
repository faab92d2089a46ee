/**
 * Zip entries for a Node.js application with dependencies: the named packages and everything they
 * depend on, copied from the project's own node_modules (so tests can deploy real frameworks).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { ZipEntrySpec } from './zips.js';
import { REPO_ROOT } from './server-process.js';

const NODE_MODULES = join(REPO_ROOT, 'node_modules');

/** `node_modules/…` entries for `packages` and their dependency closure. */
export function nodeModulesEntries(packages: readonly string[]): ZipEntrySpec[] {
  const included = new Set<string>();
  const pending = [...packages];
  while (pending.length > 0) {
    const name = pending.pop() ?? '';
    if (included.has(name)) continue;
    const dir = join(NODE_MODULES, name);
    if (!existsSync(dir)) {
      if (packages.includes(name)) throw new Error(`${name} is not installed (run npm ci)`);
      continue;
    }
    included.add(name);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      // A copy nested under the package travels with it; the others are hoisted.
      if (!existsSync(join(dir, 'node_modules', dependency))) pending.push(dependency);
    }
  }
  return [...included].sort().flatMap((name) => filesUnder(join(NODE_MODULES, name)));
}

function filesUnder(dir: string): ZipEntrySpec[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) return filesUnder(path);
    if (!stat.isFile()) return [];
    return [{ name: relative(REPO_ROOT, path), content: readFileSync(path) }];
  });
}
