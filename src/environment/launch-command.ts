/**
 * Adjusts how a runtime starts for one function: a custom runtime's `bootstrap` is taken from
 * /var/task, else from a layer (/opt); a managed runtime goes through `AWS_LAMBDA_EXEC_WRAPPER`
 * when the function sets it (the wrapper receives the runtime's command as its arguments).
 */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import type { FunctionSettings } from '../core/function-model.js';
import type { ResolvedFunction, RuntimeLaunch } from './ports.js';
import { isFolderInRoot, isProgramInRoot } from './image-paths.js';

/** The launch to use, or why the function cannot start (`Runtime.InvalidEntrypoint`). */
export type LaunchChoice =
  | { readonly ok: true; readonly launch: RuntimeLaunch }
  | {
      readonly ok: false;
      /** `Runtime.InvalidEntrypoint` unless said otherwise. */
      readonly errorType?: 'Runtime.InvalidEntrypoint' | 'Runtime.InvalidWorkingDirectory';
      readonly message: string;
    };

/** Picks the bootstrap of a custom runtime and applies the exec wrapper of a managed one. */
export async function launchFor(
  launch: RuntimeLaunch,
  resolved: ResolvedFunction,
): Promise<LaunchChoice> {
  if (launch.rootDir !== undefined) return imageLaunchChoice(launch, launch.rootDir);
  if (launch.entrypoints.length === 0) {
    return { ok: true, launch: withExecWrapper(launch, resolved.version.settings) };
  }
  const places: Array<{ inside: string; host: string | undefined }> = [
    { inside: '/var/task', host: resolved.codeDir },
    { inside: '/opt', host: resolved.optDir },
  ];
  for (const place of places) {
    for (const entry of launch.entrypoints) {
      if (place.host !== undefined && (await isExecutable(join(place.host, entry)))) {
        return { ok: true, launch: { ...launch, command: [`${place.inside}/${entry}`] } };
      }
    }
  }
  const candidates = places.flatMap((p) => launch.entrypoints.map((e) => `${p.inside}/${e}`));
  return { ok: false, message: `Couldn't find valid bootstrap(s): [${candidates.join(' ')}]` };
}

/**
 * A managed runtime (one that can be pre-started) started through the function's
 * `AWS_LAMBDA_EXEC_WRAPPER`: `<wrapper> <runtime command…>`. Custom runtimes ignore it, as on AWS.
 */
export function withExecWrapper(launch: RuntimeLaunch, settings: FunctionSettings): RuntimeLaunch {
  const wrapper = settings.environment?.['AWS_LAMBDA_EXEC_WRAPPER'];
  if (!launch.prestart || wrapper === undefined || wrapper === '') return launch;
  return { ...launch, command: [wrapper, ...launch.command] };
}

/**
 * An image's command and working directory, checked inside the image as AWS does before it runs
 * them: a missing entry point is `Runtime.InvalidEntrypoint`, a missing working directory
 * `Runtime.InvalidWorkingDirectory` (a command found through PATH is left to the exec).
 */
async function imageLaunchChoice(launch: RuntimeLaunch, rootDir: string): Promise<LaunchChoice> {
  const [program] = launch.command;
  if (program === undefined) {
    return {
      ok: false,
      message:
        'The image has no ENTRYPOINT or CMD, and the function sets no ImageConfig.EntryPoint or Command.',
    };
  }
  if (program.startsWith('/') && !(await isProgramInRoot(rootDir, program))) {
    return { ok: false, message: `fork/exec ${program}: no such file or directory` };
  }
  const dir = launch.workingDirectory;
  if (dir !== undefined && !(await isFolderInRoot(rootDir, dir))) {
    return {
      ok: false,
      errorType: 'Runtime.InvalidWorkingDirectory',
      message: `chdir ${dir}: no such file or directory`,
    };
  }
  return { ok: true, launch };
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
