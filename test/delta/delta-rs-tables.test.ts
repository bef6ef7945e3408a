/**
 * Tables written by delta-rs (Python `deltalake`) read by Sluice exactly as delta-rs reads them:
 * every version's snapshot, and the change data feed, row for row.
 */
import assert from 'node:assert/strict'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import { DeltaTable } from '../../src/delta/index.ts'
import { ParquetFile } from '../../src/delta/read/parquet-file.ts'
import { deltaRsFixtures, type FixtureSet } from '../fixtures/delta/fixtures.ts'
import { assertChangesMatch, assertSnapshotsMatch } from './table-expectations.ts'

describe('delta-rs tables', { timeout: 15 * 60_000 }, () => {
  let fixtures: FixtureSet
  before(async () => {
    fixtures = await deltaRsFixtures()
  }, { timeout: 20 * 60_000 })

  test('all data types, appends and an overwrite, at every version', async () => {
    await assertSnapshotsMatch(fixtures.dir, 'rs_types', fixtures.tables.rs_types!)
  })

  test('every codec (none, snappy, gzip, zstd, lz4, brotli) and files of many row groups', async () => {
    const expected = fixtures.tables.rs_codecs!
    await assertSnapshotsMatch(fixtures.dir, 'rs_codecs', expected)
    const table = await DeltaTable.open(join(fixtures.dir, 'rs_codecs'))
    const snapshot = await table.snapshot()
    const codecs = new Set<string>()
    for (const file of snapshot.files) {
      const parquet = await ParquetFile.open(table.store, file.path, file.size)
      assert.ok(parquet.rowGroups().length > 1, `${file.path} has several row groups`)
      for (const group of parquet.metadata.row_groups) for (const column of group.columns) codecs.add(column.meta_data?.codec ?? '')
    }
    for (const codec of ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'LZ4_RAW', 'BROTLI']) assert.ok(codecs.has(codec), `a file uses ${codec} (${[...codecs].join(', ')})`)
  })

  test('column batches hold the same values as rows, column by column', async () => {
    const snapshot = await (await DeltaTable.open(join(fixtures.dir, 'rs_types'))).snapshot()
    const rows = []
    for await (const row of snapshot.scan({ columns: ['ts', 'id', 'point'] }).rows()) rows.push(row)
    const fromColumns = []
    for await (const batch of snapshot.scan({ columns: ['ts', 'id', 'point'] }).columnBatches()) {
      assert.deepEqual(Object.keys(batch.columns), ['ts', 'id', 'point'])
      for (let i = 0; i < batch.length; i++) fromColumns.push({ ts: batch.columns.ts![i], id: batch.columns.id![i], point: batch.columns.point![i] })
    }
    assert.ok(rows.length > 0)
    assert.deepEqual(fromColumns, rows)
  })

  test('partitioned by string, int and date (escaped values, nulls), after delete, update and merge', async () => {
    const expected = fixtures.tables.rs_partitioned!
    const table = await assertSnapshotsMatch(fixtures.dir, 'rs_partitioned', expected)
    const snapshot = await table.snapshot()
    assert.deepEqual(snapshot.partitionColumns, ['region', 'bucket', 'day'])
    // Pruning by partition value reads only the matching files and returns only their rows.
    const scan = snapshot.scan({ partitionFilter: (values) => values.region === 'ap=1', columns: ['id', 'region'] })
    assert.ok(scan.files().length < snapshot.files.length)
    const rows = []
    for await (const row of scan.rows()) rows.push(row)
    const latest = expected.snapshots[String(expected.latestVersion)]!
    assert.equal(rows.length, latest.filter((row) => row.region === 'ap=1').length)
    assert.ok(rows.every((row) => row.region === 'ap=1' && Object.keys(row).join() === 'id,region'))
  })

  test('change data feed over appends, delete, update, merge and overwrite', async () => {
    const expected = fixtures.tables.rs_cdf!
    const table = await assertSnapshotsMatch(fixtures.dir, 'rs_cdf', expected)
    await assertChangesMatch(table, 'rs_cdf', expected, 2000)
  })

  test('checkpoint after 12 commits, then more commits', async () => {
    const expected = fixtures.tables.rs_checkpoint!
    const log = await readdir(join(fixtures.dir, 'rs_checkpoint', '_delta_log'))
    assert.ok(log.some((name) => name.endsWith('.checkpoint.parquet')), 'delta-rs wrote a checkpoint')
    await assertSnapshotsMatch(fixtures.dir, 'rs_checkpoint', expected)
  })

  test('schema evolution: files written before a column existed read it as null', async () => {
    await assertSnapshotsMatch(fixtures.dir, 'rs_evolution', fixtures.tables.rs_evolution!)
  })

  test('a folder without a table is DELTA_TABLE_NOT_FOUND; a missing version is DELTA_VERSION_NOT_FOUND', async () => {
    await assert.rejects(DeltaTable.open(join(fixtures.dir, 'no-such-table')), { code: 'DELTA_TABLE_NOT_FOUND' })
    const table = await DeltaTable.open(join(fixtures.dir, 'rs_evolution'))
    await assert.rejects(table.snapshot({ version: 99 }), { code: 'DELTA_VERSION_NOT_FOUND' })
  })
})
