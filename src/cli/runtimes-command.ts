/**
 * `lamina runtimes list | install [RUNTIME[@VERSION]...] [--all] [--sdk] | remove RUNTIME[@VERSION]`:
 * the managed runtimes folder (official Node.js binaries and the AWS SDK bundle, see
 * RuntimeStore), and what each runtime id runs on. This module also runs on its own
 * (`node dist/src/cli/runtimes-command.js …`), which loads in a tenth of the time of the full
 * `lamina` command: scripts/setup.sh uses it to find out quickly whether anything is missing.
 */
import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import {
  defaultRuntimesDir,
  hostPythonVersions,
  NODE_RUNTIMES,
  PROVIDED_RUNTIMES,
  PYTHON_RUNTIMES,
  RuntimeStore,
} from '../runtimes/runtime-store.js';
import { pythonNotInstallable } from '../runtimes/runtime-ids.js';
import { runtimeVersionArnOf } from '../server/runtime-versions.js';

/** Where the folder is and where to print. */
export interface RuntimesCommandOptions {
  readonly runtimesDir: string;
  readonly json: boolean;
  /** The region the runtime version ARNs are shown for. */
  readonly region?: string | undefined;
  readonly write: (text: string) => void;
}

/** One row of `lamina runtimes list`. */
export interface RuntimeStatus {
  readonly runtime: string;
  readonly status: 'ready' | 'not installed' | 'unavailable';
  /** Exact versions, newest first (empty when not ready). */
  readonly versions: readonly string[];
  readonly source: string;
  /** The newest install's prefix (Node.js) or the interpreter (Python). */
  readonly home?: string;
  /** How to install it (Node.js not installed). */
  readonly install?: string;
  /** Why it cannot run here (Python without its interpreter). */
  readonly reason?: string;
  /** Each ready release with its RuntimeVersionArn (what PutRuntimeManagementConfig pins). */
  readonly releases?: readonly { readonly version: string; readonly runtimeVersionArn: string }[];
}

/** The SDK bundle's line of `lamina runtimes list`. */
export interface SdkStatus {
  readonly status: 'ready' | 'not installed';
  /** The version the committed list pins (undefined: the list is missing or unreadable). */
  readonly version: string | undefined;
  readonly packages?: number;
  readonly nodeModules?: string;
  readonly install?: string;
}

/** Every managed runtime id and whether it can run here, with the SDK bundle. */
export function runtimesStatus(
  store: RuntimeStore,
  region = 'us-east-1',
): {
  runtimes: RuntimeStatus[];
  awsSdk: SdkStatus;
} {
  const releases = (runtime: string, versions: readonly string[]) =>
    versions.map((version) => ({
      version,
      runtimeVersionArn: runtimeVersionArnOf(region, runtime, version),
    }));
  const installed = store.list();
  const rows: RuntimeStatus[] = NODE_RUNTIMES.map((runtime): RuntimeStatus => {
    const mine = installed.filter((item) => item.runtime === runtime);
    const newest = mine[0];
    if (newest === undefined)
      return {
        runtime,
        status: 'not installed',
        versions: [],
        source: '',
        install: `lamina runtimes install ${runtime}`,
      };
    return {
      runtime,
      status: 'ready',
      versions: mine.map((item) => item.version),
      source: newest.source,
      home: newest.home,
      releases: releases(
        runtime,
        mine.map((item) => item.version),
      ),
    };
  });
  const pythons = hostPythonVersions();
  for (const runtime of PYTHON_RUNTIMES) {
    const host = pythons.find((item) => item.runtime === runtime);
    const binary = `/usr/bin/${runtime.replace(/^python/, 'python')}`;
    rows.push(
      host === undefined
        ? {
            runtime,
            status: 'unavailable',
            versions: [],
            source: '',
            reason: `${binary} is missing. ${pythonNotInstallable(runtime)}`,
          }
        : {
            runtime,
            status: 'ready',
            versions: [host.version],
            source: `host:${binary}`,
            home: binary,
            releases: releases(runtime, [host.version]),
          },
    );
  }
  for (const runtime of PROVIDED_RUNTIMES)
    rows.push({ runtime, status: 'ready', versions: [], source: "the function's own bootstrap" });
  const sdk = store.sdkStatus();
  const bundle = store.sdkBundles().find((item) => item.version === sdk.version);
  const nodeModules = store.sdkModules();
  const awsSdk: SdkStatus =
    bundle === undefined || nodeModules === undefined
      ? { status: 'not installed', version: sdk.version, install: 'lamina runtimes install --sdk' }
      : { status: 'ready', version: sdk.version, packages: bundle.packages, nodeModules };
  return { runtimes: rows, awsSdk };
}

/** `lamina runtimes list`: a table, or the same as JSON. */
export function listRuntimes(options: RuntimesCommandOptions): void {
  const store = new RuntimeStore(options.runtimesDir);
  const region = options.region ?? 'us-east-1';
  const { runtimes, awsSdk } = runtimesStatus(store, region);
  if (options.json) {
    options.write(
      `${JSON.stringify({ runtimesDir: options.runtimesDir, runtimes, awsSdk }, null, 2)}\n`,
    );
    return;
  }
  const table = [
    ['RUNTIME', 'STATUS', 'VERSION', 'SOURCE'],
    ...runtimes.map((row) => [
      row.runtime,
      row.status,
      row.versions.join(', ') || '-',
      row.status === 'ready'
        ? row.source
        : (row.install ??
          `no /usr/bin/${row.runtime}; Lamina cannot install Python (no trustworthy source reachable; --json says more)`),
    ]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...table.map((cells) => (cells[i] ?? '').length)));
  for (const cells of table)
    options.write(
      `${cells
        .map((cell, i) => (i < 3 ? cell.padEnd(widths[i] ?? 0) : cell))
        .join('  ')
        .trimEnd()}\n`,
    );
  options.write(
    awsSdk.status === 'ready'
      ? `\nAWS SDK for JavaScript v3 ${awsSdk.version ?? ''}: ${awsSdk.packages ?? 0} packages in ${awsSdk.nodeModules ?? ''}\n`
      : `\nAWS SDK for JavaScript v3 ${awsSdk.version ?? '(no package list)'}: not installed (${awsSdk.install ?? ''})\n`,
  );
  options.write(`\nRuntime version ARNs (${region}; --region for another):\n`);
  for (const row of runtimes)
    for (const release of row.releases ?? [])
      options.write(
        `  ${row.runtime.padEnd(11)} ${release.version.padEnd(9)} ${release.runtimeVersionArn}\n`,
      );
  options.write(`Runtimes folder: ${options.runtimesDir}\n`);
}

/** `RUNTIME` or `RUNTIME@VERSION`. */
function parseSpec(spec: string): { runtime: string; version: string | undefined } {
  const at = spec.indexOf('@');
  return at < 0
    ? { runtime: spec, version: undefined }
    : { runtime: spec.slice(0, at), version: spec.slice(at + 1) };
}

/** What `install` would do, without the network: the specs and SDK not installed yet. */
export function missingRuntimes(
  store: RuntimeStore,
  specs: readonly string[],
  sdk: boolean,
): string[] {
  const installed = store.list();
  const missing = specs.filter((spec) => {
    const { runtime, version } = parseSpec(spec);
    return !installed.some(
      (item) => item.runtime === runtime && (version === undefined || item.version === version),
    );
  });
  if (sdk) {
    const status = store.sdkStatus();
    if (!status.installed) missing.push(`aws-sdk-js-v3@${status.version ?? 'unknown'}`);
  }
  return missing;
}

/** `lamina runtimes install`: each RUNTIME[@VERSION], the four Node.js runtimes with `all`, the SDK with `sdk` or `all`. */
export async function installRuntimes(
  options: RuntimesCommandOptions,
  specs: readonly string[],
  flags: { readonly all: boolean; readonly sdk: boolean; readonly dryRun: boolean },
): Promise<void> {
  const store = new RuntimeStore(options.runtimesDir);
  const wanted = [...new Set([...(flags.all ? NODE_RUNTIMES : []), ...specs])];
  const withSdk = flags.all || flags.sdk;
  if (wanted.length === 0 && !withSdk)
    throw new Error(
      'name a runtime (e.g. nodejs22.x or nodejs22.x@22.23.5), or give --all or --sdk',
    );
  if (flags.dryRun) {
    const missing = missingRuntimes(store, wanted, withSdk);
    if (options.json) options.write(`${JSON.stringify({ missing })}\n`);
    else if (missing.length > 0) options.write(`${missing.join(' ')}\n`);
    return;
  }
  const before = new Set(store.list().map((item) => `${item.runtime}@${item.version}`));
  const results: { runtime: string; version: string; installed: boolean; source: string }[] = [];
  for (const spec of wanted) {
    const { runtime, version } = parseSpec(spec);
    const done = await store.install(runtime, version);
    const key = `${done.runtime}@${done.version}`;
    results.push({
      runtime,
      version: done.version,
      installed: !before.has(key),
      source: done.source,
    });
  }
  if (withSdk) {
    const present = store.sdkStatus().installed;
    const sdk = await store.installSdk();
    results.push({
      runtime: 'aws-sdk-js-v3',
      version: sdk.version,
      installed: !present,
      source: `npm: ${sdk.packages} packages`,
    });
  }
  if (options.json) return options.write(`${JSON.stringify({ results }, null, 2)}\n`);
  for (const result of results)
    options.write(
      result.installed
        ? `Installed ${result.runtime} ${result.version} (${result.source}).\n`
        : `${result.runtime} ${result.version} is already installed.\n`,
    );
}

/** `lamina runtimes remove RUNTIME[@VERSION]`. */
export async function removeRuntime(options: RuntimesCommandOptions, spec: string): Promise<void> {
  const { runtime, version } = parseSpec(spec);
  const removed = await new RuntimeStore(options.runtimesDir).remove(runtime, version);
  if (options.json) return options.write(`${JSON.stringify({ removed }, null, 2)}\n`);
  if (removed.length === 0) return options.write(`${spec} is not installed.\n`);
  for (const item of removed) options.write(`Removed ${item.runtime} ${item.version}.\n`);
}

/** Registers `runtimes list|install|remove` on the `lamina` command. */
export function addRuntimesCommands(program: Command): void {
  const runtimes = program
    .command('runtimes')
    .description('Install and list the managed runtimes (Node.js 18–24, the AWS SDK bundle).');
  const common = (command: Command) =>
    command
      .option('--runtimes-dir <dir>', 'the runtimes folder', defaultRuntimesDir())
      .option('--json', 'print JSON', false);
  const optionsOf = (values: Record<string, unknown>): RuntimesCommandOptions => ({
    runtimesDir: values['runtimesDir'] as string,
    json: values['json'] === true,
    region: values['region'] as string | undefined,
    write: (text) => process.stdout.write(text),
  });
  common(
    runtimes
      .command('list')
      .description('Each runtime id: ready, not installed or unavailable, with exact versions.')
      .option(
        '--region <region>',
        'the region of the RuntimeVersionArns shown',
        process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      ),
  ).action((values: Record<string, unknown>) => listRuntimes(optionsOf(values)));
  common(
    runtimes
      .command('install')
      .description(
        'Install Node.js runtimes from the npm registry (newest of the major by default).',
      )
      .argument('[runtimes...]', 'RUNTIME or RUNTIME@VERSION, e.g. nodejs22.x, nodejs22.x@22.23.3')
      .option('--all', 'the four Node.js runtimes and the AWS SDK bundle', false)
      .option('--sdk', 'the AWS SDK for JavaScript v3 bundle', false)
      .option('--dry-run', 'print what is missing (no network), install nothing', false),
  ).action((specs: string[], values: Record<string, unknown>) =>
    installRuntimes(optionsOf(values), specs, {
      all: values['all'] === true,
      sdk: values['sdk'] === true,
      dryRun: values['dryRun'] === true,
    }),
  );
  common(
    runtimes
      .command('remove')
      .description('Remove one installed release, or every release of a runtime.')
      .argument('<runtime>', 'RUNTIME or RUNTIME@VERSION'),
  ).action((spec: string, values: Record<string, unknown>) =>
    removeRuntime(optionsOf(values), spec),
  );
}

/** Run on its own: `node dist/src/cli/runtimes-command.js runtimes …` or `… install --all`. */
function runsAsScript(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (runsAsScript()) {
  const program = new Command('lamina');
  addRuntimesCommands(program);
  const args = process.argv.slice(2);
  program
    .parseAsync([
      'node',
      join('lamina'),
      ...(args[0] === 'runtimes' ? args : ['runtimes', ...args]),
    ])
    .catch((error: unknown) => {
      process.stderr.write(`lamina: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
