import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { KafkaAdmin, KafkaProducer, type Compression } from '../../src/kafka/index.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'

const admin = new KafkaAdmin({ brokers: testBrokers() })
const created: string[] = []

async function newTopic(partitions = 1, configs: Record<string, string> = {}): Promise<string> {
  const name = uniqueName('t')
  await admin.createTopics([{ name, partitions, configs }])
  created.push(name)
  return name
}

after(async () => {
  await admin.deleteTopics(created)
  await admin.close()
})

describe('producer and consumer', () => {
  test('keys, values, headers and timestamps round-trip; tombstones stay null', async () => {
    const topic = await newTopic(3)
    const producer = new KafkaProducer({ brokers: testBrokers() })
    const timestamp = Date.UTC(2026, 0, 2, 3, 4, 5)
    await producer.send([
      { topic, key: Buffer.from('k1'), value: Buffer.from('v1'), headers: new Map([['trace', Buffer.from('abc')]]), timestamp },
      { topic, key: Buffer.from('k2'), value: null, timestamp: timestamp + 1 },
      { topic, value: Buffer.from('no key'), timestamp: timestamp + 2 },
    ])
    await producer.close()
    const messages = await readTopic(topic, 3)
    const byValue = new Map(messages.map((message) => [message.value?.toString() ?? 'null', message]))
    assert.equal(messages.length, 3)
    assert.equal(byValue.get('v1')?.key?.toString(), 'k1')
    assert.equal(byValue.get('v1')?.headers.get('trace')?.toString(), 'abc')
    assert.equal(byValue.get('v1')?.timestamp, timestamp)
    assert.equal(byValue.get('null')?.key?.toString(), 'k2', 'a tombstone keeps its key and has a null value')
    assert.equal(byValue.get('no key')?.key, null)
  })

  test('messages of one key land on one partition, in the order sent', async () => {
    const topic = await newTopic(4)
    const producer = new KafkaProducer({ brokers: testBrokers(), lingerMs: 2, batchSize: 50 })
    for (let index = 0; index < 300; index++) producer.enqueue({ topic, key: Buffer.from(`key-${index % 7}`), value: Buffer.from(String(index)) })
    await producer.flush()
    await producer.close()
    const messages = await readTopic(topic, 300)
    assert.equal(messages.length, 300)
    const perKey = new Map<string, { partitions: Set<number>; values: number[] }>()
    for (const message of messages) {
      const entry = perKey.get(message.key?.toString() ?? '') ?? { partitions: new Set(), values: [] }
      entry.partitions.add(message.partition)
      entry.values.push(Number(message.value?.toString()))
      perKey.set(message.key?.toString() ?? '', entry)
    }
    for (const [key, entry] of perKey) {
      assert.equal(entry.partitions.size, 1, `${key} stays on one partition`)
      assert.deepEqual(entry.values, [...entry.values].sort((a, b) => a - b), `${key} keeps its order`)
    }
  })

  for (const compression of ['gzip', 'snappy', 'lz4', 'zstd'] as Compression[]) {
    test(`${compression} compression round-trips`, async () => {
      const topic = await newTopic()
      const producer = new KafkaProducer({ brokers: testBrokers(), compression })
      const values = Array.from({ length: 200 }, (_, index) => `${compression}-${index}-${'x'.repeat(index)}`)
      await producer.send(values.map((value) => ({ topic, value: Buffer.from(value) })))
      await producer.close()
      const messages = await readTopic(topic, values.length)
      assert.deepEqual(messages.map((message) => message.value?.toString()), values)
    })
  }

  test('an unreachable broker gives a KAFKA_CONNECT error that says how to start one', async () => {
    const producer = new KafkaProducer({ brokers: ['127.0.0.1:1'], connectTimeout: 500 })
    await assert.rejects(producer.send([{ topic: 'nowhere', value: Buffer.from('x') }]), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'KAFKA_CONNECT')
      assert.match(error.message, /127\.0\.0\.1:1.*npm run kafka -- start/s)
      return true
    })
    await producer.close()
  })
})

describe('admin', () => {
  test('creates a compacted topic, describes it, reports lag, lists groups and deletes it', async () => {
    const topic = await newTopic(2, { 'cleanup.policy': 'compact' })
    const description = await admin.describeTopic(topic)
    assert.equal(description.partitions, 2)
    assert.equal(description.replicationFactor, 1)
    assert.equal(description.configs['cleanup.policy'], 'compact')

    const producer = new KafkaProducer({ brokers: testBrokers() })
    await producer.send(Array.from({ length: 10 }, (_, index) => ({ topic, key: Buffer.from(`k${index}`), value: Buffer.from('v'), partition: index % 2 })))
    await producer.close()

    const groupId = uniqueName('lag')
    const read = await readTopic(topic, 4, { groupId, settleMs: 0 })
    assert.ok(read.length >= 4)
    const lag = await admin.consumerLag(groupId, [topic])
    assert.deepEqual(lag.map((entry) => [entry.partition, entry.endOffset, entry.committedOffset]).sort(), [
      [0, 5n, -1n],
      [1, 5n, -1n],
    ], 'nothing committed yet: the whole topic is lag')
    assert.equal(lag.reduce((sum, entry) => sum + entry.lag, 0n), 10n)

    await admin.deleteTopics([topic])
    created.splice(created.indexOf(topic), 1)
    assert.ok(!(await admin.listTopics()).includes(topic))
    assert.ok(Array.isArray(await admin.listConsumerGroups()))
  })
})
