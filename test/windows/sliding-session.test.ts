import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { collect, count, reduce, session, sliding, sum, type WindowResult } from '../../src/windows/index.ts'
import { engine, feed, random, removeStores } from './helpers.ts'

after(removeStores)

const byWindow = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start - b.start || a.end - b.end
const sortedValues = (results: Array<WindowResult<string, number[]>>) =>
  results.map((result) => ({ start: result.start, end: result.end, value: [...result.value].sort((a, b) => a - b) })).sort(byWindow)

/**
 * Kafka Streams' sliding windows, by definition (KIP-450): every record's window [t - d, t], and
 * the window [t + 1, t + 1 + d] just after it when some record falls there; each holding the
 * records with timestamps in [start, end].
 */
function slidingOracle(timestamps: number[], difference: number): Array<{ start: number; end: number; value: number[] }> {
  const windows = new Map<number, number>()
  for (const t of timestamps) {
    windows.set(t - difference, t)
    if (timestamps.some((other) => other > t && other <= t + 1 + difference)) windows.set(t + 1, t + 1 + difference)
  }
  return [...windows]
    .map(([start, end]) => ({ start, end, value: timestamps.filter((t) => t >= start && t <= end).sort((a, b) => a - b) }))
    .sort(byWindow)
}

/** Session windows by definition: sorted timestamps split where the gap to the next is larger than the inactivity gap. */
function sessionOracle(timestamps: number[], gap: number): Array<{ start: number; end: number; value: number[] }> {
  const sorted = [...timestamps].sort((a, b) => a - b)
  const sessions: Array<{ start: number; end: number; value: number[] }> = []
  for (const t of sorted) {
    const last = sessions[sessions.length - 1]
    if (last !== undefined && t - last.end <= gap) {
      last.end = t
      last.value.push(t)
    } else {
      sessions.push({ start: t, end: t, value: [t] })
    }
  }
  return sessions
}

describe('sliding windows', () => {
  test('both ends are inclusive; windows come from the records (KIP-450 example)', () => {
    const windows = engine<number, string, number[]>({ windows: sliding(10), aggregator: collect(), emit: 'current' })
    assert.deepEqual(feed(windows, [['k', 18, 18]]), [{ start: 8, end: 18, key: 'k', value: [18] }])
    assert.deepEqual(feed(windows, [['k', 28, 28]]), [
      { start: 19, end: 29, key: 'k', value: [28] }, // the right window of 18 (28 is in [19, 29])
      { start: 18, end: 28, key: 'k', value: [18, 28] }, // 28's own window holds 18: both ends inclusive
    ])
    assert.deepEqual(sortedValues(windows.advanceTo(1000).concat()), [], 'current mode emits nothing on close')
  })

  test('final results match the definition for in-order and out-of-order records', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = random(seed)
      const timestamps: number[] = []
      let time = 1000
      for (let index = 0; index < 60; index++) {
        time += Math.floor(next() * 8)
        // A third of the records arrive out of order (but within the grace period).
        timestamps.push(next() < 0.33 ? Math.max(100, time - Math.floor(next() * 25)) : time)
      }
      const windows = engine<number, string, number[]>({ windows: sliding(10, { grace: 1000 }), aggregator: collect(), emit: 'final' })
      const emitted = feed(windows, timestamps.map((t) => ['k', t, t] as [string, number, number])).concat(windows.advanceTo(1_000_000))
      assert.equal(windows.lateRecords, 0)
      assert.deepEqual(sortedValues(emitted), slidingOracle(timestamps, 10), `seed ${seed}: ${timestamps.join(',')}`)
    }
  })

  test('with grace 0 and records in order, windows close as time moves on and results still match the definition', () => {
    for (const seed of [21, 22, 23]) {
      const next = random(seed)
      let time = 500
      const timestamps = Array.from({ length: 80 }, () => (time += Math.floor(next() * 14)))
      const windows = engine<number, string, number[]>({ windows: sliding(10), aggregator: collect(), emit: 'final' })
      const emitted = feed(windows, timestamps.map((t) => ['k', t, t] as [string, number, number]))
      assert.ok(emitted.length > 20, 'windows closed along the way')
      emitted.push(...windows.advanceTo(1_000_000))
      assert.equal(windows.lateRecords, 0)
      assert.deepEqual(sortedValues(emitted), slidingOracle(timestamps, 10), `seed ${seed}`)
    }
  })

  test('a window closes once stream time passes its end by the grace period; later records for it are dropped', () => {
    const windows = engine<number, string, number>({ windows: sliding(10, { grace: 5 }), aggregator: count(), emit: 'final' })
    feed(windows, [['k', 1, 100]])
    assert.deepEqual(windows.process('k', 1, 105), [], '[90, 100] is open while stream time <= 100 + 5')
    assert.deepEqual(windows.process('k', 1, 106), [{ start: 90, end: 100, key: 'k', value: 1 }])
    assert.deepEqual(windows.process('k', 1, 80), [], 'every window holding 80 ended before 106 - 5')
    assert.equal(windows.lateRecords, 1)
  })
})

describe('session windows', () => {
  test('records within the gap (inclusive) extend a session; a record bridging two merges them', () => {
    const windows = engine<number, string, number>({ windows: session(5, { grace: 100 }), aggregator: sum(), emit: 'current' })
    assert.deepEqual(feed(windows, [['k', 1, 10], ['k', 1, 20]]), [
      { start: 10, end: 10, key: 'k', value: 1 },
      { start: 20, end: 20, key: 'k', value: 1 },
    ])
    assert.deepEqual(windows.process('k', 5, 15), [{ start: 10, end: 20, key: 'k', value: 7 }], '15 is 5 from both sessions: it bridges them')
    assert.deepEqual(windows.process('k', 1, 26), [{ start: 26, end: 26, key: 'k', value: 1 }], '26 is 6 after the session end: a new session')
    assert.deepEqual(windows.process('other', 1, 21), [{ start: 21, end: 21, key: 'other', value: 1 }], 'sessions are per key')
  })

  test('final: a session is emitted once gap and grace have passed after its last record; closed sessions never change', () => {
    const windows = engine<number, string, number[]>({ windows: session(5, { grace: 2 }), aggregator: collect(), emit: 'final' })
    assert.deepEqual(feed(windows, [['k', 10, 10], ['k', 14, 14], ['k', 20, 20], ['k', 16, 16], ['k', 27, 27]]), [])
    assert.deepEqual(windows.process('k', 28, 28), [{ start: 10, end: 20, key: 'k', value: [10, 14, 20, 16] }], 'closes when stream time > 20 + 5 + 2')
    assert.deepEqual(windows.process('k', 19, 19), [], 'a session [19, 19] would end before stream time - grace: late')
    assert.equal(windows.lateRecords, 1)
    assert.deepEqual(windows.process('k', 26, 26), [], 'joins the open session [27, 28] although out of order')
    assert.deepEqual(windows.advanceTo(100), [{ start: 26, end: 28, key: 'k', value: [27, 28, 26] }])
  })

  test('a record near a closed session and an open one joins the open one only', () => {
    const windows = engine<number, string, number>({ windows: session(5), aggregator: count(), emit: 'final' })
    assert.deepEqual(feed(windows, [['k', 1, 10], ['k', 1, 20]]), [{ start: 10, end: 10, key: 'k', value: 1 }])
    assert.deepEqual(windows.process('k', 1, 15), [], 'within the gap of [20, 20], which is open')
    assert.deepEqual(windows.advanceTo(100), [{ start: 15, end: 20, key: 'k', value: 2 }])
  })

  test('final sessions match the definition for shuffled records', () => {
    for (const seed of [11, 12, 13]) {
      const next = random(seed)
      const timestamps = Array.from({ length: 80 }, () => Math.floor(next() * 400))
      const windows = engine<number, string, number[]>({ windows: session(7, { grace: 10_000 }), aggregator: collect(), emit: 'final' })
      const emitted = feed(windows, timestamps.map((t) => ['k', t, t] as [string, number, number])).concat(windows.advanceTo(1_000_000))
      assert.deepEqual(sortedValues(emitted), sessionOracle(timestamps, 7), `seed ${seed}`)
    }
  })

  test('session windows need an aggregator that can merge', () => {
    assert.throws(() => engine<number, string, number>({ windows: session(5), aggregator: reduce(0, (a: number, b: number) => a + b), emit: 'final' }), {
      code: 'CONFIG_INVALID',
      message: /merge/,
    })
    const merging = engine<number, string, number>({
      windows: session(5),
      aggregator: reduce(0, (a: number, b: number) => a + b, { merge: (a, b) => a + b }),
      emit: 'current',
    })
    assert.deepEqual(merging.process('k', 2, 0).at(-1)?.value, 2)
  })
})
