/**
 * What the API answers about past invocations: the records (newest first, filtered, paged) and
 * the usage and its price per function version and hour or day. Reads first write what the
 * recorder still holds, so an invocation that has ended is in the answer.
 */
import {
  addUsage,
  NO_USAGE,
  priceOf,
  type UsageFigures,
  type UsagePrice,
  type UsagePrices,
} from '../core/usage-prices.js';
import type {
  InvocationQuery,
  InvocationRecordStore,
  StoredInvocation,
  UsageQuery,
  UsageRow,
} from './invocation-records.js';

/** A usage row and its price. */
export interface PricedUsage extends UsageRow {
  readonly price: UsagePrice;
}

export interface UsageAnswer {
  readonly rows: readonly PricedUsage[];
  readonly total: UsageFigures & { readonly price: UsagePrice };
  readonly prices: UsagePrices;
}

export interface InvocationHistoryDeps {
  readonly store: InvocationRecordStore;
  /** Writes the reports not yet written. */
  readonly flush: () => Promise<void>;
  readonly prices: UsagePrices;
}

export class InvocationHistory {
  readonly #d: InvocationHistoryDeps;

  constructor(deps: InvocationHistoryDeps) {
    this.#d = deps;
  }

  /** One page of records; `next` is the query of the following page, if there is one. */
  async list(query: InvocationQuery): Promise<{
    readonly records: readonly StoredInvocation[];
    readonly nextBeforeSeq: number | undefined;
  }> {
    await this.#d.flush();
    const rows = await this.#d.store.list({ ...query, limit: query.limit + 1 });
    const records = rows.slice(0, query.limit);
    const last = records[records.length - 1];
    return {
      records,
      nextBeforeSeq: rows.length > query.limit && last !== undefined ? last.seq : undefined,
    };
  }

  async usage(query: UsageQuery): Promise<UsageAnswer> {
    await this.#d.flush();
    const { prices } = this.#d;
    const rows = (await this.#d.store.usage(query)).map((row) => ({
      ...row,
      price: priceOf(row, row.architecture, prices),
    }));
    const figures = rows.reduce<UsageFigures>((sum, row) => addUsage(sum, row), NO_USAGE);
    const price = rows.reduce<UsagePrice>(
      (sum, row) => ({
        requests: sum.requests + row.price.requests,
        duration: sum.duration + row.price.duration,
        provisioned: sum.provisioned + row.price.provisioned,
        total: sum.total + row.price.total,
      }),
      { requests: 0, duration: 0, provisioned: 0, total: 0 },
    );
    return { rows, total: { ...figures, price }, prices };
  }
}
