/**
 * Topics as an Application knows them: a name, the serializers of keys and values, the settings
 * to create the topic with when it is missing, and what to do with a record that fails.
 */
import type { Topic } from '../dataframe/index.ts'
import type { NewTopic } from '../kafka/index.ts'
import { json, string, type Serde } from '../serialization/index.ts'
import { internalSerde } from './internal-serde.ts'

/**
 * What happens to a record whose deserialization or processing throws:
 * - `'fail'` stops the application with the error (nothing after the record is committed);
 * - `'skip'` counts it, logs it (at a bounded rate) and goes on;
 * - `{ deadLetterTopic }` writes the original message there, with the error and its source in
 *   headers, within the same checkpoint as the rest of the output, and goes on.
 */
export type ErrorPolicy = 'fail' | 'skip' | { deadLetterTopic: string }

export interface TopicConfig {
  /** Partitions of the topic when Sluice creates it. Default 1. */
  partitions?: number
  /** Replication factor when Sluice creates it. Default 1 (right for a local broker; use 3 in production). */
  replicationFactor?: number
  /** Topic configs such as `{ 'cleanup.policy': 'compact', 'retention.ms': '86400000' }`. */
  configs?: Record<string, string>
}

export interface TopicOptions<K, V> {
  /** Serializer of message keys. Default `string()`. */
  key?: Serde<K>
  /** Serializer of message values. Default `json()`. */
  value?: Serde<V>
  /** Settings to create the topic with, if it does not exist when the application starts. */
  config?: TopicConfig
  /** Records of this topic that fail to deserialize or to process. Default `'fail'`. */
  onError?: ErrorPolicy
}

/** A topic of an Application: what dataframes read and write, with its serializers. */
export interface AppTopic<K, V> extends Topic<K, V> {
  readonly keySerde: Serde<K>
  readonly valueSerde: Serde<V>
  readonly config: TopicConfig
  readonly onError: ErrorPolicy
}

export function defineTopic<K, V>(name: string, options: TopicOptions<K, V>): AppTopic<K, V> {
  if (name.trim() === '' || !/^[a-zA-Z0-9._-]{1,249}$/.test(name)) {
    throw new TypeError(`app.topic("${name}"): a Kafka topic name is 1–249 characters of letters, digits, ".", "_" and "-"`)
  }
  const onError = options.onError ?? 'fail'
  if (typeof onError === 'object' && onError.deadLetterTopic === name) {
    throw new TypeError(`app.topic("${name}"): onError.deadLetterTopic must be another topic than the one it guards`)
  }
  return {
    name,
    keySerde: options.key ?? (string as unknown as Serde<K>),
    valueSerde: options.value ?? json<V>(),
    config: options.config ?? {},
    onError,
  }
}

/** The topic a groupBy writes to and reads back from: any JS key and value, through msgpack. */
export function defineInternalTopic(name: string, config: TopicConfig): AppTopic<unknown, unknown> {
  return { name, keySerde: internalSerde, valueSerde: internalSerde, config, onError: 'fail' }
}

export function newTopicOf(topic: AppTopic<unknown, unknown>): NewTopic {
  return {
    name: topic.name,
    partitions: topic.config.partitions ?? 1,
    replicationFactor: topic.config.replicationFactor ?? 1,
    ...(topic.config.configs === undefined ? {} : { configs: topic.config.configs }),
  }
}
