/**
 * The kernel's promises beyond reading identical rows: refusing what it cannot read, clear errors
 * for vacuumed files and disabled change feeds, resuming the change feed at an offset, time travel
 * by timestamp, and the storage layer. Tables are copies of delta-rs fixtures, altered where a test
 * needs a table no writer would produce on purpose (a future reader feature).
 */
import assert from 'node:assert/strict'
import { cp, mkdtemp, readdir, readFile, rm, unlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { DeltaTable, LocalObjectStore, registerStoreScheme, storeForUri, type ChangeRow, type DeltaValue } from '../../src/delta/index.ts'
import { deltaRsFixtures, type FixtureSet } from '../fixtures/delta/fixtures.ts'
import { assertSameRows, normalizeRow } from './table-expectations.ts'

let fixtures: FixtureSet
let scratch: string

before(async () => {
  fixtures = await deltaRsFixtures()
  scratch = await mkdtemp(join(tmpdir(), 'sluice-delta-'))
}, { timeout: 20 * 60_000 })
after(async () => {
  await rm(scratch, { recursive: true, force: true })
})

async function copyOf(name: string): Promise<string> {
  const dir = await mkdtemp(join(scratch, `${name}-`))
  await cp(join(fixtures.dir, name), dir, { recursive: true })
  return dir
}

function commitName(version: number): string {
  return `${String(version).padStart(20, '0')}.json`
}

async function appendCommit(dir: string, version: number, actions: object[]): Promise<void> {
  await writeFile(join(dir, '_delta_log', commitName(version)), actions.map((action) => JSON.stringify(action)).join('\n') + '\n')
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

describe('protocol', { timeout: 10 * 60_000 }, () => {
  test('an unknown reader feature is refused by name; versions before it still read', async () => {
    const dir = await copyOf('rs_evolution')
    const table = await DeltaTable.open(dir)
    const latest = await table.latestVersion()
    await appendCommit(dir, latest + 1, [{ protocol: { minReaderVersion: 3, minWriterVersion: 7, readerFeatures: ['deletionVectors', 'futureFeature'], writerFeatures: ['deletionVectors', 'futureFeature'] } }])
    await assert.rejects(table.snapshot(), (error: Error & { code?: string }) => error.code === 'DELTA_UNSUPPORTED_FEATURE' && error.message.includes('"futureFeature"') && !error.message.includes('"deletionVectors"'))
    assert.equal((await table.snapshot({ version: latest })).version, latest)
  })

  test('a reader version above 3 is refused', async () => {
    const dir = await copyOf('rs_evolution')
    const table = await DeltaTable.open(dir)
    await appendCommit(dir, (await table.latestVersion()) + 1, [{ protocol: { minReaderVersion: 4, minWriterVersion: 7 } }])
    await assert.rejects(table.snapshot(), { code: 'DELTA_UNSUPPORTED_FEATURE' })
  })
})

describe('change data feed', { timeout: 10 * 60_000 }, () => {
  test('a table without the feed gives DELTA_CDF_UNAVAILABLE; so does a range reaching past its disabling', async () => {
    const plain = await DeltaTable.open(join(fixtures.dir, 'rs_partitioned'))
    await assert.rejects(collect(plain.changes({ fromVersion: 0 })), { code: 'DELTA_CDF_UNAVAILABLE' })

    const dir = await copyOf('rs_cdf')
    const table = await DeltaTable.open(dir)
    const latest = await table.latestVersion()
    const metadata = (await table.snapshot()).metadata
    await appendCommit(dir, latest + 1, [{ metaData: { ...metadata, format: { provider: 'parquet', options: {} }, configuration: { ...metadata.configuration, 'delta.enableChangeDataFeed': 'false' } } }])
    assert.ok((await collect(table.changes({ fromVersion: 0, toVersion: latest }))).length > 0)
    await assert.rejects(collect(table.changes({ fromVersion: 0 })), { code: 'DELTA_CDF_UNAVAILABLE' })
  })

  test('a remove without partition values (allowed by the protocol) takes them from the file\'s add', async () => {
    const dir = await copyOf('rs_partitioned')
    const table = await DeltaTable.open(dir)
    const latest = await table.latestVersion()
    const before = await table.snapshot()
    await appendCommit(dir, latest + 1, [{ metaData: { ...before.metadata, format: { provider: 'parquet', options: {} }, configuration: { ...before.metadata.configuration, 'delta.enableChangeDataFeed': 'true' } } }])
    const victim = before.files.find((file) => Object.values(file.partitionValues).every((value) => value !== null))!
    await appendCommit(dir, latest + 2, [{ remove: { path: encodeURI(victim.path), deletionTimestamp: Date.now(), dataChange: true } }])
    const rowsOf = async (version: number): Promise<string[]> => {
      const out: string[] = []
      for await (const row of (await table.snapshot({ version })).scan().rows()) out.push(JSON.stringify(normalizeRow(row)))
      return out.sort()
    }
    const remaining = await rowsOf(latest + 2)
    const gone = (await rowsOf(latest + 1)).filter((row) => {
      const at = remaining.indexOf(row)
      if (at < 0) return true
      remaining.splice(at, 1)
      return false
    })
    const deletes = (await collect(table.changes({ fromVersion: latest + 2 }))).map((row) => {
      assert.equal(row._change_type, 'delete')
      const data: Record<string, DeltaValue> = { ...row }
      for (const column of ['_change_type', '_commit_version', '_commit_timestamp']) delete data[column]
      return JSON.stringify(normalizeRow(data))
    })
    assert.ok(gone.length > 0)
    assert.deepEqual(deletes.sort(), gone)
  })

  test('a vacuumed data file gives DELTA_FILE_VACUUMED for old changes while the snapshot still reads', async () => {
    const dir = await copyOf('rs_cdf')
    const table = await DeltaTable.open(dir)
    const first = (await readFile(join(dir, '_delta_log', commitName(0)), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { add?: { path: string } })
    const live = new Set((await table.snapshot()).files.map((file) => file.path))
    const gone = first.flatMap((action) => (action.add === undefined || live.has(action.add.path) ? [] : [action.add.path]))
    assert.ok(gone.length > 0, 'version 0 has a file the latest version no longer uses')
    for (const path of gone) await unlink(join(dir, path))
    await assert.rejects(collect(table.changes({ fromVersion: 0 })), { code: 'DELTA_FILE_VACUUMED' })
    assert.ok((await collect((await table.snapshot()).scan().rows())).length > 0)
  })

  test('changesSince resumes at (version, index) with exactly the remaining rows, and picks up new commits', async () => {
    const dir = await copyOf('rs_cdf')
    const table = await DeltaTable.open(dir)
    const latest = await table.latestVersion()
    // Commit times are the commit files' times: pin them to whole seconds so re-creating a file can restore its time exactly.
    const commitTime = (version: number): Date => new Date(Date.parse('2025-03-01T00:00:00Z') + version * 1000)
    for (let version = 0; version <= latest; version++) await utimes(join(dir, '_delta_log', commitName(version)), commitTime(version), commitTime(version))
    const all = await collect(table.changes({ fromVersion: 0 }))
    const withOffsets = (await collect(table.changesSince(0))).flatMap((batch) => batch.rows.map((row, i) => ({ version: batch.version, index: batch.startIndex + i, row })))
    assert.deepEqual(withOffsets.map((entry) => entry.row), all, 'changesSince(0) reads what changes() reads, in the same order')
    // Offsets are contiguous from 0 within each version.
    const perVersion = new Map<number, number[]>()
    for (const { version, index } of withOffsets) perVersion.set(version, [...(perVersion.get(version) ?? []), index])
    for (const indexes of perVersion.values()) assert.deepEqual(indexes, indexes.map((_, i) => i))

    const middle = withOffsets[Math.floor(withOffsets.length / 2)]!
    const resumed = (await collect(table.changesSince(middle.version, { startIndex: middle.index }))).flatMap((batch) => batch.rows)
    assert.deepEqual(resumed, all.slice(withOffsets.indexOf(middle)))

    // Hide the last commit, poll, then let it appear: the next poll returns only it.
    const lastCommit = join(dir, '_delta_log', commitName(latest))
    const saved = await readFile(lastCommit)
    await unlink(lastCommit)
    const early = await collect(table.changesSince(0))
    assert.ok(early.every((batch) => batch.version < latest))
    assert.deepEqual(await collect(table.changesSince(latest)), [])
    await writeFile(lastCommit, saved)
    await utimes(lastCommit, commitTime(latest), commitTime(latest))
    const late: ChangeRow[] = (await collect(table.changesSince(latest))).flatMap((batch) => batch.rows)
    assert.deepEqual(late, all.filter((row) => row._commit_version === BigInt(latest)))
  })
})

describe('log cleanup', { timeout: 10 * 60_000 }, () => {
  test('commits before a checkpoint removed: the latest version reads the same, older ones are DELTA_VERSION_NOT_FOUND', async () => {
    const dir = await copyOf('rs_checkpoint')
    const expected = fixtures.tables.rs_checkpoint!
    const log = await readdir(join(dir, '_delta_log'))
    const checkpoint = Number(log.find((name) => name.endsWith('.checkpoint.parquet'))!.slice(0, 20))
    for (let version = 0; version <= checkpoint; version++) await unlink(join(dir, '_delta_log', commitName(version)))
    await rm(join(dir, '_delta_log', '_last_checkpoint')) // found by listing alone
    const table = await DeltaTable.open(dir)
    assert.equal(await table.latestVersion(), expected.latestVersion)
    const rows = await collect((await table.snapshot()).scan().rows())
    assertSameRows(rows.map(normalizeRow), expected.snapshots[String(expected.latestVersion)]!, 'rs_checkpoint without its early commits')
    assert.equal((await table.snapshot({ version: checkpoint })).version, checkpoint)
    await assert.rejects(table.snapshot({ version: checkpoint - 1 }), { code: 'DELTA_VERSION_NOT_FOUND' })
    await assert.rejects(collect(table.changes({ fromVersion: 0 })), { code: 'DELTA_VERSION_NOT_FOUND' })
  })
})

describe('time travel', { timeout: 10 * 60_000 }, () => {
  test('by timestamp: the latest version committed at or before it (file times, made increasing)', async () => {
    const dir = await copyOf('rs_cdf')
    const table = await DeltaTable.open(dir)
    const latest = await table.latestVersion()
    const base = Date.parse('2025-03-01T00:00:00Z')
    for (let version = 0; version <= latest; version++) {
      const at = new Date(base + version * 60_000)
      await utimes(join(dir, '_delta_log', commitName(version)), at, at)
    }
    assert.equal(await table.versionAt(base + 2 * 60_000), 2)
    assert.equal(await table.versionAt(new Date(base + 2 * 60_000 + 59_999)), 2)
    assert.equal((await table.snapshot({ timestamp: '2025-03-01T00:03:00Z' })).version, 3)
    assert.equal(await table.versionAt(base + 10 * 60 * 60_000), latest)
    await assert.rejects(table.versionAt(base - 1), { code: 'DELTA_VERSION_NOT_FOUND' })
  })
})

describe('storage', () => {
  test('local store: putIfAbsent writes once, list is ordered and starts after startAfter', async () => {
    const dir = await mkdtemp(join(scratch, 'store-'))
    const store = new LocalObjectStore(pathToFileURL(dir).href)
    assert.equal(await store.putIfAbsent('_delta_log/00000000000000000001.json', new TextEncoder().encode('a')), true)
    assert.equal(await store.putIfAbsent('_delta_log/00000000000000000001.json', new TextEncoder().encode('b')), false)
    assert.equal(new TextDecoder().decode(await store.read('_delta_log/00000000000000000001.json')), 'a')
    await store.put('_delta_log/00000000000000000000.json', new TextEncoder().encode('zero'))
    await store.put('_delta_log/00000000000000000002.json', new TextEncoder().encode('two'))
    await store.put('part-0.parquet', new TextEncoder().encode('data'))
    const listed = await collect(store.list('_delta_log/', { startAfter: '_delta_log/00000000000000000000.json' }))
    assert.deepEqual(listed.map((info) => info.path), ['_delta_log/00000000000000000001.json', '_delta_log/00000000000000000002.json'])
    assert.equal(listed[1]?.size, 3)
    assert.deepEqual(new TextDecoder().decode(await store.readRange('_delta_log/00000000000000000000.json', 1, 3)), 'er')
    await assert.rejects(store.head('missing.json'), (error: Error & { code?: string }) => error.code === 'DELTA_STORAGE' && error.message.includes('missing.json'))
    await assert.rejects(store.read('../outside'), { code: 'DELTA_STORAGE' })
    assert.deepEqual((await readdir(join(dir, '_delta_log'))).sort(), ['00000000000000000000.json', '00000000000000000001.json', '00000000000000000002.json'])
  })

  test('storeForUri: paths and file:// are local, registered schemes resolve, unknown schemes fail clearly', async () => {
    assert.ok((await storeForUri(scratch)) instanceof LocalObjectStore)
    assert.equal((await storeForUri(pathToFileURL(scratch).href)).root, scratch)
    const local = new LocalObjectStore(scratch)
    registerStoreScheme('memtest', () => local)
    assert.equal(await storeForUri('memtest://bucket/table'), local)
    await assert.rejects(storeForUri('ftp://host/table'), (error: Error & { code?: string }) => error.code === 'DELTA_STORAGE' && error.message.includes('ftp://'))
  })
})

describe('file paths', { timeout: 10 * 60_000 }, () => {
  test('a data file named by absolute URI under the table root reads; one outside it is refused clearly', async () => {
    const dir = await copyOf('rs_evolution')
    const table = await DeltaTable.open(dir)
    const latest = await table.latestVersion()
    const expected = await collect((await table.snapshot()).scan().rows())
    const file = (await table.snapshot()).files[0]!
    // Re-add the same file by its absolute file:// URI (as a shallow clone names files).
    await appendCommit(dir, latest + 1, [
      { remove: { path: encodeURI(file.path), deletionTimestamp: 1, dataChange: false } },
      { add: { path: pathToFileURL(join(dir, file.path)).href, partitionValues: {}, size: file.size, modificationTime: 1, dataChange: false } },
    ])
    const rows = await collect((await table.snapshot()).scan().rows())
    assert.deepEqual(rows.map((row) => JSON.stringify(normalizeRow(row))).sort(), expected.map((row) => JSON.stringify(normalizeRow(row))).sort())
    await appendCommit(dir, latest + 2, [{ add: { path: 's3://elsewhere/part-0.parquet', partitionValues: {}, size: 10, modificationTime: 1, dataChange: true } }])
    await assert.rejects(collect((await table.snapshot()).scan().rows()), (error: Error & { code?: string }) => error.code === 'DELTA_UNSUPPORTED_FEATURE' && error.message.includes('outside the table root'))
  })
})
