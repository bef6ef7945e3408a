/**
 * The local Apache Kafka broker for development, demos and tests: fetched from Maven Central,
 * run as one KRaft node on 127.0.0.1. Production users point Sluice at their own Kafka instead.
 */
export { localKafkaStatus, startLocalKafka, stopLocalKafka } from './broker.ts'
export type { LocalKafkaOptions, LocalKafkaStatus, StartedLocalKafka } from './broker.ts'
export { DEFAULT_KAFKA_VERSION } from './install.ts'
