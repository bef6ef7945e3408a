/**
 * The writes of the current checkpoint, held in memory until the Kafka transaction that carries
 * their changelog records has committed. Keys are kept as binary strings (one char per byte), so
 * that string order is byte order, the order of LMDB keys; range reads merge both in one pass.
 */

export interface StagedWrite {
  /** The key as a binary string (one char per byte). */
  readonly id: string
  readonly key: Buffer
  /** The value set, or undefined for a delete. */
  value: unknown
  deleted: boolean
  /** The encoded value (null for a delete), filled when the checkpoint's changelog is built. */
  encoded: Buffer | null | undefined
}

/** Below this many unsorted new keys a range read inserts them one by one; above, it sorts and merges. */
const INSERT_ONE_BY_ONE = 32

export class StagedWrites {
  readonly #writes = new Map<string, StagedWrite>()
  /** Keys in byte order, except the newest ones, which wait in #unsorted until a range read. */
  #sorted: string[] = []
  #unsorted: string[] = []
  /** Changes whenever #sorted does, so that iterators find their place again. */
  #version = 0

  get size(): number {
    return this.#writes.size
  }

  get(id: string): StagedWrite | undefined {
    return this.#writes.get(id)
  }

  set(id: string, key: Buffer, value: unknown): void {
    this.#stage(id, key, value, false)
  }

  delete(id: string, key: Buffer): void {
    this.#stage(id, key, undefined, true)
  }

  values(): IterableIterator<StagedWrite> {
    return this.#writes.values()
  }

  /**
   * The staged writes with `startId <= id < endId`, in byte order, read lazily. Writes staged
   * while iterating do not disturb it (it finds its place again when the sorted keys change);
   * keys added meanwhile may or may not be seen.
   */
  *range(startId: string, endId: string): Generator<StagedWrite> {
    this.#sortNewKeys()
    let sorted = this.#sorted
    let version = this.#version
    let index = lowerBound(sorted, startId)
    while (index < sorted.length) {
      const id = sorted[index] as string
      if (id >= endId) return
      yield this.#writes.get(id) as StagedWrite
      if (version !== this.#version) {
        sorted = this.#sorted
        version = this.#version
        index = lowerBound(sorted, id)
      }
      index++
    }
  }

  clear(): void {
    this.#writes.clear()
    this.#sorted = []
    this.#unsorted = []
    this.#version++
  }

  #stage(id: string, key: Buffer, value: unknown, deleted: boolean): void {
    const write = this.#writes.get(id)
    if (write === undefined) {
      this.#writes.set(id, { id, key, value, deleted, encoded: undefined })
      this.#unsorted.push(id)
    } else {
      write.value = value
      write.deleted = deleted
      write.encoded = undefined
    }
  }

  #sortNewKeys(): void {
    const fresh = this.#unsorted
    if (fresh.length === 0) return
    this.#unsorted = []
    this.#version++
    if (fresh.length <= INSERT_ONE_BY_ONE) {
      for (const id of fresh) this.#sorted.splice(lowerBound(this.#sorted, id), 0, id)
      return
    }
    fresh.sort()
    const merged: string[] = new Array<string>(this.#sorted.length + fresh.length)
    let a = 0
    let b = 0
    let out = 0
    const old = this.#sorted
    while (a < old.length && b < fresh.length) merged[out++] = (old[a] as string) < (fresh[b] as string) ? (old[a++] as string) : (fresh[b++] as string)
    while (a < old.length) merged[out++] = old[a++] as string
    while (b < fresh.length) merged[out++] = fresh[b++] as string
    this.#sorted = merged
  }
}

/** The first index whose id is >= `id`. */
function lowerBound(sorted: readonly string[], id: string): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((sorted[middle] as string) < id) low = middle + 1
    else high = middle
  }
  return low
}
