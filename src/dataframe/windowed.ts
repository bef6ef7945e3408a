/**
 * The middle of a windowed aggregation in the dataframe API:
 * `sdf.tumblingWindow(10_000).agg({ total: sum('amount'), n: count() }).final()`.
 * A window definition, then an aggregation, then when to emit; the result is a dataframe of
 * `{ start, end, key, value }` records (WindowResult) that goes on like any other.
 */
import {
  agg,
  collect,
  count,
  max,
  mean,
  min,
  reduce,
  sum,
  type Aggregator,
  type AggregatorResult,
  type EmitMode,
  type NumericColumn,
  type WindowDefinition,
  type WindowResult,
} from '../windows/index.ts'
import type { RecordFunction, StreamingDataFrame } from './dataframe.ts'

export type { WindowResult } from '../windows/index.ts'

export interface WindowStepOptions<V, K> {
  /** How long after a window's end out-of-order records are still accepted, ms. Default 0. */
  grace?: number
  /**
   * Names the window's state store (and so its changelog topic): it must stay the same across
   * restarts. Default: made from the window and the aggregation, e.g. `tumbling-10000-sum-amount`.
   */
  name?: string
  /** The record's event time, ms since the epoch. Default: the message timestamp (or what setTimestamp made it). */
  timestampExtractor?: RecordFunction<V, K, number>
}

/** Builds the window step; given by StreamingDataFrame, which owns the topology. */
export type WindowStepFactory<K> = <R>(aggregator: Aggregator<never, unknown, R>, aggregationName: string, emit: EmitMode) => StreamingDataFrame<WindowResult<K, R>, K>

/* eslint-disable @typescript-eslint/no-explicit-any -- aggregators' accumulators are their own business. */
type AnyAggregator<V> = Aggregator<V, any, any>
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Windows of a dataframe, waiting for their aggregation. */
export class WindowedDataFrame<V, K> {
  readonly windows: WindowDefinition
  readonly #build: WindowStepFactory<K>

  /** @internal Made by sdf.tumblingWindow() and its siblings. */
  constructor(windows: WindowDefinition, build: WindowStepFactory<K>) {
    this.windows = windows
    this.#build = build
  }

  /** Several aggregations at once: `.agg({ total: sum('amount'), n: count() })` gives `{ total, n }` per window. */
  agg<S extends Record<string, AnyAggregator<V>>>(spec: S): WindowAggregation<K, { [P in keyof S]: AggregatorResult<S[P]> }> {
    return this.#aggregation(agg<V, S>(spec), `agg-${Object.keys(spec).join('-')}`)
  }

  /** Sum of a numeric column (or of the values, for a stream of numbers). */
  sum(column?: NumericColumn<V>): WindowAggregation<K, number> {
    return this.#aggregation(column === undefined ? (sum() as unknown as Aggregator<V, number, number>) : sum<V>(column), named('sum', column))
  }

  count(): WindowAggregation<K, number> {
    return this.#aggregation(count<V>(), 'count')
  }

  /** Mean of a numeric column (or of the values); null when no value was a number. */
  mean(column?: NumericColumn<V>): WindowAggregation<K, number | null> {
    return this.#aggregation(column === undefined ? (mean() as unknown as Aggregator<V, [number, number], number | null>) : mean<V>(column), named('mean', column))
  }

  min(column?: NumericColumn<V>): WindowAggregation<K, number | null> {
    return this.#aggregation(column === undefined ? (min() as unknown as Aggregator<V, number | null, number | null>) : min<V>(column), named('min', column))
  }

  max(column?: NumericColumn<V>): WindowAggregation<K, number | null> {
    return this.#aggregation(column === undefined ? (max() as unknown as Aggregator<V, number | null, number | null>) : max<V>(column), named('max', column))
  }

  /** Folds the window's values with `reducer` from `initial`. Session windows need `merge`. */
  reduce<A>(initial: A | (() => A), reducer: (accumulator: A, value: V) => A, options: { merge?: (a: A, b: A) => A } = {}): WindowAggregation<K, A> {
    return this.#aggregation(reduce(initial, reducer, options), 'reduce')
  }

  /** Every value (or every value of one column) of the window, in arrival order. */
  collect(): WindowAggregation<K, V[]>
  collect<C extends keyof V & string>(column: C): WindowAggregation<K, Array<V[C]>>
  collect(column?: keyof V & string): WindowAggregation<K, V[]> | WindowAggregation<K, Array<V[keyof V & string]>> {
    if (column === undefined) return this.#aggregation(collect<V>(), 'collect')
    return this.#aggregation(collect<V, keyof V & string>(column), named('collect', column))
  }

  /** A user-defined aggregator; `name` goes into the default store name. */
  aggregate<R>(aggregator: Aggregator<V, unknown, R>, name = 'aggregate'): WindowAggregation<K, R> {
    return this.#aggregation(aggregator, name)
  }

  #aggregation<R>(aggregator: Aggregator<V, unknown, R>, name: string): WindowAggregation<K, R> {
    return new WindowAggregation<K, R>((emit) => this.#build(aggregator, name, emit))
  }
}

/** An aggregation over windows, waiting to be told when to emit. */
export class WindowAggregation<K, R> {
  readonly #emit: (emit: EmitMode) => StreamingDataFrame<WindowResult<K, R>, K>

  /** @internal */
  constructor(emit: (emit: EmitMode) => StreamingDataFrame<WindowResult<K, R>, K>) {
    this.#emit = emit
  }

  /** Emits each window once, when it closes: when stream time (the partition's highest timestamp) reaches its end plus grace. */
  final(): StreamingDataFrame<WindowResult<K, R>, K> {
    return this.#emit('final')
  }

  /** Emits a window's result every time a record updates it. */
  current(): StreamingDataFrame<WindowResult<K, R>, K> {
    return this.#emit('current')
  }
}

function named(aggregation: string, column: string | undefined): string {
  return column === undefined ? aggregation : `${aggregation}-${column}`
}
