/**
 * Sluice's main entry point: what a pipeline needs. The modules have entry points of their own
 * (`sluice/kafka`, `sluice/delta`, `sluice/databricks`, …) for everything else.
 */
export { Application } from './app/index.ts'
export type { ApplicationOptions, ApplicationStats, AppTopic, ErrorPolicy, ProcessingGuarantee, TopicConfig, TopicOptions } from './app/index.ts'
export { StreamingDataFrame, WindowedDataFrame } from './dataframe/index.ts'
export type { Headers, RecordMetadata, State, WindowResult } from './dataframe/index.ts'
export { collect, count, max, mean, min, reduce, sum } from './windows/index.ts'
export type { Aggregator } from './windows/index.ts'
export { SluiceError } from './errors.ts'
export type { SluiceErrorCode } from './errors.ts'
export * from './serialization/index.ts'
