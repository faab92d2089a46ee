/** What the invocation engine needs from the rest of the platform (implemented by the server). */
import type { ResolvedFunction } from '../environment/ports.js';

/** Finds the function an Invoke names (throws the API's not-found / conflict errors). */
export interface FunctionResolver {
  resolve(functionName: string, qualifier: string | undefined): Promise<ResolvedFunction>;
}
