#!/usr/bin/env node
// Entry point of the `lamina` command: runs the compiled CLI (build with `npm run build`). The
// bundle made by the set-up (scripts/bundle.mjs) starts faster; it is used only while it is at
// least as new as the compiled files, so a later `tsc` alone is never shadowed by a stale bundle.
import { statSync } from 'node:fs';

const cli = new URL('../dist/src/cli/', import.meta.url);
const mtime = (name) => {
  try {
    return statSync(new URL(name, cli)).mtimeMs;
  } catch {
    return undefined;
  }
};
const bundled = mtime('main.bundle.mjs');
const compiled = mtime('main.js');
const fresh = bundled !== undefined && compiled !== undefined && bundled >= compiled;
const { main } = await import(
  fresh ? '../dist/src/cli/main.bundle.mjs' : '../dist/src/cli/main.js'
);

main(process.argv).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
