/** What a step sees of the Kafka message a value came from, besides the value itself. */
export interface RecordMetadata<K> {
  readonly key: K
  /** Milliseconds since the epoch: the message timestamp, or what `setTimestamp` made it. */
  readonly timestamp: number
  readonly headers: Headers
  /** Where the record was read from. */
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
}

/** Kafka headers by name; values are raw bytes (`headers.get('trace')?.toString()`). */
export type Headers = ReadonlyMap<string, Buffer>

export const noHeaders: Headers = new Map()
