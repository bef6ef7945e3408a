/**
 * Registry-backed serializers (Avro, Protobuf, JSON Schema with a Schema Registry) do their network
 * work outside the per-record path: `prepare` once for every topic the application writes, and
 * `prepareBatch` for each fetched batch (it fetches only schema ids not seen before, and sends no
 * request once all are known). Plain serializers have neither and cost nothing here.
 */
import type { ConsumedMessageWithSource } from '../kafka/index.ts'
import type { AppTopic } from './topics.ts'

interface Preparable {
  prepare(topic: string, isKey?: boolean): Promise<void>
  prepareBatch(messages: Iterable<Buffer | null | undefined>): Promise<void>
}

function preparable(serde: unknown): serde is Preparable {
  const candidate = serde as Partial<Preparable>
  return typeof candidate.prepare === 'function' && typeof candidate.prepareBatch === 'function'
}

export class SchemaPreparation {
  /** Source topics whose key or value serde reads through a registry. */
  readonly #readers = new Map<string, { key?: Preparable; value?: Preparable }>()
  readonly #topics: ReadonlyMap<string, AppTopic<unknown, unknown>>
  readonly #sourceTopics: ReadonlySet<string>

  constructor(topics: ReadonlyMap<string, AppTopic<unknown, unknown>>, sourceTopics: readonly string[]) {
    this.#topics = topics
    this.#sourceTopics = new Set(sourceTopics)
    for (const name of sourceTopics) {
      const topic = topics.get(name)
      if (topic === undefined) continue
      const key = preparable(topic.keySerde) ? topic.keySerde : undefined
      const value = preparable(topic.valueSerde) ? topic.valueSerde : undefined
      if (key !== undefined || value !== undefined) this.#readers.set(name, { ...(key === undefined ? {} : { key }), ...(value === undefined ? {} : { value }) })
    }
  }

  /** Resolves the writer schema of every topic the application only writes (registering it, by the serde's settings). */
  async prepareOutputs(): Promise<void> {
    for (const topic of this.#topics.values()) {
      if (this.#sourceTopics.has(topic.name)) continue
      if (preparable(topic.keySerde)) await topic.keySerde.prepare(topic.name, true)
      if (preparable(topic.valueSerde)) await topic.valueSerde.prepare(topic.name, false)
    }
  }

  /** Fetches the schemas a batch's records name and the serdes do not know yet. */
  async prepareBatch(batch: readonly ConsumedMessageWithSource[]): Promise<void> {
    if (this.#readers.size === 0 || batch.length === 0) return
    for (const [name, serdes] of this.#readers) {
      const messages = batch.filter((message) => message.topic === name)
      if (messages.length === 0) continue
      if (serdes.key !== undefined) await serdes.key.prepareBatch(messages.map((message) => message.key))
      if (serdes.value !== undefined) await serdes.value.prepareBatch(messages.map((message) => message.value))
    }
  }
}
