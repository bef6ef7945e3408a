/** Serializers for message keys and values. */
export { bytes, double, int32, int64, json, string } from './basic.ts'
export type { SerializationContext, Serde } from './serde.ts'
