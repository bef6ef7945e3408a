/**
 * Admin: topics (create, describe, delete, list), consumer groups and their lag.
 */
import { Admin as ClientAdmin, ConfigResourceTypes, FetchIsolationLevels } from '@platformatic/kafka'
import type { SluiceError } from '../errors.ts'
import { clientConnection, secretsOf, type KafkaConnectionOptions } from './connection.ts'
import { protocolErrorNames, wrapKafkaError } from './errors.ts'

export interface NewTopic {
  name: string
  /** Default 1. */
  partitions?: number
  /** Default 1 (right for the local broker; use 3 on a production cluster). */
  replicationFactor?: number
  /** Topic configs, e.g. `{ 'cleanup.policy': 'compact' }`. */
  configs?: Record<string, string>
}

export interface TopicDescription {
  name: string
  partitions: number
  replicationFactor: number
  /** Every config of the topic, defaults included. */
  configs: Record<string, string>
}

export interface PartitionLag {
  topic: string
  partition: number
  /** The group's committed offset; -1n when it has committed none. */
  committedOffset: bigint
  /** The last stable offset (end of committed data, what read_committed consumers can reach). */
  endOffset: bigint
  lag: bigint
}

export class KafkaAdmin {
  readonly #client: ClientAdmin
  readonly #options: KafkaConnectionOptions

  constructor(options: KafkaConnectionOptions) {
    this.#options = options
    this.#client = new ClientAdmin(clientConnection(options, 'admin'))
  }

  /** Creates the topics; with `ifNotExists` (default true) topics that exist are left as they are. */
  async createTopics(topics: NewTopic[], { ifNotExists = true } = {}): Promise<void> {
    const existing = ifNotExists ? new Set(await this.listTopics()) : new Set<string>()
    for (const topic of topics.filter((candidate) => !existing.has(candidate.name))) {
      await this.#call(`Creating topic "${topic.name}"`, async () => {
        try {
          await this.#client.createTopics({
            topics: [topic.name],
            partitions: topic.partitions ?? 1,
            replicas: topic.replicationFactor ?? 1,
            configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
          })
        } catch (error) {
          // Another client created it between our listing and our request: that is what was wanted.
          if (!(ifNotExists && protocolErrorNames(error).includes('TOPIC_ALREADY_EXISTS'))) throw error
        }
      })
    }
    await this.#waitForLeaders(topics.map((topic) => topic.name))
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const metadata = await this.#call(`Describing topic "${name}"`, () => this.#client.metadata({ topics: [name], forceUpdate: true }))
    const topic = metadata.topics.get(name)
    const [description] = await this.#call(`Reading configs of topic "${name}"`, () =>
      this.#client.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: name }] }),
    )
    if (topic === undefined || description === undefined) throw this.#wrap(new Error(`topic "${name}" not found`), `Describing topic "${name}"`)
    return {
      name,
      partitions: topic.partitionsCount,
      replicationFactor: topic.partitions[0]?.replicas.length ?? 0,
      configs: Object.fromEntries(description.configs.map((config) => [config.name, config.value ?? ''])),
    }
  }

  /** Deletes the topics and returns once the cluster's metadata no longer lists them. */
  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return
    await this.#call(`Deleting topics ${names.join(', ')}`, () => this.#client.deleteTopics({ topics: names }))
    const deadline = Date.now() + 30_000
    while ((await this.listTopics()).some((name) => names.includes(name))) {
      if (Date.now() > deadline) throw this.#wrap(new Error(`topics ${names.join(', ')} are still listed 30 s after their deletion`), 'Deleting topics')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /** Topic names, internal topics (`__consumer_offsets`, …) left out. */
  async listTopics(): Promise<string[]> {
    return this.#call('Listing topics', () => this.#client.listTopics())
  }

  async listConsumerGroups(): Promise<Array<{ groupId: string; state: string }>> {
    const groups = await this.#call('Listing consumer groups', () => this.#client.listGroups())
    return [...groups.values()].map((group) => ({ groupId: group.id, state: group.state }))
  }

  /** For each partition of these topics: the group's committed offset, the end of committed data, and the lag between them. */
  async consumerLag(groupId: string, topics: string[]): Promise<PartitionLag[]> {
    const metadata = await this.#call('Reading topic metadata', () => this.#client.metadata({ topics, forceUpdate: true }))
    const [committed] = await this.#call(`Reading offsets of group "${groupId}"`, () => this.#client.listConsumerGroupOffsets({ groups: [groupId] }))
    const ends = await this.#call('Reading end offsets', () =>
      this.#client.listOffsets({
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
        topics: topics.map((name) => ({
          name,
          partitions: Array.from({ length: metadata.topics.get(name)?.partitionsCount ?? 0 }, (_, partitionIndex) => ({ partitionIndex, timestamp: -1n })),
        })),
      }),
    )
    return ends.flatMap((topic) =>
      topic.partitions.map((partition) => {
        const committedOffset =
          committed?.topics.find((entry) => entry.name === topic.name)?.partitions.find((entry) => entry.partitionIndex === partition.partitionIndex)
            ?.committedOffset ?? -1n
        const from = committedOffset < 0n ? 0n : committedOffset
        return { topic: topic.name, partition: partition.partitionIndex, committedOffset, endOffset: partition.offset, lag: partition.offset - from }
      }),
    )
  }

  async close(): Promise<void> {
    await this.#client.close()
  }

  /** A new topic takes a moment to get partition leaders; producing before then fails or, worse, retries. */
  async #waitForLeaders(names: string[]): Promise<void> {
    const deadline = Date.now() + 30_000
    for (;;) {
      const metadata = await this.#call('Reading topic metadata', () => this.#client.metadata({ topics: names, forceUpdate: true })).catch(() => undefined)
      const ready = metadata !== undefined && names.every((name) => metadata.topics.get(name)?.partitions.every((partition) => partition.leader >= 0) === true)
      if (ready) return
      if (Date.now() > deadline) throw this.#wrap(new Error(`topics ${names.join(', ')} have no leader after 30 s`), 'Creating topics')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async #call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw this.#wrap(error, what)
    }
  }

  #wrap(error: unknown, what: string): SluiceError {
    return wrapKafkaError(error, what, 'KAFKA_ADMIN', secretsOf(this.#options), this.#options.brokers)
  }
}
