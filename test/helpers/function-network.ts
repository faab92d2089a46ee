/** What a server's function network has on the host: its namespaces, interfaces and table. */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
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
