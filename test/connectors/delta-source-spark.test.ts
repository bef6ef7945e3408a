/**
 * The Delta source on a change feed written by Spark (delta-spark, cdc files), killed with SIGKILL
 * at random moments and restarted each time: the read_committed topic must equal what Spark itself
 * reads of the feed, every change once, in order per key.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, test } from 'node:test'
import { KafkaAdmin } from '../../src/kafka/index.ts'
import { sparkFixtures, type FixtureSet } from '../fixtures/delta/fixtures.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'
import { assertSameChanges, exitOf, publishedChanges, startSourceProcess, untilSourceCommitted, type Change } from './helpers.ts'

let fixtures: FixtureSet
const topic = uniqueName('spark-orders')

// Spark writes its tables once per fixture script; the first run takes minutes.
before(async () => {
  fixtures = await sparkFixtures()
}, { timeout: 25 * 60_000 })

after(async () => {
  const admin = new KafkaAdmin({ brokers: testBrokers() })
  await admin.deleteTopics([topic]).catch(() => undefined)
  await admin.close()
})

test('a Spark-written change feed, SIGKILL at random moments: the topic equals what Spark reads, once, in order per key', async () => {
  const expectedTable = fixtures.tables.spark_cdf_stream
  assert.ok(expectedTable?.changes !== undefined, 'the Spark fixtures include spark_cdf_stream with its change feed')
  const expected: Change[] = expectedTable.changes.rows
    .filter((row) => row._change_type !== 'update_preimage')
    .map((row) => ({ type: String(row._change_type), version: Number(row._commit_version), id: Number(row.id), row: Object.fromEntries(Object.entries(row).filter(([name]) => !name.startsWith('_'))) }))
  const env = { KAFKA_BROKERS: testBrokers().join(','), APP_ID: uniqueName('spark-kill'), TABLE: join(fixtures.dir, 'spark_cdf_stream'), TOPIC: topic }
  let kills = 0
  for (; kills < 5; kills++) {
    const child = startSourceProcess(env)
    try {
      await child.started
      await sleep(100 + Math.floor(Math.random() * 600))
    } finally {
      child.process.kill('SIGKILL')
      await exitOf(child.process)
    }
  }
  const last = startSourceProcess(env)
  try {
    await untilSourceCommitted(testBrokers(), env.APP_ID, topic, expectedTable.latestVersion)
  } finally {
    last.process.kill('SIGTERM')
    await exitOf(last.process)
  }
  assertSameChanges(publishedChanges(await readTopic(topic, expected.length, { settleMs: 1500, timeoutMs: 60_000 })), expected)
  const withAborted = await readTopic(topic, expected.length, { isolationLevel: 'read_uncommitted', settleMs: 1500, timeoutMs: 60_000 })
  console.error(`[delta source] Spark-written feed: ${expected.length} changes, ${kills} kills: every change once; ${withAborted.length - expected.length} records of aborted transactions in the topic`)
})
