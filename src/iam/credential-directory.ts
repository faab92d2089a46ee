/**
 * Every access key the server accepts, kept in memory so that a signature is checked without a
 * database read: the account's root key pair, IAM users' active keys (loaded at start, changed as
 * the IAM API changes them) and temporary keys: STS sessions' and functions' own (until they
 * expire; not kept across restarts). Each names its caller, as policies see it. An expired key is
 * remembered for a while, so that its use is answered as expired rather than unknown.
 */
import type { Clock } from '../core/clock.js';
import { iamArn } from '../core/iam-model.js';
import type { RequestPrincipal } from '../core/policy-document.js';

/** Who signed with a key. */
export type Caller =
  | { readonly kind: 'root'; readonly principal: RequestPrincipal; readonly userId: string }
  | {
      readonly kind: 'user';
      readonly principal: RequestPrincipal;
      readonly userId: string;
      readonly userName: string;
    }
  | {
      readonly kind: 'session';
      readonly principal: RequestPrincipal;
      readonly userId: string;
      readonly roleName: string;
      /** The session policy given to AssumeRole, if any. */
      readonly sessionPolicy: string | undefined;
    };

/** How long an expired key is still recognised as one (then it is unknown). */
const EXPIRED_MEMORY_MS = 15 * 60 * 1000;

interface Entry {
  readonly secret: string;
  readonly sessionToken: string | undefined;
  readonly expiresMs: number | undefined;
  readonly caller: Caller;
}

export class CredentialDirectory {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #account: string;

  constructor(accountId: string, clock: Clock) {
    this.#account = accountId;
    this.#clock = clock;
  }

  get accountId(): string {
    return this.#account;
  }

  addRoot(accessKeyId: string, secret: string): void {
    this.#entries.set(accessKeyId, {
      secret,
      sessionToken: undefined,
      expiresMs: undefined,
      caller: {
        kind: 'root',
        principal: { arn: iamArn.root(this.#account), account: this.#account },
        userId: this.#account,
      },
    });
  }

  addUserKey(
    accessKeyId: string,
    secret: string,
    user: { userName: string; userId: string; arn: string },
  ): void {
    this.#entries.set(accessKeyId, {
      secret,
      sessionToken: undefined,
      expiresMs: undefined,
      caller: {
        kind: 'user',
        principal: { arn: user.arn, account: this.#account },
        userId: user.userId,
        userName: user.userName,
      },
    });
  }

  #sessions = 0;
  #sweptAtMs = 0;

  /** Forgets keys expired long enough (at most once a second) and counts the live ones. */
  #sweep(): void {
    const now = this.#clock.now();
    if (now - this.#sweptAtMs < 1000) return;
    this.#sweptAtMs = now;
    let sessions = 0;
    for (const [id, entry] of this.#entries) {
      if (entry.expiresMs === undefined) continue;
      if (entry.expiresMs + EXPIRED_MEMORY_MS <= now) this.#entries.delete(id);
      else if (entry.expiresMs > now) sessions += 1;
    }
    this.#sessions = sessions;
  }

  addSession(
    accessKeyId: string,
    secret: string,
    session: {
      sessionToken: string;
      expiresMs: number;
      roleName: string;
      roleArn: string;
      roleId: string;
      sessionName: string;
      sessionPolicy: string | undefined;
    },
  ): void {
    this.addTemporary(accessKeyId, secret, session.sessionToken, session.expiresMs, {
      kind: 'session',
      principal: {
        arn: iamArn.assumedRole(this.#account, session.roleName, session.sessionName),
        account: this.#account,
        roleArn: session.roleArn,
      },
      userId: `${session.roleId}:${session.sessionName}`,
      roleName: session.roleName,
      sessionPolicy: session.sessionPolicy,
    });
  }

  /** A temporary key acting as `caller` until `expiresMs`. */
  addTemporary(
    accessKeyId: string,
    secret: string,
    sessionToken: string,
    expiresMs: number,
    caller: Caller,
  ): void {
    this.#sweep();
    this.#sessions += 1;
    this.#entries.set(accessKeyId, { secret, sessionToken, expiresMs, caller });
  }

  remove(accessKeyId: string): void {
    this.#entries.delete(accessKeyId);
  }

  /** Ends every session of a role (it was deleted: a role made later with its name is another). */
  removeSessionsOf(roleName: string): void {
    for (const [id, entry] of this.#entries) {
      if (entry.caller.kind === 'session' && entry.caller.roleName === roleName)
        this.#entries.delete(id);
    }
  }

  /** Live sessions: each holds memory until it expires, so their number is capped. */
  sessionCount(): number {
    this.#sweep();
    return this.#sessions;
  }

  /** The secret of a key the server accepts now (expired sessions are forgotten). */
  secretFor(accessKeyId: string): string | undefined {
    return this.#live(accessKeyId)?.secret;
  }

  sessionTokenFor(accessKeyId: string): string | undefined {
    return this.#live(accessKeyId)?.sessionToken;
  }

  callerOf(accessKeyId: string): Caller | undefined {
    return this.#live(accessKeyId)?.caller;
  }

  /** Whether `accessKeyId` is a temporary key that has expired (recently enough to tell). */
  hasExpired(accessKeyId: string): boolean {
    const expiresMs = this.#entries.get(accessKeyId)?.expiresMs;
    return expiresMs !== undefined && expiresMs <= this.#clock.now();
  }

  #live(accessKeyId: string): Entry | undefined {
    const entry = this.#entries.get(accessKeyId);
    if (entry?.expiresMs !== undefined && entry.expiresMs <= this.#clock.now()) return undefined;
    return entry;
  }
}
