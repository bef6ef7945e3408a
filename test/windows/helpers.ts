/** Shared by the window tests: engines on real state stores in a temporary folder. */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { StateStoreManager, type PartitionStore } from '../../src/state/index.ts'
import { WindowedAggregation, type WindowedAggregationOptions, type WindowResult } from '../../src/windows/index.ts'

const root = mkdtempSync(join(tmpdir(), 'sluice-windows-'))
let stores = 0

export function removeStores(): void {
  rmSync(root, { recursive: true, force: true })
}

/** A new, empty store (its own state folder). */
export function newStore(): { store: PartitionStore; manager: StateStoreManager } {
  const manager = new StateStoreManager({ stateDir: join(root, `s${stores++}`), applicationId: 'windows-test' })
  return { store: manager.openPartition('agg', 'events', 0), manager }
}

export function engine<V, K = string, R = unknown>(options: Omit<WindowedAggregationOptions<V, K, R>, 'store'> & { store?: PartitionStore }): WindowedAggregation<V, K, R> {
  return new WindowedAggregation<V, K, R>({ ...options, store: options.store ?? newStore().store })
}

/** Feeds [key, value, timestamp] records and returns everything emitted, in order. */
export function feed<V, K, R>(aggregation: WindowedAggregation<V, K, R>, records: Array<[K, V, number]>): Array<WindowResult<K, R>> {
  const results: Array<WindowResult<K, R>> = []
  for (const [key, value, timestamp] of records) results.push(...aggregation.process(key, value, timestamp))
  return results
}

/** A deterministic pseudo-random generator (mulberry32), so that randomized tests repeat exactly. */
export function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
