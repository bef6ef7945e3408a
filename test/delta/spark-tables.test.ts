/**
 * Tables written by Apache Spark with Delta Lake (delta-spark) — the Databricks flavour: deletion
 * vectors, column mapping, change data files, v2 and multi-part checkpoints, type widening — read by
 * Sluice exactly as Spark reads them, version by version, and the change feed row for row.
 */
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import { DeltaTable } from '../../src/delta/index.ts'
import { sparkFixtures, type FixtureSet } from '../fixtures/delta/fixtures.ts'
import { assertChangesMatch, assertSnapshotsMatch } from './table-expectations.ts'

async function logFiles(fixtures: FixtureSet, name: string): Promise<string[]> {
  return readdir(join(fixtures.dir, name, '_delta_log'), { recursive: true })
}

describe('Spark tables', { timeout: 30 * 60_000 }, () => {
  let fixtures: FixtureSet
  // The first run on a machine installs PySpark and writes every table in one JVM: minutes, not seconds.
  before(async () => {
    fixtures = await sparkFixtures()
  }, { timeout: 40 * 60_000 })

  test('all data types, including NaN, infinities, nested structs, arrays and maps, at every version', async () => {
    await assertSnapshotsMatch(fixtures.dir, 'spark_types', fixtures.tables.spark_types!)
  })

  test('partitioned by string, date and timestamp, after partition delete, replaceWhere and update', async () => {
    await assertSnapshotsMatch(fixtures.dir, 'spark_partitioned', fixtures.tables.spark_partitioned!)
  })

  test('change data feed from change data files (update, delete, merge) and plain appends', async () => {
    const expected = fixtures.tables.spark_cdf!
    assert.ok((await readdir(join(fixtures.dir, 'spark_cdf'))).includes('_change_data'), 'Spark wrote change data files')
    const table = await assertSnapshotsMatch(fixtures.dir, 'spark_cdf', expected)
    await assertChangesMatch(table, 'spark_cdf', expected)
  })

  test('deletion vectors: snapshots and the change feed (rows a new vector deletes are deletes)', async () => {
    const expected = fixtures.tables.spark_dv!
    const table = await assertSnapshotsMatch(fixtures.dir, 'spark_dv', expected)
    const snapshot = await table.snapshot()
    assert.ok(snapshot.files.some((file) => file.deletionVector !== undefined), 'the latest version has files with deletion vectors')
    assert.ok((await logFiles(fixtures, 'spark_dv')).some((file) => file.endsWith('.checkpoint.parquet')), 'a checkpoint carries the deletion vectors')
    assert.ok(snapshot.protocol.readerFeatures?.includes('deletionVectors'))
    await assertChangesMatch(table, 'spark_dv', expected)
  })

  test('a snapshot scan resumes at a row index with exactly the remaining rows (files before it skipped)', async () => {
    const snapshot = await (await DeltaTable.open(join(fixtures.dir, 'spark_dv'))).snapshot()
    assert.ok(snapshot.files.length > 1)
    const all = []
    for await (const row of snapshot.scan().rows()) all.push(row)
    for (const start of [0, 1, Math.floor(all.length / 2), all.length - 1, all.length]) {
      const resumed = []
      for await (const batch of snapshot.scan().indexedBatches(start)) {
        assert.equal(batch.startIndex, start + resumed.length, 'batches are contiguous')
        resumed.push(...batch.rows)
      }
      assert.deepEqual(resumed, all.slice(start), `resumed at ${start}`)
    }
  })

  test('deletion vectors with tens of thousands of deleted rows (bitmap and run containers)', async () => {
    const expected = fixtures.tables.spark_dv_large!
    const table = await assertSnapshotsMatch(fixtures.dir, 'spark_dv_large', expected)
    const snapshot = await table.snapshot()
    assert.ok((snapshot.files[0]?.deletionVector?.cardinality ?? 0) > 30_000)
    assert.equal(snapshot.numRecords, expected.snapshots[String(expected.latestVersion)]!.length)
  })

  for (const mode of ['name', 'id']) {
    test(`column mapping by ${mode}: renamed, dropped and re-added columns, a renamed nested field, a mapped partition column`, async () => {
      const name = `spark_colmap_${mode}`
      const table = await assertSnapshotsMatch(fixtures.dir, name, fixtures.tables[name]!)
      const snapshot = await table.snapshot()
      assert.equal(snapshot.columnMapping, mode)
      assert.deepEqual(snapshot.schema.fields.map((field) => field.name), ['user id', 'given_name', 'info', 'region', 'score'])
    })
  }

  test('classic checkpoints every 5 commits', async () => {
    assert.ok((await logFiles(fixtures, 'spark_checkpoint')).some((file) => /^0+10\.checkpoint\.parquet$/.test(file)))
    await assertSnapshotsMatch(fixtures.dir, 'spark_checkpoint', fixtures.tables.spark_checkpoint!)
  })

  test('multi-part checkpoint', async () => {
    assert.ok((await logFiles(fixtures, 'spark_multipart')).some((file) => /\.checkpoint\.0000000001\.\d{10}\.parquet$/.test(file)), 'Spark wrote a multi-part checkpoint')
    await assertSnapshotsMatch(fixtures.dir, 'spark_multipart', fixtures.tables.spark_multipart!)
  })

  for (const format of ['parquet', 'json']) {
    test(`v2 checkpoints (${format} top-level file) with sidecars`, async () => {
      const name = `spark_v2_${format}`
      const files = await logFiles(fixtures, name)
      assert.ok(files.some((file) => new RegExp(`\\.checkpoint\\.[0-9a-f-]{36}\\.${format}$`).test(file)), `Spark wrote a UUID-named ${format} checkpoint`)
      assert.ok(files.some((file) => file.startsWith('_sidecars/')), 'Spark wrote sidecar files')
      const table = await assertSnapshotsMatch(fixtures.dir, name, fixtures.tables[name]!)
      assert.ok((await table.snapshot()).protocol.readerFeatures?.includes('v2Checkpoint'))
    })
  }

  test('schema evolution, type widening and vacuumProtocolCheck', async () => {
    const expected = fixtures.tables.spark_evolution!
    assert.ok(Array.isArray(expected.widened) && expected.widened.includes('small'), `Spark widened column types: ${String(expected.widened)}`)
    assert.equal(expected.vacuumProtocolCheck, true, 'Spark enabled vacuumProtocolCheck')
    const table = await assertSnapshotsMatch(fixtures.dir, 'spark_evolution', expected)
    const features = (await table.snapshot()).protocol.readerFeatures ?? []
    assert.ok(features.includes('vacuumProtocolCheck'), `reader features: ${features.join(', ')}`)
    assert.ok(features.some((feature) => feature.startsWith('typeWidening')), `reader features: ${features.join(', ')}`)
  })

  test('time travel by timestamp agrees with Spark\'s history', async () => {
    for (const name of ['spark_cdf', 'spark_checkpoint', ...(fixtures.tables.spark_ict === undefined ? [] : ['spark_ict'])]) {
      const table = await DeltaTable.open(join(fixtures.dir, name))
      for (const { version, timestamp } of fixtures.tables[name]!.history!) {
        assert.equal(await table.versionAt(timestamp), version, `${name}: version at ${new Date(timestamp).toISOString()}`)
      }
    }
  })

  test('in-commit timestamps: snapshots read and history comes from commitInfo', async () => {
    const expected = fixtures.tables.spark_ict
    assert.ok(expected !== undefined, 'Spark wrote a table with in-commit timestamps')
    const table = await assertSnapshotsMatch(fixtures.dir, 'spark_ict', expected)
    assert.equal((await table.snapshot()).properties['delta.enableInCommitTimestamps'], 'true')
  })
})
