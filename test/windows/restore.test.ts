import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import type { RestoreRecord } from '../../src/state/index.ts'
import { agg, count, type Aggregator, hopping, max, mean, session, sliding, sum, tumbling, WindowedAggregation, type WindowDefinition, type WindowResult } from '../../src/windows/index.ts'
import { newStore, random, removeStores } from './helpers.ts'

after(removeStores)

interface Order {
  customer: string
  amount: number
}

type Totals = { total: number; n: number; avg: number | null; biggest: number | null }
const aggregator = (): Aggregator<Order, unknown, Totals> => agg({ total: sum('amount'), n: count(), avg: mean('amount'), biggest: max('amount') })

/** 2,000 orders of 20 customers, mostly in time order, some up to 150 ms late. */
function orders(seed: number): Array<[string, Order, number]> {
  const next = random(seed)
  let time = 1_700_000_000_000
  return Array.from({ length: 2000 }, () => {
    time += Math.floor(next() * 20)
    const customer = `customer-${Math.floor(next() * 20)}`
    const timestamp = next() < 0.2 ? time - Math.floor(next() * 150) : time
    return [customer, { customer, amount: Math.floor(next() * 1000) / 10 }, timestamp]
  })
}

const definitions: Array<[string, WindowDefinition]> = [
  ['tumbling', tumbling(1000, { grace: 100 })],
  ['hopping', hopping(1000, 250, { grace: 100 })],
  ['sliding', sliding(500, { grace: 100 })],
  ['session', session(40, { grace: 100 })],
]

describe('window state survives a restart through the changelog', () => {
  for (const [name, windows] of definitions) {
    for (const emit of ['final', 'current'] as const) {
      test(`${name}, ${emit}: checkpoints, an aborted checkpoint, a crash and a restore into a fresh store give the uninterrupted results`, () => {
        const events = orders(name.length * 7 + (emit === 'final' ? 1 : 2))
        const make = (store = newStore().store) => new WindowedAggregation<Order, string, Totals>({ store, windows, aggregator: aggregator(), emit })
        const run = (engine: WindowedAggregation<Order, string, Totals>, from: number, to: number) => {
          const results: Array<WindowResult<string, Totals>> = []
          for (let index = from; index < to; index++) {
            const [key, value, timestamp] = events[index] as [string, Order, number]
            results.push(...engine.process(key, value, timestamp))
          }
          return results
        }

        const uninterrupted = make()
        const expected = run(uninterrupted, 0, events.length).concat(uninterrupted.advanceTo(Number.MAX_SAFE_INTEGER - 10_000))
        assert.ok(expected.length > 50)

        // The interrupted run: checkpoints of 150 records, whose results count only once committed.
        const changelog: RestoreRecord[] = []
        const first = newStore()
        const engine = make(first.store)
        const committed: Array<WindowResult<string, Totals>> = []
        let position = 0
        const checkpoint = (size: number) => {
          const results = run(engine, position, position + size)
          for (const record of first.store.changelogRecords()) changelog.push({ ...record, offset: BigInt(changelog.length) })
          first.store.commit(BigInt(changelog.length - 1))
          committed.push(...results)
          position += size
        }
        checkpoint(150)
        checkpoint(150)
        // A checkpoint whose Kafka transaction aborts: its changelog records and results are never
        // seen, the store drops its writes, and the same records are processed again.
        run(engine, position, position + 150)
        first.store.changelogRecords()
        first.store.abort()
        for (let round = 0; round < 5; round++) checkpoint(150)
        run(engine, position, position + 100) // processed, never checkpointed: lost in the crash
        first.manager.close()

        const fresh = newStore()
        assert.equal(fresh.store.restoreFrom(changelog), changelog.length)
        const restarted = make(fresh.store)
        const rest = run(restarted, position, events.length).concat(restarted.advanceTo(Number.MAX_SAFE_INTEGER - 10_000))
        assert.deepEqual(committed.concat(rest), expected)
        fresh.manager.close()
      })
    }
  }
})
