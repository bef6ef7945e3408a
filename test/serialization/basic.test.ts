import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bytes, double, int32, int64, json, string } from '../../src/serialization/index.ts'

const value = { topic: 'events', isKey: false }
const key = { topic: 'events', isKey: true }

test('integers and doubles use the byte layout of Kafka’s Java serializers', () => {
  // Big-endian two's complement and IEEE 754, as IntegerSerializer/LongSerializer/DoubleSerializer write them.
  assert.equal(int32.serialize(1, key).toString('hex'), '00000001')
  assert.equal(int32.serialize(-2, key).toString('hex'), 'fffffffe')
  assert.equal(int64.serialize(1n << 40n, key).toString('hex'), '0000010000000000')
  assert.equal(double.serialize(1.5, value).toString('hex'), '3ff8000000000000')
  assert.equal(int32.deserialize(Buffer.from('7fffffff', 'hex'), key), 2147483647)
  assert.equal(int64.deserialize(Buffer.from('ffffffffffffffff', 'hex'), key), -1n)
  assert.equal(double.deserialize(Buffer.from('c000000000000000', 'hex'), value), -2)
})

test('a fixed-width value of the wrong size is refused with the topic and the sizes', () => {
  assert.throws(() => int32.deserialize(Buffer.from('0102', 'hex'), key), /The key of a message on "events" has 2 bytes; int32 needs exactly 4/)
  assert.throws(() => int32.serialize(2 ** 31, key), RangeError)
})

test('json and string round-trip unicode; bad JSON names the topic and the part', () => {
  const serde = json<{ name: string; tags: string[] }>()
  const record = { name: 'Zoë ☕', tags: ['a', 'b'] }
  assert.deepEqual(serde.deserialize(serde.serialize(record, value), value), record)
  assert.equal(string.deserialize(string.serialize('Zoë ☕', key), key), 'Zoë ☕')
  assert.equal(bytes.serialize(Buffer.from([1, 2]), value).length, 2)
  assert.throws(() => serde.deserialize(Buffer.from('{"name": '), value), /The value of a message on "events" is not valid JSON/)
})

test('json writes a bigint as an exact integer (a Delta long past 2^53)', () => {
  const serde = json<{ id: bigint; at: Date }>()
  assert.equal(serde.serialize({ id: 9_007_199_254_740_993n, at: new Date(0) }, value).toString(), '{"id":9007199254740993,"at":"1970-01-01T00:00:00.000Z"}')
})
