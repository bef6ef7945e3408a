/**
 * `npm run demo`: the main job on its built-in default. Until the Databricks source lands this is
 * a smoke run of the foundation: the local broker (or KAFKA_BROKERS), a topic, three orders
 * written in one transaction, and read back by a read_committed consumer.
 */
import { SluiceError } from '../src/errors.ts'
import { KafkaAdmin, KafkaConsumer, KafkaProducer } from '../src/kafka/index.ts'
import { startLocalKafka } from '../src/local-kafka/index.ts'

async function main(): Promise<void> {
  const brokers = await brokersForDemo()
  const topic = 'sluice-demo-orders'
  const admin = new KafkaAdmin({ brokers })
  await admin.createTopics([{ name: topic, partitions: 3 }])
  await admin.close()

  const runId = Date.now().toString(36)
  const orders = [
    { id: `${runId}-1`, customer: 'ada', amount: 30 },
    { id: `${runId}-2`, customer: 'bob', amount: 5 },
    { id: `${runId}-3`, customer: 'ada', amount: 12 },
  ]
  const producer = new KafkaProducer({ brokers, transactionalId: 'sluice-demo-producer' })
  const transaction = await producer.beginTransaction()
  await transaction.send(orders.map((order) => ({ topic, key: Buffer.from(order.customer), value: Buffer.from(JSON.stringify(order)) })))
  await transaction.commit()
  await producer.close()
  console.log(`wrote ${orders.length} orders to "${topic}" in one transaction`)

  const consumer = new KafkaConsumer({ brokers, groupId: `sluice-demo-${runId}`, topics: [topic] })
  const wanted = new Set(orders.map((order) => order.id))
  const timeout = setTimeout(() => void consumer.close(), 30_000)
  for await (const message of consumer.messages()) {
    const order = JSON.parse(message.value?.toString() ?? 'null') as (typeof orders)[number]
    if (!wanted.delete(order.id)) continue // an order of an earlier demo run
    console.log(`read  partition ${message.partition} offset ${message.offset}  key ${message.key?.toString()}  ${JSON.stringify(order)}`)
    if (wanted.size === 0) break
  }
  clearTimeout(timeout)
  await consumer.close()
  if (wanted.size > 0) throw new Error(`${wanted.size} orders did not come back within 30 s`)
  console.log('round trip complete: every order read back once, read_committed')
}

async function brokersForDemo(): Promise<string[]> {
  const external = process.env.KAFKA_BROKERS
  if (external !== undefined && external.trim() !== '') return external.split(',')
  const broker = await startLocalKafka({ onProgress: (line) => console.log(line) })
  console.log(`local Kafka ${broker.alreadyRunning ? 'already running' : 'started'} at ${broker.bootstrap} (stop it with \`npm run kafka -- stop\`)`)
  return [broker.bootstrap]
}

main().catch((error: unknown) => {
  console.error(error instanceof SluiceError ? `error [${error.code}]: ${error.message}` : error)
  process.exit(1)
})
