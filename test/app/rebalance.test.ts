/**
 * Two running instances of one application share its partitions: the second joins while input
 * flows, the first leaves later, and the read_committed output still holds every input once.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { Application } from '../../src/app/index.ts'
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'

async function instance(applicationId: string, input: string, output: string): Promise<Application> {
  const app = new Application({
    brokers: testBrokers(),
    applicationId,
    stateDir: await mkdtemp(join(tmpdir(), 'sluice-rebalance-')),
    commitIntervalMs: 200,
    logger: createLogger('warn'),
    handleSignals: false,
    consumer: { sessionTimeoutMs: 6000, heartbeatIntervalMs: 500 },
  })
  app
    .dataframe(app.topic<string, number>(input))
    .apply((n) => ({ n }))
    .toTopic(app.topic<string, { n: number }>(output))
  return app
}

test('a second instance joins and the first leaves while input flows: every input once, both did work', async () => {
  const admin = new KafkaAdmin({ brokers: testBrokers() })
  const input = uniqueName('rb-in')
  const output = uniqueName('rb-out')
  await admin.createTopics([
    { name: input, partitions: 6 },
    { name: output, partitions: 6 },
  ])
  const applicationId = uniqueName('rb-app')
  const producer = new KafkaProducer({ brokers: testBrokers() })
  let produced = 0
  const produce = async (waves: number) => {
    for (let wave = 0; wave < waves; wave++) {
      await producer.send(Array.from({ length: 200 }, (_, index) => ({ topic: input, key: Buffer.from(`k${(produced + index) % 37}`), value: Buffer.from(String(produced + index)) })))
      produced += 200
      await sleep(100)
    }
  }
  const running: Array<{ app: Application; run: Promise<void> }> = []
  try {
    const first = await instance(applicationId, input, output)
    const firstRun = first.run()
    running.push({ app: first, run: firstRun })
    await produce(10)
    const second = await instance(applicationId, input, output)
    const secondRun = second.run()
    running.push({ app: second, run: secondRun })
    await produce(30)
    const processedByFirst = first.stats().processed
    first.stop()
    await firstRun
    await produce(10)
    const deadline = Date.now() + 60_000
    while ((await admin.consumerLag(applicationId, [input])).some((entry) => entry.lag > 0n || entry.committedOffset < 0n)) {
      assert.ok(Date.now() < deadline, 'the remaining instance did not catch up')
      await sleep(200)
    }
    const processedBySecond = second.stats().processed
    second.stop()
    await secondRun

    assert.ok(processedByFirst > 0 && processedBySecond > 0, `both instances processed input (${processedByFirst}, ${processedBySecond})`)
    const values = (await readTopic(output, produced, { settleMs: 1500 })).map((message) => (JSON.parse(message.value?.toString() ?? '') as { n: number }).n)
    assert.equal(values.length, produced, 'no input lost or duplicated across the rebalances')
    assert.equal(new Set(values).size, produced)
  } finally {
    for (const { app, run } of running) {
      app.stop()
      await run.catch(() => undefined)
    }
    await producer.close()
    await admin.deleteTopics([input, output]).catch(() => undefined)
    await admin.close()
  }
})
