import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { StateStoreManager, structuredCloneCodec, type PartitionStore } from '../../src/state/index.ts'
import { temporaryDir } from './helpers.ts'

const { dir: stateDir, cleanup } = temporaryDir('state')
after(cleanup)

let storeCount = 0
/** A store of its own for each test; `reopen` closes the manager and opens the same store again from disk. */
function freshStore(): { store: PartitionStore; reopen: () => PartitionStore; manager: StateStoreManager } {
  const storeName = `store${storeCount++}`
  let manager = new StateStoreManager({ stateDir, applicationId: 'app' })
  const handle = {
    store: manager.openPartition(storeName, 'orders', 3),
    manager,
    reopen: () => {
      manager.close()
      manager = new StateStoreManager({ stateDir, applicationId: 'app' })
      handle.manager = manager
      return manager.openPartition(storeName, 'orders', 3)
    },
  }
  return handle
}

const text = (buffer: Buffer | null) => (buffer === null ? null : buffer.toString('utf8'))

describe('PartitionStore', () => {
  test('reads see the checkpoint’s own writes; only commit() makes them durable', () => {
    const { store, reopen } = freshStore()
    store.set('a', { total: 1 })
    store.set('b', 2)
    store.delete('b')
    assert.deepEqual(store.get('a'), { total: 1 })
    assert.equal(store.get('b'), undefined)
    assert.equal(store.has('a'), true)
    assert.equal(store.has('b'), false)

    const reopened = reopen()
    assert.equal(reopened.get('a'), undefined, 'uncommitted writes do not survive a restart')
    reopened.set('a', { total: 5 })
    reopened.commit(41n)
    const again = reopen()
    assert.deepEqual(again.get('a'), { total: 5 })
    assert.equal(again.changelogOffset(), 41n)
  })

  test('the files are laid out per application, store and topic partition', () => {
    const { store } = freshStore()
    assert.match(store.directory, /app[/\\]store\d+[/\\]orders-3$/)
    assert.equal(store.rebuiltBecause, undefined)
  })

  test('changelogRecords() holds the last write per key and tombstones for deletes', () => {
    const { store } = freshStore()
    store.set('x', 1)
    store.set('x', 2)
    store.set('y', 'keep')
    store.set('z', 'soon gone')
    store.delete('z')
    const records = store.changelogRecords().map((record) => [text(record.key), text(record.value)])
    assert.deepEqual(records.sort(), [
      ['x', '2'],
      ['y', '"keep"'],
      ['z', null],
    ])
  })

  test('writes after changelogRecords() belong to the next checkpoint', () => {
    const { store, reopen } = freshStore()
    store.set('first', 1)
    assert.equal(store.changelogRecords().length, 1)
    store.set('second', 2) // processing goes on while the Kafka transaction commits
    assert.equal(store.get('first'), 1)
    store.commit(0n)
    assert.equal(store.get('second'), 2, 'still staged')
    assert.deepEqual(
      store.changelogRecords().map((record) => text(record.key)),
      ['second'],
    )
    const reopened = reopen()
    assert.equal(reopened.get('first'), 1)
    assert.equal(reopened.get('second'), undefined)
  })

  test('abort() drops staged and sealed writes; committed values come back', () => {
    const { store } = freshStore()
    store.set('n', 1)
    store.commit(0n)
    const generation = store.generation
    store.set('n', 2)
    store.changelogRecords()
    store.set('n', 3)
    store.delete('other')
    store.abort()
    assert.equal(store.get('n'), 1)
    assert.equal(store.pendingWrites, 0)
    assert.notEqual(store.generation, generation, 'caches derived from the store learn about the abort')
    store.commit(1n)
    assert.equal(store.get('n'), 1)
  })

  test('a commit is all or nothing: a value that cannot be encoded leaves LMDB as it was', () => {
    const { store, reopen } = freshStore()
    store.set('a', 1)
    store.commit(10n)
    store.set('a', 2)
    store.set('b', 3)
    store.set('c', 10n) // JSON cannot encode a bigint
    assert.throws(() => store.commit(11n), { code: 'STATE_STORE', message: /cannot encode the value of key "c"/ })
    const reopened = reopen()
    assert.equal(reopened.get('a'), 1)
    assert.equal(reopened.get('b'), undefined)
    assert.equal(reopened.changelogOffset(), 10n)
  })

  test('range() merges committed, sealed and staged writes in key order', () => {
    const { store } = freshStore()
    for (const key of ['k1', 'k3', 'k5', 'k7']) store.set(key, `committed ${key}`)
    store.commit(0n)
    store.set('k2', 'sealed k2')
    store.set('k5', 'sealed k5')
    store.changelogRecords()
    store.set('k4', 'staged k4')
    store.delete('k3')
    store.set('k9', 'outside the range')
    const seen = [...store.range(Buffer.from('k2'), Buffer.from('k8'))].map(([key, value]) => [key.toString(), value])
    assert.deepEqual(seen, [
      ['k2', 'sealed k2'],
      ['k4', 'staged k4'],
      ['k5', 'sealed k5'],
      ['k7', 'committed k7'],
    ])
  })

  test('range() goes on in order while the loop writes to the store', () => {
    const { store } = freshStore()
    const key = (index: number) => Buffer.from(`r${String(index).padStart(5, '0')}`)
    for (let index = 0; index < 3000; index += 2) store.set(key(index), index)
    store.commit(0n)
    for (let index = 1; index < 3000; index += 4) store.set(key(index), index)
    const seen: number[] = []
    for (const [, value] of store.range(key(0), key(3000))) {
      seen.push(value as number)
      store.delete(key(value as number)) // deletes pending and committed keys mid-iteration
      store.set(Buffer.from(`s${value as number}`), 1) // adds keys after the range (forces re-sorting of pending keys)
    }
    const expected = Array.from({ length: 3000 }, (_, index) => index).filter((index) => index % 2 === 0 || index % 4 === 1)
    assert.deepEqual(seen, expected)
    assert.deepEqual([...store.range(key(0), key(3000))], [])
  })

  test('restoreFrom() applies records after the stored offset, tombstones included, with the offset', () => {
    const { store, reopen } = freshStore()
    const applied = store.restoreFrom([
      { offset: 0n, key: Buffer.from('a'), value: Buffer.from('1') },
      { offset: 1n, key: Buffer.from('b'), value: Buffer.from('2') },
      { offset: 2n, key: Buffer.from('a'), value: null },
    ])
    assert.equal(applied, 3)
    assert.equal(store.get('a'), undefined)
    assert.equal(store.get('b'), 2)
    const again = store.restoreFrom([
      { offset: 1n, key: Buffer.from('b'), value: Buffer.from('99') },
      { offset: 3n, key: Buffer.from('c'), value: Buffer.from('3') },
    ])
    assert.equal(again, 1, 'offset 1 was applied already')
    assert.equal(store.get('b'), 2)
    assert.equal(reopen().changelogOffset(), 3n)
  })

  test('restoreFrom() refuses to run over uncommitted writes', () => {
    const { store } = freshStore()
    store.set('a', 1)
    assert.throws(() => store.restoreFrom([]), { code: 'STATE_RESTORE' })
  })

  test('keyed state is scoped by message key', () => {
    const { store } = freshStore()
    const state = store.keyedState()
    state.at('alice').set('total', 10)
    state.at('bob').set('total', 3)
    state.at('alice').set('count', 1)
    state.at(null).set('total', 99)
    assert.equal(state.at('alice').get('total'), 10)
    assert.equal(state.at('bob').get('total'), 3)
    assert.equal(state.at('bob').get('count', 0), 0)
    assert.equal(state.at(null).get('total'), 99)
    assert.equal(state.at('').get('total'), undefined, 'an empty key is not the null key')
    state.at(42).set('total', 1)
    assert.equal(state.at('42').get('total'), undefined, 'the number 42 and the string "42" are different keys')
    assert.equal(state.at(42).get('total'), 1)
    state.at('alice').delete('total')
    assert.equal(state.at('alice').has('total'), false)
    assert.equal(state.at('alice').has('count'), true)
  })

  test('set(undefined), oversize keys and use after close are errors that say what to do', () => {
    const { store, manager } = freshStore()
    assert.throws(() => store.set('a', undefined), { code: 'STATE_STORE', message: /delete\(key\)/ })
    assert.throws(() => store.set(Buffer.alloc(5000), 1), { code: 'STATE_STORE', message: /5000 bytes/ })
    manager.close()
    assert.throws(() => store.get('a'), { code: 'STATE_STORE', message: /closed/ })
  })

  test('the structured-clone codec keeps bigint, Map and Date', () => {
    const manager = new StateStoreManager({ stateDir, applicationId: 'app', codec: structuredCloneCodec })
    const store = manager.openPartition('clone', 'orders', 0)
    const value = { big: 2n ** 70n, seen: new Map([['x', new Date(5)]]) }
    store.set('v', value)
    store.commit()
    manager.close()
    const reopened = new StateStoreManager({ stateDir, applicationId: 'app', codec: structuredCloneCodec }).openPartition('clone', 'orders', 0)
    assert.deepEqual(reopened.get('v'), value)
  })
})
