/** The messages between the server and its launcher process (Node.js IPC, JSON). */

/** What becomes of one descriptor of a launched program. */
export type LaunchStdio = 'ignore' | 'pipe' | { readonly path: string };

export interface LaunchRequest {
  readonly type: 'launch';
  readonly id: number;
  readonly program: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Per descriptor: none, a pipe to the server, or a file opened for reading. */
  readonly stdio: readonly LaunchStdio[];
}

export type LauncherReply =
  /** The server's end of pipe `fd` of launch `id`, sent with the message as a handle. */
  | { readonly type: 'fd'; readonly id: number; readonly fd: number }
  /** Sent after every `fd` of the launch. */
  | { readonly type: 'started'; readonly id: number; readonly pid: number }
  | { readonly type: 'failed'; readonly id: number; readonly message: string }
  | {
      readonly type: 'exited';
      readonly id: number;
      readonly code: number | null;
      readonly signal: string | null;
    };
