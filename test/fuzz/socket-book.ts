/**
 * The live Runtime API sockets of the server's environments, re-read from its run folder every
 * 250 ms as environments come and go, with what the fuzzer has learnt about each: the request ids
 * it has seen handed out (so that answers can name the real current invocation) and the extension
 * ids it registered. A new socket is sometimes given a well-behaved extension (registered while
 * the environment initialises, then waiting on `/event/next`), so that extension ids are live.
 */
import { existsSync } from 'node:fs';
import { HttpSender } from './http-sender.js';

/** How many recent request ids are kept per socket. */
const IDS_KEPT = 4;
const REFRESH_MS = 250;

export interface SocketState {
  readonly path: string;
  readonly sender: HttpSender;
  readonly requestIds: string[];
  readonly extensionIds: string[];
}

export class SocketBook {
  readonly #list: () => string[];
  readonly #sockets = new Map<string, SocketState>();
  readonly #timer: NodeJS.Timeout;
  readonly #onNew: (state: SocketState) => void;
  #seen = 0;

  /** `list` reads the socket paths that exist now; `onNew` is told of each new one. */
  constructor(list: () => string[], onNew: (state: SocketState) => void) {
    this.#list = list;
    this.#onNew = onNew;
    this.refresh();
    this.#timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  /** How many different sockets were seen in all. */
  get seen(): number {
    return this.#seen;
  }

  get size(): number {
    return this.#sockets.size;
  }

  refresh(): void {
    const now = new Set(this.#list().filter((path) => existsSync(path)));
    for (const [path, state] of this.#sockets)
      if (!now.has(path)) {
        this.#sockets.delete(path);
        void state.sender.close().catch(() => undefined);
      }
    for (const path of now) {
      if (this.#sockets.has(path)) continue;
      const state: SocketState = {
        path,
        sender: new HttpSender('http://localhost', {
          connections: 8,
          timeoutMs: 30_000,
          socketPath: path,
        }),
        requestIds: [],
        extensionIds: [],
      };
      this.#sockets.set(path, state);
      this.#seen += 1;
      this.#onNew(state);
    }
  }

  /** The `pick`-th live socket (modulo their number), or undefined when there is none. */
  pick(pick: number): SocketState | undefined {
    if (this.#sockets.size === 0) return undefined;
    const states = [...this.#sockets.values()];
    return states[pick % states.length];
  }

  /** A socket that turned out to be gone: forgotten until it shows up in the folder again. */
  forget(state: SocketState): void {
    if (this.#sockets.get(state.path) === state) {
      this.#sockets.delete(state.path);
      void state.sender.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    const states = [...this.#sockets.values()];
    this.#sockets.clear();
    await Promise.all(states.map((s) => s.sender.close().catch(() => undefined)));
  }
}

export function rememberRequestId(state: SocketState, id: string): void {
  if (state.requestIds.includes(id)) return;
  state.requestIds.push(id);
  if (state.requestIds.length > IDS_KEPT) state.requestIds.shift();
}
