import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { KafkaAdmin, KafkaConsumer, KafkaProducer, type ConsumedMessageWithSource } from '../../src/kafka/index.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'

const admin = new KafkaAdmin({ brokers: testBrokers() })
const created: string[] = []

async function newTopic(partitions = 1): Promise<string> {
  const name = uniqueName('tx')
  await admin.createTopics([{ name, partitions }])
  created.push(name)
  return name
}

after(async () => {
  await admin.deleteTopics(created)
  await admin.close()
})

const values = (messages: ConsumedMessageWithSource[]) => messages.map((message) => message.value?.toString())

describe('transactions', () => {
  test('a committed transaction is visible to read_committed; an aborted one only to read_uncommitted', async () => {
    const topic = await newTopic()
    const producer = new KafkaProducer({ brokers: testBrokers(), transactionalId: uniqueName('txid') })
    const aborted = await producer.beginTransaction()
    await aborted.send([{ topic, value: Buffer.from('aborted-1') }, { topic, value: Buffer.from('aborted-2') }])
    await aborted.abort()
    const committed = await producer.beginTransaction()
    await committed.send([{ topic, value: Buffer.from('committed-1') }])
    await committed.commit()
    await producer.close()

    assert.deepEqual(values(await readTopic(topic, 1)), ['committed-1'])
    assert.deepEqual(values(await readTopic(topic, 3, { isolationLevel: 'read_uncommitted' })), ['aborted-1', 'aborted-2', 'committed-1'])
  })

  test('an aborted transaction larger than one fetch stays invisible to read_committed', async () => {
    // The abort marker lands in a later fetch response than the aborted records: the client must
    // still drop them (@platformatic/kafka alone lets them through; src/kafka/aborted-transactions.ts).
    const topic = await newTopic()
    const transactionalId = uniqueName('txid')
    const before = new KafkaProducer({ brokers: testBrokers() })
    await before.send([{ topic, value: Buffer.from('before') }])
    await before.close()
    const zombie = new KafkaProducer({ brokers: testBrokers(), transactionalId })
    const crashed = await zombie.beginTransaction()
    const payload = Buffer.alloc(1000, 'x')
    for (let chunk = 0; chunk < 4; chunk++) await crashed.send(Array.from({ length: 100 }, () => ({ topic, value: payload })))
    // A successor with the same transactional id aborts what the crashed producer left open.
    const successor = new KafkaProducer({ brokers: testBrokers(), transactionalId })
    await successor.initTransactions()
    const transaction = await successor.beginTransaction()
    await transaction.send([{ topic, value: Buffer.from('after') }])
    await transaction.commit()
    await successor.close()
    await zombie.close().catch(() => undefined)

    const smallFetches = { fetchMaxBytes: 64 * 1024, fetchMaxBytesPerPartition: 64 * 1024 }
    assert.deepEqual(values(await readTopic(topic, 2, { ...smallFetches, settleMs: 1500 })), ['before', 'after'])
    assert.equal((await readTopic(topic, 402, { ...smallFetches, isolationLevel: 'read_uncommitted' })).length, 402, 'the aborted records are in the log')
  })

  test('an open transaction stays invisible until it commits', async () => {
    const topic = await newTopic()
    const producer = new KafkaProducer({ brokers: testBrokers(), transactionalId: uniqueName('txid') })
    const transaction = await producer.beginTransaction()
    await transaction.send([{ topic, value: Buffer.from('pending') }])
    assert.deepEqual(await readTopic(topic, 0, { settleMs: 1500 }), [])
    await transaction.commit()
    assert.deepEqual(values(await readTopic(topic, 1)), ['pending'])
    await producer.close()
  })

  test('a second producer with the same transactional id fences the first', async () => {
    const topic = await newTopic()
    const transactionalId = uniqueName('txid')
    const zombie = new KafkaProducer({ brokers: testBrokers(), transactionalId })
    const zombieTransaction = await zombie.beginTransaction()
    await zombieTransaction.send([{ topic, value: Buffer.from('zombie') }])

    const successor = new KafkaProducer({ brokers: testBrokers(), transactionalId })
    const transaction = await successor.beginTransaction()
    await transaction.send([{ topic, value: Buffer.from('successor') }])
    await transaction.commit()

    await assert.rejects(zombieTransaction.commit(), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'KAFKA_FENCED', error.message)
      assert.match(error.message, /fenced/)
      return true
    })
    assert.deepEqual(values(await readTopic(topic, 1)), ['successor'], 'the zombie’s write never becomes visible')
    await Promise.allSettled([zombie.close(), successor.close()])
  })

  test('consume-transform-produce commits offsets inside the transaction: a restart resumes after them, each input once', async () => {
    const input = await newTopic(2)
    const output = await newTopic(2)
    const groupId = uniqueName('ctp')
    const seed = new KafkaProducer({ brokers: testBrokers() })
    await seed.send(Array.from({ length: 40 }, (_, index) => ({ topic: input, key: Buffer.from(`k${index % 5}`), value: Buffer.from(String(index)) })))
    await seed.close()

    // Process `limit` messages per run in transactions of 5; the first run also leaves one transaction aborted.
    const runOnce = async (limit: number, abortLast: boolean) => {
      const consumer = new KafkaConsumer({ brokers: testBrokers(), groupId, topics: [input] })
      const producer = new KafkaProducer({ brokers: testBrokers(), transactionalId: `${groupId}-instance-0` })
      let batch: ConsumedMessageWithSource[] = []
      let processed = 0
      try {
        for await (const message of consumer.messages()) {
          batch.push(message)
          processed++
          if (batch.length === 5 || processed === limit) {
            const transaction = await producer.beginTransaction()
            await transaction.send(batch.map((consumed) => ({ topic: output, key: consumed.key, value: Buffer.from(`out-${consumed.value?.toString()}`) })))
            await transaction.sendOffsets(consumer, batch)
            if (abortLast && processed === limit) await transaction.abort()
            else await transaction.commit()
            batch = []
          }
          if (processed === limit) break
        }
      } finally {
        await consumer.close()
        await producer.close()
      }
    }
    await runOnce(25, true) // 20 committed, the last 5 aborted
    await runOnce(20, false) // resumes at the aborted ones

    const outputs = values(await readTopic(output, 40)).map((value) => Number(value?.replace('out-', '')))
    assert.equal(outputs.length, 40, 'every input produced exactly one output')
    assert.deepEqual([...outputs].sort((a, b) => a - b), Array.from({ length: 40 }, (_, index) => index))
    const lag = await admin.consumerLag(groupId, [input])
    assert.equal(lag.reduce((sum, entry) => sum + entry.lag, 0n), 0n, 'the group’s offsets were committed by the transactions')
  })
})
