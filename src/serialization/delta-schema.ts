/**
 * The Kafka schema of a Delta table's rows: Avro, Protobuf or JSON Schema derived from the table
 * schema as the Delta protocol writes it (the `schemaString` of a metaData action). Nullable
 * columns become optional (Avro: a union with null, default null), so a table that gains nullable
 * columns yields a schema the registry accepts as BACKWARD compatible.
 *
 * The JS value of each Delta type, as the serdes read and write it, is in the README's table.
 */
import { SluiceError } from '../errors.ts'

/** A Delta table schema: the protocol's JSON schema serialization (a struct at the top). */
export interface DeltaStructType {
  type: 'struct'
  fields: DeltaStructField[]
}

export interface DeltaStructField {
  name: string
  type: DeltaDataType
  nullable: boolean
  metadata?: Record<string, unknown>
}

export interface DeltaArrayType {
  type: 'array'
  elementType: DeltaDataType
  containsNull: boolean
}

export interface DeltaMapType {
  type: 'map'
  keyType: DeltaDataType
  valueType: DeltaDataType
  valueContainsNull: boolean
}

/** A primitive type name (`long`, `decimal(10,2)`, `timestamp_ntz`, …) or a nested type. */
export type DeltaDataType = string | DeltaStructType | DeltaArrayType | DeltaMapType

export interface DeltaToAvroOptions {
  /** Name of the top-level record. Default `Row`. */
  name?: string
  namespace?: string
  /** Decimals as Avro's logical decimal on bytes (default), or as strings. */
  decimal?: 'bytes' | 'string'
}

type AvroField = { name: string; type: unknown; default?: null; doc?: string }

/** The Avro record schema of the table's rows. */
export function deltaToAvro(schema: DeltaStructType, options: DeltaToAvroOptions = {}): Record<string, unknown> {
  const decimalAs = options.decimal ?? 'bytes'
  // Nested records inherit the top-level record's namespace, as Avro names do.
  const record = (struct: DeltaStructType, name: string, path: string): Record<string, unknown> => ({
    type: 'record',
    name,
    ...(options.namespace !== undefined && path === '' ? { namespace: options.namespace } : {}),
    fields: struct.fields.map((field): AvroField => {
      const fieldPath = path === '' ? field.name : `${path}.${field.name}`
      checkName(field.name, fieldPath, 'Avro')
      const type = convert(field.type, `${name}_${field.name}`, fieldPath)
      const comment = field.metadata?.comment
      return {
        name: field.name,
        type: field.nullable ? ['null', type] : type,
        ...(field.nullable ? { default: null } : {}),
        ...(typeof comment === 'string' ? { doc: comment } : {}),
      }
    }),
  })
  const convert = (type: DeltaDataType, name: string, path: string): unknown => {
    if (typeof type === 'string') return avroPrimitive(type, path, decimalAs)
    if (type.type === 'struct') return record(type, name, path)
    if (type.type === 'array') {
      const items = convert(type.elementType, `${name}_element`, `${path}[]`)
      return { type: 'array', items: type.containsNull ? ['null', items] : items }
    }
    const values = convert(type.valueType, `${name}_value`, `${path}{}`)
    const nullableValues = type.valueContainsNull ? ['null', values] : values
    if (type.keyType === 'string') return { type: 'map', values: nullableValues }
    // Avro maps have string keys; other keys become a list of entries.
    const key = convert(type.keyType, `${name}_key`, `${path}{key}`)
    return { type: 'array', items: { type: 'record', name: `${name}_entry`, fields: [{ name: 'key', type: key }, { name: 'value', type: nullableValues }] } }
  }
  return record(schema, options.name ?? 'Row', '')
}

function avroPrimitive(type: string, path: string, decimalAs: 'bytes' | 'string'): unknown {
  switch (type) {
    case 'string':
      return 'string'
    case 'long':
      return 'long'
    case 'integer':
    case 'short':
    case 'byte':
      return 'int'
    case 'float':
      return 'float'
    case 'double':
      return 'double'
    case 'boolean':
      return 'boolean'
    case 'binary':
      return 'bytes'
    case 'date':
      return { type: 'int', logicalType: 'date' }
    case 'timestamp':
      return { type: 'long', logicalType: 'timestamp-micros' }
    case 'timestamp_ntz':
      return { type: 'long', logicalType: 'local-timestamp-micros' }
  }
  const decimal = parseDecimal(type)
  if (decimal !== undefined) return decimalAs === 'string' ? 'string' : { type: 'bytes', logicalType: 'decimal', precision: decimal.precision, scale: decimal.scale }
  throw unsupported(type, path, 'Avro')
}

export interface DeltaToProtobufOptions {
  /** Name of the top-level message. Default `Row`. */
  name?: string
  /** The .proto package, e.g. `sluice.orders`. */
  package?: string
}

export interface ProtobufSchemaText {
  /** The .proto source to register. */
  schema: string
  /** The full name of the row message. */
  messageType: string
  /** The .proto files it imports (the well-known Timestamp only), for registries that need them named. */
  imports: string[]
}

/**
 * The proto3 schema of the table's rows. Field numbers follow column positions, so columns added
 * at the end (as Delta adds them) keep every earlier number. Nullable columns are `optional`.
 */
export function deltaToProtobuf(schema: DeltaStructType, options: DeltaToProtobufOptions = {}): ProtobufSchemaText {
  const name = options.name ?? 'Row'
  let usesTimestamp = false
  const message = (struct: DeltaStructType, messageName: string, path: string, indent: string): string[] => {
    const nested: string[] = []
    const fields = struct.fields.map((field, position) => {
      const fieldPath = path === '' ? field.name : `${path}.${field.name}`
      checkName(field.name, fieldPath, 'Protobuf')
      const typeName = (type: DeltaDataType, suffix: string, where: string): string => {
        if (typeof type === 'string') {
          const scalar = protobufScalar(type, where)
          if (scalar === 'google.protobuf.Timestamp') usesTimestamp = true
          return scalar
        }
        if (type.type === 'struct') {
          const nestedName = `${pascal(field.name)}${suffix}`
          nested.push(...message(type, nestedName, where, `${indent}  `))
          return nestedName
        }
        throw new SluiceError('CONFIG_INVALID', `Column "${where}" nests an array or map directly in an array or map, which Protobuf cannot express`, {
          fix: 'Use Avro or JSON Schema for this table, or wrap the inner collection in a struct.',
        })
      }
      let declaration: string
      const type = field.type
      if (typeof type === 'object' && type.type === 'array') {
        declaration = `repeated ${typeName(type.elementType, 'Element', `${fieldPath}[]`)}`
      } else if (typeof type === 'object' && type.type === 'map') {
        const key = typeof type.keyType === 'string' ? protobufScalar(type.keyType, `${fieldPath}{key}`) : undefined
        const value = typeName(type.valueType, 'Value', `${fieldPath}{}`)
        if (key !== undefined && PROTOBUF_MAP_KEYS.has(key)) {
          declaration = `map<${key}, ${value}>`
        } else {
          // Protobuf map keys are integers, strings or bools; other keys become a list of entries.
          const entry = `${pascal(field.name)}Entry`
          nested.push(`${indent}  message ${entry} {`, `${indent}    ${typeName(type.keyType, 'Key', `${fieldPath}{key}`)} key = 1;`, `${indent}    ${value} value = 2;`, `${indent}  }`)
          declaration = `repeated ${entry}`
        }
      } else {
        declaration = `${field.nullable && typeof type === 'string' ? 'optional ' : ''}${typeName(type, '', fieldPath)}`
      }
      return `${indent}  ${declaration} ${field.name} = ${position + 1};`
    })
    return [`${indent}message ${messageName} {`, ...nested, ...fields, `${indent}}`]
  }
  const body = message(schema, name, '', '')
  const imports = usesTimestamp ? ['google/protobuf/timestamp.proto'] : []
  const header = ['syntax = "proto3";', ...(options.package !== undefined ? [`package ${options.package};`] : []), ...imports.map((file) => `import "${file}";`), '']
  return { schema: `${[...header, ...body].join('\n')}\n`, messageType: options.package !== undefined ? `${options.package}.${name}` : name, imports }
}

const PROTOBUF_MAP_KEYS = new Set(['string', 'int32', 'int64', 'bool'])

function protobufScalar(type: string, path: string): string {
  switch (type) {
    case 'string':
      return 'string'
    case 'long':
      return 'int64'
    case 'integer':
    case 'short':
    case 'byte':
      return 'int32'
    case 'float':
      return 'float'
    case 'double':
      return 'double'
    case 'boolean':
      return 'bool'
    case 'binary':
      return 'bytes'
    case 'date':
      // Days since 1970-01-01: Protobuf's well-known types have no date.
      return 'int32'
    case 'timestamp':
    case 'timestamp_ntz':
      return 'google.protobuf.Timestamp'
  }
  if (parseDecimal(type) !== undefined) return 'string'
  throw unsupported(type, path, 'Protobuf')
}

export interface DeltaToJsonSchemaOptions {
  /** The schema's title (used by the RecordName strategies). Default `Row`. */
  title?: string
}

/**
 * The JSON Schema (draft-07) of the table's rows, as the JSON Schema serde writes them: objects
 * with a closed content model (adding an optional property is then BACKWARD compatible), longs as
 * integers, decimals as strings, timestamps as ISO-8601 text, binary as base64.
 */
export function deltaToJsonSchema(schema: DeltaStructType, options: DeltaToJsonSchemaOptions = {}): Record<string, unknown> {
  const nullable = (type: Record<string, unknown>, isNullable: boolean): Record<string, unknown> => (isNullable ? { oneOf: [{ type: 'null' }, type] } : type)
  const convert = (type: DeltaDataType, path: string): Record<string, unknown> => {
    if (typeof type === 'string') return jsonPrimitive(type, path)
    if (type.type === 'struct') {
      return {
        type: 'object',
        properties: Object.fromEntries(type.fields.map((field) => [field.name, nullable(convert(field.type, path === '' ? field.name : `${path}.${field.name}`), field.nullable)])),
        required: type.fields.filter((field) => !field.nullable).map((field) => field.name),
        additionalProperties: false,
      }
    }
    if (type.type === 'array') return { type: 'array', items: nullable(convert(type.elementType, `${path}[]`), type.containsNull) }
    const value = nullable(convert(type.valueType, `${path}{}`), type.valueContainsNull)
    if (type.keyType === 'string') return { type: 'object', additionalProperties: value }
    const key = convert(type.keyType, `${path}{key}`)
    return { type: 'array', items: { type: 'object', properties: { key, value }, required: ['key', 'value'], additionalProperties: false } }
  }
  return { $schema: 'http://json-schema.org/draft-07/schema#', title: options.title ?? 'Row', ...convert(schema, '') }
}

function jsonPrimitive(type: string, path: string): Record<string, unknown> {
  switch (type) {
    case 'string':
      return { type: 'string' }
    case 'long':
      return { type: 'integer' }
    case 'integer':
      return { type: 'integer', minimum: -2147483648, maximum: 2147483647 }
    case 'short':
      return { type: 'integer', minimum: -32768, maximum: 32767 }
    case 'byte':
      return { type: 'integer', minimum: -128, maximum: 127 }
    case 'float':
    case 'double':
      return { type: 'number' }
    case 'boolean':
      return { type: 'boolean' }
    case 'binary':
      return { type: 'string', contentEncoding: 'base64' }
    case 'date':
      return { type: 'string', format: 'date' }
    case 'timestamp':
      return { type: 'string', format: 'date-time' }
    case 'timestamp_ntz':
      // Wall-clock time without a zone, written by the serde as UTC ("…Z").
      return { type: 'string', format: 'date-time' }
  }
  const decimal = parseDecimal(type)
  if (decimal !== undefined) return { type: 'string', pattern: '^-?\\d+(\\.\\d+)?$' }
  throw unsupported(type, path, 'JSON Schema')
}

function parseDecimal(type: string): { precision: number; scale: number } | undefined {
  const match = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(type)
  if (match !== null) return { precision: Number(match[1]), scale: Number(match[2]) }
  return type === 'decimal' ? { precision: 10, scale: 0 } : undefined
}

function checkName(name: string, path: string, format: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new SluiceError('CONFIG_INVALID', `Column "${path}" cannot be a ${format} field name (letters, digits and _ only, not starting with a digit)`, {
      fix: 'Rename the column (or select it under another name), or use JSON Schema, which takes any column name.',
    })
  }
}

function unsupported(type: string, path: string, format: string): SluiceError {
  return new SluiceError('DELTA_UNSUPPORTED_FEATURE', `Column "${path}" has Delta type "${type}", which has no ${format} mapping in Sluice`, {
    fix: 'Cast the column to a supported type (string, numbers, boolean, binary, decimal, date, timestamp, struct, array, map) in a view.',
  })
}

function pascal(name: string): string {
  return name.replace(/(^|_)([a-z])/g, (_, __, letter: string) => letter.toUpperCase())
}

