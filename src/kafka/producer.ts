/**
 * The producer: idempotent by default, optionally transactional, with Kafka's batching knobs.
 *
 * Sends of one producer go to the broker one request at a time. @platformatic/kafka 2.12 can
 * write duplicates when several idempotent requests are in flight and a partition leader moves
 * (it re-sends a whole request under a new producer id); one request in flight cannot hit that,
 * and batching keeps the throughput (see bench/kafka-limit).
 */
import { compatibilityPartitioner, Producer as ClientProducer, ProduceAcks, stringSerializer } from '@platformatic/kafka'
import { SluiceError } from '../errors.ts'
import { clientConnection, secretsOf, type KafkaConnectionOptions } from './connection.ts'
import { wrapKafkaError } from './errors.ts'
import { clientMessage, toClientMessage, type ConsumedMessageWithSource, type OutgoingMessage } from './message.ts'
import type { KafkaConsumer } from './consumer.ts'

/** Where a produce request's messages landed: per partition (and produce response), the offset of its first message. */
export type ProducedOffsets = Array<{ topic: string; partition: number; baseOffset: bigint }>

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
export type Acks = 'all' | 'leader' | 'none'

export interface ProducerOptions extends KafkaConnectionOptions {
  /** Exactly-once per partition across retries. Default true (needs acks 'all'). */
  idempotent?: boolean
  /** Makes the producer transactional; one id per running instance (a restarted instance reuses its id and fences its zombie). */
  transactionalId?: string
  /** Default 'all'. */
  acks?: Acks
  /** Default 'none'. */
  compression?: Compression
  /** `enqueue`d messages wait up to this many ms to fill a batch. Default 5. */
  lingerMs?: number
  /** `enqueue`d messages per produce request, at most. Default 2000. */
  batchSize?: number
}

const ACKS: Record<Acks, number> = { all: ProduceAcks.ALL, leader: ProduceAcks.LEADER, none: ProduceAcks.NO_RESPONSE }

export class KafkaProducer {
  readonly #client: ClientProducer<Buffer, Buffer, string, Buffer>
  readonly #options: ProducerOptions
  /** The tail of the chain of requests: each send starts when the previous one ended. */
  #inFlight: Promise<unknown> = Promise.resolve()
  #pending: OutgoingMessage[] = []
  #lingerTimer: NodeJS.Timeout | undefined
  #deferredError: SluiceError | undefined

  constructor(options: ProducerOptions) {
    const idempotent = options.idempotent ?? true
    if (idempotent && options.acks !== undefined && options.acks !== 'all') {
      throw new TypeError(`producer: acks '${options.acks}' needs idempotent: false (idempotence requires acks 'all')`)
    }
    this.#options = options
    this.#client = new ClientProducer({
      ...clientConnection(options, 'producer'),
      idempotent: idempotent || options.transactionalId !== undefined,
      acks: ACKS[options.acks ?? 'all'],
      compression: options.compression ?? 'none',
      // murmur2 of the key, as the Java client, Kafka Streams and Kafka Connect partition: a key
      // written by Sluice lands on the same partition as when any of them writes it.
      partitioner: compatibilityPartitioner,
      // -1/-1 asks the coordinator for the id of this transactional id as a new session. The
      // client's default (0/0) reads as "I am producer 0", which the coordinator fences as soon as
      // the transactional id was ever used: a restarted instance could then never start again.
      ...(options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId, producerId: -1n, producerEpoch: -1 }),
      serializers: { headerKey: stringSerializer },
    })
  }

  /** Sends these messages as one request; resolves when the broker acknowledged them. */
  async send(messages: OutgoingMessage[]): Promise<void> {
    await this.sendWithOffsets(messages)
  }

  /** As `send`, resolving with the offset of the first message written to each partition (none with acks 'none'). */
  sendWithOffsets(messages: OutgoingMessage[]): Promise<ProducedOffsets> {
    return this.#chain(async () => {
      if (messages.length === 0) return []
      return baseOffsetsOf(await this.#client.send({ messages: messages.map(toClientMessage) }))
    }, 'Producing messages')
  }

  /**
   * Adds one message to the current batch, sent when it holds `batchSize` messages or after
   * `lingerMs`. Errors surface at the next `flush()`, which waits until everything was acknowledged.
   */
  enqueue(message: OutgoingMessage): void {
    this.#pending.push(message)
    if (this.#pending.length >= (this.#options.batchSize ?? 2000)) this.#sendPending()
    else this.#lingerTimer ??= setTimeout(() => this.#sendPending(), this.#options.lingerMs ?? 5)
  }

  /** Sends what `enqueue` gathered and waits for every outstanding request. */
  async flush(): Promise<void> {
    this.#sendPending()
    await this.#inFlight.catch(() => undefined)
    const error = this.#deferredError
    this.#deferredError = undefined
    if (error !== undefined) throw error
  }

  /**
   * Begins a transaction: everything sent through it, and the consumer offsets added to it,
   * becomes visible to read_committed consumers together at `commit()`, or never (`abort()`).
   */
  async beginTransaction(): Promise<KafkaTransaction> {
    if (this.#options.transactionalId === undefined) {
      throw new SluiceError('KAFKA_TRANSACTION', 'beginTransaction() on a producer without transactionalId', {
        fix: 'Create the producer with a transactionalId.',
      })
    }
    await this.flush()
    const transaction = await this.#chain(() => this.#client.beginTransaction(), 'Beginning a transaction')
    return new KafkaTransaction(transaction, (work, what) => this.#chain(work, what))
  }

  /**
   * Registers this transactional id with its coordinator now (InitProducerId), which fences any
   * earlier producer of the id and completes the transaction it left: aborted if it was open,
   * committed if its commit had begun. Call it before reading the consumer offsets that such a
   * transaction may still move; otherwise a restart can read offsets from before a commit that is
   * about to land, and process that input twice.
   */
  async initTransactions(): Promise<void> {
    if (this.#options.transactionalId === undefined) return
    await this.#chain(async () => {
      const transaction = await this.#client.beginTransaction()
      // Nothing was sent: drop the local transaction without an EndTxn request.
      await transaction.cancel()
    }, 'Initializing transactions')
  }

  async close(): Promise<void> {
    await this.flush().catch(() => undefined)
    await this.#client.close()
  }

  #sendPending(): void {
    clearTimeout(this.#lingerTimer)
    this.#lingerTimer = undefined
    if (this.#pending.length === 0) return
    const batch = this.#pending
    this.#pending = []
    this.send(batch).catch((error: unknown) => {
      this.#deferredError ??= error as SluiceError
    })
  }

  #chain<T>(work: () => Promise<T>, what: string): Promise<T> {
    const result = this.#inFlight.then(work, work).catch((error: unknown) => {
      throw wrapKafkaError(error, what, 'KAFKA_PRODUCE', secretsOf(this.#options), this.#options.brokers)
    })
    this.#inFlight = result.catch(() => undefined)
    return result
  }
}

type TransactionWork = <T>(work: () => Promise<T>, what: string) => Promise<T>
type ClientTransaction = Awaited<ReturnType<ClientProducer<Buffer, Buffer, string, Buffer>['beginTransaction']>>

/** One open transaction of a transactional producer. */
export class KafkaTransaction {
  readonly #transaction: ClientTransaction
  readonly #run: TransactionWork

  constructor(transaction: ClientTransaction, run: TransactionWork) {
    this.#transaction = transaction
    this.#run = run
  }

  async send(messages: OutgoingMessage[]): Promise<void> {
    await this.sendWithOffsets(messages)
  }

  /** As `send`, resolving with the offset of the first message written to each partition. */
  sendWithOffsets(messages: OutgoingMessage[]): Promise<ProducedOffsets> {
    return this.#run(async () => (messages.length === 0 ? [] : baseOffsetsOf(await this.#transaction.send({ messages: messages.map(toClientMessage) }))), 'Producing in a transaction')
  }

  /**
   * Commits, as part of this transaction, the consumer group offsets after these messages (for
   * each partition, the last message given). Kafka rejects them if the consumer lost the
   * partition in a rebalance since, which fences zombie instances.
   */
  sendOffsets(consumer: KafkaConsumer, messages: Iterable<ConsumedMessageWithSource>): Promise<void> {
    const lastPerPartition = new Map<string, ConsumedMessageWithSource>()
    for (const message of messages) lastPerPartition.set(`${message.topic}\u0000${message.partition}`, message)
    return this.#run(async () => {
      await this.#transaction.addConsumer(consumer.clientConsumer)
      for (const message of lastPerPartition.values()) await this.#transaction.addOffset(message[clientMessage])
    }, 'Committing consumer offsets in a transaction')
  }

  commit(): Promise<void> {
    return this.#run(() => this.#transaction.commit(), 'Committing a transaction')
  }

  abort(): Promise<void> {
    return this.#run(() => this.#transaction.abort(), 'Aborting a transaction')
  }
}

function baseOffsetsOf(result: { offsets?: Array<{ topic: string; partition: number; offset: bigint }> }): ProducedOffsets {
  return (result.offsets ?? []).map(({ topic, partition, offset }) => ({ topic, partition, baseOffset: offset }))
}
