/**
 * Installs are built in a staging folder beside their final place (`<name>.tmp-<pid>-<random>`)
 * and renamed into it when complete, so a crash leaves only a `.tmp-` folder that listings ignore.
 * A later install sweeps the leftovers of processes that are gone.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const STAGING = /\.tmp-(\d+)-[0-9a-f]+$/;

/** Whether a folder entry is a staging folder (never a finished install). */
export function isStaging(name: string): boolean {
  return name.includes('.tmp-');
}

/** Creates a fresh staging folder for `<parent>/<name>`; returns its path. */
export function makeStaging(parent: string, name: string): string {
  mkdirSync(parent, { recursive: true });
  const path = join(parent, `${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(path);
  return path;
}

/** Removes staging folders in `parent` left by processes that no longer run. */
export function sweepStaging(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(STAGING.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === 0 || alive(pid)) continue;
    rmSync(join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
