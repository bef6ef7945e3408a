/**
 * Reads one topic partition from an offset up to its end, outside any consumer group: what a
 * restart needs to load its own bookkeeping (source offsets, state changelogs) before it goes on.
 *
 * "The end" is the partition's last stable offset when the read starts (read_committed). A
 * read_committed fetch never hands over transaction markers, so the reader follows the fetch
 * position (after the last batch, markers included), not the last record's offset: it knows for
 * sure when it has everything, and never waits for a record that will not come.
 */
import { Consumer as ClientConsumer, FetchIsolationLevels } from '@platformatic/kafka'
import { SluiceError } from '../errors.ts'
import { dropAbortedTransactions } from './aborted-transactions.ts'
import { clientConnection, secretsOf, type KafkaConnectionOptions } from './connection.ts'
import { wrapKafkaError } from './errors.ts'
import type { ConsumedMessage } from './message.ts'

export interface PartitionReadOptions extends KafkaConnectionOptions {
  topic: string
  partition: number
  /** First offset to read. Default 0 (the log start when earlier records were deleted). */
  fromOffset?: bigint
  /** Most bytes one fetch returns. Default 1 MiB. */
  fetchMaxBytes?: number
}

/** The records of one fetch, and the offset the next fetch starts at. */
export interface PartitionBatch {
  records: ConsumedMessage[]
  nextOffset: bigint
  /** The offset the read stops at (the last stable offset when it started). */
  endOffset: bigint
}

const IS_CONTROL = 1 << 5

interface RawRecord {
  offsetDelta: number
  timestampDelta: bigint
  key?: Buffer | null
  value?: Buffer | null
  headers?: Array<[Buffer, Buffer]>
}

interface RawBatch {
  firstOffset: bigint
  lastOffsetDelta: number
  firstTimestamp: bigint
  attributes: number
  records: RawRecord[]
}

/** Yields the committed records of the partition from `fromOffset` to its current end, fetch by fetch. */
export async function* readPartition(options: PartitionReadOptions): AsyncGenerator<PartitionBatch> {
  const what = `Reading ${options.topic}-${options.partition}`
  const client = new ClientConsumer({ ...clientConnection(options, 'partition reader'), groupId: `sluice-partition-reader`, autocommit: false })
  try {
    const metadata = await client.metadata({ topics: [options.topic] })
    const topic = metadata.topics.get(options.topic)
    const leader = topic?.partitions[options.partition]
    if (topic === undefined || leader === undefined) {
      throw new SluiceError('KAFKA_TOPIC', `${what}: the topic or partition does not exist`, { fix: 'Create the topic first, or check its name and partition count.' })
    }
    let offset = options.fromOffset ?? 0n
    let end: bigint | undefined
    let emptyFetches = 0
    for (;;) {
      const response = await client.fetch({
        node: leader.leader,
        topics: [{ topicId: topic.id, partitions: [{ partition: options.partition, currentLeaderEpoch: leader.leaderEpoch, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: options.fetchMaxBytes ?? 1024 * 1024 }] }],
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        maxWaitTime: 0,
        minBytes: 0,
        maxBytes: options.fetchMaxBytes ?? 1024 * 1024,
      })
      dropAbortedTransactions(response)
      const data = response.responses[0]?.partitions[0]
      if (data === undefined) throw new SluiceError('KAFKA_CONSUME', `${what}: the broker answered without the partition`, { fix: 'Retry; check the broker logs.' })
      if (data.errorCode === 1 /* OFFSET_OUT_OF_RANGE */ && offset < data.logStartOffset) {
        offset = data.logStartOffset // Older records were deleted (retention or compaction); start at the log's start.
        continue
      }
      if (data.errorCode !== 0) throw new SluiceError('KAFKA_CONSUME', `${what}: the broker answered with error code ${data.errorCode}`, { fix: 'Retry; check the broker logs.' })
      end ??= data.lastStableOffset
      const batches = (data.records ?? []) as unknown as RawBatch[]
      if (batches.length === 0 && offset < end) {
        // Below the last stable offset there is always a batch to return; none means the leader moved or the log is being cleaned.
        if (++emptyFetches > 100) throw new SluiceError('KAFKA_CONSUME', `${what}: no data below the end offset ${end} after ${emptyFetches} fetches at ${offset}`, { fix: 'Retry; check the broker logs.', retriable: true })
        await new Promise((resolve) => setTimeout(resolve, 20))
        continue
      }
      emptyFetches = 0
      const records: ConsumedMessage[] = []
      for (const batch of batches) {
        offset = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n
        if ((batch.attributes & IS_CONTROL) !== 0) continue
        for (const record of batch.records) {
          const recordOffset = batch.firstOffset + BigInt(record.offsetDelta)
          if (recordOffset < (options.fromOffset ?? 0n) || recordOffset >= end) continue
          records.push({
            topic: options.topic,
            partition: options.partition,
            offset: recordOffset,
            key: record.key == null || record.key.length === 0 ? null : record.key,
            value: record.value ?? null,
            headers: new Map((record.headers ?? []).map(([name, value]) => [name.toString(), value])),
            timestamp: Number(batch.firstTimestamp + record.timestampDelta),
          })
        }
      }
      if (offset >= end) {
        yield { records, nextOffset: end, endOffset: end }
        return
      }
      yield { records, nextOffset: offset, endOffset: end }
    }
  } catch (error) {
    throw wrapKafkaError(error, what, 'KAFKA_CONSUME', secretsOf(options), options.brokers)
  } finally {
    await client.close(true).catch(() => undefined)
  }
}
