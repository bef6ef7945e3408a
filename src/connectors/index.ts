/** Connectors: the Source API, the runner that brings sources into Kafka exactly once, and the Delta (Databricks) source. */
export type { Source, SourceBatch, SourceOffset } from './source.ts'
export { SourceRunner } from './source-runner.ts'
export type { SourceRunnerOptions, SourceStats } from './source-runner.ts'
export { deltaSource } from './delta-source.ts'
export type { DeltaOffset, DeltaSourceOptions } from './delta-source.ts'
export { sqlSource } from './sql-source.ts'
export type { SqlOffset, SqlSourceMode, SqlSourceOptions } from './sql-source.ts'
