/** Port: storage of published layer versions and their permissions. */
import type { LayerPolicy, LayerVersionRecord } from '../core/layer-model.js';

export interface LayerRepository {
  /**
   * Stores a new version of a layer, numbered one past the highest the layer ever had (numbers of
   * deleted versions are not reused), in one transaction.
   */
  publish(
    layerName: string,
    make: (version: number) => LayerVersionRecord,
  ): Promise<LayerVersionRecord>;
  get(layerName: string, version: number): Promise<LayerVersionRecord | undefined>;
  /** Every version of one layer, newest first. */
  versions(layerName: string): Promise<LayerVersionRecord[]>;
  /** Every stored layer version, by layer name then newest first. */
  all(): Promise<LayerVersionRecord[]>;
  /** Removes a version; false when it did not exist. */
  delete(layerName: string, version: number): Promise<boolean>;
  /**
   * Replaces a version's policy with what `change` returns (it may throw to refuse), in one
   * transaction; undefined when the version does not exist.
   */
  updatePolicy(
    layerName: string,
    version: number,
    change: (current: LayerPolicy | undefined) => LayerPolicy | undefined,
  ): Promise<LayerVersionRecord | undefined>;
}
