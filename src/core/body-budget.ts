/**
 * The bytes of request bodies being received or held, summed over all requests of the server, and
 * the rule that keeps them under one budget: without it, a few clients sending large bodies at
 * once (signed or not, from outside or from functions) hold as much memory as they like.
 */
import { LambdaError } from './errors.js';
import { LIMITS } from './limits.js';

/** The default budget: 256 MiB of request bodies in flight at once. */
export const DEFAULT_BODY_BUDGET_BYTES = 256 * 1024 * 1024;

/** Bodies larger than an Invoke payload are uploads: they may not take the budget's last quarter. */
export const LARGE_BODY_BYTES = LIMITS.invokePayloadBytes;

/** How long a client refused for lack of room is told to wait, in seconds. */
export const BODY_RETRY_AFTER_SECONDS = 1;

/**
 * Whether one request may hold `more` bytes on top of the `heldBytes` it has, when all requests
 * (this one included) hold `inFlightBytes`:
 * - a request alone always may, so any single body the routes allow gets through eventually,
 *   whatever the budget;
 * - a body that is (or becomes) larger than an Invoke payload may fill the budget only up to its
 *   last quarter, which stays for invokes while uploads flood in;
 * - any other body may fill it whole.
 */
export function bodyFits(
  inFlightBytes: number,
  heldBytes: number,
  more: number,
  budgetBytes: number,
): boolean {
  if (more <= 0 || inFlightBytes === heldBytes) return true;
  const ceiling =
    heldBytes + more > LARGE_BODY_BYTES ? budgetBytes - Math.floor(budgetBytes / 4) : budgetBytes;
  return inFlightBytes + more <= ceiling;
}

/** The refusal of a body that does not fit: a throttle, which SDKs retry after `Retry-After`. */
export function bodyBudgetExceeded(): LambdaError {
  return new LambdaError(
    'TooManyRequestsException',
    'Rate exceeded: too many request bytes are being received at once; retry shortly.',
    { reason: 'CallerRateLimitExceeded', retryAfterSeconds: BODY_RETRY_AFTER_SECONDS },
  );
}

/** The server's budget of request-body bytes in flight. */
export class BodyBudget {
  /** The budget in bytes. */
  readonly limitBytes: number;
  readonly #onRelease: ((bytes: number) => void) | undefined;
  readonly #watchers = new Set<() => void>();
  #inFlight = 0;

  /** `onRelease`: told how many bytes each claim given back had received, e.g. to reclaim memory. */
  constructor(limitBytes: number = DEFAULT_BODY_BUDGET_BYTES, onRelease?: (bytes: number) => void) {
    this.limitBytes = limitBytes;
    this.#onRelease = onRelease;
  }

  /** Bytes held by all requests now. */
  get inFlightBytes(): number {
    return this.#inFlight;
  }

  /**
   * Resolves once the bytes in flight satisfy `check` (at once if they do): for orderly stops
   * and tests, without polling.
   */
  until(check: (inFlightBytes: number) => boolean): Promise<void> {
    if (check(this.#inFlight)) return Promise.resolve();
    return new Promise((resolve) => {
      const watcher = () => {
        if (!check(this.#inFlight)) return;
        this.#watchers.delete(watcher);
        resolve();
      };
      this.#watchers.add(watcher);
    });
  }

  /** A claim for one request's body, empty until it takes bytes. */
  open(): BodyClaim {
    return new BodyClaim(this, (held, more) => {
      if (!bodyFits(this.#inFlight, held, more, this.limitBytes)) return false;
      this.#inFlight += more;
      this.#changed();
      return true;
    });
  }

  /** Called by a claim once, when its request is over. */
  giveBack(heldBytes: number, receivedBytes: number): void {
    this.#inFlight -= heldBytes;
    if (receivedBytes > 0) this.#onRelease?.(receivedBytes);
    this.#changed();
  }

  #changed(): void {
    if (this.#watchers.size === 0) return;
    for (const watcher of [...this.#watchers]) watcher();
  }
}

/** The bytes one request's body holds of the budget; released once, when its response closes. */
export class BodyClaim {
  readonly #budget: BodyBudget;
  readonly #grant: (held: number, more: number) => boolean;
  #held = 0;
  #received = 0;
  #released = false;

  constructor(budget: BodyBudget, grant: (held: number, more: number) => boolean) {
    this.#budget = budget;
    this.#grant = grant;
  }

  /** Bytes this claim holds. */
  get heldBytes(): number {
    return this.#held;
  }

  /**
   * Takes `bytes` more if they fit; false (and nothing taken) if not, or once released (a request
   * that is over holds nothing more).
   */
  take(bytes: number): boolean {
    if (this.#released || !this.#grant(this.#held, bytes)) return false;
    this.#held += bytes;
    return true;
  }

  /** Counts body bytes that arrived (a claim may hold more than arrived: a Content-Length). */
  received(bytes: number): void {
    this.#received += bytes;
  }

  /** Gives everything back; later calls do nothing. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#budget.giveBack(this.#held, this.#received);
    this.#held = 0;
  }
}
