import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { StateStoreManager, type PartitionStore, type RestoreRecord } from '../../src/state/index.ts'
import { readChangelogFile, temporaryDir } from './helpers.ts'

const writer = fileURLToPath(new URL('./fixtures/checkpoint-writer.ts', import.meta.url))
const { dir: root, cleanup } = temporaryDir('crash')
after(cleanup)

let runs = 0
function newRun(): { stateDir: string; changelog: string } {
  const run = join(root, `run${runs++}`)
  return { stateDir: join(run, 'state'), changelog: join(run, 'changelog.jsonl') }
}

/** Runs the checkpoint writer; resolves with the signal that ended it (null when it exited). */
function runWriter(args: string[], killAfterMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, ...args], { stdio: ['ignore', 'ignore', 'inherit'] })
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal })
    })
  })
}

function openStore(stateDir: string): { store: PartitionStore; manager: StateStoreManager } {
  const manager = new StateStoreManager({ stateDir, applicationId: 'crash-app' })
  return { store: manager.openPartition('counts', 'events', 0), manager }
}

/** What a store holds after applying `records`: key -> JSON text of the value. */
function applied(records: RestoreRecord[]): Map<string, string> {
  const state = new Map<string, string>()
  for (const record of records) {
    if (record.key === null) continue
    if (record.value === null) state.delete(record.key.toString())
    else state.set(record.key.toString(), record.value.toString())
  }
  return state
}

function contents(store: PartitionStore, keys: string[]): Map<string, string> {
  const state = new Map<string, string>()
  for (const key of keys) {
    const value = store.get(key)
    if (value !== undefined) state.set(key, JSON.stringify(value))
  }
  return state
}

const KEYS = 50
const allKeys = ['checkpoint', 'gone', ...Array.from({ length: KEYS }, (_, index) => `k${index}`)]

describe('state after a crash', () => {
  test('killed between the Kafka commit and the LMDB commit: LMDB is behind, restore from its offset catches up', async () => {
    const { stateDir, changelog } = newRun()
    const ended = await runWriter([stateDir, changelog, '10', String(KEYS), '6'])
    assert.equal(ended.signal, 'SIGKILL')

    const records = readChangelogFile(changelog)
    const { store, manager } = openStore(stateDir)
    assert.equal(store.rebuiltBecause, undefined, 'a crash between commits leaves a consistent store')
    assert.equal(store.get('checkpoint'), 5, 'checkpoint 6 reached the changelog, not LMDB')
    const offset = store.changelogOffset()
    assert.ok(offset !== undefined && offset < records[records.length - 1]!.offset)
    assert.deepEqual(contents(store, allKeys), applied(records.filter((record) => record.offset <= offset)), 'LMDB holds exactly the changelog up to its offset')

    store.restoreFrom(records.filter((record) => record.offset > offset))
    assert.deepEqual(contents(store, allKeys), applied(records))
    assert.equal(store.get('checkpoint'), 6)
    manager.close()

    // The application carries on from checkpoint 7 and finishes.
    const finished = await runWriter([stateDir, changelog, '10', String(KEYS)])
    assert.equal(finished.code, 0)
    const { store: reopened, manager: again } = openStore(stateDir)
    assert.deepEqual(contents(reopened, allKeys), applied(readChangelogFile(changelog)))
    assert.equal(reopened.get('checkpoint'), 9)
    again.close()
  })

  test('killed at random moments, the store always opens consistent and a restore brings it to the changelog', async () => {
    const { stateDir, changelog } = newRun()
    let changelogLength = 0
    for (const killAfterMs of [300, 450, 600]) {
      const ended = await runWriter([stateDir, changelog, '1000000', String(KEYS)], killAfterMs)
      assert.equal(ended.signal, 'SIGKILL')
      const records = readChangelogFile(changelog)
      assert.ok(records.length >= changelogLength)
      changelogLength = records.length
      const { store, manager } = openStore(stateDir)
      const offset = store.changelogOffset()
      if (store.rebuiltBecause !== undefined) {
        // Killed while the store was being created: it starts empty, the changelog rebuilds it.
        assert.equal(offset, undefined)
      } else if (offset !== undefined) {
        assert.deepEqual(contents(store, allKeys), applied(records.filter((record) => record.offset <= offset)))
      }
      store.restoreFrom(records.filter((record) => offset === undefined || record.offset > offset))
      assert.deepEqual(contents(store, allKeys), applied(records), `after the kill at ${killAfterMs} ms`)
      manager.close()
    }
    assert.ok(changelogLength > 0, 'the writer ran checkpoints before being killed')
  })
})

describe('damaged state is rebuilt, never trusted', () => {
  /** A committed store with some data; returns its folder. */
  function committedStore(stateDir: string): string {
    const { store, manager } = openStore(stateDir)
    for (let index = 0; index < 2000; index++) store.set(`key-${index}`, { index, padding: 'x'.repeat(100) })
    store.commit(1999n)
    const directory = store.directory
    manager.close()
    return directory
  }

  function reopenAfter(damage: (directory: string) => void): PartitionStore {
    const { stateDir } = newRun()
    const directory = committedStore(stateDir)
    damage(directory)
    const { store, manager } = openStore(stateDir)
    after(() => manager.close())
    return store
  }

  const damages: Array<[string, (directory: string) => void, RegExp]> = [
    ['the data file is deleted', (directory) => rmSync(join(directory, 'data.mdb')), /data file is missing/],
    ['the marker is missing (creation or wipe interrupted)', (directory) => rmSync(join(directory, 'sluice-store.json')), /marker file is missing/],
    [
      'the data file is truncated',
      (directory) => truncateSync(join(directory, 'data.mdb'), Math.floor(statSync(join(directory, 'data.mdb')).size / 2)),
      /truncated/,
    ],
    [
      'the data file is overwritten with garbage',
      (directory) => {
        const fd = openSync(join(directory, 'data.mdb'), 'r+')
        writeSync(fd, Buffer.alloc(16384, 0xab), 0, 16384, 0)
        closeSync(fd)
      },
      /unreadable/,
    ],
    ['the marker is garbage', (directory) => writeFileSync(join(directory, 'sluice-store.json'), '{"form'), /marker file is unreadable/],
  ]

  for (const [what, damage, reason] of damages) {
    test(`${what}: the store starts empty, to be restored from offset 0`, () => {
      const store = reopenAfter(damage)
      assert.match(store.rebuiltBecause ?? '', reason)
      assert.equal(store.changelogOffset(), undefined)
      assert.equal(store.get('key-1'), undefined)
      assert.equal(store.committedEntryCount(), 0)
      assert.deepEqual(readdirSync(store.directory).sort(), ['data.mdb', 'data.mdb-lock', 'sluice-store.json'])
      store.restoreFrom([{ offset: 0n, key: Buffer.from('key-1'), value: Buffer.from('"back"') }])
      assert.equal(store.get('key-1'), 'back')
    })
  }

  test('a store left open by a crashed process is read through once and kept when whole', () => {
    const { stateDir } = newRun()
    const directory = committedStore(stateDir)
    const markerPath = join(directory, 'sluice-store.json')
    const marker = JSON.parse(readFileSync(markerPath, 'utf8')) as { open: boolean }
    writeFileSync(markerPath, JSON.stringify({ ...marker, open: true }))
    const { store, manager } = openStore(stateDir)
    assert.equal(store.rebuiltBecause, undefined)
    assert.deepEqual(store.get('key-7'), { index: 7, padding: 'x'.repeat(100) })
    assert.equal(store.changelogOffset(), 1999n)
    manager.close()
  })
})
