/**
 * Avro with `avsc`. Without a registry: the bare binary encoding of the given schema. With one:
 * the Confluent wire format; records are read with the schema they were written with, resolved
 * to the serde's own schema when it has one (Avro schema evolution: added fields take their
 * defaults, removed ones are skipped).
 */
import avro from 'avsc'
import { SluiceError } from '../errors.ts'
import { bigintLongHook, logicalTypes } from './avro-logical-types.ts'
import type { AvroValue } from './avro-types.ts'
import type { SchemaDefinition } from './registry-client.ts'
import { schemaSerde, type Decoder, type Encoder, type RegistrySettings, type ResolvedReference, type SchemaFormat, type SchemaSerde } from './schema-serde.ts'

export type AvroSchema = avro.Schema

export interface AvroSerdeOptions<S> {
  /** The Avro schema (object or JSON text). Optional only with a registry and `writerSchema: 'use-latest'`. */
  schema?: S
  /** Named types the schema refers to: registered subjects, for the registry's schema references. */
  references?: SchemaDefinition['references']
  registry?: RegistrySettings
}

/**
 * An Avro serde whose value type is inferred from the schema literal: `long` → bigint, decimal →
 * string, timestamps and date → Date, bytes/fixed → Buffer, nullable unions → `T | null`.
 */
export function avroSerde<const S extends object | string, T = AvroValue<S>>(options: AvroSerdeOptions<S>): SchemaSerde<T> {
  return schemaSerde(new AvroFormat<T>(options), options.registry)
}

/** avsc type for an Avro schema with Sluice's JS forms (bigint longs, decimal strings, Date timestamps). */
export function avroType(schema: avro.Schema | Record<string, unknown>, references: ResolvedReference[] = []): avro.Type {
  const registry: Record<string, avro.Type> = {}
  const options = { logicalTypes, typeHook: bigintLongHook, registry, assertLogicalTypes: true }
  for (const reference of references) avro.Type.forSchema(JSON.parse(reference.schema.schema) as avro.Schema, options)
  return avro.Type.forSchema(schema as avro.Schema, options)
}

class AvroFormat<T> implements SchemaFormat<T> {
  readonly name = 'Avro'
  readonly schema: SchemaDefinition | undefined
  readonly recordName: string | undefined
  readonly #ownType: avro.Type | undefined

  constructor(options: AvroSerdeOptions<unknown>) {
    if (options.schema === undefined) return
    const parsed = (typeof options.schema === 'string' ? JSON.parse(options.schema) : options.schema) as avro.Schema
    // References are resolved from the registry in prepare(); a bare serde must be self-contained.
    this.#ownType = options.references === undefined || options.references.length === 0 ? compile(parsed, []) : undefined
    this.schema = { schemaType: 'AVRO', schema: JSON.stringify(parsed), references: options.references ?? [] }
    this.recordName = typeof parsed === 'object' && !Array.isArray(parsed) && 'name' in parsed ? fullName(parsed as { name: string; namespace?: string }) : undefined
  }

  encoder(schema: SchemaDefinition, references: ResolvedReference[]): Encoder<T> {
    const type = this.#ownType !== undefined && schema === this.schema ? this.#ownType : compile(JSON.parse(schema.schema) as avro.Schema, references)
    return {
      encode: (value) => type.toBuffer(value),
      explain: (value) => firstInvalidPath(type, value),
    }
  }

  decoder(writerSchema: SchemaDefinition, references: ResolvedReference[]): Decoder<T> {
    const writer = compile(JSON.parse(writerSchema.schema) as avro.Schema, references)
    // A serde whose own schema references registered types reads with the writer's schema.
    const reader = this.#ownType ?? writer
    const resolver = reader === writer || reader.equals(writer) ? undefined : resolve(reader, writer)
    return {
      decode: (data, offset) => {
        const payload = offset === 0 ? data : data.subarray(offset)
        return (resolver === undefined ? reader.fromBuffer(payload) : reader.fromBuffer(payload, resolver)) as T
      },
    }
  }
}

function compile(schema: avro.Schema, references: ResolvedReference[]): avro.Type {
  try {
    return avroType(schema, references)
  } catch (error) {
    throw new SluiceError('CONFIG_INVALID', `The Avro schema is not valid: ${(error as Error).message}`, { fix: 'Fix the schema (see the Avro specification, and register referenced named types first).', cause: error })
  }
}

type Resolver = ReturnType<avro.Type['createResolver']>

function resolve(reader: avro.Type, writer: avro.Type): Resolver {
  try {
    return reader.createResolver(writer)
  } catch (error) {
    throw new SluiceError('DESERIALIZATION_FAILED', `Records written with schema ${writer.name ?? writer.typeName} cannot be read with this serde's schema: ${(error as Error).message}`, {
      fix: "Evolve the schemas compatibly (add fields with defaults), or read with the writer's schema (a serde without its own schema).",
      cause: error,
    })
  }
}

function firstInvalidPath(type: avro.Type, value: unknown): string | undefined {
  let path: string | undefined
  type.isValid(value, {
    errorHook: (parts: string[], found: unknown) => {
      path ??= `"${parts.join('.') || '(the record)'}" = ${describeValue(found)}`
    },
  })
  return path
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined (missing)'
  if (typeof value === 'bigint') return `${value}n`
  if (value instanceof Date || Buffer.isBuffer(value)) return value.constructor.name
  try {
    return JSON.stringify(value)?.slice(0, 60) ?? typeof value
  } catch {
    return typeof value
  }
}

function fullName(schema: { name: string; namespace?: string }): string {
  return schema.name.includes('.') || schema.namespace === undefined || schema.namespace === '' ? schema.name : `${schema.namespace}.${schema.name}`
}
