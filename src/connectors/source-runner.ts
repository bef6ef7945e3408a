/**
 * Runs Sources into Kafka exactly once. Each source has a transactional producer of its own
 * (`<applicationId>-source-<name>`); every checkpoint is one transaction holding the records read
 * since the last one and, as the transaction's last record, the source's offset on the compacted
 * topic `<applicationId>-source-offsets` (key: the source's name). A restart reads that topic to
 * its end (read_committed) and resumes the source at the last committed offset.
 */
import { SluiceError } from '../errors.ts'
import { connectionOptionsOf, KafkaAdmin, KafkaProducer, readPartition, type Compression, type KafkaConnectionOptions, type KafkaTransaction } from '../kafka/index.ts'
import { createLogger, type Logger } from '../observability/logger.ts'
import type { Source, SourceOffset } from './source.ts'

/** Produce requests a source may have on their way to the brokers while it reads on. */
const MAX_SENDS_IN_FLIGHT = 8
/**
 * Records per produce request. The client builds a request by concatenating buffers, at a cost that
 * grows faster than the request: requests of a whole 8,192-row batch spent 15% of a snapshot there.
 */
const SEND_SIZE = 1000

export interface SourceRunnerOptions extends KafkaConnectionOptions {
  /** Prefixes the offsets topic and the transactional ids. */
  applicationId: string
  /** A checkpoint commits at least this often while records flow, in ms. Default 1000. */
  commitIntervalMs?: number
  /** …and after this many records. Default 100,000. */
  commitEvery?: number
  /** Producer tuning: batching, linger, compression (acks are always `all`: transactions need them). */
  producer?: { compression?: Compression; lingerMs?: number; batchSize?: number }
  logger?: Logger
}

export interface SourceStats {
  records: number
  checkpoints: number
}

export class SourceRunner {
  readonly #options: SourceRunnerOptions
  readonly #logger: Logger
  readonly #stop = new AbortController()
  readonly #stats = new Map<string, SourceStats>()

  constructor(options: SourceRunnerOptions) {
    this.#options = options
    this.#logger = (options.logger ?? createLogger()).child({ applicationId: options.applicationId, module: 'sources' })
  }

  get offsetsTopic(): string {
    return `${this.#options.applicationId}-source-offsets`
  }

  stats(name: string): SourceStats {
    return { ...(this.#stats.get(name) ?? { records: 0, checkpoints: 0 }) }
  }

  /** Runs the sources until `stop()`; each ends with a last checkpoint. Rejects on the first failure (the others stop too). */
  async run(sources: readonly Source[]): Promise<void> {
    const names = new Set(sources.map((source) => source.name))
    if (names.size !== sources.length) throw new SluiceError('APP_CONFIG', 'Two sources have the same name', { fix: 'Give each source its own name: it keys its offsets.' })
    await this.#createTopics(sources)
    const offsets = await this.committedOffsets()
    const runs = sources.map((source) => this.#runSource(source, offsets.get(source.name)))
    try {
      await Promise.all(runs.map((run) => run.catch((error: unknown) => {
        this.#stop.abort()
        throw error
      })))
    } finally {
      await Promise.allSettled(runs)
    }
  }

  stop(): void {
    this.#stop.abort()
  }

  /** The last committed offset of every source of this application, by source name. */
  async committedOffsets(): Promise<Map<string, SourceOffset>> {
    const offsets = new Map<string, SourceOffset>()
    for await (const batch of readPartition({ ...this.#connection(), topic: this.offsetsTopic, partition: 0 })) {
      for (const record of batch.records) {
        if (record.key === null) continue
        if (record.value === null) offsets.delete(record.key.toString())
        else offsets.set(record.key.toString(), JSON.parse(record.value.toString()) as SourceOffset)
      }
    }
    return offsets
  }

  async #runSource(source: Source, committed: SourceOffset | undefined): Promise<void> {
    const stats = { records: 0, checkpoints: 0 }
    this.#stats.set(source.name, stats)
    const producer = new KafkaProducer({ ...this.#connection(), transactionalId: `${this.#options.applicationId}-source-${source.name}`, ...this.#options.producer })
    const commitIntervalMs = this.#options.commitIntervalMs ?? 1000
    const commitEvery = this.#options.commitEvery ?? 100_000
    let transaction: KafkaTransaction | undefined
    let pending: SourceOffset | undefined
    let inTransaction = 0
    let lastCommit = Date.now()
    let sending: Array<Promise<void>> = []
    const commit = async () => {
      if (pending === undefined) return
      const sent = sending
      sending = []
      await Promise.all(sent)
      transaction ??= await producer.beginTransaction()
      await transaction.send([{ topic: this.offsetsTopic, partition: 0, key: Buffer.from(source.name), value: Buffer.from(JSON.stringify(pending)) }])
      await transaction.commit()
      transaction = undefined
      pending = undefined
      inTransaction = 0
      stats.checkpoints++
      lastCommit = Date.now()
    }
    try {
      // Fences an earlier instance of this source and completes what it left before the read starts.
      await producer.initTransactions()
      this.#logger.info({ source: source.name, offset: committed ?? null }, committed === undefined ? 'source starting from its beginning' : 'source resuming after its last committed offset')
      for await (const batch of source.read(committed, this.#stop.signal)) {
        if (batch.records.length > 0) {
          transaction ??= await producer.beginTransaction()
          // Not awaited: the source reads its next batch while this one is on its way (the
          // producer keeps sends in order); the commit below waits for all of them.
          for (let first = 0; first < batch.records.length; first += SEND_SIZE) {
            sending.push(transaction.send(batch.records.slice(first, first + SEND_SIZE)))
            if (sending.length > MAX_SENDS_IN_FLIGHT) await sending.shift()
          }
          inTransaction += batch.records.length
          stats.records += batch.records.length
        }
        pending = batch.offset
        if (inTransaction >= commitEvery || Date.now() - lastCommit >= commitIntervalMs || batch.records.length === 0) await commit()
        if (this.#stop.signal.aborted) break
      }
      await commit()
      this.#logger.info({ source: source.name, ...stats }, 'source stopped')
    } catch (error) {
      await Promise.allSettled(sending)
      await transaction?.abort().catch(() => undefined)
      throw error instanceof SluiceError
        ? error
        : new SluiceError('SOURCE_FAILED', `Source "${source.name}" failed: ${error instanceof Error ? error.message : String(error)}`, {
            fix: 'See the cause; a restart resumes after the last committed checkpoint.',
            cause: error,
          })
    } finally {
      await producer.close().catch(() => undefined)
    }
  }

  async #createTopics(sources: readonly Source[]): Promise<void> {
    const admin = new KafkaAdmin(this.#connection())
    try {
      await admin.createTopics([
        { name: this.offsetsTopic, partitions: 1, configs: { 'cleanup.policy': 'compact' } },
        ...sources.flatMap((source) => source.topics.map((topic) => ({ name: topic.name, partitions: topic.partitions ?? 1, ...(topic.configs === undefined ? {} : { configs: topic.configs }) }))),
      ])
    } finally {
      await admin.close()
    }
  }

  #connection(): KafkaConnectionOptions {
    return connectionOptionsOf(this.#options, this.#options.applicationId)
  }
}
