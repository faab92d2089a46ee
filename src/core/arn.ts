/** Builders of Lambda ARNs. */

/** Where resources live: the region and account Lamina presents itself as. */
export interface Scope {
  readonly region: string;
  readonly accountId: string;
}

/** `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`. */
export function functionArn(scope: Scope, name: string, qualifier?: string): string {
  const base = `arn:aws:lambda:${scope.region}:${scope.accountId}:function:${name}`;
  return qualifier === undefined ? base : `${base}:${qualifier}`;
}

/** The runtime version ARN reported in `RuntimeVersionConfig`; stable per runtime and region. */
export function runtimeVersionArn(region: string, runtimeVersionId: string): string {
  return `arn:aws:lambda:${region}::runtime:${runtimeVersionId}`;
}
