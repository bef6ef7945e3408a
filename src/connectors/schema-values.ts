/**
 * Values in a Kafka schema format, derived from the Delta table's own schema: the source builds
 * the Avro, Protobuf or JSON Schema of its records with src/serialization's Delta mapping, and
 * turns the Delta kernel's row values into the JS forms that format's serde takes.
 */
import type { DeltaDataType, DeltaStructType, SchemaRegistryClient, SchemaSerde, SerializationContext } from '../serialization/index.ts'
import { avroSerde, deltaToAvro, deltaToJsonSchema, deltaToProtobuf, jsonSchemaSerde, protobufSerde } from '../serialization/index.ts'

export type SchemaFormat = 'avro' | 'protobuf' | 'json-schema'

export interface RowSerializer {
  /** The table schema (its JSON text) this serializer was made for. */
  readonly schemaString: string
  serialize(row: Record<string, unknown>, context: SerializationContext): Buffer
}

/**
 * A serializer of the table's rows in `format` (registered in `registry` under the topic's value
 * subject when given, so that registry-aware consumers read them; a compatible schema change of the
 * table registers a new version, an incompatible one is refused by the registry with a clear error).
 */
export async function rowSerializer(format: SchemaFormat, schemaString: string, topic: string, recordName: string, registry: SchemaRegistryClient | undefined): Promise<RowSerializer> {
  const schema = JSON.parse(schemaString) as DeltaStructType
  const settings = registry === undefined ? {} : { registry: { client: registry } }
  let serde: SchemaSerde<Record<string, unknown>>
  if (format === 'avro') {
    serde = avroSerde<object, Record<string, unknown>>({ schema: deltaToAvro(schema, { name: recordName, namespace: 'sluice.delta' }), ...settings })
  } else if (format === 'protobuf') {
    const proto = deltaToProtobuf(schema, { name: recordName, package: 'sluice.delta' })
    serde = protobufSerde<Record<string, unknown>>({ schema: proto.schema, messageType: proto.messageType, ...settings })
  } else {
    serde = jsonSchemaSerde<Record<string, unknown>>({ schema: deltaToJsonSchema(schema, { title: recordName }), ...settings })
  }
  await serde.prepare(topic)
  const convert = structConverter(schema, format)
  return { schemaString, serialize: (row, context) => serde.serialize(convert(row), context) }
}

type Converter = (value: unknown) => unknown

const asIs: Converter = (value) => value

/** The kernel gives binary as Uint8Array, timestamps as ISO strings, dates as 'YYYY-MM-DD'. */
function primitiveConverter(type: string, format: SchemaFormat): Converter {
  if (type === 'binary') {
    return format === 'json-schema'
      ? (value) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value)
      : (value) => (value instanceof Uint8Array ? Buffer.from(value.buffer, value.byteOffset, value.byteLength) : value)
  }
  if (format === 'protobuf' && (type === 'timestamp' || type === 'timestamp_ntz')) {
    return (value) => (typeof value === 'string' ? new Date(type === 'timestamp' ? value : `${value}Z`) : value)
  }
  if (format === 'protobuf' && type === 'date') return (value) => (typeof value === 'string' ? Date.parse(`${value}T00:00:00Z`) / 86_400_000 : value)
  return asIs
}

function converter(type: DeltaDataType, format: SchemaFormat): Converter {
  if (typeof type === 'string') return primitiveConverter(type, format)
  if (type.type === 'struct') return structConverter(type, format) as Converter
  if (type.type === 'array') {
    const element = converter(type.elementType, format)
    if (element === asIs) return asIs
    return (value) => (Array.isArray(value) ? value.map((item) => (item === null ? null : element(item))) : value)
  }
  const entry = converter(type.valueType, format)
  if (entry === asIs) return asIs
  return (value) =>
    value === null || typeof value !== 'object' ? value : Object.fromEntries(Object.entries(value).map(([key, item]) => [key, item === null ? null : entry(item)]))
}

/** Converts the columns that need it; a column missing from a row (written before the column was added) becomes null. */
function structConverter(struct: DeltaStructType, format: SchemaFormat): (row: Record<string, unknown>) => Record<string, unknown> {
  const fields = struct.fields.map((field) => ({ name: field.name, convert: converter(field.type, format) }))
  return (row) => {
    if (row === null || typeof row !== 'object') return row
    const out: Record<string, unknown> = {}
    for (const { name, convert } of fields) {
      const value = row[name]
      out[name] = value === null || value === undefined ? null : convert(value)
    }
    return out
  }
}
