/**
 * A table's schema as typed fields, parsed from the `schemaString` of its metadata (Spark SQL's JSON
 * schema, the protocol's "Schema Serialization Format"), with the column-mapping facts a reader needs.
 */
import { SluiceError } from '../errors.ts'

export type PrimitiveTypeName =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'float'
  | 'double'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'

export type DeltaType =
  | { readonly type: PrimitiveTypeName }
  | { readonly type: 'decimal'; readonly precision: number; readonly scale: number }
  | StructType
  | { readonly type: 'array'; readonly elementType: DeltaType; readonly containsNull: boolean }
  | { readonly type: 'map'; readonly keyType: DeltaType; readonly valueType: DeltaType; readonly valueContainsNull: boolean }

export interface StructType {
  readonly type: 'struct'
  readonly fields: readonly StructField[]
}

export interface StructField {
  readonly name: string
  readonly type: DeltaType
  readonly nullable: boolean
  readonly metadata: Readonly<Record<string, unknown>>
}

export type ColumnMappingMode = 'none' | 'name' | 'id'

const PRIMITIVES = new Set<string>(['string', 'long', 'integer', 'short', 'byte', 'float', 'double', 'boolean', 'binary', 'date', 'timestamp', 'timestamp_ntz'])

/** Parses a metadata action's `schemaString`. */
export function parseSchema(schemaString: string): StructType {
  let json: unknown
  try {
    json = JSON.parse(schemaString)
  } catch (error) {
    throw schemaError(`the table schema is not JSON: ${(error as Error).message}`)
  }
  const parsed = parseType(json, 'schema')
  if (parsed.type !== 'struct') throw schemaError('the table schema is not a struct')
  return parsed
}

function parseType(json: unknown, where: string): DeltaType {
  if (typeof json === 'string') {
    if (PRIMITIVES.has(json)) return { type: json as PrimitiveTypeName }
    const decimal = /^decimal\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(json)
    if (decimal !== null) return { type: 'decimal', precision: Number(decimal[1]), scale: Number(decimal[2]) }
    if (json === 'decimal') return { type: 'decimal', precision: 10, scale: 0 }
    throw new SluiceError('DELTA_UNSUPPORTED_FEATURE', `column type "${json}" at ${where} is not supported by this reader`, {
      fix: 'Read this table with an engine that supports the type, or drop the column; Sluice never guesses a type.',
    })
  }
  if (typeof json !== 'object' || json === null) throw schemaError(`type at ${where} is malformed`)
  const node = json as Record<string, unknown>
  switch (node.type) {
    case 'struct': {
      if (!Array.isArray(node.fields)) throw schemaError(`struct at ${where} has no fields`)
      return { type: 'struct', fields: node.fields.map((field, index) => parseField(field, `${where}.fields[${index}]`)) }
    }
    case 'array':
      return { type: 'array', elementType: parseType(node.elementType, `${where}.elementType`), containsNull: node.containsNull !== false }
    case 'map':
      return {
        type: 'map',
        keyType: parseType(node.keyType, `${where}.keyType`),
        valueType: parseType(node.valueType, `${where}.valueType`),
        valueContainsNull: node.valueContainsNull !== false,
      }
    default:
      throw new SluiceError('DELTA_UNSUPPORTED_FEATURE', `column type ${JSON.stringify(node.type)} at ${where} is not supported by this reader`, {
        fix: 'Read this table with an engine that supports the type, or drop the column; Sluice never guesses a type.',
      })
  }
}

function parseField(json: unknown, where: string): StructField {
  if (typeof json !== 'object' || json === null) throw schemaError(`field at ${where} is malformed`)
  const node = json as Record<string, unknown>
  if (typeof node.name !== 'string') throw schemaError(`field at ${where} has no name`)
  const metadata = typeof node.metadata === 'object' && node.metadata !== null ? (node.metadata as Record<string, unknown>) : {}
  return { name: node.name, type: parseType(node.type, `${where} ("${node.name}")`), nullable: node.nullable !== false, metadata }
}

function schemaError(message: string): SluiceError {
  return new SluiceError('DELTA_PROTOCOL', message, { fix: 'The table log is corrupt or written by a non-conforming writer; check its latest metaData action.' })
}

/** The column-mapping mode of a table (`delta.columnMapping.mode`). */
export function columnMappingMode(configuration: Readonly<Record<string, string>>): ColumnMappingMode {
  const mode = configuration['delta.columnMapping.mode'] ?? 'none'
  if (mode === 'none' || mode === 'name' || mode === 'id') return mode
  throw new SluiceError('DELTA_UNSUPPORTED_FEATURE', `column mapping mode "${mode}" is not supported`, {
    fix: 'Sluice reads column mapping modes none, name and id.',
  })
}

/**
 * The name of a field in data files: its physical name under column mapping, else its own name.
 * Columns a writer adds outside the table schema (`_change_type` in change data files) have no
 * physical name and keep their own.
 */
export function physicalName(field: StructField, mode: ColumnMappingMode): string {
  const physical = field.metadata['delta.columnMapping.physicalName']
  return mode !== 'none' && typeof physical === 'string' ? physical : field.name
}

/** The parquet field id of a field under column mapping mode `id`. */
export function fieldId(field: StructField): number | undefined {
  const id = field.metadata['delta.columnMapping.id']
  return typeof id === 'number' ? id : undefined
}
