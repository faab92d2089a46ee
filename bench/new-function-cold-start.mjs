// Cold starts as issue #4 defines them: the first invoke of a brand-new function. Each sample
// creates a function, waits until it is Active (not timed), then times its first invoke; a bare
// `node -e 0` is timed right after, so both saw the same load on the machine.
import { deployFunction } from './lambda-functions.mjs';

const NOOP = 'exports.handler = async () => null;\n';

/**
 * `count` first invokes of new functions named `<prefix>-<i>`: client latency and the REPORT
 * line's Init Duration, with one paired `timeNodeStart()` each.
 */
export async function measureNewFunctionColdStarts(options) {
  const { client, invoker, prefix, count, memorySize, parseReport, timeNodeStart, progress } =
    options;
  const samples = [];
  const pairedNode = [];
  for (let i = 1; i <= count; i += 1) {
    const name = `${prefix}-${i}`;
    await deployFunction(client, name, NOOP, { memorySize });
    const first = await invoker.invoke(name, { logTail: true });
    if (first.functionError !== undefined)
      throw new Error(
        `first invoke of ${name} failed (${first.functionError}): ${first.body.toString()}`,
      );
    const report = parseReport(first.logResult);
    if (report?.initDurationMs === undefined)
      throw new Error(`the first invoke of ${name} has no Init Duration: not a cold start`);
    samples.push({ clientMs: first.ms, initMs: report.initDurationMs });
    pairedNode.push(await timeNodeStart());
    if (i % 10 === 0) progress(`  ${i}/${count}`);
  }
  return { samples, pairedNode };
}
