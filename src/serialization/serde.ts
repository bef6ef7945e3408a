/**
 * Serializers turn keys and values into the bytes of a Kafka message and back. They are plain
 * synchronous objects so that a pipeline runs them inline, once per record, without promises.
 */

export interface SerializationContext {
  readonly topic: string
  /** True for the message key, false for its value. */
  readonly isKey: boolean
}

export interface Serde<T> {
  /** Short name for error messages and docs (`json`, `string`, …). */
  readonly name: string
  serialize(value: T, context: SerializationContext): Buffer
  /** Raises an Error with a clear message when `data` is not in this format. */
  deserialize(data: Buffer, context: SerializationContext): T
}

/** The record type a serde reads and writes: `type Order = SerdeValue<typeof orders>`. */
export type SerdeValue<S> = S extends Serde<infer T> ? T : never
