/**
 * The consumer: a member of a consumer group reading committed data only (read_committed), with
 * offsets committed by the caller, never behind its back.
 */
import { Consumer as ClientConsumer, FetchIsolationLevels, MessagesStreamModes, stringDeserializer, type MessagesStream } from '@platformatic/kafka'
import { dropAbortedTransactions, type FetchResponse } from './aborted-transactions.ts'
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
  /** Most bytes one fetch returns. Default 50 MiB (the Java client's fetch.max.bytes). */
  fetchMaxBytes?: number
  /** Most bytes one fetch returns per partition. Default 1 MiB (max.partition.fetch.bytes). */
  fetchMaxBytesPerPartition?: number
  /** Called after the group gave this member its partitions. */
  onAssigned?: (partitions: TopicPartition[]) => void
  /** Called when this member gives up its partitions (rebalance or leaving). */
  onRevoked?: (partitions: TopicPartition[]) => void
}

export interface BatchOptions {
  /**
   * Yield an empty batch when nothing arrived for this many ms, so that a processing loop gets
   * control back on a quiet topic (to commit on time, or to stop). Default: wait for messages.
   */
  idleMs?: number
}

/** Messages a batch holds at most before fetching pauses. */
const MAX_BATCH = 50_000

export class KafkaConsumer {
  /** @internal The client consumer, for transactions that commit this group's offsets. */
  readonly clientConsumer: ClientConsumer<Buffer, Buffer, string, Buffer>
  readonly #options: ConsumerOptions
  #stream: MessagesStream<Buffer, Buffer, string, Buffer> | undefined
  #assigned: TopicPartition[] = []
  /** The partitions held now, as `topic\u0000partition`: a message of any other is stale. */
  #owned = new Set<string>()
  /** Per held partition, the offset after the last message handed over (see `#accept`). */
  #positions = new Map<string, bigint>()
  /** Bumped at every revocation, so that messages buffered before it are checked again. */
  #revocations = 0
  #paused = false

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
      minBytes: 1,
      maxBytes: options.fetchMaxBytes ?? 50 * 1024 * 1024,
      maxBytesPerPartition: options.fetchMaxBytesPerPartition ?? 1024 * 1024,
      isolationLevel: options.isolationLevel === 'read_uncommitted' ? FetchIsolationLevels.READ_UNCOMMITTED : FetchIsolationLevels.READ_COMMITTED,
      deserializers: { headerKey: stringDeserializer },
    })
    if (options.isolationLevel !== 'read_uncommitted') filterAbortedTransactions(this.clientConsumer)
    this.clientConsumer.on('consumer:group:join', (payload) => {
      this.#revokeAll()
      this.#assigned = (payload.assignments ?? []).flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })))
      this.#owned = new Set(this.#assigned.map(({ topic, partition }) => partitionKey(topic, partition)))
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
   * Joins the group and yields messages in batches of what has arrived, in order per partition,
   * starting after the group's committed offsets (or at `autoOffsetReset`). Ends when `close()`
   * is called. Batches keep the per-message cost to a loop iteration: no promise per message.
   */
  async *batches(options: BatchOptions = {}): AsyncGenerator<ConsumedMessageWithSource[]> {
    const stream = await this.#start()
    let buffer: ConsumedMessageWithSource[] = []
    let ended = false
    let failure: unknown
    let wake: (() => void) | undefined
    const signal = () => {
      wake?.()
      wake = undefined
    }
    let bufferedAtRevocation = this.#revocations
    stream.on('data', (message) => {
      if (!this.#accept(message.topic, message.partition, message.offset)) return
      buffer.push(fromClientMessage(message))
      // Backpressure: stop fetching while the caller is behind by a full batch.
      if (buffer.length >= MAX_BATCH) stream.pause()
      signal()
    })
    // `on`, not `once`: a stream closed during a rebalance can emit more than one error, and an unheard one would crash the process.
    stream.on('error', (error) => {
      failure ??= error
      signal()
    })
    stream.once('close', () => {
      ended = true
      signal()
    })
    for (;;) {
      if (buffer.length > 0) {
        // Messages buffered before a revocation may be of partitions this member no longer holds.
        const batch = bufferedAtRevocation === this.#revocations ? buffer : this.#withoutRevoked(buffer)
        bufferedAtRevocation = this.#revocations
        buffer = []
        if (!this.#paused) stream.resume()
        yield batch
      } else if (failure !== undefined) {
        throw wrapKafkaError(failure, `Consuming for group "${this.#options.groupId}"`, 'KAFKA_CONSUME', secretsOf(this.#options), this.#options.brokers)
      } else if (ended) {
        return
      } else if (options.idleMs === undefined) {
        await new Promise<void>((resolve) => (wake = resolve))
      } else {
        const idle = options.idleMs
        let timer: NodeJS.Timeout | undefined
        const arrived = await new Promise<boolean>((resolve) => {
          wake = () => resolve(true)
          timer = setTimeout(() => resolve(false), idle)
        })
        clearTimeout(timer)
        wake = undefined
        if (!arrived) yield []
      }
    }
  }

  /** The messages of `batches()`, one at a time: simplest to use, one promise per message. */
  async *messages(): AsyncGenerator<ConsumedMessageWithSource> {
    for await (const batch of this.batches()) yield* batch
  }

  /** Stops fetching (already fetched messages still arrive) until `resume()`. */
  pause(): void {
    this.#paused = true
    this.#stream?.pause()
  }

  resume(): void {
    this.#paused = false
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

  /**
   * Whether a fetched message is handed over. @platformatic/kafka 2.12.1 still delivers fetches
   * that were in flight during a rebalance: messages of partitions now held by another member, and,
   * for partitions kept, messages it then fetches again from the committed offsets. Handing those
   * over would process them twice. So a member takes only messages of partitions it holds, and of
   * each only offsets after the last it handed over (gaps are normal: transaction markers).
   * Not covered: a fetch still in flight across two rebalances that take a partition away and give
   * it back; its messages look current.
   */
  #accept(topic: string, partition: number, offset: bigint): boolean {
    const key = partitionKey(topic, partition)
    if (!this.#owned.has(key)) return false
    const next = this.#positions.get(key)
    if (next !== undefined && offset < next) return false
    this.#positions.set(key, offset + 1n)
    return true
  }

  /**
   * Drops buffered messages of partitions no longer held. Each such partition's position goes back
   * to its first dropped message, so that if it comes back, its refetch from the committed offset
   * hands those messages over again.
   */
  #withoutRevoked(buffer: ConsumedMessageWithSource[]): ConsumedMessageWithSource[] {
    const kept: ConsumedMessageWithSource[] = []
    const rewound = new Set<string>()
    for (const message of buffer) {
      const key = partitionKey(message.topic, message.partition)
      if (this.#owned.has(key)) kept.push(message)
      else if (!rewound.has(key)) {
        rewound.add(key)
        this.#positions.set(key, message.offset)
      }
    }
    return kept
  }

  /** Positions stay: a partition kept through an eager rebalance is fetched again from its committed offset. */
  #revokeAll(): void {
    this.#owned = new Set()
    this.#revocations++
    if (this.#assigned.length === 0) return
    const revoked = this.#assigned
    this.#assigned = []
    this.#options.onRevoked?.(revoked)
  }
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

type ApiCallback = (error: unknown, api?: unknown) => void
type ClientApi = ((...args: unknown[]) => void) & Record<string, unknown>

/**
 * Puts Sluice's aborted-transaction filter (see aborted-transactions.ts) in front of the client's
 * own, by wrapping the Fetch API the client looks up through its internal `getApi`; and makes the
 * group's committed offsets read as stable (see requiringStableOffsets). Checked by
 * test/kafka/transactions.test.ts; re-check it when upgrading @platformatic/kafka (pinned).
 */
function filterAbortedTransactions(consumer: ClientConsumer<Buffer, Buffer, string, Buffer>): void {
  const holder = consumer as unknown as Record<symbol, (name: string, callback: ApiCallback) => void>
  let getApi: symbol | undefined
  for (let proto: object | null = consumer; proto !== null && getApi === undefined; proto = Object.getPrototypeOf(proto) as object | null) {
    getApi = Object.getOwnPropertySymbols(proto).find((symbol) => symbol.description === 'plt.kafka.base.getApi')
  }
  if (getApi === undefined) throw new Error('@platformatic/kafka changed its internals: Sluice cannot filter aborted transactions; pin the version in package.json')
  const original = (holder[getApi] as (name: string, callback: ApiCallback) => void).bind(consumer)
  holder[getApi] = (name, callback) => {
    original(name, (error, api) => {
      if (error !== null && error !== undefined) return callback(error)
      if (name === 'OffsetFetch') return callback(null, requiringStableOffsets(api as ClientApi))
      if (name !== 'Fetch') return callback(null, api)
      const fetch = api as ClientApi
      const filtered = Object.assign((...args: unknown[]) => {
        const done = args.pop() as (error: unknown, response?: FetchResponse) => void
        fetch(...args, (fetchError: unknown, response?: FetchResponse) => {
          if (response !== undefined && (fetchError === null || fetchError === undefined)) dropAbortedTransactions(response)
          done(fetchError, response)
        })
      }, fetch)
      callback(null, filtered)
    })
  }
}

/**
 * OffsetFetch with require_stable (KIP-447), which the client always sends as false: while a
 * transaction that commits offsets of the group is still completing (its commit markers not yet
 * written), the broker answers UNSTABLE_OFFSET_COMMIT, which the client retries, instead of the
 * offsets from before that transaction. Without it, a member taking over a partition right after
 * the previous owner's last commit can read it again, and write its output twice.
 */
function requiringStableOffsets(offsetFetch: ClientApi): ClientApi {
  return Object.assign((...args: unknown[]) => {
    // (connection, groups, requireStable, callback)
    if (args.length === 4) args[2] = true
    offsetFetch(...args)
  }, offsetFetch)
}
