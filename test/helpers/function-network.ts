/**
 * What a server's function network has on the host: its namespaces, interfaces and table (as root),
 * its user-mode network stacks (unprivileged).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { networkId } from '../../src/sandbox/function-network.js';

export interface NetworkState {
  readonly namespaces: readonly string[];
  /** Host-side interfaces. */
  readonly links: number;
  /** The table as `nft list` prints it ('' when there is none). */
  readonly rules: string;
}

/** The state of the function network of the server on `dataDir`. */
export function networkOf(dataDir: string): NetworkState {
  const id = networkId(dataDir);
  let namespaces: string[] = [];
  try {
    namespaces = readdirSync('/run/netns').filter((name) => name.startsWith(`lamina-${id}-`));
  } catch {
    // no namespaces at all
  }
  const quiet: { encoding: 'utf8'; stdio: Array<'ignore' | 'pipe'> } = {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  };
  const links = execFileSync('ip', ['-o', 'link'], quiet)
    .split('\n')
    .filter((line) => line.includes(`: lm${id}`)).length;
  let rules = '';
  try {
    rules = execFileSync('nft', ['list', 'table', 'inet', `lamina_${id}`], quiet);
  } catch {
    rules = '';
  }
  return { namespaces, links, rules };
}

/** The user-mode network stacks (slirp4netns processes) an unprivileged server `parent` runs. */
export function userModeStacks(parent: number | undefined): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      const stat = statOf(Number(pid));
      return stat?.name === 'slirp4netns' && stat.parent === parent;
    })
    .map(Number);
}

/** Whether a process exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  const stat = statOf(pid);
  return stat !== undefined && stat.state !== 'Z';
}

function statOf(pid: number): { name: string; state: string; parent: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
    state: fields[0] ?? '',
    parent: Number(fields[1]),
  };
}
