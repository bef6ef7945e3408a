/**
 * The Delta source against tables written by delta-rs and the real broker: the snapshot and every
 * later commit (updates, deletes, appends, merges) reach the topic exactly as delta-rs's own change
 * feed reads them, in order per key; a restart resumes after the last committed record; and a
 * process killed with SIGKILL at random moments, restarted each time, still delivers every change once.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { deltaSource, SourceRunner } from '../../src/connectors/index.ts'
import { KafkaAdmin } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { deltaRsStep } from '../../scripts/lib/delta-writers.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'
import { assertSameChanges, exitOf, publishedChanges, startSourceProcess, until, untilSourceCommitted, type Change } from './helpers.ts'

let admin: KafkaAdmin
const createdTopics: string[] = []

before(() => {
  admin = new KafkaAdmin({ brokers: testBrokers() })
})

after(async () => {
  await admin.deleteTopics(createdTopics).catch(() => undefined)
  await admin.close()
})

async function write(table: string, step: string, ...args: number[]): Promise<void> {
  await deltaRsStep(table, step, ...args)
}

/** delta-rs's change feed of the table, without update pre-images (the source folds them away). */
async function expectedChanges(table: string): Promise<Change[]> {
  const lines = (await deltaRsStep(table, 'cdf')).trim().split('\n')
  return lines
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((row) => row._change_type !== 'update_preimage')
    .map((row) => {
      const { _change_type: type, _commit_version: version, ...columns } = row
      return { type: String(type), version: Number(version), id: Number(columns.id), row: columns }
    })
}

async function tableDir(): Promise<string> {
  return join(await mkdtemp(join(tmpdir(), 'sluice-delta-source-')), 'orders')
}

function topicName(): string {
  const name = uniqueName('delta-orders')
  createdTopics.push(name)
  return name
}

describe('Delta source', () => {
  test('the snapshot, then updates, deletes, appends and merges, as delta-rs reads the change feed; a restart adds nothing', async () => {
    const table = await tableDir()
    const topic = topicName()
    await write(table, 'create', 300)
    const options = { brokers: testBrokers(), applicationId: uniqueName('delta-src'), commitIntervalMs: 100, logger: createLogger('warn') }
    const source = deltaSource({ table, topic, partitions: 3, keyColumns: ['id'], pollIntervalMs: 100 })
    const runner = new SourceRunner(options)
    const running = runner.run([source])
    let expected: Change[]
    try {
      await until('the snapshot is published', () => runner.stats(source.name).records >= 300)
      await write(table, 'update', 5)
      await write(table, 'delete', 7)
      await write(table, 'append', 300, 100)
      await write(table, 'merge', 350, 100)
      expected = await expectedChanges(table)
      await until('every change is published', () => runner.stats(source.name).records >= expected.length)
    } finally {
      runner.stop()
      await running
    }

    const published = await readTopic(topic, expected.length, { settleMs: 1000 })
    assertSameChanges(publishedChanges(published), expected)
    const deletes = published.filter((message) => message.headers.get('sluice.change_type')?.toString() === 'delete')
    assert.ok(deletes.length > 0 && deletes.every((message) => message.key?.toString() === String((JSON.parse(message.value?.toString() ?? '{}') as { id: number }).id)))

    // A second run resumes after the last committed offset: nothing is published twice.
    const again = new SourceRunner(options)
    const rerun = again.run([deltaSource({ table, topic, partitions: 3, keyColumns: ['id'], pollIntervalMs: 100 })])
    await sleep(1500)
    again.stop()
    await rerun
    assert.equal(again.stats(source.name).records, 0)
    assert.equal((await readTopic(topic, expected.length, { settleMs: 1000 })).length, expected.length)
  })

  test('Debezium-style envelopes: before and after images, op codes, source position', async () => {
    const table = await tableDir()
    const topic = topicName()
    await write(table, 'create', 20)
    const runner = new SourceRunner({ brokers: testBrokers(), applicationId: uniqueName('delta-env'), commitIntervalMs: 100, logger: createLogger('warn') })
    const source = deltaSource({ table, topic, keyColumns: ['id'], format: 'envelope', pollIntervalMs: 100 })
    const running = runner.run([source])
    try {
      await until('the snapshot is published', () => runner.stats(source.name).records >= 20)
      await write(table, 'update', 10) // ids 0 and 10
      await write(table, 'delete', 7) // ids 1 and 8 and 15
      await until('the changes are published', () => runner.stats(source.name).records >= 25)
    } finally {
      runner.stop()
      await running
    }

    type Envelope = { before: { id: number; amount: number } | null; after: { id: number; amount: number } | null; op: string; source: { version: number; snapshot: boolean }; ts_ms: number }
    const events = (await readTopic(topic, 25, { settleMs: 1000 })).map((message) => JSON.parse(message.value?.toString() ?? '') as Envelope)
    assert.equal(events.filter((event) => event.op === 'r').length, 20)
    const updates = events.filter((event) => event.op === 'u')
    assert.deepEqual(updates.map((event) => event.after?.id).sort((a, b) => (a ?? 0) - (b ?? 0)), [0, 10])
    for (const update of updates) {
      assert.equal(update.before?.id, update.after?.id)
      assert.equal((update.after?.amount ?? 0) - (update.before?.amount ?? 0), 1000)
      assert.equal(update.source.version, 1)
    }
    const deletes = events.filter((event) => event.op === 'd')
    assert.deepEqual(deletes.map((event) => event.before?.id).sort((a, b) => (a ?? 0) - (b ?? 0)), [1, 8, 15])
    assert.ok(deletes.every((event) => event.after === null && event.source.version === 2 && event.ts_ms > 0))
  })

  test('SIGKILL at random moments while the table changes: the read_committed topic equals the change feed, once, in order per key', async () => {
    const table = await tableDir()
    const topic = topicName()
    await write(table, 'create', 5000)
    const env = { KAFKA_BROKERS: testBrokers().join(','), APP_ID: uniqueName('delta-kill'), TABLE: table, TOPIC: topic }
    const start = (): ChildProcess => startSourceProcess(env).process
    const exited = exitOf
    const commits: Array<[string, ...number[]]> = [['update', 3], ['append', 5000, 2000], ['delete', 11], ['merge', 6000, 2000], ['update', 7], ['append', 8000, 1000]]
    let kills = 0
    for (const [step, ...args] of commits) {
      const child = start()
      try {
        await sleep(800 + Math.floor(Math.random() * 1200))
        await write(table, step, ...args)
        await sleep(Math.floor(Math.random() * 800))
      } finally {
        child.kill('SIGKILL')
        await exited(child)
      }
      kills++
    }
    const expected = await expectedChanges(table)
    const last = start()
    try {
      await untilSourceCommitted(testBrokers(), env.APP_ID, topic, Math.max(...expected.map((change) => change.version)))
    } finally {
      last.kill('SIGTERM')
      await exited(last)
    }
    const published = await readTopic(topic, expected.length, { settleMs: 1500, timeoutMs: 60_000 })
    assertSameChanges(publishedChanges(published), expected)
    console.error(`[delta source] ${expected.length} changes, ${kills} kills: every change once`)
  })
})
