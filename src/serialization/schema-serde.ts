/**
 * The part every schema format shares: with a registry, the Confluent wire format and the
 * registry's ids; without one, the bare encoding of a schema the serde was given.
 *
 * A Serde must stay synchronous (pipelines run it inline, once per record) while schema ids need
 * the network. So the network happens outside the hot path, in two async calls:
 * - `await serde.prepare(topic, isKey)` at topic setup resolves the writer schema's id
 *   (registering it, looking it up, or taking the subject's latest version);
 * - `await serde.prepareBatch(values)` before a fetched batch is deserialized fetches the schemas of
 *   ids not seen before. It returns at once (no request) when every id is known, the normal case.
 * `serialize` and `deserialize` then never wait; called without the needed preparation, they throw
 * an error that names the missing call.
 */
import { SluiceError } from '../errors.ts'
import type { SchemaDefinition, SchemaRegistryClient } from './registry-client.ts'
import type { SerializationContext, Serde } from './serde.ts'
import { topicNameStrategy, type SubjectNameStrategy } from './subject-name.ts'
import { frame, partOf, readSchemaId } from './wire-format.ts'

export interface RegistrySettings {
  client: SchemaRegistryClient
  /** Default: TopicNameStrategy (`<topic>-value`). */
  subjectNameStrategy?: SubjectNameStrategy
  /**
   * How `prepare` finds the id that serialized records carry:
   * - `auto-register` (default): register the serde's schema (a no-op if it is already there);
   * - `use-latest`: write with the subject's latest registered schema (the serde's own schema, if it has one, only reads);
   * - `lookup`: the serde's schema must already be registered (production setups where only CI registers).
   */
  writerSchema?: 'auto-register' | 'use-latest' | 'lookup'
}

/** A referenced schema, already fetched, in the order its dependents need it (dependencies first). */
export interface ResolvedReference {
  name: string
  schema: SchemaDefinition
}

/** Turns values into the bytes of one schema and back. */
export interface Encoder<T> {
  encode(value: T): Uint8Array
  /** Protobuf's message indexes, written between the schema id and the payload. */
  readonly messageIndexes?: Buffer
  /** The field path of the first part of `value` the schema refuses, for error messages. */
  explain(value: unknown): string | undefined
}

export interface Decoder<T> {
  /** Decodes `data` from `offset` (5 with a registry header, 0 without). */
  decode(data: Buffer, offset: number, context: SerializationContext): T
}

/** What a schema format (Avro, Protobuf, JSON Schema) plugs into a SchemaSerde. */
export interface SchemaFormat<T> {
  readonly name: string
  /** The schema the serde was created with (writes without a registry; reads against it with one). */
  readonly schema: SchemaDefinition | undefined
  /** The record's full name, for the RecordName strategies. */
  readonly recordName: string | undefined
  encoder(schema: SchemaDefinition, references: ResolvedReference[]): Encoder<T>
  decoder(writerSchema: SchemaDefinition, references: ResolvedReference[]): Decoder<T>
}

export interface SchemaSerde<T> extends Serde<T> {
  /** Resolves the writer schema for `topic` (network); call once at topic setup, before serialize. */
  prepare(topic: string, isKey?: boolean): Promise<void>
  /** Fetches the schemas of ids not seen before in `messages` (network only for new ids); call before deserializing them. */
  prepareBatch(messages: Iterable<Buffer | null | undefined>): Promise<void>
  /** The registered id `prepare` chose for `topic`, for logs and tests. */
  schemaIdFor(topic: string, isKey?: boolean): number | undefined
}

export function schemaSerde<T>(format: SchemaFormat<T>, registry: RegistrySettings | undefined): SchemaSerde<T> {
  return registry === undefined ? new BareSerde(format) : new RegistrySerde(format, registry)
}

/** No registry: the bare encoding of the serde's schema, no header (readers must know the schema). */
class BareSerde<T> implements SchemaSerde<T> {
  readonly name: string
  readonly #encoder: Encoder<T>
  readonly #decoder: Decoder<T>

  constructor(format: SchemaFormat<T>) {
    if (format.schema === undefined) {
      throw new SluiceError('CONFIG_INVALID', `A ${format.name} serde without a Schema Registry needs a schema`, { fix: 'Pass `schema`, or a `registry` to read writer schemas from.' })
    }
    this.name = format.name
    this.#encoder = format.encoder(format.schema, [])
    this.#decoder = format.decoder(format.schema, [])
  }

  serialize(value: T, context: SerializationContext): Buffer {
    return encodeOrExplain(this.name, this.#encoder, value, context)
  }

  deserialize(data: Buffer, context: SerializationContext): T {
    return decodeOrExplain(this.name, this.#decoder, data, 0, context)
  }

  // Nothing to resolve without a registry: the schema is the serde's own.
  async prepare(): Promise<void> {}
  async prepareBatch(): Promise<void> {}
  schemaIdFor(): undefined {
    return undefined
  }
}

class RegistrySerde<T> implements SchemaSerde<T> {
  readonly name: string
  readonly #format: SchemaFormat<T>
  readonly #registry: SchemaRegistryClient
  readonly #strategy: SubjectNameStrategy
  readonly #mode: 'auto-register' | 'use-latest' | 'lookup'
  /** `${topic}\0${isKey}` → the id and encoder `prepare` resolved. */
  readonly #writers = new Map<string, { id: number; encoder: Encoder<T> }>()
  readonly #decoders = new Map<number, Decoder<T>>()

  constructor(format: SchemaFormat<T>, settings: RegistrySettings) {
    this.name = format.name
    this.#format = format
    this.#registry = settings.client
    this.#strategy = settings.subjectNameStrategy ?? topicNameStrategy
    this.#mode = settings.writerSchema ?? 'auto-register'
    if (this.#mode !== 'use-latest' && format.schema === undefined) {
      throw new SluiceError('CONFIG_INVALID', `A ${format.name} serde that ${this.#mode === 'lookup' ? 'looks up' : 'registers'} its schema needs a schema`, {
        fix: "Pass `schema`, or set `writerSchema: 'use-latest'` to write with the subject's latest registered schema.",
      })
    }
  }

  async prepare(topic: string, isKey = false): Promise<void> {
    const subject = this.#strategy(topic, isKey, this.#format.recordName)
    const own = this.#format.schema
    let id: number
    let schema: SchemaDefinition
    if (this.#mode === 'use-latest') {
      const latest = await this.#registry.latestVersion(subject)
      ;({ id } = latest)
      schema = latest
    } else if (this.#mode === 'lookup') {
      ;({ id } = await this.#registry.lookup(subject, own!))
      schema = own!
    } else {
      id = await this.#registry.register(subject, own!)
      schema = own!
    }
    const encoder = this.#format.encoder(schema, await this.#resolveReferences(schema))
    this.#writers.set(`${topic}\0${isKey}`, { id, encoder })
  }

  async prepareBatch(messages: Iterable<Buffer | null | undefined>): Promise<void> {
    let missing: Set<number> | undefined
    for (const data of messages) {
      if (data == null || data.length < 5 || data[0] !== 0) continue
      const id = data.readUInt32BE(1)
      if (!this.#decoders.has(id)) (missing ??= new Set()).add(id)
    }
    if (missing === undefined) return
    await Promise.all(
      [...missing].map(async (id) => {
        const writer = await this.#registry.schemaById(id)
        this.#decoders.set(id, this.#format.decoder(writer, await this.#resolveReferences(writer)))
      }),
    )
  }

  schemaIdFor(topic: string, isKey = false): number | undefined {
    return this.#writers.get(`${topic}\0${isKey}`)?.id
  }

  serialize(value: T, context: SerializationContext): Buffer {
    const writer = this.#writers.get(`${context.topic}\0${context.isKey}`)
    if (writer === undefined) {
      throw new SluiceError('SERIALIZATION_FAILED', `The ${this.name} serde has no schema id for ${partOf(context).toLowerCase()}s of topic "${context.topic}" yet`, {
        fix: `Call \`await serde.prepare('${context.topic}'${context.isKey ? ', true' : ''})\` once when the topic is set up, before producing.`,
      })
    }
    return frame(writer.id, encodeOrExplain(this.name, writer.encoder, value, context), writer.encoder.messageIndexes)
  }

  deserialize(data: Buffer, context: SerializationContext): T {
    const id = readSchemaId(data, context)
    const decoder = this.#decoders.get(id)
    if (decoder === undefined) {
      throw new SluiceError('DESERIALIZATION_FAILED', `${partOf(context)} of a message on "${context.topic}" was written with schema id ${id}, which this ${this.name} serde has not fetched`, {
        fix: 'Call `await serde.prepareBatch(batchOfValues)` before deserializing a batch; it fetches schemas of new ids from the registry.',
      })
    }
    return decodeOrExplain(this.name, decoder, data, 5, context)
  }

  /** Fetches the schemas `schema` references, recursively, dependencies first, each once. */
  async #resolveReferences(schema: SchemaDefinition): Promise<ResolvedReference[]> {
    const resolved: ResolvedReference[] = []
    const seen = new Set<string>()
    const visit = async (references: SchemaDefinition['references']): Promise<void> => {
      for (const reference of references ?? []) {
        const key = `${reference.subject}\0${reference.version}`
        if (seen.has(key)) continue
        seen.add(key)
        const registered = await this.#registry.schemaVersion(reference.subject, reference.version)
        await visit(registered.references)
        resolved.push({ name: reference.name, schema: registered })
      }
    }
    await visit(schema.references)
    return resolved
  }
}

function encodeOrExplain<T>(name: string, encoder: Encoder<T>, value: T, context: SerializationContext): Buffer {
  try {
    const bytes = encoder.encode(value)
    return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  } catch (error) {
    if (error instanceof SluiceError) throw error
    const field = encoder.explain(value)
    throw new SluiceError(
      'SERIALIZATION_FAILED',
      `Could not serialize ${partOf(context).toLowerCase()} for topic "${context.topic}" with ${name}${field === undefined ? '' : `: field ${field}`} (${(error as Error).message})`,
      { fix: 'Produce values that match the schema (see the field named), or change the schema.', cause: error },
    )
  }
}

function decodeOrExplain<T>(name: string, decoder: Decoder<T>, data: Buffer, offset: number, context: SerializationContext): T {
  try {
    return decoder.decode(data, offset, context)
  } catch (error) {
    if (error instanceof SluiceError) throw error
    throw new SluiceError('DESERIALIZATION_FAILED', `${partOf(context)} of a message on "${context.topic}" is not valid ${name}: ${(error as Error).message}`, {
      fix: 'Check that the producer used the same format and schema (or a registry serde, if the topic carries registry ids).',
      cause: error,
    })
  }
}
