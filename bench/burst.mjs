// A burst of simultaneous first calls to a new function: every call must succeed (the platform
// coalesces them into a bounded number of environment starts); reports the latency spread.
import { deployFunction } from './lambda-functions.mjs';

export async function measureBurst({ client, newInvoker, name, calls, memorySize }) {
  await deployFunction(client, name, 'exports.handler = async () => null;\n', { memorySize });
  const invokers = Array.from({ length: calls }, () => newInvoker());
  const outcomes = await Promise.all(
    invokers.map(async (invoker) => {
      try {
        const response = await invoker.invoke(name);
        return { ms: response.ms, ok: response.functionError === undefined };
      } catch (error) {
        return { ms: undefined, ok: false, error: String(error) };
      }
    }),
  );
  for (const invoker of invokers) invoker.close?.();
  return {
    latencies: outcomes.filter((o) => o.ms !== undefined).map((o) => o.ms),
    errors: outcomes.filter((o) => !o.ok).length,
  };
}
