/**
 * Runs one consumed message through the compiled pipelines of its topic: deserializes it, calls
 * the topic's handler, and serializes what the pipelines output into the current checkpoint. A
 * failure at any stage follows the source topic's error policy; a failed record's partial output
 * is dropped, so a record contributes all of its output or none.
 */
import { compileTopology, type Headers, type RecordHandler, type RecordMetadata, type RecordSink, type StateAccess, type Topic, type Topology } from '../dataframe/index.ts'
import { SluiceError } from '../errors.ts'
import type { ConsumedMessageWithSource } from '../kafka/index.ts'
import { RateLimitedLog, type Logger } from '../observability/logger.ts'
import type { Checkpoint } from './checkpoint.ts'
import { PartitionNotAssigned } from './state.ts'
import type { AppTopic } from './topics.ts'

export type FailureStage = 'deserialize' | 'process' | 'serialize'

/** Counters an operator watches (exposed as metrics). */
export interface ProcessingCounters {
  processed: number
  skipped: number
  deadLettered: number
  /** Messages with a null value (tombstones), which pipelines do not see. */
  tombstones: number
}

/** Thrown by the sink so that the processor can tell a serialization failure from a pipeline's own. */
class SerializeFailure extends Error {}

export class RecordProcessor {
  readonly counters: ProcessingCounters = { processed: 0, skipped: 0, deadLettered: 0, tombstones: 0 }
  readonly #handlers: Map<string, RecordHandler>
  readonly #topics: ReadonlyMap<string, AppTopic<unknown, unknown>>
  readonly #skipLog: RateLimitedLog
  #checkpoint: Checkpoint | undefined

  constructor(topology: Topology, topics: ReadonlyMap<string, AppTopic<unknown, unknown>>, logger: Logger, state?: StateAccess) {
    this.#topics = topics
    this.#handlers = compileTopology(topology, this.#sink(), state)
    this.#skipLog = new RateLimitedLog((count, detail) => logger.warn({ ...detail, skippedSinceLastLine: count }, 'skipped records that failed (onError: skip)'))
  }

  /** The topics the pipelines read, repartition topics included. */
  get sourceTopics(): string[] {
    return [...this.#handlers.keys()]
  }

  /** Processes one message into `checkpoint`; throws a SluiceError when the topic's policy is 'fail'. */
  process(message: ConsumedMessageWithSource, checkpoint: Checkpoint): void {
    this.#checkpoint = checkpoint
    const topic = this.#topic(message.topic)
    const handler = this.#handlers.get(message.topic)
    if (handler === undefined) return
    if (message.value === null) {
      this.counters.tombstones++
      return
    }
    let key: unknown
    let value: unknown
    try {
      key = message.key === null ? null : topic.keySerde.deserialize(message.key, { topic: topic.name, isKey: true })
      value = topic.valueSerde.deserialize(message.value, { topic: topic.name, isKey: false })
    } catch (error) {
      this.#fail('deserialize', error, message, topic, checkpoint)
      return
    }
    const meta: RecordMetadata<unknown> = {
      key,
      timestamp: message.timestamp,
      headers: message.headers,
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
    }
    const mark = checkpoint.mark()
    try {
      handler(value, meta)
    } catch (error) {
      checkpoint.rollbackTo(mark)
      // Not the record's fault: the partition moved to another instance; the checkpoint is given up.
      if (error instanceof PartitionNotAssigned) throw error
      this.#fail(error instanceof SerializeFailure ? 'serialize' : 'process', error instanceof SerializeFailure ? error.cause : error, message, topic, checkpoint)
      return
    }
    this.counters.processed++
    checkpoint.flushChunk()
  }

  #sink(): RecordSink {
    return {
      send: (target: Topic<unknown, unknown>, key: unknown, value: unknown, timestamp: number, headers: Headers) => {
        const topic = this.#topic(target.name)
        let keyBytes: Buffer | null
        let valueBytes: Buffer | null
        try {
          keyBytes = key === null || key === undefined ? null : topic.keySerde.serialize(key, { topic: topic.name, isKey: true })
          valueBytes = value === null || value === undefined ? null : topic.valueSerde.serialize(value, { topic: topic.name, isKey: false })
        } catch (error) {
          throw new SerializeFailure(`serializing for "${topic.name}"`, { cause: error })
        }
        // The checkpoint is set before any handler runs; sends happen only inside `process`.
        ;(this.#checkpoint as Checkpoint).send({ topic: topic.name, key: keyBytes, value: valueBytes, timestamp, headers: headers as Map<string, Buffer> })
      },
    }
  }

  #topic(name: string): AppTopic<unknown, unknown> {
    const topic = this.#topics.get(name)
    if (topic === undefined) {
      throw new SluiceError('APP_CONFIG', `A pipeline uses topic "${name}", which this application did not define`, {
        fix: `Create it with app.topic("${name}", …) and pass that object to app.dataframe() or toTopic().`,
      })
    }
    return topic
  }

  #fail(stage: FailureStage, error: unknown, message: ConsumedMessageWithSource, topic: AppTopic<unknown, unknown>, checkpoint: Checkpoint): void {
    const reason = error instanceof Error ? error.message : String(error)
    const where = `"${message.topic}" partition ${message.partition} offset ${message.offset}`
    const policy = topic.onError
    if (policy === 'skip') {
      this.counters.skipped++
      this.#skipLog.record({ stage, topic: message.topic, partition: message.partition, offset: String(message.offset), error: reason })
      return
    }
    if (policy === 'fail') {
      throw new SluiceError(stage === 'deserialize' ? 'DESERIALIZATION_FAILED' : stage === 'serialize' ? 'SERIALIZATION_FAILED' : 'PROCESSING_FAILED', `Record ${where} failed to ${stage}: ${reason}`, {
        fix: `Fix the record or the pipeline, or set onError on app.topic("${message.topic}") to 'skip' or { deadLetterTopic } to let such records through.`,
        cause: error,
      })
    }
    const headers = new Map(message.headers)
    headers.set('sluice.error.stage', Buffer.from(stage))
    headers.set('sluice.error.message', Buffer.from(reason))
    headers.set('sluice.error.class', Buffer.from(error instanceof Error ? error.name : typeof error))
    headers.set('sluice.source.topic', Buffer.from(message.topic))
    headers.set('sluice.source.partition', Buffer.from(String(message.partition)))
    headers.set('sluice.source.offset', Buffer.from(String(message.offset)))
    checkpoint.send({ topic: policy.deadLetterTopic, key: message.key, value: message.value, timestamp: message.timestamp, headers })
    this.counters.deadLettered++
    checkpoint.flushChunk()
  }
}
