/** Serializers for message keys and values, and the Confluent Schema Registry. */
export { bytes, double, int32, int64, json, string } from './basic.ts'
export type { SerializationContext, Serde, SerdeValue } from './serde.ts'

export { avroSerde, avroType } from './avro.ts'
export type { AvroSchema, AvroSerdeOptions } from './avro.ts'
export type { AvroValue } from './avro-types.ts'
export { protobufSerde } from './protobuf.ts'
export type { ProtobufSerdeOptions } from './protobuf.ts'
export { jsonSchemaSerde } from './json-schema.ts'
export type { JsonSchemaSerdeOptions } from './json-schema.ts'
export type { RegistrySettings, SchemaSerde } from './schema-serde.ts'

export { SchemaRegistryClient } from './registry-client.ts'
export type {
  CompatibilityLevel,
  CompatibilityResult,
  RegisteredSchema,
  RegistryAuth,
  SchemaDefinition,
  SchemaReference,
  SchemaRegistryOptions,
  SchemaType,
} from './registry-client.ts'
export { recordNameStrategy, topicNameStrategy, topicRecordNameStrategy } from './subject-name.ts'
export type { SubjectNameStrategy } from './subject-name.ts'
export { decodeMessageIndexes, encodeMessageIndexes, frame, readSchemaId } from './wire-format.ts'

export { deltaToAvro, deltaToJsonSchema, deltaToProtobuf } from './delta-schema.ts'
export type {
  DeltaArrayType,
  DeltaDataType,
  DeltaMapType,
  DeltaStructField,
  DeltaStructType,
  DeltaToAvroOptions,
  DeltaToJsonSchemaOptions,
  DeltaToProtobufOptions,
  ProtobufSchemaText,
} from './delta-schema.ts'
