import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { KafkaAdmin, KafkaProducer, type ConsumedMessage } from '../../src/kafka/index.ts'
import { changelogTopic, changelogTopicName, restoreChangelog, StateStoreManager, type PartitionStore, type RestoreProgress, type RestoreRecord } from '../../src/state/index.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'
import { temporaryDir } from './helpers.ts'

const admin = new KafkaAdmin({ brokers: testBrokers() })
const { dir, cleanup } = temporaryDir('changelog')
const created: string[] = []
after(async () => {
  await admin.deleteTopics(created)
  await admin.close()
  cleanup()
})

const PARTITION = 1

/** One checkpoint as the Application runs it: changelog records in a Kafka transaction, then the LMDB commit (or abort). */
async function checkpoint(store: PartitionStore, producer: KafkaProducer, topic: string, outcome: 'commit' | 'abort'): Promise<void> {
  const transaction = await producer.beginTransaction()
  await transaction.send(store.changelogRecords().map((record) => ({ topic, partition: PARTITION, key: record.key, value: record.value })))
  if (outcome === 'commit') {
    await transaction.commit()
    store.commit()
  } else {
    await transaction.abort()
    store.abort()
  }
}

/** The changelog partition as restore reads it, read_committed; `count` is how many committed records it holds. */
async function changelogRecords(topic: string, count: number): Promise<RestoreRecord[]> {
  const messages = await readTopic(topic, count, { settleMs: 1000 })
  return messages
    .filter((message: ConsumedMessage) => message.partition === PARTITION)
    .map((message) => ({ key: message.key, value: message.value, offset: message.offset }))
}

async function endOffset(topic: string): Promise<bigint> {
  const lag = await admin.consumerLag(uniqueName('probe'), [topic])
  return lag.find((entry) => entry.partition === PARTITION)?.endOffset ?? 0n
}

/** The records in fetch-sized batches, arriving asynchronously as from a consumer. */
async function* asAsync(records: RestoreRecord[]): AsyncGenerator<RestoreRecord[]> {
  for (let index = 0; index < records.length; index += 100) {
    await new Promise((resolve) => setImmediate(resolve))
    yield records.slice(index, index + 100)
  }
}

describe('changelog on a real broker', () => {
  test('a fresh store restores exactly the committed changelog, and later only what it lacks', async (t) => {
    const applicationId = uniqueName('app')
    const source = uniqueName('orders')
    const topic = changelogTopicName(applicationId, 'totals', source)
    const definition = changelogTopic(applicationId, 'totals', source, 2)
    assert.equal(definition.name, topic)
    await admin.createTopics([definition])
    created.push(topic)
    assert.equal((await admin.describeTopic(topic)).configs['cleanup.policy'], 'compact')

    const writer = new StateStoreManager({ stateDir: `${dir}/writer`, applicationId })
    const live = writer.openPartition('totals', source, PARTITION)
    const producer = new KafkaProducer({ brokers: testBrokers(), transactionalId: uniqueName('tx') })
    const restorer = new StateStoreManager({ stateDir: `${dir}/fresh`, applicationId })
    t.after(async () => {
      await producer.close()
      writer.close()
      restorer.close()
    })

    for (let key = 0; key < 500; key++) live.set(`customer-${key}`, { total: key, orders: 1 })
    await checkpoint(live, producer, topic, 'commit')
    for (let key = 0; key < 500; key += 2) live.set(`customer-${key}`, { total: key * 10, orders: 2 })
    for (let key = 1; key < 100; key += 2) live.delete(`customer-${key}`)
    await checkpoint(live, producer, topic, 'commit')
    live.set('customer-0', { total: -1, orders: 99 })
    live.set('customer-aborted', { total: 1, orders: 1 })
    await checkpoint(live, producer, topic, 'abort')
    const committedRecords = 500 + 250 + 50

    const fresh = restorer.openPartition('totals', source, PARTITION)
    assert.equal(fresh.changelogOffset(), undefined)
    const highWatermark = await endOffset(topic)
    const progress: RestoreProgress[] = []
    const records = await changelogRecords(topic, committedRecords)
    assert.equal(records.length, committedRecords, 'the aborted checkpoint is invisible to read_committed')
    const { applied } = await restoreChangelog({ store: fresh, records: asAsync(records), highWatermark, batchSize: 300, onProgress: (step) => progress.push(step) })
    assert.equal(applied, committedRecords)

    for (let key = 0; key < 500; key++) assert.deepEqual(fresh.get(`customer-${key}`), live.get(`customer-${key}`), `customer-${key}`)
    assert.deepEqual(fresh.get('customer-0'), { total: 0, orders: 2 })
    assert.equal(fresh.get('customer-1'), undefined)
    assert.equal(fresh.get('customer-aborted'), undefined)
    assert.equal(fresh.changelogOffset(), records[records.length - 1]!.offset)
    assert.equal(progress[0]?.restored, 0)
    assert.equal(progress[0]?.total, Number(highWatermark))
    assert.ok(progress.length >= 4, 'progress after every batch')
    assert.ok(progress.every((step) => step.store === 'totals' && step.topic === source && step.partition === PARTITION))

    // More checkpoints; the restored store then reads only the records after its offset.
    for (let key = 500; key < 520; key++) live.set(`customer-${key}`, { total: key, orders: 1 })
    await checkpoint(live, producer, topic, 'commit')
    const again = await restoreChangelog({ store: fresh, records: asAsync(await changelogRecords(topic, committedRecords + 20)), highWatermark: await endOffset(topic) })
    assert.equal(again.applied, 20)
    assert.deepEqual(fresh.get('customer-519'), { total: 519, orders: 1 })
  })
})
