/**
 * What the jail's start needs from a function network, whichever makes it: the root server's own
 * namespaces (function-network.ts) or user-mode networking for an unprivileged one
 * (user-mode-network.ts).
 */
import type { Readable } from 'node:stream';

/** One environment's network. */
export interface EnvironmentNetwork {
  /** Words that run the rest of the start's command line inside the environment's network. */
  readonly enter: readonly string[];
  /**
   * Finishes the network once the start process exists, before its gate opens: `signals` reads
   * what the words of `enter` write to `NETWORK_SIGNAL_FD`.
   */
  connect?(pid: number, signals: Readable): Promise<void>;
  /** Removes the network (idempotent). */
  release(): Promise<void>;
}

/** Makes environments' networks. */
export interface NetworkProvider {
  attach(): Promise<EnvironmentNetwork>;
  /** Removes every network still attached. */
  close(): Promise<void>;
}

/**
 * The start process's descriptor on which `enter` signals its progress (see `connect`); one digit,
 * as sh redirects no other.
 */
export const NETWORK_SIGNAL_FD = 8;
