#!/usr/bin/env node
// Entry point of the `lamina` command: runs the compiled CLI (build with `npm run build`).
import { main } from '../dist/src/cli/main.js';

main(process.argv).catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
