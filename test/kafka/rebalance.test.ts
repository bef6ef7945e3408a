import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { KafkaAdmin, KafkaConsumer, KafkaProducer, type TopicPartition } from '../../src/kafka/index.ts'
import { testBrokers, uniqueName } from '../helpers/kafka.ts'

const admin = new KafkaAdmin({ brokers: testBrokers() })
const topic = uniqueName('rebalance')

after(async () => {
  await admin.deleteTopics([topic])
  await admin.close()
})

/** A group member that commits after every message it handles, recording what it saw and its partitions. */
function member(groupId: string, name: string, seen: Map<string, string>) {
  const events: string[] = []
  let partitions: TopicPartition[] = []
  const consumer = new KafkaConsumer({
    brokers: testBrokers(),
    groupId,
    topics: [topic],
    sessionTimeoutMs: 6000,
    heartbeatIntervalMs: 500,
    onAssigned: (assigned) => {
      partitions = assigned
      events.push(`assigned ${assigned.length}`)
    },
    onRevoked: (revoked) => events.push(`revoked ${revoked.length}`),
  })
  let stopping = false
  const done = (async () => {
    for await (const message of consumer.messages()) {
      seen.set(message.value?.toString() ?? '', name)
      // A commit racing the close at the end of the test may fail; nothing else may.
      await consumer.commit([message]).catch((error: unknown) => {
        if (!stopping) throw error
      })
    }
  })()
  const stop = async () => {
    stopping = true
    await consumer.close()
    await done
  }
  return { stop, events, partitions: () => partitions }
}

test('a second member joining takes over partitions; between them no message is lost', async () => {
  await admin.createTopics([{ name: topic, partitions: 4 }])
  const groupId = uniqueName('group')
  const producer = new KafkaProducer({ brokers: testBrokers() })
  const produce = (from: number, to: number) =>
    producer.send(Array.from({ length: to - from }, (_, offset) => ({ topic, key: Buffer.from(`k${from + offset}`), value: Buffer.from(String(from + offset)) })))
  const seen = new Map<string, string>()

  const first = member(groupId, 'first', seen)
  await produce(0, 100)
  while (seen.size < 100) await sleep(50)
  assert.equal(first.partitions().length, 4, 'alone, the first member holds every partition')

  const second = member(groupId, 'second', seen)
  const deadline = Date.now() + 30_000
  while (second.partitions().length === 0 && Date.now() < deadline) await sleep(100)
  assert.ok(second.partitions().length > 0, 'the second member got partitions')
  while (first.partitions().length + second.partitions().length !== 4 && Date.now() < deadline) await sleep(100)
  assert.equal(first.partitions().length + second.partitions().length, 4, 'the partitions are split between the two')
  assert.ok(first.events.includes('revoked 4'), `the first member was told it gave up its partitions: ${first.events.join(', ')}`)

  await produce(100, 200)
  while (seen.size < 200 && Date.now() < deadline) await sleep(50)
  await producer.close()
  await Promise.all([first.stop(), second.stop()])

  const missing = Array.from({ length: 200 }, (_, index) => String(index)).filter((value) => !seen.has(value))
  assert.deepEqual(missing, [], 'every message was consumed by one of the members')
  assert.ok([...seen.values()].includes('second'), 'the second member consumed some messages after the rebalance')
})
