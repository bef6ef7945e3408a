/**
 * Windows and aggregations on event time, with Kafka Streams' semantics: tumbling, hopping,
 * sliding and session windows with grace periods, aggregators, and the per-partition engine
 * that keeps window state in a state store.
 */
export { agg, collect, count, max, mean, min, reduce, sum } from './aggregators.ts'
export type { Aggregator, AggregatorResult, NumericColumn } from './aggregators.ts'
export { hopping, session, sliding, tumbling, windowStarts } from './definitions.ts'
export type { HoppingWindows, SessionWindows, SlidingWindows, TumblingWindows, WindowDefinition, WindowOptions } from './definitions.ts'
export { defaultKeyCodec } from '../state/index.ts'
export type { KeyCodec } from '../state/index.ts'
export type { LateRecordLogger } from './late-records.ts'
export { WindowedAggregation } from './windowed-aggregation.ts'
export type { EmitMode, WindowedAggregationOptions, WindowResult } from './windowed-aggregation.ts'
