/**
 * The state stores of a running application: one per (store, source topic partition) of the
 * partitions this instance holds, opened and brought up to their changelog when partitions are
 * assigned (before any of their records is processed), closed when they are revoked. Each
 * checkpoint carries the stores' writes to their changelog topics and commits or drops them
 * with itself (see checkpoint.ts).
 */
import type { StateAccess } from '../dataframe/index.ts'
import { SluiceError } from '../errors.ts'
import { readPartition, type KafkaConnectionOptions, type NewTopic, type OutgoingMessage, type TopicPartition } from '../kafka/index.ts'
import type { Logger } from '../observability/logger.ts'
import { changelogTopic, changelogTopicName, restoreChangelog, restoreStartOffset, StateStoreManager, type FetchedBatch, type PartitionStore } from '../state/index.ts'
import type { ProducedOffsets, StateParticipant } from './checkpoint.ts'

/** Changelog records per produce request: keeps every request well under the broker's size limit. */
const CHANGELOG_CHUNK = 2000
/** Least time between two restore progress lines of one store, ms. */
const PROGRESS_LOG_MS = 2000

/** A store was asked for a partition this instance does not hold (its records came from before a rebalance). */
export class PartitionNotAssigned extends Error {}

export interface ApplicationStateOptions {
  stateDir: string
  applicationId: string
  /** The stores each source topic's records reach. */
  storesBySource: ReadonlyMap<string, ReadonlySet<string>>
  connection: KafkaConnectionOptions
  logger: Logger
}

export class ApplicationState implements StateAccess, StateParticipant {
  readonly logger: Logger
  readonly #manager: StateStoreManager
  readonly #options: ApplicationStateOptions
  /** Open stores: store name → source topic → stores by partition. */
  readonly #open = new Map<string, Map<string, Array<PartitionStore | undefined>>>()
  /** Stores whose changelog records the current checkpoint sent, with where the last one landed (undefined: not known). */
  #sent = new Map<PartitionStore, bigint | undefined>()

  constructor(options: ApplicationStateOptions) {
    this.#options = options
    this.logger = options.logger
    this.#manager = new StateStoreManager({ stateDir: options.stateDir, applicationId: options.applicationId, logger: options.logger })
  }

  /** The changelog topics to create: compacted, as many partitions as their source topic. */
  changelogTopics(partitionsOf: (sourceTopic: string) => number, replicationFactorOf: (sourceTopic: string) => number): NewTopic[] {
    const topics: NewTopic[] = []
    for (const [source, stores] of this.#options.storesBySource) {
      for (const store of stores) topics.push(changelogTopic(this.#options.applicationId, store, source, partitionsOf(source), replicationFactorOf(source)))
    }
    return topics
  }

  store(name: string, topic: string, partition: number): PartitionStore {
    const store = this.#open.get(name)?.get(topic)?.[partition]
    if (store === undefined) throw new PartitionNotAssigned(`State store "${name}" of ${topic}-${partition} is not open: this instance does not hold that partition`)
    return store
  }

  /**
   * Makes the open stores match `assignment`: closes the stores of partitions given up, opens the
   * others and brings each up to the end of its changelog (also stores kept open: another instance
   * may have owned the partition in between). Call it with no checkpoint open.
   */
  async assign(assignment: readonly TopicPartition[]): Promise<void> {
    const wanted = new Set(assignment.map(({ topic, partition }) => `${topic}\u0000${partition}`))
    for (const store of this.#manager.openStores()) {
      if (!wanted.has(`${store.topic}\u0000${store.partition}`)) this.#close(store)
    }
    for (const { topic, partition } of assignment) {
      for (const name of this.#options.storesBySource.get(topic) ?? []) {
        const store = this.#manager.openPartition(name, topic, partition)
        this.#remember(name, topic, partition, store)
        await this.#restore(store)
      }
    }
  }

  /** Writes waiting for their checkpoint, over every open store. */
  uncommittedWrites(): number {
    let writes = 0
    for (const store of this.#manager.openStores()) writes += store.pendingWrites
    return writes
  }

  // StateParticipant: called by the checkpoint.

  async sendChangelog(send: (messages: OutgoingMessage[]) => Promise<ProducedOffsets>): Promise<void> {
    this.#sent = new Map()
    for (const store of this.#manager.openStores()) {
      if (store.pendingWrites === 0) continue
      const records = store.changelogRecords()
      if (records.length === 0) continue
      const topic = changelogTopicName(this.#options.applicationId, store.storeName, store.topic)
      let last: bigint | undefined
      let known = true
      for (let from = 0; from < records.length; from += CHANGELOG_CHUNK) {
        const chunk = records.slice(from, from + CHANGELOG_CHUNK)
        const produced = await send(chunk.map(({ key, value }) => ({ topic, partition: store.partition, key, value })))
        // One answer for the partition: its records are contiguous from baseOffset. Anything else: offset unknown (restore then re-reads a little more).
        const answers = produced.filter((entry) => entry.topic === topic && entry.partition === store.partition)
        if (answers.length === 1) last = (answers[0] as ProducedOffsets[number]).baseOffset + BigInt(chunk.length - 1)
        else known = false
      }
      this.#sent.set(store, known ? last : undefined)
    }
  }

  committed(): void {
    // Only what went to the changelog is committed; writes staged after it belong to the next checkpoint.
    for (const [store, lastOffset] of this.#sent) if (!store.closed) store.commit(lastOffset)
    this.#sent = new Map()
  }

  aborted(): void {
    for (const store of this.#manager.openStores()) store.abort()
    this.#sent = new Map()
  }

  close(): void {
    this.#manager.close()
    this.#open.clear()
  }

  #remember(name: string, topic: string, partition: number, store: PartitionStore | undefined): void {
    let byTopic = this.#open.get(name)
    if (byTopic === undefined) this.#open.set(name, (byTopic = new Map<string, Array<PartitionStore | undefined>>()))
    let byPartition = byTopic.get(topic)
    if (byPartition === undefined) byTopic.set(topic, (byPartition = []))
    byPartition[partition] = store
  }

  #close(store: PartitionStore): void {
    this.#remember(store.storeName, store.topic, store.partition, undefined)
    this.#manager.closePartition(store.storeName, store.topic, store.partition)
    this.logger.info({ store: store.storeName, topic: store.topic, partition: store.partition }, 'state store closed (partition revoked)')
  }

  /** Applies the changelog records after the store's own offset, up to the changelog's last stable offset now. */
  async #restore(store: PartitionStore): Promise<void> {
    const changelog = changelogTopicName(this.#options.applicationId, store.storeName, store.topic)
    const where = { store: store.storeName, topic: store.topic, partition: store.partition, changelog }
    if (store.rebuiltBecause !== undefined) this.logger.warn({ ...where, reason: store.rebuiltBecause }, 'state store rebuilt from its changelog')
    const reader = readPartition({ ...this.#options.connection, topic: changelog, partition: store.partition, fromOffset: restoreStartOffset(store) })
    const started = Date.now()
    try {
      const first = await reader.next()
      if (first.done === true) return
      const highWatermark = first.value.endOffset
      if (highWatermark <= restoreStartOffset(store)) return
      async function* batches(): AsyncGenerator<FetchedBatch> {
        yield first.value as FetchedBatch
        for await (const batch of reader) yield batch
      }
      let lastLog = 0
      const { applied } = await restoreChangelog({
        store,
        records: batches(),
        highWatermark,
        onProgress: ({ restored, total }) => {
          if (Date.now() - lastLog < PROGRESS_LOG_MS) return
          lastLog = Date.now()
          this.logger.info({ ...where, restored, total }, 'restoring state store')
        },
      })
      this.logger.info({ ...where, applied, upTo: String(highWatermark), ms: Date.now() - started }, 'state store restored from its changelog')
    } catch (error) {
      if (error instanceof SluiceError) throw error
      throw new SluiceError('STATE_RESTORE', `Restoring state store "${store.storeName}" (${store.topic}-${store.partition}) from ${changelog} failed`, {
        fix: 'Check that the changelog topic exists and the broker is reachable; the restore resumes where it stopped on the next start.',
        cause: error,
      })
    } finally {
      await reader.return(undefined).catch(() => undefined)
    }
  }
}
