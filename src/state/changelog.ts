/**
 * Changelog topics: every store partition's writes go to a compacted topic (one changelog
 * partition per source partition, same number), and a store that lacks them reads them back.
 */
import type { NewTopic } from '../kafka/index.ts'
import { SluiceError } from '../errors.ts'
import type { PartitionStore, RestoreRecord } from './partition-store.ts'

/** The changelog topic of `storeName` over `sourceTopic`: `<applicationId>-changelog-<sourceTopic>-<storeName>`. */
export function changelogTopicName(applicationId: string, storeName: string, sourceTopic: string): string {
  const name = `${applicationId}-changelog-${sourceTopic}-${storeName}`
  if (name.length > 249) {
    throw new SluiceError('STATE_STORE', `The changelog topic name of store "${storeName}" would be ${name.length} characters, Kafka allows 249`, {
      fix: 'Shorten the application id, the store name or the source topic name.',
    })
  }
  return name
}

/** The settings of a changelog topic: compacted, as many partitions as the source topic. */
export function changelogTopic(applicationId: string, storeName: string, sourceTopic: string, partitions: number, replicationFactor = 1): NewTopic {
  return {
    name: changelogTopicName(applicationId, storeName, sourceTopic),
    partitions,
    replicationFactor,
    configs: { 'cleanup.policy': 'compact' },
  }
}

/** Records of one fetch and the offset the reader continues from (after any control records). */
export interface FetchedBatch {
  records: readonly RestoreRecord[]
  nextOffset: bigint
}

export interface RestoreProgress {
  store: string
  /** The source topic and partition the store belongs to. */
  topic: string
  partition: number
  /** Changelog offsets read so far in this restore. */
  restored: number
  /** Changelog offsets to read in this restore (end offset minus start offset). */
  total: number
}

export interface RestoreChangelogOptions {
  store: PartitionStore
  /**
   * The changelog partition's records (read_committed, in offset order) from `restoreStartOffset(store)`:
   * single records, arrays of them, or fetched batches with the reader's next offset. Restore
   * stops when the iterable ends, at the first record at or past `highWatermark - 1`, or at a
   * batch whose `nextOffset` reached `highWatermark` (how a reader says it passed the
   * transaction markers that end a transactional changelog).
   */
  records: AsyncIterable<RestoreRecord | readonly RestoreRecord[] | FetchedBatch>
  /** The changelog partition's end offset (last stable offset) when the restore starts. */
  highWatermark: bigint
  onProgress?: (progress: RestoreProgress) => void
  /** Records written to LMDB per transaction. Default 10,000. */
  batchSize?: number
  /** Stops the restore between batches (on revocation or shutdown); what was applied stays. */
  signal?: AbortSignal
}

/** Where the restore of `store` starts: after the last changelog offset its LMDB contents include. */
export function restoreStartOffset(store: PartitionStore): bigint {
  const offset = store.changelogOffset()
  return offset === undefined ? 0n : offset + 1n
}

/**
 * Brings `store` up to its changelog: applies the records after its stored offset, in LMDB
 * transactions of `batchSize` records each (every one consistent: data and offset together), and
 * reports progress after each. Returns how many records were applied.
 */
export async function restoreChangelog(options: RestoreChangelogOptions): Promise<{ applied: number }> {
  const { store, highWatermark } = options
  const start = restoreStartOffset(store)
  const total = highWatermark > start ? Number(highWatermark - start) : 0
  const batchSize = options.batchSize ?? 10_000
  const report = (lastOffset: bigint | undefined) =>
    options.onProgress?.({
      store: store.storeName,
      topic: store.topic,
      partition: store.partition,
      restored: lastOffset === undefined ? 0 : Math.min(total, Number(lastOffset - start + 1n)),
      total,
    })
  report(undefined)
  if (total === 0) return { applied: 0 }
  let applied = 0
  let batch: RestoreRecord[] = []
  let lastOffset: bigint | undefined
  let done = false
  const flush = () => {
    if (batch.length === 0) return
    applied += store.restoreFrom(batch)
    lastOffset = (batch[batch.length - 1] as RestoreRecord).offset
    batch = []
    report(lastOffset)
  }
  try {
    for await (const item of options.records) {
      const records = isArray(item) ? item : 'nextOffset' in item ? item.records : [item]
      for (const record of records) {
        if (record.offset >= highWatermark) {
          done = true
          break
        }
        batch.push(record)
        if (record.offset >= highWatermark - 1n) {
          done = true
          break
        }
      }
      if ('nextOffset' in item && item.nextOffset >= highWatermark) done = true
      if (batch.length >= batchSize || done) flush()
      if (done || options.signal?.aborted === true) break
    }
    flush()
  } catch (error) {
    if (error instanceof SluiceError) throw error
    throw new SluiceError('STATE_RESTORE', `Restoring state store "${store.storeName}" (${store.topic}-${store.partition}) from its changelog failed`, {
      fix: 'Check that the changelog topic exists and the broker is reachable; the restore resumes where it stopped on the next assignment.',
      cause: error,
    })
  }
  return { applied }
}

function isArray(item: RestoreRecord | readonly RestoreRecord[] | FetchedBatch): item is readonly RestoreRecord[] {
  return Array.isArray(item)
}
