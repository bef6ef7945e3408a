/**
 * The engine of one windowed aggregation on one partition: fed one record at a time,
 * synchronously, it updates the windows the record belongs to and returns what to emit.
 *
 * Everything it knows lives in the partition's state store — window accumulators, the close
 * index and the stream time — so it is changelogged with the checkpoint, restored with the store,
 * and memory stays bounded however many keys and windows there are. The engine itself keeps only
 * a cache of the next close time, dropped whenever the store says its contents were replaced
 * (abort, restore).
 */
import { SluiceError } from '../errors.ts'
import { defaultKeyCodec, type KeyCodec, type PartitionStore } from '../state/index.ts'
import type { Aggregator } from './aggregators.ts'
import { windowStarts, type SessionWindows, type SlidingWindows, type TumblingWindows, type HoppingWindows, type WindowDefinition } from './definitions.ts'
import {
  closeIndexFrom,
  closeIndexKey,
  closeIndexRange,
  parseCloseIndexKey,
  startOfWindowKey,
  STREAM_TIME_KEY,
  windowKey,
} from './keys.ts'
import { LateRecordLog, type LateRecordLogger } from './late-records.ts'

/** `final`: once per window, when it closes (stream time >= end + grace). `current`: on every update. */
export type EmitMode = 'final' | 'current'

/**
 * One window's result. `start` is inclusive. `end` is exclusive for tumbling and hopping windows,
 * inclusive for sliding windows (start + timeDifference) and sessions (their last record's time).
 */
export interface WindowResult<K, R> {
  start: number
  end: number
  key: K
  value: R
}

export interface WindowedAggregationOptions<V, K, R> {
  /** The store of this operation on this partition (one store per windowed operation). */
  store: PartitionStore
  windows: WindowDefinition
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the accumulator type is the aggregator's own business.
  aggregator: Aggregator<V, any, R>
  emit: EmitMode
  /** Names the operation in log lines. Default: the store name. */
  name?: string
  /** How keys are kept in the store. Default: strings, Buffers and null as they are, other keys as JSON. */
  keyCodec?: KeyCodec<K>
  /** Receives the late-record lines (a pino logger fits). */
  logger?: LateRecordLogger
  /** Least time between two late-record lines, ms. Default 10,000. */
  lateLogIntervalMs?: number
  /** Wall clock for the late-record log rate. Default Date.now. */
  now?: () => number
}

/** [end, highest record timestamp, accumulator] */
type WindowEntry = [number, number, unknown]

const nothing: readonly never[] = Object.freeze([])
/** Close index actions: close the window (emit it in final mode), or only remove a closed one. */
const CLOSE = 0
const PURGE = 1

export class WindowedAggregation<V, K = unknown, R = unknown> {
  readonly #store: PartitionStore
  readonly #windows: WindowDefinition
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly #aggregator: Aggregator<V, any, R>
  readonly #emitCurrent: boolean
  readonly #keyCodec: KeyCodec<K>
  readonly #late: LateRecordLog
  /** Lowest close time in the index, or undefined when it must be looked up. */
  #nextCloseAt: number | undefined
  /** The stream time of the last close (index entries at or below it are gone); reset with the cache. */
  #closedUpTo = Number.MIN_SAFE_INTEGER
  #cacheGeneration: number

  constructor(options: WindowedAggregationOptions<V, K, R>) {
    this.#store = options.store
    this.#windows = options.windows
    this.#aggregator = options.aggregator
    this.#emitCurrent = options.emit === 'current'
    this.#keyCodec = options.keyCodec ?? (defaultKeyCodec as KeyCodec<K>)
    this.#cacheGeneration = options.store.generation
    const name = options.name ?? options.store.storeName
    this.#late = new LateRecordLog(
      `Window operation "${name}" (${options.store.topic}-${options.store.partition})`,
      options.logger,
      options.lateLogIntervalMs ?? 10_000,
      options.now ?? Date.now,
    )
    if (options.windows.kind === 'session' && options.aggregator.merge === undefined) {
      throw new SluiceError('CONFIG_INVALID', `Window operation "${name}": session windows need an aggregator with merge(), to merge sessions a record bridges`, {
        fix: 'Give the aggregator a merge(a, b) function (reduce(initial, reducer, { merge })), or use another window type.',
      })
    }
    if (options.emit !== 'final' && options.emit !== 'current') {
      throw new SluiceError('CONFIG_INVALID', `Window operation "${name}": emit must be 'final' or 'current', got ${String(options.emit)}`, {
        fix: "Use .final() to emit once per window when it closes, or .current() to emit on every update.",
      })
    }
  }

  /** The highest timestamp seen on this partition (undefined before the first record). */
  get streamTime(): number | undefined {
    return this.#store.get<number>(STREAM_TIME_KEY)
  }

  /** Records dropped (entirely or from some of their windows) because their windows had closed, since this engine was created. */
  get lateRecords(): number {
    return this.#late.total
  }

  /** Adds one record; returns the results to emit now (closed windows first, then updates). */
  process(key: K, value: V, timestamp: number): readonly WindowResult<K, R>[] {
    checkTime(timestamp)
    const streamTime = this.#advanceStreamTime(timestamp)
    let out: WindowResult<K, R>[] | undefined
    const emit = (result: WindowResult<K, R>) => (out ??= []).push(result)
    this.#close(streamTime, emit)
    const keyBytes = this.#keyCodec.encode(key)
    const windows = this.#windows
    let late: boolean
    switch (windows.kind) {
      case 'tumbling':
      case 'hopping':
        late = this.#processTimeWindows(windows, key, keyBytes, value, timestamp, streamTime, emit)
        break
      case 'sliding':
        late = this.#processSliding(windows, key, keyBytes, value, timestamp, streamTime, emit)
        break
      case 'session':
        late = this.#processSession(windows, key, keyBytes, value, timestamp, streamTime, emit)
        break
    }
    if (late) this.#late.record(timestamp, streamTime, windows.grace)
    return out ?? nothing
  }

  /**
   * Moves stream time forward to `time` without a record (for example from the wall clock when
   * a partition is idle) and returns the windows that close (their results in final mode).
   */
  advanceTo(time: number): readonly WindowResult<K, R>[] {
    checkTime(time)
    let out: WindowResult<K, R>[] | undefined
    this.#close(this.#advanceStreamTime(time), (result) => (out ??= []).push(result))
    return out ?? nothing
  }

  #advanceStreamTime(timestamp: number): number {
    const current = this.#store.get<number>(STREAM_TIME_KEY)
    if (current !== undefined && current >= timestamp) return current
    this.#store.set(STREAM_TIME_KEY, timestamp)
    return timestamp
  }

  /** Tumbling and hopping: the record joins each of its windows that is still open. Returns whether it missed one. */
  #processTimeWindows(
    windows: TumblingWindows | HoppingWindows,
    key: K,
    keyBytes: Buffer,
    value: V,
    timestamp: number,
    streamTime: number,
    emit: (result: WindowResult<K, R>) => void,
  ): boolean {
    let missed = false
    for (const start of windowStarts(windows, timestamp)) {
      const end = start + windows.size
      const closeAt = end + windows.grace
      if (closeAt <= streamTime) {
        missed = true
        continue
      }
      const storeKey = windowKey(keyBytes, start)
      let entry = this.#store.get<WindowEntry>(storeKey)
      if (entry === undefined) {
        entry = [end, timestamp, this.#aggregator.add(this.#aggregator.initial(), value)]
        this.#index(closeAt, keyBytes, start)
      } else {
        entry[2] = this.#aggregator.add(entry[2], value)
        if (timestamp > entry[1]) entry[1] = timestamp
      }
      this.#store.set(storeKey, entry)
      if (this.#emitCurrent) emit({ start, end, key, value: this.#aggregator.result(entry[2]) })
    }
    return missed
  }

  /**
   * Sliding windows, as Kafka Streams' KStreamSlidingWindowAggregate does it: the windows near
   * the record are read in start order; those holding it are updated; the record's own left
   * window [t - d, t] and right window [t + 1, t + 1 + d], and the right window of the record
   * before it, are created when missing and not empty. Returns whether the record missed a window.
   */
  #processSliding(
    windows: SlidingWindows,
    key: K,
    keyBytes: Buffer,
    value: V,
    timestamp: number,
    streamTime: number,
    emit: (result: WindowResult<K, R>) => void,
  ): boolean {
    const difference = windows.timeDifference
    const closeTime = streamTime - windows.grace
    if (timestamp + 1 + difference <= closeTime) return true

    const near: Array<[number, WindowEntry]> = []
    for (const [storeKey, entry] of this.#store.range(windowKey(keyBytes, timestamp - 2 * difference), windowKey(keyBytes, timestamp + 2))) {
      near.push([startOfWindowKey(storeKey), entry as WindowEntry])
    }
    const starts = new Set<number>()
    let leftAggregate: WindowEntry | undefined
    let rightAggregate: WindowEntry | undefined
    let leftExists = false
    let rightExists = false
    let previousTimestamp: number | undefined
    const holding: Array<[number, WindowEntry]> = []
    for (const [start, entry] of near) {
      starts.add(start)
      const end = start + difference
      if (end < timestamp) {
        leftAggregate = entry
        previousTimestamp = entry[1]
      } else if (end === timestamp) {
        leftExists = true
        if (entry[1] < timestamp) previousTimestamp = entry[1]
        holding.push([start, entry])
      } else if (start <= timestamp) {
        rightAggregate = entry
        holding.push([start, entry])
      } else if (start === timestamp + 1) {
        rightExists = true
      }
    }
    // The right window of the record is seeded from the aggregate before this record joins it.
    const rightSeed = !rightExists && rightAggregate !== undefined && rightAggregate[1] > timestamp ? this.#copy(rightAggregate) : undefined

    let missed = false
    const update = (start: number, entry: WindowEntry | undefined, seed?: unknown) => {
      const end = start + difference
      if (end < closeTime) {
        missed = true
        return
      }
      const aggregator = this.#aggregator
      if (entry === undefined) {
        entry = [end, timestamp, aggregator.add(seed === undefined ? aggregator.initial() : seed, value)]
        this.#index(end + 1 + windows.grace, keyBytes, start)
      } else {
        entry[2] = aggregator.add(entry[2], value)
        if (timestamp > entry[1]) entry[1] = timestamp
      }
      this.#store.set(windowKey(keyBytes, start), entry)
      if (this.#emitCurrent) emit({ start, end, key, value: aggregator.result(entry[2]) })
    }

    for (const [start, entry] of holding) update(start, entry)
    if (previousTimestamp !== undefined) {
      const previousRightStart = previousTimestamp + 1
      if (!starts.has(previousRightStart) && previousRightStart + difference >= timestamp) update(previousRightStart, undefined)
    }
    if (!leftExists) {
      const leftNotEmpty = previousTimestamp !== undefined && leftAggregate !== undefined && timestamp - difference <= previousTimestamp
      update(timestamp - difference, undefined, leftNotEmpty ? this.#copy(leftAggregate as WindowEntry)[2] : undefined)
    }
    if (rightSeed !== undefined) {
      const start = timestamp + 1
      const end = start + difference
      this.#store.set(windowKey(keyBytes, start), [end, rightSeed[1], rightSeed[2]])
      this.#index(end + 1 + windows.grace, keyBytes, start)
      if (this.#emitCurrent) emit({ start, end, key, value: this.#aggregator.result(rightSeed[2]) })
    }
    return missed
  }

  /**
   * Sessions: the record joins every session of its key within the inactivity gap; when it
   * bridges several, they merge into one. Returns whether it was late (its session had closed).
   */
  #processSession(
    windows: SessionWindows,
    key: K,
    keyBytes: Buffer,
    value: V,
    timestamp: number,
    streamTime: number,
    emit: (result: WindowResult<K, R>) => void,
  ): boolean {
    const gap = windows.inactivityGap
    const overlapping: Array<[number, WindowEntry]> = []
    for (const [storeKey, entry] of this.#store.range(windowKey(keyBytes, Number.MIN_SAFE_INTEGER), windowKey(keyBytes, timestamp + gap + 1))) {
      const session = entry as WindowEntry
      if (session[0] >= timestamp - gap) overlapping.push([startOfWindowKey(storeKey), session])
    }
    let start = timestamp
    let end = timestamp
    let highest = timestamp
    for (const [sessionStart, session] of overlapping) {
      if (sessionStart < start) start = sessionStart
      if (session[0] > end) end = session[0]
      if (session[1] > highest) highest = session[1]
    }
    if (end < streamTime - windows.grace) return true

    const aggregator = this.#aggregator
    let accumulator: unknown = overlapping.length === 0 ? aggregator.initial() : (overlapping[0] as [number, WindowEntry])[1][2]
    // merge() exists: the constructor refuses session windows without it.
    for (let index = 1; index < overlapping.length; index++) accumulator = aggregator.merge?.(accumulator, (overlapping[index] as [number, WindowEntry])[1][2])
    accumulator = aggregator.add(accumulator, value)
    const closeSlack = gap + windows.grace + 1
    for (const [sessionStart, session] of overlapping) {
      this.#store.delete(windowKey(keyBytes, sessionStart))
      this.#store.delete(closeIndexKey(session[0] + closeSlack, keyBytes, sessionStart))
    }
    this.#store.set(windowKey(keyBytes, start), [end, highest, accumulator])
    this.#index(end + closeSlack, keyBytes, start)
    if (this.#emitCurrent) emit({ start, end, key, value: aggregator.result(accumulator) })
    return false
  }

  /** Adds a window to the close index. */
  #index(closeAt: number, keyBytes: Buffer, start: number): void {
    this.#store.set(closeIndexKey(closeAt, keyBytes, start), CLOSE)
    const next = this.#knownNextCloseAt()
    if (next === undefined || closeAt < next) this.#nextCloseAt = closeAt
  }

  /** Closes every window whose close time has come: removes it and, in final mode, emits its result. */
  #close(streamTime: number, emit: (result: WindowResult<K, R>) => void): void {
    let next = this.#knownNextCloseAt()
    if (next === undefined) next = this.#nextCloseAt = this.#lowestCloseAt()
    if (streamTime < next) return
    const windows = this.#windows
    // Every index entry closes after the stream time at which it was added, so entries at or below
    // the last close were all removed then: start after it.
    const from = closeIndexFrom(this.#closedUpTo + 1)
    const to = closeIndexFrom(streamTime + 1)
    // Deleting while iterating is safe: range() reads a snapshot of LMDB and of the pending writes.
    for (const [indexKey, action] of this.#store.range(from, to)) {
      const { key: keyBytes, start } = parseCloseIndexKey(indexKey)
      const storeKey = windowKey(keyBytes, start)
      const entry = action === PURGE ? undefined : this.#store.get<WindowEntry>(storeKey)
      if (entry !== undefined) {
        if (!this.#emitCurrent) emit({ start, end: entry[0], key: this.#keyCodec.decode(keyBytes), value: this.#aggregator.result(entry[2]) })
        if (windows.kind === 'sliding') {
          // A closed sliding window still seeds the windows of records up to timeDifference after it
          // (as Kafka Streams keeps it for its retention): it is removed later.
          const purgeAt = Math.max(entry[0] + 2 * windows.timeDifference + windows.grace + 1, streamTime + 1)
          this.#store.set(closeIndexKey(purgeAt, keyBytes, start), PURGE)
        } else {
          this.#store.delete(storeKey)
        }
      } else {
        this.#store.delete(storeKey)
      }
      this.#store.delete(indexKey)
    }
    this.#closedUpTo = streamTime
    this.#nextCloseAt = this.#lowestCloseAt()
  }

  /** The cached lowest close time, unless the store's contents changed under it. */
  #knownNextCloseAt(): number | undefined {
    if (this.#cacheGeneration !== this.#store.generation) {
      this.#cacheGeneration = this.#store.generation
      this.#nextCloseAt = undefined
      this.#closedUpTo = Number.MIN_SAFE_INTEGER
    }
    return this.#nextCloseAt
  }

  #lowestCloseAt(): number {
    const [, to] = closeIndexRange()
    for (const [indexKey] of this.#store.range(closeIndexFrom(this.#closedUpTo + 1), to)) return parseCloseIndexKey(indexKey).closeAt
    return Number.POSITIVE_INFINITY
  }

  /** A window entry with its own copy of the accumulator (aggregators may update accumulators in place). */
  #copy(entry: WindowEntry): WindowEntry {
    return [entry[0], entry[1], structuredClone(entry[2])]
  }
}

function checkTime(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new SluiceError('PROCESSING_FAILED', `A windowed record has the timestamp ${timestamp}; windows need whole milliseconds since the epoch, 0 or more`, {
      fix: 'Check the timestampExtractor (or the producer’s message timestamps): it must return an integer number of ms.',
    })
  }
}
