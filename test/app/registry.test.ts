/**
 * An Application reading and writing Avro through a real Schema Registry (Apicurio, Confluent
 * API): the input's schemas are fetched by id as batches arrive, the output's schema is registered
 * at start, and a registry-aware reader decodes the output.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { Application } from '../../src/app/index.ts'
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { avroSerde, SchemaRegistryClient } from '../../src/serialization/index.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'
import { startSchemaRegistry, type TestSchemaRegistry } from '../helpers/schema-registry.ts'

const ORDER = {
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'customer', type: 'string' },
    { name: 'amount', type: { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 } },
  ],
} as const
const TOTAL = {
  type: 'record',
  name: 'Doubled',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'doubled', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
  ],
} as const

let registry: TestSchemaRegistry
let client: SchemaRegistryClient

// The first run on a machine builds the registry with Maven (minutes); later runs start it in seconds.
before(async () => {
  registry = await startSchemaRegistry()
  client = new SchemaRegistryClient({ url: registry.url })
}, { timeout: 20 * 60_000 })

after(async () => {
  await registry?.stop()
})

test('Avro in, Avro out, both through the registry', async () => {
  const input = uniqueName('avro-orders')
  const output = uniqueName('avro-doubled')
  const admin = new KafkaAdmin({ brokers: testBrokers() })
  await admin.createTopics([{ name: input, partitions: 2 }])
  const writer = avroSerde({ schema: ORDER, registry: { client } })
  await writer.prepare(input)
  const producer = new KafkaProducer({ brokers: testBrokers() })
  await producer.send(
    Array.from({ length: 50 }, (_, index) => ({
      topic: input,
      key: Buffer.from(String(index)),
      value: writer.serialize({ id: BigInt(index), customer: `c${index % 3}`, amount: `${index}.25` }, { topic: input, isKey: false }),
    })),
  )
  await producer.close()

  const app = new Application({ brokers: testBrokers(), applicationId: uniqueName('avro-app'), stateDir: await mkdtemp(join(tmpdir(), 'sluice-avro-')), commitIntervalMs: 200, logger: createLogger('warn'), handleSignals: false })
  const orders = app.topic(input, { value: avroSerde({ schema: ORDER, registry: { client } }) })
  const doubled = app.topic(output, { value: avroSerde({ schema: TOTAL, registry: { client } }), config: { partitions: 2 } })
  app
    .dataframe(orders)
    .apply((order) => ({ id: order.id, doubled: (Number(order.amount) * 2).toFixed(2) }))
    .toTopic(doubled)
  const running = app.run()
  const deadline = Date.now() + 30_000
  while (app.stats().processed < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  app.stop()
  await running

  const reader = avroSerde<object, { id: bigint; doubled: string }>({ registry: { client, writerSchema: 'use-latest' } })
  const messages = await readTopic(output, 50, { settleMs: 1000 })
  await reader.prepareBatch(messages.map((message) => message.value))
  const values = messages.map((message) => reader.deserialize(message.value as Buffer, { topic: output, isKey: false }))
  assert.equal(values.length, 50)
  assert.deepEqual(values.map((value) => [Number(value.id), value.doubled]).sort((a, b) => Number(a[0]) - Number(b[0])), Array.from({ length: 50 }, (_, index) => [index, (index * 2 + 0.5).toFixed(2)]))
  assert.equal((await client.latestVersion(`${output}-value`)).version, 1, 'the output schema was registered at start')
  await admin.deleteTopics([input, output]).catch(() => undefined)
  await admin.close()
})
