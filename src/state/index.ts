/**
 * State stores: per (store, topic partition) LMDB databases whose checkpoint writes go to a
 * compacted changelog topic in the checkpoint's Kafka transaction, and come back from it.
 */
export { jsonCodec, structuredCloneCodec } from './codec.ts'
export type { StateCodec } from './codec.ts'
export { changelogTopic, changelogTopicName, restoreChangelog, restoreStartOffset } from './changelog.ts'
export type { FetchedBatch, RestoreChangelogOptions, RestoreProgress } from './changelog.ts'
export { defaultKeyCodec } from './key-codec.ts'
export type { KeyCodec } from './key-codec.ts'
export { KeyedState } from './keyed-state.ts'
export { StateStoreManager } from './manager.ts'
export type { OpenPartitionOptions, StateStoreManagerOptions } from './manager.ts'
export { MAX_KEY_BYTES, PartitionStore } from './partition-store.ts'
export type { ChangelogRecord, RestoreRecord, StateKey } from './partition-store.ts'
