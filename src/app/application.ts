/**
 * Application: what a user creates to run pipelines. It defines topics, hands out dataframes, and
 * `run()`s them: one consumer group member reads every source topic, the compiled pipelines
 * process each message, and checkpoints commit output and offsets together (see checkpoint.ts).
 */
import { storesOfSources, StreamingDataFrame, Topology } from '../dataframe/index.ts'
import { SluiceError } from '../errors.ts'
import {
  isGroupMembershipLost,
  KafkaAdmin,
  KafkaConsumer,
  KafkaProducer,
  type Compression,
  type ConsumedMessageWithSource,
  type KafkaConnectionOptions,
} from '../kafka/index.ts'
import { createLogger, type Logger, type LogLevel } from '../observability/logger.ts'
import { AtLeastOnceCheckpoint, TransactionalCheckpoint, type Checkpoint } from './checkpoint.ts'
import { persistentInstanceId } from './instance-id.ts'
import { RecordProcessor, type ProcessingCounters } from './record-processor.ts'
import { SourceRunner, type Source, type SourceStats } from '../connectors/index.ts'
import { SchemaPreparation } from './schema-preparation.ts'
import { ApplicationState, PartitionNotAssigned } from './state.ts'
import { defineInternalTopic, defineTopic, newTopicOf, type AppTopic, type TopicOptions } from './topics.ts'

export type ProcessingGuarantee = 'exactly-once' | 'at-least-once'

export interface ApplicationOptions extends KafkaConnectionOptions {
  /**
   * Names the application: its consumer group, the prefix of its internal topics and of its
   * transactional ids. Instances with the same id share the work of their topics' partitions.
   */
  applicationId: string
  /** Default 'exactly-once'. */
  processingGuarantee?: ProcessingGuarantee
  /** A checkpoint commits at least this often, in ms. Default 1000. */
  commitIntervalMs?: number
  /** Also commit after this many input messages (0: only by interval). Default 0. */
  commitEvery?: number
  /**
   * Also commit when the state stores hold this many uncommitted writes (distinct keys written
   * since the last checkpoint). They wait in memory until their checkpoint commits, about 1 KB
   * each, so this bounds the memory of state however many keys there are. Default 50,000.
   */
  maxUncommittedStateWrites?: number
  /** Where partitions without committed offsets start. Default 'earliest'. */
  autoOffsetReset?: 'earliest' | 'latest'
  /**
   * Folder for this instance's id and its state stores (`<stateDir>/<applicationId>/<store>/<topic>-<partition>`).
   * Losing it loses nothing: stores are restored from their changelog topics. Default `./state`.
   */
  stateDir?: string
  /** This instance's id; default: made once and kept in `stateDir`. Two instances must not share one. */
  instanceId?: string
  /** Producer tuning for output records. */
  producer?: { compression?: Compression; lingerMs?: number; batchSize?: number }
  /** Consumer tuning. */
  consumer?: { sessionTimeoutMs?: number; heartbeatIntervalMs?: number; fetchMaxBytes?: number; fetchMaxBytesPerPartition?: number }
  /** Default: pino JSON lines on stderr at `logLevel`. */
  logger?: Logger
  logLevel?: LogLevel
  /** Stop gracefully on SIGINT and SIGTERM. Default true. */
  handleSignals?: boolean
}

export interface ApplicationStats extends ProcessingCounters {
  checkpoints: number
  /** Checkpoints given up because the group rebalanced under them (their input is read again). */
  abortedCheckpoints: number
  /** Records each source committed, by source name. */
  sources: Record<string, SourceStats>
}

export class Application {
  readonly options: Readonly<ApplicationOptions>
  readonly #topology: Topology
  readonly #topics = new Map<string, AppTopic<unknown, unknown>>()
  readonly #logger: Logger
  readonly #stats: Omit<ApplicationStats, 'sources'> = { processed: 0, skipped: 0, deadLettered: 0, tombstones: 0, checkpoints: 0, abortedCheckpoints: 0 }
  #processor: RecordProcessor | undefined
  #state: ApplicationState | undefined
  #schemas: SchemaPreparation | undefined
  readonly #sources: Source[] = []
  #sourceRunner: SourceRunner | undefined
  #running = false
  #stopRequested = false

  constructor(options: ApplicationOptions) {
    validateOptions(options)
    this.options = options
    this.#topology = new Topology(`${options.applicationId}-repartition-`)
    this.#logger = (options.logger ?? createLogger(options.logLevel)).child({ applicationId: options.applicationId })
  }

  /** Defines a topic: its serializers, the settings to create it with, and its error policy. */
  topic<K = string, V = unknown>(name: string, options: TopicOptions<K, V> = {}): AppTopic<K, V> {
    if (this.#topics.has(name)) {
      throw new SluiceError('APP_CONFIG', `app.topic("${name}") was called twice`, { fix: 'Define each topic once and reuse the object it returns.' })
    }
    const topic = defineTopic(name, options)
    this.#topics.set(name, topic)
    const policy = topic.onError
    if (typeof policy === 'object' && !this.#topics.has(policy.deadLetterTopic)) {
      this.#topics.set(policy.deadLetterTopic, defineTopic<unknown, unknown>(policy.deadLetterTopic, { config: { partitions: topic.config.partitions ?? 1 } }))
    }
    return topic
  }

  /**
   * Runs `source` (for example a Delta table's change feed) with the application: `run()` starts
   * it, `stop()` stops it. It writes its records and offsets exactly once, in transactions of its
   * own (see SourceRunner); pipelines of this application can read its topic.
   */
  source(source: Source): void {
    if (this.#running) throw new SluiceError('APP_CONFIG', 'app.source() was called while the application runs', { fix: 'Add sources before app.run().' })
    this.#sources.push(source)
  }

  /** A dataframe of the records of `topic`; its steps run when the application runs. */
  dataframe<K, V>(topic: AppTopic<K, V>): StreamingDataFrame<V, K> {
    if (this.#topics.get(topic.name) !== (topic as AppTopic<unknown, unknown>)) {
      throw new SluiceError('APP_CONFIG', `app.dataframe() got topic "${topic.name}", which this application did not define`, {
        fix: 'Pass a topic made by app.topic() of the same application.',
      })
    }
    return new StreamingDataFrame<V, K>(this.#topology, this.#topology.addSource(topic))
  }

  /** Counters since `run()` began. */
  stats(): Readonly<ApplicationStats> {
    const sources = Object.fromEntries(this.#sources.map((source) => [source.name, this.#sourceRunner?.stats(source.name) ?? { records: 0, checkpoints: 0 }]))
    return { ...this.#stats, ...this.#processor?.counters, sources }
  }

  /**
   * Creates missing topics, then processes until `stop()` (or SIGINT/SIGTERM), then commits a last
   * checkpoint and closes everything. Rejects with a SluiceError when processing cannot go on.
   */
  async run(): Promise<void> {
    if (this.#running) throw new SluiceError('APP_CONFIG', 'app.run() is already running', { fix: 'Call run() once; stop() ends it.' })
    this.#running = true
    this.#stopRequested = false
    const onSignal = () => this.stop()
    if (this.options.handleSignals ?? true) {
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
    }
    const producer = this.#newProducer()
    try {
      const storesBySource = storesOfSources(this.#topology)
      if (storesBySource.size > 0) {
        this.#state = new ApplicationState({ stateDir: this.options.stateDir ?? 'state', applicationId: this.options.applicationId, storesBySource, connection: this.#connection(), logger: this.#logger })
      }
      await this.#createTopics()
      this.#processor = new RecordProcessor(this.#topology, this.#topics, this.#logger, this.#state)
      if (this.#processor.sourceTopics.length === 0 && this.#sources.length === 0) {
        throw new SluiceError('APP_CONFIG', 'app.run() has nothing to run', { fix: 'Create a pipeline with app.dataframe(app.topic("…")) or add a source with app.source() before run().' })
      }
      this.#schemas = new SchemaPreparation(this.#topics, this.#processor.sourceTopics)
      await this.#schemas.prepareOutputs()
      const sources = this.#startSources()
      this.#logger.info({ topics: this.#processor.sourceTopics, sources: this.#sources.map((source) => source.name), guarantee: this.#guarantee }, 'application starting')
      try {
        if (this.#processor.sourceTopics.length === 0) await sources // only sources: they run until stop()
        else while (!this.#stopRequested) await this.#runConsumer(producer, this.#processor)
      } finally {
        this.#sourceRunner?.stop()
        await sources
      }
      this.#logger.info(this.stats(), 'application stopped')
    } finally {
      process.removeListener('SIGINT', onSignal)
      process.removeListener('SIGTERM', onSignal)
      await producer.close().catch(() => undefined)
      this.#state?.close()
      this.#state = undefined
      this.#running = false
    }
  }

  /** Asks `run()` to finish: it commits what was processed, closes, and resolves. */
  stop(): void {
    this.#stopRequested = true
    this.#sourceRunner?.stop()
  }

  /** Starts the sources; resolves when they stopped, rejects (and stops the application) when one fails. */
  #startSources(): Promise<void> {
    if (this.#sources.length === 0) return Promise.resolve()
    this.#sourceRunner = new SourceRunner({
      ...this.#connection(),
      applicationId: this.options.applicationId,
      commitIntervalMs: this.options.commitIntervalMs ?? 1000,
      logger: this.#logger,
      ...(this.options.producer === undefined ? {} : { producer: this.options.producer }),
    })
    return this.#sourceRunner.run(this.#sources).catch((error: unknown) => {
      this.stop()
      throw error
    })
  }

  get #guarantee(): ProcessingGuarantee {
    return this.options.processingGuarantee ?? 'exactly-once'
  }

  /**
   * One consumer's life: reads, processes and checkpoints until stop, or until the group
   * rebalanced under uncommitted work, which is then given up and read again by a new consumer.
   */
  async #runConsumer(producer: KafkaProducer, processor: RecordProcessor): Promise<void> {
    let assignmentChanged = false
    if (this.#guarantee === 'exactly-once') await producer.initTransactions()
    const consumer = this.#newConsumer(processor.sourceTopics, () => (assignmentChanged = true))
    const state = this.#state
    const checkpoint: Checkpoint =
      this.#guarantee === 'exactly-once' ? new TransactionalCheckpoint(producer, consumer, state) : new AtLeastOnceCheckpoint(producer, consumer, state)
    const commitIntervalMs = this.options.commitIntervalMs ?? 1000
    const commitEvery = this.options.commitEvery ?? 0
    const maxStateWrites = this.options.maxUncommittedStateWrites ?? 50_000
    let sinceStateCheck = 0
    let lastCommit = Date.now()
    const commit = async () => {
      const inputs = checkpoint.consumedCount
      await checkpoint.commit()
      this.#stats.checkpoints++
      if (inputs > 0) this.#logger.debug({ inputs, ms: Date.now() - lastCommit }, 'checkpoint committed')
      lastCommit = Date.now()
    }
    try {
      for await (let batch of consumer.batches({ idleMs: Math.min(100, commitIntervalMs) })) {
        if (assignmentChanged) {
          // Input read before a rebalance may belong to another member now: give it up unless nothing is pending.
          if (checkpoint.consumedCount > 0) throw new RebalancedUnderWork()
          assignmentChanged = false
          if (state !== undefined) {
            // Stores of new partitions are restored before any of their records is processed.
            do {
              assignmentChanged = false
              await state.assign(consumer.assignment)
            } while (assignmentChanged)
            const held = new Set(consumer.assignment.map(({ topic, partition }) => `${topic}\u0000${partition}`))
            batch = batch.filter((message) => held.has(`${message.topic}\u0000${message.partition}`))
          }
        }
        await this.#schemas?.prepareBatch(batch)
        for (const message of batch) {
          this.#processOne(processor, message, checkpoint)
          if (commitEvery > 0 && checkpoint.consumedCount >= commitEvery) await commit()
          else if (state !== undefined && ++sinceStateCheck >= STATE_CHECK_EVERY) {
            sinceStateCheck = 0
            if (state.uncommittedWrites() >= maxStateWrites) await commit()
          }
        }
        checkpoint.sendQueued()
        if (this.#stopRequested) break
        if (Date.now() - lastCommit >= commitIntervalMs) await commit()
      }
      await commit()
    } catch (error) {
      await checkpoint.abort().catch(() => undefined)
      if (!(error instanceof RebalancedUnderWork) && !(error instanceof PartitionNotAssigned) && !isGroupMembershipLost(error)) throw error
      this.#stats.abortedCheckpoints++
      this.#logger.info('the group rebalanced under an open checkpoint: it was aborted, and its input is read again from the committed offsets')
    } finally {
      await consumer.close().catch(() => undefined)
    }
  }

  #processOne(processor: RecordProcessor, message: ConsumedMessageWithSource, checkpoint: Checkpoint): void {
    processor.process(message, checkpoint)
    checkpoint.consumed(message)
  }

  #newProducer(): KafkaProducer {
    const exactlyOnce = this.#guarantee === 'exactly-once'
    const transactionalId = exactlyOnce ? `${this.options.applicationId}-${this.#instanceId()}` : undefined
    return new KafkaProducer({
      ...this.#connection(),
      ...(transactionalId === undefined ? {} : { transactionalId }),
      ...this.options.producer,
    })
  }

  #newConsumer(topics: string[], onAssignmentChange: () => void): KafkaConsumer {
    return new KafkaConsumer({
      ...this.#connection(),
      groupId: this.options.applicationId,
      topics,
      isolationLevel: 'read_committed',
      autoOffsetReset: this.options.autoOffsetReset ?? 'earliest',
      groupInstanceId: `${this.options.applicationId}-${this.#instanceId()}`,
      ...this.options.consumer,
      onAssigned: (partitions) => {
        onAssignmentChange()
        this.#logger.info({ partitions }, 'partitions assigned')
      },
      onRevoked: (partitions) => {
        onAssignmentChange()
        this.#logger.info({ partitions }, 'partitions revoked')
      },
    })
  }

  #instanceId(): string {
    return this.options.instanceId ?? persistentInstanceId(this.options.stateDir ?? 'state', this.options.applicationId)
  }

  #connection(): KafkaConnectionOptions {
    const { brokers, clientId, tls, sasl, connectTimeout, requestTimeout } = this.options
    return {
      brokers,
      clientId: clientId ?? this.options.applicationId,
      ...(tls === undefined ? {} : { tls }),
      ...(sasl === undefined ? {} : { sasl }),
      ...(connectTimeout === undefined ? {} : { connectTimeout }),
      ...(requestTimeout === undefined ? {} : { requestTimeout }),
    }
  }

  /** Creates every defined topic that is missing, then the repartition topics of groupBy steps and the changelog topics of state stores. */
  async #createTopics(): Promise<void> {
    const admin = new KafkaAdmin(this.#connection())
    try {
      await admin.createTopics([...this.#topics.values()].map(newTopicOf))
      if (this.#topology.repartitionTopics.size > 0) await this.#createRepartitionTopics(admin)
      if (this.#state !== undefined) {
        // A changelog topic has as many partitions as its source topic: changelog partition p holds the state of source partition p.
        const partitions = new Map<string, number>()
        for (const source of this.#topology.sources.keys()) partitions.set(source, (await admin.describeTopic(source)).partitions)
        const replication = (source: string) => this.#topics.get(source)?.config.replicationFactor ?? 1
        const changelogs = this.#state.changelogTopics((source) => partitions.get(source) ?? 1, replication)
        await admin.createTopics(changelogs)
        for (const changelog of changelogs) {
          const actual = (await admin.describeTopic(changelog.name)).partitions
          if (actual !== changelog.partitions) {
            throw new SluiceError('STATE_STORE', `Changelog topic "${changelog.name}" has ${actual} partitions, its source topic ${changelog.partitions}: state partitions would not match`, {
              fix: 'A source topic’s partition count changed under a stateful application. Use a new applicationId (its state starts empty), or restore the partition count.',
            })
          }
        }
      }
    } finally {
      await admin.close()
    }
  }

  /** A repartition topic gets as many partitions as the widest source topic, as in Kafka Streams. */
  async #createRepartitionTopics(admin: KafkaAdmin): Promise<void> {
    let partitions = 1
    for (const name of this.#topology.sources.keys()) {
      if (this.#topics.has(name)) partitions = Math.max(partitions, (await admin.describeTopic(name)).partitions)
    }
    for (const { name } of this.#topology.repartitionTopics.values()) {
      this.#topics.set(name, defineInternalTopic(name, { partitions }))
    }
    await admin.createTopics([...this.#topology.repartitionTopics.keys()].map((name) => newTopicOf(this.#topics.get(name) as AppTopic<unknown, unknown>)))
  }
}

/** Records between two looks at the state stores' uncommitted writes (summing them costs a little). */
const STATE_CHECK_EVERY = 500

/** The group rebalanced while a checkpoint held uncommitted input. */
class RebalancedUnderWork extends Error {}

function validateOptions(options: ApplicationOptions): void {
  const invalid = (field: string, problem: string, fix: string) => new SluiceError('APP_CONFIG', `Application option ${field} ${problem}`, { fix })
  if (typeof options.applicationId !== 'string' || !/^[a-zA-Z0-9._-]{1,200}$/.test(options.applicationId)) {
    throw invalid('applicationId', `is ${JSON.stringify(options.applicationId)}`, 'Use 1–200 letters, digits, ".", "_" or "-": it names the consumer group and internal topics.')
  }
  if (!Array.isArray(options.brokers) || options.brokers.length === 0) {
    throw invalid('brokers', 'is empty', 'Give at least one "host:port", e.g. brokers: ["127.0.0.1:9092"].')
  }
  const guarantee = options.processingGuarantee
  if (guarantee !== undefined && guarantee !== 'exactly-once' && guarantee !== 'at-least-once') {
    throw invalid('processingGuarantee', `is ${JSON.stringify(guarantee)}`, "Use 'exactly-once' or 'at-least-once'.")
  }
  for (const field of ['commitIntervalMs', 'commitEvery', 'maxUncommittedStateWrites'] as const) {
    const value = options[field]
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) throw invalid(field, `is ${String(value)}`, 'Use a whole number ≥ 0.')
  }
}
