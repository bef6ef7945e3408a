/**
 * Exactly-once under failure: an application process is killed with SIGKILL at random moments
 * while input keeps arriving, and restarted each time. Its read_committed output must hold every
 * input exactly once, in input order per key.
 */
import assert from 'node:assert/strict'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import { KafkaAdmin, KafkaProducer } from '../../src/kafka/index.ts'
import { exited, startChild, type SluiceChild } from '../helpers/child-process.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'

const KEYS = 50
/** Input messages produced every 100 ms while the application is being killed. */
const WAVE = 300
const KILLS = 6

/** The application as a child process; `ready` resolves once it holds partitions. */
function startApp(env: Record<string, string>): SluiceChild {
  return startChild('test/apps/doubler.ts', env, ['"msg":"partitions assigned"'])
}

test('SIGKILL at random moments, restarted each time: the read_committed output holds every input once, in order per key', async () => {
  const admin = new KafkaAdmin({ brokers: testBrokers() })
  const input = uniqueName('eos-in')
  const output = uniqueName('eos-out')
  await admin.createTopics([
    { name: input, partitions: 4 },
    { name: output, partitions: 4 },
  ])
  try {
    await killAndRestart(admin, input, output)
  } finally {
    await admin.deleteTopics([input, output]).catch(() => undefined)
    await admin.close()
  }
})

async function killAndRestart(admin: KafkaAdmin, input: string, output: string): Promise<void> {
  const env = { KAFKA_BROKERS: testBrokers().join(','), APP_ID: uniqueName('eos-app'), INPUT: input, OUTPUT: output, STATE_DIR: await mkdtemp(join(tmpdir(), 'sluice-eos-')) }

  // Input keeps arriving while the application is killed and restarted, so kills land on open transactions.
  let killing = true
  let produced = 0
  const producing = (async () => {
    const producer = new KafkaProducer({ brokers: testBrokers() })
    while (killing) {
      const messages = Array.from({ length: WAVE }, (_, index) => {
        const n = produced + index
        return { topic: input, key: Buffer.from(`k${n % KEYS}`), value: Buffer.from(String(n)) }
      })
      await producer.send(messages)
      produced += WAVE
      await sleep(100)
    }
    await producer.close()
  })()

  let kills = 0
  for (; kills < KILLS; kills++) {
    const { child, ready } = startApp(env)
    await ready
    await sleep(300 + Math.floor(Math.random() * 1500))
    child.kill('SIGKILL')
    await exited(child)
  }
  killing = false
  await producing
  const last = startApp(env)
  await last.ready
  const deadline = Date.now() + 90_000
  for (;;) {
    const lag = await admin.consumerLag(env.APP_ID, [input])
    if (lag.length === 4 && lag.every((entry) => entry.lag === 0n && entry.committedOffset >= 0n)) break
    assert.ok(Date.now() < deadline, `the restarted application did not catch up: ${JSON.stringify(lag, (_, value: unknown) => (typeof value === 'bigint' ? String(value) : value))}`)
    await sleep(250)
  }
  last.child.kill('SIGTERM')
  assert.equal(await exited(last.child), 0, 'SIGTERM stops the application cleanly')

  const committed = await readTopic(output, produced, { settleMs: 1500, timeoutMs: 60_000 })
  const values = committed.map((message) => JSON.parse(message.value?.toString() ?? '') as { n: number; doubled: number })
  assert.equal(values.length, produced, `every input exactly once after ${kills} kills (no loss, no duplicate)`)
  assert.equal(new Set(values.map((value) => value.n)).size, produced)
  assert.ok(values.every((value) => value.doubled === value.n * 2))
  const lastPerKey = new Map<string, number>()
  for (const message of committed) {
    const key = message.key?.toString() ?? ''
    const n = (JSON.parse(message.value?.toString() ?? '') as { n: number }).n
    assert.equal(key, `k${n % KEYS}`)
    assert.ok((lastPerKey.get(key) ?? -1) < n, `key ${key}: ${n} came after ${lastPerKey.get(key)}`)
    lastPerKey.set(key, n)
  }
  const uncommitted = await readTopic(output, produced, { isolationLevel: 'read_uncommitted', settleMs: 1500, timeoutMs: 60_000 })
  assert.ok(uncommitted.length > produced, 'some kills left open transactions behind (their records are in the topic, aborted)')
  console.error(`[exactly-once] ${produced} inputs, ${kills} kills; the topic also holds ${uncommitted.length - produced} records of aborted transactions, invisible to read_committed`)
}
