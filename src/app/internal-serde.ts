/**
 * The format of Sluice's own internal topics (repartition): msgpack, which keeps every JS value a
 * pipeline can hold — bigints, Buffers, Dates, nested objects — through the round trip, where JSON
 * would lose or reject some.
 */
import { Packr } from 'msgpackr'
import type { Serde } from '../serialization/index.ts'

const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true })

export const internalSerde: Serde<unknown> = {
  name: 'msgpack',
  serialize: (value) => packr.pack(value),
  deserialize: (data): unknown => packr.unpack(data) as unknown,
}
