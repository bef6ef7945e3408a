/**
 * Windowed aggregations through an Application on the real broker: tumbling windows per key with
 * several aggregations (window boundaries, out-of-order records within grace, late records
 * dropped, windows closed per partition by its own event time) and session windows that merge.
 * Expected results are worked out by hand from the input below.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { WindowResult } from '../../src/dataframe/index.ts'
import { count, sum } from '../../src/windows/index.ts'
import { readTopic, uniqueName } from '../helpers/kafka.ts'
import { BASE_TIME, Harness, json, runUntilProcessed } from './stateful-harness.ts'

interface Payment {
  amount: number
}

let harness: Harness
const applications: string[] = []

before(() => {
  harness = new Harness()
})

after(async () => {
  await harness.close(applications)
})

/** One input record: key, amount, event time (ms after BASE_TIME), and the partition it is written to. */
type Event = [key: string, amount: number, at: number, partition: number]

function messages(topic: string, events: Event[]) {
  return events.map(([key, amount, at, partition]) => ({ topic, key: Buffer.from(key), value: Buffer.from(JSON.stringify({ amount })), timestamp: BASE_TIME + at, partition }))
}

test('tumbling windows per key: sum and count, final results once per window, grace and late records', async () => {
  const input = await harness.topic('win-in', 2)
  const outputName = await harness.topic('win-out', 1)
  // Partition 0 holds keys a and b, partition 1 key c; each partition's stream time is its own.
  const events: Event[] = [
    ['a', 10, 1_000, 0],
    ['b', 5, 2_000, 0],
    ['a', 1, 9_999, 0], // last ms of [0, 10 s)
    ['a', 7, 10_000, 0], // first ms of [10 s, 20 s): the end is exclusive
    ['b', 4, 9_000, 0], // out of order, within the 2 s grace: joins [0, 10 s)
    ['b', 3, 12_000, 0], // stream time 12 s = end + grace: [0, 10 s) closes
    ['a', 100, 9_500, 0], // late: its window closed, dropped
    ['a', 2, 25_000, 0],
    ['c', 1, 5_000, 1],
    ['c', 2, 15_000, 1],
    ['c', 3, 16_000, 1],
    ['flush', 0, 100_000, 0], // moves each partition's stream time past every window above
    ['flush', 0, 100_000, 1],
  ]
  await harness.produce(messages(input, events))

  const applicationId = uniqueName('win-app')
  applications.push(applicationId)
  const app = harness.app({ applicationId, stateDir: await harness.stateDir() })
  const output = app.topic<string, WindowResult<string, { total: number; n: number }>>(outputName)
  app
    .dataframe(app.topic<string, Payment>(input))
    .tumblingWindow(10_000, { grace: 2_000 })
    .agg({ total: sum('amount'), n: count() })
    .final()
    .toTopic(output)
  await runUntilProcessed(app, events.length)

  const expected = [
    { key: 'a', start: 0, total: 11, n: 2 },
    { key: 'b', start: 0, total: 9, n: 2 },
    { key: 'a', start: 10_000, total: 7, n: 1 },
    { key: 'b', start: 10_000, total: 3, n: 1 },
    { key: 'a', start: 20_000, total: 2, n: 1 },
    { key: 'c', start: 0, total: 1, n: 1 },
    { key: 'c', start: 10_000, total: 5, n: 2 },
  ]
  const out = await readTopic(outputName, expected.length, { settleMs: 1000 })
  const results = out.map((message) => {
    const result = json(message.value) as { start: number; end: number; key: string; value: { total: number; n: number } }
    assert.equal(message.key?.toString(), result.key, 'a window result is keyed by its window key')
    assert.equal(message.timestamp, result.start, 'a window result carries its window start as timestamp')
    assert.equal(result.end, result.start + 10_000)
    return { key: result.key, start: result.start - BASE_TIME, total: result.value.total, n: result.value.n }
  })
  const order = (x: { key: string; start: number }, y: { key: string; start: number }) => x.key.localeCompare(y.key) || x.start - y.start
  assert.deepEqual(results.sort(order), expected.sort(order), 'every closed window once, with its exact sum and count; the late record is not counted')
  // Within a partition, windows are emitted as they close: a's [0, 10 s) before a's [10 s, 20 s).
  const aStarts = results.filter((result) => result.key === 'a').map((result) => result.start)
  assert.deepEqual(aStarts, [0, 10_000, 20_000])
})

test('session windows merge records closer than the gap, emitted when the session closes', async () => {
  const input = await harness.topic('session-in', 1)
  const outputName = await harness.topic('session-out', 1)
  const events: Event[] = [
    ['s', 1, 1_000, 0],
    ['s', 2, 3_000, 0], // within the 5 s gap: same session [1 s, 3 s]
    ['s', 4, 20_000, 0], // a new session
    ['s', 8, 30_000, 0],
    ['s', 16, 40_000, 0], // 10 s after the last: a session of its own, for now
    ['s', 32, 35_000, 0], // out of order (within grace), bridges [30 s] and [40 s]: one session [30 s, 40 s]
    ['t', 64, 41_000, 0],
    ['t', 128, 2_000, 0], // late: its session would have closed at 2 s + gap + grace
    ['flush', 0, 100_000, 0],
  ]
  await harness.produce(messages(input, events))
  const applicationId = uniqueName('session-app')
  applications.push(applicationId)
  const app = harness.app({ applicationId, stateDir: await harness.stateDir() })
  const output = app.topic<string, WindowResult<string, number>>(outputName)
  app.dataframe(app.topic<string, Payment>(input)).sessionWindow(5_000, { grace: 10_000 }).sum('amount').final().toTopic(output)
  await runUntilProcessed(app, events.length)

  const out = await readTopic(outputName, 4, { settleMs: 1000 })
  const sessions = out.map((message) => {
    const result = json(message.value) as { start: number; end: number; key: string; value: number }
    return [result.key, result.start - BASE_TIME, result.end - BASE_TIME, result.value]
  })
  assert.deepEqual(
    sessions.sort((x, y) => String(x[0]).localeCompare(String(y[0])) || Number(x[1]) - Number(y[1])),
    [
      ['s', 1_000, 3_000, 3],
      ['s', 20_000, 20_000, 4],
      ['s', 30_000, 40_000, 56],
      ['t', 41_000, 41_000, 64],
    ],
  )
})

test('hopping windows on event time from the value, emitting the current result on every update', async () => {
  const input = await harness.topic('hop-in', 1)
  const outputName = await harness.topic('hop-out', 1)
  // Event time comes from the value's `at` (ms after BASE_TIME); the message timestamps are all the same.
  const ats = [1_000, 6_000, 12_000]
  const sent = BASE_TIME + 50_000
  await harness.produce(ats.map((at, index) => ({ topic: input, key: Buffer.from('h'), value: Buffer.from(JSON.stringify({ amount: index + 1, at })), timestamp: sent })))
  const applicationId = uniqueName('hop-app')
  applications.push(applicationId)
  const app = harness.app({ applicationId, stateDir: await harness.stateDir() })
  const output = app.topic<string, WindowResult<string, number>>(outputName)
  app
    .dataframe(app.topic<string, Payment & { at: number }>(input))
    .hoppingWindow(10_000, 5_000, { timestampExtractor: (payment) => BASE_TIME + payment.at })
    .sum('amount')
    .current()
    .toTopic(output)
  await runUntilProcessed(app, ats.length)

  // Windows of 10 s every 5 s, aligned to the epoch: 1 s is in [-5, 5) and [0, 10); 6 s in [0, 10)
  // and [5, 15); 12 s in [5, 15) and [10, 20). Each record updates its windows, oldest first.
  const out = await readTopic(outputName, 6, { settleMs: 1000 })
  const updates = out.map((message) => {
    const result = json(message.value) as { start: number; end: number; value: number }
    return [result.start - BASE_TIME, result.end - BASE_TIME, result.value]
  })
  assert.deepEqual(updates, [
    [-5_000, 5_000, 1],
    [0, 10_000, 1],
    [0, 10_000, 3],
    [5_000, 15_000, 2],
    [5_000, 15_000, 5],
    [10_000, 20_000, 3],
  ])
})

test('groupBy a column, then windows per value of that column (through the repartition topic)', async () => {
  const input = await harness.topic('gb-win-in', 1)
  const outputName = await harness.topic('gb-win-out', 1)
  // Keyed by order id; the windows are per customer. One source partition: one repartition partition, whose stream time the last order moves on.
  const orders = [
    { id: 'o1', customer: 'ada', amount: 5, at: 1_000 },
    { id: 'o2', customer: 'bob', amount: 7, at: 2_000 },
    { id: 'o3', customer: 'ada', amount: 11, at: 3_000 },
    { id: 'o4', customer: 'ada', amount: 13, at: 12_000 },
    { id: 'o5', customer: 'zed', amount: 0, at: 100_000 },
  ]
  await harness.produce(orders.map((order) => ({ topic: input, key: Buffer.from(order.id), value: Buffer.from(JSON.stringify(order)), timestamp: BASE_TIME + order.at })))
  const applicationId = uniqueName('gb-win-app')
  applications.push(applicationId)
  const app = harness.app({ applicationId, stateDir: await harness.stateDir() })
  const output = app.topic<string, WindowResult<string, { total: number; n: number }>>(outputName)
  app
    .dataframe(app.topic<string, (typeof orders)[number]>(input))
    .groupBy('customer')
    .tumblingWindow(10_000)
    .agg({ total: sum('amount'), n: count() })
    .final()
    .toTopic(output)
  // Each order is processed twice: from the input, and from the repartition topic.
  await runUntilProcessed(app, 2 * orders.length)

  const out = await readTopic(outputName, 3, { settleMs: 1000 })
  const results = out.map((message) => {
    const result = json(message.value) as { start: number; key: string; value: { total: number; n: number } }
    return [result.key, result.start - BASE_TIME, result.value.total, result.value.n]
  })
  assert.deepEqual(
    results.sort((x, y) => String(x[0]).localeCompare(String(y[0])) || Number(x[1]) - Number(y[1])),
    [
      ['ada', 0, 16, 2],
      ['ada', 10_000, 13, 1],
      ['bob', 0, 7, 1],
    ],
  )
})
