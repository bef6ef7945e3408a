import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { agg, collect, count, hopping, mean, sum, tumbling, windowStarts } from '../../src/windows/index.ts'
import { engine, feed, removeStores } from './helpers.ts'

after(removeStores)

interface Payment {
  amount: number
}

describe('tumbling windows', () => {
  test('start is inclusive, end exclusive; a window closes and emits once stream time reaches its end', () => {
    const windows = engine<number, string, number[]>({ windows: tumbling(10), aggregator: collect(), emit: 'final' })
    assert.deepEqual(feed(windows, [['k', 0, 0], ['k', 9, 9]]), [])
    assert.deepEqual(windows.process('k', 10, 10), [{ start: 0, end: 10, key: 'k', value: [0, 9] }])
    assert.deepEqual(windows.process('k', 19, 19), [])
    assert.deepEqual(windows.advanceTo(20), [{ start: 10, end: 20, key: 'k', value: [10, 19] }])
  })

  test('windows are aligned to the epoch', () => {
    const windows = engine<number, string, number>({ windows: tumbling(10_000), aggregator: count(), emit: 'current' })
    assert.deepEqual(windows.process('k', 1, 1_700_000_003_456), [{ start: 1_700_000_000_000, end: 1_700_000_010_000, key: 'k', value: 1 }])
  })

  test('keys have windows of their own', () => {
    const windows = engine<Payment, string, number>({ windows: tumbling(10), aggregator: sum('amount'), emit: 'final' })
    feed(windows, [['a', { amount: 1 }, 1], ['b', { amount: 10 }, 2], ['a', { amount: 2 }, 3]])
    const closed = windows.advanceTo(10)
    assert.deepEqual(closed.map((result) => [result.key, result.value]).sort(), [['a', 3], ['b', 10]])
  })

  test('grace: out-of-order records within grace count, later ones are dropped and counted', () => {
    const windows = engine<number, string, number[]>({ windows: tumbling(10, { grace: 5 }), aggregator: collect(), emit: 'final' })
    assert.deepEqual(feed(windows, [['k', 1, 1], ['k', 12, 12], ['k', 3, 3], ['k', 14, 14]]), [], 'stream time 14 < end 10 + grace 5')
    assert.equal(windows.lateRecords, 0)
    assert.deepEqual(windows.process('k', 15, 15), [{ start: 0, end: 10, key: 'k', value: [1, 3] }])
    assert.deepEqual(windows.process('k', 4, 4), [], 'window [0, 10) closed at stream time 15: the record is late')
    assert.equal(windows.lateRecords, 1)
    assert.deepEqual(windows.advanceTo(25), [{ start: 10, end: 20, key: 'k', value: [12, 14, 15] }])
    assert.equal(windows.streamTime, 25)
  })

  test('current mode emits every update and closes windows silently; their late records are still dropped', () => {
    const windows = engine<Payment, string, { total: number; n: number; avg: number | null }>({
      windows: tumbling(10),
      aggregator: agg({ total: sum('amount'), n: count(), avg: mean('amount') }),
      emit: 'current',
    })
    assert.deepEqual(feed(windows, [['k', { amount: 4 }, 1], ['k', { amount: 6 }, 2]]), [
      { start: 0, end: 10, key: 'k', value: { total: 4, n: 1, avg: 4 } },
      { start: 0, end: 10, key: 'k', value: { total: 10, n: 2, avg: 5 } },
    ])
    assert.deepEqual(windows.process('k', { amount: 1 }, 10), [{ start: 10, end: 20, key: 'k', value: { total: 1, n: 1, avg: 1 } }])
    assert.deepEqual(windows.process('k', { amount: 1 }, 5), [])
    assert.equal(windows.lateRecords, 1)
  })

  test('late records are logged at most once per interval, with the count since the last line', () => {
    const lines: string[] = []
    let now = 1_000_000
    const windows = engine<number, string, number>({
      windows: tumbling(10),
      aggregator: count(),
      emit: 'final',
      name: 'clicks-per-10ms',
      logger: { warn: (line) => lines.push(line) },
      now: () => now,
    })
    windows.process('k', 1, 100)
    for (let index = 0; index < 5; index++) windows.process('k', 1, index)
    assert.equal(lines.length, 1)
    assert.match(lines[0] ?? '', /Window operation "clicks-per-10ms" \(events-0\): dropped 1 late record/)
    now += 9_999
    windows.process('k', 1, 7)
    assert.equal(lines.length, 1)
    now += 1
    windows.process('k', 1, 8)
    assert.equal(lines.length, 2)
    assert.match(lines[1] ?? '', /dropped 6 late record\(s\) since the last report .*; 7 in all/)
    assert.equal(windows.lateRecords, 7)
  })

  test('timestamps must be whole non-negative milliseconds', () => {
    const windows = engine<number, string, number>({ windows: tumbling(10), aggregator: count(), emit: 'final' })
    assert.throws(() => windows.process('k', 1, 1.5), { code: 'PROCESSING_FAILED' })
    assert.throws(() => windows.process('k', 1, -1), { code: 'PROCESSING_FAILED' })
  })

  test('bad definitions are refused with the field named', () => {
    assert.throws(() => tumbling(0), { code: 'CONFIG_INVALID', message: /tumbling window size/ })
    assert.throws(() => tumbling(10, { grace: -1 }), { code: 'CONFIG_INVALID', message: /grace/ })
    assert.throws(() => hopping(10, 20), { code: 'CONFIG_INVALID', message: /advance 20 ms is larger than its size 10 ms/ })
  })
})

describe('hopping windows', () => {
  test('a record belongs to size / advance windows, none starting before 0', () => {
    assert.deepEqual(windowStarts(hopping(10, 5), 7), [0, 5])
    assert.deepEqual(windowStarts(hopping(10, 5), 10), [5, 10])
    assert.deepEqual(windowStarts(hopping(10, 5), 3), [0])
    assert.deepEqual(windowStarts(hopping(30, 10), 45), [20, 30, 40])
    assert.deepEqual(windowStarts(tumbling(10), 10), [10])
  })

  test('each window aggregates exactly the records in [start, end) and closes at end + grace', () => {
    const windows = engine<number, string, number[]>({ windows: hopping(10, 5, { grace: 2 }), aggregator: collect(), emit: 'final' })
    assert.deepEqual(feed(windows, [['k', 0, 0], ['k', 5, 5], ['k', 9, 9], ['k', 10, 10], ['k', 11, 11]]), [])
    assert.deepEqual(windows.process('k', 12, 12), [{ start: 0, end: 10, key: 'k', value: [0, 5, 9] }])
    assert.deepEqual(windows.process('k', 8, 8), [], 'in [5, 15) which is still open; [0, 10) is closed')
    assert.equal(windows.lateRecords, 1, 'missing one of its windows counts as late')
    assert.deepEqual(windows.advanceTo(17), [
      { start: 5, end: 15, key: 'k', value: [5, 9, 10, 11, 12, 8] },
    ])
    assert.deepEqual(windows.advanceTo(100), [{ start: 10, end: 20, key: 'k', value: [10, 11, 12] }])
  })
})
