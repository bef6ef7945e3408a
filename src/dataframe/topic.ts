/**
 * A Kafka topic as pipelines see it: a name, and the types of its keys and values. The Application
 * attaches serializers and topic settings; a dataframe only needs to know what flows through it.
 */
export interface Topic<K, V> {
  readonly name: string
  /** Phantom fields: never set at run time, they carry the key and value types through the API. */
  readonly __key?: K
  readonly __value?: V
}
