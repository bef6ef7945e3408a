/**
 * Sluice's layer over the Kafka client — the only module that imports it. Producer (idempotent,
 * transactional, batching), consumer (group member, read_committed, explicit commits) and admin.
 */
export { KafkaAdmin } from './admin.ts'
export type { NewTopic, PartitionLag, TopicDescription } from './admin.ts'
export { connectionOptionsOf } from './connection.ts'
export type { KafkaConnectionOptions, SaslOptions } from './connection.ts'
export { KafkaConsumer } from './consumer.ts'
export type { BatchOptions, ConsumerOptions, TopicPartition } from './consumer.ts'
export type { ConsumedMessage, ConsumedMessageWithSource, OutgoingMessage } from './message.ts'
export { isGroupMembershipLost } from './errors.ts'
export { readPartition } from './partition-reader.ts'
export type { PartitionBatch, PartitionReadOptions } from './partition-reader.ts'
export { probeBrokers } from './probe.ts'
export { KafkaProducer, KafkaTransaction } from './producer.ts'
export type { Acks, Compression, ProducerOptions } from './producer.ts'
