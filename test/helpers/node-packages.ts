/**
 * Zip entries of installed npm packages and everything they depend on (from the repository's
 * node_modules), so a test function can ship real libraries in its own archive.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO_ROOT } from './server-process.js';
import type { ZipEntrySpec } from './zips.js';

const MODULES = join(REPO_ROOT, 'node_modules');

/** `node_modules/<pkg>/…` entries for the packages and their dependency closure. */
export function packageEntries(names: readonly string[]): ZipEntrySpec[] {
  const seen = new Set<string>();
  const queue = [...names];
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const manifest = JSON.parse(readFileSync(join(MODULES, name, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    queue.push(...Object.keys(manifest.dependencies ?? {}));
  }
  return [...seen].flatMap((name) => filesUnder(join(MODULES, name)));
}

function filesUnder(dir: string): ZipEntrySpec[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return filesUnder(path);
    if (!entry.isFile()) return [];
    return [
      {
        name: `node_modules/${relative(MODULES, path)}`,
        content: readFileSync(path),
        mode: 0o100000 | (statSync(path).mode & 0o777),
      },
    ];
  });
}
