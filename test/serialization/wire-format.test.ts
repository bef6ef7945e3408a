import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SluiceError } from '../../src/errors.ts'
import { decodeMessageIndexes, encodeMessageIndexes, frame, readSchemaId } from '../../src/serialization/index.ts'

const context = { topic: 'orders', isKey: false }

test('a framed record is magic byte 0, the schema id big-endian, then the payload', () => {
  const framed = frame(0x01020304, Buffer.from('abc'))
  assert.equal(framed.toString('hex'), '0001020304616263')
  assert.equal(readSchemaId(framed, context), 0x01020304)
})

test('Protobuf message indexes: [0] is the single byte 0, others a zigzag count and zigzag indexes', () => {
  // The layout of Confluent's MessageIndexes: varint count, varint indexes, both zigzag encoded.
  assert.equal(encodeMessageIndexes([0]).toString('hex'), '00')
  assert.equal(encodeMessageIndexes([1]).toString('hex'), '0202')
  assert.equal(encodeMessageIndexes([0, 2]).toString('hex'), '040004')
  assert.equal(encodeMessageIndexes([70]).toString('hex'), '028c01')
  for (const indexes of [[0], [1], [0, 2], [3, 1, 70], [200]]) {
    const framed = frame(7, Buffer.from([0xff]), encodeMessageIndexes(indexes))
    const decoded = decodeMessageIndexes(framed, context)
    assert.deepEqual(decoded.indexes, indexes)
    assert.equal(framed[decoded.payloadOffset], 0xff)
  }
})

test('data that is not in the wire format is refused with the topic and what was found', () => {
  assert.throws(
    () => readSchemaId(Buffer.from('{"a":1}'), context),
    (error: unknown) => error instanceof SluiceError && error.code === 'DESERIALIZATION_FAILED' && /The value of a message on "orders" is not in the Schema Registry wire format \(first byte 123/.test(error.message),
  )
  assert.throws(() => readSchemaId(Buffer.from([0, 1]), { topic: 'orders', isKey: true }), /The key of a message on "orders" is not in the Schema Registry wire format \(2 bytes\)/)
})
