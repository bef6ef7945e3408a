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

/** How many new keys wait in the small sorted list before they join the big one (keeps inserts cheap). */
const RECENT_LIMIT = 512

export class StagedWrites {
  readonly #writes = new Map<string, StagedWrite>()
  /** Keys in byte order: most in #sorted, the newest in the small #recent, merged into #sorted when it fills. */
  #sorted: string[] = []
  #recent: string[] = []
  /** Changes whenever the sorted lists do, so that iterators find their place again. */
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
    let version = this.#version
    let sorted = this.#sorted
    let recent = this.#recent
    let a = lowerBound(sorted, startId)
    let b = lowerBound(recent, startId)
    for (;;) {
      const fromSorted = sorted[a]
      const fromRecent = recent[b]
      let id: string
      if (fromSorted !== undefined && (fromRecent === undefined || fromSorted < fromRecent)) {
        id = fromSorted
        a++
      } else if (fromRecent !== undefined) {
        id = fromRecent
        b++
      } else {
        return
      }
      if (id >= endId) return
      yield this.#writes.get(id) as StagedWrite
      if (version !== this.#version) {
        version = this.#version
        sorted = this.#sorted
        recent = this.#recent
        a = upperBound(sorted, id)
        b = upperBound(recent, id)
      }
    }
  }

  clear(): void {
    this.#writes.clear()
    this.#sorted = []
    this.#recent = []
    this.#version++
  }

  #stage(id: string, key: Buffer, value: unknown, deleted: boolean): void {
    const write = this.#writes.get(id)
    if (write === undefined) {
      this.#writes.set(id, { id, key, value, deleted, encoded: undefined })
      this.#addKey(id)
    } else {
      write.value = value
      write.deleted = deleted
      write.encoded = undefined
    }
  }

  #addKey(id: string): void {
    this.#version++
    this.#recent.splice(lowerBound(this.#recent, id), 0, id)
    if (this.#recent.length < RECENT_LIMIT) return
    const old = this.#sorted
    const fresh = this.#recent
    const merged: string[] = new Array<string>(old.length + fresh.length)
    let a = 0
    let b = 0
    let out = 0
    while (a < old.length && b < fresh.length) merged[out++] = (old[a] as string) < (fresh[b] as string) ? (old[a++] as string) : (fresh[b++] as string)
    while (a < old.length) merged[out++] = old[a++] as string
    while (b < fresh.length) merged[out++] = fresh[b++] as string
    this.#sorted = merged
    this.#recent = []
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

/** The first index whose id is > `id`. */
function upperBound(sorted: readonly string[], id: string): number {
  let low = 0
  let high = sorted.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if ((sorted[middle] as string) <= id) low = middle + 1
    else high = middle
  }
  return low
}
