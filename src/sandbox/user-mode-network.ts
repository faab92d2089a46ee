/**
 * Egress for the environments of an unprivileged server (see docs/sandbox.md, "Network"): each
 * environment's start makes a user and network namespace of its own (`unshare`), installs the
 * rules of network-rules.ts `userModeRules` there (it is root of that user namespace; the jail,
 * started inside it by bubblewrap, is not), and tells the platform, which attaches slirp4netns: a
 * user-mode TCP/IP stack that gives the namespace a `tap0` with a default route and turns its
 * connections into ordinary sockets of the server's user on the host. The gate opens once both are
 * done. slirp4netns runs sandboxed (its own mount namespace, a seccomp filter) and ends with the
 * environment, or with the server (its exit descriptor closes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { clearTimeout, setTimeout } from 'node:timers';
import {
  NETWORK_SIGNAL_FD,
  type EnvironmentNetwork,
  type NetworkProvider,
} from './environment-network.js';
import { localAddresses, userModeRules } from './network-rules.js';
import { shellWord } from './run-command.js';

export interface UserModeNetworkOptions {
  /** Where the rules files go (readable by the server's user). */
  readonly workDir: string;
  /**
   * The host's own IPv4 addresses and local blocks, refused to environments, read again for each
   * environment (default: the kernel's local routes, `localAddresses`).
   */
  readonly hostAddresses?: (() => readonly string[]) | undefined;
  /** Destinations refused besides the defaults (`--function-deny`). */
  readonly denied: readonly string[];
  /** Where programs are looked for (the server's PATH may lack the sbin folders). */
  readonly toolDirs?: readonly string[] | undefined;
}

/**
 * The network slirp4netns gives each environment (the same in every one: each has its own stack).
 * Part of 198.18.0.0/15, which no real destination uses and which the rules refuse anyway.
 */
const INTERNAL = '198.19.255.0/24';
/** The largest MTU slirp4netns takes below its limit: fewer, larger packets through the stack. */
const MTU = 65520;
const TOOL_DIRS = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];
/** What a failing slirp4netns said, kept for the error (bytes). */
const STDERR_KEPT = 1024;
/** How long slirp4netns may take to bring its interface up before the start fails. */
const READY_DEADLINE_MS = 10_000;

export class UserModeNetwork implements NetworkProvider {
  readonly #unshare: string;
  readonly #slirp: string;
  readonly #nft: string;
  readonly #options: UserModeNetworkOptions;
  readonly #attached = new Set<() => Promise<void>>();
  /** The rules last written, and their file. */
  #rules = '';
  #rulesFile = '';
  #written = 0;

  private constructor(
    unshare: string,
    slirp: string,
    nft: string,
    options: UserModeNetworkOptions,
  ) {
    this.#unshare = unshare;
    this.#slirp = slirp;
    this.#nft = nft;
    this.#options = options;
  }

  /**
   * Finds the programs and makes one network as a trial, so that a server that cannot (no user
   * namespaces, no /dev/net/tun for its user, a rule nft refuses) knows at start. Rejects with one
   * line saying why.
   */
  static async open(options: UserModeNetworkOptions): Promise<UserModeNetwork> {
    const dirs = options.toolDirs ?? TOOL_DIRS;
    const find = (tool: string) => dirs.map((dir) => join(dir, tool)).find((p) => existsSync(p));
    const [unshare, slirp, nft] = ['unshare', 'slirp4netns', 'nft'].map(find);
    const missing = [
      ['unshare', 'util-linux', unshare],
      ['slirp4netns', 'slirp4netns', slirp],
      ['nft', 'nftables', nft],
    ].filter(([, , path]) => path === undefined);
    if (unshare === undefined || slirp === undefined || nft === undefined) {
      const named = missing.map(([tool, pkg]) => `${tool} (Debian package ${pkg})`).join(', ');
      throw new Error(`user-mode networking needs ${named}`);
    }
    try {
      accessSync('/dev/net/tun', constants.R_OK | constants.W_OK);
    } catch {
      throw new Error(
        "user-mode networking needs /dev/net/tun readable and writable by this server's user " +
          '(mode 0666, as Debian sets it)',
      );
    }
    mkdirSync(options.workDir, { recursive: true, mode: 0o700 });
    const network = new UserModeNetwork(unshare, slirp, nft, options);
    await network.#trial();
    return network;
  }

  /** The words that start an environment in a network of its own (finished by `connect`). */
  attach(): Promise<EnvironmentNetwork> {
    let slirp: ChildProcess | undefined;
    let released: Promise<void> | undefined;
    const release = () =>
      (released ??= (async () => {
        this.#attached.delete(release);
        if (slirp === undefined || slirp.exitCode !== null || slirp.signalCode !== null) return;
        const exited = new Promise((resolve) => slirp?.once('exit', resolve));
        slirp.kill('SIGKILL');
        await exited;
      })());
    this.#attached.add(release);
    const entry = entryScript(this.#nft, this.#currentRules());
    return Promise.resolve({
      enter: [
        this.#unshare,
        '--user',
        '--map-root-user',
        '--net',
        '--',
        '/bin/sh',
        '-c',
        entry,
        'lamina-network',
      ],
      connect: async (pid: number, signals: Readable) => {
        const progress = signalsOf(signals);
        await progress('n', 'could not make a user and network namespace');
        // Released meanwhile (the start failed): the pid may no longer be the namespace's.
        if (released !== undefined) throw new Error('the environment was released');
        slirp = this.#startSlirp(pid);
        await Promise.all([
          progress('r', "could not install the network's rules (nft failed)"),
          slirpReady(slirp),
        ]);
      },
      release,
    });
  }

  /**
   * The rules file for an environment starting now: written again when the host's addresses
   * changed (a new file: environments starting meanwhile still read theirs whole).
   */
  #currentRules(): string {
    const rules = userModeRules({
      hostAddresses: (this.#options.hostAddresses ?? hostLocalAddresses)(),
      internal: INTERNAL,
      denied: this.#options.denied,
    });
    if (rules !== this.#rules) {
      this.#written += 1;
      const file = join(this.#options.workDir, `user-mode-${this.#written}.nft`);
      writeFileSync(file, rules, { mode: 0o644 });
      this.#rules = rules;
      this.#rulesFile = file;
    }
    return this.#rulesFile;
  }

  async close(): Promise<void> {
    for (const release of [...this.#attached]) await release();
  }

  #startSlirp(pid: number): ChildProcess {
    return spawn(
      this.#slirp,
      [
        '--configure',
        `--mtu=${MTU}`,
        '--disable-host-loopback',
        '--enable-sandbox',
        '--enable-seccomp',
        `--cidr=${INTERNAL}`,
        '--ready-fd=3',
        '--exit-fd=4',
        String(pid),
        'tap0',
      ],
      // 3: written once the interface is up; 4: its end closing (with this process) ends it.
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
  }

  /** Makes and removes one network around a shell that waits: what `open` promises works. */
  async #trial(): Promise<void> {
    const network = await this.attach();
    // The namespace lasts while the shell waits for its input to end.
    const [program = this.#unshare, ...args] = [...network.enter, '/bin/sh', '-c', 'read _'];
    const stdio = Array.from({ length: NETWORK_SIGNAL_FD + 1 }, (_, fd) =>
      fd === 0 || fd === NETWORK_SIGNAL_FD ? 'pipe' : 'ignore',
    );
    const child = spawn(program, args, { stdio: stdio as ['pipe'] });
    const ended = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    const failed = new Promise<never>((_, reject) => child.once('error', reject));
    const signals = (child.stdio as unknown[])[NETWORK_SIGNAL_FD] as Readable;
    try {
      if (child.pid === undefined) await failed;
      await Promise.race([network.connect?.(child.pid ?? 0, signals), failed]);
    } finally {
      child.stdin?.end();
      await ended;
      await network.release();
    }
  }
}

/**
 * The start's first shell, root of its new namespaces: signals `n` once they exist (slirp4netns
 * may attach), installs the rules and signals `r`, then runs the rest of the start.
 */
function entryScript(nft: string, rules: string): string {
  return (
    `echo n >&${NETWORK_SIGNAL_FD}; ` +
    `${shellWord(nft)} -f ${shellWord(rules)} >/dev/null 2>&1 || exit 97; ` +
    `echo r >&${NETWORK_SIGNAL_FD}; exec ${NETWORK_SIGNAL_FD}>&-; exec "$@"`
  );
}

/** Waits for progress letters on `signals`; each rejects with `failure` if the stream ends first. */
function signalsOf(signals: Readable): (letter: string, failure: string) => Promise<void> {
  let seen = '';
  let ended = false;
  const waiting = new Set<() => void>();
  signals.setEncoding('latin1');
  signals.on('data', (text: string) => {
    seen += text;
    for (const check of [...waiting]) check();
  });
  signals.on('error', () => undefined);
  signals.once('close', () => {
    ended = true;
    for (const check of [...waiting]) check();
  });
  return (letter, failure) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (seen.includes(letter)) resolve();
        else if (ended) reject(new Error(failure));
        else return;
        waiting.delete(check);
      };
      waiting.add(check);
      check();
    });
}

/** Resolves once slirp4netns says its interface is up; rejects with its words if it ends first. */
function slirpReady(slirp: ChildProcess): Promise<void> {
  let said = '';
  slirp.stderr?.setEncoding('utf8');
  slirp.stderr?.on('data', (text: string) => {
    said = (said + text).slice(-STDERR_KEPT);
  });
  const [ready, exitFd] = [(slirp.stdio as unknown[])[3], (slirp.stdio as unknown[])[4]] as [
    Readable,
    { on(event: 'error', listener: () => void): void },
  ];
  exitFd.on('error', () => undefined);
  return new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => {
      slirp.kill('SIGKILL');
      reject(new Error(`slirp4netns did not bring its interface up in ${READY_DEADLINE_MS} ms`));
    }, READY_DEADLINE_MS);
    ready.once('data', () => {
      clearTimeout(deadline);
      resolve();
    });
    slirp.once('error', (error) => {
      clearTimeout(deadline);
      reject(error);
    });
    slirp.once('exit', (code, signal) => {
      clearTimeout(deadline);
      const last = said
        .trim()
        .split('\n')
        .filter((line) => !line.startsWith('WARNING'))
        .pop();
      reject(
        new Error(`slirp4netns ended (${code ?? signal})${last === undefined ? '' : `: ${last}`}`),
      );
    });
  });
}

/** The host's local IPv4 addresses and blocks, from the kernel's routes. */
function hostLocalAddresses(): string[] {
  return localAddresses(readFileSync('/proc/net/fib_trie', 'utf8'));
}
