/**
 * Aggregators fold the records of a window into one result. An aggregator's accumulator is
 * what the window stores (in the state store, so it must suit the store's codec — plain JSON
 * data by default) and `result` turns it into what is emitted.
 *
 * Column aggregators are typed by the record: `sum('amount')` accepts only columns whose
 * values are numbers (null and undefined values are skipped, as in SQL).
 */

/** A user-defined aggregator. `merge` combines two accumulators; session windows need it to merge sessions. */
export interface Aggregator<V, A = unknown, R = unknown> {
  initial(): A
  /** Adds one value; may update `accumulator` in place and return it. */
  add(accumulator: A, value: V): A
  merge?(a: A, b: A): A
  /** The emitted result. Must not hand out the accumulator itself if `add` changes it in place. */
  result(accumulator: A): R
}

/** The columns of V whose values are numbers (or null/undefined). */
export type NumericColumn<V> = { [C in keyof V]-?: NonNullable<V[C]> extends number ? C : never }[keyof V] & string

/** The result of an aggregator. */
export type AggregatorResult<G> = G extends Aggregator<never, unknown, infer R> ? R : never

/* eslint-disable @typescript-eslint/no-explicit-any -- accumulators of combined aggregators are opaque here. */
type AnyAggregator<V> = Aggregator<V, any, any>
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Reads the number of a column (or the value itself without a column); undefined for null and undefined. */
function numberOf<V>(column: string | undefined): (value: V) => number | undefined {
  if (column === undefined) return (value) => (value == null ? undefined : (value as number))
  return (value) => {
    const cell = (value as Record<string, unknown>)[column]
    return cell == null ? undefined : (cell as number)
  }
}

/** Sum of a numeric column (or of the values, for a stream of numbers). */
export function sum(): Aggregator<number, number, number>
export function sum<V, C extends NumericColumn<V> = NumericColumn<V>>(column: C): Aggregator<V, number, number>
export function sum<V>(column?: string): Aggregator<V, number, number> {
  const read = numberOf<V>(column)
  return {
    initial: () => 0,
    add: (total, value) => {
      const number = read(value)
      return number === undefined ? total : total + number
    },
    merge: (a, b) => a + b,
    result: (total) => total,
  }
}

/** Number of records. */
export function count<V = unknown>(): Aggregator<V, number, number> {
  return {
    initial: () => 0,
    add: (n) => n + 1,
    merge: (a, b) => a + b,
    result: (n) => n,
  }
}

/** Mean of a numeric column (or of the values); null when no value was a number. */
export function mean(): Aggregator<number, [number, number], number | null>
export function mean<V, C extends NumericColumn<V> = NumericColumn<V>>(column: C): Aggregator<V, [number, number], number | null>
export function mean<V>(column?: string): Aggregator<V, [number, number], number | null> {
  const read = numberOf<V>(column)
  return {
    initial: () => [0, 0],
    add: (accumulator, value) => {
      const number = read(value)
      if (number !== undefined) {
        accumulator[0] += number
        accumulator[1] += 1
      }
      return accumulator
    },
    merge: (a, b) => [a[0] + b[0], a[1] + b[1]],
    result: ([total, n]) => (n === 0 ? null : total / n),
  }
}

/** Smallest value of a numeric column (or of the values); null when none. */
export function min(): Aggregator<number, number | null, number | null>
export function min<V, C extends NumericColumn<V> = NumericColumn<V>>(column: C): Aggregator<V, number | null, number | null>
export function min<V>(column?: string): Aggregator<V, number | null, number | null> {
  return extreme<V>(column, (a, b) => (b < a ? b : a))
}

/** Largest value of a numeric column (or of the values); null when none. */
export function max(): Aggregator<number, number | null, number | null>
export function max<V, C extends NumericColumn<V> = NumericColumn<V>>(column: C): Aggregator<V, number | null, number | null>
export function max<V>(column?: string): Aggregator<V, number | null, number | null> {
  return extreme<V>(column, (a, b) => (b > a ? b : a))
}

function extreme<V>(column: string | undefined, pick: (a: number, b: number) => number): Aggregator<V, number | null, number | null> {
  const read = numberOf<V>(column)
  const combine = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : pick(a, b))
  return {
    initial: () => null,
    add: (current, value) => combine(current, read(value) ?? null),
    merge: combine,
    result: (current) => current,
  }
}

/**
 * Folds values with `reducer`, starting from `initial` (a value, copied for every window, or a
 * function making one). Give `merge` to use it in session windows.
 */
export function reduce<V, A>(initial: A | (() => A), reducer: (accumulator: A, value: V) => A, options: { merge?: (a: A, b: A) => A } = {}): Aggregator<V, A, A> {
  const start = typeof initial === 'function' ? (initial as () => A) : () => structuredClone(initial)
  return {
    initial: start,
    add: reducer,
    ...(options.merge === undefined ? {} : { merge: options.merge }),
    result: (accumulator) => accumulator,
  }
}

/** Every value (or every value of one column), in arrival order. */
export function collect<V>(): Aggregator<V, V[], V[]>
export function collect<V, C extends keyof V & string>(column: C): Aggregator<V, Array<V[C]>, Array<V[C]>>
export function collect<V>(column?: string): Aggregator<V, unknown[], unknown[]> {
  return {
    initial: () => [],
    add: (items, value) => {
      items.push(column === undefined ? value : (value as Record<string, unknown>)[column])
      return items
    },
    merge: (a, b) => a.concat(b),
    result: (items) => items.slice(),
  }
}

/** Several aggregations at once: `agg({ total: sum('amount'), n: count() })` emits `{ total, n }`. */
export function agg<V, S extends Record<string, AnyAggregator<V>>>(spec: S): Aggregator<V, Record<string, unknown>, { [P in keyof S]: AggregatorResult<S[P]> }> {
  const names = Object.keys(spec)
  const parts = names.map((name) => spec[name] as AnyAggregator<V>)
  const canMerge = parts.every((part) => part.merge !== undefined)
  const combined: Aggregator<V, Record<string, unknown>, { [P in keyof S]: AggregatorResult<S[P]> }> = {
    initial: () => {
      const accumulator: Record<string, unknown> = {}
      for (let index = 0; index < names.length; index++) accumulator[names[index] as string] = (parts[index] as AnyAggregator<V>).initial()
      return accumulator
    },
    add: (accumulator, value) => {
      for (let index = 0; index < names.length; index++) {
        const name = names[index] as string
        accumulator[name] = (parts[index] as AnyAggregator<V>).add(accumulator[name], value)
      }
      return accumulator
    },
    result: (accumulator) => {
      const result: Record<string, unknown> = {}
      for (let index = 0; index < names.length; index++) {
        const name = names[index] as string
        result[name] = (parts[index] as AnyAggregator<V>).result(accumulator[name])
      }
      return result as { [P in keyof S]: AggregatorResult<S[P]> }
    },
  }
  if (canMerge) {
    combined.merge = (a, b) => {
      const merged: Record<string, unknown> = {}
      for (let index = 0; index < names.length; index++) {
        const name = names[index] as string
        merged[name] = ((parts[index] as AnyAggregator<V>).merge as (x: unknown, y: unknown) => unknown)(a[name], b[name])
      }
      return merged
    }
  }
  return combined
}
