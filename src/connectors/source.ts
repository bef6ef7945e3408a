/**
 * The Source API: how a connector brings outside data into Kafka with exactly-once delivery.
 *
 * A source reads from an offset of its own choosing (a table version and row, a timestamp, …) and
 * yields batches of ready-to-produce records, each batch with the offset after it. The
 * SourceRunner writes the records and that offset in one Kafka transaction (the design of
 * KIP-618), so a restart resumes exactly after the last committed record: nothing lost, nothing
 * twice. Offsets must be plain JSON values.
 */
import type { OutgoingMessage } from '../kafka/index.ts'

export type SourceOffset = string | number | boolean | null | { readonly [key: string]: SourceOffset } | readonly SourceOffset[]

export interface SourceBatch<O extends SourceOffset> {
  /** Records to produce, in order; records of one key must keep their order. */
  readonly records: readonly OutgoingMessage[]
  /** Where to resume after these records. */
  readonly offset: O
}

export interface Source<O extends SourceOffset = SourceOffset> {
  /** Names the source's offsets; it must stay the same across restarts. */
  readonly name: string
  /** Topics the source writes to, created by the runner when missing. */
  readonly topics: readonly { name: string; partitions?: number; configs?: Record<string, string> }[]
  /**
   * Reads from `offset` (undefined: from the start) until `signal` aborts; between batches it may
   * wait for new data (polling). A batch with no records just moves the offset.
   */
  read(offset: O | undefined, signal: AbortSignal): AsyncIterable<SourceBatch<O>>
}
