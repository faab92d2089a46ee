/**
 * What the OTLP relay did with the telemetry functions sent to their environment's endpoint
 * (`--otlp-endpoint`), as counts since the server started and the room it holds now: what a
 * metrics endpoint publishes, so that data a function lost on its way to the collector is seen.
 */

/** Why a body a function sent was not delivered to the collector. */
export type OtlpDropReason =
  /** No room: the environment's or the server's bytes or bodies in flight were at their limit. */
  | 'full'
  /** Over the 4 MiB a body may have. */
  | 'tooLarge'
  /** The collector answered with a client error (4xx but 429): it refused what was sent. */
  | 'rejected'
  /** The collector failed, was unreachable, answered 429 or 5xx, or took too long. */
  | 'failed';

export interface OtlpRelayCounts {
  /** Bodies accepted from functions and queued for the collector. */
  readonly received: number;
  /** Bodies the collector accepted (2xx). */
  readonly forwarded: number;
  /** Bodies dropped, by reason. */
  readonly dropped: Readonly<Record<OtlpDropReason, number>>;
  /** Bodies queued or being sent now. */
  readonly queuedBodies: number;
  /** Bytes held now: bodies being read, queued or being sent. */
  readonly heldBytes: number;
}
