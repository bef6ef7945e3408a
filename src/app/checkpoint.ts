/**
 * A checkpoint is the unit of Sluice's processing guarantee: the output records of a stretch of
 * input, and the consumer offsets after that input, land together.
 *
 * - Exactly-once: one producer transaction holds the output and the offsets
 *   (sendOffsetsToTransaction). A crash before its commit aborts all of it; the input is read
 *   again from the last committed offsets and read_committed readers never see the aborted copy.
 * - At-least-once: the output is flushed (acknowledged by the brokers), then the offsets are
 *   committed. A crash between the two replays input whose output may already be written.
 *
 * State stores take part too (StateParticipant): their writes go to their changelog topics in the
 * same transaction (exactly-once) or before the offsets are committed (at-least-once), and are
 * committed to the local stores after Kafka committed, or dropped when the checkpoint is given up.
 *
 * Output is sent in chunks while processing goes on, so a checkpoint never holds a whole commit
 * interval of records in memory, and `commit()` waits only for the last chunk.
 */
import type { ConsumedMessageWithSource, KafkaConsumer, KafkaProducer, KafkaTransaction, OutgoingMessage } from '../kafka/index.ts'

/** Where a produce request's records landed: per partition, the offset of its first record. */
export type ProducedOffsets = Awaited<ReturnType<KafkaProducer['sendWithOffsets']>>

/** State stores in a checkpoint. */
export interface StateParticipant {
  /** Seals the stores' writes and sends their changelog records with `send` (in the checkpoint's transaction). */
  sendChangelog(send: (messages: OutgoingMessage[]) => Promise<ProducedOffsets>): Promise<void>
  /** Kafka committed the checkpoint: commit the sealed writes to the stores. */
  committed(): void
  /** The checkpoint was given up: drop every uncommitted write. */
  aborted(): void
}

/** Output records sent per produce request while a checkpoint is open. */
const CHUNK_SIZE = 2000

export interface Checkpoint {
  /** Queues one output record. */
  send(message: OutgoingMessage): void
  /** Notes that `message` was processed (its offset is committed by this checkpoint). */
  consumed(message: ConsumedMessageWithSource): void
  /** Where the output queue stands, to drop a failed record's partial output with `rollbackTo`. */
  mark(): number
  /** Drops the output queued since `mark` (it was not sent: sends happen only in `flushChunk`). */
  rollbackTo(mark: number): void
  /** Sends the queued output if a chunk is full; call between records. */
  flushChunk(): void
  /** Sends whatever is queued; call after each consumed batch so that output does not wait for the commit. */
  sendQueued(): void
  /** Input processed since the last commit. */
  readonly consumedCount: number
  /** Makes the output and offsets of this checkpoint durable together; rejects if they could not be. */
  commit(): Promise<void>
  /** Gives up this checkpoint's output (exactly-once: aborts the transaction). */
  abort(): Promise<void>
}

/** The queue and chunked sending both guarantees share. */
abstract class OutputQueue {
  protected readonly producer: KafkaProducer
  protected readonly consumer: KafkaConsumer
  /** The state stores whose writes commit with this checkpoint, if the pipelines have any. */
  protected readonly state: StateParticipant | undefined
  #queue: OutgoingMessage[] = []

  constructor(producer: KafkaProducer, consumer: KafkaConsumer, state?: StateParticipant) {
    this.producer = producer
    this.consumer = consumer
    this.state = state
  }

  #lastConsumed = new Map<string, ConsumedMessageWithSource>()
  #consumedCount = 0
  /** The chain of chunk sends of this checkpoint, in order. */
  #sending: Promise<void> = Promise.resolve()
  #sendError: Error | undefined

  send(message: OutgoingMessage): void {
    this.#queue.push(message)
  }

  consumed(message: ConsumedMessageWithSource): void {
    this.#lastConsumed.set(`${message.topic}\u0000${message.partition}`, message)
    this.#consumedCount++
  }

  get consumedCount(): number {
    return this.#consumedCount
  }

  mark(): number {
    return this.#queue.length
  }

  rollbackTo(mark: number): void {
    this.#queue.length = mark
  }

  flushChunk(): void {
    if (this.#queue.length >= CHUNK_SIZE) this.sendQueued()
  }

  /** Sends what is queued and waits for every send of this checkpoint; rethrows a send's failure. */
  protected async drain(): Promise<void> {
    this.sendQueued()
    await this.#sending
    if (this.#sendError !== undefined) throw this.#sendError
  }

  protected get lastConsumed(): ConsumedMessageWithSource[] {
    return [...this.#lastConsumed.values()]
  }

  protected reset(): void {
    this.#queue = []
    this.#lastConsumed = new Map()
    this.#consumedCount = 0
    this.#sending = Promise.resolve()
    this.#sendError = undefined
  }

  protected abstract sendChunk(messages: OutgoingMessage[]): Promise<void>

  sendQueued(): void {
    if (this.#queue.length === 0) return
    const chunk = this.#queue
    this.#queue = []
    this.#sending = this.#sending.then(() => (this.#sendError === undefined ? this.sendChunk(chunk) : undefined)).catch((error: unknown) => {
      this.#sendError ??= error instanceof Error ? error : new Error(String(error))
    })
  }
}

export class TransactionalCheckpoint extends OutputQueue implements Checkpoint {
  /** Begun with the first chunk of output, or at commit when the checkpoint only moves offsets. */
  #transaction: Promise<KafkaTransaction> | undefined

  async commit(): Promise<void> {
    if (this.consumedCount === 0 && this.#transaction === undefined && this.mark() === 0) return
    await this.drain()
    const transaction = await this.#begin()
    await this.state?.sendChangelog((messages) => transaction.sendWithOffsets(messages))
    await transaction.sendOffsets(this.consumer, this.lastConsumed)
    await transaction.commit()
    this.#transaction = undefined
    this.reset()
    this.state?.committed()
  }

  async abort(): Promise<void> {
    this.state?.aborted()
    await this.drain().catch(() => undefined)
    const transaction = await this.#transaction?.catch(() => undefined)
    this.#transaction = undefined
    this.reset()
    await transaction?.abort()
  }

  protected async sendChunk(messages: OutgoingMessage[]): Promise<void> {
    const transaction = await this.#begin()
    await transaction.send(messages)
  }

  #begin(): Promise<KafkaTransaction> {
    this.#transaction ??= this.producer.beginTransaction()
    return this.#transaction
  }
}

export class AtLeastOnceCheckpoint extends OutputQueue implements Checkpoint {
  async commit(): Promise<void> {
    await this.drain()
    await this.state?.sendChangelog((messages) => this.producer.sendWithOffsets(messages))
    await this.consumer.commit(this.lastConsumed)
    this.reset()
    this.state?.committed()
  }

  async abort(): Promise<void> {
    this.state?.aborted()
    await this.drain().catch(() => undefined)
    this.reset()
  }

  protected sendChunk(messages: OutgoingMessage[]): Promise<void> {
    return this.producer.send(messages)
  }
}
