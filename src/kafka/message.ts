/** The shape of Kafka messages inside Sluice: Buffers stay Buffers, timestamps are ms numbers. */
import type { Message as ClientMessage } from '@platformatic/kafka'

export interface OutgoingMessage {
  topic: string
  /** Null or absent: no key (the client spreads such messages over partitions). */
  key?: Buffer | null
  /** Null: a tombstone, which deletes the key on a compacted topic. */
  value: Buffer | null
  headers?: Map<string, Buffer>
  /** Milliseconds since the epoch. Default: now. */
  timestamp?: number
  /** Default: chosen from the key, as the Java client does (murmur2). */
  partition?: number
}

export interface ConsumedMessage {
  readonly topic: string
  readonly partition: number
  readonly offset: bigint
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: Map<string, Buffer>
  readonly timestamp: number
}

/** The client's message behind a ConsumedMessage: transactions need its group generation to commit offsets. */
export const clientMessage = Symbol('clientMessage')

export interface ConsumedMessageWithSource extends ConsumedMessage {
  readonly [clientMessage]: ClientMessage<Buffer, Buffer, string, Buffer>
}

/**
 * A view of the client's message, not a copy: one small object per message, fields read on
 * demand (a copy of every field measured at half the raw consume rate in bench/kafka-limit).
 */
class ClientMessageView implements ConsumedMessageWithSource {
  readonly [clientMessage]: ClientMessage<Buffer, Buffer, string, Buffer>

  constructor(message: ClientMessage<Buffer, Buffer, string, Buffer>) {
    this[clientMessage] = message
  }

  get topic(): string {
    return this[clientMessage].topic
  }

  get partition(): number {
    return this[clientMessage].partition
  }

  get offset(): bigint {
    return this[clientMessage].offset
  }

  /** The client hands a missing key as an empty or absent Buffer; Sluice calls both null. */
  get key(): Buffer | null {
    const key = this[clientMessage].key as Buffer | null | undefined
    return key == null || key.length === 0 ? null : key
  }

  get value(): Buffer | null {
    return this[clientMessage].value
  }

  get headers(): Map<string, Buffer> {
    return this[clientMessage].headers
  }

  get timestamp(): number {
    return Number(this[clientMessage].timestamp)
  }
}

export function fromClientMessage(message: ClientMessage<Buffer, Buffer, string, Buffer>): ConsumedMessageWithSource {
  return new ClientMessageView(message)
}

export function toClientMessage(message: OutgoingMessage) {
  return {
    topic: message.topic,
    ...(message.key == null ? {} : { key: message.key }),
    value: message.value as Buffer,
    ...(message.headers === undefined ? {} : { headers: message.headers }),
    ...(message.timestamp === undefined ? {} : { timestamp: BigInt(message.timestamp) }),
    ...(message.partition === undefined ? {} : { partition: message.partition }),
  }
}
