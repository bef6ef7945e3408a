/**
 * Sluice's Delta Lake kernel: reads Delta tables (snapshots at any version or time, and the change
 * data feed) straight from storage. The protocol (delta-io/delta PROTOCOL.md) is the contract.
 * Knows nothing of Kafka.
 */
export { DeltaTable } from './table.ts'
export type { ChangesOptions, ChangesSinceOptions, OpenOptions, SnapshotOptions } from './table.ts'
export { Snapshot, SnapshotScan } from './snapshot.ts'
export type { ScanOptions } from './snapshot.ts'
export type { ChangeBatch, ChangeRow, ChangeType } from './changes.ts'
export type { DeltaRow, DeltaValue } from './read/values.ts'
export type { ColumnBatch } from './read/file-reader.ts'
export type { ColumnMappingMode, DeltaType, PrimitiveTypeName, StructField, StructType } from './schema.ts'
export type { AddFile, DeletionVectorDescriptor, Metadata, Protocol } from './log/actions.ts'
export { SUPPORTED_READER_FEATURES } from './protocol.ts'
export { LocalObjectStore, registerStoreScheme, storeForUri } from './storage/index.ts'
export type { ObjectInfo, ObjectStore, StorageOptions, StoreFactory } from './storage/index.ts'
