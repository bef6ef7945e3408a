/**
 * Bad input against the real broker: each error policy of a source topic — fail, skip, dead-letter
 * topic — and the guarantee that a failing record leaves no partial output behind.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Application, type ErrorPolicy } from '../../src/app/index.ts'
import { SluiceError } from '../../src/errors.ts'
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'

let admin: KafkaAdmin
let stateDir: string
const created: string[] = []

before(async () => {
  admin = new KafkaAdmin({ brokers: testBrokers() })
  stateDir = await mkdtemp(join(tmpdir(), 'sluice-errors-test-'))
})

after(async () => {
  await admin.deleteTopics(created).catch(() => undefined)
  await admin.close()
})

/** Input: valid JSON numbers, one message that is not JSON, and one number the pipeline refuses (13). */
async function inputWithBadRecords(): Promise<string> {
  const topic = uniqueName('in')
  created.push(topic)
  await admin.createTopics([{ name: topic, partitions: 1 }])
  const producer = new KafkaProducer({ brokers: testBrokers() })
  const values = ['1', '2', '{not json', '3', '13', '4']
  await producer.send(values.map((value, index) => ({ topic, key: Buffer.from(`k${index}`), value: Buffer.from(value), headers: new Map([['trace', Buffer.from(`t${index}`)]]) })))
  await producer.close()
  return topic
}

function appReading(input: string, onError: ErrorPolicy) {
  const app = new Application({ brokers: testBrokers(), applicationId: uniqueName('errors'), stateDir, commitIntervalMs: 200, logger: createLogger('silent'), handleSignals: false })
  const outputName = uniqueName('out')
  created.push(outputName)
  const output = app.topic<string, number>(outputName)
  app
    .dataframe(app.topic<string, number>(input, { onError }))
    // Every record writes twice; 13 fails between the two writes, so its first write must not survive.
    .toTopic(output)
    .apply((n) => {
      if (n === 13) throw new RangeError('13 is unlucky')
      return n * 10
    })
    .toTopic(output)
  return { app, outputName }
}

async function runToEnd(app: Application, processedAndFailed: number): Promise<void> {
  const running = app.run()
  const deadline = Date.now() + 30_000
  while (app.stats().processed + app.stats().skipped + app.stats().deadLettered < processedAndFailed) {
    assert.ok(Date.now() < deadline, `stuck at ${JSON.stringify(app.stats())}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  app.stop()
  await running
}

const numbers = (messages: Array<{ value: Buffer | null }>) => messages.map((message) => Number(message.value?.toString())).sort((a, b) => a - b)

describe('error policies', () => {
  test("'fail' stops the application with an error that names the record, the stage and the fix", async () => {
    const input = await inputWithBadRecords()
    const { app, outputName } = appReading(input, 'fail')
    await assert.rejects(app.run(), (error: unknown) => {
      assert.ok(error instanceof SluiceError)
      assert.equal(error.code, 'DESERIALIZATION_FAILED')
      assert.match(error.message, new RegExp(`"${input}" partition 0 offset 2 failed to deserialize`))
      assert.match(error.message, /not valid JSON/)
      assert.match(error.fix, /onError/)
      return true
    })
    assert.deepEqual(numbers(await readTopic(outputName, 0, { settleMs: 1500 })), [], 'nothing of the failed checkpoint was committed')
    const lag = await admin.consumerLag(app.options.applicationId, [input])
    assert.ok(lag.every((entry) => entry.committedOffset <= 0n), 'no offset past the bad record was committed')
  })

  test("'skip' counts the failures and goes on; a record that fails halfway leaves no partial output", async () => {
    const input = await inputWithBadRecords()
    const { app, outputName } = appReading(input, 'skip')
    await runToEnd(app, 6)
    assert.equal(app.stats().skipped, 2)
    assert.equal(app.stats().processed, 4)
    assert.deepEqual(numbers(await readTopic(outputName, 8, { settleMs: 1000 })), [1, 2, 3, 4, 10, 20, 30, 40])
  })

  test('a dead-letter topic gets the original message with the error and its source in headers', async () => {
    const input = await inputWithBadRecords()
    const deadLetterTopic = uniqueName('dlq')
    created.push(deadLetterTopic)
    const { app, outputName } = appReading(input, { deadLetterTopic })
    await runToEnd(app, 6)
    assert.equal(app.stats().deadLettered, 2)
    assert.deepEqual(numbers(await readTopic(outputName, 8, { settleMs: 1000 })), [1, 2, 3, 4, 10, 20, 30, 40])
    const dead = await readTopic(deadLetterTopic, 2, { settleMs: 1000 })
    const header = (index: number, name: string) => dead[index]?.headers.get(name)?.toString()
    assert.deepEqual(dead.map((message) => message.value?.toString()), ['{not json', '13'])
    assert.deepEqual(dead.map((message) => message.key?.toString()), ['k2', 'k4'])
    assert.equal(header(0, 'sluice.error.stage'), 'deserialize')
    assert.match(header(0, 'sluice.error.message') ?? '', /not valid JSON/)
    assert.equal(header(1, 'sluice.error.stage'), 'process')
    assert.equal(header(1, 'sluice.error.message'), '13 is unlucky')
    assert.equal(header(1, 'sluice.error.class'), 'RangeError')
    assert.equal(header(1, 'sluice.source.topic'), input)
    assert.equal(header(1, 'sluice.source.partition'), '0')
    assert.equal(header(1, 'sluice.source.offset'), '4')
    assert.equal(header(1, 'trace'), 't4', 'the original headers are kept')
  })
})
