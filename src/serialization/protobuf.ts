/**
 * Protobuf with `protobufjs`, from .proto source text. Values are plain objects: int64 fields as
 * bigint (numbers and strings accepted on write), bytes as Buffer, enums as their names,
 * google.protobuf.Timestamp as Date, and a field with presence (`optional`, or a message) that is
 * not set as null. The well-known google/protobuf/*.proto imports need no reference. With a registry, the
 * Confluent wire format including the message indexes that locate the type inside its file.
 */
import protobuf from 'protobufjs'
import { SluiceError } from '../errors.ts'
import type { SchemaDefinition } from './registry-client.ts'
import { checkMessage } from './protobuf-check.ts'
import { schemaSerde, type Decoder, type Encoder, type RegistrySettings, type ResolvedReference, type SchemaFormat, type SchemaSerde } from './schema-serde.ts'
import { decodeMessageIndexes, encodeMessageIndexes } from './wire-format.ts'

export interface ProtobufSerdeOptions {
  /** The .proto source (proto3 or proto2). Optional only with a registry and `writerSchema: 'use-latest'`. */
  schema?: string
  /** The full name of the message type to write, e.g. `shop.Order`. Default: the file's first message. */
  messageType?: string
  /** Imported .proto files, as registered subjects (registry schema references). */
  references?: SchemaDefinition['references']
  registry?: RegistrySettings
}

/**
 * A Protobuf serde for records of type `T`. The type is the caller's (a .proto file cannot be
 * read at compile time): declare an interface that matches the message, or generate one.
 */
export function protobufSerde<T = Record<string, unknown>>(options: ProtobufSerdeOptions): SchemaSerde<T> {
  return schemaSerde(new ProtobufFormat<T>(options), options.registry)
}

/**
 * google.protobuf.Timestamp as Date: writes take a Date, an ISO-8601 string or {seconds, nanos};
 * reads give a Date (millisecond precision). protobufjs applies wrappers to every Timestamp type.
 */
protobuf.wrappers['.google.protobuf.Timestamp'] = {
  fromObject(this: protobuf.Type, value: { [key: string]: unknown }) {
    const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined
    if (date === undefined) return this.fromObject(value)
    const ms = date.getTime()
    if (Number.isNaN(ms)) throw new Error(`invalid timestamp ${typeof value === 'string' ? value : 'Date'}`)
    return this.create({ seconds: Math.floor(ms / 1000), nanos: (((ms % 1000) + 1000) % 1000) * 1_000_000 })
  },
  toObject(this: protobuf.Type, message: protobuf.Message) {
    const { seconds, nanos } = message as unknown as { seconds?: number | { toNumber(): number }; nanos?: number }
    const wholeSeconds = typeof seconds === 'object' ? seconds.toNumber() : (seconds ?? 0)
    return new Date(wholeSeconds * 1000 + Math.floor((nanos ?? 0) / 1_000_000))
  },
}

const WELL_KNOWN = Object.keys(protobuf.common).filter((file) => file.startsWith('google/protobuf/'))

/** Parses .proto source (and the sources it imports) into one root with every type resolved. */
function parseProto(source: string, imports: ResolvedReference[] = []): protobuf.Root {
  const root = new protobuf.Root()
  try {
    for (const file of WELL_KNOWN) root.addJSON(protobuf.common.get(file)?.nested ?? {})
    for (const reference of imports) protobuf.parse(reference.schema.schema, root, { keepCase: true })
    protobuf.parse(source, root, { keepCase: true })
    root.resolveAll()
  } catch (error) {
    throw new SluiceError('CONFIG_INVALID', `The Protobuf schema is not valid: ${(error as Error).message}`, {
      fix: 'Fix the .proto source (and pass imported files as registry references).',
      cause: error,
    })
  }
  return root
}

class ProtobufFormat<T> implements SchemaFormat<T> {
  readonly name = 'Protobuf'
  readonly schema: SchemaDefinition | undefined
  readonly recordName: string | undefined
  readonly #messageType: string | undefined
  /** The serde's own type: reads decode with it (fields match by number, so any compatible writer works). */
  readonly #ownType: protobuf.Type | undefined

  constructor(options: ProtobufSerdeOptions) {
    this.#messageType = options.messageType
    if (options.schema === undefined) return
    this.schema = { schemaType: 'PROTOBUF', schema: options.schema, references: options.references ?? [] }
    if (options.references === undefined || options.references.length === 0) {
      const root = parseProto(options.schema)
      this.#ownType = messageTypeIn(root, options.schema, options.messageType)
      this.recordName = this.#ownType.fullName.replace(/^\./, '')
    } else {
      this.recordName = options.messageType
    }
  }

  encoder(schema: SchemaDefinition, references: ResolvedReference[]): Encoder<T> {
    const type = schema === this.schema && this.#ownType !== undefined ? this.#ownType : messageTypeIn(parseProto(schema.schema, references), schema.schema, this.#messageType)
    return {
      encode: (value) => {
        const problem = checkMessage(type, value)
        if (problem !== undefined) throw new Error(problem)
        return type.encode(type.fromObject(value as Record<string, unknown>)).finish()
      },
      messageIndexes: encodeMessageIndexes(messageIndexesOf(type, schema.schema)),
      explain: (value) => {
        const problem = checkMessage(type, value)
        return problem === undefined ? undefined : `"${/^[\w.[\]{}]+/.exec(problem)?.[0] ?? '(the record)'}"`
      },
    }
  }

  decoder(writerSchema: SchemaDefinition, references: ResolvedReference[]): Decoder<T> {
    const writerRoot = this.#ownType === undefined || writerSchema !== this.schema ? parseProto(writerSchema.schema, references) : undefined
    const own = this.#ownType
    /** Writer types by message indexes, so the file is outlined once, not per record. */
    const byIndexes = new Map<string, protobuf.Type>()
    return {
      decode: (data, offset, context) => {
        let type = own
        let start = offset
        if (offset > 0) {
          const { indexes, payloadOffset } = decodeMessageIndexes(data, context)
          start = payloadOffset
          if (type === undefined) {
            const key = indexes.join(',')
            type = byIndexes.get(key)
            if (type === undefined) byIndexes.set(key, (type = typeAtIndexes(writerRoot!, writerSchema.schema, indexes)))
          }
        }
        type ??= messageTypeIn(writerRoot!, writerSchema.schema, this.#messageType)
        const message = type.decode(data.subarray(start))
        return toPlain(type, type.toObject(message, TO_OBJECT)) as T
      },
    }
  }
}

const TO_OBJECT: protobuf.IConversionOptions = { longs: BigInt, enums: String, defaults: true }

/** protobufjs leaves an unset `optional` scalar out; Sluice calls it null, like an unset message. */
function toPlain(type: protobuf.Type, object: Record<string, unknown>): Record<string, unknown> {
  for (const field of type.fieldsArray) {
    const value = object[field.name]
    if (value === undefined) {
      if (field.hasPresence) object[field.name] = null
      continue
    }
    const nested = field.resolvedType
    if (!(nested instanceof protobuf.Type) || value === null || value instanceof Date) continue
    if (field.repeated) for (const item of value as Record<string, unknown>[]) toPlain(nested, item)
    else if (field.map) for (const item of Object.values(value as Record<string, Record<string, unknown>>)) toPlain(nested, item)
    else toPlain(nested, value as Record<string, unknown>)
  }
  return object
}

/** The named message, or the first message declared in the source. */
function messageTypeIn(root: protobuf.Root, source: string, name: string | undefined): protobuf.Type {
  const fullName = name ?? messagesOf(fileOutline(source))[0]?.fullName
  if (fullName === undefined) throw new SluiceError('CONFIG_INVALID', 'The Protobuf schema declares no message', { fix: 'Declare at least one message, or pass messageType.' })
  try {
    return root.lookupType(fullName)
  } catch (error) {
    throw new SluiceError('CONFIG_INVALID', `The Protobuf schema has no message type "${fullName}"`, { fix: 'Pass the full name (package.Message) of a message the .proto source declares.', cause: error })
  }
}

/**
 * The messages one file declares, in order, without those of the files it imports (which may
 * share its package): message indexes count within the declaring file only.
 */
function fileOutline(source: string): protobuf.Namespace {
  const root = protobuf.parse(source, { keepCase: true }).root
  const packageName = /^\s*package\s+([\w.]+)\s*;/m.exec(source)?.[1]
  const namespace = packageName === undefined ? root : root.lookup(packageName)
  return namespace instanceof protobuf.Namespace ? namespace : root
}

/** The position of `type` among the messages of its file (`source`): top-level index, then nested indexes. */
function messageIndexesOf(type: protobuf.Type, source: string): number[] {
  const declared = fileOutline(source).lookup(type.fullName)
  if (!(declared instanceof protobuf.Type)) {
    throw new SluiceError('CONFIG_INVALID', `Message type ${type.fullName.slice(1)} is declared in an imported file, not in the schema being registered`, {
      fix: 'Register the file that declares the message (with its imports as references), or write a message of this file.',
    })
  }
  const indexes: number[] = []
  let current: protobuf.Type = declared
  while (current.parent instanceof protobuf.Type) {
    indexes.unshift(messagesOf(current.parent).indexOf(current))
    current = current.parent
  }
  indexes.unshift(messagesOf(current.parent!).indexOf(current))
  return indexes
}

/** The message the indexes name in the file `source`, looked up in `root` (which holds its imports too). */
function typeAtIndexes(root: protobuf.Root, source: string, indexes: number[]): protobuf.Type {
  let type: protobuf.Type | undefined
  const outline = fileOutline(source)
  for (const index of indexes) {
    type = messagesOf(type ?? outline)[index]
    if (type === undefined) throw new Error(`no message at indexes [${indexes.join(', ')}] of the writer's schema`)
  }
  return root.lookupType(type!.fullName)
}

function messagesOf(namespace: protobuf.Namespace): protobuf.Type[] {
  return namespace.nestedArray.filter((nested): nested is protobuf.Type => nested instanceof protobuf.Type && !nested.options?.map_entry)
}
