/**
 * The formats every Kafka tool understands without a schema: raw bytes, UTF-8 strings, JSON, and
 * Kafka's own big-endian integer and floating point encodings (those of the Java client's
 * IntegerSerializer, LongSerializer and DoubleSerializer).
 */
import { jsonReplacer } from './json-values.ts'
import type { SerializationContext, Serde } from './serde.ts'

export const bytes: Serde<Buffer> = {
  name: 'bytes',
  serialize: (value) => value,
  deserialize: (data) => data,
}

export const string: Serde<string> = {
  name: 'string',
  serialize: (value) => Buffer.from(value, 'utf8'),
  deserialize: (data) => data.toString('utf8'),
}

/**
 * JSON with the value typed as `T`: the type is the pipeline's promise, not checked at run time
 * (use JSON Schema for that). A bigint (a Delta long) is written as an exact JSON integer.
 */
export function json<T = unknown>(): Serde<T> {
  return {
    name: 'json',
    serialize: (value) => {
      try {
        return Buffer.from(JSON.stringify(value), 'utf8')
      } catch (error) {
        // Only records holding a bigint pay for the replacer.
        if (error instanceof TypeError && error.message.includes('BigInt')) return Buffer.from(JSON.stringify(value, jsonReplacer), 'utf8')
        throw error
      }
    },
    deserialize: (data, context) => {
      try {
        return JSON.parse(data.toString('utf8')) as T
      } catch (error) {
        throw new Error(`${part(context)} of a message on "${context.topic}" is not valid JSON: ${(error as Error).message}`, { cause: error })
      }
    },
  }
}

/** 32-bit signed integer, big-endian (Kafka's IntegerSerializer). */
export const int32: Serde<number> = fixedWidth('int32', 4, (buffer, value) => buffer.writeInt32BE(value), (buffer) => buffer.readInt32BE())

/** 64-bit signed integer, big-endian (Kafka's LongSerializer). */
export const int64: Serde<bigint> = fixedWidth('int64', 8, (buffer, value) => buffer.writeBigInt64BE(value), (buffer) => buffer.readBigInt64BE())

/** 64-bit IEEE 754 float, big-endian (Kafka's DoubleSerializer). */
export const double: Serde<number> = fixedWidth('double', 8, (buffer, value) => buffer.writeDoubleBE(value), (buffer) => buffer.readDoubleBE())

function fixedWidth<T>(name: string, width: number, write: (buffer: Buffer, value: T) => void, read: (buffer: Buffer) => T): Serde<T> {
  return {
    name,
    serialize: (value) => {
      const buffer = Buffer.allocUnsafe(width)
      write(buffer, value)
      return buffer
    },
    deserialize: (data, context) => {
      if (data.length !== width) {
        throw new Error(`${part(context)} of a message on "${context.topic}" has ${data.length} bytes; ${name} needs exactly ${width}`)
      }
      return read(data)
    },
  }
}

function part(context: SerializationContext): string {
  return context.isKey ? 'The key' : 'The value'
}
