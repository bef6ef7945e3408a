/**
 * State across a rebalance: two instances of one stateful application, each with its own state
 * folder (as on two machines). The second joins while input flows and takes over partitions
 * whose state the first built; then the first leaves and the second takes everything. Stores move
 * through their changelog topics, so every running total stays exact, and exactly once.
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, test } from 'node:test'
import type { Application } from '../../src/app/index.ts'
import { KafkaProducer } from '../../src/kafka/index.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'
import { Harness, json } from './stateful-harness.ts'

const KEYS = 37
const WAVE = 200

let harness: Harness
const applications: string[] = []

before(() => {
  harness = new Harness()
})

after(async () => {
  await harness.close(applications)
})

test('two instances share partitions across rebalances: state follows its partition, every running total exact and once', async () => {
  const input = await harness.topic('srb-in', 6)
  const totalsName = await harness.topic('srb-totals', 6)
  const applicationId = uniqueName('srb-app')
  applications.push(applicationId)

  const instance = async (instanceId: string): Promise<Application> => {
    const app = harness.app({ applicationId, instanceId, stateDir: await harness.stateDir(), consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 } })
    app
      .dataframe(app.topic<string, number>(input))
      .apply(
        (n, state) => {
          const total = state.get('total', 0) + n
          state.set('total', total)
          return { n, total }
        },
        { stateful: true },
      )
      .toTopic(app.topic<string, { n: number; total: number }>(totalsName))
    return app
  }

  const producer = new KafkaProducer({ brokers: testBrokers() })
  let produced = 0
  const produce = async (waves: number) => {
    for (let wave = 0; wave < waves; wave++) {
      await producer.send(Array.from({ length: WAVE }, (_, index) => ({ topic: input, key: Buffer.from(`k${(produced + index) % KEYS}`), value: Buffer.from(String(produced + index)) })))
      produced += WAVE
      await sleep(100)
    }
  }
  const running: Array<{ app: Application; run: Promise<void> }> = []
  try {
    const first = await instance('first')
    const firstRun = first.run()
    firstRun.catch(() => undefined) // awaited below; a failure surfaces there, not as an unhandled rejection
    running.push({ app: first, run: firstRun })
    await produce(10)
    const second = await instance('second')
    const secondRun = second.run()
    secondRun.catch(() => undefined)
    running.push({ app: second, run: secondRun })
    await produce(30)
    const processedByFirst = first.stats().processed
    first.stop()
    await firstRun
    await produce(10)
    const deadline = Date.now() + 60_000
    while ((await harness.admin.consumerLag(applicationId, [input])).some((entry) => entry.lag > 0n || entry.committedOffset < 0n)) {
      assert.ok(Date.now() < deadline, 'the remaining instance did not catch up')
      await sleep(200)
    }
    const processedBySecond = second.stats().processed
    second.stop()
    await secondRun
    assert.ok(processedByFirst > 0 && processedBySecond > 0, `both instances processed input (${processedByFirst}, ${processedBySecond})`)
    const restores = harness.logLines.filter((line) => line.msg === 'state store restored from its changelog')
    assert.ok(restores.length > 0, 'the second instance restored stores the first one had built')

    const expected = new Map<number, number>()
    const totals = new Map<string, number>()
    for (let n = 0; n < produced; n++) {
      const key = `k${n % KEYS}`
      totals.set(key, (totals.get(key) ?? 0) + n)
      expected.set(n, totals.get(key) as number)
    }
    const out = await readTopic(totalsName, produced, { settleMs: 1500 })
    assert.equal(out.length, produced, 'one total per input: none lost or duplicated across the rebalances')
    const wrong = out.map((message) => json(message.value) as { n: number; total: number }).filter(({ n, total }) => expected.get(n) !== total)
    assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} totals are not their key's running total`)
  } finally {
    for (const { app, run } of running) {
      app.stop()
      await run.catch(() => undefined)
    }
    await producer.close()
  }
})
