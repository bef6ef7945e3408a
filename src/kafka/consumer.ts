/**
 * The consumer: a member of a consumer group reading committed data only (read_committed), with
 * offsets committed by the caller, never behind its back.
 */
import { Consumer as ClientConsumer, FetchIsolationLevels, MessagesStreamModes, stringDeserializer, type MessagesStream } from '@platformatic/kafka'
import { clientConnection, secretsOf, type KafkaConnectionOptions } from './connection.ts'
import { wrapKafkaError } from './errors.ts'
import { fromClientMessage, type ConsumedMessageWithSource } from './message.ts'

export interface TopicPartition {
  topic: string
  partition: number
}

export interface ConsumerOptions extends KafkaConnectionOptions {
  groupId: string
  topics: string[]
  /** Default 'read_committed': aborted and open transactions stay invisible. */
  isolationLevel?: 'read_committed' | 'read_uncommitted'
  /** Where a partition without a committed offset starts. Default 'earliest'. */
  autoOffsetReset?: 'earliest' | 'latest'
  /** Static membership: a restart with the same id within the session timeout keeps its partitions. */
  groupInstanceId?: string
  /** Default 10000 ms. */
  sessionTimeoutMs?: number
  /** Default 1000 ms. */
  heartbeatIntervalMs?: number
  /** Longest wait of a fetch for new data, ms. Default 100. */
  maxWaitMs?: number
  /** Called after the group gave this member its partitions. */
  onAssigned?: (partitions: TopicPartition[]) => void
  /** Called when this member gives up its partitions (rebalance or leaving). */
  onRevoked?: (partitions: TopicPartition[]) => void
}

export class KafkaConsumer {
  /** @internal The client consumer, for transactions that commit this group's offsets. */
  readonly clientConsumer: ClientConsumer<Buffer, Buffer, string, Buffer>
  readonly #options: ConsumerOptions
  #stream: MessagesStream<Buffer, Buffer, string, Buffer> | undefined
  #assigned: TopicPartition[] = []

  constructor(options: ConsumerOptions) {
    this.#options = options
    this.clientConsumer = new ClientConsumer({
      ...clientConnection(options, 'consumer'),
      groupId: options.groupId,
      ...(options.groupInstanceId === undefined ? {} : { groupInstanceId: options.groupInstanceId }),
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: options.heartbeatIntervalMs ?? 1000,
      rebalanceTimeout: options.sessionTimeoutMs ?? 10_000,
      autocommit: false,
      maxWaitTime: options.maxWaitMs ?? 100,
      isolationLevel: options.isolationLevel === 'read_uncommitted' ? FetchIsolationLevels.READ_UNCOMMITTED : FetchIsolationLevels.READ_COMMITTED,
      deserializers: { headerKey: stringDeserializer },
    })
    this.clientConsumer.on('consumer:group:join', (payload) => {
      this.#revokeAll()
      this.#assigned = (payload.assignments ?? []).flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })))
      this.#options.onAssigned?.(this.#assigned)
    })
    this.clientConsumer.on('consumer:group:rebalance', () => this.#revokeAll())
    this.clientConsumer.on('consumer:group:leave', () => this.#revokeAll())
  }

  /** The partitions this member holds now. */
  get assignment(): TopicPartition[] {
    return [...this.#assigned]
  }

  /**
   * Joins the group and yields messages in order per partition, starting after the group's
   * committed offsets (or at `autoOffsetReset`). Ends when `close()` is called.
   */
  async *messages(): AsyncGenerator<ConsumedMessageWithSource> {
    const stream = await this.#start()
    for await (const message of stream) yield fromClientMessage(message)
  }

  /** Stops fetching (already fetched messages still arrive) until `resume()`. */
  pause(): void {
    this.#stream?.pause()
  }

  resume(): void {
    this.#stream?.resume()
  }

  /** Commits, for each partition, the offset after the last of these messages (outside any transaction). */
  async commit(messages: Iterable<ConsumedMessageWithSource>): Promise<void> {
    const last = new Map<string, ConsumedMessageWithSource>()
    for (const message of messages) last.set(`${message.topic}\u0000${message.partition}`, message)
    const offsets = [...last.values()].map((message) => ({ topic: message.topic, partition: message.partition, offset: message.offset + 1n, leaderEpoch: -1 }))
    if (offsets.length === 0) return
    try {
      await this.clientConsumer.commit({ offsets })
    } catch (error) {
      throw wrapKafkaError(error, `Committing offsets of group "${this.#options.groupId}"`, 'KAFKA_CONSUME', secretsOf(this.#options), this.#options.brokers)
    }
  }

  async close(): Promise<void> {
    await this.#stream?.close().catch(() => undefined)
    this.#stream = undefined
    await this.clientConsumer.close(true)
    this.#revokeAll()
  }

  async #start(): Promise<MessagesStream<Buffer, Buffer, string, Buffer>> {
    try {
      this.#stream = await this.clientConsumer.consume({
        topics: this.#options.topics,
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: this.#options.autoOffsetReset === 'latest' ? 'latest' : 'earliest',
      })
      return this.#stream
    } catch (error) {
      throw wrapKafkaError(error, `Joining consumer group "${this.#options.groupId}"`, 'KAFKA_CONSUME', secretsOf(this.#options), this.#options.brokers)
    }
  }

  #revokeAll(): void {
    if (this.#assigned.length === 0) return
    const revoked = this.#assigned
    this.#assigned = []
    this.#options.onRevoked?.(revoked)
  }
}
