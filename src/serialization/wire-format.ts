/**
 * The Confluent Schema Registry wire format that every registry-aware Kafka tool reads and writes:
 * a magic byte 0, the schema id as a 4-byte big-endian integer, then (Protobuf only) the path of
 * the message type inside its .proto file, then the encoded record.
 */
import { SluiceError } from '../errors.ts'
import type { SerializationContext } from './serde.ts'

const MAGIC_BYTE = 0
export const HEADER_SIZE = 5

/** The schema id a framed message names, or an error that says the data is not in the wire format. */
export function readSchemaId(data: Buffer, context: SerializationContext): number {
  if (data.length < HEADER_SIZE || data[0] !== MAGIC_BYTE) {
    throw new SluiceError(
      'DESERIALIZATION_FAILED',
      `${partOf(context)} of a message on "${context.topic}" is not in the Schema Registry wire format (${data.length < HEADER_SIZE ? `${data.length} bytes` : `first byte ${data[0]}, expected 0`})`,
      { fix: 'Read this topic with the serde its producer used (a registry-less serde, or JSON/string), or produce it with a Schema Registry serializer.' },
    )
  }
  return data.readUInt32BE(1)
}

/** Magic byte and schema id, followed by `payload`. */
export function frame(schemaId: number, payload: Uint8Array, messageIndexes?: Buffer): Buffer {
  const indexBytes = messageIndexes?.length ?? 0
  const out = Buffer.allocUnsafe(HEADER_SIZE + indexBytes + payload.length)
  out[0] = MAGIC_BYTE
  out.writeUInt32BE(schemaId, 1)
  if (messageIndexes !== undefined) messageIndexes.copy(out, HEADER_SIZE)
  out.set(payload, HEADER_SIZE + indexBytes)
  return out
}

/**
 * Protobuf message indexes: the count, then each index, as zigzag varints. The first message of
 * the file, [0], is written as the single byte 0 (a count of zero), as Confluent's serializers do.
 */
export function encodeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0])
  const bytes: number[] = []
  writeZigzagVarint(bytes, indexes.length)
  for (const index of indexes) writeZigzagVarint(bytes, index)
  return Buffer.from(bytes)
}

/** The message indexes after the 5-byte header and where the Protobuf payload starts. */
export function decodeMessageIndexes(data: Buffer, context: SerializationContext): { indexes: number[]; payloadOffset: number } {
  let offset = HEADER_SIZE
  const next = (): number => {
    let result = 0
    let shift = 0
    for (;;) {
      if (offset >= data.length || shift > 28) {
        throw new SluiceError('DESERIALIZATION_FAILED', `${partOf(context)} of a message on "${context.topic}" has truncated Protobuf message indexes`, {
          fix: 'The producer did not write the Confluent Protobuf wire format; read the topic with the serde its producer used.',
        })
      }
      const byte = data[offset++]!
      result |= (byte & 0x7f) << shift
      shift += 7
      if ((byte & 0x80) === 0) break
    }
    return (result >>> 1) ^ -(result & 1)
  }
  const count = next()
  if (count === 0) return { indexes: [0], payloadOffset: offset }
  const indexes: number[] = []
  for (let i = 0; i < count; i++) indexes.push(next())
  return { indexes, payloadOffset: offset }
}

function writeZigzagVarint(bytes: number[], value: number): void {
  let zigzag = ((value << 1) ^ (value >> 31)) >>> 0
  while (zigzag >= 0x80) {
    bytes.push((zigzag & 0x7f) | 0x80)
    zigzag >>>= 7
  }
  bytes.push(zigzag)
}

export function partOf(context: SerializationContext): string {
  return context.isKey ? 'The key' : 'The value'
}
