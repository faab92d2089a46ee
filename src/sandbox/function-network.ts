/**
 * Egress for environments (see docs/sandbox.md, "Network"). Each environment gets a network
 * namespace of its own, made by the platform (root) before its jail starts: a veth pair whose
 * host end is `<prefix><n>` with the /30's first address and whose other end is the namespace's
 * `eth0` with the second, the host end as its default route. The server's nftables table
 * (network-rules.ts) keeps the host, link-local addresses, other environments and denied blocks out
 * of reach and masquerades the rest. Removing the namespace removes the veth pair with it.
 *
 * Names carry an id derived from the data directory, so that a start removes what an earlier run
 * of the same data directory left (namespaces, interfaces, its table). Each running server holds
 * one /16 of 100.64.0.0/10 (a lock file per block under `/run/lamina-network`), so servers on one
 * host never share addresses.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { networkRules, removeNetworkRules } from './network-rules.js';
import { processExists } from './process-exists.js';
import { runCommand } from './run-command.js';

/** One environment's network: the namespace its jail enters. */
export interface EnvironmentNetwork {
  /** The namespace's path (`/run/netns/<name>`), for `nsenter --net=`. */
  readonly namespacePath: string;
  /** The environment's own address. */
  readonly address: string;
  /** Removes the namespace and its interfaces (idempotent). */
  release(): Promise<void>;
}

export interface FunctionNetworkOptions {
  /** The server's data directory: names derive from it. */
  readonly dataDir: string;
  /** Where this server's batch files go (root only). */
  readonly workDir: string;
  /** Destinations refused besides the defaults (`--function-deny`). */
  readonly denied: readonly string[];
  /** Lock files of the address blocks (default `/run/lamina-network`). */
  readonly lockDir?: string;
}

const NETNS_DIR = '/run/netns';
const BLOCKS = 64;
/** Environments per /16: one /30 each. */
const PER_BLOCK = 16_384;

export class FunctionNetwork {
  readonly #id: string;
  readonly #block: number;
  readonly #lockFile: string;
  readonly #workDir: string;
  readonly #free: number[] = [];
  #next = 0;
  readonly #attached = new Set<string>();

  private constructor(id: string, block: number, lockFile: string, workDir: string) {
    this.#id = id;
    this.#block = block;
    this.#lockFile = lockFile;
    this.#workDir = workDir;
  }

  /**
   * Removes what an earlier run of the data directory left, claims an address block, turns on
   * forwarding and installs the rules.
   */
  static async open(options: FunctionNetworkOptions): Promise<FunctionNetwork> {
    const id = createHash('sha256').update(options.dataDir).digest('hex').slice(0, 6);
    mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
    await removeLeftovers(id);
    const lockDir = options.lockDir ?? '/run/lamina-network';
    const { block, file, staleOwner } = claimBlock(lockDir, id);
    if (staleOwner !== undefined && staleOwner !== id) {
      await removeLeftovers(staleOwner);
      await runNft(options.workDir, removeNetworkRules(tableName(staleOwner))).catch(
        () => undefined,
      );
    }
    const network = new FunctionNetwork(id, block, file, options.workDir);
    try {
      writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
      await network.#nft(
        networkRules({
          table: tableName(id),
          interfacePrefix: interfacePrefix(id),
          block: network.blockCidr,
          denied: options.denied,
        }),
      );
    } catch (error) {
      rmSync(file, { force: true });
      throw error;
    }
    return network;
  }

  /** The server's IPv4 block, e.g. `100.81.0.0/16`. */
  get blockCidr(): string {
    return `100.${64 + this.#block}.0.0/16`;
  }

  /** Makes a namespace with its veth pair, addresses and default route. */
  async attach(): Promise<EnvironmentNetwork> {
    const index = this.#free.pop() ?? this.#next++;
    if (index >= PER_BLOCK) throw new Error('no addresses left for another environment');
    const name = `lamina-${this.#id}-${index}`;
    const hostSide = `${interfacePrefix(this.#id)}${index.toString(36)}`;
    const base = index * 4;
    const address = (offset: number) =>
      `100.${64 + this.#block}.${Math.floor((base + offset) / 256)}.${(base + offset) % 256}`;
    this.#attached.add(name);
    let released: Promise<void> | undefined;
    const release = () =>
      (released ??= (async () => {
        await runCommand('ip', ['netns', 'delete', name]).catch(() => undefined);
        this.#attached.delete(name);
        this.#free.push(index);
      })());
    try {
      await this.#ip(undefined, [
        `netns add ${name}`,
        `link add ${hostSide} type veth peer name eth0 netns ${name}`,
        `addr add ${address(1)}/30 dev ${hostSide}`,
        `link set ${hostSide} up`,
      ]);
      await this.#ip(name, [
        'link set lo up',
        `addr add ${address(2)}/30 dev eth0`,
        'link set eth0 up',
        `route add default via ${address(1)}`,
      ]);
    } catch (error) {
      await release();
      throw error;
    }
    return { namespacePath: join(NETNS_DIR, name), address: address(2), release };
  }

  /** Removes every namespace still attached, the rules and the block's lock. */
  async close(): Promise<void> {
    for (const name of [...this.#attached])
      await runCommand('ip', ['netns', 'delete', name]).catch(() => undefined);
    this.#attached.clear();
    await this.#nft(removeNetworkRules(tableName(this.#id))).catch(() => undefined);
    rmSync(this.#lockFile, { force: true });
  }

  async #ip(namespace: string | undefined, lines: readonly string[]): Promise<void> {
    const file = join(this.#workDir, `ip-${namespace ?? 'host'}-${process.hrtime.bigint()}`);
    writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    try {
      await runCommand('ip', [
        ...(namespace === undefined ? [] : ['-n', namespace]),
        '-batch',
        file,
      ]);
    } finally {
      rmSync(file, { force: true });
    }
  }

  #nft(script: string): Promise<void> {
    return runNft(this.#workDir, script);
  }
}

async function runNft(workDir: string, script: string): Promise<void> {
  const file = join(workDir, `nft-${process.hrtime.bigint()}`);
  writeFileSync(file, script, { mode: 0o600 });
  try {
    await runCommand('nft', ['-f', file]);
  } finally {
    rmSync(file, { force: true });
  }
}

const tableName = (id: string) => `lamina_${id}`;
const interfacePrefix = (id: string) => `lm${id}`;

/** Namespaces (and with them their interfaces) and the table an earlier run left. */
async function removeLeftovers(id: string): Promise<void> {
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR).filter((name) => name.startsWith(`lamina-${id}-`));
  } catch {
    // no namespaces at all
  }
  for (const name of names)
    await runCommand('ip', ['netns', 'delete', name]).catch(() => undefined);
}

/**
 * Claims a free /16 (a lock file holding the owner's pid and data-directory id); a block whose
 * owner is gone is taken over, and what that owner left is removed first.
 */
function claimBlock(
  lockDir: string,
  id: string,
): { block: number; file: string; staleOwner?: string | undefined } {
  mkdirSync(lockDir, { recursive: true, mode: 0o700 });
  const owner = `${process.pid} ${id}\n`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    for (let block = 0; block < BLOCKS; block += 1) {
      const file = join(lockDir, `block-${block}`);
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, owner);
        closeSync(fd);
        return { block, file };
      } catch {
        // taken: stale if its owner is gone or was this data directory
      }
      if (attempt === 0) continue;
      const [pid, owningId] = readOwner(file);
      if (pid === undefined || !processExists(pid)) {
        writeFileSync(file, owner, { mode: 0o600 });
        return { block, file, staleOwner: owningId };
      }
    }
  }
  throw new Error(`every address block of 100.64.0.0/10 is held by a running server (${lockDir})`);
}

function readOwner(file: string): [number | undefined, string | undefined] {
  try {
    const [pid, id] = readFileSync(file, 'utf8').trim().split(' ');
    const n = Number(pid);
    return [Number.isInteger(n) && n > 0 ? n : undefined, id];
  } catch {
    return [undefined, undefined];
  }
}
