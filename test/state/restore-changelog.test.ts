import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { restoreChangelog, StateStoreManager, type FetchedBatch, type RestoreProgress, type RestoreRecord } from '../../src/state/index.ts'
import { temporaryDir } from './helpers.ts'

const { dir, cleanup } = temporaryDir('restore')
const manager = new StateStoreManager({ stateDir: dir, applicationId: 'app' })
after(() => {
  manager.close()
  cleanup()
})

let stores = 0
const record = (offset: number, key: string, value: unknown): RestoreRecord => ({ offset: BigInt(offset), key: Buffer.from(key), value: Buffer.from(JSON.stringify(value)) })

/** Yields the batches, then waits forever: like a consumer at the end of a partition. */
async function* thenIdle<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) {
    await new Promise((resolve) => setImmediate(resolve))
    yield item
  }
  await new Promise(() => undefined)
}

describe('restoreChangelog', () => {
  test('a fetched batch whose next offset reached the end stops the restore (transaction markers after the last record)', async () => {
    const store = manager.openPartition(`s${stores++}`, 'orders', 0)
    // Offsets 2 and 5 are transaction markers: the reader skips them, the end offset is 6.
    const batches: FetchedBatch[] = [
      { records: [record(0, 'a', 1), record(1, 'b', 2)], nextOffset: 3n },
      { records: [record(3, 'a', 3), record(4, 'c', 4)], nextOffset: 6n },
    ]
    const progress: RestoreProgress[] = []
    const { applied } = await restoreChangelog({ store, records: thenIdle(batches), highWatermark: 6n, onProgress: (step) => progress.push(step) })
    assert.equal(applied, 4)
    assert.equal(store.get('a'), 3)
    assert.equal(store.get('c'), 4)
    assert.equal(store.changelogOffset(), 4n)
    assert.deepEqual(
      progress.map((step) => [step.restored, step.total]),
      [
        [0, 6],
        [5, 6],
      ],
    )
  })

  test('a record at the end offset - 1 stops it too; nothing to read returns at once', async () => {
    const store = manager.openPartition(`s${stores++}`, 'orders', 0)
    const result = await restoreChangelog({ store, records: thenIdle([record(0, 'a', 1), record(1, 'a', 2), record(2, 'z', 0)]), highWatermark: 2n })
    assert.equal(result.applied, 2, 'offset 2 is past the end offset taken when the restore began')
    assert.equal(store.get('a'), 2)
    assert.equal(store.get('z'), undefined)
    const again = await restoreChangelog({ store, records: thenIdle([]), highWatermark: 2n })
    assert.equal(again.applied, 0)
  })

  test('an abort signal stops it between batches, keeping what was applied', async () => {
    const store = manager.openPartition(`s${stores++}`, 'orders', 0)
    const controller = new AbortController()
    const batches = [[record(0, 'a', 1)], [record(1, 'b', 1)], [record(2, 'c', 1)]]
    const { applied } = await restoreChangelog({
      store,
      records: thenIdle(batches),
      highWatermark: 100n,
      batchSize: 1,
      signal: controller.signal,
      onProgress: (step) => {
        if (step.restored === 2) controller.abort()
      },
    })
    assert.equal(applied, 2)
    assert.equal(store.changelogOffset(), 1n, 'the next restore resumes at offset 2')
  })
})
