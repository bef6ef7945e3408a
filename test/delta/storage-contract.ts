/**
 * What every cloud ObjectStore must do, checked against a real (local) server: the storage
 * tests of each backend call this inside their suite with a store over an empty table root.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SluiceError } from '../../src/errors.ts'
import type { ObjectInfo, ObjectStore } from '../../src/delta/storage/object-store.ts'

const text = (value: string): Uint8Array => new TextEncoder().encode(value)
const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)

async function collect(items: AsyncIterable<ObjectInfo>): Promise<ObjectInfo[]> {
  const all: ObjectInfo[] = []
  for await (const item of items) all.push(item)
  return all
}

function commitName(version: number): string {
  return `_delta_log/${String(version).padStart(20, '0')}.json`
}

/** `store()` returns the store under test; its table root must start empty. `url(path)` is the object's full URL in messages. */
export function objectStoreContract(store: () => ObjectStore, url: (path: string) => string): void {
  test('put, then list a prefix in lexicographic order, from strictly after startAfter', async () => {
    const startedAt = Date.now()
    // Written out of order, with a checkpoint, a sidecar folder and a data file beside the commits.
    for (const version of [10, 2, 0, 11, 1]) await store().put(commitName(version), text(`commit ${version}`))
    await store().put('_delta_log/00000000000000000010.checkpoint.parquet', text('checkpoint'))
    await store().put('_delta_log/_sidecars/a.parquet', text('sidecar'))
    await store().put('part-00000.parquet', text('data'))

    const log = await collect(store().list('_delta_log/'))
    assert.deepEqual(
      log.map((info) => info.path),
      [commitName(0), commitName(1), commitName(2), '_delta_log/00000000000000000010.checkpoint.parquet', commitName(10), commitName(11), '_delta_log/_sidecars/a.parquet'],
    )
    const first = log[0]
    assert.ok(first !== undefined)
    assert.equal(first.size, 'commit 0'.length)
    // Server clocks have second precision: the modification time is within the seconds around the write.
    assert.ok(first.lastModified >= startedAt - 2000 && first.lastModified <= Date.now() + 2000, `lastModified ${first.lastModified}`)

    const fromTwo = await collect(store().list('_delta_log/0', { startAfter: commitName(2) }))
    assert.deepEqual(
      fromTwo.map((info) => info.path),
      ['_delta_log/00000000000000000010.checkpoint.parquet', commitName(10), commitName(11)],
    )
    const all = await collect(store().list(''))
    assert.equal(all.length, 8)
    assert.equal(all.at(-1)?.path, 'part-00000.parquet')
    assert.deepEqual(await collect(store().list('_delta_log/', { startAfter: '_delta_log/zzz' })), [])
    assert.deepEqual(await collect(store().list('no-such-folder/')), [])
  })

  test('head, read and readRange return the object and its bytes', async () => {
    const body = text('0123456789abcdef')
    await store().put('data/file.bin', body)
    const info = await store().head('data/file.bin')
    assert.equal(info.path, 'data/file.bin')
    assert.equal(info.size, 16)
    assert.equal(decode(await store().read('data/file.bin')), '0123456789abcdef')
    assert.equal(decode(await store().readRange('data/file.bin', 3, 7)), '3456')
    assert.equal(decode(await store().readRange('data/file.bin', 12, 16)), 'cdef')
    assert.equal((await store().readRange('data/file.bin', 5, 5)).length, 0)
    // A range past the end is cut short, like a read of a local file.
    assert.equal(decode(await store().readRange('data/file.bin', 14, 40)), 'ef')
    await store().put('data/file.bin', text('replaced'))
    assert.equal(decode(await store().read('data/file.bin')), 'replaced')
  })

  test('putIfAbsent creates a missing object once, then refuses', async () => {
    const path = commitName(100)
    assert.equal(await store().putIfAbsent(path, text('first writer')), true)
    assert.equal(await store().putIfAbsent(path, text('second writer')), false)
    assert.equal(decode(await store().read(path)), 'first writer')
  })

  test('of writers racing for the same commit, exactly one wins', async () => {
    for (let version = 200; version < 205; version++) {
      const path = commitName(version)
      const writers = ['writer-a', 'writer-b', 'writer-c']
      const results = await Promise.all(writers.map((writer) => store().putIfAbsent(path, text(`${writer} commits ${version}`))))
      assert.equal(results.filter(Boolean).length, 1, `winners for version ${version}: ${results.join(',')}`)
      const winner = writers[results.indexOf(true)]
      assert.equal(decode(await store().read(path)), `${winner} commits ${version}`)
    }
  })

  test('a missing object is a DELTA_STORAGE error naming it and the likely cause', async () => {
    for (const attempt of [() => store().head('part-missing.parquet'), () => store().read('part-missing.parquet'), () => store().readRange('part-missing.parquet', 0, 4)]) {
      await assert.rejects(attempt(), (error: unknown) => {
        assert.ok(error instanceof SluiceError, String(error))
        assert.equal(error.code, 'DELTA_STORAGE')
        assert.match(error.message, /does not exist/)
        assert.ok(error.message.includes(url('part-missing.parquet')), error.message)
        assert.match(error.fix, /vacuum/i)
        return true
      })
    }
  })
}
