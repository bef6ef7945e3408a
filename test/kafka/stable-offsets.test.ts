/**
 * A group member starting while a transaction that commits the group's offsets is still open
 * waits for it (OffsetFetch with require_stable, KIP-447) and starts from the offsets it commits,
 * instead of from the offsets before it: otherwise a partition handed over right after its
 * previous owner's last commit would be read again, and its output written twice.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { KafkaAdmin, KafkaConsumer, KafkaProducer, type ConsumedMessageWithSource } from '../../src/kafka/index.ts'
import { testBrokers, uniqueName } from '../helpers/kafka.ts'

test('a consumer starting under an open transaction of its group’s offsets starts where that transaction commits them', async () => {
  const admin = new KafkaAdmin({ brokers: testBrokers() })
  const topic = uniqueName('stable-in')
  const groupId = uniqueName('stable-group')
  await admin.createTopics([{ name: topic, partitions: 1 }])
  try {
    const plain = new KafkaProducer({ brokers: testBrokers() })
    await plain.send(Array.from({ length: 20 }, (_, n) => ({ topic, value: Buffer.from(String(n)) })))
    await plain.close()

    // The first member reads ten records and commits their offsets in a transaction it leaves open.
    const first = new KafkaConsumer({ brokers: testBrokers(), groupId, topics: [topic] })
    const read: ConsumedMessageWithSource[] = []
    for await (const message of first.messages()) {
      read.push(message)
      if (read.length === 10) break
    }
    const producer = new KafkaProducer({ brokers: testBrokers(), transactionalId: uniqueName('stable-tx') })
    const transaction = await producer.beginTransaction()
    await transaction.sendOffsets(first, read)
    await first.close()

    // The next member starts while those offsets are pending; the transaction commits 500 ms later.
    const second = new KafkaConsumer({ brokers: testBrokers(), groupId, topics: [topic] })
    const committing = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 500))
      await transaction.commit()
    })()
    let firstOffset: bigint | undefined
    for await (const message of second.messages()) {
      firstOffset = message.offset
      break
    }
    await committing
    await second.close()
    await producer.close()
    assert.equal(firstOffset, 10n, 'the second member starts after the ten records whose offsets the transaction committed')
  } finally {
    await admin.deleteTopics([topic]).catch(() => undefined)
    await admin.close()
  }
})
