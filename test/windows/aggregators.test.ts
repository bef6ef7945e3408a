import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { agg, collect, count, max, mean, min, reduce, sum, type Aggregator } from '../../src/windows/index.ts'

interface Trade {
  symbol: string
  price: number
  fee: number | null
  quantity: number
}

const trades: Trade[] = [
  { symbol: 'A', price: 10, fee: 1, quantity: 3 },
  { symbol: 'B', price: 30, fee: null, quantity: 1 },
  { symbol: 'A', price: 20, fee: 3, quantity: 2 },
]

/** Folds values the way a window does, through initial / add / result. */
function fold<V, A, R>(aggregator: Aggregator<V, A, R>, values: V[]): R {
  let accumulator = aggregator.initial()
  for (const value of values) accumulator = aggregator.add(accumulator, value)
  return aggregator.result(accumulator)
}

/** Folds two halves separately and merges them, the way sessions merge. */
function foldMerged<V, A, R>(aggregator: Aggregator<V, A, R>, left: V[], right: V[]): R {
  const part = (values: V[]) => values.reduce((accumulator, value) => aggregator.add(accumulator, value), aggregator.initial())
  assert.ok(aggregator.merge !== undefined)
  return aggregator.result(aggregator.merge(part(left), part(right)))
}

describe('aggregators', () => {
  test('sum, count, mean, min and max of a column; null values are skipped', () => {
    assert.equal(fold(sum<Trade>('price'), trades), 60)
    assert.equal(fold(sum<Trade>('fee'), trades), 4)
    assert.equal(fold(count<Trade>(), trades), 3)
    assert.equal(fold(mean<Trade>('price'), trades), 20)
    assert.equal(fold(mean<Trade>('fee'), trades), 2, 'mean of the two fees that are there')
    assert.equal(fold(min<Trade>('price'), trades), 10)
    assert.equal(fold(max<Trade>('quantity'), trades), 3)
  })

  test('without a column they aggregate the values themselves; empty windows give 0 or null', () => {
    assert.equal(fold(sum(), [1, 2, 3.5]), 6.5)
    assert.equal(fold(mean(), []), null)
    assert.equal(fold(min(), []), null)
    assert.equal(fold(max(), [-5, -2]), -2)
    assert.equal(fold(count(), []), 0)
  })

  test('reduce folds with a user function; the initial value is copied for every window', () => {
    const longest = reduce<Trade, { symbol: string; n: number }>({ symbol: '', n: 0 }, (best, trade) => {
      best.n++
      if (trade.symbol > best.symbol) best.symbol = trade.symbol
      return best
    })
    assert.deepEqual(fold(longest, trades), { symbol: 'B', n: 3 })
    assert.deepEqual(fold(longest, trades.slice(0, 1)), { symbol: 'A', n: 1 }, 'a second window starts from a fresh copy')
  })

  test('collect keeps arrival order and hands out copies', () => {
    const prices = collect<Trade, 'price'>('price')
    const accumulator = prices.add(prices.initial(), trades[0] as Trade)
    const emitted = prices.result(accumulator)
    prices.add(accumulator, trades[1] as Trade)
    assert.deepEqual(emitted, [10], 'an emitted result does not change when the window grows')
    assert.deepEqual(fold(collect<Trade>(), trades), trades)
  })

  test('agg runs several aggregations at once', () => {
    const summary: Aggregator<Trade, unknown, { total: number; n: number; avg: number | null; high: number | null }> = agg({
      total: sum('price'),
      n: count(),
      avg: mean('price'),
      high: max('price'),
    })
    assert.deepEqual(fold(summary, trades), { total: 60, n: 3, avg: 20, high: 30 })
  })

  test('merging two halves gives the result of the whole (what session merging relies on)', () => {
    const left = trades.slice(0, 1)
    const right = trades.slice(1)
    assert.equal(foldMerged(sum<Trade>('price'), left, right), 60)
    assert.equal(foldMerged(mean<Trade>('price'), left, right), 20)
    assert.equal(foldMerged(min<Trade>('price'), right, left), 10)
    assert.deepEqual(foldMerged(collect<Trade, 'symbol'>('symbol'), left, right), ['A', 'B', 'A'])
    assert.deepEqual(foldMerged(agg({ n: count<Trade>(), high: max<Trade>('price') }), left, right), { n: 3, high: 30 })
    assert.equal('merge' in agg({ r: reduce(0, (a: number, b: Trade) => a + b.quantity) }), false, 'agg merges only when every part can')
  })

  test('column aggregators accept only numeric columns (checked by the compiler)', () => {
    // @ts-expect-error -- 'symbol' holds strings
    const bySymbol = sum<Trade>('symbol')
    // @ts-expect-error -- no such column
    const missing = mean<Trade>('volume')
    const spec: Aggregator<Trade, unknown, unknown> = agg({
      // @ts-expect-error -- inside agg() too, with the record type from the context
      bad: max('symbol'),
    })
    assert.ok(bySymbol !== undefined && missing !== undefined && spec !== undefined)
  })
})
