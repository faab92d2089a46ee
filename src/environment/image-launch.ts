/**
 * How an image function starts: its image's ENTRYPOINT and CMD (each replaced by the function's
 * `ImageConfig.EntryPoint` / `Command` when set), in the image's WORKDIR (or
 * `ImageConfig.WorkingDirectory`), with the image's ENV under the function's own variables.
 */
import type { FunctionSettings } from '../core/function-model.js';
import type { ImageRunConfig } from '../functions/image-store.js';
import type { RuntimeLaunch } from './ports.js';

export function imageLaunch(
  image: { readonly rootDir: string; readonly config: ImageRunConfig },
  settings: FunctionSettings,
): RuntimeLaunch {
  const own = settings.image;
  const entrypoint = own?.entryPoint ?? image.config.entrypoint ?? [];
  const cmd = own?.command ?? image.config.cmd ?? [];
  const workingDirectory = own?.workingDirectory ?? image.config.workingDir;
  return {
    command: [...entrypoint, ...cmd],
    runtimeDir: undefined,
    langDir: undefined,
    entrypoints: [],
    env: imageEnvironment(image.config.env),
    prestart: false,
    runtimeVersion: '',
    runtimeVersionArn: '',
    rootDir: image.rootDir,
    workingDirectory: workingDirectory === '' ? undefined : workingDirectory,
  };
}

/** `KEY=value` items as variables (a later item wins; an item without `=` is ignored). */
export function imageEnvironment(items: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const at = item.indexOf('=');
    if (at > 0) env[item.slice(0, at)] = item.slice(at + 1);
  }
  return env;
}
