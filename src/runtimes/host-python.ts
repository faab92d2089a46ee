/**
 * The Python interpreters this host has in /usr/bin (visible read-only inside the jail), with
 * their exact versions: Lamina runs `python3.N` functions on them instead of installing its own.
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

/** Each `/usr/bin/python3.N` (N = 8…20) that runs, as `{ runtime: 'python3.11', version: '3.11.2' }`. */
export function hostPythonVersions(binDir = '/usr/bin'): { runtime: string; version: string }[] {
  const found: { runtime: string; version: string }[] = [];
  for (let minor = 8; minor <= 20; minor += 1) {
    const binary = `${binDir}/python3.${minor}`;
    if (!existsSync(binary)) continue;
    const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    const version = /Python (\S+)/.exec(`${result.stdout}${result.stderr}`)?.[1];
    if (result.status === 0 && version !== undefined)
      found.push({ runtime: `python3.${minor}`, version });
  }
  return found;
}
