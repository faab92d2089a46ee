/**
 * Egress for environments (see docs/sandbox.md, "Network"). Each environment gets a network
 * namespace of its own, made by the platform (root) before its jail starts: a veth pair whose
 * host end is `<prefix><n>` with the /30's first address and whose other end is the namespace's
 * `eth0` with the second, the host end as its default route. The server's nftables table
 * (network-rules.ts) keeps the host, link-local addresses, other environments and denied blocks out
 * of reach and masquerades the rest. Releasing an environment deletes its veth pair, then the
 * namespace.
 *
 * Names carry an id derived from the data directory, so that a start removes what an earlier run
 * of the same data directory left (namespaces, interfaces, its table). Each running server holds
 * one /18 of 198.18.0.0/15 (see claimBlock), so servers on one host never share addresses. That
 * range is reserved for benchmarking (RFC 2544) and never routed, so refusing all of it to
 * environments costs no real destination.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { hasDefaultIpv6Route, networkRules, removeNetworkRules } from './network-rules.js';
import type { EnvironmentNetwork, NetworkProvider } from './environment-network.js';
import { runCommand } from './run-command.js';

export interface FunctionNetworkOptions {
  /** The server's data directory: names derive from it. */
  readonly dataDir: string;
  /** Where this server's batch files go (root only). */
  readonly workDir: string;
  /** Destinations refused besides the defaults (`--function-deny`). */
  readonly denied: readonly string[];
}

const NETNS_DIR = '/run/netns';
/** 198.18.0.0, the start of the environments' range, as a number. */
const RANGE_START = ((198 << 24) >>> 0) + (18 << 16);
/** Addresses per server: a /18. */
const BLOCK_SIZE = 16_384;
const BLOCKS = 8;
/** Environments per block: one /30 each. */
const PER_BLOCK = BLOCK_SIZE / 4;

export class FunctionNetwork implements NetworkProvider {
  readonly #id: string;
  readonly #block: number;
  /** Holds the address block while it listens (see claimBlock). */
  readonly #holder: Server;
  readonly #workDir: string;
  readonly #free: number[] = [];
  #next = 0;
  /** Each attached namespace's release, by name. */
  readonly #attached = new Map<string, () => Promise<void>>();
  readonly #ipv6: boolean;

  private constructor(id: string, block: number, holder: Server, workDir: string, ipv6: boolean) {
    this.#id = id;
    this.#block = block;
    this.#holder = holder;
    this.#workDir = workDir;
    this.#ipv6 = ipv6;
  }

  /**
   * Removes what an earlier run of the data directory left, claims an address block, turns on
   * forwarding and installs the rules.
   */
  static async open(options: FunctionNetworkOptions): Promise<FunctionNetwork> {
    const id = networkId(options.dataDir);
    mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
    await removeLeftovers(id, options.workDir);
    const { block, holder } = await claimBlock();
    await removeBlockLeftovers(block, options.workDir);
    const ipv6 = hasDefaultIpv6Route(readIfAny('/proc/net/ipv6_route'));
    const network = new FunctionNetwork(id, block, holder, options.workDir, ipv6);
    try {
      writeFileSync('/proc/sys/net/ipv4/ip_forward', '1\n');
      if (ipv6) enableIpv6Forwarding();
      await network.#nft(
        networkRules({
          table: tableName(id),
          interfacePrefix: interfacePrefix(id),
          block: network.#blockCidr(),
          block6: network.#block6Cidr(),
          denied: options.denied,
        }),
      );
    } catch (error) {
      holder.close();
      throw error;
    }
    return network;
  }

  /** The server's IPv4 block, e.g. `198.18.64.0/18`. */
  #blockCidr(): string {
    return `${ipv4(RANGE_START + this.#block * BLOCK_SIZE)}/18`;
  }

  /** The server's IPv6 block (a ULA /48), when the host routes IPv6. */
  #block6Cidr(): string | undefined {
    return this.#ipv6 ? `${ULA_PREFIX}:${this.#block.toString(16)}::/48` : undefined;
  }

  /** Makes a namespace with its veth pair, addresses and default route. */
  async attach(): Promise<EnvironmentNetwork> {
    const index = this.#free.pop() ?? this.#next++;
    if (index >= PER_BLOCK) throw new Error('no addresses left for another environment');
    const name = `lamina-${this.#id}-${index}`;
    const hostSide = `${interfacePrefix(this.#id)}${index.toString(36)}`;
    const base = index * 4;
    const address = (offset: number) =>
      ipv4(RANGE_START + this.#block * BLOCK_SIZE + base + offset);
    // One /64 per environment; `nodad`: usable at once, no duplicate detection to wait for.
    const address6 = (host: number) =>
      `${ULA_PREFIX}:${this.#block.toString(16)}:${index.toString(16)}::${host}`;
    let released: Promise<void> | undefined;
    // The veth pair goes first and at once: a namespace's own teardown is asynchronous, and its
    // interfaces would linger, holding their name and addresses, when the index is used again.
    const release = () =>
      (released ??= (async () => {
        await this.#ip(undefined, [`link delete ${hostSide}`, `netns delete ${name}`], true).catch(
          () => undefined,
        );
        this.#attached.delete(name);
        this.#free.push(index);
      })());
    this.#attached.set(name, release);
    try {
      await this.#ip(undefined, [
        `netns add ${name}`,
        `link add ${hostSide} type veth peer name eth0 netns ${name}`,
        `addr add ${address(1)}/30 dev ${hostSide}`,
        ...(this.#ipv6 ? [`addr add ${address6(1)}/64 dev ${hostSide} nodad`] : []),
        `link set ${hostSide} up`,
      ]);
      await this.#ip(name, [
        'link set lo up',
        `addr add ${address(2)}/30 dev eth0`,
        ...(this.#ipv6 ? [`addr add ${address6(2)}/64 dev eth0 nodad`] : []),
        'link set eth0 up',
        `route add default via ${address(1)}`,
        ...(this.#ipv6 ? [`route add default via ${address6(1)}`] : []),
      ]);
    } catch (error) {
      await release();
      throw error;
    }
    // The platform (root) enters the namespace; the jail cannot leave or change it.
    return { enter: ['/usr/bin/nsenter', `--net=${join(NETNS_DIR, name)}`, '--'], release };
  }

  /** Removes every namespace still attached and the rules, and lets the address block go. */
  async close(): Promise<void> {
    for (const release of [...this.#attached.values()]) await release();
    await this.#nft(removeNetworkRules(tableName(this.#id))).catch(() => undefined);
    this.#holder.close();
  }

  /** Runs `ip -batch` (in `namespace`); `force`: every line, even after one failed. */
  #ip(namespace: string | undefined, lines: readonly string[], force = false): Promise<void> {
    return runIpBatch(this.#workDir, namespace, lines, force);
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

/**
 * What the network needs on the host that is not there, as the one line the server fails to start
 * with (undefined: all there): `ip` (iproute2) and `nft` (nftables).
 */
export function missingNetworkTools(
  exists: (path: string) => boolean = existsSync,
): string | undefined {
  const missing = [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
  ].filter(
    ([tool]) => !['/usr/sbin', '/sbin', '/usr/bin', '/bin'].some((dir) => exists(`${dir}/${tool}`)),
  );
  if (missing.length === 0) return undefined;
  const named = missing.map(([tool, pkg]) => `${tool} (Debian package ${pkg})`).join(' and ');
  return `functions' network needs ${named}: install ${missing.length === 1 ? 'it' : 'them'}, or start with --function-network off`;
}

/**
 * The id in a server's names (`lamina-<id>-<n>`, `lm<id><n>`, `lamina_<id>`): from its data
 * directory, so that the next start on it finds what a killed run left.
 */
export function networkId(dataDir: string): string {
  return createHash('sha256').update(dataDir).digest('hex').slice(0, 6);
}

const tableName = (id: string) => `lamina_${id}`;
/** The servers' IPv6 blocks: `fd4c:6d6e:<block>::/48` (a unique local prefix). */
const ULA_PREFIX = 'fd4c:6d6e';

function ipv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function ipv4Number(address: string): number | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

/** A file's text, or '' when there is none to read. */
export function readIfAny(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * Turns IPv6 forwarding on. A host that forwards ignores router advertisements unless an
 * interface says `accept_ra = 2`, so interfaces that accept them now (1) are set to 2 first:
 * routes the host learns that way keep coming.
 */
function enableIpv6Forwarding(): void {
  const conf = '/proc/sys/net/ipv6/conf';
  for (const name of readdirSync(conf)) {
    const file = join(conf, name, 'accept_ra');
    if (readIfAny(file).trim() === '1') writeFileSync(file, '2\n');
  }
  writeFileSync(join(conf, 'all', 'forwarding'), '1\n');
  writeFileSync(join(conf, 'default', 'forwarding'), '1\n');
}
const interfacePrefix = (id: string) => `lm${id}`;

/**
 * The interfaces and namespaces an earlier run with this id left (the interfaces first: a
 * namespace's own teardown is asynchronous, and they would keep their names for a while).
 */
async function removeLeftovers(id: string, workDir: string): Promise<void> {
  const links = listIfAny('/sys/class/net').filter((name) => name.startsWith(interfacePrefix(id)));
  const namespaces = listIfAny(NETNS_DIR).filter((name) => name.startsWith(`lamina-${id}-`));
  const lines = [
    ...links.map((link) => `link delete ${link}`),
    ...namespaces.map((name) => `netns delete ${name}`),
  ];
  if (lines.length > 0) await runIpBatch(workDir, undefined, lines, true).catch(() => undefined);
}

async function runIpBatch(
  workDir: string,
  namespace: string | undefined,
  lines: readonly string[],
  force: boolean,
): Promise<void> {
  const file = join(workDir, `ip-${namespace ?? 'host'}-${process.hrtime.bigint()}`);
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  try {
    await runCommand('ip', [
      ...(namespace === undefined ? [] : ['-n', namespace]),
      ...(force ? ['-force'] : []),
      '-batch',
      file,
    ]);
  } finally {
    rmSync(file, { force: true });
  }
}

function listIfAny(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Claims a free /16: block N is held by listening on the abstract unix socket
 * `lamina-network-block-N`, which the kernel gives to one process at a time and frees when it
 * dies, however it dies.
 */
async function claimBlock(): Promise<{ block: number; holder: Server }> {
  for (let block = 0; block < BLOCKS; block += 1) {
    const holder = createServer();
    const held = await new Promise<boolean>((resolve) => {
      holder.once('error', () => resolve(false));
      holder.listen(`\0lamina-network-block-${block}`, () => resolve(true));
    });
    if (!held) continue;
    holder.unref();
    return { block, holder };
  }
  throw new Error('every address block of 198.18.0.0/15 is held by a running Lamina server');
}

/**
 * What a dead server that held the block left: its interfaces with addresses in the block, the
 * namespaces their names point to (`lm<id><n>` → `lamina-<id>-<n>`), and those servers' tables.
 * (No live server holds the block, so whatever uses its addresses is left over.)
 */
async function removeBlockLeftovers(block: number, workDir: string): Promise<void> {
  const start = RANGE_START + block * BLOCK_SIZE;
  const inBlock = (address: string) => {
    const n = ipv4Number(address);
    return n !== undefined && n >= start && n < start + BLOCK_SIZE;
  };
  const lines: string[] = [];
  const ids = new Set<string>();
  for (const [name, addresses] of Object.entries(networkInterfaces())) {
    const match = /^lm([0-9a-f]{6})([0-9a-z]+)$/.exec(name);
    if (match === null || !addresses?.some((a) => inBlock(a.address))) continue;
    const [, id = '', index = ''] = match;
    ids.add(id);
    lines.push(`link delete ${name}`, `netns delete lamina-${id}-${parseInt(index, 36)}`);
  }
  if (lines.length > 0) await runIpBatch(workDir, undefined, lines, true).catch(() => undefined);
  for (const id of ids)
    await runNft(workDir, removeNetworkRules(tableName(id))).catch(() => undefined);
}
