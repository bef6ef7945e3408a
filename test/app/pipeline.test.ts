/**
 * Applications against the real broker: every operator end to end, branching, concat, groupBy
 * through a repartition topic, both guarantees, graceful shutdown and the error policies.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Application, type ApplicationOptions } from '../../src/app/index.ts'
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'

interface Order {
  id: number
  customer: string
  amount: number
}

/** Recent enough for the broker's timestamp bounds (it refuses messages far in the past or future). */
const BASE_TIME = Date.now() - 60_000

let admin: KafkaAdmin
let stateDir: string
const created: string[] = []

before(async () => {
  admin = new KafkaAdmin({ brokers: testBrokers() })
  stateDir = await mkdtemp(join(tmpdir(), 'sluice-app-test-'))
})

after(async () => {
  await admin.deleteTopics(created).catch(() => undefined)
  await admin.close()
})

function newApp(options: Partial<ApplicationOptions> = {}): Application {
  return new Application({
    brokers: testBrokers(),
    applicationId: uniqueName('app'),
    stateDir,
    commitIntervalMs: 200,
    logger: createLogger('warn'),
    handleSignals: false,
    ...options,
  })
}

function topicName(prefix: string): string {
  const name = uniqueName(prefix)
  created.push(name)
  return name
}

async function produceOrders(topic: string, orders: Order[], partitions = 3): Promise<void> {
  await admin.createTopics([{ name: topic, partitions }])
  const producer = new KafkaProducer({ brokers: testBrokers() })
  await producer.send(orders.map((order) => ({ topic, key: Buffer.from(order.customer), value: Buffer.from(JSON.stringify(order)), timestamp: BASE_TIME + order.id })))
  await producer.close()
}

/** Runs `app` until `until()` holds (checked every 50 ms), then stops it and waits for the end. */
async function runUntil(app: Application, until: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const running = app.run()
  const deadline = Date.now() + timeoutMs
  let failure: unknown
  running.catch((error: unknown) => (failure = error))
  while (failure === undefined && !(await until())) {
    if (Date.now() > deadline) {
      app.stop()
      await running.catch(() => undefined)
      throw new Error(`the application did not get there within ${timeoutMs} ms: ${JSON.stringify(app.stats())}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  app.stop()
  await running
}

const orders: Order[] = Array.from({ length: 60 }, (_, index) => ({ id: index, customer: ['ada', 'bob', 'cy'][index % 3] as string, amount: index }))

describe('application pipelines', () => {
  for (const processingGuarantee of ['exactly-once', 'at-least-once'] as const) {
    test(`filter, withColumn, select, setKey, setHeaders, setTimestamp and toTopic (${processingGuarantee})`, async () => {
      const input = topicName('orders')
      const outputName = topicName('big-orders')
      await produceOrders(input, orders)
      const app = newApp({ processingGuarantee })
      const source = app.topic<string, Order>(input)
      const output = app.topic<string, { id: number; doubled: number; customer: string }>(outputName, { config: { partitions: 2 } })
      app
        .dataframe(source)
        .filter((order) => order.amount >= 30)
        .withColumn('doubled', (order) => order.amount * 2)
        .select('id', 'doubled', 'customer')
        .setKey((order) => `customer-${order.customer}`)
        .setHeaders((order, meta) => new Map([...meta.headers, ['source-offset', Buffer.from(String(meta.offset))], ['id', Buffer.from(String(order.id))]]))
        .setTimestamp((order) => BASE_TIME + 1000 + order.id)
        .toTopic(output)
      await runUntil(app, () => app.stats().processed === 60)

      const out = await readTopic(outputName, 30)
      assert.equal(out.length, 30, 'orders with amount ≥ 30, each once')
      for (const message of out) {
        const value = JSON.parse(message.value?.toString() ?? '') as { id: number; doubled: number; customer: string }
        assert.equal(value.doubled, value.id * 2)
        assert.equal(message.key?.toString(), `customer-${value.customer}`)
        assert.equal(message.timestamp, BASE_TIME + 1000 + value.id)
        assert.equal(message.headers.get('id')?.toString(), String(value.id))
        assert.ok(message.headers.has('source-offset'))
      }
      assert.deepEqual(out.map((message) => (JSON.parse(message.value?.toString() ?? '') as { id: number }).id).sort((a, b) => a - b), Array.from({ length: 30 }, (_, index) => index + 30))
      const lag = await admin.consumerLag(app.options.applicationId, [input])
      assert.equal(lag.reduce((sum, entry) => sum + entry.lag, 0n), 0n, 'the last checkpoint at stop committed every offset')
    })
  }

  test('expand (one to many), branches that each see every record, and concat of two topics', async () => {
    const first = topicName('first')
    const second = topicName('second')
    const itemsName = topicName('items')
    const branchName = topicName('branch')
    await produceOrders(first, orders.slice(0, 10), 1)
    await produceOrders(second, orders.slice(10, 20), 2)
    const app = newApp()
    const items = app.topic<string, string>(itemsName)
    const branch = app.topic<string, number>(branchName)
    const merged = app.dataframe(app.topic<string, Order>(first)).concat(app.dataframe(app.topic<string, Order>(second)))
    merged.apply((order) => [`${order.id}-a`, `${order.id}-b`], { expand: true }).toTopic(items)
    merged.filter((order) => order.customer === 'ada').apply((order) => order.id).toTopic(branch)
    await runUntil(app, () => app.stats().processed === 20)

    const expanded = (await readTopic(itemsName, 40)).map((message) => JSON.parse(message.value?.toString() ?? '') as string)
    assert.deepEqual(expanded.sort(), Array.from({ length: 20 }, (_, id) => [`${id}-a`, `${id}-b`]).flat().sort())
    const adas = (await readTopic(branchName, 7)).map((message) => Number(message.value?.toString()))
    assert.deepEqual(adas.sort((a, b) => a - b), [0, 3, 6, 9, 12, 15, 18])
  })

  test('groupBy re-keys through a repartition topic: every record of a key reaches one partition', async () => {
    const input = topicName('orders')
    const outputName = topicName('by-customer')
    // Keys are order ids here, so one customer's orders start out spread over all 4 partitions.
    await admin.createTopics([{ name: input, partitions: 4 }])
    const producer = new KafkaProducer({ brokers: testBrokers() })
    await producer.send(orders.map((order) => ({ topic: input, key: Buffer.from(String(order.id)), value: Buffer.from(JSON.stringify(order)) })))
    await producer.close()

    const app = newApp()
    const output = app.topic<string, { customer: string; partition: number; id: number }>(outputName, { config: { partitions: 1 } })
    app
      .dataframe(app.topic<string, Order>(input))
      .groupBy('customer')
      .apply((order, meta) => ({ customer: meta.key, partition: meta.partition, id: order.id }))
      .toTopic(output)
    await runUntil(app, () => app.stats().processed === 120)

    const out = (await readTopic(outputName, 60)).map((message) => JSON.parse(message.value?.toString() ?? '') as { customer: string; partition: number; id: number })
    assert.equal(out.length, 60)
    const partitionsByCustomer = new Map<string, Set<number>>()
    for (const record of out) partitionsByCustomer.set(record.customer, (partitionsByCustomer.get(record.customer) ?? new Set()).add(record.partition))
    assert.deepEqual([...partitionsByCustomer.keys()].sort(), ['ada', 'bob', 'cy'])
    for (const [customer, partitions] of partitionsByCustomer) assert.equal(partitions.size, 1, `${customer}'s records were read from one repartition partition`)
    const repartition = await admin.describeTopic(`${app.options.applicationId}-repartition-customer`)
    assert.equal(repartition.partitions, 4, 'the repartition topic has as many partitions as its source')
    created.push(repartition.name)
  })
})
