/**
 * The SQL-warehouse source against the Databricks emulator (the documented Statement Execution
 * contract, real SQL on SQLite): incrementing, timestamp and timestamp+incrementing polling, and a
 * restart that resumes after the last committed row.
 */
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, test } from 'node:test'
import { sqlSource, SourceRunner, type SqlSourceOptions } from '../../src/connectors/index.ts'
import { DatabricksClient } from '../../src/databricks/index.ts'
import { KafkaAdmin } from '../../src/kafka/index.ts'
import { createLogger } from '../../src/observability/logger.ts'
import { startDatabricksEmulator, type DatabricksEmulator } from '../emulators/databricks/index.ts'
import { readTopic, testBrokers, uniqueName } from '../helpers/kafka.ts'

const TOKEN = 'dapi-sql-source'
const WAREHOUSE = 'warehouse-1'
let databricks: DatabricksEmulator
let client: DatabricksClient
const topics: string[] = []

before(async () => {
  databricks = await startDatabricksEmulator({ personalAccessTokens: [TOKEN], warehouseIds: [WAREHOUSE], rowsPerChunk: 50 })
  client = await DatabricksClient.connect({ host: databricks.host, token: TOKEN })
})

after(async () => {
  await databricks.close()
  const admin = new KafkaAdmin({ brokers: testBrokers() })
  await admin.deleteTopics(topics).catch(() => undefined)
  await admin.close()
})

function insertOrders(table: string, first: number, count: number, updatedAt: (id: number) => string): void {
  const insert = databricks.db.prepare(`INSERT INTO ${table} (id, customer, amount, updated_at) VALUES (?, ?, ?, ?)`)
  for (let id = first; id < first + count; id++) insert.run(id, `c${id % 3}`, id * 1.5, updatedAt(id))
}

/** Runs the source until `count` records were published in all, then stops it. */
async function runUntil(options: Omit<SqlSourceOptions, 'databricks' | 'warehouseId'>, applicationId: string, count: number, whileRunning?: () => void): Promise<number> {
  const runner = new SourceRunner({ brokers: testBrokers(), applicationId, commitIntervalMs: 100, logger: createLogger('warn') })
  const source = sqlSource({ databricks: client, warehouseId: WAREHOUSE, pollIntervalMs: 100, batchRows: 40, ...options })
  const running = runner.run([source])
  try {
    await sleep(300)
    whileRunning?.()
    const deadline = Date.now() + 30_000
    while (runner.stats(source.name).records < count) {
      assert.ok(Date.now() < deadline, `published ${runner.stats(source.name).records} of ${count}`)
      await sleep(50)
    }
    await sleep(500) // a few more polls: nothing else may come
  } finally {
    runner.stop()
    await running
  }
  return runner.stats(source.name).records
}

describe('SQL warehouse source', () => {
  test('incrementing: new rows by id, in batches; a restart resumes after the last committed id', async () => {
    const table = `orders_${Date.now().toString(36)}`
    databricks.db.exec(`CREATE TABLE ${table} (id BIGINT, customer STRING, amount DOUBLE, updated_at TIMESTAMP)`)
    insertOrders(table, 1, 100, () => '2026-01-01T00:00:00.000Z')
    const topic = uniqueName('sql-inc')
    topics.push(topic)
    const applicationId = uniqueName('sql-inc')
    const options = { table, mode: 'incrementing' as const, incrementingColumn: 'id', topic, keyColumns: ['id'] }
    assert.equal(await runUntil(options, applicationId, 150, () => insertOrders(table, 101, 50, () => '2026-01-01T00:00:00.000Z')), 150)
    insertOrders(table, 151, 10, () => '2026-01-01T00:00:00.000Z')
    assert.equal(await runUntil(options, applicationId, 10), 10, 'the restart published only the rows after the last committed id')
    const ids = (await readTopic(topic, 160, { settleMs: 1000 })).map((message) => (JSON.parse(message.value?.toString() ?? '') as { id: number }).id)
    assert.deepEqual(ids.sort((a, b) => a - b), Array.from({ length: 160 }, (_, index) => index + 1))
  })

  test('timestamp+incrementing: many rows per timestamp and updated rows, each version once', async () => {
    const table = `orders_${Date.now().toString(36)}_ts`
    databricks.db.exec(`CREATE TABLE ${table} (id BIGINT, customer STRING, amount DOUBLE, updated_at TIMESTAMP)`)
    // 90 rows over 3 timestamps (30 rows each: more than one batch of 40 straddles a timestamp).
    insertOrders(table, 1, 90, (id) => `2026-01-01T00:00:0${Math.floor((id - 1) / 30)}.000Z`)
    const topic = uniqueName('sql-tsinc')
    topics.push(topic)
    const options = { table, mode: 'timestamp+incrementing' as const, incrementingColumn: 'id', timestampColumn: 'updated_at', topic, keyColumns: ['id'] }
    const published = await runUntil(options, uniqueName('sql-tsinc'), 95, () => {
      // Five rows are updated later: a newer timestamp, so they are published again.
      databricks.db.exec(`UPDATE ${table} SET amount = amount + 1000, updated_at = '2026-01-02T00:00:00.000Z' WHERE id <= 5`)
    })
    assert.equal(published, 95)
    const rows = (await readTopic(topic, 95, { settleMs: 1000 })).map((message) => JSON.parse(message.value?.toString() ?? '') as { id: number; amount: number; updated_at: string })
    assert.equal(new Set(rows.map((row) => `${row.id}@${row.updated_at}`)).size, 95, 'each row version once')
    assert.deepEqual(rows.filter((row) => row.amount > 1000).map((row) => row.id).sort((a, b) => a - b), [1, 2, 3, 4, 5])
  })

  test('a missing incrementing column is a clear configuration error', () => {
    assert.throws(() => sqlSource({ databricks: client, warehouseId: WAREHOUSE, table: 'orders', mode: 'incrementing', topic: 't' }), /needs incrementingColumn/)
  })
})
