/** Source of fresh unique ids (RevisionIds, request ids); injected so tests can predict them. */
export interface IdSource {
  /** A new random UUID (v4). */
  uuid(): string;
}
