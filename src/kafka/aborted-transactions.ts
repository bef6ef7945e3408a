/**
 * read_committed done right: removes the records of aborted transactions from fetch responses.
 *
 * A read_committed fetch returns every record below the last stable offset, aborted ones
 * included, together with the list of aborted transactions (producer id, first offset) that
 * overlap it; the client must drop them. @platformatic/kafka 2.12.1 drops an aborted
 * transaction's records only when its abort marker arrives in the same response, and lets them
 * through otherwise: a consumer then sees aborted output of a crashed exactly-once producer
 * whenever the transaction straddles two fetches (test/kafka/transactions.test.ts shows it).
 *
 * This filter follows the Java client (FetchCollector): walking the batches in offset order, a
 * producer is "aborted" from its aborted transaction's first offset until its abort marker, and
 * its transactional batches in between are emptied. Emptied, not removed: the client advances
 * its fetch position from the last batch of a response, which must stay in place.
 */

/** The record batch attributes of the Kafka protocol (message format v2). */
const IS_TRANSACTIONAL = 1 << 4
const IS_CONTROL = 1 << 5
/** Control record type of an abort marker (the key's int16 at byte 2; 1 is a commit marker). */
const ABORT_MARKER = 0

interface RecordBatch {
  firstOffset: bigint
  lastOffsetDelta: number
  producerId: bigint
  attributes: number
  records: Array<{ key?: Buffer | null }>
}

interface PartitionData {
  abortedTransactions?: Array<{ producerId: bigint; firstOffset: bigint }> | null
  records?: RecordBatch[] | null
}

export interface FetchResponse {
  responses: Array<{ partitions: PartitionData[] }>
}

export function dropAbortedTransactions(response: FetchResponse): void {
  for (const topic of response.responses) {
    for (const partition of topic.partitions) {
      const aborted = partition.abortedTransactions
      if (aborted == null || aborted.length === 0 || partition.records == null) continue
      dropAbortedBatches(
        partition.records,
        [...aborted].sort((a, b) => (a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0)),
      )
    }
  }
}

function dropAbortedBatches(batches: RecordBatch[], abortedByFirstOffset: Array<{ producerId: bigint; firstOffset: bigint }>): void {
  const abortedProducers = new Set<bigint>()
  let next = 0
  for (const batch of batches) {
    const lastOffset = batch.firstOffset + BigInt(batch.lastOffsetDelta)
    while (next < abortedByFirstOffset.length && (abortedByFirstOffset[next]?.firstOffset ?? 0n) <= lastOffset) {
      abortedProducers.add((abortedByFirstOffset[next] as { producerId: bigint }).producerId)
      next++
    }
    if ((batch.attributes & IS_CONTROL) !== 0) {
      const key = batch.records[0]?.key
      if (key != null && key.length >= 4 && key.readInt16BE(2) === ABORT_MARKER) abortedProducers.delete(batch.producerId)
    } else if ((batch.attributes & IS_TRANSACTIONAL) !== 0 && abortedProducers.has(batch.producerId)) {
      batch.records = []
    }
  }
}
