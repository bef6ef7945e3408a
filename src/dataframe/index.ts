/** StreamingDataFrame: typed, lazy pipelines compiled into one function per record. */
export { StreamingDataFrame } from './dataframe.ts'
export type { PrintOptions, RecordFunction } from './dataframe.ts'
export { Topology } from './graph.ts'
export { compileTopology } from './compile.ts'
export type { RecordHandler, RecordSink } from './compile.ts'
export type { Headers, RecordMetadata } from './metadata.ts'
export { noHeaders } from './metadata.ts'
export type { Topic } from './topic.ts'
