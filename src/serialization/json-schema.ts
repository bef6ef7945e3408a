/**
 * JSON validated against a JSON Schema (draft-07, with `ajv`). Values are validated as they are on
 * the wire, after conversion to JSON: a Date becomes its ISO-8601 text, a Buffer base64, a bigint
 * an exact JSON integer. With a registry, the Confluent wire format (schema type JSON).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { SluiceError } from '../errors.ts'
import { jsonReplacer } from './json-values.ts'
import type { SchemaDefinition } from './registry-client.ts'
import { schemaSerde, type Decoder, type Encoder, type RegistrySettings, type ResolvedReference, type SchemaFormat, type SchemaSerde } from './schema-serde.ts'
import { partOf } from './wire-format.ts'

export interface JsonSchemaSerdeOptions {
  /** The JSON Schema (object or text). Optional only with a registry and `writerSchema: 'use-latest'`. */
  schema?: object | string
  /** Schemas the schema's `$ref`s name, as registered subjects. */
  references?: SchemaDefinition['references']
  registry?: RegistrySettings
  /** Validate on write and on read. Default true. */
  validate?: boolean
}

/** A JSON Schema serde for records of type `T` (the caller's type; the schema is checked at run time). */
export function jsonSchemaSerde<T = unknown>(options: JsonSchemaSerdeOptions): SchemaSerde<T> {
  return schemaSerde(new JsonSchemaFormat<T>(options), options.registry)
}

class JsonSchemaFormat<T> implements SchemaFormat<T> {
  readonly name = 'JSON Schema'
  readonly schema: SchemaDefinition | undefined
  readonly recordName: string | undefined
  readonly #validate: boolean

  constructor(options: JsonSchemaSerdeOptions) {
    this.#validate = options.validate ?? true
    if (options.schema === undefined) return
    const parsed = (typeof options.schema === 'string' ? JSON.parse(options.schema) : options.schema) as { title?: unknown }
    this.schema = { schemaType: 'JSON', schema: JSON.stringify(parsed), references: options.references ?? [] }
    this.recordName = typeof parsed.title === 'string' ? parsed.title : undefined
  }

  encoder(schema: SchemaDefinition, references: ResolvedReference[]): Encoder<T> {
    const validate = this.#validate ? compile(schema, references) : undefined
    let lastErrors: ErrorObject[] | null | undefined
    return {
      encode: (value) => {
        const text = JSON.stringify(value, jsonReplacer)
        if (validate !== undefined && !validate(JSON.parse(text))) {
          lastErrors = validate.errors
          throw new Error(describeErrors(validate.errors))
        }
        return Buffer.from(text, 'utf8')
      },
      explain: () => (lastErrors?.[0] === undefined ? undefined : `"${pointerToPath(lastErrors[0].instancePath)}"`),
    }
  }

  decoder(writerSchema: SchemaDefinition, references: ResolvedReference[]): Decoder<T> {
    const validate = this.#validate ? compile(this.schema ?? writerSchema, this.schema === undefined ? references : []) : undefined
    return {
      decode: (data, offset, context) => {
        const value: unknown = JSON.parse(data.toString('utf8', offset))
        if (validate !== undefined && !validate(value)) {
          const first = validate.errors?.[0]
          throw new SluiceError(
            'DESERIALIZATION_FAILED',
            `${partOf(context)} of a message on "${context.topic}" does not match its JSON Schema at field "${pointerToPath(first?.instancePath ?? '')}": ${describeErrors(validate.errors)}`,
            { fix: 'Fix the producer of this topic, or relax the schema (or read with validate: false).' },
          )
        }
        return value as T
      },
    }
  }
}

function compile(schema: SchemaDefinition, references: ResolvedReference[]): ValidateFunction {
  // Registry schemas carry keywords of other tools (connect.type, …): ignore what ajv does not know.
  const ajv = new Ajv({ strict: false, allErrors: false })
  ajv.addFormat('date-time', { type: 'string', validate: (text: string) => !Number.isNaN(Date.parse(text)) && /^\d{4}-\d\d-\d\dT\d\d:\d\d/.test(text) })
  ajv.addFormat('date', /^\d{4}-\d\d-\d\d$/)
  try {
    for (const reference of references) ajv.addSchema(JSON.parse(reference.schema.schema) as object, reference.name)
    return ajv.compile(JSON.parse(schema.schema) as object)
  } catch (error) {
    throw new SluiceError('CONFIG_INVALID', `The JSON Schema is not valid: ${(error as Error).message}`, { fix: 'Fix the schema (draft-07), and pass the schemas its $refs name as references.', cause: error })
  }
}

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  const first = errors?.[0]
  if (first === undefined) return 'invalid'
  return `${pointerToPath(first.instancePath)} ${first.message ?? 'is invalid'}`
}

function pointerToPath(pointer: string): string {
  return pointer === '' ? '(the record)' : pointer.slice(1).split('/').join('.')
}
