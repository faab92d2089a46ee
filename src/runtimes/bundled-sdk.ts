/**
 * Node.js functions on AWS find the AWS SDK v3 in /var/runtime/node_modules. Lamina ships the
 * Lambda client the same way: its package and dependency closure are copied from Lamina's own
 * node_modules into the runtime folder the jail mounts at /var/runtime.
 */
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** The packages to ship: where they live, and each one's name and version. */
export interface SdkClosure {
  readonly nodeModules: string | undefined;
  readonly packages: readonly { readonly name: string; readonly version: string }[];
}

/** `packages` and their dependency closure, as installed in Lamina's node_modules. */
export function awsSdkClosure(
  packages: readonly string[] = ['@aws-sdk/client-lambda'],
): SdkClosure {
  const require = createRequire(import.meta.url);
  const roots = packages.map((name) => dirname(require.resolve(`${name}/package.json`)));
  const nodeModules = roots[0] === undefined ? undefined : rootOf(roots[0], packages[0] ?? '');
  if (nodeModules === undefined) return { nodeModules, packages: [] };
  const seen = new Map<string, string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const dir = join(nodeModules, name);
    if (!existsSync(join(dir, 'package.json'))) return; // nested under its dependant: copied with it
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      version?: string;
      dependencies?: Record<string, string>;
    };
    seen.set(name, manifest.version ?? '');
    for (const dependency of Object.keys(manifest.dependencies ?? {})) visit(dependency);
  };
  for (const name of packages) visit(name);
  return { nodeModules, packages: [...seen].map(([name, version]) => ({ name, version })) };
}

/** Copies the packages of `closure` into `<runtimeDir>/node_modules`. */
export function shipAwsSdk(runtimeDir: string, closure: SdkClosure): void {
  const { nodeModules } = closure;
  if (nodeModules === undefined) return;
  for (const { name } of closure.packages) {
    cpSync(join(nodeModules, name), join(runtimeDir, 'node_modules', name), { recursive: true });
  }
}

function rootOf(packageDir: string, name: string): string {
  return packageDir.slice(0, packageDir.length - name.length - 1);
}
