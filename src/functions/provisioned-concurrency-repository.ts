/** Port: durable storage of provisioned concurrency configurations. */

/** What PutProvisionedConcurrencyConfig stored for a version or alias. */
export interface ProvisionedConcurrencyConfig {
  readonly functionName: string;
  /** A published version number or an alias name. */
  readonly qualifier: string;
  readonly requested: number;
  readonly lastModifiedMs: number;
}

export interface ProvisionedConcurrencyRepository {
  get(functionName: string, qualifier: string): Promise<ProvisionedConcurrencyConfig | undefined>;
  put(config: ProvisionedConcurrencyConfig): Promise<void>;
  delete(functionName: string, qualifier: string): Promise<boolean>;
  /** A function's configurations in qualifier order after `after`, at most `limit`. */
  list(
    functionName: string,
    after: string | undefined,
    limit: number,
  ): Promise<ProvisionedConcurrencyConfig[]>;
  /** Every configuration (loaded at start). */
  all(): Promise<ProvisionedConcurrencyConfig[]>;
}
