// Cold starts: every sample is the first invoke of a brand-new execution environment. After each
// sample the function is asked to `process.exit`, so the platform tears that environment down
// (Runtime.ExitError) before answering; the next invoke has no warm environment and starts one.
// Nothing else runs during a sample: the teardown is finished before the next one begins.

/** The handler: a no-op, unless the event asks it to end its environment. */
export const COLD_FUNCTION_SOURCE =
  'exports.handler = async (event) => {\n' +
  '  if (event && event.exit === true) process.exit(0);\n' +
  '  return null;\n' +
  '};\n';

/**
 * `count` cold starts of `functionName` with `invoker` (createSignedInvoker): the client latency
 * of each first invoke and the REPORT line's Init Duration and Duration. `afterEach()`, if given,
 * runs once the environment is gone (e.g. to time a paired baseline under the same load).
 */
export async function measureColdStarts(invoker, functionName, count, parseReport, afterEach) {
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    const first = await invoker.invoke(functionName, { logTail: true });
    if (first.functionError !== undefined)
      throw new Error(`cold invoke failed (${first.functionError}): ${first.body.toString()}`);
    const report = parseReport(first.logResult);
    if (report?.initDurationMs === undefined)
      throw new Error(
        'the first invoke of a new environment has no Init Duration in its REPORT line',
      );
    samples.push({
      clientMs: first.ms,
      initMs: report.initDurationMs,
      durationMs: report.durationMs,
    });
    const end = await invoker.invoke(functionName, { payload: { exit: true } });
    if (end.functionError === undefined)
      throw new Error('asking the function to exit did not end its environment');
    await afterEach?.(i + 1);
  }
  return samples;
}
